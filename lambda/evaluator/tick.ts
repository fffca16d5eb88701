import { AuditDetailType as Audit } from '../../lib/core/audit-events';
import { type BakeContext, type BakeState, type TickClock, bakeDeadline, nextWaitSeconds, parseDeadline, tickClock } from '../../lib/core/bake';
import { BAKE_JUDGES, type BakeInput, type BakeJudges, WATCH_JUDGES, decideBakeWith } from '../../lib/core/decision';
import { isDeploymentFinished } from '../../lib/core/deployment-kind';
import { buildHeartbeatQueries, heartbeatBakeData } from '../../lib/core/heartbeat';
import { armScopesFor, floorToMinute } from '../../lib/core/metric-queries';
import { decide } from './hand-over';
import { runHealthChecks } from './health';
import { readNotes, readTick, sloEvidence } from './read';
import { type StepRuntime, out } from './runtime';

/**
 * What a reading judges beside the SLOs and the health checks, given by its caller. The bake's
 * tick reads and judges the heartbeats, and has the canary judge (`BAKE_READING`); the follow-up's
 * watches (the verification, the guard window) judge the deployment's target version alone, with
 * neither (`WATCH_READING`). Given rather than imported here, so that the follow-up function's
 * bundle holds neither the heartbeats' reading nor their judge.
 */
export interface Judging {
  readonly judges: BakeJudges;
  /** The heartbeats' queries and evidence (lib/core/heartbeat.ts); absent: no heartbeat is read. */
  readonly heartbeats?: { readonly queries: typeof buildHeartbeatQueries; readonly evidence: typeof heartbeatBakeData };
}

/** The bake's ticks: the heartbeats and every judge. */
const BAKE_READING: Judging = { judges: BAKE_JUDGES, heartbeats: { queries: buildHeartbeatQueries, evidence: heartbeatBakeData } };

/** The follow-up's watches: no heartbeat, no judge beside the SLOs' rules (`WATCH_JUDGES`). */
export const WATCH_READING: Judging = { judges: WATCH_JUDGES };

/**
 * One bake tick: unless CodeDeploy already decided, gather the evidence (one GetMetricData call,
 * the health checks), let core decide, and report or wait for the next tick.
 */
export async function tick(rt: StepRuntime, state: BakeState, until: number, statusKnown = false): Promise<BakeState> {
  if (!statusKnown && (await finishedDuringBake(rt, state, until))) return out(state, { next: 'done' });
  const { config } = rt;
  const deadline = bakeDeadline(state, config.deadlineMarginSeconds);
  const { clock, evidence, decision, ticked } = await readAndDecide(rt, { ...state, phase: 'tick' }, until, deadline, config, state.context!.lifecycleEvent, BAKE_READING);
  if (decision.action === 'report') return decide(rt, ticked, decision, until, evidence.notes);
  rt.logger.info('bake continues', { deploymentId: state.deploymentId, tick: ticked.ticks, bakedSeconds: clock.bakedSeconds, reasons: [...decision.reasons, ...evidence.notes] });
  return out(ticked, { next: 'wait', waitSeconds: nextWaitSeconds(rt.now(), config.tickSeconds, deadline) });
}

/**
 * One reading (one GetMetricData call, the health checks) and core's bake decision on it, by
 * `deadline`; `ticked` is the state that counts the tick and carries the health checks' failures.
 * The bake's tick and the follow-up's watches (the verification, the guard window) all run it,
 * each with what it judges (`Judging`).
 */
export async function readAndDecide(
  rt: StepRuntime,
  state: BakeState,
  until: number,
  deadline: number,
  config: BakeInput['config'],
  lifecycleEvent: string | undefined,
  judging: Judging,
) {
  const clock = tickClock(rt.now(), state.hookStartedAt, rt.config.metricDelaySeconds);
  const evidence = await gatherEvidence(rt, state, clock, until, judging);
  const decision = decideBakeWith(
    {
      config,
      bakedSeconds: clock.bakedSeconds,
      // The hook's age when deciding, after the reads: a read that took the step's budget up to or
      // past the deadline decides now, not one more tick (and one more budget) later.
      hookAgeSeconds: rt.now() - state.hookStartedAt,
      deadlineSeconds: deadline - state.hookStartedAt,
      lifecycleEvent,
      slos: evidence.slos,
      healthFailures: evidence.health.failures,
      healthPending: evidence.health.pending,
      readProblems: evidence.readProblems,
      heartbeats: evidence.heartbeats,
    },
    judging.judges,
  );
  const { httpFailures } = evidence.health;
  const ticked: BakeState = { ...state, ticks: (state.ticks ?? 0) + 1, ...(httpFailures.length > 0 ? { httpFailures } : {}) };
  return { clock, evidence, decision, ticked };
}

