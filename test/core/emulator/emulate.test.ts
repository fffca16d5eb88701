import { describe, expect, it } from 'vitest';
import { POLICY_SCHEMA_VERSION, RollbackPolicy, detectionRangeSeconds, detectionSeconds } from '../../../lib/core';
import type { PolicySlo, PolicyThresholdTrigger } from '../../../lib/core';
import { DEFAULT_COMPOSITE_DELAY_MINUTES, DEFAULT_EXTRA_RANGE_PERIODS, EmulationResult, SliPoint, emulate, rollingDatapoints } from '../../../lib/core/emulator';
import { AlarmLayout } from '../../../lib';
import { expectRtError } from '../helpers';
import { DAY_MINUTES, series, steadyIncident, synthesizedSlo } from './fixtures';

// One synthesized SLO serves every test that does not change its props: in the per-tier layout,
// whose composite per tier these tests read (the default EXACT layout is compared with it below).
const checkout = synthesizedSlo({ alarmLayout: AlarmLayout.PER_TIER });
const exactCheckout = synthesizedSlo();
const PATH = checkout.path; // 'Shop/Checkout'
const tierIds = (tier: string) => ({ tier: `${PATH}/${tier}`, long: `${PATH}/${tier}/long`, short: `${PATH}/${tier}/short` });
const PAGE_1H = tierIds('page-1h');

function run(points: readonly SliPoint[], options: Parameters<typeof emulate>[1] = {}, policy: RollbackPolicy = checkout.policy): EmulationResult {
  return emulate({ policy, sli: { [PATH]: points } }, options);
}

const firstAlarm = (result: EmulationResult, id: string) =>
  [...result.summary.tiers, ...result.summary.severities, ...result.summary.windows, ...result.summary.triggers].find((f) => f.id === id)!.firstAlarmMinute;
const stateAt = (result: EmulationResult, id: string, minute: number) => result.timeline.find((e) => e.minute === minute)!.states[id];
const valueAt = (result: EmulationResult, id: string, minute: number) => result.timeline.find((e) => e.minute === minute)!.values[id];

/** A copy of the SLO's policy with every window alarm's TreatMissingData replaced. */
function withTreatMissingData(treatMissingData: PolicySlo['alarms'][number]['treatMissingData']): RollbackPolicy {
  const slo = checkout.policy.slos[0];
  return { ...checkout.policy, slos: [{ ...slo, alarms: slo.alarms.map((a) => ({ ...a, treatMissingData })) }] };
}

