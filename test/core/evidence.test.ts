/**
 * "Evidence, or it is not a pass" (DESIGN.md) as core rules: what a GetMetricData result is
 * worth, how unread data is decided, the AfterAllowTestTraffic rule, the one inconclusive mapping,
 * and what `resolve` and the steps after the report decide.
 */
import { describe, expect, it } from 'vitest';
import { AVAILABILITY_SLO } from './helpers';
import {
  type BakeInput,
  type Counts,
  type QueryResult,
  type ReadProblem,
  alreadyCompletedOutcome,
  armScopesFor,
  bakeDataFor,
  decideBake,
  decideUnreadable,
  foreignDeploymentReason,
  inconclusive,
  inconclusiveStatus,
  isFutureDatapoint,
  isTestTrafficHook,
  queryId,
  readProblemOf,
  shortWindowStart,
} from '../../lib/core';

const slo = AVAILABILITY_SLO;
const counts = (total: number, bad: number, datapoints = 10): Counts => ({ total, bad, datapoints });
const config = { bakeSeconds: 600, inconclusiveAction: 'fail' as const, deadlineMarginSeconds: 300, compareWithBaseline: false };
const transient: ReadProblem = { reason: 'GetMetricData answered InternalError for query s0_canary_n', permanent: false };
const forbidden: ReadProblem = { reason: 'GetMetricData answered Forbidden for query s0_canary_n', permanent: true };

function bake(overrides: Partial<BakeInput> & { canary?: Counts; problems?: ReadProblem[] } = {}) {
  const { canary = counts(10_000, 0), problems, ...rest } = overrides;
  return decideBake({
    config,
    bakedSeconds: 300,
    hookAgeSeconds: 480,
    slos: [{ slo, canary, canaryShort: canary, ...(problems ? { canaryProblems: problems } : {}) }],
    ...rest,
  });
}

describe('readProblemOf: only Complete is evidence', () => {
  const series = new Map([[0, 1]]);
  it.each<[string | undefined, RegExp | undefined, boolean | undefined]>([
    ['Complete', undefined, undefined],
    ['Forbidden', /answered Forbidden for query q: the evaluator is not allowed to read this metric/, true],
    ['InternalError', /answered InternalError for query q/, false],
    ['PartialData', /returned only part of query q/, false],
    [undefined, /returned no result for query q/, false],
  ])('%s', (status, reason, permanent) => {
    const result: QueryResult | undefined = status === undefined ? undefined : { status, series };
    const problem = readProblemOf('q', result);
    if (!reason) return expect(problem).toBeUndefined();
    expect(problem!.reason).toMatch(reason);
    expect(problem!.permanent).toBe(permanent);
  });

  it('carries the result’s own messages', () => {
    expect(readProblemOf('q', { status: 'Forbidden', series, messages: ['AccessDenied: no cloudwatch:GetMetricData on this namespace'] })!.reason).toMatch(
      /\(AccessDenied: no cloudwatch:GetMetricData on this namespace\)/,
    );
  });
});

