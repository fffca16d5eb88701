import { Duration, Stack, Token } from 'aws-cdk-lib';
import { IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { RollbackTriggersError } from '../core/errors';
import { validateDurationSeconds } from '../core/slo-math';
import { withProp } from './errors';

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

/** One metric-math expression an alarm will evaluate, with the query ids it may reference. */
export interface MathExpressionUse {
  readonly expression: string;
  readonly usingIds: string[];
  readonly usingMetrics: Record<string, IMetric>;
}

/** Every math expression inside a metric (a `MathExpression` and the ones nested in its `usingMetrics`). */
export function mathExpressionsOf(metric: IMetric): MathExpressionUse[] {
  const math = metric.toMetricConfig().mathExpression;
  if (!math) return [];
  return [
    { expression: math.expression, usingIds: Object.keys(math.usingMetrics), usingMetrics: math.usingMetrics },
    ...Object.values(math.usingMetrics).flatMap(mathExpressionsOf),
  ];
}

/**
 * The seconds of a duration prop that the alarms and the policy are computed from: a token is
 * refused (RT109), anything but a positive, finite, whole number of seconds too (RT118), naming
 * the prop and the value as written (aws-cdk-lib's own `toSeconds()` throws without either).
 * `label` is the prop as the message names it (`BurnRateTier.of: longWindow`), `field` the prop
 * alone as the error's `prop` carries it (`longWindow`).
 */
export function literalSeconds(label: string, duration: Duration, field = label): number {
  if (duration.isUnresolved()) {
    throw new RollbackTriggersError('RT109', `${label} must be a literal duration, got a token — its seconds are needed at synth to compute the alarms`, { prop: field });
  }
  const seconds = duration.toSeconds({ integral: false });
  withProp(field, () => validateDurationSeconds(label, seconds, duration.toString()));
  return seconds;
}
