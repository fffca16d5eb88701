import { describe, expect, it } from 'vitest';
import { InconclusiveAction, TriggerMode } from '../../../lib';
import type { RollbackPolicy } from '../../../lib/core';
import { PathOutcome, SimulationInput, SimulationResult, simulate } from '../../../lib/core/simulator';
import { expectRtError } from '../helpers';
import { CANARY_10_FOR_10, IDS, blendedOnly, buildSeries, canaryRelease, lambdaService } from './fixtures';

// Every policy below is synthesized from real constructs: a Lambda alias with a 99.9 %
// availability SLO (workbook tiers: page-1h is 14.4× over 1 h / 5 min with at least 70 events per
// window, page-6h 6× over 6 h / 30 min) and a RollbackTrigger (bake 10 min, inconclusive → fail).
// Its one rollback alarm is page-1h's SHORT window on the new version's own traffic: 14.4× over
// 5 min (1.44 % errors), at least 70 events, 1 of 1, notBreaching, burning only while the new
// version fails more than twice as often as the current one on the same 5 minutes (baseline
// rest-of-blended, factor 2: the alias minus the new version, i.e. the series' stable entries).
// At minute t CloudWatch's 5-minute window holds minutes t − 5 … t − 1.
//
// The evaluator's clock (defaults): AfterAllowTraffic starts when all traffic shifted (minute 10 for
// the 10 %/10 min canary), ticks every 60 s, sees data up to now − 180 s. The bake is over when
// 600 s of data since the hook's start are visible: minute 10 + 10 + 3 = 23.

const service = lambdaService();

function run(series: SimulationInput['series'], overrides: Partial<SimulationInput> = {}, policy: RollbackPolicy = service.policy): SimulationResult {
  return simulate({ policy, series, releaseMinute: 0, deployment: CANARY_10_FOR_10, ...overrides });
}

const path = (result: SimulationResult, name: PathOutcome['path']) => result.paths.find((p) => p.path === name)!;

describe('a clean release', () => {
  const result = run(canaryRelease({ canaryErrors: () => 0 }));

  it('passes at the end of the bake; no path fires', () => {
    expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass', minute: 23, detectionMinutes: 23, rollback: false, status: 'Succeeded' });
    expect(result.outcome.reasons[0]).toMatch(/bake complete: every SLO held/);
    expect(path(result, 'alarm')).toMatchObject({ verdict: 'none', rollback: false });
    expect(path(result, 'alarm').minute).toBeUndefined();
    expect(path(result, 'paging')).toMatchObject({ verdict: 'none', rollback: false });
  });

  it('judges minutes 0–19 of per-version data: 11,000 canary requests, 9,000 baseline', () => {
    // Canary: 10 × 100 (10 %) + 10 × 1,000 = 11,000. Baseline (stable): 10 × 900 + 10 × 0 = 9,000.
    const observations = result.outcome.observations!;
    expect(observations.find((o) => o.arm === 'canary')).toMatchObject({ totalEvents: 11_000, badEvents: 0, burnRate: 0, threshold: 14.4 });
    expect(observations.find((o) => o.arm === 'baseline')).toMatchObject({ totalEvents: 9_000, badEvents: 0 });
    expect(result.outcome.reasons.join('\n')).toMatch(/judged minutes 0 to 19/);
  });

  it('lays out the phases: before, canary 10 %, bake, the wait for the last data, after', () => {
    expect(result.phases).toEqual([
      { name: 'before', fromMinute: -400, toMinute: 0, canaryShare: 0 },
      { name: 'canary', fromMinute: 0, toMinute: 10, canaryShare: 0.1 },
      { name: 'bake', fromMinute: 10, toMinute: 20, canaryShare: 1 },
      { name: 'all-traffic', fromMinute: 20, toMinute: 23, canaryShare: 1 },
      { name: 'after', fromMinute: 23, toMinute: 42, canaryShare: 1 },
    ]);
  });

  it('fills the chart: requests per version and every window alarm\'s burn rate and threshold', () => {
    expect(result.thresholds).toMatchObject({ [IDS.rollback]: 14.4, [IDS.page1hLong]: 14.4, [IDS.page1hShort]: 14.4, 'Svc/Availability/page-6h/long': 6 });
    expect(Object.keys(result.thresholds)).toHaveLength(9); // 8 paging windows + 1 rollback alarm
    // From the first series minute to one minute after the last one is visible (40 + 0 + 1).
    expect(result.minutes[0].minute).toBe(-400);
    expect(result.minutes.at(-1)!.minute).toBe(41);
    const m5 = result.minutes.find((m) => m.minute === 5)!;
    expect(m5).toMatchObject({ blendedRequests: 1_000, stableRequests: 900, canaryRequests: 100 });
    expect(Object.keys(m5.burnRates).sort()).toEqual(Object.keys(result.thresholds).sort());
    // Before the release the new version has no entry: its alarm has no datapoint.
    expect(result.minutes.find((m) => m.minute === 0)!.burnRates[IDS.rollback]).toBeNull();
    expect(m5.burnRates[IDS.rollback]).toBe(0);
    // Minute 41 has no entry of its own.
    expect(result.minutes.at(-1)!.blendedRequests).toBeUndefined();
    // baselineFactor: the trigger's factor (2), which the evaluator's page-rate failure now honours.
    expect(result.evaluatorSettings).toEqual({ tickSeconds: 60, metricDelaySeconds: 180, inconclusiveAction: 'fail', compareWithBaseline: true, deadlineMarginSeconds: 300, baselineFactor: 2 });
    expect(result.ingestionDelayMinutes).toBe(0);
  });
});

