import { policyEntriesUnder } from '../../../lib/private/policy-entries';
import { App, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { POLICY_SCHEMA_VERSION, type PolicyEntry, RollbackPolicy, policyFromEntries } from '../../../lib/core';
import type { SliPoint } from '../../../lib/core/emulator';
import { ServiceLevelObjective, ServiceLevelObjectiveProps } from '../../../lib/slo/service-level-objective';
import { Sli } from '../../../lib/slo/sli';
import { countMetric } from '../../helpers';

export const DAY_MINUTES = 1_440;

/** The policy of every SLO and trigger under `scope`, as `RollbackPlan.of` collects it. */
export function policyOf(scope: IConstruct): RollbackPolicy {
  // SLOs, groups and threshold triggers, as the cloud assembly holds them.
  const entries = policyEntriesUnder(scope).filter((e) => ['slo', 'slo-group', 'threshold'].includes((e as { entry: PolicyEntry }).entry.kind));
  return policyFromEntries(entries);
}

export const shopSli = () => Sli.errorRatio({ badEvents: countMetric('Failed'), totalEvents: countMetric('Requests') });

/** A real `ServiceLevelObjective` (99.9 %, workbook tiers unless overridden) synthesized in a fresh stack. */
export function synthesizedSlo(props: Partial<ServiceLevelObjectiveProps> = {}) {
  const stack = new Stack(new App(), 'Shop');
  const slo = new ServiceLevelObjective(stack, 'Checkout', { sli: shopSli(), objectivePercent: 99.9, ...props });
  return { stack, slo, policy: policyOf(stack), path: slo.node.path };
}

/**
 * Per-minute traffic for minutes `from` … `to`: `total` requests a minute, of which
 * `bad(minute, total)` fail.
 */
export function series(from: number, to: number, total: number | ((minute: number) => number), bad: (minute: number, total: number) => number): SliPoint[] {
  const points: SliPoint[] = [];
  for (let m = from; m <= to; m++) {
    const t = typeof total === 'number' ? total : total(m);
    points.push({ minute: m, total: t, bad: bad(m, t) });
  }
  return points;
}

/**
 * Steady 1,000 requests a minute with a clean history of three days (so even the 3-day window is
 * full), then `errorRatio` of them failing from minute 0 on.
 */
export function steadyIncident(errorRatio: number, untilMinute: number, requestsPerMinute = 1_000): SliPoint[] {
  return series(-3 * DAY_MINUTES, untilMinute, requestsPerMinute, (m, t) => (m >= 0 ? t * errorRatio : 0));
}

/**
 * The numbers of a `RollbackTrigger`'s rollback alarm on a 99.9 % SLO with the workbook tiers (the
 * fastest page tier's long window on one version's own traffic): 1 h, burn rate ≥ 14.4×, at least
 * 70 events, 1 of 1, notBreaching; baseline factor 2 by default. `baseline.test.ts` checks them
 * against a synthesized trigger.
 */
export const ROLLBACK_ALARM = { id: 'Svc/Rollback/Availability/version/page-1h', windowSeconds: 3_600, threshold: 14.4, minEvents: 70, errorBudget: 0.001, factor: 2 } as const;

/**
 * A policy of that one window alarm, as the simulator wraps each rollback alarm for the emulator;
 * `windowSeconds` 300 is the window the constructs give it (the tier's short window).
 */
export function rollbackAlarmPolicy(windowSeconds: number = ROLLBACK_ALARM.windowSeconds): RollbackPolicy {
  const { policy } = synthesizedSlo();
  const slo = policy.slos[0];
  return {
    schemaVersion: POLICY_SCHEMA_VERSION,
    slos: [
      {
        ...slo,
        path: ROLLBACK_ALARM.id,
        errorBudget: ROLLBACK_ALARM.errorBudget,
        tiers: [],
        composites: [],
        alarms: [
          {
            id: ROLLBACK_ALARM.id,
            windowSeconds,
            threshold: ROLLBACK_ALARM.threshold,
            minEvents: ROLLBACK_ALARM.minEvents,
            treatMissingData: 'notBreaching',
            metricCount: 4,
            highResolution: false,
          },
        ],
      },
    ],
    thresholdTriggers: [],
  };
}
