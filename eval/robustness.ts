import type { RollbackPolicy } from '../lib/core/policy';
import type { PathOutcome } from '../lib/core/simulator/types';
import { ClassScenario, ClassTarget, ClassTruth, DETECTION_SHARE, SCENARIO_CLASSES, describeShape, generateClassScenarios, truthOfScenario } from './classes';
import { Row, Simulate, evaluateScenario } from './evaluate';
import type { PolicyName } from './policies';
import { SCENARIO_SPECS, Scenario, Truth, generateScenarios } from './scenarios';

/**
 * `npm run eval -- --seeds N` (issue 8, item 4): every scenario class, and every fixed scenario of
 * eval/scenarios.ts, over seeds 1 … N, aggregated per class: detection time percentiles counted
 * from the regression's onset, the false-rollback, blind-pass and inconclusive rates, and whether
 * the class's target holds. eval/run.ts gates the sweep on safety (false rollbacks, verdicts on no data, replay errors); detection targets are reported.
 */

/** One release of one class (or fixed scenario) on one seed, as the aggregation reads it. */
export interface ClassRow {
  readonly className: string;
  readonly truth: ClassTruth;
  readonly seed: number;
  /** The deployment's outcome; `error` when simulate threw. */
  readonly verdict: PathOutcome['verdict'] | 'error';
  /** Whether CodeDeploy rolls back: a fail, or an inconclusive verdict that fails closed. */
  readonly rolledBack: boolean;
  /** Minute the regression starts, relative to the release (0 when it starts at the release or there is none). */
  readonly onsetMinute: number;
  /** Minutes from the RELEASE to the deciding path's decision (what the simulator reports). */
  readonly detectionMinutes?: number;
  /** Regression classes: whether this release met the class's target. */
  readonly withinTarget?: boolean;
  /** Minutes from the release until the workbook reference first pages on blended traffic. */
  readonly referenceMinutes?: number;
}

/** A caught regression: a fail verdict from the onset on. Minutes from the onset, else undefined. */
export function detectionFromOnset(row: ClassRow): number | undefined {
  if (row.verdict !== 'fail' || row.detectionMinutes === undefined || row.detectionMinutes < row.onsetMinute) return undefined;
  return row.detectionMinutes - row.onsetMinute;
}

/**
 * A rollback the truth does not call for: any rollback of a no-regression release (an inconclusive
 * verdict failing closed included), a fail verdict without data, a rollback of a regression
 * release decided before its onset (the new version was still healthy then).
 */
export function isFalseRollback(row: ClassRow): boolean {
  switch (row.truth) {
    case 'no-regression':
      return row.rolledBack;
    case 'no-data':
      return row.verdict === 'fail';
    case 'regression':
    case 'reported':
      return row.rolledBack && row.detectionMinutes !== undefined && row.detectionMinutes < row.onsetMinute;
  }
}

/** A regression the deployment let through: the release passed. */
export function isBlindPass(row: ClassRow): boolean {
  return (row.truth === 'regression' || row.truth === 'reported') && row.verdict === 'pass';
}

/**
 * Nearest-rank percentile: the smallest value with at least p % of the values at or below it
 * (sorted ascending, index ⌈p ÷ 100 × n⌉ − 1). `Infinity` stands for "never".
 */
export function percentile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** One class over the seeds. */
export interface ClassLine {
  readonly className: string;
  readonly truth: ClassTruth;
  readonly shape: string;
  readonly target: ClassTarget;
  readonly runs: number;
  /**
   * Detection minutes from the onset at the 50th and 95th percentile over ALL runs of a
   * regression class, a run that was not caught counting as never (`Infinity`): p95 = never
   * when more than 5 % were missed. Undefined for other truths.
   */
  readonly detectP50?: number;
  readonly detectP95?: number;
  /** Runs caught within the class's target. */
  readonly withinTarget: number;
  readonly blindPasses: number;
  readonly falseRollbacks: number;
  readonly inconclusive: number;
  /** Runs whose replay threw. */
  readonly errors: number;
  /** The workbook reference's median detection from the onset (regressions; `Infinity`: never). */
  readonly referenceP50?: number;
  /** Whether the target holds; undefined for reported classes. */
  readonly met?: boolean;
}

