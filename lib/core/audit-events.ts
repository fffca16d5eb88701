/**
 * The audit trail's contract: one EventBridge source owned by the library, one detail-type per
 * kind of decision, a schema version and an idempotency key on every event (PutEvents does not
 * de-duplicate). Users write rules against these constants instead of magic strings.
 */

import type { SecondaryAction } from './follow-up';

/** Event source of every audit event. EventBridge reserves sources starting with `aws.`. */
export const AUDIT_EVENT_SOURCE = 'rollback-triggers';
export const AUDIT_SCHEMA_VERSION = 1;

export const AuditDetailType = {
  /** The evaluator decided a lifecycle hook: pass, fail, inconclusive or skipped. */
  DEPLOYMENT_VERDICT: 'Deployment Verdict',
  /** A deployment was stopped and rolled back, by the evaluator or by an alarm. */
  ROLLBACK_TRIGGERED: 'Rollback Triggered',
  /** The rollback deployment finished; carries time to recovery. */
  ROLLBACK_COMPLETED: 'Rollback Completed',
  /** A deployment succeeded and its version was recorded as known-good. */
  KNOWN_GOOD_RECORDED: 'Known Good Recorded',
  /** A hook had already been decided (duplicate invocation, or CodeDeploy decided first). */
  TRIGGER_SUPPRESSED: 'Trigger Suppressed',
  /** Something needs a human: the known-good version is missing or altered, or reporting failed. */
  ESCALATION_RAISED: 'Escalation Raised',
  /**
   * The approval gate asks a human (inconclusive verdict, or a pass during a pre-existing
   * incident): carries the question, the numbers, the task token and how to answer.
   */
  APPROVAL_REQUESTED: 'Approval Requested',
  /** The approval gate's wait ended: approved, rejected, timed out, or not asked (no time left). */
  APPROVAL_ANSWERED: 'Approval Answered',
  /** After a rollback, the restored version held its SLOs and health checks for the verification's duration. */
  ROLLBACK_VERIFIED: 'Rollback Verified',
  /** After a rollback, the restored version still burns or fails its checks: the problem is not the release. */
  ROLLBACK_UNHEALTHY: 'Rollback Unhealthy',
  /** The circuit breaker opened: too many rollbacks of the group; rollbacks now ask a human first. */
  CIRCUIT_OPENED: 'Circuit Opened',
  /** The circuit breaker closed: a human closed it, or a release succeeded after the cooldown. */
  CIRCUIT_CLOSED: 'Circuit Closed',
  /**
   * A rollback deployment failed or stopped, and a human approved the secondary action: the alias was
   * pointed at the known-good version (Lambda), or the known-good task definition was deployed (ECS).
   */
  SECONDARY_ACTION_TAKEN: 'Secondary Action Taken',
} as const;
export type AuditDetailType = (typeof AuditDetailType)[keyof typeof AuditDetailType];

export type Verdict = 'pass' | 'fail' | 'inconclusive' | 'skipped';

/** The numbers behind one SLO's part of a verdict. */
export interface SloObservation {
  readonly slo: string;
  /**
   * Which traffic: the new version (canary), the current one on the same minutes (baseline), or
   * the current one's last minutes of service that the new version serving alone was compared with
   * (reference).
   */
  readonly arm: 'canary' | 'baseline' | 'reference';
  readonly windowSeconds: number;
  readonly totalEvents: number;
  readonly badEvents: number;
  /** bad ÷ total ÷ error budget; undefined without events. */
  readonly burnRate?: number;
  readonly threshold: number;
}

/** The approval gate's part of an audit event. */
export interface AuditApproval {
  /** Why a human is asked: the bake's gate (inconclusive, incident, breaker), or a failed rollback's secondary action. */
  readonly kind?: 'inconclusive' | 'incident' | 'breaker' | 'secondary-action';
  /** How the wait ended (`Approval Answered`, and the verdict it decided). */
  readonly result?: 'approved' | 'rejected' | 'timed-out' | 'not-asked';
  readonly question?: string;
  readonly timeoutSeconds?: number;
  readonly expiresAt?: string;
  readonly onApprove?: 'Succeeded' | 'Failed';
  readonly onReject?: 'Succeeded' | 'Failed';
  readonly onTimeout?: 'Succeeded' | 'Failed';
  /** Who answered: the caller identity the CLI read, else the answer's `approvedBy`. */
  readonly answeredBy?: string;
  readonly answeredBySource?: 'caller-identity' | 'approved-by';
}

