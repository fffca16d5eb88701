import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { CodeDeployClient, DeploymentInfo } from '@aws-sdk/client-codedeploy';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import {
  type AuditDetailType,
  type AuditEventDetail,
  type BakeContext,
  type BakeState,
  type Decision,
  type EvaluatorConfig,
  type KnownGood,
  type MetricQuery,
  type QueryResult,
  type PendingReport,
  type ReadProblem,
  AuditDetailType as Audit,
  EvaluatorEnv,
  HISTORY_SECONDS,
  MAX_DEADLINE_SECONDS,
  alignToHookStart,
  alreadyCompletedOutcome,
  armScopesFor,
  auditEvent,
  bakeDataFor,
  bakeDeadline,
  bakeWindowStart,
  buildHealthQueries,
  buildMetricQueries,
  checkBakeState,
  decideBake,
  decideBeforeTraffic,
  decideUnreadable,
  foreignDeploymentReason,
  healthQueryId,
  hookStartTime,
  inconclusive,
  isBeforeTrafficHook,
  isDeploymentFinished,
  isRollbackDeployment,
  nextWaitSeconds,
  parseEvaluatorConfig,
  readProblemOf,
  retryDeadline,
  syntheticsFailure,
  syntheticsPending,
  tickClock,
} from '../../lib/core';
import type { AuditLogger, AuditSink } from '../shared/audit';
import type { DeploymentTargets } from '../shared/codedeploy';
import { once } from '../shared/handler-kit';
import type { VersionState } from '../shared/integrity';
import type { MetricRead } from '../shared/metrics';
import { type RetryOptions, errorName, isAccessDenied, isRetryable, withRetry } from '../shared/retry';

/**
 * The bake's step Lambda, run by the Step Functions state machine (lib/private/bake-state-machine.ts;
 * the contract is lib/core/bake.ts). Stateless: the state comes in, the next state goes out, and
 * `next` tells the machine to wait, report, end or fail. Every rule is core's; this file only reads
 * AWS and carries the result.
 *
 * It never throws for an expected AWS failure (those are retried within a time budget, then
 * decided by core's rules); it throws on a garbled state or a bug, and the machine retries the same
 * state, then runs its fail-closed Catch-all. A repeat with the same state decides the same on the
 * same data: every write it makes (audit events with idempotency keys, the first bad signal kept
 * earliest) may happen twice.
 */

/** SDK clients the steps use. Any not given is created on first use. */
export interface StepClients {
  readonly codedeploy?: CodeDeployClient;
  readonly cloudwatch?: CloudWatchClient;
  readonly dynamodb?: DynamoDBClient;
  readonly lambda?: LambdaClient;
  readonly ecs?: ECSClient;
  readonly events?: EventBridgeClient;
}

/** What the steps need of the known-good store (lambda/shared/state.ts `KnownGoodStore`). */
export interface KnownGoodReader {
  /** Throws when the record cannot be read: never "none recorded" on an error. */
  get(applicationName: string, deploymentGroupName: string): Promise<KnownGood | undefined>;
  recordFirstBadSignal(deploymentId: string, at: number): Promise<unknown>;
}

export interface StepLogger extends AuditLogger {
  info(message: string, extra: Record<string, unknown>): void;
}

export interface StepDeps {
  readonly config: EvaluatorConfig;
  /** DynamoDB table of known-good records and first bad signals. */
  readonly stateTable: string;
  /** EventBridge bus of the audit trail. */
  readonly eventBus: string;
  /** SDK clients (tests pass mocked ones); the rest are created on first use. */
  readonly clients?: StepClients;
  /** @default new KnownGoodStore(dynamodb, stateTable) */
  readonly knownGood?: KnownGoodReader;
  readonly logger: StepLogger;
  /** Epoch seconds. */
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** HTTP client for health checks. @default the runtime's fetch */
  readonly fetch?: typeof fetch;
  /** Seconds one step may spend retrying AWS calls. @default STEP_RETRY_BUDGET_SECONDS (60) */
  readonly retryBudgetSeconds?: number;
  /** First retry pause. @default 200 */
  readonly retryBaseDelayMs?: number;
}

export type StepHandler = (state: BakeState) => Promise<BakeState>;

