import * as fs from 'node:fs';
import * as path from 'node:path';
import { Annotations, ArnFormat, CfnElement, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, IAlarm, MathExpression, Metric, MetricOptions, TreatMissingData, Unit } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { CfnDeploymentGroup } from 'aws-cdk-lib/aws-codedeploy';
import { AttributeType, BillingMode, ITable, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, IEventBus, OnEventOptions, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction, SnsTopic } from 'aws-cdk-lib/aws-events-targets';
import { Grant, IGrantable, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Code, Function, IFunction, Runtime, RuntimeFamily, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { IStateMachine, StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { AUDIT_EVENT_SOURCE, AuditDetailType } from '../core/audit-events';
import type { BreakerSettings } from '../core/breaker';
import { validateAlarmDescription, validateMathAlarmSize } from '../core/cloudwatch-limits';
import { ROLLBACK_TRIGGER_DEFAULTS } from '../core/defaults';
import { RollbackTriggersError, errorText, formatSeconds } from '../core/errors';
import {
  EVALUATOR_CONFIG_SCHEMA_VERSION,
  type EvaluatorConfig,
  EvaluatorEnv,
  type EvaluatorHealthCheck,
  type EvaluatorSlo,
  HOOK_LIMIT_SECONDS,
  LAMBDA_ENVIRONMENT_LIMIT_BYTES,
} from '../core/evaluator-config';
import { GUARD_GRACE_SECONDS, SECONDARY_ACT_SECONDS, type GuardSettings, type SecondarySettings } from '../core/follow-up';
import { StarterEnv, StateChangeEnv, TIME_TO_RECOVERY_METRIC } from '../core/handler-env';
import { CODEDEPLOY_EVENT_SOURCE, DEPLOYMENT_STATE_CHANGE_DETAIL_TYPE, HANDLED_DEPLOYMENT_STATES } from '../core/handler-events';
import { buildHeartbeatQueries } from '../core/heartbeat';
import { queriesPerTick, validateQueriesPerTick } from '../core/metric-queries';
import {
  POLICY_METADATA_TYPE,
  POLICY_SCHEMA_VERSION,
  type PolicyHealthCheck,
  type PolicyRollbackAlarm,
  type PolicyRollbackTrigger,
  type PolicyTier,
  fastestPageTier,
} from '../core/policy';
import { rollbackAlarmEntry, rollbackTriggerPolicyEntry } from '../core/policy-builder';
import { StateTableSchema } from '../core/state-table';
import { VERIFY_GRACE_SECONDS, type VerifySettings } from '../core/verify';
import { FollowUpStateMachine } from '../private/follow-up-state-machine';
import { WindowAlarmRequest, windowAlarm, windowAlarmSignature } from '../private/alarm-factory';
import { BakeStateMachine } from '../private/bake-state-machine';
import { countsMetricCount } from '../private/sli-counts';
import { EvaluatorMetricSpecs, ScopedObjective, withEvaluatorReads } from '../private/evaluator-specs';
import { atConstruct } from '../private/errors';
import { acknowledgeDeadLetterQueue, acknowledgeDefaultPolicy, acknowledgeHandler, acknowledgeLogGroup, acknowledgeRollbackAlarm, acknowledgeStateTable } from '../private/nag';
import { ServiceLevelObjective } from '../slo/service-level-objective';
import { SliScope } from '../slo/sli';
import { HealthCheck } from './health-check';
import { IAlarmTrigger } from '../trigger/alarm-trigger';
import { heartbeatsForEvaluator } from '../trigger/heartbeat-evaluator';
import { RollbackTarget, RollbackTargetConfig } from './rollback-target';
import { checkDeploymentShape, compositeAlarmsOfGroup, warnUnlessRoleMayInvoke } from '../private/target-checks';
import { ScopedSli, TargetImpl } from '../private/targets/target-impl';
import { trafficShiftOf } from '../private/traffic-shift';
import { CheckedTriggerProps, LAMBDA_DESCRIPTION_LIMIT, RULE_DESCRIPTION_LIMIT, checkTriggerProps, checkUnguarded, withinLimit } from '../private/trigger-props';

/** What the evaluator reports when a bake ends without enough data to judge. */
export enum InconclusiveAction {
  /** Roll back (fail closed): never a silent pass on no data. */
  FAIL = 'fail',
  /** Let the deployment continue; the alarm path still watches it. */
  PASS = 'pass',
  /**
   * Ask a human (the approval gate): the bake waits up to `approvalTimeout` for an answer to the
   * `Approval Requested` notice — approve lets the release continue, reject rolls it back, no
   * answer applies `approvalTimeoutAction`. A pass during an incident that is not the release's
   * (pre-existing) asks too. Not in shadow mode.
   */
  ESCALATE = 'escalate',
}

/** Whether a {@link RollbackTrigger} acts on its verdicts or only audits them. */
export enum TriggerMode {
  /** Roll a release back: the alarms are attached to the deployment group, a failing verdict fails the hook. */
  ENFORCE = 'enforce',
  /**
   * Dry run: the alarms, the hook and the bake all run and audit what they would do
   * (`wouldRollback: true` on the verdict), but the alarms are not attached to the deployment group
   * and the hook reports Succeeded wherever it would report Failed, so the trigger never stops a
   * release (a report CodeDeploy never accepts still leaves the hook to its one-hour timeout). For
   * adopting the library on a live service.
   */
  SHADOW = 'shadow',
}

/**
 * The circuit breaker of a {@link RollbackTrigger}: when one deployment group has been rolled back
 * more than `maxRollbacks` times within `window`, something every release shares is probably broken,
 * and rolling back the next release too would not help. The breaker opens: until a human closes it
 * (answering with `--close-breaker`) or `cooldown` passes, every rollback the evaluator decides on
 * evidence (a failing verdict; an inconclusive one still does what `inconclusiveAction` says) asks
 * a human first through the approval gate (approve lets the release continue, reject or no
 * answer rolls it back). After the cooldown it is half-open: the next decision acts alone; a rollback
 * then opens it again, a successful release closes it. The alarm path is not held: CodeDeploy still
 * rolls back on an alarm.
 */
export interface CircuitBreakerOptions {
  /**
   * Rollbacks within `window` the group may have before the breaker opens (it opens on the next one). A whole number of at least 1.
   *
   * @default 3
   */
  readonly maxRollbacks?: number;
  /**
   * The window rollbacks are counted in. Whole minutes, at least 1.
   *
   * @default Duration.hours(1)
   */
  readonly window?: Duration;
  /**
   * How long an open breaker holds rollbacks for a human before it half-opens. Whole minutes, at least 1.
   *
   * @default Duration.hours(1)
   */
  readonly cooldown?: Duration;
}

/** Post-rollback verification of a {@link RollbackTrigger}. */
export interface VerifyRollbackOptions {
  /**
   * How long the restored version is watched after the rollback succeeds. Whole minutes, from 1 to 40.
   *
   * @default Duration.minutes(10)
   */
  readonly duration?: Duration;
}

/**
 * The secondary action of a {@link RollbackTrigger}: when a rollback deployment itself fails or
 * stops, traffic may still be on the bad version. The follow-up machine proposes a direct action on
 * the recorded known-good version (found intact: the Lambda version's CodeSha256, the ECS task
 * definition's images) and asks a human (`Approval Requested`, answered with
 * `rollback-triggers approve|reject`): Lambda — point the alias at the known-good version alone
 * (UpdateAlias); ECS — a new CodeDeploy deployment of the known-good task definition. Taken once
 * (claimed in the state table first), never without the approval, audited (`Secondary Action Taken`).
 */
export interface SecondaryActionOptions {
  /**
   * How long the machine waits for the approval; without one nothing is done (the escalation
   * stands). Whole minutes from 1 minute to 24 hours.
   *
   * @default Duration.hours(1)
   */
  readonly approvalTimeout?: Duration;
}

/** Properties of a {@link RollbackTrigger}. */
export interface RollbackTriggerProps {
  /** The deployment to guard: `RollbackTarget.lambdaAlias(...)` or `RollbackTarget.ecsService(...)`. */
  readonly target: RollbackTarget;
  /**
   * The SLOs whose page tier rolls a release back. Each is re-measured on the new version's own
   * traffic (Lambda `ExecutedVersion`, or each ECS target group) when its SLI allows it.
   */
  readonly objectives: ServiceLevelObjective[];
  /**
   * How long the evaluator watches the new version after traffic shifted (AfterAllowTraffic).
   * The bake runs on AWS Step Functions: it may last longer than one Lambda invocation.
   *
   * @default Duration.minutes(10)
   */
  readonly bake?: Duration;
  /**
   * When, after CodeDeploy invokes the hook, the bake decides with what it has: a verdict if there
   * is evidence, otherwise inconclusive. CodeDeploy fails a hook that has not reported within one
   * hour; the rest is the report's time to retry.
   *
   * At most 55 minutes; with the approval gate (`InconclusiveAction.ESCALATE` or a `circuitBreaker`), at most 52 minutes minus `approvalTimeout`.
   *
   * @default - Duration.minutes(55); with the approval gate, 52 minutes minus `approvalTimeout` (22 minutes by default)
   */
  readonly deadline?: Duration;
  /**
   * Act on verdicts, or only audit what the trigger would have done (shadow mode, a dry run that
   * never stops a release). In shadow mode the deployment group carries no alarm of the trigger's,
   * so its `autoRollback.deploymentInAlarm` must be false unless it has alarms of its own
   * (aws-cdk-lib refuses it on a group without alarms).
   *
   * @default TriggerMode.ENFORCE
   */
  readonly mode?: TriggerMode;
  /**
   * What an inconclusive bake (too few events, no datapoints) reports to CodeDeploy, or
   * `InconclusiveAction.ESCALATE` to ask a human first (the approval gate).
   *
   * @default InconclusiveAction.FAIL
   */
  readonly inconclusiveAction?: InconclusiveAction;
  /**
   * With `InconclusiveAction.ESCALATE` or a `circuitBreaker` (the approval gate): how long the bake waits for an answer. Whole seconds from
   * 1 minute; the deadline plus this must end by hook start + 52 min (5 minutes before the report-by time), so the
   * verdict still reaches CodeDeploy inside its one-hour hook limit. At run time the wait is also
   * cut to what is left of that hour.
   *
   * @default Duration.minutes(30)
   */
  readonly approvalTimeout?: Duration;
  /**
   * With `InconclusiveAction.ESCALATE`: what the bake reports when nobody answers in time (or the
   * request could not be sent): `FAIL` rolls the release back (fail closed), `PASS` lets it continue.
   *
   * @default InconclusiveAction.FAIL
   */
  readonly approvalTimeoutAction?: InconclusiveAction;
  /**
   * A circuit breaker on this deployment group's rollbacks: after too many in a window, a rollback
   * decision asks a human first (the approval gate, with `approvalTimeout`), until a human closes
   * the breaker or its cooldown passes. State in the trigger's DynamoDB table; `Circuit Opened` and
   * `Circuit Closed` audit events, and the `RollbackTriggers/CircuitOpen` metric. Not in shadow mode.
   *
   * @default - no circuit breaker
   */
  readonly circuitBreaker?: CircuitBreakerOptions;
  /**
   * After a rollback succeeds, watch the restored version with the same SLOs and health checks, on
   * its own traffic, for `duration`: `Rollback Verified` (with the time to recovery) or `Rollback
   * Unhealthy` — the problem is not the release — escalated and counted by the circuit breaker. A
   * second Step Functions machine (`followUpStateMachine`) started by the state-change function.
   *
   * @default - rollbacks are not verified
   */
  readonly verifyRollback?: VerifyRollbackOptions;
  /**
   * After a release succeeds, CodeDeploy stops polling its alarms. For this long afterwards the
   * follow-up machine still judges each SLO's page tier on the new version's own traffic (and the
   * health checks); on a breach it starts one rollback deployment to the known-good version recorded
   * before the release (checked for integrity first; all at once, without alarms or automatic
   * rollback), audited as `Rollback Triggered` with reason `guard-window`. A newer deployment of the
   * group ends the window; a release with no known-good version before it is escalated instead. In
   * shadow mode it only audits (`wouldRollback`). Whole minutes from 10 minutes to 24 hours.
   *
   * @default - no guard window
   */
  readonly guardWindow?: Duration;
  /**
   * When a rollback deployment itself fails or stops: ask a human to approve a direct action on the
   * known-good version (see {@link SecondaryActionOptions}). Not in shadow mode.
   *
   * @default - a failed rollback is escalated only
   */
  readonly secondaryAction?: SecondaryActionOptions;
  /**
   * Also compare the new version with the current one on the same minutes (canary judge).
   *
   * @default true
   */
  readonly compareWithBaseline?: boolean;
  /**
   * The rollback alarms fire only while the new version fails more than this many times as often
   * as the rest of the traffic on the same minutes (Lambda: the alias minus the new version; ECS:
   * the other target group), by three standard deviations. An incident every version shares — a
   * dependency down — then does not roll a healthy release back. The evaluator applies the same
   * factor on the minutes both versions served, and against the current version's last minutes of
   * service on the minutes the new version served alone. 0 compares with the error budget alone.
   *
   * @default 2
   */
  readonly baselineFactor?: number;
  /**
   * Alarm-backed triggers of severity PAGE (a `ThresholdTrigger` on a p99 latency or a business
   * gauge) whose alarms the deployment group also polls: CodeDeploy rolls the release back while one
   * is in ALARM. Their metrics are used as declared (not re-scoped to the new version), they count
   * against `maxAlarmsPerDeploymentGroup`, and the evaluator does not read them — except a
   * `HeartbeatTrigger`'s, whose beats the evaluator judges during the bake (the new version's own
   * with its `versionDimension`): a missing beat fails the release once its grace after the release
   * has passed and all traffic is on the new version (the AfterAllowTraffic hook has started).
   *
   * @default - none
   */
  readonly alarmTriggers?: IAlarmTrigger[];
  /**
   * Health checks run on every bake tick besides the SLOs: HTTP probes and Synthetics canaries.
   *
   * @default - none
   */
  readonly healthChecks?: HealthCheck[];
  /**
   * CloudWatch ingestion delay the evaluator allows before trusting a minute's data. Whole seconds
   * above 0, and at most the `deadline` minus one minute (a one-minute bake must fit after it).
   *
   * @default Duration.minutes(3)
   */
  readonly metricDelay?: Duration;
  /**
   * Alarms a deployment group may carry, a whole number of at least 1. The CodeDeploy API reference
   * says 10; the quotas page says 50 (adjustable). Raise it if your account's quota is higher.
   *
   * @default 10
   */
  readonly maxAlarmsPerDeploymentGroup?: number;
  /**
   * Make CodeDeploy ignore the deployment group's alarms (AlarmConfiguration.Enabled = false), to
   * deploy a fix while an SLO alarm is already in ALARM (CodeDeploy refuses to start a deployment
   * then). The evaluator hook still judges the fix on its own traffic. Also set by the context key
   * `cdk-rollback-triggers:suspendAlarmPath` (`cdk deploy -c cdk-rollback-triggers:suspendAlarmPath=true`).
   *
   * @default false
   */
  readonly suspendAlarmPath?: boolean;
  /**
   * Bus that receives the audit events, in the trigger's own Region and account.
   *
   * @default - a new bus with an archive of the audit events
   */
  readonly auditBus?: IEventBus;
  /**
   * How long the created bus archives audit events: whole days, at least 1 (EventBridge reads a
   * retention of 0 days as "forever"). Only for the bus the trigger creates: refused with `auditBus`.
   *
   * @default Duration.days(365)
   */
  readonly auditRetention?: Duration;
  /**
   * Topic that receives rollback and escalation notices (subscribe PagerDuty, Opsgenie, email…).
   *
   * @default - a new topic, encrypted with a new KMS key, SSL enforced
   */
  readonly notificationTopic?: ITopic;
  /**
   * Runtime of the trigger's functions (the starter, the evaluator and its follow-up steps): a
   * Node.js runtime, nodejs18.x or newer (the handlers are ES modules that import the AWS SDK v3
   * the runtime includes).
   *
   * @default - the newest Node.js runtime this version of aws-cdk-lib knows
   */
  readonly runtime?: Runtime;
}

const ASSETS_DIR = path.join(__dirname, '..', '..', 'assets');

/**
 * Turns SLOs into an automatic rollback of a CodeDeploy blue/green release.
 *
 * 1. Alarm path (no Lambda): for every SLO, its fastest page tier measured on the new version's own
 *    traffic, attached to the deployment group, which rolls back on alarm, failure and stop.
 * 2. Evaluator path: a thin Lambda lifecycle hook (BeforeAllowTraffic / AfterAllowTraffic) starts
 *    one AWS Step Functions execution per hook execution; the machine runs a stateless evaluator
 *    that checks the rollback target is intact and bakes the new version on its own metrics, and
 *    reports to CodeDeploy once, fail-closed when the evaluator cannot run.
 * 3. Known-good state and an audit trail on EventBridge for every verdict and rollback.
 */
export class RollbackTrigger extends Construct {
  /**
   * The context key that suspends the alarm path for one deploy
   * (`cdk deploy -c cdk-rollback-triggers:suspendAlarmPath=true`), like `suspendAlarmPath`.
   */
  public static readonly SUSPEND_ALARM_PATH_CONTEXT = 'cdk-rollback-triggers:suspendAlarmPath';

  /** The lifecycle hook function (BeforeAllowTraffic / AfterAllowTraffic): starts the bake's execution. */
  public readonly hookFunction: IFunction;
  /** The stateless evaluator run by the bake's state machine: resolve, checks, ticks, audit. */
  public readonly evaluatorFunction: IFunction;
  /**
   * The follow-up machine's steps (verification, guard window, secondary action): the bake's reads
   * and decision, plus the one function that may create a rollback deployment or move the alias.
   *
   * @default - none without `verifyRollback`, `guardWindow` or `secondaryAction`
   */
  public readonly followUpFunction?: IFunction;
  /** Handles the deployment group's state changes: known-good versions, rollback audit. */
  public readonly stateChangeFunction: IFunction;
  /** The bake (AWS Step Functions Standard): one execution per lifecycle hook execution. */
  public readonly bakeStateMachine: IStateMachine;
  /**
   * What runs after a deployment ends (AWS Step Functions Standard), started by the state-change
   * function: the post-rollback verification (one execution per successful rollback), the guard
   * window (one per successful release) and the secondary action (one per failed rollback).
   *
   * @default - none without `verifyRollback`, `guardWindow` or `secondaryAction`
   */
  public readonly followUpStateMachine?: IStateMachine;
  /** Hook starts, deployment state changes and notices that could not be delivered. */
  public readonly deadLetterQueue: IQueue;
  /** Alarms on lost work (dead letters) and failed bake executions; they notify the topic. */
  public readonly operationalAlarms: IAlarm[];
  /** Known-good versions and first bad signals (what must outlive one execution). */
  public readonly stateTable: ITable;
  /** The bus every audit event lands on. */
  public readonly auditBus: IEventBus;
  /** The topic that receives rollback and escalation notices. */
  public readonly notificationTopic: ITopic;
  /**
   * The alarms of the alarm path: each objective's rollback alarm and the alarm triggers' alarms,
   * attached to the deployment group (created but not attached in shadow mode).
   */
  public readonly rollbackAlarms: IAlarm[];
  /** Name of the deployment group the trigger guards. */
  public readonly deploymentGroupName: string;

  /** Whether the bake has the approval gate (InconclusiveAction.ESCALATE or a circuit breaker). */
  private readonly approvalGate: boolean;
  /** Whether the follow-up machine asks to approve a failed rollback's secondary action. */
  private readonly secondaryAsks: boolean;

  /** @internal the deployment group this trigger guards, once built (one trigger per group). */
  public _guardedGroup?: Construct;

  /** @internal */
  public readonly _policy: PolicyRollbackTrigger;

  constructor(scope: Construct, id: string, props: RollbackTriggerProps) {
    super(scope, id);
    // 1. Every prop within its own bounds first, then the objects against each other.
    const checked = checkTriggerProps(this, props, Object.values(InconclusiveAction), Object.values(TriggerMode));
    const shadow = props.mode === TriggerMode.SHADOW;
    const target = props.target._impl;
    const group = target.deploymentGroup;
    checkUnguarded(this, group);
    // What the target gives the trigger: the names, ARN and role of its deployment group.
    const bound: BoundGroup = { ...props.target.bind(this), path: group.node.path };
    checkDeploymentShape(this, group, target.platform);
    const inconclusiveAction = props.inconclusiveAction ?? InconclusiveAction.FAIL;
    // With the approval gate, what the evaluator reports on an inconclusive verdict nobody answered.
    const unanswered = inconclusiveAction === InconclusiveAction.ESCALATE ? (props.approvalTimeoutAction ?? InconclusiveAction.FAIL) : inconclusiveAction;

    // 2. Alarm path: each SLO's fastest page tier on the new version's own traffic.
    const { alarms, slis, policyAlarms } = this.rollbackAlarmsFor(props.objectives, target, checked.baselineFactor);
    this.rollbackAlarms = [...alarms, ...(props.alarmTriggers ?? []).map((t) => t.alarm)];
    const suspend = shadow ? this.leaveAlarmsDetached() : this.attachAlarms(props, target, alarms, checked.maxAlarms);
    for (const alarm of this.rollbackAlarms) acknowledgeRollbackAlarm(alarm, shadow);
    this.node.addValidation({ validate: () => this.validateDeploymentGroup(group.node.defaultChild as CfnDeploymentGroup, checked.maxAlarms, inconclusiveAction, shadow) });

    // 3. The policy the plan and the simulator read, with the checks the evaluator runs.
    const healthChecks = props.healthChecks?.map((c) => c._config);
    this._policy = rollbackTriggerPolicyEntry({
      ...this.flowsOf(checked),
      name: id,
      path: this.node.path,
      platform: target.platform,
      inconclusiveAction: unanswered === InconclusiveAction.PASS ? 'pass' : 'fail',
      alarmPathSuspended: suspend,
      alarms: withEvaluatorReads(policyAlarms, slis),
      healthChecks: healthChecks?.map(policyHealthCheck),
      alarmTriggers: props.alarmTriggers?.map((t) => t.node.path),
      shadow,
    });
    this.node.addMetadata(POLICY_METADATA_TYPE, { schemaVersion: POLICY_SCHEMA_VERSION, entry: this._policy });

    // 4. State and audit trail: what outlives one execution, and where every decision lands.
    this.stateTable = this.createStateTable();
    this.auditBus = props.auditBus ?? this.createAuditBus(props.auditRetention);
    this.notificationTopic = props.notificationTopic ?? this.createTopic();
    this.deadLetterQueue = this.createDeadLetterQueue();

    // 5. The bake: a thin starter as the hook, a stateless evaluator run by Step Functions.
    const config = this.evaluatorConfig(props, slis, checked, unanswered, bound, healthChecks);
    this.checkEnvironmentSize(config);
    const runtime = props.runtime ?? newestNodeRuntime();
    const evaluator = this.stepFunction('Evaluator', 'evaluator', runtime, config, (p) => `cdk-rollback-triggers bake steps for ${p} (run by Step Functions)`, bound.path);
    const bake = new BakeStateMachine(this, 'Bake', {
      evaluator,
      deploymentGroupArn: bound.deploymentGroupArn,
      applicationName: bound.applicationName,
      deploymentGroupName: bound.deploymentGroupName,
      auditBus: this.auditBus,
      logGroup: this.createLogGroup('BakeLogs'),
      shadow,
      approval: checked.approvalTimeoutSeconds !== undefined,
    });
    const starter = this.starterHandler(runtime, bake.stateMachine, checked.deadlineSeconds, bound, shadow);
    const { stateChange, followUp, followUpFunction } = this.afterDeployments(runtime, config, bound, checked, target);
    this.followUpStateMachine = followUp;
    this.followUpFunction = followUpFunction;
    this.evaluatorFunction = evaluator;
    this.bakeStateMachine = bake.stateMachine;
    this.hookFunction = starter;
    this.stateChangeFunction = stateChange;
    this.grantHandlers({ evaluator, starter, stateChange, stateMachine: bake.stateMachine, followUp: followUpFunction }, bound.deploymentGroupArn, target);
    target.attachHook(this, starter);
    warnUnlessRoleMayInvoke(this, bound.path, bound.deploymentRole, starter.functionArn);

    // 6. Events: deployment state changes to the state-change handler, notices to the topic, and
    // alarms on lost work.
    this.approvalGate = checked.approvalTimeoutSeconds !== undefined;
    this.secondaryAsks = checked.secondaryApprovalSeconds !== undefined;
    this.routeEvents(bound, stateChange, checked);
    this.operationalAlarms = this.alarmOnLostWork(bake.stateMachine, followUp);
    this.deploymentGroupName = bound.deploymentGroupName;
    this._guardedGroup = group;
  }

  /**
   * The time from a release's first bad signal to the end of its rollback, in seconds, one
   * datapoint per completed rollback of this trigger's deployment group (published by the
   * state-change handler with Powertools Metrics, whose `service` dimension names the handler).
   *
   * @default - Maximum over 5 minutes
   */
  public metricTimeToRecovery(props?: MetricOptions): Metric {
    return new Metric({
      namespace: TIME_TO_RECOVERY_METRIC.namespace,
      metricName: TIME_TO_RECOVERY_METRIC.metricName,
      dimensionsMap: { service: TIME_TO_RECOVERY_METRIC.service, [TIME_TO_RECOVERY_METRIC.dimension]: this.deploymentGroupName },
      statistic: 'Maximum',
      period: Duration.minutes(5),
      unit: Unit.SECONDS,
      ...props,
    });
  }

  /**
   * An EventBridge rule on the audit bus that matches every rollback of this trigger's deployment
   * group (`Rollback Triggered`: a deployment that failed or was stopped — by the evaluator, an
   * alarm or a person): add a target to act on it.
   */
  public onRollback(id: string, options?: OnEventOptions): Rule {
    const rule = new Rule(this, id, {
      description: options?.description,
      ruleName: options?.ruleName,
      crossStackScope: options?.crossStackScope,
      eventBus: this.auditBus,
    });
    rule.addEventPattern({
      source: [AUDIT_EVENT_SOURCE],
      detailType: [AuditDetailType.ROLLBACK_TRIGGERED],
      detail: { deploymentGroupName: [this.deploymentGroupName] },
    });
    rule.addEventPattern(options?.eventPattern);
    if (options?.target) rule.addTarget(options.target);
    return rule;
  }

  /**
   * Lets `grantee` answer the trigger's questions: the approval gate's (`InconclusiveAction.ESCALATE`
   * or a `circuitBreaker`) on the bake's machine, and the secondary action's (`secondaryAction`) on
   * the follow-up machine. The `rollback-triggers approve|reject` CLI reads the execution's history for
   * the task token (states:GetExecutionHistory, ListExecutions, DescribeExecution…) and answers with
   * states:SendTaskSuccess or states:SendTaskFailure.
   */
  public grantApprove(grantee: IGrantable): Grant {
    const asking = [...(this.approvalGate ? [this.bakeStateMachine] : []), ...(this.secondaryAsks && this.followUpStateMachine ? [this.followUpStateMachine] : [])];
    if (asking.length === 0) {
      throw new RollbackTriggersError(
        'RT344',
        'grantApprove is called on a trigger that asks nobody: set inconclusiveAction: InconclusiveAction.ESCALATE, a circuitBreaker or a secondaryAction, or drop the grant',
        { constructPath: this.node.path, prop: 'inconclusiveAction' },
      );
    }
    return asking.map((m) => m.grantRead(grantee).combine(m.grantTaskResponse(grantee))).reduce((all, one) => all.combine(one));
  }

  /** The policy's numbers and the opt-in flows, as checked. */
  private flowsOf(checked: CheckedTriggerProps) {
    return {
      bakeSeconds: checked.bakeSeconds,
      deadlineSeconds: checked.deadlineSeconds,
      maxAlarms: checked.maxAlarms,
      baselineFactor: checked.baselineFactor,
      approvalTimeoutSeconds: checked.approvalTimeoutSeconds,
      escalateInconclusive: checked.escalateInconclusive,
      circuitBreaker: checked.breaker,
      verifyRollbackSeconds: checked.verifySeconds,
      guardWindowSeconds: checked.guardSeconds,
      secondaryActionSeconds: checked.secondaryApprovalSeconds,
    };
  }

  /**
   * What acts on the deployment's state changes: the state-change function (known-good, rollback
   * audit, the breaker's count) and, with `verifyRollback`, `guardWindow` or `secondaryAction`, the
   * follow-up machine it starts.
   */
  private afterDeployments(
    runtime: Runtime,
    config: EvaluatorConfig,
    bound: BoundGroup,
    checked: CheckedTriggerProps,
    target: TargetImpl,
  ): { stateChange: Function; followUp?: StateMachine; followUpFunction?: Function } {
    const { verifySeconds, guardSeconds, secondaryApprovalSeconds, metricDelaySeconds } = checked;
    const wanted = verifySeconds !== undefined || guardSeconds !== undefined || secondaryApprovalSeconds !== undefined;
    const followUpFunction = wanted ? this.stepFunction('FollowUpSteps', 'follow-up', runtime, config, (p) => `cdk-rollback-triggers follow-up steps for ${p} (verification, guard window, secondary action)`, bound.path) : undefined;
    const followUp = followUpFunction ? this.followUpMachine(followUpFunction, bound, checked) : undefined;
    const arn = followUp?.stateMachineArn;
    const stateChange = this.stateChangeHandler(runtime, bound, {
      breaker: checked.breaker,
      verify: arn && verifySeconds !== undefined ? { stateMachineArn: arn, durationSeconds: verifySeconds, metricDelaySeconds } : undefined,
      guard: arn && guardSeconds !== undefined ? { stateMachineArn: arn, durationSeconds: guardSeconds, metricDelaySeconds } : undefined,
      secondary: arn && secondaryApprovalSeconds !== undefined ? { stateMachineArn: arn, approvalTimeoutSeconds: secondaryApprovalSeconds } : undefined,
    });
    followUp?.grantStartExecution(stateChange);
    if (followUpFunction) this.grantFollowUpActions(followUpFunction, bound, checked, target, config.mode === 'shadow');
    return { stateChange, followUp, followUpFunction };
  }

  /** The follow-up machine: the follow-up function's loop for the verification and the guard window, and the secondary action's question. */
  private followUpMachine(evaluator: IFunction, group: BoundGroup, checked: CheckedTriggerProps): StateMachine {
    // The longest flow, with the metric delay, the grace for reads and ten minutes to spare.
    const longest = Math.max(
      checked.verifySeconds !== undefined ? checked.verifySeconds + checked.metricDelaySeconds + VERIFY_GRACE_SECONDS : 0,
      checked.guardSeconds !== undefined ? checked.guardSeconds + checked.metricDelaySeconds + GUARD_GRACE_SECONDS : 0,
      checked.secondaryApprovalSeconds !== undefined ? checked.secondaryApprovalSeconds + SECONDARY_ACT_SECONDS : 0,
    );
    return new FollowUpStateMachine(this, 'FollowUp', {
      evaluator,
      applicationName: group.applicationName,
      deploymentGroupName: group.deploymentGroupName,
      auditBus: this.auditBus,
      logGroup: this.createLogGroup('FollowUpLogs'),
      maxRunTime: Duration.seconds(longest + 600),
      approval: checked.secondaryApprovalSeconds !== undefined,
    }).stateMachine;
  }

  /**
   * What the follow-up function may do besides the bake's reads: read the group's latest deployment (a newer
   * one ends a guard window) and, for the guard window and the secondary action, take traffic off a
   * bad version: CreateDeployment with an AppSpecContent revision (with GetDeploymentConfig on the
   * configuration and Get/RegisterApplicationRevision on the application, CodeDeploy permissions
   * reference) and `overrideAlarmConfiguration` (which needs UpdateDeploymentGroup: CodeDeploy API
   * reference, CreateDeployment); Lambda UpdateAlias on the function; ECS DescribeServices for the
   * AppSpec's container; and the one-time claim (UpdateItem records its result). In shadow mode a
   * guard window only audits (and secondaryAction is refused): it reads the group, nothing more.
   */
  private grantFollowUpActions(fn: Function, group: BoundGroup, checked: CheckedTriggerProps, target: TargetImpl, shadow: boolean): void {
    if (checked.guardSeconds === undefined && checked.secondaryApprovalSeconds === undefined) return;
    const stack = Stack.of(this);
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['codedeploy:GetDeploymentGroup', ...(shadow ? [] : ['codedeploy:CreateDeployment', 'codedeploy:UpdateDeploymentGroup'])],
        resources: [group.deploymentGroupArn],
      }),
    );
    if (shadow) return;
    const platform = target.platform;
    const config = platform === 'lambda' ? 'CodeDeployDefault.LambdaAllAtOnce' : 'CodeDeployDefault.ECSAllAtOnce';
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['codedeploy:GetDeploymentConfig'], resources: [stack.formatArn({ service: 'codedeploy', resource: 'deploymentconfig', resourceName: config, arnFormat: ArnFormat.COLON_RESOURCE_NAME })] }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['codedeploy:GetApplicationRevision', 'codedeploy:RegisterApplicationRevision'],
        resources: [stack.formatArn({ service: 'codedeploy', resource: 'application', resourceName: group.applicationName, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      }),
    );
    this.stateTable.grant(fn, 'dynamodb:UpdateItem');
    for (const [id, reason] of Object.entries(target.grantActions(this, fn, { updateAlias: checked.secondaryApprovalSeconds !== undefined }))) {
      Validations.of(fn).acknowledge({ id, reason });
    }
  }

  /** Shadow mode: the alarms exist (and are audited by CloudWatch) but CodeDeploy never polls them. */
  private leaveAlarmsDetached(): boolean {
    Annotations.of(this).addInfo(
      'Shadow mode: the rollback alarms are not attached to the deployment group and the hook reports Succeeded wherever it would report Failed; the audit trail shows what enforcing would have done (wouldRollback).',
    );
    return false;
  }

  /** Attaches the alarms to the deployment group (within its cap); returns whether the alarm path is suspended. */
  private attachAlarms(props: RollbackTriggerProps, target: TargetImpl, sloAlarms: IAlarm[], maxAlarms: number): boolean {
    const group = target.deploymentGroup;
    const alarms = this.rollbackAlarms;
    if (alarms.length > maxAlarms) {
      throw new RollbackTriggersError(
        'RT306',
        `the rollback path needs ${alarms.length} alarms on deployment group ${group.node.path}, above the cap of ${maxAlarms} ` +
          '(CodeDeploy API reference: 10 per group; the quotas page lists 50, adjustable). Use fewer objectives or alarm triggers, or raise maxAlarmsPerDeploymentGroup to your quota',
        { constructPath: this.node.path, prop: 'maxAlarmsPerDeploymentGroup' },
      );
    }
    for (const alarm of alarms) group.addAlarm(alarm);
    // Only the SLO alarms read the deployed version; the alarm triggers' metrics are the user's own.
    target.watchAlarms(sloAlarms);
    const fromContext = this.node.tryGetContext(RollbackTrigger.SUSPEND_ALARM_PATH_CONTEXT);
    const suspend = props.suspendAlarmPath ?? (fromContext === true || fromContext === 'true');
    if (suspend) {
      // CodeDeploy's own switch (AlarmConfiguration.Enabled = false, "ignore alarm configuration"):
      // the alarms stay attached but are not polled, so a deployment can start while one is in ALARM.
      (group.node.defaultChild as CfnDeploymentGroup).addPropertyOverride('AlarmConfiguration.Enabled', false);
      Annotations.of(this).addWarningV2(
        'cdk-rollback-triggers:alarmPathSuspended',
        'The alarm path is suspended: CodeDeploy ignores the SLO alarms of this deployment group, so only the evaluator hook can roll this release back. Remove the setting once the fix is out.',
      );
    }
    return suspend;
  }

  private createStateTable(): ITable {
    const table = new Table(this, 'StateTable', {
      partitionKey: { name: StateTableSchema.PARTITION_KEY, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: StateTableSchema.TTL_ATTRIBUTE,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledgeStateTable(table);
    return table;
  }

  /** A log group of a function or state machine of the trigger: kept a year. */
  private createLogGroup(id: string): LogGroup {
    const logGroup = new LogGroup(this, id, { retention: RetentionDays.ONE_YEAR });
    acknowledgeLogGroup(logGroup);
    return logGroup;
  }

  private createAuditBus(retention: Duration | undefined): IEventBus {
    const bus = new EventBus(this, 'AuditBus', { description: 'cdk-rollback-triggers audit events' });
    bus.archive('AuditArchive', {
      description: 'Every rollback-triggers audit event',
      eventPattern: { source: [AUDIT_EVENT_SOURCE] },
      retention: retention ?? Duration.days(ROLLBACK_TRIGGER_DEFAULTS.auditRetentionDays),
    });
    return bus;
  }

  private createDeadLetterQueue(): IQueue {
    const queue = new Queue(this, 'DeadLetters', {
      // SQS-managed encryption: EventBridge and Lambda can write to it without a key policy.
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledgeDeadLetterQueue(queue);
    return queue;
  }

  /** A step Lambda of a machine (the bake's evaluator, the follow-up function): the configuration, the table and the bus. */
  private stepFunction(id: string, bundle: string, runtime: Runtime, config: EvaluatorConfig, describe: (path: string) => string, groupPath: string): Function {
    return this.handler(id, bundle, runtime, {
      description: withinLimit(LAMBDA_DESCRIPTION_LIMIT, describe, groupPath),
      // One step: AWS reads retried for at most 60 s (STEP_RETRY_BUDGET_SECONDS), then HTTP probes
      // (at most 30 s, in parallel); the machine retries a crashed step once.
      timeout: Duration.seconds(120),
      environment: {
        [EvaluatorEnv.CONFIG]: Stack.of(this).toJsonString(config),
        [EvaluatorEnv.STATE_TABLE]: this.stateTable.tableName,
        [EvaluatorEnv.EVENT_BUS]: this.auditBus.eventBusName,
      },
    });
  }

  private starterHandler(runtime: Runtime, stateMachine: IStateMachine, deadlineSeconds: number, group: BoundGroup, shadow: boolean): Function {
    return this.handler('Starter', 'starter', runtime, {
      description: withinLimit(LAMBDA_DESCRIPTION_LIMIT, (p) => `cdk-rollback-triggers lifecycle hook of ${p}: starts the bake`, group.path),
      timeout: Duration.minutes(3),
      environment: {
        [StarterEnv.STATE_MACHINE_ARN]: stateMachine.stateMachineArn,
        [StarterEnv.EVENT_BUS]: this.auditBus.eventBusName,
        [StarterEnv.DEADLINE_SECONDS]: String(deadlineSeconds),
        [StarterEnv.APPLICATION_NAME]: group.applicationName,
        [StarterEnv.DEPLOYMENT_GROUP_NAME]: group.deploymentGroupName,
        // Shadow mode: the fallback reports Succeeded where it would fail closed.
        ...(shadow ? { [StarterEnv.SHADOW]: 'true' } : {}),
      },
      // CodeDeploy does not document whether it invokes hooks synchronously: if it is async, a
      // failed start is retried twice and then kept in the dead-letter queue.
      asyncDeadLetters: true,
    });
  }

  private stateChangeHandler(
    runtime: Runtime,
    group: BoundGroup,
    flows: { breaker?: BreakerSettings; verify?: VerifySettings; guard?: GuardSettings; secondary?: SecondarySettings },
  ): Function {
    const { breaker, verify, guard, secondary } = flows;
    return this.handler('StateChange', 'state-change', runtime, {
      description: withinLimit(LAMBDA_DESCRIPTION_LIMIT, (p) => `cdk-rollback-triggers deployment state changes of ${p}: known-good versions and rollback audit`, group.path),
      timeout: Duration.minutes(2),
      environment: {
        [StateChangeEnv.STATE_TABLE]: this.stateTable.tableName,
        [StateChangeEnv.EVENT_BUS]: this.auditBus.eventBusName,
        [StateChangeEnv.APPLICATION_NAME]: group.applicationName,
        [StateChangeEnv.DEPLOYMENT_GROUP_NAME]: group.deploymentGroupName,
        // The breaker counts the group's rollbacks and successes here.
        ...(breaker ? { [StateChangeEnv.BREAKER]: JSON.stringify(breaker) } : {}),
        // It starts a verification after each successful rollback.
        ...(verify ? { [StateChangeEnv.VERIFY]: JSON.stringify(verify) } : {}),
        // It starts a guard window after each successful release, a secondary action after each failed rollback.
        ...(guard ? { [StateChangeEnv.GUARD]: JSON.stringify(guard) } : {}),
        ...(secondary ? { [StateChangeEnv.SECONDARY]: JSON.stringify(secondary) } : {}),
      },
      asyncDeadLetters: true,
    });
  }

  /**
   * Deployment state changes: known-good on success, audit of every rollback (alarm path included);
   * rollbacks and escalations to the notification topic. EventBridge retries a failed delivery, then
   * keeps the event in the dead-letter queue.
   */
  private routeEvents(group: BoundGroup, stateChange: IFunction, checked: CheckedTriggerProps): void {
    // Questions come from the approval gate and the secondary action; the other flows' events only with their flow.
    const secondary = checked.secondaryApprovalSeconds !== undefined;
    const approval = checked.approvalTimeoutSeconds !== undefined || secondary;
    const breaker = checked.breaker !== undefined;
    const verify = checked.verifySeconds !== undefined;
    new Rule(this, 'DeploymentStateChange', {
      description: withinLimit(RULE_DESCRIPTION_LIMIT, (p) => `Audits rollbacks and records known-good versions of ${p}`, group.path),
      eventPattern: {
        source: [CODEDEPLOY_EVENT_SOURCE],
        detailType: [DEPLOYMENT_STATE_CHANGE_DETAIL_TYPE],
        detail: { application: [group.applicationName], deploymentGroup: [group.deploymentGroupName], state: [...HANDLED_DEPLOYMENT_STATES] },
      },
      targets: [new LambdaFunction(stateChange, { retryAttempts: 8, maxEventAge: Duration.hours(6), deadLetterQueue: this.deadLetterQueue })],
    });
    new Rule(this, 'RollbackNotices', {
      description: withinLimit(RULE_DESCRIPTION_LIMIT, (p) => `Sends rollbacks and escalations of ${p} to the notification topic`, group.path),
      eventBus: this.auditBus,
      eventPattern: {
        source: [AUDIT_EVENT_SOURCE],
        detailType: [
          AuditDetailType.ROLLBACK_TRIGGERED,
          AuditDetailType.ESCALATION_RAISED,
          AuditDetailType.ROLLBACK_COMPLETED,
          // The approval gate's or the secondary action's question (with its task token) and how it was answered.
          ...(approval ? [AuditDetailType.APPROVAL_REQUESTED, AuditDetailType.APPROVAL_ANSWERED] : []),
          ...(breaker ? [AuditDetailType.CIRCUIT_OPENED, AuditDetailType.CIRCUIT_CLOSED] : []),
          ...(verify ? [AuditDetailType.ROLLBACK_VERIFIED, AuditDetailType.ROLLBACK_UNHEALTHY] : []),
          ...(secondary ? [AuditDetailType.SECONDARY_ACTION_TAKEN] : []),
        ],
        detail: { deploymentGroupName: [group.deploymentGroupName] },
      },
      targets: [new SnsTopic(this.notificationTopic, { retryAttempts: 8, maxEventAge: Duration.hours(6), deadLetterQueue: this.deadLetterQueue })],
    });
  }

  /**
   * One of the trigger's Lambda functions, loaded from the prebuilt handlers in `assets/handlers/`
   * (scripts/bundle.mjs): the four functions deploy the same directory (one asset), each its own
   * entry, `<bundle>.mjs`, an ES module that imports the chunks it shares with the others (the
   * package carries the shared code once). Handler `<bundle>.handler` is the `handler` export of
   * `<bundle>.mjs`, as `index.handler` is that of index.mjs (Lambda developer guide, "Define Lambda
   * function handler in Node.js"). Lambda loads a `.mjs` file as an ES module, and from nodejs18.x
   * resolves ES-module imports of the AWS SDK v3 included in the runtime ("Building Lambda functions
   * with Node.js", "Designating a function handler as an ES module"), which the handlers import with
   * `import()` when they first need a client.
   */
  private handler(
    id: string,
    bundle: string,
    runtime: Runtime,
    options: { description: string; timeout: Duration; environment: Record<string, string>; asyncDeadLetters?: boolean },
  ): Function {
    const dir = path.join(ASSETS_DIR, 'handlers');
    const entry = path.join(dir, `${bundle}.mjs`);
    if (!fs.existsSync(entry)) {
      // Only a checkout of this repository can lack it: the published package ships the bundles.
      throw new RollbackTriggersError('RT399', `the ${bundle} handler ${entry} is missing — run "npm run bundle" (part of "npm run build")`);
    }
    if (runtime.family !== RuntimeFamily.NODEJS) {
      throw new RollbackTriggersError('RT315', `runtime must be a Node.js runtime (the handlers are JavaScript bundles), got ${runtime.name}`, {
        constructPath: this.node.path,
        prop: 'runtime',
      });
    }
    // 'nodejs' (0.10), 'nodejs4.3', 'nodejs16.x': before nodejs18.x, the runtime resolves no ES
    // module import of the AWS SDK v3 (nor includes SDK v3 at all).
    const major = /^nodejs(\d+)(?:\.|$)/.exec(runtime.name)?.[1] ?? (runtime.name === 'nodejs' ? '0' : undefined);
    if (major !== undefined && Number(major) < 18) {
      throw new RollbackTriggersError(
        'RT390',
        `runtime must be nodejs18.x or newer (the handlers are ES modules that import the AWS SDK v3 the runtime includes), got ${runtime.name}`,
        { constructPath: this.node.path, prop: 'runtime' },
      );
    }
    const fn = new Function(this, id, {
      description: options.description,
      runtime,
      handler: `${bundle}.handler`,
      code: Code.fromAsset(dir),
      timeout: options.timeout,
      memorySize: 256,
      logGroup: this.createLogGroup(`${id}Logs`),
      environment: options.environment,
      // Serverless-LambdaTracing: the SDK's StartExecution carries the function's X-Amzn-Trace-Id
      // (Step Functions API reference, traceHeader), so a hook's start, its traced bake and the
      // evaluator's steps read as one trace.
      tracing: Tracing.ACTIVE,
      ...(options.asyncDeadLetters ? { deadLetterQueue: this.deadLetterQueue, retryAttempts: 2, maxEventAge: Duration.hours(1) } : {}),
    });
    acknowledgeHandler(fn, options.asyncDeadLetters ? 'asynchronous' : 'synchronous');
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'The function writes its own logs; the AWS managed basic execution policy is the documented minimum for that.',
    });
    return fn;
  }

  /** Alarms (to the notification topic) when work is lost to the dead-letter queue or an execution fails. */
  private alarmOnLostWork(stateMachine: StateMachine, followUp: StateMachine | undefined): IAlarm[] {
    const action = new SnsAction(this.notificationTopic);
    const deadLetters = new Alarm(this, 'DeadLettersAlarm', {
      alarmDescription: 'cdk-rollback-triggers: a hook start, a deployment state change or a notice could not be delivered; it waits in the dead-letter queue',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const executions = this.executionFailuresAlarm('BakeFailuresAlarm', stateMachine, 'a bake execution failed, timed out or was aborted; its hook was reported fail-closed or needs a human');
    // A follow-up that could not end (its escalation refused too, or timed out) must not go unnoticed.
    const followUps =
      followUp &&
      this.executionFailuresAlarm('FollowUpFailuresAlarm', followUp, 'a follow-up execution (rollback verification, guard window or secondary action) failed, timed out or was aborted; a human should look');
    const alarms = [deadLetters, executions, ...(followUps ? [followUps] : [])];
    for (const alarm of alarms) alarm.addAlarmAction(action);
    return alarms;
  }

  /** One alarm on a state machine's failed, timed-out and aborted executions. */
  private executionFailuresAlarm(id: string, stateMachine: StateMachine, what: string): Alarm {
    return new Alarm(this, id, {
      alarmDescription: `cdk-rollback-triggers: ${what}`,
      metric: new MathExpression({
        // FILL: the three counts publish only when nonzero; metric math documents missing values
        // in arithmetic as 0, but every term is filled so no reading of it can drop the minute
        // (Metric math syntax and functions, CloudWatch User Guide). The counts are the state
        // machine's ExecutionsFailed, ExecutionsTimedOut and ExecutionsAborted, per StateMachineArn
        // ("Monitoring Step Functions metrics using Amazon CloudWatch", Step Functions Developer
        // Guide, https://docs.aws.amazon.com/step-functions/latest/dg/procedure-cw-metrics.html).
        expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
        usingMetrics: {
          failed: stateMachine.metricFailed({ period: Duration.minutes(1), statistic: 'Sum' }),
          timedOut: stateMachine.metricTimedOut({ period: Duration.minutes(1), statistic: 'Sum' }),
          aborted: stateMachine.metricAborted({ period: Duration.minutes(1), statistic: 'Sum' }),
        },
        period: Duration.minutes(1),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  private rollbackAlarmsFor(
    objectives: ServiceLevelObjective[],
    target: TargetImpl,
    baselineFactor: number,
  ): { alarms: IAlarm[]; slis: ScopedObjective[]; policyAlarms: PolicyRollbackAlarm[] } {
    const alarms: IAlarm[] = [];
    const policyAlarms: PolicyRollbackAlarm[] = [];
    const slis: ScopedObjective[] = [];
    /** SLO name by alarm signature: two identical rollback alarms would only count twice. */
    const owners = new Map<string, string>();
    // The deployment's steps, when known at synth: the alarms weigh the new version at its share
    // while it has served part of their window (lib/core/relative-alarm.ts, relativeExpectedBad).
    const shift = baselineFactor > 0 ? trafficShiftOf(target.deploymentGroup.deploymentConfig) : undefined;
    objectives.forEach((slo, i) => {
      const prop = `objectives[${i}]`;
      const tier = fastestPageTier(slo._policy.tiers);
      if (!tier) {
        throw new RollbackTriggersError(
          'RT307',
          `objectives contains SLO ${slo.sloName} (${slo.node.path}), which has no page tier; the rollback path rolls back on the fastest page tier — give it one (BurnRateTier.PAGE_1H)`,
          { constructPath: this.node.path, prop },
        );
      }
      // Its SLI must measure this target's traffic, not another function's or target group's.
      target.checkSli(this, slo, prop);
      // A version fixed at synth (Sli.agentSelfEvaluation({ version })) cannot follow the task sets
      // CodeDeploy releases on ECS: the evaluator and the alarm would judge whatever version the app
      // declared, possibly the previous one, and pass a release on its data.
      if (target.platform === 'ecs' && slo.sli._versionDimension !== undefined && slo.sli.scope === SliScope.VERSION) {
        throw new RollbackTriggersError(
          'RT148',
          `${prop}: SLO ${slo.sloName}'s SLI reads the version declared at synth (${slo.sli.description}); on ECS CodeDeploy releases task sets the app does not name, ` +
            'so the trigger could judge an older version than the one released — declare the SLI without version (blended) or judge the release on its target group (Sli.targetGroupAvailability)',
          { constructPath: this.node.path, prop },
        );
      }
      const scoped = target.scopedSlis(slo, baselineFactor);
      if (scoped.length === 0) {
        if (slo.sli.scope === SliScope.BLENDED) this.warnBlended(slo);
        scoped.push({ label: 'Declared', sli: slo.sli });
      }
      for (const declared of scoped) {
        const one: ScopedSli = declared.baseline && shift ? { ...declared, baseline: { ...declared.baseline, shift } } : declared;
        const alarm = this.rollbackAlarm(slo, prop, tier, one, owners);
        alarms.push(alarm);
        policyAlarms.push(
          rollbackAlarmEntry(
            slo.sloName,
            tier,
            {
              scope: POLICY_SCOPE[one.label],
              metricCount: countsMetricCount(one.sli._counts),
              baseline: one.baseline ? { mode: one.baseline.mode, metricCount: countsMetricCount(one.baseline.counts), ...(shift ? { shift } : {}) } : undefined,
            },
            baselineFactor,
          ),
        );
        // The evaluator reads blue and green itself: one entry per objective.
        if (one.label !== 'Blue') slis.push({ slo, sli: one.sli, tier });
      }
    });
    return { alarms, slis, policyAlarms };
  }

  private warnBlended(slo: ServiceLevelObjective): void {
    Annotations.of(this).addWarningV2(
      'cdk-rollback-triggers:blendedSli',
      `SLO ${slo.sloName} measures all traffic blended: a 10 % canary of a version that fails every request looks like 10 % errors, ` +
        'so its alarm needs ~9 minutes where a per-version one needs ~1. Use a convenience SLI (Sli.lambdaAvailability(alias), Sli.targetGroupAvailability(tg)) ' +
        'or a raw SLI scoped to the new version. Read as declared (metrics without the version or a target group), ' +
        'the evaluator judges only the minutes after all traffic reached the new version.',
    );
  }

  /** One rollback alarm: the tier's short window on one scoped SLI, against its baseline; `prop` names the objective (`objectives[1]`). */
  private rollbackAlarm(slo: ServiceLevelObjective, prop: string, tier: PolicyTier, { label, sli, baseline }: ScopedSli, owners: Map<string, string>): IAlarm {
    // The new version's counts and its baseline's are metrics of the same alarm: ECS target-group
    // availability reads 5 per target group (RequestCount and the targets' 2xx–5xx), 10 in all,
    // CloudWatch's limit for a metric-math alarm.
    const metricCount = countsMetricCount(sli._counts) + (baseline ? countsMetricCount(baseline.counts) : 0);
    const expressionCount = 1 + (sli._counts.derivedBad ? 1 : 0) + (baseline?.counts.derivedBad ? 1 : 0);
    atConstruct(this, () => validateMathAlarmSize(`the rollback alarm of SLO ${slo.sloName} (${label.toLowerCase()})`, metricCount, expressionCount));
    const traffic = label === 'NewVersion' ? "the deployed version's own traffic" : `the ${label.toLowerCase()} traffic`;
    const description =
      `Rollback trigger for SLO ${slo.sloName}: burn rate over ${formatSeconds(tier.shortWindowSeconds)} ≥ ${tier.factor}× on ${traffic} (tier ${tier.name})` +
      (baseline ? `, while it fails more than ${baseline.factor}× as often as the rest of the traffic.` : '.');
    atConstruct(this, () => validateAlarmDescription(`the description of the rollback alarm of SLO ${slo.sloName} (built from its sloName)`, description));
    const request: WindowAlarmRequest = {
      baseline,
      counts: sli._counts,
      // The short window: on a new version the long one would only hold the minutes since the
      // release, while the baseline's covers the whole hour (unequal windows, a shared blip fires).
      windowSeconds: tier.shortWindowSeconds,
      errorBudget: slo.errorBudget,
      factor: tier.factor,
      minEvents: tier.minEventsPerWindow,
      label: `${slo.sloName} burn rate of the ${label === 'NewVersion' ? 'deployed version' : label.toLowerCase()} over ${formatSeconds(tier.shortWindowSeconds)}`,
      description,
    };
    // Two objectives with the same SLI and objective render identical alarms: the group would
    // poll the same burn rate twice, against its alarm cap, and the plan count it for both.
    const signature = windowAlarmSignature(this, request);
    const owner = owners.get(signature);
    if (owner !== undefined) {
      throw new RollbackTriggersError(
        'RT326',
        `objectives contains SLO ${slo.sloName} and SLO ${owner}, which measure the same SLI with the same objective and tier: ` +
          'they share one rollback alarm, which would be attached to the deployment group twice — pass one of them',
        { constructPath: this.node.path, prop },
      );
    }
    owners.set(signature, slo.sloName);
    // Created under the trigger: its logical id is the trigger's and the SLO's construct id.
    return windowAlarm(this, `${slo.node.id}${label}${tier.name}`, request).alarm;
  }

  private evaluatorConfig(
    props: RollbackTriggerProps,
    slis: ScopedObjective[],
    checked: CheckedTriggerProps,
    inconclusiveAction: InconclusiveAction,
    group: BoundGroup,
    healthChecks: EvaluatorHealthCheck[] | undefined,
  ): EvaluatorConfig {
    const specs = new EvaluatorMetricSpecs(Stack.of(this));
    const slos: EvaluatorSlo[] = [];
    for (const scoped of slis) {
      const slo = specs.slo(scoped);
      if (slo) {
        slos.push(slo);
      } else {
        Annotations.of(this).addWarningV2(
          'cdk-rollback-triggers:evaluatorSkipsMath',
          `SLO ${scoped.slo.sloName}'s SLI uses metric math of its own; the evaluator reads plain metrics and the library's derived counts only, so only the alarm path guards this SLO`,
        );
      }
    }
    if (slos.length === 0) {
      throw new RollbackTriggersError('RT308', 'no objective can be read by the evaluator (all use metric math)', { constructPath: this.node.path, prop: 'objectives' });
    }
    const target = props.target._impl;
    // HeartbeatTriggers among the alarm triggers: the evaluator judges the new version's own beats too.
    const heartbeats = heartbeatsForEvaluator(this.node.path, props.alarmTriggers, checked);
    // On ECS the evaluator knows the new version only as CodeDeploy's task set id, which a worker
    // cannot put in its beats: a per-version heartbeat would read nothing and hold every release.
    const perVersion = heartbeats.find((h) => h.versionDimension !== undefined);
    if (target.platform === 'ecs' && perVersion) {
      throw new RollbackTriggersError(
        'RT351',
        `alarmTriggers: heartbeat ${perVersion.name} has versionDimension "${perVersion.versionDimension}", but on ECS the new version is a CodeDeploy task set id the workers do not know, ` +
          'so no beat would carry it and every release would end inconclusive — leave versionDimension out on ECS (the beats are judged on the whole service)',
        { constructPath: this.node.path, prop: 'alarmTriggers' },
      );
    }
    const config: EvaluatorConfig = {
      schemaVersion: EVALUATOR_CONFIG_SCHEMA_VERSION,
      platform: target.platform,
      mode: props.mode === TriggerMode.SHADOW ? 'shadow' : 'enforce',
      bakeSeconds: checked.bakeSeconds,
      tickSeconds: ROLLBACK_TRIGGER_DEFAULTS.tickSeconds,
      inconclusiveAction: inconclusiveAction === InconclusiveAction.PASS ? 'pass' : 'fail',
      ...(checked.approvalTimeoutSeconds !== undefined ? { approval: { timeoutSeconds: checked.approvalTimeoutSeconds, escalateInconclusive: checked.escalateInconclusive } } : {}),
      ...(checked.breaker ? { breaker: checked.breaker } : {}),
      deadlineMarginSeconds: HOOK_LIMIT_SECONDS - checked.deadlineSeconds,
      // The evaluator refuses deployments of any other group (a hook wired to the wrong group).
      applicationName: group.applicationName,
      deploymentGroupName: group.deploymentGroupName,
      metricDelaySeconds: checked.metricDelaySeconds,
      compareWithBaseline: props.compareWithBaseline ?? ROLLBACK_TRIGGER_DEFAULTS.compareWithBaseline,
      baselineFactor: checked.baselineFactor,
      healthChecks,
      ...(heartbeats.length > 0 ? { heartbeats } : {}),
      slos,
      dimensionSets: specs.dimensionSets,
      targetGroups: target.evaluatorTargetGroups(),
    };
    // Each tick reads everything in one GetMetricData call: one consistent snapshot.
    // The bake's tick reads its heartbeats in the same call (two queries each per version: the new one's and the current one's).
    const heartbeatQueries = buildHeartbeatQueries(config.heartbeats, { toVersion: 'new', fromVersion: 'current' }).length;
    validateQueriesPerTick(`${this.node.path}: the evaluator`, queriesPerTick(config) + heartbeatQueries);
    return config;
  }

  private checkEnvironmentSize(config: EvaluatorConfig): void {
    // Tokens are resolved at deploy; count each as a 64-character value (function and target group names).
    const estimate = JSON.stringify(config).replace(/\$\{Token\[[^\]]+\]\}/g, 'x'.repeat(64)).length + 200;
    if (estimate > LAMBDA_ENVIRONMENT_LIMIT_BYTES) {
      throw new RollbackTriggersError(
        'RT309',
        `the evaluator configuration needs about ${estimate} bytes of environment, above Lambda's ${LAMBDA_ENVIRONMENT_LIMIT_BYTES}; split the objectives over two triggers`,
        { constructPath: this.node.path, prop: 'objectives' },
      );
    }
  }

  private grantHandlers(
    fns: { evaluator: Function; starter: Function; stateChange: Function; stateMachine: StateMachine; followUp?: Function },
    deploymentGroupArn: string,
    target: TargetImpl,
  ): void {
    const { evaluator, starter, stateChange, stateMachine, followUp } = fns;
    // The follow-up function reads and decides as the evaluator does.
    const steps = [evaluator, ...(followUp ? [followUp] : [])];
    const readers = [...steps, stateChange];
    // Service Authorization Reference for CodeDeploy: GetDeployment takes the deploymentgroup
    // resource; ListDeploymentTargets and BatchGetDeploymentTargets define no resource type, so
    // only "*" grants them (read-only; the evaluator refuses deployments of other groups itself).
    for (const fn of readers) {
      fn.addToRolePolicy(new PolicyStatement({ actions: ['codedeploy:GetDeployment'], resources: [deploymentGroupArn] }));
      fn.addToRolePolicy(new PolicyStatement({ actions: ['codedeploy:ListDeploymentTargets', 'codedeploy:BatchGetDeploymentTargets'], resources: ['*'] }));
    }
    // The starter's fallback when Step Functions cannot be reached: read the deployment, report.
    starter.addToRolePolicy(
      new PolicyStatement({ actions: ['codedeploy:GetDeployment', 'codedeploy:PutLifecycleEventHookExecutionStatus'], resources: [deploymentGroupArn] }),
    );
    stateMachine.grantStartExecution(starter);
    starter.addToRolePolicy(
      new PolicyStatement({
        actions: ['states:DescribeExecution'],
        resources: [
          Stack.of(this).formatArn({ service: 'states', resource: 'execution', resourceName: `${stateMachine.stateMachineName}:*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
        ],
      }),
    );
    // GetMetricData has no resource-level permissions.
    for (const fn of steps) fn.addToRolePolicy(new PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
    for (const fn of [...readers, starter]) this.auditBus.grantPutEventsTo(fn);
    // The evaluator reads known-good records and records the first bad signal; the state-change
    // handler records known-good versions and reads the first bad signal.
    for (const fn of readers) this.stateTable.grant(fn, 'dynamodb:GetItem', 'dynamodb:PutItem');
    const acknowledgements: Record<string, string> = {
      'AwsSolutions-IAM5[Resource::*]':
        'cloudwatch:GetMetricData, codedeploy:ListDeploymentTargets, codedeploy:BatchGetDeploymentTargets, ecs:DescribeTaskSets and ecs:DescribeTaskDefinition support no resource-level permissions.',
    };
    for (const fn of readers) Object.assign(acknowledgements, target.grantReads(this, fn));
    for (const fn of readers) {
      for (const [id, reason] of Object.entries(acknowledgements)) Validations.of(fn).acknowledge({ id, reason });
    }
    const stack = Stack.of(this);
    // cdk-nag names a finding after the resolved resource: pseudo parameters in <>, literals as is.
    const literal = (value: string, pseudo: string) => (Token.isUnresolved(value) ? `<${pseudo}>` : value);
    Validations.of(starter).acknowledge({
      id:
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${literal(stack.region, 'AWS::Region')}:${literal(stack.account, 'AWS::AccountId')}:` +
        `execution:<${stack.getLogicalId(stateMachine.node.defaultChild as CfnElement)}.Name>:*]`,
      reason: 'Reads the status of this state machine’s executions only (a duplicate hook invocation); execution names are only known at run time.',
    });
    // The bake machine and the follow-up machine each run their own step function, traced and logged alike.
    for (const machine of [stateMachine, ...(this.followUpStateMachine ? [this.followUpStateMachine] : [])]) {
      Validations.of(machine).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId((machine === stateMachine ? evaluator : followUp!).node.defaultChild as CfnElement)}.Arn>:*]`,
        reason: 'aws-cdk-lib lets the machine invoke its step function and its versions; no other function is named.',
      });
      Validations.of(machine).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray tracing (xray:PutTraceSegments, …) and CloudWatch Logs delivery (logs:CreateLogDelivery, …) support no resource-level permissions.',
      });
      acknowledgeDefaultPolicy(machine);
    }
  }

  private createTopic(): ITopic {
    const key = new Key(this, 'NoticesKey', { enableKeyRotation: true, description: 'Encrypts rollback-triggers notices' });
    // EventBridge (the notices rule) and CloudWatch (the operational alarms) publish to an
    // encrypted topic only with a customer managed key they may use (SNS developer guide,
    // "Encryption at rest": key policy for AWS service event sources).
    const publishers = [new ServicePrincipal('events.amazonaws.com'), new ServicePrincipal('cloudwatch.amazonaws.com')];
    for (const principal of publishers) key.grant(principal, 'kms:Decrypt', 'kms:GenerateDataKey*');
    const topic = new Topic(this, 'Notices', { enforceSSL: true, masterKey: key, displayName: 'Rollback notices' });
    // The topic policy replaces SNS's default one: CloudWatch alarms of this account may publish.
    topic.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    return topic;
  }

  private validateDeploymentGroup(cfn: CfnDeploymentGroup, maxAlarms: number, inconclusiveAction: InconclusiveAction, shadow: boolean): string[] {
    const errors: string[] = [];
    const stack = Stack.of(this);
    const alarmConfig = stack.resolve(cfn.alarmConfiguration) as { alarms?: unknown[]; ignorePollAlarmFailure?: boolean } | undefined;
    const count = alarmConfig?.alarms?.length ?? 0;
    if (count > maxAlarms) {
      errors.push(
        errorText('RT306', `deployment group ${cfn.node.path} carries ${count} alarms, above the cap of ${maxAlarms} (CodeDeploy API reference: 10). Raise maxAlarmsPerDeploymentGroup if your quota is higher`),
      );
    }
    if (alarmConfig?.ignorePollAlarmFailure === true && inconclusiveAction === InconclusiveAction.FAIL) {
      Annotations.of(this).addWarningV2(
        'cdk-rollback-triggers:ignorePollAlarmsFailure',
        'The deployment group ignores alarm-poll failures (the alarm path fails open) while the evaluator fails closed on missing data; choose one policy.',
      );
    }
    errors.push(...compositeAlarmsOfGroup(this, cfn));
    const rollback = stack.resolve(cfn.autoRollbackConfiguration) as { enabled?: boolean; events?: string[] } | undefined;
    // Shadow mode attaches no alarm, and aws-cdk-lib refuses deploymentInAlarm on a group without one.
    const needed = shadow ? ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST'] : ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_ALARM', 'DEPLOYMENT_STOP_ON_REQUEST'];
    const missing = needed.filter((e) => !(rollback?.enabled !== false && rollback?.events?.includes(e)));
    if (missing.length > 0) {
      errors.push(
        errorText(
          'RT303',
          `deployment group ${cfn.node.path} does not roll back on ${missing.join(', ')}; set autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: ${!shadow} }` +
            (shadow ? ' (shadow mode attaches no alarm, so deploymentInAlarm stays false)' : ''),
        ),
      );
    }
    return errors;
  }
}

/**
 * A health check as the policy carries it: the evaluator configuration's entry without the probe's
 * timeout (the simulator does not probe). A canary name or URL known only at deploy time (a token,
 * such as a `Canary`'s `canaryName`) is left out: the policy is plain JSON; the simulator then finds
 * the canary's values in the series under the check's name.
 */
function policyHealthCheck(check: EvaluatorHealthCheck): PolicyHealthCheck {
  const known = (value: string | undefined) => value !== undefined && !Token.isUnresolved(value);
  return check.kind === 'synthetics'
    ? {
        kind: 'synthetics',
        name: check.name,
        ...(known(check.canaryName) ? { canaryName: check.canaryName } : {}),
        minSuccessPercent: check.minSuccessPercent,
      }
    : {
        kind: 'http',
        name: check.name,
        ...(known(check.url) ? { url: check.url } : {}),
        failAfter: check.failAfter,
      };
}

/** The deployment group as the target's bind() gives it, with its construct path for messages. */
type BoundGroup = RollbackTargetConfig & { readonly path: string };

/** The policy's name for the traffic a rollback alarm watches. */
const POLICY_SCOPE: Record<ScopedSli['label'], PolicyRollbackAlarm['scope']> = { NewVersion: 'version', Blue: 'blue', Green: 'green', Declared: 'declared' };

/** The newest Node.js runtime the installed aws-cdk-lib knows (nodejs20.x is flagged deprecated). */
function newestNodeRuntime(): Runtime {
  const candidates = Object.entries(Runtime)
    .filter(([key, value]) => /^NODEJS_\d+_X$/.test(key) && value instanceof Runtime && value.family === RuntimeFamily.NODEJS)
    .map(([key, value]) => ({ major: Number(key.split('_')[1]), runtime: value as Runtime }))
    .sort((a, b) => b.major - a.major);
  return candidates[0]?.runtime ?? Runtime.NODEJS_LATEST;
}
