import { CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { InconclusiveAction, RollbackPlan, RollbackTrigger, type VerifyRollbackOptions } from '../../lib';
import {
  AUDIT_EVENT_SOURCE,
  AuditDetailType,
  EvaluatorEnv,
  MAX_DEADLINE_SECONDS,
  MAX_VERIFY_SECONDS,
  ROLLBACK_TRIGGER_DEFAULTS,
  StateChangeEnv,
  VERIFY_GRACE_SECONDS,
} from '../../lib/core';
import { lambdaCanary, validationApp } from '../helpers';
import { synthesizedDefinition } from '../stepfunctions/definition';
import { actionsOf, environmentOf, statementsOf as functionStatements, logicalId, stateChangeSettings, statementsOfRole } from './follow-up-fixtures';
import { type Props, build, cliPlan, noticeTypes, refusal, refused } from './trigger-fixtures';

// Post-rollback verification as a CDK user meets it: RollbackTrigger's `verifyRollback` prop — what
// it refuses (RT346, RT334, RT109, RT118), what it defaults to, and what the synthesized stack
// carries with it (the verification machine, RT_VERIFY on the state-change function, IAM, the
// notices rule, the policy and the plan). The verification runs on the follow-up machine (shared with
// guardWindow and secondaryAction: test/rollback/guard-window.test.ts, secondary-action.test.ts).
// The state-change handler that starts it is in
// test/lambda/state-change-verify.test.ts, the machine's runs in
// test/stepfunctions/verify-rollback.test.ts.


/** What the notices rule matches without a gate, a breaker or a verification. */
const BASE_TYPES = [AuditDetailType.ROLLBACK_TRIGGERED, AuditDetailType.ESCALATION_RAISED, AuditDetailType.ROLLBACK_COMPLETED];
const APPROVAL_TYPES = [AuditDetailType.APPROVAL_REQUESTED, AuditDetailType.APPROVAL_ANSWERED];
const CIRCUIT_TYPES = [AuditDetailType.CIRCUIT_OPENED, AuditDetailType.CIRCUIT_CLOSED];
const VERIFY_TYPES = [AuditDetailType.ROLLBACK_VERIFIED, AuditDetailType.ROLLBACK_UNHEALTHY];
/** The default metric delay (3 min). */
const DELAY = ROLLBACK_TRIGGER_DEFAULTS.metricDelaySeconds;

/** RT_VERIFY of the state-change function, parsed; the machine's ARN (a token) is rendered as its CloudFormation JSON. */
function verifyEnv(stack: Stack, trigger: RollbackTrigger): { stateMachineArn: unknown; durationSeconds: number; metricDelaySeconds: number } {
  return stateChangeSettings(stack, trigger, StateChangeEnv.VERIFY) as { stateMachineArn: unknown; durationSeconds: number; metricDelaySeconds: number };
}

/** The follow-up machine's role's statements. */
const followUpRoleStatements = (stack: Stack, trigger: RollbackTrigger) => statementsOfRole(stack, trigger.followUpStateMachine!.node.findChild('Role'));

/** The state machines of a stack, by logical id. */
function machines(stack: Stack): Record<string, { Properties: Record<string, any> }> {
  return Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine') as Record<string, { Properties: Record<string, any> }>;
}

/** Resources of a stack counted by type. */
function resourceCounts(stack: Stack): Record<string, number> {
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string }>;
  return Object.values(resources).reduce<Record<string, number>>((n, r) => ({ ...n, [r.Type]: (n[r.Type] ?? 0) + 1 }), {});
}