describe('the emulator on the workbook tiers of a 99.9 % SLO at 1,000 requests a minute', () => {
  const tiers = checkout.policy.slos[0].tiers;

  it('uses the synthesized policy: four tiers, eight window alarms, two severities', () => {
    const result = run(steadyIncident(0, 10), { fromMinute: 0 });
    expect(result.summary.tiers.map((t) => t.id)).toEqual(['page-1h', 'page-6h', 'ticket-1d', 'ticket-3d'].map((t) => `${PATH}/${t}`));
    expect(result.summary.windows).toHaveLength(8);
    expect(result.summary.severities.map((s) => s.id)).toEqual([`${PATH}/page`, `${PATH}/ticket`]);
  });

  // Hand-computed: the 1 h window needs an error ratio of 14.4 × 0.1 % = 1.44 %.
  // Outage: at minute 1 the window holds 59 clean minutes and 1 failed one: 1/60 = 1.67 % → 16.7×;
  //   the 5-minute window holds 1/5 = 20 % → 200×.
  // 10 %: k failed minutes give 0.1·k/60 ≥ 1.44 % from k = 9 (8.64 rounded up): 15×.
  // 2 %: 0.02·k/60 ≥ 1.44 % from k = 44 (43.2 rounded up): 14.67×.
  it.each([
    [1, 1, 16.667, 200],
    [0.1, 9, 15, 100],
    [0.02, 44, 14.667, 20],
  ])('at %s errors page-1h fires at minute %s (long %s×, short %s×)', (ratio, minute, longBurn, shortBurn) => {
    const result = run(steadyIncident(ratio, 300), { fromMinute: 0, toMinute: 300 });
    expect(firstAlarm(result, PAGE_1H.tier)).toBe(minute);
    expect(firstAlarm(result, `${PATH}/page`)).toBe(minute);
    const page = result.summary.tiers.find((t) => t.id === PAGE_1H.tier)!;
    expect(page.values[PAGE_1H.long]).toBeCloseTo(longBurn, 2);
    expect(page.values[PAGE_1H.short]).toBeCloseTo(shortBurn, 2);
    expect(stateAt(result, PAGE_1H.tier, minute - 1)).toBe('OK');
  });

  it.each([1, 0.1, 0.02])('agrees with the plan (detectionSeconds, detectionRangeSeconds) on every tier at %s errors', (ratio) => {
    const result = run(steadyIncident(ratio, 400), { fromMinute: 0, toMinute: 400 });
    for (const tier of tiers) {
      const planned = detectionSeconds(tier, ratio);
      const range = detectionRangeSeconds(tier, ratio)!;
      expect(planned, tier.name).toBeDefined();
      expect(range.earliestSeconds, tier.name).toBe(planned);
      const fired = firstAlarm(result, `${PATH}/${tier.name}`)!;
      if (tier.name === 'ticket-3d') {
        // The 3-day window is evaluated on the hour: the errors start at minute 0, so it breaches
        // between two evaluations and fires at the next one.
        expect(fired % 60, tier.name).toBe(0);
        expect(fired * 60).toBeGreaterThanOrEqual(range.earliestSeconds);
        expect(fired * 60).toBeLessThanOrEqual(range.latestSeconds);
      } else {
        expect(range.latestSeconds, tier.name).toBe(planned);
        expect(fired, tier.name).toBe(planned! / 60);
      }
    }
  });

  it('never fires a tier below its error-ratio threshold', () => {
    // 1.4 % is under page-1h's 1.44 %; 0.5 % is under page-6h's 0.6 %.
    const result = run(steadyIncident(0.005, 1_000), { fromMinute: 0 });
    expect(firstAlarm(result, PAGE_1H.tier)).toBeNull();
    expect(firstAlarm(result, `${PATH}/page-6h`)).toBeNull();
    expect(firstAlarm(result, `${PATH}/page`)).toBeNull();
    // 0.5 % is above ticket-1d's 0.3 %: 0.003 × 1,440 / 0.005 = 864 minutes.
    expect(firstAlarm(result, `${PATH}/ticket-1d`)).toBe(detectionSeconds(tiers[2], 0.005)! / 60);
  });

  it('clears the tier when the errors stop and the short window recovers', () => {
    const points = series(-3 * DAY_MINUTES, 120, 1_000, (m, t) => (m >= 0 && m < 10 ? t : 0));
    const result = run(points, { fromMinute: 0 });
    expect(firstAlarm(result, PAGE_1H.tier)).toBe(1);
    // The 5-minute window is clean again from minute 15 on (minutes 10 … 14).
    expect(stateAt(result, PAGE_1H.short, 14)).toBe('ALARM');
    expect(stateAt(result, PAGE_1H.short, 15)).toBe('OK');
    expect(stateAt(result, PAGE_1H.tier, 15)).toBe('OK');
    expect(stateAt(result, PAGE_1H.long, 15)).toBe('ALARM'); // 10 failed minutes of 60 still burn
    expect(result.transitions.filter((t) => t.id === PAGE_1H.tier).map((t) => [t.minute, t.to])).toEqual([
      [0, 'OK'],
      [1, 'ALARM'],
      [15, 'OK'],
    ]);
  });
});

describe('minimum events', () => {
  // 10 requests an hour (one every 6 minutes, zero-request datapoints in between), one failure.
  const quiet = series(-3 * DAY_MINUTES, 3 * DAY_MINUTES, (m) => (m % 6 === 0 ? 1 : 0), (m) => (m === 30 ? 1 : 0));

  it('10 requests an hour with one error never fires any tier', () => {
    const result = run(quiet);
    expect(result.summary.windows.every((w) => w.firstAlarmMinute === null)).toBe(true);
    expect(result.summary.tiers.every((t) => t.firstAlarmMinute === null)).toBe(true);
    // The guard turns the 1 h window's 1-in-10 (a 100× burn) into 0.
    expect(valueAt(result, PAGE_1H.long, 31)).toBe(0);
  });

  it('would page without the guard: the minimum is what keeps one error quiet', () => {
    const slo = checkout.policy.slos[0];
    const unguarded: RollbackPolicy = { ...checkout.policy, slos: [{ ...slo, alarms: slo.alarms.map((a) => ({ ...a, minEvents: 1 })) }] };
    const result = run(quiet, {}, unguarded);
    expect(firstAlarm(result, PAGE_1H.tier)).toBe(31);
    expect(valueAt(result, PAGE_1H.long, 31)).toBeCloseTo(100, 6); // 1 of 10 requests / 0.001
  });

  it('counts events, not minutes: 70 requests in the hour is enough for page-1h', () => {
    expect(checkout.policy.slos[0].alarms.find((a) => a.id === PAGE_1H.long)!.minEvents).toBe(70);
    // 70 requests in minute 0, 7 of them failing (10 %), nothing else in the hour.
    const burst = [{ minute: 0, total: 70, bad: 7 }];
    const result = run(burst, { fromMinute: 0, toMinute: 10 });
    expect(valueAt(result, PAGE_1H.long, 1)).toBeCloseTo(100, 6);
    expect(firstAlarm(result, PAGE_1H.long)).toBe(1);
    const fewer = run([{ minute: 0, total: 69, bad: 7 }], { fromMinute: 0, toMinute: 10 });
    expect(firstAlarm(fewer, PAGE_1H.long)).toBeNull();
  });
});

