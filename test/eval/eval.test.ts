import { describe, expect, it } from 'vitest';
import { simulate } from '../../lib/core/simulator';
import type { PathOutcome, SeriesEntry, SimulationResult } from '../../lib/core/simulator/types';
import { Row, Simulate, evaluateScenario, pagingAgreesWithReference, summarize } from '../../eval/evaluate';
import { policy } from '../../eval/policies';
import { binomial, mulberry32, poisson } from '../../eval/random';
import { ReferenceSlo, WORKBOOK_PAGE_TIERS, referenceDetection, referenceSlosOf } from '../../eval/reference';
import { BASE_REQUESTS_PER_MINUTE, HISTORY_MINUTES, POST_RELEASE_MINUTES, RELEASE_MINUTE, SCENARIO_SPECS, Scenario, generateScenarios } from '../../eval/scenarios';

const AVAILABILITY: ReferenceSlo = { name: 'Availability', errorBudget: 0.001, bad: 'errors' };

/**
 * Noise-free series for hand computation: `history` clean minutes at `rpm` requests, then
 * `after` minutes at `ratio` errors, the release at minute `history`.
 */
function steady(ratio: number, { rpm = 1_000, history = 360, after = 400 } = {}): SeriesEntry[] {
  const series: SeriesEntry[] = [];
  for (let m = 0; m < history + after; m++) series.push({ minute: m, requests: rpm, errors: m >= history ? rpm * ratio : 0 });
  return series;
}

