/**
 * The CodeDeploy lifecycle hook target: validates the hook event and starts the bake's Step
 * Functions execution, one per hook execution. Everything durable (waits, retries, the report to
 * CodeDeploy, the fail-closed path) belongs to the state machine; this handler only starts it, and
 * reports by itself only when Step Functions cannot be reached for its whole time budget.
 *
 * SDK clients are loaded lazily (`import()`): the Lambda Node.js runtime ships SDK v3 and, since
 * nodejs18.x, resolves ES-module imports through NODE_PATH (AWS Compute Blog, "Node.js 18.x runtime
 * now available in AWS Lambda"), so the bundle keeps `@aws-sdk/*` external and the module's init
 * stays small.
 */
import { createHash } from 'node:crypto';
import type { CodeDeployClient, DeploymentInfo } from '@aws-sdk/client-codedeploy';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { Logger } from '@aws-lambda-powertools/logger';
// Core modules are imported one by one, not through the `lib/core` barrel: the barrel brings the
// emulator, the simulator and the canary statistics the starter never uses.
import { AuditDetailType, type AuditEventDetail, type Verdict, auditEvent } from '../../lib/core/audit-events';
import { type BakeExecutionInput, MAX_DEADLINE_SECONDS, bakeExecutionName } from '../../lib/core/bake';
import { DEFAULT_DEADLINE_SECONDS } from '../../lib/core/defaults';
import type { HookStatus } from '../../lib/core/decision';
import { isDeploymentFinished, isRollbackDeployment } from '../../lib/core/deployment-kind';
import { StarterEnv, deadlineSecondsFromEnv } from '../../lib/core/handler-env';
import { validateHookEvent } from '../../lib/core/handler-events';
import type { AuditSink } from '../shared/audit';
import { HandlerLogger, Lazy, RemainingTime, budgetEnd, eventBridgeAuditOnFirstUse, handlerLogger, neverThrowing, once, sleep } from '../shared/handler-kit';
import { errorName, retryUntil, withRetry } from '../shared/retry';

export interface StarterDeps {
  /** ARN of the bake state machine. */
  readonly stateMachineArn: string;
  /**
   * The trigger's own CodeDeploy application and deployment group, named in every audit event
   * (the notices rule matches on the group), even when the deployment could not be read.
   */
  readonly applicationName?: string;
  readonly deploymentGroupName?: string;
  /** Shadow mode: the fallback reports Succeeded where it would fail closed (audited with `wouldRollback`). */
  readonly shadow?: boolean;
  /** Seconds from the hook's start to the machine's deadline. @default DEFAULT_DEADLINE_SECONDS */
  readonly deadlineSeconds?: number;
  readonly sfn: Lazy<SFNClient>;
  /** Only used by the fallback, when Step Functions cannot be reached. */
  readonly codedeploy: Lazy<CodeDeployClient>;
  /** Where audit events go; wrapped so that it never throws. */
  readonly audit: AuditSink | Lazy<AuditSink>;
  readonly logger: HandlerLogger;
  /** Epoch seconds. */
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /**
   * Milliseconds of the invocation kept back from StartExecution's retries for the fallback
   * (GetDeployment, the report, the audit). @default 20000
   */
  readonly fallbackReserveMs?: number;
  /** The budget when the handler is called without a Lambda context. @default 60000 */
  readonly defaultBudgetMs?: number;
}

/** Of the fallback's reserve: seconds kept for the report and the audit after GetDeployment's retries. */
const REPORT_RESERVE_SECONDS = 8;
/** Seconds kept for the audit after the report's (or DescribeExecution's) retries. */
const AUDIT_RESERVE_SECONDS = 3;

type Ids = { readonly deploymentId: string; readonly lifecycleEventHookExecutionId: string };
type Detail = Omit<AuditEventDetail, 'schemaVersion' | 'idempotencyKey' | 'occurredAt'>;

export function sha256hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The execution ARN of `name` under a state machine: `arn:…:states:region:account:stateMachine:M`
 * → `arn:…:states:region:account:execution:M:name`. Undefined for anything else.
 */
