import { describe, expect, it } from 'vitest';
import { AVAILABILITY_SLO } from './helpers';
import {
  type ArmMinute,
  BakeInput,
  Counts,
  type Decision,
  type SloTimeline,
  compareWithBaseline,
  decideBake,
  decideBeforeTraffic,
  isDeploymentFinished,
  isRollbackDeployment,
} from '../../lib/core';

const slo = AVAILABILITY_SLO;
const counts = (total: number, bad: number, datapoints = 10): Counts => ({ total, bad, datapoints });
const config = { bakeSeconds: 600, inconclusiveAction: 'fail' as const, deadlineMarginSeconds: 300, compareWithBaseline: true };

function bake(overrides: Partial<BakeInput> & { canary?: Counts; short?: Counts; baseline?: Counts } = {}) {
  const { canary = counts(10_000, 0), short = counts(5_000, 0), baseline, ...rest } = overrides;
  return decideBake({ config, bakedSeconds: 300, hookAgeSeconds: 400, slos: [{ slo, canary, canaryShort: short, baseline }], ...rest });
}

describe('BeforeAllowTraffic', () => {
  it('passes a real change whose rollback target is intact', () => {
    const d = decideBeforeTraffic({ currentVersion: '3', targetVersion: '4', knownGood: { version: '3', integrity: 'sha-a' }, currentExists: true, currentIntegrity: 'sha-a' });
    expect(d).toMatchObject({ status: 'Succeeded', verdict: 'pass' });
    expect(d.reasons.join(' ')).toContain('known-good version 3 is intact');
  });

  it.each([
    ['the same version again', { currentVersion: '3', targetVersion: '3', currentExists: true }, /already serving traffic/],
    ['a deleted rollback target', { currentVersion: '3', targetVersion: '4', currentExists: false }, /no longer exists/],
    ['an altered known-good version', { currentVersion: '3', targetVersion: '4', knownGood: { version: '3', integrity: 'sha-a' }, currentExists: true, currentIntegrity: 'sha-b' }, /altered/],
    ['no target version', { currentVersion: '3', currentExists: true }, /no target version/],
  ])('fails %s', (_, input, reason) => {
    const d = decideBeforeTraffic(input);
    expect(d.status).toBe('Failed');
    expect(d.reasons.join(' ')).toMatch(reason);
  });

  it('passes the first deployment, before anything is recorded', () => {
    expect(decideBeforeTraffic({ currentVersion: '1', targetVersion: '2', currentExists: true }).status).toBe('Succeeded');
  });
});

describe('bake', () => {
  it('keeps watching while the bake runs and the version is healthy', () => {
    expect(bake().action).toBe('continue');
  });

  it('fails at once when the new version burns at the page rate over the bake and the short window', () => {
    const d = bake({ canary: counts(1_000, 300), short: counts(500, 150) });
    expect(d).toMatchObject({ action: 'report', status: 'Failed', verdict: 'fail' });
    expect(d.reasons[0]).toMatch(/burns its error budget at 300× .* threshold is 14\.4×/);
    expect(d.observations[0]).toMatchObject({ arm: 'canary', totalEvents: 1_000, badEvents: 300, burnRate: 300 });
  });

  it('does not fail on a burst the short window no longer shows', () => {
    expect(bake({ canary: counts(1_000, 30), short: counts(500, 0) }).action).toBe('continue');
  });

  it('does not fail on one error among few events', () => {
    const d = bake({ canary: counts(20, 1), short: counts(10, 1), bakedSeconds: 600 });
    expect(d).toMatchObject({ status: 'Failed', verdict: 'inconclusive' });
    expect(d.reasons.join(' ')).toMatch(/only 20 of the 70 events/);
  });

  it('passes a clean bake once it is over', () => {
    expect(bake({ bakedSeconds: 600 })).toMatchObject({ action: 'report', status: 'Succeeded', verdict: 'pass' });
  });

  it('is inconclusive without datapoints: fail closed by default, pass when configured', () => {
    expect(bake({ canary: counts(0, 0, 0), short: counts(0, 0, 0), bakedSeconds: 600 })).toMatchObject({ status: 'Failed', verdict: 'inconclusive' });
    expect(
      bake({ canary: counts(0, 0, 0), short: counts(0, 0, 0), bakedSeconds: 600, config: { ...config, inconclusiveAction: 'pass' } }),
    ).toMatchObject({ status: 'Succeeded', verdict: 'inconclusive' });
  });

  it('decides before CodeDeploy\'s hour runs out', () => {
    expect(bake({ bakedSeconds: 120, hookAgeSeconds: 3_300 })).toMatchObject({ action: 'report', status: 'Succeeded' });
    expect(bake({ bakedSeconds: 120, hookAgeSeconds: 3_299 }).action).toBe('continue');
  });

  it('fails a version clearly worse than the current one on the same minutes, below the page rate', () => {
    // 1 % errors is a 10× burn (below 14.4×) but ten times the current version's 0.1 %.
    const d = bake({ canary: counts(20_000, 200), short: counts(5_000, 50), baseline: counts(200_000, 200) });
    expect(d).toMatchObject({ status: 'Failed', verdict: 'fail' });
    expect(d.reasons[0]).toMatch(/worse than the current one/);
  });

  it('does not fail a statistically significant but tiny difference', () => {
    expect(bake({ canary: counts(1_000_000, 1_050), short: counts(100_000, 105), baseline: counts(1_000_000, 1_000) }).action).toBe('continue');
  });

  it('skips the comparison when configured off', () => {
    expect(bake({ canary: counts(20_000, 200), short: counts(5_000, 50), baseline: counts(200_000, 200), config: { ...config, compareWithBaseline: false } }).action).toBe('continue');
  });
});