describe('bakeDataFor', () => {
  const arms = [
    { arm: 'canary' as const, dimensions: { ExecutedVersion: '2' } },
    { arm: 'baseline' as const, dimensions: { ExecutedVersion: '1' } },
  ];
  const minutes = (value: number) => new Map(Array.from({ length: 10 }, (_, i) => [i * 60, value]));
  const complete = (value: number | undefined): QueryResult => ({ status: 'Complete', series: value === undefined ? new Map() : minutes(value) });

  it('a numerator without datapoints is zero errors when its query was Complete', () => {
    const results = new Map([
      [queryId(0, 'canary', 'numerator'), complete(undefined)],
      [queryId(0, 'canary', 'total'), complete(100)],
      [queryId(0, 'baseline', 'numerator'), complete(undefined)],
      [queryId(0, 'baseline', 'total'), complete(100)],
    ]);
    const [data] = bakeDataFor([slo], arms, results, 0, 600);
    expect(data).toMatchObject({ canary: { total: 1_000, bad: 0, datapoints: 10 }, baseline: { total: 1_000, bad: 0 } });
    expect(data.canaryProblems).toBeUndefined();
  });

  it('a numerator whose query was Forbidden or InternalError is no evidence: the SLO carries the problem', () => {
    const results = new Map([
      [queryId(0, 'canary', 'numerator'), { status: 'Forbidden', series: new Map() }],
      [queryId(0, 'canary', 'total'), complete(100)],
      [queryId(0, 'baseline', 'numerator'), { status: 'InternalError', series: new Map() }],
      [queryId(0, 'baseline', 'total'), complete(100)],
    ]);
    const [data] = bakeDataFor([slo], arms, results, 0, 600);
    expect(data.canaryProblems).toEqual([expect.objectContaining({ permanent: true, reason: expect.stringMatching(/Forbidden for query s0_canary_n/) })]);
    expect(data.baselineProblems).toEqual([expect.objectContaining({ permanent: false, reason: expect.stringMatching(/InternalError for query s0_baseline_n/) })]);
  });

  it('reads the short window from end − shortWindow, never before the window’s start', () => {
    expect(shortWindowStart(0, 600, 300)).toBe(300);
    expect(shortWindowStart(0, 120, 300)).toBe(0);
    const results = new Map([
      [queryId(0, 'canary', 'numerator'), complete(1)],
      [queryId(0, 'canary', 'total'), complete(100)],
    ]);
    const [data] = bakeDataFor([slo], [arms[0]], results, 0, 600);
    expect(data.canaryShort).toEqual({ total: 500, bad: 5, datapoints: 5 });
    expect(data.baseline).toBeUndefined();
  });
});

describe('decideBake: what cannot be read', () => {
  it('a transient problem before the end of the bake: keep baking', () => {
    expect(bake({ problems: [transient] })).toMatchObject({ action: 'continue', reasons: [expect.stringMatching(/^Availability: GetMetricData answered InternalError/)] });
  });

  it('a transient problem when the bake is over: keep baking (read again next tick) until the deadline', () => {
    expect(bake({ problems: [transient], bakedSeconds: 600 }).action).toBe('continue');
    const d = bake({ problems: [transient], bakedSeconds: 600, hookAgeSeconds: 3_300 });
    expect(d).toMatchObject({ action: 'report', status: 'Failed', verdict: 'inconclusive' });
    expect(d.reasons[0]).toMatch(/one-hour hook limit is 300 s away, but metrics could not be read \(inconclusive → Failed\)/);
  });

  it('a configuration error (permanent) is decided when the bake is over, with an escalation — not at the deadline', () => {
    expect(bake({ problems: [forbidden] }).action).toBe('continue');
    const d = bake({ problems: [forbidden], bakedSeconds: 600 });
    expect(d).toMatchObject({ action: 'report', status: 'Failed', verdict: 'inconclusive', escalate: true });
    expect(d.reasons).toContain('Availability: GetMetricData answered Forbidden for query s0_canary_n (configuration error: waiting will not fix it)');
  });

  it('unread data is never a pass, even with inconclusiveAction pass it is reported as inconclusive', () => {
    const d = decideBake({ config: { ...config, inconclusiveAction: 'pass' }, bakedSeconds: 600, hookAgeSeconds: 3_300, slos: [{ slo, canary: counts(10_000, 0), canaryShort: counts(5_000, 0), canaryProblems: [transient] }] });
    expect(d).toMatchObject({ status: 'Succeeded', verdict: 'inconclusive' });
  });

  it('a failure on what was read fails at once, whatever else could not be read', () => {
    const d = bake({ canary: counts(1_000, 300), readProblems: [{ reason: 'health check journey: Forbidden', permanent: true }] });
    expect(d).toMatchObject({ action: 'report', status: 'Failed', verdict: 'fail' });
    expect(d.reasons).toContain('health check journey: Forbidden (configuration error: waiting will not fix it)');
  });

  it('the numbers of unread data are not reported as observations', () => {
    expect(bake({ problems: [forbidden], bakedSeconds: 600 }).observations).toEqual([]);
  });

  it('a baseline that could not be read: no canary judge, so no pass; and it cannot excuse the new version either', () => {
    const slos = (canary: Counts) => [{ slo, canary, canaryShort: canary, baseline: counts(10_000, 3_000), baselineProblems: [transient] }];
    const judged = { ...config, compareWithBaseline: true, baselineFactor: 2 };
    expect(decideBake({ config: judged, bakedSeconds: 600, hookAgeSeconds: 3_300, slos: slos(counts(10_000, 0)) })).toMatchObject({ verdict: 'inconclusive' });
    // 30 % errors; the baseline reads 30 % too, but it was not read completely: no shared incident.
    expect(decideBake({ config: judged, bakedSeconds: 300, hookAgeSeconds: 480, slos: slos(counts(10_000, 3_000)) })).toMatchObject({ verdict: 'fail' });
  });
});

