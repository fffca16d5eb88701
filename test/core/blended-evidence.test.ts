/**
 * What an SLO read as declared (`EvaluatorSlo.declared`: a blended custom metric, a log pattern's
 * lines) is evidence of: the whole service's counts are the current version's before the release
 * and the new version's own once all traffic is on it; the minutes between (a canary's, a linear
 * shift's) are neither's, and the rollback alarm (scope `declared`) judges them. Core rules, table
 * by table: the queries, the evidence `bakeDataFor` cuts, the decision on it, the configuration.
 */
import { describe, expect, it } from 'vitest';
import { AVAILABILITY_SLO, expectRtError } from './helpers';
import {
  type ArmScope,
  type BakeInput,
  EVALUATOR_CONFIG_SCHEMA_VERSION,
  type EvaluatorSlo,
  type QueryResult,
  bakeDataFor,
  buildMetricQueries,
  decideBake,
  parseEvaluatorConfig,
  queriesPerTick,
  queryId,
} from '../../lib/core';
import { metricScopesToArm } from '../../lib/core/metric-queries';

/** The SLO as the construct configures it for a blended custom metric: the same metrics, read as declared. */
const DECLARED: EvaluatorSlo = {
  ...AVAILABILITY_SLO,
  numerator: { namespace: 'Shop', metricName: 'Failed', dimensionSet: 0, stat: 'Sum' },
  total: { namespace: 'Shop', metricName: 'Requests', dimensionSet: 0, stat: 'Sum' },
  declared: true,
};
const LAMBDA_ARMS: ArmScope[] = [
  { arm: 'canary', dimensions: { ExecutedVersion: '7' } },
  { arm: 'baseline', dimensions: { ExecutedVersion: '6' } },
];
const ECS_ARMS: ArmScope[] = [
  { arm: 'canary', dimensions: { TargetGroup: 'targetgroup/green/2', LoadBalancer: 'app/lb/1' } },
  { arm: 'baseline', dimensions: { TargetGroup: 'targetgroup/blue/1', LoadBalancer: 'app/lb/1' } },
];

describe('the queries of an SLO read as declared', () => {
  it.each([
    ['Lambda', LAMBDA_ARMS],
    ['ECS', ECS_ARMS],
  ])('%s: one read of each metric, on the new version’s arm, with the declared dimensions only', (_, arms) => {
    const queries = buildMetricQueries({ slos: [AVAILABILITY_SLO, DECLARED], dimensionSets: [{ Service: 'checkout' }] }, arms);
    expect(queries.filter((q) => q.sloIndex === 1).map((q) => [q.id, q.metric])).toEqual([
      ['s1_canary_n', { namespace: 'Shop', metricName: 'Failed', stat: 'Sum', dimensions: { Service: 'checkout' } }],
      ['s1_canary_t', { namespace: 'Shop', metricName: 'Requests', stat: 'Sum', dimensions: { Service: 'checkout' } }],
    ]);
    // The per-version SLO beside it keeps its arms' dimensions.
    expect(queries.filter((q) => q.sloIndex === 0).map((q) => q.metric!.dimensions)).toEqual(
      arms.flatMap((a) => [
        { Service: 'checkout', ...a.dimensions },
        { Service: 'checkout', ...a.dimensions },
      ]),
    );
  });

  it('counts one read in the tick’s query budget', () => {
    expect(queriesPerTick({ slos: [DECLARED], dimensionSets: [{}] })).toBe(2);
    expect(queriesPerTick({ slos: [AVAILABILITY_SLO], dimensionSets: [{}] })).toBe(4);
  });
});

describe('metricScopesToArm: which metrics CloudWatch also publishes per arm', () => {
  it.each<[string, string[], boolean]>([
    ['Shop', [], false],
    ['Shop', ['Service'], false],
    ['RollbackTriggers/LogPatterns', [], false],
    // Lambda's dimension sets: FunctionName; FunctionName and Resource; those and ExecutedVersion (an alias's invocations).
    ['AWS/Lambda', ['FunctionName'], false],
    ['AWS/Lambda', ['FunctionName', 'Resource'], true],
    ['AWS/Lambda', ['FunctionName', 'Resource', 'ExecutedVersion'], true],
    ['Shop', ['ExecutedVersion'], true],
    ['AWS/ApplicationELB', ['TargetGroup', 'LoadBalancer'], true],
    ['AWS/ApplicationELB', ['LoadBalancer'], true],
  ])('%s %j → %s', (namespace, names, expected) => expect(metricScopesToArm(namespace, names)).toBe(expected));
});

