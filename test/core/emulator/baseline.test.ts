import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EmulationResult, SliPoint, emulate, relativeWindowBurnRate, windowBurnRate } from '../../../lib/core/emulator';
import { lambdaService } from '../simulator/fixtures';
import { expectRtError } from '../helpers';
import { ROLLBACK_ALARM, rollbackAlarmPolicy, series } from './fixtures';

// The rollback alarm of a RollbackTrigger on a 99.9 % SLO (relativeBurnRateExpression):
//   IF(total >= 70, IF(baseTotal >= 70, IF(ratio > 2 * baseBad / baseTotal, ratio, 0), 0), 0) / 0.001
// over a 1 h window, ≥ 14.4×, 1 of 1, notBreaching; ratio = the new version's bad / total, the
// baseline the old version's own traffic on the same window. With fewer than 70 old-version events
// in the window the alarm HOLDS (0): the evaluator, comparing over the whole shift, decides.
//
// Traffic below, unless a test says otherwise: 1,000 requests a minute; before the release
// (minute 0) all on the old version; a 10 % canary for 10 minutes (100 new, 900 old a minute),
// then all 1,000 on the new version and none on the old one.

const ID = ROLLBACK_ALARM.id;
const policy = rollbackAlarmPolicy();
const alarm = { minEvents: ROLLBACK_ALARM.minEvents, errorBudget: ROLLBACK_ALARM.errorBudget, baseline: { factor: ROLLBACK_ALARM.factor } };

type Bad = (minute: number, requests: number) => number;

/** The new version's series: 100 a minute during the canary (minutes 0–9), then 1,000. */
function newVersion(bad: Bad, until = 130, canaryMinutes = 10): SliPoint[] {
  return series(0, until, (m) => (m < canaryMinutes ? 100 : 1_000), bad);
}

/** The old version's series: 1,000 a minute from minute −200, 900 during the canary, then nothing. */
function oldVersion(bad: Bad, canaryMinutes = 10): SliPoint[] {
  return series(-200, canaryMinutes - 1, (m) => (m < 0 ? 1_000 : 900), bad);
}

function run(canary: SliPoint[], baseline: SliPoint[] | undefined, to = 130): EmulationResult {
  return emulate(
    { policy, sli: { [ID]: canary }, ...(baseline ? { baselines: { [ID]: { factor: ROLLBACK_ALARM.factor, series: baseline } } } : {}) },
    { fromMinute: 0, toMinute: to },
  );
}

const firstAlarm = (result: EmulationResult) => result.summary.windows[0].firstAlarmMinute;
const valueAt = (result: EmulationResult, minute: number) => result.timeline.find((e) => e.minute === minute)!.values[ID];
const stateAt = (result: EmulationResult, minute: number) => result.timeline.find((e) => e.minute === minute)!.states[ID];

describe('the rollback alarm of a synthesized RollbackTrigger', () => {
  it('has the numbers these tests use: 1 h, 14.4×, 70 events, rest-of-blended with factor 2', () => {
    const { policy: synthesized } = lambdaService();
    const rollback = synthesized.rollbackTriggers![0].alarms[0];
    expect(rollback).toMatchObject({ scope: 'version', minEvents: ROLLBACK_ALARM.minEvents, baseline: { mode: 'rest-of-blended', factor: ROLLBACK_ALARM.factor } });
    expect(rollback.tier).toMatchObject({ longWindowSeconds: ROLLBACK_ALARM.windowSeconds, factor: ROLLBACK_ALARM.threshold });
    expect(synthesized.slos[0].errorBudget).toBeCloseTo(ROLLBACK_ALARM.errorBudget, 12);
  });
});

