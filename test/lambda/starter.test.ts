import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuditDetailType, DEFAULT_DEADLINE_SECONDS, MAX_DEADLINE_SECONDS, MIN_DEADLINE_SECONDS, deadlineSecondsFromEnv } from '../../lib/core';
import { type StarterDeps, createStarter, executionArnFor } from '../../lambda/starter/index';
import { DEPLOYMENT_ID, HOOK_ID, REAL_HOOK_ID, STATE_MACHINE_ARN, T0, World, accessDenied, awsError, ready, serverError, throttling } from './starter-fixtures';

function starterOf(world: World, overrides: Partial<StarterDeps> = {}) {
  return createStarter({
    stateMachineArn: STATE_MACHINE_ARN,
    sfn: ready(world.sfnClient),
    codedeploy: ready(world.codedeployClient),
    audit: world.auditSink,
    logger: world.logger,
    now: () => world.now,
    sleep: world.sleep,
    ...overrides,
  });
}

const hook = (hookId = HOOK_ID, deploymentId = DEPLOYMENT_ID) => ({ DeploymentId: deploymentId, LifecycleEventHookExecutionId: hookId });
const NAME_RULE = /^[A-Za-z0-9_-]{1,80}$/;
const expectedName = (hookId: string, deploymentId = DEPLOYMENT_ID) => `${deploymentId}-${createHash('sha256').update(hookId).digest('hex').slice(0, 32)}`;

describe('audit events name the trigger’s own group, so its notices rule forwards them', () => {
  it('even for an event that names no deployment at all', async () => {
    const world = new World();
    await starterOf(world, { applicationName: 'orders-app', deploymentGroupName: 'orders-dg' })(null, world.context());
    const [escalation] = world.audits(AuditDetailType.ESCALATION_RAISED);
    expect(escalation).toMatchObject({ applicationName: 'orders-app', deploymentGroupName: 'orders-dg' });
  });
});

describe('a valid hook starts one bake execution', () => {
  it('StartExecution with the derived name and the BakeExecutionInput; nothing reported, nothing audited', async () => {
    const world = new World();
    await starterOf(world)(hook(), world.context());

    const [call] = world.startCalls();
    expect(world.startCalls()).toHaveLength(1);
    expect(call.stateMachineArn).toBe(STATE_MACHINE_ARN);
    expect(call.name).toBe(expectedName(HOOK_ID));
    expect(call.name).toMatch(NAME_RULE);
    expect(JSON.parse(call.input!)).toEqual({
      deploymentId: DEPLOYMENT_ID,
      lifecycleEventHookExecutionId: HOOK_ID,
      hookStartedAt: T0,
      deadline: new Date((T0 + DEFAULT_DEADLINE_SECONDS) * 1000).toISOString(),
      reportBy: new Date((T0 + MAX_DEADLINE_SECONDS) * 1000).toISOString(),
    });
    expect(world.calls('GetDeployment')).toBe(0);
    expect(world.reportCalls()).toEqual([]);
    expect(world.audited).toEqual([]);
  });

  it('the deadline follows deadlineSeconds', async () => {
    const world = new World();
    await starterOf(world, { deadlineSeconds: 1_800 })(hook(), world.context());
    expect(JSON.parse(world.startCalls()[0].input!).deadline).toBe(new Date((T0 + 1_800) * 1000).toISOString());
  });

  it('the same hook always gets the same name, another hook another; a real ~288-character base64 id with +/= works', async () => {
    const world = new World();
    const start = starterOf(world);
    await start(hook(REAL_HOOK_ID), world.context());
    await start(hook(`${REAL_HOOK_ID.slice(0, -4)}Zz==`), world.context());
    world.now += 1;
    await start(hook(REAL_HOOK_ID), world.context());

    const names = world.startCalls().map((c) => c.name!);
    expect(REAL_HOOK_ID.length).toBeGreaterThan(280);
    for (const name of names) expect(name).toMatch(NAME_RULE);
    expect(names[0]).toBe(expectedName(REAL_HOOK_ID));
    expect(names[2]).toBe(names[0]);
    expect(names[1]).not.toBe(names[0]);
    expect(world.executions.size).toBe(2);
    expect(JSON.parse(world.startCalls()[0].input!).lifecycleEventHookExecutionId).toBe(REAL_HOOK_ID);
  });

  it('the execution ARN is derived from the state machine ARN', () => {
    expect(executionArnFor(STATE_MACHINE_ARN, 'd-RELEASE01-abc')).toBe('arn:aws:states:us-east-1:123456789012:execution:rollback-bake:d-RELEASE01-abc');
    expect(executionArnFor('arn:aws-cn:states:cn-north-1:123456789012:stateMachine:m', 'n')).toBe('arn:aws-cn:states:cn-north-1:123456789012:execution:m:n');
    expect(executionArnFor('not-an-arn', 'n')).toBeUndefined();
  });
});

