import { Annotations, Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, IAlarm, IAlarmAction, IMetric, MathExpression, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import {
  isHighResolutionPeriod,
  validateAlarmDescription,
  validateAlarmMathExpression,
  validateAlarmName,
  validateDatapointsToAlarm,
  validateEvaluationRange,
  validateMathAlarmSize,
  validatePeriod,
  validateResolutionForNamespaces,
  validateSubMinutePeriod,
  validateThreshold,
  validateWindowMultiple,
} from '../core/cloudwatch-limits';
import { RollbackTriggersError } from '../core/errors';
import { POLICY_METADATA_TYPE, POLICY_SCHEMA_VERSION, type PolicyThresholdTrigger } from '../core/policy';
import { atConstruct } from '../private/errors';
import { isUnresolved, literalSeconds, mathExpressionsOf, metricFootprint } from '../private/metrics';
import { AlertSeverity } from '../slo/burn-rate-tier';
import { IAlarmTrigger } from './alarm-trigger';

/** Properties of a {@link ThresholdTrigger}. */
export interface ThresholdTriggerProps {
  /**
   * The metric to watch: a p99 latency (`fn.metricDuration({ statistic: Stats.p(99) })`), a gauge
   * such as a model's confidence score, or a business count.
   */
  readonly metric: IMetric;
  /**
   * The value compared with the metric: a finite number. A token is passed to CloudWatch
   * unchecked, with a synth warning.
   */
  readonly threshold: number;
  /** How the metric is compared with the threshold. */
  readonly comparisonOperator: ComparisonOperator;
  /**
   * The period each datapoint aggregates; it replaces the metric's own period (a `Metric`
   * defaults to 5 minutes). 10, 20 or 30 seconds only with a high-resolution `resolution`.
   *
   * @default Duration.minutes(1)
   */
  readonly period?: Duration;
  /**
   * The granularity the metric is published at; the period must be a multiple of it. Setting 10,
   * 20 or 30 seconds declares the metric high resolution (a custom metric published with
   * `StorageResolution` 1; AWS-vended metrics never are), which a period under a minute needs.
   *
   * @default Duration.minutes(1)
   */
  readonly resolution?: Duration;
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
   * Name of the alarm: 1 to 255 characters, no ASCII control characters, no double quote (a
   * composite alarm's rule names its children in double quotes).
   *
   * @default - CloudFormation generates a unique name
   */
  readonly alarmName?: string;
  /**
   * Description of the alarm, at most 1,024 characters.
   *
   * @default - derived from the condition
   */
  readonly description?: string;
}

const ANOMALY_COMPARISONS: string[] = [
  ComparisonOperator.LESS_THAN_LOWER_OR_GREATER_THAN_UPPER_THRESHOLD,
  ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD,
  ComparisonOperator.LESS_THAN_LOWER_THRESHOLD,
];

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
export class ThresholdTrigger extends Construct implements IAlarmTrigger {
  /** The alarm; a `RollbackTrigger` attaches it to its deployment group when given in `alarmTriggers`. */
  public readonly alarm: IAlarm;
  /** Whether the trigger pages or opens a ticket (only a paging trigger may roll back). */
  public readonly severity: AlertSeverity;

  /** @internal */
  public readonly _policy: PolicyThresholdTrigger;

  constructor(scope: Construct, id: string, props: ThresholdTriggerProps) {
    super(scope, id);
    const warn = (warningId: string, message: string) => Annotations.of(this).addWarningV2(warningId, message);
    const evaluationPeriods = props.evaluationPeriods ?? 3;
    const datapointsToAlarm = props.datapointsToAlarm ?? evaluationPeriods;
    const footprint = metricFootprint(props.metric);
    const periodSeconds = atConstruct(this, () => {
      checkKinds(props);
      const period = checkTiming(props, footprint.namespaces, evaluationPeriods, datapointsToAlarm);
      validateMathAlarmSize('metric', footprint.metrics, footprint.expressions);
      checkMath(props.metric, period, evaluationPeriods, warn);
      checkAlarmName(props.alarmName, warn);
      return period;
    });
    if (isUnresolved(props.threshold)) {
      warn(
        'cdk-rollback-triggers:unresolvedThreshold',
        'threshold is a token: whether it is a finite number could not be checked at synth, and the plan and the simulator read it only if it resolves to a number at synth.',
      );
    }

    this.severity = props.severity ?? AlertSeverity.PAGE;
    const treatMissingData = props.treatMissingData ?? TreatMissingData.NOT_BREACHING;
    const condition = `${COMPARISON_TEXT[props.comparisonOperator]} ${props.threshold} in ${datapointsToAlarm} of ${evaluationPeriods} periods of ${periodSeconds} s`;
    const description = props.description ?? `Threshold trigger ${this.node.path}: metric ${condition}.`;
    if (!isUnresolved(description)) {
      atConstruct(this, () => validateAlarmDescription(props.description !== undefined ? 'description' : 'the derived description (from the construct path)', description));
    }
    const alarm = new Alarm(this, 'Alarm', {
      metric: (props.metric as Metric | MathExpression).with({ period: Duration.seconds(periodSeconds) }),
      threshold: props.threshold,
      comparisonOperator: props.comparisonOperator,
      evaluationPeriods,
      datapointsToAlarm,
      treatMissingData,
      alarmName: props.alarmName,
      alarmDescription: description,
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

type Warn = (warningId: string, message: string) => void;

/** The enum-like props and the metric's class (jsii callers are not type-checked). */
function checkKinds(props: ThresholdTriggerProps): void {
  if (!COMPARISON_TEXT[props.comparisonOperator]) {
    throw new RollbackTriggersError(
      'RT212',
      ANOMALY_COMPARISONS.includes(props.comparisonOperator)
        ? `comparisonOperator ${props.comparisonOperator} is for anomaly detection bands; a threshold trigger takes GREATER_THAN…, LESS_THAN… or their OR_EQUAL forms`
        : `comparisonOperator must be one of ${Object.keys(COMPARISON_TEXT).join(', ')}, got ${JSON.stringify(props.comparisonOperator)}`,
      { prop: 'comparisonOperator' },
    );
  }
  if (props.treatMissingData !== undefined && !Object.values(TreatMissingData).includes(props.treatMissingData)) {
    throw new RollbackTriggersError('RT219', `treatMissingData must be one of ${Object.values(TreatMissingData).join(', ')}, got ${JSON.stringify(props.treatMissingData)}`, { prop: 'treatMissingData' });
  }
  if (props.severity !== undefined && props.severity !== AlertSeverity.PAGE && props.severity !== AlertSeverity.TICKET) {
    throw new RollbackTriggersError('RT123', `severity must be AlertSeverity.PAGE or AlertSeverity.TICKET, got ${JSON.stringify(props.severity)}`, { prop: 'severity' });
  }
  if (!(props.metric instanceof Metric || props.metric instanceof MathExpression)) {
    throw new RollbackTriggersError('RT213', 'metric must be a Metric or a MathExpression so the trigger can set its period', { prop: 'metric' });
  }
  if (!isUnresolved(props.threshold)) validateThreshold('threshold', props.threshold);
}

/** Period, resolution and M of N against CloudWatch's limits; returns the period in seconds. */
function checkTiming(props: ThresholdTriggerProps, namespaces: readonly string[], evaluationPeriods: number, datapointsToAlarm: number): number {
  const period = literalSeconds('period', props.period ?? Duration.minutes(1));
  const resolution = literalSeconds('resolution', props.resolution ?? Duration.minutes(1));
  validatePeriod('resolution', resolution);
  validatePeriod('period', period);
  validateResolutionForNamespaces('resolution', resolution, namespaces);
  validateResolutionForNamespaces('period', period, namespaces);
  validateSubMinutePeriod('period', period, resolution, 'resolution');
  validateWindowMultiple('period', period, resolution, 'the metric resolution');
  for (const [prop, value] of [
    ['evaluationPeriods', evaluationPeriods],
    ['datapointsToAlarm', datapointsToAlarm],
  ] as const) {
    if (isUnresolved(value)) {
      throw new RollbackTriggersError('RT113', `${prop} must be a literal number, got a token — CloudWatch's evaluation-range limit and the plan need it at synth`, { prop });
    }
  }
  validateEvaluationRange('the trigger', period, evaluationPeriods);
  validateDatapointsToAlarm('the trigger', datapointsToAlarm, evaluationPeriods);
  return period;
}

/** The functions and query ids of every math expression the alarm evaluates (warnings, not errors). */
function checkMath(metric: IMetric, period: number, evaluationPeriods: number, warn: Warn): void {
  for (const use of mathExpressionsOf(metric)) {
    if (isUnresolved(use.expression)) {
      warn('cdk-rollback-triggers:unresolvedMathExpression', 'metric is a math expression given as a token: its functions and query ids could not be checked at synth.');
      continue;
    }
    const advice = validateAlarmMathExpression('metric', use.expression, use.usingIds, {
      evaluationRangeSeconds: period * evaluationPeriods,
      highResolution: isHighResolutionPeriod(period),
    });
    for (const message of advice) warn('cdk-rollback-triggers:alarmMathFunction', message);
  }
}

function checkAlarmName(alarmName: string | undefined, warn: Warn): void {
  if (alarmName === undefined) return;
  if (isUnresolved(alarmName)) {
    warn(
      'cdk-rollback-triggers:unresolvedAlarmName',
      'alarmName is a token: its length (at most 255 characters) and characters (no ASCII control characters, no double quote) could not be checked at synth.',
    );
  } else {
    validateAlarmName(alarmName, 'alarmName');
  }
}
