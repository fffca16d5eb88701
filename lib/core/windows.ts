import type { Counts } from './decision';
import type { EvaluatorSlo } from './evaluator-config';

/**
 * The windows one bake tick judges an SLO on, cut from its per-minute counts (issue 8: detection
 * without false rollbacks on every deployment shape). Whose minutes they are decides what a burn
 * means:
 *
 * - **paired** minutes since the release, on which both versions served: the new version is
 *   compared with the current one on the same minutes, so an incident every version shares (a
 *   dependency down, a blip) is told apart from the release;
 * - **solo** minutes since the release, on which the new version served alone (all at once, or
 *   after the full shift): nothing serves alongside it, so it is compared with the *reference*,
 *   the current version's own traffic just before it stopped serving (the minutes before an
 *   all-at-once release, or the last minutes of a canary), read in the same GetMetricData call;
 * - **history**: the current version over the hour before the release, the workbook's long window
 *   (SRE Workbook ch. 5, "multiwindow, multi-burn-rate alerts": 14.4× over 1 h and 5 min), to say
 *   whether the service was already paging when the release went out.
 */

/** Counts of one version in one minute. */
export interface ArmMinute {
  readonly total: number;
  readonly bad: number;
}

/** One minute of one SLO's counts, both versions; a version without a datapoint that minute is absent. */
export interface TimelineMinute {
  /** Epoch seconds of the minute's start. */
  readonly at: number;
  readonly canary?: ArmMinute;
  readonly baseline?: ArmMinute;
}

/** One SLO's per-minute counts as one tick read them: the history before the release, and every minute since. */
export interface SloTimeline {
  /** Epoch seconds of the release minute (the deployment's createTime, floored): the since-release window's start. */
  readonly releaseAt: number;
  /** Epoch seconds the tick's data ends at (exclusive). */
  readonly end: number;
  /** Sorted by `at`; minutes from `releaseAt − HISTORY_SECONDS` on. */
  readonly minutes: readonly TimelineMinute[];
}

/**
 * How far before the release every tick reads: the workbook's long window for the 14.4× page tier
 * (1 h). One GetMetricData call carries it (60 more one-minute datapoints per query, far under the
 * 100,800 a call returns).
 */
export const HISTORY_SECONDS = 3_600;

/**
 * What one minute of the new version serving alone may add to a solo window, as a multiple of the
 * page rate: a blip of B minutes adds at most 1.5 × B page-rate minutes, so a blip of up to 3
 * minutes (4.5) can never make a 5-minute short window burn at the page rate (5), while a
 * regression at or above the page rate that lasts the short window does. A minute with any bad
 * event may add one (discrete counts): below about 46 requests a minute (where 1.5 × 1.44 % of a
 * minute's requests is under one event, for a 99.9 % SLO) that floor is above the cap, a blip can
 * reach the threshold, and only the comparison with the current version's last minutes and the
 * tier's minimum events stand between it and a rollback. Measured with `npm run eval:seeds`
 * (classes aao-blip, aao-delayed-regression).
 */
export const SOLO_MINUTE_CAP = 1.5;

