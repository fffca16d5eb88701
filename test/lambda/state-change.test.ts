/**
 * The deployment state-change handler, with CodeDeploy, Lambda and ECS mocked and the state table
 * in dynalite (the known-good store's condition expressions run for real).
 */
import { describe, expect, it, vi } from 'vitest';
import { AuditDetailType, knownGoodKey } from '../../lib/core';
import { type StateChangeDeps, createStateChangeHandler } from '../../lambda/state-change/index';
import { KnownGoodStore } from '../../lambda/shared/state';
import { type Dynalite, withStateTable, closedEndpoint, dynamoClient } from './dynalite';
import { APPLICATION, DEPLOYMENT_GROUP, SHA_V2, T0, World, awsError, ready, stateChange, stateChangeDeps, throttling } from './starter-fixtures';

let db: Dynalite;
let store: KnownGoodStore;

withStateTable((server, table) => {
  db = server;
  store = new KnownGoodStore(db.client, table);
});

function handlerOf(world: World, overrides: Partial<StateChangeDeps> = {}) {
  return createStateChangeHandler({
    ...stateChangeDeps(world, store),
    ...overrides,
  });
}


const at = (seconds: number) => new Date(seconds * 1000);
const ALARM_MESSAGE =
  'One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. ' +
  'Activated alarms: <orders-availability-canary-page-1h> <orders availability canary page 5m>';

describe('SUCCESS of a release records the known-good version', () => {
  it('Lambda: the target version and its CodeSha256, in the real store (dynalite)', async () => {
    const world = new World();
    world.addDeployment('d-GOODAAAA1', { status: 'Succeeded', completeTime: at(T0 + 900) });
    await handlerOf(world)(stateChange('d-GOODAAAA1', 'SUCCESS'), world.context());

    await expect(store.get(APPLICATION, DEPLOYMENT_GROUP)).resolves.toEqual({ version: '2', integrity: SHA_V2, deploymentId: 'd-GOODAAAA1', deployedAt: T0 + 900, recordedAt: T0 });
    const [recorded] = world.audits(AuditDetailType.KNOWN_GOOD_RECORDED);
    expect(recorded).toMatchObject({ deploymentId: 'd-GOODAAAA1', fromVersion: '1', toVersion: '2', applicationName: APPLICATION, deploymentGroupName: DEPLOYMENT_GROUP });
    expect(recorded.reasons[0]).toContain(SHA_V2);
    expect(world.reportCalls()).toEqual([]);
  });

  it('a release the evaluator judged bad that still succeeded (shadow mode) is not recorded as known-good', async () => {
    const world = new World();
    world.addDeployment('d-SHADOWAA1', { status: 'Succeeded', completeTime: at(T0 + 900) });
    await store.recordFirstBadSignal('d-SHADOWAA1', T0 + 60); // the shadow evaluator's would-rollback verdict
    await handlerOf(world)(stateChange('d-SHADOWAA1', 'SUCCESS'), world.context());
    await expect(store.get(APPLICATION, DEPLOYMENT_GROUP)).resolves.toBeUndefined();
    expect(world.audits(AuditDetailType.KNOWN_GOOD_RECORDED)).toEqual([]);
  });

  it('ECS: the green task set’s task definition and its images', async () => {
    const world = new World();
    world.addDeployment('d-ECSAAAAA1', { status: 'Succeeded', completeTime: at(T0 + 900), platform: 'ecs', currentVersion: '5', targetVersion: '6' });
    await handlerOf(world)(stateChange('d-ECSAAAAA1', 'SUCCESS'), world.context());

    const known = await store.get(APPLICATION, DEPLOYMENT_GROUP);
    expect(known).toMatchObject({ version: 'arn:aws:ecs:us-east-1:123456789012:task-definition/orders:6', deploymentId: 'd-ECSAAAAA1' });
    expect(known?.integrity).toBe('app=123456789012.dkr.ecr.us-east-1.amazonaws.com/orders@sha256:6');
  });

  it('an older deployment’s SUCCESS delivered late never replaces the newer known-good version', async () => {
    const world = new World();
    world.addDeployment('d-OLDAAAAA1', { status: 'Succeeded', completeTime: at(T0), targetVersion: '1' });
    world.addDeployment('d-NEWAAAAA2', { status: 'Succeeded', completeTime: at(T0 + 900), targetVersion: '2' });
    const handle = handlerOf(world);
    await handle(stateChange('d-NEWAAAAA2', 'SUCCESS'), world.context());
    world.now += 3_600; // the old event, redriven an hour later
    await handle(stateChange('d-OLDAAAAA1', 'SUCCESS'), world.context());

    await expect(store.get(APPLICATION, DEPLOYMENT_GROUP)).resolves.toMatchObject({ version: '2', deploymentId: 'd-NEWAAAAA2' });
    expect(world.audits(AuditDetailType.KNOWN_GOOD_RECORDED).map((d) => d.deploymentId)).toEqual(['d-NEWAAAAA2']);
    expect(world.logLines('warn').some(([message]) => message.startsWith('known-good not recorded'))).toBe(true);
  });

  it('the deployed version no longer exists → escalation, nothing recorded, no throw (retrying cannot help)', async () => {
    const world = new World();
    world.addDeployment('d-GOODAAAA1', { status: 'Succeeded', completeTime: at(T0), targetVersion: '9' });
    await expect(handlerOf(world)(stateChange('d-GOODAAAA1', 'SUCCESS'), world.context())).resolves.toBeUndefined();

    await expect(store.get(APPLICATION, DEPLOYMENT_GROUP)).resolves.toBeUndefined();
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)[0].reasons[0]).toMatch(/^deployment succeeded but could not be processed \(the deployed version 9 no longer exists\)/);
  });
});

