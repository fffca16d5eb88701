import { approvalOutcome } from '../../lib/core/approval';
import { AuditDetailType as Audit } from '../../lib/core/audit-events';
import type { BakeState, PendingReport } from '../../lib/core/bake';
import { type StepRuntime, out } from './runtime';

/**
 * The approval gate's wait ended (the machine put SendTaskSuccess's output in `approval.answer`, or
 * the rejection, the timeout or a failed request in `approval.error`): audit how it ended and who
 * answered, then hand the status core's rule gives to the machine's report. Deciding the same on a
 * repeat: the answer is in the state, and the audit event's idempotency key is the same.
 */
export async function answered(rt: StepRuntime, state: BakeState): Promise<BakeState> {
  const request = state.approval!;
  const held = state.report!;
  const outcome = approvalOutcome(request);
  const approval = { result: outcome.result, ...(outcome.answeredBy ? { answeredBy: outcome.answeredBy, answeredBySource: outcome.answeredBySource } : {}) };
  const report: PendingReport = {
    ...held,
    status: outcome.status,
    reasons: [outcome.reason, ...held.reasons],
    approval,
    // Nobody answered: the status was the machine's, a human should still look.
    ...(outcome.result === 'timed-out' ? { escalate: true } : {}),
  };
  await rt.publish([{ type: Audit.APPROVAL_ANSWERED, detail: { ...rt.auditBase(state), verdict: held.verdict, reportedStatus: outcome.status, reasons: report.reasons, approval: { ...approval, question: request.question } } }]);
  rt.logger.info('approval answered', { deploymentId: state.deploymentId, result: outcome.result, answeredBy: outcome.answeredBy, status: outcome.status });
  return out(state, { next: 'report', report });
}
