import { AuditDetailType as Audit, type SloObservation } from '../../lib/core/audit-events';
import { type BakeState, nextWaitSeconds, parseDeadline } from '../../lib/core/bake';
import { GUARD_ROLLBACK_DESCRIPTION, actionClaimKey, lambdaRollbackAppSpec, ecsRollbackAppSpec } from '../../lib/core/follow-up';
import { breakerState } from '../../lib/core/breaker';
import type { DeploymentTargets } from '../shared/codedeploy';
import { withRetry } from '../shared/retry';
import { type StepRuntime, describeError, out } from '../evaluator/runtime';
import { WATCH_READING, readAndDecide, watchTarget } from '../evaluator/tick';
import { takeOnce } from './once';
import { integrityProblem, newerDeployment, serviceContainer } from './restore';

/*
 * The guard window (lib/core/follow-up.ts): after a release succeeded, CodeDeploy polls no alarm,
 * so its page tier is still judged here on the new version's own traffic, with the bake's reads and
 * core's bake decision, for `guard.durationSeconds` from the release's end. A newer deployment of the
 * group ends the window. On a breach: one rollback deployment to the known-good version recorded
 * before the release (checked for integrity first), audited as `Rollback Triggered` with reason
 * `guard-window`; in shadow mode only the audit, with `wouldRollback`.
 */

/** Reads the release's versions (the new version is its target), then the first tick. */
export async function guardStart(rt: StepRuntime, state: BakeState, until: number): Promise<BakeState> {
  // The new version alone: all traffic is on it since the release succeeded.
  return watchTarget(
    rt,
    state,
    until,
    'the release',
    (why) => unguarded(rt, state, why),
    (context) => guardTick(rt, { ...state, phase: 'guard-tick', ticks: 0, context, unreadable: undefined }, until),
  );
}

/** One guard tick: a newer deployment ends the window; else core's bake decision on the release's minutes since it succeeded. */
export async function guardTick(rt: StepRuntime, state: BakeState, until: number): Promise<BakeState> {
  const newer = await newerDeploymentOf(rt, state, until);
  if (newer) {
    rt.logger.info('guard window ended: a newer deployment of the group', { deploymentId: state.deploymentId, newer });
    return out(state, { next: 'done' });
  }
  // The input's own deadline (window + metric delay + grace): not bakeDeadline, which caps it at the
  // hook's hour and would end a longer window early, unjudged after its first hour.
  const deadline = parseDeadline(state.deadline);
  const config = { ...rt.config, bakeSeconds: state.guard!.durationSeconds, compareWithBaseline: false };
  const { decision, ticked } = await readAndDecide(rt, state, until, deadline, config, 'AfterAllowTraffic', WATCH_READING);
  if (decision.action === 'continue') return out(ticked, { next: 'wait', waitSeconds: nextWaitSeconds(rt.now(), rt.config.tickSeconds, deadline) });
  if (decision.verdict !== 'fail') {
    // The window is over: a pass, or too little traffic to judge. The release stays; nothing to report.
    rt.logger.info('guard window ended', { deploymentId: state.deploymentId, verdict: decision.verdict, reasons: decision.reasons });
    return out(ticked, { next: 'done' });
  }
  return breach(rt, ticked, { reasons: decision.reasons, observations: decision.observations }, until);
}

/**
 * The group's newer deployment, if any; a failed read is logged and judged as none, at the tick and
 * at the breach alike. Failing open here is safe enough: after a newer deployment the release's
 * version serves no traffic (nothing can breach on its own traffic), and CodeDeploy refuses a second
 * deployment while one is active in the group.
 */
async function newerDeploymentOf(rt: StepRuntime, state: BakeState, until: number): Promise<string | undefined> {
  try {
    return await newerDeployment(rt, state.deploymentId, until);
  } catch (e) {
    rt.logger.warn('could not read the deployment group (a newer deployment ends the guard window)', { error: rt.expected(e) });
    return undefined;
  }
}

