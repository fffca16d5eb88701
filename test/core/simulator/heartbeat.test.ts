import { App, Stack } from 'aws-cdk-lib';
import { LambdaDeploymentConfig } from 'aws-cdk-lib/aws-codedeploy';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { describe, expect, it } from 'vitest';
import { HeartbeatTrigger, RollbackTarget, RollbackTrigger, ServiceLevelObjective, Sli } from '../../../lib';
import { AuditDetailType, POLICY_SCHEMA_VERSION, type RollbackPolicy, RollbackTriggersError, policyFromEntries } from '../../../lib/core';
import { type SeriesEntry, type SimulationResult, simulate } from '../../../lib/core/simulator';
import { CREATED_AT, type TrafficModel, World } from '../../lambda/fixtures';
import { lambdaCanaryGroup } from '../../helpers';
import { AVAILABILITY_SLO } from '../helpers';
import { CANARY_10_FOR_10, canaryRelease } from './fixtures';

// Heartbeats replayed: the rollback trigger's HeartbeatTrigger (in its alarmTriggers) is judged by
// the evaluator replay with core's heartbeatBakeData and decideBake on the series' `heartbeats`
// values. The agreement tests drive the bake's step Lambda (lambda/evaluator, through
// test/lambda/fixtures.ts) on the same beats and requests: same status, same minute, same reason.

/** A Lambda service released 10 % canary for 10 minutes, a 99.9 % SLO, and a per-version heartbeat (1 min, 3 of 3). */
function heartbeatService(perVersion = true) {
  const versionDimension = perVersion ? 'Version' : undefined;
  const stack = new Stack(new App(), 'Svc');
  const { alias, group } = lambdaCanaryGroup(stack, { deploymentConfig: LambdaDeploymentConfig.CANARY_10PERCENT_10MINUTES });
  const slo = new ServiceLevelObjective(stack, 'Availability', { sli: Sli.lambdaAvailability(alias), objectivePercent: 99.9 });
  const hb = new HeartbeatTrigger(stack, 'Worker', { metric: new Metric({ namespace: 'Workers', metricName: 'Heartbeat', dimensionsMap: { Service: 'orders' } }), versionDimension });
  new RollbackTrigger(stack, 'Rollback', { target: RollbackTarget.lambdaAlias({ deploymentGroup: group, alias }), objectives: [slo], alarmTriggers: [hb] });
  const entries = stack.node
    .findAll()
    .flatMap((c) => (ServiceLevelObjective.isServiceLevelObjective(c) || c instanceof HeartbeatTrigger || c instanceof RollbackTrigger ? [c._policy] : []))
    .map((entry) => ({ schemaVersion: POLICY_SCHEMA_VERSION, entry }));
  return { policy: policyFromEntries(entries, 'Svc'), heartbeat: hb._heartbeat };
}

const service = heartbeatService();

/** A clean canary release whose versions beat as `current(minute)` and `next(minute)` say. */
function withBeats(next: (minute: number) => boolean, current: (minute: number) => boolean = () => true, until = 40): SeriesEntry[] {
  return canaryRelease({ canaryErrors: () => 0, until }).map((e) => {
    const canary = e.minute >= 0 && next(e.minute);
    const stable = current(e.minute);
    // A minute without a value had no beat: the series names the heartbeat every minute all the same.
    return { ...e, heartbeats: { Worker: { ...(canary ? { canary: 1 } : {}), ...(stable ? { stable: 1 } : {}) } } };
  });
}

function run(series: readonly SeriesEntry[], policy: RollbackPolicy = service.policy): SimulationResult {
  return simulate({ policy, series, releaseMinute: 0, deployment: CANARY_10_FOR_10 });
}

const evaluatorOf = (r: SimulationResult) => r.paths.find((p) => p.path === 'evaluator')!;

