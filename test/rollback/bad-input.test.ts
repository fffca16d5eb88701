import { App, CfnParameter, Duration, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AlarmRule, CompositeAlarm, Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import {
  EcsDeploymentConfig,
  EcsDeploymentGroup,
  LambdaDeploymentConfig,
  LambdaDeploymentGroup,
  TimeBasedCanaryTrafficRouting,
  TimeBasedLinearTrafficRouting,
} from 'aws-cdk-lib/aws-codedeploy';
import { Vpc } from 'aws-cdk-lib/aws-ec2';
import { Cluster, ContainerImage, DeploymentControllerType, FargateService, FargateTaskDefinition } from 'aws-cdk-lib/aws-ecs';
import { ApplicationLoadBalancer, ApplicationProtocol, ApplicationTargetGroup, IApplicationTargetGroup, ListenerAction, TargetType } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Role } from 'aws-cdk-lib/aws-iam';
import { Alias, Version } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { HealthCheck, InconclusiveAction, RollbackTarget, RollbackTrigger, RollbackTriggerProps, ServiceLevelObjective, Sli } from '../../lib';
import { RollbackTriggersError } from '../../lib/core';
import { countMetric, lambdaCanary, lambdaFunction, newStack } from '../helpers';

// Bad input a RollbackTrigger refused silently before issue 13: each test names the rule and its
// code. Every refusal is a RollbackTriggersError whose message names the construct path, the prop,
// the value and what to do.

type Props = Partial<RollbackTriggerProps>;

function lambdaTrigger(props: Props = {}, f = lambdaCanary()) {
  return new RollbackTrigger(f.stack, 'Rollback', { target: RollbackTarget.lambdaAlias({ deploymentGroup: f.group, alias: f.alias }), objectives: [f.slo], ...props });
}

/** The code and message of what `build` throws: a coded error, nothing else. */
function refusal(build: () => unknown): { code: string; message: string } {
  try {
    build();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(RollbackTriggersError);
    return { code: (e as RollbackTriggersError).code, message: (e as Error).message };
  }
  throw new Error('expected a RollbackTriggersError, nothing was thrown');
}

function warnings(stack: Stack): string[] {
  return Annotations.fromStack(stack)
    .findWarning('*', Match.anyValue())
    .map((w) => String(w.entry.data));
}

