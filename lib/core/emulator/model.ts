import { RollbackTriggersError, formatNumber } from '../errors';
import { type PolicyAlarm, type PolicyComposite, type PolicySlo, type PolicyThresholdTrigger, type PolicyTrafficShift, type RollbackPolicy, compositeChildIds } from '../policy';
import { type Severity, alarmEvaluationIntervalSeconds } from '../slo-math';
import { ComparisonOperatorName, TreatMissingData, isComparisonOperatorName, isTreatMissingData } from './m-of-n';

/**
 * The alarms of a rollback policy as the emulator evaluates them: every number here is the one the
 * constructs put into the template (the agreement test compares this model with a synthesized
 * stack), so the emulator cannot drift from what CloudWatch runs.
 */

/**
 * A burn-rate window alarm, as `lib/private/alarm-factory.ts` renders it: the metric-math
 * expression `IF(total >= minEvents, bad / total, 0) / errorBudget` with every metric's period set
 * to the window, compared `>=` the threshold in 1 of 1 datapoints.
 *
 * With a {@link WindowBaselineModel baseline} (the rollback alarms, `relativeBurnRateExpression`):
 * the new version's burn rate, counted only while it fails significantly more than `factor` times
 * as often as the baseline on the same window (`relativeWindowBurnRate` spells out the rule).
 */
export interface WindowAlarmModel {
  readonly kind: 'window';
  readonly id: string;
  /** Path of the SLO that created the alarm (the only SLO that uses it): its SLI series feeds it. */
  readonly sloPath: string;
  /** The alarm's period, which is the window. */
  readonly windowMinutes: number;
  readonly minEvents: number;
  /** The divisor exactly as the expression renders it (`formatNumber(errorBudget)`). */
  readonly errorBudget: number;
  readonly threshold: number;
  readonly comparison: ComparisonOperatorName;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly treatMissingData: TreatMissingData;
  /**
   * Minutes between two evaluations: 1, or 60 when the window × evaluationPeriods exceeds one
   * day — CloudWatch evaluates such an alarm once an hour (`HOURLY_EVALUATION_AFTER_SECONDS`).
   */
  readonly evaluationIntervalMinutes: number;
  /** The traffic the alarm compares with; its series is given with the emulator's input. */
  readonly baseline?: WindowBaselineModel;
}

/**
 * What a rollback alarm compares the new version with: the alarm burns only while the new
 * version's error ratio is strictly above `factor` times the baseline's on the same window.
 */
export interface WindowBaselineModel {
  /** The multiplier exactly as the expression renders it (`formatNumber(factor)`); 0 compares with nothing. */
  readonly factor: number;
  /** How the alarm reads the baseline (`WindowBaselineInput.mode`). */
  readonly mode: 'rest-of-blended' | 'separate';
  /** The deployment's steps, when known: the alarm weighs the new version at its first step's share (`relativeExpectedBad`). */
  readonly shift?: PolicyTrafficShift;
}

/**
 * A composite alarm: `(ALARM(a) AND ALARM(b))` per tier, `(ALARM(t1) OR ALARM(t2) …)` per severity,
 * or the exact layout's `(ALARM(l1) AND ALARM(s1)) OR (ALARM(l2) AND ALARM(s2))`.
 */
export interface CompositeModel {
  readonly kind: 'tier' | 'severity';
  readonly id: string;
  readonly sloPath: string;
  readonly severity: Severity;
  readonly operator: 'AND' | 'OR';
  /** Ids of every window alarm, trigger or other composite the rule names, in rule order. */
  readonly children: readonly string[];
  /** The rule as an OR of AND terms: in ALARM when every id of some term is. */
  readonly terms: readonly (readonly string[])[];
  /** Suppresses this composite's actions only; its state is unaffected (not modelled). */
  readonly suppressedBy?: string;
}

/** A threshold trigger: a plain metric alarm with M of N datapoints. */
export interface TriggerModel {
  readonly kind: 'trigger';
  /** The trigger's construct path. */
  readonly id: string;
  readonly name: string;
  readonly periodMinutes: number;
  readonly threshold: number;
  readonly comparison: ComparisonOperatorName;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly treatMissingData: TreatMissingData;
  /** Minutes between two evaluations: 1, or 60 when period × evaluationPeriods exceeds one day. */
  readonly evaluationIntervalMinutes: number;
  readonly severity: Severity;
}

