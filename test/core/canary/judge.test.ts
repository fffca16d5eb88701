import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CanaryJudgeConfig,
  type CanaryMetricInput,
  type MetricClassification,
  type ProportionMetricInput,
  type ProportionMetricResult,
  judgeCanary,
} from '../../../lib/core/canary';
import { expectRtError } from '../helpers';
import { fisherOracle } from './oracles';

function errors(canaryBad: number, canaryTotal: number, baselineBad: number, baselineTotal: number, extra: Partial<ProportionMetricInput> = {}): ProportionMetricInput {
  return {
    kind: 'proportion',
    name: 'errors',
    critical: true,
    canary: { bad: canaryBad, total: canaryTotal },
    baseline: { bad: baselineBad, total: baselineTotal },
    ...extra,
  };
}

function judgeErrors(canaryBad: number, canaryTotal: number, baselineBad: number, baselineTotal: number, config?: CanaryJudgeConfig) {
  const judgement = judgeCanary({ metrics: [errors(canaryBad, canaryTotal, baselineBad, baselineTotal)] }, config);
  return { judgement, metric: judgement.metrics[0] as ProportionMetricResult };
}

const RANK: Record<MetricClassification, number> = { nodata: -1, pass: 0, marginal: 1, fail: 2 };

describe('judgeCanary: scenarios', () => {
  it('3 errors in 40 canary requests vs 2 in 400: inconclusive with the defaults — 40 events are below minCanaryEvents 50', () => {
    const { judgement, metric } = judgeErrors(3, 40, 2, 400);
    expect(judgement.verdict).toBe('inconclusive');
    expect(judgement.score).toBeNull();
    expect(metric.classification).toBe('nodata');
    expect(metric.reasons[0]).toMatch(/the canary saw 40 events, fewer than minCanaryEvents 50/);
    expect(metric.fisher).toBeNull();
  });

  it('3 in 40 vs 2 in 400 with minCanaryEvents 40: fail — 7.5 % vs 0.5 %, Fisher p = 0.0061 ≤ 0.01, P(beyond tolerance) ≈ 0.998', () => {
    const { judgement, metric } = judgeErrors(3, 40, 2, 400, { proportion: { minCanaryEvents: 40 } });
    expect(judgement.verdict).toBe('fail');
    expect(metric.classification).toBe('fail');
    expect(metric.canary.ratio).toBe(0.075);
    expect(metric.baseline.ratio).toBe(0.005);
    expect(metric.toleratedRatio).toBeCloseTo(0.006, 15); // max(0.5 % × 1.2, 0.5 % + 0.1 point)
    // The p-value the verdict rests on, checked against exact rational enumeration.
    const exact = fisherOracle(3, 37, 2, 398).pCanaryWorse;
    expect(metric.fisher!.pCanaryWorse).toBeCloseTo(exact, 12);
    expect(exact).toBeGreaterThan(0.006);
    expect(exact).toBeLessThan(0.0062);
    expect(metric.bayes!.probabilityBeyondTolerance).toBeGreaterThan(0.99);
    expect(judgement.reasons[0]).toBe('critical metric "errors" failed');
  });

  it('0 errors vs 0 errors: pass with score 100', () => {
    const { judgement, metric } = judgeErrors(0, 100, 0, 1_000);
    expect(judgement.verdict).toBe('pass');
    expect(judgement.score).toBe(100);
    expect(metric.reasons[0]).toMatch(/^within tolerance/);
  });

  it('5 canary requests: inconclusive', () => {
    const { judgement } = judgeErrors(0, 5, 3, 10_000);
    expect(judgement.verdict).toBe('inconclusive');
    expect(judgement.reasons[0]).toBe('no metric has enough data to judge');
  });

  it('a broken canary (50 % errors over 200 requests vs 0.1 % baseline): fail with p < 1e-10', () => {
    const { judgement, metric } = judgeErrors(100, 200, 10, 10_000);
    expect(judgement.verdict).toBe('fail');
    expect(metric.fisher!.pCanaryWorse).toBeLessThan(1e-10);
    expect(metric.bayes!.probabilityBeyondTolerance).toBeGreaterThan(0.999_999);
  });

  it('a significant but tiny increase passes: 1.05 % vs 1 % on a million requests each (p < 0.001, +5 % < +20 %)', () => {
    const { judgement, metric } = judgeErrors(10_500, 1_000_000, 10_000, 1_000_000);
    expect(metric.fisher!.pCanaryWorse).toBeLessThan(0.001);
    expect(metric.relativeIncrease).toBeCloseTo(0.05, 12);
    expect(metric.classification).toBe('pass');
    expect(judgement.verdict).toBe('pass');
  });

  it('the absolute tolerance lets a clean baseline absorb a stray error: 1 in 2,000 vs 0 in 20,000', () => {
    const { metric } = judgeErrors(1, 2_000, 0, 20_000);
    expect(metric.relativeIncrease).toBeNull(); // undefined against a 0 % baseline
    expect(metric.classification).toBe('pass');
  });

  it('above tolerance on weak evidence is marginal, and alone gives a marginal verdict (score 75)', () => {
    const { judgement, metric } = judgeErrors(20, 1_000, 10, 1_000);
    expect(metric.classification).toBe('marginal');
    expect(metric.fisher!.pCanaryWorse).toBeGreaterThan(0.01);
    expect(metric.fisher!.pCanaryWorse).toBeLessThanOrEqual(0.05);
    expect(judgement).toMatchObject({ verdict: 'marginal', score: 75 });
  });

  it('above tolerance without significance passes: 2 in 100 vs 1 in 100', () => {
    const { metric } = judgeErrors(2, 100, 1, 100);
    expect(metric.classification).toBe('pass');
    expect(metric.reasons[0]).toMatch(/not significantly/);
  });
});

