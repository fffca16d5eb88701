import { App, Duration, Stack } from 'aws-cdk-lib';
import { LambdaDeploymentConfig } from 'aws-cdk-lib/aws-codedeploy';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RollbackTarget, RollbackTrigger, ServiceLevelObjective, Sli } from '../../../lib';
import { type RollbackPolicy, buildPlan } from '../../../lib/core';
import { type PathOutcome, type SeriesEntry, type SimulationResult, simulate } from '../../../lib/core/simulator';
import { checkPolicyEntry } from '../../../lib/cli/policy-metadata';
import { countMetric, lambdaCanaryGroup } from '../../helpers';
import { AVAILABILITY_SLO, expectRtError } from '../helpers';
import { CREATED_AT, T0, World, expectReports } from '../../lambda/fixtures';
import { CANARY_10_FOR_10, blendedOnly, canaryRelease, policyOf } from './fixtures';

// An SLI whose metrics carry neither the version nor a target group (here the service's own
// Shop/Failed over Shop/Requests, no dimension at all) is read by the evaluator as declared: one
// read of the whole service, judged only on the minutes after all traffic reached the new version,
// the minutes before the release as the current version's (lib/core/metric-queries.ts,
// declaredBakeData). The simulator replays that from the series' blended entries, which is all a
// CloudWatch export of such a metric holds. Policies come from real constructs: a Lambda alias
// released 10 % for 10 minutes (CANARY_10_FOR_10: all traffic on the new version from minute 10),
// a 99.9 % availability SLO, a RollbackTrigger.

type Shape = { suspendAlarmPath?: boolean; guardWindow?: Duration; sli?: 'custom' | 'alias-metrics' };

function synthesize(shape: Shape = {}): RollbackPolicy {
  const stack = new Stack(new App(), 'Shop');
  const { alias, group } = lambdaCanaryGroup(stack, { deploymentConfig: LambdaDeploymentConfig.CANARY_10PERCENT_10MINUTES });
  const sli =
    shape.sli === 'alias-metrics'
      ? // Lambda's own metrics through the alias: Lambda publishes them per ExecutedVersion too.
        Sli.errorRatio({ badEvents: alias.metricErrors({ statistic: 'Sum' }), totalEvents: alias.metricInvocations({ statistic: 'Sum' }) })
      : Sli.errorRatio({ badEvents: countMetric('Failed'), totalEvents: countMetric('Requests') });
  const slo = new ServiceLevelObjective(stack, 'Availability', { sli, objectivePercent: 99.9 });
  new RollbackTrigger(stack, 'Rollback', {
    target: RollbackTarget.lambdaAlias({ deploymentGroup: group, alias }),
    objectives: [slo],
    suspendAlarmPath: shape.suspendAlarmPath,
    guardWindow: shape.guardWindow,
  });
  return policyOf(stack);
}

const declared = synthesize();
const suspended = synthesize({ suspendAlarmPath: true });
const perVersion = synthesize({ sli: 'alias-metrics' });

/** The all-traffic minute of CANARY_10_FOR_10 released at minute 0: AfterAllowTraffic starts. */
const ALL_TRAFFIC = 10;
const REQUESTS = 1_000;
/** The current version's errors: 1 in 2,000, half the 99.9 % budget. */
const oldErrors = (m: number, requests: number) => (m % 2 === 0 ? Math.round(requests / 1_000) : 0);

/** The service's own metric: blended entries only, the new version failing `newRatio(m)` of its requests. */
function service(newRatio: (m: number) => number, until = 60): SeriesEntry[] {
  return blendedOnly(canaryRelease({ canaryErrors: (m, requests) => Math.round(requests * newRatio(m)), stableErrors: oldErrors, until }));
}

const run = (policy: RollbackPolicy, series: readonly SeriesEntry[]): SimulationResult =>
  simulate({ policy, series, releaseMinute: 0, deployment: CANARY_10_FOR_10 });
const path = (result: SimulationResult, name: PathOutcome['path']) => result.paths.find((p) => p.path === name)!;

