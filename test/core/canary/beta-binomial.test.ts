import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { betaBinomialProbabilityWorse } from '../../../lib/core/canary/beta-binomial';
import { integrate } from '../../../lib/core/canary/quadrature';
import { expectRtError } from '../helpers';

const counts = (bad: number, total: number) => ({ bad, total });

/** With the uniform prior, `bad` errors of `bad` requests give Beta(bad + 1, 1). */
const allBad = (bad: number) => counts(bad, bad);
/** … and 0 errors of `good` requests give Beta(1, good + 1). */
const allGood = (good: number) => counts(0, good);

const armArb = fc.integer({ min: 0, max: 2_000 }).chain((total) => fc.record({ total: fc.constant(total), bad: fc.integer({ min: 0, max: Math.min(total, 300) }) }));

describe('betaBinomialProbabilityWorse: analytic reference values (both methods)', () => {
  // X ~ Beta(a, 1) (density a·x^(a−1)), Y ~ Beta(b, 1): P(X > Y) = ∫ a x^(a−1) · x^b dx = a / (a + b).
  it.each([
    [1, 1],
    [2, 1],
    [5, 3],
    [10, 40],
  ])('P(Beta(%i,1) > Beta(%i,1)) = a / (a + b)', (a, b) => {
    for (const method of ['closedForm', 'integration'] as const) {
      const r = betaBinomialProbabilityWorse(allBad(a - 1), allBad(b - 1), { method });
      expect(r.method).toBe(method);
      expect(r.probability).toBeCloseTo(a / (a + b), 12);
    }
  });

  // By symmetry x → 1 − x: P(Beta(1, a) > Beta(1, b)) = b / (a + b).
  it.each([
    [2, 1],
    [50, 50],
    [1_001, 101],
  ])('P(Beta(1,%i) > Beta(1,%i)) = b / (a + b)', (a, b) => {
    for (const method of ['closedForm', 'integration'] as const) {
      expect(betaBinomialProbabilityWorse(allGood(a - 1), allGood(b - 1), { method }).probability).toBeCloseTo(b / (a + b), 12);
    }
  });

  it('integrates correctly when one posterior is a million times narrower than the other', () => {
    // Beta(1, 1e8 + 1) against Beta(1, 101): P = 101 / (1e8 + 102) ≈ 1.01e-6, a step 1e-8 wide
    // that an adaptive rule misses unless a breakpoint sits at its scale.
    const p = betaBinomialProbabilityWorse(allGood(100_000_000), allGood(100), { method: 'integration' }).probability;
    expect(Math.abs(p - 101 / (1e8 + 102))).toBeLessThan(1e-15);
  });

  it('tolerances on the prior alone (two uniforms): 1/(2(1 + r)), (1 − δ)²/2 and 47/120 for both', () => {
    // ∫₀^{1/(1+r)} (1 − y(1 + r)) dy = 1 / (2(1 + r)); ∫₀^{1−δ} (1 − y − δ) dy = (1 − δ)² / 2.
    const none = counts(0, 0);
    expect(betaBinomialProbabilityWorse(none, none, { maxRelativeIncrease: 0.2 }).probability).toBeCloseTo(1 / 2.4, 12);
    expect(betaBinomialProbabilityWorse(none, none, { maxAbsoluteIncrease: 0.1 }).probability).toBeCloseTo(0.405, 12);
    // max(1.2y, y + 0.1) has its kink at y = 0.5: ∫₀^0.5 (0.9 − y) dy + ∫_0.5^{5/6} (1 − 1.2y) dy = 39/120 + 8/120.
    expect(betaBinomialProbabilityWorse(none, none, { maxRelativeIncrease: 0.2, maxAbsoluteIncrease: 0.1 }).probability).toBeCloseTo(47 / 120, 12);
  });

  it('absolute tolerance against a Beta(a, 1) canary: (1 − δ) − (1 − δ^(a+1)) / (a + 1)', () => {
    // ∫₀^{1−δ} (1 − (y + δ)^a) dy with a uniform baseline.
    for (const [a, delta] of [
      [3, 0.05],
      [7, 0.3],
    ]) {
      const expected = 1 - delta - (1 - delta ** (a + 1)) / (a + 1);
      expect(betaBinomialProbabilityWorse(allBad(a - 1), counts(0, 0), { maxAbsoluteIncrease: delta }).probability).toBeCloseTo(expected, 12);
    }
  });

  it('identical arms give one half, at any count', () => {
    for (const [bad, total] of [
      [0, 0],
      [3, 40],
      [1_000, 100_000],
    ]) {
      for (const method of ['closedForm', 'integration'] as const) {
        expect(betaBinomialProbabilityWorse(counts(bad, total), counts(bad, total), { method }).probability).toBeCloseTo(0.5, 9);
      }
    }
  });
});

