import { RollbackPolicy, formatNumber, formatSeconds } from '../core';
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

/** A burn-rate panel: its title, the window alarms it draws, and where its plot starts. */
interface Panel {
  readonly title: string;
  readonly alarms: readonly AlarmInfo[];
  readonly top: number;
}

/** The chart of one simulation, as an SVG document (see the top of this file). */
export function renderChart(input: InputSummary, result: SimulationResult): string {
  const alarms = catalogAlarms(input.policy, result).alarms;
  const markers = markerList(input, result);
  const legend = legendEntries(alarms, result);
  const layout = chartLayout(input, result, panelContents(input.policy, alarms), markers.length, Math.ceil(legend.length / 3));
  const sampled = sample(result, layout.x0, layout.x1);
  const scale = burnScale(result);
  const phases = phaseBands(result.phases, layout);
  const marks = drawMarkers(markers, layout);
  // SVG paints in document order: bands and marker lines behind the data, labels on top of everything.
  const svg = [
    ...chartHeader(input, result, layout.height),
    ...phases.bands,
    '<g id="marker-lines">',
    ...marks.lines,
    '</g>',
    '<g id="phase-labels">',
    ...phases.labels,
    '</g>',
    ...layout.panels.flatMap((panel) => burnPanel(panel, scale, sampled, layout.x)),
    ...trafficPanel(sampled, layout),
    ...timeAxis(input.startTime, layout),
    '<g id="markers">',
    ...marks.labels,
    '</g>',
    ...legendItems(legend, layout.legendTop),
    '</svg>',
  ];
  return svg.join('\n') + '\n';
}

// Layout and scales ---------------------------------------------------------------------------

/** Where everything goes, top to bottom: title and marker labels, burn panels, traffic panel, time axis, legend. */
interface Layout {
  /** The minutes drawn, from `x0` to `x1` (exclusive), and the x coordinate of a minute, clamped to them. */
  readonly x0: number;
  readonly x1: number;
  readonly x: (minute: number) => number;
  readonly panels: readonly Panel[];
  /** Top of the first panel: the phase bands start there. */
  readonly plotTop: number;
  readonly trafficTop: number;
  /** Bottom of the traffic panel: the time axis and the marker lines end there. */
  readonly plotBottom: number;
  readonly legendTop: number;
  readonly height: number;
}

/** Panels: one per SLO with alarms, then "other" for alarms the policy does not name. */
function panelContents(policy: RollbackPolicy, alarms: readonly AlarmInfo[]): Array<Omit<Panel, 'top'>> {
  const panels: Array<Omit<Panel, 'top'>> = [];
  const sloNames = [...policy.slos.map((s) => s.name)];
  for (const name of sloNames) {
    const own = alarms.filter((a) => a.slo === name);
    if (own.length === 0) continue;
    const slo = policy.slos.find((s) => s.name === name)!;
    panels.push({ title: `${name}: ${formatNumber(slo.objectivePercent)} % ${slo.sli.kind} — burn rate (× error budget, log scale)`, alarms: own });
  }
  const orphans = alarms.filter((a) => a.slo === undefined || !sloNames.includes(a.slo));
  if (orphans.length > 0) panels.push({ title: 'other alarms — burn rate (log scale)', alarms: orphans });
  return panels;
}

function chartLayout(input: InputSummary, result: SimulationResult, panels: ReadonlyArray<Omit<Panel, 'top'>>, markerRows: number, legendRows: number): Layout {
  const minutes = result.minutes;
  const x0 = Math.min(minutes[0]?.minute ?? input.firstMinute, input.firstMinute);
  const x1 = Math.max(minutes[minutes.length - 1]?.minute ?? input.lastMinute, input.lastMinute) + 1;
  const x = (minute: number) => LEFT + ((Math.min(Math.max(minute, x0), x1) - x0) / (x1 - x0)) * PLOT_WIDTH;
  // The title and outcome lines, then one row per marker label.
  const header = 58 + markerRows * 15;
  const placed = panels.map((panel, i) => ({ ...panel, top: header + 22 + i * (BURN_HEIGHT + PANEL_GAP) }));
  const trafficTop = header + 22 + placed.length * (BURN_HEIGHT + PANEL_GAP);
  const plotBottom = trafficTop + TRAFFIC_HEIGHT;
  const legendTop = plotBottom + 48;
  return { x0, x1, x, panels: placed, plotTop: placed[0]?.top ?? trafficTop, trafficTop, plotBottom, legendTop, height: legendTop + legendRows * 18 + 16 };
}

