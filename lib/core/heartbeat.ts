import type { ReadProblem } from './decision';
import { formatNumber, formatSeconds } from './errors';
import { type QueryResult, type ReadQuery, type Series, readProblemOf } from './metric-queries';
import type { PolicyThresholdTrigger, RollbackPolicy } from './policy';
import { HISTORY_SECONDS } from './windows';

/**
 * Heartbeats: a dead man's switch. Workers publish a datapoint on every beat; a period without one
 * is a failure, never "no data". Pure core: the `HeartbeatTrigger` construct renders the alarm (and
 * the policy entry this module reads), the evaluator Lambda and the simulator judge the new
 * version's own beats with {@link judgeHeartbeat}, through `decideBake`.
 *
 * The alarm: SampleCount < 1 per interval with `TreatMissingData: breaching`. CloudWatch User
 * Guide, "Configuring how CloudWatch alarms treat missing data": "For a metric that continually
 * reports data, such as `CPUUtilization` of an instance, you might want to treat missing data
 * points as `breaching`, because they might indicate that something is wrong." The alarm has no
 * notion of a release, so the evaluator adds what it cannot: a grace after the release, and the new
 * version's own beats (the version dimension).
 */

/** Every beat is a datapoint, whatever its value: CloudWatch's SampleCount counts them. */
export const HEARTBEAT_STATISTIC = 'SampleCount';

/** A heartbeat as the evaluator judges it (the construct's `interval`, M of N and version dimension). */
export interface HeartbeatSpec {
  /** The trigger's construct id: keys it in reasons and audit events. */
  readonly name: string;
  /** The period each beat must land in (whole minutes). */
  readonly intervalSeconds: number;
  /** N: the most recent intervals looked at. */
  readonly evaluationPeriods: number;
  /** M: intervals of the N without a beat that fail the new version. */
  readonly datapointsToAlarm: number;
  /**
   * The dimension whose value is the version that beat (Lambda: the version number the function
   * reads from `AWS_LAMBDA_FUNCTION_VERSION`). Set: the evaluator reads the new version's own beats
   * (the dimension set to the deployment's target version) and the current version's as the
   * reference. Absent: the metric as declared, all versions together.
   */
  readonly versionDimension?: string;
}

/** A heartbeat in the evaluator's configuration: the spec and the metric it reads. */
export interface EvaluatorHeartbeat extends HeartbeatSpec {
  readonly namespace: string;
  readonly metricName: string;
  /** The metric's dimensions, without the version dimension (the evaluator sets it per version). */
  readonly dimensions: Readonly<Record<string, string>>;
}

/**
 * Seconds after the release during which a missing beat of the new version does not count:
 * interval × datapointsToAlarm. A new version starts beating only once it runs (a task set
 * starting, the first invocations after the shift), and its first beats may land in the first
 * intervals' last seconds. The evaluator also waits for all traffic to shift (AfterAllowTraffic's
 * start) when that comes later: missing beats count from whichever ends last ({@link judgeHeartbeat}).
 */
export function heartbeatGraceSeconds(spec: Pick<HeartbeatSpec, 'intervalSeconds' | 'datapointsToAlarm'>): number {
  return spec.intervalSeconds * spec.datapointsToAlarm;
}

/**
 * Seconds from the release until the evaluator can fail a new version that never beats, when all
 * traffic shifts within the grace (all at once): the grace, then `datapointsToAlarm` intervals
 * without a beat, then the metric delay before the evaluator trusts the last of them. After a
 * canary or linear shift that ends later, the intervals count from the shift instead. A version
 * that beats and then stops is failed `datapointsToAlarm` intervals (plus the delay) after its last
 * beat, once the grace and the shift are over.
 */
export function heartbeatSilentDetectionSeconds(spec: Pick<HeartbeatSpec, 'intervalSeconds' | 'datapointsToAlarm'>, metricDelaySeconds: number): number {
  return heartbeatGraceSeconds(spec) + spec.intervalSeconds * spec.datapointsToAlarm + metricDelaySeconds;
}

/**
 * Why the evaluator configuration's heartbeats cannot be judged, or undefined: a deploy-time bug
 * (construct and handler ship together), refused loudly rather than read as "no beat".
 */
