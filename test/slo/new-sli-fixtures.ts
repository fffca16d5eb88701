import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { Vpc } from 'aws-cdk-lib/aws-ec2';
import { Cluster, ContainerImage, DeploymentControllerType, FargateService, FargateTaskDefinition } from 'aws-cdk-lib/aws-ecs';
import { ApplicationLoadBalancer, ApplicationTargetGroup, ListenerAction, TargetType } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { EcsDeploymentConfig, EcsDeploymentGroup } from 'aws-cdk-lib/aws-codedeploy';
import { RollbackTarget, RollbackTrigger, type RollbackTriggerProps, ServiceLevelObjective, Sli } from '../../lib';
import type { EvaluatorConfig } from '../../lib/core';
import { lambdaCanaryGroup } from '../helpers';

// What the tests of Sli.agentSelfEvaluation and Sli.logPattern share: a Lambda alias or an ECS
// service released by CodeDeploy with a RollbackTrigger on one SLO, and readers of what it renders.

type Resource = { Type: string; Properties: Record<string, any> };
export interface MetricQuery {
  readonly Id: string;
  readonly Expression?: string;
  readonly ReturnData?: boolean;
  readonly MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions?: Array<{ Name: string; Value: unknown }> }; Stat: string; Period: number };
}

/** A Lambda alias released 10 % canary, an SLO built from `sli(stack)` and a RollbackTrigger on it. */
export function lambdaTrigger(sli: (stack: Stack) => Sli, objectivePercent = 99) {
  const stack = new Stack(new App(), 'Svc');
  const { fn, alias, group } = lambdaCanaryGroup(stack);
  const slo = new ServiceLevelObjective(stack, 'Slo', { sli: sli(stack), objectivePercent });
  const trigger = new RollbackTrigger(stack, 'Rollback', { target: RollbackTarget.lambdaAlias({ deploymentGroup: group, alias }), objectives: [slo] });
  return { stack, fn, alias, slo, trigger };
}

/** An ECS service released blue/green by CodeDeploy, an SLO built from `sli(stack)` and a RollbackTrigger on it. */
export function ecsTrigger(sli: (stack: Stack) => Sli, objectivePercent = 99, extra: (stack: Stack) => Partial<RollbackTriggerProps> = () => ({})) {
  const stack = new Stack(new App(), 'Ecs', { env: { region: 'eu-west-1' } });
  const vpc = new Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const blue = new ApplicationTargetGroup(stack, 'Blue', { vpc, port: 80, targetType: TargetType.IP });
  const green = new ApplicationTargetGroup(stack, 'Green', { vpc, port: 80, targetType: TargetType.IP });
  const lb = new ApplicationLoadBalancer(stack, 'Lb', { vpc });
  const listener = lb.addListener('Http', { port: 80, defaultAction: ListenerAction.forward([blue]) });
  // The test listener routes to green: a target group has metrics once it serves a load balancer.
  const testListener = lb.addListener('Test', { port: 8080, defaultAction: ListenerAction.forward([green]) });
  const taskDefinition = new FargateTaskDefinition(stack, 'Task');
  taskDefinition.addContainer('agent', { image: ContainerImage.fromRegistry('public.ecr.aws/example/agent:v42'), portMappings: [{ containerPort: 80 }] });
  const service = new FargateService(stack, 'Service', { cluster: new Cluster(stack, 'Cluster', { vpc }), taskDefinition, deploymentController: { type: DeploymentControllerType.CODE_DEPLOY } });
  service.attachToApplicationTargetGroup(blue);
  const group = new EcsDeploymentGroup(stack, 'Deployment', {
    service,
    blueGreenDeploymentConfig: { blueTargetGroup: blue, greenTargetGroup: green, listener, testListener },
    deploymentConfig: EcsDeploymentConfig.CANARY_10PERCENT_5MINUTES,
    autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
  });
  const slo = new ServiceLevelObjective(stack, 'Slo', { sli: sli(stack), objectivePercent });
  const trigger = new RollbackTrigger(stack, 'Rollback', {
    target: RollbackTarget.ecsService({ deploymentGroup: group, service, blueTargetGroup: blue, greenTargetGroup: green }),
    objectives: [slo],
    ...extra(stack),
  });
  return { stack, slo, trigger };
}

/** The rendered metric queries of one alarm construct. */
export function alarmQueries(stack: Stack, alarm: Alarm): MetricQuery[] {
  const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, Resource> };
  const logicalId = stack.resolve((alarm.node.defaultChild as CfnElement).logicalId) as string;
  return template.Resources[logicalId].Properties.Metrics as MetricQuery[];
}

/** One metric query by id, with its dimensions as a record. */
export function query(queries: readonly MetricQuery[], id: string) {
  const q = queries.find((m) => m.Id === id);
  if (!q?.MetricStat) throw new Error(`no metric query ${id} in ${JSON.stringify(queries.map((m) => m.Id))}`);
  const m = q.MetricStat.Metric;
  return { namespace: m.Namespace, metricName: m.MetricName, stat: q.MetricStat.Stat, dimensions: Object.fromEntries((m.Dimensions ?? []).map((d) => [d.Name, d.Value])) };
}

/** The metric queries of the SLO's 1-hour window alarm (its page-1h long window). */
export function hourAlarmQueries(stack: Stack): MetricQuery[] {
  const alarms = Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm') as Record<string, Resource>;
  const hour = Object.values(alarms).find((a) => String(a.Properties.AlarmDescription ?? '').startsWith('SLO ') && a.Properties.Metrics?.some((m: MetricQuery) => m.MetricStat?.Period === 3600));
  if (!hour) throw new Error('no 1-hour SLO window alarm');
  return hour.Properties.Metrics as MetricQuery[];
}

/** The evaluator configuration the trigger hands its function, resolved (tokens as CloudFormation). */
export function evaluatorConfig(stack: Stack, trigger: RollbackTrigger): EvaluatorConfig {
  const env = (trigger.evaluatorFunction.node.defaultChild as { environment?: unknown }).environment;
  const variables = (stack.resolve(env) as { variables: Record<string, unknown> }).variables;
  const raw = variables.RT_EVALUATOR_CONFIG;
  // The configuration is a JSON string joined with tokens (the version, the group's names): put a
  // placeholder for each token and parse it.
  const parts = typeof raw === 'string' ? [raw] : (raw as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  const text = parts.map((p) => (typeof p === 'string' ? p : `<${JSON.stringify(p).replace(/"/g, "'")}>`)).join('');
  return JSON.parse(text) as EvaluatorConfig;
}

/** The placeholder `evaluatorConfig` puts for the deployed version's number (`Fn::GetAtt <version>.Version`). */
export function versionPlaceholder(stack: Stack, version: { node: { defaultChild?: unknown } }): string {
  const id = stack.resolve((version.node.defaultChild as CfnElement).logicalId) as string;
  return `<{'Fn::GetAtt':['${id}','Version']}>`;
}
