/**
 * The EventBridge target for `aws.codedeploy` "CodeDeploy Deployment State-change Notification"
 * (SUCCESS, FAILURE, STOP) of this trigger's deployment group:
 * - SUCCESS of a release → its version (with its integrity fingerprint) becomes the known-good one;
 * - SUCCESS of a rollback deployment → `Rollback Completed`, with the time to recovery (audit and
 *   the `RollbackTriggers/TimeToRecovery` metric);
 * - FAILURE or STOP of a release → `Rollback Triggered`, with the alarms that stopped it (the alarm
 *   path has no Lambda of its own: this is its audit);
 * - FAILURE or STOP of a rollback deployment → `Escalation Raised` (traffic may still be on the bad
 *   version).
 *
 * EventBridge invokes it asynchronously. A transient failure (throttling, 5xx, timeouts,
 * AccessDenied while IAM propagates) is retried within the invocation's time, then THROWN, so
 * Lambda's async retries and the dead-letter queue keep the event: nothing is lost. A permanent
 * failure is audited as an escalation and not retried. Audit delivery never throws (it falls back
 * to a log line). A malformed event, or a deployment of another group, is logged and ignored.
 */
import type { CodeDeployClient, DeploymentInfo } from '@aws-sdk/client-codedeploy';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
// Core modules are imported one by one, not through the `lib/core` barrel: the barrel brings the
// emulator, the simulator and the canary statistics this handler never uses.
import { AuditDetailType, type AuditEventDetail, alarmNamesFromErrorMessage, auditEvent } from '../../lib/core/audit-events';
import { isRollbackDeployment } from '../../lib/core/deployment-kind';
import { StateChangeEnv, TIME_TO_RECOVERY_METRIC } from '../../lib/core/handler-env';
import { type DeploymentStateChange, HANDLED_DEPLOYMENT_STATES, validateDeploymentStateChange } from '../../lib/core/handler-events';
import type { AuditSink } from '../shared/audit';
import { HandlerLogger, Lazy, RemainingTime, budgetEnd, handlerLogger, neverThrowing, once } from '../shared/handler-kit';
import type { VersionState } from '../shared/integrity';
import { errorName, isRetryable, withRetry } from '../shared/retry';
import { KnownGoodStore } from '../shared/state';

export interface StateChangeDeps {
  /** The CodeDeploy application and deployment group this trigger watches; others are ignored. */
  readonly applicationName: string;
  readonly deploymentGroupName: string;
  readonly codedeploy: Lazy<CodeDeployClient>;
  /** Lambda deployments: reads the deployed version's CodeSha256. */
  readonly lambda: Lazy<LambdaClient>;
  /** ECS deployments: reads the deployed task set's task definition. */
  readonly ecs: Lazy<ECSClient>;
  readonly store: Lazy<KnownGoodStore>;
  /** Where audit events go; wrapped so that it never throws. */
  readonly audit: AuditSink | Lazy<AuditSink>;
  readonly logger: HandlerLogger;
  /** Powertools Metrics (namespace {@link TIME_TO_RECOVERY_METRIC}.namespace): the time to recovery. */
  readonly metrics: Pick<Metrics, 'addDimension' | 'addMetric' | 'publishStoredMetrics'>;
  /** Epoch seconds. */
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** Milliseconds kept back at the end of the invocation (audit, a clean throw). @default 5000 */
  readonly reserveMs?: number;
  /** The budget when the handler is called without a Lambda context. @default 60000 */
  readonly defaultBudgetMs?: number;
}

type Detail = Omit<AuditEventDetail, 'schemaVersion' | 'idempotencyKey' | 'occurredAt'>;

/** Reads that only refine the audit (time to recovery) get at most this long. */
const OPTIONAL_READ_SECONDS = 10;
const HANDLED: ReadonlySet<string> = new Set(HANDLED_DEPLOYMENT_STATES);

/**
 * A failure that will not heal by retrying (the version is gone, the table is missing, a
 * malformed record): audited as an escalation, not thrown.
 */
class Permanent extends Error {
  constructor(
    message: string,
    readonly original?: unknown,
  ) {
    super(message);
    this.name = 'Permanent';
  }
}

/** Whether a failure that survived the in-invocation retries is worth Lambda's async retry. */
function transient(e: unknown): boolean {
  return !(e instanceof Permanent) && isRetryable(e, true);
}

