import { Annotations, Duration, Token } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, IAlarm, IAlarmAction, IMetric, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { validateAlarmDescription, validateAlarmName, validateEvaluationRange } from '../core/cloudwatch-limits';
import { RollbackTriggersError, formatSeconds } from '../core/errors';
import { type EvaluatorHeartbeat, HEARTBEAT_STATISTIC, heartbeatGraceSeconds } from '../core/heartbeat';
import { POLICY_METADATA_TYPE, POLICY_SCHEMA_VERSION, type PolicyThresholdTrigger } from '../core/policy';
import { atConstruct } from '../private/errors';
import { isUnresolved } from '../private/metrics';
import { AlertSeverity } from '../slo/burn-rate-tier';
import { IAlarmTrigger } from './alarm-trigger';

/** Properties of a {@link HeartbeatTrigger}. */
export interface HeartbeatTriggerProps {
  /**
   * The heartbeat: a metric your workers publish on every beat (any value; the trigger counts
   * datapoints, its `SampleCount`, and replaces the metric's statistic and period). Publish it only
   * while the worker is alive: a metric AWS publishes with zeros when idle never goes missing.
   * With `versionDimension`, this is the metric without that dimension (all versions together),
   * which the alarm watches; publish each beat under both dimension sets.
   */
  readonly metric: IMetric;
  /**
   * How often a beat must arrive: the alarm's period, and the evaluator's interval. Whole minutes,
   * from 1 minute to 1 day.
   *
   * @default Duration.minutes(1)
   */
  readonly interval?: Duration;
  /**
   * N in "M of N": how many recent intervals are looked at.
   *
   * @default 3
   */
  readonly evaluationPeriods?: number;
  /**
   * M in "M of N": how many of them without a beat fail. Equal to `evaluationPeriods` means
   * consecutive missing beats. After a release the evaluator ignores missing beats of the new
   * version for `interval × datapointsToAlarm` (the grace: it may not have beaten yet), and until
   * all traffic is on it (the AfterAllowTraffic hook's start), whichever ends later.
   *
   * @default - evaluationPeriods
   */
  readonly datapointsToAlarm?: number;
  /**
   * The dimension whose value names the version that beat (Lambda: the version number, from the
   * `AWS_LAMBDA_FUNCTION_VERSION` environment variable; ECS: the task set id CodeDeploy reports).
   * Given to a `RollbackTrigger`, the evaluator then reads the new version's own beats (the
   * dimension set to the deployment's target version) and fails the release when they stop, while
   * the current version keeps beating. Without it the evaluator reads the metric as declared, and
   * only catches a release that silences every worker.
   *
   * @default - none: all versions' beats together
   */
  readonly versionDimension?: string;
  /**
   * Whether the trigger pages or opens a ticket. A `RollbackTrigger` attaches PAGE triggers only.
   *
   * @default AlertSeverity.PAGE
   */
  readonly severity?: AlertSeverity;
  /**
   * Actions when the trigger fires.
   *
   * @default - no actions
   */
  readonly actions?: IAlarmAction[];
  /**
   * Name of the alarm: 1 to 255 characters, no ASCII control characters, no double quote.
   *
   * @default - CloudFormation generates a unique name
   */
  readonly alarmName?: string;
  /**
   * Description of the alarm, at most 1,024 characters.
   *
   * @default - derived from the interval and M of N
   */
  readonly description?: string;
}

/** CloudWatch: at most 30 dimensions per metric (PutMetricData API reference, `Dimensions`). */
const MAX_DIMENSIONS = 30;
/** CloudWatch: a dimension name is 1 to 255 characters (Dimension API reference, `Name`). */
const MAX_DIMENSION_NAME = 255;
/** CloudWatch: the longest alarm period is one day (PutMetricAlarm API reference, `Period`). */
const MAX_INTERVAL_SECONDS = 86_400;

/**
 * A dead man's switch: the alarm fires when a heartbeat metric stops arriving. Missing datapoints
 * are breaching (`TreatMissingData: breaching`), the period is the interval, and M of N intervals
 * without a beat fire it. Given to a `RollbackTrigger` in `alarmTriggers`, its alarm is polled by
 * CodeDeploy, and the evaluator judges the new version's own beats during the bake: a missing beat
 * is a failure there, not "no data", once a grace of `interval × datapointsToAlarm` after the
 * release is over and all traffic is on the new version.
 */