/** The windows of one SLO at one tick. */
export interface SloWindows {
  /** The new and the current version on the minutes since the release both served, and the new version on those of the short window. */
  readonly paired: {
    readonly canary: Counts;
    readonly baseline: Counts;
    readonly canaryShort: Counts;
    /** The current version on the paired minutes of the short window (none without a timeline). */
    readonly baselineShort: Counts;
  };
  /** Minutes since the release the new version served alone. */
  readonly solo: {
    /** Solo minutes in the short window. */
    readonly shortMinutes: number;
    /**
     * Whether the whole short window lies in the new version's latest stretch of serving alone
     * (after the release and after its last paired minute): only then can it be judged, since a
     * blip fills a window cut short.
     */
    readonly fullWindow: boolean;
    /** The latest stretch of serving alone, capped: the long window beside the short one (at least twice as long). */
    readonly stretchCapped: Counts;
    /** The same stretch as served. */
    readonly stretch: Counts;
    /** Minutes the latest stretch of serving alone spans so far. */
    readonly stretchMinutes: number;
    /**
     * The workbook's long window reaching back before the release: the new version's bad events
     * in the stretch served alone, over every event of the service (both versions) in the last
     * hour, as served (uncapped: this is the budget the hour consumed).
     */
    readonly hourOfService: Counts;
    /** The short window's counts as served. */
    readonly short: Counts;
    /** The same, each minute's bad events capped at {@link SOLO_MINUTE_CAP} × the page rate (a blip cannot fail it). */
    readonly shortCapped: Counts;
    /** Every solo minute since the release, capped alike (for decisive evidence at low traffic). */
    readonly sinceReleaseCapped: Counts;
    /** The short window's solo minutes as served, oldest first (is it burning right now?). */
    readonly recent: readonly ArmMinute[];
    /**
     * The minutes of the stretch served alone that burned at the page rate on their own (each with
     * at least one bad event): where a blip shows, so a pass can say what it did not roll back for.
     */
    readonly burning: { readonly minutes: number; readonly first?: number; readonly last?: number; readonly counts: Counts };
  };
  /**
   * The current version just before the solo minutes: of the suffixes of its last short window of
   * service with enough events, the one that failed most (the most lenient reading of "what the
   * service was doing"). Undefined when it never served enough events.
   */
  readonly reference?: {
    readonly counts: Counts;
    readonly minutes: number;
    /** Its whole last short window of service (else its last hour): the evidence a comparison is tested against. */
    readonly window: Counts;
    readonly endsAt: number;
    readonly preRelease: boolean;
  };
  /** The current version before the release: the hour, and the short window. */
  readonly history: { readonly long: Counts; readonly short: Counts };
}

/** Counts of no minute at all. */
export const NO_COUNTS: Counts = Object.freeze({ total: 0, bad: 0, datapoints: 0 });
const add = (c: Counts, m: ArmMinute | undefined, bad = m?.bad ?? 0): Counts =>
  m ? { total: c.total + m.total, bad: c.bad + Math.min(bad, m.total), datapoints: c.datapoints + 1 } : c;
const served = (m: ArmMinute | undefined): m is ArmMinute => m !== undefined && m.total > 0;

/** A minute's bad events as a solo window counts them: capped at {@link SOLO_MINUTE_CAP} × the page rate, at least one. */
export function cappedBad(slo: Pick<EvaluatorSlo, 'errorBudget' | 'failBurnRate'>, m: ArmMinute): number {
  return Math.min(m.bad, Math.max(1, SOLO_MINUTE_CAP * slo.failBurnRate * slo.errorBudget * m.total));
}

/**
 * A minute counts as paired only when the current version served a real share of it (5 %): the
 * trickle an old Lambda version or task set serves after the shift, or the few seconds of the
 * minute traffic switched in, would otherwise make a minute the new version served (nearly) alone
 * "paired" and judge it without the cap. Shares below it are judged as the new version alone.
 */
export const PAIRED_MIN_SHARE = 0.05;

const isPaired = (m: TimelineMinute): boolean =>
  served(m.canary) && served(m.baseline) && m.baseline.total >= PAIRED_MIN_SHARE * (m.baseline.total + m.canary.total);

