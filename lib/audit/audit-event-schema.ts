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
  /** The approval gate asks a human; carries the question, the task token and how to answer. */
  public static readonly APPROVAL_REQUESTED: string = AuditDetailType.APPROVAL_REQUESTED;
  /** The approval gate's wait ended: approved, rejected or timed out, and who answered. */
  public static readonly APPROVAL_ANSWERED: string = AuditDetailType.APPROVAL_ANSWERED;
  /** The circuit breaker opened: too many rollbacks of the group; rollbacks now ask a human first. */
  public static readonly CIRCUIT_OPENED: string = AuditDetailType.CIRCUIT_OPENED;
  /** The circuit breaker closed: a human closed it, or a release succeeded after the cooldown. */
  public static readonly CIRCUIT_CLOSED: string = AuditDetailType.CIRCUIT_CLOSED;
  /** After a rollback, the restored version held its SLOs and health checks. */
  public static readonly ROLLBACK_VERIFIED: string = AuditDetailType.ROLLBACK_VERIFIED;
  /** After a rollback, the restored version is unhealthy too: the problem is not the release. */
  public static readonly ROLLBACK_UNHEALTHY: string = AuditDetailType.ROLLBACK_UNHEALTHY;
  /** A rollback deployment failed, and a human approved the secondary action: it was taken. */
  public static readonly SECONDARY_ACTION_TAKEN: string = AuditDetailType.SECONDARY_ACTION_TAKEN;

  private constructor() {}
}

/** The numbers behind one SLO's part of a verdict (schema version 1). */
export interface AuditObservation {
  /** The SLO's name. */
  readonly slo: string;
  /**
   * `canary` (the new version), `baseline` (the current one on the same minutes) or `reference`
   * (the current one's last minutes of service, which the new version serving alone is compared with).
   */
  readonly arm: string;
  /** The seconds of traffic the counts cover. */
  readonly windowSeconds: number;
  /** Events (requests or operations) the SLI counted in the window. */
  readonly totalEvents: number;
  /** Of those, the bad ones (errors, slow requests or failed operations, as the SLI counts them). */
  readonly badEvents: number;
  /**
   * bad ÷ total ÷ error budget.
   *
   * @default - absent when the window holds no events (no burn rate to compute)
   */
  readonly burnRate?: number;
  /** The burn rate at which the evaluator fails the bake for this SLO. */
  readonly threshold: number;
}

/** An incident the evaluator found that is not the release's (schema version 1). */
export interface AuditIncident {
  /** `pre-existing`: the service was already paging on the current version when the release went out. */
  readonly kind: string;
  /** The SLO it burns. */
  readonly slo: string;
  /** What the evaluator saw, in words. */
  readonly reason: string;
}

/** The direct action proposed or taken after a failed rollback (schema version 1). */
export interface AuditSecondaryAction {
  /** `update-alias` (Lambda: the alias points at the known-good version alone) or `ecs-deployment` (a new deployment of the known-good task definition). */
  readonly kind: string;
  /**
   * Lambda: the function whose alias moves.
   *
   * @default - absent for `ecs-deployment`
   */
  readonly functionName?: string;
  /**
   * Lambda: the alias that moves.
   *
   * @default - absent for `ecs-deployment`
   */
  readonly alias?: string;
  /**
   * Lambda: the known-good version the alias points at.
   *
   * @default - absent for `ecs-deployment`
   */
  readonly version?: string;
  /**
   * ECS: the known-good task definition deployed.
   *
   * @default - absent for `update-alias`
   */
  readonly taskDefinition?: string;
  /**
   * The known-good record's fingerprint, checked again right before acting.
   *
   * @default - absent when the record has none
   */
  readonly integrity?: string;
  /**
   * ECS: the load-balanced container the AppSpec names.
   *
   * @default - absent for `update-alias`
   */
  readonly containerName?: string;
  /**
   * ECS: its port.
   *
   * @default - absent for `update-alias`
   */
  readonly containerPort?: number;
}