describe('missing data and zero traffic', () => {
  // Steady clean traffic until minute -1, then 30 minutes with no datapoint at all (gap) or with
  // datapoints of zero requests (zero traffic), then traffic again.
  const before = series(-3 * DAY_MINUTES, -1, 1_000, () => 0);
  const after = series(30, 60, 1_000, () => 0);
  const gap = [...before, ...after];
  const zero = [...before, ...series(0, 29, 0, () => 0), ...after];

  it('a window without datapoints has no value; a window of zero requests has the value 0', () => {
    const gapped = run(gap, { fromMinute: 0, evaluationRangeExtraPeriods: 0 });
    const quiet = run(zero, { fromMinute: 0, evaluationRangeExtraPeriods: 0 });
    expect(valueAt(gapped, PAGE_1H.short, 10)).toBeNull();
    expect(valueAt(quiet, PAGE_1H.short, 10)).toBe(0);
    // With the construct's notBreaching both are OK.
    expect(stateAt(gapped, PAGE_1H.short, 10)).toBe('OK');
    expect(stateAt(quiet, PAGE_1H.short, 10)).toBe('OK');
  });

  it.each([
    ['notBreaching', 'OK'],
    ['breaching', 'ALARM'],
    ['missing', 'INSUFFICIENT_DATA'],
    ['ignore', 'OK'], // keeps the OK it had before the gap
  ] as const)('a gap applies TreatMissingData %s (→ %s); zero traffic is a real, non-breaching datapoint', (treatment, expected) => {
    const policy = withTreatMissingData(treatment);
    const gapped = run(gap, { fromMinute: 0, evaluationRangeExtraPeriods: 0 }, policy);
    const quiet = run(zero, { fromMinute: 0, evaluationRangeExtraPeriods: 0 }, policy);
    expect(stateAt(gapped, PAGE_1H.short, 10)).toBe(expected);
    expect(stateAt(quiet, PAGE_1H.short, 10)).toBe('OK');
    // The long window still holds real datapoints; the tier needs both, so only `breaching` could…
    expect(stateAt(gapped, PAGE_1H.long, 10)).toBe('OK');
    // …and it does not: ALARM(short) AND OK(long). INSUFFICIENT_DATA counts as not in ALARM.
    expect(stateAt(gapped, PAGE_1H.tier, 10)).toBe('OK');
  });

  it('with the default evaluation range a window alarm re-evaluates the last window that had data', () => {
    const policy = withTreatMissingData('missing');
    const gapped = run(gap, { fromMinute: 0 }, policy);
    // Minutes 0 … 14 still find a datapoint in one of the 3 most recent 5-minute windows.
    expect(stateAt(gapped, PAGE_1H.short, 14)).toBe('OK');
    expect(stateAt(gapped, PAGE_1H.short, 15)).toBe('INSUFFICIENT_DATA');
    expect(stateAt(gapped, PAGE_1H.short, 31)).toBe('OK');
  });

  it('an alarm with no data at all stays as TreatMissingData says from the first evaluation', () => {
    const result = emulate({ policy: withTreatMissingData('missing'), sli: { [PATH]: [] } }, { fromMinute: 0, toMinute: 5 });
    expect(result.timeline[0].states[PAGE_1H.long]).toBe('INSUFFICIENT_DATA');
    expect(result.timeline[5].states[PAGE_1H.tier]).toBe('OK');
  });
});

describe('ingestion delay', () => {
  it.each([0, 1, 2, 3, 5, 8, 12])('delays the detection of a total outage by exactly %s minutes', (delay) => {
    const result = run(steadyIncident(1, 120), { fromMinute: 0, ingestionDelayMinutes: delay });
    expect(firstAlarm(result, PAGE_1H.tier)).toBe(1 + delay);
    expect(firstAlarm(result, `${PATH}/page`)).toBe(1 + delay);
  });

  it.each([1, 2, 3, 4])('delays the detection of 10 percent errors by exactly %s minutes', (delay) => {
    const result = run(steadyIncident(0.1, 120), { fromMinute: 0, ingestionDelayMinutes: delay });
    expect(firstAlarm(result, PAGE_1H.tier)).toBe(9 + delay);
  });

  it('never delays by more than the delay: a partial window has fewer clean minutes too', () => {
    for (const ratio of [1, 0.1, 0.02]) {
      const base = firstAlarm(run(steadyIncident(ratio, 200), { fromMinute: 0 }), PAGE_1H.tier)!;
      for (let delay = 0; delay <= 10; delay++) {
        const delayed = firstAlarm(run(steadyIncident(ratio, 200), { fromMinute: 0, ingestionDelayMinutes: delay }), PAGE_1H.tier)!;
        expect(delayed - base, `${ratio} with ${delay} min delay`).toBeLessThanOrEqual(delay);
        expect(delayed).toBeGreaterThanOrEqual(base);
      }
    }
    // 2 % with 1 minute delay: at minute 44 the visible 59 minutes hold 43 failed ones
    // (0.02 · 43 / 59 = 1.458 % ≥ 1.44 %), so it fires at 44 as without delay.
    expect(firstAlarm(run(steadyIncident(0.02, 200), { fromMinute: 0, ingestionDelayMinutes: 1 }), PAGE_1H.tier)).toBe(44);
  });

  it('a delay of a whole short window silences the tier when no earlier window is looked at', () => {
    // With 5 minutes of delay the 5-minute window never holds a visible minute.
    const result = run(steadyIncident(1, 120), { fromMinute: 0, ingestionDelayMinutes: 5, evaluationRangeExtraPeriods: 0 });
    expect(firstAlarm(result, PAGE_1H.long)).toBe(6);
    expect(firstAlarm(result, PAGE_1H.short)).toBeNull();
    expect(firstAlarm(result, PAGE_1H.tier)).toBeNull();
  });
});

