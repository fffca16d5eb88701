import type { TickClock } from '../../lib/core/bake';
import type { ReadProblem, SloBakeData } from '../../lib/core/decision';
import type { EvaluatorConfig } from '../../lib/core/evaluator-config';
import { type ArmScope, type QueryResult, type ReadQuery, bakeDataFor, buildHealthQueries, buildMetricQueries } from '../../lib/core/metric-queries';
import { HISTORY_SECONDS } from '../../lib/core/windows';
import type { MetricRead } from '../shared/metrics';
import { errorName, isAccessDenied, withRetry } from '../shared/retry';
import { type StepRuntime, clip } from './runtime';

/** CloudWatch messages kept in a report (the state and the audit entry have size limits). */
const MAX_NOTES = 20;

/**
 * The tick's one read: every SLO on both arms, the Synthetics health checks and `extra` queries
 * (the bake's heartbeats) in one GetMetricData request, retried within the step's budget on a
 * failed call and on results answered InternalError. Returns the read (with whatever statuses
 * remain), or why the call failed.
 */
export async function readTick(
  rt: StepRuntime,
  arms: readonly ArmScope[],
  windowStart: number,
  clock: TickClock,
  until: number,
  extra: readonly ReadQuery[] = [],
): Promise<{ read?: MetricRead; failure?: ReadProblem }> {
  const queries = [...buildMetricQueries(rt.config, arms), ...buildHealthQueries(rt.config), ...extra];
  // From an hour before the release: the current version's own history is the baseline of
  // minutes the new version serves alone, and says whether the service was already paging.
  const start = windowStart - HISTORY_SECONDS;
  const [{ readMetrics }, client] = await Promise.all([import('../shared/metrics.js'), rt.cloudwatch()]);
  let last: MetricRead | undefined;
  try {
    const read = await withRetry(async () => {
      // Bounded by the step's budget: a hanging request is aborted at `until`, never a pass.
      const read = await readMetrics(client, queries, start, clock.end, { nowSeconds: clock.now, until, clock: rt.deps.now });
      last = read;
      const internal = [...read.results].filter(([, r]) => r.status === 'InternalError').map(([id]) => id);
      if (internal.length > 0) {
        throw Object.assign(new Error(`GetMetricData answered InternalError for ${internal.join(', ')}`), { name: 'InternalError', $retryable: {} });
      }
      return read;
    }, rt.retry(until));
    return { read };
  } catch (e) {
    // The retries ran out on results still answered InternalError: use them (they are not evidence).
    if (last && errorName(e) === 'InternalError') return { read: last };
    const reason = rt.expected(e);
    // AccessDenied that outlived the retries is a configuration error: waiting will not fix it.
    return { failure: { permanent: isAccessDenied(e), reason: `GetMetricData failed (${reason})` } };
  }
}

/**
 * Each SLO's data on each arm; when the call itself failed, nothing of this tick is evidence.
 * `allTrafficAt`: when all traffic reached the new version, from which an SLO read as declared
 * (the whole service) reads the new version's own minutes (`bakeDataFor`).
 */
export function sloEvidence(
  config: EvaluatorConfig,
  arms: readonly ArmScope[],
  results: ReadonlyMap<string, QueryResult>,
  windowStart: number,
  end: number,
  failure: ReadProblem | undefined,
  allTrafficAt?: number,
): SloBakeData[] {
  const slos = bakeDataFor(config.slos, arms, results, windowStart, end, allTrafficAt);
  if (!failure) return slos;
  const notRead = [{ permanent: failure.permanent, reason: 'not read (the GetMetricData call failed)' }];
  return slos.map((d) => ({ ...d, canaryProblems: notRead, ...(d.baseline ? { baselineProblems: notRead } : {}) }));
}

/** What CloudWatch said of the read, kept with the decision's reasons. */
export function readNotes(read: MetricRead | undefined): string[] {
  const notes = (read?.messages ?? []).slice(0, MAX_NOTES).map((m) => `CloudWatch: ${clip(m, 500)}`);
  if (read && read.futureDatapoints > 0) {
    notes.push(`ignored ${read.futureDatapoints} datapoint${read.futureDatapoints === 1 ? '' : 's'} stamped after the evaluator's clock (clock skew)`);
  }
  return notes;
}
