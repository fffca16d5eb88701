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
import { type BakeExecutionInput, DEFAULT_DEADLINE_SECONDS, MAX_DEADLINE_SECONDS, bakeExecutionName } from '../../lib/core/bake';
import type { HookStatus } from '../../lib/core/decision';
import { isDeploymentFinished, isRollbackDeployment } from '../../lib/core/deployment-kind';
import { StarterEnv, deadlineSecondsFromEnv } from '../../lib/core/handler-env';
import { validateHookEvent } from '../../lib/core/handler-events';
import type { AuditSink } from '../shared/audit';
import { HandlerLogger, Lazy, RemainingTime, budgetEnd, handlerLogger, neverThrowing, once } from '../shared/handler-kit';
import { RetryOptions, errorName, withRetry } from '../shared/retry';

export interface StarterDeps {
  /** ARN of the bake state machine. */
  readonly stateMachineArn: string;
  /**
   * The trigger's own CodeDeploy application and deployment group, named in every audit event
   * (the notices rule matches on the group), even when the deployment could not be read.
   */
  readonly applicationName?: string;
  readonly deploymentGroupName?: string;
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

export function createStarter(deps: StarterDeps) {
  const { logger } = deps;
  const audit = neverThrowing(deps.audit, logger);
  const deadlineSeconds = deps.deadlineSeconds ?? DEFAULT_DEADLINE_SECONDS;
  const fallbackReserveSeconds = (deps.fallbackReserveMs ?? 20_000) / 1000;
  const own = (detail: Detail): Detail => ({
    ...detail,
    applicationName: deps.applicationName ?? detail.applicationName,
    deploymentGroupName: deps.deploymentGroupName ?? detail.deploymentGroupName,
  });
  const publish = (events: Array<[AuditDetailType, Detail]>) => audit.publish(events.map(([type, detail]) => auditEvent(type, own(detail), new Date(deps.now() * 1000))));

  /**
   * Retries `call` on throttling, 5xx, timeouts and AccessDenied (IAM propagating right after a
   * deploy) until `until` (epoch seconds): bounded by the time left, never by a count. Each attempt
   * gets an abort signal for the time left, so one hung request cannot overrun the invocation.
   */
  async function attempt<T>(call: (signal: AbortSignal) => Promise<T>, until: number, what: string): Promise<Attempted<T>> {
    let attempts = 0;
    const options: RetryOptions = {
      baseDelayMs: 200,
      sleep: deps.sleep,
      deadline: until,
      now: deps.now,
      retryAccessDenied: true,
      onRetry: (e, n) => logger.warn(`${what} failed; retrying`, { error: errorName(e), attempt: n }),
    };
    try {
      const value = await withRetry(() => {
        attempts++;
        return call(AbortSignal.timeout(Math.max(1, Math.round((until - deps.now()) * 1000))));
      }, options);
      return { value, attempts };
    } catch (error) {
      return { error, attempts };
    }
  }

  return async function starter(event: unknown, context?: RemainingTime): Promise<void> {
    const end = budgetEnd(deps.now(), context, deps.defaultBudgetMs);

    const checked = validateHookEvent(event);
    if (!checked.ok) {
      // Retrying garbage helps nobody: refuse it loudly and return.
      logger.error('invalid hook event', { problem: checked.problem, event: preview(event) });
      await publish([[AuditDetailType.ESCALATION_RAISED, { deploymentId: checked.deploymentId ?? 'unknown', reasons: [`invalid hook event: ${checked.problem}`] }]]);
      return;
    }
    const ids: Ids = { deploymentId: checked.event.DeploymentId, lifecycleEventHookExecutionId: checked.event.LifecycleEventHookExecutionId };
    // Built once: a retry whose earlier attempt did start the execution (its response lost) sends
    // the same name and input, which Step Functions answers with that same execution.
    const { name, input } = bakeStart(ids, deps.now(), deadlineSeconds);

    let sfn: SFNClient;
    let commands: typeof import('@aws-sdk/client-sfn');
    try {
      [sfn, commands] = await Promise.all([deps.sfn(), import('@aws-sdk/client-sfn')]);
    } catch (e) {
      logger.error('could not load the Step Functions client', { error: errorName(e) });
      await fallback(ids, name, { error: e, attempts: 0 }, end);
      return;
    }
    const started = await attempt(
      (abortSignal) => sfn.send(new commands.StartExecutionCommand({ stateMachineArn: deps.stateMachineArn, name, input: JSON.stringify(input) }), { abortSignal }),
      end - fallbackReserveSeconds,
      'StartExecution',
    );
    if (started.value) {
      logger.info('bake started', { executionArn: started.value.executionArn, name, deploymentId: ids.deploymentId, deadline: input.deadline });
      return;
    }
    if (errorName(started.error) === 'ExecutionAlreadyExists') {
      await suppressDuplicate(ids, name, sfn, commands, end);
      return;
    }
    logger.error('could not start the bake', { error: describeFailure(started.error, started.attempts), name, deploymentId: ids.deploymentId });
    // The last StartExecution may have started the execution with its answer lost: if it runs,
    // it reports; reporting here too would be a second status.
    const executionArn = executionArnFor(deps.stateMachineArn, name);
    if (executionArn) {
      const described = await attempt(
        (abortSignal) => sfn.send(new commands.DescribeExecutionCommand({ executionArn }), { abortSignal }),
        Math.min(end - fallbackReserveSeconds / 2, deps.now() + 5),
        'DescribeExecution',
      );
      if (described.value?.status) {
        logger.warn('the bake execution exists although StartExecution failed; it reports', { executionArn, status: described.value.status });
        await publish([
          [
            AuditDetailType.TRIGGER_SUPPRESSED,
            { ...ids, reasons: [`StartExecution failed (${describeFailure(started.error, started.attempts)}) but bake execution ${executionArn} exists (status ${described.value.status}); it reports, nothing else was reported`] },
          ],
        ]);
        return;
      }
    }
    await fallback(ids, name, started, end);
  };

  /**
   * A second start for a hook whose execution exists (a duplicate invocation, or a re-delivery after
   * the execution closed): nothing is started or reported again; the audit names the execution and
   * its status.
   */
  async function suppressDuplicate(ids: Ids, name: string, sfn: SFNClient, commands: typeof import('@aws-sdk/client-sfn'), budgetEnd: number): Promise<void> {
    const executionArn = executionArnFor(deps.stateMachineArn, name);
    let status = 'unknown';
    if (executionArn) {
      const described = await attempt(
        (abortSignal) => sfn.send(new commands.DescribeExecutionCommand({ executionArn }), { abortSignal }),
        budgetEnd - AUDIT_RESERVE_SECONDS,
        'DescribeExecution',
      );
      status = described.value?.status ?? `unknown (DescribeExecution: ${describeFailure(described.error, described.attempts)})`;
    }
    logger.info('duplicate hook invocation: the bake execution already exists', { name, executionArn, status });
    await publish([
      [
        AuditDetailType.TRIGGER_SUPPRESSED,
        { ...ids, reasons: [`duplicate hook invocation: bake execution ${executionArn ?? name} already exists (status ${status}); nothing was started or reported again`] },
      ],
    ]);
  }

  /**
   * Step Functions could not be reached for the whole budget: the hook must not be left to
   * CodeDeploy's one-hour timeout. Report directly, as the machine's fail-closed path would: a
   * rollback deployment → Succeeded (never block a rollback); any other readable deployment →
   * Failed (fail closed: the release was not judged). A deployment that cannot be read either is
   * not reported at all — no Succeeded without evidence after seconds: the escalation names it and
   * the invocation fails, so an asynchronous invocation is retried and then kept in the
   * dead-letter queue (whose alarm pages), and a synchronous one leaves the decision to
   * CodeDeploy's one-hour timeout (which fails the deployment). Every case raises an escalation:
   * the bake machine could not be started.
   */
  async function fallback(ids: Ids, name: string, start: Attempted<unknown>, budgetEnd: number): Promise<void> {
    const why = `could not start the bake execution ${name} (StartExecution: ${describeFailure(start.error, start.attempts)})`;
    let cd: CodeDeployClient;
    let codedeploy: typeof import('../shared/codedeploy.js');
    try {
      [cd, codedeploy] = await Promise.all([deps.codedeploy(), import('../shared/codedeploy.js')]);
    } catch (e) {
      await publish([[AuditDetailType.ESCALATION_RAISED, { ...ids, reasons: [why, `the CodeDeploy client could not be loaded (${errorName(e)}): the hook is left unreported`] }]]);
      throw e;
    }

    const read = await attempt(() => codedeploy.getDeployment(cd, ids.deploymentId), budgetEnd - REPORT_RESERVE_SECONDS, 'GetDeployment');
    const deployment: DeploymentInfo | undefined = read.value;
    const base: Detail = { ...ids, applicationName: deployment?.applicationName, deploymentGroupName: deployment?.deploymentGroupName, reasons: [] };
    if (deployment && isDeploymentFinished(deployment.status)) {
      await publish([
        [AuditDetailType.TRIGGER_SUPPRESSED, { ...base, reasons: [`deployment already ${deployment.status}; nothing to report`, why] }],
        [AuditDetailType.ESCALATION_RAISED, { ...base, reasons: [why] }],
      ]);
      return;
    }
    if (deployment === undefined) {
      const failure = describeFailure(read.error, read.attempts);
      logger.error('fallback: the deployment could not be read either; the hook is not reported', { error: failure });
      await publish([
        [
          AuditDetailType.ESCALATION_RAISED,
          { ...base, reasons: [why, `GetDeployment failed too (${failure}): nothing was reported — a rollback or a release cannot be told apart without it`] },
        ],
      ]);
      throw read.error ?? new Error('GetDeployment returned nothing');
    }
    const choice: { status: HookStatus; verdict: Verdict; reason: string } = isRollbackDeployment(deployment.creator)
      ? { status: 'Succeeded', verdict: 'skipped', reason: `deployment created by ${deployment.creator}: hooks of a rollback succeed at once, a rollback is never blocked` }
      : { status: 'Failed', verdict: 'inconclusive', reason: 'failing closed: the release was not judged' };
    const reasons = [why, choice.reason];

    // A denied report changed nothing, and a repeat of an applied one fails as already completed:
    // retrying it is safe.
    const reported = await attempt(
      () => codedeploy.reportHook(cd, ids.deploymentId, ids.lifecycleEventHookExecutionId, choice.status),
      budgetEnd - AUDIT_RESERVE_SECONDS,
      'PutLifecycleEventHookExecutionStatus',
    );
    if (reported.value === undefined) {
      const failure = describeFailure(reported.error, reported.attempts);
      logger.error('fallback: the hook could not be reported', { error: failure, status: choice.status });
      await publish([[AuditDetailType.ESCALATION_RAISED, { ...base, verdict: choice.verdict, reasons: [`could not report ${choice.status} to CodeDeploy (${failure})`, ...reasons] }]]);
      // If CodeDeploy invoked the hook asynchronously, Lambda retries this invocation and a later
      // attempt may start the bake or report; otherwise CodeDeploy's one-hour timeout decides.
      throw reported.error;
    }
    const applied = reported.value === 'reported';
    await publish([
      applied
        ? [AuditDetailType.DEPLOYMENT_VERDICT, { ...base, verdict: choice.verdict, reportedStatus: choice.status, reasons }]
        : [AuditDetailType.TRIGGER_SUPPRESSED, { ...base, reasons: [`CodeDeploy had already completed this hook (what it applied is unknown here); ${choice.status} was not applied`, ...reasons] }],
      [AuditDetailType.ESCALATION_RAISED, { ...base, verdict: choice.verdict, ...(applied ? { reportedStatus: choice.status } : {}), reasons }],
    ]);
  }
}

/** Default wiring for the Lambda runtime, created on the first invocation. */
let runtimeStarter: ReturnType<typeof createStarter> | undefined;

export async function handler(event: unknown, context?: RemainingTime): Promise<void> {
  runtimeStarter ??= createStarter(runtimeDeps());
  return runtimeStarter(event, context);
}

function runtimeDeps(): StarterDeps {
  const logger = handlerLogger(new Logger({ serviceName: 'rollback-triggers-starter' }));
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
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
    deadlineSeconds: deadlineSeconds ?? DEFAULT_DEADLINE_SECONDS,
    sfn: once(async () => new (await import('@aws-sdk/client-sfn')).SFNClient({})),
    codedeploy: once(async () => new (await import('@aws-sdk/client-codedeploy')).CodeDeployClient({})),
    audit: once(async () => {
      const [{ EventBridgeClient }, { eventBridgeAudit }] = await Promise.all([import('@aws-sdk/client-eventbridge'), import('../shared/audit.js')]);
      return eventBridgeAudit(new EventBridgeClient({}), eventBus, logger, sleep);
    }),
    logger,
    now: () => Date.now() / 1000,
    sleep,
  };
}

