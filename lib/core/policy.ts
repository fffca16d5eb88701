import type { BreakerSettings } from './breaker';
import { RollbackTriggersError } from './errors';
import type { DerivedTier, Severity } from './slo-math';

/**
 * The rollback policy: a plain, versioned JSON document that every executor reads — the
 * synthesized alarms are rendered from it, the evaluator Lambda and the simulator replay it.
 * Constructs attach their part to the cloud assembly as construct metadata of type
 * {@link POLICY_METADATA_TYPE}, so `rollback-triggers plan cdk.out` needs no CDK code to read it.
 */
export const POLICY_SCHEMA_VERSION = 1;
export const POLICY_METADATA_TYPE = 'cdk-rollback-triggers:policy';

export type SliKind = 'error-ratio' | 'success-ratio' | 'latency' | 'business-failure';
/** Which traffic the SLI measures: all of it, one Lambda version, or one target group. */
export type SliScope = 'blended' | 'version' | 'target-group';

export interface PolicySli {
  readonly kind: SliKind;
  readonly scope: SliScope;
  readonly description: string;
  /** The granularity the SLI's metrics are published at; every window is a multiple of it. */
  readonly resolutionSeconds: number;
  /** Metrics the SLI's expression reads (CloudWatch bills each one in every alarm). */
  readonly metricCount: number;
  /** For latency SLIs, the threshold in the metric's own unit. */
  readonly latencyThreshold?: number;
}

export interface PolicyAlarm {
  /** Unique within the stack; referenced by tiers and composites. */
  readonly id: string;
  readonly windowSeconds: number;
  /** Burn-rate threshold, compared with `GreaterThanOrEqualToThreshold`. */
  readonly threshold: number;
  readonly minEvents: number;
  readonly treatMissingData: 'notBreaching' | 'breaching' | 'ignore' | 'missing';
  readonly metricCount: number;
  readonly highResolution: boolean;
}

export interface PolicyTier extends DerivedTier {
  readonly minEventsPerWindow: number;
  /** Ids of the tier's window alarms, among its SLO's own `alarms`. */
  readonly longAlarm: string;
  readonly shortAlarm: string;
}

/**
 * A child of a composite's rule: an alarm's id, or the AND of several (`(ALARM(a) AND ALARM(b))`,
 * written inside an OR rule; the exact layout's rule ORs the tiers' AND terms in one composite).
 */
export type PolicyCompositeChild = string | { readonly allOf: readonly string[] };

/** How an SLO's composites are laid out (`ServiceLevelObjectiveProps.alarmLayout`). */
export type PolicyAlarmLayout = 'exact' | 'per-tier' | 'native';

export interface PolicyComposite {
  readonly id: string;
  readonly kind: 'tier' | 'severity';
  readonly severity: Severity;
  readonly operator: 'AND' | 'OR';
  /** Alarm ids, or AND groups of alarm ids (only in an OR rule). */
  readonly children: readonly PolicyCompositeChild[];
  /** Id of the composite whose ALARM state suppresses this one's actions, if any. */
  readonly suppressedBy?: string;
}

export interface PolicySlo {
  readonly kind: 'slo';
  readonly name: string;
  /** Construct path, unique within the app. */
  readonly path: string;
  readonly objectivePercent: number;
  readonly compliancePeriodSeconds: number;
  readonly errorBudget: number;
  readonly sli: PolicySli;
  readonly tiers: readonly PolicyTier[];
  /** The window alarms this SLO created: every alarm its tiers use (SLOs never share alarms). */
  readonly alarms: readonly PolicyAlarm[];
  readonly composites: readonly PolicyComposite[];
  /** How the composites are laid out; absent in documents written before layouts existed (`per-tier`). */
  readonly alarmLayout?: PolicyAlarmLayout;
  /** The path of the group whose composites hold this SLO's tiers (then `composites` is empty); absent outside a group. */
  readonly group?: string;
}

/** The alarm ids a composite child names. */
export function compositeChildIds(child: PolicyCompositeChild): readonly string[] {
  return typeof child === 'string' ? [child] : child.allOf;
}

export interface PolicyThresholdTrigger {
  readonly kind: 'threshold';
  readonly name: string;
  readonly path: string;
  readonly comparison: string;
  readonly threshold: number;
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly treatMissingData: 'notBreaching' | 'breaching' | 'ignore' | 'missing';
  readonly metricCount: number;
  readonly highResolution: boolean;
  readonly severity: Severity;
  /**
   * A `HeartbeatTrigger` (a dead man's switch: SampleCount < 1 per period, missing data breaching):
   * what the evaluator judges besides the alarm. Absent for a `ThresholdTrigger`.
   */
  readonly heartbeat?: PolicyHeartbeat;
}