/** The decades of the burn-rate axis, as powers of ten. */
interface BurnScale {
  readonly low: number;
  readonly high: number;
}

/**
 * Log scale shared by every burn panel so they compare at a glance. One pass, no spread: a month
 * of minutes holds over a million burn rates, more arguments than a call can take
 * (`Math.max(...values)` overflows the stack from about 17,500 minutes on).
 */
function burnScale(result: SimulationResult): BurnScale {
  let maxBurn = 1;
  let burns = 0;
  let lowBurns = 0;
  for (const v of Object.values(result.thresholds)) if (Number.isFinite(v) && v > maxBurn) maxBurn = v;
  for (const m of result.minutes) {
    for (const v of Object.values(m.burnRates)) {
      if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) continue;
      burns++;
      if (v < 0.1) lowBurns++;
      if (v > maxBurn) maxBurn = v;
    }
  }
  // Down to 0.1×, or 0.01× when a healthy service burns below 0.1× (zero is drawn on the floor).
  return { low: lowBurns > burns * 0.05 ? -2 : -1, high: Math.max(1, Math.ceil(Math.log10(maxBurn * 1.15))) };
}

// Header and phases ---------------------------------------------------------------------------

/** The document's start: size, title, background, then the file name and the outcome. */
function chartHeader(input: InputSummary, result: SimulationResult, height: number): string[] {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="${FONT}" font-size="12">`,
    `<title>${esc(`rollback-triggers simulate ${input.file}`)}</title>`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="24" font-size="17" font-weight="bold">${esc(`${basename(input.file)}${input.description ? ` — ${input.description}` : ''}`)}</text>`,
    `<text x="${LEFT}" y="44" font-size="12" fill="#333333">${esc(`${deploymentLine(input.deployment)}; released at minute ${minuteLabel(input.releaseMinute, input.startTime)}. ${outcomeText(result.outcome, input.startTime)}`)}</text>`,
  ];
}

/**
 * Phase bands, across every panel; labels inside the top of the first panel, left to right,
 * skipped where they would overlap the previous one.
 */
function phaseBands(phases: readonly DeploymentPhase[], layout: Layout): { bands: string[]; labels: string[] } {
  const bands = ['<g id="phases">'];
  const labels: string[] = [];
  let labelEnd = -Infinity;
  for (const phase of phases) {
    const left = layout.x(phase.fromMinute);
    const right = layout.x(phase.toMinute);
    if (right <= left) continue;
    const fill = phaseFill(phase);
    const label = phaseLabel(phase);
    bands.push(
      `<g class="phase phase-${phase.name}" data-from="${phase.fromMinute}" data-to="${phase.toMinute}" data-share="${phase.canaryShare}">`,
      `<title>${esc(`${label}: minutes ${phase.fromMinute}–${phase.toMinute}`)}</title>`,
    );
    if (fill) {
      bands.push(`<rect x="${r(left)}" y="${layout.plotTop}" width="${r(right - left)}" height="${layout.plotBottom - layout.plotTop}" fill="${fill}" fill-opacity="0.35"/>`);
      const textWidth = label.length * 6.3;
      const centered = (left + right) / 2 - textWidth / 2;
      const start = right - left >= textWidth + 6 ? centered : left + 3;
      if (start >= labelEnd + 8 && start + textWidth <= LEFT + PLOT_WIDTH) {
        labels.push(haloText(`class="phase-label" x="${r(start)}" y="${layout.plotTop + 14}" font-size="11" fill="#333333"`, esc(label)));
        labelEnd = start + textWidth;
      }
    }
    bands.push('</g>');
  }
  bands.push('</g>');
  return { bands, labels };
}

