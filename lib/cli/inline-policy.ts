import {
  DEFAULT_COMPLIANCE_PERIOD_SECONDS,
  DEFAULT_DEADLINE_SECONDS,
  POLICY_SCHEMA_VERSION,
  PolicyAlarm,
  PolicyComposite,
  PolicyRollbackAlarm,
  PolicyRollbackTrigger,
  PolicySlo,
  PolicySli,
  PolicyTier,
  RollbackPolicy,
  WORKBOOK_TIERS,
  defaultMinEventsPerWindow,
  deriveTier,
  fastestPageTier,
  errorBudget,
} from '../core';
import { InputError } from './input-error';
import type { InlineRollback, InlineSlo } from './series-file';

/**
 * The inline policy shorthand of a series file, turned into the {@link RollbackPolicy} the
 * constructs would put in the cloud assembly for the same declaration:
 *
 *   new ServiceLevelObjective(stack, name, { sli, objectivePercent, compliancePeriod, tiers, minEventsPerWindow })
 *   new RollbackTrigger(stack, 'Rollback', { target, objectives, bake, inconclusiveAction })
 *
 * Same tier derivation, minimum-event guard, alarm ids, composites and rollback alarms (each SLO's
 * fastest page tier on the new version's own traffic) as lib/slo/service-level-objective.ts and
 * lib/rollback/rollback-trigger.ts — built from the pure core, so the CLI needs no CDK code.
 */

/** The stack name inline policies get; alarm ids read `inline/<slo>/<tier>/<long|short>`. */
export const INLINE_STACK = 'inline';
const DEFAULT_MAX_ALARMS = 10;
const DEFAULT_BASELINE_FACTOR = 2;

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
  const registry = new Map<string, string>();
  const slos = options.slos.map((slo, i) => sloPolicy(slo, `slos[${i}]`, options.file, registry));
  return {
    schemaVersion: POLICY_SCHEMA_VERSION,
    stack: INLINE_STACK,
    slos,
    thresholdTriggers: [],
    rollbackTriggers: [rollbackPolicy(slos, options)],
  };
}

function sloPolicy(slo: InlineSlo, where: string, file: string | undefined, registry: Map<string, string>): PolicySlo {
  const path = `${INLINE_STACK}/${slo.name}`;
  const periodSeconds = slo.compliancePeriodDays === undefined ? DEFAULT_COMPLIANCE_PERIOD_SECONDS : slo.compliancePeriodDays * 86_400;
  const budget = errorBudget(slo.objectivePercent);
  const names = slo.tiers ?? WORKBOOK_TIERS.map((t) => t.name);
  const tiers: PolicyTier[] = [];
  const alarms: PolicyAlarm[] = [];
  const composites: PolicyComposite[] = [];
  for (const name of names) {
    const spec = WORKBOOK_TIERS.find((t) => t.name === name);
    if (!spec) throw new InputError(`unknown tier "${name}"; the SRE Workbook tiers are ${WORKBOOK_TIERS.map((t) => t.name).join(', ')}`, file, where, 'tiers');
    if (tiers.some((t) => t.name === name)) throw new InputError(`names the tier "${name}" twice`, file, where, 'tiers');
    let derived;
    try {
      derived = deriveTier(spec, slo.objectivePercent, periodSeconds);
    } catch (e) {
      throw new InputError(`${(e as Error).message} — list the tiers that can fire in "tiers"`, file, where, 'tiers');
    }
    const minEvents = slo.minEventsPerWindow ?? defaultMinEventsPerWindow(derived);
    // The constructs share identical window alarms within a stack (same metrics, expression,
    // window and threshold); inline SLOs of the same SLI read the same series.
    const window = (role: 'long' | 'short', windowSeconds: number) => {
      const key = `${slo.sli}|${slo.latencyThreshold ?? ''}|${budget}|${minEvents}|${windowSeconds}|${derived.factor}`;
      const existing = registry.get(key);
      if (existing !== undefined) return existing;
      const id = `${path}/${name}/${role}`;
      registry.set(key, id);
      alarms.push({ id, windowSeconds, threshold: derived.factor, minEvents, treatMissingData: 'notBreaching', metricCount: 2, highResolution: windowSeconds < 60 });
      return id;
    };
    const longAlarm = window('long', derived.longWindowSeconds);
    const shortAlarm = window('short', derived.shortWindowSeconds);
    composites.push({ id: `${path}/${name}`, kind: 'tier', severity: derived.severity, operator: 'AND', children: [longAlarm, shortAlarm] });
    tiers.push({ ...derived, minEventsPerWindow: minEvents, longAlarm, shortAlarm });
  }
  const hasPage = tiers.some((t) => t.severity === 'page');
  for (const severity of ['page', 'ticket'] as const) {
    const children = tiers.filter((t) => t.severity === severity).map((t) => `${path}/${t.name}`);
    if (children.length === 0) continue;
    composites.push({
      id: `${path}/${severity}`,
      kind: 'severity',
      severity,
      operator: 'OR',
      children,
      suppressedBy: severity === 'ticket' && slo.suppressTicketsWhilePaging && hasPage ? `${path}/page` : undefined,
    });
  }
  return {
    kind: 'slo',
    name: slo.name,
    path,
    objectivePercent: slo.objectivePercent,
    compliancePeriodSeconds: periodSeconds,
    errorBudget: budget,
    sli: {
      kind: slo.sli,
      scope: 'blended',
      description:
        slo.sli === 'latency'
          ? 'slow requests / requests (series column "slow")'
          : slo.sli === 'business-failure'
            ? 'failed business operations / operations (series column "failures")'
            : 'errors / requests (series column "errors")',
      resolutionSeconds: 60,
      metricCount: 2,
      latencyThreshold: slo.latencyThreshold,
    },
    tiers,
    alarms,
    composites,
  };
}

