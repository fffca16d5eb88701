import { RollbackTriggersError } from '../errors';
import { type BetaPrior, UNIFORM_PRIOR, betaBinomialProbabilityWorse } from './beta-binomial';
import { type ProportionCounts, validateCounts } from './counts';
import { type FisherExactResult, fisherExact } from './fisher';

// The canary judge: compares the new version (canary) with the old one (baseline) on the same
// minutes, metric by metric — each a ratio of bad events, judged by Fisher's exact test and a
// beta-binomial posterior — and combines the classifications into a score as Kayenta does
// (Netflix & Google, "Automated Canary Analysis", 2018: score = 100 × passed / classified metrics,
// critical metrics veto). Every result is plain JSON for the audit trail: no Infinity, NaN or
// undefined (a value that does not exist is null).

export type MetricClassification = 'pass' | 'marginal' | 'fail' | 'nodata';
export type CanaryVerdict = 'pass' | 'marginal' | 'fail' | 'inconclusive';

interface MetricInputBase {
  /** Unique within one judgement, e.g. `errors`, `slow-requests`. */
  readonly name: string;
  /** A critical metric that fails fails the whole judgement; without data it makes it inconclusive. @default false */
  readonly critical?: boolean;
  /** Weight in the score. @default 1 */
  readonly weight?: number;
}

/** A ratio of bad events (errors, slow requests) per arm, from CloudWatch sums. */
export interface ProportionMetricInput extends MetricInputBase {
  readonly kind: 'proportion';
  readonly canary: ProportionCounts;
  readonly baseline: ProportionCounts;
  /** Per-metric overrides of `CanaryJudgeConfig.proportion`. */
  readonly thresholds?: ProportionThresholds;
}

/** The metrics the judge accepts: proportions only (latency is judged as a ratio of slow requests). */
export type CanaryMetricInput = ProportionMetricInput;

export interface CanaryInput {
  readonly metrics: readonly CanaryMetricInput[];
}

export interface ProportionThresholds {
  /** The canary's bad ratio may exceed the baseline's by this fraction and pass (0.2 = +20 %). @default 0.2 */
  readonly maxRelativeIncrease?: number;
  /** … or by this many absolute points (0.001 = +0.1 percentage point); either tolerance suffices. @default 0.001 */
  readonly maxAbsoluteIncrease?: number;
  /** Fewer canary events than this: `nodata`. @default 50 */
  readonly minCanaryEvents?: number;
  /** Fewer baseline events than this: `nodata`. @default 50 */
  readonly minBaselineEvents?: number;
  /** Fail needs Fisher's one-sided p at or below this … @default 0.01 */
  readonly failPValue?: number;
  /** … and a posterior probability of exceeding the tolerance at or above this. @default 0.95 */
  readonly failProbability?: number;
  /** Beyond tolerance with Fisher's one-sided p at or below this (but not a fail): marginal. @default 0.05 */
  readonly marginalPValue?: number;
  /** Prior of the beta-binomial model. @default Beta(1, 1) */
  readonly prior?: BetaPrior;
}

export interface CanaryJudgeConfig {
  readonly proportion?: ProportionThresholds;
  /** Score at or above which the verdict is pass. @default 95 */
  readonly passScore?: number;
  /** Score at or above which (and below passScore) the verdict is marginal; below it, fail. @default 75 */
  readonly marginalScore?: number;
  /**
   * Share of a pass that a marginal metric earns in the score. With the default, one marginal
   * metric alone scores 75: a marginal verdict, never a fail on weak evidence.
   * @default 0.75
   */
  readonly marginalCredit?: number;
}

export type ResolvedProportionThresholds = Required<ProportionThresholds>;

export const DEFAULT_PROPORTION_THRESHOLDS: ResolvedProportionThresholds = Object.freeze({
  maxRelativeIncrease: 0.2,
  maxAbsoluteIncrease: 0.001,
  minCanaryEvents: 50,
  minBaselineEvents: 50,
  failPValue: 0.01,
  failProbability: 0.95,
  marginalPValue: 0.05,
  prior: UNIFORM_PRIOR,
});

/** A ratio exactly at the tolerance passes; this keeps float noise (0.01 × 1.2) from deciding. */
const BOUNDARY_SLACK = 1e-12;

export const DEFAULT_PASS_SCORE = 95;
export const DEFAULT_MARGINAL_SCORE = 75;
export const DEFAULT_MARGINAL_CREDIT = 0.75;

export interface ArmProportion {
  readonly total: number;
  readonly bad: number;
  /** bad / total, or null without events. */
  readonly ratio: number | null;
}