/** The band's colour: "after" is red once rolled back, green once deployed; "before" has none. */
function phaseFill(phase: DeploymentPhase): string | undefined {
  return phase.name === 'after' ? (phase.canaryShare === 0 ? '#fcbba1' : '#c7e9c0') : PHASE_FILL[phase.name];
}

function phaseLabel(phase: DeploymentPhase): string {
  if (phase.name === 'after') return phase.canaryShare === 0 ? 'after: rolled back (the series goes on as given)' : 'after: deployed';
  return `${phaseName(phase)}${phase.name === 'bake' ? '' : ` ${formatNumber(Number((phase.canaryShare * 100).toFixed(1)))} %`}`;
}

// Markers -------------------------------------------------------------------------------------

/** A vertical marker with a labelled arrow head: the release or a path's decision. */
interface Marker {
  readonly kind: string;
  readonly minute: number;
  readonly color: string;
  readonly label: string;
  /** The decision that made the outcome: drawn thick and bold. */
  readonly strong: boolean;
}

/** The release, then every path that decided at a minute, in the result's order (one label row each). */
function markerList(input: InputSummary, result: SimulationResult): Marker[] {
  const decisions = result.paths.filter((p) => p.minute !== undefined);
  return [
    { kind: 'release', minute: input.releaseMinute, color: '#000000', label: `release at minute ${minuteLabel(input.releaseMinute, input.startTime)}`, strong: false },
    ...decisions.map((p) => ({
      kind: p.path,
      minute: p.minute!,
      color: PATH_COLORS[p.path],
      label: `${pathName(p.path)}: ${p.verdict}${p.rollback ? ' → rollback' : ''} at minute ${minuteLabel(p.minute!, input.startTime)}${sameDecision(p, result.outcome) ? ' (outcome)' : ''}`,
      strong: sameDecision(p, result.outcome),
    })),
  ];
}

/** Each marker's line (down to the time axis) and its label (arrow head and text), drawn apart. */
function drawMarkers(markers: readonly Marker[], layout: Layout): { lines: string[]; labels: string[] } {
  const lines: string[] = [];
  const labels: string[] = [];
  markers.forEach((m, row) => {
    const xx = r(layout.x(m.minute));
    const labelY = 62 + row * 15;
    const anchor = xx > LEFT + PLOT_WIDTH * 0.7 ? 'end' : 'start';
    const dx = anchor === 'end' ? -5 : 5;
    const data = `class="marker marker-${m.kind}" data-minute="${m.minute}"`;
    lines.push(
      `<line ${data} x1="${xx}" x2="${xx}" y1="${labelY - 4}" y2="${layout.plotBottom}" stroke="${m.color}" stroke-width="${m.strong ? 2.2 : 1.2}"${m.kind === 'release' || m.strong ? '' : ' stroke-dasharray="4 3"'}/>`,
    );
    labels.push(
      `<g ${data}>`,
      `<path d="M${xx - 5},${labelY - 9} L${xx + 5},${labelY - 9} L${xx},${labelY - 3} Z" fill="${m.color}"/>`,
      haloText(`x="${xx + dx}" y="${labelY}" text-anchor="${anchor}" font-size="11" fill="${m.color}"${m.strong ? ' font-weight="bold"' : ''}`, esc(m.label)),
      '</g>',
    );
  });
  return { lines, labels };
}

// Burn panels ---------------------------------------------------------------------------------

function burnPanel(panel: Panel, scale: BurnScale, sampled: Sampled, x: (minute: number) => number): string[] {
  const y = (v: number) => {
    const clamped = Math.min(Math.max(Math.log10(Math.max(v, 10 ** scale.low)), scale.low), scale.high);
    return panel.top + BURN_HEIGHT - ((clamped - scale.low) / (scale.high - scale.low)) * BURN_HEIGHT;
  };
  return [
    `<g class="panel burn-panel">`,
    haloText(`x="${LEFT}" y="${panel.top - 8}" font-size="12" font-weight="bold"`, esc(panel.title)),
    `<rect x="${LEFT}" y="${panel.top}" width="${PLOT_WIDTH}" height="${BURN_HEIGHT}" fill="none" stroke="#999999"/>`,
    ...decadeGrid(scale, y),
    ...thresholdLines(panel.alarms, y),
    ...burnLines(panel.alarms, sampled, x, y),
    '</g>',
  ];
}

