import type { DeploymentShape, SimulationInput } from '../lib/core/simulator/types';
import type { RollbackPolicy } from '../lib/core/policy';
import { BAKE_MINUTES, PolicyName, policy as synthesizedPolicy } from './policies';
import { integerBetween, logUniformBetween, mulberry32, streamSeed, uniformBetween } from './random';
import { BASE_ERROR_RATIO, RELEASE_MINUTE, ScenarioSpec, generateSeries } from './scenarios';

/**
 * Scenario CLASSES (issue 8, item 4): where a scenario of eval/scenarios.ts fixes its parameters
 * and only the noise changes with the seed, a class draws its parameters from the seed too (when
 * the blip comes, how long an incident lasts, how badly the new version fails), so a sweep over
 * seeds measures a decision over a family of releases, not one hand-picked case.
 *
 * Every class states its ground truth and its target:
 * - `regression`: the new version burns its own error budget at or above the 14.4× page rate from
 *   its ONSET (the release, or minutes after it). Target: a `fail` verdict no earlier than the
 *   onset and within `withinMinutes` of it, in ≥ 99 % of the seeds. Detection is counted from the
 *   onset, not from the release.
 * - `no-regression`: the new version is no worse than the service was, and the only bad minutes
 *   are the whole service's (a blip, an incident, a slow burn under the page rate). Target: no
 *   rollback in any seed (an inconclusive verdict that fails closed is a rollback too).
 * - `no-data`: the new version serves fewer events than the page tier needs to judge (70) and too
 *   few to rule out a 14.4× burn. Target: `inconclusive` in every seed.
 * - `reported`: a rollback is right but not required (the new version is clearly worse, under the
 *   page rate); measured, no target.
 *
 * The world is generated as if nobody rolled back, on the clock of eval/scenarios.ts: 6 h of
 * history, the release at minute {@link RELEASE_MINUTE}, 3 h after it, 1,000 requests a minute,
 * 0.05 % errors when healthy; `generateSeries` samples it.
 */

export type ClassTruth = 'regression' | 'no-regression' | 'no-data' | 'reported';

/** What a class must achieve over the seeds. */
export type ClassTarget =
  /** A fail verdict within this many minutes of the onset, in ≥ {@link DETECTION_SHARE} of the seeds. */
  | { readonly kind: 'detect'; readonly withinMinutes: number; readonly why: string }
  /** Every seed meets the single-seed gate of `npm run eval` (eval/evaluate.ts), in ≥ {@link DETECTION_SHARE} of the seeds. */
  | { readonly kind: 'gate' }
  /** No rollback in any seed. */
  | { readonly kind: 'no-false-rollback' }
  /** An inconclusive verdict in every seed. */
  | { readonly kind: 'inconclusive' }
  /** Measured, not scored. */
  | { readonly kind: 'reported' };

/** Share of the seeds a regression class must catch within its target: 99 of 100. */
export const DETECTION_SHARE = 0.99;

/** The 14.4× page rate on a 99.9 % SLO, as an error ratio. */
export const PAGE_ERROR_RATIO = 0.0144;
/** Errors an hour that make the workbook's 1-h window page at 1,000 requests a minute: 1.44 % of 60,000. */
export const WORKBOOK_HOUR_ERRORS = PAGE_ERROR_RATIO * 60 * 1_000;

/** One draw of a class: the traffic of one release. */
export interface ClassDraw {
  /** Minute the regression starts, relative to the release (regression and reported classes). */
  readonly onsetMinute?: number;
  /** The drawn parameters by name (minutes relative to the release, ratios as fractions). */
  readonly params: Readonly<Record<string, number>>;
  /** Requests a minute, by minute relative to the release. @default 1,000 */
  readonly rate?: (t: number) => number;
  /** Error ratios of the current and the new version, by minute relative to the release. @default 0.05 % */
  readonly stableErrors?: (t: number) => number;
  readonly canaryErrors?: (t: number) => number;
}

