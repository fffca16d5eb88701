import { RollbackTriggersError } from '../errors';
import { RELATIVE_ALARM_BLENDED_FACTOR, RELATIVE_ALARM_Z_SQUARED, relativeExpectedBad } from '../relative-alarm';
import type { PolicyTrafficShift, RollbackPolicy } from '../policy';
import type { Severity } from '../slo-math';
import { AlarmState, evaluateMOfN, isBreaching } from './m-of-n';
import { CompositeModel, EmulatorModel, TriggerModel, WindowAlarmModel, WindowBaselineModel, compilePolicy } from './model';
import { MetricIndex, MetricSeries, SliIndex, SliSeries, validateMetricSeries, validateSliSeries } from './series';

/**
 * An emulator of CloudWatch alarm evaluation for exactly the alarms the constructs synthesize:
 * burn-rate window alarms (metric math, period = window, 1 of 1, TreatMissingData), the rollback
 * alarms that compare them with a baseline, per-tier AND composites, per-severity OR composites and
 * M-of-N threshold triggers.
 *
 * Time runs in whole minutes. CloudWatch evaluates alarms whose period is a minute or longer once a
 * minute on a sliding window, so the emulator evaluates at every minute t, and the window of a
 * W-minute alarm at t covers minutes t − W … t − 1. A metric alarm whose period × evaluation periods
 * exceeds one day (the 3-day window of the workbook's slowest ticket tier) is evaluated once an
 * hour: at the minutes divisible by 60, on the data visible then; its state and datapoint hold in
 * between. Source: CloudWatch User Guide, "Alarm evaluation"
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html): "For any
 * period of one minute or longer, an alarm is evaluated every minute", and, for alarms whose
 * evaluation periods × period exceed one day, "the alarm is evaluated once per hour" (quoted from
 * the page's Chinese edition in `HOURLY_EVALUATION_AFTER_SECONDS`, lib/core/slo-math.ts). Which
 * minute of the hour CloudWatch picks is not documented; minute 0 of each hour (of minute numbers
 * counted from the Unix epoch, the top of the UTC hour) is this emulator's choice, and the plan's
 * detection ranges cover every choice.
 */

export interface EmulatorInput {
  readonly policy: RollbackPolicy;
  /**
   * The SLI series of each SLO, by the SLO's `path`. Every SLO that creates window alarms needs
   * one; give `[]` for "no data at all".
   */
  readonly sli: Readonly<Record<string, SliSeries>>;
  /**
   * The datapoints of each threshold trigger, by the trigger's `path`.
   *
   * @default - no triggers' data; required when the policy has threshold triggers
   */
  readonly metrics?: Readonly<Record<string, MetricSeries>>;
  /**
   * Window alarms that compare with a baseline (the rollback alarms of a `RollbackTrigger`), by
   * window alarm id: the factor and the baseline's own SLI series — for a Lambda alias the current
   * version's traffic (the alias minus the new version), for ECS the other target group. A minute
   * without a baseline entry has no baseline traffic, as `FILL(…, 0)` makes it in the expression.
   *
   * @default - no window alarm compares with a baseline
   */
  readonly baselines?: Readonly<Record<string, WindowBaselineInput>>;
}

/** The baseline of one window alarm. */
export interface WindowBaselineInput {
  /** The alarm burns only while the new version's error ratio is strictly above `factor` × the baseline's. */
  readonly factor: number;
  /** The old version's own traffic (for `rest-of-blended`, what the alias served beside the new version). */
  readonly series: SliSeries;
  /**
   * How the alarm reads the baseline, as the policy's rollback alarm records it: `separate` reads
   * the old version's own series (ECS: the other target group); `rest-of-blended` reads the whole
   * alias (the new version's traffic and this series) and subtracts the new version's, with the
   * guards `relativeBurnRateExpression` adds for series that arrive apart.
   *
   * @default 'separate'
   */
  readonly mode?: 'rest-of-blended' | 'separate';
  /** The deployment's steps, as the policy's rollback alarm records them (`baseline.shift`). @default - none (all at once or unknown) */
  readonly shift?: PolicyTrafficShift;
}

/**
 * How the emulator evaluates; every field is optional. Unknown fields and values that are not
 * whole numbers in range are rejected with RT505.
 */
