/**
 * The EventBridge target for `aws.codedeploy` "CodeDeploy Deployment State-change Notification"
 * (SUCCESS, FAILURE, STOP) of this trigger's deployment group:
 * - SUCCESS of a release → its version (with its integrity fingerprint) becomes the known-good one;
 * - SUCCESS of a rollback deployment → `Rollback Completed`, with the time to recovery (audit and
 *   the `RollbackTriggers/TimeToRecovery` metric);
 * - FAILURE or STOP of a release → `Rollback Triggered`, with the alarms that stopped it (the alarm
 *   path has no Lambda of its own: this is its audit);
 * - FAILURE or STOP of a rollback deployment → `Escalation Raised` (traffic may still be on the bad
 *   version);
 * - with a circuit breaker, each rollback of a release is counted, and a release's success after
 *   the cooldown closes it (`Circuit Opened` / `Circuit Closed`, and the `CircuitOpen` metric);
 * - on the follow-up machine it starts the post-rollback verification (a rollback's SUCCESS), the
 *   guard window (a release's SUCCESS) and the secondary action (a rollback's FAILURE or STOP). A
 *   rollback deployment the library itself created (guard window, secondary action; known by its
 *   description) is a rollback: its SUCCESS completes the rollback and records the restored version.
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
import type { SFNClient } from '@aws-sdk/client-sfn';
import { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics } from '@aws-lambda-powertools/metrics';
// Core modules are imported one by one, not through the `lib/core` barrel: the barrel brings the
// emulator, the simulator and the canary statistics this handler never uses.
import { AuditDetailType, type AuditEventDetail, alarmNamesFromErrorMessage, auditEvent } from '../../lib/core/audit-events';
import { type BreakerRecord, type BreakerSettings, type BreakerTransition, breakerSettingsProblem, circuitMetricLine, recordRollback, recordSuccess } from '../../lib/core/breaker';
import { isRollbackDeployment } from '../../lib/core/deployment-kind';
import { type GuardSettings, type SecondarySettings, guardExecutionName, guardInput, libraryRollbackOf, secondaryExecutionName, secondaryInput } from '../../lib/core/follow-up';
import { type VerifySettings, verifyExecutionName, verifyInput } from '../../lib/core/verify';
import { StateChangeEnv, TIME_TO_RECOVERY_METRIC } from '../../lib/core/handler-env';
import { type DeploymentStateChange, HANDLED_DEPLOYMENT_STATES, validateDeploymentStateChange } from '../../lib/core/handler-events';
import type { AuditSink } from '../shared/audit';
import type { DeploymentTargets } from '../shared/codedeploy';
import { HandlerLogger, Lazy, RemainingTime, budgetEnd, eventBridgeAuditOnFirstUse, handlerLogger, neverThrowing, once, sleep } from '../shared/handler-kit';
import type { VersionState } from '../shared/integrity';
import { errorName, isRetryable, retryUntil, withRetry } from '../shared/retry';
import { type KnownGoodRecord, KnownGoodStore, updateBreaker } from '../shared/state';

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
  /** The circuit breaker's settings; absent without one. */
  readonly breaker?: BreakerSettings;
  /** Post-rollback verification: the machine to start after each successful rollback; absent without one. */
  readonly verify?: VerifySettings;
  /** The guard window: the machine to start after each successful release; absent without one. */
  readonly guard?: GuardSettings;
  /** The secondary action: the machine to start after each failed rollback; absent without one. */
  readonly secondary?: SecondarySettings;
  /** Step Functions, for starting the follow-up machine. */
  readonly sfn?: Lazy<SFNClient>;
  /** Writes one embedded-metric-format line (the breaker's metric). @default process.stdout */
  readonly emitMetricLine?: (line: string) => void;
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

/** What every invocation uses: the deps and the never-throwing audit. */
interface Handler {
  readonly deps: StateChangeDeps;
  readonly logger: HandlerLogger;
  /** `keySubject`: lib/core/audit-events.ts auditEvent (a decision that names neither a hook nor a rollback). */
  publish(type: AuditDetailType, detail: Detail, keySubject?: string): Promise<void>;
}

