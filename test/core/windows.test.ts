import { describe, expect, it } from 'vitest';
import { AVAILABILITY_SLO } from './helpers';
import {
  type ArmMinute,
  type EvaluatorSlo,
  type QueryResult,
  type SloTimeline,
  type TimelineMinute,
  HISTORY_SECONDS,
  SOLO_MINUTE_CAP,
  bakeDataFor,
  cappedBad,
  windowsOf,
} from '../../lib/core';

const slo = AVAILABILITY_SLO;

/** The release minute (epoch seconds, on a minute boundary). */
const R = 1_800_000_000;
const arm = (total: number, bad: number): ArmMinute => ({ total, bad });
type Minute = Omit<TimelineMinute, 'at'>;
const alone = (total: number, bad: number): Minute => ({ canary: arm(total, bad) });
const both = (canary: ArmMinute, baseline: ArmMinute): Minute => ({ canary, baseline });

/**
 * A timeline: `history` are the current version's minutes just before the release (oldest first,
 * the last one at R − 60); `after[i]` is minute R + 60 i; the data ends after the last of them
 * unless `end` says otherwise.
 */
function timeline(after: readonly Minute[], history: readonly ArmMinute[] = [], end = R + 60 * after.length): SloTimeline {
  const minutes: TimelineMinute[] = [
    ...history.map((baseline, i) => ({ at: R - 60 * (history.length - i), baseline })),
    ...after.map((m, i) => ({ at: R + 60 * i, ...m })),
  ];
  return { releaseAt: R, end, minutes };
}
const hourOf = (m: ArmMinute) => Array.from({ length: 60 }, () => m);
const repeat = <T>(n: number, m: T): T[] => Array.from({ length: n }, () => m);

