import { Annotations, Duration, Stack, Token } from 'aws-cdk-lib';
import { IAlarm, IAlarmAction, IMetric, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import { Construct, IConstruct } from 'constructs';
import {
  DerivedTier,
  PlannedSlo,
  POLICY_METADATA_TYPE,
  POLICY_SCHEMA_VERSION,
  PolicySlo,
  RollbackTriggersError,
  SLO_DEFAULTS,
  SloDeclaration,
  formatNumber,
  formatSeconds,
  fullOutageBudgetSeconds,
  isHighResolutionPeriod,
  ownWindows,
  planSlo,
  sloPolicyEntry,
  validateAlarmDescription,
  validateAlarmMathExpression,
  validateAlarmNamePart,
  validateLibraryQueryId,
  validateMathAlarmSize,
  validatePeriod,
  validateResolutionForNamespaces,
} from '../core';
import { FactoryAlarm, compositeAlarm, windowAlarm } from '../private/alarm-factory';
import { atConstruct } from '../private/errors';
import { isUnresolved, literalSeconds, mathExpressionsOf, metricFootprint, metricSignature } from '../private/metrics';
import { countsMetricCount } from '../private/sli-counts';
import { AlertSeverity, BurnRateTier } from './burn-rate-tier';
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
}

const SLO_SYMBOL = Symbol.for('cdk-rollback-triggers.ServiceLevelObjective');

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

  public readonly sloName: string;
  public readonly sli: Sli;
  public readonly objectivePercent: number;
  public readonly compliancePeriod: Duration;
  /** The error budget as a fraction of events (0.001 for 99.9 %). */
  public readonly errorBudget: number;
  /** Every long- and short-window alarm the tiers use, all created by this SLO. */
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
    this.compliancePeriod = props.compliancePeriod ?? Duration.seconds(SLO_DEFAULTS.compliancePeriodSeconds);

    const checked = atConstruct(this, () => validate(props, this.compliancePeriod, this.sloName, this.node.path, Stack.of(this)));
    atConstruct(this, () => claimSloName(this, this.sloName));
    this.errorBudget = checked.budget;
    warnOnCountStatistics(this, props.sli);
    for (const warning of checked.warnings) Annotations.of(this).addWarningV2(warning.id, warning.message);

    const prefix = props.alarmNamePrefix;
    const nameFor = (...parts: string[]) => (prefix === undefined ? undefined : [prefix, this.sloName, ...parts].join('-'));
    const description = (what: string) => {
      const text = `SLO ${this.sloName} (${formatNumber(this.objectivePercent)} % over ${formatSeconds(checked.periodSeconds)}; ${props.sli.description}): ${what}.`;
      atConstruct(this, () => validateAlarmDescription('an alarm description (built from sloName and the SLI description)', text));
      return text;
    };

    const windowAlarms: IAlarm[] = [];
    const tierAlarms: IAlarm[] = [];
    const tierAlarmsBySeverity = new Map<AlertSeverity, FactoryAlarm[]>();

    checked.tiers.forEach(({ tier, derived, minEvents }) => {
      const tierScope = new Construct(this, tier.name);
      const makeWindow = (role: 'long' | 'short', windowSeconds: number) => {
        const created = windowAlarm(tierScope, role === 'long' ? 'LongWindowAlarm' : 'ShortWindowAlarm', {
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
        windowAlarms.push(created.alarm);
        return created;
      };
      const long = makeWindow('long', derived.longWindowSeconds);
      const short = makeWindow('short', derived.shortWindowSeconds);
      const composite = compositeAlarm(tierScope, 'Alarm', {
        operator: 'AND',
        children: [long, short],
        description: description(
          `tier ${tier.name}, burn rate ≥ ${formatNumber(derived.factor)}× over both ${formatSeconds(derived.longWindowSeconds)} and ${formatSeconds(derived.shortWindowSeconds)}`,
        ),
        alarmName: nameFor(tier.name),
      });
      tierAlarms.push(composite.alarm);
      const list = tierAlarmsBySeverity.get(tier.severity) ?? [];
      list.push(composite);
      tierAlarmsBySeverity.set(tier.severity, list);
    });

    const severityAlarm = (severity: AlertSeverity, actions: IAlarmAction[] | undefined, suppressor?: IAlarm) => {
      const children = tierAlarmsBySeverity.get(severity);
      if (!children) return undefined;
      const sev = severity === AlertSeverity.PAGE ? 'page' : 'ticket';
      const { alarm } = compositeAlarm(this, sev === 'page' ? 'PageAlarm' : 'TicketAlarm', {
        operator: 'OR',
        children,
        description: description(`any ${sev} tier firing`),
        alarmName: nameFor(sev),
        actions,
        suppressor,
      });
      return alarm;
    };
    this.pageAlarm = severityAlarm(AlertSeverity.PAGE, props.pageActions);
    this.ticketAlarm = severityAlarm(AlertSeverity.TICKET, props.ticketActions, props.suppressTicketsWhilePaging ? this.pageAlarm : undefined);
    this.windowAlarms = windowAlarms;
    this.tierAlarms = tierAlarms;

    // Every window alarm is the SLO's own (created under its tier's scope).
    this._policy = sloPolicyEntry(checked.declaration, checked.plan, ownWindows(checked.declaration, checked.plan));
    this.node.addMetadata(POLICY_METADATA_TYPE, { schemaVersion: POLICY_SCHEMA_VERSION, entry: this._policy });
  }
}

