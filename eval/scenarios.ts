import type { DeploymentShape, MinuteCounts, SeriesEntry, SimulationInput } from '../lib/core/simulator/types';
import type { RollbackPolicy } from '../lib/core/policy';
import { BAKE_MINUTES, PolicyName, policy as synthesizedPolicy } from './policies';
import { binomial, mulberry32, poisson, streamSeed } from './random';

/**
 * The eval's scenario set: seeded, reproducible per-minute traffic of a Lambda function released
 * with CodeDeploy, each scenario labelled with what a correct rollback policy must do.
 *
 * Ground truth (decided here, documented per scenario in `why`):
 * - `regression` — the new version itself burns its own error budget at or above the policy's page
 *   rate (the fastest page tier, 14.4× for the workbook tiers: ≥ 1.44 % errors on a 99.9 % SLO,
 *   ≥ 14.4 % slow requests on a 99 % latency SLO). This is what the user declared rollback-worthy.
 *   Must roll back with a `fail` verdict, no later than the workbook reference, and within 3
 *   minutes of post-release data when per-version data exists.
 * - `healthy` — the new version is no worse than the old one beyond the canary judge's declared
 *   tolerance, and its own burn stays below the page rate, or the only bad minutes are the whole
 *   service's (both versions equally: a dependency, a blip, an incident that began before the
 *   release). Rolling back would not help. Must not roll back (a `pass` verdict).
 * - `no-data` — the new version's traffic cannot be judged: no datapoints after the release, no
 *   traffic on the new version, or fewer events than any tier can judge. Must end in the distinct
 *   `inconclusive` verdict: never a silent pass, never a `fail` on evidence that does not exist.
 * - `slow-regression` — the new version is clearly worse than the old one (10× its error ratio)
 *   but burns below the page rate (0.5 % on 99.9 %: 5×, a ticket in the workbook). A rollback is
 *   right (the canary judge exists for this) but not required: no statistic separates 0.5 % from
 *   0.05 % on the 300 requests a 10 % canary serves in 3 minutes, and the workbook's page tiers
 *   never fire on it. Reported, not scored.
 *
 * Time: minute 0 … {@link HISTORY_MINUTES} − 1 is clean history (6 h, so even the reference's 6-h
 * window starts full), the release is at {@link RELEASE_MINUTE}, and {@link POST_RELEASE_MINUTES}
 * minutes follow. The world is generated as if nobody rolled back (what the data would be).
 *
 * Traffic: per minute, requests ~ Poisson(rate); the new version's share of them ~ Binomial by the
 * deployment phase; errors and slow requests ~ Binomial per version. Like Lambda's
 * `ExecutedVersion` metrics, a version that served no request in a minute has no datapoint (its
 * counts are absent, not zero), and a minute without any request has no entry at all.
 */

export type Truth = 'regression' | 'healthy' | 'no-data' | 'slow-regression';

export const HISTORY_MINUTES = 360;
export const RELEASE_MINUTE = HISTORY_MINUTES;
export const POST_RELEASE_MINUTES = 180;
export const DEFAULT_SEED = 20_240_601;

/** Requests a minute of the service's steady traffic. */
export const BASE_REQUESTS_PER_MINUTE = 1_000;
/** Error ratio of a healthy version: half the 99.9 % SLO's budget. */
export const BASE_ERROR_RATIO = 0.0005;
/** Share of slow requests of a healthy version: under a third of the 99 % latency SLO's budget. */
export const BASE_SLOW_RATIO = 0.003;

export interface Scenario {
  readonly name: string;
  readonly truth: Truth;
  /** The item of the list it covers. */
  readonly covers: string;
  /** Why the truth is what it is. */
  readonly why: string;
  readonly policyName: PolicyName;
  /** Whether the new version's own traffic is visible in the series (per-version datapoints). */
  readonly perVersionData: boolean;
  /** Minutes of post-release data within which a regression must be caught. @default PER_VERSION_DEADLINE_MINUTES (3) */
  readonly deadlineMinutes?: number;
  readonly input: SimulationInput;
}

