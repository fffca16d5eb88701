import { Token } from 'aws-cdk-lib';
import { IWidget } from 'aws-cdk-lib/aws-cloudwatch';
import { validateAlarmMathExpression } from '../core/cloudwatch-limits';
import { RollbackTriggersError } from '../core/errors';

// What CloudWatch accepts in a dashboard, checked at synth so a bad dashboard fails `cdk synth`,
// not PutDashboard at deploy time. Not exported from lib/index.ts.

/** PutDashboard `DashboardName`: "The maximum length is 255" (CloudWatch API Reference). */
export const MAX_DASHBOARD_NAME_LENGTH = 255;
/** "A DashboardBody ... can include an array of between 0 and 500 widget objects" (CloudWatch API Reference, "Dashboard Body Structure and Syntax"). */
export const MAX_DASHBOARD_WIDGETS = 500;
/**
 * Metrics and expressions in one graph. The API Reference gives 100 ("Dashboard Body Structure and
 * Syntax", metric widget `metrics`; "GetMetricWidgetImage: Metric Widget Structure and Syntax": "One
 * metrics array can include 1–100 metrics and expressions"), the User Guide 500 ("Using math
 * expressions with CloudWatch metrics": "Each graph is limited to using a maximum of 500 metrics
 * and expressions"). 100 holds under both.
 */
export const MAX_WIDGET_METRICS = 100;
/** An alarm status widget's `alarms`: "The array can have 1-100 ARNs" ("Dashboard Body Structure and Syntax", "Properties of an Alarm Status Widget Object"). */
export const MAX_STATUS_WIDGET_ALARMS = 100;
/** MetricDataQuery `Id`: "Length Constraints: Minimum length of 1. Maximum length of 255" (CloudWatch API Reference). */
const MAX_QUERY_ID_LENGTH = 255;
/** MetricDataQuery `Id`: "Valid characters are letters, numbers, and underscore. The first character must be a lowercase letter." */
const QUERY_ID = /^[a-z][A-Za-z0-9_]*$/;

/**
 * PutDashboard `DashboardName`: "The maximum length is 255, and valid characters are A-Z, a-z,
 * 0-9, "-", and "_"" (CloudWatch API Reference). A token is checked by CloudFormation.
 */
export function validateDashboardName(name: string): void {
  if (Token.isUnresolved(name)) return;
  if (typeof name !== 'string' || name.length === 0) {
    throw new RollbackTriggersError('RT150', `dashboardName must not be empty, got ${JSON.stringify(name)} — omit it to let CloudFormation generate a name`, { prop: 'dashboardName' });
  }
  if (name.length > MAX_DASHBOARD_NAME_LENGTH) {
    throw new RollbackTriggersError(
      'RT150',
      `dashboardName is ${name.length} characters ("${name.slice(0, 40)}…"), CloudWatch allows at most ${MAX_DASHBOARD_NAME_LENGTH} (PutDashboard DashboardName) — shorten it`,
      { prop: 'dashboardName' },
    );
  }
  const bad = /[^A-Za-z0-9_-]/.exec(name);
  if (bad) {
    throw new RollbackTriggersError(
      'RT150',
      `dashboardName ${JSON.stringify(name)} holds ${JSON.stringify(bad[0])} at position ${bad.index}: CloudWatch dashboard names may only hold A-Z, a-z, 0-9, '-' and '_' ` +
        '(PutDashboard DashboardName) — replace it, for example with a dash',
      { prop: 'dashboardName' },
    );
  }
}

/**
 * A dashboard's `start` without an `end` is a relative time range: it "must begin with -P", with
 * "M, H, D, W and M as abbreviations for minutes, hours, days, weeks and months", for example
 * `-PT8H` or `-P3M` (CloudWatch API Reference, "Dashboard Body Structure and Syntax", `start`):
 * an ISO 8601 duration, minus sign first.
 */
export function validateStart(start: string): void {
  if (Token.isUnresolved(start)) return;
  const iso = /^-P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/;
  // A range of zero length shows nothing.
  if (typeof start !== 'string' || !iso.test(start) || !(start.match(/\d+/g) ?? []).some((n) => Number(n) > 0)) {
    throw new RollbackTriggersError(
      'RT151',
      `start must be a relative ISO 8601 duration before now, such as "-PT6H" (6 hours), "-P7D" (7 days) or "-PT30M" (30 minutes), got ${JSON.stringify(start)} — ` +
        'CloudWatch reads a dashboard start without an end as a range ending now, written -P…',
      { prop: 'start' },
    );
  }
}