interface CheckedProps {
  readonly budget: number;
  readonly periodSeconds: number;
  readonly resolutionSeconds: number;
  readonly metricCount: number;
  readonly tiers: Array<{ tier: BurnRateTier; derived: DerivedTier; minEvents: number }>;
  /** The SLO in the policy's terms, and the core's checked plan of it (lib/core/policy-builder.ts). */
  readonly declaration: SloDeclaration;
  readonly plan: PlannedSlo;
  /** Warnings for deliberate opt-ins and for values known only at deploy time, with stable ids. */
  readonly warnings: Array<{ id: string; message: string }>;
}

/** Every synth-time check of the props, in the order a user would fix them. */
function validate(props: ServiceLevelObjectiveProps, compliancePeriod: Duration, sloName: string, path: string, stack: Stack): CheckedProps {
  const warnings: Array<{ id: string; message: string }> = [];
  if (!props.sli || !props.sli._counts) {
    throw new RollbackTriggersError('RT124', `sli is required, got ${String(props.sli)} — build one with Sli.errorRatio(), Sli.lambdaAvailability() or another Sli factory`);
  }
  if (Token.isUnresolved(props.objectivePercent)) {
    throw new RollbackTriggersError('RT113', 'objectivePercent must be a literal number: the alarm thresholds are computed from it at synth');
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

  if (props.minEventsPerWindow !== undefined) {
    if (Token.isUnresolved(props.minEventsPerWindow)) {
      throw new RollbackTriggersError('RT113', "minEventsPerWindow must be a literal number: the alarm expressions compare each window's events with it at synth");
    }
  }
  if (props.alarmNamePrefix !== undefined) {
    if (isUnresolved(props.alarmNamePrefix)) {
      warnings.push({
        id: 'cdk-rollback-triggers:unresolvedAlarmName',
        message:
          'alarmNamePrefix is a token: its length (alarm names are at most 255 characters) and its characters (no ASCII control characters, no double quote) ' +
          'could not be checked at synth. Acknowledge this warning if the deploy-time value is known to fit.',
      });
    } else if (props.alarmNamePrefix.length === 0) {
      throw new RollbackTriggersError('RT115', 'alarmNamePrefix must not be empty — omit it to let CloudFormation generate names');
    } else {
      validateAlarmNamePart('alarmNamePrefix', props.alarmNamePrefix);
    }
  }

  const tiers = props.tiers ?? BurnRateTier.workbookDefaults();
  if (!Array.isArray(tiers) || tiers.length === 0) {
    throw new RollbackTriggersError('RT116', 'tiers must name at least one burn-rate tier — omit it for the SRE Workbook defaults');
  }
  tiers.forEach((tier, i) => {
    if (!(tier instanceof BurnRateTier)) {
      throw new RollbackTriggersError('RT116', `tiers[${i}] must be a BurnRateTier (BurnRateTier.PAGE_1H… or BurnRateTier.of()), got ${String(tier)}`);
    }
  });
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
  };
  const plan = planSlo(declaration, SLO_DEFAULTS, props.sloName === undefined ? 'sloName (the construct id by default)' : 'sloName');
  const budget = plan.errorBudget;
  const checkedTiers = plan.tiers.map(({ derived, minEvents }, i) => {
    const tier = tiers[i];
    if (derived.factor < 1) {
      warnings.push({
        id: 'cdk-rollback-triggers:tierBelowBudgetRate',
        message:
          `Tier "${tier.name}" fires at a burn rate of ${formatNumber(derived.factor)}×, below 1×: it alarms while the service spends its budget slower than ` +
          `the objective allows (${formatNumber(derived.budgetFraction * 100)} % of the budget in ${formatSeconds(derived.longWindowSeconds)} of a ` +
          `${formatSeconds(periodSeconds)} period). Raise its budgetConsumedPercent, shorten its longWindow, or acknowledge this warning.`,
      });
    }
    return { tier, derived, minEvents };
  });

  // The SLI's math runs inside every window alarm: the longest window bounds what one evaluation reads.
  const longestWindow = Math.max(...checkedTiers.map((t) => t.derived.longWindowSeconds));
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

  const hasPage = checkedTiers.some((t) => t.tier.severity === AlertSeverity.PAGE);
  const hasTicket = checkedTiers.some((t) => t.tier.severity === AlertSeverity.TICKET);
  const missingSeverity = (prop: string, severity: string, why: string) =>
    new RollbackTriggersError(
      'RT125',
      `${prop} ${why}, but no tier is a ${severity} tier (tiers: ${checkedTiers.map((t) => t.tier.name).join(', ')}) — add a ${severity} tier or remove ${prop}`,
    );
  if ((props.pageActions?.length ?? 0) > 0 && !hasPage) throw missingSeverity('pageActions', 'page', 'would run when a page tier fires');
  if ((props.ticketActions?.length ?? 0) > 0 && !hasTicket) throw missingSeverity('ticketActions', 'ticket', 'would run when a ticket tier fires');
  // suppressTicketsWhilePaging without a page and a ticket tier: planSlo (RT125).

  const outageSeconds = fullOutageBudgetSeconds(props.objectivePercent, periodSeconds);
  if (outageSeconds < ALARM_EVALUATION_SECONDS) {
    warnings.push({
      id: 'cdk-rollback-triggers:budgetShorterThanDetection',
      message:
        `At ${formatNumber(props.objectivePercent)} % over ${formatSeconds(periodSeconds)}, a total outage spends the whole error budget in ` +
        `${formatNumber(Number(outageSeconds.toPrecision(3)))} s, before CloudWatch evaluates any alarm (once a minute): the burn-rate tiers can only report ` +
        'a budget already spent (SRE Workbook, "Alerting on SLOs": extreme availability goals). Lower objectivePercent, lengthen compliancePeriod, or acknowledge this warning.',
    });
  }
  return { budget, periodSeconds, resolutionSeconds, metricCount, tiers: checkedTiers, declaration, plan, warnings };
}