type Verdict = { readonly reasons: readonly string[]; readonly observations: readonly SloObservation[] };

/** The page tier breached after the release succeeded: roll back to the known-good version, once. */
async function breach(rt: StepRuntime, state: BakeState, verdict: Verdict, until: number): Promise<BakeState> {
  const base = guardBase(rt, state);
  const rollbackTo = state.guard!.rollbackTo;
  const said = `guard window: the release ${state.deploymentId} had succeeded, and its page tier breached afterwards on its own traffic`;
  // The first bad signal: the release is no longer a version to go back to, and time to recovery starts here.
  await recordBadSignal(rt, state, until);
  // A rollback moves traffic off the release's version (the context's toVersion) to the known-good one.
  const direction = rollbackTo ? { fromVersion: state.context?.toVersion, toVersion: rollbackTo.version } : {};
  const detail = { ...base, verdict: 'fail' as const, reason: 'guard-window' as const, observations: verdict.observations, ...direction };
  if (rt.config.mode === 'shadow') {
    await rt.publish([{ type: Audit.ROLLBACK_TRIGGERED, detail: { ...detail, wouldRollback: true, reasons: [`shadow mode: ${said}; a rollback deployment would have been started`, ...verdict.reasons] } }]);
    return out(state, { next: 'done' });
  }
  // A newer deployment may have started since the tick began: it owns the group now.
  const newer = await newerDeploymentOf(rt, state, until);
  if (newer) {
    await rt.publish([{ type: Audit.ESCALATION_RAISED, detail: { ...detail, reasons: [`${said}, but deployment ${newer} started since: not rolled back by the guard window`, ...verdict.reasons] } }]);
    return out(state, { next: 'done' });
  }
  const escalate = async (why: string) => {
    await rt.publish([{ type: Audit.ESCALATION_RAISED, detail: { ...detail, reasons: [`${said}; ${why}: a human must roll it back`, ...verdict.reasons] } }]);
    return out(state, { next: 'done' });
  };
  if (!rollbackTo) return escalate('no known-good version was recorded before the release');
  // An open circuit breaker turns rollback decisions into a human's (lib/core/breaker.ts); the guard
  // window has no one to ask, so it escalates instead of acting alone.
  if (await breakerOpen(rt, until)) return escalate('the circuit breaker of the group is open (too many rollbacks lately: something every release shares may be broken)');
  const targets = state.context;
  const plan = await rollbackPlan(rt, state, rollbackTo, until);
  if ('problem' in plan) return escalate(plan.problem);
  const taken = await takeOnce(rt, actionClaimKey('guard', state.deploymentId), until, async () => {
    const [{ createRollbackDeployment }, client] = await Promise.all([import('../shared/rollback-actions.js'), rt.codedeployOnce()]);
    const { applicationName, deploymentGroupName } = rt.guardedGroup();
    return withRetry(
      () => createRollbackDeployment(client, { applicationName, deploymentGroupName, platform: plan.platform, appSpec: plan.appSpec, description: `${GUARD_ROLLBACK_DESCRIPTION}${state.deploymentId}` }),
      rt.retry(until),
    );
  });
  if (taken.kind === 'failed') return escalate(taken.why);
  const counted = taken.repeated ? [] : await rt.countRollback(state, `guard:${state.deploymentId}`, 'the guard window’s rollback', until);
  const from = plan.from ?? targets?.toVersion;
  await rt.publish([
    {
      type: Audit.ROLLBACK_TRIGGERED,
      detail: {
        ...detail,
        ...(from ? { fromVersion: from } : {}),
        rollbackDeploymentId: taken.result,
        reasons: [`${said}: rollback deployment ${taken.result} started to the known-good version ${rollbackTo.version}${from ? ` (from ${from})` : ''}`, ...verdict.reasons, ...counted],
      },
    },
  ]);
  return out(state, { next: 'done' });
}

