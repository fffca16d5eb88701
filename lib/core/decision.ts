import type { SloObservation, Verdict } from './audit-events';
import { judgeCanary } from './canary';
import { betainc } from './canary/special-functions';
import { significantlyWorse } from './emulator/emulate';
import type { EvaluatorConfig, EvaluatorSlo } from './evaluator-config';
import { HOOK_LIMIT_SECONDS } from './evaluator-config';
import { isTestTrafficHook } from './deployment-kind';
import { type HeartbeatBakeData, type HeartbeatJudgement, judgeHeartbeat } from './heartbeat';
import { type ArmMinute, NO_COUNTS, SOLO_MINUTE_CAP, type SloTimeline, type SloWindows, windowsOf } from './windows';

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
      /** A human should look (a configuration error, a deployment that could not be read, a pre-existing incident). */
      readonly escalate?: boolean;
      /** Incidents that are not the release's, named for the audit. */
      readonly incidents?: readonly IncidentNote[];
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

/** Lifecycle events that check the release before traffic reaches it (no bake). */
export function isBeforeTrafficHook(lifecycleEvent: string | undefined): boolean {
  return lifecycleEvent === 'BeforeAllowTraffic' || lifecycleEvent === 'BeforeInstall';
}

export { ROLLBACK_DEPLOYMENT_CREATORS, isDeploymentFinished, isRollbackDeployment, isTestTrafficHook } from './deployment-kind';

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
  /**
   * Both versions minute by minute, the hour before the release included: the paired, solo,
   * reference and history windows are cut from it (lib/core/windows.ts). Absent (counts given
   * directly): every minute since the release is judged as paired.
   */
  readonly timeline?: SloTimeline;
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
  /** Health checks whose latest run failed without failing the bake yet: the bake waits past its end for them. */
  readonly healthPending?: readonly string[];
  /** Reads this tick that are not one SLO's (a Synthetics canary's metric, the call itself). */
  readonly readProblems?: readonly ReadProblem[];
  /**
   * Heartbeats (dead man's switches) of the new version: a missing beat is a failure, not "no
   * data" — the exception to the SLOs' rule that no datapoints is no evidence (`judgeHeartbeat`).
   */
  readonly heartbeats?: readonly HeartbeatBakeData[];
}

/**
 * The judges a bake decision consults beside the SLOs' burn rules, given to `decideBakeWith`. Each
 * is needed only when its evidence is there: the canary judge when the bake compares the versions
 * (`compareWithBaseline`, or a reference to tell the release from what the service was already
 * doing: `baselineFactor` with the current version's counts), the heartbeat judge when there are
 * heartbeats. A decision that needs a judge it was not given throws: never a silent pass.
 *
 * Given rather than imported so that a caller that never needs them does not bundle them: the
 * follow-up function's watches (the verification, the guard window) read the deployment's target
 * version alone and no heartbeat, and its bundle keeps under the 100 kB target without the
 * heartbeat judge (it still holds the canary statistics, lib/core/canary: the Synthetics health
 * checks' judge, lib/core/synthetics.ts, runs on its ticks too).
 */
export interface BakeJudges {
  /** The canary judge on one SLO: the new version's counts against the current version's; a failure reason, or undefined. */
  readonly canary?: (slo: EvaluatorSlo, canary: Counts, baseline: Counts) => string | undefined;
  /** One heartbeat at one tick. */
  readonly heartbeat?: (data: HeartbeatBakeData) => HeartbeatJudgement;
}

/** The bake's judges (the evaluator's tick, the simulator's bake): `compareWithBaseline` and `judgeHeartbeat`. */
export const BAKE_JUDGES: BakeJudges = { canary: compareWithBaseline, heartbeat: judgeHeartbeat };

/**
 * The follow-up's watches (the verification, the guard window): none. They read the deployment's
 * target version alone (no current version: nothing to compare with, no reference) with the
 * comparison off, and no heartbeat (lambda/evaluator/tick.ts reads them on the bake's ticks only).
 */
export const WATCH_JUDGES: BakeJudges = {};

export function burnRateOf(counts: Counts, errorBudget: number): number | undefined {
  return counts.total > 0 ? counts.bad / counts.total / errorBudget : undefined;
}

