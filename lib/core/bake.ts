import type { ApprovalRequest, ApprovalResult } from './approval';
import type { SloObservation, Verdict } from './audit-events';
import type { GuardContext, SecondaryContext } from './follow-up';
import type { VerifyContext } from './verify';
import type { HookStatus } from './decision';
import { HOOK_LIMIT_SECONDS } from './evaluator-config';
import { type ArmScope, floorToMinute } from './metric-queries';

/**
 * The contract between the bake's Step Functions state machine and the Lambda steps it runs.
 *
 * The CodeDeploy hook target is a thin starter: it validates the hook event and starts one
 * execution per hook execution (StartExecution is idempotent on the execution name). The state
 * machine carries a {@link BakeState} from step to step; every step is one invocation of the
 * stateless evaluator Lambda, which returns the next state and tells the machine what to do next:
 * wait and call it again, report a status to CodeDeploy, or end. The waits, retries, the report
 * (a direct SDK integration) and the fail-closed Catch-all are the state machine's; every rule is
 * here, in core, so the simulator replays the same functions.
 */

/** CodeDeploy's hook payload: only these two ids (CodeDeploy AppSpec "hooks" section). */
export interface HookEvent {
  readonly DeploymentId: string;
  readonly LifecycleEventHookExecutionId: string;
}

/** The execution input the starter builds: the same for every start of one hook execution. */
export interface BakeExecutionInput {
  readonly deploymentId: string;
  readonly lifecycleEventHookExecutionId: string;
  /**
   * Epoch seconds at which the hook started: CodeDeploy's one-hour clock. The starter sets it from
   * its own clock when it first saw the hook; `resolve` moves it (with `deadline` and `reportBy`)
   * back to the running lifecycle event's `startTime` when CodeDeploy's is earlier (a hook
   * invocation retried asynchronously minutes later: {@link alignToHookStart}).
   */
  readonly hookStartedAt: number;
  /**
   * ISO-8601 instant at which the machine decides with what it has (hook start + the deadline,
   * 55 min by default). The fail-closed path waits for it with a `Wait` state's TimestampPath.
   */
  readonly deadline: string;
  /**
   * ISO-8601 instant after which the machine stops waiting for the evaluator and reports the
   * fail-closed status itself (hook start + {@link MAX_DEADLINE_SECONDS}): a step that hangs or
   * crashes near the deadline must still leave time for the report inside CodeDeploy's hour.
   * Absent in executions started before this field existed.
   */
  readonly reportBy?: string;
}

/** Which step the evaluator Lambda runs. */
export type BakePhase =
  /** Read the deployment, refuse foreign ones, pass rollbacks, run BeforeAllowTraffic checks, or start the bake. */
  | 'resolve'
  /** One bake tick: one GetMetricData call for every SLO and arm, then core's decision. */
  | 'tick'
  /** The report to CodeDeploy was accepted: audit the verdict. */
  | 'reported'
  /** The report met LifecycleEventAlreadyCompletedException: read what CodeDeploy applied, audit it. */
  | 'already-completed'
  /** The report failed every retry: raise an escalation (the machine then fails). */
  | 'report-failed'
  /** The approval gate's wait ended (`approval.answer` or `approval.error`): audit the answer, report its status. */
  | 'approval'
  /** Post-rollback verification (lib/core/verify.ts): read the rollback deployment's restored version, first tick. */
  | 'verify'
  /** One verification tick: the restored version's metrics and health checks, then core's decision. */
  | 'verify-tick'
  /** Guard window (lib/core/follow-up.ts): read the succeeded release's version, first tick. */
  | 'guard'
  /** One guard-window tick: unless a newer deployment started, the release's page tier; on a breach, the rollback deployment. */
  | 'guard-tick'
  /** Secondary action (lib/core/follow-up.ts): a rollback failed; propose the direct action and ask a human. */
  | 'secondary'
  /** The secondary action's question was answered (or not): act once on an approval, audit. */
  | 'secondary-answered';

