/**
 * The state-change handler with post-rollback verification (`verify` deps): after each successful
 * rollback deployment it starts one execution of the verification machine (Step Functions mocked
 * by the World of starter-fixtures.ts, which keeps executions by name and answers a second start
 * as the API does), named after the rollback, with core's verifyInput. CodeDeploy and Lambda are
 * mocked and the state table is in dynalite, as in state-change.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import { AuditDetailType } from '../../lib/core/audit-events';
import type { BakeState } from '../../lib/core/bake';
import { VERIFY_GRACE_SECONDS, type VerifySettings, verifyExecutionName, verifyInput } from '../../lib/core/verify';
import { KnownGoodStore } from '../../lambda/shared/state';
import { type StateChangeDeps, createStateChangeHandler } from '../../lambda/state-change/index';
import { type Dynalite, withStateTable } from './dynalite';
import { APPLICATION, DEPLOYMENT_GROUP, T0, World, awsError, ready, stateChange, stateChangeDeps, throttling } from './starter-fixtures';

const VERIFY_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:rollback-verify';
/** The defaults: 10 min of verification, the 3-min metric delay. */
const VERIFY: VerifySettings = { stateMachineArn: VERIFY_ARN, durationSeconds: 600, metricDelaySeconds: 180 };
const RELEASE = 'd-BADAAAAA1';
const ROLLBACK = 'd-ROLLBACK1';

let db: Dynalite;
let store: KnownGoodStore;

withStateTable((server, table) => {
  db = server;
  store = new KnownGoodStore(db.client, table);
});

function handlerOf(world: World, overrides: Partial<StateChangeDeps> = {}) {
  return createStateChangeHandler({
    ...stateChangeDeps(world, store),
    verify: VERIFY,
    sfn: ready(world.sfnClient),
    ...overrides,
  });
}

const at = (seconds: number) => new Date(seconds * 1000);

/** A release stopped by an alarm 20 s after T0, and its rollback, which succeeded `rollbackEnd` seconds after T0. */
function releaseAndRollback(world: World, rollbackEnd = 200) {
  world.addDeployment(RELEASE, {
    status: 'Stopped',
    completeTime: at(T0 + 20),
    errorInformation: { code: 'ALARM_ACTIVE', message: 'Activated alarms: <orders-availability-page>' },
    rollbackInfo: { rollbackDeploymentId: ROLLBACK },
  });
  world.addDeployment(ROLLBACK, { creator: 'codeDeployRollback', status: 'Succeeded', completeTime: at(T0 + rollbackEnd), rollbackInfo: { rollbackTriggeringDeploymentId: RELEASE } });
}

/** The executions started, with their input parsed. */
function started(world: World): Array<{ stateMachineArn?: string; name?: string; input: BakeState }> {
  return world.startCalls().map((c) => ({ stateMachineArn: c.stateMachineArn, name: c.name, input: JSON.parse(c.input!) as BakeState }));
}

