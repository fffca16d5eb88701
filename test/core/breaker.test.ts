import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BreakerRecord,
  type BreakerSettings,
  type BreakerTransition,
  CIRCUIT_METRIC,
  EMPTY_BREAKER,
  breakerQuestion,
  breakerState,
  circuitMetricLine,
  closeByHuman,
  recordRollback,
  recordSuccess,
} from '../../lib/core/breaker';

// The circuit breaker's rules (lib/core/breaker.ts), shared by the state-change handler (which
// counts), the evaluator (which asks while it is open) and the approval answer (which closes it).
// The DynamoDB record is tested in test/lambda/breaker-store.test.ts, the counting handler in
// test/lambda/state-change-breaker.test.ts.

/** 2026-11-29T12:00:00Z, in epoch seconds. */
const T = Date.UTC(2026, 10, 29, 12) / 1000;
/** The defaults: more than 3 rollbacks within an hour open it; it half-opens an hour later. */
const S: BreakerSettings = { maxRollbacks: 3, windowSeconds: 3_600, cooldownSeconds: 3_600 };

/** Counts one rollback that ended `at` and is processed `now` (default: at once); it must change the record. */
function rollback(record: BreakerRecord, id: string, at: number, now = at, settings = S): { record: BreakerRecord; transition?: BreakerTransition } {
  const r = recordRollback(record, id, at, now, settings);
  if (!r) throw new Error(`rollback of ${id} at ${at} (now ${now}) changed nothing`);
  return r;
}

/** The record after rollbacks of d1, d2, … at these times (each processed when it ended). */
function after(times: readonly number[], settings = S, from: BreakerRecord = EMPTY_BREAKER): BreakerRecord {
  return times.reduce((record, at, i) => rollback(record, `d-${i + 1}`, at, at, settings).record, from);
}

/** Opened by four rollbacks ten minutes apart: open at T + 1800. */
const OPENED_AT = T + 1_800;
const opened = () => after([T, T + 600, T + 1_200, OPENED_AT]);

describe('counting rollbacks', () => {
  it('the 3rd rollback within the hour leaves it closed; the 4th opens it, naming the deployments', () => {
    const three = after([T, T + 600, T + 1_200]);
    expect(three).toEqual({
      rollbacks: [
        { deploymentId: 'd-1', at: T },
        { deploymentId: 'd-2', at: T + 600 },
        { deploymentId: 'd-3', at: T + 1_200 },
      ],
      version: 3,
    });
    expect(breakerState(three, T + 1_200, S)).toBe('closed');

    const fourth = rollback(three, 'd-4', OPENED_AT);
    expect(fourth.transition).toEqual({ to: 'open', reason: '4 rollbacks within 1 h (more than 3): d-1, d-2, d-3, d-4' });
    expect(fourth.record).toMatchObject({ openedAt: OPENED_AT, version: 4 });
    expect(fourth.record.rollbacks).toHaveLength(4);
    expect(breakerState(fourth.record, OPENED_AT, S)).toBe('open');
  });

  it('no transition is reported before the threshold', () => {
    let record = EMPTY_BREAKER;
    for (const [i, at] of [T, T + 600, T + 1_200].entries()) {
      const r = rollback(record, `d-${i + 1}`, at);
      expect(r.transition).toBeUndefined();
      expect(r.record.openedAt).toBeUndefined();
      record = r.record;
    }
  });

  it('not when the first of the four has left the window (window boundary: older than or exactly one window is out)', () => {
    // d-1 at T is exactly one window before T + 3600: out of it.
    const out = after([T, T + 1_200, T + 2_400, T + 3_600]);
    expect(out.openedAt).toBeUndefined();
    expect(out.rollbacks.map((r) => r.deploymentId)).toEqual(['d-2', 'd-3', 'd-4']);
    expect(breakerState(out, T + 3_600, S)).toBe('closed');

    // One second earlier, all four are within the hour.
    const within = after([T, T + 1_200, T + 2_400, T + 3_599]);
    expect(within.openedAt).toBe(T + 3_599);
  });

  it('with maxRollbacks 1 the second rollback opens it', () => {
    const one = { ...S, maxRollbacks: 1 };
    expect(after([T], one).openedAt).toBeUndefined();
    expect(after([T, T + 60], one).openedAt).toBe(T + 60);
  });

  it('a repeat of the same deployment’s event changes nothing (a retried or redriven event never counts twice)', () => {
    const record = after([T, T + 600]);
    expect(recordRollback(record, 'd-2', T + 600, T + 700, S)).toBeUndefined();
    // Even with another end time (a re-read of the deployment), or once open.
    expect(recordRollback(record, 'd-1', T + 650, T + 700, S)).toBeUndefined();
    expect(recordRollback(opened(), 'd-4', OPENED_AT, OPENED_AT + 60, S)).toBeUndefined();
  });

  it('an event older than the window is ignored (redriven from the dead-letter queue after its window passed)', () => {
    const record = after([T]);
    expect(recordRollback(record, 'd-OLD', T + 100 - 3_600, T + 100, S)).toBeUndefined();
    expect(recordRollback(record, 'd-OLD', T + 100 - 7_200, T + 100, S)).toBeUndefined();
    // One second inside the window it counts, at its own end time.
    const late = rollback(record, 'd-LATE', T + 101 - 3_600, T + 100);
    expect(late.record.rollbacks).toEqual([
      { deploymentId: 'd-LATE', at: T + 101 - 3_600 },
      { deploymentId: 'd-1', at: T },
    ]);
  });

  it('rollbacks are kept oldest first whatever order their events arrive in, and an end time in the future is clamped to now', () => {
    let record = rollback(EMPTY_BREAKER, 'd-B', T + 300, T + 400).record;
    record = rollback(record, 'd-A', T + 100, T + 400).record;
    record = rollback(record, 'd-C', T + 999, T + 400).record; // a deployment whose clock runs ahead
    expect(record.rollbacks).toEqual([
      { deploymentId: 'd-A', at: T + 100 },
      { deploymentId: 'd-B', at: T + 300 },
      { deploymentId: 'd-C', at: T + 400 },
    ]);
  });

  it('rollbacks that left the window are dropped from the record on the next write', () => {
    const record = after([T, T + 600, T + 1_200]);
    const later = rollback(record, 'd-9', T + 4_000);
    expect(later.record.rollbacks.map((r) => r.deploymentId)).toEqual(['d-2', 'd-3', 'd-9']);
    expect(later.transition).toBeUndefined();
  });
});