describe('judgeCanary: score and verdict', () => {
  const pass = (name: string, extra: Partial<ProportionMetricInput> = {}) => errors(0, 1_000, 0, 1_000, { name, critical: false, ...extra });
  const fail = (name: string, extra: Partial<ProportionMetricInput> = {}) => errors(500, 1_000, 0, 1_000, { name, critical: false, ...extra });
  const marginal = (name: string) => errors(20, 1_000, 10, 1_000, { name, critical: false });
  const nodata = (name: string, extra: Partial<ProportionMetricInput> = {}) => errors(0, 1, 0, 1_000, { name, critical: false, ...extra });

  it('is 100 × passed / classified metrics; nodata metrics are left out (Kayenta)', () => {
    const metrics = [...Array.from({ length: 19 }, (_, i) => pass(`ok-${i}`)), fail('bad'), nodata('quiet')];
    const judgement = judgeCanary({ metrics });
    expect(judgement.score).toBe(95);
    expect(judgement.verdict).toBe('pass');
    expect(judgement.counts).toEqual({ pass: 19, marginal: 0, fail: 1, nodata: 1 });
  });

  it('weights count in the score', () => {
    expect(judgeCanary({ metrics: [pass('a', { weight: 3 }), fail('b')] }).score).toBe(75);
  });

  it('a marginal metric earns marginalCredit', () => {
    expect(judgeCanary({ metrics: [pass('a'), marginal('b')] }).score).toBe(87.5);
    expect(judgeCanary({ metrics: [pass('a'), marginal('b')] }, { marginalCredit: 0 }).score).toBe(50);
  });

  it('thresholds: pass ≥ 95, marginal ≥ 75, else fail — and configurable', () => {
    const threeOfFour = { metrics: [pass('a'), pass('b'), pass('c'), fail('d')] };
    expect(judgeCanary(threeOfFour).verdict).toBe('marginal');
    expect(judgeCanary(threeOfFour, { passScore: 75 }).verdict).toBe('pass');
    expect(judgeCanary(threeOfFour, { marginalScore: 80 }).verdict).toBe('fail');
    expect(judgeCanary({ metrics: [pass('a'), fail('b')] }).verdict).toBe('fail');
  });

  it('a failing critical metric fails the judgement whatever the score', () => {
    const metrics = [...Array.from({ length: 30 }, (_, i) => pass(`ok-${i}`)), fail('errors', { critical: true })];
    const judgement = judgeCanary({ metrics });
    expect(judgement.score).toBeGreaterThan(95);
    expect(judgement.verdict).toBe('fail');
  });

  it('a critical metric without data makes it inconclusive; no metrics at all too', () => {
    expect(judgeCanary({ metrics: [pass('latency'), nodata('errors', { critical: true })] }).verdict).toBe('inconclusive');
    expect(judgeCanary({ metrics: [] })).toMatchObject({ verdict: 'inconclusive', score: null, reasons: ['no metrics to judge', expect.any(String)] });
  });

  it('per-metric thresholds override the config', () => {
    const strict = errors(12, 1_000, 10, 1_000, { thresholds: { maxRelativeIncrease: 0, maxAbsoluteIncrease: 0 } });
    const result = judgeCanary({ metrics: [strict] }, { proportion: { maxRelativeIncrease: 0.5 } }).metrics[0] as ProportionMetricResult;
    expect(result.thresholds.maxRelativeIncrease).toBe(0);
    expect(result.toleratedRatio).toBe(0.01);
  });
});

