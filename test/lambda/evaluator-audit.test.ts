/**
 * The audit trail: PutEvents partial failures (retry only what is retryable, fall back to a
 * structured log line, never delay or flip the decision), and the `aws.codedeploy` state-change
 * events (known-good recorded, rollback triggered by an alarm, rollback completed with time to
 * recovery).
 */
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditDetailType } from '../../lib/core';
import { APPLICATION, DEPLOYMENT_GROUP, DEPLOYMENT_ID, HOOK_ID, SHA_V2, T0, World, expectAudit, expectReports, serverError, traffic } from './fixtures';

afterEach(() => {
  vi.restoreAllMocks();
});

/** The decision went out first, unchanged, without waiting for the audit trail. */
function expectReportedBeforeAuditing(world: World, status: 'Succeeded' | 'Failed'): void {
  expectReports(world, { accepted: [status] });
  expect(world.accepted[0].at).toBe(T0);
  const report = world.cd.commandCalls(PutLifecycleEventHookExecutionStatusCommand)[0];
  const firstPut = world.eb.commandCalls(PutEventsCommand)[0];
  expect(report.calledBefore(firstPut)).toBe(true);
}

describe('PutEvents partial failure (case 12)', () => {
  it('an entry rejected with ThrottlingException is retried and delivered', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.putEventsEntryError = (_entry, call) => (call === 0 ? 'ThrottlingException' : undefined);

    await world.run();

    expectReportedBeforeAuditing(world, 'Failed');
    const calls = world.putEventsCalls();
    expect(calls).toHaveLength(2);
    expect(calls[1].map((e) => e.DetailType)).toEqual([AuditDetailType.DEPLOYMENT_VERDICT]);
    expect(calls[1][0].Detail).toBe(calls[0][0].Detail); // same event, same idempotency key
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed' });
    expect(world.fallbacks()).toEqual([]);
  });

  it('only the failed entries of a batch are retried', async () => {
    // GetDeployment down: the verdict and an escalation are published together.
    const world = new World({ traffic: traffic.broken(0.3) });
    world.failAlways('GetDeployment', serverError);
    world.putEventsEntryError = (entry, call) => (call === 0 && entry.DetailType === AuditDetailType.ESCALATION_RAISED ? 'ThrottlingException' : undefined);

    await world.run();

    expectReports(world, { accepted: ['Succeeded'] });
    const calls = world.putEventsCalls();
    expect(calls.map((entries) => entries.map((e) => e.DetailType))).toEqual([
      [AuditDetailType.DEPLOYMENT_VERDICT, AuditDetailType.ESCALATION_RAISED],
      [AuditDetailType.ESCALATION_RAISED],
    ]);
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'skipped', reportedStatus: 'Succeeded' });
    expectAudit(world, AuditDetailType.ESCALATION_RAISED, { lifecycleEventHookExecutionId: HOOK_ID });
    expect(world.audits(AuditDetailType.DEPLOYMENT_VERDICT)).toHaveLength(1); // the delivered entry is not sent twice
  });

  it("InternalFailure on every attempt → retried, then logged with auditFallback; the decision is unchanged", async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.putEventsEntryError = () => 'InternalFailure';

    await world.run();

    expectReportedBeforeAuditing(world, 'Failed');
    expect(world.putEventsCalls()).toHaveLength(3);
    expect(world.fallbacks()).toEqual([
      expect.objectContaining({
        message: 'audit event not delivered',
        detailType: AuditDetailType.DEPLOYMENT_VERDICT,
        detail: expect.objectContaining({ schemaVersion: 1, deploymentId: DEPLOYMENT_ID, verdict: 'fail', reportedStatus: 'Failed', idempotencyKey: expect.any(String) }),
      }),
    ]);
  });

  it('a non-retryable ErrorCode (MalformedDetail) is not retried; logged with auditFallback at once', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.putEventsEntryError = () => 'MalformedDetail';

    await world.run();

    expectReportedBeforeAuditing(world, 'Failed');
    expect(world.putEventsCalls()).toHaveLength(1);
    expect(world.fallbacks()).toEqual([
      expect.objectContaining({ message: 'audit event rejected', errorCode: 'MalformedDetail', detailType: AuditDetailType.DEPLOYMENT_VERDICT, detail: expect.objectContaining({ verdict: 'fail' }) }),
    ]);
  });

  it('PutEvents throwing entirely → logged with auditFallback after the retries; a pass stays a pass', async () => {
    const world = new World({ traffic: traffic.clean() });
    world.failAlways('PutEvents', serverError);

    await world.run();

    expectReports(world, { accepted: ['Succeeded'] });
    expect(world.accepted[0].at - T0).toBe(780); // the bake's own length, not a second more
    expect(world.calls('PutEvents')).toBe(3);
    expect(world.delivered).toEqual([]);
    expect(world.fallbacks()).toEqual([
      expect.objectContaining({ message: 'audit event not delivered', detailType: AuditDetailType.DEPLOYMENT_VERDICT, detail: expect.objectContaining({ verdict: 'pass', reportedStatus: 'Succeeded' }) }),
    ]);
  });
});

