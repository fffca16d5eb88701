import { type EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import type { AuditEvent, AuditEventDetail } from '../../lib/core/audit-events';

// PutEvents: at most 10 entries per call; failures are reported per entry. Only InternalFailure and
// ThrottlingException are worth retrying (EventBridge PutEvents API reference).
const RETRYABLE_ENTRY_ERRORS = new Set(['InternalFailure', 'ThrottlingException']);
const MAX_ENTRIES = 10;
/**
 * An entry, and a whole request, must be under 256 KB, measured as EventBridge does: the UTF-8
 * bytes of Source, DetailType, Detail and each Resources entry, plus 14 for Time ("Calculating
 * PutEvents event entry size", EventBridge user guide).
 */
export const PUT_EVENTS_MAX_BYTES = 256 * 1024 - 1;

/** The two log methods the audit needs (Powertools' Logger has them). */
export interface AuditLogger {
  warn(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
}

export interface AuditSink {
  publish(events: readonly AuditEvent[]): Promise<void>;
}

const utf8 = (s: string | undefined) => (s === undefined ? 0 : Buffer.byteLength(s, 'utf8'));

/** The size EventBridge counts for one entry. */
export function entrySize(entry: Pick<PutEventsRequestEntry, 'Source' | 'DetailType' | 'Detail' | 'Resources' | 'Time'>): number {
  return (entry.Time ? 14 : 0) + utf8(entry.Source) + utf8(entry.DetailType) + utf8(entry.Detail) + (entry.Resources ?? []).reduce((n, r) => n + utf8(r), 0);
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}… [${s.length - max} characters cut]`;
}

/**
 * Fits an event under the PutEvents limit instead of failing on it (a rejected entry is never
 * delivered, and retrying it cannot help): long reasons are cut, then fewer are kept; the numbers
 * (verdict, status, observations, ids) stay; `trimmed: true` marks the record.
 */
export function fitEvent(event: AuditEvent, limit: number = PUT_EVENTS_MAX_BYTES): { event: AuditEvent; trimmed: boolean } {
  const size = (detail: object) => entrySize({ Source: event.source, DetailType: event.detailType, Detail: JSON.stringify(detail) });
  if (size(event.detail) <= limit) return { event, trimmed: false };
  const d = event.detail;
  const shrink = (reasonChars: number, reasonCount: number, withObservations: boolean): AuditEventDetail => {
    const kept = d.reasons.slice(0, reasonCount).map((r) => clip(r, reasonChars));
    const { observations, errorMessage, alarmNames, ...rest } = d;
    return {
      ...rest,
      reasons: kept,
      ...(errorMessage !== undefined ? { errorMessage: clip(errorMessage, reasonChars) } : {}),
      ...(alarmNames !== undefined ? { alarmNames: alarmNames.slice(0, reasonCount).map((a) => clip(a, 256)) } : {}),
      ...(withObservations && observations !== undefined ? { observations } : {}),
      trimmed: true,
      trimmedReasons: d.reasons.length - kept.length,
    };
  };
  for (const [chars, count] of [
    [2_000, 100],
    [500, 20],
    [200, 5],
  ] as const) {
    const detail = shrink(chars, count, true);
    if (size(detail) <= limit) return { event: { ...event, detail }, trimmed: true };
  }
  // Only absurd observation lists get here: keep the decision itself.
  return { event: { ...event, detail: shrink(200, 1, false) }, trimmed: true };
}

/**
 * Publishes audit events and never throws: what cannot be delivered after a few tries is written
 * as a structured `auditFallback` log line, so no record is lost and no decision waits on it.
 * Entries over the size limit are trimmed first; requests are batched under both PutEvents limits.
 */
export function eventBridgeAudit(client: EventBridgeClient, busName: string, logger: AuditLogger, sleep: (ms: number) => Promise<void>, attempts = 3): AuditSink {
  const toEntry = (e: AuditEvent): PutEventsRequestEntry => ({ EventBusName: busName, Source: e.source, DetailType: e.detailType, Detail: JSON.stringify(e.detail) });
  return {
    async publish(events) {
      const fitted = events.map((e) => {
        const { event, trimmed } = fitEvent(e);
        if (trimmed) logger.warn('audit event trimmed to fit PutEvents', { detailType: e.detailType, idempotencyKey: e.detail.idempotencyKey, originalBytes: entrySize(toEntry(e)) });
        return event;
      });
      for (const batch of batches(fitted, toEntry)) {
        let pending = batch;
        for (let attempt = 1; pending.length > 0; attempt++) {
          let retry: AuditEvent[] = [];
          try {
            const result = await client.send(new PutEventsCommand({ Entries: pending.map(toEntry) }));
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

/** Groups events into requests of ≤ 10 entries and < 256 KB in all. */
function batches(events: readonly AuditEvent[], toEntry: (e: AuditEvent) => PutEventsRequestEntry): AuditEvent[][] {
  const out: AuditEvent[][] = [];
  let current: AuditEvent[] = [];
  let bytes = 0;
  for (const e of events) {
    const size = entrySize(toEntry(e));
    if (current.length > 0 && (current.length >= MAX_ENTRIES || bytes + size > PUT_EVENTS_MAX_BYTES)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(e);
    bytes += size;
  }
  if (current.length > 0) out.push(current);
  return out;
}
