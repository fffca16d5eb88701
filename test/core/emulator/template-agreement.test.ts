import { App, CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Vpc } from 'aws-cdk-lib/aws-ec2';
import { ApplicationLoadBalancer, ApplicationTargetGroup, ListenerAction, TargetType } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { describe, expect, it } from 'vitest';
import { detectionSeconds } from '../../../lib/core';
import { AlarmLayout } from '../../../lib/slo/alarm-layout';
import { AlertSeverity, BurnRateTier } from '../../../lib/slo/burn-rate-tier';
import { ServiceLevelObjective } from '../../../lib/slo/service-level-objective';
import { ServiceLevelObjectiveGroup } from '../../../lib/slo/service-level-objective-group';
import { Sli } from '../../../lib/slo/sli';
import { ThresholdTrigger } from '../../../lib/trigger/threshold-trigger';
import { EmulatorModel, compilePolicy, emulate, relativeWindowBurnRate, windowBurnRate } from '../../../lib/core/emulator';
import { formatNumber } from '../../../lib/core';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import fc from 'fast-check';
import { FargateServiceStack } from '../../../examples/fargate-service';
import type { RollbackTrigger } from '../../../lib/rollback/rollback-trigger';
import { lambdaService } from '../simulator/fixtures';
import { countMetric, liveAlias } from '../../helpers';
import { Evaluate, READINGS, Reading, Values, parseAlarmQueries, referencedIds } from './expression';
import { policyOf, shopSli, steadyIncident } from './fixtures';

/**
 * The emulator and the synthesized alarms must use the same periods, thresholds and rules: the
 * emulator's model of a policy is compared, alarm by alarm, with the CloudFormation template the
 * same constructs synthesize.
 */

type Resource = { Type: string; Properties: Record<string, any> };

/**
 * What the synthesized expression gives under `reading` where the emulator gives `emulated`. The
 * two agree under every reading of the metric-math page (`./expression.ts`) but one: when `total`
 * has no datapoint, `IF(total >= N, …, 0)` has none under the documented reading (as the
 * emulator says), while a reading that takes a series without a datapoint against a scalar as 0
 * (`missingBesideScalar: 'zero'`, where the page is silent) gives `0 >= N`: FALSE, a datapoint of 0.
 * Either way the alarm (TreatMissingData notBreaching, threshold > 0) does not breach.
 */
function underReading(reading: Reading, values: Values, emulated: number | undefined): number | undefined {
  return reading.missingBesideScalar === 'zero' && values.total === undefined ? 0 : emulated;
}

/** Whether a datapoint breaches a `GreaterThanOrEqualToThreshold` alarm that treats missing data as notBreaching. */
const breaches = (value: number | undefined, threshold: number) => value !== undefined && value >= threshold;

/** `expression` under every reading gives what the emulator gives, and the same alarm decision. */
function expectAgreementUnderEveryReading(evaluate: Evaluate, values: Values, emulated: number | undefined, threshold: number, where: string) {
  for (const { name, reading } of READINGS) {
    const value = evaluate(values, reading);
    expect(value, `${where} under ${name} on ${JSON.stringify(values)}`).toBe(underReading(reading, values, emulated));
    expect(breaches(value, threshold), `${where} under ${name} on ${JSON.stringify(values)}: alarm decision`).toBe(breaches(emulated, threshold));
  }
}

/**
 * A window's percentile rank `PR(:threshold)` as CloudWatch computes it over the alarm's period
 * (the whole window): the percentage of the window's samples at or below the threshold, `total −
 * bad` of `total`, whatever minute each fell in. A window without samples has no datapoint.
 */
const percentileRank = (w: { has: boolean; total: number; bad: number }) => (w.has && w.total > 0 ? (100 * (w.total - w.bad)) / w.total : undefined);

