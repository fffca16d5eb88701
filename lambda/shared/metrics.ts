import { type CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandOutput, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { type QueryResult, type ReadQuery, isFutureDatapoint } from '../../lib/core/metric-queries';

/** Pages one read follows at most (NextToken); a read that needs more is partial, not evidence. */
export const MAX_METRIC_PAGES = 20;

/** One tick's read: every query's result after all its pages, and what CloudWatch said. */
export interface MetricRead {
  readonly results: ReadonlyMap<string, QueryResult>;
  /** Top-level `Messages` of every page (`Code: Value`). */
  readonly messages: readonly string[];
  readonly pages: number;
  /** Datapoints stamped after `nowSeconds` (clock skew), ignored. */
  readonly futureDatapoints: number;
}

export interface ReadMetricsOptions {
  /** Epoch seconds of the tick: datapoints stamped after it are ignored (clock skew). */
  readonly nowSeconds: number;
  /** @default MAX_METRIC_PAGES */
  readonly maxPages?: number;
  /**
   * Epoch seconds (on `clock`) after which the read stops: every request is aborted when it comes
   * (the step's retry budget), and no page is requested past it. Without it, requests are bounded
   * only by the SDK's own timeouts.
   */
  readonly until?: number;
  /** Epoch seconds, for `until`. @default Date.now() / 1000 */
  readonly clock?: () => number;
}

/**
 * Runs one tick's queries in one GetMetricData request (≤ 500 queries per call), following
 * NextToken up to `maxPages`. A query's status is the one its last page gave (`PartialData` means
 * "more on the next page"); queries still partial when the page cap stops the read stay
 * `PartialData`, and a query no page carried is `Missing`. StartTime and EndTime are
 * period-aligned; EndTime is exclusive (GetMetricData API reference).
 *
 * An expression query (metric math over other queries of the call) is sent as `Expression`. A
 * query with `returnData` false gets no result (GetMetricData returns the queries whose ReturnData
 * is true), so it is not in `results`: what it read is judged on the expression that reads it.
 *
 * With `until`, the read is bounded by the time left: each request gets an `abortSignal` that
 * fires at `until` (and is abandoned then, whatever the SDK does with the signal), and no page is
 * requested once it has passed. A first page that did not arrive in time throws a `TimeoutError`
 * (the call failed: nothing was read); later pages that did not arrive are treated as the page cap
 * is: what was not read is not evidence.
 */
export async function readMetrics(
  client: CloudWatchClient,
  queries: readonly ReadQuery[],
  startSeconds: number,
  endSeconds: number,
  options: ReadMetricsOptions,
): Promise<MetricRead> {
  const returned = queries.filter((q) => q.returnData !== false);
  if (endSeconds <= startSeconds) {
    // No finished minute to read yet: nothing is missing.
    return { results: new Map(returned.map((q) => [q.id, { status: 'Complete', series: new Map() }])), messages: [], pages: 0, futureDatapoints: 0 };
  }
  const read = pagedRead(returned, options.nowSeconds);
  const metricDataQueries = queries.map(toMetricDataQuery);
  const maxPages = options.maxPages ?? MAX_METRIC_PAGES;
  const clock = options.clock ?? (() => Date.now() / 1000);
  let nextToken: string | undefined;
  /** Set when the step's budget ran out with more pages to read. */
  let outOfTime = false;
  do {
    const command = new GetMetricDataCommand({
      MetricDataQueries: metricDataQueries,
      StartTime: new Date(startSeconds * 1000),
      EndTime: new Date(endSeconds * 1000),
      ScanBy: 'TimestampAscending',
      NextToken: nextToken,
    });
    const out = options.until === undefined ? await client.send(command) : await sendWithin(client, command, options.until, clock);
    if (out === 'no time left' || out === 'timed out') {
      if (read.pages() === 0) throw outOfBudget(out, options.until!);
      outOfTime = true;
      break;
    }
    read.add(out);
    nextToken = out.NextToken;
  } while (nextToken && read.pages() < maxPages);
  if (outOfTime) {
    // As with the page cap: results still PartialData keep that status, unread queries are Missing.
    const pages = read.pages();
    read.messages.push(`the read stopped after ${pages} page${pages === 1 ? '' : 's'} when the step's time budget ran out, with more to come (NextToken): queries not yet complete are not evidence`);
  } else if (nextToken) {
    // Results still PartialData keep that status: not evidence.
    read.messages.push(`the read stopped after ${maxPages} pages with more to come (NextToken): queries not yet complete are not evidence`);
  }
  return read.result();
}

function toMetricDataQuery(q: ReadQuery): MetricDataQuery {
  if (q.expression !== undefined) {
    // No Period: the expression's datapoints are its metrics' one-minute ones (as aws-cdk-lib
    // renders a math expression over metrics in an alarm).
    return { Id: q.id, ReturnData: q.returnData !== false, Expression: q.expression };
  }
  const metric = q.metric!;
  return {
    Id: q.id,
    ReturnData: q.returnData !== false,
    MetricStat: {
      Metric: {
        Namespace: metric.namespace,
        MetricName: metric.metricName,
        Dimensions: Object.entries(metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
      },
      Period: q.periodSeconds,
      Stat: metric.stat,
    },
  };
}

/** The first page did not arrive within the step's budget: the call failed, nothing was read. */
function outOfBudget(why: 'no time left' | 'timed out', until: number): Error {
  const budget = `the step's time budget (until ${new Date(until * 1000).toISOString()})`;
  const message = why === 'timed out' ? `GetMetricData did not answer within ${budget}` : `no time left in ${budget} to call GetMetricData`;
  return Object.assign(new Error(message), { name: 'TimeoutError' });
}

/** What the pages of one read gave so far: each returned query's datapoints, last status and messages. */
function pagedRead(returned: readonly ReadQuery[], nowSeconds: number) {
  const series = new Map<string, Map<number, number>>(returned.map((q) => [q.id, new Map()]));
  const status = new Map<string, string>();
  const resultMessages = new Map<string, string[]>();
  const messages: string[] = [];
  let futureDatapoints = 0;
  let pages = 0;
  const describe = (m: { Code?: string; Value?: string }) => `${m.Code ?? 'Message'}: ${m.Value ?? ''}`;
  return {
    messages,
    pages: () => pages,
    add(page: GetMetricDataCommandOutput): void {
      pages++;
      for (const m of page.Messages ?? []) messages.push(describe(m));
      for (const result of page.MetricDataResults ?? []) {
        const target = result.Id ? series.get(result.Id) : undefined;
        if (!target) continue;
        status.set(result.Id!, result.StatusCode ?? 'Missing');
        for (const m of result.Messages ?? []) resultMessages.set(result.Id!, [...(resultMessages.get(result.Id!) ?? []), describe(m)]);
        (result.Timestamps ?? []).forEach((ts, i) => {
          const value = result.Values?.[i];
          if (value === undefined) return;
          const t = Math.floor(new Date(ts).getTime() / 1000);
          if (isFutureDatapoint(t, nowSeconds)) {
            futureDatapoints++;
            return;
          }
          target.set(t, value);
        });
      }
    },
    /** A query still partial keeps `PartialData`; one no page carried is `Missing`. */
    result(): MetricRead {
      const results = new Map<string, QueryResult>();
      for (const q of returned) {
        const messagesOfResult = resultMessages.get(q.id);
        results.set(q.id, { status: status.get(q.id) ?? 'Missing', series: series.get(q.id)!, ...(messagesOfResult ? { messages: messagesOfResult } : {}) });
      }
      return { results, messages, pages, futureDatapoints };
    },
  };
}

/**
 * One request bounded by `until`: `'no time left'` when `until` has passed, `'timed out'` when the
 * request had not answered by then (it is aborted through its `abortSignal`, and abandoned even if
 * the abort is not honoured). Any other failure is the request's own.
 */
async function sendWithin(
  client: CloudWatchClient,
  command: GetMetricDataCommand,
  until: number,
  clock: () => number,
): Promise<GetMetricDataCommandOutput | 'no time left' | 'timed out'> {
  const leftMs = (until - clock()) * 1000;
  if (!(leftMs > 0)) return 'no time left';
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<'timed out'>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve('timed out');
    }, Math.ceil(leftMs));
  });
  // A client that throws at once (instead of rejecting) still ends in the `finally` below.
  const request = new Promise<GetMetricDataCommandOutput>((resolve) => resolve(client.send(command, { abortSignal: controller.signal })));
  try {
    return await Promise.race([
      request.catch((e: unknown) => {
        // The abort surfaces as the request's rejection (AbortError): that is running out of time.
        if (controller.signal.aborted) return 'timed out' as const;
        throw e;
      }),
      expired,
    ]);
  } finally {
    clearTimeout(timer);
    // An abandoned request that fails later must not surface as an unhandled rejection.
    request.catch(() => undefined);
  }
}
