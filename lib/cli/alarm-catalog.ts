import { RollbackPolicy, formatNumber, formatSeconds } from '../core';
import type { SimulationMinute, SimulationResult } from '../core/simulator';

/**
 * What each window alarm of a simulation result is — which SLO, tier, window, path — read from the
 * policy, for the timeline and the chart. The result keys burn rates and thresholds by alarm id:
 * the SLOs' own (paging) alarms carry their policy ids (`<slo path>/<tier>/<long|short>`); every
 * other id is a rollback alarm on the deployment group, matched to the rollback trigger's alarms by
 * SLO name and scope.
 */
export interface AlarmInfo {
  readonly id: string;
  readonly path: 'rollback' | 'paging';
  readonly slo?: string;
  readonly tier?: string;
  /** paging: the tier's long or short window; rollback: the scope (version, blue, green, declared). */
  readonly role: string;
  readonly windowSeconds?: number;
  readonly threshold: number;
  readonly label: string;
}

export interface TierInfo {
  readonly slo: string;
  readonly tier: string;
  readonly severity: 'page' | 'ticket';
  readonly factor: number;
  readonly longAlarm: string;
  readonly shortAlarm: string;
  readonly longWindowSeconds: number;
  readonly shortWindowSeconds: number;
}

export interface AlarmCatalog {
  readonly alarms: readonly AlarmInfo[];
  readonly tiers: readonly TierInfo[];
}

export function catalogAlarms(policy: RollbackPolicy, result: SimulationResult): AlarmCatalog {
  const tiers: TierInfo[] = [];
  const paging = new Map<string, AlarmInfo>();
  for (const slo of policy.slos) {
    for (const t of slo.tiers) {
      tiers.push({
        slo: slo.name,
        tier: t.name,
        severity: t.severity,
        factor: t.factor,
        longAlarm: t.longAlarm,
        shortAlarm: t.shortAlarm,
        longWindowSeconds: t.longWindowSeconds,
        shortWindowSeconds: t.shortWindowSeconds,
      });
      for (const [role, id, seconds] of [
        ['long', t.longAlarm, t.longWindowSeconds],
        ['short', t.shortAlarm, t.shortWindowSeconds],
      ] as const) {
        if (!paging.has(id)) {
          paging.set(id, { id, path: 'paging', slo: slo.name, tier: t.name, role, windowSeconds: seconds, threshold: t.factor, label: `${slo.name} ${t.name} ${formatSeconds(seconds)}` });
        }
      }
    }
  }
  const rollbackAlarms = (policy.rollbackTriggers ?? []).flatMap((t) => t.alarms);
  const alarms: AlarmInfo[] = [];
  for (const [id, threshold] of Object.entries(result.thresholds)) {
    const known = paging.get(id);
    if (known) {
      alarms.push({ ...known, threshold });
      continue;
    }
    // Most specific match first: an id naming both the SLO and the scope.
    const lower = id.toLowerCase();
    const match =
      rollbackAlarms.find((a) => lower.includes(a.slo.toLowerCase()) && lower.includes(a.scope)) ??
      rollbackAlarms.find((a) => lower.includes(a.slo.toLowerCase())) ??
      (rollbackAlarms.length === 1 ? rollbackAlarms[0] : undefined);
    alarms.push({
      id,
      path: 'rollback',
      slo: match?.slo,
      tier: match?.tier.name,
      role: match?.scope ?? 'rollback',
      windowSeconds: match ? (match.windowSeconds ?? match.tier.longWindowSeconds) : undefined,
      threshold,
      label: match ? `${match.slo} ${scopeLabel(match.scope)} ${formatSeconds(match.windowSeconds ?? match.tier.longWindowSeconds)}` : id,
    });
  }
  return { alarms, tiers };
}

export function scopeLabel(scope: string): string {
  switch (scope) {
    case 'version':
      return 'new version';
    case 'declared':
      return 'declared SLI';
    default:
      return scope;
  }
}

/** First minute (from `fromMinute` on) at which every one of `ids` burns at or above its threshold. */
export function firstAtOrAbove(minutes: readonly SimulationMinute[], ids: readonly string[], threshold: number, fromMinute = -Infinity): SimulationMinute | undefined {
  return minutes.find((m) => m.minute >= fromMinute && ids.every((id) => (m.burnRates[id] ?? -1) >= threshold));
}

/** The highest burn rate of one alarm, and when. */
export function peakOf(minutes: readonly SimulationMinute[], id: string, fromMinute = -Infinity): { minute: number; value: number } | undefined {
  let best: { minute: number; value: number } | undefined;
  for (const m of minutes) {
    const v = m.burnRates[id];
    if (m.minute < fromMinute || v === null || v === undefined) continue;
    if (!best || v > best.value) best = { minute: m.minute, value: v };
  }
  return best;
}

/** A burn rate as the timeline and the chart print it: 3 significant digits, `×`. */
export function formatBurn(value: number | null | undefined): string {
  if (value === null || value === undefined) return 'no data';
  return `${formatNumber(Number(value.toPrecision(3)))}×`;
}