describe('alarms over a day are evaluated once an hour (CloudWatch: period × evaluation periods > 1 day)', () => {
  const TICKET_3D = tierIds('ticket-3d');
  const TICKET_1D = tierIds('ticket-1d');
  /** 1,000 requests a minute, clean for three days, then `ratio` of them failing from minute `onset` on. */
  const incidentFrom = (onset: number, ratio: number, until: number) => series(-3 * DAY_MINUTES, until, 1_000, (m, t) => (m >= onset ? t * ratio : 0));

  it('marks the 3-day window alarm as evaluated every 60 minutes, and no other', () => {
    const result = run(steadyIncident(0, 5), { fromMinute: 0 });
    const hourly = result.alarms.filter((a) => a.evaluationIntervalMinutes !== undefined);
    expect(hourly).toEqual([expect.objectContaining({ id: TICKET_3D.long, periodMinutes: 4_320, evaluationIntervalMinutes: 60 })]);
    // The 1-day window is exactly one day, not more: every minute.
    expect(result.alarms.find((a) => a.id === TICKET_1D.long)!.evaluationIntervalMinutes).toBeUndefined();
  });

  it('changes the 3-day window alarm’s state only on the hour, and holds state and datapoint in between', () => {
    // A total outage from minute 0: the 3-day window reaches 1× at minute 5 (5 of 4,320 minutes
    // failed = 1.16×), but it is looked at only at minutes 0, 60, 120 …
    const result = run(steadyIncident(1, 130), { fromMinute: 0 });
    const long = result.transitions.filter((t) => t.id === TICKET_3D.long);
    expect(long.map((t) => [t.minute, t.to])).toEqual([
      [0, 'OK'],
      [60, 'ALARM'],
    ]);
    for (const minute of [5, 30, 59]) {
      expect(stateAt(result, TICKET_3D.long, minute), `minute ${minute}`).toBe('OK');
      expect(valueAt(result, TICKET_3D.long, minute), `minute ${minute}`).toBe(0); // minute 0's datapoint
    }
    // At 60 the window holds 60 failed minutes of 4,320: 60,000 / 4,320,000 / 0.001.
    expect(valueAt(result, TICKET_3D.long, 60)).toBeCloseTo(13.889, 3);
    expect(valueAt(result, TICKET_3D.long, 119)).toBeCloseTo(13.889, 3);
    expect(valueAt(result, TICKET_3D.long, 120)).toBeCloseTo(27.778, 3);
    // Its 6 h short window (evaluated every minute) fired at minute 1, so the tier fires at 60…
    expect(firstAlarm(result, TICKET_3D.short)).toBe(1);
    expect(firstAlarm(result, TICKET_3D.tier)).toBe(60);
    // …while the 1-day tier, evaluated every minute, fires at minute 5 and carries the ticket.
    expect(firstAlarm(result, TICKET_1D.long)).toBe(5);
    expect(firstAlarm(result, `${PATH}/ticket`)).toBe(5);
    // The tier's values at its first ALARM are those of the hourly evaluation.
    expect(result.summary.tiers.find((t) => t.id === TICKET_3D.tier)!.values[TICKET_3D.long]).toBeCloseTo(13.889, 3);
  });

  it('recovers only on the hour too', () => {
    // A 100 % outage in minutes 0 … 9, then clean traffic. Minute by minute the 3-day window would
    // burn ≥ 1× from minute 5 (5 failed minutes) to minute 4,325 (minutes 5 … 9 still in it) and
    // drop to 0.93× at 4,326; looked at on the hour it goes to ALARM at 60 and back to OK at 4,380.
    const points = series(-3 * DAY_MINUTES, 4_400, 1_000, (m, t) => (m >= 0 && m < 10 ? t : 0));
    const result = run(points, { fromMinute: 0 });
    expect(result.transitions.filter((t) => t.id === TICKET_3D.long).map((t) => [t.minute, t.to])).toEqual([
      [0, 'OK'],
      [60, 'ALARM'],
      [4_380, 'OK'],
    ]);
    expect(valueAt(result, TICKET_3D.long, 4_379)).toBeCloseTo(10_000 / 4_320_000 / 0.001, 9); // minute 4,320's datapoint
    expect(valueAt(result, TICKET_3D.long, 4_380)).toBe(0);
  });

  it('fires the 3-day tier within the plan’s range wherever in the hour the errors start, reaching both ends', () => {
    const tier = checkout.policy.slos[0].tiers.find((t) => t.name === 'ticket-3d')!;
    for (const ratio of [1, 0.1]) {
      const range = detectionRangeSeconds(tier, ratio)!;
      // The plan's earliest is the minute-by-minute time; the latest 59 minutes more.
      expect(range.earliestSeconds).toBe(detectionSeconds(tier, ratio));
      expect(range.latestSeconds - range.earliestSeconds).toBe(59 * 60);
      const afterOnset: number[] = [];
      for (let onset = 0; onset < 60; onset++) {
        const result = run(incidentFrom(onset, ratio, onset + 130), { fromMinute: 0 });
        const fired = firstAlarm(result, TICKET_3D.tier)!;
        expect(fired % 60, `onset ${onset}`).toBe(0);
        // The first top of the hour at or after the minute the 3-day window breaches.
        expect(fired, `onset ${onset}`).toBe(Math.ceil((onset + range.earliestSeconds / 60) / 60) * 60);
        afterOnset.push((fired - onset) * 60);
      }
      expect(Math.min(...afterOnset), `${ratio}`).toBe(range.earliestSeconds);
      expect(Math.max(...afterOnset), `${ratio}`).toBe(range.latestSeconds);
    }
  });

  it('starts a run in the middle of an hour with the state of the hour’s evaluation, on the data up to it', () => {
    // An outage from minute 0, emulated from minute 30: the 3-day alarm was last evaluated at
    // minute 0 (data up to minute −1, all clean), so it is OK until minute 60.
    const result = run(steadyIncident(1, 130), { fromMinute: 30 });
    expect(stateAt(result, TICKET_3D.long, 30)).toBe('OK');
    expect(valueAt(result, TICKET_3D.long, 30)).toBe(0);
    expect(stateAt(result, TICKET_3D.long, 59)).toBe('OK');
    expect(stateAt(result, TICKET_3D.long, 60)).toBe('ALARM');
    // Minute-evaluated alarms see minute 30's data at minute 30.
    expect(stateAt(result, TICKET_1D.long, 30)).toBe('ALARM');
  });

  it('evaluates hourly on the data visible at the hour: an ingestion delay still counts', () => {
    // 100 % errors from minute 56: the window breaches at minute 61 without delay, so the next
    // evaluation is 120. With 5 minutes of delay it breaches at 66: still 120.
    for (const delay of [0, 5]) {
      const result = run(incidentFrom(56, 1, 200), { fromMinute: 0, ingestionDelayMinutes: delay });
      expect(firstAlarm(result, TICKET_3D.long), `delay ${delay}`).toBe(120);
    }
    // From minute 50: breaches at 55 (fires at 60); with 6 minutes of delay at 61 (fires at 120).
    expect(firstAlarm(run(incidentFrom(50, 1, 200), { fromMinute: 0 }), TICKET_3D.long)).toBe(60);
    expect(firstAlarm(run(incidentFrom(50, 1, 200), { fromMinute: 0, ingestionDelayMinutes: 6 }), TICKET_3D.long)).toBe(120);
  });

  it('applies to threshold triggers too: 25 hourly periods are evaluated hourly, 24 every minute', () => {
    const trigger = (evaluationPeriods: number): PolicyThresholdTrigger => ({
      kind: 'threshold',
      name: 'Backlog',
      path: 'Shop/Backlog',
      comparison: 'GreaterThanThreshold',
      threshold: 10,
      periodSeconds: 3_600,
      evaluationPeriods,
      datapointsToAlarm: 1,
      treatMissingData: 'notBreaching',
      metricCount: 1,
      highResolution: false,
      severity: 'ticket',
    });
    // The datapoint of the hour ending with each minute: 5 until minute 89, then 50.
    const datapoints = Array.from({ length: 200 }, (_, minute) => ({ minute, value: minute < 90 ? 5 : 50 }));
    const runTrigger = (t: PolicyThresholdTrigger) =>
      emulate({ policy: { schemaVersion: POLICY_SCHEMA_VERSION, slos: [], thresholdTriggers: [t] }, sli: {}, metrics: { [t.path]: datapoints } }, { fromMinute: 0, toMinute: 200 });
    const hourly = runTrigger(trigger(25)); // 25 h > 1 day
    expect(hourly.alarms[0].evaluationIntervalMinutes).toBe(60);
    expect(firstAlarm(hourly, 'Shop/Backlog')).toBe(120);
    expect(valueAt(hourly, 'Shop/Backlog', 119)).toBe(5); // minute 60's datapoint, held
    const daily = runTrigger(trigger(24)); // exactly 1 day
    expect(daily.alarms[0].evaluationIntervalMinutes).toBeUndefined();
    expect(firstAlarm(daily, 'Shop/Backlog')).toBe(91); // minute 90's datapoint, visible at 91
  });
});

