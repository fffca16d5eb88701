#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { buildPlan, renderPlan } from '../core';
import { readPolicies } from './assembly';

const USAGE = `Usage: rollback-triggers plan [cloud-assembly-dir] [--json] [--ingestion-delay SECONDS]

  plan   Print what the SLOs of a synthesized app will do: burn-rate thresholds,
         detection times at 100 %, 10 % and 2 % errors, alarm count and monthly cost.
         cloud-assembly-dir defaults to cdk.out.`;

/** Runs the CLI; returns the exit code (0 ok, 1 nothing to plan, 2 bad usage or input). */
export function main(argv: string[], out: (s: string) => void = console.log, err: (s: string) => void = console.error): number {
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
  process.exitCode = main(process.argv.slice(2));
}
