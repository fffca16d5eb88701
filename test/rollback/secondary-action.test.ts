import { CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AccountRootPrincipal, Role } from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { InconclusiveAction, RollbackPlan, type SecondaryActionOptions, TriggerMode } from '../../lib';
import {
  AUDIT_EVENT_SOURCE,
  AuditDetailType,
  DEFAULT_SECONDARY_APPROVAL_SECONDS,
  GUARD_GRACE_SECONDS,
  MAX_SECONDARY_APPROVAL_SECONDS,
  MIN_SECONDARY_APPROVAL_SECONDS,
  ROLLBACK_TRIGGER_DEFAULTS,
  StateChangeEnv,
  VERIFY_GRACE_SECONDS,
} from '../../lib/core';
import { lambdaCanary, validationApp } from '../helpers';
import { synthesizedDefinition } from '../stepfunctions/definition';
import {
  actionsOf,
  deploymentRights,
  ecsTrigger,
  environmentOf,
  logicalId,
  rightsBeyondEvaluator,
  stateChangeSettings,
  statementsOf,
  statementsOfRole,
} from './follow-up-fixtures';
import { type Props, build, cliPlan, noticeTypes, refusal, refused } from './trigger-fixtures';

// The secondary action as a CDK user meets it: RollbackTrigger's `secondaryAction` prop — what it
// refuses (RT348, RT334, RT109, RT118), what the stack carries (RT_SECONDARY, the follow-up
// machine's `Ask for approval`, the rights to act on the follow-up function only, the notices),
// the policy and the plan; and the one follow-up machine that verifyRollback, guardWindow and
// secondaryAction share. The secondary steps are tested in test/lambda.

const DELAY = ROLLBACK_TRIGGER_DEFAULTS.metricDelaySeconds;
/** What the follow-up machine allows past the approval wait: the question's deadline (lib/core/follow-up.ts secondaryInput). */
const ACT_SECONDS = 900;
const BASE_TYPES = [AuditDetailType.ROLLBACK_TRIGGERED, AuditDetailType.ESCALATION_RAISED, AuditDetailType.ROLLBACK_COMPLETED];
const APPROVAL_TYPES = [AuditDetailType.APPROVAL_REQUESTED, AuditDetailType.APPROVAL_ANSWERED];
const VERIFY_TYPES = [AuditDetailType.ROLLBACK_VERIFIED, AuditDetailType.ROLLBACK_UNHEALTHY];

