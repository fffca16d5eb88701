/**
 * The bake's clock, deadlines and state checks (lib/core/bake.ts): the functions the step Lambda
 * and the simulator both call.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DEADLINE_SECONDS,
  HOOK_LIMIT_SECONDS,
  MAX_DEADLINE_SECONDS,
  STEP_RETRY_BUDGET_SECONDS,
  alignToHookStart,
  bakeDeadline,
  bakeWindowStart,
  checkBakeState,
  hookStartTime,
  nextWaitSeconds,
  parseDeadline,
  retryDeadline,
  tickClock,
} from '../../lib/core';
import { simulate } from '../../lib/core/simulator';
import { canaryRelease, lambdaService } from './simulator/fixtures';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0) / 1000;
const iso = (s: number) => new Date(s * 1000).toISOString();

describe('tickClock', () => {
  it('sees data up to now − metric delay, floored to the minute; counts the bake from the hook start’s minute', () => {
    expect(tickClock(T0 + 200, T0 + 10, 180)).toEqual({ now: T0 + 200, end: T0, bakedSeconds: 0, hookAgeSeconds: 190 });
    expect(tickClock(T0 + 790, T0 + 10, 180)).toEqual({ now: T0 + 790, end: T0 + 600, bakedSeconds: 600, hookAgeSeconds: 780 });
  });

  it('never counts negative bake time while the delay hides every minute since the hook started', () => {
    expect(tickClock(T0, T0, 180).bakedSeconds).toBe(0);
  });
});

describe('nextWaitSeconds', () => {
  it('is the tick interval while the deadline is further away', () => {
    expect(nextWaitSeconds(T0, 60, T0 + 3_300)).toBe(60);
  });

  it('is cut short so the last tick runs at the deadline, never after it', () => {
    expect(nextWaitSeconds(T0 + 3_290, 60, T0 + 3_300)).toBe(10);
    expect(nextWaitSeconds(T0 + 3_299.4, 60, T0 + 3_300)).toBe(1);
  });

  it('is a whole number of seconds, at least 1 (Step Functions waits whole seconds)', () => {
    expect(nextWaitSeconds(T0, 59.5, T0 + 3_300)).toBe(60);
    expect(nextWaitSeconds(T0 + 3_400, 60, T0 + 3_300)).toBe(1);
  });
});

describe('deadlines', () => {
  it('bakeDeadline: hook start + the hour − the margin, or the execution’s deadline when that is earlier', () => {
    expect(bakeDeadline({ hookStartedAt: T0 }, 300)).toBe(T0 + 3_300);
    expect(bakeDeadline({ hookStartedAt: T0, deadline: iso(T0 + DEFAULT_DEADLINE_SECONDS) }, 300)).toBe(T0 + 3_300);
    expect(bakeDeadline({ hookStartedAt: T0, deadline: iso(T0 + 1_800) }, 300)).toBe(T0 + 1_800);
    expect(bakeDeadline({ hookStartedAt: T0, deadline: iso(T0 + MAX_DEADLINE_SECONDS) }, 300)).toBe(T0 + 3_300);
  });

  it('the default execution deadline and the evaluator’s default margin agree', () => {
    expect(DEFAULT_DEADLINE_SECONDS).toBe(HOOK_LIMIT_SECONDS - 300);
  });

  it('retryDeadline: the step’s budget, never past the report’s last chance inside the hour', () => {
    expect(retryDeadline(T0 + 100, T0)).toBe(T0 + 100 + STEP_RETRY_BUDGET_SECONDS);
    expect(retryDeadline(T0 + 3_300, T0)).toBe(T0 + 3_300 + STEP_RETRY_BUDGET_SECONDS);
    expect(retryDeadline(T0 + 3_400, T0)).toBe(T0 + MAX_DEADLINE_SECONDS);
    expect(retryDeadline(T0, T0, 10)).toBe(T0 + 10);
  });

  it('parseDeadline refuses what is not an instant', () => {
    expect(parseDeadline(iso(T0))).toBe(T0);
    expect(() => parseDeadline('in an hour')).toThrow(/deadline must be an ISO-8601 instant, got "in an hour"/);
  });

  it('bakeWindowStart: the deployment’s createTime floored to the minute, else the hook’s start', () => {
    expect(bakeWindowStart(T0 - 599, T0)).toBe(T0 - 600);
    expect(bakeWindowStart(undefined, T0 + 30)).toBe(T0);
  });
});

describe("CodeDeploy's clock, not the starter's", () => {
  // The execution input as the starter builds it, stamped by the starter's clock at T0 + 240: its
  // first invocation failed and Lambda retried it asynchronously four minutes later.
  const late = T0 + 240;
  const input = {
    deploymentId: 'd-ABCDEFGHI',
    lifecycleEventHookExecutionId: 'hook',
    hookStartedAt: late,
    deadline: iso(late + DEFAULT_DEADLINE_SECONDS),
    reportBy: iso(late + MAX_DEADLINE_SECONDS),
    phase: 'resolve' as const,
  };

  it('alignToHookStart: an earlier lifecycle event start moves the hook start back, and the deadline and report-by with it (same offsets)', () => {
    const aligned = alignToHookStart(input, T0, T0 + 300);
    expect(aligned).toEqual({ ...input, hookStartedAt: T0, deadline: iso(T0 + DEFAULT_DEADLINE_SECONDS), reportBy: iso(T0 + MAX_DEADLINE_SECONDS) });
    // The bake's deadline follows: decided inside CodeDeploy's hour counted from its own start.
    expect(bakeDeadline(aligned, HOOK_LIMIT_SECONDS - DEFAULT_DEADLINE_SECONDS)).toBe(T0 + DEFAULT_DEADLINE_SECONDS);
    expect(bakeDeadline(input, HOOK_LIMIT_SECONDS - DEFAULT_DEADLINE_SECONDS)).toBe(late + DEFAULT_DEADLINE_SECONDS);
  });

  it('alignToHookStart: keeps a custom deadline’s offset, and an execution without reportBy gets none', () => {
    const { reportBy: _none, ...old } = { ...input, deadline: iso(late + 1_800) };
    const aligned = alignToHookStart(old, T0 + 40, T0 + 300);
    expect(aligned).toEqual({ ...old, hookStartedAt: T0 + 40, deadline: iso(T0 + 40 + 1_800) });
    expect('reportBy' in aligned).toBe(false);
  });

  it('alignToHookStart: the deadline and report-by only ever move earlier', () => {
    for (const startTime of [T0 - 7_200, T0, late - 1]) {
      const aligned = alignToHookStart(input, startTime, late + 60);
      expect(parseDeadline(aligned.deadline)).toBeLessThan(parseDeadline(input.deadline));
      expect(parseDeadline(aligned.reportBy!)).toBeLessThan(parseDeadline(input.reportBy));
      expect(parseDeadline(aligned.deadline) - aligned.hookStartedAt).toBe(DEFAULT_DEADLINE_SECONDS);
    }
  });

  it.each<[string, number | undefined, number]>([
    ['later than the starter’s', late + 30, late + 60],
    ['the same as the starter’s', late, late + 60],
    ['missing', undefined, late + 60],
    // Earlier than the starter's, but after the evaluator's own clock: not a time to trust.
    ['in the future', late - 40, late - 60],
    ['not a time', NaN, late + 60],
    ['zero', 0, late + 60],
  ])('alignToHookStart: a start %s leaves the state as it is', (_name, startTime, now) => {
    expect(alignToHookStart(input, startTime, now)).toBe(input);
  });

  it('hookStartTime: the startTime of the InProgress event of the hook being run, nothing else', () => {
    const events = [
      { name: 'BeforeAllowTraffic', status: 'Succeeded', startTime: T0 - 120 },
      { name: 'AllowTraffic', status: 'Succeeded', startTime: T0 - 60 },
      { name: 'AfterAllowTraffic', status: 'InProgress', startTime: T0 },
    ];
    expect(hookStartTime(events, 'AfterAllowTraffic')).toBe(T0);
    expect(hookStartTime(events, 'BeforeAllowTraffic')).toBeUndefined(); // decided: not running
    expect(hookStartTime(events, undefined)).toBeUndefined();
    expect(hookStartTime(undefined, 'AfterAllowTraffic')).toBeUndefined();
    expect(hookStartTime([{ name: 'AfterAllowTraffic', status: 'InProgress' }], 'AfterAllowTraffic')).toBeUndefined();
  });
});

describe('checkBakeState', () => {
  const valid = { deploymentId: 'd-ABCDEFGHI', lifecycleEventHookExecutionId: 'hook', hookStartedAt: T0, deadline: iso(T0 + 3_300), phase: 'resolve' };

  it('returns a usable state as it is', () => {
    expect(checkBakeState(valid)).toBe(valid);
    const withReportBy = { ...valid, reportBy: iso(T0 + MAX_DEADLINE_SECONDS) };
    expect(checkBakeState(withReportBy)).toBe(withReportBy);
    const tick = { ...valid, phase: 'tick', context: { arms: [{ arm: 'canary', dimensions: { ExecutedVersion: '2' } }], windowStart: T0 } };
    expect(checkBakeState(tick)).toBe(tick);
  });

  it.each<[string, unknown, RegExp]>([
    ['undefined', undefined, /expected an object, got undefined/],
    ['a number', 42, /expected an object, got number/],
    ['a deployment id that is a number', { ...valid, deploymentId: 7 }, /deploymentId must be a non-empty string of at most 64 characters, got 7/],
    ['a hook start of 0', { ...valid, hookStartedAt: 0 }, /hookStartedAt must be epoch seconds, got 0/],
    ['an arm of another kind', { ...valid, phase: 'tick', context: { arms: [{ arm: 'green', dimensions: {} }], windowStart: T0 } }, /a tick needs context\.arms/],
    ['httpFailures that are not numbers', { ...valid, httpFailures: ['1'] }, /httpFailures must be an array of numbers/],
    ['a report-by that is not an instant', { ...valid, reportBy: 'soon' }, /reportBy must be an ISO-8601 instant, got "soon"/],
    ['already-completed without a report', { ...valid, phase: 'already-completed', report: { status: 'Maybe' } }, /phase already-completed needs the report/],
  ])('refuses %s', (_name, state, message) => {
    expect(() => checkBakeState(state)).toThrow(message);
    try {
      checkBakeState(state);
    } catch (e) {
      expect((e as Error).name).toBe('InvalidBakeState');
    }
  });
});

describe('the simulator runs the same clock', () => {
  it('a tick interval that does not divide the deadline still decides exactly at the deadline (minute 55), as the step Lambda does', () => {
    const service = lambdaService();
    const series = canaryRelease({ canaryErrors: () => 0, until: 90 });
    const result = simulate({ policy: service.policy, series, releaseMinute: 0, deployment: { kind: 'all-at-once', bakeMinutes: 58 }, evaluator: { tickSeconds: 70 } });
    expect(result.outcome).toMatchObject({ verdict: 'pass', minute: 55 });
    expect(result.outcome.reasons[0]).toMatch(/one-hour hook limit is 300 s away/);
  });
});
