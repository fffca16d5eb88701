import { describe, expect, it } from 'vitest';
import { POLICY_SCHEMA_VERSION, RollbackPolicy, detectionSeconds } from '../../../lib/core';
import type { PolicySlo, PolicyThresholdTrigger } from '../../../lib/core';
import { EmulationResult, SliPoint, emulate, rollingDatapoints } from '../../../lib/core/emulator';
import { expectRtError } from '../helpers';
import { DAY_MINUTES, series, steadyIncident, synthesizedSlo } from './fixtures';

// One synthesized SLO serves every test that does not change its props.
const checkout = synthesizedSlo();
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

  it.each([1, 0.1, 0.02])('agrees with the plan (detectionSeconds) on every tier at %s errors', (ratio) => {
    const result = run(steadyIncident(ratio, 300), { fromMinute: 0, toMinute: 300 });
    for (const tier of tiers) {
      const planned = detectionSeconds(tier, ratio);
      expect(planned, tier.name).toBeDefined();
      expect(firstAlarm(result, `${PATH}/${tier.name}`), tier.name).toBe(planned! / 60);
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
  it('resolves window alarms another SLO created and reads that SLO’s series for them', () => {
    const { policy } = synthesizedSlo();
    const owner = policy.slos[0];
    // A second SLO on the same SLI and objective reuses every window alarm (as the construct does).
    const reuser: PolicySlo = {
      ...owner,
      name: 'CheckoutAgain',
      path: 'Shop/CheckoutAgain',
      alarms: [],
      composites: owner.composites.map((c) => ({
        ...c,
        id: c.id.replace(owner.path, 'Shop/CheckoutAgain'),
        children: c.kind === 'severity' ? c.children.map((child) => child.replace(owner.path, 'Shop/CheckoutAgain')) : c.children,
      })),
    };
    const shared: RollbackPolicy = { ...policy, slos: [owner, reuser] };
    const result = emulate({ policy: shared, sli: { [owner.path]: steadyIncident(1, 30) } }, { fromMinute: 0 });
    expect(firstAlarm(result, 'Shop/CheckoutAgain/page-1h')).toBe(1);
    expect(firstAlarm(result, 'Shop/CheckoutAgain/page')).toBe(1);
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