/** The approval gate's part of an audit event (schema version 1). */
export interface AuditApproval {
  /**
   * Why a human is asked: `inconclusive`, `incident` (a pass during an incident that is not the release's), `breaker` (a rollback the open circuit breaker holds) or `secondary-action` (a failed rollback's direct action).
   *
   * @default - absent on the verdict an answer decided
   */
  readonly kind?: string;
  /**
   * How the wait ended: `approved`, `rejected`, `timed-out` (no answer in time, or the request could not be sent) or `not-asked` (no time left in the hook's hour).
   *
   * @default - absent on `Approval Requested` (nothing has been answered yet)
   */
  readonly result?: string;
  /**
   * What is ambiguous, and what each answer reports.
   *
   * @default - absent on the verdict an answer decided (the question is on `Approval Requested`)
   */
  readonly question?: string;
  /**
   * Seconds the bake waits for an answer (the configured `approvalTimeout`, cut to the hook's hour).
   *
   * @default - absent except on `Approval Requested`
   */
  readonly timeoutSeconds?: number;
  /**
   * ISO 8601: when the wait ends without an answer.
   *
   * @default - absent except on `Approval Requested`
   */
  readonly expiresAt?: string;
  /**
   * What an approval reports (`Succeeded`).
   *
   * @default - absent except on `Approval Requested`
   */
  readonly onApprove?: string;
  /**
   * What a rejection reports (`Failed`).
   *
   * @default - absent except on `Approval Requested`
   */
  readonly onReject?: string;
  /**
   * What no answer reports (`approvalTimeoutAction`).
   *
   * @default - absent except on `Approval Requested`
   */
  readonly onTimeout?: string;
  /**
   * Who answered: the caller identity the CLI read with STS, else the answer's `approvedBy`.
   *
   * @default - absent when nobody answered, or the answer named nobody (CloudTrail records the SendTask call)
   */
  readonly answeredBy?: string;
  /**
   * `caller-identity` or `approved-by`: where `answeredBy` comes from.
   *
   * @default - absent without `answeredBy`
   */
  readonly answeredBySource?: string;
}

/** The commands that answer an approval request (schema version 1). */
export interface AuditHowToAnswer {
  /** `npx rollback-triggers approve --execution …` */
  readonly approve: string;
  /** `npx rollback-triggers reject --execution …` */
  readonly reject: string;
  /** The `aws stepfunctions send-task-success` equivalent (put the event's `taskToken` in). */
  readonly awsCliApprove: string;
  /** The `aws stepfunctions send-task-failure` equivalent (put the event's `taskToken` in). */
  readonly awsCliReject: string;
}

