import stdBetainc from '@stdlib/math-base-special-betainc';
import stdBetaln from '@stdlib/math-base-special-betaln';
import stdBinomcoefln from '@stdlib/math-base-special-binomcoefln';
// Not declared in package.json: installed with @stdlib/math-base-special-betaln, which is built on it.
import stdGammaln from '@stdlib/math-base-special-gammaln';
import stdBetaLogPdf from '@stdlib/stats-base-dists-beta-logpdf';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { integrate } from '../../../lib/core/canary/quadrature';
import { betainc, betaln, betaLogPdf, binomcoefln, lgamma } from '../../../lib/core/canary/special-functions';

// The in-house special functions against @stdlib (which the library used before) and against
// reference values computed with mpmath 1.3 at 60 significant digits.
//
// Tolerances. The acceptance bound is a relative error of 1e-9; where a function is accurate to a
// few ulps the properties assert more, and each looser or absolute bound is explained where it
// is used. Two facts shape them:
// - ln Γ, ln B, ln C(n, k) and the log-density are only ever used inside exp(·), so an absolute
//   error δ in them is a relative error δ of the probability built on them; near their zeros
//   (ln B(1, 1) = 0) a relative bound is meaningless and an absolute floor is the right one.
// - @stdlib is not exact either. Its betainc stops its continued fraction after 1,000 terms,
//   which is far too few near the mean once a and b exceed ~1e6 (at a = b = 1e9 it is off by up
//   to 4 %: betainc(0.5, 1e9, 1e9) = 0.4375), and it loses digits for subnormal x; its Beta
//   log-density is the textbook (a − 1) ln x + (b − 1) ln(1 − x) − ln B(a, b), whose rounding
//   error grows with a·|ln x| (2e-8 relative at a, b ~ 1e9). So the comparison with @stdlib is
//   limited to where @stdlib is accurate (betainc: a, b ≤ 1e6 and x normal, where it is within
//   5e-11 of the mpmath values), and the rest is checked against exact identities (the binomial
//   sum, closed forms, Gauss–Kronrod quadrature of the density) and the mpmath table.

const EPSILON = Number.EPSILON;
/** Fixed seeds: the properties are deterministic, like the rest of the suite. */
const RUNS = { numRuns: 2_000, seed: 20_240_601 };

function relativeError(value: number, reference: number): number {
  if (value === reference) return 0;
  return Math.abs(value - reference) / Math.abs(reference);
}

/**
 * Uniform on [0, 1) with 53 random bits. (fc.double draws its bit patterns, not its values,
 * uniformly: nine in ten of its doubles in [0, 1] are below 1e-10.)
 */
const unit: fc.Arbitrary<number> = fc.noBias(
  fc.tuple(fc.integer({ min: 0, max: 2 ** 26 - 1 }), fc.integer({ min: 0, max: 2 ** 27 - 1 })).map(([high, low]) => (high * 2 ** 27 + low) / 2 ** 53),
);

/** Log-uniform on [lo, hi]. */
const logUniform = (lo: number, hi: number): fc.Arbitrary<number> => unit.map((u) => Math.exp(Math.log(lo) + u * (Math.log(hi) - Math.log(lo))));

/** Shape parameters as the judge produces them: log-uniform, whole numbers a third of the time (counts + 1). */
const shape = (lo: number, hi: number): fc.Arbitrary<number> =>
  fc.tuple(logUniform(lo, hi), fc.integer({ min: 0, max: 2 })).map(([v, k]) => (k === 0 ? Math.max(Math.round(v), lo) : v));

function betaSpread(a: number, b: number): { mean: number; sd: number } {
  return { mean: a / (a + b), sd: Math.sqrt((a * b) / ((a + b) ** 2 * (a + b + 1))) };
}

const LAST_BELOW_ONE = 1 - 2 ** -53;

/**
 * x for Beta(a, b): within ±40 standard deviations of the mean (tails down to ~1e-300), or
 * log-uniform down to 1e-300, or within 1e-16 … 1 of 1.
 */
function pointFor(a: number, b: number): fc.Arbitrary<number> {
  const { mean, sd } = betaSpread(a, b);
  const clamp = (x: number): number => Math.min(LAST_BELOW_ONE, Math.max(1e-300, x));
  return fc
    .oneof(
      { weight: 6, arbitrary: fc.tuple(fc.boolean(), logUniform(0.01, 40)).map(([above, z]) => mean + (above ? z : -z) * sd) },
      { weight: 2, arbitrary: logUniform(1e-300, 1) },
      { weight: 1, arbitrary: logUniform(1e-16, 1).map((d) => 1 - d) },
    )
    .map(clamp);
}

/** (a, b, x, upper) for the incomplete beta. */
const betaCase = (lo: number, hi: number, shapeOf = shape): fc.Arbitrary<[number, number, number, boolean]> =>
  fc
    .tuple(shapeOf(lo, hi), shapeOf(lo, hi), fc.boolean())
    .chain(([a, b, upper]) => pointFor(a, b).map((x): [number, number, number, boolean] => [a, b, x, upper]));

