import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { Vpc } from 'aws-cdk-lib/aws-ec2';
import { ApplicationLoadBalancer, ApplicationTargetGroup, ListenerAction, TargetType } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { describe, expect, it } from 'vitest';
import { ServiceLevelObjective, Sli, SliKind, SliScope } from '../../lib';
import { countMetric, lambdaFunction, liveAlias, metricAlarms, newStack } from '../helpers';
import {
  ALB_METRICS_DOCS,
  DOCUMENTED_TARGET_GROUP_METRICS,
  HAZARDS,
  LOAD_BALANCER_ONLY_METRICS,
  MORE_RESPONSES_THAN_REQUESTS,
  evaluateQueries,
  returned,
  windowValues,
} from './target-group-hazards';

/** The metric queries of the stack's 1-hour window alarm, by id. */
function hourQueries(stack: Stack): Record<string, any> {
  const alarm = Object.values(metricAlarms(stack)).find((a) => a.Properties.Metrics.some((m: any) => m.MetricStat?.Period === 3600))!;
  return Object.fromEntries(alarm.Properties.Metrics.map((m: any) => [m.Id, m]));
}

function slo(stack: Stack, sli: Sli, objectivePercent = 99.9) {
  return new ServiceLevelObjective(stack, 'Slo', { sli, objectivePercent });
}