export function heartbeatConfigProblem(heartbeats: unknown): string | undefined {
  if (heartbeats === undefined) return undefined;
  if (!Array.isArray(heartbeats)) return 'heartbeats is not an array';
  for (const [i, h] of (heartbeats as EvaluatorHeartbeat[]).entries()) {
    const at = `heartbeats[${i}]`;
    if (h === null || typeof h !== 'object') return `${at} is not an object`;
    if (typeof h.name !== 'string' || h.name.length === 0) return `${at} has no name`;
    if (typeof h.namespace !== 'string' || typeof h.metricName !== 'string' || h.dimensions === null || typeof h.dimensions !== 'object') return `${at} (${h.name}) has no metric`;
    if (!(Number.isInteger(h.intervalSeconds) && h.intervalSeconds >= 60 && h.intervalSeconds % 60 === 0)) return `${at} (${h.name}) has intervalSeconds ${JSON.stringify(h.intervalSeconds)}, expected whole minutes`;
    const n = h.evaluationPeriods;
    const m = h.datapointsToAlarm;
    if (!(Number.isInteger(n) && n >= 1 && Number.isInteger(m) && m >= 1 && m <= n)) return `${at} (${h.name}) has ${JSON.stringify(m)} of ${JSON.stringify(n)} intervals, expected 1 ≤ datapointsToAlarm ≤ evaluationPeriods`;
    if (h.versionDimension !== undefined && (typeof h.versionDimension !== 'string' || h.versionDimension.length === 0)) return `${at} (${h.name}) has an empty versionDimension`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Reading: one or two GetMetricData queries per heartbeat, in the tick's one call.

/** Which versions the bake judges (the deployment's target and current versions, as CodeDeploy reports them). */
export interface HeartbeatVersions {
  readonly toVersion?: string;
  readonly fromVersion?: string;
}

/**
 * The GetMetricData ids of heartbeat `index`: with a version dimension `b0_canary` (the new
 * version) and `b0_baseline` (the current one); without, `b0` (the metric as declared) serves both.
 */
export function heartbeatQueryIds(spec: Pick<HeartbeatSpec, 'versionDimension'>, index: number): { readonly beats: string; readonly reference: string } {
  return spec.versionDimension === undefined ? { beats: `b${index}`, reference: `b${index}` } : { beats: `b${index}_canary`, reference: `b${index}_baseline` };
}

/**
 * The heartbeats' queries for one tick: SampleCount per minute, the version dimension set to the
 * target version (and to the current version, for the reference) when the heartbeat has one.
 */
export function buildHeartbeatQueries(heartbeats: readonly EvaluatorHeartbeat[] | undefined, versions: HeartbeatVersions): ReadQuery[] {
  const queries: ReadQuery[] = [];
  (heartbeats ?? []).forEach((h, i) => {
    const ids = heartbeatQueryIds(h, i);
    const metric = (extra: Record<string, string>) => ({ namespace: h.namespace, metricName: h.metricName, stat: HEARTBEAT_STATISTIC, dimensions: { ...h.dimensions, ...extra } });
    if (h.versionDimension === undefined) {
      queries.push({ id: ids.beats, metric: metric({}), periodSeconds: 60 });
      return;
    }
    if (versions.toVersion !== undefined) queries.push({ id: ids.beats, metric: metric({ [h.versionDimension]: versions.toVersion }), periodSeconds: 60 });
    if (versions.fromVersion !== undefined) queries.push({ id: ids.reference, metric: metric({ [h.versionDimension]: versions.fromVersion }), periodSeconds: 60 });
  });
  return queries;
}

/** One heartbeat's evidence at one tick. */
export interface HeartbeatBakeData {
  readonly heartbeat: HeartbeatSpec;
  /** Epoch seconds, minute-aligned: the release (the bake window's start). */
  readonly releaseAt: number;
  /**
   * Epoch seconds: when all traffic reached the new version (the AfterAllowTraffic hook's start).
   * No interval that starts before it counts as missing: before it a canary serves part of the
   * traffic, and a worker that beats per request beats less. Absent: the grace alone.
   */
  readonly allTrafficAt?: number;
  /** Exclusive end of the data trusted complete (the tick's `end`). */
  readonly end: number;
  /** Datapoints of the new version's beats (or of the metric as declared): minute start → SampleCount. */
  readonly beats: Series;
  /**
   * The reference's beats, the hour before the release: the current version's own (version
   * dimension), or the metric as declared. Absent when there is no current version to read.
   */
  readonly reference?: Series;
  /** Why the beats could not be read: no evidence, neither of a beat nor of its absence. */
  readonly problems?: readonly ReadProblem[];
  /** Why the reference could not be read. */
  readonly referenceProblems?: readonly ReadProblem[];
}

/**
 * Each heartbeat's evidence from one read. A query answered `Complete` without datapoints is
 * beats that did not happen: the dead man's switch. A query that was not `Complete`, or a call
 * that failed (`callFailure`), is no evidence at all: read again, never a missing beat.
 */
export function heartbeatBakeData(
  heartbeats: readonly HeartbeatSpec[] | undefined,
  results: ReadonlyMap<string, QueryResult>,
  window: { readonly releaseAt: number; readonly allTrafficAt?: number; readonly end: number; readonly versions: HeartbeatVersions },
  callFailure?: ReadProblem,
): HeartbeatBakeData[] {
  return (heartbeats ?? []).map((heartbeat, i) => {
    const base = { heartbeat, releaseAt: window.releaseAt, end: window.end, ...(window.allTrafficAt !== undefined ? { allTrafficAt: window.allTrafficAt } : {}) };
    if (callFailure) return { ...base, beats: new Map(), problems: [{ permanent: callFailure.permanent, reason: 'not read (the GetMetricData call failed)' }] };
    const ids = heartbeatQueryIds(heartbeat, i);
    const read = (id: string) => ({ series: results.get(id)?.series ?? new Map<number, number>(), problem: readProblemOf(id, results.get(id)) });
    const beats = read(ids.beats);
    // Per version, the reference is the current version's own beats: none without a current version.
    const hasReference = heartbeat.versionDimension === undefined || window.versions.fromVersion !== undefined;
    const reference = hasReference ? (ids.reference === ids.beats ? beats : read(ids.reference)) : undefined;
    return {
      ...base,
      beats: beats.series,
      ...(reference ? { reference: reference.series } : {}),
      ...(beats.problem ? { problems: [beats.problem] } : {}),
      ...(reference?.problem && reference !== beats ? { referenceProblems: [reference.problem] } : {}),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Judging: the same function in the evaluator Lambda and the simulator.

/** What one heartbeat says at one tick; at most one field is set (none: beating). */
export interface HeartbeatJudgement {
  /** The new version stopped beating (or never started): it fails the bake. */
  readonly failure?: string;
  /** Not failed, not yet a pass: no beat since the release yet, or none in the latest interval. */
  readonly pending?: string;
  /** Silent, but nothing says the silence is the release's: no beat before the release either. */
  readonly starved?: string;
  /** The beats (or, to blame the release, the reference) could not be read: no evidence. */
  readonly unread?: readonly ReadProblem[];
}

/**
 * One heartbeat at one tick. The last `evaluationPeriods` whole intervals before `end` are looked
 * at; an interval without a datapoint is a missing beat (TreatMissingData breaching), except in
 * the grace after the release ({@link heartbeatGraceSeconds}) and before all traffic is on the new
 * version (`allTrafficAt`): an interval that starts before the later of the two never counts as
 * missing. `datapointsToAlarm` missing intervals fail the new version
 * — unless the reference did not beat once in the hour before the release either (a metric
 * without the version's dimension, or workers that were already silent: not the release's, and no
 * evidence either way). Until the new version beats after the release, and while its latest
 * interval is missing, it has not passed: the bake waits (up to its deadline, then inconclusive).
 */
export function judgeHeartbeat(data: HeartbeatBakeData): HeartbeatJudgement {
  const h = data.heartbeat;
  const name = `heartbeat ${h.name}`;
  if (data.problems && data.problems.length > 0) return { unread: data.problems.map((p) => ({ ...p, reason: `${name}: ${p.reason}` })) };
  const interval = h.intervalSeconds;
  const grace = heartbeatGraceSeconds(h);
  // An interval counts as missing only after the grace from the release and once all traffic is on
  // the new version: during a canary a worker that beats per request beats at the canary's share.
  const graceEnd = Math.max(data.releaseAt + grace, data.allTrafficAt ?? data.releaseAt);
  const countsFrom = missingCountsFrom(data, grace, graceEnd);
  const every = `intervals of ${formatSeconds(interval)}`;
  const whose = h.versionDimension === undefined ? 'the service' : 'the new version';
  // The last N whole intervals before `end`, newest first; those starting in the grace never count as missing.
  const missing: boolean[] = [];
  let judged = 0;
  for (let k = 1; k <= h.evaluationPeriods; k++) {
    const from = data.end - k * interval;
    if (from >= graceEnd) judged += 1;
    missing.push(from >= graceEnd && beatsIn(data.beats, from, from + interval) === 0);
  }
  const missed = missing.filter(Boolean).length;
  const sinceRelease = beatsIn(data.beats, data.releaseAt, data.end);
  if (missed >= h.datapointsToAlarm) {
    const silence =
      `no beat from ${whose} in ${missed} of its last ${h.evaluationPeriods} ${every} (${h.datapointsToAlarm} fail it), ` +
      `missing intervals counted from ${countsFrom}`;
    const ref = referenceSays(data);
    if ('unread' in ref) return { unread: ref.unread.map((p) => ({ ...p, reason: `${name}: ${silence}, but the beats before the release that would blame the release could not be read: ${p.reason}` })) };
    if (ref.beats === 0) {
      const before =
        ref.what === undefined
          ? 'there is no current version to compare with'
          : `${ref.what} did not beat in the hour before the release either` + (h.versionDimension === undefined ? '' : ` (is the beat published with the ${h.versionDimension} dimension?)`);
      return { starved: `${name}: ${silence}, but ${before}: nothing says the silence is the release's` };
    }
    return {
      failure:
        `${name}: ${whose} ${sinceRelease === 0 ? 'has not beaten once since the release' : 'stopped beating'} — ${silence}; ` +
        `${ref.what} beat ${formatNumber(ref.beats)} times in the hour before the release`,
    };
  }
  if (sinceRelease === 0) {
    return { pending: `${name}: no beat from ${whose} since the release yet (a missing beat counts from ${countsFrom})` };
  }
  // No interval after the grace and the full shift judged yet: nothing says the worker still beats
  // (a beat during a canary, or before a hang at the shift, is no evidence). RT349 guarantees the
  // grace, an interval and the metric delay fit before the deadline, so this always resolves.
  if (judged === 0) {
    return { pending: `${name}: no interval of ${formatSeconds(interval)} after the grace and the full traffic shift has been judged yet: waiting for one` };
  }
  if (missing[0]) {
    return { pending: `${name}: no beat from ${whose} in its latest interval of ${formatSeconds(interval)} (${missed} missing of the ${h.datapointsToAlarm} that fail it): waiting for the next beat` };
  }
  return {};
}

/**
 * When missing intervals start to count, as the judge computes it: the end of the grace after the
 * release, or the full traffic shift (the AfterAllowTraffic hook's start) when that is later.
 */
function missingCountsFrom(data: HeartbeatBakeData, grace: number, graceEnd: number): string {
  const afterGrace = `the end of the grace of ${formatSeconds(grace)} after the release`;
  if (data.allTrafficAt === undefined || graceEnd === data.releaseAt + grace) return afterGrace;
  return `the full traffic shift (AfterAllowTraffic) ${formatSeconds(data.allTrafficAt - data.releaseAt)} after the release, later than the grace of ${formatSeconds(grace)}`;
}

/** Datapoints (beats) in [from, to). */
function beatsIn(series: Series, from: number, to: number): number {
  let n = 0;
  for (const [t, value] of series) if (t >= from && t < to && value > 0) n += value;
  return n;
}

/** How often the reference beat in the hour before the release (`what` undefined: there is no reference), or why it cannot say. */
function referenceSays(data: HeartbeatBakeData): { beats: number; what?: string } | { unread: readonly ReadProblem[] } {
  const what = data.heartbeat.versionDimension === undefined ? 'the service' : 'the current version';
  if (data.referenceProblems && data.referenceProblems.length > 0) return { unread: data.referenceProblems };
  if (data.reference === undefined) return { beats: 0 };
  return { beats: beatsIn(data.reference, data.releaseAt - HISTORY_SECONDS, data.releaseAt), what };
}

// ---------------------------------------------------------------------------------------------
// The policy: a HeartbeatTrigger is a threshold-trigger entry with a `heartbeat` part.

/** The heartbeat triggers of a policy, by construct path. */
export function policyHeartbeats(policy: Pick<RollbackPolicy, 'thresholdTriggers'>): Array<PolicyThresholdTrigger & { readonly heartbeat: NonNullable<PolicyThresholdTrigger['heartbeat']> }> {
  return policy.thresholdTriggers.filter((t): t is PolicyThresholdTrigger & { heartbeat: NonNullable<PolicyThresholdTrigger['heartbeat']> } => t.heartbeat !== undefined);
}

/** A heartbeat trigger's entry as the evaluator judges it. */
export function heartbeatSpecOf(t: PolicyThresholdTrigger & { readonly heartbeat: NonNullable<PolicyThresholdTrigger['heartbeat']> }): HeartbeatSpec {
  return {
    name: t.name,
    intervalSeconds: t.periodSeconds,
    evaluationPeriods: t.evaluationPeriods,
    datapointsToAlarm: t.datapointsToAlarm,
    ...(t.heartbeat.versionDimension !== undefined ? { versionDimension: t.heartbeat.versionDimension } : {}),
  };
}

/**
 * Periods beyond EvaluationPeriods that CloudWatch retrieves, after the guide's example ("5 is the
 * evaluation range" for 3): the emulator's default (`DEFAULT_EXTRA_RANGE_PERIODS`), repeated here so
 * the plan does not load the emulator.
 */
const GUIDE_EXTRA_RANGE_PERIODS = 2;

/** A heartbeat in the plan. */
export interface PlanHeartbeat {
  readonly name: string;
  readonly path: string;
  readonly intervalSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly graceSeconds: number;
  readonly versionDimension?: string;
  /**
   * Seconds after the last beat until the alarm is in ALARM: with `breaching`, missing periods count
   * only to fill the N most recent real datapoints of the evaluation range, so the alarm needs
   * M + 2 missing periods with the guide's evaluation range (5 periods for N = 3), rounded up to
   * the next minute's evaluation, plus the ingestion delay.
   */
  readonly alarmAfterLastBeatSeconds: number;
  /** Rollback triggers whose evaluator judges it (given in their `alarmTriggers`). */
  readonly judgedBy: readonly string[];
  /** The evaluator: a new version that never beats fails this long after the release (grace, M intervals) when all traffic shifts within the grace, plus its metric delay. */
  readonly silentFromReleaseSeconds?: number;
  /** The evaluator: a new version that stops beating after the grace fails this long after its last beat, plus its metric delay. */
  readonly afterLastBeatSeconds?: number;
}

/** The heartbeats of a policy, with the detection times of both paths. */
export function planHeartbeats(policy: RollbackPolicy, ingestionDelaySeconds: number): PlanHeartbeat[] {
  return policyHeartbeats(policy).map((t) => {
    const spec = heartbeatSpecOf(t);
    const judgedBy = (policy.rollbackTriggers ?? []).filter((r) => (r.alarmTriggers ?? []).includes(t.path));
    return {
      name: t.name,
      path: t.path,
      intervalSeconds: t.periodSeconds,
      evaluationPeriods: t.evaluationPeriods,
      datapointsToAlarm: t.datapointsToAlarm,
      graceSeconds: t.heartbeat.graceSeconds,
      ...(spec.versionDimension !== undefined ? { versionDimension: spec.versionDimension } : {}),
      alarmAfterLastBeatSeconds: (t.datapointsToAlarm + GUIDE_EXTRA_RANGE_PERIODS) * t.periodSeconds + 60 + ingestionDelaySeconds,
      judgedBy: judgedBy.map((r) => r.name),
      // The evaluator waits its own metric delay (not in the policy), whatever the ingestion delay.
      ...(judgedBy.length > 0 ? { silentFromReleaseSeconds: heartbeatSilentDetectionSeconds(spec, 0), afterLastBeatSeconds: spec.intervalSeconds * spec.datapointsToAlarm } : {}),
    };
  });
}

/** The plan's lines for its heartbeats. */
export function renderHeartbeats(heartbeats: readonly PlanHeartbeat[] | undefined): string[] {
  const lines: string[] = [];
  for (const h of heartbeats ?? []) {
    lines.push('');
    lines.push(
      `Heartbeat ${h.name} (dead man's switch): a beat every ${formatSeconds(h.intervalSeconds)}; ${h.datapointsToAlarm} of ${h.evaluationPeriods} intervals without one fail ` +
        `(TreatMissingData breaching)${h.versionDimension !== undefined ? `; the evaluator reads each version's own beats (dimension ${h.versionDimension})` : ''}`,
    );
    lines.push(`  Alarm (${h.versionDimension !== undefined ? 'the metric as declared, all versions' : 'all versions'}): in ALARM about ${formatSeconds(h.alarmAfterLastBeatSeconds)} after the last beat, and at once when the metric has no data at all`);
    if (h.judgedBy.length === 0) {
      lines.push('  Evaluator: not judged (give the trigger to a RollbackTrigger in alarmTriggers)');
      continue;
    }
    lines.push(
      `  Evaluator (${h.judgedBy.join(', ')}): grace ${formatSeconds(h.graceSeconds)} after the release; a new version that never beats fails ${formatSeconds(h.silentFromReleaseSeconds!)} after the release ` +
        `(${formatSeconds(h.afterLastBeatSeconds!)} after the full traffic shift when that ends later than the grace), ` +
        `one that stops ${formatSeconds(h.afterLastBeatSeconds!)} after its last beat (each plus the evaluator's metric delay, 3 min by default)`,
    );
  }
  return lines;
}
