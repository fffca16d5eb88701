import { ArnFormat, Names, Stack, Token, Validations } from 'aws-cdk-lib';
import { IRuleTarget, Rule, RuleTargetConfig } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ILogGroup, LogGroup, ResourcePolicy, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AUDIT_EVENT_SOURCE } from '../core/audit-events';
import { RollbackTriggersError } from '../core/errors';
import { acknowledgeLogGroup } from '../private/nag';
import { RULE_DESCRIPTION_LIMIT, withinLimit } from '../private/trigger-props';
import type { RollbackTrigger } from '../rollback/rollback-trigger';

/**
 * The columns of the "last decisions" table: a field of the audit event as CloudWatch Logs
 * Insights discovers it, and its column name. EventBridge writes the whole event to the log group
 * (the rule's default input), one JSON log event each; Logs Insights names nested JSON fields with
 * dots and array items by index (`detail.reasons.0`), and a field holding any character but
 * letters, digits, `@` and `.` must be written in backticks (`detail-type`) (CloudWatch Logs User
 * Guide, "Supported logs and discovered fields", "Fields that contain special characters").
 */
export const DECISION_COLUMNS: ReadonlyArray<{ readonly field: string; readonly as?: string }> = [
  { field: '@timestamp' },
  { field: '`detail-type`', as: 'event' },
  { field: 'detail.deploymentId', as: 'deployment' },
  { field: 'detail.lifecycleEvent', as: 'hook' },
  { field: 'detail.verdict', as: 'verdict' },
  { field: 'detail.reportedStatus', as: 'reported' },
  { field: 'detail.wouldRollback', as: 'wouldRollback' },
  { field: 'detail.toVersion', as: 'toVersion' },
  { field: 'detail.reasons.0', as: 'reason' },
];

/** Rows the table shows, newest first. */
export const DECISION_ROWS = 20;

/**
 * The Logs Insights query of one trigger's decisions, one command a line (the widget joins them
 * with `|`): its audit events (the deployment group's name is in every one, as the trigger's own
 * notices rule matches it), newest first. The name sits in a double-quoted string, which a
 * double quote, a backslash or a line break would end or corrupt (RT154).
 */
export function decisionsQuery(deploymentGroupName: string): string[] {
  if (!Token.isUnresolved(deploymentGroupName) && /["\\\r\n]/.test(deploymentGroupName)) {
    throw new RollbackTriggersError(
      'RT154',
      `the deployment group name ${JSON.stringify(deploymentGroupName)} holds a double quote, a backslash or a line break, which the decisions query cannot hold in its filter string — ` +
        'rename the deployment group (CodeDeploy names need none of them)',
      { prop: 'triggers' },
    );
  }
  const fields = DECISION_COLUMNS.map(({ field, as }) => (as === undefined ? field : `${field} as ${as}`)).join(', ');
  return [`fields ${fields}`, `filter detail.deploymentGroupName = "${deploymentGroupName}"`, 'sort @timestamp desc', `limit ${DECISION_ROWS}`];
}

/**
 * Where the dashboard reads the triggers' decisions: a log group that an EventBridge rule per
 * trigger fills with the trigger's audit events. The trigger keeps its audit trail on an event bus
 * with an archive, which Logs Insights cannot query; the log group is a copy for reading.
 */
export class DecisionLog extends Construct {
  public readonly logGroup: ILogGroup;

  constructor(scope: Construct, id: string, given?: ILogGroup) {
    super(scope, id);
    if (given !== undefined) {
      this.logGroup = given;
      return;
    }
    const logGroup = new LogGroup(this, 'LogGroup', { retention: RetentionDays.ONE_YEAR });
    acknowledgeLogGroup(logGroup);
    const stack = Stack.of(this);
    // EventBridge writes to CloudWatch Logs under the log group's resource policy, not a role
    // (EventBridge User Guide, "Using resource-based policies for Amazon EventBridge", CloudWatch
    // Logs permissions). For a rule target, aws:SourceArn is the rule's ARN ("Cross-service
    // confused deputy prevention in Amazon EventBridge"): any rule of this account and Region may
    // write, so the policy has one fixed size however many triggers the dashboard shows
    // (a CloudWatch Logs resource policy holds at most 5,120 characters, PutResourcePolicy).
    // The rule's ARN is the source only of the PutLogEvents call: CreateLogStream carries none, so a
    // condition on it denies the stream and no event is ever written (AWS's own EventBridge →
    // CloudWatch Logs pattern conditions PutLogEvents alone, aws-samples/serverless-patterns
    // eventbridge-cloudwatch, PR #618; aws-cdk-lib's CloudWatchLogGroup target sets no condition).
    new ResourcePolicy(this, 'Policy', {
      policyStatements: [
        new PolicyStatement({
          sid: 'AuditEventStreamsForEventBridge',
          principals: [new ServicePrincipal('events.amazonaws.com')],
          actions: ['logs:CreateLogStream'],
          resources: [logGroup.logGroupArn],
        }),
        new PolicyStatement({
          sid: 'AuditEventsFromEventBridgeRules',
          principals: [new ServicePrincipal('events.amazonaws.com')],
          actions: ['logs:PutLogEvents'],
          resources: [logGroup.logGroupArn],
          conditions: {
            StringEquals: { 'aws:SourceAccount': stack.account },
            ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'events', resource: 'rule', resourceName: '*' }) },
          },
        }),
      ],
    });
    this.logGroup = logGroup;
  }

  /** A rule on the trigger's audit bus that copies the events of its deployment group to the log group. */
  public addTrigger(trigger: RollbackTrigger): void {
    const rule = new Rule(this, Names.nodeUniqueId(trigger.node), {
      description: withinLimit(RULE_DESCRIPTION_LIMIT, (p) => `Copies the audit events of ${p} to an SLO dashboard's decisions log`, trigger.node.path),
      eventBus: trigger.auditBus,
      eventPattern: { source: [AUDIT_EVENT_SOURCE], detail: { deploymentGroupName: [trigger.deploymentGroupName] } },
      targets: [new LogGroupTarget(this.logGroup)],
    });
    const policy = this.node.tryFindChild('Policy');
    if (policy) rule.node.addDependency(policy);
    Validations.of(rule).acknowledge({
      id: 'Serverless-EventBusDLQ',
      reason:
        "The rule copies audit events for reading on a dashboard; the trigger's audit bus archives every event, so one EventBridge could not deliver here after its retries is still in the archive.",
    });
  }
}

/**
 * A log group as the target of a rule, without aws-cdk-lib's CloudWatchLogGroup target: that one
 * sets the log group's resource policy through a custom resource (a Lambda function); the policy
 * here is a plain AWS::Logs::ResourcePolicy.
 */
class LogGroupTarget implements IRuleTarget {
  constructor(private readonly logGroup: ILogGroup) {}

  public bind(): RuleTargetConfig {
    // The log group's ARN without the trailing `:*`, as aws-cdk-lib's CloudWatchLogGroup target names it.
    const arn = Stack.of(this.logGroup).formatArn({ service: 'logs', resource: 'log-group', arnFormat: ArnFormat.COLON_RESOURCE_NAME, resourceName: this.logGroup.logGroupName });
    return { arn, targetResource: this.logGroup };
  }
}
