import { RollbackTriggersError } from '../errors';

/**
 * One arm's events on the judged minutes: `bad` of `total` (errors of requests, or requests
 * slower than the latency threshold), the same `total`/`bad` names the simulator's series use.
 */
export interface ProportionCounts {
  readonly total: number;
  readonly bad: number;
}

/** Throws unless `counts` are whole numbers with 0 ≤ bad ≤ total. */
export function validateCounts(counts: ProportionCounts, arm: string): void {
  const { total, bad } = counts ?? ({} as ProportionCounts);
  for (const [field, value] of [['total', total], ['bad', bad]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RollbackTriggersError('RT601', `${arm}.${field} must be a whole number ≥ 0, got ${String(value)}`);
    }
  }
  if (bad > total) {
    throw new RollbackTriggersError('RT601', `${arm}.bad must not exceed ${arm}.total, got ${bad} bad of ${total}`);
  }
}
