import type { DeploymentInfo } from '@aws-sdk/client-codedeploy';
import { AuditDetailType as Audit } from '../../lib/core/audit-events';
import { type BakeState, MAX_DEADLINE_SECONDS, alignToHookStart, bakeDeadline, bakeWindowStart, hookStartTime, nextWaitSeconds } from '../../lib/core/bake';
import { type KnownGood, decideBeforeTraffic, decideUnreadable, foreignDeploymentReason, inconclusive, isBeforeTrafficHook } from '../../lib/core/decision';
import { isDeploymentFinished, isRollbackDeployment } from '../../lib/core/deployment-kind';
import { armScopesFor } from '../../lib/core/metric-queries';
import type { DeploymentTargets } from '../shared/codedeploy';
import type { VersionState } from '../shared/integrity';
import { withRetry } from '../shared/retry';
import { decide, toReport } from './hand-over';
import { type Report, type StepRuntime, compact, out } from './runtime';
import { tick } from './tick';

type Names = { applicationName?: string; deploymentGroupName?: string };

/**
 * The first step: read the deployment; settle what is not judged (another group's, a rollback, one
 * already over); read its versions on CodeDeploy's clock; then check them (BeforeAllowTraffic) or
 * start the bake.
 */
export async function resolve(rt: StepRuntime, state: BakeState, until: number): Promise<BakeState> {
  const deadline = bakeDeadline(state, rt.config.deadlineMarginSeconds);
  let deployment: DeploymentInfo;
  try {
    deployment = await rt.getDeployment(state.deploymentId, until);
  } catch (e) {
    return unreadable(rt, state, 'deployment', `GetDeployment failed (${rt.expected(e)})`, deadline);
  }
  const names: Names = compact({ applicationName: deployment.applicationName, deploymentGroupName: deployment.deploymentGroupName });
  const named: BakeState = { ...state, context: { ...state.context, ...names } };
  const settled = await settledUnjudged(rt, named, names, deployment);
  if (settled) return settled;

  let targets: DeploymentTargets;
  try {
    targets = await rt.findTargets(state.deploymentId, until);
  } catch (e) {
    return unreadable(rt, named, 'targets', `ListDeploymentTargets/BatchGetDeploymentTargets failed (${rt.expected(e)})`, deadline);
  }
  const aligned = onCodeDeployClock(rt, named, targets, until);
  const lifecycleEvent = targets.runningLifecycleEvent;
  const context = compact({ ...names, lifecycleEvent, fromVersion: targets.currentVersion, toVersion: targets.targetVersion });
  const resolved: BakeState = { ...aligned.state, context, unreadable: undefined };
  if (isBeforeTrafficHook(lifecycleEvent)) return decide(rt, resolved, await beforeTraffic(rt, targets, aligned.until), aligned.until);
  return startBake(rt, resolved, deployment, targets, aligned.until);
}

/** A deployment the step does not judge: the next state, or undefined to go on. */
async function settledUnjudged(rt: StepRuntime, named: BakeState, names: Names, deployment: DeploymentInfo): Promise<BakeState | undefined> {
  const foreign = foreignDeploymentReason(rt.config, names);
  if (foreign) {
    await rt.publish([{ type: Audit.ESCALATION_RAISED, detail: { ...rt.auditBase(named), reasons: [foreign] } }]);
    return out(named, { next: 'done' });
  }
  if (isRollbackDeployment(deployment.creator)) {
    return toReport(rt, named, {
      action: 'report',
      status: 'Succeeded',
      verdict: 'skipped',
      reasons: [`deployment created by ${deployment.creator}: hooks of a rollback succeed at once, a rollback is never blocked`],
      observations: [],
    });
  }
  if (isDeploymentFinished(deployment.status)) {
    await rt.publish([{ type: Audit.TRIGGER_SUPPRESSED, detail: { ...rt.auditBase(named), reasons: [`deployment already ${deployment.status}; nothing to report`] } }]);
    return out(named, { next: 'done' });
  }
  return undefined;
}

/**
 * CodeDeploy's clock, not the starter's: a hook invocation Lambda retried minutes later stamped a
 * late start; the deadline and report-by move back with it (and the machine waits for them).
 */