/** A grid line and a label per decade; the lowest reads "≤" (lower values and zero sit on it). */
function decadeGrid(scale: BurnScale, y: (v: number) => number): string[] {
  const svg: string[] = [];
  for (let d = scale.low; d <= scale.high; d++) {
    const yy = r(y(10 ** d));
    svg.push(`<line x1="${LEFT}" x2="${LEFT + PLOT_WIDTH}" y1="${yy}" y2="${yy}" stroke="#e0e0e0"/>`);
    svg.push(`<text x="${LEFT - 6}" y="${yy + 4}" text-anchor="end" font-size="11" fill="#555555">${d === scale.low ? `≤${formatNumber(10 ** d)}×` : `${formatNumber(10 ** d)}×`}</text>`);
  }
  return svg;
}

/** Thresholds: one dashed line per distinct factor, labelled with the tiers at that factor. */
function thresholdLines(alarms: readonly AlarmInfo[], y: (v: number) => number): string[] {
  const byFactor = new Map<number, AlarmInfo[]>();
  for (const a of alarms) byFactor.set(a.threshold, [...(byFactor.get(a.threshold) ?? []), a]);
  const svg = ['<g class="thresholds">'];
  const labelYs: number[] = [];
  for (const [factor, atFactor] of [...byFactor.entries()].sort((a, b) => b[0] - a[0])) {
    const tierNames = [...new Set(atFactor.map((a) => a.tier).filter((t): t is string => t !== undefined))];
    const color = atFactor.some((a) => a.path === 'paging') ? tierColor(atFactor.find((a) => a.path === 'paging')!.tier) : SCOPE_COLORS.version;
    const yy = r(y(factor));
    // Labels of close factors move down until they no longer overlap.
    let labelY = yy + 4;
    while (labelYs.some((other) => Math.abs(other - labelY) < 12)) labelY += 12;
    labelYs.push(labelY);
    svg.push(
      `<line class="threshold" data-threshold="${factor}" x1="${LEFT}" x2="${LEFT + PLOT_WIDTH}" y1="${yy}" y2="${yy}" stroke="${color}" stroke-width="1.2" stroke-dasharray="7 4"/>`,
      `<text x="${LEFT + PLOT_WIDTH + 6}" y="${labelY}" font-size="11" fill="${color}">${esc(`${formatBurn(factor)} ${tierNames.join(', ')}`)}</text>`,
    );
  }
  svg.push('</g>');
  return svg;
}

/** Lines: paging first (thin), rollback alarms on top (thick). */
function burnLines(alarms: readonly AlarmInfo[], sampled: Sampled, x: (minute: number) => number, y: (v: number) => number): string[] {
  const svg: string[] = [];
  const ordered = [...alarms].sort((a, b) => (a.path === b.path ? 0 : a.path === 'paging' ? -1 : 1));
  for (const alarm of ordered) {
    const style = lineStyle(alarm);
    const d = linePath(sampled.minutes, (i) => sampled.burn(alarm.id, i), x, y);
    if (d === '') continue;
    svg.push(
      `<path class="burn burn-${alarm.path}" data-alarm="${esc(alarm.id)}" d="${d}" fill="none" stroke="${style.color}" stroke-width="${style.width}"` +
        `${style.dash ? ` stroke-dasharray="${style.dash}"` : ''} stroke-linejoin="round"><title>${esc(`${alarm.label} (${alarm.id})`)}</title></path>`,
    );
  }
  return svg;
}

// Traffic panel, time axis, legend ------------------------------------------------------------

