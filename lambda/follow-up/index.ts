/**
 * The follow-up machine's step Lambda (lib/private/follow-up-state-machine.ts): what runs after a
 * deployment ends, with the bake's runtime, reads and decision (lambda/evaluator):
 * - `verify`, `verify-tick`: the post-rollback verification of the restored version;
 * - `guard`, `guard-tick`: the guard window after a release succeeded, and its one rollback deployment;
 * - `secondary`, `secondary-answered`: after a failed rollback, the direct action proposed to a
 *   human, and taken once on the approval.
 * A function of its own: only it may create deployments and move aliases, not the bake's evaluator.
 */
import type { BakeState } from '../../lib/core/bake';
import { guardStart, guardTick } from './guard';
import type { StepDeps } from '../evaluator/runtime';
import { secondaryAnswered, secondaryStart } from './secondary';
import { type StepHandler, runtimeDeps, stepHandler } from '../evaluator/steps';
import { verifyStart, verifyTick } from './verify';

export function createFollowUpStepHandler(deps: StepDeps): StepHandler {
  return stepHandler(deps, {
    verify: verifyStart,
    'verify-tick': verifyTick,
    guard: guardStart,
    'guard-tick': guardTick,
    secondary: secondaryStart,
    'secondary-answered': secondaryAnswered,
  });
}

let wired: StepHandler | undefined;

/** The Lambda entry point: wiring from the environment, created on first use. */
export async function handler(state: BakeState): Promise<BakeState> {
  wired ??= createFollowUpStepHandler(runtimeDeps('rollback-triggers-follow-up'));
  return wired(state);
}