describe('RT_SECONDARY, the policy and the machine', () => {
  it('secondaryAction: {} waits 1 h for the approval: RT_SECONDARY has the follow-up machine’s ARN and 3600 s; the policy says 3600', () => {
    expect(DEFAULT_SECONDARY_APPROVAL_SECONDS).toBe(3_600);
    const { stack, trigger } = build({ secondaryAction: {} });
    expect(stateChangeSettings(stack, trigger, StateChangeEnv.SECONDARY)).toEqual({ stateMachineArn: { Ref: logicalId(stack, trigger.followUpStateMachine!) }, approvalTimeoutSeconds: 3_600 });
    expect(trigger._policy.secondaryActionSeconds).toBe(3_600);
    // It starts no verification and no guard window.
    expect(environmentOf(stack, trigger.stateChangeFunction)).not.toHaveProperty(StateChangeEnv.VERIFY);
    expect(environmentOf(stack, trigger.stateChangeFunction)).not.toHaveProperty(StateChangeEnv.GUARD);
  });

  it.each([
    ['1 min, the shortest', Duration.minutes(1), 60],
    ['whole minutes given in seconds', Duration.seconds(120), 120],
    ['24 h, the longest', Duration.hours(24), 86_400],
  ])('an approvalTimeout of %s reaches RT_SECONDARY and the policy in seconds', (_, approvalTimeout, seconds) => {
    const { stack, trigger } = build({ secondaryAction: { approvalTimeout } });
    expect(stateChangeSettings(stack, trigger, StateChangeEnv.SECONDARY)).toMatchObject({ approvalTimeoutSeconds: seconds });
    expect(trigger._policy.secondaryActionSeconds).toBe(seconds);
  });

  it('without secondaryAction: no RT_SECONDARY and nothing in the policy', () => {
    for (const props of [{}, { verifyRollback: {} }, { guardWindow: Duration.minutes(30) }] as Props[]) {
      const { stack, trigger } = build(props);
      expect(environmentOf(stack, trigger.stateChangeFunction)).not.toHaveProperty(StateChangeEnv.SECONDARY);
      expect(trigger._policy).not.toHaveProperty('secondaryActionSeconds');
    }
  });

  it('the machine asks on the audit bus and waits for the task token as long as the question says, then hands any answer, rejection or timeout back to the steps', () => {
    const { stack, trigger } = build({ secondaryAction: {} });
    const definition = synthesizedDefinition(stack, 'FollowUp');
    const states = definition.States as Record<string, any>;
    const ask = states['Ask for approval'];
    expect(ask).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::events:putEvents.waitForTaskToken',
      TimeoutSecondsPath: '$.secondary.request.timeoutSeconds',
      ResultPath: '$.secondary.request.answer',
      Next: 'Answered',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.secondary.request.error', Next: 'Answered' }],
    });
    const entry = ask.Parameters.Entries[0];
    expect(entry).toMatchObject({ Source: AUDIT_EVENT_SOURCE, DetailType: AuditDetailType.APPROVAL_REQUESTED });
    expect(entry.EventBusName).toContain(logicalId(stack, trigger.auditBus));
    expect(entry.Detail).toMatchObject({
      'taskToken.$': '$$.Task.Token',
      'rollbackDeploymentId.$': '$$.Execution.Input.deploymentId',
      'reasons.$': '$.secondary.reasons',
      'secondaryAction.$': '$.secondary.action',
      'approval.$': '$.secondary.request',
    });
    expect(states.Answered).toEqual({ Type: 'Pass', Result: 'secondary-answered', ResultPath: '$.phase', Next: 'Evaluate' });
    // The question is asked only when every path the Ask state reads is there (a missing one would
    // fail the execution with States.Runtime, which no Catch catches).
    const toAsk = states['Next step'].Choices.find((c: { Next: string }) => c.Next === 'Ask for approval');
    expect(JSON.stringify(toAsk)).toContain('"StringEquals":"approve"');
    for (const path of ['$.secondary.request.timeoutSeconds', '$.secondary.reasons', '$.secondary.action']) expect(toAsk.And).toContainEqual({ Variable: path, IsPresent: true });
    expect(toAsk.And).toContainEqual({ Variable: '$.secondary.request.timeoutSeconds', IsNumeric: true });
  });

  it('the machine’s own timeout covers the approval wait, 15 min to act and 10 min more', () => {
    for (const [props, wait] of [
      [{ secondaryAction: {} }, 3_600],
      [{ secondaryAction: { approvalTimeout: Duration.hours(24) } }, 86_400],
    ] as Array<[Props, number]>) {
      expect(synthesizedDefinition(build(props).stack, 'FollowUp').TimeoutSeconds).toBe(wait + ACT_SECONDS + 600);
    }
  });

  it('the Ask state costs the machine’s role nothing new: it still invokes only its step function and puts events on the audit bus', () => {
    const actions = (props: Props) => {
      const { stack, trigger } = build(props);
      return actionsOf(statementsOfRole(stack, trigger.followUpStateMachine!.node.findChild('Role') as never)).sort();
    };
    expect(actions({ secondaryAction: {} })).toEqual(actions({ verifyRollback: {} }));
  });

  it('the bake’s machine is the same with or without it', () => {
    expect(synthesizedDefinition(build({ secondaryAction: {} }).stack, 'Bake')).toEqual(synthesizedDefinition(build().stack, 'Bake'));
  });
});

