import { IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import { EcsDeploymentGroup, LambdaDeploymentGroup } from 'aws-cdk-lib/aws-codedeploy';
import { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { RollbackTriggersError } from '../../core/errors';
import type { EvaluatorConfig } from '../../core/evaluator-config';
import type { ServiceLevelObjective } from '../../slo/service-level-objective';
import type { Sli } from '../../slo/sli';
import { BaselineComparison } from '../alarm-factory';
import { describeProp } from '../errors';

/**
 * One SLI a rollback alarm watches: the new version's own traffic (Lambda), the blue or the green
 * target group (ECS), or the SLI as declared when it cannot be scoped.
 */
export interface ScopedSli {
  /** Part of the alarm's construct id and of its policy entry: NewVersion, Blue, Green or Declared. */
  readonly label: 'NewVersion' | 'Blue' | 'Green' | 'Declared';
  readonly sli: Sli;
  readonly baseline?: BaselineComparison;
}

/**
 * What a RollbackTrigger needs from its target, implemented once per platform (Lambda alias, ECS
 * service) so the trigger itself never branches on the platform.
 */
export interface TargetImpl {
  readonly platform: 'lambda' | 'ecs';
  /** The deployment group that releases the target: alarms are added to it. */
  readonly deploymentGroup: LambdaDeploymentGroup | EcsDeploymentGroup;
  /** Checks the target against its deployment group, with the trigger as the scope of the message. */
  checkAgainstGroup(scope: Construct): void;
  /** Refuses an objective whose SLI measures traffic this target never serves; `prop` names it as listed (`objectives[1]`). */
  checkSli(scope: Construct, slo: ServiceLevelObjective, prop: string): void;
  /** The SLIs of an objective the rollback alarms watch, each with the baseline it is compared with. */
  scopedSlis(slo: ServiceLevelObjective, baselineFactor: number): ScopedSli[];
  /** Called with the rollback alarms once they are attached to the deployment group. */
  watchAlarms(alarms: IAlarm[]): void;
  /** Makes CodeDeploy able to call the hook (Lambda: the group's hooks; ECS: the role, AppSpec hooks). */
  attachHook(scope: Construct, hook: IFunction): void;
  /**
   * Lets a handler read what it verifies about the target (code SHA-256 of versions, task sets);
   * returns the cdk-nag acknowledgements the grants need, by finding id.
   */
  grantReads(scope: Construct, fn: IFunction): Record<string, string>;
  /**
   * Lets the evaluator take traffic off a bad version after the bake (guard window, secondary
   * action): Lambda UpdateAlias (with `updateAlias`), ECS DescribeServices (the AppSpec's container).
   * Returns the cdk-nag acknowledgements the grants need, by finding id.
   */
  grantActions(scope: Construct, fn: IFunction, options: { readonly updateAlias: boolean }): Record<string, string>;
  /** The evaluator configuration's target groups (ECS) or undefined. */
  evaluatorTargetGroups(): EvaluatorConfig['targetGroups'];
}

/** A prop a target cannot do without, of the class it must be (jsii callers are not type-checked). */
export function requireProp(factory: string, props: object | undefined, prop: string, type: abstract new (...args: never[]) => unknown, what: string): void {
  const value = (props as Record<string, unknown> | undefined)?.[prop];
  if (!(value instanceof type)) {
    throw new RollbackTriggersError('RT334', `${factory}: ${prop} must be ${what}, got ${describeProp(value)}`, { prop });
  }
}
