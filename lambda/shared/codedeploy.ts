import {
  BatchGetDeploymentTargetsCommand,
  CodeDeployClient,
  DeploymentInfo,
  GetDeploymentCommand,
  ListDeploymentTargetsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
} from '@aws-sdk/client-codedeploy';

/** The versions a deployment moves between, and which hook is running now. */
export interface DeploymentTargets {
  readonly platform: 'lambda' | 'ecs' | 'other';
  /** Lambda version numbers, or ECS task set ids (original → replacement). */
  readonly currentVersion?: string;
  readonly targetVersion?: string;
  readonly functionName?: string;
  /** Lambda: the alias the deployment shifts. */
  readonly functionAlias?: string;
  /** ECS: the target groups behind the original (blue) and replacement (green) task sets. */
  readonly currentTargetGroup?: string;
  readonly targetTargetGroup?: string;
  readonly ecsServiceArn?: string;
  /** Name of the lifecycle event whose status is InProgress (the hook being run). */
  readonly runningLifecycleEvent?: string;
  /**
   * Every lifecycle event of the target with its status (Pending, InProgress, Succeeded, Failed…)
   * and, once started, its `startTime` in epoch seconds (floored): CodeDeploy's clock of the hook.
   */
  readonly lifecycleEvents?: ReadonlyArray<{ readonly name?: string; readonly status?: string; readonly startTime?: number }>;
}

export async function getDeployment(client: CodeDeployClient, deploymentId: string): Promise<DeploymentInfo> {
  const out = await client.send(new GetDeploymentCommand({ deploymentId }));
  if (!out.deploymentInfo) throw new Error(`GetDeployment returned no deploymentInfo for ${deploymentId}`);
  return out.deploymentInfo;
}

/**
 * A hook receives only the deployment id and the hook execution id; the versions come from the
 * deployment's targets (ListDeploymentTargets + BatchGetDeploymentTargets): Lambda's
 * `lambdaFunctionInfo.currentVersion/targetVersion`, ECS's `taskSetsInfo` (Blue = original).
 */
export async function findTargets(client: CodeDeployClient, deploymentId: string, maxPages = MAX_TARGET_PAGES): Promise<DeploymentTargets> {
  const ids = await listTargetIds(client, deploymentId, maxPages);
  if (ids.length === 0) return { platform: 'other' };
  const out = await client.send(new BatchGetDeploymentTargetsCommand({ deploymentId, targetIds: ids.slice(0, 25) }));
  const target = out.deploymentTargets?.[0];
  if (target?.lambdaTarget) {
    const info = target.lambdaTarget.lambdaFunctionInfo;
    return {
      platform: 'lambda',
      functionName: info?.functionName,
      functionAlias: info?.functionAlias,
      currentVersion: info?.currentVersion,
      targetVersion: info?.targetVersion,
      runningLifecycleEvent: runningEvent(target.lambdaTarget.lifecycleEvents),
      lifecycleEvents: eventsOf(target.lambdaTarget.lifecycleEvents),
    };
  }
  if (target?.ecsTarget) {
    const sets = target.ecsTarget.taskSetsInfo ?? [];
    const blue = sets.find((s) => s.taskSetLabel === 'Blue');
    const green = sets.find((s) => s.taskSetLabel === 'Green');
    return {
      platform: 'ecs',
      currentVersion: blue?.identifer,
      targetVersion: green?.identifer,
      currentTargetGroup: blue?.targetGroup?.name,
      targetTargetGroup: green?.targetGroup?.name,
      ecsServiceArn: target.ecsTarget.targetArn,
      runningLifecycleEvent: runningEvent(target.ecsTarget.lifecycleEvents),
      lifecycleEvents: eventsOf(target.ecsTarget.lifecycleEvents),
    };
  }
  return { platform: 'other' };
}

async function listTargetIds(client: CodeDeployClient, deploymentId: string, maxPages: number): Promise<string[]> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    if (pages >= maxPages) {
      // A Lambda or ECS deployment has one target; a token that never ends is a fault, not a list.
      throw Object.assign(new Error(`ListDeploymentTargets of ${deploymentId} still had more pages after ${maxPages}`), { name: 'TooManyPages' });
    }
    const page = await client.send(new ListDeploymentTargetsCommand({ deploymentId, nextToken }));
    pages++;
    ids.push(...(page.targetIds ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return ids;
}

type LifecycleEvents = Array<{ lifecycleEventName?: string; status?: string; startTime?: Date }> | undefined;

/**
 * The hook being run is the InProgress event; once decided (a duplicate invocation, or a report
 * whose response was lost), it is the latest hook event that is no longer Pending.
 */
function runningEvent(list: LifecycleEvents): string | undefined {
  return (
    list?.find((e) => e.status === 'InProgress')?.lifecycleEventName ??
    [...(list ?? [])].reverse().find((e) => HOOK_EVENTS.has(e.lifecycleEventName ?? '') && e.status !== 'Pending')?.lifecycleEventName
  );
}

function eventsOf(list: LifecycleEvents): DeploymentTargets['lifecycleEvents'] {
  return list?.map((e) => {
    const startTime = e.startTime instanceof Date ? Math.floor(e.startTime.getTime() / 1000) : NaN;
    return { name: e.lifecycleEventName, status: e.status, ...(Number.isFinite(startTime) ? { startTime } : {}) };
  });
}

/** Pages of ListDeploymentTargets read at most. */
export const MAX_TARGET_PAGES = 20;

/** Lifecycle events that run hooks (Lambda: Before/AfterAllowTraffic; ECS AppSpec hooks). */
const HOOK_EVENTS = new Set(['BeforeAllowTraffic', 'AfterAllowTraffic', 'BeforeInstall', 'AfterInstall', 'AfterAllowTestTraffic']);

export type ReportResult = 'reported' | 'already-completed';

/**
 * Reports the hook's status. A second report fails with LifecycleEventAlreadyCompletedException:
 * that means "already decided" (by a duplicate of this invocation, or by CodeDeploy), not an error.
 */
export async function reportHook(client: CodeDeployClient, deploymentId: string, hookId: string, status: 'Succeeded' | 'Failed'): Promise<ReportResult> {
  try {
    await client.send(new PutLifecycleEventHookExecutionStatusCommand({ deploymentId, lifecycleEventHookExecutionId: hookId, status }));
    return 'reported';
  } catch (e) {
    if ((e as Error).name === 'LifecycleEventAlreadyCompletedException') return 'already-completed';
    throw e;
  }
}