/**
 * What the machine does after a step: `wait` `waitSeconds` then run the evaluator again with the
 * returned state; `report` the returned `report.status` to CodeDeploy; `done` end (succeeded);
 * `fail` end (failed: the execution's status shows something needs a human); `approve` ask a human
 * (the approval gate, lib/core/approval.ts) with `approval`, `report` holding the status reported
 * when nobody answers.
 *
 * The machine (lib/rollback/bake-state-machine.ts):
 *
 *   Evaluate (Lambda, whole state in, whole state out; Retry on Lambda service errors and on a
 *   crashed or timed-out step, with the same state; Catch-all → FailClosed)
 *     → Choice on `next`: wait → Wait(SecondsPath waitSeconds) → Evaluate
 *                         report → Report; done → Succeed; fail → Fail
 *   Report (codedeploy:putLifecycleEventHookExecutionStatus, Retry with backoff; never retries
 *   LifecycleEventAlreadyCompletedException)
 *     → success: phase := 'reported' → Evaluate (audits the verdict, returns done)
 *     → Catch AlreadyCompleted: reportError, phase := 'already-completed' → Evaluate (reads and
 *       audits what CodeDeploy applied, returns done)
 *     → Catch-all: reportError, phase := 'report-failed' → Evaluate (escalates, returns fail)
 *   FailClosed (the evaluator could not run): codedeploy:getDeployment → rollback creator →
 *   report Succeeded; any other → report Failed; unreadable → wait for `deadline`, report
 *   Succeeded (a rollback is never blocked; the alarm path still guards a release); then
 *   events:putEvents of the verdict and an escalation, then Fail.
 */
export type BakeNext = 'wait' | 'report' | 'done' | 'fail' | 'approve';

/** Versions and arms of one deployment, read once by `resolve` and carried through the bake. */
export interface BakeContext {
  readonly applicationName?: string;
  readonly deploymentGroupName?: string;
  /** The lifecycle event being run (BeforeAllowTraffic, AfterAllowTraffic, AfterAllowTestTraffic…). */
  readonly lifecycleEvent?: string;
  readonly fromVersion?: string;
  readonly toVersion?: string;
  /** The arms whose metrics the bake reads (the new version, and the current one when it serves). */
  readonly arms?: readonly ArmScope[];
  /** Epoch seconds, minute-aligned: the first minute judged (the deployment's createTime). */
  readonly windowStart?: number;
}

/** A decision waiting to be reported, then audited. */
export interface PendingReport {
  readonly status: HookStatus;
  readonly verdict: Verdict;
  readonly reasons: readonly string[];
  readonly observations: readonly SloObservation[];
  /** Also raise an `Escalation Raised` audit event once reported (a human should look). */
  readonly escalate?: boolean;
  /** Incidents that are not the release's (a pre-existing incident), named in the audit. */
  readonly incidents?: ReadonlyArray<{ readonly kind: 'pre-existing'; readonly slo: string; readonly reason: string }>;
  /** Epoch seconds at which the step decided (the first bad signal, for time to recovery). */
  readonly decidedAt?: number;
  /** Shadow mode: the verdict would have failed the hook (rolled the release back); Succeeded was reported. */
  readonly wouldRollback?: boolean;
  /** The approval gate decided the status: how, and who answered. */
  readonly approval?: { readonly result: ApprovalResult; readonly answeredBy?: string; readonly answeredBySource?: 'caller-identity' | 'approved-by' };
}

/** What shadow mode says in place of a Failed report (the audit's first reason). */
export const SHADOW_REASON = 'shadow mode: the trigger would have reported Failed and rolled the release back; it reported Succeeded';

/**
 * A report as shadow mode sends it: a Failed status becomes Succeeded with `wouldRollback`, so the
 * audit trail shows what enforcing would have done while CodeDeploy is never stopped; any other
 * report is unchanged. One function for the evaluator, and the simulator's replay of shadow mode.
 */
export function shadowed<R extends Pick<PendingReport, 'status' | 'reasons'>>(report: R): R & { wouldRollback?: boolean } {
  if (report.status !== 'Failed') return report;
  return { ...report, status: 'Succeeded', wouldRollback: true, reasons: [SHADOW_REASON, ...report.reasons] };
}

/** The error a Catch put on the state (Step Functions' `{ Error, Cause }`). */
export interface CaughtError {
  readonly Error?: string;
  readonly Cause?: string;
}

