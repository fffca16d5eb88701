import { describe, expect, it } from 'vitest';
import { HealthCheck } from '../../../lib';
import { type RollbackPolicy, syntheticsFailure } from '../../../lib/core';
import { type PathOutcome, type SeriesEntry, type SimulationResult, simulate } from '../../../lib/core/simulator';
import { expectRtError } from '../helpers';
import { CANARY_10_FOR_10, IDS, canaryRelease, lambdaService } from './fixtures';

// Issue 8 item 5: "the simulator replays all of it, with the same core functions as the evaluator".
// The step Lambda runs the rollback trigger's health checks on every bake tick; a Synthetics check
// is judged by core's `syntheticsFailure` on the canary's SuccessPercent: its runs since the hook
// started (AfterAllowTraffic) against its runs in the hour before the release, up to the tick's
// end. The replay reads the runs from the series' `synthetics` values and passes the failures to
// `decideBake` as the Lambda does; an HTTP probe cannot be replayed from metrics and is noted.
//
// The service (fixtures.ts): a real Lambda alias with a 99.9 % availability SLO and a
// RollbackTrigger (bake 10 min) carrying the health checks. The release: a 10 % canary for 10
// minutes from minute 0 (400 minutes of clean history before), all traffic on the new version from
// minute 10 — the hook's start — until minute 40; no request fails. The canary runs once a minute
// from minute −60 (an hour before the release). The evaluator ticks every minute from minute 10 and
// sees data up to now − 3 min.

const journey = HealthCheck.synthetics({ name: 'journey', canaryName: 'journey' });
const withJourney = lambdaService({ healthChecks: [journey] });
const withProbe = lambdaService({ healthChecks: [HealthCheck.http({ name: 'home', url: 'https://example.test/health' }), journey] });

/** The clean release with the journey's SuccessPercent of each minute from minute −60 (`undefined`: no run that minute). */
function release(successPercent: (minute: number) => number | undefined, canary = 'journey'): SeriesEntry[] {
  return canaryRelease({ canaryErrors: () => 0 }).map((e) => {
    const value = e.minute >= -60 ? successPercent(e.minute) : undefined;
    return value === undefined ? e : { ...e, synthetics: { [canary]: value } };
  });
}

/** The journey's runs as the step Lambda's query returns them: minute start in seconds → SuccessPercent. */
const runsOf = (series: readonly SeriesEntry[]) => new Map(series.flatMap((e) => (e.synthetics?.journey !== undefined ? [[e.minute * 60, e.synthetics.journey] as [number, number]] : [])));

const run = (series: readonly SeriesEntry[], policy: RollbackPolicy = withJourney.policy): SimulationResult =>
  simulate({ policy, series, releaseMinute: 0, deployment: CANARY_10_FOR_10 });
const path = (result: SimulationResult, name: PathOutcome['path']) => result.paths.find((p) => p.path === name)!;

describe('the policy carries the trigger\'s health checks', () => {
  it('renders them from the evaluator configuration (one source), without the probe timeout', () => {
    expect(withJourney.policy.rollbackTriggers![0].healthChecks).toEqual([{ kind: 'synthetics', name: 'journey', canaryName: 'journey', minSuccessPercent: 100 }]);
    expect(withProbe.policy.rollbackTriggers![0].healthChecks).toEqual([
      { kind: 'http', name: 'home', url: 'https://example.test/health', failAfter: 3 },
      { kind: 'synthetics', name: 'journey', canaryName: 'journey', minSuccessPercent: 100 },
    ]);
    // A trigger without health checks renders none (as older policies).
    expect(lambdaService().policy.rollbackTriggers![0]).not.toHaveProperty('healthChecks');
  });
});

