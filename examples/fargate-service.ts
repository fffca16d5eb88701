import { CfnOutput, Duration, Environment, RemovalPolicy, Stack, StackProps, Validations } from 'aws-cdk-lib';
import { EcsDeploymentConfig, EcsDeploymentGroup } from 'aws-cdk-lib/aws-codedeploy';
import { FlowLogTrafficType, IpAddresses, Peer, Port, SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { Cluster, ContainerImage, ContainerInsights, DeploymentControllerType, FargateService, FargateTaskDefinition, LogDrivers } from 'aws-cdk-lib/aws-ecs';
import { ApplicationLoadBalancer, ApplicationProtocol, ApplicationTargetGroup, TargetType } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct, IConstruct } from 'constructs';
import { RollbackTarget, RollbackTrigger, ServiceLevelObjective, Sli } from '../lib';

const VPC_CIDR = '10.0.0.0/16';

/** Properties of a {@link FargateServiceStack}. */
export interface FargateServiceStackProps extends StackProps {
  /**
   * Where to deploy. The region must be concrete: ALB access-log delivery is granted to that
   * region's Elastic Load Balancing principal, which an environment-agnostic stack cannot name.
   */
  readonly env: Environment & { readonly region: string };
}

/**
 * A Fargate service behind an internet-facing ALB, released blue/green by CodeDeploy: 10 % of
 * production traffic to the green task set for 5 minutes, then all of it. Two SLOs on each target
 * group roll a bad release back; the evaluator is the AppSpec hook that bakes the green task set.
 *
 * Every deployment's AppSpec names the hook function (the `HookFunctionArn` output) in its hooks:
 *
 * ```yaml
 * version: 0.0
 * Resources:
 *   - TargetService:
 *       Type: AWS::ECS::Service
 *       Properties:
 *         TaskDefinition: <new task definition ARN>
 *         LoadBalancerInfo:
 *           ContainerName: web
 *           ContainerPort: 80
 * Hooks:
 *   # The test listener (8080) routes to green only: the evaluator bakes green on that traffic
 *   # before any production traffic moves. Send it traffic (a smoke test from inside the VPC):
 *   # too few requests is an inconclusive bake, which fails the deployment by default.
 *   - AfterAllowTestTraffic: <HookFunctionArn>
 *   # Production traffic has shifted: the evaluator bakes green against its SLOs and reports.
 *   - AfterAllowTraffic: <HookFunctionArn>
 * ```
 *
 * `BeforeInstall: <HookFunctionArn>` may be added to check, before green starts, that the known-good
 * task definition is still ACTIVE.
 */
export class FargateServiceStack extends Stack {
  /** The rollback wiring: alarms on the deployment group, the evaluator, state and audit. */
  public readonly rollbackTrigger: RollbackTrigger;
  /** The CodeDeploy deployment group that releases the service. */
  public readonly deploymentGroup: EcsDeploymentGroup;

