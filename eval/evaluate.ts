import type { PathOutcome, SimulationInput, SimulationResult } from '../lib/core/simulator/types';
import { ReferenceResult, referenceDetection, referenceSlosOf } from './reference';
import type { Scenario, Truth } from './scenarios';

/**
 * Scores every scenario against the issue's targets ("Measured quality: npm run eval"):
 * - every real regression caught (a `fail` verdict) no later than the workbook reference on the
 *   same data, and within {@link PER_VERSION_DEADLINE_MINUTES} minutes of post-release data when
 *   per-version data exists (or the scenario's own `deadlineMinutes`, where it says why 3 minutes
 *   of counts cannot show the burn);
 * - zero false rollbacks;
 * - a distinct `inconclusive` verdict when there is no data.
 */

export const PER_VERSION_DEADLINE_MINUTES = 3;

export type Simulate = (input: SimulationInput) => SimulationResult;

export interface Row {
  readonly scenario: string;
  readonly truth: Truth;
  readonly perVersionData: boolean;
  /** Minutes from the release within which a regression with per-version data must be caught. */
  readonly deadlineMinutes: number;
  /** Our verdict (the deployment's outcome); `error` when simulate threw. */
  readonly verdict: PathOutcome['verdict'] | 'error';
  /** Whether CodeDeploy would roll back: a fail, or an inconclusive verdict with the fail-closed action. */
  readonly rolledBack: boolean;
  readonly detectionMinutes?: number;
  /** Which path decided, and the alarm, SLO or check behind it. */
  readonly decidedBy?: string;
  readonly reference: ReferenceResult;
  readonly falseRollback: boolean;
  /** `undefined` for scenarios that are reported, not scored. */
  readonly targetMet?: boolean;
  /** Why a target was missed, with the numbers. */
  readonly misses: readonly string[];
  /** The first reason of the deciding path, for the notes. */
  readonly reason?: string;
  /** When the library's own blended paging alarms (emulated) first fire: a cross-check of the reference. */
  readonly pagingDetectionMinutes?: number;
}

/** Runs one scenario through `simulate` and scores it. */
export function evaluateScenario(scenario: Scenario, simulate: Simulate): Row {
  const input = scenario.input;
  const reference = referenceDetection(input.series, input.releaseMinute, referenceSlosOf(input.policy));
  let outcome: PathOutcome;
  let paging: PathOutcome | undefined;
  try {
    const result = simulate(input);
    outcome = result.outcome;
    paging = result.paths.find((p) => p.path === 'paging');
  } catch (e) {
    return {
      scenario: scenario.name,
      truth: scenario.truth,
      perVersionData: scenario.perVersionData,
      deadlineMinutes: scenario.deadlineMinutes ?? PER_VERSION_DEADLINE_MINUTES,
      verdict: 'error',
      rolledBack: false,
      reference,
      falseRollback: false,
      targetMet: scenario.truth === 'slow-regression' ? undefined : false,
      misses: [`simulate threw: ${(e as Error).message}`],
    };
  }
  const inconclusiveAction = input.evaluator?.inconclusiveAction ?? input.policy.rollbackTriggers?.[0]?.inconclusiveAction ?? 'fail';
  const rolledBack = outcome.rollback ?? (outcome.verdict === 'fail' || (outcome.verdict === 'inconclusive' && inconclusiveAction === 'fail'));
  const detection = outcome.detectionMinutes;
  const misses: string[] = [];
  let falseRollback = false;
  switch (scenario.truth) {
    case 'regression':
      if (outcome.verdict !== 'fail') {
        misses.push(`regression not caught: verdict ${outcome.verdict}`);
      } else if (detection === undefined) {
        misses.push('fail verdict without a detection time');
      } else {
        if (reference.detectionMinutes !== undefined && detection > reference.detectionMinutes) {
          misses.push(`caught after ${detection} min, the reference after ${reference.detectionMinutes} min`);
        }
        const deadline = scenario.deadlineMinutes ?? PER_VERSION_DEADLINE_MINUTES;
        if (scenario.perVersionData && detection > deadline) {
          misses.push(`caught after ${detection} min with per-version data (target ≤ ${deadline} min)`);
        }
      }
      break;
    case 'healthy':
      falseRollback = rolledBack;
      if (outcome.verdict !== 'pass') misses.push(`healthy release ended ${outcome.verdict}${rolledBack ? ' (rolled back)' : ''}`);
      break;
    case 'no-data':
      falseRollback = outcome.verdict === 'fail';
      if (outcome.verdict !== 'inconclusive') misses.push(`no data, but the verdict is ${outcome.verdict} (target: inconclusive)`);
      break;
    case 'slow-regression':
      break;
  }
  return {
    scenario: scenario.name,
    truth: scenario.truth,
    perVersionData: scenario.perVersionData,
    deadlineMinutes: scenario.deadlineMinutes ?? PER_VERSION_DEADLINE_MINUTES,
    verdict: outcome.verdict,
    rolledBack,
    detectionMinutes: detection,
    decidedBy: outcome.verdict === 'none' ? undefined : [outcome.path, outcome.source].filter((x) => x !== undefined && x !== '').join(': '),
    reference,
    falseRollback,
    targetMet: scenario.truth === 'slow-regression' ? undefined : misses.length === 0,
    misses,
    reason: outcome.reasons[0],
    pagingDetectionMinutes: paging?.verdict === 'fail' ? paging.detectionMinutes : undefined,
  };
}

