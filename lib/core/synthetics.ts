import { HEALTH_CHECK_DEFAULTS } from './defaults';
import type { EvaluatorHealthCheck } from './evaluator-config';
import { judgeCanary } from './canary/judge';
import type { Series } from './metric-queries';
import { HISTORY_SECONDS } from './windows';

// The Synthetics health checks' verdict, judged with the canary statistics. Apart from
// ./metric-queries (which builds the queries and reads their results, and which the constructs load
// to count a tick's queries) so that loading the constructs does not load the canary judge (issue 10,
// item 3); the evaluator Lambda and the simulator import it from here (the core barrel re-exports it).

/**
 * How surprising failed Synthetics runs since the hook started must be, against the canary's own
 * runs in the hour before the release, to fail the bake: Fisher's one-sided p (the canary judge's
 * proportion test, failed runs over runs). A run a minute against a clean hour: one failed run is
 * p ≈ 0.016 (a flake), the first two runs failing p ≈ 0.0005, three of the first five p ≈ 0.0002.
 */
export const SYNTHETICS_FAIL_P_VALUE = 0.001;
/** Runs before the release the canary needs for a comparison; with fewer, any failed run fails (there is nothing to compare with). */
export const SYNTHETICS_MIN_HISTORY_RUNS = 10;
/**
 * Consecutive failed runs that fail the bake when the canary never failed in the hour before the
 * release, however few its runs (as HTTP probes' `failAfter`): a canary on a 5-minute schedule runs
 * only twice or three times in a 10-minute bake, too few for the test above.
 */
export const SYNTHETICS_CONSECUTIVE_FAILURES = 3;

/** When a Synthetics canary's runs are judged: since the hook started, against the hour before the release. */
export interface SyntheticsWindow {
  /** Epoch seconds of the release minute. */
  readonly releaseAt: number;
  /** Epoch seconds the judged runs start (the hook's start) and end (exclusive). */
  readonly from: number;
  readonly to: number;
}

/**
 * A Synthetics canary judged statistically, like an SLO: a run below the check's minimum is a
 * failed run; the runs since the hook started fail the bake when they fail significantly more often
 * than the same canary's runs in the hour before the release ({@link SYNTHETICS_FAIL_P_VALUE}), so
 * one flaky run does not roll a release back and a journey the whole service was already failing is
 * not blamed on it; {@link SYNTHETICS_CONSECUTIVE_FAILURES} failed runs in a row after a clean hour
 * fail it too (a canary on a 5-minute schedule). Without {@link SYNTHETICS_MIN_HISTORY_RUNS} runs
 * before the release there is nothing to compare with, and any failed run fails. Returns the
 * failure reason, or undefined.
 */
export function syntheticsFailure(check: EvaluatorHealthCheck, series: Series | undefined, window: SyntheticsWindow): string | undefined {
  const min = check.minSuccessPercent ?? HEALTH_CHECK_DEFAULTS.minSuccessPercent;
  const since = runsIn(series, window.from, window.to);
  const failed = since.filter(([, v]) => v < min);
  if (failed.length === 0) return undefined;
  const [firstAt, firstValue] = failed[0];
  const what =
    `health check ${check.name}: Synthetics canary ${check.canaryName} had ${firstValue} % of its runs succeed at ${new Date(firstAt * 1000).toISOString()}, below ${min} %` +
    ` (${failed.length} of its ${since.length} runs since traffic shifted below ${min} %)`;
  const before = runsIn(series, window.releaseAt - HISTORY_SECONDS, window.releaseAt);
  if (before.length < SYNTHETICS_MIN_HISTORY_RUNS) {
    return `${what}; it ran ${before.length} times in the hour before the release, too few to compare with`;
  }
  const beforeFailed = before.filter(([, v]) => v < min).length;
  const latest = since.slice(-SYNTHETICS_CONSECUTIVE_FAILURES);
  if (beforeFailed === 0 && latest.length === SYNTHETICS_CONSECUTIVE_FAILURES && latest.every(([, v]) => v < min)) {
    return `${what}; its last ${SYNTHETICS_CONSECUTIVE_FAILURES} runs failed in a row, and none of its ${before.length} runs in the hour before the release did`;
  }
  const judgement = judgeCanary({
    metrics: [
      {
        kind: 'proportion',
        name: check.name,
        critical: true,
        canary: { total: since.length, bad: failed.length },
        baseline: { total: before.length, bad: beforeFailed },
        thresholds: { minCanaryEvents: 1, minBaselineEvents: SYNTHETICS_MIN_HISTORY_RUNS, failPValue: SYNTHETICS_FAIL_P_VALUE, maxRelativeIncrease: 0, maxAbsoluteIncrease: 0 },
      },
    ],
  });
  if (judgement.verdict !== 'fail') return undefined;
  return `${what}; ${beforeFailed} of its ${before.length} runs in the hour before the release were: ${judgement.metrics[0].reasons.join('; ')}`;
}

/**
 * A Synthetics canary whose latest run since the hook started failed, while `syntheticsFailure`
 * does not fail the bake (yet): the bake goes on past its end until a run passes or the failures
 * are enough to fail it — a canary on a 5-minute schedule runs only twice in a 10-minute bake.
 * Returns why the bake waits, or undefined.
 */
export function syntheticsPending(check: EvaluatorHealthCheck, series: Series | undefined, window: SyntheticsWindow): string | undefined {
  const min = check.minSuccessPercent ?? HEALTH_CHECK_DEFAULTS.minSuccessPercent;
  const since = runsIn(series, window.from, window.to);
  const last = since[since.length - 1];
  if (last === undefined || last[1] >= min) return undefined;
  return `health check ${check.name}: the latest run of Synthetics canary ${check.canaryName} at ${new Date(last[0] * 1000).toISOString()} had ${last[1]} % of its runs succeed, below ${min} %: waiting for the next runs`;
}

/** A canary's runs in [from, to), oldest first. */
function runsIn(series: Series | undefined, from: number, to: number): Array<[number, number]> {
  return [...(series ?? new Map<number, number>())].filter(([t]) => t >= from && t < to).sort(([a], [b]) => a - b);
}