describe('defaults and custom durations: RT_VERIFY, the policy and the machine', () => {
  it('verifyRollback: {} watches 10 min: RT_VERIFY has the machine’s ARN, 600 s and the 3-min metric delay; the policy says 600', () => {
    expect(ROLLBACK_TRIGGER_DEFAULTS.verifyRollbackSeconds).toBe(600);
    const { stack, trigger } = build({ verifyRollback: {} });
    expect(verifyEnv(stack, trigger)).toEqual({ stateMachineArn: { Ref: logicalId(stack, trigger.followUpStateMachine!) }, durationSeconds: 600, metricDelaySeconds: DELAY });
    expect(trigger._policy.verifyRollbackSeconds).toBe(600);
  });

  it.each([
    ['1 min, the shortest', Duration.minutes(1), 60],
    ['whole minutes given in seconds', Duration.seconds(180), 180],
    ['25 min', Duration.minutes(25), 1_500],
    ['40 min, the longest', Duration.minutes(40), 2_400],
  ])('a duration of %s reaches RT_VERIFY and the policy in seconds', (_, duration, seconds) => {
    const { stack, trigger } = build({ verifyRollback: { duration } });
    expect(verifyEnv(stack, trigger)).toMatchObject({ durationSeconds: seconds, metricDelaySeconds: DELAY });
    expect(trigger._policy.verifyRollbackSeconds).toBe(seconds);
  });

  it('RT_VERIFY carries the trigger’s own metric delay', () => {
    const { stack, trigger } = build({ verifyRollback: {}, metricDelay: Duration.minutes(5) });
    expect(verifyEnv(stack, trigger)).toMatchObject({ durationSeconds: 600, metricDelaySeconds: 300 });
  });

  it('the machine’s own timeout covers the duration, the metric delay, the grace for reads and 10 min more', () => {
    expect(VERIFY_GRACE_SECONDS).toBe(600);
    for (const [props, duration, delay] of [
      [{ verifyRollback: {} }, 600, DELAY],
      [{ verifyRollback: { duration: Duration.minutes(30) }, metricDelay: Duration.minutes(5) }, 1_800, 300],
    ] as Array<[Props, number, number]>) {
      const { stack, trigger } = build(props);
      const machine = machines(stack)[logicalId(stack, trigger.followUpStateMachine!)];
      expect(machine.Properties.DefinitionString).toBeDefined();
      const definition = synthesizedDefinition(stack, 'FollowUp');
      expect(definition.TimeoutSeconds).toBe(duration + delay + VERIFY_GRACE_SECONDS + 600);
    }
  });

  it('without verifyRollback: no RT_VERIFY, nothing in the policy, and neither followUpStateMachine nor followUpFunction', () => {
    for (const props of [{}, { circuitBreaker: {} }, { inconclusiveAction: InconclusiveAction.ESCALATE }] as Props[]) {
      const { stack, trigger } = build(props);
      expect(environmentOf(stack, trigger.stateChangeFunction)).not.toHaveProperty(StateChangeEnv.VERIFY);
      expect(trigger._policy).not.toHaveProperty('verifyRollbackSeconds');
      expect(trigger.followUpStateMachine).toBeUndefined();
      expect(trigger.followUpFunction).toBeUndefined();
    }
  });

  it('the evaluator’s configuration is the same with or without it (the verification’s settings travel in each execution’s input)', () => {
    const config = (props: Props) => {
      const { stack, trigger } = build(props);
      return JSON.stringify(environmentOf(stack, trigger.evaluatorFunction)[EvaluatorEnv.CONFIG]);
    };
    expect(config({ verifyRollback: { duration: Duration.minutes(20) } })).toEqual(config({}));
  });
});