/**
 * Whether the library's blended paging alarms (through the emulator) fire when the independent
 * reference does: the same minute, both already firing at the release, or neither.
 */
export function pagingAgreesWithReference(row: Row): boolean {
  const ref = row.reference;
  const paging = row.pagingDetectionMinutes;
  if (ref.firingAtRelease && paging !== undefined && paging <= 0) return true;
  return paging === ref.detectionMinutes;
}

export interface Summary {
  readonly regressions: number;
  readonly caught: number;
  readonly noLaterThanReference: number;
  readonly perVersionRegressions: number;
  readonly withinDeadline: number;
  readonly falseRollbacks: number;
  readonly noData: number;
  readonly inconclusive: number;
  readonly missed: readonly string[];
  readonly targetsMet: boolean;
}

export function summarize(rows: readonly Row[]): Summary {
  const regressions = rows.filter((r) => r.truth === 'regression');
  const caught = regressions.filter((r) => r.verdict === 'fail' && r.detectionMinutes !== undefined);
  const noLater = caught.filter((r) => r.reference.detectionMinutes === undefined || r.detectionMinutes! <= r.reference.detectionMinutes);
  const perVersion = regressions.filter((r) => r.perVersionData);
  const within = perVersion.filter((r) => r.verdict === 'fail' && r.detectionMinutes !== undefined && r.detectionMinutes <= r.deadlineMinutes);
  const noData = rows.filter((r) => r.truth === 'no-data');
  const missed = rows.filter((r) => r.targetMet === false).map((r) => r.scenario);
  return {
    regressions: regressions.length,
    caught: caught.length,
    noLaterThanReference: noLater.length,
    perVersionRegressions: perVersion.length,
    withinDeadline: within.length,
    falseRollbacks: rows.filter((r) => r.falseRollback).length,
    noData: noData.length,
    inconclusive: noData.filter((r) => r.verdict === 'inconclusive').length,
    missed,
    targetsMet: missed.length === 0,
  };
}

const dash = '—';

function referenceCell(r: ReferenceResult): string {
  if (r.detectionMinutes === undefined) return r.firingAtRelease ? 'fired before release' : 'never';
  return `${r.detectionMinutes} min (${r.tier}${r.firingAtRelease ? ', already firing at release' : ''})`;
}

/** The quality table, as plain text. */
export function formatTable(rows: readonly Row[]): string {
  const header = ['scenario', 'truth', 'verdict', 'detect', 'decided by', 'reference (blended)', 'false rollback', 'target met'];
  const body = rows.map((r) => [
    r.scenario,
    r.truth,
    r.verdict === 'inconclusive' && r.rolledBack ? 'inconclusive (fail-closed)' : r.verdict,
    r.detectionMinutes === undefined ? dash : `${r.detectionMinutes} min`,
    r.decidedBy ?? dash,
    referenceCell(r.reference),
    r.falseRollback ? 'YES' : 'no',
    r.targetMet === undefined ? 'n/a (not scored)' : r.targetMet ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

export function formatSummary(s: Summary): string {
  return (
    `regressions caught ${s.caught}/${s.regressions}, no later than the reference ${s.noLaterThanReference}/${s.regressions}, ` +
    `within target (${PER_VERSION_DEADLINE_MINUTES} min unless a scenario says otherwise) with per-version data ${s.withinDeadline}/${s.perVersionRegressions}; ` +
    `false rollbacks ${s.falseRollbacks}; no data → inconclusive ${s.inconclusive}/${s.noData}; ` +
    `targets ${s.targetsMet ? 'MET' : `MISSED (${s.missed.join(', ')})`}`
  );
}

/** Notes under the table: every miss with its numbers and the deciding reason, then the paging cross-check. */
export function formatNotes(rows: readonly Row[]): string {
  const lines: string[] = [];
  for (const r of rows) {
    for (const m of r.misses) lines.push(`✗ ${r.scenario}: ${m}${r.reason ? ` — ${r.reason}` : ''}`);
  }
  const simulated = rows.filter((r) => r.verdict !== 'error');
  const differ = simulated.filter((r) => !pagingAgreesWithReference(r));
  lines.push(
    `cross-check: the library's blended paging alarms (emulated) fire with the reference in ${simulated.length - differ.length}/${simulated.length} scenarios` +
      (differ.length > 0
        ? `; differ: ${differ.map((r) => `${r.scenario} (paging ${r.pagingDetectionMinutes ?? 'never'}, reference ${r.reference.detectionMinutes ?? 'never'})`).join(', ')}`
        : ''),
  );
  return lines.join('\n');
}
