import { describe, expect, it } from 'vitest';
import { detectionRangeSeconds, detectionSeconds } from '../../../lib/core';
import { emulate } from '../../../lib/core/emulator';
import { DAY_MINUTES, series, synthesizedSlo } from './fixtures';

const { policy, path } = synthesizedSlo();
const tiers = policy.slos[0].tiers;
const WEEK = { fromMinute: 0, toMinute: 7 * DAY_MINUTES - 1 };

describe('a week of minutes through the 8 window alarms of the workbook tiers', () => {
  // Three clean days of history, then 0.23 % errors for five days, then two clean days again.
  // 0.23 % is above ticket-3d's 0.1 % and below every other tier's threshold (ticket-1d: 0.3 %).
  const RATIO = 0.0023;
  const points = series(-3 * DAY_MINUTES, WEEK.toMinute, 1_000, (m, total) => (m >= 0 && m < 5 * DAY_MINUTES ? total * RATIO : 0));
  const result = emulate({ policy, sli: { [path]: points } }, WEEK);

  it('evaluates every minute of the week, every alarm', () => {
    expect(result.timeline).toHaveLength(7 * DAY_MINUTES);
    expect(Object.keys(result.timeline[0].states)).toHaveLength(8 + 2); // the window alarms and one composite per severity (EXACT)
  });

  it('fires only the 3-day ticket tier, when the plan says: at the first hourly evaluation after its window breaches', () => {
    const first = Object.fromEntries(result.summary.tiers.map((t) => [t.id.split('/').pop(), t.firstAlarmMinute]));
    // 1× over 3 days: 0.1 % × 4,320 / 0.23 % = 1,878.3 failing minutes → breached from minute
    // 1,879; the 3-day alarm is evaluated once an hour, next at minute 1,920.
    expect(first).toEqual({ 'page-1h': null, 'page-6h': null, 'ticket-1d': null, 'ticket-3d': 1_920 });
    expect(detectionSeconds(tiers[3], RATIO)! / 60).toBe(1_879);
    const range = detectionRangeSeconds(tiers[3], RATIO)!;
    expect([range.earliestSeconds / 60, range.latestSeconds / 60]).toEqual([1_879, 1_879 + 59]);
    expect(first['ticket-3d']! * 60).toBeGreaterThanOrEqual(range.earliestSeconds);
    expect(first['ticket-3d']! * 60).toBeLessThanOrEqual(range.latestSeconds);
    expect(result.summary.severities.map((s) => s.firstAlarmMinute)).toEqual([null, 1_920]);
  });

  it('clears the ticket when the 6 h short window recovers after the errors stop', () => {
    // Errors stop at minute 7,200. At minute t the 6 h window holds 7,560 − t failing minutes; it
    // drops below 1× once 0.23 % × (7,560 − t) / 360 < 0.1 %, i.e. 7,560 − t ≤ 156: t = 7,404.
    const ticket = `${path}/ticket-3d`;
    // The ticket composite holds only this tier's term that fires, so it follows the tier.
    expect(result.transitions.filter((t) => t.id === `${path}/ticket`).map((t) => [t.minute, t.to])).toEqual([
      [0, 'OK'],
      [1_920, 'ALARM'],
      [7_404, 'OK'],
    ]);
    // The short window is evaluated every minute, so the tier clears off the hour.
    expect(result.transitions.filter((t) => t.id === `${ticket}/long`).every((t) => t.minute % 60 === 0)).toBe(true);
    expect(result.timeline[7_404].states[`${ticket}/long`]).toBe('ALARM'); // the 3-day window still burns
  });
});

describe('a week of uneven traffic with gaps', () => {
  // Traffic from 500 to 1,400 a minute, errors that come and go, and a 20-minute gap every day.
  const points = series(-3 * DAY_MINUTES, WEEK.toMinute, (m) => 500 + (((m * 37) % 19) + 19) % 19 * 50, (m, total) =>
    Math.floor(total * (Math.sin(m / 97) > 0.6 ? 0.02 : 0.0004)),
  ).filter((p) => ((p.minute % DAY_MINUTES) + DAY_MINUTES) % DAY_MINUTES >= 20);
  const result = emulate({ policy, sli: { [path]: points } }, WEEK);

  it('gives every window the burn rate of a direct sum over its minutes', () => {
    const byMinute = new Map(points.map((p) => [p.minute, p]));
    for (const minute of [0, 1, 19, 20, 21, 59, 60, 1_440, 1_459, 2_160, 4_321, 7_199, 7_561, 10_079]) {
      const entry = result.timeline[minute];
      expect(entry.minute).toBe(minute);
      for (const alarm of policy.slos[0].alarms) {
        // The 3-day window is evaluated once an hour: between evaluations it shows the last one's.
        const at = alarm.windowSeconds > 86_400 ? minute - (minute % 60) : minute;
        let datapoints = 0;
        let total = 0;
        let bad = 0;
        for (let m = at - alarm.windowSeconds / 60; m < at; m++) {
          const p = byMinute.get(m);
          if (!p) continue;
          datapoints++;
          total += p.total;
          bad += p.bad;
        }
        const expected = datapoints === 0 ? null : total >= alarm.minEvents ? bad / total / 0.001 : 0;
        if (expected === null) expect(entry.values[alarm.id], `${alarm.id} at ${minute}`).toBeNull();
        else expect(entry.values[alarm.id], `${alarm.id} at ${minute}`).toBeCloseTo(expected, 9);
        expect(entry.states[alarm.id] === 'ALARM', `${alarm.id} at ${minute}`).toBe(
          expected === null ? entry.states[alarm.id] === 'ALARM' : expected >= alarm.threshold,
        );
      }
    }
  });

  it('pages on the error bursts', () => {
    expect(result.summary.severities.find((s) => s.id === `${path}/page`)!.firstAlarmMinute).not.toBeNull();
  });
});