describe('RT346: the duration, each refusal naming verifyRollback.duration', () => {
  it.each([
    ['59 s', Duration.seconds(59)],
    ['90 s', Duration.seconds(90)],
    ['41 min', Duration.minutes(41)],
    ['1 h', Duration.hours(1)],
  ])('%s is not whole minutes from 1 to 40', (shown, duration) => {
    const e = refused({ verifyRollback: { duration } });
    expect(e).toMatchObject({ code: 'RT346', constructPath: 'TestStack/Rollback', prop: 'verifyRollback.duration' });
    expect(e.message).toBe(`[RT346] TestStack/Rollback: verifyRollback.duration must be whole minutes from 1 min to 40 min, got ${shown}`);
  });

  it('the longest is 40 min: MAX_VERIFY_SECONDS', () => {
    expect(MAX_VERIFY_SECONDS).toBe(2_400);
    expect(() => build({ verifyRollback: { duration: Duration.seconds(MAX_VERIFY_SECONDS) } })).not.toThrow();
    expect(refused({ verifyRollback: { duration: Duration.seconds(MAX_VERIFY_SECONDS + 60) } })).toMatchObject({ code: 'RT346' });
  });

  it('a duration of 0 goes through the literal-duration check (RT118) like every duration of the library', () => {
    const e = refused({ verifyRollback: { duration: Duration.seconds(0) } });
    expect(e).toMatchObject({ code: 'RT118', constructPath: 'TestStack/Rollback', prop: 'verifyRollback.duration' });
    expect(e.message).toContain('verifyRollback.duration must be a whole number of seconds above 0, got Duration.seconds(0) (0 s)');
  });

  it('a fraction of a second is RT118, with its own name', () => {
    const e = refused({ verifyRollback: { duration: Duration.millis(60_500) } });
    expect(e).toMatchObject({ code: 'RT118', constructPath: 'TestStack/Rollback', prop: 'verifyRollback.duration' });
    expect(e.message).toContain('verifyRollback.duration must be a whole number of seconds above 0, got Duration.millis(60500) (60.5 s)');
  });

  it('a token is RT109, with its own name (the seconds are needed at synth)', () => {
    const f = lambdaCanary();
    const minutes = new CfnParameter(f.stack, 'VerifyMinutes', { type: 'Number' });
    const e = refusal(() => build({ verifyRollback: { duration: Duration.minutes(minutes.valueAsNumber) } }, f));
    expect(e).toMatchObject({ code: 'RT109', constructPath: 'TestStack/Rollback', prop: 'verifyRollback.duration' });
    expect(e.message).toContain('verifyRollback.duration must be a literal duration, got a token');
  });

  it.each([
    ['a number', 10, 'got 10'],
    ['a string', 'yes', 'got "yes"'],
    ['true', true, 'got boolean'],
    ['null', null, 'got null'],
  ])('verifyRollback that is not an object (%s, a jsii caller) is RT334', (_, value, got) => {
    const e = refused({ verifyRollback: value as unknown as VerifyRollbackOptions });
    expect(e).toMatchObject({ code: 'RT334', constructPath: 'TestStack/Rollback', prop: 'verifyRollback' });
    expect(e.message).toContain(`verifyRollback must be an object { duration? }, ${got}`);
  });
});

