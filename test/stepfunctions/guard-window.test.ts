/**
 * The guard window end to end: the SYNTHESIZED follow-up machine of a trigger with
 * `guardWindow: 2 h` runs on aws-local-stepfunctions with the execution input the state-change
 * handler starts it with (core's guardInput, the known-good version recorded before the release as
 * `rollbackTo`), its Lambda tasks on the real follow-up function against the fake AWS world. The
 * release moved the alias from version 1 (known-good) to version 2.
 */
import { Duration } from 'aws-cdk-lib';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { TriggerMode } from '../../lib';
import { AuditDetailType, type BakeState, GUARD_ROLLBACK_DESCRIPTION, type KnownGood, guardInput, libraryRollbackOf } from '../../lib/core';
import { ALIAS, APPLICATION, DEPLOYMENT_GROUP, DEPLOYMENT_ID, FUNCTION_NAME, SHA_V1, T0, type TrafficModel, World, awsError, expectAudit } from '../lambda/fixtures';
import { bakeDefinition, clockOf, runMachine } from './machine';

const WINDOW_SECONDS = 7_200;
const SETTINGS = { durationSeconds: WINDOW_SECONDS, metricDelaySeconds: 180 };
const KNOWN_GOOD: KnownGood = { version: '1', integrity: SHA_V1 };