describe('an SLI read as declared: the policy says how the evaluator reads it', () => {
  it('marks the rollback alarm of a service-wide custom metric evaluatorReads "declared"', () => {
    expect(declared.slos[0].sli.scope).toBe('blended');
    expect(declared.rollbackTriggers![0].alarms).toEqual([expect.objectContaining({ slo: 'Availability', scope: 'declared', evaluatorReads: 'declared' })]);
    expect(declared.rollbackTriggers![0].alarms[0].baseline).toBeUndefined();
  });

  it('leaves it off a raw SLI on the alias\'s own Lambda metrics: also a declared-scope alarm, but read per ExecutedVersion', () => {
    const [alarm] = perVersion.rollbackTriggers![0].alarms;
    expect(alarm.scope).toBe('declared');
    expect(alarm).not.toHaveProperty('evaluatorReads');
  });

  it('plans the canary minutes as the alarm\'s alone: the evaluator judges the SLO only after the full shift', () => {
    const [shifting] = buildPlan(declared).rollbackTriggers[0].coverage;
    expect(shifting.minutes).toBe('canary and linear steps (both versions serve)');
    expect(shifting.judgedBy).toMatch(/; not the evaluator: it reads SLO Availability as declared \(the whole service: its metrics carry neither the version nor a target group\)/);
    expect(shifting.judgedBy).toMatch(/judges only the minutes after all traffic reached the new version$/);
  });
});

describe('the evaluator replay of an SLI read as declared, from blended entries only', () => {
  it('rolls back a new version that fails 5 % of its requests once it serves all traffic', () => {
    const result = run(suspended, service((m) => (m >= ALL_TRAFFIC ? 0.05 : 0.0005)));
    // The alarm path is suspended: the evaluator decides the deployment.
    expect(path(result, 'alarm')).toMatchObject({ verdict: 'none', rollback: false });
    expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'fail', status: 'Failed', rollback: true, source: 'Availability' });
    expect(result.outcome.reasons[0]).toMatch(/^Availability: the new version/);
    // It reads data up to the tick's end: the decision comes after the first all-traffic minute, with the metric delay.
    expect(result.outcome.minute!).toBeGreaterThan(ALL_TRAFFIC + 3);
    expect(result.outcome.minute!).toBeLessThanOrEqual(ALL_TRAFFIC + 10);
  });

  it('passes a healthy release on the minutes the new version served all traffic', () => {
    const result = run(declared, service(() => 0.0005));
    expect(path(result, 'alarm')).toMatchObject({ verdict: 'none', rollback: false });
    expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass', status: 'Succeeded', rollback: false });
    // The new version's evidence: whole minutes from the full shift on, none of the canary's.
    const canary = result.outcome.observations!.filter((o) => o.arm === 'canary');
    expect(canary).toHaveLength(1);
    // One read of the whole service: no arm of the current version beside it.
    expect(result.outcome.observations!.some((o) => o.arm === 'baseline')).toBe(false);
    expect(canary[0].totalEvents).toBeGreaterThanOrEqual(declared.rollbackTriggers![0].alarms[0].minEvents);
    expect(canary[0].totalEvents % REQUESTS).toBe(0);
  });

  it('says in its reasons that it reads the SLI as declared, which minutes it judged, and drops the "no per-version entries" note', () => {
    const evaluator = path(run(declared, service(() => 0.0005)), 'evaluator');
    const note = evaluator.reasons.find((r) => r.startsWith('SLO Availability: '));
    expect(note).toMatch(
      /^SLO Availability: the evaluator reads the SLI as declared \(the whole service: the series' blended entries; its metrics carry neither the version nor a target group\): it judged minutes 10 to \d+, after all traffic reached the new version, against the minutes before the release as the current version's; the shift's minutes 0 to 9 are no evidence for it \(the rollback alarm judges them on its burn rate alone\)$/,
    );
    expect(evaluator.reasons.join('\n')).not.toMatch(/per-version entries|per-version data/);
  });

  it('takes the canary minutes as no evidence: a version broken only during the canary passes the evaluator, and the alarm path rolls it back', () => {
    const result = run(declared, service((m) => (m < ALL_TRAFFIC ? 1 : 0.0005)));
    // 10 % of all requests failing is 100× the budget on the blended alarm: it fires in the canary.
    expect(result.outcome).toMatchObject({ path: 'alarm', verdict: 'fail', rollback: true, source: 'Shop/Rollback/Availability/declared/page-1h' });
    expect(result.outcome.minute!).toBeLessThan(ALL_TRAFFIC);
    expect(path(result, 'evaluator')).toMatchObject({ verdict: 'pass', status: 'Succeeded' });
  });

  it('without a minute of all traffic read, is inconclusive and says why: no minute after the full shift, not a misdimensioned metric', () => {
    // The series stops at the last canary minute: no datapoint after the shift.
    const evaluator = path(run(declared, service(() => 0.0005, ALL_TRAFFIC - 1)), 'evaluator');
    expect(evaluator).toMatchObject({ verdict: 'inconclusive', status: 'Failed', rollback: true });
    expect(evaluator.reasons).toContain(
      "Availability: no datapoint yet from a minute with all traffic on the new version (the SLI is read as declared: the whole service, the new version's own only after the full shift)",
    );
    expect(evaluator.reasons.join('\n')).not.toMatch(/misdimensioned/);
  });

  it('keeps a raw SLI on the alias\'s Lambda metrics per version: blended entries are no datapoints for it', () => {
    const blended = path(run(perVersion, service((m) => (m >= ALL_TRAFFIC ? 0.05 : 0.0005))), 'evaluator');
    expect(blended).toMatchObject({ verdict: 'inconclusive' });
    expect(blended.reasons.join('\n')).toMatch(/the series has no per-version entries for the new version \(canary\) after the release/);
    expect(blended.reasons.join('\n')).not.toMatch(/as declared/);
    // With per-version entries it reads both versions, the canary minutes included.
    const split = path(run(perVersion, canaryRelease({ canaryErrors: () => 0, stableErrors: oldErrors })), 'evaluator');
    expect(split).toMatchObject({ verdict: 'pass' });
    expect(split.observations!.map((o) => o.arm)).toEqual(expect.arrayContaining(['canary', 'baseline']));
  });
});

