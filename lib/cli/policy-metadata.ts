import {
  BreakerSettings,
  DEFAULT_DEADLINE_SECONDS,
  APPROVAL_LAST_END_SECONDS,
  MAX_VERIFY_SECONDS,
  MAX_GUARD_WINDOW_SECONDS,
  MIN_GUARD_WINDOW_SECONDS,
  MAX_SECONDARY_APPROVAL_SECONDS,
  MIN_SECONDARY_APPROVAL_SECONDS,
  breakerSettingsProblem,
  MAX_COMPOSITE_CHILDREN,
  MAX_EVALUATION_RANGE_SECONDS,
  MAX_EVALUATION_RANGE_SHORT_PERIOD_SECONDS,
  MAX_METRICS_PER_MATH_ALARM,
  POLICY_SCHEMA_VERSION,
  PolicyAlarmLayout,
  PolicyEntry,
  PolicyRollbackAlarm,
  PolicyRollbackTrigger,
  PolicySlo,
  PolicySloGroup,
  PolicyTier,
  burnRateFactor,
  compositeChildIds,
  errorBudget,
  formatNumber,
  isValidPeriod,
} from '../core';
import { InputError, POLICY_METADATA_ERROR } from './input-error';

/**
 * Checks of the policy entries a cloud assembly carries (metadata of type
 * `cdk-rollback-triggers:policy`, one per SLO, threshold trigger and rollback trigger), for `plan`
 * and `simulate --assembly`. The constructs write them at synth; these checks are for an entry
 * edited by hand or by a script: a field of the wrong type, missing or out of range, a name that
 * is not a tier, an id no alarm has, a number that no longer matches the ones it is derived from
 * (the template's alarms were built from the originals). Each error names the file, the entry and
 * the field as a jq-style path (`data.entry.tiers[0].factor`), with the rule, under RT715.
 *
 * Fields this version does not know are reported as warnings and ignored: the schema grows by
 * optional fields within `schemaVersion` 1, so a newer library's policy stays readable.
 */

/** Where an entry sits: the file and its place in it (`"/Stack/Slo"[0]`). */
export interface EntryLocation {
  readonly file: string;
  readonly where: string;
}

export interface CheckedEntry {
  readonly entry: PolicyEntry;
  readonly at: EntryLocation;
}

const DERIVED = 'the policy is computed at synth from the app: change the app and run "cdk synth" again rather than editing cdk.out';
const TIER_NAME = /^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/;
const TREAT_MISSING = ['notBreaching', 'breaching', 'ignore', 'missing'] as const;
const ALARM_LAYOUTS = ['exact', 'per-tier', 'native'] as const satisfies readonly PolicyAlarmLayout[];
const COMPARISONS = ['GreaterThanOrEqualToThreshold', 'GreaterThanThreshold', 'LessThanThreshold', 'LessThanOrEqualToThreshold'] as const;
const SLI_KINDS = ['error-ratio', 'success-ratio', 'latency', 'business-failure'] as const;

/** Checks one metadata entry's `data`: `{ schemaVersion: 1, entry: { kind, … } }`. */
export function checkPolicyEntry(data: unknown, at: EntryLocation, warn: (message: string) => void): PolicyEntry {
  const c: Checker = new Checker(at, warn);
  const top = c.object(data, 'data');
  c.known(top, 'data', ['schemaVersion', 'entry']);
  const version = top.schemaVersion;
  if (typeof version === 'number' && Number.isInteger(version) && version > POLICY_SCHEMA_VERSION) {
    c.fail('data.schemaVersion', `is ${version}, this tool reads version ${POLICY_SCHEMA_VERSION} — upgrade cdk-rollback-triggers`);
  }
  if (version !== POLICY_SCHEMA_VERSION) c.fail('data.schemaVersion', `must be ${POLICY_SCHEMA_VERSION} (the policy schema this tool reads), got ${describe(version)}`);
  const entry = c.object(top.entry, 'data.entry');
  const kind = c.oneOf(entry, 'data.entry', 'kind', ['slo', 'threshold', 'rollback', 'slo-group'] as const, 'the kind of construct the entry describes');
  if (kind === 'slo') checkSlo(c, entry, 'data.entry');
  else if (kind === 'slo-group') checkSloGroup(c, entry, 'data.entry');
  else if (kind === 'threshold') checkThresholdTrigger(c, entry, 'data.entry');
  else checkRollbackTrigger(c, entry, 'data.entry');
  return entry as unknown as PolicyEntry;
}

/**
 * Checks what spans the entries of one stack: alarm and composite ids unique, every id a tier or
 * composite names defined, each tier's alarms its SLO's own, on its windows and threshold, each rollback alarm on
 * an SLO (of the stack, else of another stack of `assembly`) and one of its tiers.
 */
export function checkStackPolicy(entries: readonly CheckedEntry[], assembly: readonly CheckedEntry[] = entries): void {
  const slos = entries.filter((e): e is SloEntry => e.entry.kind === 'slo');
  const groups = entries.filter((e): e is GroupEntry => e.entry.kind === 'slo-group');
  const ids = collectAlarmIds(slos, groups);
  for (const { entry, at } of slos) {
    const c: Checker = new Checker(at, () => undefined);
    checkTierAlarms(c, entry, ids.alarms);
    if (entry.group === undefined) checkSeverityComposites(c, entry);
    else checkGroupMember(c, entry, groups);
    checkCompositeReferences(c, entry, ids);
  }
  for (const { entry, at } of groups) {
    const c: Checker = new Checker(at, () => undefined);
    checkGroupComposites(c, entry, slos);
    checkCompositeReferences(c, entry, ids);
  }
  for (const { entry, at } of entries.filter((e): e is RollbackEntry => e.entry.kind === 'rollback')) {
    const c: Checker = new Checker(at, () => undefined);
    entry.alarms.forEach((a, i) => checkRollbackAlarm(c, a, `data.entry.alarms[${i}]`, slos, assembly));
  }
}