/**
 * A tier's rule, long window AND short window, whatever the layout: a composite of its own in the
 * per-tier layout, a term of its severity's rule in the others. The summary reports it per tier.
 */
export interface TierRuleModel {
  /** `<slo path>/<tier name>`, the id of the tier's composite when it has one. */
  readonly id: string;
  readonly sloPath: string;
  readonly severity: Severity;
  readonly children: readonly [string, string];
}

export interface EmulatorModel {
  readonly windows: readonly WindowAlarmModel[];
  /** Every tier's rule, for the summary; the alarms are `windows` and `composites`. */
  readonly tierRules?: readonly TierRuleModel[];
  /** Ordered so that every composite comes after the composites it reads. */
  readonly composites: readonly CompositeModel[];
  readonly triggers: readonly TriggerModel[];
}

/**
 * Resolves a policy into the alarms to emulate. A tier composite reads its own SLO's window alarms
 * only: SLOs never share an alarm (lib/private/alarm-factory.ts), so each alarm reads the SLI
 * series of the SLO that lists it.
 *
 * `baselineFactors` gives, by window alarm id, the factor of the alarms that compare with a
 * baseline (a policy's SLO alarms never do; the simulator's rollback alarms may).
 */
export function compilePolicy(
  policy: RollbackPolicy,
  baselineFactors: Readonly<Record<string, number>> = {},
  baselineModes: Readonly<Record<string, WindowBaselineModel['mode']>> = {},
  baselineShifts: Readonly<Record<string, PolicyTrafficShift>> = {},
): EmulatorModel {
  const ids = new Set<string>();
  const claim = claimIn(ids);
  const windows = policy.slos.flatMap((slo) => slo.alarms.map((alarm) => toWindowAlarm(alarm, slo, claim, baselineFactors, baselineModes, baselineShifts)));
  checkBaselinesNameWindows(baselineFactors, windows);
  const triggers = policy.thresholdTriggers.map((t) => toTrigger(t, claim));
  const composites = new Map<string, CompositeModel>();
  for (const slo of policy.slos) {
    for (const c of slo.composites) {
      claim(c.id, `composite of SLO ${slo.path}`);
      composites.set(c.id, toComposite(c, slo.path));
    }
  }
  // A group's composites OR its members' tiers (ServiceLevelObjectiveGroup).
  for (const group of policy.sloGroups ?? []) {
    for (const c of group.composites) {
      claim(c.id, `composite of SLO group ${group.path}`);
      composites.set(c.id, toComposite(c, group.path));
    }
  }
  checkCompositeChildren(composites.values(), ids, windows);
  const tierRules = policy.slos.flatMap((slo) =>
    slo.tiers.map((t): TierRuleModel => ({ id: `${slo.path}/${t.name}`, sloPath: slo.path, severity: t.severity, children: [t.longAlarm, t.shortAlarm] })),
  );
  return { windows, composites: topologicalOrder(composites), triggers, tierRules };
}

/** Records an alarm id in `ids`, refusing one the policy already defines. */
type Claim = (id: string, what: string) => void;

function claimIn(ids: Set<string>): Claim {
  return (id, what) => {
    if (ids.has(id)) throw new RollbackTriggersError('RT503', `the policy defines the alarm id "${id}" twice (second time: ${what})`);
    ids.add(id);
  };
}

function toWindowAlarm(
  alarm: PolicyAlarm,
  slo: PolicySlo,
  claim: Claim,
  baselineFactors: Readonly<Record<string, number>>,
  baselineModes: Readonly<Record<string, WindowBaselineModel['mode']>>,
  baselineShifts: Readonly<Record<string, PolicyTrafficShift>>,
): WindowAlarmModel {
  const where = `window alarm "${alarm.id}" of SLO ${slo.path}`;
  claim(alarm.id, where);
  const windowMinutes = wholeMinutes(where, 'windowSeconds', alarm.windowSeconds);
  return {
    kind: 'window',
    id: alarm.id,
    sloPath: slo.path,
    windowMinutes,
    minEvents: nonNegative(where, 'minEvents', alarm.minEvents),
    errorBudget: renderedBudget(where, slo.errorBudget),
    threshold: finite(where, 'threshold', alarm.threshold),
    comparison: 'GreaterThanOrEqualToThreshold',
    evaluationPeriods: 1,
    datapointsToAlarm: 1,
    treatMissingData: treatment(where, alarm.treatMissingData),
    evaluationIntervalMinutes: alarmEvaluationIntervalSeconds(windowMinutes * 60, 1) / 60,
    ...(Object.hasOwn(baselineFactors, alarm.id)
      ? {
          baseline: {
            factor: renderedFactor(where, baselineFactors[alarm.id]),
            mode: baselineMode(where, baselineModes[alarm.id]),
            ...(baselineShifts[alarm.id] !== undefined ? { shift: checkTrafficShift(where, baselineShifts[alarm.id]) } : {}),
          },
        }
      : {}),
  };
}

