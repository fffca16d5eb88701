import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeploymentShape, SeriesEntry, simulate } from '../../../lib/core/simulator';
import { lambdaService } from './fixtures';

const service = lambdaService();

/** Any traffic (gaps, zero-request minutes, with or without per-version entries) without a single error. */
const errorFree = fc
  .record({
    length: fc.integer({ min: 1, max: 150 }),
    start: fc.integer({ min: -200, max: 50 }),
    perVersion: fc.boolean(),
    minutes: fc.array(fc.record({ present: fc.boolean(), stable: fc.nat(5_000), canary: fc.nat(5_000), canaryEntry: fc.boolean() }), { minLength: 150, maxLength: 150 }),
  })
  .map(({ length, start, perVersion, minutes }) => {
    const series: SeriesEntry[] = [];
    for (let i = 0; i < length; i++) {
      const m = minutes[i];
      if (!m.present && i > 0) continue;
      const stable = { requests: m.stable, errors: 0, slow: 0 };
      const canary = m.canaryEntry ? { requests: m.canary, errors: 0, slow: 0 } : undefined;
      series.push({
        minute: start + i,
        requests: m.stable + (canary?.requests ?? 0),
        errors: 0,
        ...(perVersion ? { stable, ...(canary ? { canary } : {}) } : {}),
      });
    }
    return series;
  });

const shape: fc.Arbitrary<DeploymentShape> = fc.oneof(
  fc.record({ kind: fc.constant('all-at-once' as const), bakeMinutes: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ kind: fc.constant('canary' as const), percent: fc.integer({ min: 1, max: 99 }), intervalMinutes: fc.integer({ min: 1, max: 15 }), bakeMinutes: fc.integer({ min: 0, max: 30 }) }),
  fc.record({ kind: fc.constant('linear' as const), percent: fc.integer({ min: 10, max: 99 }), intervalMinutes: fc.integer({ min: 1, max: 5 }), bakeMinutes: fc.integer({ min: 0, max: 30 }) }),
);

describe('properties', () => {
  it('a series with zero errors never rolls back on any path', () => {
    fc.assert(
      fc.property(errorFree, shape, fc.nat(), fc.integer({ min: 0, max: 5 }), (series, deployment, at, ingestionDelayMinutes) => {
        const releaseMinute = series[at % series.length].minute;
        // Inconclusive bakes pass here: too little traffic is not a regression (under the default
        // fail-closed policy it rolls back as `inconclusive`, never as `fail`).
        const result = simulate({ policy: service.policy, series, releaseMinute, deployment, ingestionDelayMinutes, evaluator: { inconclusiveAction: 'pass' } });
        expect(result.outcome.rollback).toBe(false);
        for (const p of result.paths) {
          expect(p.verdict, `${p.path}: ${p.reasons.join('; ')}`).not.toBe('fail');
          expect(p.rollback).toBe(false);
        }
        expect(['pass', 'inconclusive']).toContain(result.outcome.verdict);
        // Every burn rate of every window alarm is 0 (or no datapoint).
        for (const m of result.minutes) for (const v of Object.values(m.burnRates)) expect(v === null || v === 0).toBe(true);
      }),
      { numRuns: 60 },
    );
  });
});
