import { type CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
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

/**
 * Runs one tick's queries in one GetMetricData request (≤ 500 queries per call), following
 * NextToken up to `maxPages`. A query's status is the one its last page gave (`PartialData` means
 * "more on the next page"); queries still partial when the page cap stops the read stay
 * `PartialData`, and a query no page carried is `Missing`. StartTime and EndTime are
 * period-aligned; EndTime is exclusive (GetMetricData API reference).
 */
export async function readMetrics(
  client: CloudWatchClient,
  queries: ReadonlyArray<Pick<MetricQuery, 'id' | 'metric' | 'periodSeconds'>>,
  startSeconds: number,
  endSeconds: number,
  options: { readonly nowSeconds: number; readonly maxPages?: number },
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
  const messages: string[] = [];
  let futureDatapoints = 0;
  let pages = 0;
  let nextToken: string | undefined;
  do {
    const out = await client.send(
      new GetMetricDataCommand({
        MetricDataQueries: metricDataQueries,
        StartTime: new Date(startSeconds * 1000),
        EndTime: new Date(endSeconds * 1000),
        ScanBy: 'TimestampAscending',
        NextToken: nextToken,
      }),
    );
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
  if (nextToken) {
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
