import { Duration, Stack, StackProps, Validations } from 'aws-cdk-lib';
import { LambdaDeploymentConfig, LambdaDeploymentGroup } from 'aws-cdk-lib/aws-codedeploy';
import { Alias, Code, Function, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { RollbackTarget, RollbackTrigger, ServiceLevelObjective, Sli } from '../lib';

/** The agent's name: the `Service` dimension of its self-evaluations. */
export const AGENT_SERVICE = 'support-agent';
/** Below this confidence a self-evaluation is bad: the agent and the SLI say the same. */
export const AGENT_CONFIDENCE_THRESHOLD = 0.7;

/**
 * The placeholder agent: it answers, scores its own answer and writes the score as one CloudWatch
 * Embedded Metric Format line, the metric contract `Sli.agentSelfEvaluation` reads (namespace
 * `RollbackTriggers/Agent`, dimension sets [Service, Version] and [Service], `Evaluations` and
 * `BadEvaluations`). A real agent bundles `cdk-rollback-triggers/runtime` and calls
 * `recordEvaluation({ service, confidence, schemaValid, threshold })`, which writes the same line.
 * `Version` is the executed version (`AWS_LAMBDA_FUNCTION_VERSION`), what CodeDeploy shifts.
 */
export const AGENT_CODE = `
const SERVICE = ${JSON.stringify(AGENT_SERVICE)};
const THRESHOLD = ${AGENT_CONFIDENCE_THRESHOLD};
const COUNTS = ['Evaluations', 'BadEvaluations', 'LowConfidence', 'SchemaInvalid'];
exports.handler = async (event) => {
  const answer = { text: 'Your order ships tomorrow.', confidence: 0.92 };
  const schemaValid = typeof answer.text === 'string';
  const low = answer.confidence < THRESHOLD;
  const values = { Evaluations: 1, BadEvaluations: low || !schemaValid ? 1 : 0, LowConfidence: low ? 1 : 0, SchemaInvalid: schemaValid ? 0 : 1 };
  process.stdout.write(JSON.stringify({
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [{
        Namespace: 'RollbackTriggers/Agent',
        Dimensions: [['Service', 'Version'], ['Service']],
        Metrics: [...COUNTS.map((Name) => ({ Name, Unit: 'Count' })), { Name: 'Confidence', Unit: 'None' }],
      }],
    },
    Service: SERVICE,
    Version: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    ...values,
    Confidence: answer.confidence,
  }) + '\\n');
  return answer;
};
`;

/**
 * An LLM agent on Lambda released through a `live` alias by CodeDeploy: 10 % canary for 5 minutes,
 * then all traffic. Besides its availability, the agent judges its own work (its confidence in
 * each answer, and whether the answer passed its JSON schema): a new prompt, model or tool version
 * whose self-evaluations degrade is rolled back like any other regression, measured on the new
 * version's own evaluations and compared with the current version's.
 */
export class AgentServiceStack extends Stack {
  /** The rollback wiring: alarms on the deployment group, the evaluator hook, state and audit. */
  public readonly rollbackTrigger: RollbackTrigger;
  /** The CodeDeploy deployment group that releases the alias. */
  public readonly deploymentGroup: LambdaDeploymentGroup;
  /** The SLO on the agent's self-evaluations. */
  public readonly selfEvaluation: ServiceLevelObjective;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const agent = agentFunction(this, 'Agent');
    const live = new Alias(this, 'Live', { aliasName: 'live', version: agent.currentVersion });

    this.deploymentGroup = new LambdaDeploymentGroup(this, 'Deployment', {
      alias: live,
      deploymentConfig: LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });

    const availability = new ServiceLevelObjective(this, 'Availability', {
      sli: Sli.lambdaAvailability(live),
      objectivePercent: 99.9,
    });
    // 99 % of the agent's answers judged good by the agent itself: the 14.4× page tier fires when
    // more than 14.4 % of the new version's evaluations are bad, twice as often as the current one's.
    this.selfEvaluation = new ServiceLevelObjective(this, 'SelfEvaluation', {
      sli: Sli.agentSelfEvaluation({ service: AGENT_SERVICE, confidenceThreshold: AGENT_CONFIDENCE_THRESHOLD }),
      objectivePercent: 99,
    });

    this.rollbackTrigger = new RollbackTrigger(this, 'Rollback', {
      target: RollbackTarget.lambdaAlias({ deploymentGroup: this.deploymentGroup, alias: live }),
      objectives: [availability, this.selfEvaluation],
    });

    Validations.of(this.deploymentGroup.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
      reason: 'CodeDeploy documents this managed policy as the service role for Lambda deployments; it is already the Limited variant.',
    });
  }
}

/**
 * The agent function, set up as a production function would be (explicit memory and timeout,
 * X-Ray tracing); what cdk-nag still reports on it is acknowledged with a reason.
 */
function agentFunction(scope: Construct, id: string): Function {
  const fn = new Function(scope, id, {
    runtime: Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: Code.fromInline(AGENT_CODE),
    description: 'Example agent released by a CodeDeploy canary, rolled back when its self-evaluations degrade',
    memorySize: 512,
    timeout: Duration.seconds(60),
    tracing: Tracing.ACTIVE,
  });
  const acknowledgements: Record<string, string> = {
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
      'The example agent only writes its own logs (its self-evaluations are EMF log lines); the AWS managed basic execution policy is the documented minimum.',
    'AwsSolutions-IAM5[Resource::*]': 'X-Ray active tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) supports no resource-level permissions.',
    'NIST.800.53.R5-IAMNoInlinePolicy': "aws-cdk-lib writes the tracing grant to the role's own policy, created and deleted with it.",
    'NIST.800.53.R5-LambdaDLQ': 'An agent invoked synchronously through its alias: the caller gets the error; a dead-letter queue only applies to asynchronous invocations.',
    'Serverless-LambdaDLQ': 'An agent invoked synchronously through its alias: the caller gets the error; a dead-letter queue only applies to asynchronous invocations.',
    'NIST.800.53.R5-LambdaConcurrency': 'A placeholder without traffic; a real agent sets reserved concurrency from its measured peak and its model quota.',
    'NIST.800.53.R5-LambdaInsideVPC': 'The example agent reaches no VPC resource (it calls nothing at all).',
  };
  for (const [ackId, reason] of Object.entries(acknowledgements)) Validations.of(fn).acknowledge({ id: ackId, reason });
  return fn;
}
