import type { SloObservation, Verdict } from './audit-events';
import { judgeCanary } from './canary';
import type { EvaluatorConfig, EvaluatorSlo } from './evaluator-config';
import { HOOK_LIMIT_SECONDS } from './evaluator-config';

/**
 * The evaluator's decisions, as pure functions of what the handler read. The Lambda handler only
 * gathers inputs and carries out the result; the simulator replays the same functions.
 */

export type HookStatus = 'Succeeded' | 'Failed';

export type Decision =
  | { readonly action: 'continue'; readonly reasons: readonly string[]; readonly observations: readonly SloObservation[] }
  | {
      readonly action: 'report';
      readonly status: HookStatus;
      readonly verdict: Verdict;
      readonly reasons: readonly string[];
      readonly observations: readonly SloObservation[];
      /** A human should look (a configuration error, a deployment that could not be read). */
      readonly escalate?: boolean;
    };

export type InconclusiveAction = 'fail' | 'pass';

/** What an inconclusive verdict reports: `fail` (the default, fail closed) → Failed, `pass` → Succeeded. */
export function inconclusiveStatus(action: InconclusiveAction | undefined): HookStatus {
  return action === 'pass' ? 'Succeeded' : 'Failed';
}

/**
 * The one mapping of "not enough evidence" to a report: verdict `inconclusive`, status from the
 * configured action, the first reason saying why and what was reported.
 */
export function inconclusive(
  action: InconclusiveAction | undefined,
  why: string,
  details: readonly string[] = [],
  observations: readonly SloObservation[] = [],
  escalate = false,
): Decision & { action: 'report' } {
  const status = inconclusiveStatus(action);
  return {
    action: 'report',
    status,
    verdict: 'inconclusive',
    reasons: [`${why} (inconclusive → ${status})`, ...details],
    observations,
    ...(escalate ? { escalate } : {}),
  };
}

/**
 * AfterAllowTestTraffic (ECS): test traffic flows only when someone sends it, and production
 * traffic is judged next, at AfterAllowTraffic. So at this hook too little traffic passes; metrics
 * that could not be read never do.
 */
export function isTestTrafficHook(lifecycleEvent: string | undefined): boolean {
  return lifecycleEvent === 'AfterAllowTestTraffic';
}

/** Lifecycle events that check the release before traffic reaches it (no bake). */
export function isBeforeTrafficHook(lifecycleEvent: string | undefined): boolean {
  return lifecycleEvent === 'BeforeAllowTraffic' || lifecycleEvent === 'BeforeInstall';
}

export { ROLLBACK_DEPLOYMENT_CREATORS, isDeploymentFinished, isRollbackDeployment } from './deployment-kind';

export interface KnownGood {
  /** Lambda version number, or ECS task definition ARN. */
  readonly version: string;
  /** Lambda CodeSha256, or the image digests of the task definition. */
  readonly integrity?: string;
}

export interface BeforeTrafficInput {
  readonly currentVersion?: string;
  readonly targetVersion?: string;
  /** What is recorded as known-good for the deployment group, if anything yet. */
  readonly knownGood?: KnownGood;
  /** Integrity of the current version as it is now; `undefined` when it no longer exists. */
  readonly currentIntegrity?: string;
  /** Whether the current version still exists (Lambda version / ACTIVE task definition). */
  readonly currentExists: boolean;
  /** Why the known-good record could not be read (a read error is not "none recorded"). */
  readonly knownGoodUnreadable?: string;
  /** Why the current version could not be checked. */
  readonly currentUnreadable?: string;
  /** What an inconclusive check reports. @default 'fail' */
  readonly inconclusiveAction?: InconclusiveAction;
}

/**
 * BeforeAllowTraffic: the release must change something, and the version a rollback would return
 * to must still exist, unaltered since it was recorded as known-good.
 */