describe('FAILURE / STOP of a release, and its rollback', () => {
  it('ALARM_ACTIVE → Rollback Triggered with the alarm names; the rollback’s SUCCESS → Rollback Completed with time to recovery and the metric', async () => {
    const world = new World();
    world.addDeployment('d-BADAAAAA1', {
      status: 'Stopped',
      completeTime: at(T0 + 20),
      errorInformation: { code: 'ALARM_ACTIVE', message: ALARM_MESSAGE },
      rollbackInfo: { rollbackDeploymentId: 'd-ROLLBACK1' },
    });
    world.addDeployment('d-ROLLBACK1', { creator: 'codeDeployRollback', status: 'Succeeded', completeTime: at(T0 + 200), rollbackInfo: { rollbackTriggeringDeploymentId: 'd-BADAAAAA1' } });
    const handle = handlerOf(world);

    await handle(stateChange('d-BADAAAAA1', 'STOP'), world.context());
    const [triggered] = world.audits(AuditDetailType.ROLLBACK_TRIGGERED);
    expect(triggered).toMatchObject({
      deploymentId: 'd-BADAAAAA1',
      verdict: 'fail',
      errorCode: 'ALARM_ACTIVE',
      rollbackDeploymentId: 'd-ROLLBACK1',
      alarmNames: ['orders-availability-canary-page-1h', 'orders availability canary page 5m'], // names may hold spaces
    });
    expect(triggered.reasons[0]).toBe('stopped by alarm orders-availability-canary-page-1h, orders availability canary page 5m');
    await expect(store.firstBadSignal('d-BADAAAAA1')).resolves.toBe(T0 + 20);

    await handle(stateChange('d-ROLLBACK1', 'SUCCESS'), world.context());
    const [completed] = world.audits(AuditDetailType.ROLLBACK_COMPLETED);
    expect(completed).toMatchObject({ deploymentId: 'd-ROLLBACK1', rollbackDeploymentId: 'd-ROLLBACK1', timeToRecoverySeconds: 180 });
    expect(completed.reasons[0]).toBe('rollback deployment d-ROLLBACK1 succeeded (rolled back d-BADAAAAA1)');
    expect(world.metrics.addDimension).toHaveBeenCalledWith('DeploymentGroup', DEPLOYMENT_GROUP);
    expect(world.metrics.addMetric).toHaveBeenCalledWith('TimeToRecovery', 'Seconds', 180);
    expect(world.metrics.publishStoredMetrics).toHaveBeenCalledTimes(1);
    // A rollback's success is not a new known-good version.
    await expect(store.get(APPLICATION, DEPLOYMENT_GROUP)).resolves.toBeUndefined();
    expect(world.reportCalls()).toEqual([]);
  });

  it('time to recovery runs from the evaluator’s earlier bad signal, which the FAILURE event does not overwrite', async () => {
    const world = new World();
    world.addDeployment('d-BADAAAAA1', {
      status: 'Failed',
      completeTime: at(T0 + 25),
      errorInformation: { code: 'HOOK_EXECUTION_FAILURE', message: 'lifecycle event AfterAllowTraffic failed' },
      rollbackInfo: { rollbackDeploymentId: 'd-ROLLBACK1' },
    });
    world.addDeployment('d-ROLLBACK1', { creator: 'codeDeployRollback', status: 'Succeeded', completeTime: at(T0 + 140), rollbackInfo: { rollbackTriggeringDeploymentId: 'd-BADAAAAA1' } });
    await store.recordFirstBadSignal('d-BADAAAAA1', T0); // the evaluator's Failed verdict
    const handle = handlerOf(world);

    await handle(stateChange('d-BADAAAAA1', 'FAILURE'), world.context());
    await handle(stateChange('d-ROLLBACK1', 'SUCCESS'), world.context());

    expect(world.audits(AuditDetailType.ROLLBACK_TRIGGERED)[0]).toMatchObject({ errorCode: 'HOOK_EXECUTION_FAILURE', alarmNames: [] });
    expect(world.audits(AuditDetailType.ROLLBACK_COMPLETED)[0]).toMatchObject({ timeToRecoverySeconds: 140 });
    expect(world.metrics.addMetric).toHaveBeenCalledWith('TimeToRecovery', 'Seconds', 140);
  });

  it('no recorded bad signal → time to recovery from the rolled-back deployment’s end', async () => {
    const world = new World();
    world.addDeployment('d-BADAAAAA1', { status: 'Stopped', completeTime: at(T0 + 30) });
    world.addDeployment('d-ROLLBACK1', { creator: 'codeDeployRollback', status: 'Succeeded', completeTime: at(T0 + 130), rollbackInfo: { rollbackTriggeringDeploymentId: 'd-BADAAAAA1' } });
    await handlerOf(world)(stateChange('d-ROLLBACK1', 'SUCCESS'), world.context());
    expect(world.audits(AuditDetailType.ROLLBACK_COMPLETED)[0]).toMatchObject({ timeToRecoverySeconds: 100 });
  });

  it.each(['FAILURE', 'STOP'])('the rollback deployment itself ends in %s → Escalation Raised', async (state) => {
    const world = new World();
    world.addDeployment('d-ROLLBACK1', {
      creator: 'codeDeployRollback',
      status: state === 'STOP' ? 'Stopped' : 'Failed',
      completeTime: at(T0 + 100),
      errorInformation: { code: 'HEALTH_CONSTRAINTS', message: 'too many unhealthy tasks' },
    });
    await handlerOf(world)(stateChange('d-ROLLBACK1', state), world.context());

    const [escalation] = world.audits(AuditDetailType.ESCALATION_RAISED);
    expect(escalation).toMatchObject({ deploymentId: 'd-ROLLBACK1', errorCode: 'HEALTH_CONSTRAINTS' });
    expect(escalation.reasons[0]).toBe(`the rollback deployment itself ended in ${state}: traffic may still be on the bad version`);
    expect(world.audits(AuditDetailType.ROLLBACK_TRIGGERED)).toEqual([]);
  });
});

