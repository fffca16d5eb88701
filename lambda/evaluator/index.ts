/**
 * The bake's step Lambda, run by the Step Functions state machine (lib/private/bake-state-machine.ts;
 * the contract is lib/core/bake.ts). Stateless: the state comes in, the next state goes out, and
 * `next` tells the machine to wait, report, end or fail. Every rule is core's; the steps only read
 * AWS and carry the result:
 * - `resolve` (./resolve.ts): read the deployment and its versions, settle what is not judged, run
 *   the BeforeAllowTraffic checks or start the bake;
 * - `tick` (./tick.ts): one GetMetricData call (./read.ts) and the health checks (./health.ts),
 *   then core's decision;
 * - after the approval gate's wait (./approval.ts): audit the answer, report the status it gives;
 * - after the machine's report (./report.ts): audit what CodeDeploy applied.
 *
 * It never throws for an expected AWS failure (those are retried within a time budget, then
 * decided by core's rules); it throws on a garbled state or a bug, and the machine retries the same
 * state, then runs its fail-closed Catch-all. A repeat with the same state decides the same on the
 * same data: every write it makes (audit events with idempotency keys, the first bad signal kept
 * earliest) may happen twice.
 *
 * Core modules are imported one by one here and in the steps, not through the `lib/core` barrel:
 * the barrel brings parts of the emulator and the simulator the handler never uses.
 */
import { type BakeState, checkBakeState, retryDeadline } from '../../lib/core/bake';
import { RollbackTriggersError } from '../../lib/core/errors';
import { EvaluatorEnv, parseEvaluatorConfig } from '../../lib/core/evaluator-config';
import { sleep } from '../shared/handler-kit';
import { answered } from './approval';
import { alreadyCompleted, reportFailed, reported } from './report';
import { resolve } from './resolve';
import { type StepDeps, type StepLogger, StepRuntime } from './runtime';
import { tick } from './tick';
import { verifyStart, verifyTick } from './verify';

export type { KnownGoodReader, StepClients, StepDeps, StepLogger } from './runtime';

export type StepHandler = (state: BakeState) => Promise<BakeState>;

export function createStepHandler(deps: StepDeps): StepHandler {
  const rt = new StepRuntime(deps);
  return async function step(input: BakeState): Promise<BakeState> {
    const state = checkBakeState(input);
    const until = retryDeadline(deps.now(), state.hookStartedAt, deps.retryBudgetSeconds);
    switch (state.phase) {
      case 'resolve':
        return resolve(rt, state, until);
      case 'tick':
        return tick(rt, state, until);
      case 'reported':
        return reported(rt, state, until);
      case 'already-completed':
        return alreadyCompleted(rt, state, until);
      case 'report-failed':
        return reportFailed(rt, state);
      case 'approval':
        return answered(rt, state, until);
      case 'verify':
        return verifyStart(rt, state, until);
      case 'verify-tick':
        return verifyTick(rt, state, until);
    }
  };
}

/**
 * One JSON object per line on stdout, written past the runtime's console (as Powertools' Logger
 * does), so CloudWatch Logs Insights reads the fields; a fraction of the Logger's size in the bundle.
 */
function jsonLogger(service: string): StepLogger {
  const line = (level: string) => (message: string, extra: Record<string, unknown>) => {
    process.stdout.write(`${JSON.stringify({ level, message, service, timestamp: new Date().toISOString(), ...extra })}\n`);
  };
  return { info: line('INFO'), warn: line('WARN'), error: line('ERROR') };
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  // A deployment bug: every step fails loudly, and the machine's Catch-all reports fail-closed.
  if (!value) throw new RollbackTriggersError('RT402', `${name} is not set`);
  return value;
}

let wired: StepHandler | undefined;

/** The Lambda entry point: wiring from the environment, created on first use. */
export async function handler(state: BakeState): Promise<BakeState> {
  wired ??= createStepHandler({
    config: parseEvaluatorConfig(process.env[EvaluatorEnv.CONFIG]),
    stateTable: requiredEnv(EvaluatorEnv.STATE_TABLE),
    eventBus: requiredEnv(EvaluatorEnv.EVENT_BUS),
    logger: jsonLogger('rollback-triggers-evaluator'),
    now: () => Date.now() / 1000,
    sleep,
  });
  return wired(state);
}