/** Cuts one SLO's timeline into the windows the decision judges. */
export function windowsOf(slo: EvaluatorSlo, timeline: SloTimeline): SloWindows {
  const { releaseAt, end } = timeline;
  const shortStart = Math.max(releaseAt, end - slo.shortWindowSeconds);
  const since = timeline.minutes.filter((m) => m.at >= releaseAt && m.at < end && served(m.canary));
  const pairedMinutes = pairedMinutesOf(slo, since);
  const history = historyOf(slo, timeline);
  const solo = soloOf(slo, since, pairedMinutes, shortStart);
  // The latest stretch of serving alone starts after the last paired minute (or at the release).
  const lastPaired = Math.max(-Infinity, ...pairedMinutes);
  const stretchStart = Number.isFinite(lastPaired) ? lastPaired + 60 : releaseAt;
  const stretch = stretchOf(slo, since, pairedMinutes, stretchStart);
  // The reference is read before the solo window: the current version's last minutes of service.
  const referenceBefore = solo.firstSolo ?? end;
  return {
    paired: pairedOf(since, pairedMinutes, shortStart),
    solo: {
      shortMinutes: solo.shortMinutes,
      fullWindow: end - slo.shortWindowSeconds >= stretchStart,
      stretchCapped: stretch.capped,
      stretch: stretch.served,
      stretchMinutes: Math.max(0, (end - stretchStart) / 60),
      hourOfService: hourOfServiceOf(timeline, history.long, stretchStart, pairedMinutes),
      burning: stretch.burning,
      short: solo.short,
      shortCapped: solo.shortCapped,
      sinceReleaseCapped: solo.sinceReleaseCapped,
      recent: solo.recent,
    },
    reference: referenceOf(slo, timeline, referenceBefore, pairedMinutes),
    history,
  };
}

/**
 * The minutes since the release judged as paired. Fewer paired minutes than a short window (all
 * at once: the minute traffic switched in) are no same-minute comparison: those minutes are judged
 * as the new version alone.
 */
function pairedMinutesOf(slo: EvaluatorSlo, since: readonly TimelineMinute[]): Set<number> {
  const candidates = since.filter(isPaired);
  return new Set(candidates.length >= slo.shortWindowSeconds / 60 ? candidates.map((m) => m.at) : []);
}

/** The current version over the hour and the short window before the release. */
function historyOf(slo: EvaluatorSlo, timeline: SloTimeline): SloWindows['history'] {
  const { releaseAt } = timeline;
  let long = NO_COUNTS;
  let short = NO_COUNTS;
  for (const m of timeline.minutes) {
    if (m.at >= releaseAt - HISTORY_SECONDS && m.at < releaseAt) long = add(long, m.baseline);
    if (m.at >= releaseAt - slo.shortWindowSeconds && m.at < releaseAt) short = add(short, m.baseline);
  }
  return { long, short };
}

/** Both versions on the paired minutes since the release, and the new version on those of the short window. */
function pairedOf(since: readonly TimelineMinute[], pairedMinutes: ReadonlySet<number>, shortStart: number): SloWindows['paired'] {
  let canary = NO_COUNTS;
  let baseline = NO_COUNTS;
  let canaryShort = NO_COUNTS;
  let baselineShort = NO_COUNTS;
  for (const m of since) {
    if (!pairedMinutes.has(m.at)) continue;
    canary = add(canary, m.canary);
    baseline = add(baseline, m.baseline);
    if (m.at >= shortStart) {
      canaryShort = add(canaryShort, m.canary);
      baselineShort = add(baselineShort, m.baseline);
    }
  }
  return { canary, baseline, canaryShort, baselineShort };
}

/** The new version on its solo minutes since the release, and on those of the short window (capped and as served). */
function soloOf(slo: EvaluatorSlo, since: readonly TimelineMinute[], pairedMinutes: ReadonlySet<number>, shortStart: number) {
  let short = NO_COUNTS;
  let shortCapped = NO_COUNTS;
  let sinceReleaseCapped = NO_COUNTS;
  let shortMinutes = 0;
  const recent: ArmMinute[] = [];
  let firstSolo: number | undefined;
  for (const m of since) {
    if (pairedMinutes.has(m.at)) continue;
    const canary = m.canary!;
    const capped = cappedBad(slo, canary);
    sinceReleaseCapped = add(sinceReleaseCapped, canary, capped);
    if (m.at >= shortStart) {
      firstSolo ??= m.at;
      shortMinutes++;
      recent.push(canary);
      short = add(short, canary);
      shortCapped = add(shortCapped, canary, capped);
    }
  }
  return { short, shortCapped, sinceReleaseCapped, shortMinutes, recent, firstSolo };
}