describe('seeded PRNG and samplers', () => {
  it('mulberry32 repeats its stream for a seed and differs across seeds', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('Poisson and binomial samples have the right means', () => {
    const rng = mulberry32(1);
    const n = 20_000;
    let sumSmall = 0;
    let sumLarge = 0;
    let sumBinomial = 0;
    for (let i = 0; i < n; i++) {
      sumSmall += poisson(rng, 3);
      sumLarge += poisson(rng, 1_000);
      sumBinomial += binomial(rng, 100, 0.02);
    }
    expect(sumSmall / n).toBeCloseTo(3, 1);
    expect(sumLarge / n).toBeGreaterThan(999);
    expect(sumLarge / n).toBeLessThan(1_001);
    expect(sumBinomial / n).toBeCloseTo(2, 1);
    expect(binomial(rng, 50, 1)).toBe(50);
    expect(binomial(rng, 50, 0)).toBe(0);
  });
});

describe('scenario generator', () => {
  it('is deterministic for a seed, and the seed matters', () => {
    const a = generateScenarios({ seed: 7 });
    const b = generateScenarios({ seed: 7 });
    const c = generateScenarios({ seed: 8 });
    expect(b).toEqual(a);
    expect(c.map((s) => s.input.series)).not.toEqual(a.map((s) => s.input.series));
    // One stream per scenario: generating a subset does not change a scenario's data.
    expect(generateScenarios({ seed: 7, names: ['errors-2pct'] })[0]).toEqual(a.find((s) => s.name === 'errors-2pct'));
  });

  it('covers every case the issue lists, with a ground truth each', () => {
    const covered = new Set(SCENARIO_SPECS.map((s) => s.covers));
    for (const item of [
      'total outage',
      '10 % errors on a 99.9 % SLO',
      '2 % errors on a 99.9 % SLO',
      'slow burn below the page threshold',
      '90-second blip',
      'low traffic with a single error',
      'no data after release',
      'a canary that gets no traffic',
      'latency regression',
      'pre-existing incident',
      '10 % canary of a badly broken version',
      'traffic surge at a constant error ratio',
    ]) {
      expect(covered, item).toContain(item);
    }
    const truths = new Set(SCENARIO_SPECS.map((s) => s.truth));
    expect([...truths].sort()).toEqual(['healthy', 'no-data', 'regression', 'slow-regression']);
    expect(new Set(SCENARIO_SPECS.map((s) => s.name)).size).toBe(SCENARIO_SPECS.length);
  });

  it('produces valid per-version series: blended = stable + canary, the new version only after the release', () => {
    for (const s of generateScenarios()) {
      let previous = -1;
      for (const e of s.input.series) {
        expect(e.minute).toBeGreaterThan(previous);
        previous = e.minute;
        expect(e.errors).toBeLessThanOrEqual(e.requests);
        if (e.minute < RELEASE_MINUTE) expect(e.canary, `${s.name} minute ${e.minute}`).toBeUndefined();
        if (e.stable || e.canary) {
          expect(e.requests).toBe((e.stable?.requests ?? 0) + (e.canary?.requests ?? 0));
          expect(e.errors).toBe((e.stable?.errors ?? 0) + (e.canary?.errors ?? 0));
        }
      }
      expect(s.input.releaseMinute).toBe(RELEASE_MINUTE);
      expect(s.input.series.length).toBeLessThanOrEqual(HISTORY_MINUTES + POST_RELEASE_MINUTES);
    }
  });

  it('shapes traffic as described: a 10 % canary, outages, no data', () => {
    const byName = Object.fromEntries(generateScenarios().map((s) => [s.name, s]));
    const during = (name: string, from: number, to: number) => byName[name].input.series.filter((e) => e.minute >= RELEASE_MINUTE + from && e.minute < RELEASE_MINUTE + to);
    const sum = (entries: SeriesEntry[], f: (e: SeriesEntry) => number) => entries.reduce((a, e) => a + f(e), 0);

    const canaryStep = during('broken-canary-10pct', 0, 10);
    const share = sum(canaryStep, (e) => e.canary?.requests ?? 0) / sum(canaryStep, (e) => e.requests);
    expect(share).toBeGreaterThan(0.08);
    expect(share).toBeLessThan(0.12);
    expect(canaryStep.every((e) => e.canary!.errors === e.canary!.requests)).toBe(true);
    expect(during('broken-canary-10pct', 10, 20).every((e) => e.stable === undefined)).toBe(true);

    expect(during('no-data-after-release', 0, POST_RELEASE_MINUTES)).toEqual([]);
    expect(during('canary-no-traffic', 0, POST_RELEASE_MINUTES).every((e) => e.canary === undefined && e.stable !== undefined)).toBe(true);
    expect(during('blended-sli-broken-10pct', 0, POST_RELEASE_MINUTES).every((e) => e.canary === undefined && e.stable === undefined)).toBe(true);
    expect(sum(during('low-traffic-1-error', 0, POST_RELEASE_MINUTES), (e) => e.errors)).toBe(1);
    expect(during('low-traffic-1-error', 0, 1)[0].canary).toMatchObject({ errors: 1 });
    const surge = during('traffic-surge', 2, 32);
    expect(sum(surge, (e) => e.requests) / surge.length).toBeGreaterThan(4.5 * BASE_REQUESTS_PER_MINUTE);
    expect(byName['latency-regression'].input.series.every((e) => e.slow !== undefined)).toBe(true);
  });

  it('replays policies built from the real constructs: the per-version page tier, 10-minute bake, fail closed', () => {
    const p = policy('availability-canary5');
    expect(p.slos.map((s) => [s.name, s.objectivePercent, s.errorBudget])).toEqual([['Availability', 99.9, 0.001]]);
    expect(p.rollbackTriggers).toHaveLength(1);
    expect(p.rollbackTriggers![0]).toMatchObject({ platform: 'lambda', bakeSeconds: 600, inconclusiveAction: 'fail' });
    expect(p.rollbackTriggers![0].alarms).toEqual([
      expect.objectContaining({ slo: 'Availability', scope: 'version', minEvents: 70, tier: expect.objectContaining({ factor: 14.4, longWindowSeconds: 3_600 }) }),
    ]);
    expect(policy('blended-sli-canary10').rollbackTriggers![0].alarms[0].scope).toBe('declared');
    expect(policy('availability-latency-canary5').slos.map((s) => [s.name, s.sli.kind, s.errorBudget])).toEqual([
      ['Availability', 'error-ratio', 0.001],
      ['Latency', 'latency', 0.01],
    ]);
  });
});

describe('SRE Workbook reference (blended, every minute, sliding windows)', () => {
  it('derives the workbook factors: 14.4 for 1 h, 6 for 6 h', () => {
    expect(WORKBOOK_PAGE_TIERS.map((t) => [t.longMinutes, t.shortMinutes, t.factor])).toEqual([
      [60, 5, 14.4],
      [360, 30, 6],
    ]);
  });

  it('fires in the first minute of a total outage at 1,000 requests a minute', () => {
    // 1 h: 1,000 bad of 60,000 = 1.67 % ≥ 1.44 %; 5 min: 1,000 of 5,000 = 20 %.
    expect(referenceDetection(steady(1), 360, [AVAILABILITY])).toEqual({ detectionMinutes: 1, minute: 360, tier: '14.4× 1h/5m', slo: 'Availability', firingAtRelease: false });
  });

  it('fires after 44 minutes at 2 % errors and 9 minutes at 10 %', () => {
    // 1 h window: 20·k bad of 60,000 ≥ 1.44 % ⇔ k ≥ 43.2; the 6-h tier would need k ≥ 108.
    expect(referenceDetection(steady(0.02), 360, [AVAILABILITY])).toMatchObject({ detectionMinutes: 44, tier: '14.4× 1h/5m' });
    // 100·k ≥ 864 ⇔ k ≥ 8.64.
    expect(referenceDetection(steady(0.1), 360, [AVAILABILITY])).toMatchObject({ detectionMinutes: 9, tier: '14.4× 1h/5m' });
  });

  it('fires on the 6× 6 h / 30 min tier alone at 0.7 % errors, after 309 minutes', () => {
    // 7·k bad of 360,000 ≥ 0.6 % ⇔ k ≥ 308.6 (the 30-min window burns 7× from minute 26 on); 14.4× never.
    expect(referenceDetection(steady(0.007), 360, [AVAILABILITY])).toMatchObject({ detectionMinutes: 309, tier: '6× 6h/30m' });
    expect(referenceDetection(steady(0.007), 360, [AVAILABILITY], { horizonMinutes: 308 })).toEqual({ firingAtRelease: false });
  });

  it('a short history makes the 6-h window fire sooner (why the eval keeps 6 h of history)', () => {
    // 6-h window holds 60 + k minutes: 20·k ≥ 6·(60 + k) ⇔ k ≥ 25.7; 30-min window at 20× from the start.
    expect(referenceDetection(steady(0.02, { history: 60 }), 60, [AVAILABILITY])).toMatchObject({ detectionMinutes: 26, tier: '6× 6h/30m' });
  });

  it('never fires below 6× and never on a clean series', () => {
    expect(referenceDetection(steady(0.005), 360, [AVAILABILITY])).toEqual({ firingAtRelease: false });
    expect(referenceDetection(steady(0), 360, [AVAILABILITY])).toEqual({ firingAtRelease: false });
  });

  it('has no minimum event count: one error in a handful of requests pages', () => {
    const series: SeriesEntry[] = [
      { minute: 0, requests: 2, errors: 0 },
      { minute: 30, requests: 1, errors: 0 },
      { minute: 62, requests: 1, errors: 1 },
    ];
    // At k = 3 the windows end at minute 62: 1 h holds 2 events (1 bad), 5 min holds 1 (bad).
    expect(referenceDetection(series, 60, [AVAILABILITY])).toMatchObject({ detectionMinutes: 3, minute: 62 });
  });

  it('reads the slow count for a latency SLO, and flags an alert already firing at the release', () => {
    const slow: SeriesEntry[] = steady(0).map((e) => ({ ...e, slow: e.minute >= 360 ? 200 : 0 }));
    // 20 % slow on a 99 % SLO: 200·k of 60,000 ≥ 14.4 % ⇔ k ≥ 43.2.
    expect(referenceDetection(slow, 360, [{ name: 'Latency', errorBudget: 0.01, bad: 'slow' }])).toMatchObject({ detectionMinutes: 44, slo: 'Latency' });
    expect(referenceDetection(steady(1), 370, [AVAILABILITY])).toMatchObject({ detectionMinutes: 1, firingAtRelease: true });
    expect(referenceSlosOf(policy('availability-latency-canary5'))).toEqual([
      { name: 'Availability', errorBudget: expect.closeTo(0.001, 12), bad: 'errors' },
      { name: 'Latency', errorBudget: expect.closeTo(0.01, 12), bad: 'slow' },
    ]);
  });
});

describe('scoring against the issue\'s targets', () => {
  const scenario = (name: string, perVersionData = true): Scenario => generateScenarios({ names: [name] }).map((s) => ({ ...s, perVersionData }))[0];
  const returning = (outcome: Partial<PathOutcome>): Simulate => () =>
    ({ phases: [], thresholds: {}, minutes: [], outcome: { path: 'evaluator', verdict: 'none', reasons: [], ...outcome }, paths: [] }) as SimulationResult;

  it('a regression must fail no later than the reference, and within 3 minutes with per-version data', () => {
    // broken-canary-10pct: the reference fires after 9 minutes on this seed.
    const s = scenario('broken-canary-10pct');
    expect(evaluateScenario(s, returning({ path: 'alarm', verdict: 'fail', detectionMinutes: 3 }))).toMatchObject({ targetMet: true, falseRollback: false });
    expect(evaluateScenario(s, returning({ path: 'alarm', verdict: 'fail', detectionMinutes: 4 })).misses).toEqual([
      'caught after 4 min with per-version data (target ≤ 3 min)',
    ]);
    expect(evaluateScenario(scenario('broken-canary-10pct', false), returning({ verdict: 'fail', detectionMinutes: 9 })).targetMet).toBe(true);
    expect(evaluateScenario(scenario('broken-canary-10pct', false), returning({ verdict: 'fail', detectionMinutes: 10 })).misses).toEqual([
      'caught after 10 min, the reference after 9 min',
    ]);
    expect(evaluateScenario(s, returning({ verdict: 'inconclusive', detectionMinutes: 1 })).misses).toEqual(['regression not caught: verdict inconclusive']);
  });

  it('a healthy release must pass; any rollback is a false one, an inconclusive fail-closed one included', () => {
    const s = scenario('clean-release');
    expect(evaluateScenario(s, returning({ verdict: 'pass', detectionMinutes: 18 }))).toMatchObject({ targetMet: true, falseRollback: false });
    expect(evaluateScenario(s, returning({ path: 'alarm', verdict: 'fail', detectionMinutes: 2 }))).toMatchObject({ targetMet: false, falseRollback: true });
    expect(evaluateScenario(s, returning({ verdict: 'inconclusive', rollback: true }))).toMatchObject({ targetMet: false, falseRollback: true, rolledBack: true });
  });

  it('no data must end inconclusive; a fail on no evidence is a false rollback; a throw is a miss', () => {
    const s = scenario('canary-no-traffic');
    expect(evaluateScenario(s, returning({ verdict: 'inconclusive', rollback: true }))).toMatchObject({ targetMet: true, falseRollback: false });
    expect(evaluateScenario(s, returning({ verdict: 'pass' }))).toMatchObject({ targetMet: false, falseRollback: false });
    expect(evaluateScenario(s, returning({ verdict: 'fail' }))).toMatchObject({ targetMet: false, falseRollback: true });
    const thrown = evaluateScenario(s, () => {
      throw new Error('boom');
    });
    expect(thrown).toMatchObject({ verdict: 'error', targetMet: false, misses: ['simulate threw: boom'] });
  });

  it('slow regressions are reported, not scored', () => {
    expect(evaluateScenario(scenario('slow-burn-new-0.5pct'), returning({ verdict: 'pass' })).targetMet).toBeUndefined();
  });
});

/**
 * The eval on the default seed, through the real simulator: the targets (every regression
 * caught no later than the workbook reference and within 3 minutes with per-version data, zero
 * false rollbacks, a distinct inconclusive verdict without data) and the rows behind them.
 */
describe('npm run eval on the default seed', () => {
  const rows: Row[] = generateScenarios().map((s) => evaluateScenario(s, simulate));
  const compact = (r: Row) => [r.scenario, r.verdict, r.detectionMinutes ?? null, r.decidedBy?.split(':')[0] ?? null, r.reference.detectionMinutes ?? null, r.falseRollback, r.targetMet ?? null];

  it('prints these rows: scenario, verdict, detection, path, reference, false rollback, target met', () => {
    expect(rows.map(compact)).toEqual([
      ['clean-release', 'pass', 18, 'evaluator', null, false, true],
      ['total-outage', 'fail', 1, 'alarm', 1, false, true],
      ['errors-10pct', 'fail', 1, 'alarm', 13, false, true],
      ['errors-2pct', 'fail', 3, 'alarm', 47, false, true],
      ['slow-burn-both-0.5pct', 'pass', 18, 'evaluator', null, false, true],
      ['within-tolerance-0.12pct', 'pass', 18, 'evaluator', null, false, true],
      // Under the page rate the canary judge compares the two versions on the same minutes only (500
      // of the new version's events in the 5-minute canary): 0.5 % against 0.05 % is not significant
      // there at p ≤ 0.0001. After the shift nothing serves beside it, and a below-page difference
      // from the minutes before cannot be told from a service-wide blip: reported, not required.
      ['slow-burn-new-0.5pct', 'pass', 18, 'evaluator', null, false, null],
      // A shared blip: the rollback alarm compares the new version with the old one on the same 5 minutes.
      ['blip-90s', 'pass', 18, 'evaluator', 3, false, true],
      ['low-traffic-1-error', 'pass', 18, 'evaluator', null, false, true],
      ['trickle-traffic', 'inconclusive', 18, 'evaluator', 7, false, true],
      ['no-data-after-release', 'inconclusive', 18, 'evaluator', null, false, true],
      ['canary-no-traffic', 'inconclusive', 18, 'evaluator', null, false, true],
      ['latency-regression', 'fail', 1, 'alarm', 26, false, true],
      // A shared incident: held during the canary by the comparison, after the shift by the alarm
      // holding without a baseline, and by the evaluator comparing the minutes after the shift with
      // the current version's last minutes of service (pre-existing: escalated, not rolled back).
      ['pre-existing-incident', 'pass', 18, 'evaluator', 1, false, true],
      ['broken-canary-10pct', 'fail', 1, 'alarm', 9, false, true],
      ['traffic-surge', 'pass', 18, 'evaluator', null, false, true],
      ['blended-sli-broken-10pct', 'fail', 1, 'alarm', 9, false, true],
    ]);
  });

  it('meets every target', () => {
    expect(summarize(rows)).toEqual({
      regressions: 6,
      caught: 6,
      noLaterThanReference: 6,
      perVersionRegressions: 5,
      withinDeadline: 5,
      falseRollbacks: 0,
      noData: 3,
      inconclusive: 3,
      missed: [],
      targetsMet: true,
    });
  });

  it('the library\'s blended paging alarms (emulated) agree with the independent reference, but for the minimum-event guard', () => {
    const differ = rows.filter((r) => r.verdict !== 'error' && !pagingAgreesWithReference(r)).map((r) => r.scenario);
    // trickle-traffic: the workbook pages on 1 error in a handful of requests; the library's alarm needs 70 events.
    expect(differ).toEqual(['trickle-traffic']);
  });
});
