import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { Vpc } from 'aws-cdk-lib/aws-ec2';
import { ApplicationLoadBalancer, ApplicationTargetGroup, ListenerAction, TargetType } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { describe, expect, it } from 'vitest';
import { ServiceLevelObjective, Sli, SliKind, SliScope } from '../../lib';
import { countMetric, lambdaFunction, liveAlias, metricAlarms, newStack } from '../helpers';

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

  it('counts slow invocations with a trimmed count of Duration against its sample count', () => {
    const stack = newStack();
    const sli = Sli.lambdaLatency(liveAlias(stack), Duration.millis(300));
    expect(sli.kind).toBe(SliKind.LATENCY);
    expect(sli.latencyThreshold).toBe(300);
    slo(stack, sli, 99);
    const q = hourQueries(stack);
    expect(q.expr_1.Expression).toBe('IF(total >= 7, (total - FILL(good, 0)) / total, 0) / 0.01');
    expect(q.good.MetricStat).toMatchObject({ Stat: 'TC(:300)', Metric: { MetricName: 'Duration' } });
    expect(q.total.MetricStat).toMatchObject({ Stat: 'SampleCount', Metric: { MetricName: 'Duration' } });
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

  it('divides target 5xx by requests of one target group', () => {
    const stack = newStack();
    const sli = Sli.targetGroupAvailability(targetGroup(stack));
    expect(sli.scope).toBe(SliScope.TARGET_GROUP);
    slo(stack, sli);
    const q = hourQueries(stack);
    expect(q.bad.MetricStat.Metric).toMatchObject({ Namespace: 'AWS/ApplicationELB', MetricName: 'HTTPCode_Target_5XX_Count' });
    expect(q.total.MetricStat.Metric.MetricName).toBe('RequestCount');
    expect(q.bad.MetricStat.Metric.Dimensions.map((d: any) => d.Name).sort()).toEqual(['LoadBalancer', 'TargetGroup']);
  });

  it('counts slow requests from TargetResponseTime in seconds', () => {
    const stack = newStack();
    slo(stack, Sli.targetGroupLatency(targetGroup(stack), Duration.millis(250)), 99);
    const q = hourQueries(stack);
    expect(q.good.MetricStat).toMatchObject({ Stat: 'TC(:0.25)', Metric: { MetricName: 'TargetResponseTime' } });
    expect(q.total.MetricStat.Stat).toBe('SampleCount');
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

  it('builds a latency SLI from any per-request latency metric', () => {
    const stack = newStack();
    slo(stack, Sli.latency({ latency: new Metric({ namespace: 'Shop', metricName: 'Latency' }), threshold: 120, description: 'checkout under 120 ms' }), 99);
    expect(hourQueries(stack).good.MetricStat.Stat).toBe('TC(:120)');
  });

  it('uses a slow-request count as given', () => {
    const stack = newStack();
    slo(stack, Sli.slowRequestRatio({ slowRequests: countMetric('Slow'), totalRequests: countMetric('All') }), 99);
    expect(hourQueries(stack).bad.MetricStat.Metric.MetricName).toBe('Slow');
  });
});