  constructor(scope: Construct, id: string, props: FargateServiceStackProps) {
    super(scope, id, props);

    // Public subnets only, no NAT gateway: the cheapest layout for an example. Tasks get public
    // IPs to pull their image, and their security group admits only the load balancer.
    const vpc = new Vpc(this, 'Vpc', {
      // A literal range: the test listener's ingress names it (cdk-nag cannot check a token CIDR).
      ipAddresses: IpAddresses.cidr(VPC_CIDR),
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'Public', subnetType: SubnetType.PUBLIC, cidrMask: 24 }],
    });
    // Rejected traffic only: what a security review reads, at a fraction of the ingestion cost.
    vpc.addFlowLog('FlowLogs', { trafficType: FlowLogTrafficType.REJECT });

    const cluster = new Cluster(this, 'Cluster', { vpc, containerInsightsV2: ContainerInsights.ENABLED });

    const webLogs = new LogGroup(this, 'WebLogs', { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const taskDefinition = new FargateTaskDefinition(this, 'Task', { cpu: 256, memoryLimitMiB: 512 });
    taskDefinition.addContainer('web', {
      image: ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable'),
      portMappings: [{ containerPort: 80 }],
      logging: LogDrivers.awsLogs({ streamPrefix: 'web', logGroup: webLogs }),
    });

    const service = new FargateService(this, 'Service', {
      cluster,
      taskDefinition,
      desiredCount: 2,
      minHealthyPercent: 100,
      assignPublicIp: true,
      vpcSubnets: { subnetType: SubnetType.PUBLIC },
      deploymentController: { type: DeploymentControllerType.CODE_DEPLOY },
    });

    // ALB access logs: SSE-S3 is the only bucket encryption ALB log delivery supports. The bucket's
    // own S3 server access logs go to a second bucket, whose object ownership is left to CDK (the
    // log-delivery ACL it grants by default needs ObjectWriter).
    const serverAccessLogs = new Bucket(this, 'ServerAccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      lifecycleRules: [{ expiration: Duration.days(90) }],
    });
    const accessLogs = new Bucket(this, 'AlbAccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: serverAccessLogs,
      serverAccessLogsPrefix: 'alb-access-logs/',
      lifecycleRules: [{ expiration: Duration.days(90) }],
    });

    const alb = new ApplicationLoadBalancer(this, 'Alb', { vpc, internetFacing: true });
    alb.logAccessLogs(accessLogs, 'alb');

    const targetGroup = (name: string) =>
      new ApplicationTargetGroup(this, name, {
        vpc,
        port: 80,
        protocol: ApplicationProtocol.HTTP,
        targetType: TargetType.IP,
        healthCheck: { path: '/' },
        deregistrationDelay: Duration.seconds(30),
      });
    const blueTargetGroup = targetGroup('Blue');
    const greenTargetGroup = targetGroup('Green');
    service.attachToApplicationTargetGroup(blueTargetGroup);

    // Production traffic from anywhere; the test listener (green only, during a deployment) from
    // inside the VPC. Ingress is opened explicitly rather than by `open: true` on each listener.
    const listener = alb.addListener('Http', { port: 80, protocol: ApplicationProtocol.HTTP, open: false, defaultTargetGroups: [blueTargetGroup] });
    const testListener = alb.addListener('Test', { port: 8080, protocol: ApplicationProtocol.HTTP, open: false, defaultTargetGroups: [greenTargetGroup] });
    alb.connections.allowFromAnyIpv4(Port.tcp(80), 'Production traffic');
    alb.connections.allowFrom(Peer.ipv4(VPC_CIDR), Port.tcp(8080), 'Test traffic to the green task set, from inside the VPC');

    Validations.of(alb.connections.securityGroups[0]).acknowledge({
      id: 'AwsSolutions-EC23',
      reason: 'An internet-facing load balancer serves the public on port 80; the test listener (8080) is limited to the VPC.',
    });

    this.deploymentGroup = new EcsDeploymentGroup(this, 'Deployment', {
      service,
      blueGreenDeploymentConfig: { blueTargetGroup, greenTargetGroup, listener, testListener },
      deploymentConfig: EcsDeploymentConfig.CANARY_10PERCENT_5MINUTES,
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });

    Validations.of(this.deploymentGroup.role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSCodeDeployRoleForECS]',
      reason: 'CodeDeploy documents this managed policy as the service role for ECS blue/green; it lets CodeDeploy invoke the AppSpec hook functions.',
    });

    // The targets' 5xx plus the requests routed to the group that got no target response (the load
    // balancer's own 502/504: a crashed, resetting or hung task). Its rollback alarms read 10 metrics,
    // CloudWatch's limit; the evaluator's bake counts the same, minute by minute.
    const availability = new ServiceLevelObjective(this, 'Availability', {
      sli: Sli.targetGroupAvailability(greenTargetGroup),
      objectivePercent: 99.9,
    });
    const latency = new ServiceLevelObjective(this, 'Latency', {
      sli: Sli.targetGroupLatency(greenTargetGroup, Duration.millis(250)),
      objectivePercent: 99,
    });

    this.rollbackTrigger = new RollbackTrigger(this, 'Rollback', {
      target: RollbackTarget.ecsService({ deploymentGroup: this.deploymentGroup, service, blueTargetGroup, greenTargetGroup }),
      objectives: [availability, latency],
      // More than 3 rollbacks within an hour: something every release shares is broken; the next
      // rollback the evaluator decides asks a human first (answer with `rollback-triggers approve|reject`).
      // The wait for an answer (30 min by default) comes out of the bake's deadline.
      circuitBreaker: {},
      // After each rollback, watch the restored task set for 10 min on its own traffic:
      // `Rollback Verified`, or `Rollback Unhealthy` (escalated, counted by the breaker).
      verifyRollback: {},
      // CodeDeploy polls no alarm once a release succeeded: for 2 h afterwards the page tier is still
      // judged on the new task set's traffic, and a breach deploys the known-good task definition back.
      guardWindow: Duration.hours(2),
      // A rollback that itself fails leaves the bad task set serving: propose deploying the known-good
      // task definition directly, and do it once a human approves (`rollback-triggers approve`).
      secondaryAction: {},
    });

    acknowledgeExampleFindings({ vpc, taskDefinition, webLogs, alb, accessLogs, serverAccessLogs });

    new CfnOutput(this, 'HookFunctionArn', {
      description: 'Name this function in the AppSpec Hooks of every deployment (AfterAllowTestTraffic, AfterAllowTraffic)',
      value: this.rollbackTrigger.hookFunction.functionArn,
    });
  }
}