describe('deployment state-change events (case 14)', () => {
  it('SUCCESS of a normal deployment records the target version’s CodeSha256 as known-good', async () => {
    const world = new World();
    world.addDeployment('d-GOOD', { creator: 'user', completeTime: new Date((T0 + 900) * 1000) }, ['Succeeded']);

    await world.run(world.stateChange('d-GOOD', 'SUCCESS'));

    expectReports(world, { accepted: [] });
    expect(world.table.get(`knowngood#${APPLICATION}#${DEPLOYMENT_GROUP}`)).toMatchObject({
      version: { S: '2' },
      integrity: { S: SHA_V2 },
      deploymentId: { S: 'd-GOOD' },
    });
    const recorded = expectAudit(world, AuditDetailType.KNOWN_GOOD_RECORDED, { deploymentId: 'd-GOOD', toVersion: '2', applicationName: APPLICATION, deploymentGroupName: DEPLOYMENT_GROUP });
    expect(recorded.reasons[0]).toContain(SHA_V2);
  });

  it('FAILURE with ALARM_ACTIVE → Rollback Triggered with the alarm names; the rollback’s SUCCESS → Rollback Completed with time to recovery', async () => {
    const world = new World();
    world.addDeployment(
      'd-BAD',
      {
        creator: 'user',
        completeTime: new Date((T0 + 20) * 1000),
        errorInformation: {
          code: 'ALARM_ACTIVE',
          message:
            'One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. ' +
            'Activated alarms: <orders-availability-canary-page-1h> <orders availability canary page 5m>',
        },
        rollbackInfo: { rollbackDeploymentId: 'd-ROLLBACK' },
      },
      ['Stopped'],
    );
    world.addDeployment(
      'd-ROLLBACK',
      { creator: 'codeDeployRollback', completeTime: new Date((T0 + 200) * 1000), rollbackInfo: { rollbackTriggeringDeploymentId: 'd-BAD' } },
      ['Succeeded'],
    );

    await world.run(world.stateChange('d-BAD', 'FAILURE'));

    const triggered = expectAudit(world, AuditDetailType.ROLLBACK_TRIGGERED, {
      deploymentId: 'd-BAD',
      verdict: 'fail',
      errorCode: 'ALARM_ACTIVE',
      rollbackDeploymentId: 'd-ROLLBACK',
      alarmNames: ['orders-availability-canary-page-1h', 'orders availability canary page 5m'], // names may hold spaces
    });
    expect(triggered.reasons[0]).toBe('stopped by alarm orders-availability-canary-page-1h, orders availability canary page 5m');

    await world.run(world.stateChange('d-ROLLBACK', 'SUCCESS'));

    expectReports(world, { accepted: [] });
    expectAudit(world, AuditDetailType.ROLLBACK_COMPLETED, { deploymentId: 'd-ROLLBACK', rollbackDeploymentId: 'd-ROLLBACK', timeToRecoverySeconds: 180 });
    expect(world.addMetric).toHaveBeenCalledWith('TimeToRecovery', 'Seconds', 180);
    // A rollback's success is not a new known-good version.
    expect(world.table.get(`knowngood#${APPLICATION}#${DEPLOYMENT_GROUP}`)).toBeUndefined();
  });

  it('SUCCESS of a rollback deployment measures time to recovery from the evaluator’s first bad signal', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    await world.run(); // the hook fails the release at T0: the first bad signal
    const bad = world.deployment();
    bad.statuses = ['Failed'];
    bad.info = {
      ...bad.info,
      completeTime: new Date((T0 + 25) * 1000),
      errorInformation: { code: 'HOOK_EXECUTION_FAILURE', message: 'lifecycle event AfterAllowTraffic failed' },
      rollbackInfo: { rollbackDeploymentId: 'd-ROLLBACK' },
    };
    world.addDeployment(
      'd-ROLLBACK',
      { creator: 'codeDeployRollback', completeTime: new Date((T0 + 140) * 1000), rollbackInfo: { rollbackTriggeringDeploymentId: DEPLOYMENT_ID } },
      ['Succeeded'],
    );

    await world.run(world.stateChange(DEPLOYMENT_ID, 'FAILURE'));
    world.now = T0 + 140;
    await world.run(world.stateChange('d-ROLLBACK', 'SUCCESS'));

    expectReports(world, { accepted: ['Failed'] }); // the hook's report; state changes report nothing
    expectAudit(world, AuditDetailType.ROLLBACK_TRIGGERED, { deploymentId: DEPLOYMENT_ID, errorCode: 'HOOK_EXECUTION_FAILURE', alarmNames: [] });
    const completed = expectAudit(world, AuditDetailType.ROLLBACK_COMPLETED, { rollbackDeploymentId: 'd-ROLLBACK', timeToRecoverySeconds: 140 });
    expect(completed.reasons[0]).toBe(`rollback deployment d-ROLLBACK succeeded (rolled back ${DEPLOYMENT_ID})`);
    expect(world.addMetric).toHaveBeenCalledWith('TimeToRecovery', 'Seconds', 140);
  });
});