export interface EmulatorOptions {
  /**
   * Minutes between the end of a minute and the moment CloudWatch has its data: data for minute m
   * is visible to evaluations at minute m + d + 1 and later. A window whose latest minutes are not
   * visible yet is evaluated on the minutes that are, as CloudWatch does with late data.
   *
   * @default 0
   */
  readonly ingestionDelayMinutes?: number;
  /**
   * First evaluation minute.
   *
   * @default - the earliest minute of any series
   */
  readonly fromMinute?: number;
  /**
   * Last evaluation minute (inclusive).
   *
   * @default - one minute after the latest datapoint of any series becomes visible
   */
  readonly toMinute?: number;
  /**
   * The evaluation-range look-back: periods beyond EvaluationPeriods that every metric alarm
   * retrieves. CloudWatch User Guide, "Configuring how CloudWatch alarms treat missing data"
   * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html;
   * quoted from its last GitHub revision, awsdocs/amazon-cloudwatch-user-guide,
   * doc_source/AlarmThatSendsEmail.md, "How alarm state is evaluated when data is missing"):
   * "CloudWatch attempts to retrieve a higher number of data points than the number specified as
   * Evaluation Periods. The exact number of data points it attempts to retrieve depends on the
   * length of the alarm period and whether it is based on a metric with standard resolution or
   * high resolution. The time frame of the data points that it attempts to retrieve is the
   * evaluation range." When recent datapoints are missing it evaluates the most recent real ones
   * among them. The size is not documented beyond the guide's examples — "CloudWatch retrieves
   * the 5 most recent data points when evaluating the alarm, in case some of the most recent 3
   * data points are missing. 5 is the evaluation range for the alarm." — hence 2 beyond 3.
   * For a window alarm (1 of 1) the extra periods are the previous whole windows: after its current
   * window goes without data it keeps evaluating the latest window that had some, for up to 2
   * windows, which is also what lets a 5-minute window see anything when data lands 5 or more
   * minutes late. With 0, a window without data applies TreatMissingData at once.
   *
   * @default 2 ({@link DEFAULT_EXTRA_RANGE_PERIODS})
   */
  readonly evaluationRangeExtraPeriods?: number;
  /**
   * Minutes a composite alarm takes to follow its children: a composite evaluated at minute t
   * reads its children's states at minute t − d (a composite of composites adds d per level).
   * Until minute `fromMinute` + d a composite has nothing to read and stays INSUFFICIENT_DATA.
   *
   * The guide documents no delay: PutCompositeAlarm defines `ALARM(x)` as "TRUE if the named
   * alarm is in ALARM state", and the only timing the guide gives for composites is in "Alarm
   * suppression" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create_Composite_Alarm.html;
   * quoted from awsdocs/amazon-cloudwatch-user-guide, doc_source/Create_Composite_Alarm.md), where `WaitPeriod`/`ExtensionPeriod` "compensate for any delays that can occur" ("if a
   * composite alarm changes to OK within 60 seconds of a suppressor alarm changing to OK, set
   * ExtensionPeriod to 60 seconds"; "We recommend that you set the value for each parameter to 60
   * seconds, as CloudWatch evaluates metric alarms every minute"). Hence 0, the same-minute
   * reaction the emulator always had; set 1 to see what a minute of lag per level changes.
   *
   * @default 0 ({@link DEFAULT_COMPOSITE_DELAY_MINUTES})
   */
  readonly compositeDelayMinutes?: number;
  /**
   * Minutes one series arrives after the others, on top of `ingestionDelayMinutes`, by series: an
   * SLO's path (its SLI series: for a rollback alarm, the new version's own) or
   * `baseline:<window alarm id>` (that alarm's baseline metrics: the whole alias for
   * `rest-of-blended`, the other target group for `separate`). Data for minute m of that series is
   * visible from minute m + ingestionDelayMinutes + d + 1 on. Nothing documents that two series of
   * one minute arrive together: this models a minute published late on one side.
   *
   * @default - every series arrives with `ingestionDelayMinutes`
   */
  readonly seriesDelayMinutes?: Readonly<Record<string, number>>;
}

export type EmulatedAlarmKind = 'window' | 'tier' | 'severity' | 'trigger';

/** What one emulated alarm is. */
export interface EmulatedAlarm {
  readonly id: string;
  readonly kind: EmulatedAlarmKind;
  /** SLO path for window and composite alarms. */
  readonly slo?: string;
  readonly severity?: Severity;
  /** Window alarms: the window; triggers: the period. */
  readonly periodMinutes?: number;
  readonly threshold?: number;
  /** Window alarms that compare with a baseline: its factor. */
  readonly baselineFactor?: number;
  /** Composites: operator and child ids. */
  readonly operator?: 'AND' | 'OR';
  readonly children?: readonly string[];
  /**
   * Metric alarms evaluated less often than every minute: 60 for an alarm whose period ×
   * evaluation periods exceeds one day (evaluated at the minutes divisible by 60). Absent for the
   * alarms evaluated every minute.
   */
  readonly evaluationIntervalMinutes?: number;
}

/** Every alarm's state after the evaluation at one minute. */
export interface TimelineEntry {
  readonly minute: number;
  readonly states: Readonly<Record<string, AlarmState>>;
  /**
   * The datapoint of each metric alarm at its latest evaluation (that minute, or the last top of
   * the hour for an alarm evaluated hourly): a window alarm's burn rate over its current window, a
   * trigger's latest visible period; `null` when missing.
   */
  readonly values: Readonly<Record<string, number | null>>;
}

export interface StateTransition {
  readonly minute: number;
  readonly id: string;
  readonly from: AlarmState;
  readonly to: AlarmState;
}

