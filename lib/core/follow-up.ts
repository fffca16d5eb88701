import type { BakeState } from './bake';
import type { KnownGood } from './decision';
import { floorToMinute } from './metric-queries';

/*
 * What happens after a deployment ends, on the trigger's follow-up machine (a second Step Functions
 * Standard machine started by the state-change handler; lib/private/follow-up-state-machine.ts),
 * whose steps are the follow-up function (lambda/follow-up: the bake's runtime, reads and decision,
 * and the only function allowed to act):
 *
 * - the guard window: after a release succeeds, its page tier is still judged on its own traffic
 *   for `guardWindow`; CodeDeploy stops polling alarms once a deployment succeeds, so a regression
 *   that shows after the bake would otherwise never be rolled back. On a breach the evaluator
 *   starts a rollback deployment to the known-good version recorded before the release;
 * - the secondary action: when a rollback deployment itself fails or stops, traffic may still be
 *   on the bad version. The evaluator asks a human to approve a direct action (Lambda: point the
 *   alias at the known-good version, after checking its integrity; ECS: a new deployment of the
 *   known-good task definition), and acts once, never without the approval.
 *
 * Both act at most once: the evaluator claims the action in the state table with a conditional
 * write before it calls AWS (CreateDeployment has no idempotency token), so a retried step or a
 * redriven execution never acts twice.
 */

/** Settings the state-change handler starts a guard window with (environment RT_GUARD, JSON). */
export interface GuardSettings {
  /** The follow-up machine's ARN. */
  readonly stateMachineArn: string;
  /** How long after a release succeeds its page tier is still judged. */
  readonly durationSeconds: number;
  /** The trigger's metric delay: the last minutes are judged this long after they end. */
  readonly metricDelaySeconds: number;
}

/** Settings the state-change handler starts a secondary action with (environment RT_SECONDARY, JSON). */
export interface SecondarySettings {
  readonly stateMachineArn: string;
  /** How long the follow-up machine waits for a human to approve the secondary action. */
  readonly approvalTimeoutSeconds: number;
}

/** What a guard window's execution carries besides the bake state's fields. */
export interface GuardContext {
  readonly durationSeconds: number;
  /** The known-good version recorded before the release succeeded: what a breach rolls back to. */
  readonly rollbackTo?: KnownGood;
}

/** What a secondary action's execution carries. */
export interface SecondaryContext {
  /** The release the failed rollback was undoing. */
  readonly rolledBack?: string;
  /** How long a human may take to approve. */
  readonly approvalTimeoutSeconds: number;
  /** The action proposed (set by the `secondary` step, approved or not by a human). */
  readonly action?: SecondaryAction;
  /** The question the machine asks (its `Ask for approval` state), then its answer or error. */
  readonly request?: SecondaryRequest;
  /** Why a human is asked: the failed rollback's error, the known-good version's check. */
  readonly reasons?: readonly string[];
}

/** The secondary action's question, as the machine sends it in `Approval Requested`. */
export interface SecondaryRequest {
  readonly kind: 'secondary-action';
  readonly question: string;
  readonly timeoutSeconds: number;
  /** ISO-8601: when the wait ends without an answer. */
  readonly expiresAt: string;
  /** SendTaskSuccess's output (an approval). */
  readonly answer?: unknown;
  /** SendTaskFailure's error (`Rejected`), the timeout (`States.Timeout`), or a request that could not be sent. */
  readonly error?: { readonly Error?: string; readonly Cause?: string };
}

/** A direct action that takes traffic off a bad version when its rollback deployment failed. */
export type SecondaryAction =
  | {
      readonly kind: 'update-alias';
      readonly functionName: string;
      readonly alias: string;
      readonly version: string;
      /** The known-good record's CodeSha256, checked again right before the alias moves. */
      readonly integrity?: string;
    }
  | {
      readonly kind: 'ecs-deployment';
      readonly taskDefinition: string;
      /** The known-good record's fingerprint (the container images), checked again before deploying. */
      readonly integrity?: string;
      /** The service's load balancer container (ECS DescribeServices), for the AppSpec. */
      readonly containerName: string;
      readonly containerPort: number;
    };