/** The `detail` of every audit event (schema version 1). */
export interface AuditEventDetail {
  /** The schema version of this detail (`AuditEventSchema.SCHEMA_VERSION`). */
  readonly schemaVersion: number;
  /** Equal for repeats of one decision: drop duplicates on it (PutEvents does not de-duplicate). */
  readonly idempotencyKey: string;
  /** ISO 8601. */
  readonly occurredAt: string;
  /** The CodeDeploy deployment the event is about (`unknown` for a hook event too malformed to name one). */
  readonly deploymentId: string;
  /**
   * The CodeDeploy application of the rollback trigger's deployment group.
   *
   * @default - absent only when the function that emits the event was not given its deployment group (RollbackTrigger always gives it)
   */
  readonly applicationName?: string;
  /**
   * The rollback trigger's deployment group.
   *
   * @default - absent only when the function that emits the event was not given its deployment group (RollbackTrigger always gives it)
   */
  readonly deploymentGroupName?: string;
  /**
   * The lifecycle hook invocation the event is about.
   *
   * @default - absent on events of a deployment's state change (`Rollback Triggered`, `Rollback Completed`, `Known Good Recorded` and their escalations) and on the escalation of a hook event too malformed to name one
   */
  readonly lifecycleEventHookExecutionId?: string;
  /**
   * The lifecycle event the hook runs in (`AfterAllowTraffic`, `AfterAllowTestTraffic`, …).
   *
   * @default - absent unless the evaluator read it from the deployment's targets before the event (never on the hook starter's or the state-change events)
   */
  readonly lifecycleEvent?: string;
  /**
   * Version (Lambda) or task set / task definition (ECS) traffic moves away from.
   *
   * @default - absent unless the evaluator read the deployment's targets before the event, or on `Known Good Recorded`; and when CodeDeploy names no current version
   */
  readonly fromVersion?: string;
  /**
   * Version (Lambda) or task set / task definition (ECS) traffic moves to.
   *
   * @default - absent unless the evaluator read the deployment's targets before the event, or on `Known Good Recorded`; and when CodeDeploy names no target version
   */
  readonly toVersion?: string;
  /**
   * `pass`, `fail`, `inconclusive` or `skipped`.
   *
   * @default - absent on `Rollback Completed` and `Known Good Recorded`, and on suppressions and escalations that carry no verdict (raised before a hook was judged, or about a deployment's state change)
   */
  readonly verdict?: string;
  /**
   * `Succeeded` or `Failed`: what CodeDeploy was told.
   *
   * @default - absent when this library told CodeDeploy nothing for the event (every event but `Deployment Verdict` and the escalations raised with one)
   */
  readonly reportedStatus?: string;
  /**
   * True when the trigger runs in shadow mode and the verdict would have rolled the release back:
   * `reportedStatus` is then `Succeeded`.
   *
   * @default - absent outside shadow mode, and when the verdict would not have rolled back
   */
  readonly wouldRollback?: boolean;
  /** Why, in words: the decision's reasons, or what happened. */
  readonly reasons: string[];
  /**
   * The numbers behind the evaluator's verdict, one per SLO and traffic arm.
   *
   * @default - absent on events without an evaluator's judgement (the hook starter's and the state-change events, and the evaluator's before it judged), and when trimming dropped them (see `trimmed`)
   */
  readonly observations?: AuditObservation[];
  /**
   * Incidents that are not the release's: the release was not rolled back for them, and a human was asked to look.
   *
   * @default - absent unless the evaluator found such an incident (only on its `Deployment Verdict` and the escalation raised with it)
   */
  readonly incidents?: AuditIncident[];
  /**
   * The approval gate: the question (`Approval Requested`), or how the wait ended and who answered
   * (`Approval Answered`, and the `Deployment Verdict` the answer decided).
   *
   * @default - absent unless the trigger's `inconclusiveAction` is `ESCALATE` and the verdict asked a human
   */
  readonly approval?: AuditApproval;
  /**
   * The task token that answers the approval request (SendTaskSuccess / SendTaskFailure).
   *
   * @default - absent except on `Approval Requested`
   */
  readonly taskToken?: string;
  /**
   * The bake execution waiting for an answer.
   *
   * @default - absent except on `Approval Requested`
   */
  readonly executionArn?: string;
  /**
   * The commands that answer the approval request.
   *
   * @default - absent except on `Approval Requested`
   */
  readonly howToAnswer?: AuditHowToAnswer;
  /**
   * CodeDeploy's error code for a failed or stopped deployment (`ALARM_ACTIVE`, …).
   *
   * @default - absent except on `Rollback Triggered` and the escalation of a failed rollback deployment, and there when CodeDeploy gives no error information
   */
  readonly errorCode?: string;
  /**
   * CodeDeploy's error message for a failed or stopped deployment (it names the alarms that stopped it).
   *
   * @default - absent except on `Rollback Triggered` and the escalation of a failed rollback deployment, and there when CodeDeploy gives no error information
   */
  readonly errorMessage?: string;
  /**
   * The rollback deployment: the one CodeDeploy started (`Rollback Triggered`), or the one that succeeded (`Rollback Completed`).
   *
   * @default - absent on other events, and on `Rollback Triggered` when CodeDeploy has recorded no rollback deployment (yet)
   */
  readonly rollbackDeploymentId?: string;
  /**
   * The alarms that stopped the deployment, read from CodeDeploy's error message (empty when it names none).
   *
   * @default - absent except on `Rollback Triggered`
   */
  readonly alarmNames?: string[];
  /**
   * Seconds from the rolled-back deployment's first bad signal (or its end) to the rollback's success.
   *
   * @default - absent except on `Rollback Completed`, and there when the time the rolled-back deployment went bad is unknown (no first bad signal recorded, and its end unreadable)
   */
  readonly timeToRecoverySeconds?: number;
  /**
   * Why the library itself triggered a rollback after the deployment succeeded: `guard-window`.
   *
   * @default - absent except on a guard window's `Rollback Triggered` and escalations
   */
  readonly reason?: string;
  /**
   * The direct action proposed (`Approval Requested`) or taken (`Secondary Action Taken`) after a failed rollback.
   *
   * @default - absent except on a secondary action's events
   */
  readonly secondaryAction?: AuditSecondaryAction;
  /**
   * The entry was over PutEvents' 256 KB limit and was trimmed: numbers kept, long reasons dropped.
   *
   * @default - absent when the event was not trimmed
   */
  readonly trimmed?: boolean;
  /**
   * How many reasons the trimming dropped.
   *
   * @default - absent when the event was not trimmed
   */
  readonly trimmedReasons?: number;
}