describe('compareWithBaseline', () => {
  it('has no verdict with too few events on either side', () => {
    expect(compareWithBaseline(slo, counts(40, 3), counts(400, 2))).toBeUndefined();
  });
});

describe('deployment states', () => {
  it('recognises rollback deployments and finished deployments', () => {
    expect(isRollbackDeployment('codeDeployRollback')).toBe(true);
    expect(isRollbackDeployment('CloudFormationRollback')).toBe(true);
    expect(isRollbackDeployment('user')).toBe(false);
    expect(['Succeeded', 'Failed', 'Stopped', 'InProgress'].map(isDeploymentFinished)).toEqual([true, true, true, false]);
  });
});

// ---------------------------------------------------------------------------------------------
// Bakes judged minute by minute: the paired, solo, reference and history windows of a timeline
// (lib/core/windows.ts). 1000 requests a minute unless said; the page rate is 14.4 × 0.1 % = 1.44 %.

/** The release minute (epoch seconds, on a minute boundary). */
const RELEASE = 1_800_000_000;
type Served = { readonly canary?: ArmMinute; readonly baseline?: ArmMinute };
/** The new version serving alone. */
const alone = (total: number, bad: number): Served => ({ canary: { total, bad } });
/** Both versions serving the same minute (a canary). */
const sideBySide = ([ct, cb]: [number, number], [bt, bb]: [number, number]): Served => ({ canary: { total: ct, bad: cb }, baseline: { total: bt, bad: bb } });
const times = <T>(n: number, m: T): T[] => Array.from({ length: n }, () => m);
/** `minutes` minutes of the new version alone at 1000 requests, `bad` (or `bad(i)` in minute i) of them bad. */
const aloneWith = (minutes: number, bad: number | ((i: number) => number)): Served[] =>
  Array.from({ length: minutes }, (_, i) => alone(1000, typeof bad === 'number' ? bad : bad(i)));
const sumOf = (ms: ReadonlyArray<ArmMinute | undefined>): Counts =>
  ms.reduce<Counts>((c, m) => (m ? { total: c.total + m.total, bad: c.bad + m.bad, datapoints: c.datapoints + 1 } : c), { total: 0, bad: 0, datapoints: 0 });

interface TickOptions {
  /** The current version's minute, the same for the hour before the release. @default 1000 requests, none bad */
  readonly history?: ArmMinute;
  /** Minute (since the release) the hook started and the bake is counted from: the full shift. @default 0 (all at once) */
  readonly bakeFrom?: number;
  readonly bakedSeconds?: number;
  readonly config?: Partial<BakeInput['config']>;
  /** Leave the timeline out: every minute since the release judged as paired (as before issue 8). */
  readonly withoutTimeline?: boolean;
}

/**
 * One tick that sees the first `n` minutes after the release (`end` = release + n min): the counts
 * since the release and over the short window summed from the timeline as bakeDataFor does.
 */
function tickAt(after: readonly Served[], n: number, o: TickOptions = {}): Decision {
  return decideBake(inputAt(after, n, o));
}

/** The input of {@link tickAt}, to vary further. */
function inputAt(after: readonly Served[], n: number, o: TickOptions = {}): BakeInput {
  const history = o.history ?? { total: 1000, bad: 0 };
  const seen = after.slice(0, n);
  const timeline: SloTimeline = {
    releaseAt: RELEASE,
    end: RELEASE + 60 * n,
    minutes: [
      ...times(60, history).map((baseline, i) => ({ at: RELEASE - 3600 + 60 * i, baseline })),
      ...seen.map((m, i) => ({ at: RELEASE + 60 * i, ...m })),
    ],
  };
  const short = seen.slice(Math.max(0, n - 5));
  const bakedSeconds = o.bakedSeconds ?? Math.max(0, n - (o.bakeFrom ?? 0)) * 60;
  return {
    config: { ...config, baselineFactor: 2, ...o.config },
    bakedSeconds,
    hookAgeSeconds: bakedSeconds + 60,
    slos: [
      {
        slo,
        canary: sumOf(seen.map((m) => m.canary)),
        canaryShort: sumOf(short.map((m) => m.canary)),
        baseline: sumOf(seen.map((m) => m.baseline)),
        ...(o.withoutTimeline ? {} : { timeline }),
      },
    ],
  };
}
/** The decisions of the ticks at minutes 1 … `last`. */
const ticks = (after: readonly Served[], last: number, o: TickOptions = {}) => Array.from({ length: last }, (_, i) => tickAt(after, i + 1, o));
const failed = (d: Decision) => d.action === 'report' && d.status === 'Failed';

