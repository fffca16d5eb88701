/**
 * What kind of deployment a hook or an event belongs to, without the decision engine: the starter
 * and the state-change handler import this module directly, so their bundles carry no canary
 * statistics. `decision.ts` re-exports these predicates (one definition).
 */

/** `creator` values of deployments CodeDeploy or CloudFormation start to roll back. */
export const ROLLBACK_DEPLOYMENT_CREATORS: readonly string[] = ['codeDeployRollback', 'CloudFormationRollback'];

/** Hooks inside a rollback deployment must succeed at once: never block a rollback. */
export function isRollbackDeployment(creator: string | undefined): boolean {
  return creator !== undefined && ROLLBACK_DEPLOYMENT_CREATORS.includes(creator);
}

/** A deployment in one of these states no longer accepts hook reports. */
export function isDeploymentFinished(status: string | undefined): boolean {
  return status === 'Succeeded' || status === 'Failed' || status === 'Stopped';
}

/**
 * AfterAllowTestTraffic (ECS): test traffic flows only when someone sends it, and production
 * traffic is judged next, at AfterAllowTraffic. So at this hook too little traffic passes; metrics
 * that could not be read never do.
 */
export function isTestTrafficHook(lifecycleEvent: string | undefined): boolean {
  return lifecycleEvent === 'AfterAllowTestTraffic';
}