/** A stack exercising every shape the constructs render. */
function referenceStack() {
  const stack = new Stack(new App(), 'Shop');
  // Workbook tiers, tickets suppressed while paging.
  new ServiceLevelObjective(stack, 'Checkout', { sli: shopSli(), objectivePercent: 99.9, suppressTicketsWhilePaging: true });
  // Same SLI and objective: window alarms identical to Checkout's, but its own (SLOs never share);
  // the per-tier layout (Checkout and Payments have the default, EXACT).
  new ServiceLevelObjective(stack, 'CheckoutTeamB', { sli: shopSli(), objectivePercent: 99.9, alarmLayout: AlarmLayout.PER_TIER });
  // Good/total form, another objective, custom tiers, minimum events and literal alarm names.
  new ServiceLevelObjective(stack, 'Payments', {
    sli: Sli.successRatio({ goodEvents: countMetric('PaymentsOk'), totalEvents: countMetric('Payments') }),
    objectivePercent: 99.5,
    compliancePeriod: Duration.days(28),
    minEventsPerWindow: 200,
    alarmNamePrefix: 'shop',
    tiers: [
      BurnRateTier.of({ severity: AlertSeverity.PAGE, budgetConsumedPercent: 5, longWindow: Duration.hours(2), shortWindow: Duration.minutes(10) }),
      BurnRateTier.TICKET_1D,
    ],
  });
  // Two SLOs of one service sharing the group's page and ticket composites, tickets suppressed while paging.
  const service = new ServiceLevelObjectiveGroup(stack, 'Service', { suppressTicketsWhilePaging: true });
  new ServiceLevelObjective(stack, 'Orders', { sli: Sli.errorRatio({ badEvents: countMetric('OrdersFailed'), totalEvents: countMetric('Orders') }), objectivePercent: 99.9, group: service });
  new ServiceLevelObjective(stack, 'Refunds', { sli: Sli.errorRatio({ badEvents: countMetric('RefundsFailed'), totalEvents: countMetric('Refunds') }), objectivePercent: 99, group: service });
  // The native layout: EXACT's alarms and an Application Signals SLO beside them.
  new ServiceLevelObjective(stack, 'Search', { sli: Sli.errorRatio({ badEvents: countMetric('SearchFailed'), totalEvents: countMetric('Search') }), objectivePercent: 99.5, alarmLayout: AlarmLayout.NATIVE });
  new ThresholdTrigger(stack, 'Confidence', {
    metric: countMetric('Confidence'),
    threshold: 0.7,
    comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
    period: Duration.minutes(5),
    evaluationPeriods: 3,
    datapointsToAlarm: 2,
    treatMissingData: TreatMissingData.BREACHING,
  });
  return stack;
}

/**
 * Where the constructs put each policy id (`lib/slo/service-level-objective.ts`,
 * `lib/trigger/threshold-trigger.ts`): window `<slo>/<tier>/long|short` →
 * `<slo>/<tier>/LongWindowAlarm|ShortWindowAlarm`, tier `<slo>/<tier>` → `<slo>/<tier>/Alarm`,
 * severity `<slo>/page|ticket` → `<slo>/PageAlarm|TicketAlarm`, trigger `<path>` → `<path>/Alarm`.
 */
function logicalIds(stack: Stack, model: EmulatorModel): Map<string, string> {
  const byPath = new Map(stack.node.findAll().map((c) => [c.node.path, c]));
  const logicalIdOf = (policyId: string, constructPath: string) => {
    const construct = byPath.get(constructPath);
    expect(construct, `construct ${constructPath} for policy id ${policyId}`).toBeDefined();
    return stack.resolve(stack.getLogicalId(construct!.node.defaultChild as CfnElement)) as string;
  };
  const ids = new Map<string, string>();
  for (const w of model.windows) {
    ids.set(w.id, logicalIdOf(w.id, w.id.replace(/\/long$/, '/LongWindowAlarm').replace(/\/short$/, '/ShortWindowAlarm')));
  }
  for (const c of model.composites) {
    const path = c.kind === 'tier' ? `${c.id}/Alarm` : `${c.sloPath}/${c.severity === 'page' ? 'PageAlarm' : 'TicketAlarm'}`;
    ids.set(c.id, logicalIdOf(c.id, path));
  }
  for (const t of model.triggers) ids.set(t.id, logicalIdOf(t.id, `${t.id}/Alarm`));
  return ids;
}

