/**
 * `npm run eval` (tsx eval/run.ts [--seed N] [--seeds N] [--only a,b]): replays the seeded scenario
 * set through the simulator and prints the quality table next to the SRE Workbook reference computed
 * on the same data. Exits 1 when a target is missed on the seed's scenario set, so CI can gate on it.
 * Then the same scenarios over seeds 1 … N (default 100; 0 skips): how often each target holds when
 * only the noise changes. Not gated; it shows what one seed can hide.
 */
import { simulate } from '../lib/core/simulator';
import { Row, evaluateScenario, formatNotes, formatSummary, formatSweep, formatTable, summarize, sweep } from './evaluate';
import { DEFAULT_SEED, SCENARIO_SPECS, generateScenarios } from './scenarios';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function main(): number {
  const seed = Number(arg('--seed') ?? DEFAULT_SEED);
  if (!Number.isSafeInteger(seed)) {
    console.error(`--seed must be a whole number, got ${arg('--seed')}`);
    return 2;
  }
  const seeds = Number(arg('--seeds') ?? 100);
  if (!Number.isSafeInteger(seeds) || seeds < 0) {
    console.error(`--seeds must be a whole number ≥ 0, got ${arg('--seeds')}`);
    return 2;
  }
  const only = arg('--only')?.split(',');
  const unknown = only?.filter((n) => !SCENARIO_SPECS.some((s) => s.name === n)) ?? [];
  if (unknown.length > 0) {
    console.error(`--only: unknown scenario ${unknown.join(', ')}; known: ${SCENARIO_SPECS.map((s) => s.name).join(', ')}`);
    return 2;
  }
  const scenarios = generateScenarios({ seed, names: only });
  console.log(`rollback-triggers eval — seed ${seed}, ${scenarios.length} scenarios, 99.9 % availability SLO (and a 99 % latency SLO), Lambda canary 10 %, bake 10 min\n`);

  const rows: Row[] = scenarios.map((s) => evaluateScenario(s, simulate));
  console.log(formatTable(rows));
  console.log(`\n${formatNotes(rows)}`);
  console.log('\nscenarios:');
  for (const s of scenarios) console.log(`  ${s.name}: ${s.truth} — ${s.why}`);
  const summary = summarize(rows);
  if (seeds > 0) {
    const lines = sweep(
      Array.from({ length: seeds }, (_, i) => i + 1),
      (s) => generateScenarios({ seed: s, names: only }),
      simulate,
    );
    console.log(`\nthe same scenarios over seeds 1…${seeds} (new noise each; not gated):\n${formatSweep(lines)}`);
  }
  console.log(`\nseed ${seed}: ${formatSummary(summary)}`);
  return summary.targetsMet ? 0 : 1;
}

process.exitCode = main();
