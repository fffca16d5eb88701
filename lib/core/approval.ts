import type { HookStatus } from './decision';
import { isTestTrafficHook } from './deployment-kind';

/**
 * The approval gate: a verdict a machine should not settle alone (inconclusive, or a pass during an
 * incident that is not the release's) waits for a human's answer, with a timeout inside
 * CodeDeploy's hook budget and a documented outcome when nobody answers.
 *
 * The state machine asks with EventBridge PutEvents and the `.waitForTaskToken` integration
 * pattern (Step Functions developer guide, "Wait for a Callback with Task Token"): the request is
 * an audit event (`Approval Requested`) carrying the task token, routed to the notification topic.
 * Someone answers with SendTaskSuccess (approve) or SendTaskFailure with error {@link
 * APPROVAL_REJECTED_ERROR} (reject) — the CLI's `approve` / `reject`, or the `aws stepfunctions`
 * commands the notice prints. The task's TimeoutSecondsPath ends the wait with `States.Timeout`.
 * Every rule about the answer is here, so the evaluator and the tests share it.
 */

/** The error name a rejection sends with SendTaskFailure. */
export const APPROVAL_REJECTED_ERROR = 'Rejected';
/** Step Functions' error when a task's TimeoutSeconds(Path) passes (developer guide, "Error names"). */
export const STATES_TIMEOUT_ERROR = 'States.Timeout';
/** Shortest wait worth asking a human for; with less time left the timeout outcome applies at once. */
export const MIN_APPROVAL_SECONDS = 60;
/**
 * The wait ends this long before the report-by time (hook start + 57 min): after it the answer's
 * evaluator step (two 130-s attempts at worst) must still run and hand the report to the machine
 * before report-by, whose ~2.5 minutes of retries then fit inside CodeDeploy's hour.
 */
export const APPROVAL_REPORT_MARGIN_SECONDS = 300;
/**
 * The latest a wait may end, seconds after the hook started (52 min): bake.ts's MAX_DEADLINE_SECONDS
 * (CodeDeploy's hour minus the report's 3 minutes) minus the margin, spelled out here because
 * bake.ts depends on this module's types.
 */
export const APPROVAL_LAST_END_SECONDS = 3_600 - 180 - APPROVAL_REPORT_MARGIN_SECONDS;
/** The longest `approvedBy`, `callerIdentity` or `reason` kept from an answer (the rest is cut). */
export const MAX_ANSWER_FIELD = 256;

/** The evaluator configuration's part for the gate: present with InconclusiveAction.ESCALATE or a circuit breaker. */
export interface ApprovalSettings {
  /** How long the machine waits for an answer (cut to what is left of the hook budget). */
  readonly timeoutSeconds: number;
  /**
   * Inconclusive verdicts (and passes during a pre-existing incident) ask
   * (`InconclusiveAction.ESCALATE`). False when only the circuit breaker asks.
   * @default true
   */
  readonly escalateInconclusive?: boolean;
}

/** What each answer reports: the release continues or is rolled back. */
export interface ApprovalOutcomes {
  readonly onApprove: HookStatus;
  readonly onReject: HookStatus;
  readonly onTimeout: HookStatus;
}

/** The question the machine asks, carried in the bake state while it waits (`$.approval`). */
export interface ApprovalRequest extends ApprovalOutcomes {
  /** Why a human is asked: an inconclusive verdict, a pass during an incident, or a rollback the open breaker holds. */
  readonly kind: 'inconclusive' | 'incident' | 'breaker';
  /** One line: what is ambiguous. The numbers are the pending report's observations. */
  readonly question: string;
  /** Seconds the task waits: the configured timeout, cut to the hook budget. A whole number ≥ 60. */
  readonly timeoutSeconds: number;
  /** ISO-8601 instant at which the wait ends without an answer. */
  readonly expiresAt: string;
  /** Set by the task: SendTaskSuccess's output (an approval). */
  readonly answer?: unknown;
  /** Set by the task's Catch: a rejection, the timeout, or a request that could not be sent. */
  readonly error?: { readonly Error?: string; readonly Cause?: string };
}

