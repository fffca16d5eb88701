import { validateAlarmNamePart, validateEvaluationRange, validatePeriod, validateSubMinutePeriod, validateWindowMultiple } from './cloudwatch-limits';
import { ROLLBACK_TRIGGER_DEFAULTS, SLO_DEFAULTS } from './defaults';
import { RollbackTriggersError } from './errors';
import type { ErrorCode } from './error-codes';
import type {
  PolicyAlarm,
  PolicyAlarmLayout,
  PolicyComposite,
  PolicyCompositeChild,
  PolicyHealthCheck,
  PolicyRollbackAlarm,
  PolicyRollbackTrigger,
  PolicySli,
  PolicySlo,
  PolicyTier,
  PolicyTrafficShift,
} from './policy';
import {
  DerivedTier,
  TierSpec,
  WORKBOOK_TIERS,
  defaultMinEventsPerWindow,
  deriveTier,
  errorBudget,
  validateErrorBudgetMeasurable,
  validateMinEventsMeasureBudget,
  validateMinEventsPerWindow,
  validateObjectivePercent,
} from './slo-math';

/**
 * The one builder of the policy's SLO and rollback-trigger entries. `ServiceLevelObjective`,
 * `RollbackTrigger` and the CLI's inline policy all call it with the same defaults
 * (lib/core/defaults.ts), so a declaration renders the same JSON whoever declares it, and the CLI
 * refuses what the constructs refuse.
 *
 * An SLO is built in two steps, because the constructs create its CloudWatch alarms in between:
 * {@link planSlo} checks the declaration and derives its tiers; the caller then names each tier's
 * window alarms (every SLO owns its own); {@link sloPolicyEntry} renders the entry.
 */

/** A declaration's field is wrong: the core error, with the field it blames for the CLI's messages. */
export class DeclarationError extends RollbackTriggersError {
  constructor(
    code: ErrorCode,
    message: string,
    /** The declaration's field at fault (`objectivePercent`, `minEventsPerWindow`, `tiers`, `name`, `compliancePeriodSeconds`). */
    public readonly field: keyof SloDeclaration,
  ) {
    super(code, message, { prop: field });
    this.name = 'DeclarationError';
  }
}

/** An SLO as declared, in the policy's terms (no aws-cdk-lib types). */
export interface SloDeclaration {
  /** sloName: keys the SLO in the policy, the plan and the evaluator; part of alarm names. */
  readonly name: string;
  /** Construct path (or `inline/<name>`), the prefix of every alarm id. */
  readonly path: string;
  readonly objectivePercent: number;
  /** @default SLO_DEFAULTS.compliancePeriodSeconds */
  readonly compliancePeriodSeconds?: number;
  /** @default WORKBOOK_TIERS */
  readonly tiers?: readonly TierSpec[];
  /** @default - per tier, {@link defaultMinEventsPerWindow} */
  readonly minEventsPerWindow?: number;
  readonly sli: PolicySli;
  /** @default false */
  readonly suppressTicketsWhilePaging?: boolean;
  /** @default SLO_DEFAULTS.alarmLayout ('exact') */
  readonly alarmLayout?: PolicyAlarmLayout;
  /** The path of the group whose composites hold the tiers; the SLO then has none of its own. */
  readonly group?: string;
}

/** One tier of a checked SLO: its spec, derived thresholds and minimum events per window. */
export interface PlannedTier {
  readonly spec: TierSpec;
  readonly derived: DerivedTier;
  readonly minEvents: number;
}

/** A checked SLO declaration. */
export interface PlannedSlo {
  readonly errorBudget: number;
  readonly compliancePeriodSeconds: number;
  readonly tiers: readonly PlannedTier[];
}

/** Runs `check`, re-throwing a core error as a {@link DeclarationError} blaming `field`. */
function blame<T>(field: keyof SloDeclaration, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof RollbackTriggersError && !(e instanceof DeclarationError)) {
      throw new DeclarationError(e.code, e.detail, field);
    }
    throw e;
  }
}

/**
 * Checks an SLO declaration, in the order a user would fix it, and derives its tiers: the
 * objective (RT101, RT119), the name's characters (RT215), the minimum events (RT114), the tiers
 * (RT116, RT117, RT102–RT106), each window against CloudWatch's periods (RT2xx), suppression without
 * a page and a ticket tier (RT125), and whether the minimum events can measure the budget (RT120).
 */