type SloEntry = CheckedEntry & { entry: PolicySlo };
type GroupEntry = CheckedEntry & { entry: PolicySloGroup };
type RollbackEntry = CheckedEntry & { entry: PolicyRollbackTrigger };

/** The ids of a stack's alarms: each window alarm with the numbers its tier must match, and the composites. */
interface StackAlarmIds {
  readonly alarms: ReadonlyMap<string, { readonly window: number; readonly threshold: number; readonly minEvents: number }>;
  readonly composites: ReadonlySet<string>;
}

/** Every window alarm and composite of the stack's SLOs and groups, each id once; a window alarm reads its SLI's metrics. */
function collectAlarmIds(slos: readonly SloEntry[], groups: readonly GroupEntry[] = []): StackAlarmIds {
  const alarms = new Map<string, { window: number; threshold: number; minEvents: number }>();
  const composites = new Set<string>();
  for (const { entry, at } of slos) {
    const c: Checker = new Checker(at, () => undefined);
    entry.alarms.forEach((a, i) => {
      if (alarms.has(a.id) || composites.has(a.id)) c.fail(`data.entry.alarms[${i}].id`, `"${a.id}" is the id of another alarm of the stack; ids are construct paths, unique in a stack`);
      // An SLO's window alarms read its SLI's metrics.
      if (a.metricCount !== entry.sli.metricCount) c.fail(`data.entry.alarms[${i}].metricCount`, `is ${a.metricCount}, the SLI reads ${entry.sli.metricCount} metrics (sli.metricCount); ${DERIVED}`);
      alarms.set(a.id, { window: a.windowSeconds, threshold: a.threshold, minEvents: a.minEvents });
    });
    entry.composites.forEach((k, i) => {
      if (alarms.has(k.id) || composites.has(k.id)) c.fail(`data.entry.composites[${i}].id`, `"${k.id}" is the id of another alarm of the stack; ids are construct paths, unique in a stack`);
      composites.add(k.id);
    });
  }
  for (const { entry, at } of groups) {
    const c: Checker = new Checker(at, () => undefined);
    entry.composites.forEach((k, i) => {
      if (alarms.has(k.id) || composites.has(k.id)) c.fail(`data.entry.composites[${i}].id`, `"${k.id}" is the id of another alarm of the stack; ids are construct paths, unique in a stack`);
      composites.add(k.id);
    });
  }
  return { alarms, composites };
}

/** A document written before layouts existed has per-tier composites. */
function layoutOf(entry: PolicySlo): PolicyAlarmLayout {
  return entry.alarmLayout ?? 'per-tier';
}

/** Each tier's rule (its composite, or its term of its severity's rule), and its two window alarms its SLO's own, on its windows, burn-rate factor and minimum of events. */
function checkTierAlarms(c: Checker, entry: PolicySlo, alarms: StackAlarmIds['alarms']): void {
  entry.tiers.forEach((t, i) => {
    if (layoutOf(entry) === 'per-tier') {
      // Each tier is the AND of its two windows, a composite named after the tier (`<slo path>/<tier>`).
      const composite = entry.composites.find((k) => k.id === `${entry.path}/${t.name}`);
      if (!composite || composite.kind !== 'tier' || composite.children.length !== 2 || composite.children[0] !== t.longAlarm || composite.children[1] !== t.shortAlarm) {
        c.fail(
          `data.entry.tiers[${i}].name`,
          `tier "${t.name}" has no composite "${entry.path}/${t.name}" of kind "tier" over its longAlarm and shortAlarm in the SLO's composites; ${DERIVED}`,
        );
      }
    }
    for (const [role, window] of [
      ['longAlarm', t.longWindowSeconds],
      ['shortAlarm', t.shortWindowSeconds],
    ] as const) {
      const id = t[role];
      // Every SLO owns the window alarms its tiers use (SLOs never share one).
      const alarm = entry.alarms.some((a) => a.id === id) ? alarms.get(id) : undefined;
      const path = `data.entry.tiers[${i}].${role}`;
      if (!alarm) c.fail(path, `"${id}" is not the id of a window alarm of this SLO (its alarms[].id); ${DERIVED}`);
      if (alarm.window !== window) c.fail(path, `alarm "${id}" has a ${formatNumber(alarm.window)} s window, the tier's ${role === 'longAlarm' ? 'long' : 'short'} window is ${formatNumber(window)} s; ${DERIVED}`);
      if (!same(alarm.threshold, t.factor)) c.fail(path, `alarm "${id}" has threshold ${formatNumber(alarm.threshold)}, the tier's burn-rate factor is ${formatNumber(t.factor)}; ${DERIVED}`);
      if (alarm.minEvents !== t.minEventsPerWindow) c.fail(path, `alarm "${id}" has minEvents ${alarm.minEvents}, the tier's minEventsPerWindow is ${t.minEventsPerWindow}; ${DERIVED}`);
    }
    // Window alarms are named after their tier (`<slo path>/<tier>/long|short`, PolicyIds): a tier renamed alone is an edit.
    const own = [`${entry.path}/${t.name}/long`, `${entry.path}/${t.name}/short`];
    if (t.longAlarm !== own[0] || t.shortAlarm !== own[1]) {
      c.fail(`data.entry.tiers[${i}].name`, `tier "${t.name}" has the window alarms "${t.longAlarm}" and "${t.shortAlarm}", not "${own[0]}" and "${own[1]}"; ${DERIVED}`);
    }
  });
}

/**
 * One composite per severity that has tiers, `<slo path>/page` or `/ticket`: the OR of those
 * tiers' composites (per-tier layout), or of each tier's `{ allOf: [longAlarm, shortAlarm] }`.
 */