describe('a total outage of the canary version (10 % for 10 min, per-version data)', () => {
  const outage = canaryRelease({ canaryErrors: (_m, requests) => requests });
  const result = run(outage);

  it('is rolled back by the alarm path after one minute', () => {
    // 14.4× on the 5 min window of the version's own traffic needs 1.44 % errors: CloudWatch
    // evaluates once a minute, so the first evaluation that sees minute 0 (minute 1) fires. Its
    // window (−4 … 0) holds 100 canary requests, all failed (≥ 70 events): 1 ÷ 0.001 = 1,000×. The
    // current version's window (−4 … 0) holds 4 × 1,000 + 900 = 4,900 requests, none failed:
    // 100 % > 2 × 0 %.
    expect(result.outcome).toMatchObject({ path: 'alarm', verdict: 'fail', minute: 1, detectionMinutes: 1, source: IDS.rollback, rollback: true });
    expect(result.outcome.reasons[0]).toMatch(
      /burn rate 1000× over the last 5 min \(100 of 100 events bad, minimum 70\); 100 % bad is more than 2× the current version's 0 % \(0 of 4900 events\) over the same window; threshold 14\.4×$/,
    );
    expect(result.minutes.find((m) => m.minute === 1)!.burnRates[IDS.rollback]).toBe(1_000);
  });

  it('while blended paging needs 9 minutes', () => {
    // Blended: 100 of 1,000 requests fail (10 %). page-1h's 1 h window needs 1.44 %: k failed
    // minutes give 0.1 × k ÷ 60 ≥ 0.0144 from k = 9 (8.64 rounded up): 15×; the 5 min window is at
    // 10 % = 100×. page-6h (360 clean minutes of history) needs 0.1 × k ÷ 360 ≥ 0.006: k = 22.
    expect(path(result, 'paging')).toMatchObject({ verdict: 'fail', minute: 9, detectionMinutes: 9, source: IDS.page, rollback: false });
    expect(path(result, 'paging').reasons.join('\n')).toMatch(/page-1h\/long 15× \(≥ 14\.4×\), .*page-1h\/short 100×/);
  });

  it('the evaluator alone would fail it at AfterAllowTraffic (minute 10) on minutes 0–6', () => {
    // First tick at minute 10: data up to 10 − 3 = 7 (exclusive): 7 × 100 = 700 requests, all failed;
    // the short window (5 min: minutes 2–6) holds 500 of 500.
    expect(path(result, 'evaluator')).toMatchObject({ verdict: 'fail', minute: 10, detectionMinutes: 10, source: 'Availability', rollback: true, status: 'Failed' });
    expect(path(result, 'evaluator').reasons[0]).toMatch(/1000× .*\(700 of 700 events bad\) and 1000× over the short window/);
    expect(result.outcome.reasons.at(-1)).toMatch(/evaluator had not decided yet .* Failed — fail — at minute 10/);
  });

  it('stops the timeline at the rollback: traffic goes back to the old version', () => {
    expect(result.phases).toEqual([
      { name: 'before', fromMinute: -400, toMinute: 0, canaryShare: 0 },
      { name: 'canary', fromMinute: 0, toMinute: 1, canaryShare: 0.1 },
      { name: 'after', fromMinute: 1, toMinute: 42, canaryShare: 0 },
    ]);
  });

  it('needs two minutes when the canary serves fewer than the 70 events the window must hold', () => {
    // 500 requests a minute: 50 on the canary. Minute 1's window holds 50 < 70 events, so the
    // expression is IF(total >= 70, …, 0) = 0; minute 2's holds 100: 1,000×.
    const slow = run(canaryRelease({ canaryErrors: (_m, requests) => requests, perMinute: 500 }));
    expect(slow.minutes.find((m) => m.minute === 1)!.burnRates[IDS.rollback]).toBe(0);
    expect(slow.outcome).toMatchObject({ path: 'alarm', minute: 2, detectionMinutes: 2 });
  });

  it('ingestion delay shifts the alarm path: 2 minutes late data → minute 3', () => {
    // Data for minute 0 is visible from minute 0 + 2 + 1 = 3; blended paging shifts to 9 + 2 = 11.
    const late = run(outage, { ingestionDelayMinutes: 2 });
    expect(late.outcome).toMatchObject({ path: 'alarm', minute: 3, detectionMinutes: 3 });
    expect(late.outcome.reasons[0]).toMatch(/data visible through minute 0 \(ingestion delay 2 min\)/);
    expect(path(late, 'paging').minute).toBe(11);
    // The evaluator has its own metric delay; the alarm path's ingestion delay does not move it.
    expect(path(late, 'evaluator').minute).toBe(10);
    expect(late.ingestionDelayMinutes).toBe(2);
  });

  it('falls to the evaluator when the alarm path is suspended', () => {
    const suspended = lambdaService({ suspendAlarmPath: true });
    const result2 = run(outage, {}, suspended.policy);
    expect(path(result2, 'alarm')).toMatchObject({ verdict: 'none', rollback: false });
    expect(path(result2, 'alarm').reasons[0]).toMatch(/suspended/);
    expect(path(result2, 'alarm').reasons[1]).toMatch(/would have rolled back: alarm .* at minute 1/);
    expect(result2.outcome).toMatchObject({ path: 'evaluator', verdict: 'fail', minute: 10 });
  });

  it('shadow mode: neither path rolls back; both say they would have, at the minutes enforcing would', () => {
    const shadow = run(outage, {}, lambdaService({ mode: TriggerMode.SHADOW }).policy);
    const enforcing = run(outage);
    expect(path(shadow, 'alarm')).toMatchObject({ verdict: 'none', rollback: false, wouldRollback: true, minute: path(enforcing, 'alarm').minute });
    expect(path(shadow, 'alarm').reasons[0]).toMatch(/shadow mode: the alarms are not attached/);
    expect(path(shadow, 'alarm').reasons[1]).toMatch(/would have rolled back: alarm/);
    expect(path(shadow, 'evaluator')).toMatchObject({ verdict: 'fail', status: 'Succeeded', rollback: false, wouldRollback: true, minute: path(enforcing, 'evaluator').minute });
    expect(path(shadow, 'evaluator').reasons[0]).toMatch(/^shadow mode: the trigger would have reported Failed/);
    expect(shadow.outcome.rollback ?? false).toBe(false);
  });
});

