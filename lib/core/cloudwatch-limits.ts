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

export function validateWindowMultiple(prop: string, windowSeconds: number, periodSeconds: number, resolutionName = 'the SLI resolution'): void {
  if (windowSeconds % periodSeconds !== 0) {
    throw new RollbackTriggersError(
      'RT203',
      `${prop} must be a whole multiple of ${resolutionName} ${formatSeconds(periodSeconds)}, got ${formatSeconds(windowSeconds)}`,
    );
  }
}

/**
 * A period under a minute reads a metric at 10, 20 or 30 s granularity, which CloudWatch keeps
 * only for a high-resolution custom metric (PutMetricData `StorageResolution` 1; PutMetricAlarm
 * `Period`: "If you are setting an alarm based on a metric that is a high-resolution metric, ...
 * you can specify 10, 30 ..."). A metric stored at standard resolution leaves most such periods
 * without data, so the user must declare the resolution (`resolutionProp`) before a sub-minute
 * period is accepted.
 */
export function validateSubMinutePeriod(prop: string, periodSeconds: number, resolutionSeconds: number, resolutionProp: string): void {
  if (isHighResolutionPeriod(periodSeconds) && !isHighResolutionPeriod(resolutionSeconds)) {
    throw new RollbackTriggersError(
      'RT214',
      `${prop} is ${formatSeconds(periodSeconds)}, below one minute, but ${resolutionProp} is ${formatSeconds(resolutionSeconds)}: CloudWatch keeps sub-minute data only ` +
        `for high-resolution custom metrics (published with StorageResolution 1). If the metrics are, declare ${resolutionProp}: ` +
        `Duration.seconds(10, 20 or 30); otherwise use 60 seconds or more`,
    );
  }
}

/**
 * A metric alarm's threshold (PutMetricAlarm `Threshold`, a double): NaN or an infinity renders
 * as `null` in the template and is compared with nothing.
 */
export function validateThreshold(prop: string, threshold: number): void {
  if (!Number.isFinite(threshold)) {
    throw new RollbackTriggersError('RT218', `${prop} must be a finite number, got ${threshold} — CloudFormation would receive "Threshold": null`);
  }
}

/**
 * CloudWatch evaluates a Metrics Insights query in an alarm on "only the latest 3 hours of data"
 * (CloudWatch User Guide, "Limits that apply to alarms based on Metrics Insights queries").
 */
export const MAX_METRICS_INSIGHTS_ALARM_RANGE_SECONDS = 3 * 3_600;

/** What an alarm's math runs over, for {@link validateAlarmMathExpression}. */
export interface AlarmMathContext {
  /** The longest span one evaluation reads: the window of an SLO alarm, period × evaluation periods of a trigger. */
  readonly evaluationRangeSeconds: number;
  /** Whether the alarm reads sub-minute periods. */
  readonly highResolution: boolean;
}

/** Metric-math functions the CloudWatch User Guide advises against in alarms ("Metric math syntax and functions"). */
const NOT_RECOMMENDED_IN_ALARMS = ['RUNNING_SUM', 'REMOVE_EMPTY'];
/** Functions that return a scalar of a single time series, which the same page advises against in alarms. */
const SCALAR_OF_ONE_SERIES = ['AVG', 'MIN', 'MAX', 'SUM', 'STDDEV', 'DATAPOINT_COUNT'];

/**
 * Checks one metric-math expression that an alarm will evaluate, against the CloudWatch User
 * Guide's "Metric math syntax and functions" and "Create an alarm based on a metric math
 * expression":
 *
 * - `SEARCH(...)`: "You can't create an alarm based on the SEARCH expression ... an alarm based
 *   on a math expression can watch only one time series" (RT216).
 * - `METRICS()`: returns every metric of the request, not of this expression. The request is the
 *   whole alarm: an SLO alarm also holds the other count of the SLI (and a rollback alarm the
 *   baseline's), so the result silently counts the wrong metrics (RT216).
 * - `ANOMALY_DETECTION_BAND(...)`: returns two time series (a band); an alarm uses it only as the
 *   threshold of an anomaly-detection alarm, never as a value (RT216).
 * - A Metrics Insights query (`SELECT ...`) over more than 3 hours of data, or at high resolution
 *   ("Metrics Insights does not support high-resolution data") (RT216).
 * - An identifier with no query of that id: PutMetricAlarm fails at deploy (RT217).
 *
 * Returns warnings for what the page only advises against in alarms: `RUNNING_SUM`,
 * `REMOVE_EMPTY`, and `AVG`/`MIN`/`MAX`/`SUM`/`STDDEV`/`DATAPOINT_COUNT` of a single time series
 * ("CloudWatch attempts to retrieve a higher number of data points than the number specified as
 * Evaluation Periods. This function acts differently when extra data is requested").
 */