/** One event being handled: the change, its audit base, and reads retried within the invocation's budget. */
interface Invocation extends Handler {
  readonly change: DeploymentStateChange;
  readonly base: Detail;
  /** Retries transient failures (AccessDenied included: IAM propagation) until `by` (the invocation's budget). */
  retry<T>(call: () => Promise<T>, by?: number): Promise<T>;
  /** A deployment that does not exist is {@link Permanent}. */
  getDeployment(deploymentId: string, by?: number): Promise<DeploymentInfo>;
  findTargets(deploymentId: string): Promise<DeploymentTargets>;
}

export function createStateChangeHandler(deps: StateChangeDeps) {
  const audit = neverThrowing(deps.audit, deps.logger);
  const handler: Handler = {
    deps,
    logger: deps.logger,
    publish: (type, detail, keySubject) => audit.publish([auditEvent(type, detail, new Date(deps.now() * 1000), keySubject)]),
  };
  return (event: unknown, context?: RemainingTime): Promise<void> => stateChange(handler, event, context);
}

/** Handle a change of this trigger's group; escalate what cannot be processed, throw what may heal. */
async function stateChange(h: Handler, event: unknown, context: RemainingTime | undefined): Promise<void> {
  const until = budgetEnd(h.deps.now(), context, h.deps.defaultBudgetMs, h.deps.reserveMs ?? 5_000);
  const change = changeToHandle(h, event);
  if (!change) return;
  const base: Detail = { deploymentId: change.deploymentId, applicationName: h.deps.applicationName, deploymentGroupName: h.deps.deploymentGroupName, reasons: [] };
  try {
    await handleChange(await invocation(h, change, base, until));
  } catch (e) {
    await notProcessed(h, change, base, e);
  }
}

/** The event's change when it is valid, of a handled state and of this trigger's group; else logged and ignored. */
function changeToHandle(h: Handler, event: unknown): DeploymentStateChange | undefined {
  const checked = validateDeploymentStateChange(event);
  if (!checked.ok) {
    h.logger.error('ignoring an invalid deployment state-change event', { problem: checked.problem });
    return undefined;
  }
  const change = checked.event;
  if (!HANDLED.has(change.state)) {
    h.logger.info('ignoring deployment state', { deploymentId: change.deploymentId, state: change.state });
    return undefined;
  }
  if (!ours(h.deps, change.application, change.deploymentGroup)) {
    h.logger.info('ignoring a deployment of another deployment group', { deploymentId: change.deploymentId, application: change.application, deploymentGroup: change.deploymentGroup });
    return undefined;
  }
  return change;
}

/** Whether the names are this trigger's; absent names pass unless `strict`. */
function ours(deps: StateChangeDeps, application: string | undefined, group: string | undefined, strict = false): boolean {
  if (strict) return application === deps.applicationName && group === deps.deploymentGroupName;
  return (application === undefined || application === deps.applicationName) && (group === undefined || group === deps.deploymentGroupName);
}

async function invocation(h: Handler, change: DeploymentStateChange, base: Detail, until: number): Promise<Invocation> {
  const [client, codedeploy] = await Promise.all([h.deps.codedeploy(), import('../shared/codedeploy.js')]);
  const onRetry = (e: unknown, attempt: number) => h.logger.warn('retrying after a transient failure', { error: errorName(e), attempt });
  const retry = <T>(call: () => Promise<T>, by: number = until) => withRetry(call, retryUntil(by, h.deps, onRetry));
  return {
    ...h,
    change,
    base,
    retry,
    getDeployment: (id, by) =>
      retry(async () => {
        try {
          return await codedeploy.getDeployment(client, id);
        } catch (e) {
          if (errorName(e) === 'DeploymentDoesNotExistException') throw new Permanent(`deployment ${id} does not exist`, e);
          throw e;
        }
      }, by),
    findTargets: (id) => retry(() => codedeploy.findTargets(client, id)),
  };
}