describe('a Synthetics health check is replayed as the evaluator judges it', () => {
  it('rolls back when the journey fails from minute 2 after the full shift, after an hour of clean runs', () => {
    const series = release((m) => (m >= 12 ? 0 : 100));
    const result = run(series);
    // Runs since the hook started (minute 10): at minute 16 the evaluator sees minutes 10–12 (1 of
    // 3 failed), at 17 minutes 10–13 (2 of 4), at 18 minutes 10–14: 3 of 5 failed, the last three
    // in a row, against none of the hour's 60 runs: Failed.
    expect(result.outcome).toMatchObject({ path: 'evaluator', minute: 18, verdict: 'fail', rollback: true, status: 'Failed', source: 'health check journey' });
    expect(result.outcome.reasons[0]).toMatch(
      /^health check journey: Synthetics canary journey had 0 % of its runs succeed at minute 12, below 100 % \(3 of its 5 runs since traffic shifted below 100 %\); /,
    );
    expect(result.outcome.reasons).toContain(
      'health check journey: Synthetics canary journey replayed from the series — 5 runs since traffic shifted (minutes 10 to 14), 3 below 100 %; 60 in the hour before the release, 0 below',
    );
    // The SLOs are clean: neither the alarm path nor paging acts.
    expect(path(result, 'alarm')).toMatchObject({ verdict: 'none', rollback: false });
    expect(path(result, 'paging')).toMatchObject({ verdict: 'none', rollback: false });
    expect(result.minutes.filter((m) => m.minute >= 0).every((m) => (m.burnRates[IDS.rollback] ?? 0) === 0)).toBe(true);

    // Core's syntheticsFailure on the Lambda's window at that tick — release minute 0, hook start
    // minute 10, data up to minute 15 (exclusive; 18 − 3 min) — says the same, the time aside; a
    // tick earlier it did not fail.
    const runs = runsOf(series);
    const direct = syntheticsFailure(journey._config, runs, { releaseAt: 0, from: 600, to: 900 });
    expect(direct).toBe(result.outcome.reasons[0].replace('at minute 12', `at ${new Date(720_000).toISOString()}`));
    expect(syntheticsFailure(journey._config, runs, { releaseAt: 0, from: 600, to: 840 })).toBeUndefined();
  });

  it("rolls back on Fisher's exact test when failed runs since the shift are significantly more frequent than before the release", () => {
    // Every other run fails from minute 12 (never three in a row): at minute 20 the evaluator sees
    // minutes 10–16, 3 of 7 failed against 0 of the hour's 60 runs: Fisher's one-sided p =
    // C(7,3)/C(67,3) = 35/47905 ≈ 0.000731 ≤ 0.001. A tick earlier (minutes 10–15) 2 of 6:
    // p = 15/2145 ≈ 0.007, not yet.
    const series = release((m) => (m >= 12 && m % 2 === 0 ? 0 : 100));
    const result = run(series);
    expect(result.outcome).toMatchObject({ path: 'evaluator', minute: 20, verdict: 'fail', rollback: true, status: 'Failed', source: 'health check journey' });
    const reason = result.outcome.reasons[0];
    expect(reason).toMatch(/^health check journey: Synthetics canary journey had 0 % of its runs succeed at minute 12, below 100 % \(3 of its 7 runs since traffic shifted below 100 %\); /);
    expect(reason).toMatch(/0 of its 60 runs in the hour before the release were: .*canary 42\.9 % \(3\/7\) vs baseline 0 % \(0\/60\).*Fisher one-sided p = 0\.000731/);
    expect(reason).toBe(syntheticsFailure(journey._config, runsOf(series), { releaseAt: 0, from: 600, to: 1020 })!.replace(new Date(720_000).toISOString(), 'minute 12'));
  });

  it('passes one flaky run', () => {
    const result = run(release((m) => (m === 12 ? 0 : 100)));
    expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass', rollback: false, status: 'Succeeded' });
    expect(result.outcome.reasons.some((r) => r.startsWith('health check journey: Synthetics canary journey replayed from the series') && / 1 below 100 %; 60 in the hour before the release, 0 below$/.test(r))).toBe(true);
  });

  it('passes a journey that failed as often in the hour before the release', () => {
    // Every third run fails, before the release and after it: what the service was already doing.
    const result = run(release((m) => (((m % 3) + 3) % 3 === 0 ? 50 : 100)));
    expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass', rollback: false, status: 'Succeeded' });
    expect(result.outcome.reasons.find((r) => r.includes('replayed from the series'))).toMatch(/; 60 in the hour before the release, 20 below$/);
  });

  it('does not judge runs before the hook started (the canary step), as the Lambda does not', () => {
    const result = run(release((m) => (m >= 0 && m < 10 ? 0 : 100)));
    expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass', rollback: false });
  });

  it('fails on any failed run when the canary ran fewer than 10 times in the hour before the release', () => {
    const result = run(release((m) => (m < -5 ? undefined : m === 12 ? 0 : 100)));
    expect(result.outcome).toMatchObject({ path: 'evaluator', minute: 16, verdict: 'fail', rollback: true, source: 'health check journey' });
    expect(result.outcome.reasons[0]).toMatch(/^health check journey: .* at minute 12, below 100 % \(1 of its 3 runs since traffic shifted below 100 %\); it ran 5 times in the hour before the release, too few to compare with$/);
  });

  it('judges a run below minSuccessPercent as failed, one at or above it as passed', () => {
    const policy = lambdaService({ healthChecks: [HealthCheck.synthetics({ name: 'journey', canaryName: 'journey', minSuccessPercent: 90 })] }).policy;
    expect(run(release((m) => (m >= 12 ? 90 : 100)), policy).outcome).toMatchObject({ verdict: 'pass', rollback: false });
    expect(run(release((m) => (m >= 12 ? 80 : 100)), policy).outcome).toMatchObject({ minute: 18, verdict: 'fail', source: 'health check journey' });
  });
});

