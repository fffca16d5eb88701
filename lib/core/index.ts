// The pure core: SLO arithmetic, CloudWatch limits, the policy schema and the plan.
// Imports nothing from aws-cdk-lib or the AWS SDK, so the Lambda bundle and the CLI stay small.
export * from './error-codes';
export * from './errors';
export * from './defaults';
export * from './slo-math';
export * from './cloudwatch-limits';
export * from './policy';
export * from './policy-builder';
export * from './pricing';
export * from './plan';
export * from './audit-events';
export * from './evaluator-config';
export * from './decision';
export * from './metric-queries';
export * from './synthetics';
export * from './windows';
export * from './emulator';
export * from './canary';
export * from './simulator';
export * from './bake';
export * from './state-table';
export * from './handler-env';
export * from './handler-events';
export * from './approval';
export * from './breaker';
export * from './verify';
export * from './follow-up';
