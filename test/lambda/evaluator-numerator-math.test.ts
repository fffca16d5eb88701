/**
 * The evaluator reads exactly what the rollback alarm counts: a numerator no single metric
 * publishes (an ALB target group's failed requests, a latency SLO's slow requests) is metric math
 * in the tick's one GetMetricData call — its metrics with ReturnData false, one expression under the
 * numerator's id — and only a `Complete` result of that expression is evidence.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditDetailType } from '../../lib/core';
import { DEADLINE, T0, TG_BLUE, TG_GREEN, type TrafficModel, World, albConfig, expectAudit, expectReports, latencyConfig } from './fixtures';

afterEach(() => {
  vi.restoreAllMocks();
});

/** One minute of one target group, as its ALB metrics count it. */
interface Group {
  readonly requests: number;
  readonly t2xx?: number;
  readonly t3xx?: number;
  readonly t4xx?: number;
  readonly t5xx?: number;
}

/**
 * ALB metrics per target group and minute: green is the new version (canary), blue the current one.
 * `s0_<arm>_n` (a plain numerator) is the targets' 5xx, as the configuration read it before.
 */
const alb =
  (green: Group, blue: Group): TrafficModel =>
  (id) => {
    const m = /^s0_(canary|baseline)_(t|n|n_(t[2-5]xx))$/.exec(id);
    if (!m) return undefined;
    const group = m[1] === 'canary' ? green : blue;
    if (m[2] === 't') return group.requests;
    return group[(m[3] ?? 't5xx') as 't5xx'];
  };

/** A green task set that crashes: the load balancer answers 100 of its 1,000 requests a minute with 502. */
const crashingGreen: Group = { requests: 1_000, t2xx: 880, t4xx: 20 };
const healthyBlue: Group = { requests: 1_000, t2xx: 995, t4xx: 5 };

describe('an ALB target group: failed requests as the alarm counts them', () => {
  it('fails a green task set whose requests the load balancer answers with 502s (no target 5xx at all)', async () => {
    const world = new World({ platform: 'ecs', config: { slos: albConfig().slos }, traffic: alb(crashingGreen, healthyBlue) });

    await world.bake();

    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at).toBe(T0);
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed', toVersion: 'ecs-svc/green' });
    // Seven minutes (deployment start → T0 − 180 s): 100 of every 1,000 requests failed, 100×.
    expect(verdict.observations).toContainEqual(expect.objectContaining({ arm: 'canary', totalEvents: 7_000, badEvents: 700, burnRate: 100 }));

    // One call: the parts without data returned, the expression under the numerator's id, per arm.
    expect(world.metricCalls()).toHaveLength(1);
    const queries = world.metricCalls()[0].MetricDataQueries!;
    const byId = Object.fromEntries(queries.map((q) => [q.Id!, q]));
    for (const [arm, group] of [
      ['canary', TG_GREEN],
      ['baseline', TG_BLUE],
    ]) {
      for (const part of ['t2xx', 't3xx', 't4xx', 't5xx']) {
        const q = byId[`s0_${arm}_n_${part}`];
        expect(q).toMatchObject({ ReturnData: false, MetricStat: { Period: 60, Stat: 'Sum', Metric: { Namespace: 'AWS/ApplicationELB', MetricName: `HTTPCode_Target_${part[1]}XX_Count` } } });
        expect(q.MetricStat!.Metric!.Dimensions).toContainEqual({ Name: 'TargetGroup', Value: expect.stringContaining(group) });
      }
      expect(byId[`s0_${arm}_n`]).toEqual({
        Id: `s0_${arm}_n`,
        ReturnData: true,
        Expression:
          `FILL(s0_${arm}_n_t5xx, 0) + IF(s0_${arm}_t - (FILL(s0_${arm}_n_t2xx, 0) + FILL(s0_${arm}_n_t3xx, 0) + FILL(s0_${arm}_n_t4xx, 0) + FILL(s0_${arm}_n_t5xx, 0)) > 0, ` +
          `s0_${arm}_t - (FILL(s0_${arm}_n_t2xx, 0) + FILL(s0_${arm}_n_t3xx, 0) + FILL(s0_${arm}_n_t4xx, 0) + FILL(s0_${arm}_n_t5xx, 0)), 0)`,
      });
      expect(byId[`s0_${arm}_t`]).toMatchObject({ ReturnData: true, MetricStat: { Metric: { MetricName: 'RequestCount' }, Stat: 'Sum' } });
    }
    expect(new Set(queries.map((q) => q.Id)).size).toBe(queries.length);
  });

  it('the same release passed when the evaluator read the targets’ 5xx only (the configuration it replaces)', async () => {
    const world = new World({ platform: 'ecs', traffic: alb(crashingGreen, healthyBlue) });
    expect(world.config.slos[0].numerator).toMatchObject({ metricName: 'HTTPCode_Target_5XX_Count' });

    await world.bake();

    expectReports(world, { accepted: ['Succeeded'] });
  });

  it('passes a healthy green task set: responses that outnumber the requests of a minute are no negative failures', async () => {
    const world = new World({ platform: 'ecs', config: { slos: albConfig().slos }, traffic: alb({ requests: 1_000, t2xx: 1_002, t5xx: 0 }, healthyBlue) });

    await world.bake();

    expectReports(world, { accepted: ['Succeeded'] });
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'pass' });
    expect(verdict.observations).toContainEqual(expect.objectContaining({ arm: 'canary', badEvents: 0 }));
  });
});

