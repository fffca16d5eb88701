import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { IEventBus } from 'aws-cdk-lib/aws-events';
import { IFunction } from 'aws-cdk-lib/aws-lambda';
import { ILogGroup } from 'aws-cdk-lib/aws-logs';
import { Choice, Condition, DefinitionBody, Errors, Fail, IChainable, JitterType, JsonPath, LogLevel, Pass, Result, StateMachine, StateMachineType, Succeed, Wait, WaitTime } from 'aws-cdk-lib/aws-stepfunctions';
import { CallAwsService } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { AUDIT_EVENT_SOURCE, AUDIT_SCHEMA_VERSION, AuditDetailType } from '../core/audit-events';
import { askForAnswer, evaluatorStep } from './bake-state-machine';

export interface FollowUpStateMachineProps {
  /** The follow-up function (lambda/follow-up): the follow-up phases (verify, guard, secondary) on the bake's runtime. */
  readonly evaluator: IFunction;
  readonly applicationName: string;
  readonly deploymentGroupName: string;
  readonly auditBus: IEventBus;
  readonly logGroup: ILogGroup;
  /** The longest a follow-up may run (the longest flow's duration, the metric delay and the grace for reads). */
  readonly maxRunTime: Duration;
  /** The secondary action's question: the machine can ask a human (`next: 'approve'`) and wait for the answer. */
  readonly approval?: boolean;
}

/**
 * What happens after a deployment ends, on AWS Step Functions Standard (lib/core/verify.ts and
 * lib/core/follow-up.ts): the post-rollback verification, the guard window after a success and the
 * secondary action after a failed rollback, one execution per flow and deployment, started by the
 * state-change function. The evaluator's loop — evaluate, wait, evaluate — until it says `done`;
 * with the secondary action, `approve` asks a human (the bake's `Ask for approval`) and hands the
 * answer back to the evaluator. It reports nothing to CodeDeploy; a step that cannot run is audited
 * from the machine as an escalation, so a follow-up never ends silently.
 */
