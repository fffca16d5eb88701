import type { BakeState } from './bake';
import { floorToMinute } from './metric-queries';

/**
 * Post-rollback verification: after a rollback deployment succeeds, the restored version is watched
 * for a while with the same SLOs and health checks, on its own traffic. A healthy restored version
 * is `Rollback Verified` (with the time to recovery); one that still burns or fails its checks is
 * `Rollback Unhealthy` — the problem is not the release — escalated, and counted by the circuit
 * breaker. It runs on the follow-up machine (lib/private/follow-up-state-machine.ts) started by the
 * state-change handler, and its steps (phases `verify` and `verify-tick`, lambda/follow-up) use the
 * bake's runtime, reads and decision, so it reads, decides and audits exactly as a bake does. It
 * never reports to CodeDeploy: the rollback is done.
 */

/** Settings the state-change handler starts a verification with (environment RT_VERIFY, JSON). */
export interface VerifySettings {
  /** The verification machine's ARN. */
  readonly stateMachineArn: string;
  /** How long the restored version is watched. */
  readonly durationSeconds: number;
  /** The trigger's metric delay: the last minutes are judged this long after they end. */
  readonly metricDelaySeconds: number;
}

/** What a verification execution carries besides the bake state's fields. */
export interface VerifyContext {
  readonly durationSeconds: number;
  /** The release that was rolled back. */
  readonly rolledBack?: string;
  /** From the release's first bad signal to the rollback's success, as `Rollback Completed` said. */
  readonly timeToRecoverySeconds?: number;
}

/** Stands in the state's hook id: a verification answers no hook (nothing is ever reported). */
export const VERIFY_HOOK_ID_PREFIX = 'verify:';
/** Reads past the last judged minute may take this long before the verification gives up. */
export const VERIFY_GRACE_SECONDS = 600;
/**
 * The longest verification: with the longest metric delay and the grace it must end inside the
 * evaluator's retry clock (hook start + 57 min, `retryDeadline`), which a verification starts at
 * the rollback's completion.
 */
export const MAX_VERIFY_SECONDS = 2_400;

/** One execution per rollback deployment (StartExecution is idempotent on the name for Standard workflows). */
export function verifyExecutionName(rollbackDeploymentId: string): string {
  return `verify-${rollbackDeploymentId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 70)}`;
}

/** The execution input: watch from the rollback's completion for `durationSeconds`, judged `metricDelaySeconds` later. */
export function verifyInput(
  rollbackDeploymentId: string,
  completedAt: number,
  settings: Pick<VerifySettings, 'durationSeconds' | 'metricDelaySeconds'>,
  rolledBack?: string,
  timeToRecoverySeconds?: number,
): BakeState {
  const start = floorToMinute(completedAt);
  return {
    deploymentId: rollbackDeploymentId,
    lifecycleEventHookExecutionId: `${VERIFY_HOOK_ID_PREFIX}${rollbackDeploymentId}`,
    hookStartedAt: start,
    deadline: new Date((start + settings.durationSeconds + settings.metricDelaySeconds + VERIFY_GRACE_SECONDS) * 1000).toISOString(),
    phase: 'verify',
    verify: {
      durationSeconds: settings.durationSeconds,
      ...(rolledBack ? { rolledBack } : {}),
      ...(timeToRecoverySeconds !== undefined ? { timeToRecoverySeconds } : {}),
    },
  };
}

/** How a verification ended, from the bake decision on the restored version. */
export function verificationResult(verdict: string): 'verified' | 'unhealthy' | 'unverified' {
  if (verdict === 'pass') return 'verified';
  if (verdict === 'fail') return 'unhealthy';
  return 'unverified';
}
