/**
 * Retries AWS calls that failed for a passing reason: throttling, 5xx, timeouts, and AccessDenied
 * right after a deploy (IAM changes take a few seconds to propagate). The SDK's own retry covers
 * part of this; this loop also covers what it does not retry (AccessDenied) and keeps the
 * evaluator's behaviour explicit and testable.
 */
export interface RetryOptions {
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  /**
   * Also retry AccessDenied (IAM propagation right after a deploy). Safe for reads, and for the
   * hook report, which a denied call never applied (a repeat fails as already completed).
   */
  readonly retryAccessDenied?: boolean;
}

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'RequestThrottledException',
]);
const TRANSIENT = new Set(['InternalFailure', 'InternalServerError', 'ServiceUnavailable', 'ServiceUnavailableException', 'TimeoutError', 'RequestTimeout', 'ECONNRESET', 'ETIMEDOUT']);
const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);

export function errorName(e: unknown): string {
  const err = e as { name?: string; code?: string } | undefined;
  return err?.name ?? err?.code ?? 'Error';
}

export function isRetryable(e: unknown, retryAccessDenied = false): boolean {
  const err = e as { name?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown } | undefined;
  const name = errorName(e);
  const status = err?.$metadata?.httpStatusCode;
  return (
    THROTTLING.has(name) ||
    TRANSIENT.has(name) ||
    err?.$retryable !== undefined ||
    (status !== undefined && status >= 500) ||
    (retryAccessDenied && ACCESS_DENIED.has(name))
  );
}

export async function withRetry<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  let attempt = 0;
  for (;;) {
    try {
      return await call();
    } catch (e) {
      attempt++;
      if (attempt >= options.attempts || !isRetryable(e, options.retryAccessDenied)) throw e;
      // Full jitter keeps concurrent evaluators from retrying in lockstep.
      await options.sleep(Math.random() * options.baseDelayMs * 2 ** (attempt - 1));
    }
  }
}
