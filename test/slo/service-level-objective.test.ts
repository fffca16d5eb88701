import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Aws, Duration, Lazy, Stack } from 'aws-cdk-lib';
import { MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { AlertSeverity, BurnRateTier, RollbackPlan, ServiceLevelObjective, Sli } from '../../lib';
import { compositeAlarms, countMetric, lambdaFunction, metricAlarms, newStack } from '../helpers';

const shopSli = () => Sli.errorRatio({ badEvents: countMetric('Failed'), totalEvents: countMetric('Requests') });

function defaultSlo(stack: Stack = newStack(), props: Partial<ConstructorParameters<typeof ServiceLevelObjective>[2]> = {}) {
  const slo = new ServiceLevelObjective(stack, 'Checkout', { sli: shopSli(), objectivePercent: 99.9, ...props });
  return { stack, slo };
}

describe('ServiceLevelObjective defaults', () => {
  it('creates a long and a short window alarm per workbook tier with the workbook factors', () => {
    const { stack } = defaultSlo();
    const alarms = Object.values(metricAlarms(stack)).map((a) => a.Properties);
    expect(alarms).toHaveLength(8);
    // 1 h / 5 min at 14.4×, 6 h / 30 min at 6×, 1 d / 2 h at 3×, 3 d / 6 h at 1×.
    expect(alarms.map((a) => [a.Metrics.find((m: any) => m.Id === 'total').MetricStat.Period, a.Threshold])).toEqual([
      [3600, 14.4],
      [300, 14.4],
      [21600, 6],
      [1800, 6],
      [86400, 3],
      [7200, 3],
      [259200, 1],
      [21600, 1],
    ]);
  });

  it('evaluates each window as one period, sets missing data explicitly and compares with >=', () => {
    const { stack } = defaultSlo();
    for (const alarm of Object.values(metricAlarms(stack))) {
      expect(alarm.Properties).toMatchObject({
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      });
      const periods = new Set(alarm.Properties.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Period));
      expect(periods.size).toBe(1); // CloudWatch: all metrics of a math alarm on one period
    }
  });

  it('divides the error ratio by the budget behind a minimum-event guard that also prevents division by zero', () => {
    const { stack } = defaultSlo();
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 14.4,
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(total >= 70, FILL(bad, 0) / total, 0) / 0.001', ReturnData: true }),
        Match.objectLike({ Id: 'bad', ReturnData: false, MetricStat: Match.objectLike({ Stat: 'Sum', Metric: Match.objectLike({ MetricName: 'Failed' }) }) }),
        Match.objectLike({ Id: 'total', ReturnData: false, MetricStat: Match.objectLike({ Stat: 'Sum', Metric: Match.objectLike({ MetricName: 'Requests' }) }) }),
      ]),
    });
    // The 3-day tier needs 1,001 events: one failure in 1,000 would already be a 1× burn.
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 1,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'IF(total >= 1001, FILL(bad, 0) / total, 0) / 0.001' })]),
    });
  });

  it('ANDs long and short window per tier and ORs tiers per severity', () => {
    const { stack, slo } = defaultSlo();
    const composites = Object.values(compositeAlarms(stack)).map((c) => c.Properties);
    expect(composites).toHaveLength(6);
    const rules = composites.map((c) => JSON.stringify(c.AlarmRule));
    expect(rules.filter((r) => r.includes(' AND '))).toHaveLength(4);
    expect(rules.filter((r) => r.includes(' OR '))).toHaveLength(2);
    expect(slo.tierAlarms).toHaveLength(4);
    expect(slo.windowAlarms).toHaveLength(8);
    expect(slo.pageAlarm).toBeDefined();
    expect(slo.ticketAlarm).toBeDefined();
    // The page composite references exactly the two page tiers.
    const page = Object.entries(compositeAlarms(stack)).find(([k]) => k.startsWith('CheckoutPageAlarm'))![1];
    const refs = JSON.stringify(page.Properties.AlarmRule).match(/"Ref":"([^"]+)"/g);
    expect(refs).toHaveLength(2);
    expect(refs!.every((r) => r.includes('page'))).toBe(true);
  });

  it('gives no physical names by default, so two stacks in one account never collide', () => {
    const { stack } = defaultSlo();
    for (const alarm of Object.values(metricAlarms(stack))) expect(alarm.Properties.AlarmName).toBeUndefined();
  });

  it('records its policy as construct metadata for the CLI', () => {
    const { slo } = defaultSlo();
    const entry = slo.node.metadata.find((m) => m.type === 'cdk-rollback-triggers:policy');
    expect(entry?.data).toMatchObject({ schemaVersion: 1, entry: { kind: 'slo', name: 'Checkout', objectivePercent: 99.9, errorBudget: 0.001 } });
    expect((entry?.data as any).entry.tiers.map((t: any) => t.factor)).toEqual([14.4, 6, 3, 1]);
  });

  it('matches the snapshot in its default configuration', () => {
    const { stack } = defaultSlo();
    expect(Template.fromStack(stack).toJSON()).toMatchSnapshot();
  });
});

