import type { AuditEvent } from '../../lib/core/audit-events';
import type { AuditSink } from './audit';
import { errorName } from './retry';

/**
 * Small runtime pieces the starter and the state-change handler share: lazily created SDK
 * clients, and an audit sink that can never throw.
 */

/** Something created on first use (an SDK client: its module is loaded only when needed). */
export type Lazy<T> = () => Promise<T>;

/** Memoizes an async factory; a failed creation is retried on the next call. */
export function once<T>(create: () => Promise<T>): Lazy<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= create().catch((e: unknown) => {
      pending = undefined;
      throw e;
    });
    return pending;
  };
}

/** The Lambda runtime's pause. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The Lambda runtime's audit sink: PutEvents to `eventBus`, its client and module loaded on first use. */
export function eventBridgeAuditOnFirstUse(eventBus: string, logger: HandlerLogger, pause: (ms: number) => Promise<void>): Lazy<AuditSink> {
  return once(async () => {
    const [{ EventBridgeClient }, { eventBridgeAudit }] = await Promise.all([import('@aws-sdk/client-eventbridge'), import('./audit.js')]);
    return eventBridgeAudit(new EventBridgeClient({}), eventBus, logger, pause);
  });
}

/** The part of the Lambda context the handlers use. */
export interface RemainingTime {
  getRemainingTimeInMillis(): number;
}

/**
 * Epoch seconds at which an invocation's budget ends: the Lambda context's remaining time (or
 * `defaultBudgetMs` without a context), less `reserveMs` kept for what must still happen.
 */
export function budgetEnd(now: number, context: RemainingTime | undefined, defaultBudgetMs = 60_000, reserveMs = 0): number {
  return now + ((context?.getRemainingTimeInMillis() ?? defaultBudgetMs) - reserveMs) / 1000;
}

/** The log methods the handlers use (Powertools' Logger has them); also fits the audit sink's logger. */
export interface HandlerLogger {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

/** Adapts Powertools' Logger (whose `extra` parameters are variadic) to {@link HandlerLogger}. */
export function handlerLogger(logger: {
  info(message: string, ...extra: Array<Record<string, unknown>>): void;
  warn(message: string, ...extra: Array<Record<string, unknown>>): void;
  error(message: string, ...extra: Array<Record<string, unknown>>): void;
}): HandlerLogger {
  return {
    info: (message, extra) => (extra ? logger.info(message, extra) : logger.info(message)),
    warn: (message, extra) => (extra ? logger.warn(message, extra) : logger.warn(message)),
    error: (message, extra) => (extra ? logger.error(message, extra) : logger.error(message)),
  };
}

/**
 * An audit sink that never throws and never loses a record: whatever the inner sink (or loading
 * it) throws, each event is written as an `auditFallback` log line. An audit failure never delays
 * or flips a decision (DESIGN.md, "Audit events").
 */
export function neverThrowing(sink: AuditSink | Lazy<AuditSink>, logger: Pick<HandlerLogger, 'error'>): AuditSink {
  return {
    async publish(events: readonly AuditEvent[]) {
      try {
        const target = typeof sink === 'function' ? await sink() : sink;
        await target.publish(events);
      } catch (e) {
        for (const event of events) logger.error('audit event not delivered', { auditFallback: event, error: errorName(e) });
      }
    },
  };
}