function checkSeverityComposites(c: Checker, entry: PolicySlo): void {
  const perTier = layoutOf(entry) === 'per-tier';
  for (const severity of ['page', 'ticket'] as const) {
    const tiers = entry.tiers.filter((t) => t.severity === severity);
    const expected = tiers.map((t) => (perTier ? `${entry.path}/${t.name}` : `(${t.longAlarm} AND ${t.shortAlarm})`));
    const index = entry.composites.findIndex((k) => k.id === `${entry.path}/${severity}`);
    const k = entry.composites[index];
    if (expected.length === 0 && !k) continue;
    if (!k) c.fail('data.entry.composites', `has no composite "${entry.path}/${severity}" (the OR of the ${severity} tiers ${expected.join(', ')}); ${DERIVED}`);
    const given = k.children.map((child) => (typeof child === 'string' ? child : `(${child.allOf.join(' AND ')})`));
    if (k.kind !== 'severity' || k.severity !== severity || k.operator !== 'OR' || given.length !== expected.length || given.some((child, j) => child !== expected[j])) {
      c.fail(
        `data.entry.composites[${index}]`,
        `must be the ${severity} composite of kind "severity", the OR of ${perTier ? `the ${severity} tiers' composites` : `each ${severity} tier's long AND short window alarm`} ` +
          `(${expected.join(', ') || 'none'}); ${DERIVED}`,
      );
    }
  }
  if (!perTier && entry.composites.some((k) => k.kind === 'tier')) {
    c.fail('data.entry.composites', `holds a tier composite, but the ${layoutOf(entry)} layout has none (its severity rules hold the tiers); ${DERIVED}`);
  }
}

/** A member of a group has no composite of its own, and its group is in the stack and lists it. */
function checkGroupMember(c: Checker, entry: PolicySlo, groups: readonly GroupEntry[]): void {
  if (entry.composites.length > 0) c.fail('data.entry.composites', `must be empty: the SLO is in group ${entry.group}, whose composites hold its tiers; ${DERIVED}`);
  const group = groups.find((g) => g.entry.path === entry.group);
  if (!group || !group.entry.members.includes(entry.path)) c.fail('data.entry.group', `"${entry.group}" is not a group of the stack that lists this SLO among its members; ${DERIVED}`);
}

/** A group's composite per severity is the OR of each member's tiers of that severity, `{ allOf: [longAlarm, shortAlarm] }`, members in order. */
function checkGroupComposites(c: Checker, group: PolicySloGroup, slos: readonly SloEntry[]): void {
  const members = group.members.map((path) => slos.find((s) => s.entry.path === path)?.entry);
  members.forEach((m, i) => {
    if (!m || m.group !== group.path) c.fail(`data.entry.members[${i}]`, `"${group.members[i]}" is not an SLO of the stack in this group; ${DERIVED}`);
  });
  for (const severity of ['page', 'ticket'] as const) {
    const expected = members.flatMap((m) => m!.tiers.filter((t) => t.severity === severity).map((t) => `(${t.longAlarm} AND ${t.shortAlarm})`));
    const index = group.composites.findIndex((k) => k.id === `${group.path}/${severity}`);
    const k = group.composites[index];
    if (expected.length === 0 && !k) continue;
    if (!k) c.fail('data.entry.composites', `has no composite "${group.path}/${severity}" (the OR of its SLOs' ${severity} tiers); ${DERIVED}`);
    const given = k.children.map((child) => (typeof child === 'string' ? child : `(${child.allOf.join(' AND ')})`));
    if (k.kind !== 'severity' || k.operator !== 'OR' || given.length !== expected.length || given.some((child, j) => child !== expected[j])) {
      c.fail(`data.entry.composites[${index}]`, `must be the ${severity} composite of kind "severity", the OR of its SLOs' ${severity} tiers (${expected.join(', ')}); ${DERIVED}`);
    }
  }
  if (group.composites.length !== group.composites.filter((k) => k.kind === 'severity').length) c.fail('data.entry.composites', `holds only severity composites; ${DERIVED}`);
}

/** A tier composite has its tier; every child and suppressor is an alarm or composite of the stack. */
function checkCompositeReferences(c: Checker, entry: PolicySlo | PolicySloGroup, ids: StackAlarmIds): void {
  entry.composites.forEach((k, i) => {
    if (entry.kind === 'slo' && k.kind === 'tier' && !entry.tiers.some((t) => k.id === `${entry.path}/${t.name}`)) {
      c.fail(`data.entry.composites[${i}].id`, `"${k.id}" is a tier composite, but the SLO has no tier "${k.id.slice(entry.path.length + 1)}" (${entry.tiers.map((t) => t.name).join(', ')}); ${DERIVED}`);
    }
    k.children.forEach((child, j) => {
      for (const id of compositeChildIds(child)) {
        if (!ids.alarms.has(id) && !ids.composites.has(id)) c.fail(`data.entry.composites[${i}].children[${j}]`, `"${id}" is not the id of an alarm or composite of the stack`);
      }
    });
    if (k.suppressedBy !== undefined && !ids.composites.has(k.suppressedBy)) c.fail(`data.entry.composites[${i}].suppressedBy`, `"${k.suppressedBy}" is not the id of a composite of the stack`);
  });
}

/**
 * A rollback alarm is on a tier of an SLO (the stack's, else the assembly's), on the tier's short
 * window, with its minimum of events and a faithful copy of the tier.
 */