describe('a version 10× worse than the baseline but under the page rate', () => {
  // 10,000 requests a minute. Baseline: 0.1 % errors (9 of 9,000 during the canary); new version:
  // 1 % (10 of 1,000, then 100 of 10,000). The new version burns 1 % ÷ 0.1 % = 10×, under 14.4×.
  const series = canaryRelease({
    perMinute: 10_000,
    canaryErrors: (_m, requests) => requests / 100,
    stableErrors: (_m, requests) => requests / 1_000,
  });

  it('is failed by the evaluator\'s baseline comparison at its first tick', () => {
    // Minute 10, minutes 0–6: canary 70 of 7,000 (1 %) vs baseline 63 of 63,000 (0.1 %). The
    // tolerance is max(0.1 % × 1.2, 0.1 % + 0.1 pt) = 0.2 %; 1 % is beyond it, and Fisher's
    // one-sided p for 70/7,000 vs 63/63,000 is far below 0.01.
    const result = run(series);
    expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'fail', minute: 10, detectionMinutes: 10, source: 'Availability', rollback: true });
    expect(result.outcome.reasons[0]).toMatch(/worse than the current one on the same minutes/);
    const canary = result.outcome.observations!.find((o) => o.arm === 'canary')!;
    expect(canary).toMatchObject({ totalEvents: 7_000, badEvents: 70 });
    expect(canary.burnRate).toBeCloseTo(10, 9);
    expect(result.outcome.observations!.find((o) => o.arm === 'baseline')).toMatchObject({ totalEvents: 63_000, badEvents: 63 });
  });

  it('no alarm fires: the rollback alarm peaks at 10×, and blended traffic does not page', () => {
    const result = run(series);
    expect(path(result, 'alarm')).toMatchObject({ verdict: 'none' });
    expect(path(result, 'alarm').reasons[0]).toMatch(/stayed below 14\.4× .* peak 10×/);
    expect(path(result, 'paging').verdict).toBe('none');
  });

  it('passes without the baseline comparison (the budget check alone cannot see it)', () => {
    const result = run(series, { evaluator: { compareWithBaseline: false } });
    expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass', minute: 23, rollback: false });
  });
});

describe('a series without per-version entries', () => {
  const outage = blendedOnly(canaryRelease({ canaryErrors: (_m, requests) => requests }));
  const result = run(outage);

  it('leaves the evaluator inconclusive, which rolls back under the fail-closed policy, and says why', () => {
    expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'inconclusive', minute: 23, rollback: true, status: 'Failed', source: 'Availability' });
    const reasons = result.outcome.reasons.join('\n');
    expect(reasons).toMatch(/without enough data \(inconclusive → Failed\)/);
    expect(reasons).toMatch(/Availability: no datapoints for the new version/);
    expect(reasons).toMatch(/no per-version entries .* blended entries are not split into versions/);
    expect(result.outcome.observations!.find((o) => o.arm === 'canary')).toMatchObject({ totalEvents: 0 });
  });

  it('gives the alarm path nothing to fire on, while blended paging still pages at minute 9', () => {
    expect(path(result, 'alarm')).toMatchObject({ verdict: 'none', rollback: false });
    expect(path(result, 'alarm').reasons.join('\n')).toMatch(/no per-version entries .* no datapoints \(TreatMissingData notBreaching → OK\)/);
    expect(path(result, 'paging').minute).toBe(9);
    expect(result.minutes.every((m) => m.canaryRequests === undefined && m.burnRates[IDS.rollback] === null)).toBe(true);
  });

  it('passes as inconclusive under a fail-open policy', () => {
    const open = run(outage, { evaluator: { inconclusiveAction: 'pass' } });
    expect(open.outcome).toMatchObject({ verdict: 'inconclusive', rollback: false, status: 'Succeeded' });
  });
});

describe('low traffic: 10 requests an hour, one of them failed', () => {
  // One request every 6 minutes, all on the new version from the release (all at once, 10 min
  // bake); the request of minute 6 fails. The 1 h window at minute 7 holds 10 requests, 1 failed:
  // 10 % would be a 100× burn, but 10 < 70 events, so the expression is 0.
  const series = buildSeries(-120, 60, (m) => {
    const requests = m % 6 === 0 ? 1 : 0;
    const errors = m === 6 ? 1 : 0;
    return m < 0 ? { stable: { requests, errors: 0 } } : { stable: { requests: 0, errors: 0 }, canary: { requests, errors } };
  });
  const allAtOnce = { kind: 'all-at-once', bakeMinutes: 10 } as const;

  it('does not roll back when inconclusive bakes pass', () => {
    const lenient = lambdaService({ inconclusiveAction: InconclusiveAction.PASS });
    const result = run(series, { deployment: allAtOnce }, lenient.policy);
    expect(result.minutes.find((m) => m.minute === 7)!.burnRates[IDS.rollback]).toBe(0);
    expect(path(result, 'alarm').verdict).toBe('none');
    expect(path(result, 'paging').verdict).toBe('none');
    // All at once: AfterAllowTraffic at the release; the bake ends at 0 + 10 + 3 = 13 with minutes
    // 0–9: 2 requests (minutes 0 and 6) of the 70 needed.
    expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'inconclusive', minute: 13, rollback: false, status: 'Succeeded' });
    expect(result.outcome.reasons.join('\n')).toMatch(/only 2 of the 70 events needed/);
    expect(result.phases.map((p) => p.name)).toEqual(['before', 'bake', 'all-traffic', 'after']);
  });

  it('is inconclusive, never a failure, under the default fail-closed policy', () => {
    const result = run(series, { deployment: allAtOnce });
    expect(result.outcome).toMatchObject({ verdict: 'inconclusive', rollback: true });
    expect(result.paths.some((p) => p.verdict === 'fail')).toBe(false);
  });
});

