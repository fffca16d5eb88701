import { App } from 'aws-cdk-lib';
import { AgentServiceStack } from './agent-service';
import { CheckoutServiceStack } from './checkout-service';
import { FargateServiceStack } from './fargate-service';
import { LambdaCanaryStack } from './lambda-canary';

const app = new App();
// SLOs and burn-rate alarms on a Lambda API.
new CheckoutServiceStack(app, 'CheckoutService');
// A Lambda alias released with a 10 % canary that rolls back on its own SLOs.
new LambdaCanaryStack(app, 'LambdaCanary');
// An LLM agent on Lambda whose canary is rolled back when its own self-evaluations degrade.
new AgentServiceStack(app, 'AgentService');
// An ECS Fargate service released blue/green behind an ALB. ALB access logging needs a concrete
// region (its log-delivery principal differs per region).
new FargateServiceStack(app, 'FargateService', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION ?? 'us-east-1' },
});
app.synth();
