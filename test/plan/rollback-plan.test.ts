import { Stack } from 'aws-cdk-lib';
import { ComparisonOperator } from 'aws-cdk-lib/aws-cloudwatch';
import { describe, expect, it } from 'vitest';
import { RollbackPlan, ServiceLevelObjective, Sli, ThresholdTrigger } from '../../lib';
import { countMetric, newStack } from '../helpers';

function stackWithSlo(): Stack {
  const stack = newStack();
  new ServiceLevelObjective(stack, 'Checkout', { sli: Sli.errorRatio({ badEvents: countMetric('Failed'), totalEvents: countMetric('All') }), objectivePercent: 99.9 });
  return stack;
}

describe('RollbackPlan', () => {
  it('quotes the workbook detection times for a 99.9 % SLO: about 1, 9 and 44 minutes', () => {
    const plan = RollbackPlan.of(stackWithSlo());
    expect(plan.detectionSeconds('Checkout', 'page-1h', 1)).toBe(60);
    expect(plan.detectionSeconds('Checkout', 'page-1h', 0.1)).toBe(540);
    expect(plan.detectionSeconds('Checkout', 'page-1h', 0.02)).toBe(2640);
    expect(plan.detectionSeconds('Checkout', 'page-1h', 0.01)).toBeUndefined();
    expect(plan.detectionSeconds('Checkout', 'page-6h', 0.05)).toBe(Math.ceil((0.006 * 21600) / 0.05 / 60) * 60);
  });

  it('gives the latest detection too: an hour later at most for the 3-day window CloudWatch evaluates hourly, the same time for the others', () => {
    const plan = RollbackPlan.of(stackWithSlo(), { ingestionDelaySeconds: 120 });
    // ticket-3d at 1 % errors: 0.1 % × 3 days ÷ 1 % = 432 min for the long window (the 6-h short one breaches at 36 min).
    expect(plan.detectionSeconds('Checkout', 'ticket-3d', 0.01)).toBe(432 * 60 + 120);
    expect(plan.latestDetectionSeconds('Checkout', 'ticket-3d', 0.01)).toBe((432 + 59) * 60 + 120);
    expect(plan.latestDetectionSeconds('Checkout', 'page-1h', 0.1)).toBe(plan.detectionSeconds('Checkout', 'page-1h', 0.1));
    expect(plan.latestDetectionSeconds('Checkout', 'page-1h', 0.01)).toBeUndefined();
    expect(() => plan.latestDetectionSeconds('Checkout', 'nope', 1)).toThrow(/no tier "nope"/);
  });

  it('adds the ingestion delay', () => {
    const plan = RollbackPlan.of(stackWithSlo(), { ingestionDelaySeconds: 180 });
    expect(plan.detectionSeconds('Checkout', 'page-1h', 1)).toBe(240);
  });

  it('counts alarms and prices them at list prices', () => {
    const stack = stackWithSlo();
    new ThresholdTrigger(stack, 'Gauge', { metric: countMetric('Confidence'), comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD, threshold: 0.7 });
    const plan = RollbackPlan.of(stack);
    expect(plan.sloCount).toBe(1);
    expect(plan.metricAlarmCount).toBe(9);
    expect(plan.compositeAlarmCount).toBe(2);
    // 8 math alarms × 2 metrics × $0.10 + 1 trigger × $0.10 + 2 composites (one per severity, EXACT) × $0.50
    expect(plan.monthlyCostUsd).toBe(2.7);
    expect(plan.render()).toMatch(/9 metric .* 2 composite — \$2\.70\/month/);
    expect(plan.render()).toContain(
      '  Alarm layout: EXACT, $2.60/month. Per layout: EXACT $2.60, PER_TIER $4.60, NATIVE $2.60 + the Application Signals SLO (billed by Application Signals), ' +
        'in a ServiceLevelObjectiveGroup of n SLOs $1.60 + $1.00 ÷ n.',
    );
  });

  it('names the SLOs it has when asked for an unknown one', () => {
    expect(() => RollbackPlan.of(stackWithSlo()).detectionSeconds('Nope', 'page-1h', 1)).toThrow(/^\[RT126\] .*the plan has SLOs Checkout/);
    expect(() => RollbackPlan.of(stackWithSlo()).latestDetectionSeconds('Checkout', 'page-2h', 1)).toThrow(/^\[RT126\] .*SLO "Checkout" has tiers page-1h, page-6h, ticket-1d, ticket-3d/);
  });
});
