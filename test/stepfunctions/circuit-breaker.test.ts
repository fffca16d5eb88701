/**
 * The circuit breaker end to end on the SYNTHESIZED state machine of a trigger with a
 * `circuitBreaker` (aws-local-stepfunctions, the real evaluator, the fake AWS world): the breaker's
 * record is built with core's own rules (four rollbacks within the hour), then a release the
 * evaluator would roll back asks a human while the breaker is open, and acts alone once it is
 * half-open, closed, or unreadable.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Duration } from 'aws-cdk-lib';
import {
  APPROVAL_LAST_END_SECONDS,
  APPROVAL_REJECTED_ERROR,
  AuditDetailType,
  type BreakerRecord,
  type BreakerSettings,
  EMPTY_BREAKER,
  MAX_DEADLINE_SECONDS,
  STATES_TIMEOUT_ERROR,
  breakerState,
  closeByHuman,
  recordRollback,
} from '../../lib/core';
import { APPLICATION, DEPLOYMENT_GROUP, DEPLOYMENT_ID, T0, World, expectAudit, expectReports, throttling, traffic } from '../lambda/fixtures';
import { type RunOptions, bakeDefinition } from './machine';
import { gatedInput, runInWorld } from './world-run';

const SETTINGS: BreakerSettings = { maxRollbacks: 3, windowSeconds: 3_600, cooldownSeconds: 3_600 };
/** The default gate's deadline: 52 min − the 30-min wait. */
const DEADLINE_SECONDS = APPROVAL_LAST_END_SECONDS - 1_800;

