import { IMetric, MathExpression } from 'aws-cdk-lib/aws-cloudwatch';
import { metricFootprint } from './metrics';

/** The metrics an SLI divides: `bad` or `good` (exactly one) over `total`. */
export interface SliCounts {
  readonly bad?: IMetric;
  readonly good?: IMetric;
  readonly total: IMetric;
  /**
   * Set when no single metric counts the bad events: `bad` is then metric math over `total` and a
   * few more metrics of the same traffic (an ALB target group: its target 5xx plus the requests that
   * got no target response; a latency SLI: the total times the share of samples above the
   * threshold). The evaluator reads the same math minute by minute (`EvaluatorSlo.numeratorMath`).
   */
  readonly derivedBad?: DerivedBad;
}

/**
 * A bad-event count computed with metric math from `total` and `parts`. Rendered as its own
 * expression query (`bad`, `basebad`), so the rollback alarm's long comparison still names it once,
 * and the query ids of every copy are prefixed: CloudWatch wants ids unique within one alarm, and a
 * rollback alarm holds two copies (the new version's and its baseline's).
 */
export interface DerivedBad {
  /** Metrics the term reads besides `total`, by query id (lowercase letters and digits). */
  readonly parts: Readonly<Record<string, IMetric>>;
  /**
   * The term, given the query id of a part (or of `total`). It must mean the same per minute (the
   * evaluator) as over a whole window (the alarms): sums of counts, and shares of samples weighted
   * by the window's count.
   */
  readonly render: (id: (name: string) => string) => string;
  /** The term for humans: alarm descriptions and comments. */
  readonly description: string;
}

/** `bad` as a derived expression, with every query id of its copy prefixed (`''` or `'base'`). */
export function derivedBadExpression(derived: DerivedBad, total: IMetric, prefix: string): MathExpression {
  const id = (name: string) => `${prefix}${name}`;
  return new MathExpression({
    expression: derived.render(id),
    usingMetrics: {
      [id('total')]: total,
      ...Object.fromEntries(Object.entries(derived.parts).map(([name, metric]) => [id(name), metric])),
    },
    label: derived.description,
  });
}

/**
 * The metric an alarm divides by `total` (`bad` or `good`), with the query ids of a derived
 * count prefixed: `numeratorOf(counts, 'base')` is the copy a rollback alarm reads for its
 * baseline beside the new version's own.
 */
export function numeratorOf(counts: SliCounts, prefix = ''): IMetric {
  if (counts.derivedBad) return derivedBadExpression(counts.derivedBad, counts.total, prefix);
  return (counts.bad ?? counts.good)!;
}

/**
 * How many metrics an alarm over these counts reads (CloudWatch bills each, and allows 10 in a
 * metric-math alarm): the numerator's and the total's, with the total counted once when a derived
 * bad count reads it under the alarm's own `total` id (CloudFormation renders it once).
 */
export function countsMetricCount(counts: SliCounts): number {
  const numerator = metricFootprint(numeratorOf(counts)).metrics;
  const total = metricFootprint(counts.total).metrics;
  return counts.derivedBad ? numerator : numerator + total;
}
