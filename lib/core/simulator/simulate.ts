import type { SloObservation } from '../audit-events';
import { type Decision, type HookStatus, WATCH_JUDGES, decideBake, decideBakeWith, inconclusiveStatus } from '../decision';
import {
  MAX_EMULATED_MINUTES,
  emulate,
  type EmulationResult,
  relativeWindowBurnRate,
  RELATIVE_ALARM_BLENDED_FACTOR,
  checkTrafficShift,
  significantlyAbove,
  type SliPoint,
  SliIndex,
  type TimelineEntry,
  type WindowCounts,
  windowBurnRate,
} from '../emulator';
import { HEALTH_CHECK_DEFAULTS } from '../defaults';
import { RollbackTriggersError, formatNumber } from '../errors';
import { type EvaluatorSlo, HOOK_LIMIT_SECONDS, type MetricSpec } from '../evaluator-config';
import { approvalRequest, needsApproval } from '../approval';
import { MAX_DEADLINE_SECONDS, type TickClock, bakeDeadline, bakeWindowStart, nextWaitSeconds, parseDeadline, shadowed, tickClock } from '../bake';
import { guardInput } from '../follow-up';
import { PolicyIds } from '../policy-builder';
import { type ArmScope, type QueryResult, type Series, bakeDataFor, queryId } from '../metric-queries';
import { syntheticsFailure, syntheticsPending } from '../synthetics';
import { heartbeatBakeData, policyHeartbeats } from '../heartbeat';
import { type HeartbeatReplay, heartbeatReplayOf } from './heartbeat-replay';
import { type HeartbeatAlarmModel, type HeartbeatAlarms, describeHeartbeatAlarm, emulateHeartbeatAlarms, heartbeatAlarmsOf, heartbeatStateAt, quietHeartbeatReasons } from './heartbeat-alarm';
import { HISTORY_SECONDS } from '../windows';
import {
  POLICY_SCHEMA_VERSION,
  fastestPageTier,
  type PolicyAlarm,
  type PolicyHealthCheck,
  type PolicyRollbackAlarm,
  type PolicyRollbackTrigger,
  type PolicySlo,
  type PolicyTrafficShift,
  type RollbackPolicy,
} from '../policy';
import { relativeExpectedBad } from '../relative-alarm';
import type { DerivedTier } from '../slo-math';
import { type ShiftPlan, phasesOf, shiftPlan } from './timeline';
import type { EvaluatorSettings, GuardWindowOutcome, MinuteCounts, PathOutcome, SeriesEntry, SimulationInput, SimulationMinute, SimulationResult } from './types';
import { resolveSettings, validateIngestionDelay, validateRelease, validateSeries, validateShape } from './validate';

/**
 * Replays a series through both rollback paths with the code that runs them in production:
 *
 * - the alarm path: the rollback trigger's per-version alarms (`policy.rollbackTriggers[].alarms`),
 *   compiled into a small policy of one window alarm each and evaluated by the alarm emulator
 *   (`emulate`), exactly as the constructs synthesize them — the short window of the fastest page tier,
 *   threshold = its factor, the tier's minimum events, 1 of 1, notBreaching, and, when the policy
 *   gives the alarm a baseline, burning only while the new version fails more than `factor` times
 *   as often as the other version on the same window — and the alarms of its `HeartbeatTrigger`s
 *   (SampleCount < 1, M of N, missing data breaching) on the series' beats (./heartbeat-alarm.ts).
 *   CodeDeploy rolls back as soon as one is in ALARM at any minute from the release to the end of
 *   the deployment; the trigger's other alarm triggers have no series and are not replayed;
 * - the evaluator: `decideBake` with `countsFor` over the per-version entries, tick by tick, with the
 *   Lambda handler's clock (window from the release minute, bake clock from AfterAllowTraffic, data
 *   visible up to `now − metricDelay` floored to the minute, canary = new version, baseline = old);
 *   an SLO it reads as declared (`evaluatorReads`: metrics without the version or a target group)
 *   on the stream its declared-scope alarm reads, judged by `bakeDataFor` on the minutes from
 *   AfterAllowTraffic on, the minutes before the release as the current version's,
 *   and the trigger's Synthetics health checks judged by `syntheticsFailure` on the series'
 *   `synthetics` values (HTTP probes cannot be replayed from metrics: the reasons say so);
 * - paging, reported apart: the SLOs' blended burn-rate alarms and composites through `emulate`.
 *
 * Pure: no aws-cdk-lib, no AWS SDK, no Node APIs (the CLI bundles it).
 */
