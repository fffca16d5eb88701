import { Duration, Validations } from 'aws-cdk-lib';
import { Code, Function, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

/**
 * The placeholder API of the Lambda examples, set up as a production function would be (explicit
 * memory and timeout, X-Ray tracing); what cdk-nag still reports on it is acknowledged with a reason.
 */
export function apiFunction(scope: Construct, id: string, description: string): Function {
  const fn = new Function(scope, id, {
    runtime: Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: Code.fromInline('exports.handler = async () => ({ statusCode: 200, body: "ok" });'),
    description,
    memorySize: 256,
    timeout: Duration.seconds(10),
    tracing: Tracing.ACTIVE,
  });
  const acknowledgements: Record<string, string> = {
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]':
      'The example function only writes its own logs; the AWS managed basic execution policy is the documented minimum.',
    'AwsSolutions-IAM5[Resource::*]': 'X-Ray active tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) supports no resource-level permissions.',
    'NIST.800.53.R5-IAMNoInlinePolicy': "aws-cdk-lib writes the tracing grant to the role's own policy, created and deleted with it.",
    'NIST.800.53.R5-LambdaDLQ': 'An API invoked synchronously through its alias: the caller gets the error; a dead-letter queue only applies to asynchronous invocations.',
    'Serverless-LambdaDLQ': 'An API invoked synchronously through its alias: the caller gets the error; a dead-letter queue only applies to asynchronous invocations.',
    'NIST.800.53.R5-LambdaConcurrency': 'A placeholder without traffic; a real API sets reserved concurrency from its measured peak.',
    'NIST.800.53.R5-LambdaInsideVPC': 'The example function reaches no VPC resource (it calls nothing at all).',
  };
  for (const [ackId, reason] of Object.entries(acknowledgements)) Validations.of(fn).acknowledge({ id: ackId, reason });
  return fn;
}
