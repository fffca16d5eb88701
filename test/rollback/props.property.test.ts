import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnElement, CloudFormationValidatePlugin, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { EcsDeploymentGroup, LambdaDeploymentConfig, LambdaDeploymentGroup, TimeBasedCanaryTrafficRouting, TimeBasedLinearTrafficRouting } from 'aws-cdk-lib/aws-codedeploy';
import { Vpc } from 'aws-cdk-lib/aws-ec2';
import { Cluster, ContainerImage, DeploymentControllerType, FargateService, FargateTaskDefinition } from 'aws-cdk-lib/aws-ecs';
import { ApplicationLoadBalancer, ApplicationProtocol, ApplicationTargetGroup, ListenerAction, TargetType } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Alias, Runtime } from 'aws-cdk-lib/aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BurnRateTier, HealthCheck, InconclusiveAction, RollbackTarget, RollbackTrigger, ServiceLevelObjective, Sli } from '../../lib';
import { RollbackTriggersError, formatNumber } from '../../lib/core';
import { compilePolicy, relativeWindowBurnRate, windowBurnRate } from '../../lib/core/emulator';
import { READINGS, Values, parseAlarmQueries } from '../core/emulator/expression';
import { policyOf } from '../core/simulator/fixtures';
import { countMetric, lambdaFunction } from '../helpers';

// Random RollbackTrigger and ServiceLevelObjective props, good and bad values mixed. Each
// combination has exactly one of two outcomes: a coded RollbackTriggersError whose message names a
// prop, or a template that passes aws-cdk-lib's CloudFormation validation (the resource schemas,
// offline) and whose alarms agree with the emulator (the same numbers, and the same datapoint on
// sampled windows under every reading of the metric-math page). No plain Error, no crash.

/** Every prop a user sets on these constructs: an error must name at least one. */
const PROPS = [
  // ServiceLevelObjective
  'sli', 'objectivePercent', 'compliancePeriod', 'minEventsPerWindow', 'sloName', 'alarmNamePrefix', 'tiers', 'resolution',
  // RollbackTrigger and its target
  'target', 'objectives', 'bake', 'deadline', 'metricDelay', 'maxAlarmsPerDeploymentGroup', 'baselineFactor', 'inconclusiveAction',
  'healthChecks', 'auditBus', 'auditRetention', 'notificationTopic', 'runtime', 'deploymentGroup', 'alias', 'service',
  'blueTargetGroup', 'greenTargetGroup', 'deploymentConfig',
  // HealthCheck
  'name', 'url', 'failAfter', 'timeout', 'canaryName', 'minSuccessPercent',
];
const NAMES_A_PROP = new RegExp(`\\b(${PROPS.join('|')})\\b`);

const token = () => Token.asNumber({ Ref: 'Param' });

/** Each field's good values and bad ones: a run takes good values, then turns none, one or a few fields bad. */
function mixed<T extends Record<string, readonly [readonly unknown[], readonly unknown[]]>>(spec: T) {
  const keys = Object.keys(spec) as Array<keyof T & string>;
  const record = (side: 0 | 1) =>
    fc.record(Object.fromEntries(keys.filter((k) => spec[k][side].length > 0).map((k) => [k, fc.constantFrom(...spec[k][side])])) as Record<string, fc.Arbitrary<unknown>>);
  const badKeys = keys.filter((k) => spec[k][1].length > 0);
  return fc
    .tuple(record(0), record(1), fc.oneof(fc.constant([] as string[]), fc.subarray(badKeys, { minLength: 1, maxLength: 1 }), fc.subarray(badKeys, { maxLength: 3 })))
    .map(([good, bad, turned]) => ({ ...good, ...Object.fromEntries(turned.map((k) => [k, bad[k]])) }) as { [K in keyof T]: T[K][0][number] | T[K][1][number] });
}

const goodDuration = (...values: Array<Duration | undefined>) => values.map((d) => () => d);
const BAD_DURATIONS = [() => Duration.seconds(0), () => Duration.millis(1_500), () => Duration.seconds(token()), () => Duration.hours(3)];

