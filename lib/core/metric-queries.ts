import type { Counts, ReadProblem, SloBakeData } from './decision';
import { RollbackTriggersError } from './errors';
import type { EvaluatorConfig, EvaluatorSlo, MetricSpec } from './evaluator-config';
import type { ArmMinute, SloTimeline, TimelineMinute } from './windows';

/**
 * GetMetricData queries for one bake tick: every SLO, both arms, numerator and total, in ONE call
 * (a call takes up to 500 queries, {@link MAX_QUERIES_PER_CALL}; 20 SLOs of two plain metrics need
 * 80). One-minute datapoints are summed per window afterwards, so the same call serves the bake
 * window and the short window.
 */

export type Arm = 'canary' | 'baseline';

/** How to scope an SLO's metrics to one arm's traffic. */
export interface ArmScope {
  readonly arm: Arm;
  /** Dimensions added to (Lambda: ExecutedVersion) or replacing (ECS: TargetGroup, LoadBalancer) the spec's. */
  readonly dimensions: Readonly<Record<string, string>>;
}

/** One GetMetricData query (a `MetricDataQuery`): a metric, or metric math over other queries of the same call. */
export interface ReadQuery {
  /** GetMetricData query id: lowercase start, letters, digits and underscores; unique in the call. */
  readonly id: string;
  /** The metric read; unset for an expression. */
  readonly metric?: { readonly namespace: string; readonly metricName: string; readonly stat: string; readonly dimensions: Readonly<Record<string, string>> };
  /**
   * Metric math over the ids of other queries of the call: "A math expression can use the Id of the
   * other metrics or queries to refer to those metrics" (GetMetricData API reference,
   * MetricDataQuery.Expression).
   */
  readonly expression?: string;
  /**
   * false for a metric read only by an expression: "If you are performing this call just to do math
   * expressions and do not also need the raw data returned, you can specify false"
   * (MetricDataQuery.ReturnData). GetMetricData returns no result for it. Default true.
   */
  readonly returnData?: boolean;
  readonly periodSeconds: 60;
}

export interface MetricQuery extends ReadQuery {
  readonly sloIndex: number;
  readonly arm: Arm;
  /** `term`: a metric a numerator's expression reads (`returnData` false). */
  readonly part: 'numerator' | 'total' | 'term';
}

/** GetMetricData takes at most 500 queries per call (GetMetricData API reference), those with ReturnData false included. */
export const MAX_QUERIES_PER_CALL = 500;

/** The GetMetricData id of one SLO's numerator or total for one arm: `s0_canary_n`, `s2_baseline_t`. */
export function queryId(sloIndex: number, arm: Arm, part: 'numerator' | 'total'): string {
  return `s${sloIndex}_${arm}_${part === 'numerator' ? 'n' : 't'}`;
}

/** The GetMetricData id of health check `index`'s Synthetics canary: `h0`. */
export function healthQueryId(index: number): string {
  return `h${index}`;
}

/**
 * Every SLO's queries for every arm. A plain numerator is one metric query; a metric-math numerator
 * ({@link NumeratorMath}) is one expression query under the numerator's id, reading its parts
 * (queries with ReturnData false, ids prefixed with the numerator's: `s0_canary_n_t5xx`) and the
 * arm's total (`s0_canary_t`, itself returned).
 */
export function buildMetricQueries(config: Pick<EvaluatorConfig, 'slos' | 'dimensionSets'>, arms: readonly ArmScope[]): MetricQuery[] {
  const queries: MetricQuery[] = [];
  config.slos.forEach((slo, sloIndex) => {
    for (const scope of arms) {
      if (!readsArm(slo, scope)) continue;
      const arm = scope.arm;
      const armDimensions = armDimensionsFor(scope, slo);
      const metric = (spec: Pick<MetricSpec, 'namespace' | 'metricName' | 'stat' | 'dimensionSet'>) => ({
        namespace: spec.namespace,
        metricName: spec.metricName,
        stat: spec.stat,
        dimensions: { ...config.dimensionSets[spec.dimensionSet], ...armDimensions },
      });
      const numeratorId = queryId(sloIndex, arm, 'numerator');
      const totalId = queryId(sloIndex, arm, 'total');
      if (slo.numeratorMath) {
        const partId = (name: string) => `${numeratorId}_${name}`;
        for (const [name, part] of Object.entries(slo.numeratorMath.parts)) {
          // Parts share the total's namespace and dimension set (NumeratorMath.parts).
          queries.push({ id: partId(name), sloIndex, arm, part: 'term', metric: metric({ ...slo.total, ...part }), returnData: false, periodSeconds: 60 });
        }
        const expression = slo.numeratorMath.expression.replace(/\{([a-z][a-z0-9]*)\}/g, (_, name: string) => (name === 'total' ? totalId : partId(name)));
        queries.push({ id: numeratorId, sloIndex, arm, part: 'numerator', expression, returnData: true, periodSeconds: 60 });
      } else {
        queries.push({ id: numeratorId, sloIndex, arm, part: 'numerator', metric: metric(slo.numerator!), returnData: true, periodSeconds: 60 });
      }
      queries.push({ id: totalId, sloIndex, arm, part: 'total', metric: metric(slo.total), returnData: true, periodSeconds: 60 });
    }
  });
  return queries;
}

