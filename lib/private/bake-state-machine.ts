import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { IEventBus } from 'aws-cdk-lib/aws-events';
import { IFunction } from 'aws-cdk-lib/aws-lambda';
import { ILogGroup } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  Errors,
  Fail,
  IChainable,
  IntegrationPattern,
  JitterType,
  JsonPath,
  LogLevel,
  Pass,
  Result,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { CallAwsService, EventBridgePutEvents, LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { APPROVAL_REJECTED_ERROR } from '../core/approval';
import { AUDIT_EVENT_SOURCE, AUDIT_SCHEMA_VERSION, AuditDetailType } from '../core/audit-events';
import { ROLLBACK_DEPLOYMENT_CREATORS } from '../core/deployment-kind';
import { HOOK_LIMIT_SECONDS } from '../core/evaluator-config';

/** Error names of the AWS SDK integration: `<Service>.<Exception>` (Step Functions developer guide, "AWS SDK service integrations"). */
const ALREADY_COMPLETED = 'CodeDeploy.LifecycleEventAlreadyCompletedException';
/** CodeDeploy errors that a retry cannot change: report them to the evaluator at once. */
const FINAL_REPORT_ERRORS = [
  ALREADY_COMPLETED,
  'CodeDeploy.DeploymentDoesNotExistException',
  'CodeDeploy.InvalidDeploymentIdException',
  'CodeDeploy.LifecycleEventHookExecutionIdRequiredException',
  'CodeDeploy.InvalidLifecycleEventHookExecutionIdException',
  'CodeDeploy.InvalidLifecycleEventHookExecutionStatusException',
  'CodeDeploy.UnsupportedActionForDeploymentTypeException',
];
/** Lambda service errors worth retrying (Step Functions developer guide, "Handling errors": Lambda service exceptions). */
const LAMBDA_SERVICE_ERRORS = ['Lambda.ClientExecutionTimeoutException', 'Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException'];
/** The execution's input, read from the context object: a state rebuilt from it needs no step's answer. */
const EXECUTION_INPUT = {
  'deploymentId.$': '$$.Execution.Input.deploymentId',
  'lifecycleEventHookExecutionId.$': '$$.Execution.Input.lifecycleEventHookExecutionId',
  'hookStartedAt.$': '$$.Execution.Input.hookStartedAt',
  'deadline.$': '$$.Execution.Input.deadline',
};

export interface BakeStateMachineProps {
  /** The stateless step Lambda (lambda/evaluator). */
  readonly evaluator: IFunction;
  readonly deploymentGroupArn: string;
  /** Named in every audit event the machine sends (the notices rule matches on the group name). */
  readonly applicationName: string;
  readonly deploymentGroupName: string;
  readonly auditBus: IEventBus;
  readonly logGroup: ILogGroup;
  /** Shadow mode: where the machine would fail closed it reports Succeeded, audited with `wouldRollback`. */
  readonly shadow?: boolean;
  /**
   * The approval gate: the machine can ask a human (`next: 'approve'`) and wait for the answer.
   * Without it the states do not exist, and an evaluator asking for one is treated as a crash.
   */
  readonly approval?: boolean;
}

/**
 * A step of the stateless evaluator Lambda: the whole state in, the whole next state out, retried
 * on Lambda service errors and once on a crash or timeout (with the same state).
 */
export function evaluatorStep(scope: Construct, stateId: string, fn: IFunction): LambdaInvoke {
  const task = new LambdaInvoke(scope, stateId, {
    lambdaFunction: fn,
    // No Payload: the function receives the whole state and returns the next one.
    payloadResponseOnly: true,
    retryOnServiceExceptions: false,
    // The evaluator's own timeout (120 s) is shorter; this only bounds a lost invocation.
    taskTimeout: Timeout.duration(Duration.seconds(130)),
  });
  task.addRetry({ errors: LAMBDA_SERVICE_ERRORS, interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2, maxDelay: Duration.seconds(30), jitterStrategy: JitterType.FULL });
  // A crashed or timed-out step runs again with the same state: the evaluator is stateless and
  // decides the same on the same data. One retry of a 2-minute step: a step hanging at the
  // 55-minute deadline still leaves the fail-closed report inside CodeDeploy's hour.
  task.addRetry({ errors: [Errors.TASKS_FAILED, Errors.TIMEOUT], interval: Duration.seconds(2), maxAttempts: 1 });
  return task;
}

/**
 * A question to a human: an `Approval Requested` audit event carrying the task token (EventBridge
 * PutEvents, `.waitForTaskToken`: the execution waits for SendTaskSuccess / SendTaskFailure on the
 * token; Step Functions developer guide, "Wait for a Callback with Task Token"), routed to the
 * notification topic, with the commands that answer it. The request at `requestPath` (its
 * `timeoutSeconds` ends the wait; TimeoutSecondsPath) travels in the event as `approval`; the answer
 * lands in `<requestPath>.answer`, and the caller's Catch puts an error in `<requestPath>.error`.
 *
 * No Retry: a rejection arrives as an error too, and retrying would ask again.
 */
export function askForAnswer(
  scope: Construct,
  props: { readonly auditBus: IEventBus; readonly applicationName: string; readonly deploymentGroupName: string },
  ask: { readonly requestPath: string; readonly fields: Record<string, unknown> },
): EventBridgePutEvents {
  const executionArn = JsonPath.stringAt('$$.Execution.Id');
  return new EventBridgePutEvents(scope, 'Ask for approval', {
    comment: 'Waits for SendTaskSuccess (approve) or SendTaskFailure Rejected (reject) on the task token, or the timeout',
    integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    entries: [
      {
        eventBus: props.auditBus,
        source: AUDIT_EVENT_SOURCE,
        detailType: AuditDetailType.APPROVAL_REQUESTED,
        detail: TaskInput.fromObject({
          schemaVersion: AUDIT_SCHEMA_VERSION,
          idempotencyKey: JsonPath.format(`${AuditDetailType.APPROVAL_REQUESTED.replace(/ /g, '')}:{}:{}`, JsonPath.stringAt('$$.Execution.Input.deploymentId'), JsonPath.stringAt('$$.Execution.Input.lifecycleEventHookExecutionId')),
          occurredAt: JsonPath.stringAt('$$.State.EnteredTime'),
          deploymentId: JsonPath.stringAt('$$.Execution.Input.deploymentId'),
          applicationName: props.applicationName,
          deploymentGroupName: props.deploymentGroupName,
          ...ask.fields,
          approval: JsonPath.objectAt(ask.requestPath),
          executionArn,
          taskToken: JsonPath.taskToken,
          howToAnswer: {
            approve: JsonPath.format('npx rollback-triggers approve --execution {}', executionArn),
            reject: JsonPath.format('npx rollback-triggers reject --execution {}', executionArn),
            awsCliApprove: `aws stepfunctions send-task-success --task-token "$TASK_TOKEN" --task-output '{"approvedBy":"YOUR NAME"}'`,
            awsCliReject: `aws stepfunctions send-task-failure --task-token "$TASK_TOKEN" --error ${APPROVAL_REJECTED_ERROR} --cause '{"approvedBy":"YOUR NAME","reason":"WHY"}'`,
          },
        }),
      },
    ],
    taskTimeout: Timeout.at(`${ask.requestPath}.timeoutSeconds`),
    resultPath: `${ask.requestPath}.answer`,
  });
}

/**
 * The bake on AWS Step Functions Standard: durable waits, retries, one report per hook and a
 * fail-closed Catch-all. The topology and the contract with the evaluator are documented in
 * lib/core/bake.ts (BakeNext); every decision is the evaluator's (lib/core), the machine only
 * carries the state, waits, reports and catches.
 */
export class BakeStateMachine extends Construct {
  public readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: BakeStateMachineProps) {
    super(scope, id);
    // The order in which states are joined sets the order of the definition's States (CDK walks
    // each state's incoming transitions in join order): moving a join changes the template.
    const evaluate = this.evaluate(props.evaluator);
    const audit = this.fallbackAudit(props);
    const failClosed = this.failClosed(props, audit.start);
    const report = this.report('Report', props.deploymentGroupArn, JsonPath.stringAt('$.report.status'));
    const evaluateStep = this.tickLoop(evaluate, report, failClosed, props);
    this.afterReport(report, evaluate, audit);

    this.stateMachine = new StateMachine(this, 'Resource', {
      comment: 'cdk-rollback-triggers: bakes a CodeDeploy release and reports its lifecycle hook once',
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(this.setPhase('Start', 'resolve').next(evaluateStep)),
      // A guard against a runaway loop only: CodeDeploy fails an unreported hook after one hour,
      // and the evaluator decides by the deadline (55 min by default).
      timeout: Duration.seconds(HOOK_LIMIT_SECONDS + 600),
      tracingEnabled: true,
      logs: { destination: props.logGroup, level: LogLevel.ALL, includeExecutionData: true },
    });
    this.stateMachine.applyRemovalPolicy(RemovalPolicy.DESTROY);
  }

  /**
   * The bake's loop: evaluate; on the evaluator's word wait (minding the report-by time) and
   * evaluate again, report, or stop. A crash of the step goes to the fail-closed report.
   */
  private tickLoop(
    evaluate: (stateId: string) => LambdaInvoke,
    report: CallAwsService,
    failClosed: { start: IChainable; unexpected: IChainable },
    props: BakeStateMachineProps,
  ): LambdaInvoke {
    const evaluateStep = evaluate('Evaluate');
    const wait = new Wait(this, 'Wait', { comment: 'Until the next tick (or the retry of an unreadable deployment)', time: WaitTime.secondsPath('$.waitSeconds') });
    const next = this.nextStep(wait, report, failClosed.unexpected, props.approval === true);
    const guard = this.reportByGuard(failClosed.start, evaluateStep);
    wait.next(guard);
    // After the wait for a human, the same report-by guard as after any wait: past it, fail closed.
    if (props.approval) next.when(Condition.stringEquals('$.next', 'approve'), this.askForApproval(props, guard));
    evaluateStep.addCatch(failClosed.start, { errors: [Errors.ALL], resultPath: '$.crash' });
    evaluateStep.next(next);
    return evaluateStep;
  }

  /**
   * Where the evaluator's answer leads: wait, report or done; anything else is a crash.
   *
   * A Choice whose Variable is missing fails the execution with States.Runtime, which no Catch
   * catches (Step Functions developer guide, "Error names"): every path a rule reads is checked
   * with IsPresent first, in the same And/Or (evaluated in order, as the guide's IsPresent example
   * relies on).
   */
  private nextStep(wait: Wait, report: CallAwsService, unexpected: IChainable, approval: boolean): Choice {
    const absentOr = (path: string, condition: Condition) => Condition.or(Condition.not(Condition.isPresent(path)), condition);
    const missing = (...paths: string[]) => Condition.or(...paths.map((p) => Condition.not(Condition.isPresent(p))));
    const malformed = Condition.or(
      Condition.not(Condition.isPresent('$.next')),
      Condition.not(Condition.isString('$.next')),
      Condition.and(Condition.stringEquals('$.next', 'wait'), absentOr('$.waitSeconds', Condition.not(Condition.isNumeric('$.waitSeconds')))),
      Condition.and(Condition.stringEquals('$.next', 'report'), absentOr('$.report.status', Condition.not(Condition.isString('$.report.status')))),
      // Every path the request's Parameters read: a missing one is a States.Runtime no Catch catches.
      ...(approval
        ? [
            Condition.and(
              Condition.stringEquals('$.next', 'approve'),
              Condition.or(
                missing('$.approval', '$.report.verdict', '$.report.reasons', '$.report.observations'),
                absentOr('$.approval.timeoutSeconds', Condition.not(Condition.isNumeric('$.approval.timeoutSeconds'))),
              ),
            ),
          ]
        : []),
    );
    return new Choice(this, 'Next step')
      .when(malformed, unexpected)
      .when(Condition.stringEquals('$.next', 'wait'), wait)
      .when(Condition.stringEquals('$.next', 'report'), report)
      .when(Condition.stringEquals('$.next', 'done'), new Succeed(this, 'Done'))
      .otherwise(unexpected);
  }

  /**
   * The approval gate: an `Approval Requested` audit event carrying the task token (EventBridge
   * PutEvents, `.waitForTaskToken`: the execution waits for SendTaskSuccess / SendTaskFailure on the
   * token; Step Functions developer guide, "Wait for a Callback with Task Token"), routed to the
   * notification topic. The wait ends by the evaluator's `timeoutSeconds` (TimeoutSecondsPath,
   * cut by the evaluator to end 5 min before the report-by time). An answer, a rejection, the
   * timeout or a request EventBridge refused all go through the report-by guard to the evaluator,
   * which applies core's rule and reports.
   *
   * No Retry: a rejection arrives as an error too, and retrying would ask again.
   */
  private askForApproval(props: BakeStateMachineProps, afterAnswer: IChainable): EventBridgePutEvents {
    const ask = askForAnswer(this, props, {
      requestPath: '$.approval',
      fields: {
        lifecycleEventHookExecutionId: JsonPath.stringAt('$$.Execution.Input.lifecycleEventHookExecutionId'),
        verdict: JsonPath.stringAt('$.report.verdict'),
        reasons: JsonPath.listAt('$.report.reasons'),
        observations: JsonPath.listAt('$.report.observations'),
      },
    });
    const answered = this.setPhase('Answered', 'approval');
    ask.addCatch(answered, { errors: [Errors.ALL], resultPath: '$.approval.error' });
    ask.next(answered);
    answered.next(afterAnswer);
    return ask;
  }

  /**
   * The machine's own deadline: past `reportBy` (hook start + 57 min) it stops waiting for the
   * evaluator and reports fail-closed, inside CodeDeploy's one-hour hook limit.
   */
  private reportByGuard(failClosed: IChainable, evaluateStep: LambdaInvoke): IChainable {
    const clock = new Pass(this, 'Clock', { parameters: { 'now.$': '$$.State.EnteredTime' }, resultPath: '$.clock' });
    const pastReportBy = new Choice(this, 'Past report-by?')
      .when(
        Condition.and(Condition.isPresent('$.reportBy'), Condition.timestampGreaterThanEqualsJsonPath('$.clock.now', '$.reportBy')),
        new Pass(this, 'Report-by passed', {
          parameters: { Error: 'DeadlinePassed', Cause: 'the evaluator had not decided (or a human had not answered) by the report-by time (hook start + 57 min)' },
          resultPath: '$.crash',
        }).next(failClosed),
      )
      .otherwise(evaluateStep);
    return clock.next(pastReportBy);
  }

  /**
   * After the report, the hook is decided: the evaluator audits the verdict, or reads what
   * CodeDeploy applied when the report was refused as already completed, or escalates a report
   * that failed. A crash or a strange answer there must never report again (a second status would
   * be refused as already completed, and the fail-closed audit would contradict what CodeDeploy
   * applied): it is audited straight from the machine instead.
   */
  private afterReport(report: CallAwsService, evaluate: (stateId: string) => LambdaInvoke, audit: { afterDecided: IChainable; unexpectedAfterDecided: IChainable }): void {
    const afterReport = evaluate('Audit verdict');
    const afterAlreadyCompleted = evaluate('Audit already completed');
    const afterReportFailed = evaluate('Escalate report failure');
    report.addCatch(this.setPhase('Already completed', 'already-completed').next(afterAlreadyCompleted), { errors: [ALREADY_COMPLETED], resultPath: '$.reportError' });
    report.addCatch(this.setPhase('Report failed', 'report-failed').next(afterReportFailed), { errors: [Errors.ALL], resultPath: '$.reportError' });
    report.next(this.setPhase('Reported', 'reported').next(afterReport));
    for (const step of [afterReport, afterAlreadyCompleted, afterReportFailed]) {
      step.addCatch(audit.afterDecided, { errors: [Errors.ALL], resultPath: '$.crash' });
    }
    afterReport.next(this.afterDecided('After verdict', audit.unexpectedAfterDecided));
    afterAlreadyCompleted.next(this.afterDecided('After already completed', audit.unexpectedAfterDecided));
    afterReportFailed.next(this.afterDecided('After report failure', audit.unexpectedAfterDecided));
  }

  /** The end of a decided hook: done, failed (the report could not be made), or an answer audited by the machine. */
  private afterDecided(stateId: string, unexpected: IChainable): Choice {
    const nextIs = (value: string) => Condition.and(Condition.isPresent('$.next'), Condition.isString('$.next'), Condition.stringEquals('$.next', value));
    return new Choice(this, stateId)
      .when(nextIs('done'), new Succeed(this, `${stateId}: done`))
      .when(nextIs('fail'), new Fail(this, `${stateId}: failed`, { error: 'ReportFailed', cause: 'The verdict could not be reported to CodeDeploy; an escalation was raised' }))
      .otherwise(unexpected);
  }

  /** Records in `$.phase` where the machine is, for the audit of a decided hook. */
  private setPhase(stateId: string, phase: string): Pass {
    return new Pass(this, stateId, { result: Result.fromString(phase), resultPath: '$.phase' });
  }

  /** A Lambda step: the whole state in, the whole next state out. */
  private evaluate(fn: IFunction): (stateId: string) => LambdaInvoke {
    return (stateId) => evaluatorStep(this, stateId, fn);
  }

  /** PutLifecycleEventHookExecutionStatus through the AWS SDK integration, retried with backoff. */
  private report(stateId: string, deploymentGroupArn: string, status: string): CallAwsService {
    const task = new CallAwsService(this, stateId, {
      service: 'codedeploy',
      action: 'putLifecycleEventHookExecutionStatus',
      // The ids come from the execution's input (the context object), whatever a step returned.
      parameters: {
        DeploymentId: JsonPath.stringAt('$$.Execution.Input.deploymentId'),
        LifecycleEventHookExecutionId: JsonPath.stringAt('$$.Execution.Input.lifecycleEventHookExecutionId'),
        Status: status,
      },
      iamResources: [deploymentGroupArn],
      resultPath: JsonPath.DISCARD,
    });
    // A second report fails with LifecycleEventAlreadyCompletedException: never retried (CodeDeploy
    // API reference), handed to the evaluator to read what was applied.
    task.addRetry({ errors: FINAL_REPORT_ERRORS, maxAttempts: 0 });
    // Throttling, 5xx and AccessDenied right after a deploy (IAM propagation): ~2.5 min of retries,
    // inside the margin the deadline leaves before CodeDeploy's hour.
    task.addRetry({ errors: [Errors.ALL], interval: Duration.seconds(2), maxAttempts: 8, backoffRate: 2, maxDelay: Duration.seconds(30), jitterStrategy: JitterType.FULL });
    return task;
  }

  /**
   * The Catch-all: the evaluator could not run (or returned something the machine does not know),
   * before anything was reported. Without it, nothing would report and CodeDeploy's one-hour
   * timeout would decide, unaudited.
   */
  private failClosed(props: BakeStateMachineProps, audit: { reported: IChainable; notReported: IChainable }): { start: IChainable; unexpected: IChainable } {
    // What the evaluator returned cannot be trusted to hold even the ids: start again from the
    // execution's input.
    const unexpected = new Pass(this, 'Unexpected step', {
      comment: 'The evaluator returned a next step the machine does not know, or one without what it needs: treated as a crash',
      parameters: {
        ...EXECUTION_INPUT,
        crash: { Error: 'UnexpectedNextStep', Cause: 'the evaluator returned no known next step (next, waitSeconds or report.status missing or unknown)' },
      },
    });
    const lookup = new CallAwsService(this, 'Read deployment', {
      service: 'codedeploy',
      action: 'getDeployment',
      parameters: { DeploymentId: JsonPath.stringAt('$$.Execution.Input.deploymentId') },
      iamResources: [props.deploymentGroupArn],
      resultSelector: { 'deployment.$': '$.DeploymentInfo' },
      resultPath: '$.lookup',
    });
    lookup.addRetry({ errors: [Errors.ALL], interval: Duration.seconds(2), maxAttempts: 5, backoffRate: 2, maxDelay: Duration.seconds(30), jitterStrategy: JitterType.FULL });

    // Shadow mode carries `wouldRollback` on every fallback, so its audit can say what enforcing does.
    const fallback = (stateId: string, status: 'Succeeded' | 'Failed', verdict: string, reason: string, wouldRollback = false) =>
      new Pass(this, stateId, { parameters: { status, verdict, reason, ...(props.shadow ? { wouldRollback } : {}) }, resultPath: '$.fallback' });
    const rollback = fallback('Rollback: succeed', 'Succeeded', 'skipped', 'hooks of a rollback deployment succeed at once: a rollback is never blocked');
    const release = props.shadow
      ? fallback('Release: shadow, succeed', 'Succeeded', 'inconclusive', 'the release was not judged: enforcing would fail closed; shadow mode reported Succeeded', true)
      : fallback('Release: fail closed', 'Failed', 'inconclusive', 'the release was not judged: fail closed');
    // Shadow mode reports Succeeded for a rollback and a release alike: an unreadable deployment
    // needs no minute-by-minute wait for the deadline (and the wait's states must not exist then:
    // Step Functions refuses a definition with unreachable states).
    const unreadable = props.shadow ? undefined : this.readUntilDeadline(lookup, fallback);
    if (props.shadow) lookup.addCatch(release, { errors: [Errors.ALL], resultPath: '$.lookupError' });

    const report = this.report('Report fail-closed status', props.deploymentGroupArn, JsonPath.stringAt('$.fallback.status'));
    for (const decided of [rollback, release, ...(unreadable ? [unreadable] : [])]) decided.next(report);
    report.next(audit.reported);
    report.addCatch(audit.notReported, { errors: [Errors.ALL], resultPath: '$.reportError' });

    const isRollback = new Choice(this, 'Rollback deployment?')
      .when(Condition.and(Condition.isPresent('$.lookup.deployment.Creator'), Condition.or(...ROLLBACK_DEPLOYMENT_CREATORS.map((c) => Condition.stringEquals('$.lookup.deployment.Creator', c)))), rollback)
      .otherwise(release);
    lookup.next(isRollback);
    unexpected.next(lookup);
    return { start: lookup, unexpected };
  }

  /**
   * An unreadable deployment is read again every minute until the deadline; only then the
   * documented choice (Succeeded, escalated) applies — never after a minute of failed reads.
   * Returns the state that decides Succeeded at the deadline.
   */
  private readUntilDeadline(lookup: CallAwsService, fallback: (stateId: string, status: 'Succeeded' | 'Failed', verdict: string, reason: string) => Pass): Pass {
    const unreadable = fallback(
      'Unreadable: succeed at the deadline',
      'Succeeded',
      'skipped',
      'the deployment could not be read until the deadline: Succeeded so a possible rollback is not blocked; the alarm path still guards a release',
    );
    const clock = new Pass(this, 'Clock (unreadable)', { parameters: { 'now.$': '$$.State.EnteredTime' }, resultPath: '$.clock' });
    const retryRead = new Wait(this, 'Read again in a minute', { time: WaitTime.duration(Duration.minutes(1)) });
    const deadlineReached = new Choice(this, 'Deadline reached?')
      .when(Condition.timestampGreaterThanEqualsJsonPath('$.clock.now', '$.deadline'), unreadable)
      .otherwise(retryRead);
    lookup.addCatch(clock, { errors: [Errors.ALL], resultPath: '$.lookupError' });
    clock.next(deadlineReached);
    retryRead.next(lookup);
    return unreadable;
  }

  /**
   * Audits straight to EventBridge what the machine decided without the evaluator (which audits
   * otherwise): the fail-closed report, or a decided hook whose evaluator audit step failed. Each
   * detail says `reportedStatus` only when this execution's report was accepted; the ids come from
   * the execution's input, and the names of the group (the notices rule matches on them).
   */
  private fallbackAudit(props: BakeStateMachineProps): {
    start: { reported: IChainable; notReported: IChainable };
    afterDecided: IChainable;
    unexpectedAfterDecided: IChainable;
  } {
    const shadow = props.shadow ? { 'wouldRollback.$': '$.fallback.wouldRollback' } : {};
    const reported = this.auditDetail(props, 'Audit detail: reported', {
      ...shadow,
      'verdict.$': '$.fallback.verdict',
      'reportedStatus.$': '$.fallback.status',
      'reasons.$': "States.Array(States.Format('the evaluator could not run ({}: {})', $.crash.Error, $.crash.Cause), $.fallback.reason)",
    });
    const notReported = this.auditDetail(props, 'Audit detail: not reported', {
      ...shadow,
      'verdict.$': '$.fallback.verdict',
      'reasons.$':
        "States.Array(States.Format('the evaluator could not run ({}: {})', $.crash.Error, $.crash.Cause), $.fallback.reason, States.Format('{} could not be reported ({}: {})', $.fallback.status, $.reportError.Error, $.reportError.Cause))",
    });
    const decidedHook = this.decidedHookAudit(props);
    const put = this.putAuditEvents(props);
    for (const d of [reported, notReported, decidedHook.reported, decidedHook.unknown]) d.next(put);
    return { start: { reported, notReported }, afterDecided: decidedHook.decided, unexpectedAfterDecided: decidedHook.unexpected };
  }

  /** One detail per detail-type: each carries its own idempotency key, as core's auditEvent does. */
  private auditDetail(props: BakeStateMachineProps, stateId: string, parameters: Record<string, unknown>): Pass {
    const of = (detailType: string) => ({
      schemaVersion: AUDIT_SCHEMA_VERSION,
      'idempotencyKey.$': `States.Format('${detailType.replace(/ /g, '')}:{}:{}:machine', $$.Execution.Input.deploymentId, $$.Execution.Input.lifecycleEventHookExecutionId)`,
      'occurredAt.$': '$$.State.EnteredTime',
      'deploymentId.$': '$$.Execution.Input.deploymentId',
      'lifecycleEventHookExecutionId.$': '$$.Execution.Input.lifecycleEventHookExecutionId',
      applicationName: props.applicationName,
      deploymentGroupName: props.deploymentGroupName,
      ...parameters,
    });
    return new Pass(this, stateId, {
      parameters: { verdict: of(AuditDetailType.DEPLOYMENT_VERDICT), escalation: of(AuditDetailType.ESCALATION_RAISED) },
      resultPath: '$.audit',
    });
  }

  /**
   * The hook was decided (reported, refused as already completed, or not reportable) before the
   * evaluator's own audit of it failed: audit what the machine knows, report nothing.
   */
  private decidedHookAudit(props: BakeStateMachineProps): { decided: Pass; unexpected: Pass; reported: Pass; unknown: Pass } {
    const decided = new Pass(this, 'Decided, audit failed', {
      comment: 'The hook was decided before the evaluator could audit it; nothing is reported again',
      parameters: { Error: 'AuditStepFailed', Cause: 'the evaluator did not finish auditing a decided hook' },
      resultPath: '$.auditFailure',
    });
    // An audit step that answered something unknown: its answer holds nothing to trust.
    const unexpected = new Pass(this, 'Decided, unexpected audit answer', {
      comment: 'The evaluator answered the audit of a decided hook with something the machine does not know; nothing is reported again',
      parameters: { ...EXECUTION_INPUT, auditFailure: { Error: 'UnexpectedNextStep', Cause: 'the audit step of a decided hook returned no known next step' } },
    });
    const reported = this.auditDetail(props, 'Audit detail: decided', {
      'verdict.$': '$.report.verdict',
      'reportedStatus.$': '$.report.status',
      'reasons.$': "States.Array('the verdict was reported to CodeDeploy; the evaluator could not audit it', States.JsonToString($.report.reasons))",
    });
    const unknown = this.auditDetail(props, 'Audit detail: decided, status unknown', {
      reasons: ['the hook was decided (reported, already completed, or its report failed) but the evaluator could not audit it — see the execution history'],
    });
    const present = (...paths: string[]) => paths.map((p) => Condition.isPresent(p));
    const wasReported = new Choice(this, 'Was the report accepted?')
      .when(
        Condition.and(
          ...present('$.phase', '$.report.status', '$.report.verdict', '$.report.reasons'),
          Condition.isString('$.phase'),
          Condition.stringEquals('$.phase', 'reported'),
        ),
        reported,
      )
      .otherwise(unknown);
    decided.next(wasReported);
    unexpected.next(unknown);
    return { decided, unexpected, reported, unknown };
  }

  /** PutEvents of the two details, then the end of the execution: failed, so the fallback shows. */
  private putAuditEvents(props: BakeStateMachineProps): CallAwsService {
    const entry = (detailType: string, path: string) => ({
      Source: AUDIT_EVENT_SOURCE,
      DetailType: detailType,
      EventBusName: props.auditBus.eventBusArn,
      Detail: JsonPath.jsonToString(JsonPath.objectAt(path)),
    });
    const put = new CallAwsService(this, 'Audit fail-closed decision', {
      service: 'eventbridge',
      action: 'putEvents',
      parameters: { Entries: [entry(AuditDetailType.DEPLOYMENT_VERDICT, '$.audit.verdict'), entry(AuditDetailType.ESCALATION_RAISED, '$.audit.escalation')] },
      iamResources: [props.auditBus.eventBusArn],
      iamAction: 'events:PutEvents',
      resultSelector: { 'failedEntryCount.$': '$.FailedEntryCount' },
      resultPath: '$.auditResult',
    });
    put.addRetry({ errors: [Errors.ALL], interval: Duration.seconds(2), maxAttempts: 5, backoffRate: 2, jitterStrategy: JitterType.FULL });
    const failed = new Fail(this, 'Evaluator failed', { error: 'EvaluatorFailed', cause: 'The evaluator could not run or audit; the machine reported or audited in its place and an escalation was raised' });
    // The execution history and the state machine's log keep the decision if EventBridge refuses it.
    const notDelivered = new Pass(this, 'Audit not delivered (kept in the execution log)');
    put.addCatch(notDelivered, { errors: [Errors.ALL], resultPath: '$.auditError' });
    // PutEvents reports rejected entries in its answer, not as an error (EventBridge API reference).
    const delivered = new Choice(this, 'All entries accepted?')
      .when(Condition.and(Condition.isNumeric('$.auditResult.failedEntryCount'), Condition.numberGreaterThan('$.auditResult.failedEntryCount', 0)), notDelivered)
      .otherwise(failed);
    put.next(delivered);
    notDelivered.next(failed);
    return put;
  }
}
