import { AuditDetailType as Audit } from '../../lib/core/audit-events';
import type { BakeState } from '../../lib/core/bake';
import { alreadyCompletedOutcome } from '../../lib/core/decision';
import { withRetry } from '../shared/retry';
import { type StepRuntime, describeCaught, describeError, out } from './runtime';

/*
 * The steps after the machine's report to CodeDeploy: each audits what happened, and ends the
 * execution.
 */

/**
 * The report was accepted: audit the verdict; on Failed (or a shadow verdict that would have
 * failed, or a failing verdict a human approved), record the first bad signal — it also keeps such
 * a release off the known-good record.
 */
export async function reported(rt: StepRuntime, state: BakeState, until: number): Promise<BakeState> {
  const r = state.report!;
  const detail = {
    ...rt.auditBase(state),
    verdict: r.verdict,
    reasons: r.reasons,
    observations: r.observations,
    ...(r.incidents && r.incidents.length > 0 ? { incidents: r.incidents } : {}),
    reportedStatus: r.status,
    ...(r.wouldRollback ? { wouldRollback: true } : {}),
    ...(r.approval ? { approval: r.approval } : {}),
  };
  await rt.publish([{ type: Audit.DEPLOYMENT_VERDICT, detail }, ...(r.escalate ? [{ type: Audit.ESCALATION_RAISED, detail }] : [])]);
  // Judged bad on evidence, whatever was reported (a rollback a human let through past the circuit
  // breaker reports Succeeded): never a version to go back to.
  if (r.status === 'Failed' || r.wouldRollback || r.verdict === 'fail') await recordFirstBadSignal(rt, state, r.decidedAt ?? rt.now(), until);
  return out(state, { next: 'done' });
}

/** Best effort: only time to recovery depends on it. */
async function recordFirstBadSignal(rt: StepRuntime, state: BakeState, at: number, until: number): Promise<void> {
  try {
    const store = await rt.knownGood();
    await withRetry(() => store.recordFirstBadSignal(state.deploymentId, at), rt.retry(until));
  } catch (e) {
    rt.logger.warn('could not record the first bad signal', { deploymentId: state.deploymentId, error: describeError(e) });
  }
}

/**
 * The report met LifecycleEventAlreadyCompletedException: read what CodeDeploy applied (the hook's
 * and the deployment's status), let core say whose status stands, and audit that.
 */
export async function alreadyCompleted(rt: StepRuntime, state: BakeState, until: number): Promise<BakeState> {
  const r = state.report!;
  const seen = await readCompletedHook(rt, state, until);
  const outcome = alreadyCompletedOutcome({ sent: r.status, ...seen });
  const said = state.reportError ? [`CodeDeploy answered ${describeCaught(state.reportError, 'an error')}`] : [];
  const base = { ...rt.auditBase(state), lifecycleEvent: seen.lifecycleEvent, verdict: r.verdict, observations: r.observations, ...(r.wouldRollback ? { wouldRollback: true } : {}) };
  const detail =
    outcome.applied === 'ours'
      ? { ...base, reportedStatus: r.status, reasons: [...outcome.reasons, ...r.reasons] }
      : { ...base, reasons: [...outcome.reasons, ...said, ...r.reasons] };
  await rt.publish([
    { type: outcome.applied === 'ours' ? Audit.DEPLOYMENT_VERDICT : Audit.TRIGGER_SUPPRESSED, detail },
    ...(outcome.escalate ? [{ type: Audit.ESCALATION_RAISED, detail }] : []),
  ]);
  return out(state, { next: 'done' });
}

/** The hook's status (ListDeploymentTargets) and the deployment's (GetDeployment), or why they could not be read. */
async function readCompletedHook(
  rt: StepRuntime,
  state: BakeState,
  until: number,
): Promise<{ lifecycleEvent?: string; hookStatus?: string; deploymentStatus?: string; readError?: string }> {
  let lifecycleEvent = state.context?.lifecycleEvent;
  let hookStatus: string | undefined;
  let deploymentStatus: string | undefined;
  const errors: string[] = [];
  try {
    const targets = await rt.findTargets(state.deploymentId, until);
    lifecycleEvent ??= targets.runningLifecycleEvent;
    hookStatus = targets.lifecycleEvents?.find((e) => e.name === lifecycleEvent)?.status;
  } catch (e) {
    errors.push(`the hook's status could not be read (${rt.expected(e)})`);
  }
  try {
    deploymentStatus = (await rt.getDeployment(state.deploymentId, until)).status;
  } catch (e) {
    errors.push(`the deployment could not be read (${rt.expected(e)})`);
  }
  return { lifecycleEvent, hookStatus, deploymentStatus, readError: errors.length > 0 ? errors.join('; ') : undefined };
}

/** The report failed every retry of the machine: escalate (the machine then fails). */
export async function reportFailed(rt: StepRuntime, state: BakeState): Promise<BakeState> {
  const r = state.report;
  const why = describeCaught(state.reportError, 'unknown error');
  await rt.publish([
    {
      type: Audit.ESCALATION_RAISED,
      detail: {
        ...rt.auditBase(state),
        ...(r ? { verdict: r.verdict, observations: r.observations } : {}),
        reasons: [`could not report ${r?.status ?? 'the verdict'} to CodeDeploy after the state machine's retries (${why}); CodeDeploy fails the hook when its hour runs out`, ...(r?.reasons ?? [])],
      },
    },
  ]);
  return out(state, { next: 'fail' });
}