const seconds = (date: Date | undefined): number | undefined => (date ? date.getTime() / 1000 : undefined);

export function createStateChangeHandler(deps: StateChangeDeps) {
  const { logger } = deps;
  const audit = neverThrowing(deps.audit, logger);
  const publish = (type: AuditDetailType, detail: Detail) => audit.publish([auditEvent(type, detail, new Date(deps.now() * 1000))]);
  const codedeployModule = () => import('../shared/codedeploy.js');
  const integrityModule = () => import('../shared/integrity.js');

  return async function stateChange(event: unknown, context?: RemainingTime): Promise<void> {
    const until = budgetEnd(deps.now(), context, deps.defaultBudgetMs, deps.reserveMs ?? 5_000);
    /** Retries transient failures (AccessDenied included: IAM propagation) until the budget ends. */
    const retry = <T>(call: () => Promise<T>, by: number = until) =>
      withRetry(call, {
        baseDelayMs: 200,
        sleep: deps.sleep,
        deadline: by,
        now: deps.now,
        retryAccessDenied: true,
        onRetry: (e, attempt) => logger.warn('retrying after a transient failure', { error: errorName(e), attempt }),
      });

    const checked = validateDeploymentStateChange(event);
    if (!checked.ok) {
      logger.error('ignoring an invalid deployment state-change event', { problem: checked.problem });
      return;
    }
    const change = checked.event;
    if (!HANDLED.has(change.state)) {
      logger.info('ignoring deployment state', { deploymentId: change.deploymentId, state: change.state });
      return;
    }
    if (!ours(change.application, change.deploymentGroup)) {
      logger.info('ignoring a deployment of another deployment group', { deploymentId: change.deploymentId, application: change.application, deploymentGroup: change.deploymentGroup });
      return;
    }
    const base: Detail = { deploymentId: change.deploymentId, applicationName: deps.applicationName, deploymentGroupName: deps.deploymentGroupName, reasons: [] };

    try {
      const [cd, codedeploy] = await Promise.all([deps.codedeploy(), codedeployModule()]);
      const getDeployment = (id: string, by?: number) =>
        retry(async () => {
          try {
            return await codedeploy.getDeployment(cd, id);
          } catch (e) {
            if (errorName(e) === 'DeploymentDoesNotExistException') throw new Permanent(`deployment ${id} does not exist`, e);
            throw e;
          }
        }, by);
      const deployment = await getDeployment(change.deploymentId);
      // The event's names decided nothing on their own: the deployment itself must be ours.
      if (!ours(deployment.applicationName, deployment.deploymentGroupName, true)) {
        logger.info('ignoring a deployment of another deployment group', {
          deploymentId: change.deploymentId,
          application: deployment.applicationName,
          deploymentGroup: deployment.deploymentGroupName,
        });
        return;
      }
      const completedAt = seconds(deployment.completeTime) ?? deps.now();
      const rollback = isRollbackDeployment(deployment.creator);
      if (change.state === 'SUCCESS') {
        if (rollback) await rollbackCompleted(change, deployment, completedAt, base, getDeployment, retry);
        else await recordKnownGood(change, completedAt, base, cd, codedeploy, retry);
        return;
      }
      if (rollback) {
        await publish(AuditDetailType.ESCALATION_RAISED, {
          ...base,
          errorCode: deployment.errorInformation?.code,
          errorMessage: deployment.errorInformation?.message,
          reasons: [`the rollback deployment itself ended in ${change.state}: traffic may still be on the bad version`],
        });
        return;
      }
      await rollbackTriggered(change, deployment, completedAt, base, retry);
    } catch (e) {
      if (transient(e)) {
        // Thrown: Lambda's async retries, then the dead-letter queue, keep the event.
        logger.error('transient failure; the event will be retried', { deploymentId: change.deploymentId, state: change.state, error: errorName(e) });
        throw e;
      }
      const why = e instanceof Permanent ? e.message : `${errorName(e)}: ${(e as Error)?.message ?? String(e)}`;
      logger.error('deployment state change not processed', { deploymentId: change.deploymentId, state: change.state, error: why });
      await publish(AuditDetailType.ESCALATION_RAISED, {
        ...base,
        reasons: [
          change.state === 'SUCCESS'
            ? `deployment succeeded but could not be processed (${why}): no known-good version was recorded`
            : `deployment ${change.state} could not be processed (${why}): details unavailable`,
        ],
      });
    }
  };

  /** Whether the names are this trigger's; absent names pass unless `strict`. */
  function ours(application: string | undefined, group: string | undefined, strict = false): boolean {
    if (strict) return application === deps.applicationName && group === deps.deploymentGroupName;
    return (application === undefined || application === deps.applicationName) && (group === undefined || group === deps.deploymentGroupName);
  }

  async function rollbackCompleted(
    change: DeploymentStateChange,
    deployment: DeploymentInfo,
    completedAt: number,
    base: Detail,
    getDeployment: (id: string, by?: number) => Promise<DeploymentInfo>,
    retry: <T>(call: () => Promise<T>, by?: number) => Promise<T>,
  ): Promise<void> {
    const triggering = deployment.rollbackInfo?.rollbackTriggeringDeploymentId;
    const notes: string[] = [];
    let firstBad: number | undefined;
    if (triggering) {
      const by = deps.now() + OPTIONAL_READ_SECONDS;
      try {
        const store = await deps.store();
        firstBad = await retry(() => store.firstBadSignal(triggering), by);
      } catch (e) {
        logger.warn('could not read the first bad signal', { error: errorName(e), triggering });
        notes.push(`first bad signal of ${triggering} unreadable (${errorName(e)}); measured from its completion`);
      }
      if (firstBad === undefined) {
        // Without a recorded signal, the triggering deployment's end is the best bound we have.
        const original = await getDeployment(triggering, deps.now() + OPTIONAL_READ_SECONDS).catch((e: unknown) => {
          logger.warn('could not read the rolled-back deployment', { error: errorName(e), triggering });
          return undefined;
        });
        firstBad = seconds(original?.completeTime);
      }
    }
    const timeToRecoverySeconds = firstBad !== undefined ? Math.max(0, Math.round(completedAt - firstBad)) : undefined;
    if (timeToRecoverySeconds !== undefined) {
      deps.metrics.addDimension(TIME_TO_RECOVERY_METRIC.dimension, deps.deploymentGroupName);
      deps.metrics.addMetric(TIME_TO_RECOVERY_METRIC.metricName, MetricUnit.Seconds, timeToRecoverySeconds);
      deps.metrics.publishStoredMetrics();
    } else {
      notes.push('time to recovery unknown: no bad signal and no completion time of the rolled-back deployment');
    }
    await publish(AuditDetailType.ROLLBACK_COMPLETED, {
      ...base,
      rollbackDeploymentId: change.deploymentId,
      reasons: [`rollback deployment ${change.deploymentId} succeeded${triggering ? ` (rolled back ${triggering})` : ''}`, ...notes],
      timeToRecoverySeconds,
    });
  }

  async function recordKnownGood(
    change: DeploymentStateChange,
    completedAt: number,
    base: Detail,
    cd: CodeDeployClient,
    codedeploy: typeof import('../shared/codedeploy.js'),
    retry: <T>(call: () => Promise<T>, by?: number) => Promise<T>,
  ): Promise<void> {
    const targets = await retry(() => codedeploy.findTargets(cd, change.deploymentId));
    const integrity = await integrityModule();
    let state: VersionState;
    if (targets.platform === 'lambda' && targets.functionName && targets.targetVersion) {
      const client = await deps.lambda();
      state = await retry(() => integrity.lambdaVersionState(client, targets.functionName!, targets.targetVersion!));
    } else if (targets.platform === 'ecs' && targets.ecsServiceArn && targets.targetVersion) {
      const client = await deps.ecs();
      state = await retry(() => integrity.ecsTaskSetState(client, targets.ecsServiceArn!, targets.targetVersion!));
    } else {
      throw new Permanent(`the deployed version could not be identified (platform ${targets.platform}, target ${targets.targetVersion ?? 'none'})`);
    }
    if (!state.exists) throw new Permanent(`the deployed version ${state.version} no longer exists`);
    const store = await deps.store();
    const known = { version: state.version, integrity: state.integrity };
    const result = await retry(() => store.put(deps.applicationName, deps.deploymentGroupName, known, { deploymentId: change.deploymentId, completedAt }, deps.now()));
    if (!result.recorded) {
      // A later deployment's version stands: this SUCCESS arrived late (a retry, a redrive).
      logger.warn('known-good not recorded: a later deployment’s record stands', {
        deploymentId: change.deploymentId,
        completedAt,
        standing: result.standing ? { deploymentId: result.standing.deploymentId, version: result.standing.version, deployedAt: result.standing.deployedAt } : 'unreadable',
      });
      return;
    }
    await publish(AuditDetailType.KNOWN_GOOD_RECORDED, {
      ...base,
      fromVersion: targets.currentVersion,
      toVersion: state.version,
      reasons: [`recorded ${state.version} (${state.integrity ?? 'no fingerprint'}) as known-good`],
    });
  }

  async function rollbackTriggered(
    change: DeploymentStateChange,
    deployment: DeploymentInfo,
    completedAt: number,
    base: Detail,
    retry: <T>(call: () => Promise<T>, by?: number) => Promise<T>,
  ): Promise<void> {
    // The deployment's end bounds its first bad signal; the evaluator's verdict, if earlier, stands.
    try {
      const store = await deps.store();
      await retry(() => store.recordFirstBadSignal(change.deploymentId, completedAt), deps.now() + OPTIONAL_READ_SECONDS);
    } catch (e) {
      logger.warn('could not record the first bad signal (time to recovery will use the deployment’s end)', { error: errorName(e) });
    }
    const error = deployment.errorInformation;
    const alarmNames = alarmNamesFromErrorMessage(error?.message);
    const rollbackDeploymentId = deployment.rollbackInfo?.rollbackDeploymentId;
    await publish(AuditDetailType.ROLLBACK_TRIGGERED, {
      ...base,
      verdict: 'fail',
      errorCode: error?.code,
      errorMessage: error?.message,
      rollbackDeploymentId,
      alarmNames,
      reasons: [
        alarmNames.length > 0 ? `stopped by alarm ${alarmNames.join(', ')}` : `deployment ${change.state}: ${error?.code ?? 'no error code'}`,
        ...(deployment.rollbackInfo?.rollbackMessage ? [deployment.rollbackInfo.rollbackMessage] : []),
        ...(rollbackDeploymentId ? [] : ['no rollback deployment recorded for it (yet)']),
      ],
    });
  }
}