describe('bake, all at once: a blip is not a regression', () => {
  // Minutes 7, 8 and 9 after the release at 20 % errors (200 of 1000).
  const blip = aloneWith(16, (i) => (i >= 7 && i <= 9 ? 200 : 0));

  it('does not fail a 3-minute blip, waits past bakeSeconds while it burns, then passes once it has ended', () => {
    // At 10 min the short window holds 600 of 5000 bad (120×) as served, but each minute counts up to
    // 1.5 × 1.44 % × 1000 = 21.6: 64.8 of 5000 = 12.96×, under 14.4×. The workbook's hour: 600 of
    // 60 000 events (50 min of history + 10 min of the new version) = 10×, under 14.4×.
    const decisions = ticks(blip, 16);
    expect(decisions.filter(failed)).toEqual([]);
    // At 10 min (the bake of 600 s is over) the latest minute still burns (200 of 1000 = 200×): the
    // bake goes on instead of passing.
    expect(decisions[9].action).toBe('continue');
    expect(decisions[9].reasons[0]).toBe('bake complete, but the new version is burning at the page rate or failing a health check right now');
    expect(decisions[9].reasons[1]).toMatch(/burns at 200× over its last 1 min \(20 % \(200 of 1000 events\)\): waiting for it to last/);
    // At 11 min the latest minute is clean: the blip has ended, and the pass says what it did not roll back for.
    expect(decisions[10]).toMatchObject({ action: 'report', status: 'Succeeded', verdict: 'pass' });
    expect(decisions[10].reasons[0]).toBe("bake complete: no burn on the new version's own traffic was the release's");
    expect(decisions[10].reasons.join('\n')).toMatch(/a blip — the new version burned at 200× in 3 of the minutes it served alone .*, not for a full 5-min window/);
    // Judged as paired minutes (no timeline), the same counts fail: 600 of 10 000 (60×) and 120× over the short window.
    expect(tickAt(blip, 10, { withoutTimeline: true })).toMatchObject({ status: 'Failed', verdict: 'fail' });
  });

  it('passes a blip just under the errors the workbook hour pages on (864), and fails one just over', () => {
    // 3 minutes, 287 + 287 + 286 = 860 errors: 860 of 60 000 in the hour = 14.33× < 14.4×.
    const under = aloneWith(16, (i) => [287, 287, 286][i - 7] ?? 0);
    const u = ticks(under, 15);
    expect(u.filter(failed)).toEqual([]);
    expect(u[14]).toMatchObject({ status: 'Succeeded', verdict: 'pass' });
    // 3 × 290 = 870 errors: 14.5×, failed on the tick that sees the third minute (at 9 min, 580: 9.67×).
    const over = aloneWith(16, (i) => (i >= 7 && i <= 9 ? 290 : 0));
    expect(tickAt(over, 9).action).toBe('continue');
    const d = tickAt(over, 10);
    expect(d).toMatchObject({ status: 'Failed', verdict: 'fail' });
    expect(d.reasons[0]).toMatch(/spent 14\.5× the error budget of the service's last hour \(870 bad events of its own against 60000 events/);
  });

  it('fails a one-minute total outage at once, on the workbook hour', () => {
    // 1000 of 1000 bad in the first minute: the hour [−59 min, +1 min) holds 59 000 + 1000 events,
    // 1000 bad = 16.7× ≥ 14.4×, and the minute itself burns at 1000×.
    const d = tickAt([alone(1000, 1000)], 1);
    expect(d).toMatchObject({ action: 'report', status: 'Failed', verdict: 'fail' });
    expect(d.reasons[0]).toMatch(/serving alone, spent 16\.7× the error budget of the service's last hour .* and burns at 1000× over its last 1 min/);
    // The boundary is 14.4 × 0.1 % × 60 000 = 864 errors: 870 fails, 850 (14.2×) waits to see it last.
    expect(tickAt([alone(1000, 870)], 1)).toMatchObject({ status: 'Failed', verdict: 'fail' });
    const below = tickAt([alone(1000, 850)], 1);
    expect(below.action).toBe('continue');
    expect(below.reasons[0]).toMatch(/burns at 850× over its last 1 min/);
  });
});

describe('bake, all at once: a regression', () => {
  it('fails a regression at 2 % once it has lasted the short window, with the solo reason', () => {
    // 20 of 1000 a minute (20×, under the 21.6 cap): at 5 min, 100 of 5000 = 20× ≥ 14.4× on a short
    // window wholly after the release, against 0 of 1000 for the current version before it.
    // At 4 min the window reaches before the release (and the hour is 80 of 60 000 = 1.33×): wait.
    const regression = aloneWith(5, 20);
    const four = tickAt(regression, 4);
    expect(four.action).toBe('continue');
    expect(four.reasons[0]).toMatch(/serving alone, burns at 20× over its last 1 min .*waiting for it to last/);
    const d = tickAt(regression, 5);
    expect(d).toMatchObject({ action: 'report', status: 'Failed', verdict: 'fail' });
    expect(d.reasons[0]).toMatch(/serving alone, burns its error budget at 20× over its last 5 min alone\b.*\(100 of 5000 events\)/);
    expect(d.reasons[0]).toMatch(/the current version's last minutes before the release \(5 min\): 0 % \(0 of 5000 events\)/);
  });

  it('does not pass a regression that starts as the bake ends: the bake goes on until it fails', () => {
    // 2 % from minute 8: at 10 min (bake over) it has burned 2 min, 40 of 5000 capped (8×): a pass
    // now would let it through. At 12 min the short window [7, 12) holds 4 such minutes:
    // 80 of 5000 = 16× ≥ 14.4×.
    const late = aloneWith(13, (i) => (i >= 8 ? 20 : 0));
    const decisions = ticks(late, 12);
    expect(decisions.slice(0, 11).filter(failed)).toEqual([]);
    expect(decisions[9]).toMatchObject({ action: 'continue' });
    expect(decisions[9].reasons[0]).toBe('bake complete, but the new version is burning at the page rate or failing a health check right now');
    expect(decisions[10]).toMatchObject({ action: 'continue' });
    expect(decisions[11]).toMatchObject({ status: 'Failed', verdict: 'fail' });
    expect(decisions[11].reasons[0]).toMatch(/serving alone, burns its error budget at 16× over its last 5 min alone\b.*\(80 of 5000 events\)/);
  });

  it('does not pass at the bake\'s end on a last minute that reads just under the page rate', () => {
    // As above, but minute 9 draws 14 of 1000 (14×, under 14.4× as a point estimate): a 14.4× burn
    // leaves 14 or fewer bad events in 1000 with probability 0.53, so it is still burning, not clean.
    const late = aloneWith(13, (i) => (i === 9 ? 14 : i >= 8 ? 20 : 0));
    const decisions = ticks(late, 13);
    expect(decisions.slice(0, 11).filter(failed)).toEqual([]);
    expect(decisions[9]).toMatchObject({ action: 'continue' });
    expect(decisions[9].reasons[0]).toBe('bake complete, but the new version is burning at the page rate or failing a health check right now');
    expect(decisions.find(failed)).toMatchObject({ status: 'Failed', verdict: 'fail' });
    // A clean minute ends it: 0 of 1000 excludes the page rate (probability 5 × 10⁻⁷), so a blip that ended passes.
    const blipEnded = aloneWith(11, (i) => (i === 8 ? 20 : 0));
    expect(ticks(blipEnded, 11).slice(0, 10).some((d) => d.action === 'report' && d.status === 'Succeeded')).toBe(true);
  });
});

describe('bake into a pre-existing incident', () => {
  // The current version failed 5 % (50 of 1000) of requests for the whole hour before the release:
  // 50× over the hour and over the last 5 min, above 14.4× — the service was already paging.
  const history = { total: 1000, bad: 50 };

  it('passes a new version failing as often, escalates, and names the incident', () => {
    // The new version alone at 5 %: capped 21.6 a minute → 108 of 5000 = 21.6× ≥ 14.4×, but 5 % is
    // no more than 2 × the 5 % of the current version's last minutes before the release: excused.
    const same = aloneWith(10, 50);
    const decisions = ticks(same, 10, { history });
    expect(decisions.filter(failed)).toEqual([]);
    const d = decisions[9];
    expect(d).toMatchObject({ action: 'report', status: 'Succeeded', verdict: 'pass', escalate: true });
    expect(d.action === 'report' && d.incidents).toEqual([
      { kind: 'pre-existing', slo: 'Availability', reason: expect.stringMatching(/pre-existing incident .*50× over the hour before it, 50× over its last 5 min/) },
    ]);
    expect(d.reasons.join('\n')).toMatch(/but not 2× worse than the current version's last minutes before the release \(5 min\): 5 % \(250 of 5000 events\), or not significantly/);
    // Judged as before issue 8 (no timeline), 5 % is 50× and fails.
    expect(tickAt(same, 10, { history, withoutTimeline: true })).toMatchObject({ status: 'Failed' });
  });

  it('still fails a new version failing 20 % during it, and names the incident', () => {
    // 20 % is more than 2 × 5 %. At 5 min the hour holds 1000 bad of the new version in 60 000
    // events (16.7×) and its last minute burns at 200×; at 4 min, 800 (13.3×) and a short window
    // reaching before the release: wait.
    const worse = aloneWith(5, 200);
    expect(tickAt(worse, 4, { history }).action).toBe('continue');
    const d = tickAt(worse, 5, { history });
    expect(d).toMatchObject({ action: 'report', status: 'Failed', verdict: 'fail' });
    expect(d.reasons[0]).toMatch(/^Availability: the new version, serving alone, /);
    expect(d.action === 'report' && d.incidents?.map((i) => i.kind)).toEqual(['pre-existing']);
  });
});

describe('bake through a shared incident, from a canary to the full shift', () => {
  // Canary 10 % for 5 min (100 and 900 requests a minute), then the new version alone at 1000.
  // The bake (600 s) counts from the full shift, minute 5.
  const canaryThen = (canaryBad: (i: number) => number, baselineBad: (i: number) => number, alonePerMinute: number, minutes = 15): Served[] =>
    Array.from({ length: minutes }, (_, i) => (i < 5 ? sideBySide([100, canaryBad(i)], [900, baselineBad(i)]) : alone(1000, alonePerMinute)));

  it('does not fail an incident both versions share that began during the canary and goes on after it', () => {
    // From minute 3 a dependency fails 5 % of every version's requests. Paired minutes: 10 of 500
    // (20×) against 90 of 4500 for the current version: not more than 2× as often → shared.
    // After the shift: capped 108 of 5000 = 21.6×, but not 2× worse than the current version's
    // worst stretch of its last minutes of service (minutes 3–4: 90 of 1800 = 5 %; ties go to the longer).
    const shared = canaryThen((i) => (i >= 3 ? 5 : 0), (i) => (i >= 3 ? 45 : 0), 50);
    const decisions = ticks(shared, 15, { bakeFrom: 5 });
    expect(decisions.filter(failed)).toEqual([]);
    expect(decisions[4].reasons[0]).toMatch(/shared incident — the new version burns at 20× \(2 % \(10 of 500 events\)\)/);
    const d = decisions[14];
    expect(d).toMatchObject({ action: 'report', status: 'Succeeded', verdict: 'pass' });
    expect(d.reasons.join('\n')).toMatch(/not 2× worse than the current version's last minutes of service \(2 min\): 5 % \(90 of 1800 events\), or not significantly/);
    expect(d.action === 'report' && d.escalate).toBeFalsy();
  });

  it('fails the new version when the current one was clean until the shift', () => {
    // The same 5 % after the shift, but the current version served 0 of 900 bad: at minute 10 the
    // short window [5, 10) is 108 of 5000 capped (21.6×) and 5 % against 0 %.
    const own = canaryThen(() => 0, () => 0, 50);
    const decisions = ticks(own, 10, { bakeFrom: 5 });
    expect(decisions.slice(0, 9).filter(failed)).toEqual([]);
    expect(decisions[9]).toMatchObject({ status: 'Failed', verdict: 'fail' });
    expect(decisions[9].reasons[0]).toMatch(/serving alone, burns its error budget at 21\.6× .*the current version's last minutes of service \(5 min\): 0 % \(0 of 4500 events\)/);
  });
});

describe('bake at low traffic: decisive evidence', () => {
  // 2 requests a minute, before the release too: the current version's hour (120 events, none bad) is the reference.
  const history = { total: 2, bad: 0 };
  const lowAlone = (bad: (i: number) => number, minutes = 10): Served[] => Array.from({ length: minutes }, (_, i) => alone(2, bad(i)));

  it('fails 1 bad event in 2 every minute as soon as a burn at the page rate could hardly produce it', () => {
    // P(X ≥ k | n, 1.44 %): 2 of 4 is 1.2e-3 (not yet); 3 of 6 is 6e-5 ≤ 1e-4: failed at minute 3.
    const half = lowAlone(() => 1);
    expect(tickAt(half, 2, { history }).action).toBe('continue');
    const d = tickAt(half, 3, { history });
    expect(d).toMatchObject({ status: 'Failed', verdict: 'fail' });
    expect(d.reasons[0]).toMatch(/decisive with few events — 3 of 6 events of the new version bad \(50 %\)/);
    // … and at the end of the bake, 10 of 20 (p = 6.2e-14).
    expect(tickAt(half, 10, { history }).reasons[0]).toMatch(/decisive with few events — 10 of 20 events .* probability 6\.21e-14/);
  });

  it('counts a minute at most one bad event at this traffic: 4 minutes all bad is 4 of 20, inconclusive; 5 fail', () => {
    // Minutes 6–9 at 2 of 2 bad: capped to 1 each, 4 of 20: P(X ≥ 4) = 1.7e-4 > 1e-4 (as served,
    // 8 of 20, it would be decisive). Minutes 5–9: 5 of 20, P = 8.0e-6: failed at minute 10.
    const four = ticks(lowAlone((i) => (i >= 6 ? 2 : 0)), 10, { history });
    expect(four.filter((d) => d.action === 'report' && d.verdict === 'fail')).toEqual([]);
    expect(four[9]).toMatchObject({ status: 'Failed', verdict: 'inconclusive' });
    expect(four[9].reasons.join('\n')).toMatch(/only 20 of the 70 events needed/);
    const five = ticks(lowAlone((i) => (i >= 5 ? 2 : 0)), 10, { history });
    expect(five.slice(0, 9).filter(failed)).toEqual([]);
    expect(five[9]).toMatchObject({ status: 'Failed', verdict: 'fail' });
    expect(five[9].reasons[0]).toMatch(/decisive with few events — 5 of 20 events/);
  });

  it('leaves 1 bad event of 3 inconclusive at the end of the bake', () => {
    // P(X ≥ 1 | 3, 1.44 %) = 1 − 0.9856³ = 0.043: no evidence either way.
    const few: Served[] = [alone(1, 1), alone(1, 0), alone(1, 0), ...times(7, {})];
    const d = tickAt(few, 10, { history });
    expect(d).toMatchObject({ action: 'report', status: 'Failed', verdict: 'inconclusive' });
    expect(d.reasons).toEqual(['bake complete without enough data (inconclusive → Failed)', 'Availability: only 3 of the 70 events needed']);
    expect(tickAt(few, 10, { history, config: { inconclusiveAction: 'pass' } })).toMatchObject({ status: 'Succeeded', verdict: 'inconclusive' });
  });

  it('needs at least 3 of 3 bad: 2 of 2 is P = 2.1e-4, 3 of 3 is P = 3.0e-6', () => {
    // One request a minute, every one of them bad.
    const allBad = (n: number): Served[] => [...times(n, alone(1, 1)), ...times(10 - n, {})];
    expect(tickAt(allBad(2), 10, { history })).toMatchObject({ status: 'Failed', verdict: 'inconclusive' });
    const d = tickAt(allBad(3), 10, { history });
    expect(d).toMatchObject({ status: 'Failed', verdict: 'fail' });
    expect(d.reasons[0]).toMatch(/decisive with few events — 3 of 3 events of the new version bad \(100 %\); .* probability 0\.00000299, below 0\.0001/);
  });
});

describe('bake on paired minutes: the significance gate', () => {
  // Canary over 5 min: 37, 37, 37, 37, 39 = 187 requests; the current version 600 a minute with 4
  // bad: 20 of 3000 = 0.667 %. The new version's bad events spread over the five minutes.
  const paired = (bad: number): Served[] =>
    Array.from({ length: 5 }, (_, i) => sideBySide([i === 4 ? 39 : 37, Math.floor(bad / 5) + (i < bad % 5 ? 1 : 0)], [600, 4]));

  it.each([
    // e = 2 × 0.667 % × 187 = 2.49; worse only when (bad − e)² > 9 (e + 1) = 31.4.
    // 3 of 187 = 1.6 % = 16× ≥ 14.4× since the release and over the short window, but (3 − 2.49)² = 0.26: noise.
    { bad: 3, status: 'Succeeded' },
    // 8 of 187 = 4.3 % (42.8×): (8 − 2.49)² = 30.3 ≤ 31.4: still not significant.
    { bad: 8, status: 'Succeeded' },
    // 9 of 187 = 4.8 % (48.1×): (9 − 2.49)² = 42.3 > 31.4: the release's.
    { bad: 9, status: 'Failed' },
  ])('$bad bad of 187 against the current version at 0.667 % → $status', ({ bad, status }) => {
    const d = tickAt(paired(bad), 5, { bakedSeconds: 600 });
    expect(d).toMatchObject({ action: 'report', status });
    if (status === 'Succeeded') {
      expect(d.reasons.join('\n')).toMatch(
        new RegExp(`shared incident — the new version burns at [\\d.]+× \\([\\d.]+ % \\(${bad} of 187 events\\)\\) but the current version fails about as often on the same minutes \\(0\\.667 % \\(20 of 3000 events\\)`),
      );
    } else {
      expect(d.reasons[0]).toMatch(/burns its error budget at 48\.1× over 5 min since the release \(9 of 187 events bad\)/);
    }
  });
});

describe('bake: no pass without evidence at the edges (review of issue 8)', () => {
  it('at the deadline, a burn still going on is inconclusive (fail closed) with an escalation, not a pass', () => {
    // 20 % errors in the last 2 minutes of a clean bake: one tick before the deadline the bake waits;
    // at the deadline (hook age ≥ deadlineSeconds) it decides, but not Succeeded.
    const burning = aloneWith(20, (i) => (i >= 18 ? 200 : 0));
    const before = decideBake({ ...inputAt(burning, 20), hookAgeSeconds: 3_299, deadlineSeconds: 3_300 });
    expect(before.action).toBe('continue');
    const d = decideBake({ ...inputAt(burning, 20), hookAgeSeconds: 3_300, deadlineSeconds: 3_300 });
    expect(d).toMatchObject({ action: 'report', status: 'Failed', verdict: 'inconclusive', escalate: true });
    expect(d.reasons[0]).toMatch(/and the new version is burning at the page rate or failing its health checks right now \(inconclusive → Failed\)/);
    expect(d.reasons[1]).toMatch(/burns at 200× over its last 1 min/);
  });

  it('a health check whose latest run failed keeps a finished bake open, and is inconclusive at the deadline', () => {
    const clean = aloneWith(12, 0);
    const waiting = ['health check journey: the latest run of Synthetics canary journey (…) had 50 % of its runs succeed, below 100 %: waiting for the next runs'];
    expect(decideBake({ ...inputAt(clean, 12), healthPending: waiting }).action).toBe('continue');
    expect(decideBake({ ...inputAt(clean, 12), healthPending: waiting, hookAgeSeconds: 3_300, deadlineSeconds: 3_300 })).toMatchObject({ status: 'Failed', verdict: 'inconclusive' });
    expect(decideBake(inputAt(clean, 12))).toMatchObject({ status: 'Succeeded', verdict: 'pass' });
  });

  it('does not roll back on minutes served alone when the current version could not be read: reads again, inconclusive at the deadline', () => {
    // 5 % errors for 5 minutes after an all-at-once release: against a readable clean history this
    // fails; with the current version's query answering InternalError nobody can tell a shared incident.
    const incident = aloneWith(6, 50);
    expect(decideBake(inputAt(incident, 6))).toMatchObject({ status: 'Failed', verdict: 'fail' });
    const problem = { permanent: false, reason: 'GetMetricData answered InternalError for query s0_baseline_t' };
    const unread = decideBake({ ...inputAt(incident, 6), slos: inputAt(incident, 6).slos.map((d) => ({ ...d, baselineProblems: [problem] })) });
    expect(unread.action).toBe('continue');
    expect(unread.reasons.join('\n')).toMatch(/but the current version's counts could not be read to tell the release from a shared incident: GetMetricData answered InternalError/);
    const atDeadline = decideBake({
      ...inputAt(incident, 6),
      hookAgeSeconds: 3_300,
      deadlineSeconds: 3_300,
      slos: inputAt(incident, 6).slos.map((d) => ({ ...d, baselineProblems: [problem] })),
    });
    expect(atDeadline).toMatchObject({ status: 'Failed', verdict: 'inconclusive' });
  });

  it('AfterAllowTestTraffic without test traffic still escalates and names a pre-existing incident', () => {
    const d = decideBake({ ...inputAt([alone(10, 0)], 1, { history: { total: 1000, bad: 50 } }), bakedSeconds: 600, lifecycleEvent: 'AfterAllowTestTraffic' });
    expect(d).toMatchObject({ action: 'report', status: 'Succeeded', verdict: 'inconclusive', escalate: true, incidents: [{ kind: 'pre-existing', slo: 'Availability' }] });
  });
});

describe('bake: the page rate read below its point estimate only on evidence', () => {
  it('passes a healthy new version at low traffic with nothing to compare with, not waiting for the deadline', () => {
    // 100 requests a minute alone, none bad: a minute expects 1.44 bad at the page rate, so a clean
    // one cannot exclude it (P = 0.23) — no evidence of a burn either. With baselineFactor 0 (or no
    // current-version traffic) nothing makes the minute the release's: read on the point estimate.
    for (const factor of [0, 2]) {
      const clean = times(15, alone(100, 0));
      const history = factor === 0 ? undefined : { total: 0, bad: 0 };
      const decisions = ticks(clean, 15, { config: { baselineFactor: factor }, ...(history ? { history } : {}) });
      expect(decisions.find((d) => d.action === 'report'), `factor ${factor}`).toMatchObject({ status: 'Succeeded', verdict: 'pass' });
    }
  });

  it('does not fail on one background error after a canary blip that ended: the short window must be worse on its own minutes', () => {
    // 10 % of 500 requests a minute for 10 minutes: the new version 3 bad in each of minutes 0–1, then
    // one background error in minute 7; the current version 1 bad every other minute. The canary as a
    // whole stays significantly worse, but its last 5 minutes (1 of 250, 4×) are not worse than the
    // current version's 2 of 2,250 on the same minutes: read on the point estimate, not burning.
    const minutes: Served[] = [
      ...Array.from({ length: 10 }, (_, i) => sideBySide([50, i < 2 ? 3 : i === 7 ? 1 : 0], [450, i % 2])),
      ...times(15, alone(500, 0)),
    ];
    // (The canary judge, off here, fails the canary as a whole: 7 of 500 against 5 of 4,500 is worse
    // beyond its tolerance, Fisher p = 5 × 10⁻⁵ — the blip was the new version's alone.)
    const decisions = ticks(minutes, 25, { bakeFrom: 10, history: { total: 500, bad: 0 }, config: { compareWithBaseline: false } });
    expect(decisions.slice(9).filter(failed)).toEqual([]);
  });

  it('does not fail on a canary blip that ended: a short window too small to exclude the page rate reads on its point estimate', () => {
    // 10 % of 200 requests a minute: the new version 5 bad in its first 2 minutes (20 a minute), then
    // clean; the current version 3 of 1800. Significantly worse over the canary, but its last 5 min
    // (100 events, 0 bad) expect 1.44 bad at the page rate: they say nothing, and 0× is not burning.
    const minutes: Served[] = [
      ...Array.from({ length: 10 }, (_, i) => sideBySide([20, i === 0 ? 3 : i === 1 ? 2 : 0], [180, i === 3 || i === 5 || i === 7 ? 1 : 0])),
      ...times(15, alone(200, 0)),
    ];
    const decisions = ticks(minutes, 25, { bakeFrom: 10, config: { compareWithBaseline: false } });
    expect(decisions.slice(9).filter(failed)).toEqual([]);
  });
});

describe('bake: a regression that began during the canary and goes on after the shift', () => {
  // (The canary judge alone would fail these canaries below the page rate: off here.)
  const judgeOff = { bakeFrom: 5, config: { compareWithBaseline: false } };

  it('fails on the canary minutes alone once the new version is significantly worse and the page rate is not excluded', () => {
    // Canary minutes 0–4: 6 of 500 bad (12×: under the page rate as a point estimate) against 1 of
    // 4500 — more than 2× as often by three standard deviations (e = 0.22, (6 − 0.22)² = 33 > 9 × 1.22).
    // A 14.4× burn leaves 6 or fewer bad events in 500 with probability 0.42: not excluded.
    const minutes: Served[] = [...[1, 1, 1, 1, 2].map((bad, i) => sideBySide([100, bad], [900, i === 0 ? 1 : 0])), ...aloneWith(5, 18)];
    const d = tickAt(minutes, 5, judgeOff);
    expect(d).toMatchObject({ action: 'report', status: 'Failed', verdict: 'fail' });
    expect(d.reasons[0]).toMatch(
      /burns its error budget at 12× over 5 min since the release \(6 of 500 events bad; a burn at 14\.4× leaves this few bad events with probability 0\.419: not excluded\)/,
    );
    // The same canary beside a current version failing as often is a shared incident, not the release.
    const shared: Served[] = [...[1, 1, 1, 1, 2].map((bad) => sideBySide([100, bad], [900, 11])), ...aloneWith(5, 18)];
    expect(failed(tickAt(shared, 5, judgeOff))).toBe(false);
    // Significantly worse, but a burn the counts exclude: 5 of 1000 (5×) against 0 of 9000 (a 14.4×
    // burn leaves 5 or fewer in 1000 with probability 0.007).
    const low: Served[] = times(5, sideBySide([200, 1], [1800, 0]));
    expect(failed(tickAt(low, 5, judgeOff))).toBe(false);
  });

  it('fails on the workbook pair as served once the new version was significantly worse beside the current one', () => {
    // Canary minutes 0–4: 7 of 1000 bad (7×) against 1 of 9000 — more than 2× as often by three
    // standard deviations (e = 0.22, (7 − 0.22)² = 46 > 9 × 1.22) — but a 14.4× burn leaves 7 or
    // fewer bad events in 1000 with probability 0.025: excluded, so the canary minutes alone do not fail.
    // From minute 5 it serves alone, 18 of 1000. At 6 min: since the release 25 of 2000 (12.5×: a
    // 14.4× burn leaves that few with probability 0.26), the last 5 min 24 of 1800 (13.3×): fails.
    const minutes: Served[] = [...[1, 2, 1, 2, 1].map((bad, i) => sideBySide([200, bad], [1800, i === 0 ? 1 : 0])), ...aloneWith(5, 18)];
    expect(failed(tickAt(minutes, 5, judgeOff))).toBe(false);
    const d = tickAt(minutes, 6, judgeOff);
    expect(d).toMatchObject({ action: 'report', status: 'Failed', verdict: 'fail' });
    expect(d.reasons[0]).toMatch(
      /already worse than the current one on the minutes both served \(0\.7 % \(7 of 1000 events\) against 0\.0111 % \(1 of 9000 events\).*burns its error budget at 12\.5× since the release \(1\.25 % \(25 of 2000 events\); a burn at 14\.4× leaves this few bad events with probability 0\.\d+: not excluded\) and 13\.3× over its last 5 min/,
    );
    // The same minutes after a clean canary are not this rule's: the solo window must fill first.
    const afterClean: Served[] = [...times(5, sideBySide([200, 0], [1800, 0])), ...aloneWith(5, 18)];
    expect(failed(tickAt(afterClean, 6, judgeOff))).toBe(false);
  });
});