export function executionArnFor(stateMachineArn: string, name: string): string | undefined {
  return /^arn:[^:]+:states:[^:]*:[^:]*:stateMachine:[^:]+$/.test(stateMachineArn) ? `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}` : undefined;
}

/** The bake's execution name and input for one hook execution, started at `now` (epoch seconds). */
export function bakeStart(ids: Ids, now: number, deadlineSeconds: number): { name: string; input: BakeExecutionInput } {
  const hookStartedAt = Math.floor(now);
  return {
    name: bakeExecutionName(ids.deploymentId, sha256hex(ids.lifecycleEventHookExecutionId)),
    input: {
      deploymentId: ids.deploymentId,
      lifecycleEventHookExecutionId: ids.lifecycleEventHookExecutionId,
      hookStartedAt,
      deadline: new Date((hookStartedAt + deadlineSeconds) * 1000).toISOString(),
      reportBy: new Date((hookStartedAt + MAX_DEADLINE_SECONDS) * 1000).toISOString(),
    },
  };
}

/** A short, safe rendering of an event for a log line. */
function preview(event: unknown): string {
  try {
    const text = JSON.stringify(event) ?? String(event);
    return text.length > 300 ? `${text.slice(0, 300)}… (${text.length} characters)` : text;
  } catch {
    return Object.prototype.toString.call(event);
  }
}

/** A call retried until an instant, counting its attempts (for the audit). */
interface Attempted<T> {
  readonly value?: T;
  readonly error?: unknown;
  readonly attempts: number;
}

function describeFailure(error: unknown, attempts: number): string {
  return `${errorName(error)}${attempts > 1 ? ` after ${attempts} attempts` : ''}`;
}

/** What every invocation uses: the deps, the settings with their defaults, the never-throwing audit. */
interface Starter {
  readonly deps: StarterDeps;
  readonly logger: HandlerLogger;
  readonly deadlineSeconds: number;
  readonly fallbackReserveSeconds: number;
  publish(events: Array<[AuditDetailType, Detail]>): Promise<void>;
}

/** The Step Functions client and the module of its commands. */
interface Sfn {
  readonly client: SFNClient;
  readonly commands: typeof import('@aws-sdk/client-sfn');
}

export function createStarter(deps: StarterDeps) {
  const audit = neverThrowing(deps.audit, deps.logger);
  // The trigger's own group first: the notices rule matches on it.
  const own = (detail: Detail): Detail => ({
    ...detail,
    applicationName: deps.applicationName ?? detail.applicationName,
    deploymentGroupName: deps.deploymentGroupName ?? detail.deploymentGroupName,
  });
  const s: Starter = {
    deps,
    logger: deps.logger,
    deadlineSeconds: deps.deadlineSeconds ?? DEFAULT_DEADLINE_SECONDS,
    fallbackReserveSeconds: (deps.fallbackReserveMs ?? 20_000) / 1000,
    publish: (events) => audit.publish(events.map(([type, detail]) => auditEvent(type, own(detail), new Date(deps.now() * 1000)))),
  };
  return (event: unknown, context?: RemainingTime): Promise<void> => start(s, event, context);
}

/** Validate the hook event, start its bake execution, and deal with a start that did not happen. */
async function start(s: Starter, event: unknown, context: RemainingTime | undefined): Promise<void> {
  const end = budgetEnd(s.deps.now(), context, s.deps.defaultBudgetMs);
  const ids = await hookIds(s, event);
  if (!ids) return;
  // Built once: a retry whose earlier attempt did start the execution (its response lost) sends
  // the same name and input, which Step Functions answers with that same execution.
  const { name, input } = bakeStart(ids, s.deps.now(), s.deadlineSeconds);
  let sfn: Sfn;
  try {
    const [client, commands] = await Promise.all([s.deps.sfn(), import('@aws-sdk/client-sfn')]);
    sfn = { client, commands };
  } catch (e) {
    s.logger.error('could not load the Step Functions client', { error: errorName(e) });
    return fallback(s, ids, name, { error: e, attempts: 0 }, end);
  }
  const started = await attempt(
    s,
    (abortSignal) => sfn.client.send(new sfn.commands.StartExecutionCommand({ stateMachineArn: s.deps.stateMachineArn, name, input: JSON.stringify(input) }), { abortSignal }),
    end - s.fallbackReserveSeconds,
    'StartExecution',
  );
  if (started.value) {
    s.logger.info('bake started', { executionArn: started.value.executionArn, name, deploymentId: ids.deploymentId, deadline: input.deadline });
    return;
  }
  if (errorName(started.error) === 'ExecutionAlreadyExists') return suppressDuplicate(s, ids, name, sfn, end);
  return startFailed(s, ids, name, sfn, started, end);
}