describe('composite reaction delay (compositeDelayMinutes)', () => {
  const SEVERITY = `${PATH}/page`;

  it('is 0 by default: composites follow their children in the same minute', () => {
    const result = run(steadyIncident(1, 20), { fromMinute: 0 });
    expect(result.compositeDelayMinutes).toBe(0);
    expect(firstAlarm(result, PAGE_1H.long)).toBe(1);
    expect(firstAlarm(result, PAGE_1H.tier)).toBe(1);
    expect(firstAlarm(result, SEVERITY)).toBe(1);
  });

  it.each([1, 2, 5])('with %s minutes a composite reads its children’s states that many minutes back, per level', (delay) => {
    const result = run(steadyIncident(1, 30), { fromMinute: 0, compositeDelayMinutes: delay });
    expect(result.compositeDelayMinutes).toBe(delay);
    // The window alarms are not delayed.
    expect(firstAlarm(result, PAGE_1H.long)).toBe(1);
    expect(firstAlarm(result, PAGE_1H.short)).toBe(1);
    // The tier follows the windows `delay` minutes later, the severity (a composite of tiers) the tier.
    expect(firstAlarm(result, PAGE_1H.tier)).toBe(1 + delay);
    expect(firstAlarm(result, SEVERITY)).toBe(1 + 2 * delay);
    // Nothing to read before fromMinute + delay: the composites stay INSUFFICIENT_DATA until then.
    expect(stateAt(result, PAGE_1H.tier, delay - 1)).toBe('INSUFFICIENT_DATA');
    expect(stateAt(result, PAGE_1H.tier, delay)).toBe('OK');
    expect(result.transitions.find((t) => t.id === PAGE_1H.tier)).toEqual({ minute: delay, id: PAGE_1H.tier, from: 'INSUFFICIENT_DATA', to: 'OK' });
  });

  it.each([0, 1, 3])('in the EXACT layout (one composite per severity, no tier composites) a lag of %s minutes is paid once', (delay) => {
    expect(exactCheckout.policy.slos[0].composites.map((c) => c.id)).toEqual([`${PATH}/page`, `${PATH}/ticket`]);
    const result = run(steadyIncident(1, 30), { fromMinute: 0, compositeDelayMinutes: delay }, exactCheckout.policy);
    expect(firstAlarm(result, PAGE_1H.long)).toBe(1);
    expect(firstAlarm(result, SEVERITY)).toBe(1 + delay);
    // The summary still reports the tier: the minute its term of the page rule held, as a composite reads it.
    expect(firstAlarm(result, PAGE_1H.tier)).toBe(1 + delay);
    expect(result.alarms.some((a) => a.id === PAGE_1H.tier)).toBe(false);
  });

  it('delays the recovery the same way', () => {
    const points = series(-3 * DAY_MINUTES, 60, 1_000, (m, t) => (m >= 0 && m < 10 ? t : 0));
    const plain = run(points, { fromMinute: 0 });
    const delayed = run(points, { fromMinute: 0, compositeDelayMinutes: 3 });
    const okAfterAlarm = (result: EmulationResult) => result.transitions.find((t) => t.id === PAGE_1H.tier && t.from === 'ALARM')!.minute;
    expect(okAfterAlarm(plain)).toBe(15);
    expect(okAfterAlarm(delayed)).toBe(18);
  });
});