describe('windowsOf: paired and solo minutes', () => {
  it('judges a minute as paired only when both versions served, and as solo when the new version served alone', () => {
    // m0–m4: canary 10 % of 1000 (100 events, 1 bad); m5 the current version reports 0 events
    // (counts as alone); m6 alone; m7 no traffic at all (skipped); m8 alone; m9 lies at `end`.
    const t = timeline(
      [
        ...repeat(5, both(arm(100, 1), arm(900, 2))),
        { canary: arm(1000, 5), baseline: arm(0, 0) },
        alone(1000, 5),
        alone(0, 0),
        alone(1000, 5),
        alone(1000, 1000),
      ],
      hourOf(arm(1000, 0)),
      R + 9 * 60,
    );
    const w = windowsOf(slo, t);
    // Paired: 5 minutes, 5 × 100 = 500 events (5 bad) of the new version, 5 × 900 = 4500 (10 bad) of the current one.
    expect(w.paired.canary).toEqual({ total: 500, bad: 5, datapoints: 5 });
    expect(w.paired.baseline).toEqual({ total: 4500, bad: 10, datapoints: 5 });
    // The short window is [R+240, R+540): of the paired minutes only m4.
    expect(w.paired.canaryShort).toEqual({ total: 100, bad: 1, datapoints: 1 });
    // Solo in the short window: m5, m6, m8 (m7 served nothing; m9 is not before `end`).
    expect(w.solo.shortMinutes).toBe(3);
    expect(w.solo.short).toEqual({ total: 3000, bad: 15, datapoints: 3 });
    expect(w.solo.recent).toEqual([arm(1000, 5), arm(1000, 5), arm(1000, 5)]);
    // The stretch served alone starts after the last paired minute (m4): R+300 to R+540 is 4 min.
    expect(w.solo.stretchMinutes).toBe(4);
    expect(w.solo.stretchCapped).toEqual({ total: 3000, bad: 15, datapoints: 3 });
  });

  it('pairs no minute when fewer than a short window of them were served side by side (the minute traffic switched in)', () => {
    // Three minutes side by side are no same-minute comparison: judged as the new version alone.
    const t = timeline([...repeat(3, both(arm(100, 1), arm(900, 2))), ...repeat(4, alone(1000, 5))], hourOf(arm(1000, 0)));
    const w = windowsOf(slo, t);
    expect(w.paired.canary).toEqual({ total: 0, bad: 0, datapoints: 0 });
    expect(w.solo.sinceReleaseCapped).toEqual({ total: 4300, bad: 23, datapoints: 7 });
    expect(w.solo.stretchMinutes).toBe(7);
  });

  it('judges a minute in which the current version served a trickle (under 5 %) as the new version alone', () => {
    // A 10 % canary for 5 min, then the old version keeps 1 request a minute: those minutes are solo.
    const t = timeline([...repeat(5, both(arm(100, 0), arm(900, 0))), ...repeat(5, both(arm(1000, 200), arm(1, 0)))], hourOf(arm(1000, 0)));
    const w = windowsOf(slo, t);
    expect(w.paired.canary).toEqual({ total: 500, bad: 0, datapoints: 5 });
    expect(w.solo).toMatchObject({ fullWindow: true, shortMinutes: 5, short: { total: 5000, bad: 1000, datapoints: 5 } });
    // The reference is the current version's last paired minutes, not its trickle.
    expect(w.reference).toMatchObject({ counts: { total: 4500, bad: 0 }, endsAt: R + 300, preRelease: false });
  });

  it('ignores the new version before the release, and counts none of it as paired, solo or history', () => {
    const t: SloTimeline = {
      releaseAt: R,
      end: R + 60,
      minutes: [
        { at: R - 60, canary: arm(50, 50), baseline: arm(1000, 0) },
        { at: R, canary: arm(1000, 0) },
      ],
    };
    const w = windowsOf(slo, t);
    expect(w.paired.canary.total).toBe(0);
    expect(w.solo.sinceReleaseCapped).toEqual({ total: 1000, bad: 0, datapoints: 1 });
    expect(w.history.long).toEqual({ total: 1000, bad: 0, datapoints: 1 });
    // The hour of service: 1000 events of the current version + 1000 of the new one (not its 50 before the release).
    expect(w.solo.hourOfService.total).toBe(2000);
  });

  it('holds the solo short window full only once it lies wholly after the release (all at once)', () => {
    // The short window is 5 min: at R+240 it reaches back to R−60, before the release.
    const clean = repeat(6, alone(1000, 0));
    expect(windowsOf(slo, timeline(clean.slice(0, 4), hourOf(arm(1000, 0)))).solo.fullWindow).toBe(false);
    const five = windowsOf(slo, timeline(clean.slice(0, 5), hourOf(arm(1000, 0))));
    expect(five.solo).toMatchObject({ fullWindow: true, shortMinutes: 5, stretchMinutes: 5 });
  });

  it('holds the solo short window full only once it lies wholly after the last paired minute (after a canary)', () => {
    // Canary m0–m4, then the new version alone from R+300: at R+540 the short window [R+240, R+540)
    // still holds the paired m4; at R+600 it is [R+300, R+600), all alone.
    const minutes = [...repeat(5, both(arm(100, 0), arm(900, 0))), ...repeat(5, alone(1000, 0))];
    const nine = windowsOf(slo, timeline(minutes.slice(0, 9), hourOf(arm(1000, 0))));
    expect(nine.solo).toMatchObject({ fullWindow: false, shortMinutes: 4, stretchMinutes: 4 });
    const ten = windowsOf(slo, timeline(minutes, hourOf(arm(1000, 0))));
    expect(ten.solo).toMatchObject({ fullWindow: true, shortMinutes: 5, stretchMinutes: 5 });
  });
});

describe('windowsOf: history', () => {
  it('reads the current version over the hour before the release and over the short window before it', () => {
    // 55 min at 1 of 1000 bad, then 5 min at 20 of 1000; a minute before the hour (R−3660, all bad) is not read.
    const history = [...repeat(55, arm(1000, 1)), ...repeat(5, arm(1000, 20))];
    const t = timeline([alone(1000, 0)], history);
    const w = windowsOf(slo, { ...t, minutes: [{ at: R - HISTORY_SECONDS - 60, baseline: arm(1000, 1000) }, ...t.minutes] });
    // Long: 60 000 events, 55 + 5 × 20 = 155 bad (2.58×); short: 5000 events, 100 bad (20×).
    expect(w.history.long).toEqual({ total: 60_000, bad: 155, datapoints: 60 });
    expect(w.history.short).toEqual({ total: 5_000, bad: 100, datapoints: 5 });
  });

  it('has no history for a service that did not serve before the release', () => {
    const w = windowsOf(slo, timeline([alone(1000, 0)]));
    expect(w.history.long).toEqual({ total: 0, bad: 0, datapoints: 0 });
    expect(w.history.short).toEqual({ total: 0, bad: 0, datapoints: 0 });
  });
});

