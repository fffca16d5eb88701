import { App, Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { AlertSeverity, HeartbeatTrigger, type HeartbeatTriggerProps, RollbackPlan } from '../../lib';
import { readPolicies } from '../../lib/cli/assembly';
import { EvaluatorEnv, buildPlan, parseEvaluatorConfig, renderPlan } from '../../lib/core';
import { expectRtError } from '../core/helpers';
import { lambdaCanary, newStack } from '../helpers';
import { build, refusal } from '../rollback/trigger-fixtures';

/** Workers publish `Heartbeat` under { Service } and { Service, Version } (one EMF line, two dimension sets). */
const heartbeatMetric = () => new Metric({ namespace: 'Workers', metricName: 'Heartbeat', dimensionsMap: { Service: 'orders' } });

function heartbeat(props: Partial<HeartbeatTriggerProps> = {}, stack: Stack = newStack()) {
  const trigger = new HeartbeatTrigger(stack, 'Worker', { metric: heartbeatMetric(), ...props });
  return { stack, trigger };
}

/** The evaluator's configuration as the Lambda reads it, checked by the evaluator's own parser. */
function evaluatorConfig(stack: Stack) {
  const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).find((r) => r.Properties.Environment?.Variables?.[EvaluatorEnv.CONFIG]);
  const value = fn!.Properties.Environment.Variables[EvaluatorEnv.CONFIG];
  const text = typeof value === 'string' ? value : value['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : `<${JSON.stringify(p).replace(/"/g, "'")}>`)).join('');
  return parseEvaluatorConfig(text);
}

describe('HeartbeatTrigger', () => {
  it('is a dead man\'s switch: SampleCount < 1 in 3 of 3 one-minute periods, missing data breaching', () => {
    const { stack, trigger } = heartbeat();
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Workers',
      MetricName: 'Heartbeat',
      Dimensions: [{ Name: 'Service', Value: 'orders' }],
      Statistic: 'SampleCount',
      Period: 60,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      TreatMissingData: 'breaching',
      AlarmDescription: "Heartbeat TestStack/Worker: no beat (SampleCount < 1) in 3 of 3 intervals of 1 min; missing data is breaching (a dead man's switch).",
    });
    expect(trigger.severity).toBe(AlertSeverity.PAGE);
    expect(trigger.interval.toSeconds()).toBe(60);
    expect(trigger.grace.toSeconds()).toBe(180);
    expect(trigger._policy).toEqual({
      kind: 'threshold',
      name: 'Worker',
      path: 'TestStack/Worker',
      comparison: 'LessThanThreshold',
      threshold: 1,
      periodSeconds: 60,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: 'breaching',
      metricCount: 1,
      highResolution: false,
      severity: 'page',
      heartbeat: { graceSeconds: 180 },
    });
  });

  it('takes the interval as the period and M of N as given; the grace is interval × datapointsToAlarm', () => {
    const { stack, trigger } = heartbeat({ interval: Duration.minutes(5), evaluationPeriods: 4, datapointsToAlarm: 2, versionDimension: 'Version' });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', { Period: 300, EvaluationPeriods: 4, DatapointsToAlarm: 2, TreatMissingData: 'breaching' });
    expect(trigger.grace.toMinutes()).toBe(10);
    expect(trigger._policy.heartbeat).toEqual({ graceSeconds: 600, versionDimension: 'Version' });
    expect(trigger._heartbeat).toEqual({
      name: 'Worker',
      intervalSeconds: 300,
      evaluationPeriods: 4,
      datapointsToAlarm: 2,
      versionDimension: 'Version',
      namespace: 'Workers',
      metricName: 'Heartbeat',
      dimensions: { Service: 'orders' },
    });
  });

  it('replaces the metric\'s own statistic and period: any published datapoint is a beat', () => {
    const { stack } = heartbeat({ metric: new Metric({ namespace: 'Workers', metricName: 'Heartbeat', statistic: 'Average', period: Duration.minutes(5) }) });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', { Statistic: 'SampleCount', Period: 60 });
  });

  it('matches the snapshot in its default configuration', () => {
    expect(Template.fromStack(heartbeat().stack).toJSON()).toMatchSnapshot();
  });

  it('appears in RollbackPlan as a threshold trigger', () => {
    const { stack } = heartbeat();
    expect(RollbackPlan.of(stack).metricAlarmCount).toBe(1);
  });
});