describe('RT346: the whole verification must fit the evaluator’s retry clock (57 min)', () => {
  it('the fit: duration + metric delay + 10 min for reads ≤ 57 min', () => {
    expect(MAX_DEADLINE_SECONDS).toBe(3_420);
    // 40 min + 7 min + 10 min is exactly 57 min.
    expect(() => build({ verifyRollback: { duration: Duration.minutes(40) }, metricDelay: Duration.minutes(7) })).not.toThrow();
    // One minute more of delay does not fit, and the message names the longest that does: 39 min.
    const e = refused({ verifyRollback: { duration: Duration.minutes(40) }, metricDelay: Duration.minutes(8) });
    expect(e).toMatchObject({ code: 'RT346', constructPath: 'TestStack/Rollback', prop: 'verifyRollback.duration' });
    expect(e.message).toBe(
      '[RT346] TestStack/Rollback: verifyRollback.duration of 40 min with the metric delay of 8 min and 10 min for reads passes 57 min after the rollback, ' +
        "the evaluator's retry clock: make it at most 39 min",
    );
    expect(() => build({ verifyRollback: { duration: Duration.minutes(39) }, metricDelay: Duration.minutes(8) })).not.toThrow();
  });

  it.each([
    ['the default 10-min verification with a 40-min metric delay', {}, Duration.minutes(40), '10 min', '40 min', '7 min'],
    ['20 min with a 30-min delay', { duration: Duration.minutes(20) }, Duration.minutes(30), '20 min', '30 min', '17 min'],
    ['a delay that is not whole minutes rounds the longest down', { duration: Duration.minutes(40) }, Duration.seconds(450), '40 min', '450 s', '39 min'],
  ] as Array<[string, VerifyRollbackOptions, Duration, string, string, string]>)('%s: refused, naming the longest duration that fits', (_, verifyRollback, metricDelay, duration, delay, longest) => {
    const e = refused({ verifyRollback, metricDelay, bake: Duration.minutes(5) });
    expect(e).toMatchObject({ code: 'RT346', prop: 'verifyRollback.duration' });
    expect(e.message).toContain(`verifyRollback.duration of ${duration} with the metric delay of ${delay} and 10 min for reads passes 57 min after the rollback`);
    expect(e.message).toMatch(new RegExp(`make it at most ${longest}$`));
    // And that duration is accepted.
    const minutes = Number(longest.split(' ')[0]);
    expect(() => build({ verifyRollback: { duration: Duration.minutes(minutes) }, metricDelay, bake: Duration.minutes(5) })).not.toThrow();
  });

  it('a metric delay that leaves no room for even a 1-min verification is refused', () => {
    // 47 min of delay + 10 min of grace is 57 min: nothing fits. (The bake is short so the delay itself is allowed.)
    for (const delay of [47, 50]) {
      expect(refused({ verifyRollback: { duration: Duration.minutes(1) }, metricDelay: Duration.minutes(delay), bake: Duration.minutes(5) })).toMatchObject({
        code: 'RT346',
        prop: 'verifyRollback.duration',
      });
    }
  });

  it('…and when no duration fits, its message names metricDelay instead of a duration below 1 min', () => {
    for (const delay of [47, 50]) {
      const e = refused({ verifyRollback: { duration: Duration.minutes(1) }, metricDelay: Duration.minutes(delay), bake: Duration.minutes(5) });
      expect(e.message, e.message).not.toMatch(/make it at most (0 s|-)/);
      expect(e.message).toContain('no duration fits: shorten metricDelay to at most 46 min');
    }
  });

  it('the fit is checked without a verification only when one is asked for: a long delay alone is fine', () => {
    expect(() => build({ metricDelay: Duration.minutes(40), bake: Duration.minutes(5) })).not.toThrow();
  });
});

