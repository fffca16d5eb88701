import { Aws, Duration, Lazy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { ComparisonOperator, MathExpression, Metric, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { describe, expect, it } from 'vitest';
import { AlertSeverity, ThresholdTrigger } from '../../lib';
import { expectRtError } from '../core/helpers';
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
    // A sub-minute period needs the metric declared high resolution (RT214, tested below).
    expect(() => trigger({ period: Duration.seconds(10), resolution: Duration.seconds(10) })).not.toThrow();
    expect(() => onLambdaErrors({ period: Duration.seconds(10) })).toThrow(/RT202.*AWS\/Lambda/);
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

/** A trigger on an AWS-vended metric (Lambda Errors), which is never high resolution. */
function onLambdaErrors(props: { period?: Duration; resolution?: Duration }): ThresholdTrigger {
  const stack = newStack();
  return new ThresholdTrigger(stack, 'T', {
    metric: lambdaFunction(stack).metricErrors(),
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    threshold: 1,
    ...props,
  });
}

/** Expects a coded error that names the trigger's path, and returns its message. */
function refused(code: string, fn: () => unknown): string {
  const { message } = expectRtError(fn, code);
  expect(message).toContain('TestStack/Confidence');
  return message;
}

const warningsOf = (stack: Stack) =>
  Annotations.fromStack(stack)
    .findWarning('*', Match.anyValue())
    .map((w) => String(w.entry.data));

describe('ThresholdTrigger numbers', () => {
  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])('refuses threshold %s instead of rendering "Threshold": null (RT218)', (threshold) => {
    expect(refused('RT218', () => trigger({ threshold }))).toContain(`threshold must be a finite number, got ${threshold}`);
  });

  it('passes a token threshold to CloudWatch with a warning that it was not checked', () => {
    const { stack } = trigger({ threshold: Lazy.number({ produce: () => 0.7 }) });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', { Threshold: 0.7 });
    expect(warningsOf(stack)).toEqual([expect.stringMatching(/threshold is a token.*could not be checked.*unresolvedThreshold/)]);
  });

  it.each([
    [Duration.seconds(Number.NaN), 'Duration.seconds(NaN)'],
    [Duration.millis(1500), 'Duration.millis(1500) (1.5 s)'],
    [Duration.seconds(0), 'Duration.seconds(0) (0 s)'],
  ])('names period and its value when it is not a positive whole number of seconds (RT118)', (period, rendered) => {
    expect(refused('RT118', () => trigger({ period }))).toContain(`period must be a whole number of seconds above 0, got ${rendered}`);
  });

  it('refuses token periods and M-of-N counts instead of checking token-encoded numbers (RT109, RT113)', () => {
    refused('RT109', () => trigger({ period: Duration.seconds(Lazy.number({ produce: () => 60 })) }));
    expect(refused('RT113', () => trigger({ evaluationPeriods: Lazy.number({ produce: () => 3 }) }))).toContain('evaluationPeriods must be a literal number');
    expect(refused('RT113', () => trigger({ datapointsToAlarm: Lazy.number({ produce: () => 3 }) }))).toContain('datapointsToAlarm must be a literal number');
  });
});

describe('ThresholdTrigger: sub-minute periods need a declared high resolution', () => {
  it('refuses a 10-second period at the default 1-minute resolution (RT214)', () => {
    const message = refused('RT214', () => trigger({ period: Duration.seconds(10) }));
    expect(message).toContain('period is 10 s, below one minute, but resolution is 1 min');
    expect(message).toContain('declare resolution: Duration.seconds(10, 20 or 30)');
  });

  it('accepts it with resolution declared and bills the alarm as high resolution', () => {
    const { stack, trigger: t } = trigger({ period: Duration.seconds(10), resolution: Duration.seconds(10) });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudWatch::Alarm', { Period: 10 });
    expect(t._policy.highResolution).toBe(true);
  });

  it('refuses a period that is no multiple of the resolution, and a high resolution on AWS-vended metrics', () => {
    expect(refused('RT203', () => trigger({ period: Duration.seconds(30), resolution: Duration.seconds(20) }))).toContain('multiple of the metric resolution 20 s');
    expect(() => onLambdaErrors({ resolution: Duration.seconds(10), period: Duration.minutes(1) })).toThrow(/RT202.*resolution is 10 s, but AWS\/Lambda/);
  });
});

describe('ThresholdTrigger: names and descriptions', () => {
  it.each([
    ['empty', '', 'must not be empty'],
    ['with a newline', 'checkout\nconfidence', 'U+000A'],
    ['with a double quote', 'checkout "confidence"', 'double quote'],
  ])('refuses an alarmName %s (RT215)', (_, alarmName, what) => {
    expect(refused('RT215', () => trigger({ alarmName }))).toContain(what);
  });

  it('warns that a token alarmName could not be checked', () => {
    const stack = trigger({ alarmName: Aws.STACK_NAME }).stack;
    expect(warningsOf(stack)).toEqual([expect.stringMatching(/alarmName is a token.*unresolvedAlarmName/)]);
  });

  it('refuses a description over 1,024 characters (RT220)', () => {
    refused('RT220', () => trigger({ description: 'd'.repeat(1_025) }));
    expect(() => trigger({ description: 'd'.repeat(1_024) })).not.toThrow();
  });
});

describe('ThresholdTrigger: math an alarm cannot evaluate', () => {
  const math = (expression: string, usingMetrics: Record<string, Metric> = {}) => new MathExpression({ expression, usingMetrics });

  it.each([
    ['SEARCH()', math("SEARCH('{Agents} MetricName=\"Confidence\"', 'Average', 60)")],
    ['METRICS()', math('MAX(METRICS())', { a: countMetric('A'), b: countMetric('B') })],
    ['ANOMALY_DETECTION_BAND()', math('ANOMALY_DETECTION_BAND(a)', { a: countMetric('A') })],
  ])('refuses %s (RT216)', (fn, metric) => {
    expect(refused('RT216', () => trigger({ metric }))).toContain(`metric uses ${fn}`);
  });

  it('accepts a Metrics Insights query over at most 3 hours, refuses one over more (RT216)', () => {
    const query = math('SELECT AVG(Confidence) FROM Agents');
    expect(() => trigger({ metric: query, period: Duration.hours(1), evaluationPeriods: 3 })).not.toThrow();
    refused('RT216', () => trigger({ metric: query, period: Duration.hours(1), evaluationPeriods: 4 }));
  });

  it('refuses an unknown query id (RT217)', () => {
    expect(refused('RT217', () => trigger({ metric: math('a / b', { a: countMetric('A') }) }))).toContain('"b"');
  });
});

describe('ThresholdTrigger: closed sets', () => {
  it('refuses a comparison that is no ComparisonOperator, listing the ones it takes (RT212)', () => {
    expect(refused('RT212', () => trigger({ comparisonOperator: 'GreaterThan' as ComparisonOperator }))).toContain(
      'comparisonOperator must be one of GreaterThanOrEqualToThreshold, GreaterThanThreshold, LessThanThreshold, LessThanOrEqualToThreshold, got "GreaterThan"',
    );
  });

  it('refuses a treatMissingData or severity outside their enums (RT219, RT123)', () => {
    refused('RT219', () => trigger({ treatMissingData: 'zero' as TreatMissingData }));
    refused('RT123', () => trigger({ severity: 'urgent' as AlertSeverity }));
  });

  it('refuses a metric it cannot set the period of, naming the trigger (RT213)', () => {
    const metric = { toMetricConfig: () => confidence().toMetricConfig() } as unknown as Metric;
    refused('RT213', () => trigger({ metric }));
  });
});