/** When an alarm first went into ALARM, and the numbers behind it at that minute. */
export interface FirstAlarm {
  readonly id: string;
  readonly kind: EmulatedAlarmKind;
  readonly slo?: string;
  readonly severity?: Severity;
  /** The first evaluation minute at which the alarm was in ALARM; `null` when it never was. */
  readonly firstAlarmMinute: number | null;
  /**
   * The datapoints of the metric alarms behind it at that minute (burn rates of the window alarms
   * of a tier or severity; the trigger's own value), by id; empty when it never fired.
   */
  readonly values: Readonly<Record<string, number | null>>;
}

export interface EmulationSummary {
  readonly tiers: readonly FirstAlarm[];
  readonly severities: readonly FirstAlarm[];
  readonly triggers: readonly FirstAlarm[];
  readonly windows: readonly FirstAlarm[];
}

/** The emulation's result; plain data, JSON-serializable as is. */
export interface EmulationResult {
  readonly fromMinute: number;
  readonly toMinute: number;
  readonly ingestionDelayMinutes: number;
  readonly evaluationRangeExtraPeriods: number;
  readonly compositeDelayMinutes: number;
  readonly alarms: readonly EmulatedAlarm[];
  readonly timeline: readonly TimelineEntry[];
  /** State changes in order, including the first evaluation leaving INSUFFICIENT_DATA. */
  readonly transitions: readonly StateTransition[];
  readonly summary: EmulationSummary;
}

/** Periods beyond EvaluationPeriods in the evaluation range, after the CloudWatch guide's examples (5 for 3). */
export const DEFAULT_EXTRA_RANGE_PERIODS = 2;

/** Minutes a composite takes to follow its children by default: none documented, so none. */
export const DEFAULT_COMPOSITE_DELAY_MINUTES = 0;

const OPTION_NAMES: readonly (keyof EmulatorOptions)[] = [
  'ingestionDelayMinutes',
  'fromMinute',
  'toMinute',
  'evaluationRangeExtraPeriods',
  'compositeDelayMinutes',
  'seriesDelayMinutes',
];

/** The longest run one call emulates (60 days of minutes); split longer replays. */
export const MAX_EMULATED_MINUTES = 60 * 1_440;

/** Replays the series through every alarm of the policy, minute by minute. */
export function emulate(input: EmulatorInput, options: EmulatorOptions = {}): EmulationResult {
  const baselines = input.baselines ?? {};
  if (baselines === null || typeof baselines !== 'object') throw new RollbackTriggersError('RT505', `baselines must be an object by window alarm id, got ${String(baselines)}`);
  validateOptionNames(options);
  const model = compilePolicy(
    input.policy,
    Object.fromEntries(Object.entries(baselines).map(([id, b]) => [id, b?.factor])),
    Object.fromEntries(Object.entries(baselines).flatMap(([id, b]) => (b?.mode === undefined ? [] : [[id, b.mode]]))),
    Object.fromEntries(Object.entries(baselines).flatMap(([id, b]) => (b?.shift === undefined ? [] : [[id, b.shift]]))),
  );
  const pace = paceOf(options);
  const series = indexSeries(input, baselines, model, options);
  const run: RunSettings = { ...pace, ...spanOf(options, series.firstLast, pace.delay) };
  const record = evaluateEveryMinute(model, series, run);
  return resultOf(model, record, run);
}

/** How the run evaluates: the ingestion delay, the evaluation range, the composites' lag. */
interface RunPace {
  readonly delay: number;
  readonly extraRange: number;
  readonly compositeDelay: number;
}

/** The pace, and the minutes evaluated (both inclusive). */
interface RunSettings extends RunPace {
  readonly fromMinute: number;
  readonly toMinute: number;
}

function paceOf(options: EmulatorOptions): RunPace {
  const delay = wholeOption('ingestionDelayMinutes', options.ingestionDelayMinutes ?? 0, 'minutes of ingestion delay');
  const extraRange = wholeOption(
    'evaluationRangeExtraPeriods',
    options.evaluationRangeExtraPeriods ?? DEFAULT_EXTRA_RANGE_PERIODS,
    'periods every metric alarm looks back beyond EvaluationPeriods',
  );
  const compositeDelay = wholeOption('compositeDelayMinutes', options.compositeDelayMinutes ?? DEFAULT_COMPOSITE_DELAY_MINUTES, 'minutes a composite takes to follow its children');
  return { delay, extraRange, compositeDelay };
}

/** Every series of the run, indexed for window sums, and how late each one arrives. */
interface RunSeries {
  /** SLI series by SLO path. */
  readonly sli: ReadonlyMap<string, SliIndex>;
  /** Baseline series by window alarm id. */
  readonly baselines: ReadonlyMap<string, SliIndex>;
  /** Trigger datapoints by trigger id. */
  readonly metrics: ReadonlyMap<string, MetricIndex>;
  readonly lateBy: ReadonlyMap<string, number>;
  /** The first and last minute of every series that has any. */
  readonly firstLast: readonly number[];
}

