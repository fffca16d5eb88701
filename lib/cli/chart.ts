import { formatNumber, formatSeconds } from '../core';
import type { DeploymentPhase, PathOutcome, SimulationResult } from '../core/simulator';
import { AlarmInfo, catalogAlarms, formatBurn, scopeLabel } from './alarm-catalog';
import type { InputSummary } from './simulate-command';
import { deploymentLine, minuteLabel, pathName, phaseName } from './timeline';

/**
 * The simulation chart as a standalone SVG document, written by hand (no charting library: the
 * chart is a few lines, areas and labels, and the CLI stays small):
 *
 * - one panel per SLO: the burn rate of every window alarm (log scale), the rollback alarms on the
 *   new version's own traffic drawn thick, each tier's threshold as a dashed line;
 * - a traffic panel: requests per minute of the old and the new version, stacked (blended in grey
 *   where the series has no per-version counts);
 * - the deployment phases as shaded bands across all panels;
 * - a marker per path decision (alarm path, evaluator, paging) and the release, with labels.
 *
 * Elements carry ids and classes (`#phases .phase`, `#markers .marker`, `.burn`, `.threshold`) so
 * the chart can be styled or checked.
 */

const WIDTH = 1200;
const LEFT = 78;
const RIGHT = 150;
const PLOT_WIDTH = WIDTH - LEFT - RIGHT;
const BURN_HEIGHT = 210;
const TRAFFIC_HEIGHT = 130;
const PANEL_GAP = 40;
const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
/** Above this many minutes, lines are drawn from buckets (burn: the bucket's peak; traffic: its mean). */
const MAX_POINTS = 1_500;

const TIER_COLORS: Record<string, string> = {
  'page-1h': '#1f77b4',
  'page-6h': '#2ca02c',
  'ticket-1d': '#9467bd',
  'ticket-3d': '#8c564b',
};
const EXTRA_COLORS = ['#17becf', '#bcbd22', '#e377c2', '#7f7f7f'];
const SCOPE_COLORS: Record<string, string> = { version: '#e6550d', declared: '#e6550d', blue: '#08519c', green: '#238b45' };
const PATH_COLORS: Record<PathOutcome['path'], string> = { alarm: '#d62728', evaluator: '#6a3d9a', paging: '#525252' };
const PHASE_FILL: Record<DeploymentPhase['name'], string | undefined> = {
  'before': undefined,
  'canary': '#fdae6b',
  'linear-step': '#fdae6b',
  'all-traffic': '#fee391',
  'bake': '#9ecae1',
  'after': '#d9d9d9',
};
const TRAFFIC = { blended: '#bdbdbd', stable: '#9ecae1', canary: '#fd8d3c' };
/**
 * Text over lines and bands gets a white outline: a stroked copy drawn underneath (resvg ignores
 * `paint-order`, so the outline is its own element, marked `aria-hidden`).
 */
function haloText(attributes: string, text: string): string {
  const outline = attributes.replace(/\s*fill="[^"]*"/, '');
  return `<text ${outline} fill="#ffffff" stroke="#ffffff" stroke-width="3.5" stroke-linejoin="round" aria-hidden="true">${text}</text><text ${attributes}>${text}</text>`;
}

interface Panel {
  readonly title: string;
  readonly alarms: readonly AlarmInfo[];
  readonly top: number;
}

