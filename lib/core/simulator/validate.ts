import { MAX_EMULATED_MINUTES } from '../emulator';
import { ROLLBACK_TRIGGER_DEFAULTS } from '../defaults';
import { RollbackTriggersError, formatNumber } from '../errors';
import { HOOK_LIMIT_SECONDS } from '../evaluator-config';
import type { DeploymentShape, EvaluatorSettings, HeartbeatMinute, MinuteCounts, SeriesEntry } from './types';

/**
 * Checks of the simulator's input. Every message names the entry, its minute and the field, so a
 * user can find the line in the file they exported. Codes (RT7xx, the simulator's range):
 *
 * - RT701 the series is not a non-empty array of entries
 * - RT702 a minute is not a whole number, or minutes do not increase strictly
 * - RT703 a count is not a whole number ≥ 0 (negative, fractional, missing), heartbeat beats included
 * - RT704 errors above requests
 * - RT705 slow or failures above requests
 * - RT706 slow missing while a latency SLO needs it, or failures missing while a business-failure SLO needs it
 * - RT707 the release minute is not a whole number or is before the series' first entry, or the
 *   replay from the first entry to the end of the deployment exceeds 60 days (see {@link validateRelease})
 * - RT708 the deployment shape is invalid (kind, percent outside (0, 100), interval, bake < 0)
 * - RT709 the policy is not a rollback policy document (an object)
 * - RT710 evaluator settings or ingestion delay out of range
 * - RT711 a Synthetics value is not a number from 0 to 100 (a run's SuccessPercent), or `synthetics`
 *   is not an object of canary names
 *
 * The policy's own checks are in simulate.ts, one code per problem: RT717 no SLO, RT718 a
 * `rollbackTrigger` the policy does not hold, RT719 a rollback alarm naming an SLO it does not hold,
 * RT720 a trigger without alarms, RT721 no SLO with a page tier, RT722 a baseline that cannot be
 * replayed, RT723 malformed health checks, RT724 a trigger without a field the constructs always
 * write, RT725 breakerOpen without a circuit breaker, RT726 a heartbeat whose period is not whole
 * minutes (heartbeat-alarm.ts). RT712–RT716 are the CLI's (lib/cli/input-error.ts).
 */

/** The evaluator a RollbackTrigger configures by default (lib/core/defaults.ts). */
export const DEFAULT_EVALUATOR_SETTINGS: EvaluatorSettings = Object.freeze({
  tickSeconds: ROLLBACK_TRIGGER_DEFAULTS.tickSeconds,
  metricDelaySeconds: ROLLBACK_TRIGGER_DEFAULTS.metricDelaySeconds,
  inconclusiveAction: ROLLBACK_TRIGGER_DEFAULTS.inconclusiveAction,
  compareWithBaseline: ROLLBACK_TRIGGER_DEFAULTS.compareWithBaseline,
  deadlineMarginSeconds: HOOK_LIMIT_SECONDS - ROLLBACK_TRIGGER_DEFAULTS.deadlineSeconds,
});

type Stream = 'blended' | 'canary' | 'stable';

/**
 * Validates the series: whole, strictly increasing minutes; whole counts ≥ 0; errors, slow and
 * failures ≤ requests. `needsSlow` (a latency SLO) and `needsFailures` (a business-failure SLO)
 * make that count required on every entry and every per-version part.
 */
