import { Stack, Token } from 'aws-cdk-lib';
import { IMetric } from 'aws-cdk-lib/aws-cloudwatch';

/** What an alarm over a metric (or a math expression) will read, for CloudWatch's limits and billing. */
export interface MetricFootprint {
  /** Metric queries (each billed in an alarm; at most 10 in a math alarm). */
  readonly metrics: number;
  readonly expressions: number;
  readonly namespaces: string[];
  /** Statistics of the leaf metrics. */
  readonly statistics: string[];
}

export function metricFootprint(metric: IMetric): MetricFootprint {
  const config = metric.toMetricConfig();
  if (config.mathExpression) {
    const parts = Object.values(config.mathExpression.usingMetrics).map(metricFootprint);
    return {
      metrics: parts.reduce((n, p) => n + p.metrics, 0),
      expressions: 1 + parts.reduce((n, p) => n + p.expressions, 0),
      namespaces: parts.flatMap((p) => p.namespaces),
      statistics: parts.flatMap((p) => p.statistics),
    };
  }
  if (config.metricStat) {
    return { metrics: 1, expressions: 0, namespaces: [config.metricStat.namespace], statistics: [config.metricStat.statistic] };
  }
  // Search expressions and other renderings: one query, namespace unknown.
  return { metrics: 1, expressions: 0, namespaces: [], statistics: [] };
}

/**
 * A stable identity for what a metric reads, with tokens resolved to their CloudFormation form, so
 * two SLOs built from separate but equal metric objects are recognised as reading the same data.
 */
export function metricSignature(stack: Stack, metric: IMetric): string {
  const config = metric.toMetricConfig();
  if (config.mathExpression) {
    const using = Object.entries(config.mathExpression.usingMetrics)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([id, m]) => `${id}=${metricSignature(stack, m)}`);
    return `math(${config.mathExpression.expression};${using.join(',')})`;
  }
  if (config.metricStat) {
    const s = config.metricStat;
    return JSON.stringify(
      stack.resolve({ ns: s.namespace, name: s.metricName, dims: s.dimensions, stat: s.statistic, account: s.account, region: s.region }),
    );
  }
  return JSON.stringify(stack.resolve(config));
}

/** Whether a string or number is only known at deploy time (checks on it are skipped). */
export function isUnresolved(value: unknown): boolean {
  return Token.isUnresolved(value);
}
