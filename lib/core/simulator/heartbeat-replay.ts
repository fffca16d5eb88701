import { type HeartbeatSpec, heartbeatQueryIds, heartbeatSpecOf, policyHeartbeats } from '../heartbeat';
import type { QueryResult, Series } from '../metric-queries';
import type { PolicyRollbackTrigger, RollbackPolicy } from '../policy';
import type { HeartbeatMinute, SeriesEntry } from './types';

/**
 * The rollback trigger's heartbeats as the evaluator replay judges them: the series' beats turned
 * into the GetMetricData results the step Lambda would read (core's query ids, every one
 * Complete), so `heartbeatBakeData` and `decideBake` run on them exactly as in the Lambda.
 */
export interface HeartbeatReplay {
  /** The heartbeats replayed, in query-index order. */
  readonly specs: readonly HeartbeatSpec[];
  readonly results: ReadonlyMap<string, QueryResult>;
  /** Names of every heartbeat the evaluator judges (replayed or not), for the decision's source. */
  readonly names: readonly string[];
  /** Heartbeats not replayed, and series values no heartbeat reads. */
  readonly notes: readonly string[];
}

/**
 * The trigger's heartbeats (`HeartbeatTrigger`s in its `alarmTriggers`, found in the policy's
 * threshold triggers by path) with their beats from minutes `fromMinute` … `toMinute`. A heartbeat
 * the series never names is not replayed (a series that does not model heartbeats would otherwise
 * read as a silent release), and the notes say so.
 */
export function heartbeatReplayOf(
  policy: RollbackPolicy,
  trigger: PolicyRollbackTrigger | undefined,
  series: readonly SeriesEntry[],
  fromMinute: number,
  toMinute: number,
): HeartbeatReplay {
  const paths = new Set(trigger?.alarmTriggers ?? []);
  const judged = policyHeartbeats(policy).filter((t) => paths.has(t.path));
  const inSeries = new Set(series.flatMap((e) => Object.keys(e.heartbeats ?? {})));
  const specs: HeartbeatSpec[] = [];
  const results = new Map<string, QueryResult>();
  const notes: string[] = [];
  for (const t of judged) {
    const spec = heartbeatSpecOf(t);
    if (!inSeries.has(spec.name)) {
      notes.push(
        `heartbeat ${spec.name} was not replayed: the series has no heartbeats values for it — give its beats per minute ` +
          `(JSON "heartbeats": { "${spec.name}": { ${spec.versionDimension !== undefined ? '"canary": 1, "stable": 1' : '"blended": 1'} } }; a minute without one had no beat)`,
      );
      continue;
    }
    const ids = heartbeatQueryIds(spec, specs.length);
    const stream = (pick: (m: HeartbeatMinute) => number | undefined): QueryResult => ({ status: 'Complete', series: beatsOf(series, spec.name, pick, fromMinute, toMinute) });
    if (spec.versionDimension === undefined) {
      results.set(ids.beats, stream(declaredBeats));
    } else {
      results.set(ids.beats, stream((m) => m.canary));
      results.set(ids.reference, stream((m) => m.stable));
    }
    specs.push(spec);
  }
  const known = new Set(judged.map((t) => t.name));
  const unread = [...inSeries].filter((name) => !known.has(name));
  if (unread.length > 0) {
    notes.push(`the series has heartbeats values for ${unread.join(', ')}, which no HeartbeatTrigger in the rollback trigger's alarmTriggers reads: not replayed`);
  }
  return { specs, results, names: judged.map((t) => t.name), notes };
}

/** The beats of the metric as declared (all versions together): `blended`, else `canary` + `stable`; undefined when the minute names none. */
export function declaredBeats(m: HeartbeatMinute): number | undefined {
  return m.blended ?? (m.canary === undefined && m.stable === undefined ? undefined : (m.canary ?? 0) + (m.stable ?? 0));
}

/** One stream of one heartbeat: minute start (epoch seconds on the series' clock) → beats; minutes without a beat have no datapoint. */
function beatsOf(series: readonly SeriesEntry[], name: string, pick: (m: HeartbeatMinute) => number | undefined, fromMinute: number, toMinute: number): Series {
  const beats = new Map<number, number>();
  for (const entry of series) {
    if (entry.minute < fromMinute || entry.minute > toMinute) continue;
    const minute = entry.heartbeats?.[name];
    const value = minute === undefined ? undefined : pick(minute);
    // CloudWatch has no SampleCount datapoint for a minute nothing was published in.
    if (value !== undefined && value > 0) beats.set(entry.minute * 60, value);
  }
  return beats;
}