describe('a successful rollback starts one verification', () => {
  it('named after the rollback, with verifyInput: phase verify, the rollback, the release it rolled back, the time to recovery and the deadline', async () => {
    const world = new World();
    // The rollback ends 3 min 20 s after T0, not on a minute: the verification starts at the minute it ended in.
    releaseAndRollback(world, 200);
    const handle = handlerOf(world);
    await handle(stateChange(RELEASE, 'STOP'), world.context());
    expect(world.startCalls()).toEqual([]);
    await handle(stateChange(ROLLBACK, 'SUCCESS'), world.context());

    const [completed] = world.audits(AuditDetailType.ROLLBACK_COMPLETED);
    expect(completed).toMatchObject({ deploymentId: ROLLBACK, rollbackDeploymentId: ROLLBACK, timeToRecoverySeconds: 180 });

    const runs = started(world);
    expect(runs).toHaveLength(1);
    const [run] = runs;
    expect(run.stateMachineArn).toBe(VERIFY_ARN);
    expect(run.name).toBe(`verify-${ROLLBACK}`);
    expect(run.name).toBe(verifyExecutionName(ROLLBACK));
    const start = T0 + 180; // floor(T0 + 200) to the minute
    expect(run.input).toEqual({
      deploymentId: ROLLBACK,
      lifecycleEventHookExecutionId: `verify:${ROLLBACK}`,
      hookStartedAt: start,
      deadline: new Date((start + 600 + 180 + VERIFY_GRACE_SECONDS) * 1000).toISOString(),
      phase: 'verify',
      verify: { durationSeconds: 600, rolledBack: RELEASE, timeToRecoverySeconds: completed.timeToRecoverySeconds },
    });
    expect(VERIFY_GRACE_SECONDS).toBe(600);
    // Exactly what core's verifyInput builds from the same facts.
    expect(run.input).toEqual(verifyInput(ROLLBACK, T0 + 200, VERIFY, RELEASE, 180));
    expect(world.logLines('info')).toContainEqual(['verification started', { deploymentId: ROLLBACK, execution: verifyExecutionName(ROLLBACK) }]);
    // Nothing else changes: no escalation, nothing reported to CodeDeploy, no known-good version.
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)).toEqual([]);
    expect(world.reportCalls()).toEqual([]);
    await expect(store.get(APPLICATION, DEPLOYMENT_GROUP)).resolves.toBeUndefined();
  });

  it('the time to recovery in the input is the audit’s, from the evaluator’s earlier bad signal', async () => {
    const world = new World();
    releaseAndRollback(world, 300);
    await store.recordFirstBadSignal(RELEASE, T0 - 60);
    await handlerOf(world)(stateChange(ROLLBACK, 'SUCCESS'), world.context());
    const [completed] = world.audits(AuditDetailType.ROLLBACK_COMPLETED);
    expect(completed.timeToRecoverySeconds).toBe(360);
    expect(started(world)[0].input.verify).toEqual({ durationSeconds: 600, rolledBack: RELEASE, timeToRecoverySeconds: 360 });
  });

  it('custom settings: the duration and metric delay set the deadline; a rollback ending on the minute starts on it', async () => {
    const world = new World();
    releaseAndRollback(world, 240);
    await handlerOf(world, { verify: { ...VERIFY, durationSeconds: 1_500, metricDelaySeconds: 300 } })(stateChange(ROLLBACK, 'SUCCESS'), world.context());
    const [{ input }] = started(world);
    expect(input.hookStartedAt).toBe(T0 + 240);
    expect(input.deadline).toBe(new Date((T0 + 240 + 1_500 + 300 + 600) * 1000).toISOString());
    expect(input.verify).toMatchObject({ durationSeconds: 1_500 });
  });

  it('a rollback CodeDeploy names no triggering deployment for: verified anyway, without rolledBack or a time to recovery', async () => {
    const world = new World();
    world.addDeployment(ROLLBACK, { creator: 'codeDeployRollback', status: 'Succeeded', completeTime: at(T0 + 200) });
    await handlerOf(world)(stateChange(ROLLBACK, 'SUCCESS'), world.context());
    expect(world.audits(AuditDetailType.ROLLBACK_COMPLETED)[0].timeToRecoverySeconds).toBeUndefined();
    const [{ input }] = started(world);
    expect(input).toMatchObject({ deploymentId: ROLLBACK, phase: 'verify' });
    expect(input.verify).toEqual({ durationSeconds: 600 });
  });

  it('a rollback by CloudFormation is a rollback too', async () => {
    const world = new World();
    world.addDeployment(ROLLBACK, { creator: 'CloudFormationRollback', status: 'Succeeded', completeTime: at(T0 + 200) });
    await handlerOf(world)(stateChange(ROLLBACK, 'SUCCESS'), world.context());
    expect(started(world).map((r) => r.name)).toEqual([`verify-${ROLLBACK}`]);
  });
});