describe('an incident that started before the release', () => {
  // The current version fails 5 % of its requests from minute −30; the new version is healthy.
  // Blended page-1h: 0.05 × k ÷ 60 ≥ 0.0144 from k = 18 (17.28 rounded up): pages at minute −12.
  const series = canaryRelease({ canaryErrors: () => 0, stableErrors: (m, requests) => (m >= -30 ? requests / 20 : 0) });
  const result = run(series);

  it('does not roll back the healthy new version', () => {
    expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass', minute: 23, rollback: false });
    expect(path(result, 'alarm').verdict).toBe('none');
  });

  it('reports the page, already ringing at the release', () => {
    expect(path(result, 'paging')).toMatchObject({ verdict: 'fail', minute: 0, detectionMinutes: 0, rollback: false });
    expect(path(result, 'paging').reasons.join('\n')).toMatch(/already paging since minute -12, before the release/);
  });
});

describe('windows of the alarm path', () => {
  // All at once, 10 min bake: passes at minute 13. The new version breaks at minute 20.
  const lateBreak = buildSeries(-100, 40, (m) => (m < 0 ? { stable: { requests: 1_000, errors: 0 } } : { canary: { requests: 1_000, errors: m >= 20 ? 1_000 : 0 } }));
  // The same trigger without a baseline (what baselineFactor 0 synthesizes): the burn alone.
  const trigger = service.policy.rollbackTriggers![0];
  const { baseline: _baseline, ...plainAlarm } = trigger.alarms[0];
  const noBaseline: RollbackPolicy = { ...service.policy, rollbackTriggers: [{ ...trigger, alarms: [plainAlarm] }] };

  it('ignores an alarm that fires after the deployment succeeded (CodeDeploy no longer polls)', () => {
    // Without a baseline: minute 21 (window 16 … 20) holds 1,000 of 5,000 failed = 20 % → 200×,
    // in ALARM at 21, after the deployment.
    const result = run(lateBreak, { deployment: { kind: 'all-at-once', bakeMinutes: 10 } }, noBaseline);
    expect(result.minutes.find((m) => m.minute === 21)!.burnRates[IDS.rollback]).toBe(200);
    expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass', minute: 13 });
    expect(path(result, 'alarm').verdict).toBe('none');
    expect(path(result, 'alarm').reasons.join('\n')).toMatch(/went into ALARM at minute 21, after the deployment ended/);
    // All at once, no current-version entries after the release is the deployment's shape: no note about a missing baseline.
    expect(result.outcome.reasons.join('\n')).not.toMatch(/no entries for the current version \(stable\) after the release/);
  });

  it('with the default baseline the same late break holds: the current version served nothing in the window', () => {
    // Minute 21 (window 16 … 20): the new version's own 200×, but the current version has 0 events
    // (< 70), so the alarm holds at 0; it never goes into ALARM, before or after the deployment.
    const result = run(lateBreak, { deployment: { kind: 'all-at-once', bakeMinutes: 10 } });
    expect(result.minutes.find((m) => m.minute === 21)!.burnRates[IDS.rollback]).toBe(0);
    expect(result.minutes.filter((m) => m.minute >= 1 && m.minute <= 40).every((m) => m.burnRates[IDS.rollback] === 0)).toBe(true);
    expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass', minute: 13 });
    expect(path(result, 'alarm').verdict).toBe('none');
    expect(path(result, 'alarm').reasons.join('\n')).not.toMatch(/went into ALARM/);
  });

  it('judges a latency SLO on slow requests', () => {
    // 99 % latency SLO: budget 1 %, page-1h threshold 14.4 × 1 % = 14.4 %, minimum events
    // ⌊1 ÷ 0.144⌋ + 1 = 7. A canary whose 100 requests a minute are all slow: 100× at minute 1.
    const svc = lambdaService({ latency: true });
    const series = buildSeries(-400, 40, (m) => {
      if (m < 0) return { stable: { requests: 1_000, errors: 0, slow: 0 } };
      const canary = m < 10 ? 100 : 1_000;
      return { stable: { requests: 1_000 - canary, errors: 0, slow: 0 }, canary: { requests: canary, errors: 0, slow: canary } };
    });
    const result = run(series, {}, svc.policy);
    expect(svc.policy.rollbackTriggers![0].alarms.find((a) => a.slo === 'Latency')!.minEvents).toBe(7);
    expect(result.outcome).toMatchObject({ path: 'alarm', minute: 1, source: IDS.latencyRollback });
    expect(result.outcome.reasons[0]).toMatch(/burn rate 100× .*\(100 of 100 events bad, minimum 7\)/);
    // The availability alarm saw no errors.
    expect(result.minutes.find((m) => m.minute === 1)!.burnRates[IDS.rollback]).toBe(0);
  });

  it('replays a policy without a rollback trigger: no alarm path, the evaluator on every page tier', () => {
    const sloOnly: RollbackPolicy = { ...service.policy, rollbackTriggers: [] };
    const result = run(canaryRelease({ canaryErrors: () => 0 }), {}, sloOnly);
    expect(path(result, 'alarm').reasons[0]).toMatch(/no rollback trigger/);
    expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass', minute: 23 });
    expect(Object.keys(result.thresholds)).toHaveLength(8);
  });

  it('takes the bake from the deployment shape and says when it differs from the policy', () => {
    const result = run(canaryRelease({ canaryErrors: () => 0, until: 60 }), { deployment: { ...CANARY_10_FOR_10, bakeMinutes: 20 } });
    expect(result.outcome.minute).toBe(33); // 10 + 20 + 3
    expect(result.outcome.reasons.join('\n')).toMatch(/bakes 20 min as given; the policy's rollback trigger Rollback is configured for 10 min/);
  });

  it('notes when the evaluator read past the end of the series', () => {
    const result = run(canaryRelease({ canaryErrors: () => 0, until: 15 }));
    expect(result.outcome.reasons.join('\n')).toMatch(/the series ends at minute 15, before the last minute the evaluator read \(19\)/);
    expect(result.minutes.at(-1)!.minute).toBe(23);
  });
});

describe('policies with more than the simulator replays', () => {
  it('says which of several rollback triggers it deploys, and that threshold triggers are not replayed', () => {
    const trigger = service.policy.rollbackTriggers![0];
    const twoTriggers: RollbackPolicy = {
      ...service.policy,
      rollbackTriggers: [trigger, { ...trigger, name: 'Other', path: 'Svc/Other' }],
      thresholdTriggers: [
        {
          kind: 'threshold',
          name: 'Queue',
          path: 'Svc/Queue',
          comparison: 'GreaterThanThreshold',
          threshold: 100,
          periodSeconds: 60,
          evaluationPeriods: 1,
          datapointsToAlarm: 1,
          treatMissingData: 'notBreaching',
          metricCount: 1,
          highResolution: false,
          severity: 'page',
        },
      ],
    };
    const result = run(canaryRelease({ canaryErrors: () => 0 }), {}, twoTriggers);
    expect(path(result, 'alarm').reasons.at(-1)).toMatch(/the policy has 2 rollback triggers; this replay deploys the first, Rollback \(Svc\/Rollback\)/);
    expect(path(result, 'paging').reasons.at(-1)).toMatch(/1 threshold trigger\(s\) of the policy were not replayed/);
    const other = run(canaryRelease({ canaryErrors: (_m, r) => r }), { rollbackTrigger: 'Svc/Other' }, twoTriggers);
    expect(other.outcome).toMatchObject({ path: 'alarm', minute: 1, source: 'Svc/Other/Availability/version/page-1h' });
  });
});

describe('the rollback alarm compares the new version with the current one (baseline factor 2)', () => {
  it('is what a RollbackTrigger synthesizes by default', () => {
    // fixtures.ts deploys with CodeDeployDefault.LambdaCanary10Percent10Minutes: the alarm weighs the new version at 10 %.
    expect(service.policy.rollbackTriggers![0].alarms).toEqual([
      expect.objectContaining({ scope: 'version', baseline: { mode: 'rest-of-blended', factor: 2, shift: { kind: 'canary', share: 0.1 } } }),
    ]);
  });

  describe('a pre-existing incident: both versions fail 5 % from minute −120', () => {
    // Canary 5 of 100 a minute (then 50 of 1,000), the current version 45 of 900 (50 of 1,000
    // before the release). Minute 1 (window −4 … 0): the new version 5 of 100 = 5 % → 50×, above
    // 14.4×; the current version 4 × 50 + 45 = 245 of 4 × 1,000 + 900 = 4,900 = 5 %. 5 % is not
    // more than 2 × 5 %: the alarm holds through the canary (both stay at 5 %).
    const result = run(canaryRelease({ canaryErrors: (_m, r) => r / 20, stableErrors: (m, r) => (m >= -120 ? r / 20 : 0) }));

    it('the alarm path holds through the canary and says the burn was shared', () => {
      // Minutes 1–14: every window still holds a stable minute of the canary (minute 9 is the last,
      // 900 requests ≥ 70 events), so the shared 5 % holds the alarm.
      expect(result.minutes.filter((m) => m.minute >= 1 && m.minute <= 14).every((m) => m.burnRates[IDS.rollback] === 0)).toBe(true);
      expect(result.minutes.find((m) => m.minute === 1)!.burnRates[IDS.rollback]).toBe(0);
    });

    it('and once all traffic has shifted (the current version\'s 5-minute window empty) it still holds: the evaluator decides, passes at minute 23 and escalates the pre-existing incident', () => {
      // From minute 10 the alias serves only the new version: the rest of the blended traffic is 0.
      // Minute 15 (window 10 … 14): the new version 5 × 50 = 250 of 5,000 = 5 % → 50× on its own;
      // the current version 0 events (< 70), so the alarm holds at 0 (it used to fire here on the
      // burn alone and roll the healthy release back). The evaluator compares over the whole shift:
      // new 10 × 5 + 10 × 50 = 550 of 10 × 100 + 10 × 1,000 = 11,000 = 5 % (50×), current
      // 10 × 45 = 450 of 9,000 = 5 % (50×): shared, it passes.
      expect(result.minutes.find((m) => m.minute === 14)!.burnRates[IDS.rollback]).toBe(0);
      expect(result.minutes.find((m) => m.minute === 15)!.burnRates[IDS.rollback]).toBe(0);
      expect(result.minutes.filter((m) => m.minute >= 1 && m.minute <= 30).every((m) => m.burnRates[IDS.rollback] === 0)).toBe(true);
      expect(path(result, 'alarm')).toMatchObject({ verdict: 'none', rollback: false });
      expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass', minute: 23, rollback: false });
      // The solo minutes 10–19 are compared with the current version's last minutes of service
      // (minutes 5–9: 225 of 4,500 = 5 %): every suffix of its last 5 minutes fails 5 %, ties go to the longer.
      expect(path(result, 'evaluator').observations).toMatchObject([
        { slo: 'Availability', arm: 'canary', totalEvents: 11_000, badEvents: 550, burnRate: 50 },
        { slo: 'Availability', arm: 'baseline', totalEvents: 9_000, badEvents: 450, burnRate: 50 },
        { slo: 'Availability', arm: 'reference', windowSeconds: 300, totalEvents: 4_500, badEvents: 225, burnRate: 50 },
      ]);
      // The service paged before the release (50× over the hour and the 5 minutes before it): named, escalated, not rolled back.
      expect(result.outcome).toMatchObject({ escalate: true, incidents: [{ kind: 'pre-existing', slo: 'Availability' }] });
      expect(result.outcome.reasons.join('\n')).toMatch(/pre-existing incident — the service was already burning its budget at the page rate before the release \(the current version 50× over the hour before it, 50× over its last 5 min/);
      expect(result.outcome.reasons.join('\n')).toMatch(/not 2× worse than the current version's last minutes of service \(5 min\): 5 % \(225 of 4500 events\), or not significantly: what the service was already doing/);
    });
  });

  describe('a 90-second blip every request of both versions fails (one minute at 100 %, the next at 50 %)', () => {
    const blip = (start: number) => (m: number, r: number) => (m === start ? r : m === start + 1 ? r / 2 : 0);

    it('a shared blip early in the canary (minutes 2–3) now holds: both 5-minute windows cover nearly the same minutes (it fired at minute 3 with the 1 h window)', () => {
      // Minute 3 (window −2 … 2): new 300 requests (minutes 0–2), 100 failed = 33.3 % → 333×;
      // current 2 × 1,000 + 3 × 900 = 4,700 requests, 900 failed = 19.1 % (× 2 = 38.3 %): holds.
      // Minute 4 (window −1 … 3): new 150 of 400 = 37.5 % → 375×; current 900 + 450 = 1,350 of
      // 1,000 + 4 × 900 = 4,600 = 29.3 % (× 2 = 58.7 %): holds. From minute 5 both windows hold the
      // same five minutes at the same error rate. (With the 1 h window minute 3 compared 33.3 % with
      // 900 of 59,700 = 1.51 % and rolled the healthy release back.)
      const result = run(canaryRelease({ canaryErrors: blip(2), stableErrors: blip(2) }));
      const alarm = path(result, 'alarm');
      expect(alarm).toMatchObject({ verdict: 'none', rollback: false });
      expect(alarm.reasons[1]).toBe(
        `${IDS.rollback}: the new version's own burn rate reached 375× (minute 4), but it never failed more than 2× as often as the current version on the same window ` +
          'by three standard deviations while the current version served at least as many events — ' +
          "at minute 3: 33.3 % bad is not more than 2× the current version's 19.1 % (900 of 4700 events) over the same window " +
          '(weighed at its canary share of 10 %: 300 events are part of a window, so 200 bad were expected, not 115); an incident both versions share does not roll back',
      );
      expect(result.minutes.filter((m) => m.minute >= 1 && m.minute <= 23).every((m) => m.burnRates[IDS.rollback] === 0)).toBe(true);
      expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass', minute: 23, rollback: false });
    });

    it('a shared blip in the canary\'s first two minutes now holds too: weighed at its canary share, not more than twice as often (it fired at minute 2 before the significance gate)', () => {
      // Blip at minutes 1–2. Minute 2 (window −3 … 1): new 100 of 200 requests failed = 50 % → 500×;
      // current 900 of 4,800 = 18.8 % (× 2 = 37.5 %). The new version's window holds 2 minutes, its
      // baseline's 5: weighed at the 10 % share it would have served 0.1 × 4,800 ÷ 0.9 = 533 events,
      // so e = 2 × 18.8 % × 533 = 200 expected bad events, more than its 100 (counted as served, e was
      // 75 and only the significance gate held: (100 − 75)² = 625 ≤ 9 × 76 = 684).
      const result = run(canaryRelease({ canaryErrors: blip(1), stableErrors: blip(1) }));
      expect(path(result, 'alarm')).toMatchObject({ verdict: 'none', rollback: false });
      expect(path(result, 'alarm').reasons[1]).toMatch(
        /at minute 2: 50 % bad is not more than 2× the current version's 18\.8 % \(900 of 4800 events\) over the same window \(weighed at its canary share of 10 %: 200 events are part of a window, so 200 bad were expected, not 75\)/,
      );
      expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass', minute: 23, rollback: false });
    });

    it('late in a long canary (minutes 40–41) holds: both windows hold the same five minutes at the same rate', () => {
      // A 10 % canary for 60 minutes (100 new, 900 current a minute), blip at minutes 40–41.
      // Minute 41 (window 36 … 40): new 100 of 500 = 20 % → 200×, above 14.4×; current 900 of
      // 4,500 = 20 %; 20 % is not more than 40 %. Minute 42 (37 … 41): new 150 of 500 = 30 % (300×),
      // current 1,350 of 4,500 = 30 % (× 2 = 60 %).
      const series = buildSeries(-400, 90, (m) => {
        if (m < 0) return { stable: { requests: 1_000, errors: 0 } };
        if (m >= 60) return { canary: { requests: 1_000, errors: 0 } };
        return { stable: { requests: 900, errors: blip(40)(m, 900) }, canary: { requests: 100, errors: blip(40)(m, 100) } };
      });
      const result = run(series, { deployment: { kind: 'canary', percent: 10, intervalMinutes: 60, bakeMinutes: 10 } });
      const alarm = path(result, 'alarm');
      expect(alarm).toMatchObject({ verdict: 'none', rollback: false });
      expect(alarm.reasons[1]).toMatch(
        /reached 300× \(minute 42\), but it never failed more than 2× as often as the current version on the same window by three standard deviations while the current version served at least as many events — at minute 41: 20 % bad is not more than 2× the current version's 20 % \(900 of 4500 events\)/,
      );
    });
  });

  it('holds when the current version has no entries (all at once, blended history only): the evaluator rolls back', () => {
    // Before the release only blended entries; from minute 0 the new version serves everything and
    // fails every request. Minute 1: 1,000 of 1,000 failed → 1,000× on its own; no stable entry in
    // the window (−4 … 0), so the baseline has 0 events (< 70) and the alarm holds at 0. The
    // evaluator (AfterAllowTraffic from minute 0, data visible up to now − 3 min) sees minutes 0–4
    // at minute 8 and rolls back.
    const series = buildSeries(-100, 40, (m) => (m < 0 ? { blended: { requests: 1_000, errors: 0 } } : { canary: { requests: 1_000, errors: 1_000 } }));
    const result = run(series, { deployment: { kind: 'all-at-once', bakeMinutes: 10 } });
    expect(result.minutes.filter((m) => m.minute >= 1 && m.minute <= 13).every((m) => m.burnRates[IDS.rollback] === 0)).toBe(true);
    expect(path(result, 'alarm')).toMatchObject({ verdict: 'none', rollback: false });
    expect(path(result, 'alarm').reasons.join('\n')).toMatch(/the new version's own burn rate reached 1000× \(minute 1\)/);
    // Without current-version entries before the release there is no hour of service to weigh the
    // new version's errors against (the workbook's hour would hold only its own minutes, and a blip
    // would read as the hour's budget): the evaluator waits for a full 5-minute window served alone,
    // each minute capped at 1.5× the page rate — 108 of 5,000 = 21.6× — and nothing to compare with.
    expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'fail', minute: 8, source: 'Availability', rollback: true });
    expect(result.outcome.reasons[0]).toMatch(/burns its error budget at 21\.6× over its last 5 min alone .*1000× as served .*nothing to compare with \(no current-version traffic\)/);
  });

  it('does not invent the current version from blended entries: a minute without a stable entry has none', () => {
    // Same as above, but the history's blended entries fail 5 %. Read as the current version, the
    // window −4 … 0 would hold 4 × 1,000 = 4,000 events at 5 % (≥ 70, 100 % > 2 × 5 %) and the alarm
    // would fire at minute 1; without stable entries the baseline has 0 events, so it holds and
    // the evaluator rolls back at minute 8, as above.
    const series = buildSeries(-100, 40, (m) => (m < 0 ? { blended: { requests: 1_000, errors: 50 } } : { canary: { requests: 1_000, errors: 1_000 } }));
    const result = run(series, { deployment: { kind: 'all-at-once', bakeMinutes: 10 } });
    expect(result.minutes.find((m) => m.minute === 1)!.burnRates[IDS.rollback]).toBe(0);
    expect(path(result, 'alarm')).toMatchObject({ verdict: 'none', rollback: false });
    expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'fail', minute: 8, source: 'Availability' });
  });

  describe('ECS: green compares with blue, blue with green (separate target groups)', () => {
    // The Lambda policy's alarm, recast as the two target-group alarms an ECS trigger synthesizes.
    const trigger = service.policy.rollbackTriggers![0];
    const [alarm] = trigger.alarms;
    const ecs: RollbackPolicy = {
      ...service.policy,
      rollbackTriggers: [
        {
          ...trigger,
          platform: 'ecs',
          alarms: [
            { ...alarm, scope: 'blue', baseline: { mode: 'separate', factor: 2 } },
            { ...alarm, scope: 'green', baseline: { mode: 'separate', factor: 2 } },
          ],
        },
      ],
    };
    const GREEN = 'Svc/Rollback/Availability/green/page-1h';
    const BLUE = 'Svc/Rollback/Availability/blue/page-1h';

    it('when both fail equally both hold: blue is no longer in ALARM before the release (green had no traffic to compare with), and the evaluator passes', () => {
      // Both at 5 % from minute −120. Minute 0: blue's window (−5 … −1) holds 250 of 5,000
      // failed = 5 % → 50× on its own; green has no entry before the release (0 events < 70), so
      // blue holds at 0 (it used to be in ALARM as the deployment started and stop it at once).
      // Green from minute 1: 5 % is not more than 2 × blue's 5 %; from minute 15 (window 10 … 14)
      // blue served nothing (0 events < 70) and green holds too, as on Lambda above. The
      // evaluator compares 550 of 11,000 (5 %) with 450 of 9,000 (5 %) and passes at minute 23.
      const result = run(canaryRelease({ canaryErrors: (_m, r) => r / 20, stableErrors: (m, r) => (m >= -120 ? r / 20 : 0) }), {}, ecs);
      expect(result.minutes.find((m) => m.minute === 0)!.burnRates[BLUE]).toBe(0);
      expect(result.minutes.filter((m) => m.minute >= 0 && m.minute <= 30).every((m) => m.burnRates[BLUE] === 0)).toBe(true);
      expect(result.minutes.filter((m) => m.minute >= 1 && m.minute <= 30).every((m) => m.burnRates[GREEN] === 0)).toBe(true);
      expect(result.minutes.find((m) => m.minute === 15)!.burnRates[GREEN]).toBe(0);
      expect(path(result, 'alarm')).toMatchObject({ verdict: 'none', rollback: false });
      expect(path(result, 'alarm').reasons.join('\n')).not.toMatch(/already in ALARM when the deployment started/);
      expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass', minute: 23, rollback: false });
    });

    it('green fires on a broken new version, compared with blue', () => {
      // Minute 1 (window −4 … 0): green 100 of 100 failed → 1,000×; blue 4 × 1,000 + 900 = 4,900, none failed.
      const result = run(canaryRelease({ canaryErrors: (_m, r) => r }), {}, ecs);
      expect(result.outcome).toMatchObject({ path: 'alarm', minute: 1, source: GREEN });
      expect(result.outcome.reasons[0]).toMatch(
        /burn rate 1000× over the last 5 min \(100 of 100 events bad, minimum 70\); 100 % bad is more than 2× the blue target group \(current version\)'s 0 % \(0 of 4900 events\)/,
      );
      expect(result.minutes.find((m) => m.minute === 1)!.burnRates[BLUE]).toBe(0);
    });

    it('blue reads the canary entries as its baseline, and compares only while green served at least as many events', () => {
      // A 10 % canary: blue (the current task set on this release) fails 100 % from minute 0, green
      // is clean. Minute 1 (window −4 … 0): blue 900 of 4,900 = 18.4 % → 184×, but green served 100
      // events, fewer than blue's 4,900: blue's alarm holds (it fires on the release after, when
      // blue holds the replacement task set and serves the 10 %).
      const tenPercent = run(canaryRelease({ canaryErrors: () => 0, stableErrors: (m, r) => (m >= 0 ? r : 0) }), {}, ecs);
      expect(tenPercent.minutes.filter((m) => m.minute >= 0 && m.minute <= 9).every((m) => m.burnRates[BLUE] === 0)).toBe(true);
      // Blue at 40 % of the traffic, green at 60 % (a later step): from minute 1 (window −4 … 0) blue
      // 400 of 400 failed; green 600 clean — 600 ≥ 400, 100 % > 2 × 0 %: blue fires on green's entries.
      const series = buildSeries(-100, 40, (m) =>
        m < 0 ? { stable: { requests: 1_000, errors: 0 } } : { stable: { requests: 400, errors: 400 }, canary: { requests: 600, errors: 0 } },
      );
      const result = run(series, {}, ecs);
      expect(result.outcome).toMatchObject({ path: 'alarm', source: BLUE });
      expect(result.outcome.reasons[0]).toMatch(/bad is more than 2× the green target group \(new version\)'s 0 %/);
    });
  });

  it.each([
    ['a declared-scope alarm', { scope: 'declared' }, /a declared-scope alarm measures the SLI as given, so the series has no other traffic to compare it with/],
    ['an unknown mode', { baseline: { mode: 'median', factor: 2 } }, /baseline\.mode must be rest-of-blended or separate, got "median"/],
    ['a negative factor', { baseline: { mode: 'rest-of-blended', factor: -1 } }, /baseline\.factor must be a finite number ≥ 0, got -1/],
  ])('RT722 for a baseline it cannot replay: %s', (_what, patch, message) => {
    const trigger = service.policy.rollbackTriggers![0];
    const policy: RollbackPolicy = { ...service.policy, rollbackTriggers: [{ ...trigger, alarms: trigger.alarms.map((a) => ({ ...a, ...patch }) as typeof a) }] };
    expect(expectRtError(() => run(canaryRelease({ canaryErrors: () => 0 }), {}, policy), 'RT722').message).toMatch(message);
  });

  it('without a baseline in the policy, the burn alone counts, as before', () => {
    const trigger = service.policy.rollbackTriggers![0];
    const plain: RollbackPolicy = { ...service.policy, rollbackTriggers: [{ ...trigger, alarms: trigger.alarms.map(({ baseline: _b, ...a }) => a) }] };
    const incident = canaryRelease({ canaryErrors: (_m, r) => r / 20, stableErrors: (m, r) => (m >= -120 ? r / 20 : 0) });
    // Minute 1 (window −4 … 0): the new version 5 of 100 = 5 % → 50× ≥ 14.4×, nothing to compare with.
    const result = run(incident, {}, plain);
    expect(result.outcome).toMatchObject({ path: 'alarm', minute: 1, source: IDS.rollback });
    expect(result.outcome.reasons[0]).toMatch(/burn rate 50× over the last 5 min \(5 of 100 events bad, minimum 70\); threshold 14\.4×$/);
  });
});

describe('a release after the last entry of the series (no datapoint after the release)', () => {
  // History until minute −1, nothing from the release on: the honest export of a pipeline gone dark.
  const series = canaryRelease({ canaryErrors: () => 0 }).filter((e) => e.minute < 0);
  const result = run(series);

  it('is inconclusive, rolled back under the fail-closed policy, and says the series ended before the release', () => {
    expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'inconclusive', minute: 23, rollback: true });
    expect(result.outcome.reasons.join('\n')).toMatch(/the series ends at minute -1, before the release \(minute 0\): no datapoint arrived after the release/);
    expect(result.outcome.reasons.join('\n')).not.toMatch(/before the last minute the evaluator read/);
    expect(path(result, 'alarm')).toMatchObject({ verdict: 'none', rollback: false });
    expect(path(result, 'alarm').reasons.at(-1)).toMatch(/the series ends at minute -1, before the release \(minute 0\): the alarms had no datapoint from the release on/);
  });

  it('replays until the deployment\'s end, with no requests charted after the series', () => {
    expect(result.minutes.at(-1)!.minute).toBe(23);
    expect(result.minutes.filter((m) => m.minute >= 0).every((m) => m.blendedRequests === undefined && m.burnRates[IDS.rollback] === null)).toBe(true);
    expect(result.phases.map((p) => p.name)).toEqual(['before', 'canary', 'bake', 'all-traffic', 'after']);
  });
});