describe('lgamma', () => {
  it('exact values: ln Γ(1) = ln Γ(2) = 0, ln Γ(½) = ln √π, ln Γ(n + 1) = ln n!', () => {
    expect(lgamma(1)).toBe(0);
    expect(lgamma(2)).toBe(0);
    expect(relativeError(lgamma(0.5), 0.57236494292470008707)).toBeLessThan(2 * EPSILON);
    expect(relativeError(lgamma(3), Math.LN2)).toBeLessThan(2 * EPSILON);
    let factorial = 1;
    for (let n = 1; n <= 22; n++) {
      factorial *= n; // exact up to 22!
      expect(relativeError(lgamma(n + 1), Math.log(factorial))).toBeLessThan(4 * EPSILON);
    }
    expect(lgamma(0)).toBe(Infinity);
    expect(lgamma(-1)).toBeNaN();
    expect(lgamma(Number.NaN)).toBeNaN();
  });

  it('matches mpmath (60 digits) to 4 ulps, including next to the zeros at 1 and 2', () => {
    for (const [x, reference] of LGAMMA_REFERENCE) {
      expect(relativeError(lgamma(x), reference), `lgamma(${x})`).toBeLessThan(4 * EPSILON);
    }
  });

  it('matches @stdlib to 1e-12 relative for x in [1e-3, 1e9] and next to 1 and 2', () => {
    // Both are accurate to a few ulps; @stdlib's own error reaches ~5e-14 (near x = 1.19).
    const near = fc.tuple(fc.constantFrom(1, 2), fc.boolean(), logUniform(1e-14, 0.5)).map(([c, above, d]) => (above ? c + d : c - d));
    fc.assert(
      fc.property(fc.oneof(logUniform(1e-3, 1e9), near), (x) => {
        expect(relativeError(lgamma(x), stdGammaln(x))).toBeLessThanOrEqual(1e-12);
      }),
      RUNS,
    );
  });
});

describe('betaln', () => {
  it('exact values', () => {
    expect(betaln(1, 1)).toBe(0);
    expect(relativeError(betaln(0.5, 0.5), 1.1447298858494001741)).toBeLessThan(2 * EPSILON); // ln π
    expect(relativeError(betaln(2, 3), -Math.log(12))).toBeLessThan(4 * EPSILON);
    for (const a of [3, 17.5, 1e3, 1e9]) expect(relativeError(betaln(a, 1), -Math.log(a))).toBeLessThan(4 * EPSILON);
    expect(betaln(0, 3)).toBe(Infinity);
    expect(betaln(-1, 3)).toBeNaN();
  });

  it('matches mpmath: absolute error ≤ 1e-15 + 4 ulps of the value', () => {
    for (const [a, b, reference] of BETALN_REFERENCE) {
      expect(Math.abs(betaln(a, b) - reference), `betaln(${a}, ${b})`).toBeLessThanOrEqual(1e-15 + 4 * EPSILON * Math.abs(reference));
    }
  });

  it('matches @stdlib for a, b log-uniform in [0.5, 1e9]: |Δ| ≤ 1e-12·|value| + 1e-14', () => {
    // The absolute floor covers the zero set of ln B (B(a, b) = 1, e.g. a = 2, b = 0.618).
    fc.assert(
      fc.property(shape(0.5, 1e9), shape(0.5, 1e9), (a, b) => {
        const reference = stdBetaln(a, b);
        expect(Math.abs(betaln(a, b) - reference)).toBeLessThanOrEqual(1e-12 * Math.abs(reference) + 1e-14);
      }),
      RUNS,
    );
  });
});

describe('binomcoefln', () => {
  it('exact values', () => {
    expect(relativeError(binomcoefln(50, 25), Math.log(126410606437752))).toBeLessThan(4 * EPSILON);
    expect(relativeError(binomcoefln(50, 25), 32.470556505811992189)).toBeLessThan(4 * EPSILON);
    expect(relativeError(binomcoefln(1e9, 2), Math.log(5e8 * (1e9 - 1)))).toBeLessThan(4 * EPSILON);
    for (const n of [1, 7, 1e9]) {
      expect(binomcoefln(n, 0)).toBe(0);
      expect(binomcoefln(n, n)).toBe(0);
      expect(binomcoefln(n, 1)).toBe(Math.log(n));
      expect(binomcoefln(n, n - 1)).toBe(Math.log(n));
    }
    expect(binomcoefln(5, 6)).toBe(-Infinity);
    expect(binomcoefln(5, -1)).toBe(-Infinity);
    expect(binomcoefln(5.5, 2)).toBeNaN();
  });

  it('matches mpmath: absolute error ≤ 1e-15 + 4 ulps of the value', () => {
    for (const [n, k, reference] of BINOMCOEFLN_REFERENCE) {
      expect(Math.abs(binomcoefln(n, k) - reference), `binomcoefln(${n}, ${k})`).toBeLessThanOrEqual(1e-15 + 4 * EPSILON * Math.abs(reference));
    }
  });

  it('matches @stdlib for n up to 2e9 (the population of a Fisher table): |Δ| ≤ 1e-12·|value| + 1e-14', () => {
    const nk = fc
      .tuple(logUniform(1, 2e9), unit, fc.boolean())
      .map(([n, u, small]) => {
        const whole = Math.round(n);
        return [whole, small ? Math.min(whole, Math.round(Math.exp(u * Math.log(whole + 1)))) : Math.round(u * whole)] as const;
      });
    fc.assert(
      fc.property(nk, ([n, k]) => {
        const reference = stdBinomcoefln(n, k);
        expect(Math.abs(binomcoefln(n, k) - reference)).toBeLessThanOrEqual(1e-12 * Math.abs(reference) + 1e-14);
      }),
      RUNS,
    );
  });
});

