import type { SloObservation, Verdict } from '../audit-events';
import type { RollbackPolicy } from '../policy';

/**
 * The simulator's contract: replay per-minute series through BOTH rollback paths — the CloudWatch
 * alarms as synthesized (the emulator in `../emulator`) and the evaluator's decision engine
 * (`../decision`, the same code the Lambda runs) — and say when each would roll back and why.
 * Pure data in, pure data out: the CLI reads files and draws; `npm run eval` generates scenarios.
 */

/**
 * One minute of one traffic stream. Each SLO counts its bad events in one field: `slow` for a
 * latency SLI, `failures` for a business-failure SLI, `errors` for the others.
 */
export interface MinuteCounts {
  /** Requests (for a business-failure SLI: the business operations attempted, failures included). */
  readonly requests: number;
  /** Failed requests (HTTP 5xx, Lambda errors) among `requests`. */
  readonly errors: number;
  /** Requests over the latency threshold, among `requests`. Needed by a latency SLO. */
  readonly slow?: number;
  /**
   * Business operations that failed (payments declined, orders lost) among `requests`: not HTTP or
   * Lambda errors — a request can succeed and its operation still fail. Needed by a business-failure SLO.
   */
  readonly failures?: number;
}

/** One entry of a series file. A minute with no entry has no datapoint (unlike `requests: 0`). */
export interface SeriesEntry extends MinuteCounts {
  /** Minutes from the start of the series (whole numbers, strictly increasing). */
  readonly minute: number;
  /** The current (old) version's own traffic this minute, when known. */
  readonly stable?: MinuteCounts;
  /** The new version's own traffic this minute, when known. */
  readonly canary?: MinuteCounts;
  /**
   * CloudWatch Synthetics canaries that ran this minute: canary name → the run's `SuccessPercent`
   * (0–100, the share of that minute's runs that succeeded). The evaluator replays the rollback trigger's
   * Synthetics health checks on them; a minute without a value for a canary had no run.
   */
  readonly synthetics?: Readonly<Record<string, number>>;
  /**
   * Heartbeats published this minute, by heartbeat trigger name (its construct id): the beats
   * (datapoints) of each version, as a `HeartbeatTrigger` given to the rollback trigger counts them.
   * The evaluator replays the trigger's heartbeats on them; a minute without a value for a
   * heartbeat had no beat — the dead man's switch. A heartbeat the series never names is not replayed.
   */
  readonly heartbeats?: Readonly<Record<string, HeartbeatMinute>>;
}

/** One minute of one heartbeat: how many beats each version published. */
export interface HeartbeatMinute {
  /** The new version's beats (its version dimension); read by a heartbeat with a `versionDimension`. */
  readonly canary?: number;
  /** The current version's beats (its version dimension): the reference before the release. */
  readonly stable?: number;
  /** The metric as declared, all versions together; read by a heartbeat without a `versionDimension`. @default canary + stable */
  readonly blended?: number;
}

/** How traffic moves to the new version. Percent and minutes as CodeDeploy configs name them. */
export interface DeploymentShape {
  readonly kind: 'all-at-once' | 'canary' | 'linear';
  /** canary: share of traffic during the canary step; linear: share added every step. */
  readonly percent?: number;
  /** canary: minutes before the rest shifts; linear: minutes between steps. */
  readonly intervalMinutes?: number;
  /** Minutes the evaluator bakes after all traffic shifted (AfterAllowTraffic). */
  readonly bakeMinutes: number;
}

export interface EvaluatorSettings {
  readonly tickSeconds: number;
  readonly metricDelaySeconds: number;
  readonly inconclusiveAction: 'fail' | 'pass';
  readonly compareWithBaseline: boolean;
  readonly deadlineMarginSeconds: number;
  /** See EvaluatorConfig.baselineFactor; default: the rollback trigger's (its policy entry records it), else 0. */
  readonly baselineFactor?: number;
}

export interface SimulationInput {
  /** The SLOs, threshold and rollback triggers, inline or read from a synthesized stack. */
  readonly policy: RollbackPolicy;
  readonly series: readonly SeriesEntry[];
  /**
   * Minute the deployment starts (traffic begins to shift), on the series' clock: a whole number,
   * not before the first entry. It may be after the last entry — a series that ends before the
   * release says that no datapoint arrived after it.
   */
  readonly releaseMinute: number;
  readonly deployment: DeploymentShape;
  /** @default the rollback trigger's settings in the policy, else the library defaults */
  readonly evaluator?: Partial<EvaluatorSettings>;
  /** CloudWatch ingestion delay applied to the alarm path, in minutes. @default 0 */
  readonly ingestionDelayMinutes?: number;
  /**
   * Which rollback trigger of the policy deploys (its `name` or construct `path`), when the policy
   * holds several (one per service).
   *
   * @default - the first rollback trigger of the policy
   */
  readonly rollbackTrigger?: string;
  /**
   * Replay as if the trigger's circuit breaker were open (it needs the rollbacks of earlier
   * releases, which a series does not hold): a rollback on evidence then asks a human first.
   * Refused when the trigger has no circuit breaker.
   *
   * @default false
   */
  readonly breakerOpen?: boolean;
}

/**
 * A phase of the deployment, for the timeline and the chart: `before` the release; `canary` and
 * `linear-step` while traffic shifts; `bake` for the configured bake minutes after all traffic
 * shifted (AfterAllowTraffic); `all-traffic` for the rest of the hook, while the evaluator waits for
 * the bake's last minutes of data (metric delay), or the whole hook when there is no bake; `after`
 * the deployment ended (share 1 when it succeeded, 0 after a rollback). Phases end at the decision.
 */
