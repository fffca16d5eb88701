import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AccountRootPrincipal, Role } from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { InconclusiveAction, RollbackPlan, RollbackTrigger, TriggerMode } from '../../lib';
import { readPolicies } from '../../lib/cli/assembly';
import { checkPolicyEntry } from '../../lib/cli/policy-metadata';
import {
  APPROVAL_LAST_END_SECONDS,
  AUDIT_EVENT_SOURCE,
  AuditDetailType,
  EvaluatorEnv,
  StarterEnv,
  buildPlan,
  parseEvaluatorConfig,
  renderPlan,
} from '../../lib/core';
import { lambdaCanary } from '../helpers';
import { synthesizedDefinition } from '../stepfunctions/definition';
import { type Props, build, noticeTypes, refusal, refused } from './trigger-fixtures';

// The approval gate as a CDK user meets it: InconclusiveAction.ESCALATE, approvalTimeout,
// approvalTimeoutAction and grantApprove — what each refuses (RT340–RT344), what the deadline
// defaults to, and what the synthesized stack carries (the evaluator's configuration, the starter's
// deadline, the notices rule, the state machine, IAM, the policy and the plan). The machine's runs
// are in test/stepfunctions/approval-gate.test.ts, the CLI in test/cli/approve.test.ts.


const ESCALATE = InconclusiveAction.ESCALATE;
/** The tasks' state name in the bake state machine. */
const ASK = 'Ask for approval';
/** The two detail types the notices rule adds with the gate. */
const APPROVAL_TYPES = [AuditDetailType.APPROVAL_REQUESTED, AuditDetailType.APPROVAL_ANSWERED];

/** The evaluator's configuration as the Lambda reads it (tokens rendered as `<…>`), checked by the evaluator's own parser. */
function evaluatorConfig(stack: Stack) {
  const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).find((r) => r.Properties.Environment?.Variables?.[EvaluatorEnv.CONFIG]);
  const value = fn!.Properties.Environment.Variables[EvaluatorEnv.CONFIG];
  const text = typeof value === 'string' ? value : value['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : `<${JSON.stringify(p).replace(/"/g, "'")}>`)).join('');
  return parseEvaluatorConfig(text);
}

/** The hook (starter) function's deadline, seconds after the hook started. */
function starterDeadline(stack: Stack, trigger: RollbackTrigger): string {
  const hook = Template.fromStack(stack).findResources('AWS::Lambda::Function')[stack.getLogicalId(trigger.hookFunction.node.defaultChild as never)];
  return hook.Properties.Environment.Variables[StarterEnv.DEADLINE_SECONDS];
}

