import type { RollbackPolicy } from '../lib/core/policy';
import type { SeriesEntry } from '../lib/core/simulator/types';

/**
 * The independent reference: the Google SRE Workbook's multiwindow, multi-burn-rate page alert
 * ("Alerting on SLOs", recipe 6) on the BLENDED traffic — what a team has without this library.
 * Computed directly from the per-minute sums, on purpose sharing no code with the library (not the
 * emulator, not slo-math), so a bug there cannot hide here.
 *
 * Evaluated once a minute on sliding windows, like CloudWatch: after k minutes of post-release
 * data the long and short windows are the W minutes ending with minute release + k − 1. A tier fires
 * when both windows burn at or above its factor, burn = (bad ÷ total) ÷ error budget. A minute
 * without an entry contributes nothing; a window without events does not fire. No minimum event
 * count: the workbook has none (which is why it pages on a single error at low traffic).
 */

export interface ReferenceTier {
  readonly name: string;
  readonly longMinutes: number;
  readonly shortMinutes: number;
  /** Burn-rate factor: budget share × 30 days ÷ long window (in percent, to stay exact in floats). */
  readonly factor: number;
}

/** The workbook's two page tiers for a 30-day SLO: 2 % of the budget in 1 h, 5 % in 6 h. */
export const WORKBOOK_PAGE_TIERS: readonly ReferenceTier[] = [
  { name: '14.4× 1h/5m', longMinutes: 60, shortMinutes: 5, factor: (2 * 720) / 1 / 100 },
  { name: '6× 6h/30m', longMinutes: 360, shortMinutes: 30, factor: (5 * 720) / 6 / 100 },
];

export interface ReferenceSlo {
  readonly name: string;
  /** 1 − objective: 0.001 for 99.9 %. */
  readonly errorBudget: number;
  /** Which count of an entry is the bad events: `errors`, or `slow` for a latency SLO. */
  readonly bad: 'errors' | 'slow';
}

export interface ReferenceResult {
  /** Minutes of post-release data until the alert first fires; undefined if it never does. */
  readonly detectionMinutes?: number;
  /** The series minute of that evaluation (the last minute in its windows). */
  readonly minute?: number;
  readonly tier?: string;
  readonly slo?: string;
  /** The alert already fired on the data before the release (evaluation at k = 0). */
  readonly firingAtRelease: boolean;
}

export interface ReferenceOptions {
  readonly tiers?: readonly ReferenceTier[];
  /** Post-release minutes to evaluate. @default up to the last minute of the series */
  readonly horizonMinutes?: number;
}

/** The SLOs of a policy as the reference reads them: budget and which count is bad. */
export function referenceSlosOf(policy: RollbackPolicy): ReferenceSlo[] {
  return policy.slos.map((s) => ({ name: s.name, errorBudget: 1 - s.objectivePercent / 100, bad: s.sli.kind === 'latency' ? 'slow' : 'errors' }));
}

/** First post-release minute at which any page tier of any SLO fires on the blended traffic. */
export function referenceDetection(series: readonly SeriesEntry[], releaseMinute: number, slos: readonly ReferenceSlo[], options: ReferenceOptions = {}): ReferenceResult {
  const tiers = options.tiers ?? WORKBOOK_PAGE_TIERS;
  const byMinute = new Map<number, SeriesEntry>();
  for (const e of series) byMinute.set(e.minute, e);
  const lastMinute = series.length > 0 ? series[series.length - 1].minute : releaseMinute - 1;
  const horizon = options.horizonMinutes ?? Math.max(0, lastMinute - releaseMinute + 1);

  const firing = (k: number): { tier: string; slo: string } | undefined => {
    const end = releaseMinute + k - 1;
    for (const slo of slos) {
      for (const tier of tiers) {
        const long = burn(byMinute, slo, end - tier.longMinutes + 1, end);
        const short = burn(byMinute, slo, end - tier.shortMinutes + 1, end);
        if (long !== undefined && short !== undefined && atLeast(long, tier.factor) && atLeast(short, tier.factor)) {
          return { tier: tier.name, slo: slo.name };
        }
      }
    }
    return undefined;
  };

  const firingAtRelease = firing(0) !== undefined;
  for (let k = 1; k <= horizon; k++) {
    const hit = firing(k);
    if (hit) return { detectionMinutes: k, minute: releaseMinute + k - 1, ...hit, firingAtRelease };
  }
  return { firingAtRelease };
}

/** Burn rate over minutes `from` … `to` inclusive; undefined without events. */
function burn(byMinute: ReadonlyMap<number, SeriesEntry>, slo: ReferenceSlo, from: number, to: number): number | undefined {
  let total = 0;
  let bad = 0;
  for (let m = from; m <= to; m++) {
    const e = byMinute.get(m);
    if (!e) continue;
    total += e.requests;
    bad += slo.bad === 'slow' ? (e.slow ?? 0) : e.errors;
  }
  return total > 0 ? bad / total / slo.errorBudget : undefined;
}

/** `a ≥ b`, forgiving the last bits of float division (0.0144 / 0.001 is 14.399999999999999). */
function atLeast(a: number, b: number): boolean {
  return a >= b * (1 - 1e-9);
}
