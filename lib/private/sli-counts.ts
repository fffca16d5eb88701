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
   * got no target response).
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
  /** The term, given the query id of a part (or of `total`). */
  readonly render: (id: (name: string) => string) => string;
  /**
   * The one metric the evaluator reads instead: its configuration carries a single numerator
   * metric per SLO (`EvaluatorSlo.numerator`), so it judges a lower bound of the bad events.
   */
  readonly singleMetricLowerBound: IMetric;
  /** What the lower bound misses, for the synth annotation. */
  readonly lowerBoundMisses: string;
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
