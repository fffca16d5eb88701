import { describe, expect, it } from 'vitest';
import { InconclusiveAction } from '../../../lib';
import { PathOutcome, SimulationInput, SimulationResult, simulate } from '../../../lib/core/simulator';
import type { RollbackPolicy } from '../../../lib/core';
import { expectRtError } from '../helpers';
import { CANARY_10_FOR_10, blendedOnly, canaryRelease, lambdaService } from './fixtures';

// The approval gate and the circuit breaker replayed with the evaluator's own rules (core's
// needsApproval and approvalRequest). Nobody answers a replay: the status is the one the wait's end
// reports, when it ends. Policies are synthesized from real constructs (fixtures.ts).

function run(series: SimulationInput['series'], policy: RollbackPolicy, overrides: Partial<SimulationInput> = {}): SimulationResult {
  return simulate({ policy, series, releaseMinute: 0, deployment: CANARY_10_FOR_10, ...overrides });
}
const evaluatorOf = (r: SimulationResult): PathOutcome => r.paths.find((p) => p.path === 'evaluator')!;

describe('the approval gate in a replay', () => {
  // Only blended metrics: the evaluator cannot see the new version, inconclusive at the end of the
  // bake (minute 10 + 10 + 3 = 23), which fails closed.
  const blind = blendedOnly(canaryRelease({ canaryErrors: () => 0 }));

  it('an inconclusive verdict with ESCALATE asks a human at minute 23 and, unanswered, fails closed 30 minutes later', () => {
    const escalate = lambdaService({ inconclusiveAction: InconclusiveAction.ESCALATE }).policy;
    const plain = evaluatorOf(run(blind, lambdaService().policy));
    const gated = evaluatorOf(run(blind, escalate));
    expect(plain).toMatchObject({ verdict: 'inconclusive', minute: 23, status: 'Failed' });
    expect(gated).toMatchObject({
      verdict: 'inconclusive',
      minute: 53,
      status: 'Failed',
      rollback: true,
      askedHuman: { kind: 'inconclusive', askedAtMinute: 23, timeoutSeconds: 1_800, onTimeout: 'Failed' },
    });
    expect(gated.reasons[0]).toBe('asked a human at minute 23 (inconclusive); replayed unanswered: Failed when the wait ends');
    expect(gated.reasons[1]).toMatch(/^The bake is inconclusive: .* Approve to let the release continue \(Succeeded\)/);
  });

  it('a failing verdict on evidence is never held by the gate', () => {
    const outage = canaryRelease({ canaryErrors: (_m, requests) => requests });
    const escalate = lambdaService({ inconclusiveAction: InconclusiveAction.ESCALATE }).policy;
    expect(evaluatorOf(run(outage, escalate))).toEqual(evaluatorOf(run(outage, lambdaService().policy)));
  });
});

describe('the circuit breaker in a replay', () => {
  const outage = canaryRelease({ canaryErrors: (_m, requests) => requests });
  const withBreaker = lambdaService({ circuitBreaker: {} }).policy;

  it('closed (the default): the rollback acts alone, as without a breaker', () => {
    expect(evaluatorOf(run(outage, withBreaker))).toEqual(evaluatorOf(run(outage, lambdaService().policy)));
  });

  it('replayed open: the evaluator’s rollback asks a human first and, unanswered, rolls back when the wait ends', () => {
    const alone = evaluatorOf(run(outage, withBreaker));
    const held = evaluatorOf(run(outage, withBreaker, { breakerOpen: true }));
    expect(held).toMatchObject({ verdict: 'fail', status: 'Failed', rollback: true, askedHuman: { kind: 'breaker', askedAtMinute: alone.minute, onTimeout: 'Failed' } });
    expect(held.minute).toBe(alone.minute! + held.askedHuman!.timeoutSeconds / 60);
    expect(held.reasons[1]).toMatch(/circuit breaker is open/);
  });

  it('breakerOpen on a trigger without a breaker is refused (RT725)', () => {
    const e = expectRtError(() => run(outage, lambdaService().policy, { breakerOpen: true }), 'RT725');
    expect(e.message).toMatch(/has no circuitBreaker: there is no breaker to replay open/);
  });
});