describe('RT348, RT334: the approval wait, shadow mode and the shape', () => {
  it('the bounds are 1 min and a day', () => {
    expect([MIN_SECONDARY_APPROVAL_SECONDS, MAX_SECONDARY_APPROVAL_SECONDS]).toEqual([60, 86_400]);
  });

  it.each([
    ['59 s', Duration.seconds(59)],
    ['90 s', Duration.seconds(90)],
    ['1441 min', Duration.minutes(24 * 60 + 1)],
    ['2 d', Duration.days(2)],
  ])('an approvalTimeout of %s is refused, named secondaryAction.approvalTimeout', (shown, approvalTimeout) => {
    const e = refused({ secondaryAction: { approvalTimeout } });
    expect(e).toMatchObject({ code: 'RT348', constructPath: 'TestStack/Rollback', prop: 'secondaryAction.approvalTimeout' });
    expect(e.message).toBe(`[RT348] TestStack/Rollback: secondaryAction.approvalTimeout must be whole minutes from 1 min to 1 d, got ${shown}`);
  });

  it('0 and a fraction of a second go through the literal-duration check (RT118)', () => {
    expect(refused({ secondaryAction: { approvalTimeout: Duration.seconds(0) } })).toMatchObject({ code: 'RT118', constructPath: 'TestStack/Rollback', prop: 'secondaryAction.approvalTimeout' });
    const e = refused({ secondaryAction: { approvalTimeout: Duration.millis(60_500) } });
    expect(e).toMatchObject({ code: 'RT118', prop: 'secondaryAction.approvalTimeout' });
    expect(e.message).toContain('secondaryAction.approvalTimeout must be a whole number of seconds above 0, got Duration.millis(60500)');
  });

  it('a token is RT109 (the seconds are needed at synth)', () => {
    const f = lambdaCanary();
    const minutes = new CfnParameter(f.stack, 'ApprovalMinutes', { type: 'Number' });
    const e = refusal(() => build({ secondaryAction: { approvalTimeout: Duration.minutes(minutes.valueAsNumber) } }, f));
    expect(e).toMatchObject({ code: 'RT109', constructPath: 'TestStack/Rollback', prop: 'secondaryAction.approvalTimeout' });
    expect(e.message).toContain('secondaryAction.approvalTimeout must be a literal duration, got a token');
  });

  it('shadow mode never acts on a deployment: secondaryAction is refused there, whatever its wait', () => {
    for (const secondaryAction of [{}, { approvalTimeout: Duration.minutes(30) }]) {
      const e = refused({ mode: TriggerMode.SHADOW, secondaryAction });
      expect(e).toMatchObject({ code: 'RT348', constructPath: 'TestStack/Rollback', prop: 'secondaryAction' });
      expect(e.message).toBe('[RT348] TestStack/Rollback: secondaryAction in shadow mode: shadow mode never acts on a deployment — drop secondaryAction, or enforce');
    }
  });

  it.each([
    ['a number', 10, 'got 10'],
    ['a string', 'yes', 'got "yes"'],
    ['true', true, 'got boolean'],
    ['null', null, 'got null'],
  ])('secondaryAction that is not an object (%s, a jsii caller) is RT334', (_, value, got) => {
    const e = refused({ secondaryAction: value as unknown as SecondaryActionOptions });
    expect(e).toMatchObject({ code: 'RT334', constructPath: 'TestStack/Rollback', prop: 'secondaryAction' });
    expect(e.message).toBe(`[RT334] TestStack/Rollback: secondaryAction must be an object { approvalTimeout? }, ${got}`);
  });
});

describe('grantApprove: who may answer the secondary action’s question', () => {
  it('with secondaryAction alone: read and answer the follow-up machine’s executions, nothing of the bake’s machine', () => {
    const { stack, trigger } = build({ secondaryAction: {} });
    const oncall = new Role(stack, 'Oncall', { assumedBy: new AccountRootPrincipal() });
    trigger.grantApprove(oncall);
    const statements = statementsOfRole(stack, oncall);
    const text = JSON.stringify(statements);
    expect(actionsOf(statements)).toEqual(expect.arrayContaining(['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:GetExecutionHistory', 'states:ListExecutions']));
    expect(text).toContain(logicalId(stack, trigger.followUpStateMachine!));
    expect(text).not.toContain(logicalId(stack, trigger.bakeStateMachine));
  });

  it('with the approval gate too: both machines', () => {
    const { stack, trigger } = build({ secondaryAction: {}, inconclusiveAction: InconclusiveAction.ESCALATE });
    const oncall = new Role(stack, 'Oncall', { assumedBy: new AccountRootPrincipal() });
    trigger.grantApprove(oncall);
    const text = JSON.stringify(statementsOfRole(stack, oncall));
    expect(text).toContain(logicalId(stack, trigger.followUpStateMachine!));
    expect(text).toContain(logicalId(stack, trigger.bakeStateMachine));
  });
});