export function simulate(input: SimulationInput): SimulationResult {
  const { policy, series, release, deployment, delay } = checkInput(input);
  const trigger = pickTrigger(policy, input.rollbackTrigger);
  if (input.breakerOpen === true && trigger?.circuitBreaker === undefined) {
    throw new RollbackTriggersError('RT725', `breakerOpen is set, but the rollback trigger ${trigger ? trigger.name : '(none in the policy)'} has no circuitBreaker: there is no breaker to replay open`);
  }
  const settings = resolveSettings(input.evaluator, trigger);
  const evaluatorSlos = evaluatorSlosOf(policy, trigger);
  const rollbackAlarms = trigger ? rollbackAlarmsOf(policy, trigger, series) : [];
  const heartbeatAlarms = trigger ? heartbeatAlarmsOf(policy, trigger, series, delay) : NO_HEARTBEAT_ALARMS;

  const plan = shiftPlan(deployment, release);
  const clock = bakeClock(plan, release, deployment.bakeMinutes, settings);
  const span = replaySpan(series, release, delay, clock.nominalEndMinute);
  const emulatorOptions = { ingestionDelayMinutes: delay, fromMinute: span.firstMinute, toMinute: span.toMinute };
  const paging = emulatePaging(policy, series, emulatorOptions);
  const rollback = emulateRollbackAlarms(rollbackAlarms, emulatorOptions);
  const heartbeats: HeartbeatAlarmRun = { ...heartbeatAlarms, result: emulateHeartbeatAlarms(heartbeatAlarms.alarms, emulatorOptions) };

  const perVersion = perVersionAfter(series, release);
  const evaluated = runEvaluator(series, evaluatorSlos, settings, clock, deployment.bakeMinutes, release, span.lastMinute, perVersion, trigger, policy);
  const evaluator = withHumanGate(evaluated, trigger, input.breakerOpen === true, clock.allTrafficMinute);
  const alarmPath = withTriggerChoice(
    alarmPathOutcome(rollback, rollbackAlarms, heartbeats, trigger, release, clock.nominalEndMinute, delay, perVersion.canary, span.lastMinute),
    policy,
    trigger,
    input.rollbackTrigger,
  );
  const pagingPath = pagingOutcome(paging, policy, release);
  const outcome = firstToRollBack(alarmPath, evaluator);
  const guardWindow = replayGuardWindow(series, evaluatorSlos, settings, clock, trigger, outcome, span.lastMinute);

  return {
    phases: phasesOf(plan, {
      firstMinute: span.firstMinute,
      releaseMinute: release,
      bakeMinutes: deployment.bakeMinutes,
      decisionMinute: outcome.minute!,
      rolledBack: outcome.rollback === true,
      endMinute: span.toMinute + 1,
    }),
    thresholds: windowThresholds(paging, rollback),
    minutes: chartMinutes(series, paging, rollback),
    outcome,
    paths: [alarmPath, evaluator, pagingPath],
    evaluatorSettings: settings,
    ingestionDelayMinutes: delay,
    ...(guardWindow ? { guardWindow } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// The replay's input, span and emulations

interface CheckedInput {
  readonly policy: RollbackPolicy;
  readonly series: SimulationInput['series'];
  readonly release: number;
  readonly deployment: SimulationInput['deployment'];
  /** Ingestion delay in minutes. */
  readonly delay: number;
}

function checkInput(input: SimulationInput): CheckedInput {
  if (input === null || typeof input !== 'object') throw new RollbackTriggersError('RT701', 'simulate needs an input object { policy, series, releaseMinute, deployment }');
  const { series, releaseMinute: release, deployment } = input;
  const policy = checkPolicy(input.policy);
  // Each SLO counts its bad events in one field of the series: every entry must carry it.
  const needed = new Set(policy.slos.map(badField));
  validateSeries(series, needed.has('slow'), needed.has('failures'));
  validateRelease(release, series);
  validateShape(deployment);
  const delay = input.ingestionDelayMinutes ?? 0;
  validateIngestionDelay(delay);
  return { policy, series, release, deployment, delay };
}

/** The minutes the replay covers: the series' first entry to the end of the deployment. */
interface ReplaySpan {
  readonly firstMinute: number;
  readonly lastMinute: number;
  readonly toMinute: number;
}

function replaySpan(series: readonly SeriesEntry[], release: number, delay: number, nominalEnd: number): ReplaySpan {
  const firstMinute = series[0].minute;
  const lastMinute = series[series.length - 1].minute;
  // The deployment ends, at the latest, when the bake is over (or the hook's deadline is near).
  const toMinute = Math.max(lastMinute + delay + 1, Math.ceil(nominalEnd));
  if (toMinute - firstMinute + 1 > MAX_EMULATED_MINUTES) {
    throw new RollbackTriggersError(
      'RT707',
      `the replay would run from the series' first entry (minute ${firstMinute}) to the end of the deployment released at minute ${release} ` +
        `(minute ${toMinute}): ${toMinute - firstMinute + 1} minutes, more than the ${MAX_EMULATED_MINUTES} (60 days) one replay covers — drop older entries`,
    );
  }
  return { firstMinute, lastMinute, toMinute };
}

type EmulatorOptions = Parameters<typeof emulate>[1];

/** Paging: every SLO's blended alarms and composites (threshold triggers have no series here). */
function emulatePaging(policy: RollbackPolicy, series: readonly SeriesEntry[], options: EmulatorOptions): EmulationResult {
  return emulate(
    {
      policy: { schemaVersion: POLICY_SCHEMA_VERSION, stack: policy.stack, slos: policy.slos, thresholdTriggers: [] },
      sli: Object.fromEntries(policy.slos.map((s) => [s.path, sliSeries(series, 'blended', badField(s))])),
    },
    options,
  );
}

/** Alarm path: one window alarm per rollback alarm, on the traffic its scope names. */
function emulateRollbackAlarms(rollbackAlarms: readonly RollbackAlarmModel[], options: EmulatorOptions): EmulationResult | undefined {
  if (rollbackAlarms.length === 0) return undefined;
  return emulate(
    {
      policy: { schemaVersion: POLICY_SCHEMA_VERSION, slos: rollbackAlarms.map((a) => a.slo), thresholdTriggers: [] },
      sli: Object.fromEntries(rollbackAlarms.map((a) => [a.id, a.series])),
      baselines: Object.fromEntries(
        rollbackAlarms.flatMap((a) =>
          a.baseline ? [[a.id, { factor: a.baseline.factor, mode: a.baseline.mode, series: a.baseline.series, ...(a.baseline.shift ? { shift: a.baseline.shift } : {}) }]] : [],
        ),
      ),
    },
    options,
  );
}

const NO_HEARTBEAT_ALARMS: HeartbeatAlarms = { alarms: [], heartbeatPaths: new Set(), notes: [] };

/** The heartbeat alarms of the alarm path and their emulation (undefined when there is none). */
interface HeartbeatAlarmRun extends HeartbeatAlarms {
  readonly result: EmulationResult | undefined;
}

/** Whether the series has per-version entries after the release. */
interface PerVersion {
  readonly canary: boolean;
  readonly stable: boolean;
}

function perVersionAfter(series: readonly SeriesEntry[], release: number): PerVersion {
  return {
    canary: series.some((e) => e.canary !== undefined && e.minute >= release),
    stable: series.some((e) => e.stable !== undefined && e.minute >= release),
  };
}

/** The alarm path's reasons, plus which trigger was replayed when the policy has several and none was chosen. */
function withTriggerChoice(alarmPath: PathOutcome, policy: RollbackPolicy, trigger: PolicyRollbackTrigger | undefined, wanted: string | undefined): PathOutcome {
  const triggerCount = policy.rollbackTriggers?.length ?? 0;
  if (!(trigger && triggerCount > 1 && wanted === undefined)) return alarmPath;
  return {
    ...alarmPath,
    reasons: [...alarmPath.reasons, `the policy has ${triggerCount} rollback triggers; this replay deploys the first, ${trigger.name} (${trigger.path}) — choose another with rollbackTrigger`],
  };
}

/** The first path to roll back wins; an alarm and the evaluator in the same minute: the alarm. */
function firstToRollBack(alarmPath: PathOutcome, evaluator: PathOutcome): PathOutcome {
  const alarmFirst = alarmPath.rollback === true && alarmPath.minute !== undefined && alarmPath.minute <= evaluator.minute!;
  if (!alarmFirst) return evaluator;
  return {
    ...alarmPath,
    reasons: [
      ...alarmPath.reasons,
      `the evaluator had not decided yet (on its own it would have reported ${evaluator.status} — ${evaluator.verdict} — at minute ${fmtMinute(evaluator.minute!)})`,
    ],
  };
}

/** Each window alarm's threshold, by alarm id, for the chart. */
function windowThresholds(paging: EmulationResult, rollback: EmulationResult | undefined): Record<string, number> {
  const thresholds: Record<string, number> = {};
  for (const result of [paging, rollback]) {
    for (const alarm of result?.alarms ?? []) if (alarm.kind === 'window' && alarm.threshold !== undefined) thresholds[alarm.id] = alarm.threshold;
  }
  return thresholds;
}

// ---------------------------------------------------------------------------------------------
// Policy

function checkPolicy(policy: RollbackPolicy): RollbackPolicy {
  if (policy === null || typeof policy !== 'object') throw new RollbackTriggersError('RT709', `policy must be a rollback policy document, got ${String(policy)}`);
  if (!Array.isArray(policy.slos) || policy.slos.length === 0) {
    throw new RollbackTriggersError('RT717', 'the policy has no SLO: both rollback paths judge burn rates of SLOs — synthesize a stack with a ServiceLevelObjective, or give one inline');
  }
  return policy;
}

function pickTrigger(policy: RollbackPolicy, wanted: string | undefined): PolicyRollbackTrigger | undefined {
  const triggers = policy.rollbackTriggers ?? [];
  const found = wanted === undefined ? triggers[0] : triggers.find((t) => t.name === wanted || t.path === wanted);
  if (wanted !== undefined && !found) {
    throw new RollbackTriggersError(
      'RT718',
      `rollbackTrigger "${wanted}" is not in the policy, which has ${triggers.map((t) => `${t.name} (${t.path})`).join(', ') || 'no rollback trigger'}`,
    );
  }
  return found && withWrittenFields(found);
}

/**
 * Refuses a trigger without the fields the constructs always write: a default in their place
 * (the default deadline and factor, the tier's long window) would replay another trigger than the
 * one deployed.
 */
function withWrittenFields(trigger: PolicyRollbackTrigger): PolicyRollbackTrigger {
  const missing = [
    ...(['deadlineSeconds', 'baselineFactor'] as const).filter((field) => typeof trigger[field] !== 'number'),
    ...(trigger.alarms ?? []).flatMap((a, i) => (typeof a.windowSeconds === 'number' ? [] : [`alarms[${i}].windowSeconds`])),
  ];
  if (missing.length > 0) {
    throw new RollbackTriggersError(
      'RT724',
      `rollback trigger ${trigger.path} has no ${missing.join(', ')}, which the constructs always write — synthesize the app again with this release of cdk-rollback-triggers`,
    );
  }
  return trigger;
}

function sloNamed(policy: RollbackPolicy, name: string, where: string): PolicySlo {
  const slo = policy.slos.find((s) => s.name === name);
  if (!slo) {
    throw new RollbackTriggersError('RT719', `${where} names SLO "${name}", which the policy does not hold (SLOs: ${policy.slos.map((s) => s.name).join(', ')})`);
  }
  return slo;
}

/** The count an SLO's bad events come from. */
type BadField = 'errors' | 'slow' | 'failures';

/**
 * Where an SLO's bad events are in the series: slow requests for a latency SLI, failed business
 * operations for a business-failure SLI (a declined payment is not an HTTP or Lambda error), errors
 * for the error- and success-ratio SLIs.
 */
function badField(slo: PolicySlo): BadField {
  const kind = slo.sli?.kind;
  return kind === 'latency' ? 'slow' : kind === 'business-failure' ? 'failures' : 'errors';
}

/** The SLOs the evaluator judges: the rollback trigger's objectives (as its configuration lists them), else every SLO with a page tier. */
interface JudgedSlo {
  readonly slo: PolicySlo;
  readonly evaluator: EvaluatorSlo;
  /**
   * An SLO the evaluator reads as declared (`evaluator.declared`): the one stream its metrics hold,
   * as its declared-scope rollback alarm reads it ({@link declaredStream}). Absent: per version,
   * the `canary` and `stable` entries.
   */
  readonly declared?: 'blended' | 'canary';
}

/** The evaluator reads series, not CloudWatch: its metric specs only have to be well-formed. */
const SERIES_SPEC: MetricSpec = { namespace: 'rollback-triggers/simulator', metricName: 'series', dimensionSet: 0, stat: 'Sum' };

function evaluatorSlosOf(policy: RollbackPolicy, trigger: PolicyRollbackTrigger | undefined): JudgedSlo[] {
  const judged = (slo: PolicySlo, tier: DerivedTier, minEvents: number, declared = false): JudgedSlo => ({
    slo,
    evaluator: {
      name: slo.name,
      errorBudget: slo.errorBudget,
      failBurnRate: tier.factor,
      shortWindowSeconds: tier.shortWindowSeconds,
      minEvents,
      numeratorKind: 'bad',
      numerator: SERIES_SPEC,
      total: SERIES_SPEC,
      ...(declared ? { declared: true } : {}),
    },
    ...(declared ? { declared: declaredStream(slo) } : {}),
  });
  if (trigger) {
    const out: JudgedSlo[] = [];
    // As the construct configures the evaluator: one entry per objective, the ECS blue alarm's twin skipped.
    for (const alarm of trigger.alarms ?? []) {
      if (alarm.scope === 'blue' || out.some((j) => j.slo.name === alarm.slo)) continue;
      out.push(judged(sloNamed(policy, alarm.slo, `rollback trigger ${trigger.path}`), alarm.tier, alarm.minEvents, evaluatorReadsDeclared(alarm, trigger)));
    }
    if (out.length === 0) throw new RollbackTriggersError('RT720', `rollback trigger ${trigger.path} has no alarm, so no SLO for the evaluator to judge`);
    return out;
  }
  const out = policy.slos.flatMap((slo) => {
    const tier = fastestPageTier(slo.tiers ?? []);
    return tier ? [judged(slo, tier, tier.minEventsPerWindow)] : [];
  });
  if (out.length === 0) {
    throw new RollbackTriggersError('RT721', `no SLO of the policy has a page tier (${policy.slos.map((s) => s.name).join(', ')}): the rollback paths judge the fastest page tier`);
  }
  return out;
}

/**
 * Whether the evaluator reads a rollback alarm's SLI as declared: the policy says so
 * (`evaluatorReads`, which the constructs write when the SLI's metrics carry neither the version
 * nor a target group), on a declared-scope alarm only.
 */
function evaluatorReadsDeclared(alarm: PolicyRollbackAlarm, trigger: PolicyRollbackTrigger): boolean {
  const reads = alarm.evaluatorReads;
  if (reads === undefined) return false;
  const where = `rollback trigger ${trigger.path}, alarm of SLO ${alarm.slo} (${alarm.scope})`;
  if (reads !== 'declared') {
    throw new RollbackTriggersError('RT728', `${where}: evaluatorReads must be "declared" or absent (per version), got ${JSON.stringify(reads)}`);
  }
  if (alarm.scope !== 'declared') {
    throw new RollbackTriggersError(
      'RT728',
      `${where}: evaluatorReads is "declared", but the alarm watches the ${alarm.scope === 'version' ? 'new version' : `${alarm.scope} target group`}: ` +
        'an SLI the evaluator reads as declared has a declared-scope alarm (remove evaluatorReads, or give the alarm scope "declared")',
    );
  }
  return true;
}

type StreamName = 'blended' | 'canary' | 'stable';

/**
 * The traffic an SLI as declared measures in the series: the blended entries for a blended SLI
 * (the whole service), the new version's for one the user scoped (its metrics hold only the
 * version's own traffic). Its declared-scope rollback alarm and the evaluator reading it as
 * declared read the same stream.
 */
function declaredStream(slo: PolicySlo): 'blended' | 'canary' {
  return slo.sli?.scope === 'blended' ? 'blended' : 'canary';
}

interface RollbackAlarmModel {
  readonly id: string;
  readonly alarm: PolicyRollbackAlarm;
  readonly stream: StreamName;
  /** What the alarm measures, for the reasons. */
  readonly traffic: string;
  /** A one-alarm SLO the emulator compiles like any other. */
  readonly slo: PolicySlo;
  readonly series: SliPoint[];
  readonly minEvents: number;
  readonly errorBudget: number;
  /** What the alarm compares the new version with, when the policy gives it a baseline. */
  readonly baseline?: RollbackBaselineModel;
}

interface RollbackBaselineModel {
  /** The factor as the expression renders it. */
  readonly factor: number;
  /** How the alarm reads it: the whole alias minus the new version, or the other target group. */
  readonly mode: 'rest-of-blended' | 'separate';
  readonly stream: 'canary' | 'stable';
  /** The baseline's traffic, for the reasons ("the current version"). */
  readonly name: string;
  readonly series: SliPoint[];
  /** The deployment's steps, when the policy records them: the alarm weighs the new version at its share. */
  readonly shift?: PolicyTrafficShift;
}

/**
 * The rollback alarms as the emulator's window alarms (`windowAlarm` in the constructs: the tier's
 * short window (`windowSeconds`), threshold = factor, the tier's minimum events, 1 of 1, notBreaching), each wrapped in
 * a one-alarm SLO so `compilePolicy` and `emulate` evaluate it like any synthesized alarm.
 *
 * Traffic per scope: `version` (Lambda ExecutedVersion) and `green` watch the new version; `blue`
 * the current one (ECS: both target groups carry an alarm, and blue holds the current task set on
 * the first release — the roles swap on every release); `declared` the SLI as given: blended entries
 * for a blended SLI, the new version's entries for one the user scoped.
 *
 * Baseline per scope (`alarm.baseline`): the other version's own entries. `version` with
 * `rest-of-blended` reads the alias minus the new version in CloudWatch, which is the current
 * version's traffic: the `stable` entries (a minute without one has no current-version traffic; the
 * blended entry is not split to invent one). `green` compares with blue (`stable` entries) and
 * `blue` with green (`canary` entries), `separate` target groups. The series model has exactly two
 * versions, so the mode only names how CloudWatch gets there. A `declared` alarm measures the SLI
 * as given and has no other traffic to compare with: the constructs never give it a baseline.
 */
function rollbackAlarmsOf(policy: RollbackPolicy, trigger: PolicyRollbackTrigger, series: readonly SeriesEntry[]): RollbackAlarmModel[] {
  return (trigger.alarms ?? []).map((a) => {
    const source = sloNamed(policy, a.slo, `rollback trigger ${trigger.path}`);
    const id = `${trigger.path}/${a.slo}/${a.scope}/${a.tier.name}`;
    const blendedSli = source.sli?.scope === 'blended';
    const stream: StreamName = a.scope === 'blue' ? 'stable' : a.scope === 'declared' ? declaredStream(source) : 'canary';
    const traffic =
      a.scope === 'version'
        ? "the new version's own traffic"
        : a.scope === 'green'
          ? "the green target group's traffic (the new version)"
          : a.scope === 'blue'
            ? "the blue target group's traffic (the current version)"
            : blendedSli
              ? 'all traffic blended (the SLI as declared)'
              : "the new version's traffic (the SLI as declared)";
    const alarm: PolicyAlarm = {
      id,
      windowSeconds: a.windowSeconds,
      threshold: a.tier.factor,
      minEvents: a.minEvents,
      treatMissingData: 'notBreaching',
      metricCount: a.metricCount,
      highResolution: false,
    };
    const slo: PolicySlo = {
      kind: 'slo',
      name: `${a.slo} (${a.scope})`,
      path: id,
      objectivePercent: source.objectivePercent,
      compliancePeriodSeconds: source.compliancePeriodSeconds,
      errorBudget: source.errorBudget,
      sli: source.sli,
      tiers: [],
      alarms: [alarm],
      composites: [],
    };
    const baseline = a.baseline === undefined ? undefined : baselineOf(a, trigger, series, badField(source));
    return {
      id,
      alarm: a,
      stream,
      traffic,
      slo,
      series: sliSeries(series, stream, badField(source)),
      minEvents: a.minEvents,
      errorBudget: source.errorBudget,
      ...(baseline ? { baseline } : {}),
    };
  });
}

function baselineOf(a: PolicyRollbackAlarm, trigger: PolicyRollbackTrigger, series: readonly SeriesEntry[], bad: BadField): RollbackBaselineModel {
  const where = `rollback trigger ${trigger.path}, alarm of SLO ${a.slo} (${a.scope})`;
  const { mode, factor, shift } = a.baseline ?? ({} as NonNullable<PolicyRollbackAlarm['baseline']>);
  if (mode !== 'rest-of-blended' && mode !== 'separate') {
    throw new RollbackTriggersError('RT722', `${where}: baseline.mode must be rest-of-blended or separate, got ${JSON.stringify(mode) ?? 'nothing'}`);
  }
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 0) {
    throw new RollbackTriggersError('RT722', `${where}: baseline.factor must be a finite number ≥ 0, got ${typeof factor === 'number' ? formatNumber(factor) : String(factor)}`);
  }
  if (a.scope === 'declared') {
    throw new RollbackTriggersError(
      'RT722',
      `${where}: a declared-scope alarm measures the SLI as given, so the series has no other traffic to compare it with — remove its baseline (the constructs give declared alarms none)`,
    );
  }
  const stream = a.scope === 'blue' ? 'canary' : 'stable';
  const name = a.scope === 'version' ? 'current version' : a.scope === 'green' ? 'blue target group (current version)' : 'green target group (new version)';
  return {
    factor: Number(formatNumber(factor)),
    mode,
    stream,
    name,
    series: sliSeries(series, stream, bad),
    ...(shift !== undefined ? { shift: checkTrafficShift(where, shift) } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// The evaluator's clock and bake

type Tick = TickClock;

interface BakeClock {
  readonly allTrafficMinute: number;
  readonly windowStart: number;
  readonly config: Parameters<typeof decideBake>[0]['config'];
  /** The ticks the step Lambda runs, from the hook's start to its deadline (core's `nextWaitSeconds`). */
  readonly ticks: readonly Tick[];
  /** Hook age at which the bake decides with what it has (core's `bakeDeadline`). */
  readonly deadlineSeconds: number;
  /** When the evaluator reports if nothing fails: the bake is over, or the hook's deadline near. */
  readonly nominalEndMinute: number;
}

/**
 * The step Lambda's clock, from core (lib/core/bake.ts): the hook starts when all traffic has
 * shifted (AfterAllowTraffic); the first tick runs at once, the next after `nextWaitSeconds` (the
 * tick interval, cut short at the deadline); each sees data up to `now − metricDelay` floored to
 * the minute (`tickClock`), counts the bake from the hook's start and reads the window from the
 * release minute (the deployment's createTime, `bakeWindowStart`). The nominal end comes from
 * `decideBake` itself, fed no SLO.
 */
function bakeClock(plan: ShiftPlan, release: number, bakeMinutes: number, settings: EvaluatorSettings): BakeClock {
  const hookStart = plan.allTrafficMinute * 60;
  const deadline = bakeDeadline({ hookStartedAt: hookStart }, settings.deadlineMarginSeconds);
  const ticks: Tick[] = [];
  for (let now = hookStart; ; now += nextWaitSeconds(now, settings.tickSeconds, deadline)) {
    ticks.push(tickClock(now, hookStart, settings.metricDelaySeconds));
    if (now >= deadline) break;
  }
  const config = {
    bakeSeconds: bakeMinutes * 60,
    inconclusiveAction: settings.inconclusiveAction,
    deadlineMarginSeconds: settings.deadlineMarginSeconds,
    compareWithBaseline: settings.compareWithBaseline,
    baselineFactor: settings.baselineFactor,
  };
  const deadlineSeconds = deadline - hookStart;
  const first = ticks.find((t) => decideBake({ config, bakedSeconds: t.bakedSeconds, hookAgeSeconds: t.hookAgeSeconds, deadlineSeconds, slos: [] }).action === 'report');
  return {
    allTrafficMinute: plan.allTrafficMinute,
    windowStart: bakeWindowStart(release * 60, hookStart),
    config,
    ticks,
    deadlineSeconds,
    nominalEndMinute: (first ?? ticks[ticks.length - 1]).now / 60,
  };
}

/** One arm's numerator and total series for `countsFor`: seconds of the minute's start → value. */
function armSeries(series: readonly SeriesEntry[], stream: StreamName, bad: BadField, fromMinute: number, toMinute: number) {
  const numerator = new Map<number, number>();
  const total = new Map<number, number>();
  for (const entry of series) {
    if (entry.minute < fromMinute || entry.minute > toMinute) continue;
    const c = countsOf(entry, stream);
    if (!c) continue;
    total.set(entry.minute * 60, c.requests);
    numerator.set(entry.minute * 60, c[bad] ?? 0);
  }
  return { numerator: numerator as Series, total: total as Series };
}

function runEvaluator(
  series: readonly SeriesEntry[],
  judged: readonly JudgedSlo[],
  settings: EvaluatorSettings,
  clock: BakeClock,
  bakeMinutes: number,
  release: number,
  lastMinute: number,
  perVersion: PerVersion,
  trigger: PolicyRollbackTrigger | undefined,
  policy: RollbackPolicy,
): PathOutcome {
  // The hook lasts at most an hour: later minutes are never read.
  const lastReadable = clock.allTrafficMinute + Math.ceil(HOOK_LIMIT_SECONDS / 60) + 1;
  const results = queryResultsOf(series, judged, release - HISTORY_SECONDS / 60, lastReadable);
  const health = healthReplayOf(series, trigger, clock.windowStart / 60 - HISTORY_SECONDS / 60, lastReadable);
  const beats = heartbeatReplayOf(policy, trigger, series, clock.windowStart / 60 - HISTORY_SECONDS / 60, lastReadable);
  const { decision, at } = firstReport(judged, results, health, clock, beats);
  const source = decisionSource(decision, judged, health, beats);
  const notes = [
    ...readNotes(settings, clock, at, release, lastMinute, perVersion, judged),
    ...health.notes,
    ...beats.notes,
    ...health.synthetics.map((h) => syntheticsSummary(h, syntheticsWindow(clock, at))),
    ...bakeMismatch(trigger, bakeMinutes),
  ];
  // Shadow mode: the same function the evaluator applies before it reports.
  return evaluatorOutcome(trigger?.shadow ? shadowed(decision) : decision, at.now / 60, release, source, notes);
}

type Report = Decision & { action: 'report' };

/** The versions a replayed release has: a new one and a current one (their values only name the streams). */
const REPLAYED_VERSIONS = { toVersion: 'canary', fromVersion: 'stable' } as const;

/**
 * The series as the step Lambda's GetMetricData results, by core's query ids, every one Complete,
 * read as the step Lambda reads: from the history's start (an hour before the judged window). An
 * SLO read as declared is one query pair on the canary arm (`readsArm`): the stream its metrics
 * hold as declared, the blended entries for a blended SLI; its baseline arm is never read.
 */
function queryResultsOf(series: readonly SeriesEntry[], judged: readonly JudgedSlo[], fromMinute: number, lastReadable: number): Map<string, QueryResult> {
  const results = new Map<string, QueryResult>();
  judged.forEach((j, i) => {
    const bad = badField(j.slo);
    const arms: ReadonlyArray<readonly ['canary' | 'baseline', StreamName]> = j.declared
      ? [['canary', j.declared]]
      : [
          ['canary', 'canary'],
          ['baseline', 'stable'],
        ];
    for (const [arm, stream] of arms) {
      const { numerator, total } = armSeries(series, stream, bad, fromMinute, lastReadable);
      results.set(queryId(i, arm, 'numerator'), { status: 'Complete', series: numerator });
      results.set(queryId(i, arm, 'total'), { status: 'Complete', series: total });
    }
  });
  return results;
}

/**
 * As the step Lambda judges a Synthetics canary: its runs since the hook started against its runs
 * in the hour before the release (the bake window's start), up to the tick's end.
 */
function syntheticsWindow(clock: BakeClock, t: Tick) {
  return { releaseAt: clock.windowStart, from: clock.allTrafficMinute * 60, to: t.end };
}

/** The step Lambda's ticks, in order, up to the first whose `decideBake` reports. */
function firstReport(judged: readonly JudgedSlo[], results: ReadonlyMap<string, QueryResult>, health: HealthReplay, clock: BakeClock, beats: HeartbeatReplay): { decision: Report; at: Tick } {
  // A release always has a current version: the Lambda reads its arm even when it has no data.
  const arms: ArmScope[] = [
    { arm: 'canary', dimensions: {} },
    { arm: 'baseline', dimensions: {} },
  ];
  const slosJudged = judged.map((j) => j.evaluator);
  for (const t of clock.ticks) {
    // All traffic is on the new version from the hook's start (AfterAllowTraffic): an SLO read as declared judges the minutes from then on.
    const slos = bakeDataFor(slosJudged, arms, results, clock.windowStart, t.end, clock.allTrafficMinute * 60);
    const { healthFailures, healthPending } = healthAt(health, syntheticsWindow(clock, t));
    const d = decideBake({
      config: clock.config,
      bakedSeconds: t.bakedSeconds,
      hookAgeSeconds: t.hookAgeSeconds,
      deadlineSeconds: clock.deadlineSeconds,
      slos,
      healthFailures,
      healthPending,
      // A release always has a current version: its beats are the reference, as the Lambda reads them.
      heartbeats: heartbeatBakeData(beats.specs, beats.results, { releaseAt: clock.windowStart, allTrafficAt: clock.allTrafficMinute * 60, end: t.end, versions: REPLAYED_VERSIONS }),
    });
    if (d.action === 'report') return { decision: d, at: t };
  }
  throw new Error('internal: the evaluator replay did not reach a decision before the hook deadline');
}

/** The Synthetics checks' failures and pending runs at one tick (its window), on the series' clock. */
function healthAt(health: HealthReplay, window: { releaseAt: number; from: number; to: number }): { healthFailures: string[]; healthPending: string[] } {
  const healthFailures: string[] = [];
  const healthPending: string[] = [];
  for (const h of health.synthetics) {
    const failure = syntheticsFailure(h.check, h.series, window);
    const waiting = failure === undefined ? syntheticsPending(h.check, h.series, window) : undefined;
    if (failure !== undefined) healthFailures.push(onSeriesClock(failure));
    if (waiting !== undefined) healthPending.push(onSeriesClock(waiting));
  }
  return { healthFailures, healthPending };
}

/** The SLOs and health checks a failing or inconclusive decision names in its reasons. */
function decisionSource(decision: Report, judged: readonly JudgedSlo[], health: HealthReplay, beats: HeartbeatReplay): string | undefined {
  if (decision.verdict === 'pass') return undefined;
  const names = [...judged.map((j) => j.evaluator.name), ...health.names.map((n) => `health check ${n}`), ...beats.names.map((n) => `heartbeat ${n}`)];
  return names.filter((name) => decision.reasons.some((r) => r.startsWith(`${name}: `))).join(', ') || (decision.verdict === 'fail' ? 'health check' : 'evaluator');
}

/**
 * What the evaluator read: the minutes it judged (for an SLO read as declared, only those after all
 * traffic reached the new version), and the per-version entries or minutes the series lacked.
 */
function readNotes(
  settings: EvaluatorSettings,
  clock: BakeClock,
  at: Tick,
  release: number,
  lastMinute: number,
  perVersion: PerVersion,
  judged: readonly JudgedSlo[],
): string[] {
  const lastRead = at.end / 60 - 1;
  const delay = `metric delay ${formatNumber(settings.metricDelaySeconds)} s`;
  const perVersionSlos = judged.filter((j) => !j.declared);
  const notes: string[] = [
    `AfterAllowTraffic from minute ${fmtMinute(clock.allTrafficMinute)} (all traffic on the new version); ` +
      (lastRead < release
        ? `no minute since the release was visible yet (${delay})`
        : perVersionSlos.length > 0
          ? `the evaluator judged minutes ${release} to ${fmtMinute(lastRead)} of per-version data (${delay})`
          : `the evaluator read data up to minute ${fmtMinute(lastRead)} (${delay})`),
    ...(['blended', 'canary'] as const).flatMap((stream) => declaredNote(judged.filter((j) => j.declared === stream), stream, clock, release, lastRead)),
  ];
  // An SLO read as declared on a blended SLI reads the blended entries, which every series has.
  const onCanary = judged.filter((j) => j.declared !== 'blended');
  const some = onCanary.length < judged.length ? ` (SLO ${onCanary.map((j) => j.slo.name).join(', ')})` : '';
  if (!perVersion.canary && onCanary.length > 0) {
    notes.push(
      `the series has no per-version entries for the new version (canary) after the release: the evaluator reads the new version's own metrics${some} ` +
        '(ExecutedVersion or its target group) and saw no datapoints — blended entries are not split into versions, so this release cannot be judged',
    );
  } else if (!perVersion.stable && settings.compareWithBaseline && clock.allTrafficMinute > release && perVersionSlos.length > 0) {
    // All at once, no current-version traffic after the release is the deployment's shape, not a gap in the data.
    notes.push('the series has no entries for the current version (stable) after the release: the canary judge had no baseline to compare with');
  }
  if (lastMinute < release) {
    notes.push(`the series ends at minute ${lastMinute}, before the release (minute ${release}): no datapoint arrived after the release`);
  } else if (lastRead > lastMinute) {
    notes.push(`the series ends at minute ${lastMinute}, before the last minute the evaluator read (${fmtMinute(lastRead)}): later minutes had no datapoints`);
  }
  return notes;
}

/**
 * How the evaluator read the SLOs it reads as declared (`bakeDataFor`'s `allTrafficAt`): the whole
 * service (or the version the SLI is scoped to), its own only once all traffic is on the new
 * version; the shift's minutes are no evidence, for a pass or a failure.
 */
function declaredNote(group: readonly JudgedSlo[], stream: 'blended' | 'canary', clock: BakeClock, release: number, lastRead: number): string[] {
  if (group.length === 0) return [];
  const from = clock.allTrafficMinute;
  const what = stream === 'blended' ? "the whole service: the series' blended entries" : "the series' new-version entries, as the SLI is scoped";
  const span =
    lastRead >= from
      ? `it judged minutes ${fmtMinute(from)} to ${fmtMinute(lastRead)}, after all traffic reached the new version`
      : 'no minute after all traffic reached the new version was visible yet';
  return [
    `SLO ${group.map((j) => j.slo.name).join(', ')}: the evaluator reads the SLI as declared (${what}; its metrics carry neither the version nor a target group): ` +
      `${span}, against the minutes before the release as the current version's` +
      (from > release ? `; the shift's minutes ${release} to ${fmtMinute(from - 1)} are no evidence for it (the rollback alarm judges them on its burn rate alone)` : ''),
  ];
}

/** A note when the deployment bakes for another time than the policy's rollback trigger is configured for. */
function bakeMismatch(trigger: PolicyRollbackTrigger | undefined, bakeMinutes: number): string[] {
  return trigger && Math.abs(trigger.bakeSeconds - bakeMinutes * 60) > 1e-9
    ? [`the deployment bakes ${formatNumber(bakeMinutes)} min as given; the policy's rollback trigger ${trigger.name} is configured for ${formatNumber(trigger.bakeSeconds / 60)} min`]
    : [];
}

/**
 * The approval gate and the circuit breaker, as the evaluator applies them before it reports (core's
 * needsApproval and approvalRequest): a report that asks a human is replayed unanswered — the
 * status the wait's end reports, when the wait ends (cut to end 5 minutes before the hook's
 * report-by time, as the evaluator cuts it).
 */
export function withHumanGate(outcome: PathOutcome, trigger: PolicyRollbackTrigger | undefined, breakerOpen: boolean, hookStartMinute: number): PathOutcome {
  if (!trigger?.approvalTimeoutSeconds || outcome.status === undefined || outcome.minute === undefined || outcome.verdict === 'none') return outcome;
  const settings = { timeoutSeconds: trigger.approvalTimeoutSeconds, escalateInconclusive: trigger.escalateInconclusive !== false };
  const held = breakerOpen && trigger.circuitBreaker !== undefined && outcome.status === 'Failed' && outcome.verdict === 'fail';
  if (!held && !needsApproval({ status: outcome.status, verdict: outcome.verdict, incidents: outcome.incidents }, settings)) return outcome;
  const fallback: HookStatus = held ? 'Failed' : inconclusiveStatus(trigger.inconclusiveAction);
  // The simulator's hook (AfterAllowTraffic) starts when all traffic shifted; its report-by is 57 minutes later.
  const asked = approvalRequest(
    { status: outcome.status, verdict: outcome.verdict, reasons: outcome.reasons, incidents: outcome.incidents },
    settings,
    fallback,
    outcome.minute * 60,
    hookStartMinute * 60 + MAX_DEADLINE_SECONDS,
    held ? { question: 'The trigger would roll this release back, but its circuit breaker is open (replayed with breakerOpen).' } : undefined,
  );
  if ('notAsked' in asked) return { ...outcome, status: fallback, rollback: fallback === 'Failed', escalate: true, reasons: [asked.notAsked, ...outcome.reasons] };
  const { request } = asked;
  const minute = outcome.minute + request.timeoutSeconds / 60;
  return {
    ...outcome,
    minute,
    detectionMinutes: (outcome.detectionMinutes ?? 0) + request.timeoutSeconds / 60,
    status: fallback,
    rollback: fallback === 'Failed',
    escalate: true,
    askedHuman: { kind: request.kind, askedAtMinute: outcome.minute, timeoutSeconds: request.timeoutSeconds, onTimeout: fallback },
    reasons: [`asked a human at minute ${formatNumber(outcome.minute)} (${request.kind}); replayed unanswered: ${fallback} when the wait ends`, request.question, ...outcome.reasons],
  };
}

function evaluatorOutcome(decision: Report & { wouldRollback?: boolean }, minute: number, release: number, source: string | undefined, notes: readonly string[]): PathOutcome {
  return {
    path: 'evaluator',
    minute,
    detectionMinutes: minute - release,
    verdict: decision.verdict,
    ...(source !== undefined ? { source } : {}),
    reasons: [...decision.reasons, ...notes],
    rollback: decision.status === 'Failed',
    ...(decision.wouldRollback ? { wouldRollback: true } : {}),
    status: decision.status,
    observations: decision.observations as SloObservation[],
    ...(decision.escalate ? { escalate: true } : {}),
    ...(decision.incidents && decision.incidents.length > 0 ? { incidents: decision.incidents } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// The guard window

/**
 * The guard window as the follow-up machine runs it (lambda/follow-up/guard.ts): started when the
 * release succeeds — the evaluator's report, which completes the deployment — with core's
 * `guardInput` (window from the success minute floored, deadline after the window, the metric delay
 * and the grace), ticking on core's clock, each tick `decideBake` on the new version's own traffic
 * (all of it is on the new version now: no comparison with the old one) and the Synthetics checks.
 * A failing tick is the breach; a pass or inconclusive verdict at the end does nothing.
 */
function replayGuardWindow(
  series: readonly SeriesEntry[],
  judged: readonly JudgedSlo[],
  settings: EvaluatorSettings,
  clock: BakeClock,
  trigger: PolicyRollbackTrigger | undefined,
  outcome: PathOutcome,
  lastMinute: number,
): GuardWindowOutcome | undefined {
  const durationSeconds = trigger?.guardWindowSeconds;
  if (durationSeconds === undefined || outcome.path !== 'evaluator' || outcome.status !== 'Succeeded' || outcome.minute === undefined) return undefined;
  // A release the evaluator judged bad that still succeeded (shadow mode's wouldRollback, a failing
  // verdict a human let through) records a first bad signal: the state-change function neither
  // records it known-good nor starts its guard window.
  if (outcome.wouldRollback === true || outcome.verdict === 'fail') return undefined;
  const succeededAt = outcome.minute * 60;
  const state = guardInput('simulated-release', succeededAt, { durationSeconds, metricDelaySeconds: settings.metricDelaySeconds });
  const start = state.hookStartedAt;
  // The input's own deadline, as guardTick reads it: a guard window answers no hook, so no hour caps it.
  const deadline = parseDeadline(state.deadline);
  const config = { ...clock.config, bakeSeconds: durationSeconds, compareWithBaseline: false };
  const arms: ArmScope[] = [{ arm: 'canary', dimensions: {} }];
  const fromMinute = start / 60 - HISTORY_SECONDS / 60;
  const toMinute = Math.ceil(deadline / 60);
  const results = queryResultsOf(series, judged, fromMinute, toMinute);
  const health = healthReplayOf(series, trigger, fromMinute, toMinute);
  const slos = judged.map((j) => j.evaluator);
  for (let now = succeededAt; ; now += nextWaitSeconds(now, settings.tickSeconds, deadline)) {
    const t = tickClock(now, start, settings.metricDelaySeconds);
    // As the guard's health checks judge: runs since the success against the hour before it.
    const { healthFailures, healthPending } = healthAt(health, { releaseAt: start, from: start, to: t.end });
    // The guard's judges (none beside the SLOs' rules: no comparison, no heartbeat), as guard.ts gives them.
    const d = decideBakeWith(
      {
        config,
        bakedSeconds: t.bakedSeconds,
        hookAgeSeconds: t.hookAgeSeconds,
        deadlineSeconds: deadline - start,
        lifecycleEvent: 'AfterAllowTraffic',
        // As guard.ts reads: all traffic on the new version since the window's start.
        slos: bakeDataFor(slos, arms, results, start, t.end, start),
        healthFailures,
        healthPending,
      },
      WATCH_JUDGES,
    );
    if (d.action === 'report') return guardOutcome(d, t, start, durationSeconds, lastMinute, trigger?.shadow === true, health.notes);
    if (now >= deadline) throw new Error('internal: the guard window replay did not reach a decision by its deadline');
  }
}

function guardOutcome(d: Report, t: Tick, start: number, durationSeconds: number, lastMinute: number, shadow: boolean, notes: readonly string[]): GuardWindowOutcome {
  const endMinute = t.now / 60;
  const lastJudgedMinute = t.end / 60 - 1;
  const base = { startMinute: start / 60, endMinute, durationSeconds, lastJudgedMinute, observations: d.observations as SloObservation[] };
  const judgedSpan =
    lastJudgedMinute >= start / 60
      ? `the guard window judged minutes ${fmtMinute(start / 60)} to ${fmtMinute(lastJudgedMinute)} on the new version's own traffic`
      : 'the guard window had judged no minute yet';
  if (d.verdict === 'fail') {
    const said = `the release had succeeded, and its page tier breached afterwards at minute ${fmtMinute(endMinute)}`;
    return shadow
      ? { ...base, outcome: 'breach', breachMinute: endMinute, rollback: false, wouldRollback: true, reasons: [`shadow mode: ${said}; a rollback deployment would have been started (audit only)`, ...d.reasons, ...notes] }
      : {
          ...base,
          outcome: 'breach',
          breachMinute: endMinute,
          rollback: true,
          reasons: [`${said}: a rollback deployment to the known-good version recorded before the release (escalated instead when none was recorded)`, ...d.reasons, ...notes],
        };
  }
  const short = t.bakedSeconds < durationSeconds ? [`the window ended at its deadline with ${formatNumber(t.bakedSeconds / 60)} of its ${formatNumber(durationSeconds / 60)} min judged`] : [];
  // Minutes the series does not hold read as no traffic: no breach there is no evidence it held.
  if (lastMinute < lastJudgedMinute) {
    return {
      ...base,
      outcome: 'series-ended',
      reasons: [`the series ends at minute ${lastMinute}, before the guard window's last judged minute (${fmtMinute(lastJudgedMinute)}): no breach in the minutes it holds, but no evidence it held`, judgedSpan, ...short, ...d.reasons, ...notes],
    };
  }
  const outcome = d.verdict === 'pass' ? 'held' : 'inconclusive';
  const what = outcome === 'held' ? 'no breach: the release stays' : 'too little traffic to judge: nothing is done, the release stays';
  return { ...base, outcome, reasons: [`${judgedSpan}; ${what}`, ...short, ...d.reasons, ...notes] };
}

// ---------------------------------------------------------------------------------------------
// Health checks

/** A Synthetics health check of the trigger and its canary's runs, as the step Lambda's `h<i>` query reads them. */
interface SyntheticsReplay {
  readonly check: PolicyHealthCheck;
  /** The series' `synthetics` key the canary's runs are under. */
  readonly canary: string;
  /** Minute start in seconds → SuccessPercent. */
  readonly series: Series;
}

interface HealthReplay {
  readonly synthetics: readonly SyntheticsReplay[];
  /** Every health check's name, for the decision's source. */
  readonly names: readonly string[];
  /** What was not replayed, and why. */
  readonly notes: readonly string[];
}

/**
 * The trigger's health checks as the replay can run them: each Synthetics check with its canary's
 * runs from the series (`synthetics[canaryName]`, or the check's name when the policy does not know
 * the canary's name at synth), read from `fromMinute` to `toMinute` as the step Lambda reads; an HTTP
 * probe, and a canary without a value in the series, only as a note (no result is invented).
 */
function healthReplayOf(series: readonly SeriesEntry[], trigger: PolicyRollbackTrigger | undefined, fromMinute: number, toMinute: number): HealthReplay {
  const checks = healthChecksOf(trigger);
  const inSeries = new Set(series.flatMap((e) => Object.keys(e.synthetics ?? {})));
  const read = new Set<string>();
  const synthetics: SyntheticsReplay[] = [];
  const notes: string[] = [];
  for (const check of checks) {
    if (check.kind === 'http') {
      notes.push(
        `health check ${check.name} (HTTP GET ${check.url ?? 'of a URL known only at deploy time'}) was not replayed: the series holds metrics, not the probe's answers — ` +
          `in production ${formatNumber(check.failAfter ?? HEALTH_CHECK_DEFAULTS.httpFailAfter)} consecutive failed probes fail the bake`,
      );
      continue;
    }
    const canary = check.canaryName ?? check.name;
    const lookedUp = check.canaryName === undefined ? ` (its canary name is known only at deploy time: looked up as "${check.name}")` : '';
    read.add(canary);
    if (!inSeries.has(canary)) {
      notes.push(
        `health check ${check.name} (Synthetics canary ${canary}) was not replayed: the series has no synthetics values for canary ${canary}${lookedUp} — ` +
          `give its runs' SuccessPercent (JSON "synthetics": { "${canary}": … }, CSV column synthetics:${canary})`,
      );
      continue;
    }
    const runs = new Map<number, number>();
    for (const entry of series) {
      const value = entry.synthetics?.[canary];
      if (value !== undefined && entry.minute >= fromMinute && entry.minute <= toMinute) runs.set(entry.minute * 60, value);
    }
    // Judged under the name its runs were found by (a deploy-time canary name is not in the policy).
    synthetics.push({ check: { ...check, canaryName: canary }, canary, series: runs });
    if (lookedUp) notes.push(`health check ${check.name}${lookedUp}`);
  }
  const unread = [...inSeries].filter((c) => !read.has(c));
  if (unread.length > 0) {
    notes.push(
      `the series has synthetics values for canary ${unread.join(', ')}, which no Synthetics health check of ` +
        `${trigger ? `rollback trigger ${trigger.name}` : 'the policy (it has no rollback trigger)'} reads: not replayed`,
    );
  }
  return { synthetics, names: checks.map((c) => c.name), notes };
}

/** The trigger's health checks, checked enough to replay them (a policy is a JSON document). */
function healthChecksOf(trigger: PolicyRollbackTrigger | undefined): readonly PolicyHealthCheck[] {
  const checks = trigger?.healthChecks;
  if (checks === undefined) return [];
  const where = `rollback trigger ${trigger!.path}`;
  if (!Array.isArray(checks)) throw new RollbackTriggersError('RT723', `${where}: healthChecks must be an array of health checks, got ${JSON.stringify(checks)}`);
  checks.forEach((c: PolicyHealthCheck, i) => {
    const at = `${where}: healthChecks[${i}]`;
    if (c === null || typeof c !== 'object') throw new RollbackTriggersError('RT723', `${at} must be an object { kind, name, … }, got ${JSON.stringify(c)}`);
    if (c.kind !== 'http' && c.kind !== 'synthetics') throw new RollbackTriggersError('RT723', `${at}: kind must be http or synthetics, got ${JSON.stringify(c.kind) ?? 'nothing'}`);
    if (typeof c.name !== 'string' || c.name === '') throw new RollbackTriggersError('RT723', `${at}: name must be a non-empty string, got ${JSON.stringify(c.name) ?? 'nothing'}`);
    if (c.kind === 'synthetics') {
      if (c.canaryName !== undefined && (typeof c.canaryName !== 'string' || c.canaryName === '')) {
        throw new RollbackTriggersError('RT723', `${at} (${c.name}): canaryName must be a non-empty string, got ${JSON.stringify(c.canaryName)}`);
      }
      const min = c.minSuccessPercent;
      if (min !== undefined && !(typeof min === 'number' && min > 0 && min <= 100)) {
        throw new RollbackTriggersError('RT723', `${at} (${c.name}): minSuccessPercent must be above 0 and at most 100, got ${JSON.stringify(min)}`);
      }
    }
  });
  return checks;
}

/** What a replayed Synthetics check judged at the decision: its runs since traffic shifted and in the hour before the release. */
function syntheticsSummary(h: SyntheticsReplay, window: { releaseAt: number; from: number; to: number }): string {
  const min = h.check.minSuccessPercent ?? HEALTH_CHECK_DEFAULTS.minSuccessPercent;
  const runs = [...h.series];
  const since = runs.filter(([t]) => t >= window.from && t < window.to);
  const before = runs.filter(([t]) => t >= window.releaseAt - HISTORY_SECONDS && t < window.releaseAt);
  const failed = (r: Array<[number, number]>) => r.filter(([, v]) => v < min).length;
  const span = since.length > 0 ? ` (minutes ${fmtMinute(window.from / 60)} to ${fmtMinute(window.to / 60 - 1)})` : '';
  return (
    `health check ${h.check.name}: Synthetics canary ${h.canary} replayed from the series — ${since.length} run${since.length === 1 ? '' : 's'} since traffic shifted${span}, ` +
    `${failed(since)} below ${formatNumber(min)} %; ${before.length} in the hour before the release, ${failed(before)} below`
  );
}

/**
 * `syntheticsFailure` names the first failed run's time as an ISO date; the series counts minutes,
 * so the replay names the minute (the judgement and its numbers are core's, unchanged).
 */
function onSeriesClock(reason: string): string {
  return reason.replace(/ at ([-+]?\d{4,6}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)/, (whole, iso: string) => {
    const ms = Date.parse(iso);
    return Number.isFinite(ms) ? ` at minute ${fmtMinute(ms / 60_000)}` : whole;
  });
}

// ---------------------------------------------------------------------------------------------
// The alarm path and paging

function entryAt(result: EmulationResult, minute: number): TimelineEntry | undefined {
  return result.timeline[minute - result.fromMinute];
}

function alarmPathOutcome(
  result: EmulationResult | undefined,
  models: readonly RollbackAlarmModel[],
  heartbeats: HeartbeatAlarmRun,
  trigger: PolicyRollbackTrigger | undefined,
  release: number,
  end: number,
  delay: number,
  hasCanary: boolean,
  lastMinute: number,
): PathOutcome {
  if (!trigger || !result || models.length === 0) {
    return {
      path: 'alarm',
      verdict: 'none',
      rollback: false,
      reasons: ['the policy has no rollback trigger: no alarm is attached to the deployment group, so the alarm path cannot roll back this release'],
    };
  }
  const last = Math.floor(end);
  let fired: FiredAlarms | undefined;
  for (let t = release; t <= last && !fired; t++) {
    const ids = models.filter((m) => entryAt(result, t)?.states[m.id] === 'ALARM');
    const beats = heartbeats.result ? heartbeats.alarms.filter((a) => heartbeatStateAt(heartbeats.result!, a, t) === 'ALARM') : [];
    if (ids.length > 0 || beats.length > 0) fired = { minute: t, ids, heartbeats: beats };
  }
  if (fired) return firedOutcome(result, heartbeats.result, fired, trigger, release, delay);
  const reasons = [
    ...(trigger.alarmPathSuspended ? [ALARM_PATH_SUSPENDED] : []),
    ...models.flatMap((m) => quietAlarmReasons(result, m, release, end, delay)),
    ...heartbeats.alarms.flatMap((a) => quietHeartbeatReasons(heartbeats.result!, a, release, end, lastMinute)),
    ...heartbeats.notes,
    ...unreplayedReasons(models, trigger, heartbeats.heartbeatPaths, release, hasCanary, lastMinute),
  ];
  return { path: 'alarm', verdict: 'none', rollback: false, reasons };
}

const ALARM_PATH_SUSPENDED = 'the alarm path is suspended (AlarmConfiguration.Enabled = false): CodeDeploy does not poll the alarms of this deployment group';

/** The alarms in ALARM at the first minute one was: rollback alarms and heartbeat alarms. */
interface FiredAlarms {
  readonly minute: number;
  readonly ids: readonly RollbackAlarmModel[];
  readonly heartbeats: readonly HeartbeatAlarmModel[];
}

/** A rollback or heartbeat alarm in ALARM during the deployment: a rollback, unless the path is a shadow or suspended. */
function firedOutcome(
  result: EmulationResult,
  heartbeatResult: EmulationResult | undefined,
  fired: FiredAlarms,
  trigger: PolicyRollbackTrigger,
  release: number,
  delay: number,
): PathOutcome {
  const t = fired.minute;
  const reasons = [...fired.ids.map((m) => describeAlarm(m, t, delay)), ...fired.heartbeats.map((a) => describeHeartbeatAlarm(a, t, delay))];
  const earlier =
    fired.ids.some((m) => entryAt(result, t - 1)?.states[m.id] === 'ALARM') ||
    fired.heartbeats.some((a) => heartbeatStateAt(heartbeatResult!, a, t - 1) === 'ALARM');
  if (t === release && earlier) {
    reasons.push('already in ALARM when the deployment started: CodeDeploy stops a deployment whose alarm is in ALARM at once');
  }
  const would = reasons.map((r) => `would have rolled back: ${r}`);
  if (trigger.shadow) {
    return {
      path: 'alarm',
      minute: t,
      detectionMinutes: t - release,
      verdict: 'none',
      rollback: false,
      wouldRollback: true,
      reasons: ['shadow mode: the alarms are not attached to the deployment group, so CodeDeploy does not poll them', ...would],
    };
  }
  if (trigger.alarmPathSuspended) return { path: 'alarm', verdict: 'none', rollback: false, reasons: [ALARM_PATH_SUSPENDED, ...would] };
  const source = fired.ids.length > 0 ? fired.ids[0].id : fired.heartbeats[0].entry.path;
  return { path: 'alarm', minute: t, detectionMinutes: t - release, verdict: 'fail', source, reasons, rollback: true };
}

/** Why one rollback alarm did not fire during the deployment: its peak, a shared burn, a late ALARM. */
function quietAlarmReasons(result: EmulationResult, m: RollbackAlarmModel, release: number, end: number, delay: number): string[] {
  const last = Math.floor(end);
  const window = `from the release (minute ${release}) to the end of the deployment (minute ${fmtMinute(end)})`;
  let peak: number | undefined;
  for (let t = release; t <= last; t++) {
    const v = entryAt(result, t)?.values[m.id];
    if (typeof v === 'number' && (peak === undefined || v > peak)) peak = v;
  }
  const reasons = [`${m.id} stayed below ${fmt(m.alarm.tier.factor)}× ${window} on ${m.traffic}: peak ${peak === undefined ? 'no datapoint' : `${fmt(peak)}×`}`];
  const shared = m.baseline ? sharedBurn(m, release, last, delay) : undefined;
  if (shared) reasons.push(shared);
  const late = result.timeline.find((e) => e.minute > last && e.states[m.id] === 'ALARM');
  if (late) {
    reasons.push(`${m.id} went into ALARM at minute ${late.minute}, after the deployment ended: CodeDeploy no longer polls alarms once a deployment is over`);
  }
  return reasons;
}

/** What the replay could not see: alarm triggers other than heartbeats, a series that ends early, no per-version entries. */
function unreplayedReasons(
  models: readonly RollbackAlarmModel[],
  trigger: PolicyRollbackTrigger,
  heartbeatPaths: ReadonlySet<string>,
  release: number,
  hasCanary: boolean,
  lastMinute: number,
): string[] {
  const reasons: string[] = [];
  // Heartbeats are replayed from the series' beats (or noted when it has none for them); the other
  // alarm triggers' metrics are the user's own (a p99, a gauge): a series has no datapoints for them.
  const others = (trigger.alarmTriggers ?? []).filter((path) => !heartbeatPaths.has(path));
  if (others.length > 0) {
    reasons.push(`the trigger also has the alarm trigger(s) ${others.join(', ')}, which were not replayed: a rollback they would cause is not shown`);
  }
  if (lastMinute < release) {
    reasons.push(`the series ends at minute ${lastMinute}, before the release (minute ${release}): the alarms had no datapoint from the release on`);
  } else if (!hasCanary && models.some((m) => m.stream === 'canary')) {
    reasons.push(
      "the series has no per-version entries for the new version (canary) after the release: the alarms on the new version's own traffic had no datapoints " +
        '(TreatMissingData notBreaching → OK), so they could not fire',
    );
  }
  return reasons;
}

/** The latest window CloudWatch evaluates at minute t (the alarm's window, with the ingestion delay). */
function latestWindow(m: RollbackAlarmModel, t: number, delay: number): { from: number; to: number } {
  return { from: t - m.alarm.windowSeconds / 60, to: Math.min(t - 1, t - delay - 1) };
}

/** The alarm's datapoint over a window of the new version's and the baseline's counts. */
function alarmValue(m: RollbackAlarmModel, counts: WindowCounts, base: WindowCounts | undefined): number | undefined {
  const alarm = { minEvents: m.minEvents, errorBudget: m.errorBudget };
  if (!m.baseline || !base) return windowBurnRate(alarm, counts);
  // rest-of-blended reads the whole alias: both versions' counts, as the expression's guards see them.
  const blended = m.baseline.mode === 'rest-of-blended' ? { datapoints: Math.max(counts.datapoints, base.datapoints), total: counts.total + base.total, bad: counts.bad + base.bad } : undefined;
  return relativeWindowBurnRate({ ...alarm, baseline: { factor: m.baseline.factor, shift: m.baseline.shift } }, counts, base, blended);
}

/** The numbers behind a rollback alarm at minute t: the window CloudWatch saw, with the ingestion delay. */
function describeAlarm(m: RollbackAlarmModel, t: number, delay: number): string {
  const w = m.alarm.windowSeconds / 60;
  const { from, to: visibleTo } = latestWindow(m, t, delay);
  const counts = new SliIndex(m.series).window(from, visibleTo);
  const base = m.baseline ? new SliIndex(m.baseline.series).window(from, visibleTo) : undefined;
  const burn = alarmValue(m, counts, base);
  const numbers =
    burn === undefined
      ? 'its latest window has no datapoint (an earlier window in the evaluation range breached)'
      : `burn rate ${fmt(burn)}× over the last ${formatNumber(w)} min (${formatNumber(counts.bad)} of ${formatNumber(counts.total)} events bad, minimum ${formatNumber(m.minEvents)})` +
        (m.baseline && base && burn > 0 ? `; ${baselineComparison(m, counts, base)}` : '');
  return (
    `alarm ${m.id} in ALARM at minute ${t} on ${m.traffic}: ${numbers}; threshold ${fmt(m.alarm.tier.factor)}×` +
    (delay > 0 ? `; data visible through minute ${visibleTo} (ingestion delay ${delay} min)` : '')
  );
}

/** How the new version's ratio compared with the baseline's over one window. */
function baselineComparison(m: RollbackAlarmModel, counts: WindowCounts, base: WindowCounts): string {
  const b = m.baseline!;
  const ratio = counts.total > 0 ? counts.bad / counts.total : 0;
  if (!(base.total >= m.minEvents && base.total > 0)) {
    return `the ${b.name} served ${formatNumber(base.total)} events over the same window (fewer than ${formatNumber(m.minEvents)}), so the alarm holds: without a baseline it cannot tell the release from a shared incident, and the evaluator decides`;
  }
  const baseRatio = base.bad / base.total;
  const theirs = `the ${b.name}'s ${pct(baseRatio)} (${formatNumber(base.bad)} of ${formatNumber(base.total)} events) over the same window`;
  if (!(base.total >= counts.total)) {
    return (
      `the ${b.name} served ${formatNumber(base.total)} events over the same window, fewer than the new version's ${formatNumber(counts.total)}, so the alarm holds: ` +
      'most of the new version\'s minutes had no current-version traffic beside them (the evaluator judges those)'
    );
  }
  // The bad events it would show were it `factor` times as bad, weighed at its share while it has served only part of the window.
  const expected = relativeExpectedBad(b.factor, base, counts.total, b.shift?.share);
  const asServed = relativeExpectedBad(b.factor, base, counts.total, undefined);
  const relation = significantlyAbove(counts.bad, expected)
    ? 'is more than'
    : counts.bad > expected
      ? 'is more than, but not by three standard deviations,'
      : 'is not more than';
  const compared =
    `${pct(ratio)} bad ${relation} ${formatNumber(b.factor)}× ${theirs}` +
    (b.shift !== undefined && expected > asServed
      ? ` (weighed at its ${b.shift.kind} share of ${formatNumber(b.shift.share * 100)} %: ${formatNumber(counts.total)} events are part of a window, ` +
        `so ${fmt(expected)} bad were expected, not ${fmt(asServed)})`
      : '');
  if (b.mode !== 'rest-of-blended' || relation !== 'is more than') return compared;
  // The guards against the alias and the version arriving apart (relativeBurnRateExpression).
  const aliasBad = counts.bad + base.bad;
  const aliasTotal = counts.total + base.total;
  if (!(2 * aliasBad >= counts.bad)) return `${compared}; the alias showed fewer than half the new version's bad events, so the alarm holds (a minute the alias has not published yet)`;
  if (!(counts.bad * aliasTotal > RELATIVE_ALARM_BLENDED_FACTOR * aliasBad * counts.total)) {
    return `${compared}; but not more than ${formatNumber(RELATIVE_ALARM_BLENDED_FACTOR)}× the whole alias's ${pct(aliasTotal > 0 ? aliasBad / aliasTotal : 0)}, so the alarm holds (the guard against series that arrive apart)`;
  }
  return compared;
}

/**
 * When the new version's own burn reached the threshold but the baseline held the alarm back:
 * the first minute it did, with both ratios (an incident every version shares).
 */
function sharedBurn(m: RollbackAlarmModel, release: number, last: number, delay: number): string | undefined {
  const own = new SliIndex(m.series);
  const base = new SliIndex(m.baseline!.series);
  const alarm = { minEvents: m.minEvents, errorBudget: m.errorBudget };
  let peak: { t: number; burn: number } | undefined;
  let first: { t: number; counts: WindowCounts; base: WindowCounts; burn: number } | undefined;
  for (let t = release; t <= last; t++) {
    const { from, to } = latestWindow(m, t, delay);
    const counts = own.window(from, to);
    const burn = windowBurnRate(alarm, counts);
    if (burn === undefined || burn < m.alarm.tier.factor) continue;
    const baseCounts = base.window(from, to);
    if ((alarmValue(m, counts, baseCounts) ?? 0) >= m.alarm.tier.factor) continue;
    first ??= { t, counts, base: baseCounts, burn };
    if (!peak || burn > peak.burn) peak = { t, burn };
  }
  if (!first || !peak) return undefined;
  const compared = first.base.total >= m.minEvents && first.base.total > 0;
  const held = compared
    ? `but it never failed more than ${formatNumber(m.baseline!.factor)}× as often as the ${m.baseline!.name} on the same window by three standard deviations while the ${m.baseline!.name} served at least as many events`
    : 'but the alarm held';
  return (
    `${m.id}: the new version's own burn rate reached ${fmt(peak.burn)}× (minute ${peak.t}), ${held} — at minute ${first.t}: ` +
    `${baselineComparison(m, first.counts, first.base)}${compared ? '; an incident both versions share does not roll back' : ''}`
  );
}

function pagingOutcome(result: EmulationResult, policy: RollbackPolicy, release: number): PathOutcome {
  const severities = result.alarms.filter((a) => a.kind === 'severity' && a.severity === 'page');
  const notes = policy.slos
    .filter((s) => s.sli?.scope !== undefined && s.sli.scope !== 'blended')
    .map((s) => `SLO ${s.name} measures ${s.sli.scope} traffic; its alarms were replayed on the blended entries`);
  // Heartbeats have beats in a series, but paging replays the SLOs' alarms only; the alarm path replays the heartbeats the trigger polls.
  const heartbeats = policyHeartbeats({ thresholdTriggers: policy.thresholdTriggers ?? [] }).map((t) => t.name);
  if (heartbeats.length > 0) {
    notes.push(`the heartbeat alarm(s) ${heartbeats.join(', ')} page too and were not replayed here: the alarm path replays those the rollback trigger polls`);
  }
  const thresholdTriggers = (policy.thresholdTriggers?.length ?? 0) - heartbeats.length;
  if (thresholdTriggers > 0) {
    notes.push(`${thresholdTriggers} threshold trigger(s) of the policy were not replayed: the series carries no datapoints for their metrics`);
  }
  if (severities.length === 0) {
    return { path: 'paging', verdict: 'none', rollback: false, reasons: ['no SLO of the policy has a page tier: nothing pages', ...notes] };
  }
  const start = entryAt(result, release);
  const first = result.timeline.find((e) => e.minute >= release && severities.some((s) => e.states[s.id] === 'ALARM'));
  if (!first) {
    return {
      path: 'paging',
      verdict: 'none',
      rollback: false,
      reasons: [`no page-severity alarm on blended traffic fired from the release (minute ${release}) to minute ${result.toMinute}`, ...notes],
    };
  }
  const firing = severities.filter((s) => first.states[s.id] === 'ALARM');
  const reasons = [`${firing.map((s) => s.id).join(', ')} in ALARM at minute ${first.minute} on blended traffic (pages the on-call; paging never rolls back)`];
  // Which page tiers fire, from the window alarms (every layout has them; only per-tier has a composite per tier).
  const tiers = policy.slos.flatMap((slo) =>
    slo.tiers.filter((t) => t.severity === 'page').map((t) => ({ id: PolicyIds.tierComposite(slo.path, t.name), children: [t.longAlarm, t.shortAlarm] })),
  );
  for (const tier of tiers) {
    if (!tier.children.every((c) => first.states[c] === 'ALARM')) continue;
    const children = tier.children.map((c) => {
      const v = first.values[c];
      const threshold = result.alarms.find((a) => a.id === c)?.threshold;
      return `${c} ${typeof v === 'number' ? `${fmt(v)}×` : 'no datapoint'}${threshold !== undefined ? ` (≥ ${fmt(threshold)}×)` : ''}`;
    });
    reasons.push(`${tier.id}: ${children.join(', ')}`);
  }
  if (start && first.minute === release) {
    const since = result.transitions.find((tr) => firing.some((s) => s.id === tr.id) && tr.to === 'ALARM' && tr.minute < release);
    if (since) reasons.push(`already paging since minute ${since.minute}, before the release`);
  }
  return { path: 'paging', minute: first.minute, detectionMinutes: first.minute - release, verdict: 'fail', source: firing[0].id, reasons: [...reasons, ...notes], rollback: false };
}

// ---------------------------------------------------------------------------------------------
// Chart

function chartMinutes(series: readonly SeriesEntry[], paging: EmulationResult, rollback: EmulationResult | undefined): SimulationMinute[] {
  const byMinute = new Map(series.map((e) => [e.minute, e]));
  const windows = paging.alarms.filter((a) => a.kind === 'window').map((a) => a.id);
  return paging.timeline.map((entry, i) => {
    const e = byMinute.get(entry.minute);
    const burnRates: Record<string, number | null> = {};
    for (const id of windows) burnRates[id] = entry.values[id] ?? null;
    const r = rollback?.timeline[i];
    if (r) for (const [id, v] of Object.entries(r.values)) burnRates[id] = v;
    return {
      minute: entry.minute,
      ...(e ? { blendedRequests: e.requests } : {}),
      ...(e?.stable ? { stableRequests: e.stable.requests } : {}),
      ...(e?.canary ? { canaryRequests: e.canary.requests } : {}),
      burnRates,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Series

function countsOf(entry: SeriesEntry, stream: StreamName): MinuteCounts | undefined {
  return stream === 'blended' ? entry : entry[stream];
}

/** One stream as an SLI series; minutes without an entry for the stream have no datapoint. */
function sliSeries(series: readonly SeriesEntry[], stream: StreamName, bad: BadField): SliPoint[] {
  const points: SliPoint[] = [];
  for (const entry of series) {
    const c = countsOf(entry, stream);
    if (c) points.push({ minute: entry.minute, total: c.requests, bad: c[bad] ?? 0 });
  }
  return points;
}

const fmt = (n: number) => formatNumber(Number(n.toPrecision(3)));
const pct = (ratio: number) => `${fmt(ratio * 100)} %`;
const fmtMinute = (m: number) => formatNumber(Number(m.toFixed(3)));
