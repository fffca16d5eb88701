import { CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AccountRootPrincipal, Role } from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { type CircuitBreakerOptions, InconclusiveAction, RollbackPlan, RollbackTrigger, TriggerMode } from '../../lib';
import {
  APPROVAL_LAST_END_SECONDS,
  AUDIT_EVENT_SOURCE,
  AuditDetailType,
  EvaluatorEnv,
  ROLLBACK_TRIGGER_DEFAULTS,
  StarterEnv,
  StateChangeEnv,
  parseEvaluatorConfig,
} from '../../lib/core';
import { lambdaCanary } from '../helpers';
import { synthesizedDefinition } from '../stepfunctions/definition';
import { type Props, build, cliPlan, noticeTypes, refusal, refused } from './trigger-fixtures';

// The circuit breaker as a CDK user meets it: RollbackTrigger's `circuitBreaker` prop — what it
// refuses (RT345, RT340, RT341), what it defaults to, and what the synthesized stack carries with it
// (the evaluator's configuration, RT_BREAKER on the state-change function, the starter's deadline,
// the notices rule, the approval state in the machine, IAM, the policy and the plan). The breaker's
// rules are in lib/core/breaker.ts, its runs in test/stepfunctions/circuit-breaker.test.ts, the
// gate it asks through in test/rollback/approval-gate.test.ts.


const ESCALATE = InconclusiveAction.ESCALATE;
/** The approval task's state name in the bake state machine. */
const ASK = 'Ask for approval';
/** What the notices rule matches without a gate or a breaker. */
const BASE_TYPES = [AuditDetailType.ROLLBACK_TRIGGERED, AuditDetailType.ESCALATION_RAISED, AuditDetailType.ROLLBACK_COMPLETED];
const APPROVAL_TYPES = [AuditDetailType.APPROVAL_REQUESTED, AuditDetailType.APPROVAL_ANSWERED];
const CIRCUIT_TYPES = [AuditDetailType.CIRCUIT_OPENED, AuditDetailType.CIRCUIT_CLOSED];
/** The breaker's settings when `circuitBreaker: {}`: 3 rollbacks, a 1-hour window, a 1-hour cooldown. */
const DEFAULT_BREAKER = { maxRollbacks: 3, windowSeconds: 3_600, cooldownSeconds: 3_600 };

/** The evaluator's configuration as the Lambda reads it (tokens rendered as `<…>`), checked by the evaluator's own parser. */
function evaluatorConfig(stack: Stack) {
  const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).find((r) => r.Properties.Environment?.Variables?.[EvaluatorEnv.CONFIG]);
  const value = fn!.Properties.Environment.Variables[EvaluatorEnv.CONFIG];
  const text = typeof value === 'string' ? value : value['Fn::Join'][1].map((p: unknown) => (typeof p === 'string' ? p : `<${JSON.stringify(p).replace(/"/g, "'")}>`)).join('');
  return parseEvaluatorConfig(text);
}

/** The environment of one of the trigger's functions. */
function environmentOf(stack: Stack, fn: RollbackTrigger['stateChangeFunction']): Record<string, unknown> {
  const resource = Template.fromStack(stack).findResources('AWS::Lambda::Function')[stack.getLogicalId(fn.node.defaultChild as never)];
  return resource.Properties.Environment.Variables;
}

/** The hook (starter) function's deadline, seconds after the hook started. */
function starterDeadline(stack: Stack, trigger: RollbackTrigger): string {
  return environmentOf(stack, trigger.hookFunction)[StarterEnv.DEADLINE_SECONDS] as string;
}

