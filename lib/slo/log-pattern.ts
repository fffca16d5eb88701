import type { LogPatternSliProps } from './sli';
import { Names, Token } from 'aws-cdk-lib';
import { Metric, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import { IFilterPattern, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { RollbackTriggersError } from '../core/errors';
import { describeProp } from '../private/errors';
import type { SliCounts } from '../private/sli-counts';

// The metric filters behind Sli.logPattern, and the checks of its props. Every limit below is
// PutMetricFilter's (CloudWatch Logs API Reference, `PutMetricFilter` and `MetricTransformation`):
// filterPattern "Minimum length of 0. Maximum length of 1024"; metricName and metricNamespace
// "Maximum length of 255. Pattern: [^:*$]*"; "One metric filter can include as many as three
// dimensions"; "The maximum number of metric filters that can be associated with a log group is 100".

/** The namespace of the lines counted when the SLI names none. */
export const LOG_PATTERN_DEFAULT_NAMESPACE = 'RollbackTriggers/LogPatterns';
/** The dimension the per-version metric filters publish the line's version under. */
export const LOG_PATTERN_VERSION_DIMENSION = 'Version';

/** What `Sli.logPattern` is given: its props, whose interface is in sli.ts with the factory. */
export type LogPatternInput = Omit<LogPatternSliProps, 'description'>;

/** The SLI's metric filters and the counts they publish, blended and (with `versionField`) per version. */
export interface LogPatternFilters {
  readonly filters: MetricFilter[];
  /** All lines, every version. */
  readonly blended: SliCounts;
  /** One version's lines, by the value of its `Version` dimension; undefined without `versionField`. */
  readonly forVersion?: (version: string) => SliCounts;
  readonly badPatternText: string;
  readonly totalText: string;
}

/** Checks the props, then creates the metric filters under `scope/id`. */
export function createLogPatternFilters(scope: Construct, id: string, props: LogPatternInput): LogPatternFilters {
  if (!(scope instanceof Construct) || typeof id !== 'string' || id.length === 0) {
    throw new RollbackTriggersError(
      'RT143',
      `Sli.logPattern(scope, id, props) creates CloudWatch Logs metric filters: it needs a construct scope and a non-empty id, got ${describeProp(scope)} and ${describeProp(id)}`,
      { prop: 'scope' },
    );
  }
  if (props === undefined || props === null || typeof (props as { logGroup?: { logGroupName?: unknown } }).logGroup?.logGroupName !== 'string') {
    throw new RollbackTriggersError('RT143', `Sli.logPattern: logGroup must be the log group whose lines are counted (an ILogGroup), got ${describeProp(props?.logGroup)}`, {
      prop: 'logGroup',
    });
  }
  const badPattern = patternText('badPattern', props.badPattern, false);
  const hasTotalPattern = props.totalPattern !== undefined;
  if (hasTotalPattern === (props.totalMetric !== undefined)) {
    throw new RollbackTriggersError(
      'RT146',
      `Sli.logPattern needs exactly one of totalPattern (count the lines it matches, FilterPattern.allEvents() for every line) and totalMetric ` +
        `(the service's own count of events, e.g. its request count), got ${hasTotalPattern ? 'both' : 'neither'}`,
      { prop: hasTotalPattern ? 'totalMetric' : 'totalPattern' },
    );
  }
  const totalPattern = hasTotalPattern ? patternText('totalPattern', props.totalPattern, true) : undefined;
  const namespace = filterNamespace(props.metricNamespace);
  const versionField =
    props.versionField === undefined ? undefined : checkVersionField(props.versionField, badPattern, totalPattern, props.totalMetric !== undefined);

  const container = new Construct(scope, id);
  const unique = Names.uniqueResourceName(container, { maxLength: 200 });
  const badName = metricName('badMetricName', props.badMetricName ?? `${unique}BadLines`);
  const totalName = totalPattern === undefined ? undefined : metricName('totalMetricName', props.totalMetricName ?? `${unique}Lines`);
  if (totalName !== undefined && totalName === badName) {
    throw new RollbackTriggersError('RT145', `badMetricName and totalMetricName are both ${JSON.stringify(badName)}: the bad lines and all lines must be two metrics`, {
      prop: 'totalMetricName',
    });
  }

  const filters: MetricFilter[] = [];
  const filter = (filterId: string, pattern: IFilterPattern, name: string, perVersion: boolean) => {
    filters.push(
      new MetricFilter(container, filterId, {
        logGroup: props.logGroup,
        filterPattern: pattern,
        metricNamespace: namespace,
        metricName: name,
        metricValue: '1',
        // "If logs are ingested during a one-minute time period but no matches are found, the value
        // specified for Default Value (if any) is reported. However, if no log events are ingested
        // during a one-minute period, then no value is reported" (CloudWatch Logs User Guide,
        // "Filter pattern syntax for metric filters": configuring metric values): a minute with
        // lines but no bad line reads 0, a minute without lines reads nothing (no traffic).
        // A filter with dimensions takes no default value (the same guide, "Creating metrics from
        // log events using filters": default value): its minutes without a match read nothing,
        // which the alarms FILL with 0 and the evaluator counts as 0 when its read is complete.
        ...(perVersion ? { dimensions: { [LOG_PATTERN_VERSION_DIMENSION]: versionField! } } : { defaultValue: 0 }),
      }),
    );
  };
  filter('BadLines', props.badPattern, badName, false);
  if (totalPattern !== undefined) filter('Lines', props.totalPattern!, totalName!, false);
  if (versionField !== undefined) {
    filter('BadLinesByVersion', props.badPattern, badName, true);
    filter('LinesByVersion', props.totalPattern!, totalName!, true);
  }

  const metric = (name: string, version?: string) =>
    new Metric({
      namespace,
      metricName: name,
      statistic: Stats.SUM,
      ...(version !== undefined ? { dimensionsMap: { [LOG_PATTERN_VERSION_DIMENSION]: version } } : {}),
    });
  const blended: SliCounts = { bad: metric(badName), total: totalName !== undefined ? metric(totalName) : props.totalMetric! };
  return {
    filters,
    blended,
    forVersion: versionField === undefined ? undefined : (version) => ({ bad: metric(badName, version), total: metric(totalName!, version) }),
    badPatternText: badPattern,
    totalText: totalPattern === undefined ? 'the given total metric' : totalPattern === '' ? 'all lines' : `lines matching ${shortPattern(totalPattern)}`,
  };
}

/** A filter pattern's text: `badPattern` must match something less than every line. */
function patternText(prop: string, pattern: IFilterPattern | undefined, emptyAllowed: boolean): string {
  const text = (pattern as { logPatternString?: unknown } | undefined)?.logPatternString;
  if (typeof text !== 'string') {
    throw new RollbackTriggersError('RT144', `${prop} must be a filter pattern (FilterPattern.literal('"payment declined"'), FilterPattern.stringValue(...)), got ${describeProp(pattern)}`, {
      prop,
    });
  }
  if (Token.isUnresolved(text)) return text;
  if (!emptyAllowed && text.trim() === '') {
    throw new RollbackTriggersError(
      'RT144',
      `${prop} must not be empty: an empty filter pattern matches every log event, so every line would count as bad — name what a bad line holds, e.g. FilterPattern.literal('ERROR')`,
      { prop },
    );
  }
  if (text.length > 1024) {
    throw new RollbackTriggersError('RT144', `${prop} is ${text.length} characters, above the 1,024 a metric filter pattern may have (PutMetricFilter filterPattern)`, { prop });
  }
  return text;
}

/** PutMetricFilter metricNamespace: at most 255 characters, none of ':', '*', '$'; custom metrics do not start with "AWS/". */
function filterNamespace(namespace: unknown): string {
  if (namespace === undefined) return LOG_PATTERN_DEFAULT_NAMESPACE;
  if (Token.isUnresolved(namespace)) return namespace as string;
  const valid = typeof namespace === 'string' && /^[\x20-\x7e]{1,255}$/.test(namespace) && !/[:*$]/.test(namespace) && namespace.trim() !== '';
  if (!valid || (namespace as string).startsWith('AWS/')) {
    throw new RollbackTriggersError(
      'RT141',
      `metricNamespace must be 1 to 255 printable ASCII characters without ':', '*' or '$', not blank and not starting with "AWS/" (PutMetricFilter metricNamespace), ` +
        `got ${describeProp(namespace)} — omit it for ${JSON.stringify(LOG_PATTERN_DEFAULT_NAMESPACE)}`,
      { prop: 'metricNamespace' },
    );
  }
  return namespace;
}

/** PutMetricFilter metricName: 1 to 255 characters, none of ':', '*', '$'. */
function metricName(prop: string, name: unknown): string {
  if (Token.isUnresolved(name)) return name as string;
  if (typeof name !== 'string' || name.length < 1 || name.length > 255 || /[:*$]/.test(name) || name.trim() === '') {
    throw new RollbackTriggersError('RT145', `${prop} must be 1 to 255 characters without ':', '*' or '$', not blank (PutMetricFilter metricName), got ${describeProp(name)}`, {
      prop,
    });
  }
  return name;
}

/**
 * The version as a dimension: its value comes from a field of the line, which PutMetricFilter
 * allows only for JSON patterns (`{ … }`, a field `$.version`) and space-delimited ones (`[ … ]`, a
 * field `$version`); any other pattern is refused ("The specified filter pattern does not support
 * dimensions"). The per-version SLI divides a version's bad lines by its own lines, so the total
 * must come from a pattern too.
 */
function checkVersionField(field: unknown, badPattern: string, totalPattern: string | undefined, totalMetric: boolean): string {
  const fail = (why: string): never => {
    throw new RollbackTriggersError('RT147', `versionField ${why}`, { prop: 'versionField' });
  };
  if (totalMetric) {
    return fail(
      "needs totalPattern, not totalMetric: a version's bad lines are divided by that version's own lines, and the total metric has no Version dimension — " +
        'count the lines with totalPattern, or drop versionField (the SLI is then blended)',
    );
  }
  if (typeof field !== 'string' || Token.isUnresolved(field)) return fail(`must be a literal field selector, $.version or $version, got ${describeProp(field)}`);
  const kind = /^\$\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+|\[\d+\])*$/.test(field) ? 'json' : /^\$[A-Za-z0-9_]+$/.test(field) ? 'space-delimited' : undefined;
  if (kind === undefined) return fail(`must select a field of the line: $.version for a JSON pattern, $version for a space-delimited one, got ${JSON.stringify(field)}`);
  for (const [prop, text] of [
    ['badPattern', badPattern],
    ['totalPattern', totalPattern!],
  ] as const) {
    if (Token.isUnresolved(text)) continue;
    const shape = /^\s*\{/.test(text) ? 'json' : /^\s*\[/.test(text) ? 'space-delimited' : 'text';
    if (shape !== kind) {
      return fail(
        `${JSON.stringify(field)} is a ${kind} field, but ${prop} ${JSON.stringify(shortPattern(text))} is ${shape === 'text' ? 'a term pattern' : `a ${shape} pattern`}: ` +
          'CloudWatch Logs takes dimension values only from fields of JSON ({ $.level = "ERROR" }) or space-delimited ([level = ERROR, ...]) patterns — ' +
          'use such a pattern (FilterPattern.allEvents() matches no field: use FilterPattern.exists("$.version") to count every JSON line), or drop versionField',
      );
    }
  }
  return field;
}

/** A pattern short enough for an alarm description (at most 1,024 characters in all). */
export function shortPattern(text: string): string {
  if (Token.isUnresolved(text)) return '(a pattern known at deploy time)';
  if (text === '') return 'every line';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
