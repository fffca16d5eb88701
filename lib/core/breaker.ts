/**
 * The circuit breaker: a trigger that rolls back release after release during a systemic problem
 * (a dependency down, a bad configuration every version shares) stops acting alone. When one
 * deployment group has been rolled back more than `maxRollbacks` times within `windowSeconds`, the
 * breaker opens: the next rollback decisions ask a human first (the approval gate) until a human
 * closes it (answering with `closeBreaker`) or `cooldownSeconds` pass. After the cooldown it is
 * half-open: the next decision acts alone; a rollback then opens it again, a success closes it.
 *
 * Pure functions of the stored record, shared by the state-change handler (which counts rollbacks
 * and successes), the evaluator (which asks before a rollback while the breaker is open) and the
 * simulator. The record lives in the state table and is written with a conditional write on its
 * `version` (optimistic locking), so concurrent events never lose a count.
 */

/** The breaker's settings, as the constructs configure them. */
export interface BreakerSettings {
  /** More rollbacks than this within the window open the breaker. */
  readonly maxRollbacks: number;
  readonly windowSeconds: number;
  /** How long an open breaker holds rollbacks for a human before it half-opens. */
  readonly cooldownSeconds: number;
}

/** The stored state of one deployment group's breaker. */
export interface BreakerRecord {
  /**
   * Rollbacks within the window: deployment id and epoch seconds, oldest first. Kept after a close
   * so a redelivered event is still recognised; only those after `clearedAt` count.
   */
  readonly rollbacks: ReadonlyArray<{ readonly deploymentId: string; readonly at: number }>;
  /** Epoch seconds the breaker (last) opened; absent while closed. */
  readonly openedAt?: number;
  /** Epoch seconds the breaker last closed: rollbacks before it no longer count. */
  readonly clearedAt?: number;
  /** Incremented on every write: the condition of the next one. 0 for a record never written. */
  readonly version: number;
}

export const EMPTY_BREAKER: BreakerRecord = { rollbacks: [], version: 0 };

export type BreakerState = 'closed' | 'open' | 'half-open';

/** A change of state, audited (`Circuit Opened`, `Circuit Closed`) and counted as a metric. */
export interface BreakerTransition {
  readonly to: 'open' | 'closed';
  readonly reason: string;
}

/** Why breaker settings cannot be used (whole positive numbers), or undefined. */
export function breakerSettingsProblem(b: Partial<BreakerSettings> | null): string | undefined {
  if (b === null || typeof b !== 'object') return 'that is not an object';
  for (const key of ['maxRollbacks', 'windowSeconds', 'cooldownSeconds'] as const) {
    const v = b[key];
    if (!(typeof v === 'number' && Number.isInteger(v) && v >= 1)) return `${key} ${JSON.stringify(v)}, expected a whole number of at least 1`;
  }
  return undefined;
}

/** Where the breaker stands at `now`. */
export function breakerState(record: BreakerRecord, now: number, settings: BreakerSettings): BreakerState {
  if (record.openedAt === undefined) return 'closed';
  return now < record.openedAt + settings.cooldownSeconds ? 'open' : 'half-open';
}

/**
 * Rollbacks still kept at `now`: within the window. No upper bound: another writer with a clock
 * ahead of this one may have stored a rollback this one's `now` has not reached yet.
 */
function kept(record: BreakerRecord, now: number, settings: BreakerSettings): BreakerRecord['rollbacks'] {
  return record.rollbacks.filter((r) => r.at > now - settings.windowSeconds);
}

/** The rollbacks that count toward opening: kept, and after the last close. */
function counted(record: BreakerRecord, now: number, settings: BreakerSettings): BreakerRecord['rollbacks'] {
  return kept(record, now, settings).filter((r) => record.clearedAt === undefined || r.at > record.clearedAt);
}

/** The record's fields besides the rollbacks, as they are. */
function rest(record: BreakerRecord): Pick<BreakerRecord, 'openedAt' | 'clearedAt'> {
  return { ...(record.openedAt !== undefined ? { openedAt: record.openedAt } : {}), ...(record.clearedAt !== undefined ? { clearedAt: record.clearedAt } : {}) };
}

/**
 * A deployment of the group failed or was stopped (rolled back): count it, and open the breaker on
 * the `maxRollbacks + 1`-th within the window, or again when it was half-open (the trial after the
 * cooldown rolled back). `at` is when the deployment ended, `now` the handler's clock; the breaker's
 * state is judged at `at`, so a rollback that ended while it was open but is delivered after the
 * cooldown does not count as the half-open trial. A repeat of the same deployment's event, or one
 * older than the window, changes nothing (undefined).
 */
