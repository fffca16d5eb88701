import { MAX_DEADLINE_SECONDS } from './bake';
import { DEFAULT_DEADLINE_SECONDS } from './defaults';

/**
 * Environment of the hook starter Lambda (lambda/starter): the CodeDeploy hook target that
 * validates the hook event and starts the bake's Step Functions execution.
 */
export const StarterEnv = {
  /** ARN of the bake state machine (Standard). */
  STATE_MACHINE_ARN: 'RT_STATE_MACHINE_ARN',
  /** Name or ARN of the EventBridge bus that receives audit events. */
  EVENT_BUS: 'RT_EVENT_BUS',
  /**
   * Seconds from the hook's start to the machine's deadline (decide with what it has). Optional:
   * {@link DEFAULT_DEADLINE_SECONDS} when unset; at most {@link MAX_DEADLINE_SECONDS}.
   */
  DEADLINE_SECONDS: 'RT_DEADLINE_SECONDS',
  /** The trigger's CodeDeploy application, named in every audit event. */
  APPLICATION_NAME: 'RT_APPLICATION_NAME',
  /** The trigger's CodeDeploy deployment group, named in every audit event (the notices rule matches on it). */
  DEPLOYMENT_GROUP_NAME: 'RT_DEPLOYMENT_GROUP_NAME',
  /** `true` in shadow mode: the fallback reports Succeeded where it would fail closed. Unset: enforce. */
  SHADOW: 'RT_SHADOW',
} as const;

/**
 * Environment of the deployment state-change Lambda (lambda/state-change): the EventBridge target
 * for `aws.codedeploy` "CodeDeploy Deployment State-change Notification".
 */
export const StateChangeEnv = {
  /** DynamoDB state table (schema in state-table.ts). */
  STATE_TABLE: 'RT_STATE_TABLE',
  /** Name or ARN of the EventBridge bus that receives audit events. */
  EVENT_BUS: 'RT_EVENT_BUS',
  /** The CodeDeploy application whose deployments this trigger watches; others are ignored. */
  APPLICATION_NAME: 'RT_APPLICATION_NAME',
  /** The CodeDeploy deployment group whose deployments this trigger watches; others are ignored. */
  DEPLOYMENT_GROUP_NAME: 'RT_DEPLOYMENT_GROUP_NAME',
  /** JSON BreakerSettings (lib/core/breaker.ts): count rollbacks in the circuit breaker. Unset: no breaker. */
  BREAKER: 'RT_BREAKER',
  /** JSON VerifySettings (lib/core/verify.ts): start a verification after each rollback. Unset: none. */
  VERIFY: 'RT_VERIFY',
  /** JSON GuardSettings (lib/core/follow-up.ts): start a guard window after each successful release. Unset: none. */
  GUARD: 'RT_GUARD',
  /** JSON SecondarySettings (lib/core/follow-up.ts): start a secondary action after each failed rollback. Unset: none. */
  SECONDARY: 'RT_SECONDARY',
} as const;

/** The time-to-recovery metric the state-change Lambda emits (CloudWatch embedded metric format). */
export const TIME_TO_RECOVERY_METRIC = {
  namespace: 'RollbackTriggers',
  metricName: 'TimeToRecovery',
  /** Dimension carrying the deployment group's name. */
  dimension: 'DeploymentGroup',
  /** Powertools Metrics adds `service` (the handler's serviceName) to every metric it publishes. */
  service: 'rollback-triggers-state-change',
  unit: 'Seconds',
} as const;

/** The shortest deadline the starter accepts: a bake needs at least a minute to read anything. */
export const MIN_DEADLINE_SECONDS = 60;

/**
 * The deadline in seconds from a {@link StarterEnv.DEADLINE_SECONDS} value: unset or empty →
 * {@link DEFAULT_DEADLINE_SECONDS}; otherwise a whole number clamped into
 * [{@link MIN_DEADLINE_SECONDS}, {@link MAX_DEADLINE_SECONDS}] (the construct validates it at
 * synth; the clamp keeps a hand-edited environment inside CodeDeploy's one-hour limit).
 * Returns `undefined` for a value that is not a number, so the caller can log it.
 */
export function deadlineSecondsFromEnv(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return DEFAULT_DEADLINE_SECONDS;
  const n = Number(value);
  if (!Number.isFinite(n)) return undefined;
  return Math.min(MAX_DEADLINE_SECONDS, Math.max(MIN_DEADLINE_SECONDS, Math.floor(n)));
}
