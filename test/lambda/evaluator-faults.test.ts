/**
 * The evaluator under AWS faults: throttling, 5xx, timeouts, GetMetricData paging and missing
 * data, IAM not yet propagated, and the state table gone. Whatever fails, CodeDeploy hears exactly
 * one status for the hook, and the audit trail records it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditDetailType } from '../../lib/core';
import {
  HOOK_ID,
  type Op,
  T0,
  World,
  accessDenied,
  expectAudit,
  expectReports,
  serverError,
  throttling,
  timeout,
  traffic,
} from './fixtures';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('each AWS call throttled, then succeeding (case 3)', () => {
  // AfterAllowTraffic, broken version: decided Failed on the first tick.
  const afterCases: Array<{ op: Op; times: number; what: string }> = [
    { op: 'GetDeployment', times: 2, what: 'reading the deployment' },
    { op: 'ListDeploymentTargets', times: 1, what: 'listing the targets' },
    { op: 'BatchGetDeploymentTargets', times: 2, what: 'reading the versions' },
    { op: 'GetMetricData', times: 2, what: 'reading the metrics' },
    { op: 'PutLifecycleEventHookExecutionStatus', times: 2, what: 'reporting the hook' },
    { op: 'PutItem', times: 2, what: 'DynamoDB: claiming the hook' },
    { op: 'UpdateItem', times: 1, what: 'DynamoDB: storing the decision' },
    { op: 'PutEvents', times: 2, what: 'auditing' },
  ];

  it.each(afterCases)('$op throttled $times× ($what) → still exactly one Failed report', async ({ op, times }) => {
    const world = new World({ traffic: traffic.broken(0.3) });
    const baseline = new World({ traffic: traffic.broken(0.3) });
    await baseline.run();
    world.failNext(op, ...Array.from({ length: times }, throttling));

    await world.run();

    expect(world.calls(op)).toBe(baseline.calls(op) + times);
    expectReports(world, { accepted: ['Failed'], calls: op === 'PutLifecycleEventHookExecutionStatus' ? 1 + times : 1 });
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed', lifecycleEventHookExecutionId: HOOK_ID });
    expect(world.fallbacks()).toEqual([]);
    expect(world.hookRecord()).toMatchObject({ decision: { status: 'Failed', verdict: 'fail' }, reported: true });
  });

  // BeforeAllowTraffic: the known-good read (GetItem) and the Lambda version check (GetFunction).
  it.each<{ op: Op; times: number }>([
    { op: 'GetItem', times: 2 },
    { op: 'GetFunction', times: 2 },
  ])('BeforeAllowTraffic: $op throttled $times× → still exactly one Succeeded report', async ({ op, times }) => {
    const world = new World({ lifecycleEvent: 'BeforeAllowTraffic' });
    world.failNext(op, ...Array.from({ length: times }, throttling));

    await world.run();

    expect(world.calls(op)).toBe(1 + times);
    expectReports(world, { accepted: ['Succeeded'] });
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'pass', reportedStatus: 'Succeeded', lifecycleEvent: 'BeforeAllowTraffic' });
  });
});

describe('5xx and timeouts on GetMetricData and on the report (case 4)', () => {
  it.each([
    ['5xx', serverError],
    ['TimeoutError', timeout],
  ])('GetMetricData %s twice, then data → decides on the same tick', async (_name, make) => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.failNext('GetMetricData', make(), make());

    await world.run();

    expect(world.calls('GetMetricData')).toBe(3);
    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at - T0).toBeLessThan(10); // retried within the tick, not a tick later
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed' });
  });

  it.each([
    ['5xx', serverError],
    ['TimeoutError', timeout],
  ])('PutLifecycleEventHookExecutionStatus %s once → retried, applied once', async (_name, make) => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.failNext('PutLifecycleEventHookExecutionStatus', make());

    await world.run();

    expectReports(world, { accepted: ['Failed'], calls: 2 });
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed' });
  });

  it('a report that timed out after CodeDeploy applied it: the retry meets LifecycleEventAlreadyCompletedException, nothing is reported twice, the verdict is audited', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.failNext('PutLifecycleEventHookExecutionStatus', { error: timeout(), applied: true });

    await world.run();

    expectReports(world, { accepted: ['Failed'], calls: 2 });
    // The hook's lifecycle event already shows Failed: our own report was applied.
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed', lifecycleEventHookExecutionId: HOOK_ID });
    expect(world.audits(AuditDetailType.TRIGGER_SUPPRESSED)).toEqual([]);
  });

  it('GetMetricData failing with 5xx on every tick → no data, inconclusive → Failed after the bake, with the cause in the reasons', async () => {
    const world = new World({ traffic: traffic.clean() });
    world.failAlways('GetMetricData', serverError);

    await world.run();

    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at - T0).toBeGreaterThanOrEqual(780);
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Failed' });
    expect(verdict.reasons).toContainEqual(expect.stringMatching(/GetMetricData failed \(UnknownError\)/));
  });

  it('a DynamoDB claim that timed out after it was written is recognised as this invocation’s own claim', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.failNext('PutItem', { error: timeout(), applied: true });

    await world.run();

    expectReports(world, { accepted: ['Failed'] });
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed' });
    expect(world.audits(AuditDetailType.TRIGGER_SUPPRESSED)).toEqual([]);
  });
});

describe('GetMetricData: pages, no data, IAM not yet propagated (case 5)', () => {
  it('follows NextToken and uses both pages: the failure is only visible on page 2', async () => {
    // Errors only in the last three minutes before the ingestion delay; page 1 holds the earlier half.
    const lateErrors = (id: string, minute: number) => (id.endsWith('_t') ? 1_000 : id === 's0_canary_n' && minute >= T0 - 360 ? 400 : 0);
    const world = new World({ traffic: lateErrors });
    world.metricPages = 2;

    await world.run();

    const calls = world.metricCalls();
    expect(calls).toHaveLength(2);
    expect(calls[0].NextToken).toBeUndefined();
    expect(calls[1].NextToken).toBe('page-2-token');
    expect(calls[1].StartTime).toEqual(calls[0].StartTime);
    expect(calls[1].EndTime).toEqual(calls[0].EndTime);
    expectReports(world, { accepted: ['Failed'] });
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed' });
    // 7,000 invocations: page 1's 4 minutes plus page 2's 3; 1,200 errors, all from page 2.
    expect(verdict.observations).toContainEqual(expect.objectContaining({ arm: 'canary', totalEvents: 7_000, badEvents: 1_200 }));
  });

  it('no datapoints at all → inconclusive after the bake, reported Failed (fail closed)', async () => {
    const world = new World({ traffic: traffic.none() });

    await world.run();

    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at - T0).toBe(780); // waited for the whole bake, never a silent pass
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Failed' });
    expect(verdict.reasons).toContainEqual(expect.stringMatching(/no datapoints for the new version/));
  });

  it("no datapoints with inconclusiveAction 'pass' → inconclusive reported Succeeded", async () => {
    const world = new World({ traffic: traffic.none(), config: { inconclusiveAction: 'pass' } });

    await world.run();

    expectReports(world, { accepted: ['Succeeded'] });
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Succeeded' });
  });

  it('too few events (below minEvents) is inconclusive as well', async () => {
    const world = new World({ traffic: traffic.clean(2) }); // 2 invocations a minute: 40 < 70 events

    await world.run();

    expectReports(world, { accepted: ['Failed'] });
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Failed' });
    expect(verdict.reasons).toContainEqual(expect.stringMatching(/only 40 of the 70 events needed/));
  });

  it('AccessDenied on the first attempts (IAM not yet propagated), then data → decides normally', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.failNext('GetMetricData', accessDenied(), accessDenied(), accessDenied());

    await world.run();

    expect(world.calls('GetMetricData')).toBe(4);
    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at - T0).toBeLessThan(10);
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed' });
  });

  it('AccessDenied that never goes away → inconclusive → Failed, never a silent pass', async () => {
    const world = new World({ traffic: traffic.clean() });
    world.failAlways('GetMetricData', () => accessDenied());

    await world.run();

    expectReports(world, { accepted: ['Failed'] });
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Failed' });
    expect(verdict.reasons).toContainEqual(expect.stringMatching(/GetMetricData failed \(AccessDenied\)/));
  });

  it('AccessDeniedException on GetDeployment and on the report right after deploy → waits for IAM, decides normally', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.failNext('GetDeployment', accessDenied('AccessDeniedException'), accessDenied('AccessDeniedException'));
    world.failNext('PutLifecycleEventHookExecutionStatus', accessDenied('AccessDeniedException'));

    await world.run();

    expectReports(world, { accepted: ['Failed'], calls: 2 });
    expect(world.metricCalls().length).toBeGreaterThan(0);
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed' });
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)).toEqual([]);
  });
});

describe('DynamoDB entirely unavailable (case 15)', () => {
  function dynamoDown(world: World): World {
    const unavailable = () => Object.assign(serverError(), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } });
    return world.failAlways('PutItem', unavailable).failAlways('GetItem', unavailable).failAlways('UpdateItem', unavailable);
  }

  it('AfterAllowTraffic: still decides and reports exactly once', async () => {
    const world = dynamoDown(new World({ traffic: traffic.broken(0.3) }));

    await world.run();

    expectReports(world, { accepted: ['Failed'] });
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed' });
    expect(world.table.items.size).toBe(0);
  });

  it('BeforeAllowTraffic: the known-good record is unreadable, the current version still exists → reported once', async () => {
    const world = dynamoDown(new World({ lifecycleEvent: 'BeforeAllowTraffic' }));

    await world.run();

    expectReports(world, { accepted: ['Succeeded'] });
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'pass', reportedStatus: 'Succeeded' });
  });

  it('a bake carried over several invocations keeps the hook’s start time and reports before the deadline', async () => {
    const world = dynamoDown(new World({ traffic: traffic.none(), config: { bakeSeconds: 3_240 } }));

    const invocations = await world.runFollowingContinuations();

    expect(invocations).toBeGreaterThanOrEqual(4);
    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at - T0).toBeLessThan(3_600 - 60);
    expect(world.continuations().every((c) => c.rollbackTriggersContinuation.hookStartedAt === T0)).toBe(true);
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Failed' });
  });
});