export function planSlo(decl: SloDeclaration, defaults = SLO_DEFAULTS, nameProp = 'sloName'): PlannedSlo {
  blame('objectivePercent', () => {
    validateObjectivePercent(decl.objectivePercent);
    validateErrorBudgetMeasurable(decl.objectivePercent);
  });
  blame('name', () => validateAlarmNamePart(nameProp, decl.name));
  if (decl.minEventsPerWindow !== undefined) blame('minEventsPerWindow', () => validateMinEventsPerWindow(decl.minEventsPerWindow!));
  const periodSeconds = decl.compliancePeriodSeconds ?? defaults.compliancePeriodSeconds;
  const resolutionSeconds = decl.sli.resolutionSeconds;
  const specs = decl.tiers ?? WORKBOOK_TIERS;
  if (specs.length === 0) {
    throw new DeclarationError('RT116', 'tiers must name at least one burn-rate tier — omit it for the SRE Workbook defaults', 'tiers');
  }
  const seen = new Set<string>();
  const tiers = specs.map((spec): PlannedTier => {
    if (seen.has(spec.name)) throw new DeclarationError('RT117', `tiers contains "${spec.name}" twice — give custom tiers distinct names`, 'tiers');
    seen.add(spec.name);
    const derived = blame('tiers', () => deriveTier(spec, decl.objectivePercent, periodSeconds));
    for (const [role, seconds] of [
      ['longWindow', derived.longWindowSeconds],
      ['shortWindow', derived.shortWindowSeconds],
    ] as const) {
      const prop = `tier "${spec.name}" ${role}`;
      blame('tiers', () => {
        validateSubMinutePeriod(prop, seconds, resolutionSeconds, 'resolution');
        validateWindowMultiple(prop, seconds, resolutionSeconds);
        validatePeriod(prop, seconds);
        // The window is the alarm's period with one evaluation period.
        validateEvaluationRange(prop, seconds, 1);
      });
    }
    return { spec, derived, minEvents: decl.minEventsPerWindow ?? defaultMinEventsPerWindow(derived) };
  });
  const severities = new Set(tiers.map((t) => t.derived.severity));
  for (const severity of ['page', 'ticket'] as const) {
    if (decl.suppressTicketsWhilePaging && !severities.has(severity)) {
      throw new DeclarationError(
        'RT125',
        `suppressTicketsWhilePaging ${severity === 'page' ? 'silences tickets while a page tier fires' : 'silences the ticket tiers'}, but no tier is a ${severity} tier ` +
          `(tiers: ${tiers.map((t) => t.spec.name).join(', ')}) — add a ${severity} tier or remove suppressTicketsWhilePaging`,
        'suppressTicketsWhilePaging',
      );
    }
  }
  if (decl.minEventsPerWindow !== undefined) {
    blame('minEventsPerWindow', () => validateMinEventsMeasureBudget(decl.objectivePercent, decl.minEventsPerWindow!, tiers.map((t) => t.derived)));
  }
  return { errorBudget: errorBudget(decl.objectivePercent), compliancePeriodSeconds: periodSeconds, tiers };
}

/** Ids in the policy: unique within the app, built from the SLO's path. */
export const PolicyIds = {
  windowAlarm: (sloPath: string, tierName: string, role: 'long' | 'short') => `${sloPath}/${tierName}/${role}`,
  tierComposite: (sloPath: string, tierName: string) => `${sloPath}/${tierName}`,
  severityComposite: (sloPath: string, severity: 'page' | 'ticket') => `${sloPath}/${severity}`,
} as const;

/** A window alarm a tier uses: its policy id (every SLO owns its window alarms; none is shared). */
export interface WindowAlarmRef {
  readonly id: string;
}

/** The long- and short-window alarms of one tier, in the order of {@link PlannedSlo.tiers}. */
export interface TierWindows {
  readonly long: WindowAlarmRef;
  readonly short: WindowAlarmRef;
}

/** Every window alarm owned by the SLO that declares it (no sharing). */
export function ownWindows(decl: Pick<SloDeclaration, 'path'>, plan: PlannedSlo): TierWindows[] {
  return plan.tiers.map((t) => ({
    long: { id: PolicyIds.windowAlarm(decl.path, t.spec.name, 'long') },
    short: { id: PolicyIds.windowAlarm(decl.path, t.spec.name, 'short') },
  }));
}

