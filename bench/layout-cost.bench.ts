/**
 * Alarm cost per SLO in each alarm layout (issue 10), read from synthesized stacks with the plan's
 * pricing (us-east-1 list prices, lib/core/pricing.ts), and the rollback alarms' cost per SLO of the
 * Lambda and ECS examples.
 *
 *   npx tsx bench/layout-cost.bench.ts
 *
 * Every figure is the plan of a real synthesized stack (`RollbackPlan.of`); nothing is computed by
 * hand here. The SLI is `Sli.lambdaAvailability` (two metrics, Errors / Invocations) with the
 * workbook's four tiers, as in the issue's $4.60 measurement.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AlarmLayout, RollbackPlan, ServiceLevelObjective, ServiceLevelObjectiveGroup, Sli } from '../lib';
import { policyFromEntries } from '../lib/core/policy';
import { CLOUDWATCH_ALARM_PRICES_USD } from '../lib/core/pricing';
import { policyEntriesUnder } from '../lib/private/policy-entries';
import { FargateServiceStack } from '../examples/fargate-service';
import { LambdaCanaryStack } from '../examples/lambda-canary';

function fn(stack: Stack, i: number): lambda.Function {
  return new lambda.Function(stack, `Fn${i}`, { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => 1;') });
}

/** $/SLO/month of `count` SLOs in one stack, laid out as asked (a group holds them all when `grouped`). */
function perSlo(count: number, layout: AlarmLayout, grouped: boolean): { usd: number; composites: number; metricAlarms: number; native: number } {
  const stack = new Stack(new App(), 'Cost');
  const group = grouped ? new ServiceLevelObjectiveGroup(stack, 'Service') : undefined;
  for (let i = 0; i < count; i++) {
    new ServiceLevelObjective(stack, `Slo${i}`, { sli: Sli.lambdaAvailability(fn(stack, i)), objectivePercent: 99.9, alarmLayout: layout, group });
  }
  const template = App.of(stack)!.synth().getStackByName('Cost').template as { Resources: Record<string, { Type: string }> };
  const native = Object.values(template.Resources).filter((r) => r.Type === 'AWS::ApplicationSignals::ServiceLevelObjective').length;
  const plan = RollbackPlan.of(stack);
  return { usd: plan.monthlyCostUsd / count, composites: plan.compositeAlarmCount, metricAlarms: plan.metricAlarmCount, native };
}

/** Rollback alarms' $/month per SLO of an example stack's rollback triggers, with the metrics each SLO's alarms read. */
function rollbackPerSlo(stack: Stack): string[] {
  const policy = policyFromEntries(policyEntriesUnder(stack));
  const alarms = (policy.rollbackTriggers ?? []).flatMap((r) => r.alarms);
  return [...new Set(alarms.map((a) => a.slo))].map((slo) => {
    const own = alarms.filter((a) => a.slo === slo);
    const usd = own.reduce((sum, a) => sum + a.metricCount * CLOUDWATCH_ALARM_PRICES_USD.standardPerMetric, 0);
    const sliMetrics = policy.slos.find((s) => s.name === slo)?.sli.metricCount;
    return `${slo}: $${usd.toFixed(2)} (${own.length} alarm${own.length === 1 ? '' : 's'}: ${own.map((a) => `${a.scope} ${a.metricCount} metrics`).join(', ')}; the SLI reads ${sliMetrics})`;
  });
}

function main(): void {
  const rows: string[][] = [['layout', 'SLOs', 'metric alarms', 'composites', 'Application Signals SLOs', '$/SLO/month (alarms)', 'target']];
  const add = (name: string, count: number, layout: AlarmLayout, grouped: boolean, target: string) => {
    const r = perSlo(count, layout, grouped);
    rows.push([name, String(count), String(r.metricAlarms), String(r.composites), String(r.native), `$${r.usd.toFixed(2)}`, target]);
  };
  add('PER_TIER (before)', 1, AlarmLayout.PER_TIER, false, '—');
  add('EXACT (default)', 1, AlarmLayout.EXACT, false, '≤ $2.60');
  add('NATIVE', 1, AlarmLayout.NATIVE, false, '≤ $1.30 (not met: burn-rate metric undocumented)');
  add('group of 2', 2, AlarmLayout.EXACT, true, '≤ $2.10');
  add('group of 5', 5, AlarmLayout.EXACT, true, 'less with more');
  add('group of 10', 10, AlarmLayout.EXACT, true, 'less with more');
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  console.log('Alarm cost per SLO by layout (Sli.lambdaAvailability, workbook tiers, us-east-1 list prices):');
  for (const r of rows) console.log('  ' + r.map((c, i) => c.padEnd(widths[i])).join('  '));
  console.log('  NATIVE adds the Application Signals SLO, billed by Application Signals (not an alarm price; see the README).');

  const app = new App();
  console.log('Rollback alarms per SLO (always-on CloudWatch alarms, billed by the month like the others):');
  for (const line of rollbackPerSlo(new LambdaCanaryStack(app, 'LambdaCanary'))) console.log(`  Lambda (examples/lambda-canary.ts) ${line}; target ≤ $0.40 for a two-metric SLI`);
  // ALB access logging needs a concrete Region, as in examples/app.ts.
  for (const line of rollbackPerSlo(new FargateServiceStack(app, 'FargateService', { env: { region: 'us-east-1' } }))) {
    console.log(`  ECS (examples/fargate-service.ts) ${line}; target ≤ $0.80 for a two-metric SLI`);
  }
}

main();