let definition: Record<string, unknown>;
beforeAll(() => {
  definition = bakeDefinition({ guardWindow: Duration.hours(2) }, 'FollowUp');
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** The release's own traffic: healthy, then 30 % of its requests failing from `from` (epoch seconds) on. */
function regressionFrom(from: number): TrafficModel {
  return (id, minute) => (id.endsWith('_t') ? 1_000 : id.startsWith('s0_canary') && minute >= from ? 300 : 0);
}

const healthy: TrafficModel = (id) => (id.endsWith('_t') ? 1_000 : 0);

function guard(world: World, options: { input?: BakeState; evaluate?: (state: BakeState) => Promise<BakeState> | BakeState; definition?: Record<string, unknown> } = {}) {
  return runMachine({
    definition: options.definition ?? definition,
    input: options.input ?? guardInput(DEPLOYMENT_ID, T0, SETTINGS, KNOWN_GOOD),
    evaluate: options.evaluate ?? ((s) => world.handler(s)),
    clock: clockOf(world),
  });
}

describe('the guard window on the synthesized machine', () => {
  it('a healthy release: the window ends quietly after its duration, no rollback deployment, nothing audited', async () => {
    const world = new World({ traffic: healthy });
    const run = await guard(world);
    expect(run.status, run.error).toBe('SUCCEEDED');
    expect(run.path[run.path.length - 1]).toBe('Done');
    // Judged for the whole window (read after the metric delay), and not much longer.
    expect(world.now - T0).toBeGreaterThanOrEqual(WINDOW_SECONDS + 180);
    expect(world.now - T0).toBeLessThan(WINDOW_SECONDS + 180 + 180);
    expect(world.createdDeployments).toEqual([]);
    expect(world.delivered).toEqual([]);
    // The group was watched for a newer deployment on every tick.
    expect(world.calls('GetDeploymentGroup')).toBeGreaterThan(100);
  });

  it('a regression 30 min after the success: exactly one rollback deployment to the known-good version, audited as Rollback Triggered (guard-window)', async () => {
    const world = new World({ traffic: regressionFrom(T0 + 1_800) });
    const run = await guard(world);
    expect(run.status, run.error).toBe('SUCCEEDED');
    expect(world.createdDeployments).toHaveLength(1);
    const created = world.createdDeployments[0];
    expect(created).toMatchObject({
      applicationName: APPLICATION,
      deploymentGroupName: DEPLOYMENT_GROUP,
      revision: { revisionType: 'AppSpecContent' },
      deploymentConfigName: 'CodeDeployDefault.LambdaAllAtOnce',
      autoRollbackConfiguration: { enabled: false },
      overrideAlarmConfiguration: { enabled: false },
      description: `${GUARD_ROLLBACK_DESCRIPTION}${DEPLOYMENT_ID}`,
    });
    // The state-change handler reads the release back from the description.
    expect(libraryRollbackOf(created.description)).toBe(DEPLOYMENT_ID);
    const appSpec = JSON.parse(created.revision!.appSpecContent!.content!);
    expect(Object.values(appSpec.Resources[0])).toEqual([{ Type: 'AWS::Lambda::Function', Properties: { Name: FUNCTION_NAME, Alias: ALIAS, CurrentVersion: '2', TargetVersion: '1' } }]);

    const triggered = expectAudit(world, AuditDetailType.ROLLBACK_TRIGGERED, {
      deploymentId: DEPLOYMENT_ID,
      reason: 'guard-window',
      verdict: 'fail',
      rollbackDeploymentId: world.latestDeploymentId,
      fromVersion: '2',
      toVersion: '1',
    });
    expect(world.audits(AuditDetailType.ROLLBACK_TRIGGERED)).toHaveLength(1);
    expect(triggered.lifecycleEventHookExecutionId).toBeUndefined();
    expect(triggered.wouldRollback).toBeUndefined();
    expect(triggered.reasons[0]).toBe(
      `guard window: the release ${DEPLOYMENT_ID} had succeeded, and its page tier breached afterwards on its own traffic: rollback deployment ${world.latestDeploymentId} started to the known-good version 1 (from 2)`,
    );
    // Caught on the page tier's short window once the bad minutes were published, not at the end of the window.
    expect(world.now - T0).toBeGreaterThan(1_800);
    expect(world.now - T0).toBeLessThan(1_800 + 180 + 600);
    // The release is no version to go back to: its first bad signal is kept.
    expect(world.knownGood.badSignals.has(DEPLOYMENT_ID)).toBe(true);
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)).toEqual([]);
  });

  it('a regression after the first hour of a 2-hour window is still rolled back (the window is not cut at the hook hour)', async () => {
    const world = new World({ traffic: regressionFrom(T0 + 5_400) });
    const run = await guard(world);
    expect(run.status, run.error).toBe('SUCCEEDED');
    expect(world.createdDeployments).toHaveLength(1);
    expectAudit(world, AuditDetailType.ROLLBACK_TRIGGERED, { reason: 'guard-window', rollbackDeploymentId: world.latestDeploymentId });
    expect(world.now - T0).toBeGreaterThan(5_400);
  });

  it('a redriven execution of the same input creates no second rollback deployment', async () => {
    const world = new World({ traffic: regressionFrom(T0 + 1_800) });
    await guard(world);
    const rollbackId = world.latestDeploymentId;
    expect(world.createdDeployments).toHaveLength(1);

    // Again as it is: the rollback deployment is the group's latest, so the window ends at once.
    const again = await guard(world);
    expect(again.status, again.error).toBe('SUCCEEDED');
    expect(world.createdDeployments).toHaveLength(1);
    expect(world.audits(AuditDetailType.ROLLBACK_TRIGGERED)).toHaveLength(1);

    // Again with the group unreadable (no newer deployment seen): the claim alone stops it, and
    // the audit repeats what was done, with the same idempotency key.
    world.failAlways('GetDeploymentGroup', () => awsError('DeploymentGroupDoesNotExistException', 400));
    const third = await guard(world);
    expect(third.status, third.error).toBe('SUCCEEDED');
    expect(world.createdDeployments).toHaveLength(1);
    const triggered = world.audits(AuditDetailType.ROLLBACK_TRIGGERED);
    expect(triggered).toHaveLength(2);
    expect(triggered[1].rollbackDeploymentId).toBe(rollbackId);
    expect(triggered[1].idempotencyKey).toBe(triggered[0].idempotencyKey);
  });

  it('a newer deployment of the group ends the window: no rollback of a release that no longer serves', async () => {
    const world = new World({ traffic: regressionFrom(T0 + 1_800) });
    const run = await guard(world, {
      evaluate: (state) => {
        // The next release starts 20 minutes in, before the regression shows.
        if (world.now >= T0 + 1_200) world.latestDeploymentId = 'd-NEXTREL01';
        return world.handler(state);
      },
    });
    expect(run.status, run.error).toBe('SUCCEEDED');
    expect(world.now - T0).toBeLessThan(1_800);
    expect(world.createdDeployments).toEqual([]);
    expect(world.delivered).toEqual([]);
  });

  it('a newer deployment that starts while the breach is judged: escalated, not rolled back', async () => {
    const world = new World({ traffic: regressionFrom(T0 + 1_800) });
    // The next release is created once the breach is seen (its first bad signal recorded), after the tick's first check.
    const record = world.knownGood.recordFirstBadSignal.bind(world.knownGood);
    world.knownGood.recordFirstBadSignal = async (deploymentId, at) => {
      world.latestDeploymentId = 'd-NEXTREL01';
      return record(deploymentId, at);
    };
    const run = await guard(world);
    expect(run.status, run.error).toBe('SUCCEEDED');
    expect(world.createdDeployments).toEqual([]);
    expect(world.audits(AuditDetailType.ROLLBACK_TRIGGERED)).toEqual([]);
    const escalation = expectAudit(world, AuditDetailType.ESCALATION_RAISED, { deploymentId: DEPLOYMENT_ID, reason: 'guard-window' });
    expect(escalation.reasons[0]).toMatch(/but deployment d-NEXTREL01 started since: not rolled back by the guard window$/);
  });

  it.each([
    { case: 'altered since it was recorded (CodeSha256 mismatch)', arrange: (w: World) => w.functionVersions.set('1', 'tamperedCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC='), rollbackTo: KNOWN_GOOD, why: /the known-good version 1 was altered since it was recorded/ },
    { case: 'deleted', arrange: (w: World) => w.functionVersions.delete('1'), rollbackTo: KNOWN_GOOD, why: /the known-good version 1 no longer exists/ },
    { case: 'never recorded', arrange: () => undefined, rollbackTo: undefined, why: /no known-good version was recorded before the release: a human must roll it back/ },
  ])('a known-good version $case: escalated, no rollback deployment', async ({ arrange, rollbackTo, why }) => {
    const world = new World({ traffic: regressionFrom(T0 + 1_800) });
    arrange(world);
    const run = await guard(world, { input: guardInput(DEPLOYMENT_ID, T0, SETTINGS, rollbackTo) });
    expect(run.status, run.error).toBe('SUCCEEDED');
    expect(world.createdDeployments).toEqual([]);
    expect(world.knownGood.claims.size).toBe(0);
    expect(world.audits(AuditDetailType.ROLLBACK_TRIGGERED)).toEqual([]);
    const escalation = expectAudit(world, AuditDetailType.ESCALATION_RAISED, { deploymentId: DEPLOYMENT_ID, reason: 'guard-window', verdict: 'fail' });
    expect(escalation.reasons[0]).toMatch(why);
  });

  it('shadow mode: the breach is audited with wouldRollback, and nothing is deployed', async () => {
    const shadowDefinition = bakeDefinition({ guardWindow: Duration.hours(2), mode: TriggerMode.SHADOW }, 'FollowUp');
    const world = new World({ traffic: regressionFrom(T0 + 1_800), config: { mode: 'shadow' } });
    const run = await guard(world, { definition: shadowDefinition });
    expect(run.status, run.error).toBe('SUCCEEDED');
    expect(world.createdDeployments).toEqual([]);
    expect(world.knownGood.claims.size).toBe(0);
    const triggered = expectAudit(world, AuditDetailType.ROLLBACK_TRIGGERED, { reason: 'guard-window', wouldRollback: true, toVersion: '1' });
    expect(triggered.rollbackDeploymentId).toBeUndefined();
    expect(triggered.reasons[0]).toMatch(/^shadow mode: guard window: .* a rollback deployment would have been started$/);
  });

  it('an evaluator that cannot run: the machine audits an escalation itself and fails, never silently', async () => {
    const world = new World({ traffic: regressionFrom(T0 + 1_800) });
    const run = await guard(world, {
      evaluate: () => {
        throw Object.assign(new Error('boom'), { name: 'Error' });
      },
    });
    expect(run.status).toBe('FAILED');
    expect(run.path).toContain('Audit follow-up failure');
    expect(run.auditEntries).toHaveLength(1);
    expect(run.auditEntries[0]).toMatchObject({ DetailType: AuditDetailType.ESCALATION_RAISED, Detail: { deploymentId: DEPLOYMENT_ID } });
    // The guard window's escalation is the release's: no rollback deployment is named.
    expect(run.auditEntries[0].Detail.rollbackDeploymentId).toBeUndefined();
    expect((run.auditEntries[0].Detail.reasons as string[])[0]).toMatch(new RegExp(`^the follow-up \\(guard\\) of deployment ${DEPLOYMENT_ID} stopped: the evaluator could not run \\(`));
    expect(world.createdDeployments).toEqual([]);
  });
});