export function renderChart(input: InputSummary, result: SimulationResult): string {
  const catalog = catalogAlarms(input.policy, result);
  const minutes = result.minutes;
  const firstMinute = Math.min(minutes[0]?.minute ?? input.firstMinute, input.firstMinute);
  const lastMinute = Math.max(minutes[minutes.length - 1]?.minute ?? input.lastMinute, input.lastMinute);
  const x0 = firstMinute;
  const x1 = lastMinute + 1;
  const x = (minute: number) => LEFT + ((Math.min(Math.max(minute, x0), x1) - x0) / (x1 - x0)) * PLOT_WIDTH;

  const decisions = result.paths.filter((p) => p.minute !== undefined);
  const markerRows = decisions.length + 1; // + the release
  const header = 58 + markerRows * 15;

  // Panels: one per SLO with alarms, then "other" for alarms the policy does not name.
  const panels: Panel[] = [];
  let top = header + 22;
  const sloNames = [...input.policy.slos.map((s) => s.name)];
  for (const name of sloNames) {
    const alarms = catalog.alarms.filter((a) => a.slo === name);
    if (alarms.length === 0) continue;
    const slo = input.policy.slos.find((s) => s.name === name)!;
    panels.push({ title: `${name}: ${formatNumber(slo.objectivePercent)} % ${slo.sli.kind} — burn rate (× error budget, log scale)`, alarms, top });
    top += BURN_HEIGHT + PANEL_GAP;
  }
  const orphans = catalog.alarms.filter((a) => a.slo === undefined || !sloNames.includes(a.slo));
  if (orphans.length > 0) {
    panels.push({ title: 'other alarms — burn rate (log scale)', alarms: orphans, top });
    top += BURN_HEIGHT + PANEL_GAP;
  }
  const trafficTop = top;
  const plotBottom = trafficTop + TRAFFIC_HEIGHT;
  const legendTop = plotBottom + 48;
  const legend = legendEntries(catalog.alarms, result);
  const legendRows = Math.ceil(legend.length / 3);
  const height = legendTop + legendRows * 18 + 16;
  const plotTop = panels[0]?.top ?? trafficTop;

  // Log scale shared by every burn panel so they compare at a glance.
  // One pass, no spread: a month of minutes holds over a million burn rates, more arguments than
  // a call can take (`Math.max(...values)` overflows the stack from about 17,500 minutes on).
  let maxBurn = 1;
  let burns = 0;
  let lowBurns = 0;
  for (const v of Object.values(result.thresholds)) if (Number.isFinite(v) && v > maxBurn) maxBurn = v;
  for (const m of minutes) {
    for (const v of Object.values(m.burnRates)) {
      if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) continue;
      burns++;
      if (v < 0.1) lowBurns++;
      if (v > maxBurn) maxBurn = v;
    }
  }
  // Down to 0.1×, or 0.01× when a healthy service burns below 0.1× (zero is drawn on the floor).
  const decadeLow = lowBurns > burns * 0.05 ? -2 : -1;
  const decadeHigh = Math.max(1, Math.ceil(Math.log10(maxBurn * 1.15)));

  const svg: string[] = [];
  svg.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="${FONT}" font-size="12">`,
    `<title>${esc(`rollback-triggers simulate ${input.file}`)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
  );

  // Title and outcome.
  svg.push(`<text x="${LEFT}" y="24" font-size="17" font-weight="bold">${esc(`${basename(input.file)}${input.description ? ` — ${input.description}` : ''}`)}</text>`);
  svg.push(
    `<text x="${LEFT}" y="44" font-size="12" fill="#333333">${esc(`${deploymentLine(input.deployment)}; released at minute ${minuteLabel(input.releaseMinute, input.startTime)}. ${outcomeText(result.outcome, input.startTime)}`)}</text>`,
  );

  // Phase bands, across every panel; labels inside the top of the first panel, left to right,
  // skipped where they would overlap the previous one.
  svg.push('<g id="phases">');
  const phaseLabels: string[] = [];
  let labelEnd = -Infinity;
  for (const phase of result.phases) {
    const fill = phase.name === 'after' ? (phase.canaryShare === 0 ? '#fcbba1' : '#c7e9c0') : PHASE_FILL[phase.name];
    const left = x(phase.fromMinute);
    const right = x(phase.toMinute);
    if (right <= left) continue;
    const label = phase.name === 'after' ? (phase.canaryShare === 0 ? 'after: rolled back (the series goes on as given)' : 'after: deployed') : `${phaseName(phase)}${phase.name === 'bake' ? '' : ` ${formatNumber(Number((phase.canaryShare * 100).toFixed(1)))} %`}`;
    svg.push(
      `<g class="phase phase-${phase.name}" data-from="${phase.fromMinute}" data-to="${phase.toMinute}" data-share="${phase.canaryShare}">`,
      `<title>${esc(`${label}: minutes ${phase.fromMinute}–${phase.toMinute}`)}</title>`,
    );
    if (fill) {
      svg.push(`<rect x="${r(left)}" y="${plotTop}" width="${r(right - left)}" height="${plotBottom - plotTop}" fill="${fill}" fill-opacity="0.35"/>`);
      const textWidth = label.length * 6.3;
      const centered = (left + right) / 2 - textWidth / 2;
      const start = right - left >= textWidth + 6 ? centered : left + 3;
      if (start >= labelEnd + 8 && start + textWidth <= LEFT + PLOT_WIDTH) {
        phaseLabels.push(haloText(`class="phase-label" x="${r(start)}" y="${plotTop + 14}" font-size="11" fill="#333333"`, esc(label)));
        labelEnd = start + textWidth;
      }
    }
    svg.push('</g>');
  }
  svg.push('</g>');

  // Decision markers and the release: lines behind the data, labels on top of everything.
  const markers: Array<{ kind: string; minute: number; color: string; label: string; strong: boolean }> = [
    { kind: 'release', minute: input.releaseMinute, color: '#000000', label: `release at minute ${minuteLabel(input.releaseMinute, input.startTime)}`, strong: false },
    ...decisions.map((p) => ({
      kind: p.path,
      minute: p.minute!,
      color: PATH_COLORS[p.path],
      label: `${pathName(p.path)}: ${p.verdict}${p.rollback ? ' → rollback' : ''} at minute ${minuteLabel(p.minute!, input.startTime)}${sameDecision(p, result.outcome) ? ' (outcome)' : ''}`,
      strong: sameDecision(p, result.outcome),
    })),
  ];
  const markerLines: string[] = [];
  const markerLabels: string[] = [];
  markers.forEach((m, row) => {
    const xx = r(x(m.minute));
    const labelY = 62 + row * 15;
    const anchor = xx > LEFT + PLOT_WIDTH * 0.7 ? 'end' : 'start';
    const dx = anchor === 'end' ? -5 : 5;
    const data = `class="marker marker-${m.kind}" data-minute="${m.minute}"`;
    markerLines.push(
      `<line ${data} x1="${xx}" x2="${xx}" y1="${labelY - 4}" y2="${plotBottom}" stroke="${m.color}" stroke-width="${m.strong ? 2.2 : 1.2}"${m.kind === 'release' || m.strong ? '' : ' stroke-dasharray="4 3"'}/>`,
    );
    markerLabels.push(
      `<g ${data}>`,
      `<path d="M${xx - 5},${labelY - 9} L${xx + 5},${labelY - 9} L${xx},${labelY - 3} Z" fill="${m.color}"/>`,
      haloText(`x="${xx + dx}" y="${labelY}" text-anchor="${anchor}" font-size="11" fill="${m.color}"${m.strong ? ' font-weight="bold"' : ''}`, esc(m.label)),
      '</g>',
    );
  });
  svg.push('<g id="marker-lines">', ...markerLines, '</g>');
  svg.push('<g id="phase-labels">', ...phaseLabels, '</g>');

  // Burn panels.
  const sampled = sample(result, x0, x1);
  for (const panel of panels) {
    const y = (v: number) => {
      const clamped = Math.min(Math.max(Math.log10(Math.max(v, 10 ** decadeLow)), decadeLow), decadeHigh);
      return panel.top + BURN_HEIGHT - ((clamped - decadeLow) / (decadeHigh - decadeLow)) * BURN_HEIGHT;
    };
    svg.push(`<g class="panel burn-panel">`);
    svg.push(haloText(`x="${LEFT}" y="${panel.top - 8}" font-size="12" font-weight="bold"`, esc(panel.title)));
    svg.push(`<rect x="${LEFT}" y="${panel.top}" width="${PLOT_WIDTH}" height="${BURN_HEIGHT}" fill="none" stroke="#999999"/>`);
    for (let d = decadeLow; d <= decadeHigh; d++) {
      const yy = r(y(10 ** d));
      svg.push(`<line x1="${LEFT}" x2="${LEFT + PLOT_WIDTH}" y1="${yy}" y2="${yy}" stroke="#e0e0e0"/>`);
      svg.push(`<text x="${LEFT - 6}" y="${yy + 4}" text-anchor="end" font-size="11" fill="#555555">${d === decadeLow ? `≤${formatNumber(10 ** d)}×` : `${formatNumber(10 ** d)}×`}</text>`);
    }
    // Thresholds: one dashed line per distinct factor, labelled with the tiers at that factor.
    const byFactor = new Map<number, AlarmInfo[]>();
    for (const a of panel.alarms) byFactor.set(a.threshold, [...(byFactor.get(a.threshold) ?? []), a]);
    svg.push('<g class="thresholds">');
    const labelYs: number[] = [];
    for (const [factor, alarms] of [...byFactor.entries()].sort((a, b) => b[0] - a[0])) {
      const tierNames = [...new Set(alarms.map((a) => a.tier).filter((t): t is string => t !== undefined))];
      const color = alarms.some((a) => a.path === 'paging') ? tierColor(alarms.find((a) => a.path === 'paging')!.tier) : SCOPE_COLORS.version;
      const yy = r(y(factor));
      let labelY = yy + 4;
      while (labelYs.some((other) => Math.abs(other - labelY) < 12)) labelY += 12;
      labelYs.push(labelY);
      svg.push(
        `<line class="threshold" data-threshold="${factor}" x1="${LEFT}" x2="${LEFT + PLOT_WIDTH}" y1="${yy}" y2="${yy}" stroke="${color}" stroke-width="1.2" stroke-dasharray="7 4"/>`,
        `<text x="${LEFT + PLOT_WIDTH + 6}" y="${labelY}" font-size="11" fill="${color}">${esc(`${formatBurn(factor)} ${tierNames.join(', ')}`)}</text>`,
      );
    }
    svg.push('</g>');
    // Lines: paging first (thin), rollback alarms on top (thick).
    const ordered = [...panel.alarms].sort((a, b) => (a.path === b.path ? 0 : a.path === 'paging' ? -1 : 1));
    for (const alarm of ordered) {
      const style = lineStyle(alarm);
      const d = linePath(sampled.minutes, (i) => sampled.burn(alarm.id, i), x, y);
      if (d === '') continue;
      svg.push(
        `<path class="burn burn-${alarm.path}" data-alarm="${esc(alarm.id)}" d="${d}" fill="none" stroke="${style.color}" stroke-width="${style.width}"` +
          `${style.dash ? ` stroke-dasharray="${style.dash}"` : ''} stroke-linejoin="round"><title>${esc(`${alarm.label} (${alarm.id})`)}</title></path>`,
      );
    }
    svg.push('</g>');
  }

  // Traffic panel.
  const trafficMax = niceMax(Math.max(1, ...sampled.minutes.map((_, i) => sampled.traffic('blended', i) ?? (sampled.traffic('stable', i) ?? 0) + (sampled.traffic('canary', i) ?? 0))));
  const ty = (v: number) => trafficTop + TRAFFIC_HEIGHT - (v / trafficMax) * TRAFFIC_HEIGHT;
  svg.push('<g class="panel traffic-panel">');
  svg.push(`<text x="${LEFT}" y="${trafficTop - 8}" font-size="12" font-weight="bold">requests per minute, by version</text>`);
  for (const tick of linearTicks(trafficMax)) {
    const yy = r(ty(tick));
    svg.push(`<line x1="${LEFT}" x2="${LEFT + PLOT_WIDTH}" y1="${yy}" y2="${yy}" stroke="#e0e0e0"/>`);
    svg.push(`<text x="${LEFT - 6}" y="${yy + 4}" text-anchor="end" font-size="11" fill="#555555">${compact(tick)}</text>`);
  }
  const blended = areaPath(sampled.minutes, () => 0, (i) => sampled.traffic('blended', i), x, ty);
  const stable = areaPath(sampled.minutes, () => 0, (i) => sampled.traffic('stable', i), x, ty);
  const canary = areaPath(sampled.minutes, (i) => sampled.traffic('stable', i) ?? 0, (i) => {
    const c = sampled.traffic('canary', i);
    return c === undefined ? undefined : c + (sampled.traffic('stable', i) ?? 0);
  }, x, ty);
  if (blended) svg.push(`<path class="traffic traffic-blended" d="${blended}" fill="${TRAFFIC.blended}" fill-opacity="0.8"/>`);
  if (stable) svg.push(`<path class="traffic traffic-stable" d="${stable}" fill="${TRAFFIC.stable}"/>`);
  if (canary) svg.push(`<path class="traffic traffic-canary" d="${canary}" fill="${TRAFFIC.canary}"/>`);
  svg.push(`<rect x="${LEFT}" y="${trafficTop}" width="${PLOT_WIDTH}" height="${TRAFFIC_HEIGHT}" fill="none" stroke="#999999"/>`);
  svg.push('</g>');

  // Time axis under the traffic panel, ticks on every panel.
  svg.push('<g class="axis">');
  for (const tick of timeTicks(x0, x1)) {
    const xx = r(x(tick));
    svg.push(`<line x1="${xx}" x2="${xx}" y1="${plotBottom}" y2="${plotBottom + 5}" stroke="#555555"/>`);
    svg.push(`<text x="${xx}" y="${plotBottom + 18}" text-anchor="middle" font-size="11" fill="#555555">${esc(timeLabel(tick, input.startTime))}</text>`);
  }
  svg.push(
    `<text x="${LEFT + PLOT_WIDTH / 2}" y="${plotBottom + 34}" text-anchor="middle" font-size="11" fill="#333333">${input.startTime ? 'time (UTC)' : 'minute of the series'}</text>`,
  );
  svg.push('</g>');

  svg.push('<g id="markers">', ...markerLabels, '</g>');

  // Legend.
  svg.push('<g id="legend">');
  legend.forEach((entry, i) => {
    const lx = LEFT + (i % 3) * 360;
    const ly = legendTop + Math.floor(i / 3) * 18;
    svg.push(
      entry.area
        ? `<rect x="${lx}" y="${ly - 8}" width="26" height="10" fill="${entry.color}"/>`
        : `<line x1="${lx}" x2="${lx + 26}" y1="${ly - 4}" y2="${ly - 4}" stroke="${entry.color}" stroke-width="${entry.width}"${entry.dash ? ` stroke-dasharray="${entry.dash}"` : ''}/>`,
      `<text x="${lx + 32}" y="${ly}" font-size="11">${esc(entry.label)}</text>`,
    );
  });
  svg.push('</g>');

  svg.push('</svg>');
  return svg.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------