describe('Lambda SLIs', () => {
  it('measures a whole function as blended traffic', () => {
    const stack = newStack();
    const sli = Sli.lambdaAvailability(lambdaFunction(stack));
    expect(sli.scope).toBe(SliScope.BLENDED);
    slo(stack, sli);
    const q = hourQueries(stack);
    expect(q.bad.MetricStat).toMatchObject({ Stat: 'Sum', Metric: { Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: [{ Name: 'FunctionName' }] } });
    expect(q.total.MetricStat.Metric.MetricName).toBe('Invocations');
  });

  it('scopes an alias to one executed version with the ExecutedVersion dimension', () => {
    const stack = newStack();
    const fn = lambdaFunction(stack);
    const alias = liveAlias(stack, fn);
    const sli = Sli.lambdaAvailability(alias, { executedVersion: fn.currentVersion });
    expect(sli.scope).toBe(SliScope.VERSION);
    slo(stack, sli);
    const names = hourQueries(stack).bad.MetricStat.Metric.Dimensions.map((d: any) => d.Name);
    expect(names).toEqual(['ExecutedVersion', 'FunctionName', 'Resource']);
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              Dimensions: Match.arrayWith([{ Name: 'ExecutedVersion', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('FnCurrentVersion'), 'Version'] } }]),
            }),
          }),
        }),
      ]),
    });
  });

  it('measures the alias as blended traffic without executedVersion', () => {
    const stack = newStack();
    expect(Sli.lambdaAvailability(liveAlias(stack)).scope).toBe(SliScope.BLENDED);
  });

  it('measures a version through its qualifier', () => {
    const stack = newStack();
    const sli = Sli.lambdaAvailability(lambdaFunction(stack).currentVersion);
    expect(sli.scope).toBe(SliScope.VERSION);
    slo(stack, sli);
    expect(hourQueries(stack).bad.MetricStat.Metric.Dimensions.map((d: any) => d.Name)).toEqual(['FunctionName', 'Resource']);
  });

  it('refuses executedVersion without an alias', () => {
    const stack = newStack();
    const fn = lambdaFunction(stack);
    expect(() => Sli.lambdaAvailability(fn, { executedVersion: fn.currentVersion })).toThrow(/RT110.*through an alias/);
  });

  it('counts slow invocations as Invocations × the share of Duration above the threshold (percentile rank)', () => {
    const stack = newStack();
    const sli = Sli.lambdaLatency(liveAlias(stack), Duration.millis(300));
    expect(sli.kind).toBe(SliKind.LATENCY);
    expect(sli.latencyThreshold).toBe(300);
    slo(stack, sli, 99);
    const q = hourQueries(stack);
    expect(q.expr_1.Expression).toBe('IF(total >= 7, FILL(bad, 0) / total, 0) / 0.01');
    // bad: its own expression query; PR(:300) is the percentage of samples at or below 300 ms.
    expect(q.bad).toMatchObject({ Expression: 'FLOOR(total * (100 - FILL(pr, 100)) / 100 + 0.5)', ReturnData: false });
    expect(q.pr.MetricStat).toMatchObject({ Stat: 'PR(:300)', Period: 3600, Metric: { Namespace: 'AWS/Lambda', MetricName: 'Duration' } });
    expect(q.total.MetricStat).toMatchObject({ Stat: 'Sum', Period: 3600, Metric: { Namespace: 'AWS/Lambda', MetricName: 'Invocations' } });
    expect(q.pr.MetricStat.Metric.Dimensions).toEqual(q.total.MetricStat.Metric.Dimensions);
    expect(Object.keys(q).sort()).toEqual(['bad', 'expr_1', 'pr', 'total']);
  });

  it('reads no trimmed count and no SampleCount in any Lambda latency alarm', () => {
    const stack = newStack();
    slo(stack, Sli.lambdaLatency(liveAlias(stack), Duration.millis(300)), 99);
    const stats = Object.values(metricAlarms(stack)).flatMap((a) => a.Properties.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Stat));
    expect(stats.length).toBeGreaterThan(0);
    expect(new Set(stats)).toEqual(new Set(['Sum', 'PR(:300)']));
  });

  it('gives a window’s slow invocations from its percentile rank, and none without Duration samples', () => {
    const stack = newStack();
    slo(stack, Sli.lambdaLatency(liveAlias(stack), Duration.millis(300)), 99);
    const queries = Object.values(metricAlarms(stack)).find((a) => a.Properties.Metrics.some((m: any) => m.MetricStat?.Period === 3600))!.Properties.Metrics;
    // 2,000 invocations in the hour, 97.5 % of them at or below 300 ms: 50 slow, 2.5 % over a 1 % budget.
    const values = evaluateQueries(queries, { total: 2_000, pr: 97.5 });
    expect(values.bad).toBe(50);
    expect(values[returned(queries).Id]).toBeCloseTo(2.5, 9);
    // Invocations but no Duration datapoint: no slow invocation, a burn rate of 0.
    expect(evaluateQueries(queries, { total: 2_000, pr: undefined })[returned(queries).Id]).toBe(0);
  });

  it('counts whole slow invocations: total × (100 − PR) / 100 in floating point is rounded', () => {
    const stack = newStack();
    slo(stack, Sli.lambdaLatency(liveAlias(stack), Duration.millis(300)), 99);
    const queries = Object.values(metricAlarms(stack)).find((a) => a.Properties.Metrics.some((m: any) => m.MetricStat?.Period === 3600))!.Properties.Metrics;
    // Unrounded, half of these come out a hair off (3 of 7 as 3.0000000000000004, some a hair
    // under): a rollback alarm subtracting the new version's count from the alias's would see -1e-13.
    for (let total = 1; total <= 300; total++) {
      for (let slow = 0; slow <= total; slow++) {
        const value = evaluateQueries(queries, { total, pr: (100 * (total - slow)) / total }).bad;
        if (value !== slow) expect(value, `${slow} slow of ${total}`).toBe(slow);
      }
    }
  });

  it('rejects a non-positive latency threshold', () => {
    const stack = newStack();
    expect(() => Sli.lambdaLatency(lambdaFunction(stack), Duration.millis(0))).toThrow(/RT111/);
  });
});

