import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { LambdaDeploymentGroup } from 'aws-cdk-lib/aws-codedeploy';
import { Vpc } from 'aws-cdk-lib/aws-ec2';
import { Cluster, ContainerImage, DeploymentControllerType, FargateService, FargateTaskDefinition } from 'aws-cdk-lib/aws-ecs';
import { Alias, Function, Runtime } from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { EVALUATOR_CONFIG_SCHEMA_VERSION, EvaluatorEnv, MAX_EXPRESSIONS_PER_MATH_ALARM, MAX_METRICS_PER_MATH_ALARM, StarterEnv, armScopesFor, buildMetricQueries } from '../../lib/core';
import { parseExpression, referencedIds } from '../core/emulator/expression';
import { HealthCheck, InconclusiveAction, RollbackPlan, RollbackTarget, RollbackTrigger, ServiceLevelObjective, Sli } from '../../lib';
import { FargateServiceStack } from '../../examples/fargate-service';
import { countMetric, lambdaCanary, lambdaFunction, newStack } from '../helpers';
import { ALB_METRICS_DOCS, DOCUMENTED_TARGET_GROUP_METRICS, HAZARDS, MORE_RESPONSES_THAN_REQUESTS, evaluateQueries, returned, windowValues } from '../slo/target-group-hazards';

interface Fixture {
  stack: Stack;
  fn: Function;
  alias: Alias;
  group: LambdaDeploymentGroup;
  slo: ServiceLevelObjective;
}

function lambdaFixture(stack: Stack = newStack(), groupProps: Partial<ConstructorParameters<typeof LambdaDeploymentGroup>[2]> = {}): Fixture {
  return lambdaCanary(stack, groupProps);
}

function trigger(f: Fixture, props: Partial<ConstructorParameters<typeof RollbackTrigger>[2]> = {}) {
  return new RollbackTrigger(f.stack, 'Rollback', { target: RollbackTarget.lambdaAlias({ deploymentGroup: f.group, alias: f.alias }), objectives: [f.slo], ...props });
}

function evaluatorConfig(stack: Stack): any {
  const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).find((r) => r.Properties.Environment?.Variables?.[EvaluatorEnv.CONFIG]);
  const joined = fn!.Properties.Environment.Variables[EvaluatorEnv.CONFIG];
  // Stack.toJsonString renders tokens as an Fn::Join; stringify the intrinsics to parse the rest.
  const text = typeof joined === 'string' ? joined : joined['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : `<${JSON.stringify(p).replace(/"/g, "'")}>`)).join('');
  return JSON.parse(text);
}