/** The execution's data between states. Everything a step needs is here: the Lambda keeps nothing. */
export interface BakeState extends BakeExecutionInput {
  readonly phase: BakePhase;
  /** Set by every step: what the machine does next. */
  readonly next?: BakeNext;
  /** For `next: 'wait'`: seconds until the machine calls the evaluator again (with `phase`). */
  readonly waitSeconds?: number;
  readonly context?: BakeContext;
  /** For `next: 'report'`: the status to report and the verdict to audit. */
  readonly report?: PendingReport;
  /** HTTP health checks: consecutive failed probes so far, by check index. */
  readonly httpFailures?: readonly number[];
  /** Ticks run so far (the tick number of the next one). */
  readonly ticks?: number;
  /** Consecutive `resolve` attempts that could not read the deployment. */
  readonly unreadable?: number;
  /** Set by the report's Catch: why the report failed or was refused. */
  readonly reportError?: CaughtError;
  /** For `next: 'approve'` and phase `approval`: the question asked, then its answer or error. */
  readonly approval?: ApprovalRequest;
  /** Phases `verify` and `verify-tick`: the post-rollback verification's settings. */
  readonly verify?: VerifyContext;
  /** Phases `guard` and `guard-tick`: the guard window's settings and the version it rolls back to. */
  readonly guard?: GuardContext;
  /** Phases `secondary` and `secondary-answered`: the failed rollback, the action proposed, the question. */
  readonly secondary?: SecondaryContext;
}

/**
 * Step Functions execution names: 1–80 characters of letters, digits, `-` and `_` (StartExecution
 * API reference). A deployment id is `d-` and 9 characters; the raw hook execution id is far longer
 * and contains `+/=`, so it is hashed. The same hook always yields the same name: a second start of
 * an open execution with the same input succeeds without starting anything, and a start after it
 * closed fails with ExecutionAlreadyExists (StartExecution is idempotent for Standard workflows).
 */
export function bakeExecutionName(deploymentId: string, hookExecutionIdSha256Hex: string): string {
  return `${bakeExecutionNamePrefix(deploymentId)}${hookExecutionIdSha256Hex.slice(0, 32)}`;
}

/** What every bake execution of one deployment's name starts with (the CLI finds them by it). */
export function bakeExecutionNamePrefix(deploymentId: string): string {
  return `${deploymentId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 47)}-`;
}

/**
 * The latest deadline allowed: the report (retried for up to ~2.5 minutes by the state machine)
 * must still reach CodeDeploy inside its one-hour hook limit.
 */
export const MAX_DEADLINE_SECONDS = HOOK_LIMIT_SECONDS - 180;

// ---------------------------------------------------------------------------------------------
// The bake's clock. The step Lambda and the simulator call these same functions.

/**
 * Seconds one step may spend retrying AWS calls (throttling, 5xx, timeouts, AccessDenied while IAM
 * propagates) before it decides with what it read: a transiently unreadable tick is followed by
 * another tick, so the budget only has to cover a burst, not an outage.
 */
export const STEP_RETRY_BUDGET_SECONDS = 60;

/**
 * Epoch seconds of the execution's ISO-8601 `deadline` (or of another instant of the state, named
 * by `field`); throws on anything else (a garbled state).
 */
export function parseDeadline(deadline: string, field: 'deadline' | 'reportBy' = 'deadline'): number {
  const ms = typeof deadline === 'string' ? Date.parse(deadline) : NaN;
  if (!Number.isFinite(ms)) throw new Error(`invalid bake state: ${field} must be an ISO-8601 instant, got ${JSON.stringify(deadline)}`);
  return ms / 1000;
}

/**
 * Epoch seconds at which CodeDeploy started the hook being run: the `startTime` of the lifecycle
 * event named `lifecycleEvent` whose status is InProgress (BatchGetDeploymentTargets). Undefined
 * without one: a hook already decided, or a target that does not say.
 */
export function hookStartTime(
  events: ReadonlyArray<{ readonly name?: string; readonly status?: string; readonly startTime?: number }> | undefined,
  lifecycleEvent: string | undefined,
): number | undefined {
  if (lifecycleEvent === undefined) return undefined;
  return events?.find((e) => e.name === lifecycleEvent && e.status === 'InProgress')?.startTime;
}

/**
 * CodeDeploy's clock, not the starter's. The starter stamps `hookStartedAt`, `deadline` and
 * `reportBy` from its own clock when it first saw the hook; when that invocation failed and Lambda
 * retried it asynchronously (minutes apart), those are minutes late and the deadline would fall
 * past CodeDeploy's one-hour limit. Given the hook's lifecycle event `startTime` (epoch seconds,
 * {@link hookStartTime}) earlier than `hookStartedAt`, the clock moves back: `hookStartedAt :=
 * startTime`, and `deadline` and `reportBy` keep their offsets from the new start (so they only
 * ever move earlier). A `startTime` that is missing, not a time, not earlier than `hookStartedAt`,
 * or after `now` (the evaluator's clock) leaves the state as it is (the same object).
 */
