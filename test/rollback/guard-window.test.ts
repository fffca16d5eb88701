import { CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EcsDeploymentGroup } from 'aws-cdk-lib/aws-codedeploy';
import { Vpc } from 'aws-cdk-lib/aws-ec2';
import { Cluster, ContainerImage, DeploymentControllerType, FargateService, FargateTaskDefinition } from 'aws-cdk-lib/aws-ecs';
import { ApplicationLoadBalancer, ApplicationProtocol, ApplicationTargetGroup, ListenerAction, TargetType } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { describe, expect, it } from 'vitest';
import { RollbackPlan, RollbackTarget, RollbackTrigger, ServiceLevelObjective, Sli, TriggerMode } from '../../lib';
import { AuditDetailType, EvaluatorEnv, GUARD_GRACE_SECONDS, MAX_GUARD_WINDOW_SECONDS, MIN_GUARD_WINDOW_SECONDS, ROLLBACK_TRIGGER_DEFAULTS, StateChangeEnv } from '../../lib/core';
import { lambdaCanary, newStack, validationApp } from '../helpers';
import { synthesizedDefinition } from '../stepfunctions/definition';
import { type Props, build, cliPlan, noticeTypes, refusal, refused } from './trigger-fixtures';

// The guard window as a CDK user meets it: RollbackTrigger's `guardWindow` prop — what it refuses
// (RT347, RT109, RT118), what the stack carries (RT_GUARD on the state-change function, the
// follow-up machine, the rights to start one rollback deployment on the follow-up function only),
// the policy and the plan. The guard's steps are tested in test/lambda.

const DELAY = ROLLBACK_TRIGGER_DEFAULTS.metricDelaySeconds;
const BASE_TYPES = [AuditDetailType.ROLLBACK_TRIGGERED, AuditDetailType.ESCALATION_RAISED, AuditDetailType.ROLLBACK_COMPLETED];

type Fn = RollbackTrigger['evaluatorFunction'];
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

const logicalId = (stack: Stack, construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);

function environmentOf(stack: Stack, fn: Fn): Record<string, unknown> {
  return Template.fromStack(stack).findResources('AWS::Lambda::Function')[logicalId(stack, fn)].Properties.Environment.Variables;
}

/** RT_GUARD of the state-change function, parsed; the machine's ARN (a token) is rendered as its CloudFormation JSON. */
function guardEnv(stack: Stack, trigger: RollbackTrigger): unknown {
  const value = environmentOf(stack, trigger.stateChangeFunction)[StateChangeEnv.GUARD] as string | { 'Fn::Join': [string, unknown[]] };
  expect(value, 'RT_GUARD').toBeDefined();
  const text = typeof value === 'string' ? value : value['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : `@@${JSON.stringify(p)}@@`)).join('');
  return JSON.parse(text.replace(/"@@(.*?)@@"/g, '$1'));
}

/** Every IAM statement attached to a role (by its construct). */
function statementsOfRole(stack: Stack, role: { node: { defaultChild?: unknown } }): Statement[] {
  const id = logicalId(stack, role);
  return Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${id}"`))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

const statementsOf = (stack: Stack, fn: Fn) => statementsOfRole(stack, fn.role!);
const actionsOf = (statements: Statement[]) => statements.flatMap((s) => [s.Action].flat());

/** What the follow-up function may do beyond the bake's evaluator (whose rights it shares). */
function rightsBeyondEvaluator(stack: Stack, trigger: RollbackTrigger): Statement[] {
  const evaluator = new Set(statementsOf(stack, trigger.evaluatorFunction).map((s) => JSON.stringify(s)));
  return statementsOf(stack, trigger.followUpFunction!).filter((s) => !evaluator.has(JSON.stringify(s)));
}

/** Every action that takes traffic off a version, or prepares to. */
const ACTING = [
  'codedeploy:GetDeploymentGroup',
  'codedeploy:CreateDeployment',
  'codedeploy:UpdateDeploymentGroup',
  'codedeploy:GetDeploymentConfig',
  'codedeploy:GetApplicationRevision',
  'codedeploy:RegisterApplicationRevision',
  'dynamodb:UpdateItem',
  'lambda:UpdateAlias',
  'ecs:DescribeServices',
];

/** A CodeDeploy ARN of the stack's account and Region, as CDK renders it. */
const codedeployArn = (resource: string, ...rest: unknown[]) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':codedeploy:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${resource}`, ...rest]],
});

