import { Stack } from 'aws-cdk-lib';
import { EcsDeploymentGroup, LambdaDeploymentGroup } from 'aws-cdk-lib/aws-codedeploy';
import { CfnService, IBaseService } from 'aws-cdk-lib/aws-ecs';
import { IApplicationTargetGroup } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Alias } from 'aws-cdk-lib/aws-lambda';
import { RollbackTriggersError } from '../core/errors';

/** A Lambda alias released by a CodeDeploy deployment group with traffic shifting. */
export interface LambdaRollbackTargetProps {
  /**
   * The deployment group that shifts the alias. The concrete class is needed: alarms and hooks are
   * added to it (`addAlarm`, `addPreHook`, `addPostHook`), which an imported group cannot take.
   */
  readonly deploymentGroup: LambdaDeploymentGroup;
  /** The alias the deployment group shifts; its version is the one being deployed. */
  readonly alias: Alias;
}

/** An ECS service released blue/green by CodeDeploy behind an Application Load Balancer. */
export interface EcsRollbackTargetProps {
  /**
   * The deployment group of the service. The concrete class is needed to add alarms; ECS hooks
   * are declared in the AppSpec of each deployment instead (see the README).
   */
  readonly deploymentGroup: EcsDeploymentGroup;
  /** The service; it must use the CODE_DEPLOY deployment controller. */
  readonly service: IBaseService;
  /** The target groups CodeDeploy swaps. Both are watched: blue and green trade roles every release. */
  readonly blueTargetGroup: IApplicationTargetGroup;
  readonly greenTargetGroup: IApplicationTargetGroup;
}

/**
 * What a {@link RollbackTrigger} guards: a Lambda alias or an ECS service under CodeDeploy
 * blue/green. A closed set, so an enum-like class rather than a union.
 */
export class RollbackTarget {
  public static lambda(props: LambdaRollbackTargetProps): RollbackTarget {
    return new RollbackTarget('lambda', props, undefined);
  }

  public static ecs(props: EcsRollbackTargetProps): RollbackTarget {
    const cfn = props.service.node.defaultChild;
    if (cfn instanceof CfnService) {
      const controller = Stack.of(props.service).resolve(cfn.deploymentController) as { type?: string } | undefined;
      if (controller?.type !== 'CODE_DEPLOY') {
        throw new RollbackTriggersError(
          'RT302',
          `service ${props.service.node.path} uses the ${controller?.type ?? 'ECS'} deployment controller; CodeDeploy blue/green needs deploymentController: { type: DeploymentControllerType.CODE_DEPLOY }`,
        );
      }
    }
    return new RollbackTarget('ecs', undefined, props);
  }

  /** `lambda` or `ecs`. */
  public readonly platform: string;

  /** @internal */
  public readonly _lambda?: LambdaRollbackTargetProps;
  /** @internal */
  public readonly _ecs?: EcsRollbackTargetProps;

  private constructor(platform: 'lambda' | 'ecs', lambda: LambdaRollbackTargetProps | undefined, ecs: EcsRollbackTargetProps | undefined) {
    this.platform = platform;
    this._lambda = lambda;
    this._ecs = ecs;
  }
}