export interface ProportionMetricResult {
  readonly kind: 'proportion';
  readonly name: string;
  readonly classification: MetricClassification;
  readonly critical: boolean;
  readonly weight: number;
  /** Human-readable reasons, with the numbers. */
  readonly reasons: readonly string[];
  readonly canary: ArmProportion;
  readonly baseline: ArmProportion;
  /** The highest canary ratio that passes: max(baseline × (1 + rel), baseline + abs), capped at 1. */
  readonly toleratedRatio: number | null;
  /** canary ratio − baseline ratio. */
  readonly absoluteIncrease: number | null;
  /** canary ratio / baseline ratio − 1; null when the baseline ratio is 0. */
  readonly relativeIncrease: number | null;
  /** Null for `nodata`. */
  readonly fisher: FisherExactResult | null;
  /** Null for `nodata`. */
  readonly bayes: {
    /** P(p_canary > p_baseline | data). */
    readonly probabilityWorse: number;
    /** P(p_canary > tolerated ratio | data), the one the classification uses. */
    readonly probabilityBeyondTolerance: number;
    readonly canaryPosteriorMean: number;
    readonly baselinePosteriorMean: number;
  } | null;
  readonly thresholds: ResolvedProportionThresholds;
}

/** One result per input metric, in input order. */
export type CanaryMetricResult = ProportionMetricResult;

export interface CanaryJudgement {
  readonly verdict: CanaryVerdict;
  /** 100 × Σ weight × credit / Σ weight over classified metrics (pass 1, marginal `marginalCredit`, fail 0); null when none is classified. */
  readonly score: number | null;
  readonly reasons: readonly string[];
  readonly metrics: readonly CanaryMetricResult[];
  readonly counts: { readonly pass: number; readonly marginal: number; readonly fail: number; readonly nodata: number };
  readonly passScore: number;
  readonly marginalScore: number;
  readonly marginalCredit: number;
}

/**
 * Judges a canary against its baseline. Per metric: `nodata` below the minimum counts, `pass`
 * when the difference is within tolerance or not significant, `marginal` on weak evidence of a
 * difference beyond tolerance, `fail` on strong evidence. Then the score and the verdict:
 * a failed critical metric → `fail`; nothing classified, or a critical metric without data →
 * `inconclusive`; otherwise by score against `passScore` and `marginalScore`.
 */
