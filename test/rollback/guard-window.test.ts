import { CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { RollbackPlan, type RollbackTrigger, TriggerMode } from '../../lib';
import { AuditDetailType, EvaluatorEnv, GUARD_GRACE_SECONDS, MAX_GUARD_WINDOW_SECONDS, MIN_GUARD_WINDOW_SECONDS, ROLLBACK_TRIGGER_DEFAULTS, StateChangeEnv } from '../../lib/core';
import { lambdaCanary, validationApp } from '../helpers';
import { synthesizedDefinition } from '../stepfunctions/definition';
import {
  actionsOf,
  deploymentRights as rollbackRights,
  ecsTrigger,
  environmentOf,
  groupArn,
  logicalId,
  rightsBeyondEvaluator,
  stateChangeSettings,
  statementsOf,
  statementsOfRole,
} from './follow-up-fixtures';
import { type Props, build, cliPlan, noticeTypes, refusal, refused } from './trigger-fixtures';

// The guard window as a CDK user meets it: RollbackTrigger's `guardWindow` prop — what it refuses
// (RT347, RT109, RT118), what the stack carries (RT_GUARD on the state-change function, the
// follow-up machine, the rights to start one rollback deployment on the follow-up function only),
// the policy and the plan. The guard's steps are tested in test/lambda.

const DELAY = ROLLBACK_TRIGGER_DEFAULTS.metricDelaySeconds;
const BASE_TYPES = [AuditDetailType.ROLLBACK_TRIGGERED, AuditDetailType.ESCALATION_RAISED, AuditDetailType.ROLLBACK_COMPLETED];

/** RT_GUARD of the state-change function, parsed; the machine's ARN (a token) is rendered as its CloudFormation JSON. */
const guardEnv = (stack: Stack, trigger: RollbackTrigger) => stateChangeSettings(stack, trigger, StateChangeEnv.GUARD);

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