export function alignToHookStart<T extends BakeExecutionInput>(state: T, startTime: number | undefined, now: number): T {
  if (startTime === undefined || !Number.isFinite(startTime) || startTime <= 0 || startTime >= state.hookStartedAt || startTime > now) return state;
  const shift = state.hookStartedAt - startTime;
  const earlier = (iso: string, field: 'deadline' | 'reportBy') => {
    const at = parseDeadline(iso, field);
    return new Date(Math.min(at, at - shift) * 1000).toISOString();
  };
  return {
    ...state,
    hookStartedAt: startTime,
    deadline: earlier(state.deadline, 'deadline'),
    ...(state.reportBy !== undefined ? { reportBy: earlier(state.reportBy, 'reportBy') } : {}),
  };
}

/**
 * When the bake decides with what it has (epoch seconds): the earlier of the execution's `deadline`
 * (the starter's, hook start + 55 min by default) and hook start + CodeDeploy's hour − the
 * evaluator's `deadlineMarginSeconds`. Without an execution deadline (the simulator), the latter.
 */
export function bakeDeadline(input: { readonly hookStartedAt: number; readonly deadline?: string }, deadlineMarginSeconds: number): number {
  const byMargin = input.hookStartedAt + HOOK_LIMIT_SECONDS - deadlineMarginSeconds;
  return input.deadline === undefined ? byMargin : Math.min(byMargin, parseDeadline(input.deadline));
}

/**
 * The last instant a step may still retry a call: its retry budget, but never past the point where
 * the report (retried by the state machine) could miss CodeDeploy's hour. Retries are bounded by
 * the time left, never by a count ("Evidence, or it is not a pass", DESIGN.md).
 */
export function retryDeadline(now: number, hookStartedAt: number, budgetSeconds: number = STEP_RETRY_BUDGET_SECONDS): number {
  return Math.min(now + budgetSeconds, hookStartedAt + MAX_DEADLINE_SECONDS);
}

/** What one tick sees. */
export interface TickClock {
  /** Epoch seconds of the tick. */
  readonly now: number;
  /** Exclusive end of the data trusted to be complete: `floorToMinute(now − metricDelay)`. */
  readonly end: number;
  /** Seconds of metrics judged since the hook started (AfterAllowTraffic: all traffic shifted). */
  readonly bakedSeconds: number;
  /** Seconds since CodeDeploy invoked the hook (its one-hour clock). */
  readonly hookAgeSeconds: number;
}

export function tickClock(now: number, hookStartedAt: number, metricDelaySeconds: number): TickClock {
  const end = floorToMinute(now - metricDelaySeconds);
  return { now, end, bakedSeconds: Math.max(0, end - floorToMinute(hookStartedAt)), hookAgeSeconds: now - hookStartedAt };
}

/**
 * Seconds until the next tick: the tick interval, cut short so the last tick runs at the deadline
 * (rounded up to a whole second: Step Functions waits whole seconds). At least 1.
 */
export function nextWaitSeconds(now: number, tickSeconds: number, deadline: number): number {
  return Math.max(1, Math.min(Math.ceil(tickSeconds), Math.ceil(deadline - now)));
}

/**
 * The first minute judged: the deployment's createTime floored to the minute, so a canary's whole
 * shift is read (both versions served traffic on the same minutes); the hook's start without one.
 */
export function bakeWindowStart(createTimeSeconds: number | undefined, hookStartedAt: number): number {
  return floorToMinute(createTimeSeconds ?? hookStartedAt);
}

// ---------------------------------------------------------------------------------------------
// Input checks: the starter validates hook events; a step still refuses a garbled state loudly
// (the machine's Catch-all then reports the fail-closed status) instead of acting on `undefined`.

const PHASES: ReadonlySet<string> = new Set<BakePhase>([
  'resolve',
  'tick',
  'reported',
  'already-completed',
  'report-failed',
  'approval',
  'verify',
  'verify-tick',
  'guard',
  'guard-tick',
  'secondary',
  'secondary-answered',
]);

/** Phases of the follow-up machine: they answer no hook, so CodeDeploy's hour does not bound them. */
const FOLLOW_UP_PHASES: ReadonlySet<string> = new Set<BakePhase>(['verify', 'verify-tick', 'guard', 'guard-tick', 'secondary', 'secondary-answered']);