/**
 * A deployment's traffic shift as the alarm renders it: canary or linear, the first step's share
 * strictly between 0 and 1 (RT727). The share reaches the expression as the literals `share` and
 * `1 − share` (lib/private/alarm-factory.ts).
 */
export function checkTrafficShift(where: string, shift: unknown): PolicyTrafficShift {
  const s = shift as Partial<PolicyTrafficShift> | null;
  const share = s?.share;
  if (s === null || typeof s !== 'object' || (s.kind !== 'canary' && s.kind !== 'linear') || typeof share !== 'number' || !(share > 0 && share < 1)) {
    throw new RollbackTriggersError(
      'RT727',
      `${where}: baseline.shift must be { kind: 'canary' | 'linear', share: a number strictly between 0 and 1 }, got ${JSON.stringify(shift)}`,
    );
  }
  return { kind: s.kind, share };
}

/** A baseline for an id that is no window alarm would be silently ignored: refused instead. */
function checkBaselinesNameWindows(baselineFactors: Readonly<Record<string, number>>, windows: readonly WindowAlarmModel[]): void {
  for (const id of Object.keys(baselineFactors)) {
    if (!windows.some((w) => w.id === id)) {
      throw new RollbackTriggersError(
        'RT505',
        `a baseline is given for "${id}", which is no window alarm of the policy (window alarms: ${windows.map((w) => w.id).join(', ') || 'none'})`,
      );
    }
  }
}

function toTrigger(t: PolicyThresholdTrigger, claim: Claim): TriggerModel {
  const where = `threshold trigger ${t.path}`;
  claim(t.path, where);
  if (!isComparisonOperatorName(t.comparison)) {
    throw new RollbackTriggersError(
      'RT504',
      `${where}: comparison ${t.comparison} cannot be emulated — use GreaterThanThreshold, GreaterThanOrEqualToThreshold, LessThanThreshold or LessThanOrEqualToThreshold`,
    );
  }
  if (!Number.isInteger(t.evaluationPeriods) || t.evaluationPeriods < 1 || !Number.isInteger(t.datapointsToAlarm) || t.datapointsToAlarm < 1 || t.datapointsToAlarm > t.evaluationPeriods) {
    throw new RollbackTriggersError('RT504', `${where}: needs 1 ≤ datapointsToAlarm ≤ evaluationPeriods, got ${t.datapointsToAlarm} of ${t.evaluationPeriods}`);
  }
  const periodMinutes = wholeMinutes(where, 'periodSeconds', t.periodSeconds);
  return {
    kind: 'trigger',
    id: t.path,
    name: t.name,
    periodMinutes,
    threshold: finite(where, 'threshold', t.threshold),
    comparison: t.comparison,
    evaluationPeriods: t.evaluationPeriods,
    datapointsToAlarm: t.datapointsToAlarm,
    treatMissingData: treatment(where, t.treatMissingData),
    evaluationIntervalMinutes: alarmEvaluationIntervalSeconds(periodMinutes * 60, t.evaluationPeriods) / 60,
    severity: t.severity,
  };
}

/** Every child is an alarm of the policy, and a tier reads only its own SLO's window alarms. */
function checkCompositeChildren(composites: Iterable<CompositeModel>, ids: ReadonlySet<string>, windows: readonly WindowAlarmModel[]): void {
  for (const c of composites) {
    for (const child of c.children) {
      if (!ids.has(child)) {
        throw new RollbackTriggersError('RT503', `composite "${c.id}" references "${child}", which no SLO or trigger of the policy defines`);
      }
      if (c.kind === 'tier' && !windows.some((w) => w.id === child && w.sloPath === c.sloPath)) {
        throw new RollbackTriggersError('RT503', `tier composite "${c.id}" reads "${child}", which is no window alarm of its SLO ${c.sloPath}: every SLO owns the alarms its tiers use`);
      }
    }
  }
}