describe('relativeWindowBurnRate, the datapoint of one window', () => {
  const none = { datapoints: 0, total: 0, bad: 0 };
  it.each([
    // [what, new version {datapoints, total, bad}, old version, expected]
    ['no datapoint of the new version: no value, whatever the old version did', none, { datapoints: 60, total: 60_000, bad: 60_000 }, undefined],
    ['fewer than 70 events of the new version: 0, even all failed', { datapoints: 1, total: 69, bad: 69 }, { datapoints: 60, total: 60_000, bad: 0 }, 0],
    // 100 of 100 vs 0 of 59,900: 1 > 2 × 0 → 1 ÷ 0.001.
    ['a broken new version beside a healthy old one: its burn', { datapoints: 1, total: 100, bad: 100 }, { datapoints: 60, total: 59_900, bad: 0 }, 1_000],
    // 5 % vs 5 %: 0.05 > 0.1 is false.
    ['both failing equally: 0', { datapoints: 1, total: 100, bad: 5 }, { datapoints: 60, total: 59_900, bad: 2_995 }, 0],
    // 10 of 100 = 0.1 vs 2 × (50 of 1,000) = 0.1: not strictly above.
    ['exactly factor × the old ratio: 0 (strict >)', { datapoints: 1, total: 100, bad: 10 }, { datapoints: 1, total: 1_000, bad: 50 }, 0],
    // 11 of 100 = 0.11 > 0.1, but e = 10 and (11 − 10)² = 1 ≤ 9 × 11: noise, not a regression.
    ['above factor × the old ratio by less than three standard deviations: 0', { datapoints: 1, total: 100, bad: 11 }, { datapoints: 1, total: 1_000, bad: 50 }, 0],
    // 20 of 100: (20 − 10)² = 100 ≤ 99? no, 100 > 99 → the whole burn, 0.2 ÷ 0.001.
    ['three standard deviations above factor × the old ratio: the whole burn, not the excess', { datapoints: 1, total: 100, bad: 20 }, { datapoints: 1, total: 1_000, bad: 50 }, 200],
    // 19 of 100: (19 − 10)² = 81 ≤ 99 → holds.
    ['just under three standard deviations: 0', { datapoints: 1, total: 100, bad: 19 }, { datapoints: 1, total: 1_000, bad: 50 }, 0],
    // A clean old version predicts e = 0: (bad − 0)² > 9 × 1 needs 4 bad events (2 of 102 read as 19.6× alone).
    ['three bad events beside a clean old version: 0 (the first hundred events of a canary)', { datapoints: 1, total: 100, bad: 3 }, { datapoints: 5, total: 4_900, bad: 0 }, 0],
    ['four bad events beside a clean old version: the burn', { datapoints: 1, total: 100, bad: 4 }, { datapoints: 5, total: 4_900, bad: 0 }, 40],
    // 100 events of the new version against 99 of the old: most of its minutes have no old traffic beside them.
    ['an old version that served fewer events than the new one: the alarm holds', { datapoints: 5, total: 100, bad: 100 }, { datapoints: 1, total: 99, bad: 0 }, 0],
    // The old version's 69 events are below the guard: the alarm holds, although the new version's
    // 10 of 100 alone would be 100× (and 10 % < 2 × 100 % anyway; the next row has a clean one).
    ['an old version under 70 events: the alarm holds', { datapoints: 1, total: 100, bad: 10 }, { datapoints: 1, total: 69, bad: 69 }, 0],
    // 69 clean old events: 10 % > 2 × 0 % would burn 100×, but 69 < 70 holds it.
    ['an old version under 70 events holds even when it is clean', { datapoints: 1, total: 100, bad: 10 }, { datapoints: 1, total: 69, bad: 0 }, 0],
    // 70 clean old events beside 70 new: 10 of 70 > 2 × 0 % by (10)² > 9 → 10 ÷ 70 ÷ 0.001.
    ['an old version of exactly 70 clean events: the burn counts', { datapoints: 1, total: 70, bad: 10 }, { datapoints: 1, total: 70, bad: 0 }, 10 / 70 / 0.001],
    // 70 events at 50 %: e = 2 × 0.5 × 70 = 70 > 10.
    ['an old version of exactly 70 events counts', { datapoints: 1, total: 70, bad: 10 }, { datapoints: 1, total: 70, bad: 35 }, 0],
    // FILL makes the old version 0 events < 70: holds, though the new version alone is 100×.
    ['no old datapoint at all (FILL → 0): the alarm holds', { datapoints: 1, total: 100, bad: 10 }, none, 0],
    // 0 of 100 vs 0 of 59,900: 0 > 2 × 0 is false.
    ['a clean new version never burns', { datapoints: 1, total: 100, bad: 0 }, { datapoints: 60, total: 59_900, bad: 0 }, 0],
  ])('%s', (_what, canary, baseline, expected) => {
    const value = relativeWindowBurnRate(alarm, canary, baseline);
    if (expected === undefined) expect(value).toBeUndefined();
    else expect(value).toBeCloseTo(expected, 9);
  });

  it('with factor 0 is the plain burn rate', () => {
    const plain = { minEvents: 70, errorBudget: 0.001 };
    for (const canary of [{ datapoints: 1, total: 100, bad: 7 }, { datapoints: 2, total: 69, bad: 3 }, { datapoints: 0, total: 0, bad: 0 }]) {
      expect(relativeWindowBurnRate({ ...plain, baseline: { factor: 0 } }, canary, { datapoints: 1, total: 1_000, bad: 1_000 })).toBe(windowBurnRate(plain, canary));
    }
  });
});