/** Checks and indexes every series the model reads, in the order the errors are reported. */
function indexSeries(input: EmulatorInput, baselines: Readonly<Record<string, WindowBaselineInput>>, model: EmulatorModel, options: EmulatorOptions): RunSeries {
  const firstLast: number[] = [];
  const sli = indexSliSeries(input.sli, model, firstLast);
  const baselineIndexes = indexBaselineSeries(baselines, model, firstLast);
  const lateBy = seriesDelays(options.seriesDelayMinutes, model);
  const metrics = indexMetricSeries(input.metrics, model, firstLast);
  return { sli, baselines: baselineIndexes, metrics, lateBy, firstLast };
}

/** The first and last minute of a series, into `firstLast`. */
function noteEdges(firstLast: number[], series: readonly { readonly minute: number }[]): void {
  if (series.length > 0) firstLast.push(series[0].minute, series[series.length - 1].minute);
}

function indexSliSeries(sli: EmulatorInput['sli'], model: EmulatorModel, firstLast: number[]): Map<string, SliIndex> {
  const indexes = new Map<string, SliIndex>();
  for (const w of model.windows) {
    if (indexes.has(w.sloPath)) continue;
    const series = sli[w.sloPath];
    if (series === undefined) {
      throw new RollbackTriggersError(
        'RT505',
        `no SLI series for SLO ${w.sloPath}: give one per SLO that creates alarms (an empty array means no data) — sli has ${Object.keys(sli).join(', ') || 'nothing'}`,
      );
    }
    validateSliSeries(`SLI series of ${w.sloPath}`, series);
    indexes.set(w.sloPath, new SliIndex(series));
    noteEdges(firstLast, series);
  }
  return indexes;
}

function indexBaselineSeries(baselines: Readonly<Record<string, WindowBaselineInput>>, model: EmulatorModel, firstLast: number[]): Map<string, SliIndex> {
  const indexes = new Map<string, SliIndex>();
  for (const w of model.windows) {
    if (!w.baseline) continue;
    const series = baselines[w.id].series;
    if (series === undefined) {
      throw new RollbackTriggersError('RT505', `no baseline series for window alarm ${w.id}: give baselines["${w.id}"].series (an empty array means no baseline traffic)`);
    }
    validateSliSeries(`baseline series of ${w.id}`, series);
    indexes.set(w.id, new SliIndex(series));
    noteEdges(firstLast, series);
  }
  return indexes;
}

function indexMetricSeries(metrics: EmulatorInput['metrics'], model: EmulatorModel, firstLast: number[]): Map<string, MetricIndex> {
  const indexes = new Map<string, MetricIndex>();
  for (const t of model.triggers) {
    const series = metrics?.[t.id];
    if (series === undefined) {
      throw new RollbackTriggersError('RT505', `no datapoints for threshold trigger ${t.id}: give metrics["${t.id}"] (an empty array means no data)`);
    }
    validateMetricSeries(`datapoints of ${t.id}`, series);
    indexes.set(t.id, new MetricIndex(series));
    noteEdges(firstLast, series);
  }
  return indexes;
}

/** The minutes to evaluate: as given, else from the first datapoint to a minute after the last is visible. */
function spanOf(options: EmulatorOptions, firstLast: readonly number[], delay: number): { fromMinute: number; toMinute: number } {
  const fromMinute = options.fromMinute ?? (firstLast.length ? Math.min(...firstLast) : undefined);
  const toMinute = options.toMinute ?? (firstLast.length ? Math.max(...firstLast) + delay + 1 : undefined);
  if (fromMinute === undefined || toMinute === undefined) {
    throw new RollbackTriggersError('RT505', 'every series is empty: give fromMinute and toMinute to say which minutes to evaluate');
  }
  if (!Number.isSafeInteger(fromMinute) || !Number.isSafeInteger(toMinute) || toMinute < fromMinute) {
    throw new RollbackTriggersError('RT505', `fromMinute and toMinute must be whole minutes with fromMinute ≤ toMinute, got ${fromMinute} and ${toMinute}`);
  }
  if (toMinute - fromMinute + 1 > MAX_EMULATED_MINUTES) {
    throw new RollbackTriggersError(
      'RT505',
      `minutes ${fromMinute} to ${toMinute} are ${toMinute - fromMinute + 1} evaluations; one run emulates at most ${MAX_EMULATED_MINUTES} (60 days) — split the replay or set fromMinute/toMinute`,
    );
  }
  return { fromMinute, toMinute };
}

/** Every alarm's state through the run, and what the result reports of it. */
class RunRecord {
  public readonly states: Map<string, AlarmState>;
  public readonly timeline: TimelineEntry[] = [];
  public readonly transitions: StateTransition[] = [];
  public readonly firstAlarm = new Map<string, number>();
  public readonly valuesAtFirst = new Map<string, Record<string, number | null>>();
  /** The datapoint of each metric alarm at its latest evaluation (held between hourly evaluations). */
  public readonly lastValues = new Map<string, number | null>();
  private readonly leaves: Map<string, string[]>;

