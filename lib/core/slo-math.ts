import { RollbackTriggersError, formatNumber, formatSeconds } from './errors';

import { DEFAULT_COMPLIANCE_PERIOD_SECONDS } from './defaults';

/** Throws unless `objectivePercent` is a usable SLO target (strictly between 0 and 100). */
export function validateObjectivePercent(objectivePercent: number, prop = 'objectivePercent'): void {
  if (!Number.isFinite(objectivePercent) || objectivePercent <= 0 || objectivePercent >= 100) {
    throw new RollbackTriggersError(
      'RT101',
      `${prop} must be above 0 and below 100, got ${objectivePercent} — use 99.9 for "three nines"`,
      { prop },
    );
  }
}

/**
 * Every duration prop is a finite, positive, whole number of seconds: CloudWatch periods, the
 * policy and the plan count in seconds. `rendered` is the value as written
 * (`Duration.millis(1500)`), so the error shows what the user typed rather than a conversion.
 */
export function validateDurationSeconds(prop: string, seconds: number, rendered: string): void {
  if (!Number.isFinite(seconds) || seconds <= 0 || !Number.isInteger(seconds)) {
    const inSeconds = Number.isFinite(seconds) ? ` (${formatNumber(seconds)} s)` : '';
    throw new RollbackTriggersError(
      'RT118',
      `${prop} must be a whole number of seconds above 0, got ${rendered}${inSeconds} — ` +
        'CloudWatch periods, the policy and the plan count whole seconds; write it with Duration.seconds(), minutes(), hours() or days()',
    );
  }
}

/** Throws unless `budgetConsumedPercent` is a usable share of the error budget (above 0, at most 100). */
export function validateBudgetConsumedPercent(prop: string, budgetConsumedPercent: number): void {
  if (!Number.isFinite(budgetConsumedPercent) || budgetConsumedPercent <= 0 || budgetConsumedPercent > 100) {
    throw new RollbackTriggersError(
      'RT102',
      `${prop} must be above 0 and at most 100 (percent of the compliance period's error budget the tier lets burn within its long window), ` +
        `got ${budgetConsumedPercent} — the workbook's tiers use 2, 5 and 10`,
    );
  }
}

/** Throws unless `minEventsPerWindow` is a whole number from 1 to 2^53 − 1 (beyond, doubles skip whole counts). */
export function validateMinEventsPerWindow(minEventsPerWindow: number, prop = 'minEventsPerWindow'): void {
  if (!Number.isSafeInteger(minEventsPerWindow) || minEventsPerWindow < 1) {
    throw new RollbackTriggersError(
      'RT114',
      `${prop} must be a whole number from 1 to ${Number.MAX_SAFE_INTEGER} (it also keeps the burn-rate division away from zero), got ${minEventsPerWindow}`,
      { prop },
    );
  }
}

/**
 * The SRE Workbook ("Alerting on SLOs", "Low-traffic services and error budget alerting"): at 10
 * requests an hour one failed request is a 10 % error ratio, a 100× burn of a 99.9 % SLO, and
 * pages at once. A tier measures a burn rate only while one bad event, in a window that holds
 * exactly the minimum number of events N at which the window may fire, stays below the tier's
 * error-ratio threshold: 1 / N < factor × budget. When it does not, the budget is below what one
 * request can measure in that window, and a single failure fires the tier.
 *
 * The per-tier default ({@link defaultMinEventsPerWindow}) is the smallest N that satisfies the
 * rule, so it can only fail for an explicit `minEventsPerWindow`: an objective so close to 100 %
 * that its budget is below one event in N, or an N too small for the objective.
 */
