#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { buildPlan, renderPlan } from '../core';
import { simulate } from '../core/simulator';
import { readPolicies } from './assembly';
import { runSimulate } from './simulate-command';

const USAGE = `Usage: rollback-triggers plan [cloud-assembly-dir] [--json] [--ingestion-delay SECONDS]
       rollback-triggers simulate SERIES-FILE [options]   (rollback-triggers simulate --help)

  plan      Print what the SLOs of a synthesized app will do: burn-rate thresholds,
            detection times at 100 %, 10 % and 2 % errors, alarm count and monthly cost.
            cloud-assembly-dir defaults to cdk.out.
  simulate  Replay a per-minute metric series through both rollback paths and the paging
            alarms: when each would act and why; timeline, JSON and an SVG/PNG chart.`;

/** Runs the CLI; returns the exit code (0 ok, 1 nothing to plan or internal error, 2 bad usage or input). */
export function main(argv: string[], out: (s: string) => void = console.log, err: (s: string) => void = console.error): number {
  if (argv[0] === 'simulate') return runSimulate(argv.slice(1), out, err, simulate);
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { 'json': { type: 'boolean' }, 'ingestion-delay': { type: 'string' }, 'help': { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    err(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [command, dir = 'cdk.out', ...rest] = parsed.positionals;
  if (parsed.values.help) {
    out(USAGE);
    return 0;
  }
  if (command !== 'plan' || rest.length > 0) {
    err(command === undefined ? USAGE : `unknown command or extra arguments: ${parsed.positionals.join(' ')}\n\n${USAGE}`);
    return 2;
  }
  const delayText = parsed.values['ingestion-delay'];
  const ingestionDelaySeconds = delayText === undefined ? 0 : Number(delayText);
  if (!Number.isFinite(ingestionDelaySeconds) || ingestionDelaySeconds < 0) {
    err(`--ingestion-delay must be a number of seconds ≥ 0, got "${delayText}"`);
    return 2;
  }
  let policies;
  try {
    policies = readPolicies(dir);
  } catch (e) {
    err((e as Error).message);
    return 2;
  }
  if (policies.length === 0) {
    err(`no rollback-triggers SLOs or triggers found in ${dir}`);
    return 1;
  }
  const plans = policies.map((p) => buildPlan(p, { ingestionDelaySeconds }));
  out(parsed.values.json ? JSON.stringify(plans, null, 2) : plans.map(renderPlan).join('\n\n'));
  return 0;
}

if (require.main === module) {
  // A closed pipe (`… | head`) ends the output, not the process with a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  process.exitCode = main(process.argv.slice(2));
}