/** The evaluator's part of a heartbeat trigger (lib/core/heartbeat.ts); its interval is the entry's period. */
export interface PolicyHeartbeat {
  /** Seconds after the release during which a missing beat of the new version does not count: interval × datapointsToAlarm. */
  readonly graceSeconds: number;
  /** The dimension carrying the version, when the evaluator reads the new version's own beats; absent: the metric as declared. */
  readonly versionDimension?: string;
}

/** One alarm of the rollback path: an SLO's fastest page tier on one arm's own traffic. */
export interface PolicyRollbackAlarm {
  readonly slo: string;
  /** `version` (Lambda ExecutedVersion), `blue` / `green` (ECS target groups), or `declared` (the SLI as given). */
  readonly scope: 'version' | 'blue' | 'green' | 'declared';
  readonly tier: DerivedTier;
  /**
   * The alarm's window: the tier's short window. On a new version the long window would hold only
   * the minutes since the release anyway, and the short one compares it with its baseline on
   * (nearly) the same minutes.
   */
  readonly windowSeconds: number;
  readonly minEvents: number;
  readonly metricCount: number;
  /**
   * The alarm burns only while the new version fails more than `factor` times as often as its
   * baseline: `rest-of-blended` = all traffic minus the new version's (Lambda alias),
   * `separate` = the other target group (ECS). Absent: the burn rate alone.
   */
  readonly baseline?: { readonly mode: 'rest-of-blended' | 'separate'; readonly factor: number; readonly shift?: PolicyTrafficShift };
  /**
   * How the evaluator reads this alarm's SLI, when not per version: `declared`, its metrics as
   * declared, once (they carry neither the version nor a target group: `EvaluatorSlo.declared`),
   * judged only on the minutes after all traffic reached the new version, the minutes before the
   * release as the current version's. Only on a `declared`-scope alarm, and not on every one: a
   * raw SLI on a Lambda alias's own metrics is read per `ExecutedVersion` all the same. Absent: per
   * version (the arm's dimensions).
   */
  readonly evaluatorReads?: 'declared';
}

/**
 * How the deployment configuration shifts traffic, when it shifts it in steps: the new version's
 * share of the traffic at the first step (`CodeDeployDefault.LambdaCanary10Percent5Minutes`: canary,
 * 0.1). The rollback alarm's window holds the same minutes of both versions only once the new
 * version has served for a whole window: before that, the alarm weighs the new version's errors as
 * if it had served the window at this share (lib/core/relative-alarm.ts, `relativeExpectedBad`).
 * Absent: all at once, or a configuration whose steps are not known at synth.
 */
export interface PolicyTrafficShift {
  readonly kind: 'canary' | 'linear';
  /** The new version's share of the traffic at the first step, in (0, 1). */
  readonly share: number;
}

/**
 * A health check the trigger's evaluator runs on every bake tick besides the SLOs, as the policy
 * carries it (the evaluator configuration's, without the probe's timeout). The simulator replays a
 * Synthetics canary from the series' `synthetics` values; an HTTP probe cannot be replayed from
 * metrics.
 */
export interface PolicyHealthCheck {
  readonly kind: 'http' | 'synthetics';
  readonly name: string;
  /** synthetics: the CloudWatch Synthetics canary (the `CanaryName` dimension). */
  readonly canaryName?: string;
  /** synthetics: a run below this `SuccessPercent` is a failed run (absent: 100). */
  readonly minSuccessPercent?: number;
  /** http: the URL probed with GET (absent when it is only known at deploy time, a token). */
  readonly url?: string;
  /** http: consecutive failed probes that fail the bake. */
  readonly failAfter?: number;
}

