import { type ApprovalOutcome, approvalOutcome } from '../../lib/core/approval';
import { AuditDetailType as Audit } from '../../lib/core/audit-events';
import type { BakeState, PendingReport } from '../../lib/core/bake';
import { closeByHuman } from '../../lib/core/breaker';
import { type StepRuntime, describeError, out } from './runtime';

/**
 * The approval gate's wait ended (the machine put SendTaskSuccess's output in `approval.answer`, or
 * the rejection, the timeout or a failed request in `approval.error`): audit how it ended and who
 * answered, close the circuit breaker when the answer asks to, then hand the status core's rule
 * gives to the machine's report. Deciding the same on a repeat: the answer is in the state, the
 * audit events' idempotency keys are the same, and closing a closed breaker changes nothing.
 */
export async function answered(rt: StepRuntime, state: BakeState, until: number): Promise<BakeState> {
  const request = state.approval!;
  const held = state.report!;
  const outcome = approvalOutcome(request);
  const approval = { result: outcome.result, ...(outcome.answeredBy ? { answeredBy: outcome.answeredBy, answeredBySource: outcome.answeredBySource } : {}) };
  const closed = outcome.closeBreaker ? await closeBreaker(rt, state, outcome, until) : [];
  const report: PendingReport = {
    ...held,
    status: outcome.status,
    reasons: [outcome.reason, ...closed, ...held.reasons],
    approval,
    // Nobody answered: the status was the machine's, a human should still look.
    ...(outcome.result === 'timed-out' ? { escalate: true } : {}),
  };
  await rt.publish([{ type: Audit.APPROVAL_ANSWERED, detail: { ...rt.auditBase(state), verdict: held.verdict, reasons: report.reasons, approval: { ...approval, kind: request.kind, question: request.question } } }]);
  rt.logger.info('approval answered', { deploymentId: state.deploymentId, result: outcome.result, answeredBy: outcome.answeredBy, status: outcome.status });
  return out(state, { next: 'report', report });
}

/** Closes the group's circuit breaker for the answer (audited, with the metric); returns what to say about it. Never throws: the answer still decides. */
async function closeBreaker(rt: StepRuntime, state: BakeState, outcome: ApprovalOutcome, until: number): Promise<string[]> {
  if (!rt.config.breaker) return ['the answer asked to close the circuit breaker, but this trigger has none'];
  try {
    // The same words whether this run or an earlier run of the same step closed it (a retried step
    // audits under the same idempotency key); the Circuit Closed event says who and when.
    await rt.changeBreaker(state, (record, now, settings) => closeByHuman(record, outcome.answeredBy, settings, now), until);
    return ['the answer closed the circuit breaker'];
  } catch (e) {
    rt.logger.warn('could not close the circuit breaker', { error: describeError(e) });
    return [`the answer asked to close the circuit breaker, but it could not be written (${describeError(e)}): it closes after its cooldown`];
  }
}
