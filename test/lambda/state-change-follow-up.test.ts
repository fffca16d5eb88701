/**
 * The state-change handler's starts on the follow-up machine besides the verification
 * (state-change-verify.test.ts): the guard window after a release's SUCCESS, the secondary action
 * after a rollback's FAILURE or STOP, and what a rollback deployment the library created itself
 * (known by its description) does when it ends. Step Functions, CodeDeploy and Lambda are the
 * World of starter-fixtures.ts; the state table is in dynalite.
 */
import { describe, expect, it, vi } from 'vitest';
import { AuditDetailType } from '../../lib/core/audit-events';
import type { BakeState } from '../../lib/core/bake';
import { type BreakerSettings, EMPTY_BREAKER } from '../../lib/core/breaker';
import {
  GUARD_ROLLBACK_DESCRIPTION,
  type GuardSettings,
  SECONDARY_DEPLOYMENT_DESCRIPTION,
  type SecondarySettings,
  guardExecutionName,
  guardInput,
  secondaryExecutionName,
  secondaryInput,
} from '../../lib/core/follow-up';
import { type VerifySettings, verifyExecutionName, verifyInput } from '../../lib/core/verify';
import { KnownGoodStore } from '../../lambda/shared/state';
import { type StateChangeDeps, createStateChangeHandler } from '../../lambda/state-change/index';
import { withStateTable } from './dynalite';
import { APPLICATION, DEPLOYMENT_GROUP, SHA_V1, SHA_V2, T0, World, awsError, ready, stateChange, stateChangeDeps, throttling } from './starter-fixtures';

const FOLLOW_UP_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:rollback-follow-up';
const GUARD: GuardSettings = { stateMachineArn: FOLLOW_UP_ARN, durationSeconds: 3_600, metricDelaySeconds: 180 };
const SECONDARY: SecondarySettings = { stateMachineArn: FOLLOW_UP_ARN, approvalTimeoutSeconds: 1_800 };
const VERIFY: VerifySettings = { stateMachineArn: FOLLOW_UP_ARN, durationSeconds: 600, metricDelaySeconds: 180 };
const BREAKER: BreakerSettings = { maxRollbacks: 3, windowSeconds: 3_600, cooldownSeconds: 3_600 };
/** The release before: version 1, known-good since yesterday. */
const PREVIOUS = 'd-PREVIOUS1';
const RELEASE = 'd-RELEASE02';
const ROLLBACK = 'd-ROLLBACK1';
/** A rollback deployment the guard window (or the secondary action) created. */
const LIBRARY_ROLLBACK = 'd-LIBROLLB1';

let store: KnownGoodStore;

withStateTable((db, table) => {
  store = new KnownGoodStore(db.client, table);
});

function handlerOf(world: World, overrides: Partial<StateChangeDeps> = {}) {
  return createStateChangeHandler({
    ...stateChangeDeps(world, store),
    guard: GUARD,
    secondary: SECONDARY,
    sfn: ready(world.sfnClient),
    ...overrides,
  });
}

const at = (seconds: number) => new Date(seconds * 1000);

/** Version 1 (with its CodeSha256) recorded as known-good by the release before. */
async function previousRecord() {
  await store.put(APPLICATION, DEPLOYMENT_GROUP, { version: '1', integrity: SHA_V1 }, { deploymentId: PREVIOUS, completedAt: T0 - 86_400 }, T0 - 86_400);
}

/** The release 1 → 2, succeeded 15 min 30 s after T0 (not on a minute). */
function release(world: World, completeTime = T0 + 930) {
  world.addDeployment(RELEASE, { status: 'Succeeded', completeTime: at(completeTime) });
}

/** The executions started, with their input parsed. */
function started(world: World): Array<{ stateMachineArn?: string; name?: string; input: BakeState }> {
  return world.startCalls().map((c) => ({ stateMachineArn: c.stateMachineArn, name: c.name, input: JSON.parse(c.input!) as BakeState }));
}

