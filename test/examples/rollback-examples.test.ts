import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { ApplicationTargetGroup } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { describe, expect, it } from 'vitest';
import { FargateServiceStack } from '../../examples/fargate-service';
import { LambdaCanaryStack } from '../../examples/lambda-canary';
import { validationApp } from '../helpers';

// The Fargate example needs a concrete region (ALB access-log delivery names the region's ELB principal).
const FARGATE_ENV = { region: 'eu-west-1' };

function lambdaStack(app: App = new App()): LambdaCanaryStack {
  return new LambdaCanaryStack(app, 'LambdaCanary');
}

function fargateStack(app: App = new App()): FargateServiceStack {
  return new FargateServiceStack(app, 'FargateService', { env: FARGATE_ENV });
}

type Resource = { Type: string; Properties: Record<string, any>; DependsOn?: string[]; UpdatePolicy?: Record<string, any> };
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as CfnElement);
}

function only(template: Template, type: string): Resource {
  const found = Object.values(template.findResources(type)) as Resource[];
  expect(found).toHaveLength(1);
  return found[0];
}

/** The alarm resources named in the deployment group's AlarmConfiguration. */
function attachedAlarms(stack: Stack): Resource[] {
  const template = Template.fromStack(stack);
  const group = only(template, 'AWS::CodeDeploy::DeploymentGroup');
  const alarms = template.findResources('AWS::CloudWatch::Alarm') as Record<string, Resource>;
  return (group.Properties.AlarmConfiguration.Alarms as Array<{ Name: { Ref: string } }>).map(({ Name }) => {
    expect(alarms[Name.Ref], `AlarmConfiguration names ${JSON.stringify(Name)}, not an alarm of the stack`).toBeDefined();
    return alarms[Name.Ref];
  });
}

/** Every dimension value of a metric-math alarm, by dimension name. */
function dimensions(alarm: Resource, name: string): unknown[] {
  return (alarm.Properties.Metrics as Array<{ MetricStat?: { Metric: { Dimensions?: Array<{ Name: string; Value: unknown }> } } }>)
    .flatMap((m) => m.MetricStat?.Metric.Dimensions ?? [])
    .filter((d) => d.Name === name)
    .map((d) => d.Value);
}

