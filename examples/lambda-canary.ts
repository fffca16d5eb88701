import { Duration, Stack, StackProps, Validations } from 'aws-cdk-lib';
import { LambdaDeploymentConfig, LambdaDeploymentGroup } from 'aws-cdk-lib/aws-codedeploy';
import { Alias } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { RollbackTarget, RollbackTrigger, ServiceLevelObjective, Sli } from '../lib';
import { apiFunction } from './api-function';

/**
 * An API on Lambda released through a `live` alias by CodeDeploy: 10 % canary for 5 minutes, then
 * all traffic. Two SLOs roll a bad release back, measured on the new version's own traffic.
 */
export class LambdaCanaryStack extends Stack {
  /** The rollback wiring: alarms on the deployment group, the evaluator hook, state and audit. */
  public readonly rollbackTrigger: RollbackTrigger;
  /** The CodeDeploy deployment group that releases the alias. */
  public readonly deploymentGroup: LambdaDeploymentGroup;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const handler = apiFunction(this, 'ApiFunction', 'Example API released by a CodeDeploy canary');
    const live = new Alias(this, 'Live', { aliasName: 'live', version: handler.currentVersion });

    this.deploymentGroup = new LambdaDeploymentGroup(this, 'Deployment', {
      alias: live,
      deploymentConfig: LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });

    const availability = new ServiceLevelObjective(this, 'Availability', {
      sli: Sli.lambdaAvailability(live),
      objectivePercent: 99.9,
    });
    const latency = new ServiceLevelObjective(this, 'Latency', {
      sli: Sli.lambdaLatency(live, Duration.millis(300)),
      objectivePercent: 99,
    });

    this.rollbackTrigger = new RollbackTrigger(this, 'Rollback', {
      target: RollbackTarget.lambdaAlias({ deploymentGroup: this.deploymentGroup, alias: live }),
      objectives: [availability, latency],
    });

    Validations.of(this.deploymentGroup.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRoleForLambdaLimited]',
      reason: 'CodeDeploy documents this managed policy as the service role for Lambda deployments; it is already the Limited variant.',
    });
  }
}