export function decideBeforeTraffic(input: BeforeTrafficInput): Decision & { action: 'report' } {
  const fail = (reason: string) => ({ action: 'report' as const, status: 'Failed' as const, verdict: 'fail' as const, reasons: [reason], observations: [] });
  if (input.targetVersion === undefined) return fail('CodeDeploy reported no target version for this deployment');
  if (input.currentVersion !== undefined && input.currentVersion === input.targetVersion) {
    return fail(`the new version ${input.targetVersion} is the version already serving traffic: nothing to deploy`);
  }
  // Without these reads nothing says the rollback target is intact: not a pass, not "none recorded".
  if (input.currentUnreadable !== undefined) {
    return inconclusive(input.inconclusiveAction, `could not check the current version ${input.currentVersion ?? '(none)'} (${input.currentUnreadable})`);
  }
  if (input.knownGoodUnreadable !== undefined) {
    return inconclusive(input.inconclusiveAction, `could not read the known-good record (${input.knownGoodUnreadable}), so the rollback target cannot be checked`);
  }
  if (input.currentVersion !== undefined && !input.currentExists) {
    return fail(`the current version ${input.currentVersion} no longer exists: a rollback would have nothing to return to`);
  }
  const reasons: string[] = [];
  const known = input.knownGood;
  if (known && input.currentVersion === known.version) {
    if (known.integrity !== undefined && input.currentIntegrity !== known.integrity) {
      return fail(
        `the known-good version ${known.version} was altered since it was recorded (integrity ${known.integrity} recorded, ${input.currentIntegrity ?? 'none'} now)`,
      );
    }
    reasons.push(`known-good version ${known.version} is intact`);
  } else if (known) {
    reasons.push(`the current version ${input.currentVersion ?? '(none)'} is not the recorded known-good ${known.version}; it exists and is the rollback target`);
  } else {
    reasons.push('no known-good version recorded yet (first deployment with rollback triggers)');
  }
  reasons.push(`deploying ${input.currentVersion ?? '(none)'} → ${input.targetVersion}`);
  return { action: 'report', status: 'Succeeded', verdict: 'pass', reasons, observations: [] };
}

/** Event counts of one SLO for one arm over a span of minutes. */
export interface Counts {
  readonly total: number;
  readonly bad: number;
  /** Minutes that had a `total` datapoint: 0 means the metric returned no data at all. */
  readonly datapoints: number;
}

/**
 * A read that produced no evidence: a query whose result was not `Complete` (Forbidden,
 * InternalError, still partial after the page cap), or a call that failed after its retries.
 */
export interface ReadProblem {
  readonly reason: string;
  /**
   * A configuration error that waiting will not fix (GetMetricData `Forbidden`, AccessDenied that
   * outlived the retries): decided at the end of the bake. A transient problem is read again on
   * the next tick and decided at the deadline only.
   */
  readonly permanent: boolean;
}

export interface SloBakeData {
  readonly slo: EvaluatorSlo;
  /** The new version, since traffic shifted. */
  readonly canary: Counts;
  /** The new version, over the last short window. */
  readonly canaryShort: Counts;
  /** The current version over the same minutes, when it still serves traffic. */
  readonly baseline?: Counts;
  /** Why the new version's numerator or total could not be read: its counts are no evidence. */
  readonly canaryProblems?: readonly ReadProblem[];
  /** Why the current version's counts could not be read. */
  readonly baselineProblems?: readonly ReadProblem[];
}

export interface BakeInput {
  readonly config: Pick<EvaluatorConfig, 'bakeSeconds' | 'inconclusiveAction' | 'deadlineMarginSeconds' | 'compareWithBaseline' | 'baselineFactor'>;
  /** Seconds of metrics judged so far (since traffic shifted, minus the ingestion delay). */
  readonly bakedSeconds: number;
  /** Seconds since CodeDeploy invoked the hook (its one-hour clock). */
  readonly hookAgeSeconds: number;
  /**
   * Hook age at which the bake decides with what it has (`bakeDeadline` − hook start).
   * @default HOOK_LIMIT_SECONDS − config.deadlineMarginSeconds
   */
  readonly deadlineSeconds?: number;
  /** The lifecycle event being baked (AfterAllowTestTraffic passes without test traffic). */
  readonly lifecycleEvent?: string;
  readonly slos: readonly SloBakeData[];
  /** Failed health checks this tick (HTTP probes, Synthetics canaries): each fails the bake. */
  readonly healthFailures?: readonly string[];
  /** Reads this tick that are not one SLO's (a Synthetics canary's metric, the call itself). */
  readonly readProblems?: readonly ReadProblem[];
  /** Comparison of canary with baseline; returns a failure reason or undefined. @default compareWithBaseline */
  readonly compare?: (slo: EvaluatorSlo, canary: Counts, baseline: Counts) => string | undefined;
}