export function validateMinEventsMeasureBudget(objectivePercent: number, minEventsPerWindow: number, tiers: readonly DerivedTier[]): void {
  const failing = tiers.filter((t) => 1 / minEventsPerWindow >= t.errorRatioThreshold);
  if (failing.length === 0) return;
  const worst = failing.reduce((a, b) => (b.errorRatioThreshold < a.errorRatioThreshold ? b : a));
  const budget = errorBudget(objectivePercent);
  const needed = Math.max(...tiers.map(defaultMinEventsPerWindow));
  const smallestFactor = Math.min(...tiers.map((t) => t.factor));
  // The objective at which N events make every tier's threshold exceed 1 / N.
  const highestObjective = 100 - 100 / (minEventsPerWindow * smallestFactor);
  const others = failing.length > 1 ? ` (and ${failing.length - 1} other tier${failing.length > 2 ? 's' : ''})` : '';
  throw new RollbackTriggersError(
    'RT120',
    `objectivePercent ${formatNumber(objectivePercent)} leaves an error budget of ${formatNumber(budget * 100)} % of events, less than one request can measure ` +
      `at minEventsPerWindow ${minEventsPerWindow}: one failed request among ${minEventsPerWindow} events is an error ratio of ${formatNumber(100 / minEventsPerWindow)} %, ` +
      `a ${formatNumber(1 / (minEventsPerWindow * budget))}× burn, which reaches the threshold of tier "${worst.name}" ` +
      `(${formatNumber(worst.factor)}×, an error ratio of ${formatNumber(worst.errorRatioThreshold * 100)} %)${others}, so the tier would fire on any single failure ` +
      `instead of measuring a burn rate (SRE Workbook, "Alerting on SLOs": low-traffic services). Raise minEventsPerWindow to at least ${needed}, ` +
      `omit it so each tier takes its own minimum` +
      (highestObjective > 0 ? `, or lower objectivePercent below ${formatNumber(Number(highestObjective.toPrecision(6)))}` : ''),
    { prop: 'minEventsPerWindow' },
  );
}

/** The smallest error budget an SLO may have: one bad event in a million (objectivePercent 99.9999). */
export const MIN_ERROR_BUDGET = 1e-6;

/**
 * Refuses an objective so close to 100 % that its budget is below one bad event in a million.
 * Below that, the alarms cannot carry it:
 * - the burn-rate expressions divide by the budget written as a JavaScript number, and below 1e-6
 *   that is exponent notation (99.99999 % → `1.00000000032e-7`, the double's noise included),
 *   which CloudWatch's "Metric math syntax and functions" never shows (its scalars are like 2, -5,
 *   50.25) and aws-cdk-lib itself reads as an unknown query id `e`;
 * - one request stops being a page by itself only in windows of more than 1 ÷ (factor × budget)
 *   events ({@link defaultMinEventsPerWindow}): 694,445 requests in the 5-minute window of the
 *   14.4× tier at 99.99999 %, 2,300 a second.
 */
export function validateErrorBudgetMeasurable(objectivePercent: number, prop = 'objectivePercent'): void {
  validateObjectivePercent(objectivePercent, prop);
  const budget = errorBudget(objectivePercent);
  if (budget < MIN_ERROR_BUDGET) {
    const page = WORKBOOK_TIERS[0];
    const factor = burnRateFactor(page.budgetFraction, DEFAULT_COMPLIANCE_PERIOD_SECONDS, page.longWindowSeconds);
    throw new RollbackTriggersError(
      'RT119',
      `${prop} ${objectivePercent} leaves an error budget of ${budget} of events, below one bad event in a million: the burn-rate alarms ` +
        `divide by the budget in CloudWatch metric math, which has no documented notation for ${budget}, ` +
        `and a window would need over ${Math.floor(1 / (factor * budget))} events before one failed request stops ` +
        `firing the workbook's ${formatNumber(factor)}× tier by itself — use at most 99.9999 (six nines)`,
      { prop },
    );
  }
}

/**
 * Seconds of a total outage (every event bad) that spend the whole compliance period's budget:
 * budget × period. The SRE Workbook ("Extreme availability goals") notes that for very high
 * objectives this is shorter than any alert can react; CloudWatch evaluates an alarm once a
 * minute at best for periods of a minute or more.
 */
export function fullOutageBudgetSeconds(objectivePercent: number, compliancePeriodSeconds: number): number {
  return errorBudget(objectivePercent) * compliancePeriodSeconds;
}

