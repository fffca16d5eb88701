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
 * The follow-up machine's steps (verification, guard window, secondary action) are another
 * function's (lambda/follow-up), built from the same runtime (./steps.ts).
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
import type { BakeState } from '../../lib/core/bake';
import { answered } from './approval';
import { alreadyCompleted, reportFailed, reported } from './report';
import { resolve } from './resolve';
import type { StepDeps } from './runtime';
import { type StepHandler, runtimeDeps, stepHandler } from './steps';
import { tick } from './tick';

export type { KnownGoodReader, StepClients, StepDeps, StepLogger } from './runtime';
export type { StepHandler } from './steps';

/** The bake's steps: the phases of the bake machine (lib/private/bake-state-machine.ts). */
export function createStepHandler(deps: StepDeps): StepHandler {
  return stepHandler(deps, {
    resolve,
    tick: (rt, state, until) => tick(rt, state, until),
    reported,
    'already-completed': alreadyCompleted,
    'report-failed': (rt, state) => reportFailed(rt, state),
    approval: answered,
  });
}

let wired: StepHandler | undefined;

/** The Lambda entry point: wiring from the environment, created on first use. */
export async function handler(state: BakeState): Promise<BakeState> {
  wired ??= createStepHandler(runtimeDeps('rollback-triggers-evaluator'));
  return wired(state);
}
