import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { IEventBus } from 'aws-cdk-lib/aws-events';
import { IFunction } from 'aws-cdk-lib/aws-lambda';
import { ILogGroup } from 'aws-cdk-lib/aws-logs';
import { Choice, Condition, DefinitionBody, Errors, Fail, JitterType, JsonPath, LogLevel, Pass, StateMachine, StateMachineType, Succeed, Wait, WaitTime } from 'aws-cdk-lib/aws-stepfunctions';
import { CallAwsService } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { AUDIT_EVENT_SOURCE, AUDIT_SCHEMA_VERSION, AuditDetailType } from '../core';
import { evaluatorStep } from './bake-state-machine';

export interface VerifyStateMachineProps {
  /** The bake's stateless evaluator: it runs the `verify` and `verify-tick` phases too. */
  readonly evaluator: IFunction;
  readonly applicationName: string;
  readonly deploymentGroupName: string;
  readonly auditBus: IEventBus;
  readonly logGroup: ILogGroup;
  /** The longest a verification may run (its duration, the metric delay and the grace for reads). */
  readonly maxRunTime: Duration;
}

/**
 * Post-rollback verification on AWS Step Functions Standard (lib/core/verify.ts): the evaluator's
 * loop — evaluate, wait, evaluate — until it audits its verdict and says `done`. It reports
 * nothing to CodeDeploy (the rollback is done); a step that cannot run is audited from the machine
 * as an escalation, so a verification never ends silently.
 */
export class VerifyStateMachine extends Construct {
  public readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: VerifyStateMachineProps) {
    super(scope, id);
    const evaluate = evaluatorStep(this, 'Evaluate', props.evaluator);
    const wait = new Wait(this, 'Wait', { comment: 'Until the next tick', time: WaitTime.secondsPath('$.waitSeconds') });
    const crashed = this.escalate(props);
    const next = new Choice(this, 'Next step')
      .when(Condition.and(Condition.isPresent('$.next'), Condition.isString('$.next'), Condition.stringEquals('$.next', 'done')), new Succeed(this, 'Done'))
      .when(
        Condition.and(Condition.isPresent('$.next'), Condition.isString('$.next'), Condition.stringEquals('$.next', 'wait'), Condition.isPresent('$.waitSeconds'), Condition.isNumeric('$.waitSeconds')),
        wait,
      )
      .otherwise(
        new Pass(this, 'Unexpected step', {
          parameters: { Error: 'UnexpectedNextStep', Cause: 'the evaluator returned no known next step' },
          resultPath: '$.crash',
        }).next(crashed),
      );
    evaluate.addCatch(crashed, { errors: [Errors.ALL], resultPath: '$.crash' });
    evaluate.next(next);
    wait.next(evaluate);
    this.stateMachine = new StateMachine(this, 'Resource', {
      comment: 'cdk-rollback-triggers: verifies the version a rollback restored',
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(evaluate),
      timeout: props.maxRunTime,
      tracingEnabled: true,
      logs: { destination: props.logGroup, level: LogLevel.ALL, includeExecutionData: true },
    });
    this.stateMachine.applyRemovalPolicy(RemovalPolicy.DESTROY);
  }

  /** The evaluator could not run: an escalation on the audit bus (the ids from the execution's input), then Fail. */
  private escalate(props: VerifyStateMachineProps): Pass {
    const detail = {
      schemaVersion: AUDIT_SCHEMA_VERSION,
      'idempotencyKey.$': `States.Format('${AuditDetailType.ESCALATION_RAISED.replace(/ /g, '')}:{}:verify:machine', $$.Execution.Input.deploymentId)`,
      'occurredAt.$': '$$.State.EnteredTime',
      'rollbackDeploymentId.$': '$$.Execution.Input.deploymentId',
      'deploymentId.$': '$$.Execution.Input.deploymentId',
      applicationName: props.applicationName,
      deploymentGroupName: props.deploymentGroupName,
      'reasons.$': "States.Array(States.Format('the rollback could not be verified: the evaluator could not run ({}: {})', $.crash.Error, $.crash.Cause))",
    };
    const put = new CallAwsService(this, 'Audit verification failure', {
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
    const failed = new Fail(this, 'Verification failed', { error: 'VerificationFailed', cause: 'The evaluator could not verify the rollback; an escalation was raised' });
    // The execution history and the machine's log keep it if EventBridge refuses.
    put.addCatch(failed, { errors: [Errors.ALL], resultPath: '$.auditError' });
    put.next(failed);
    const build = new Pass(this, 'Escalation detail', { parameters: detail, resultPath: '$.escalation' });
    build.next(put);
    return build;
  }
}