describe('IAM: the rights to act, on the follow-up function only', () => {
  it('Lambda target: the deployment rights, and UpdateAlias on the function (the alias points at the known-good version); nothing more', () => {
    const { stack, trigger, group, fn } = build({ secondaryAction: {} });
    expect(rightsBeyondEvaluator(stack, trigger)).toEqual([
      ...deploymentRights(stack, trigger, group, 'CodeDeployDefault.LambdaAllAtOnce'),
      { Action: 'lambda:UpdateAlias', Effect: 'Allow', Resource: { 'Fn::GetAtt': [logicalId(stack, fn), 'Arn'] } },
    ]);
  });

  it('ECS target: the deployment rights on ECSAllAtOnce and DescribeServices on the service; no Lambda action', () => {
    const { stack, trigger, group, service } = ecsTrigger({ secondaryAction: {} });
    expect(rightsBeyondEvaluator(stack, trigger)).toEqual([
      ...deploymentRights(stack, trigger, group, 'CodeDeployDefault.ECSAllAtOnce'),
      { Action: 'ecs:DescribeServices', Effect: 'Allow', Resource: { Ref: logicalId(stack, service) } },
    ]);
  });

  it('the bake’s evaluator, the hook and the state-change function get none of them; the state-change function may only start the follow-up machine', () => {
    for (const { stack, trigger } of [build({ secondaryAction: {} }), ecsTrigger({ secondaryAction: {} })]) {
      for (const fn of [trigger.evaluatorFunction, trigger.hookFunction, trigger.stateChangeFunction]) {
        const actions = actionsOf(statementsOf(stack, fn));
        for (const act of ['codedeploy:CreateDeployment', 'codedeploy:UpdateDeploymentGroup', 'codedeploy:GetDeploymentGroup', 'codedeploy:RegisterApplicationRevision', 'lambda:UpdateAlias', 'ecs:DescribeServices', 'dynamodb:UpdateItem']) {
          expect(actions, `${fn.node.path} ${act}`).not.toContain(act);
        }
      }
      const states = statementsOf(stack, trigger.stateChangeFunction).filter((s) => actionsOf([s]).some((a) => a.startsWith('states:')));
      expect(states).toEqual([{ Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: logicalId(stack, trigger.followUpStateMachine!) } }]);
    }
  });

  it('leaves no unacknowledged cdk-nag finding of its own, on either target', () => {
    const lambda = validationApp();
    build({ secondaryAction: {} }, lambdaCanary(new Stack(lambda.app, 'Shop')));
    expect(lambda.report().filter((v) => v.paths.some((p) => p.startsWith('Shop/Rollback/')))).toEqual([]);
    const ecs = validationApp();
    ecsTrigger({ secondaryAction: {} }, new Stack(ecs.app, 'Shop'));
    expect(ecs.report().filter((v) => v.paths.some((p) => p.startsWith('Shop/Rollback/')))).toEqual([]);
  });
});

describe('the notices rule, the policy and the plan', () => {
  it('sends the question, its answer and Secondary Action Taken to the topic', () => {
    expect(noticeTypes(build({ secondaryAction: {} }).stack)).toEqual([...BASE_TYPES, ...APPROVAL_TYPES, AuditDetailType.SECONDARY_ACTION_TAKEN]);
    expect(noticeTypes(build().stack)).toEqual(BASE_TYPES);
  });

  it('with the approval gate too, the approval types are matched once', () => {
    expect(noticeTypes(build({ secondaryAction: {}, inconclusiveAction: InconclusiveAction.ESCALATE }).stack)).toEqual([...BASE_TYPES, ...APPROVAL_TYPES, AuditDetailType.SECONDARY_ACTION_TAKEN]);
  });

  it('the CLI reads secondaryActionSeconds back from the synthesized assembly and prints the Lambda line', () => {
    const { entry, text } = cliPlan({ secondaryAction: {} });
    expect(entry).toMatchObject({ secondaryActionSeconds: 3_600 });
    expect(text).toContain(
      '  Secondary action: when a rollback deployment fails or stops, a direct action on the known-good version (the alias points at it) ' +
        'waits up to 1 h for approval (rollback-triggers approve|reject); taken once, never without it.\n',
    );
    // It changes nothing of the bake: no approval gate of the bake's.
    expect(entry).toMatchObject({ deadlineSeconds: 3_300, inconclusiveAction: 'fail' });
    expect(entry).not.toHaveProperty('approvalTimeoutSeconds');
    expect(text).not.toContain('Approval gate');
  });

  it('on ECS the line names a deployment of the known-good task definition; without secondaryAction there is none', () => {
    const text = RollbackPlan.of(ecsTrigger({ secondaryAction: { approvalTimeout: Duration.minutes(30) } }).stack).render();
    expect(text).toContain('  Secondary action: when a rollback deployment fails or stops, a direct action on the known-good version (a deployment of its task definition) waits up to 30 min for approval');
    const plain = cliPlan({ guardWindow: Duration.minutes(30) });
    expect(plain.entry).not.toHaveProperty('secondaryActionSeconds');
    expect(plain.text).not.toContain('Secondary action');
  });
});

