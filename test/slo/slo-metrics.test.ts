/**
 * ServiceLevelObjective.metricBurnRate() and metricErrorBudgetRemaining(): the expressions they
 * synthesize (on an alarm and on a dashboard), per SLI kind, the windows they refuse, and a numeric
 * check against the core's burn rate and the emulator's window burn rate.
 */
import { App, CfnElement, Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Alarm, Dashboard, GraphWidget, IMetric, MathExpression, Metric, PeriodOverride, SingleValueWidget } from 'aws-cdk-lib/aws-cloudwatch';
import { Vpc } from 'aws-cdk-lib/aws-ec2';
import { ApplicationLoadBalancer, ApplicationTargetGroup, ListenerAction, TargetType } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AlertSeverity, BurnRateTier, ServiceLevelObjective, type ServiceLevelObjectiveProps, Sli } from '../../lib';
import { burnRate, windowBurnRate } from '../../lib/core';
import { parseAlarmQueries } from '../core/emulator/expression';
import { expectRtError } from '../core/helpers';
import { countMetric, lambdaFunction, metricAlarms, newStack } from '../helpers';

const shopSli = () => Sli.errorRatio({ badEvents: countMetric('Failed'), totalEvents: countMetric('Requests') });

function checkout(stack: Stack = newStack(), props: Partial<ServiceLevelObjectiveProps> = {}, id = 'Checkout'): ServiceLevelObjective {
  return new ServiceLevelObjective(stack, id, { sli: shopSli(), objectivePercent: 99.9, ...props });
}

interface Query {
  readonly Id: string;
  readonly Expression?: string;
  readonly Label?: string;
  readonly ReturnData?: boolean;
  readonly MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions?: Array<{ Name: string; Value: unknown }> }; Period: number; Stat: string };
}

/**
 * The metric queries CloudFormation receives for each metric, as an alarm on it renders them. (An
 * alarm over the compliance period would be refused by CloudWatch at deploy time; the tests only
 * read its queries.)
 */
function renderedQueries(stack: Stack, metrics: IMetric[]): Query[][] {
  const alarms = metrics.map((metric) => new Alarm(stack, `Probe${stack.node.children.length}`, { metric, threshold: 1, evaluationPeriods: 1 }));
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Properties: { Metrics: Query[] } }>;
  return alarms.map((alarm) => resources[stack.getLogicalId(alarm.node.defaultChild as CfnElement)].Properties.Metrics);
}

const returnedOf = (queries: Query[]) => queries.find((q) => q.ReturnData !== false)!;
const byId = (queries: Query[], id: string) => queries.find((q) => q.Id === id)!;
/** The query ids of a metric's math without the suffix that keeps them unique in a graph. */
const bareIds = (text: string) => text.replace(/_[0-9a-f]{10}_[0-9]+\b/g, '');
/** The id of the metric query that reads `metricName`. */
const leafId = (queries: Query[], metricName: string) => queries.find((q) => q.MetricStat?.Metric.MetricName === metricName)!.Id;

