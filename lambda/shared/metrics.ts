import { type CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandOutput, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { type MetricQuery, type QueryResult, isFutureDatapoint } from '../../lib/core';

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
 * With `until`, the read is bounded by the time left: each request gets an `abortSignal` that
 * fires at `until` (and is abandoned then, whatever the SDK does with the signal), and no page is
 * requested once it has passed. A first page that did not arrive in time throws a `TimeoutError`
 * (the call failed: nothing was read); later pages that did not arrive are treated as the page cap
 * is: what was not read is not evidence.
 */
export async function readMetrics(
  client: CloudWatchClient,
  queries: ReadonlyArray<Pick<MetricQuery, 'id' | 'metric' | 'periodSeconds'>>,
  startSeconds: number,
  endSeconds: number,
  options: ReadMetricsOptions,
): Promise<MetricRead> {
  const series = new Map<string, Map<number, number>>(queries.map((q) => [q.id, new Map()]));
  const status = new Map<string, string>();
  const resultMessages = new Map<string, string[]>();
  if (endSeconds <= startSeconds) {
    // No finished minute to read yet: nothing is missing.
    return { results: new Map(queries.map((q) => [q.id, { status: 'Complete', series: new Map() }])), messages: [], pages: 0, futureDatapoints: 0 };
  }
  const metricDataQueries: MetricDataQuery[] = queries.map((q) => ({
    Id: q.id,
    ReturnData: true,
    MetricStat: {
      Metric: {
        Namespace: q.metric.namespace,
        MetricName: q.metric.metricName,
        Dimensions: Object.entries(q.metric.dimensions).map(([Name, Value]) => ({ Name, Value })),
      },
      Period: q.periodSeconds,
      Stat: q.metric.stat,
    },
  }));
  const maxPages = options.maxPages ?? MAX_METRIC_PAGES;
  const clock = options.clock ?? (() => Date.now() / 1000);
  const messages: string[] = [];
  let futureDatapoints = 0;
  let pages = 0;
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
      if (pages === 0) {
        const budget = `the step's time budget (until ${new Date(options.until! * 1000).toISOString()})`;
        const message = out === 'timed out' ? `GetMetricData did not answer within ${budget}` : `no time left in ${budget} to call GetMetricData`;
        throw Object.assign(new Error(message), { name: 'TimeoutError' });
      }
      outOfTime = true;
      break;
    }
    pages++;
    for (const m of out.Messages ?? []) messages.push(`${m.Code ?? 'Message'}: ${m.Value ?? ''}`);
    for (const result of out.MetricDataResults ?? []) {
      const target = result.Id ? series.get(result.Id) : undefined;
      if (!target) continue;
      status.set(result.Id!, result.StatusCode ?? 'Missing');
      for (const m of result.Messages ?? []) resultMessages.set(result.Id!, [...(resultMessages.get(result.Id!) ?? []), `${m.Code ?? 'Message'}: ${m.Value ?? ''}`]);
      (result.Timestamps ?? []).forEach((ts, i) => {
        const value = result.Values?.[i];
        if (value === undefined) return;
        const t = Math.floor(new Date(ts).getTime() / 1000);
        if (isFutureDatapoint(t, options.nowSeconds)) {
          futureDatapoints++;
          return;
        }
        target.set(t, value);
      });
    }
    nextToken = out.NextToken;
  } while (nextToken && pages < maxPages);
  if (outOfTime) {
    // As with the page cap: results still PartialData keep that status, unread queries are Missing.
    messages.push(`the read stopped after ${pages} page${pages === 1 ? '' : 's'} when the step's time budget ran out, with more to come (NextToken): queries not yet complete are not evidence`);
  } else if (nextToken) {
    // Results still PartialData keep that status: not evidence.
    messages.push(`the read stopped after ${maxPages} pages with more to come (NextToken): queries not yet complete are not evidence`);
  }
  const results = new Map<string, QueryResult>();
  for (const q of queries) {
    const messagesOfResult = resultMessages.get(q.id);
    results.set(q.id, { status: status.get(q.id) ?? 'Missing', series: series.get(q.id)!, ...(messagesOfResult ? { messages: messagesOfResult } : {}) });
  }
  return { results, messages, pages, futureDatapoints };
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