/**
 * The dimensions that scope an SLO's metrics to one arm: the arm's own (Lambda `ExecutedVersion`,
 * an ECS target group's), or, for an SLO whose metrics carry the version in a dimension of their
 * own ({@link EvaluatorSlo.versionDimension}), the arm's Lambda version under that name and nothing
 * else (an ECS arm has no version: the SLO's declared dimensions are read as they are). None for
 * an SLO read as declared ({@link EvaluatorSlo.declared}): its metrics carry neither.
 */
export function armDimensionsFor(scope: ArmScope, slo: Pick<EvaluatorSlo, 'versionDimension' | 'declared'>): Readonly<Record<string, string>> {
  if (slo.declared === true) return {};
  if (slo.versionDimension === undefined) return scope.dimensions;
  const version = scope.dimensions.ExecutedVersion;
  return version === undefined ? {} : { [slo.versionDimension]: version };
}

/**
 * Whether an SLO is read on an arm. An SLO read as declared is read once, on the new version's arm:
 * the same metric on the other arm would be the same series. An SLO whose metrics carry the version
 * in a dimension of their own is not read on a baseline arm scoped by something else (ECS target
 * groups): it declares the new version's value, the current version's is unknown, and reading the
 * declared one again would compare the new version with itself (an incident it shares with itself,
 * never the release's). It is judged on its burn rate alone, as its rollback alarm (scope
 * `declared`, no baseline) is.
 */
export function readsArm(slo: Pick<EvaluatorSlo, 'versionDimension' | 'declared'>, scope: ArmScope): boolean {
  if (slo.declared === true) return scope.arm === 'canary';
  if (slo.versionDimension === undefined || scope.arm !== 'baseline') return true;
  return scope.dimensions.ExecutedVersion !== undefined || Object.keys(scope.dimensions).length === 0;
}

/** The dimensions the evaluator sets per arm at run time (Lambda's `ExecutedVersion`; an ALB target group's `TargetGroup` and `LoadBalancer`). */
export const ARM_DIMENSION_NAMES: readonly string[] = ['ExecutedVersion', 'TargetGroup', 'LoadBalancer'];

/**
 * Whether a metric, as declared (its namespace and dimension names), is one CloudWatch also
 * publishes per arm, so the evaluator may scope it to one: it names an arm's dimension itself, or it
 * is a Lambda metric through an alias (`FunctionName` and `Resource`), which Lambda publishes per
 * `ExecutedVersion` too ("By Executed Version (ExecutedVersion) – View metrics for a combination of
 * alias and version", Lambda Developer Guide, "Viewing metrics for Lambda functions"). Any other
 * metric (a custom metric without a version dimension, a log pattern's lines, a function's metrics
 * by `FunctionName` alone) exists under its declared dimensions only: CloudWatch "treats each unique
 * combination of dimensions as a separate metric" (GetMetricStatistics API reference, Dimensions).
 */
export function metricScopesToArm(namespace: string, dimensionNames: readonly string[]): boolean {
  if (dimensionNames.some((name) => ARM_DIMENSION_NAMES.includes(name))) return true;
  return namespace === 'AWS/Lambda' && dimensionNames.includes('FunctionName') && dimensionNames.includes('Resource');
}

/**
 * How many queries one tick sends in its one GetMetricData call: both arms of every SLO and the
 * Synthetics health checks. The configuration's 4 KB bound keeps it far below
 * {@link MAX_QUERIES_PER_CALL}; the construct checks it anyway (RT317), since one call per tick is
 * what makes a tick's reads one consistent snapshot.
 */
