import { answerOf } from '../../lib/core/approval';
import { AuditDetailType as Audit } from '../../lib/core/audit-events';
import type { BakeState } from '../../lib/core/bake';
import type { KnownGood } from '../../lib/core/decision';
import { SECONDARY_DEPLOYMENT_DESCRIPTION, type SecondaryAction, actionClaimKey, ecsRollbackAppSpec, secondaryQuestion } from '../../lib/core/follow-up';
import type { DeploymentTargets } from '../shared/codedeploy';
import { withRetry } from '../shared/retry';
import { takeOnce } from './once';
import { integrityProblem, newerDeployment, serviceContainer } from './restore';
import { type KnownGoodWithHistory, type StepRuntime, out } from '../evaluator/runtime';

/*
 * The secondary action (lib/core/follow-up.ts): a rollback deployment failed or stopped, so traffic
 * may still be on the bad version. `secondary` proposes the direct action on the known-good version
 * (found intact) and the machine asks a human; `secondary-answered` takes it once on an approval,
 * checking the known-good version again first. Never without an approval; every step audited.
 */

/** Reads the failed rollback and the known-good record, proposes the action, and asks. */
export async function secondaryStart(rt: StepRuntime, state: BakeState, until: number): Promise<BakeState> {
  const s = state.secondary!;
  const { applicationName, deploymentGroupName } = rt.guardedGroup();
  let targets: DeploymentTargets;
  let failure: string;
  // The store's record carries the deployment that made it and the one it replaced (lambda/shared/state.ts KnownGoodRecord).
  let recorded: KnownGoodWithHistory | undefined;
  try {
    const deployment = await rt.getDeployment(state.deploymentId, until);
    failure = deployment.errorInformation?.message ?? deployment.errorInformation?.code ?? deployment.status ?? 'no error given';
    targets = await rt.findTargets(state.deploymentId, until);
    const store = await rt.knownGood();
    recorded = await withRetry(() => store.get(applicationName, deploymentGroupName), rt.retry(until));
  } catch (e) {
    return noAction(rt, state, `the failed rollback or the known-good record could not be read (${rt.expected(e)})`);
  }
  if (!recorded) return noAction(rt, state, 'no known-good version is recorded for the group');
  const known = goingBackTo(recorded, s.rolledBack);
  if ('problem' in known) return noAction(rt, state, known.problem);
  const proposed = await proposal(rt, targets, known, until);
  if ('problem' in proposed) return noAction(rt, state, proposed.problem);
  const question = secondaryQuestion(state.deploymentId, s.rolledBack, proposed.action, failure, s.approvalTimeoutSeconds);
  const request = { kind: 'secondary-action' as const, question, timeoutSeconds: s.approvalTimeoutSeconds, expiresAt: new Date((rt.now() + s.approvalTimeoutSeconds) * 1000).toISOString() };
  rt.logger.info('asking to approve a secondary action', { deploymentId: state.deploymentId, action: proposed.action });
  return out(state, { next: 'approve', secondary: { ...s, action: proposed.action, request, reasons: [question] } });
}

/**
 * The version to go back to: the record, unless it names the very release the rollback undid (a
 * release that succeeded, then breached its guard window, was recorded known-good before its
 * rollback failed; acting on it would put traffic on the bad version): then the record it replaced.
 */
function goingBackTo(recorded: KnownGoodWithHistory, rolledBack: string | undefined): KnownGood | { problem: string } {
  if (rolledBack === undefined || recorded.deploymentId !== rolledBack) return { version: recorded.version, ...(recorded.integrity !== undefined ? { integrity: recorded.integrity } : {}) };
  const before = recorded.previous;
  if (before) return { version: before.version, ...(before.integrity !== undefined ? { integrity: before.integrity } : {}) };
  return { problem: `the known-good record names version ${recorded.version} of ${rolledBack}, the release the rollback undid, and no earlier version is recorded to go back to` };
}

/** The action on the known-good version, once it is found intact; or why there is none. */
async function proposal(rt: StepRuntime, targets: DeploymentTargets, known: { version: string; integrity?: string }, until: number): Promise<{ action: SecondaryAction } | { problem: string }> {
  const problem = await integrityProblem(rt, targets, known, until);
  if (problem) return { problem };
  if (targets.platform === 'lambda' && targets.functionName && targets.functionAlias) {
    return { action: { kind: 'update-alias', functionName: targets.functionName, alias: targets.functionAlias, version: known.version, ...(known.integrity ? { integrity: known.integrity } : {}) } };
  }
  if (targets.platform === 'ecs' && targets.ecsServiceArn) {
    const lb = await serviceContainer(rt, targets.ecsServiceArn, until);
    if ('problem' in lb) return lb;
    return { action: { kind: 'ecs-deployment', taskDefinition: known.version, ...(known.integrity ? { integrity: known.integrity } : {}), ...lb } };
  }
  return { problem: `the failed rollback's targets name no Lambda alias or ECS service (platform ${targets.platform})` };
}