/** Every IAM statement attached to `role` (a Role's logical id). */
function statementsOf(stack: Stack, roleLogicalId: string): Array<{ Action: string | string[]; Resource: unknown; Effect: string }> {
  return Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${roleLogicalId}"`))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

function actionsOf(statements: ReturnType<typeof statementsOf>): string[] {
  return statements.flatMap((s) => [s.Action].flat()).sort();
}

describe('RT340–RT344: what the gate refuses, with the code, the prop and what is allowed', () => {
  it('RT340: ESCALATE in shadow mode — shadow mode never stops a release, there is nothing to ask', () => {
    const e = refused({ inconclusiveAction: ESCALATE, mode: TriggerMode.SHADOW });
    expect(e).toMatchObject({ code: 'RT340', constructPath: 'TestStack/Rollback', prop: 'inconclusiveAction' });
    expect(e.message).toMatch(/^\[RT340\] TestStack\/Rollback: inconclusiveAction is InconclusiveAction\.ESCALATE in shadow mode/);
    // What is allowed instead: FAIL (audited as wouldRollback) or enforcing.
    expect(e.message).toMatch(/InconclusiveAction\.FAIL.*TriggerMode\.ENFORCE/);
    // The same props enforcing are fine, and so is FAIL in shadow mode.
    expect(() => build({ inconclusiveAction: ESCALATE, mode: TriggerMode.ENFORCE })).not.toThrow();
    expect(() => build({ inconclusiveAction: InconclusiveAction.FAIL, mode: TriggerMode.SHADOW })).not.toThrow();
  });

  it.each([
    ['approvalTimeout without inconclusiveAction (FAIL by default)', { approvalTimeout: Duration.minutes(5) }, 'approvalTimeout', '"fail"'],
    ['approvalTimeoutAction with PASS', { inconclusiveAction: InconclusiveAction.PASS, approvalTimeoutAction: InconclusiveAction.PASS }, 'approvalTimeoutAction', '"pass"'],
    ['approvalTimeoutAction with FAIL', { inconclusiveAction: InconclusiveAction.FAIL, approvalTimeoutAction: InconclusiveAction.FAIL }, 'approvalTimeoutAction', '"fail"'],
  ] as Array<[string, Props, string, string]>)('RT341: %s — nothing would ask for approval', (_, props, prop, action) => {
    const e = refused(props);
    expect(e).toMatchObject({ code: 'RT341', constructPath: 'TestStack/Rollback', prop });
    expect(e.message).toContain(`${prop} is set, but inconclusiveAction is ${action}`);
    expect(e.message).toMatch(new RegExp(`only InconclusiveAction\\.ESCALATE.* asks for approval — set it, or drop ${prop}$`));
  });

  it('RT341 names one of the two when both are set without the gate', () => {
    const e = refused({ approvalTimeout: Duration.minutes(5), approvalTimeoutAction: InconclusiveAction.PASS });
    expect(e.code).toBe('RT341');
    expect(['approvalTimeout', 'approvalTimeoutAction']).toContain(e.prop);
    expect(e.message).toContain(`drop ${e.prop}`);
  });

  it.each([
    ['59 s', Duration.seconds(59), '59 s'],
    ['51 min 1 s', Duration.seconds(51 * 60 + 1), '3061 s'],
    ['56 min (the old bound)', Duration.minutes(56), '56 min'],
    ['an hour', Duration.hours(1), '1 h'],
  ])('RT342: an approvalTimeout of %s is outside 1 min … 51 min', (_, approvalTimeout, shown) => {
    const e = refused({ inconclusiveAction: ESCALATE, approvalTimeout });
    expect(e).toMatchObject({ code: 'RT342', constructPath: 'TestStack/Rollback', prop: 'approvalTimeout' });
    expect(e.message).toContain(`approvalTimeout must be whole seconds from 1 min to 51 min`);
    expect(e.message).toContain(`the wait must end by hook start + 52 min, so the answer is reported inside CodeDeploy's hour), got ${shown}`);
  });

  it('RT342 bounds: 1 min passes; 51 min leaves a 1-min deadline that no bake fits in, and the refusal names approvalTimeout', () => {
    expect(() => build({ inconclusiveAction: ESCALATE, approvalTimeout: Duration.minutes(1) })).not.toThrow();
    const e = refused({ inconclusiveAction: ESCALATE, approvalTimeout: Duration.minutes(51), metricDelay: Duration.seconds(1), bake: Duration.seconds(1) });
    expect(e).toMatchObject({ code: 'RT342', prop: 'approvalTimeout' });
    expect(e.message).toContain('approvalTimeout of 51 min leaves a deadline of 1 min (hook start + 52 min minus the wait)');
    expect(e.message).toContain('make approvalTimeout at most 3059 s');
  });

  it('a long wait leaves a short default deadline, which must still hold metricDelay and the bake', () => {
    // 39 min: the deadline defaults to 13 min (52 − 39), just the default 3-min metric delay and 10-min bake.
    const fits = build({ inconclusiveAction: ESCALATE, approvalTimeout: Duration.minutes(39) });
    expect(starterDeadline(fits.stack, fits.trigger)).toBe('780');
    // 40 min: a 12-min deadline cannot hold the 3-min delay and the 10-min bake; the wait is named, with the longest that fits.
    const e = refused({ inconclusiveAction: ESCALATE, approvalTimeout: Duration.minutes(40) });
    expect(e).toMatchObject({ code: 'RT342', prop: 'approvalTimeout' });
    expect(e.message).toContain('approvalTimeout of 40 min leaves a deadline of 12 min');
    expect(e.message).toContain('make approvalTimeout at most 39 min, or shorten bake or metricDelay');
    // The longest wait that synthesizes: 50 min 59 s, with a 61-s deadline, a 1-s metric delay and a 1-min bake.
    const longest = build({ inconclusiveAction: ESCALATE, approvalTimeout: Duration.seconds(3_059), metricDelay: Duration.seconds(1), bake: Duration.minutes(1) });
    expect(starterDeadline(longest.stack, longest.trigger)).toBe('61');
    expect(evaluatorConfig(longest.stack)).toMatchObject({ approval: { timeoutSeconds: 3_059 }, deadlineMarginSeconds: 3_539 });
    expect(61 + 3_059).toBe(APPROVAL_LAST_END_SECONDS);
    // One second more leaves a 60-s deadline, a second short of the delay and the bake.
    const over = refused({ inconclusiveAction: ESCALATE, approvalTimeout: Duration.seconds(3_060), metricDelay: Duration.seconds(1), bake: Duration.minutes(1) });
    expect(over).toMatchObject({ code: 'RT342', prop: 'approvalTimeout' });
    expect(over.message).toContain('make approvalTimeout at most 3059 s');
  });

  it('a fraction of a second or a token in approvalTimeout goes through the literal-duration checks (RT118, RT109) with its own name', () => {
    const fraction = refused({ inconclusiveAction: ESCALATE, approvalTimeout: Duration.millis(90_500) });
    expect(fraction).toMatchObject({ code: 'RT118', constructPath: 'TestStack/Rollback', prop: 'approvalTimeout' });
    expect(fraction.message).toContain('approvalTimeout must be a whole number of seconds above 0, got Duration.millis(90500) (90.5 s)');
    const f = lambdaCanary();
    const minutes = new CfnParameter(f.stack, 'ApprovalMinutes', { type: 'Number' });
    const token = refusal(() => build({ inconclusiveAction: ESCALATE, approvalTimeout: Duration.minutes(minutes.valueAsNumber) }, f));
    expect(token).toMatchObject({ code: 'RT109', constructPath: 'TestStack/Rollback', prop: 'approvalTimeout' });
    expect(token.message).toContain('approvalTimeout must be a literal duration, got a token');
  });

  it('RT342: a deadline of 55 min with the default 30-min wait ends past hook start + 52 min; the refusal names deadline and its default', () => {
    const e = refused({ inconclusiveAction: ESCALATE, deadline: Duration.minutes(55) });
    expect(e).toMatchObject({ code: 'RT342', constructPath: 'TestStack/Rollback', prop: 'deadline' });
    expect(e.message).toContain("deadline plus approvalTimeout must end by hook start + 52 min (then the answer's step and the report still fit inside CodeDeploy's hour)");
    expect(e.message).toContain('got 55 min + 30 min — shorten one (the deadline defaults to 22 min with this approvalTimeout)');
    // What the old bound (57 min) let through is refused too: 25 min + 30 min.
    expect(refused({ inconclusiveAction: ESCALATE, deadline: Duration.minutes(25) })).toMatchObject({ code: 'RT342', prop: 'deadline' });
  });

  it('RT342 edges of deadline + approvalTimeout: exactly 52 min passes, one second more is refused', () => {
    const edge = build({ inconclusiveAction: ESCALATE, deadline: Duration.minutes(42), approvalTimeout: Duration.minutes(10) });
    expect(starterDeadline(edge.stack, edge.trigger)).toBe('2520');
    expect(evaluatorConfig(edge.stack)).toMatchObject({ approval: { timeoutSeconds: 600 }, deadlineMarginSeconds: 1_080 });
    const past = refused({ inconclusiveAction: ESCALATE, deadline: Duration.seconds(42 * 60 + 1), approvalTimeout: Duration.minutes(10) });
    expect(past).toMatchObject({ code: 'RT342', prop: 'deadline' });
    expect(past.message).toContain('got 2521 s + 10 min — shorten one (the deadline defaults to 42 min with this approvalTimeout)');
    // The same edge from the wait's side: 42 min + 10 min 1 s.
    expect(refused({ inconclusiveAction: ESCALATE, deadline: Duration.minutes(42), approvalTimeout: Duration.seconds(601) })).toMatchObject({ code: 'RT342', prop: 'deadline' });
    // The longest deadline with the gate, 51 min, fits the shortest wait (1 min), not a second more.
    expect(() => build({ inconclusiveAction: ESCALATE, deadline: Duration.minutes(51), approvalTimeout: Duration.minutes(1) })).not.toThrow();
    const over = refused({ inconclusiveAction: ESCALATE, deadline: Duration.minutes(51), approvalTimeout: Duration.seconds(61) });
    expect(over).toMatchObject({ code: 'RT342', prop: 'deadline' });
    expect(over.message).toContain('got 51 min + 61 s — shorten one (the deadline defaults to 3059 s with this approvalTimeout)');
  });

  it('a deadline past 55 min is RT316 without the gate; with the gate a deadline past 51 min is already RT342 (no wait of a minute fits after it)', () => {
    expect(refused({ deadline: Duration.minutes(56) })).toMatchObject({ code: 'RT316', prop: 'deadline' });
    for (const deadline of [Duration.seconds(51 * 60 + 1), Duration.minutes(55), Duration.minutes(56)]) {
      expect(refused({ inconclusiveAction: ESCALATE, deadline, approvalTimeout: Duration.minutes(1) })).toMatchObject({ code: 'RT342', prop: 'deadline' });
    }
    // RT316's lower bound holds with the gate.
    expect(refused({ inconclusiveAction: ESCALATE, deadline: Duration.seconds(59), approvalTimeout: Duration.minutes(1) })).toMatchObject({ code: 'RT316', prop: 'deadline' });
  });

  it.each([
    ['ESCALATE again', ESCALATE, '"escalate"'],
    ['an unknown action', 'maybe' as InconclusiveAction, '"maybe"'],
  ])('RT343: approvalTimeoutAction %s — nobody answered, it cannot escalate again', (_, approvalTimeoutAction, shown) => {
    const e = refused({ inconclusiveAction: ESCALATE, approvalTimeoutAction });
    expect(e).toMatchObject({ code: 'RT343', constructPath: 'TestStack/Rollback', prop: 'approvalTimeoutAction' });
    expect(e.message).toContain(`approvalTimeoutAction must be InconclusiveAction.FAIL or InconclusiveAction.PASS (what is reported when nobody answers), got ${shown}`);
  });

  it('RT344: grantApprove on a trigger without the gate', () => {
    for (const inconclusiveAction of [undefined, InconclusiveAction.FAIL, InconclusiveAction.PASS]) {
      const { stack, trigger } = build({ inconclusiveAction });
      const role = new Role(stack, 'Oncall', { assumedBy: new AccountRootPrincipal() });
      const e = refusal(() => trigger.grantApprove(role));
      expect(e).toMatchObject({ code: 'RT344', constructPath: 'TestStack/Rollback', prop: 'inconclusiveAction' });
      expect(e.message).toMatch(/grantApprove is called on a trigger that asks nobody: set inconclusiveAction: InconclusiveAction\.ESCALATE.*, or drop the grant/);
      // Nothing was granted.
      expect(statementsOf(stack, stack.getLogicalId(role.node.defaultChild as never))).toEqual([]);
    }
  });
});

describe('the deadline with the gate: 52 min minus the wait', () => {
  it.each([
    ['the default 30-min wait', {}, 1_800, 1_320],
    ['a 10-min wait', { approvalTimeout: Duration.minutes(10) }, 600, 2_520],
    ['a 2-min wait (52 − 2 = 50 min)', { approvalTimeout: Duration.minutes(2) }, 120, 3_000],
    ['a 1-min wait (51 min, the most with the gate)', { approvalTimeout: Duration.minutes(1) }, 60, 3_060],
  ] as Array<[string, Props, number, number]>)('%s: the starter and the evaluator get the deadline, the evaluator the wait', (_, props, wait, deadline) => {
    const { stack, trigger } = build({ inconclusiveAction: ESCALATE, ...props });
    expect(starterDeadline(stack, trigger)).toBe(String(deadline));
    const config = evaluatorConfig(stack);
    expect(config.approval).toMatchObject({ timeoutSeconds: wait });
    expect(config.deadlineMarginSeconds).toBe(3_600 - deadline);
    // The wait ends at hook start + 52 min, 5 minutes before the report-by time.
    expect(deadline + wait).toBe(APPROVAL_LAST_END_SECONDS);
    expect(trigger._policy).toMatchObject({ deadlineSeconds: deadline, approvalTimeoutSeconds: wait });
  });

  it('an explicit deadline is kept', () => {
    const { stack, trigger } = build({ inconclusiveAction: ESCALATE, deadline: Duration.minutes(20) });
    expect(starterDeadline(stack, trigger)).toBe('1200');
    expect(evaluatorConfig(stack)).toMatchObject({ approval: { timeoutSeconds: 1_800 }, deadlineMarginSeconds: 2_400 });
  });

  it('without the gate the deadline stays 55 min and the configuration has no approval', () => {
    const { stack, trigger } = build();
    expect(starterDeadline(stack, trigger)).toBe('3300');
    const config = evaluatorConfig(stack);
    expect(config.approval).toBeUndefined();
    expect(config).toMatchObject({ inconclusiveAction: 'fail', deadlineMarginSeconds: 300 });
    expect(trigger._policy.approvalTimeoutSeconds).toBeUndefined();
  });
});

describe('what nobody answering reports: the evaluator configuration and the policy', () => {
  it.each([
    ['FAIL by default', {}, 'fail'],
    ['FAIL', { approvalTimeoutAction: InconclusiveAction.FAIL }, 'fail'],
    ['PASS', { approvalTimeoutAction: InconclusiveAction.PASS }, 'pass'],
  ] as Array<[string, Props, 'fail' | 'pass']>)('approvalTimeoutAction %s: the evaluator’s inconclusiveAction is the timeout action', (_, props, action) => {
    const { stack, trigger } = build({ inconclusiveAction: ESCALATE, approvalTimeout: Duration.minutes(15), ...props });
    expect(evaluatorConfig(stack)).toMatchObject({ inconclusiveAction: action, approval: { timeoutSeconds: 900 } });
    expect(trigger._policy).toMatchObject({ inconclusiveAction: action, approvalTimeoutSeconds: 900 });
  });
});

describe('what the gate adds to the stack', () => {
  it('the notices rule sends Approval Requested and Approval Answered to the topic only with the gate', () => {
    const gated = build({ inconclusiveAction: ESCALATE });
    expect(noticeTypes(gated.stack)).toEqual([AuditDetailType.ROLLBACK_TRIGGERED, AuditDetailType.ESCALATION_RAISED, AuditDetailType.ROLLBACK_COMPLETED, ...APPROVAL_TYPES]);
    Template.fromStack(gated.stack).hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: gated.stack.getLogicalId(gated.trigger.auditBus.node.defaultChild as never) },
      EventPattern: Match.objectLike({ 'detail-type': Match.arrayWith(APPROVAL_TYPES) }),
      Targets: [Match.objectLike({ Arn: { Ref: gated.stack.getLogicalId(gated.trigger.notificationTopic.node.defaultChild as never) } })],
    });
    for (const inconclusiveAction of [undefined, InconclusiveAction.PASS]) {
      const plain = build({ inconclusiveAction });
      expect(noticeTypes(plain.stack)).toEqual([AuditDetailType.ROLLBACK_TRIGGERED, AuditDetailType.ESCALATION_RAISED, AuditDetailType.ROLLBACK_COMPLETED]);
    }
  });

  it('the state machine asks with PutEvents .waitForTaskToken on the audit bus, waits $.approval.timeoutSeconds and hands every ending through the report-by guard to the evaluator', () => {
    const { stack, trigger } = build({ inconclusiveAction: ESCALATE });
    const states = synthesizedDefinition(stack).States as Record<string, any>;
    const ask = states[ASK];
    expect(ask).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::events:putEvents.waitForTaskToken',
      TimeoutSecondsPath: '$.approval.timeoutSeconds',
      ResultPath: '$.approval.answer',
    });
    expect(ask.Retry).toBeUndefined();
    expect(ask.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.approval.error', Next: ask.Next }]);
    // Answer, rejection, timeout or refused request: Answered, then the clock and the report-by guard, then the evaluator.
    expect(ask.Next).toBe('Answered');
    expect(states.Answered.Next).toBe('Clock');
    expect(states.Clock.Next).toBe('Past report-by?');
    expect(states['Past report-by?'].Default).toBe('Evaluate');
    const entry = ask.Parameters.Entries[0];
    expect(entry).toMatchObject({ Source: AUDIT_EVENT_SOURCE, DetailType: AuditDetailType.APPROVAL_REQUESTED });
    expect(entry.EventBusName).toContain(stack.getLogicalId(trigger.auditBus.node.defaultChild as never));
    expect(entry.Detail).toMatchObject({ 'taskToken.$': '$$.Task.Token', 'executionArn.$': '$$.Execution.Id', 'approval.$': '$.approval' });
    expect(Object.keys(entry.Detail.howToAnswer)).toEqual(['approve.$', 'reject.$', 'awsCliApprove', 'awsCliReject']);
    // The Next step chooses the question only when the evaluator asks for it.
    expect(JSON.stringify(states['Next step'].Choices)).toContain(`"Next":"${ASK}"`);
  });

  it('the state machine may put events on the audit bus', () => {
    const { stack, trigger } = build({ inconclusiveAction: ESCALATE });
    const machineRole = stack.getLogicalId(trigger.bakeStateMachine.node.findChild('Role').node.defaultChild as never);
    const bus = stack.getLogicalId(trigger.auditBus.node.defaultChild as never);
    expect(statementsOf(stack, machineRole)).toContainEqual({ Action: 'events:PutEvents', Effect: 'Allow', Resource: { 'Fn::GetAtt': [bus, 'Arn'] } });
  });

  it('grantApprove: SendTaskSuccess / SendTaskFailure and the history reads the CLI needs, on this bake state machine only', () => {
    const { stack, trigger } = build({ inconclusiveAction: ESCALATE });
    const role = new Role(stack, 'Oncall', { assumedBy: new AccountRootPrincipal() });
    expect(trigger.grantApprove(role).success).toBe(true);
    const machine = stack.getLogicalId(trigger.bakeStateMachine.node.defaultChild as never);
    const statements = statementsOf(stack, stack.getLogicalId(role.node.defaultChild as never));
    expect(actionsOf(statements)).toEqual(
      expect.arrayContaining([
        'states:SendTaskSuccess',
        'states:SendTaskFailure',
        'states:GetExecutionHistory',
        'states:ListExecutions',
        'states:DescribeExecution',
      ]),
    );
    const on = (action: string) => statements.filter((s) => [s.Action].flat().includes(action)).map((s) => JSON.stringify(s.Resource));
    for (const action of ['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:ListExecutions']) {
      expect(on(action)).toEqual([JSON.stringify({ Ref: machine })]);
    }
    // The executions of this machine (its name from the ARN), not every execution in the account.
    for (const action of ['states:GetExecutionHistory', 'states:DescribeExecution']) {
      const [resource] = on(action);
      expect(resource).toContain(':execution:');
      expect(resource).toContain(`{"Ref":"${machine}"}`);
    }
    // Nothing that starts, stops or changes a bake.
    expect(actionsOf(statements).filter((a) => /StartExecution|StopExecution|Update|Delete|Create/.test(a))).toEqual([]);
    expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
  });
});

