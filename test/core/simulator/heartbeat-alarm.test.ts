import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { LambdaDeploymentConfig } from 'aws-cdk-lib/aws-codedeploy';
import { describe, expect, it } from 'vitest';
import { HeartbeatTrigger, RollbackTarget, RollbackTrigger, ServiceLevelObjective, Sli } from '../../../lib';
import { POLICY_SCHEMA_VERSION, type RollbackPolicy, RollbackTriggersError, planHeartbeats, policyFromEntries } from '../../../lib/core';
import { compilePolicy } from '../../../lib/core/emulator';
import { type DeploymentShape, type SeriesEntry, type SimulationResult, simulate } from '../../../lib/core/simulator';
import { heartbeatAlarmsOf, heartbeatEmulatorInput } from '../../../lib/core/simulator/heartbeat-alarm';
import { lambdaCanaryGroup } from '../../helpers';
import { CANARY_10_FOR_10, canaryRelease } from './fixtures';

// The alarm path replays a HeartbeatTrigger's alarm (SampleCount < 1 per interval, M of N, missing
// data breaching) from the series' beats through the alarm emulator: it fires the minute CloudWatch
// would, and never on beats that only stopped before the release, or on the old version only.

/** A Lambda service released 10 % canary for 10 minutes with a 99.9 % SLO and a heartbeat given to its rollback trigger. */
function heartbeatService(options: { versionDimension?: string; interval?: Duration; evaluationPeriods?: number; datapointsToAlarm?: number } = {}) {
  const stack = new Stack(new App(), 'Svc');
  const { alias, group } = lambdaCanaryGroup(stack, { deploymentConfig: LambdaDeploymentConfig.CANARY_10PERCENT_10MINUTES });
  const slo = new ServiceLevelObjective(stack, 'Availability', { sli: Sli.lambdaAvailability(alias), objectivePercent: 99.9 });
  const worker = new HeartbeatTrigger(stack, 'Worker', {
    metric: new Metric({ namespace: 'Workers', metricName: 'Heartbeat', dimensionsMap: { Service: 'orders' } }),
    versionDimension: options.versionDimension,
    interval: options.interval,
    evaluationPeriods: options.evaluationPeriods,
    datapointsToAlarm: options.datapointsToAlarm,
  });
  new RollbackTrigger(stack, 'Rollback', { target: RollbackTarget.lambdaAlias({ deploymentGroup: group, alias }), objectives: [slo], alarmTriggers: [worker] });
  const entries = stack.node
    .findAll()
    .flatMap((c) => (ServiceLevelObjective.isServiceLevelObjective(c) || c instanceof HeartbeatTrigger || c instanceof RollbackTrigger ? [c._policy] : []))
    .map((entry) => ({ schemaVersion: POLICY_SCHEMA_VERSION, entry }));
  return { stack, worker, policy: policyFromEntries(entries, 'Svc') };
}

const perVersion = heartbeatService({ versionDimension: 'Version' });
const declared = heartbeatService();

type Beats = (minute: number) => boolean;

/**
 * A clean 10 % canary release at minute 0 (400 minutes of history) whose versions beat as `next`
 * (the new version, from the release) and `current` (the old one) say. A Lambda worker beating per
 * invocation: the old version's beats stop when all traffic shifts (minute 10) unless `current` says otherwise.
 */
function withBeats(next: Beats, current: Beats = (m) => m < 10, options: { until?: number; from?: number } = {}): SeriesEntry[] {
  return canaryRelease({ canaryErrors: () => 0, until: options.until ?? 40 })
    .filter((e) => e.minute >= (options.from ?? -Infinity))
    .map((e) => {
      const canary = e.minute >= 0 && next(e.minute);
      const stable = current(e.minute);
      // A minute without a value had no beat: the series names the heartbeat every minute all the same.
      return { ...e, heartbeats: { Worker: { ...(canary ? { canary: 1 } : {}), ...(stable ? { stable: 1 } : {}) } } };
    });
}

function run(series: readonly SeriesEntry[], policy: RollbackPolicy = perVersion.policy, more: { deployment?: DeploymentShape; ingestionDelayMinutes?: number } = {}): SimulationResult {
  return simulate({ policy, series, releaseMinute: 0, deployment: more.deployment ?? CANARY_10_FOR_10, ingestionDelayMinutes: more.ingestionDelayMinutes });
}

