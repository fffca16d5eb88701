import { RollbackTriggersError } from '../errors';
import { normalCdf } from './special-functions';

export type MannWhitneyMethod = 'exact' | 'asymptotic';

export interface MannWhitneyOptions {
  /**
   * `auto` uses the exact null distribution when there are no ties and both samples have fewer
   * than 50 values (R's `wilcox.test` rule), the normal approximation otherwise. `exact` throws
   * on ties: the exact distribution assumes none.
   * @default 'auto'
   */
  readonly method?: 'auto' | MannWhitneyMethod;
  /** Continuity correction of the normal approximation. @default true */
  readonly continuityCorrection?: boolean;
}

export interface MannWhitneyResult {
  readonly method: MannWhitneyMethod;
  readonly canaryCount: number;
  readonly baselineCount: number;
  /** U of the canary: pairs where the canary value is larger, ties counting ½ (R's W, scipy's U1). */
  readonly u: number;
  /** U of the baseline: canaryCount × baselineCount − u. */
  readonly uBaseline: number;
  /**
   * Standardized U, positive when the canary is slower: (U − n₁n₂/2 ∓ ½) / σ with the tie-corrected
   * σ (and the continuity correction toward 0 when enabled). Given for both methods; 0 when σ = 0.
   */
  readonly z: number;
  /** One-sided p for "the canary's values are stochastically larger" (R: `alternative = "greater"`). */
  readonly pCanarySlower: number;
  /** One-sided p for "the canary's values are stochastically smaller". */
  readonly pCanaryFaster: number;
  readonly pTwoSided: number;
  readonly hasTies: boolean;
  /** U / (n₁n₂): P(canary > baseline) + ½ P(tie) for a random pair (McGraw & Wong 1992). */
  readonly commonLanguageEffectSize: number;
  /** 2 × commonLanguageEffectSize − 1, in [−1, 1]; equals Cliff's delta (Kerby 2014). */
  readonly rankBiserial: number;
  readonly canaryMedian: number;
  readonly baselineMedian: number;
}

/** R's wilcox.test computes the exact distribution below this size (both samples). */
const EXACT_MAX_EXCLUSIVE = 50;

/**
 * Mann–Whitney U test (Mann & Whitney 1947), canary against baseline, with mid-ranks for ties.
 * Exact p-values come from the null distribution of U counted by the recurrence
 * c(m, n, u) = c(m − 1, n, u − n) + c(m, n − 1, u) of Mann & Whitney (1947), which adds only
 * positive numbers and so stays accurate in doubles. The normal approximation uses the tie-corrected
 * variance σ² = n₁n₂/12 · ((N + 1) − Σ(t³ − t) / (N(N − 1))) and R's continuity correction.
 */
export function mannWhitneyU(
  canary: readonly number[],
  baseline: readonly number[],
  options: MannWhitneyOptions = {},
): MannWhitneyResult {
  validateSample(canary, 'canary');
  validateSample(baseline, 'baseline');
  const n1 = canary.length;
  const n2 = baseline.length;
  const { canaryRankSum, tieTerm } = rankSum(canary, baseline);
  const u = canaryRankSum - (n1 * (n1 + 1)) / 2;
  const hasTies = tieTerm > 0;

  const requested = options.method ?? 'auto';
  if (requested === 'exact' && hasTies) {
    throw new RollbackTriggersError('RT602', 'method exact needs samples without ties — use method auto or asymptotic');
  }
  const method: MannWhitneyMethod =
    requested === 'auto' ? (!hasTies && n1 < EXACT_MAX_EXCLUSIVE && n2 < EXACT_MAX_EXCLUSIVE ? 'exact' : 'asymptotic') : requested;

  const correction = (options.continuityCorrection ?? true) ? 0.5 : 0;
  const mean = (n1 * n2) / 2;
  const n = n1 + n2;
  const sigma = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  const standardize = (shift: number): number => (sigma > 0 ? (u - mean - shift) / sigma : 0);
  const z = standardize(Math.sign(u - mean) * correction);

  let pCanarySlower: number;
  let pCanaryFaster: number;
  if (method === 'exact') {
    const distribution = exactDistribution(n1, n2);
    pCanarySlower = tailSum(distribution, u, n1 * n2);
    pCanaryFaster = tailSum(distribution, 0, u);
  } else if (sigma > 0) {
    pCanarySlower = normalCdf(-standardize(correction));
    pCanaryFaster = normalCdf(standardize(-correction));
  } else {
    // Every value is tied: no evidence either way.
    pCanarySlower = 1;
    pCanaryFaster = 1;
  }
  // Two-sided as R and scipy: twice the smaller tail (for the normal approximation, with the
  // correction toward the mean), capped at 1.
  const pTwoSided =
    method === 'exact' || sigma === 0
      ? Math.min(1, 2 * Math.min(pCanarySlower, pCanaryFaster))
      : Math.min(1, 2 * normalCdf(-Math.abs(z)));

  const commonLanguageEffectSize = u / (n1 * n2);
  return {
    method,
    canaryCount: n1,
    baselineCount: n2,
    u,
    uBaseline: n1 * n2 - u,
    z,
    pCanarySlower: clamp01(pCanarySlower),
    pCanaryFaster: clamp01(pCanaryFaster),
    pTwoSided: clamp01(pTwoSided),
    hasTies,
    commonLanguageEffectSize,
    rankBiserial: 2 * commonLanguageEffectSize - 1,
    canaryMedian: median(canary),
    baselineMedian: median(baseline),
  };
}