describe('emulating the rollback alarm with a baseline (factor 2)', () => {
  it('fires within the first minute for a broken canary beside a healthy old version', () => {
    // The new version fails every request; the old one fails 1 request a minute.
    // Minute 1, window −59 … 0: new 100 of 100 bad (≥ 70 events) = 100 %; old 59 × 1,000 + 900 =
    // 59,900 events, 60 bad = 0.1 %. 100 % > 2 × 0.1 % → 1 ÷ 0.001 = 1,000× ≥ 14.4×.
    const result = run(
      newVersion((_m, r) => r),
      oldVersion(() => 1),
    );
    expect(firstAlarm(result)).toBe(1);
    expect(valueAt(result, 1)).toBe(1_000);
    expect(stateAt(result, 0)).toBe('OK'); // no datapoint of the new version yet: notBreaching
    expect(valueAt(result, 0)).toBeNull();
  });

  describe('a pre-existing incident: both versions fail 5 % from minute −120', () => {
    const canary = newVersion((_m, r) => r / 20);
    const baseline = oldVersion((m, r) => (m >= -120 ? r / 20 : 0));
    const relative = run(canary, baseline);
    const plain = run(canary, undefined);

    it('the burn alone fires at minute 1 (50×); with the baseline the alarm holds', () => {
      // Minute 1: new 5 of 100 = 5 % → 50×. Old: 59 × 50 + 45 = 2,995 of 59,900 = 5 %.
      // 5 % > 2 × 5 % is false → 0.
      expect(firstAlarm(plain)).toBe(1);
      expect(valueAt(plain, 1)).toBeCloseTo(50, 9);
      expect(valueAt(relative, 1)).toBe(0);
      for (let t = 1; t <= 69; t++) expect(stateAt(relative, t), `minute ${t}`).toBe('OK');
    });

    it('and still holds once the old version has left the window (minute 70 on): the evaluator decides', () => {
      // The old version's last minute is 9 (all traffic shifted at minute 10). Minute 69's window
      // (9 … 68) still holds its 900 events (45 bad, 5 %): 5 % > 10 % is false → 0. Minute 70's
      // (10 … 69) none: FILL makes them 0 < 70 events and the alarm holds at 0, though the new
      // version alone (3,000 of 60,000 = 5 %) burns 50×, as the plain alarm shows.
      expect(valueAt(relative, 69)).toBe(0);
      expect(valueAt(relative, 70)).toBe(0);
      expect(valueAt(plain, 70)).toBeCloseTo(50, 9);
      expect(firstAlarm(relative)).toBeNull();
      // Minute 0 has no new-version datapoint; every later window gives 0.
      expect(relative.timeline.map((e) => e.values[ID])).toEqual([null, ...Array.from({ length: 130 }, () => 0)]);
    });
  });

  describe('a 90-second blip every request of both versions fails (one minute at 100 %, the next at 50 %)', () => {
    const blip = (start: number): Bad => (m, r) => (m === start ? r : m === start + 1 ? r / 2 : 0);

    it('once the canary has served 40 minutes of the window, the alarm holds', () => {
      // A 60-minute canary step at 10 %, blip at minutes 40–41.
      // Minute 41 (window −19 … 40): new 4,100 events, 100 bad = 2.44 % (24.4×, above 14.4×); old
      //   19 × 1,000 + 41 × 900 = 55,900 events, 900 bad = 1.61 %; 2.44 % > 3.22 % is false → 0.
      // Minute 42 (window −18 … 41): new 4,200 events, 150 bad = 3.57 % (35.7×); old 18,000 +
      //   42 × 900 = 55,800 events, 1,350 bad = 2.42 %; 3.57 % > 4.84 % is false → 0.
      // Later windows hold more of the new version's minutes: its ratio only nears the old one's.
      const canary = newVersion(blip(40), 130, 60);
      const baseline = oldVersion(blip(40), 60);
      const relative = run(canary, baseline);
      const plain = run(canary, undefined);
      expect(firstAlarm(plain)).toBe(41);
      expect(valueAt(plain, 41)).toBeCloseTo(24.39, 2);
      expect(valueAt(plain, 42)).toBeCloseTo(35.71, 2);
      expect(firstAlarm(relative)).toBeNull();
      // Minute 0 has no datapoint of the new version yet; every later window gives 0.
      expect(result(relative)).toEqual([null, ...Array.from({ length: 130 }, () => 0)]);
    });

    it('in the canary\'s first minutes it still fires: the old version\'s window holds an hour of clean history, the canary\'s only its own minutes', () => {
      // Blip at minutes 2–3 of a 10-minute canary. Minute 3 (window −57 … 2): new 300 events, 100 bad
      // = 33.3 % → 333×; old 57 × 1,000 + 3 × 900 = 59,700 events, 900 bad = 1.51 %. 33.3 % > 3.02 %.
      // In general a shared blip of b minutes t minutes after the release gives the new version
      // b ÷ t and the old one about b ÷ 60: above 2× while t < 30.
      const relative = run(newVersion(blip(2)), oldVersion(blip(2)));
      expect(firstAlarm(relative)).toBe(3);
      expect(valueAt(relative, 3)).toBeCloseTo(333.33, 2);
    });

    function result(r: EmulationResult): (number | null)[] {
      return r.timeline.map((e) => e.values[ID]);
    }
  });

  it('holds once the old version has no traffic in the window (all at once): the evaluator decides', () => {
    // All at once at minute 0: the old version's last minute is −1. The new version serves 1,000 a
    // minute and fails every request of minute 65. Minute 66 (window 6 … 65): 1,000 of 60,000 bad
    // = 1.67 % → 16.7× ≥ 14.4× without a baseline; the old version has no datapoint in the window
    // (FILL → 0 events < 70), so the alarm holds at 0.
    const canary = series(0, 130, 1_000, (m, r) => (m === 65 ? r : 0));
    const baseline = series(-200, -1, 1_000, () => 0);
    const relative = run(canary, baseline);
    const plain = run(canary, undefined);
    expect(firstAlarm(plain)).toBe(66);
    expect(valueAt(plain, 66)).toBeCloseTo(16.67, 2);
    expect(valueAt(relative, 66)).toBe(0);
    expect(firstAlarm(relative)).toBeNull();
    // Every window with a new-version datapoint gives 0 (minute 0 has none).
    expect(relative.timeline.map((e) => e.values[ID])).toEqual(plain.timeline.map((e) => (e.values[ID] === null ? null : 0)));
  });

  it('with an empty baseline series (no old-version entries at all) holds every minute the plain alarm has a value', () => {
    // The new version fails 10 % in minutes 20–24 (100 of 1,000 a minute → 500 bad). Minute 25
    // (window −35 … 24): 10 × 100 + 15 × 1,000 = 16,000 events, 500 bad = 3.125 % → 31.25× ≥ 14.4×
    // without a baseline. The old version has 0 events every window (< 70): the alarm holds at 0 throughout.
    const canary = newVersion((m, r) => (m >= 20 && m < 25 ? r / 10 : 0));
    const relative = run(canary, []);
    const plain = run(canary, undefined);
    expect(valueAt(plain, 25)).toBeCloseTo(31.25, 9);
    expect(valueAt(relative, 25)).toBe(0);
    expect(firstAlarm(relative)).toBeNull();
    expect(relative.timeline.map((e) => e.values[ID])).toEqual(plain.timeline.map((e) => (e.values[ID] === null ? null : 0)));
    expect(relative.transitions.filter((t) => t.to === 'ALARM')).toEqual([]);
  });

  it('a missing new-version datapoint is notBreaching, however badly the old version fails', () => {
    // The new version served minutes 0–4 only; the old one fails everything from minute 0. From
    // minute 65 the new version's window is empty: no value. (The evaluation range keeps the last
    // windows with data for 2 more windows, in which the new version was clean.)
    const result = run(
      series(0, 4, 100, () => 0),
      oldVersion((m, r) => (m >= 0 ? r : 0)),
      250,
    );
    expect(firstAlarm(result)).toBeNull();
    expect(valueAt(result, 65)).toBeNull();
    expect(stateAt(result, 250)).toBe('OK');
  });

  it('describes the alarm with its factor', () => {
    const result = run(newVersion(() => 0), []);
    expect(result.alarms).toEqual([{ id: ID, kind: 'window', slo: ID, periodMinutes: 60, threshold: 14.4, baselineFactor: 2 }]);
    expect(run(newVersion(() => 0), undefined).alarms[0].baselineFactor).toBeUndefined();
  });

  it('counts the baseline series in the default evaluation range', () => {
    const result = emulate({ policy, sli: { [ID]: [{ minute: 5, total: 100, bad: 0 }] }, baselines: { [ID]: { factor: 2, series: [{ minute: -3, total: 1, bad: 0 }] } } });
    expect(result.fromMinute).toBe(-3);
    expect(result.toMinute).toBe(6);
  });
});