function checkRollbackAlarm(c: Checker, a: PolicyRollbackAlarm, path: string, slos: readonly SloEntry[], assembly: readonly CheckedEntry[]): void {
  const named = (e: CheckedEntry): e is SloEntry => e.entry.kind === 'slo' && e.entry.name === a.slo;
  const slo = (slos.find(named) ?? assembly.find(named))?.entry;
  if (!slo) c.fail(`${path}.slo`, `"${a.slo}" is not the name of an SLO of the stack (${slos.map((s) => s.entry.name).join(', ') || 'none'}) or of the assembly`);
  const tier = slo.tiers.find((t) => t.name === a.tier.name);
  if (!tier) c.fail(`${path}.tier.name`, `"${a.tier.name}" is not a tier of SLO ${slo.name} (${slo.tiers.map((t) => t.name).join(', ')})`);
  if (a.windowSeconds !== undefined && a.windowSeconds !== tier.shortWindowSeconds) {
    c.fail(`${path}.windowSeconds`, `is ${a.windowSeconds}, the short window of tier ${tier.name} is ${tier.shortWindowSeconds} (a rollback alarm watches the tier's short window); ${DERIVED}`);
  }
  if (a.minEvents !== tier.minEventsPerWindow) {
    c.fail(`${path}.minEvents`, `is ${a.minEvents}, tier ${tier.name} of SLO ${slo.name} has minEventsPerWindow ${tier.minEventsPerWindow}; ${DERIVED}`);
  }
  checkTierCopy(c, a, path, slo.name, tier);
}

/** The rollback alarm's copy of its tier: each field it carries as the SLO's tier has it (numbers up to float noise). */
function checkTierCopy(c: Checker, a: PolicyRollbackAlarm, path: string, sloName: string, tier: PolicyTier): void {
  const copy = a.tier as Partial<PolicyTier>;
  for (const field of ['severity', 'budgetFraction', 'longWindowSeconds', 'shortWindowSeconds', 'factor', 'errorRatioThreshold', 'minEventsPerWindow', 'longAlarm', 'shortAlarm'] as const) {
    if (copy[field] === undefined && !(field in a.tier)) continue;
    if (copy[field] !== tier[field] && !(typeof tier[field] === 'number' && same(copy[field] as number, tier[field] as number))) {
      c.fail(`${path}.tier.${field}`, `is ${describe(copy[field])}, tier ${tier.name} of SLO ${sloName} has ${describe(tier[field])}; ${DERIVED}`);
    }
  }
}

/** A ServiceLevelObjectiveGroup's entry: its name, path, member SLO paths and composites. */
function checkSloGroup(c: Checker, e: Record<string, unknown>, p: string): void {
  c.known(e, p, ['kind', 'name', 'path', 'members', 'composites']);
  c.text(e, p, 'name');
  c.text(e, p, 'path');
  const members = c.array(e, p, 'members', 'the paths of its SLOs');
  members.forEach((_, i) => c.text(members as unknown as Record<string, unknown>, `${p}.members`, i));
  checkCompositeShapes(c, e, p);
}

function checkSlo(c: Checker, e: Record<string, unknown>, p: string): void {
  c.known(e, p, ['kind', 'name', 'path', 'objectivePercent', 'compliancePeriodSeconds', 'errorBudget', 'sli', 'tiers', 'alarms', 'composites', 'alarmLayout', 'group']);
  if (e.alarmLayout !== undefined) c.oneOf(e, p, 'alarmLayout', ALARM_LAYOUTS, 'how the SLO lays out its composites');
  if (e.group !== undefined) c.text(e, p, 'group');
  c.text(e, p, 'name');
  c.text(e, p, 'path');
  const objective = c.number(e, p, 'objectivePercent', { above: 0, below: 100, rule: 'a number above 0 and below 100 — 99.9 for "three nines"' });
  const period = c.number(e, p, 'compliancePeriodSeconds', { integer: true, min: 1, rule: 'a whole number of seconds ≥ 1 (30 days is 2592000)' });
  const budget = c.number(e, p, 'errorBudget', { above: 0, max: 1, rule: 'a number above 0 and at most 1' });
  const expected = errorBudget(objective);
  if (!same(budget, expected)) c.fail(`${p}.errorBudget`, `${formatNumber(budget)} does not match objectivePercent ${formatNumber(objective)}, whose budget is (100 − objectivePercent) ÷ 100 = ${formatNumber(expected)}; ${DERIVED}`);

  const sliPath = `${p}.sli`;
  const sli = c.object(e.sli, sliPath);
  c.known(sli, sliPath, ['kind', 'scope', 'description', 'resolutionSeconds', 'metricCount', 'latencyThreshold']);
  c.oneOf(sli, sliPath, 'kind', SLI_KINDS, 'the kind of SLI');
  c.oneOf(sli, sliPath, 'scope', ['blended', 'version', 'target-group'] as const, 'the traffic the SLI measures');
  c.string(sli, sliPath, 'description');
  const resolution = c.period(sli, sliPath, 'resolutionSeconds');
  c.metricCount(sli, sliPath, 'metricCount');
  if (sli.latencyThreshold !== undefined) c.number(sli, sliPath, 'latencyThreshold', { above: 0, rule: 'a number above 0 (in the latency metric\'s unit)' });

  const tiers = c.array(e, p, 'tiers', 'the burn-rate tiers', 1);
  const names = new Set<string>();
  tiers.forEach((raw, i) => {
    const tp = `${p}.tiers[${i}]`;
    const t = c.object(raw, tp);
    c.known(t, tp, ['name', 'severity', 'budgetFraction', 'longWindowSeconds', 'shortWindowSeconds', 'factor', 'errorRatioThreshold', 'minEventsPerWindow', 'longAlarm', 'shortAlarm']);
    const name = checkDerivedTier(c, t, tp, { budget, period, resolution });
    if (names.has(name)) c.fail(`${tp}.name`, `"${name}" names two tiers of the SLO; tier names are unique in an SLO`);
    names.add(name);
    c.number(t, tp, 'minEventsPerWindow', { integer: true, min: 1, rule: 'a whole number ≥ 1' });
    c.text(t, tp, 'longAlarm');
    c.text(t, tp, 'shortAlarm');
  });

  c.array(e, p, 'alarms', 'the window alarms the SLO created').forEach((raw, i) => {
    const ap = `${p}.alarms[${i}]`;
    const a = c.object(raw, ap);
    c.known(a, ap, ['id', 'windowSeconds', 'threshold', 'minEvents', 'treatMissingData', 'metricCount', 'highResolution']);
    c.text(a, ap, 'id');
    const window = c.window(a, ap, 'windowSeconds');
    c.number(a, ap, 'threshold', { above: 0, rule: 'a burn rate above 0' });
    c.number(a, ap, 'minEvents', { integer: true, min: 1, rule: 'a whole number ≥ 1' });
    c.oneOf(a, ap, 'treatMissingData', TREAT_MISSING, 'how the alarm treats missing data');
    c.metricCount(a, ap, 'metricCount');
    c.highResolution(a, ap, window);
  });

  checkCompositeShapes(c, e, p);
}

