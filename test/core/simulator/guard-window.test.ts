import { Duration } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { TriggerMode } from '../../../lib';
import { AuditDetailType, type RollbackPolicy, guardInput } from '../../../lib/core';
import { type SeriesEntry, type SimulationResult, simulate } from '../../../lib/core/simulator';
import { AVAILABILITY_SLO } from '../helpers';
import { DEPLOYMENT_ID, SHA_V1, T0, type TrafficModel, World } from '../../lambda/fixtures';
import { CANARY_10_FOR_10, canaryRelease, lambdaService } from './fixtures';

// The guard window replayed: after the release succeeds, the page tier is still judged on the new
// version's own traffic with the follow-up machine's clock and core's decideBake. Policies come from
// real constructs (fixtures.ts); the agreement tests drive the follow-up step Lambda itself
// (lambda/follow-up/guard.ts, through test/lambda/fixtures.ts) on the same counts.

/** Long enough for a regression 30 minutes after the success to show. */
const GUARD = Duration.minutes(45);
const guarded = lambdaService({ guardWindow: GUARD }).policy;
const guardedShadow = lambdaService({ guardWindow: GUARD, mode: TriggerMode.SHADOW }).policy;

function run(policy: RollbackPolicy, series: readonly SeriesEntry[]): SimulationResult {
  return simulate({ policy, series, releaseMinute: 0, deployment: CANARY_10_FOR_10 });
}

/** When the clean release succeeds (the evaluator's report), from a replay without a guard window. */
const succeededAt = run(lambdaService().policy, canaryRelease({ canaryErrors: () => 0, until: 200 })).outcome.minute!;
/** A regression of 5 % failed requests on the new version, from 30 minutes after the release succeeded. */
const onset = Math.ceil(succeededAt) + 30;
const regression = (m: number, requests: number) => (m >= onset ? Math.round(requests * 0.05) : 0);

describe('the guard window in a replay', () => {
  it('catches a regression 30 minutes after a clean release within 10 minutes of its onset, and names the minute', () => {
    const result = run(guarded, canaryRelease({ canaryErrors: regression, until: 200 }));
    expect(result.outcome).toMatchObject({ path: 'evaluator', status: 'Succeeded', minute: succeededAt });
    const g = result.guardWindow!;
    expect(g).toMatchObject({ outcome: 'breach', rollback: true, startMinute: Math.floor(succeededAt), durationSeconds: 2_700 });
    expect(g.breachMinute).toBeGreaterThan(onset);
    expect(g.breachMinute! - onset).toBeLessThanOrEqual(10);
    expect(g.endMinute).toBe(g.breachMinute);
    expect(g.reasons[0]).toContain(`breached afterwards at minute ${g.breachMinute}`);
    expect(g.reasons.some((r) => r.startsWith('Availability: the new version'))).toBe(true);
  });

  it('holds on a clean series that covers the whole window', () => {
    const g = run(guarded, canaryRelease({ canaryErrors: () => 0, until: 200 })).guardWindow!;
    expect(g.outcome).toBe('held');
    expect(g.breachMinute).toBeUndefined();
    expect(g.rollback).toBeUndefined();
    // The whole window was judged: from the success minute, 45 minutes of data.
    expect(g.lastJudgedMinute - g.startMinute + 1).toBe(GUARD.toMinutes());
  });

  it('says series-ended, never held, when the series stops before the window does', () => {
    const until = Math.ceil(succeededAt) + 20;
    const g = run(guarded, canaryRelease({ canaryErrors: () => 0, until })).guardWindow!;
    expect(g.outcome).toBe('series-ended');
    expect(g.reasons[0]).toMatch(new RegExp(`^the series ends at minute ${until}, before the guard window's last judged minute`));
  });

  it('still reports a breach that happens before a short series ends', () => {
    const g = run(guarded, canaryRelease({ canaryErrors: regression, until: onset + 12 })).guardWindow!;
    expect(g.outcome).toBe('breach');
  });

  it('in shadow mode only audits: wouldRollback, no rollback', () => {
    const result = run(guardedShadow, canaryRelease({ canaryErrors: regression, until: 200 }));
    const g = result.guardWindow!;
    expect(g).toMatchObject({ outcome: 'breach', rollback: false, wouldRollback: true });
    expect(g.reasons[0]).toMatch(/^shadow mode: /);
    // Shadow mode does not move the breach: the same judgement as enforcing.
    expect(g.breachMinute).toBe(run(guarded, canaryRelease({ canaryErrors: regression, until: 200 })).guardWindow!.breachMinute);
  });

  it('is not replayed for a shadow release the evaluator would have rolled back: it is never recorded known-good, so no guard window starts', () => {
    const result = run(guardedShadow, canaryRelease({ canaryErrors: (_m, requests) => requests, until: 200 }));
    expect(result.outcome).toMatchObject({ path: 'evaluator', status: 'Succeeded', wouldRollback: true });
    expect(result.guardWindow).toBeUndefined();
  });

  it('is not replayed when the release is rolled back (nothing to guard)', () => {
    const result = run(guarded, canaryRelease({ canaryErrors: (_m, requests) => requests, until: 200 }));
    expect(result.outcome.rollback).toBe(true);
    expect(result).not.toHaveProperty('guardWindow');
  });

  it('leaves the result of a policy without a guard window as it was: no guardWindow field', () => {
    const series = canaryRelease({ canaryErrors: regression, until: 200 });
    const without = run(lambdaService().policy, series);
    expect(without).not.toHaveProperty('guardWindow');
    // The guard window adds its field and changes nothing else.
    const { guardWindow: _g, ...rest } = run(guarded, series);
    expect(JSON.stringify(rest)).toBe(JSON.stringify(without));
  });
});