describe('one execution per rollback, whatever is delivered twice', () => {
  it('a repeated event while the verification runs: the same start is accepted, one execution', async () => {
    const world = new World();
    releaseAndRollback(world);
    const handle = handlerOf(world);
    await handle(stateChange(ROLLBACK, 'SUCCESS'), world.context());
    world.now += 60;
    await expect(handle(stateChange(ROLLBACK, 'SUCCESS'), world.context())).resolves.toBeUndefined();
    expect(world.calls('StartExecution')).toBe(2);
    expect(world.executions.size).toBe(1);
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)).toEqual([]);
  });

  it('a repeated event after the verification ended: ExecutionAlreadyExists means it was started — no throw, no escalation, nothing new', async () => {
    const world = new World();
    releaseAndRollback(world);
    const handle = handlerOf(world);
    await handle(stateChange(ROLLBACK, 'SUCCESS'), world.context());
    world.executions.get(`verify-${ROLLBACK}`)!.status = 'SUCCEEDED';
    world.now += 3_600; // redriven from the dead-letter queue an hour later
    await expect(handle(stateChange(ROLLBACK, 'SUCCESS'), world.context())).resolves.toBeUndefined();
    expect(world.calls('StartExecution')).toBe(2);
    expect(world.executions.size).toBe(1);
    expect(world.executions.get(`verify-${ROLLBACK}`)!.status).toBe('SUCCEEDED');
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)).toEqual([]);
    // Only the first start is logged as started.
    expect(world.logLines('info').filter(([m]) => m === 'verification started')).toHaveLength(1);
  });

  it('a repeat whose input differs (the first bad signal is readable now) is ExecutionAlreadyExists too, and succeeds', async () => {
    const world = new World();
    releaseAndRollback(world);
    const handle = handlerOf(world);
    await handle(stateChange(ROLLBACK, 'SUCCESS'), world.context());
    await store.recordFirstBadSignal(RELEASE, T0 - 120);
    world.now += 60;
    await expect(handle(stateChange(ROLLBACK, 'SUCCESS'), world.context())).resolves.toBeUndefined();
    const [first, second] = started(world);
    expect(first.input.verify?.timeToRecoverySeconds).not.toBe(second.input.verify?.timeToRecoverySeconds);
    expect(world.executions.size).toBe(1);
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)).toEqual([]);
  });
});

describe('a start that fails', () => {
  it('a short burst of throttling is ridden out inside the invocation: one execution', async () => {
    const world = new World();
    releaseAndRollback(world);
    world.failNext('StartExecution', throttling(), throttling());
    await handlerOf(world)(stateChange(ROLLBACK, 'SUCCESS'), world.context());
    expect(world.calls('StartExecution')).toBe(3);
    expect(world.executions.size).toBe(1);
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)).toEqual([]);
  });

  it('throttled for the whole budget: retried, then THROWN (Lambda retries the event) before anything is written; the retry starts it and audits once', async () => {
    const world = new World();
    releaseAndRollback(world);
    world.failAlways('StartExecution', throttling);
    const handle = handlerOf(world);

    await expect(handle(stateChange(ROLLBACK, 'SUCCESS'), world.context(30_000))).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(world.calls('StartExecution')).toBeGreaterThan(3);
    // Within the invocation's time (30 s, 5 s kept back).
    expect(world.now - T0).toBeLessThan(30);
    expect(world.executions.size).toBe(0);
    // The start comes first: neither Rollback Completed nor the time-to-recovery metric is written
    // by the attempt that throws, and the failure is not escalated (the event is kept).
    expect(world.audited).toEqual([]);
    expect(world.metrics.addMetric).not.toHaveBeenCalled();
    expect(world.logLines('error').some(([m]) => m === 'transient failure; the event will be retried')).toBe(true);

    world.heal('StartExecution'); // Lambda's async retry
    await handle(stateChange(ROLLBACK, 'SUCCESS'), world.context(30_000));
    expect(world.executions.size).toBe(1);
    expect(started(world).at(-1)!.name).toBe(`verify-${ROLLBACK}`);
    expect(world.audits(AuditDetailType.ROLLBACK_COMPLETED)).toHaveLength(1);
    expect(world.metrics.addMetric).toHaveBeenCalledTimes(1);
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)).toEqual([]);
  });

  it('AccessDenied (IAM still propagating after the deploy) is retried like throttling, then thrown', async () => {
    const world = new World();
    releaseAndRollback(world);
    world.failAlways('StartExecution', () => awsError('AccessDeniedException', 400, 'not authorized to perform states:StartExecution'));
    await expect(handlerOf(world)(stateChange(ROLLBACK, 'SUCCESS'), world.context(20_000))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(world.calls('StartExecution')).toBeGreaterThan(2);
  });

  it('a permanent failure to start (the machine does not exist): Rollback Completed is still audited, and the escalation says the verification did not start', async () => {
    const world = new World();
    releaseAndRollback(world);
    world.failAlways('StartExecution', () => awsError('StateMachineDoesNotExist', 400, `State Machine Does Not Exist: '${VERIFY_ARN}'`));
    await expect(handlerOf(world)(stateChange(ROLLBACK, 'SUCCESS'), world.context())).resolves.toBeUndefined();
    expect(world.audits(AuditDetailType.ROLLBACK_COMPLETED)).toHaveLength(1);
    expect(world.metrics.addMetric).toHaveBeenCalledWith('TimeToRecovery', 'Seconds', 180);
    const [escalation] = world.audits(AuditDetailType.ESCALATION_RAISED);
    // (The machine's ARN, in the error, says "rollback-verify": the reason itself must say it.)
    expect(escalation.reasons.join(' ')).toMatch(/verification|not verified/i);
    // Its own idempotency key: not the key of another escalation of the rollback.
    expect(escalation.rollbackDeploymentId).toBe(ROLLBACK);
    expect(escalation.reasons.join(' ')).not.toContain('no known-good version was recorded');
  });

  it('a permanent failure to start is not retried and not thrown: one escalation naming the error', async () => {
    const world = new World();
    releaseAndRollback(world);
    world.failAlways('StartExecution', () => awsError('StateMachineDoesNotExist', 400, `State Machine Does Not Exist: '${VERIFY_ARN}'`));
    await expect(handlerOf(world)(stateChange(ROLLBACK, 'SUCCESS'), world.context())).resolves.toBeUndefined();
    expect(world.calls('StartExecution')).toBe(1);
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)).toHaveLength(1);
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)[0].reasons[0]).toContain('StateMachineDoesNotExist');
  });
});

