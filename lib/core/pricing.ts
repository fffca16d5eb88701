/**
 * CloudWatch alarm list prices, us-east-1, USD per month (CloudWatch pricing page): a standard
 * alarm costs $0.10 per metric it reads (a metric-math alarm pays for every metric in the
 * expression), a high-resolution alarm $0.30 per metric, a composite alarm $0.50.
 */
export const CLOUDWATCH_ALARM_PRICES_USD = {
  standardPerMetric: 0.1,
  highResolutionPerMetric: 0.3,
  composite: 0.5,
} as const;

export function metricAlarmMonthlyUsd(metricCount: number, highResolution: boolean): number {
  return metricCount * (highResolution ? CLOUDWATCH_ALARM_PRICES_USD.highResolutionPerMetric : CLOUDWATCH_ALARM_PRICES_USD.standardPerMetric);
}

/** Sums money in cents so totals do not pick up float noise. */
export function sumUsd(values: readonly number[]): number {
  return Math.round(values.reduce((acc, v) => acc + Math.round(v * 100), 0)) / 100;
}