describe('betaBinomialProbabilityWorse: closed form (Evan Miller) against numerical integration', () => {
  it('agree to 1e-9 on random counts', () => {
    fc.assert(
      fc.property(armArb, armArb, (canary, baseline) => {
        const closed = betaBinomialProbabilityWorse(canary, baseline, { method: 'closedForm' }).probability;
        const integrated = betaBinomialProbabilityWorse(canary, baseline, { method: 'integration' }).probability;
        expect(Math.abs(closed - integrated)).toBeLessThan(1e-9);
      }),
      { numRuns: 150 },
    );
  });

  it('agree at production scale (200 of 100,000 vs 2,000 of 1,000,000)', () => {
    const closed = betaBinomialProbabilityWorse(counts(200, 100_000), counts(2_000, 1_000_000), { method: 'closedForm' }).probability;
    const integrated = betaBinomialProbabilityWorse(counts(200, 100_000), counts(2_000, 1_000_000), { method: 'integration' }).probability;
    expect(Math.abs(closed - integrated)).toBeLessThan(1e-9);
  });

  it('with a Jeffreys prior (a density singular at 0) the integrals of both directions sum to 1', () => {
    const prior = { alpha: 0.5, beta: 0.5 };
    // Half-integer alphas have no closed form here; check the complement identity instead.
    const forward = betaBinomialProbabilityWorse(counts(3, 200), counts(0, 1_000), { prior, method: 'integration' }).probability;
    const backward = betaBinomialProbabilityWorse(counts(0, 1_000), counts(3, 200), { prior, method: 'integration' }).probability;
    expect(forward + backward).toBeCloseTo(1, 9);
    expect(forward).toBeGreaterThan(0.99);
  });
});

describe('betaBinomialProbabilityWorse: properties', () => {
  it('probabilities lie in [0, 1] and P(canary > baseline) + P(baseline > canary) = 1', () => {
    fc.assert(
      fc.property(armArb, armArb, (canary, baseline) => {
        const forward = betaBinomialProbabilityWorse(canary, baseline).probability;
        const backward = betaBinomialProbabilityWorse(baseline, canary).probability;
        expect(forward).toBeGreaterThanOrEqual(0);
        expect(forward).toBeLessThanOrEqual(1);
        expect(forward + backward).toBeCloseTo(1, 9);
      }),
      { numRuns: 100 },
    );
  });

  it('one more canary error never lowers the probability that the canary is worse', () => {
    fc.assert(
      fc.property(
        armArb.filter((a) => a.bad < a.total),
        armArb,
        (canary, baseline) => {
          const options = { maxRelativeIncrease: 0.2, maxAbsoluteIncrease: 0.001 };
          const before = betaBinomialProbabilityWorse(canary, baseline, options).probability;
          const after = betaBinomialProbabilityWorse({ total: canary.total, bad: canary.bad + 1 }, baseline, options).probability;
          expect(after).toBeGreaterThanOrEqual(before - 1e-10);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('a larger tolerance never raises the probability of exceeding it', () => {
    fc.assert(
      fc.property(armArb, armArb, fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 0.05, noNaN: true }), (canary, baseline, rel, abs) => {
        const tight = betaBinomialProbabilityWorse(canary, baseline, { maxRelativeIncrease: rel, maxAbsoluteIncrease: abs }).probability;
        const loose = betaBinomialProbabilityWorse(canary, baseline, { maxRelativeIncrease: rel * 1.5 + 0.01, maxAbsoluteIncrease: abs * 2 }).probability;
        expect(loose).toBeLessThanOrEqual(tight + 1e-10);
      }),
      { numRuns: 100 },
    );
  });
});

describe('betaBinomialProbabilityWorse: options', () => {
  it('auto picks the closed form without tolerance and integration with one', () => {
    expect(betaBinomialProbabilityWorse(counts(3, 40), counts(2, 400)).method).toBe('closedForm');
    expect(betaBinomialProbabilityWorse(counts(3, 40), counts(2, 400), { maxRelativeIncrease: 0.2 }).method).toBe('integration');
    expect(betaBinomialProbabilityWorse(counts(20_000, 40_000), counts(2, 400)).method).toBe('integration'); // too many terms
  });

  it('reports the posteriors', () => {
    const r = betaBinomialProbabilityWorse(counts(3, 40), counts(2, 400));
    expect(r.canaryPosterior).toEqual({ alpha: 4, beta: 38, mean: 4 / 42 });
    expect(r.baselinePosterior).toEqual({ alpha: 3, beta: 399, mean: 3 / 402 });
  });

  it('rejects bad priors, tolerances and an impossible closed form with RT603', () => {
    expectRtError(() => betaBinomialProbabilityWorse(counts(1, 2), counts(1, 2), { prior: { alpha: 0, beta: 1 } }), 'RT603');
    expectRtError(() => betaBinomialProbabilityWorse(counts(1, 2), counts(1, 2), { maxRelativeIncrease: -0.1 }), 'RT603');
    expect(
      expectRtError(() => betaBinomialProbabilityWorse(counts(1, 2), counts(1, 2), { method: 'closedForm', maxAbsoluteIncrease: 0.01 }), 'RT603').message,
    ).toMatch(/use method 'integration'/);
  });
});

describe('integrate (Gauss–Kronrod)', () => {
  it('is exact on polynomials and accurate on classic integrals', () => {
    expect(integrate((x) => 3 * x * x, [0, 1]).value).toBeCloseTo(1, 14);
    expect(integrate(Math.sin, [0, Math.PI]).value).toBeCloseTo(2, 13);
    expect(integrate((x) => Math.exp(-x * x), [-10, 0, 10]).value).toBeCloseTo(Math.sqrt(Math.PI), 12);
  });

  it('handles an integrable end-point singularity: ∫₀¹ 1/√x dx = 2', () => {
    expect(integrate((x) => 1 / Math.sqrt(x), [0, 1]).value).toBeCloseTo(2, 9);
  });
});