/**
 * What SendTaskSuccess's output (approve) or SendTaskFailure's cause (reject) may carry, all
 * optional: who answered as they say (`approvedBy`), the caller identity the CLI read with STS
 * GetCallerIdentity (`callerIdentity`), and why (`reason`). Step Functions does not tell the
 * execution who called SendTaskSuccess; CloudTrail records it.
 */
export interface ApprovalAnswer {
  readonly approvedBy?: string;
  readonly callerIdentity?: string;
  readonly reason?: string;
  /** Also close the circuit breaker (`--close-breaker`): the problem that opened it is fixed. */
  readonly closeBreaker?: boolean;
}

/** How a wait ended. */
export type ApprovalResult = 'approved' | 'rejected' | 'timed-out' | 'not-asked';

/** The gate's outcome: the status to report and what the audit says about the answer. */
export interface ApprovalOutcome {
  readonly result: ApprovalResult;
  readonly status: HookStatus;
  /** Who answered: the caller identity when the answer has one, else its `approvedBy`. */
  readonly answeredBy?: string;
  /** Where `answeredBy` comes from. */
  readonly answeredBySource?: 'caller-identity' | 'approved-by';
  readonly reason: string;
  /** The answer asks to close the circuit breaker too. */
  readonly closeBreaker?: boolean;
}

/** The parts of a decided report the gate looks at. */
export interface GateInput {
  readonly status: HookStatus;
  readonly verdict: string;
  readonly incidents?: readonly unknown[];
  readonly lifecycleEvent?: string;
}

/**
 * Whether a decided report waits for a human: an inconclusive verdict (not at AfterAllowTestTraffic,
 * where too little test traffic passes by design), or a pass while an incident that is not the
 * release's is going on. Never a failing verdict on evidence: a rollback is never held.
 */
export function needsApproval(report: GateInput, settings: ApprovalSettings | undefined): boolean {
  if (settings === undefined || settings.escalateInconclusive === false) return false;
  if (report.verdict === 'inconclusive') return !(isTestTrafficHook(report.lifecycleEvent) && report.status === 'Succeeded');
  return report.verdict === 'pass' && (report.incidents?.length ?? 0) > 0;
}

/**
 * The question for a report that needs approval, or why none can be asked: the wait must end
 * {@link APPROVAL_REPORT_MARGIN_SECONDS} before `reportBy` (hook start + 57 min), so the answer's step
 * and the report still reach CodeDeploy inside its hour.
 * `fallback` is the status reported when nobody answers (the configured timeout action).
 */
export function approvalRequest(
  report: GateInput & { readonly reasons: readonly string[] },
  settings: ApprovalSettings,
  fallback: HookStatus,
  now: number,
  reportBy: number,
  breaker?: { readonly question: string },
): { request: ApprovalRequest } | { notAsked: string } {
  const left = Math.floor(reportBy - APPROVAL_REPORT_MARGIN_SECONDS - now);
  const timeoutSeconds = Math.min(settings.timeoutSeconds, left);
  if (timeoutSeconds < MIN_APPROVAL_SECONDS) {
    return { notAsked: `no time left to ask a human (${Math.max(0, left)} s before the wait's latest end, hook start + ${APPROVAL_LAST_END_SECONDS / 60} min; at least ${MIN_APPROVAL_SECONDS} s needed): ${fallback} as if unanswered` };
  }
  const kind = breaker ? 'breaker' : report.verdict === 'inconclusive' ? 'inconclusive' : 'incident';
  const what =
    breaker?.question ??
    `${kind === 'inconclusive' ? 'The bake is inconclusive' : 'The release passed, but the service is in an incident that is not the release\u2019s'}: ${report.reasons[0] ?? 'no reason given'}.`;
  return {
    request: {
      kind,
      question: `${what} Approve to let the release continue (Succeeded), reject to roll it back (Failed); without an answer in ${formatWait(timeoutSeconds)}: ${fallback}.`,
      timeoutSeconds,
      expiresAt: new Date((now + timeoutSeconds) * 1000).toISOString(),
      onApprove: 'Succeeded',
      onReject: 'Failed',
      onTimeout: fallback,
    },
  };
}

function formatWait(seconds: number): string {
  return seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
}

