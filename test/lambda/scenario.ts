import { ResourceNotFoundException } from '@aws-sdk/client-lambda';

/**
 * What every handler test shares: the scenario's constants (one Lambda function behind the alias
 * `live`, version 1 → 2, in one deployment group) and AWS errors shaped as the SDK raises them.
 */

export const CLIENT_CONFIG = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } };
/** The moment CodeDeploy invokes the hook: a whole minute, epoch seconds (2026-01-15T12:00:00Z). */
export const T0 = Date.UTC(2026, 0, 15, 12, 0, 0) / 1000;
/** `d-` and 9 letters or digits, like CodeDeploy's. */
export const DEPLOYMENT_ID = 'd-RELEASE01';
export const HOOK_ID = 'hook-exec-0001-after';
export const APPLICATION = 'orders-app';
export const DEPLOYMENT_GROUP = 'orders-dg';
export const FUNCTION_NAME = 'orders-fn';
export const ALIAS = 'live';
export const SHA_V1 = 'v1sha256AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
export const SHA_V2 = 'v2sha256BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=';

/**
 * Lambda GetFunction as the service answers it for the scenario's function: a version's
 * CodeSha256, or ResourceNotFoundException for any other function or version.
 */
export function getFunctionAnswer(versions: ReadonlyMap<string, string>, input: { FunctionName: string; Qualifier?: string }) {
  const sha = input.Qualifier ? versions.get(input.Qualifier) : undefined;
  if (input.FunctionName !== FUNCTION_NAME || sha === undefined) {
    throw new ResourceNotFoundException({ message: `Function not found: ${input.FunctionName}:${input.Qualifier}`, $metadata: { httpStatusCode: 404 } });
  }
  return { Configuration: { FunctionName: FUNCTION_NAME, Version: input.Qualifier, CodeSha256: sha } };
}

type AwsLikeError = Error & { $metadata: { httpStatusCode?: number }; $fault: 'client' | 'server' };

export function awsError(name: string, httpStatusCode: number, message = name): AwsLikeError {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode }, $fault: httpStatusCode >= 500 ? ('server' as const) : ('client' as const) });
}
export const throttling = () => awsError('ThrottlingException', 400, 'Rate exceeded');
/** A 5xx whose name none of the retry lists knows: only the status code makes it retryable. */
export const serverError = () => awsError('UnknownError', 500, 'We encountered an internal error. Please try again.');
