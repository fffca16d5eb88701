import type { ErrorCode } from './error-codes';

/** Where an error points, besides its code: the construct and the prop the user wrote. */
export interface ErrorContext {
  /** The construct path (`Stack/CheckoutSlo`), put in front of the message. */
  readonly constructPath?: string;
  /** The prop, field or input at fault (`objectivePercent`). */
  readonly prop?: string;
}

/**
 * Errors raised by the library. Each carries a registered code (lib/core/error-codes.ts, listed in
 * docs/errors.md) so users and tests can match on it, and where known the construct path and the
 * prop at fault, so tools need not parse the message.
 */
export class RollbackTriggersError extends Error {
  public readonly code: ErrorCode;
  public readonly constructPath?: string;
  public readonly prop?: string;
  /** The message without the code and the construct path, to re-throw it with more context. */
  public readonly detail: string;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}) {
    super(errorText(code, context.constructPath === undefined ? message : `${context.constructPath}: ${message}`));
    this.code = code;
    this.detail = message;
    this.constructPath = context.constructPath;
    this.prop = context.prop;
    this.name = 'RollbackTriggersError';
  }
}

/**
 * A message in the coded form every error of the library uses, `[RT306] message`: for
 * `node.addValidation`, whose strings CDK prints as they are.
 */
export function errorText(code: ErrorCode, message: string): string {
  return `[${code}] ${message}`;
}

/** Renders a number the way a user typed it, without float noise (0.1 + 0.2 → 0.3). */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toPrecision(12)));
}

/** Renders seconds as the largest exact unit: 3600 → "1 h", 300 → "5 min", 90 → "90 s". */
export function formatSeconds(seconds: number): string {
  if (seconds === 0) return '0 s';
  if (seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds % 3_600 === 0) return `${seconds / 3_600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${formatNumber(seconds)} s`;
}