describe('the policy and the plan', () => {
  it('RollbackPlan prints the gate, its wait and what no answer reports', () => {
    const { stack } = build({ inconclusiveAction: ESCALATE, approvalTimeoutAction: InconclusiveAction.PASS });
    const text = RollbackPlan.of(stack).render();
    expect(text).toMatch(/evaluator bakes 10 min, inconclusive → ask a human \(approval gate, 30 min; no answer → pass\)/);
    expect(text).toMatch(/\n {2}Approval gate: an inconclusive verdict, or a pass during an incident that is not the release’s, waits for `rollback-triggers approve\|reject --execution ARN`/);
  });

  it('the CLI reads the gate back from the synthesized assembly and plans it', () => {
    const app = new App();
    const f = lambdaCanary(new Stack(app, 'Shop'));
    build({ inconclusiveAction: ESCALATE, approvalTimeout: Duration.minutes(10) }, f);
    const warnings: string[] = [];
    const [policy] = readPolicies(app.synth().directory, (w) => warnings.push(w));
    expect(warnings).toEqual([]);
    expect(policy.rollbackTriggers?.[0]).toMatchObject({ approvalTimeoutSeconds: 600, deadlineSeconds: 2_520, inconclusiveAction: 'fail' });
    const text = renderPlan(buildPlan(policy));
    expect(text).toContain('inconclusive → ask a human (approval gate, 10 min; no answer → fail)');
    expect(text).toContain('  Approval gate: ');
  });

  it('the CLI’s policy check takes what synthesizes at the 52-min edge, and refuses a wait a second longer', () => {
    const at = { file: 'cdk.out/Shop.assets.json', where: '"/Shop/Rollback"[0]' };
    const check = (entry: unknown) => {
      const warnings: string[] = [];
      checkPolicyEntry(JSON.parse(JSON.stringify({ schemaVersion: 1, entry })), at, (w) => warnings.push(w));
      return warnings;
    };
    for (const props of [
      { deadline: Duration.minutes(42), approvalTimeout: Duration.minutes(10) },
      { deadline: Duration.minutes(51), approvalTimeout: Duration.minutes(1) },
      { approvalTimeout: Duration.seconds(3_059), metricDelay: Duration.seconds(1), bake: Duration.minutes(1) },
      {},
    ] as Props[]) {
      const { trigger } = build({ inconclusiveAction: ESCALATE, ...props });
      expect(trigger._policy.deadlineSeconds + trigger._policy.approvalTimeoutSeconds!).toBe(APPROVAL_LAST_END_SECONDS);
      expect(check(trigger._policy)).toEqual([]);
      // The same deadline with a wait one second longer ends past hook start + 52 min.
      const longer = { ...trigger._policy, approvalTimeoutSeconds: trigger._policy.approvalTimeoutSeconds! + 1 };
      expect(() => check(longer)).toThrow(/approvalTimeoutSeconds.*after the deadline, by hook start \+ 3120 s/);
    }
  });

  it('without the gate the plan says only the inconclusive action', () => {
    const { stack } = build({ inconclusiveAction: InconclusiveAction.PASS });
    const text = RollbackPlan.of(stack).render();
    expect(text).toMatch(/inconclusive → pass\n/);
    expect(text).not.toMatch(/approval gate|Approval gate|ask a human/);
  });
});