describe('open, half-open, closed', () => {
  it('a rollback while open is counted but keeps openedAt and makes no transition', () => {
    const r = rollback(opened(), 'd-5', OPENED_AT + 600);
    expect(r.transition).toBeUndefined();
    expect(r.record.openedAt).toBe(OPENED_AT);
    expect(r.record.rollbacks).toHaveLength(5);
    expect(r.record.version).toBe(5);
    expect(breakerState(r.record, OPENED_AT + 600, S)).toBe('open');
  });

  it('half-open once the cooldown has passed (boundary: exactly the cooldown)', () => {
    const record = opened();
    expect(breakerState(record, OPENED_AT + S.cooldownSeconds - 1, S)).toBe('open');
    expect(breakerState(record, OPENED_AT + S.cooldownSeconds, S)).toBe('half-open');
    expect(breakerState(record, OPENED_AT + 10 * S.cooldownSeconds, S)).toBe('half-open');
    expect(breakerState(EMPTY_BREAKER, T, S)).toBe('closed');
  });

  it('a rollback in half-open re-opens it, from now, whatever the count', () => {
    const now = OPENED_AT + S.cooldownSeconds + 120;
    const r = rollback(opened(), 'd-TRIAL', now);
    expect(r.transition).toEqual({ to: 'open', reason: 'deployment d-TRIAL rolled back during the half-open trial after the cooldown' });
    expect(r.record.openedAt).toBe(now);
    // Only the trial is within the window: one rollback, yet open (opened by the trial).
    expect(r.record.rollbacks).toEqual([{ deploymentId: 'd-TRIAL', at: now }]);
    expect(breakerState(r.record, now, S)).toBe('open');
    expect(breakerState(r.record, now + S.cooldownSeconds, S)).toBe('half-open');
  });

  it('a success in half-open closes it; a success while open (before the cooldown) does not; a success while closed changes nothing', () => {
    const record = opened();
    expect(recordSuccess(record, 'd-OK', OPENED_AT + S.cooldownSeconds - 1, S)).toBeUndefined();
    expect(recordSuccess(record, 'd-OK', OPENED_AT + 1, S)).toBeUndefined();
    expect(recordSuccess(after([T]), 'd-OK', T + 60, S)).toBeUndefined();
    expect(recordSuccess(EMPTY_BREAKER, 'd-OK', T, S)).toBeUndefined();

    const closed = recordSuccess(record, 'd-OK', OPENED_AT + S.cooldownSeconds, S);
    expect(closed?.transition).toEqual({ to: 'closed', reason: 'deployment d-OK succeeded after the cooldown' });
    expect(closed?.record.openedAt).toBeUndefined();
    expect(closed?.record.version).toBe(record.version + 1);
    expect(breakerState(closed!.record, OPENED_AT + S.cooldownSeconds, S)).toBe('closed');
    // The rollbacks still within the window are kept (here: none, the window is the cooldown).
    expect(closed?.record.rollbacks).toEqual([]);
  });

  it('closed by a success with a cooldown shorter than the window: the count starts again, so the next rollback does not re-open it', () => {
    const short = { ...S, cooldownSeconds: 600 };
    const record = after([T, T + 60, T + 120, T + 180], short);
    expect(record.openedAt).toBe(T + 180);
    const closed = recordSuccess(record, 'd-OK', T + 780, short)!;
    // Kept (a redelivered event of one of them is recognised), but no longer counted.
    expect(closed.record.rollbacks).toHaveLength(4);
    expect(closed.record.clearedAt).toBe(T + 780);
    const next = rollback(closed.record, 'd-5', T + 900, T + 900, short);
    expect(next.transition).toBeUndefined();
    expect(recordRollback(closed.record, record.rollbacks[1].deploymentId, T + 900, T + 900, short)).toBeUndefined();
  });

  it('closeByHuman clears the count and says who closed it, after how long, with the cooldown', () => {
    const record = opened();
    const closed = closeByHuman(record, 'alice@example.com', S, OPENED_AT + 1_800);
    expect(closed).toEqual({
      // Those still within the window are kept (to recognise a redelivery), the count starts again.
      record: { rollbacks: record.rollbacks.filter((r) => r.at > OPENED_AT + 1_800 - S.windowSeconds), clearedAt: OPENED_AT + 1_800, version: record.version + 1 },
      transition: { to: 'closed', reason: 'closed by alice@example.com after 30 min open (cooldown 1 h)' },
    });
    expect(breakerState(closed!.record, OPENED_AT + 1_800, S)).toBe('closed');
    // The rollbacks that opened it do not re-open it on the next one, and a redelivered one is not counted again.
    const next = rollback(closed!.record, 'd-5', OPENED_AT + 1_900);
    expect(next.transition).toBeUndefined();
    expect(next.record.rollbacks.filter((r) => r.at > OPENED_AT + 1_800)).toHaveLength(1);
    const stillKept = closed!.record.rollbacks[0].deploymentId;
    expect(recordRollback(closed!.record, stillKept, OPENED_AT + 1_900, OPENED_AT + 1_900, S)).toBeUndefined();
  });

  it('closeByHuman without a name says so; of a closed breaker it changes nothing; in half-open it closes too', () => {
    expect(closeByHuman(opened(), undefined, S, OPENED_AT + 90)?.transition.reason).toBe('closed by a human (the answer did not say who) after 90 s open (cooldown 1 h)');
    expect(closeByHuman(after([T]), 'bob', S, T + 60)).toBeUndefined();
    expect(closeByHuman(EMPTY_BREAKER, 'bob', S, T)).toBeUndefined();
    expect(closeByHuman(opened(), 'bob', S, OPENED_AT + 2 * S.cooldownSeconds)?.transition.reason).toBe('closed by bob after 2 h open (cooldown 1 h)');
  });
});