export function judgeCanary(input: CanaryInput, config: CanaryJudgeConfig = {}): CanaryJudgement {
  const passScore = config.passScore ?? DEFAULT_PASS_SCORE;
  const marginalScore = config.marginalScore ?? DEFAULT_MARGINAL_SCORE;
  const marginalCredit = config.marginalCredit ?? DEFAULT_MARGINAL_CREDIT;
  checkRange(passScore, 'passScore', 0, 100);
  checkRange(marginalScore, 'marginalScore', 0, passScore);
  checkRange(marginalCredit, 'marginalCredit', 0, 1);
  const proportionDefaults = resolveProportion(config.proportion, 'proportion');

  if (!input || !Array.isArray(input.metrics)) {
    throw new RollbackTriggersError('RT604', `input.metrics must be an array of metrics, got ${String(input?.metrics)}`);
  }
  const seen = new Set<string>();
  for (const metric of input.metrics) {
    if (typeof metric?.name !== 'string' || metric.name === '') {
      throw new RollbackTriggersError('RT604', `every metric needs a non-empty name, got ${JSON.stringify(metric?.name)}`);
    }
    if (seen.has(metric.name)) throw new RollbackTriggersError('RT604', `metric names must be unique, "${metric.name}" appears twice`);
    seen.add(metric.name);
  }

  const metrics = input.metrics.map((metric): CanaryMetricResult => {
    const weight = metric.weight ?? 1;
    if (!(Number.isFinite(weight) && weight > 0)) {
      throw new RollbackTriggersError('RT604', `metric "${metric.name}": weight must be a finite number above 0, got ${String(weight)}`);
    }
    const critical = metric.critical ?? false;
    if (metric.kind !== 'proportion') {
      throw new RollbackTriggersError(
        'RT604',
        `metric "${(metric as CanaryMetricInput).name}": kind must be 'proportion', got ${JSON.stringify((metric as { kind?: unknown }).kind)}`,
      );
    }
    return judgeProportion(metric, critical, weight, resolveProportion(metric.thresholds, `metric "${metric.name}" thresholds`, proportionDefaults));
  });

  const counts = { pass: 0, marginal: 0, fail: 0, nodata: 0 };
  for (const m of metrics) counts[m.classification]++;

  const credit = { pass: 1, marginal: marginalCredit, fail: 0 } as const;
  const classified = metrics.filter((m) => m.classification !== 'nodata');
  const totalWeight = classified.reduce((sum, m) => sum + m.weight, 0);
  const score =
    classified.length === 0
      ? null
      : round((100 * classified.reduce((sum, m) => sum + m.weight * credit[m.classification as keyof typeof credit], 0)) / totalWeight);

  const reasons: string[] = [];
  const criticalFailed = metrics.filter((m) => m.critical && m.classification === 'fail');
  const criticalMissing = metrics.filter((m) => m.critical && m.classification === 'nodata');
  const summary = `${classified.length} of ${metrics.length} metrics classified (${counts.pass} pass, ${counts.marginal} marginal, ${counts.fail} fail, ${counts.nodata} without enough data)`;
  let verdict: CanaryVerdict;
  if (criticalFailed.length > 0) {
    verdict = 'fail';
    reasons.push(`critical metric${criticalFailed.length > 1 ? 's' : ''} ${criticalFailed.map((m) => `"${m.name}"`).join(', ')} failed`);
  } else if (score === null) {
    verdict = 'inconclusive';
    reasons.push(metrics.length === 0 ? 'no metrics to judge' : 'no metric has enough data to judge');
  } else if (criticalMissing.length > 0) {
    verdict = 'inconclusive';
    reasons.push(`critical metric${criticalMissing.length > 1 ? 's' : ''} ${criticalMissing.map((m) => `"${m.name}"`).join(', ')} without enough data`);
  } else if (score >= passScore) {
    verdict = 'pass';
    reasons.push(`score ${score} ≥ pass score ${passScore}`);
  } else if (score >= marginalScore) {
    verdict = 'marginal';
    reasons.push(`score ${score} is below the pass score ${passScore} but ≥ the marginal score ${marginalScore}`);
  } else {
    verdict = 'fail';
    reasons.push(`score ${score} < marginal score ${marginalScore}`);
  }
  reasons.push(summary);
  for (const m of metrics) if (m.classification === 'fail' || m.classification === 'marginal') reasons.push(`"${m.name}" ${m.classification}: ${m.reasons[0]}`);

  return { verdict, score, reasons, metrics, counts, passScore, marginalScore, marginalCredit };
}

function judgeProportion(
  metric: ProportionMetricInput,
  critical: boolean,
  weight: number,
  t: ResolvedProportionThresholds,
): ProportionMetricResult {
  validateCounts(metric.canary, `metric "${metric.name}" canary`);
  validateCounts(metric.baseline, `metric "${metric.name}" baseline`);
  const canary = arm(metric.canary);
  const baseline = arm(metric.baseline);
  const base = { kind: 'proportion' as const, name: metric.name, critical, weight, canary, baseline, thresholds: t };

  const missing: string[] = [];
  if (canary.total < t.minCanaryEvents) missing.push(`the canary saw ${canary.total} events, fewer than minCanaryEvents ${t.minCanaryEvents}`);
  if (baseline.total < t.minBaselineEvents) missing.push(`the baseline saw ${baseline.total} events, fewer than minBaselineEvents ${t.minBaselineEvents}`);
  if (missing.length > 0 || canary.ratio === null || baseline.ratio === null) {
    return {
      ...base,
      classification: 'nodata',
      reasons: [`too little data to judge: ${missing.join('; ')}`],
      toleratedRatio: null,
      absoluteIncrease: null,
      relativeIncrease: null,
      fisher: null,
      bayes: null,
    };
  }

  const toleratedRatio = Math.min(1, Math.max(baseline.ratio * (1 + t.maxRelativeIncrease), baseline.ratio + t.maxAbsoluteIncrease));
  const absoluteIncrease = canary.ratio - baseline.ratio;
  const relativeIncrease = baseline.ratio > 0 ? canary.ratio / baseline.ratio - 1 : null;
  const fisher = fisherExact(metric.canary, metric.baseline);
  const worse = betaBinomialProbabilityWorse(metric.canary, metric.baseline, { prior: t.prior });
  const beyond = betaBinomialProbabilityWorse(metric.canary, metric.baseline, {
    prior: t.prior,
    maxRelativeIncrease: t.maxRelativeIncrease,
    maxAbsoluteIncrease: t.maxAbsoluteIncrease,
  });
  const bayes = {
    probabilityWorse: worse.probability,
    probabilityBeyondTolerance: beyond.probability,
    canaryPosteriorMean: worse.canaryPosterior.mean,
    baselinePosteriorMean: worse.baselinePosterior.mean,
  };

  const rates = `canary ${pct(canary.ratio)} (${canary.bad}/${canary.total}) vs baseline ${pct(baseline.ratio)} (${baseline.bad}/${baseline.total}), tolerated up to ${pct(toleratedRatio)}`;
  const evidence = `Fisher one-sided p = ${sig(fisher.pCanaryWorse)}, P(canary beyond tolerance) = ${sig(beyond.probability)}`;
  let classification: MetricClassification;
  let reason: string;
  if (canary.ratio <= toleratedRatio * (1 + BOUNDARY_SLACK)) {
    classification = 'pass';
    reason = `within tolerance: ${rates}`;
  } else if (fisher.pCanaryWorse <= t.failPValue && beyond.probability >= t.failProbability) {
    classification = 'fail';
    reason = `worse beyond tolerance: ${rates}; ${evidence} (fail needs p ≤ ${t.failPValue} and probability ≥ ${t.failProbability})`;
  } else if (fisher.pCanaryWorse <= t.marginalPValue) {
    classification = 'marginal';
    reason = `above tolerance on weak evidence: ${rates}; ${evidence} (marginal: p ≤ ${t.marginalPValue}; fail needs p ≤ ${t.failPValue} and probability ≥ ${t.failProbability})`;
  } else {
    classification = 'pass';
    reason = `above tolerance but not significantly: ${rates}; Fisher one-sided p = ${sig(fisher.pCanaryWorse)} > ${t.marginalPValue}`;
  }
  return { ...base, classification, reasons: [reason], toleratedRatio, absoluteIncrease, relativeIncrease, fisher, bayes };
}

