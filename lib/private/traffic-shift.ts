import { Token } from 'aws-cdk-lib';
import { CfnDeploymentConfig } from 'aws-cdk-lib/aws-codedeploy';
import type { IConstruct } from 'constructs';
import type { PolicyTrafficShift } from '../core/policy';

/**
 * CodeDeploy's predefined configurations name their steps: `CodeDeployDefault.LambdaCanary10Percent5Minutes`,
 * `CodeDeployDefault.ECSLinear10PercentEvery1Minutes` (CodeDeploy User Guide, "Working with
 * deployment configurations": predefined configurations for AWS Lambda and Amazon ECS).
 */
const PREDEFINED = /^CodeDeployDefault\.(?:Lambda|ECS)(Canary|Linear)(\d+)Percent/;

/**
 * How a deployment group's configuration shifts traffic in steps, when that is known at synth: a
 * predefined canary or linear configuration (by its name), or one defined in this app (its
 * `AWS::CodeDeploy::DeploymentConfig` TrafficRoutingConfig: TimeBasedCanary.CanaryPercentage,
 * TimeBasedLinear.LinearPercentage). Undefined for all at once, and for an imported or tokenized
 * configuration whose steps are not known: the rollback alarms then compare the versions' windows
 * as they are (lib/core/relative-alarm.ts, `relativeExpectedBad`).
 */
export function trafficShiftOf(config: { readonly deploymentConfigName: string } | undefined): PolicyTrafficShift | undefined {
  if (config === undefined) return undefined;
  const name = config.deploymentConfigName;
  if (!Token.isUnresolved(name) && name.startsWith('CodeDeployDefault.')) {
    const m = PREDEFINED.exec(name);
    return m ? shift(m[1] === 'Canary' ? 'canary' : 'linear', Number(m[2])) : undefined;
  }
  return fromConstruct(config);
}

function fromConstruct(config: object): PolicyTrafficShift | undefined {
  let cfn: unknown;
  try {
    cfn = (config as Partial<IConstruct>).node?.defaultChild;
  } catch {
    // A configuration without a construct tree (aws-cdk-lib's `deploymentConfig()` objects throw
    // DetachedConstructNodeAccess): its steps are not known here.
    return undefined;
  }
  if (!(cfn instanceof CfnDeploymentConfig)) return undefined;
  const routing = cfn.trafficRoutingConfig;
  if (routing === undefined || Token.isUnresolved(routing)) return undefined;
  const r = routing as CfnDeploymentConfig.TrafficRoutingConfigProperty;
  const canary = r.timeBasedCanary as CfnDeploymentConfig.TimeBasedCanaryProperty | undefined;
  const linear = r.timeBasedLinear as CfnDeploymentConfig.TimeBasedLinearProperty | undefined;
  if (r.type === 'TimeBasedCanary' && canary && !Token.isUnresolved(canary)) return shift('canary', canary.canaryPercentage);
  if (r.type === 'TimeBasedLinear' && linear && !Token.isUnresolved(linear)) return shift('linear', linear.linearPercentage);
  return undefined;
}

/** A step's share, when it is a literal percentage strictly between 0 and 100. */
function shift(kind: PolicyTrafficShift['kind'], percent: number): PolicyTrafficShift | undefined {
  return typeof percent === 'number' && !Token.isUnresolved(percent) && percent > 0 && percent < 100 ? { kind, share: percent / 100 } : undefined;
}
