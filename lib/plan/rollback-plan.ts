import { IConstruct } from 'constructs';
import { RollbackTriggersError } from '../core/errors';
import { type Plan, buildPlan, renderPlan } from '../core/plan';
import { type RollbackPolicy, policyFromEntries } from '../core/policy';
import { detectionRangeSeconds, detectionSeconds } from '../core/slo-math';
import { policyEntriesUnder } from '../private/policy-entries';

/** Options for a {@link RollbackPlan}. */
export interface RollbackPlanOptions {
  /**
   * Ingestion delay added to every detection time.
   *
   * @default 0
   */
  readonly ingestionDelaySeconds?: number;
}

/**
 * What the SLOs and triggers under a scope will do: thresholds, detection times, alarm count and
 * monthly cost. The same plan `rollback-triggers plan cdk.out` prints from a synthesized app.
 */
export class RollbackPlan {
  /** The plan of every SLO and trigger under `scope` (a stack, a stage or the app). */
  public static of(scope: IConstruct, options: RollbackPlanOptions = {}): RollbackPlan {
    return new RollbackPlan(policyFromEntries(policyEntriesUnder(scope)), options.ingestionDelaySeconds ?? 0);
  }

  /** Monthly cost of the alarms at us-east-1 list prices, in USD. */
  public readonly monthlyCostUsd: number;
  /** Metric alarms created: each SLO's window alarms, each threshold trigger's alarm and each rollback trigger's alarms. */
  public readonly metricAlarmCount: number;
  /** Composite alarms created: each SLO's severity composites (and tier composites in the PER_TIER layout), each group's. */
  public readonly compositeAlarmCount: number;
  /** SLOs under the scope. */
  public readonly sloCount: number;

  private readonly plan: Plan;

  private constructor(private readonly policy: RollbackPolicy, private readonly ingestionDelaySeconds: number) {
    const plan = buildPlan(policy, { ingestionDelaySeconds });
    this.plan = plan;
    this.monthlyCostUsd = plan.cost.monthlyUsd;
    this.metricAlarmCount = plan.cost.metricAlarms;
    this.compositeAlarmCount = plan.cost.compositeAlarms;
    this.sloCount = plan.slos.length;
  }

  /**
   * Seconds of a constant error ratio until a tier of an SLO fires, rounded up to CloudWatch's
   * one-minute evaluation (plus the ingestion delay).
   *
   * @returns undefined when the tier never fires at that ratio
   */
  public detectionSeconds(sloName: string, tierName: string, errorRatio: number): number | undefined {
    return detectionSeconds(this.tier(sloName, tierName), errorRatio, 60, this.ingestionDelaySeconds);
  }

  /**
   * The latest a tier of an SLO fires at a constant error ratio: the same as `detectionSeconds`
   * for a tier whose windows CloudWatch evaluates every minute; up to 59 minutes later for a
   * window over a day (the 3-day ticket window), which CloudWatch evaluates once an hour (Alarm
   * evaluation, CloudWatch User Guide) at a minute of the hour it does not document.
   *
   * @returns undefined when the tier never fires at that ratio
   */
  public latestDetectionSeconds(sloName: string, tierName: string, errorRatio: number): number | undefined {
    return detectionRangeSeconds(this.tier(sloName, tierName), errorRatio, this.ingestionDelaySeconds)?.latestSeconds;
  }

  private tier(sloName: string, tierName: string) {
    const slo = this.policy.slos.find((s) => s.name === sloName);
    const tier = slo?.tiers.find((t) => t.name === tierName);
    if (!tier) {
      const known = slo ? `SLO "${sloName}" has tiers ${slo.tiers.map((t) => t.name).join(', ')}` : `the plan has SLOs ${this.policy.slos.map((s) => s.name).join(', ') || '(none)'}`;
      throw new RollbackTriggersError('RT126', `no tier "${tierName}" in SLO "${sloName}": ${known}`, { prop: slo ? 'tierName' : 'sloName' });
    }
    return tier;
  }

  /** The plan as text, as the CLI prints it. */
  public render(): string {
    return renderPlan(this.plan);
  }

  /** The plan as a JSON-compatible object. */
  public toJson(): any {
    return JSON.parse(JSON.stringify(this.plan));
  }
}
