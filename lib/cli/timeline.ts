import { formatNumber, formatSeconds } from '../core';
import type { DeploymentPhase, DeploymentShape, GuardWindowOutcome, PathOutcome, SimulationResult } from '../core/simulator';
import { catalogAlarms, firstAtOrAbove, formatBurn, peakOf, scopeLabel } from './alarm-catalog';
import type { InputSummary } from './simulate-command';

/**
 * The text timeline of `rollback-triggers simulate`: what was replayed, the deployment's phases,
 * the outcome, each path's decision with its reasons, and when each alarm and tier reached its
 * threshold.
 */
export function renderTimeline(input: InputSummary, result: SimulationResult): string {
  const lines: string[] = [];
  const at = (minute: number) => minuteLabel(minute, input.startTime);
  lines.push(`Simulation of ${input.file}${input.description ? ` — ${input.description}` : ''}`);
  lines.push('');
  const perVersion =
    input.canaryEntries + input.stableEntries === 0 ? 'no per-version data' : `per-version data in ${input.canaryEntries} (new) and ${input.stableEntries} (old) entries`;
  lines.push(
    `  Series      ${input.entries} entries, minutes ${input.firstMinute}–${input.lastMinute}` +
      `${input.missingMinutes > 0 ? ` (${input.missingMinutes} without data)` : ''}; ${perVersion}` +
      `${input.startTime ? `; minute 0 is ${input.startTime}` : ''}`,
  );
  lines.push(`  Policy      ${policyLine(input)}`);
  lines.push(`  Deployment  ${deploymentLine(input.deployment)}, released at minute ${at(input.releaseMinute)}`);
  const settings = result.evaluatorSettings;
  lines.push(
    `  Delays      alarms: ${input.ingestionDelayMinutes} min ingestion delay` +
      (settings
        ? `; evaluator: ${settings.metricDelaySeconds / 60} min metric delay, a read every ${formatNumber(settings.tickSeconds)} s, ` +
          `inconclusive → ${settings.inconclusiveAction}${settings.compareWithBaseline ? ', compares with the old version' : ''}`
        : ''),
  );

  lines.push('', 'Phases');
  const ranges = result.phases.map((phase) => `${at(phase.fromMinute)}–${at(phase.toMinute)}`);
  const width = Math.max(14, ...ranges.map((r) => r.length));
  result.phases.forEach((phase, i) => lines.push(`  ${phaseName(phase).padEnd(12)} minutes ${ranges[i].padEnd(width)} ${shareLabel(phase)}`));

  lines.push('', `Outcome: ${outcomeHeadline(result.outcome, at)}`);
  for (const reason of result.outcome.reasons) lines.push(`  - ${reason}`);
  if (result.guardWindow) {
    lines.push('', `Guard window: ${guardHeadline(result.guardWindow, at)}`);
    for (const reason of result.guardWindow.reasons) lines.push(`  - ${reason}`);
  }

  lines.push('', 'Paths');
  for (const path of result.paths) {
    lines.push(`  ${pathName(path.path).padEnd(10)} ${pathHeadline(path, at)}`);
    for (const reason of path.reasons) lines.push(`  ${' '.repeat(10)} - ${reason}`);
  }

  const catalog = catalogAlarms(input.policy, result);
  const rollback = catalog.alarms.filter((a) => a.path === 'rollback');
  if (rollback.length > 0) {
    lines.push('', "Rollback alarms (on the deployment group; first minute at or above the threshold since the release, peak)");
    for (const alarm of rollback) {
      const first = firstAtOrAbove(result.minutes, [alarm.id], alarm.threshold, input.releaseMinute);
      const peak = peakOf(result.minutes, alarm.id, input.releaseMinute);
      const when = first ? `minute ${at(first.minute)} (${formatBurn(first.burnRates[alarm.id])})` : 'never';
      lines.push(`  ${alarm.label.padEnd(34)} ≥ ${formatBurn(alarm.threshold).padEnd(7)} ${when.padEnd(28)}  peak ${peak ? `${formatBurn(peak.value)} at minute ${at(peak.minute)}` : 'no data'}`);
    }
  }
  if (catalog.tiers.length > 0) {
    lines.push('', 'Paging tiers (blended traffic; first minute both windows are at or above the threshold, peak of the long window)');
    for (const tier of catalog.tiers) {
      const first = firstAtOrAbove(result.minutes, [tier.longAlarm, tier.shortAlarm], tier.factor);
      const peak = peakOf(result.minutes, tier.longAlarm);
      const when = first
        ? `minute ${at(first.minute)}${first.minute < input.releaseMinute ? ' (before the release)' : ''} (${formatBurn(first.burnRates[tier.longAlarm])} / ${formatBurn(first.burnRates[tier.shortAlarm])})`
        : 'never';
      // A series starts without history: CloudWatch would have had days of it in a long window.
      const history = first ? first.minute - input.firstMinute + 1 : undefined;
      const note = history !== undefined && history * 60 < tier.longWindowSeconds ? `  (only ${history} min of history in its ${formatSeconds(tier.longWindowSeconds)} window)` : '';
      lines.push(`  ${`${tier.slo} ${tier.tier}`.padEnd(34)} ≥ ${formatBurn(tier.factor).padEnd(7)} ${when.padEnd(28)}  peak ${peak ? `${formatBurn(peak.value)} at minute ${at(peak.minute)}` : 'no data'}${note}`);
    }
  }
  return lines.join('\n');
}