describe('heartbeats in a replay', () => {
  it('rolls back a release whose new version stops beating, naming the heartbeat as the source', () => {
    const result = run(withBeats((m) => m < 12));
    const evaluator = evaluatorOf(result);
    expect(evaluator).toMatchObject({ verdict: 'fail', status: 'Failed', rollback: true, source: 'heartbeat Worker' });
    // Minutes 12–14 silent, trusted 3 minutes after minute 15 ends.
    expect(evaluator.minute).toBe(18);
    expect(evaluator.reasons[0]).toMatch(/^heartbeat Worker: the new version stopped beating — no beat from the new version in 3 of its last 3 intervals of 1 min/);
    expect(result.outcome).toMatchObject({ path: 'evaluator', rollback: true });
  });

  it('passes the same release when the new version keeps beating', () => {
    expect(evaluatorOf(run(withBeats(() => true)))).toMatchObject({ verdict: 'pass', status: 'Succeeded' });
  });

  it('gives a new version the grace and the canary: first beats 4 or 7 minutes after the release pass, silence 3 minutes into all traffic fails', () => {
    expect(evaluatorOf(run(withBeats((m) => m >= 4)))).toMatchObject({ verdict: 'pass' });
    // Before all traffic is on the new version (the canary's 10 minutes) a silent minute does not count.
    expect(evaluatorOf(run(withBeats((m) => m >= 7)))).toMatchObject({ verdict: 'pass' });
    // Minutes 10–13 silent once all traffic is on it: failed, 3 missing intervals plus the metric delay after minute 10.
    expect(evaluatorOf(run(withBeats((m) => m >= 14)))).toMatchObject({ verdict: 'fail' });
  });

  it('a silence both versions share is inconclusive, not the release\'s', () => {
    const evaluator = evaluatorOf(run(withBeats(() => false, () => false)));
    expect(evaluator).toMatchObject({ verdict: 'inconclusive' });
    expect(evaluator.reasons.join('\n')).toMatch(/the current version did not beat in the hour before the release either/);
  });

  it('a heartbeat without a version dimension reads the beats of both versions together', () => {
    const blended = heartbeatService(false).policy;
    // The current version keeps beating during the canary: the service never goes silent until every worker is the new version's.
    expect(evaluatorOf(run(withBeats(() => false, (m) => m < 10), blended))).toMatchObject({ verdict: 'fail', minute: 16 });
    expect(evaluatorOf(run(withBeats(() => true, (m) => m < 10), blended))).toMatchObject({ verdict: 'pass' });
  });

  it('does not replay a heartbeat the series does not model, and says so', () => {
    const evaluator = evaluatorOf(run(canaryRelease({ canaryErrors: () => 0 })));
    expect(evaluator.verdict).toBe('pass');
    expect(evaluator.reasons).toContain(
      'heartbeat Worker was not replayed: the series has no heartbeats values for it — give its beats per minute (JSON "heartbeats": { "Worker": { "canary": 1, "stable": 1 } }; a minute without one had no beat)',
    );
  });

  it('refuses beat counts that are not whole numbers ≥ 0 (RT703)', () => {
    const series = withBeats(() => true).map((e) => (e.minute === 3 ? { ...e, heartbeats: { Worker: { canary: -1 } } } : e));
    expect(() => run(series)).toThrow(RollbackTriggersError);
    expect(() => run(series)).toThrow(/\[RT703\] series entry 403 \(minute 3\): heartbeats\.Worker\.canary must be a whole number of beats ≥ 0, got -1/);
  });
});

describe('the heartbeat replay agrees with the bake\'s step Lambda on the same series', () => {
  /** Runs lambda/evaluator's bake with the replay's settings, its clock mapped so the release minute is CREATED_AT (the hook starts 10 minutes later, at T0). */
  async function lambdaBake(series: readonly SeriesEntry[], sim: SimulationResult) {
    const settings = sim.evaluatorSettings!;
    const trigger = service.policy.rollbackTriggers![0];
    const alarm = trigger.alarms[0];
    const slo = service.policy.slos.find((s) => s.name === alarm.slo)!;
    const byMinute = new Map(series.map((e) => [e.minute, e]));
    const minuteOf = (epoch: number) => (epoch - CREATED_AT) / 60;
    const model: TrafficModel = (id, epoch) => {
      const entry = byMinute.get(minuteOf(epoch));
      if (id === 'b0_canary') return entry?.heartbeats?.Worker?.canary;
      if (id === 'b0_baseline') return entry?.heartbeats?.Worker?.stable;
      const counts = entry?.[id.startsWith('s0_canary') ? 'canary' : 'stable'];
      if (!counts) return undefined;
      return id.endsWith('_t') ? counts.requests : counts.errors;
    };
    const world = new World({
      traffic: model,
      config: {
        tickSeconds: settings.tickSeconds,
        metricDelaySeconds: settings.metricDelaySeconds,
        inconclusiveAction: settings.inconclusiveAction,
        compareWithBaseline: settings.compareWithBaseline,
        baselineFactor: settings.baselineFactor,
        bakeSeconds: trigger.bakeSeconds,
        slos: [{ ...AVAILABILITY_SLO, name: slo.name, errorBudget: slo.errorBudget, failBurnRate: alarm.tier.factor, shortWindowSeconds: alarm.tier.shortWindowSeconds, minEvents: alarm.minEvents }],
        heartbeats: [service.heartbeat],
      },
    });
    await world.bake();
    expect(world.accepted).toHaveLength(1);
    const verdict = world.audits(AuditDetailType.DEPLOYMENT_VERDICT)[0];
    return { status: world.accepted[0].status, minute: minuteOf(world.accepted[0].at), verdict };
  }

  type Beats = (minute: number) => boolean;
  const cases: Array<[string, Beats, Beats]> = [
    ['stops beating in the bake', (m) => m < 12, () => true],
    ['never beats', () => false, () => true],
    ['beats every minute', () => true, () => true],
    ['first beats after the grace, then steadily', (m) => m >= 4, () => true],
    ['is silent like the current version', () => false, () => false],
  ];
  it.each(cases)('a new version that %s: same status, minute, verdict and reason', async (_, next, current) => {
    const series = withBeats(next, current);
    const sim = run(series);
    const evaluator = evaluatorOf(sim);
    const lambda = await lambdaBake(series, sim);
    expect(lambda.status).toBe(evaluator.status);
    expect(lambda.minute).toBe(evaluator.minute);
    expect(lambda.verdict.verdict).toBe(evaluator.verdict);
    expect(lambda.verdict.reasons[0]).toBe(evaluator.reasons[0]);
  });
});