export interface ScenarioClass {
  readonly name: string;
  readonly truth: ClassTruth;
  /** The item of issue 8's list it covers. */
  readonly covers: string;
  /** Why the truth is what it is, with the ranges the parameters are drawn from. */
  readonly why: string;
  readonly policy: PolicyName;
  readonly deployment: DeploymentShape;
  readonly target: ClassTarget;
  /** Draws the parameters of one release; `rng` is the class's own stream for the seed. */
  readonly draw: (rng: () => number) => ClassDraw;
}

const allAtOnce: DeploymentShape = { kind: 'all-at-once', bakeMinutes: BAKE_MINUTES };
const canary = (percent: number, intervalMinutes: number): DeploymentShape => ({ kind: 'canary', percent, intervalMinutes, bakeMinutes: BAKE_MINUTES });
const linear = (percent: number, intervalMinutes: number): DeploymentShape => ({ kind: 'linear', percent, intervalMinutes, bakeMinutes: BAKE_MINUTES });

/** `ratio` on minutes from ≤ t < to (relative to the release), the healthy ratio elsewhere. */
const during = (from: number, to: number, ratio: number) => (t: number) => (t >= from && t < to ? ratio : BASE_ERROR_RATIO);
const from = (onset: number, ratio: number) => during(onset, Infinity, ratio);

/** A regression from its onset on: detected within 10 minutes of it (issue 8, item 2). */
const TEN_MINUTES: ClassTarget = { kind: 'detect', withinMinutes: 10, why: 'issue 8: rolled back within 10 min of the onset' };
/** A regression from the release with per-version data: the gate's 3-minute target (eval/evaluate.ts). */
const NO_ROLLBACK: ClassTarget = { kind: 'no-false-rollback' };

/** Failure ratios of a regression class: 2 % to 20 % (20× to 200× on 99.9 %), log-uniform. */
const failing = (rng: () => number) => logUniformBetween(rng, 0.02, 0.2);

/** A regression whose onset is drawn from [first, last] minutes after the release, failing from then on. */
const startsFailingBetween = (first: number, last: number) => (rng: () => number) => {
  const onset = integerBetween(rng, first, last);
  const ratio = failing(rng);
  return { onsetMinute: onset, params: { onset, ratio }, canaryErrors: from(onset, ratio) };
};