describe('betaLogPdf', () => {
  it('exact values and end points', () => {
    expect(Math.abs(betaLogPdf(0.3, 1, 1))).toBe(0);
    expect(relativeError(betaLogPdf(0.5, 2, 2), Math.log(1.5))).toBeLessThan(4 * EPSILON);
    expect(relativeError(betaLogPdf(0.25, 3, 1), Math.log(3 / 16))).toBeLessThan(4 * EPSILON);
    expect(betaLogPdf(0, 1, 4)).toBe(Math.log(4));
    expect(betaLogPdf(1, 4, 1)).toBe(Math.log(4));
    expect(betaLogPdf(0, 0.5, 4)).toBe(Infinity);
    expect(betaLogPdf(0, 2, 4)).toBe(-Infinity);
    expect(betaLogPdf(1, 2, 4)).toBe(-Infinity);
    expect(betaLogPdf(-0.1, 2, 4)).toBe(-Infinity);
    expect(betaLogPdf(0.5, 0, 4)).toBeNaN();
  });

  it('matches mpmath to 1e-13 + 16 ulps (absolute, in log space) with parameters up to 1e9 and tails to 1e-300', () => {
    // 16 ulps of the value: the exponent a·u + b·v of the large-parameter form is formed from
    // terms a few times its size (rlog1 cancels up to 2 bits beyond |t| = 0.6).
    for (const [x, a, b, reference] of LOGPDF_REFERENCE) {
      expect(Math.abs(betaLogPdf(x, a, b) - reference), `betaLogPdf(${x}, ${a}, ${b})`).toBeLessThanOrEqual(1e-13 + 16 * EPSILON * Math.abs(reference));
    }
  });

  it('matches @stdlib within @stdlib’s own rounding error', () => {
    // @stdlib adds (a − 1) ln x, (b − 1) ln(1 − x) and −ln B(a, b), each rounded: its error is up
    // to a few ulps of the largest of them (1e-5 absolute when a·|ln x| ~ 1e11), however small the
    // result. Beyond that bound, 1e-12 relative plus an absolute 1e-13 (see the header).
    fc.assert(
      fc.property(
        betaCase(0.5, 1e9).map(([a, b, x]) => [a, b, x] as const),
        ([a, b, x]) => {
          const reference = stdBetaLogPdf(x, a, b);
          const rounding = 4 * EPSILON * (Math.abs((a - 1) * Math.log(x)) + Math.abs((b - 1) * Math.log1p(-x)) + Math.abs(stdBetaln(a, b)));
          expect(Math.abs(betaLogPdf(x, a, b) - reference)).toBeLessThanOrEqual(1e-12 * Math.abs(reference) + 1e-13 + rounding);
        },
      ),
      RUNS,
    );
  });

  it('is a density: it integrates to 1 within 1e-11 for a, b in [1, 1e9]', () => {
    // Catches any error in the normalisation ln B(a, b) or in the large-parameter form, at sizes
    // where @stdlib's log-density is itself off by more than that. The mass is kept below ½ (the
    // mirror image Beta(b, a) otherwise), where doubles resolve the nodes finely; what is left is
    // the rounding of the nodes, ε·mean relative to the spread.
    fc.assert(
      fc.property(shape(1, 1e9), shape(1, 1e9), (p, q) => {
        const [a, b] = p <= q ? [p, q] : [q, p];
        const { mean, sd } = betaSpread(a, b);
        const lnPeak = betaLogPdf(Math.min(Math.max(mean, 1e-300), LAST_BELOW_ONE), a, b);
        const points = [0, 1];
        for (const k of [0, 0.5, 1, 2, 4, 8, 16, 32, 64]) points.push(mean - k * sd, mean + k * sd);
        const breakpoints = [...new Set(points.filter((p) => p >= 0 && p <= 1))].sort((p, q) => p - q);
        const total = integrate((t) => Math.exp(betaLogPdf(t, a, b) - lnPeak), breakpoints, 0, 1e-13, 5_000).value * Math.exp(lnPeak);
        expect(Math.abs(total - 1)).toBeLessThanOrEqual(1e-11 + (2 * EPSILON * mean) / sd);
      }),
      RUNS,
    );
  });
});