export interface AuditEventDetail {
  readonly schemaVersion: typeof AUDIT_SCHEMA_VERSION;
  /** Stable per decision: repeats of the same decision carry the same key. */
  readonly idempotencyKey: string;
  readonly occurredAt: string;
  readonly deploymentId: string;
  readonly applicationName?: string;
  readonly deploymentGroupName?: string;
  readonly lifecycleEventHookExecutionId?: string;
  readonly lifecycleEvent?: string;
  /** Version (Lambda) or task set / task definition (ECS) traffic moves away from. */
  readonly fromVersion?: string;
  /** Version traffic moves to. */
  readonly toVersion?: string;
  readonly verdict?: Verdict;
  /** What CodeDeploy was told, if anything. */
  readonly reportedStatus?: 'Succeeded' | 'Failed';
  /** Shadow mode: the verdict would have rolled the release back (Succeeded was reported). */
  readonly wouldRollback?: boolean;
  readonly reasons: readonly string[];
  readonly observations?: readonly SloObservation[];
  /**
   * Incidents the decision found that are not the release's: `pre-existing`, the service was
   * already paging on the current version when the release went out (no rollback; escalated).
   */
  readonly incidents?: ReadonlyArray<{ readonly kind: 'pre-existing'; readonly slo: string; readonly reason: string }>;
  /** The approval gate: the question (`Approval Requested`), then how it ended and who answered. */
  readonly approval?: AuditApproval;
  /** `Approval Requested`: the token SendTaskSuccess / SendTaskFailure answer with. */
  readonly taskToken?: string;
  /** `Approval Requested`: the bake execution waiting for the answer. */
  readonly executionArn?: string;
  /** `Approval Requested`: the commands that answer it. */
  readonly howToAnswer?: { readonly approve: string; readonly reject: string; readonly awsCliApprove: string; readonly awsCliReject: string };
  /** Deployment state-change fields (alarm path): CodeDeploy's error code, message and rollback info. */
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly rollbackDeploymentId?: string;
  readonly alarmNames?: readonly string[];
  readonly timeToRecoverySeconds?: number;
  /**
   * `Rollback Triggered` by the library itself after the deployment had succeeded: `guard-window`, the
   * guard window saw the page tier breached and started a rollback deployment (`rollbackDeploymentId`).
   */
  readonly reason?: 'guard-window';
  /** `Approval Requested` and `Secondary Action Taken` of a failed rollback: the direct action proposed or taken. */
  readonly secondaryAction?: SecondaryAction;
  /**
   * The entry was over PutEvents' 256 KB limit and was trimmed to fit: the numbers (verdict,
   * status, observations, ids) are kept, long reasons dropped.
   */
  readonly trimmed?: boolean;
  /** How many reasons the trimming dropped. */
  readonly trimmedReasons?: number;
}

export interface AuditEvent {
  readonly source: typeof AUDIT_EVENT_SOURCE;
  readonly detailType: AuditDetailType;
  readonly detail: AuditEventDetail;
}

/**
 * Builds an audit event whose idempotency key depends only on what was decided, so a duplicate
 * invocation that reaches the same decision produces an event consumers can drop.
 */
export function auditEvent(
  detailType: AuditDetailType,
  detail: Omit<AuditEventDetail, 'schemaVersion' | 'idempotencyKey' | 'occurredAt'>,
  occurredAt: Date,
  keySubject?: string,
): AuditEvent {
  // `keySubject` tells apart two decisions of one deployment that name neither a hook nor a rollback
  // (a follow-up flow that could not start, the circuit breaker's count that failed).
  const subject = keySubject ?? detail.lifecycleEventHookExecutionId ?? detail.rollbackDeploymentId ?? 'deployment';
  const outcome = detail.verdict ?? detail.reportedStatus ?? detail.errorCode ?? '';
  return {
    source: AUDIT_EVENT_SOURCE,
    detailType,
    detail: {
      schemaVersion: AUDIT_SCHEMA_VERSION,
      idempotencyKey: [detailType.replace(/ /g, ''), detail.deploymentId, subject, outcome].join(':'),
      occurredAt: occurredAt.toISOString(),
      ...detail,
    },
  };
}

/**
 * CodeDeploy puts the names of the alarms that stopped a deployment in its error message
 * (`ALARM_ACTIVE`), each in angle brackets: "… the affected deployments have been stopped.
 * Activated alarms: <orders-page-1h> <other alarm>". Names may contain spaces, so the brackets
 * delimit them; a message without brackets is split on whitespace and commas.
 */
export function alarmNamesFromErrorMessage(message: string | undefined): string[] {
  const tail = /Activated alarms?:\s*(.+)$/is.exec(message ?? '')?.[1] ?? '';
  const bracketed = [...tail.matchAll(/<([^<>]+)>/g)].map((m) => m[1].trim()).filter((name) => name.length > 0);
  return bracketed.length > 0 ? bracketed : tail.split(/[\s,]+/).filter((s) => s.length > 0);
}
