import { type ProportionCounts, validateCounts } from './counts';
import { binomcoefln } from './special-functions';

/** Fisher's exact test on the 2×2 table canary/baseline × bad/good. */
export interface FisherExactResult {
  /**
   * P(canary bad ≥ observed | table margins): evidence that the canary is worse. Equal to R's
   * `fisher.test(matrix(c(canaryBad, baselineBad, canaryGood, baselineGood), 2), alternative = "greater")`.
   */
  readonly pCanaryWorse: number;
  /** P(canary bad ≤ observed | margins): evidence that the canary is better (R: `"less"`). */
  readonly pCanaryBetter: number;
  /** Sum of the probabilities of all tables no more likely than the observed one (R: `"two.sided"`). */
  readonly pTwoSided: number;
}

/**
 * R's fisher.test treats tables whose probability is within this relative distance of the
 * observed one as "as extreme", so float noise in the log-probabilities cannot drop a tie.
 */
const RELATIVE_TIE_TOLERANCE = 1e-7;

/** A tail's remaining terms below this fraction of its running sum are dropped (double precision). */
const NEGLIGIBLE = 1e-17;

/**
 * Fisher's exact test (Fisher 1922; Agresti 1992, "A survey of exact inference for contingency
 * tables"). Given the margins, the canary's bad count X is hypergeometric: draw `canary.total`
 * events from all events, of which `canary.bad + baseline.bad` are bad. Exact at any count, which
 * is why it judges 3 errors honestly where a normal approximation would not.
 *
 * Probabilities are computed in log space (log binomial coefficients from ./special-functions),
 * and each tail is summed outward from its largest term until the rest is provably negligible: the
 * hypergeometric pmf is log-concave, so the remaining terms are bounded by a geometric series.
 * The cost therefore grows with the spread of the distribution, not with the request count.
 */
export function fisherExact(canary: ProportionCounts, baseline: ProportionCounts): FisherExactResult {
  validateCounts(canary, 'canary');
  validateCounts(baseline, 'baseline');

  const population = canary.total + baseline.total;
  const badEvents = canary.bad + baseline.bad;
  const draws = canary.total;
  const observed = canary.bad;
  const lo = Math.max(0, draws - (population - badEvents));
  const hi = Math.min(draws, badEvents);
  if (lo === hi) {
    // The margins leave one possible table: nothing to test.
    return { pCanaryWorse: 1, pCanaryBetter: 1, pTwoSided: 1 };
  }

  const logDenominator = binomcoefln(population, draws);
  const logPmf = (k: number): number =>
    binomcoefln(badEvents, k) + binomcoefln(population - badEvents, draws - k) - logDenominator;
  // The pmf rises up to the mode and falls after it.
  const mode = clamp(Math.floor(((draws + 1) * (badEvents + 1)) / (population + 2)), lo, hi);

  const mass = (from: number, to: number): number => rangeMass(logPmf, mode, from, to);

  const pCanaryWorse = mass(observed, hi);
  const pCanaryBetter = mass(lo, observed);

  // Two-sided (R's method): sum the tables with probability ≤ observed × (1 + 1e-7). By
  // unimodality they form the two ends of the support: [lo, left] and [right, hi].
  const threshold = logPmf(observed) + Math.log1p(RELATIVE_TIE_TOLERANCE);
  let pTwoSided: number;
  if (logPmf(mode) <= threshold) {
    pTwoSided = 1;
  } else {
    const left = lastAtOrBelow(logPmf, lo, mode, threshold); // pmf non-decreasing on [lo, mode]
    const right = firstAtOrBelow(logPmf, mode, hi, threshold); // pmf non-increasing on [mode, hi]
    pTwoSided = Math.min(1, mass(lo, left) + mass(right, hi));
  }

  return { pCanaryWorse, pCanaryBetter, pTwoSided };
}

/** Σ pmf(k) for k in [from, to], from its largest term outward. */
function rangeMass(logPmf: (k: number) => number, mode: number, from: number, to: number): number {
  if (from > to) return 0;
  const peak = clamp(mode, from, to);
  const logPeak = logPmf(peak);
  let sum = 1;
  for (const step of [1, -1]) {
    let previous = 1;
    for (let k = peak + step; k >= from && k <= to; k += step) {
      const term = Math.exp(logPmf(k) - logPeak);
      sum += term;
      // Log-concavity: term ratios only shrink moving away from the mode, so what is left is at
      // most term × r / (1 − r).
      const ratio = term / previous;
      if (ratio < 1 && (term * ratio) / (1 - ratio) <= NEGLIGIBLE * sum) break;
      previous = term;
    }
  }
  return Math.min(1, Math.exp(logPeak) * sum);
}

/** The largest k in [lo, hi] with f(k) ≤ threshold for a non-decreasing f, or lo − 1. */
function lastAtOrBelow(f: (k: number) => number, lo: number, hi: number, threshold: number): number {
  let a = lo - 1;
  let b = hi;
  while (a < b) {
    const m = Math.ceil((a + b) / 2);
    if (f(m) <= threshold) a = m;
    else b = m - 1;
  }
  return a;
}

/** The smallest k in [lo, hi] with f(k) ≤ threshold for a non-increasing f, or hi + 1. */
function firstAtOrBelow(f: (k: number) => number, lo: number, hi: number, threshold: number): number {
  let a = lo;
  let b = hi + 1;
  while (a < b) {
    const m = Math.floor((a + b) / 2);
    if (f(m) <= threshold) b = m;
    else a = m + 1;
  }
  return a;
}

function clamp(value: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, value));
}