/** The error budget as a fraction of events: 99.9 % → 0.001. */
export function errorBudget(objectivePercent: number): number {
  validateObjectivePercent(objectivePercent);
  // Computed from the complement in percent to keep 99.9 → 0.001 free of float noise.
  return Number(((100 - objectivePercent) / 100).toPrecision(12));
}

/** How many times faster than "exactly on budget" an error ratio spends the budget. */
export function burnRate(errorRatio: number, objectivePercent: number): number {
  return errorRatio / errorBudget(objectivePercent);
}

/**
 * One multi-window, multi-burn-rate tier (Google SRE Workbook, "Alerting on SLOs", recipe 6):
 * fire when both windows burn faster than `factor`, where
 * factor = budget fraction × compliance period ÷ long window.
 */
export interface TierSpec {
  /** Short, stable name used in alarm ids and the plan, e.g. `page-1h`. */
  readonly name: string;
  /** `page` or `ticket`. */
  readonly severity: Severity;
  /** Share of the period's error budget the tier lets burn in its long window (0.02 = 2 %). */
  readonly budgetFraction: number;
  readonly longWindowSeconds: number;
  readonly shortWindowSeconds: number;
}

export type Severity = 'page' | 'ticket';

/** A tier with everything derived for one objective and compliance period. */
export interface DerivedTier extends TierSpec {
  /** Burn-rate threshold, e.g. 14.4. */
  readonly factor: number;
  /** The error ratio at which the tier's windows reach the threshold (factor × budget). */
  readonly errorRatioThreshold: number;
}

/** The four tiers of the SRE Workbook, in order from fastest to slowest. */
export const WORKBOOK_TIERS: readonly TierSpec[] = [
  { name: 'page-1h', severity: 'page', budgetFraction: 0.02, longWindowSeconds: 3_600, shortWindowSeconds: 300 },
  { name: 'page-6h', severity: 'page', budgetFraction: 0.05, longWindowSeconds: 21_600, shortWindowSeconds: 1_800 },
  { name: 'ticket-1d', severity: 'ticket', budgetFraction: 0.1, longWindowSeconds: 86_400, shortWindowSeconds: 7_200 },
  { name: 'ticket-3d', severity: 'ticket', budgetFraction: 0.1, longWindowSeconds: 259_200, shortWindowSeconds: 21_600 },
];

/** factor = budget fraction × compliance period ÷ long window. */
export function burnRateFactor(budgetFraction: number, compliancePeriodSeconds: number, longWindowSeconds: number): number {
  return Number(((budgetFraction * compliancePeriodSeconds) / longWindowSeconds).toPrecision(12));
}

/**
 * Derives a tier's factor and error-ratio threshold for an objective, and rejects tiers that are
 * malformed or can never fire (threshold above a 100 % error ratio).
 */
export function deriveTier(tier: TierSpec, objectivePercent: number, compliancePeriodSeconds: number): DerivedTier {
  const where = `tier "${tier.name}"`;
  if (!(tier.budgetFraction > 0 && tier.budgetFraction <= 1)) {
    throw new RollbackTriggersError(
      'RT102',
      `${where}: budget consumed must be above 0 % and at most 100 % of the error budget, got ${formatNumber(tier.budgetFraction * 100)} %`,
    );
  }
  if (!(tier.longWindowSeconds > 0) || !(tier.shortWindowSeconds > 0)) {
    throw new RollbackTriggersError('RT103', `${where}: windows must be positive, got long ${tier.longWindowSeconds} s and short ${tier.shortWindowSeconds} s`);
  }
  if (tier.shortWindowSeconds >= tier.longWindowSeconds) {
    throw new RollbackTriggersError(
      'RT104',
      `${where}: shortWindow must be shorter than longWindow, got short ${formatSeconds(tier.shortWindowSeconds)} and long ${formatSeconds(tier.longWindowSeconds)} — the workbook uses long ÷ 12`,
    );
  }
  if (tier.longWindowSeconds > compliancePeriodSeconds) {
    throw new RollbackTriggersError(
      'RT105',
      `${where}: longWindow ${formatSeconds(tier.longWindowSeconds)} is longer than the compliance period ${formatSeconds(compliancePeriodSeconds)} — ` +
        'lengthen compliancePeriod or shorten the tier\'s longWindow',
    );
  }
  const budget = errorBudget(objectivePercent);
  const factor = burnRateFactor(tier.budgetFraction, compliancePeriodSeconds, tier.longWindowSeconds);
  const errorRatioThreshold = Number((factor * budget).toPrecision(12));
  if (errorRatioThreshold > 1) {
    throw new RollbackTriggersError(
      'RT106',
      `${where} can never fire for a ${formatNumber(objectivePercent)} % objective: its burn-rate factor ${formatNumber(factor)} ` +
        `needs an error ratio of ${formatNumber(errorRatioThreshold * 100)} %, above 100 %. ` +
        `Lower its budget share, lengthen its long window, or drop the tier (the largest usable factor is ${formatNumber(1 / budget)})`,
    );
  }
  return { ...tier, factor, errorRatioThreshold };
}