export function queriesPerTick(config: Pick<EvaluatorConfig, 'slos' | 'dimensionSets' | 'healthChecks'>): number {
  const arms: ArmScope[] = [
    { arm: 'canary', dimensions: {} },
    { arm: 'baseline', dimensions: {} },
  ];
  return buildMetricQueries(config, arms).length + buildHealthQueries(config).length;
}

/** Throws RT317 when one tick would need more queries than one GetMetricData call takes. */
export function validateQueriesPerTick(prop: string, count: number): void {
  if (count > MAX_QUERIES_PER_CALL) {
    throw new RollbackTriggersError(
      'RT317',
      `${prop}: one bake tick would send ${count} GetMetricData queries, but one call takes at most ${MAX_QUERIES_PER_CALL} — split the objectives over two triggers`,
    );
  }
}

/**
 * Queries for the Synthetics health checks, to ride in the same GetMetricData call: one per canary,
 * `CloudWatchSynthetics` `SuccessPercent`, "The percentage of the runs of this canary that succeed
 * and find no failures", dimension `CanaryName`, statistic Average ("CloudWatch metrics published
 * by canaries", CloudWatch User Guide,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Synthetics_Canaries_metrics.html):
 * per minute, the share of that minute's runs that succeeded (100 or 0 for one run).
 */
export function buildHealthQueries(config: Pick<EvaluatorConfig, 'healthChecks'>): ReadQuery[] {
  return (config.healthChecks ?? []).flatMap((check, i) =>
    check.kind === 'synthetics' && check.canaryName
      ? [
          {
            id: healthQueryId(i),
            metric: { namespace: 'CloudWatchSynthetics', metricName: 'SuccessPercent', stat: 'Average', dimensions: { CanaryName: check.canaryName } },
            periodSeconds: 60 as const,
          },
        ]
      : [],
  );
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
  let sumBad = 0;
  let datapoints = 0;
  for (const [t, value] of total ?? new Map<number, number>()) {
    if (t < fromSeconds || t >= toSeconds) continue;
    sumTotal += value;
    datapoints++;
    // Minute by minute, as the timeline counts them: a `good` count above its total is no negative bad.
    if (slo.numeratorKind === 'good') sumBad += Math.max(0, value - (numerator?.get(t) ?? 0));
  }
  if (slo.numeratorKind === 'bad') {
    for (const [t, value] of numerator ?? new Map<number, number>()) {
      if (t >= fromSeconds && t < toSeconds) sumBad += value;
    }
  }
  return { total: sumTotal, bad: Math.min(sumBad, sumTotal), datapoints };
}

/** Floors epoch seconds to the minute: GetMetricData wants period-aligned times (EndTime exclusive). */
export function floorToMinute(epochSeconds: number): number {
  return Math.floor(epochSeconds / 60) * 60;
}

// ---------------------------------------------------------------------------------------------
// Evidence: what a GetMetricData result is worth ("Evidence, or it is not a pass", DESIGN.md).

/**
 * One query's result after every page of one read: GetMetricData's per-result `StatusCode`
 * (`Complete`, `PartialData`, `InternalError`, `Forbidden`), or `Missing` when no page carried the
 * query at all.
 */
export interface QueryResult {
  readonly status: string;
  /** Datapoints: epoch seconds (minute start) → value. */
  readonly series: Series;
  /** The result's own messages (`Code: Value`). */
  readonly messages?: readonly string[];
}

/**
 * Whether a result is evidence: only `Complete` is. `Forbidden` is a configuration error (the
 * evaluator may not read the metric: waiting will not fix it); `InternalError`, `PartialData`
 * left after the page cap and a missing result are read again.
 */
export function readProblemOf(id: string, result: QueryResult | undefined): ReadProblem | undefined {
  const status = result?.status ?? 'Missing';
  if (status === 'Complete') return undefined;
  const said = result?.messages && result.messages.length > 0 ? ` (${result.messages.join('; ')})` : '';
  switch (status) {
    case 'Forbidden':
      return { permanent: true, reason: `GetMetricData answered Forbidden for query ${id}${said}: the evaluator is not allowed to read this metric` };
    case 'InternalError':
      return { permanent: false, reason: `GetMetricData answered InternalError for query ${id}${said}` };
    case 'PartialData':
      return { permanent: false, reason: `GetMetricData returned only part of query ${id}${said}: more pages than the evaluator reads in one tick` };
    case 'Missing':
      return { permanent: false, reason: `GetMetricData returned no result for query ${id}` };
    default:
      return { permanent: false, reason: `GetMetricData answered ${status} for query ${id}${said}` };
  }
}

