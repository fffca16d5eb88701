import { DEFAULT_EXTRA_RANGE_PERIODS, type EmulationResult, type EmulatorInput, type EmulatorOptions, type MetricPoint, emulate, rollingDatapoints } from '../emulator';
import { RollbackTriggersError, formatNumber, formatSeconds } from '../errors';
import { policyHeartbeats } from '../heartbeat';
import { POLICY_SCHEMA_VERSION, type PolicyRollbackTrigger, type PolicyThresholdTrigger, type RollbackPolicy } from '../policy';
import { alarmEvaluationIntervalSeconds } from '../slo-math';
import { declaredBeats } from './heartbeat-replay';
import type { SeriesEntry } from './types';

/**
 * The alarm path's heartbeats: the alarm of each `HeartbeatTrigger` in the rollback trigger's
 * `alarmTriggers`, which the deployment group polls like the SLO alarms, replayed by the alarm
 * emulator (`emulate`, its M-of-N threshold-trigger evaluation) exactly as the policy entry
 * describes it: period = the interval, `SampleCount < 1`, `evaluationPeriods` / `datapointsToAlarm`,
 * `TreatMissingData: breaching`.
 *
 * The alarm watches the metric as declared, without the `versionDimension` (HeartbeatTrigger
 * renders `metric.with({ statistic: 'SampleCount', period })`; the workers publish each beat under
 * both dimension sets): its datapoints are the beats of all versions together, the series'
 * `blended` beats (default `canary` + `stable`), with or without a version dimension. Only the
 * evaluator reads the new version's own beats.
 *
 * Datapoints: a period's SampleCount is the number of beats in it, so the datapoint of the period
 * ending with minute m is the sum of the beats of minutes m − p + 1 … m (`rollingDatapoints`, one per
 * minute, as CloudWatch evaluates a period of a minute or more every minute on a sliding window). A
 * period without a beat has no datapoint at all — CloudWatch has no SampleCount datapoint for a
 * period nothing was published in — so the alarm's TreatMissingData applies to it, not a zero.
 * Only whole-minute intervals are replayed: the series counts beats per minute and cannot say which
 * part of a minute they fell in, so a 10-, 20- or 30-second period is refused (RT726) rather than
 * guessed (a HeartbeatTrigger's interval is whole minutes, RT226: only a hand-written policy has one).
 *
 * A series is finite: before its first minute and after its last the beats are unknown, not
 * silent. With missing data breaching, an evaluation range that reaches outside the series would
 * read as silence and alarm; so the alarm is judged only at the minutes whose evaluation range
 * (N + {@link DEFAULT_EXTRA_RANGE_PERIODS} periods, the emulator's) lies in the series, with the
 * ingestion delay, and the reasons say when that cuts the deployment short.
 */
export interface HeartbeatAlarmModel {
  /** The HeartbeatTrigger's policy entry: the alarm as synthesized. The emulator keys it by its path. */
  readonly entry: PolicyThresholdTrigger & { readonly heartbeat: NonNullable<PolicyThresholdTrigger['heartbeat']> };
  /** The period (the interval) in minutes. */
  readonly periodMinutes: number;
  /** Beats per minute of all versions together, minutes with at least one beat. */
  readonly beats: ReadonlyMap<number, number>;
  /** The alarm's datapoints: the SampleCount of the period ending at each minute; a minute without one had no beat in its period. */
  readonly datapoints: readonly MetricPoint[];
  /** Minutes between two evaluations: 1, or 60 when period × evaluation periods exceeds one day. */
  readonly evaluationIntervalMinutes: number;
  /** First minute whose evaluation range starts at or after the series' first minute. */
  readonly judgedFrom: number;
  /** Last minute whose visible data ends at or before the series' last minute. */
  readonly judgedTo: number;
}

export interface HeartbeatAlarms {
  readonly alarms: readonly HeartbeatAlarmModel[];
  /** Construct paths of the trigger's alarm triggers that are heartbeats (replayed or noted). */
  readonly heartbeatPaths: ReadonlySet<string>;
  /** Heartbeat alarms not replayed, and why. */
  readonly notes: readonly string[];
}