export const SCENARIO_CLASSES: readonly ScenarioClass[] = [
  {
    name: 'aao-blip',
    truth: 'no-regression',
    covers: 'all-at-once with a blip',
    why:
      'AllAtOnce; 3–8 min after the release errors rise for 1–3 min, 20–60 % of the 864 errors the workbook\'s 1-h window needs to page: ' +
      'the workbook never pages on it, the release is not what failed',
    policy: 'availability-all-at-once',
    deployment: allAtOnce,
    target: NO_ROLLBACK,
    draw: (rng) => {
      const start = integerBetween(rng, 3, 8);
      const minutes = integerBetween(rng, 1, 3);
      const share = uniformBetween(rng, 0.2, 0.6);
      const ratio = (share * WORKBOOK_HOUR_ERRORS) / (minutes * 1_000);
      const errors = during(start, start + minutes, ratio);
      return { params: { blipStart: start, blipMinutes: minutes, blipRatio: ratio }, stableErrors: errors, canaryErrors: errors };
    },
  },
  {
    name: 'aao-pre-existing-incident',
    truth: 'no-regression',
    covers: 'all-at-once into a pre-existing incident',
    why:
      'a dependency fails 3–10 % of all requests from 35–60 min before an AllAtOnce release to 30–90 min after it; the new version fails exactly as often: ' +
      "the service's page alert fired before the release",
    policy: 'availability-all-at-once',
    deployment: allAtOnce,
    target: NO_ROLLBACK,
    draw: (rng) => {
      const start = -integerBetween(rng, 35, 60);
      const end = integerBetween(rng, 30, 90);
      const ratio = uniformBetween(rng, 0.03, 0.1);
      const errors = during(start, end, ratio);
      return { params: { incidentStart: start, incidentEnd: end, incidentRatio: ratio }, stableErrors: errors, canaryErrors: errors };
    },
  },
  {
    name: 'canary-shared-incident',
    truth: 'no-regression',
    covers: 'a shared incident hitting both versions during a canary',
    why: 'canary 10 % for 5 min; 1–3 min after the release a dependency fails 2–20 % of every version\'s requests for 5–30 min: both versions alike',
    policy: 'availability-canary5',
    deployment: canary(10, 5),
    target: NO_ROLLBACK,
    draw: (rng) => {
      const start = integerBetween(rng, 1, 3);
      const minutes = integerBetween(rng, 5, 30);
      const ratio = logUniformBetween(rng, 0.02, 0.2);
      const errors = during(start, start + minutes, ratio);
      return { params: { incidentStart: start, incidentEnd: start + minutes, incidentRatio: ratio }, stableErrors: errors, canaryErrors: errors };
    },
  },
  {
    name: 'aao-delayed-regression',
    truth: 'regression',
    covers: 'a regression starting 5–15 minutes after the release (all-at-once)',
    why:
      'AllAtOnce; 5–9 min after the release (inside the 10-min bake: the part of 5–15 min a default bake covers) the new version starts failing 2–20 % of requests (20–200×)',
    policy: 'availability-all-at-once',
    deployment: allAtOnce,
    target: TEN_MINUTES,
    draw: startsFailingBetween(5, 9),
  },
  {
    name: 'aao-delayed-regression-bake20',
    truth: 'regression',
    covers: 'a regression starting 5–15 minutes after the release (all-at-once, the minutes after a default bake)',
    why:
      'AllAtOnce baked 20 min (the rest of the 5–15 min range lies after a default 10-min bake: nothing in the deployment could see it); ' +
      '10–15 min after the release the new version starts failing 2–20 % of requests',
    policy: 'availability-all-at-once-bake20',
    deployment: { kind: 'all-at-once', bakeMinutes: 20 },
    target: TEN_MINUTES,
    draw: startsFailingBetween(10, 15),
  },
  {
    name: 'canary-delayed-regression',
    truth: 'regression',
    covers: 'a regression starting 5–15 minutes after the release (canary)',
    why: 'canary 10 % for 10 min, bake to +20; 5–15 min after the release (during the canary step or after the shift) the new version starts failing 2–20 % of requests',
    policy: 'availability-canary10',
    deployment: canary(10, 10),
    target: TEN_MINUTES,
    draw: startsFailingBetween(5, 15),
  },
  {
    name: 'linear-failing',
    truth: 'regression',
    covers: 'a linear rollout (10 % every few minutes) of a failing version',
    why:
      'Linear10PercentEvery3Minutes (all traffic at +27 min); the new version fails 2–20 % of its requests from the release on. ' +
      'Target 10 min, not 3: at 2 % a 10 % step serves 100 requests a minute, 6 expected errors in 3 minutes against the 4.3 that read as 14.4× (see errors-2pct)',
    policy: 'availability-linear10-every3',
    deployment: linear(10, 3),
    target: TEN_MINUTES,
    draw: (rng) => {
      const ratio = failing(rng);
      return { onsetMinute: 0, params: { onset: 0, ratio }, canaryErrors: from(0, ratio) };
    },
  },
  {
    name: 'aao-slow-burn-under-page',
    truth: 'no-regression',
    covers: 'a slow burn just under the page threshold',
    why:
      'the whole service burns at 10–12.5× (70–87 % of the 14.4× page rate) from 30–120 min before an AllAtOnce release on; ' +
      'the new version is no worse: under the page rate, and not the release',
    policy: 'availability-all-at-once',
    deployment: allAtOnce,
    target: NO_ROLLBACK,
    draw: (rng) => {
      const start = -integerBetween(rng, 30, 120);
      const ratio = uniformBetween(rng, 0.7, 0.87) * PAGE_ERROR_RATIO;
      const errors = from(start, ratio);
      return { params: { burnStart: start, ratio }, stableErrors: errors, canaryErrors: errors };
    },
  },
  {
    name: 'slow-burn-under-page-new',
    truth: 'reported',
    covers: 'a slow burn just under the page threshold',
    why: 'canary 10 % for 5 min; the new version alone burns at 10–12.5× from the release, the current one at 0.5×: worse, under the page rate — a rollback is right, not required',
    policy: 'availability-canary5',
    deployment: canary(10, 5),
    target: { kind: 'reported' },
    draw: (rng) => {
      const ratio = uniformBetween(rng, 0.7, 0.87) * PAGE_ERROR_RATIO;
      return { onsetMinute: 0, params: { onset: 0, ratio }, canaryErrors: from(0, ratio) };
    },
  },
  {
    name: 'slow-burn-over-page',
    truth: 'regression',
    covers: 'a slow burn just over the page threshold',
    why: 'canary 10 % for 5 min; the new version alone burns at 16.6–20× (15–40 % over the 14.4× page rate) from the release, the current one at 0.5×',
    policy: 'availability-canary5',
    deployment: canary(10, 5),
    // At the threshold's edge the events needed to tell the burn from 14.4× grow as 1 ÷ (excess)²:
    // 3 minutes of a 10 % canary (300 requests, ~5 errors) cannot. Within 10 minutes the evaluator
    // fails it once the new version is significantly worse than the current one and its counts do
    // not exclude the page rate (PAGE_RATE_NOT_EXCLUDED_P); a canary that drew too few errors to be
    // significantly worse leaves it to the solo short window (13 min: shift at 5, 5 min alone, 3 min
    // metric delay) — under 1 % of seeds over seeds 1…1000.
    target: { kind: 'detect', withinMinutes: 10, why: 'just over the threshold: the 10-min target, not the 3-min one (300 requests cannot tell 17× from 14.4×)' },
    draw: (rng) => {
      const ratio = uniformBetween(rng, 1.15, 1.4) * PAGE_ERROR_RATIO;
      return { onsetMinute: 0, params: { onset: 0, ratio }, canaryErrors: from(0, ratio) };
    },
  },
  {
    name: 'low-traffic-healthy',
    truth: 'no-data',
    covers: 'low traffic (a few requests per minute), healthy',
    why:
      'canary 10 % for 5 min; 2–4 requests a minute, both versions healthy: the new version serves ~20–45 requests before the bake reports, fewer than the 70 events ' +
      'the page tier judges on, and too few to rule out a 14.4× burn (no error in 45 requests happens one time in two at 1.44 %)',
    policy: 'availability-canary5',
    deployment: canary(10, 5),
    target: { kind: 'inconclusive' },
    draw: (rng) => {
      const rpm = uniformBetween(rng, 2, 4);
      return { params: { rpm }, rate: () => rpm };
    },
  },
  {
    name: 'low-traffic-failing',
    truth: 'regression',
    covers: 'low traffic (a few requests per minute), failing',
    why:
      'canary 10 % for 5 min; 2–4 requests a minute, the new version fails 50–100 % of them from the release: few events but decisive ' +
      '(10 failures in 20 requests happen with p < 10⁻¹³ even at the 14.4× page rate)',
    policy: 'availability-canary5',
    deployment: canary(10, 5),
    target: { kind: 'detect', withinMinutes: 18, why: 'a fail verdict (not the fail-closed inconclusive) by the bake\'s report: canary 5 + bake 10 + metric delay 3 min' },
    draw: (rng) => {
      const rpm = uniformBetween(rng, 2, 4);
      const ratio = uniformBetween(rng, 0.5, 1);
      return { onsetMinute: 0, params: { onset: 0, rpm, ratio }, rate: () => rpm, canaryErrors: from(0, ratio) };
    },
  },
];