/** A composite's AlarmRule with every child written as its logical id. */
function ruleWithLogicalIds(rule: unknown, alarms: Record<string, Resource>): string {
  const nameToLogicalId = new Map(Object.entries(alarms).flatMap(([id, r]) => (typeof r.Properties.AlarmName === 'string' ? [[r.Properties.AlarmName, id]] : [])));
  const text = typeof rule === 'string' ? rule : (rule as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : `{${(part as { Ref: string }).Ref}}`)).join('');
  // Children referenced by literal name (alarmNamePrefix) or by Ref.
  return text.replace(/ALARM\("([^"]*)"\)/g, (_, child: string) => {
    const ref = /^\{(.+)\}$/.exec(child);
    return `ALARM(${ref ? ref[1] : nameToLogicalId.get(child) ?? `unknown name ${child}`})`;
  });
}

describe('the emulator agrees with the synthesized template', () => {
  const stack = referenceStack();
  const policy = policyOf(stack);
  const model = compilePolicy(policy);
  const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, Resource> };
  const ofType = (type: string) => Object.fromEntries(Object.entries(template.Resources).filter(([, r]) => r.Type === type));
  const metricAlarms = ofType('AWS::CloudWatch::Alarm');
  const composites = ofType('AWS::CloudWatch::CompositeAlarm');
  const ids = logicalIds(stack, model);

  it('emulates exactly the alarms in the template, no more, no fewer', () => {
    expect(model.windows).toHaveLength(8 + 8 + 4 + 8 + 8 + 8); // Checkout's 8, CheckoutTeamB's own 8, Payments' 4, Orders', Refunds', Search's
    // Severities of Checkout (exact), tiers + severities of CheckoutTeamB (per-tier), severities of Payments (exact), of the group, of Search (native).
    expect(model.composites).toHaveLength(2 + 6 + 2 + 2 + 2);
    expect(new Set([...model.windows, ...model.triggers].map((a) => ids.get(a.id)))).toEqual(new Set(Object.keys(metricAlarms)));
    expect(new Set(model.composites.map((c) => ids.get(c.id)))).toEqual(new Set(Object.keys(composites)));
  });

  it('every window alarm has the template’s period, threshold, expression, guard and missing-data treatment', () => {
    const expression = /^IF\(total >= (\d+), (FILL\(bad, 0\) \/ total|\(total - FILL\(good, 0\)\) \/ total), 0\) \/ ([0-9.e+-]+)$/;
    for (const w of model.windows) {
      const props = metricAlarms[ids.get(w.id)!].Properties;
      const stats = props.Metrics.filter((m: any) => m.MetricStat);
      expect(stats.map((m: any) => m.MetricStat.Period), w.id).toEqual(stats.map(() => w.windowMinutes * 60));
      expect(stats.map((m: any) => m.Id).sort(), w.id).toEqual(expect.arrayContaining(['total']));
      const math = props.Metrics.filter((m: any) => m.Expression);
      expect(math, w.id).toHaveLength(1);
      expect(math[0].ReturnData, w.id).toBe(true);
      const parsed = expression.exec(math[0].Expression);
      expect(parsed, `${w.id}: ${math[0].Expression}`).not.toBeNull();
      expect(math[0].Expression).toContain(`IF(total >= ${w.minEvents}`);
      expect(Number(parsed![1]), w.id).toBe(w.minEvents);
      expect(Number(parsed![3]), w.id).toBe(w.errorBudget);
      expect(props, w.id).toMatchObject({
        Threshold: w.threshold,
        ComparisonOperator: w.comparison,
        EvaluationPeriods: w.evaluationPeriods,
        DatapointsToAlarm: w.datapointsToAlarm,
        TreatMissingData: w.treatMissingData,
      });
    }
  });

  it('every window alarm’s expression, interpreted under every reading of the metric-math page, gives the emulator’s burn rate', () => {
    // One window: whether `total` has a datapoint, its events and the bad ones; a count metric
    // without an event may publish nothing (FILL makes it 0).
    const windowArb = fc
      .record({ has: fc.boolean(), total: fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.constantFrom(0, 1, 7, 17, 70, 1_001)), share: fc.double({ min: 0, max: 1, noNaN: true }), publishZero: fc.boolean() })
      .map(({ has, total, share, publishZero }) => ({ has, total: has ? total : 0, bad: has ? Math.floor(total * share) : 0, publishZero }));
    for (const w of model.windows) {
      const props = metricAlarms[ids.get(w.id)!].Properties;
      const { returned, evaluate } = parseAlarmQueries(props.Metrics);
      const text = returned.Expression;
      const goodForm = referencedIds(text).has('good');
      fc.assert(
        fc.property(windowArb, ({ has, total, bad, publishZero }) => {
          const values: Values = {
            total: has ? total : undefined,
            ...(goodForm ? { good: has && (total - bad > 0 || publishZero) ? total - bad : undefined } : { bad: has && (bad > 0 || publishZero) ? bad : undefined }),
          };
          const emulated = windowBurnRate(w, { datapoints: has ? 1 : 0, total, bad });
          expectAgreementUnderEveryReading(evaluate, values, emulated, w.threshold, `${w.id}: ${text}`);
        }),
        { numRuns: 100 },
      );
    }
  });

  it('checks real variety: windows from 5 min to 3 d, both ratio forms, several guards and budgets', () => {
    expect(new Set(model.windows.map((w) => w.windowMinutes))).toEqual(new Set([5, 60, 30, 360, 120, 1_440, 4_320, 10]));
    expect(new Set(model.windows.map((w) => w.errorBudget))).toEqual(new Set([0.001, 0.005, 0.01]));
    expect(new Set(model.windows.map((w) => w.minEvents)).size).toBeGreaterThan(2);
    const forms = Object.values(metricAlarms).flatMap((a) => a.Properties.Metrics?.filter((m: any) => m.Expression).map((m: any) => m.Expression.includes('good')) ?? []);
    expect(new Set(forms)).toEqual(new Set([true, false]));
  });

  it('every composite has the template’s operator and children, and the same suppressor', () => {
    for (const c of model.composites) {
      const props = composites[ids.get(c.id)!].Properties;
      const alarm = (child: string) => `ALARM(${ids.get(child)})`;
      const term = (t: readonly string[]) => (t.length === 1 ? alarm(t[0]) : `(${t.map(alarm).join(' AND ')})`);
      const expected = c.operator === 'AND' ? term(c.children) : `(${c.terms.map(term).join(' OR ')})`;
      expect(ruleWithLogicalIds(props.AlarmRule, metricAlarms), c.id).toBe(expected);
      const suppressor = props.ActionsSuppressor ? (stack.resolve(props.ActionsSuppressor)['Fn::GetAtt']?.[0] as string) : undefined;
      expect(suppressor, c.id).toBe(c.suppressedBy === undefined ? undefined : ids.get(c.suppressedBy));
    }
    // CheckoutTeamB's page-1h composite reads its own window alarms, not Checkout's identical ones.
    const teamB = model.composites.find((c) => c.id === 'Shop/CheckoutTeamB/page-1h')!;
    expect(teamB.children).toEqual(['Shop/CheckoutTeamB/page-1h/long', 'Shop/CheckoutTeamB/page-1h/short']);
    // The group's page rule ORs both members' page tiers; its ticket composite is suppressed by its page composite.
    const group = model.composites.find((c) => c.id === 'Shop/Service/page')!;
    expect(group.terms.map((t) => t.map((id) => id.split('/').slice(1).join('/')))).toEqual([
      ['Orders/page-1h/long', 'Orders/page-1h/short'],
      ['Orders/page-6h/long', 'Orders/page-6h/short'],
      ['Refunds/page-1h/long', 'Refunds/page-1h/short'],
      ['Refunds/page-6h/long', 'Refunds/page-6h/short'],
    ]);
    expect(model.composites.find((c) => c.id === 'Shop/Service/ticket')!.suppressedBy).toBe('Shop/Service/page');
    // The exact layout writes the whole rule in the severity composite.
    const exact = model.composites.find((c) => c.id === 'Shop/Checkout/page')!;
    expect(exact.terms).toEqual([
      ['Shop/Checkout/page-1h/long', 'Shop/Checkout/page-1h/short'],
      ['Shop/Checkout/page-6h/long', 'Shop/Checkout/page-6h/short'],
    ]);
  });

  it('every threshold trigger has the template’s period, M of N, comparison, threshold and missing-data treatment', () => {
    for (const t of model.triggers) {
      expect(metricAlarms[ids.get(t.id)!].Properties, t.id).toMatchObject({
        Period: t.periodMinutes * 60,
        EvaluationPeriods: t.evaluationPeriods,
        DatapointsToAlarm: t.datapointsToAlarm,
        ComparisonOperator: t.comparison,
        Threshold: t.threshold,
        TreatMissingData: t.treatMissingData,
      });
    }
  });

  it('replays the synthesized policy end to end', () => {
    const payments = (m: number) => ({ minute: m, total: 1_000, bad: m >= 0 ? 1_000 : 0 });
    const result = emulate(
      {
        policy,
        sli: {
          'Shop/Checkout': steadyIncident(1, 30),
          'Shop/CheckoutTeamB': steadyIncident(1, 30),
          'Shop/Payments': Array.from({ length: 2 * 1_440 + 31 }, (_, i) => payments(i - 2 * 1_440)),
          // Only Refunds fails: the group pages for it.
          'Shop/Orders': steadyIncident(0, 30),
          'Shop/Refunds': steadyIncident(1, 30),
          'Shop/Search': steadyIncident(1, 30),
        },
        metrics: { 'Shop/Confidence': [] },
      },
      { fromMinute: 0 },
    );
    const first = Object.fromEntries([...result.summary.tiers, ...result.summary.severities].map((f) => [f.id, f.firstAlarmMinute]));
    expect(first['Shop/Checkout/page']).toBe(1);
    expect(first['Shop/CheckoutTeamB/page']).toBe(1);
    // At 99 % a total outage burns 100×: page-1h's long window reaches 14.4× after 8.64 minutes.
    const refunds = policy.slos.find((s) => s.path === 'Shop/Refunds')!.tiers[0];
    expect(first['Shop/Refunds/page-1h']).toBe(detectionSeconds(refunds, 1)! / 60);
    expect(first['Shop/Service/page']).toBe(first['Shop/Refunds/page-1h']);
    expect(first['Shop/Orders/page-1h']).toBeNull();
    const search = policy.slos.find((s) => s.path === 'Shop/Search')!.tiers[0];
    expect(first['Shop/Search/page']).toBe(detectionSeconds(search, 1)! / 60);
    // The custom tier: 5 % of a 28-day budget in 2 h is 16.8×, an error ratio of 8.4 % at 99.5 %:
    // 10.08 failed minutes of 120, so minute 11, as the plan says.
    const custom = policy.slos.find((s) => s.path === 'Shop/Payments')!.tiers[0];
    expect(custom.factor).toBe(16.8);
    expect(first['Shop/Payments/page']).toBe(detectionSeconds(custom, 1)! / 60);
    expect(first['Shop/Payments/page']).toBe(11);
    // No confidence datapoints, treated as breaching: 3 breaching fills → ALARM at once.
    expect(result.summary.triggers[0].firstAlarmMinute).toBe(0);
  });
});