/** The heartbeat alarms of the rollback trigger, with their datapoints from the series. */
export function heartbeatAlarmsOf(policy: RollbackPolicy, trigger: PolicyRollbackTrigger, series: readonly SeriesEntry[], delay: number): HeartbeatAlarms {
  const paths = new Set(trigger.alarmTriggers ?? []);
  const entries = policyHeartbeats(policy).filter((t) => paths.has(t.path));
  const inSeries = new Set(series.flatMap((e) => Object.keys(e.heartbeats ?? {})));
  const firstMinute = series[0].minute;
  const lastMinute = series[series.length - 1].minute;
  const alarms: HeartbeatAlarmModel[] = [];
  const notes: string[] = [];
  for (const entry of entries) {
    if (!inSeries.has(entry.name)) {
      // A series that does not model heartbeats would read as a silent service: every release rolled back.
      notes.push(
        `the alarm of heartbeat ${entry.name} (${entry.path}) was not replayed: the series has no heartbeats values for it — give its beats per minute ` +
          `(JSON "heartbeats": { "${entry.name}": { "blended": 1 } }, or "canary" and "stable", which the alarm adds up; a minute without one had no beat)`,
      );
      continue;
    }
    // Only a heartbeat the series replays needs a period it can replay (a note above otherwise).
    const periodMinutes = replayablePeriod(entry);
    const beats = new Map<number, number>();
    for (const e of series) {
      const minute = e.heartbeats?.[entry.name];
      const value = minute === undefined ? undefined : declaredBeats(minute);
      if (value !== undefined && value > 0) beats.set(e.minute, value);
    }
    const perMinute = [...beats].map(([minute, value]) => ({ minute, value }));
    const evaluationIntervalMinutes = alarmEvaluationIntervalSeconds(entry.periodSeconds, entry.evaluationPeriods) / 60;
    // The oldest minute an evaluation at `at` reads: at − (N + extra) × p.
    const reach = (entry.evaluationPeriods + DEFAULT_EXTRA_RANGE_PERIODS) * periodMinutes;
    const earliest = firstMinute + reach;
    alarms.push({
      entry,
      periodMinutes,
      beats,
      datapoints: rollingDatapoints(perMinute, periodMinutes, 'Sum'),
      evaluationIntervalMinutes,
      judgedFrom: Math.ceil(earliest / evaluationIntervalMinutes) * evaluationIntervalMinutes,
      judgedTo: lastMinute + delay + 1,
    });
  }
  return { alarms, heartbeatPaths: new Set(entries.map((e) => e.path)), notes };
}

/** The heartbeat's period in whole minutes, or RT726: beats per minute cannot be split into shorter periods. */
function replayablePeriod(entry: PolicyThresholdTrigger): number {
  const seconds = entry.periodSeconds;
  if (!(Number.isInteger(seconds) && seconds >= 60 && seconds % 60 === 0)) {
    throw new RollbackTriggersError(
      'RT726',
      `heartbeat ${entry.path} has periodSeconds ${String(seconds)}: its alarm cannot be replayed from a series of beats per minute, which does not say in which part of a minute ` +
        'a beat fell — use an interval of whole minutes (a HeartbeatTrigger\'s interval always is)',
    );
  }
  return seconds / 60;
}

/** What the emulator is given: the heartbeats' policy entries as its threshold triggers (its M-of-N alarms), their datapoints by path. */
export function heartbeatEmulatorInput(alarms: readonly HeartbeatAlarmModel[]): EmulatorInput {
  return {
    policy: { schemaVersion: POLICY_SCHEMA_VERSION, slos: [], thresholdTriggers: alarms.map((a) => a.entry) },
    sli: {},
    metrics: Object.fromEntries(alarms.map((a) => [a.entry.path, a.datapoints])),
  };
}

/** The heartbeat alarms through the emulator, or undefined when there is none. */
export function emulateHeartbeatAlarms(alarms: readonly HeartbeatAlarmModel[], options: EmulatorOptions): EmulationResult | undefined {
  return alarms.length === 0 ? undefined : emulate(heartbeatEmulatorInput(alarms), options);
}

/** The alarm's state at minute t, when the series holds its whole evaluation range. */
export function heartbeatStateAt(result: EmulationResult, a: HeartbeatAlarmModel, t: number): string | undefined {
  if (t < a.judgedFrom || t > a.judgedTo) return undefined;
  return result.timeline[t - result.fromMinute]?.states[a.entry.path];
}

/** What the alarm reads: the metric as declared, all versions' beats. */
function watched(a: HeartbeatAlarmModel): string {
  const dimension = a.entry.heartbeat.versionDimension;
  return dimension === undefined
    ? 'the beats of all versions (the metric as declared)'
    : `the beats of all versions (the metric as declared, without the ${dimension} dimension the evaluator reads)`;
}