/** One release of a class: the drawn parameters and the simulator's input. */
export interface ClassScenario {
  readonly className: string;
  readonly seed: number;
  readonly truth: ClassTruth;
  readonly target: ClassTarget;
  readonly policyName: PolicyName;
  /** Minute the regression starts, relative to the release (0 for classes without one). */
  readonly onsetMinute: number;
  readonly params: Readonly<Record<string, number>>;
  /** Whether the new version's own traffic is visible after the release. */
  readonly perVersionData: boolean;
  /** The traffic as eval/scenarios.ts generates it (for tests: the declared ratios by minute). */
  readonly spec: ScenarioSpec;
  readonly input: SimulationInput;
}

/** The class's traffic for one seed, as a scenario spec `generateSeries` samples (no policy needed). */
export function drawClass(cls: ScenarioClass, seed: number): { draw: ClassDraw; spec: ScenarioSpec } {
  // The parameters and the noise come from two streams of the seed: a draw never shifts the noise.
  const draw = cls.draw(mulberry32(streamSeed(seed, `${cls.name}#params`)));
  const spec: ScenarioSpec = {
    name: cls.name,
    truth: truthOfScenario(cls.truth),
    covers: cls.covers,
    why: cls.why,
    policy: cls.policy,
    deployment: cls.deployment,
    ...(draw.rate ? { rate: draw.rate } : {}),
    ...(draw.stableErrors ? { stableErrors: draw.stableErrors } : {}),
    ...(draw.canaryErrors ? { canaryErrors: draw.canaryErrors } : {}),
  };
  return { draw, spec };
}

