/**
 * Evaluator hook decisions: AfterAllowTraffic bake, BeforeAllowTraffic integrity, rollback
 * deployments, the one-hour deadline and GetDeployment failing. Fault injection lives in
 * evaluator-faults.test.ts, duplicates and continuations in evaluator-duplicates.test.ts, the audit
 * trail and state-change events in evaluator-audit.test.ts.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditDetailType } from '../../lib/core';
import {
  APPLICATION,
  CREATED_AT,
  DEPLOYMENT_GROUP,
  DEPLOYMENT_ID,
  FUNCTION_NAME,
  HOOK_ID,
  SHA_V1,
  T0,
  World,
  expectAudit,
  expectReports,
  serverError,
  traffic,
} from './fixtures';

afterEach(() => {
  vi.restoreAllMocks();
});

function seedKnownGood(world: World, version: string, integrity: string): void {
  world.table.items.set(`knowngood#${APPLICATION}#${DEPLOYMENT_GROUP}`, {
    pk: { S: `knowngood#${APPLICATION}#${DEPLOYMENT_GROUP}` },
    version: { S: version },
    integrity: { S: integrity },
    deploymentId: { S: 'd-EARLIER' },
    recordedAt: { N: String(T0 - 86_400) },
  });
}

describe('AfterAllowTraffic bake (case 1)', () => {
  it('passes a clean version after the whole bake, reading every SLO in one GetMetricData call per tick', async () => {
    const world = new World({ traffic: traffic.clean() });

    await world.run();

    expectReports(world, { accepted: ['Succeeded'] });
    // The bake judges 600 s of metrics that are at least 180 s old: it ends 780 s after the hook started.
    expect(world.accepted[0].at - T0).toBe(600 + 180);
    const calls = world.metricCalls();
    expect(calls).toHaveLength(14); // one per 60 s tick, T0 … T0 + 780
    for (const call of calls) {
      expect(call.StartTime!.getTime() / 1000).toBe(CREATED_AT);
      expect((call.EndTime!.getTime() / 1000) % 60).toBe(0);
      expect(call.MetricDataQueries!.map((q) => q.Id).sort()).toEqual(['s0_baseline_n', 's0_baseline_t', 's0_canary_n', 's0_canary_t']);
    }
    const canaryErrors = calls[0].MetricDataQueries!.find((q) => q.Id === 's0_canary_n')!.MetricStat!;
    expect(canaryErrors.Metric).toEqual({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: expect.arrayContaining([
        { Name: 'FunctionName', Value: FUNCTION_NAME },
        { Name: 'Resource', Value: `${FUNCTION_NAME}:live` },
        { Name: 'ExecutedVersion', Value: '2' },
      ]),
    });
    expect(canaryErrors).toMatchObject({ Period: 60, Stat: 'Sum' });

    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, {
      deploymentId: DEPLOYMENT_ID,
      lifecycleEventHookExecutionId: HOOK_ID,
      lifecycleEvent: 'AfterAllowTraffic',
      applicationName: APPLICATION,
      deploymentGroupName: DEPLOYMENT_GROUP,
      fromVersion: '1',
      toVersion: '2',
      verdict: 'pass',
      reportedStatus: 'Succeeded',
    });
    expect(verdict.reasons[0]).toMatch(/bake complete/);
    // 20 minutes of the new version's traffic (deployment start → end of the bake), no error.
    expect(verdict.observations).toContainEqual(expect.objectContaining({ arm: 'canary', totalEvents: 20_000, badEvents: 0, burnRate: 0, threshold: 14.4 }));
  });

  it('fails a broken version (30 % errors at 1,000 invocations a minute) on the first tick', async () => {
    const world = new World({ traffic: traffic.broken(0.3, 1_000) });

    await world.run();

    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at).toBe(T0);
    expect(world.metricCalls()).toHaveLength(1);
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed', toVersion: '2' });
    expect(verdict.reasons.join('\n')).toMatch(/burns its error budget at 300× .*short window; the threshold is 14\.4×/);
    // Seven minutes of data (deployment start → T0 − 180 s), 30 % of them bad.
    expect(verdict.observations).toContainEqual(expect.objectContaining({ arm: 'canary', totalEvents: 7_000, badEvents: 2_100, burnRate: 300 }));
    // The first bad signal is kept for time to recovery.
    expect(world.table.get(`badsignal#${DEPLOYMENT_ID}`)?.at).toEqual({ N: String(T0) });
  });
});

describe('BeforeAllowTraffic checks (case 2)', () => {
  it('succeeds when the target differs from the current version and the known-good is intact', async () => {
    const world = new World({ lifecycleEvent: 'BeforeAllowTraffic' });
    seedKnownGood(world, '1', SHA_V1);

    await world.run();

    expectReports(world, { accepted: ['Succeeded'] });
    expect(world.metricCalls()).toHaveLength(0);
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'pass', reportedStatus: 'Succeeded', lifecycleEvent: 'BeforeAllowTraffic', fromVersion: '1', toVersion: '2' });
    expect(verdict.reasons).toContain('known-good version 1 is intact');
  });

  it('fails when the known-good version’s CodeSha256 was altered', async () => {
    const world = new World({ lifecycleEvent: 'BeforeAllowTraffic' });
    seedKnownGood(world, '1', SHA_V1);
    world.functionVersions.set('1', 'tamperedCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC=');

    await world.run();

    expectReports(world, { accepted: ['Failed'] });
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed' });
    expect(verdict.reasons[0]).toMatch(/known-good version 1 was altered .*tamperedC/);
  });

  it('fails when the current version no longer exists (ResourceNotFoundException)', async () => {
    const world = new World({ lifecycleEvent: 'BeforeAllowTraffic' });
    seedKnownGood(world, '1', SHA_V1);
    world.functionVersions.delete('1');

    await world.run();

    expectReports(world, { accepted: ['Failed'] });
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed' });
    expect(verdict.reasons[0]).toMatch(/current version 1 no longer exists/);
  });

  it('fails when the target is the version already serving traffic', async () => {
    const world = new World({ lifecycleEvent: 'BeforeAllowTraffic' });
    world.versions = { current: '2', target: '2' };

    await world.run();

    expectReports(world, { accepted: ['Failed'] });
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed', fromVersion: '2', toVersion: '2' });
    expect(verdict.reasons[0]).toMatch(/already serving traffic/);
  });
});

describe('hooks inside a rollback deployment (case 9)', () => {
  it.each(['codeDeployRollback', 'CloudFormationRollback'])('%s: reports Succeeded at once without reading metrics', async (creator) => {
    const world = new World({ creator, traffic: traffic.broken(1) });

    await world.run();

    expectReports(world, { accepted: ['Succeeded'] });
    expect(world.accepted[0].at).toBe(T0);
    expect(world.metricCalls()).toHaveLength(0);
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'skipped', reportedStatus: 'Succeeded', lifecycleEventHookExecutionId: HOOK_ID });
    expect(verdict.reasons[0]).toContain(creator);
  });
});

describe('CodeDeploy’s one-hour deadline (case 10)', () => {
  // A 54-minute bake of metrics 3 minutes old would end 57 minutes after the hook started; the
  // deadline (60 − 5 minutes) comes first. Each invocation lasts 15 minutes and hands over.
  const config = { bakeSeconds: 3_240 };

  it('reports pass with enough clean data when the hook age reaches 3,600 − 300 s', async () => {
    const world = new World({ config, traffic: traffic.clean() });

    const invocations = await world.runFollowingContinuations();

    expect(invocations).toBeGreaterThanOrEqual(4);
    expectReports(world, { accepted: ['Succeeded'] });
    const age = world.accepted[0].at - T0;
    expect(age).toBeGreaterThanOrEqual(3_300);
    expect(age).toBeLessThan(3_300 + 60);
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'pass', reportedStatus: 'Succeeded' });
    expect(verdict.reasons[0]).toMatch(/one-hour hook limit is \d+ s away/);
  });

  it('reports inconclusive as Failed without data when the deadline comes', async () => {
    const world = new World({ config, traffic: traffic.none() });

    await world.runFollowingContinuations();

    expectReports(world, { accepted: ['Failed'] });
    const age = world.accepted[0].at - T0;
    expect(age).toBeGreaterThanOrEqual(3_300);
    expect(age).toBeLessThan(3_600 - 60);
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Failed' });
    expect(verdict.reasons[0]).toMatch(/one-hour hook limit .* without enough data \(inconclusive → Failed\)/);
  });
});

describe('GetDeployment failing persistently (case 13)', () => {
  it('reports Succeeded (never block a possible rollback) and raises an escalation', async () => {
    const world = new World({ traffic: traffic.broken(1) });
    world.failAlways('GetDeployment', serverError);

    await world.run();

    expectReports(world, { accepted: ['Succeeded'] });
    expect(world.getDeploymentCalls()).toBe(5); // the handler's retry budget, then it gives up
    expect(world.metricCalls()).toHaveLength(0);
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'skipped', reportedStatus: 'Succeeded' });
    const escalation = expectAudit(world, AuditDetailType.ESCALATION_RAISED, { lifecycleEventHookExecutionId: HOOK_ID, reportedStatus: 'Succeeded' });
    expect(escalation.reasons[0]).toMatch(/GetDeployment failed \(UnknownError\)/);
  });
});
