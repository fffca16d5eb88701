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
    };

/** CodeDeploy's `creator` for deployments it or CloudFormation started to roll back. */
const ROLLBACK_CREATORS = new Set(['codeDeployRollback', 'CloudFormationRollback']);

/** Hooks inside a rollback deployment must succeed at once: never block a rollback. */
export function isRollbackDeployment(creator: string | undefined): boolean {
  return creator !== undefined && ROLLBACK_CREATORS.has(creator);
}

/** A deployment in one of these states no longer accepts hook reports. */
export function isDeploymentFinished(status: string | undefined): boolean {
  return status === 'Succeeded' || status === 'Failed' || status === 'Stopped';
}

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

export interface SloBakeData {
  readonly slo: EvaluatorSlo;
  /** The new version, since traffic shifted. */
  readonly canary: Counts;
  /** The new version, over the last short window. */
  readonly canaryShort: Counts;
  /** The current version over the same minutes, when it still serves traffic. */
  readonly baseline?: Counts;
}

export interface BakeInput {
  readonly config: Pick<EvaluatorConfig, 'bakeSeconds' | 'inconclusiveAction' | 'deadlineMarginSeconds' | 'compareWithBaseline' | 'baselineFactor'>;
  /** Seconds of metrics judged so far (since traffic shifted, minus the ingestion delay). */
  readonly bakedSeconds: number;
  /** Seconds since CodeDeploy invoked the hook (its one-hour clock). */
  readonly hookAgeSeconds: number;
  readonly slos: readonly SloBakeData[];
  /** Failed health checks this tick (HTTP probes, Synthetics canaries): each fails the bake. */
  readonly healthFailures?: readonly string[];
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
 * than the current version. Passes when the bake is over and every SLO saw enough traffic. With too
 * little data at the end it is inconclusive, never a silent pass: the configured action decides.
 * Near CodeDeploy's one-hour deadline it decides with what it has.
 */
export function decideBake(input: BakeInput): Decision {
  const observations: SloObservation[] = [];
  const failures: string[] = [...(input.healthFailures ?? [])];
  const starved: string[] = [];
  for (const data of input.slos) {
    const { slo, canary, canaryShort, baseline } = data;
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
    if (input.config.compareWithBaseline && baseline) {
      const reason = (input.compare ?? compareWithBaseline)(slo, canary, baseline);
      if (reason) failures.push(`${slo.name}: ${reason}`);
    }
  }
  if (failures.length > 0) return { action: 'report', status: 'Failed', verdict: 'fail', reasons: failures, observations };

  const deadline = HOOK_LIMIT_SECONDS - input.config.deadlineMarginSeconds;
  const bakeOver = input.bakedSeconds >= input.config.bakeSeconds;
  const deadlineNear = input.hookAgeSeconds >= deadline;
  if (!bakeOver && !deadlineNear) {
    return { action: 'continue', reasons: starved, observations };
  }
  const when = bakeOver ? 'bake complete' : `CodeDeploy's one-hour hook limit is ${HOOK_LIMIT_SECONDS - input.hookAgeSeconds} s away`;
  if (starved.length > 0) {
    const status: HookStatus = input.config.inconclusiveAction === 'pass' ? 'Succeeded' : 'Failed';
    return {
      action: 'report',
      status,
      verdict: 'inconclusive',
      reasons: [`${when} without enough data (inconclusive → ${status})`, ...starved],
      observations,
    };
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