/** Every IAM statement attached to `role` (a Role's logical id). */
function statementsOf(stack: Stack, roleLogicalId: string): Array<{ Action: string | string[]; Resource: unknown; Effect: string }> {
  return Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${roleLogicalId}"`))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/** The statements of a function's role, each as sorted JSON (to compare two stacks). */
function functionStatements(stack: Stack, fn: RollbackTrigger['evaluatorFunction']): string[] {
  return statementsOf(stack, stack.getLogicalId(fn.role!.node.defaultChild as never))
    .map((s) => JSON.stringify(s))
    .sort();
}

describe('RT345: the breaker’s numbers, each refused with its own prop', () => {
  it.each([
    ['0', 0, 'got 0'],
    ['-1', -1, 'got -1'],
    ['1.5', 1.5, 'got 1.5'],
  ])('maxRollbacks %s is not a whole number of at least 1', (_, maxRollbacks, got) => {
    const e = refused({ circuitBreaker: { maxRollbacks } });
    expect(e).toMatchObject({ code: 'RT345', constructPath: 'TestStack/Rollback', prop: 'circuitBreaker.maxRollbacks' });
    expect(e.message).toBe(
      `[RT345] TestStack/Rollback: circuitBreaker.maxRollbacks must be a whole number of at least 1, ${got} — the rollbacks a group may have in the window before the breaker opens`,
    );
  });

  it('maxRollbacks as a token is refused (the count is written into the configuration at synth)', () => {
    const f = lambdaCanary();
    const max = new CfnParameter(f.stack, 'MaxRollbacks', { type: 'Number' });
    const e = refusal(() => build({ circuitBreaker: { maxRollbacks: max.valueAsNumber } }, f));
    expect(e).toMatchObject({ code: 'RT345', constructPath: 'TestStack/Rollback', prop: 'circuitBreaker.maxRollbacks' });
    expect(e.message).toContain('circuitBreaker.maxRollbacks must be a whole number of at least 1, got ');
  });

  it('maxRollbacks 1 is the least allowed: the breaker opens on the second rollback', () => {
    const { stack, trigger } = build({ circuitBreaker: { maxRollbacks: 1 } });
    expect(evaluatorConfig(stack).breaker).toEqual({ ...DEFAULT_BREAKER, maxRollbacks: 1 });
    expect(trigger._policy.circuitBreaker).toEqual({ ...DEFAULT_BREAKER, maxRollbacks: 1 });
  });

  it.each([
    ['window', '30 s', Duration.seconds(30)],
    ['window', '90 s', Duration.seconds(90)],
    ['window', '59 s', Duration.seconds(59)],
    ['cooldown', '30 s', Duration.seconds(30)],
    ['cooldown', '61 s', Duration.seconds(61)],
  ] as const)('%s of %s is not whole minutes of at least 1', (name, shown, value) => {
    const e = refused({ circuitBreaker: { [name]: value } });
    expect(e).toMatchObject({ code: 'RT345', constructPath: 'TestStack/Rollback', prop: `circuitBreaker.${name}` });
    expect(e.message).toBe(`[RT345] TestStack/Rollback: circuitBreaker.${name} must be whole minutes, at least 1, got ${shown}`);
  });

  it.each(['window', 'cooldown'] as const)('%s of a minute, or of whole minutes given in seconds, is allowed', (name) => {
    const minute = build({ circuitBreaker: { [name]: Duration.minutes(1) } });
    expect(evaluatorConfig(minute.stack).breaker).toMatchObject({ [`${name}Seconds`]: 60 });
    const inSeconds = build({ circuitBreaker: { [name]: Duration.seconds(180) } });
    expect(evaluatorConfig(inSeconds.stack).breaker).toMatchObject({ [`${name}Seconds`]: 180 });
  });

  it.each(['window', 'cooldown'] as const)('a token in %s goes through the literal-duration check (RT109) with its own name', (name) => {
    const f = lambdaCanary();
    const minutes = new CfnParameter(f.stack, 'BreakerMinutes', { type: 'Number' });
    const e = refusal(() => build({ circuitBreaker: { [name]: Duration.minutes(minutes.valueAsNumber) } }, f));
    expect(e).toMatchObject({ code: 'RT109', constructPath: 'TestStack/Rollback', prop: `circuitBreaker.${name}` });
    expect(e.message).toContain(`circuitBreaker.${name} must be a literal duration, got a token`);
  });

  it.each(['window', 'cooldown'] as const)('a fraction of a second, or 0, in %s goes through the literal-duration check (RT118) with its own name', (name) => {
    const fraction = refused({ circuitBreaker: { [name]: Duration.millis(60_500) } });
    expect(fraction).toMatchObject({ code: 'RT118', constructPath: 'TestStack/Rollback', prop: `circuitBreaker.${name}` });
    expect(fraction.message).toContain(`circuitBreaker.${name} must be a whole number of seconds above 0, got Duration.millis(60500) (60.5 s)`);
    // 0 is not "above 0": the same check every duration of the library goes through.
    const zero = refused({ circuitBreaker: { [name]: Duration.seconds(0) } });
    expect(zero).toMatchObject({ code: 'RT118', constructPath: 'TestStack/Rollback', prop: `circuitBreaker.${name}` });
    expect(zero.message).toContain(`circuitBreaker.${name} must be a whole number of seconds above 0, got Duration.seconds(0) (0 s)`);
  });

  it('circuitBreaker that is not an object (a jsii caller) is RT334', () => {
    const e = refused({ circuitBreaker: 3 as unknown as CircuitBreakerOptions });
    expect(e).toMatchObject({ code: 'RT334', prop: 'circuitBreaker' });
    expect(e.message).toContain('circuitBreaker must be an object { maxRollbacks?, window?, cooldown? }, got 3');
  });

  it('the numbers are checked before the shadow-mode refusal: a bad number is named first', () => {
    expect(refused({ mode: TriggerMode.SHADOW, circuitBreaker: { maxRollbacks: 0 } })).toMatchObject({ code: 'RT345', prop: 'circuitBreaker.maxRollbacks' });
  });
});

describe('RT340, RT341, RT344: the breaker and the approval gate’s props', () => {
  it('RT340: a breaker in shadow mode — shadow mode never stops a release, there is nothing to hold', () => {
    const e = refused({ circuitBreaker: {}, mode: TriggerMode.SHADOW });
    expect(e).toMatchObject({ code: 'RT340', constructPath: 'TestStack/Rollback', prop: 'circuitBreaker' });
    expect(e.message).toMatch(/^\[RT340\] TestStack\/Rollback: circuitBreaker is set in shadow mode: shadow mode never stops a release/);
    expect(e.message).toMatch(/drop circuitBreaker or use TriggerMode\.ENFORCE$/);
    // With approvalTimeout too (allowed with a breaker) the refusal is still the mode's.
    expect(refused({ circuitBreaker: {}, approvalTimeout: Duration.minutes(5), mode: TriggerMode.SHADOW })).toMatchObject({ code: 'RT340', prop: 'circuitBreaker' });
    // The same breaker enforcing is fine.
    expect(() => build({ circuitBreaker: {}, mode: TriggerMode.ENFORCE })).not.toThrow();
  });

  it('RT341: approvalTimeoutAction with only a breaker — a held rollback always rolls back unanswered', () => {
    for (const approvalTimeoutAction of [InconclusiveAction.FAIL, InconclusiveAction.PASS]) {
      const e = refused({ circuitBreaker: {}, approvalTimeoutAction });
      expect(e).toMatchObject({ code: 'RT341', constructPath: 'TestStack/Rollback', prop: 'approvalTimeoutAction' });
      expect(e.message).toContain('approvalTimeoutAction is set, but inconclusiveAction is "fail"');
      expect(e.message).toContain('drop approvalTimeoutAction (a rollback the circuit breaker holds always rolls back when nobody answers)');
    }
  });

  it('approvalTimeout is allowed with a breaker alone; without one it is still RT341, naming the breaker as the other way', () => {
    const { stack, trigger } = build({ circuitBreaker: {}, approvalTimeout: Duration.minutes(10) });
    expect(evaluatorConfig(stack).approval).toEqual({ timeoutSeconds: 600, escalateInconclusive: false });
    expect(trigger._policy.approvalTimeoutSeconds).toBe(600);
    const e = refused({ approvalTimeout: Duration.minutes(10) });
    expect(e).toMatchObject({ code: 'RT341', prop: 'approvalTimeout' });
    expect(e.message).toContain('approvalTimeout is set, but inconclusiveAction is "fail" and there is no circuitBreaker');
    expect(e.message).toContain('only InconclusiveAction.ESCALATE or a circuitBreaker asks for approval');
  });

  it('approvalTimeoutAction with ESCALATE and a breaker is allowed: it is what an unanswered inconclusive verdict reports', () => {
    const { stack, trigger } = build({ circuitBreaker: {}, inconclusiveAction: ESCALATE, approvalTimeoutAction: InconclusiveAction.PASS });
    expect(evaluatorConfig(stack)).toMatchObject({ inconclusiveAction: 'pass', approval: { escalateInconclusive: true }, breaker: DEFAULT_BREAKER });
    expect(trigger._policy).toMatchObject({ inconclusiveAction: 'pass', escalateInconclusive: true });
  });

  it('the approval timeout’s own bounds hold with a breaker (RT342)', () => {
    expect(refused({ circuitBreaker: {}, approvalTimeout: Duration.seconds(59) })).toMatchObject({ code: 'RT342', prop: 'approvalTimeout' });
    const long = refused({ circuitBreaker: {}, approvalTimeout: Duration.seconds(51 * 60 + 1) });
    expect(long).toMatchObject({ code: 'RT342', prop: 'approvalTimeout' });
    expect(long.message).toContain('approvalTimeout must be whole seconds from 1 min to 51 min');
    // 39 min leaves the 13 min the default delay and bake need (52 − 39); 40 min does not.
    expect(() => build({ circuitBreaker: {}, approvalTimeout: Duration.minutes(39) })).not.toThrow();
    expect(refused({ circuitBreaker: {}, approvalTimeout: Duration.minutes(40) })).toMatchObject({ code: 'RT342', prop: 'approvalTimeout' });
  });

  it('a breaker brings the approval wait into the deadline: 55 min with the default 30-min wait is RT342 on deadline', () => {
    // Without a breaker 55 min is the usual deadline.
    expect(() => build({ deadline: Duration.minutes(55) })).not.toThrow();
    const e = refused({ circuitBreaker: {}, deadline: Duration.minutes(55) });
    expect(e).toMatchObject({ code: 'RT342', constructPath: 'TestStack/Rollback', prop: 'deadline' });
    expect(e.message).toContain('deadline plus approvalTimeout must end by hook start + 52 min');
    expect(e.message).toContain('got 55 min + 30 min — shorten one (the deadline defaults to 22 min with this approvalTimeout)');
    // With a breaker, no wait fits after 55 min (it must end by hook start + 52 min), not even the shortest.
    expect(refused({ circuitBreaker: {}, deadline: Duration.minutes(55), approvalTimeout: Duration.minutes(1) })).toMatchObject({ code: 'RT342', prop: 'deadline' });
    // A 2-minute wait fits beside a 50-minute deadline, not a second more.
    expect(() => build({ circuitBreaker: {}, deadline: Duration.minutes(50), approvalTimeout: Duration.minutes(2) })).not.toThrow();
    expect(refused({ circuitBreaker: {}, deadline: Duration.minutes(50), approvalTimeout: Duration.seconds(121) })).toMatchObject({ code: 'RT342', prop: 'deadline' });
  });

  it('grantApprove works with a breaker alone, and grants what it grants with ESCALATE', () => {
    const grants = (props: Props) => {
      const { stack, trigger } = build(props);
      const role = new Role(stack, 'Oncall', { assumedBy: new AccountRootPrincipal() });
      expect(trigger.grantApprove(role).success).toBe(true);
      return statementsOf(stack, stack.getLogicalId(role.node.defaultChild as never));
    };
    const breaker = grants({ circuitBreaker: {} });
    const actions = breaker.flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(expect.arrayContaining(['states:SendTaskSuccess', 'states:SendTaskFailure', 'states:GetExecutionHistory', 'states:ListExecutions', 'states:DescribeExecution']));
    expect(JSON.stringify(breaker)).toEqual(JSON.stringify(grants({ inconclusiveAction: ESCALATE })));
  });

  it('RT344 still refuses grantApprove without ESCALATE or a breaker, and names both ways', () => {
    const { stack, trigger } = build();
    const e = refusal(() => trigger.grantApprove(new Role(stack, 'Oncall', { assumedBy: new AccountRootPrincipal() })));
    expect(e).toMatchObject({ code: 'RT344', constructPath: 'TestStack/Rollback' });
    expect(e.message).toContain('set inconclusiveAction: InconclusiveAction.ESCALATE, a circuitBreaker or a secondaryAction, or drop the grant');
  });
});

describe('defaults and custom values: the evaluator configuration, RT_BREAKER and the policy', () => {
  it('circuitBreaker: {} is 3 rollbacks within 1 h, a 1-h cooldown, and the default 30-min wait without inconclusive escalation', () => {
    expect(ROLLBACK_TRIGGER_DEFAULTS).toMatchObject({ breakerMaxRollbacks: 3, breakerWindowSeconds: 3_600, breakerCooldownSeconds: 3_600 });
    const { stack, trigger } = build({ circuitBreaker: {} });
    const config = evaluatorConfig(stack);
    expect(config.breaker).toEqual(DEFAULT_BREAKER);
    expect(config.approval).toEqual({ timeoutSeconds: 1_800, escalateInconclusive: false });
    // What an inconclusive verdict reports is unchanged (it does not ask).
    expect(config.inconclusiveAction).toBe('fail');
    expect(JSON.parse(environmentOf(stack, trigger.stateChangeFunction)[StateChangeEnv.BREAKER] as string)).toEqual(DEFAULT_BREAKER);
    expect(trigger._policy).toMatchObject({ circuitBreaker: DEFAULT_BREAKER, approvalTimeoutSeconds: 1_800, escalateInconclusive: false, inconclusiveAction: 'fail' });
  });

  it('custom values reach the evaluator, the state-change function and the policy in seconds', () => {
    const custom = { maxRollbacks: 5, windowSeconds: 7_200, cooldownSeconds: 1_800 };
    const { stack, trigger } = build({ circuitBreaker: { maxRollbacks: 5, window: Duration.hours(2), cooldown: Duration.minutes(30) } });
    expect(evaluatorConfig(stack).breaker).toEqual(custom);
    expect(environmentOf(stack, trigger.stateChangeFunction)[StateChangeEnv.BREAKER]).toBe(JSON.stringify(custom));
    expect(trigger._policy.circuitBreaker).toEqual(custom);
  });

  it('each option defaults on its own', () => {
    const { stack } = build({ circuitBreaker: { window: Duration.minutes(15) } });
    expect(evaluatorConfig(stack).breaker).toEqual({ ...DEFAULT_BREAKER, windowSeconds: 900 });
  });

  it('without a breaker: no breaker in the configuration, no RT_BREAKER, nothing in the policy', () => {
    for (const props of [{}, { inconclusiveAction: ESCALATE }] as Props[]) {
      const { stack, trigger } = build(props);
      expect(evaluatorConfig(stack).breaker).toBeUndefined();
      expect(environmentOf(stack, trigger.stateChangeFunction)).not.toHaveProperty(StateChangeEnv.BREAKER);
      expect(trigger._policy.circuitBreaker).toBeUndefined();
    }
  });

  it.each([
    ['a breaker alone', { circuitBreaker: {} }, false],
    ['a breaker and InconclusiveAction.PASS', { circuitBreaker: {}, inconclusiveAction: InconclusiveAction.PASS }, false],
    ['a breaker and ESCALATE', { circuitBreaker: {}, inconclusiveAction: ESCALATE }, true],
    ['ESCALATE alone', { inconclusiveAction: ESCALATE }, true],
  ] as Array<[string, Props, boolean]>)('escalateInconclusive with %s: %s', (_, props, escalate) => {
    const { stack, trigger } = build(props);
    expect(evaluatorConfig(stack).approval).toMatchObject({ escalateInconclusive: escalate });
    expect(trigger._policy.escalateInconclusive).toBe(escalate);
  });

  it('a breaker with InconclusiveAction.PASS keeps PASS for inconclusive verdicts', () => {
    const { stack, trigger } = build({ circuitBreaker: {}, inconclusiveAction: InconclusiveAction.PASS });
    expect(evaluatorConfig(stack)).toMatchObject({ inconclusiveAction: 'pass', breaker: DEFAULT_BREAKER });
    expect(trigger._policy.inconclusiveAction).toBe('pass');
  });
});

describe('the deadline with a breaker: 52 min minus the wait, as with the gate', () => {
  it.each([
    ['the default 30-min wait', {}, 1_800, 1_320],
    ['a 10-min wait', { approvalTimeout: Duration.minutes(10) }, 600, 2_520],
    ['a 2-min wait (50 min)', { approvalTimeout: Duration.minutes(2) }, 120, 3_000],
  ] as Array<[string, Props, number, number]>)('%s: the starter and the evaluator get the deadline, the evaluator the wait', (_, props, wait, deadline) => {
    const { stack, trigger } = build({ circuitBreaker: {}, ...props });
    expect(starterDeadline(stack, trigger)).toBe(String(deadline));
    const config = evaluatorConfig(stack);
    expect(config.approval).toEqual({ timeoutSeconds: wait, escalateInconclusive: false });
    expect(config.deadlineMarginSeconds).toBe(3_600 - deadline);
    // The wait ends at hook start + 52 min, 5 minutes before the report-by time.
    expect(deadline + wait).toBe(APPROVAL_LAST_END_SECONDS);
    expect(trigger._policy).toMatchObject({ deadlineSeconds: deadline, approvalTimeoutSeconds: wait });
  });

  it('an explicit deadline is kept', () => {
    const { stack, trigger } = build({ circuitBreaker: {}, deadline: Duration.minutes(20) });
    expect(starterDeadline(stack, trigger)).toBe('1200');
    expect(evaluatorConfig(stack)).toMatchObject({ approval: { timeoutSeconds: 1_800 }, deadlineMarginSeconds: 2_400 });
  });
});

describe('what the breaker adds to the stack', () => {
  it('the notices rule also sends Circuit Opened and Circuit Closed (and the approval events) to the topic only with a breaker', () => {
    const breaker = build({ circuitBreaker: {} });
    expect(noticeTypes(breaker.stack)).toEqual([...BASE_TYPES, ...APPROVAL_TYPES, ...CIRCUIT_TYPES]);
    Template.fromStack(breaker.stack).hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: breaker.stack.getLogicalId(breaker.trigger.auditBus.node.defaultChild as never) },
      EventPattern: Match.objectLike({ 'detail-type': Match.arrayWith(CIRCUIT_TYPES), 'detail': { deploymentGroupName: [Match.anyValue()] } }),
      Targets: [Match.objectLike({ Arn: { Ref: breaker.stack.getLogicalId(breaker.trigger.notificationTopic.node.defaultChild as never) } })],
    });
    expect(noticeTypes(build({ circuitBreaker: {}, inconclusiveAction: ESCALATE }).stack)).toEqual([...BASE_TYPES, ...APPROVAL_TYPES, ...CIRCUIT_TYPES]);
    expect(noticeTypes(build({ inconclusiveAction: ESCALATE }).stack)).toEqual([...BASE_TYPES, ...APPROVAL_TYPES]);
    expect(noticeTypes(build().stack)).toEqual(BASE_TYPES);
  });

  it('the state machine has the approval task with a breaker alone (the breaker asks through it)', () => {
    const { stack } = build({ circuitBreaker: {} });
    const states = synthesizedDefinition(stack).States as Record<string, any>;
    expect(states[ASK]).toMatchObject({
      Type: 'Task',
      Resource: 'arn:aws:states:::events:putEvents.waitForTaskToken',
      TimeoutSecondsPath: '$.approval.timeoutSeconds',
      ResultPath: '$.approval.answer',
    });
    expect(states[ASK].Parameters.Entries[0]).toMatchObject({ Source: AUDIT_EVENT_SOURCE, DetailType: AuditDetailType.APPROVAL_REQUESTED });
    // The request carries the whole `$.approval` (its `kind` says `breaker` when the breaker asks).
    expect(states[ASK].Parameters.Entries[0].Detail).toMatchObject({ 'approval.$': '$.approval', 'taskToken.$': '$$.Task.Token' });
    expect(JSON.stringify(states['Next step'].Choices)).toContain(`"Next":"${ASK}"`);
    // The same machine as with ESCALATE.
    expect(synthesizedDefinition(build({ inconclusiveAction: ESCALATE }).stack)).toEqual(synthesizedDefinition(stack));
  });

  it('the evaluator and the state-change function may GetItem and PutItem the state table (the breaker’s record lives there), as without a breaker', () => {
    const { stack, trigger } = build({ circuitBreaker: {} });
    const table = stack.getLogicalId(trigger.stateTable.node.defaultChild as never);
    for (const fn of [trigger.evaluatorFunction, trigger.stateChangeFunction]) {
      const statements = statementsOf(stack, stack.getLogicalId(fn.role!.node.defaultChild as never));
      const onTable = statements.filter((s) => JSON.stringify(s.Resource).includes(`"${table}"`));
      expect(onTable.flatMap((s) => [s.Action].flat()).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem']);
      expect(onTable.every((s) => s.Effect === 'Allow')).toBe(true);
    }
    // The table's name reaches both functions.
    expect(environmentOf(stack, trigger.stateChangeFunction)[StateChangeEnv.STATE_TABLE]).toEqual({ Ref: table });
    expect(environmentOf(stack, trigger.evaluatorFunction)[EvaluatorEnv.STATE_TABLE]).toEqual({ Ref: table });
  });

  it('the breaker adds no IAM statement and no resource: the same roles and resource types as without it', () => {
    const plain = build();
    const breaker = build({ circuitBreaker: {} });
    for (const pick of [(t: RollbackTrigger) => t.evaluatorFunction, (t: RollbackTrigger) => t.stateChangeFunction, (t: RollbackTrigger) => t.hookFunction]) {
      expect(functionStatements(breaker.stack, pick(breaker.trigger))).toEqual(functionStatements(plain.stack, pick(plain.trigger)));
    }
    const machineStatements = (t: RollbackTrigger, stack: Stack) =>
      statementsOf(stack, stack.getLogicalId(t.bakeStateMachine.node.findChild('Role').node.defaultChild as never))
        .map((s) => JSON.stringify(s))
        .sort();
    expect(machineStatements(breaker.trigger, breaker.stack)).toEqual(machineStatements(plain.trigger, plain.stack));
    const count = (stack: Stack) => {
      const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string }>;
      return Object.values(resources).reduce<Record<string, number>>((n, r) => ({ ...n, [r.Type]: (n[r.Type] ?? 0) + 1 }), {});
    };
    expect(count(breaker.stack)).toEqual(count(plain.stack));
  });
});

