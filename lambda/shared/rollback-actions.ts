import type { CodeDeployClient } from '@aws-sdk/client-codedeploy';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { rollbackDeploymentSettings } from '../../lib/core/follow-up';
import { errorName, isRetryable } from './retry';

// The calls the follow-up machine's steps make to take traffic off a bad version (lib/core/follow-up.ts).
// Each makes one request and lets its error through: the caller retries within its own budget.

/**
 * The group's latest deployment when it is not `deploymentId` (a newer deployment was created, in
 * progress or done); undefined when `deploymentId` is still the latest. GetDeploymentGroup's
 * `lastAttemptedDeployment` is the group's most recent deployment, whatever its status (its status
 * may be Created, Queued or InProgress: CodeDeploy API reference, LastDeploymentInfo).
 */
export async function newerDeployment(client: CodeDeployClient, applicationName: string, deploymentGroupName: string, deploymentId: string): Promise<string | undefined> {
  const { GetDeploymentGroupCommand } = await import('@aws-sdk/client-codedeploy');
  const out = await client.send(new GetDeploymentGroupCommand({ applicationName, deploymentGroupName }));
  const latest = out.deploymentGroupInfo?.lastAttemptedDeployment?.deploymentId;
  return latest !== undefined && latest !== deploymentId ? latest : undefined;
}

/**
 * Starts a deployment of `appSpec` (JSON, AppSpecContent) in the group, with the rollback
 * deployment's own settings: all at once, no automatic rollback of it, and the group's alarms not
 * polled (`overrideAlarmConfiguration`, which needs codedeploy:UpdateDeploymentGroup; CodeDeploy API
 * reference, CreateDeployment). Returns the new deployment's id. A failure after which the
 * deployment may exist (a timeout, a 5xx) is thrown as `CreateDeploymentUnconfirmed`, which no
 * retry list knows: it is never sent twice.
 */
export async function createRollbackDeployment(
  client: CodeDeployClient,
  input: { applicationName: string; deploymentGroupName: string; platform: 'lambda' | 'ecs'; appSpec: string; description: string },
): Promise<string> {
  const { CreateDeploymentCommand } = await import('@aws-sdk/client-codedeploy');
  const settings = rollbackDeploymentSettings(input.platform);
  let out;
  try {
    out = await client.send(
      new CreateDeploymentCommand({
        applicationName: input.applicationName,
        deploymentGroupName: input.deploymentGroupName,
        revision: { revisionType: 'AppSpecContent', appSpecContent: { content: input.appSpec } },
        deploymentConfigName: settings.deploymentConfigName,
        description: input.description,
        autoRollbackConfiguration: { enabled: settings.autoRollbackEnabled },
        overrideAlarmConfiguration: { enabled: settings.alarmsEnabled },
      }),
    );
  } catch (e) {
    // CreateDeployment has no idempotency token: after a timeout or a 5xx the deployment may exist,
    // and the caller's retry would start a second one. Only a refusal is worth resending.
    if (isRetryable(e) && !refused(e)) {
      throw Object.assign(new Error(`CreateDeployment may have started a deployment (${errorName(e)}: ${(e as Error).message}); not resent: check the deployment group`), {
        name: 'CreateDeploymentUnconfirmed',
        // An AWS answer (the steps' expected failures), but none a retry list knows.
        $metadata: {},
        cause: e,
      });
    }
    throw e;
  }
  if (!out.deploymentId) throw Object.assign(new Error('CreateDeployment returned no deploymentId'), { name: 'NoDeploymentId' });
  return out.deploymentId;
}

/** Errors that say the request was refused or never sent: nothing was created. */
const REFUSED = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded', 'LimitExceededException', 'RequestThrottledException', 'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

function refused(e: unknown): boolean {
  const code = (e as { code?: unknown } | undefined)?.code;
  return REFUSED.has(errorName(e)) || (typeof code === 'string' && REFUSED.has(code));
}

/**
 * Points `alias` at `version` alone: UpdateAlias with an empty `AdditionalVersionWeights`, which
 * clears the weighted routing a failed canary may have left (Lambda developer guide, "Lambda
 * function aliases"). Setting the same version twice changes nothing.
 */
export async function pointAlias(client: LambdaClient, functionName: string, alias: string, version: string): Promise<void> {
  const { UpdateAliasCommand } = await import('@aws-sdk/client-lambda');
  await client.send(new UpdateAliasCommand({ FunctionName: functionName, Name: alias, FunctionVersion: version, RoutingConfig: { AdditionalVersionWeights: {} } }));
}

/**
 * The container and port the ECS service's load balancer sends traffic to (DescribeServices
 * `loadBalancers`): an ECS AppSpec must name them (LoadBalancerInfo is required).
 */
export async function serviceLoadBalancer(client: ECSClient, serviceArn: string): Promise<{ containerName: string; containerPort: number } | undefined> {
  const { DescribeServicesCommand } = await import('@aws-sdk/client-ecs');
  const cluster = serviceArn.split(':').slice(5).join(':').split('/')[1];
  const out = await client.send(new DescribeServicesCommand({ cluster, services: [serviceArn] }));
  const lb = out.services?.[0]?.loadBalancers?.find((l) => l.containerName && l.containerPort !== undefined);
  return lb ? { containerName: lb.containerName!, containerPort: lb.containerPort! } : undefined;
}
