import { HOOK_LIMIT_SECONDS } from './evaluator-config';

/**
 * Every default of the library, in one place: the constructs apply them to omitted props, the
 * CLI's inline policy to omitted fields, the simulator to omitted evaluator settings. Each states
 * the fact it rests on; change one here and every executor changes with it.
 */

/** 30 days, the compliance period the SRE Workbook's tier factors are quoted for ("Alerting on SLOs", table 5-8). */
export const DEFAULT_COMPLIANCE_PERIOD_SECONDS = 30 * 86_400;

/**
 * Decide 55 minutes after the hook started: CodeDeploy fails a lifecycle hook that has not
 * reported within one hour (CodeDeploy User Guide, "AppSpec 'hooks' section"), and the last step,
 * the report and its retries need the remaining 5 minutes.
 */
export const DEFAULT_DEADLINE_SECONDS = HOOK_LIMIT_SECONDS - 300;

/** What an SLO declaration falls back to. */
export const SLO_DEFAULTS = Object.freeze({
  compliancePeriodSeconds: DEFAULT_COMPLIANCE_PERIOD_SECONDS,
  /**
   * AWS-vended metrics publish once a minute, and only custom metrics can be high resolution
   * (CloudWatch User Guide, "Publish custom metrics": StorageResolution).
   */
  resolutionSeconds: 60,
  /**
   * No data is no evidence of a burn: a window without events must not page. The expression's
   * minimum-event guard covers quiet windows (CloudWatch User Guide, "Configuring how CloudWatch
   * alarms treat missing data"; set explicitly on every SLO alarm).
   */
  treatMissingData: 'notBreaching' as const,
  /** One composite per severity carrying the whole multiwindow rule: the cheapest exact layout. */
  alarmLayout: 'exact' as 'exact' | 'per-tier' | 'native',
});

/** What a rollback trigger declaration falls back to. */
export const ROLLBACK_TRIGGER_DEFAULTS = Object.freeze({
  /** Ten minutes watching the new version: two short windows of the workbook's 14.4× tier (5 min). */
  bakeSeconds: 600,
  /**
   * CloudWatch's datapoints for a minute can arrive minutes after it ends (AWS services publish
   * their metrics in batches; nothing documents a bound): the evaluator trusts a minute only this
   * long after it ends, and reads incomplete minutes again on the next tick.
   */
  metricDelaySeconds: 180,
  /** See {@link DEFAULT_DEADLINE_SECONDS}. */
  deadlineSeconds: DEFAULT_DEADLINE_SECONDS,
  /** CloudWatch evaluates alarms with periods of a minute or more once a minute ("Alarm evaluation"): the evaluator ticks as often. */
  tickSeconds: 60,
  /**
   * The rollback alarms fire only while the new version fails more than twice as often as the
   * rest of the traffic: an incident every version shares does not roll a healthy release back.
   */
  baselineFactor: 2,
  /** Alarms per deployment group: 10 in the CodeDeploy API reference (AlarmConfiguration); the quotas page says 50, adjustable. */
  maxAlarmsPerDeploymentGroup: 10,
  /** Fail closed: a bake without evidence never passes silently. */
  inconclusiveAction: 'fail' as const,
  /** Judge the new version against the current one on the same minutes (canary statistics). */
  compareWithBaseline: true,
  /** Audit events archived a year by the bus the trigger creates. */
  auditRetentionDays: 365,
  /** The approval gate waits half an hour for a human (within the hook's hour, after a 22-minute deadline). */
  approvalTimeoutSeconds: 1_800,
  /** The circuit breaker opens on the 4th rollback of a group within an hour, and half-opens an hour later. */
  breakerMaxRollbacks: 3,
  breakerWindowSeconds: 3_600,
  breakerCooldownSeconds: 3_600,
  /** Ten minutes of the restored version's own traffic after a rollback: two short windows of the page tier. */
  verifyRollbackSeconds: 600,
});

/** What a health check declaration falls back to. */
export const HEALTH_CHECK_DEFAULTS = Object.freeze({
  /** One probe must end well inside a one-minute tick (the step's 120 s timeout holds retries too). */
  httpTimeoutMs: 5_000,
  /** Three consecutive failed probes (three ticks): one lost packet does not roll a release back. */
  httpFailAfter: 3,
  /** A minute fails unless every canary run in it succeeds (Synthetics `SuccessPercent`, the share of runs that succeeded, is 100). */
  minSuccessPercent: 100,
});
