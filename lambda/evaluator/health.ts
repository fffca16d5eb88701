import type { BakeState } from '../../lib/core/bake';
import type { ReadProblem } from '../../lib/core/decision';
import { HEALTH_CHECK_DEFAULTS } from '../../lib/core/defaults';
import type { EvaluatorHealthCheck } from '../../lib/core/evaluator-config';
import { type QueryResult, healthQueryId, readProblemOf } from '../../lib/core/metric-queries';
import { syntheticsFailure, syntheticsPending } from '../../lib/core/synthetics';
import { errorName } from '../shared/retry';
import type { StepRuntime } from './runtime';

/** What the tick's health checks found. */
export interface HealthEvidence {
  /** Checks that fail the bake. */
  readonly failures: string[];
  /** Checks failing now, or not yet run: not a pass at the end of the bake. */
  readonly pending: string[];
  /** Canary results that could not be read. */
  readonly problems: ReadProblem[];
  /** HTTP checks: consecutive failed probes by check index (empty without HTTP checks). */
  readonly httpFailures: number[];
}

/**
 * HTTP probes (failing after `failAfter` consecutive failed ticks, counted in the state) and
 * Synthetics canaries (any run below its minimum since the hook started), in parallel.
 */
export async function runHealthChecks(
  rt: StepRuntime,
  state: BakeState,
  results: ReadonlyMap<string, QueryResult>,
  callFailure: ReadProblem | undefined,
  end: number,
): Promise<HealthEvidence> {
  const checks = rt.config.healthChecks ?? [];
  const previous = state.httpFailures ?? [];
  const found: HealthEvidence = { failures: [], pending: [], problems: [], httpFailures: checks.map(() => 0) };
  await Promise.all(
    checks.map(async (check, i) => {
      if (check.kind !== 'synthetics') return probeCheck(rt, check, i, previous, found);
      // The canaries' SuccessPercent came with the tick's read: nothing to judge when it failed.
      if (callFailure) return;
      judgeCanary(check, i, results, { releaseAt: state.context!.windowStart!, from: state.hookStartedAt, to: end }, found);
    }),
  );
  return checks.some((c) => c.kind === 'http') ? found : { ...found, httpFailures: [] };
}

function judgeCanary(
  check: EvaluatorHealthCheck,
  index: number,
  results: ReadonlyMap<string, QueryResult>,
  window: { releaseAt: number; from: number; to: number },
  found: HealthEvidence,
): void {
  const id = healthQueryId(index);
  const problem = readProblemOf(id, results.get(id));
  if (problem) {
    found.problems.push({ ...problem, reason: `health check ${check.name}: ${problem.reason}` });
    return;
  }
  const failure = syntheticsFailure(check, results.get(id)?.series, window);
  if (failure) found.failures.push(failure);
  const waiting = failure ? undefined : syntheticsPending(check, results.get(id)?.series, window);
  if (waiting) found.pending.push(waiting);
}

async function probeCheck(rt: StepRuntime, check: EvaluatorHealthCheck, index: number, previous: readonly number[], found: HealthEvidence): Promise<void> {
  const problem = await probe(rt.deps.fetch ?? fetch, check.url!, check.timeoutMs ?? HEALTH_CHECK_DEFAULTS.httpTimeoutMs);
  const count = problem ? (previous[index] ?? 0) + 1 : 0;
  found.httpFailures[index] = count;
  if (problem && count >= (check.failAfter ?? HEALTH_CHECK_DEFAULTS.httpFailAfter)) {
    found.failures.push(`health check ${check.name}: ${count} consecutive failures of GET ${check.url} (last: ${problem})`);
  } else if (problem) {
    // Failing now, not yet `failAfter` times in a row: not a pass at the end of the bake.
    found.pending.push(`health check ${check.name}: GET ${check.url} failed ${count} time${count === 1 ? '' : 's'} in a row (last: ${problem}): waiting for the next probes`);
  }
}

/** One GET; returns what went wrong, or undefined for a 2xx/3xx answer. */
async function probe(get: typeof fetch, url: string, timeoutMs: number): Promise<string | undefined> {
  try {
    const response = await get(url, { method: 'GET', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    return response.status >= 200 && response.status < 400 ? undefined : `HTTP ${response.status}`;
  } catch (e) {
    return errorName(e);
  }
}