type Group = { application: { applicationName: string }; deploymentGroupName: string };

function groupArn(stack: Stack, group: Group) {
  return codedeployArn('deploymentgroup:', stack.resolve(group.application.applicationName), '/', stack.resolve(group.deploymentGroupName));
}

/** The rights a rollback deployment (all at once, alarms overridden) needs, on exactly its resources. */
function rollbackRights(stack: Stack, trigger: RollbackTrigger, group: Group, allAtOnce: string): Statement[] {
  return [
    { Action: ['codedeploy:GetDeploymentGroup', 'codedeploy:CreateDeployment', 'codedeploy:UpdateDeploymentGroup'], Effect: 'Allow', Resource: groupArn(stack, group) },
    { Action: 'codedeploy:GetDeploymentConfig', Effect: 'Allow', Resource: codedeployArn(`deploymentconfig:${allAtOnce}`) },
    { Action: ['codedeploy:GetApplicationRevision', 'codedeploy:RegisterApplicationRevision'], Effect: 'Allow', Resource: codedeployArn('application:', stack.resolve(group.application.applicationName)) },
    { Action: 'dynamodb:UpdateItem', Effect: 'Allow', Resource: [{ 'Fn::GetAtt': [logicalId(stack, trigger.stateTable as never), 'Arn'] }] },
  ];
}