describe('nothing else starts a verification', () => {
  it('a release’s SUCCESS records its known-good version and starts nothing; the Step Functions client is never even created', async () => {
    const world = new World();
    world.addDeployment('d-GOODAAAA1', { status: 'Succeeded', completeTime: at(T0 + 900) });
    const sfn = vi.fn(ready(world.sfnClient));
    await handlerOf(world, { sfn })(stateChange('d-GOODAAAA1', 'SUCCESS'), world.context());
    expect(world.audits(AuditDetailType.KNOWN_GOOD_RECORDED)).toHaveLength(1);
    expect(world.calls('StartExecution')).toBe(0);
    expect(sfn).not.toHaveBeenCalled();
  });

  it.each(['FAILURE', 'STOP'])('a release’s %s is a rollback triggered, not completed: nothing is started', async (state) => {
    const world = new World();
    releaseAndRollback(world);
    world.deployments.set(RELEASE, { ...world.deployments.get(RELEASE)!, status: state === 'STOP' ? 'Stopped' : 'Failed' });
    await handlerOf(world)(stateChange(RELEASE, state), world.context());
    expect(world.audits(AuditDetailType.ROLLBACK_TRIGGERED)).toHaveLength(1);
    expect(world.calls('StartExecution')).toBe(0);
  });

  it.each(['FAILURE', 'STOP'])('a rollback deployment that ends in %s is escalated, not verified', async (state) => {
    const world = new World();
    world.addDeployment(ROLLBACK, { creator: 'codeDeployRollback', status: state === 'STOP' ? 'Stopped' : 'Failed', completeTime: at(T0 + 100) });
    await handlerOf(world)(stateChange(ROLLBACK, state), world.context());
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)).toHaveLength(1);
    expect(world.calls('StartExecution')).toBe(0);
  });

  it('a rollback of another deployment group is ignored: nothing is started', async () => {
    const world = new World();
    world.addDeployment(ROLLBACK, { creator: 'codeDeployRollback', deploymentGroupName: 'payments-dg', status: 'Succeeded', completeTime: at(T0 + 200) });
    await handlerOf(world)({ ...stateChange(ROLLBACK, 'SUCCESS'), detail: { ...stateChange(ROLLBACK, 'SUCCESS').detail, deploymentGroup: undefined } }, world.context());
    expect(world.audited).toEqual([]);
    expect(world.calls('StartExecution')).toBe(0);
  });

  it('without `verify` (no verifyRollback) a successful rollback is audited and nothing is started', async () => {
    const world = new World();
    releaseAndRollback(world);
    const sfn = vi.fn(ready(world.sfnClient));
    await handlerOf(world, { verify: undefined, sfn })(stateChange(ROLLBACK, 'SUCCESS'), world.context());
    expect(world.audits(AuditDetailType.ROLLBACK_COMPLETED)).toHaveLength(1);
    expect(world.calls('StartExecution')).toBe(0);
    expect(sfn).not.toHaveBeenCalled();
  });
});