function onCodeDeployClock(rt: StepRuntime, state: BakeState, targets: DeploymentTargets, until: number): { state: BakeState; until: number } {
  const lifecycleEvent = targets.runningLifecycleEvent;
  const aligned = alignToHookStart(state, hookStartTime(targets.lifecycleEvents, lifecycleEvent), rt.now());
  if (aligned === state) return { state, until };
  rt.logger.warn("hook clock moved back to CodeDeploy's lifecycle event start", {
    deploymentId: state.deploymentId,
    lifecycleEvent,
    starterHookStartedAt: state.hookStartedAt,
    hookStartedAt: aligned.hookStartedAt,
    deadline: aligned.deadline,
    reportBy: aligned.reportBy,
  });
  // The step's retries never outlast the report's last chance on the corrected clock.
  return { state: aligned, until: Math.min(until, aligned.hookStartedAt + MAX_DEADLINE_SECONDS) };
}

/** The arms to watch, the first minute judged, then the first tick. */
async function startBake(rt: StepRuntime, resolved: BakeState, deployment: DeploymentInfo, targets: DeploymentTargets, until: number): Promise<BakeState> {
  const arms = armScopesFor(rt.config, targets);
  if (typeof arms === 'string') return toReport(rt, resolved, inconclusive(rt.config.inconclusiveAction, arms));
  const createTime = deployment.createTime ? deployment.createTime.getTime() / 1000 : undefined;
  const context = { ...resolved.context, arms, windowStart: bakeWindowStart(createTime, resolved.hookStartedAt) };
  // The first tick runs now, in this step: a release already failing when the hook starts is
  // rolled back without waiting a tick (and without another invocation).
  return tick(rt, { ...resolved, phase: 'tick', ticks: 0, context }, until, true);
}

/** A read `resolve` needs failed: try again a tick later; core decides at the deadline. */
function unreadable(rt: StepRuntime, state: BakeState, what: 'deployment' | 'targets', reason: string, deadline: number): BakeState {
  const attempts = (state.unreadable ?? 0) + 1;
  const now = rt.now();
  const decision = decideUnreadable({
    what,
    reason,
    attempts,
    hookAgeSeconds: now - state.hookStartedAt,
    deadlineSeconds: deadline - state.hookStartedAt,
    inconclusiveAction: rt.config.inconclusiveAction,
  });
  rt.logger.warn('could not resolve the deployment', { deploymentId: state.deploymentId, what, reason, attempts });
  if (decision.action === 'report') return toReport(rt, { ...state, unreadable: attempts }, decision);
  return out(state, { phase: 'resolve', unreadable: attempts, next: 'wait', waitSeconds: nextWaitSeconds(now, rt.config.tickSeconds, deadline) });
}

/** BeforeAllowTraffic: core checks the versions against the known-good record. */
async function beforeTraffic(rt: StepRuntime, targets: DeploymentTargets, until: number): Promise<Report> {
  const knownGood = await readKnownGood(rt, until);
  const current = await readCurrentVersion(rt, targets, until);
  return decideBeforeTraffic({
    currentVersion: current.state?.version ?? targets.currentVersion,
    targetVersion: targets.targetVersion,
    knownGood: knownGood.record,
    currentExists: current.state?.exists ?? true,
    currentIntegrity: current.state?.integrity,
    knownGoodUnreadable: knownGood.unreadable,
    currentUnreadable: current.unreadable,
    inconclusiveAction: rt.config.inconclusiveAction,
  });
}

/** The known-good record of the guarded group (resolve refused any other group's deployment). */
async function readKnownGood(rt: StepRuntime, until: number): Promise<{ record?: KnownGood; unreadable?: string }> {
  const { applicationName, deploymentGroupName } = rt.guardedGroup();
  try {
    const store = await rt.knownGood();
    return { record: await withRetry(() => store.get(applicationName, deploymentGroupName), rt.retry(until)) };
  } catch (e) {
    return { unreadable: rt.expected(e) };
  }
}

/** The version serving now: whether it still exists, and its integrity fingerprint. */
async function readCurrentVersion(rt: StepRuntime, targets: DeploymentTargets, until: number): Promise<{ state?: VersionState; unreadable?: string }> {
  try {
    const { deployedVersionState } = await import('../shared/integrity.js');
    return { state: await deployedVersionState(targets, targets.currentVersion, rt, (call) => withRetry(call, rt.retry(until))) };
  } catch (e) {
    return { unreadable: rt.expected(e) };
  }
}