/** Runtime SDK options: bounded requests, and few SDK-level attempts (the step retries by time itself). */
const CLIENT_OPTIONS = { maxAttempts: 2, requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 } };
/** CloudWatch messages kept in a report (the state and the audit entry have size limits). */
const MAX_NOTES = 20;

type AuditBase = Omit<AuditEventDetail, 'schemaVersion' | 'idempotencyKey' | 'occurredAt' | 'reasons'>;
type Report = Decision & { action: 'report' };

export function createStepHandler(deps: StepDeps): StepHandler {
  const { config, logger } = deps;
  const given = deps.clients ?? {};
  const lazyClient = <T>(instance: T | undefined, make: () => Promise<T>) => (instance ? () => Promise.resolve(instance) : once(make));
  const codedeploy = lazyClient(given.codedeploy, async () => new (await import('@aws-sdk/client-codedeploy')).CodeDeployClient(CLIENT_OPTIONS));
  const cloudwatch = lazyClient(given.cloudwatch, async () => new (await import('@aws-sdk/client-cloudwatch')).CloudWatchClient(CLIENT_OPTIONS));
  const dynamodb = lazyClient(given.dynamodb, async () => new (await import('@aws-sdk/client-dynamodb')).DynamoDBClient(CLIENT_OPTIONS));
  const lambda = lazyClient(given.lambda, async () => new (await import('@aws-sdk/client-lambda')).LambdaClient(CLIENT_OPTIONS));
  const ecs = lazyClient(given.ecs, async () => new (await import('@aws-sdk/client-ecs')).ECSClient(CLIENT_OPTIONS));
  const events = lazyClient(given.events, async () => new (await import('@aws-sdk/client-eventbridge')).EventBridgeClient(CLIENT_OPTIONS));
  // The modules that import SDK commands load on first use, so module init stays small.
  const cd = once(() => import('../shared/codedeploy.js'));
  const knownGood = lazyClient(deps.knownGood, async () => new (await import('../shared/state.js')).KnownGoodStore(await dynamodb(), deps.stateTable));
  const auditSink = once(async (): Promise<AuditSink> => (await import('../shared/audit.js')).eventBridgeAudit(await events(), deps.eventBus, logger, deps.sleep));

  /** Never throws: an audit failure never delays or flips a decision. */
  async function publish(list: Array<{ type: AuditDetailType; detail: AuditBase & { reasons: readonly string[] } }>): Promise<void> {
    const at = new Date(deps.now() * 1000);
    const built = list.map((e) => auditEvent(e.type, e.detail, at));
    try {
      await (await auditSink()).publish(built);
    } catch (e) {
      for (const event of built) logger.error('audit event not delivered', { auditFallback: event, error: errorName(e) });
    }
  }

  /** Time-bounded retries: until `until` (the step's budget, never past the report's last chance). */
  function retry(until: number): RetryOptions {
    return {
      baseDelayMs: deps.retryBaseDelayMs ?? 200,
      maxDelayMs: 5_000,
      sleep: deps.sleep,
      now: deps.now,
      deadline: until,
      // Right after a deploy the step's IAM policy may not have propagated yet.
      retryAccessDenied: true,
      onRetry: (error, attempt) => logger.warn('AWS call failed; retrying', { error: describeError(error), attempt }),
    };
  }

  /** An AWS failure is expected and decided by the rules; anything else is a bug: crash, let the machine retry. */
  function expected(e: unknown): string {
    const err = e as { $metadata?: unknown } | undefined;
    if (err?.$metadata === undefined && !isRetryable(e, true) && errorName(e) !== 'TooManyPages' && errorName(e) !== 'MalformedRecordError') throw e;
    return describeError(e);
  }

  function auditBase(state: BakeState): AuditBase {
    const c = state.context ?? {};
    return compact({
      deploymentId: state.deploymentId,
      lifecycleEventHookExecutionId: state.lifecycleEventHookExecutionId,
      // This trigger's own group first: the notices rule matches on it, and a deployment that could
      // not be read (or of a foreign group, named in the reasons) must still reach the topic.
      applicationName: config.applicationName ?? c.applicationName,
      deploymentGroupName: config.deploymentGroupName ?? c.deploymentGroupName,
      lifecycleEvent: c.lifecycleEvent,
      fromVersion: c.fromVersion,
      toVersion: c.toVersion,
    });
  }

  function toReport(state: BakeState, decision: Report, notes: readonly string[] = []): BakeState {
    const report: PendingReport = {
      status: decision.status,
      verdict: decision.verdict,
      reasons: [...decision.reasons, ...notes],
      observations: decision.observations,
      ...(decision.escalate ? { escalate: true } : {}),
      ...(decision.incidents && decision.incidents.length > 0 ? { incidents: decision.incidents } : {}),
      decidedAt: deps.now(),
    };
    logger.info('decided', { deploymentId: state.deploymentId, status: report.status, verdict: report.verdict, reasons: report.reasons });
    return out(state, { next: 'report', report });
  }

  // -------------------------------------------------------------------------------------------
  // resolve

  async function resolve(state: BakeState, until: number): Promise<BakeState> {
    const deadline = bakeDeadline(state, config.deadlineMarginSeconds);
    const { getDeployment, findTargets } = await cd();
    let deployment: DeploymentInfo;
    try {
      const client = await codedeploy();
      deployment = await withRetry(() => getDeployment(client, state.deploymentId), retry(until));
    } catch (e) {
      return unreadable(state, 'deployment', `GetDeployment failed (${expected(e)})`, deadline);
    }
    const names = compact({ applicationName: deployment.applicationName, deploymentGroupName: deployment.deploymentGroupName });
    const named: BakeState = { ...state, context: { ...state.context, ...names } };

    const foreign = foreignDeploymentReason(config, names);
    if (foreign) {
      await publish([{ type: Audit.ESCALATION_RAISED, detail: { ...auditBase(named), reasons: [foreign] } }]);
      return out(named, { next: 'done' });
    }
    if (isRollbackDeployment(deployment.creator)) {
      return toReport(named, {
        action: 'report',
        status: 'Succeeded',
        verdict: 'skipped',
        reasons: [`deployment created by ${deployment.creator}: hooks of a rollback succeed at once, a rollback is never blocked`],
        observations: [],
      });
    }
    if (isDeploymentFinished(deployment.status)) {
      await publish([{ type: Audit.TRIGGER_SUPPRESSED, detail: { ...auditBase(named), reasons: [`deployment already ${deployment.status}; nothing to report`] } }]);
      return out(named, { next: 'done' });
    }

    let targets: DeploymentTargets;
    try {
      const client = await codedeploy();
      targets = await withRetry(() => findTargets(client, state.deploymentId), retry(until));
    } catch (e) {
      return unreadable(named, 'targets', `ListDeploymentTargets/BatchGetDeploymentTargets failed (${expected(e)})`, deadline);
    }
    const lifecycleEvent = targets.runningLifecycleEvent;
    // CodeDeploy's clock, not the starter's: a hook invocation Lambda retried minutes later stamped
    // a late start; the deadline and report-by move back with it (and the machine waits for them).
    const aligned = alignToHookStart(named, hookStartTime(targets.lifecycleEvents, lifecycleEvent), deps.now());
    if (aligned !== named) {
      logger.warn("hook clock moved back to CodeDeploy's lifecycle event start", {
        deploymentId: state.deploymentId,
        lifecycleEvent,
        starterHookStartedAt: state.hookStartedAt,
        hookStartedAt: aligned.hookStartedAt,
        deadline: aligned.deadline,
        reportBy: aligned.reportBy,
      });
      // The step's retries never outlast the report's last chance on the corrected clock.
      until = Math.min(until, aligned.hookStartedAt + MAX_DEADLINE_SECONDS);
    }
    const context: BakeContext = compact({ ...names, lifecycleEvent, fromVersion: targets.currentVersion, toVersion: targets.targetVersion });
    const resolved: BakeState = { ...aligned, context, unreadable: undefined };

    if (isBeforeTrafficHook(lifecycleEvent)) return toReport(resolved, await beforeTraffic(names, targets, until));

    const arms = armScopesFor(config, targets);
    if (typeof arms === 'string') return toReport(resolved, inconclusive(config.inconclusiveAction, arms));
    const createTime = deployment.createTime ? deployment.createTime.getTime() / 1000 : undefined;
    // The first tick runs now, in this step: a release already failing when the hook starts is
    // rolled back without waiting a tick (and without another invocation).
    return tick({ ...resolved, phase: 'tick', ticks: 0, context: { ...context, arms, windowStart: bakeWindowStart(createTime, resolved.hookStartedAt) } }, until, true);
  }

  /** A read `resolve` needs failed: try again a tick later; core decides at the deadline. */
  function unreadable(state: BakeState, what: 'deployment' | 'targets', reason: string, deadline: number): BakeState {
    const attempts = (state.unreadable ?? 0) + 1;
    const now = deps.now();
    const decision = decideUnreadable({
      what,
      reason,
      attempts,
      hookAgeSeconds: now - state.hookStartedAt,
      deadlineSeconds: deadline - state.hookStartedAt,
      inconclusiveAction: config.inconclusiveAction,
    });
    logger.warn('could not resolve the deployment', { deploymentId: state.deploymentId, what, reason, attempts });
    if (decision.action === 'report') return toReport({ ...state, unreadable: attempts }, decision);
    return out(state, { phase: 'resolve', unreadable: attempts, next: 'wait', waitSeconds: nextWaitSeconds(now, config.tickSeconds, deadline) });
  }

  async function beforeTraffic(names: { applicationName?: string; deploymentGroupName?: string }, targets: DeploymentTargets, until: number): Promise<Report> {
    let known: KnownGood | undefined;
    let knownGoodUnreadable: string | undefined;
    if (names.applicationName && names.deploymentGroupName) {
      try {
        const store = await knownGood();
        known = await withRetry(() => store.get(names.applicationName!, names.deploymentGroupName!), retry(until));
      } catch (e) {
        knownGoodUnreadable = expected(e);
      }
    } else {
      knownGoodUnreadable = 'the deployment names no application or deployment group';
    }
    let current: VersionState | undefined;
    let currentUnreadable: string | undefined;
    try {
      const integrity = await import('../shared/integrity.js');
      if (targets.platform === 'lambda' && targets.functionName && targets.currentVersion) {
        const client = await lambda();
        current = await withRetry(() => integrity.lambdaVersionState(client, targets.functionName!, targets.currentVersion!), retry(until));
      } else if (targets.platform === 'ecs' && targets.ecsServiceArn && targets.currentVersion) {
        const client = await ecs();
        current = await withRetry(() => integrity.ecsTaskSetState(client, targets.ecsServiceArn!, targets.currentVersion!), retry(until));
      }
    } catch (e) {
      currentUnreadable = expected(e);
    }
    return decideBeforeTraffic({
      currentVersion: current?.version ?? targets.currentVersion,
      targetVersion: targets.targetVersion,
      knownGood: known,
      currentExists: current?.exists ?? true,
      currentIntegrity: current?.integrity,
      knownGoodUnreadable,
      currentUnreadable,
      inconclusiveAction: config.inconclusiveAction,
    });
  }

  // -------------------------------------------------------------------------------------------
  // tick

  async function tick(state: BakeState, until: number, statusKnown = false): Promise<BakeState> {
    const context = state.context!;
    const arms = context.arms!;
    const windowStart = context.windowStart!;
    const deadline = bakeDeadline(state, config.deadlineMarginSeconds);
    if (!statusKnown) {
      try {
        const { getDeployment } = await cd();
        const client = await codedeploy();
        const current = await withRetry(() => getDeployment(client, state.deploymentId), retry(until));
        if (isDeploymentFinished(current.status)) {
          await publish([{ type: Audit.TRIGGER_SUPPRESSED, detail: { ...auditBase(state), reasons: [`deployment ${current.status} during the bake; CodeDeploy decided, nothing to report`] } }]);
          return out(state, { next: 'done' });
        }
      } catch (e) {
        // Only a shortcut: the metrics decide, and CodeDeploy refuses a report to a finished deployment.
        logger.warn('GetDeployment failed during the bake; judging the metrics', { error: expected(e) });
      }
    }

    const clock = tickClock(deps.now(), state.hookStartedAt, config.metricDelaySeconds);
    // SLOs, both arms, and the Synthetics health checks: one GetMetricData request per tick.
    const queries = [...buildMetricQueries(config, arms), ...buildHealthQueries(config)];
    // From an hour before the release: the current version's own history is the baseline of
    // minutes the new version serves alone, and says whether the service was already paging.
    const { read, failure } = await readTick(queries, windowStart - HISTORY_SECONDS, clock.end, clock.now, until);
    const results = read?.results ?? new Map();
    const notes: string[] = [];
    for (const m of (read?.messages ?? []).slice(0, MAX_NOTES)) notes.push(`CloudWatch: ${clip(m, 500)}`);
    if (read && read.futureDatapoints > 0) {
      notes.push(`ignored ${read.futureDatapoints} datapoint${read.futureDatapoints === 1 ? '' : 's'} stamped after the evaluator's clock (clock skew)`);
    }

    let slos = bakeDataFor(config.slos, arms, results, windowStart, clock.end);
    const readProblems: ReadProblem[] = [];
    if (failure) {
      // The call itself failed: nothing of this tick is evidence.
      readProblems.push(failure);
      const notRead = [{ permanent: failure.permanent, reason: 'not read (the GetMetricData call failed)' }];
      slos = slos.map((d) => ({ ...d, canaryProblems: notRead, ...(d.baseline ? { baselineProblems: notRead } : {}) }));
    }

    const { failures: healthFailures, pending: healthPending, problems: healthProblems, httpFailures } = await runHealthChecks(state, results, failure, clock.end);
    readProblems.push(...healthProblems);

    const decision = decideBake({
      config,
      bakedSeconds: clock.bakedSeconds,
      // The hook's age when deciding, after the reads: a read that took the step's budget up to or
      // past the deadline decides now, not one more tick (and one more budget) later.
      hookAgeSeconds: deps.now() - state.hookStartedAt,
      deadlineSeconds: deadline - state.hookStartedAt,
      lifecycleEvent: context.lifecycleEvent,
      slos,
      healthFailures,
      healthPending,
      readProblems,
    });
    const ticked: BakeState = { ...state, phase: 'tick', ticks: (state.ticks ?? 0) + 1, ...(httpFailures.length > 0 ? { httpFailures } : {}) };
    if (decision.action === 'report') return toReport(ticked, decision, notes);
    logger.info('bake continues', { deploymentId: state.deploymentId, tick: ticked.ticks, bakedSeconds: clock.bakedSeconds, reasons: [...decision.reasons, ...notes] });
    return out(ticked, { next: 'wait', waitSeconds: nextWaitSeconds(deps.now(), config.tickSeconds, deadline) });
  }

  /**
   * One read of every query, retried within the step's budget on a failed call and on results
   * answered InternalError. Returns the read (with whatever statuses remain), or why the call failed.
   */
  async function readTick(
    queries: ReadonlyArray<Pick<MetricQuery, 'id' | 'metric' | 'periodSeconds'>>,
    start: number,
    end: number,
    now: number,
    until: number,
  ): Promise<{ read?: MetricRead; failure?: ReadProblem }> {
    const { readMetrics } = await import('../shared/metrics.js');
    const client = await cloudwatch();
    let last: MetricRead | undefined;
    try {
      const read = await withRetry(async () => {
        // Bounded by the step's budget: a hanging request is aborted at `until`, never a pass.
        const read = await readMetrics(client, queries, start, end, { nowSeconds: now, until, clock: deps.now });
        last = read;
        const internal = [...read.results].filter(([, r]) => r.status === 'InternalError').map(([id]) => id);
        if (internal.length > 0) {
          throw Object.assign(new Error(`GetMetricData answered InternalError for ${internal.join(', ')}`), { name: 'InternalError', $retryable: {} });
        }
        return read;
      }, retry(until));
      return { read };
    } catch (e) {
      // The retries ran out on results still answered InternalError: use them (they are not evidence).
      if (last && errorName(e) === 'InternalError') return { read: last };
      const reason = expected(e);
      // AccessDenied that outlived the retries is a configuration error: waiting will not fix it.
      return { failure: { permanent: isAccessDenied(e), reason: `GetMetricData failed (${reason})` } };
    }
  }

  /**
   * HTTP probes (failing after `failAfter` consecutive failed ticks, counted in the state) and
   * Synthetics canaries (any run below its minimum since the hook started), in parallel.
   */
  async function runHealthChecks(
    state: BakeState,
    results: ReadonlyMap<string, QueryResult>,
    callFailure: ReadProblem | undefined,
    end: number,
  ): Promise<{ failures: string[]; pending: string[]; problems: ReadProblem[]; httpFailures: number[] }> {
    const checks = config.healthChecks ?? [];
    const previous = state.httpFailures ?? [];
    const failures: string[] = [];
    const pending: string[] = [];
    const problems: ReadProblem[] = [];
    const httpFailures = checks.map(() => 0);
    await Promise.all(
      checks.map(async (check, i) => {
        if (check.kind === 'synthetics') {
          if (callFailure) return;
          const id = healthQueryId(i);
          const problem = readProblemOf(id, results.get(id));
          if (problem) {
            problems.push({ ...problem, reason: `health check ${check.name}: ${problem.reason}` });
            return;
          }
          const window = { releaseAt: state.context!.windowStart!, from: state.hookStartedAt, to: end };
          const failure = syntheticsFailure(check, results.get(id)?.series, window);
          if (failure) failures.push(failure);
          const waiting = failure ? undefined : syntheticsPending(check, results.get(id)?.series, window);
          if (waiting) pending.push(waiting);
          return;
        }
        const problem = await probe(check.url!, check.timeoutMs ?? 5_000);
        const count = problem ? (previous[i] ?? 0) + 1 : 0;
        httpFailures[i] = count;
        if (problem && count >= (check.failAfter ?? 3)) {
          failures.push(`health check ${check.name}: ${count} consecutive failures of GET ${check.url} (last: ${problem})`);
        } else if (problem) {
          // Failing now, not yet `failAfter` times in a row: not a pass at the end of the bake.
          pending.push(`health check ${check.name}: GET ${check.url} failed ${count} time${count === 1 ? '' : 's'} in a row (last: ${problem}): waiting for the next probes`);
        }
      }),
    );
    return { failures, pending, problems, httpFailures: checks.some((c) => c.kind === 'http') ? httpFailures : [] };
  }

  /** One GET; returns what went wrong, or undefined for a 2xx/3xx answer. */
  async function probe(url: string, timeoutMs: number): Promise<string | undefined> {
    try {
      const response = await (deps.fetch ?? fetch)(url, { method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
      return response.status >= 200 && response.status < 400 ? undefined : `HTTP ${response.status}`;
    } catch (e) {
      return errorName(e);
    }
  }

  // -------------------------------------------------------------------------------------------
  // after the report

  async function reported(state: BakeState, until: number): Promise<BakeState> {
    const r = state.report!;
    const detail = {
      ...auditBase(state),
      verdict: r.verdict,
      reasons: r.reasons,
      observations: r.observations,
      ...(r.incidents && r.incidents.length > 0 ? { incidents: r.incidents } : {}),
      reportedStatus: r.status,
    };
    await publish([
      { type: Audit.DEPLOYMENT_VERDICT, detail },
      ...(r.escalate ? [{ type: Audit.ESCALATION_RAISED, detail }] : []),
    ]);
    if (r.status === 'Failed') {
      // Best effort: only time to recovery depends on it.
      try {
        const store = await knownGood();
        await withRetry(() => store.recordFirstBadSignal(state.deploymentId, r.decidedAt ?? deps.now()), retry(until));
      } catch (e) {
        logger.warn('could not record the first bad signal', { deploymentId: state.deploymentId, error: describeError(e) });
      }
    }
    return out(state, { next: 'done' });
  }

  async function alreadyCompleted(state: BakeState, until: number): Promise<BakeState> {
    const r = state.report!;
    let hookStatus: string | undefined;
    let deploymentStatus: string | undefined;
    let lifecycleEvent = state.context?.lifecycleEvent;
    const errors: string[] = [];
    const { getDeployment, findTargets } = await cd();
    const client = await codedeploy();
    try {
      const targets = await withRetry(() => findTargets(client, state.deploymentId), retry(until));
      lifecycleEvent ??= targets.runningLifecycleEvent;
      hookStatus = targets.lifecycleEvents?.find((e) => e.name === lifecycleEvent)?.status;
    } catch (e) {
      errors.push(`the hook's status could not be read (${expected(e)})`);
    }
    try {
      deploymentStatus = (await withRetry(() => getDeployment(client, state.deploymentId), retry(until))).status;
    } catch (e) {
      errors.push(`the deployment could not be read (${expected(e)})`);
    }
    const outcome = alreadyCompletedOutcome({
      sent: r.status,
      lifecycleEvent,
      hookStatus,
      deploymentStatus,
      readError: errors.length > 0 ? errors.join('; ') : undefined,
    });
    const said = state.reportError ? [`CodeDeploy answered ${state.reportError.Error ?? 'an error'}${state.reportError.Cause ? `: ${clip(state.reportError.Cause, 500)}` : ''}`] : [];
    const base = { ...auditBase(state), lifecycleEvent, verdict: r.verdict, observations: r.observations };
    const detail =
      outcome.applied === 'ours'
        ? { ...base, reportedStatus: r.status, reasons: [...outcome.reasons, ...r.reasons] }
        : { ...base, reasons: [...outcome.reasons, ...said, ...r.reasons] };
    await publish([
      { type: outcome.applied === 'ours' ? Audit.DEPLOYMENT_VERDICT : Audit.TRIGGER_SUPPRESSED, detail },
      ...(outcome.escalate ? [{ type: Audit.ESCALATION_RAISED, detail }] : []),
    ]);
    return out(state, { next: 'done' });
  }

  async function reportFailed(state: BakeState): Promise<BakeState> {
    const r = state.report;
    const error = state.reportError;
    const why = `${error?.Error ?? 'unknown error'}${error?.Cause ? `: ${clip(error.Cause, 500)}` : ''}`;
    await publish([
      {
        type: Audit.ESCALATION_RAISED,
        detail: {
          ...auditBase(state),
          ...(r ? { verdict: r.verdict, observations: r.observations } : {}),
          reasons: [`could not report ${r?.status ?? 'the verdict'} to CodeDeploy after the state machine's retries (${why}); CodeDeploy fails the hook when its hour runs out`, ...(r?.reasons ?? [])],
        },
      },
    ]);
    return out(state, { next: 'fail' });
  }

  return async function step(input: BakeState): Promise<BakeState> {
    const state = checkBakeState(input);
    const until = retryDeadline(deps.now(), state.hookStartedAt, deps.retryBudgetSeconds);
    switch (state.phase) {
      case 'resolve':
        return resolve(state, until);
      case 'tick':
        return tick(state, until);
      case 'reported':
        return reported(state, until);
      case 'already-completed':
        return alreadyCompleted(state, until);
      case 'report-failed':
        return reportFailed(state);
    }
  };
}

/** The next state: the input with `patch`, without fields that no longer apply. */
function out(state: BakeState, patch: Partial<BakeState>): BakeState {
  const next: Record<string, unknown> = { ...state, ...patch };
  if (next.next !== 'wait') delete next.waitSeconds;
  if (next.next !== 'report' && next.phase === 'tick') delete next.report;
  return compact(next) as unknown as BakeState;
}

/** Drops `undefined` fields: the state travels as JSON. */
function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

function describeError(e: unknown): string {
  const message = (e as Error | undefined)?.message;
  const name = errorName(e);
  return message && message !== name ? `${name}: ${clip(message, 300)}` : name;
}

/**
 * One JSON object per line on stdout, written past the runtime's console (as Powertools' Logger
 * does), so CloudWatch Logs Insights reads the fields; a fraction of the Logger's size in the bundle.
 */
function jsonLogger(service: string): StepLogger {
  const line = (level: string) => (message: string, extra: Record<string, unknown>) => {
    process.stdout.write(`${JSON.stringify({ level, message, service, timestamp: new Date().toISOString(), ...extra })}\n`);
  };
  return { info: line('INFO'), warn: line('WARN'), error: line('ERROR') };
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  // A deployment bug: every step fails loudly, and the machine's Catch-all reports fail-closed.
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

let runtime: StepHandler | undefined;

/** The Lambda entry point: wiring from the environment, created on first use. */
export async function handler(state: BakeState): Promise<BakeState> {
  runtime ??= createStepHandler({
    config: parseEvaluatorConfig(process.env[EvaluatorEnv.CONFIG]),
    stateTable: requiredEnv(EvaluatorEnv.STATE_TABLE),
    eventBus: requiredEnv(EvaluatorEnv.EVENT_BUS),
    logger: jsonLogger('rollback-triggers-evaluator'),
    now: () => Date.now() / 1000,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  });
  return runtime(state);
}
