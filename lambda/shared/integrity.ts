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
