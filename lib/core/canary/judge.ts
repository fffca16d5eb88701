import { RollbackTriggersError } from '../errors';
import { type BetaPrior, UNIFORM_PRIOR, betaBinomialProbabilityWorse } from './beta-binomial';
import { type ProportionCounts, validateCounts } from './counts';
import { type FisherExactResult, fisherExact } from './fisher';
import { type MannWhitneyMethod, mannWhitneyU } from './mann-whitney';

// The canary judge: compares the new version (canary) with the old one (baseline) on the same
// minutes, metric by metric, and combines the classifications into a score as Kayenta does
// (Netflix & Google, "Automated Canary Analysis", 2018: score = 100 × passed / classified metrics,
// critical metrics veto). Every result is plain JSON for the audit trail: no Infinity, NaN or
// undefined (a value that does not exist is null).

export type MetricClassification = 'pass' | 'marginal' | 'fail' | 'nodata';
export type CanaryVerdict = 'pass' | 'marginal' | 'fail' | 'inconclusive';

interface MetricInputBase {
  /** Unique within one judgement, e.g. `errors`, `slow-requests`, `latency-p50`. */
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

/** Per-sample (or per-minute) values where higher is worse, such as latency in milliseconds. */
export interface DistributionMetricInput extends MetricInputBase {
  readonly kind: 'distribution';
  readonly canary: readonly number[];
  readonly baseline: readonly number[];
  /** Per-metric overrides of `CanaryJudgeConfig.distribution`. */
  readonly thresholds?: DistributionThresholds;
}

export type CanaryMetricInput = ProportionMetricInput | DistributionMetricInput;

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

export interface DistributionThresholds {
  /**
   * A rank-biserial correlation (Cliff's delta) at or below this is too small to matter.
   * @default 0.147 — the "negligible" bound of Romano et al. (2006)
   */
  readonly maxRankBiserial?: number;
  /** … as is a canary median at most this fraction above the baseline median (0.1 = +10 %). @default 0.1 */
  readonly maxRelativeIncrease?: number;
  /** … or at most this much above it, in the metric's unit. @default 0 */
  readonly maxAbsoluteIncrease?: number;
  /** Fewer canary values than this: `nodata`. @default 10 */
  readonly minCanarySamples?: number;
  /** Fewer baseline values than this: `nodata`. @default 10 */
  readonly minBaselineSamples?: number;
  /** Beyond tolerance with the one-sided Mann–Whitney p at or below this: fail. @default 0.01 */
  readonly failPValue?: number;
  /** Beyond tolerance with the one-sided p at or below this (but not a fail): marginal. @default 0.05 */
  readonly marginalPValue?: number;
}

export interface CanaryJudgeConfig {
  readonly proportion?: ProportionThresholds;
  readonly distribution?: DistributionThresholds;
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
export type ResolvedDistributionThresholds = Required<DistributionThresholds>;

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

export const DEFAULT_DISTRIBUTION_THRESHOLDS: ResolvedDistributionThresholds = Object.freeze({
  maxRankBiserial: 0.147,
  maxRelativeIncrease: 0.1,
  maxAbsoluteIncrease: 0,
  minCanarySamples: 10,
  minBaselineSamples: 10,
  failPValue: 0.01,
  marginalPValue: 0.05,
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

export interface ArmDistribution {
  readonly count: number;
  /** Null without values. */
  readonly median: number | null;
}

export interface DistributionMetricResult {
  readonly kind: 'distribution';
  readonly name: string;
  readonly classification: MetricClassification;
  readonly critical: boolean;
  readonly weight: number;
  readonly reasons: readonly string[];
  readonly canary: ArmDistribution;
  readonly baseline: ArmDistribution;
  /** canary median − baseline median. */
  readonly medianIncrease: number | null;
  /** medianIncrease / |baseline median|; null when the baseline median is 0. */
  readonly relativeMedianIncrease: number | null;
  /** The largest median increase that passes: max(|baseline median| × rel, abs). */
  readonly toleratedMedianIncrease: number | null;
  /** Null for `nodata`. */
  readonly mannWhitney: {
    readonly method: MannWhitneyMethod;
    readonly u: number;
    readonly z: number;
    readonly pCanarySlower: number;
    readonly pTwoSided: number;
    readonly commonLanguageEffectSize: number;
    readonly rankBiserial: number;
    readonly hasTies: boolean;
  } | null;
  readonly thresholds: ResolvedDistributionThresholds;
}

export type CanaryMetricResult = ProportionMetricResult | DistributionMetricResult;

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
  const distributionDefaults = resolveDistribution(config.distribution, 'distribution');

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
    switch (metric.kind) {
      case 'proportion':
        return judgeProportion(metric, critical, weight, resolveProportion(metric.thresholds, `metric "${metric.name}" thresholds`, proportionDefaults));
      case 'distribution':
        return judgeDistribution(metric, critical, weight, resolveDistribution(metric.thresholds, `metric "${metric.name}" thresholds`, distributionDefaults));
      default:
        throw new RollbackTriggersError(
          'RT604',
          `metric "${(metric as CanaryMetricInput).name}": kind must be 'proportion' or 'distribution', got ${JSON.stringify((metric as { kind?: unknown }).kind)}`,
        );
    }
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

function judgeDistribution(
  metric: DistributionMetricInput,
  critical: boolean,
  weight: number,
  t: ResolvedDistributionThresholds,
): DistributionMetricResult {
  for (const [armName, values] of [['canary', metric.canary], ['baseline', metric.baseline]] as const) {
    if (!Array.isArray(values)) {
      throw new RollbackTriggersError('RT602', `metric "${metric.name}" ${armName} must be an array of numbers, got ${String(values)}`);
    }
  }
  const canaryCount = metric.canary.length;
  const baselineCount = metric.baseline.length;
  const base = { kind: 'distribution' as const, name: metric.name, critical, weight, thresholds: t };

  const missing: string[] = [];
  if (canaryCount < t.minCanarySamples) missing.push(`the canary has ${canaryCount} values, fewer than minCanarySamples ${t.minCanarySamples}`);
  if (baselineCount < t.minBaselineSamples) missing.push(`the baseline has ${baselineCount} values, fewer than minBaselineSamples ${t.minBaselineSamples}`);
  if (missing.length > 0 || canaryCount === 0 || baselineCount === 0) {
    return {
      ...base,
      classification: 'nodata',
      reasons: [`too little data to judge: ${missing.join('; ')}`],
      canary: { count: canaryCount, median: null },
      baseline: { count: baselineCount, median: null },
      medianIncrease: null,
      relativeMedianIncrease: null,
      toleratedMedianIncrease: null,
      mannWhitney: null,
    };
  }

  const mw = mannWhitneyU(metric.canary, metric.baseline);
  const medianIncrease = mw.canaryMedian - mw.baselineMedian;
  const relativeMedianIncrease = mw.baselineMedian !== 0 ? medianIncrease / Math.abs(mw.baselineMedian) : null;
  const toleratedMedianIncrease = Math.max(Math.abs(mw.baselineMedian) * t.maxRelativeIncrease, t.maxAbsoluteIncrease);
  const smallEffect = mw.rankBiserial <= t.maxRankBiserial;
  const smallShift = medianIncrease <= toleratedMedianIncrease * (1 + BOUNDARY_SLACK);

  const numbers =
    `canary median ${sig(mw.canaryMedian)} (n = ${canaryCount}) vs baseline ${sig(mw.baselineMedian)} (n = ${baselineCount}), ` +
    `increase ${sig(medianIncrease)} (tolerated ${sig(toleratedMedianIncrease)}), rank-biserial ${sig(mw.rankBiserial)} (tolerated ${t.maxRankBiserial})`;
  const evidence = `Mann–Whitney one-sided p = ${sig(mw.pCanarySlower)} (${mw.method})`;
  let classification: MetricClassification;
  let reason: string;
  if (smallEffect || smallShift) {
    classification = 'pass';
    reason = `${smallEffect ? 'effect size' : 'median shift'} within tolerance: ${numbers}; ${evidence}`;
  } else if (mw.pCanarySlower <= t.failPValue) {
    classification = 'fail';
    reason = `slower beyond tolerance: ${numbers}; ${evidence} ≤ ${t.failPValue}`;
  } else if (mw.pCanarySlower <= t.marginalPValue) {
    classification = 'marginal';
    reason = `slower beyond tolerance on weak evidence: ${numbers}; ${evidence} ≤ ${t.marginalPValue} (fail needs ≤ ${t.failPValue})`;
  } else {
    classification = 'pass';
    reason = `slower but not significantly: ${numbers}; ${evidence} > ${t.marginalPValue}`;
  }
  return {
    ...base,
    classification,
    reasons: [reason],
    canary: { count: canaryCount, median: mw.canaryMedian },
    baseline: { count: baselineCount, median: mw.baselineMedian },
    medianIncrease,
    relativeMedianIncrease,
    toleratedMedianIncrease,
    mannWhitney: {
      method: mw.method,
      u: mw.u,
      z: mw.z,
      pCanarySlower: mw.pCanarySlower,
      pTwoSided: mw.pTwoSided,
      commonLanguageEffectSize: mw.commonLanguageEffectSize,
      rankBiserial: mw.rankBiserial,
      hasTies: mw.hasTies,
    },
  };
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

function resolveDistribution(
  overrides: DistributionThresholds | undefined,
  where: string,
  defaults: ResolvedDistributionThresholds = DEFAULT_DISTRIBUTION_THRESHOLDS,
): ResolvedDistributionThresholds {
  const t = { ...defaults, ...stripUndefined(overrides) };
  checkRange(t.maxRankBiserial, `${where}.maxRankBiserial`, 0, 1);
  checkRange(t.maxRelativeIncrease, `${where}.maxRelativeIncrease`, 0, Infinity);
  checkRange(t.maxAbsoluteIncrease, `${where}.maxAbsoluteIncrease`, 0, Infinity);
  checkWhole(t.minCanarySamples, `${where}.minCanarySamples`, 1);
  checkWhole(t.minBaselineSamples, `${where}.minBaselineSamples`, 1);
  checkOpenUnit(t.failPValue, `${where}.failPValue`);
  checkOpenUnit(t.marginalPValue, `${where}.marginalPValue`);
  if (t.marginalPValue < t.failPValue) {
    throw new RollbackTriggersError('RT603', `${where}.marginalPValue (${t.marginalPValue}) must be ≥ failPValue (${t.failPValue})`);
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

/** 3 significant digits, for p-values, probabilities and effect sizes in reasons. */
function sig(value: number): string {
  return String(Number(value.toPrecision(3)));
}

/** Scores are reported to 1e-9 so float noise (94.99999999) cannot flip a threshold. */
function round(score: number): number {
  return Number(score.toFixed(9));
}