describe('HeartbeatTrigger refuses at synth', () => {
  it.each([
    ['90 seconds', Duration.seconds(90)],
    ['30 seconds (sub-minute heartbeats need high resolution)', Duration.seconds(30)],
    ['2 days (CloudWatch periods end at 1 day)', Duration.days(2)],
  ])('an interval of %s (RT226)', (_, interval) => {
    const e = expectRtError(() => heartbeat({ interval }), 'RT226');
    expect(e.message).toMatch(/TestStack\/Worker: interval must be whole minutes from 1 minute to 1 day, got/);
    expect(e.prop).toBe('interval');
  });

  it('a token interval (RT226)', () => {
    expect(expectRtError(() => heartbeat({ interval: Duration.minutes(Lazy.number({ produce: () => 1 })) }), 'RT226').message).toMatch(/interval must be a literal duration, got a token/);
  });

  it('datapointsToAlarm above evaluationPeriods (RT227)', () => {
    const e = expectRtError(() => heartbeat({ evaluationPeriods: 3, datapointsToAlarm: 4 }), 'RT227');
    expect(e.message).toMatch(/datapointsToAlarm must be at most evaluationPeriods \(3\), got 4/);
    expect(e.prop).toBe('datapointsToAlarm');
  });

  it.each([
    ['evaluationPeriods', { evaluationPeriods: 0 }],
    ['evaluationPeriods', { evaluationPeriods: 2.5 }],
    ['datapointsToAlarm', { datapointsToAlarm: 0 }],
  ] as const)('%s that is not a whole number ≥ 1 (RT227)', (prop, props) => {
    expect(expectRtError(() => heartbeat(props), 'RT227').message).toMatch(new RegExp(`${prop} must be a whole number of at least 1`));
  });

  it('a token evaluationPeriods (RT227)', () => {
    expect(expectRtError(() => heartbeat({ evaluationPeriods: Lazy.number({ produce: () => 3 }) }), 'RT227').message).toMatch(/evaluationPeriods must be a literal number, got a token/);
  });

  it('an evaluation range over CloudWatch\'s day (RT205)', () => {
    expect(expectRtError(() => heartbeat({ interval: Duration.minutes(10), evaluationPeriods: 145 }), 'RT205').message).toMatch(/10 min × 145 evaluation periods/);
  });

  it.each([
    ['blank', ''],
    ['over 255 characters', 'V'.repeat(256)],
    ['a token', Lazy.string({ produce: () => 'Version' })],
  ])('a versionDimension that is %s (RT228)', (_, versionDimension) => {
    expect(expectRtError(() => heartbeat({ versionDimension }), 'RT228').message).toMatch(/versionDimension must be a literal dimension name of 1 to 255 characters/);
  });

  it('a versionDimension the metric already carries (RT228): the metric must be the all-versions one', () => {
    const metric = new Metric({ namespace: 'Workers', metricName: 'Heartbeat', dimensionsMap: { Service: 'orders', Version: '3' } });
    expect(expectRtError(() => heartbeat({ metric, versionDimension: 'Version' }), 'RT228').message).toMatch(/versionDimension "Version" is already one of the metric's dimensions/);
  });

  it('a metric-math heartbeat (RT229): the evaluator reads it per version', () => {
    const metric = new MathExpression({ expression: 'm1', usingMetrics: { m1: heartbeatMetric() } });
    expect(expectRtError(() => heartbeat({ metric }), 'RT229').message).toMatch(/metric must be a plain Metric/);
  });

  it('an AWS/DynamoDB metric (RT229): CloudWatch ignores missing data for those alarms', () => {
    const metric = new Metric({ namespace: 'AWS/DynamoDB', metricName: 'ConsumedWriteCapacityUnits', dimensionsMap: { TableName: 't' } });
    expect(expectRtError(() => heartbeat({ metric }), 'RT229').message).toMatch(/always ignore missing data/);
  });

  it('an unknown severity (RT123)', () => {
    expectRtError(() => heartbeat({ severity: 'urgent' as AlertSeverity }), 'RT123');
  });
});

describe('HeartbeatTrigger in a RollbackTrigger', () => {
  function guarded(props: Partial<HeartbeatTriggerProps> = {}) {
    const f = lambdaCanary();
    const hb = new HeartbeatTrigger(f.stack, 'Worker', { metric: heartbeatMetric(), versionDimension: 'Version', ...props });
    return { ...build({ alarmTriggers: [hb] }, f), hb };
  }

  it('attaches the heartbeat alarm to the deployment group and hands the evaluator the heartbeat to judge per version', () => {
    const { stack, hb } = guarded();
    Template.fromStack(stack).hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      AlarmConfiguration: { Enabled: true, Alarms: Match.arrayWith([{ Name: { Ref: stack.getLogicalId(hb.alarm.node.defaultChild as never) } }]) },
    });
    expect(evaluatorConfig(stack).heartbeats).toEqual([
      { name: 'Worker', intervalSeconds: 60, evaluationPeriods: 3, datapointsToAlarm: 3, versionDimension: 'Version', namespace: 'Workers', metricName: 'Heartbeat', dimensions: { Service: 'orders' } },
    ]);
  });

  it('leaves the evaluator configuration without heartbeats when no HeartbeatTrigger is given', () => {
    expect(evaluatorConfig(build().stack).heartbeats).toBeUndefined();
  });

  it('refuses a heartbeat that could not fail a silent release before the deadline (RT349)', () => {
    // Grace 30 min, then 3 missing intervals of 10 min, then the 3-minute metric delay: 63 min > 55 min.
    const e = refusal(() => guarded({ interval: Duration.minutes(10) }));
    expect(e.code).toBe('RT349');
    expect(e.prop).toBe('alarmTriggers[0]');
    expect(e.message).toMatch(/TestStack\/Rollback: alarmTriggers\[0\] \(heartbeat TestStack\/Worker\) fails a silent new version only 63 min after the release .* after the bake's deadline of 55 min/);
    // 2 of 3 intervals of 10 min: 20 + 20 + 3 = 43 min, inside the deadline.
    expect(() => guarded({ interval: Duration.minutes(10), datapointsToAlarm: 2 })).not.toThrow();
  });

  it('refuses two heartbeats with one construct id (RT350): reasons name heartbeats by it', () => {
    const f = lambdaCanary();
    const a = new HeartbeatTrigger(new Construct(f.stack, 'A'), 'Worker', { metric: heartbeatMetric() });
    const b = new HeartbeatTrigger(new Construct(f.stack, 'B'), 'Worker', { metric: heartbeatMetric() });
    const e = refusal(() => build({ alarmTriggers: [a, b] }, f));
    expect(e.code).toBe('RT350');
    expect(e.message).toMatch(/alarmTriggers\[1\] \(heartbeat TestStack\/B\/Worker\) has the construct id "Worker" of another heartbeat/);
  });

  it('shows in the plan read back from the cloud assembly, with both paths\' detection times', () => {
    const app = new App();
    const f = lambdaCanary(new Stack(app, 'Shop'));
    const hb = new HeartbeatTrigger(f.stack, 'Worker', { metric: heartbeatMetric(), versionDimension: 'Version' });
    build({ alarmTriggers: [hb] }, f);
    const warnings: string[] = [];
    const [policy] = readPolicies(app.synth().directory, (w) => warnings.push(w));
    expect(warnings).toEqual([]);
    expect(policy.thresholdTriggers).toEqual([expect.objectContaining({ path: 'Shop/Worker', heartbeat: { graceSeconds: 180, versionDimension: 'Version' } })]);
    const plan = buildPlan(policy);
    expect(plan.heartbeats).toEqual([
      expect.objectContaining({ name: 'Worker', graceSeconds: 180, judgedBy: ['Rollback'], silentFromReleaseSeconds: 360, afterLastBeatSeconds: 180, alarmAfterLastBeatSeconds: 360 }),
    ]);
    const text = renderPlan(plan);
    expect(text).toContain("Heartbeat Worker (dead man's switch): a beat every 1 min; 3 of 3 intervals without one fail (TreatMissingData breaching); the evaluator reads each version's own beats (dimension Version)");
    expect(text).toContain('  Alarm (the metric as declared, all versions): in ALARM about 6 min after the last beat, and at once when the metric has no data at all');
    expect(text).toContain(
      '  Evaluator (Rollback): grace 3 min after the release; a new version that never beats fails 6 min after the release (3 min after the full traffic shift when that ends later than the grace), ' +
        'one that stops 3 min after its last beat (each plus the evaluator\'s metric delay, 3 min by default)',
    );
  });

  it('a heartbeat no RollbackTrigger judges shows as alarm only in the plan', () => {
    const { stack } = heartbeat();
    const text = RollbackPlan.of(stack).render();
    expect(text).toContain('  Evaluator: not judged (give the trigger to a RollbackTrigger in alarmTriggers)');
  });
});