describe('ALB target group SLIs', () => {
  function targetGroup(stack: Stack) {
    const vpc = new Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
    const lb = new ApplicationLoadBalancer(stack, 'Lb', { vpc });
    const tg = new ApplicationTargetGroup(stack, 'Green', { vpc, port: 80, targetType: TargetType.IP });
    lb.addListener('Http', { port: 80, defaultAction: ListenerAction.forward([tg]) });
    return tg;
  }

  /** The stack's 5-minute window alarm (the page tier's short window): its metric queries. */
  function shortWindowQueries(stack: Stack): any[] {
    const alarm = Object.values(metricAlarms(stack)).find((a) => a.Properties.Metrics.some((m: any) => m.MetricStat?.Period === 300))!;
    return alarm.Properties.Metrics;
  }

  it("counts the targets' 5xx and the requests without a target response over RequestCount of one target group", () => {
    const stack = newStack();
    const sli = Sli.targetGroupAvailability(targetGroup(stack));
    expect(sli.scope).toBe(SliScope.TARGET_GROUP);
    expect(sli.kind).toBe(SliKind.ERROR_RATIO);
    slo(stack, sli);
    const q = hourQueries(stack);
    expect(q.expr_1.Expression).toBe('IF(total >= 70, FILL(bad, 0) / total, 0) / 0.001');
    // total: RequestCount (a count of requests, not a SampleCount).
    expect(q.total.MetricStat).toMatchObject({ Stat: 'Sum', Metric: { Namespace: 'AWS/ApplicationELB', MetricName: 'RequestCount' } });
    // bad: its own expression query over total and the targets' 2xx–5xx, never below the 5xx.
    expect(q.bad.Expression).toBe(
      'FILL(t5xx, 0) + IF(total - (FILL(t2xx, 0) + FILL(t3xx, 0) + FILL(t4xx, 0) + FILL(t5xx, 0)) > 0, ' +
        'total - (FILL(t2xx, 0) + FILL(t3xx, 0) + FILL(t4xx, 0) + FILL(t5xx, 0)), 0)',
    );
    expect(q.bad.ReturnData).toBe(false);
    for (const [id, code] of [
      ['t2xx', '2XX'],
      ['t3xx', '3XX'],
      ['t4xx', '4XX'],
      ['t5xx', '5XX'],
    ]) {
      expect(q[id].MetricStat).toMatchObject({ Stat: 'Sum', Period: 3600, Metric: { Namespace: 'AWS/ApplicationELB', MetricName: `HTTPCode_Target_${code}_Count` } });
      expect(q[id].ReturnData).toBe(false);
    }
    // One RequestCount query, read by both expressions.
    expect(Object.values(q).filter((m: any) => m.MetricStat?.Metric.MetricName === 'RequestCount')).toHaveLength(1);
  });

  it('reads only metrics the ALB metrics page documents per TargetGroup, with a statistic it documents, and no SampleCount', () => {
    const stack = newStack();
    slo(stack, Sli.targetGroupAvailability(targetGroup(stack)));
    for (const alarm of Object.values(metricAlarms(stack))) {
      const stats = alarm.Properties.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat);
      expect(stats).toHaveLength(5);
      for (const stat of stats) {
        const name = stat.Metric.MetricName;
        const documented = DOCUMENTED_TARGET_GROUP_METRICS[name];
        expect(documented, `${name} is not documented per TargetGroup on ${ALB_METRICS_DOCS}`).toBeDefined();
        expect(LOAD_BALANCER_ONLY_METRICS).not.toContain(name);
        expect(stat.Metric.Namespace).toBe('AWS/ApplicationELB');
        const dimensions = stat.Metric.Dimensions.map((d: any) => d.Name).sort();
        expect(documented.targetGroupDimensions).toContainEqual(dimensions);
        expect(documented.statistics).toContain(stat.Stat);
      }
    }
  });

  it('reads 5 metrics and 2 expressions in each SLO alarm, and records 5 metrics in the policy', () => {
    const stack = newStack();
    const objective = slo(stack, Sli.targetGroupAvailability(targetGroup(stack)));
    const queries = shortWindowQueries(stack);
    expect(queries.filter((m: any) => m.MetricStat)).toHaveLength(5);
    expect(queries.filter((m: any) => m.Expression)).toHaveLength(2);
    expect(objective._policy.sli.metricCount).toBe(5);
    expect(objective._policy.alarms.every((a) => a.metricCount === 5)).toBe(true);
  });

  describe.each(HAZARDS)('the SLO alarm counts $name', ({ window, failed }) => {
    it(`as ${failed} failed requests out of ${window.requests}, where HTTPCode_Target_5XX_Count alone counts ${window.t5xx ?? 0}`, () => {
      const stack = newStack();
      slo(stack, Sli.targetGroupAvailability(targetGroup(stack)));
      const queries = shortWindowQueries(stack);
      const values = evaluateQueries(queries, windowValues(window));
      expect(values.bad).toBe(failed);
      // The 5-minute alarm's burn rate: the failed share over the 0.1 % budget.
      expect(values[returned(queries).Id]).toBeCloseTo(failed / window.requests! / 0.001, 9);
      // Every hazard but the targets' own 5xx was invisible to the SLI that counted 5xx only.
      if (failed > (window.t5xx ?? 0)) expect(values[returned(queries).Id]).toBeGreaterThan(((window.t5xx ?? 0) / window.requests! / 0.001) * 2);
    });
  });

  it('never counts fewer failures than the 5xx when responses outnumber the requests of the window', () => {
    const stack = newStack();
    slo(stack, Sli.targetGroupAvailability(targetGroup(stack)));
    const values = evaluateQueries(shortWindowQueries(stack), windowValues(MORE_RESPONSES_THAN_REQUESTS.window));
    expect(values.bad).toBe(MORE_RESPONSES_THAN_REQUESTS.failed);
  });

  it('has no datapoint, and no burn, in a window without requests', () => {
    const stack = newStack();
    slo(stack, Sli.targetGroupAvailability(targetGroup(stack)));
    const queries = shortWindowQueries(stack);
    const values = evaluateQueries(queries, windowValues({ requests: undefined }));
    expect(values[returned(queries).Id]).toBeUndefined();
  });

  it('counts slow requests as RequestCount × the share of TargetResponseTime above the threshold (in seconds), with no SampleCount', () => {
    const stack = newStack();
    slo(stack, Sli.targetGroupLatency(targetGroup(stack), Duration.millis(250)), 99);
    const q = hourQueries(stack);
    expect(q.expr_1.Expression).toBe('IF(total >= 7, FILL(bad, 0) / total, 0) / 0.01');
    expect(q.bad).toMatchObject({ Expression: 'FLOOR(total * (100 - FILL(pr, 100)) / 100 + 0.5)', ReturnData: false });
    expect(q.pr.MetricStat).toMatchObject({ Stat: 'PR(:0.25)', Metric: { Namespace: 'AWS/ApplicationELB', MetricName: 'TargetResponseTime' } });
    expect(q.total.MetricStat).toMatchObject({ Stat: 'Sum', Metric: { Namespace: 'AWS/ApplicationELB', MetricName: 'RequestCount' } });
    // Both per TargetGroup and LoadBalancer, as the ALB page documents them.
    for (const id of ['pr', 'total']) expect(q[id].MetricStat.Metric.Dimensions.map((d: any) => d.Name).sort()).toEqual(['LoadBalancer', 'TargetGroup']);
    for (const alarm of Object.values(metricAlarms(stack))) {
      for (const m of alarm.Properties.Metrics.filter((m: any) => m.MetricStat)) expect(m.MetricStat.Stat).not.toBe('SampleCount');
    }
  });

  it('reads 2 metrics in each latency alarm (RequestCount and TargetResponseTime) and records 2 in the policy', () => {
    const stack = newStack();
    const objective = slo(stack, Sli.targetGroupLatency(targetGroup(stack), Duration.millis(250)), 99);
    expect(objective._policy.sli.metricCount).toBe(2);
    expect(shortWindowQueries(stack).filter((m: any) => m.MetricStat)).toHaveLength(2);
  });
});