let definition: Record<string, unknown>;
beforeAll(() => {
  definition = bakeDefinition({ circuitBreaker: { maxRollbacks: 3, window: Duration.hours(1), cooldown: Duration.hours(1) } });
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** The group's record after `count` rollbacks, the last `minutesAgo` before T0, ten minutes apart. */
function afterRollbacks(count: number, lastMinutesAgo: number): BreakerRecord {
  let record = EMPTY_BREAKER;
  for (let i = 0; i < count; i++) {
    const at = T0 - (lastMinutesAgo + (count - 1 - i) * 10) * 60;
    record = recordRollback(record, `d-EARLIER0${i}`, at, at, SETTINGS)!.record;
  }
  return record;
}

/** A world whose evaluator has the breaker (as RollbackTrigger configures it) and the given record. */
function worldWith(record: BreakerRecord, trafficModel = traffic.broken(0.3)): World {
  const world = new World({
    traffic: trafficModel,
    config: { approval: { timeoutSeconds: 1_800, escalateInconclusive: false }, breaker: SETTINGS, deadlineMarginSeconds: 3_600 - DEADLINE_SECONDS },
  });
  world.knownGood.breakers.set(`${APPLICATION}#${DEPLOYMENT_GROUP}`, record);
  return world;
}

function bake(world: World, answer?: RunOptions['answer']) {
  return runInWorld(world, definition, gatedInput(DEADLINE_SECONDS), answer);
}

describe('the circuit breaker on the synthesized machine', () => {
  it('opens on the 4th rollback within the hour (core’s rule), not on the 3rd', () => {
    expect(breakerState(afterRollbacks(3, 5), T0, SETTINGS)).toBe('closed');
    expect(breakerState(afterRollbacks(4, 5), T0, SETTINGS)).toBe('open');
  });

  it('open: a release the evaluator would roll back asks a human first, with the breaker’s numbers; a rejection rolls it back', async () => {
    const world = worldWith(afterRollbacks(4, 5));
    let asked: Record<string, any> | undefined;
    await bake(world, (entry) => {
      asked = entry.Detail;
      throw Object.assign(new Error(JSON.stringify({ approvedBy: 'sam' })), { name: APPROVAL_REJECTED_ERROR });
    });
    expect(asked?.verdict).toBe('fail');
    expect(asked?.approval).toMatchObject({ kind: 'breaker', onApprove: 'Succeeded', onReject: 'Failed', onTimeout: 'Failed' });
    expect(asked?.approval.question).toMatch(/circuit breaker is open: 4 rollbacks of this deployment group within 1 h \(more than 3\)/);
    expectReports(world, { accepted: ['Failed'] });
    const answered = expectAudit(world, AuditDetailType.APPROVAL_ANSWERED, { verdict: 'fail', approval: { result: 'rejected', answeredBy: 'sam', kind: 'breaker' } });
    expect(answered).not.toHaveProperty('reportedStatus');
    expect(answered.reasons[0]).toBe('rejected by sam: Failed');
    // A rolled-back release is judged bad, as without a breaker.
    expect(world.knownGood.badSignals.has(DEPLOYMENT_ID)).toBe(true);
  });

  it('open, nobody answers: rolled back anyway when the wait ends (the breaker only holds a rollback for a human)', async () => {
    const world = worldWith(afterRollbacks(4, 5));
    await bake(world, (entry) => {
      world.now += entry.Detail.approval.timeoutSeconds;
      throw Object.assign(new Error('timed out'), { name: STATES_TIMEOUT_ERROR });
    });
    expectReports(world, { accepted: ['Failed'] });
    // The wait ended by hook start + 52 min; the report follows within a step, before report-by.
    expect(world.accepted[0].at - T0).toBeLessThanOrEqual(APPROVAL_LAST_END_SECONDS + 130);
    expect(world.accepted[0].at - T0).toBeLessThan(MAX_DEADLINE_SECONDS);
  });

  it('open, approved without closing the breaker: the release continues, but it was judged bad — never recorded as a known-good version', async () => {
    const world = worldWith(afterRollbacks(4, 5));
    let askedAt = 0;
    await bake(world, () => {
      askedAt = world.now;
      world.now += 300;
      return { approvedBy: 'jane', reason: 'the dependency is down, not the release' };
    });
    expectReports(world, { accepted: ['Succeeded'] });
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Succeeded', approval: { result: 'approved', answeredBy: 'jane' } });
    // The first bad signal is the failing verdict (decided before the question): the state-change
    // handler reads it on the release's SUCCESS and records no known-good version.
    const firstBad = world.knownGood.badSignals.get(DEPLOYMENT_ID);
    expect(firstBad).toBeDefined();
    expect(firstBad!).toBeLessThanOrEqual(askedAt);
    expect(firstBad!).toBeGreaterThanOrEqual(T0);
    // The breaker stays open: only --close-breaker (or the cooldown) closes it.
    expect(breakerState(world.knownGood.breakers.get(`${APPLICATION}#${DEPLOYMENT_GROUP}`)!, world.now, SETTINGS)).toBe('open');
    expect(world.audits(AuditDetailType.CIRCUIT_CLOSED)).toHaveLength(0);
  });

  it('open: an approval with --close-breaker lets the release continue and closes the breaker, audited', async () => {
    const world = worldWith(afterRollbacks(4, 5));
    const lines: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    await bake(world, () => ({ approvedBy: 'jane', closeBreaker: true, reason: 'the shared dependency is fixed' }));
    vi.mocked(process.stdout.write).mockRestore();
    expectReports(world, { accepted: ['Succeeded'] });
    const answered = expectAudit(world, AuditDetailType.APPROVAL_ANSWERED, { verdict: 'fail', approval: { result: 'approved', answeredBy: 'jane' } });
    expect(answered).not.toHaveProperty('reportedStatus');
    expect(answered.reasons.slice(0, 2)).toEqual(['approved by jane (the shared dependency is fixed): Succeeded', 'the answer closed the circuit breaker']);
    // Let through on a human's word, not on evidence: still no known-good version.
    expect(world.knownGood.badSignals.has(DEPLOYMENT_ID)).toBe(true);
    const stored = world.knownGood.breakers.get(`${APPLICATION}#${DEPLOYMENT_GROUP}`)!;
    expect(stored.openedAt).toBeUndefined();
    // The count starts again from the close.
    expect(stored.clearedAt).toBe(world.now);
    expect(breakerState(stored, world.now, SETTINGS)).toBe('closed');
    const closed = expectAudit(world, AuditDetailType.CIRCUIT_CLOSED, { deploymentGroupName: DEPLOYMENT_GROUP });
    expect(closed.reasons[0]).toMatch(/^closed by jane after/);
    // The metric: CircuitOpen = 0 for the group, in embedded metric format.
    const metric = lines.map((l) => l.trim()).filter((l) => l.includes('"CircuitOpen"')).map((l) => JSON.parse(l));
    expect(metric).toEqual([expect.objectContaining({ CircuitOpen: 0, DeploymentGroup: DEPLOYMENT_GROUP })]);
  });

  it('open, the breaker closed meanwhile (another answer): --close-breaker says the same words, and no second Circuit Closed', async () => {
    const world = worldWith(afterRollbacks(4, 5));
    const key = `${APPLICATION}#${DEPLOYMENT_GROUP}`;
    let bySam: BreakerRecord | undefined;
    await bake(world, () => {
      // While this question waits, someone closes the breaker through another execution's question.
      world.now += 120;
      bySam = closeByHuman(world.knownGood.breakers.get(key)!, 'sam', SETTINGS, world.now)!.record;
      world.knownGood.breakers.set(key, bySam);
      world.now += 60;
      return { approvedBy: 'jane', closeBreaker: true };
    });
    expectReports(world, { accepted: ['Succeeded'] });
    const answered = expectAudit(world, AuditDetailType.APPROVAL_ANSWERED, { approval: { result: 'approved', answeredBy: 'jane' } });
    expect(answered.reasons[1]).toBe('the answer closed the circuit breaker');
    // sam's close stands: this run wrote nothing and audited no transition.
    expect(world.knownGood.breakers.get(key)).toEqual(bySam);
    expect(world.audits(AuditDetailType.CIRCUIT_CLOSED)).toHaveLength(0);
  });

  it('half-open after the cooldown: the next rollback decision acts alone, at once', async () => {
    // Opened 65 minutes ago (the 4th rollback), cooldown 1 h.
    const world = worldWith(afterRollbacks(4, 65));
    expect(breakerState(afterRollbacks(4, 65), T0, SETTINGS)).toBe('half-open');
    const run = await bake(world);
    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at - T0).toBeLessThan(60);
    expect(run.path).not.toContain('Ask for approval');
  });

  it('closed (three rollbacks): acts alone', async () => {
    const world = worldWith(afterRollbacks(3, 5));
    const run = await bake(world);
    expectReports(world, { accepted: ['Failed'] });
    expect(run.path).not.toContain('Ask for approval');
  });

  it('a breaker that cannot be read never holds a rollback: it acts alone and says why', async () => {
    const world = worldWith(afterRollbacks(4, 5));
    world.failAlways('BreakerGet', throttling);
    const run = await bake(world);
    expectReports(world, { accepted: ['Failed'] });
    expect(run.path).not.toContain('Ask for approval');
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed' });
    expect(verdict.reasons.some((r) => r.includes('the circuit breaker could not be read'))).toBe(true);
  });

  it('a breaker alone does not make inconclusive verdicts ask: fail closed as configured', async () => {
    const world = worldWith(afterRollbacks(4, 5), traffic.clean(0));
    const run = await bake(world);
    expectReports(world, { accepted: ['Failed'] });
    expect(run.path).not.toContain('Ask for approval');
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive' });
  });
});