/**
 * One tick's evidence per SLO: the new version's counts since `windowStart` and over the short
 * window, the current version's when it serves, and which of their queries could not be read. A
 * numerator without datapoints is zero errors only when its query was `Complete` (count metrics
 * publish nothing when nothing failed); otherwise the SLO is unread, not clean.
 *
 * `allTrafficAt` (epoch seconds): when all traffic reached the new version, the AfterAllowTraffic
 * hook's start; absent before that (AfterAllowTestTraffic). Only an SLO read as declared needs it
 * ({@link declaredBakeData}): without it, nothing such an SLO reads is the new version's own.
 */
export function bakeDataFor(
  slos: readonly EvaluatorSlo[],
  arms: readonly ArmScope[],
  results: ReadonlyMap<string, QueryResult>,
  windowStart: number,
  end: number,
  allTrafficAt?: number,
): SloBakeData[] {
  const hasBaseline = arms.some((a) => a.arm === 'baseline');
  return slos.map((slo, i) => {
    const read = (arm: Arm): ArmRead => {
      // A metric-math numerator is judged on its expression's result alone: its parts are not
      // returned (ReturnData false), so only the expression's StatusCode can say the read was whole.
      const ids = [queryId(i, arm, 'numerator'), queryId(i, arm, 'total')];
      const problems = ids.flatMap((id) => readProblemOf(id, results.get(id)) ?? []);
      return { numerator: results.get(ids[0])?.series, total: results.get(ids[1])?.series, problems };
    };
    if (slo.declared === true) return declaredBakeData(slo, read('canary'), { current: hasBaseline, windowStart, end, allTrafficAt });
    const canary = read('canary');
    const baseline = hasBaseline && arms.some((a) => a.arm === 'baseline' && readsArm(slo, a)) ? read('baseline') : undefined;
    const shortStart = shortWindowStart(windowStart, end, slo.shortWindowSeconds);
    const data: SloBakeData = {
      slo,
      canary: countsFor(slo, canary.numerator, canary.total, windowStart, end),
      canaryShort: countsFor(slo, canary.numerator, canary.total, shortStart, end),
      timeline: timelineOf(slo, canary, baseline, windowStart, end),
      ...(canary.problems.length > 0 ? { canaryProblems: canary.problems } : {}),
    };
    if (!baseline) return data;
    return {
      ...data,
      baseline: countsFor(slo, baseline.numerator, baseline.total, windowStart, end),
      ...(baseline.problems.length > 0 ? { baselineProblems: baseline.problems } : {}),
    };
  });
}

/** One arm's read of an SLO: its numerator's and total's datapoints, and why they are no evidence. */
interface ArmRead {
  readonly numerator?: Series;
  readonly total?: Series;
  readonly problems: readonly ReadProblem[];
}

/**
 * An SLO read as declared ({@link EvaluatorSlo.declared}): one read of the whole service, every
 * version together. It is the new version's own traffic only on the minutes that start once all
 * traffic is on it (`allTrafficAt` rounded up: the minute the shift came in may hold the canary's
 * share), and the current version's only before the release (`windowStart`), when a current
 * version serves (`current`: the read has a baseline arm). The minutes between, a canary's or a
 * linear shift's, are neither version's own: they are no evidence here, for a pass or a failure —
 * the rollback alarm judges them on its burn rate alone (scope `declared`). The timeline's window
 * since the release starts at the first minute of the new version alone, so a short window is
 * never cut by canary minutes (a blip would fill a window cut short), and the minutes before the
 * release stay the reference and the history, as for an all-at-once release. Without `allTrafficAt`
 * nothing read is the new version's own: no evidence, never a pass.
 */
function declaredBakeData(
  slo: EvaluatorSlo,
  read: ArmRead,
  at: { readonly current: boolean; readonly windowStart: number; readonly end: number; readonly allTrafficAt?: number },
): SloBakeData {
  const { windowStart, end } = at;
  const alone = at.allTrafficAt === undefined ? end : Math.max(windowStart, Math.ceil(at.allTrafficAt / 60) * 60);
  const minutes: TimelineMinute[] = [];
  for (const t of [...(read.total?.keys() ?? [])].filter((m) => m < end).sort((a, b) => a - b)) {
    const counts = armMinute(slo, read, t)!;
    if (t >= alone) minutes.push({ at: t, canary: counts });
    else if (t < windowStart && at.current) minutes.push({ at: t, baseline: counts });
  }
  return {
    slo,
    canary: countsFor(slo, read.numerator, read.total, alone, end),
    canaryShort: countsFor(slo, read.numerator, read.total, shortWindowStart(alone, end, slo.shortWindowSeconds), end),
    timeline: { releaseAt: alone, end, minutes },
    ...(read.problems.length > 0 ? { canaryProblems: read.problems } : {}),
  };
}

