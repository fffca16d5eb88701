import { EcsDeploymentGroup, LambdaDeploymentGroup } from 'aws-cdk-lib/aws-codedeploy';
import { IBaseService } from 'aws-cdk-lib/aws-ecs';
import { IApplicationTargetGroup } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { IRole } from 'aws-cdk-lib/aws-iam';
import { Alias } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { EcsServiceTarget } from '../private/targets/ecs-service';
import { LambdaAliasTarget } from '../private/targets/lambda-alias';
import { TargetImpl } from '../private/targets/target-impl';

/** A Lambda alias released by a CodeDeploy deployment group with traffic shifting. */
export interface LambdaAliasRollbackTargetProps {
  /**
   * The deployment group that shifts the alias. The concrete class is needed: alarms and hooks are
   * added to it (`addAlarm`, `addPreHook`, `addPostHook`), which an imported group cannot take.
   */
  readonly deploymentGroup: LambdaDeploymentGroup;
  /** The alias the deployment group shifts; its version is the one being deployed. */
  readonly alias: Alias;
}

/** An ECS service released blue/green by CodeDeploy behind an Application Load Balancer. */
export interface EcsServiceRollbackTargetProps {
  /**
   * The deployment group of the service. The concrete class is needed to add alarms; ECS hooks
   * are declared in the AppSpec of each deployment instead (see the README).
   */
  readonly deploymentGroup: EcsDeploymentGroup;
  /** The service; it must use the CODE_DEPLOY deployment controller. */
  readonly service: IBaseService;
  /** The blue target group of the deployment group. Both are watched: blue and green trade roles every release. */
  readonly blueTargetGroup: IApplicationTargetGroup;
  /** The green target group of the deployment group. */
  readonly greenTargetGroup: IApplicationTargetGroup;
}

/** The compute platform CodeDeploy releases a {@link RollbackTarget} on. */
export enum RollbackPlatform {
  /** A Lambda alias shifted between versions. */
  LAMBDA = 'lambda',
  /** An ECS service swapped between two target groups (blue/green). */
  ECS = 'ecs',
}

/** What a {@link RollbackTarget} gives the trigger it is bound to. */
export interface RollbackTargetConfig {
  /** The platform the target is released on. */
  readonly platform: RollbackPlatform;
  /** The CodeDeploy application of the deployment group. */
  readonly applicationName: string;
  /** The deployment group that releases the target; it carries the rollback alarms. */
  readonly deploymentGroupName: string;
  /** ARN of the deployment group. */
  readonly deploymentGroupArn: string;
  /** The role CodeDeploy uses for the deployment group; it invokes the lifecycle hooks. */
  readonly deploymentRole: IRole;
}

/**
 * What a {@link RollbackTrigger} guards: a Lambda alias or an ECS service under CodeDeploy
 * blue/green. A closed set, so an enum-like class with one implementation per platform.
 */
export class RollbackTarget {
  /** A Lambda alias shifted by a `LambdaDeploymentGroup` (canary, linear or all at once). */
  public static lambdaAlias(props: LambdaAliasRollbackTargetProps): RollbackTarget {
    return new RollbackTarget(new LambdaAliasTarget(props));
  }

  /** An ECS service released blue/green by an `EcsDeploymentGroup` behind an Application Load Balancer. */
  public static ecsService(props: EcsServiceRollbackTargetProps): RollbackTarget {
    return new RollbackTarget(new EcsServiceTarget(props));
  }

  /** The platform the target is released on. */
  public readonly platform: RollbackPlatform;

  /** @internal */
  public readonly _impl: TargetImpl;

  private constructor(impl: TargetImpl) {
    this._impl = impl;
    this.platform = impl.platform === 'lambda' ? RollbackPlatform.LAMBDA : RollbackPlatform.ECS;
  }

  /**
   * Binds the target to the trigger that guards it: checks the target against its deployment group
   * (the service and target groups it releases), with `scope` named in any error.
   */
  public bind(scope: Construct): RollbackTargetConfig {
    this._impl.checkAgainstGroup(scope);
    const group = this._impl.deploymentGroup;
    return {
      platform: this.platform,
      applicationName: group.application.applicationName,
      deploymentGroupName: group.deploymentGroupName,
      deploymentGroupArn: group.deploymentGroupArn,
      deploymentRole: group.role,
    };
  }
}