/**
 * The latency SLIs (`Sli.latency`, `Sli.lambdaLatency`, `Sli.targetGroupLatency`) count slow
 * requests as `total × (100 − PR(:threshold)) / 100`, rounded to whole requests: the alarm's period
 * is the whole window, so the window's percentile rank is the sample-weighted share of its samples
 * at or below the threshold, and the product the window's slow requests. Their window alarms,
 * interpreted from the metrics CloudWatch holds (the total and the percentile rank), give the
 * emulator's burn rate from the same window's counts.
 */
describe('the latency SLIs’ window alarms agree with the emulator', () => {
  const stack = new Stack(new App(), 'Latency');
  new ServiceLevelObjective(stack, 'Generic', { sli: Sli.latency({ latency: new Metric({ namespace: 'Shop', metricName: 'Latency' }), threshold: 120 }), objectivePercent: 99 });
  new ServiceLevelObjective(stack, 'Lambda', { sli: Sli.lambdaLatency(liveAlias(stack), Duration.millis(300)), objectivePercent: 99.5 });
  const vpc = new Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const targetGroup = new ApplicationTargetGroup(stack, 'Green', { vpc, port: 80, targetType: TargetType.IP });
  new ApplicationLoadBalancer(stack, 'Lb', { vpc }).addListener('Http', { port: 80, defaultAction: ListenerAction.forward([targetGroup]) });
  new ServiceLevelObjective(stack, 'Alb', { sli: Sli.targetGroupLatency(targetGroup, Duration.millis(250)), objectivePercent: 99.9 });
  const model = compilePolicy(policyOf(stack));
  const metricAlarms = (Template.fromStack(stack).toJSON() as { Resources: Record<string, Resource> }).Resources;
  const ids = logicalIds(stack, model);

  it('every window alarm reads the total and the percentile rank of the same samples, over the window', () => {
    expect(model.windows).toHaveLength(3 * 8);
    const stats = new Set<string>();
    for (const w of model.windows) {
      const byId = Object.fromEntries((metricAlarms[ids.get(w.id)!].Properties.Metrics as any[]).map((m) => [m.Id, m]));
      expect(Object.keys(byId).sort(), w.id).toEqual(['bad', 'expr_1', 'pr', 'total']);
      expect(byId.bad.Expression, w.id).toBe('FLOOR(total * (100 - FILL(pr, 100)) / 100 + 0.5)');
      expect(byId.pr.MetricStat.Metric.Dimensions, w.id).toEqual(byId.total.MetricStat.Metric.Dimensions);
      expect([byId.pr.MetricStat.Period, byId.total.MetricStat.Period], w.id).toEqual([w.windowMinutes * 60, w.windowMinutes * 60]);
      stats.add(`${byId.total.MetricStat.Metric.MetricName}:${byId.total.MetricStat.Stat} ${byId.pr.MetricStat.Metric.MetricName}:${byId.pr.MetricStat.Stat}`);
    }
    expect(stats).toEqual(new Set(['Latency:SampleCount Latency:PR(:120)', 'Invocations:Sum Duration:PR(:300)', 'RequestCount:Sum TargetResponseTime:PR(:0.25)']));
  });

  it('every window alarm’s expression, from the window’s total and percentile rank, gives the emulator’s burn rate under every reading', () => {
    const windowArb = fc
      .record({ has: fc.boolean(), total: fc.oneof(fc.integer({ min: 0, max: 2_000 }), fc.constantFrom(0, 1, 7, 70, 700, 1_001)), share: fc.double({ min: 0, max: 1, noNaN: true }) })
      .map(({ has, total, share }) => ({ has, total: has ? total : 0, bad: has ? Math.floor(total * share) : 0 }));
    for (const w of model.windows) {
      const { returned, evaluate } = parseAlarmQueries(metricAlarms[ids.get(w.id)!].Properties.Metrics);
      fc.assert(
        fc.property(windowArb, (window) => {
          const values: Values = { total: window.has ? window.total : undefined, pr: percentileRank(window) };
          const emulated = windowBurnRate(w, { datapoints: window.has ? 1 : 0, ...window });
          expectAgreementUnderEveryReading(evaluate, values, emulated, w.threshold, `${w.id}: ${returned.Expression}`);
        }),
        { numRuns: 100 },
      );
    }
  });

  it('a window with requests but no latency sample has no slow request: FILL(pr, 100)', () => {
    for (const w of model.windows) {
      const { evaluate } = parseAlarmQueries(metricAlarms[ids.get(w.id)!].Properties.Metrics);
      for (const { reading } of READINGS) expect(evaluate({ total: 5_000, pr: undefined }, reading), w.id).toBe(0);
    }
  });
});