/** An ECS service released blue/green by CodeDeploy, with a third target group and a second service that are not its own. */
function ecsFixture(options: { stack?: Stack; role?: (stack: Stack) => Role | ReturnType<typeof Role.fromRoleArn>; deploymentConfig?: (stack: Stack) => EcsDeploymentConfig } = {}) {
  const stack = options.stack ?? newStack();
  const vpc = new Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const cluster = new Cluster(stack, 'Cluster', { vpc });
  const service = (id: string) => {
    const task = new FargateTaskDefinition(stack, `${id}Task`);
    task.addContainer('web', { image: ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable'), portMappings: [{ containerPort: 80 }] });
    return new FargateService(stack, id, { cluster, taskDefinition: task, deploymentController: { type: DeploymentControllerType.CODE_DEPLOY } });
  };
  const web = service('Service');
  const other = service('OtherService');
  const alb = new ApplicationLoadBalancer(stack, 'Lb', { vpc });
  const tg = (id: string) => new ApplicationTargetGroup(stack, id, { vpc, port: 80, targetType: TargetType.IP });
  const [blue, green, unrelated] = [tg('Blue'), tg('Green'), tg('Unrelated')];
  web.attachToApplicationTargetGroup(blue);
  const listener = alb.addListener('Http', { port: 80, defaultAction: ListenerAction.forward([blue]) });
  alb.addListener('Other', { port: 8081, protocol: ApplicationProtocol.HTTP, defaultAction: ListenerAction.forward([unrelated]) });
  alb.addListener('Test', { port: 8080, protocol: ApplicationProtocol.HTTP, defaultAction: ListenerAction.forward([green]) });
  const group = new EcsDeploymentGroup(stack, 'Deployment', {
    service: web,
    blueGreenDeploymentConfig: { blueTargetGroup: blue, greenTargetGroup: green, listener },
    autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    role: options.role?.(stack),
    deploymentConfig: options.deploymentConfig?.(stack),
  });
  const slo = new ServiceLevelObjective(stack, 'Availability', { sli: Sli.targetGroupAvailability(green), objectivePercent: 99.9 });
  const target = (overrides: Partial<{ service: FargateService; blueTargetGroup: IApplicationTargetGroup; greenTargetGroup: IApplicationTargetGroup }> = {}) =>
    RollbackTarget.ecsService({ deploymentGroup: group, service: web, blueTargetGroup: blue, greenTargetGroup: green, ...overrides });
  return { stack, web, other, blue, green, unrelated, listener, group, slo, target };
}

describe('the rollback path watches the wrong thing: refused', () => {
  it('RT320: an ECS target whose blue and green target groups are the same', () => {
    const e = ecsFixture();
    const { code, message } = refusal(() => e.target({ greenTargetGroup: e.blue }));
    expect(code).toBe('RT320');
    expect(message).toMatch(/blueTargetGroup and greenTargetGroup are the same target group \(TestStack\/Blue\).*never fires/);
  });

  it("RT321: a Lambda target whose alias is not the deployment group's alias", () => {
    const f = lambdaCanary();
    const beta = new Alias(f.stack, 'Beta', { aliasName: 'beta', version: f.fn.currentVersion });
    const { code, message } = refusal(() => RollbackTarget.lambdaAlias({ deploymentGroup: f.group, alias: beta }));
    expect(code).toBe('RT321');
    expect(message).toMatch(/alias TestStack\/Beta is not released by any CodeDeploy deployment group, not by deploymentGroup TestStack\/Group/);
    // An alias another group releases is named with that group.
    const g = lambdaCanary();
    const otherAlias = new Alias(g.stack, 'Beta', { aliasName: 'beta', version: g.fn.currentVersion });
    new LambdaDeploymentGroup(g.stack, 'BetaGroup', { alias: otherAlias });
    expect(refusal(() => RollbackTarget.lambdaAlias({ deploymentGroup: g.group, alias: otherAlias })).message).toMatch(/released by deployment group TestStack\/BetaGroup, not by deploymentGroup TestStack\/Group/);
  });

  it("RT322: an ECS target whose service is not the deployment group's", () => {
    const e = ecsFixture();
    const { code, message } = refusal(() => new RollbackTrigger(e.stack, 'Rollback', { target: e.target({ service: e.other }), objectives: [e.slo] }));
    expect(code).toBe('RT322');
    expect(message).toMatch(/TestStack\/Rollback: target service TestStack\/OtherService is not the service of deploymentGroup TestStack\/Deployment/);
  });

  it("RT323: an ECS target whose target groups are not the deployment group's", () => {
    const e = ecsFixture();
    const { code, message } = refusal(() => new RollbackTrigger(e.stack, 'Rollback', { target: e.target({ greenTargetGroup: e.unrelated }), objectives: [e.slo] }));
    expect(code).toBe('RT323');
    expect(message).toMatch(/target greenTargetGroup TestStack\/Unrelated is not one of the two target groups deploymentGroup TestStack\/Deployment swaps/);
  });

  it("RT324: an objective whose SLI measures another function's alias, another alias, or an unrelated target group", () => {
    const f = lambdaCanary();
    const otherFn = lambdaFunction(f.stack, 'Other');
    const otherAlias = new Alias(f.stack, 'OtherLive', { aliasName: 'live', version: otherFn.currentVersion });
    const foreign = new ServiceLevelObjective(f.stack, 'Foreign', { sli: Sli.lambdaAvailability(otherAlias), objectivePercent: 99.9 });
    const { code, message } = refusal(() => lambdaTrigger({ objectives: [foreign] }, f));
    expect(code).toBe('RT324');
    expect(message).toMatch(/TestStack\/Rollback: objectives contains SLO Foreign .* whose SLI measures function <TestStack\/Other> \(FunctionName\), not the target's function TestStack\/Fn.*Sli.lambdaAvailability\(Live\)/);

    const g = lambdaCanary();
    const beta = new Alias(g.stack, 'Beta', { aliasName: 'beta', version: g.fn.currentVersion });
    const onBeta = new ServiceLevelObjective(g.stack, 'OnBeta', { sli: Sli.lambdaLatency(beta, Duration.millis(300)), objectivePercent: 99 });
    expect(refusal(() => lambdaTrigger({ objectives: [onBeta] }, g)).message).toMatch(/RT324.*another qualifier of the function .*, not alias TestStack\/Live/);

    const e = ecsFixture();
    const unrelated = new ServiceLevelObjective(e.stack, 'OnUnrelated', { sli: Sli.targetGroupLatency(e.unrelated, Duration.millis(200)), objectivePercent: 99 });
    const ecs = refusal(() => new RollbackTrigger(e.stack, 'Rollback', { target: e.target(), objectives: [e.slo, unrelated] }));
    expect(ecs.code).toBe('RT324');
    expect(ecs.message).toMatch(/SLO OnUnrelated .* measures target group <TestStack\/Unrelated>.TargetGroupFullName, neither blueTargetGroup TestStack\/Blue nor greenTargetGroup TestStack\/Green/);
  });

  it('RT325: an objective whose SLI is declared on a Lambda version, not on the alias', () => {
    const f = lambdaCanary();
    const onVersion = new ServiceLevelObjective(f.stack, 'OnVersion', { sli: Sli.lambdaAvailability(f.fn.currentVersion), objectivePercent: 99.9 });
    const { code, message } = refusal(() => lambdaTrigger({ objectives: [onVersion] }, f));
    expect(code).toBe('RT325');
    expect(message).toMatch(/SLI is declared on a Lambda version \(Resource <TestStack\/Fn>:<TestStack\/Fn\/CurrentVersion>.Version\), not on alias TestStack\/Live: Lambda documents the ExecutedVersion dimension/);
    expect(message).toMatch(/declare it on the target's alias, for example Sli.lambdaAvailability\(Live\) — the trigger scopes it to the new version itself/);
    // A version imported by ARN, of a function imported by ARN, behind an alias of that function.
    const stack = newStack();
    const version = Version.fromVersionArn(stack, 'V3', 'arn:aws:lambda:eu-west-1:111111111111:function:orders:3');
    const alias = new Alias(stack, 'Live', { aliasName: 'live', version });
    const group = new LambdaDeploymentGroup(stack, 'Group', { alias, autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true } });
    const slo = new ServiceLevelObjective(stack, 'OnV3', { sli: Sli.lambdaAvailability(version), objectivePercent: 99.9 });
    const imported = refusal(() => new RollbackTrigger(stack, 'Rollback', { target: RollbackTarget.lambdaAlias({ deploymentGroup: group, alias }), objectives: [slo] }));
    expect(imported.code).toBe('RT325');
    expect(imported.message).toMatch(/Resource "orders:3"/);
  });

  it('warns, with what it could not check, when an SLI or an ECS target names things known only at deploy time', () => {
    const f = lambdaCanary();
    const name = new CfnParameter(f.stack, 'FunctionName');
    const raw = new ServiceLevelObjective(f.stack, 'Raw', {
      sli: Sli.errorRatio({
        badEvents: countMetric('Errors', 'AWS/Lambda').with({ dimensionsMap: { FunctionName: name.valueAsString } }),
        totalEvents: countMetric('Invocations', 'AWS/Lambda').with({ dimensionsMap: { FunctionName: name.valueAsString } }),
      }),
      objectivePercent: 99.9,
    });
    lambdaTrigger({ objectives: [f.slo, raw] }, f);
    expect(warnings(f.stack).join('\n')).toMatch(/SLO Raw: could not check at synth that FunctionName <TestStack\/FunctionName> names the rollback target.*\[ack: cdk-rollback-triggers:sliTargetUnchecked\]/);

    const e = ecsFixture();
    // The fixture's own group needs an alarm to roll back on (aws-cdk-lib checks deploymentInAlarm at synth).
    e.group.addAlarm(new Alarm(e.stack, 'Own', { metric: countMetric('Failed'), threshold: 1, evaluationPeriods: 1 }));
    const imported = FargateService.fromFargateServiceAttributes(e.stack, 'Imported', { serviceName: 'web', cluster: e.web.cluster });
    const group = new EcsDeploymentGroup(e.stack, 'ImportedDeployment', {
      service: imported,
      blueGreenDeploymentConfig: { blueTargetGroup: e.blue, greenTargetGroup: e.green, listener: e.listener },
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });
    new RollbackTrigger(e.stack, 'Rollback', { target: RollbackTarget.ecsService({ deploymentGroup: group, service: imported, blueTargetGroup: e.blue, greenTargetGroup: e.green }), objectives: [e.slo] });
    expect(warnings(e.stack).join('\n')).toMatch(/could not check that the imported service TestStack\/Imported uses the CODE_DEPLOY deployment controller.*\[ack: cdk-rollback-triggers:ecsTargetUnchecked\]/);
  });
});

describe('broken at deploy or never able to work: refused', () => {
  it('RT326: an objective passed twice, or two objectives that share one rollback alarm', () => {
    const f = lambdaCanary();
    const twice = refusal(() => lambdaTrigger({ objectives: [f.slo, f.slo] }, f));
    expect(twice.code).toBe('RT326');
    expect(twice.message).toMatch(/TestStack\/Rollback: objectives\[1\] is SLO Availability \(TestStack\/Availability\) again, as objectives\[0\]/);
    const g = lambdaCanary();
    const copy = new ServiceLevelObjective(g.stack, 'Copy', { sli: Sli.lambdaAvailability(g.alias), objectivePercent: 99.9 });
    const shared = refusal(() => lambdaTrigger({ objectives: [g.slo, copy] }, g));
    expect(shared.code).toBe('RT326');
    expect(shared.message).toMatch(/objectives contains SLO Copy and SLO Availability, which measure the same SLI with the same objective and tier/);
  });

  it('RT327: a composite alarm on the deployment group next to the trigger; an alarm imported by name is warned about', () => {
    const f = lambdaCanary();
    lambdaTrigger({}, f);
    const child = new Alarm(f.stack, 'Child', { metric: countMetric('Failed'), threshold: 1, evaluationPeriods: 1 });
    f.group.addAlarm(new CompositeAlarm(f.stack, 'Composite', { alarmRule: AlarmRule.anyOf(child) }));
    expect(() => Template.fromStack(f.stack)).toThrow(/RT327.*deployment group TestStack\/Group carries composite alarm TestStack\/Composite.*attach its metric alarms/);

    const g = lambdaCanary();
    lambdaTrigger({}, g);
    g.group.addAlarm(Alarm.fromAlarmName(g.stack, 'Imported', 'payments-errors'));
    Template.fromStack(g.stack);
    expect(warnings(g.stack).join('\n')).toMatch(/carries alarms defined outside this app \("payments-errors"\): could not check that they are metric alarms/);
  });

  it("RT328: deployment shapes beyond CodeDeploy's documented limits", () => {
    const shape = (trafficRouting: TimeBasedCanaryTrafficRouting | TimeBasedLinearTrafficRouting) => {
      const stack = newStack();
      const deploymentConfig = new LambdaDeploymentConfig(stack, 'Shape', { trafficRouting });
      return refusal(() => lambdaTrigger({}, lambdaCanary(stack, { deploymentConfig })));
    };
    // 1 % every 30 minutes: 99 shifts, 2,970 minutes between the first and the last (at most 2,880).
    expect(shape(new TimeBasedLinearTrafficRouting({ interval: Duration.minutes(30), percentage: 1 }))).toMatchObject({
      code: 'RT328',
      message: expect.stringMatching(/deployment configuration TestStack\/Shape, which shifts traffic over 2970 minutes .*at most 2880 minutes/),
    });
    expect(shape(new TimeBasedCanaryTrafficRouting({ interval: Duration.minutes(2_881), percentage: 10 })).code).toBe('RT328');
    expect(shape(new TimeBasedCanaryTrafficRouting({ interval: Duration.minutes(5), percentage: 100 })).message).toMatch(/a canary step of 100 %: CodeDeploy takes a whole percentage from 1 to 99/);
    expect(shape(new TimeBasedLinearTrafficRouting({ interval: Duration.minutes(5), percentage: 12.5 })).code).toBe('RT328');
    expect(shape(new TimeBasedCanaryTrafficRouting({ interval: Duration.minutes(5), percentage: 0 })).code).toBe('RT328');
    // The limits themselves are fine.
    const stack = newStack();
    const deploymentConfig = new LambdaDeploymentConfig(stack, 'Shape', { trafficRouting: new TimeBasedCanaryTrafficRouting({ interval: Duration.minutes(2_880), percentage: 99 }) });
    expect(() => lambdaTrigger({}, lambdaCanary(stack, { deploymentConfig }))).not.toThrow();
    // ECS: whole percentages from 1 to 100.
    const e = ecsFixture({ deploymentConfig: (s) => new EcsDeploymentConfig(s, 'Zero', { trafficRouting: new TimeBasedLinearTrafficRouting({ interval: Duration.minutes(1), percentage: 0 }) }) });
    expect(refusal(() => new RollbackTrigger(e.stack, 'Rollback', { target: e.target(), objectives: [e.slo] })).code).toBe('RT328');
  });

  it('lets a deployment group role that is imported invoke the ECS hook, and warns where nothing can be attached to it', () => {
    const e = ecsFixture({ role: (s) => Role.fromRoleArn(s, 'DeployRole', 'arn:aws:iam::111111111111:role/deploy') });
    const t = new RollbackTrigger(e.stack, 'Rollback', { target: e.target(), objectives: [e.slo] });
    const policies = Object.values(Template.fromStack(e.stack).findResources('AWS::IAM::Policy'));
    const invoke = policies.find((p) => JSON.stringify(p.Properties.Roles) === '["deploy"]');
    expect(invoke?.Properties.PolicyDocument.Statement).toEqual(
      expect.arrayContaining([expect.objectContaining({ Action: 'lambda:InvokeFunction', Resource: expect.arrayContaining([e.stack.resolve(t.hookFunction.functionArn)]) })]),
    );
    expect(warnings(e.stack).join('\n')).not.toMatch(/hookInvokeUnchecked/);

    const immutable = ecsFixture({ role: (s) => Role.fromRoleArn(s, 'DeployRole', 'arn:aws:iam::111111111111:role/deploy', { mutable: false }) });
    new RollbackTrigger(immutable.stack, 'Rollback', { target: immutable.target(), objectives: [immutable.slo] });
    expect(warnings(immutable.stack).join('\n')).toMatch(/is imported and takes no policy from this app: could not check that CodeDeploy may invoke the hook.*\[ack: cdk-rollback-triggers:hookInvokeUnchecked\]/);

    const stack = newStack();
    const f = lambdaCanary(stack, { role: Role.fromRoleArn(stack, 'DeployRole', 'arn:aws:iam::111111111111:role/deploy', { mutable: false }) });
    lambdaTrigger({}, f);
    expect(warnings(f.stack).join('\n')).toMatch(/hookInvokeUnchecked/);
  });

  it('RT329: empty, blank or duplicate health-check names, and an empty canary name', () => {
    expect(refusal(() => HealthCheck.http({ name: '', url: 'https://example.test' }))).toMatchObject({ code: 'RT329', message: expect.stringMatching(/HealthCheck.http: name must be a literal, non-blank string, got ""/) });
    expect(refusal(() => HealthCheck.synthetics({ name: '  ', canaryName: 'journey' })).code).toBe('RT329');
    expect(refusal(() => HealthCheck.synthetics({ name: 'journey', canaryName: '' })).message).toMatch(/RT329.*canaryName must name a Synthetics canary/);
    const home = HealthCheck.http({ name: 'home', url: 'https://example.test/health' });
    const again = HealthCheck.synthetics({ name: 'home', canaryName: 'home-journey' });
    expect(refusal(() => lambdaTrigger({ healthChecks: [home, again] })).message).toMatch(/RT329.*TestStack\/Rollback: healthChecks\[1\] is named "home" like healthChecks\[0\]/);
    expect(refusal(() => lambdaTrigger({ healthChecks: [home, home] })).code).toBe('RT329');
  });

  it('RT330: an audit bus or a notification topic in another Region (or a bus of another account)', () => {
    const inRegion = (region: string) => lambdaCanary(new Stack(new App(), 'TestStack', { env: { region, account: '111111111111' } }));
    const f = inRegion('eu-west-1');
    const remote = EventBus.fromEventBusArn(f.stack, 'Remote', 'arn:aws:events:us-east-1:111111111111:event-bus/audit');
    expect(refusal(() => lambdaTrigger({ auditBus: remote }, f)).message).toMatch(/RT330.*TestStack\/Rollback: auditBus TestStack\/Remote is in region us-east-1, the trigger in eu-west-1/);
    const g = inRegion('eu-west-1');
    const otherAccount = EventBus.fromEventBusArn(g.stack, 'Remote', 'arn:aws:events:eu-west-1:222222222222:event-bus/audit');
    expect(refusal(() => lambdaTrigger({ auditBus: otherAccount }, g)).message).toMatch(/RT330.*is in account 222222222222, the trigger in 111111111111/);
    const h = inRegion('eu-west-1');
    const topic = Topic.fromTopicArn(h.stack, 'Pager', 'arn:aws:sns:us-east-1:111111111111:pager');
    expect(refusal(() => lambdaTrigger({ notificationTopic: topic }, h)).message).toMatch(/RT330.*notificationTopic TestStack\/Pager is in region us-east-1/);
    // A bus of this stack's own Region is fine; one whose Region is a token is warned about.
    const i = inRegion('eu-west-1');
    lambdaTrigger({ auditBus: EventBus.fromEventBusArn(i.stack, 'Local', 'arn:aws:events:eu-west-1:111111111111:event-bus/audit') }, i);
    const j = inRegion('eu-west-1');
    const arn = new CfnParameter(j.stack, 'BusArn').valueAsString;
    lambdaTrigger({ auditBus: EventBus.fromEventBusArn(j.stack, 'Param', arn) }, j);
    expect(warnings(j.stack).join('\n')).toMatch(/Could not check the region of auditBus TestStack\/Param/);
  });

  it('RT331: an archive retention of 0 days (EventBridge keeps events forever), not whole days, or beside an auditBus of your own', () => {
    expect(refusal(() => lambdaTrigger({ auditRetention: Duration.days(0) })).message).toMatch(
      /RT331.*TestStack\/Rollback: auditRetention must be at least 1 day, got Duration.days\(0\) — EventBridge reads a retention of 0 days as "keep forever"/,
    );
    expect(refusal(() => lambdaTrigger({ auditRetention: Duration.hours(36) })).message).toMatch(/RT331.*auditRetention must be whole days.*got Duration.hours\(36\)/);
    const f = lambdaCanary();
    const bus = new EventBus(f.stack, 'Bus');
    expect(refusal(() => lambdaTrigger({ auditBus: bus, auditRetention: Duration.days(30) }, f)).message).toMatch(/RT331.*auditRetention applies to the bus the trigger creates, but auditBus is given/);
    const g = lambdaCanary();
    lambdaTrigger({ auditRetention: Duration.days(30) }, g);
    Template.fromStack(g.stack).hasResourceProperties('AWS::Events::Archive', { RetentionDays: 30 });
  });
});

describe('errors that blame the wrong prop: each names its own', () => {
  it('RT332: an invalid maxAlarmsPerDeploymentGroup', () => {
    for (const value of [-1, 0, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const { code, message } = refusal(() => lambdaTrigger({ maxAlarmsPerDeploymentGroup: value }));
      expect(code).toBe('RT332');
      expect(message).toContain(`TestStack/Rollback: maxAlarmsPerDeploymentGroup must be a whole number of at least 1, got ${value}`);
    }
    expect(refusal(() => lambdaTrigger({ maxAlarmsPerDeploymentGroup: Token.asNumber({ Ref: 'Cap' }) })).message).toMatch(/RT332.*got a token/);
  });

  it('RT333: a metricDelay beyond what the deadline leaves, blamed on metricDelay rather than bake', () => {
    const { code, message } = refusal(() => lambdaTrigger({ metricDelay: Duration.hours(1) }));
    expect(code).toBe('RT333');
    expect(message).toMatch(/TestStack\/Rollback: metricDelay must be at most 54 min \(the deadline of 55 min minus a one-minute bake.*got 1 h/);
    expect(message).not.toMatch(/\bbake must\b/);
    expect(refusal(() => lambdaTrigger({ metricDelay: Duration.minutes(20), deadline: Duration.minutes(20) })).code).toBe('RT333');
  });

  it('RT109: a token in bake, deadline or metricDelay is refused under its own name, not rendered as -1.9e+289 s', () => {
    for (const prop of ['bake', 'deadline', 'metricDelay'] as const) {
      const { code, message } = refusal(() => lambdaTrigger({ [prop]: Duration.seconds(Token.asNumber({ Ref: 'Minutes' })) }));
      expect(code).toBe('RT109');
      expect(message).toMatch(new RegExp(`^\\[RT109\\] TestStack/Rollback: ${prop} must be a literal duration, got a token`));
      expect(message).not.toMatch(/e\+\d+/);
    }
  });

  it('RT118: durations that are not whole seconds name their prop', () => {
    for (const prop of ['bake', 'deadline', 'metricDelay', 'auditRetention'] as const) {
      const { code, message } = refusal(() => lambdaTrigger({ [prop]: Duration.millis(90_500) }));
      expect(code).toBe('RT118');
      expect(message).toContain(`TestStack/Rollback: ${prop} must be a whole number of seconds above 0, got Duration.millis(90500) (90.5 s)`);
    }
  });

  it('a token in a number the policy is computed from names its prop (RT314, RT311, RT313)', () => {
    const token = Token.asNumber({ Ref: 'N' });
    expect(refusal(() => lambdaTrigger({ baselineFactor: token })).message).toMatch(/RT314.*baselineFactor must be a literal number, got a token/);
    expect(refusal(() => HealthCheck.http({ name: 'home', url: 'https://example.test', failAfter: token })).message).toMatch(/RT311.*failAfter must be a literal number, got a token/);
    expect(refusal(() => HealthCheck.synthetics({ name: 'journey', canaryName: 'c', minSuccessPercent: token })).message).toMatch(/RT313.*minSuccessPercent must be a literal number, got a token/);
    expect(refusal(() => HealthCheck.http({ name: 'home', url: 'https://example.test', timeout: Duration.millis(1.5) })).message).toMatch(/RT312.*whole milliseconds.*got Duration.millis\(1.5\)/);
  });
});

describe("the other engineer's checks, wired in where the trigger builds names and descriptions", () => {
  it("RT209: an alarm name too long for CloudWatch names the props it is built from", () => {
    const stack = newStack();
    const { code, message } = refusal(
      () => new ServiceLevelObjective(stack, 'Checkout', { sli: Sli.lambdaAvailability(new Alias(stack, 'Live', { aliasName: 'live', version: lambdaFunction(stack).currentVersion })), objectivePercent: 99.9, alarmNamePrefix: 'p'.repeat(250) }),
    );
    expect(code).toBe('RT209');
    expect(message).toMatch(/TestStack\/Checkout\/page-1h: the alarm name built from alarmNamePrefix, sloName and the tier: alarm name "p+…" is 272 characters, CloudWatch allows at most 255/);
  });

  it('RT220: a rollback alarm description over 1,024 characters, built from a long sloName', () => {
    const f = lambdaCanary();
    const sloName = 'n'.repeat(866);
    const slo = new ServiceLevelObjective(f.stack, 'Long', { sli: Sli.lambdaAvailability(f.alias), objectivePercent: 99.5, sloName });
    const { code, message } = refusal(() => lambdaTrigger({ objectives: [slo] }, f));
    expect(code).toBe('RT220');
    expect(message).toMatch(/TestStack\/Rollback: the description of the rollback alarm of SLO n+ \(built from its sloName\) would be \d+ characters/);
  });

  it("keeps the handlers' and rules' descriptions within Lambda's 256 and EventBridge's 512 characters under a deep construct path", () => {
    const stack = newStack();
    let scope: Construct = stack;
    for (let i = 0; i < 6; i++) scope = new Construct(scope, `Level${i}`.padEnd(60, 'x'));
    const fn = lambdaFunction(stack);
    const alias = new Alias(stack, 'Live', { aliasName: 'live', version: fn.currentVersion });
    const group = new LambdaDeploymentGroup(scope, 'Group', { alias, autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true } });
    const slo = new ServiceLevelObjective(stack, 'Availability', { sli: Sli.lambdaAvailability(alias), objectivePercent: 99.9 });
    new RollbackTrigger(stack, 'Rollback', { target: RollbackTarget.lambdaAlias({ deploymentGroup: group, alias }), objectives: [slo] });
    expect(group.node.path.length).toBeGreaterThan(256);
    const template = Template.fromStack(stack);
    const descriptions = Object.values(template.findResources('AWS::Lambda::Function')).flatMap((r) => (r.Properties.Description ? [r.Properties.Description as string] : []));
    for (const d of descriptions) expect(d.length).toBeLessThanOrEqual(256);
    expect(descriptions.some((d) => d.startsWith('cdk-rollback-triggers bake steps for …') && d.endsWith('/Group (run by Step Functions)'))).toBe(true);
    for (const r of Object.values(template.findResources('AWS::Events::Rule'))) expect(String(r.Properties.Description).length).toBeLessThanOrEqual(512);
  });
});

describe('inputs of the wrong kind and wiring that cannot work: refused', () => {
  it('RT334: a missing target, an objective or health check of the wrong kind, an unknown inconclusiveAction, an imported deployment group', () => {
    const f = lambdaCanary();
    expect(refusal(() => new RollbackTrigger(f.stack, 'A', { objectives: [f.slo] } as never)).message).toMatch(/RT334.*TestStack\/A: target must be RollbackTarget.lambdaAlias/);
    expect(refusal(() => lambdaTrigger({ objectives: [f.slo, undefined as never] }, f)).message).toMatch(/RT334.*objectives\[1\] must be a ServiceLevelObjective, got undefined/);
    expect(refusal(() => lambdaTrigger({ healthChecks: [{ name: 'x' } as never] })).message).toMatch(/RT334.*healthChecks\[0\] must be HealthCheck.http/);
    expect(refusal(() => lambdaTrigger({ inconclusiveAction: 'maybe' as InconclusiveAction })).message).toMatch(/RT334.*inconclusiveAction must be InconclusiveAction.FAIL, InconclusiveAction.PASS or InconclusiveAction.ESCALATE, got "maybe"/);
    const g = lambdaCanary();
    const imported = LambdaDeploymentGroup.fromLambdaDeploymentGroupAttributes(g.stack, 'Imported', { application: g.group.application, deploymentGroupName: 'live' });
    expect(refusal(() => RollbackTarget.lambdaAlias({ deploymentGroup: imported as never, alias: g.alias })).message).toMatch(/RT334.*deploymentGroup must be a LambdaDeploymentGroup of this app/);
  });

  it('RT335: a second trigger on a deployment group another trigger guards', () => {
    const e = ecsFixture();
    new RollbackTrigger(e.stack, 'Rollback', { target: e.target(), objectives: [e.slo] });
    const latency = new ServiceLevelObjective(e.stack, 'Latency', { sli: Sli.targetGroupLatency(e.green, Duration.millis(250)), objectivePercent: 99 });
    expect(refusal(() => new RollbackTrigger(e.stack, 'Second', { target: e.target(), objectives: [latency] })).message).toMatch(
      /RT335.*TestStack\/Second: deployment group TestStack\/Deployment is already guarded by RollbackTrigger TestStack\/Rollback/,
    );
  });

  it('RT336: an imported target group without its load balancer (no metrics to alarm on)', () => {
    const e = ecsFixture();
    const imported = ApplicationTargetGroup.fromTargetGroupAttributes(e.stack, 'ImportedTg', { targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/green/0123456789abcdef' });
    expect(refusal(() => e.target({ greenTargetGroup: imported })).message).toMatch(/RT336.*greenTargetGroup TestStack\/ImportedTg has no CloudWatch metrics.*import it with loadBalancerArns/);
  });
});