describe('composite AND', () => {
  it('a 90-second blip trips the short window but not the long one, and the tier stays quiet', () => {
    // 10 % of the traffic fails for 90 seconds (minute 0 and half of minute 1): 150 failures.
    // The 5-minute window sees 150 / 5,000 = 3 % (30×, above 14.4×); the hour sees
    // 150 / 60,000 = 0.25 % (2.5×).
    const points = series(-3 * DAY_MINUTES, 120, 1_000, (m) => (m === 0 ? 100 : m === 1 ? 50 : 0));
    const result = run(points, { fromMinute: 0 });
    expect(firstAlarm(result, PAGE_1H.short)).toBe(1);
    expect(valueAt(result, PAGE_1H.short, 2)).toBeCloseTo(30, 6);
    expect(valueAt(result, PAGE_1H.long, 2)).toBeCloseTo(2.5, 6);
    expect(firstAlarm(result, PAGE_1H.long)).toBeNull();
    expect(firstAlarm(result, PAGE_1H.tier)).toBeNull();
    expect(firstAlarm(result, `${PATH}/page`)).toBeNull();
  });

  it('a full 90-second outage trips both windows and does fire', () => {
    // 1,500 failures: 2.5 % of the hour (25×) and 30 % of 5 minutes.
    const points = series(-3 * DAY_MINUTES, 120, 1_000, (m, t) => (m === 0 ? t : m === 1 ? t / 2 : 0));
    const result = run(points, { fromMinute: 0 });
    expect(firstAlarm(result, PAGE_1H.tier)).toBe(1);
  });
});