describe('RollbackTrigger on a Lambda alias', () => {
  it('attaches the SLO page tier measured on the deployed version to the deployment group', () => {
    const f = lambdaFixture();
    const t = trigger(f);
    expect(t.rollbackAlarms).toHaveLength(1);
    const template = Template.fromStack(f.stack);
    const alarmId = f.stack.getLogicalId(t.rollbackAlarms[0].node.defaultChild as never);
    const group = Object.values(template.findResources('AWS::CodeDeploy::DeploymentGroup'))[0].Properties;
    expect(group.AlarmConfiguration).toEqual({ Enabled: true, Alarms: [{ Name: { Ref: alarmId } }] });
    expect(group.AutoRollbackConfiguration.Events).toEqual(expect.arrayContaining(['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_STOP_ON_REQUEST']));
    const alarm = template.toJSON().Resources[alarmId].Properties;
    expect(alarm.Threshold).toBe(14.4);
    const bad = alarm.Metrics.find((m: any) => m.Id === 'bad');
    // The tier's short window: on a new version the long one holds only the minutes since release.
    expect(bad.MetricStat.Period).toBe(300);
    const executed = bad.MetricStat.Metric.Dimensions.find((d: any) => d.Name === 'ExecutedVersion');
    expect(executed.Value['Fn::GetAtt'][0]).toMatch(/^FnCurrentVersion/);
    expect(executed.Value['Fn::GetAtt'][1]).toBe('Version');
  });

  it('compares the new version with the rest of the alias traffic, so a shared incident does not roll back', () => {
    const f = lambdaFixture();
    const t = trigger(f);
    const alarm = Template.fromStack(f.stack).toJSON().Resources[f.stack.getLogicalId(t.rollbackAlarms[0].node.defaultChild as never)].Properties;
    const byId = Object.fromEntries(alarm.Metrics.map((m: any) => [m.Id, m]));
    const WEIGHED = 'IF(total * 0.9 > 0.1 * (FILL(basetotal, 0) - total), total, 0.1 * (FILL(basetotal, 0) - total) / 0.9)';
    expect(byId.expr_1.Expression).toBe(
      // The old version (alias total minus the new version) needs 70 events in the window too, and
      // at least as many as the new version: otherwise the alarm holds at 0 and the evaluator judges
      // the minutes the new version served alone. The new version's bad events must exceed e, what
      // 2 × the old ratio predicts, by three standard deviations: (bad − e)² > 9 × (e + 1).
      // The alias (which carries the new version's traffic) must show at least half its bad events,
      // and the new version must fail more than 1.9× as often as the whole alias: the guards against
      // the two series arriving apart (test/core/emulator/lag.test.ts).
      // With the deployment's canary share (CodeDeployDefault.LambdaCanary10Percent5Minutes: 0.1),
      // e counts the new version as if it had served the whole window at that share while it has
      // served less (its first minutes): max(total, 0.1 × old ÷ 0.9), as products (relativeExpectedBad).
      'IF(total >= 70, IF((FILL(basetotal, 0) - total) >= 70, IF((FILL(basetotal, 0) - total) >= total, ' +
        'IF(2 * FILL(basebad, 0) >= FILL(bad, 0), IF(FILL(bad, 0) * FILL(basetotal, 0) > 1.9 * FILL(basebad, 0) * total, ' +
        `IF((FILL(bad, 0) - (2 * (FILL(basebad, 0) - FILL(bad, 0)) / (FILL(basetotal, 0) - total) * ${WEIGHED})) > 0, ` +
        `IF((FILL(bad, 0) - (2 * (FILL(basebad, 0) - FILL(bad, 0)) / (FILL(basetotal, 0) - total) * ${WEIGHED})) * ` +
        `(FILL(bad, 0) - (2 * (FILL(basebad, 0) - FILL(bad, 0)) / (FILL(basetotal, 0) - total) * ${WEIGHED})) > ` +
        `9 * ((2 * (FILL(basebad, 0) - FILL(bad, 0)) / (FILL(basetotal, 0) - total) * ${WEIGHED}) + 1), FILL(bad, 0) / total, 0), 0), 0), 0), 0), 0), 0) / 0.001`,
    );
    // MetricDataQuery.Expression is limited to 2,048 characters (CloudWatch API reference); keep a quarter of it spare.
    expect(byId.expr_1.Expression.length).toBeLessThanOrEqual(1536);
    const names = (id: string) => byId[id].MetricStat.Metric.Dimensions.map((d: any) => d.Name).sort();
    expect(names('bad')).toEqual(['ExecutedVersion', 'FunctionName', 'Resource']);
    expect(names('basebad')).toEqual(['FunctionName', 'Resource']);
    expect(byId.basetotal.MetricStat.Metric.MetricName).toBe('Invocations');
  });

  it('compares with the budget alone when baselineFactor is 0, and rejects a negative one', () => {
    const f = lambdaFixture();
    const t = trigger(f, { baselineFactor: 0 });
    const alarm = Template.fromStack(f.stack).toJSON().Resources[f.stack.getLogicalId(t.rollbackAlarms[0].node.defaultChild as never)].Properties;
    expect(alarm.Metrics[0].Expression).toBe('IF(total >= 70, FILL(bad, 0) / total, 0) / 0.001');
    expect(() => trigger(lambdaFixture(), { baselineFactor: -1 })).toThrow(/RT314/);
  });

  it('makes the alias update wait for the alarm update', () => {
    const f = lambdaFixture();
    const t = trigger(f);
    Template.fromStack(f.stack).hasResource('AWS::Lambda::Alias', {
      DependsOn: Match.arrayWith([f.stack.getLogicalId(t.rollbackAlarms[0].node.defaultChild as never)]),
      UpdatePolicy: {
        CodeDeployLambdaAliasUpdate: Match.objectLike({
          BeforeAllowTrafficHook: { Ref: f.stack.getLogicalId(t.hookFunction.node.defaultChild as never) },
          AfterAllowTrafficHook: { Ref: f.stack.getLogicalId(t.hookFunction.node.defaultChild as never) },
        }),
      },
    });
  });

  it('configures the evaluator from the SLO: fastest page tier, alias-level metrics, defaults', () => {
    const f = lambdaFixture();
    trigger(f);
    const config = evaluatorConfig(f.stack);
    expect(config).toMatchObject({
      schemaVersion: EVALUATOR_CONFIG_SCHEMA_VERSION,
      platform: 'lambda',
      mode: 'enforce',
      bakeSeconds: 600,
      inconclusiveAction: 'fail',
      compareWithBaseline: true,
      metricDelaySeconds: 180,
    });
    expect(config.slos).toEqual([
      expect.objectContaining({ name: 'Availability', errorBudget: 0.001, failBurnRate: 14.4, shortWindowSeconds: 300, minEvents: 70, numeratorKind: 'bad' }),
    ]);
    expect(config.slos[0].numerator).toMatchObject({ namespace: 'AWS/Lambda', metricName: 'Errors', stat: 'Sum' });
    expect(config.slos[0].numerator.dimensionSet).toBe(0);
    // ExecutedVersion is set per arm at run time; the alias-level dimensions are stored once.
    expect(Object.keys(config.dimensionSets[0]).sort()).toEqual(['FunctionName', 'Resource']);
  });

  it('runs its three handlers on the newest Node.js runtime, the evaluator with its state and bus', () => {
    const f = lambdaFixture();
    const t = trigger(f);
    const template = Template.fromStack(f.stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Handler: 'evaluator.handler',
      Environment: { Variables: Match.objectLike({ [EvaluatorEnv.STATE_TABLE]: { Ref: Match.anyValue() }, [EvaluatorEnv.EVENT_BUS]: { Ref: Match.anyValue() } }) },
    });
    const own = [t.hookFunction, t.evaluatorFunction, t.stateChangeFunction].map((fn) => f.stack.getLogicalId(fn.node.defaultChild as never));
    const functions = template.findResources('AWS::Lambda::Function');
    for (const id of own) expect(functions[id].Properties).toMatchObject({ Runtime: 'nodejs24.x', MemorySize: 256 });
    expect(t.stateTable).toBeDefined();
  });

  it('traces every handler with X-Ray, as the machines are: a hook start, its bake and their steps join one trace', () => {
    const f = lambdaFixture();
    const t = trigger(f);
    const functions = Template.fromStack(f.stack).findResources('AWS::Lambda::Function');
    for (const fn of [t.hookFunction, t.evaluatorFunction, t.stateChangeFunction]) {
      expect(functions[f.stack.getLogicalId(fn.node.defaultChild as never)].Properties.TracingConfig).toEqual({ Mode: 'Active' });
    }
  });

  it('starts one Step Functions Standard execution per hook: the hook function only knows the machine', () => {
    const f = lambdaFixture();
    const t = trigger(f);
    const template = Template.fromStack(f.stack);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    });
    const hook = template.findResources('AWS::Lambda::Function')[f.stack.getLogicalId(t.hookFunction.node.defaultChild as never)];
    expect(Object.keys(hook.Properties.Environment.Variables).sort()).toEqual(
      [StarterEnv.DEADLINE_SECONDS, StarterEnv.EVENT_BUS, StarterEnv.STATE_MACHINE_ARN, StarterEnv.APPLICATION_NAME, StarterEnv.DEPLOYMENT_GROUP_NAME].sort(),
    );
    expect(hook.Properties.Environment.Variables[StarterEnv.DEADLINE_SECONDS]).toBe('3300');
    // No self-invocation is left: the machine waits, retries and reports.
    const machineRole = f.stack.getLogicalId(t.bakeStateMachine.node.findChild('Role').node.defaultChild as never);
    const invokers = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((p) => p.Properties.PolicyDocument.Statement.some((s: { Action: string | string[] }) => [s.Action].flat().includes('lambda:InvokeFunction')))
      .map((p) => p.Properties.Roles);
    // The state machine invokes the evaluator; CodeDeploy's role the hook. No function invokes itself.
    expect(invokers).toEqual(expect.arrayContaining([[{ Ref: machineRole }], [{ Ref: f.stack.getLogicalId(f.group.role.node.defaultChild as never) }]]));
    expect(invokers.length).toBe(2);
  });

  it('keeps nothing it is handed asynchronously: retries, an encrypted dead-letter queue, an alarm on its depth', () => {
    const f = lambdaFixture();
    const t = trigger(f);
    const template = Template.fromStack(f.stack);
    const queue = f.stack.getLogicalId(t.deadLetterQueue.node.defaultChild as never);
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1_209_600 });
    for (const fn of [t.hookFunction, t.stateChangeFunction]) {
      const id = f.stack.getLogicalId(fn.node.defaultChild as never);
      expect(template.findResources('AWS::Lambda::Function')[id].Properties.DeadLetterConfig).toEqual({ TargetArn: { 'Fn::GetAtt': [queue, 'Arn'] } });
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { FunctionName: { Ref: id }, MaximumRetryAttempts: 2 });
    }
    const rules = Object.values(template.findResources('AWS::Events::Rule'));
    expect(rules.length).toBe(2);
    for (const rule of rules) {
      for (const target of rule.Properties.Targets) {
        expect(target.DeadLetterConfig).toEqual({ Arn: { 'Fn::GetAtt': [queue, 'Arn'] } });
        expect(target.RetryPolicy.MaximumRetryAttempts).toBeGreaterThan(0);
      }
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }],
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      AlarmActions: [{ Ref: Match.stringLikeRegexp('Notices') }],
    });
    expect(t.operationalAlarms.length).toBe(2);
  });

  it('lets the notices rule and the operational alarms publish to the encrypted topic it creates', () => {
    const f = lambdaFixture();
    trigger(f);
    const template = Template.fromStack(f.stack);
    const key = Object.values(template.findResources('AWS::KMS::Key'))[0];
    const keyGrants = key.Properties.KeyPolicy.Statement.filter((st: { Principal?: { Service?: string } }) => st.Principal?.Service);
    expect(keyGrants.map((st: { Principal: { Service: string } }) => st.Principal.Service).sort()).toEqual(['cloudwatch.amazonaws.com', 'events.amazonaws.com']);
    for (const st of keyGrants) expect(st.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    const topicPolicy = Object.values(template.findResources('AWS::SNS::TopicPolicy'))[0];
    const publishers = topicPolicy.Properties.PolicyDocument.Statement.filter((st: { Effect: string; Action: string }) => st.Effect === 'Allow' && st.Action === 'sns:Publish');
    expect(publishers.map((st: { Principal: { Service: string } }) => st.Principal.Service).sort()).toEqual(['cloudwatch.amazonaws.com', 'events.amazonaws.com']);
  });

  it('rejects a deadline outside the hour and a runtime that cannot run the JavaScript handlers', () => {
    expect(() => trigger(lambdaFixture(), { deadline: Duration.minutes(56) })).toThrow(/RT316.*deadline must be whole seconds from 1 min to 55 min.*got 56 min/);
    expect(() => trigger(lambdaFixture(), { deadline: Duration.seconds(30) })).toThrow(/RT316.*got 30 s/);
    expect(() => trigger(lambdaFixture(), { deadline: Duration.minutes(20), bake: Duration.minutes(30) })).toThrow(/RT305.*at most 17 min/);
    expect(() => trigger(lambdaFixture(), { runtime: Runtime.PYTHON_3_12 })).toThrow(/RT315.*runtime must be a Node.js runtime.*python3.12/);
    // The handlers are ES modules importing the runtime's AWS SDK v3: nodejs18.x or newer.
    expect(() => trigger(lambdaFixture(), { runtime: Runtime.NODEJS_16_X })).toThrow(/RT390.*runtime must be nodejs18.x or newer.*got nodejs16.x/);
    expect(() => trigger(lambdaFixture(), { runtime: Runtime.NODEJS })).toThrow(/RT390.*got nodejs$/);
    expect(() => trigger(lambdaFixture(), { runtime: Runtime.NODEJS_18_X })).not.toThrow();
    const f = lambdaFixture();
    const t = trigger(f, { deadline: Duration.minutes(40) });
    expect(evaluatorConfig(f.stack).deadlineMarginSeconds).toBe(1200);
    // The policy carries it too, so a replay of the synthesized policy bakes to the same deadline.
    expect(t._policy.deadlineSeconds).toBe(2400);
  });

  it('grants least privilege: CodeDeploy on the group, PutEvents on the bus, GetMetricData on * only', () => {
    const f = lambdaFixture();
    trigger(f);
    const policies = Object.values(Template.fromStack(f.stack).findResources('AWS::IAM::Policy'));
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement) as Array<{ Action: string | string[]; Resource: unknown }>;
    const actions = statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions.some((a) => a === '*' || a.endsWith(':*'))).toBe(false);
    for (const s of statements) {
      const acts = Array.isArray(s.Action) ? s.Action : [s.Action];
      if (acts.some((a) => a === 'codedeploy:GetDeployment' || a === 'codedeploy:PutLifecycleEventHookExecutionStatus')) {
        expect(JSON.stringify(s.Resource)).toContain(':deploymentgroup:');
      }
      // Step Functions tracing and log delivery have no resource-level permissions either.
      const unscoped = ['cloudwatch:GetMetricData', 'codedeploy:ListDeploymentTargets', 'codedeploy:BatchGetDeploymentTargets', 'ecs:DescribeTaskDefinition', 'ecs:DescribeTaskSets', 'xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets'];
      if (s.Resource === '*') expect(acts.every((a) => unscoped.includes(a) || a.startsWith('logs:') && !a.includes('PutLogEvents'))).toBe(true);
      if (acts.includes('events:PutEvents')) expect(JSON.stringify(s.Resource)).toContain('AuditBus');
    }
  });

  it('keeps state encrypted with point-in-time recovery and archives audit events', () => {
    const f = lambdaFixture();
    trigger(f);
    const template = Template.fromStack(f.stack);
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    template.hasResourceProperties('AWS::Events::Archive', { EventPattern: { source: ['rollback-triggers'] }, RetentionDays: 365 });
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ source: ['aws.codedeploy'], 'detail-type': ['CodeDeploy Deployment State-change Notification'] }),
    });
  });

  it('matches the snapshot in its default configuration', () => {
    const f = lambdaFixture();
    trigger(f);
    expect(Template.fromStack(f.stack).toJSON()).toMatchSnapshot();
  });

  it('appears in the plan with its alarms, detection times and cost', () => {
    const f = lambdaFixture();
    trigger(f);
    const plan = RollbackPlan.of(f.stack);
    expect(plan.render()).toMatch(/Rollback trigger Rollback \(lambda\): 1 of at most 10 alarms on the deployment group; evaluator bakes 10 min, inconclusive → fail/);
    // One 5-minute window at 14.4× (1.44 % errors): 4.3 s, 43 s and 216 s of bad traffic.
    expect(plan.render()).toMatch(/Availability\s+version\s+page-1h\s+14\.4×\s+1 min\s+1 min\s+4 min/);
    // 8 SLO window alarms of 2 metrics, 1 rollback alarm of 4 (the version and the whole alias),
    // 2 composites (one per severity): 16 × $0.10 + 4 × $0.10 + 2 × $0.50.
    expect(plan.metricAlarmCount).toBe(9);
    expect(plan.monthlyCostUsd).toBe(3);
  });

  it('can suspend the alarm path through context to deploy a fix', () => {
    const app = new App({ context: { [RollbackTrigger.SUSPEND_ALARM_PATH_CONTEXT]: 'true' } });
    const f = lambdaFixture(new Stack(app, 'TestStack'));
    trigger(f);
    const group = Object.values(Template.fromStack(f.stack).findResources('AWS::CodeDeploy::DeploymentGroup'))[0];
    expect(group.Properties.AlarmConfiguration.Enabled).toBe(false);
    expect(group.Properties.AlarmConfiguration.Alarms).toHaveLength(1);
    Annotations.fromStack(f.stack).hasWarning('/TestStack/Rollback', Match.stringLikeRegexp('alarm path is suspended'));
  });

  it('warns loudly when an SLO measures blended traffic', () => {
    const f = lambdaFixture();
    const blended = new ServiceLevelObjective(f.stack, 'Payments', {
      sli: Sli.errorRatio({ badEvents: countMetric('Failed'), totalEvents: countMetric('All') }),
      objectivePercent: 99.5,
    });
    trigger(f, { objectives: [f.slo, blended] });
    Annotations.fromStack(f.stack).hasWarning('/TestStack/Rollback', Match.stringLikeRegexp('blended.*10 % canary'));
  });
});