/** Whether a tier can fire at all for an objective (its threshold is reachable by some error ratio ≤ 100 %). */
export function canTierFire(tier: TierSpec, objectivePercent: number, compliancePeriodSeconds: number): boolean {
  try {
    deriveTier(tier, objectivePercent, compliancePeriodSeconds);
    return true;
  } catch {
    return false;
  }
}

/**
 * Seconds after a constant error ratio starts (on a clean history and steady traffic) until both
 * windows of the tier average at least the threshold: the long window needs
 * threshold × long ÷ errorRatio seconds of bad traffic, the short window proportionally less.
 * `undefined` when the ratio is below the threshold, so the tier never fires.
 */
export function secondsToFire(tier: DerivedTier, errorRatio: number): number | undefined {
  if (!(errorRatio > 0) || errorRatio < tier.errorRatioThreshold) return undefined;
  const longSeconds = (tier.errorRatioThreshold * tier.longWindowSeconds) / errorRatio;
  const shortSeconds = (tier.errorRatioThreshold * tier.shortWindowSeconds) / errorRatio;
  return Math.max(longSeconds, shortSeconds);
}

/**
 * One day, in seconds: CloudWatch evaluates a metric alarm whose Period × EvaluationPeriods
 * exceeds it once an hour instead of once a minute.
 *
 * CloudWatch User Guide, "Alarm evaluation" → "Alarm evaluation settings"
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-evaluation.html#alarm-evaluation-settings):
 * "For any period of one minute or longer, an alarm is evaluated every minute" (as in the guide's
 * last GitHub revision, awsdocs/amazon-cloudwatch-user-guide, doc_source/AlarmThatSendsEmail.md)
 * and — read in the current Chinese edition of the page,
 * https://docs.amazonaws.cn/zh_cn/AmazonCloudWatch/latest/monitoring/alarm-evaluation.md —
 * "如果评估周期数乘以每个评估周期的长度得到的结果超过一天，则每小时评估一次警报" ("if the number of
 * evaluation periods multiplied by the length of each evaluation period exceeds one day, the
 * alarm is evaluated once per hour"), with a pointer to the page's "evaluating a multi-day alarm"
 * example. A window alarm has one evaluation period, so this is every window longer than a day:
 * the workbook's 3-day ticket window, not its 1-day one.
 */
export const HOURLY_EVALUATION_AFTER_SECONDS = 86_400;

/** How often an hourly-evaluated alarm is evaluated. */
export const HOURLY_EVALUATION_INTERVAL_SECONDS = 3_600;

/**
 * Seconds between two evaluations of a metric alarm with a period of a minute or more: 60, or
 * 3,600 when Period × EvaluationPeriods exceeds one day ({@link HOURLY_EVALUATION_AFTER_SECONDS}).
 */
export function alarmEvaluationIntervalSeconds(periodSeconds: number, evaluationPeriods = 1): number {
  return periodSeconds * evaluationPeriods > HOURLY_EVALUATION_AFTER_SECONDS ? HOURLY_EVALUATION_INTERVAL_SECONDS : 60;
}