/** CloudWatch evaluates an alarm with a period of a minute or more once a minute ("Alarm evaluation"). */
const ALARM_EVALUATION_SECONDS = 60;

/** sloName keys the SLO in the policy, the plan and the evaluator, and is part of alarm names. */
function validateSloName(sloName: string, fromId: boolean): void {
  const prop = fromId ? 'sloName (the construct id by default)' : 'sloName';
  if (isUnresolved(sloName)) {
    throw new RollbackTriggersError('RT121', `${prop} must be a literal string, got a token — the policy and the plan name the SLO with it at synth`);
  }
  if (typeof sloName !== 'string' || sloName.trim().length === 0) {
    throw new RollbackTriggersError('RT121', `${prop} must not be empty or blank, got ${JSON.stringify(sloName)} — omit it to use the construct id`);
  }
  // Its characters (RT215) are checked with the rest of the declaration (planSlo).
}

/** SLO names taken per stack, with the path of the SLO that took each. */
const sloNames = new WeakMap<Stack, Map<string, string>>();

/**
 * The simulator, the plan and the evaluator tell the SLOs of a stack apart by name: a second SLO
 * of the same name would be replayed, priced and judged as the first.
 */
function claimSloName(slo: ServiceLevelObjective, name: string): void {
  const stack = Stack.of(slo);
  let names = sloNames.get(stack);
  if (!names) {
    names = new Map();
    sloNames.set(stack, names);
  }
  const other = names.get(name);
  if (other !== undefined) {
    throw new RollbackTriggersError(
      'RT122',
      `sloName "${name}" is already the name of ${other} in stack ${stack.node.path}: the plan, the simulator and the evaluator tell SLOs apart by name — ` +
        'give one of them another sloName',
    );
  }
  names.set(name, slo.node.path);
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
