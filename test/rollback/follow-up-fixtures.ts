/**
 * What the tests of the follow-up flows (rollback verification, guard window, secondary action)
 * share: readers of the synthesized stack (logical ids, function environments, IAM statements),
 * the rights a deployment to the known-good version needs, and a trigger on an ECS service.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { EcsDeploymentGroup } from 'aws-cdk-lib/aws-codedeploy';
import { Vpc } from 'aws-cdk-lib/aws-ec2';
import { Cluster, ContainerImage, DeploymentControllerType, FargateService, FargateTaskDefinition } from 'aws-cdk-lib/aws-ecs';
import { ApplicationLoadBalancer, ApplicationProtocol, ApplicationTargetGroup, ListenerAction, TargetType } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { expect } from 'vitest';
import { RollbackTarget, RollbackTrigger, ServiceLevelObjective, Sli } from '../../lib';
import { newStack } from '../helpers';
import type { Props } from './trigger-fixtures';

/** One of the trigger's functions. */
export type Fn = RollbackTrigger['evaluatorFunction'];
/** An IAM statement as synthesized. */
export type Statement = { Action: string | string[]; Resource: unknown; Effect: string };
/** What a deployment group's ARN is built from. */
export type Group = { application: { applicationName: string }; deploymentGroupName: string };

/** The logical id of a construct's default child (its CloudFormation resource). */
export const logicalId = (stack: Stack, construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);

/** The environment variables of one of the trigger's functions. */
export function environmentOf(stack: Stack, fn: Fn): Record<string, unknown> {
  return Template.fromStack(stack).findResources('AWS::Lambda::Function')[logicalId(stack, fn)].Properties.Environment.Variables;
}

/** One JSON variable (`name`) of the state-change function, parsed; the machine's ARN (a token) is rendered as its CloudFormation JSON. */
export function stateChangeSettings(stack: Stack, trigger: RollbackTrigger, name: string): unknown {
  const value = environmentOf(stack, trigger.stateChangeFunction)[name] as string | { 'Fn::Join': [string, unknown[]] };
  expect(value, name).toBeDefined();
  const text = typeof value === 'string' ? value : value['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : `@@${JSON.stringify(p)}@@`)).join('');
  return JSON.parse(text.replace(/"@@(.*?)@@"/g, '$1'));
}

/** Every IAM statement attached to a role (by its construct). */
export function statementsOfRole(stack: Stack, role: { node: { defaultChild?: unknown } }): Statement[] {
  const id = logicalId(stack, role);
  return Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${id}"`))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/** Every IAM statement of a function's role. */
export const statementsOf = (stack: Stack, fn: Fn) => statementsOfRole(stack, fn.role!);

/** The actions of one statement or of several, flattened. */
export const actionsOf = (statements: Statement | Statement[]) => [statements].flat().flatMap((s) => [s.Action].flat());

/** The statements of the follow-up function beyond the bake's evaluator (whose rights it shares). */
export function rightsBeyondEvaluator(stack: Stack, trigger: RollbackTrigger): Statement[] {
  const evaluator = new Set(statementsOf(stack, trigger.evaluatorFunction).map((s) => JSON.stringify(s)));
  return statementsOf(stack, trigger.followUpFunction!).filter((s) => !evaluator.has(JSON.stringify(s)));
}

/** A CodeDeploy ARN of the stack's account and Region, as CDK renders it. */
export const codedeployArn = (resource: string, ...rest: unknown[]) => ({
  'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':codedeploy:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${resource}`, ...rest]],
});

/** The ARN of a deployment group, as CDK renders it. */
export function groupArn(stack: Stack, group: Group) {
  return codedeployArn('deploymentgroup:', stack.resolve(group.application.applicationName), '/', stack.resolve(group.deploymentGroupName));
}

/**
 * The statements a deployment to the known-good version (a rollback deployment or a secondary
 * action's; all at once, alarms overridden) needs, on exactly its resources.
 */
export function deploymentRights(stack: Stack, trigger: RollbackTrigger, group: Group, allAtOnce: string): Statement[] {
  return [
    { Action: ['codedeploy:GetDeploymentGroup', 'codedeploy:CreateDeployment', 'codedeploy:UpdateDeploymentGroup'], Effect: 'Allow', Resource: groupArn(stack, group) },
    { Action: 'codedeploy:GetDeploymentConfig', Effect: 'Allow', Resource: codedeployArn(`deploymentconfig:${allAtOnce}`) },
    { Action: ['codedeploy:GetApplicationRevision', 'codedeploy:RegisterApplicationRevision'], Effect: 'Allow', Resource: codedeployArn('application:', stack.resolve(group.application.applicationName)) },
    { Action: 'dynamodb:UpdateItem', Effect: 'Allow', Resource: [{ 'Fn::GetAtt': [logicalId(stack, trigger.stateTable as never), 'Arn'] }] },
  ];
}

/** An ECS service released blue/green by CodeDeploy, with a trigger on it (in `stack`, a new test stack by default): the stack, trigger, service and group. */
export function ecsTrigger(props: Props = {}, stack = newStack()) {
  const vpc = new Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const task = new FargateTaskDefinition(stack, 'Task');
  task.addContainer('web', { image: ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable'), portMappings: [{ containerPort: 80 }] });
  const service = new FargateService(stack, 'Service', { cluster: new Cluster(stack, 'Cluster', { vpc }), taskDefinition: task, deploymentController: { type: DeploymentControllerType.CODE_DEPLOY } });
  const alb = new ApplicationLoadBalancer(stack, 'Lb', { vpc });
  const [blue, green] = ['Blue', 'Green'].map((id) => new ApplicationTargetGroup(stack, id, { vpc, port: 80, targetType: TargetType.IP }));
  service.attachToApplicationTargetGroup(blue);
  const listener = alb.addListener('Http', { port: 80, defaultAction: ListenerAction.forward([blue]) });
  alb.addListener('Test', { port: 8080, protocol: ApplicationProtocol.HTTP, defaultAction: ListenerAction.forward([green]) });
  const group = new EcsDeploymentGroup(stack, 'Deployment', {
    service,
    blueGreenDeploymentConfig: { blueTargetGroup: blue, greenTargetGroup: green, listener },
    autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
  });
  const slo = new ServiceLevelObjective(stack, 'Availability', { sli: Sli.targetGroupAvailability(green), objectivePercent: 99.9 });
  const target = RollbackTarget.ecsService({ deploymentGroup: group, service, blueTargetGroup: blue, greenTargetGroup: green });
  const trigger = new RollbackTrigger(stack, 'Rollback', { target, objectives: [slo], ...props });
  return { stack, trigger, service, group };
}