describe('the guard window of an SLI read as declared', () => {
  const guarded = synthesize({ guardWindow: Duration.minutes(45), suspendAlarmPath: true });

  it('breaches on the whole service failing after the release succeeded', () => {
    const succeeded = run(guarded, service(() => 0.0005, 200)).outcome.minute!;
    const onset = Math.ceil(succeeded) + 20;
    const result = run(guarded, service((m) => (m >= onset ? 0.05 : 0.0005), 200));
    expect(result.outcome).toMatchObject({ path: 'evaluator', status: 'Succeeded', minute: succeeded });
    expect(result.guardWindow).toMatchObject({ outcome: 'breach', rollback: true });
    expect(result.guardWindow!.breachMinute! - onset).toBeGreaterThan(0);
    expect(result.guardWindow!.breachMinute! - onset).toBeLessThanOrEqual(10);
    expect(run(guarded, service(() => 0.0005, 200)).guardWindow).toMatchObject({ outcome: 'held' });
  });
});

describe('the replay agrees with the bake\'s step Lambda on the same counts', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /**
   * lambda/evaluator run by the test World (resolve, ticks, report) on the series' blended counts,
   * the SLO configured as the construct configures it (declared: one query pair, no arm
   * dimension). The release (minute 0) is the World's CREATED_AT, the full shift (minute 10) its
   * hook start T0, ten minutes later as in CANARY_10_FOR_10.
   */
  async function stepLambda(policy: RollbackPolicy, series: readonly SeriesEntry[], sim: SimulationResult) {
    const settings = sim.evaluatorSettings!;
    const [alarm] = policy.rollbackTriggers![0].alarms;
    const byMinute = new Map(series.map((e) => [e.minute, e]));
    const minuteOf = (epoch: number) => (epoch - CREATED_AT) / 60;
    expect(minuteOf(T0)).toBe(ALL_TRAFFIC);
    const world: World = new World({
      config: {
        tickSeconds: settings.tickSeconds,
        metricDelaySeconds: settings.metricDelaySeconds,
        inconclusiveAction: settings.inconclusiveAction,
        compareWithBaseline: settings.compareWithBaseline,
        baselineFactor: settings.baselineFactor,
        deadlineMarginSeconds: settings.deadlineMarginSeconds,
        slos: [
          {
            ...AVAILABILITY_SLO,
            name: alarm.slo,
            failBurnRate: alarm.tier.factor,
            shortWindowSeconds: alarm.tier.shortWindowSeconds,
            minEvents: alarm.minEvents,
            declared: true,
          },
        ],
      },
      traffic: (id, epoch) => {
        // Read as declared: the canary arm's pair only.
        expect(id.startsWith('s0_canary_')).toBe(true);
        const entry = byMinute.get(minuteOf(epoch));
        return entry === undefined ? undefined : id.endsWith('_t') ? entry.requests : entry.errors;
      },
    });
    const bake = await world.bake();
    return { world, report: bake.final.report!, minute: minuteOf(world.accepted[0].at) };
  }

  it.each([
    ['a regression after the full shift', (m: number) => (m >= ALL_TRAFFIC ? 0.05 : 0.0005), 'Failed'],
    ['a healthy release', () => 0.0005, 'Succeeded'],
  ] as const)('%s: the same status, verdict, reasons and minute', async (_, ratio, status) => {
    const series = service(ratio);
    const sim = run(suspended, series);
    const evaluator = path(sim, 'evaluator');
    const { world, report, minute } = await stepLambda(suspended, series, sim);
    expectReports(world, { accepted: [status] });
    expect({ status: report.status, verdict: report.verdict }).toEqual({ status: evaluator.status, verdict: evaluator.verdict });
    // The simulator's reasons are the decision's, then its notes on what it read.
    expect(evaluator.reasons.slice(0, report.reasons.length)).toEqual(report.reasons);
    expect(minute).toBe(evaluator.minute);
  });
});