const alarmPathOf = (r: SimulationResult) => r.paths.find((p) => p.path === 'alarm')!;
const evaluatorOf = (r: SimulationResult) => r.paths.find((p) => p.path === 'evaluator')!;

/** The minute the alarm fires after the last beat, by the plan's reading of the CloudWatch guide: M + 2 missing periods, then the next evaluation. */
function planFires(policy: RollbackPolicy, lastBeatMinute: number): number {
  const [plan] = planHeartbeats(policy, 0);
  return lastBeatMinute + plan.alarmAfterLastBeatSeconds / 60;
}

describe('the heartbeat alarm on the alarm path', () => {
  it('rolls back at the minute CloudWatch fires: the new version stops beating after the shift, 3 of 3 one-minute periods with the evaluation range of 5', () => {
    // The old version beats until all traffic shifts (minute 10), the new one until minute 11: the service's last beat is minute 11.
    const result = run(withBeats((m) => m < 12));
    const alarm = alarmPathOf(result);
    // Keys 12–16 all missing at minute 17: no real datapoint in the range, missing data breaching → ALARM.
    expect(alarm).toMatchObject({ verdict: 'fail', rollback: true, minute: 17, detectionMinutes: 17, source: 'Svc/Worker' });
    expect(alarm.minute).toBe(planFires(perVersion.policy, 11));
    expect(alarm.reasons[0]).toBe(
      'heartbeat alarm Svc/Worker in ALARM at minute 17 on the beats of all versions (the metric as declared, without the Version dimension the evaluator reads): ' +
        'SampleCount < 1 in 3 of 3 periods of 1 min, TreatMissingData breaching; its evaluation range, oldest first — ' +
        'minute 12: missing, minute 13: missing, minute 14: missing, minute 15: missing, minute 16: missing; the last beat at minute 11',
    );
    // The evaluator judges the new version's own beats (silent from 12) and fails at 18: the alarm came first.
    expect(evaluatorOf(result)).toMatchObject({ verdict: 'fail', minute: 18, source: 'heartbeat Worker' });
    expect(result.outcome).toMatchObject({ path: 'alarm', minute: 17, rollback: true, source: 'Svc/Worker' });
  });

  it('one beat more moves it a minute; an ingestion delay does not: a period without a beat is missing whether its data is late or absent', () => {
    expect(alarmPathOf(run(withBeats((m) => m < 13))).minute).toBe(18);
    const late = alarmPathOf(run(withBeats((m) => m < 12), perVersion.policy, { ingestionDelayMinutes: 2 }));
    expect(late.minute).toBe(17);
    expect(late.reasons[0]).toMatch(/minute 15: missing, minute 16: missing; the last beat at minute 11; data visible through minute 14 \(ingestion delay 2 min\)$/);
    // Late beats are not yet real datapoints: at minute 16 only minute 11's beat is visible, 1 real of the 3 needed.
    expect(alarmPathOf(run(withBeats((m) => m < 13), perVersion.policy, { ingestionDelayMinutes: 2 })).minute).toBe(18);
  });

  it('does not fire while the service keeps beating, and says so', () => {
    const result = run(withBeats(() => true));
    const alarm = alarmPathOf(result);
    expect(alarm).toMatchObject({ verdict: 'none', rollback: false });
    expect(alarm.reasons).toContain(
      'heartbeat alarm Svc/Worker (SampleCount < 1 in 3 of 3 periods of 1 min, TreatMissingData breaching) stayed out of ALARM from minute 0 to minute 23 ' +
        'on the beats of all versions (the metric as declared, without the Version dimension the evaluator reads): 34 beats in those minutes',
    );
    expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass', rollback: false });
    // Paging replays the SLOs' alarms only; it no longer claims the series has no datapoints for the heartbeat.
    const paging = result.paths.find((p) => p.path === 'paging')!;
    expect(paging.reasons).toContain('the heartbeat alarm(s) Worker page too and were not replayed here: the alarm path replays those the rollback trigger polls');
    expect(paging.reasons.some((r) => r.includes('threshold trigger(s)'))).toBe(false);
  });

  it('does not roll back on beats that were missing only before the release; missing up to the release, it does (already in ALARM)', () => {
    // Silent from minute −60 to −31: the alarm was in ALARM then and back to OK long before the release.
    const earlier = run(withBeats(() => true, (m) => m < 10 && !(m >= -60 && m <= -31)));
    expect(alarmPathOf(earlier)).toMatchObject({ verdict: 'none', rollback: false });
    expect(earlier.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass' });
    // The same silence ending at the release: CodeDeploy stops a deployment whose alarm is in ALARM as it starts.
    const upToRelease = run(withBeats(() => true, (m) => m < 10 && !(m >= -6 && m <= -1)));
    expect(alarmPathOf(upToRelease)).toMatchObject({ verdict: 'fail', rollback: true, minute: 0 });
    expect(alarmPathOf(upToRelease).reasons).toContain('already in ALARM when the deployment started: CodeDeploy stops a deployment whose alarm is in ALARM at once');
  });

  it('per version: the old version falling silent does not roll back, as the new version keeps the service beating', () => {
    // The old version's workers hang at minute 2, during the canary; the new version beats throughout.
    const result = run(withBeats(() => true, (m) => m < 2));
    expect(alarmPathOf(result)).toMatchObject({ verdict: 'none', rollback: false });
    expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass', rollback: false });
  });

  it('watches all versions together whatever the version dimension: a new version silent beside a beating old one is the evaluator\'s to catch', () => {
    // The old version keeps beating (its workers do not depend on traffic): the alarm sees beats, the evaluator the new version's silence.
    const result = run(withBeats((m) => m < 12, () => true));
    expect(alarmPathOf(result)).toMatchObject({ verdict: 'none', rollback: false });
    expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'fail', minute: 18, source: 'heartbeat Worker' });
  });

  it('a heartbeat without a version dimension fires the same way on the series\' blended beats', () => {
    const series = withBeats(() => true).map((e) => ({ ...e, heartbeats: { Worker: e.minute < 12 ? { blended: 3 } : {} } }));
    const alarm = alarmPathOf(run(series, declared.policy));
    expect(alarm).toMatchObject({ rollback: true, minute: 17 });
    expect(alarm.reasons[0]).toMatch(/^heartbeat alarm Svc\/Worker in ALARM at minute 17 on the beats of all versions \(the metric as declared\): /);
  });

  it('a 5-minute interval, 2 of 4: each datapoint is the beats of the 5 minutes it ends, and the alarm fires 21 minutes after the last beat', () => {
    const five = heartbeatService({ versionDimension: 'Version', interval: Duration.minutes(5), evaluationPeriods: 4, datapointsToAlarm: 2 });
    // A bake long enough for the alarm to fire during the deployment; the new version never beats, the old one until the shift.
    const result = run(withBeats(() => false, (m) => m < 10, { until: 60 }), five.policy, { deployment: { ...CANARY_10_FOR_10, bakeMinutes: 30 } });
    const alarm = alarmPathOf(result);
    // At minute 30 the six periods end at minutes 4, 9, 14, 19, 24, 29: two with beats (fewer than N = 4), so 2 missing ones fill in, breaching.
    expect(alarm).toMatchObject({ rollback: true, minute: 30 });
    expect(alarm.minute).toBe(planFires(five.policy, 9));
    expect(alarm.reasons[0]).toContain('its evaluation range, oldest first — minutes 0–4: 5 beats, minutes 5–9: 5 beats, minutes 10–14: missing, minutes 15–19: missing, minutes 20–24: missing, minutes 25–29: missing');
  });

  it('judges only minutes whose evaluation range the series holds: a series starting 2 minutes before the release does not alarm on the minutes before it', () => {
    const result = run(withBeats(() => true, undefined, { from: -2 }));
    const alarm = alarmPathOf(result);
    expect(alarm).toMatchObject({ verdict: 'none', rollback: false });
    expect(alarm.reasons).toContain(
      'heartbeat alarm Svc/Worker (SampleCount < 1 in 3 of 3 periods of 1 min, TreatMissingData breaching): the series starts at minute -2, and the evaluation range of 5 periods ' +
        'reaches before it until minute 3: the alarm was judged from then on (start the series earlier to judge it from the release)',
    );
  });

  it('a series that ends during the deployment: its end is not a silence', () => {
    const alarm = alarmPathOf(run(withBeats(() => true, undefined, { until: 15 })));
    expect(alarm).toMatchObject({ verdict: 'none', rollback: false });
    expect(alarm.reasons).toContain(
      'heartbeat alarm Svc/Worker (SampleCount < 1 in 3 of 3 periods of 1 min, TreatMissingData breaching): the series ends at minute 15, so the alarm was judged through minute 16, ' +
        'before the end of the deployment (minute 23): later beats are unknown',
    );
  });

  it('is not replayed when the series has no beats for it, and the other alarm triggers\' note no longer names it', () => {
    const alarm = alarmPathOf(run(canaryRelease({ canaryErrors: () => 0 })));
    expect(alarm).toMatchObject({ verdict: 'none', rollback: false });
    expect(alarm.reasons).toContain(
      'the alarm of heartbeat Worker (Svc/Worker) was not replayed: the series has no heartbeats values for it — give its beats per minute ' +
        '(JSON "heartbeats": { "Worker": { "blended": 1 } }, or "canary" and "stable", which the alarm adds up; a minute without one had no beat)',
    );
    expect(alarm.reasons.some((r) => r.includes('alarm trigger(s)'))).toBe(false);
  });

  it('refuses a hand-written heartbeat whose period is not whole minutes (RT726): beats per minute cannot be split', () => {
    const policy: RollbackPolicy = { ...perVersion.policy, thresholdTriggers: perVersion.policy.thresholdTriggers.map((t) => ({ ...t, periodSeconds: 30 })) };
    expect(() => run(withBeats(() => true), policy)).toThrow(RollbackTriggersError);
    expect(() => run(withBeats(() => true), policy)).toThrow(/\[RT726\] heartbeat Svc\/Worker has periodSeconds 30: its alarm cannot be replayed from a series of beats per minute/);
  });
});