describe('a second start for the same hook never starts or reports twice', () => {
  it('duplicate while the bake runs → ExecutionAlreadyExists → Trigger Suppressed naming the execution and RUNNING', async () => {
    const world = new World();
    const start = starterOf(world);
    await start(hook(), world.context());
    world.now += 5; // the duplicate arrives later: a different hookStartedAt, so a different input
    await start(hook(), world.context());

    expect(world.startCalls()).toHaveLength(2);
    expect(world.executions.size).toBe(1);
    expect(world.calls('DescribeExecution')).toBe(1);
    const [suppressed] = world.audits(AuditDetailType.TRIGGER_SUPPRESSED);
    const arn = executionArnFor(STATE_MACHINE_ARN, expectedName(HOOK_ID));
    expect(suppressed).toMatchObject({ deploymentId: DEPLOYMENT_ID, lifecycleEventHookExecutionId: HOOK_ID });
    expect(suppressed.reasons[0]).toContain(arn);
    expect(suppressed.reasons[0]).toContain('status RUNNING');
    expect(world.reportCalls()).toEqual([]);
    expect(world.calls('GetDeployment')).toBe(0);
  });

  it.each(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] as const)('re-delivery after the execution closed (%s) → suppressed with that status, nothing reported', async (status) => {
    const world = new World();
    const start = starterOf(world);
    await start(hook(), world.context());
    world.executions.get(expectedName(HOOK_ID))!.status = status;
    await start(hook(), world.context());

    expect(world.executions.size).toBe(1);
    const suppressed = world.audits(AuditDetailType.TRIGGER_SUPPRESSED);
    expect(suppressed).toHaveLength(1);
    expect(suppressed[0].reasons[0]).toContain(`status ${status}`);
    expect(world.reportCalls()).toEqual([]);
  });

  it('DescribeExecution failing still suppresses (status unknown), never starts or reports', async () => {
    const world = new World();
    const start = starterOf(world);
    await start(hook(), world.context());
    world.now += 5;
    world.failAlways('DescribeExecution', () => accessDenied());
    await start(hook(), world.context());

    expect(world.audits(AuditDetailType.TRIGGER_SUPPRESSED)[0].reasons[0]).toMatch(/status unknown \(DescribeExecution: AccessDeniedException after \d+ attempts\)/);
    expect(world.reportCalls()).toEqual([]);
    expect(world.executions.size).toBe(1);
  });
});

describe('StartExecution faults', () => {
  it('throttled, then a 5xx, then OK → started once, after backing off', async () => {
    const world = new World();
    world.failNext('StartExecution', throttling(), throttling(), serverError());
    await starterOf(world)(hook(), world.context());

    expect(world.calls('StartExecution')).toBe(4);
    expect(world.executions.size).toBe(1);
    expect(world.sleeps).toHaveLength(3);
    expect(world.reportCalls()).toEqual([]);
    expect(world.audited).toEqual([]);
  });

  it('AccessDenied (IAM still propagating) is retried too', async () => {
    const world = new World();
    world.failNext('StartExecution', accessDenied(), accessDenied());
    await starterOf(world)(hook(), world.context());
    expect(world.executions.size).toBe(1);
  });

  it('retries are bounded by the invocation’s remaining time, not by a count', async () => {
    const attemptsWith = async (budgetMs: number) => {
      const world = new World();
      world.addDeployment(DEPLOYMENT_ID);
      world.failAlways('StartExecution', throttling);
      await starterOf(world)(hook(), world.context(budgetMs));
      // Retries stop early enough for the fallback (20 s reserve) to run inside the invocation.
      expect(world.now - T0).toBeLessThan(budgetMs / 1000);
      return world.calls('StartExecution');
    };
    const short = await attemptsWith(40_000);
    const long = await attemptsWith(180_000);
    expect(short).toBeGreaterThan(3);
    expect(long).toBeGreaterThan(short + 10);
  });
});

