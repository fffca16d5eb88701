import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectionRangeSeconds, detectionSeconds, secondsToFire } from '../../../lib/core';
import { EmulationResult, SliPoint, emulate } from '../../../lib/core/emulator';
import { type PolicyComposite, type RollbackPolicy, compositeChildIds } from '../../../lib/core';
import { AlarmLayout } from '../../../lib';
import { DAY_MINUTES, series, synthesizedSlo } from './fixtures';

const { policy, path: PATH } = synthesizedSlo();
// The per-tier layout has a composite per tier (the default, EXACT, folds the tiers into the severity rules).
const { policy: perTierPolicy } = synthesizedSlo({ alarmLayout: AlarmLayout.PER_TIER });
const perTierSlo = perTierPolicy.slos[0];
const flat = (c: PolicyComposite) => ({ id: c.id, children: c.children.flatMap(compositeChildIds) });
const tierComposites = perTierSlo.composites.filter((c) => c.kind === 'tier').map(flat);
const severityComposites = perTierSlo.composites.filter((c) => c.kind === 'severity').map(flat);
const slo = policy.slos[0];

const HORIZON = 150;

/** Minutes 0 … HORIZON: a datapoint or a gap, with random traffic and a random share of it failing. */
const trafficArb = fc.array(
  fc.option(fc.record({ total: fc.integer({ min: 0, max: 3_000 }), share: fc.double({ min: 0, max: 1, noNaN: true }) }), { nil: undefined, freq: 8 }),
  { minLength: HORIZON + 1, maxLength: HORIZON + 1 },
);
const delayArb = fc.integer({ min: 0, max: 8 });

type Minute = { total: number; share: number } | undefined;

function toSeries(minutes: readonly Minute[], bad: (m: { total: number; share: number }) => number): SliPoint[] {
  return minutes.flatMap((m, minute) => (m === undefined ? [] : [{ minute, total: m.total, bad: bad(m) }]));
}

function run(points: SliPoint[], delay: number, on: RollbackPolicy = policy, compositeDelayMinutes = 0): EmulationResult {
  return emulate({ policy: on, sli: { [PATH]: points } }, { fromMinute: 0, toMinute: HORIZON + delay + 1, ingestionDelayMinutes: delay, compositeDelayMinutes });
}