  constructor(model: EmulatorModel) {
    // Every alarm starts in INSUFFICIENT_DATA, as CloudWatch creates it; composites with a reaction
    // delay stay there until they have a minute to read.
    this.states = new Map<string, AlarmState>([...model.windows, ...model.triggers, ...model.composites].map((a) => [a.id, 'INSUFFICIENT_DATA']));
    this.leaves = metricLeaves(model);
  }

  public stateOf(id: string): AlarmState {
    return this.states.get(id) ?? 'INSUFFICIENT_DATA';
  }

  public setState(minute: number, id: string, next: AlarmState): void {
    const previous = this.stateOf(id);
    if (next !== previous) this.transitions.push({ minute, id, from: previous, to: next });
    this.states.set(id, next);
  }

  /** Closes minute t: its states and datapoints into the timeline, and every alarm in ALARM for the first time. */
  public closeMinute(t: number, values: Record<string, number | null>): void {
    const snapshot = Object.fromEntries(this.states) as Record<string, AlarmState>;
    this.timeline.push({ minute: t, states: snapshot, values });
    for (const [id, state] of this.states) {
      if (state !== 'ALARM' || this.firstAlarm.has(id)) continue;
      this.firstAlarm.set(id, t);
      this.valuesAtFirst.set(id, Object.fromEntries((this.leaves.get(id) ?? []).map((leaf) => [leaf, values[leaf] ?? null])));
    }
  }
}

/** One minute at a time: the window alarms, then the triggers, then the composites (children first). */
function evaluateEveryMinute(model: EmulatorModel, series: RunSeries, run: RunSettings): RunRecord {
  const record = new RunRecord(model);
  // The datapoint of period j before an evaluation at minute `at`, per metric alarm.
  const windows = model.windows.map((w) => ({ alarm: w, datapoint: (at: number, j: number) => windowDatapoint(w, series, run.delay, at, j) }));
  const triggers = model.triggers.map((t) => ({ alarm: t, datapoint: (at: number, j: number) => triggerDatapoint(t, series, run.delay, at, j) }));
  for (let t = run.fromMinute; t <= run.toMinute; t++) {
    const values: Record<string, number | null> = {};
    for (const { alarm, datapoint } of windows) values[alarm.id] = evaluateMetricAlarm(record, alarm, t, run, datapoint);
    for (const { alarm, datapoint } of triggers) values[alarm.id] = evaluateMetricAlarm(record, alarm, t, run, datapoint);
    for (const c of model.composites) evaluateComposite(record, c, t, run);
    record.closeMinute(t, values);
  }
  return record;
}

/**
 * A metric alarm at minute t, when it is evaluated then: its evaluation range, oldest period
 * first, through M of N. Returns its datapoint at its latest evaluation (null when missing).
 */
function evaluateMetricAlarm(
  record: RunRecord,
  alarm: WindowAlarmModel | TriggerModel,
  t: number,
  run: RunSettings,
  datapoint: (at: number, j: number) => number | undefined,
): number | null {
  const at = evaluationMinute(alarm.evaluationIntervalMinutes, t, run.fromMinute);
  if (at !== undefined) {
    const range: (boolean | undefined)[] = [];
    let current: number | undefined;
    for (let j = alarm.evaluationPeriods + run.extraRange - 1; j >= 0; j--) {
      current = datapoint(at, j);
      range.push(current === undefined ? undefined : isBreaching(current, alarm.comparison, alarm.threshold));
    }
    record.lastValues.set(alarm.id, current ?? null);
    record.setState(t, alarm.id, evaluateMOfN(range, alarm, record.stateOf(alarm.id)));
  }
  return record.lastValues.get(alarm.id) ?? null;
}

/** A window alarm's datapoint over its j-th window before minute `at`, on the data visible then. */
function windowDatapoint(w: WindowAlarmModel, series: RunSeries, delay: number, at: number, j: number): number | undefined {
  const visibleTo = at - delay - 1;
  const from = at - (j + 1) * w.windowMinutes;
  const to = at - j * w.windowMinutes - 1;
  const index = series.sli.get(w.sloPath)!;
  const baseline = series.baselines.get(w.id);
  // Each series is read as far as it has arrived (seriesDelayMinutes; the same minutes without).
  const canary = index.window(from, Math.min(to, visibleTo - (series.lateBy.get(w.sloPath) ?? 0)));
  if (!baseline) return windowBurnRate(w, canary);
  const baseTo = Math.min(to, visibleTo - (series.lateBy.get(`baseline:${w.id}`) ?? 0));
  const old = baseline.window(from, baseTo);
  if (w.baseline!.mode !== 'rest-of-blended') return relativeWindowBurnRate(w as RelativeWindow, canary, old);
  // The alarm reads the whole alias (both versions, as far as the alias has arrived) and
  // subtracts the new version's counts as far as they have arrived.
  const aliasPart = index.window(from, baseTo);
  const alias = { datapoints: Math.max(aliasPart.datapoints, old.datapoints), total: aliasPart.total + old.total, bad: aliasPart.bad + old.bad };
  return relativeWindowBurnRate(w as RelativeWindow, canary, remainderOf(alias, canary), alias);
}