const sloArb = mixed({
  objectivePercent: [[99.9, 99.5, 99, 95], [100, 0, Number.NaN, 99.99999, -1]],
  compliancePeriod: [goodDuration(undefined, Duration.days(28)), BAD_DURATIONS],
  minEventsPerWindow: [[undefined, 5_000], [0, 1.5, 1]],
  sloName: [[undefined, 'Checkout'], ['', '  ', 'a"b']],
  alarmNamePrefix: [[undefined, 'shop'], ['', 'x'.repeat(250)]],
  tiers: [['default', 'page'], ['ticket', 'none']],
  sli: [['availability', 'latency', 'raw'], ['version', 'other']],
} as const);

const triggerArb = mixed({
  platform: [['lambda', 'lambda', 'lambda', 'ecs'], []],
  twice: [[false], [true]],
  bake: [goodDuration(undefined, Duration.minutes(5), Duration.minutes(30)), BAD_DURATIONS],
  deadline: [goodDuration(undefined, Duration.minutes(40)), BAD_DURATIONS],
  metricDelay: [goodDuration(undefined, Duration.minutes(2)), BAD_DURATIONS],
  maxAlarms: [[undefined, 10, 2], [0, -1, Number.NaN, 1.5]],
  baselineFactor: [[undefined, 0, 2, 3.5], [-1, Number.POSITIVE_INFINITY]],
  inconclusiveAction: [[undefined, InconclusiveAction.FAIL, InconclusiveAction.PASS], ['maybe']],
  healthChecks: [['none', 'good'], ['duplicate', 'blank', 'timeout']],
  audit: [['default', 'retention', 'local-bus'], ['zero', 'remote-bus', 'retention-and-bus']],
  runtime: [['default'], ['python']],
  shape: [['canary', 'linear'], ['slow', 'big-step']],
  sameTargetGroups: [[false], [true]],
} as const);

type SloCase = typeof sloArb extends fc.Arbitrary<infer T> ? T : never;
type TriggerCase = typeof triggerArb extends fc.Arbitrary<infer T> ? T : never;

