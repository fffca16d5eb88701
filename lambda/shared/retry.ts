/**
 * Retries AWS calls that failed for a passing reason: throttling, 5xx, timeouts, and AccessDenied
 * right after a deploy (IAM changes take a few seconds to propagate). The SDK's own retry covers
 * part of this; this loop also covers what it does not retry (AccessDenied) and keeps the
 * handlers' behaviour explicit and testable.
 *
 * Retries are bounded by time (`deadline`), not only by a count: a read at the last tick of a bake
 * may retry as long as the hook's budget allows ("Evidence, or it is not a pass", DESIGN.md).
 */
export interface RetryOptions {
  /** Attempts in all, the first included. @default 5 without a deadline, unbounded (but capped at 100) with one */
  readonly attempts?: number;
  readonly baseDelayMs: number;
  /** The longest pause between two attempts. @default 5000 */
  readonly maxDelayMs?: number;
  readonly sleep: (ms: number) => Promise<void>;
  /**
   * No attempt starts after this instant (epoch seconds on `now`): the error of the last attempt is
   * thrown instead.
   */
  readonly deadline?: number;
  /** Epoch seconds; needed with `deadline`. @default Date.now() / 1000 */
  readonly now?: () => number;
  /**
   * Also retry AccessDenied (IAM propagation right after a deploy). Safe for reads, and for the
   * hook report, which a denied call never applied (a repeat fails as already completed).
   */
  readonly retryAccessDenied?: boolean;
  /** Called before each pause, with the error that caused it (logging). */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
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
/**
 * Node's network errors arrive as a plain `Error` whose `code` says what failed: the request may
 * never have reached the service. Worth a retry.
 */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_SOCKET']);
/** A loop bounded by a deadline alone still ends if the clock stands still. */
const MAX_ATTEMPTS_WITH_DEADLINE = 100;

export function errorName(e: unknown): string {
  const err = e as { name?: string; code?: string } | undefined;
  return err?.name ?? err?.code ?? 'Error';
}

export function isAccessDenied(e: unknown): boolean {
  return ACCESS_DENIED.has(errorName(e));
}

export function isRetryable(e: unknown, retryAccessDenied = false): boolean {
  const err = e as { name?: string; code?: unknown; $metadata?: { httpStatusCode?: number }; $retryable?: unknown } | undefined;
  const name = errorName(e);
  const status = err?.$metadata?.httpStatusCode;
  return (
    THROTTLING.has(name) ||
    TRANSIENT.has(name) ||
    (typeof err?.code === 'string' && NETWORK_CODES.has(err.code)) ||
    err?.$retryable !== undefined ||
    (status !== undefined && status >= 500) ||
    (retryAccessDenied && ACCESS_DENIED.has(name))
  );
}

/**
 * Options that retry until `deadline` (epoch seconds on `clock.now`), AccessDenied included: right
 * after a deploy the handler's IAM policy may not have propagated yet.
 */
export function retryUntil(
  deadline: number,
  clock: Pick<RetryOptions, 'sleep'> & { readonly now: () => number },
  onRetry: RetryOptions['onRetry'],
  baseDelayMs = 200,
): RetryOptions {
  return { baseDelayMs, sleep: clock.sleep, now: clock.now, deadline, retryAccessDenied: true, onRetry };
}

export async function withRetry<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  const now = options.now ?? (() => Date.now() / 1000);
  const attempts = options.attempts ?? (options.deadline === undefined ? 5 : MAX_ATTEMPTS_WITH_DEADLINE);
  const maxDelayMs = options.maxDelayMs ?? 5_000;
  let attempt = 0;
  for (;;) {
    try {
      return await call();
    } catch (e) {
      attempt++;
      if (attempt >= attempts || !isRetryable(e, options.retryAccessDenied)) throw e;
      // Equal jitter: concurrent callers do not retry in lockstep, and every pause moves time on.
      const cap = Math.min(maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
      const delayMs = cap / 2 + (Math.random() * cap) / 2;
      if (options.deadline !== undefined && now() + delayMs / 1000 > options.deadline) throw e;
      options.onRetry?.(e, attempt, delayMs);
      await options.sleep(delayMs);
    }
  }
}
