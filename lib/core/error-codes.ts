/**
 * Every error code of the library, in one place: the throw sites name a code, the type checker
 * refuses one that is not here (`ErrorCode`), and `npm run docs:errors` renders docs/errors.md from
 * it. The hundreds say what a code is about (see {@link ERROR_RANGES}); a code keeps its number and
 * its one meaning once released, so users and tests can match on it.
 */

/** When a code is raised. */
export type ErrorSource =
  /** A construct refuses its props or wiring, in the constructor or at synth. */
  | 'synth'
  /** A function of the pure core refuses its input (plan, emulator, canary judge, simulator). */
  | 'api'
  /** The `rollback-triggers` CLI refuses a flag, a file or a cloud assembly. */
  | 'cli'
  /** A Lambda handler cannot read what its construct configured: a deployment bug. */
  | 'runtime';

export interface ErrorCodeInfo {
  /** What went wrong, in one line a newcomer can act on. */
  readonly meaning: string;
  /** The prop, field or flag at fault, when there is one. */
  readonly prop?: string;
  readonly source: ErrorSource;
}

/** One range of codes: what its codes are about. */
export interface ErrorRange {
  /** The hundreds digit: 1 for RT1xx. */
  readonly hundred: number;
  readonly title: string;
  readonly about: string;
}

export const ERROR_RANGES: readonly ErrorRange[] = [
  {
    hundred: 1,
    title: 'SLOs and burn-rate tiers',
    about: '`ServiceLevelObjective`, `BurnRateTier`, `Sli` and `RollbackPlan`: the objective, the tiers and the SLO arithmetic the alarms are computed from.',
  },
  {
    hundred: 2,
    title: 'CloudWatch alarm limits',
    about: 'What CloudWatch would refuse, or silently evaluate wrong, in the alarms an SLO or a `ThresholdTrigger` creates: periods, names, math, composites.',
  },
  {
    hundred: 3,
    title: 'RollbackTrigger wiring',
    about: "A `RollbackTrigger`'s props, its target, its deployment group, its health checks and the handler bundles it deploys.",
  },
  {
    hundred: 4,
    title: 'Policy documents and the evaluator configuration',
    about: 'The JSON the constructs hand to their executors: policy entries read by `policyFromEntries`, and the configuration the evaluator Lambda reads at run time.',
  },
  {
    hundred: 5,
    title: 'Alarm emulator input',
    about: '`emulate()` and `compilePolicy()`: the series, the alarms of the policy and the options of a replay.',
  },
  {
    hundred: 6,
    title: 'Canary judge input',
    about: "The canary judge's counts, metrics and thresholds.",
  },
  {
    hundred: 7,
    title: 'Simulator and CLI input',
    about: "`simulate()`'s series, release, deployment, policy and evaluator settings, and the `rollback-triggers` CLI's flags and files.",
  },
];