interface LineStyle {
  readonly color: string;
  readonly width: number;
  readonly dash?: string;
}

function tierColor(tier: string | undefined): string {
  if (tier === undefined) return '#7f7f7f';
  if (TIER_COLORS[tier]) return TIER_COLORS[tier];
  let hash = 0;
  for (const ch of tier) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  return EXTRA_COLORS[hash % EXTRA_COLORS.length];
}

function lineStyle(alarm: AlarmInfo): LineStyle {
  if (alarm.path === 'rollback') return { color: SCOPE_COLORS[alarm.role] ?? SCOPE_COLORS.version, width: 2.6, dash: alarm.role === 'declared' ? '10 3' : undefined };
  return alarm.role === 'short' ? { color: tierColor(alarm.tier), width: 1, dash: '2 2' } : { color: tierColor(alarm.tier), width: 1.6 };
}

interface LegendEntry extends LineStyle {
  readonly label: string;
  readonly area?: boolean;
}

function legendEntries(alarms: readonly AlarmInfo[], result: SimulationResult): LegendEntry[] {
  const entries: LegendEntry[] = [];
  const seen = new Set<string>();
  const add = (entry: LegendEntry) => {
    if (seen.has(entry.label)) return;
    seen.add(entry.label);
    entries.push(entry);
  };
  for (const alarm of alarms.filter((a) => a.path === 'rollback')) {
    const noData = !result.minutes.some((m) => typeof m.burnRates[alarm.id] === 'number');
    add({ ...lineStyle(alarm), label: `rollback alarm: ${scopeLabel(alarm.role)}${alarm.windowSeconds ? `, ${formatSeconds(alarm.windowSeconds)}` : ''}${noData ? ' (no data)' : ''}` });
  }
  const paging = alarms.filter((a) => a.path === 'paging');
  for (const alarm of paging) add({ color: tierColor(alarm.tier), width: 2.5, label: `${alarm.tier} tier (paging, blended traffic)` });
  if (paging.length > 0) {
    add({ color: '#555555', width: 1.6, label: 'long window' });
    add({ color: '#555555', width: 1, dash: '2 2', label: 'short window' });
  }
  add({ color: '#555555', width: 1.2, dash: '7 4', label: 'threshold (burn-rate factor)' });
  const has = (f: 'stableRequests' | 'canaryRequests') => result.minutes.some((m) => m[f] !== undefined);
  if (has('stableRequests')) add({ color: TRAFFIC.stable, width: 0, area: true, label: 'requests, old version' });
  if (has('canaryRequests')) add({ color: TRAFFIC.canary, width: 0, area: true, label: 'requests, new version' });
  if (result.minutes.some((m) => (m.blendedRequests ?? 0) > 0 && m.stableRequests === undefined && m.canaryRequests === undefined)) {
    add({ color: TRAFFIC.blended, width: 0, area: true, label: 'requests, blended (no per-version data)' });
  }
  return entries;
}