describe('ServiceLevelObjective options', () => {
  it('scales factors for a 28-day compliance period', () => {
    const { stack } = defaultSlo(newStack(), { compliancePeriod: Duration.days(28) });
    const thresholds = [...new Set(Object.values(metricAlarms(stack)).map((a) => a.Properties.Threshold))];
    expect(thresholds.map((t) => Number(t.toFixed(3)))).toEqual([13.44, 5.6, 2.8, 0.933]);
  });

  it('uses custom tiers and their default short window of long ÷ 12', () => {
    const tier = BurnRateTier.of({ severity: AlertSeverity.PAGE, budgetConsumedPercent: 2, longWindow: Duration.hours(2) });
    expect(tier.shortWindow.toMinutes()).toBe(10);
    expect(tier.name).toBe('page-2h');
    const { stack, slo } = defaultSlo(newStack(), { tiers: [tier] });
    expect(Object.keys(metricAlarms(stack))).toHaveLength(2);
    expect(slo.ticketAlarm).toBeUndefined();
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', { Threshold: 7.2 });
  });

  it('puts page and ticket actions on the severity composites only', () => {
    const stack = newStack();
    const pages = new Topic(stack, 'Pages');
    const tickets = new Topic(stack, 'Tickets');
    defaultSlo(stack, { pageActions: [new SnsAction(pages)], ticketActions: [new SnsAction(tickets)] });
    const withActions = Object.entries(compositeAlarms(stack)).filter(([, c]) => c.Properties.AlarmActions);
    expect(withActions.map(([k]) => k.replace(/[0-9A-F]{8}$/, ''))).toEqual(['CheckoutPageAlarm', 'CheckoutTicketAlarm']);
    expect(withActions[0][1].Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Pages/) }]);
    expect(withActions[1][1].Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Tickets/) }]);
    for (const alarm of Object.values(metricAlarms(stack))) expect(alarm.Properties.AlarmActions).toBeUndefined();
  });

  it('suppresses ticket actions while paging, with both suppressor periods', () => {
    const { stack } = defaultSlo(newStack(), { suppressTicketsWhilePaging: true });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::CompositeAlarm', {
      ActionsSuppressor: { 'Fn::GetAtt': [Match.stringLikeRegexp('^CheckoutPageAlarm'), 'Arn'] },
      ActionsSuppressorWaitPeriod: 120,
      ActionsSuppressorExtensionPeriod: 1800,
    });
  });

  it('names every alarm from alarmNamePrefix', () => {
    const { stack } = defaultSlo(newStack(), { alarmNamePrefix: 'shop' });
    const names = [...Object.values(metricAlarms(stack)), ...Object.values(compositeAlarms(stack))].map((a) => a.Properties.AlarmName);
    expect(names).toContain('shop-Checkout-page-1h-long');
    expect(names).toContain('shop-Checkout-page-1h');
    expect(names).toContain('shop-Checkout-page');
    expect(new Set(names).size).toBe(14);
  });

  it('applies an explicit minEventsPerWindow to every window', () => {
    const { stack } = defaultSlo(newStack(), { minEventsPerWindow: 25 });
    for (const alarm of Object.values(metricAlarms(stack))) {
      expect(alarm.Properties.Metrics[0].Expression).toMatch(/^IF\(total >= 25,/);
    }
  });

  it('shares identical window alarms between SLOs of a stack and says so in the plan', () => {
    const stack = newStack();
    const fn = lambdaFunction(stack);
    new ServiceLevelObjective(stack, 'A', { sli: Sli.lambdaAvailability(fn), objectivePercent: 99.9 });
    const b = new ServiceLevelObjective(stack, 'B', { sli: Sli.lambdaAvailability(fn), objectivePercent: 99.9 });
    expect(Object.keys(metricAlarms(stack))).toHaveLength(8);
    expect(b.windowAlarms).toHaveLength(8);
    expect(b._policy.alarms).toHaveLength(0);
    expect(b._policy.tiers[0].longAlarm).toBe('TestStack/A/page-1h/long');
    const plan = RollbackPlan.of(stack);
    expect(plan.metricAlarmCount).toBe(8);
    expect(plan.render()).toContain('Window reuse: 8 of 16 window alarms shared, saving $1.60/month');
  });

  it('does not share an alarm that one SLO names explicitly', () => {
    const stack = newStack();
    const fn = lambdaFunction(stack);
    new ServiceLevelObjective(stack, 'A', { sli: Sli.lambdaAvailability(fn), objectivePercent: 99.9 });
    new ServiceLevelObjective(stack, 'B', { sli: Sli.lambdaAvailability(fn), objectivePercent: 99.9, alarmNamePrefix: 'shop' });
    expect(Object.keys(metricAlarms(stack))).toHaveLength(16);
  });

  it('does not share alarms between SLOs with different objectives', () => {
    const stack = newStack();
    const fn = lambdaFunction(stack);
    new ServiceLevelObjective(stack, 'A', { sli: Sli.lambdaAvailability(fn), objectivePercent: 99.9 });
    new ServiceLevelObjective(stack, 'B', { sli: Sli.lambdaAvailability(fn), objectivePercent: 99.5 });
    expect(Object.keys(metricAlarms(stack))).toHaveLength(16);
  });

  it('warns when an SLI divides averaged counts', () => {
    const stack = newStack();
    new ServiceLevelObjective(stack, 'Avg', {
      sli: Sli.errorRatio({ badEvents: new Metric({ namespace: 'Shop', metricName: 'Failed' }), totalEvents: countMetric('Requests') }),
      objectivePercent: 99,
    });
    Annotations.fromStack(stack).hasWarning('/TestStack/Avg', Match.stringLikeRegexp('statistic Average'));
  });

  it('skips name checks on unresolved tokens', () => {
    expect(() => defaultSlo(newStack(), { alarmNamePrefix: Aws.STACK_NAME })).not.toThrow();
  });
});