/** The hook's ids, or undefined for an invalid event (refused loudly: retrying garbage helps nobody). */
async function hookIds(s: Starter, event: unknown): Promise<Ids | undefined> {
  const checked = validateHookEvent(event);
  if (checked.ok) return { deploymentId: checked.event.DeploymentId, lifecycleEventHookExecutionId: checked.event.LifecycleEventHookExecutionId };
  s.logger.error('invalid hook event', { problem: checked.problem, event: preview(event) });
  await s.publish([[AuditDetailType.ESCALATION_RAISED, { deploymentId: checked.deploymentId ?? 'unknown', reasons: [`invalid hook event: ${checked.problem}`] }]]);
  return undefined;
}

/**
 * Retries `call` on throttling, 5xx, timeouts and AccessDenied (IAM propagating right after a
 * deploy) until `until` (epoch seconds): bounded by the time left, never by a count. Each attempt
 * gets an abort signal for the time left, so one hung request cannot overrun the invocation.
 */
async function attempt<T>(s: Starter, call: (signal: AbortSignal) => Promise<T>, until: number, what: string): Promise<Attempted<T>> {
  let attempts = 0;
  const options = retryUntil(until, s.deps, (e, n) => s.logger.warn(`${what} failed; retrying`, { error: errorName(e), attempt: n }));
  try {
    const value = await withRetry(() => {
      attempts++;
      return call(AbortSignal.timeout(Math.max(1, Math.round((until - s.deps.now()) * 1000))));
    }, options);
    return { value, attempts };
  } catch (error) {
    return { error, attempts };
  }
}

function describeExecution(s: Starter, sfn: Sfn, executionArn: string, until: number) {
  return attempt(s, (abortSignal) => sfn.client.send(new sfn.commands.DescribeExecutionCommand({ executionArn }), { abortSignal }), until, 'DescribeExecution');
}

/**
 * A second start for a hook whose execution exists (a duplicate invocation, or a re-delivery after
 * the execution closed): nothing is started or reported again; the audit names the execution and
 * its status.
 */
async function suppressDuplicate(s: Starter, ids: Ids, name: string, sfn: Sfn, end: number): Promise<void> {
  const executionArn = executionArnFor(s.deps.stateMachineArn, name);
  let status = 'unknown';
  if (executionArn) {
    const described = await describeExecution(s, sfn, executionArn, end - AUDIT_RESERVE_SECONDS);
    status = described.value?.status ?? `unknown (DescribeExecution: ${describeFailure(described.error, described.attempts)})`;
  }
  s.logger.info('duplicate hook invocation: the bake execution already exists', { name, executionArn, status });
  await s.publish([
    [
      AuditDetailType.TRIGGER_SUPPRESSED,
      { ...ids, reasons: [`duplicate hook invocation: bake execution ${executionArn ?? name} already exists (status ${status}); nothing was started or reported again`] },
    ],
  ]);
}

/** StartExecution failed for its whole budget: unless the execution exists after all, fall back. */
async function startFailed(s: Starter, ids: Ids, name: string, sfn: Sfn, started: Attempted<unknown>, end: number): Promise<void> {
  const failure = describeFailure(started.error, started.attempts);
  s.logger.error('could not start the bake', { error: failure, name, deploymentId: ids.deploymentId });
  // The last StartExecution may have started the execution with its answer lost: if it runs,
  // it reports; reporting here too would be a second status.
  const executionArn = executionArnFor(s.deps.stateMachineArn, name);
  if (executionArn) {
    const described = await describeExecution(s, sfn, executionArn, Math.min(end - s.fallbackReserveSeconds / 2, s.deps.now() + 5));
    if (described.value?.status) {
      s.logger.warn('the bake execution exists although StartExecution failed; it reports', { executionArn, status: described.value.status });
      const reason = `StartExecution failed (${failure}) but bake execution ${executionArn} exists (status ${described.value.status}); it reports, nothing else was reported`;
      await s.publish([[AuditDetailType.TRIGGER_SUPPRESSED, { ...ids, reasons: [reason] }]]);
      return;
    }
  }
  await fallback(s, ids, name, started, end);
}