describe('the verification machine', () => {
  it('exists only with verifyRollback: a second Standard state machine with its own log group, logging everything, traced', () => {
    const plain = build();
    expect(Object.keys(machines(plain.stack))).toHaveLength(1);
    const { stack, trigger } = build({ verifyRollback: {} });
    const all = machines(stack);
    expect(Object.keys(all)).toHaveLength(2);
    const id = logicalId(stack, trigger.followUpStateMachine!);
    expect(id).not.toBe(logicalId(stack, trigger.bakeStateMachine));
    expect(all[id].Properties).toMatchObject({
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: true },
    });
    const logGroup = all[id].Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0];
    expect(logGroup).not.toBe(machines(stack)[logicalId(stack, trigger.bakeStateMachine)].Properties.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn['Fn::GetAtt'][0]);
    Template.fromStack(stack).hasResource('AWS::Logs::LogGroup', Match.objectLike({ Properties: { RetentionInDays: 365 } }));
    expect(trigger.followUpStateMachine!.node.path).toBe('TestStack/Rollback/FollowUp/Resource');
  });

  it('its steps run in a Lambda function of their own (FollowUpSteps, the follow-up bundle), not in the bake’s evaluator', () => {
    const { stack, trigger } = build({ verifyRollback: {} });
    const fn = trigger.followUpFunction!;
    expect(fn.node.path).toBe('TestStack/Rollback/FollowUpSteps');
    expect(logicalId(stack, fn)).not.toBe(logicalId(stack, trigger.evaluatorFunction));
    const resource = Template.fromStack(stack).findResources('AWS::Lambda::Function')[logicalId(stack, fn)];
    expect(resource.Properties).toMatchObject({ Handler: 'follow-up.handler', Timeout: 120, Description: expect.stringContaining('follow-up steps for TestStack/Group') });
    // The same evaluator configuration, table and bus as the bake's steps: it reads and decides alike.
    expect(environmentOf(stack, fn)).toEqual(environmentOf(stack, trigger.evaluatorFunction));
  });

  it('adds exactly one state machine, the function it runs, their roles, policies and log groups, and the alarm on its failures', () => {
    const plain = resourceCounts(build().stack);
    const verified = resourceCounts(build({ verifyRollback: {} }).stack);
    const added = Object.fromEntries(Object.entries(verified).filter(([type, n]) => n !== (plain[type] ?? 0)).map(([type, n]) => [type, n - (plain[type] ?? 0)]));
    expect(added).toEqual({
      'AWS::StepFunctions::StateMachine': 1,
      'AWS::Lambda::Function': 1,
      'AWS::IAM::Role': 2,
      'AWS::IAM::Policy': 2,
      'AWS::Logs::LogGroup': 2,
      'AWS::CloudWatch::Alarm': 1,
    });
  });

  it('a verification that fails, times out or is aborted alarms the notification topic: one more operational alarm, on this machine', () => {
    expect(build().trigger.operationalAlarms).toHaveLength(2);
    const { stack, trigger } = build({ verifyRollback: {} });
    expect(trigger.operationalAlarms).toHaveLength(3);
    const alarms = Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm');
    const [id, alarm] = Object.entries(alarms).find(([, a]) => JSON.stringify(a.Properties.Metrics ?? []).includes(logicalId(stack, trigger.followUpStateMachine!)))!;
    expect(trigger.operationalAlarms.map((a) => logicalId(stack, a as never))).toContain(id);
    expect(alarm.Properties.AlarmActions).toEqual([{ Ref: logicalId(stack, trigger.notificationTopic) }]);
    const metricNames = (alarm.Properties.Metrics as Array<{ MetricStat?: { Metric: { MetricName: string; Dimensions: Array<{ Name: string; Value: unknown }> } } }>)
      .filter((m) => m.MetricStat)
      .map((m) => m.MetricStat!.Metric);
    expect(metricNames.map((m) => m.MetricName).sort()).toEqual(['ExecutionsAborted', 'ExecutionsFailed', 'ExecutionsTimedOut']);
    for (const m of metricNames) expect(m.Dimensions).toEqual([{ Name: 'StateMachineArn', Value: { Ref: logicalId(stack, trigger.followUpStateMachine!) } }]);
    // The bake's alarm still watches the bake's machine only.
    const others = Object.entries(alarms).filter(([other]) => other !== id && JSON.stringify(alarms[other].Properties.Metrics ?? []).includes('ExecutionsFailed'));
    expect(others).toHaveLength(1);
    expect(JSON.stringify(others[0][1].Properties.Metrics)).toContain(logicalId(stack, trigger.bakeStateMachine));
    expect(JSON.stringify(others[0][1].Properties.Metrics)).not.toContain(logicalId(stack, trigger.followUpStateMachine!));
  });

  it('its definition runs the follow-up function in a loop and escalates on the audit bus: no CodeDeploy report, no waitForTaskToken', () => {
    // With the gate and the breaker the bake has both; the verification has neither.
    const { stack, trigger } = build({ verifyRollback: {}, circuitBreaker: {}, inconclusiveAction: InconclusiveAction.ESCALATE });
    const bake = JSON.stringify(synthesizedDefinition(stack, 'Bake'));
    expect(bake).toContain('waitForTaskToken');
    expect(bake.toLowerCase()).toContain('codedeploy');

    const definition = synthesizedDefinition(stack, 'FollowUp');
    const text = JSON.stringify(definition);
    expect(text.toLowerCase()).not.toContain('codedeploy');
    expect(text).not.toContain('waitForTaskToken');
    expect(text).not.toContain('Ask for approval');

    const states = definition.States as Record<string, any>;
    expect(definition.StartAt).toBe('Evaluate');
    expect(Object.keys(states).sort()).toEqual(['Audit follow-up failure', 'Done', 'Escalation detail', 'Evaluate', 'Follow-up failed', 'Guard escalation detail', 'Next step', 'Of a rollback?', 'Unexpected step', 'Wait', 'Which flow'].sort());
    // This trigger's follow-up function (never the bake's evaluator), with the bake's retries; every error is caught into the escalation.
    const arnOf = (fn: RollbackTrigger['evaluatorFunction']) => `arn:aws:lambda:us-east-1:123456789012:function:${logicalId(stack, fn)}`;
    expect(states.Evaluate.Resource).toBe(arnOf(trigger.followUpFunction!));
    expect(text).not.toContain(arnOf(trigger.evaluatorFunction));
    expect(states.Evaluate.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.crash', Next: 'Which flow' }]);
    // A verification's escalation is the rollback's (rollbackDeploymentId too); only the guard window's is a release's.
    expect(states['Of a rollback?'].Choices).toEqual([
      expect.objectContaining({ And: expect.arrayContaining([{ Variable: '$.flow.phase', StringEquals: 'guard' }]), Next: 'Guard escalation detail' }),
    ]);
    expect(states['Of a rollback?'].Default).toBe('Escalation detail');
    expect(states.Wait).toMatchObject({ Type: 'Wait', SecondsPath: '$.waitSeconds', Next: 'Evaluate' });
    expect(states.Done.Type).toBe('Succeed');
    // The escalation: one Escalation Raised on this trigger's audit bus, then Fail.
    expect(states['Audit follow-up failure']).toMatchObject({ Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:eventbridge:putEvents', Next: 'Follow-up failed' });
    const entry = states['Audit follow-up failure'].Parameters.Entries[0];
    expect(entry).toMatchObject({ Source: AUDIT_EVENT_SOURCE, DetailType: AuditDetailType.ESCALATION_RAISED });
    expect(entry.EventBusName).toContain(logicalId(stack, trigger.auditBus));
    // The escalation names the deployment and the flow (the execution's first phase: verify here), so a reader knows which follow-up stopped.
    const detail = states['Escalation detail'].Parameters;
    expect(detail).toMatchObject({ 'deploymentId.$': '$$.Execution.Input.deploymentId', 'rollbackDeploymentId.$': '$$.Execution.Input.deploymentId', deploymentGroupName: expect.anything() });
    expect(states['Guard escalation detail'].Parameters['rollbackDeploymentId.$']).toBeUndefined();
    expect(detail['idempotencyKey.$']).toContain('$$.Execution.Input.phase');
    expect(detail['reasons.$']).toMatch(/the follow-up \(\{\}\) of deployment \{\} stopped.*\$\$\.Execution\.Input\.phase, \$\$\.Execution\.Input\.deploymentId/);
    expect(states['Follow-up failed']).toMatchObject({ Type: 'Fail', Error: 'FollowUpFailed' });
  });

  it('the bake’s machine is the same with or without verifyRollback', () => {
    expect(synthesizedDefinition(build({ verifyRollback: {} }).stack, 'Bake')).toEqual(synthesizedDefinition(build().stack, 'Bake'));
  });
});

describe('IAM', () => {
  it('the state-change function may StartExecution on exactly the verification machine, and on nothing else of Step Functions', () => {
    const { stack, trigger } = build({ verifyRollback: {} });
    const states = functionStatements(stack, trigger.stateChangeFunction).filter((s) => actionsOf(s).some((a) => a.startsWith('states:')));
    expect(states).toEqual([{ Action: 'states:StartExecution', Effect: 'Allow', Resource: { Ref: logicalId(stack, trigger.followUpStateMachine!) } }]);
    // Not the bake's machine.
    expect(JSON.stringify(states)).not.toContain(logicalId(stack, trigger.bakeStateMachine));
  });

  it('without it the state-change function has no Step Functions permission at all', () => {
    const { stack, trigger } = build({ circuitBreaker: {} });
    expect(functionStatements(stack, trigger.stateChangeFunction).flatMap(actionsOf).filter((a) => a.startsWith('states:'))).toEqual([]);
  });

  it('the other statements of the state-change, evaluator and hook functions are unchanged', () => {
    const plain = build();
    const verified = build({ verifyRollback: {} });
    const sorted = (stack: Stack, fn: RollbackTrigger['evaluatorFunction']) =>
      functionStatements(stack, fn)
        .map((s) => JSON.stringify(s))
        .sort();
    expect(sorted(verified.stack, verified.trigger.evaluatorFunction)).toEqual(sorted(plain.stack, plain.trigger.evaluatorFunction));
    expect(sorted(verified.stack, verified.trigger.hookFunction)).toEqual(sorted(plain.stack, plain.trigger.hookFunction));
    const stateChange = (stack: Stack, trigger: RollbackTrigger) =>
      functionStatements(stack, trigger.stateChangeFunction)
        .filter((s) => !(actionsOf(s).length === 1 && actionsOf(s)[0] === 'states:StartExecution'))
        .map((s) => JSON.stringify(s))
        .sort();
    expect(stateChange(verified.stack, verified.trigger)).toEqual(stateChange(plain.stack, plain.trigger));
  });

  it('the follow-up machine’s role may invoke its own step function (and its versions), not the bake’s evaluator, and PutEvents on the audit bus; nothing of CodeDeploy', () => {
    const { stack, trigger } = build({ verifyRollback: {} });
    const statements = followUpRoleStatements(stack, trigger);
    const evaluator = logicalId(stack, trigger.followUpFunction!);
    expect(statements).toContainEqual({
      Action: 'lambda:InvokeFunction',
      Effect: 'Allow',
      Resource: [{ 'Fn::GetAtt': [evaluator, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [evaluator, 'Arn'] }, ':*']] }],
    });
    expect(statements).toContainEqual({ Action: 'events:PutEvents', Effect: 'Allow', Resource: { 'Fn::GetAtt': [logicalId(stack, trigger.auditBus), 'Arn'] } });
    const actions = statements.flatMap(actionsOf);
    expect(actions.filter((a) => a.toLowerCase().startsWith('codedeploy:'))).toEqual([]);
    expect(actions.filter((a) => a.startsWith('lambda:'))).toEqual(['lambda:InvokeFunction']);
    expect(JSON.stringify(statements)).not.toContain(logicalId(stack, trigger.evaluatorFunction));
    expect(actions.filter((a) => a.startsWith('events:'))).toEqual(['events:PutEvents']);
    // Besides them only what Step Functions logging and tracing require (as for the bake's role).
    expect(actions.filter((a) => !/^(lambda|events|logs|xray):/.test(a))).toEqual([]);
    expect(actions.filter((a) => a === '*' || a.endsWith(':*'))).toEqual([]);
  });

  it('with verifyRollback alone the follow-up function may do exactly what the bake’s evaluator may: it reads and audits, it never acts on a deployment', () => {
    const { stack, trigger } = build({ verifyRollback: {} });
    const sorted = (fn: RollbackTrigger['evaluatorFunction']) =>
      functionStatements(stack, fn)
        .map((s) => JSON.stringify(s))
        .sort();
    expect(sorted(trigger.followUpFunction!)).toEqual(sorted(trigger.evaluatorFunction));
    const actions = functionStatements(stack, trigger.followUpFunction!).flatMap(actionsOf);
    expect(actions.filter((a) => a.startsWith('codedeploy:')).sort()).toEqual(['codedeploy:BatchGetDeploymentTargets', 'codedeploy:GetDeployment', 'codedeploy:ListDeploymentTargets']);
    for (const act of ['codedeploy:CreateDeployment', 'codedeploy:UpdateDeploymentGroup', 'lambda:UpdateAlias', 'dynamodb:UpdateItem']) expect(actions).not.toContain(act);
  });

  /** cdk-nag AwsSolutions and the CloudFormation schema checks on a trigger: the findings under the trigger's own path. */
  function triggerFindings(props: Props) {
    const { app, report } = validationApp();
    build(props, lambdaCanary(new Stack(app, 'Shop')));
    return report().filter((v) => v.paths.some((p) => p.startsWith('Shop/Rollback/')));
  }

  it('a trigger without verifyRollback leaves no unacknowledged cdk-nag finding of its own', () => {
    expect(triggerFindings({})).toEqual([]);
  });

  it('with verifyRollback neither: the follow-up machine’s role and function are acknowledged as the bake’s are', () => {
    expect(triggerFindings({ verifyRollback: {} })).toEqual([]);
  });

  it('the role is assumed by Step Functions only', () => {
    const { stack, trigger } = build({ verifyRollback: {} });
    const role = Template.fromStack(stack).findResources('AWS::IAM::Role')[logicalId(stack, trigger.followUpStateMachine!.node.findChild('Role'))];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toHaveLength(1);
    expect(role.Properties.AssumeRolePolicyDocument.Statement[0]).toMatchObject({ Action: 'sts:AssumeRole', Principal: { Service: 'states.amazonaws.com' } });
  });
});

