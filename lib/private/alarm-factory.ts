import { Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmRule,
  ComparisonOperator,
  CompositeAlarm,
  IAlarm,
  IAlarmAction,
  IMetric,
  MathExpression,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { compositeRule, validateAlarmName, validateComposite } from '../core/cloudwatch-limits';
import { RollbackTriggersError, formatNumber } from '../core/errors';
import type { PolicyTrafficShift } from '../core/policy';
import { RELATIVE_ALARM_BLENDED_FACTOR, RELATIVE_ALARM_Z_SQUARED } from '../core/relative-alarm';
import { atConstruct } from './errors';
import { isUnresolved, metricSignature } from './metrics';
import { SliCounts, numeratorOf } from './sli-counts';

/**
 * One place that owns how burn-rate alarms look (in the spirit of cdk-monitoring-constructs'
 * AlarmFactory): the math, missing-data treatment and naming.
 *
 * It holds no state. Every alarm is created under the construct that asks for it (an SLO's tier,
 * a RollbackTrigger), so its logical id is that construct's and no other's: deleting one SLO never
 * replaces another's alarms. Identical window alarms of two SLOs are therefore not shared any more
 * (they were, through a module-level registry, which put one SLO's alarms under another's path).
 * What that costs: only SLOs of one stack with the same SLI metrics and objective, and a tier of the
 * same windows and budget share, ever shared: the same objective declared twice, say for two teams'
 * actions. The example app has no such pair ($0 more a month); where one exists, each duplicated
 * tier bills its two windows' metrics again ($0.40 a month per tier on a 2-metric SLI, $1.60 for the
 * four workbook tiers). A user who wants one set of alarms declares the SLO once with every action
 * (`pageActions` and `ticketActions` take lists).
 */

export interface WindowAlarmRequest {
  readonly counts: SliCounts;
  readonly windowSeconds: number;
  /** Error budget as a fraction; the expression divides the error ratio by it to get the burn rate. */
  readonly errorBudget: number;
  readonly factor: number;
  readonly minEvents: number;
  readonly label: string;
  readonly description: string;
  readonly alarmName?: string;
  /**
   * What the alarm name is built from, for errors about it.
   *
   * @default - an SLO's name: alarmNamePrefix, sloName and the tier
   */
  readonly alarmNameProp?: string;
  /** Compare with the rest of the traffic on the same minutes (rollback alarms). */
  readonly baseline?: BaselineComparison;
}

/**
 * What a rollback alarm compares the new version with: `rest-of-blended` subtracts the new
 * version's counts from the whole alias (Lambda: the rest is the current version), `separate`
 * reads another target group (ECS blue vs green).
 */
export interface BaselineComparison {
  readonly counts: SliCounts;
  readonly mode: 'rest-of-blended' | 'separate';
  /** The new version must fail more than `factor` times as often as the baseline. */
  readonly factor: number;
  /** The deployment's steps, when known at synth: the new version is weighed at its first step's share (`relativeExpectedBad`). */
  readonly shift?: PolicyTrafficShift;
}

/**
 * An alarm the factory created, with the literal name it was given: a composite over alarms whose
 * names are all literal can have its rule measured at synth. The name travels with the alarm
 * (no lookup table), so the construct that holds the alarm holds its name.
 */
export interface FactoryAlarm<A extends IAlarm = IAlarm> {
  readonly alarm: A;
  /** @default - a name CloudFormation generates, or one only known at deploy time (a token) */
  readonly literalName?: string;
}

/** The props an SLO's alarm names are built from (`<alarmNamePrefix>-<sloName>-<tier>[-long|-short]`). */
const SLO_ALARM_NAME_PROP = 'the alarm name built from alarmNamePrefix, sloName and the tier';

/**
 * `validateAlarmName` under the prop the name is built from. Its length error (RT209) names no
 * prop of its own: the prop is put in front, so the user knows which values to shorten.
 */
function checkAlarmName(owner: Construct, name: string, prop: string): void {
  atConstruct(owner, () => {
    try {
      validateAlarmName(name, prop);
    } catch (e) {
      if (e instanceof RollbackTriggersError && e.code === 'RT209') {
        throw new RollbackTriggersError('RT209', `${prop}: ${e.detail}`, { prop });
      }
      throw e;
    }
  });
}

/** The name as given when it is known at synth. */
function literalName(name: string | undefined): string | undefined {
  return name !== undefined && !isUnresolved(name) ? name : undefined;
}

/**
 * The burn rate of one window as a metric-math expression. The alarm's period is the window
 * itself, and CloudWatch evaluates alarms of a minute or longer every minute on a sliding window
 * (CloudWatch alarm evaluation), so this is a true rolling window, not M of N buckets.
 *
 * - `IF(total >= N, …, 0)`: a window with fewer than N events never burns (low-traffic guard) and
 *   the division never sees a zero denominator.
 * - `FILL(bad, 0)`: count metrics such as ALB `HTTPCode_Target_5XX_Count` publish nothing when
 *   there were no errors; a missing numerator means zero, not "no data".
 * - A bad count no single metric publishes (`SliCounts.derivedBad`) is an expression query `bad`
 *   over `total` and its parts.
 */
export function burnRateExpression(counts: SliCounts, windowSeconds: number, errorBudget: number, minEvents: number, label: string): MathExpression {
  const budget = formatNumber(errorBudget);
  const ratio = counts.bad ? 'FILL(bad, 0) / total' : '(total - FILL(good, 0)) / total';
  const usingMetrics: Record<string, IMetric> = { [counts.bad ? 'bad' : 'good']: numeratorOf(counts), total: counts.total };
  return new MathExpression({
    expression: `IF(total >= ${minEvents}, ${ratio}, 0) / ${budget}`,
    usingMetrics,
    // Overrides the period of every metric in the expression: one period per math alarm.
    period: Duration.seconds(windowSeconds),
    label,
  });
}

/**
 * The new version's burn rate, counted only while it fails more than `factor` times as often as
 * the baseline on the same minutes, by more than three standard deviations
 * (`RELATIVE_ALARM_Z_SQUARED`): an incident every version shares (a dependency down) burns the
 * baseline too and does not roll a healthy release back, nor do a few errors among a canary's
 * first hundred events. Without baseline traffic in the window, or with less of it than the new
 * version served (all traffic shifted, or all at once a few minutes on: the window would compare
 * minutes after the release with minutes before it), the alarm holds: the evaluator judges those
 * minutes against the current version's own last minutes (lib/core/windows.ts). Nested IFs keep to
 * comparison operators and products (metric math has no square root in the documented operators we
 * rely on); FILL turns missing baseline counts into zeros. The emulator's `relativeWindowBurnRate`
 * evaluates the same rule.
 *
 * `rest-of-blended` (Lambda) reads two series families that CloudWatch may publish apart: the alias
 * (`FunctionName`, `Resource`) and the new version through it (`… , ExecutedVersion`). The Lambda
 * metrics page documents both dimension sets, not that a minute of each arrives together, and the
 * old version's own series cannot be named at synth (its number is whatever the alias served
 * before). Two guards hold the alarm when one side is behind the other:
 * - the alias must show at least half the new version's bad events (it carries the new version's
 *   traffic: fewer means it has not published the minutes those errors are in — an incident's
 *   first minutes, seen only by the version);
 * - the new version must fail more than `RELATIVE_ALARM_BLENDED_FACTOR` (1.9) times as often as the
 *   whole alias it is part of, which bounds what a late minute on either side makes of a shared
 *   incident (the constant's comment gives the arithmetic).
 * What they leave, measured in test/core/emulator/lag.test.ts: on a service without background
 * errors no shared incident fires with the alias up to 4 minutes or the version up to 2 behind in
 * the 5-minute window; with background errors on the current version, an incident's first minute
 * at a small canary share can still read as the release's. The price: beside a clean current
 * version nothing changes below a 1 ÷ 1.9 share of traffic on the new version (the dominance guard
 * holds the alarm above half anyway); beside a failing one the new version must fail
 * 1.9 × (1 − share) ÷ (1 − 1.9 × share) times as often (2.1× at a 10 % canary, 4.75× at 40 %), where
 * `factor` alone asks for `factor` times; a version regressing while the alias is L minutes behind
 * fires up to 2L − 1 minutes later (the alias must show half its errors; L when the version is the late one).
 * `separate` (ECS) compares two target groups of one load balancer: the old version's own series,
 * of the same metric family (`TargetGroup`, `LoadBalancer`) and published by the same load
 * balancer (test/core/emulator/lag.test.ts shows what one target group published apart would do).
 */
export function relativeBurnRateExpression(
  canary: SliCounts,
  baseline: BaselineComparison,
  windowSeconds: number,
  errorBudget: number,
  minEvents: number,
  label: string,
): MathExpression {
  const budget = formatNumber(errorBudget);
  const badOf = (prefix: string, counts: SliCounts) =>
    counts.bad ? `FILL(${prefix}bad, 0)` : `(FILL(${prefix}total, 0) - FILL(${prefix}good, 0))`;
  const canaryBad = canary.bad ? 'FILL(bad, 0)' : '(total - FILL(good, 0))';
  const baseTotal = baseline.mode === 'rest-of-blended' ? '(FILL(basetotal, 0) - total)' : 'FILL(basetotal, 0)';
  // rest-of-blended: `base…` is the whole alias, both versions.
  const aliasBad = badOf('base', baseline.counts);
  const baseBad = baseline.mode === 'rest-of-blended' ? `(${aliasBad} - ${canaryBad})` : aliasBad;
  const ratio = `${canaryBad} / total`;
  // The new version's bad events were it `factor` times as bad as the baseline, and the excess over
  // them; with a traffic shift, weighed as if it had served the whole window at its share
  // (relativeExpectedBad: share and 1 − share as literals, the emulator's products).
  const shift = baseline.shift;
  const share = shift ? formatNumber(shift.share) : undefined;
  const rest = shift ? formatNumber(1 - shift.share) : undefined;
  const weighed = shift ? `IF(total * ${rest} > ${share} * ${baseTotal}, total, ${share} * ${baseTotal} / ${rest})` : 'total';
  const expected = `(${formatNumber(baseline.factor)} * ${baseBad} / ${baseTotal} * ${weighed})`;
  const excess = `(${canaryBad} - ${expected})`;
  // A derived bad count (ALB target groups) is an expression query of its own; the baseline's copy
  // reads its metrics under `base`-prefixed ids, as CloudWatch wants ids unique within one alarm.
  const usingMetrics: Record<string, IMetric> = {
    total: canary.total,
    [canary.bad ? 'bad' : 'good']: numeratorOf(canary),
    basetotal: baseline.counts.total,
    [baseline.counts.bad ? 'basebad' : 'basegood']: numeratorOf(baseline.counts, 'base'),
  };
  const significant = `IF(${excess} > 0, IF(${excess} * ${excess} > ${RELATIVE_ALARM_Z_SQUARED} * (${expected} + 1), ${ratio}, 0), 0)`;
  // rest-of-blended: the alias's series may arrive apart from the version's (see above). Products,
  // not ratios: no division by a total that may be 0.
  const consistent =
    baseline.mode === 'rest-of-blended'
      ? `IF(2 * ${aliasBad} >= ${canaryBad}, IF(${canaryBad} * FILL(basetotal, 0) > ${formatNumber(RELATIVE_ALARM_BLENDED_FACTOR)} * ${aliasBad} * total, ${significant}, 0), 0)`
      : significant;
  return new MathExpression({
    expression: `IF(total >= ${minEvents}, IF(${baseTotal} >= ${minEvents}, IF(${baseTotal} >= total, ${consistent}, 0), 0), 0) / ${budget}`,
    usingMetrics,
    period: Duration.seconds(windowSeconds),
    label,
  });
}

function windowExpression(request: WindowAlarmRequest): MathExpression {
  return request.baseline
    ? relativeBurnRateExpression(request.counts, request.baseline, request.windowSeconds, request.errorBudget, request.minEvents, request.label)
    : burnRateExpression(request.counts, request.windowSeconds, request.errorBudget, request.minEvents, request.label);
}

/**
 * What makes two window alarms identical (the metrics, the expression, the window and the
 * threshold), for a construct that must refuse duplicates among its own alarms (RT326).
 */
export function windowAlarmSignature(scope: Construct, request: WindowAlarmRequest): string {
  return `${metricSignature(Stack.of(scope), windowExpression(request))}|${request.windowSeconds}|${request.factor}`;
}

export function windowAlarm(owner: Construct, id: string, request: WindowAlarmRequest): FactoryAlarm<Alarm> {
  const expression = windowExpression(request);
  if (request.alarmName !== undefined && !isUnresolved(request.alarmName)) {
    checkAlarmName(owner, request.alarmName, request.alarmNameProp ?? SLO_ALARM_NAME_PROP);
  }
  const alarm = new Alarm(owner, id, {
    metric: expression,
    threshold: request.factor,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    // No datapoint means no traffic in the window: nothing burns. The evaluator, not this alarm,
    // guards against a misdimensioned SLI (INSUFFICIENT_DATA never stops a CodeDeploy deployment).
    treatMissingData: TreatMissingData.NOT_BREACHING,
    alarmDescription: request.description,
    alarmName: request.alarmName,
  });
  return { alarm, literalName: literalName(request.alarmName) };
}

export interface CompositeRequest {
  readonly operator: 'AND' | 'OR';
  /** Alarms, or groups of alarms that must all be in ALARM (an AND term of an OR rule). */
  readonly children: ReadonlyArray<FactoryAlarm | readonly FactoryAlarm[]>;
  readonly description: string;
  readonly alarmName?: string;
  /**
   * What the alarm name is built from, for errors about it.
   *
   * @default - an SLO's name: alarmNamePrefix, sloName and the tier or severity
   */
  readonly alarmNameProp?: string;
  readonly actions?: IAlarmAction[];
  readonly suppressor?: IAlarm;
}

/** How long a suppressed composite waits for its suppressor, and stays quiet after it clears. */
export const SUPPRESSOR_WAIT = Duration.minutes(2);
export const SUPPRESSOR_EXTENSION = Duration.minutes(30);

export function compositeAlarm(owner: Construct, id: string, request: CompositeRequest): FactoryAlarm<CompositeAlarm> {
  // Child names are generated by CloudFormation unless the user gave a prefix; the rule's length
  // is only knowable at synth then, so it is checked only then.
  const groups = request.children.map((c) => (Array.isArray(c) ? (c as readonly FactoryAlarm[]) : [c as FactoryAlarm]));
  const rule = (nameOf: (c: FactoryAlarm) => string | undefined) =>
    compositeRule(
      request.operator,
      request.children.map((c) => (Array.isArray(c) ? (c as readonly FactoryAlarm[]).map((a) => nameOf(a)!) : nameOf(c as FactoryAlarm)!)),
    );
  const measurable = groups.flat().every((c) => c.literalName !== undefined) ? rule((c) => c.literalName) : undefined;
  atConstruct(owner, () => validateComposite(`composite alarm ${id}`, groups.flat().length, measurable));
  if (request.alarmName !== undefined && !isUnresolved(request.alarmName)) {
    checkAlarmName(owner, request.alarmName, request.alarmNameProp ?? SLO_ALARM_NAME_PROP);
  }
  const composite = new CompositeAlarm(owner, id, {
    // Composite rules accept alarm names as well as ARNs; names keep the rule short.
    alarmRule: AlarmRule.fromString(rule((c) => c.alarm.alarmName)),
    alarmDescription: request.description,
    compositeAlarmName: request.alarmName,
    // PutCompositeAlarm requires both periods whenever an ActionsSuppressor is set.
    actionsSuppressor: request.suppressor,
    actionsSuppressorWaitPeriod: request.suppressor ? SUPPRESSOR_WAIT : undefined,
    actionsSuppressorExtensionPeriod: request.suppressor ? SUPPRESSOR_EXTENSION : undefined,
  });
  for (const action of request.actions ?? []) composite.addAlarmAction(action);
  return { alarm: composite, literalName: literalName(request.alarmName) };
}
