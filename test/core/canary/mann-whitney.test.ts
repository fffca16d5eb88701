import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mannWhitneyU } from '../../../lib/core/canary/mann-whitney';
import { expectRtError } from '../helpers';

// ---------------------------------------------------------------------------------------------
// Reference data
// ---------------------------------------------------------------------------------------------

/** scipy.stats.mannwhitneyu docs example (Shier 2004): ages at diagnosis. */
const MALES = [19, 22, 16, 29, 24];
const FEMALES = [20, 11, 17, 12];

/** R's wilcox.test example: Hollander & Wolfe (1973), permeability at term (x) and 12–26 weeks (y). */
const HW_X = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
const HW_Y = [1.15, 0.88, 0.9, 0.74, 1.21];

/** scipy's test_mannwhitneyu.py regression samples X (30 values) and Y (20 values), no ties. */
const SCIPY_X = [
  19.8958398126694, 19.5452691647182, 19.0577309166425, 21.716543054589, 20.3269502208702, 20.0009273294025,
  19.3440043632957, 20.4216806548105, 19.0649894736528, 18.7808043120398, 19.3680942943298, 19.4848044069953,
  20.7514611265663, 19.0894948874598, 19.4975522356628, 18.9971170734274, 20.3239606288208, 20.6921298083835,
  19.0724259532507, 18.9825187935021, 19.5144462609601, 19.8256857844223, 20.5174677102032, 21.1122407995892,
  17.9490854922535, 18.2847521114727, 20.1072217648826, 18.6439891962179, 20.4970638083542, 19.5567594734914,
];
const SCIPY_Y = [
  19.2790668029091, 16.993808441865, 18.5416338448258, 17.2634018833575, 19.1577183624616, 18.5119655377495,
  18.6068455037221, 18.8358343362655, 19.0366413269742, 18.1135025515417, 19.2201873866958, 17.8344909022841,
  18.2894380745856, 18.6661374133922, 19.9688601693252, 16.0672254617636, 19.00596360572, 19.201561539032,
  19.0487501090183, 19.0847908674356,
];

/**
 * scipy's test_mannwhitneyu_ones (gh-1428), heavily tied, p-values "from R": x is 233 ones,
 * 10 twos and a three; y is 132 ones, 25 twos and a three (order does not matter to ranks).
 */
const ONES_X = [...Array<number>(233).fill(1), ...Array<number>(10).fill(2), 3];
const ONES_Y = [...Array<number>(132).fill(1), ...Array<number>(25).fill(2), 3];

// ---------------------------------------------------------------------------------------------
// An independent oracle: enumerate every way to split the pooled ranks into the two samples.
// ---------------------------------------------------------------------------------------------

function bruteForceExact(canary: readonly number[], baseline: readonly number[]) {
  const pooled = [...canary, ...baseline].sort((a, b) => a - b);
  const rank = (v: number) => pooled.indexOf(v) + 1; // no ties in the oracle's inputs
  const n1 = canary.length;
  const observed = canary.reduce((s, v) => s + rank(v), 0);
  let atLeast = 0;
  let atMost = 0;
  let all = 0;
  const walk = (start: number, left: number, sum: number) => {
    if (left === 0) {
      all++;
      if (sum >= observed) atLeast++;
      if (sum <= observed) atMost++;
      return;
    }
    for (let i = start; i <= pooled.length - left; i++) walk(i + 1, left - 1, sum + i + 1);
  };
  walk(0, n1, 0);
  return { pCanarySlower: atLeast / all, pCanaryFaster: atMost / all };
}

/** Distinct values (so no ties), split into two samples of 1..8 values each. */
const untiedSamplesArb = fc
  .uniqueArray(fc.integer({ min: -1_000, max: 1_000 }), { minLength: 2, maxLength: 16 })
  .chain((values) => fc.integer({ min: 1, max: Math.min(8, values.length - 1) }).map((k) => ({ canary: values.slice(0, k), baseline: values.slice(k) })))
  .filter(({ baseline }) => baseline.length <= 8);

const sampleArb = fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 1, maxLength: 60 });