export interface PolicyRollbackTrigger {
  readonly kind: 'rollback';
  readonly name: string;
  readonly path: string;
  readonly platform: 'lambda' | 'ecs';
  readonly bakeSeconds: number;
  /** When the bake decides with what it has, seconds after the hook starts. */
  readonly deadlineSeconds: number;
  readonly inconclusiveAction: 'fail' | 'pass';
  readonly maxAlarms: number;
  readonly alarmPathSuspended: boolean;
  /**
   * The evaluator's `baselineFactor` (0: the burn rate alone), which the alarms' baselines do not
   * show when no alarm has one (blended or declared SLIs).
   */
  readonly baselineFactor: number;
  readonly alarms: readonly PolicyRollbackAlarm[];
  /** Health checks the evaluator runs on every bake tick; absent when the trigger has none. */
  readonly healthChecks?: readonly PolicyHealthCheck[];
  /**
   * Construct paths of the alarm triggers (`ThresholdTrigger`) whose alarms the deployment group
   * polls beside the rollback alarms; absent when the trigger has none. The simulator does not
   * replay them (their metrics are not in a series).
   */
  readonly alarmTriggers?: readonly string[];
  /** True in shadow mode (a dry run that never stops a release); absent when the trigger enforces. */
  readonly shadow?: boolean;
  /**
   * The approval gate's wait (InconclusiveAction.ESCALATE): inconclusive verdicts ask a human, and
   * `inconclusiveAction` is what no answer reports. Absent without a gate.
   */
  readonly approvalTimeoutSeconds?: number;
  /** False when only the circuit breaker asks (inconclusive verdicts do not); absent without a gate. */
  readonly escalateInconclusive?: boolean;
  /** The circuit breaker on the group's rollbacks; absent without one. */
  readonly circuitBreaker?: BreakerSettings;
  /** Post-rollback verification's duration, seconds; absent without one. */
  readonly verifyRollbackSeconds?: number;
  /** The guard window after a release succeeds, seconds; absent without one. */
  readonly guardWindowSeconds?: number;
  /** The secondary action's approval wait after a failed rollback, seconds; absent without one. */
  readonly secondaryActionSeconds?: number;
}

/**
 * SLOs of one service sharing one composite per severity (`ServiceLevelObjectiveGroup`): each
 * member keeps its window alarms and has no composite of its own; the group's rules OR every
 * member's tiers.
 */
export interface PolicySloGroup {
  readonly kind: 'slo-group';
  readonly name: string;
  readonly path: string;
  /** Construct paths of the member SLOs. */
  readonly members: readonly string[];
  readonly composites: readonly PolicyComposite[];
}

export type PolicyEntry = PolicySlo | PolicyThresholdTrigger | PolicyRollbackTrigger | PolicySloGroup;

export interface RollbackPolicy {
  readonly schemaVersion: typeof POLICY_SCHEMA_VERSION;
  /** Stack the entries come from, when read from a cloud assembly. */
  readonly stack?: string;
  readonly slos: readonly PolicySlo[];
  readonly thresholdTriggers: readonly PolicyThresholdTrigger[];
  readonly rollbackTriggers?: readonly PolicyRollbackTrigger[];
  /** Groups of SLOs sharing composites; absent or empty without one. */
  readonly sloGroups?: readonly PolicySloGroup[];
}

/**
 * The tier the rollback path rolls back on: the page tier with the shortest long window (the
 * workbook's 14.4× over 1 h). One rule for the construct, the inline policy and the simulator.
 */
export function fastestPageTier<T extends Pick<DerivedTier, 'severity' | 'longWindowSeconds'>>(tiers: readonly T[]): T | undefined {
  return tiers.filter((t) => t.severity === 'page').sort((a, b) => a.longWindowSeconds - b.longWindowSeconds)[0];
}

/** Groups metadata entries into one policy document, rejecting documents of a newer schema. */
export function policyFromEntries(entries: readonly unknown[], stack?: string): RollbackPolicy {
  const slos: PolicySlo[] = [];
  const thresholdTriggers: PolicyThresholdTrigger[] = [];
  const rollbackTriggers: PolicyRollbackTrigger[] = [];
  const sloGroups: PolicySloGroup[] = [];
  for (const raw of entries) {
    const entry = raw as { schemaVersion?: number; entry?: PolicyEntry };
    if (entry.schemaVersion !== POLICY_SCHEMA_VERSION) {
      throw new RollbackTriggersError(
        'RT401',
        `policy entry has schemaVersion ${String(entry.schemaVersion)}, this tool reads version ${POLICY_SCHEMA_VERSION} — upgrade cdk-rollback-triggers`,
      );
    }
    if (entry.entry === undefined) {
      throw new RollbackTriggersError('RT401', `policy entry has no entry: this tool reads version ${POLICY_SCHEMA_VERSION} entries { schemaVersion, entry }`);
    }
    if (entry.entry.kind === 'slo') slos.push(entry.entry);
    else if (entry.entry.kind === 'threshold') thresholdTriggers.push(entry.entry);
    else if (entry.entry.kind === 'rollback') rollbackTriggers.push(entry.entry);
    else if (entry.entry.kind === 'slo-group') sloGroups.push(entry.entry);
  }
  return { schemaVersion: POLICY_SCHEMA_VERSION, stack, slos, thresholdTriggers, rollbackTriggers, ...(sloGroups.length > 0 ? { sloGroups } : {}) };
}