describe('a release’s SUCCESS starts its guard window', () => {
  it('named after the release, with guardInput: rollbackTo is the known-good record before the release, with its integrity', async () => {
    const world = new World();
    await previousRecord();
    release(world);
    await handlerOf(world)(stateChange(RELEASE, 'SUCCESS'), world.context());

    const runs = started(world);
    expect(runs).toHaveLength(1);
    const [run] = runs;
    expect(run.stateMachineArn).toBe(FOLLOW_UP_ARN);
    expect(run.name).toBe(`guard-${RELEASE}`);
    expect(run.name).toBe(guardExecutionName(RELEASE));
    expect(run.input).toMatchObject({ deploymentId: RELEASE, phase: 'guard', hookStartedAt: T0 + 900 });
    expect(run.input.guard).toEqual({ durationSeconds: 3_600, rollbackTo: { version: '1', integrity: SHA_V1 } });
    expect(run.input).toEqual(guardInput(RELEASE, T0 + 930, GUARD, { version: '1', integrity: SHA_V1 }));
    // The release's own version is then the known-good one, as without a guard window.
    await expect(store.get(APPLICATION, DEPLOYMENT_GROUP)).resolves.toMatchObject({ version: '2', integrity: SHA_V2, deploymentId: RELEASE });
    expect(world.audits(AuditDetailType.KNOWN_GOOD_RECORDED)).toHaveLength(1);
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)).toEqual([]);
  });

  it('the first release of the group: a guard window without a version to roll back to', async () => {
    const world = new World();
    release(world);
    await handlerOf(world)(stateChange(RELEASE, 'SUCCESS'), world.context());
    const [run] = started(world);
    expect(run.name).toBe(guardExecutionName(RELEASE));
    expect(run.input.guard).toEqual({ durationSeconds: 3_600 });
  });

  it('a release the evaluator judged bad (shadow mode) starts no guard window', async () => {
    const world = new World();
    await previousRecord();
    release(world);
    await store.recordFirstBadSignal(RELEASE, T0 + 60);
    await handlerOf(world)(stateChange(RELEASE, 'SUCCESS'), world.context());
    expect(world.calls('StartExecution')).toBe(0);
    await expect(store.get(APPLICATION, DEPLOYMENT_GROUP)).resolves.toMatchObject({ deploymentId: PREVIOUS });
  });

  it('a late SUCCESS of a release a later one replaced starts no guard window (it would judge the later release’s traffic)', async () => {
    const world = new World();
    await store.put(APPLICATION, DEPLOYMENT_GROUP, { version: '3' }, { deploymentId: 'd-LATERAAA3', completedAt: T0 + 2_000 }, T0 + 2_000);
    release(world, T0 + 930);
    world.now = T0 + 3_600; // redriven from the dead-letter queue
    await handlerOf(world)(stateChange(RELEASE, 'SUCCESS'), world.context());
    expect(world.calls('StartExecution')).toBe(0);
    await expect(store.get(APPLICATION, DEPLOYMENT_GROUP)).resolves.toMatchObject({ version: '3', deploymentId: 'd-LATERAAA3' });
  });

  it('started before the record is replaced: throttled throughout, the event is thrown with the record unchanged; the retry starts it with the same rollbackTo', async () => {
    const world = new World();
    await previousRecord();
    release(world);
    world.failAlways('StartExecution', throttling);
    const handle = handlerOf(world);

    await expect(handle(stateChange(RELEASE, 'SUCCESS'), world.context(30_000))).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(world.executions.size).toBe(0);
    await expect(store.get(APPLICATION, DEPLOYMENT_GROUP)).resolves.toMatchObject({ version: '1', deploymentId: PREVIOUS });
    expect(world.audited).toEqual([]);

    world.heal('StartExecution'); // Lambda's async retry
    await handle(stateChange(RELEASE, 'SUCCESS'), world.context(30_000));
    expect(world.executions.size).toBe(1);
    const last = started(world).at(-1)!;
    expect(last.name).toBe(guardExecutionName(RELEASE));
    expect(last.input.guard?.rollbackTo).toEqual({ version: '1', integrity: SHA_V1 });
    await expect(store.get(APPLICATION, DEPLOYMENT_GROUP)).resolves.toMatchObject({ version: '2', deploymentId: RELEASE });
    expect(world.audits(AuditDetailType.KNOWN_GOOD_RECORDED)).toHaveLength(1);
  });

  it('a repeated SUCCESS after the record was written starts nothing more', async () => {
    const world = new World();
    await previousRecord();
    release(world);
    const handle = handlerOf(world);
    await handle(stateChange(RELEASE, 'SUCCESS'), world.context());
    world.now += 600;
    await handle(stateChange(RELEASE, 'SUCCESS'), world.context());
    expect(world.executions.size).toBe(1);
    // The one execution keeps the rollback target read before the record changed.
    expect(started(world).every((r) => r.input.guard?.rollbackTo?.version === '1')).toBe(true);
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)).toEqual([]);
  });

  it('ExecutionAlreadyExists (the guard window already ran) is no failure: no throw, no escalation, the record is written', async () => {
    const world = new World();
    await previousRecord();
    release(world);
    world.executions.set(guardExecutionName(RELEASE), { arn: `${FOLLOW_UP_ARN}:${guardExecutionName(RELEASE)}`, input: '{}', status: 'SUCCEEDED' });
    await expect(handlerOf(world)(stateChange(RELEASE, 'SUCCESS'), world.context())).resolves.toBeUndefined();
    expect(world.calls('StartExecution')).toBe(1);
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)).toEqual([]);
    await expect(store.get(APPLICATION, DEPLOYMENT_GROUP)).resolves.toMatchObject({ version: '2', deploymentId: RELEASE });
  });

  it('a permanent failure to start is escalated once, not retried, and the known-good record is still written', async () => {
    const world = new World();
    await previousRecord();
    release(world);
    world.failAlways('StartExecution', () => awsError('StateMachineDoesNotExist', 400, `State Machine Does Not Exist: '${FOLLOW_UP_ARN}'`));
    await expect(handlerOf(world)(stateChange(RELEASE, 'SUCCESS'), world.context())).resolves.toBeUndefined();
    expect(world.calls('StartExecution')).toBe(1);
    const escalations = world.audits(AuditDetailType.ESCALATION_RAISED);
    expect(escalations).toHaveLength(1);
    expect(escalations[0].reasons[0]).toContain('guard window');
    expect(escalations[0].reasons[0]).toContain('StateMachineDoesNotExist');
    await expect(store.get(APPLICATION, DEPLOYMENT_GROUP)).resolves.toMatchObject({ version: '2', integrity: SHA_V2, deploymentId: RELEASE });
    expect(world.audits(AuditDetailType.KNOWN_GOOD_RECORDED)).toHaveLength(1);
  });

  it('without `guard` a release’s SUCCESS starts nothing; the Step Functions client is never created', async () => {
    const world = new World();
    await previousRecord();
    release(world);
    const sfn = vi.fn(ready(world.sfnClient));
    await handlerOf(world, { guard: undefined, sfn })(stateChange(RELEASE, 'SUCCESS'), world.context());
    expect(sfn).not.toHaveBeenCalled();
    expect(world.audits(AuditDetailType.KNOWN_GOOD_RECORDED)).toHaveLength(1);
  });
});