describe('threshold triggers', () => {
  const trigger: PolicyThresholdTrigger = {
    kind: 'threshold',
    name: 'Confidence',
    path: 'Shop/Confidence',
    comparison: 'LessThanThreshold',
    threshold: 0.7,
    periodSeconds: 60,
    evaluationPeriods: 3,
    datapointsToAlarm: 3,
    treatMissingData: 'notBreaching',
    metricCount: 1,
    highResolution: false,
    severity: 'page',
  };
  const policy = (t: PolicyThresholdTrigger = trigger): RollbackPolicy => ({ schemaVersion: POLICY_SCHEMA_VERSION, slos: [], thresholdTriggers: [t] });
  const values = (from: number, vs: readonly (number | undefined)[]) =>
    vs.flatMap((value, i) => (value === undefined ? [] : [{ minute: from + i, value }]));

  it('fires after 3 consecutive breaching minutes, on the third', () => {
    const result = emulate({ policy: policy(), sli: {}, metrics: { [trigger.path]: values(0, [0.9, 0.6, 0.6, 0.6, 0.9]) } });
    // The datapoint of minute m is visible from m + 1: minutes 1 … 3 breach, seen at minute 4.
    expect(firstAlarm(result, trigger.path)).toBe(4);
    expect(result.summary.triggers[0].values).toEqual({ [trigger.path]: 0.6 });
    expect(stateAt(result, trigger.path, 5)).toBe('OK');
  });

  it('follows the guide on gaps: 2 of 3, missing, oldest breaching point old enough', () => {
    const t = { ...trigger, datapointsToAlarm: 2, treatMissingData: 'missing' as const };
    // Range at minute 5 (minutes 0 … 4): - - - X -  → ALARM (premature-alarm rule).
    const result = emulate({ policy: policy(t), sli: {}, metrics: { [t.path]: values(3, [0.1]) } }, { fromMinute: 0, toMinute: 6 });
    expect(stateAt(result, t.path, 4)).toBe('INSUFFICIENT_DATA'); // - - - - X
    expect(stateAt(result, t.path, 5)).toBe('ALARM');
  });

  it('evaluates periods longer than a minute on sliding datapoints', () => {
    const t = { ...trigger, comparison: 'GreaterThanThreshold', threshold: 100, periodSeconds: 300, evaluationPeriods: 1, datapointsToAlarm: 1 };
    // Sums over the 5 minutes ending with each minute: 50, 50, 70, 90, 110 (minute 8) > 100.
    const perMinute = values(-4, [10, 10, 10, 10, 10, 10, 30, 30, 30, 30, 30, 30]);
    const datapoints = rollingDatapoints(perMinute, 5, 'Sum');
    expect(datapoints.filter((p) => p.minute >= 0 && p.minute <= 4).map((p) => p.value)).toEqual([50, 50, 70, 90, 110]);
    const result = emulate({ policy: policy(t), sli: {}, metrics: { [t.path]: datapoints } }, { fromMinute: 0, toMinute: 12 });
    expect(firstAlarm(result, t.path)).toBe(5); // minute 4's datapoint, visible at minute 5
    expect(result.summary.triggers[0].values).toEqual({ [t.path]: 110 });
  });
});

describe('policies with several SLOs', () => {
  it('refuses a tier composite that reads another SLO’s window alarms: every SLO owns its alarms', () => {
    const { policy } = synthesizedSlo({ alarmLayout: AlarmLayout.PER_TIER });
    const owner = policy.slos[0];
    // A second SLO on the same SLI and objective whose tiers read the first one's window alarms
    // (what the constructs rendered while they shared identical alarms).
    const reuser: PolicySlo = {
      ...owner,
      name: 'CheckoutAgain',
      path: 'Shop/CheckoutAgain',
      alarms: [],
      composites: owner.composites.map((c) => ({
        ...c,
        id: c.id.replace(owner.path, 'Shop/CheckoutAgain'),
        children: c.kind === 'severity' ? c.children.map((child) => (child as string).replace(owner.path, 'Shop/CheckoutAgain')) : c.children,
      })),
    };
    const shared: RollbackPolicy = { ...policy, slos: [owner, reuser] };
    const error = expectRtError(() => emulate({ policy: shared, sli: { [owner.path]: steadyIncident(1, 30) } }, { fromMinute: 0 }), 'RT503');
    expect(error.message).toMatch(/tier composite "Shop\/CheckoutAgain\/page-1h" reads "Shop\/Checkout\/page-1h\/long", which is no window alarm of its SLO Shop\/CheckoutAgain/);
  });
});