describe('betainc (regularized, with the upper tail)', () => {
  it('exact values', () => {
    for (const a of [0.5, 1, 2.5, 17, 1e3, 1e6, 1e8, 1e9]) {
      expect(Math.abs(betainc(0.5, a, a) - 0.5), `I_½(${a}, ${a})`).toBeLessThan(1e-14);
      expect(Math.abs(betainc(0.5, a, a, true) - 0.5)).toBeLessThan(1e-14);
    }
    // A result formed as exp(L) carries the rounding of L: a few ulps of |L| relative.
    const bound = (value: number): number => 8 * EPSILON * (1 + Math.abs(Math.log(value)));
    for (const x of [1e-300, 0.01, 0.3, 0.5, 0.99]) {
      expect(relativeError(betainc(x, 1, 1), x)).toBeLessThan(bound(x));
      expect(relativeError(betainc(1 - x, 1, 1, true), 1 - (1 - x))).toBeLessThan(bound(x));
      const cubic = x * x * (3 - 2 * x);
      if (cubic > 0) expect(relativeError(betainc(x, 2, 2), cubic)).toBeLessThan(bound(cubic));
    }
    expect(betainc(0, 2, 3)).toBe(0);
    expect(betainc(0, 2, 3, true)).toBe(1);
    expect(betainc(1, 2, 3)).toBe(1);
    expect(betainc(1, 2, 3, true)).toBe(0);
    expect(betainc(-0.5, 2, 3)).toBe(0);
    expect(betainc(0.5, 0, 3)).toBeNaN();
    expect(betainc(0.5, 2, Infinity)).toBeNaN();
    expect(betainc(Number.NaN, 2, 3)).toBeNaN();
  });

  it('matches mpmath to 1e-12 relative with a, b up to 1e9, next to the mean and in tails down to 1e-300', () => {
    // The reference values were computed with the continued fraction at 60 digits and checked
    // by an independent method (the hypergeometric series, or quadrature of the density).
    for (const [x, a, b, upper, reference] of BETAINC_REFERENCE) {
      expect(relativeError(betainc(x, a, b, upper), reference), `betainc(${x}, ${a}, ${b}, ${upper})`).toBeLessThanOrEqual(1e-12);
    }
  });

  it('matches @stdlib to 1e-9 relative for a, b in [0.5, 1e6], x in [1e-300, 1), where @stdlib ≥ 1e-290', () => {
    // Skipped, should the generator hit one: a point where @stdlib's two tails do not add up to 1,
    // as within a few ulps of 1 (at x = 1 − 2⁻⁵³, a = b = ½ its lower tail is 0.99999999051; the
    // exact value, which betainc returns, is 1 − 6.7079e-9 = 0.99999999329).
    fc.assert(
      fc.property(betaCase(0.5, 1e6), ([a, b, x, upper]) => {
        const reference = stdBetainc(x, a, b, true, upper);
        fc.pre(reference >= 1e-290);
        fc.pre(Math.abs(reference + stdBetainc(x, a, b, true, !upper) - 1) <= 2 * EPSILON);
        expect(relativeError(betainc(x, a, b, upper), reference)).toBeLessThanOrEqual(1e-9);
      }),
      RUNS,
    );
  });

  it('equals the binomial tail for whole a or b up to 60 and the other up to 1e9 (the canary’s own posterior)', () => {
    // For whole a, b: 1 − I_x(a, b) = P(Bin(a + b − 1, x) ≤ a − 1), a finite sum of a terms, exact
    // up to the rounding of its exponents (bounded below). This is where @stdlib drifts by 1e-8.
    const cases = fc
      .tuple(fc.integer({ min: 1, max: 60 }), logUniform(1, 1e9).map(Math.round), fc.boolean())
      .chain(([small, large, swap]) => {
        const [a, b] = swap ? [large, small] : [small, large];
        return pointFor(a, b).map((x) => [a, b, x, swap] as const);
      });
    fc.assert(
      fc.property(cases, ([a, b, x, swap]) => {
        // Not swapped: the upper tail of Beta(a, b) with a small, Σ_{j<a} C(n, j) xʲ (1 − x)ⁿ⁻ʲ.
        // Swapped (b small): the lower tail, Σ_{j<b} C(n, j) (1 − x)ʲ xⁿ⁻ʲ.
        const n = a + b - 1;
        const terms = swap ? b : a;
        const [lnP, lnQ] = swap ? [Math.log1p(-x), Math.log(x)] : [Math.log(x), Math.log1p(-x)];
        let sum = 0;
        let exponentSize = 0;
        for (let j = 0; j < terms; j++) {
          const c = binomcoefln(n, j);
          sum += Math.exp(c + j * lnP + (n - j) * lnQ);
          exponentSize = Math.max(exponentSize, Math.abs(c) + Math.abs(j * lnP) + Math.abs((n - j) * lnQ));
        }
        fc.pre(sum >= 1e-290);
        const tail = betainc(x, a, b, !swap);
        expect(relativeError(tail, sum)).toBeLessThanOrEqual(1e-12 + 8 * EPSILON * exponentSize);
      }),
      RUNS,
    );
  });

  it('equals the closed forms I_x(a, 1) = xᵃ and I_x(1, b) = 1 − (1 − x)ᵇ with a, b up to 1e9', () => {
    fc.assert(
      fc.property(
        logUniform(0.5, 1e9).chain((p) => pointFor(p, 1).map((x) => [p, x] as const)),
        fc.boolean(),
        ([p, x], upper) => {
          const lnXa = p * Math.log(x);
          const lower = Math.exp(lnXa); // I_x(p, 1)
          const upperTail = -Math.expm1(lnXa);
          const bound = 1e-13 + 4 * EPSILON * Math.abs(lnXa);
          const expected = upper ? upperTail : lower;
          if (expected >= 1e-290) expect(relativeError(betainc(x, p, 1, upper), expected)).toBeLessThanOrEqual(bound);
          // I_y(1, p) with y = 1 − x is the mirror image: its tails swap.
          const y = 1 - x;
          if (1 - y === x && expected >= 1e-290) expect(relativeError(betainc(y, 1, p, !upper), expected)).toBeLessThanOrEqual(bound);
        },
      ),
      RUNS,
    );
  });

  it('equals the Gauss–Kronrod integral of the density to 1e-9 for a, b in [1, 1e9], where @stdlib cannot be used', () => {
    fc.assert(
      fc.property(betaCase(1, 1e9), ([a, b, x]) => {
        // Integrated in s = x or s = 1 − x (Beta(b, a)), whichever is below ½ and so exact and
        // finely resolved by doubles: near 1 they are 1.1e-16 apart, a tenth of a percent of the
        // spread of Beta(1e9, 1). The tail taken is the one away from the mean, which betainc
        // computes directly (the other is 1 − it).
        const mirror = x > 0.5;
        const [p, q, s] = mirror ? [b, a, 1 - x] : [a, b, x];
        const { mean, sd } = betaSpread(p, q);
        const upper = s > mean;
        const lnScale = betaLogPdf(s, p, q);
        fc.pre(lnScale > -600);
        const step = sd / (1 + Math.abs(s - mean) / sd);
        // Geometric steps away from s down to the end of the interval, so that no stretch of the
        // tail is wider than its own scale.
        const points = [s, upper ? 1 : 0];
        for (let k = -30; k <= 100; k++) points.push(upper ? s + step * 2 ** k : s - step * 2 ** k);
        for (const k of [0, 0.5, 1, 2, 4, 8, 16, 32, 64]) points.push(mean - k * sd, mean + k * sd);
        const breakpoints = [...new Set(points.filter((t) => (upper ? t >= s && t <= 1 : t >= 0 && t <= s)))].sort((t, u) => t - u);
        const integral = integrate((t) => Math.exp(betaLogPdf(t, p, q) - lnScale), breakpoints, 0, 1e-13, 5_000).value * Math.exp(lnScale);
        fc.pre(integral >= 1e-290);
        expect(relativeError(betainc(x, a, b, mirror ? !upper : upper), integral)).toBeLessThanOrEqual(1e-9);
      }),
      RUNS,
    );
  });
});

// Reference values: mpmath 1.3 with 60 significant digits (loggamma, ncdf, and for the incomplete
// beta the continued fraction [AS] 26.5.8 evaluated in that precision), rounded to 20 digits.