/** The question was answered, or not: audit the answer, and on an approval take the action once. */
export async function secondaryAnswered(rt: StepRuntime, state: BakeState, until: number): Promise<BakeState> {
  const s = state.secondary!;
  const action = s.action!;
  const answer = answerOf(s.request ?? { timeoutSeconds: s.approvalTimeoutSeconds, expiresAt: '', error: { Error: 'NoRequest' } });
  const base = secondaryBase(rt, state);
  const approval = { kind: 'secondary-action' as const, result: answer.result, question: s.request?.question, ...(answer.answeredBy ? { answeredBy: answer.answeredBy, answeredBySource: answer.answeredBySource } : {}) };
  const approved = answer.result === 'approved';
  await rt.publish([
    {
      type: Audit.APPROVAL_ANSWERED,
      detail: { ...base, approval, secondaryAction: action, reasons: [`${answer.said}: ${approved ? 'the secondary action is taken' : 'no secondary action (the escalation stands)'}`] },
    },
  ]);
  if (!approved) return out(state, { next: 'done' });
  const escalate = async (why: string) => {
    await rt.publish([{ type: Audit.ESCALATION_RAISED, detail: { ...base, secondaryAction: action, reasons: [`the approved secondary action after the failed rollback ${state.deploymentId} was not taken: ${why}`] } }]);
    return out(state, { next: 'done' });
  };
  let targets: DeploymentTargets;
  try {
    targets = await rt.findTargets(state.deploymentId, until);
  } catch (e) {
    return escalate(`the failed rollback's targets could not be read (${rt.expected(e)})`);
  }
  // A newer deployment of the group, started while a human was deciding (the wait may last a day),
  // owns the group now: the approval was for the state it replaced. Unknown is not acted on.
  const newer = await newerThanRollback(rt, state.deploymentId, until);
  if (newer) return escalate(newer);
  // Checked again: the version may have changed while a human was deciding.
  const version = action.kind === 'update-alias' ? action.version : action.taskDefinition;
  const problem = await integrityProblem(rt, targets, { version, ...(action.integrity ? { integrity: action.integrity } : {}) }, until);
  if (problem) return escalate(problem);
  const taken = await takeOnce(rt, actionClaimKey('secondary', state.deploymentId), until, () => act(rt, action, s.rolledBack ?? state.deploymentId, until));
  if (taken.kind === 'failed') return escalate(taken.why);
  const what =
    action.kind === 'update-alias'
      ? `alias ${action.alias} of ${action.functionName} now points at the known-good version ${action.version} alone`
      : `deployment ${taken.result} of the known-good task definition ${action.taskDefinition} started`;
  // No deployment records the alias's move (an ECS deployment's success does, in the state-change function).
  const notes = action.kind === 'update-alias' ? await recordRestored(rt, state, action, until) : [];
  await rt.publish([{ type: Audit.SECONDARY_ACTION_TAKEN, detail: { ...base, secondaryAction: action, approval, toVersion: version, reasons: [`${what} (${answer.said})`, ...notes] } }]);
  return out(state, { next: 'done' });
}

/** Why the group has moved on since the failed rollback (a newer deployment, or none readable); undefined when it has not. */
async function newerThanRollback(rt: StepRuntime, rollbackId: string, until: number): Promise<string | undefined> {
  try {
    const newer = await newerDeployment(rt, rollbackId, until);
    return newer ? `deployment ${newer} of the group started after the failed rollback: it owns the group now` : undefined;
  } catch (e) {
    return `the deployment group could not be read to check that no newer deployment started (${rt.expected(e)})`;
  }
}

/**
 * The alias is back on the known-good version: the group's record names it again (not the bad
 * release a failed guard-window rollback left there), so the next guard window and the next
 * BeforeAllowTraffic check go back to it. Best effort: a failure is said in the audit.
 */
async function recordRestored(rt: StepRuntime, state: BakeState, action: SecondaryAction & { kind: 'update-alias' }, until: number): Promise<string[]> {
  const { applicationName, deploymentGroupName } = rt.guardedGroup();
  try {
    const store = await rt.knownGood();
    const known = { version: action.version, ...(action.integrity !== undefined ? { integrity: action.integrity } : {}) };
    await withRetry(() => store.put(applicationName, deploymentGroupName, known, { deploymentId: state.deploymentId, completedAt: rt.now() }, rt.now()), rt.retry(until));
    return [];
  } catch (e) {
    rt.logger.warn('could not record the restored version as known-good', { error: rt.expected(e) });
    return [`the restored version could not be recorded as known-good (${rt.expected(e)}): the group's record still names the version before`];
  }
}

/** The action itself: UpdateAlias, or CreateDeployment of the known-good task definition. Returns what it did. */
async function act(rt: StepRuntime, action: SecondaryAction, rolledBack: string, until: number): Promise<string> {
  const calls = await import('../shared/rollback-actions.js');
  if (action.kind === 'update-alias') {
    const client = await rt.lambda();
    await withRetry(() => calls.pointAlias(client, action.functionName, action.alias, action.version), rt.retry(until));
    return `${action.functionName}:${action.alias}=${action.version}`;
  }
  const client = await rt.codedeployOnce();
  const { applicationName, deploymentGroupName } = rt.guardedGroup();
  const appSpec = ecsRollbackAppSpec(action.taskDefinition, action.containerName, action.containerPort);
  return withRetry(
    () => calls.createRollbackDeployment(client, { applicationName, deploymentGroupName, platform: 'ecs', appSpec, description: `${SECONDARY_DEPLOYMENT_DESCRIPTION}${rolledBack}` }),
    rt.retry(until),
  );
}

/** Nothing to propose: the escalation of the failed rollback stands, with why no action is offered. */
async function noAction(rt: StepRuntime, state: BakeState, why: string): Promise<BakeState> {
  await rt.publish([{ type: Audit.ESCALATION_RAISED, detail: { ...secondaryBase(rt, state), reasons: [`the rollback ${state.deploymentId} failed and no secondary action can be proposed: ${why}; a human must restore the known-good version`] } }]);
  return out(state, { next: 'done' });
}

/** A secondary action's audit is the failed rollback's (deploymentId and rollbackDeploymentId), and names no hook. */
function secondaryBase(rt: StepRuntime, state: BakeState) {
  return { ...rt.unhookedBase(state), rollbackDeploymentId: state.deploymentId };
}