/**
 * A trigger's datapoint of the period ending with minute at − 1 − j·p; a period's datapoint
 * appears whole once its last minute is visible (partial periods are not modelled).
 */
function triggerDatapoint(trigger: TriggerModel, series: RunSeries, delay: number, at: number, j: number): number | undefined {
  const key = at - 1 - j * trigger.periodMinutes;
  return key <= at - delay - 1 ? series.metrics.get(trigger.id)!.at(key) : undefined;
}

/** A composite reads its children's states at minute t, or t − d with a reaction delay. */
function evaluateComposite(record: RunRecord, c: CompositeModel, t: number, run: RunSettings): void {
  if (run.compositeDelay === 0) {
    record.setState(t, c.id, compositeState(c, (id) => record.states.get(id)));
  } else if (t - run.compositeDelay >= run.fromMinute) {
    // Every state as of minute t − d, composites included (a composite of composites lags per level).
    const earlier = record.timeline[t - run.compositeDelay - run.fromMinute].states;
    record.setState(t, c.id, compositeState(c, (id) => earlier[id]));
  }
}

function resultOf(model: EmulatorModel, record: RunRecord, run: RunSettings): EmulationResult {
  const first = (id: string, kind: EmulatedAlarmKind, slo?: string, severity?: Severity): FirstAlarm => ({
    id,
    kind,
    ...(slo !== undefined ? { slo } : {}),
    ...(severity !== undefined ? { severity } : {}),
    firstAlarmMinute: record.firstAlarm.get(id) ?? null,
    values: record.valuesAtFirst.get(id) ?? {},
  });
  return {
    fromMinute: run.fromMinute,
    toMinute: run.toMinute,
    ingestionDelayMinutes: run.delay,
    evaluationRangeExtraPeriods: run.extraRange,
    compositeDelayMinutes: run.compositeDelay,
    alarms: describeAlarms(model),
    timeline: record.timeline,
    transitions: record.transitions,
    summary: {
      tiers: tierSummaries(model, record, run, first),
      severities: model.composites.filter((c) => c.kind === 'severity').map((c) => first(c.id, 'severity', c.sloPath, c.severity)),
      triggers: model.triggers.map((t) => first(t.id, 'trigger', undefined, t.severity)),
      windows: model.windows.map((w) => first(w.id, 'window', w.sloPath)),
    },
  };
}

/**
 * When each tier first fired: its composite's first ALARM in the per-tier layout; in the others,
 * the first minute its term of the severity rule held, read as a composite reads it (its two
 * window alarms in ALARM at minute t − d) — the minute a per-tier composite would have fired.
 */
function tierSummaries(
  model: EmulatorModel,
  record: RunRecord,
  run: RunSettings,
  first: (id: string, kind: EmulatedAlarmKind, slo?: string, severity?: Severity) => FirstAlarm,
): FirstAlarm[] {
  const composites = new Set(model.composites.filter((c) => c.kind === 'tier').map((c) => c.id));
  const rules = model.tierRules ?? model.composites.filter((c) => c.kind === 'tier').map((c) => ({ id: c.id, sloPath: c.sloPath, severity: c.severity, children: c.children }));
  return rules.map((rule) => {
    if (composites.has(rule.id)) return first(rule.id, 'tier', rule.sloPath, rule.severity);
    const index = record.timeline.findIndex((_, i) => i >= run.compositeDelay && rule.children.every((id) => record.timeline[i - run.compositeDelay].states[id] === 'ALARM'));
    const entry = index < 0 ? undefined : record.timeline[index];
    return {
      id: rule.id,
      kind: 'tier',
      slo: rule.sloPath,
      severity: rule.severity,
      firstAlarmMinute: entry?.minute ?? null,
      values: entry ? Object.fromEntries(rule.children.map((id) => [id, entry.values[id] ?? null])) : {},
    };
  });
}

/**
 * The window's datapoint: `IF(total >= minEvents, FILL(bad, 0) / total, 0) / errorBudget`, or
 * `undefined` when the window holds no datapoint of `total` (the expression has no value).
 */
export function windowBurnRate(alarm: Pick<WindowAlarmModel, 'minEvents' | 'errorBudget'>, window: WindowCounts): number | undefined {
  if (window.datapoints === 0) return undefined;
  // total > 0 too: the construct's guard is always ≥ 1, and a hand-written policy with
  // minEvents 0 must not divide zero by zero.
  const ratio = window.total >= alarm.minEvents && window.total > 0 ? window.bad / window.total : 0;
  return ratio / alarm.errorBudget;
}

