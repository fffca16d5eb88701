import { RollbackTriggersError } from '../errors';
import { type ProportionCounts, validateCounts } from './counts';
import { integrate } from './quadrature';
import { betainc, betaln, betaLogPdf } from './special-functions';

/** Beta(alpha, beta) prior on an arm's bad ratio. */
export interface BetaPrior {
  readonly alpha: number;
  readonly beta: number;
}

/** The uniform prior Beta(1, 1), the one Evan Miller's closed form is written for. */
export const UNIFORM_PRIOR: BetaPrior = Object.freeze({ alpha: 1, beta: 1 });

export type BetaBinomialMethod = 'closedForm' | 'integration';

export interface BetaBinomialOptions {
  /** @default UNIFORM_PRIOR, Beta(1, 1) */
  readonly prior?: BetaPrior;
  /**
   * The canary counts as worse only beyond `baseline × (1 + maxRelativeIncrease)` …
   * @default 0
   */
  readonly maxRelativeIncrease?: number;
  /**
   * … or beyond `baseline + maxAbsoluteIncrease`, whichever is larger (either tolerance alone
   * lets a difference pass).
   * @default 0
   */
  readonly maxAbsoluteIncrease?: number;
  /**
   * `closedForm` needs no tolerance and a whole-number canary alpha; `auto` uses it when it
   * applies and the sum is short (≤ 1,000 terms), numerical integration otherwise.
   * @default 'auto'
   */
  readonly method?: 'auto' | BetaBinomialMethod;
}

export interface BetaPosterior {
  readonly alpha: number;
  readonly beta: number;
  readonly mean: number;
}

export interface BetaBinomialResult {
  /** P(p_canary > max(p_baseline × (1 + maxRelativeIncrease), p_baseline + maxAbsoluteIncrease) | data). */
  readonly probability: number;
  readonly method: BetaBinomialMethod;
  readonly canaryPosterior: BetaPosterior;
  readonly baselinePosterior: BetaPosterior;
  readonly maxRelativeIncrease: number;
  readonly maxAbsoluteIncrease: number;
}

/** Each term costs three log-beta evaluations (~10 µs): beyond this, integration is faster. */
const CLOSED_FORM_MAX_TERMS = 1_000;

/**
 * Bayesian beta-binomial comparison: with a Beta prior each arm's bad ratio has a Beta posterior
 * Beta(α0 + bad, β0 + good); this returns the posterior probability that the canary's ratio
 * exceeds the baseline's by more than the tolerance. Exact at any count, with no normal
 * approximation: either Evan Miller's closed form ("Formulas for Bayesian A/B Testing", 2015)
 * for P(p_canary > p_baseline), or adaptive Gauss–Kronrod integration of
 * ∫ f_baseline(y) · P(p_canary > g(y)) dy with g(y) = max(y(1 + rel), y + abs), using the Beta
 * log-density and the regularized incomplete beta function of ./special-functions.
 */
export function betaBinomialProbabilityWorse(
  canary: ProportionCounts,
  baseline: ProportionCounts,
  options: BetaBinomialOptions = {},
): BetaBinomialResult {
  validateCounts(canary, 'canary');
  validateCounts(baseline, 'baseline');
  const prior = options.prior ?? UNIFORM_PRIOR;
  validatePositive(prior.alpha, 'prior.alpha');
  validatePositive(prior.beta, 'prior.beta');
  const rel = options.maxRelativeIncrease ?? 0;
  const abs = options.maxAbsoluteIncrease ?? 0;
  validateNonNegative(rel, 'maxRelativeIncrease');
  validateNonNegative(abs, 'maxAbsoluteIncrease');

  const c = posterior(prior, canary);
  const b = posterior(prior, baseline);
  const closedFormApplies = rel === 0 && abs === 0 && Number.isInteger(c.alpha);
  const method = options.method ?? 'auto';
  if (method === 'closedForm' && !closedFormApplies) {
    throw new RollbackTriggersError(
      'RT603',
      `method closedForm needs no tolerance and a whole-number canary alpha (prior.alpha + bad), got alpha ${c.alpha}, maxRelativeIncrease ${rel}, maxAbsoluteIncrease ${abs} — use method 'integration'`,
    );
  }
  const useClosedForm = method === 'closedForm' || (method === 'auto' && closedFormApplies && c.alpha <= CLOSED_FORM_MAX_TERMS);
  const probability = useClosedForm ? closedForm(c, b) : integrated(c, b, rel, abs);
  return {
    probability: Math.min(1, Math.max(0, probability)),
    method: useClosedForm ? 'closedForm' : 'integration',
    canaryPosterior: c,
    baselinePosterior: b,
    maxRelativeIncrease: rel,
    maxAbsoluteIncrease: abs,
  };
}

