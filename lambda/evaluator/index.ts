import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CodeDeployClient, DeploymentInfo } from '@aws-sdk/client-codedeploy';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import {
  ArmScope,
  AuditDetailType,
  AuditEvent,
  AuditEventDetail,
  Decision,
  EvaluatorConfig,
  EvaluatorEnv,
  alarmNamesFromErrorMessage,
  auditEvent,
  buildHealthQueries,
  buildMetricQueries,
  countsFor,
  decideBake,
  decideBeforeTraffic,
  floorToMinute,
  isDeploymentFinished,
  isRollbackDeployment,
  parseEvaluatorConfig,
  syntheticsFailure,
} from '../../lib/core';
import { AuditSink, eventBridgeAudit } from '../shared/audit';
import { DeploymentTargets, findTargets, getDeployment, reportHook } from '../shared/codedeploy';
import { VersionState, ecsTaskSetState, lambdaVersionState } from '../shared/integrity';
import { readMetrics } from '../shared/metrics';
import { RetryOptions, errorName, withRetry } from '../shared/retry';
import { StateStore, StoredDecision } from '../shared/state';

/** The CodeDeploy lifecycle hook payload: only these two ids. */
export interface HookEvent {
  readonly DeploymentId: string;
  readonly LifecycleEventHookExecutionId: string;
}

/**
 * A bake that outlives one invocation continues here, with the same ids and the hook's original
 * start time (durable continuation: CodeDeploy's one-hour clock keeps running).
 */
export interface ContinuationEvent {
  readonly rollbackTriggersContinuation: {
    readonly deploymentId: string;
    readonly lifecycleEventHookExecutionId: string;
    readonly sequence: number;
    /** Epoch seconds the hook was first invoked; used when the state table cannot be read. */
    readonly hookStartedAt?: number;
  };
}

/** `aws.codedeploy` "CodeDeploy Deployment State-change Notification". */
export interface StateChangeEvent {
  readonly source: 'aws.codedeploy';
  readonly 'detail-type': string;
  readonly detail: { readonly deploymentId: string; readonly state: string; readonly application?: string; readonly deploymentGroup?: string };
}

export type EvaluatorEvent = HookEvent | ContinuationEvent | StateChangeEvent;

export interface EvaluatorDeps {
  readonly config: EvaluatorConfig;
  readonly stateTable: string;
  readonly eventBus: string;
  readonly codedeploy: CodeDeployClient;
  readonly cloudwatch: CloudWatchClient;
  readonly dynamodb: DynamoDBClient;
  readonly lambda: LambdaClient;
  readonly ecs: ECSClient;
  readonly events: EventBridgeClient;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Epoch seconds. */
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** HTTP client for health checks. @default the runtime's fetch */
  readonly fetch?: typeof fetch;
  /** Retry policy for AWS calls. */
  readonly retry?: Partial<Pick<RetryOptions, 'attempts' | 'baseDelayMs'>>;
}

type HookContext = Pick<Context, 'getRemainingTimeInMillis' | 'invokedFunctionArn'>;

const BEFORE_EVENTS = new Set(['BeforeAllowTraffic', 'BeforeInstall']);
/** Seconds kept in reserve at the end of an invocation to hand the bake over. */
const HANDOVER_MARGIN_SECONDS = 60;