describe('a malformed evaluatorReads (RT728)', () => {
  const withAlarm = (policy: RollbackPolicy, edit: Record<string, unknown>): RollbackPolicy => {
    const trigger = policy.rollbackTriggers![0];
    return { ...policy, rollbackTriggers: [{ ...trigger, alarms: trigger.alarms.map((a) => ({ ...a, ...edit })) }] };
  };

  it('refuses another value than "declared"', () => {
    const e = expectRtError(() => run(withAlarm(declared, { evaluatorReads: 'blended' }), service(() => 0)), 'RT728');
    expect(e.message).toMatch(/alarm of SLO Availability \(declared\): evaluatorReads must be "declared" or absent \(per version\), got "blended"/);
  });

  it('refuses it on an alarm that watches the new version', () => {
    const e = expectRtError(() => run(withAlarm(declared, { scope: 'version' }), service(() => 0)), 'RT728');
    expect(e.message).toMatch(/evaluatorReads is "declared", but the alarm watches the new version/);
  });
});

describe('the CLI reads evaluatorReads from the cloud assembly', () => {
  const at = { file: 'Shop.metadata.json', where: '"/Shop/Rollback"[0]' };
  const check = (entry: unknown) => {
    const warnings: string[] = [];
    const checked = checkPolicyEntry({ schemaVersion: 1, entry }, at, (w) => warnings.push(w));
    return { checked, warnings };
  };
  const trigger = declared.rollbackTriggers![0];

  it('takes it as synthesized, without a warning', () => {
    const { checked, warnings } = check(JSON.parse(JSON.stringify(trigger)));
    expect(warnings).toEqual([]);
    expect((checked as typeof trigger).alarms[0].evaluatorReads).toBe('declared');
  });

  it('refuses it on an alarm that watches the new version, and another value, naming the field', () => {
    expect(() => check({ ...trigger, alarms: [{ ...trigger.alarms[0], scope: 'version' }] })).toThrow(
      /field "data\.entry\.alarms\[0\]\.evaluatorReads": is "declared" on a version-scope alarm, whose SLI the evaluator reads per version/,
    );
    expect(() => check({ ...trigger, alarms: [{ ...trigger.alarms[0], evaluatorReads: 'blended' }] })).toThrow(
      /field "data\.entry\.alarms\[0\]\.evaluatorReads": must be how the evaluator reads the SLI when not per version, one of "declared"; got "blended"/,
    );
  });
});
