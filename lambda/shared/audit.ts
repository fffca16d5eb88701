import { EventBridgeClient, PutEventsCommand, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { AuditEvent } from '../../lib/core';

// PutEvents: at most 10 entries per call; failures are reported per entry. Only InternalFailure and
// ThrottlingException are worth retrying (EventBridge PutEvents API reference).
const RETRYABLE_ENTRY_ERRORS = new Set(['InternalFailure', 'ThrottlingException']);
const MAX_ENTRIES = 10;

export interface AuditSink {
  publish(events: readonly AuditEvent[]): Promise<void>;
}

/**
 * Publishes audit events and never throws: what cannot be delivered after a few tries is written
 * as a structured `auditFallback` log line, so no record is lost and no decision waits on it.
 */
export function eventBridgeAudit(client: EventBridgeClient, busName: string, logger: Logger, sleep: (ms: number) => Promise<void>, attempts = 3): AuditSink {
  return {
    async publish(events) {
      for (let i = 0; i < events.length; i += MAX_ENTRIES) {
        let pending = events.slice(i, i + MAX_ENTRIES);
        for (let attempt = 1; pending.length > 0; attempt++) {
          const entries: PutEventsRequestEntry[] = pending.map((e) => ({
            EventBusName: busName,
            Source: e.source,
            DetailType: e.detailType,
            Detail: JSON.stringify(e.detail),
          }));
          let retry: AuditEvent[] = [];
          try {
            const result = await client.send(new PutEventsCommand({ Entries: entries }));
            const failed = (result.Entries ?? []).map((entry, index) => ({ entry, event: pending[index] })).filter((x) => x.entry.ErrorCode);
            retry = failed.filter((x) => RETRYABLE_ENTRY_ERRORS.has(x.entry.ErrorCode!)).map((x) => x.event);
            for (const f of failed.filter((x) => !RETRYABLE_ENTRY_ERRORS.has(x.entry.ErrorCode!))) {
              logger.error('audit event rejected', { auditFallback: f.event, errorCode: f.entry.ErrorCode, errorMessage: f.entry.ErrorMessage });
            }
          } catch (e) {
            retry = pending;
            logger.warn('PutEvents failed', { error: (e as Error).name, attempt });
          }
          if (retry.length > 0 && attempt >= attempts) {
            for (const event of retry) logger.error('audit event not delivered', { auditFallback: event });
            retry = [];
          }
          if (retry.length > 0) await sleep(100 * 2 ** attempt);
          pending = retry;
        }
      }
    },
  };
}