function posterior(prior: BetaPrior, counts: ProportionCounts): BetaPosterior {
  const alpha = prior.alpha + counts.bad;
  const beta = prior.beta + counts.total - counts.bad;
  return { alpha, beta, mean: alpha / (alpha + beta) };
}

/**
 * Evan Miller's closed form, with B the canary and A the baseline:
 * P(p_B > p_A) = Σ_{i=0}^{α_B−1} B(α_A + i, β_A + β_B) / ((β_B + i) · B(1 + i, β_B) · B(α_A, β_A)).
 * Every term is positive, so the sum is numerically stable; terms are formed in log space.
 */
function closedForm(canary: BetaPosterior, baseline: BetaPosterior): number {
  const { alpha: aA, beta: bA } = baseline;
  const { alpha: aB, beta: bB } = canary;
  const logNorm = betaln(aA, bA);
  let sum = 0;
  for (let i = 0; i < aB; i++) {
    sum += Math.exp(betaln(aA + i, bA + bB) - Math.log(bB + i) - betaln(1 + i, bB) - logNorm);
  }
  return sum;
}

function integrated(canary: BetaPosterior, baseline: BetaPosterior, rel: number, abs: number): number {
  const threshold = (y: number): number => Math.max(y * (1 + rel), y + abs);
  // Beyond yMax the tolerated ratio reaches 1 and the canary can no longer exceed it.
  const yMax = Math.min(1 / (1 + rel), 1 - abs);
  if (!(yMax > 0)) return 0;
  const survival = (x: number): number => (x >= 1 ? 0 : x <= 0 ? 1 : betainc(x, canary.alpha, canary.beta, true));
  const integrand = (y: number): number => {
    const density = Math.exp(betaLogPdf(y, baseline.alpha, baseline.beta));
    return density === 0 ? 0 : density * survival(threshold(y));
  };
  // Breakpoints at geometric multiples of each posterior's spread around its mean (mapped through
  // the threshold for the canary) and at the threshold's kink (y·rel = abs). Either posterior can be
  // far narrower than the other (1e8 events against 100), and the adaptive rule only refines what
  // its nodes see, so every scale gets a segment of its own.
  const points = [0, yMax];
  for (const k of [0, 1, 2, 4, 8, 16, 32, 64]) {
    for (const sign of [-1, 1]) {
      points.push(baseline.mean + sign * k * spread(baseline));
      points.push(inverseThreshold(canary.mean + sign * k * spread(canary), rel, abs));
    }
  }
  if (rel > 0 && abs > 0) points.push(abs / rel);
  const breakpoints = [...new Set(points.filter((p) => p >= 0 && p <= yMax))].sort((p, q) => p - q);
  return integrate(integrand, breakpoints).value;
}

/** The standard deviation of a Beta posterior. */
function spread({ alpha, beta }: BetaPosterior): number {
  return Math.sqrt((alpha * beta) / ((alpha + beta) ** 2 * (alpha + beta + 1)));
}

/** The y with max(y(1 + rel), y + abs) = x. */
function inverseThreshold(x: number, rel: number, abs: number): number {
  return Math.min(x / (1 + rel), x - abs);
}

function validatePositive(value: number, prop: string): void {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new RollbackTriggersError('RT603', `${prop} must be a finite number above 0, got ${String(value)}`);
  }
}

function validateNonNegative(value: number, prop: string): void {
  if (!(Number.isFinite(value) && value >= 0)) {
    throw new RollbackTriggersError('RT603', `${prop} must be a finite number ≥ 0, got ${String(value)}`);
  }
}