interface Sampled {
  /** The minute each point stands for (a bucket's first minute when sampled). */
  readonly minutes: readonly number[];
  readonly burn: (id: string, i: number) => number | undefined;
  readonly traffic: (kind: 'blended' | 'stable' | 'canary', i: number) => number | undefined;
}

/** Every minute, or buckets of minutes for long runs: the peak burn rate, the mean traffic. */
function sample(result: SimulationResult, x0: number, x1: number): Sampled {
  const rows = result.minutes;
  const span = x1 - x0;
  const size = span > MAX_POINTS ? Math.ceil(span / MAX_POINTS) : 1;
  if (size === 1) {
    return {
      minutes: rows.map((m) => m.minute),
      burn: (id, i) => rows[i].burnRates[id] ?? undefined,
      traffic: (kind, i) => (kind === 'blended' ? rows[i].blendedRequests : kind === 'stable' ? rows[i].stableRequests : rows[i].canaryRequests),
    };
  }
  const buckets = new Map<number, (typeof rows)[number][]>();
  for (const m of rows) {
    const key = x0 + Math.floor((m.minute - x0) / size) * size;
    const list = buckets.get(key);
    if (list) list.push(m);
    else buckets.set(key, [m]);
  }
  const keys = [...buckets.keys()].sort((a, b) => a - b);
  const groups = keys.map((k) => buckets.get(k)!);
  const burnCache = new Map<string, Array<number | undefined>>();
  const peak = (id: string) => {
    let values = burnCache.get(id);
    if (!values) {
      values = groups.map((g) => {
        let best: number | undefined;
        for (const m of g) {
          const v = m.burnRates[id];
          if (typeof v === 'number' && (best === undefined || v > best)) best = v;
        }
        return best;
      });
      burnCache.set(id, values);
    }
    return values;
  };
  const mean = (g: (typeof rows)[number][], f: 'blendedRequests' | 'stableRequests' | 'canaryRequests') => {
    const values = g.map((m) => m[f]).filter((v): v is number => v !== undefined);
    return values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0) / values.length;
  };
  return {
    minutes: keys,
    burn: (id, i) => peak(id)[i],
    traffic: (kind, i) => mean(groups[i], kind === 'blended' ? 'blendedRequests' : kind === 'stable' ? 'stableRequests' : 'canaryRequests'),
  };
}

