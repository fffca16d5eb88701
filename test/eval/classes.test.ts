import { describe, expect, it } from 'vitest';
import type { RollbackPolicy } from '../../lib/core/policy';
import { shiftPlan } from '../../lib/core/simulator/timeline';
import type { PathOutcome, SeriesEntry, SimulationResult } from '../../lib/core/simulator/types';
import { validateSeries, validateShape } from '../../lib/core/simulator/validate';
import { ClassScenario, PAGE_ERROR_RATIO, SCENARIO_CLASSES, ScenarioClass, WORKBOOK_HOUR_ERRORS, describeShape, drawClass, generateClassScenarios } from '../../eval/classes';
import type { Row, Simulate } from '../../eval/evaluate';
import { ReferenceSlo, WORKBOOK_PAGE_TIERS, referenceDetection } from '../../eval/reference';
import {
  ClassLine,
  ClassRow,
  aggregateClass,
  detectionFromOnset,
  evaluateClassScenario,
  fixedScenarioRow,
  formatClassTable,
  isBlindPass,
  isFalseRollback,
  percentile,
  sweepClasses,
  withinDetectTarget,
} from '../../eval/robustness';
import { BASE_ERROR_RATIO, RELEASE_MINUTE, SCENARIO_SPECS, generateSeries, shapeShare } from '../../eval/scenarios';

/**
 * The scenario classes of issue 8 and the per-class aggregation of `npm run eval -- --seeds N`.
 * No stack is synthesized here (a stub policy carries the one field the generator reads) and
 * nothing is replayed through the real simulator: that is the sweep's job; these tests check the
 * generator's series and the arithmetic of the table.
 */

const AVAILABILITY: ReferenceSlo = { name: 'Availability', errorBudget: 0.001, bad: 'errors' };
/** The generator reads only `slos[].sli.kind` of a policy (whether to sample slow requests). */
const STUB_POLICY = { slos: [{ sli: { kind: 'error-ratio' } }] } as unknown as RollbackPolicy;
const stubPolicies = () => STUB_POLICY;

const byName = (name: string): ScenarioClass => SCENARIO_CLASSES.find((c) => c.name === name)!;
const seriesOf = (cls: ScenarioClass, seed: number) => {
  const { draw, spec } = drawClass(cls, seed);
  return { draw, spec, series: generateSeries(spec, seed, false) };
};
const window = (series: readonly SeriesEntry[], from: number, to: number) => series.filter((e) => e.minute >= RELEASE_MINUTE + from && e.minute < RELEASE_MINUTE + to);
const sum = (entries: readonly SeriesEntry[], f: (e: SeriesEntry) => number) => entries.reduce((a, e) => a + f(e), 0);
const SEEDS = [1, 2, 3, 4, 5];

describe('scenario classes: the list of issue 8', () => {
  it('covers every class the issue names, each with a truth and the matching kind of target', () => {
    const covers = SCENARIO_CLASSES.map((c) => c.covers);
    for (const item of [
      'all-at-once with a blip',
      'all-at-once into a pre-existing incident',
      'a shared incident hitting both versions during a canary',
      'a regression starting 5–15 minutes after the release (all-at-once)',
      'a regression starting 5–15 minutes after the release (canary)',
      'a linear rollout (10 % every few minutes) of a failing version',
      'a slow burn just under the page threshold',
      'a slow burn just over the page threshold',
      'low traffic (a few requests per minute), healthy',
      'low traffic (a few requests per minute), failing',
    ]) {
      expect(covers, item).toContain(item);
    }
    expect(new Set(SCENARIO_CLASSES.map((c) => c.name)).size).toBe(SCENARIO_CLASSES.length);
    // A class name never collides with a fixed scenario's: they share the per-class table.
    for (const c of SCENARIO_CLASSES) expect(SCENARIO_SPECS.map((s) => s.name)).not.toContain(c.name);
    const expected = { regression: 'detect', 'no-regression': 'no-false-rollback', 'no-data': 'inconclusive', reported: 'reported' };
    for (const c of SCENARIO_CLASSES) expect(c.target.kind, c.name).toBe(expected[c.truth]);
    expect(SCENARIO_CLASSES.map((c) => c.deployment.kind).sort()).toEqual(expect.arrayContaining(['all-at-once', 'canary', 'linear']));
  });
});