export const ERROR_CODES = {
  // RT1xx: SLOs and burn-rate tiers
  RT101: { meaning: 'objectivePercent is not above 0 and below 100 (NaN and infinities included)', prop: 'objectivePercent', source: 'synth' },
  RT102: { meaning: "a tier's budget consumed is not above 0 % and at most 100 % of the error budget", prop: 'budgetConsumedPercent', source: 'synth' },
  RT103: { meaning: "a tier's long or short window is not positive", prop: 'longWindow, shortWindow', source: 'synth' },
  RT104: { meaning: "a tier's short window is not shorter than its long window", prop: 'shortWindow', source: 'synth' },
  RT105: { meaning: "a tier's long window is longer than the compliance period", prop: 'longWindow, compliancePeriod', source: 'synth' },
  RT106: {
    meaning: 'a tier can never fire: its burn-rate threshold needs an error ratio above 100 % (a 90 % SLO with the 14.4× tier)',
    prop: 'tiers',
    source: 'synth',
  },
  RT107: { meaning: "a custom tier's default short window (longWindow ÷ 12) is not whole seconds", prop: 'shortWindow', source: 'synth' },
  RT108: { meaning: 'a tier name is not 1 to 64 letters, digits or dashes, or is "page" or "ticket"', prop: 'name', source: 'synth' },
  RT109: {
    meaning: 'a duration is a token: its seconds are needed at synth to compute the alarms',
    prop: 'compliancePeriod, resolution, longWindow, shortWindow, period, bake, deadline, metricDelay, auditRetention, approvalTimeout, circuitBreaker.window, circuitBreaker.cooldown, verifyRollback.duration',
    source: 'synth',
  },
  RT110: { meaning: 'executedVersion is given for a target that is not an alias (Lambda publishes ExecutedVersion only for alias invocations)', prop: 'executedVersion', source: 'synth' },
  RT111: { meaning: "a latency SLI's threshold is not a positive number", prop: 'threshold', source: 'synth' },
  RT112: { meaning: "a target group's latency metric is not a plain CloudWatch metric: use Sli.latency() with your own metric", prop: 'targetGroup', source: 'synth' },
  RT113: {
    meaning: 'a number the alarms or the policy are computed from is a token',
    prop: 'objectivePercent, minEventsPerWindow, budgetConsumedPercent, evaluationPeriods, datapointsToAlarm',
    source: 'synth',
  },
  RT114: { meaning: 'minEventsPerWindow is not a whole number from 1 to 2^53 − 1', prop: 'minEventsPerWindow', source: 'synth' },
  RT115: { meaning: 'alarmNamePrefix is empty: omit it to let CloudFormation generate names', prop: 'alarmNamePrefix', source: 'synth' },
  RT116: { meaning: 'the tier list is empty, or an entry is not a BurnRateTier', prop: 'tiers', source: 'synth' },
  RT117: { meaning: 'two tiers of one SLO have the same name', prop: 'tiers', source: 'synth' },
  RT118: {
    meaning: 'a duration is not a whole number of seconds above 0 (0, NaN, infinite, Duration.millis(1500))',
    prop: 'compliancePeriod, resolution, longWindow, shortWindow, period, bake, deadline, metricDelay, approvalTimeout, circuitBreaker.window, circuitBreaker.cooldown, verifyRollback.duration',
    source: 'synth',
  },
  RT119: {
    meaning: 'an objective above 99.9999 %: a budget below one bad event in a million cannot be written in the alarms\' metric math',
    prop: 'objectivePercent',
    source: 'synth',
  },
  RT120: {
    meaning: "an explicit minEventsPerWindow at which one failed request already reaches a tier's threshold, so the tier fires on any single failure",
    prop: 'minEventsPerWindow',
    source: 'synth',
  },
  RT121: { meaning: 'sloName is empty, blank or a token', prop: 'sloName', source: 'synth' },
  RT122: {
    meaning: 'two SLOs of one stack, or an SLO and a ServiceLevelObjectiveGroup, have the same name (the plan, the simulator and the evaluator tell them apart by name)',
    prop: 'sloName',
    source: 'synth',
  },
  RT123: { meaning: 'a severity is not AlertSeverity.PAGE or AlertSeverity.TICKET', prop: 'severity', source: 'synth' },
  RT124: { meaning: 'an SLO has no sli', prop: 'sli', source: 'synth' },
  RT125: {
    meaning: 'actions or suppression for a severity the SLO has no tier of (they would never run)',
    prop: 'pageActions, ticketActions, suppressTicketsWhilePaging',
    source: 'synth',
  },
  RT126: { meaning: 'RollbackPlan.detectionSeconds() or latestDetectionSeconds() names an SLO or tier the plan does not have', prop: 'sloName, tierName', source: 'synth' },
  RT127: { meaning: "metricBurnRate's window is not whole minutes from 1 minute to 7 days", prop: 'window', source: 'synth' },
  RT128: {
    meaning: "metricErrorBudgetRemaining cannot read the SLO's compliance period as one CloudWatch period (whole hours up to 455 days)",
    prop: 'compliancePeriod',
    source: 'synth',
  },
  RT129: { meaning: 'alarmLayout is not one of the AlarmLayout values', prop: 'alarmLayout', source: 'synth' },
  RT130: {
    meaning: 'applicationSignalsSloName is not a valid Application Signals SLO name, is set without alarmLayout NATIVE, or two SLOs of a stack would get the same name',
    prop: 'applicationSignalsSloName',
    source: 'synth',
  },
  RT132: {
    meaning: 'a ServiceLevelObjectiveGroup or its member SLO is wired wrong: actions or suppression on the member, PER_TIER layout, another stack, no member, a bad groupName',
    prop: 'group, groupName, pageActions, ticketActions, suppressTicketsWhilePaging, alarmLayout',
    source: 'synth',
  },
  RT131: {
    meaning: 'alarmLayout NATIVE: the SLO cannot be an Application Signals SLO (windows, compliance period, metrics of another Region, too many queries)',
    prop: 'alarmLayout, compliancePeriod',
    source: 'synth',
  },
  RT140: {
    meaning: "an agent self-evaluation SLI's service or version is not a CloudWatch dimension value (1 to 1,024 printable ASCII characters, not blank)",
    prop: 'service, version',
    source: 'synth',
  },
  RT141: {
    meaning:
      "an SLI's metric namespace is not 1 to 255 printable ASCII characters, is blank or starts with \"AWS/\" (or, for an agent's, with ':'; for a log pattern's metric filters, holds ':', '*' or '$')",
    prop: 'metricNamespace',
    source: 'synth',
  },
  RT142: { meaning: "an agent self-evaluation SLI's confidenceThreshold is not a literal number above 0 and at most 1", prop: 'confidenceThreshold', source: 'synth' },
  RT143: { meaning: 'Sli.logPattern needs a scope, an id and a log group', prop: 'scope, id, logGroup', source: 'synth' },
  RT144: { meaning: "a log-pattern SLI's filter pattern is missing, empty (badPattern) or over 1,024 characters", prop: 'badPattern, totalPattern', source: 'synth' },
  RT145: {
    meaning: "a log-pattern SLI's metric name is not 1 to 255 characters without ':', '*' or '$', or the bad and total metric names are the same",
    prop: 'badMetricName, totalMetricName',
    source: 'synth',
  },
  RT146: { meaning: 'a log-pattern SLI has both or neither of totalPattern and totalMetric', prop: 'totalPattern, totalMetric', source: 'synth' },
  RT147: {
    meaning: "a log-pattern SLI's versionField is not a field of a JSON ($.field) or space-delimited ($field) filter pattern, or comes with totalMetric",
    prop: 'versionField',
    source: 'synth',
  },
  RT148: {
    meaning: "an SLI that reads a version declared at synth (Sli.agentSelfEvaluation's version) is an objective of an ECS RollbackTrigger, whose releases are task sets the app does not name",
    prop: 'objectives',
    source: 'synth',
  },
  RT150: {
    meaning: "SloDashboard's dashboardName is empty, over 255 characters, holds a character other than A-Z, a-z, 0-9, '-' or '_', or is another SloDashboard's in the same account and Region",
    prop: 'dashboardName',
    source: 'synth',
  },
  RT151: { meaning: "SloDashboard's start is not a relative ISO 8601 duration such as -PT6H or -P7D", prop: 'start', source: 'synth' },
  RT152: { meaning: 'an SloDashboard entry is not a ServiceLevelObjective (objectives, addObjective) or a RollbackTrigger (triggers, addTrigger)', prop: 'objectives, triggers', source: 'synth' },
  RT153: { meaning: 'an SloDashboard shows no SLO and no rollback trigger at synth', prop: 'objectives, triggers, discover', source: 'synth' },
  RT154: {
    meaning: "an SloDashboard widget's query is invalid: a query id CloudWatch refuses or used twice, over 100 metrics in one graph, or a deployment group name a Logs Insights string cannot hold",
    prop: 'objectives, triggers',
    source: 'synth',
  },
  RT155: { meaning: 'an SloDashboard would hold more than the 500 widgets a CloudWatch dashboard may have', prop: 'objectives, triggers', source: 'synth' },

  // RT2xx: CloudWatch alarm limits
  RT201: { meaning: 'a period or window is not 10, 20 or 30 s or a multiple of 60 s', prop: 'period, longWindow, shortWindow', source: 'synth' },
  RT202: { meaning: 'a sub-minute resolution or period on AWS-vended (AWS/…) metrics, which are not high resolution', prop: 'resolution, period', source: 'synth' },
  RT203: { meaning: "a window or period is not a multiple of the SLI's or metric's resolution", prop: 'resolution, period, longWindow, shortWindow', source: 'synth' },
  RT204: { meaning: 'evaluationPeriods is not a whole number of at least 1', prop: 'evaluationPeriods', source: 'synth' },
  RT205: { meaning: 'period × evaluationPeriods is beyond 1 day (period under 1 h) or 7 days', prop: 'period, evaluationPeriods', source: 'synth' },
  RT206: { meaning: 'datapointsToAlarm is not a whole number from 1 to evaluationPeriods', prop: 'datapointsToAlarm', source: 'synth' },
  RT207: { meaning: 'a metric-math alarm would use more than 10 metrics', prop: 'metric, sli', source: 'synth' },
  RT208: { meaning: 'a metric-math alarm would use more than 10 math expressions', prop: 'metric, sli', source: 'synth' },
  RT209: { meaning: 'an alarm name is over 255 characters', prop: 'alarmNamePrefix, alarmName', source: 'synth' },
  RT210: { meaning: 'a composite alarm would combine more than 100 alarms', prop: 'tiers', source: 'synth' },
  RT211: { meaning: "a composite alarm's rule is over 10,240 characters", prop: 'alarmNamePrefix, tiers', source: 'synth' },
  RT212: { meaning: "a threshold trigger's comparison is an anomaly-band or unknown operator", prop: 'comparisonOperator', source: 'synth' },
  RT213: { meaning: "a trigger's metric is not a Metric or a MathExpression, so its period cannot be set", prop: 'metric', source: 'synth' },
  RT214: { meaning: 'a window or period under a minute without resolution declaring high-resolution metrics', prop: 'resolution', source: 'synth' },
  RT215: {
    meaning: 'an alarm name is empty, or an alarm name, alarmNamePrefix or sloName holds a control character, a double quote or text that is not UTF-8',
    prop: 'alarmName, alarmNamePrefix, sloName',
    source: 'synth',
  },
  RT216: {
    meaning: 'math an alarm cannot evaluate: SEARCH(), METRICS(), ANOMALY_DETECTION_BAND(), a Metrics Insights query over 3 hours or at high resolution',
    prop: 'sli, metric',
    source: 'synth',
  },
  RT217: { meaning: 'a math expression references a query id missing from its usingMetrics', prop: 'usingMetrics', source: 'synth' },
  RT218: { meaning: "a trigger's threshold is NaN or infinite (the template would carry \"Threshold\": null)", prop: 'threshold', source: 'synth' },
  RT219: { meaning: 'treatMissingData is not a TreatMissingData value', prop: 'treatMissingData', source: 'synth' },
  RT220: { meaning: 'an alarm description is over 1,024 characters', prop: 'description, sloName', source: 'synth' },
  RT221: { meaning: "an SLI's math binds a query id of the burn-rate alarm's own (bad, good, total) to another metric", prop: 'usingMetrics', source: 'synth' },
  RT226: { meaning: "a HeartbeatTrigger's interval is a token or not whole minutes from 1 minute to 1 day", prop: 'interval', source: 'synth' },
  RT227: {
    meaning: "a HeartbeatTrigger's evaluationPeriods or datapointsToAlarm is a token or not a whole number ≥ 1, or datapointsToAlarm is above evaluationPeriods",
    prop: 'evaluationPeriods, datapointsToAlarm',
    source: 'synth',
  },
  RT228: {
    meaning: "a HeartbeatTrigger's versionDimension is a token, blank or over 255 characters, already a dimension of the metric, or one dimension too many (CloudWatch allows 30)",
    prop: 'versionDimension',
    source: 'synth',
  },
  RT229: { meaning: "a HeartbeatTrigger's metric is not a plain Metric, or is in AWS/DynamoDB (whose alarms always ignore missing data)", prop: 'metric', source: 'synth' },

  // RT3xx: RollbackTrigger wiring
  RT301: { meaning: 'no objective is given', prop: 'objectives', source: 'synth' },
  RT302: { meaning: 'an ECS service without the CODE_DEPLOY deployment controller', prop: 'target', source: 'synth' },
  RT303: { meaning: 'the deployment group does not roll back on failure, stop and alarm (failure and stop in shadow mode)', prop: 'target', source: 'synth' },
  RT304: { meaning: 'the deployment group already has a pre- or post-traffic hook (CodeDeploy runs one function per hook)', prop: 'target', source: 'synth' },
  RT305: { meaning: 'bake is not above 0, or longer than the deadline minus the metric delay', prop: 'bake', source: 'synth' },
  RT306: { meaning: 'the deployment group would carry more alarms than maxAlarmsPerDeploymentGroup (default 10)', prop: 'maxAlarmsPerDeploymentGroup', source: 'synth' },
  RT307: { meaning: 'an objective has no page tier: the rollback path rolls back on the fastest page tier', prop: 'objectives', source: 'synth' },
  RT308: { meaning: 'no objective can be read by the evaluator (all use metric math)', prop: 'objectives', source: 'synth' },
  RT309: { meaning: "the evaluator configuration would exceed Lambda's 4 KB of environment", prop: 'objectives, healthChecks', source: 'synth' },
  RT310: { meaning: "a health check's url is not an http:// or https:// URL", prop: 'url', source: 'synth' },
  RT311: { meaning: "a health check's failAfter is a token or not a whole number of at least 1", prop: 'failAfter', source: 'synth' },
  RT312: { meaning: "a health check's timeout is a token or not whole milliseconds above 0 and at most 30 s", prop: 'timeout', source: 'synth' },
  RT313: { meaning: "a health check's minSuccessPercent is a token or not above 0 and at most 100", prop: 'minSuccessPercent', source: 'synth' },
  RT314: { meaning: 'baselineFactor is a token or negative', prop: 'baselineFactor', source: 'synth' },
  RT315: { meaning: 'runtime is not a Node.js runtime (the handlers are JavaScript bundles)', prop: 'runtime', source: 'synth' },
  RT316: { meaning: 'deadline is not whole seconds from 1 min to 55 min (CodeDeploy fails a hook after 1 h)', prop: 'deadline', source: 'synth' },
  RT317: { meaning: 'one bake tick would send more than 500 queries in its GetMetricData call', prop: 'objectives, healthChecks', source: 'synth' },
  RT320: { meaning: 'blueTargetGroup and greenTargetGroup are the same target group', prop: 'blueTargetGroup, greenTargetGroup', source: 'synth' },
  RT321: { meaning: 'the Lambda alias is not the one the deployment group releases', prop: 'alias', source: 'synth' },
  RT322: { meaning: "the ECS service is not the deployment group's service", prop: 'service', source: 'synth' },
  RT323: { meaning: 'a target group is not one of the two the deployment group swaps', prop: 'blueTargetGroup, greenTargetGroup', source: 'synth' },
  RT324: { meaning: "an objective's SLI measures another function, alias, service or target group than the target", prop: 'objectives', source: 'synth' },
  RT325: { meaning: "an objective's SLI is declared on a Lambda version instead of the alias", prop: 'objectives', source: 'synth' },
  RT326: { meaning: 'an objective is listed twice, or two objectives would share one rollback alarm', prop: 'objectives', source: 'synth' },
  RT327: { meaning: 'a composite alarm is on the deployment group (CodeDeploy does not document that it honours them)', prop: 'target', source: 'synth' },
  RT328: { meaning: "a custom deployment configuration beyond CodeDeploy's limits (step percentage, interval, total shift time)", prop: 'target', source: 'synth' },
  RT329: { meaning: "a health check's name is empty, blank, a token or a duplicate, or its canaryName is empty", prop: 'name, canaryName', source: 'synth' },
  RT330: { meaning: 'auditBus is in another Region or account, or notificationTopic in another Region', prop: 'auditBus, notificationTopic', source: 'synth' },
  RT331: { meaning: 'auditRetention is under 1 day, not whole days, or given with an auditBus of your own', prop: 'auditRetention', source: 'synth' },
  RT332: { meaning: 'maxAlarmsPerDeploymentGroup is not a whole number of at least 1', prop: 'maxAlarmsPerDeploymentGroup', source: 'synth' },
  RT333: { meaning: 'metricDelay is above the deadline minus one minute', prop: 'metricDelay', source: 'synth' },
  RT334: {
    meaning: 'a prop of the wrong kind (jsii callers are not type-checked): a missing target, an objective or health check of another class, an unknown enum value',
    prop: 'target, objectives, healthChecks, alarmTriggers, inconclusiveAction, mode',
    source: 'synth',
  },
  RT335: { meaning: 'another RollbackTrigger already guards the deployment group', prop: 'target', source: 'synth' },
  RT336: { meaning: 'an imported target group without its load balancer (it has no CloudWatch metrics)', prop: 'blueTargetGroup, greenTargetGroup', source: 'synth' },
  RT337: { meaning: 'an alarm trigger of severity TICKET: only a paging trigger may roll a release back', prop: 'alarmTriggers', source: 'synth' },
  RT338: { meaning: 'an alarm trigger is listed twice: its alarm would be attached to the deployment group twice', prop: 'alarmTriggers', source: 'synth' },
  RT339: { meaning: 'suspendAlarmPath in shadow mode, which attaches no alarm path to suspend', prop: 'suspendAlarmPath', source: 'synth' },
  RT340: { meaning: 'InconclusiveAction.ESCALATE or a circuitBreaker in shadow mode: shadow mode never asks a human (it never stops a release)', prop: 'inconclusiveAction, circuitBreaker', source: 'synth' },
  RT341: {
    meaning: 'approvalTimeout without inconclusiveAction ESCALATE or a circuitBreaker, or approvalTimeoutAction without ESCALATE: nothing would use it',
    prop: 'approvalTimeout, approvalTimeoutAction',
    source: 'synth',
  },
  RT342: {
    meaning: "approvalTimeout is not whole seconds from 1 min, or the deadline plus the approval timeout passes hook start + 52 min (the report-by time, 57 min, minus the answer's step): the answer could not reach CodeDeploy inside its hour",
    prop: 'approvalTimeout, deadline',
    source: 'synth',
  },
  RT343: { meaning: 'approvalTimeoutAction is not InconclusiveAction.FAIL or InconclusiveAction.PASS (no human answered: it cannot escalate again)', prop: 'approvalTimeoutAction', source: 'synth' },
  RT344: { meaning: 'grantApprove on a trigger that asks nobody (neither inconclusiveAction ESCALATE, a circuitBreaker nor a secondaryAction)', prop: 'inconclusiveAction', source: 'synth' },
  RT345: { meaning: 'circuitBreaker.maxRollbacks is not a whole number ≥ 1, or its window or cooldown is not whole minutes ≥ 1', prop: 'circuitBreaker', source: 'synth' },
  RT346: {
    meaning: 'verifyRollback.duration is not whole minutes from 1 to 40, or with the metric delay and 10 min for reads it passes 57 min (the evaluator retry clock)',
    prop: 'verifyRollback.duration',
    source: 'synth',
  },
  RT347: { meaning: 'guardWindow is not whole minutes from 10 min to 24 h', prop: 'guardWindow', source: 'synth' },
  RT348: {
    meaning: 'secondaryAction.approvalTimeout is not whole minutes from 1 min to 24 h, or secondaryAction is set in shadow mode (which never acts on a deployment)',
    prop: 'secondaryAction',
    source: 'synth',
  },
  RT349: {
    meaning: "a HeartbeatTrigger in alarmTriggers cannot fail a silent new version before the bake's deadline (grace + datapointsToAlarm intervals + metric delay > deadline)",
    prop: 'alarmTriggers',
    source: 'synth',
  },
  RT350: { meaning: 'two HeartbeatTriggers in one trigger\'s alarmTriggers have the same construct id (the evaluator\'s reasons name heartbeats by it)', prop: 'alarmTriggers', source: 'synth' },
  RT351: { meaning: 'a HeartbeatTrigger with a versionDimension is an alarm trigger of an ECS RollbackTrigger, whose new version (a task set id) no worker can put in its beats', prop: 'alarmTriggers', source: 'synth' },
  RT390: { meaning: 'runtime is a Node.js runtime older than nodejs18.x (the handlers are ES modules that import the AWS SDK v3 the runtime includes)', prop: 'runtime', source: 'synth' },
  RT399: { meaning: 'a handler bundle is missing from the package: build with "npm run bundle" (part of "npm run build")', source: 'synth' },

  // RT4xx: policy documents and the evaluator configuration
  RT401: { meaning: 'a policy entry has another schemaVersion than this release reads, or no entry: upgrade cdk-rollback-triggers', prop: 'schemaVersion', source: 'api' },
  RT402: {
    meaning: "the evaluator's environment is incomplete or its configuration is not JSON or malformed (no mode, no group, no SLO, a numerator it cannot read)",
    prop: 'RT_EVALUATOR_CONFIG, RT_STATE_TABLE, RT_EVENT_BUS',
    source: 'runtime',
  },
  RT403: { meaning: "the evaluator's configuration has another schemaVersion than the handler reads (construct and handler come from different releases)", prop: 'RT_EVALUATOR_CONFIG', source: 'runtime' },

  // RT5xx: alarm emulator input
  RT501: {
    meaning: 'M-of-N evaluation settings out of range: evaluationPeriods, datapointsToAlarm, treatMissingData, or an evaluation range shorter than evaluationPeriods',
    prop: 'evaluationPeriods, datapointsToAlarm, treatMissingData',
    source: 'api',
  },
  RT502: { meaning: 'a series is malformed: not an array, minutes not whole or not increasing, a count not finite ≥ 0, bad above total', prop: 'sli, baselines, metrics', source: 'api' },
  RT503: {
    meaning: "the policy's alarms do not form a valid graph: a duplicate id, a composite child no alarm defines, a bad operator, no children, a cycle",
    prop: 'policy',
    source: 'api',
  },
  RT504: { meaning: 'a policy alarm the emulator cannot evaluate: a field out of range, a sub-minute period, an unknown comparison or baseline', prop: 'policy', source: 'api' },
  RT505: {
    meaning: "the emulator's input or options are incomplete or out of range: a missing series, an unknown option, a run without minutes or over 60 days",
    prop: 'sli, baselines, metrics, options',
    source: 'api',
  },

  // RT6xx: canary judge input
  RT601: { meaning: "an arm's counts are not whole numbers ≥ 0, or bad exceeds total", prop: 'total, bad', source: 'api' },
  RT603: { meaning: "the judge's thresholds, scores, prior or method are out of range", prop: 'thresholds, proportion, prior, method', source: 'api' },
  RT604: { meaning: "the judge's metrics are not a list of uniquely named proportion metrics with positive weights", prop: 'metrics', source: 'api' },

  // RT7xx: simulator and CLI input
  RT701: { meaning: 'the simulator input or its series is not a non-empty array of entry objects', prop: 'series', source: 'api' },
  RT702: { meaning: "a series entry's minute is not a whole number, or minutes do not increase strictly", prop: 'minute', source: 'api' },
  RT703: { meaning: 'a count is not a whole number ≥ 0, or a heartbeat entry is not { canary?, stable?, blended? } of counts', prop: 'requests, errors, slow, failures, heartbeats', source: 'api' },
  RT704: { meaning: 'errors are above requests', prop: 'errors', source: 'api' },
  RT705: { meaning: 'slow or failures are above requests', prop: 'slow, failures', source: 'api' },
  RT706: { meaning: 'slow or failures is missing while a latency or business-failure SLO needs it', prop: 'slow, failures', source: 'api' },
  RT707: { meaning: "releaseMinute is not whole or before the series' first entry, or the replay would exceed 60 days", prop: 'releaseMinute', source: 'api' },
  RT708: { meaning: 'the deployment shape is invalid: kind, percent, interval or bake', prop: 'deployment', source: 'api' },
  RT709: { meaning: 'the policy is not a rollback policy document (an object)', prop: 'policy', source: 'api' },
  RT710: { meaning: 'an evaluator setting or the ingestion delay is out of range', prop: 'evaluator, ingestionDelayMinutes', source: 'api' },
  RT711: { meaning: 'a synthetics value is not a SuccessPercent from 0 to 100, or synthetics is not an object of canary names', prop: 'synthetics', source: 'api' },
  RT712: { meaning: 'a flag is unknown, repeated, without its value, out of range, or conflicts with another', prop: 'command-line flags', source: 'cli' },
  RT713: { meaning: 'a file is missing, a directory, empty, binary, "-" or not well-formed JSON, or an output could not be written', prop: 'input and output files', source: 'cli' },
  RT714: { meaning: 'a cloud assembly does not have the shape "cdk synth" writes', prop: 'cdk.out', source: 'cli' },
  RT715: { meaning: 'a policy entry in a cloud assembly is malformed or contradicts itself (edited by hand)', prop: 'policy metadata in cdk.out', source: 'cli' },
  RT716: { meaning: "a series file's field, column, row or entry breaks a rule", prop: 'series file (JSON or CSV)', source: 'cli' },
  RT717: { meaning: 'the policy has no SLO: both rollback paths judge burn rates of SLOs', prop: 'policy.slos', source: 'api' },
  RT718: { meaning: 'rollbackTrigger names a rollback trigger the policy does not hold', prop: 'rollbackTrigger', source: 'api' },
  RT719: { meaning: "a rollback trigger's alarm names an SLO the policy does not hold", prop: 'policy.rollbackTriggers[].alarms[].slo', source: 'api' },
  RT720: { meaning: 'the rollback trigger has no alarm, so no SLO for the evaluator to judge', prop: 'policy.rollbackTriggers[].alarms', source: 'api' },
  RT721: { meaning: 'no SLO of the policy has a page tier (the rollback paths judge the fastest page tier)', prop: 'policy.slos[].tiers', source: 'api' },
  RT722: { meaning: "a rollback alarm's baseline cannot be replayed: an unknown mode, a factor not finite ≥ 0, or a baseline on a declared-scope alarm", prop: 'policy.rollbackTriggers[].alarms[].baseline', source: 'api' },
  RT723: { meaning: "a rollback trigger's health checks are malformed: not an array, an unknown kind, an empty name or canaryName, minSuccessPercent out of range", prop: 'policy.rollbackTriggers[].healthChecks', source: 'api' },
  RT724: {
    meaning: 'a rollback trigger lacks a field the constructs always write (deadlineSeconds, baselineFactor, an alarm\'s windowSeconds): synthesize again with this release',
    prop: 'policy.rollbackTriggers[]',
    source: 'api',
  },
  RT725: { meaning: "breakerOpen is set, but the replayed rollback trigger has no circuit breaker", prop: 'breakerOpen', source: 'api' },
  RT726: {
    meaning: "a heartbeat's alarm cannot be replayed from beats per minute: its periodSeconds is not whole minutes (a hand-written policy; a HeartbeatTrigger's interval always is)",
    prop: 'policy.thresholdTriggers[].periodSeconds',
    source: 'api',
  },
  RT727: {
    meaning: "a rollback alarm's baseline.shift is not { kind: 'canary' | 'linear', share strictly between 0 and 1 }",
    prop: 'policy.rollbackTriggers[].alarms[].baseline.shift',
    source: 'api',
  },
  RT728: {
    meaning: "a rollback alarm's evaluatorReads is not \"declared\", or is on an alarm whose scope is not declared (only an SLI the evaluator reads as declared has it)",
    prop: 'policy.rollbackTriggers[].alarms[].evaluatorReads',
    source: 'api',
  },
} as const satisfies Record<`RT${number}`, ErrorCodeInfo>;

/** A registered code: a throw site naming any other string fails the typecheck. */
export type ErrorCode = keyof typeof ERROR_CODES;