/** Read the deployment (it must be ours), then act on what ended: a release or a rollback, succeeded or not. */
async function handleChange(inv: Invocation): Promise<void> {
  const { change } = inv;
  const deployment = await inv.getDeployment(change.deploymentId);
  // The event's names decided nothing on their own: the deployment itself must be ours.
  if (!ours(inv.deps, deployment.applicationName, deployment.deploymentGroupName, true)) {
    inv.logger.info('ignoring a deployment of another deployment group', {
      deploymentId: change.deploymentId,
      application: deployment.applicationName,
      deploymentGroup: deployment.deploymentGroupName,
    });
    return;
  }
  const completedAt = seconds(deployment.completeTime) ?? inv.deps.now();
  // A deployment the library created to take traffic off a bad release (guard window, secondary action) is a rollback of it.
  const undid = libraryRollbackOf(deployment.description);
  const rollback = isRollbackDeployment(deployment.creator) || undid !== undefined;
  if (change.state === 'SUCCESS') {
    if (undid !== undefined) {
      // It restored the known-good version: the group's record names it again.
      await recordKnownGood(inv, completedAt);
      return rollbackCompleted(inv, completedAt, undid);
    }
    if (rollback) return rollbackCompleted(inv, completedAt, deployment.rollbackInfo?.rollbackTriggeringDeploymentId);
    const judgedGood = await recordKnownGood(inv, completedAt, (previous) => startGuard(inv, completedAt, previous));
    // A release the evaluator judged bad (a rollback a human let through) is no evidence the problem
    // is gone; a good one is judged when it ended: a late SUCCESS of a release that ended while the
    // breaker was open does not close it.
    if (!judgedGood) return;
    return breakerChange(inv, (record, now, settings) => recordSuccess(record, inv.change.deploymentId, Math.min(completedAt, now), settings));
  }
  if (rollback) {
    const proposed = await startFollowUp(
      inv,
      'secondary action',
      inv.deps.secondary,
      secondaryExecutionName(change.deploymentId),
      () => secondaryInput(change.deploymentId, completedAt, inv.deps.secondary!, undid ?? deployment.rollbackInfo?.rollbackTriggeringDeploymentId),
      { rollbackDeploymentId: change.deploymentId, consequence: 'no secondary action is proposed' },
    );
    return inv.publish(AuditDetailType.ESCALATION_RAISED, {
      ...inv.base,
      errorCode: deployment.errorInformation?.code,
      errorMessage: deployment.errorInformation?.message,
      reasons: [
        `the rollback deployment itself ended in ${change.state}: traffic may still be on the bad version`,
        // Only what was started: a start that failed was escalated on its own.
        ...(proposed ? ['a secondary action was started: if the known-good version is intact, it is proposed for approval (Approval Requested); if not, it is escalated'] : []),
      ],
    });
  }
  await rollbackTriggered(inv, deployment, completedAt);
  return breakerChange(inv, (record, now, settings) => recordRollback(record, inv.change.deploymentId, completedAt, now, settings));
}

/** Starts the guard window of a release that succeeded, with the known-good version recorded before it as its rollback target. */
async function startGuard(inv: Invocation, completedAt: number, previous: KnownGoodRecord | undefined): Promise<void> {
  const settings = inv.deps.guard;
  if (!settings) return;
  const id = inv.change.deploymentId;
  // The release's own record: this event was handled before, and its guard started then.
  if (previous?.deploymentId === id) return;
  // A later deployment's record stands (this SUCCESS arrived late): this release no longer serves
  // traffic; its guard would judge the later one's and "roll back" to it. Same order as store.put.
  if (previous?.deployedAt !== undefined && previous.deployedAt >= completedAt) {
    inv.logger.warn('guard window not started: a later deployment’s record stands', { deploymentId: id, completedAt, standing: previous.deploymentId });
    return;
  }
  await startFollowUp(inv, 'guard window', settings, guardExecutionName(id), () => guardInput(id, completedAt, settings, previous), {
    consequence: 'the release is not guarded',
  });
}

/**
 * Counts a rollback or a success in the group's circuit breaker (a conditional write, read again on
 * a lost race); a transition is audited and sets the `CircuitOpen` metric. A transient failure is
 * thrown (Lambda's retries, then the dead-letter queue; the count is idempotent per deployment, so
 * a retried event never counts twice); any other is escalated as what it is.
 */
