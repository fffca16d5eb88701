import { Annotations, Duration, Token } from 'aws-cdk-lib';
import { IAlarm, IAlarmAction, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import { Construct, IConstruct } from 'constructs';
import {
  DEFAULT_COMPLIANCE_PERIOD_SECONDS,
  DerivedTier,
  POLICY_METADATA_TYPE,
  POLICY_SCHEMA_VERSION,
  PolicyAlarm,
  PolicyComposite,
  PolicySlo,
  PolicyTier,
  RollbackTriggersError,
  defaultMinEventsPerWindow,
  deriveTier,
  errorBudget,
  formatNumber,
  formatSeconds,
  validateEvaluationRange,
  validateMathAlarmSize,
  validateObjectivePercent,
  validatePeriod,
  validateResolutionForNamespaces,
  validateWindowMultiple,
} from '../core';
import { compositeAlarm, windowAlarm } from '../private/alarm-factory';
import { atConstruct } from '../private/errors';
import { isUnresolved, metricFootprint } from '../private/metrics';
import { countsMetricCount } from '../private/sli-counts';
import { AlertSeverity, BurnRateTier } from './burn-rate-tier';
import { Sli } from './sli';

/** Properties of a {@link ServiceLevelObjective}. */
export interface ServiceLevelObjectiveProps {
  /** What is measured: which events are bad, out of which. */
  readonly sli: Sli;
  /** Target share of good events, in percent, above 0 and below 100 (99.9 for "three nines"). */
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
   * not page on one failed request.
   *
   * @default - per tier, the smallest count at which one bad event stays below the tier's error-ratio threshold (70 for the 14.4× tier of a 99.9 % SLO)
   */
  readonly minEventsPerWindow?: number;
  /**
   * The granularity the SLI's metrics are published at. Every window must be a multiple of it;
   * 10, 20 or 30 seconds only for high-resolution custom metrics.
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
   * Prefix for the names of every alarm of this SLO. Names must be unique per account and region.
   *
   * @default - CloudFormation generates unique names, so two stacks never collide
   */
  readonly alarmNamePrefix?: string;
  /**
   * Name of the SLO in alarm names, descriptions, the policy and the plan.
   *
   * @default - the construct id
   */
  readonly sloName?: string;
  /**
   * Suppress the ticket alarm's actions while the page alarm is in ALARM (the page already says
   * it), waiting 2 minutes for the page alarm and staying quiet 30 minutes after it clears.
   *
   * @default false
   */
  readonly suppressTicketsWhilePaging?: boolean;
}

const SLO_SYMBOL = Symbol.for('cdk-rollback-triggers.ServiceLevelObjective');

/**
 * A service level objective with multi-window, multi-burn-rate alarms.
 *
 * For every tier it creates a long-window and a short-window burn-rate alarm (each alarm's period
 * is its window), ANDs them in a composite per tier, and ORs the tiers into one composite per
 * severity that carries the actions. Identical window alarms are shared within a stack.
 */
export class ServiceLevelObjective extends Construct {
  /** Whether a construct is a ServiceLevelObjective (works across copies of the library). */
  public static isServiceLevelObjective(x: unknown): x is ServiceLevelObjective {
    return typeof x === 'object' && x !== null && SLO_SYMBOL in x;
  }

  public readonly sloName: string;
  public readonly sli: Sli;
  public readonly objectivePercent: number;
  public readonly compliancePeriod: Duration;
  /** The error budget as a fraction of events (0.001 for 99.9 %). */
  public readonly errorBudget: number;
  /** Every long- and short-window alarm the tiers use, including ones shared with other SLOs. */
  public readonly windowAlarms: IAlarm[];
  /** One composite per tier: long window AND short window. */
  public readonly tierAlarms: IAlarm[];
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

  constructor(scope: Construct, id: string, props: ServiceLevelObjectiveProps) {
    super(scope, id);
    Object.defineProperty(this, SLO_SYMBOL, { value: true });

    this.sli = props.sli;
    this.sloName = props.sloName ?? id;
    this.objectivePercent = props.objectivePercent;
    this.compliancePeriod = props.compliancePeriod ?? Duration.seconds(DEFAULT_COMPLIANCE_PERIOD_SECONDS);

    const checked = atConstruct(this, () => validate(props, this.compliancePeriod));
    this.errorBudget = checked.budget;
    warnOnCountStatistics(this, props.sli);

    const prefix = props.alarmNamePrefix;
    const nameFor = (...parts: string[]) => (prefix === undefined ? undefined : [prefix, this.sloName, ...parts].join('-'));
    const description = (what: string) =>
      `SLO ${this.sloName} (${formatNumber(this.objectivePercent)} % over ${formatSeconds(checked.periodSeconds)}; ${props.sli.description}): ${what}.`;

    const windowAlarms: IAlarm[] = [];
    const ownedAlarms: PolicyAlarm[] = [];
    const tierAlarms: IAlarm[] = [];
    const policyTiers: PolicyTier[] = [];
    const composites: PolicyComposite[] = [];
    const tierAlarmsBySeverity = new Map<AlertSeverity, IAlarm[]>();

    checked.tiers.forEach(({ tier, derived, minEvents }) => {
      const tierScope = new Construct(this, tier.name);
      const makeWindow = (role: 'long' | 'short', windowSeconds: number) => {
        const result = windowAlarm(tierScope, role === 'long' ? 'LongWindowAlarm' : 'ShortWindowAlarm', {
          counts: props.sli._counts,
          windowSeconds,
          errorBudget: checked.budget,
          factor: derived.factor,
          minEvents,
          label: `${this.sloName} burn rate over ${formatSeconds(windowSeconds)}`,
          description: description(
            `burn rate over ${formatSeconds(windowSeconds)} ≥ ${formatNumber(derived.factor)}× ` +
              `(${role} window of tier ${tier.name}: ${formatNumber(derived.budgetFraction * 100)} % of the budget in ${formatSeconds(derived.longWindowSeconds)})`,
          ),
          alarmName: nameFor(tier.name, role),
        });
        if (!result.reused) {
          const alarmId = `${this.node.path}/${tier.name}/${role}`;
          policyIds.set(result.alarm, alarmId);
          ownedAlarms.push({
            id: alarmId,
            windowSeconds,
            threshold: derived.factor,
            minEvents,
            treatMissingData: 'notBreaching',
            metricCount: checked.metricCount,
            highResolution: windowSeconds < 60,
          });
        }
        windowAlarms.push(result.alarm);
        return { alarm: result.alarm, policyId: policyIds.get(result.alarm)! };
      };
      const long = makeWindow('long', derived.longWindowSeconds);
      const short = makeWindow('short', derived.shortWindowSeconds);
      const composite = compositeAlarm(tierScope, 'Alarm', {
        operator: 'AND',
        children: [long.alarm, short.alarm],
        description: description(
          `tier ${tier.name}, burn rate ≥ ${formatNumber(derived.factor)}× over both ${formatSeconds(derived.longWindowSeconds)} and ${formatSeconds(derived.shortWindowSeconds)}`,
        ),
        alarmName: nameFor(tier.name),
      });
      tierAlarms.push(composite);
      const list = tierAlarmsBySeverity.get(tier.severity) ?? [];
      list.push(composite);
      tierAlarmsBySeverity.set(tier.severity, list);
      const compositeId = `${this.node.path}/${tier.name}`;
      composites.push({ id: compositeId, kind: 'tier', severity: derived.severity, operator: 'AND', children: [long.policyId, short.policyId] });
      policyTiers.push({ ...derived, minEventsPerWindow: minEvents, longAlarm: long.policyId, shortAlarm: short.policyId });
    });

    const severityAlarm = (severity: AlertSeverity, actions: IAlarmAction[] | undefined, suppressor?: IAlarm) => {
      const children = tierAlarmsBySeverity.get(severity);
      if (!children) return undefined;
      const sev = severity === AlertSeverity.PAGE ? 'page' : 'ticket';
      const alarm = compositeAlarm(this, sev === 'page' ? 'PageAlarm' : 'TicketAlarm', {
        operator: 'OR',
        children,
        description: description(`any ${sev} tier firing`),
        alarmName: nameFor(sev),
        actions,
        suppressor,
      });
      composites.push({
        id: `${this.node.path}/${sev}`,
        kind: 'severity',
        severity: sev,
        operator: 'OR',
        children: checked.tiers.filter((t) => t.tier.severity === severity).map((t) => `${this.node.path}/${t.tier.name}`),
        suppressedBy: suppressor ? `${this.node.path}/page` : undefined,
      });
      return alarm;
    };
    this.pageAlarm = severityAlarm(AlertSeverity.PAGE, props.pageActions);
    this.ticketAlarm = severityAlarm(AlertSeverity.TICKET, props.ticketActions, props.suppressTicketsWhilePaging ? this.pageAlarm : undefined);
    this.windowAlarms = windowAlarms;
    this.tierAlarms = tierAlarms;

    this._policy = {
      kind: 'slo',
      name: this.sloName,
      path: this.node.path,
      objectivePercent: this.objectivePercent,
      compliancePeriodSeconds: checked.periodSeconds,
      errorBudget: checked.budget,
      sli: {
        kind: props.sli._coreKind(),
        scope: props.sli._coreScope(),
        description: props.sli.description,
        resolutionSeconds: checked.resolutionSeconds,
        metricCount: checked.metricCount,
        latencyThreshold: props.sli.latencyThreshold,
      },
      tiers: policyTiers,
      alarms: ownedAlarms,
      composites,
    };
    this.node.addMetadata(POLICY_METADATA_TYPE, { schemaVersion: POLICY_SCHEMA_VERSION, entry: this._policy });
  }
}

interface CheckedProps {
  readonly budget: number;
  readonly periodSeconds: number;
  readonly resolutionSeconds: number;
  readonly metricCount: number;
  readonly tiers: Array<{ tier: BurnRateTier; derived: DerivedTier; minEvents: number }>;
}

/** Every synth-time check of the props, in the order a user would fix them. */
function validate(props: ServiceLevelObjectiveProps, compliancePeriod: Duration): CheckedProps {
  if (Token.isUnresolved(props.objectivePercent)) {
    throw new RollbackTriggersError('RT113', 'objectivePercent must be a literal number: the alarm thresholds are computed from it at synth');
  }
  validateObjectivePercent(props.objectivePercent);
  const budget = errorBudget(props.objectivePercent);
  const periodSeconds = literalSeconds('compliancePeriod', compliancePeriod);
  const resolutionSeconds = literalSeconds('resolution', props.resolution ?? Duration.minutes(1));

  validatePeriod('resolution', resolutionSeconds);
  const counts = props.sli._counts;
  const numerator = metricFootprint((counts.bad ?? counts.good)!);
  const denominator = metricFootprint(counts.total);
  validateResolutionForNamespaces('resolution', resolutionSeconds, [...numerator.namespaces, ...denominator.namespaces]);
  // Leaf metrics by query id: a derived bad count (ALB target groups) reads `total` itself.
  const metricCount = countsMetricCount(counts);
  validateMathAlarmSize('the SLI', metricCount, 1 + numerator.expressions + denominator.expressions);

  if (props.minEventsPerWindow !== undefined && !(Number.isInteger(props.minEventsPerWindow) && props.minEventsPerWindow >= 1)) {
    throw new RollbackTriggersError(
      'RT114',
      `minEventsPerWindow must be a whole number of at least 1 (it also keeps the burn-rate division away from zero), got ${props.minEventsPerWindow}`,
    );
  }
  if (props.alarmNamePrefix !== undefined && !isUnresolved(props.alarmNamePrefix) && props.alarmNamePrefix.length === 0) {
    throw new RollbackTriggersError('RT115', 'alarmNamePrefix must not be empty — omit it to let CloudFormation generate names');
  }

  const tiers = props.tiers ?? BurnRateTier.workbookDefaults();
  if (tiers.length === 0) {
    throw new RollbackTriggersError('RT116', 'tiers must name at least one burn-rate tier — omit it for the SRE Workbook defaults');
  }
  const seen = new Set<string>();
  const checkedTiers = tiers.map((tier) => {
    if (seen.has(tier.name)) {
      throw new RollbackTriggersError('RT117', `tiers contains "${tier.name}" twice — give custom tiers distinct names`);
    }
    seen.add(tier.name);
    const derived = deriveTier(tier._toSpec(), props.objectivePercent, periodSeconds);
    for (const [role, seconds] of [
      ['longWindow', derived.longWindowSeconds],
      ['shortWindow', derived.shortWindowSeconds],
    ] as const) {
      const prop = `tier "${tier.name}" ${role}`;
      validateWindowMultiple(prop, seconds, resolutionSeconds);
      validatePeriod(prop, seconds);
      // The window is the alarm's period with one evaluation period.
      validateEvaluationRange(prop, seconds, 1);
    }
    return { tier, derived, minEvents: props.minEventsPerWindow ?? defaultMinEventsPerWindow(derived) };
  });
  return { budget, periodSeconds, resolutionSeconds, metricCount, tiers: checkedTiers };
}

function literalSeconds(prop: string, d: Duration): number {
  if (d.isUnresolved()) throw new RollbackTriggersError('RT109', `${prop} must be a literal duration, got a token`);
  return d.toSeconds();
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

/** Policy ids of window alarms, so an SLO that reuses another SLO's alarm can reference it. */
const policyIds = new WeakMap<IAlarm, string>();