/**
 * One version's counts in minute `t`; undefined without a `total` datapoint (Lambda publishes no
 * ExecutedVersion datapoint for a version that served nothing).
 */
function armMinute(slo: EvaluatorSlo, s: { numerator?: Series; total?: Series } | undefined, t: number): ArmMinute | undefined {
  const total = s?.total?.get(t);
  if (total === undefined) return undefined;
  const counted = s?.numerator?.get(t) ?? 0;
  const bad = slo.numeratorKind === 'bad' ? counted : Math.max(0, total - counted);
  return { total, bad: Math.min(bad, total) };
}

/**
 * One SLO's minutes, both versions, from whatever the read holds before `end` (the tick reads from
 * `windowStart − HISTORY_SECONDS`, so the current version's hour before the release is in it). A
 * minute without a `total` datapoint has no counts for that version.
 */
function timelineOf(
  slo: EvaluatorSlo,
  canary: { numerator?: Series; total?: Series },
  baseline: { numerator?: Series; total?: Series } | undefined,
  releaseAt: number,
  end: number,
): SloTimeline {
  const times = new Set<number>();
  for (const s of [canary.total, baseline?.total]) for (const t of s?.keys() ?? []) if (t < end) times.add(t);
  const minutes: TimelineMinute[] = [...times]
    .sort((a, b) => a - b)
    .map((at) => {
      const c = armMinute(slo, canary, at);
      const b = armMinute(slo, baseline, at);
      return { at, ...(c ? { canary: c } : {}), ...(b ? { baseline: b } : {}) };
    });
  return { releaseAt, end, minutes };
}

/** The short window's first minute: `end − shortWindow`, never before the window's start. */
export function shortWindowStart(windowStart: number, end: number, shortWindowSeconds: number): number {
  return Math.max(windowStart, end - shortWindowSeconds);
}

/**
 * Clock skew: a datapoint stamped after the evaluator's own clock cannot be a finished minute
 * (CloudWatch accepts timestamps up to two hours ahead). It is ignored, and counted for the audit.
 */
export function isFutureDatapoint(timestampSeconds: number, nowSeconds: number): boolean {
  return timestampSeconds > nowSeconds;
}

/** The deployment's targets as `resolve` read them (lambda/shared/codedeploy.ts). */
export interface TargetVersions {
  readonly platform: 'lambda' | 'ecs' | 'other';
  readonly currentVersion?: string;
  readonly targetVersion?: string;
  readonly currentTargetGroup?: string;
  readonly targetTargetGroup?: string;
}

/**
 * Whose traffic the bake reads: Lambda, the new version's `ExecutedVersion` (and the current
 * one's); ECS, the replacement (green) task set's target group (and the original's), which must be
 * one this trigger watches. Returns why the arms cannot be found instead.
 */
export function armScopesFor(config: Pick<EvaluatorConfig, 'targetGroups'>, targets: TargetVersions): ArmScope[] | string {
  if (targets.platform === 'lambda') {
    if (!targets.targetVersion) return 'CodeDeploy reported no target version';
    const arms: ArmScope[] = [{ arm: 'canary', dimensions: { ExecutedVersion: targets.targetVersion } }];
    if (targets.currentVersion) arms.push({ arm: 'baseline', dimensions: { ExecutedVersion: targets.currentVersion } });
    return arms;
  }
  if (targets.platform === 'ecs') {
    const group = (name?: string) => config.targetGroups?.find((tg) => tg.name === name);
    const green = group(targets.targetTargetGroup);
    if (!green) return `the replacement task set's target group ${targets.targetTargetGroup ?? '(none)'} is not one this trigger watches`;
    const arms: ArmScope[] = [{ arm: 'canary', dimensions: green.dimensions }];
    const blue = group(targets.currentTargetGroup);
    if (blue && blue !== green) arms.push({ arm: 'baseline', dimensions: blue.dimensions });
    return arms;
  }
  return 'unsupported compute platform for deployment targets';
}