describe('input checks', () => {
  it.each([
    [[{ minute: 1, total: 10, bad: 0 }, { minute: 1, total: 10, bad: 0 }], /entry 1: minutes must increase strictly, got 1 after 1/],
    [[{ minute: 0.5, total: 10, bad: 0 }], /entry 0: minute must be a whole number, got 0.5/],
    [[{ minute: 0, total: -1, bad: 0 }], /entry 0 \(minute 0\): total must be a finite number ≥ 0, got -1/],
    [[{ minute: 7, total: 10, bad: 11 }], /entry 0 \(minute 7\): bad \(11\) must not exceed total \(10\)/],
  ])('rejects a malformed series, naming the entry and field', (points, message) => {
    const error = expectRtError(() => run(points as SliPoint[]), 'RT502');
    expect(error.message).toMatch(message);
    expect(error.message).toContain(`SLI series of ${PATH}`);
  });

  it('needs a series for every SLO that creates alarms, and a range when all series are empty', () => {
    expect(expectRtError(() => emulate({ policy: checkout.policy, sli: {} }), 'RT505').message).toMatch(/no SLI series for SLO Shop\/Checkout/);
    expectRtError(() => emulate({ policy: checkout.policy, sli: { [PATH]: [] } }), 'RT505');
    expectRtError(() => run(steadyIncident(0, 5), { ingestionDelayMinutes: -1 }), 'RT505');
  });

  it('reports the evaluation-range look-back and the composite delay it used, the defaults when not given', () => {
    const result = run(steadyIncident(0, 5), { fromMinute: 0 });
    expect(result.evaluationRangeExtraPeriods).toBe(DEFAULT_EXTRA_RANGE_PERIODS);
    expect(DEFAULT_EXTRA_RANGE_PERIODS).toBe(2);
    expect(result.compositeDelayMinutes).toBe(DEFAULT_COMPOSITE_DELAY_MINUTES);
    expect(DEFAULT_COMPOSITE_DELAY_MINUTES).toBe(0);
    const explicit = run(steadyIncident(0, 5), { fromMinute: 0, evaluationRangeExtraPeriods: 0, compositeDelayMinutes: 1 });
    expect([explicit.evaluationRangeExtraPeriods, explicit.compositeDelayMinutes]).toEqual([0, 1]);
  });

  it.each([
    ['evaluationRangeExtraPeriods', -1, /evaluationRangeExtraPeriods \(periods every metric alarm looks back beyond EvaluationPeriods\) must be a whole number ≥ 0, got -1/],
    ['evaluationRangeExtraPeriods', 1.5, /evaluationRangeExtraPeriods .* got 1\.5/],
    ['evaluationRangeExtraPeriods', '2', /evaluationRangeExtraPeriods .* got "2"/],
    ['evaluationRangeExtraPeriods', Number.NaN, /evaluationRangeExtraPeriods .* got NaN/],
    ['compositeDelayMinutes', -2, /compositeDelayMinutes \(minutes a composite takes to follow its children\) must be a whole number ≥ 0, got -2/],
    ['compositeDelayMinutes', 0.5, /compositeDelayMinutes .* got 0\.5/],
    ['compositeDelayMinutes', Number.POSITIVE_INFINITY, /compositeDelayMinutes .* got Infinity/],
    ['ingestionDelayMinutes', 2.5, /ingestionDelayMinutes \(minutes of ingestion delay\) must be a whole number ≥ 0, got 2\.5/],
  ] as const)('rejects %s = %s with RT505', (name, value, message) => {
    const options = { fromMinute: 0, [name]: value } as unknown as Parameters<typeof emulate>[1];
    expect(expectRtError(() => run(steadyIncident(0, 5), options), 'RT505').message).toMatch(message);
  });

  it('rejects unknown options (a misspelt one would otherwise be ignored) and options that are no object', () => {
    const misspelt = { fromMinute: 0, compositeDelay: 1 } as unknown as Parameters<typeof emulate>[1];
    expect(expectRtError(() => run(steadyIncident(0, 5), misspelt), 'RT505').message).toMatch(
      /unknown emulator option compositeDelay — the options are ingestionDelayMinutes, fromMinute, toMinute, evaluationRangeExtraPeriods, compositeDelayMinutes/,
    );
    expect(expectRtError(() => run(steadyIncident(0, 5), null as unknown as Parameters<typeof emulate>[1]), 'RT505').message).toMatch(/options must be an object, got null/);
  });

  it('rejects composites with unknown children and alarms it cannot emulate', () => {
    const slo = checkout.policy.slos[0];
    const dangling: RollbackPolicy = { ...checkout.policy, slos: [{ ...slo, composites: [{ ...slo.composites[0], children: ['nowhere'] }] }] };
    expect(expectRtError(() => run([], {}, dangling), 'RT503').message).toMatch(/references "nowhere"/);
    const highRes: RollbackPolicy = { ...checkout.policy, slos: [{ ...slo, alarms: [{ ...slo.alarms[0], windowSeconds: 30 }] }] };
    expectRtError(() => run([], { fromMinute: 0, toMinute: 1 }, highRes), 'RT504');
  });

  it('produces plain JSON', () => {
    const result = run(steadyIncident(0.1, 20), { fromMinute: 0 });
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
  });
});