/** Default wiring for the Lambda runtime, created on the first invocation. */
let runtimeHandler: ReturnType<typeof createStateChangeHandler> | undefined;

export async function handler(event: unknown, context?: RemainingTime): Promise<void> {
  runtimeHandler ??= createStateChangeHandler(runtimeDeps());
  return runtimeHandler(event, context);
}

function runtimeDeps(): StateChangeDeps {
  const serviceName = 'rollback-triggers-state-change';
  const logger = handlerLogger(new Logger({ serviceName }));
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  const env = (name: string) => {
    const value = process.env[name];
    if (!value) logger.error(`${name} is not set`);
    return value ?? '';
  };
  const table = env(StateChangeEnv.STATE_TABLE);
  const eventBus = env(StateChangeEnv.EVENT_BUS);
  return {
    applicationName: env(StateChangeEnv.APPLICATION_NAME),
    deploymentGroupName: env(StateChangeEnv.DEPLOYMENT_GROUP_NAME),
    codedeploy: once(async () => new (await import('@aws-sdk/client-codedeploy')).CodeDeployClient({})),
    lambda: once(async () => new (await import('@aws-sdk/client-lambda')).LambdaClient({})),
    ecs: once(async () => new (await import('@aws-sdk/client-ecs')).ECSClient({})),
    store: once(async () => new KnownGoodStore(new (await import('@aws-sdk/client-dynamodb')).DynamoDBClient({}), table)),
    audit: once(async () => {
      const [{ EventBridgeClient }, { eventBridgeAudit }] = await Promise.all([import('@aws-sdk/client-eventbridge'), import('../shared/audit.js')]);
      return eventBridgeAudit(new EventBridgeClient({}), eventBus, logger, sleep);
    }),
    logger,
    metrics: new Metrics({ namespace: TIME_TO_RECOVERY_METRIC.namespace, serviceName }),
    now: () => Date.now() / 1000,
    sleep,
  };
}