function trafficPanel(sampled: Sampled, layout: Layout): string[] {
  const trafficMax = niceMax(Math.max(1, ...sampled.minutes.map((_, i) => sampled.traffic('blended', i) ?? (sampled.traffic('stable', i) ?? 0) + (sampled.traffic('canary', i) ?? 0))));
  const ty = (v: number) => layout.trafficTop + TRAFFIC_HEIGHT - (v / trafficMax) * TRAFFIC_HEIGHT;
  const svg = ['<g class="panel traffic-panel">', `<text x="${LEFT}" y="${layout.trafficTop - 8}" font-size="12" font-weight="bold">requests per minute, by version</text>`];
  for (const tick of linearTicks(trafficMax)) {
    const yy = r(ty(tick));
    svg.push(`<line x1="${LEFT}" x2="${LEFT + PLOT_WIDTH}" y1="${yy}" y2="${yy}" stroke="#e0e0e0"/>`);
    svg.push(`<text x="${LEFT - 6}" y="${yy + 4}" text-anchor="end" font-size="11" fill="#555555">${compact(tick)}</text>`);
  }
  svg.push(...trafficAreas(sampled, layout.x, ty));
  svg.push(`<rect x="${LEFT}" y="${layout.trafficTop}" width="${PLOT_WIDTH}" height="${TRAFFIC_HEIGHT}" fill="none" stroke="#999999"/>`);
  svg.push('</g>');
  return svg;
}

/** Requests per minute: blended where there are no per-version counts, else old and new version stacked. */
function trafficAreas(sampled: Sampled, x: (minute: number) => number, ty: (v: number) => number): string[] {
  const blended = areaPath(sampled.minutes, () => 0, (i) => sampled.traffic('blended', i), x, ty);
  const stable = areaPath(sampled.minutes, () => 0, (i) => sampled.traffic('stable', i), x, ty);
  const canary = areaPath(sampled.minutes, (i) => sampled.traffic('stable', i) ?? 0, (i) => {
    const c = sampled.traffic('canary', i);
    return c === undefined ? undefined : c + (sampled.traffic('stable', i) ?? 0);
  }, x, ty);
  const svg: string[] = [];
  if (blended) svg.push(`<path class="traffic traffic-blended" d="${blended}" fill="${TRAFFIC.blended}" fill-opacity="0.8"/>`);
  if (stable) svg.push(`<path class="traffic traffic-stable" d="${stable}" fill="${TRAFFIC.stable}"/>`);
  if (canary) svg.push(`<path class="traffic traffic-canary" d="${canary}" fill="${TRAFFIC.canary}"/>`);
  return svg;
}

/** Time axis under the traffic panel: minutes of the series, or UTC times when the series has timestamps. */
function timeAxis(startTime: string | undefined, layout: Layout): string[] {
  const svg = ['<g class="axis">'];
  for (const tick of timeTicks(layout.x0, layout.x1)) {
    const xx = r(layout.x(tick));
    svg.push(`<line x1="${xx}" x2="${xx}" y1="${layout.plotBottom}" y2="${layout.plotBottom + 5}" stroke="#555555"/>`);
    svg.push(`<text x="${xx}" y="${layout.plotBottom + 18}" text-anchor="middle" font-size="11" fill="#555555">${esc(timeLabel(tick, startTime))}</text>`);
  }
  svg.push(
    `<text x="${LEFT + PLOT_WIDTH / 2}" y="${layout.plotBottom + 34}" text-anchor="middle" font-size="11" fill="#333333">${startTime ? 'time (UTC)' : 'minute of the series'}</text>`,
  );
  svg.push('</g>');
  return svg;
}

/** The legend, three entries a row: a line sample (or a swatch for areas) and its label. */
function legendItems(entries: readonly LegendEntry[], top: number): string[] {
  const svg = ['<g id="legend">'];
  entries.forEach((entry, i) => {
    const lx = LEFT + (i % 3) * 360;
    const ly = top + Math.floor(i / 3) * 18;
    svg.push(
      entry.area
        ? `<rect x="${lx}" y="${ly - 8}" width="26" height="10" fill="${entry.color}"/>`
        : `<line x1="${lx}" x2="${lx + 26}" y1="${ly - 4}" y2="${ly - 4}" stroke="${entry.color}" stroke-width="${entry.width}"${entry.dash ? ` stroke-dasharray="${entry.dash}"` : ''}/>`,
      `<text x="${lx + 32}" y="${ly}" font-size="11">${esc(entry.label)}</text>`,
    );
  });
  svg.push('</g>');
  return svg;
}

// Styles, sampling, paths, ticks and text -----------------------------------------------------

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
