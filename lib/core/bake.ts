import type { SloObservation, Verdict } from './audit-events';
import type { HookStatus } from './decision';
import { HOOK_LIMIT_SECONDS } from './evaluator-config';
import type { ArmScope } from './metric-queries';

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
  /** Epoch seconds at which the starter first saw the hook: CodeDeploy's one-hour clock. */
  readonly hookStartedAt: number;
  /**
   * ISO-8601 instant at which the machine decides with what it has (hook start + the deadline,
   * 55 min by default). The fail-closed path waits for it with a `Wait` state's TimestampPath.
   */
  readonly deadline: string;
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
  | 'report-failed';

/**
 * What the machine does after a step: `wait` `waitSeconds` then run the evaluator again with the
 * returned state; `report` the returned `report.status` to CodeDeploy; `done` end (succeeded);
 * `fail` end (failed: the execution's status shows something needs a human).
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
export type BakeNext = 'wait' | 'report' | 'done' | 'fail';

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
}

/**
 * Step Functions execution names: 1–80 characters of letters, digits, `-` and `_` (StartExecution
 * API reference). A deployment id is `d-` and 9 characters; the raw hook execution id is far longer
 * and contains `+/=`, so it is hashed. The same hook always yields the same name: a second start of
 * an open execution with the same input succeeds without starting anything, and a start after it
 * closed fails with ExecutionAlreadyExists (StartExecution is idempotent for Standard workflows).
 */
export function bakeExecutionName(deploymentId: string, hookExecutionIdSha256Hex: string): string {
  const safeDeployment = deploymentId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 47);
  return `${safeDeployment}-${hookExecutionIdSha256Hex.slice(0, 32)}`;
}

/** Default deadline: decide 55 minutes after the hook started, 5 minutes inside CodeDeploy's hour. */
export const DEFAULT_DEADLINE_SECONDS = HOOK_LIMIT_SECONDS - 300;
/**
 * The latest deadline allowed: the report (retried for up to ~2.5 minutes by the state machine)
 * must still reach CodeDeploy inside its one-hour hook limit.
 */
export const MAX_DEADLINE_SECONDS = HOOK_LIMIT_SECONDS - 180;