/** How any question's wait ended (the approval gate's, a secondary action's), from what the task left in the state. */
export interface AnswerOf {
  readonly result: Exclude<ApprovalResult, 'not-asked'>;
  readonly answeredBy?: string;
  readonly answeredBySource?: 'caller-identity' | 'approved-by';
  readonly closeBreaker?: boolean;
  /** What happened, in words: `approved by … (reason)`, `rejected …`, or why nobody answered. */
  readonly said: string;
}

/**
 * How a wait ended: an output is an approval (whatever it holds: SendTaskSuccess is the approval),
 * error {@link APPROVAL_REJECTED_ERROR} a rejection, the timeout or any other error (the request
 * could not be sent) no answer. An answer's fields are strings cut to {@link MAX_ANSWER_FIELD};
 * anything else in it is ignored.
 */
export function answerOf(request: Pick<ApprovalRequest, 'answer' | 'error' | 'timeoutSeconds' | 'expiresAt'>): AnswerOf {
  const answered = (result: 'approved' | 'rejected', answer: ApprovalAnswer): AnswerOf => ({
    result,
    ...who(answer),
    ...(answer.closeBreaker ? { closeBreaker: true } : {}),
    said: `${result}${byWhom(answer)}${answer.reason ? ` (${answer.reason})` : ''}`,
  });
  if (request.error === undefined) return answered('approved', answerFields(request.answer));
  const error = request.error.Error ?? 'unknown error';
  if (error === APPROVAL_REJECTED_ERROR) return answered('rejected', answerFields(parseCause(request.error.Cause)));
  const said =
    error === STATES_TIMEOUT_ERROR
      ? `no answer within ${formatWait(request.timeoutSeconds)} (until ${request.expiresAt})`
      : `the approval request could not be sent or answered (${error}${request.error.Cause ? `: ${clipField(request.error.Cause)}` : ''})`;
  return { result: 'timed-out', said };
}

/** The approval gate's outcome: how the wait ended ({@link answerOf}) and the hook status it gives. */
export function approvalOutcome(request: ApprovalRequest): ApprovalOutcome {
  const { said, ...answer } = answerOf(request);
  if (answer.result === 'timed-out') return { result: 'timed-out', status: request.onTimeout, reason: `${said}: ${request.onTimeout}, as configured for an unanswered approval` };
  const status = answer.result === 'approved' ? request.onApprove : request.onReject;
  return { ...answer, status, reason: `${said}: ${status}` };
}

function who(answer: ApprovalAnswer): Pick<ApprovalOutcome, 'answeredBy' | 'answeredBySource'> {
  if (answer.callerIdentity) return { answeredBy: answer.callerIdentity, answeredBySource: 'caller-identity' };
  if (answer.approvedBy) return { answeredBy: answer.approvedBy, answeredBySource: 'approved-by' };
  return {};
}

function byWhom(answer: ApprovalAnswer): string {
  const names = [answer.approvedBy, answer.callerIdentity && answer.callerIdentity !== answer.approvedBy ? answer.callerIdentity : undefined].filter((n) => n);
  return names.length > 0 ? ` by ${names.join(' as ')}` : ' (the answer did not say by whom; CloudTrail has the SendTask call)';
}

function parseCause(cause: string | undefined): unknown {
  if (cause === undefined) return undefined;
  // A rejection with a plain-text cause (`aws stepfunctions send-task-failure --cause "bad"`), or
  // one that parses as JSON but is no object (`--cause 4521`), is its reason.
  const parsed = safeParse(cause);
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : { reason: cause };
}

/** The answer's string fields, cut; a non-object answer (a JSON string, a number) says nothing. */
export function answerFields(value: unknown): ApprovalAnswer {
  const v = typeof value === 'string' ? safeParse(value) : value;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return {};
  const o = v as Record<string, unknown>;
  const field = (k: keyof ApprovalAnswer) => (typeof o[k] === 'string' && (o[k] as string).trim().length > 0 ? clipField((o[k] as string).trim()) : undefined);
  const fields = { approvedBy: field('approvedBy'), callerIdentity: field('callerIdentity'), reason: field('reason'), closeBreaker: o.closeBreaker === true ? true : undefined };
  return Object.fromEntries(Object.entries(fields).filter(([, x]) => x !== undefined)) as ApprovalAnswer;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function clipField(s: string): string {
  return s.length > MAX_ANSWER_FIELD ? `${s.slice(0, MAX_ANSWER_FIELD - 1)}\u2026` : s;
}