export function validateSeries(series: readonly SeriesEntry[], needsSlow: boolean, needsFailures = false): void {
  if (!Array.isArray(series) || series.length === 0) {
    throw new RollbackTriggersError(
      'RT701',
      `the series must be a non-empty array of { minute, requests, errors, slow?, failures?, stable?, canary?, synthetics? } entries, got ${describe(series)}`,
    );
  }
  const needs: Needs = { slow: needsSlow, failures: needsFailures };
  let previous: number | undefined;
  series.forEach((entry, i) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new RollbackTriggersError('RT701', `series entry ${i}: must be an object { minute, requests, errors, … }, got ${describe(entry)}`);
    }
    const minute = entry.minute;
    if (typeof minute !== 'number' || !Number.isSafeInteger(minute)) {
      throw new RollbackTriggersError('RT702', `series entry ${i}: minute must be a whole number, got ${describe(minute)}`);
    }
    if (previous !== undefined && minute <= previous) {
      throw new RollbackTriggersError('RT702', `series entry ${i} (minute ${minute}): minutes must increase strictly, got ${minute} after ${previous}`);
    }
    previous = minute;
    const where = `series entry ${i} (minute ${minute})`;
    validateCounts(where, 'blended', entry, needs);
    for (const stream of ['canary', 'stable'] as const) {
      const counts = entry[stream];
      if (counts === undefined) continue;
      if (counts === null || typeof counts !== 'object' || Array.isArray(counts)) {
        throw new RollbackTriggersError('RT701', `${where}: ${stream} must be an object { requests, errors, slow?, failures? }, got ${describe(counts)}`);
      }
      validateCounts(where, stream, counts, needs);
    }
    if (entry.synthetics !== undefined) validateSynthetics(where, entry.synthetics);
    if (entry.heartbeats !== undefined) validateHeartbeats(where, entry.heartbeats);
  });
}

/** One minute's heartbeats: heartbeat name → { canary?, stable?, blended? }, each a whole number of beats ≥ 0. */
function validateHeartbeats(where: string, heartbeats: Readonly<Record<string, HeartbeatMinute>>): void {
  if (heartbeats === null || typeof heartbeats !== 'object' || Array.isArray(heartbeats)) {
    throw new RollbackTriggersError('RT703', `${where}: heartbeats must be an object { heartbeatName: { canary?, stable?, blended? } } of beat counts, got ${describe(heartbeats)}`);
  }
  for (const [name, minute] of Object.entries(heartbeats)) {
    if (minute === null || typeof minute !== 'object' || Array.isArray(minute)) {
      throw new RollbackTriggersError('RT703', `${where}: heartbeats.${name} must be an object { canary?, stable?, blended? } of beat counts, got ${describe(minute)}`);
    }
    for (const [stream, value] of Object.entries(minute)) {
      if (stream !== 'canary' && stream !== 'stable' && stream !== 'blended') {
        throw new RollbackTriggersError('RT703', `${where}: heartbeats.${name}.${stream} is not a stream: give canary, stable or blended beats`);
      }
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
        throw new RollbackTriggersError('RT703', `${where}: heartbeats.${name}.${stream} must be a whole number of beats ≥ 0, got ${describe(value)}`);
      }
    }
  }
}

/** One minute's Synthetics runs: canary name → SuccessPercent, a number from 0 to 100. */
function validateSynthetics(where: string, synthetics: Readonly<Record<string, number>>): void {
  if (synthetics === null || typeof synthetics !== 'object' || Array.isArray(synthetics)) {
    throw new RollbackTriggersError('RT711', `${where}: synthetics must be an object { canaryName: SuccessPercent }, got ${describe(synthetics)}`);
  }
  for (const [canary, value] of Object.entries(synthetics)) {
    if (canary === '') throw new RollbackTriggersError('RT711', `${where}: synthetics has an empty canary name; name each canary as its CanaryName dimension does`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 100) {
      throw new RollbackTriggersError(
        'RT711',
        `${where}: synthetics.${canary} must be a number from 0 to 100 (the SuccessPercent of the canary's run that minute), got ${describe(value)}`,
      );
    }
  }
}

/** The optional counts an SLO of the policy reads its bad events from. */
interface Needs {
  readonly slow: boolean;
  readonly failures: boolean;
}

/** Why a missing optional count is needed (RT706), per field. */
const NEEDED_BY = {
  slow: 'a latency SLO of the policy counts slow requests — give slow (requests over the latency threshold) on every entry',
  failures:
    'a business-failure SLO of the policy counts failed business operations, not errors — give failures (business operations that failed among requests) on every entry',
} as const;