/** [x, ln Γ(x)] */
const LGAMMA_REFERENCE: readonly (readonly [number, number])[] = [
  [1e-300, 690.77552789821370518],
  [0.001, 6.9071788853838536617],
  [0.1, 2.252712651734205902],
  [0.9999999999, 5.77215712742817838e-11],
  [1.0000000009313226, -5.3757397843110444569e-10],
  [1.5, -0.12078223763524522235],
  [1.999999999999, -4.2282192087173952615e-13],
  [2.5, 0.28468287047291915963],
  [3.7, 1.4280723266653881292],
  [9.99, 12.77931521435019336],
  [10, 12.801827480081469611],
  [10.01, 12.824350262448247282],
  [100.5, 361.43554046777762156],
  [12345.678, 1.0395991990554605982e5],
  [1000000.5, 1.2815511476902765642e7],
  [123456789.25, 2.1767162438811204325e9],
  [1000000000, 1.9723265827503716771e10],
  [2500000000, 5.1598891412150575802e10],
];

/** [a, b, ln B(a, b)] */
const BETALN_REFERENCE: readonly (readonly [number, number, number])[] = [
  [0.5, 1000000000, -9.789267975423505491],
  [1000000000, 1000000000, -1.3862943702160114137e9],
  [1000000000, 3, -61.476650333279288157],
  [7.5, 9.5, -11.448162448524671366],
  [0.001, 0.7, 6.9083974929843949681],
  [12.5, 100000000, -211.52416250621809395],
  [330000000, 610000000, -6.0921655157629793668e8],
  [1000000, 1000001, -1.3863006965101016763e6],
  [1, 1, 0],
  [2, 0.6180339887498949, -1.2146578857044198648e-16],
];

/** [n, k, ln C(n, k)] */
const BINOMCOEFLN_REFERENCE: readonly (readonly [number, number, number])[] = [
  [2000000000, 1000000000, 1.3862943501858927573e9],
  [1000000000, 3, 60.378038038611178465],
  [1000000000, 123456, 1.2344993937383961912e6],
  [1999999999, 77, 1388.4988598746262191],
  [100, 50, 66.783841652017426009],
  [60, 30, 39.311700726011262416],
];

/** [x, a, b, ln f(x; a, b)] at the mean and 0.7, 1.5, 4, 9, 20 and 30 standard deviations away. */
const LOGPDF_REFERENCE: readonly (readonly [number, number, number, number])[] = [
  [0.5, 1000000000, 1000000000, 10.4824151559834508],
  [0.5000078262379193, 1000000000, 1000000000, 10.237415156321487016],
  [0.49998322949017293, 1000000000, 1000000000, 9.3574151570364021415],
  [0.5000447213595388, 1000000000, 1000000000, 2.4824151359843448514],
  [0.49989937694103764, 1000000000, 1000000000, -30.017585603409385838],
  [0.5002236067976941, 1000000000, 1000000000, -189.51760454399682192],
  [0.4996645898034589, 1000000000, 1000000000, -439.51768541899642532],
  [0.35106382978723405, 330000000, 610000000, 10.151360752559112453],
  [0.35107472731907985, 330000000, 610000000, 9.9063488320780085207],
  [0.35104047793327875, 330000000, 610000000, 9.0263683878885507335],
  [0.3511261013977815, 330000000, 610000000, 2.1517135077060110883],
  [0.35092371866350236, 330000000, 610000000, -30.35340460870448716],
  [0.3513751878399712, 330000000, 610000000, -189.79482458207029098],
  [0.3505967927081284, 330000000, 610000000, -440.03152201941891872],
  [0.000999000999000999, 1000000, 1000000000, 12.89807119192581008],
  [0.0009996999503116204, 1000000, 1000000000, 12.652486588261781789],
  [0.0009975032461925248, 1000000, 1000000000, 11.773445491266023605],
  [0.0010029950064902639, 1000000, 1000000000, 4.9153228505730598309],
  [0.0009900144821501531, 1000000, 1000000000, -27.837186111713477816],
  [0.001018971036447323, 1000000, 1000000000, -184.49832462720043156],
  [0.0009690459428315128, 1000000, 1000000000, -446.26509025441098002],
  [1.0099998979900104e-07, 101, 1000000000, 17.495942117008858395],
  [1.0803490166447903e-07, 101, 1000000000, 17.194421786979676353],
  [8.592517865869105e-08, 101, 1000000000, 16.406403264415180678],
  [1.41199486173161e-07, 101, 1000000000, 10.801767935997296154],
  [1.0551122957141135e-08, 101, 1000000000, -117.94399810159370527],
  [3.019974716698008e-07, 101, 1000000000, -73.971757099113891111],
  [0.9999999975, 1000000000, 2.5, 19.313019071612195557],
  [0.9999999986067972, 1000000000, 2.5, 19.542788070787102767],
  [0.9999999951282917, 1000000000, 2.5, 17.942041673522069368],
  [0.9999999832697506, 1000000000, 2.5, 7.9341610711410806401],
  [0.9999999500658353, 1000000000, 2.5, -23.629524772965586197],
  [0.4999999850000004, 50000000, 50000003, 8.9845490318314556037],
  [0.5000349849993004, 50000000, 50000003, 8.7395490385778893905],
  [0.4999249850015004, 50000000, 50000003, 7.8595490529259344812],
  [0.5001999849960004, 50000000, 50000003, 0.98454863194105161304],
  [0.49954998500900044, 50000000, 50000003, -31.515466157081870399],
  [0.5009999849800004, 50000000, 50000003, -191.01584495331670368],
  [0.4984999850300004, 50000000, 50000003, -441.01746253401263122],
  [1.3636363450413226e-08, 12, 880000000, 18.42709778768518912],
  [1.6391898768162116e-08, 12, 880000000, 18.026746177689165218],
  [7.731644912379886e-09, 12, 880000000, 17.381648061068921271],
  [2.9382279551835464e-08, 12, 880000000, 13.014860571094271046],
  [9.236594395752441e-08, 12, 880000000, -29.811735009126922808],
  [4.9999999975e-10, 0.5, 1000000000, 19.997474485051683736],
  [9.94974745961865e-10, 0.5, 1000000000, 19.158445109979081115],
  [3.328427120960656e-09, 0.5, 1000000000, 16.221223842545922847],
  [1.464213560580328e-08, 0.5, 1000000000, 4.1668135092355860097],
  [0.9999999995, 1000000000, 0.5, 19.997474401811314457],
  [0.9999999999949747, 1000000000, 0.5, 22.792509299997731357],
  [0.9999999984393398, 1000000000, 0.5, 18.367686283028764133],
  [0.9999999931360389, 1000000000, 0.5, 12.32379746601143037],
  [0.9999999782867965, 1000000000, 0.5, -3.1012630424603729948],
  [0.4, 2000000, 3000000, 7.5070938270368095755],
  [0.40015336230076526, 2000000, 3000000, 7.2619870405786103723],
  [0.39967136649836027, 2000000, 3000000, 6.3821627095882976602],
  [0.4008763560043727, 2000000, 3000000, -0.48975140779870602813],
  [0.3980281989901615, 2000000, 3000000, -33.035986505648115339],
  [0.40438178002186337, 2000000, 3000000, -192.01885028692785109],
  [0.393427329967205, 2000000, 3000000, -444.17795205770769816],
  [0.004977599558210054, 1000.5, 200000, 7.840408285160092457],
  [0.005087481113366453, 1000.5, 200000, 7.5772140554739425332],
  [0.004742139082874912, 1000.5, 200000, 6.727034590222731096],
  [0.005605494159103764, 1000.5, 200000, 0.33413191707071519382],
  [0.0035648367061992055, 1000.5, 200000, -42.058967613140679643],
  [0.008117072562678605, 1000.5, 200000, -135.41239110566934754],
  [0.00026839005150722586, 1000.5, 200000, -1966.6452822507156561],
];

