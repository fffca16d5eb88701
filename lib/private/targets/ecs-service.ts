import { CfnElement, Resource, Stack, Validations } from 'aws-cdk-lib';
import { EcsDeploymentGroup } from 'aws-cdk-lib/aws-codedeploy';
import { CfnService } from 'aws-cdk-lib/aws-ecs';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { RollbackTriggersError } from '../../core/errors';
import type { EvaluatorConfig } from '../../core/evaluator-config';
import type { EcsServiceRollbackTargetProps } from '../../rollback/rollback-target';
import type { ServiceLevelObjective } from '../../slo/service-level-objective';
import { acknowledgeDefaultPolicy } from '../nag';
import { checkEcsSliTarget, checkEcsTargetOfGroup, compareResolved } from '../target-checks';
import { ScopedSli, TargetImpl, requireProp } from './target-impl';

/** An ECS service released blue/green behind an ALB: each target group is read on its own. */
export class EcsServiceTarget implements TargetImpl {
  public readonly platform = 'ecs';
  public readonly deploymentGroup: EcsDeploymentGroup;
  private readonly props: EcsServiceRollbackTargetProps;

  constructor(props: EcsServiceRollbackTargetProps) {
    const factory = 'RollbackTarget.ecsService';
    requireProp(factory, props, 'service', Construct, 'the ECS service the deployment group releases');
    checkCodeDeployController(props);
    requireProp(factory, props, 'deploymentGroup', EcsDeploymentGroup, 'an EcsDeploymentGroup of this app (an imported group takes no alarms)');
    requireProp(factory, props, 'blueTargetGroup', Construct, "the deployment group's blue target group");
    requireProp(factory, props, 'greenTargetGroup', Construct, "the deployment group's green target group");
    checkTwoTargetGroups(factory, props);
    this.deploymentGroup = props.deploymentGroup;
    this.props = props;
  }

  public checkAgainstGroup(scope: Construct): void {
    checkEcsTargetOfGroup(scope, this.props);
  }

  public checkSli(scope: Construct, slo: ServiceLevelObjective, prop: string): void {
    checkEcsSliTarget(scope, slo, prop, this.props);
  }

  public scopedSlis(slo: ServiceLevelObjective, baselineFactor: number): ScopedSli[] {
    const blue = slo.sli._forTargetGroup(this.props.blueTargetGroup);
    const green = slo.sli._forTargetGroup(this.props.greenTargetGroup);
    const compare = (other: typeof blue) => (other && baselineFactor > 0 ? { counts: other._counts, mode: 'separate' as const, factor: baselineFactor } : undefined);
    // Blue and green swap roles every release: each is compared with the other.
    const scoped: ScopedSli[] = [];
    if (blue) scoped.push({ label: 'Blue', sli: blue, baseline: compare(green) });
    if (green) scoped.push({ label: 'Green', sli: green, baseline: compare(blue) });
    return scoped;
  }

  public watchAlarms(): void {
    // Nothing to order: the alarms read target groups, which exist before any deployment.
  }

  public attachHook(scope: Construct, hook: IFunction): void {
    const role = this.deploymentGroup.role;
    if (Resource.isOwnedResource(role)) return;
    // ECS hooks are named in each deployment's AppSpec. aws-cdk-lib attaches AWSCodeDeployRoleForECS
    // (which may invoke the hook, see the README) only to a role it creates or owns: an imported
    // role gets the grant here (a policy attached to it, when it was imported mutable).
    hook.grantInvoke(role);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(scope).getLogicalId(hook.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason: 'CodeDeploy invokes the hook function named in the AppSpec; grantInvoke names the function and its versions only.',
    });
    acknowledgeDefaultPolicy(role);
  }

  public grantReads(_scope: Construct, fn: IFunction): Record<string, string> {
    // ecs:DescribeTaskSets and ecs:DescribeTaskDefinition support no resource-level permissions;
    // the trigger acknowledges Resource::* for all of its handlers at once.
    fn.addToRolePolicy(new PolicyStatement({ actions: ['ecs:DescribeTaskSets', 'ecs:DescribeTaskDefinition'], resources: ['*'] }));
    return {};
  }

  public grantActions(_scope: Construct, fn: IFunction): Record<string, string> {
    // The AppSpec of an ECS deployment names the load-balanced container and port: read from the service.
    fn.addToRolePolicy(new PolicyStatement({ actions: ['ecs:DescribeServices'], resources: [this.props.service.serviceArn] }));
    return {};
  }

  public evaluatorTargetGroups(): EvaluatorConfig['targetGroups'] {
    return [this.props.blueTargetGroup, this.props.greenTargetGroup].map((tg) => ({
      name: tg.targetGroupName,
      dimensions: Object.fromEntries((tg.metrics.requestCount().toMetricConfig().metricStat?.dimensions ?? []).map((d) => [d.name, String(d.value)])),
    }));
  }
}

/** CodeDeploy blue/green releases only a service with the CODE_DEPLOY deployment controller (RT302). */
function checkCodeDeployController(props: EcsServiceRollbackTargetProps): void {
  const cfn = props.service.node.defaultChild;
  if (!(cfn instanceof CfnService)) return; // imported: warned about by checkEcsTargetOfGroup
  const controller = Stack.of(props.service).resolve(cfn.deploymentController) as { type?: string } | undefined;
  if (controller?.type !== 'CODE_DEPLOY') {
    throw new RollbackTriggersError(
      'RT302',
      `service ${props.service.node.path} uses the ${controller?.type ?? 'ECS'} deployment controller; CodeDeploy blue/green needs deploymentController: { type: DeploymentControllerType.CODE_DEPLOY }`,
      { prop: 'service' },
    );
  }
}

/** Two distinct target groups, each with CloudWatch metrics the alarms can read (RT320, RT336). */
function checkTwoTargetGroups(factory: string, props: EcsServiceRollbackTargetProps): void {
  const { blueTargetGroup: blue, greenTargetGroup: green } = props;
  if (blue === green || compareResolved(Stack.of(props.deploymentGroup), blue.targetGroupArn, green.targetGroupArn) === 'same') {
    throw new RollbackTriggersError(
      'RT320',
      `${factory}: blueTargetGroup and greenTargetGroup are the same target group (${blue.node.path}${blue === green ? '' : ` and ${green.node.path}`}): ` +
        'CodeDeploy moves traffic between two target groups, and an alarm that compares a group with itself never fires (and would be attached twice) — ' +
        "pass the deployment group's blueGreenDeploymentConfig.blueTargetGroup and greenTargetGroup",
      { prop: 'greenTargetGroup' },
    );
  }
  for (const [prop, tg] of [
    ['blueTargetGroup', blue],
    ['greenTargetGroup', green],
  ] as const) {
    try {
      tg.metrics.requestCount();
    } catch (e) {
      // aws-cdk-lib: an imported target group has metrics only when imported with its load balancer.
      throw new RollbackTriggersError(
        'RT336',
        `${factory}: ${prop} ${tg.node.path} has no CloudWatch metrics (${(e as Error).message}) — the rollback alarms read its RequestCount and responses per ` +
          'TargetGroup and LoadBalancer: import it with loadBalancerArns, or pass the ApplicationTargetGroup itself',
        { prop },
      );
    }
  }
}