function resolveProportion(
  overrides: ProportionThresholds | undefined,
  where: string,
  defaults: ResolvedProportionThresholds = DEFAULT_PROPORTION_THRESHOLDS,
): ResolvedProportionThresholds {
  const t = { ...defaults, ...stripUndefined(overrides) };
  checkRange(t.maxRelativeIncrease, `${where}.maxRelativeIncrease`, 0, Infinity);
  checkRange(t.maxAbsoluteIncrease, `${where}.maxAbsoluteIncrease`, 0, 1);
  checkWhole(t.minCanaryEvents, `${where}.minCanaryEvents`, 1);
  checkWhole(t.minBaselineEvents, `${where}.minBaselineEvents`, 1);
  checkOpenUnit(t.failPValue, `${where}.failPValue`);
  checkOpenUnit(t.marginalPValue, `${where}.marginalPValue`);
  checkOpenUnit(t.failProbability, `${where}.failProbability`);
  if (t.marginalPValue < t.failPValue) {
    throw new RollbackTriggersError('RT603', `${where}.marginalPValue (${t.marginalPValue}) must be ≥ failPValue (${t.failPValue})`);
  }
  for (const field of ['alpha', 'beta'] as const) {
    const v = t.prior?.[field];
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) {
      throw new RollbackTriggersError('RT603', `${where}.prior.${field} must be a finite number above 0, got ${String(v)}`);
    }
  }
  return t;
}

function stripUndefined<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function checkRange(value: number, prop: string, min: number, max: number): void {
  if (!(typeof value === 'number' && !Number.isNaN(value) && Number.isFinite(value) && value >= min && value <= max)) {
    const range = max === Infinity ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new RollbackTriggersError('RT603', `${prop} must be a finite number ${range}, got ${String(value)}`);
  }
}

function checkWhole(value: number, prop: string, min: number): void {
  if (!(Number.isSafeInteger(value) && value >= min)) {
    throw new RollbackTriggersError('RT603', `${prop} must be a whole number ≥ ${min}, got ${String(value)}`);
  }
}

function checkOpenUnit(value: number, prop: string): void {
  if (!(typeof value === 'number' && value > 0 && value < 1)) {
    throw new RollbackTriggersError('RT603', `${prop} must be above 0 and below 1, got ${String(value)}`);
  }
}

function arm(counts: ProportionCounts): ArmProportion {
  return { total: counts.total, bad: counts.bad, ratio: counts.total > 0 ? counts.bad / counts.total : null };
}

/** A percentage with 3 significant digits: 0.00123 → "0.123 %". */
function pct(ratio: number): string {
  return `${Number((ratio * 100).toPrecision(3))} %`;
}

/** 3 significant digits, for p-values and probabilities in reasons. */
function sig(value: number): string {
  return String(Number(value.toPrecision(3)));
}

/** Scores are reported to 1e-9 so float noise (94.99999999) cannot flip a threshold. */
function round(score: number): number {
  return Number(score.toFixed(9));
}