/** Aggregates the rows of ONE class. */
export function aggregateClass(rows: readonly ClassRow[], meta: { className: string; truth: ClassTruth; shape: string; target: ClassTarget }): ClassLine {
  const runs = rows.length;
  const regression = meta.truth === 'regression' || meta.truth === 'reported';
  const detections = rows.map((r) => detectionFromOnset(r) ?? Infinity);
  const reference = rows.map((r) => (r.referenceMinutes === undefined || r.referenceMinutes < r.onsetMinute ? Infinity : r.referenceMinutes - r.onsetMinute));
  const withinTarget = rows.filter((r) => r.withinTarget === true).length;
  const falseRollbacks = rows.filter(isFalseRollback).length;
  const inconclusive = rows.filter((r) => r.verdict === 'inconclusive').length;
  const errors = rows.filter((r) => r.verdict === 'error').length;
  let met: boolean | undefined;
  switch (meta.target.kind) {
    case 'detect':
    case 'gate':
      met = runs > 0 && withinTarget >= Math.ceil(DETECTION_SHARE * runs - 1e-9) && errors === 0;
      break;
    case 'no-false-rollback':
      met = runs > 0 && falseRollbacks === 0 && errors === 0;
      break;
    case 'inconclusive':
      met = runs > 0 && inconclusive === runs;
      break;
    case 'reported':
      met = undefined;
      break;
  }
  return {
    ...meta,
    runs,
    ...(regression ? { detectP50: percentile(detections, 50), detectP95: percentile(detections, 95), referenceP50: percentile(reference, 50) } : {}),
    withinTarget,
    blindPasses: rows.filter(isBlindPass).length,
    falseRollbacks,
    inconclusive,
    errors,
    met,
  };
}

/** Whether a release of a `detect` class was caught within the target's minutes of its onset; undefined for other targets. */
export function withinDetectTarget(row: ClassRow, target: ClassTarget): boolean | undefined {
  if (target.kind !== 'detect') return undefined;
  const d = detectionFromOnset(row);
  return d !== undefined && d <= target.withinMinutes;
}

/** A class release through `simulate`, scored by eval/evaluate.ts and then by the class's target. */
export function evaluateClassScenario(scenario: ClassScenario, simulate: Simulate): ClassRow {
  const row = evaluateScenario(asScenario(scenario), simulate);
  const base = classRowOf(row, scenario.className, scenario.truth, scenario.seed, scenario.onsetMinute);
  return { ...base, withinTarget: withinDetectTarget(base, scenario.target) };
}

function asScenario(s: ClassScenario): Scenario {
  return {
    name: s.className,
    truth: truthOfScenario(s.truth),
    covers: s.spec.covers,
    why: s.spec.why,
    policyName: s.policyName,
    perVersionData: s.perVersionData,
    input: s.input,
  };
}

const CLASS_TRUTH: Record<Truth, ClassTruth> = { regression: 'regression', healthy: 'no-regression', 'no-data': 'no-data', 'slow-regression': 'reported' };

function classRowOf(row: Row, className: string, truth: ClassTruth, seed: number, onsetMinute: number): ClassRow {
  return {
    className,
    truth,
    seed,
    verdict: row.verdict,
    rolledBack: row.rolledBack,
    onsetMinute,
    ...(row.detectionMinutes !== undefined ? { detectionMinutes: row.detectionMinutes } : {}),
    ...(row.reference.detectionMinutes !== undefined ? { referenceMinutes: row.reference.detectionMinutes } : {}),
  };
}

/** A fixed scenario of eval/scenarios.ts as a class row: its target is the single-seed gate's, seed by seed. */
export function fixedScenarioRow(row: Row, seed: number): ClassRow {
  const base = classRowOf(row, row.scenario, CLASS_TRUTH[row.truth], seed, 0);
  return row.truth === 'regression' ? { ...base, withinTarget: row.targetMet === true } : base;
}

/** The target of a fixed scenario in the per-class table. */
export function fixedScenarioTarget(truth: Truth): ClassTarget {
  switch (truth) {
    case 'regression':
      return { kind: 'gate' };
    case 'healthy':
      return { kind: 'no-false-rollback' };
    case 'no-data':
      return { kind: 'inconclusive' };
    case 'slow-regression':
      return { kind: 'reported' };
  }
}

export interface SweepOptions {
  /** Fixed scenarios of eval/scenarios.ts to include. @default all */
  readonly scenarios?: readonly string[];
  /** Classes to include. @default all */
  readonly classes?: readonly string[];
  readonly policies?: (name: PolicyName) => RollbackPolicy;
}

