import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { App, Aws, Duration, Lazy, NestedStack, Stack } from 'aws-cdk-lib';
import { MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { AlarmLayout, AlertSeverity, BurnRateTier, type BurnRateTierProps, RollbackPlan, ServiceLevelObjective, Sli } from '../../lib';
import { expectRtError } from '../core/helpers';
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

  it('writes the whole rule in one composite per severity by default (EXACT): (long AND short) OR (long AND short)', () => {
    const { stack, slo } = defaultSlo();
    const composites = Object.values(compositeAlarms(stack)).map((c) => c.Properties);
    expect(composites).toHaveLength(2);
    expect(slo.alarmLayout).toBe(AlarmLayout.EXACT);
    expect(slo.tierAlarms).toHaveLength(0);
    expect(slo.windowAlarms).toHaveLength(8);
    expect(slo.pageAlarm).toBeDefined();
    expect(slo.ticketAlarm).toBeDefined();
    // The page composite: each page tier's long AND short window, ORed.
    const page = Object.entries(compositeAlarms(stack)).find(([k]) => k.startsWith('CheckoutPageAlarm'))![1];
    const rule = (page.Properties.AlarmRule['Fn::Join'][1] as unknown[]).map((part) => (typeof part === 'string' ? part : `{${(part as { Ref: string }).Ref}}`)).join('');
    expect(rule).toMatch(/^\(\(ALARM\("\{Checkoutpage1hLongWindowAlarm\w+\}"\) AND ALARM\("\{Checkoutpage1hShortWindowAlarm\w+\}"\)\) OR \(ALARM\("\{Checkoutpage6hLongWindowAlarm\w+\}"\) AND ALARM\("\{Checkoutpage6hShortWindowAlarm\w+\}"\)\)\)$/);
  });

  it('ANDs long and short window per tier and ORs tiers per severity in the PER_TIER layout', () => {
    const { stack, slo } = defaultSlo(newStack(), { alarmLayout: AlarmLayout.PER_TIER });
    const composites = Object.values(compositeAlarms(stack)).map((c) => c.Properties);
    expect(composites).toHaveLength(6);
    const rules = composites.map((c) => JSON.stringify(c.AlarmRule));
    expect(rules.filter((r) => r.includes(' AND '))).toHaveLength(4);
    expect(rules.filter((r) => r.includes(' OR '))).toHaveLength(2);
    expect(slo.tierAlarms).toHaveLength(4);
    expect(slo.windowAlarms).toHaveLength(8);
    // The page composite references exactly the two page tiers.
    const page = Object.entries(compositeAlarms(stack)).find(([k]) => k.startsWith('CheckoutPageAlarm'))![1];
    const refs = JSON.stringify(page.Properties.AlarmRule).match(/"Ref":"([^"]+)"/g);
    expect(refs).toHaveLength(2);
    expect(refs!.every((r) => r.includes('page'))).toBe(true);
  });

  it('refuses an alarmLayout that is not an AlarmLayout value', () => {
    const error = expectRtError(() => defaultSlo(newStack(), { alarmLayout: 'cheap' as AlarmLayout }), 'RT129');
    expect(error.message).toMatch(/alarmLayout must be one of AlarmLayout\.EXACT, AlarmLayout\.PER_TIER, AlarmLayout\.NATIVE, got "cheap"/);
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
    expect(names).toContain('shop-Checkout-page');
    expect(new Set(names).size).toBe(10);
    const perTier = defaultSlo(newStack(), { alarmNamePrefix: 'shop', alarmLayout: AlarmLayout.PER_TIER }).stack;
    expect(Object.values(compositeAlarms(perTier)).map((a) => a.Properties.AlarmName)).toContain('shop-Checkout-page-1h');
  });

  it('applies an explicit minEventsPerWindow to every window', () => {
    // 2,000 is above every workbook tier's own minimum for 99.9 % (1,001 for the 1× tier): RT120.
    const { stack } = defaultSlo(newStack(), { minEventsPerWindow: 2000 });
    for (const alarm of Object.values(metricAlarms(stack))) {
      expect(alarm.Properties.Metrics[0].Expression).toMatch(/^IF\(total >= 2000,/);
    }
  });

  // Shared alarms sat under the first SLO's path: deleting it replaced the other's (test/slo/alarm-identity.test.ts).
  it('never shares window alarms between SLOs of a stack, even identical ones, and the plan counts both', () => {
    const stack = newStack();
    const fn = lambdaFunction(stack);
    new ServiceLevelObjective(stack, 'A', { sli: Sli.lambdaAvailability(fn), objectivePercent: 99.9 });
    const b = new ServiceLevelObjective(stack, 'B', { sli: Sli.lambdaAvailability(fn), objectivePercent: 99.9 });
    expect(Object.keys(metricAlarms(stack))).toHaveLength(16);
    expect(b.windowAlarms.every((alarm) => alarm.node.path.startsWith('TestStack/B/'))).toBe(true);
    expect(b._policy.alarms).toHaveLength(8);
    expect(b._policy.tiers[0].longAlarm).toBe('TestStack/B/page-1h/long');
    const plan = RollbackPlan.of(stack);
    expect(plan.metricAlarmCount).toBe(16);
    expect(plan.render()).not.toContain('Window reuse');
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

  it('rejects a short window that is not shorter than the long window where the tier is made', () => {
    expect(() =>
      BurnRateTier.of({ severity: AlertSeverity.PAGE, budgetConsumedPercent: 2, longWindow: Duration.hours(1), shortWindow: Duration.hours(1) }),
    ).toThrow(/RT104.*BurnRateTier.of: shortWindow must be shorter than longWindow, got short 1 h and long 1 h/);
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

  it('rejects a composite over more than 100 alarms: 51 tiers of one severity in EXACT (two alarms each), 101 in PER_TIER', () => {
    const tiers = (n: number) =>
      Array.from({ length: n }, (_, i) =>
        BurnRateTier.of({ severity: AlertSeverity.PAGE, budgetConsumedPercent: 2, longWindow: Duration.minutes(60 + i), shortWindow: Duration.minutes(5), name: `t${i}` }),
      );
    expect(() => defaultSlo(newStack(), { tiers: tiers(50) })).not.toThrow();
    throwsCode('RT210', () => defaultSlo(newStack(), { tiers: tiers(51) }), /102 alarms/);
    throwsCode('RT210', () => defaultSlo(newStack(), { tiers: tiers(101), alarmLayout: AlarmLayout.PER_TIER }), /101 alarms/);
  });

  it('rejects a composite rule longer than 10,240 characters', () => {
    const tiers = Array.from({ length: 45 }, (_, i) =>
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

/** Runs `fn`, expects a RollbackTriggersError with `code` whose message names the SLO's path, and returns the message. */
function refused(code: string, fn: () => unknown, path = 'TestStack/Checkout'): string {
  const { message } = expectRtError(fn, code);
  expect(message).toContain(path);
  return message;
}

const customTier = (props: Partial<BurnRateTierProps> = {}) =>
  BurnRateTier.of({ severity: AlertSeverity.PAGE, budgetConsumedPercent: 2, longWindow: Duration.hours(1), ...props });

const warningsOf = (stack: Stack) =>
  Annotations.fromStack(stack)
    .findWarning('*', Match.anyValue())
    .map((w) => String(w.entry.data));

describe('ServiceLevelObjective numbers: finite, in range, tokens refused or warned', () => {
  it('names compliancePeriod, not a tier, when it is zero', () => {
    const message = refused('RT118', () => defaultSlo(newStack(), { compliancePeriod: Duration.days(0) }));
    expect(message).toContain('compliancePeriod must be a whole number of seconds above 0, got Duration.days(0) (0 s)');
    expect(message).not.toContain('tier');
  });

  it.each([
    ['NaN days', Duration.days(Number.NaN), 'Duration.days(NaN)'],
    ['infinite days', Duration.days(Number.POSITIVE_INFINITY), 'Duration.days(Infinity)'],
    ['30 days and half a second', Duration.millis(30 * 86_400_000 + 500), 'Duration.millis(2592000500) (2592000.5 s)'],
  ])('names compliancePeriod and its value for %s (not an aws-cdk-lib conversion error)', (_, compliancePeriod, rendered) => {
    expect(refused('RT118', () => defaultSlo(newStack(), { compliancePeriod }))).toContain(`compliancePeriod must be a whole number of seconds above 0, got ${rendered}`);
  });

  it.each([
    ['NaN', Duration.seconds(Number.NaN), 'Duration.seconds(NaN)'],
    ['0', Duration.seconds(0), 'Duration.seconds(0) (0 s)'],
    ['half a second', Duration.millis(500), 'Duration.millis(500) (0.5 s)'],
  ])('names resolution and its value for %s', (_, resolution, rendered) => {
    expect(refused('RT118', () => defaultSlo(newStack(), { resolution }))).toContain(`resolution must be a whole number of seconds above 0, got ${rendered}`);
  });

  it('refuses minEventsPerWindow beyond 2^53 − 1 and as a token (RT114, RT113)', () => {
    expect(refused('RT114', () => defaultSlo(newStack(), { minEventsPerWindow: 1e300 }))).toContain('got 1e+300');
    expect(refused('RT113', () => defaultSlo(newStack(), { minEventsPerWindow: Lazy.number({ produce: () => 2000 }) }))).toContain(
      'minEventsPerWindow must be a literal number',
    );
  });

  it('refuses an objective so close to 100 that its budget is below one event in a million (RT119)', () => {
    const message = refused('RT119', () => defaultSlo(newStack(), { objectivePercent: 99.99999 }));
    expect(message).toContain('objectivePercent 99.99999 leaves an error budget of 1.00000000032e-7');
    expect(message).toContain('use at most 99.9999 (six nines)');
    expect(() => defaultSlo(newStack(), { objectivePercent: 99.9999 })).not.toThrow();
  });

  it('refuses an explicit minEventsPerWindow at which one failed request fires a tier (RT120)', () => {
    const message = refused('RT120', () => defaultSlo(newStack(), { objectivePercent: 99.999, minEventsPerWindow: 100 }));
    expect(message).toContain('one failed request among 100 events is an error ratio of 1 %, a 1000× burn');
    expect(message).toContain('Raise minEventsPerWindow to at least 100001, omit it so each tier takes its own minimum, or lower objectivePercent below 99');
    // The defaults of the same objective are fine: each tier takes the smallest count one failure cannot fire.
    expect(() => defaultSlo(newStack(), { objectivePercent: 99.999 })).not.toThrow();
  });

  it('warns when a total outage spends the whole budget before any alarm is evaluated (99.999 % over 30 days: 26 s)', () => {
    const { stack } = defaultSlo(newStack(), { objectivePercent: 99.999 });
    expect(warningsOf(stack)).toEqual([expect.stringMatching(/a total outage spends the whole error budget in 25\.9 s.*budgetShorterThanDetection/)]);
    expect(warningsOf(defaultSlo(newStack(), { objectivePercent: 99.99 }).stack)).toEqual([]);
  });

  it('warns about a tier that fires below a 1× burn', () => {
    const tier = BurnRateTier.of({ severity: AlertSeverity.TICKET, budgetConsumedPercent: 1, longWindow: Duration.days(3) });
    const { stack } = defaultSlo(newStack(), { tiers: [tier] });
    expect(warningsOf(stack)).toEqual([expect.stringMatching(/Tier "ticket-3d" fires at a burn rate of 0\.1×, below 1×.*tierBelowBudgetRate/)]);
  });
});

describe('ServiceLevelObjective: math an alarm cannot evaluate', () => {
  const sliWithBad = (expression: string, usingMetrics: Record<string, Metric> = {}) =>
    Sli.errorRatio({ badEvents: new MathExpression({ expression, usingMetrics }), totalEvents: countMetric('Requests') });

  it('refuses SEARCH() in an SLI (RT216)', () => {
    const message = refused('RT216', () => defaultSlo(newStack(), { sli: sliWithBad("SUM(SEARCH('{Shop} MetricName=\"Failed\"', 'Sum', 60))") }));
    expect(message).toContain("the SLI's bad count uses SEARCH()");
  });

  it('refuses METRICS() in an SLI: it would also sum the SLI\'s own total (RT216)', () => {
    const message = refused('RT216', () => defaultSlo(newStack(), { sli: sliWithBad('SUM(METRICS())', { a: countMetric('A'), b: countMetric('B') }) }));
    expect(message).toContain('METRICS()');
    expect(message).toContain('SUM([m1, m2])');
  });

  it('refuses ANOMALY_DETECTION_BAND() and a Metrics Insights query read over the 6-hour and longer windows (RT216)', () => {
    refused('RT216', () => defaultSlo(newStack(), { sli: sliWithBad('ANOMALY_DETECTION_BAND(a)', { a: countMetric('A') }) }));
    expect(refused('RT216', () => defaultSlo(newStack(), { sli: sliWithBad('SELECT SUM(Failed) FROM Shop') }))).toContain('only the latest 3 hours');
  });

  it('refuses an expression that references a query id it does not define (RT217)', () => {
    expect(refused('RT217', () => defaultSlo(newStack(), { sli: sliWithBad('a + zz', { a: countMetric('A') }) }))).toContain('"zz"');
  });

  it('warns about AVG() of one series, which the User Guide advises against in alarms', () => {
    const { stack } = defaultSlo(newStack(), { sli: sliWithBad('a - AVG(a)', { a: countMetric('A') }) });
    expect(warningsOf(stack).some((w) => /AVG\(\) of a single time series.*alarmMathFunction/.test(w))).toBe(true);
  });

  it("refuses a query id of the alarm's own (bad, good, total) bound to another metric (RT221), and accepts it for the same metric", () => {
    const message = refused('RT221', () => defaultSlo(newStack(), { sli: sliWithBad('total - ok', { total: countMetric('Orders'), ok: countMetric('Ok') }) }));
    expect(message).toContain('"total" for another metric');
    expect(() => defaultSlo(newStack(), { sli: sliWithBad('total - ok', { total: countMetric('Requests'), ok: countMetric('Ok') }) })).not.toThrow();
  });

  it('accepts plain metric math: SUM of an array, FILL, IF', () => {
    expect(() => defaultSlo(newStack(), { sli: sliWithBad('SUM([a, b])', { a: countMetric('A'), b: countMetric('B') }) })).not.toThrow();
    expect(() => defaultSlo(newStack(), { sli: sliWithBad('IF(a > 0, FILL(a, 0), 0)', { a: countMetric('A') }) })).not.toThrow();
  });
});

describe('ServiceLevelObjective: names', () => {
  it.each([
    ['a newline', 'shop\ncheckout', 'U+000A'],
    ['a tab', 'shop\tcheckout', 'U+0009'],
    ['a double quote', 'shop"checkout', 'double quote'],
    ['DEL', 'shop\u007fcheckout', 'U+007F'],
  ])('refuses %s in alarmNamePrefix (RT215)', (_, alarmNamePrefix, what) => {
    const message = refused('RT215', () => defaultSlo(newStack(), { alarmNamePrefix }));
    expect(message).toContain('alarmNamePrefix');
    expect(message).toContain(what);
  });

  it('refuses control characters and quotes in sloName, which alarm names carry after the prefix (RT215)', () => {
    expect(refused('RT215', () => defaultSlo(newStack(), { sloName: 'check"out', alarmNamePrefix: 'shop' }))).toContain('sloName "check\\"out"');
    expect(refused('RT215', () => defaultSlo(newStack(), { sloName: 'check\nout' }))).toContain('U+000A');
  });

  it('accepts Unicode, spaces and single quotes in names', () => {
    expect(() => defaultSlo(newStack(), { alarmNamePrefix: "bücher's shop", sloName: 'Kasse 🚀' })).not.toThrow();
  });

  it('warns that a token alarmNamePrefix could not be checked', () => {
    const { stack } = defaultSlo(newStack(), { alarmNamePrefix: Aws.STACK_NAME });
    expect(warningsOf(stack)).toEqual([expect.stringMatching(/alarmNamePrefix is a token.*could not be checked.*unresolvedAlarmName/)]);
  });

  it.each(['', '   '])('refuses an empty or blank sloName %j (RT121)', (sloName) => {
    expect(refused('RT121', () => defaultSlo(newStack(), { sloName }))).toContain('sloName must not be empty or blank');
  });

  it('refuses a token sloName (RT121)', () => {
    refused('RT121', () => defaultSlo(newStack(), { sloName: Lazy.string({ produce: () => 'x' }) }));
  });

  it('refuses two SLOs of one stack with the same name, explicit or from the construct id (RT122)', () => {
    const stack = newStack();
    new ServiceLevelObjective(stack, 'A', { sli: shopSli(), objectivePercent: 99.9, sloName: 'Checkout' });
    const message = refused('RT122', () => defaultSlo(stack));
    expect(message).toContain('sloName "Checkout" is already the name of TestStack/A in stack TestStack');
  });

  it('refuses the same default name in two nested scopes of one stack, and accepts it in two stacks', () => {
    const stack = newStack();
    new ServiceLevelObjective(new Construct(stack, 'ServiceA'), 'Availability', { sli: shopSli(), objectivePercent: 99.9 });
    refused('RT122', () => new ServiceLevelObjective(new Construct(stack, 'ServiceB'), 'Availability', { sli: shopSli(), objectivePercent: 99.9 }), 'TestStack/ServiceB/Availability');
    expect(() => defaultSlo(newStack('Other'), { sloName: 'Availability' })).not.toThrow();
  });

  it('accepts the same name in two stacks of one app, and in two apps (the names taken are read from each stack, not kept by the library)', () => {
    const app = new App();
    defaultSlo(new Stack(app, 'A'));
    expect(() => defaultSlo(new Stack(app, 'B'))).not.toThrow();
    for (let i = 0; i < 2; i++) expect(() => defaultSlo(new Stack(new App(), 'TestStack'))).not.toThrow();
  });

  it('keeps a nested stack’s names apart from its parent’s, as Stack.of does', () => {
    const stack = newStack();
    defaultSlo(stack);
    expect(() => new ServiceLevelObjective(new NestedStack(stack, 'Nested'), 'Checkout', { sli: shopSli(), objectivePercent: 99.9 })).not.toThrow();
    const nested = new NestedStack(stack, 'Nested2');
    new ServiceLevelObjective(nested, 'A', { sli: shopSli(), objectivePercent: 99.9, sloName: 'Same' });
    refused('RT122', () => new ServiceLevelObjective(nested, 'B', { sli: shopSli(), objectivePercent: 99.9, sloName: 'Same' }), 'TestStack/Nested2/B');
  });

  it('lets an SLO refused by its own checks take no name', () => {
    const stack = newStack();
    refused('RT101', () => new ServiceLevelObjective(stack, 'First', { sli: shopSli(), objectivePercent: 100, sloName: 'Checkout' }), 'TestStack/First');
    expect(() => defaultSlo(stack)).not.toThrow();
  });

  it('refuses the duplicate when it is constructed, naming the first SLO of that name in the construct tree', () => {
    const stack = newStack();
    new ServiceLevelObjective(new Construct(stack, 'Team'), 'A', { sli: shopSli(), objectivePercent: 99.9, sloName: 'Checkout' });
    new ServiceLevelObjective(stack, 'B', { sli: shopSli(), objectivePercent: 99.5 });
    const message = refused('RT122', () => defaultSlo(stack));
    expect(message).toBe(
      '[RT122] TestStack/Checkout: sloName "Checkout" is already the name of TestStack/Team/A in stack TestStack: the plan, the simulator and the evaluator ' +
        'tell SLOs apart by name — give one of them another sloName',
    );
  });

  it('refuses alarm descriptions over 1,024 characters built from a long SLI description (RT220)', () => {
    const sli = Sli.errorRatio({ badEvents: countMetric('Failed'), totalEvents: countMetric('Requests'), description: 'd'.repeat(1_000) });
    expect(refused('RT220', () => defaultSlo(newStack(), { sli }))).toContain('built from sloName and the SLI description');
  });
});

describe('ServiceLevelObjective: sub-minute windows need a declared high resolution', () => {
  it('refuses a 30-second window at the default 1-minute resolution, naming resolution (RT214)', () => {
    const tier = customTier({ longWindow: Duration.minutes(10), shortWindow: Duration.seconds(30) });
    const message = refused('RT214', () => defaultSlo(newStack(), { tiers: [tier] }));
    expect(message).toContain('tier "page-10min" shortWindow is 30 s, below one minute, but resolution is 1 min');
    expect(message).toContain('declare resolution');
  });

  it('accepts it once resolution declares the metrics high resolution', () => {
    const tier = customTier({ longWindow: Duration.minutes(10), shortWindow: Duration.seconds(30) });
    expect(() => defaultSlo(newStack(), { tiers: [tier], resolution: Duration.seconds(10) })).not.toThrow();
  });
});

describe('ServiceLevelObjective: other props', () => {
  it('refuses a tiers entry that is not a BurnRateTier (RT116)', () => {
    expect(refused('RT116', () => defaultSlo(newStack(), { tiers: [undefined as unknown as BurnRateTier] }))).toContain('tiers[0] must be a BurnRateTier');
  });

  it('refuses a missing sli (RT124)', () => {
    refused('RT124', () => defaultSlo(newStack(), { sli: undefined as unknown as Sli }));
  });

  it('refuses actions and suppression that no tier would ever use (RT125)', () => {
    const stack = newStack();
    const topic = new SnsAction(new Topic(stack, 'Topic'));
    const pageOnly = [BurnRateTier.PAGE_1H];
    expect(refused('RT125', () => defaultSlo(stack, { tiers: pageOnly, ticketActions: [topic] }))).toContain('ticketActions would run when a ticket tier fires, but no tier is a ticket tier');
    refused('RT125', () => defaultSlo(newStack(), { tiers: [BurnRateTier.TICKET_1D], pageActions: [topic] }));
    refused('RT125', () => defaultSlo(newStack(), { tiers: pageOnly, suppressTicketsWhilePaging: true }));
    refused('RT125', () => defaultSlo(newStack(), { tiers: [BurnRateTier.TICKET_1D], suppressTicketsWhilePaging: true }));
  });
});

describe('BurnRateTier.of checks every prop where the tier is made', () => {
  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, -1, 101])('refuses budgetConsumedPercent %s (RT102)', (budgetConsumedPercent) => {
    expect(() => customTier({ budgetConsumedPercent })).toThrow(new RegExp(`RT102.*BurnRateTier.of: budgetConsumedPercent must be above 0 and at most 100.*got ${budgetConsumedPercent}`));
  });

  it('refuses budgetConsumedPercent as a token (RT113)', () => {
    expect(() => customTier({ budgetConsumedPercent: Lazy.number({ produce: () => 2 }) })).toThrow(/RT113/);
  });

  it.each([
    ['longWindow', { longWindow: Duration.hours(Number.NaN) }, 'Duration.hours(NaN)'],
    ['longWindow', { longWindow: Duration.hours(0) }, 'Duration.hours(0) (0 s)'],
    ['longWindow', { longWindow: Duration.hours(Number.POSITIVE_INFINITY) }, 'Duration.hours(Infinity)'],
    ['longWindow', { longWindow: Duration.millis(1500) }, 'Duration.millis(1500) (1.5 s)'],
    ['shortWindow', { shortWindow: Duration.seconds(0) }, 'Duration.seconds(0) (0 s)'],
    ['shortWindow', { shortWindow: Duration.millis(500) }, 'Duration.millis(500) (0.5 s)'],
  ])('names %s and its value when it is not a positive whole number of seconds (RT118)', (prop, props, rendered) => {
    expect(() => customTier(props)).toThrow(`BurnRateTier.of: ${prop} must be a whole number of seconds above 0, got ${rendered}`);
  });

  it('refuses a token window (RT109)', () => {
    expect(() => customTier({ longWindow: Duration.hours(Lazy.number({ produce: () => 1 })) })).toThrow(/RT109.*longWindow/);
  });

  it('refuses a severity that is not an AlertSeverity (RT123)', () => {
    expect(() => customTier({ severity: 'urgent' as AlertSeverity })).toThrow(/RT123.*got "urgent"/);
  });
});