/** The SLO's SLI on the target (alias, or green target group), on a version, or on another function. */
function build(stack: Stack, slo: SloCase, t: TriggerCase): RollbackTrigger {
  const deploymentConfig = (() => {
    const routing = {
      canary: new TimeBasedCanaryTrafficRouting({ interval: Duration.minutes(5), percentage: 10 }),
      linear: new TimeBasedLinearTrafficRouting({ interval: Duration.minutes(1), percentage: 10 }),
      slow: new TimeBasedLinearTrafficRouting({ interval: Duration.minutes(60), percentage: 1 }),
      'big-step': new TimeBasedCanaryTrafficRouting({ interval: Duration.minutes(5), percentage: 100 }),
    }[t.shape];
    return t.platform === 'lambda' ? new LambdaDeploymentConfig(stack, 'Shape', { trafficRouting: routing }) : undefined;
  })();
  const rollbackOn = { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true };
  let target: () => RollbackTarget;
  let sli: () => Sli;
  if (t.platform === 'lambda') {
    const fn = lambdaFunction(stack);
    const alias = new Alias(stack, 'Live', { aliasName: 'live', version: fn.currentVersion });
    const group = new LambdaDeploymentGroup(stack, 'Group', { alias, deploymentConfig, autoRollback: rollbackOn });
    target = () => RollbackTarget.lambdaAlias({ deploymentGroup: group, alias });
    sli = () =>
      ({
        availability: () => Sli.lambdaAvailability(alias),
        latency: () => Sli.lambdaLatency(alias, Duration.millis(300)),
        raw: () => Sli.errorRatio({ badEvents: countMetric('Failed'), totalEvents: countMetric('Requests') }),
        version: () => Sli.lambdaAvailability(fn.currentVersion),
        other: () => Sli.lambdaAvailability(new Alias(stack, 'OtherLive', { aliasName: 'live', version: lambdaFunction(stack, 'Other').currentVersion })),
      })[slo.sli]();
  } else {
    const vpc = new Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
    const task = new FargateTaskDefinition(stack, 'Task');
    task.addContainer('web', { image: ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable'), portMappings: [{ containerPort: 80 }] });
    const service = new FargateService(stack, 'Service', { cluster: new Cluster(stack, 'Cluster', { vpc }), taskDefinition: task, deploymentController: { type: DeploymentControllerType.CODE_DEPLOY } });
    const alb = new ApplicationLoadBalancer(stack, 'Lb', { vpc });
    const [blue, green, other] = ['Blue', 'Green', 'Other'].map((id) => new ApplicationTargetGroup(stack, id, { vpc, port: 80, targetType: TargetType.IP }));
    service.attachToApplicationTargetGroup(blue);
    const listener = alb.addListener('Http', { port: 80, defaultAction: ListenerAction.forward([blue]) });
    alb.addListener('Test', { port: 8080, protocol: ApplicationProtocol.HTTP, defaultAction: ListenerAction.forward([green]) });
    alb.addListener('Other', { port: 8081, protocol: ApplicationProtocol.HTTP, defaultAction: ListenerAction.forward([other]) });
    const group = new EcsDeploymentGroup(stack, 'Group', { service, blueGreenDeploymentConfig: { blueTargetGroup: blue, greenTargetGroup: green, listener }, autoRollback: rollbackOn });
    target = () => RollbackTarget.ecsService({ deploymentGroup: group, service, blueTargetGroup: blue, greenTargetGroup: t.sameTargetGroups ? blue : green });
    sli = () =>
      ({
        availability: () => Sli.targetGroupAvailability(green),
        latency: () => Sli.targetGroupLatency(green, Duration.millis(250)),
        raw: () => Sli.errorRatio({ badEvents: countMetric('Failed'), totalEvents: countMetric('Requests') }),
        version: () => Sli.targetGroupAvailability(other),
        other: () => Sli.targetGroupLatency(other, Duration.millis(250)),
      })[slo.sli]();
  }
  const tiers = { default: undefined, page: [BurnRateTier.PAGE_1H, BurnRateTier.TICKET_1D], ticket: [BurnRateTier.TICKET_1D], none: [] }[slo.tiers];
  const objective = new ServiceLevelObjective(stack, 'Availability', {
    sli: sli(),
    objectivePercent: slo.objectivePercent,
    compliancePeriod: slo.compliancePeriod(),
    minEventsPerWindow: slo.minEventsPerWindow,
    sloName: slo.sloName,
    alarmNamePrefix: slo.alarmNamePrefix,
    tiers,
  });
  const healthChecks = {
    none: () => undefined,
    good: () => [HealthCheck.http({ name: 'home', url: 'https://example.test/health' }), HealthCheck.synthetics({ name: 'journey', canaryName: 'journey' })],
    duplicate: () => [HealthCheck.http({ name: 'home', url: 'https://example.test/health' }), HealthCheck.http({ name: 'home', url: 'https://example.test/other' })],
    blank: () => [HealthCheck.http({ name: ' ', url: 'https://example.test/health' })],
    timeout: () => [HealthCheck.http({ name: 'home', url: 'https://example.test/health', timeout: Duration.seconds(45) })],
  }[t.healthChecks]();
  const audit = {
    default: () => ({}),
    retention: () => ({ auditRetention: Duration.days(30) }),
    'local-bus': () => ({ auditBus: new EventBus(stack, 'Bus') }),
    zero: () => ({ auditRetention: Duration.days(0) }),
    'remote-bus': () => ({ auditBus: EventBus.fromEventBusArn(stack, 'Remote', 'arn:aws:events:us-east-1:111111111111:event-bus/audit') }),
    'retention-and-bus': () => ({ auditBus: new EventBus(stack, 'Bus'), auditRetention: Duration.days(30) }),
  }[t.audit]();
  return new RollbackTrigger(stack, 'Rollback', {
    target: target(),
    objectives: t.twice ? [objective, objective] : [objective],
    bake: t.bake(),
    deadline: t.deadline(),
    metricDelay: t.metricDelay(),
    maxAlarmsPerDeploymentGroup: t.maxAlarms,
    baselineFactor: t.baselineFactor,
    inconclusiveAction: t.inconclusiveAction as InconclusiveAction | undefined,
    healthChecks,
    runtime: t.runtime === 'python' ? Runtime.PYTHON_3_12 : undefined,
    ...audit,
  });
}

/** Synthesizes with aws-cdk-lib's offline CloudFormation validation only; returns its findings. */
function synthesizeValidated(app: App, outdir: string): string[] {
  try {
    app.synth();
  } catch (e) {
    // Under vitest (NODE_ENV=test) synth throws ValidationFailed with the report as its message.
    if ((e as Error).name !== 'ValidationFailed' && !/Validation failed/.test(String((e as Error).message))) throw e;
  }
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports: Array<{ pluginName: string; violations: Array<{ ruleName: string; description: string; violatingConstructs: Array<{ constructPath: string }> }> }>;
  };
  return report.pluginReports.flatMap((p) => p.violations.map((v) => `${p.pluginName} ${v.ruleName}: ${v.description} (${v.violatingConstructs.map((c) => c.constructPath).join(', ')})`));
}

type Resource = { Type: string; Properties: Record<string, any> };

/** One window of one version: whether it has a datapoint, its events and the bad ones. */
const armArb = fc
  .record({ has: fc.boolean(), total: fc.integer({ min: 0, max: 400 }), share: fc.double({ min: 0, max: 1, noNaN: true }) })
  .map(({ has, total, share }) => (has ? { has, total, bad: Math.floor(total * share * share) } : { has, total: 0, bad: 0 }));
const percentileRank = (w: { has: boolean; total: number; bad: number }) => (w.has && w.total > 0 ? (100 * (w.total - w.bad)) / w.total : undefined);

/** The template's alarms and the emulator's model of the same policy give the same numbers and datapoints. */
function expectAgreement(stack: Stack, trigger: RollbackTrigger): void {
  const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, Resource> };
  const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.resolve((construct.node.defaultChild as CfnElement).logicalId) as string;
  const byPath = new Map(stack.node.findAll().map((c) => [c.node.path, c]));
  const samples = fc.sample(fc.tuple(armArb, armArb), { numRuns: 40, seed: 13 });
  // The SLO's window alarms, as the emulator compiles the policy.
  const model = compilePolicy(policyOf(stack));
  for (const w of model.windows) {
    const construct = byPath.get(w.id.replace(/\/long$/, '/LongWindowAlarm').replace(/\/short$/, '/ShortWindowAlarm'));
    expect(construct, w.id).toBeDefined();
    const props = template.Resources[logicalId(construct as never)].Properties;
    expect(props, w.id).toMatchObject({ Threshold: w.threshold, EvaluationPeriods: w.evaluationPeriods, TreatMissingData: w.treatMissingData });
    const { evaluate, metricIds } = parseAlarmQueries(props.Metrics);
    for (const m of props.Metrics.filter((q: any) => q.MetricStat)) expect(m.MetricStat.Period, w.id).toBe(w.windowMinutes * 60);
    for (const [arm] of samples) {
      const values: Values = metricIds.includes('pr')
        ? { total: arm.has ? arm.total : undefined, pr: percentileRank(arm) }
        : { total: arm.has ? arm.total : undefined, ...(metricIds.includes('good') ? { good: arm.has ? arm.total - arm.bad : undefined } : { bad: arm.has ? arm.bad : undefined }) };
      const emulated = windowBurnRate(w, { datapoints: arm.has ? 1 : 0, ...arm });
      for (const { name, reading } of READINGS) {
        const value = evaluate(values, reading);
        const expected = reading.missingBesideScalar === 'zero' && values.total === undefined ? 0 : emulated;
        expect(value, `${w.id} under ${name} on ${JSON.stringify(values)}`).toBe(expected);
      }
    }
  }
  // The rollback alarms, as the policy the simulator replays describes them.
  const errorBudget = (sloName: string) => stack.node.findAll().flatMap((c) => (ServiceLevelObjective.isServiceLevelObjective(c) && c.sloName === sloName ? [c.errorBudget] : []))[0];
  trigger._policy.alarms.forEach((policy, i) => {
    const where = `${policy.slo} (${policy.scope})`;
    const props = template.Resources[logicalId(trigger.rollbackAlarms[i] as Alarm)].Properties;
    expect(props, where).toMatchObject({ Threshold: policy.tier.factor, EvaluationPeriods: 1, DatapointsToAlarm: 1, TreatMissingData: 'notBreaching' });
    for (const m of props.Metrics.filter((q: any) => q.MetricStat)) expect(m.MetricStat.Period, where).toBe(policy.windowSeconds);
    const { evaluate, metricIds } = parseAlarmQueries(props.Metrics);
    const latency = metricIds.includes('pr');
    const goodForm = metricIds.includes('good');
    const model = { minEvents: policy.minEvents, errorBudget: Number(formatNumber(errorBudget(policy.slo))), baseline: { factor: Number(formatNumber(policy.baseline?.factor ?? 0)), shift: policy.baseline?.shift } };
    for (const [canary, old] of samples) {
      const blended = policy.baseline?.mode === 'rest-of-blended';
      const base = blended ? { has: canary.has || old.has, total: canary.total + old.total, bad: canary.bad + old.bad } : old;
      const own = latency
        ? { total: canary.has ? canary.total : undefined, pr: percentileRank(canary) }
        : { total: canary.has ? canary.total : undefined, ...(goodForm ? { good: canary.has ? canary.total - canary.bad : undefined } : { bad: canary.has ? canary.bad : undefined }) };
      const theirs = !policy.baseline
        ? {}
        : latency
          ? { basetotal: base.has ? base.total : undefined, basepr: percentileRank(base) }
          : { basetotal: base.has ? base.total : undefined, ...(goodForm ? { basegood: base.has ? base.total - base.bad : undefined } : { basebad: base.has ? base.bad : undefined }) };
      const values: Values = { ...own, ...theirs };
      const emulated = policy.baseline
        ? relativeWindowBurnRate(model, { datapoints: canary.has ? 1 : 0, ...canary }, { datapoints: old.has ? 1 : 0, ...old }, blended ? { datapoints: base.has ? 1 : 0, ...base } : undefined)
        : windowBurnRate(model, { datapoints: canary.has ? 1 : 0, ...canary });
      for (const { name, reading } of READINGS) {
        const expected = reading.missingBesideScalar === 'zero' && values.total === undefined ? 0 : emulated;
        expect(evaluate(values, reading), `${where} under ${name} on ${JSON.stringify(values)}`).toBe(expected);
      }
    }
  });
}