/**
 * Detection time as CloudWatch would deliver it: alarms with periods of a minute or more are
 * evaluated once a minute on a sliding window, so the continuous time rounds up to the next
 * evaluation; ingestion delay is added on top.
 *
 * For a tier with a window over a day, whose alarm is evaluated only once an hour, this is the
 * earliest time (the errors start so that the window breaches just as an hourly evaluation
 * comes); {@link detectionRangeSeconds} gives the latest too.
 */
export function detectionSeconds(
  tier: DerivedTier,
  errorRatio: number,
  evaluationIntervalSeconds = 60,
  ingestionDelaySeconds = 0,
): number | undefined {
  const seconds = secondsToFire(tier, errorRatio);
  if (seconds === undefined) return undefined;
  return Math.ceil(seconds / evaluationIntervalSeconds - 1e-9) * evaluationIntervalSeconds + ingestionDelaySeconds;
}

/** When a tier fires: the earliest and the latest time, in seconds after the errors start. */
export interface DetectionRange {
  readonly earliestSeconds: number;
  /** Equal to `earliestSeconds` unless a window of the tier is evaluated once an hour. */
  readonly latestSeconds: number;
}

/**
 * The detection time of a tier as a range. Each window breaches after a whole number of minutes
 * (threshold × window ÷ error ratio, rounded up); a window alarm evaluated every minute fires then,
 * one evaluated once an hour ({@link alarmEvaluationIntervalSeconds}: windows over a day) at the
 * first hourly evaluation from then on — on the spot if the errors started so that it breaches as
 * an evaluation comes, 59 minutes later if it breaches a minute after one. The tier (long AND
 * short) fires when the later of its two alarms does; both hourly alarms share the same hours.
 * The ingestion delay is added to both ends. `undefined` when the tier never fires at that ratio.
 */
export function detectionRangeSeconds(tier: DerivedTier, errorRatio: number, ingestionDelaySeconds = 0): DetectionRange | undefined {
  if (!(errorRatio > 0) || errorRatio < tier.errorRatioThreshold) return undefined;
  const breach = (windowSeconds: number) => Math.ceil((tier.errorRatioThreshold * windowSeconds) / errorRatio / 60 - 1e-9) * 60;
  const wait = (windowSeconds: number) => {
    const interval = alarmEvaluationIntervalSeconds(windowSeconds);
    return interval > 60 ? interval - 60 : 0;
  };
  const long = breach(tier.longWindowSeconds);
  const short = breach(tier.shortWindowSeconds);
  return {
    earliestSeconds: Math.max(long, short) + ingestionDelaySeconds,
    latestSeconds: Math.max(long + wait(tier.longWindowSeconds), short + wait(tier.shortWindowSeconds)) + ingestionDelaySeconds,
  };
}

/** Share of the compliance period's budget spent by the time the tier fires. */
export function budgetSpentAtFire(
  tier: DerivedTier,
  errorRatio: number,
  objectivePercent: number,
  compliancePeriodSeconds: number,
  fireAfterSeconds = secondsToFire(tier, errorRatio),
): number | undefined {
  if (fireAfterSeconds === undefined) return undefined;
  return (errorRatio * fireAfterSeconds) / (errorBudget(objectivePercent) * compliancePeriodSeconds);
}

/**
 * Default minimum number of events a window must hold before its tier may fire: the smallest count
 * at which one failed event alone stays below the tier's error-ratio threshold, so a single error
 * on a quiet service never pages. (At 10 requests an hour, one failure is a 10 % error ratio.)
 */
export function defaultMinEventsPerWindow(tier: DerivedTier): number {
  const t = tier.errorRatioThreshold;
  // floor(1 / t) + 1, corrected by one where float division lands on the wrong side of a whole
  // number: the result is the smallest n with 1 / n < t, as the alarm's comparison will see it.
  let n = Math.floor(1 / t) + 1;
  while (n > 1 && 1 / (n - 1) < t) n--;
  while (1 / n >= t) n++;
  return n;
}
