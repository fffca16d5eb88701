import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fisherExact } from '../../../lib/core/canary/fisher';
import { expectRtError } from '../helpers';
import { fisherOracle as oracle } from './oracles';

/** The 2×2 table [[canaryBad, canaryGood], [baselineBad, baselineGood]]. */
function table(canaryBad: number, canaryGood: number, baselineBad: number, baselineGood: number) {
  return fisherExact({ bad: canaryBad, total: canaryBad + canaryGood }, { bad: baselineBad, total: baselineBad + baselineGood });
}

function expectClose(actual: number, expected: number, relative = 1e-9): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(relative * Math.max(Math.abs(expected), 1e-300));
}

const countArb = fc.integer({ min: 0, max: 40 });
const smallTableArb = fc.tuple(countArb, countArb, countArb, countArb);

/** Tables up to a few thousand events, for properties that need no oracle. */
const armArb = fc.integer({ min: 1, max: 3_000 }).chain((total) => fc.record({ total: fc.constant(total), bad: fc.integer({ min: 0, max: total }) }));

describe('fisherExact: published reference values', () => {
  it("Fisher's lady tasting tea [[3, 1], [1, 3]]: one-sided 0.2429 (17/70), two-sided 0.4857 (34/70)", () => {
    // R documentation, fisher.test example TeaTasting: alternative "greater" → p = 0.2429.
    const result = table(3, 1, 1, 3);
    expect(result.pCanaryWorse).toBeCloseTo(0.2429, 4);
    expect(result.pTwoSided).toBeCloseTo(0.4857, 4);
    expectClose(result.pCanaryWorse, 17 / 70, 1e-12);
    expectClose(result.pTwoSided, 34 / 70, 1e-12);
  });

  it("Wikipedia's dieting example [[1, 9], [11, 3]]: two-sided p ≈ 0.002759", () => {
    // Wikipedia, "Fisher's exact test", example; QI Macros reports the same table as 0.00276.
    const result = table(1, 9, 11, 3);
    expect(result.pTwoSided).toBeCloseTo(0.002759, 6);
    // By hand: P(table) = C(10,1)·C(14,11)/C(24,12) = 3640/2704156, P(a = 0) = 91/2704156.
    expectClose(result.pCanaryBetter, 3731 / 2704156, 1e-12);
  });

  it("R's Convictions example (Fisher 1962): less p = 0.0004652, two-sided p = 0.0005367", () => {
    // fisher.test(matrix(c(2, 10, 15, 3), nrow = 2), alternative = "less") and two-sided.
    const result = table(2, 15, 10, 3);
    expect(result.pCanaryBetter).toBeCloseTo(0.0004652, 7);
    expect(result.pTwoSided).toBeCloseTo(0.0005367, 7);
  });

  it('a textbook table [[4, 0], [2, 5]]: one-tail 1/22, two-tail 2/33', () => {
    // Calcugator's chi2_fisherexact example (contraceptive type × obesity).
    const result = table(4, 0, 2, 5);
    expectClose(result.pCanaryWorse, 1 / 22, 1e-12);
    expectClose(result.pTwoSided, 2 / 33, 1e-12);
  });
});

describe('fisherExact: agrees with exact rational enumeration', () => {
  it('on every p-value of random small tables', () => {
    fc.assert(
      fc.property(smallTableArb, ([a, b, c, d]) => {
        const actual = table(a, b, c, d);
        const expected = oracle(a, b, c, d);
        expectClose(actual.pCanaryWorse, expected.pCanaryWorse);
        expectClose(actual.pCanaryBetter, expected.pCanaryBetter);
        expectClose(actual.pTwoSided, expected.pTwoSided);
      }),
      { numRuns: 300 },
    );
  });

  it('in the far tail, where the p-value is below 1e-20', () => {
    const expected = oracle(30, 0, 0, 30);
    expect(expected.pCanaryWorse).toBeLessThan(1e-16);
    expectClose(table(30, 0, 0, 30).pCanaryWorse, expected.pCanaryWorse);
    const far = oracle(60, 0, 1, 59); // P = C(61, 60) · C(59, 0) / C(120, 60) ≈ 6e-34
    expect(far.pCanaryWorse).toBeLessThan(1e-30);
    expectClose(table(60, 0, 1, 59).pCanaryWorse, far.pCanaryWorse);
  });
});

