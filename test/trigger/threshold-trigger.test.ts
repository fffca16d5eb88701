import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ComparisonOperator, MathExpression, Metric, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { describe, expect, it } from 'vitest';
import { AlertSeverity, ThresholdTrigger } from '../../lib';
import { countMetric, lambdaFunction, newStack } from '../helpers';

const confidence = () => new Metric({ namespace: 'Agents', metricName: 'Confidence', statistic: Stats.AVERAGE });

function trigger(props: Partial<ConstructorParameters<typeof ThresholdTrigger>[2]> = {}) {
  const stack = newStack();
  const t = new ThresholdTrigger(stack, 'Confidence', {
    metric: confidence(),
    comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
    threshold: 0.7,
    ...props,
  });
  return { stack, trigger: t };
}

describe('ThresholdTrigger', () => {
  it('fires on 3 consecutive one-minute breaches by default, treating silence as not breaching', () => {
    const { stack, trigger: t } = trigger();
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 0.7,
      ComparisonOperator: 'LessThanThreshold',
      Period: 60,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      TreatMissingData: 'notBreaching',
    });
    expect(t.severity).toBe(AlertSeverity.PAGE);
    expect(t._policy).toMatchObject({ kind: 'threshold', evaluationPeriods: 3, datapointsToAlarm: 3, metricCount: 1 });
  });

  it('supports an M-of-N p99 latency ceiling', () => {
    const stack = newStack();
    new ThresholdTrigger(stack, 'P99', {
      metric: lambdaFunction(stack).metricDuration({ statistic: Stats.p(99) }),
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: 1000,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: TreatMissingData.MISSING,
    });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      ExtendedStatistic: 'p99',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
      TreatMissingData: 'missing',
    });
  });

  it('matches the snapshot in its default configuration', () => {
    expect(Template.fromStack(trigger().stack).toJSON()).toMatchSnapshot();
  });

  it('rejects datapointsToAlarm outside 1..evaluationPeriods', () => {
    expect(() => trigger({ evaluationPeriods: 3, datapointsToAlarm: 4 })).toThrow(/RT206.*TestStack\/Confidence.*from 1 to evaluationPeriods \(3\), got 4/);
    expect(() => trigger({ datapointsToAlarm: 0 })).toThrow(/RT206/);
  });

  it('rejects more than a day of evaluation with sub-hour periods, and more than 7 days otherwise', () => {
    expect(() => trigger({ period: Duration.minutes(5), evaluationPeriods: 289 })).toThrow(/RT205.*at most 1 d when the period is under 1 hour/);
    expect(() => trigger({ period: Duration.minutes(5), evaluationPeriods: 288 })).not.toThrow();
    expect(() => trigger({ period: Duration.hours(1), evaluationPeriods: 169 })).toThrow(/RT205.*at most 7 d/);
  });

  it('rejects periods CloudWatch does not accept and sub-minute periods on vended metrics', () => {
    expect(() => trigger({ period: Duration.seconds(45) })).toThrow(/RT201.*got 45 s/);
    expect(() => trigger({ period: Duration.seconds(10) })).not.toThrow();
    const stack = newStack();
    expect(
      () =>
        new ThresholdTrigger(stack, 'T', {
          metric: lambdaFunction(stack).metricErrors(),
          comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
          threshold: 1,
          period: Duration.seconds(10),
        }),
    ).toThrow(/RT202.*AWS\/Lambda/);
  });

  it('rejects metric math over more than 10 metrics', () => {
    const metric = new MathExpression({
      expression: Array.from({ length: 11 }, (_, i) => `m${i}`).join(' + '),
      usingMetrics: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`m${i}`, countMetric(`M${i}`)])),
    });
    expect(() => trigger({ metric })).toThrow(/RT207.*11 metrics/);
  });

  it('rejects alarm names over 255 characters and anomaly-band comparisons', () => {
    expect(() => trigger({ alarmName: 'a'.repeat(256) })).toThrow(/RT209/);
    expect(() => trigger({ comparisonOperator: ComparisonOperator.LESS_THAN_LOWER_OR_GREATER_THAN_UPPER_THRESHOLD })).toThrow(/RT212/);
  });
});
