/**
 * The bake's step Lambda driven the way the state machine drives it: AfterAllowTraffic bakes,
 * BeforeAllowTraffic checks, rollback deployments, deployments finished mid-bake or of another
 * group, unreadable deployments, AfterAllowTestTraffic and the deadline. Faults and evidence live
 * in evaluator-faults.test.ts, the audit trail in evaluator-audit.test.ts, repeats and garbled
 * states in evaluator-idempotency.test.ts.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditDetailType, HISTORY_SECONDS } from '../../lib/core';
import {
  APPLICATION,
  CREATED_AT,
  DEADLINE,
  DEPLOYMENT_GROUP,
  DEPLOYMENT_ID,
  FUNCTION_NAME,
  HOOK_ID,
  REPORT_BY,
  SHA_V1,
  T0,
  TG_GREEN,
  World,
  accessDenied,
  awsError,
  expectAudit,
  expectReports,
  serverError,
  trace,
  traffic,
} from './fixtures';

afterEach(() => {
  vi.restoreAllMocks();
});

const latency = {
  name: 'orders-latency',
  errorBudget: 0.01,
  failBurnRate: 14.4,
  shortWindowSeconds: 300,
  minEvents: 70,
  numeratorKind: 'good' as const,
  numerator: { namespace: 'AWS/Lambda', metricName: 'FastInvocations', dimensionSet: 0, stat: 'Sum' },
  total: { namespace: 'AWS/Lambda', metricName: 'Invocations', dimensionSet: 0, stat: 'Sum' },
};

describe('AfterAllowTraffic bake into an incident that began before the release (issue 8)', () => {
  it('does not roll back: reports Succeeded, escalates, and the audit names the pre-existing incident', async () => {
    // All at once at CREATED_AT: the current version served 1,000 a minute failing 5 % (50×) for
    // the hour before it and serves nothing after; the new version fails exactly as often.
    const world = new World({
      config: { baselineFactor: 2 },
      traffic: (id, minute) => {
        const before = minute < CREATED_AT;
        if (id.startsWith('s0_baseline')) return before ? (id.endsWith('_t') ? 1_000 : 50) : undefined;
        if (id.startsWith('s0_canary')) return before ? undefined : id.endsWith('_t') ? 1_000 : 50;
        return undefined;
      },
    });
    await world.bake();
    expectReports(world, { accepted: ['Succeeded'] });
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'pass', reportedStatus: 'Succeeded' });
    expect(verdict.incidents).toEqual([
      {
        kind: 'pre-existing',
        slo: 'orders-availability',
        reason: expect.stringMatching(/pre-existing incident — the service was already burning its budget at the page rate before the release \(the current version 50× over the hour before it, 50× over its last 5 min/),
      },
    ]);
    expect(verdict.reasons.join('\n')).toMatch(/not 2× worse than the current version's last minutes before the release \(5 min\): 5 % \(250 of 5000 events\), or not significantly/);
    expect(verdict.observations).toEqual(expect.arrayContaining([expect.objectContaining({ arm: 'reference', totalEvents: 5_000, badEvents: 250 })]));
    // A human is asked to look: the same detail, as an escalation.
    expect(expectAudit(world, AuditDetailType.ESCALATION_RAISED).incidents).toEqual(verdict.incidents);
  });
});

describe('AfterAllowTraffic bake', () => {
  it('passes a clean version after the whole bake, reading every SLO, both arms and the Synthetics check in ONE GetMetricData call per tick', async () => {
    const world = new World({
      config: { slos: [...new World().config.slos, latency], healthChecks: [{ kind: 'synthetics', name: 'journey', canaryName: 'journey', minSuccessPercent: 100 }] },
      // Every invocation is fast (the good numerator equals the total); the canary passes every run.
      traffic: (id) => (id === 'h0' ? 100 : id.endsWith('_t') || id.startsWith('s1_') ? 1_000 : 0),
    });

    const run = await world.bake();

    expectReports(world, { accepted: ['Succeeded'] });
    // The bake judges 600 s of metrics that are at least 180 s old: it ends 780 s after the hook started.
    expect(world.accepted[0].at - T0).toBe(600 + 180);
    // resolve runs the first tick itself; then one tick a minute; then the verdict is audited.
    expect(trace(run)).toEqual(['resolve→wait', ...Array(12).fill('tick→wait'), 'tick→report', 'reported→done']);
    const calls = world.metricCalls();
    expect(calls).toHaveLength(14); // one per tick, T0 … T0 + 780
    for (const call of calls) {
      // From an hour before the release: the current version's history in the same call.
      expect(call.StartTime!.getTime() / 1000).toBe(CREATED_AT - HISTORY_SECONDS);
      expect((call.EndTime!.getTime() / 1000) % 60).toBe(0);
      expect(call.MetricDataQueries!.map((q) => q.Id).sort()).toEqual(['h0', 's0_baseline_n', 's0_baseline_t', 's0_canary_n', 's0_canary_t', 's1_baseline_n', 's1_baseline_t', 's1_canary_n', 's1_canary_t']);
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
    expect(verdict.observations).toContainEqual(expect.objectContaining({ slo: 'orders-availability', arm: 'canary', totalEvents: 20_000, badEvents: 0, burnRate: 0, threshold: 14.4 }));
    expect(verdict.observations).toContainEqual(expect.objectContaining({ slo: 'orders-latency', arm: 'canary', totalEvents: 20_000, badEvents: 0 }));
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)).toEqual([]);
  });

  it('fails a broken version (30 % errors at 1,000 invocations a minute) on the first tick, in the resolve step', async () => {
    const world = new World({ traffic: traffic.broken(0.3, 1_000) });

    const run = await world.bake();

    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at).toBe(T0);
    expect(trace(run)).toEqual(['resolve→report', 'reported→done']);
    expect(world.metricCalls()).toHaveLength(1);
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed', toVersion: '2' });
    expect(verdict.reasons.join('\n')).toMatch(/burns its error budget at 300× .*short window; the threshold is 14\.4×/);
    // Seven minutes of data (deployment start → T0 − 180 s), 30 % of them bad.
    expect(verdict.observations).toContainEqual(expect.objectContaining({ arm: 'canary', totalEvents: 7_000, badEvents: 2_100, burnRate: 300 }));
    // The first bad signal is kept for time to recovery: the moment the step decided.
    expect(world.knownGood.badSignals.get(DEPLOYMENT_ID)).toBe(T0);
  });

  it('a regression that starts mid-bake fails on the tick that sees it', async () => {
    // The new version breaks at T0 + 120; with the 180 s metric delay the tick at T0 + 300 sees it... once the short window burns.
    const world = new World({ traffic: (id, minute) => (id.endsWith('_t') ? 1_000 : id === 's0_canary_n' && minute >= T0 + 120 ? 500 : 0) });

    await world.bake();

    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at - T0).toBe(360);
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed' });
  });

  it('ECS: reads the green target group as the new version, the blue one as the baseline', async () => {
    const world = new World({ platform: 'ecs', traffic: traffic.broken(0.3) });

    await world.bake();

    expectReports(world, { accepted: ['Failed'] });
    const queries = world.metricCalls()[0].MetricDataQueries!;
    expect(queries.find((q) => q.Id === 's0_canary_n')!.MetricStat!.Metric!.Dimensions).toEqual(
      expect.arrayContaining([{ Name: 'TargetGroup', Value: `targetgroup/${TG_GREEN}/2222` }]),
    );
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', fromVersion: 'ecs-svc/blue', toVersion: 'ecs-svc/green' });
  });
});

describe('BeforeAllowTraffic checks', () => {
  it('succeeds when the target differs from the current version and the known-good is intact', async () => {
    const world = new World({ lifecycleEvent: 'BeforeAllowTraffic' });
    world.knownGood.seed('1', SHA_V1);

    const run = await world.bake();

    expectReports(world, { accepted: ['Succeeded'] });
    expect(trace(run)).toEqual(['resolve→report', 'reported→done']);
    expect(world.metricCalls()).toHaveLength(0);
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'pass', reportedStatus: 'Succeeded', lifecycleEvent: 'BeforeAllowTraffic', fromVersion: '1', toVersion: '2' });
    expect(verdict.reasons).toContain('known-good version 1 is intact');
  });

  it('fails when the known-good version’s CodeSha256 was altered', async () => {
    const world = new World({ lifecycleEvent: 'BeforeAllowTraffic' });
    world.knownGood.seed('1', SHA_V1);
    world.functionVersions.set('1', 'tamperedCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC=');

    await world.bake();

    expectReports(world, { accepted: ['Failed'] });
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed' });
    expect(verdict.reasons[0]).toMatch(/known-good version 1 was altered .*tamperedC/);
  });

  it('fails when the current version no longer exists (ResourceNotFoundException)', async () => {
    const world = new World({ lifecycleEvent: 'BeforeAllowTraffic' });
    world.knownGood.seed('1', SHA_V1);
    world.functionVersions.delete('1');

    await world.bake();

    expectReports(world, { accepted: ['Failed'] });
    expect(expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail' }).reasons[0]).toMatch(/current version 1 no longer exists/);
  });

  it('fails when the target is the version already serving traffic', async () => {
    const world = new World({ lifecycleEvent: 'BeforeAllowTraffic' });
    world.versions = { current: '2', target: '2' };

    await world.bake();

    expectReports(world, { accepted: ['Failed'] });
    expect(expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', fromVersion: '2', toVersion: '2' }).reasons[0]).toMatch(/already serving traffic/);
  });

  // Bug: a known-good record that cannot be read counted as "none recorded", so a tampered
  // known-good version passed BeforeAllowTraffic.
  it('a known-good record that cannot be read (DynamoDB down for the whole budget) is inconclusive → Failed, never "none recorded"', async () => {
    const world = new World({ lifecycleEvent: 'BeforeAllowTraffic' });
    world.knownGood.seed('1', SHA_V1);
    world.functionVersions.set('1', 'tamperedCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC=');
    world.failAlways('KnownGoodGet', () => Object.assign(serverError(), { name: 'ServiceUnavailable', $metadata: { httpStatusCode: 503 } }));

    await world.bake();

    expectReports(world, { accepted: ['Failed'] });
    expect(world.calls('KnownGoodGet')).toBeGreaterThan(5); // retried for the step's budget, not 5 times
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Failed' });
    expect(verdict.reasons[0]).toMatch(/could not read the known-good record \(ServiceUnavailable.*\).*\(inconclusive → Failed\)/);
    expect(verdict.reasons.join(' ')).not.toMatch(/no known-good version recorded/);
  });

  it('the real KnownGoodStore: a DynamoDB GetItem denied for the whole budget is inconclusive too', async () => {
    const world = new World({ lifecycleEvent: 'BeforeAllowTraffic', realKnownGoodStore: true });
    world.ddb.on(GetItemCommand).rejects(accessDenied('AccessDeniedException'));

    await world.bake();

    expectReports(world, { accepted: ['Failed'] });
    expect(world.ddb.commandCalls(GetItemCommand)[0].args[0].input.TableName).toBe('rollback-state');
    expect(expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive' }).reasons[0]).toMatch(/could not read the known-good record \(AccessDeniedException/);
  });

  it('a throttled known-good read that recovers within the budget decides normally', async () => {
    const world = new World({ lifecycleEvent: 'BeforeAllowTraffic' });
    world.knownGood.seed('1', SHA_V1);
    world.failNext('KnownGoodGet', awsError('ProvisionedThroughputExceededException', 400), awsError('ProvisionedThroughputExceededException', 400));

    await world.bake();

    expectReports(world, { accepted: ['Succeeded'] });
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'pass' });
  });
});

describe('hooks inside a rollback deployment', () => {
  it.each(['codeDeployRollback', 'CloudFormationRollback'])('%s: reports Succeeded at once without reading metrics', async (creator) => {
    const world = new World({ creator, traffic: traffic.broken(1) });

    const run = await world.bake();

    expectReports(world, { accepted: ['Succeeded'] });
    expect(world.accepted[0].at).toBe(T0);
    expect(trace(run)).toEqual(['resolve→report', 'reported→done']);
    expect(world.metricCalls()).toHaveLength(0);
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'skipped', reportedStatus: 'Succeeded', lifecycleEventHookExecutionId: HOOK_ID, applicationName: APPLICATION });
    expect(verdict.reasons[0]).toContain(creator);
  });
});

describe('a deployment that finished', () => {
  it('before the hook ran: audited as Trigger Suppressed, nothing reported', async () => {
    const world = new World();
    world.deployment().statuses = ['Stopped'];

    const run = await world.bake();

    expect(run.final.next).toBe('done');
    expectReports(world, { accepted: [] });
    expect(expectAudit(world, AuditDetailType.TRIGGER_SUPPRESSED).reasons[0]).toMatch(/deployment already Stopped/);
  });

  it('mid-bake (stopped by an alarm): the next tick sees it, audits Trigger Suppressed and ends without a report', async () => {
    const world = new World({ traffic: traffic.clean() });
    // resolve reads InProgress; the tick at T0 + 60 too; then CodeDeploy stopped it.
    world.deployment().statuses = ['InProgress', 'InProgress', 'Stopped'];

    const run = await world.bake();

    expect(trace(run)).toEqual(['resolve→wait', 'tick→wait', 'tick→done']);
    expectReports(world, { accepted: [] });
    expect(world.metricCalls()).toHaveLength(2);
    expect(expectAudit(world, AuditDetailType.TRIGGER_SUPPRESSED, { lifecycleEventHookExecutionId: HOOK_ID, toVersion: '2' }).reasons[0]).toMatch(/Stopped during the bake/);
  });
});

describe('a deployment of another deployment group', () => {
  // Bug: it was baked with this group's metrics and reported.
  it('is refused with an escalation: no metrics read, nothing reported', async () => {
    const world = new World({ traffic: traffic.clean() });
    world.deployment().info = { ...world.deployment().info, applicationName: 'billing-app', deploymentGroupName: 'billing-dg' };

    const run = await world.bake();

    expect(run.final.next).toBe('done');
    expectReports(world, { accepted: [] });
    expect(world.metricCalls()).toHaveLength(0);
    expect(world.calls('ListDeploymentTargets')).toBe(0);
    // Named after this trigger's group, so that its notices rule forwards it; the foreign group is in the reasons.
    const escalation = expectAudit(world, AuditDetailType.ESCALATION_RAISED, { deploymentId: DEPLOYMENT_ID, applicationName: APPLICATION, deploymentGroupName: DEPLOYMENT_GROUP });
    expect(escalation.reasons[0]).toBe(
      `refused: deployment of group billing-app/billing-dg, this trigger guards ${APPLICATION}/${DEPLOYMENT_GROUP}; nothing was reported (its metrics are not this trigger's, and its IAM is scoped to its own group)`,
    );
  });
});

describe('a deployment that cannot be read', () => {
  // Bug: GetDeployment failing 5 times (~3 s) reported Succeeded.
  it('GetDeployment failing for the whole budget: retried a tick later, again and again; Succeeded with an escalation only at the deadline', async () => {
    const world = new World({ traffic: traffic.broken(1) });
    world.failAlways('GetDeployment', serverError);

    const run = await world.bake();

    expectReports(world, { accepted: ['Succeeded'] });
    expect(world.accepted[0].at).toBeGreaterThanOrEqual(DEADLINE);
    expect(world.accepted[0].at).toBeLessThan(DEADLINE + 120);
    // Every resolve retried for the step's budget (60 s), waited a tick and tried again, with the
    // count carried in the state: about one attempt every two minutes for 55 minutes.
    const resolves = run.steps.filter((s) => s.input.phase === 'resolve');
    expect(resolves.length).toBeGreaterThan(20);
    expect(resolves.slice(0, -1).every((s) => s.output.next === 'wait')).toBe(true);
    expect(resolves.at(-1)!.output).toMatchObject({ next: 'report', unreadable: resolves.length });
    expect(world.metricCalls()).toHaveLength(0);
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'skipped', reportedStatus: 'Succeeded' });
    // The deployment could not be read, yet the escalation names this trigger's group: the notices rule forwards it.
    const escalation = expectAudit(world, AuditDetailType.ESCALATION_RAISED, {
      lifecycleEventHookExecutionId: HOOK_ID,
      reportedStatus: 'Succeeded',
      applicationName: APPLICATION,
      deploymentGroupName: DEPLOYMENT_GROUP,
    });
    expect(escalation.reasons[0]).toMatch(/deadline reached without reading the deployment: reporting Succeeded so a possible rollback is never blocked/);
    expect(escalation.reasons[1]).toMatch(/GetDeployment could not be read \(\d+ attempts\): GetDeployment failed \(UnknownError/);
  });

  it('AccessDenied on GetDeployment for the first three minutes (IAM propagation): the bake starts late and judges normally', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.failDuring('GetDeployment', T0, T0 + 180, () => accessDenied('AccessDeniedException'));

    const run = await world.bake();

    expectReports(world, { accepted: ['Failed'] });
    expect(run.steps[0].output).toMatchObject({ phase: 'resolve', next: 'wait', unreadable: 1 });
    expect(world.accepted[0].at - T0).toBeGreaterThanOrEqual(180);
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed' });
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)).toEqual([]);
  });
});

describe('the deadline', () => {
  // A 54-minute bake of metrics 3 minutes old would end 57 minutes after the hook started; the
  // deadline (hook start + 55 min) comes first.
  const config = { bakeSeconds: 3_240 };

  it('reports pass with enough clean data at the deadline, and the last wait ends exactly there', async () => {
    const world = new World({ config, traffic: traffic.clean() });

    await world.bake();

    expectReports(world, { accepted: ['Succeeded'] });
    expect(world.accepted[0].at).toBe(DEADLINE);
    expect(expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'pass', reportedStatus: 'Succeeded' }).reasons[0]).toMatch(/one-hour hook limit is 300 s away/);
  });

  it('reports inconclusive as Failed without data when the deadline comes', async () => {
    const world = new World({ config, traffic: traffic.none() });

    await world.bake();

    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at).toBe(DEADLINE);
    expect(expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Failed' }).reasons[0]).toMatch(
      /one-hour hook limit .* without enough data \(inconclusive → Failed\)/,
    );
  });

  it('honours an execution deadline earlier than the margin, and never waits past it (tick interval not a divisor)', async () => {
    const world = new World({ config: { ...config, tickSeconds: 70 }, traffic: traffic.clean() });

    const run = await world.bake(world.initialState({ deadline: new Date((T0 + 1_500) * 1000).toISOString() }));

    expectReports(world, { accepted: ['Succeeded'] });
    expect(world.accepted[0].at).toBe(T0 + 1_500);
    const waits = run.steps.filter((s) => s.output.next === 'wait');
    expect(waits.at(-1)!.output.waitSeconds).toBe(1_500 % 70);
    expect(waits.every((s) => s.at + s.output.waitSeconds! <= T0 + 1_500)).toBe(true);
  });
});

describe('AfterAllowTestTraffic (ECS)', () => {
  it('no test traffic at all (Complete results, no datapoints) passes: test traffic flows only when someone sends it', async () => {
    const world = new World({ platform: 'ecs', lifecycleEvent: 'AfterAllowTestTraffic', traffic: traffic.none() });

    await world.bake();

    expectReports(world, { accepted: ['Succeeded'] });
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Succeeded', lifecycleEvent: 'AfterAllowTestTraffic' });
    expect(verdict.reasons[0]).toMatch(/too little test traffic at AfterAllowTestTraffic/);
  });

  it('broken test traffic still fails', async () => {
    const world = new World({ platform: 'ecs', lifecycleEvent: 'AfterAllowTestTraffic', traffic: traffic.broken(0.5) });

    await world.bake();

    expectReports(world, { accepted: ['Failed'] });
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', lifecycleEvent: 'AfterAllowTestTraffic' });
  });

  // Bug: GetMetricData denied on every call reported Succeeded at AfterAllowTestTraffic.
  it('GetMetricData denied on every call never passes: inconclusive → Failed with an escalation', async () => {
    const world = new World({ platform: 'ecs', lifecycleEvent: 'AfterAllowTestTraffic', traffic: traffic.none() });
    world.failAlways('GetMetricData', () => accessDenied());

    await world.bake();

    expectReports(world, { accepted: ['Failed'] });
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Failed' });
    expect(verdict.reasons[0]).toMatch(/metrics could not be read \(inconclusive → Failed\)/);
    expect(verdict.reasons.join('\n')).toMatch(/GetMetricData failed \(AccessDenied: User is not authorized.*configuration error/);
    expectAudit(world, AuditDetailType.ESCALATION_RAISED, { verdict: 'inconclusive' });
  });

  it('a Forbidden result for the test traffic’s error count never passes either', async () => {
    const world = new World({ platform: 'ecs', lifecycleEvent: 'AfterAllowTestTraffic', traffic: traffic.none() });
    world.statusModel = (id) => (id === 's0_canary_n' ? 'Forbidden' : undefined);

    await world.bake();

    expectReports(world, { accepted: ['Failed'] });
    expect(expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive' }).reasons.join('\n')).toMatch(/Forbidden for query s0_canary_n/);
  });
});

describe("CodeDeploy's clock, not the starter's", () => {
  const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
  // The starter stamped the execution input from its own clock four minutes after CodeDeploy
  // started the hook (its first invocation failed; Lambda retried it asynchronously).
  const late = T0 + 240;
  const lateInput = (world: World) => world.initialState({ hookStartedAt: late, deadline: iso(late + 3_300), reportBy: iso(late + 3_420) });
  // A bake longer than the deadline allows: only the deadline ends it.
  const config = { bakeSeconds: 3_240 };

  // Bug: the bake decided at the starter's start + 55 min (T0 + 59 min) and the machine's report-by
  // was T0 + 61 min: past CodeDeploy's hour, counted from its own start.
  it.each(['lambda', 'ecs'] as const)('%s: a starter 4 minutes late — the bake decides and reports by CodeDeploy’s start + the deadline, and every state carries the corrected clock', async (platform) => {
    const world = new World({ platform, config, traffic: traffic.clean() });
    world.now = late;

    const run = await world.bake(lateInput(world));

    expectReports(world, { accepted: ['Succeeded'] });
    expect(world.accepted[0].at).toBe(DEADLINE); // T0 + 55 min, not late + 55 min
    expect(expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'pass' }).reasons[0]).toMatch(/one-hour hook limit is 300 s away/);
    // What the machine's `Wait for the deadline` (TimestampPath $.deadline) and report-by check read.
    const corrected = { hookStartedAt: T0, deadline: iso(DEADLINE), reportBy: iso(REPORT_BY) };
    expect(run.steps[0].output).toMatchObject(corrected);
    for (const step of run.steps) expect(step.output).toMatchObject(corrected);
    // The last wait ends at the corrected deadline.
    const waits = run.steps.filter((s) => s.output.next === 'wait');
    expect(waits.every((s) => s.at + s.output.waitSeconds! <= DEADLINE)).toBe(true);
    expect(world.logs).toContainEqual(
      expect.objectContaining({ level: 'WARN', message: "hook clock moved back to CodeDeploy's lifecycle event start", extra: expect.objectContaining({ starterHookStartedAt: late, hookStartedAt: T0 }) }),
    );
  });

  it('no data at all: inconclusive → Failed at CodeDeploy’s start + the deadline, not the starter’s', async () => {
    const world = new World({ config, traffic: traffic.none() });
    world.now = late;

    await world.bake(lateInput(world));

    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at).toBe(DEADLINE);
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Failed' });
  });

  it.each<[string, number | undefined]>([
    ['later than the starter’s', late + 30],
    ['not given by the target', undefined],
  ])('a lifecycle event start %s: the starter’s clock stands', async (_name, startTime) => {
    const world = new World({ config, traffic: traffic.clean() });
    world.now = late + 60;
    world.hookStartTime = startTime;
    const input = lateInput(world);

    const out = await world.handler(input);

    expect(out).toMatchObject({ phase: 'tick', next: 'wait', hookStartedAt: late, deadline: input.deadline, reportBy: input.reportBy });
    expect(world.logs.some((l) => l.message.startsWith('hook clock moved back'))).toBe(false);
  });
});

describe('reportBy (the machine’s own deadline) travels with the state', () => {
  it('every step returns the input’s reportBy: resolve, each tick, and the audit after the report', async () => {
    const world = new World({ traffic: traffic.clean() });

    const run = await world.bake();

    expect(trace(run)).toEqual(['resolve→wait', ...Array(12).fill('tick→wait'), 'tick→report', 'reported→done']);
    for (const step of run.steps) {
      expect(step.input.reportBy).toBe(new Date(REPORT_BY * 1000).toISOString());
      expect(step.output.reportBy).toBe(step.input.reportBy);
    }
  });

  it('a tick’s output keeps it, whatever the tick decides', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    const resolved = await world.handler(world.initialState({ reportBy: '2026-01-15T12:57:00.000Z' }));
    expect(resolved.reportBy).toBe('2026-01-15T12:57:00.000Z');
    const tick = { ...resolved, phase: 'tick' as const, next: undefined, report: undefined };
    world.now += 60;

    const out = await world.handler(tick);

    expect(out).toMatchObject({ phase: 'tick', next: 'report', reportBy: '2026-01-15T12:57:00.000Z' });
  });

  it('an execution started before reportBy existed gets none', async () => {
    const world = new World({ traffic: traffic.clean() });

    const run = await world.bake(world.initialState({ reportBy: undefined }));

    for (const step of run.steps) expect('reportBy' in step.output).toBe(false);
  });
});