describe('the notices rule', () => {
  it('sends Rollback Verified and Rollback Unhealthy to the topic only with verifyRollback', () => {
    const { stack, trigger } = build({ verifyRollback: {} });
    expect(noticeTypes(stack)).toEqual([...BASE_TYPES, ...VERIFY_TYPES]);
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: logicalId(stack, trigger.auditBus) },
      EventPattern: Match.objectLike({ 'detail-type': Match.arrayWith(VERIFY_TYPES), detail: { deploymentGroupName: [Match.anyValue()] } }),
      Targets: [Match.objectLike({ Arn: { Ref: logicalId(stack, trigger.notificationTopic) } })],
    });
    expect(noticeTypes(build().stack)).toEqual(BASE_TYPES);
    expect(noticeTypes(build({ circuitBreaker: {} }).stack)).toEqual([...BASE_TYPES, ...APPROVAL_TYPES, ...CIRCUIT_TYPES]);
  });

  it('with a breaker and the gate too, all of them', () => {
    const { stack } = build({ verifyRollback: {}, circuitBreaker: {}, inconclusiveAction: InconclusiveAction.ESCALATE });
    expect(noticeTypes(stack)).toEqual([...BASE_TYPES, ...APPROVAL_TYPES, ...CIRCUIT_TYPES, ...VERIFY_TYPES]);
  });
});