/** The CodeDeploy client and the module of its calls. */
interface CodeDeploy {
  readonly client: CodeDeployClient;
  readonly calls: typeof import('../shared/codedeploy.js');
}

/**
 * Step Functions could not be reached for the whole budget: the hook must not be left to
 * CodeDeploy's one-hour timeout. Report directly, as the machine's fail-closed path would: a
 * rollback deployment → Succeeded (never block a rollback); any other readable deployment →
 * Failed (fail closed: the release was not judged; Succeeded in shadow mode, which then needs no
 * read: it reports Succeeded for both). A deployment that cannot be read either is
 * not reported at all — no Succeeded without evidence after seconds: the escalation names it and
 * the invocation fails, so an asynchronous invocation is retried and then kept in the
 * dead-letter queue (whose alarm pages), and a synchronous one leaves the decision to
 * CodeDeploy's one-hour timeout (which fails the deployment). Every case raises an escalation:
 * the bake machine could not be started.
 */
async function fallback(s: Starter, ids: Ids, name: string, start: Attempted<unknown>, end: number): Promise<void> {
  const why = `could not start the bake execution ${name} (StartExecution: ${describeFailure(start.error, start.attempts)})`;
  let cd: CodeDeploy;
  try {
    const [client, calls] = await Promise.all([s.deps.codedeploy(), import('../shared/codedeploy.js')]);
    cd = { client, calls };
  } catch (e) {
    await s.publish([[AuditDetailType.ESCALATION_RAISED, { ...ids, reasons: [why, `the CodeDeploy client could not be loaded (${errorName(e)}): the hook is left unreported`] }]]);
    throw e;
  }
  const read = await attempt(s, () => cd.calls.getDeployment(cd.client, ids.deploymentId), end - REPORT_RESERVE_SECONDS, 'GetDeployment');
  const deployment: DeploymentInfo | undefined = read.value;
  const base: Detail = { ...ids, applicationName: deployment?.applicationName, deploymentGroupName: deployment?.deploymentGroupName, reasons: [] };
  if (deployment && isDeploymentFinished(deployment.status)) {
    await s.publish([
      [AuditDetailType.TRIGGER_SUPPRESSED, { ...base, reasons: [`deployment already ${deployment.status}; nothing to report`, why] }],
      [AuditDetailType.ESCALATION_RAISED, { ...base, reasons: [why] }],
    ]);
    return;
  }
  if (deployment === undefined && s.deps.shadow) {
    // Shadow mode reports Succeeded for a rollback and a release alike: no need to tell them apart.
    return reportWithoutMachine(s, cd, ids, base, {}, `${why}; GetDeployment failed too (${describeFailure(read.error, read.attempts)})`, end);
  }
  if (deployment === undefined) {
    const failure = describeFailure(read.error, read.attempts);
    s.logger.error('fallback: the deployment could not be read either; the hook is not reported', { error: failure });
    const reason = `GetDeployment failed too (${failure}): nothing was reported — a rollback or a release cannot be told apart without it`;
    await s.publish([[AuditDetailType.ESCALATION_RAISED, { ...base, reasons: [why, reason] }]]);
    throw read.error ?? new Error('GetDeployment returned nothing');
  }
  await reportWithoutMachine(s, cd, ids, base, deployment, why, end);
}