describe('what cannot be replayed is said, not invented', () => {
  it('notes an HTTP probe as not replayed and still replays the Synthetics check', () => {
    const clean = run(release(() => 100), withProbe.policy);
    expect(clean.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass', rollback: false });
    expect(clean.outcome.reasons).toContain(
      "health check home (HTTP GET https://example.test/health) was not replayed: the series holds metrics, not the probe's answers — in production 3 consecutive failed probes fail the bake",
    );
    const failing = run(release((m) => (m >= 12 ? 0 : 100)), withProbe.policy);
    expect(failing.outcome).toMatchObject({ minute: 18, verdict: 'fail', source: 'health check journey' });
  });

  it('notes a Synthetics check whose canary has no values in the series, and judges the SLOs alone', () => {
    const result = run(canaryRelease({ canaryErrors: () => 0 }));
    expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass', rollback: false });
    expect(result.outcome.reasons).toContain(
      'health check journey (Synthetics canary journey) was not replayed: the series has no synthetics values for canary journey — ' +
        'give its runs\' SuccessPercent (JSON "synthetics": { "journey": … }, CSV column synthetics:journey)',
    );
  });

  it('notes values of a canary no health check reads', () => {
    const result = run(release((m) => (m >= 12 ? 0 : 100), 'jorney'));
    expect(result.outcome).toMatchObject({ verdict: 'pass', rollback: false });
    expect(result.outcome.reasons).toContain('the series has synthetics values for canary jorney, which no Synthetics health check of rollback trigger Rollback reads: not replayed');
    expect(result.outcome.reasons.some((r) => r.startsWith('health check journey (Synthetics canary journey) was not replayed'))).toBe(true);
  });

  it('replays a policy written before health checks were carried like one without them', () => {
    const { healthChecks: _dropped, ...older } = withJourney.policy.rollbackTriggers![0];
    const policy: RollbackPolicy = { ...withJourney.policy, rollbackTriggers: [older] };
    const result = run(release((m) => (m >= 12 ? 0 : 100)), policy);
    expect(result.outcome).toMatchObject({ verdict: 'pass', rollback: false });
    expect(result.outcome.reasons).toContain('the series has synthetics values for canary journey, which no Synthetics health check of rollback trigger Rollback reads: not replayed');
  });
});

describe('synthetics values are validated (RT711)', () => {
  const at = (value: unknown) => release(() => 100).map((e) => (e.minute === 3 ? ({ ...e, synthetics: { journey: value } } as unknown as SeriesEntry) : e));

  it.each([
    ['above 100', 150, '150'],
    ['negative', -1, '-1'],
    ['a string', '100', '"100"'],
    ['not finite', Number.NaN, 'NaN'],
  ])('refuses a SuccessPercent %s, naming the entry and the field', (_name, value, shown) => {
    expect(expectRtError(() => run(at(value)), 'RT711').message).toBe(
      `[RT711] series entry 403 (minute 3): synthetics.journey must be a number from 0 to 100 (the SuccessPercent of the canary's run that minute), got ${shown}`,
    );
  });

  it('refuses synthetics that is not an object of canary names', () => {
    const series = release(() => 100).map((e) => (e.minute === 3 ? ({ ...e, synthetics: [100] } as unknown as SeriesEntry) : e));
    expect(expectRtError(() => run(series), 'RT711').message).toBe('[RT711] series entry 403 (minute 3): synthetics must be an object { canaryName: SuccessPercent }, got an array');
  });

  it('accepts 0 and 100, and fractional percentages', () => {
    expect(() => run(release((m) => (m === 3 ? 0 : m === 4 ? 33.3 : 100)))).not.toThrow();
  });

  it('refuses a policy health check it cannot replay (RT723)', () => {
    const trigger = withJourney.policy.rollbackTriggers![0];
    const policy = { ...withJourney.policy, rollbackTriggers: [{ ...trigger, healthChecks: [{ kind: 'ping', name: 'x' }] }] } as unknown as RollbackPolicy;
    expect(expectRtError(() => run(release(() => 100), policy), 'RT723').message).toBe('[RT723] rollback trigger Svc/Rollback: healthChecks[0]: kind must be http or synthetics, got "ping"');
  });
});

describe('a failing health check keeps a finished bake open (as the step Lambda does)', () => {
  it('a canary on a 5-minute schedule whose runs fail after the shift: the bake waits past minute 23 and fails on the third failed run', () => {
    // Runs at minutes divisible by 5 (12 in the hour before the release, all passing); from the
    // full shift (minute 10) every run fails. At minute 23 (the bake's end) the evaluator sees minutes
    // 10–19: runs 10 and 15 failed — two, too few to fail — and the latest failed: it waits. The run
    // of minute 20 is visible at 24: three in a row after a clean hour.
    const series = release((m) => (m % 5 === 0 ? (m >= 10 ? 0 : 100) : undefined));
    const result = run(series);
    expect(result.outcome).toMatchObject({ path: 'evaluator', minute: 24, verdict: 'fail', source: 'health check journey' });
    expect(result.outcome.reasons[0]).toMatch(/its last 3 runs failed in a row, and none of its 12 runs in the hour before the release did/);
  });

  it('and passes once a run passes again (one failed run at the end of the bake)', () => {
    // Only the run of minute 15 fails: at minute 23 the latest run seen failed (wait); at 24 the
    // run of minute 20 passed: one failed run of three against a clean hour is no regression.
    const series = release((m) => (m % 5 === 0 ? (m === 15 ? 0 : 100) : undefined));
    const result = run(series);
    expect(result.outcome).toMatchObject({ path: 'evaluator', minute: 24, verdict: 'pass', status: 'Succeeded' });
  });
});
