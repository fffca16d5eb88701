import { AUDIT_EVENT_SOURCE, AUDIT_SCHEMA_VERSION, AuditDetailType } from '../core/audit-events';

/**
 * Constants of the audit trail, for EventBridge rules without magic strings:
 * `eventPattern: { source: [AuditEventSchema.SOURCE], detailType: [AuditEventSchema.ROLLBACK_TRIGGERED] }`.
 */
export class AuditEventSchema {
  /** Source of every audit event. */
  public static readonly SOURCE: string = AUDIT_EVENT_SOURCE;
  /** Current `schemaVersion` of the event detail. */
  public static readonly SCHEMA_VERSION: number = AUDIT_SCHEMA_VERSION;
  /** The evaluator reported a lifecycle hook. */
  public static readonly DEPLOYMENT_VERDICT: string = AuditDetailType.DEPLOYMENT_VERDICT;
  /** A deployment failed or stopped and rolls back (evaluator or alarm path). */
  public static readonly ROLLBACK_TRIGGERED: string = AuditDetailType.ROLLBACK_TRIGGERED;
  /** The rollback deployment succeeded; carries the time to recovery. */
  public static readonly ROLLBACK_COMPLETED: string = AuditDetailType.ROLLBACK_COMPLETED;
  /** A successful deployment's version was recorded as known-good. */
  public static readonly KNOWN_GOOD_RECORDED: string = AuditDetailType.KNOWN_GOOD_RECORDED;
  /** A duplicate or late invocation found the hook already decided. */
  public static readonly TRIGGER_SUPPRESSED: string = AuditDetailType.TRIGGER_SUPPRESSED;
  /** A human is needed. */
  public static readonly ESCALATION_RAISED: string = AuditDetailType.ESCALATION_RAISED;

  private constructor() {}
}

/** The numbers behind one SLO's part of a verdict (schema version 1). */
export interface AuditObservation {
  readonly slo: string;
  /**
   * `canary` (the new version), `baseline` (the current one on the same minutes) or `reference`
   * (the current one's last minutes of service, which the new version serving alone is compared with).
   */
  readonly arm: string;
  readonly windowSeconds: number;
  readonly totalEvents: number;
  readonly badEvents: number;
  /** bad ÷ total ÷ error budget; absent without events. */
  readonly burnRate?: number;
  readonly threshold: number;
}

/** An incident the evaluator found that is not the release's (schema version 1). */
export interface AuditIncident {
  /** `pre-existing`: the service was already paging on the current version when the release went out. */
  readonly kind: string;
  /** The SLO it burns. */
  readonly slo: string;
  readonly reason: string;
}

/** The `detail` of every audit event (schema version 1). */
export interface AuditEventDetail {
  readonly schemaVersion: number;
  /** Equal for repeats of one decision: drop duplicates on it (PutEvents does not de-duplicate). */
  readonly idempotencyKey: string;
  /** ISO 8601. */
  readonly occurredAt: string;
  readonly deploymentId: string;
  readonly applicationName?: string;
  readonly deploymentGroupName?: string;
  readonly lifecycleEventHookExecutionId?: string;
  readonly lifecycleEvent?: string;
  readonly fromVersion?: string;
  readonly toVersion?: string;
  /** `pass`, `fail`, `inconclusive` or `skipped`. */
  readonly verdict?: string;
  /** `Succeeded` or `Failed`: what CodeDeploy was told. */
  readonly reportedStatus?: string;
  readonly reasons: string[];
  readonly observations?: AuditObservation[];
  /** Incidents that are not the release's: the release was not rolled back for them, and a human was asked to look. */
  readonly incidents?: AuditIncident[];
  readonly errorCode?: string;
  readonly errorMessage?: string;
  readonly rollbackDeploymentId?: string;
  readonly alarmNames?: string[];
  readonly timeToRecoverySeconds?: number;
  /** The entry was over PutEvents' 256 KB limit and was trimmed: numbers kept, long reasons dropped. */
  readonly trimmed?: boolean;
  /** How many reasons the trimming dropped. */
  readonly trimmedReasons?: number;
}
