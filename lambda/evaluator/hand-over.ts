import { type ApprovalSettings, approvalRequest, needsApproval } from '../../lib/core/approval';
import { type BakeState, MAX_DEADLINE_SECONDS, type PendingReport, parseDeadline, shadowed } from '../../lib/core/bake';
import { type BreakerRecord, breakerQuestion, breakerState } from '../../lib/core/breaker';
import { type HookStatus, inconclusiveStatus } from '../../lib/core/decision';
import { withRetry } from '../shared/retry';
import { type Report, type StepRuntime, describeError, out } from './runtime';

/*
 * A hook's decision handed to the machine, which reports it to CodeDeploy: through the circuit
 * breaker's question and the approval gate, or in shadow mode. The bake's steps alone (resolve, the
 * tick): the follow-up function answers no hook, and does not bundle this.
 */

/**
 * A decision on its way to the report: a rollback on evidence first asks a human while the
 * group's circuit breaker is open. A breaker that cannot be read holds nothing back (a rollback
 * is never blocked by the breaker's own failure).
 */
export async function decide(rt: StepRuntime, state: BakeState, decision: Report, until: number, notes: readonly string[] = []): Promise<BakeState> {
  const { breaker, approval } = rt.config;
  if (!breaker || !approval || rt.config.mode === 'shadow' || decision.status !== 'Failed' || decision.verdict !== 'fail') return toReport(rt, state, decision, notes);
  const { applicationName, deploymentGroupName } = rt.guardedGroup();
  let record: BreakerRecord;
  try {
    const store = await rt.knownGood();
    record = await withRetry(() => store.getBreaker(applicationName, deploymentGroupName), rt.retry(until));
  } catch (e) {
    rt.logger.warn('circuit breaker unreadable: the rollback acts alone', { error: describeError(e) });
    return toReport(rt, state, decision, [...notes, `the circuit breaker could not be read (${describeError(e)}): the rollback acts alone`]);
  }
  if (breakerState(record, rt.now(), breaker) !== 'open') return toReport(rt, state, decision, notes);
  const question = breakerQuestion(record, rt.now(), breaker, decision.reasons[0] ?? 'a failing verdict');
  return askFirst(rt, state, pending(rt, decision, notes), approval, 'Failed', { question });
}

/** Hands a decision to the machine, which reports its status to CodeDeploy. */
export function toReport(rt: StepRuntime, state: BakeState, decision: Report, notes: readonly string[] = []): BakeState {
  const decided = pending(rt, decision, notes);
  const gate = rt.config.approval;
  if (gate && needsApproval({ ...decided, lifecycleEvent: state.context?.lifecycleEvent }, gate)) {
    return askFirst(rt, state, decided, gate, inconclusiveStatus(rt.config.inconclusiveAction));
  }
  // Shadow mode never fails a hook: it reports Succeeded and audits what enforcing would do.
  const report = rt.config.mode === 'shadow' ? shadowed(decided) : decided;
  rt.logger.info('decided', { deploymentId: state.deploymentId, status: report.status, verdict: report.verdict, reasons: report.reasons });
  return out(state, { next: 'report', report });
}

/**
 * The approval gate: the machine asks a human and waits (the report holds the status sent when
 * nobody answers); with too little of the hook's hour left, that status is reported at once,
 * escalated. Never in shadow mode (the constructs refuse the combination).
 */
function askFirst(rt: StepRuntime, state: BakeState, decided: PendingReport, gate: ApprovalSettings, fallback: HookStatus, breaker?: { question: string }): BakeState {
  const reportBy = state.reportBy !== undefined ? parseDeadline(state.reportBy, 'reportBy') : state.hookStartedAt + MAX_DEADLINE_SECONDS;
  const asked = approvalRequest(decided, gate, fallback, rt.now(), reportBy, breaker);
  const held: PendingReport = { ...decided, status: fallback };
  if ('notAsked' in asked) {
    rt.logger.warn('approval not asked', { deploymentId: state.deploymentId, reason: asked.notAsked });
    return out(state, { next: 'report', report: { ...held, reasons: [asked.notAsked, ...decided.reasons], escalate: true, approval: { result: 'not-asked' } } });
  }
  rt.logger.info('asking for approval', { deploymentId: state.deploymentId, question: asked.request.question, timeoutSeconds: asked.request.timeoutSeconds });
  return out(state, { next: 'approve', report: held, approval: asked.request });
}

function pending(rt: StepRuntime, decision: Report, notes: readonly string[]): PendingReport {
  return {
    status: decision.status,
    verdict: decision.verdict,
    reasons: [...decision.reasons, ...notes],
    observations: decision.observations,
    ...(decision.escalate ? { escalate: true } : {}),
    ...(decision.incidents && decision.incidents.length > 0 ? { incidents: decision.incidents } : {}),
    decidedAt: rt.now(),
  };
}