describe('a latency SLO: slow invocations from the percentile rank', () => {
  /** Invocations a minute and the percentile rank PR(:300) of their Duration, per version. */
  const latency =
    (canaryRank: number | undefined, baselineRank = 100, perMinute = 1_000): TrafficModel =>
    (id) => {
      if (id.endsWith('_t')) return perMinute;
      if (id === 's0_canary_n_pr') return canaryRank;
      if (id === 's0_baseline_n_pr') return baselineRank;
      return undefined;
    };

  it('fails a version 30 % of whose invocations are slower than the threshold (PR(:300) = 70)', async () => {
    const world = new World({ config: { slos: latencyConfig().slos }, traffic: latency(70) });

    await world.bake();

    expectReports(world, { accepted: ['Failed'] });
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail' });
    expect(verdict.observations).toContainEqual(expect.objectContaining({ slo: 'orders-latency', arm: 'canary', totalEvents: 7_000, badEvents: 2_100, burnRate: 30 }));
    const queries = world.metricCalls()[0].MetricDataQueries!;
    expect(queries.find((q) => q.Id === 's0_canary_n_pr')).toMatchObject({
      ReturnData: false,
      MetricStat: { Period: 60, Stat: 'PR(:300)', Metric: { Namespace: 'AWS/Lambda', MetricName: 'Duration', Dimensions: expect.arrayContaining([{ Name: 'ExecutedVersion', Value: '2' }]) } },
    });
    expect(queries.find((q) => q.Id === 's0_canary_n')).toEqual({ Id: 's0_canary_n', ReturnData: true, Expression: 'FLOOR(s0_canary_t * (100 - FILL(s0_canary_n_pr, 100)) / 100 + 0.5)' });
  });

  it('passes a version whose slow share stays within budget, and counts whole invocations (1,000 × 0.3 % = 3 a minute)', async () => {
    const world = new World({ config: { slos: latencyConfig().slos }, traffic: latency(99.7) });

    await world.bake();

    expectReports(world, { accepted: ['Succeeded'] });
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'pass' });
    // 20 minutes (deployment start → end of the bake), 3 slow a minute: 100 − 99.7 is 0.29999999999999716 in floating point.
    expect(verdict.observations).toContainEqual(expect.objectContaining({ slo: 'orders-latency', arm: 'canary', totalEvents: 20_000, badEvents: 60 }));
  });

  it('a minute with invocations but no Duration datapoint has no slow invocation: FILL(pr, 100)', async () => {
    const world = new World({ config: { slos: latencyConfig().slos }, traffic: latency(undefined) });

    await world.bake();

    expectReports(world, { accepted: ['Succeeded'] });
    expect(expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'pass' }).observations).toContainEqual(
      expect.objectContaining({ slo: 'orders-latency', arm: 'canary', totalEvents: 20_000, badEvents: 0 }),
    );
  });
});

describe('the expression’s result is the evidence', () => {
  it('Forbidden for the expression of a failing green task set: never a pass — inconclusive → Failed, named in the audit', async () => {
    const world = new World({ platform: 'ecs', config: { slos: albConfig().slos }, traffic: alb(crashingGreen, healthyBlue) });
    world.statusModel = (id) => (id === 's0_canary_n' ? 'Forbidden' : undefined);

    await world.bake();

    expectReports(world, { accepted: ['Failed'] });
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Failed' });
    expect(verdict.reasons).toContainEqual(
      'orders-availability: GetMetricData answered Forbidden for query s0_canary_n: the evaluator is not allowed to read this metric (configuration error: waiting will not fix it)',
    );
    expect(verdict.observations).toEqual([]);
  });

  it('InternalError for the expression of a slow version on every read: retried, never a pass — inconclusive at the deadline', async () => {
    const world = new World({ config: { slos: latencyConfig().slos }, traffic: (id) => (id.endsWith('_t') ? 1_000 : id === 's0_canary_n_pr' ? 70 : undefined) });
    world.statusModel = (id) => (id === 's0_canary_n' ? 'InternalError' : undefined);

    await world.bake();

    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at).toBeGreaterThanOrEqual(DEADLINE);
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Failed' });
    expect(verdict.reasons).toContainEqual('orders-latency: GetMetricData answered InternalError for query s0_canary_n');
  });
});