/** An entry's `composites`: each an id, kind, severity, operator and children (ids, or `{ allOf }` groups in an OR rule). */
function checkCompositeShapes(c: Checker, e: Record<string, unknown>, p: string): void {
  c.array(e, p, 'composites', 'the composite alarms').forEach((raw, i) => {
    const kp = `${p}.composites[${i}]`;
    const k = c.object(raw, kp);
    c.known(k, kp, ['id', 'kind', 'severity', 'operator', 'children', 'suppressedBy']);
    c.text(k, kp, 'id');
    c.oneOf(k, kp, 'kind', ['tier', 'severity'] as const, 'the kind of composite');
    c.oneOf(k, kp, 'severity', ['page', 'ticket'] as const, 'the severity');
    c.oneOf(k, kp, 'operator', ['AND', 'OR'] as const, 'how the children combine');
    const children = c.array(k, kp, 'children', 'the ids of its alarms, or { allOf: [ids] } groups in an OR rule', 1);
    let named = 0;
    children.forEach((child, j) => {
      if (typeof child === 'string' || k.operator !== 'OR') {
        c.text(children as unknown as Record<string, unknown>, `${kp}.children`, j);
        named += 1;
        return;
      }
      const gp = `${kp}.children[${j}]`;
      const group = c.object(child, gp);
      c.known(group, gp, ['allOf']);
      const all = c.array(group, gp, 'allOf', 'the ids of alarms that must all be in ALARM', 1);
      all.forEach((_, n) => c.text(all as unknown as Record<string, unknown>, `${gp}.allOf`, n));
      named += all.length;
    });
    // PutCompositeAlarm: a rule references at most 100 alarms, however they are grouped.
    if (named > MAX_COMPOSITE_CHILDREN) c.fail(`${kp}.children`, `names ${named} alarms, above CloudWatch's ${MAX_COMPOSITE_CHILDREN} alarms per composite`);
    if (k.suppressedBy !== undefined) c.text(k, kp, 'suppressedBy');
  });
}

/** The tier fields the workbook derives, as an SLO's tier or a rollback alarm's copy carries them; with `slo`, their consistency. */
function checkDerivedTier(c: Checker, t: Record<string, unknown>, tp: string, slo?: { budget: number; period: number; resolution: number }): string {
  const name = c.string(t, tp, 'name');
  if (!TIER_NAME.test(name) || name === 'page' || name === 'ticket') {
    c.fail(`${tp}.name`, `must be 1 to 64 letters, digits or dashes, and not "page" or "ticket" (as BurnRateTier names are), got ${describe(name)}`);
  }
  c.oneOf(t, tp, 'severity', ['page', 'ticket'] as const, 'the severity');
  const fraction = c.number(t, tp, 'budgetFraction', { above: 0, max: 1, rule: 'a share of the error budget above 0 and at most 1 (0.02 for 2 %)' });
  const long = c.window(t, tp, 'longWindowSeconds');
  const short = c.window(t, tp, 'shortWindowSeconds');
  if (short >= long) c.fail(`${tp}.shortWindowSeconds`, `must be shorter than longWindowSeconds (${formatNumber(long)}), got ${formatNumber(short)} — the workbook uses long ÷ 12`);
  const factor = c.number(t, tp, 'factor', { above: 0, rule: 'a burn rate above 0' });
  const threshold = c.number(t, tp, 'errorRatioThreshold', { above: 0, max: 1, rule: 'an error ratio above 0 and at most 1 (above 1 the tier could never fire)' });
  if (slo) {
    if (long > slo.period) c.fail(`${tp}.longWindowSeconds`, `${formatNumber(long)} is longer than the compliance period (${formatNumber(slo.period)} s)`);
    for (const [field, window] of [
      ['longWindowSeconds', long],
      ['shortWindowSeconds', short],
    ] as const) {
      if (window % slo.resolution !== 0) c.fail(`${tp}.${field}`, `${formatNumber(window)} is not a whole multiple of the SLI's resolutionSeconds (${formatNumber(slo.resolution)})`);
    }
    const expectedFactor = burnRateFactor(fraction, slo.period, long);
    if (!same(factor, expectedFactor)) {
      c.fail(`${tp}.factor`, `${formatNumber(factor)} does not match budgetFraction × compliancePeriodSeconds ÷ longWindowSeconds = ${formatNumber(expectedFactor)}; ${DERIVED}`);
    }
    const expectedThreshold = factor * slo.budget;
    if (!same(threshold, expectedThreshold)) {
      c.fail(`${tp}.errorRatioThreshold`, `${formatNumber(threshold)} does not match factor × errorBudget = ${formatNumber(expectedThreshold)}; ${DERIVED}`);
    }
  }
  return name;
}