describe('emulator properties', () => {
  it('raising the errors never delays an alarm: ALARM with fewer errors implies ALARM with more, minute by minute', () => {
    fc.assert(
      fc.property(trafficArb, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: HORIZON + 1, maxLength: HORIZON + 1 }), delayArb, (minutes, raise, delay) => {
        const fewer = run(toSeries(minutes, (m) => Math.floor(m.total * m.share)), delay);
        // Same datapoints, same totals, each minute's failures raised towards the total.
        const more = run(
          minutes.flatMap((m, minute) => {
            if (m === undefined) return [];
            const bad = Math.floor(m.total * m.share);
            return [{ minute, total: m.total, bad: bad + Math.floor((m.total - bad) * raise[minute]) }];
          }),
          delay,
        );
        more.timeline.forEach((entry, i) => {
          for (const [id, state] of Object.entries(fewer.timeline[i].states)) {
            if (state === 'ALARM') expect(entry.states[id], `${id} at minute ${entry.minute}`).toBe('ALARM');
          }
        });
        for (const f of fewer.summary.tiers) {
          const g = more.summary.tiers.find((t) => t.id === f.id)!;
          if (f.firstAlarmMinute !== null) expect(g.firstAlarmMinute).not.toBeNull();
          if (f.firstAlarmMinute !== null) expect(g.firstAlarmMinute!).toBeLessThanOrEqual(f.firstAlarmMinute);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('with zero bad events nothing ever fires, whatever the traffic, gaps and delay', () => {
    fc.assert(
      fc.property(trafficArb, delayArb, (minutes, delay) => {
        const result = run(toSeries(minutes, () => 0), delay);
        for (const entry of result.timeline) {
          expect(Object.values(entry.states)).not.toContain('ALARM');
        }
        for (const entry of result.timeline) {
          for (const v of Object.values(entry.values)) expect(v === null || v === 0).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('a tier (AND) is in ALARM only while both its windows are, so it never fires before both; a severity (OR) while any tier is', () => {
    fc.assert(
      fc.property(trafficArb, delayArb, (minutes, delay) => {
        const result = run(toSeries(minutes, (m) => Math.floor(m.total * m.share)), delay, perTierPolicy);
        for (const entry of result.timeline) {
          for (const tier of tierComposites) {
            const both = tier.children.every((child) => entry.states[child] === 'ALARM');
            expect(entry.states[tier.id] === 'ALARM', `${tier.id} at ${entry.minute}`).toBe(both);
          }
          for (const severity of severityComposites) {
            const any = severity.children.some((child) => entry.states[child] === 'ALARM');
            expect(entry.states[severity.id] === 'ALARM').toBe(any);
          }
        }
        const first = new Map([...result.summary.tiers, ...result.summary.windows].map((f) => [f.id, f.firstAlarmMinute]));
        for (const tier of tierComposites) {
          const fired = first.get(tier.id);
          if (fired === null || fired === undefined) continue;
          for (const child of tier.children) expect(first.get(child)!).toBeLessThanOrEqual(fired);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('the EXACT and PER_TIER layouts page and ticket on the same minutes; with a composite lag, EXACT one lag earlier (one level of composites, not two)', () => {
    const severityIds = severityComposites.map((c) => c.id);
    expect(severityIds).toEqual(policy.slos[0].composites.map((c) => c.id));
    fc.assert(
      fc.property(trafficArb, delayArb, fc.integer({ min: 0, max: 3 }), (minutes, delay, lag) => {
        const points = toSeries(minutes, (m) => Math.floor(m.total * m.share));
        const exact = run(points, delay, policy, lag);
        const perTier = run(points, delay, perTierPolicy, lag);
        exact.timeline.forEach((entry, i) => {
          const later = perTier.timeline[i + lag];
          if (later === undefined || entry.minute < lag) return;
          for (const id of severityIds) expect(entry.states[id], `${id} at minute ${entry.minute}, lag ${lag}`).toBe(later.states[id]);
        });
      }),
      { numRuns: 60 },
    );
  });

  it('agrees with the plan (detectionSeconds, detectionRangeSeconds) for any constant error ratio above a tier’s threshold and any onset', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: slo.tiers.length - 1 }), fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 59 }), (tierIndex, u, onset) => {
        const tier = slo.tiers[tierIndex];
        // Ratios from just above the threshold to 100 %, spread on a log scale.
        const ratio = Math.exp(Math.log(tier.errorRatioThreshold * 1.001) * (1 - u));
        const minutes = secondsToFire(tier, ratio)! / 60;
        // Skip ratios that put the crossing on a whole minute, where float rounding decides.
        fc.pre(Math.abs(minutes - Math.round(minutes)) > 1e-6);
        const planned = detectionSeconds(tier, ratio)! / 60;
        const range = detectionRangeSeconds(tier, ratio)!;
        expect(range.earliestSeconds / 60).toBe(planned);
        // 1,000 requests a minute, clean for three days, `ratio` failing from minute `onset` on.
        const points = series(-3 * DAY_MINUTES, onset + range.latestSeconds / 60 + 1, 1_000, (m, t) => (m >= onset ? t * ratio : 0));
        const result = emulate({ policy, sli: { [PATH]: points } }, { fromMinute: 0 });
        const fired = result.summary.tiers.find((t) => t.id === `${PATH}/${tier.name}`)!.firstAlarmMinute;
        // Windows over a day (ticket-3d's 3 days) are evaluated on the hour: the first hour at or
        // after the breach, within the plan's range; every other tier exactly when the plan says.
        const expected = tier.longWindowSeconds > 86_400 ? Math.ceil((onset + planned) / 60) * 60 : onset + planned;
        expect(fired, `${tier.name} at ${ratio} from minute ${onset}`).toBe(expected);
        expect((fired! - onset) * 60).toBeGreaterThanOrEqual(range.earliestSeconds);
        expect((fired! - onset) * 60).toBeLessThanOrEqual(range.latestSeconds);
      }),
      { numRuns: 40 },
    );
  });
});