/** A polyline with gaps where the value is missing. */
function linePath(minutes: readonly number[], value: (i: number) => number | undefined, x: (m: number) => number, y: (v: number) => number): string {
  const parts: string[] = [];
  let pen = false;
  minutes.forEach((minute, i) => {
    const v = value(i);
    if (v === undefined) {
      pen = false;
      return;
    }
    parts.push(`${pen ? 'L' : 'M'}${r(x(minute))},${r(y(v))}`);
    pen = true;
  });
  return parts.join(' ');
}

/** Filled areas between `low` and `high`, one closed shape per run of minutes with a value; each minute is a step. */
function areaPath(minutes: readonly number[], low: (i: number) => number, high: (i: number) => number | undefined, x: (m: number) => number, y: (v: number) => number): string {
  const shapes: string[] = [];
  let run: number[] = [];
  const step = minutes.length > 1 ? minutes[1] - minutes[0] : 1;
  const flush = () => {
    if (run.length === 0) return;
    const top = run.flatMap((i) => [`${r(x(minutes[i]))},${r(y(high(i)!))}`, `${r(x(minutes[i] + step))},${r(y(high(i)!))}`]);
    const bottom = [...run].reverse().flatMap((i) => [`${r(x(minutes[i] + step))},${r(y(low(i)))}`, `${r(x(minutes[i]))},${r(y(low(i)))}`]);
    shapes.push(`M${top.join(' L')} L${bottom.join(' L')} Z`);
    run = [];
  };
  minutes.forEach((minute, i) => {
    const contiguous = run.length === 0 || minute - minutes[run[run.length - 1]] <= step;
    if (high(i) === undefined || !contiguous) flush();
    if (high(i) !== undefined) run.push(i);
  });
  flush();
  return shapes.join(' ');
}