describe('a rollback deployment that fails or stops starts the secondary action', () => {
  /** The release stopped by an alarm, and its rollback deployment, which ended in `state`. */
  function failedRollback(world: World, state: 'FAILURE' | 'STOP') {
    world.addDeployment(RELEASE, { status: 'Stopped', completeTime: at(T0 + 20), rollbackInfo: { rollbackDeploymentId: ROLLBACK } });
    world.addDeployment(ROLLBACK, {
      creator: 'codeDeployRollback',
      status: state === 'STOP' ? 'Stopped' : 'Failed',
      completeTime: at(T0 + 140),
      errorInformation: { code: 'HEALTH_CONSTRAINTS', message: 'The deployment failed because too many targets failed' },
      rollbackInfo: { rollbackTriggeringDeploymentId: RELEASE },
    });
  }

  it.each(['FAILURE', 'STOP'] as const)('%s: secondaryInput, named after the rollback, and the escalation says a secondary action is proposed', async (state) => {
    const world = new World();
    failedRollback(world, state);
    await handlerOf(world)(stateChange(ROLLBACK, state), world.context());

    const [run] = started(world);
    expect(started(world)).toHaveLength(1);
    expect(run.stateMachineArn).toBe(FOLLOW_UP_ARN);
    expect(run.name).toBe(`secondary-${ROLLBACK}`);
    expect(run.name).toBe(secondaryExecutionName(ROLLBACK));
    expect(run.input).toMatchObject({ deploymentId: ROLLBACK, phase: 'secondary', hookStartedAt: T0 + 140 });
    expect(run.input.secondary).toEqual({ approvalTimeoutSeconds: 1_800, rolledBack: RELEASE });
    expect(run.input).toEqual(secondaryInput(ROLLBACK, T0 + 140, SECONDARY, RELEASE));

    const escalations = world.audits(AuditDetailType.ESCALATION_RAISED);
    expect(escalations).toHaveLength(1);
    expect(escalations[0]).toMatchObject({ deploymentId: ROLLBACK, errorCode: 'HEALTH_CONSTRAINTS' });
    expect(escalations[0].reasons.join(' ')).toMatch(/traffic may still be on the bad version/);
    expect(escalations[0].reasons.join(' ')).toMatch(/a secondary action was started: if the known-good version is intact, it is proposed for approval/);
    expect(world.audits(AuditDetailType.ROLLBACK_TRIGGERED)).toEqual([]);
  });

  it('the start comes before the escalation: throttled throughout, nothing is audited and the event is thrown; the retry escalates once', async () => {
    const world = new World();
    failedRollback(world, 'FAILURE');
    world.failAlways('StartExecution', throttling);
    const handle = handlerOf(world);
    await expect(handle(stateChange(ROLLBACK, 'FAILURE'), world.context(30_000))).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(world.audited).toEqual([]);

    world.heal('StartExecution');
    await handle(stateChange(ROLLBACK, 'FAILURE'), world.context(30_000));
    expect(world.executions.size).toBe(1);
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)).toHaveLength(1);
  });

  it('a permanent failure to start: two escalations with their own idempotency keys, and none claims a proposal', async () => {
    const world = new World();
    failedRollback(world, 'STOP');
    // A rollback a human stopped carries no error code: the keys must differ all the same.
    world.deployments.set(ROLLBACK, { ...world.deployments.get(ROLLBACK)!, errorInformation: undefined });
    world.failAlways('StartExecution', () => awsError('StateMachineDoesNotExist', 400));
    await expect(handlerOf(world)(stateChange(ROLLBACK, 'STOP'), world.context())).resolves.toBeUndefined();

    const escalations = world.audits(AuditDetailType.ESCALATION_RAISED);
    expect(escalations).toHaveLength(2);
    const [notStarted, rollbackFailed] = escalations;
    expect(notStarted.reasons[0]).toMatch(/secondary action .*could not be started \(StateMachineDoesNotExist/);
    expect(rollbackFailed.reasons[0]).toMatch(/traffic may still be on the bad version/);
    expect(escalations.flatMap((e) => e.reasons).join(' ')).not.toMatch(/secondary action was started/);
    expect(notStarted.idempotencyKey).not.toBe(rollbackFailed.idempotencyKey);
  });

  it('without `secondary` the rollback’s failure is escalated, proposes nothing and starts nothing', async () => {
    const world = new World();
    failedRollback(world, 'FAILURE');
    await handlerOf(world, { secondary: undefined })(stateChange(ROLLBACK, 'FAILURE'), world.context());
    expect(world.calls('StartExecution')).toBe(0);
    const [escalation] = world.audits(AuditDetailType.ESCALATION_RAISED);
    expect(escalation.reasons.join(' ')).not.toMatch(/secondary/);
  });

  it('a release’s own STOP starts no secondary action (CodeDeploy rolls it back)', async () => {
    const world = new World();
    failedRollback(world, 'FAILURE');
    await handlerOf(world)(stateChange(RELEASE, 'STOP'), world.context());
    expect(world.calls('StartExecution')).toBe(0);
    expect(world.audits(AuditDetailType.ROLLBACK_TRIGGERED)).toHaveLength(1);
  });
});

