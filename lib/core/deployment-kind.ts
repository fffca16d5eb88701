/**
 * What kind of deployment a hook or an event belongs to, without the decision engine: the starter
 * and the state-change handler import this module directly (not the `lib/core` barrel), so their
 * bundles do not carry the canary statistics (@stdlib) that `decision.ts` imports.
 *
 * NOTE: `decision.ts` defines the same two predicates; it should re-export these instead
 * (`export { isRollbackDeployment, isDeploymentFinished } from './deployment-kind'`), leaving one
 * definition. Until then this module is deliberately not re-exported from the barrel.
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