/** An ECS service released blue/green by CodeDeploy, with a trigger on it. */
function ecsTrigger(props: Props = {}) {
  const stack = newStack();
  const vpc = new Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const task = new FargateTaskDefinition(stack, 'Task');
  task.addContainer('web', { image: ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable'), portMappings: [{ containerPort: 80 }] });
  const service = new FargateService(stack, 'Service', { cluster: new Cluster(stack, 'Cluster', { vpc }), taskDefinition: task, deploymentController: { type: DeploymentControllerType.CODE_DEPLOY } });
  const alb = new ApplicationLoadBalancer(stack, 'Lb', { vpc });
  const [blue, green] = ['Blue', 'Green'].map((id) => new ApplicationTargetGroup(stack, id, { vpc, port: 80, targetType: TargetType.IP }));
  service.attachToApplicationTargetGroup(blue);
  const listener = alb.addListener('Http', { port: 80, defaultAction: ListenerAction.forward([blue]) });
  alb.addListener('Test', { port: 8080, protocol: ApplicationProtocol.HTTP, defaultAction: ListenerAction.forward([green]) });
  const group = new EcsDeploymentGroup(stack, 'Deployment', {
    service,
    blueGreenDeploymentConfig: { blueTargetGroup: blue, greenTargetGroup: green, listener },
    autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
  });
  const slo = new ServiceLevelObjective(stack, 'Availability', { sli: Sli.targetGroupAvailability(green), objectivePercent: 99.9 });
  const target = RollbackTarget.ecsService({ deploymentGroup: group, service, blueTargetGroup: blue, greenTargetGroup: green });
  const trigger = new RollbackTrigger(stack, 'Rollback', { target, objectives: [slo], ...props });
  return { stack, trigger, service, group };
}

describe('RT_GUARD, the policy and the machine', () => {
  it('guardWindow reaches RT_GUARD with the follow-up machine’s ARN, its seconds and the metric delay, and the policy', () => {
    const { stack, trigger } = build({ guardWindow: Duration.minutes(30) });
    expect(guardEnv(stack, trigger)).toEqual({ stateMachineArn: { Ref: logicalId(stack, trigger.followUpStateMachine!) }, durationSeconds: 1_800, metricDelaySeconds: DELAY });
    expect(trigger._policy.guardWindowSeconds).toBe(1_800);
    // The guard window alone starts no verification and no secondary action.
    expect(environmentOf(stack, trigger.stateChangeFunction)).not.toHaveProperty(StateChangeEnv.VERIFY);
    expect(environmentOf(stack, trigger.stateChangeFunction)).not.toHaveProperty(StateChangeEnv.SECONDARY);
    expect(trigger._policy).not.toHaveProperty('verifyRollbackSeconds');
    expect(trigger._policy).not.toHaveProperty('secondaryActionSeconds');
  });

  it.each([
    ['10 min, the shortest', Duration.minutes(10), 600],
    ['whole minutes given in seconds', Duration.seconds(660), 660],
    ['24 h, the longest', Duration.hours(24), 86_400],
  ])('a window of %s reaches RT_GUARD and the policy in seconds', (_, guardWindow, seconds) => {
    const { stack, trigger } = build({ guardWindow });
    expect(guardEnv(stack, trigger)).toMatchObject({ durationSeconds: seconds });
    expect(trigger._policy.guardWindowSeconds).toBe(seconds);
  });

  it('RT_GUARD carries the trigger’s own metric delay', () => {
    const { stack, trigger } = build({ guardWindow: Duration.minutes(10), metricDelay: Duration.minutes(5) });
    expect(guardEnv(stack, trigger)).toMatchObject({ durationSeconds: 600, metricDelaySeconds: 300 });
  });

  it('without guardWindow: no RT_GUARD and nothing in the policy', () => {
    for (const props of [{}, { verifyRollback: {} }, { secondaryAction: {} }] as Props[]) {
      const { stack, trigger } = build(props);
      expect(environmentOf(stack, trigger.stateChangeFunction)).not.toHaveProperty(StateChangeEnv.GUARD);
      expect(trigger._policy).not.toHaveProperty('guardWindowSeconds');
    }
    expect(build().trigger.followUpFunction).toBeUndefined();
  });

  it('the machine’s own timeout covers the window, the metric delay, the grace for reads and 10 min more', () => {
    expect(GUARD_GRACE_SECONDS).toBe(600);
    for (const [props, window, delay] of [
      [{ guardWindow: Duration.minutes(10) }, 600, DELAY],
      [{ guardWindow: Duration.hours(24), metricDelay: Duration.minutes(5) }, 86_400, 300],
    ] as Array<[Props, number, number]>) {
      const { stack } = build(props);
      expect(synthesizedDefinition(stack, 'FollowUp').TimeoutSeconds).toBe(window + delay + GUARD_GRACE_SECONDS + 600);
    }
  });

  it('the machine asks nobody: without secondaryAction it has no Ask state and no waitForTaskToken', () => {
    const { stack, trigger } = build({ guardWindow: Duration.minutes(30) });
    const definition = synthesizedDefinition(stack, 'FollowUp');
    expect(Object.keys(definition.States as object).sort()).toEqual(['Audit follow-up failure', 'Done', 'Escalation detail', 'Evaluate', 'Follow-up failed', 'Guard escalation detail', 'Next step', 'Of a rollback?', 'Unexpected step', 'Wait', 'Which flow'].sort());
    expect(JSON.stringify(definition)).not.toContain('waitForTaskToken');
    expect((definition.States as Record<string, any>).Evaluate.Resource).toContain(logicalId(stack, trigger.followUpFunction!));
  });

  it('the evaluator’s configuration is the same with or without it (the window travels in each execution’s input)', () => {
    const config = (props: Props) => {
      const { stack, trigger } = build(props);
      return JSON.stringify(environmentOf(stack, trigger.evaluatorFunction)[EvaluatorEnv.CONFIG]);
    };
    expect(config({ guardWindow: Duration.hours(2) })).toEqual(config({}));
  });

  it('is allowed in shadow mode (it then only audits what it would do)', () => {
    const { stack, trigger } = build({ mode: TriggerMode.SHADOW, guardWindow: Duration.minutes(30) });
    expect(guardEnv(stack, trigger)).toMatchObject({ durationSeconds: 1_800 });
  });
});

describe('RT347: whole minutes from 10 min to 24 h, named guardWindow', () => {
  it('the bounds are 600 s and a day', () => {
    expect([MIN_GUARD_WINDOW_SECONDS, MAX_GUARD_WINDOW_SECONDS]).toEqual([600, 86_400]);
  });

  it.each([
    ['9 min', Duration.minutes(9)],
    ['590 s', Duration.seconds(590)],
    ['630 s', Duration.seconds(630)],
    ['1441 min', Duration.minutes(24 * 60 + 1)],
    ['2 d', Duration.days(2)],
  ])('%s is refused', (shown, guardWindow) => {
    const e = refused({ guardWindow });
    expect(e).toMatchObject({ code: 'RT347', constructPath: 'TestStack/Rollback', prop: 'guardWindow' });
    expect(e.message).toBe(`[RT347] TestStack/Rollback: guardWindow must be whole minutes from 10 min to 1 d, got ${shown} — how long after a release succeeds its page tier is still judged`);
  });

  it('0 and a fraction of a second go through the literal-duration check (RT118)', () => {
    expect(refused({ guardWindow: Duration.seconds(0) })).toMatchObject({ code: 'RT118', constructPath: 'TestStack/Rollback', prop: 'guardWindow' });
    const e = refused({ guardWindow: Duration.millis(600_500) });
    expect(e).toMatchObject({ code: 'RT118', prop: 'guardWindow' });
    expect(e.message).toContain('guardWindow must be a whole number of seconds above 0, got Duration.millis(600500)');
  });

  it('a token is RT109 (the seconds are needed at synth)', () => {
    const f = lambdaCanary();
    const minutes = new CfnParameter(f.stack, 'GuardMinutes', { type: 'Number' });
    const e = refusal(() => build({ guardWindow: Duration.minutes(minutes.valueAsNumber) }, f));
    expect(e).toMatchObject({ code: 'RT109', constructPath: 'TestStack/Rollback', prop: 'guardWindow' });
    expect(e.message).toContain('guardWindow must be a literal duration, got a token');
  });
});

describe('IAM: the rights to roll back, on the follow-up function only', () => {
  it('Lambda target: GetDeploymentGroup, CreateDeployment and UpdateDeploymentGroup on the group, GetDeploymentConfig on LambdaAllAtOnce, revisions on the application, UpdateItem on the state table; nothing more', () => {
    const { stack, trigger, group } = build({ guardWindow: Duration.minutes(30) });
    expect(rightsBeyondEvaluator(stack, trigger)).toEqual(rollbackRights(stack, trigger, group, 'CodeDeployDefault.LambdaAllAtOnce'));
  });

  it('ECS target: the same on ECSAllAtOnce, and DescribeServices on the service (the AppSpec names its container)', () => {
    const { stack, trigger, service, group } = ecsTrigger({ guardWindow: Duration.minutes(30) });
    expect(rightsBeyondEvaluator(stack, trigger)).toEqual([
      ...rollbackRights(stack, trigger, group, 'CodeDeployDefault.ECSAllAtOnce'),
      { Action: 'ecs:DescribeServices', Effect: 'Allow', Resource: { Ref: logicalId(stack, service) } },
    ]);
  });

  it('the bake’s evaluator, the hook, the state-change function and the follow-up machine’s role get none of them', () => {
    for (const { stack, trigger } of [build({ guardWindow: Duration.minutes(30) }), ecsTrigger({ guardWindow: Duration.minutes(30) })]) {
      for (const fn of [trigger.evaluatorFunction, trigger.hookFunction, trigger.stateChangeFunction]) {
        expect(actionsOf(statementsOf(stack, fn)).filter((a) => ACTING.includes(a)), fn.node.path).toEqual([]);
      }
      // The function acts; the machine only runs it.
      const machineRole = actionsOf(statementsOfRole(stack, trigger.followUpStateMachine!.node.findChild('Role') as never));
      expect(machineRole.filter((a) => ACTING.includes(a) || a.startsWith('codedeploy:'))).toEqual([]);
    }
  });

  it('a Lambda guard window never moves the alias itself: no lambda:UpdateAlias without secondaryAction', () => {
    const { stack, trigger } = build({ guardWindow: Duration.minutes(30) });
    expect(actionsOf(statementsOf(stack, trigger.followUpFunction!)).filter((a) => a.startsWith('lambda:'))).toEqual(['lambda:GetFunction']);
  });

  it('in shadow mode it only reads the group (a newer deployment ends the window): it never acts, so it may not', () => {
    const { stack, trigger, group } = build({ mode: TriggerMode.SHADOW, guardWindow: Duration.minutes(30) });
    expect(rightsBeyondEvaluator(stack, trigger)).toEqual([{ Action: 'codedeploy:GetDeploymentGroup', Effect: 'Allow', Resource: groupArn(stack, group) }]);
  });

  it('leaves no unacknowledged cdk-nag finding of its own', () => {
    const { app, report } = validationApp();
    build({ guardWindow: Duration.minutes(30) }, lambdaCanary(new Stack(app, 'Shop')));
    expect(report().filter((v) => v.paths.some((p) => p.startsWith('Shop/Rollback/')))).toEqual([]);
  });
});

describe('the notices rule, the policy and the plan', () => {
  it('adds no notice type: its rollback is a Rollback Triggered (reason guard-window), its trouble an Escalation Raised', () => {
    expect(noticeTypes(build({ guardWindow: Duration.minutes(30) }).stack)).toEqual(BASE_TYPES);
  });

  it('the CLI reads guardWindowSeconds back from the synthesized assembly and prints the guard window line', () => {
    const { entry, text } = cliPlan({ guardWindow: Duration.minutes(45) });
    expect(entry).toMatchObject({ guardWindowSeconds: 2_700 });
    expect(text).toContain(
      '  Guard window: for 45 min after a release succeeds (CodeDeploy polls no alarm then), its page tier is still judged on its own traffic; ' +
        'a breach starts one rollback deployment to the known-good version (Rollback Triggered, reason guard-window). A newer deployment ends it.\n',
    );
    // A guard window changes nothing of the bake.
    expect(entry).toMatchObject({ deadlineSeconds: 3_300, inconclusiveAction: 'fail' });
  });

  it('in shadow mode the line says a breach is only audited', () => {
    // (cliPlan's group rolls back on alarms, which shadow mode refuses: the plan from code instead.)
    const text = RollbackPlan.of(build({ mode: TriggerMode.SHADOW, guardWindow: Duration.hours(2) }).stack).render();
    expect(text).toContain('  Guard window: for 2 h after a release succeeds (CodeDeploy polls no alarm then), its page tier is still judged on its own traffic; a breach is only audited (wouldRollback).\n');
    expect(text).not.toContain('starts one rollback deployment');
  });

  it('RollbackPlan from code prints it too; without guardWindow there is none', () => {
    expect(RollbackPlan.of(build({ guardWindow: Duration.minutes(10) }).stack).render()).toContain('  Guard window: for 10 min after a release succeeds');
    const { entry, text } = cliPlan({ verifyRollback: {} });
    expect(entry).not.toHaveProperty('guardWindowSeconds');
    expect(text).not.toContain('Guard window');
  });
});