/** One row of a metric widget's `metrics` array as aws-cdk-lib renders it: a metric or an expression, options last. */
type MetricRow = unknown[];
interface RowOptions {
  readonly id?: string;
  readonly expression?: string;
  readonly period?: number;
}

/** The rendered `metrics` rows of a widget aws-cdk-lib built (a graph, a single value). */
export function metricRows(widget: IWidget): MetricRow[] {
  return widget.toJson().flatMap((w) => ((w as { properties?: { metrics?: MetricRow[] } }).properties?.metrics ?? []) as MetricRow[]);
}

function optionsOf(row: MetricRow): RowOptions {
  const last = row[row.length - 1];
  return typeof last === 'object' && last !== null && !Array.isArray(last) ? (last as RowOptions) : {};
}

/**
 * The checks an alarm's metric math gets, applied to a metric widget as it will be rendered
 * (`what` names it in errors): at most 100 rows, every query id one CloudWatch accepts and used by
 * one row only, every expression's ids defined in the widget, and no function an alarm cannot
 * evaluate (`validateAlarmMathExpression`, RT216/RT217) — the widgets show what the alarms
 * compute, so they must compute it the same way. aws-cdk-lib's own refusal of two metrics under
 * one id (`CannotShareSameIdForDifferentMetrics`, raised when the widget renders) becomes RT154 here.
 */
export function checkMetricWidget(what: string, widget: IWidget): void {
  let rows: MetricRow[];
  try {
    rows = metricRows(widget);
  } catch (e) {
    if (/same id/.test(String((e as Error).message))) {
      throw new RollbackTriggersError('RT154', `${what}: ${(e as Error).message} — CloudWatch wants every query id of a widget unique (MetricDataQuery Id)`);
    }
    throw e;
  }
  checkMetricRows(what, rows);
}

/** {@link checkMetricWidget} on rendered rows. */
export function checkMetricRows(what: string, rows: readonly MetricRow[]): void {
  if (rows.length > MAX_WIDGET_METRICS) {
    // The construct packs its graphs under the limit; this guards the packing.
    throw new RollbackTriggersError('RT154', `${what} would hold ${rows.length} metrics and expressions, a CloudWatch metric widget holds at most ${MAX_WIDGET_METRICS}`);
  }
  const ids: string[] = [];
  for (const row of rows) {
    const id = optionsOf(row).id;
    if (id === undefined || Token.isUnresolved(id)) continue;
    if (!QUERY_ID.test(id) || id.length > MAX_QUERY_ID_LENGTH) {
      throw new RollbackTriggersError(
        'RT154',
        `${what} uses the query id ${JSON.stringify(id)}, which CloudWatch refuses: an id starts with a lowercase letter, holds only letters, digits and underscores, ` +
          `and has at most ${MAX_QUERY_ID_LENGTH} characters (MetricDataQuery Id) — rename it in the SLI's usingMetrics`,
      );
    }
    if (ids.includes(id)) {
      throw new RollbackTriggersError('RT154', `${what} uses the query id "${id}" for two queries — CloudWatch wants every query id of a widget unique (MetricDataQuery Id)`);
    }
    ids.push(id);
  }
  for (const row of rows) {
    const { expression, period } = optionsOf(row);
    if (expression === undefined || Token.isUnresolved(expression)) continue;
    // A row without a period reads the widget's default of 300 s ("Dashboard Body Structure and
    // Syntax", metric widget `period`; aws-cdk-lib leaves 300 out). The advice the check returns
    // (functions alarms handle oddly) was already given by the SLO for its alarms.
    const seconds = period ?? 300;
    validateAlarmMathExpression(what, expression, ids, { evaluationRangeSeconds: seconds, highResolution: seconds < 60 });
  }
}

/** Splits items into consecutive groups whose weights add up to at most `limit` (one heavier item stays alone). */
export function packByWeight<T>(items: readonly T[], weight: (item: T) => number, limit: number): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let total = 0;
  for (const item of items) {
    const w = weight(item);
    if (current.length > 0 && total + w > limit) {
      groups.push(current);
      current = [];
      total = 0;
    }
    current.push(item);
    total += w;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}