describe('mannWhitneyU: published reference values', () => {
  it('scipy docs (males vs females): U = 17, exact two-sided p = 0.1111 (1/9)', () => {
    const r = mannWhitneyU(MALES, FEMALES);
    expect(r.method).toBe('exact');
    expect(r.u).toBe(17);
    expect(r.uBaseline).toBe(3);
    expect(r.pTwoSided).toBeCloseTo(0.1111111111111111, 14);
  });

  it('scipy docs: asymptotic two-sided p = 0.11134688653314041, 0.0864107329737 without continuity correction', () => {
    expect(mannWhitneyU(MALES, FEMALES, { method: 'asymptotic' }).pTwoSided).toBeCloseTo(0.11134688653314041, 13);
    expect(mannWhitneyU(MALES, FEMALES, { method: 'asymptotic', continuityCorrection: false }).pTwoSided).toBeCloseTo(0.0864107329737, 12);
  });

  it('scipy docs: females "less" than males, exact p = 0.0556 (U = 3)', () => {
    const r = mannWhitneyU(FEMALES, MALES);
    expect(r.u).toBe(3);
    expect(r.pCanaryFaster).toBeCloseTo(0.05555555555555555, 14);
  });

  it("R's wilcox.test (Hollander & Wolfe): W = 35, greater p = 0.1272; swapped W = 15, p = 0.8968; two-sided 0.2544", () => {
    const r = mannWhitneyU(HW_X, HW_Y);
    expect(r.method).toBe('exact');
    expect(r.u).toBe(35);
    expect(r.pCanarySlower).toBeCloseTo(0.1272, 4);
    expect(r.pTwoSided).toBeCloseTo(0.2544, 4);
    const swapped = mannWhitneyU(HW_Y, HW_X);
    expect(swapped.u).toBe(15);
    expect(swapped.pCanarySlower).toBeCloseTo(0.8968, 4);
  });

  it('Hollander & Wolfe large-sample approximation: z = 10 / √(200/3), p = 0.1103', () => {
    // μ = 10·5/2 = 25, σ² = 10·5·16/12, no ties; by hand 1 − Φ(1.2247) = 0.1103.
    const r = mannWhitneyU(HW_X, HW_Y, { method: 'asymptotic', continuityCorrection: false });
    expect(r.z).toBeCloseTo(10 / Math.sqrt(200 / 3), 12);
    expect(r.pCanarySlower).toBeCloseTo(0.1103, 4);
  });

  it("scipy's regression samples (30 vs 20, asymptotic): U = 498, p = 4.5941632666275e-05, two-sided 9.188326533255e-05", () => {
    const r = mannWhitneyU(SCIPY_X, SCIPY_Y, { method: 'asymptotic' });
    expect(r.u).toBe(498);
    expectRelative(r.pCanarySlower, 4.5941632666275e-5, 1e-10);
    expectRelative(r.pCanaryFaster, 0.999957683256589, 1e-12);
    expectRelative(r.pTwoSided, 9.188326533255e-5, 1e-10);
    const plain = mannWhitneyU(SCIPY_X, SCIPY_Y, { method: 'asymptotic', continuityCorrection: false });
    expectRelative(plain.pCanarySlower, 4.40940099958089e-5, 1e-10);
    expectRelative(plain.pTwoSided, 8.81880199916178e-5, 1e-10);
  });

  it('heavy ties (scipy gh-1428, values from R): U = 16980.5, less p = 2.8214327656317373e-5, two-sided 5.642865531266e-5', () => {
    const r = mannWhitneyU(ONES_X, ONES_Y);
    expect(r.method).toBe('asymptotic');
    expect(r.hasTies).toBe(true);
    expect(r.u).toBe(16980.5);
    expectRelative(r.pCanaryFaster, 2.8214327656317373e-5, 1e-9);
    expectRelative(r.pCanarySlower, 0.9999719954296, 1e-9);
    expectRelative(r.pTwoSided, 5.642865531266e-5, 1e-9);
  });
});

describe('mannWhitneyU: exact distribution', () => {
  it('agrees with brute-force enumeration of every split of the ranks', () => {
    fc.assert(
      fc.property(untiedSamplesArb, ({ canary, baseline }) => {
        const r = mannWhitneyU(canary, baseline, { method: 'exact' });
        const expected = bruteForceExact(canary, baseline);
        expect(r.pCanarySlower).toBeCloseTo(expected.pCanarySlower, 12);
        expect(r.pCanaryFaster).toBeCloseTo(expected.pCanaryFaster, 12);
      }),
      { numRuns: 200 },
    );
  });

  it('and the continuity-corrected normal approximation agree within 0.005 on 40 vs 45 values', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 100_000 }), { minLength: 85, maxLength: 85 }),
        fc.integer({ min: 0, max: 40 }),
        (values, shift) => {
          // Shift the canary so that p-values spread over the whole range.
          const canary = values.slice(0, 40).map((v) => v + shift * 1_000 + 0.5);
          const baseline = values.slice(40);
          const exact = mannWhitneyU(canary, baseline, { method: 'exact' });
          const normal = mannWhitneyU(canary, baseline, { method: 'asymptotic' });
          expect(Math.abs(exact.pCanarySlower - normal.pCanarySlower)).toBeLessThan(0.005);
          expect(Math.abs(exact.pTwoSided - normal.pTwoSided)).toBeLessThan(0.005);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('is chosen automatically below 50 values per sample without ties, as R does', () => {
    const a = Array.from({ length: 49 }, (_, i) => 2 * i);
    const b = Array.from({ length: 49 }, (_, i) => 2 * i + 1);
    expect(mannWhitneyU(a, b).method).toBe('exact');
    expect(mannWhitneyU([...a, 1_000], b).method).toBe('asymptotic');
    expect(mannWhitneyU([...a.slice(1), 1], b).method).toBe('asymptotic'); // a tie
  });
});