describe('a baseline only ever holds an alarm back', () => {
  const HORIZON = 150;
  const minuteArb = fc.option(fc.record({ total: fc.integer({ min: 0, max: 400 }), share: fc.double({ min: 0, max: 1, noNaN: true }) }), { nil: undefined, freq: 6 });
  const seriesArb = fc.array(minuteArb, { minLength: HORIZON + 1, maxLength: HORIZON + 1 });
  const toSeries = (minutes: readonly ({ total: number; share: number } | undefined)[]): SliPoint[] =>
    minutes.flatMap((m, minute) => (m === undefined ? [] : [{ minute, total: m.total, bad: Math.floor(m.total * m.share * m.share) }]));

  it('its value never exceeds the plain burn rate, and it is in ALARM only when the plain alarm is', () => {
    fc.assert(
      fc.property(seriesArb, seriesArb, fc.integer({ min: 0, max: 4 }), fc.constantFrom(0, 1, 1.5, 2, 3), (canaryMinutes, oldMinutes, delay, factor) => {
        const canary = toSeries(canaryMinutes);
        const options = { fromMinute: 0, toMinute: HORIZON + delay + 1, ingestionDelayMinutes: delay };
        const relative = emulate({ policy, sli: { [ID]: canary }, baselines: { [ID]: { factor, series: toSeries(oldMinutes) } } }, options);
        const plain = emulate({ policy, sli: { [ID]: canary } }, options);
        relative.timeline.forEach((entry, i) => {
          const p = plain.timeline[i];
          const v = entry.values[ID];
          // Missing exactly when the new version's window is: the baseline never adds or removes data.
          expect(v === null, `minute ${entry.minute}`).toBe(p.values[ID] === null);
          if (v !== null) expect(v === 0 || v === p.values[ID], `minute ${entry.minute}: ${v} vs ${p.values[ID]}`).toBe(true);
          if (entry.states[ID] === 'ALARM') expect(p.states[ID], `minute ${entry.minute}`).toBe('ALARM');
        });
      }),
      { numRuns: 80 },
    );
  });
});