describe('health checks', () => {
  it('hands HTTP and Synthetics checks to the evaluator with their defaults', () => {
    const f = lambdaFixture();
    trigger(f, {
      healthChecks: [
        HealthCheck.http({ name: 'home', url: 'https://example.test/health' }),
        HealthCheck.synthetics({ name: 'journey', canaryName: 'checkout-journey', minSuccessPercent: 90 }),
      ],
    });
    expect(evaluatorConfig(f.stack).healthChecks).toEqual([
      { kind: 'http', name: 'home', url: 'https://example.test/health', timeoutMs: 5000, failAfter: 3 },
      { kind: 'synthetics', name: 'journey', canaryName: 'checkout-journey', minSuccessPercent: 90 },
    ]);
  });

  it('carries the same checks in the policy the simulator replays (no probe timeout; a deploy-time URL or canary name left out)', () => {
    const f = lambdaFixture();
    const t = trigger(f, {
      healthChecks: [
        HealthCheck.http({ name: 'home', url: 'https://example.test/health', failAfter: 2, timeout: Duration.seconds(2) }),
        HealthCheck.synthetics({ name: 'journey', canaryName: 'checkout-journey', minSuccessPercent: 90 }),
        HealthCheck.http({ name: 'fn', url: f.fn.functionArn }),
        HealthCheck.synthetics({ name: 'search', canaryName: f.fn.functionName }),
      ],
    });
    expect(t._policy.healthChecks).toEqual([
      { kind: 'http', name: 'home', url: 'https://example.test/health', failAfter: 2 },
      { kind: 'synthetics', name: 'journey', canaryName: 'checkout-journey', minSuccessPercent: 90 },
      { kind: 'http', name: 'fn', failAfter: 3 },
      { kind: 'synthetics', name: 'search', minSuccessPercent: 100 },
    ]);
    expect(evaluatorConfig(f.stack).healthChecks).toHaveLength(4);
    // In the construct metadata `rollback-triggers plan` and `simulate --assembly` read.
    const metadata = f.stack.node.findChild('Rollback').node.metadata.find((m) => m.type === 'cdk-rollback-triggers:policy');
    expect((metadata!.data as { entry: { healthChecks: unknown } }).entry.healthChecks).toEqual(t._policy.healthChecks);
    // None configured: the policy has none, as older policies.
    expect(trigger(lambdaFixture())._policy).not.toHaveProperty('healthChecks');
  });

  it('rejects a URL that is not http(s), a failAfter below 1, a timeout beyond a tick and a success share out of range', () => {
    expect(() => HealthCheck.http({ name: 'x', url: 'ftp://example.test' })).toThrow(/RT310.*got "ftp:\/\/example.test"/);
    expect(() => HealthCheck.http({ name: 'x', url: 'https://example.test', failAfter: 0 })).toThrow(/RT311/);
    expect(() => HealthCheck.http({ name: 'x', url: 'https://example.test', timeout: Duration.minutes(1) })).toThrow(/RT312/);
    expect(() => HealthCheck.synthetics({ name: 'x', canaryName: 'c', minSuccessPercent: 0 })).toThrow(/RT313/);
  });
});