function rollbackPolicy(slos: readonly PolicySlo[], options: InlinePolicyOptions): PolicyRollbackTrigger {
  const platform = options.rollback?.platform ?? 'lambda';
  const alarms: PolicyRollbackAlarm[] = [];
  slos.forEach((slo, i) => {
    // The rollback path rolls back on each SLO's fastest page tier (RollbackTrigger, RT307).
    const tier = fastestPageTier(slo.tiers);
    if (!tier) throw new InputError('has no page tier; the rollback path rolls back on the fastest page tier — keep page-1h or page-6h', options.file, `slos[${i}]`, 'tiers');
    // Per-version SLIs give one alarm on the new version (Lambda) or one per target group (ECS),
    // each compared with the rest of the traffic (RollbackTrigger's baselineFactor); service-wide
    // metrics give one alarm on the SLI as declared (blended), with nothing to compare with.
    const perVersion = options.rollback?.perVersionMetrics !== false;
    const factor = options.rollback?.baselineFactor ?? DEFAULT_BASELINE_FACTOR;
    const scopes: PolicyRollbackAlarm['scope'][] = !perVersion ? ['declared'] : platform === 'lambda' ? ['version'] : ['blue', 'green'];
    for (const scope of scopes) {
      const baseline = perVersion && factor > 0 ? { mode: platform === 'lambda' ? ('rest-of-blended' as const) : ('separate' as const), factor } : undefined;
      alarms.push({
        slo: slo.name,
        scope,
        tier,
        windowSeconds: tier.shortWindowSeconds,
        minEvents: tier.minEventsPerWindow,
        // The baseline's counts are metrics of the same alarm.
        metricCount: (scope === 'blue' || scope === 'green' ? targetGroupMetricCount(slo.sli) : slo.sli.metricCount) * (baseline ? 2 : 1),
        baseline,
      });
    }
  });
  if (alarms.length > DEFAULT_MAX_ALARMS) {
    throw new InputError(
      `the rollback path needs ${alarms.length} alarms on the deployment group, above CodeDeploy's 10 (API reference); simulate fewer SLOs`,
      options.file,
      undefined,
      'slos',
    );
  }
  return {
    kind: 'rollback',
    name: 'Rollback',
    path: `${INLINE_STACK}/Rollback`,
    platform,
    bakeSeconds: options.bakeSeconds,
    deadlineSeconds: DEFAULT_DEADLINE_SECONDS,
    inconclusiveAction: options.rollback?.inconclusiveAction ?? 'fail',
    maxAlarms: DEFAULT_MAX_ALARMS,
    alarmPathSuspended: false,
    alarms,
  };
}

/**
 * Metrics one target group's alarm counts read: an error-ratio SLO on ECS is
 * `Sli.targetGroupAvailability`, whose bad count is the targets' 5xx plus the requests without a
 * target response (RequestCount and HTTPCode_Target_2XX/3XX/4XX/5XX_Count: 5 metrics); a latency
 * SLO reads TargetResponseTime twice (2).
 */
function targetGroupMetricCount(sli: PolicySli): number {
  return sli.kind === 'error-ratio' ? 5 : sli.metricCount;
}