describe('only this trigger’s deployment group', () => {
  it('another group named in the event → ignored with a log line, without a single call', async () => {
    const world = new World();
    world.addDeployment('d-OTHERAAA1', { deploymentGroupName: 'payments-dg', status: 'Succeeded', completeTime: at(T0) });
    await handlerOf(world)(stateChange('d-OTHERAAA1', 'SUCCESS', { application: APPLICATION, deploymentGroup: 'payments-dg' }), world.context());

    expect(world.calls('GetDeployment')).toBe(0);
    expect(world.audited).toEqual([]);
    expect(world.logLines('info').some(([message]) => message === 'ignoring a deployment of another deployment group')).toBe(true);
  });

  it('an event without names → the deployment itself decides: another group’s is ignored, nothing recorded', async () => {
    const world = new World();
    world.addDeployment('d-OTHERAAA1', { applicationName: 'payments-app', deploymentGroupName: 'payments-dg', status: 'Succeeded', completeTime: at(T0) });
    await handlerOf(world)(stateChange('d-OTHERAAA1', 'SUCCESS', {}), world.context());

    expect(world.calls('GetDeployment')).toBe(1);
    expect(world.calls('ListDeploymentTargets')).toBe(0);
    expect(world.audited).toEqual([]);
    await expect(store.get('payments-app', 'payments-dg')).resolves.toBeUndefined();
  });
});