export function burnRateOf(counts: Counts, errorBudget: number): number | undefined {
  return counts.total > 0 ? counts.bad / counts.total / errorBudget : undefined;
}

function observation(slo: EvaluatorSlo, arm: 'canary' | 'baseline', counts: Counts, windowSeconds: number): SloObservation {
  return {
    slo: slo.name,
    arm,
    windowSeconds,
    totalEvents: counts.total,
    badEvents: counts.bad,
    burnRate: burnRateOf(counts, slo.errorBudget),
    threshold: slo.failBurnRate,
  };
}

const fmt = (n: number | undefined) => (n === undefined ? 'n/a' : String(Number(n.toPrecision(3))));

/**
 * One bake tick. Fails as soon as any SLO's new-version traffic burns at the page rate over both
 * the bake so far and the short window (with enough events), or the canary judge finds it worse
 * than the current version, or a health check fails. Passes when the bake is over and every SLO
 * saw enough traffic, read without error. Otherwise never a silent pass:
 * - too little traffic at the end of the bake is inconclusive (the configured action decides),
 *   except at AfterAllowTestTraffic, where it passes (`isTestTrafficHook`);
 * - metrics that could not be read are no evidence: a transient problem is read again on the
 *   next tick and decided inconclusive at the deadline only; a configuration error (permanent) is
 *   decided inconclusive, with an escalation, when the bake is over.
 * At the deadline it decides with what it has.
 */
export function decideBake(input: BakeInput): Decision {
  const observations: SloObservation[] = [];
  const failures: string[] = [...(input.healthFailures ?? [])];
  const starved: string[] = [];
  const unread: ReadProblem[] = [];
  for (const data of input.slos) {
    const { slo, canary, canaryShort } = data;
    const baselineProblems = data.baselineProblems ?? [];
    // A baseline that could not be read cannot excuse the new version (shared incident) either.
    const baseline = baselineProblems.length > 0 ? undefined : data.baseline;
    if ((data.canaryProblems ?? []).length > 0) {
      unread.push(...data.canaryProblems!.map((p) => ({ ...p, reason: `${slo.name}: ${p.reason}` })));
      continue;
    }
    observations.push(observation(slo, 'canary', canary, input.bakedSeconds));
    if (baseline) observations.push(observation(slo, 'baseline', baseline, input.bakedSeconds));
    if (canary.datapoints === 0 || canary.total < slo.minEvents) {
      starved.push(
        canary.datapoints === 0
          ? `${slo.name}: no datapoints for the new version (a misdimensioned metric fails open in CloudWatch; here it is inconclusive)`
          : `${slo.name}: only ${canary.total} of the ${slo.minEvents} events needed`,
      );
      continue;
    }
    const burn = burnRateOf(canary, slo.errorBudget)!;
    const shortBurn = burnRateOf(canaryShort, slo.errorBudget);
    // An incident every version shares (a dependency down, a blip) burns the current version on
    // the same minutes too: it is no reason to roll the new one back.
    const factor = input.config.baselineFactor ?? 0;
    const shared =
      factor > 0 && baseline !== undefined && baseline.total >= slo.minEvents && canary.bad / canary.total <= factor * (baseline.bad / baseline.total);
    if (shared && burn >= slo.failBurnRate) continue;
    if (burn >= slo.failBurnRate && shortBurn !== undefined && shortBurn >= slo.failBurnRate) {
      failures.push(
        `${slo.name}: the new version burns its error budget at ${fmt(burn)}× over ${Math.round(input.bakedSeconds / 60)} min ` +
          `(${canary.bad} of ${canary.total} events bad) and ${fmt(shortBurn)}× over the short window; the threshold is ${fmt(slo.failBurnRate)}×`,
      );
      continue;
    }
    if (input.config.compareWithBaseline && data.baseline) {
      if (baselineProblems.length > 0) {
        // The comparison is part of the judgement: without it this SLO has not passed.
        unread.push(...baselineProblems.map((p) => ({ ...p, reason: `${slo.name} (current version, for the canary judge): ${p.reason}` })));
        continue;
      }
      const reason = (input.compare ?? compareWithBaseline)(slo, canary, data.baseline);
      if (reason) failures.push(`${slo.name}: ${reason}`);
    }
  }
  unread.push(...(input.readProblems ?? []));
  const unreadReasons = unread.map((p) => (p.permanent ? `${p.reason} (configuration error: waiting will not fix it)` : p.reason));
  // Failing needs no complete picture: what was read shows the new version is bad.
  if (failures.length > 0) return { action: 'report', status: 'Failed', verdict: 'fail', reasons: [...failures, ...unreadReasons], observations };

  const deadline = input.deadlineSeconds ?? HOOK_LIMIT_SECONDS - input.config.deadlineMarginSeconds;
  const bakeOver = input.bakedSeconds >= input.config.bakeSeconds;
  const deadlineNear = input.hookAgeSeconds >= deadline;
  const limit = `CodeDeploy's one-hour hook limit is ${Math.round(HOOK_LIMIT_SECONDS - input.hookAgeSeconds)} s away`;
  const when = bakeOver ? 'bake complete' : limit;
  if (unread.length > 0) {
    const permanent = unread.some((p) => p.permanent);
    if (deadlineNear || (bakeOver && permanent)) {
      // Said as it is: a transient problem waits for the deadline, a configuration error does not.
      return inconclusive(input.config.inconclusiveAction, `${deadlineNear ? limit : when}, but metrics could not be read`, [...unreadReasons, ...starved], observations, permanent);
    }
    return { action: 'continue', reasons: [...unreadReasons, ...starved], observations };
  }
  if (!bakeOver && !deadlineNear) {
    return { action: 'continue', reasons: starved, observations };
  }
  if (starved.length > 0) {
    if (isTestTrafficHook(input.lifecycleEvent)) {
      return inconclusive('pass', `${when} with too little test traffic at AfterAllowTestTraffic: test traffic flows only when someone sends it, production traffic is judged at AfterAllowTraffic`, starved, observations);
    }
    return inconclusive(input.config.inconclusiveAction, `${when} without enough data`, starved, observations);
  }
  return {
    action: 'report',
    status: 'Succeeded',
    verdict: 'pass',
    reasons: [`${when}: every SLO held on the new version's own traffic`],
    observations,
  };
}

