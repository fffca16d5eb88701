import { RollbackTriggersError } from '../errors';
import type { PolicyAlarm } from '../policy';

/**
 * CloudWatch's evaluation of one metric alarm from its recent datapoints: "M out of N" with the
 * documented treatment of missing data.
 *
 * Source: Amazon CloudWatch User Guide, "Configuring how CloudWatch alarms treat missing data"
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html;
 * awsdocs/amazon-cloudwatch-user-guide, doc_source/AlarmThatSendsEmail.md, sections "How alarm
 * state is evaluated when data is missing" and "Avoiding premature transitions to alarm state").
 */

/** The three states of a CloudWatch alarm. Alarms start in INSUFFICIENT_DATA. */
export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** `TreatMissingData` of PutMetricAlarm (CloudWatch's default is `missing`). */
export type TreatMissingData = PolicyAlarm['treatMissingData'];

/** The comparison operators a threshold alarm takes (anomaly-detection bands excluded). */
export type ComparisonOperatorName =
  | 'GreaterThanOrEqualToThreshold'
  | 'GreaterThanThreshold'
  | 'LessThanThreshold'
  | 'LessThanOrEqualToThreshold';

const COMPARISONS: Readonly<Record<ComparisonOperatorName, (value: number, threshold: number) => boolean>> = {
  GreaterThanOrEqualToThreshold: (v, t) => v >= t,
  GreaterThanThreshold: (v, t) => v > t,
  LessThanThreshold: (v, t) => v < t,
  LessThanOrEqualToThreshold: (v, t) => v <= t,
};

const TREATMENTS: readonly TreatMissingData[] = ['notBreaching', 'breaching', 'ignore', 'missing'];

export function isComparisonOperatorName(value: string): value is ComparisonOperatorName {
  return Object.prototype.hasOwnProperty.call(COMPARISONS, value);
}

export function isTreatMissingData(value: string): value is TreatMissingData {
  return (TREATMENTS as readonly string[]).includes(value);
}

/** Whether one datapoint breaches: `value <op> threshold`. */
export function isBreaching(value: number, comparison: ComparisonOperatorName, threshold: number): boolean {
  return COMPARISONS[comparison](value, threshold);
}

/** EvaluationPeriods (N), DatapointsToAlarm (M) and TreatMissingData of one metric alarm. */
export interface MOfNConfig {
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly treatMissingData: TreatMissingData;
}

/**
 * The state an alarm moves to, given the datapoints of its evaluation range.
 *
 * `range` holds one entry per period of the evaluation range, oldest first, newest last: `true`
 * breaching, `false` not breaching, `undefined` missing. CloudWatch retrieves more periods than
 * EvaluationPeriods ("The time frame of the data points that it attempts to retrieve is the
 * evaluation range"; its exact size is not documented — the guide's examples retrieve 5 for
 * N = 3), so `range.length` must be at least N. How many extra periods the emulator passes is its
 * `evaluationRangeExtraPeriods` option (`emulate.ts`, default 2).
 *
 * The documented rules, in order:
 * 1. At least N real datapoints in the range: the N most recent real ones decide (ALARM when at
 *    least M breach); TreatMissingData is not consulted.
 * 2. No real datapoint: `breaching` → ALARM, `notBreaching` → OK, `ignore` → the current state,
 *    `missing` → INSUFFICIENT_DATA.
 * 3. Fewer than N real datapoints: every real one counts, and only as many missing ones as needed
 *    to reach N are filled in. `breaching` fills count as breaching, `notBreaching` fills as not.
 *    With `missing` and `ignore` the fills count for neither: M breaching real datapoints alarm,
 *    a non-breaching real one among fewer than M breaching ones gives OK (guide, tables 1 and 2:
 *    `0 - - - -` and `0 - X - -` are OK for both). When every real datapoint breaches but there
 *    are fewer than M, `ignore` keeps the current state, and `missing` applies the
 *    premature-alarm rule: ALARM when the oldest breaching datapoint is at least M periods old
 *    (`- - X - -` with M = 3, `- - - X -` with M = 2), otherwise INSUFFICIENT_DATA (`- - - - X`,
 *    shown as "Insufficient data" by an earlier revision of the same page).
 */
export function evaluateMOfN(range: readonly (boolean | undefined)[], config: MOfNConfig, current: AlarmState): AlarmState {
  const n = config.evaluationPeriods;
  const m = config.datapointsToAlarm;
  validateMOfN(config, range.length);

  let real = 0;
  let breachingReal = 0;
  let oldestRealIndex = -1;
  for (let i = 0; i < range.length; i++) {
    if (range[i] === undefined) continue;
    if (oldestRealIndex < 0) oldestRealIndex = i;
    real++;
    if (range[i]) breachingReal++;
  }

  // 1. Enough real datapoints: the N most recent real ones decide.
  if (real >= n) {
    let seen = 0;
    let breaching = 0;
    for (let i = range.length - 1; i >= 0 && seen < n; i--) {
      if (range[i] === undefined) continue;
      seen++;
      if (range[i]) breaching++;
    }
    return breaching >= m ? 'ALARM' : 'OK';
  }

  // 2. Nothing real in the range.
  if (real === 0) {
    switch (config.treatMissingData) {
      case 'breaching':
        return 'ALARM'; // N breaching fills, and M ≤ N
      case 'notBreaching':
        return 'OK';
      case 'ignore':
        return current;
      case 'missing':
        return 'INSUFFICIENT_DATA';
    }
  }

  // 3. Some real datapoints, fewer than N: all of them count, plus N - real fills.
  switch (config.treatMissingData) {
    case 'breaching':
      return breachingReal + (n - real) >= m ? 'ALARM' : 'OK';
    case 'notBreaching':
      return breachingReal >= m ? 'ALARM' : 'OK';
    case 'ignore':
    case 'missing': {
      if (breachingReal >= m) return 'ALARM';
      if (breachingReal < real) return 'OK';
      if (config.treatMissingData === 'ignore') return current;
      // Age of the oldest breaching datapoint in periods, the newest period being 1.
      const age = range.length - oldestRealIndex;
      return age >= m ? 'ALARM' : 'INSUFFICIENT_DATA';
    }
  }
}

function validateMOfN(config: MOfNConfig, rangeLength: number): void {
  const { evaluationPeriods: n, datapointsToAlarm: m, treatMissingData } = config;
  if (!Number.isInteger(n) || n < 1) {
    throw new RollbackTriggersError('RT501', `evaluationPeriods must be a whole number of at least 1, got ${n}`);
  }
  if (!Number.isInteger(m) || m < 1 || m > n) {
    throw new RollbackTriggersError('RT501', `datapointsToAlarm must be a whole number from 1 to evaluationPeriods (${n}), got ${m}`);
  }
  if (!isTreatMissingData(treatMissingData)) {
    throw new RollbackTriggersError('RT501', `treatMissingData must be one of ${TREATMENTS.join(', ')}, got ${String(treatMissingData)}`);
  }
  if (rangeLength < n) {
    throw new RollbackTriggersError('RT501', `the evaluation range must hold at least evaluationPeriods (${n}) datapoints, got ${rangeLength}`);
  }
}