describe('random RollbackTrigger and ServiceLevelObjective props', () => {
  it('either refuse with a coded error that names a prop, or synthesize a valid template that agrees with the emulator', () => {
    const outcomes = { refused: new Map<string, number>(), synthesized: 0 };
    fc.assert(
      fc.property(sloArb, triggerArb, (slo, t) => {
        const outdir = mkdtempSync(join(tmpdir(), 'rt-props-'));
        try {
          const app = new App({ outdir });
          Validations.of(app).addPlugins(new CloudFormationValidatePlugin({ includeDefaultRules: true }));
          const stack = new Stack(app, 'Props', { env: { region: 'eu-west-1', account: '111111111111' } });
          let trigger: RollbackTrigger;
          let findings: string[];
          try {
            trigger = build(stack, slo, t);
            findings = synthesizeValidated(app, outdir);
          } catch (e) {
            // A refusal at construction is a RollbackTriggersError; one at synth (node validation)
            // reaches the user as aws-cdk-lib's validation error, carrying the coded message.
            const message = String((e as Error).message);
            const coded = e instanceof RollbackTriggersError || /\[RT\d{3}\]/.test(message);
            expect(coded, `a third outcome: ${(e as Error).name}: ${message}\n${(e as Error).stack}`).toBe(true);
            expect(message, 'names a prop').toMatch(NAMES_A_PROP);
            const code = /\[(RT\d{3})\]/.exec(message)![1];
            outcomes.refused.set(code, (outcomes.refused.get(code) ?? 0) + 1);
            return;
          }
          expect(findings, 'CloudFormation validation').toEqual([]);
          expectAgreement(stack, trigger);
          outcomes.synthesized++;
        } finally {
          rmSync(outdir, { recursive: true, force: true });
        }
      }),
      // Tens of runs: each synthesizes a stack and validates it against the resource schemas.
      { numRuns: Number(process.env.RT_PROPS_RUNS ?? 30), seed: Number(process.env.RT_PROPS_SEED ?? 1313) },
    );
    if (process.env.RT_PROPS_SEED) console.log(JSON.stringify({ synthesized: outcomes.synthesized, refused: [...outcomes.refused] }));
    // Both outcomes are exercised, and several distinct refusals.
    expect(outcomes.synthesized).toBeGreaterThan(0);
    expect(outcomes.refused.size).toBeGreaterThan(3);
  }, 600_000);
});