function policyLine(input: InputSummary): string {
  const slos = input.policy.slos.map((s) => `${s.name} ${formatNumber(s.objectivePercent)} % (${s.sli.kind})`).join(', ');
  const source = input.policySource;
  const from =
    source.kind === 'assembly'
      ? `stack ${source.stack} of ${source.path}`
      : source.kind === 'policy-file'
        ? `inline, from ${source.path}`
        : source.kind === 'series-file'
          ? 'inline, from the series file'
          : 'default (no slos in the file)';
  const trigger = input.rollbackTrigger
    ? input.policy.rollbackTriggers?.find((t) => t.path === input.rollbackTrigger)
    : undefined;
  const alarms = trigger ? `; rollback alarms on ${[...new Set(trigger.alarms.map((a) => scopeLabel(a.scope)))].join(', ')} traffic` : '; no rollback trigger';
  return `${from}: ${slos}${alarms}`;
}

export function deploymentLine(d: DeploymentShape): string {
  const bake = `bake ${formatNumber(d.bakeMinutes)} min`;
  switch (d.kind) {
    case 'all-at-once':
      return `all at once, ${bake}`;
    case 'canary':
      return `canary ${d.percent} % for ${d.intervalMinutes} min, then all traffic, ${bake}`;
    default:
      return `linear, ${d.percent} % more every ${d.intervalMinutes} min, ${bake}`;
  }
}

export function phaseName(phase: DeploymentPhase): string {
  return phase.name === 'linear-step' ? 'linear step' : phase.name === 'all-traffic' ? 'all traffic' : phase.name;
}

function shareLabel(phase: DeploymentPhase): string {
  const percent = `${formatNumber(Number((phase.canaryShare * 100).toFixed(1)))} % on the new version`;
  if (phase.name === 'after') return `${percent}${phase.canaryShare === 0 ? ' (rolled back)' : ' (deployed)'}`;
  return percent;
}

export function pathName(path: PathOutcome['path']): string {
  return path === 'alarm' ? 'alarm path' : path;
}

function outcomeHeadline(outcome: PathOutcome, at: (m: number) => string): string {
  const action = outcome.rollback === true ? 'ROLLED BACK' : outcome.verdict === 'pass' ? 'DEPLOYED' : outcome.verdict === 'none' ? 'UNDECIDED' : outcome.verdict.toUpperCase();
  const when = outcome.minute === undefined ? '' : ` at minute ${at(outcome.minute)}${outcome.detectionMinutes !== undefined ? ` (${formatNumber(Number(outcome.detectionMinutes.toFixed(2)))} min after the release)` : ''}`;
  return `${action}${when} — decided by the ${pathName(outcome.path)} (${outcome.verdict}${outcome.status ? `, reported ${outcome.status}` : ''})${outcome.source ? `, ${outcome.source}` : ''}`;
}

function guardHeadline(g: GuardWindowOutcome, at: (m: number) => string): string {
  const span = `${formatSeconds(g.durationSeconds)} from minute ${at(g.startMinute)}`;
  switch (g.outcome) {
    case 'breach':
      return `BREACH at minute ${at(g.breachMinute!)} (${span}) → ${g.wouldRollback ? 'would have rolled back (shadow mode: audit only)' : 'rollback deployment to the known-good version'}`;
    case 'held':
      return `HELD (${span}, minutes ${at(g.startMinute)}–${at(g.lastJudgedMinute)} judged) — no breach`;
    case 'inconclusive':
      return `INCONCLUSIVE at minute ${at(g.endMinute)} (${span}) — too little traffic to judge, nothing done`;
    default:
      return `SERIES ENDED (${span}) — no breach in the minutes the series holds, but it ends before the window's last judged minute (${at(g.lastJudgedMinute)}): not known to hold`;
  }
}

function pathHeadline(path: PathOutcome, at: (m: number) => string): string {
  if (path.verdict === 'none' && path.minute === undefined) return 'no decision in the series';
  const parts = [path.verdict + (path.rollback ? ' → rollback' : '')];
  if (path.minute !== undefined) {
    parts.push(`minute ${at(path.minute)}${path.detectionMinutes !== undefined ? ` (+${formatNumber(Number(path.detectionMinutes.toFixed(2)))} min)` : ''}`);
  }
  if (path.status) parts.push(`reported ${path.status}`);
  if (path.source) parts.push(path.source);
  return parts.join('  ');
}

/** `31`, or `31 (10:31Z)` when the series has timestamps. */
export function minuteLabel(minute: number, startTime?: string): string {
  const m = Number.isInteger(minute) ? String(minute) : formatNumber(Number(minute.toFixed(2)));
  if (!startTime) return m;
  const t = new Date(Date.parse(startTime) + minute * 60_000).toISOString();
  return `${m} (${t.slice(11, 16)}Z)`;
}
