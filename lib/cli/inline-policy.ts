import {
  DeclarationError,
  POLICY_SCHEMA_VERSION,
  PolicyRollbackAlarm,
  PolicyRollbackTrigger,
  PolicySli,
  PolicySlo,
  ROLLBACK_TRIGGER_DEFAULTS,
  RollbackPolicy,
  RollbackTriggersError,
  SLO_DEFAULTS,
  SloDeclaration,
  TierSpec,
  WORKBOOK_TIERS,
  fastestPageTier,
  ownWindows,
  planSlo,
  rollbackAlarmEntry,
  rollbackArmScopes,
  rollbackTriggerPolicyEntry,
  sloPolicyEntry,
} from '../core';
import { InputError } from './input-error';
import type { InlineRollback, InlineSlo } from './series-file';
import type { DeploymentShape } from '../core/simulator/types';

/**
 * The inline policy shorthand of a series file, turned into the {@link RollbackPolicy} the
 * constructs would put in the cloud assembly for the same declaration:
 *
 *   new ServiceLevelObjective(stack, name, { sli, objectivePercent, compliancePeriod, tiers, minEventsPerWindow })
 *   new RollbackTrigger(stack, 'Rollback', { target, objectives, bake, inconclusiveAction })
 *
 * Same tier derivation, minimum-event guard, alarm ids, composites and rollback alarms (each SLO's
 * fastest page tier on the new version's own traffic) as lib/slo/service-level-objective.ts and
 * lib/rollback/rollback-trigger.ts: all three call the policy builder of the core
 * (lib/core/policy-builder.ts) with the same defaults (lib/core/defaults.ts), so the CLI needs no
 * CDK code and refuses what the constructs refuse.
 */

/** The stack name inline policies get; alarm ids read `inline/<slo>/<tier>/<long|short>`. */
export const INLINE_STACK = 'inline';

export interface InlinePolicyOptions {
  readonly slos: readonly InlineSlo[];
  readonly rollback?: InlineRollback;
  /**
   * Checked by the caller against the deadline minus the evaluator's metric delay (RT305 at synth),
   * so that its message names the flag or the field that gave the bake.
   */
  readonly bakeSeconds: number;
  /** File the shorthand came from, for messages. */
  readonly file?: string;
}

/** Builds the policy; throws an {@link InputError} naming the SLO and field at fault. */
export function policyFromInline(options: InlinePolicyOptions): RollbackPolicy {
  const slos = options.slos.map((slo, i) => sloPolicy(slo, `slos[${i}]`, options.file));
  return {
    schemaVersion: POLICY_SCHEMA_VERSION,
    stack: INLINE_STACK,
    slos,
    thresholdTriggers: [],
    rollbackTriggers: [rollbackPolicy(slos, options)],
  };
}

/**
 * The shorthand's rollback alarms as a RollbackTrigger renders them for the deployment replayed: a
 * canary or linear shape's first step is the share its deployment group's configuration would
 * name (`CodeDeployDefault.LambdaCanary10Percent5Minutes` → canary 0.1), which the alarms weigh the
 * new version at (lib/core/relative-alarm.ts). All at once: none. The shorthand has no deployment
 * group, so the shape replayed stands for its configuration.
 */
export function withInlineTrafficShift(policy: RollbackPolicy, deployment: Pick<DeploymentShape, 'kind' | 'percent'>): RollbackPolicy {
  const percent = deployment.percent;
  if (deployment.kind === 'all-at-once' || percent === undefined || !(percent > 0 && percent < 100)) return policy;
  const shift = { kind: deployment.kind, share: percent / 100 };
  return {
    ...policy,
    rollbackTriggers: policy.rollbackTriggers?.map((t) => ({
      ...t,
      alarms: t.alarms.map((a) => (a.baseline ? { ...a, baseline: { ...a.baseline, shift } } : a)),
    })),
  };
}

/** The shorthand's fields, by the declaration field the core blames. */
const INLINE_FIELD: Record<string, string> = { compliancePeriodSeconds: 'compliancePeriodDays', sli: 'sli' };