/** The window sums {@link SliIndex.window} returns. */
export interface WindowCounts {
  readonly datapoints: number;
  readonly total: number;
  readonly bad: number;
}

type RelativeWindow = Pick<WindowAlarmModel, 'minEvents' | 'errorBudget'> & { readonly baseline: Pick<WindowBaselineModel, 'factor' | 'shift'> };

// The rollback alarms' gates live in ../relative-alarm (the constructs render them without loading the
// emulator); re-exported here, where they were defined before.
export { RELATIVE_ALARM_BLENDED_FACTOR, RELATIVE_ALARM_Z_SQUARED };

/**
 * The datapoint of a window alarm that compares with a baseline, as `relativeBurnRateExpression`
 * renders it (e = factor × baseBad ÷ baseTotal × total, the new version's bad events were it
 * `factor` times as bad as the baseline):
 *
 * `IF(total >= N, IF(baseTotal >= N, IF(baseTotal >= total, [blended guards] IF(bad > e, IF((bad − e) × (bad − e) > 9 × (e + 1), ratio, 0), 0), 0), 0), 0) / errorBudget`
 *
 * - `undefined` when the new version's window holds no datapoint of `total` (no value: the
 *   alarm's TreatMissingData applies), whatever the baseline holds;
 * - 0 while the new version has fewer than N events in the window;
 * - 0 while the baseline has fewer than N events in the window (`FILL(…, 0)` makes a baseline
 *   without datapoints 0 events): without a baseline on the same minutes the alarm holds;
 * - 0 while the baseline served fewer events than the new version in the window: then most of
 *   the new version's minutes have no current-version traffic beside them (all at once, after the
 *   full shift, the last steps of a linear rollout), and the window would set minutes after the
 *   release against minutes before it — a blip or an incident starting in between would read as
 *   the release. The evaluator judges those minutes (solo windows, lib/core/windows.ts);
 * - with `blended` (rest-of-blended: `baseline` is the alias minus the new version, as read), 0
 *   while the alias shows fewer than half the new version's bad events (`2 × aliasBad >= bad`
 *   fails: the alias, which carries the new version's traffic, has not published the minutes those
 *   errors are in) or the new version does not fail more than {@link RELATIVE_ALARM_BLENDED_FACTOR}
 *   times as often as the whole alias (`bad × aliasTotal > 1.9 × aliasBad × total`): the guards
 *   against series that arrive apart;
 * - 0 unless the new version fails more than `factor` times as often, by more than
 *   {@link RELATIVE_ALARM_Z_SQUARED}'s three standard deviations (strict comparisons);
 * - otherwise the new version's own burn rate, unchanged (the baseline only gates it).
 *
 * As in {@link windowBurnRate}, a zero total never divides (the construct's N is always ≥ 1).
 */
export function relativeWindowBurnRate(alarm: RelativeWindow, canary: WindowCounts, baseline: WindowCounts, blended?: WindowCounts): number | undefined {
  if (canary.datapoints === 0) return undefined;
  if (!(canary.total >= alarm.minEvents && canary.total > 0)) return 0;
  const ratio = canary.bad / canary.total;
  // No baseline traffic in the window: the alarm holds (the synthesized expression's inner IF).
  if (!(baseline.total >= alarm.minEvents && baseline.total > 0)) return 0;
  if (!(baseline.total >= canary.total)) return 0;
  if (blended && !(2 * blended.bad >= canary.bad && canary.bad * blended.total > RELATIVE_ALARM_BLENDED_FACTOR * blended.bad * canary.total)) return 0;
  const expected = relativeExpectedBad(alarm.baseline.factor, baseline, canary.total, alarm.baseline.shift?.share);
  return (significantlyAbove(canary.bad, expected) ? ratio : 0) / alarm.errorBudget;
}

/** The alias minus the new version, as `rest-of-blended` reads it: negative when the two arrive apart. */
export function remainderOf(alias: WindowCounts, canary: WindowCounts): WindowCounts {
  return { datapoints: alias.datapoints, total: alias.total - canary.total, bad: alias.bad - canary.bad };
}

/**
 * Whether the new version fails more than `factor` times as often as the baseline, by more than
 * three standard deviations ({@link RELATIVE_ALARM_Z_SQUARED}): the rollback alarms' gate, and the
 * evaluator's on the minutes both versions served. `e = factor × baseBad ÷ baseTotal × total`;
 * true when `bad > e` and `(bad − e)² > 9 × (e + 1)`. A baseline without events predicts nothing:
 * false.
 */
export function significantlyWorse(canary: Pick<WindowCounts, 'total' | 'bad'>, baseline: Pick<WindowCounts, 'total' | 'bad'>, factor: number): boolean {
  if (!(baseline.total > 0)) return false;
  return significantlyAbove(canary.bad, ((factor * baseline.bad) / baseline.total) * canary.total);
}