/** The latest stretch of serving alone: capped, as served, and the minutes of it that burned at the page rate. */
function stretchOf(slo: EvaluatorSlo, since: readonly TimelineMinute[], pairedMinutes: ReadonlySet<number>, stretchStart: number) {
  let capped = NO_COUNTS;
  let stretch = NO_COUNTS;
  let burning: SloWindows['solo']['burning'] = { minutes: 0, counts: NO_COUNTS };
  for (const m of since) {
    if (m.at < stretchStart || pairedMinutes.has(m.at)) continue;
    const canary = m.canary!;
    capped = add(capped, canary, cappedBad(slo, canary));
    stretch = add(stretch, canary);
    if (canary.bad > 0 && canary.bad >= slo.failBurnRate * slo.errorBudget * canary.total) {
      burning = { minutes: burning.minutes + 1, first: burning.first ?? m.at, last: m.at, counts: add(burning.counts, canary) };
    }
  }
  return { capped, served: stretch, burning };
}

/**
 * The workbook's hour reaching back before the release: the new version's bad events served
 * alone over every event of both versions. Without the current version's minutes before the
 * release (no current version, or none read) the hour would hold only the new version's minutes
 * and a blip would read as the hour's budget: no evidence then.
 */
function hourOfServiceOf(timeline: SloTimeline, historyLong: Counts, stretchStart: number, pairedMinutes: ReadonlySet<number>): Counts {
  const { releaseAt, end } = timeline;
  let hourBad = 0;
  let hourTotal = 0;
  let hourMinutes = 0;
  if (historyLong.total > 0) {
    for (const m of timeline.minutes) {
      if (m.at < end - HISTORY_SECONDS || m.at >= end) continue;
      const canaryServed = m.at >= releaseAt && served(m.canary);
      hourTotal += (canaryServed ? m.canary!.total : 0) + (m.baseline?.total ?? 0);
      if (canaryServed && m.at >= stretchStart && !pairedMinutes.has(m.at)) hourBad += Math.min(m.canary!.bad, m.canary!.total);
      hourMinutes++;
    }
  }
  return { total: hourTotal, bad: hourBad, datapoints: hourMinutes };
}

/**
 * The current version's last minutes of service before `before`: the minutes before the release
 * and the paired ones (not a trickle after the shift). A last minute with less than half the
 * traffic of the one before it is the minute traffic switched in (seconds of it): left out, so a
 * few clean seconds are never the whole reference.
 */
function referenceOf(slo: EvaluatorSlo, timeline: SloTimeline, before: number, paired: ReadonlySet<number>): SloWindows['reference'] {
  const old = timeline.minutes.filter((m) => m.at < before && served(m.baseline) && (m.at < timeline.releaseAt || paired.has(m.at)));
  if (old.length >= 2 && old[old.length - 1].baseline!.total < 0.5 * old[old.length - 2].baseline!.total) old.pop();
  if (old.length === 0) return undefined;
  const last = old[old.length - 1].at;
  const preRelease = last < timeline.releaseAt;
  let suffix = NO_COUNTS;
  let best: { counts: Counts; minutes: number } | undefined;
  for (let i = old.length - 1; i >= 0 && old[i].at > last - slo.shortWindowSeconds; i--) {
    suffix = add(suffix, old[i].baseline);
    if (suffix.total < slo.minEvents) continue;
    // Ties go to the longer suffix: more events, the same reading.
    if (!best || suffix.bad / suffix.total >= best.counts.bad / best.counts.total) best = { counts: suffix, minutes: (last - old[i].at) / 60 + 1 };
  }
  // The evidence a comparison is tested against: the whole last short window, else the last hour.
  let hour = NO_COUNTS;
  for (const m of old) if (m.at > last - HISTORY_SECONDS) hour = add(hour, m.baseline);
  const windowCounts = suffix.total >= slo.minEvents ? suffix : hour;
  if (!best) {
    // Too little traffic in its last short window: its last hour, when that has enough.
    if (hour.total < slo.minEvents) return undefined;
    best = { counts: hour, minutes: Math.round(HISTORY_SECONDS / 60) };
  }
  return { ...best, window: windowCounts, endsAt: last + 60, preRelease };
}