/** Stands in the state's hook id: a guard window answers no hook. */
export const GUARD_HOOK_ID_PREFIX = 'guard:';
/** Stands in the state's hook id: a secondary action answers no hook. */
export const SECONDARY_HOOK_ID_PREFIX = 'secondary:';
/** The shortest guard window: the page tier's 5-minute short window needs a few ticks to fill. */
export const MIN_GUARD_WINDOW_SECONDS = 600;
/** The longest guard window: a day (a guard is a bake that outlived its hook, not a monitor). */
export const MAX_GUARD_WINDOW_SECONDS = 86_400;
/** Reads past the last judged minute may take this long before the guard window gives up. */
export const GUARD_GRACE_SECONDS = 600;
/** The secondary action's approval: from 1 minute to a day. */
export const MIN_SECONDARY_APPROVAL_SECONDS = 60;
export const MAX_SECONDARY_APPROVAL_SECONDS = 86_400;
/** The default wait for a human to approve a secondary action. */
export const DEFAULT_SECONDARY_APPROVAL_SECONDS = 3_600;
/** After the approval's wait, the secondary action's steps (two 130-s attempts at worst, the action's retries) must end within this. */
export const SECONDARY_ACT_SECONDS = 900;

/** What every rollback deployment a guard window starts says of itself (GetDeployment `description`). */
export const GUARD_ROLLBACK_DESCRIPTION = 'cdk-rollback-triggers guard-window rollback of ';
/** What every deployment a secondary action starts says of itself. */
export const SECONDARY_DEPLOYMENT_DESCRIPTION = 'cdk-rollback-triggers secondary action after the failed rollback ';

/**
 * The release a rollback deployment started by this library undid (a guard window's, or a
 * secondary action's ECS deployment), from its description; undefined for any other deployment.
 * Such a deployment is a rollback: its success completes the rollback (it is not guarded in turn,
 * since its own known-good predecessor is the bad release), its failure is escalated.
 */
export function libraryRollbackOf(description: string | undefined): string | undefined {
  for (const prefix of [GUARD_ROLLBACK_DESCRIPTION, SECONDARY_DEPLOYMENT_DESCRIPTION]) {
    if (description?.startsWith(prefix)) {
      const id = description.slice(prefix.length).split(/\s/)[0];
      return id.length > 0 ? id : undefined;
    }
  }
  return undefined;
}

/** Step Functions execution names: 1–80 letters, digits, `-` and `_`; one per flow and deployment. */
function executionName(prefix: string, deploymentId: string): string {
  return `${prefix}-${deploymentId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 70)}`;
}

/** One guard window per release (StartExecution is idempotent on the name for Standard workflows). */
export function guardExecutionName(deploymentId: string): string {
  return executionName('guard', deploymentId);
}

/** One secondary action per failed rollback deployment. */
export function secondaryExecutionName(rollbackDeploymentId: string): string {
  return executionName('secondary', rollbackDeploymentId);
}

/** The guard window's execution input: judged from the release's completion for `durationSeconds`. */
export function guardInput(deploymentId: string, completedAt: number, settings: Pick<GuardSettings, 'durationSeconds' | 'metricDelaySeconds'>, rollbackTo?: KnownGood): BakeState {
  const start = floorToMinute(completedAt);
  return {
    deploymentId,
    lifecycleEventHookExecutionId: `${GUARD_HOOK_ID_PREFIX}${deploymentId}`,
    hookStartedAt: start,
    deadline: new Date((start + settings.durationSeconds + settings.metricDelaySeconds + GUARD_GRACE_SECONDS) * 1000).toISOString(),
    phase: 'guard',
    guard: { durationSeconds: settings.durationSeconds, ...(rollbackTo ? { rollbackTo: { version: rollbackTo.version, ...(rollbackTo.integrity !== undefined ? { integrity: rollbackTo.integrity } : {}) } } : {}) },
  };
}

