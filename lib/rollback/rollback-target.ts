import { Stack } from 'aws-cdk-lib';
import { EcsDeploymentGroup, LambdaDeploymentGroup } from 'aws-cdk-lib/aws-codedeploy';
import { CfnService, IBaseService } from 'aws-cdk-lib/aws-ecs';
import { IApplicationTargetGroup } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { Alias } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { RollbackTriggersError } from '../core/errors';
import { checkAliasOfGroup, compareResolved } from '../private/target-checks';

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
    required('RollbackTarget.lambda', props, 'deploymentGroup', LambdaDeploymentGroup, 'a LambdaDeploymentGroup of this app (an imported group takes no alarms or hooks)');
    required('RollbackTarget.lambda', props, 'alias', Alias, 'the Alias the deployment group shifts');
    checkAliasOfGroup(props.deploymentGroup, props.alias);
    return new RollbackTarget('lambda', props, undefined);
  }

  public static ecs(props: EcsRollbackTargetProps): RollbackTarget {
    required('RollbackTarget.ecs', props, 'service', Construct, 'the ECS service the deployment group releases');
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
    required('RollbackTarget.ecs', props, 'deploymentGroup', EcsDeploymentGroup, 'an EcsDeploymentGroup of this app (an imported group takes no alarms)');
    required('RollbackTarget.ecs', props, 'blueTargetGroup', Construct, "the deployment group's blue target group");
    required('RollbackTarget.ecs', props, 'greenTargetGroup', Construct, "the deployment group's green target group");
    const stack = Stack.of(props.deploymentGroup);
    if (props.blueTargetGroup === props.greenTargetGroup || compareResolved(stack, props.blueTargetGroup.targetGroupArn, props.greenTargetGroup.targetGroupArn) === 'same') {
      throw new RollbackTriggersError(
        'RT320',
        `RollbackTarget.ecs: blueTargetGroup and greenTargetGroup are the same target group (${props.blueTargetGroup.node.path}${props.blueTargetGroup === props.greenTargetGroup ? '' : ` and ${props.greenTargetGroup.node.path}`}): ` +
          'CodeDeploy moves traffic between two target groups, and an alarm that compares a group with itself never fires (and would be attached twice) — ' +
          "pass the deployment group's blueGreenDeploymentConfig.blueTargetGroup and greenTargetGroup",
      );
    }
    for (const [prop, tg] of [
      ['blueTargetGroup', props.blueTargetGroup],
      ['greenTargetGroup', props.greenTargetGroup],
    ] as const) {
      try {
        tg.metrics.requestCount();
      } catch (e) {
        // aws-cdk-lib: an imported target group has metrics only when imported with its load balancer.
        throw new RollbackTriggersError(
          'RT336',
          `RollbackTarget.ecs: ${prop} ${tg.node.path} has no CloudWatch metrics (${(e as Error).message}) — the rollback alarms read its RequestCount and responses per ` +
            'TargetGroup and LoadBalancer: import it with loadBalancerArns, or pass the ApplicationTargetGroup itself',
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

/** A prop a target cannot do without, of the class it must be (jsii callers are not type-checked). */
function required(factory: string, props: object | undefined, prop: string, type: abstract new (...args: never[]) => unknown, what: string): void {
  const value = (props as Record<string, unknown> | undefined)?.[prop];
  if (!(value instanceof type)) {
    const got = value === undefined || value === null ? String(value) : ((value as object).constructor?.name ?? typeof value);
    throw new RollbackTriggersError('RT334', `${factory}: ${prop} must be ${what}, got ${got}`);
  }
}