describe('RollbackTrigger validation', () => {
  it('needs at least one SLO', () => {
    expect(() => trigger(lambdaFixture(), { objectives: [] })).toThrow(/RT301/);
  });

  it('rejects a bake longer than the hook limit allows', () => {
    expect(() => trigger(lambdaFixture(), { bake: Duration.minutes(55) })).toThrow(/RT305.*at most 52 min/);
    expect(() => trigger(lambdaFixture(), { bake: Duration.minutes(50) })).not.toThrow();
  });

  it('rejects more alarms than the cap, and accepts them with a raised cap', () => {
    const f = lambdaFixture();
    const objectives = [f.slo, ...Array.from({ length: 9 }, (_, i) => new ServiceLevelObjective(f.stack, `Slo${i}`, { sli: Sli.lambdaAvailability(f.alias), objectivePercent: 99.9 - (i + 1) / 100 }))];
    expect(() => trigger(f, { objectives, maxAlarmsPerDeploymentGroup: 9 })).toThrow(/RT306.*10 alarms.*cap of 9/);
    const g = lambdaFixture();
    const more = [g.slo, ...Array.from({ length: 9 }, (_, i) => new ServiceLevelObjective(g.stack, `Slo${i}`, { sli: Sli.lambdaAvailability(g.alias), objectivePercent: 99.9 - (i + 1) / 100 }))];
    expect(() => trigger(g, { objectives: more, maxAlarmsPerDeploymentGroup: 50 })).not.toThrow();
  });

  it("refuses an evaluator configuration beyond Lambda's 4 KB of environment", () => {
    const f = lambdaFixture();
    const objectives = [f.slo, ...Array.from({ length: 12 }, (_, i) => new ServiceLevelObjective(f.stack, `Slo${i}`, { sli: Sli.lambdaAvailability(f.alias), objectivePercent: 99.9 - (i + 1) / 100 }))];
    expect(() => trigger(f, { objectives, maxAlarmsPerDeploymentGroup: 50 })).toThrow(/RT309.*bytes of environment, above Lambda's 4096/);
  });

  it('counts alarms the user already attached against the cap at synth', () => {
    const f = lambdaFixture();
    for (let i = 0; i < 10; i++) f.group.addAlarm(countMetric(`M${i}`).createAlarm(f.stack, `Own${i}`, { threshold: 1, evaluationPeriods: 1 }));
    trigger(f);
    expect(() => Template.fromStack(f.stack)).toThrow(/RT306.*11 alarms/);
  });

  it('rejects a second pre- or post-traffic hook', () => {
    const f = lambdaFixture();
    f.group.addPreHook(lambdaFunction(f.stack, 'OtherHook'));
    expect(() => trigger(f)).toThrow(/RT304.*already has a pre- or post-traffic hook/);
  });

  it('requires the deployment group to roll back on failure, stop and alarm', () => {
    const f = lambdaFixture(newStack(), { autoRollback: { failedDeployment: true, stoppedDeployment: false, deploymentInAlarm: true } });
    trigger(f);
    expect(() => Template.fromStack(f.stack)).toThrow(/RT303.*DEPLOYMENT_STOP_ON_REQUEST/);
  });

  it('warns when alarm-poll failures are ignored while the evaluator fails closed', () => {
    const f = lambdaFixture(newStack(), { ignorePollAlarmsFailure: true });
    trigger(f, { inconclusiveAction: InconclusiveAction.FAIL });
    Annotations.fromStack(f.stack).hasWarning('/TestStack/Rollback', Match.stringLikeRegexp('ignores alarm-poll failures'));
  });

  it('rejects an ECS service without the CODE_DEPLOY deployment controller', () => {
    const stack = newStack();
    const vpc = new Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
    const cluster = new Cluster(stack, 'Cluster', { vpc });
    const task = new FargateTaskDefinition(stack, 'Task');
    task.addContainer('web', { image: ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable'), portMappings: [{ containerPort: 80 }] });
    const ecsService = new FargateService(stack, 'Service', { cluster, taskDefinition: task, deploymentController: { type: DeploymentControllerType.ECS } });
    expect(() => RollbackTarget.ecsService({ service: ecsService } as never)).toThrow(/RT302.*CODE_DEPLOY/);
  });
});

describe('RollbackTrigger on an ECS service (blue and green target groups)', () => {
  const stack = new FargateServiceStack(new App(), 'FargateService', { env: { region: 'eu-west-1' } });
  const trigger = stack.rollbackTrigger;
  const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, { Properties: Record<string, any> }> };
  const availability = trigger._policy.alarms
    .map((policy, i) => ({ policy, queries: template.Resources[stack.getLogicalId(trigger.rollbackAlarms[i].node.defaultChild as never)].Properties.Metrics as any[] }))
    .filter((a) => a.policy.slo === 'Availability');

  it('compares each target group with the other within CloudWatch’s 10 metrics per alarm: 5 each', () => {
    expect(availability.map((a) => a.policy.scope).sort()).toEqual(['blue', 'green']);
    for (const { policy, queries } of availability) {
      const stats = queries.filter((m) => m.MetricStat);
      expect(stats).toHaveLength(MAX_METRICS_PER_MATH_ALARM);
      expect(policy.metricCount).toBe(MAX_METRICS_PER_MATH_ALARM);
      expect(stats.map((m) => m.Id).sort()).toEqual(['baset2xx', 'baset3xx', 'baset4xx', 'baset5xx', 'basetotal', 't2xx', 't3xx', 't4xx', 't5xx', 'total']);
      // The comparison itself, and one expression query per target group's bad count.
      const expressions = queries.filter((m) => m.Expression);
      expect(expressions.map((m) => m.Id).sort()).toEqual(['bad', 'basebad', 'expr_1']);
      expect(expressions.length).toBeLessThanOrEqual(MAX_EXPRESSIONS_PER_MATH_ALARM);
      expect(returned(queries).Id).toBe('expr_1');
      // The baseline's copy reads the other target group, under its own ids.
      expect(queries.find((m) => m.Id === 'basebad').Expression).toBe(queries.find((m) => m.Id === 'bad').Expression.replace(/\b(t[2-5]xx|total)\b/g, 'base$1'));
      const group = (id: string) => JSON.stringify(stats.find((m) => m.Id === id).MetricStat.Metric.Dimensions);
      for (const part of ['t2xx', 't3xx', 't4xx', 't5xx']) {
        expect(group(part)).toBe(group('total'));
        expect(group(`base${part}`)).toBe(group('basetotal'));
      }
      expect(group('basetotal')).not.toBe(group('total'));
      for (const m of stats) {
        expect(DOCUMENTED_TARGET_GROUP_METRICS[m.MetricStat.Metric.MetricName], `${m.MetricStat.Metric.MetricName}: ${ALB_METRICS_DOCS}`).toBeDefined();
        expect(m.MetricStat.Stat).toBe('Sum');
      }
      // MetricDataQuery.Expression is limited to 2,048 characters (CloudWatch API reference).
      for (const e of expressions) expect(e.Expression.length).toBeLessThanOrEqual(1024);
    }
  });

  /** The original task set's usual traffic: 9,000 requests in the window, 10 target 5xx. */
  const healthyBlue = { requests: 9_000, t2xx: 8_950, t4xx: 40, t5xx: 10 };

  // CodeDeploy swaps the roles of the groups every release: each alarm burns when its own group
  // (the replacement) fails while the other one serves as usual.
  describe.each(HAZARDS)('rolls back the replacement task set for $name', ({ window, failed }) => {
    it(`${failed} failed of ${window.requests} against the original task set's usual traffic`, () => {
      for (const { policy, queries } of availability) {
        const [canary, baseline] = [window, healthyBlue];
        const values = evaluateQueries(queries, { ...windowValues(canary), ...windowValues(baseline, 'base') });
        expect(values.bad).toBe(failed);
        expect(values.basebad).toBe(10);
        expect(values[returned(queries).Id]).toBeGreaterThanOrEqual(policy.tier.factor);
        // The SLI that counted target 5xx only saw (at most) the targets' own errors.
        const fiveXxOnly = evaluateQueries(
          queries.map((q) => (q.Id === 'bad' ? { ...q, Expression: 'FILL(t5xx, 0)' } : q.Id === 'basebad' ? { ...q, Expression: 'FILL(baset5xx, 0)' } : q)),
          { ...windowValues(canary), ...windowValues(baseline, 'base') },
        );
        if ((window.t5xx ?? 0) === 0) expect(fiveXxOnly[returned(queries).Id]).toBe(0);
      }
    });
  });

  it('does not roll back when both target groups fail alike (an incident they share)', () => {
    for (const { queries } of availability) {
      const green = { requests: 1_000, t2xx: 880, t4xx: 20 };
      const blue = { requests: 9_000, t2xx: 7_920, t4xx: 180 };
      const values = evaluateQueries(queries, { ...windowValues(green), ...windowValues(blue, 'base') });
      expect(values.bad).toBe(100);
      expect(values.basebad).toBe(900);
      expect(values[returned(queries).Id]).toBe(0);
    }
  });

  it("hands the evaluator the alarm's own count of failed requests, read as metric math in the tick's one call", () => {
    const config = evaluatorConfig(stack);
    const slo = config.slos.find((s: { name: string }) => s.name === 'Availability');
    expect(slo.numerator).toBeUndefined();
    expect(slo).toMatchObject({ numeratorKind: 'bad', total: { namespace: 'AWS/ApplicationELB', metricName: 'RequestCount', stat: 'Sum' } });
    // Exactly the rollback alarm's `bad` expression, its ids as placeholders, its parts by name and statistic.
    const alarm = availability[0].queries;
    expect(slo.numeratorMath.expression.replace(/\{(\w+)\}/g, '$1')).toBe(alarm.find((m) => m.Id === 'bad').Expression);
    const stats = Object.fromEntries(alarm.filter((m) => m.MetricStat).map((m) => [m.Id, m.MetricStat]));
    for (const name of ['t2xx', 't3xx', 't4xx', 't5xx']) {
      expect(slo.numeratorMath.parts[name]).toEqual({ metricName: stats[name].Metric.MetricName, stat: stats[name].Stat });
    }
    expect(config.dimensionSets[slo.total.dimensionSet]).toEqual({});
    // Each arm's GetMetricData queries carry its target group's TargetGroup and LoadBalancer.
    const [blue, green] = config.targetGroups;
    const arms = armScopesFor(config, { platform: 'ecs', targetTargetGroup: green.name, currentTargetGroup: blue.name });
    expect(Array.isArray(arms)).toBe(true);
    const index = config.slos.indexOf(slo);
    const queries = buildMetricQueries(config, arms as never).filter((q) => q.sloIndex === index);
    const s = `s${index}`;
    expect(queries.map((q) => [q.id, q.part, q.returnData, q.metric?.metricName ?? 'expression'])).toEqual(
      (['canary', 'baseline'] as const).flatMap((arm) => [
        [`${s}_${arm}_n_t2xx`, 'term', false, 'HTTPCode_Target_2XX_Count'],
        [`${s}_${arm}_n_t3xx`, 'term', false, 'HTTPCode_Target_3XX_Count'],
        [`${s}_${arm}_n_t4xx`, 'term', false, 'HTTPCode_Target_4XX_Count'],
        [`${s}_${arm}_n_t5xx`, 'term', false, 'HTTPCode_Target_5XX_Count'],
        [`${s}_${arm}_n`, 'numerator', true, 'expression'],
        [`${s}_${arm}_t`, 'total', true, 'RequestCount'],
      ]),
    );
    for (const q of queries.filter((q) => q.metric)) expect(Object.keys(q.metric!.dimensions).sort()).toEqual(['LoadBalancer', 'TargetGroup']);
    for (const q of queries.filter((q) => q.metric && q.arm === 'canary')) expect(q.metric!.dimensions).toEqual(green.dimensions);
    for (const q of queries.filter((q) => q.metric && q.arm === 'baseline')) expect(q.metric!.dimensions).toEqual(blue.dimensions);
    // The new version's expression reads its own arm's queries only, and counts every hazard as the alarm does.
    const expression = queries.find((q) => q.id === `${s}_canary_n`)!.expression!;
    expect([...referencedIds(expression)].sort()).toEqual([`${s}_canary_n_t2xx`, `${s}_canary_n_t3xx`, `${s}_canary_n_t4xx`, `${s}_canary_n_t5xx`, `${s}_canary_t`]);
    for (const { window, failed } of [...HAZARDS, MORE_RESPONSES_THAN_REQUESTS]) {
      const values = { [`${s}_canary_t`]: window.requests, ...Object.fromEntries(['t2xx', 't3xx', 't4xx', 't5xx'].map((n) => [`${s}_canary_n_${n}`, window[n as 't2xx']])) };
      expect(parseExpression(expression)(values)).toBe(failed);
    }
    // Nothing left to apologise for at synth.
    expect(Annotations.fromStack(stack).findInfo('/FargateService/Rollback', Match.stringLikeRegexp('lower bound|one numerator metric'))).toHaveLength(0);
  });

  it('hands the evaluator the latency SLO as requests × the share above the threshold, from percentile rank', () => {
    const config = evaluatorConfig(stack);
    const slo = config.slos.find((s: { name: string }) => s.name === 'Latency');
    expect(slo).toMatchObject({
      numeratorKind: 'bad',
      numeratorMath: { expression: 'FLOOR({total} * (100 - FILL({pr}, 100)) / 100 + 0.5)', parts: { pr: { metricName: 'TargetResponseTime', stat: 'PR(:0.25)' } } },
      total: { namespace: 'AWS/ApplicationELB', metricName: 'RequestCount', stat: 'Sum' },
    });
    // The rollback alarms' own count, statistic and total.
    for (const [i, policy] of trigger._policy.alarms.entries()) {
      if (policy.slo !== 'Latency') continue;
      const queries = template.Resources[stack.getLogicalId(trigger.rollbackAlarms[i].node.defaultChild as never)].Properties.Metrics as any[];
      const byId = Object.fromEntries(queries.map((m) => [m.Id, m]));
      expect(slo.numeratorMath.expression.replace(/\{(\w+)\}/g, '$1')).toBe(byId.bad.Expression);
      expect(byId.pr.MetricStat).toMatchObject({ Stat: 'PR(:0.25)', Metric: { MetricName: 'TargetResponseTime' } });
      expect(byId.total.MetricStat).toMatchObject({ Stat: 'Sum', Metric: { MetricName: 'RequestCount' } });
    }
  });

  it('appears in the plan with 10 metrics per availability alarm and 4 per latency alarm', () => {
    expect(trigger._policy.alarms.map((a) => [a.slo, a.scope, a.metricCount])).toEqual([
      ['Availability', 'blue', 10],
      ['Availability', 'green', 10],
      ['Latency', 'blue', 4],
      ['Latency', 'green', 4],
    ]);
  });
});
