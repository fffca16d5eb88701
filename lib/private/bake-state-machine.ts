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
  JitterType,
  JsonPath,
  LogLevel,
  Pass,
  Result,
  StateMachine,
  StateMachineType,
  Succeed,
  Timeout,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { CallAwsService, LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { AUDIT_EVENT_SOURCE, AUDIT_SCHEMA_VERSION, AuditDetailType, HOOK_LIMIT_SECONDS } from '../core';

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
/** Creators of rollback deployments: their hooks must succeed at once (never block a rollback). */
const ROLLBACK_CREATORS = ['codeDeployRollback', 'CloudFormationRollback'];

export interface BakeStateMachineProps {
  /** The stateless step Lambda (lambda/evaluator). */
  readonly evaluator: IFunction;
  readonly deploymentGroupArn: string;
  readonly auditBus: IEventBus;
  readonly logGroup: ILogGroup;
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
    const evaluate = this.evaluate(props.evaluator);
    const failClosed = this.failClosed(props);

    const evaluateStep = evaluate('Evaluate');
    const wait = new Wait(this, 'Wait', { comment: 'Until the next tick (or the retry of an unreadable deployment)', time: WaitTime.secondsPath('$.waitSeconds') });
    const report = this.report('Report', props.deploymentGroupArn, JsonPath.stringAt('$.report.status'));
    const setPhase = (stateId: string, phase: string) => new Pass(this, stateId, { result: Result.fromString(phase), resultPath: '$.phase' });
    const afterReport = evaluate('Audit verdict');
    const afterAlreadyCompleted = evaluate('Audit already completed');
    const afterReportFailed = evaluate('Escalate report failure');
    const next = (stateId: string) =>
      new Choice(this, stateId)
        .when(Condition.stringEquals('$.next', 'wait'), wait)
        .when(Condition.stringEquals('$.next', 'report'), report)
        .when(Condition.stringEquals('$.next', 'done'), new Succeed(this, `${stateId} done`))
        .when(Condition.stringEquals('$.next', 'fail'), new Fail(this, `${stateId} failed`, { error: 'ReportFailed', cause: 'The verdict could not be reported to CodeDeploy; an escalation was raised' }))
        .otherwise(failClosed.unexpected);

    wait.next(evaluateStep);
    report.addCatch(setPhase('Already completed', 'already-completed').next(afterAlreadyCompleted), { errors: [ALREADY_COMPLETED], resultPath: '$.reportError' });
    report.addCatch(setPhase('Report failed', 'report-failed').next(afterReportFailed), { errors: [Errors.ALL], resultPath: '$.reportError' });
    report.next(setPhase('Reported', 'reported').next(afterReport));
    for (const step of [evaluateStep, afterReport, afterAlreadyCompleted, afterReportFailed]) {
      step.addCatch(failClosed.start, { errors: [Errors.ALL], resultPath: '$.crash' });
    }
    evaluateStep.next(next('Next step'));
    afterReport.next(next('After verdict'));
    afterAlreadyCompleted.next(next('After already completed'));
    afterReportFailed.next(next('After report failure'));

    this.stateMachine = new StateMachine(this, 'Resource', {
      comment: 'cdk-rollback-triggers: bakes a CodeDeploy release and reports its lifecycle hook once',
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(setPhase('Start', 'resolve').next(evaluateStep)),
      // A guard against a runaway loop only: CodeDeploy fails an unreported hook after one hour,
      // and the evaluator decides by the deadline (55 min by default).
      timeout: Duration.seconds(HOOK_LIMIT_SECONDS + 600),
      tracingEnabled: true,
      logs: { destination: props.logGroup, level: LogLevel.ALL, includeExecutionData: true },
    });
    this.stateMachine.applyRemovalPolicy(RemovalPolicy.DESTROY);
  }

  /** A Lambda step: the whole state in, the whole next state out. */
  private evaluate(fn: IFunction): (stateId: string) => LambdaInvoke {
    return (stateId) => {
      const task = new LambdaInvoke(this, stateId, {
        lambdaFunction: fn,
        // No Payload: the function receives the whole state and returns the next one.
        payloadResponseOnly: true,
        retryOnServiceExceptions: false,
        // The evaluator's own timeout is shorter; this only bounds a lost invocation.
        taskTimeout: Timeout.duration(Duration.minutes(5)),
      });
      task.addRetry({ errors: LAMBDA_SERVICE_ERRORS, interval: Duration.seconds(2), maxAttempts: 6, backoffRate: 2, maxDelay: Duration.seconds(30), jitterStrategy: JitterType.FULL });
      // A crashed or timed-out step runs again with the same state: the evaluator is stateless and
      // decides the same on the same data.
      task.addRetry({ errors: [Errors.TASKS_FAILED, Errors.TIMEOUT], interval: Duration.seconds(5), maxAttempts: 3, backoffRate: 2 });
      return task;
    };
  }

  /** PutLifecycleEventHookExecutionStatus through the AWS SDK integration, retried with backoff. */
  private report(stateId: string, deploymentGroupArn: string, status: string): CallAwsService {
    const task = new CallAwsService(this, stateId, {
      service: 'codedeploy',
      action: 'putLifecycleEventHookExecutionStatus',
      parameters: {
        DeploymentId: JsonPath.stringAt('$.deploymentId'),
        LifecycleEventHookExecutionId: JsonPath.stringAt('$.lifecycleEventHookExecutionId'),
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
   * The Catch-all: the evaluator could not run (or returned something the machine does not know).
   * Without it, nothing would report and CodeDeploy's one-hour timeout would decide, unaudited.
   */
  private failClosed(props: BakeStateMachineProps): { start: IChainable; unexpected: IChainable } {
    const unexpected = new Pass(this, 'Unexpected step', {
      comment: 'The evaluator returned a next step the machine does not know: treated as a crash',
      parameters: { Error: 'UnexpectedNextStep', Cause: JsonPath.format('next = {}', JsonPath.jsonToString(JsonPath.objectAt('$.next'))) },
      resultPath: '$.crash',
    });
    const lookup = new CallAwsService(this, 'Read deployment', {
      service: 'codedeploy',
      action: 'getDeployment',
      parameters: { DeploymentId: JsonPath.stringAt('$.deploymentId') },
      iamResources: [props.deploymentGroupArn],
      resultSelector: { 'deployment.$': '$.DeploymentInfo' },
      resultPath: '$.lookup',
    });
    lookup.addRetry({ errors: [Errors.ALL], interval: Duration.seconds(2), maxAttempts: 5, backoffRate: 2, maxDelay: Duration.seconds(30), jitterStrategy: JitterType.FULL });

    const fallback = (stateId: string, status: 'Succeeded' | 'Failed', verdict: string, reason: string) =>
      new Pass(this, stateId, { parameters: { status, verdict, reason }, resultPath: '$.fallback' });
    const rollback = fallback('Rollback: succeed', 'Succeeded', 'skipped', 'hooks of a rollback deployment succeed at once: a rollback is never blocked');
    const release = fallback('Release: fail closed', 'Failed', 'inconclusive', 'the release was not judged: fail closed');
    const unreadable = fallback(
      'Unreadable: succeed at the deadline',
      'Succeeded',
      'skipped',
      'the deployment could not be read until the deadline: Succeeded so a possible rollback is not blocked; the alarm path still guards a release',
    );
    const waitForDeadline = new Wait(this, 'Wait for the deadline', { time: WaitTime.timestampPath('$.deadline') });
    lookup.addCatch(waitForDeadline, { errors: [Errors.ALL], resultPath: '$.lookupError' });
    waitForDeadline.next(unreadable);

    const report = this.fallbackReport(props.deploymentGroupArn);
    const audit = this.fallbackAudit(props.auditBus);
    const failed = new Fail(this, 'Evaluator failed', { error: 'EvaluatorFailed', cause: 'The evaluator could not run; the fail-closed status was reported and an escalation raised' });
    rollback.next(report);
    release.next(report);
    unreadable.next(report);
    report.next(audit.first);
    report.addCatch(audit.first, { errors: [Errors.ALL], resultPath: '$.reportError' });
    audit.delivered.next(failed);
    audit.notDelivered.next(failed);

    const isRollback = new Choice(this, 'Rollback deployment?')
      .when(Condition.and(Condition.isPresent('$.lookup.deployment.Creator'), Condition.or(...ROLLBACK_CREATORS.map((c) => Condition.stringEquals('$.lookup.deployment.Creator', c)))), rollback)
      .otherwise(release);
    lookup.next(isRollback);
    unexpected.next(lookup);
    return { start: lookup, unexpected };
  }

  private fallbackReport(deploymentGroupArn: string): CallAwsService {
    return this.report('Report fail-closed status', deploymentGroupArn, JsonPath.stringAt('$.fallback.status'));
  }

  /** Audits the fail-closed decision straight to EventBridge: the evaluator (which audits otherwise) could not run. */
  private fallbackAudit(bus: IEventBus): { first: IChainable; delivered: CallAwsService; notDelivered: Pass } {
    const detail = new Pass(this, 'Audit detail', {
      parameters: {
        schemaVersion: AUDIT_SCHEMA_VERSION,
        'idempotencyKey.$': "States.Format('EvaluatorFailed:{}:{}', $.deploymentId, $.lifecycleEventHookExecutionId)",
        'occurredAt.$': '$$.State.EnteredTime',
        'deploymentId.$': '$.deploymentId',
        'lifecycleEventHookExecutionId.$': '$.lifecycleEventHookExecutionId',
        'verdict.$': '$.fallback.verdict',
        'reportedStatus.$': '$.fallback.status',
        'reasons.$': "States.Array(States.Format('the evaluator could not run ({}: {})', $.crash.Error, $.crash.Cause), $.fallback.reason)",
      },
      resultPath: '$.auditDetail',
    });
    const entry = (detailType: string) => ({
      Source: AUDIT_EVENT_SOURCE,
      DetailType: detailType,
      EventBusName: bus.eventBusArn,
      Detail: JsonPath.jsonToString(JsonPath.objectAt('$.auditDetail')),
    });
    const put = new CallAwsService(this, 'Audit fail-closed decision', {
      service: 'eventbridge',
      action: 'putEvents',
      parameters: { Entries: [entry(AuditDetailType.DEPLOYMENT_VERDICT), entry(AuditDetailType.ESCALATION_RAISED)] },
      iamResources: [bus.eventBusArn],
      iamAction: 'events:PutEvents',
      resultPath: JsonPath.DISCARD,
    });
    put.addRetry({ errors: [Errors.ALL], interval: Duration.seconds(2), maxAttempts: 5, backoffRate: 2, jitterStrategy: JitterType.FULL });
    // The execution history and the state machine's log keep the decision if EventBridge refuses it.
    detail.next(put);
    const notDelivered = new Pass(this, 'Audit not delivered (kept in the execution log)');
    put.addCatch(notDelivered, { errors: [Errors.ALL], resultPath: '$.auditError' });
    return { first: detail, delivered: put, notDelivered };
  }
}