// ---------------------------------------------------------------------------------------------
// The evidence and the decision.

/** The release minute; the canary shifts all traffic 6 minutes in, AfterAllowTraffic starts 20 s later. */
const R = 1_800_000_000 - (1_800_000_000 % 60);
const SHIFT = R + 360;
const HOOK = SHIFT + 20;
/** The first minute that starts with all traffic on the new version: the hook's minute rounded up. */
const ALONE = SHIFT + 60;

/** The service's counts per minute from an hour before the release to `end`, as CloudWatch returns the declared metric. */
function serviceRead(end: number, minute: (t: number) => { total: number; bad: number } | undefined): Map<string, QueryResult> {
  const total = new Map<number, number>();
  const bad = new Map<number, number>();
  for (let t = R - 3600; t < end; t += 60) {
    const m = minute(t);
    if (!m) continue;
    total.set(t, m.total);
    bad.set(t, m.bad);
  }
  return new Map([
    [queryId(0, 'canary', 'total'), { status: 'Complete', series: total }],
    [queryId(0, 'canary', 'numerator'), { status: 'Complete', series: bad }],
  ]);
}

/** 2000 requests a minute; the old version fails 1 in 2000, the new one `newRatio(t)` of its share (10 % until the shift). */
function service(newRatio: (t: number) => number) {
  return (t: number) => {
    const share = t < R ? 0 : t < SHIFT ? 0.1 : 1;
    return { total: 2000, bad: Math.round((1 - share) * 1 + 2000 * share * newRatio(t)) };
  };
}

const config: BakeInput['config'] = { bakeSeconds: 600, inconclusiveAction: 'fail', deadlineMarginSeconds: 300, compareWithBaseline: true, baselineFactor: 2 };

/** The bake's ticks from the hook, a minute apart, data trusted up to 3 minutes ago, until one reports. */
function bake(minute: (t: number) => { total: number; bad: number } | undefined, options: { shifted?: boolean; arms?: ArmScope[] } = {}) {
  const { shifted = true, arms = LAMBDA_ARMS } = options;
  const allTrafficAt = shifted ? HOOK : undefined;
  for (let now = HOOK; now < HOOK + 3300; now += 60) {
    const end = Math.floor((now - 180) / 60) * 60;
    const slos = bakeDataFor([DECLARED], arms, serviceRead(end, minute), R, end, allTrafficAt);
    const bakedSeconds = Math.max(0, end - Math.floor(HOOK / 60) * 60);
    const decision = decideBake({ config, bakedSeconds, hookAgeSeconds: now - HOOK, deadlineSeconds: 3300, slos });
    if (decision.action === 'report') return { ...decision, minute: (now - HOOK) / 60 };
  }
  throw new Error('never reported');
}

describe('bakeDataFor: an SLO read as declared', () => {
  const end = ALONE + 300;
  const read = serviceRead(end, service(() => 0.05));

  it('is the new version’s own from the first minute with all traffic on it, the current version’s before the release, neither’s in between', () => {
    const [data] = bakeDataFor([DECLARED], LAMBDA_ARMS, read, R, end, HOOK);
    expect(data.baseline).toBeUndefined();
    expect(data.canaryProblems).toBeUndefined();
    expect(data.canary).toEqual({ total: 10_000, bad: 500, datapoints: 5 });
    expect(data.canaryShort).toEqual(data.canary);
    const minutes = data.timeline!.minutes;
    expect(data.timeline!.releaseAt).toBe(ALONE);
    expect(minutes.filter((m) => m.canary).map((m) => m.at)).toEqual([0, 1, 2, 3, 4].map((k) => ALONE + 60 * k));
    expect(minutes.filter((m) => m.baseline).map((m) => m.at)).toEqual(Array.from({ length: 60 }, (_, k) => R - 3600 + 60 * k));
    // The canary's minutes and the minute of the shift: in neither arm.
    expect(minutes.some((m) => m.at >= R && m.at < ALONE)).toBe(false);
  });

  it('takes a minute that starts at the full shift whole', () => {
    const [data] = bakeDataFor([DECLARED], LAMBDA_ARMS, read, R, end, SHIFT);
    expect(data.timeline!.releaseAt).toBe(SHIFT);
    expect(data.canary.datapoints).toBe(6);
  });

  it('has no current version without a baseline arm (a watch after the deployment, a first release)', () => {
    const [data] = bakeDataFor([DECLARED], [LAMBDA_ARMS[0]], read, R, end, HOOK);
    expect(data.timeline!.minutes.every((m) => m.canary && !m.baseline)).toBe(true);
    expect(data.canary.total).toBe(10_000);
  });

  it('has no minute of the new version’s own before all traffic is on it (AfterAllowTestTraffic)', () => {
    const [data] = bakeDataFor([DECLARED], ECS_ARMS, read, R, end);
    expect(data.canary).toEqual({ total: 0, bad: 0, datapoints: 0 });
    expect(data.timeline!.minutes.some((m) => m.canary)).toBe(false);
  });

  it('carries a read that is no evidence as the new version’s problem', () => {
    const forbidden = new Map(read);
    forbidden.set(queryId(0, 'canary', 'total'), { status: 'Forbidden', series: new Map() });
    const [data] = bakeDataFor([DECLARED], LAMBDA_ARMS, forbidden, R, end, HOOK);
    expect(data.canaryProblems).toEqual([expect.objectContaining({ permanent: true, reason: expect.stringMatching(/Forbidden for query s0_canary_t/) })]);
  });
});