export function createHandler(deps: EvaluatorDeps) {
  const { config, logger } = deps;
  const retry = (extra: Partial<RetryOptions> = {}): RetryOptions => ({ attempts: 5, baseDelayMs: 200, sleep: deps.sleep, ...deps.retry, ...extra });
  const store = new StateStore(deps.dynamodb, deps.stateTable);
  const audit: AuditSink = eventBridgeAudit(deps.events, deps.eventBus, logger, deps.sleep);
  const publish = (type: AuditDetailType, detail: Omit<AuditEventDetail, 'schemaVersion' | 'idempotencyKey' | 'occurredAt'>) =>
    audit.publish([auditEvent(type, detail, new Date(deps.now() * 1000))]);

  /** Best effort: the state table helps decide once, but its failure must not leave a hook unreported. */
  async function tryState<T>(what: string, call: () => Promise<T>): Promise<T | undefined> {
    try {
      return await withRetry(call, retry());
    } catch (e) {
      logger.error(`state table: ${what} failed`, { error: errorName(e) });
      return undefined;
    }
  }

  async function onHook(deploymentId: string, hookId: string, ctx: HookContext, continuation?: ContinuationEvent['rollbackTriggersContinuation']): Promise<void> {
    const continuationSequence = continuation?.sequence;
    const ids = { deploymentId, lifecycleEventHookExecutionId: hookId };
    // Tells this invocation's own state-table writes (whose responses may be lost) from a rival's.
    const owner = randomUUID();
    let deployment: DeploymentInfo | undefined;
    try {
      // AccessDenied is retried: right after a deploy the evaluator's IAM policy may not have propagated.
      deployment = await withRetry(() => getDeployment(deps.codedeploy, deploymentId), retry({ retryAccessDenied: true }));
    } catch (e) {
      // Without the deployment we cannot tell a rollback from a release. Blocking a rollback has no
      // safety net; a release still has the alarm path (CodeDeploy polls the alarms itself).
      await finalize(ids, {}, {
        action: 'report',
        status: 'Succeeded',
        verdict: 'skipped',
        reasons: [`GetDeployment failed (${errorName(e)}); reporting Succeeded so a rollback is never blocked — the alarm path still guards this deployment`],
        observations: [],
      }, true);
      return;
    }
    const base = { ...ids, applicationName: deployment.applicationName, deploymentGroupName: deployment.deploymentGroupName };
    if (isRollbackDeployment(deployment.creator)) {
      await finalize(base, {}, {
        action: 'report',
        status: 'Succeeded',
        verdict: 'skipped',
        reasons: [`deployment created by ${deployment.creator}: hooks of a rollback succeed at once, a rollback is never blocked`],
        observations: [],
      });
      return;
    }
    if (isDeploymentFinished(deployment.status)) {
      await publish(AuditDetailType.TRIGGER_SUPPRESSED, { ...base, reasons: [`deployment already ${deployment.status}; nothing to report`] });
      return;
    }

    // Decide once per hook execution: claim it, or find who already did.
    const now = deps.now();
    const leaseUntil = now + Math.ceil(ctx.getRemainingTimeInMillis() / 1000) + 30;
    // Without a readable record, a continuation still knows when the hook started (its one-hour clock).
    let hookStartedAt = continuation?.hookStartedAt ?? now;
    let sequence = continuationSequence ?? 0;
    const claim =
      continuationSequence === undefined
        ? await tryState('claim', () => store.claim(hookId, deploymentId, now, leaseUntil - now, owner))
        : await tryState('read', async () => ({ kind: 'existing' as const, record: (await store.getHook(hookId))! }));
    if (claim?.record) {
      const record = claim.record;
      hookStartedAt = record.hookStartedAt;
      sequence = record.sequence;
      if (record.decision) {
        if (record.reported) {
          await publish(AuditDetailType.TRIGGER_SUPPRESSED, { ...base, verdict: record.decision.verdict as AuditEventDetail['verdict'], reasons: ['duplicate invocation: this hook was already decided and reported'] });
        } else {
          await finalize(base, {}, { action: 'report', ...record.decision, observations: [] } as Decision & { action: 'report' });
        }
        return;
      }
      if (claim.kind === 'existing') {
        const expected = continuationSequence ?? record.sequence;
        if (continuationSequence === undefined && record.leaseUntil > now) {
          logger.info('hook in progress in another invocation', { hookId });
          await publish(AuditDetailType.TRIGGER_SUPPRESSED, { ...base, reasons: ['duplicate invocation while another invocation is evaluating this hook'] });
          return;
        }
        const won = await tryState('take over', () => store.takeOver(hookId, expected, leaseUntil, owner));
        if (won === false) {
          logger.info('another invocation took this hook over', { hookId });
          return;
        }
        sequence = expected + 1;
      }
    }

    let targets: DeploymentTargets;
    try {
      targets = await withRetry(() => findTargets(deps.codedeploy, deploymentId), retry({ retryAccessDenied: true }));
    } catch (e) {
      await finalize(base, {}, inconclusive(`could not read the deployment's targets (${errorName(e)})`));
      return;
    }
    const versions = { fromVersion: targets.currentVersion, toVersion: targets.targetVersion };
    const running = targets.runningLifecycleEvent;
    const isBefore = continuationSequence === undefined && running !== undefined && BEFORE_EVENTS.has(running);
    const context = { ...base, ...versions, lifecycleEvent: running };

    if (isBefore) {
      await finalize(context, versions, await beforeTraffic(deployment, targets));
      return;
    }
    await bake(context, deployment, targets, hookStartedAt, sequence, ctx);
  }

  function inconclusive(reason: string): Decision & { action: 'report' } {
    const status = config.inconclusiveAction === 'pass' ? 'Succeeded' : 'Failed';
    return { action: 'report', status, verdict: 'inconclusive', reasons: [`${reason} (inconclusive → ${status})`], observations: [] };
  }

  async function beforeTraffic(deployment: DeploymentInfo, targets: DeploymentTargets): Promise<Decision & { action: 'report' }> {
    const knownGood =
      deployment.applicationName && deployment.deploymentGroupName
        ? await tryState('known-good read', () => store.getKnownGood(deployment.applicationName!, deployment.deploymentGroupName!))
        : undefined;
    let current: VersionState | undefined;
    try {
      if (targets.platform === 'lambda' && targets.functionName && targets.currentVersion) {
        current = await withRetry(() => lambdaVersionState(deps.lambda, targets.functionName!, targets.currentVersion!), retry({ retryAccessDenied: true }));
      } else if (targets.platform === 'ecs' && targets.ecsServiceArn && targets.currentVersion) {
        current = await withRetry(() => ecsTaskSetState(deps.ecs, targets.ecsServiceArn!, targets.currentVersion!), retry({ retryAccessDenied: true }));
      }
    } catch (e) {
      return inconclusive(`could not check the current version (${errorName(e)})`);
    }
    return decideBeforeTraffic({
      currentVersion: current?.version ?? targets.currentVersion,
      targetVersion: targets.targetVersion,
      knownGood,
      currentExists: current?.exists ?? true,
      currentIntegrity: current?.integrity,
    });
  }

  function armScopes(targets: DeploymentTargets): ArmScope[] | string {
    if (targets.platform === 'lambda') {
      if (!targets.targetVersion) return 'CodeDeploy reported no target version';
      const arms: ArmScope[] = [{ arm: 'canary', dimensions: { ExecutedVersion: targets.targetVersion } }];
      if (targets.currentVersion) arms.push({ arm: 'baseline', dimensions: { ExecutedVersion: targets.currentVersion } });
      return arms;
    }
    if (targets.platform === 'ecs') {
      const group = (name?: string) => config.targetGroups?.find((tg) => tg.name === name);
      const green = group(targets.targetTargetGroup);
      if (!green) return `the replacement task set's target group ${targets.targetTargetGroup ?? '(none)'} is not one this trigger watches`;
      const arms: ArmScope[] = [{ arm: 'canary', dimensions: green.dimensions }];
      const blue = group(targets.currentTargetGroup);
      if (blue && blue !== green) arms.push({ arm: 'baseline', dimensions: blue.dimensions });
      return arms;
    }
    return `unsupported compute platform for deployment targets`;
  }

  async function bake(
    context: Omit<AuditEventDetail, 'schemaVersion' | 'idempotencyKey' | 'occurredAt' | 'reasons'>,
    deployment: DeploymentInfo,
    targets: DeploymentTargets,
    hookStartedAt: number,
    sequence: number,
    ctx: HookContext,
  ): Promise<void> {
    const versions = { fromVersion: targets.currentVersion, toVersion: targets.targetVersion };
    const arms = armScopes(targets);
    if (typeof arms === 'string') {
      await finalize(context, versions, inconclusive(arms));
      return;
    }
    // SLOs, both arms, and the Synthetics health checks: one GetMetricData call per tick.
    const queries = [...buildMetricQueries(config, arms), ...buildHealthQueries(config)];
    const consecutiveHttpFailures = new Map<number, number>();
    // Judge the whole shift: both versions served traffic on the same minutes during a canary.
    const windowStart = floorToMinute(deployment.createTime ? deployment.createTime.getTime() / 1000 : hookStartedAt);
    for (;;) {
      const now = deps.now();
      try {
        const current = await withRetry(() => getDeployment(deps.codedeploy, context.deploymentId), retry());
        if (isDeploymentFinished(current.status)) {
          await publish(AuditDetailType.TRIGGER_SUPPRESSED, { ...context, reasons: [`deployment ${current.status} during the bake; CodeDeploy decided, nothing to report`] });
          return;
        }
      } catch (e) {
        logger.warn('GetDeployment failed during the bake; continuing', { error: errorName(e) });
      }
      const end = floorToMinute(now - config.metricDelaySeconds);
      let series = new Map<string, ReadonlyMap<number, number>>();
      const notes: string[] = [];
      try {
        series = await withRetry(() => readMetrics(deps.cloudwatch, queries, windowStart, end), retry({ retryAccessDenied: true }));
      } catch (e) {
        notes.push(`GetMetricData failed (${errorName(e)}); this tick has no data`);
        logger.warn('GetMetricData failed', { error: errorName(e) });
      }
      const healthFailures = await runHealthChecks(series, hookStartedAt, end, consecutiveHttpFailures);
      const decision = decideBake({
        healthFailures,
        // Test traffic only flows when someone sends it; production traffic is judged next, at
        // AfterAllowTraffic. So too little test traffic passes, while a failing one still fails.
        config: context.lifecycleEvent === 'AfterAllowTestTraffic' ? { ...config, inconclusiveAction: 'pass' } : config,
        bakedSeconds: Math.max(0, end - floorToMinute(hookStartedAt)),
        hookAgeSeconds: now - hookStartedAt,
        slos: config.slos.map((slo, i) => {
          const s = (arm: string, part: string) => series.get(`s${i}_${arm}_${part}`);
          const shortStart = Math.max(windowStart, end - slo.shortWindowSeconds);
          const hasBaseline = arms.some((a) => a.arm === 'baseline');
          return {
            slo,
            canary: countsFor(slo, s('canary', 'n'), s('canary', 't'), windowStart, end),
            canaryShort: countsFor(slo, s('canary', 'n'), s('canary', 't'), shortStart, end),
            baseline: hasBaseline ? countsFor(slo, s('baseline', 'n'), s('baseline', 't'), windowStart, end) : undefined,
          };
        }),
      });
      if (decision.action === 'report') {
        await finalize(context, versions, { ...decision, reasons: [...decision.reasons, ...notes] });
        return;
      }
      const remainingSeconds = ctx.getRemainingTimeInMillis() / 1000;
      if (remainingSeconds < config.tickSeconds + HANDOVER_MARGIN_SECONDS) {
        await handOver(context, versions, sequence, hookStartedAt, ctx, decision);
        return;
      }
      await deps.sleep(config.tickSeconds * 1000);
    }
  }

  /**
   * HTTP probes (failing after `failAfter` consecutive failed ticks) and Synthetics canaries (any run
   * below its minimum since traffic shifted). Returns the failures as reasons.
   */
  async function runHealthChecks(series: Map<string, ReadonlyMap<number, number>>, from: number, to: number, consecutive: Map<number, number>): Promise<string[]> {
    const failures: string[] = [];
    const checks = config.healthChecks ?? [];
    for (let i = 0; i < checks.length; i++) {
      const check = checks[i];
      if (check.kind === 'synthetics') {
        const failure = syntheticsFailure(check, series.get(`h${i}`), from, to);
        if (failure) failures.push(failure);
        continue;
      }
      const problem = await probe(check.url!, check.timeoutMs ?? 5_000);
      const count = problem ? (consecutive.get(i) ?? 0) + 1 : 0;
      consecutive.set(i, count);
      if (problem && count >= (check.failAfter ?? 3)) {
        failures.push(`health check ${check.name}: ${count} consecutive failures of GET ${check.url} (last: ${problem})`);
      }
    }
    return failures;
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

  /** Continues the bake in a new invocation (one lasts at most 15 minutes; the hook up to an hour). */
  async function handOver(
    context: Omit<AuditEventDetail, 'schemaVersion' | 'idempotencyKey' | 'occurredAt' | 'reasons'>,
    versions: { fromVersion?: string; toVersion?: string },
    sequence: number,
    hookStartedAt: number,
    ctx: HookContext,
    last: Decision,
  ): Promise<void> {
    const payload: ContinuationEvent = {
      rollbackTriggersContinuation: { deploymentId: context.deploymentId, lifecycleEventHookExecutionId: context.lifecycleEventHookExecutionId!, sequence, hookStartedAt },
    };
    try {
      await withRetry(
        () => deps.lambda.send(new InvokeCommand({ FunctionName: ctx.invokedFunctionArn, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(payload)) })),
        retry(),
      );
      logger.info('bake continues in a new invocation', { sequence });
    } catch (e) {
      // Never leave the hook unreported: decide with what there is.
      await finalize(context, versions, {
        ...inconclusive(`could not continue the bake in a new invocation (${errorName(e)})`),
        observations: last.observations,
      });
    }
  }

  async function finalize(
    context: Omit<AuditEventDetail, 'schemaVersion' | 'idempotencyKey' | 'occurredAt' | 'reasons'>,
    versions: { fromVersion?: string; toVersion?: string },
    decision: Decision & { action: 'report' },
    escalate = false,
  ): Promise<void> {
    const hookId = context.lifecycleEventHookExecutionId!;
    const decidedAt = deps.now();
    const proposed: StoredDecision = { status: decision.status, verdict: decision.verdict, reasons: decision.reasons, decidedAt };
    // A repeat never decides differently: whatever was stored first stands.
    const standing = (await tryState('decide', () => store.decide(hookId, proposed))) ?? proposed;
    if (standing.status === 'Failed') await tryState('bad signal', () => store.recordFirstBadSignal(context.deploymentId, standing.decidedAt));
    const detail = { ...context, ...versions, verdict: standing.verdict as AuditEventDetail['verdict'], reasons: standing.reasons, observations: decision.observations };
    let result;
    try {
      // AccessDenied is retried too (IAM propagation right after a deploy): a denied call changed nothing.
      result = await withRetry(
        () => reportHook(deps.codedeploy, context.deploymentId, hookId, standing.status),
        retry({ attempts: 8, baseDelayMs: 500, retryAccessDenied: true }),
      );
    } catch (e) {
      await publish(AuditDetailType.ESCALATION_RAISED, { ...detail, reasons: [`could not report ${standing.status} to CodeDeploy (${errorName(e)})`, ...standing.reasons] });
      throw e; // the stored, unreported decision is reported by the retry of this invocation
    }
    if (result === 'already-completed') {
      // Read the real outcome: the hook's own lifecycle event says whether our earlier report (its
      // response lost) was applied, or whether CodeDeploy or another invocation decided otherwise.
      let hookStatus: string | undefined;
      let deploymentStatus = 'unknown';
      try {
        const targets = await withRetry(() => findTargets(deps.codedeploy, context.deploymentId), retry({ retryAccessDenied: true }));
        hookStatus = targets.lifecycleEvents?.find((e) => e.name === context.lifecycleEvent)?.status;
        deploymentStatus = (await withRetry(() => getDeployment(deps.codedeploy, context.deploymentId), retry({ retryAccessDenied: true }))).status ?? 'unknown';
      } catch (e) {
        logger.warn('could not read the outcome after LifecycleEventAlreadyCompletedException', { error: errorName(e) });
      }
      if (context.lifecycleEvent !== undefined && hookStatus === standing.status) {
        await tryState('mark reported', () => store.markReported(hookId));
        await publish(AuditDetailType.DEPLOYMENT_VERDICT, { ...detail, reportedStatus: standing.status });
        return;
      }
      await publish(AuditDetailType.TRIGGER_SUPPRESSED, {
        ...detail,
        reasons: [
          `hook already completed (${context.lifecycleEvent ?? 'hook'} ${hookStatus ?? 'status unknown'}, deployment ${deploymentStatus}); ${standing.status} was not applied`,
          ...standing.reasons,
        ],
      });
      return;
    }
    await tryState('mark reported', () => store.markReported(hookId));
    const events: AuditEvent[] = [auditEvent(AuditDetailType.DEPLOYMENT_VERDICT, { ...detail, reportedStatus: standing.status }, new Date(deps.now() * 1000))];
    if (escalate) events.push(auditEvent(AuditDetailType.ESCALATION_RAISED, { ...detail, reportedStatus: standing.status }, new Date(deps.now() * 1000)));
    await audit.publish(events);
  }

  async function onStateChange(event: StateChangeEvent): Promise<void> {
    const { deploymentId, state } = event.detail;
    const base = { deploymentId, applicationName: event.detail.application, deploymentGroupName: event.detail.deploymentGroup };
    let deployment: DeploymentInfo;
    try {
      deployment = await withRetry(() => getDeployment(deps.codedeploy, deploymentId), retry());
    } catch (e) {
      await publish(state === 'SUCCESS' ? AuditDetailType.ESCALATION_RAISED : AuditDetailType.ROLLBACK_TRIGGERED, {
        ...base,
        reasons: [`deployment ${state}; GetDeployment failed (${errorName(e)}), details unavailable`],
      });
      return;
    }
    const completedAt = deployment.completeTime ? deployment.completeTime.getTime() / 1000 : deps.now();
    if (state === 'SUCCESS' && isRollbackDeployment(deployment.creator)) {
      const triggering = deployment.rollbackInfo?.rollbackTriggeringDeploymentId;
      let firstBad = triggering ? await tryState('bad signal read', () => store.firstBadSignal(triggering)) : undefined;
      if (firstBad === undefined && triggering) {
        const original = await withRetry(() => getDeployment(deps.codedeploy, triggering), retry()).catch(() => undefined);
        firstBad = original?.completeTime ? original.completeTime.getTime() / 1000 : undefined;
      }
      const timeToRecoverySeconds = firstBad !== undefined ? Math.max(0, Math.round(completedAt - firstBad)) : undefined;
      if (timeToRecoverySeconds !== undefined) {
        deps.metrics.addDimension('DeploymentGroup', deployment.deploymentGroupName ?? 'unknown');
        deps.metrics.addMetric('TimeToRecovery', MetricUnit.Seconds, timeToRecoverySeconds);
        deps.metrics.publishStoredMetrics();
      }
      await publish(AuditDetailType.ROLLBACK_COMPLETED, {
        ...base,
        rollbackDeploymentId: deploymentId,
        reasons: [`rollback deployment ${deploymentId} succeeded${triggering ? ` (rolled back ${triggering})` : ''}`],
        timeToRecoverySeconds,
      });
      return;
    }
    if (state === 'SUCCESS') {
      await recordKnownGood(deployment, base);
      return;
    }
    if (state === 'FAILURE' || state === 'STOP') {
      if (isRollbackDeployment(deployment.creator)) {
        await publish(AuditDetailType.ESCALATION_RAISED, {
          ...base,
          errorCode: deployment.errorInformation?.code,
          errorMessage: deployment.errorInformation?.message,
          reasons: [`the rollback deployment itself ended in ${state}: traffic may still be on the bad version`],
        });
        return;
      }
      await tryState('bad signal', () => store.recordFirstBadSignal(deploymentId, completedAt));
      const alarmNames = alarmNamesFromErrorMessage(deployment.errorInformation?.message);
      await publish(AuditDetailType.ROLLBACK_TRIGGERED, {
        ...base,
        verdict: 'fail',
        errorCode: deployment.errorInformation?.code,
        errorMessage: deployment.errorInformation?.message,
        rollbackDeploymentId: deployment.rollbackInfo?.rollbackDeploymentId,
        alarmNames,
        reasons: [
          alarmNames.length > 0
            ? `stopped by alarm ${alarmNames.join(', ')}`
            : `deployment ${state}: ${deployment.errorInformation?.code ?? 'no error code'}`,
          ...(deployment.rollbackInfo?.rollbackMessage ? [deployment.rollbackInfo.rollbackMessage] : []),
        ],
      });
    }
  }

  async function recordKnownGood(deployment: DeploymentInfo, base: { deploymentId: string; applicationName?: string; deploymentGroupName?: string }): Promise<void> {
    try {
      const targets = await withRetry(() => findTargets(deps.codedeploy, base.deploymentId), retry());
      let state: VersionState | undefined;
      if (targets.platform === 'lambda' && targets.functionName && targets.targetVersion) {
        state = await withRetry(() => lambdaVersionState(deps.lambda, targets.functionName!, targets.targetVersion!), retry({ retryAccessDenied: true }));
      } else if (targets.platform === 'ecs' && targets.ecsServiceArn && targets.targetVersion) {
        state = await withRetry(() => ecsTaskSetState(deps.ecs, targets.ecsServiceArn!, targets.targetVersion!), retry({ retryAccessDenied: true }));
      }
      if (!state?.exists || !deployment.applicationName || !deployment.deploymentGroupName) {
        throw new Error('the deployed version could not be read');
      }
      const known = { version: state.version, integrity: state.integrity };
      await withRetry(() => store.putKnownGood(deployment.applicationName!, deployment.deploymentGroupName!, known, base.deploymentId, deps.now()), retry());
      await publish(AuditDetailType.KNOWN_GOOD_RECORDED, { ...base, toVersion: state.version, reasons: [`recorded ${state.version} (${state.integrity ?? 'no fingerprint'}) as known-good`] });
    } catch (e) {
      await publish(AuditDetailType.ESCALATION_RAISED, { ...base, reasons: [`deployment succeeded but its version could not be recorded as known-good (${errorName(e)})`] });
    }
  }

  return async function handler(event: EvaluatorEvent, ctx: HookContext): Promise<void> {
    if ('LifecycleEventHookExecutionId' in event) return onHook(event.DeploymentId, event.LifecycleEventHookExecutionId, ctx);
    if ('rollbackTriggersContinuation' in event) {
      const c = event.rollbackTriggersContinuation;
      return onHook(c.deploymentId, c.lifecycleEventHookExecutionId, ctx, c);
    }
    if (event.source === 'aws.codedeploy') return onStateChange(event);
    logger.warn('ignoring an event of unknown shape', { event });
  };
}

/** Default wiring for the Lambda runtime; created on first use so tests can import createHandler alone. */
let runtimeHandler: ReturnType<typeof createHandler> | undefined;

export async function handler(event: EvaluatorEvent, ctx: Context): Promise<void> {
  runtimeHandler ??= createHandler({
    config: parseEvaluatorConfig(process.env[EvaluatorEnv.CONFIG]),
    stateTable: process.env[EvaluatorEnv.STATE_TABLE]!,
    eventBus: process.env[EvaluatorEnv.EVENT_BUS]!,
    codedeploy: new CodeDeployClient({}),
    cloudwatch: new CloudWatchClient({}),
    dynamodb: new DynamoDBClient({}),
    lambda: new LambdaClient({}),
    ecs: new ECSClient({}),
    events: new EventBridgeClient({}),
    logger: new Logger({ serviceName: 'rollback-triggers-evaluator' }),
    metrics: new Metrics({ namespace: 'RollbackTriggers', serviceName: 'rollback-triggers-evaluator' }),
    now: () => Date.now() / 1000,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  });
  return runtimeHandler(event, ctx);
}
