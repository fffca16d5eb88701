/**
 * Deciding once per hook execution: duplicate and concurrent invocations, a decision stored but not
 * reported, CodeDeploy deciding first (LifecycleEventAlreadyCompletedException), the deployment
 * ending mid-bake, and bakes continued in a new invocation.
 */
import { GetDeploymentCommand, PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditDetailType } from '../../lib/core';
import type { ContinuationEvent } from '../../lambda/evaluator/index';
import { DEPLOYMENT_ID, FUNCTION_ARN, HOOK_ID, T0, World, expectAudit, expectReports, serverError, timeout, traffic } from './fixtures';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('duplicate and concurrent invocations for one hook execution (case 6)', () => {
  it('sequential duplicate: reported once; the repeat reads no metrics and audits Trigger Suppressed', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });

    await world.run();
    const metricCallsAfterFirst = world.metricCalls().length;
    world.now += 30;
    await world.run();

    expectReports(world, { accepted: ['Failed'] });
    expect(world.metricCalls()).toHaveLength(metricCallsAfterFirst);
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed' });
    const suppressed = expectAudit(world, AuditDetailType.TRIGGER_SUPPRESSED, { verdict: 'fail', lifecycleEventHookExecutionId: HOOK_ID });
    expect(suppressed.reasons[0]).toMatch(/already decided and reported/);
  });

  it('concurrent duplicates (Promise.all): one invocation bakes and reports, the other stands down', async () => {
    const world = new World({ traffic: traffic.clean() });

    await Promise.all([world.run(), world.run()]);

    expectReports(world, { accepted: ['Succeeded'] });
    expect(world.metricCalls()).toHaveLength(14); // one bake, not two
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'pass', reportedStatus: 'Succeeded' });
    const suppressed = expectAudit(world, AuditDetailType.TRIGGER_SUPPRESSED, { lifecycleEventHookExecutionId: HOOK_ID });
    expect(suppressed.reasons[0]).toMatch(/another invocation is evaluating this hook/);
  });

  it('a decision stored but not reported is reported as stored on the repeat, even though the metrics have changed', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.failAlways('PutLifecycleEventHookExecutionStatus', serverError);

    // First invocation: decides Failed, cannot report, escalates and fails so that it is retried.
    await expect(world.run()).rejects.toMatchObject({ name: 'UnknownError' });
    expect(world.hookRecord()).toMatchObject({ decision: { status: 'Failed', verdict: 'fail' }, reported: false });
    expectAudit(world, AuditDetailType.ESCALATION_RAISED, { verdict: 'fail', lifecycleEventHookExecutionId: HOOK_ID });
    expect(world.accepted).toEqual([]);

    // CodeDeploy answers again; the new version now looks healthy and the bake would be over.
    world.heal('PutLifecycleEventHookExecutionStatus');
    world.trafficModel = traffic.clean();
    world.now += 900;
    const metricCallsBefore = world.metricCalls().length;
    await world.run();

    expectReports(world, { accepted: ['Failed'], calls: 8 + 1 });
    expect(world.metricCalls()).toHaveLength(metricCallsBefore);
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed' });
    expect(verdict.reasons[0]).toMatch(/burns its error budget at 300×/);
    expect(world.hookRecord()).toMatchObject({ reported: true });
  });
});

describe('LifecycleEventAlreadyCompletedException (case 7)', () => {
  it('is not retried; the real outcome is read; a different outcome is audited as Trigger Suppressed', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.hookOutcomes.set(HOOK_ID, 'Succeeded'); // decided elsewhere first, differently
    world.deployment().statuses = ['InProgress', 'InProgress', 'Succeeded'];

    await world.run();

    expectReports(world, { accepted: [], calls: 1 });
    const report = world.cd.commandCalls(PutLifecycleEventHookExecutionStatusCommand)[0];
    const reads = world.cd.commandCalls(GetDeploymentCommand);
    expect(reads).toHaveLength(3);
    expect(reads[2].calledAfter(report)).toBe(true);
    const suppressed = expectAudit(world, AuditDetailType.TRIGGER_SUPPRESSED, { verdict: 'fail', lifecycleEventHookExecutionId: HOOK_ID });
    expect(suppressed.reasons[0]).toMatch(/hook already completed \(AfterAllowTraffic Succeeded, deployment Succeeded\); Failed was not applied/);
    expect(world.audits(AuditDetailType.DEPLOYMENT_VERDICT)).toEqual([]);
  });

  it('audits the verdict when the hook already carries the same status (an earlier report whose response was lost)', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.hookOutcomes.set(HOOK_ID, 'Failed');

    await world.run();

    expectReports(world, { accepted: [], calls: 1 });
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed', lifecycleEventHookExecutionId: HOOK_ID });
    expect(world.audits(AuditDetailType.TRIGGER_SUPPRESSED)).toEqual([]);
  });
});

