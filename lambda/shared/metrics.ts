import { CloudWatchClient, GetMetricDataCommand, MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { MetricQuery, Series } from '../../lib/core';

/**
 * Runs one tick's queries in one GetMetricData request, following NextToken (partial data comes
 * back with StatusCode PartialData and a token). Returns each query's minute → value series.
 */
export async function readMetrics(
  client: CloudWatchClient,
  queries: ReadonlyArray<Pick<MetricQuery, 'id' | 'metric' | 'periodSeconds'>>,
  startSeconds: number,
  endSeconds: number,
): Promise<Map<string, Series>> {
  const series = new Map<string, Map<number, number>>(queries.map((q) => [q.id, new Map()]));
  if (endSeconds <= startSeconds) return series;
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
  let nextToken: string | undefined;
  do {
    const out = await client.send(
      new GetMetricDataCommand({
        MetricDataQueries: metricDataQueries,
        // Period-aligned; EndTime is exclusive.
        StartTime: new Date(startSeconds * 1000),
        EndTime: new Date(endSeconds * 1000),
        ScanBy: 'TimestampAscending',
        NextToken: nextToken,
      }),
    );
    for (const result of out.MetricDataResults ?? []) {
      const target = result.Id ? series.get(result.Id) : undefined;
      if (!target) continue;
      (result.Timestamps ?? []).forEach((ts, i) => {
        const value = result.Values?.[i];
        if (value !== undefined) target.set(Math.floor(new Date(ts).getTime() / 1000), value);
      });
    }
    nextToken = out.NextToken;
  } while (nextToken);
  return series;
}
