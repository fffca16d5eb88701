import { describe, expect, it } from 'vitest';
import { shiftPlan, simulate } from '../../../lib/core/simulator';
import { canaryRelease, lambdaService } from './fixtures';

describe('the deployment shape', () => {
  it('all at once: all traffic at the release', () => {
    expect(shiftPlan({ kind: 'all-at-once', bakeMinutes: 5 }, 7)).toEqual({ steps: [], allTrafficMinute: 7 });
  });

  it('canary: percent for intervalMinutes, then all traffic (Canary10Percent5Minutes)', () => {
    expect(shiftPlan({ kind: 'canary', percent: 10, intervalMinutes: 5, bakeMinutes: 5 }, 0)).toEqual({
      steps: [{ name: 'canary', fromMinute: 0, toMinute: 5, canaryShare: 0.1 }],
      allTrafficMinute: 5,
    });
  });

  it('linear: percent more every interval, 100 % after ⌈100 ÷ percent⌉ − 1 intervals (Linear10PercentEvery1Minute)', () => {
    const plan = shiftPlan({ kind: 'linear', percent: 10, intervalMinutes: 1, bakeMinutes: 0 }, 0);
    expect(plan.allTrafficMinute).toBe(9);
    expect(plan.steps.map((s) => [s.fromMinute, s.toMinute, s.canaryShare])).toEqual([
      [0, 1, 0.1],
      [1, 2, 0.2],
      [2, 3, 0.3],
      [3, 4, 0.4],
      [4, 5, 0.5],
      [5, 6, 0.6],
      [6, 7, 0.7],
      [7, 8, 0.8],
      [8, 9, 0.9],
    ]);
  });

  it('linear steps that do not divide 100: the last one caps at 100 %', () => {
    // 30 %, 60 %, 90 %, then 100 % after 3 intervals of 10 minutes.
    expect(shiftPlan({ kind: 'linear', percent: 30, intervalMinutes: 10, bakeMinutes: 0 }, 0)).toMatchObject({ allTrafficMinute: 30 });
    // 100 ÷ 33.3333333 is 3.000000003: read as a third, three increments, not four.
    expect(shiftPlan({ kind: 'linear', percent: 33.3333333, intervalMinutes: 1, bakeMinutes: 0 }, 0).allTrafficMinute).toBe(2);
  });

  it('a linear release is baked from the minute all traffic shifted', () => {
    const service = lambdaService();
    const series = canaryRelease({ canaryErrors: () => 0, until: 60 });
    const result = simulate({ policy: service.policy, series, releaseMinute: 0, deployment: { kind: 'linear', percent: 25, intervalMinutes: 5, bakeMinutes: 10 } });
    // 25 % at 0, 50 % at 5, 75 % at 10, 100 % at 15; bake 15–25; report at 15 + 10 + 3 = 28.
    expect(result.phases.map((p) => [p.name, p.fromMinute, p.toMinute, p.canaryShare])).toEqual([
      ['before', -400, 0, 0],
      ['linear-step', 0, 5, 0.25],
      ['linear-step', 5, 10, 0.5],
      ['linear-step', 10, 15, 0.75],
      ['bake', 15, 25, 1],
      ['all-traffic', 25, 28, 1],
      ['after', 28, 62, 1],
    ]);
    expect(result.outcome).toMatchObject({ verdict: 'pass', minute: 28, detectionMinutes: 28 });
  });

  it('a hook near CodeDeploy\'s one-hour limit decides with what it has', () => {
    // A 58-minute bake cannot finish: the evaluator reports at 3,600 − 300 s = minute 55 of the hook.
    const service = lambdaService();
    const series = canaryRelease({ canaryErrors: () => 0, until: 90 });
    const result = simulate({ policy: service.policy, series, releaseMinute: 0, deployment: { kind: 'all-at-once', bakeMinutes: 58 } });
    expect(result.outcome).toMatchObject({ verdict: 'pass', minute: 55 });
    expect(result.outcome.reasons[0]).toMatch(/one-hour hook limit is 300 s away/);
    expect(result.phases.find((p) => p.name === 'bake')).toMatchObject({ fromMinute: 0, toMinute: 55 });
  });

  it('ticks that are not whole minutes decide between minutes', () => {
    const service = lambdaService();
    const series = canaryRelease({ canaryErrors: () => 0, until: 60 });
    // Tick 90 s, delay 180 s, bake 10 min from minute 10 (600 s): ticks at now = 600 + 90 k; the bake
    // is over once floor((now − 180) ÷ 60) × 60 − 600 ≥ 600, i.e. now ≥ 1,380 s: k = 9 (8.67 rounded
    // up), now = 1,410 s = minute 23.5.
    const result = simulate({ policy: service.policy, series, releaseMinute: 0, deployment: { kind: 'canary', percent: 10, intervalMinutes: 10, bakeMinutes: 10 }, evaluator: { tickSeconds: 90 } });
    expect(result.outcome).toMatchObject({ verdict: 'pass', minute: 23.5, detectionMinutes: 23.5 });
    expect(result.phases.at(-1)).toMatchObject({ name: 'after', fromMinute: 23.5 });
  });
});