describe('judgeCanary: properties', () => {
  const armArb = fc.integer({ min: 0, max: 5_000 }).chain((total) => fc.record({ total: fc.constant(total), bad: fc.integer({ min: 0, max: total }) }));
  const proportionArb: fc.Arbitrary<ProportionMetricInput> = fc.record({
    kind: fc.constant('proportion' as const),
    name: fc.constant('errors'),
    canary: armArb,
    baseline: armArb,
  });
  const slowArb: fc.Arbitrary<ProportionMetricInput> = fc.record({
    kind: fc.constant('proportion' as const),
    name: fc.constant('slow-requests'),
    canary: armArb,
    baseline: armArb,
    critical: fc.boolean(),
  });

  it('every judgement is plain JSON (no Infinity, NaN or undefined) with a score in [0, 100]', () => {
    fc.assert(
      fc.property(proportionArb, slowArb, (errorsMetric, slowMetric) => {
        const judgement = judgeCanary({ metrics: [errorsMetric, slowMetric] });
        expect(JSON.parse(JSON.stringify(judgement))).toEqual(judgement);
        if (judgement.score !== null) {
          expect(judgement.score).toBeGreaterThanOrEqual(0);
          expect(judgement.score).toBeLessThanOrEqual(100);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('more canary errors on the same traffic never improve the classification', () => {
    fc.assert(
      fc.property(proportionArb.filter((m) => m.canary.bad < m.canary.total), (metric) => {
        const before = judgeCanary({ metrics: [metric] }).metrics[0].classification;
        const worse = { ...metric, canary: { total: metric.canary.total, bad: metric.canary.bad + 1 } };
        const after = judgeCanary({ metrics: [worse] }).metrics[0].classification;
        expect(RANK[after]).toBeGreaterThanOrEqual(RANK[before]);
      }),
      { numRuns: 200 },
    );
  });

  it('a larger tolerance never turns a pass into a fail (nor worsens any classification)', () => {
    fc.assert(
      fc.property(
        proportionArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 0.05, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 0.05, noNaN: true }),
        (metric, rel, abs, moreRel, moreAbs) => {
          const tight = judgeCanary({ metrics: [metric] }, { proportion: { maxRelativeIncrease: rel, maxAbsoluteIncrease: abs } }).metrics[0];
          const loose = judgeCanary({ metrics: [metric] }, { proportion: { maxRelativeIncrease: rel + moreRel, maxAbsoluteIncrease: abs + moreAbs } }).metrics[0];
          expect(RANK[loose.classification]).toBeLessThanOrEqual(RANK[tight.classification]);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('judgeCanary: input errors', () => {
  it('RT604 for duplicate or missing names, bad weights and unknown kinds', () => {
    expect(expectRtError(() => judgeCanary({ metrics: [errors(0, 100, 0, 100), errors(0, 100, 0, 100)] }), 'RT604').message).toMatch(/"errors" appears twice/);
    expectRtError(() => judgeCanary({ metrics: [errors(0, 100, 0, 100, { name: '' })] }), 'RT604');
    expect(expectRtError(() => judgeCanary({ metrics: [errors(0, 100, 0, 100, { weight: 0 })] }), 'RT604').message).toMatch(/weight must be a finite number above 0, got 0/);
    expectRtError(() => judgeCanary({ metrics: [{ ...errors(0, 100, 0, 100), kind: 'ratio' } as unknown as CanaryMetricInput] }), 'RT604');
    const latency = { kind: 'distribution', name: 'latency', canary: [1, 2, 3], baseline: [1, 2, 3] } as unknown as CanaryMetricInput;
    expect(expectRtError(() => judgeCanary({ metrics: [latency] }), 'RT604').message).toMatch(/metric "latency": kind must be 'proportion', got "distribution"/);
  });

  it('RT601 for impossible counts, naming the metric and the arm', () => {
    expect(expectRtError(() => judgeCanary({ metrics: [errors(5, 4, 0, 100)] }), 'RT601').message).toMatch(/metric "errors" canary\.bad must not exceed/);
  });

  it('RT603 for thresholds out of range, naming the setting', () => {
    expect(expectRtError(() => judgeCanary({ metrics: [] }, { proportion: { failPValue: 1.5 } }), 'RT603').message).toMatch(/proportion\.failPValue must be above 0 and below 1, got 1.5/);
    expectRtError(() => judgeCanary({ metrics: [] }, { proportion: { failPValue: 0.05, marginalPValue: 0.01 } }), 'RT603');
    expectRtError(() => judgeCanary({ metrics: [] }, { proportion: { minCanaryEvents: 0 } }), 'RT603');
    expectRtError(() => judgeCanary({ metrics: [] }, { passScore: 70, marginalScore: 80 }), 'RT603');
    expect(
      expectRtError(() => judgeCanary({ metrics: [errors(0, 100, 0, 100, { thresholds: { maxAbsoluteIncrease: -1 } })] }), 'RT603').message,
    ).toMatch(/metric "errors" thresholds\.maxAbsoluteIncrease/);
  });
});
