/**
 * The AWS SDK calls `approve` and `reject` make, and nothing else. scripts/bundle.mjs bundles this
 * module with the SDK inlined into assets/cli/aws-clients.js, which the CLI requires only when one
 * of those commands runs: the package has no runtime dependencies, so an install carries no SDK.
 */
export {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  ListExecutionsCommand,
  SFNClient,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
} from '@aws-sdk/client-sfn';
export { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