describe('AfterAllowTestTraffic', () => {
  it('is the test-traffic hook', () => {
    expect(isTestTrafficHook('AfterAllowTestTraffic')).toBe(true);
    expect(isTestTrafficHook('AfterAllowTraffic')).toBe(false);
  });

  it('no test traffic passes at the end of the bake', () => {
    const d = bake({ canary: counts(0, 0, 0), bakedSeconds: 600, lifecycleEvent: 'AfterAllowTestTraffic' });
    expect(d).toMatchObject({ action: 'report', status: 'Succeeded', verdict: 'inconclusive' });
    expect(d.reasons[0]).toMatch(/too little test traffic at AfterAllowTestTraffic/);
  });

  it('metrics that could not be read never pass', () => {
    expect(bake({ problems: [forbidden], bakedSeconds: 600, lifecycleEvent: 'AfterAllowTestTraffic' })).toMatchObject({ status: 'Failed', verdict: 'inconclusive' });
  });

  it('elsewhere no traffic is inconclusive by the configured action', () => {
    expect(bake({ canary: counts(0, 0, 0), bakedSeconds: 600, lifecycleEvent: 'AfterAllowTraffic' })).toMatchObject({ status: 'Failed', verdict: 'inconclusive' });
  });
});

describe('inconclusive: one mapping', () => {
  it('fail (the default) → Failed, pass → Succeeded, with the why first', () => {
    expect(inconclusiveStatus(undefined)).toBe('Failed');
    expect(inconclusiveStatus('pass')).toBe('Succeeded');
    expect(inconclusive('fail', 'no data', ['detail'])).toEqual({ action: 'report', status: 'Failed', verdict: 'inconclusive', reasons: ['no data (inconclusive → Failed)', 'detail'], observations: [] });
    expect(inconclusive('pass', 'no data', [], [], true)).toMatchObject({ status: 'Succeeded', escalate: true });
  });
});

