// The gates of the rollback alarms that compare a new version with a baseline: rendered into the
// alarms' metric math by the constructs (lib/private/alarm-factory.ts) and replayed by the emulator
// (./emulator/emulate.ts, which re-exports them) and the simulator. A module of its own so that the
// constructs load neither the emulator nor the canary statistics at synth (issue 10, item 3).

import { formatNumber } from './errors';

/**
 * How many standard deviations the new version's bad events must exceed `factor` × what the
 * baseline's ratio predicts before a relative rollback alarm counts its burn: a one-sided z of 3
 * (about 1 in 740 per look under a Poisson count), so a handful of errors in the first hundred
 * events of a canary (2 of 102 reads as 19.6×) does not roll a release back. Squared so the
 * expression needs only multiplication (`(bad − e) × (bad − e) > 9 × (e + 1)`, the +1 keeping the
 * variance positive when the baseline shows no errors). Measured with `npm run eval:seeds`.
 */
export const RELATIVE_ALARM_Z_SQUARED = 9;

/**
 * How many times as often as the whole alias the new version must fail before a `rest-of-blended`
 * rollback alarm counts its burn: a guard against the alias's series and the new version's
 * arriving apart (nothing documents that a minute of both arrives together). A shared incident j
 * minutes into a W-minute window reads j ÷ W on the version and (j − L) ÷ (W − L) on an alias L
 * minutes behind; the version reads more than g times worse only while j < g·W·L ÷ (g·W + L − W),
 * which never outlasts the L minutes the alias lacks (where the half-the-bad-events guard holds)
 * for L = 1 while W ≤ 20, and for every L in the 5-minute window the rollback alarms use by
 * default; a version L minutes behind reads at most W ÷ (W − L) times worse (5 ÷ 3 for 2 minutes
 * of 5). Below 2, so that a new version serving half the traffic beside a clean one (1.9 × ½ < 1)
 * still fires. Measured over a grid of shares, lags and incidents in test/core/emulator/lag.test.ts.
 */
export const RELATIVE_ALARM_BLENDED_FACTOR = 1.9;

/**
 * The new version's bad events the rollback alarm expects were it `factor` times as bad as its
 * baseline: `factor × baseBad ÷ baseTotal × max(total, q × baseTotal)`, q = share ÷ (1 − share)
 * when the deployment shifts traffic in steps (`PolicyTrafficShift`), else `× total`. While the new
 * version has served only part of the window (its first minutes), the baseline's window also holds
 * minutes from before the release: an incident both versions share that began in the last minute
 * fills most of the new version's window but a fifth of the baseline's, and reads as 5× worse. At
 * its share, the new version would have served q × baseTotal events over the whole window; its
 * errors are weighed against the baseline's as if it had — so a shared incident never reads worse
 * than the baseline's share of it, and a regression beside a clean baseline (baseBad ≈ 0) is not
 * held at all. Measured over seeds 1…1000 of the eval's canary-shared-incident class (an incident
 * starting in the canary's first minutes): 12 releases rolled back without it, 2 with it (both an
 * incident straddling the full shift, when the new version's window holds minutes after it that the
 * current version did not serve; holding the alarm there cost more detection than it saved).
 */
export function relativeExpectedBad(factor: number, base: { readonly total: number; readonly bad: number }, total: number, share: number | undefined): number {
  // Products, not q: the expression carries share and 1 − share as literals ({@link shareLiterals}).
  const s = share === undefined ? undefined : shareLiterals(share);
  const weighed = s === undefined || total * s.rest > s.share * base.total ? total : (s.share * base.total) / s.rest;
  return ((factor * base.bad) / base.total) * weighed;
}

/** The share and 1 − share exactly as the alarm's expression renders them (12 significant digits). */
export function shareLiterals(share: number): { readonly share: number; readonly rest: number } {
  return { share: Number(formatNumber(share)), rest: Number(formatNumber(1 - share)) };
}