/** Whether the group's circuit breaker is open; an unreadable breaker holds nothing back (a rollback is never blocked by the breaker's own failure). */
async function breakerOpen(rt: StepRuntime, until: number): Promise<boolean> {
  const settings = rt.config.breaker;
  if (!settings) return false;
  const { applicationName, deploymentGroupName } = rt.guardedGroup();
  try {
    const store = await rt.knownGood();
    const record = await withRetry(() => store.getBreaker(applicationName, deploymentGroupName), rt.retry(until));
    return breakerState(record, rt.now(), settings) === 'open';
  } catch (e) {
    rt.logger.warn('circuit breaker unreadable: the guard window acts alone', { error: describeError(e) });
    return false;
  }
}

/** The rollback deployment's AppSpec, once the known-good version is found intact. */
async function rollbackPlan(
  rt: StepRuntime,
  state: BakeState,
  rollbackTo: { version: string; integrity?: string },
  until: number,
): Promise<{ platform: 'lambda' | 'ecs'; appSpec: string; from?: string } | { problem: string }> {
  let targets: DeploymentTargets;
  try {
    targets = await rt.findTargets(state.deploymentId, until);
  } catch (e) {
    return { problem: `the release's targets could not be read (${rt.expected(e)})` };
  }
  const problem = await integrityProblem(rt, targets, rollbackTo, until);
  if (problem) return { problem };
  if (targets.platform === 'lambda' && targets.functionName && targets.functionAlias && targets.targetVersion) {
    return { platform: 'lambda', appSpec: lambdaRollbackAppSpec(targets.functionName, targets.functionAlias, targets.targetVersion, rollbackTo.version) };
  }
  if (targets.platform === 'ecs' && targets.ecsServiceArn) {
    const lb = await serviceContainer(rt, targets.ecsServiceArn, until);
    if ('problem' in lb) return lb;
    return { platform: 'ecs', appSpec: ecsRollbackAppSpec(rollbackTo.version, lb.containerName, lb.containerPort), from: await releaseTaskDefinition(rt, targets, until) };
  }
  return { problem: `the release's targets name no Lambda alias or ECS service (platform ${targets.platform})` };
}

/**
 * The release's task definition (its task set's), so the audit names both versions alike (the
 * known-good record is a task definition); the task set id when it cannot be read (only the audit's wording).
 */
async function releaseTaskDefinition(rt: StepRuntime, targets: DeploymentTargets, until: number): Promise<string | undefined> {
  try {
    const { deployedVersionState } = await import('../shared/integrity.js');
    return (await deployedVersionState(targets, targets.targetVersion, rt, (call) => withRetry(call, rt.retry(until))))?.version;
  } catch (e) {
    rt.logger.warn('could not read the release’s task definition', { error: describeError(e) });
    return targets.targetVersion;
  }
}

async function recordBadSignal(rt: StepRuntime, state: BakeState, until: number): Promise<void> {
  try {
    const store = await rt.knownGood();
    await withRetry(() => store.recordFirstBadSignal(state.deploymentId, rt.now()), rt.retry(until));
  } catch (e) {
    rt.logger.warn('could not record the first bad signal of the guarded release', { error: describeError(e) });
  }
}

/** The guard window could not watch the release: a human should know it is unguarded. */
async function unguarded(rt: StepRuntime, state: BakeState, why: string): Promise<BakeState> {
  await rt.publish([
    { type: Audit.ESCALATION_RAISED, detail: { ...guardBase(rt, state), reasons: [`the guard window of ${state.deploymentId} could not start: ${why}; the release is not guarded after its success`] }, keySubject: 'guard-start' },
  ]);
  return out(state, { next: 'done' });
}

/** A guard window's audit is the release's and names no hook. */
function guardBase(rt: StepRuntime, state: BakeState) {
  return rt.unhookedBase(state);
}
