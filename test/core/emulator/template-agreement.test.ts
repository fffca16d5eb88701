import { App, CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { describe, expect, it } from 'vitest';
import { detectionSeconds } from '../../../lib/core';
import { AlertSeverity, BurnRateTier } from '../../../lib/slo/burn-rate-tier';
import { ServiceLevelObjective } from '../../../lib/slo/service-level-objective';
import { Sli } from '../../../lib/slo/sli';
import { ThresholdTrigger } from '../../../lib/trigger/threshold-trigger';
import { EmulatorModel, compilePolicy, emulate } from '../../../lib/core/emulator';
import { countMetric } from '../../helpers';
import { policyOf, shopSli, steadyIncident } from './fixtures';

/**
 * The emulator and the synthesized alarms must use the same periods, thresholds and rules: the
 * emulator's model of a policy is compared, alarm by alarm, with the CloudFormation template the
 * same constructs synthesize.
 */

type Resource = { Type: string; Properties: Record<string, any> };

/** A stack exercising every shape the constructs render. */
function referenceStack() {
  const stack = new Stack(new App(), 'Shop');
  // Workbook tiers, tickets suppressed while paging.
  new ServiceLevelObjective(stack, 'Checkout', { sli: shopSli(), objectivePercent: 99.9, suppressTicketsWhilePaging: true });
  // Same SLI and objective: reuses every window alarm of Checkout, creates only composites.
  new ServiceLevelObjective(stack, 'CheckoutTeamB', { sli: shopSli(), objectivePercent: 99.9 });
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
    expect(model.windows).toHaveLength(8 + 4); // Checkout's 8 (shared with CheckoutTeamB) + Payments' 4
    expect(model.composites).toHaveLength(6 + 6 + 4); // tiers + severities of Checkout, CheckoutTeamB, Payments
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

  it('checks real variety: windows from 5 min to 3 d, both ratio forms, several guards and budgets', () => {
    expect(new Set(model.windows.map((w) => w.windowMinutes))).toEqual(new Set([5, 60, 30, 360, 120, 1_440, 4_320, 10]));
    expect(new Set(model.windows.map((w) => w.errorBudget))).toEqual(new Set([0.001, 0.005]));
    expect(new Set(model.windows.map((w) => w.minEvents)).size).toBeGreaterThan(2);
    const forms = Object.values(metricAlarms).flatMap((a) => a.Properties.Metrics?.filter((m: any) => m.Expression).map((m: any) => m.Expression.includes('good')) ?? []);
    expect(new Set(forms)).toEqual(new Set([true, false]));
  });

  it('every composite has the template’s operator and children, and the same suppressor', () => {
    for (const c of model.composites) {
      const props = composites[ids.get(c.id)!].Properties;
      const expected = `(${c.children.map((child) => `ALARM(${ids.get(child)})`).join(` ${c.operator} `)})`;
      expect(ruleWithLogicalIds(props.AlarmRule, metricAlarms), c.id).toBe(expected);
      const suppressor = props.ActionsSuppressor ? (stack.resolve(props.ActionsSuppressor)['Fn::GetAtt']?.[0] as string) : undefined;
      expect(suppressor, c.id).toBe(c.suppressedBy === undefined ? undefined : ids.get(c.suppressedBy));
    }
    // Shared children: CheckoutTeamB's page-1h composite reads Checkout's window alarms.
    const teamB = model.composites.find((c) => c.id === 'Shop/CheckoutTeamB/page-1h')!;
    expect(teamB.children).toEqual(['Shop/Checkout/page-1h/long', 'Shop/Checkout/page-1h/short']);
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
        sli: { 'Shop/Checkout': steadyIncident(1, 30), 'Shop/Payments': Array.from({ length: 2 * 1_440 + 31 }, (_, i) => payments(i - 2 * 1_440)) },
        metrics: { 'Shop/Confidence': [] },
      },
      { fromMinute: 0 },
    );
    const first = Object.fromEntries([...result.summary.tiers, ...result.summary.severities].map((f) => [f.id, f.firstAlarmMinute]));
    expect(first['Shop/Checkout/page']).toBe(1);
    expect(first['Shop/CheckoutTeamB/page']).toBe(1);
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