/**
 * What cdk-nag (NIST 800-53 rev 5) reports on the example's own infrastructure, with why the example
 * keeps it; a production service would revisit each. The rollback trigger acknowledges its own.
 */
function acknowledgeExampleFindings(resources: {
  vpc: Vpc;
  taskDefinition: FargateTaskDefinition;
  webLogs: LogGroup;
  alb: ApplicationLoadBalancer;
  accessLogs: Bucket;
  serverAccessLogs: Bucket;
}): void {
  const { vpc, taskDefinition, webLogs, alb, accessLogs, serverAccessLogs } = resources;
  const acknowledge = (scope: IConstruct, reasons: Record<string, string>) => {
    for (const [id, reason] of Object.entries(reasons)) Validations.of(scope).acknowledge({ id, reason });
  };
  const logsAtRest = 'CloudWatch Logs encrypts every log group at rest (AWS owned keys); these logs hold request lines and rejected flows, no credentials.';
  const ownPolicy = "aws-cdk-lib writes the role's least-privilege grants to the role's own policy, created and deleted with it.";
  acknowledge(vpc, {
    'NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW': 'Public subnets only, without NAT gateways (the cheapest layout): the internet-facing load balancer needs the route, the tasks pull their image through it.',
    'NIST.800.53.R5-VPCSubnetAutoAssignPublicIpDisabled': 'Public subnets only: the tasks need a public IP to pull their image without a NAT gateway; their security group admits only the load balancer.',
    'NIST.800.53.R5-VPCDefaultSecurityGroupClosed': 'Nothing uses the default security group: the load balancer and the tasks have their own.',
    'NIST.800.53.R5-CloudWatchLogGroupEncrypted': logsAtRest,
    'NIST.800.53.R5-IAMNoInlinePolicy': ownPolicy,
  });
  acknowledge(taskDefinition, { 'NIST.800.53.R5-IAMNoInlinePolicy': ownPolicy });
  const noDomain = 'The example has no domain and so no certificate: it serves HTTP. A production service adds an HTTPS listener with an ACM certificate and redirects port 80.';
  acknowledge(alb, {
    'NIST.800.53.R5-ALBHttpToHttpsRedirection': noDomain,
    'NIST.800.53.R5-ELBv2ACMCertificateRequired': noDomain,
    'NIST.800.53.R5-ALBWAFEnabled': 'The example serves a static page; associate an AWS WAF web ACL with a production load balancer.',
    'NIST.800.53.R5-ELBDeletionProtectionEnabled': 'The example is meant to be deployed and destroyed; enable deletion protection in production.',
  });
  const logBucket = {
    'NIST.800.53.R5-S3BucketVersioningEnabled': 'Log objects are written once and never overwritten; they expire after 90 days.',
    'NIST.800.53.R5-S3BucketReplicationEnabled': 'Access logs of an example; replicate them where a retention policy asks for a copy in another Region.',
  };
  acknowledge(accessLogs, {
    ...logBucket,
    'NIST.800.53.R5-S3DefaultEncryptionKMS': 'ALB access logs are delivered only to buckets encrypted with SSE-S3 (Elastic Load Balancing user guide, access logs).',
  });
  acknowledge(serverAccessLogs, {
    ...logBucket,
    'NIST.800.53.R5-S3DefaultEncryptionKMS': 'SSE-S3 encrypts these logs of the log bucket at rest; SSE-KMS would need a customer managed key whose policy admits the S3 logging service.',
  });
  acknowledge(webLogs, { 'NIST.800.53.R5-CloudWatchLogGroupEncrypted': logsAtRest });
}