/** The alarm's rule, as synthesized. */
function rule(a: HeartbeatAlarmModel): string {
  const e = a.entry;
  return `SampleCount < ${formatNumber(e.threshold)} in ${e.datapointsToAlarm} of ${e.evaluationPeriods} periods of ${formatSeconds(e.periodSeconds)}, TreatMissingData ${e.treatMissingData}`;
}

const minutes = (from: number, to: number) => (from === to ? `minute ${from}` : `minutes ${from}–${to}`);

/**
 * The numbers behind a heartbeat alarm in ALARM at minute t: the datapoints of the evaluation
 * range CloudWatch read (oldest first, as the emulator reads them), and the last beat it had seen.
 */
export function describeHeartbeatAlarm(a: HeartbeatAlarmModel, t: number, delay: number): string {
  const p = a.periodMinutes;
  // An alarm evaluated hourly holds the state of its latest evaluation (the emulator's top of the hour).
  const at = a.evaluationIntervalMinutes > 1 ? t - (((t % a.evaluationIntervalMinutes) + a.evaluationIntervalMinutes) % a.evaluationIntervalMinutes) : t;
  const visibleTo = at - delay - 1;
  const byMinute = new Map(a.datapoints.map((d) => [d.minute, d.value]));
  const range: string[] = [];
  for (let j = a.entry.evaluationPeriods + DEFAULT_EXTRA_RANGE_PERIODS - 1; j >= 0; j--) {
    const key = at - 1 - j * p;
    const value = key <= visibleTo ? byMinute.get(key) : undefined;
    range.push(`${minutes(key - p + 1, key)}: ${value === undefined ? 'missing' : `${formatNumber(value)} beat${value === 1 ? '' : 's'}`}`);
  }
  const last = [...a.beats.keys()].filter((m) => m <= visibleTo).pop();
  return (
    `heartbeat alarm ${a.entry.path} in ALARM at minute ${t} on ${watched(a)}: ${rule(a)}; ` +
    `its evaluation range${at !== t ? ` at minute ${at}` : ''}, oldest first — ${range.join(', ')}; ` +
    (last === undefined ? 'no beat in the series before' : `the last beat at minute ${last}`) +
    (delay > 0 ? `; data visible through minute ${visibleTo} (ingestion delay ${delay} min)` : '')
  );
}

/** Why a heartbeat alarm did not roll the deployment back: its beats, the minutes it could be judged, a late ALARM. */
export function quietHeartbeatReasons(result: EmulationResult, a: HeartbeatAlarmModel, release: number, end: number, lastMinute: number): string[] {
  const last = Math.floor(end);
  const from = Math.max(release, a.judgedFrom);
  const to = Math.min(last, a.judgedTo);
  const what = `heartbeat alarm ${a.entry.path} (${rule(a)})`;
  if (from > to) {
    const why =
      a.judgedFrom > last
        ? `its evaluation range of ${a.entry.evaluationPeriods + DEFAULT_EXTRA_RANGE_PERIODS} periods reaches before the series' first minute until minute ${a.judgedFrom}, after the deployment`
        : `the series ends at minute ${lastMinute}, before the release`;
    return [`${what} could not be judged from the release (minute ${release}) to the end of the deployment (minute ${fmtMinute(end)}): ${why} — the beats outside a series are unknown, not missing`];
  }
  let beats = 0;
  for (const [m, v] of a.beats) if (m >= from && m <= to) beats += v;
  const reasons = [`${what} stayed out of ALARM from minute ${from} to minute ${to} on ${watched(a)}: ${formatNumber(beats)} beat${beats === 1 ? '' : 's'} in those minutes`];
  if (from > release) {
    reasons.push(
      `${what}: the series starts at minute ${result.fromMinute}, and the evaluation range of ${a.entry.evaluationPeriods + DEFAULT_EXTRA_RANGE_PERIODS} periods ` +
        `reaches before it until minute ${a.judgedFrom}: the alarm was judged from then on (start the series earlier to judge it from the release)`,
    );
  }
  if (to < last) {
    reasons.push(`${what}: the series ends at minute ${lastMinute}, so the alarm was judged through minute ${to}, before the end of the deployment (minute ${fmtMinute(end)}): later beats are unknown`);
  }
  const late = result.timeline.find((e) => e.minute > last && e.minute <= a.judgedTo && e.states[a.entry.path] === 'ALARM');
  if (late) reasons.push(`${what} went into ALARM at minute ${late.minute}, after the deployment ended: CodeDeploy no longer polls alarms once a deployment is over`);
  return reasons;
}

const fmtMinute = (m: number) => formatNumber(Number(m.toFixed(3)));
