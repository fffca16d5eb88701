import { IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import { IConstruct } from 'constructs';
import { AlertSeverity } from '../slo/burn-rate-tier';

/**
 * A trigger backed by one CloudWatch alarm, such as a {@link ThresholdTrigger}. A
 * `RollbackTrigger` attaches the alarm of every such trigger of severity PAGE that it is given
 * (`alarmTriggers`) to its deployment group, beside the SLO alarms: CodeDeploy then stops and rolls
 * back a deployment while the alarm is in ALARM.
 */
export interface IAlarmTrigger extends IConstruct {
  /** The alarm CodeDeploy polls during a deployment. */
  readonly alarm: IAlarm;
  /** Whether the trigger pages or opens a ticket: only a paging trigger may roll a release back. */
  readonly severity: AlertSeverity;
}