/** The policy's entry for a checked SLO whose window alarms are named by `windows`. */
export function sloPolicyEntry(decl: SloDeclaration, plan: PlannedSlo, windows: readonly TierWindows[], defaults = SLO_DEFAULTS): PolicySlo {
  const alarms: PolicyAlarm[] = [];
  const tiers: PolicyTier[] = [];
  plan.tiers.forEach(({ derived, minEvents }, i) => {
    const { long, short } = windows[i];
    for (const [ref, windowSeconds] of [
      [long, derived.longWindowSeconds],
      [short, derived.shortWindowSeconds],
    ] as const) {
      alarms.push({
        id: ref.id,
        windowSeconds,
        threshold: derived.factor,
        minEvents,
        treatMissingData: defaults.treatMissingData,
        metricCount: decl.sli.metricCount,
        // CloudWatch periods under a minute are high resolution (10, 20 or 30 s).
        highResolution: windowSeconds < 60,
      });
    }
    tiers.push({ ...derived, minEventsPerWindow: minEvents, longAlarm: long.id, shortAlarm: short.id });
  });
  const layout = decl.alarmLayout ?? defaults.alarmLayout;
  const composites = decl.group === undefined ? sloComposites(decl, tiers, layout) : [];
  return {
    kind: 'slo',
    name: decl.name,
    path: decl.path,
    objectivePercent: decl.objectivePercent,
    compliancePeriodSeconds: plan.compliancePeriodSeconds,
    errorBudget: plan.errorBudget,
    sli: decl.sli,
    tiers,
    alarms,
    composites,
    alarmLayout: layout,
    ...(decl.group !== undefined ? { group: decl.group } : {}),
  };
}

/**
 * The composites of an SLO's layout. `per-tier`: an AND composite per tier and an OR composite of
 * them per severity. `exact` and `native`: one composite per severity whose rule is the whole
 * multiwindow rule, `(ALARM(long₁) AND ALARM(short₁)) OR (ALARM(long₂) AND ALARM(short₂))`
 * (PutCompositeAlarm `AlarmRule` nests AND inside OR with parentheses): the same states on the
 * same minutes, two composites fewer per pair of tiers.
 */
function sloComposites(decl: SloDeclaration, tiers: readonly PolicyTier[], layout: PolicyAlarmLayout): PolicyComposite[] {
  const composites: PolicyComposite[] = [];
  if (layout === 'per-tier') {
    for (const t of tiers) {
      composites.push({ id: PolicyIds.tierComposite(decl.path, t.name), kind: 'tier', severity: t.severity, operator: 'AND', children: [t.longAlarm, t.shortAlarm] });
    }
  }
  const hasPage = tiers.some((t) => t.severity === 'page');
  for (const severity of ['page', 'ticket'] as const) {
    const ofSeverity = tiers.filter((t) => t.severity === severity);
    if (ofSeverity.length === 0) continue;
    const children: PolicyCompositeChild[] = ofSeverity.map((t) =>
      layout === 'per-tier' ? PolicyIds.tierComposite(decl.path, t.name) : { allOf: [t.longAlarm, t.shortAlarm] },
    );
    composites.push({
      id: PolicyIds.severityComposite(decl.path, severity),
      kind: 'severity',
      severity,
      operator: 'OR',
      children,
      suppressedBy: severity === 'ticket' && decl.suppressTicketsWhilePaging && hasPage ? PolicyIds.severityComposite(decl.path, 'page') : undefined,
    });
  }
  return composites;
}

/** Which traffic a rollback alarm watches, and what it is compared with. */
export interface RollbackArm {
  readonly scope: PolicyRollbackAlarm['scope'];
  /** Metrics the arm's own counts read. */
  readonly metricCount: number;
  /** The rest of the traffic, when the SLI has one to compare with. */
  readonly baseline?: { readonly mode: 'rest-of-blended' | 'separate'; readonly metricCount: number; readonly shift?: PolicyTrafficShift };
  /** `declared`: the evaluator reads the SLI as declared (`PolicyRollbackAlarm.evaluatorReads`). */
  readonly evaluatorReads?: 'declared';
}

/**
 * The arms of a rollback alarm when every SLI can be scoped to the new version: Lambda watches the
 * version (compared with the rest of the alias's traffic), ECS each target group (compared with
 * the other, since blue and green swap roles every release); otherwise the SLI as declared.
 */
export function rollbackArmScopes(platform: 'lambda' | 'ecs', perVersion: boolean): Array<{ scope: RollbackArm['scope']; mode?: 'rest-of-blended' | 'separate' }> {
  if (!perVersion) return [{ scope: 'declared' }];
  return platform === 'lambda' ? [{ scope: 'version', mode: 'rest-of-blended' }] : [{ scope: 'blue', mode: 'separate' }, { scope: 'green', mode: 'separate' }];
}

/**
 * A rollback alarm: the SLO's fastest page tier over its short window (on a new version the long
 * window would only hold the minutes since the release), on one arm, with the baseline comparison
 * when `baselineFactor` is above 0. The baseline's counts are metrics of the same alarm.
 */
export function rollbackAlarmEntry(sloName: string, tier: PolicyTier, arm: RollbackArm, baselineFactor: number): PolicyRollbackAlarm {
  const baseline = arm.baseline && baselineFactor > 0 ? arm.baseline : undefined;
  return {
    slo: sloName,
    scope: arm.scope,
    tier,
    windowSeconds: tier.shortWindowSeconds,
    minEvents: tier.minEventsPerWindow,
    metricCount: arm.metricCount + (baseline ? baseline.metricCount : 0),
    baseline: baseline ? { mode: baseline.mode, factor: baselineFactor, ...(baseline.shift ? { shift: baseline.shift } : {}) } : undefined,
    ...(arm.evaluatorReads ? { evaluatorReads: arm.evaluatorReads } : {}),
  };
}