describe('the policy and the plan', () => {
  it('the CLI reads verifyRollbackSeconds back from the synthesized assembly and prints the verification line', () => {
    const { entry, text } = cliPlan({ verifyRollback: {} });
    expect(entry).toMatchObject({ verifyRollbackSeconds: 600 });
    expect(text).toContain('  Rollback verification: after each rollback, the restored version is watched 10 min on its own traffic → Rollback Verified, or Rollback Unhealthy (escalated).\n');
    // A verification alone changes nothing of the bake.
    expect(entry).toMatchObject({ deadlineSeconds: 3_300, inconclusiveAction: 'fail' });
    expect(entry).not.toHaveProperty('approvalTimeoutSeconds');
  });

  it('with a breaker the line says the unhealthy rollback is counted by it; a custom duration is printed as given', () => {
    const { entry, text } = cliPlan({ verifyRollback: { duration: Duration.minutes(25) }, circuitBreaker: {} });
    expect(entry).toMatchObject({ verifyRollbackSeconds: 1_500 });
    expect(text).toContain('  Rollback verification: after each rollback, the restored version is watched 25 min on its own traffic → Rollback Verified, or Rollback Unhealthy (escalated, counted by the breaker).\n');
    expect(text).toContain('  Circuit breaker: ');
  });

  it('RollbackPlan from code prints the same line; without verifyRollback there is none', () => {
    expect(RollbackPlan.of(build({ verifyRollback: { duration: Duration.minutes(5) } }).stack).render()).toContain('  Rollback verification: after each rollback, the restored version is watched 5 min');
    for (const props of [{}, { circuitBreaker: {} }] as Props[]) {
      const { entry, text } = cliPlan(props);
      expect(entry).not.toHaveProperty('verifyRollbackSeconds');
      expect(text).not.toContain('Rollback verification');
      expect(RollbackPlan.of(build(props).stack).render()).not.toContain('Rollback verification');
    }
  });
});