function observation(slo: EvaluatorSlo, arm: SloObservation['arm'], counts: Counts, windowSeconds: number): SloObservation {
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
 * One bake tick. Fails as soon as any SLO's new-version traffic burns at the page rate and the
 * burn is the release's (`judgeSlo`), or the canary judge finds it worse than the current version
 * on the same minutes, or a health check fails. Passes when the bake is over and every SLO saw
 * enough traffic, read without error. Otherwise never a silent pass:
 * - too little traffic at the end of the bake is inconclusive (the configured action decides),
 *   except at AfterAllowTestTraffic, where it passes (`isTestTrafficHook`);
 * - metrics that could not be read are no evidence: a transient problem is read again on the
 *   next tick and decided inconclusive at the deadline only; a configuration error (permanent) is
 *   decided inconclusive, with an escalation, when the bake is over.
 * At the deadline it decides with what it has. A release that went out into an incident the
 * service was already paging on (`preExisting`) is not rolled back for it, and its report
 * escalates and names the incident.
 */
export function decideBake(input: BakeInput): Decision {
  return decideBakeWith(input, BAKE_JUDGES);
}

/** `decideBake` with the judges a caller needs (`BAKE_JUDGES`, `WATCH_JUDGES`): the one decision, whoever loads it. */
export function decideBakeWith(input: BakeInput, judges: BakeJudges): Decision {
  const tally = openTally(input);
  const canary = judges.canary ?? missingJudge('the canary judge');
  const heartbeat = judges.heartbeat ?? missingJudge('the heartbeat judge');
  for (const data of input.slos) tallySlo(tally, data, input, canary);
  for (const data of input.heartbeats ?? []) tallyHeartbeat(tally, heartbeat(data));
  tally.unread.push(...(input.readProblems ?? []));
  return verdictOf(input, tally);
}

/** A judge the caller did not give, for evidence that needs it: a caller's bug, said loudly rather than judged without. */
function missingJudge(what: string): () => never {
  return () => {
    throw new Error(`internal: this bake decision needs ${what}, which its caller did not give (the bake's judges are BAKE_JUDGES)`);
  };
}

type CanaryJudge = NonNullable<BakeJudges['canary']>;

/** What the SLOs and health checks of one tick said, gathered before the verdict. */
interface BakeTally {
  readonly observations: SloObservation[];
  readonly failures: string[];
  readonly starved: string[];
  readonly unread: ReadProblem[];
  readonly excused: string[];
  readonly pending: string[];
  readonly incidents: IncidentNote[];
}

/** A failed health check fails the bake; one that failed its latest run holds it open. */
function openTally(input: BakeInput): BakeTally {
  return {
    observations: [],
    failures: [...(input.healthFailures ?? [])],
    starved: [],
    unread: [],
    excused: [],
    pending: [...(input.healthPending ?? [])],
    incidents: [],
  };
}

/** Reads one SLO's arms, judges its windows, then compares it with the current version. */
function tallySlo(tally: BakeTally, data: SloBakeData, input: BakeInput, canaryJudge: CanaryJudge): void {
  const { slo, canary } = data;
  const baselineProblems = data.baselineProblems ?? [];
  if ((data.canaryProblems ?? []).length > 0) {
    tally.unread.push(...data.canaryProblems!.map((p) => ({ ...p, reason: `${slo.name}: ${p.reason}` })));
    return;
  }
  // A baseline that could not be read can neither excuse the new version nor serve as its reference.
  const windows = windowsFor(data, baselineProblems.length === 0);
  tally.observations.push(...observationsOf(data, windows, input.bakedSeconds));
  const judged = judgeSlo(slo, windows, input.config.baselineFactor ?? 0, canary, canaryJudge, baselineProblems.length > 0);
  if (fileJudgement(tally, slo, judged, baselineProblems) === 'settled') return;
  if (input.config.compareWithBaseline && data.baseline) compareArms(tally, data, windows, canaryJudge);
}

/**
 * One heartbeat: silence after the grace fails the bake; no beat yet, or none in the latest
 * interval, holds it open (like a health check failing now); a beat or a silence that could not be
 * read is unread, never a missing beat.
 */
function tallyHeartbeat(tally: BakeTally, judged: HeartbeatJudgement): void {
  if (judged.failure) tally.failures.push(judged.failure);
  else if (judged.unread) tally.unread.push(...judged.unread);
  else if (judged.pending) tally.pending.push(judged.pending);
  else if (judged.starved) tally.starved.push(judged.starved);
}

/** The new version since the release, the current version (when read) and the reference. */
function observationsOf(data: SloBakeData, windows: SloWindows, bakedSeconds: number): SloObservation[] {
  const { slo } = data;
  const observations = [observation(slo, 'canary', data.canary, bakedSeconds)];
  if (data.baseline && (data.baselineProblems ?? []).length === 0) observations.push(observation(slo, 'baseline', data.baseline, bakedSeconds));
  if (windows.reference) observations.push(observation(slo, 'reference', windows.reference.counts, windows.reference.minutes * 60));
  return observations;
}

/** Files what `judgeSlo` said; `settled` when the SLO failed, waits for a read or lacks traffic (no comparison then). */
function fileJudgement(tally: BakeTally, slo: EvaluatorSlo, judged: SloJudgement, baselineProblems: readonly ReadProblem[]): 'settled' | 'open' {
  if (judged.preExisting) tally.incidents.push({ kind: 'pre-existing', slo: slo.name, reason: judged.preExisting });
  if (judged.excused) tally.excused.push(judged.excused);
  if (judged.pending) tally.pending.push(judged.pending);
  if (judged.failure) {
    tally.failures.push(judged.failure);
    return 'settled';
  }
  if (judged.unreadable) {
    tally.unread.push(...baselineProblems.map((p) => ({ ...p, reason: `${judged.unreadable}: ${p.reason}` })));
    return 'settled';
  }
  if (judged.starved) {
    tally.starved.push(judged.starved);
    return 'settled';
  }
  return 'open';
}

/** The canary judge: the new version against the current one on the minutes both served. */
function compareArms(tally: BakeTally, data: SloBakeData, windows: SloWindows, canaryJudge: CanaryJudge): void {
  const { slo } = data;
  const baselineProblems = data.baselineProblems ?? [];
  if (baselineProblems.length > 0) {
    // The comparison is part of the judgement: without it this SLO has not passed.
    tally.unread.push(...baselineProblems.map((p) => ({ ...p, reason: `${slo.name} (current version, for the canary judge): ${p.reason}` })));
    return;
  }
  // On the same minutes only: after the full shift the current version serves nothing to compare with.
  const reason = canaryJudge(slo, windows.paired.canary, windows.paired.baseline);
  if (reason) tally.failures.push(`${slo.name}: ${reason}`);
}

/** Where the bake stands on its clock: over, near CodeDeploy's hour, and how to say so. */
interface BakeClock {
  readonly bakeOver: boolean;
  readonly deadlineNear: boolean;
  /** How far CodeDeploy's one-hour limit is. */
  readonly limit: string;
  /** `bake complete`, or the limit. */
  readonly when: string;
}

function bakeClock(input: BakeInput): BakeClock {
  const deadline = input.deadlineSeconds ?? HOOK_LIMIT_SECONDS - input.config.deadlineMarginSeconds;
  const bakeOver = input.bakedSeconds >= input.config.bakeSeconds;
  const limit = `CodeDeploy's one-hour hook limit is ${Math.round(HOOK_LIMIT_SECONDS - input.hookAgeSeconds)} s away`;
  return { bakeOver, deadlineNear: input.hookAgeSeconds >= deadline, limit, when: bakeOver ? 'bake complete' : limit };
}

/** The tally said as reasons: reads that failed, incidents not the release's, and what goes with every verdict. */
interface TallyReasons {
  readonly unread: string[];
  readonly incidents: string[];
  /** Incidents and excused burns: said with every verdict after a failure. */
  readonly context: string[];
  /** The incidents for the report, when there are any. */
  readonly findings: { incidents?: IncidentNote[] };
}

function reasonsOf(tally: BakeTally): TallyReasons {
  const incidents = tally.incidents.map((i) => i.reason);
  return {
    unread: tally.unread.map((p) => (p.permanent ? `${p.reason} (configuration error: waiting will not fix it)` : p.reason)),
    incidents,
    context: [...incidents, ...tally.excused],
    findings: tally.incidents.length > 0 ? { incidents: tally.incidents } : {},
  };
}

/** The tick's verdict, in order of precedence: fail, unread, baking, pending, starved, pass. */
function verdictOf(input: BakeInput, tally: BakeTally): Decision {
  const said = reasonsOf(tally);
  const { observations, starved, pending } = tally;
  // Failing needs no complete picture: what was read shows the new version is bad.
  if (tally.failures.length > 0) {
    return { action: 'report', status: 'Failed', verdict: 'fail', reasons: [...tally.failures, ...said.unread, ...said.incidents], observations, ...said.findings };
  }
  const clock = bakeClock(input);
  if (tally.unread.length > 0) return unreadVerdict(input, tally, clock, said);
  if (!clock.bakeOver && !clock.deadlineNear) {
    return { action: 'continue', reasons: [...starved, ...pending, ...said.context], observations };
  }
  if (pending.length > 0) return pendingVerdict(input, tally, clock, said);
  if (starved.length > 0) return starvedVerdict(input, tally, clock, said);
  return passVerdict(tally, clock, said);
}

/** Metrics that could not be read: a transient problem waits for the deadline, a configuration error for the end of the bake. */
function unreadVerdict(input: BakeInput, tally: BakeTally, clock: BakeClock, said: TallyReasons): Decision {
  const { observations, starved, pending } = tally;
  const permanent = tally.unread.some((p) => p.permanent);
  if (clock.deadlineNear || (clock.bakeOver && permanent)) {
    // Said as it is: a transient problem waits for the deadline, a configuration error does not.
    const decided = inconclusive(
      input.config.inconclusiveAction,
      `${clock.deadlineNear ? clock.limit : clock.when}, but metrics could not be read`,
      [...said.unread, ...starved, ...said.context],
      observations,
      permanent || tally.incidents.length > 0,
    );
    return { ...decided, ...said.findings };
  }
  return { action: 'continue', reasons: [...said.unread, ...starved, ...pending, ...said.context], observations };
}

/** The bake is over, but a pass now would let a regression that has just begun through. */
function pendingVerdict(input: BakeInput, tally: BakeTally, clock: BakeClock, said: TallyReasons): Decision {
  const { observations, starved, pending } = tally;
  if (!clock.deadlineNear) {
    return {
      action: 'continue',
      reasons: [`${clock.when}, but the new version is burning at the page rate or failing a health check right now`, ...pending, ...starved, ...said.context],
      observations,
    };
  }
  // At the deadline a burn still going on is no evidence of a healthy release: not a pass.
  return {
    ...inconclusive(
      input.config.inconclusiveAction,
      `${clock.limit}, and the new version is burning at the page rate or failing its health checks right now`,
      [...pending, ...starved, ...said.context],
      observations,
      true,
    ),
    ...said.findings,
  };
}

/** Too little traffic at the end: inconclusive, except at AfterAllowTestTraffic (`isTestTrafficHook`). */
function starvedVerdict(input: BakeInput, tally: BakeTally, clock: BakeClock, said: TallyReasons): Decision {
  const { observations, starved } = tally;
  const escalate = tally.incidents.length > 0;
  if (isTestTrafficHook(input.lifecycleEvent)) {
    return {
      ...inconclusive(
        'pass',
        `${clock.when} with too little test traffic at AfterAllowTestTraffic: test traffic flows only when someone sends it, production traffic is judged at AfterAllowTraffic`,
        [...starved, ...said.context],
        observations,
        escalate,
      ),
      ...said.findings,
    };
  }
  return { ...inconclusive(input.config.inconclusiveAction, `${clock.when} without enough data`, [...starved, ...said.context], observations, escalate), ...said.findings };
}

function passVerdict(tally: BakeTally, clock: BakeClock, said: TallyReasons): Decision {
  return {
    action: 'report',
    status: 'Succeeded',
    verdict: 'pass',
    reasons: [
      tally.excused.length > 0 ? `${clock.when}: no burn on the new version's own traffic was the release's` : `${clock.when}: every SLO held on the new version's own traffic`,
      ...said.context,
    ],
    observations: tally.observations,
    // Not the release's doing, and no rollback: but the service is in an incident a human must own.
    ...(tally.incidents.length > 0 ? { escalate: true, ...said.findings } : {}),
  };
}

/** An incident the decision found that is not the release's: it is named in the report and the audit. */
export interface IncidentNote {
  /** `pre-existing`: the service was already paging on the current version when the release went out. */
  readonly kind: 'pre-existing';
  readonly slo: string;
  readonly reason: string;
}

/** What one SLO's windows say at one tick. */
interface SloJudgement {
  /** The new version burns at the page rate, and the burn is the release's. */
  readonly failure?: string;
  /** Too few events to pass (or fail) on. */
  readonly starved?: string;
  /** A page-rate burn that is not the release's: why. */
  readonly excused?: string;
  /** The service was paging on the current version before the release. */
  readonly preExisting?: string;
  /** Burning at the page rate right now, too briefly to tell a blip from a regression: the bake goes on. */
  readonly pending?: string;
  /** Would fail, but the current version's counts that could excuse it were not read: read again. */
  readonly unreadable?: string;
}

/**
 * One-sided significance that a handful of events burns at the page rate or more: fewer events
 * than the tier's minimum can still fail a release when they could hardly have come from a burn at
 * the page rate (P(X ≥ bad | total, page-rate ratio) below this). About 60 looks in an hour's bake
 * keep the family-wise rate under 1 %. Measured with `npm run eval:seeds` (low-traffic classes).
 */
export const DECISIVE_P_VALUE = 1e-4;

/**
 * Once the new version is shown significantly worse than the current one on the minutes both
 * served, a window counts as burning at the page rate unless a page-rate burn would leave this few
 * bad events with probability at most this (one-sided: P(X ≤ bad | total, page-rate ratio)). The
 * point estimate alone (burn ≥ F) catches a burn just over F about half the time per look: 15 %
 * over the 14.4× page rate needs ~250 bad events to read above F with 99 % confidence, 15 minutes
 * of a thousand requests a minute. Measured with `npm run eval:seeds` (slow-burn-over-page).
 */
export const PAGE_RATE_NOT_EXCLUDED_P = 0.05;

/** The windows of one SLO: cut from its timeline, or, without one, every minute since the release as paired. */
function windowsFor(data: SloBakeData, baselineReadable: boolean): SloWindows {
  const { slo } = data;
  if (data.timeline) {
    if (baselineReadable) return windowsOf(slo, data.timeline);
    // Without the current version's counts, nothing says how many events the service's hour held:
    // the workbook-hour rule has no evidence (an empty hour would make a blip look like the hour's budget).
    const minutes = data.timeline.minutes.map(({ at, canary }) => ({ at, ...(canary ? { canary } : {}) }));
    const windows = windowsOf(slo, { ...data.timeline, minutes });
    return { ...windows, solo: { ...windows.solo, hourOfService: NO_COUNTS } };
  }
  const none = NO_COUNTS;
  return {
    paired: { canary: data.canary, baseline: baselineReadable ? (data.baseline ?? none) : none, canaryShort: data.canaryShort, baselineShort: none },
    solo: { shortMinutes: 0, fullWindow: false, stretchCapped: none, stretch: none, stretchMinutes: 0, hourOfService: none, burning: { minutes: 0, counts: none }, short: none, shortCapped: none, sinceReleaseCapped: none, recent: [] },
    history: { long: none, short: none },
  };
}

const ratioOf = (c: Counts) => (c.total > 0 ? c.bad / c.total : 0);
const pctOf = (c: Counts) => `${fmt(ratioOf(c) * 100)} % (${fmt(c.bad)} of ${fmt(c.total)} events)`;

/**
 * One SLO at one tick: the new version fails when it burns at the page rate on its own traffic,
 * and the burn is the release's:
 * - on the paired minutes (both versions served), over the minutes since the release and the short
 *   window, unless it fails no more than `factor` times as often as the current version on those
 *   same minutes (an incident every version shares);
 * - on a short window the new version served alone, each minute capped at {@link SOLO_MINUTE_CAP} ×
 *   the page rate (so a blip of up to three minutes, one the workbook's hour would not page on,
 *   cannot fail it), unless it fails no more than `factor` times as often as the reference (the
 *   current version's own last minutes of service), or not significantly more (Fisher, as the
 *   canary judge): then it is what the service was already doing;
 * - with fewer events than the tier's minimum, only on decisive evidence ({@link DECISIVE_P_VALUE}).
 * The history says whether the service was paging before the release: the workbook's page rule
 * (the page rate over the last hour and the last short window) on the current version.
 */
function judgeSlo(slo: EvaluatorSlo, w: SloWindows, factor: number, canary: Counts, canaryJudge: CanaryJudge, baselineUnreadable = false): SloJudgement {
  const preExisting = preExistingIncident(slo, w);
  const withIncident = (judged: SloJudgement): SloJudgement => (preExisting ? { ...judged, preExisting } : judged);
  const j = judgingCase(slo, w, factor, canaryJudge, baselineUnreadable);
  if (canary.datapoints === 0 || canary.total < slo.minEvents) return withIncident(judgeFewEvents(j, canary));
  // The rules in order of precedence: the first that fails the release (or must read again) decides.
  const paired = judgePaired(j);
  if (paired?.failure) return withIncident(paired);
  const hour = judgeWorkbookHour(j);
  if (hour) return withIncident(hour);
  const continued = judgeContinuedBurn(j);
  if (continued) return withIncident(continued);
  const alone = judgeSoloWindow(j);
  if (alone?.failure || alone?.unreadable) return withIncident(alone);
  const latest = burningNow(slo, w.solo.recent, j);
  // No rule failed it: say why a burn was not the release's (the solo window's reading before the paired one's), or name a blip.
  const excused = alone?.excused ?? paired?.excused ?? blipNote(j, latest);
  // Burning now, not yet for long enough: a blip ends within minutes, a regression lasts. Not a pass yet.
  if (!excused && latest) return withIncident({ pending: pendingNote(j, latest) });
  return withIncident({ ...(excused ? { excused } : {}) });
}

/** The workbook's page rule on the current version before the release: was the service already paging? */
function preExistingIncident(slo: EvaluatorSlo, w: SloWindows): string | undefined {
  const F = slo.failBurnRate;
  const page = (c: Counts) => c.total >= slo.minEvents && (burnRateOf(c, slo.errorBudget) ?? 0) >= F;
  if (!(page(w.history.long) && page(w.history.short))) return undefined;
  return (
    `${slo.name}: pre-existing incident — the service was already burning its budget at the page rate before the release ` +
    `(the current version ${fmt(burnRateOf(w.history.long, slo.errorBudget))}× over the hour before it, ${fmt(burnRateOf(w.history.short, slo.errorBudget))}× over its last ` +
    `${fmt(slo.shortWindowSeconds / 60)} min; threshold ${fmt(F)}×): the release is not rolled back for it, a human should look`
  );
}

/** What every step of `judgeSlo` reads: the SLO, its windows, and how they compare with the reference. */
interface JudgingCase {
  readonly slo: EvaluatorSlo;
  readonly w: SloWindows;
  readonly factor: number;
  readonly baselineUnreadable: boolean;
  /** The reference said in a reason; undefined without one. */
  readonly refSays?: string;
  /**
   * Whether `c` is the release's: more than `factor` times as bad as the reference's worst stretch,
   * and significantly worse than its whole last short window (the canary judge: Fisher and the
   * beta-binomial posterior), so a few clean seconds are never the whole comparison.
   */
  readonly worseThanReference: (c: Counts) => boolean;
}

function judgingCase(slo: EvaluatorSlo, w: SloWindows, factor: number, canaryJudge: CanaryJudge, baselineUnreadable: boolean): JudgingCase {
  const ref = w.reference;
  return {
    slo,
    w,
    factor,
    baselineUnreadable,
    refSays: ref
      ? `the current version's ${ref.preRelease ? 'last minutes before the release' : 'last minutes of service'} (${fmt(ref.minutes)} min): ${pctOf(ref.counts)}`
      : undefined,
    worseThanReference: (c: Counts) =>
      factor === 0 || ref === undefined || (ratioOf(c) > factor * ratioOf(ref.counts) && canaryJudge(slo, c, ref.window) !== undefined),
  };
}

/**
 * A failure of minutes served alone with nothing to compare them with: when the current
 * version's counts could not be read, nobody knows whether it failed as often (a shared
 * incident). Not a rollback on that: read again, inconclusive at the deadline.
 */
function unattributable(j: JudgingCase, why: string): SloJudgement | undefined {
  return j.baselineUnreadable ? { unreadable: `${why}, but the current version's counts could not be read to tell the release from a shared incident` } : undefined;
}

/**
 * Fewer events than the tier's minimum: starved, unless the few there are fail decisively. This is
 * where "no data" makes an SLO inconclusive (no datapoints for the new version: a misdimensioned
 * metric, or no traffic). Heartbeats are the exception, judged apart (`tallyHeartbeat`): there the
 * absence of a datapoint after the grace is the failure.
 */
function judgeFewEvents({ slo, w, factor }: JudgingCase, canary: Counts): SloJudgement {
  const decisive = decisiveFailure(slo, w, factor, w.reference);
  if (decisive) return { failure: decisive };
  // Read as declared, the new version's own minutes start once all traffic is on it (bakeDataFor):
  // none yet is the shift still in the window, not a metric that names no version.
  const none =
    slo.declared === true
      ? `${slo.name}: no datapoint yet from a minute with all traffic on the new version (the SLI is read as declared: the whole service, the new version's own only after the full shift)`
      : `${slo.name}: no datapoints for the new version (a misdimensioned metric fails open in CloudWatch; here it is inconclusive)`;
  return { starved: canary.datapoints === 0 ? none : `${slo.name}: only ${canary.total} of the ${slo.minEvents} events needed` };
}

/**
 * The paired minutes: the new version burns at the page rate since the release and over the
 * short window, and fails more than `factor` × the current version (a failure), or not (excused).
 */
function judgePaired({ slo, w, factor }: JudgingCase): SloJudgement | undefined {
  const F = slo.failBurnRate;
  const p = w.paired;
  if (!(p.canary.total >= slo.minEvents && p.canaryShort.total > 0)) return undefined;
  const burn = burnRateOf(p.canary, slo.errorBudget)!;
  const shortBurn = burnRateOf(p.canaryShort, slo.errorBudget)!;
  // As the rollback alarms judge it: worse than `factor` × the current version by three standard deviations.
  const compared = factor > 0 && p.baseline.total >= slo.minEvents;
  const worse = compared && significantlyWorse(p.canary, p.baseline, factor);
  const reached = pageRateReading(slo, p.canary, worse);
  // The short window says whether it is still burning: read below its point estimate only while it
  // is itself significantly worse than the current version on its minutes — after a canary blip,
  // the whole canary stays worse, but a background error in a clean short window does not.
  const reachedShort = pageRateReading(slo, p.canaryShort, worse && significantlyWorse(p.canaryShort, p.baselineShort, factor));
  if (!(reached && reachedShort)) return undefined;
  if (!compared || worse) {
    return {
      failure:
        `${slo.name}: the new version burns its error budget at ${fmt(burn)}× over ${fmt(p.canary.datapoints)} min since the release ` +
        `(${p.canary.bad} of ${p.canary.total} events bad${reached.notExcluded ? `; ${reached.notExcluded}` : ''}) and ${fmt(shortBurn)}× over the short window` +
        `${reachedShort.notExcluded ? ` (${reachedShort.notExcluded})` : ''}; the threshold is ${fmt(F)}×` +
        (p.baseline.total > 0 ? `; the current version on the same minutes: ${pctOf(p.baseline)}${worse ? ` (the new version fails more than ${fmt(factor)}× as often, by three standard deviations)` : ''}` : ''),
    };
  }
  return {
    excused:
      `${slo.name}: shared incident — the new version burns at ${fmt(burn)}× (${pctOf(p.canary)}) but the current version fails about as often on the same minutes ` +
      `(${pctOf(p.baseline)}: not more than ${fmt(factor)}× as often by three standard deviations): not the release`,
  };
}

/** The budget of the service's last hour that the new version's solo bad events spent; 0 below the tier's minimum. */
function hourBurnOf(slo: EvaluatorSlo, w: SloWindows): number {
  const hour = w.solo.hourOfService;
  return hour.total >= slo.minEvents ? burnRateOf(hour, slo.errorBudget)! : 0;
}

/**
 * The workbook's own rule, its hour reaching back before the release: the new version's bad
 * events spent 14.4 × the budget of the service's last hour, and its last 5 minutes (served
 * alone) burn at 14.4× too. No blip the workbook would not page on can meet it; an outage of a
 * minute or two can.
 */
function judgeWorkbookHour(j: JudgingCase): SloJudgement | undefined {
  const { slo } = j;
  const F = slo.failBurnRate;
  const s = j.w.solo;
  const hour = s.hourOfService;
  const hourBurn = hourBurnOf(slo, j.w);
  // The workbook's short window beside its hour: the minutes served alone in the last 5 minutes.
  const shortBurn5 = s.short.total >= slo.minEvents ? burnRateOf(s.short, slo.errorBudget)! : 0;
  if (!(hourBurn >= F && shortBurn5 >= F && j.worseThanReference(s.short))) return undefined;
  return (
    unattributable(j, `${slo.name}: the new version, serving alone, spent ${fmt(hourBurn)}× the error budget of the service's last hour`) ?? {
      failure:
        `${slo.name}: the new version, serving alone, spent ${fmt(hourBurn)}× the error budget of the service's last hour ` +
        `(${fmt(hour.bad)} bad events of its own against ${fmt(hour.total)} events of both versions in the hour; the workbook pages at ${fmt(F)}×) ` +
        `and burns at ${fmt(shortBurn5)}× over its last ${fmt(s.shortMinutes)} min (${pctOf(s.short)})` +
        (j.refSays ? `; ${j.refSays}` : ''),
    }
  );
}

/**
 * A burn that began while the current version served beside it, and was not shared then: the
 * new version was already significantly worse on the same minutes, so the minutes it serves alone
 * after the shift continue it (a blip after a clean canary cannot use this). The workbook's pair
 * as served: every minute since the release as the long window, its last 5 minutes (paired and
 * alone) as the short one.
 */
function judgeContinuedBurn({ slo, w, factor }: JudgingCase): SloJudgement | undefined {
  const F = slo.failBurnRate;
  const p = w.paired;
  const s = w.solo;
  if (!(factor > 0 && p.canary.total >= slo.minEvents && p.baseline.total >= slo.minEvents && significantlyWorse(p.canary, p.baseline, factor) && s.stretch.total > 0)) {
    return undefined;
  }
  const since: Counts = { total: p.canary.total + s.stretch.total, bad: p.canary.bad + s.stretch.bad, datapoints: p.canary.datapoints + s.stretch.datapoints };
  const last5: Counts = { total: p.canaryShort.total + s.short.total, bad: p.canaryShort.bad + s.short.bad, datapoints: p.canaryShort.datapoints + s.short.datapoints };
  const sinceBurn = burnRateOf(since, slo.errorBudget)!;
  const last5Burn = last5.total > 0 ? burnRateOf(last5, slo.errorBudget)! : 0;
  const reached = pageRateReading(slo, since, true);
  const reachedLast5 = last5.total >= slo.minEvents ? pageRateReading(slo, last5, true) : undefined;
  if (!(reached && reachedLast5)) return undefined;
  return {
    failure:
      `${slo.name}: the new version was already worse than the current one on the minutes both served (${pctOf(p.canary)} against ${pctOf(p.baseline)}, ` +
      `more than ${fmt(factor)}× by three standard deviations), and burns its error budget at ${fmt(sinceBurn)}× since the release (${pctOf(since)}` +
      `${reached.notExcluded ? `; ${reached.notExcluded}` : ''}) and ${fmt(last5Burn)}× over its last ${fmt(slo.shortWindowSeconds / 60)} min (${pctOf(last5)}` +
      `${reachedLast5.notExcluded ? `; ${reachedLast5.notExcluded}` : ''}); the threshold is ${fmt(F)}×`,
  };
}

/**
 * A full short window served alone, each minute capped at the page rate × {@link SOLO_MINUTE_CAP}:
 * a failure when it (or the stretch beside it) burns at the page rate and is worse than the
 * reference, excused when it is not.
 */
function judgeSoloWindow(j: JudgingCase): SloJudgement | undefined {
  const { slo, factor } = j;
  const F = slo.failBurnRate;
  const s = j.w.solo;
  if (!(s.fullWindow && s.shortMinutes > 0 && s.shortCapped.total >= slo.minEvents)) return undefined;
  const capped = burnRateOf(s.shortCapped, slo.errorBudget)!;
  // The workbook's pair on the stretch served alone: a long window (at least twice the short one)
  // at the page rate for significance, while the short window says it is still burning.
  const long = s.stretchMinutes * 60 >= 2 * slo.shortWindowSeconds && s.stretchCapped.total >= slo.minEvents ? burnRateOf(s.stretchCapped, slo.errorBudget)! : 0;
  const rawShort = burnRateOf(s.short, slo.errorBudget)!;
  if (!(capped >= F || (long >= F && rawShort >= F))) return undefined;
  // Both readings said as they are: capped (what is judged) and as served.
  const numbers =
    (capped >= F
      ? `${fmt(capped)}× over its last ${fmt(s.shortMinutes)} min alone counting each minute up to ${fmt(SOLO_MINUTE_CAP)}× the page rate (${fmt(s.shortCapped.bad)} of ${fmt(s.shortCapped.total)} events), ` +
        `${fmt(rawShort)}× as served (${pctOf(s.short)})`
      : `${fmt(long)}× over the ${fmt(s.stretchMinutes)} min it has served alone counting each minute up to ${fmt(SOLO_MINUTE_CAP)}× the page rate (${fmt(s.stretchCapped.bad)} of ${fmt(s.stretchCapped.total)} events), ` +
        `and ${fmt(rawShort)}× over its last ${fmt(s.shortMinutes)} min as served (${pctOf(s.short)})`) +
    `; the threshold is ${fmt(F)}× (the cap keeps a blip of up to 3 minutes under it at 46 requests a minute or more)`;
  if (j.worseThanReference(s.short)) {
    return (
      unattributable(j, `${slo.name}: the new version, serving alone, burns its error budget at ${numbers}`) ?? {
        failure: `${slo.name}: the new version, serving alone, burns its error budget at ${numbers}` + (j.refSays ? `; ${j.refSays}` : '; nothing to compare with (no current-version traffic)'),
      }
    );
  }
  return {
    excused: `${slo.name}: the new version, serving alone, burns at ${numbers}, but not ${fmt(factor)}× worse than ${j.refSays}, or not significantly: what the service was already doing, not the release`,
  };
}

/** A burn that came and went without filling a short window: say what was not rolled back for. */
function blipNote({ slo, w }: JudgingCase, latest: ReturnType<typeof burningNow>): string | undefined {
  const F = slo.failBurnRate;
  const s = w.solo;
  const hourBurn = hourBurnOf(slo, w);
  if (!(s.burning.minutes > 0 && hourBurn < F && pageRateTail(slo, s.burning.counts) <= 0.001 && !latest)) return undefined;
  const at = (t: number | undefined) => (t === undefined ? '?' : new Date(t * 1000).toISOString().slice(11, 16));
  return (
    `${slo.name}: a blip — the new version burned at ${fmt(burnRateOf(s.burning.counts, slo.errorBudget))}× in ${fmt(s.burning.minutes)} of the minutes it served alone ` +
    `(${s.burning.first === s.burning.last ? at(s.burning.first) : `${at(s.burning.first)}–${at(s.burning.last)}`} UTC, ${pctOf(s.burning.counts)}), not for a full ${fmt(slo.shortWindowSeconds / 60)}-min window, ` +
    `and spent ${fmt(hourBurn)}× the budget of the service's last hour (the workbook pages at ${fmt(F)}×): not rolled back`
  );
}

/** Burning at the page rate right now, too briefly to tell a blip from a regression. */
function pendingNote({ slo }: JudgingCase, now: NonNullable<ReturnType<typeof burningNow>>): string {
  const F = slo.failBurnRate;
  return (
    `${slo.name}: the new version, serving alone, burns at ${fmt(burnRateOf(now.counts, slo.errorBudget))}× over its last ${fmt(now.minutes)} min (${pctOf(now.counts)}): ` +
    `waiting for it to last (a regression: the short window, each minute capped at ${fmt(SOLO_MINUTE_CAP)}× the page rate, reaches ${fmt(F)}×) or end (a blip)`
  );
}

/**
 * The new version's latest solo minutes, if they burn at the page rate and are the release's: the
 * shortest suffix of the short window with the tier's minimum events (one minute at a thousand
 * requests a minute), so a blip that has ended stops counting as soon as a clean minute follows.
 * "At the page rate" unless the counts exclude it ({@link PAGE_RATE_NOT_EXCLUDED_P}): one minute of
 * a 20× regression reads under 14.4× one time in ten, and a pass on that minute would let it through
 * (aao-delayed-regression, 2 of 500 seeds); a clean minute excludes it (0 of 1000: P = 5 × 10⁻⁷).
 */
function burningNow(slo: EvaluatorSlo, recent: readonly ArmMinute[], j: Pick<JudgingCase, 'factor' | 'w' | 'worseThanReference'>): { counts: Counts; minutes: number } | undefined {
  // Read below the point estimate only against a real comparison: with factor 0 or no reference,
  // worseThanReference holds for anything, and a healthy low-traffic minute would keep the bake
  // waiting until the deadline (inconclusive, a rollback).
  const compared = j.factor > 0 && j.w.reference !== undefined;
  let c: Counts = { total: 0, bad: 0, datapoints: 0 };
  for (let i = recent.length - 1; i >= 0; i--) {
    c = { total: c.total + recent[i].total, bad: c.bad + recent[i].bad, datapoints: c.datapoints + 1 };
    if (c.total < slo.minEvents) continue;
    return pageRateReading(slo, c, compared && j.worseThanReference(c)) && j.worseThanReference(c) ? { counts: c, minutes: recent.length - i } : undefined;
  }
  return undefined;
}

/**
 * Whether a window reads as burning at the page rate: its point estimate at F or more, or, when the
 * release is shown significantly worse than the current version (`worse`), a count that a burn at
 * the page rate would leave with probability above {@link PAGE_RATE_NOT_EXCLUDED_P} (then
 * `notExcluded` says so). Undefined when it does not.
 */
function pageRateReading(slo: EvaluatorSlo, c: Counts, worse: boolean): { notExcluded?: string } | undefined {
  if (!(c.total > 0)) return undefined;
  if (burnRateOf(c, slo.errorBudget)! >= slo.failBurnRate) return {};
  if (!worse || !informative(slo, c)) return undefined;
  const p = pageRateHead(slo, c);
  return p > PAGE_RATE_NOT_EXCLUDED_P ? { notExcluded: `a burn at ${fmt(slo.failBurnRate)}× leaves this few bad events with probability ${fmt(p)}: not excluded` } : undefined;
}

/**
 * Whether a window holds enough events that its counts could exclude the page rate at all: at
 * least −ln(PAGE_RATE_NOT_EXCLUDED_P) ≈ 3 bad events expected at the page rate, so that a clean
 * window does exclude it ((1 − p)ⁿ ≤ e^(−np) ≤ 0.05). Fewer (a 99.9 % SLO's 70-event minimum
 * expects 1) say nothing either way: read on the point estimate alone.
 */
function informative(slo: EvaluatorSlo, c: Counts): boolean {
  return c.total * Math.min(1, slo.failBurnRate * slo.errorBudget) >= -Math.log(PAGE_RATE_NOT_EXCLUDED_P);
}

/** P(X ≤ bad) for X ~ Binomial(total, page-rate ratio) = 1 − I_ratio(bad + 1, total − bad): how ordinary so few bad events are at the page rate. */
function pageRateHead(slo: EvaluatorSlo, c: Counts): number {
  if (c.bad >= c.total) return 1;
  return 1 - betainc(Math.min(1, slo.failBurnRate * slo.errorBudget), c.bad + 1, c.total - c.bad);
}

/** P(X ≥ bad) for X ~ Binomial(total, page-rate ratio) = I_ratio(bad, total − bad + 1): how surprising `bad` is at the page rate. */
function pageRateTail(slo: EvaluatorSlo, c: Counts): number {
  if (c.bad <= 0) return 1;
  if (c.bad > c.total) return 0;
  return betainc(Math.min(1, slo.failBurnRate * slo.errorBudget), c.bad, c.total - c.bad + 1);
}

/**
 * Too few events to pass on, but perhaps enough to fail: the new version's bad events since the
 * release (solo minutes capped as in the short window) could hardly come from a burn at the page
 * rate, and they are the release's (worse than the current version, as above).
 */
function decisiveFailure(slo: EvaluatorSlo, w: SloWindows, factor: number, ref: SloWindows['reference']): string | undefined {
  // Paired minutes on which the current version failed as often are a shared incident: left out.
  const base = w.paired.baseline;
  const pairedShared = factor > 0 && base.total > 0 && ratioOf(w.paired.canary) <= factor * ratioOf(base);
  const bad = (pairedShared ? 0 : w.paired.canary.bad) + w.solo.sinceReleaseCapped.bad;
  const total = (pairedShared ? 0 : w.paired.canary.total) + w.solo.sinceReleaseCapped.total;
  if (bad <= 0 || total <= 0) return undefined;
  const pageRatio = Math.min(1, slo.failBurnRate * slo.errorBudget);
  const pValue = pageRateTail(slo, { total, bad, datapoints: 0 });
  if (pValue > DECISIVE_P_VALUE) return undefined;
  const ratio = bad / total;
  if (factor > 0 && ref && ratio <= factor * ratioOf(ref.counts)) return undefined;
  return (
    `${slo.name}: decisive with few events — ${fmt(bad)} of ${fmt(total)} events of the new version bad (${fmt(ratio * 100)} %); a burn at the page rate ` +
    `(${fmt(slo.failBurnRate)}×, ${fmt(pageRatio * 100)} %) would produce that many with probability ${fmt(pValue)}, below ${DECISIVE_P_VALUE}`
  );
}

/**
 * The canary judge on one SLO's error proportion: the new version fails only when it is worse than
 * the current version on the same minutes both by Fisher's exact test and beyond the effect-size
 * tolerance (so a significant but tiny difference does not roll back). Too few events on either
 * side is no verdict here; the burn-rate check above still applies.
 *
 * The judge looks again on every tick, and a bake runs on while the new version burns (up to the
 * deadline: some 50 looks at the default one-minute tick), so its significance level is divided by
 * up to 100 looks (Bonferroni: 0.01 / 100); and the new version may add up to twice the SLO's
 * error budget as an error ratio, so a baseline that happened to show no errors does not shrink the
 * tolerance to nothing. Measured with `npm run eval:seeds` (pre-existing-incident: at 0.001, one
 * seed in 100 rolled back on a canary that drew 33 errors in 399 events at a true 5 %).
 */
/** 0.01 over up to 100 looks. */
export const REPEATED_LOOK_P_VALUE = 1e-4;

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