function validateCounts(where: string, stream: Stream, counts: MinuteCounts, needs: Needs): void {
  const field = (name: string) => (stream === 'blended' ? name : `${stream}.${name}`);
  for (const name of ['requests', 'errors', 'slow', 'failures'] as const) {
    const value = counts[name];
    if ((name === 'slow' || name === 'failures') && value === undefined) {
      if (needs[name]) throw new RollbackTriggersError('RT706', `${where}: ${field(name)} is missing, but ${NEEDED_BY[name]}`);
      continue;
    }
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
      throw new RollbackTriggersError('RT703', `${where}: ${field(name)} must be a whole number ≥ 0, got ${describe(value)}`);
    }
  }
  if (counts.errors > counts.requests) {
    throw new RollbackTriggersError('RT704', `${where}: ${field('errors')} (${counts.errors}) must not exceed ${field('requests')} (${counts.requests})`);
  }
  for (const name of ['slow', 'failures'] as const) {
    const value = counts[name];
    if (value !== undefined && value > counts.requests) {
      throw new RollbackTriggersError('RT705', `${where}: ${field(name)} (${value}) must not exceed ${field('requests')} (${counts.requests})`);
    }
  }
}

/**
 * The release minute: a whole number, on the series' clock, not before its first entry. It may lie
 * after the last entry: a series that ends before the release is how an export says that no
 * datapoint arrived after it (a metric pipeline gone dark), and the replay judges exactly that — no
 * data. A release before the first entry is rejected: nothing says what the service did until the
 * series starts, so the minutes from the release on would be judged on invented silence. One replay
 * runs from the first entry to the end of the deployment and emulates at most
 * {@link MAX_EMULATED_MINUTES} (60 days): the release must come less than that after the first
 * entry (`simulate` checks the whole span once the deployment's end is known).
 */
export function validateRelease(releaseMinute: number, series: readonly SeriesEntry[]): void {
  const first = series[0].minute;
  const last = series[series.length - 1].minute;
  if (typeof releaseMinute !== 'number' || !Number.isSafeInteger(releaseMinute)) {
    throw new RollbackTriggersError('RT707', `releaseMinute must be a whole number, got ${describe(releaseMinute)}`);
  }
  if (releaseMinute < first) {
    throw new RollbackTriggersError(
      'RT707',
      `releaseMinute ${releaseMinute} is before the series, which runs from minute ${first} to minute ${last}: give a release at or after the first entry`,
    );
  }
  if (releaseMinute - first >= MAX_EMULATED_MINUTES) {
    throw new RollbackTriggersError(
      'RT707',
      `releaseMinute ${releaseMinute} is ${releaseMinute - first} minutes after the series' first entry (minute ${first}); one replay covers less than ${MAX_EMULATED_MINUTES} minutes (60 days) from there — drop older entries`,
    );
  }
}

export function validateShape(shape: DeploymentShape): void {
  if (shape === null || typeof shape !== 'object') {
    throw new RollbackTriggersError('RT708', `deployment must be an object { kind, percent?, intervalMinutes?, bakeMinutes }, got ${describe(shape)}`);
  }
  if (shape.kind !== 'all-at-once' && shape.kind !== 'canary' && shape.kind !== 'linear') {
    throw new RollbackTriggersError('RT708', `deployment.kind must be all-at-once, canary or linear, got ${describe(shape.kind)}`);
  }
  if (shape.kind !== 'all-at-once') {
    const p = shape.percent;
    if (typeof p !== 'number' || !Number.isFinite(p) || p <= 0 || p >= 100) {
      throw new RollbackTriggersError(
        'RT708',
        `deployment.percent must be above 0 and below 100 for a ${shape.kind} deployment (share of traffic ${shape.kind === 'canary' ? 'during the canary step' : 'added every step'}), got ${describe(p)}`,
      );
    }
    const i = shape.intervalMinutes;
    if (typeof i !== 'number' || !Number.isSafeInteger(i) || i < 1) {
      throw new RollbackTriggersError('RT708', `deployment.intervalMinutes must be a whole number of at least 1 for a ${shape.kind} deployment, got ${describe(i)}`);
    }
  }
  const bake = shape.bakeMinutes;
  if (typeof bake !== 'number' || !Number.isFinite(bake) || bake < 0) {
    throw new RollbackTriggersError('RT708', `deployment.bakeMinutes must be a number ≥ 0, got ${describe(bake)}`);
  }
}