describe('scenario classes: generation', () => {
  it('is deterministic per seed, the seed matters, and one class draws the same alone or with the others', () => {
    const strip = (s: ClassScenario) => ({ ...s, spec: undefined });
    const a = generateClassScenarios(7, { policies: stubPolicies });
    const b = generateClassScenarios(7, { policies: stubPolicies });
    const c = generateClassScenarios(8, { policies: stubPolicies });
    expect(b.map(strip)).toEqual(a.map(strip));
    expect(c.map((s) => s.input.series)).not.toEqual(a.map((s) => s.input.series));
    expect(c.map((s) => s.params)).not.toEqual(a.map((s) => s.params));
    const alone = generateClassScenarios(7, { policies: stubPolicies, names: ['canary-delayed-regression'] });
    expect(alone.map(strip)).toEqual(a.filter((s) => s.className === 'canary-delayed-regression').map(strip));
    // The seed and the class name key the streams: the fixed scenarios' noise is another stream.
    expect(a.every((s) => s.seed === 7 && s.input.releaseMinute === RELEASE_MINUTE)).toBe(true);
  });

  it('produces series the simulator accepts: whole increasing minutes, blended = stable + canary, the new version only from the release', () => {
    for (const cls of SCENARIO_CLASSES) {
      validateShape(cls.deployment);
      for (const seed of SEEDS) {
        const { series } = seriesOf(cls, seed);
        expect(() => validateSeries(series, false), `${cls.name} seed ${seed}`).not.toThrow();
        // One assertion per series (tens of thousands of entries in all): the first bad entry, if any.
        const bad = series.find(
          (e) =>
            (e.minute < RELEASE_MINUTE && e.canary !== undefined) ||
            (e.stable === undefined && e.canary === undefined) ||
            e.requests !== (e.stable?.requests ?? 0) + (e.canary?.requests ?? 0) ||
            e.errors !== (e.stable?.errors ?? 0) + (e.canary?.errors ?? 0),
        );
        expect(bad, `${cls.name} seed ${seed}`).toBeUndefined();
      }
    }
  });

  it('shifts traffic as the declared deployment shape, and as the simulator\'s own shift plan has it', () => {
    for (const cls of SCENARIO_CLASSES) {
      const plan = shiftPlan(cls.deployment, RELEASE_MINUTE);
      const allTraffic = plan.allTrafficMinute - RELEASE_MINUTE;
      expect(shapeShare(cls.deployment, allTraffic), cls.name).toBe(1);
      if (allTraffic > 0) expect(shapeShare(cls.deployment, allTraffic - 1), cls.name).toBeLessThan(1);
      for (const step of plan.steps) expect(shapeShare(cls.deployment, step.fromMinute - RELEASE_MINUTE), `${cls.name} step`).toBeCloseTo(step.canaryShare, 12);
      for (const seed of SEEDS) {
        const { series } = seriesOf(cls, seed);
        // From the full shift on the current version serves nothing: no entry of its own.
        expect(window(series, allTraffic, 60).every((e) => e.stable === undefined && e.canary !== undefined), `${cls.name} seed ${seed}`).toBe(true);
        if (cls.name.startsWith('low-traffic')) continue; // a few requests a minute: no share to measure
        // Each step serves its share of the traffic (within sampling noise).
        for (const step of plan.steps) {
          const entries = window(series, step.fromMinute - RELEASE_MINUTE, step.toMinute - RELEASE_MINUTE);
          const share = sum(entries, (e) => e.canary?.requests ?? 0) / sum(entries, (e) => e.requests);
          expect(Math.abs(share - step.canaryShare), `${cls.name} seed ${seed} step at ${step.fromMinute}`).toBeLessThan(0.04);
        }
      }
    }
    expect(shiftPlan(byName('linear-failing').deployment, 0)).toMatchObject({ allTrafficMinute: 27 });
    expect(shiftPlan(byName('linear-failing').deployment, 0).steps.map((s) => s.canaryShare)).toEqual([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]);
    expect(shiftPlan(byName('aao-blip').deployment, 0)).toEqual({ steps: [], allTrafficMinute: 0 });
    expect(SCENARIO_CLASSES.map((c) => describeShape(c.deployment))).toEqual(
      expect.arrayContaining(['all at once', 'all at once, bake 20 min', 'canary 10 %/5 min', 'canary 10 %/10 min', 'linear 10 %/3 min']),
    );
  });

  it('draws parameters from the declared ranges', () => {
    const draws = (name: string) => Array.from({ length: 200 }, (_, i) => drawClass(byName(name), i + 1).draw);
    const range = (name: string, key: string) => {
      const values = draws(name).map((d) => d.params[key]);
      return [Math.min(...values), Math.max(...values)];
    };
    const values = (name: string, key: string) => [...new Set(draws(name).map((d) => d.params[key]))].sort((a, b) => a - b);
    expect(values('aao-delayed-regression', 'onset')).toEqual([5, 6, 7, 8, 9]);
    expect(values('aao-delayed-regression-bake20', 'onset')).toEqual([10, 11, 12, 13, 14, 15]);
    expect(values('canary-delayed-regression', 'onset')).toEqual([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    expect(values('aao-blip', 'blipStart')).toEqual([3, 4, 5, 6, 7, 8]);
    expect(values('aao-blip', 'blipMinutes')).toEqual([1, 2, 3]);
    for (const name of ['aao-delayed-regression', 'aao-delayed-regression-bake20', 'canary-delayed-regression', 'linear-failing']) {
      const [lo, hi] = range(name, 'ratio');
      expect(lo).toBeGreaterThanOrEqual(0.02);
      expect(hi).toBeLessThan(0.2);
    }
    const [underLo, underHi] = range('aao-slow-burn-under-page', 'ratio');
    expect(underLo).toBeGreaterThanOrEqual(0.7 * PAGE_ERROR_RATIO);
    expect(underHi).toBeLessThan(0.87 * PAGE_ERROR_RATIO);
    const [overLo, overHi] = range('slow-burn-over-page', 'ratio');
    expect(overLo).toBeGreaterThanOrEqual(1.15 * PAGE_ERROR_RATIO);
    expect(overHi).toBeLessThan(1.4 * PAGE_ERROR_RATIO);
    const [rpmLo, rpmHi] = range('low-traffic-healthy', 'rpm');
    expect(rpmLo).toBeGreaterThanOrEqual(2);
    expect(rpmHi).toBeLessThan(4);
  });

  it('starts a regression at its declared onset: healthy before, failing at the drawn ratio from it', () => {
    for (const cls of SCENARIO_CLASSES.filter((c) => c.truth === 'regression' || c.truth === 'reported')) {
      for (const seed of SEEDS) {
        const { draw, spec, series } = seriesOf(cls, seed);
        const onset = draw.onsetMinute!;
        const ratio = draw.params.ratio;
        expect(onset, cls.name).toBe(draw.params.onset);
        for (let t = -10; t < 60; t++) expect(spec.canaryErrors!(t), `${cls.name} t=${t}`).toBe(t >= onset ? ratio : BASE_ERROR_RATIO);
        if (cls.name.startsWith('low-traffic')) continue;
        const before = window(series, 0, onset);
        if (before.length > 0) expect(sum(before, (e) => e.canary?.errors ?? 0) / sum(before, (e) => e.canary?.requests ?? 0)).toBeLessThan(0.005);
        const after = window(series, onset, onset + 10);
        const observed = sum(after, (e) => e.canary?.errors ?? 0) / sum(after, (e) => e.canary?.requests ?? 0);
        expect(observed, `${cls.name} seed ${seed}`).toBeGreaterThan(0.6 * ratio);
        expect(observed, `${cls.name} seed ${seed}`).toBeLessThan(1.4 * ratio);
      }
    }
  });

  it('hits both versions alike where the truth says the release is not the cause, on the declared minutes', () => {
    for (const name of ['aao-blip', 'aao-pre-existing-incident', 'canary-shared-incident', 'aao-slow-burn-under-page']) {
      for (const seed of SEEDS) {
        const { draw, spec } = seriesOf(byName(name), seed);
        expect(draw.onsetMinute, name).toBeUndefined();
        for (let t = -130; t < 120; t++) expect(spec.canaryErrors!(t), `${name} t=${t}`).toBe(spec.stableErrors!(t));
      }
    }
    const blip = seriesOf(byName('aao-blip'), 4);
    const { blipStart, blipMinutes, blipRatio } = blip.draw.params;
    for (let t = 0; t < 15; t++) expect(blip.spec.canaryErrors!(t)).toBe(t >= blipStart && t < blipStart + blipMinutes ? blipRatio : BASE_ERROR_RATIO);
    const blipErrors = sum(window(blip.series, blipStart, blipStart + blipMinutes), (e) => e.errors);
    expect(blipErrors).toBeGreaterThan(0.15 * WORKBOOK_HOUR_ERRORS);
    expect(blipErrors).toBeLessThan(0.7 * WORKBOOK_HOUR_ERRORS);
    const incident = seriesOf(byName('canary-shared-incident'), 2);
    const { incidentStart, incidentRatio } = incident.draw.params;
    // During the canary step both versions serve, both fail at the incident's ratio.
    const step = window(incident.series, incidentStart, 5);
    expect(step.every((e) => e.stable !== undefined && e.canary !== undefined)).toBe(true);
    const stableRatio = sum(step, (e) => e.stable!.errors) / sum(step, (e) => e.stable!.requests);
    expect(stableRatio).toBeGreaterThan(0.6 * incidentRatio);
    expect(stableRatio).toBeLessThan(1.4 * incidentRatio);
  });

  it('matches the workbook where the truth leans on it: the blip never pages, the incident paged before the release, the slow burn stays under 14.4×', () => {
    for (const seed of SEEDS) {
      expect(referenceDetection(seriesOf(byName('aao-blip'), seed).series, RELEASE_MINUTE, [AVAILABILITY]), `blip seed ${seed}`).toEqual({ firingAtRelease: false });
      expect(referenceDetection(seriesOf(byName('aao-pre-existing-incident'), seed).series, RELEASE_MINUTE, [AVAILABILITY]).firingAtRelease, `incident seed ${seed}`).toBe(true);
      const underPage = seriesOf(byName('aao-slow-burn-under-page'), seed).series;
      expect(referenceDetection(underPage, RELEASE_MINUTE, [AVAILABILITY], { tiers: [WORKBOOK_PAGE_TIERS[0]] }), `slow burn seed ${seed}`).toEqual({ firingAtRelease: false });
    }
  });

  it('gives the low-traffic classes fewer events than the page tier judges on (70) before the bake reports', () => {
    for (const name of ['low-traffic-healthy', 'low-traffic-failing']) {
      for (const seed of SEEDS) {
        const { draw, series } = seriesOf(byName(name), seed);
        // The evaluator's last read at the report (minute +18, metric delay 3 min): minutes 0 … 14.
        const seen = sum(window(series, 0, 15), (e) => e.canary?.requests ?? 0);
        expect(seen, `${name} seed ${seed}`).toBeLessThan(70);
        const all = window(series, -120, 120);
        expect(Math.abs(sum(all, (e) => e.requests) / 240 - draw.params.rpm), `${name} seed ${seed}`).toBeLessThan(0.5);
      }
    }
  });
});

describe('per-class aggregation', () => {
  const row = (r: Partial<ClassRow>): ClassRow => ({ className: 'c', truth: 'regression', seed: 1, verdict: 'pass', rolledBack: false, onsetMinute: 0, ...r });
  const fail = (detectionMinutes: number, extra: Partial<ClassRow> = {}) => row({ verdict: 'fail', rolledBack: true, detectionMinutes, ...extra });
  const meta = (truth: ClassRow['truth'], target: ClassLine['target']) => ({ className: 'c', truth, shape: 'all at once', target });
  const tenMinutes = { kind: 'detect', withinMinutes: 10, why: 'test' } as const;

  it('nearest-rank percentiles: the smallest value with at least p % of the values at or below it', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 95)).toBe(5);
    expect(percentile([5, 1, 3, 2, 4], 20)).toBe(1);
    expect(percentile([5, 1, 3, 2, 4], 0)).toBe(1);
    const hundred = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect([percentile(hundred, 50), percentile(hundred, 95), percentile(hundred, 99), percentile(hundred, 100)]).toEqual([50, 95, 99, 100]);
    expect(percentile([1, 2, Infinity, Infinity], 50)).toBe(2);
    expect(percentile([1, 2, Infinity, Infinity], 95)).toBe(Infinity);
    expect(percentile([], 50)).toBeUndefined();
  });

  it('counts detection from the onset; a rollback before the onset is a false one, a pass a blind one', () => {
    expect(detectionFromOnset(fail(12, { onsetMinute: 7 }))).toBe(5);
    expect(detectionFromOnset(fail(7, { onsetMinute: 7 }))).toBe(0);
    expect(detectionFromOnset(fail(6, { onsetMinute: 7 }))).toBeUndefined();
    expect(isFalseRollback(fail(6, { onsetMinute: 7 }))).toBe(true);
    expect(detectionFromOnset(row({ verdict: 'inconclusive', rolledBack: true, detectionMinutes: 18 }))).toBeUndefined();
    expect(isBlindPass(row({ verdict: 'pass' }))).toBe(true);
    expect(isBlindPass(row({ verdict: 'pass', truth: 'no-regression' }))).toBe(false);
    expect(withinDetectTarget(fail(17, { onsetMinute: 7 }), tenMinutes)).toBe(true);
    expect(withinDetectTarget(fail(18, { onsetMinute: 7 }), tenMinutes)).toBe(false);
    expect(withinDetectTarget(fail(18), { kind: 'no-false-rollback' })).toBeUndefined();
    // No regression: any rollback is false, an inconclusive failing closed included; no data: a fail is.
    expect(isFalseRollback(row({ truth: 'no-regression', verdict: 'inconclusive', rolledBack: true }))).toBe(true);
    expect(isFalseRollback(row({ truth: 'no-regression', verdict: 'inconclusive', rolledBack: false }))).toBe(false);
    expect(isFalseRollback(row({ truth: 'no-data', verdict: 'inconclusive', rolledBack: true }))).toBe(false);
    expect(isFalseRollback(row({ truth: 'no-data', verdict: 'fail', rolledBack: true }))).toBe(true);
  });

  it('a regression class: percentiles over all runs with misses as never, blind passes, inconclusive, early rollbacks, the 99 % target', () => {
    const rows = [
      fail(6, { onsetMinute: 5 }),
      fail(7, { onsetMinute: 5 }),
      fail(8, { onsetMinute: 5 }),
      fail(20, { onsetMinute: 5 }),
      row({ onsetMinute: 5, verdict: 'pass', detectionMinutes: 13 }),
      row({ onsetMinute: 5, verdict: 'inconclusive', rolledBack: true, detectionMinutes: 13 }),
      fail(3, { onsetMinute: 5 }),
    ].map((r) => ({ ...r, withinTarget: withinDetectTarget(r, tenMinutes), referenceMinutes: 30 }));
    const line = aggregateClass(rows, meta('regression', tenMinutes));
    expect(line).toMatchObject({
      runs: 7,
      // From the onset: 1, 2, 3, 15, never, never, never.
      detectP50: 15,
      detectP95: Infinity,
      withinTarget: 3,
      blindPasses: 1,
      inconclusive: 1,
      falseRollbacks: 1,
      referenceP50: 25,
      met: false,
    });
    const hundred = (caught: number) => Array.from({ length: 100 }, (_, i) => (i < caught ? { ...fail(2), withinTarget: true } : row({ verdict: 'pass' })));
    expect(aggregateClass(hundred(99), meta('regression', tenMinutes))).toMatchObject({ withinTarget: 99, blindPasses: 1, met: true, detectP50: 2, detectP95: 2 });
    expect(aggregateClass(hundred(98), meta('regression', tenMinutes))).toMatchObject({ withinTarget: 98, met: false });
  });

  it('no-regression, no-data and reported classes', () => {
    const healthy = [row({ truth: 'no-regression' }), row({ truth: 'no-regression', verdict: 'fail', rolledBack: true, detectionMinutes: 4 }), row({ truth: 'no-regression', verdict: 'inconclusive', rolledBack: true })];
    expect(aggregateClass(healthy, meta('no-regression', { kind: 'no-false-rollback' }))).toMatchObject({ runs: 3, falseRollbacks: 2, inconclusive: 1, met: false });
    expect(aggregateClass(healthy, meta('no-regression', { kind: 'no-false-rollback' })).detectP50).toBeUndefined();
    expect(aggregateClass([healthy[0], healthy[0]], meta('no-regression', { kind: 'no-false-rollback' }))).toMatchObject({ falseRollbacks: 0, met: true });
    const noData = [row({ truth: 'no-data', verdict: 'inconclusive', rolledBack: true }), row({ truth: 'no-data', verdict: 'fail', rolledBack: true })];
    expect(aggregateClass(noData, meta('no-data', { kind: 'inconclusive' }))).toMatchObject({ inconclusive: 1, falseRollbacks: 1, met: false });
    expect(aggregateClass([noData[0]], meta('no-data', { kind: 'inconclusive' }))).toMatchObject({ inconclusive: 1, met: true });
    expect(aggregateClass([row({ truth: 'reported' })], meta('reported', { kind: 'reported' }))).toMatchObject({ blindPasses: 1, met: undefined });
    const thrown = [row({ truth: 'no-regression', verdict: 'error' })];
    expect(aggregateClass(thrown, meta('no-regression', { kind: 'no-false-rollback' }))).toMatchObject({ errors: 1, met: false });
  });

  it('prints the table: percentiles from the onset, never, rates over the runs, met / NOT MET', () => {
    const lines = [
      aggregateClass([fail(8, { onsetMinute: 5, withinTarget: true }), row({ onsetMinute: 5 })], meta('regression', tenMinutes)),
      aggregateClass([row({ truth: 'no-regression' })], { ...meta('no-regression', { kind: 'no-false-rollback' }), className: 'calm' }),
    ];
    const table = formatClassTable(lines).split('\n');
    expect(table[0]).toMatch(/^class\s+truth\s+deployment\s+detect p50 \/ p95 \(min from onset\)\s+within target\s+blind pass\s+false rollback\s+inconclusive\s+workbook p50\s+target\s+met$/);
    expect(table[2]).toMatch(/^c\s+regression\s+all at once\s+3 \/ never\s+1\/2\s+1\/2\s+0\/2\s+0\/2\s+never\s+caught ≤ 10 min from onset in ≥ 99 %\s+NOT MET$/);
    expect(table[3]).toMatch(/^calm\s+no-regression\s+all at once\s+—\s+—\s+—\s+0\/1\s+0\/1\s+—\s+0 false rollbacks\s+met$/);
  });

  it('a fixed scenario keeps the single-seed gate as its per-seed target', () => {
    const gateRow = (truth: Row['truth'], targetMet: boolean): Row =>
      ({ scenario: 's', truth, perVersionData: true, deadlineMinutes: 3, verdict: 'fail', rolledBack: true, detectionMinutes: 4, reference: { firingAtRelease: false }, falseRollback: false, targetMet, misses: [] }) as Row;
    expect(fixedScenarioRow(gateRow('regression', false), 3)).toMatchObject({ className: 's', truth: 'regression', seed: 3, onsetMinute: 0, detectionMinutes: 4, withinTarget: false });
    expect(fixedScenarioRow(gateRow('regression', true), 3).withinTarget).toBe(true);
    expect(fixedScenarioRow(gateRow('healthy', false), 3)).toMatchObject({ truth: 'no-regression', rolledBack: true });
    expect(fixedScenarioRow(gateRow('slow-regression', false), 3).truth).toBe('reported');
  });
});