describe('windowsOf: reference', () => {
  it('picks, of the suffixes of the last short window with enough events, the one that failed most', () => {
    // Last 5 min before the release: 100/0, 100/0, 100/0, 100/10, 50/0 (R−300 … R−60). Suffixes:
    // 50 events (< 70, skipped), 150 with 10 bad (6.67 %), 250 (4 %), 350 (2.86 %), 450 (2.22 %).
    // R−360 (1000 with 500 bad) lies outside the last short window: it would make a suffix of 35 %.
    const history = [...repeat(54, arm(100, 0)), arm(1000, 500), arm(100, 0), arm(100, 0), arm(100, 0), arm(100, 10), arm(50, 0)];
    const w = windowsOf(slo, timeline(repeat(5, alone(1000, 0)), history));
    // The comparison is tested against the whole last short window: 450 events, 10 bad.
    expect(w.reference).toEqual({ counts: { total: 150, bad: 10, datapoints: 2 }, minutes: 2, window: { total: 450, bad: 10, datapoints: 5 }, endsAt: R, preRelease: true });
  });

  it('falls back to the last hour when the last short window has too few events', () => {
    // 10 events a minute: 50 in the last 5 min (< 70); 600 in the hour, 5 of them bad (at R−1800).
    const history = hourOf(arm(10, 0)).map((m, i) => (i === 30 ? arm(10, 5) : m));
    const w = windowsOf(slo, timeline(repeat(5, alone(1000, 0)), history));
    expect(w.reference).toEqual({ counts: { total: 600, bad: 5, datapoints: 60 }, minutes: 60, window: { total: 600, bad: 5, datapoints: 60 }, endsAt: R, preRelease: true });
  });

  it('is undefined when the current version served fewer than minEvents in its last hour', () => {
    // 1 event a minute: 60 in the hour, under the 70 needed; one minute of 11 makes it exactly 70.
    expect(windowsOf(slo, timeline(repeat(5, alone(1000, 0)), hourOf(arm(1, 0)))).reference).toBeUndefined();
    const seventy = hourOf(arm(1, 0)).map((m, i) => (i === 0 ? arm(11, 0) : m));
    expect(windowsOf(slo, timeline(repeat(5, alone(1000, 0)), seventy)).reference?.counts).toEqual({ total: 70, bad: 0, datapoints: 60 });
    // No current version at all.
    expect(windowsOf(slo, timeline(repeat(5, alone(1000, 0)))).reference).toBeUndefined();
  });

  it('after a canary, is the current version\'s last minutes of service, not before the release', () => {
    // History 1000/0 a minute; canary m0–m4 with the current version at 900 events, 9 bad (1 %);
    // then the new version alone. Suffixes ending at m4: 900/9 … 4500/45, all 1 %: ties go to the
    // longer, the whole last short window.
    const minutes = [...repeat(5, both(arm(100, 0), arm(900, 9))), ...repeat(5, alone(1000, 0))];
    const w = windowsOf(slo, timeline(minutes, hourOf(arm(1000, 0))));
    const last5 = { total: 4500, bad: 45, datapoints: 5 };
    expect(w.reference).toEqual({ counts: last5, minutes: 5, window: last5, endsAt: R + 300, preRelease: false });
  });

  it('leaves out a last minute of service with less than half the traffic of the one before (the minute traffic switched in)', () => {
    // A 10 % canary for 5 min (the current version 900 a minute, 1 bad), then the minute of the
    // shift: the current version served its last 100 events (10 %: paired), then the new version alone.
    const minutes = [...repeat(5, both(arm(100, 0), arm(900, 1))), both(arm(900, 0), arm(100, 0)), ...repeat(5, alone(1000, 0))];
    const w = windowsOf(slo, timeline(minutes, hourOf(arm(1000, 0))));
    // The shift minute (100 < half of 900) is left out: the reference ends with m4, 4500 events, 5 bad.
    const last5 = { total: 4500, bad: 5, datapoints: 5 };
    expect(w.reference).toEqual({ counts: last5, minutes: 5, window: last5, endsAt: R + 300, preRelease: false });
  });
});

