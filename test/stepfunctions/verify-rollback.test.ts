/**
 * Post-rollback verification end to end: the SYNTHESIZED verification machine of a trigger with
 * `verifyRollback` runs on aws-local-stepfunctions with the execution input the state-change
 * handler starts it with (core's verifyInput), its Lambda tasks on the real evaluator against the
 * fake AWS world. The restored version is the rollback deployment's target.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditDetailType, type BakeState, EMPTY_BREAKER, verifyInput } from '../../lib/core';
import { APPLICATION, DEPLOYMENT_GROUP, DEPLOYMENT_ID, T0, World, expectAudit, traffic } from '../lambda/fixtures';
import { bakeDefinition, runMachine } from './machine';

const ROLLBACK_ID = 'd-ROLLBACK1';
const SETTINGS = { durationSeconds: 600, metricDelaySeconds: 180 };

let definition: Record<string, unknown>;
beforeAll(() => {
  definition = bakeDefinition({ verifyRollback: {} }, 'FollowUp');
});
afterEach(() => {
  vi.restoreAllMocks();
});

function verify(world: World, evaluate: (state: BakeState) => Promise<BakeState> | BakeState = (s) => world.handler(s)) {
  return runMachine({
    definition,
    input: verifyInput(ROLLBACK_ID, T0, SETTINGS, DEPLOYMENT_ID, 420),
    evaluate,
    clock: {
      now: () => world.now,
      advance: (s) => {
        world.now += s;
      },
    },
  });
}

describe('post-rollback verification on the synthesized machine', () => {
  it('a healthy restored version: Rollback Verified after the duration, with the time to recovery; nothing reported to CodeDeploy', async () => {
    const world = new World({ traffic: traffic.clean() });
    const run = await verify(world);
    expect(run.status).toBe('SUCCEEDED');
    const verified = expectAudit(world, AuditDetailType.ROLLBACK_VERIFIED, {
      rollbackDeploymentId: ROLLBACK_ID,
      deploymentId: ROLLBACK_ID,
      timeToRecoverySeconds: 420,
      verdict: 'pass',
      applicationName: APPLICATION,
      deploymentGroupName: DEPLOYMENT_GROUP,
    });
    expect(verified.lifecycleEventHookExecutionId).toBeUndefined();
    expect(verified.reasons[0]).toBe(`the restored version 2 held its SLOs and health checks after the rollback of ${DEPLOYMENT_ID}`);
    // Not before the duration plus the metric delay was read.
    expect(world.now - T0).toBeGreaterThanOrEqual(600 + 180);
    expect(world.reportCalls()).toHaveLength(0);
  });

  it('an unhealthy restored version: Rollback Unhealthy and an escalation (the problem is not the release), counted by the circuit breaker', async () => {
    const world = new World({ traffic: traffic.broken(0.3), config: { breaker: { maxRollbacks: 3, windowSeconds: 3_600, cooldownSeconds: 3_600 }, approval: { timeoutSeconds: 1_800, escalateInconclusive: false } } });
    const run = await verify(world);
    expect(run.status).toBe('SUCCEEDED');
    const unhealthy = expectAudit(world, AuditDetailType.ROLLBACK_UNHEALTHY, { rollbackDeploymentId: ROLLBACK_ID, verdict: 'fail' });
    expect(unhealthy.reasons[0]).toBe(`the restored version is unhealthy too after the rollback of ${DEPLOYMENT_ID}: the problem is not the release (a dependency, data, configuration every version shares)`);
    expectAudit(world, AuditDetailType.ESCALATION_RAISED, { rollbackDeploymentId: ROLLBACK_ID });
    // Decided as soon as the page tier's short window (5 min) of minutes after the rollback is read
    // (plus the 3-min metric delay), before the 10-min duration is over.
    expect(world.now - T0).toBeLessThan(600);
    const record = world.knownGood.breakers.get(`${APPLICATION}#${DEPLOYMENT_GROUP}`) ?? EMPTY_BREAKER;
    expect(record.rollbacks.map((r) => r.deploymentId)).toEqual([`unhealthy:${ROLLBACK_ID}`]);
    expect(world.reportCalls()).toHaveLength(0);
  });

  it('no data for the restored version: not verified, escalated at the deadline (never "verified" without evidence)', async () => {
    const world = new World({ traffic: traffic.none() });
    await verify(world);
    expect(world.audits(AuditDetailType.ROLLBACK_VERIFIED)).toHaveLength(0);
    const escalation = expectAudit(world, AuditDetailType.ESCALATION_RAISED, { rollbackDeploymentId: ROLLBACK_ID });
    expect(escalation.reasons[0]).toMatch(new RegExp(`^the rollback of ${DEPLOYMENT_ID} could not be verified`));
  });

  it('an evaluator that cannot run: the machine audits an escalation itself and fails, never silently', async () => {
    const world = new World({ traffic: traffic.clean() });
    const run = await verify(world, () => {
      throw Object.assign(new Error('boom'), { name: 'Error' });
    });
    expect(run.status).toBe('FAILED');
    expect(run.auditEntries).toHaveLength(1);
    expect(run.auditEntries[0]).toMatchObject({ DetailType: AuditDetailType.ESCALATION_RAISED, Detail: { deploymentId: ROLLBACK_ID, rollbackDeploymentId: ROLLBACK_ID, deploymentGroupName: expect.any(String) } });
    expect((run.auditEntries[0].Detail.reasons as string[])[0]).toMatch(new RegExp(`^the follow-up \\(verify\\) of deployment ${ROLLBACK_ID} stopped: the evaluator could not run`));
  });
});