/** The fallback's report: Succeeded for a rollback, Failed for a release (Succeeded in shadow mode); audited, and escalated. */
async function reportWithoutMachine(s: Starter, cd: CodeDeploy, ids: Ids, base: Detail, deployment: DeploymentInfo, why: string, end: number): Promise<void> {
  const choice: { status: HookStatus; verdict: Verdict; reason: string } = isRollbackDeployment(deployment.creator)
    ? { status: 'Succeeded', verdict: 'skipped', reason: `deployment created by ${deployment.creator}: hooks of a rollback succeed at once, a rollback is never blocked` }
    : s.deps.shadow
      ? { status: 'Succeeded', verdict: 'inconclusive', reason: 'the release was not judged: enforcing would fail closed; shadow mode reported Succeeded' }
      : { status: 'Failed', verdict: 'inconclusive', reason: 'failing closed: the release was not judged' };
  const reasons = [why, choice.reason];
  const shadow = s.deps.shadow && !isRollbackDeployment(deployment.creator) ? { wouldRollback: true } : {};
  // A denied report changed nothing, and a repeat of an applied one fails as already completed:
  // retrying it is safe.
  const reported = await attempt(
    s,
    () => cd.calls.reportHook(cd.client, ids.deploymentId, ids.lifecycleEventHookExecutionId, choice.status),
    end - AUDIT_RESERVE_SECONDS,
    'PutLifecycleEventHookExecutionStatus',
  );
  if (reported.value === undefined) {
    const failure = describeFailure(reported.error, reported.attempts);
    s.logger.error('fallback: the hook could not be reported', { error: failure, status: choice.status });
    await s.publish([[AuditDetailType.ESCALATION_RAISED, { ...base, verdict: choice.verdict, reasons: [`could not report ${choice.status} to CodeDeploy (${failure})`, ...reasons] }]]);
    // If CodeDeploy invoked the hook asynchronously, Lambda retries this invocation and a later
    // attempt may start the bake or report; otherwise CodeDeploy's one-hour timeout decides.
    throw reported.error;
  }
  const applied = reported.value === 'reported';
  await s.publish([
    applied
      ? [AuditDetailType.DEPLOYMENT_VERDICT, { ...base, ...shadow, verdict: choice.verdict, reportedStatus: choice.status, reasons }]
      : [AuditDetailType.TRIGGER_SUPPRESSED, { ...base, reasons: [`CodeDeploy had already completed this hook (what it applied is unknown here); ${choice.status} was not applied`, ...reasons] }],
    [AuditDetailType.ESCALATION_RAISED, { ...base, verdict: choice.verdict, ...(applied ? { reportedStatus: choice.status } : {}), reasons }],
  ]);
}

/** Default wiring for the Lambda runtime, created on the first invocation. */
let runtimeStarter: ReturnType<typeof createStarter> | undefined;

export async function handler(event: unknown, context?: RemainingTime): Promise<void> {
  runtimeStarter ??= createStarter(runtimeDeps());
  return runtimeStarter(event, context);
}

function runtimeDeps(): StarterDeps {
  const logger = handlerLogger(new Logger({ serviceName: 'rollback-triggers-starter' }));
  const rawDeadline = process.env[StarterEnv.DEADLINE_SECONDS];
  const deadlineSeconds = deadlineSecondsFromEnv(rawDeadline);
  if (deadlineSeconds === undefined) logger.error(`${StarterEnv.DEADLINE_SECONDS} is not a number; using the default`, { value: rawDeadline, default: DEFAULT_DEADLINE_SECONDS });
  const stateMachineArn = process.env[StarterEnv.STATE_MACHINE_ARN] ?? '';
  // Without it every start fails and the fallback reports: loud, but never silent.
  if (!stateMachineArn) logger.error(`${StarterEnv.STATE_MACHINE_ARN} is not set`);
  const eventBus = process.env[StarterEnv.EVENT_BUS] ?? '';
  return {
    stateMachineArn,
    applicationName: process.env[StarterEnv.APPLICATION_NAME] || undefined,
    deploymentGroupName: process.env[StarterEnv.DEPLOYMENT_GROUP_NAME] || undefined,
    shadow: process.env[StarterEnv.SHADOW] === 'true',
    deadlineSeconds: deadlineSeconds ?? DEFAULT_DEADLINE_SECONDS,
    sfn: once(async () => new (await import('@aws-sdk/client-sfn')).SFNClient({})),
    codedeploy: once(async () => new (await import('@aws-sdk/client-codedeploy')).CodeDeployClient({})),
    audit: eventBridgeAuditOnFirstUse(eventBus, logger, sleep),
    logger,
    now: () => Date.now() / 1000,
    sleep,
  };
}