/** Whether a step of this phase answers no lifecycle hook (its retries are bounded by its own budget only). */
export function isFollowUpPhase(phase: BakePhase): boolean {
  return FOLLOW_UP_PHASES.has(phase);
}

/** Returns the state when its ids, times and phase are usable; throws a clear error otherwise. */
export function checkBakeState(value: unknown): BakeState {
  const fail = (what: string): never => {
    throw Object.assign(new Error(`invalid bake state: ${what}`), { name: 'InvalidBakeState' });
  };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return fail(`expected an object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  const s = value as Record<string, unknown>;
  const id = (key: string, max: number) => {
    const v = s[key];
    if (typeof v !== 'string' || v.length === 0 || v.length > max) fail(`${key} must be a non-empty string of at most ${max} characters, got ${JSON.stringify(v) ?? 'nothing'}`);
  };
  id('deploymentId', 64);
  id('lifecycleEventHookExecutionId', 2_048);
  if (typeof s.hookStartedAt !== 'number' || !Number.isFinite(s.hookStartedAt) || s.hookStartedAt <= 0) {
    fail(`hookStartedAt must be epoch seconds, got ${JSON.stringify(s.hookStartedAt) ?? 'nothing'}`);
  }
  parseDeadline(s.deadline as string);
  if (s.reportBy !== undefined && (typeof s.reportBy !== 'string' || !Number.isFinite(Date.parse(s.reportBy)))) {
    fail(`reportBy must be an ISO-8601 instant, got ${JSON.stringify(s.reportBy)}`);
  }
  if (typeof s.phase !== 'string' || !PHASES.has(s.phase)) fail(`phase must be one of ${[...PHASES].join(', ')}, got ${JSON.stringify(s.phase) ?? 'nothing'}`);
  if ((s.phase === 'verify' || s.phase === 'verify-tick') && !(typeof (s.verify as VerifyContext | undefined)?.durationSeconds === 'number')) {
    fail(`phase ${s.phase} needs verify.durationSeconds`);
  }
  if ((s.phase === 'guard' || s.phase === 'guard-tick') && !(typeof (s.guard as GuardContext | undefined)?.durationSeconds === 'number')) {
    fail(`phase ${s.phase} needs guard.durationSeconds`);
  }
  if ((s.phase === 'secondary' || s.phase === 'secondary-answered') && !(typeof (s.secondary as SecondaryContext | undefined)?.approvalTimeoutSeconds === 'number')) {
    fail(`phase ${s.phase} needs secondary.approvalTimeoutSeconds`);
  }
  if (s.phase === 'secondary-answered' && !(s.secondary as SecondaryContext).action) fail('phase secondary-answered needs the action that was proposed');
  if (s.phase === 'tick' || s.phase === 'verify-tick' || s.phase === 'guard-tick') {
    const c = s.context as BakeContext | undefined;
    if (!c || !Array.isArray(c.arms) || c.arms.length === 0 || c.arms.some((a) => (a?.arm !== 'canary' && a?.arm !== 'baseline') || typeof a.dimensions !== 'object' || a.dimensions === null)) {
      fail('a tick needs context.arms (the arms resolve found)');
    }
    if (typeof c!.windowStart !== 'number' || !Number.isFinite(c!.windowStart)) fail('a tick needs context.windowStart (epoch seconds)');
  }
  if ((s.phase === 'reported' || s.phase === 'already-completed') && !isReport(s.report)) fail(`phase ${s.phase} needs the report that was sent`);
  if (s.phase === 'approval') {
    if (!isReport(s.report)) fail('phase approval needs the report held for the answer');
    if (!isApprovalRequest(s.approval)) fail('phase approval needs the approval request that was asked');
  }
  if (s.httpFailures !== undefined && (!Array.isArray(s.httpFailures) || s.httpFailures.some((n) => typeof n !== 'number'))) fail('httpFailures must be an array of numbers');
  return value as BakeState;
}

function isApprovalRequest(a: unknown): a is ApprovalRequest {
  const r = a as ApprovalRequest | undefined;
  const status = (x: unknown) => x === 'Succeeded' || x === 'Failed';
  return !!r && typeof r.timeoutSeconds === 'number' && typeof r.expiresAt === 'string' && status(r.onApprove) && status(r.onReject) && status(r.onTimeout);
}

function isReport(r: unknown): r is PendingReport {
  const p = r as PendingReport | undefined;
  return !!p && (p.status === 'Succeeded' || p.status === 'Failed') && typeof p.verdict === 'string' && Array.isArray(p.reasons);
}
