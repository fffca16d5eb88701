import { CfnElement, Stack, Validations } from 'aws-cdk-lib';
import { IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import { LambdaDeploymentGroup } from 'aws-cdk-lib/aws-codedeploy';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Alias, IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { RollbackTriggersError } from '../../core/errors';
import type { LambdaAliasRollbackTargetProps } from '../../rollback/rollback-target';
import type { ServiceLevelObjective } from '../../slo/service-level-objective';
import { atConstruct } from '../errors';
import { acknowledgeDefaultPolicy } from '../nag';
import { checkAliasOfGroup, checkLambdaSliTarget } from '../target-checks';
import { ScopedSli, TargetImpl, requireProp } from './target-impl';

/** aws-cdk-lib's refusal of a second pre- or post-traffic hook on one LambdaDeploymentGroup. */
const HOOK_ALREADY_DEFINED = /hook function is already defined for this deployment group/;

/** A Lambda alias shifted by a LambdaDeploymentGroup: the new version is read by `ExecutedVersion`. */
export class LambdaAliasTarget implements TargetImpl {
  public readonly platform = 'lambda';
  public readonly deploymentGroup: LambdaDeploymentGroup;
  private readonly alias: Alias;

  constructor(props: LambdaAliasRollbackTargetProps) {
    const factory = 'RollbackTarget.lambdaAlias';
    requireProp(factory, props, 'deploymentGroup', LambdaDeploymentGroup, 'a LambdaDeploymentGroup of this app (an imported group takes no alarms or hooks)');
    requireProp(factory, props, 'alias', Alias, 'the Alias the deployment group shifts');
    checkAliasOfGroup(props.deploymentGroup, props.alias);
    this.deploymentGroup = props.deploymentGroup;
    this.alias = props.alias;
  }

  public checkAgainstGroup(): void {
    // Done by the factory: the alias is the one the group shifts (RT321).
  }

  public checkSli(scope: Construct, slo: ServiceLevelObjective, prop: string): void {
    checkLambdaSliTarget(scope, slo, prop, this.alias);
  }

  public scopedSlis(slo: ServiceLevelObjective, baselineFactor: number): ScopedSli[] {
    const sli = slo.sli._forVersion(this.alias.version);
    if (!sli) return [];
    // The rest of the alias's traffic (the current version) on the same minutes.
    const rest = slo.sli._whole()?._counts;
    return [{ label: 'NewVersion', sli, baseline: rest && baselineFactor > 0 ? { counts: rest, mode: 'rest-of-blended', factor: baselineFactor } : undefined }];
  }

  public watchAlarms(alarms: IAlarm[]): void {
    // The alarms watch the version being deployed (a CloudFormation attribute): update them before
    // the alias update starts the CodeDeploy deployment.
    for (const alarm of alarms) this.alias.node.addDependency(alarm);
  }

  public attachHook(scope: Construct, hook: IFunction): void {
    atConstruct(scope, () => {
      try {
        this.deploymentGroup.addPreHook(hook);
        this.deploymentGroup.addPostHook(hook);
      } catch (e) {
        if (!HOOK_ALREADY_DEFINED.test((e as Error).message)) throw e;
        throw new RollbackTriggersError(
          'RT304',
          `deployment group ${this.deploymentGroup.node.path} already has a pre- or post-traffic hook (${(e as Error).message}); CodeDeploy runs one function per hook — ` +
            'remove the other hook, or call it from your own hook instead',
          { prop: 'target' },
        );
      }
    });
    // aws-cdk-lib lets the group's role invoke the hook and its versions (`<hook>:*`).
    Validations.of(this.deploymentGroup.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(scope).getLogicalId(hook.node.defaultChild as CfnElement)}.Arn>:*]`,
      reason: 'addPreHook/addPostHook let CodeDeploy invoke the hook function and its versions; no other function is named.',
    });
    // That grant is the group role's default policy (NIST.800.53.R5-IAMNoInlinePolicy).
    acknowledgeDefaultPolicy(this.deploymentGroup.role);
  }

  public grantReads(scope: Construct, fn: IFunction): Record<string, string> {
    const target = this.alias.version.lambda;
    fn.addToRolePolicy(new PolicyStatement({ actions: ['lambda:GetFunction'], resources: [`${target.functionArn}:*`] }));
    return {
      [`AwsSolutions-IAM5[Resource::<${Stack.of(scope).getLogicalId(target.node.defaultChild as CfnElement)}.Arn>:*]`]:
        "Reads the code SHA-256 of the deployed function's versions (known-good integrity); versions are only known at run time.",
    };
  }

  public grantActions(_scope: Construct, fn: IFunction, options: { readonly updateAlias: boolean }): Record<string, string> {
    // lambda:UpdateAlias takes the unqualified function ARN (Lambda API permissions reference).
    if (options.updateAlias) fn.addToRolePolicy(new PolicyStatement({ actions: ['lambda:UpdateAlias'], resources: [this.alias.version.lambda.functionArn] }));
    return {};
  }

  public evaluatorTargetGroups(): undefined {
    return undefined;
  }
}