/** `bad` exceeds `expected` bad events by more than three standard deviations: `bad > e` and `(bad − e)² > 9 × (e + 1)`. */
export function significantlyAbove(bad: number, expected: number): boolean {
  const excess = bad - expected;
  return excess > 0 && excess * excess > RELATIVE_ALARM_Z_SQUARED * (expected + 1);
}

/**
 * A composite's rule over its children's states. PutCompositeAlarm: `ALARM(x)` "is TRUE if the
 * named alarm is in ALARM state", so INSUFFICIENT_DATA children count as not in ALARM, and a
 * composite is INSUFFICIENT_DATA only before its first evaluation.
 */
function compositeState(c: CompositeModel, stateOf: (id: string) => AlarmState | undefined): AlarmState {
  const inAlarm = (id: string) => stateOf(id) === 'ALARM';
  const fires = c.terms.some((term) => term.every(inAlarm));
  return fires ? 'ALARM' : 'OK';
}

/** For every alarm, the metric alarms (windows, triggers) its state is built from. */
function metricLeaves(model: EmulatorModel): Map<string, string[]> {
  const leaves = new Map<string, string[]>();
  for (const w of model.windows) leaves.set(w.id, [w.id]);
  for (const t of model.triggers) leaves.set(t.id, [t.id]);
  // Composites are ordered children first, so every child's leaves are known.
  for (const c of model.composites) {
    leaves.set(c.id, [...new Set(c.children.flatMap((child) => leaves.get(child) ?? []))]);
  }
  return leaves;
}

function describeAlarms(model: EmulatorModel): EmulatedAlarm[] {
  const interval = (minutes: number) => (minutes > 1 ? { evaluationIntervalMinutes: minutes } : {});
  const window = (w: WindowAlarmModel): EmulatedAlarm => ({
    id: w.id,
    kind: 'window',
    slo: w.sloPath,
    periodMinutes: w.windowMinutes,
    threshold: w.threshold,
    ...(w.baseline ? { baselineFactor: w.baseline.factor } : {}),
    ...interval(w.evaluationIntervalMinutes),
  });
  const trigger = (t: TriggerModel): EmulatedAlarm => ({
    id: t.id,
    kind: 'trigger',
    severity: t.severity,
    periodMinutes: t.periodMinutes,
    threshold: t.threshold,
    ...interval(t.evaluationIntervalMinutes),
  });
  const composite = (c: CompositeModel): EmulatedAlarm => ({ id: c.id, kind: c.kind, slo: c.sloPath, severity: c.severity, operator: c.operator, children: c.children });
  return [...model.windows.map(window), ...model.triggers.map(trigger), ...model.composites.map(composite)];
}

/**
 * The minute whose data a metric alarm evaluated every `intervalMinutes` is evaluated on at minute
 * t, or `undefined` when it is not evaluated then (its state holds). Every minute: t. Hourly: the
 * minutes divisible by 60; at the first minute of the run the alarm already has the state of its
 * latest hourly evaluation, so it is evaluated as of the last top of the hour.
 */
function evaluationMinute(intervalMinutes: number, t: number, fromMinute: number): number | undefined {
  if (intervalMinutes <= 1) return t;
  const intoInterval = ((t % intervalMinutes) + intervalMinutes) % intervalMinutes;
  if (intoInterval === 0) return t;
  return t === fromMinute ? t - intoInterval : undefined;
}

/** `seriesDelayMinutes`, checked: every key names a series of the run, every value a whole number ≥ 0. */
function seriesDelays(delays: EmulatorOptions['seriesDelayMinutes'], model: EmulatorModel): Map<string, number> {
  if (delays === undefined) return new Map();
  if (delays === null || typeof delays !== 'object' || Array.isArray(delays)) {
    throw new RollbackTriggersError('RT505', `seriesDelayMinutes must be an object of minutes by series, got ${delays === null ? 'null' : Array.isArray(delays) ? 'an array' : typeof delays}`);
  }
  const known = [...new Set(model.windows.map((w) => w.sloPath)), ...model.windows.filter((w) => w.baseline).map((w) => `baseline:${w.id}`)];
  return new Map(
    Object.entries(delays).map(([key, value]) => {
      if (!known.includes(key)) {
        throw new RollbackTriggersError('RT505', `seriesDelayMinutes names "${key}", which is no series of this run — the series are ${known.join(', ') || 'none'}`);
      }
      return [key, wholeOption(`seriesDelayMinutes["${key}"]`, value, 'minutes that series arrives late')];
    }),
  );
}

function validateOptionNames(options: EmulatorOptions): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new RollbackTriggersError('RT505', `the emulator's options must be an object, got ${options === null ? 'null' : Array.isArray(options) ? 'an array' : typeof options}`);
  }
  const unknown = Object.keys(options).filter((key) => !(OPTION_NAMES as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw new RollbackTriggersError('RT505', `unknown emulator option${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')} — the options are ${OPTION_NAMES.join(', ')}`);
  }
}

function wholeOption(name: string, value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RollbackTriggersError('RT505', `${name} (${what}) must be a whole number ≥ 0, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
  }
  return value;
}