export class FollowUpStateMachine extends Construct {
  public readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: FollowUpStateMachineProps) {
    super(scope, id);
    const evaluate = evaluatorStep(this, 'Evaluate', props.evaluator);
    const wait = new Wait(this, 'Wait', { comment: 'Until the next tick', time: WaitTime.secondsPath('$.waitSeconds') });
    const crashed = this.escalate(props);
    const nextIs = (value: string) => Condition.and(Condition.isPresent('$.next'), Condition.isString('$.next'), Condition.stringEquals('$.next', value));
    const next = new Choice(this, 'Next step')
      .when(nextIs('done'), new Succeed(this, 'Done'))
      .when(Condition.and(nextIs('wait'), Condition.isPresent('$.waitSeconds'), Condition.isNumeric('$.waitSeconds')), wait);
    if (props.approval) {
      // Every path the Ask state reads is checked first: a missing one would fail the execution
      // with States.Runtime, which no Catch catches (Step Functions developer guide, "Error names").
      next.when(
        Condition.and(nextIs('approve'), Condition.isPresent('$.secondary.request.timeoutSeconds'), Condition.isNumeric('$.secondary.request.timeoutSeconds'), Condition.isPresent('$.secondary.reasons'), Condition.isPresent('$.secondary.action')),
        this.ask(props, evaluate),
      );
    }
    next.otherwise(
      new Pass(this, 'Unexpected step', {
        parameters: { Error: 'UnexpectedNextStep', Cause: 'the evaluator returned no known next step' },
        resultPath: '$.crash',
      }).next(crashed),
    );
    evaluate.addCatch(crashed, { errors: [Errors.ALL], resultPath: '$.crash' });
    evaluate.next(next);
    wait.next(evaluate);
    this.stateMachine = new StateMachine(this, 'Resource', {
      comment: 'cdk-rollback-triggers: after a deployment ends (rollback verification, guard window, secondary action)',
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(evaluate),
      timeout: props.maxRunTime,
      tracingEnabled: true,
      logs: { destination: props.logGroup, level: LogLevel.ALL, includeExecutionData: true },
    });
    this.stateMachine.applyRemovalPolicy(RemovalPolicy.DESTROY);
  }

  /** The secondary action's question; the answer, a rejection or the timeout go back to the evaluator. */
  private ask(props: FollowUpStateMachineProps, evaluate: IChainable): IChainable {
    const ask = askForAnswer(this, props, {
      requestPath: '$.secondary.request',
      fields: {
        rollbackDeploymentId: JsonPath.stringAt('$$.Execution.Input.deploymentId'),
        reasons: JsonPath.listAt('$.secondary.reasons'),
        secondaryAction: JsonPath.objectAt('$.secondary.action'),
      },
    });
    const answered = new Pass(this, 'Answered', { result: Result.fromString('secondary-answered'), resultPath: '$.phase' });
    ask.addCatch(answered, { errors: [Errors.ALL], resultPath: '$.secondary.request.error' });
    ask.next(answered);
    answered.next(evaluate);
    return ask;
  }

  /** The evaluator could not run: an escalation on the audit bus (the ids from the execution's input), then Fail. */
  private escalate(props: FollowUpStateMachineProps): IChainable {
    const detail = {
      schemaVersion: AUDIT_SCHEMA_VERSION,
      'idempotencyKey.$': `States.Format('${AuditDetailType.ESCALATION_RAISED.replace(/ /g, '')}:{}:{}:machine', $$.Execution.Input.deploymentId, $$.Execution.Input.phase)`,
      'occurredAt.$': '$$.State.EnteredTime',
      'deploymentId.$': '$$.Execution.Input.deploymentId',
      applicationName: props.applicationName,
      deploymentGroupName: props.deploymentGroupName,
      // The flow is the execution's first phase: verify, guard or secondary.
      'reasons.$':
        "States.Array(States.Format('the follow-up ({}) of deployment {} stopped: the evaluator could not run ({}: {}); a human should look', $$.Execution.Input.phase, $$.Execution.Input.deploymentId, $.crash.Error, $.crash.Cause))",
    };
    const put = new CallAwsService(this, 'Audit follow-up failure', {
      service: 'eventbridge',
      action: 'putEvents',
      parameters: {
        Entries: [{ Source: AUDIT_EVENT_SOURCE, DetailType: AuditDetailType.ESCALATION_RAISED, EventBusName: props.auditBus.eventBusArn, Detail: JsonPath.jsonToString(JsonPath.objectAt('$.escalation')) }],
      },
      iamResources: [props.auditBus.eventBusArn],
      iamAction: 'events:PutEvents',
      resultPath: JsonPath.DISCARD,
    });
    put.addRetry({ errors: [Errors.ALL], interval: Duration.seconds(2), maxAttempts: 5, backoffRate: 2, jitterStrategy: JitterType.FULL });
    const failed = new Fail(this, 'Follow-up failed', { error: 'FollowUpFailed', cause: 'The evaluator could not run the follow-up; an escalation was raised' });
    // The execution history and the machine's log keep it if EventBridge refuses.
    put.addCatch(failed, { errors: [Errors.ALL], resultPath: '$.auditError' });
    put.next(failed);
    // The verification's and the secondary action's events are a rollback deployment's: its id is
    // also rollbackDeploymentId, as the evaluator's own audit of those flows says. A guard window's
    // are a release's. The flow (the execution's first phase) is copied into the state first: a
    // Choice reads the state.
    const ofRollback = new Pass(this, 'Escalation detail', { parameters: { ...detail, 'rollbackDeploymentId.$': '$$.Execution.Input.deploymentId' }, resultPath: '$.escalation' });
    const ofRelease = new Pass(this, 'Guard escalation detail', { parameters: detail, resultPath: '$.escalation' });
    ofRollback.next(put);
    ofRelease.next(put);
    const flow = new Pass(this, 'Which flow', { parameters: { 'phase.$': '$$.Execution.Input.phase' }, resultPath: '$.flow' });
    flow.next(
      new Choice(this, 'Of a rollback?')
        .when(Condition.and(Condition.isPresent('$.flow.phase'), Condition.isString('$.flow.phase'), Condition.stringEquals('$.flow.phase', 'guard')), ofRelease)
        .otherwise(ofRollback),
    );
    return flow;
  }
}