/** Resolves the evaluator settings: given ones, then the rollback trigger's, then the library defaults. */
export function resolveSettings(
  given: Partial<EvaluatorSettings> | undefined,
  trigger: { inconclusiveAction: 'fail' | 'pass'; deadlineSeconds: number; baselineFactor: number } | undefined,
): EvaluatorSettings {
  const s: EvaluatorSettings = {
    tickSeconds: given?.tickSeconds ?? DEFAULT_EVALUATOR_SETTINGS.tickSeconds,
    metricDelaySeconds: given?.metricDelaySeconds ?? DEFAULT_EVALUATOR_SETTINGS.metricDelaySeconds,
    inconclusiveAction: given?.inconclusiveAction ?? trigger?.inconclusiveAction ?? DEFAULT_EVALUATOR_SETTINGS.inconclusiveAction,
    compareWithBaseline: given?.compareWithBaseline ?? DEFAULT_EVALUATOR_SETTINGS.compareWithBaseline,
    // The trigger's own deadline, as its evaluator applies it (hook start + deadline).
    deadlineMarginSeconds: given?.deadlineMarginSeconds ?? (trigger ? HOOK_LIMIT_SECONDS - trigger.deadlineSeconds : DEFAULT_EVALUATOR_SETTINGS.deadlineMarginSeconds),
    // The trigger's evaluator factor as the construct configures it (the policy records it); with
    // no trigger, the burn rate alone.
    baselineFactor: given?.baselineFactor ?? trigger?.baselineFactor ?? 0,
  };
  if (typeof s.tickSeconds !== 'number' || !Number.isFinite(s.tickSeconds) || s.tickSeconds < 1) {
    throw new RollbackTriggersError('RT710', `evaluator.tickSeconds must be a number of at least 1, got ${describe(s.tickSeconds)}`);
  }
  if (typeof s.metricDelaySeconds !== 'number' || !Number.isFinite(s.metricDelaySeconds) || s.metricDelaySeconds < 0) {
    throw new RollbackTriggersError('RT710', `evaluator.metricDelaySeconds must be a number ≥ 0, got ${describe(s.metricDelaySeconds)}`);
  }
  if (typeof s.deadlineMarginSeconds !== 'number' || !Number.isFinite(s.deadlineMarginSeconds) || s.deadlineMarginSeconds < 0 || s.deadlineMarginSeconds >= HOOK_LIMIT_SECONDS) {
    throw new RollbackTriggersError(
      'RT710',
      `evaluator.deadlineMarginSeconds must be ≥ 0 and below CodeDeploy's ${HOOK_LIMIT_SECONDS} s hook limit, got ${describe(s.deadlineMarginSeconds)}`,
    );
  }
  if (s.inconclusiveAction !== 'fail' && s.inconclusiveAction !== 'pass') {
    throw new RollbackTriggersError('RT710', `evaluator.inconclusiveAction must be fail or pass, got ${describe(s.inconclusiveAction)}`);
  }
  if (typeof s.compareWithBaseline !== 'boolean') {
    throw new RollbackTriggersError('RT710', `evaluator.compareWithBaseline must be true or false, got ${describe(s.compareWithBaseline)}`);
  }
  return s;
}

export function validateIngestionDelay(value: number): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new RollbackTriggersError('RT710', `ingestionDelayMinutes must be a whole number ≥ 0, got ${describe(value)}`);
  }
}

function describe(value: unknown): string {
  if (typeof value === 'number') return formatNumber(value);
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