describe('replaying a class (stub simulator)', () => {
  const returning =
    (outcome: Partial<PathOutcome>): Simulate =>
    () =>
      ({ phases: [], thresholds: {}, minutes: [], outcome: { path: 'evaluator', verdict: 'none', reasons: [], ...outcome }, paths: [] }) as SimulationResult;

  it('scores a delayed regression from its onset', () => {
    const s = generateClassScenarios(3, { policies: stubPolicies, names: ['aao-delayed-regression'] })[0];
    const onset = s.onsetMinute;
    expect(evaluateClassScenario(s, returning({ path: 'alarm', verdict: 'fail', detectionMinutes: onset + 10, rollback: true }))).toMatchObject({
      className: 'aao-delayed-regression',
      seed: 3,
      onsetMinute: onset,
      withinTarget: true,
    });
    expect(evaluateClassScenario(s, returning({ verdict: 'fail', detectionMinutes: onset + 11, rollback: true })).withinTarget).toBe(false);
    const early = evaluateClassScenario(s, returning({ verdict: 'fail', detectionMinutes: onset - 1, rollback: true }));
    expect([early.withinTarget, isFalseRollback(early)]).toEqual([false, true]);
    const passed = evaluateClassScenario(s, returning({ verdict: 'pass', detectionMinutes: 13, rollback: false }));
    expect([passed.withinTarget, isBlindPass(passed)]).toEqual([false, true]);
  });

  it('sweeps every fixed scenario and class over the seeds, one line each', () => {
    const result = sweepClasses([1, 2], returning({ verdict: 'pass', detectionMinutes: 18, rollback: false }), { policies: stubPolicies });
    expect(result.replays).toBe(2 * (SCENARIO_SPECS.length + SCENARIO_CLASSES.length));
    expect(result.fixed.map((l) => l.className)).toEqual(SCENARIO_SPECS.map((s) => s.name));
    expect(result.classes.map((l) => l.className)).toEqual(SCENARIO_CLASSES.map((c) => c.name));
    expect(result.classes.every((l) => l.runs === 2)).toBe(true);
    // A simulator that always passes: every no-regression class met, every regression a blind pass.
    for (const l of result.classes) {
      if (l.truth === 'no-regression') expect(l.met, l.className).toBe(true);
      if (l.truth === 'regression') expect([l.blindPasses, l.met], l.className).toEqual([2, false]);
      if (l.truth === 'no-data') expect(l.met, l.className).toBe(false);
    }
    expect(sweepClasses([1], returning({ verdict: 'pass' }), { policies: stubPolicies, scenarios: [], classes: ['aao-blip'] })).toMatchObject({ fixed: [], replays: 1 });
  });
});