describe('the approval question and the metric', () => {
  it('the question names the count, the window, the threshold, the reason and when it half-opens', () => {
    const now = OPENED_AT + 60;
    const question = breakerQuestion(opened(), now, S, 'availability burned 14× its budget');
    expect(question).toContain('(availability burned 14× its budget)');
    expect(question).toContain('4 rollbacks of this deployment group within 1 h (more than 3)');
    expect(question).toContain(`until ${new Date((OPENED_AT + 3_600) * 1000).toISOString()}`);
    expect(question).toContain('2026-11-29T13:30:00.000Z');
    expect(question).toContain('--close-breaker');
  });

  it('the question counts only the rollbacks still within the window and formats minutes', () => {
    const settings = { maxRollbacks: 2, windowSeconds: 1_800, cooldownSeconds: 900 };
    const record = after([T, T + 60, T + 120], settings);
    expect(record.openedAt).toBe(T + 120);
    // At opening: 3 within the window, more than 2.
    expect(breakerQuestion(record, T + 130, settings, 'why')).toContain('3 rollbacks of this deployment group within 30 min (more than 2)');
    // Half an hour on, the first has aged out: it never says "2 (more than 2)".
    const question = breakerQuestion(record, T + 1_830, settings, 'why');
    expect(question).toContain('(2 rollbacks within 30 min)');
    expect(question).not.toContain('more than 2');
    expect(question).toContain(new Date((T + 120 + 900) * 1000).toISOString());
  });

  it.each([
    [true, 1],
    [false, 0],
  ])('the EMF line (open %s) parses back to namespace RollbackTriggers, metric CircuitOpen = %d, dimension DeploymentGroup', (open, value) => {
    const line = circuitMetricLine('orders-dg', open, T + 0.4567);
    expect(line).not.toContain('\n');
    const emf = JSON.parse(line);
    expect(emf._aws.Timestamp).toBe(Math.round((T + 0.4567) * 1000));
    expect(Number.isInteger(emf._aws.Timestamp)).toBe(true);
    expect(emf._aws.CloudWatchMetrics).toEqual([{ Namespace: 'RollbackTriggers', Dimensions: [['DeploymentGroup']], Metrics: [{ Name: 'CircuitOpen', Unit: 'Count' }] }]);
    expect(emf.DeploymentGroup).toBe('orders-dg');
    expect(emf.CircuitOpen).toBe(value);
    // The specification: every dimension and metric the directive names is a member of the root.
    const directive = emf._aws.CloudWatchMetrics[0];
    for (const d of directive.Dimensions.flat()) expect(typeof emf[d]).toBe('string');
    for (const m of directive.Metrics) expect(typeof emf[m.Name]).toBe('number');
    expect(CIRCUIT_METRIC).toEqual({ namespace: 'RollbackTriggers', metricName: 'CircuitOpen', dimension: 'DeploymentGroup' });
  });

  it('a group name that needs escaping survives the line', () => {
    const name = 'orders "blue"\\green\n';
    expect(JSON.parse(circuitMetricLine(name, true, T)).DeploymentGroup).toBe(name);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties over any sequence of events.

type Event =
  | { kind: 'rollback'; id: string; advance: number; lag: number }
  | { kind: 'success'; id: string; advance: number }
  | { kind: 'human'; advance: number };

const ids = fc.constantFrom('d-A', 'd-B', 'd-C', 'd-D', 'd-E', 'd-F', 'd-G', 'd-H');
const event: fc.Arbitrary<Event> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('rollback' as const), id: ids, advance: fc.integer({ min: 0, max: 2_400 }), lag: fc.integer({ min: -300, max: 5_000 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('success' as const), id: ids, advance: fc.integer({ min: 0, max: 2_400 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('human' as const), advance: fc.integer({ min: 0, max: 2_400 }) }) },
);
const settings: fc.Arbitrary<BreakerSettings> = fc.record({
  maxRollbacks: fc.integer({ min: 1, max: 5 }),
  windowSeconds: fc.integer({ min: 1, max: 120 }).map((m) => m * 60),
  cooldownSeconds: fc.integer({ min: 1, max: 120 }).map((m) => m * 60),
});

interface Step {
  readonly now: number;
  readonly event: Event;
  readonly before: BreakerRecord;
  readonly result: { record: BreakerRecord; transition?: BreakerTransition } | undefined;
}

/** Applies the events with a clock that only moves forward; every step, written or not. */
function run(events: readonly Event[], s: BreakerSettings): Step[] {
  let record = EMPTY_BREAKER;
  let now = T;
  const steps: Step[] = [];
  for (const e of events) {
    now += e.advance;
    const result =
      e.kind === 'rollback' ? recordRollback(record, e.id, now - e.lag, now, s) : e.kind === 'success' ? recordSuccess(record, e.id, now, s) : closeByHuman(record, 'someone', s, now);
    steps.push({ now, event: e, before: record, result });
    if (result) record = result.record;
  }
  return steps;
}

describe('properties', () => {
  it('the stored rollbacks are within the window, unique per deployment and oldest first', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), settings, (events, s) => {
        for (const { now, result } of run(events, s)) {
          if (!result) continue;
          const { rollbacks } = result.record;
          for (const r of rollbacks) {
            expect(r.at).toBeGreaterThan(now - s.windowSeconds);
            expect(r.at).toBeLessThanOrEqual(now);
          }
          expect(new Set(rollbacks.map((r) => r.deploymentId)).size).toBe(rollbacks.length);
          for (let i = 1; i < rollbacks.length; i++) expect(rollbacks[i - 1].at).toBeLessThanOrEqual(rollbacks[i].at);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the version increases by exactly 1 per write, and a step that writes nothing leaves the record as it was', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), settings, (events, s) => {
        let writes = 0;
        let last = EMPTY_BREAKER;
        for (const { before, result } of run(events, s)) {
          expect(before).toBe(last);
          if (!result) continue;
          writes++;
          expect(result.record.version).toBe(before.version + 1);
          last = result.record;
        }
        expect(last.version).toBe(writes);
      }),
      { numRuns: 300 },
    );
  });

  /** The rollbacks that count toward opening: those after the last close (the store keeps only those within the window). */
  const countedOf = (r: BreakerRecord) => r.rollbacks.filter((x) => r.clearedAt === undefined || x.at > r.clearedAt).length;

  it('it opens only with more than maxRollbacks in the window, or on a half-open trial; openedAt is set exactly by those transitions', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), settings, (events, s) => {
        for (const { now, event: e, before, result } of run(events, s)) {
          if (!result) continue;
          const state = breakerState(before, now, s);
          const { record, transition } = result;
          if (transition?.to === 'open') {
            expect(e.kind).toBe('rollback');
            expect(state).not.toBe('open');
            expect(record.openedAt).toBe(now);
            if (state === 'closed') expect(countedOf(record)).toBeGreaterThan(s.maxRollbacks);
            else expect(transition.reason).toContain('half-open trial');
          } else if (transition?.to === 'closed') {
            expect(state).not.toBe('closed');
            expect(record.openedAt).toBeUndefined();
            if (e.kind === 'success') expect(state).toBe('half-open');
          } else {
            // No transition: open stays open from the same moment, closed stays closed.
            expect(record.openedAt).toBe(before.openedAt);
            if (record.openedAt === undefined) expect(countedOf(record)).toBeLessThanOrEqual(s.maxRollbacks);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a closed breaker never counts more than maxRollbacks rollbacks in its window', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), settings, (events, s) => {
        for (const { result } of run(events, s)) {
          if (result && result.record.openedAt === undefined && result.transition?.to !== 'closed') {
            expect(countedOf(result.record)).toBeLessThanOrEqual(s.maxRollbacks);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a rollback of a new deployment within the window is always counted; a repeat never is', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 30 }), settings, fc.integer({ min: 0, max: 10_000 }), (events, s, lagSeed) => {
        const steps = run(events, s);
        const last = steps.length > 0 ? steps[steps.length - 1] : undefined;
        const record = last ? (last.result?.record ?? last.before) : EMPTY_BREAKER;
        const now = (last?.now ?? T) + 1;
        const lag = lagSeed % s.windowSeconds; // strictly within the window
        const counted = recordRollback(record, 'd-NEW', now - lag, now, s);
        expect(counted?.record.rollbacks.some((r) => r.deploymentId === 'd-NEW')).toBe(true);
        expect(recordRollback(counted!.record, 'd-NEW', now - lag, now, s)).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('the order concurrent rollbacks are written in does not change the count or the list', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ id: fc.string({ minLength: 1, maxLength: 6 }).map((x) => `d-${x}`), lag: fc.integer({ min: 0, max: 3_599 }) }), { selector: (r) => r.id, maxLength: 8 }),
        fc.integer({ min: 0, max: 1_000 }),
        (rollbacks, seed) => {
          const now = T + 10_000;
          const apply = (order: typeof rollbacks) => order.reduce((rec, r) => recordRollback(rec, r.id, now - r.lag, now, S)!.record, EMPTY_BREAKER);
          const forward = apply(rollbacks);
          const shuffled = [...rollbacks].sort((a, b) => ((a.lag * 7919 + seed) % 101) - ((b.lag * 7919 + seed) % 101));
          const other = apply(shuffled);
          expect(other.rollbacks.length).toBe(rollbacks.length);
          expect(new Set(other.rollbacks.map((r) => `${r.deploymentId}@${r.at}`))).toEqual(new Set(forward.rollbacks.map((r) => `${r.deploymentId}@${r.at}`)));
          expect(other.openedAt === undefined).toBe(forward.openedAt === undefined);
        },
      ),
      { numRuns: 200 },
    );
  });
});