describe('the policy and the plan', () => {
  it('the CLI reads the breaker back from the synthesized assembly and prints its line', () => {
    const { entry, text } = cliPlan({ circuitBreaker: {} });
    expect(entry).toMatchObject({ circuitBreaker: DEFAULT_BREAKER, approvalTimeoutSeconds: 1_800, escalateInconclusive: false, deadlineSeconds: 1_320, inconclusiveAction: 'fail' });
    expect(text).toContain(
      '  Circuit breaker: more than 3 rollbacks within 1 h open it; then each rollback decision waits up to 30 min for a human (no answer: roll back) ' +
        'until someone answers with --close-breaker or 1 h pass. The alarm path is never held.\n',
    );
    // Only the breaker asks: inconclusive verdicts report the action, and there is no gate line.
    expect(text).toMatch(/evaluator bakes 10 min, inconclusive → fail\n/);
    expect(text).not.toMatch(/ask a human|Approval gate/);
  });

  it('custom values and a custom wait are printed as given', () => {
    const { entry, text } = cliPlan({ circuitBreaker: { maxRollbacks: 5, window: Duration.hours(2), cooldown: Duration.minutes(30) }, approvalTimeout: Duration.minutes(10) });
    expect(entry).toMatchObject({ circuitBreaker: { maxRollbacks: 5, windowSeconds: 7_200, cooldownSeconds: 1_800 }, approvalTimeoutSeconds: 600, deadlineSeconds: 2_520 });
    expect(text).toContain('  Circuit breaker: more than 5 rollbacks within 2 h open it; then each rollback decision waits up to 10 min for a human');
    expect(text).toContain('until someone answers with --close-breaker or 30 min pass.');
  });

  it('with ESCALATE too, the plan prints the gate and the breaker', () => {
    const { entry, text } = cliPlan({ circuitBreaker: {}, inconclusiveAction: ESCALATE });
    expect(entry).toMatchObject({ escalateInconclusive: true, circuitBreaker: DEFAULT_BREAKER });
    expect(text).toContain('inconclusive → ask a human (approval gate, 30 min; no answer → fail)');
    expect(text).toContain('  Approval gate: ');
    expect(text).toContain('  Circuit breaker: more than 3 rollbacks within 1 h open it');
  });

  it('RollbackPlan from code prints the same line; without a breaker there is none', () => {
    expect(RollbackPlan.of(build({ circuitBreaker: {} }).stack).render()).toContain('  Circuit breaker: more than 3 rollbacks within 1 h open it');
    for (const props of [{}, { inconclusiveAction: ESCALATE }] as Props[]) {
      const text = RollbackPlan.of(build(props).stack).render();
      expect(text).not.toContain('Circuit breaker');
      expect(text).not.toContain('--close-breaker');
    }
  });
});