export interface DeploymentPhase {
  readonly name: 'before' | 'canary' | 'linear-step' | 'all-traffic' | 'bake' | 'after';
  /** First minute of the phase (inclusive). */
  readonly fromMinute: number;
  /** End of the phase (exclusive): the next phase's `fromMinute`. */
  readonly toMinute: number;
  /** Share of traffic on the new version in this phase, 0..1. */
  readonly canaryShare: number;
}

/** When one path (or one alarm of it) decided, with the reasons and numbers behind it. */
export interface PathOutcome {
  readonly path: 'alarm' | 'evaluator' | 'paging';
  /**
   * Minute of the decision; undefined when it never decided in the series. The evaluator decides on
   * its ticks, so the minute is fractional when `tickSeconds` is not a whole number of minutes.
   */
  readonly minute?: number;
  /**
   * Minutes of post-release data until the decision: `minute − releaseMinute`, the minutes the
   * series ran since the release before this path decided, ingestion and metric delays included.
   */
  readonly detectionMinutes?: number;
  readonly verdict: Verdict | 'none';
  /** Which alarm, SLO or check decided. */
  readonly source?: string;
  readonly reasons: readonly string[];
  /**
   * Whether this path rolls the deployment back (an alarm in ALARM during the deployment; the
   * evaluator reporting `Failed`, an inconclusive bake under a fail-closed policy included).
   * Always false for paging, which notifies and never rolls back.
   */
  readonly rollback?: boolean;
  /** Shadow mode: this path would have rolled the deployment back had the trigger enforced. */
  readonly wouldRollback?: boolean;
  /**
   * Evaluator: the approval gate asked a human first (an inconclusive verdict with ESCALATE, a pass
   * during an incident, or a rollback the open circuit breaker holds). The replay has nobody to
   * answer: the status is the one reported when the wait ends unanswered, at `minute`.
   */
  readonly askedHuman?: { readonly kind: 'inconclusive' | 'incident' | 'breaker'; readonly askedAtMinute: number; readonly timeoutSeconds: number; readonly onTimeout: 'Succeeded' | 'Failed' };
  /** Evaluator: the status reported to CodeDeploy. */
  readonly status?: 'Succeeded' | 'Failed';
  /** Evaluator: the numbers behind the verdict, per SLO and arm (as in the audit trail). */
  readonly observations?: readonly SloObservation[];
  /** Evaluator: the report raises an `Escalation Raised` audit event (a human should look). */
  readonly escalate?: boolean;
  /** Evaluator: incidents that are not the release's (a pre-existing incident), as the audit names them. */
  readonly incidents?: ReadonlyArray<{ readonly kind: 'pre-existing'; readonly slo: string; readonly reason: string }>;
}

/** Per-minute numbers for the chart. */
export interface SimulationMinute {
  readonly minute: number;
  readonly stableRequests?: number;
  readonly canaryRequests?: number;
  readonly blendedRequests?: number;
  /** Burn rate per window alarm id (blended SLO alarms and per-version rollback alarms). */
  readonly burnRates: Readonly<Record<string, number | null>>;
}

export interface SimulationResult {
  readonly phases: readonly DeploymentPhase[];
  /** Thresholds per window alarm id, for the chart. */
  readonly thresholds: Readonly<Record<string, number>>;
  readonly minutes: readonly SimulationMinute[];
  /** The deployment's outcome: the first path to roll back wins, else the evaluator's verdict. */
  readonly outcome: PathOutcome;
  /** Each path on its own: the alarm path (CodeDeploy polls), the evaluator, blended paging. */
  readonly paths: readonly PathOutcome[];
  /** The evaluator settings the replay used, defaults resolved. */
  readonly evaluatorSettings?: EvaluatorSettings;
  /** The ingestion delay the alarm replays used, in minutes. */
  readonly ingestionDelayMinutes?: number;
  /**
   * The guard window after the release succeeded, replayed on the series' minutes after the success.
   * Absent when the trigger has no guard window, or the release did not succeed (nothing to guard).
   */
  readonly guardWindow?: GuardWindowOutcome;
}

/**
 * The guard window's replay: after the release succeeded, the follow-up machine still judges the
 * page tier on the new version's own traffic (lambda/follow-up/guard.ts) — the same tick clock and
 * `decideBake` call (canary arm only, no comparison with the old version), from the success minute
 * for the trigger's `guardWindowSeconds`. A newer deployment, which would end it early, is not in a series.
 */
export interface GuardWindowOutcome {
  /** The window's first judged minute: the minute the release succeeded in (floored). */
  readonly startMinute: number;
  /** When the window ended: the tick that found the breach, or the last tick. Fractional like evaluator ticks. */
  readonly endMinute: number;
  /** The trigger's guard window, in seconds. */
  readonly durationSeconds: number;
  /** The last minute of data the deciding tick read (the metric delay behind `endMinute`). */
  readonly lastJudgedMinute: number;
  /**
   * `breach`: the page tier (or a Synthetics check) failed on the new version's traffic — a rollback
   * deployment to the known-good version; `held`: the whole window judged, no breach; `inconclusive`:
   * too little traffic to judge (nothing is done); `series-ended`: no breach in the minutes the series
   * holds, but it ends before the window's last judged minute, so the replay cannot say it held.
   */
  readonly outcome: 'breach' | 'held' | 'inconclusive' | 'series-ended';
  /** The tick that found the breach (equals `endMinute`). */
  readonly breachMinute?: number;
  /** Enforcing: a breach starts a rollback deployment (escalated instead when no known-good version was recorded). */
  readonly rollback?: boolean;
  /** Shadow mode: a breach is only audited; the guard would have rolled the release back. */
  readonly wouldRollback?: boolean;
  readonly reasons: readonly string[];
  /** The numbers behind the deciding tick, per SLO (as in the audit trail). */
  readonly observations?: readonly SloObservation[];
}
