import { Duration } from 'aws-cdk-lib';
import { ComparisonOperator, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { LambdaDeploymentGroup } from 'aws-cdk-lib/aws-codedeploy';
import { describe, expect, it } from 'vitest';
import {
  AlertSeverity,
  BurnRateTier,
  HealthCheck,
  RollbackTarget,
  RollbackTrigger,
  RollbackTriggerProps,
  ServiceLevelObjective,
  Sli,
  ThresholdTrigger,
  TriggerMode,
} from '../../lib';
import { RollbackTriggersError } from '../../lib/core';
import { lambdaCanary, newStack } from '../helpers';

// A refusal carries, besides its text, where it points: the construct path (when a construct is
// at hand) and the prop as the user wrote it, so tools need not parse the message. The text itself
// is unchanged: `[code] path: detail`.

/** What `build` throws, which must be a coded error. */
function caught(build: () => unknown): RollbackTriggersError {
  try {
    build();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(RollbackTriggersError);
    return e as RollbackTriggersError;
  }
  throw new Error('expected a RollbackTriggersError, nothing was thrown');
}

function lambdaTrigger(props: Partial<RollbackTriggerProps> = {}, f = lambdaCanary()) {
  return new RollbackTrigger(f.stack, 'Rollback', { target: RollbackTarget.lambdaAlias({ deploymentGroup: f.group, alias: f.alias }), objectives: [f.slo], ...props });
}

interface Case {
  readonly name: string;
  readonly build: () => unknown;
  readonly code: string;
  readonly prop: string;
  /** undefined for a factory (BurnRateTier.of, HealthCheck.http, RollbackTarget.lambdaAlias): no construct exists yet. */
  readonly constructPath?: string;
}

const cases: Case[] = [
  {
    name: 'ServiceLevelObjective: objectivePercent of 100',
    build: () => {
      const { alias, stack } = lambdaCanary();
      return new ServiceLevelObjective(stack, 'Checkout', { sli: Sli.lambdaAvailability(alias), objectivePercent: 100 });
    },
    code: 'RT101',
    prop: 'objectivePercent',
    constructPath: 'TestStack/Checkout',
  },
  {
    name: 'BurnRateTier.of: a long window of a fraction of a second',
    build: () => BurnRateTier.of({ severity: AlertSeverity.PAGE, budgetConsumedPercent: 2, longWindow: Duration.millis(1500) }),
    code: 'RT118',
    prop: 'longWindow',
  },
  {
    name: 'BurnRateTier.of: a short window no shorter than the long one',
    build: () => BurnRateTier.of({ severity: AlertSeverity.PAGE, budgetConsumedPercent: 2, longWindow: Duration.hours(1), shortWindow: Duration.hours(1) }),
    code: 'RT104',
    prop: 'shortWindow',
  },
  {
    name: 'RollbackTrigger: a deadline past 55 minutes',
    build: () => lambdaTrigger({ deadline: Duration.minutes(56) }),
    code: 'RT316',
    prop: 'deadline',
    constructPath: 'TestStack/Rollback',
  },
  {
    name: 'RollbackTrigger: a deadline of a fraction of a second (a core check, under the construct)',
    build: () => lambdaTrigger({ deadline: Duration.millis(1500) }),
    code: 'RT118',
    prop: 'deadline',
    constructPath: 'TestStack/Rollback',
  },
  {
    name: 'RollbackTrigger: an objective listed twice',
    build: () => {
      const f = lambdaCanary();
      return lambdaTrigger({ objectives: [f.slo, f.slo] }, f);
    },
    code: 'RT326',
    prop: 'objectives[1]',
    constructPath: 'TestStack/Rollback',
  },
  {
    name: 'RollbackTrigger: an objective without a page tier, named by its index',
    build: () => {
      const f = lambdaCanary();
      const ticketOnly = new ServiceLevelObjective(f.stack, 'Slow', { sli: Sli.lambdaAvailability(f.alias), objectivePercent: 99, tiers: [BurnRateTier.TICKET_1D] });
      return lambdaTrigger({ objectives: [f.slo, ticketOnly] }, f);
    },
    code: 'RT307',
    prop: 'objectives[1]',
    constructPath: 'TestStack/Rollback',
  },
  {
    name: 'RollbackTrigger: a ticket-severity alarm trigger',
    build: () => {
      const f = lambdaCanary();
      const ticket = new ThresholdTrigger(f.stack, 'Ticket', {
        metric: new Metric({ namespace: 'Shop', metricName: 'Confidence' }),
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        threshold: 0.7,
        severity: AlertSeverity.TICKET,
      });
      return lambdaTrigger({ alarmTriggers: [ticket] }, f);
    },
    code: 'RT337',
    prop: 'alarmTriggers[0]',
    constructPath: 'TestStack/Rollback',
  },
  {
    name: 'RollbackTrigger: an unknown mode',
    build: () => lambdaTrigger({ mode: 'dry' as TriggerMode }),
    code: 'RT334',
    prop: 'mode',
    constructPath: 'TestStack/Rollback',
  },
  {
    name: 'RollbackTarget.lambdaAlias: an imported deployment group',
    build: () => {
      const f = lambdaCanary();
      const imported = LambdaDeploymentGroup.fromLambdaDeploymentGroupAttributes(f.stack, 'Imported', { application: f.group.application, deploymentGroupName: 'live' });
      return RollbackTarget.lambdaAlias({ deploymentGroup: imported as never, alias: f.alias });
    },
    code: 'RT334',
    prop: 'deploymentGroup',
  },
  {
    name: 'ThresholdTrigger: an anomaly-band comparison',
    build: () =>
      new ThresholdTrigger(newStack(), 'Confidence', {
        metric: new Metric({ namespace: 'Shop', metricName: 'Confidence' }),
        comparisonOperator: ComparisonOperator.LESS_THAN_LOWER_OR_GREATER_THAN_UPPER_THRESHOLD,
        threshold: 0.7,
      }),
    code: 'RT212',
    prop: 'comparisonOperator',
    constructPath: 'TestStack/Confidence',
  },
  {
    name: 'HealthCheck.http: an ftp URL',
    build: () => HealthCheck.http({ name: 'home', url: 'ftp://example.test' }),
    code: 'RT310',
    prop: 'url',
  },
  {
    name: 'ServiceLevelObjective.metricBurnRate: a window of 90 seconds',
    build: () => lambdaCanary().slo.metricBurnRate(Duration.seconds(90)),
    code: 'RT127',
    prop: 'window',
    constructPath: 'TestStack/Availability',
  },
];

describe('a refusal names its code, construct path and prop as fields', () => {
  it.each(cases)('$name', ({ build, code, prop, constructPath }) => {
    const e = caught(build);
    expect({ code: e.code, constructPath: e.constructPath, prop: e.prop }).toEqual({ code, constructPath, prop });
    // The fields add to the message; they do not change it: the path once, in front of the detail.
    const prefix = constructPath === undefined ? `[${code}] ` : `[${code}] ${constructPath}: `;
    expect(e.message).toBe(`${prefix}${e.detail}`);
    expect(e.detail.startsWith(`${constructPath}:`)).toBe(false);
  });
});