describe('garbage events are logged and ignored, never thrown', () => {
  const garbage: Array<[string, unknown]> = [
    ['null', null],
    ['a string', 'x'],
    ['an empty object', {}],
    ['another source', { ...stateChange('d-GOODAAAA1', 'SUCCESS'), source: 'aws.ec2' }],
    ['another detail-type', { ...stateChange('d-GOODAAAA1', 'SUCCESS'), 'detail-type': 'CodeDeploy Instance State-change Notification' }],
    ['no detail', { source: 'aws.codedeploy', 'detail-type': 'CodeDeploy Deployment State-change Notification' }],
    ['a numeric deployment id', { ...stateChange('d-GOODAAAA1', 'SUCCESS'), detail: { deploymentId: 5, state: 'SUCCESS' } }],
    ['a deployment id of the wrong shape', stateChange('deployment-1', 'SUCCESS')],
    ['no state', { ...stateChange('d-GOODAAAA1', 'SUCCESS'), detail: { deploymentId: 'd-GOODAAAA1' } }],
  ];

  it.each(garbage)('%s → error log, no call, no audit', async (_label, event) => {
    const world = new World();
    await expect(handlerOf(world)(event, world.context())).resolves.toBeUndefined();
    expect(world.calls('GetDeployment')).toBe(0);
    expect(world.audited).toEqual([]);
    expect(world.logLines('error')[0]?.[0]).toBe('ignoring an invalid deployment state-change event');
  });

  it.each(['START', 'READY'])('state %s is not acted on', async (state) => {
    const world = new World();
    await handlerOf(world)(stateChange('d-GOODAAAA1', state), world.context());
    expect(world.calls('GetDeployment')).toBe(0);
    expect(world.audited).toEqual([]);
  });
});

