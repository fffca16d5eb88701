import type { DeploymentTargets } from '../shared/codedeploy';
import { withRetry } from '../shared/retry';
import type { StepRuntime } from '../evaluator/runtime';

/*
 * What putting the known-good version back needs, for the guard window's rollback deployment and
 * the secondary action alike: no newer deployment in the group, the version found intact, and for
 * ECS the service's load-balanced container (an ECS AppSpec must name it). Only the follow-up
 * function imports this (the bake's evaluator bundles no deployment call).
 */

/** The group's latest deployment when it is not `deploymentId` (GetDeploymentGroup); throws what the read throws. */
export async function newerDeployment(rt: StepRuntime, deploymentId: string, until: number): Promise<string | undefined> {
  const { applicationName, deploymentGroupName } = rt.guardedGroup();
  const [calls, client] = await Promise.all([import('../shared/rollback-actions.js'), rt.codedeploy()]);
  return withRetry(() => calls.newerDeployment(client, applicationName, deploymentGroupName, deploymentId), rt.retry(until));
}

/** Why the known-good version must not be deployed as it is now (gone, or altered since recorded); undefined when intact. */
export async function integrityProblem(rt: StepRuntime, targets: DeploymentTargets, known: { version: string; integrity?: string }, until: number): Promise<string | undefined> {
  try {
    const { recordedVersionState, knownGoodProblem } = await import('../shared/integrity.js');
    return knownGoodProblem(known, await recordedVersionState(targets, known.version, rt, (call) => withRetry(call, rt.retry(until))));
  } catch (e) {
    return `the known-good version ${known.version} could not be checked (${rt.expected(e)})`;
  }
}

/** The container and port the ECS service's load balancer sends traffic to (DescribeServices), or why there is none. */
export async function serviceContainer(rt: StepRuntime, serviceArn: string, until: number): Promise<{ containerName: string; containerPort: number } | { problem: string }> {
  try {
    const { serviceLoadBalancer } = await import('../shared/rollback-actions.js');
    const lb = await withRetry(async () => serviceLoadBalancer(await rt.ecs(), serviceArn), rt.retry(until));
    return lb ?? { problem: `the ECS service ${serviceArn} names no load-balanced container (an ECS AppSpec needs one)` };
  } catch (e) {
    return { problem: `the ECS service could not be read (${rt.expected(e)})` };
  }
}