/** The scenario truth eval/evaluate.ts scores a row with (the class's own target is applied on top). */
export function truthOfScenario(truth: ClassTruth): ScenarioSpec['truth'] {
  return truth === 'no-regression' ? 'healthy' : truth === 'reported' ? 'slow-regression' : truth;
}

export interface ClassOptions {
  /** Policies by name. @default synthesized from the constructs (eval/policies.ts) */
  readonly policies?: (name: PolicyName) => RollbackPolicy;
  /** Only these classes. @default all */
  readonly names?: readonly string[];
}

/** One release of every class for a seed. */
export function generateClassScenarios(seed: number, options: ClassOptions = {}): ClassScenario[] {
  const policyFor = options.policies ?? synthesizedPolicy;
  return SCENARIO_CLASSES.filter((c) => !options.names || options.names.includes(c.name)).map((cls) => {
    const { draw, spec } = drawClass(cls, seed);
    const policy = policyFor(cls.policy);
    const withSlow = policy.slos.some((s) => s.sli.kind === 'latency');
    const series = generateSeries(spec, seed, withSlow);
    return {
      className: cls.name,
      seed,
      truth: cls.truth,
      target: cls.target,
      policyName: cls.policy,
      onsetMinute: draw.onsetMinute ?? 0,
      params: draw.params,
      perVersionData: series.some((e) => e.minute >= RELEASE_MINUTE && e.canary !== undefined),
      spec,
      input: { policy, series, releaseMinute: RELEASE_MINUTE, deployment: cls.deployment },
    };
  });
}

/** How a deployment shape reads in the tables. */
export function describeShape(shape: DeploymentShape): string {
  const bake = shape.bakeMinutes === BAKE_MINUTES ? '' : `, bake ${shape.bakeMinutes} min`;
  switch (shape.kind) {
    case 'all-at-once':
      return `all at once${bake}`;
    case 'canary':
      return `canary ${shape.percent} %/${shape.intervalMinutes} min${bake}`;
    case 'linear':
      return `linear ${shape.percent} %/${shape.intervalMinutes} min${bake}`;
  }
}
