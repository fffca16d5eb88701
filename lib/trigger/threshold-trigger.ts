import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, IAlarm, IAlarmAction, IMetric, MathExpression, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import {
  POLICY_METADATA_TYPE,
  POLICY_SCHEMA_VERSION,
  PolicyThresholdTrigger,
  RollbackTriggersError,
  validateAlarmName,
  validateDatapointsToAlarm,
  validateEvaluationRange,
  validateMathAlarmSize,
  validatePeriod,
  validateResolutionForNamespaces,
} from '../core';
import { atConstruct } from '../private/errors';
import { isUnresolved, metricFootprint } from '../private/metrics';
import { AlertSeverity } from '../slo/burn-rate-tier';

/** Properties of a {@link ThresholdTrigger}. */
export interface ThresholdTriggerProps {
  /**
   * The metric to watch: a p99 latency (`fn.metricDuration({ statistic: Stats.p(99) })`), a gauge
   * such as a model's confidence score, or a business count.
   */
  readonly metric: IMetric;
  /** The value compared with the metric. */
  readonly threshold: number;
  /** How the metric is compared with the threshold. */
  readonly comparisonOperator: ComparisonOperator;
  /**
   * The period each datapoint aggregates; it replaces the metric's own period (a `Metric`
   * defaults to 5 minutes).
   *
   * @default Duration.minutes(1)
   */
  readonly period?: Duration;
  /**
   * N in "M of N": how many recent periods are looked at.
   *
   * @default 3
   */
  readonly evaluationPeriods?: number;
  /**
   * M in "M of N": how many of them must breach. Equal to `evaluationPeriods` means consecutive
   * breaches ("3 consecutive failures").
   *
   * @default - evaluationPeriods
   */
  readonly datapointsToAlarm?: number;
  /**
   * How a period without data counts. Chosen deliberately on every alarm: for a gauge that only
   * reports under traffic, a quiet period is not a failure.
   *
   * @default TreatMissingData.NOT_BREACHING
   */
  readonly treatMissingData?: TreatMissingData;
  /**
   * Whether the trigger pages or opens a ticket (the rollback wiring attaches page triggers).
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
   * Name of the alarm.
   *
   * @default - CloudFormation generates a unique name
   */
  readonly alarmName?: string;
  /**
   * Description of the alarm.
   *
   * @default - derived from the condition
   */
  readonly description?: string;
}

const COMPARISON_TEXT: Record<string, string> = {
  [ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD]: '≥',
  [ComparisonOperator.GREATER_THAN_THRESHOLD]: '>',
  [ComparisonOperator.LESS_THAN_THRESHOLD]: '<',
  [ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD]: '≤',
};

/**
 * A plain threshold trigger with an M-of-N window: a p99 latency ceiling, a business gauge such as
 * "confidence below 0.7 in 3 consecutive minutes", or any metric that is not an SLO ratio.
 */
export class ThresholdTrigger extends Construct {
  /** The alarm; attach it where a rollback or page should follow. */
  public readonly alarm: IAlarm;
  public readonly severity: AlertSeverity;

  /** @internal */
  public readonly _policy: PolicyThresholdTrigger;

  constructor(scope: Construct, id: string, props: ThresholdTriggerProps) {
    super(scope, id);
    const periodSeconds = (props.period ?? Duration.minutes(1)).toSeconds();
    const evaluationPeriods = props.evaluationPeriods ?? 3;
    const datapointsToAlarm = props.datapointsToAlarm ?? evaluationPeriods;
    const footprint = metricFootprint(props.metric);
    atConstruct(this, () => {
      if (!COMPARISON_TEXT[props.comparisonOperator]) {
        throw new RollbackTriggersError(
          'RT212',
          `comparisonOperator ${props.comparisonOperator} is for anomaly detection bands; a threshold trigger takes GREATER_THAN…, LESS_THAN… or their OR_EQUAL forms`,
        );
      }
      validatePeriod('period', periodSeconds);
      validateResolutionForNamespaces('period', periodSeconds, footprint.namespaces);
      validateEvaluationRange('the trigger', periodSeconds, evaluationPeriods);
      validateDatapointsToAlarm('the trigger', datapointsToAlarm, evaluationPeriods);
      validateMathAlarmSize('metric', footprint.metrics, footprint.expressions);
      if (props.alarmName !== undefined && !isUnresolved(props.alarmName)) validateAlarmName(props.alarmName);
    });

    this.severity = props.severity ?? AlertSeverity.PAGE;
    const treatMissingData = props.treatMissingData ?? TreatMissingData.NOT_BREACHING;
    const condition = `${COMPARISON_TEXT[props.comparisonOperator]} ${props.threshold} in ${datapointsToAlarm} of ${evaluationPeriods} periods of ${periodSeconds} s`;
    const alarm = new Alarm(this, 'Alarm', {
      metric: withPeriod(props.metric, Duration.seconds(periodSeconds)),
      threshold: props.threshold,
      comparisonOperator: props.comparisonOperator,
      evaluationPeriods,
      datapointsToAlarm,
      treatMissingData,
      alarmName: props.alarmName,
      alarmDescription: props.description ?? `Threshold trigger ${this.node.path}: metric ${condition}.`,
    }) as Alarm;
    for (const action of props.actions ?? []) alarm.addAlarmAction(action);
    this.alarm = alarm;

    this._policy = {
      kind: 'threshold',
      name: id,
      path: this.node.path,
      comparison: props.comparisonOperator,
      threshold: props.threshold,
      periodSeconds,
      evaluationPeriods,
      datapointsToAlarm,
      treatMissingData: treatMissingData as PolicyThresholdTrigger['treatMissingData'],
      metricCount: footprint.metrics,
      highResolution: periodSeconds < 60,
      severity: this.severity === AlertSeverity.PAGE ? 'page' : 'ticket',
    };
    this.node.addMetadata(POLICY_METADATA_TYPE, { schemaVersion: POLICY_SCHEMA_VERSION, entry: this._policy });
  }
}

function withPeriod(metric: IMetric, period: Duration): IMetric {
  if (metric instanceof Metric || metric instanceof MathExpression) return metric.with({ period });
  throw new RollbackTriggersError('RT213', 'metric must be a Metric or a MathExpression so the trigger can set its period');
}
