import { Duration, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { APPROVAL_LAST_END_SECONDS, MIN_APPROVAL_SECONDS } from '../core/approval';
import { MAX_DEADLINE_SECONDS } from '../core/bake';
import type { BreakerSettings } from '../core/breaker';
import { DEFAULT_DEADLINE_SECONDS, ROLLBACK_TRIGGER_DEFAULTS } from '../core/defaults';
import { RollbackTriggersError, formatSeconds } from '../core/errors';
import {
  DEFAULT_SECONDARY_APPROVAL_SECONDS,
  MAX_GUARD_WINDOW_SECONDS,
  MAX_SECONDARY_APPROVAL_SECONDS,
  MIN_GUARD_WINDOW_SECONDS,
  MIN_SECONDARY_APPROVAL_SECONDS,
} from '../core/follow-up';
import { MAX_VERIFY_SECONDS, VERIFY_GRACE_SECONDS } from '../core/verify';
import { literalSeconds } from './metrics';
import { ServiceLevelObjective } from '../slo/service-level-objective';
import { HealthCheck } from '../rollback/health-check';
import { AlertSeverity } from '../slo/burn-rate-tier';
import type { IAlarmTrigger } from '../trigger/alarm-trigger';
import { RollbackTarget } from '../rollback/rollback-target';
import type { RollbackTriggerProps } from '../rollback/rollback-trigger';
import { atConstruct, describeProp } from './errors';
import { checkAuditDestinations } from './target-checks';

/** The numbers a RollbackTrigger is built from, each checked against its own bounds first. */
export interface CheckedTriggerProps {
  readonly bakeSeconds: number;
  readonly metricDelaySeconds: number;
  readonly deadlineSeconds: number;
  readonly maxAlarms: number;
  readonly baselineFactor: number;
  /** With the approval gate (InconclusiveAction.ESCALATE or a circuit breaker): its wait, whole seconds. */
  readonly approvalTimeoutSeconds?: number;
  /** Inconclusive verdicts ask a human (InconclusiveAction.ESCALATE). */
  readonly escalateInconclusive: boolean;
  /** The circuit breaker, in seconds. */
  readonly breaker?: BreakerSettings;
  /** Post-rollback verification's duration, seconds; absent without one. */
  readonly verifySeconds?: number;
  /** The guard window after a success, seconds; absent without one. */
  readonly guardSeconds?: number;
  /** The secondary action's approval wait, seconds; absent without a secondary action. */
  readonly secondaryApprovalSeconds?: number;
}

/**
 * Checks every prop of a RollbackTrigger on its own, before anything is built, so an error names
 * the prop that is wrong rather than one computed from it: `metricDelay` is bounded by the deadline
 * itself (not through `bake`), a token or a fraction of a second in a duration is refused with the
 * prop's name (RT109, RT118), a cap of alarms must be a whole number (RT332).
 */
export function checkTriggerProps(scope: Construct, props: RollbackTriggerProps, inconclusiveActions: readonly string[], modes: readonly string[]): CheckedTriggerProps {
  const path = scope.node.path;
  checkShape(path, props);
  checkMode(path, props, modes);
  const numbers = checkNumbers(path, props, inconclusiveActions);
  const breaker = checkBreaker(scope, props);
  const approvalTimeoutSeconds = checkApproval(scope, props, inconclusiveActions, breaker !== undefined);
  const timing = checkTiming(scope, props, approvalTimeoutSeconds);
  const verify = verifySecondsOf(scope, props);
  checkVerifyFits(scope, verify.verifySeconds, timing.metricDelaySeconds);
  const followUps = { ...guardSecondsOf(scope, props), ...secondaryOf(scope, props) };
  checkHealthChecks(path, props.healthChecks);
  checkAlarmTriggers(path, props.alarmTriggers);
  checkAuditRetention(scope, props);
  checkAuditDestinations(scope, props.auditBus, props.notificationTopic);
  return {
    ...timing,
    ...numbers,
    escalateInconclusive: props.inconclusiveAction === 'escalate',
    ...(approvalTimeoutSeconds !== undefined ? { approvalTimeoutSeconds } : {}),
    ...(breaker ? { breaker } : {}),
    ...verify,
    ...followUps,
  };
}

/** The guard window (RT347): whole minutes from 10 min (the page tier's short window needs ticks to fill) to 24 h. */
function guardSecondsOf(scope: Construct, props: RollbackTriggerProps): { guardSeconds?: number } {
  if (props.guardWindow === undefined) return {};
  const seconds = atConstruct(scope, () => literalSeconds('guardWindow', props.guardWindow!));
  if (!(seconds >= MIN_GUARD_WINDOW_SECONDS && seconds <= MAX_GUARD_WINDOW_SECONDS && seconds % 60 === 0)) {
    throw new RollbackTriggersError(
      'RT347',
      `guardWindow must be whole minutes from ${formatSeconds(MIN_GUARD_WINDOW_SECONDS)} to ${formatSeconds(MAX_GUARD_WINDOW_SECONDS)}, got ${formatSeconds(seconds)} — how long after a release succeeds its page tier is still judged`,
      { constructPath: scope.node.path, prop: 'guardWindow' },
    );
  }
  return { guardSeconds: seconds };
}

/** The secondary action (RT348): an object whose approval wait is whole minutes from 1 min to 24 h, and never in shadow mode (it acts). */
function secondaryOf(scope: Construct, props: RollbackTriggerProps): { secondaryApprovalSeconds?: number } {
  const a = props.secondaryAction;
  if (a === undefined) return {};
  const path = scope.node.path;
  if (a === null || typeof a !== 'object') {
    throw new RollbackTriggersError('RT334', `secondaryAction must be an object { approvalTimeout? }, got ${describeProp(a)}`, { constructPath: path, prop: 'secondaryAction' });
  }
  if (props.mode === 'shadow') {
    throw new RollbackTriggersError('RT348', 'secondaryAction in shadow mode: shadow mode never acts on a deployment — drop secondaryAction, or enforce', { constructPath: path, prop: 'secondaryAction' });
  }
  const seconds = atConstruct(scope, () => literalSeconds('secondaryAction.approvalTimeout', a.approvalTimeout ?? Duration.seconds(DEFAULT_SECONDARY_APPROVAL_SECONDS)));
  if (!(seconds >= MIN_SECONDARY_APPROVAL_SECONDS && seconds <= MAX_SECONDARY_APPROVAL_SECONDS && seconds % 60 === 0)) {
    throw new RollbackTriggersError(
      'RT348',
      `secondaryAction.approvalTimeout must be whole minutes from ${formatSeconds(MIN_SECONDARY_APPROVAL_SECONDS)} to ${formatSeconds(MAX_SECONDARY_APPROVAL_SECONDS)}, got ${formatSeconds(seconds)}`,
      { constructPath: path, prop: 'secondaryAction.approvalTimeout' },
    );
  }
  return { secondaryApprovalSeconds: seconds };
}

/** Post-rollback verification's duration (RT346): whole minutes from 1 to 40, so the whole verification stays inside the evaluator's retry clock. */
function verifySecondsOf(scope: Construct, props: RollbackTriggerProps): { verifySeconds?: number } {
  const v = props.verifyRollback;
  if (v === undefined) return {};
  const path = scope.node.path;
  if (v === null || typeof v !== 'object') {
    throw new RollbackTriggersError('RT334', `verifyRollback must be an object { duration? }, got ${describeProp(v)}`, { constructPath: path, prop: 'verifyRollback' });
  }
  const seconds = atConstruct(scope, () => literalSeconds('verifyRollback.duration', v.duration ?? Duration.seconds(ROLLBACK_TRIGGER_DEFAULTS.verifyRollbackSeconds)));
  if (!(seconds >= 60 && seconds <= MAX_VERIFY_SECONDS && seconds % 60 === 0)) {
    throw new RollbackTriggersError('RT346', `verifyRollback.duration must be whole minutes from 1 min to ${formatSeconds(MAX_VERIFY_SECONDS)}, got ${formatSeconds(seconds)}`, {
      constructPath: path,
      prop: 'verifyRollback.duration',
    });
  }
  return { verifySeconds: seconds };
}

/** The whole verification (its duration, the metric delay, the grace for reads) inside the evaluator's retry clock (RT346). */
function checkVerifyFits(scope: Construct, verifySeconds: number | undefined, metricDelaySeconds: number): void {
  if (verifySeconds === undefined || verifySeconds + metricDelaySeconds + VERIFY_GRACE_SECONDS <= MAX_DEADLINE_SECONDS) return;
  const longest = Math.floor((MAX_DEADLINE_SECONDS - metricDelaySeconds - VERIFY_GRACE_SECONDS) / 60) * 60;
  // No duration fits a metric delay that long: the delay is what to change.
  const fix = longest >= 60 ? `make it at most ${formatSeconds(longest)}` : `no duration fits: shorten metricDelay to at most ${formatSeconds(MAX_DEADLINE_SECONDS - VERIFY_GRACE_SECONDS - 60)}`;
  throw new RollbackTriggersError(
    'RT346',
    `verifyRollback.duration of ${formatSeconds(verifySeconds)} with the metric delay of ${formatSeconds(metricDelaySeconds)} and ${formatSeconds(VERIFY_GRACE_SECONDS)} for reads ` +
      `passes ${formatSeconds(MAX_DEADLINE_SECONDS)} after the rollback, the evaluator's retry clock: ${fix}`,
    { constructPath: scope.node.path, prop: 'verifyRollback.duration' },
  );
}

/** The circuit breaker's numbers (RT345): whole, at least 1; durations in whole minutes (RT109/RT118 for tokens and fractions). */
function checkBreaker(scope: Construct, props: RollbackTriggerProps): BreakerSettings | undefined {
  const b = props.circuitBreaker;
  if (b === undefined) return undefined;
  const path = scope.node.path;
  if (b === null || typeof b !== 'object') {
    throw new RollbackTriggersError('RT334', `circuitBreaker must be an object { maxRollbacks?, window?, cooldown? }, got ${describeProp(b)}`, { constructPath: path, prop: 'circuitBreaker' });
  }
  const maxRollbacks = b.maxRollbacks ?? ROLLBACK_TRIGGER_DEFAULTS.breakerMaxRollbacks;
  if (Token.isUnresolved(maxRollbacks) || typeof maxRollbacks !== 'number' || !Number.isInteger(maxRollbacks) || maxRollbacks < 1) {
    const got = Token.isUnresolved(maxRollbacks) ? 'a token' : describeProp(maxRollbacks);
    throw new RollbackTriggersError('RT345', `circuitBreaker.maxRollbacks must be a whole number of at least 1, got ${got} — the rollbacks a group may have in the window before the breaker opens`, {
      constructPath: path,
      prop: 'circuitBreaker.maxRollbacks',
    });
  }
  const minutes = (name: 'window' | 'cooldown', given: Duration | undefined, fallback: number) => {
    const seconds = atConstruct(scope, () => literalSeconds(`circuitBreaker.${name}`, given ?? Duration.seconds(fallback)));
    if (!(seconds >= 60 && seconds % 60 === 0)) {
      throw new RollbackTriggersError('RT345', `circuitBreaker.${name} must be whole minutes, at least 1, got ${formatSeconds(seconds)}`, { constructPath: path, prop: `circuitBreaker.${name}` });
    }
    return seconds;
  };
  return {
    maxRollbacks,
    windowSeconds: minutes('window', b.window, ROLLBACK_TRIGGER_DEFAULTS.breakerWindowSeconds),
    cooldownSeconds: minutes('cooldown', b.cooldown, ROLLBACK_TRIGGER_DEFAULTS.breakerCooldownSeconds),
  };
}

/**
 * The approval gate's props: the wait only with InconclusiveAction.ESCALATE or a circuit breaker, the
 * timeout action only with ESCALATE (RT341), never in shadow mode (RT340), a wait of whole seconds
 * from a minute that leaves room for a deadline (RT342), and a timeout action that does not
 * escalate again (RT343). Returns the wait, or undefined without a gate.
 */
function checkApproval(scope: Construct, props: RollbackTriggerProps, inconclusiveActions: readonly string[], breaker: boolean): number | undefined {
  const path = scope.node.path;
  const escalate = props.inconclusiveAction === 'escalate';
  // The timeout action is for unanswered inconclusive verdicts; a held rollback always rolls back unanswered.
  const unused = !escalate && props.approvalTimeoutAction !== undefined ? 'approvalTimeoutAction' : !escalate && !breaker && props.approvalTimeout !== undefined ? 'approvalTimeout' : undefined;
  if (unused) {
    throw new RollbackTriggersError(
      'RT341',
      `${unused} is set, but inconclusiveAction is ${describeProp(props.inconclusiveAction ?? 'fail')}${unused === 'approvalTimeout' ? ' and there is no circuitBreaker' : ''}: ` +
        `only InconclusiveAction.ESCALATE${unused === 'approvalTimeout' ? ' or a circuitBreaker' : ''} asks for approval — set it, or drop ${unused}` +
        (unused === 'approvalTimeoutAction' && breaker ? ' (a rollback the circuit breaker holds always rolls back when nobody answers)' : ''),
      { constructPath: path, prop: unused },
    );
  }
  if (!escalate && !breaker) return undefined;
  if (props.mode === 'shadow') {
    const prop = escalate ? 'inconclusiveAction' : 'circuitBreaker';
    throw new RollbackTriggersError(
      'RT340',
      `${escalate ? 'inconclusiveAction is InconclusiveAction.ESCALATE' : 'circuitBreaker is set'} in shadow mode: shadow mode never stops a release, so there is nothing to ask a human — ` +
        `${escalate ? 'use InconclusiveAction.FAIL (audited as wouldRollback)' : 'drop circuitBreaker'} or use TriggerMode.ENFORCE`,
      { constructPath: path, prop },
    );
  }
  const action = props.approvalTimeoutAction;
  if (action !== undefined && (action === 'escalate' || !inconclusiveActions.includes(action))) {
    throw new RollbackTriggersError(
      'RT343',
      `approvalTimeoutAction must be InconclusiveAction.FAIL or InconclusiveAction.PASS (what is reported when nobody answers), got ${describeProp(action)}`,
      { constructPath: path, prop: 'approvalTimeoutAction' },
    );
  }
  const seconds = atConstruct(scope, () => literalSeconds('approvalTimeout', props.approvalTimeout ?? Duration.seconds(ROLLBACK_TRIGGER_DEFAULTS.approvalTimeoutSeconds)));
  // A deadline of at least a minute must fit before it (RT316's lower bound).
  const most = APPROVAL_LAST_END_SECONDS - 60;
  if (!(seconds >= MIN_APPROVAL_SECONDS && seconds <= most)) {
    throw new RollbackTriggersError(
      'RT342',
      `approvalTimeout must be whole seconds from ${formatSeconds(MIN_APPROVAL_SECONDS)} to ${formatSeconds(most)} (the bake's deadline of at least 1 min and the wait must end by hook start + ${formatSeconds(APPROVAL_LAST_END_SECONDS)}, so the answer is reported inside CodeDeploy's hour), got ${formatSeconds(seconds)}`,
      { constructPath: path, prop: 'approvalTimeout' },
    );
  }
  return seconds;
}

/** The props object, its target and its objectives, of the kinds they must be (jsii callers are not type-checked). */
function checkShape(path: string, props: RollbackTriggerProps): void {
  if (props === undefined || props === null || typeof props !== 'object') {
    throw new RollbackTriggersError('RT334', 'props are required ({ target, objectives })', { constructPath: path });
  }
  if (!(props.target instanceof RollbackTarget)) {
    throw new RollbackTriggersError('RT334', `target must be RollbackTarget.lambdaAlias({ … }) or RollbackTarget.ecsService({ … }), got ${describeProp(props.target)}`, { constructPath: path, prop: 'target' });
  }
  if (!Array.isArray(props.objectives)) {
    throw new RollbackTriggersError('RT334', `objectives must be a list of ServiceLevelObjective, got ${describeProp(props.objectives)}`, { constructPath: path, prop: 'objectives' });
  }
  if (props.objectives.length === 0) {
    throw new RollbackTriggersError('RT301', 'objectives must name at least one ServiceLevelObjective', { constructPath: path, prop: 'objectives' });
  }
  props.objectives.forEach((slo, i) => {
    if (!ServiceLevelObjective.isServiceLevelObjective(slo)) {
      throw new RollbackTriggersError('RT334', `objectives[${i}] must be a ServiceLevelObjective, got ${describeProp(slo)}`, { constructPath: path, prop: `objectives[${i}]` });
    }
    const first = props.objectives.indexOf(slo);
    if (first !== i) {
      throw new RollbackTriggersError(
        'RT326',
        `objectives[${i}] is SLO ${slo.sloName} (${slo.node.path}) again, as objectives[${first}]: its rollback alarm would be attached to the deployment group twice — list each SLO once`,
        { constructPath: path, prop: `objectives[${i}]` },
      );
    }
  });
}

/** The mode, and what shadow mode cannot take: suspending an alarm path it never attaches (RT339). */
function checkMode(path: string, props: RollbackTriggerProps, modes: readonly string[]): void {
  if (props.mode === undefined) return;
  if (!modes.includes(props.mode)) {
    throw new RollbackTriggersError('RT334', `mode must be TriggerMode.ENFORCE or TriggerMode.SHADOW, got ${describeProp(props.mode)}`, { constructPath: path, prop: 'mode' });
  }
  if (props.mode === 'shadow' && props.suspendAlarmPath === true) {
    throw new RollbackTriggersError(
      'RT339',
      'suspendAlarmPath is set in shadow mode, which never attaches the alarm path — it would only switch off the other alarms of the deployment group; drop suspendAlarmPath',
      { constructPath: path, prop: 'suspendAlarmPath' },
    );
  }
}

/** Deadline, metric delay and bake, each bounded by the one before it. */
function checkTiming(scope: Construct, props: RollbackTriggerProps, approvalTimeoutSeconds: number | undefined): Pick<CheckedTriggerProps, 'deadlineSeconds' | 'metricDelaySeconds' | 'bakeSeconds'> {
  const path = scope.node.path;
  const at = (check: () => number) => atConstruct(scope, check);
  // The hook's one-hour clock bounds the deadline, the deadline bounds the metric delay (a bake of
  // at least one minute must fit after it), and both bound the bake. The approval gate's wait comes
  // after the deadline and must end by the report-by time too.
  const byApproval = approvalTimeoutSeconds === undefined ? undefined : APPROVAL_LAST_END_SECONDS - approvalTimeoutSeconds;
  const defaultDeadline = Math.min(ROLLBACK_TRIGGER_DEFAULTS.deadlineSeconds, byApproval ?? Infinity);
  const deadlineSeconds = at(() => literalSeconds('deadline', props.deadline ?? Duration.seconds(defaultDeadline)));
  if (byApproval !== undefined && deadlineSeconds > byApproval) {
    throw new RollbackTriggersError(
      'RT342',
      `deadline plus approvalTimeout must end by hook start + ${formatSeconds(APPROVAL_LAST_END_SECONDS)} (then the answer's step and the report still fit inside CodeDeploy's hour), ` +
        `got ${formatSeconds(deadlineSeconds)} + ${formatSeconds(approvalTimeoutSeconds!)} — shorten one (the deadline defaults to ${formatSeconds(byApproval)} with this approvalTimeout)`,
      { constructPath: path, prop: 'deadline' },
    );
  }
  // Past the deadline the last step may still take two 2-minute attempts, and the machine's
  // report-by (hook start + 57 min) must not cut the deciding tick: 55 min is the latest.
  if (!(deadlineSeconds >= 60 && deadlineSeconds <= DEFAULT_DEADLINE_SECONDS)) {
    throw new RollbackTriggersError(
      'RT316',
      `deadline must be whole seconds from 1 min to ${formatSeconds(DEFAULT_DEADLINE_SECONDS)} (CodeDeploy fails a hook after 1 h; ` +
        `the last step, the report and its retries need the rest), got ${formatSeconds(deadlineSeconds)}`,
      { constructPath: path, prop: 'deadline' },
    );
  }
  const metricDelaySeconds = at(() => literalSeconds('metricDelay', props.metricDelay ?? Duration.seconds(ROLLBACK_TRIGGER_DEFAULTS.metricDelaySeconds)));
  const bakeSeconds = at(() => literalSeconds('bake', props.bake ?? Duration.seconds(ROLLBACK_TRIGGER_DEFAULTS.bakeSeconds)));
  // A deadline the approval timeout set: what does not fit in it is the wait's doing, not the bake's.
  const needed = metricDelaySeconds + Math.max(60, bakeSeconds);
  if (props.deadline === undefined && byApproval !== undefined && needed > deadlineSeconds) {
    throw new RollbackTriggersError(
      'RT342',
      `approvalTimeout of ${formatSeconds(approvalTimeoutSeconds!)} leaves a deadline of ${formatSeconds(deadlineSeconds)} (hook start + ${formatSeconds(APPROVAL_LAST_END_SECONDS)} minus the wait), ` +
        `shorter than the metric delay plus the bake (${formatSeconds(needed)}): make approvalTimeout at most ${formatSeconds(APPROVAL_LAST_END_SECONDS - needed)}, or shorten bake or metricDelay`,
      { constructPath: path, prop: 'approvalTimeout' },
    );
  }
  if (metricDelaySeconds > deadlineSeconds - 60) {
    throw new RollbackTriggersError(
      'RT333',
      `metricDelay must be at most ${formatSeconds(deadlineSeconds - 60)} (the deadline of ${formatSeconds(deadlineSeconds)} minus a one-minute bake: the evaluator ` +
        `trusts a minute only metricDelay after it ends), got ${formatSeconds(metricDelaySeconds)} — CloudWatch data usually arrives within a few minutes; keep the default 3 min unless yours is later`,
      { constructPath: path, prop: 'metricDelay' },
    );
  }
  const maxBake = deadlineSeconds - metricDelaySeconds;
  if (bakeSeconds > maxBake) {
    throw new RollbackTriggersError(
      'RT305',
      `bake must be above 0 and at most ${formatSeconds(maxBake)} (the deadline of ${formatSeconds(deadlineSeconds)} after the hook starts, ` +
        `minus ${formatSeconds(metricDelaySeconds)} metric delay), got ${formatSeconds(bakeSeconds)}`,
      { constructPath: path, prop: 'bake' },
    );
  }
  return { deadlineSeconds, metricDelaySeconds, bakeSeconds };
}

/** The alarm cap, the inconclusive action and the baseline factor. */
function checkNumbers(path: string, props: RollbackTriggerProps, inconclusiveActions: readonly string[]): Pick<CheckedTriggerProps, 'maxAlarms' | 'baselineFactor'> {
  const maxAlarms = props.maxAlarmsPerDeploymentGroup ?? ROLLBACK_TRIGGER_DEFAULTS.maxAlarmsPerDeploymentGroup;
  if (Token.isUnresolved(maxAlarms) || typeof maxAlarms !== 'number' || !Number.isInteger(maxAlarms) || maxAlarms < 1) {
    throw new RollbackTriggersError(
      'RT332',
      `maxAlarmsPerDeploymentGroup must be a whole number of at least 1, got ${Token.isUnresolved(maxAlarms) ? 'a token' : describeProp(maxAlarms)} — ` +
        "your account's quota of alarms per deployment group (the CodeDeploy API reference says 10, the quotas page 50, adjustable); omit it for 10",
      { constructPath: path, prop: 'maxAlarmsPerDeploymentGroup' },
    );
  }
  if (props.inconclusiveAction !== undefined && !inconclusiveActions.includes(props.inconclusiveAction)) {
    throw new RollbackTriggersError(
      'RT334',
      `inconclusiveAction must be InconclusiveAction.FAIL, InconclusiveAction.PASS or InconclusiveAction.ESCALATE, got ${describeProp(props.inconclusiveAction)}`,
      { constructPath: path, prop: 'inconclusiveAction' },
    );
  }
  const baselineFactor = props.baselineFactor ?? ROLLBACK_TRIGGER_DEFAULTS.baselineFactor;
  if (Token.isUnresolved(baselineFactor)) {
    throw new RollbackTriggersError('RT314', "baselineFactor must be a literal number, got a token — the rollback alarms' expressions are written with it at synth", { constructPath: path, prop: 'baselineFactor' });
  }
  if (!(typeof baselineFactor === 'number' && Number.isFinite(baselineFactor) && baselineFactor >= 0)) {
    throw new RollbackTriggersError('RT314', `baselineFactor must be 0 (off) or a positive number, got ${describeProp(baselineFactor)}`, { constructPath: path, prop: 'baselineFactor' });
  }
  return { maxAlarms, baselineFactor };
}

/** Each health check once, by a name of its own. */
function checkHealthChecks(path: string, healthChecks: RollbackTriggerProps['healthChecks']): void {
  if (healthChecks === undefined) return;
  if (!Array.isArray(healthChecks)) {
    throw new RollbackTriggersError('RT334', `healthChecks must be a list of HealthCheck, got ${describeProp(healthChecks)}`, { constructPath: path, prop: 'healthChecks' });
  }
  const names = new Map<string, number>();
  healthChecks.forEach((check, i) => {
    if (!(check instanceof HealthCheck)) {
      throw new RollbackTriggersError('RT334', `healthChecks[${i}] must be HealthCheck.http({ … }) or HealthCheck.synthetics({ … }), got ${describeProp(check)}`, { constructPath: path, prop: `healthChecks[${i}]` });
    }
    const first = names.get(check.name);
    if (first !== undefined) {
      throw new RollbackTriggersError(
        'RT329',
        `healthChecks[${i}] is named "${check.name}" like healthChecks[${first}]: the evaluator's reasons and the audit events tell checks apart by name ` +
          '(and the simulator looks up the runs of a canary named only at deploy time by it) — give each check its own name, and list each check once',
        { constructPath: path, prop: `healthChecks[${i}]` },
      );
    }
    names.set(check.name, i);
  });
}

/** The retention of the bus the trigger creates: whole days, at least one, and only for that bus. */
function checkAuditRetention(scope: Construct, props: RollbackTriggerProps): void {
  const path = scope.node.path;
  const at = (check: () => number) => atConstruct(scope, check);
  if (props.auditRetention !== undefined) {
    if (props.auditBus !== undefined) {
      throw new RollbackTriggersError(
        'RT331',
        `auditRetention applies to the bus the trigger creates, but auditBus is given (${props.auditBus.node.path}), so it would be ignored — ` +
          'archive your own bus (EventBus.archive) with the retention you want, or drop auditBus',
        { constructPath: path, prop: 'auditRetention' },
      );
    }
    // EventBridge archive RetentionDays: "If set to 0, events are retained indefinitely" (CreateArchive):
    // 0 days would keep every audit event forever, the opposite of what it says.
    if (!props.auditRetention.isUnresolved() && props.auditRetention.toSeconds({ integral: false }) === 0) {
      throw new RollbackTriggersError(
        'RT331',
        `auditRetention must be at least 1 day, got ${props.auditRetention.toString()} — EventBridge reads a retention of 0 days as "keep forever"; ` +
          'omit auditRetention for 365 days, or give the days to keep',
        { constructPath: path, prop: 'auditRetention' },
      );
    }
    const seconds = at(() => literalSeconds('auditRetention', props.auditRetention!));
    if (seconds % 86_400 !== 0) {
      throw new RollbackTriggersError(
        'RT331',
        `auditRetention must be whole days of at least 1 (EventBridge archives keep events for RetentionDays), got ${props.auditRetention.toString()} — use Duration.days()`,
        { constructPath: path, prop: 'auditRetention' },
      );
    }
  }
}

/**
 * Alarm-backed triggers whose alarms the deployment group polls beside the SLO alarms: constructs
 * with an alarm, of severity PAGE (a ticket never rolls a release back, RT337), each listed once (RT338).
 */
function checkAlarmTriggers(path: string, triggers: RollbackTriggerProps['alarmTriggers']): void {
  if (triggers === undefined) return;
  if (!Array.isArray(triggers)) {
    throw new RollbackTriggersError('RT334', `alarmTriggers must be a list of alarm triggers (ThresholdTrigger), got ${describeProp(triggers)}`, { constructPath: path, prop: 'alarmTriggers' });
  }
  triggers.forEach((t: IAlarmTrigger, i) => {
    if (!Construct.isConstruct(t) || !(t as { alarm?: unknown }).alarm) {
      throw new RollbackTriggersError('RT334', `alarmTriggers[${i}] must be an alarm trigger (a ThresholdTrigger, or a construct with an alarm and a severity), got ${describeProp(t)}`, { constructPath: path, prop: `alarmTriggers[${i}]` });
    }
    const first = triggers.indexOf(t);
    if (first !== i) {
      throw new RollbackTriggersError('RT338', `alarmTriggers[${i}] is ${t.node.path} again, as alarmTriggers[${first}]: its alarm would be attached to the deployment group twice — list each trigger once`, { constructPath: path, prop: `alarmTriggers[${i}]` });
    }
    if (t.severity !== AlertSeverity.PAGE) {
      throw new RollbackTriggersError(
        'RT337',
        `alarmTriggers[${i}] (${t.node.path}) has severity ${describeProp(t.severity)}: only a PAGE trigger may roll a release back — ` +
          'give it severity: AlertSeverity.PAGE, or leave it out and route its alarm to a ticket',
        { constructPath: path, prop: `alarmTriggers[${i}]` },
      );
    }
  });
}

/**
 * One trigger per deployment group: a second one would attach its alarms beside the first's, and
 * CodeDeploy runs one function per lifecycle hook (RT335). Checked first, recorded once the trigger
 * is built (a trigger that failed to build guards nothing).
 */
export function checkUnguarded(scope: Construct, group: Construct): void {
  // The app's tree is the registry (no module state): a trigger marks its group once it is built.
  const other = scope.node.root.node.findAll().find((c) => c !== scope && (c as { _guardedGroup?: Construct })._guardedGroup === group);
  if (other !== undefined) {
    throw new RollbackTriggersError(
      'RT335',
      `deployment group ${group.node.path} is already guarded by RollbackTrigger ${other.node.path}: CodeDeploy runs one function per lifecycle hook, and the ` +
        "second trigger's alarms would sit beside the first's — give all objectives to one trigger",
      { constructPath: scope.node.path, prop: 'target' },
    );
  }
}

/** Lambda `Description`: 0 to 256 characters (Lambda API reference, CreateFunction). */
export const LAMBDA_DESCRIPTION_LIMIT = 256;
/** EventBridge rule `Description`: at most 512 characters (EventBridge API reference, PutRule). */
export const RULE_DESCRIPTION_LIMIT = 512;

/**
 * A description that names a construct path, shortened from the left (`…/Service/Deployment`) when a
 * deep path would take it over the service's limit: the tail is the part that tells groups apart.
 */
export function withinLimit(limit: number, make: (path: string) => string, path: string): string {
  const full = make(path);
  if (full.length <= limit) return full;
  const room = limit - make('').length - 1;
  return make(`…${path.slice(path.length - Math.max(room, 0))}`);
}
