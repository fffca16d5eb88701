import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import { AUDIT_EVENT_SOURCE, AuditDetailType, EvaluatorEnv, StarterEnv, TIME_TO_RECOVERY_METRIC } from '../../lib/core';
import { ComparisonOperator } from 'aws-cdk-lib/aws-cloudwatch';
import { AlertSeverity, RollbackPlan, RollbackPlatform, RollbackTarget, RollbackTrigger, ThresholdTrigger, TriggerMode } from '../../lib';
import { readPolicies } from '../../lib/cli/assembly';
import { lambdaCanary } from '../helpers';

function lambdaTrigger(f = lambdaCanary()) {
  const target = RollbackTarget.lambdaAlias({ deploymentGroup: f.group, alias: f.alias });
  return { f, target, trigger: new RollbackTrigger(f.stack, 'Rollback', { target, objectives: [f.slo] }) };
}

describe('RollbackTrigger helpers (what CDK users look for)', () => {
  it('metricTimeToRecovery reads the metric the state-change handler publishes: same namespace, name and dimensions', () => {
    const { f, trigger } = lambdaTrigger();
    const stat = f.stack.resolve(trigger.metricTimeToRecovery().toMetricConfig().metricStat);
    expect(stat).toMatchObject({ namespace: TIME_TO_RECOVERY_METRIC.namespace, metricName: TIME_TO_RECOVERY_METRIC.metricName, statistic: 'Maximum', unitFilter: 'Seconds' });
    // The handler publishes with Powertools Metrics under its serviceName: render one EMF record the
    // way it does and compare the dimension names a CloudWatch query must match exactly.
    const metrics = new Metrics({ namespace: TIME_TO_RECOVERY_METRIC.namespace, serviceName: TIME_TO_RECOVERY_METRIC.service });
    metrics.addDimension(TIME_TO_RECOVERY_METRIC.dimension, 'live');
    metrics.addMetric(TIME_TO_RECOVERY_METRIC.metricName, MetricUnit.Seconds, 95);
    const emf = metrics.serializeMetrics() as unknown as Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][] }> } };
    const published = emf._aws.CloudWatchMetrics[0];
    expect(published.Namespace).toBe(TIME_TO_RECOVERY_METRIC.namespace);
    const names = (stat.dimensions as Array<{ name: string; value: unknown }>).map((d) => d.name).sort();
    expect(names).toEqual([...published.Dimensions[0]].sort());
    const byName = Object.fromEntries((stat.dimensions as Array<{ name: string; value: unknown }>).map((d) => [d.name, d.value]));
    expect(byName.service).toBe(emf.service);
    expect(byName[TIME_TO_RECOVERY_METRIC.dimension]).toEqual(f.stack.resolve(f.group.deploymentGroupName));
    expect(f.stack.resolve(trigger.metricTimeToRecovery({ statistic: 'Average' }).toMetricConfig().metricStat?.statistic)).toBe('Average');
  });

  it('onRollback adds a rule on the audit bus for this group’s rollbacks, with the target given', () => {
    const { f, trigger } = lambdaTrigger();
    const queue = new Queue(f.stack, 'Pager');
    const rule = trigger.onRollback('ToPager', { target: new SqsQueue(queue) });
    const template = Template.fromStack(f.stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: f.stack.resolve(trigger.auditBus.eventBusName),
      EventPattern: {
        source: [AUDIT_EVENT_SOURCE],
        'detail-type': [AuditDetailType.ROLLBACK_TRIGGERED],
        detail: { deploymentGroupName: [f.stack.resolve(f.group.deploymentGroupName)] },
      },
      Targets: [Match.objectLike({ Arn: f.stack.resolve(queue.queueArn) })],
    });
    expect(rule.node.scope).toBe(trigger);
  });

  it('bind() names the platform and the deployment group the trigger guards', () => {
    const { f, target } = lambdaTrigger();
    expect(target.platform).toBe(RollbackPlatform.LAMBDA);
    const config = target.bind(f.stack);
    expect(config.platform).toBe(RollbackPlatform.LAMBDA);
    expect(f.stack.resolve(config.deploymentGroupName)).toEqual(f.stack.resolve(f.group.deploymentGroupName));
    expect(f.stack.resolve(config.deploymentGroupArn)).toEqual(f.stack.resolve(f.group.deploymentGroupArn));
    expect(config.deploymentRole).toBe(f.group.role);
  });

  it('exposes the suspend context key as a static member every jsii language sees', () => {
    expect(RollbackTrigger.SUSPEND_ALARM_PATH_CONTEXT).toBe('cdk-rollback-triggers:suspendAlarmPath');
  });
});