export function recordRollback(
  record: BreakerRecord,
  deploymentId: string,
  at: number,
  now: number,
  settings: BreakerSettings,
): { record: BreakerRecord; transition?: BreakerTransition } | undefined {
  // A repeat, or an event redriven from the dead-letter queue after its window passed.
  if (record.rollbacks.some((r) => r.deploymentId === deploymentId) || at <= now - settings.windowSeconds) return undefined;
  const ended = Math.min(at, now);
  const rollbacks = [...kept(record, now, settings), { deploymentId, at: ended }].sort((a, b) => a.at - b.at);
  const next: BreakerRecord = { ...rest(record), rollbacks, version: record.version + 1 };
  const state = breakerState(record, ended, settings);
  if (state === 'open') return { record: next };
  if (state === 'half-open') {
    return { record: { ...next, openedAt: now }, transition: { to: 'open', reason: `deployment ${deploymentId} rolled back during the half-open trial after the cooldown` } };
  }
  const count = counted(next, now, settings);
  if (count.length > settings.maxRollbacks) {
    return {
      record: { ...next, openedAt: now },
      transition: {
        to: 'open',
        reason: `${count.length} rollbacks within ${formatWindow(settings.windowSeconds)} (more than ${settings.maxRollbacks}): ${count.map((r) => r.deploymentId).join(', ')}`,
      },
    };
  }
  return { record: next };
}

/**
 * A deployment of the group succeeded: after the cooldown (half-open), the breaker closes and the
 * count starts again; an open breaker before its cooldown stays open (a release a human let through
 * is not evidence the problem is gone). Undefined when nothing changes.
 */
export function recordSuccess(record: BreakerRecord, deploymentId: string, at: number, settings: BreakerSettings): { record: BreakerRecord; transition: BreakerTransition } | undefined {
  if (breakerState(record, at, settings) !== 'half-open') return undefined;
  return {
    record: { rollbacks: kept(record, at, settings), clearedAt: at, version: record.version + 1 },
    transition: { to: 'closed', reason: `deployment ${deploymentId} succeeded after the cooldown` },
  };
}

/** A human closed the breaker (answering an approval question with `closeBreaker`). Undefined when it was closed. */
export function closeByHuman(record: BreakerRecord, who: string | undefined, settings: BreakerSettings, now: number): { record: BreakerRecord; transition: BreakerTransition } | undefined {
  if (record.openedAt === undefined) return undefined;
  // The count starts again (the rollbacks that opened it must not reopen it on the next one); they
  // are kept so that a redelivered event of one of them is not counted again.
  return {
    record: { rollbacks: kept(record, now, settings), clearedAt: now, version: record.version + 1 },
    transition: { to: 'closed', reason: `closed by ${who ?? 'a human (the answer did not say who)'} after ${formatWindow(Math.max(0, now - record.openedAt))} open (cooldown ${formatWindow(settings.cooldownSeconds)})` },
  };
}

/** What the approval question says when the breaker holds a rollback. */
export function breakerQuestion(record: BreakerRecord, now: number, settings: BreakerSettings, why: string): string {
  const count = counted(record, now, settings).length;
  const until = new Date((record.openedAt! + settings.cooldownSeconds) * 1000).toISOString();
  const numbers =
    count > settings.maxRollbacks
      ? `${count} rollbacks of this deployment group within ${formatWindow(settings.windowSeconds)} (more than ${settings.maxRollbacks})`
      : `it opened again when the release after its cooldown was rolled back too (${count} rollback${count === 1 ? '' : 's'} within ${formatWindow(settings.windowSeconds)})`;
  return `The trigger would roll this release back (${why}), but its circuit breaker is open: ${numbers} — a problem every release shares is likely. It stays open until ${until} or until someone answers with --close-breaker.`;
}

/**
 * The breaker's metric: `CircuitOpen` (1 open, 0 closed) per deployment group, as one CloudWatch
 * embedded metric format line (CloudWatch Logs turns it into the metric: "Specification: Embedded
 * metric format"), written by whichever handler made the transition.
 */
export const CIRCUIT_METRIC = { namespace: 'RollbackTriggers', metricName: 'CircuitOpen', dimension: 'DeploymentGroup' } as const;

export function circuitMetricLine(deploymentGroupName: string, open: boolean, at: number): string {
  return JSON.stringify({
    _aws: {
      Timestamp: Math.round(at * 1000),
      CloudWatchMetrics: [{ Namespace: CIRCUIT_METRIC.namespace, Dimensions: [[CIRCUIT_METRIC.dimension]], Metrics: [{ Name: CIRCUIT_METRIC.metricName, Unit: 'Count' }] }],
    },
    [CIRCUIT_METRIC.dimension]: deploymentGroupName,
    [CIRCUIT_METRIC.metricName]: open ? 1 : 0,
  });
}

function formatWindow(seconds: number): string {
  if (seconds % 3_600 === 0) return `${seconds / 3_600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${Math.round(seconds)} s`;
}
