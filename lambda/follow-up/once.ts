import { randomUUID } from 'node:crypto';
import { withRetry } from '../shared/retry';
import { type StepRuntime, describeError } from '../evaluator/runtime';

/** How a one-time action went: taken (now, or by an earlier attempt that confirmed it), or not taken and why. */
export type Taken = { readonly kind: 'taken'; readonly result: string; readonly repeated?: boolean } | { readonly kind: 'failed'; readonly why: string };

/**
 * Takes an action at most once, ever: claims it in the state table (a conditional write) before
 * `act` calls AWS, then records what it did. A repeat (a retried step, a redriven execution) whose
 * earlier attempt confirmed the action returns that result again (its audit repeats with the same
 * idempotency key); one whose earlier attempt claimed it without confirming (a crash between the
 * claim and AWS's answer) never acts: a human is told to check. A claim this very call wrote, whose
 * answer was lost and which was refused when resent, is known by its owner token: still ours to
 * act on. Never throws for AWS failures.
 */
export async function takeOnce(rt: StepRuntime, claim: string, until: number, act: () => Promise<string>): Promise<Taken> {
  const store = await rt.knownGood();
  const owner = randomUUID();
  let first: boolean;
  try {
    first = await withRetry(() => store.claimAction(claim, rt.now(), owner), rt.retry(until));
  } catch (e) {
    return { kind: 'failed', why: `the action could not be claimed in the state table (${rt.expected(e)}), so it was not taken` };
  }
  if (!first) {
    let standing: { claimedAt: number; result?: string; owner?: string } | undefined;
    try {
      standing = await withRetry(() => store.actionClaim(claim), rt.retry(until));
    } catch (e) {
      return { kind: 'failed', why: `an earlier attempt claimed the action and its record could not be read (${rt.expected(e)}): not repeated` };
    }
    if (standing?.result !== undefined) return { kind: 'taken', result: standing.result, repeated: true };
    if (standing?.owner !== owner) return unconfirmed(standing);
  }
  return actClaimed(rt, store, claim, until, act);
}

/** Another attempt's claim without a result: it may have reached AWS, so nothing is taken again. */
function unconfirmed(standing: { claimedAt: number } | undefined): Taken {
  const at = standing ? new Date(standing.claimedAt * 1000).toISOString() : 'an unknown time';
  return { kind: 'failed', why: `an earlier attempt claimed the action at ${at} without confirming it (it may or may not have reached AWS): not repeated, check the deployment group` };
}

/** The claimed action: taken, then its result recorded (best effort). */
async function actClaimed(rt: StepRuntime, store: Awaited<ReturnType<StepRuntime['knownGood']>>, claim: string, until: number, act: () => Promise<string>): Promise<Taken> {
  let result: string;
  try {
    result = await act();
  } catch (e) {
    return { kind: 'failed', why: `the action failed (${rt.expected(e)})` };
  }
  try {
    await withRetry(() => store.recordActionResult(claim, result), rt.retry(until));
  } catch (e) {
    // The action was taken; a repeat will find it unconfirmed and not act again, which is safe.
    rt.logger.warn('could not record the action’s result', { claim, result, error: describeError(e) });
  }
  return { kind: 'taken', result };
}