describe('mannWhitneyU: properties', () => {
  it('p-values lie in [0, 1] and U + U(baseline) = n₁n₂', () => {
    fc.assert(
      fc.property(sampleArb, sampleArb, (canary, baseline) => {
        const r = mannWhitneyU(canary, baseline);
        for (const p of [r.pCanarySlower, r.pCanaryFaster, r.pTwoSided]) {
          expect(p).toBeGreaterThanOrEqual(0);
          expect(p).toBeLessThanOrEqual(1);
        }
        expect(r.u + r.uBaseline).toBe(canary.length * baseline.length);
        expect(r.rankBiserial).toBeGreaterThanOrEqual(-1);
        expect(r.rankBiserial).toBeLessThanOrEqual(1);
      }),
    );
  });

  it('swapping the samples mirrors the one-sided p-values, U and the effect size', () => {
    fc.assert(
      fc.property(sampleArb, sampleArb, (canary, baseline) => {
        const r = mannWhitneyU(canary, baseline);
        const s = mannWhitneyU(baseline, canary);
        expect(s.pCanarySlower).toBeCloseTo(r.pCanaryFaster, 12);
        expect(s.pCanaryFaster).toBeCloseTo(r.pCanarySlower, 12);
        expect(s.pTwoSided).toBeCloseTo(r.pTwoSided, 12);
        expect(s.u).toBe(r.uBaseline);
        expect(s.rankBiserial).toBeCloseTo(-r.rankBiserial, 12);
      }),
    );
  });

  it('U counts the pairs where the canary is larger, ties as ½ (the definition)', () => {
    fc.assert(
      fc.property(sampleArb, sampleArb, (canary, baseline) => {
        let pairs = 0;
        for (const c of canary) for (const b of baseline) pairs += c > b ? 1 : c === b ? 0.5 : 0;
        expect(mannWhitneyU(canary, baseline).u).toBe(pairs);
      }),
    );
  });

  it('a slower canary never lowers U nor raises the one-sided p', () => {
    fc.assert(
      fc.property(sampleArb, sampleArb, fc.integer({ min: 1, max: 20 }), (canary, baseline, delta) => {
        // When the shift ties every value, the statistic has no variance and both one-sided p are 1
        // by convention ("no evidence either way"), which is no ordering of the approximation:
        // e.g. [1] vs [15] (p 0.977, continuity-corrected) shifted by 14.
        fc.pre(new Set([...canary.map((v) => v + delta), ...baseline]).size > 1);
        const before = mannWhitneyU(canary, baseline, { method: 'asymptotic' });
        const after = mannWhitneyU(canary.map((v) => v + delta), baseline, { method: 'asymptotic' });
        expect(after.u).toBeGreaterThanOrEqual(before.u);
        expect(after.pCanarySlower).toBeLessThanOrEqual(before.pCanarySlower + 1e-12);
      }),
    );
  });
});

describe('mannWhitneyU: edge cases', () => {
  it('all values tied: no evidence either way, z = 0', () => {
    const r = mannWhitneyU([5, 5, 5], [5, 5]);
    expect(r).toMatchObject({ u: 3, z: 0, pCanarySlower: 1, pCanaryFaster: 1, pTwoSided: 1, rankBiserial: 0 });
  });

  it('reports medians and the common-language effect size', () => {
    const r = mannWhitneyU([10, 20, 30, 40], [1, 2, 3]);
    expect(r).toMatchObject({ canaryMedian: 25, baselineMedian: 2, commonLanguageEffectSize: 1, rankBiserial: 1 });
  });

  it('rejects empty samples, non-finite values and exact on ties with RT602', () => {
    expectRtError(() => mannWhitneyU([], [1]), 'RT602');
    expect(expectRtError(() => mannWhitneyU([1], [2, Number.NaN]), 'RT602').message).toMatch(/baseline\[1\] must be a finite number/);
    expectRtError(() => mannWhitneyU([1, 2], [2, 3], { method: 'exact' }), 'RT602');
  });
});

function expectRelative(actual: number, expected: number, relative: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(relative * Math.abs(expected));
}