describe('one trigger per deployment group, without module state', () => {
  it('two apps built in one process each guard their own group of the same name', () => {
    for (const _ of [1, 2]) {
      const app = new App();
      expect(() => lambdaTrigger(lambdaCanary(new Stack(app, 'Same')))).not.toThrow();
    }
  });

  it('a trigger that failed to build guards nothing: a corrected one on the same group is accepted', () => {
    const f = lambdaCanary();
    const target = RollbackTarget.lambdaAlias({ deploymentGroup: f.group, alias: f.alias });
    expect(() => new RollbackTrigger(f.stack, 'Broken', { target, objectives: [f.slo], maxAlarmsPerDeploymentGroup: 0 })).toThrow(/RT332/);
    expect(() => new RollbackTrigger(f.stack, 'Rollback', { target, objectives: [f.slo] })).not.toThrow();
  });
});

describe('alarm triggers attached to the rollback (alarmTriggers)', () => {
  function p99(f: ReturnType<typeof lambdaCanary>, id = 'P99', severity = AlertSeverity.PAGE) {
    return new ThresholdTrigger(f.stack, id, {
      metric: f.fn.metricDuration({ statistic: 'p99' }),
      threshold: 800,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      severity,
    });
  }

  it("a ThresholdTrigger's alarm is polled by the deployment group beside the SLO alarm, and counts against the cap", () => {
    const f = lambdaCanary();
    const latency = p99(f);
    const trigger = new RollbackTrigger(f.stack, 'Rollback', { target: RollbackTarget.lambdaAlias({ deploymentGroup: f.group, alias: f.alias }), objectives: [f.slo], alarmTriggers: [latency] });
    expect(trigger.rollbackAlarms).toContain(latency.alarm);
    const alarms = Template.fromStack(f.stack).findResources('AWS::CodeDeploy::DeploymentGroup');
    const names = Object.values(alarms)[0].Properties.AlarmConfiguration.Alarms.map((a: { Name: unknown }) => a.Name);
    expect(names).toHaveLength(2);
    expect(names).toContainEqual(f.stack.resolve(latency.alarm.alarmName));
    // The alias update waits for the SLO alarm (it reads the deployed version), not for the trigger's own.
    const alias = Object.values(Template.fromStack(f.stack).findResources('AWS::Lambda::Alias'))[0];
    expect(alias.DependsOn).toContain(f.stack.getLogicalId(trigger.rollbackAlarms[0].node.defaultChild as never));
    expect(alias.DependsOn).not.toContain(f.stack.getLogicalId(latency.alarm.node.defaultChild as never));
    const g = lambdaCanary();
    expect(() =>
      new RollbackTrigger(g.stack, 'Rollback', { target: RollbackTarget.lambdaAlias({ deploymentGroup: g.group, alias: g.alias }), objectives: [g.slo], alarmTriggers: [p99(g)], maxAlarmsPerDeploymentGroup: 1 }),
    ).toThrow(/RT306.*needs 2 alarms.*cap of 1/);
  });

  it('RT337: a ticket-severity trigger is refused; RT338: one listed twice; RT334: something that is not an alarm trigger', () => {
    const f = lambdaCanary();
    const target = RollbackTarget.lambdaAlias({ deploymentGroup: f.group, alias: f.alias });
    const ticket = p99(f, 'Ticket', AlertSeverity.TICKET);
    expect(() => new RollbackTrigger(f.stack, 'A', { target, objectives: [f.slo], alarmTriggers: [ticket] })).toThrow(/RT337.*alarmTriggers\[0\] \(TestStack\/Ticket\) has severity "ticket": only a PAGE trigger/);
    const page = p99(f);
    expect(() => new RollbackTrigger(f.stack, 'B', { target, objectives: [f.slo], alarmTriggers: [page, page] })).toThrow(/RT338.*alarmTriggers\[1\] is TestStack\/P99 again/);
    expect(() => new RollbackTrigger(f.stack, 'C', { target, objectives: [f.slo], alarmTriggers: [{ alarm: undefined } as never] })).toThrow(/RT334.*alarmTriggers\[0\] must be an alarm trigger/);
  });
});