describe('the guard window replay agrees with the follow-up step Lambda on the same counts', () => {
  /**
   * Runs lambda/follow-up/guard.ts (guardStart, then guardTick until done) on the series' counts, its
   * clock mapped so the simulated guard's start minute is T0, with the replay's SLO and settings.
   */
  async function evaluatorGuard(policy: RollbackPolicy, series: readonly SeriesEntry[], sim: SimulationResult) {
    const g = sim.guardWindow!;
    const settings = sim.evaluatorSettings!;
    const trigger = policy.rollbackTriggers![0];
    const alarm = trigger.alarms[0];
    const slo = policy.slos.find((s) => s.name === alarm.slo)!;
    const byMinute = new Map(series.map((e) => [e.minute, e]));
    const minuteOf = (epoch: number) => g.startMinute + (epoch - T0) / 60;
    const model: TrafficModel = (id, epoch) => {
      const counts = byMinute.get(minuteOf(epoch))?.[id.startsWith('s0_canary') ? 'canary' : 'stable'];
      if (!counts) return undefined;
      return id.endsWith('_t') ? counts.requests : counts.errors;
    };
    const world = new World({
      traffic: model,
      config: {
        mode: trigger.shadow ? 'shadow' : 'enforce',
        tickSeconds: settings.tickSeconds,
        metricDelaySeconds: settings.metricDelaySeconds,
        inconclusiveAction: settings.inconclusiveAction,
        baselineFactor: settings.baselineFactor,
        slos: [{ ...AVAILABILITY_SLO, name: slo.name, errorBudget: slo.errorBudget, failBurnRate: alarm.tier.factor, shortWindowSeconds: alarm.tier.shortWindowSeconds, minEvents: alarm.minEvents }],
      },
    });
    const completedAt = T0 + (sim.outcome.minute! - g.startMinute) * 60;
    world.now = completedAt;
    const bake = await world.bake(guardInput(DEPLOYMENT_ID, completedAt, { durationSeconds: trigger.guardWindowSeconds!, metricDelaySeconds: settings.metricDelaySeconds }, { version: '1', integrity: SHA_V1 }));
    const last = bake.steps[bake.steps.length - 1];
    return { world, endMinute: minuteOf(last.at), breaches: world.audits(AuditDetailType.ROLLBACK_TRIGGERED) };
  }

  it('a breach: at the same minute, with the same reasons, one rollback deployment', async () => {
    const series = canaryRelease({ canaryErrors: regression, until: 200 });
    const sim = run(guarded, series);
    const { world, endMinute, breaches } = await evaluatorGuard(guarded, series, sim);
    expect(breaches).toHaveLength(1);
    expect(world.createdDeployments).toHaveLength(1);
    expect(endMinute).toBe(sim.guardWindow!.breachMinute);
    // The verdict's own reasons, after each side's first sentence.
    expect(breaches[0].reasons.slice(1)).toEqual(sim.guardWindow!.reasons.slice(1));
  });

  it('a held window: no breach, and the guard ends at the same tick', async () => {
    const series = canaryRelease({ canaryErrors: () => 0, until: 200 });
    const sim = run(guarded, series);
    const { world, endMinute, breaches } = await evaluatorGuard(guarded, series, sim);
    expect(breaches).toHaveLength(0);
    expect(world.createdDeployments).toHaveLength(0);
    expect(sim.guardWindow!.outcome).toBe('held');
    expect(endMinute).toBe(sim.guardWindow!.endMinute);
  });

  it('a window longer than the hook\'s hour: a regression 90 minutes after the success, caught at the same minute', async () => {
    const long = lambdaService({ guardWindow: Duration.hours(2) }).policy;
    const late = Math.ceil(succeededAt) + 90;
    const series = canaryRelease({ canaryErrors: (m, requests) => (m >= late ? Math.round(requests * 0.05) : 0), until: 300 });
    const sim = run(long, series);
    expect(sim.guardWindow).toMatchObject({ outcome: 'breach', rollback: true });
    expect(sim.guardWindow!.breachMinute! - late).toBeLessThanOrEqual(10);
    const { endMinute, breaches } = await evaluatorGuard(long, series, sim);
    expect(breaches).toHaveLength(1);
    expect(endMinute).toBe(sim.guardWindow!.breachMinute);
  });

  it('shadow mode: the same minute, audited with wouldRollback, no deployment', async () => {
    const series = canaryRelease({ canaryErrors: regression, until: 200 });
    const sim = run(guardedShadow, series);
    const { world, endMinute, breaches } = await evaluatorGuard(guardedShadow, series, sim);
    expect(breaches).toHaveLength(1);
    expect(breaches[0].wouldRollback).toBe(true);
    expect(world.createdDeployments).toHaveLength(0);
    expect(endMinute).toBe(sim.guardWindow!.breachMinute);
  });
});