function timeTicks(x0: number, x1: number): number[] {
  const span = x1 - x0;
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1_440, 2_880, 10_080, 20_160, 43_200];
  const step = steps.find((s) => span / s <= 14) ?? Math.ceil(span / 14);
  const ticks: number[] = [];
  for (let t = Math.ceil(x0 / step) * step; t <= x1; t += step) ticks.push(t);
  return ticks;
}

function timeLabel(minute: number, startTime: string | undefined): string {
  if (!startTime) return String(minute);
  const iso = new Date(Date.parse(startTime) + minute * 60_000).toISOString();
  return iso.slice(11, 16) === '00:00' ? iso.slice(5, 10) : iso.slice(11, 16);
}

function niceMax(value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * magnitude >= value * 1.05) return m * magnitude;
  return 10 * magnitude;
}

function linearTicks(max: number): number[] {
  const raw = max / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => max / s <= 5)!;
  const ticks: number[] = [];
  for (let t = 0; t <= max + 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function compact(n: number): string {
  if (n >= 1e6) return `${formatNumber(n / 1e6)}M`;
  if (n >= 1e4) return `${formatNumber(n / 1e3)}k`;
  return formatNumber(n);
}

function outcomeText(outcome: PathOutcome, startTime: string | undefined): string {
  const when = outcome.minute === undefined ? '' : ` at minute ${minuteLabel(outcome.minute, startTime)}`;
  if (outcome.rollback) return `Outcome: rolled back${when} by the ${pathName(outcome.path)} (${outcome.verdict}).`;
  if (outcome.verdict === 'pass') return `Outcome: deployed${when} (evaluator pass).`;
  return `Outcome: ${outcome.verdict}${when} (${pathName(outcome.path)}).`;
}

function sameDecision(path: PathOutcome, outcome: PathOutcome): boolean {
  return path.path === outcome.path && path.minute === outcome.minute;
}

function basename(file: string): string {
  return file.split(/[\\/]/).pop() ?? file;
}

/** Rounds a coordinate to 0.1 px: smaller files, no visible difference. */
function r(n: number): number {
  return Math.round(n * 10) / 10;
}

/** Escapes text and attribute values for XML. */
function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