export function validateAlarmMathExpression(prop: string, expression: string, usingIds: readonly string[], context: AlarmMathContext): string[] {
  // String literals (search terms, Metrics Insights schema names) are not code.
  const code = expression.replace(/"[^"]*"|'[^']*'/g, '""');
  const upper = code.toUpperCase();
  const refuse = (what: string, why: string, instead: string) => {
    throw new RollbackTriggersError('RT216', `${prop} uses ${what} in "${expression}", which a CloudWatch alarm cannot evaluate: ${why} — ${instead}`);
  };
  if (/\bSEARCH\s*\(/.test(upper)) {
    refuse('SEARCH()', 'a search returns any number of time series and an alarm watches exactly one', 'name the metrics in usingMetrics and combine them, for example SUM([m1, m2])');
  }
  if (/\bMETRICS\s*\(/.test(upper)) {
    refuse(
      'METRICS()',
      "it returns every metric of the alarm's request as its own time series, and that request also holds every other query of the alarm " +
        "(in an SLO alarm the SLI's other count, in a rollback alarm the baseline's copy)",
      'name the metrics instead, for example SUM([m1, m2])',
    );
  }
  if (/\bANOMALY_DETECTION_BAND\s*\(/.test(upper)) {
    refuse('ANOMALY_DETECTION_BAND()', 'it returns a band of two time series, usable only as the threshold of an anomaly-detection alarm', 'alarm on the metric itself with a fixed threshold');
  }
  const insights = /^\s*SELECT\b/.test(upper);
  if (insights && context.evaluationRangeSeconds > MAX_METRICS_INSIGHTS_ALARM_RANGE_SECONDS) {
    refuse(
      'a Metrics Insights query',
      `an alarm evaluates a Metrics Insights query on only the latest 3 hours of data, and this one reads ${formatSeconds(context.evaluationRangeSeconds)}`,
      'use plain metrics (Metric or a math expression over them), or windows of 3 hours or less',
    );
  }
  if (insights && context.highResolution) {
    refuse('a Metrics Insights query', 'Metrics Insights aggregates high-resolution data to one minute', 'use a resolution or period of 60 seconds or more');
  }
  if (!insights && !/\bINSIGHT_RULE_METRIC\s*\(/.test(upper)) {
    const known = new Set(usingIds);
    const unknown = [...new Set(code.match(/(?<![A-Za-z0-9_.])[a-z][A-Za-z0-9_]*/g) ?? [])].filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new RollbackTriggersError(
        'RT217',
        `${prop}: the expression "${expression}" references ${unknown.map((id) => `"${id}"`).join(', ')}, which ${unknown.length === 1 ? 'is' : 'are'} not in its usingMetrics ` +
          `(${usingIds.length > 0 ? usingIds.join(', ') : 'empty'}) — CloudWatch refuses an alarm over an unknown query id; add the metric to usingMetrics or fix the name`,
      );
    }
  }
  const warnings: string[] = [];
  for (const fn of NOT_RECOMMENDED_IN_ALARMS) {
    if (new RegExp(`\\b${fn}\\s*\\(`).test(upper)) warnings.push(`${prop} uses ${fn}() in "${expression}"`);
  }
  for (const fn of SCALAR_OF_ONE_SERIES) {
    if (new RegExp(`\\b${fn}\\s*\\(\\s*[a-z][A-Za-z0-9_]*\\s*\\)`).test(code)) warnings.push(`${prop} uses ${fn}() of a single time series in "${expression}"`);
  }
  return warnings.map(
    (w) =>
      `${w}; the CloudWatch User Guide advises against it in alarms: an alarm reads more datapoints than its evaluation periods, and the function's result changes with them. ` +
      'Acknowledge this warning if the expression is meant that way.',
  );
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

/**
 * Checks a full alarm name against PutMetricAlarm / PutCompositeAlarm `AlarmName` (1 to 255
 * characters, "only UTF-8 characters, and can't contain ASCII control characters") and against
 * what a composite rule needs to reference it: the rule names each child as `ALARM("name")`
 * (PutCompositeAlarm `AlarmRule`), with no documented escape, so a double quote in a name ends
 * the reference early.
 */
export function validateAlarmName(name: string, prop = 'alarm name'): void {
  if (name.length === 0) {
    throw new RollbackTriggersError('RT215', `${prop} must not be empty (CloudWatch alarm names are 1 to ${MAX_ALARM_NAME_LENGTH} characters) — omit it to let CloudFormation generate a name`);
  }
  if (name.length > MAX_ALARM_NAME_LENGTH) {
    throw new RollbackTriggersError(
      'RT209',
      `alarm name "${name.slice(0, 40)}…" is ${name.length} characters, CloudWatch allows at most ${MAX_ALARM_NAME_LENGTH} — shorten alarmNamePrefix`,
    );
  }
  validateAlarmNamePart(prop, name);
}

/**
 * Checks a piece of an alarm name (a prefix, an SLO name) for the characters no alarm name may
 * hold: ASCII control characters (PutMetricAlarm / PutCompositeAlarm `AlarmName`), text that is
 * not valid UTF-8 (a lone UTF-16 surrogate), and the double quote that delimits a child alarm's
 * name in a composite rule. Other Unicode letters, spaces and punctuation are accepted.
 */
export function validateAlarmNamePart(prop: string, value: string): void {
  const bad = firstForbiddenNameCharacter(value);
  if (bad !== undefined) {
    throw new RollbackTriggersError(
      'RT215',
      `${prop} ${JSON.stringify(value)} contains ${bad.what} at position ${bad.index}: CloudWatch alarm names must be UTF-8 without ASCII control characters, ` +
        'and a composite alarm references its children as ALARM("name"), so a name may not hold a double quote — remove the character',
    );
  }
}

function firstForbiddenNameCharacter(value: string): { what: string; index: number } | undefined {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return { what: `the control character U+${code.toString(16).toUpperCase().padStart(4, '0')}`, index: i };
    if (code === 0x22) return { what: 'a double quote (")', index: i };
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return { what: 'a lone UTF-16 surrogate (not UTF-8)', index: i };
    }
    if (code >= 0xdc00 && code <= 0xdfff) return { what: 'a lone UTF-16 surrogate (not UTF-8)', index: i };
  }
  return undefined;
}

/** PutMetricAlarm / PutCompositeAlarm `AlarmDescription`: at most 1,024 characters. */
export const MAX_ALARM_DESCRIPTION_LENGTH = 1_024;

export function validateAlarmDescription(prop: string, description: string): void {
  if (description.length > MAX_ALARM_DESCRIPTION_LENGTH) {
    throw new RollbackTriggersError(
      'RT220',
      `${prop} would be ${description.length} characters ("${description.slice(0, 40)}…"), CloudWatch allows at most ${MAX_ALARM_DESCRIPTION_LENGTH} — shorten it`,
    );
  }
}

/** Renders a composite rule over child alarm names: `(ALARM("a") AND ALARM("b"))`. */
export function compositeRule(operator: 'AND' | 'OR', childNames: ReadonlyArray<string | readonly string[]>): string {
  // A group is an AND term inside the rule: `(ALARM("l") AND ALARM("s")) OR (…)`; PutCompositeAlarm
  // `AlarmRule` combines expressions with AND, OR, NOT and parentheses.
  const term = (child: string | readonly string[]) => (typeof child === 'string' ? `ALARM("${child}")` : compositeRule('AND', child));
  return `(${childNames.map(term).join(` ${operator} `)})`;
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

/**
 * A user's math expression is flattened into the alarm's `Metrics` list next to the queries this
 * library adds (`bad` or `good`, and `total`), and PutMetricAlarm wants every query id unique
 * within one alarm. Reusing one of those ids for the same metric is harmless; for another metric
 * it is a conflict (RT221).
 */
export function validateLibraryQueryId(prop: string, id: string, sameMetric: boolean): void {
  if (!sameMetric) {
    throw new RollbackTriggersError(
      'RT221',
      `${prop} uses the query id "${id}" for another metric than the alarm's own "${id}" query (the burn-rate alarms read the SLI as bad or good over total, ` +
        'and CloudWatch wants every query id unique within one alarm) — rename it in usingMetrics and in the expression',
    );
  }
}

