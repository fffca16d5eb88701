import { Annotations, Duration, Stack, Token } from 'aws-cdk-lib';
import { CfnServiceLevelObjective } from 'aws-cdk-lib/aws-applicationsignals';
import { IAlarm, IAlarmAction, IMetric, MathExpression, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import { Construct, IConstruct } from 'constructs';
import {
  MAX_EVALUATION_RANGE_SECONDS,
  isHighResolutionPeriod,
  validateAlarmDescription,
  validateAlarmMathExpression,
  validateAlarmNamePart,
  validateLibraryQueryId,
  validateMathAlarmSize,
  validatePeriod,
  validateResolutionForNamespaces,
  validateWindowMultiple,
} from '../core/cloudwatch-limits';
import { SLO_DEFAULTS } from '../core/defaults';
import { RollbackTriggersError, formatNumber, formatSeconds } from '../core/errors';
import { POLICY_METADATA_TYPE, POLICY_SCHEMA_VERSION, type PolicyAlarmLayout, type PolicySlo } from '../core/policy';
import { PolicyIds, type PlannedSlo, type SloDeclaration, ownWindows, planSlo, sloPolicyEntry } from '../core/policy-builder';
import { type DerivedTier, fullOutageBudgetSeconds, validateMinEventsPerWindow } from '../core/slo-math';
import { FactoryAlarm, burnRateExpression, compositeAlarm, windowAlarm } from '../private/alarm-factory';
import { nativeSlo } from '../private/application-signals';
import { acknowledgeWindowAlarm } from '../private/nag';
import { atConstruct } from '../private/errors';
import { isUnresolved, literalSeconds, mathExpressionsOf, metricFootprint, metricSignature } from '../private/metrics';
import { SliCounts, countsMetricCount } from '../private/sli-counts';
import { AlarmLayout } from './alarm-layout';
import { AlertSeverity, BurnRateTier } from './burn-rate-tier';
import { ServiceLevelObjectiveGroup } from './service-level-objective-group';
import { Sli } from './sli';

/** Properties of a {@link ServiceLevelObjective}. */
export interface ServiceLevelObjectiveProps {
  /** What is measured: which events are bad, out of which. */
  readonly sli: Sli;
  /**
   * Target share of good events, in percent, above 0 and at most 99.9999 (99.9 for "three nines"):
   * a smaller budget than one bad event in a million cannot be written in the alarms' metric math.
   */
  readonly objectivePercent: number;
  /**
   * The period the objective and its error budget are measured over.
   *
   * @default Duration.days(30)
   */
  readonly compliancePeriod?: Duration;
  /**
   * Burn-rate tiers to alarm on.
   *
   * @default BurnRateTier.workbookDefaults() — page at 14.4× (1 h / 5 min) and 6× (6 h / 30 min), ticket at 3× (1 d / 2 h) and 1× (3 d / 6 h) for 30 days
   */
  readonly tiers?: BurnRateTier[];
  /**
   * Minimum number of events a window must hold before its tier may fire, so a quiet service does
   * not page on one failed request. It must be large enough that one failed request among that many
   * events stays below every tier's error-ratio threshold (1,001 for the workbook tiers of a 99.9 %
   * SLO); a smaller count would let a single failure fire a tier.
   *
   * @default - per tier, the smallest count at which one bad event stays below the tier's error-ratio threshold (70 for the 14.4× tier of a 99.9 % SLO)
   */
  readonly minEventsPerWindow?: number;
  /**
   * The granularity the SLI's metrics are published at. Every window must be a multiple of it.
   * Setting 10, 20 or 30 seconds declares the metrics high resolution (custom metrics published
   * with `StorageResolution` 1; AWS-vended metrics never are), which windows under a minute need.
   *
   * @default Duration.minutes(1)
   */
  readonly resolution?: Duration;
  /**
   * Actions when any page tier fires (SNS topics, OpsItems…).
   *
   * @default - no actions
   */
  readonly pageActions?: IAlarmAction[];
  /**
   * Actions when any ticket tier fires.
   *
   * @default - no actions
   */
  readonly ticketActions?: IAlarmAction[];
  /**
   * Prefix for the names of every alarm of this SLO. Names must be unique per account and region,
   * and may not hold ASCII control characters or a double quote (a composite alarm's rule names
   * its children in double quotes).
   *
   * @default - CloudFormation generates unique names, so two stacks never collide
   */
  readonly alarmNamePrefix?: string;
  /**
   * Name of the SLO in alarm names, descriptions, the policy and the plan; unique within a stack
   * (the plan, the simulator and the evaluator tell SLOs apart by it), not empty, without ASCII
   * control characters or double quotes.
   *
   * @default - the construct id
   */
  readonly sloName?: string;
  /**
   * Suppress the ticket alarm's actions while the page alarm is in ALARM (the page already says
   * it), waiting 2 minutes for the page alarm and staying quiet 30 minutes after it clears. Needs
   * both a page and a ticket tier.
   *
   * @default false
   */
  readonly suppressTicketsWhilePaging?: boolean;
  /**
   * How the alarms are laid out: every layout fires and resets on the same minutes, they differ in
   * cost and in what there is to look at. EXACT puts the whole multiwindow rule in one composite
   * per severity; PER_TIER adds one composite per tier ($0.50 a month each); NATIVE adds the SLO
   * as a CloudWatch Application Signals SLO, shown in the console's SLO page.
   *
   * @default AlarmLayout.EXACT
   */
  readonly alarmLayout?: AlarmLayout;
  /**
   * The name of the Application Signals SLO (alarmLayout NATIVE only): 2 to 128 letters, digits,
   * '-', '.', '_' or spaces, starting and ending with a letter or digit, unique in the account and
   * Region. Changing it replaces the SLO.
   *
   * @default - `<stack name>-<sloName>`, characters the API refuses replaced by '-'
   */
  readonly applicationSignalsSloName?: string;
  /**
   * A group of SLOs of one service that share one page and one ticket composite: this SLO's tiers
   * join the group's rules instead of composites of its own. Actions and ticket suppression are then
   * the group's props; the layout must be EXACT or NATIVE.
   *
   * @default - the SLO has its own composites
   */
  readonly group?: ServiceLevelObjectiveGroup;
}

/**
 * Options shared by the metrics a {@link ServiceLevelObjective} offers for dashboards and alarms.
 */
export interface SloMetricOptions {
  /**
   * Label of the metric in graph legends and on single-value widgets.
   *
   * @default - the SLO's name and what the metric measures, for example `Checkout burn rate over 1 h`
   */
  readonly label?: string;
  /**
   * Color of the metric on graphs, as a six-digit hex code (`#d62728`).
   *
   * @default - CloudWatch picks a color
   */
  readonly color?: string;
}

/** Options of {@link ServiceLevelObjective.metricBurnRate}. */
export interface BurnRateMetricOptions extends SloMetricOptions {
  /**
   * Fewest events a window must hold for its burn rate to count; a window with fewer reads 0, the
   * low-traffic guard the SLO's own window alarms apply (with their per-tier minimum). 1 shows the
   * burn of every window with traffic: on a quiet service one failed request among a handful then
   * reads as a burn of hundreds. Give a tier's minimum (the plan prints it) to see what its alarm
   * sees.
   *
   * @default 1
   */
  readonly minEventsPerWindow?: number;
}

const SLO_SYMBOL = Symbol.for('cdk-rollback-triggers.ServiceLevelObjective');
/**
 * The sloName an SLO holds in its stack, set at the end of its constructor: an SLO whose
 * constructor threw takes no name. A per-instance property (no module state), keyed with `Symbol.for` so every
 * copy of the library in one app sees the names of the others.
 */
const SLO_NAME_CLAIM = Symbol.for('cdk-rollback-triggers.ServiceLevelObjective.sloName');

/**
 * A service level objective with multi-window, multi-burn-rate alarms.
 *
 * For every tier it creates a long-window and a short-window burn-rate alarm (each alarm's period
 * is its window), ANDs them in a composite per tier, and ORs the tiers into one composite per
 * severity that carries the actions. Every alarm is created under the SLO (its tier's scope), so
 * adding or deleting another SLO never changes its logical ids; two SLOs never share an alarm.
 */
export class ServiceLevelObjective extends Construct {
  /** Whether a construct is a ServiceLevelObjective (works across copies of the library). */
  public static isServiceLevelObjective(x: unknown): x is ServiceLevelObjective {
    return typeof x === 'object' && x !== null && SLO_SYMBOL in x;
  }

  /** The SLO's name: in alarm names and descriptions, the plan, the policy and the audit events. */
  public readonly sloName: string;
  /** What the SLO measures: good, bad and total events. */
  public readonly sli: Sli;
  /** The share of good events the SLO promises, in percent (99.9). */
  public readonly objectivePercent: number;
  /** The period the objective and its error budget are measured over. */
  public readonly compliancePeriod: Duration;
  /** The error budget as a fraction of events (0.001 for 99.9 %). */
  public readonly errorBudget: number;
  /** Every long- and short-window alarm the tiers use, all created by this SLO. */
  public readonly windowAlarms: IAlarm[];
  /**
   * One composite per tier (long window AND short window), in the PER_TIER layout; empty in the
   * others, whose severity composites hold each tier's rule.
   */
  public readonly tierAlarms: IAlarm[];
  /** How the SLO's alarms are laid out (`alarmLayout`). */
  public readonly alarmLayout: AlarmLayout;
  /**
   * The SLO as a CloudWatch Application Signals SLO.
   *
   * @default - undefined unless alarmLayout is NATIVE
   */
  public readonly applicationSignalsSlo?: CfnServiceLevelObjective;
  /**
   * Composite of the page tiers; carries `pageActions`.
   *
   * @default - undefined when no tier pages
   */
  public readonly pageAlarm?: IAlarm;
  /**
   * Composite of the ticket tiers; carries `ticketActions`.
   *
   * @default - undefined when no tier opens tickets
   */
  public readonly ticketAlarm?: IAlarm;

  /** @internal */
  public readonly _policy: PolicySlo;

  /** The granularity the SLI's metrics are published at, in seconds (`resolution`). */
  private readonly resolutionSeconds: number;

  constructor(scope: Construct, id: string, props: ServiceLevelObjectiveProps) {
    super(scope, id);
    Object.defineProperty(this, SLO_SYMBOL, { value: true });

    this.sli = props.sli;
    this.sloName = props.sloName ?? id;
    this.objectivePercent = props.objectivePercent;
    this.compliancePeriod = props.compliancePeriod ?? Duration.seconds(SLO_DEFAULTS.compliancePeriodSeconds);
    this.alarmLayout = atConstruct(this, () => validateLayout(props.alarmLayout));
    atConstruct(this, () => validateGroupMembership(props, this.alarmLayout));

    const checked = atConstruct(this, () => validate(props, this.compliancePeriod, this.sloName, this.node.path, Stack.of(this)));
    atConstruct(this, () => checkSloNameFree(this, this.sloName));
    this.errorBudget = checked.budget;
    this.resolutionSeconds = checked.resolutionSeconds;
    warnOnCountStatistics(this, props.sli);
    for (const warning of checked.warnings) Annotations.of(this).addWarningV2(warning.id, warning.message);

    const alarms = createAlarms(this, props, checked, this.alarmLayout);
    if (props.applicationSignalsSloName !== undefined && this.alarmLayout !== AlarmLayout.NATIVE) {
      atConstruct(this, () => {
        throw new RollbackTriggersError('RT130', 'applicationSignalsSloName names the Application Signals SLO, which only alarmLayout: AlarmLayout.NATIVE creates — set that layout or remove the name', {
          prop: 'applicationSignalsSloName',
        });
      });
    }
    if (this.alarmLayout === AlarmLayout.NATIVE) {
      this.applicationSignalsSlo = atConstruct(this, () =>
        nativeSlo(this, {
          sloName: this.sloName,
          givenName: props.applicationSignalsSloName,
          description: `SLO ${this.sloName}: ${props.sli.description} (cdk-rollback-triggers, ${this.node.path})`,
          objectivePercent: this.objectivePercent,
          compliancePeriodSeconds: checked.periodSeconds,
          resolutionSeconds: checked.resolutionSeconds,
          counts: props.sli._counts,
          tiers: checked.tiers.map((t) => t.derived),
        }),
      );
    }
    this.pageAlarm = alarms.pageAlarm;
    this.ticketAlarm = alarms.ticketAlarm;
    this.windowAlarms = alarms.windowAlarms;
    this.tierAlarms = alarms.tierAlarms;

    // Every window alarm is the SLO's own (created under its tier's scope).
    this._policy = sloPolicyEntry(checked.declaration, checked.plan, ownWindows(checked.declaration, checked.plan));
    this.node.addMetadata(POLICY_METADATA_TYPE, { schemaVersion: POLICY_SCHEMA_VERSION, entry: this._policy });
    // Last: an SLO whose constructor threw (alarm limits included) holds no name.
    Object.defineProperty(this, SLO_NAME_CLAIM, { value: this.sloName });
  }

  /**
   * The SLO's burn rate over a window: the share of bad events among the window's events, divided
   * by the error budget (1 = spending the budget exactly at the rate the objective allows; 14.4 =
   * a 30-day budget's 2 % gone in an hour). It is the expression of the SLO's own window alarms
   * (`IF(total >= N, FILL(bad, 0) / total, 0) / budget`, built by the same function from the same
   * SLI counts) with the window as its period, so a graph of it shows what those alarms compare
   * with their thresholds. Its query ids carry a suffix of the SLO and the window, so the burn
   * rates of several windows and SLOs share one graph.
   *
   * Each datapoint covers one window that starts at its timestamp. Create the dashboard with
   * `periodOverride: PeriodOverride.INHERIT` and leave the widget's `period` unset: with `auto`,
   * CloudWatch adapts every graph's period to the time range (CloudWatch API Reference, "Dashboard
   * Body Structure and Syntax"), which would change the window. A graph reaching further back than
   * 15 days shows data only for windows that are multiples of 5 minutes, further than 63 days of
   * 1 hour (CloudWatch API Reference, `MetricStat` `Period`).
   *
   * @param window the window the burn rate is measured over: whole minutes, from 1 minute to
   * 7 days, and a multiple of the SLO's `resolution`. 7 days is the longest period a CloudWatch
   * alarm evaluates (PutMetricAlarm: `Period` × `EvaluationPeriods` ≤ 604,800 s), so the metric
   * works in an alarm as well as on a dashboard; for the whole compliance period, see
   * {@link metricErrorBudgetRemaining}.
   * @param options label, color and low-traffic guard
   * @returns a metric-math expression (`IMetric`) whose period is the window, for a `GraphWidget`,
   * a `SingleValueWidget` or an alarm
   *
   * @example
   * declare const stack: Stack;
   * declare const slo: ServiceLevelObjective;
   * const dashboard = new cloudwatch.Dashboard(stack, 'Slo', { periodOverride: cloudwatch.PeriodOverride.INHERIT });
   * dashboard.addWidgets(new cloudwatch.GraphWidget({
   *   title: 'Checkout burn rate',
   *   left: [slo.metricBurnRate(Duration.hours(1)), slo.metricBurnRate(Duration.minutes(5), { color: '#d62728' })],
   *   leftAnnotations: [{ value: 14.4, label: 'page: 2 % of the budget in 1 h' }],
   * }));
   */
  public metricBurnRate(window: Duration, options: BurnRateMetricOptions = {}): IMetric {
    const windowSeconds = atConstruct(this, () => burnRateWindowSeconds(window, this.resolutionSeconds));
    const minEvents = atConstruct(this, () => metricMinEvents(options.minEventsPerWindow));
    const label = options.label ?? `${this.sloName} burn rate over ${formatSeconds(windowSeconds)}`;
    const expression = burnRateExpression(this.sli._counts, windowSeconds, this.errorBudget, minEvents, label);
    return withQueryIdSuffix(options.color === undefined ? expression : expression.with({ color: options.color }), this.queryIdSuffix(windowSeconds));
  }

  /**
   * The share of the error budget left over one compliance period, in PERCENT of the budget:
   * 100 − 100 × (bad ÷ total over the period) ÷ budget. 100 is an untouched budget, 0 a spent one,
   * and below 0 the objective was missed. The burn rate over a whole period is the share of the
   * budget the period consumed, so this is the SLO's burn-rate expression (the window alarms'
   * function and SLI counts) with the compliance period as its window. A period without traffic
   * has no datapoint.
   *
   * The query's period is the compliance period itself (30 days by default, 2,592,000 s).
   * CloudWatch documents no maximum period for a query: a `MetricStat` period is "a multiple of
   * 60" with a "Minimum value of 1" (CloudWatch API Reference, `MetricStat`), a dashboard metric's
   * period "A multiple of 60, with a minimum of 60" (CloudWatch API Reference, "Dashboard Body
   * Structure and Syntax"). What bounds it: a datapoint whose period starts more than 63 days ago is
   * returned only for periods that are multiples of 1 hour (`MetricStat` `Period`), and data is kept
   * at 1-hour resolution for 455 days (`GetMetricData`). The compliance period must therefore be
   * whole hours and at most 455 days, or this method throws (RT128).
   *
   * A datapoint covers the compliance period that starts at its timestamp, and a graph's datapoints
   * start at the start of its time range (`GetMetricData` `StartTime`, rounded down to the minute,
   * 5 minutes or hour by age). Give the widget a time range of exactly the compliance period
   * (`start: '-P30D'`) to read the budget left in the last 30 days; a range of several periods shows
   * one point per period. As with {@link metricBurnRate}, keep the dashboard's `periodOverride` at
   * `INHERIT`. It is no rolling window, and it is for dashboards only: CloudWatch refuses an alarm
   * whose period is over 7 days (PutMetricAlarm), and the SLO's burn-rate tiers are the alarms on
   * the budget.
   *
   * @param options label and color
   * @returns a metric-math expression (`IMetric`) in percent of the error budget, whose period is
   * the compliance period
   *
   * @example
   * declare const stack: Stack;
   * declare const slo: ServiceLevelObjective;
   * const dashboard = new cloudwatch.Dashboard(stack, 'Budget', { periodOverride: cloudwatch.PeriodOverride.INHERIT });
   * dashboard.addWidgets(
   *   new cloudwatch.SingleValueWidget({ title: 'Budget left, last 30 days (%)', metrics: [slo.metricErrorBudgetRemaining()], start: '-P30D' }),
   *   new cloudwatch.GraphWidget({ title: 'Budget left per 30 days (%)', left: [slo.metricErrorBudgetRemaining()], start: '-P180D', leftYAxis: { max: 100 } }),
   * );
   */
  public metricErrorBudgetRemaining(options: SloMetricOptions = {}): IMetric {
    const periodSeconds = atConstruct(this, () => budgetPeriodSeconds(this.compliancePeriod));
    // A period with traffic but no bad event burns nothing: the guard only keeps the division off 0.
    const consumed = burnRateExpression(this.sli._counts, periodSeconds, this.errorBudget, 1, `${this.sloName} error budget consumed`);
    const remaining = new MathExpression({
      expression: '100 - 100 * consumed',
      usingMetrics: { consumed },
      period: Duration.seconds(periodSeconds),
      label: options.label ?? `${this.sloName} error budget remaining (% over ${formatSeconds(periodSeconds)})`,
      color: options.color,
    });
    return withQueryIdSuffix(remaining, this.queryIdSuffix(periodSeconds));
  }

  /** What makes the query ids of this SLO's metrics over one period unique in any graph: the SLO's address and the period. */
  private queryIdSuffix(periodSeconds: number): string {
    return `_${this.node.addr.slice(2, 12)}_${periodSeconds}`;
  }
}

/** The alarms an SLO creates, for its public fields. */
interface SloAlarms {
  readonly windowAlarms: IAlarm[];
  readonly tierAlarms: IAlarm[];
  readonly pageAlarm?: IAlarm;
  readonly ticketAlarm?: IAlarm;
}

/** Builds alarm names and descriptions the same way for every alarm of one SLO. */
interface AlarmText {
  /** `<alarmNamePrefix>-<sloName>-<parts>`, or undefined to let CloudFormation name the alarm. */
  readonly nameFor: (...parts: string[]) => string | undefined;
  readonly description: (what: string) => string;
}

function alarmText(slo: ServiceLevelObjective, props: ServiceLevelObjectiveProps, periodSeconds: number): AlarmText {
  const prefix = props.alarmNamePrefix;
  return {
    nameFor: (...parts) => (prefix === undefined ? undefined : [prefix, slo.sloName, ...parts].join('-')),
    description: (what) => {
      const text = `SLO ${slo.sloName} (${formatNumber(slo.objectivePercent)} % over ${formatSeconds(periodSeconds)}; ${props.sli.description}): ${what}.`;
      atConstruct(slo, () => validateAlarmDescription('an alarm description (built from sloName and the SLI description)', text));
      return text;
    },
  };
}

/**
 * Every alarm of the SLO: each tier's window alarms (and, PER_TIER, its composite), then one
 * composite per severity. Its rule ORs the tiers' composites (PER_TIER) or holds each tier's rule
 * itself, `(ALARM(long) AND ALARM(short)) OR …` (EXACT).
 */
function createAlarms(slo: ServiceLevelObjective, props: ServiceLevelObjectiveProps, checked: CheckedProps, layout: AlarmLayout): SloAlarms {
  if (props.group) return joinGroup(slo, props, checked, props.group);
  const text = alarmText(slo, props, checked.periodSeconds);
  const windowAlarms: IAlarm[] = [];
  const tierAlarms: IAlarm[] = [];
  const termsBySeverity = new Map<AlertSeverity, Array<FactoryAlarm | FactoryAlarm[]>>();
  for (const checkedTier of checked.tiers) {
    const created = createTierAlarms(slo, props.sli, checked.budget, checkedTier, text, layout === AlarmLayout.PER_TIER);
    windowAlarms.push(created.long.alarm, created.short.alarm);
    if (created.composite) tierAlarms.push(created.composite.alarm);
    const list = termsBySeverity.get(checkedTier.tier.severity) ?? [];
    list.push(created.composite ?? [created.long, created.short]);
    termsBySeverity.set(checkedTier.tier.severity, list);
  }
  const pageAlarm = severityAlarm(slo, AlertSeverity.PAGE, termsBySeverity, text, props.pageActions);
  const ticketAlarm = severityAlarm(slo, AlertSeverity.TICKET, termsBySeverity, text, props.ticketActions, props.suppressTicketsWhilePaging ? pageAlarm : undefined);
  return { windowAlarms, tierAlarms, pageAlarm, ticketAlarm };
}

/** The window alarms of every tier, whose rules join the group's composites (the SLO has none of its own). */
function joinGroup(slo: ServiceLevelObjective, props: ServiceLevelObjectiveProps, checked: CheckedProps, group: ServiceLevelObjectiveGroup): SloAlarms {
  const text = alarmText(slo, props, checked.periodSeconds);
  const windowAlarms: IAlarm[] = [];
  const alarms = new Map<'page' | 'ticket', Array<readonly [FactoryAlarm, FactoryAlarm]>>();
  const ids = new Map<'page' | 'ticket', Array<readonly [string, string]>>();
  checked.tiers.forEach((checkedTier, i) => {
    const created = createTierAlarms(slo, props.sli, checked.budget, checkedTier, text, false);
    windowAlarms.push(created.long.alarm, created.short.alarm);
    const severity = checkedTier.tier.severity === AlertSeverity.PAGE ? 'page' : 'ticket';
    alarms.set(severity, [...(alarms.get(severity) ?? []), [created.long, created.short]]);
    const tier = checked.plan.tiers[i].spec.name;
    const path = slo.node.path;
    ids.set(severity, [...(ids.get(severity) ?? []), [PolicyIds.windowAlarm(path, tier, 'long'), PolicyIds.windowAlarm(path, tier, 'short')]]);
  });
  atConstruct(slo, () => group._join(slo, alarms, ids));
  return { windowAlarms, tierAlarms: [], pageAlarm: alarms.has('page') ? group.pageAlarm : undefined, ticketAlarm: alarms.has('ticket') ? group.ticketAlarm : undefined };
}

/** A group holds the composites: the SLO's own actions, suppression and per-tier composites would never exist (RT132). */
function validateGroupMembership(props: ServiceLevelObjectiveProps, layout: AlarmLayout): void {
  if (!props.group) return;
  if (!ServiceLevelObjectiveGroup.isServiceLevelObjectiveGroup(props.group)) {
    throw new RollbackTriggersError('RT132', `group must be a ServiceLevelObjectiveGroup, got ${String(props.group)}`, { prop: 'group' });
  }
  const own = (['pageActions', 'ticketActions'] as const).filter((p) => (props[p]?.length ?? 0) > 0);
  if (props.suppressTicketsWhilePaging) own.push('suppressTicketsWhilePaging' as never);
  if (own.length > 0) {
    throw new RollbackTriggersError(
      'RT132',
      `${own.join(', ')}: the SLO is in group ${props.group.groupName}, whose composites carry the actions — set ${own.join(', ')} on the ServiceLevelObjectiveGroup`,
      { prop: own[0] },
    );
  }
  if (layout === AlarmLayout.PER_TIER) {
    throw new RollbackTriggersError('RT132', `alarmLayout PER_TIER gives the SLO composites of its own, but it is in group ${props.group.groupName}, whose rules hold its tiers — use EXACT or NATIVE`, {
      prop: 'alarmLayout',
    });
  }
}

/** A tier's long- and short-window alarms and, when asked, the composite that ANDs them, under the tier's own scope. */
function createTierAlarms(slo: ServiceLevelObjective, sli: Sli, budget: number, checkedTier: CheckedTier, text: AlarmText, withComposite: boolean) {
  const { tier, derived, minEvents } = checkedTier;
  const tierScope = new Construct(slo, tier.name);
  const makeWindow = (role: 'long' | 'short', windowSeconds: number) =>
    windowAlarm(tierScope, role === 'long' ? 'LongWindowAlarm' : 'ShortWindowAlarm', {
      counts: sli._counts,
      windowSeconds,
      errorBudget: budget,
      factor: derived.factor,
      minEvents,
      label: `${slo.sloName} burn rate over ${formatSeconds(windowSeconds)}`,
      description: text.description(
        `burn rate over ${formatSeconds(windowSeconds)} ≥ ${formatNumber(derived.factor)}× ` +
          `(${role} window of tier ${tier.name}: ${formatNumber(derived.budgetFraction * 100)} % of the budget in ${formatSeconds(derived.longWindowSeconds)})`,
      ),
      alarmName: text.nameFor(tier.name, role),
    });
  const long = makeWindow('long', derived.longWindowSeconds);
  const short = makeWindow('short', derived.shortWindowSeconds);
  // They act through the composites (NIST.800.53.R5-CloudWatchAlarmAction).
  for (const window of [long, short]) acknowledgeWindowAlarm(window.alarm);
  if (!withComposite) return { long, short };
  const composite = compositeAlarm(tierScope, 'Alarm', {
    operator: 'AND',
    children: [long, short],
    description: text.description(
      `tier ${tier.name}, burn rate ≥ ${formatNumber(derived.factor)}× over both ${formatSeconds(derived.longWindowSeconds)} and ${formatSeconds(derived.shortWindowSeconds)}`,
    ),
    alarmName: text.nameFor(tier.name),
  });
  return { long, short, composite };
}

/** The composite that ORs a severity's tiers and carries its actions; undefined when no tier has that severity. */
function severityAlarm(
  slo: ServiceLevelObjective,
  severity: AlertSeverity,
  termsBySeverity: ReadonlyMap<AlertSeverity, Array<FactoryAlarm | FactoryAlarm[]>>,
  text: AlarmText,
  actions: IAlarmAction[] | undefined,
  suppressor?: IAlarm,
): IAlarm | undefined {
  const children = termsBySeverity.get(severity);
  if (!children) return undefined;
  const sev = severity === AlertSeverity.PAGE ? 'page' : 'ticket';
  const { alarm } = compositeAlarm(slo, sev === 'page' ? 'PageAlarm' : 'TicketAlarm', {
    operator: 'OR',
    children,
    description: text.description(`any ${sev} tier firing (burn rate over both its long and its short window)`),
    alarmName: text.nameFor(sev),
    actions,
    suppressor,
  });
  return alarm;
}

/** alarmLayout: one of the enum's values (a jsii caller can pass any string). */
function validateLayout(layout: AlarmLayout | undefined): AlarmLayout {
  if (layout === undefined) return AlarmLayout.EXACT;
  const allowed = Object.values(AlarmLayout) as string[];
  if (!allowed.includes(layout)) {
    throw new RollbackTriggersError('RT129', `alarmLayout must be one of ${allowed.map((v) => `AlarmLayout.${v.toUpperCase().replace('-', '_')}`).join(', ')}, got ${JSON.stringify(layout)}`, {
      prop: 'alarmLayout',
    });
  }
  return layout;
}

/** A tier with its thresholds derived for this SLO and its minimum events per window. */
interface CheckedTier {
  readonly tier: BurnRateTier;
  readonly derived: DerivedTier;
  readonly minEvents: number;
}

/** A warning for a deliberate opt-in or a value known only at deploy time, with a stable id. */
interface Warning {
  readonly id: string;
  readonly message: string;
}

interface CheckedProps {
  readonly budget: number;
  readonly periodSeconds: number;
  readonly resolutionSeconds: number;
  readonly metricCount: number;
  readonly tiers: CheckedTier[];
  /** The SLO in the policy's terms, and the core's checked plan of it (lib/core/policy-builder.ts). */
  readonly declaration: SloDeclaration;
  readonly plan: PlannedSlo;
  /** Warnings for deliberate opt-ins and for values known only at deploy time, with stable ids. */
  readonly warnings: Warning[];
}

/** Every synth-time check of the props, in the order a user would fix them. */
function validate(props: ServiceLevelObjectiveProps, compliancePeriod: Duration, sloName: string, path: string, stack: Stack): CheckedProps {
  const warnings: Warning[] = [];
  const { periodSeconds, resolutionSeconds, metricCount } = validateSliAndPeriods(props, compliancePeriod, sloName);
  if (props.minEventsPerWindow !== undefined && Token.isUnresolved(props.minEventsPerWindow)) {
    throw new RollbackTriggersError('RT113', "minEventsPerWindow must be a literal number: the alarm expressions compare each window's events with it at synth", { prop: 'minEventsPerWindow' });
  }
  validateAlarmNamePrefix(props.alarmNamePrefix, warnings);
  const tiers = validateTierList(props.tiers);
  // The objective, the name, the minimum events and the tiers: the core's checks, the CLI's too.
  const declaration: SloDeclaration = {
    name: sloName,
    path,
    objectivePercent: props.objectivePercent,
    compliancePeriodSeconds: periodSeconds,
    tiers: tiers.map((tier) => tier._toSpec()),
    minEventsPerWindow: props.minEventsPerWindow,
    sli: {
      kind: props.sli._coreKind(),
      scope: props.sli._coreScope(),
      description: props.sli.description,
      resolutionSeconds,
      metricCount,
      latencyThreshold: props.sli.latencyThreshold,
    },
    suppressTicketsWhilePaging: props.suppressTicketsWhilePaging,
    alarmLayout: props.alarmLayout === undefined ? undefined : (props.alarmLayout as PolicyAlarmLayout),
    group: props.group?.node.path,
  };
  const plan = planSlo(declaration, SLO_DEFAULTS, props.sloName === undefined ? 'sloName (the construct id by default)' : 'sloName');
  const checkedTiers = plan.tiers.map(({ derived, minEvents }, i): CheckedTier => ({ tier: tiers[i], derived, minEvents }));
  for (const checkedTier of checkedTiers) warnings.push(...tierBelowBudgetRateWarning(checkedTier, periodSeconds));

  // The SLI's math runs inside every window alarm: the longest window bounds what one evaluation reads.
  const longestWindow = Math.max(...checkedTiers.map((t) => t.derived.longWindowSeconds));
  warnings.push(...checkSliMath(props.sli._counts, stack, longestWindow, resolutionSeconds));
  validateActions(props, checkedTiers);
  warnings.push(...budgetShorterThanDetectionWarning(props.objectivePercent, periodSeconds));
  return { budget: plan.errorBudget, periodSeconds, resolutionSeconds, metricCount, tiers: checkedTiers, declaration, plan, warnings };
}

/** The SLI, the objective and the name are usable, the durations literal, and the SLI's metrics fit one math alarm. */
function validateSliAndPeriods(props: ServiceLevelObjectiveProps, compliancePeriod: Duration, sloName: string) {
  if (!props.sli || !props.sli._counts) {
    throw new RollbackTriggersError('RT124', `sli is required, got ${String(props.sli)} — build one with Sli.errorRatio(), Sli.lambdaAvailability() or another Sli factory`, { prop: 'sli' });
  }
  if (Token.isUnresolved(props.objectivePercent)) {
    throw new RollbackTriggersError('RT113', 'objectivePercent must be a literal number: the alarm thresholds are computed from it at synth', { prop: 'objectivePercent' });
  }
  validateSloName(sloName, props.sloName === undefined);
  const periodSeconds = literalSeconds('compliancePeriod', compliancePeriod);
  const resolutionSeconds = literalSeconds('resolution', props.resolution ?? Duration.seconds(SLO_DEFAULTS.resolutionSeconds));

  validatePeriod('resolution', resolutionSeconds);
  const counts = props.sli._counts;
  const numerator = metricFootprint((counts.bad ?? counts.good)!);
  const denominator = metricFootprint(counts.total);
  validateResolutionForNamespaces('resolution', resolutionSeconds, [...numerator.namespaces, ...denominator.namespaces]);
  // Leaf metrics by query id: a derived bad count (ALB target groups) reads `total` itself.
  const metricCount = countsMetricCount(counts);
  validateMathAlarmSize('the SLI', metricCount, 1 + numerator.expressions + denominator.expressions);
  return { periodSeconds, resolutionSeconds, metricCount };
}

/** alarmNamePrefix: checked when literal, a warning when only known at deploy time. */
function validateAlarmNamePrefix(prefix: string | undefined, warnings: Warning[]): void {
  if (prefix === undefined) return;
  if (isUnresolved(prefix)) {
    warnings.push({
      id: 'cdk-rollback-triggers:unresolvedAlarmName',
      message:
        'alarmNamePrefix is a token: its length (alarm names are at most 255 characters) and its characters (no ASCII control characters, no double quote) ' +
        'could not be checked at synth. Acknowledge this warning if the deploy-time value is known to fit.',
    });
  } else if (prefix.length === 0) {
    throw new RollbackTriggersError('RT115', 'alarmNamePrefix must not be empty — omit it to let CloudFormation generate names', { prop: 'alarmNamePrefix' });
  } else {
    validateAlarmNamePart('alarmNamePrefix', prefix);
  }
}

/** The tiers as given (the workbook's by default): a non-empty list of BurnRateTier. */
function validateTierList(given: BurnRateTier[] | undefined): BurnRateTier[] {
  const tiers = given ?? BurnRateTier.workbookDefaults();
  if (!Array.isArray(tiers) || tiers.length === 0) {
    throw new RollbackTriggersError('RT116', 'tiers must name at least one burn-rate tier — omit it for the SRE Workbook defaults', { prop: 'tiers' });
  }
  tiers.forEach((tier, i) => {
    if (!(tier instanceof BurnRateTier)) {
      throw new RollbackTriggersError('RT116', `tiers[${i}] must be a BurnRateTier (BurnRateTier.PAGE_1H… or BurnRateTier.of()), got ${String(tier)}`, { prop: `tiers[${i}]` });
    }
  });
  return tiers;
}

/** A tier below 1× alarms while the budget lasts the period: a deliberate opt-in at most. */
function tierBelowBudgetRateWarning({ tier, derived }: CheckedTier, periodSeconds: number): Warning[] {
  if (derived.factor >= 1) return [];
  return [
    {
      id: 'cdk-rollback-triggers:tierBelowBudgetRate',
      message:
        `Tier "${tier.name}" fires at a burn rate of ${formatNumber(derived.factor)}×, below 1×: it alarms while the service spends its budget slower than ` +
        `the objective allows (${formatNumber(derived.budgetFraction * 100)} % of the budget in ${formatSeconds(derived.longWindowSeconds)} of a ` +
        `${formatSeconds(periodSeconds)} period). Raise its budgetConsumedPercent, shorten its longWindow, or acknowledge this warning.`,
    },
  ];
}

/**
 * Every math expression in the SLI's counts: no query id of the burn-rate alarm's own bound to
 * another metric, and only functions an alarm evaluates (warnings for the ones it advises against).
 */
function checkSliMath(counts: SliCounts, stack: Stack, longestWindow: number, resolutionSeconds: number): Warning[] {
  const warnings: Warning[] = [];
  // The query ids the burn-rate alarm gives the SLI's counts (lib/private/alarm-factory.ts).
  const libraryQueries: Record<string, IMetric | undefined> = { bad: counts.bad, good: counts.good, total: counts.total };
  for (const [role, metric] of [
    ['bad', counts.bad],
    ['good', counts.good],
    ['total', counts.total],
  ] as const) {
    if (metric === undefined) continue;
    for (const use of mathExpressionsOf(metric)) {
      const prop = `the SLI's ${role} count`;
      if (isUnresolved(use.expression)) {
        warnings.push({
          id: 'cdk-rollback-triggers:unresolvedMathExpression',
          message: `${prop} is a math expression given as a token: its functions and query ids could not be checked at synth. Acknowledge this warning if it is known to be valid in an alarm.`,
        });
        continue;
      }
      for (const [id, used] of Object.entries(use.usingMetrics)) {
        const own = Object.prototype.hasOwnProperty.call(libraryQueries, id) ? libraryQueries[id] : undefined;
        if (own !== undefined) validateLibraryQueryId(prop, id, metricSignature(stack, used) === metricSignature(stack, own));
      }
      const advice = validateAlarmMathExpression(prop, use.expression, use.usingIds, {
        evaluationRangeSeconds: longestWindow,
        highResolution: isHighResolutionPeriod(resolutionSeconds),
      });
      for (const message of advice) warnings.push({ id: 'cdk-rollback-triggers:alarmMathFunction', message });
    }
  }
  return warnings;
}

/** Actions on a severity no tier has would never run (RT125). */
function validateActions(props: ServiceLevelObjectiveProps, checkedTiers: readonly CheckedTier[]): void {
  const hasPage = checkedTiers.some((t) => t.tier.severity === AlertSeverity.PAGE);
  const hasTicket = checkedTiers.some((t) => t.tier.severity === AlertSeverity.TICKET);
  const missingSeverity = (prop: string, severity: string, why: string) =>
    new RollbackTriggersError(
      'RT125',
      `${prop} ${why}, but no tier is a ${severity} tier (tiers: ${checkedTiers.map((t) => t.tier.name).join(', ')}) — add a ${severity} tier or remove ${prop}`,
      { prop },
    );
  if ((props.pageActions?.length ?? 0) > 0 && !hasPage) throw missingSeverity('pageActions', 'page', 'would run when a page tier fires');
  if ((props.ticketActions?.length ?? 0) > 0 && !hasTicket) throw missingSeverity('ticketActions', 'ticket', 'would run when a ticket tier fires');
  // suppressTicketsWhilePaging without a page and a ticket tier: planSlo (RT125).
}

/** A budget a total outage spends before the first alarm evaluation can only be reported spent. */
function budgetShorterThanDetectionWarning(objectivePercent: number, periodSeconds: number): Warning[] {
  const outageSeconds = fullOutageBudgetSeconds(objectivePercent, periodSeconds);
  if (outageSeconds >= ALARM_EVALUATION_SECONDS) return [];
  return [
    {
      id: 'cdk-rollback-triggers:budgetShorterThanDetection',
      message:
        `At ${formatNumber(objectivePercent)} % over ${formatSeconds(periodSeconds)}, a total outage spends the whole error budget in ` +
        `${formatNumber(Number(outageSeconds.toPrecision(3)))} s, before CloudWatch evaluates any alarm (once a minute): the burn-rate tiers can only report ` +
        'a budget already spent (SRE Workbook, "Alerting on SLOs": extreme availability goals). Lower objectivePercent, lengthen compliancePeriod, or acknowledge this warning.',
    },
  ];
}

/** CloudWatch evaluates an alarm with a period of a minute or more once a minute ("Alarm evaluation"). */
const ALARM_EVALUATION_SECONDS = 60;

/** sloName keys the SLO in the policy, the plan and the evaluator, and is part of alarm names. */
function validateSloName(sloName: string, fromId: boolean): void {
  const prop = fromId ? 'sloName (the construct id by default)' : 'sloName';
  if (isUnresolved(sloName)) {
    throw new RollbackTriggersError('RT121', `${prop} must be a literal string, got a token — the policy and the plan name the SLO with it at synth`, { prop: 'sloName' });
  }
  if (typeof sloName !== 'string' || sloName.trim().length === 0) {
    throw new RollbackTriggersError('RT121', `${prop} must not be empty or blank, got ${JSON.stringify(sloName)} — omit it to use the construct id`, { prop: 'sloName' });
  }
  // Its characters (RT215) are checked with the rest of the declaration (planSlo).
}

/**
 * The simulator, the plan and the evaluator tell the SLOs of a stack apart by name: a second SLO
 * of the same name would be replayed, priced and judged as the first. The names taken are read
 * from the stack's construct tree, where every SLO records the name it holds (no module state:
 * two apps, or two stacks, never see each other's SLOs). Constructs of a nested stack belong to
 * that stack, as they did.
 */
function checkSloNameFree(slo: ServiceLevelObjective, name: string): void {
  const stack = Stack.of(slo);
  const holder = stack.node
    .findAll()
    .find(
      (c) =>
        c !== slo &&
        Stack.of(c) === stack &&
        ((ServiceLevelObjective.isServiceLevelObjective(c) && claimedName(c) === name) || (ServiceLevelObjectiveGroup.isServiceLevelObjectiveGroup(c) && c.groupName === name)),
    );
  if (holder !== undefined) {
    throw new RollbackTriggersError(
      'RT122',
      `sloName "${name}" is already the name of ${holder.node.path} in stack ${stack.node.path}: the plan, the simulator and the evaluator tell SLOs apart by name — ` +
        'give one of them another sloName',
      { prop: 'sloName' },
    );
  }
}

function claimedName(slo: IConstruct): string | undefined {
  return (slo as unknown as Record<symbol, string | undefined>)[SLO_NAME_CLAIM];
}

/** Count metrics averaged or maxed per period give a meaningless ratio; CloudWatch's default is Average. */
function warnOnCountStatistics(scope: IConstruct, sli: Sli): void {
  if (sli.latencyThreshold !== undefined) return;
  const counts = sli._counts;
  const statistics = [counts.bad, counts.good, counts.total].filter((m) => m !== undefined).flatMap((m) => metricFootprint(m!).statistics);
  const odd = statistics.filter((s) => s !== Stats.SUM && s !== Stats.SAMPLE_COUNT);
  if (odd.length > 0) {
    Annotations.of(scope).addWarningV2(
      'cdk-rollback-triggers:sliStatistic',
      `The SLI's event counts use the statistic ${[...new Set(odd)].join(', ')}; a ratio of counts needs Sum (or SampleCount). ` +
        'Set statistic: Stats.SUM on the metrics, or acknowledge this warning if the metric already is a per-period count.',
    );
  }
}

/**
 * The longest window `metricBurnRate` accepts: the longest period a CloudWatch alarm evaluates
 * (PutMetricAlarm: "Period multiplied by EvaluationPeriods can't be more than 604,800 seconds"),
 * so the metric is valid in an alarm as well as on a dashboard.
 */
const MAX_BURN_RATE_WINDOW_SECONDS = MAX_EVALUATION_RANGE_SECONDS;

/**
 * `metricErrorBudgetRemaining` reads the whole compliance period as one CloudWatch period. A
 * datapoint whose period starts more than 63 days ago is returned only for a period that is a
 * multiple of 3,600 s, and 1-hour data is kept 455 days (CloudWatch API Reference, `MetricStat`
 * `Period` and `GetMetricData`, https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricStat.html,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html). Whole
 * hours are valid whatever the time range of the graph reaches back to.
 */
const BUDGET_PERIOD_MULTIPLE_SECONDS = 3_600;
const MAX_BUDGET_PERIOD_SECONDS = 455 * 86_400;

/** A burn-rate window's seconds: literal, whole minutes up to 7 days, and a multiple of the SLO's resolution. */
function burnRateWindowSeconds(window: Duration, resolutionSeconds: number): number {
  const prop = 'metricBurnRate: window';
  const seconds = literalSeconds(prop, window, 'window');
  if (seconds % 60 !== 0 || seconds > MAX_BURN_RATE_WINDOW_SECONDS) {
    throw new RollbackTriggersError(
      'RT127',
      `${prop} must be whole minutes from 1 minute to 7 days, got ${window.toString()} (${formatSeconds(seconds)}) — ` +
        'CloudWatch reads standard-resolution metrics in periods that are multiples of 60 seconds, and an alarm evaluates at most 7 days; ' +
        'for the whole compliance period use metricErrorBudgetRemaining()',
      { prop: 'window' },
    );
  }
  validateWindowMultiple(prop, seconds, resolutionSeconds, 'the SLO resolution');
  return seconds;
}

/** The low-traffic guard of a burn-rate metric: a literal whole number of events from 1. */
function metricMinEvents(minEventsPerWindow: number | undefined): number {
  if (minEventsPerWindow === undefined) return 1;
  if (Token.isUnresolved(minEventsPerWindow)) {
    throw new RollbackTriggersError('RT113', "metricBurnRate: minEventsPerWindow must be a literal number: the expression compares each window's events with it at synth", { prop: 'minEventsPerWindow' });
  }
  validateMinEventsPerWindow(minEventsPerWindow, 'metricBurnRate: minEventsPerWindow');
  return minEventsPerWindow;
}

/** The compliance period as the period of one CloudWatch query: whole hours, at most 455 days. */
function budgetPeriodSeconds(compliancePeriod: Duration): number {
  const seconds = literalSeconds('compliancePeriod', compliancePeriod);
  if (seconds % BUDGET_PERIOD_MULTIPLE_SECONDS !== 0 || seconds > MAX_BUDGET_PERIOD_SECONDS) {
    throw new RollbackTriggersError(
      'RT128',
      `metricErrorBudgetRemaining reads the compliance period as one CloudWatch period, so compliancePeriod must be whole hours up to 455 days, ` +
        `got ${compliancePeriod.toString()} (${formatSeconds(seconds)}) — CloudWatch returns data older than 63 days only in periods that are multiples of 1 hour, ` +
        'and keeps 1-hour data 455 days',
      { prop: 'compliancePeriod' },
    );
  }
  return seconds;
}

/**
 * The same metric with every query id of its math suffixed, so the metrics of several SLOs, and of
 * several windows of one SLO, fit in one graph: aws-cdk-lib refuses two different metrics under one
 * id in a graph or an alarm (`CannotShareSameIdForDifferentMetrics`), and every burn-rate
 * expression names its counts as the window alarms do (`bad` or `good`, `total`). Only the ids
 * change (outside quoted strings, as aws-cdk-lib reads identifiers); the math is the alarms'. An
 * expression given as a token is left as it is.
 */
function withQueryIdSuffix(metric: IMetric, suffix: string): IMetric {
  if (!(metric instanceof MathExpression) || isUnresolved(metric.expression)) return metric;
  const ids = Object.keys(metric.usingMetrics);
  const idPattern = new RegExp(`\\b(?:${ids.join('|')})\\b`, 'g');
  const expression =
    ids.length === 0
      ? metric.expression
      : metric.expression
          .split(/("[^"]*"|'[^']*')/)
          .map((part, i) => (i % 2 === 1 ? part : part.replace(idPattern, (id) => `${id}${suffix}`)))
          .join('');
  return new MathExpression({
    expression,
    usingMetrics: Object.fromEntries(Object.entries(metric.usingMetrics).map(([id, used]) => [`${id}${suffix}`, withQueryIdSuffix(used, suffix)])),
    period: metric.period,
    label: metric.label,
    color: metric.color,
    visible: metric.visible,
    searchAccount: metric.searchAccount,
    searchRegion: metric.searchRegion,
  });
}