async function breakerChange(
  inv: Invocation,
  change: (record: BreakerRecord, now: number, settings: BreakerSettings) => { record: BreakerRecord; transition?: BreakerTransition } | undefined,
): Promise<void> {
  const settings = inv.deps.breaker;
  if (!settings) return;
  const { applicationName, deploymentGroupName } = inv.deps;
  const store = await inv.deps.store();
  const now = inv.deps.now();
  let written;
  try {
    written = await inv.retry(() => updateBreaker(store, applicationName, deploymentGroupName, (record) => change(record, now, settings)));
  } catch (e) {
    if (transient(e)) throw e;
    // The rest of this event was handled (and audited): say what failed, not "details unavailable".
    const what = inv.change.state === 'SUCCESS' ? 'success' : 'rollback';
    await inv.publish(AuditDetailType.ESCALATION_RAISED, { ...inv.base, reasons: [`the circuit breaker could not count this ${what} (${errorName(e)}: ${(e as Error)?.message ?? String(e)})`] }, 'breaker');
    return;
  }
  const transition = written?.transition;
  if (!transition) return;
  (inv.deps.emitMetricLine ?? ((line) => process.stdout.write(`${line}\n`)))(circuitMetricLine(deploymentGroupName, transition.to === 'open', now));
  await inv.publish(transition.to === 'open' ? AuditDetailType.CIRCUIT_OPENED : AuditDetailType.CIRCUIT_CLOSED, { ...inv.base, reasons: [transition.reason] });
}

/** A transient failure is thrown (Lambda's async retries, then the dead-letter queue, keep the event); any other is escalated. */
async function notProcessed(h: Handler, change: DeploymentStateChange, base: Detail, e: unknown): Promise<void> {
  if (transient(e)) {
    h.logger.error('transient failure; the event will be retried', { deploymentId: change.deploymentId, state: change.state, error: errorName(e) });
    throw e;
  }
  const why = e instanceof Permanent ? e.message : `${errorName(e)}: ${(e as Error)?.message ?? String(e)}`;
  h.logger.error('deployment state change not processed', { deploymentId: change.deploymentId, state: change.state, error: why });
  await h.publish(AuditDetailType.ESCALATION_RAISED, {
    ...base,
    reasons: [
      change.state === 'SUCCESS'
        ? `deployment succeeded but could not be processed (${why}): no known-good version was recorded`
        : `deployment ${change.state} could not be processed (${why}): details unavailable`,
    ],
  });
}

/** SUCCESS of a rollback (of `triggering`): `Rollback Completed`, with the time to recovery (audit and metric). */
async function rollbackCompleted(inv: Invocation, completedAt: number, triggering: string | undefined): Promise<void> {
  const notes: string[] = [];
  const firstBad = triggering ? await firstBadSignal(inv, triggering, notes) : undefined;
  const timeToRecoverySeconds = firstBad !== undefined ? Math.max(0, Math.round(completedAt - firstBad)) : undefined;
  // First, the one step that may throw (Lambda then retries the whole event): the metric and the
  // audit below are written once, after it.
  await startVerification(inv, completedAt, triggering, timeToRecoverySeconds);
  if (timeToRecoverySeconds !== undefined) {
    const { metrics } = inv.deps;
    metrics.addDimension(TIME_TO_RECOVERY_METRIC.dimension, inv.deps.deploymentGroupName);
    metrics.addMetric(TIME_TO_RECOVERY_METRIC.metricName, MetricUnit.Seconds, timeToRecoverySeconds);
    metrics.publishStoredMetrics();
  } else {
    notes.push('time to recovery unknown: no bad signal and no completion time of the rolled-back deployment');
  }
  await inv.publish(AuditDetailType.ROLLBACK_COMPLETED, {
    ...inv.base,
    rollbackDeploymentId: inv.change.deploymentId,
    reasons: [`rollback deployment ${inv.change.deploymentId} succeeded${triggering ? ` (rolled back ${triggering})` : ''}`, ...notes],
    timeToRecoverySeconds,
  });
}

