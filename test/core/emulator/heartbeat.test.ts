import { Duration } from 'aws-cdk-lib';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { describe, expect, it } from 'vitest';
import { HeartbeatTrigger, type HeartbeatTriggerProps } from '../../../lib';
import { POLICY_SCHEMA_VERSION, type PolicyThresholdTrigger, type RollbackPolicy, buildPlan } from '../../../lib/core';
import { type EmulationResult, type MetricPoint, emulate, rollingDatapoints } from '../../../lib/core/emulator';
import { newStack } from '../../helpers';

// A HeartbeatTrigger's alarm through the emulator: SampleCount < 1 per interval with
// TreatMissingData breaching. CloudWatch User Guide, "Configuring how CloudWatch alarms treat
// missing data" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html):
// `breaching` treats missing datapoints as "bad", but only as many as are needed to make up
// EvaluationPeriods among the most recent real datapoints of the evaluation range (the guide's
// table: `0 - - - -` is OK with breaching for 3 of 3; `- - - - -` is ALARM), so with the guide's
// evaluation range (N + 2 periods) the alarm fires after M + 2 missing periods, and at once on a
// metric without any data.

/** The trigger's policy entry, as the construct writes it. */
function entry(props: Partial<HeartbeatTriggerProps> = {}): PolicyThresholdTrigger {
  const t = new HeartbeatTrigger(newStack(), 'Worker', { metric: new Metric({ namespace: 'Workers', metricName: 'Heartbeat' }), ...props });
  return t._policy;
}

const policyOf = (t: PolicyThresholdTrigger): RollbackPolicy => ({ schemaVersion: POLICY_SCHEMA_VERSION, slos: [], thresholdTriggers: [t] });
const DEFAULT = entry();

/** One datapoint (SampleCount 1) in every minute of [from, to] where `beat(minute)`; no datapoint otherwise. */
function beats(from: number, to: number, beat: (minute: number) => boolean = () => true): MetricPoint[] {
  const points: MetricPoint[] = [];
  for (let m = from; m <= to; m++) if (beat(m)) points.push({ minute: m, value: 1 });
  return points;
}

/** Evaluated from minute 5, once the range (5 periods) holds the first beats: before them the metric has no data, which is ALARM. */
function run(t: PolicyThresholdTrigger, points: readonly MetricPoint[], fromMinute = 5, toMinute = 60): EmulationResult {
  return emulate({ policy: policyOf(t), sli: {}, metrics: { [t.path]: points } }, { fromMinute, toMinute });
}
const stateAt = (r: EmulationResult, t: PolicyThresholdTrigger, minute: number) => r.timeline.find((e) => e.minute === minute)!.states[t.path];
const firstAlarm = (r: EmulationResult) => r.summary.triggers[0].firstAlarmMinute;

describe('the emulator models a heartbeat\'s breaching missing data', () => {
  it('is the alarm the construct renders: SampleCount < 1, 3 of 3 one-minute periods, breaching', () => {
    expect(DEFAULT).toMatchObject({ comparison: 'LessThanThreshold', threshold: 1, periodSeconds: 60, evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: 'breaching' });
  });

  it('stays OK while the workers beat, and goes to ALARM once the whole evaluation range (3 + 2 minutes) has no beat', () => {
    // Beats in minutes 0–29, then none: the range at minute t holds minutes t − 5 … t − 1.
    const r = run(DEFAULT, beats(0, 29));
    for (let t = 5; t <= 34; t++) expect(stateAt(r, DEFAULT, t), `minute ${t}`).toBe('OK');
    expect(firstAlarm(r)).toBe(35);
    // As the plan says: about 6 minutes after the last beat (minute 29), with no ingestion delay.
    expect(buildPlan(policyOf(DEFAULT)).heartbeats![0].alarmAfterLastBeatSeconds).toBe((35 - 29) * 60);
  });

  it('the same silence with notBreaching never alarms: missing data is what fires a heartbeat', () => {
    const quiet = run({ ...DEFAULT, treatMissingData: 'notBreaching' }, beats(0, 29));
    expect(firstAlarm(quiet)).toBeNull();
    const missing = run({ ...DEFAULT, treatMissingData: 'missing' }, beats(0, 29));
    expect(stateAt(missing, DEFAULT, 40)).toBe('INSUFFICIENT_DATA');
  });

  it('a metric with no data at all is in ALARM at the first evaluation (an alarm already in ALARM blocks every deployment)', () => {
    const r = run(DEFAULT, [], 0, 10);
    expect(firstAlarm(r)).toBe(0);
    expect(stateAt(r, DEFAULT, 0)).toBe('ALARM');
  });

  it('a gap shorter than the range is tolerated, and the first beat that resumes brings it back to OK', () => {
    // Minutes 10–13 silent (4 < 5): stays OK. Minutes 20–26 silent: ALARM from minute 25.
    const r = run(DEFAULT, beats(0, 50, (m) => !(m >= 10 && m <= 13) && !(m >= 20 && m <= 26)));
    for (let t = 5; t <= 24; t++) expect(stateAt(r, DEFAULT, t), `minute ${t}`).toBe('OK');
    for (let t = 25; t <= 27; t++) expect(stateAt(r, DEFAULT, t), `minute ${t}`).toBe('ALARM');
    // Range 23–27 at minute 28: one real, non-breaching beat (27) and 2 breaching fills make up N = 3, fewer than M: OK.
    expect(stateAt(r, DEFAULT, 28)).toBe('OK');
  });

  it('2 of 3 fires one period earlier: M + 2 missing periods', () => {
    const t = entry({ datapointsToAlarm: 2 });
    expect(firstAlarm(run(t, beats(0, 29)))).toBe(34);
  });

  it('a 5-minute heartbeat on sliding 5-minute datapoints: ALARM after M + 2 missing 5-minute periods', () => {
    const t = entry({ interval: Duration.minutes(5), evaluationPeriods: 2 });
    // A beat every 5 minutes until minute 60; each minute's datapoint counts the beats of the 5 minutes ending with it.
    const points = rollingDatapoints(beats(0, 60, (m) => m % 5 === 0), 5, 'Sum');
    const r = run(t, points, 5, 120);
    for (let m = 5; m <= 80; m++) expect(stateAt(r, t, m), `minute ${m}`).not.toBe('ALARM');
    // The last datapoint with a beat is minute 64 (the period 60–64); the range at minute t reads the periods ending
    // t − 1, t − 6, t − 11 and t − 16: all missing from minute 81, (2 + 2) × 5 + 1 minutes after the last beat, as the plan says.
    expect(firstAlarm(r)).toBe(81);
    expect(buildPlan(policyOf(t)).heartbeats![0].alarmAfterLastBeatSeconds).toBe((81 - 60) * 60);
  });
});
