import { AuditDetailType as Audit } from '../../lib/core/audit-events';
import { type BakeState, bakeDeadline, nextWaitSeconds } from '../../lib/core/bake';
import { verificationResult } from '../../lib/core/verify';
import { type StepRuntime, out } from '../evaluator/runtime';
import { WATCH_READING, readAndDecide, watchTarget } from '../evaluator/tick';

/*
 * Post-rollback verification (lib/core/verify.ts): the restored version judged on its own traffic
 * with the bake's reads and core's bake decision, for `verify.durationSeconds` from the rollback's
 * success. Ends with `Rollback Verified`, `Rollback Unhealthy` (escalated, counted by the breaker)
 * or an escalation when it could not judge. Nothing is reported to CodeDeploy.
 */

/** Reads the rollback deployment's versions (the restored one is its target), then the first tick. */
export async function verifyStart(rt: StepRuntime, state: BakeState, until: number): Promise<BakeState> {
  // The restored version alone: all traffic is on it, the version rolled back from serves nothing.
  return watchTarget(
    rt,
    state,
    until,
    'the rollback deployment',
    (why) => unverified(rt, state, why),
    (context) => verifyTick(rt, { ...state, phase: 'verify-tick', ticks: 0, context, unreadable: undefined }, until),
  );
}

/** One verification tick: core's bake decision over the restored version's minutes since the rollback. */
export async function verifyTick(rt: StepRuntime, state: BakeState, until: number): Promise<BakeState> {
  const deadline = bakeDeadline(state, 0);
  // The verification's own length; nothing to compare with: the restored version serves alone.
  const config = { ...rt.config, bakeSeconds: state.verify!.durationSeconds, compareWithBaseline: false };
  const { decision, ticked } = await readAndDecide(rt, state, until, deadline, config, 'AfterAllowTraffic', WATCH_READING);
  if (decision.action === 'continue') return out(ticked, { next: 'wait', waitSeconds: nextWaitSeconds(rt.now(), rt.config.tickSeconds, deadline) });
  const result = verificationResult(decision.verdict);
  const detail = { ...base(rt, ticked), verdict: decision.verdict, observations: decision.observations };
  if (result === 'verified') {
    const restored = ticked.context?.toVersion ? `the restored version ${ticked.context.toVersion}` : 'the restored version';
    await rt.publish([{ type: Audit.ROLLBACK_VERIFIED, detail: { ...detail, reasons: [`${restored} held its SLOs and health checks after the rollback${of(ticked)}`, ...decision.reasons] } }]);
    return out(ticked, { next: 'done' });
  }
  if (result === 'unverified') return unverified(rt, ticked, decision.reasons.join('; '));
  const counted = await rt.countRollback(ticked, `unhealthy:${ticked.deploymentId}`, 'the unhealthy rollback', until);
  const reasons = [`the restored version is unhealthy too after the rollback${of(ticked)}: the problem is not the release (a dependency, data, configuration every version shares)`, ...decision.reasons, ...counted];
  await rt.publish([
    { type: Audit.ROLLBACK_UNHEALTHY, detail: { ...detail, reasons } },
    { type: Audit.ESCALATION_RAISED, detail: { ...detail, reasons } },
  ]);
  return out(ticked, { next: 'done' });
}

/** The verification could not judge the restored version: a human should look. */
async function unverified(rt: StepRuntime, state: BakeState, why: string): Promise<BakeState> {
  await rt.publish([{ type: Audit.ESCALATION_RAISED, detail: { ...base(rt, state), reasons: [`the rollback${of(state)} could not be verified: ${why}`] } }]);
  return out(state, { next: 'done' });
}

/**
 * A verification's audit is the rollback deployment's, as `Rollback Completed` is (deploymentId and
 * rollbackDeploymentId are the rollback's; the machine's own escalation says the same), and names no hook.
 */
function base(rt: StepRuntime, state: BakeState) {
  const v = state.verify!;
  return {
    ...rt.unhookedBase(state),
    rollbackDeploymentId: state.deploymentId,
    ...(v.timeToRecoverySeconds !== undefined ? { timeToRecoverySeconds: v.timeToRecoverySeconds } : {}),
  };
}

/** Which release the rollback undid, for the reasons: ` of d-…`, or nothing when unknown. */
function of(state: BakeState): string {
  return state.verify?.rolledBack ? ` of ${state.verify.rolledBack}` : '';
}
