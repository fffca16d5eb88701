import { Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * The cdk-nag findings (AwsSolutions, Serverless, NIST 800-53 rev 5 packs) that the library
 * acknowledges on resources it creates, so a user's stack inherits none. Each reason says why the
 * rule does not apply here, or what covers its intent.
 */
const REASONS = {
  inlinePolicy:
    "aws-cdk-lib writes the role's least-privilege grants to an AWS::IAM::Policy attached to this role only, created and deleted with it; a customer managed policy would hold the same statements and be attachable elsewhere.",
  concurrency:
    'Invocations are bounded by deployments (one hook start per lifecycle event, one state change per deployment event, one step per bake tick); reserved concurrency would take capacity from the account’s unreserved pool without bounding anything.',
  insideVpc:
    'The function calls only AWS service APIs (CodeDeploy, CloudWatch, DynamoDB, EventBridge, Step Functions, Lambda and ECS reads) over TLS with signed requests, and the HTTP health-check URLs the user names; it reaches no VPC resource, and inside a VPC it would need NAT or interface endpoints to reach the same APIs.',
  xray: 'X-Ray active tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) supports no resource-level permissions.',
  syncDlq:
    'Invoked synchronously by its Step Functions machine, which retries a failed step and catches what still fails (the bake reports fail-closed, a follow-up escalates); a dead-letter queue only applies to asynchronous invocations.',
  asyncDestination:
    'A failed asynchronous invocation is retried twice, then kept in the trigger’s dead-letter queue (DeadLetterConfig), whose depth alarms the notification topic; an on-failure destination to the same queue would deliver each failure twice.',
  logEncryption:
    'CloudWatch Logs encrypts every log group at rest (server-side, AWS owned keys). These logs hold deployment ids, decisions and metric values, no credentials or request payloads, and IAM governs who reads them; a customer managed key adds a key policy that, if wrong, stops the logging.',
};

function acknowledge(scope: IConstruct, reasons: Record<string, string>): void {
  for (const [id, reason] of Object.entries(reasons)) Validations.of(scope).acknowledge({ id, reason });
}

/** One of the trigger's Lambda functions (its role and its async invoke config are under it). */
export function acknowledgeHandler(fn: IConstruct, invocation: 'synchronous' | 'asynchronous'): void {
  acknowledge(fn, {
    'NIST.800.53.R5-IAMNoInlinePolicy': REASONS.inlinePolicy,
    'NIST.800.53.R5-LambdaConcurrency': REASONS.concurrency,
    'NIST.800.53.R5-LambdaInsideVPC': REASONS.insideVpc,
    'AwsSolutions-IAM5[Resource::*]': REASONS.xray,
    ...(invocation === 'synchronous'
      ? { 'NIST.800.53.R5-LambdaDLQ': REASONS.syncDlq, 'Serverless-LambdaDLQ': REASONS.syncDlq }
      : { 'Serverless-LambdaAsyncFailureDestination': REASONS.asyncDestination }),
  });
}

/** A log group of a trigger's function or state machine. */
export function acknowledgeLogGroup(logGroup: IConstruct): void {
  acknowledge(logGroup, { 'NIST.800.53.R5-CloudWatchLogGroupEncrypted': REASONS.logEncryption });
}

/** A role (or a construct whose role is under it) to which the library adds its grants. */
export function acknowledgeDefaultPolicy(scope: IConstruct): void {
  acknowledge(scope, { 'NIST.800.53.R5-IAMNoInlinePolicy': REASONS.inlinePolicy });
}

/** The trigger's state table: point-in-time recovery on, items expire by TTL. */
export function acknowledgeStateTable(table: IConstruct): void {
  acknowledge(table, {
    'NIST.800.53.R5-DynamoDBInBackupPlan':
      'Point-in-time recovery is on (continuous backups, 35 days) and the items are deployment state that expires by TTL; an AWS Backup plan is an account-level choice, and one that selects by tag or ARN covers this table too.',
  });
}

/** The trigger's dead-letter queue. */
export function acknowledgeDeadLetterQueue(queue: IConstruct): void {
  const reason = 'This queue is the dead-letter queue of the trigger’s Lambda functions and EventBridge targets; a DLQ of a DLQ would only move the problem.';
  acknowledge(queue, { 'AwsSolutions-SQS3': reason, 'Serverless-SQSRedrivePolicy': reason });
}

/** A burn-rate tier's long- or short-window alarm. */
export function acknowledgeWindowAlarm(alarm: IConstruct): void {
  acknowledge(alarm, {
    'NIST.800.53.R5-CloudWatchAlarmAction':
      "A window alarm of a burn-rate tier: a composite alarm ANDs it with the tier's other window (SRE Workbook, multiwindow burn-rate alerts) — the severity composite of the SLO or of its group, or the tier's own composite in the PER_TIER layout — and the severity composite carries the page and ticket actions; an action here would notify on one window alone.",
  });
}

/** A rollback alarm of a trigger: attached to the deployment group, or deliberately not (shadow mode). */
export function acknowledgeRollbackAlarm(alarm: IConstruct, shadow: boolean): void {
  acknowledge(alarm, {
    'NIST.800.53.R5-CloudWatchAlarmAction': shadow
      ? 'A rollback alarm in shadow mode: deliberately attached to nothing so that it cannot roll back; its state history shows when enforcing would have.'
      : "A rollback alarm: the deployment group's AlarmConfiguration names it, and CodeDeploy stops and rolls back a deployment while it is in ALARM; that is its action.",
  });
}
