import { describe, expect, it } from 'vitest';
import { InconclusiveAction } from '../../../lib';
import type { RollbackPolicy } from '../../../lib/core';
import { PathOutcome, SimulationInput, SimulationResult, simulate } from '../../../lib/core/simulator';
import { CANARY_10_FOR_10, IDS, blendedOnly, buildSeries, canaryRelease, lambdaService } from './fixtures';

// Every policy below is synthesized from real constructs: a Lambda alias with a 99.9 %
// availability SLO (workbook tiers: page-1h is 14.4× over 1 h / 5 min with at least 70 events per
// window, page-6h 6× over 6 h / 30 min) and a RollbackTrigger (bake 10 min, inconclusive → fail).
// Its one rollback alarm is page-1h's long window on the new version's own traffic: 14.4× over
// 1 h, at least 70 events, 1 of 1, notBreaching.
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
    expect(result.evaluatorSettings).toEqual({ tickSeconds: 60, metricDelaySeconds: 180, inconclusiveAction: 'fail', compareWithBaseline: true, deadlineMarginSeconds: 300 });
    expect(result.ingestionDelayMinutes).toBe(0);
  });
});

describe('a total outage of the canary version (10 % for 10 min, per-version data)', () => {
  const outage = canaryRelease({ canaryErrors: (_m, requests) => requests });
  const result = run(outage);

  it('is rolled back by the alarm path after one minute', () => {
    // 14.4× on a 1 h window of the version's own traffic at 100 % errors needs 14.4 × 0.1 % × 3,600 s
    // = 51.8 s of failures: CloudWatch evaluates once a minute, so the first evaluation that sees
    // minute 0 (minute 1) fires. Its window holds 100 canary requests, all failed (≥ 70 events):
    // 1 ÷ 0.001 = 1,000×.
    expect(result.outcome).toMatchObject({ path: 'alarm', verdict: 'fail', minute: 1, detectionMinutes: 1, source: IDS.rollback, rollback: true });
    expect(result.outcome.reasons[0]).toMatch(/burn rate 1000× over the last 60 min \(100 of 100 events bad, minimum 70\); threshold 14\.4×/);
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
  it('ignores an alarm that fires after the deployment succeeded (CodeDeploy no longer polls)', () => {
    // All at once, 10 min bake: passes at minute 13. The new version breaks at minute 20: its
    // alarm is in ALARM at 21, after the deployment.
    const series = buildSeries(-100, 40, (m) => (m < 0 ? { stable: { requests: 1_000, errors: 0 } } : { canary: { requests: 1_000, errors: m >= 20 ? 1_000 : 0 } }));
    const result = run(series, { deployment: { kind: 'all-at-once', bakeMinutes: 10 } });
    expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass', minute: 13 });
    expect(path(result, 'alarm').verdict).toBe('none');
    expect(path(result, 'alarm').reasons.join('\n')).toMatch(/went into ALARM at minute 21, after the deployment ended/);
    expect(result.outcome.reasons.join('\n')).toMatch(/no entries for the current version \(stable\) after the release/);
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
