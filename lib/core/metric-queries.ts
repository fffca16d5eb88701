import type { Counts } from './decision';
import type { EvaluatorConfig, EvaluatorHealthCheck, EvaluatorSlo } from './evaluator-config';

/**
 * GetMetricData queries for one bake tick: every SLO, both arms, numerator and total, in ONE call
 * (a call takes up to 500 queries; 20 SLOs need 80). One-minute datapoints are summed per window
 * afterwards, so the same call serves the bake window and the short window.
 */

export type Arm = 'canary' | 'baseline';

/** How to scope an SLO's metrics to one arm's traffic. */
export interface ArmScope {
  readonly arm: Arm;
  /** Dimensions added to (Lambda: ExecutedVersion) or replacing (ECS: TargetGroup, LoadBalancer) the spec's. */
  readonly dimensions: Readonly<Record<string, string>>;
}

export interface MetricQuery {
  /** GetMetricData query id: lowercase start, letters, digits and underscores. */
  readonly id: string;
  readonly sloIndex: number;
  readonly arm: Arm;
  readonly part: 'numerator' | 'total';
  readonly metric: { readonly namespace: string; readonly metricName: string; readonly stat: string; readonly dimensions: Readonly<Record<string, string>> };
  readonly periodSeconds: 60;
}

export function buildMetricQueries(config: Pick<EvaluatorConfig, 'slos' | 'dimensionSets'>, arms: readonly ArmScope[]): MetricQuery[] {
  const queries: MetricQuery[] = [];
  config.slos.forEach((slo, sloIndex) => {
    for (const scope of arms) {
      for (const part of ['numerator', 'total'] as const) {
        const spec = part === 'numerator' ? slo.numerator : slo.total;
        queries.push({
          id: `s${sloIndex}_${scope.arm}_${part === 'numerator' ? 'n' : 't'}`,
          sloIndex,
          arm: scope.arm,
          part,
          metric: {
            namespace: spec.namespace,
            metricName: spec.metricName,
            stat: spec.stat,
            dimensions: { ...config.dimensionSets[spec.dimensionSet], ...scope.dimensions },
          },
          periodSeconds: 60,
        });
      }
    }
  });
  return queries;
}

/**
 * Queries for the Synthetics health checks, to ride in the same GetMetricData call: one per canary,
 * `CloudWatchSynthetics` `SuccessPercent` (percent of the run's steps that passed).
 */
export function buildHealthQueries(config: Pick<EvaluatorConfig, 'healthChecks'>): Array<Pick<MetricQuery, 'id' | 'metric' | 'periodSeconds'>> {
  return (config.healthChecks ?? []).flatMap((check, i) =>
    check.kind === 'synthetics' && check.canaryName
      ? [
          {
            id: `h${i}`,
            metric: { namespace: 'CloudWatchSynthetics', metricName: 'SuccessPercent', stat: 'Average', dimensions: { CanaryName: check.canaryName } },
            periodSeconds: 60 as const,
          },
        ]
      : [],
  );
}

/** The first Synthetics run since `fromSeconds` below the check's minimum, as a failure reason. */
export function syntheticsFailure(check: EvaluatorHealthCheck, series: Series | undefined, fromSeconds: number, toSeconds: number): string | undefined {
  const min = check.minSuccessPercent ?? 100;
  for (const [t, value] of [...(series ?? new Map<number, number>())].sort(([a], [b]) => a - b)) {
    if (t >= fromSeconds && t < toSeconds && value < min) {
      return `health check ${check.name}: Synthetics canary ${check.canaryName} succeeded ${value} % of its steps at ${new Date(t * 1000).toISOString()}, below ${min} %`;
    }
  }
  return undefined;
}

/** Datapoints of one query: epoch seconds (minute start) → value. */
export type Series = ReadonlyMap<number, number>;

/**
 * Sums one SLO's datapoints for an arm over [fromSeconds, toSeconds). A numerator without
 * datapoints counts as zero (count metrics publish nothing when nothing failed); `datapoints`
 * counts minutes that had a total.
 */
export function countsFor(
  slo: EvaluatorSlo,
  numerator: Series | undefined,
  total: Series | undefined,
  fromSeconds: number,
  toSeconds: number,
): Counts {
  let sumTotal = 0;
  let sumNumerator = 0;
  let datapoints = 0;
  for (const [t, value] of total ?? new Map<number, number>()) {
    if (t < fromSeconds || t >= toSeconds) continue;
    sumTotal += value;
    datapoints++;
  }
  for (const [t, value] of numerator ?? new Map<number, number>()) {
    if (t >= fromSeconds && t < toSeconds) sumNumerator += value;
  }
  const bad = slo.numeratorKind === 'bad' ? sumNumerator : Math.max(0, sumTotal - sumNumerator);
  return { total: sumTotal, bad: Math.min(bad, sumTotal), datapoints };
}

/** Floors epoch seconds to the minute: GetMetricData wants period-aligned times (EndTime exclusive). */
export function floorToMinute(epochSeconds: number): number {
  return Math.floor(epochSeconds / 60) * 60;
}
