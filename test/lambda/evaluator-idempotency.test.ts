/**
 * The step Lambda is stateless and may run twice with the same state (the machine retries a
 * crashed or lost step): the same state on the same data decides the same, and writes nothing a
 * repeat would change. A garbled state is refused loudly (the machine's Catch-all then reports the
 * fail-closed status) instead of acting on `undefined`.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditDetailType, type BakeState } from '../../lib/core';
import { DEPLOYMENT_ID, HOOK_ID, T0, World, expectAudit, traffic } from './fixtures';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the same step twice', () => {
  it('resolve: the same decision, and no report is made by the step itself', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    const state = world.initialState();

    const first = await world.handler(state);
    const second = await world.handler(state);

    expect(second).toEqual(first);
    expect(first).toMatchObject({ next: 'report', report: { status: 'Failed', verdict: 'fail' } });
    expect(world.reportCalls()).toEqual([]); // the machine reports, once
  });

  it('a tick: the same next state on the same data', async () => {
    const world = new World({ traffic: traffic.clean() });
    const resolved = await world.handler(world.initialState());
    world.now += resolved.waitSeconds!;

    const first = await world.handler(resolved);
    const second = await world.handler(resolved);

    expect(second).toEqual(first);
    expect(first).toMatchObject({ phase: 'tick', next: 'wait', waitSeconds: 60, ticks: 2 });
  });

  it('a tick that crashed half-way (a bug) throws, and its retry decides as if nothing had happened', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    const resolved = await world.handler(world.initialState());
    const tickState: BakeState = { ...resolved, phase: 'tick', next: 'wait', report: undefined };
    // A crash that is no AWS failure: the step must not swallow it as "metrics unreadable".
    world.failNext('GetMetricData', new TypeError("Cannot read properties of undefined (reading 'Values')"));

    await expect(world.handler(tickState)).rejects.toThrow(TypeError);
    const retried = await world.handler(tickState);

    expect(retried).toMatchObject({ next: 'report', report: { status: 'Failed', verdict: 'fail' } });
    expect(world.audits(AuditDetailType.DEPLOYMENT_VERDICT)).toEqual([]); // audited only once reported
  });

  it('reported twice: the same audit event twice, with the same idempotency key; the first bad signal stays the earliest', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    const decided = await world.handler(world.initialState());
    const reported: BakeState = { ...decided, phase: 'reported' };

    world.now += 5;
    await world.handler(reported);
    world.now += 30;
    await world.handler(reported);

    const verdicts = world.audits(AuditDetailType.DEPLOYMENT_VERDICT);
    expect(verdicts).toHaveLength(2);
    expect(verdicts[1].idempotencyKey).toBe(verdicts[0].idempotencyKey);
    expect(verdicts[0].idempotencyKey).toBe(`DeploymentVerdict:${DEPLOYMENT_ID}:${HOOK_ID}:fail`);
    expect(world.knownGood.badSignals.get(DEPLOYMENT_ID)).toBe(T0); // when the step decided, not when it audited
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { reportedStatus: 'Failed' });
  });
});

describe('a garbled state is refused with a clear error', () => {
  const world = () => new World();
  const valid = () => world().initialState();

  it.each<[string, unknown, RegExp]>([
    ['null', null, /invalid bake state: expected an object, got null/],
    ['a string', 'd-RELEASE01', /invalid bake state: expected an object, got string/],
    ['an array', [], /invalid bake state: expected an object, got an array/],
    ['no deployment id', { ...valid(), deploymentId: undefined }, /deploymentId must be a non-empty string/],
    ['an empty hook id', { ...valid(), lifecycleEventHookExecutionId: '' }, /lifecycleEventHookExecutionId must be a non-empty string/],
    ['no hook start', { ...valid(), hookStartedAt: 'soon' }, /hookStartedAt must be epoch seconds/],
    ['a deadline that is no instant', { ...valid(), deadline: 'tomorrow' }, /deadline must be an ISO-8601 instant/],
    ['an unknown phase', { ...valid(), phase: 'bake' }, /phase must be one of resolve, tick, reported, already-completed, report-failed/],
    ['a tick without the arms', { ...valid(), phase: 'tick' }, /a tick needs context\.arms/],
    ['a tick without its window', { ...valid(), phase: 'tick', context: { arms: [{ arm: 'canary', dimensions: {} }] } }, /a tick needs context\.windowStart/],
    ['reported without the report', { ...valid(), phase: 'reported' }, /phase reported needs the report that was sent/],
  ])('%s', async (_name, input, message) => {
    const w = world();
    await expect(w.handler(input as BakeState)).rejects.toThrow(message);
    expect(w.calls('GetDeployment')).toBe(0);
    expect(w.delivered).toEqual([]);
  });
});
