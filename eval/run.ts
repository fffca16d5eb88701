/**
 * `npm run eval` (tsx eval/run.ts [--seed N] [--only a,b] [--seeds N] [--classes a,b]): replays the
 * seeded scenario set through the simulator and prints the quality table next to the SRE Workbook
 * reference computed on the same data. Exits 1 when a target is missed on the seed's scenario set,
 * so CI can gate on it; that gate covers the fixed scenarios of eval/scenarios.ts on one seed and
 * nothing else.
 *
 * `--seeds N` (default 0: the default run stays fast) then replays every fixed scenario and every
 * scenario class of eval/classes.ts over seeds 1 … N and prints the per-class table of
 * eval/robustness.ts (detection percentiles from the onset, false-rollback, blind-pass and
 * inconclusive rates, each class's target). Gated on safety: a false rollback, a verdict on no
 * data or a replay that throws, in any class and any seed, exits 1; detection targets are reported.
 * `--only` limits the fixed scenarios, `--classes` the classes; given one of them alone, the sweep
 * replays only what it names.
 */
import { performance } from 'node:perf_hooks';
import { simulate } from '../lib/core/simulator';
import { SCENARIO_CLASSES } from './classes';
import { Row, evaluateScenario, formatNotes, formatSummary, formatTable, summarize } from './evaluate';
import { formatClassNotes, formatClassTable, sweepClasses } from './robustness';
import { DEFAULT_SEED, SCENARIO_SPECS, generateScenarios } from './scenarios';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** A comma-separated list of names, each of which must be known; an error message otherwise. */
function namesArg(flag: string, known: readonly string[], what: string): { names?: readonly string[]; error?: string } {
  const given = arg(flag)?.split(',');
  const unknown = given?.filter((n) => !known.includes(n)) ?? [];
  return unknown.length > 0 ? { error: `${flag}: unknown ${what} ${unknown.join(', ')}; known: ${known.join(', ')}` } : { names: given };
}

function main(): number {
  const started = performance.now();
  const seed = Number(arg('--seed') ?? DEFAULT_SEED);
  if (!Number.isSafeInteger(seed)) {
    console.error(`--seed must be a whole number, got ${arg('--seed')}`);
    return 2;
  }
  const seeds = Number(arg('--seeds') ?? 0);
  if (!Number.isSafeInteger(seeds) || seeds < 0) {
    console.error(`--seeds must be a whole number ≥ 0, got ${arg('--seeds')}`);
    return 2;
  }
  const only = namesArg('--only', SCENARIO_SPECS.map((s) => s.name), 'scenario');
  const classes = namesArg('--classes', SCENARIO_CLASSES.map((c) => c.name), 'class');
  for (const { error } of [only, classes]) {
    if (error) {
      console.error(error);
      return 2;
    }
  }
  const onlyNames = only.names;
  const classNames = classes.names;

  const scenarios = generateScenarios({ seed, names: onlyNames });
  console.log(`rollback-triggers eval — seed ${seed}, ${scenarios.length} scenarios, 99.9 % availability SLO (and a 99 % latency SLO), Lambda canary 10 %, bake 10 min\n`);

  const rows: Row[] = scenarios.map((s) => evaluateScenario(s, simulate));
  console.log(formatTable(rows));
  console.log(`\n${formatNotes(rows)}`);
  console.log('\nscenarios:');
  for (const s of scenarios) console.log(`  ${s.name}: ${s.truth} — ${s.why}`);
  const summary = summarize(rows);
  let sweepFailed = false;
  if (seeds > 0) {
    const sweepStarted = performance.now();
    const result = sweepClasses(
      Array.from({ length: seeds }, (_, i) => i + 1),
      simulate,
      { scenarios: onlyNames ?? (classNames ? [] : undefined), classes: classNames ?? (onlyNames ? [] : undefined) },
    );
    const seconds = (performance.now() - sweepStarted) / 1000;
    const header = `over seeds 1…${seeds}, per class — detection in minutes from the regression's onset (nearest-rank percentiles over all runs, a missed one counting as never)`;
    console.log(`\n${header}; false rollbacks and verdicts on no data are gated, detection targets reported:`);
    if (result.fixed.length > 0) console.log(`\nthe fixed scenarios (parameters fixed, new noise per seed):\n${formatClassTable(result.fixed)}`);
    if (result.classes.length > 0) {
      console.log(`\nthe scenario classes of issue 8 (parameters drawn per seed):\n${formatClassTable(result.classes)}`);
      console.log(`\nclasses:\n${formatClassNotes(result.classes)}`);
    }
    const lines = [...result.fixed, ...result.classes];
    const missed = lines.filter((l) => l.met === false).map((l) => l.className);
    // The gate over the seeds: what makes users switch a trigger off — a rollback the truth does not
    // call for, a verdict on no data, a replay that throws — in ANY seed. Detection targets are
    // printed and reported; a miss there is a slower or a missed rollback, measured, not gated.
    const unsafe = lines.filter((l) => l.falseRollbacks > 0 || l.errors > 0 || (l.truth === 'no-data' && l.met === false)).map((l) => l.className);
    console.log(
      `\nsweep: ${result.replays} replays (${seeds} seeds) in ${seconds.toFixed(1)} s; targets not met over the seeds: ${missed.length > 0 ? missed.join(', ') : 'none'}; ` +
        `gated (a false rollback, a verdict on no data or a replay error in any seed): ${unsafe.length > 0 ? `FAILED — ${unsafe.join(', ')}` : 'none'}`,
    );
    if (unsafe.length > 0) sweepFailed = true;
  } else {
    console.log('\nper-class robustness over seeds (issue 8): npm run eval -- --seeds 100');
  }
  console.log(`\nseed ${seed}: ${formatSummary(summary)}`);
  console.log(`eval took ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return summary.targetsMet && !sweepFailed ? 0 : 1;
}

process.exitCode = main();