/** The SLO declaration the shorthand stands for: what `new ServiceLevelObjective(stack, name, …)` declares. */
export function inlineSloDeclaration(slo: InlineSlo, where = 'slos', file?: string): SloDeclaration {
  return {
    name: slo.name,
    path: `${INLINE_STACK}/${slo.name}`,
    objectivePercent: slo.objectivePercent,
    compliancePeriodSeconds: slo.compliancePeriodDays === undefined ? undefined : slo.compliancePeriodDays * 86_400,
    tiers: slo.tiers?.map((name) => {
      const spec = WORKBOOK_TIERS.find((t) => t.name === name);
      if (!spec) throw new InputError(`unknown tier "${name}"; the SRE Workbook tiers are ${WORKBOOK_TIERS.map((t) => t.name).join(', ')}`, file, where, 'tiers');
      return spec as TierSpec;
    }),
    minEventsPerWindow: slo.minEventsPerWindow,
    sli: {
      kind: slo.sli,
      scope: 'blended',
      description:
        slo.sli === 'latency'
          ? 'slow requests / requests (series column "slow")'
          : slo.sli === 'business-failure'
            ? 'failed business operations / operations (series column "failures")'
            : 'errors / requests (series column "errors")',
      resolutionSeconds: SLO_DEFAULTS.resolutionSeconds,
      metricCount: 2,
      latencyThreshold: slo.latencyThreshold,
    },
    suppressTicketsWhilePaging: slo.suppressTicketsWhilePaging,
  };
}

function sloPolicy(slo: InlineSlo, where: string, file: string | undefined): PolicySlo {
  const declaration = inlineSloDeclaration(slo, where, file);
  try {
    const plan = planSlo(declaration, SLO_DEFAULTS, 'name');
    // Every window alarm is the SLO's own, as the construct creates it under its tier.
    return sloPolicyEntry(declaration, plan, ownWindows(declaration, plan));
  } catch (e) {
    if (!(e instanceof RollbackTriggersError)) throw e;
    const field = e instanceof DeclarationError ? (INLINE_FIELD[e.field] ?? e.field) : undefined;
    throw new InputError(e.detail, file, where, field, e.code);
  }
}

function rollbackPolicy(slos: readonly PolicySlo[], options: InlinePolicyOptions): PolicyRollbackTrigger {
  const platform = options.rollback?.platform ?? 'lambda';
  const factor = options.rollback?.baselineFactor ?? ROLLBACK_TRIGGER_DEFAULTS.baselineFactor;
  const alarms: PolicyRollbackAlarm[] = [];
  slos.forEach((slo, i) => {
    // The rollback path rolls back on each SLO's fastest page tier (RollbackTrigger, RT307).
    const tier = fastestPageTier(slo.tiers);
    if (!tier) {
      throw new InputError('has no page tier; the rollback path rolls back on the fastest page tier — keep page-1h or page-6h', options.file, `slos[${i}]`, 'tiers', 'RT307');
    }
    // Per-version SLIs give one alarm on the new version (Lambda) or one per target group (ECS),
    // each compared with the rest of the traffic (RollbackTrigger's baselineFactor); service-wide
    // metrics give one alarm on the SLI as declared (blended), with nothing to compare with, and
    // the evaluator reads them as declared too (a custom metric carries no version).
    for (const { scope, mode } of rollbackArmScopes(platform, options.rollback?.perVersionMetrics !== false)) {
      const metricCount = scope === 'blue' || scope === 'green' ? targetGroupMetricCount(slo.sli) : slo.sli.metricCount;
      const reads = scope === 'declared' ? { evaluatorReads: 'declared' as const } : {};
      alarms.push(rollbackAlarmEntry(slo.name, tier, { scope, metricCount, baseline: mode ? { mode, metricCount } : undefined, ...reads }, factor));
    }
  });
  try {
    return rollbackTriggerPolicyEntry({
      name: 'Rollback',
      path: `${INLINE_STACK}/Rollback`,
      platform,
      bakeSeconds: options.bakeSeconds,
      inconclusiveAction: options.rollback?.inconclusiveAction,
      alarms,
    });
  } catch (e) {
    if (!(e instanceof RollbackTriggersError)) throw e;
    throw new InputError(`${e.detail} — simulate fewer SLOs`, options.file, undefined, 'slos', e.code);
  }
}

/**
 * Metrics one target group's alarm counts read: an error-ratio SLO on ECS is
 * `Sli.targetGroupAvailability`, whose bad count is the targets' 5xx plus the requests without a
 * target response (RequestCount and HTTPCode_Target_2XX/3XX/4XX/5XX_Count: 5 metrics); a latency
 * SLO reads RequestCount and the percentile rank of TargetResponseTime (2).
 */
function targetGroupMetricCount(sli: PolicySli): number {
  return sli.kind === 'error-ratio' ? 5 : sli.metricCount;
}