describe('StartExecution failing for the whole budget → the starter reports by itself', () => {
  function failingWorld(options: Parameters<World['addDeployment']>[1] = {}) {
    const world = new World();
    world.addDeployment(DEPLOYMENT_ID, options);
    world.failAlways('StartExecution', throttling);
    return world;
  }

  it('StartExecution failing after an earlier attempt did start the execution (its answer lost): nothing reported, the running bake reports', async () => {
    const world = failingWorld();
    const name = expectedName(HOOK_ID);
    world.executions.set(name, { arn: executionArnFor(STATE_MACHINE_ARN, name)!, input: '{}', status: 'RUNNING' });
    await starterOf(world)(hook(), world.context(60_000));
    expect(world.reportCalls()).toEqual([]);
    expect(world.calls('GetDeployment')).toBe(0);
    const [suppressed] = world.audits(AuditDetailType.TRIGGER_SUPPRESSED);
    expect(suppressed.reasons[0]).toMatch(/exists \(status RUNNING\); it reports/);
  });

  it('a release → Failed (fail closed: it was not judged) + verdict and escalation audits', async () => {
    const world = failingWorld();
    await starterOf(world)(hook(), world.context(60_000));

    expect(world.reportCalls()).toEqual(['Failed']);
    expect(world.hookOutcomes.get(HOOK_ID)).toBe('Failed');
    expect(world.now - T0).toBeLessThan(60);
    const [verdict] = world.audits(AuditDetailType.DEPLOYMENT_VERDICT);
    expect(verdict).toMatchObject({ deploymentId: DEPLOYMENT_ID, lifecycleEventHookExecutionId: HOOK_ID, verdict: 'inconclusive', reportedStatus: 'Failed', applicationName: 'orders-app' });
    expect(verdict.reasons[0]).toMatch(/could not start the bake execution .* \(StartExecution: ThrottlingException after \d+ attempts\)/);
    expect(verdict.reasons[1]).toContain('the release was not judged');
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)).toHaveLength(1);
  });

  it.each(['codeDeployRollback', 'CloudFormationRollback'] as const)('a rollback deployment (%s) → Succeeded: a rollback is never blocked', async (creator) => {
    const world = failingWorld({ creator });
    await starterOf(world)(hook(), world.context(60_000));

    expect(world.reportCalls()).toEqual(['Succeeded']);
    expect(world.audits(AuditDetailType.DEPLOYMENT_VERDICT)[0]).toMatchObject({ verdict: 'skipped', reportedStatus: 'Succeeded' });
  });

  it('the deployment unreadable too → nothing reported (no Succeeded without evidence after seconds), an escalation, and the invocation fails for a retry', async () => {
    const world = failingWorld();
    world.failAlways('GetDeployment', serverError);
    await expect(starterOf(world)(hook(), world.context(60_000))).rejects.toThrow(/internal error/);

    expect(world.calls('GetDeployment')).toBeGreaterThan(1);
    expect(world.reportCalls()).toEqual([]);
    expect(world.audits(AuditDetailType.DEPLOYMENT_VERDICT)).toEqual([]);
    const [escalation] = world.audits(AuditDetailType.ESCALATION_RAISED);
    expect(escalation.reportedStatus).toBeUndefined();
    expect(escalation.reasons[1]).toMatch(/GetDeployment failed too .*nothing was reported/);
    expect(world.now - T0).toBeLessThan(60);
  });

  it('a non-retryable StartExecution error (StateMachineDoesNotExist) falls back at once', async () => {
    const world = new World();
    world.addDeployment(DEPLOYMENT_ID);
    world.failAlways('StartExecution', () => awsError('StateMachineDoesNotExist', 400));
    await starterOf(world)(hook(), world.context(60_000));

    expect(world.calls('StartExecution')).toBe(1);
    expect(world.reportCalls()).toEqual(['Failed']);
    expect(world.audits(AuditDetailType.DEPLOYMENT_VERDICT)[0].reasons[0]).toContain('StartExecution: StateMachineDoesNotExist)');
  });

  it('shadow mode: the fallback reports Succeeded where it would fail closed, audited with wouldRollback', async () => {
    const world = new World();
    world.addDeployment(DEPLOYMENT_ID);
    world.failAlways('StartExecution', () => awsError('StateMachineDoesNotExist', 400));
    await starterOf(world, { shadow: true })(hook(), world.context(60_000));
    expect(world.reportCalls()).toEqual(['Succeeded']);
    const verdict = world.audits(AuditDetailType.DEPLOYMENT_VERDICT)[0];
    expect(verdict).toMatchObject({ verdict: 'inconclusive', reportedStatus: 'Succeeded', wouldRollback: true });
    expect(verdict.reasons).toContain('the release was not judged: enforcing would fail closed; shadow mode reported Succeeded');
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)).toHaveLength(1);
  });

  it('shadow mode: Step Functions and GetDeployment both failing still reports Succeeded (no read is needed to tell a rollback from a release)', async () => {
    const world = new World();
    world.addDeployment(DEPLOYMENT_ID);
    world.failAlways('StartExecution', () => awsError('StateMachineDoesNotExist', 400));
    world.failAlways('GetDeployment', serverError);
    await starterOf(world, { shadow: true })(hook(), world.context(60_000));
    expect(world.reportCalls()).toEqual(['Succeeded']);
    expect(world.audits(AuditDetailType.DEPLOYMENT_VERDICT)[0]).toMatchObject({ reportedStatus: 'Succeeded', wouldRollback: true });
  });

  it('the Step Functions client cannot even be loaded → the fallback still reports', async () => {
    const world = new World();
    world.addDeployment(DEPLOYMENT_ID);
    await starterOf(world, { sfn: () => Promise.reject(new Error('Cannot find module')) })(hook(), world.context(60_000));
    expect(world.reportCalls()).toEqual(['Failed']);
  });

  it('a deployment that already ended → nothing reported; suppressed and escalated', async () => {
    const world = failingWorld({ status: 'Stopped' });
    await starterOf(world)(hook(), world.context(60_000));
    expect(world.reportCalls()).toEqual([]);
    expect(world.audits(AuditDetailType.TRIGGER_SUPPRESSED)[0].reasons[0]).toBe('deployment already Stopped; nothing to report');
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)).toHaveLength(1);
  });

  it('CodeDeploy had already completed the hook → suppressed (outcome unknown), no throw', async () => {
    const world = failingWorld();
    world.hookOutcomes.set(HOOK_ID, 'Succeeded');
    await starterOf(world)(hook(), world.context(60_000));
    expect(world.reportCalls()).toEqual(['Failed']);
    expect(world.hookOutcomes.get(HOOK_ID)).toBe('Succeeded');
    expect(world.audits(AuditDetailType.DEPLOYMENT_VERDICT)).toEqual([]);
    expect(world.audits(AuditDetailType.TRIGGER_SUPPRESSED)[0].reasons[0]).toContain('already completed');
  });

  it('the report failing for the rest of the budget → escalation, then the invocation fails (a Lambda retry may still start the bake)', async () => {
    const world = failingWorld();
    world.failAlways('PutLifecycleEventHookExecutionStatus', throttling);
    await expect(starterOf(world)(hook(), world.context(60_000))).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(world.calls('PutLifecycleEventHookExecutionStatus')).toBeGreaterThan(1);
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)[0].reasons[0]).toMatch(/^could not report Failed to CodeDeploy \(ThrottlingException after \d+ attempts\)/);
    expect(world.now - T0).toBeLessThan(60);
  });
});