/** Whether the deployment ended while the bake ran (audited: CodeDeploy decided, nothing to report). */
async function finishedDuringBake(rt: StepRuntime, state: BakeState, until: number): Promise<boolean> {
  try {
    const current = await rt.getDeployment(state.deploymentId, until);
    if (!isDeploymentFinished(current.status)) return false;
    await rt.publish([{ type: Audit.TRIGGER_SUPPRESSED, detail: { ...rt.auditBase(state), reasons: [`deployment ${current.status} during the bake; CodeDeploy decided, nothing to report`] } }]);
    return true;
  } catch (e) {
    // Only a shortcut: the metrics decide, and CodeDeploy refuses a report to a finished deployment.
    rt.logger.warn('GetDeployment failed during the bake; judging the metrics', { error: rt.expected(e) });
    return false;
  }
}

/**
 * What the tick judges on: each SLO's data, the health checks, the heartbeats (the bake's ticks
 * only, `Judging`: the follow-up's watches judge the SLOs and health checks), what could not be
 * read, CloudWatch's notes.
 */
async function gatherEvidence(rt: StepRuntime, state: BakeState, clock: TickClock, until: number, judging: Judging) {
  const { arms, windowStart, toVersion, fromVersion } = state.context!;
  const reading = judging.heartbeats;
  const heartbeats = reading ? rt.config.heartbeats : undefined;
  const versions = { toVersion, fromVersion };
  const { read, failure } = await readTick(rt, arms!, windowStart!, clock, until, reading ? reading.queries(heartbeats, versions) : []);
  const results = read?.results ?? new Map();
  // All traffic is on the new version from the hook's start at AfterAllowTraffic only (at ECS
  // AfterAllowTestTraffic production is still on the original). Before it, no interval counts as a
  // missing beat (during a canary a worker that beats per request beats at the canary's share), and
  // an SLO read as declared (the whole service) has no minute of the new version's own.
  const allTrafficAt = state.context?.lifecycleEvent === 'AfterAllowTraffic' ? state.hookStartedAt : undefined;
  const slos = sloEvidence(rt.config, arms!, results, windowStart!, clock.end, failure, allTrafficAt);
  const health = await runHealthChecks(rt, state, results, failure, clock.end);
  const beats = reading ? reading.evidence(heartbeats, results, { releaseAt: windowStart!, allTrafficAt, end: clock.end, versions }, failure) : [];
  return { slos, health, heartbeats: beats, readProblems: [...(failure ? [failure] : []), ...health.problems], notes: readNotes(read) };
}

/**
 * The start of a watch after a deployment ended (the verification, the guard window): the
 * deployment's target version alone, on its own traffic (all traffic is on it; the other version
 * serves nothing), from the minute of `hookStartedAt`. Targets that cannot be read are read again
 * next tick until the deadline, then `giveUp` says why; a version whose traffic cannot be found
 * gives up at once. `what` names the deployment in the reason.
 */
export async function watchTarget(
  rt: StepRuntime,
  state: BakeState,
  until: number,
  what: string,
  giveUp: (why: string) => Promise<BakeState>,
  first: (context: BakeContext) => Promise<BakeState>,
): Promise<BakeState> {
  let targets;
  try {
    targets = await rt.findTargets(state.deploymentId, until);
  } catch (e) {
    const why = `${what}'s targets could not be read (${rt.expected(e)})`;
    if (rt.now() >= parseDeadline(state.deadline)) return giveUp(why);
    return out(state, { next: 'wait', waitSeconds: rt.config.tickSeconds, unreadable: (state.unreadable ?? 0) + 1 });
  }
  const arms = armScopesFor(rt.config, targets);
  if (typeof arms === 'string') return giveUp(arms);
  return first({
    lifecycleEvent: 'AfterAllowTraffic',
    toVersion: targets.targetVersion,
    fromVersion: targets.currentVersion,
    arms: arms.filter((a) => a.arm === 'canary'),
    windowStart: floorToMinute(state.hookStartedAt),
  });
}