function checkThresholdTrigger(c: Checker, e: Record<string, unknown>, p: string): void {
  c.known(e, p, ['kind', 'name', 'path', 'comparison', 'threshold', 'periodSeconds', 'evaluationPeriods', 'datapointsToAlarm', 'treatMissingData', 'metricCount', 'highResolution', 'severity', 'heartbeat']);
  c.text(e, p, 'name');
  c.text(e, p, 'path');
  c.oneOf(e, p, 'comparison', COMPARISONS, 'a CloudWatch comparison operator (anomaly bands are not threshold triggers)');
  c.number(e, p, 'threshold', { rule: 'a finite number' });
  const period = c.period(e, p, 'periodSeconds');
  const evaluations = c.number(e, p, 'evaluationPeriods', { integer: true, min: 1, rule: 'a whole number ≥ 1' });
  const limit = period < 3_600 ? MAX_EVALUATION_RANGE_SHORT_PERIOD_SECONDS : MAX_EVALUATION_RANGE_SECONDS;
  if (period * evaluations > limit) {
    c.fail(`${p}.evaluationPeriods`, `${evaluations} × the ${formatNumber(period)} s period exceeds the ${formatNumber(limit)} s CloudWatch allows ${period < 3_600 ? 'when the period is under 1 hour' : 'for any alarm'}`);
  }
  c.number(e, p, 'datapointsToAlarm', { integer: true, min: 1, max: evaluations, rule: `a whole number from 1 to evaluationPeriods (${evaluations})` });
  c.oneOf(e, p, 'treatMissingData', TREAT_MISSING, 'how the alarm treats missing data');
  c.metricCount(e, p, 'metricCount');
  c.highResolution(e, p, period);
  c.oneOf(e, p, 'severity', ['page', 'ticket'] as const, 'the severity');
  if (e.heartbeat !== undefined) checkHeartbeat(c, e, p, period);
}

/** A HeartbeatTrigger's part (lib/core/heartbeat.ts): its alarm is SampleCount < 1 with missing data breaching, its grace interval × M. */
function checkHeartbeat(c: Checker, e: Record<string, unknown>, p: string, period: number): void {
  const hp = `${p}.heartbeat`;
  const h = c.object(e.heartbeat, hp);
  c.known(h, hp, ['graceSeconds', 'versionDimension']);
  c.oneOf(e, p, 'treatMissingData', ['breaching'] as const, "a heartbeat's treatment of missing data");
  c.oneOf(e, p, 'comparison', ['LessThanThreshold'] as const, "a heartbeat's comparison (SampleCount below 1)");
  c.number(e, p, 'threshold', { min: 1, max: 1, rule: "a heartbeat's threshold, 1 (one beat per interval)" });
  const grace = period * (e.datapointsToAlarm as number);
  c.number(h, hp, 'graceSeconds', { min: grace, max: grace, rule: `periodSeconds × datapointsToAlarm (${formatNumber(grace)})` });
  if (h.versionDimension !== undefined) c.text(h, hp, 'versionDimension');
}

/** The approval gate, the circuit breaker and post-rollback verification of a rollback trigger entry. */
function checkHumanFlows(c: Checker, e: Record<string, unknown>, p: string, deadline: number): void {
  if (e.approvalTimeoutSeconds !== undefined) {
    const most = APPROVAL_LAST_END_SECONDS - deadline;
    c.number(e, p, 'approvalTimeoutSeconds', { integer: true, min: 60, max: most, rule: `whole seconds from 60 to ${formatNumber(most)} (after the deadline, by hook start + ${APPROVAL_LAST_END_SECONDS} s)` });
    if (e.escalateInconclusive !== undefined) c.boolean(e, p, 'escalateInconclusive');
  }
  if (e.verifyRollbackSeconds !== undefined) {
    c.number(e, p, 'verifyRollbackSeconds', { integer: true, min: 60, max: MAX_VERIFY_SECONDS, rule: `whole seconds from 60 to ${MAX_VERIFY_SECONDS} (post-rollback verification)` });
  }
  if (e.guardWindowSeconds !== undefined) {
    c.number(e, p, 'guardWindowSeconds', { integer: true, min: MIN_GUARD_WINDOW_SECONDS, max: MAX_GUARD_WINDOW_SECONDS, rule: `whole seconds from ${MIN_GUARD_WINDOW_SECONDS} to ${MAX_GUARD_WINDOW_SECONDS} (guard window)` });
  }
  if (e.secondaryActionSeconds !== undefined) {
    c.number(e, p, 'secondaryActionSeconds', {
      integer: true,
      min: MIN_SECONDARY_APPROVAL_SECONDS,
      max: MAX_SECONDARY_APPROVAL_SECONDS,
      rule: `whole seconds from ${MIN_SECONDARY_APPROVAL_SECONDS} to ${MAX_SECONDARY_APPROVAL_SECONDS} (secondary action's approval)`,
    });
  }
  if (e.circuitBreaker !== undefined) {
    const problem = breakerSettingsProblem(e.circuitBreaker as BreakerSettings);
    if (problem) c.fail(`${p}.circuitBreaker`, `has ${problem}`);
    if (e.approvalTimeoutSeconds === undefined) c.fail(`${p}.circuitBreaker`, 'needs approvalTimeoutSeconds (the breaker asks through the approval gate)');
  }
}