describe('garbage hook events: no TypeError, no key like hook#undefined, no start', () => {
  const garbage: Array<[string, unknown]> = [
    ['null', null],
    ['undefined', undefined],
    ['a string', 'x'],
    ['a number', 42],
    ['an array', [DEPLOYMENT_ID, HOOK_ID]],
    ['an empty object', {}],
    ['a numeric DeploymentId', { DeploymentId: 5, LifecycleEventHookExecutionId: HOOK_ID }],
    ['a missing hook id', { DeploymentId: DEPLOYMENT_ID }],
    ['a numeric hook id', { DeploymentId: DEPLOYMENT_ID, LifecycleEventHookExecutionId: 7 }],
    ['an empty hook id', { DeploymentId: DEPLOYMENT_ID, LifecycleEventHookExecutionId: '' }],
    ['a DeploymentId not shaped like d-XXXXXXXXX', { DeploymentId: 'd-123', LifecycleEventHookExecutionId: HOOK_ID }],
    ['an empty DeploymentId', { DeploymentId: '', LifecycleEventHookExecutionId: HOOK_ID }],
    ['a DeploymentId with a path in it', { DeploymentId: 'd-ABCDEFGH/../x', LifecycleEventHookExecutionId: HOOK_ID }],
    ['an absurdly long hook id', { DeploymentId: DEPLOYMENT_ID, LifecycleEventHookExecutionId: 'A'.repeat(100_000) }],
    ['a hook id with a newline', { DeploymentId: DEPLOYMENT_ID, LifecycleEventHookExecutionId: 'abc\ndef' }],
  ];

  it.each(garbage)('%s → logged, escalated, nothing started', async (_label, event) => {
    const world = new World();
    await expect(starterOf(world)(event, world.context())).resolves.toBeUndefined();

    expect(world.startCalls()).toEqual([]);
    expect(world.reportCalls()).toEqual([]);
    expect(world.logLines('error')[0]?.[0]).toBe('invalid hook event');
    const escalations = world.audits(AuditDetailType.ESCALATION_RAISED);
    expect(escalations).toHaveLength(1);
    expect(escalations[0].reasons[0]).toMatch(/^invalid hook event: /);
    expect(escalations[0].deploymentId).toMatch(/^(d-[A-Za-z0-9]{9}|unknown)$/);
    expect(JSON.stringify(world.audited)).not.toContain('undefined');
    expect(JSON.stringify(world.audited).length).toBeLessThan(2_000);
  });
});

