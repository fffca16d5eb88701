import { RollbackTriggersError, formatSeconds } from './errors';

// CloudWatch PutMetricAlarm / PutCompositeAlarm limits. Each check names the property, the value
// received and what CloudWatch allows, so the synth error is actionable.

export const MAX_METRICS_PER_MATH_ALARM = 10;
export const MAX_EXPRESSIONS_PER_MATH_ALARM = 10;
export const MAX_COMPOSITE_RULE_LENGTH = 10_240;
export const MAX_COMPOSITE_CHILDREN = 100;
export const MAX_ALARM_NAME_LENGTH = 255;
/** Period × EvaluationPeriods ≤ 1 day when the period is under 1 hour (PutMetricAlarm). */
export const MAX_EVALUATION_RANGE_SHORT_PERIOD_SECONDS = 86_400;
/** Period × EvaluationPeriods ≤ 7 days otherwise (PutMetricAlarm). */
export const MAX_EVALUATION_RANGE_SECONDS = 604_800;

/** Valid alarm periods: 10, 20, 30 s (high resolution) or any multiple of 60 s (PutMetricAlarm `Period`). */
export function isValidPeriod(seconds: number): boolean {
  return Number.isInteger(seconds) && (seconds === 10 || seconds === 20 || seconds === 30 || (seconds > 0 && seconds % 60 === 0));
}

export function isHighResolutionPeriod(seconds: number): boolean {
  return seconds < 60;
}

export function validatePeriod(prop: string, seconds: number): void {
  if (!isValidPeriod(seconds)) {
    throw new RollbackTriggersError(
      'RT201',
      `${prop} must be 10, 20 or 30 seconds or a multiple of 60 seconds (CloudWatch alarm periods), got ${seconds} s`,
    );
  }
}

/**
 * AWS-vended metrics (namespaces starting with `AWS/`) are published at one-minute resolution at
 * best; a 10/20/30 s period on them leaves most evaluations without data (PutMetricAlarm docs).
 */
export function validateResolutionForNamespaces(prop: string, seconds: number, namespaces: readonly string[]): void {
  const vended = namespaces.filter((ns) => ns.startsWith('AWS/'));
  if (isHighResolutionPeriod(seconds) && vended.length > 0) {
    throw new RollbackTriggersError(
      'RT202',
      `${prop} is ${seconds} s, but ${[...new Set(vended)].join(', ')} metrics are AWS-vended and not high resolution — use 60 seconds or more`,
    );
  }
}

export function validateWindowMultiple(prop: string, windowSeconds: number, periodSeconds: number): void {
  if (windowSeconds % periodSeconds !== 0) {
    throw new RollbackTriggersError(
      'RT203',
      `${prop} must be a whole multiple of the SLI resolution ${formatSeconds(periodSeconds)}, got ${formatSeconds(windowSeconds)}`,
    );
  }
}

export function validateEvaluationRange(prop: string, periodSeconds: number, evaluationPeriods: number): void {
  if (!Number.isInteger(evaluationPeriods) || evaluationPeriods < 1) {
    throw new RollbackTriggersError('RT204', `${prop}: evaluationPeriods must be a whole number of at least 1, got ${evaluationPeriods}`);
  }
  const range = periodSeconds * evaluationPeriods;
  const limit = periodSeconds < 3_600 ? MAX_EVALUATION_RANGE_SHORT_PERIOD_SECONDS : MAX_EVALUATION_RANGE_SECONDS;
  if (range > limit) {
    throw new RollbackTriggersError(
      'RT205',
      `${prop}: period ${formatSeconds(periodSeconds)} × ${evaluationPeriods} evaluation periods = ${formatSeconds(range)}, ` +
        `but CloudWatch allows at most ${formatSeconds(limit)} ${periodSeconds < 3_600 ? 'when the period is under 1 hour' : 'for any alarm'}`,
    );
  }
}

export function validateDatapointsToAlarm(prop: string, datapointsToAlarm: number, evaluationPeriods: number): void {
  if (!Number.isInteger(datapointsToAlarm) || datapointsToAlarm < 1 || datapointsToAlarm > evaluationPeriods) {
    throw new RollbackTriggersError(
      'RT206',
      `${prop}: datapointsToAlarm must be a whole number from 1 to evaluationPeriods (${evaluationPeriods}), got ${datapointsToAlarm}`,
    );
  }
}

export function validateMathAlarmSize(prop: string, metricCount: number, expressionCount: number): void {
  if (metricCount > MAX_METRICS_PER_MATH_ALARM) {
    throw new RollbackTriggersError(
      'RT207',
      `${prop} uses ${metricCount} metrics, but a CloudWatch metric-math alarm may use at most ${MAX_METRICS_PER_MATH_ALARM} — pre-aggregate them (for example with a metric filter or an embedded-metric total)`,
    );
  }
  if (expressionCount > MAX_EXPRESSIONS_PER_MATH_ALARM) {
    throw new RollbackTriggersError(
      'RT208',
      `${prop} uses ${expressionCount} math expressions, but a CloudWatch metric-math alarm may use at most ${MAX_EXPRESSIONS_PER_MATH_ALARM}`,
    );
  }
}

export function validateAlarmName(name: string): void {
  if (name.length > MAX_ALARM_NAME_LENGTH) {
    throw new RollbackTriggersError(
      'RT209',
      `alarm name "${name.slice(0, 40)}…" is ${name.length} characters, CloudWatch allows at most ${MAX_ALARM_NAME_LENGTH} — shorten alarmNamePrefix`,
    );
  }
}

/** Renders a composite rule over child alarm names: `(ALARM("a") AND ALARM("b"))`. */
export function compositeRule(operator: 'AND' | 'OR', childNames: readonly string[]): string {
  return `(${childNames.map((name) => `ALARM("${name}")`).join(` ${operator} `)})`;
}

/**
 * Checks a composite alarm's children and, when every child name is known at synth, its rule
 * length (PutCompositeAlarm: rule ≤ 10,240 characters, ≤ 100 children).
 */
export function validateComposite(prop: string, childCount: number, rule: string | undefined): void {
  if (childCount > MAX_COMPOSITE_CHILDREN) {
    throw new RollbackTriggersError(
      'RT210',
      `${prop} would combine ${childCount} alarms, but a CloudWatch composite alarm may reference at most ${MAX_COMPOSITE_CHILDREN} — use fewer tiers or split the SLOs`,
    );
  }
  if (rule !== undefined && rule.length > MAX_COMPOSITE_RULE_LENGTH) {
    throw new RollbackTriggersError(
      'RT211',
      `${prop} has a rule of ${rule.length} characters, but CloudWatch allows at most ${MAX_COMPOSITE_RULE_LENGTH} — shorten alarmNamePrefix or use fewer tiers`,
    );
  }
}