describe('cappedBad', () => {
  it('caps a minute at 1.5 × the page rate, and lets a minute with any bad event count at least one', () => {
    expect(SOLO_MINUTE_CAP).toBe(1.5);
    // Page ratio 14.4 × 0.001 = 1.44 %; the cap is 1.5 × 1.44 % = 2.16 % of the minute's events.
    expect(cappedBad(slo, arm(1000, 500))).toBeCloseTo(21.6, 10);
    expect(cappedBad(slo, arm(1000, 21))).toBe(21); // under the cap: as served
    expect(cappedBad(slo, arm(100, 3))).toBeCloseTo(2.16, 10);
    // 2 events: the cap is 0.0432 events, so at least one counts.
    expect(cappedBad(slo, arm(2, 2))).toBe(1);
    expect(cappedBad(slo, arm(2, 0))).toBe(0);
    // The floor of one gives way at 1 / 0.0216 = 46.3 events.
    expect(cappedBad(slo, arm(46, 46))).toBe(1);
    expect(cappedBad(slo, arm(47, 47))).toBeCloseTo(1.0152, 10);
  });

  it('is what the solo windows count: a 3-minute blip at 50 % adds 64.8, not 1500', () => {
    // 1000 requests/min, 3 of 5 minutes at 500 bad: capped at 21.6 per minute → 64.8 of 5000 =
    // 12.96×, under 14.4×; as served it is 1500 of 5000 (300×).
    const w = windowsOf(slo, timeline([alone(1000, 0), alone(1000, 0), alone(1000, 500), alone(1000, 500), alone(1000, 500)], hourOf(arm(1000, 0))));
    expect(w.solo.short).toEqual({ total: 5000, bad: 1500, datapoints: 5 });
    expect(w.solo.shortCapped.total).toBe(5000);
    expect(w.solo.shortCapped.bad).toBeCloseTo(64.8, 10);
    expect(w.solo.sinceReleaseCapped.bad).toBeCloseTo(64.8, 10);
    expect(w.solo.shortCapped.bad / w.solo.shortCapped.total / slo.errorBudget).toBeLessThan(slo.failBurnRate);
  });
});

describe('windowsOf: the hour of service', () => {
  it("counts the new version's bad events of its stretch alone over every event of both versions in the last hour", () => {
    // Canary 10 % for 10 min (new version 100 events with 5 bad a minute, current one 900), then
    // the new version alone for 5 min at 1000 a minute, the last minute all bad. The hour up to
    // R+900 is [R−2700, R+900): 45 min of history × 1000 = 45 000, 10 paired min × 1000 = 10 000,
    // 5 solo min × 1000 = 5000 → 60 000 events. Bad: the stretch's 1000 only (the 50 of the canary
    // minutes are judged on the paired minutes) → 16.7× the budget.
    const minutes = [...repeat(10, both(arm(100, 5), arm(900, 0))), ...repeat(4, alone(1000, 0)), alone(1000, 1000)];
    const w = windowsOf(slo, timeline(minutes, hourOf(arm(1000, 0))));
    expect(w.solo.hourOfService).toEqual({ total: 60_000, bad: 1000, datapoints: 60 });
  });

  it('reads only the hour before `end`, history included, when the release is minutes old', () => {
    // One minute after the release: [R−3540, R+60) holds 59 min of history (59 000) and the new
    // version's 1000, 870 of them bad → 14.5×.
    const w = windowsOf(slo, timeline([alone(1000, 870)], hourOf(arm(1000, 0))));
    expect(w.solo.hourOfService).toEqual({ total: 60_000, bad: 870, datapoints: 60 });
  });
});