/** The median of a non-empty sample. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Sum of the canary's mid-ranks in the pooled sample, and Σ(t³ − t) over tie groups. */
function rankSum(canary: readonly number[], baseline: readonly number[]): { canaryRankSum: number; tieTerm: number } {
  const pooled = [...canary.map((value) => ({ value, isCanary: true })), ...baseline.map((value) => ({ value, isCanary: false }))];
  pooled.sort((a, b) => a.value - b.value);
  let canaryRankSum = 0;
  let tieTerm = 0;
  for (let start = 0; start < pooled.length; ) {
    let end = start + 1;
    while (end < pooled.length && pooled[end].value === pooled[start].value) end++;
    const size = end - start;
    const midRank = (start + 1 + end) / 2; // ranks start+1 … end
    for (let i = start; i < end; i++) if (pooled[i].isCanary) canaryRankSum += midRank;
    tieTerm += size ** 3 - size;
    start = end;
  }
  return { canaryRankSum, tieTerm };
}

/**
 * Probabilities of U = 0 … m·n under the null, for samples of m and n without ties: the count of
 * orderings with U = u satisfies c(m, n, u) = c(m − 1, n, u − n) + c(m, n − 1, u), split on whether
 * the largest value is a canary one (it beats all n baseline values) or a baseline one.
 */
function exactDistribution(m: number, n: number): Float64Array {
  // byCanaryCount[j] holds the counts c(j, col, ·) for the current number of baseline values col.
  let byCanaryCount: Float64Array[] = Array.from({ length: m + 1 }, () => Float64Array.of(1));
  for (let col = 1; col <= n; col++) {
    const next: Float64Array[] = [Float64Array.of(1)];
    for (let j = 1; j <= m; j++) {
      const counts = new Float64Array(j * col + 1);
      const canaryLargest = next[j - 1];
      for (let u = 0; u < canaryLargest.length; u++) counts[u + col] += canaryLargest[u];
      const baselineLargest = byCanaryCount[j];
      for (let u = 0; u < baselineLargest.length; u++) counts[u] += baselineLargest[u];
      next.push(counts);
    }
    byCanaryCount = next;
  }
  const counts = byCanaryCount[m];
  const total = counts.reduce((sum, c) => sum + c, 0);
  return counts.map((c) => c / total);
}

/** Σ P(U = u) for u in [from, to]; U is a whole number without ties. */
function tailSum(distribution: Float64Array, from: number, to: number): number {
  let sum = 0;
  for (let u = Math.max(0, Math.ceil(from)); u <= Math.min(distribution.length - 1, Math.floor(to)); u++) sum += distribution[u];
  return sum;
}

function validateSample(values: readonly number[], arm: string): void {
  if (!Array.isArray(values) || values.length === 0) {
    throw new RollbackTriggersError('RT602', `${arm} must be a non-empty array of numbers, got ${Array.isArray(values) ? 'an empty array' : String(values)}`);
  }
  const bad = values.findIndex((v) => typeof v !== 'number' || !Number.isFinite(v));
  if (bad >= 0) {
    throw new RollbackTriggersError('RT602', `${arm}[${bad}] must be a finite number, got ${String(values[bad])}`);
  }
}

function clamp01(p: number): number {
  return Math.min(1, Math.max(0, p));
}
