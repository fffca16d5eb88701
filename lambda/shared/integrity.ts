import type { ECSClient } from '@aws-sdk/client-ecs';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { DeploymentTargets } from './codedeploy';
import type { Lazy } from './handler-kit';

// The commands are loaded on first use: a handler that never checks a version (most invocations of
// the state-change handler, every tick of the bake) never loads the Lambda or ECS SDK modules.

/** What a version looks like now: whether it exists, and its integrity fingerprint. */
export interface VersionState {
  /** Lambda version number, or ECS task definition ARN. */
  readonly version: string;
  readonly exists: boolean;
  /** Lambda CodeSha256; ECS the container images (digests where pinned) of the task definition. */
  readonly integrity?: string;
}

/**
 * One of a deployment's versions (`targets.currentVersion` or `targets.targetVersion`) as it is
 * now, read on its platform with `retry`; undefined when the targets do not name it.
 */
export async function deployedVersionState(
  targets: DeploymentTargets,
  version: string | undefined,
  clients: { readonly lambda: Lazy<LambdaClient>; readonly ecs: Lazy<ECSClient> },
  retry: <T>(call: () => Promise<T>) => Promise<T>,
): Promise<VersionState | undefined> {
  const { functionName, ecsServiceArn } = targets;
  if (targets.platform === 'lambda' && functionName && version) {
    const client = await clients.lambda();
    return retry(() => lambdaVersionState(client, functionName, version));
  }
  if (targets.platform === 'ecs' && ecsServiceArn && version) {
    const client = await clients.ecs();
    return retry(() => ecsTaskSetState(client, ecsServiceArn, version));
  }
  return undefined;
}

async function lambdaVersionState(client: LambdaClient, functionName: string, version: string): Promise<VersionState> {
  const { GetFunctionCommand } = await import('@aws-sdk/client-lambda');
  try {
    const out = await client.send(new GetFunctionCommand({ FunctionName: functionName, Qualifier: version }));
    return { version, exists: true, integrity: out.Configuration?.CodeSha256 };
  } catch (e) {
    if ((e as Error).name === 'ResourceNotFoundException') return { version, exists: false };
    throw e;
  }
}

/** ECS service ARN: arn:aws:ecs:region:account:service/cluster/service. */
function clusterAndService(serviceArn: string): { cluster: string; service: string } {
  const parts = serviceArn.split(':').slice(5).join(':').split('/');
  if (parts[0] !== 'service' || parts.length < 3) throw new Error(`not an ECS service ARN: ${serviceArn}`);
  return { cluster: parts[1], service: parts[2] };
}

/** The task definition behind a task set, and whether it is still ACTIVE (a rollback needs it). */
async function ecsTaskSetState(client: ECSClient, serviceArn: string, taskSetId: string): Promise<VersionState> {
  const { cluster, service } = clusterAndService(serviceArn);
  const { DescribeTaskSetsCommand } = await import('@aws-sdk/client-ecs');
  const sets = await client.send(new DescribeTaskSetsCommand({ cluster, service, taskSets: [taskSetId] }));
  const taskDefinition = sets.taskSets?.[0]?.taskDefinition;
  if (!taskDefinition) return { version: taskSetId, exists: false };
  return ecsTaskDefinitionState(client, taskDefinition);
}

async function ecsTaskDefinitionState(client: ECSClient, taskDefinition: string): Promise<VersionState> {
  const { DescribeTaskDefinitionCommand } = await import('@aws-sdk/client-ecs');
  const out = await client.send(new DescribeTaskDefinitionCommand({ taskDefinition }));
  const def = out.taskDefinition;
  const images = (def?.containerDefinitions ?? []).map((c) => `${c.name}=${c.image}`).sort();
  return { version: taskDefinition, exists: def?.status === 'ACTIVE', integrity: images.length > 0 ? images.join(',') : undefined };
}

/**
 * A recorded known-good version as it is now: the Lambda version of the deployment's function, or
 * the ECS task definition the record names (an ARN); undefined when the targets name no function
 * or service. Unlike {@link deployedVersionState}, the ECS version is a task definition, not a task set.
 */
export async function recordedVersionState(
  targets: DeploymentTargets,
  version: string,
  clients: { readonly lambda: Lazy<LambdaClient>; readonly ecs: Lazy<ECSClient> },
  retry: <T>(call: () => Promise<T>) => Promise<T>,
): Promise<VersionState | undefined> {
  if (targets.platform === 'ecs') {
    const client = await clients.ecs();
    return retry(async () => {
      try {
        return await ecsTaskDefinitionState(client, version);
      } catch (e) {
        // DescribeTaskDefinition answers ClientException for a task definition that does not exist.
        if ((e as Error).name === 'ClientException') return { version, exists: false };
        throw e;
      }
    });
  }
  return deployedVersionState(targets, version, clients, retry);
}

/** Why a recorded known-good version must not be deployed as it is now; undefined when it is intact. */
export function knownGoodProblem(recorded: { readonly version: string; readonly integrity?: string }, now: VersionState | undefined): string | undefined {
  if (now === undefined) return `the known-good version ${recorded.version} could not be identified on this platform`;
  if (!now.exists) return `the known-good version ${recorded.version} no longer exists (or is no longer ACTIVE)`;
  if (recorded.integrity !== undefined && now.integrity !== recorded.integrity) {
    return `the known-good version ${recorded.version} was altered since it was recorded (integrity ${recorded.integrity} recorded, ${now.integrity ?? 'none'} now)`;
  }
  return undefined;
}
