/**
 * How a {@link ServiceLevelObjective} lays out its alarms. Every layout holds the same multiwindow
 * rule over the same window alarms, so pages and tickets fire and reset on the same minutes; they
 * differ in what CloudWatch bills and shows. (CloudWatch documents no delay for a composite to
 * follow its children; were there one, PER_TIER's composite of composites would pay it twice.)
 */
export enum AlarmLayout {
  /**
   * A long- and a short-window burn-rate alarm per tier, and one composite per severity whose rule
   * is the whole multiwindow rule, `(ALARM(long₁) AND ALARM(short₁)) OR (ALARM(long₂) AND
   * ALARM(short₂))`. The cheapest layout that reads the SLI's own metrics: $2.60 a month for the
   * four workbook tiers on a two-metric SLI at us-east-1 list prices.
   */
  EXACT = 'exact',
  /**
   * EXACT plus one composite per tier (long AND short), which the severity composites OR: a
   * tier's own alarm to look at or to act on, at $0.50 a month per tier more ($4.60 for the four
   * workbook tiers). The layout of the library's first releases.
   */
  PER_TIER = 'per-tier',
  /**
   * EXACT plus the SLO as a CloudWatch Application Signals request-based SLO on the same good/bad
   * and total queries, with a burn-rate configuration per tier window: the SLO, its attainment and
   * its error budget appear in the CloudWatch console's Service Level Objectives page. The alarms
   * are EXACT's: AWS documents no name or dimensions for the SLO's burn-rate metric, so none is
   * alarmed on. Application Signals bills the SLO on top of the alarms (CloudWatch pricing,
   * Application Signals).
   */
  NATIVE = 'native',
}