/**
 * The rollback alarms a RollbackTrigger attaches to the deployment group compare the new version
 * with a baseline (`relativeBurnRateExpression`). Their synthesized expression is interpreted as
 * CloudWatch evaluates it (`./expression.ts`, under the metric-math page's rules and every
 * reading where the page is silent), on random window sums, and must give exactly what the
 * emulator's `relativeWindowBurnRate` gives for the same traffic (`underReading`: one known
 * departure, never a different alarm decision): Lambda (`rest-of-blended`: the alias minus the new
 * version) and ECS (`separate`: the other target group), error-ratio SLIs (bad given as its
 * query's datapoint) and latency SLIs (bad computed from the window's total and percentile rank;
 * the alias's rank is over the samples of every version).
 */
describe('the rollback alarms agree with the emulator', () => {
  const lambda = lambdaService({ latency: true });
  const fargate = new FargateServiceStack(new App(), 'Fargate', { env: { region: 'eu-west-1' } });
  const cases: Array<[string, Stack, RollbackTrigger, number]> = [
    ['Lambda', lambda.stack, lambda.trigger, 2],
    ['ECS', fargate, fargate.rollbackTrigger, 4],
  ];

  /** One window of one version: whether it has a datapoint, its events and the bad ones. */
  const armArb = fc
    .record({ has: fc.boolean(), total: fc.integer({ min: 0, max: 400 }), share: fc.double({ min: 0, max: 1, noNaN: true }), publishZero: fc.boolean() })
    .map(({ has, total, share, publishZero }) => (has ? { has, total, bad: Math.floor(total * share * share), publishZero } : { has, total: 0, bad: 0, publishZero }));

  /**
   * Independent windows, and ties: the new version failing exactly twice as often as the old one
   * (b of n vs b of 2n; halving is exact in binary), where only a strict `>` holds the alarm.
   */
  const pairArb = fc.oneof(
    fc.tuple(armArb, armArb),
    armArb
      .filter((a) => a.has && a.bad > 0)
      .map((a) => [a, { has: true, total: 2 * a.total, bad: a.bad, publishZero: a.publishZero }] as const),
  );

  it.each(cases)('%s: every rollback alarm renders the expression the emulator evaluates', (_platform, stack, trigger, count) => {
    const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, Resource> };
    const policyAlarms = trigger._policy.alarms;
    expect(policyAlarms).toHaveLength(count);
    expect(trigger.rollbackAlarms).toHaveLength(count);
    const errorBudgets = Object.fromEntries(trigger._policy.alarms.map((a) => [a.slo, 0]));
    for (const o of stack.node.findAll()) {
      const slo = (o as { _policy?: { kind?: string; name?: string; errorBudget?: number } })._policy;
      if (slo?.kind === 'slo' && slo.name! in errorBudgets) errorBudgets[slo.name!] = slo.errorBudget!;
    }
    policyAlarms.forEach((policyAlarm, i) => {
      const where = `${policyAlarm.slo} (${policyAlarm.scope})`;
      // Both deployment groups are canaries of 10 % (CodeDeployDefault.LambdaCanary10Percent5Minutes, ECSCanary10Percent5Minutes).
      expect(policyAlarm.baseline, where).toEqual({ mode: policyAlarm.scope === 'version' ? 'rest-of-blended' : 'separate', factor: 2, shift: { kind: 'canary', share: 0.1 } });
      const cfn = (trigger.rollbackAlarms[i] as Alarm).node.defaultChild as CfnElement;
      const props = template.Resources[stack.resolve(cfn.logicalId) as string].Properties;
      expect(props, where).toMatchObject({
        Threshold: policyAlarm.tier.factor,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        DatapointsToAlarm: 1,
        TreatMissingData: 'notBreaching',
      });
      const stats = props.Metrics.filter((m: any) => m.MetricStat);
      // The tier's SHORT window (page-1h: 5 min, not the hour): a new version's window and its
      // baseline's then cover (nearly) the same minutes. The policy records it, and the simulator reads it.
      expect(policyAlarm.windowSeconds, where).toBe(policyAlarm.tier.shortWindowSeconds);
      expect(policyAlarm.windowSeconds, where).toBeLessThan(policyAlarm.tier.longWindowSeconds);
      expect(stats.map((m: any) => m.MetricStat.Period), where).toEqual(stats.map(() => policyAlarm.windowSeconds));
      // One returned expression over the new version's counts and its baseline's. Each count is a
      // metric or, for a count no single metric publishes (an ALB target group's failed requests),
      // an expression query of its own over metrics of the same traffic (`bad`, `basebad`).
      const queries = parseAlarmQueries(props.Metrics);
      const text = queries.returned.Expression;
      const named = [...referencedIds(text)].sort();
      const goodForm = named.includes('good');
      // A latency SLI: its bad counts are computed from each window's total and percentile rank.
      const latencyForm = queries.metricIds.includes('pr');
      if (latencyForm) expect([...queries.metricIds].sort(), where).toEqual(['basepr', 'basetotal', 'pr', 'total']);
      expect(named, where).toEqual(goodForm ? ['basegood', 'basetotal', 'good', 'total'] : ['bad', 'basebad', 'basetotal', 'total']);
      expect(queries.metricIds, where).toEqual(expect.arrayContaining(['total', 'basetotal']));
      expect(queries.expressionIds.filter((id) => id !== queries.returned.Id).every((id) => (goodForm ? ['good', 'basegood'] : ['bad', 'basebad']).includes(id)), where).toBe(true);
      // The baseline reads other traffic than the new version: another dimension set.
      const dimensions = (id: string) => JSON.stringify(stats.find((m: any) => m.Id === id).MetricStat.Metric.Dimensions);
      expect(dimensions('basetotal'), where).not.toBe(dimensions('total'));
      // The datapoints of the four counts are given (a derived count's as the datapoint of its query).
      const expression = queries.evaluate;

      const model = {
        minEvents: policyAlarm.minEvents,
        errorBudget: Number(formatNumber(errorBudgets[policyAlarm.slo])),
        baseline: { factor: Number(formatNumber(policyAlarm.baseline!.factor)), shift: policyAlarm.baseline!.shift },
      };
      fc.assert(
        fc.property(pairArb, ([canary, old]) => {
          // What CloudWatch holds for the window: a count metric with no event may publish nothing
          // (FILL makes it 0); a version without a datapoint publishes nothing at all.
          const published = (has: boolean, value: number, publishZero: boolean) => (has && (value > 0 || publishZero) ? value : undefined);
          const blended = policyAlarm.baseline!.mode === 'rest-of-blended';
          const base = blended ? { has: canary.has || old.has, total: canary.total + old.total, bad: canary.bad + old.bad } : old;
          const values = latencyForm
            ? { total: canary.has ? canary.total : undefined, pr: percentileRank(canary), basetotal: base.has ? base.total : undefined, basepr: percentileRank(base) }
            : {
                total: canary.has ? canary.total : undefined,
                ...(goodForm ? { good: canary.has ? canary.total - canary.bad : undefined } : { bad: published(canary.has, canary.bad, canary.publishZero) }),
                basetotal: base.has ? base.total : undefined,
                ...(goodForm ? { basegood: base.has ? base.total - base.bad : undefined } : { basebad: published(base.has, base.bad, old.publishZero) }),
              };
          // Blended: the alias as read (both versions), for the guards against series that arrive apart.
          const alias = blended ? { datapoints: base.has ? 1 : 0, total: base.total, bad: base.bad } : undefined;
          const emulated = relativeWindowBurnRate(model, { datapoints: canary.has ? 1 : 0, ...canary }, { datapoints: old.has ? 1 : 0, ...old }, alias);
          expectAgreementUnderEveryReading(expression, values, emulated, policyAlarm.tier.factor, `${where}: ${text}`);
        }),
        { numRuns: 400 },
      );
    });
  });
});