export interface SweepResult {
  /** The fixed scenarios, one line each. */
  readonly fixed: readonly ClassLine[];
  /** The scenario classes of issue 8. */
  readonly classes: readonly ClassLine[];
  readonly replays: number;
}

/** Every fixed scenario and class over `seeds`, aggregated per class. */
export function sweepClasses(seeds: readonly number[], simulate: Simulate, options: SweepOptions = {}): SweepResult {
  const fixedRows = new Map<string, ClassRow[]>();
  const classRows = new Map<string, ClassRow[]>();
  const push = (m: Map<string, ClassRow[]>, row: ClassRow) => {
    const rows = m.get(row.className) ?? [];
    rows.push(row);
    m.set(row.className, rows);
  };
  let replays = 0;
  const fixedSpecs = SCENARIO_SPECS.filter((s) => !options.scenarios || options.scenarios.includes(s.name));
  const classes = SCENARIO_CLASSES.filter((c) => !options.classes || options.classes.includes(c.name));
  for (const seed of seeds) {
    if (fixedSpecs.length > 0) {
      for (const s of generateScenarios({ seed, names: fixedSpecs.map((f) => f.name), policies: options.policies })) {
        push(fixedRows, fixedScenarioRow(evaluateScenario(s, simulate), seed));
        replays++;
      }
    }
    if (classes.length > 0) {
      for (const c of generateClassScenarios(seed, { names: classes.map((c) => c.name), policies: options.policies })) {
        push(classRows, evaluateClassScenario(c, simulate));
        replays++;
      }
    }
  }
  return {
    fixed: fixedSpecs.map((s) =>
      aggregateClass(fixedRows.get(s.name) ?? [], { className: s.name, truth: CLASS_TRUTH[s.truth], shape: describeShape(s.deployment), target: fixedScenarioTarget(s.truth) }),
    ),
    classes: classes.map((c) => aggregateClass(classRows.get(c.name) ?? [], { className: c.name, truth: c.truth, shape: describeShape(c.deployment), target: c.target })),
    replays,
  };
}

const dash = '—';

function minutes(v: number | undefined): string {
  if (v === undefined) return dash;
  return v === Infinity ? 'never' : `${Number(v.toFixed(2))}`;
}

function targetText(t: ClassTarget): string {
  switch (t.kind) {
    case 'detect':
      return `caught ≤ ${t.withinMinutes} min from onset in ≥ ${DETECTION_SHARE * 100} %`;
    case 'gate':
      return 'single-seed gate holds in ≥ 99 %';
    case 'no-false-rollback':
      return '0 false rollbacks';
    case 'inconclusive':
      return 'inconclusive in 100 %';
    case 'reported':
      return 'reported, not scored';
  }
}

const count = (n: number, runs: number) => `${n}/${runs}`;

/** The per-class table, as plain text. */
export function formatClassTable(lines: readonly ClassLine[]): string {
  const header = ['class', 'truth', 'deployment', 'detect p50 / p95 (min from onset)', 'within target', 'blind pass', 'false rollback', 'inconclusive', 'workbook p50', 'target', 'met'];
  const body = lines.map((l) => {
    const regression = l.truth === 'regression' || l.truth === 'reported';
    return [
      l.className,
      l.truth,
      l.shape,
      regression ? `${minutes(l.detectP50)} / ${minutes(l.detectP95)}` : dash,
      l.target.kind === 'detect' || l.target.kind === 'gate' ? count(l.withinTarget, l.runs) : dash,
      regression ? count(l.blindPasses, l.runs) : dash,
      count(l.falseRollbacks, l.runs),
      count(l.inconclusive, l.runs),
      regression ? minutes(l.referenceP50) : dash,
      targetText(l.target) + (l.errors > 0 ? ` (${l.errors} replays threw)` : ''),
      l.met === undefined ? 'n/a' : l.met ? 'met' : 'NOT MET',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

/** The class list under the table (the classes of `lines`): truth, target and what is drawn. */
export function formatClassNotes(lines: readonly ClassLine[]): string {
  return SCENARIO_CLASSES.filter((c) => lines.some((l) => l.className === c.name)).map((c) => {
    const why = c.target.kind === 'detect' ? ` [target: ${c.target.why}]` : '';
    return `  ${c.name}: ${c.truth} — ${c.why}${why}`;
  }).join('\n');
}