function checkRollbackTrigger(c: Checker, e: Record<string, unknown>, p: string): void {
  c.known(e, p, ['kind', 'name', 'path', 'platform', 'bakeSeconds', 'deadlineSeconds', 'inconclusiveAction', 'maxAlarms', 'alarmPathSuspended', 'baselineFactor', 'alarms', 'healthChecks', 'alarmTriggers', 'shadow', 'approvalTimeoutSeconds', 'escalateInconclusive', 'circuitBreaker', 'verifyRollbackSeconds', 'guardWindowSeconds', 'secondaryActionSeconds']);
  c.text(e, p, 'name');
  c.text(e, p, 'path');
  const platform = c.oneOf(e, p, 'platform', ['lambda', 'ecs'] as const, 'the deployment platform');
  const deadline = c.number(e, p, 'deadlineSeconds', {
    integer: true,
    min: 60,
    max: DEFAULT_DEADLINE_SECONDS,
    rule: `whole seconds from 60 to ${DEFAULT_DEADLINE_SECONDS} after the hook starts (CodeDeploy fails a hook after 1 h)`,
  });
  c.number(e, p, 'bakeSeconds', { above: 0, max: deadline, rule: `seconds above 0 and at most the deadline (${formatNumber(deadline)} s)` });
  c.oneOf(e, p, 'inconclusiveAction', ['fail', 'pass'] as const, 'what an inconclusive bake reports (with the approval gate: what no answer reports)');
  checkHumanFlows(c, e, p, deadline);
  const maxAlarms = c.number(e, p, 'maxAlarms', { integer: true, min: 1, rule: 'a whole number ≥ 1 (alarms per deployment group)' });
  const suspended = c.boolean(e, p, 'alarmPathSuspended');
  if (e.shadow !== undefined && c.boolean(e, p, 'shadow') && suspended) c.fail(`${p}.alarmPathSuspended`, 'is true in shadow mode, which attaches no alarm path to suspend (RT339)');
  c.number(e, p, 'baselineFactor', { min: 0, rule: 'a number ≥ 0 (0: the evaluator judges the burn rate alone)' });
  const alarms = c.array(e, p, 'alarms', 'the rollback alarms on the deployment group');
  const alarmTriggers = e.alarmTriggers === undefined ? [] : c.array(e, p, 'alarmTriggers', 'the construct paths of the alarm triggers on the deployment group');
  alarmTriggers.forEach((_, i) => {
    const path = c.text(alarmTriggers as unknown as Record<string, unknown>, `${p}.alarmTriggers`, i);
    if (alarmTriggers.indexOf(path) !== i) c.fail(`${p}.alarmTriggers[${i}]`, `names ${path} again (RT338)`);
  });
  if (alarms.length + alarmTriggers.length > maxAlarms) {
    c.fail(`${p}.alarms`, `holds ${alarms.length} alarms${alarmTriggers.length > 0 ? ` and ${alarmTriggers.length} alarm triggers` : ''}, above maxAlarms (${maxAlarms})`);
  }
  const scopes = platform === 'lambda' ? (['version', 'declared'] as const) : (['blue', 'green', 'declared'] as const);
  alarms.forEach((raw, i) => {
    const ap = `${p}.alarms[${i}]`;
    const a = c.object(raw, ap);
    c.known(a, ap, ['slo', 'scope', 'tier', 'windowSeconds', 'minEvents', 'metricCount', 'baseline', 'evaluatorReads']);
    c.text(a, ap, 'slo');
    const scope = c.oneOf(a, ap, 'scope', scopes, `the traffic a ${platform} rollback alarm watches`);
    if (a.evaluatorReads !== undefined) {
      c.oneOf(a, ap, 'evaluatorReads', ['declared'] as const, 'how the evaluator reads the SLI when not per version');
      if (scope !== 'declared') c.fail(`${ap}.evaluatorReads`, `is "declared" on a ${scope}-scope alarm, whose SLI the evaluator reads per version: only a declared-scope alarm's SLI may be read as declared`);
    }
    const tp = `${ap}.tier`;
    const tier = c.object(a.tier, tp);
    // The tier's copy as the SLO carries it (its alarm ids and minimum events come along).
    c.known(tier, tp, ['name', 'severity', 'budgetFraction', 'longWindowSeconds', 'shortWindowSeconds', 'factor', 'errorRatioThreshold', 'minEventsPerWindow', 'longAlarm', 'shortAlarm']);
    checkDerivedTier(c, tier, tp);
    // Absent in a bare DerivedTier; the construct copies the SLO's tier whole.
    if (tier.minEventsPerWindow !== undefined) c.number(tier, tp, 'minEventsPerWindow', { integer: true, min: 1, rule: 'a whole number ≥ 1' });
    if (tier.longAlarm !== undefined) c.text(tier, tp, 'longAlarm');
    if (tier.shortAlarm !== undefined) c.text(tier, tp, 'shortAlarm');
    if (tier.severity !== 'page') c.fail(`${tp}.severity`, `must be "page": the rollback path rolls back on an SLO's fastest page tier, got ${describe(tier.severity)}`);
    c.window(a, ap, 'windowSeconds');
    c.number(a, ap, 'minEvents', { integer: true, min: 1, rule: 'a whole number ≥ 1' });
    c.metricCount(a, ap, 'metricCount');
    if (a.baseline !== undefined) {
      const bp = `${ap}.baseline`;
      const b = c.object(a.baseline, bp);
      c.known(b, bp, ['mode', 'factor', 'shift']);
      c.oneOf(b, bp, 'mode', [platform === 'lambda' ? 'rest-of-blended' : 'separate'] as const, `how a ${platform} rollback alarm finds the traffic it compares with`);
      c.number(b, bp, 'factor', { above: 0, rule: 'a number above 0 (a trigger with baselineFactor 0 renders no baseline at all)' });
      if (b.shift !== undefined) {
        const sp = `${bp}.shift`;
        const shift = c.object(b.shift, sp);
        c.known(shift, sp, ['kind', 'share']);
        c.oneOf(shift, sp, 'kind', ['canary', 'linear'] as const, 'how the deployment configuration shifts traffic in steps');
        c.number(shift, sp, 'share', { above: 0, below: 1, rule: "a number strictly between 0 and 1 (the new version's share of the traffic at the first step)" });
      }
    }
  });
  if (e.healthChecks !== undefined) {
    c.array(e, p, 'healthChecks', 'the health checks of the bake').forEach((raw, i) => {
      const hp = `${p}.healthChecks[${i}]`;
      const h = c.object(raw, hp);
      c.known(h, hp, ['kind', 'name', 'canaryName', 'minSuccessPercent', 'url', 'failAfter']);
      const kind = c.oneOf(h, hp, 'kind', ['http', 'synthetics'] as const, 'the kind of health check');
      c.text(h, hp, 'name');
      if (kind === 'synthetics') {
        if (h.canaryName !== undefined) c.text(h, hp, 'canaryName');
        if (h.minSuccessPercent !== undefined) c.number(h, hp, 'minSuccessPercent', { above: 0, max: 100, rule: 'a SuccessPercent above 0 and at most 100' });
      } else {
        if (h.url !== undefined) c.text(h, hp, 'url');
        if (h.failAfter !== undefined) c.number(h, hp, 'failAfter', { integer: true, min: 1, rule: 'a whole number of failed probes ≥ 1' });
      }
    });
  }
}