/** Starts the post-rollback verification of the restored version (one execution per rollback deployment). */
async function startVerification(inv: Invocation, completedAt: number, triggering: string | undefined, timeToRecoverySeconds: number | undefined): Promise<void> {
  const rollbackId = inv.change.deploymentId;
  await startFollowUp(inv, 'verification', inv.deps.verify, verifyExecutionName(rollbackId), () => verifyInput(rollbackId, completedAt, inv.deps.verify!, triggering, timeToRecoverySeconds), {
    rollbackDeploymentId: rollbackId,
    consequence: 'the restored version is not verified',
  });
}

/**
 * Starts a flow of the follow-up machine: one execution per flow and deployment (the name is
 * derived from them, and StartExecution of a Standard workflow refuses a second execution of the
 * same name with ExecutionAlreadyExists, which means it was started). A transient failure to start
 * is thrown (Lambda's retries, then the dead-letter queue, keep the event); any other is escalated
 * (with what it costs) and the event goes on. Returns whether the flow runs (started now or before).
 */
async function startFollowUp(
  inv: Invocation,
  flow: string,
  settings: { readonly stateMachineArn: string } | undefined,
  name: string,
  input: () => unknown,
  failure: { readonly consequence: string; readonly rollbackDeploymentId?: string },
): Promise<boolean> {
  const { sfn } = inv.deps;
  if (!settings || !sfn) return false;
  const [client, { StartExecutionCommand }] = await Promise.all([sfn(), import('@aws-sdk/client-sfn')]);
  try {
    await inv.retry(() => client.send(new StartExecutionCommand({ stateMachineArn: settings.stateMachineArn, name, input: JSON.stringify(input()) })));
  } catch (e) {
    if (errorName(e) === 'ExecutionAlreadyExists') return true;
    if (transient(e)) throw e;
    // A failure no retry heals (the machine is gone, the input refused): say so, and let the rest of
    // the event be written. The execution's name keeps this escalation's idempotency key apart from
    // the deployment's other escalations (the failed rollback's own, the breaker's).
    await inv.publish(
      AuditDetailType.ESCALATION_RAISED,
      {
        ...inv.base,
        ...(failure.rollbackDeploymentId ? { rollbackDeploymentId: failure.rollbackDeploymentId } : {}),
        reasons: [`the ${flow} of deployment ${inv.change.deploymentId} could not be started (${errorName(e)}: ${(e as Error)?.message ?? String(e)}): ${failure.consequence}`],
      },
      name,
    );
    return false;
  }
  inv.logger.info(`${flow} started`, { deploymentId: inv.change.deploymentId, execution: name });
  return true;
}

/**
 * When the rolled-back deployment first went bad: its recorded first bad signal or, without one,
 * its completion (the best bound there is). Each read is optional: what fails is noted, not thrown.
 */
async function firstBadSignal(inv: Invocation, triggering: string, notes: string[]): Promise<number | undefined> {
  const by = inv.deps.now() + OPTIONAL_READ_SECONDS;
  try {
    const store = await inv.deps.store();
    const recorded = await inv.retry(() => store.firstBadSignal(triggering), by);
    if (recorded !== undefined) return recorded;
  } catch (e) {
    inv.logger.warn('could not read the first bad signal', { error: errorName(e), triggering });
    notes.push(`first bad signal of ${triggering} unreadable (${errorName(e)}); measured from its completion`);
  }
  const original = await inv.getDeployment(triggering, inv.deps.now() + OPTIONAL_READ_SECONDS).catch((e: unknown) => {
    inv.logger.warn('could not read the rolled-back deployment', { error: errorName(e), triggering });
    return undefined;
  });
  return seconds(original?.completeTime);
}

/**
 * SUCCESS of a release: its version, with its integrity fingerprint, becomes the known-good one.
 * Returns false when the evaluator had judged the release bad (nothing recorded). `beforePut` gets
 * the record it replaces, first (the guard window's rollback target: started before the record
 * changes, so a retried event reads the same one).
 */