describe('emulate rejects a baseline it cannot evaluate', () => {
  const canary = newVersion(() => 0);
  const withBaseline = (baselines: unknown) => () => emulate({ policy, sli: { [ID]: canary }, baselines: baselines as never });

  it('RT505 for an alarm id the policy does not hold', () => {
    expect(expectRtError(withBaseline({ 'Svc/Other': { factor: 2, series: [] } }), 'RT505').message).toMatch(
      /a baseline is given for "Svc\/Other", which is no window alarm of the policy \(window alarms: Svc\/Rollback\/Availability\/version\/page-1h\)/,
    );
  });

  it('RT505 for a missing series', () => {
    expect(expectRtError(withBaseline({ [ID]: { factor: 2 } }), 'RT505').message).toMatch(/no baseline series for window alarm .*page-1h/);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, undefined])('RT504 for the factor %s', (factor) => {
    expect(expectRtError(withBaseline({ [ID]: { factor, series: [] } }), 'RT504').message).toMatch(/the baseline factor must be a finite number ≥ 0/);
  });

  it('RT502 for an invalid baseline series, naming it', () => {
    const bad = [{ minute: 0, total: 5, bad: 6 }];
    expect(expectRtError(withBaseline({ [ID]: { factor: 2, series: bad } }), 'RT502').message).toMatch(/baseline series of .*page-1h, entry 0 \(minute 0\): bad \(6\) must not exceed total \(5\)/);
  });
});
