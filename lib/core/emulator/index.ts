/**
 * An emulator of CloudWatch alarm evaluation for exactly the alarms the constructs synthesize.
 * Pure TypeScript: no aws-cdk-lib, no AWS SDK (DESIGN.md, "core").
 *
 * What it models (sources: CloudWatch User Guide, "Using Amazon CloudWatch alarms" → "Alarm
 * evaluation" and "Configuring how CloudWatch alarms treat missing data"; PutCompositeAlarm API):
 * - evaluation every minute on a sliding window for periods of a minute or more, and once an hour
 *   (at the minutes divisible by 60, on the data visible then; state and datapoint hold in
 *   between) for alarms whose period × evaluation periods exceeds one day — the 3-day window of
 *   the workbook's ticket-3d tier ({@link emulate});
 * - window alarms as rendered by `lib/private/alarm-factory.ts`: Sum(total) and Sum(bad) over the
 *   window, `IF(total >= minEvents, bad / total, 0) / budget`, `>=` threshold, 1 of 1;
 * - the rollback alarms that compare the new version with a baseline (`relativeBurnRateExpression`):
 *   the same, counted only while `bad / total` is strictly above `factor` times the baseline's ratio
 *   over the same window (0 when the baseline has fewer than minEvents events), given the baseline's
 *   series with the input ({@link relativeWindowBurnRate});
 * - M of N with the documented missing-data rules, including the premature-alarm rule
 *   ({@link evaluateMOfN});
 * - composites: `ALARM(x)` is true only while x is in ALARM, so INSUFFICIENT_DATA children count as
 *   not in ALARM; a composite is ALARM or OK (INSUFFICIENT_DATA only before its first evaluation),
 *   following its children in the same minute unless `compositeDelayMinutes` says otherwise;
 * - a configurable ingestion delay (data for minute m is visible from minute m + d + 1 on).
 *
 * What it simplifies:
 * - whole minutes only: 10/20/30-second (high-resolution) periods are rejected;
 * - the evaluation range (how many periods CloudWatch retrieves beyond EvaluationPeriods) is
 *   undocumented; `evaluationRangeExtraPeriods` defaults to the guide's examples (5 for 3: 2);
 * - the minute of the hour CloudWatch evaluates a multi-day alarm at is undocumented: minute 0;
 * - no composite reaction delay is documented: `compositeDelayMinutes` defaults to 0;
 * - nothing documents that two series of one minute arrive together: `seriesDelayMinutes` makes
 *   one series late (the alias behind the version's own series, one target group behind the other);
 * - a trigger period's datapoint appears whole once its last minute is visible (window alarms do
 *   aggregate partially visible windows);
 * - ActionsSuppressor only silences actions; states are emulated, actions are not.
 */
export * from './m-of-n';
export * from './series';
export * from './model';
export * from './emulate';