function toComposite(c: PolicyComposite, sloPath: string): CompositeModel {
  if (c.operator !== 'AND' && c.operator !== 'OR') {
    throw new RollbackTriggersError('RT503', `composite "${c.id}": operator must be AND or OR, got ${String(c.operator)}`);
  }
  if (c.children.length === 0) throw new RollbackTriggersError('RT503', `composite "${c.id}" has no children`);
  const groups = c.children.map((child) => {
    const ids = compositeChildIds(child);
    if (typeof child !== 'string' && (c.operator !== 'OR' || ids.length === 0)) {
      throw new RollbackTriggersError('RT503', `composite "${c.id}": an AND group of children belongs in an OR rule and names at least one alarm`);
    }
    return ids;
  });
  return {
    kind: c.kind,
    id: c.id,
    sloPath,
    severity: c.severity,
    operator: c.operator,
    children: groups.flat(),
    terms: c.operator === 'AND' ? [groups.flat()] : groups,
    ...(c.suppressedBy !== undefined ? { suppressedBy: c.suppressedBy } : {}),
  };
}

/** Children before parents; rejects cycles (CloudWatch rejects them too). */
function topologicalOrder(composites: ReadonlyMap<string, CompositeModel>): CompositeModel[] {
  const ordered: CompositeModel[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (c: CompositeModel, trail: readonly string[]) => {
    const s = state.get(c.id);
    if (s === 'done') return;
    if (s === 'visiting') throw new RollbackTriggersError('RT503', `composite alarms form a cycle: ${[...trail, c.id].join(' → ')}`);
    state.set(c.id, 'visiting');
    for (const child of c.children) {
      const nested = composites.get(child);
      if (nested) visit(nested, [...trail, c.id]);
    }
    state.set(c.id, 'done');
    ordered.push(c);
  };
  for (const c of composites.values()) visit(c, []);
  return ordered;
}

function wholeMinutes(where: string, field: string, seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < 60 || seconds % 60 !== 0) {
    throw new RollbackTriggersError(
      'RT504',
      `${where}: ${field} is ${seconds}, but the emulator works on whole minutes — periods of 10, 20 or 30 s (high resolution) are not emulated`,
    );
  }
  return seconds / 60;
}

function finite(where: string, field: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new RollbackTriggersError('RT504', `${where}: ${field} must be a finite number, got ${String(value)}`);
  return value;
}

function nonNegative(where: string, field: string, value: number): number {
  if (finite(where, field, value) < 0) throw new RollbackTriggersError('RT504', `${where}: ${field} must be ≥ 0, got ${value}`);
  return value;
}

function treatment(where: string, value: string): TreatMissingData {
  if (!isTreatMissingData(value)) {
    throw new RollbackTriggersError('RT504', `${where}: treatMissingData must be notBreaching, breaching, ignore or missing, got ${String(value)}`);
  }
  return value;
}

/** How the alarm reads its baseline; 'separate' when the input does not say. */
function baselineMode(where: string, mode: unknown): WindowBaselineModel['mode'] {
  if (mode === undefined || mode === 'separate' || mode === 'rest-of-blended') return mode ?? 'separate';
  throw new RollbackTriggersError('RT504', `${where}: the baseline mode must be 'rest-of-blended' or 'separate', got ${JSON.stringify(mode)}`);
}

/** The expression multiplies by the factor as `formatNumber` printed it. */
function renderedFactor(where: string, factor: number): number {
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 0) {
    throw new RollbackTriggersError('RT504', `${where}: the baseline factor must be a finite number ≥ 0, got ${String(factor)}`);
  }
  return Number(formatNumber(factor));
}

/** The expression divides by the budget as `formatNumber` printed it; CloudWatch parses that text. */
function renderedBudget(where: string, errorBudget: number): number {
  const budget = Number(formatNumber(finite(where, 'errorBudget', errorBudget)));
  if (!(budget > 0)) throw new RollbackTriggersError('RT504', `${where}: errorBudget must be above 0, got ${errorBudget}`);
  return budget;
}