describe('ServiceLevelObjective validation', () => {
  const throwsCode = (code: string, fn: () => unknown, message?: RegExp) => {
    let error: unknown;
    try {
      fn();
    } catch (e) {
      error = e;
    }
    expect(error, `expected ${code}`).toBeInstanceOf(Error);
    expect((error as { code?: string }).code).toBe(code);
    expect((error as Error).message).toContain('TestStack/Checkout');
    if (message) expect((error as Error).message).toMatch(message);
  };

  it.each([0, 100, -5, 120])('rejects objectivePercent %s', (objectivePercent) => {
    throwsCode('RT101', () => defaultSlo(newStack(), { objectivePercent }), new RegExp(`got ${objectivePercent} — use 99.9`));
  });

  it('rejects an objective given as a token', () => {
    throwsCode('RT113', () => defaultSlo(newStack(), { objectivePercent: Lazy.number({ produce: () => 99.9 }) }));
  });

  it('rejects a tier that would need more than 100 % errors (90 % SLO, 14.4× tier)', () => {
    throwsCode('RT106', () => defaultSlo(newStack(), { objectivePercent: 90 }), /page-1h" can never fire .* 144 %/);
  });

  it('rejects a short window that is not shorter than the long window', () => {
    const tier = BurnRateTier.of({ severity: AlertSeverity.PAGE, budgetConsumedPercent: 2, longWindow: Duration.hours(1), shortWindow: Duration.hours(1) });
    throwsCode('RT104', () => defaultSlo(newStack(), { tiers: [tier] }), /shortWindow must be shorter/);
  });

  it('rejects a window that is not a multiple of the resolution', () => {
    throwsCode('RT203', () => defaultSlo(newStack(), { resolution: Duration.minutes(2) }), /multiple of the SLI resolution 2 min, got 5 min/);
  });

  it('rejects a resolution that is no CloudWatch period', () => {
    throwsCode('RT201', () => defaultSlo(newStack(), { resolution: Duration.seconds(45) }), /got 45 s/);
  });

  it('rejects a window that is no CloudWatch period', () => {
    const tier = BurnRateTier.of({ severity: AlertSeverity.PAGE, budgetConsumedPercent: 2, longWindow: Duration.minutes(10), shortWindow: Duration.seconds(50) });
    throwsCode('RT201', () => defaultSlo(newStack(), { tiers: [tier], resolution: Duration.seconds(10) }), /shortWindow .* got 50 s/);
  });

  it('rejects a sub-minute resolution on AWS-vended metrics', () => {
    const stack = newStack();
    const sli = Sli.lambdaAvailability(lambdaFunction(stack));
    throwsCode('RT202', () => new ServiceLevelObjective(stack, 'Checkout', { sli, objectivePercent: 99.9, resolution: Duration.seconds(10) }), /AWS\/Lambda/);
  });

  it('accepts a sub-minute resolution on custom high-resolution metrics and bills it as such', () => {
    const tier = BurnRateTier.of({ severity: AlertSeverity.PAGE, budgetConsumedPercent: 2, longWindow: Duration.minutes(10), shortWindow: Duration.seconds(30) });
    const { stack } = defaultSlo(newStack(), { tiers: [tier], resolution: Duration.seconds(10) });
    const plan = RollbackPlan.of(stack);
    expect(plan.toJson().cost.highResolutionAlarms).toBe(1);
  });

  it('rejects a window beyond CloudWatch\'s 7-day evaluation range', () => {
    const tier = BurnRateTier.of({ severity: AlertSeverity.TICKET, budgetConsumedPercent: 10, longWindow: Duration.days(8), shortWindow: Duration.hours(16) });
    throwsCode('RT205', () => defaultSlo(newStack(), { tiers: [tier] }), /at most 7 d/);
  });

  it('rejects an SLI whose math alarm would read more than 10 metrics', () => {
    const sum = (prefix: string) =>
      new MathExpression({
        expression: 'a + b + c + d + e + f',
        usingMetrics: Object.fromEntries(['a', 'b', 'c', 'd', 'e', 'f'].map((id) => [id, countMetric(`${prefix}${id}`)])),
      });
    const sli = Sli.errorRatio({ badEvents: sum('bad'), totalEvents: sum('total') });
    throwsCode('RT207', () => defaultSlo(newStack(), { sli }), /12 metrics/);
  });

  it('rejects alarm names longer than 255 characters', () => {
    throwsCode('RT209', () => defaultSlo(newStack(), { alarmNamePrefix: 'x'.repeat(240) }), /at most 255/);
  });

  it('rejects a composite over more than 100 alarms', () => {
    const tiers = Array.from({ length: 101 }, (_, i) =>
      BurnRateTier.of({ severity: AlertSeverity.PAGE, budgetConsumedPercent: 2, longWindow: Duration.minutes(60 + i), shortWindow: Duration.minutes(5), name: `t${i}` }),
    );
    throwsCode('RT210', () => defaultSlo(newStack(), { tiers }), /101 alarms/);
  });

  it('rejects a composite rule longer than 10,240 characters', () => {
    const tiers = Array.from({ length: 60 }, (_, i) =>
      BurnRateTier.of({ severity: AlertSeverity.PAGE, budgetConsumedPercent: 2, longWindow: Duration.minutes(60 + i), shortWindow: Duration.minutes(5), name: `tier-${i}` }),
    );
    throwsCode('RT211', () => defaultSlo(newStack(), { tiers, alarmNamePrefix: 'p'.repeat(180) }), /10240/);
  });

  it('rejects minEventsPerWindow below 1', () => {
    throwsCode('RT114', () => defaultSlo(newStack(), { minEventsPerWindow: 0 }));
  });

  it('rejects an empty tier list and duplicate tier names', () => {
    throwsCode('RT116', () => defaultSlo(newStack(), { tiers: [] }));
    throwsCode('RT117', () => defaultSlo(newStack(), { tiers: [BurnRateTier.PAGE_1H, BurnRateTier.PAGE_1H] }));
  });
});

describe('BurnRateTier', () => {
  it('exposes the workbook tiers fastest first', () => {
    expect(BurnRateTier.workbookDefaults().map((t) => [t.name, t.severity, t.budgetConsumedPercent, t.longWindow.toMinutes(), t.shortWindow.toMinutes()])).toEqual([
      ['page-1h', AlertSeverity.PAGE, 2, 60, 5],
      ['page-6h', AlertSeverity.PAGE, 5, 360, 30],
      ['ticket-1d', AlertSeverity.TICKET, 10, 1440, 120],
      ['ticket-3d', AlertSeverity.TICKET, 10, 4320, 360],
    ]);
  });

  it('rejects a default short window that is not a whole number of seconds', () => {
    expect(() => BurnRateTier.of({ severity: AlertSeverity.PAGE, budgetConsumedPercent: 2, longWindow: Duration.seconds(65) })).toThrow(/RT107/);
  });

  it('rejects names CloudWatch ids cannot carry', () => {
    expect(() => BurnRateTier.of({ severity: AlertSeverity.PAGE, budgetConsumedPercent: 2, longWindow: Duration.hours(1), name: 'bad name' })).toThrow(/RT108/);
  });

  it('rejects the names of the severity composites', () => {
    expect(() => BurnRateTier.of({ severity: AlertSeverity.PAGE, budgetConsumedPercent: 2, longWindow: Duration.hours(1), name: 'page' })).toThrow(/RT108/);
  });
});