/**
 * [x, a, b, upper, I_x(a, b) or 1 − I_x(a, b)] at the mean and 0.3, 2, 5, 12, 25 and 37 standard
 * deviations away, for both tails where they are ≥ 1e-300, then a few at the edges (x subnormal,
 * x = 1 − 2⁻⁵³).
 */
const BETAINC_REFERENCE: readonly (readonly [number, number, number, boolean, number])[] = [
  [0.5, 1000000000, 1000000000, false, 0.5],
  [0.5, 1000000000, 1000000000, true, 0.5],
  [0.5000033541019654, 1000000000, 1000000000, false, 0.61791142214666453198],
  [0.5000033541019654, 1000000000, 1000000000, true, 0.38208857785333546802],
  [0.4999966458980346, 1000000000, 1000000000, false, 0.38208857785333546802],
  [0.4999966458980346, 1000000000, 1000000000, true, 0.61791142214666453198],
  [0.5000223606797695, 1000000000, 1000000000, false, 0.97724986806558056869],
  [0.5000223606797695, 1000000000, 1000000000, true, 0.022750131934419431306],
  [0.49994409830057646, 1000000000, 1000000000, false, 2.866515514335257444e-7],
  [0.49994409830057646, 1000000000, 1000000000, true, 0.99999971334844856647],
  [0.5001341640786164, 1000000000, 1000000000, false, 1.0],
  [0.5001341640786164, 1000000000, 1000000000, true, 1.7764775724960559404e-33],
  [0.4997204915028824, 1000000000, 1000000000, false, 3.0565479366297252e-138],
  [0.4997204915028824, 1000000000, 1000000000, true, 1.0],
  [0.500413672575734, 1000000000, 1000000000, false, 1.0],
  [0.500413672575734, 1000000000, 1000000000, true, 5.724232012384337545e-300],
  [0.49958632742426595, 1000000000, 1000000000, false, 5.7242320113319852942e-300],
  [0.49958632742426595, 1000000000, 1000000000, true, 1.0],
  [0.35106382978723405, 330000000, 610000000, false, 0.50000270683047524175],
  [0.35106382978723405, 330000000, 610000000, true, 0.49999729316952475825],
  [0.3510685001580251, 330000000, 610000000, false, 0.61791377692559320517],
  [0.3510685001580251, 330000000, 610000000, true, 0.38208622307440679483],
  [0.351059159416443, 330000000, 610000000, false, 0.38209093273051392053],
  [0.351059159416443, 330000000, 610000000, true, 0.61790906726948607947],
  [0.35109496559250775, 330000000, 610000000, false, 0.97724876910275845656],
  [0.35109496559250775, 330000000, 610000000, true, 0.022751230897241543441],
  [0.35098599027404975, 330000000, 610000000, false, 2.8640951404580032451e-7],
  [0.35098599027404975, 330000000, 610000000, true, 0.9999997135904859542],
  [0.35125064461887634, 330000000, 610000000, false, 1.0],
  [0.35125064461887634, 330000000, 610000000, true, 1.7974164774025534267e-33],
  [0.3506746322213126, 330000000, 610000000, false, 2.7488306951779749553e-138],
  [0.3506746322213126, 330000000, 610000000, true, 1.0],
  [0.3516398421847977, 330000000, 610000000, false, 1.0],
  [0.3516398421847977, 330000000, 610000000, true, 8.0682138479902910686e-300],
  [0.3504878173896704, 330000000, 610000000, false, 4.0575073060109527385e-300],
  [0.3504878173896704, 330000000, 610000000, true, 1.0],
  [0.000999000999000999, 1000000, 1000000000, false, 0.50013278140601544273],
  [0.000999000999000999, 1000000, 1000000000, true, 0.49986721859398455727],
  [0.0009993005495626938, 1000000, 1000000000, false, 0.61802692989384866976],
  [0.0009993005495626938, 1000000, 1000000000, true, 0.38197307010615133024],
  [0.0009987014484393042, 1000000, 1000000000, false, 0.38220409852317573486],
  [0.0009987014484393042, 1000000, 1000000000, true, 0.61779590147682426514],
  [0.0010009980027456313, 1000000, 1000000000, false, 0.97719598498633791242],
  [0.0010009980027456313, 1000000, 1000000000, true, 0.022804015013662087584],
  [0.000994008489639418, 1000000, 1000000000, false, 2.7497522936312680441e-7],
  [0.000994008489639418, 1000000, 1000000000, true, 0.99999972502477063687],
  [0.0010109830214687936, 1000000, 1000000000, false, 1.0],
  [0.0010109830214687936, 1000000, 1000000000, true, 3.1410780543252634656e-33],
  [0.0009740384521930938, 1000000, 1000000000, false, 1.5258759132740009742e-140],
  [0.0009740384521930938, 1000000, 1000000000, true, 1.0],
  [0.0010359455682766986, 1000000, 1000000000, false, 1.0],
  [0.0010359455682766986, 1000000, 1000000000, true, 7.6267232197625892173e-293],
  [0.0009620564297252994, 1000000, 1000000000, true, 1.0],
  [1.0099998979900104e-07, 101, 1000000000, false, 0.51323278991553860417],
  [1.0099998979900104e-07, 101, 1000000000, true, 0.48676721008446139583],
  [1.0401495202706303e-07, 101, 1000000000, false, 0.62936043529167526712],
  [1.0401495202706303e-07, 101, 1000000000, true, 0.37063956470832473288],
  [9.798502757093904e-08, 101, 1000000000, false, 0.39366505032909068434],
  [9.798502757093904e-08, 101, 1000000000, true, 0.60633494967090931566],
  [1.2109973798608102e-07, 101, 1000000000, false, 0.97216017351346101082],
  [1.2109973798608102e-07, 101, 1000000000, true, 0.027839826486538989176],
  [5.075061933130109e-08, 101, 1000000000, false, 3.3849021505338596223e-10],
  [5.075061933130109e-08, 101, 1000000000, true, 0.99999999966150978495],
  [2.215984789214809e-07, 101, 1000000000, false, 0.99999999999999999996],
  [2.215984789214809e-07, 101, 1000000000, true, 4.0314641088884921518e-20],
  [4.728453312599806e-07, 101, 1000000000, false, 1.0],
  [4.728453312599806e-07, 101, 1000000000, true, 1.7808301469223954683e-96],
  [0.9999999975, 1000000000, 2.5, false, 0.41588018948361173854],
  [0.9999999975, 1000000000, 2.5, true, 0.58411981051638826146],
  [0.9999999979743417, 1000000000, 2.5, false, 0.54205154049391658401],
  [0.9999999979743417, 1000000000, 2.5, true, 0.45794845950608341599],
  [0.9999999970256583, 1000000000, 2.5, false, 0.31124432775472094463],
  [0.9999999970256583, 1000000000, 2.5, true, 0.68875567224527905537],
  [0.9999999895943059, 1000000000, 2.5, false, 0.00087928356972793801578],
  [0.9999999895943059, 1000000000, 2.5, true, 0.99912071643027206198],
  [0.9999999579715294, 1000000000, 2.5, false, 1.1867294476342313511e-16],
  [0.9999999579715294, 1000000000, 2.5, true, 0.99999999999999988133],
  [0.9999999389978635, 1000000000, 2.5, false, 1.1806573331441621191e-24],
  [0.9999999389978635, 1000000000, 2.5, true, 1.0],
  [0.4999999850000004, 50000000, 50000003, false, 0.50000000000059226158],
  [0.4999999850000004, 50000000, 50000003, true, 0.49999999999940773842],
  [0.5000149849997004, 50000000, 50000003, false, 0.61791142135710931462],
  [0.5000149849997004, 50000000, 50000003, true, 0.38208857864289068538],
  [0.4999849850003004, 50000000, 50000003, false, 0.38208857864388578693],
  [0.4999849850003004, 50000000, 50000003, true, 0.61791142135611421307],
  [0.5000999849980005, 50000000, 50000003, false, 0.97724986832145971945],
  [0.5000999849980005, 50000000, 50000003, true, 0.02275013167854028055],
  [0.4997499850050004, 50000000, 50000003, false, 2.8665116295861792494e-7],
  [0.4997499850050004, 50000000, 50000003, true, 0.99999971334883704138],
  [0.5005999849880004, 50000000, 50000003, false, 1.0],
  [0.5005999849880004, 50000000, 50000003, true, 1.7763913284410416471e-33],
  [0.4987499850250004, 50000000, 50000003, false, 3.0537225811380498696e-138],
  [0.4987499850250004, 50000000, 50000003, true, 1.0],
  [0.5018499849630004, 50000000, 50000003, false, 1.0],
  [0.5018499849630004, 50000000, 50000003, true, 5.6988467803269495495e-300],
  [0.4981499850370004, 50000000, 50000003, false, 5.6988456252034715637e-300],
  [0.4981499850370004, 50000000, 50000003, true, 1.0],
  [1.3636363450413226e-08, 12, 880000000, false, 0.53840266615660060055],
  [1.3636363450413226e-08, 12, 880000000, true, 0.46159733384339939945],
  [1.4817307158019894e-08, 12, 880000000, false, 0.65080423376749371165],
  [1.4817307158019894e-08, 12, 880000000, true, 0.34919576623250628835],
  [1.2455419742806558e-08, 12, 880000000, false, 0.41605008673241083419],
  [1.2455419742806558e-08, 12, 880000000, true, 0.58394991326758916581],
  [2.1509321501124343e-08, 12, 880000000, false, 0.9641355530808968489],
  [2.1509321501124343e-08, 12, 880000000, true, 0.035864446919103151102],
  [6.087411175467994e-08, 12, 880000000, false, 0.99999999999822405851],
  [6.087411175467994e-08, 12, 880000000, true, 1.7759414912736897546e-12],
  [1.592860873885689e-07, 12, 880000000, false, 1.0],
  [1.592860873885689e-07, 12, 880000000, true, 1.4842122756165589984e-45],
  [4.9999999975e-10, 0.5, 1000000000, false, 0.68268949201610053188],
  [4.9999999975e-10, 0.5, 1000000000, true, 0.31731050798389946812],
  [7.121320338407992e-10, 0.5, 1000000000, false, 0.7672971684543360126],
  [7.121320338407992e-10, 0.5, 1000000000, true, 0.2327028315456639874],
  [2.878679656592008e-10, 0.5, 1000000000, false, 0.55201142970841827019],
  [2.878679656592008e-10, 0.5, 1000000000, true, 0.44798857029158172981],
  [1.914213560355328e-09, 0.5, 1000000000, false, 0.94960980146573667364],
  [1.914213560355328e-09, 0.5, 1000000000, true, 0.050390198534263326356],
  [8.98528136338197e-09, 0.5, 1000000000, false, 0.99997756523388909489],
  [8.98528136338197e-09, 0.5, 1000000000, true, 2.243476611090510927e-5],
  [2.666295087094857e-08, 0.5, 1000000000, false, 0.99999999999971744385],
  [2.666295087094857e-08, 0.5, 1000000000, true, 2.8255614585524062145e-13],
  [0.9999999995, 1000000000, 0.5, false, 0.31731048784216740844],
  [0.9999999995, 1000000000, 0.5, true, 0.68268951215783259156],
  [0.9999999997121319, 1000000000, 0.5, false, 0.44798849375746808244],
  [0.9999999997121319, 1000000000, 0.5, true, 0.55201150624253191756],
  [0.999999999287868, 1000000000, 0.5, false, 0.23270283607889270225],
  [0.999999999287868, 1000000000, 0.5, true, 0.76729716392110729775],
  [0.9999999959644661, 1000000000, 0.5, false, 0.0044977603387538173359],
  [0.9999999959644661, 1000000000, 0.5, true, 0.99550223966124618266],
  [0.9999999818223304, 1000000000, 0.5, false, 1.6442812301825523619e-9],
  [0.9999999818223304, 1000000000, 0.5, true, 0.99999999835571876982],
  [0.999999973337049, 1000000000, 0.5, false, 2.8255612075203874942e-13],
  [0.999999973337049, 1000000000, 0.5, true, 0.99999999999971744388],
  [0.4, 2000000, 3000000, false, 0.50002427885478645124],
  [0.4, 2000000, 3000000, true, 0.49997572114521354876],
  [0.400065726700328, 2000000, 3000000, false, 0.61793252690440671974],
  [0.400065726700328, 2000000, 3000000, true, 0.38206747309559328026],
  [0.39993427329967207, 2000000, 3000000, false, 0.38210971625096811223],
  [0.39993427329967207, 2000000, 3000000, true, 0.61789028374903188777],
  [0.40043817800218634, 2000000, 3000000, false, 0.97724001698937913808],
  [0.40043817800218634, 2000000, 3000000, true, 0.02275998301062086192],
  [0.3989045549945342, 2000000, 3000000, false, 2.8447867257450492475e-7],
  [0.3989045549945342, 2000000, 3000000, true, 0.9999997155213274255],
  [0.40262906801311804, 2000000, 3000000, false, 1.0],
  [0.40262906801311804, 2000000, 3000000, true, 1.9711002812345001587e-33],
  [0.39452277497267085, 2000000, 3000000, false, 1.1543696221317545653e-138],
  [0.39452277497267085, 2000000, 3000000, true, 1.0],
  [0.4081062930404472, 2000000, 3000000, false, 1.0],
  [0.4081062930404472, 2000000, 3000000, true, 1.1210797639579999501e-298],
  [0.39189370695955283, 2000000, 3000000, true, 1.0],
  [0.004977599558210054, 1000.5, 200000, false, 0.5041727405029707432],
  [0.004977599558210054, 1000.5, 200000, true, 0.4958272594970292568],
  [0.005024691653277082, 1000.5, 200000, false, 0.6215348034037307346],
  [0.005024691653277082, 1000.5, 200000, true, 0.3784651965962692654],
  [0.0049305074631430254, 1000.5, 200000, false, 0.38572546777229485143],
  [0.0049305074631430254, 1000.5, 200000, true, 0.61427453222770514857],
  [0.005291546858656909, 1000.5, 200000, false, 0.97558299564414322148],
  [0.005291546858656909, 1000.5, 200000, true, 0.024417004355856778517],
  [0.004192731307092916, 1000.5, 200000, false, 6.5317657478357122165e-8],
  [0.004192731307092916, 1000.5, 200000, true, 0.99999993468234252164],
  [0.006861283360891185, 1000.5, 200000, false, 1.0],
  [0.006861283360891185, 1000.5, 200000, true, 2.4193667506859605343e-27],
  [0.0010532583026243636, 1000.5, 200000, true, 1.0],
  [0.010785624616476874, 1000.5, 200000, false, 1.0],
  [0.010785624616476874, 1000.5, 200000, true, 3.4471439870240277871e-175],
  [5e-324, 0.7640862523697052, 5.169939390216412, false, 3.4594223677098129236e-247],
  [1e-300, 0.5, 3, false, 1.8750000000000000235e-150],
  [1e-200, 1.5, 1000000000, false, 2.3788321557624234801e-287],
  [0.9999999999999999, 2, 0.75, true, 1.8927607482098772086e-12],
  [0.999999, 1000000000, 100, false, 6.0328394123873805667e-294],
  [1e-07, 100, 1000000000, true, 0.48670080510393314864],
  [1.1e-07, 100, 1000000000, true, 0.15827840945198271473],
];
