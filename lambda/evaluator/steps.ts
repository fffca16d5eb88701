import { type BakePhase, type BakeState, STEP_RETRY_BUDGET_SECONDS, checkBakeState, isFollowUpPhase, retryDeadline } from '../../lib/core/bake';
import { RollbackTriggersError } from '../../lib/core/errors';
import { EvaluatorEnv, parseEvaluatorConfig } from '../../lib/core/evaluator-config';
import { sleep } from '../shared/handler-kit';
import { type StepDeps, type StepLogger, StepRuntime } from './runtime';

/*
 * What the bake's evaluator (lambda/evaluator) and the follow-up function (lambda/follow-up) share:
 * a stateless step Lambda run by a Step Functions machine — the state comes in, the next state goes
 * out. Each entry point names the phases it runs, so each bundle holds only its own steps (and the
 * bake's evaluator holds no permission to create deployments or move aliases).
 */

export type StepHandler = (state: BakeState) => Promise<BakeState>;
export type Step = (rt: StepRuntime, state: BakeState, until: number) => Promise<BakeState>;
export type Steps = Partial<Record<BakePhase, Step>>;

/** A step handler that runs `steps`; any other phase is refused loudly (the machine's Catch-all then acts). */
export function stepHandler(deps: StepDeps, steps: Steps): StepHandler {
  const rt = new StepRuntime(deps);
  return async function step(input: BakeState): Promise<BakeState> {
    const state = checkBakeState(input);
    const run = steps[state.phase];
    if (!run) throw Object.assign(new Error(`invalid bake state: this function does not run phase ${state.phase}`), { name: 'InvalidBakeState' });
    // A follow-up step answers no hook: only its own budget bounds its retries.
    const until = isFollowUpPhase(state.phase)
      ? deps.now() + (deps.retryBudgetSeconds ?? STEP_RETRY_BUDGET_SECONDS)
      : retryDeadline(deps.now(), state.hookStartedAt, deps.retryBudgetSeconds);
    return run(rt, state, until);
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
  // A deployment bug: every step fails loudly, and the machine's Catch-all acts (fail-closed, or escalated).
  if (!value) throw new RollbackTriggersError('RT402', `${name} is not set`);
  return value;
}

/** The Lambda runtime's wiring, from the environment. */
export function runtimeDeps(service: string): StepDeps {
  return {
    config: parseEvaluatorConfig(process.env[EvaluatorEnv.CONFIG]),
    stateTable: requiredEnv(EvaluatorEnv.STATE_TABLE),
    eventBus: requiredEnv(EvaluatorEnv.EVENT_BUS),
    logger: jsonLogger(service),
    now: () => Date.now() / 1000,
    sleep,
  };
}