/** One scenario's traffic, as functions of the minute relative to the release (also built per seed by eval/classes.ts). */
export interface ScenarioSpec {
  readonly name: string;
  readonly truth: Truth;
  readonly covers: string;
  readonly why: string;
  readonly policy: PolicyName;
  readonly deployment: DeploymentShape;
  /** Mean requests a minute, by minute relative to the release. @default BASE_REQUESTS_PER_MINUTE */
  readonly rate?: (t: number) => number;
  /** The new version's share of requests. @default the deployment shape's */
  readonly share?: (t: number, shapeShare: number) => number;
  /** Error ratios by minute relative to the release. @default BASE_ERROR_RATIO */
  readonly stableErrors?: (t: number) => number;
  readonly canaryErrors?: (t: number) => number;
  /** Slow-request ratios. @default BASE_SLOW_RATIO */
  readonly stableSlow?: (t: number) => number;
  readonly canarySlow?: (t: number) => number;
  /** Exact bad events added after sampling (a version serves at least that many requests then). */
  readonly inject?: ReadonlyArray<{ readonly t: number; readonly arm: 'stable' | 'canary'; readonly errors: number }>;
  /** Emit per-version counts. @default true */
  readonly perVersionSeries?: boolean;
  /** Drop every entry from the release on (the metric pipeline went dark). */
  readonly noDataAfterRelease?: boolean;
  /**
   * A regression's detection target in minutes from the release, when the 3-minute one is beyond
   * what the counts can show (a burn close to the page rate on a small canary); `why` says why.
   */
  readonly deadlineMinutes?: number;
}

const canary = (percent: number, intervalMinutes: number): DeploymentShape => ({ kind: 'canary', percent, intervalMinutes, bakeMinutes: BAKE_MINUTES });
const allAtOnce: DeploymentShape = { kind: 'all-at-once', bakeMinutes: BAKE_MINUTES };
const constant = (v: number) => () => v;
const fromRelease = (v: number, before = BASE_ERROR_RATIO) => (t: number) => (t >= 0 ? v : before);