describe('fisherExact: properties', () => {
  it('p-values lie in [0, 1], and the two-sided p is at least the smaller one-sided p', () => {
    fc.assert(
      fc.property(armArb, armArb, (canary, baseline) => {
        const r = fisherExact(canary, baseline);
        for (const p of [r.pCanaryWorse, r.pCanaryBetter, r.pTwoSided]) {
          expect(p).toBeGreaterThanOrEqual(0);
          expect(p).toBeLessThanOrEqual(1);
        }
        expect(r.pTwoSided).toBeGreaterThanOrEqual(Math.min(r.pCanaryWorse, r.pCanaryBetter) * (1 - 1e-9));
        // The two one-sided tails overlap in the observed table, so they cover everything.
        expect(r.pCanaryWorse + r.pCanaryBetter).toBeGreaterThanOrEqual(1 - 1e-9);
      }),
    );
  });

  it('swapping the arms mirrors the one-sided p-values and keeps the two-sided one', () => {
    fc.assert(
      fc.property(armArb, armArb, (canary, baseline) => {
        const r = fisherExact(canary, baseline);
        const swapped = fisherExact(baseline, canary);
        expectClose(swapped.pCanaryBetter, r.pCanaryWorse, 1e-9);
        expectClose(swapped.pCanaryWorse, r.pCanaryBetter, 1e-9);
        expectClose(swapped.pTwoSided, r.pTwoSided, 1e-9);
      }),
    );
  });

  it('one more canary error (same canary traffic) never weakens the evidence that the canary is worse', () => {
    fc.assert(
      fc.property(
        armArb.filter((a) => a.bad < a.total),
        armArb,
        (canary, baseline) => {
          const before = fisherExact(canary, baseline).pCanaryWorse;
          const after = fisherExact({ total: canary.total, bad: canary.bad + 1 }, baseline).pCanaryWorse;
          expect(after).toBeLessThanOrEqual(before * (1 + 1e-9));
        },
      ),
    );
  });
});

describe('fisherExact: edge cases and scale', () => {
  it('is 1 everywhere when the margins allow a single table (no errors at all)', () => {
    expect(table(0, 100, 0, 1000)).toEqual({ pCanaryWorse: 1, pCanaryBetter: 1, pTwoSided: 1 });
    expect(table(0, 0, 0, 0)).toEqual({ pCanaryWorse: 1, pCanaryBetter: 1, pTwoSided: 1 });
  });

  it('judges ten million events per arm in well under a second', () => {
    const started = Date.now();
    const r = fisherExact({ total: 10_000_000, bad: 105_000 }, { total: 10_000_000, bad: 100_000 });
    expect(Date.now() - started).toBeLessThan(1_000);
    // 1.05 % vs 1 % on 10M requests: z ≈ 11, so p is astronomically small yet finite.
    expect(r.pCanaryWorse).toBeLessThan(1e-20);
    expect(r.pCanaryWorse).toBeGreaterThan(0);
  });

  it('rejects negative, fractional or inconsistent counts with RT601', () => {
    expect(expectRtError(() => fisherExact({ total: 10, bad: 11 }, { total: 10, bad: 0 }), 'RT601').message).toMatch(
      /canary\.bad must not exceed canary\.total, got 11 bad of 10/,
    );
    expectRtError(() => fisherExact({ total: -1, bad: 0 }, { total: 10, bad: 0 }), 'RT601');
    expect(expectRtError(() => fisherExact({ total: 10, bad: 0 }, { total: 10.5, bad: 0 }), 'RT601').message).toMatch(/baseline\.total/);
    expectRtError(() => fisherExact({ total: 10, bad: Number.NaN }, { total: 10, bad: 0 }), 'RT601');
  });
});