describe('resolve', () => {
  it('foreignDeploymentReason refuses a deployment of another application or group', () => {
    const guarded = { applicationName: 'orders-app', deploymentGroupName: 'orders-dg' };
    expect(foreignDeploymentReason(guarded, guarded)).toBeUndefined();
    expect(foreignDeploymentReason(guarded, { applicationName: 'orders-app', deploymentGroupName: 'orders-dg-2' })).toMatch(
      /^refused: deployment of group orders-app\/orders-dg-2, this trigger guards orders-app\/orders-dg;/,
    );
    expect(foreignDeploymentReason(guarded, {})).toMatch(/deployment of group \(no application\)\/\(no group\)/);
    expect(foreignDeploymentReason({}, { applicationName: 'x' })).toBeUndefined();
  });

  it('decideUnreadable: never decided before the deadline; then the deployment → Succeeded + escalation, the targets → inconclusive', () => {
    const base = { reason: 'ThrottlingException', attempts: 3, hookAgeSeconds: 600, deadlineSeconds: 3_300 };
    expect(decideUnreadable({ ...base, what: 'deployment' })).toMatchObject({ action: 'continue', reasons: ['GetDeployment could not be read (3 attempts): ThrottlingException'] });
    expect(decideUnreadable({ ...base, what: 'deployment', hookAgeSeconds: 3_300 })).toMatchObject({ action: 'report', status: 'Succeeded', verdict: 'skipped', escalate: true });
    expect(decideUnreadable({ ...base, what: 'targets', hookAgeSeconds: 3_300 })).toMatchObject({ action: 'report', status: 'Failed', verdict: 'inconclusive', escalate: true });
  });

  it('armScopesFor: Lambda versions, ECS target groups, or why not', () => {
    expect(armScopesFor({}, { platform: 'lambda', currentVersion: '1', targetVersion: '2' })).toEqual([
      { arm: 'canary', dimensions: { ExecutedVersion: '2' } },
      { arm: 'baseline', dimensions: { ExecutedVersion: '1' } },
    ]);
    expect(armScopesFor({}, { platform: 'lambda' })).toBe('CodeDeploy reported no target version');
    const targetGroups = [
      { name: 'blue', dimensions: { TargetGroup: 'tg/blue' } },
      { name: 'green', dimensions: { TargetGroup: 'tg/green' } },
    ];
    expect(armScopesFor({ targetGroups }, { platform: 'ecs', currentTargetGroup: 'blue', targetTargetGroup: 'green' })).toEqual([
      { arm: 'canary', dimensions: { TargetGroup: 'tg/green' } },
      { arm: 'baseline', dimensions: { TargetGroup: 'tg/blue' } },
    ]);
    expect(armScopesFor({ targetGroups }, { platform: 'ecs', targetTargetGroup: 'purple' })).toMatch(/target group purple is not one this trigger watches/);
    expect(armScopesFor({}, { platform: 'other' })).toMatch(/unsupported compute platform/);
  });
});

describe('after LifecycleEventAlreadyCompletedException', () => {
  it('says what CodeDeploy applied: ours, the other status, or unknown — never a guess', () => {
    expect(alreadyCompletedOutcome({ sent: 'Failed', lifecycleEvent: 'AfterAllowTraffic', hookStatus: 'Failed', deploymentStatus: 'Failed' })).toMatchObject({ applied: 'ours', escalate: false });
    expect(alreadyCompletedOutcome({ sent: 'Failed', lifecycleEvent: 'AfterAllowTraffic', hookStatus: 'Succeeded', deploymentStatus: 'Succeeded' })).toMatchObject({
      applied: 'other',
      escalate: true,
      reasons: ['hook already completed: CodeDeploy applied Succeeded to AfterAllowTraffic (deployment Succeeded); the Failed this execution decided was not applied'],
    });
    expect(alreadyCompletedOutcome({ sent: 'Succeeded', hookStatus: 'Failed' })).toMatchObject({ applied: 'other', escalate: false });
    const unknown = alreadyCompletedOutcome({ sent: 'Failed', lifecycleEvent: 'AfterAllowTraffic', hookStatus: 'InProgress' });
    expect(unknown).toMatchObject({ applied: 'unknown', escalate: true });
    expect(unknown.reasons[0]).toMatch(/is unknown \(its status reads InProgress, deployment status unknown\); the Failed this execution decided may not have been applied/);
  });
});

describe('clock skew', () => {
  it('a datapoint stamped after now is from the future', () => {
    expect(isFutureDatapoint(101, 100)).toBe(true);
    expect(isFutureDatapoint(100, 100)).toBe(false);
  });
});