interface NumberRule {
  readonly integer?: boolean;
  readonly min?: number;
  readonly max?: number;
  readonly above?: number;
  readonly below?: number;
  /** What is allowed, for the message: `a whole number ≥ 1`. */
  readonly rule: string;
}

class Checker {
  constructor(
    private readonly at: EntryLocation,
    private readonly warn: (message: string) => void,
  ) {}

  fail(field: string, rule: string): never {
    throw new InputError(rule, this.at.file, this.at.where, field, POLICY_METADATA_ERROR);
  }

  object(value: unknown, path: string): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.fail(path, value === undefined ? 'is required: a JSON object' : `must be a JSON object, got ${describe(value)}`);
    return value as Record<string, unknown>;
  }

  known(value: Record<string, unknown>, path: string, fields: readonly string[]): void {
    for (const key of Object.keys(value)) {
      if (!fields.includes(key)) {
        this.warn(`warning: ${this.at.file}: ${this.at.where}: field "${path}.${key}": unknown to this version of rollback-triggers, ignored (the fields here are ${fields.join(', ')})`);
      }
    }
  }

  string(o: Record<string, unknown>, path: string, key: string | number): string {
    const v = o[key];
    if (typeof v !== 'string') this.fail(fieldOf(path, key), v === undefined ? 'is required: a string' : `must be a string, got ${describe(v)}`);
    return v;
  }

  /** A non-empty string: a name, a path or an id. */
  text(o: Record<string, unknown>, path: string, key: string | number): string {
    const v = this.string(o, path, key);
    if (v.trim() === '') this.fail(fieldOf(path, key), 'must not be empty');
    return v;
  }

  boolean(o: Record<string, unknown>, path: string, key: string): boolean {
    const v = o[key];
    if (typeof v !== 'boolean') this.fail(fieldOf(path, key), v === undefined ? 'is required: true or false' : `must be true or false, got ${describe(v)}`);
    return v;
  }

  oneOf<T extends string>(o: Record<string, unknown>, path: string, key: string, values: readonly T[], what: string): T {
    const v = o[key];
    if (!values.includes(v as T)) {
      const allowed = values.map((x) => `"${x}"`).join(', ');
      this.fail(fieldOf(path, key), v === undefined ? `is required: ${what}, one of ${allowed}` : `must be ${what}, one of ${allowed}; got ${describe(v)}`);
    }
    return v as T;
  }

  array(o: Record<string, unknown>, path: string, key: string, what: string, minLength = 0): unknown[] {
    const v = o[key];
    if (!Array.isArray(v)) this.fail(fieldOf(path, key), v === undefined ? `is required: an array of ${what}` : `must be an array of ${what}, got ${describe(v)}`);
    if (v.length < minLength) this.fail(fieldOf(path, key), `must hold at least ${minLength} of ${what}, got an empty array`);
    return v;
  }

  number(o: Record<string, unknown>, path: string, key: string, r: NumberRule): number {
    const v = o[key];
    const ok =
      typeof v === 'number' &&
      Number.isFinite(v) &&
      (!r.integer || Number.isSafeInteger(v)) &&
      (r.min === undefined || v >= r.min) &&
      (r.max === undefined || v <= r.max) &&
      (r.above === undefined || v > r.above) &&
      (r.below === undefined || v < r.below);
    if (!ok) this.fail(fieldOf(path, key), v === undefined ? `is required: ${r.rule}` : `must be ${r.rule}, got ${describe(v)}`);
    return v as number;
  }

  /** A CloudWatch alarm period: 10, 20 or 30 s, or a multiple of 60 s. */
  period(o: Record<string, unknown>, path: string, key: string): number {
    const v = this.number(o, path, key, { integer: true, min: 1, rule: 'whole seconds: 10, 20, 30 or a multiple of 60 (CloudWatch alarm periods)' });
    if (!isValidPeriod(v)) this.fail(fieldOf(path, key), `must be 10, 20, 30 or a multiple of 60 seconds (CloudWatch alarm periods), got ${formatNumber(v)}`);
    return v;
  }

  /** A window alarm's window: one alarm period, at most the 7 days CloudWatch evaluates. */
  window(o: Record<string, unknown>, path: string, key: string): number {
    const v = this.period(o, path, key);
    if (v > MAX_EVALUATION_RANGE_SECONDS) this.fail(fieldOf(path, key), `must be at most ${MAX_EVALUATION_RANGE_SECONDS} seconds (7 days, the longest range CloudWatch evaluates), got ${formatNumber(v)}`);
    return v;
  }

  metricCount(o: Record<string, unknown>, path: string, key: string): number {
    return this.number(o, path, key, { integer: true, min: 1, max: MAX_METRICS_PER_MATH_ALARM, rule: `a whole number from 1 to ${MAX_METRICS_PER_MATH_ALARM} (metrics in one CloudWatch metric-math alarm)` });
  }

  /** `highResolution` says whether the period is under a minute; it prices the alarm. */
  highResolution(o: Record<string, unknown>, path: string, periodSeconds: number): void {
    const v = this.boolean(o, path, 'highResolution');
    if (v !== periodSeconds < 60) this.fail(fieldOf(path, 'highResolution'), `is ${v}, but a ${formatNumber(periodSeconds)} s period is ${periodSeconds < 60 ? '' : 'not '}high resolution; ${DERIVED}`);
  }
}

function fieldOf(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : `${path}.${key}`;
}

/** Equal up to float noise (the policy's numbers are rounded to 12 significant digits). */
function same(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  if (typeof value === 'object') return 'an object';
  // JSON reads a number too large for a double (1e999) as Infinity.
  if (typeof value === 'number') return Number.isFinite(value) ? formatNumber(value) : `${value} (a number too large to hold)`;
  return JSON.stringify(value);
}