describe('metricBurnRate', () => {
  it('is the window alarms’ expression over the window, from the same SLI counts, labelled with the SLO and the window', () => {
    const stack = newStack();
    const slo = checkout(stack);
    const [queries, tierGuarded] = renderedQueries(stack, [slo.metricBurnRate(Duration.hours(1)), slo.metricBurnRate(Duration.hours(1), { minEventsPerWindow: 70 })]);
    const top = returnedOf(queries);
    expect(bareIds(top.Expression!)).toBe('IF(total >= 1, FILL(bad, 0) / total, 0) / 0.001');
    expect(top.Label).toBe('Checkout burn rate over 1 h');
    const leaves = queries.filter((q) => q.MetricStat);
    expect(leaves.map((q) => [bareIds(q.Id), q.MetricStat!.Metric.MetricName, q.MetricStat!.Stat, q.MetricStat!.Period])).toEqual([
      ['bad', 'Failed', 'Sum', 3600],
      ['total', 'Requests', 'Sum', 3600],
    ]);
    // With the tier's own guard it is character for character the page tier's long-window alarm (ids aside).
    const longWindow = Object.values(metricAlarms(stack)).find((a) => a.Properties.Threshold === 14.4 && a.Properties.Metrics.some((m: Query) => m.MetricStat?.Period === 3600))!;
    expect(bareIds(returnedOf(tierGuarded).Expression!)).toBe(returnedOf(longWindow.Properties.Metrics).Expression);
  });

  it('takes a label and a color', () => {
    const slo = checkout();
    const metric = slo.metricBurnRate(Duration.minutes(5), { label: 'fast burn', color: '#d62728' }) as MathExpression;
    expect(metric.label).toBe('fast burn');
    expect(metric.color).toBe('#d62728');
    expect(metric.period.toSeconds()).toBe(300);
  });

  it('measures a Lambda function: Errors over Invocations, per function', () => {
    const stack = newStack();
    const slo = new ServiceLevelObjective(stack, 'Availability', { sli: Sli.lambdaAvailability(lambdaFunction(stack)), objectivePercent: 99.5 });
    const [queries] = renderedQueries(stack, [slo.metricBurnRate(Duration.minutes(30))]);
    expect(bareIds(returnedOf(queries).Expression!)).toBe('IF(total >= 1, FILL(bad, 0) / total, 0) / 0.005');
    for (const [metricName, role] of [
      ['Errors', 'bad'],
      ['Invocations', 'total'],
    ]) {
      const query = byId(queries, leafId(queries, metricName));
      expect(bareIds(query.Id)).toBe(role);
      expect(query.MetricStat).toMatchObject({ Metric: { Namespace: 'AWS/Lambda', Dimensions: [{ Name: 'FunctionName' }] }, Period: 1800, Stat: 'Sum' });
    }
  });

  it('measures a good/total SLI as (total − good) / total', () => {
    const stack = newStack();
    const slo = checkout(stack, { sli: Sli.successRatio({ goodEvents: countMetric('Ok'), totalEvents: countMetric('Requests') }) });
    const [queries] = renderedQueries(stack, [slo.metricBurnRate(Duration.hours(6))]);
    expect(bareIds(returnedOf(queries).Expression!)).toBe('IF(total >= 1, (total - FILL(good, 0)) / total, 0) / 0.001');
    expect(bareIds(leafId(queries, 'Ok'))).toBe('good');
  });

  it('measures a derived bad count (a latency SLI) as an expression query of its own, with every id suffixed', () => {
    const stack = newStack();
    const latency = new Metric({ namespace: 'Shop', metricName: 'Latency' });
    const slo = checkout(stack, { sli: Sli.latency({ latency, threshold: 300 }) });
    const [queries] = renderedQueries(stack, [slo.metricBurnRate(Duration.hours(1))]);
    const bad = queries.find((q) => q.Expression && q.ReturnData === false)!;
    expect(bareIds(bad.Id)).toBe('bad');
    expect(bareIds(bad.Expression!)).toBe('FLOOR(total * (100 - FILL(pr, 100)) / 100 + 0.5)');
    expect(queries.filter((q) => q.MetricStat).map((q) => [bareIds(q.Id), q.MetricStat!.Stat])).toEqual(
      expect.arrayContaining([
        ['total', 'SampleCount'],
        ['pr', 'PR(:300)'],
      ]),
    );
    // Every id of the metric's math is suffixed, so no query of another window or SLO can collide with it.
    expect(queries.every((q) => /_[0-9a-f]{10}_3600$/.test(q.Id) || q.Id === returnedOf(queries).Id)).toBe(true);
  });

  it("renames the ids of the user's own math in an SLI count too, and computes the same burn", () => {
    const stack = newStack();
    const badEvents = new MathExpression({ expression: 'a + b', usingMetrics: { a: countMetric('TimedOut'), b: countMetric('Rejected') } });
    const slo = checkout(stack, { sli: Sli.errorRatio({ badEvents, totalEvents: countMetric('Requests') }) });
    const [queries] = renderedQueries(stack, [slo.metricBurnRate(Duration.hours(1))]);
    const bad = queries.find((q) => q.Expression && q.ReturnData === false)!;
    expect(bareIds(bad.Expression!)).toBe('a + b');
    expect(bad.Expression).toMatch(/^a_[0-9a-f]{10}_3600 \+ b_[0-9a-f]{10}_3600$/);
    const { evaluate } = parseAlarmQueries(queries);
    expect(evaluate({ [leafId(queries, 'TimedOut')]: 2, [leafId(queries, 'Rejected')]: 3, [leafId(queries, 'Requests')]: 1_000 })).toBeCloseTo(5, 9);
  });

  it('measures an ALB target group: target 5xx plus requests without a target response (five metrics)', () => {
    const stack = newStack();
    const vpc = new Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
    const lb = new ApplicationLoadBalancer(stack, 'Lb', { vpc });
    const tg = new ApplicationTargetGroup(stack, 'Green', { vpc, port: 80, targetType: TargetType.IP });
    lb.addListener('Http', { port: 80, defaultAction: ListenerAction.forward([tg]) });
    const slo = checkout(stack, { sli: Sli.targetGroupAvailability(tg) });
    const [queries] = renderedQueries(stack, [slo.metricBurnRate(Duration.minutes(5))]);
    expect(queries.filter((q) => q.MetricStat)).toHaveLength(5);
    const bad = queries.find((q) => q.Expression && q.ReturnData === false)!;
    expect(bareIds(bad.Expression!)).toBe(
      'FILL(t5xx, 0) + IF(total - (FILL(t2xx, 0) + FILL(t3xx, 0) + FILL(t4xx, 0) + FILL(t5xx, 0)) > 0, total - (FILL(t2xx, 0) + FILL(t3xx, 0) + FILL(t4xx, 0) + FILL(t5xx, 0)), 0)',
    );
    const { evaluate } = parseAlarmQueries(queries);
    // A crashing task: 1,000 requests, 880 2xx and 20 4xx, no target 5xx: 100 requests failed, a 100× burn.
    const values = Object.fromEntries(queries.filter((q) => q.MetricStat).map((q) => [q.Id, undefined as number | undefined]));
    values[leafId(queries, 'RequestCount')] = 1_000;
    values[leafId(queries, 'HTTPCode_Target_2XX_Count')] = 880;
    values[leafId(queries, 'HTTPCode_Target_4XX_Count')] = 20;
    expect(evaluate(values)).toBeCloseTo(100, 9);
  });

  it('puts several windows and several SLOs on one graph: each has its own query ids', () => {
    const stack = newStack();
    const a = checkout(stack);
    const b = checkout(stack, { sli: Sli.errorRatio({ badEvents: countMetric('Failed', 'Payments'), totalEvents: countMetric('Calls', 'Payments') }) }, 'Payments');
    const dashboard = new Dashboard(stack, 'Dashboard', { periodOverride: PeriodOverride.INHERIT });
    dashboard.addWidgets(
      new GraphWidget({ left: [a.metricBurnRate(Duration.hours(1)), a.metricBurnRate(Duration.minutes(5)), b.metricBurnRate(Duration.hours(1))] }),
      new SingleValueWidget({ metrics: [a.metricErrorBudgetRemaining(), b.metricErrorBudgetRemaining()], start: '-P30D' }),
    );
    const [graph, single] = dashboardWidgets(stack);
    const expressions = graph.properties.metrics.flatMap((row: any[]) => row.filter((o) => o.expression));
    expect(expressions.map((o: any) => [o.label, o.period])).toEqual([
      ['Checkout burn rate over 1 h', 3600],
      // aws-cdk-lib leaves out a period of 300 s, the widget's default.
      ['Checkout burn rate over 5 min', undefined],
      ['Payments burn rate over 1 h', 3600],
    ]);
    const ids = graph.properties.metrics.flatMap((row: any[]) => row.filter((o) => typeof o === 'object' && o.id).map((o) => o.id));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(6);
    const budgets = single.properties.metrics.flatMap((row: any[]) => row.filter((o) => o.expression?.startsWith('100 - 100 * ')));
    expect(budgets.map((o: any) => [o.label, o.period])).toEqual([
      ['Checkout error budget remaining (% over 30 d)', 2_592_000],
      ['Payments error budget remaining (% over 30 d)', 2_592_000],
    ]);
    expect(single.properties.start).toBe('-P30D');
  });

  it('gives the same metric for the same window twice, so a graph shows it once', () => {
    const stack = newStack();
    const slo = checkout(stack);
    new Dashboard(stack, 'Dashboard').addWidgets(new GraphWidget({ left: [slo.metricBurnRate(Duration.hours(1)), slo.metricBurnRate(Duration.hours(1))] }));
    const [graph] = dashboardWidgets(stack);
    expect(graph.properties.metrics.filter((row: any[]) => row.some((o) => typeof o === 'object' && o.id))).toHaveLength(2);
  });

  it('works in an alarm: one datapoint per window, compared as the SLO’s tier would', () => {
    const stack = newStack();
    const slo = checkout(stack);
    new Alarm(stack, 'Fast', { metric: slo.metricBurnRate(Duration.hours(1)), threshold: 14.4, evaluationPeriods: 1 });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 14.4,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: Match.stringLikeRegexp('^IF\\(total_[0-9a-f]{10}_3600 >= 1, FILL\\(bad_'), ReturnData: true })]),
    });
  });

  describe('computes the burn rate the core and the emulator compute', () => {
    it('for a sample: 20 failures in 1,000 requests against a 99.9 % objective is a 20× burn', () => {
      const stack = newStack();
      const slo = checkout(stack);
      const [queries] = renderedQueries(stack, [slo.metricBurnRate(Duration.hours(1))]);
      const { evaluate } = parseAlarmQueries(queries);
      const value = evaluate({ [leafId(queries, 'Failed')]: 20, [leafId(queries, 'Requests')]: 1_000 });
      expect(value).toBeCloseTo(burnRate(20 / 1_000, 99.9), 9);
      expect(value).toBeCloseTo(20, 9);
    });

    it.each([
      ['the default guard (1 event)', undefined, 1],
      ['the 14.4× tier’s guard', 70, 70],
    ])('for any window, with %s', (_, minEventsPerWindow, minEvents) => {
      const stack = newStack();
      const slo = checkout(stack, { objectivePercent: 99.5 });
      const [queries] = renderedQueries(stack, [slo.metricBurnRate(Duration.minutes(5), { minEventsPerWindow })]);
      const { evaluate } = parseAlarmQueries(queries);
      const [bad, total] = [leafId(queries, 'Failed'), leafId(queries, 'Requests')];
      fc.assert(
        fc.property(
          fc.record({ has: fc.boolean(), total: fc.oneof(fc.integer({ min: 0, max: 5_000 }), fc.constantFrom(0, 1, 69, 70, 71)), share: fc.double({ min: 0, max: 1, noNaN: true }), publishZero: fc.boolean() }),
          ({ has, total: events, share, publishZero }) => {
            const failed = has ? Math.floor(events * share) : 0;
            // A count metric without an event may publish nothing: FILL makes it 0.
            const value = evaluate({ [total]: has ? events : undefined, [bad]: has && (failed > 0 || publishZero) ? failed : undefined });
            const emulated = windowBurnRate({ minEvents, errorBudget: slo.errorBudget }, { datapoints: has ? 1 : 0, total: has ? events : 0, bad: failed });
            if (emulated === undefined) expect(value).toBeUndefined();
            else expect(value).toBeCloseTo(emulated, 9);
          },
        ),
        { numRuns: 200 },
      );
    });
  });

  describe('refuses a window CloudWatch cannot serve, naming the SLO, the window and what is allowed', () => {
    it.each([
      ['90 seconds', Duration.seconds(90), 'got Duration.seconds(90) (90 s)'],
      ['30 seconds', Duration.seconds(30), 'got Duration.seconds(30) (30 s)'],
      ['8 days', Duration.days(8), 'got Duration.days(8) (8 d)'],
      ['7 days and a minute', Duration.minutes(7 * 1_440 + 1), 'got Duration.minutes(10081) (10081 min)'],
    ])('%s (RT127)', (_, window, got) => {
      const slo = checkout();
      const { message } = expectRtError(() => slo.metricBurnRate(window), 'RT127');
      expect(message).toContain('TestStack/Checkout: metricBurnRate: window must be whole minutes from 1 minute to 7 days');
      expect(message).toContain(got);
      expect(message).toContain('an alarm evaluates at most 7 days');
    });

    it('accepts 1 minute and 7 days', () => {
      const slo = checkout();
      expect(() => slo.metricBurnRate(Duration.minutes(1))).not.toThrow();
      expect(() => slo.metricBurnRate(Duration.days(7))).not.toThrow();
    });

    it.each([
      ['zero', Duration.minutes(0), 'got Duration.minutes(0) (0 s)'],
      ['a fraction of a second', Duration.millis(1500), 'got Duration.millis(1500) (1.5 s)'],
    ])('%s (RT118)', (_, window, got) => {
      const { message } = expectRtError(() => checkout().metricBurnRate(window), 'RT118');
      expect(message).toContain(`TestStack/Checkout: metricBurnRate: window must be a whole number of seconds above 0, ${got}`);
    });

    it('a token (RT109)', () => {
      const { message } = expectRtError(() => checkout().metricBurnRate(Duration.minutes(Lazy.number({ produce: () => 5 }))), 'RT109');
      expect(message).toContain('metricBurnRate: window must be a literal duration');
    });

    it('a window that is not a multiple of the SLO’s resolution (RT203)', () => {
      const tier = BurnRateTier.of({ severity: AlertSeverity.PAGE, budgetConsumedPercent: 2, longWindow: Duration.hours(1), shortWindow: Duration.minutes(6) });
      const slo = checkout(newStack(), { resolution: Duration.minutes(2), tiers: [tier] });
      expect(() => slo.metricBurnRate(Duration.minutes(4))).not.toThrow();
      const { message } = expectRtError(() => slo.metricBurnRate(Duration.minutes(3)), 'RT203');
      expect(message).toContain('metricBurnRate: window must be a whole multiple of the SLO resolution 2 min, got 3 min');
    });

    it.each([0, 1.5, Number.NaN])('a minEventsPerWindow of %s (RT114)', (minEventsPerWindow) => {
      const { message } = expectRtError(() => checkout().metricBurnRate(Duration.hours(1), { minEventsPerWindow }), 'RT114');
      expect(message).toContain(`metricBurnRate: minEventsPerWindow must be a whole number from 1`);
    });

    it('a token minEventsPerWindow (RT113)', () => {
      expectRtError(() => checkout().metricBurnRate(Duration.hours(1), { minEventsPerWindow: Lazy.number({ produce: () => 5 }) }), 'RT113');
    });
  });
});