describe('deployment stopped or finished mid-bake (case 8)', () => {
  it.each(['Stopped', 'Failed'])('GetDeployment says %s on the second tick → no report, audited', async (status) => {
    const world = new World({ traffic: traffic.clean() });
    world.deployment().statuses = ['InProgress', 'InProgress', status];

    await world.run();

    expectReports(world, { accepted: [] });
    expect(world.metricCalls()).toHaveLength(1);
    const suppressed = expectAudit(world, AuditDetailType.TRIGGER_SUPPRESSED, { deploymentId: DEPLOYMENT_ID, lifecycleEventHookExecutionId: HOOK_ID });
    expect(suppressed.reasons[0]).toBe(`deployment ${status} during the bake; CodeDeploy decided, nothing to report`);
  });

  it('a deployment already Stopped when the hook runs → no report, audited', async () => {
    const world = new World({ traffic: traffic.clean() });
    world.deployment().statuses = ['Stopped'];

    await world.run();

    expectReports(world, { accepted: [] });
    expect(world.metricCalls()).toHaveLength(0);
    expectAudit(world, AuditDetailType.TRIGGER_SUPPRESSED, { lifecycleEventHookExecutionId: HOOK_ID });
  });
});

describe('a bake longer than one invocation (case 11)', () => {
  async function firstInvocation(world: World): Promise<ContinuationEvent> {
    // 100 s left: less than a tick plus the hand-over margin, so the first tick hands over.
    await world.run(world.hookEvent(), 100_000);
    expect(world.invokeCalls()).toHaveLength(1);
    const [invoke] = world.invokeCalls();
    expect(invoke).toMatchObject({ FunctionName: FUNCTION_ARN, InvocationType: 'Event' });
    const [continuation] = world.continuations();
    expect(continuation).toEqual({ rollbackTriggersContinuation: { deploymentId: DEPLOYMENT_ID, lifecycleEventHookExecutionId: HOOK_ID, sequence: 0, hookStartedAt: T0 } });
    expectReports(world, { accepted: [] });
    world.now += 2;
    return continuation;
  }

  it('hands over asynchronously, the continuation reports exactly once, a duplicated continuation does nothing', async () => {
    const world = new World({ traffic: traffic.clean() });
    const continuation = await firstInvocation(world);

    await world.run(continuation);

    expectReports(world, { accepted: ['Succeeded'] });
    expect(world.accepted[0].at - T0).toBeLessThan(780 + 60); // the bake counts from the hook's start
    expect(world.hookRecord()).toMatchObject({ sequence: 1, hookStartedAt: T0, reported: true });
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'pass', reportedStatus: 'Succeeded', lifecycleEventHookExecutionId: HOOK_ID });

    // The same continuation delivered again (Lambda async invocations are at least once).
    const metricCalls = world.metricCalls().length;
    await world.run(continuation);

    expectReports(world, { accepted: ['Succeeded'] });
    expect(world.metricCalls()).toHaveLength(metricCalls);
    expect(world.invokeCalls()).toHaveLength(1);
  });

  it('a duplicated continuation running concurrently: only one takes the bake over', async () => {
    const world = new World({ traffic: traffic.clean() });
    const continuation = await firstInvocation(world);
    const info = vi.spyOn(world.logger, 'info');

    await Promise.all([world.run(continuation), world.run(continuation)]);

    expectReports(world, { accepted: ['Succeeded'] });
    expect(info).toHaveBeenCalledWith('another invocation took this hook over', { hookId: HOOK_ID });
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'pass', reportedStatus: 'Succeeded' });
    expect(world.audits(AuditDetailType.TRIGGER_SUPPRESSED)).toEqual([]);
  });

  it('a take-over whose write timed out after it was applied still continues the bake', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    // Broken from the start would fail on the first tick; let the first invocation see a clean start.
    world.trafficModel = traffic.clean();
    const continuation = await firstInvocation(world);
    world.trafficModel = traffic.broken(0.3);
    world.failNext('UpdateItem', { error: timeout(), applied: true });

    await world.run(continuation);

    expectReports(world, { accepted: ['Failed'] });
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed' });
  });
});