/**
 * The canary judge on one SLO's error proportion: the new version fails only when it is worse than
 * the current version on the same minutes both by Fisher's exact test and beyond the effect-size
 * tolerance (so a significant but tiny difference does not roll back). Too few events on either
 * side is no verdict here; the burn-rate check above still applies.
 *
 * The judge looks again on every tick (ten in a default bake), so its significance level is
 * divided by that many looks (Bonferroni: 0.01 / 10); and the new version may add up to twice the
 * SLO's error budget as an error ratio, so a baseline that happened to show no errors does not
 * shrink the tolerance to nothing. Measured with `npm run eval` over 100 seeds.
 */
/** 0.01 over the ten looks of a default ten-minute bake. */
export const REPEATED_LOOK_P_VALUE = 0.001;

export function compareWithBaseline(slo: EvaluatorSlo, canary: Counts, baseline: Counts): string | undefined {
  const judgement = judgeCanary({
    metrics: [
      {
        kind: 'proportion',
        name: slo.name,
        critical: true,
        canary: { total: canary.total, bad: canary.bad },
        baseline: { total: baseline.total, bad: baseline.bad },
        thresholds: {
          minCanaryEvents: slo.minEvents,
          minBaselineEvents: slo.minEvents,
          failPValue: REPEATED_LOOK_P_VALUE,
          maxAbsoluteIncrease: 2 * slo.errorBudget,
        },
      },
    ],
  });
  if (judgement.verdict !== 'fail') return undefined;
  const metric = judgement.metrics[0];
  return `the new version is worse than the current one on the same minutes: ${metric.reasons.join('; ')}`;
}

// ---------------------------------------------------------------------------------------------
// What `resolve` and the steps after the report decide.

/**
 * A hook of a deployment of another application or deployment group is not this trigger's: its
 * metrics are not the ones configured here, and the evaluator's IAM is scoped to its own group.
 * Returns why it is refused, or undefined when it is ours (or the configuration names no group).
 */
export function foreignDeploymentReason(
  guarded: { readonly applicationName?: string; readonly deploymentGroupName?: string },
  deployment: { readonly applicationName?: string; readonly deploymentGroupName?: string },
): string | undefined {
  if (guarded.applicationName === undefined && guarded.deploymentGroupName === undefined) return undefined;
  const same =
    (guarded.applicationName === undefined || guarded.applicationName === deployment.applicationName) &&
    (guarded.deploymentGroupName === undefined || guarded.deploymentGroupName === deployment.deploymentGroupName);
  if (same) return undefined;
  const name = (g: typeof guarded) => `${g.applicationName ?? '(no application)'}/${g.deploymentGroupName ?? '(no group)'}`;
  return `refused: deployment of group ${name(deployment)}, this trigger guards ${name(guarded)}; nothing was reported (its metrics are not this trigger's, and its IAM is scoped to its own group)`;
}