export class HeartbeatTrigger extends Construct implements IAlarmTrigger {
  /** The alarm: in ALARM while M of the last N intervals had no beat. */
  public readonly alarm: IAlarm;
  /** Whether the trigger pages or opens a ticket (only a paging trigger may roll back). */
  public readonly severity: AlertSeverity;
  /** How often a beat must arrive. */
  public readonly interval: Duration;
  /**
   * How long after a release the evaluator ignores missing beats of the new version: interval ×
   * datapointsToAlarm (longer when all traffic shifts later: missing beats count from the shift then).
   */
  public readonly grace: Duration;

  /** @internal the policy entry the plan, the emulator and the simulator read */
  public readonly _policy: PolicyThresholdTrigger;
  /** @internal what a RollbackTrigger's evaluator reads */
  public readonly _heartbeat: EvaluatorHeartbeat;

  constructor(scope: Construct, id: string, props: HeartbeatTriggerProps) {
    super(scope, id);
    const { metric, interval, evaluationPeriods, datapointsToAlarm, versionDimension, dimensions } = atConstruct(this, () => checkProps(props));
    this.severity = props.severity ?? AlertSeverity.PAGE;
    this.interval = Duration.seconds(interval);
    const spec = { intervalSeconds: interval, evaluationPeriods, datapointsToAlarm };
    const grace = heartbeatGraceSeconds(spec);
    this.grace = Duration.seconds(grace);

    const description =
      props.description ??
      `Heartbeat ${this.node.path}: no beat (SampleCount < 1) in ${datapointsToAlarm} of ${evaluationPeriods} intervals of ${formatSeconds(interval)}; ` +
        'missing data is breaching (a dead man\'s switch).';
    if (!isUnresolved(description)) {
      atConstruct(this, () => validateAlarmDescription(props.description !== undefined ? 'description' : 'the derived description (from the construct path)', description));
    }
    checkAlarmName(this, props.alarmName);
    const alarm = new Alarm(this, 'Alarm', {
      metric: metric.with({ statistic: HEARTBEAT_STATISTIC, period: this.interval }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods,
      datapointsToAlarm,
      // "For a metric that continually reports data … you might want to treat missing data points as
      // breaching, because they might indicate that something is wrong" (CloudWatch User Guide,
      // "Configuring how CloudWatch alarms treat missing data").
      treatMissingData: TreatMissingData.BREACHING,
      alarmName: props.alarmName,
      alarmDescription: description,
    });
    for (const action of props.actions ?? []) alarm.addAlarmAction(action);
    this.alarm = alarm;

    this._policy = {
      kind: 'threshold',
      name: id,
      path: this.node.path,
      comparison: ComparisonOperator.LESS_THAN_THRESHOLD,
      threshold: 1,
      periodSeconds: interval,
      evaluationPeriods,
      datapointsToAlarm,
      treatMissingData: 'breaching',
      metricCount: 1,
      highResolution: false,
      severity: this.severity === AlertSeverity.PAGE ? 'page' : 'ticket',
      heartbeat: { graceSeconds: grace, ...(versionDimension !== undefined ? { versionDimension } : {}) },
    };
    const stat = metric.toMetricConfig().metricStat!;
    this._heartbeat = {
      name: id,
      ...spec,
      ...(versionDimension !== undefined ? { versionDimension } : {}),
      namespace: stat.namespace,
      metricName: stat.metricName,
      dimensions,
    };
    this.node.addMetadata(POLICY_METADATA_TYPE, { schemaVersion: POLICY_SCHEMA_VERSION, entry: this._policy });
  }
}

interface CheckedHeartbeat {
  readonly metric: Metric;
  readonly interval: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly versionDimension?: string;
  /** The metric's dimensions as the evaluator reads them (tokens resolved at deploy). */
  readonly dimensions: Record<string, string>;
}

function checkProps(props: HeartbeatTriggerProps): CheckedHeartbeat {
  const metric = checkMetric(props.metric);
  const interval = checkInterval(props.interval ?? Duration.minutes(1));
  const evaluationPeriods = props.evaluationPeriods ?? 3;
  const datapointsToAlarm = props.datapointsToAlarm ?? evaluationPeriods;
  checkMOfN(evaluationPeriods, datapointsToAlarm);
  validateEvaluationRange('the heartbeat', interval, evaluationPeriods);
  if (props.severity !== undefined && props.severity !== AlertSeverity.PAGE && props.severity !== AlertSeverity.TICKET) {
    throw new RollbackTriggersError('RT123', `severity must be AlertSeverity.PAGE or AlertSeverity.TICKET, got ${JSON.stringify(props.severity)}`, { prop: 'severity' });
  }
  const stat = metric.toMetricConfig().metricStat!;
  const dimensions = Object.fromEntries((stat.dimensions ?? []).map((d) => [d.name, Token.asString(d.value)]));
  if (props.versionDimension !== undefined) checkVersionDimension(props.versionDimension, Object.keys(dimensions));
  return { metric, interval, evaluationPeriods, datapointsToAlarm, versionDimension: props.versionDimension, dimensions };
}

function checkMetric(metric: IMetric): Metric {
  if (!(metric instanceof Metric)) {
    throw new RollbackTriggersError(
      'RT229',
      `metric must be a plain Metric (namespace, name, dimensions), got ${metric?.constructor?.name ?? String(metric)} — the evaluator reads the heartbeat per version, which metric math cannot be`,
      { prop: 'metric' },
    );
  }
  if (!Token.isUnresolved(metric.namespace) && metric.namespace === 'AWS/DynamoDB') {
    // PutMetricAlarm API reference, TreatMissingData: "Alarms that evaluate metrics in the
    // AWS/DynamoDB namespace always ignore missing data even if you choose a different option".
    throw new RollbackTriggersError(
      'RT229',
      'metric is in the AWS/DynamoDB namespace, whose alarms always ignore missing data whatever TreatMissingData says: a heartbeat there would never fire — publish a heartbeat metric of your own',
      { prop: 'metric' },
    );
  }
  return metric;
}

function checkInterval(interval: Duration): number {
  if (interval.isUnresolved()) {
    throw new RollbackTriggersError('RT226', 'interval must be a literal duration, got a token — the alarm period and the evaluator need its seconds at synth', { prop: 'interval' });
  }
  const seconds = interval.toSeconds({ integral: false });
  if (!(Number.isInteger(seconds) && seconds >= 60 && seconds % 60 === 0 && seconds <= MAX_INTERVAL_SECONDS)) {
    throw new RollbackTriggersError(
      'RT226',
      `interval must be whole minutes from 1 minute to 1 day, got ${interval.toString()} — CloudWatch alarm periods are multiples of 60 s up to 1 day, and sub-minute heartbeats would need high-resolution metrics`,
      { prop: 'interval' },
    );
  }
  return seconds;
}

function checkMOfN(evaluationPeriods: number, datapointsToAlarm: number): void {
  for (const [prop, value] of [
    ['evaluationPeriods', evaluationPeriods],
    ['datapointsToAlarm', datapointsToAlarm],
  ] as const) {
    if (isUnresolved(value)) {
      throw new RollbackTriggersError('RT227', `${prop} must be a literal number, got a token — the grace after a release and the plan need it at synth`, { prop });
    }
    if (!Number.isInteger(value) || value < 1) throw new RollbackTriggersError('RT227', `${prop} must be a whole number of at least 1, got ${value}`, { prop });
  }
  if (datapointsToAlarm > evaluationPeriods) {
    throw new RollbackTriggersError(
      'RT227',
      `datapointsToAlarm must be at most evaluationPeriods (${evaluationPeriods}), got ${datapointsToAlarm} — M missing beats are counted among the last N intervals`,
      { prop: 'datapointsToAlarm' },
    );
  }
}

function checkVersionDimension(name: string, dimensions: readonly string[]): void {
  if (typeof name !== 'string' || Token.isUnresolved(name) || name.trim().length === 0 || name.length > MAX_DIMENSION_NAME) {
    const got = typeof name === 'string' && Token.isUnresolved(name) ? 'a token' : JSON.stringify(name);
    throw new RollbackTriggersError(
      'RT228',
      `versionDimension must be a literal dimension name of 1 to ${MAX_DIMENSION_NAME} characters, got ${got} — the evaluator adds it to the metric with the new version's value`,
      { prop: 'versionDimension' },
    );
  }
  if (dimensions.includes(name)) {
    throw new RollbackTriggersError(
      'RT228',
      `versionDimension "${name}" is already one of the metric's dimensions: give the metric without it (all versions together, which the alarm watches); the evaluator sets it to each version`,
      { prop: 'versionDimension' },
    );
  }
  if (dimensions.length + 1 > MAX_DIMENSIONS) {
    throw new RollbackTriggersError('RT228', `the metric has ${dimensions.length} dimensions; with versionDimension it would have more than CloudWatch's ${MAX_DIMENSIONS}`, { prop: 'versionDimension' });
  }
}

function checkAlarmName(scope: Construct, alarmName: string | undefined): void {
  if (alarmName === undefined) return;
  if (isUnresolved(alarmName)) {
    Annotations.of(scope).addWarningV2(
      'cdk-rollback-triggers:unresolvedAlarmName',
      'alarmName is a token: its length (at most 255 characters) and characters (no ASCII control characters, no double quote) could not be checked at synth.',
    );
    return;
  }
  atConstruct(scope, () => validateAlarmName(alarmName, 'alarmName'));
}