describe('metricErrorBudgetRemaining', () => {
  it('is 100 − 100 × the burn rate over the whole compliance period, in percent of the budget', () => {
    const stack = newStack();
    const slo = checkout(stack);
    const [queries] = renderedQueries(stack, [slo.metricErrorBudgetRemaining()]);
    const top = returnedOf(queries);
    expect(bareIds(top.Expression!)).toBe('100 - 100 * consumed');
    expect(top.Label).toBe('Checkout error budget remaining (% over 30 d)');
    const consumed = queries.find((q) => q.Expression && q.ReturnData === false)!;
    expect(bareIds(consumed.Id)).toBe('consumed');
    expect(bareIds(consumed.Expression!)).toBe('IF(total >= 1, FILL(bad, 0) / total, 0) / 0.001');
    expect(queries.filter((q) => q.MetricStat).map((q) => q.MetricStat!.Period)).toEqual([2_592_000, 2_592_000]);

    const { evaluate } = parseAlarmQueries(queries);
    const remaining = (failed: number | undefined, requests: number | undefined) => evaluate({ [leafId(queries, 'Failed')]: failed, [leafId(queries, 'Requests')]: requests });
    // 400 failures in a million requests: 40 % of a 0.1 % budget spent, 60 % left.
    expect(remaining(400, 1_000_000)).toBeCloseTo(100 * (1 - burnRate(400 / 1_000_000, 99.9)), 9);
    expect(remaining(400, 1_000_000)).toBeCloseTo(60, 9);
    expect(remaining(undefined, 1_000_000)).toBe(100);
    expect(remaining(3_000, 1_000_000)).toBeCloseTo(-200, 9);
    expect(remaining(undefined, undefined)).toBeUndefined();
  });

  it('follows the compliance period, and takes a label and a color', () => {
    const stack = newStack();
    const slo = checkout(stack, { compliancePeriod: Duration.days(28) });
    const metric = slo.metricErrorBudgetRemaining({ label: 'budget', color: '#2ca02c' }) as MathExpression;
    expect(metric.period.toSeconds()).toBe(28 * 86_400);
    expect([metric.label, metric.color]).toEqual(['budget', '#2ca02c']);
  });

  it.each([
    ['not whole hours', Duration.minutes(30 * 1_440 + 30), 'got Duration.minutes(43230) (43230 min)'],
    ['longer than 455 days', Duration.days(456), 'got Duration.days(456) (456 d)'],
  ])('refuses a compliance period %s, which CloudWatch cannot return as one period (RT128)', (_, compliancePeriod, got) => {
    const slo = checkout(newStack(), { compliancePeriod });
    const { message } = expectRtError(() => slo.metricErrorBudgetRemaining(), 'RT128');
    expect(message).toContain('TestStack/Checkout: metricErrorBudgetRemaining reads the compliance period as one CloudWatch period');
    expect(message).toContain('compliancePeriod must be whole hours up to 455 days');
    expect(message).toContain(got);
  });

  it('accepts 455 days', () => {
    expect(() => checkout(newStack(), { compliancePeriod: Duration.days(455) }).metricErrorBudgetRemaining()).not.toThrow();
  });
});

/** The dashboard's widgets, its body parsed with the region token written as a placeholder. */
function dashboardWidgets(stack: Stack): any[] {
  const [dashboard] = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard'));
  const body = dashboard.Properties.DashboardBody;
  const text = typeof body === 'string' ? body : (body['Fn::Join'][1] as unknown[]).map((part) => (typeof part === 'string' ? part : 'REGION')).join('');
  return JSON.parse(text).widgets;
}

it('renders the same query ids on every synth: they come from the SLO’s path and the window', () => {
  const a = checkout(new Stack(new App(), 'TestStack'));
  const b = checkout(new Stack(new App(), 'TestStack'));
  const c = checkout(new Stack(new App(), 'OtherStack'));
  const text = (slo: ServiceLevelObjective) => (slo.metricBurnRate(Duration.hours(1)) as MathExpression).expression;
  expect(text(a)).toBe(text(b));
  expect(text(a)).not.toBe(text(c));
});