describe('raw-metric SLIs', () => {
  it('turns good and total into bad = total − good', () => {
    const stack = newStack();
    slo(stack, Sli.successRatio({ goodEvents: countMetric('Ok'), totalEvents: countMetric('All') }));
    expect(hourQueries(stack).expr_1.Expression).toBe('IF(total >= 70, (total - FILL(good, 0)) / total, 0) / 0.001');
  });

  it('labels business failures and keeps the declared scope', () => {
    const sli = Sli.businessFailureRatio({ failures: countMetric('PaymentsFailed'), attempts: countMetric('Payments'), scope: SliScope.VERSION });
    expect(sli.kind).toBe(SliKind.BUSINESS_FAILURE);
    expect(sli.scope).toBe(SliScope.VERSION);
    expect(sli.description).toBe('failed operations / attempted operations');
  });

  it('builds a latency SLI from any per-request latency metric: SampleCount × the share above the threshold', () => {
    const stack = newStack();
    slo(stack, Sli.latency({ latency: new Metric({ namespace: 'Shop', metricName: 'Latency' }), threshold: 120, description: 'checkout under 120 ms' }), 99);
    const q = hourQueries(stack);
    expect(q.bad.Expression).toBe('FLOOR(total * (100 - FILL(pr, 100)) / 100 + 0.5)');
    expect(q.pr.MetricStat).toMatchObject({ Stat: 'PR(:120)', Metric: { Namespace: 'Shop', MetricName: 'Latency' } });
    expect(q.total.MetricStat).toMatchObject({ Stat: 'SampleCount', Metric: { Namespace: 'Shop', MetricName: 'Latency' } });
  });

  it('uses a slow-request count as given', () => {
    const stack = newStack();
    slo(stack, Sli.slowRequestRatio({ slowRequests: countMetric('Slow'), totalRequests: countMetric('All') }), 99);
    expect(hourQueries(stack).bad.MetricStat.Metric.MetricName).toBe('Slow');
  });
});