function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** Statements of every IAM policy attached to the evaluator's role. */
function evaluatorStatements(stack: LambdaCanaryStack | FargateServiceStack): Statement[] {
  const roleId = logicalId(stack, stack.rollbackTrigger.evaluatorFunction.role!);
  const policies = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')) as Resource[];
  const attached = policies.filter((p) => (p.Properties.Roles as Array<{ Ref?: string }>).some((r) => r.Ref === roleId));
  expect(attached.length).toBeGreaterThan(0);
  return attached.flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

describe.each([
  ['lambda canary', () => lambdaStack()],
  ['fargate service', () => fargateStack()],
])('example: %s, shared rollback wiring', (_name, build) => {
  it('rolls back on alarm, on failure and on stop', () => {
    const group = only(Template.fromStack(build()), 'AWS::CodeDeploy::DeploymentGroup');
    expect(group.Properties.AutoRollbackConfiguration.Enabled).toBe(true);
    expect(group.Properties.AutoRollbackConfiguration.Events).toEqual(
      expect.arrayContaining(['DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST']),
    );
  });

  it('attaches exactly the trigger rollback alarms to the deployment group', () => {
    const stack = build();
    const group = only(Template.fromStack(stack), 'AWS::CodeDeploy::DeploymentGroup');
    expect(group.Properties.AlarmConfiguration.Enabled).toBe(true);
    expect(group.Properties.AlarmConfiguration.Alarms).toEqual(stack.rollbackTrigger.rollbackAlarms.map((a) => ({ Name: stack.resolve(a.alarmName) })));
  });

  it('keeps known-good state in an encrypted table with point-in-time recovery', () => {
    const table = only(Template.fromStack(build()), 'AWS::DynamoDB::Table');
    expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(table.Properties.SSESpecification).toEqual({ SSEEnabled: true });
  });

  it('archives the audit events of its own bus', () => {
    const stack = build();
    const archive = only(Template.fromStack(stack), 'AWS::Events::Archive');
    expect(archive.Properties.SourceArn).toEqual(stack.resolve(stack.rollbackTrigger.auditBus.eventBusArn));
    expect(archive.Properties.EventPattern).toEqual({ source: ['rollback-triggers'] });
  });

  it('scopes every CodeDeploy action to the resource type it takes (the group; the AllAtOnce configuration and the application for the follow-up function’s rollback deployment) and grants no wildcard action', () => {
    const stack = build();
    expect(evaluatorStatements(stack).flatMap(actionsOf).filter((a) => a.includes('*'))).toEqual([]);
    const policies = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')) as Resource[];
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
    const codedeploy = statements.filter((s) => actionsOf(s).some((a) => a.toLowerCase().startsWith('codedeploy:')));
    expect(codedeploy.flatMap(actionsOf).map((a) => a.toLowerCase())).toEqual(
      expect.arrayContaining(['codedeploy:getdeployment', 'codedeploy:putlifecycleeventhookexecutionstatus', 'codedeploy:batchgetdeploymenttargets']),
    );
    // ListDeploymentTargets and BatchGetDeploymentTargets define no resource type (Service
    // Authorization Reference): "*" or nothing. Every other CodeDeploy action names the group.
    // GetDeploymentConfig takes the deploymentconfig, Get/RegisterApplicationRevision the
    // application (CodeDeploy permissions reference): the guard window's and the secondary action's
    // CreateDeployment of the known-good version, all at once.
    const unscoped = new Set(['codedeploy:listdeploymenttargets', 'codedeploy:batchgetdeploymenttargets']);
    const onConfig = new Set(['codedeploy:getdeploymentconfig']);
    const onApplication = new Set(['codedeploy:getapplicationrevision', 'codedeploy:registerapplicationrevision']);
    const arn = (resource: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:codedeploy:${stack.region}:`, { Ref: 'AWS::AccountId' }, resource]] });
    for (const s of codedeploy) {
      const acts = actionsOf(s).map((a) => a.toLowerCase());
      if (acts.every((a) => unscoped.has(a))) expect(s.Resource).toBe('*');
      else if (acts.every((a) => onConfig.has(a))) expect(s.Resource).toEqual(arn(':deploymentconfig:CodeDeployDefault.ECSAllAtOnce'));
      else if (acts.every((a) => onApplication.has(a))) expect(JSON.stringify(s.Resource)).toContain(':application:');
      else expect(s.Resource).toEqual(stack.resolve(stack.deploymentGroup.deploymentGroupArn));
    }
  });

  it("wires the target, its deployment group and the SLIs consistently: no refusal, and nothing the trigger's checks could not verify", () => {
    // The cross-object checks of issue 13 (RT320–RT336) pass, and none of them had to give up on a
    // name known only at deploy time (those warn).
    const stack = build();
    const warnings = Annotations.fromStack(stack)
      .findWarning('*', Match.anyValue())
      .map((w) => String(w.entry.data));
    expect(warnings.filter((w) => /Unchecked\]$/.test(w))).toEqual([]);
  });

  it('grants no wildcard action anywhere in the stack', () => {
    const policies = Object.values(Template.fromStack(build()).findResources('AWS::IAM::Policy')) as Resource[];
    const actions = policies.flatMap((p) => (p.Properties.PolicyDocument.Statement as Statement[]).flatMap(actionsOf));
    expect(actions.filter((a) => a === '*' || a.endsWith(':*'))).toEqual([]);
  });
});

describe('example: lambda canary', () => {
  it('passes CloudFormation schema validation and cdk-nag AwsSolutions, Serverless and NIST 800-53 rev 5 with no unacknowledged finding', () => {
    const { app, report } = validationApp();
    lambdaStack(app);
    expect(report()).toEqual([]);
  });

  it("attaches alarms on the deployed version's own traffic (ExecutedVersion)", () => {
    const stack = lambdaStack();
    const alias = only(Template.fromStack(stack), 'AWS::Lambda::Alias');
    const alarms = attachedAlarms(stack);
    expect(alarms).toHaveLength(2);
    for (const alarm of alarms) {
      const versions = dimensions(alarm, 'ExecutedVersion');
      expect(versions.length).toBeGreaterThan(0);
      // The version the alias is being moved to: the canary, not the blend.
      for (const v of versions) expect(v).toEqual(alias.Properties.FunctionVersion);
    }
  });

  it('runs the hook function as the BeforeAllowTraffic and AfterAllowTraffic hook of the alias', () => {
    const stack = lambdaStack();
    const alias = only(Template.fromStack(stack), 'AWS::Lambda::Alias');
    const evaluator = { Ref: logicalId(stack, stack.rollbackTrigger.hookFunction) };
    expect(alias.UpdatePolicy?.CodeDeployLambdaAliasUpdate).toMatchObject({
      BeforeAllowTrafficHook: evaluator,
      AfterAllowTrafficHook: evaluator,
      DeploymentGroupName: stack.resolve(stack.deploymentGroup.deploymentGroupName),
    });
  });

  it('updates the rollback alarms before the alias update starts the deployment', () => {
    const stack = lambdaStack();
    const alias = only(Template.fromStack(stack), 'AWS::Lambda::Alias');
    const alarmIds = stack.rollbackTrigger.rollbackAlarms.map((a) => (stack.resolve(a.alarmName) as { Ref: string }).Ref);
    expect(alarmIds).toHaveLength(2);
    expect(alias.DependsOn).toEqual(expect.arrayContaining(alarmIds));
  });
});

describe('example: fargate service', () => {
  it('passes CloudFormation schema validation and cdk-nag AwsSolutions, Serverless and NIST 800-53 rev 5 with no unacknowledged finding', () => {
    const { app, report } = validationApp();
    fargateStack(app);
    expect(report()).toEqual([]);
  });

  it('attaches one alarm per SLO on each of the blue and green target groups', () => {
    const stack = fargateStack();
    const fullName = (id: string) => stack.resolve((stack.node.findChild(id) as ApplicationTargetGroup).targetGroupFullName);
    const perAlarm = attachedAlarms(stack).map((alarm) => {
      // The alarm's own metrics (bad/good and total) measure one target group; its baseline
      // metrics (basebad, basetotal) measure the other one.
      const own = (alarm.Properties.Metrics as Array<{ Id: string; MetricStat?: { Metric: { Dimensions?: Array<{ Name: string; Value: unknown }> } } }>)
        .filter((m) => m.MetricStat && !m.Id.startsWith('base'))
        .flatMap((m) => m.MetricStat!.Metric.Dimensions ?? [])
        .filter((d) => d.Name === 'TargetGroup')
        .map((d) => JSON.stringify(d.Value));
      const base = dimensions(alarm, 'TargetGroup').map((g) => JSON.stringify(g)).filter((g) => !own.includes(g));
      expect(new Set(own).size).toBe(1);
      expect(new Set(base).size).toBe(1);
      return JSON.parse(own[0]);
    });
    expect(perAlarm).toHaveLength(4);
    expect(perAlarm.filter((g) => JSON.stringify(g) === JSON.stringify(fullName('Blue')))).toHaveLength(2);
    expect(perAlarm.filter((g) => JSON.stringify(g) === JSON.stringify(fullName('Green')))).toHaveLength(2);
  });

  it('uses the CodeDeploy controller and hands the hook function ARN to the AppSpec hooks', () => {
    const stack = fargateStack();
    const template = Template.fromStack(stack);
    expect(only(template, 'AWS::ECS::Service').Properties.DeploymentController).toEqual({ Type: 'CODE_DEPLOY' });
    template.hasOutput('HookFunctionArn', { Value: stack.resolve(stack.rollbackTrigger.hookFunction.functionArn) });
  });

  it('limits the test listener to the VPC while production traffic is public', () => {
    const stack = fargateStack();
    const albSg = Object.values(Template.fromStack(stack).findResources('AWS::EC2::SecurityGroup')).find((sg) =>
      String(sg.Properties.GroupDescription).includes('Alb'),
    ) as Resource;
    const ingress = albSg.Properties.SecurityGroupIngress as Array<{ FromPort: number; CidrIp: unknown }>;
    expect(ingress.find((r) => r.FromPort === 80)?.CidrIp).toBe('0.0.0.0/0');
    expect(ingress.find((r) => r.FromPort === 8080)?.CidrIp).toBe(only(Template.fromStack(stack), 'AWS::EC2::VPC').Properties.CidrBlock);
  });
});