describe('the audit never breaks the starter', () => {
  it('a sink that throws → the bake still starts; a failing fallback’s audit goes to the log', async () => {
    const world = new World();
    world.auditThrows = true;
    await starterOf(world)(hook(), world.context());
    expect(world.executions.size).toBe(1);

    await expect(starterOf(world)(null, world.context())).resolves.toBeUndefined();
    const fallback = world.logLines('error').find(([message]) => message === 'audit event not delivered');
    expect(fallback?.[1]).toMatchObject({ auditFallback: { detailType: AuditDetailType.ESCALATION_RAISED } });
  });
});

describe('the deadline setting', () => {
  it('unset → the default; clamped into [min, max]; not a number → undefined (logged by the handler)', () => {
    expect(deadlineSecondsFromEnv(undefined)).toBe(DEFAULT_DEADLINE_SECONDS);
    expect(deadlineSecondsFromEnv('')).toBe(DEFAULT_DEADLINE_SECONDS);
    expect(deadlineSecondsFromEnv('1800')).toBe(1_800);
    expect(deadlineSecondsFromEnv('99999')).toBe(MAX_DEADLINE_SECONDS);
    expect(deadlineSecondsFromEnv('5')).toBe(MIN_DEADLINE_SECONDS);
    expect(deadlineSecondsFromEnv('soon')).toBeUndefined();
  });
});
