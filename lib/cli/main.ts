#!/usr/bin/env node
import { buildPlan, renderPlan } from '../core';
import { simulate } from '../core/simulator';
import { type AnswerKind, type ApprovalAwsFactory, runAnswer } from './answer-command';
import { readPolicies } from './assembly';
import { FlagSpec, parseFlags } from './flags';
import { InputError, flagError } from './input-error';
import { MAX_INGESTION_DELAY_SECONDS, runSimulate } from './simulate-command';

const USAGE = `Usage: rollback-triggers plan [cloud-assembly-dir] [--json] [--ingestion-delay SECONDS]
       rollback-triggers simulate SERIES-FILE [options]   (rollback-triggers simulate --help)
       rollback-triggers approve|reject (--execution ARN | --deployment ID --state-machine ARN)
                         [--by NAME] [--reason TEXT] [--region REGION]   (rollback-triggers approve --help)

  plan      Print what the SLOs of a synthesized app will do: burn-rate thresholds,
            detection times at 100 %, 10 % and 2 % errors, alarm count and monthly cost.
            cloud-assembly-dir defaults to cdk.out.
  simulate  Replay a per-minute metric series through both rollback paths and the paging
            alarms: when each would act and why; timeline, JSON and an SVG/PNG chart.
  approve   Answer a bake's pending approval question: the release continues (SendTaskSuccess).
  reject    Answer it with a rejection: the release is rolled back (SendTaskFailure).`;

const ANSWER_COMMANDS: readonly string[] = ['approve', 'reject'];

/**
 * The binary's entry point: approve and reject call AWS, so they are asynchronous; every other
 * command runs through {@link main}. `aws` replaces the bundled SDK (tests).
 */
export async function runCli(
  argv: string[],
  out: (s: string) => void = console.log,
  err: (s: string) => void = console.error,
  aws?: ApprovalAwsFactory,
): Promise<number> {
  if (ANSWER_COMMANDS.includes(argv[0])) return runAnswer(argv[0] as AnswerKind, argv.slice(1), out, err, aws);
  return main(argv, out, err);
}

const PLAN_FLAGS: Record<string, FlagSpec> = {
  'json': { type: 'boolean' },
  'ingestion-delay': { type: 'string', value: 'SECONDS' },
  'help': { type: 'boolean', short: 'h' },
};

/**
 * Runs the synchronous commands (plan, simulate); returns the exit code (0 ok, 1 nothing to plan or
 * internal error, 2 bad usage or input). approve and reject run through {@link runCli}.
 */
export function main(argv: string[], out: (s: string) => void = console.log, err: (s: string) => void = console.error): number {
  if (argv[0] === 'simulate') return runSimulate(argv.slice(1), out, err, simulate);
  if (ANSWER_COMMANDS.includes(argv[0])) {
    err(`internal error: ${argv[0]} calls AWS and runs through runCli(), not main()`);
    return 1;
  }
  let parsed;
  try {
    parsed = parseFlags(argv, PLAN_FLAGS);
  } catch (e) {
    err(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [command, dir = 'cdk.out', ...rest] = parsed.positionals;
  if (parsed.values.help) {
    out(USAGE);
    return 0;
  }
  if (command === undefined) {
    err(USAGE);
    return 2;
  }
  if (command !== 'plan') {
    err(`${flagError(`unknown command "${command}"; the commands are plan and simulate (simulate comes first: rollback-triggers simulate SERIES-FILE …), approve and reject`).message}\n\n${USAGE}`);
    return 2;
  }
  if (rest.length > 0) {
    err(`${flagError(`plan reads one cloud assembly directory, got ${parsed.positionals.slice(1).join(' ')}`).message}\n\n${USAGE}`);
    return 2;
  }
  const delayText = parsed.values['ingestion-delay'] as string | undefined;
  const ingestionDelaySeconds = delayText === undefined ? 0 : Number(delayText);
  if (delayText !== undefined && (!/^\d+$/.test(delayText.trim()) || !(ingestionDelaySeconds <= MAX_INGESTION_DELAY_SECONDS))) {
    err(
      flagError(
        `--ingestion-delay must be whole seconds from 0 to ${MAX_INGESTION_DELAY_SECONDS} (14 days: CloudWatch takes no datapoint older than two weeks), got "${delayText}"`,
      ).message,
    );
    return 2;
  }
  let policies;
  try {
    policies = readPolicies(dir, err);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    err(e.message);
    return 2;
  }
  if (policies.length === 0) {
    err(`no rollback-triggers SLOs or triggers found in ${dir}`);
    return 1;
  }
  try {
    const plans = policies.map((p) => buildPlan(p, { ingestionDelaySeconds }));
    out(parsed.values.json ? JSON.stringify(plans, null, 2) : plans.map(renderPlan).join('\n\n'));
  } catch (e) {
    // The policies are checked: what fails here is a bug, not the input.
    err(`internal error while planning ${dir}: ${(e as Error).stack ?? String(e)}`);
    return 1;
  }
  return 0;
}

if (require.main === module) {
  // A closed pipe (`… | head`) ends the output, not the process with a stack trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(`internal error: ${(e as Error).stack ?? String(e)}`);
      process.exitCode = 1;
    },
  );
}