describe('the replayed heartbeat alarm agrees with the synthesized template', () => {
  it.each([
    ['1 min, 3 of 3, per version', perVersion],
    ['5 min, 2 of 4, per version', heartbeatService({ versionDimension: 'Version', interval: Duration.minutes(5), evaluationPeriods: 4, datapointsToAlarm: 2 })],
    ['2 min, 2 of 3, all versions', heartbeatService({ interval: Duration.minutes(2), evaluationPeriods: 3, datapointsToAlarm: 2 })],
  ])('%s: the alarm CodeDeploy polls is the one the emulator evaluates', (_, service) => {
    const template = Template.fromStack(service.stack);
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    const logicalId = service.stack.getLogicalId(service.worker.alarm.node.defaultChild as never);
    const props = alarms[logicalId].Properties;
    // The deployment group polls it.
    const [group] = Object.values(template.findResources('AWS::CodeDeploy::DeploymentGroup'));
    expect(group.Properties.AlarmConfiguration.Alarms).toContainEqual({ Name: { Ref: logicalId } });

    const trigger = service.policy.rollbackTriggers![0];
    const { alarms: replayed } = heartbeatAlarmsOf(service.policy, trigger, withBeats(() => true), 0);
    const input = heartbeatEmulatorInput(replayed);
    const [model] = compilePolicy(input.policy).triggers;
    expect(model.id).toBe(service.worker.node.path);
    expect({
      Period: model.periodMinutes * 60,
      Threshold: model.threshold,
      ComparisonOperator: model.comparison,
      EvaluationPeriods: model.evaluationPeriods,
      DatapointsToAlarm: model.datapointsToAlarm,
      TreatMissingData: model.treatMissingData,
    }).toEqual({
      Period: props.Period,
      Threshold: props.Threshold,
      ComparisonOperator: props.ComparisonOperator,
      EvaluationPeriods: props.EvaluationPeriods,
      DatapointsToAlarm: props.DatapointsToAlarm,
      TreatMissingData: props.TreatMissingData,
    });
    // The datapoints are beat counts (SampleCount) of the metric as declared: the alarm's dimensions never carry the version.
    expect(props.Statistic).toBe('SampleCount');
    expect(props.Dimensions).toEqual([{ Name: 'Service', Value: 'orders' }]);
    const p = model.periodMinutes;
    // Minute 20: only the new version beats (1 a minute), so each period's SampleCount is p.
    expect(input.metrics![model.id].find((d) => d.minute === 20)).toEqual({ minute: 20, value: p });
  });
});