/** The scenario set. Each item's `why` is its ground truth's justification. */
export const SCENARIO_SPECS: readonly ScenarioSpec[] = [
  {
    name: 'clean-release',
    truth: 'healthy',
    covers: 'baseline',
    why: 'both versions at 0.05 % errors (half the budget): nothing to roll back',
    policy: 'availability-canary5',
    deployment: canary(10, 5),
  },
  {
    name: 'total-outage',
    truth: 'regression',
    covers: 'total outage',
    why: 'all at once, the new version fails every request: 1000× burn',
    policy: 'availability-all-at-once',
    deployment: allAtOnce,
    canaryErrors: constant(1),
  },
  {
    name: 'errors-10pct',
    truth: 'regression',
    covers: '10 % errors on a 99.9 % SLO',
    why: 'the new version fails 10 % of requests: 100× burn on its own traffic',
    policy: 'availability-canary5',
    deployment: canary(10, 5),
    canaryErrors: constant(0.1),
  },
  {
    name: 'errors-2pct',
    truth: 'regression',
    covers: '2 % errors on a 99.9 % SLO',
    why:
      'the new version fails 2 % of requests: 20× burn, above the 14.4× page rate. Target 10 min, not 3: a 10 % canary serves 100 requests a minute, ' +
      '6 expected errors in 3 minutes against the 4.3 that read as 14.4×, so a page-rate reading by minute 3 happens in about 4 releases of 5; ' +
      'no rule that rolls back only at the page rate can do better without rolling back healthy canaries on noise',
    policy: 'availability-canary5',
    deployment: canary(10, 5),
    canaryErrors: constant(0.02),
    deadlineMinutes: 10,
  },
  {
    name: 'slow-burn-both-0.5pct',
    truth: 'healthy',
    covers: 'slow burn below the page threshold',
    why: 'both versions at 0.5 % from the release on (5×, below the 6× and 14.4× page rates): a ticket, and not the release',
    policy: 'availability-canary5',
    deployment: canary(10, 5),
    stableErrors: fromRelease(0.005),
    canaryErrors: constant(0.005),
  },
  {
    name: 'within-tolerance-0.12pct',
    truth: 'healthy',
    covers: 'slow burn below the page threshold',
    why: 'new version 0.12 % vs 0.05 %: +0.07 pt, inside the judge\'s +0.1 pt tolerance, 1.2× burn',
    policy: 'availability-canary5',
    deployment: canary(10, 5),
    canaryErrors: constant(0.0012),
  },
  {
    name: 'slow-burn-new-0.5pct',
    truth: 'slow-regression',
    covers: 'slow burn below the page threshold',
    why: 'new version 0.5 % vs 0.05 %: 10× worse but 5× burn, below every page tier; a rollback is right, not required',
    policy: 'availability-canary5',
    deployment: canary(10, 5),
    canaryErrors: constant(0.005),
  },
  {
    name: 'blip-90s',
    truth: 'healthy',
    covers: '90-second blip',
    why: 'every request of both versions fails for 90 s (minute +2 and half of +3): a shared dependency, not the release',
    policy: 'availability-canary5',
    deployment: canary(10, 5),
    stableErrors: (t) => blip(t),
    canaryErrors: (t) => blip(t),
  },
  {
    name: 'low-traffic-1-error',
    truth: 'healthy',
    covers: 'low traffic with a single error',
    why: '10 requests/min and the new version\'s very first request fails, no other error: one event is not a burn',
    policy: 'availability-canary5',
    deployment: canary(10, 5),
    rate: constant(10),
    stableErrors: constant(0),
    canaryErrors: constant(0),
    inject: [{ t: 0, arm: 'canary', errors: 1 }],
  },
  {
    name: 'trickle-traffic',
    truth: 'no-data',
    covers: 'low traffic with a single error',
    why: '10 requests/hour with one error on the new version: a handful of events cannot be judged either way',
    policy: 'availability-canary5',
    deployment: canary(10, 5),
    rate: constant(10 / 60),
    stableErrors: constant(0),
    canaryErrors: constant(0),
    inject: [{ t: 6, arm: 'canary', errors: 1 }],
  },
  {
    name: 'no-data-after-release',
    truth: 'no-data',
    covers: 'no data after release',
    why: 'no datapoint at all from the release on: nothing to judge',
    policy: 'availability-canary5',
    deployment: canary(10, 5),
    noDataAfterRelease: true,
  },
  {
    name: 'canary-no-traffic',
    truth: 'no-data',
    covers: 'a canary that gets no traffic',
    why: 'clients bypass the alias: the old version serves everything, the new version has no datapoint',
    policy: 'availability-canary5',
    deployment: canary(10, 5),
    share: () => 0,
  },
  {
    name: 'latency-regression',
    truth: 'regression',
    covers: 'latency regression',
    why: '40 % of the new version\'s requests exceed 500 ms on a 99 % latency SLO: 40× burn; errors unchanged',
    policy: 'availability-latency-canary5',
    deployment: canary(10, 5),
    canarySlow: constant(0.4),
  },
  {
    name: 'pre-existing-incident',
    truth: 'healthy',
    covers: 'pre-existing incident',
    why: '5 % errors on the old version from 30 min before the release to 60 min after; the new version is no worse (same 5 %)',
    policy: 'availability-canary5',
    deployment: canary(10, 5),
    stableErrors: (t) => incident(t),
    canaryErrors: (t) => incident(t),
  },
  {
    name: 'broken-canary-10pct',
    truth: 'regression',
    covers: '10 % canary of a badly broken version',
    why: 'the new version fails every request behind a 10 % canary for 10 min: 10 % blended, 1000× on its own traffic',
    policy: 'availability-canary10',
    deployment: canary(10, 10),
    canaryErrors: constant(1),
  },
  {
    name: 'traffic-surge',
    truth: 'healthy',
    covers: 'traffic surge at a constant error ratio',
    why: '5× traffic from minute +2 for 30 min at the same 0.05 % error ratio: more errors, same burn',
    policy: 'availability-canary5',
    deployment: canary(10, 5),
    rate: (t) => (t >= 2 && t < 32 ? 5 * BASE_REQUESTS_PER_MINUTE : BASE_REQUESTS_PER_MINUTE),
  },
  {
    name: 'blended-sli-broken-10pct',
    truth: 'regression',
    covers: '10 % canary of a badly broken version',
    why: 'as broken-canary-10pct, but the SLI is the user\'s own service-wide metric: only blended data exists',
    policy: 'blended-sli-canary10',
    deployment: canary(10, 10),
    canaryErrors: constant(1),
    perVersionSeries: false,
  },
];

function blip(t: number): number {
  if (t === 2) return 1;
  if (t === 3) return 0.5 + 0.5 * BASE_ERROR_RATIO;
  return BASE_ERROR_RATIO;
}

function incident(t: number): number {
  return t >= -30 && t < 60 ? 0.05 : BASE_ERROR_RATIO;
}

/** The new version's share of traffic at minute `t` after the release (0 before it). */
export function shapeShare(shape: DeploymentShape, t: number): number {
  if (t < 0) return 0;
  switch (shape.kind) {
    case 'all-at-once':
      return 1;
    case 'canary':
      return t < (shape.intervalMinutes ?? 0) ? (shape.percent ?? 0) / 100 : 1;
    case 'linear': {
      const step = Math.floor(t / (shape.intervalMinutes ?? 1)) + 1;
      return Math.min(1, (step * (shape.percent ?? 100)) / 100);
    }
  }
}