describe('a trigger without ESCALATE synthesizes as before', () => {
  it('no question state, no approval types in the notices rule, nothing extra on the machine', () => {
    const plain = build();
    const gated = build({ inconclusiveAction: ESCALATE });
    const plainStates = synthesizedDefinition(plain.stack).States as Record<string, unknown>;
    const gatedStates = synthesizedDefinition(gated.stack).States as Record<string, unknown>;
    expect(Object.keys(plainStates)).not.toContain(ASK);
    expect(JSON.stringify(plainStates)).not.toMatch(/waitForTaskToken|Approval Requested|\$\.approval/);
    // The gate adds its question and the step after the answer, and nothing else.
    const added = Object.keys(gatedStates).filter((s) => !(s in plainStates));
    expect(added).toContain(ASK);
    expect(added.length).toBe(2);
    expect(Object.keys(plainStates).filter((s) => !(s in gatedStates))).toEqual([]);
    expect(noticeTypes(plain.stack)).not.toEqual(expect.arrayContaining([AuditDetailType.APPROVAL_REQUESTED]));
    // The same resources, by type and count.
    const count = (stack: Stack) => {
      const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string }>;
      return Object.values(resources).reduce<Record<string, number>>((n, r) => ({ ...n, [r.Type]: (n[r.Type] ?? 0) + 1 }), {});
    };
    expect(count(gated.stack)).toEqual(count(plain.stack));
    // The question goes out with the PutEvents the machine already has for its fail-closed audit.
    const machineStatements = (t: RollbackTrigger, stack: Stack) =>
      statementsOf(stack, stack.getLogicalId(t.bakeStateMachine.node.findChild('Role').node.defaultChild as never))
        .map((st) => JSON.stringify(st))
        .sort();
    expect(machineStatements(gated.trigger, gated.stack)).toEqual(machineStatements(plain.trigger, plain.stack));
  });
});
