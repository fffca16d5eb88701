import { describe, expect, it } from 'vitest';
import type { RollbackPolicy } from '../../../lib/core';
import { SeriesEntry, SimulationInput, simulate } from '../../../lib/core/simulator';
import { expectRtError } from '../helpers';
import { CANARY_10_FOR_10, lambdaService } from './fixtures';

const service = lambdaService();

const good: SeriesEntry[] = [
  { minute: 0, requests: 10, errors: 0 },
  { minute: 1, requests: 10, errors: 1, canary: { requests: 1, errors: 1 }, stable: { requests: 9, errors: 0 } },
  { minute: 2, requests: 10, errors: 0 },
];

function input(overrides: Partial<SimulationInput> = {}): SimulationInput {
  return { policy: service.policy, series: good, releaseMinute: 1, deployment: CANARY_10_FOR_10, ...overrides };
}

/** The series with entry `i` replaced by `patch(entry)`. */
function withEntry(i: number, patch: (entry: any) => any): SeriesEntry[] {
  return good.map((e, j) => (j === i ? patch({ ...e }) : e));
}

const fails = (overrides: Partial<SimulationInput>, code: string) => expectRtError(() => simulate(input(overrides)), code).message;

describe('simulate rejects bad input with a message naming the minute and the field', () => {
  it('accepts the valid input the cases below break', () => {
    expect(() => simulate(input())).not.toThrow();
  });

  it.each([
    ['an empty series', [], /non-empty array .* got an empty array/],
    ['a series that is not an array', 'minute,requests' as unknown as SeriesEntry[], /non-empty array/],
    ['an entry that is not an object', withEntry(1, () => null), /series entry 1: must be an object/],
    ['a per-version entry that is not an object', withEntry(1, (e) => ({ ...e, canary: 5 })), /series entry 1 \(minute 1\): canary must be an object/],
  ])('RT701 %s', (_name, series, message) => {
    expect(fails({ series: series as SeriesEntry[] }, 'RT701')).toMatch(message);
  });

  it.each([
    ['a fractional minute', withEntry(1, (e) => ({ ...e, minute: 1.5 })), /series entry 1: minute must be a whole number, got 1\.5/],
    ['a missing minute', withEntry(2, ({ minute: _m, ...rest }) => rest), /series entry 2: minute must be a whole number, got nothing/],
    ['a repeated minute', withEntry(2, (e) => ({ ...e, minute: 1 })), /series entry 2 \(minute 1\): minutes must increase strictly, got 1 after 1/],
    ['a decreasing minute', withEntry(2, (e) => ({ ...e, minute: -3 })), /series entry 2 \(minute -3\): minutes must increase strictly, got -3 after 1/],
  ])('RT702 %s', (_name, series, message) => {
    expect(fails({ series }, 'RT702')).toMatch(message);
  });

  it.each([
    ['negative requests', withEntry(0, (e) => ({ ...e, requests: -1 })), /series entry 0 \(minute 0\): requests must be a whole number ≥ 0, got -1/],
    ['negative errors', withEntry(2, (e) => ({ ...e, errors: -2 })), /\(minute 2\): errors must be a whole number ≥ 0, got -2/],
    ['fractional errors', withEntry(2, (e) => ({ ...e, errors: 0.5 })), /\(minute 2\): errors must be a whole number ≥ 0, got 0\.5/],
    ['missing errors', withEntry(2, ({ errors: _e, ...rest }) => rest), /\(minute 2\): errors must be a whole number ≥ 0, got nothing/],
    ['NaN requests', withEntry(2, (e) => ({ ...e, requests: Number.NaN })), /\(minute 2\): requests must be a whole number ≥ 0, got NaN/],
    ['negative slow', withEntry(2, (e) => ({ ...e, slow: -1 })), /\(minute 2\): slow must be a whole number ≥ 0, got -1/],
    ['negative canary errors', withEntry(1, (e) => ({ ...e, canary: { requests: 1, errors: -1 } })), /\(minute 1\): canary\.errors must be a whole number ≥ 0, got -1/],
    ['negative stable requests', withEntry(1, (e) => ({ ...e, stable: { requests: -9, errors: 0 } })), /\(minute 1\): stable\.requests must be a whole number ≥ 0, got -9/],
  ])('RT703 %s', (_name, series, message) => {
    expect(fails({ series }, 'RT703')).toMatch(message);
  });

  it.each([
    ['blended', withEntry(2, (e) => ({ ...e, errors: 11 })), /series entry 2 \(minute 2\): errors \(11\) must not exceed requests \(10\)/],
    ['canary', withEntry(1, (e) => ({ ...e, canary: { requests: 1, errors: 2 } })), /\(minute 1\): canary\.errors \(2\) must not exceed canary\.requests \(1\)/],
    ['stable', withEntry(1, (e) => ({ ...e, stable: { requests: 9, errors: 10 } })), /\(minute 1\): stable\.errors \(10\) must not exceed stable\.requests \(9\)/],
  ])('RT704 errors above requests (%s)', (_name, series, message) => {
    expect(fails({ series }, 'RT704')).toMatch(message);
  });

  it.each([
    ['blended', withEntry(0, (e) => ({ ...e, slow: 11 })), /\(minute 0\): slow \(11\) must not exceed requests \(10\)/],
    ['canary', withEntry(1, (e) => ({ ...e, canary: { requests: 1, errors: 0, slow: 3 } })), /\(minute 1\): canary\.slow \(3\) must not exceed canary\.requests \(1\)/],
  ])('RT705 slow above requests (%s)', (_name, series, message) => {
    expect(fails({ series }, 'RT705')).toMatch(message);
  });

  it('RT706 slow missing while a latency SLO needs it', () => {
    const latency = lambdaService({ latency: true });
    const series = good.map((e) => ({ ...e, slow: 0 }));
    expect(fails({ policy: latency.policy, series: [series[0], { ...series[1], canary: { requests: 1, errors: 1 } }, series[2]] }, 'RT706')).toMatch(
      /series entry 1 \(minute 1\): canary\.slow is missing, but a latency SLO of the policy counts slow requests/,
    );
    expect(fails({ policy: latency.policy }, 'RT706')).toMatch(/series entry 0 \(minute 0\): slow is missing/);
  });

  it.each([
    ['before the series', -1, /releaseMinute -1 is before the series, which runs from minute 0 to minute 2: give a release at or after the first entry/],
    ['not a whole minute', 1.5, /releaseMinute must be a whole number, got 1\.5/],
    ['not a number', '3' as unknown as number, /releaseMinute must be a whole number, got "3"/],
    ['60 days after the first entry', 86_400, /releaseMinute 86400 is 86400 minutes after the series' first entry \(minute 0\); one replay covers less than 86400 minutes/],
  ])('RT707 a release minute %s', (_name, releaseMinute, message) => {
    expect(fails({ releaseMinute }, 'RT707')).toMatch(message);
  });

  it('RT707 a replay longer than 60 days from the first entry to the end of the deployment', () => {
    // The deployment ends 10 (canary) + 10 (bake) + 3 (metric delay) = 23 minutes after the release.
    // Released at 84,959 it ends at 84,982, inside the 86,400 minutes (0 … 86,399) one replay from
    // minute 0 emulates; released at 86,390 it ends at 86,413, past them.
    expect(() => simulate(input({ releaseMinute: 84_959 }))).not.toThrow();
    expect(fails({ releaseMinute: 86_390 }, 'RT707')).toMatch(
      /the replay would run from the series' first entry \(minute 0\) to the end of the deployment released at minute 86390 \(minute 86413\): 86414 minutes, more than the 86400 \(60 days\)/,
    );
  });

  it('accepts a release after the last entry: the series says no datapoint arrived after it', () => {
    expect(() => simulate(input({ releaseMinute: 3 }))).not.toThrow();
    expect(() => simulate(input({ releaseMinute: 500 }))).not.toThrow();
  });

  it.each([
    ['an unknown kind', { kind: 'blue-green', bakeMinutes: 10 }, /deployment\.kind must be all-at-once, canary or linear, got "blue-green"/],
    ['a canary of 0 %', { kind: 'canary', percent: 0, intervalMinutes: 5, bakeMinutes: 10 }, /deployment\.percent must be above 0 and below 100 for a canary deployment .* got 0/],
    ['a canary of 100 %', { kind: 'canary', percent: 100, intervalMinutes: 5, bakeMinutes: 10 }, /deployment\.percent .* got 100/],
    ['a linear step of -10 %', { kind: 'linear', percent: -10, intervalMinutes: 1, bakeMinutes: 10 }, /deployment\.percent .* linear deployment .* got -10/],
    ['a canary without percent', { kind: 'canary', intervalMinutes: 5, bakeMinutes: 10 }, /deployment\.percent .* got nothing/],
    ['a canary interval of 0', { kind: 'canary', percent: 10, intervalMinutes: 0, bakeMinutes: 10 }, /deployment\.intervalMinutes must be a whole number of at least 1 .* got 0/],
    ['a negative bake', { kind: 'all-at-once', bakeMinutes: -1 }, /deployment\.bakeMinutes must be a number ≥ 0, got -1/],
  ])('RT708 %s', (_name, deployment, message) => {
    expect(fails({ deployment: deployment as SimulationInput['deployment'] }, 'RT708')).toMatch(message);
  });

  it('RT709 a policy that is not a document', () => {
    expect(fails({ policy: null as unknown as RollbackPolicy }, 'RT709')).toMatch(/policy must be a rollback policy document, got null/);
  });

  it('RT717 a policy without SLOs', () => {
    const empty: RollbackPolicy = { schemaVersion: 1, slos: [], thresholdTriggers: [], rollbackTriggers: [] };
    expect(fails({ policy: empty }, 'RT717')).toMatch(/the policy has no SLO/);
  });

  it('RT718 a rollback trigger the policy does not hold', () => {
    expect(fails({ rollbackTrigger: 'Other' }, 'RT718')).toMatch(/rollbackTrigger "Other" is not in the policy, which has Rollback \(Svc\/Rollback\)/);
  });

  it('RT719 a rollback trigger naming an SLO the policy does not hold', () => {
    const orphan: RollbackPolicy = { ...service.policy, slos: service.policy.slos.map((s) => ({ ...s, name: 'Renamed' })) };
    expect(fails({ policy: orphan }, 'RT719')).toMatch(/rollback trigger Svc\/Rollback names SLO "Availability", which the policy does not hold \(SLOs: Renamed\)/);
  });

  it('RT720 a rollback trigger without alarms', () => {
    const bare: RollbackPolicy = { ...service.policy, rollbackTriggers: service.policy.rollbackTriggers!.map((t) => ({ ...t, alarms: [] })) };
    expect(fails({ policy: bare }, 'RT720')).toMatch(/rollback trigger Svc\/Rollback has no alarm/);
  });

  it('RT721 a policy without a page tier', () => {
    const ticketsOnly: RollbackPolicy = {
      ...service.policy,
      rollbackTriggers: [],
      slos: service.policy.slos.map((s) => ({ ...s, tiers: s.tiers.filter((t) => t.severity === 'ticket') })),
    };
    expect(fails({ policy: ticketsOnly }, 'RT721')).toMatch(/no SLO of the policy has a page tier/);
  });

  it.each([
    ['deadlineSeconds', (t: any) => ({ ...t, deadlineSeconds: undefined }), /has no deadlineSeconds,/],
    ['baselineFactor', (t: any) => ({ ...t, baselineFactor: undefined }), /has no baselineFactor,/],
    ['an alarm\'s windowSeconds', (t: any) => ({ ...t, alarms: t.alarms.map((a: any) => ({ ...a, windowSeconds: undefined })) }), /has no alarms\[0\]\.windowSeconds,/],
  ])('RT724 a rollback trigger without %s, which the constructs always write', (_field, patch, message) => {
    const older: RollbackPolicy = { ...service.policy, rollbackTriggers: service.policy.rollbackTriggers!.map(patch) };
    expect(fails({ policy: older }, 'RT724')).toMatch(message);
    expect(fails({ policy: older }, 'RT724')).toMatch(/synthesize the app again with this release/);
  });

  it('selects a rollback trigger by name or path', () => {
    expect(() => simulate(input({ rollbackTrigger: 'Rollback' }))).not.toThrow();
    expect(() => simulate(input({ rollbackTrigger: 'Svc/Rollback' }))).not.toThrow();
  });

  it.each([
    [{ evaluator: { tickSeconds: 0 } }, /evaluator\.tickSeconds must be a number of at least 1, got 0/],
    [{ evaluator: { metricDelaySeconds: -60 } }, /evaluator\.metricDelaySeconds must be a number ≥ 0, got -60/],
    [{ evaluator: { deadlineMarginSeconds: 3_600 } }, /evaluator\.deadlineMarginSeconds must be ≥ 0 and below CodeDeploy's 3600 s hook limit, got 3600/],
    [{ evaluator: { inconclusiveAction: 'maybe' as 'pass' } }, /evaluator\.inconclusiveAction must be fail or pass, got "maybe"/],
    [{ ingestionDelayMinutes: -1 }, /ingestionDelayMinutes must be a whole number ≥ 0, got -1/],
    [{ ingestionDelayMinutes: 1.5 }, /ingestionDelayMinutes must be a whole number ≥ 0, got 1\.5/],
  ])('RT710 %j', (overrides, message) => {
    expect(fails(overrides as Partial<SimulationInput>, 'RT710')).toMatch(message);
  });
});

describe('the evaluator settings of a replay', () => {
  it("follow the rollback trigger's own deadline, unless the input sets one", async () => {
    const { resolveSettings } = await import('../../../lib/core/simulator/validate.js');
    const trigger = { inconclusiveAction: 'fail' as const, deadlineSeconds: 2_400, baselineFactor: 2 };
    expect(resolveSettings(undefined, trigger).deadlineMarginSeconds).toBe(1_200);
    expect(resolveSettings(undefined, undefined).deadlineMarginSeconds).toBe(300);
    expect(resolveSettings({ deadlineMarginSeconds: 600 }, trigger).deadlineMarginSeconds).toBe(600);
  });

  it("judge with the trigger's evaluator baselineFactor as its policy records it, also when no rollback alarm has a baseline (blended SLIs)", async () => {
    const { resolveSettings } = await import('../../../lib/core/simulator/validate.js');
    const trigger = { inconclusiveAction: 'fail' as const, deadlineSeconds: 3_300 };
    expect(resolveSettings(undefined, { ...trigger, baselineFactor: 3 }).baselineFactor).toBe(3);
    expect(resolveSettings(undefined, { ...trigger, baselineFactor: 0 }).baselineFactor).toBe(0);
    expect(resolveSettings(undefined, undefined).baselineFactor).toBe(0);
    // The construct records the factor it configures its evaluator with (default 2).
    expect(lambdaService().policy.rollbackTriggers![0].baselineFactor).toBe(2);
  });
});