async function recordKnownGood(inv: Invocation, completedAt: number, beforePut?: (previous: KnownGoodRecord | undefined) => Promise<void>): Promise<boolean> {
  const { change, deps } = inv;
  // A release the evaluator judged bad that still succeeded (shadow mode reports Succeeded where it
  // would roll back; a human may let a rollback the circuit breaker held through) is no version to go back to.
  const judgedBad = await inv.retry(async () => (await deps.store()).firstBadSignal(change.deploymentId));
  if (judgedBad !== undefined) {
    inv.logger.warn('known-good not recorded: the evaluator judged this deployment bad (shadow mode, or a rollback a human let through)', { deploymentId: change.deploymentId, firstBadAt: judgedBad });
    return false;
  }
  const targets = await inv.findTargets(change.deploymentId);
  const state = await deployedVersion(inv, targets);
  if (!state.exists) throw new Permanent(`the deployed version ${state.version} no longer exists`);
  const store = await deps.store();
  const previous = await previousKnownGood(inv);
  if (beforePut) await beforePut(previous);
  // The replaced record is kept in the new one: if this version turns bad after its success (the
  // guard window), the version to go back to is known. A repeat of this event keeps the original's.
  const prior = previous?.deploymentId === change.deploymentId ? previous.previous : previous;
  const kept = prior && { version: prior.version, ...(prior.integrity !== undefined ? { integrity: prior.integrity } : {}), ...(prior.deploymentId ? { deploymentId: prior.deploymentId } : {}) };
  const known = { version: state.version, integrity: state.integrity };
  const result = await inv.retry(() => store.put(deps.applicationName, deps.deploymentGroupName, known, { deploymentId: change.deploymentId, completedAt }, deps.now(), kept));
  if (!result.recorded) {
    // A later deployment's version stands: this SUCCESS arrived late (a retry, a redrive).
    inv.logger.warn('known-good not recorded: a later deployment’s record stands', {
      deploymentId: change.deploymentId,
      completedAt,
      standing: result.standing ? { deploymentId: result.standing.deploymentId, version: result.standing.version, deployedAt: result.standing.deployedAt } : 'unreadable',
    });
    return true;
  }
  await inv.publish(AuditDetailType.KNOWN_GOOD_RECORDED, {
    ...inv.base,
    fromVersion: targets.currentVersion,
    toVersion: state.version,
    reasons: [`recorded ${state.version} (${state.integrity ?? 'no fingerprint'}) as known-good`],
  });
  return true;
}

/** The group's known-good record before this release's; unreadable (not transiently) is none, logged. */
async function previousKnownGood(inv: Invocation): Promise<KnownGoodRecord | undefined> {
  const store = await inv.deps.store();
  try {
    return await inv.retry(() => store.get(inv.deps.applicationName, inv.deps.deploymentGroupName));
  } catch (e) {
    if (transient(e)) throw e;
    inv.logger.warn('the known-good record before this release is unreadable: the guard window and a failed rollback have no earlier version to go back to', { error: errorName(e) });
    return undefined;
  }
}

/** The deployed version as it is now: the Lambda version's CodeSha256, or the ECS task set's task definition. */
async function deployedVersion(inv: Invocation, targets: DeploymentTargets): Promise<VersionState> {
  const { deployedVersionState } = await import('../shared/integrity.js');
  const state = await deployedVersionState(targets, targets.targetVersion, inv.deps, inv.retry);
  if (state) return state;
  throw new Permanent(`the deployed version could not be identified (platform ${targets.platform}, target ${targets.targetVersion ?? 'none'})`);
}