describe('faults: transient ones throw (async retry, then the DLQ keep the event), permanent ones are escalated', () => {
  it('GetDeployment throttled for the whole budget → retried within the invocation, then thrown; no audit; the retry succeeds', async () => {
    const world = new World();
    world.addDeployment('d-GOODAAAA1', { status: 'Succeeded', completeTime: at(T0 + 900) });
    world.failAlways('GetDeployment', throttling);
    const handle = handlerOf(world);

    await expect(handle(stateChange('d-GOODAAAA1', 'SUCCESS'), world.context(30_000))).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(world.calls('GetDeployment')).toBeGreaterThan(3);
    expect(world.now - T0).toBeLessThan(30);
    expect(world.audited).toEqual([]);

    world.heal('GetDeployment'); // Lambda's async retry
    await handle(stateChange('d-GOODAAAA1', 'SUCCESS'), world.context(30_000));
    await expect(store.get(APPLICATION, DEPLOYMENT_GROUP)).resolves.toMatchObject({ version: '2' });
  });

  it('a short burst of throttling is ridden out inside the invocation', async () => {
    const world = new World();
    world.addDeployment('d-GOODAAAA1', { status: 'Succeeded', completeTime: at(T0 + 900) });
    world.failNext('GetDeployment', throttling(), throttling());
    world.failNext('GetFunction', awsError('ServiceUnavailableException', 503));
    await handlerOf(world)(stateChange('d-GOODAAAA1', 'SUCCESS'), world.context());
    expect(world.audits(AuditDetailType.KNOWN_GOOD_RECORDED)).toHaveLength(1);
  });

  it('the state table unreachable → thrown (transient), nothing audited as recorded', async () => {
    const world = new World();
    world.addDeployment('d-GOODAAAA1', { status: 'Succeeded', completeTime: at(T0 + 900) });
    const unreachable = new KnownGoodStore(dynamoClient(await closedEndpoint()), 'rt-state');
    await expect(handlerOf(world, { store: ready(unreachable) })(stateChange('d-GOODAAAA1', 'SUCCESS'), world.context(20_000))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    // Ridden out first (network errors are retried like throttling), within the invocation's time.
    expect(world.sleeps.length).toBeGreaterThan(2);
    expect(world.now - T0).toBeLessThan(20);
    expect(world.audited).toEqual([]);
  });

  it('the table missing (a permanent error) → escalation, no throw', async () => {
    const world = new World();
    world.addDeployment('d-GOODAAAA1', { status: 'Succeeded', completeTime: at(T0 + 900) });
    const missing = new KnownGoodStore(db.client, 'no-such-table');
    await expect(handlerOf(world, { store: ready(missing) })(stateChange('d-GOODAAAA1', 'SUCCESS'), world.context())).resolves.toBeUndefined();
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)[0].reasons[0]).toContain('ResourceNotFoundException');
  });

  it('a deployment CodeDeploy does not know → escalation, no throw', async () => {
    const world = new World();
    await expect(handlerOf(world)(stateChange('d-UNKNOWN01', 'FAILURE'), world.context())).resolves.toBeUndefined();
    expect(world.calls('GetDeployment')).toBe(1);
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)[0].reasons[0]).toBe('deployment FAILURE could not be processed (deployment d-UNKNOWN01 does not exist): details unavailable');
  });

  it('the first bad signal cannot be written → the rollback is still audited (time to recovery degrades, nothing else)', async () => {
    const world = new World();
    world.addDeployment('d-BADAAAAA1', { status: 'Stopped', completeTime: at(T0 + 20), errorInformation: { code: 'ALARM_ACTIVE', message: ALARM_MESSAGE } });
    const failing = Object.assign(Object.create(store) as KnownGoodStore, { recordFirstBadSignal: vi.fn().mockRejectedValue(throttling()) });
    await handlerOf(world, { store: ready(failing) })(stateChange('d-BADAAAAA1', 'STOP'), world.context());
    expect(world.audits(AuditDetailType.ROLLBACK_TRIGGERED)).toHaveLength(1);
    expect(world.now - T0).toBeLessThanOrEqual(11);
  });

  it('an audit failure never throws: the record goes to the log', async () => {
    const world = new World();
    world.auditThrows = true;
    world.addDeployment('d-GOODAAAA1', { status: 'Succeeded', completeTime: at(T0 + 900) });
    await expect(handlerOf(world)(stateChange('d-GOODAAAA1', 'SUCCESS'), world.context())).resolves.toBeUndefined();
    await expect(store.get(APPLICATION, DEPLOYMENT_GROUP)).resolves.toMatchObject({ version: '2' });
    const fallback = world.logLines('error').find(([message]) => message === 'audit event not delivered');
    expect(fallback?.[1]).toMatchObject({ auditFallback: { detailType: AuditDetailType.KNOWN_GOOD_RECORDED } });
  });
});

it('the known-good key the handler writes is the one the construct’s schema names', async () => {
  const world = new World();
  world.addDeployment('d-GOODAAAA1', { status: 'Succeeded', completeTime: at(T0 + 900) });
  await handlerOf(world)(stateChange('d-GOODAAAA1', 'SUCCESS'), world.context());
  expect(knownGoodKey(APPLICATION, DEPLOYMENT_GROUP)).toBe('knowngood#orders-app#orders-dg');
});