/** A read that `resolve` needs failed after the step's retries. */
export interface UnreadableInput {
  /** `deployment`: GetDeployment (rollback or release unknown); `targets`: the versions of a release. */
  readonly what: 'deployment' | 'targets';
  readonly reason: string;
  /** Consecutive resolve attempts that failed, this one included. */
  readonly attempts: number;
  readonly hookAgeSeconds: number;
  /** Hook age at which the bake decides with what it has. */
  readonly deadlineSeconds: number;
  readonly inconclusiveAction?: InconclusiveAction;
}

/**
 * Never decided after seconds: the read is tried again on the next tick, until the deadline. Then
 * a deployment that could never be read reports Succeeded with an escalation (it may be a
 * rollback, and a blocked rollback has no safety net; a release is still guarded by the alarm
 * path, which CodeDeploy polls itself). A release whose versions could not be read is inconclusive.
 */
export function decideUnreadable(input: UnreadableInput): Decision {
  const reasons = [`${input.what === 'deployment' ? 'GetDeployment' : "the deployment's targets"} could not be read (${input.attempts} attempt${input.attempts === 1 ? '' : 's'}): ${input.reason}`];
  if (input.hookAgeSeconds < input.deadlineSeconds) return { action: 'continue', reasons, observations: [] };
  if (input.what === 'targets') {
    return inconclusive(input.inconclusiveAction, 'deadline reached without the versions of this release', reasons, [], true);
  }
  return {
    action: 'report',
    status: 'Succeeded',
    verdict: 'skipped',
    reasons: [
      'deadline reached without reading the deployment: reporting Succeeded so a possible rollback is never blocked — the alarm path still guards a release',
      ...reasons,
    ],
    observations: [],
    escalate: true,
  };
}

/** What CodeDeploy applied to a hook that answered LifecycleEventAlreadyCompletedException. */
export interface AlreadyCompletedInput {
  /** The status this execution tried to report. */
  readonly sent: HookStatus;
  readonly lifecycleEvent?: string;
  /** The hook's lifecycle event status as CodeDeploy shows it now; undefined when it could not be read. */
  readonly hookStatus?: string;
  readonly deploymentStatus?: string;
  /** Why the status could not be read. */
  readonly readError?: string;
}

export interface AlreadyCompletedOutcome {
  /** `ours`: CodeDeploy shows the status we sent; `other`: it applied the other one; `unknown`: it cannot be told. */
  readonly applied: 'ours' | 'other' | 'unknown';
  readonly reasons: readonly string[];
  /** A human should look: the outcome is unknown, or a Failed verdict was not applied. */
  readonly escalate: boolean;
}

/** Says what CodeDeploy actually applied, never what we hoped it did. */
export function alreadyCompletedOutcome(input: AlreadyCompletedInput): AlreadyCompletedOutcome {
  const event = input.lifecycleEvent ?? 'the hook';
  const deployment = `deployment ${input.deploymentStatus ?? 'status unknown'}`;
  const shown = input.hookStatus === 'Succeeded' || input.hookStatus === 'Failed' ? input.hookStatus : undefined;
  if (shown === input.sent) {
    return {
      applied: 'ours',
      escalate: false,
      reasons: [`CodeDeploy had already applied ${shown} to ${event} (${deployment}): this execution's earlier report, whose answer was lost`],
    };
  }
  if (shown !== undefined) {
    return {
      applied: 'other',
      escalate: input.sent === 'Failed',
      reasons: [`hook already completed: CodeDeploy applied ${shown} to ${event} (${deployment}); the ${input.sent} this execution decided was not applied`],
    };
  }
  return {
    applied: 'unknown',
    escalate: true,
    reasons: [
      `hook already completed; what CodeDeploy applied to ${event} is unknown (${input.readError ?? `its status reads ${input.hookStatus ?? 'nothing'}`}, ${deployment}); the ${input.sent} this execution decided may not have been applied`,
    ],
  };
}