/** FAILURE or STOP of a release: `Rollback Triggered`, with the alarms that stopped it. */
async function rollbackTriggered(inv: Invocation, deployment: DeploymentInfo, completedAt: number): Promise<void> {
  // The deployment's end bounds its first bad signal; the evaluator's verdict, if earlier, stands.
  try {
    const store = await inv.deps.store();
    await inv.retry(() => store.recordFirstBadSignal(inv.change.deploymentId, completedAt), inv.deps.now() + OPTIONAL_READ_SECONDS);
  } catch (e) {
    inv.logger.warn('could not record the first bad signal (time to recovery will use the deployment’s end)', { error: errorName(e) });
  }
  const error = deployment.errorInformation;
  const alarmNames = alarmNamesFromErrorMessage(error?.message);
  const rollbackDeploymentId = deployment.rollbackInfo?.rollbackDeploymentId;
  await inv.publish(AuditDetailType.ROLLBACK_TRIGGERED, {
    ...inv.base,
    verdict: 'fail',
    errorCode: error?.code,
    errorMessage: error?.message,
    rollbackDeploymentId,
    alarmNames,
    reasons: [
      alarmNames.length > 0 ? `stopped by alarm ${alarmNames.join(', ')}` : `deployment ${inv.change.state}: ${error?.code ?? 'no error code'}`,
      ...(deployment.rollbackInfo?.rollbackMessage ? [deployment.rollbackInfo.rollbackMessage] : []),
      ...(rollbackDeploymentId ? [] : ['no rollback deployment recorded for it (yet)']),
    ],
  });
}

/** Default wiring for the Lambda runtime, created on the first invocation. */
let runtimeHandler: ReturnType<typeof createStateChangeHandler> | undefined;

export async function handler(event: unknown, context?: RemainingTime): Promise<void> {
  runtimeHandler ??= createStateChangeHandler(runtimeDeps());
  return runtimeHandler(event, context);
}

function runtimeDeps(): StateChangeDeps {
  const serviceName = TIME_TO_RECOVERY_METRIC.service;
  const logger = handlerLogger(new Logger({ serviceName }));
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
    audit: eventBridgeAuditOnFirstUse(eventBus, logger, sleep),
    logger,
    metrics: new Metrics({ namespace: TIME_TO_RECOVERY_METRIC.namespace, serviceName }),
    breaker: breakerFromEnv(process.env[StateChangeEnv.BREAKER], logger),
    verify: followUpFromEnv<VerifySettings>(process.env[StateChangeEnv.VERIFY], StateChangeEnv.VERIFY, ['durationSeconds', 'metricDelaySeconds'], logger),
    guard: followUpFromEnv<GuardSettings>(process.env[StateChangeEnv.GUARD], StateChangeEnv.GUARD, ['durationSeconds', 'metricDelaySeconds'], logger),
    secondary: followUpFromEnv<SecondarySettings>(process.env[StateChangeEnv.SECONDARY], StateChangeEnv.SECONDARY, ['approvalTimeoutSeconds'], logger),
    sfn: once(async () => new (await import('@aws-sdk/client-sfn')).SFNClient({})),
    now: () => Date.now() / 1000,
    sleep,
  };
}

/** The breaker's settings from the environment; a value that cannot be used is logged and ignored (the breaker only ever holds rollbacks back). */
function breakerFromEnv(value: string | undefined, logger: HandlerLogger): BreakerSettings | undefined {
  if (!value) return undefined;
  try {
    const settings = JSON.parse(value) as BreakerSettings;
    const problem = breakerSettingsProblem(settings);
    if (!problem) return settings;
    logger.error(`${StateChangeEnv.BREAKER} has ${problem}: rollbacks are not counted`);
  } catch {
    logger.error(`${StateChangeEnv.BREAKER} is not JSON: rollbacks are not counted`);
  }
  return undefined;
}

/** A follow-up flow's settings from the environment: a state machine ARN and positive whole numbers; anything else is logged (the flow does not start). */
function followUpFromEnv<T extends { stateMachineArn: string }>(value: string | undefined, name: string, numbers: ReadonlyArray<keyof T>, logger: HandlerLogger): T | undefined {
  if (!value) return undefined;
  try {
    const v = JSON.parse(value) as Record<string, unknown>;
    if (typeof v.stateMachineArn === 'string' && numbers.every((k) => Number.isInteger(v[k as string]) && (v[k as string] as number) > 0)) return v as unknown as T;
  } catch {
    // Logged below.
  }
  logger.error(`${name} is not { stateMachineArn, ${numbers.join(', ')} }: the flow does not start`);
  return undefined;
}