/** A rollback trigger as declared, in the policy's terms. */
/** The opt-in flows, as the policy entry carries them (absent: not enabled). */
type RollbackTriggerFlows = Pick<
  PolicyRollbackTrigger,
  'shadow' | 'approvalTimeoutSeconds' | 'escalateInconclusive' | 'circuitBreaker' | 'verifyRollbackSeconds' | 'guardWindowSeconds' | 'secondaryActionSeconds'
>;

export interface RollbackTriggerDeclaration extends RollbackTriggerFlows {
  readonly name: string;
  readonly path: string;
  readonly platform: 'lambda' | 'ecs';
  /** @default ROLLBACK_TRIGGER_DEFAULTS.bakeSeconds */
  readonly bakeSeconds?: number;
  /** @default ROLLBACK_TRIGGER_DEFAULTS.deadlineSeconds */
  readonly deadlineSeconds?: number;
  /** @default ROLLBACK_TRIGGER_DEFAULTS.inconclusiveAction */
  readonly inconclusiveAction?: 'fail' | 'pass';
  /** @default ROLLBACK_TRIGGER_DEFAULTS.maxAlarmsPerDeploymentGroup */
  readonly maxAlarms?: number;
  /** @default false */
  readonly alarmPathSuspended?: boolean;
  /** @default ROLLBACK_TRIGGER_DEFAULTS.baselineFactor */
  readonly baselineFactor?: number;
  readonly alarms: readonly PolicyRollbackAlarm[];
  /** @default - none */
  readonly healthChecks?: readonly PolicyHealthCheck[];
  /** Construct paths of the alarm triggers attached beside the rollback alarms. @default - none */
  readonly alarmTriggers?: readonly string[];
}

/**
 * The policy's entry for a rollback trigger. Refuses more alarms than the deployment group may
 * carry (RT306: 10 in the CodeDeploy API reference, 50 adjustable on the quotas page).
 */
export function rollbackTriggerPolicyEntry(decl: RollbackTriggerDeclaration, defaults = ROLLBACK_TRIGGER_DEFAULTS): PolicyRollbackTrigger {
  const maxAlarms = decl.maxAlarms ?? defaults.maxAlarmsPerDeploymentGroup;
  const alarmTriggers = decl.alarmTriggers ?? [];
  const alarmCount = decl.alarms.length + alarmTriggers.length;
  if (alarmCount > maxAlarms) {
    throw new RollbackTriggersError(
      'RT306',
      `${decl.path}: the rollback path needs ${alarmCount} alarms on the deployment group, above the cap of ${maxAlarms} ` +
        '(CodeDeploy API reference: 10 per group; the quotas page lists 50, adjustable; counted in shadow mode too, which attaches them once it enforces). ' +
        'Use fewer objectives or alarm triggers, or raise maxAlarmsPerDeploymentGroup to your quota',
    );
  }
  const healthChecks = decl.healthChecks ?? [];
  return {
    kind: 'rollback',
    name: decl.name,
    path: decl.path,
    platform: decl.platform,
    bakeSeconds: decl.bakeSeconds ?? defaults.bakeSeconds,
    deadlineSeconds: decl.deadlineSeconds ?? defaults.deadlineSeconds,
    inconclusiveAction: decl.inconclusiveAction ?? defaults.inconclusiveAction,
    maxAlarms,
    alarmPathSuspended: decl.alarmPathSuspended ?? false,
    baselineFactor: decl.baselineFactor ?? defaults.baselineFactor,
    alarms: [...decl.alarms],
    ...(healthChecks.length > 0 ? { healthChecks: [...healthChecks] } : {}),
    ...(alarmTriggers.length > 0 ? { alarmTriggers: [...alarmTriggers] } : {}),
    ...(decl.shadow ? { shadow: true } : {}),
    ...(decl.approvalTimeoutSeconds !== undefined ? { approvalTimeoutSeconds: decl.approvalTimeoutSeconds, escalateInconclusive: decl.escalateInconclusive ?? true } : {}),
    ...(decl.circuitBreaker ? { circuitBreaker: { ...decl.circuitBreaker } } : {}),
    ...(decl.verifyRollbackSeconds !== undefined ? { verifyRollbackSeconds: decl.verifyRollbackSeconds } : {}),
    ...(decl.guardWindowSeconds !== undefined ? { guardWindowSeconds: decl.guardWindowSeconds } : {}),
    ...(decl.secondaryActionSeconds !== undefined ? { secondaryActionSeconds: decl.secondaryActionSeconds } : {}),
  };
}