/** Generates the per-minute series of one scenario; the same seed always gives the same series. */
export function generateSeries(spec: ScenarioSpec, seed: number, withSlow: boolean): SeriesEntry[] {
  const rng = mulberry32(streamSeed(seed, spec.name));
  const series: SeriesEntry[] = [];
  const perVersion = spec.perVersionSeries ?? true;
  for (let minute = 0; minute < HISTORY_MINUTES + POST_RELEASE_MINUTES; minute++) {
    const t = minute - RELEASE_MINUTE;
    const rate = (spec.rate ?? constant(BASE_REQUESTS_PER_MINUTE))(t);
    const requests = poisson(rng, rate);
    const share = spec.share ? spec.share(t, shapeShare(spec.deployment, t)) : shapeShare(spec.deployment, t);
    const newRequests = binomial(rng, requests, share);
    const arms = {
      stable: sampleArm(rng, requests - newRequests, (spec.stableErrors ?? constant(BASE_ERROR_RATIO))(t), (spec.stableSlow ?? constant(BASE_SLOW_RATIO))(t)),
      canary: sampleArm(rng, newRequests, (spec.canaryErrors ?? constant(BASE_ERROR_RATIO))(t), (spec.canarySlow ?? constant(BASE_SLOW_RATIO))(t)),
    };
    for (const injection of spec.inject ?? []) {
      if (injection.t !== t) continue;
      const arm = arms[injection.arm];
      const errors = arm.errors + injection.errors;
      arms[injection.arm] = { ...arm, requests: Math.max(arm.requests, errors), errors };
    }
    if (spec.noDataAfterRelease && t >= 0) continue;
    const blended = add(arms.stable, arms.canary);
    if (blended.requests === 0) continue; // no invocation, no datapoint
    series.push({
      minute,
      ...counts(blended, withSlow),
      ...(perVersion && arms.stable.requests > 0 ? { stable: counts(arms.stable, withSlow) } : {}),
      ...(perVersion && arms.canary.requests > 0 ? { canary: counts(arms.canary, withSlow) } : {}),
    });
  }
  return series;
}

interface ArmCounts {
  readonly requests: number;
  readonly errors: number;
  readonly slow: number;
}

function sampleArm(rng: () => number, requests: number, errorRatio: number, slowRatio: number): ArmCounts {
  return { requests, errors: binomial(rng, requests, errorRatio), slow: binomial(rng, requests, slowRatio) };
}

function add(a: ArmCounts, b: ArmCounts): ArmCounts {
  return { requests: a.requests + b.requests, errors: a.errors + b.errors, slow: a.slow + b.slow };
}

function counts(c: ArmCounts, withSlow: boolean): MinuteCounts {
  return withSlow ? { requests: c.requests, errors: c.errors, slow: c.slow } : { requests: c.requests, errors: c.errors };
}

export interface GenerateOptions {
  /** @default DEFAULT_SEED */
  readonly seed?: number;
  /** Policies by name. @default synthesized from the constructs (eval/policies.ts) */
  readonly policies?: (name: PolicyName) => RollbackPolicy;
  /** Only these scenarios. @default all */
  readonly names?: readonly string[];
}

/** The scenario set for a seed. */
export function generateScenarios(options: GenerateOptions = {}): Scenario[] {
  const seed = options.seed ?? DEFAULT_SEED;
  const policyFor = options.policies ?? synthesizedPolicy;
  return SCENARIO_SPECS.filter((s) => !options.names || options.names.includes(s.name)).map((spec) => {
    const policy = policyFor(spec.policy);
    const withSlow = policy.slos.some((s) => s.sli.kind === 'latency');
    const series = generateSeries(spec, seed, withSlow);
    return {
      name: spec.name,
      truth: spec.truth,
      covers: spec.covers,
      why: spec.why,
      policyName: spec.policy,
      perVersionData: (spec.perVersionSeries ?? true) && series.some((e) => e.minute >= RELEASE_MINUTE && e.canary !== undefined),
      ...(spec.deadlineMinutes !== undefined ? { deadlineMinutes: spec.deadlineMinutes } : {}),
      input: { policy, series, releaseMinute: RELEASE_MINUTE, deployment: spec.deployment },
    };
  });
}
