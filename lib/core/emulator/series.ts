import { RollbackTriggersError, formatNumber } from '../errors';

/**
 * Input series of the emulator, at one-minute granularity.
 *
 * A series is a plain array (JSON-friendly, as the simulator reads it from files), sorted by
 * strictly increasing minute. A minute without an entry has no datapoint at all — CloudWatch
 * received nothing — which is not the same as an entry with `total: 0` (a datapoint saying
 * "zero requests"): the first makes the window's expression missing and TreatMissingData
 * applies, the second is a real datapoint whose burn rate is 0.
 */

/** One minute of an SLI: all events and the bad ones among them. */
export interface SliPoint {
  /** Whole minutes on any fixed origin (for example minutes since the release, or since the epoch). */
  readonly minute: number;
  /** Events in that minute (requests, attempts). */
  readonly total: number;
  /**
   * Bad events among them: failed requests, requests slower than a latency SLI's threshold, failed
   * business operations. For a success-ratio SLI (good / total) give `total - good`: the
   * alarm's `(total - FILL(good, 0)) / total` is the same number.
   */
  readonly bad: number;
}

/** Per-minute SLI data, sorted by strictly increasing `minute`. */
export type SliSeries = readonly SliPoint[];

/** One datapoint of a threshold trigger's metric. */
export interface MetricPoint {
  /**
   * The last minute of the period the datapoint aggregates: the value at minute m covers the
   * trigger's period ending with minute m (minutes m - p + 1 … m for a period of p minutes).
   * Give one per minute for periods longer than a minute (see {@link rollingDatapoints}), because
   * CloudWatch evaluates every minute on a sliding window.
   */
  readonly minute: number;
  readonly value: number;
}

/** A threshold trigger's datapoints, sorted by strictly increasing `minute`. */
export type MetricSeries = readonly MetricPoint[];

/**
 * Throws unless `series` is a valid SLI series: whole, strictly increasing minutes; finite,
 * non-negative counts; bad ≤ total. The message names the series, the entry and the field.
 */
export function validateSliSeries(name: string, series: SliSeries): void {
  if (!Array.isArray(series)) throw new RollbackTriggersError('RT502', `${name}: the series must be an array of { minute, total, bad }`);
  let previous = -Infinity;
  series.forEach((point, i) => {
    const where = `${name}, entry ${i}`;
    checkMinute(where, point?.minute, previous);
    previous = point.minute;
    for (const field of ['total', 'bad'] as const) {
      const v = point[field];
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw new RollbackTriggersError('RT502', `${where} (minute ${point.minute}): ${field} must be a finite number ≥ 0, got ${String(v)}`);
      }
    }
    if (point.bad > point.total) {
      throw new RollbackTriggersError(
        'RT502',
        `${where} (minute ${point.minute}): bad (${formatNumber(point.bad)}) must not exceed total (${formatNumber(point.total)})`,
      );
    }
  });
}

/** Throws unless `series` has whole, strictly increasing minutes and finite values. */
export function validateMetricSeries(name: string, series: MetricSeries): void {
  if (!Array.isArray(series)) throw new RollbackTriggersError('RT502', `${name}: the series must be an array of { minute, value }`);
  let previous = -Infinity;
  series.forEach((point, i) => {
    const where = `${name}, entry ${i}`;
    checkMinute(where, point?.minute, previous);
    previous = point.minute;
    if (typeof point.value !== 'number' || !Number.isFinite(point.value)) {
      throw new RollbackTriggersError('RT502', `${where} (minute ${point.minute}): value must be a finite number, got ${String(point.value)}`);
    }
  });
}

function checkMinute(where: string, minute: unknown, previous: number): void {
  if (typeof minute !== 'number' || !Number.isSafeInteger(minute)) {
    throw new RollbackTriggersError('RT502', `${where}: minute must be a whole number, got ${String(minute)}`);
  }
  if (minute <= previous) {
    throw new RollbackTriggersError('RT502', `${where}: minutes must increase strictly, got ${minute} after ${previous}`);
  }
}

/**
 * Sums of an SLI series over any range of minutes in O(log n), from prefix sums over its entries,
 * so a 3-day window evaluated every minute for a week costs no more than a 5-minute one.
 */
export class SliIndex {
  private readonly minutes: Float64Array;
  private readonly totals: Float64Array;
  private readonly bads: Float64Array;

  constructor(series: SliSeries) {
    const n = series.length;
    this.minutes = new Float64Array(n);
    this.totals = new Float64Array(n + 1);
    this.bads = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) {
      this.minutes[i] = series[i].minute;
      this.totals[i + 1] = this.totals[i] + series[i].total;
      this.bads[i + 1] = this.bads[i] + series[i].bad;
    }
  }

  /** Datapoints and sums over minutes `from` … `to`, both inclusive; `datapoints` 0 means no data. */
  public window(from: number, to: number): { datapoints: number; total: number; bad: number } {
    if (to < from) return { datapoints: 0, total: 0, bad: 0 };
    const lo = lowerBound(this.minutes, from);
    const hi = lowerBound(this.minutes, to + 1);
    // Differences of prefix sums are exact for integer counts while the running total stays
    // below 2^53; fractional counts (averaged metrics) may differ from a direct sum in the last bits.
    return { datapoints: hi - lo, total: this.totals[hi] - this.totals[lo], bad: this.bads[hi] - this.bads[lo] };
  }
}

/** Datapoints of a metric series by minute. */
export class MetricIndex {
  private readonly values = new Map<number, number>();

  constructor(series: MetricSeries) {
    for (const p of series) this.values.set(p.minute, p.value);
  }

  public at(minute: number): number | undefined {
    return this.values.get(minute);
  }
}

/** First index whose value is ≥ `target` (`sorted.length` when none). */
function lowerBound(sorted: Float64Array, target: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** How per-minute values roll up into one datapoint of a longer period. */
export type RollupStatistic = 'Sum' | 'Average' | 'Minimum' | 'Maximum';

/**
 * Turns per-minute values into the sliding datapoints of a `periodMinutes` period, one per minute
 * that has data in its period: the value at minute m rolls up minutes m - p + 1 … m. A period
 * with no per-minute value has no datapoint. Percentiles cannot be rolled up from per-minute
 * percentiles; give those datapoints directly. (A period's SampleCount is the Sum of the per-minute
 * SampleCounts.)
 */
export function rollingDatapoints(perMinute: MetricSeries, periodMinutes: number, statistic: RollupStatistic): MetricPoint[] {
  validateMetricSeries('rollingDatapoints input', perMinute);
  if (!Number.isInteger(periodMinutes) || periodMinutes < 1) {
    throw new RollbackTriggersError('RT502', `periodMinutes must be a whole number of at least 1, got ${periodMinutes}`);
  }
  if (perMinute.length === 0) return [];
  const first = perMinute[0].minute;
  const last = perMinute[perMinute.length - 1].minute + periodMinutes - 1;
  const byMinute = new MetricIndex(perMinute);
  const out: MetricPoint[] = [];
  for (let m = first; m <= last; m++) {
    const values: number[] = [];
    for (let k = m - periodMinutes + 1; k <= m; k++) {
      const v = byMinute.at(k);
      if (v !== undefined) values.push(v);
    }
    if (values.length === 0) continue;
    out.push({ minute: m, value: rollup(values, statistic) });
  }
  return out;
}

function rollup(values: readonly number[], statistic: RollupStatistic): number {
  switch (statistic) {
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'Minimum':
      return Math.min(...values);
    case 'Maximum':
      return Math.max(...values);
  }
}
