/**
 * Errors raised by the pure core. Each carries a stable code (`RT1xx` for SLO
 * arithmetic, `RT2xx` for CloudWatch limits) so users and tests can match on it
 * and documentation can explain it.
 */
export class RollbackTriggersError extends Error {
  public readonly code: string;

  constructor(code: string, message: string) {
    super(`[${code}] ${message}`);
    this.code = code;
    this.name = 'RollbackTriggersError';
  }
}

/** Renders a number the way a user typed it, without float noise (0.1 + 0.2 → 0.3). */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toPrecision(12)));
}

/** Renders seconds as the largest exact unit: 3600 → "1 h", 300 → "5 min", 90 → "90 s". */
export function formatSeconds(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds % 3_600 === 0) return `${seconds / 3_600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${formatNumber(seconds)} s`;
}