describe('bakeDataFor: the timeline from one GetMetricData read', () => {
  const arms = [
    { arm: 'canary' as const, dimensions: { ExecutedVersion: '4' } },
    { arm: 'baseline' as const, dimensions: { ExecutedVersion: '3' } },
  ];
  const complete = (entries: Array<[number, number]>): QueryResult => ({ status: 'Complete', series: new Map(entries) });
  const minutesFrom = (from: number, values: number[]): Array<[number, number]> => values.map((v, i) => [from + 60 * i, v]);

  it('reads the current version before the window start as history, and both versions after it', () => {
    // The read starts 10 min before the release. Current version: 1000 a minute before it
    // (R−120: 30 bad, R−60: 20 bad), 900 a minute at R and R+60 (R: 9 bad), then nothing (full shift).
    // New version: 100, 100, then 1000 a minute (R+120: 10 bad); R+300 is at `end`, not read.
    const results = new Map<string, QueryResult>([
      ['s0_canary_t', complete(minutesFrom(R, [100, 100, 1000, 1000, 1000, 1000]))],
      ['s0_canary_n', complete([[R + 120, 10], [R + 300, 500]])],
      ['s0_baseline_t', complete([...minutesFrom(R - 600, repeat(10, 1000)), [R, 900], [R + 60, 900]])],
      ['s0_baseline_n', complete([[R - 120, 30], [R - 60, 20], [R, 9]])],
    ]);
    const [data] = bakeDataFor([slo], arms, results, R, R + 300);
    expect(data.canary).toEqual({ total: 3200, bad: 10, datapoints: 5 });
    expect(data.canaryShort).toEqual({ total: 3200, bad: 10, datapoints: 5 });
    expect(data.baseline).toEqual({ total: 1800, bad: 9, datapoints: 2 });
    expect(data.timeline).toMatchObject({ releaseAt: R, end: R + 300 });
    expect(data.timeline!.minutes).toHaveLength(15);
    expect(data.timeline!.minutes[8]).toEqual({ at: R - 120, baseline: arm(1000, 30) });
    expect(data.timeline!.minutes[11]).toEqual({ at: R + 60, canary: arm(100, 0), baseline: arm(900, 0) });

    const w = windowsOf(slo, data.timeline!);
    expect(w.history.long).toEqual({ total: 10_000, bad: 50, datapoints: 10 });
    expect(w.history.short).toEqual({ total: 5_000, bad: 50, datapoints: 5 });
    // Two minutes side by side are fewer than a short window: no paired minutes; all five are solo.
    expect(w.paired.canary).toEqual({ total: 0, bad: 0, datapoints: 0 });
    expect(w.solo.short).toEqual({ total: 3200, bad: 10, datapoints: 5 });
    // The reference is the current version before the release (its R and R+60 minutes are not
    // paired): suffixes from R−60: 1000/20 (2 %), 2000/50 (2.5 %), 3000/50, 4000/50, 5000/50 → 2000/50.
    expect(w.reference).toEqual({ counts: { total: 2000, bad: 50, datapoints: 2 }, minutes: 2, window: { total: 5000, bad: 50, datapoints: 5 }, endsAt: R, preRelease: true });
  });

  it("counts bad events as total − good when the numerator is the good events", () => {
    const good: EvaluatorSlo = { ...slo, numeratorKind: 'good' };
    // New version 100 a minute with 98, 100, 95, 100, 100 good → 2 + 0 + 5 + 0 + 0 = 7 bad;
    // current version 1000 a minute before the release with 990 good → 10 bad a minute.
    const results = new Map<string, QueryResult>([
      ['s0_canary_t', complete(minutesFrom(R, repeat(5, 100)))],
      ['s0_canary_n', complete(minutesFrom(R, [98, 100, 95, 100, 100]))],
      ['s0_baseline_t', complete(minutesFrom(R - 300, repeat(5, 1000)))],
      ['s0_baseline_n', complete(minutesFrom(R - 300, repeat(5, 990)))],
    ]);
    const [data] = bakeDataFor([good], arms, results, R, R + 300);
    expect(data.canary).toEqual({ total: 500, bad: 7, datapoints: 5 });
    expect(data.timeline!.minutes.slice(5).map((m) => m.canary)).toEqual([arm(100, 2), arm(100, 0), arm(100, 5), arm(100, 0), arm(100, 0)]);
    const w = windowsOf(good, data.timeline!);
    expect(w.history.long).toEqual({ total: 5000, bad: 50, datapoints: 5 });
    expect(w.solo.short).toEqual({ total: 500, bad: 7, datapoints: 5 });
  });
});