describe('the bake of an SLO read as declared', () => {
  it('passes a healthy release once it has enough minutes of the new version alone', () => {
    const d = bake(service(() => 0.0005));
    expect({ status: d.status, verdict: d.verdict }).toEqual({ status: 'Succeeded', verdict: 'pass' });
    const reference = d.observations.find((o) => o.arm === 'reference')!;
    // The reference is the current version's minutes before the release, not the canary's blended ones.
    expect(reference.badEvents / reference.totalEvents).toBeCloseTo(0.0005, 6);
  });

  it('fails a regression on the minutes it serves alone, against the service before the release', () => {
    const d = bake(service(() => 0.05));
    expect({ status: d.status, verdict: d.verdict }).toEqual({ status: 'Failed', verdict: 'fail' });
    expect(d.reasons[0]).toMatch(
      /^Availability: the new version, serving alone, burns its error budget .* the current version's last minutes before the release/,
    );
  });

  it('is not excused by a linear shift: the minutes that were mostly the new version are no reference', () => {
    // Linear 10 % a minute: by the last steps the blended minutes are 90 % the new version, failing 5 %.
    const linear = (t: number) => {
      const share = t < R ? 0 : t < SHIFT ? Math.min(0.9, ((t - R) / 60 + 1) * 0.15) : 1;
      return { total: 2000, bad: Math.round((1 - share) * 1 + 2000 * share * 0.05) };
    };
    const d = bake(linear);
    expect({ status: d.status, verdict: d.verdict }).toEqual({ status: 'Failed', verdict: 'fail' });
  });

  it('does not fail a two-minute blip right after the shift: the canary’s minutes never shorten its short window', () => {
    const blip = service((t) => (t >= ALONE && t < ALONE + 120 ? 0.2 : 0.0005));
    const d = bake(blip);
    expect({ status: d.status, verdict: d.verdict }).toEqual({ status: 'Succeeded', verdict: 'pass' });
  });

  it('never passes on blended minutes alone: before the full shift it is inconclusive at the end of the bake', () => {
    const d = bake(service(() => 0.0005), { shifted: false });
    expect({ status: d.status, verdict: d.verdict }).toEqual({ status: 'Failed', verdict: 'inconclusive' });
    expect(d.reasons[0]).toMatch(/bake complete without enough data/);
  });
});

describe('parseEvaluatorConfig: declared', () => {
  const base = {
    schemaVersion: EVALUATOR_CONFIG_SCHEMA_VERSION,
    platform: 'lambda',
    mode: 'enforce',
    bakeSeconds: 600,
    tickSeconds: 60,
    inconclusiveAction: 'fail',
    deadlineMarginSeconds: 300,
    metricDelaySeconds: 180,
    compareWithBaseline: true,
    dimensionSets: [{}],
  };
  const parse = (slo: object) => parseEvaluatorConfig(JSON.stringify({ ...base, slos: [slo] }));

  it('reads true', () => expect(parse(DECLARED).slos[0].declared).toBe(true));
  it.each([
    ['a string', { ...DECLARED, declared: 'yes' }, /slos\[0\] \(Availability\) has declared "yes", expected true or false/],
    [
      'with a version dimension',
      { ...DECLARED, versionDimension: 'Version' },
      /slos\[0\] \(Availability\) is declared .* and has versionDimension "Version": one or the other/,
    ],
  ])('refuses %s (RT402)', (_, slo, message) => expect(expectRtError(() => parse(slo), 'RT402').message).toMatch(message));
});