/** The secondary action's execution input: the failed rollback deployment, and the release it undid. */
export function secondaryInput(rollbackDeploymentId: string, failedAt: number, settings: Pick<SecondarySettings, 'approvalTimeoutSeconds'>, rolledBack?: string): BakeState {
  const start = Math.floor(failedAt);
  return {
    deploymentId: rollbackDeploymentId,
    lifecycleEventHookExecutionId: `${SECONDARY_HOOK_ID_PREFIX}${rollbackDeploymentId}`,
    hookStartedAt: start,
    // The question must be asked, answered and acted on by then (the machine's own timeout is later).
    deadline: new Date((start + settings.approvalTimeoutSeconds + SECONDARY_ACT_SECONDS) * 1000).toISOString(),
    phase: 'secondary',
    secondary: { approvalTimeoutSeconds: settings.approvalTimeoutSeconds, ...(rolledBack ? { rolledBack } : {}) },
  };
}

/** The action claim's key in the state table: one action per flow and deployment, ever. */
export function actionClaimKey(flow: 'guard' | 'secondary', deploymentId: string): string {
  return `${flow}:${deploymentId}`;
}

/**
 * The AppSpec of a Lambda rollback deployment (CodeDeploy AppSpec "resources" section for an AWS
 * Lambda deployment: Name, Alias, CurrentVersion, TargetVersion). No hooks: the rollback is not
 * baked again (its target is the known-good version).
 */
export function lambdaRollbackAppSpec(functionName: string, alias: string, currentVersion: string, targetVersion: string): string {
  return JSON.stringify({
    version: 0.0,
    Resources: [{ [appSpecResourceName(functionName)]: { Type: 'AWS::Lambda::Function', Properties: { Name: functionName, Alias: alias, CurrentVersion: currentVersion, TargetVersion: targetVersion } } }],
  });
}

/**
 * The AppSpec of an ECS deployment of `taskDefinition` (CodeDeploy AppSpec "resources" section for
 * an Amazon ECS deployment: TaskDefinition and LoadBalancerInfo are required; the service's
 * platform version and network configuration stay as they are when left out).
 */
export function ecsRollbackAppSpec(taskDefinition: string, containerName: string, containerPort: number): string {
  return JSON.stringify({
    version: 0.0,
    Resources: [{ TargetService: { Type: 'AWS::ECS::Service', Properties: { TaskDefinition: taskDefinition, LoadBalancerInfo: { ContainerName: containerName, ContainerPort: containerPort } } } }],
  });
}

/** An AppSpec resource's name: letters and digits (the function's name is only a label here). */
function appSpecResourceName(functionName: string): string {
  const name = functionName.split(':').pop()!.replace(/[^A-Za-z0-9]/g, '');
  return name.length > 0 ? name : 'Function';
}

/**
 * The rollback deployment's own settings: all at once (the known-good version needs no canary, and
 * every minute on the bad version burns budget), no automatic rollback of the rollback (it would
 * put the bad version back), and the group's alarms not polled (they fire on the bad version's
 * burn that the rollback is ending; CodeDeploy CreateDeployment `overrideAlarmConfiguration`).
 */
export function rollbackDeploymentSettings(platform: 'lambda' | 'ecs'): { deploymentConfigName: string; autoRollbackEnabled: false; alarmsEnabled: false } {
  return { deploymentConfigName: platform === 'lambda' ? 'CodeDeployDefault.LambdaAllAtOnce' : 'CodeDeployDefault.ECSAllAtOnce', autoRollbackEnabled: false, alarmsEnabled: false };
}

/** The question a secondary action asks, with what is proposed and what happens without an answer. */
export function secondaryQuestion(rollbackDeploymentId: string, rolledBack: string | undefined, action: SecondaryAction, failure: string, timeoutSeconds: number): string {
  const what =
    action.kind === 'update-alias'
      ? `point alias ${action.alias} of ${action.functionName} at the known-good version ${action.version}${action.integrity ? ` (CodeSha256 ${action.integrity}, checked again before it moves)` : ''}, all traffic at once`
      : `deploy the known-good task definition ${action.taskDefinition} to the service (a new CodeDeploy deployment, all at once, without alarms or automatic rollback)`;
  return (
    `The rollback deployment ${rollbackDeploymentId}${rolledBack ? ` of ${rolledBack}` : ''} did not complete (${failure}): traffic may still be on the bad version. ` +
    `Approve to ${what}; reject to leave it to a human. Without an answer in ${Math.round(timeoutSeconds / 60)} min nothing is done (the escalation stands).`
  );
}