describe('alarm triggers in the policy, the plan and the CLI', () => {
  it('the policy names them, the plan counts them against the cap, and the CLI reads the synthesized policy back', () => {
    const app = new App();
    const f = lambdaCanary(new Stack(app, 'Shop'));
    const latency = new ThresholdTrigger(f.stack, 'P99', { metric: f.fn.metricDuration({ statistic: 'p99' }), threshold: 800, comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD });
    new RollbackTrigger(f.stack, 'Rollback', { target: RollbackTarget.lambdaAlias({ deploymentGroup: f.group, alias: f.alias }), objectives: [f.slo], alarmTriggers: [latency] });
    const text = RollbackPlan.of(f.stack).render();
    expect(text).toMatch(/Rollback trigger Rollback \(lambda\): 2 of at most 10 alarms on the deployment group/);
    expect(text).toMatch(/Alarm triggers on the deployment group \(their own thresholds, not re-scoped to the new version\): Shop\/P99/);
    const dir = app.synth().directory;
    const [policy] = readPolicies(dir, (w) => expect.fail(w));
    expect(policy.rollbackTriggers?.[0].alarmTriggers).toEqual(['Shop/P99']);
  });
});

describe('shadow mode (TriggerMode.SHADOW)', () => {
  const shadowGroup = { autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: false } };

  it('creates the alarms but attaches none; the evaluator, the hook fallback, the policy and the plan know it is a shadow', () => {
    const f = lambdaCanary(undefined, shadowGroup);
    const trigger = new RollbackTrigger(f.stack, 'Rollback', { target: RollbackTarget.lambdaAlias({ deploymentGroup: f.group, alias: f.alias }), objectives: [f.slo], mode: TriggerMode.SHADOW });
    const template = Template.fromStack(f.stack);
    expect(trigger.rollbackAlarms).toHaveLength(1);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 8 + 1 + 2); // SLO windows, the rollback alarm, the operational alarms
    const group = Object.values(template.findResources('AWS::CodeDeploy::DeploymentGroup'))[0];
    expect(group.Properties.AlarmConfiguration?.Alarms ?? []).toEqual([]);
    const fns = Object.values(template.findResources('AWS::Lambda::Function')).map((r) => r.Properties.Environment?.Variables ?? {});
    expect(fns.some((v) => v[StarterEnv.SHADOW] === 'true')).toBe(true);
    expect(fns.find((v) => v[EvaluatorEnv.CONFIG])![EvaluatorEnv.CONFIG]).toMatchObject({ 'Fn::Join': ['', expect.arrayContaining([expect.stringContaining('"mode":"shadow"')])] });
    expect(trigger._policy.shadow).toBe(true);
    expect(RollbackPlan.of(f.stack).render()).toMatch(/1 of at most 10 alarms created, NOT attached to the deployment group[^\n]*\n {2}SHADOW mode: never rolls a release back/);
    expect(Annotations.fromStack(f.stack).findInfo('/TestStack/Rollback', Match.stringLikeRegexp('Shadow mode'))).toHaveLength(1);
  });

  it('enforcing (the default) attaches the alarms and says nothing of shadows', () => {
    const { f, trigger } = lambdaTrigger();
    expect(trigger._policy.shadow).toBeUndefined();
    const group = Object.values(Template.fromStack(f.stack).findResources('AWS::CodeDeploy::DeploymentGroup'))[0];
    expect(group.Properties.AlarmConfiguration.Alarms).toHaveLength(1);
    expect(RollbackPlan.of(f.stack).render()).not.toMatch(/SHADOW/);
  });

  it('RT339: suspendAlarmPath in shadow mode; RT334: an unknown mode; RT303 still needs rollback on failure and stop', () => {
    const f = lambdaCanary(undefined, shadowGroup);
    const target = RollbackTarget.lambdaAlias({ deploymentGroup: f.group, alias: f.alias });
    expect(() => new RollbackTrigger(f.stack, 'A', { target, objectives: [f.slo], mode: TriggerMode.SHADOW, suspendAlarmPath: true })).toThrow(/RT339.*suspendAlarmPath is set in shadow mode/);
    expect(() => new RollbackTrigger(f.stack, 'B', { target, objectives: [f.slo], mode: 'dry' as TriggerMode })).toThrow(/RT334.*mode must be TriggerMode.ENFORCE or TriggerMode.SHADOW, got "dry"/);
    const g = lambdaCanary(undefined, { autoRollback: { failedDeployment: true, stoppedDeployment: false, deploymentInAlarm: false } });
    new RollbackTrigger(g.stack, 'Rollback', { target: RollbackTarget.lambdaAlias({ deploymentGroup: g.group, alias: g.alias }), objectives: [g.slo], mode: TriggerMode.SHADOW });
    expect(() => Template.fromStack(g.stack)).toThrow(/RT303.*does not roll back on DEPLOYMENT_STOP_ON_REQUEST;.*deploymentInAlarm: false \}.*shadow mode attaches no alarm/);
  });
});