describe('one follow-up machine for verifyRollback, guardWindow and secondaryAction', () => {
  const all: Props = { verifyRollback: {}, guardWindow: Duration.minutes(30), secondaryAction: {} };

  it('one machine, one step function and one failures alarm, whose ARN all three settings carry', () => {
    const plain = build();
    const { stack, trigger } = build(all);
    const count = (s: Stack, type: string) => Object.keys(Template.fromStack(s).findResources(type)).length;
    expect(count(stack, 'AWS::StepFunctions::StateMachine')).toBe(2);
    expect(count(stack, 'AWS::Lambda::Function')).toBe(count(plain.stack, 'AWS::Lambda::Function') + 1);
    expect(trigger.operationalAlarms).toHaveLength(3);
    const arn = { Ref: logicalId(stack, trigger.followUpStateMachine!) };
    expect(stateChangeSettings(stack, trigger, StateChangeEnv.VERIFY)).toEqual({ stateMachineArn: arn, durationSeconds: 600, metricDelaySeconds: DELAY });
    expect(stateChangeSettings(stack, trigger, StateChangeEnv.GUARD)).toEqual({ stateMachineArn: arn, durationSeconds: 1_800, metricDelaySeconds: DELAY });
    expect(stateChangeSettings(stack, trigger, StateChangeEnv.SECONDARY)).toEqual({ stateMachineArn: arn, approvalTimeoutSeconds: 3_600 });
    expect(trigger._policy).toMatchObject({ verifyRollbackSeconds: 600, guardWindowSeconds: 1_800, secondaryActionSeconds: 3_600 });
    // The Ask state once, the loop once.
    const states = Object.keys(synthesizedDefinition(stack, 'FollowUp').States as object);
    expect(states.filter((s) => s === 'Ask for approval' || s === 'Evaluate')).toEqual(['Evaluate', 'Ask for approval']);
  });

  it.each([
    ['the verification', { verifyRollback: { duration: Duration.minutes(40) }, guardWindow: Duration.minutes(10), secondaryAction: { approvalTimeout: Duration.minutes(1) } }, 2_400 + DELAY + VERIFY_GRACE_SECONDS],
    ['the guard window', { verifyRollback: {}, guardWindow: Duration.hours(24), secondaryAction: {} }, 86_400 + DELAY + GUARD_GRACE_SECONDS],
    ['the secondary action', { verifyRollback: {}, guardWindow: Duration.minutes(10), secondaryAction: { approvalTimeout: Duration.hours(24) } }, 86_400 + ACT_SECONDS],
  ] as Array<[string, Props, number]>)('its timeout covers the longest flow, here %s, and 10 min more', (_, props, longest) => {
    expect(synthesizedDefinition(build(props).stack, 'FollowUp').TimeoutSeconds).toBe(longest + 600);
  });

  it('the notices rule matches each flow’s types, and the plan prints the three lines in order', () => {
    expect(noticeTypes(build(all).stack)).toEqual([...BASE_TYPES, ...APPROVAL_TYPES, ...VERIFY_TYPES, AuditDetailType.SECONDARY_ACTION_TAKEN]);
    const { text } = cliPlan(all);
    const at = ['  Rollback verification:', '  Guard window:', '  Secondary action:'].map((line) => text.indexOf(line));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
  });

  it('the follow-up function holds the rights of both acting flows, once', () => {
    const { stack, trigger, group, fn } = build(all);
    expect(rightsBeyondEvaluator(stack, trigger)).toEqual([
      ...deploymentRights(stack, trigger, group, 'CodeDeployDefault.LambdaAllAtOnce'),
      { Action: 'lambda:UpdateAlias', Effect: 'Allow', Resource: { 'Fn::GetAtt': [logicalId(stack, fn), 'Arn'] } },
    ]);
  });
});