describe('a rollback deployment the library created (known by its description)', () => {
  const LIBRARY_DESCRIPTIONS = [
    ['guard window', GUARD_ROLLBACK_DESCRIPTION],
    ['secondary action', SECONDARY_DEPLOYMENT_DESCRIPTION],
  ] as const;

  /** The release recorded as known-good (it had succeeded), then the library's deployment back to version 1. */
  async function libraryRollback(world: World, description: string, status: 'Succeeded' | 'Failed' | 'Stopped', completeTime = T0 + 1_500) {
    world.addDeployment(RELEASE, { status: 'Succeeded', completeTime: at(T0) });
    await store.put(APPLICATION, DEPLOYMENT_GROUP, { version: '2', integrity: SHA_V2 }, { deploymentId: RELEASE, completedAt: T0 }, T0);
    // Its creator is the evaluator's role, like any user's: only the description says what it is.
    world.addDeployment(LIBRARY_ROLLBACK, { creator: 'user', description: `${description}${RELEASE}`, status, completeTime: at(completeTime), currentVersion: '2', targetVersion: '1' });
  }

  it.each(LIBRARY_DESCRIPTIONS)('%s, SUCCESS: the restored version is known-good again, Rollback Completed with the time to recovery from the release’s first bad signal, and no guard window', async (_, description) => {
    const world = new World();
    await libraryRollback(world, description, 'Succeeded');
    await store.recordFirstBadSignal(RELEASE, T0 + 1_200); // the guard window's breach
    await handlerOf(world)(stateChange(LIBRARY_ROLLBACK, 'SUCCESS'), world.context());

    await expect(store.get(APPLICATION, DEPLOYMENT_GROUP)).resolves.toMatchObject({ version: '1', integrity: SHA_V1, deploymentId: LIBRARY_ROLLBACK, deployedAt: T0 + 1_500 });
    expect(world.audits(AuditDetailType.KNOWN_GOOD_RECORDED)).toHaveLength(1);
    const [completed] = world.audits(AuditDetailType.ROLLBACK_COMPLETED);
    expect(completed).toMatchObject({ deploymentId: LIBRARY_ROLLBACK, rollbackDeploymentId: LIBRARY_ROLLBACK, timeToRecoverySeconds: 300 });
    expect(completed.reasons[0]).toContain(`rolled back ${RELEASE}`);
    expect(world.metrics.addMetric).toHaveBeenCalledWith('TimeToRecovery', 'Seconds', 300);
    // Its known-good predecessor is the bad release: nothing is guarded.
    expect(world.calls('StartExecution')).toBe(0);
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)).toEqual([]);
  });

  it('SUCCESS with `verify`: the verification of the restored version starts, and still no guard window', async () => {
    const world = new World();
    await libraryRollback(world, GUARD_ROLLBACK_DESCRIPTION, 'Succeeded');
    await store.recordFirstBadSignal(RELEASE, T0 + 1_200);
    await handlerOf(world, { verify: VERIFY })(stateChange(LIBRARY_ROLLBACK, 'SUCCESS'), world.context());
    const runs = started(world);
    expect(runs.map((r) => r.name)).toEqual([verifyExecutionName(LIBRARY_ROLLBACK)]);
    expect(runs[0].input).toEqual(verifyInput(LIBRARY_ROLLBACK, T0 + 1_500, VERIFY, RELEASE, 300));
  });

  it('SUCCESS is not a release’s success for the circuit breaker', async () => {
    const world = new World();
    await libraryRollback(world, GUARD_ROLLBACK_DESCRIPTION, 'Succeeded');
    await handlerOf(world, { breaker: BREAKER })(stateChange(LIBRARY_ROLLBACK, 'SUCCESS'), world.context());
    await expect(store.getBreaker(APPLICATION, DEPLOYMENT_GROUP)).resolves.toEqual(EMPTY_BREAKER);
  });

  it.each(LIBRARY_DESCRIPTIONS.flatMap(([flow, description]) => (['FAILURE', 'STOP'] as const).map((state) => [flow, description, state] as const)))(
    '%s, %s: escalated, a secondary action of the undone release is started, nothing is recorded and the breaker counts nothing',
    async (_, description, state) => {
      const world = new World();
      await libraryRollback(world, description, state === 'STOP' ? 'Stopped' : 'Failed');
      await handlerOf(world, { breaker: BREAKER })(stateChange(LIBRARY_ROLLBACK, state), world.context());

      const [run] = started(world);
      expect(started(world)).toHaveLength(1);
      expect(run.name).toBe(secondaryExecutionName(LIBRARY_ROLLBACK));
      expect(run.input).toEqual(secondaryInput(LIBRARY_ROLLBACK, T0 + 1_500, SECONDARY, RELEASE));
      expect(world.audits(AuditDetailType.ESCALATION_RAISED)).toHaveLength(1);
      expect(world.audits(AuditDetailType.ROLLBACK_TRIGGERED)).toEqual([]);
      await expect(store.get(APPLICATION, DEPLOYMENT_GROUP)).resolves.toMatchObject({ version: '2', deploymentId: RELEASE });
      await expect(store.getBreaker(APPLICATION, DEPLOYMENT_GROUP)).resolves.toEqual(EMPTY_BREAKER);
    },
  );

  it('a user’s deployment whose description merely mentions the library is a release (guarded, recorded)', async () => {
    const world = new World();
    world.addDeployment(RELEASE, { status: 'Succeeded', completeTime: at(T0 + 930), description: `deploy after the ${GUARD_ROLLBACK_DESCRIPTION}d-OTHERAAA1` });
    await handlerOf(world)(stateChange(RELEASE, 'SUCCESS'), world.context());
    expect(started(world).map((r) => r.name)).toEqual([guardExecutionName(RELEASE)]);
    expect(world.audits(AuditDetailType.ROLLBACK_COMPLETED)).toEqual([]);
  });
});
