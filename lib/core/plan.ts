import type { BreakerSettings } from './breaker';
import { formatNumber, formatSeconds } from './errors';
import { type PlanHeartbeat, planHeartbeats, renderHeartbeats } from './heartbeat';
import type { PolicyAlarm, PolicyRollbackTrigger, PolicySlo, RollbackPolicy } from './policy';
import { CLOUDWATCH_ALARM_PRICES_USD, metricAlarmMonthlyUsd, sumUsd } from './pricing';
import { DerivedTier, HOURLY_EVALUATION_AFTER_SECONDS, budgetSpentAtFire, detectionRangeSeconds } from './slo-math';

/** Error ratios the plan quotes detection times for: a total outage, 10 % and 2 % errors. */
export const DEFAULT_PLAN_ERROR_RATIOS: readonly number[] = [1, 0.1, 0.02];

export interface PlanOptions {
  readonly errorRatios?: readonly number[];
  /** Added to every detection time; CloudWatch data typically lands a few minutes late. */
  readonly ingestionDelaySeconds?: number;
}

export interface PlanDetection {
  readonly errorRatio: number;
  /**
   * Seconds of bad traffic until the tier fires, rounded up to CloudWatch's 1-minute evaluation;
   * undefined = never. For a tier with a window over a day, evaluated once an hour, the earliest
   * time (see `latestSeconds`).
   */
  readonly seconds?: number;
  /**
   * Only where the time is uncertain — a tier with a window over a day, which CloudWatch evaluates
   * once an hour: the latest time, up to 59 minutes after `seconds`, depending on where in the
   * hour the errors start (`detectionRangeSeconds`). Absent when `seconds` is exact.
   */
  readonly latestSeconds?: number;
  /** Share of the compliance period's error budget spent by then (by `seconds`). */
  readonly budgetSpent?: number;
  /** Share of the budget spent by `latestSeconds`; present with it. */
  readonly latestBudgetSpent?: number;
}

export interface PlanTier {
  readonly name: string;
  readonly severity: string;
  readonly longWindowSeconds: number;
  readonly shortWindowSeconds: number;
  readonly factor: number;
  readonly errorRatioThreshold: number;
  readonly minEventsPerWindow: number;
  /**
   * Whether a window alarm of the tier is evaluated once an hour (its window exceeds one day), so
   * its detection times are ranges.
   */
  readonly evaluatedHourly: boolean;
  readonly detections: readonly PlanDetection[];
}

export interface PlanSlo {
  readonly name: string;
  readonly path: string;
  readonly objectivePercent: number;
  readonly compliancePeriodSeconds: number;
  readonly sliDescription: string;
  readonly sliScope: string;
  readonly tiers: readonly PlanTier[];
  /** How the SLO's alarms are laid out (`per-tier` for documents written before layouts existed). */
  readonly alarmLayout: string;
  /** The ServiceLevelObjectiveGroup whose composites hold the SLO's tiers, by path; absent outside a group. */
  readonly group?: string;
  /** What the SLO's alarms would cost a month in each layout, so a user can choose. */
  readonly layoutCosts: PlanLayoutCosts;
}

/** An SLO's alarms per layout, USD a month at us-east-1 list prices (CLOUDWATCH_ALARM_PRICES_USD). */
export interface PlanLayoutCosts {
  /** The window alarms alone: two per tier, every layout has them. */
  readonly windowAlarmsUsd: number;
  /** Window alarms and one composite per severity. */
  readonly exactUsd: number;
  /** EXACT and one composite per tier. */
  readonly perTierUsd: number;
  /** EXACT's alarms; the Application Signals SLO is billed by Application Signals on top (not an alarm price). */
  readonly nativeAlarmsUsd: number;
  /** The composites a group shares among its SLOs (one per severity): a member pays the window alarms and its share of these. */
  readonly groupCompositesUsd: number;
}

export interface PlanRollbackTrigger {
  readonly name: string;
  readonly platform: string;
  readonly bakeSeconds: number;
  readonly inconclusiveAction: string;
  /** Alarms on the deployment group: the rollback alarms and the alarm triggers' alarms. */
  readonly alarmCount: number;
  /** Construct paths of the alarm triggers (ThresholdTrigger) among them. */
  readonly alarmTriggers: readonly string[];
  readonly maxAlarms: number;
  readonly alarmPathSuspended: boolean;
  /** Shadow mode: the alarms are not attached and the hook always reports Succeeded. */
  readonly shadow: boolean;
  /** The approval gate's wait, seconds; absent without a gate. */
  readonly approvalTimeoutSeconds?: number;
  /** Inconclusive verdicts ask a human (false: only the circuit breaker asks). */
  readonly escalateInconclusive?: boolean;
  readonly circuitBreaker?: BreakerSettings;
  /** Post-rollback verification's duration, seconds. */
  readonly verifyRollbackSeconds?: number;
  /** The guard window after a success, seconds. */
  readonly guardWindowSeconds?: number;
  /** The secondary action's approval wait, seconds. */
  readonly secondaryActionSeconds?: number;
  readonly alarms: ReadonlyArray<{ readonly slo: string; readonly scope: string; readonly tier: string; readonly factor: number; readonly detections: readonly PlanDetection[] }>;
  /** Which path judges which minutes of a release (issue 8): one line per stretch of the deployment. */
  readonly coverage: ReadonlyArray<{ readonly minutes: string; readonly judgedBy: string }>;
}

export interface PlanCost {
  readonly metricAlarms: number;
  readonly highResolutionAlarms: number;
  readonly compositeAlarms: number;
  /** Metrics billed across all metric alarms (a math alarm bills each metric it reads). */
  readonly billedMetrics: number;
  readonly monthlyUsd: number;
}

export interface Plan {
  readonly stack?: string;
  /** The ingestion delay added to every detection time. */
  readonly ingestionDelaySeconds: number;
  readonly slos: readonly PlanSlo[];
  readonly thresholdTriggers: number;
  /** The heartbeat triggers among them (dead man's switches), with when each path fires; absent without one. */
  readonly heartbeats?: readonly PlanHeartbeat[];
  readonly rollbackTriggers: readonly PlanRollbackTrigger[];
  /** Burn-rate window alarms the SLOs create: two per tier, each SLO its own. */
  readonly windowAlarms: number;
  readonly cost: PlanCost;
}

export function buildPlan(policy: RollbackPolicy, options: PlanOptions = {}): Plan {
  const ratios = options.errorRatios ?? DEFAULT_PLAN_ERROR_RATIOS;
  const delay = options.ingestionDelaySeconds ?? 0;
  const slos = policy.slos.map((slo): PlanSlo => ({
    name: slo.name,
    path: slo.path,
    objectivePercent: slo.objectivePercent,
    compliancePeriodSeconds: slo.compliancePeriodSeconds,
    sliDescription: slo.sli.description,
    sliScope: slo.sli.scope,
    alarmLayout: slo.alarmLayout ?? 'per-tier',
    ...(slo.group !== undefined ? { group: slo.group } : {}),
    layoutCosts: layoutCostsOf(slo, policy),
    tiers: slo.tiers.map((tier): PlanTier => ({
      name: tier.name,
      severity: tier.severity,
      longWindowSeconds: tier.longWindowSeconds,
      shortWindowSeconds: tier.shortWindowSeconds,
      factor: tier.factor,
      errorRatioThreshold: tier.errorRatioThreshold,
      minEventsPerWindow: tier.minEventsPerWindow,
      evaluatedHourly: evaluatedHourly(tier),
      detections: ratios.map((errorRatio) => detection(tier, errorRatio, delay, slo)),
    })),
  }));

  const sloAlarms = policy.slos.flatMap((slo) => slo.alarms);
  const composites = policy.slos.reduce((n, slo) => n + slo.composites.length, 0) + (policy.sloGroups ?? []).reduce((n, g) => n + g.composites.length, 0);
  const triggerAlarms = [
    ...policy.thresholdTriggers.map((t) => ({ metricCount: t.metricCount, highResolution: t.highResolution })),
    ...(policy.rollbackTriggers ?? []).flatMap((r) => r.alarms.map((a) => ({ metricCount: a.metricCount, highResolution: false }))),
  ];
  const cost = costOf([...sloAlarms, ...triggerAlarms], composites);

  return {
    stack: policy.stack,
    ingestionDelaySeconds: delay,
    slos,
    thresholdTriggers: policy.thresholdTriggers.length,
    ...heartbeatsOf(policy, delay),
    rollbackTriggers: (policy.rollbackTriggers ?? []).map((r) => ({
      name: r.name,
      platform: r.platform,
      bakeSeconds: r.bakeSeconds,
      inconclusiveAction: r.inconclusiveAction,
      alarmCount: r.alarms.length + (r.alarmTriggers?.length ?? 0),
      alarmTriggers: r.alarmTriggers ?? [],
      maxAlarms: r.maxAlarms,
      alarmPathSuspended: r.alarmPathSuspended,
      shadow: r.shadow === true,
      ...(r.approvalTimeoutSeconds !== undefined ? { approvalTimeoutSeconds: r.approvalTimeoutSeconds, escalateInconclusive: r.escalateInconclusive !== false } : {}),
      ...(r.circuitBreaker ? { circuitBreaker: r.circuitBreaker } : {}),
      ...(r.verifyRollbackSeconds !== undefined ? { verifyRollbackSeconds: r.verifyRollbackSeconds } : {}),
      ...(r.guardWindowSeconds !== undefined ? { guardWindowSeconds: r.guardWindowSeconds } : {}),
      ...(r.secondaryActionSeconds !== undefined ? { secondaryActionSeconds: r.secondaryActionSeconds } : {}),
      alarms: r.alarms.map((a) => ({
        slo: a.slo,
        scope: a.scope,
        tier: a.tier.name,
        factor: a.tier.factor,
        // The rollback alarm is a single window on the new version's own traffic.
        detections: ratios.map((errorRatio) => {
          const window = a.windowSeconds;
          return detection({ ...a.tier, longWindowSeconds: window, shortWindowSeconds: window }, errorRatio, delay);
        }),
      })),
      coverage: coverageOf(r),
    })),
    windowAlarms: sloAlarms.length,
    cost,
  };
}

/** Whether CloudWatch evaluates a window alarm of the tier once an hour (a window over a day). */
function evaluatedHourly(tier: Pick<DerivedTier, 'longWindowSeconds' | 'shortWindowSeconds'>): boolean {
  return tier.longWindowSeconds > HOURLY_EVALUATION_AFTER_SECONDS || tier.shortWindowSeconds > HOURLY_EVALUATION_AFTER_SECONDS;
}

/**
 * When a tier fires at an error ratio: the earliest time, and the latest where an hourly
 * evaluation makes it uncertain; with the budget spent by each when the SLO is given.
 */
function detection(tier: DerivedTier, errorRatio: number, delay: number, slo?: Pick<PolicySlo, 'objectivePercent' | 'compliancePeriodSeconds'>): PlanDetection {
  const range = detectionRangeSeconds(tier, errorRatio, delay);
  const spent = (seconds: number | undefined) =>
    slo && seconds !== undefined ? budgetSpentAtFire(tier, errorRatio, slo.objectivePercent, slo.compliancePeriodSeconds, seconds) : undefined;
  const seconds = range?.earliestSeconds;
  const uncertain = range !== undefined && range.latestSeconds > range.earliestSeconds;
  return {
    errorRatio,
    seconds,
    ...(uncertain ? { latestSeconds: range.latestSeconds } : {}),
    ...(slo ? { budgetSpent: spent(seconds) } : {}),
    ...(uncertain && slo ? { latestBudgetSpent: spent(range.latestSeconds) } : {}),
  };
}

/**
 * Which path judges which minutes of a release, from the rules both paths run (the rollback
 * alarm: `relativeWindowBurnRate`; the evaluator: `decideBake` over lib/core/windows.ts):
 * - while both versions serve, the alarm compares them on the same window, as long as the current
 *   version served at least as many events in it; the evaluator compares them on the same minutes;
 * - all at once, the alarm's window still holds more minutes before the release than after it for
 *   its first ⌊window ÷ 2⌋ minutes: it compares the new version with the current one's last minutes;
 * - the new version alone (all at once, after the full shift): the evaluator, against the current
 *   version's last minutes of service, over a full short window with each minute capped (a blip of up
 *   to 3 minutes cannot fail it) or the workbook's hour reaching back before the release; the bake
 *   goes on while the new version burns at the page rate, up to the deadline;
 * - after the deployment succeeded: the guard window if there is one (lib/core/follow-up.ts), then
 *   nothing (CodeDeploy polls alarms only during a deployment).
 */
function coverageOf(r: PolicyRollbackTrigger): Array<{ minutes: string; judgedBy: string }> {
  const compared = r.alarms.filter((a) => a.baseline && a.baseline.factor > 0 && a.scope !== 'declared');
  const windows = [...new Set(r.alarms.map((a) => a.windowSeconds))];
  const window = windows.length > 0 ? Math.min(...windows) : undefined;
  const factor = compared[0]?.baseline?.factor;
  const bake = formatSeconds(r.bakeSeconds);
  const deadline = formatSeconds(r.deadlineSeconds);
  const alarm =
    r.alarms.length === 0
      ? 'no rollback alarm'
      : r.alarmPathSuspended
        ? 'the rollback alarms are SUSPENDED (AlarmConfiguration.Enabled = false)'
        : compared.length === 0
          ? `the rollback alarm${r.alarms.length === 1 ? '' : 's'} on the burn rate alone (${formatSeconds(window!)} window)`
          : `the rollback alarm${compared.length === 1 ? '' : 's'}, the new version against the current one on the same ${formatSeconds(window!)} window ` +
            `(more than ${formatNumber(factor!)}× as often, by three standard deviations, while the current version served at least as many events)`;
  const evaluator = `the evaluator (from AfterAllowTraffic for ${bake}, longer while the new version burns at the page rate, ${deadline} after the hook started at the latest)`;
  // An SLI read as declared (metrics without the version or a target group) counts the whole
  // service: the evaluator takes only the minutes after the full shift as the new version's own.
  const declared = [...new Set(r.alarms.filter((a) => a.evaluatorReads === 'declared').map((a) => a.slo))];
  const readAs = `SLO ${declared.join(', ')} as declared (the whole service: ${declared.length === 1 ? 'its metrics carry' : 'their metrics carry'} neither the version nor a target group)`;
  const shifting =
    declared.length === 0
      ? `${evaluator} on the same minutes once all traffic has shifted`
      : declared.length === new Set(r.alarms.map((a) => a.slo)).size
        ? `not the evaluator: it reads ${readAs} and judges only the minutes after all traffic reached the new version`
        : `${evaluator} on the same minutes once all traffic has shifted, except that it reads ${readAs} and judges only the minutes after all traffic reached ` +
          'the new version (the rollback alarm judges its canary minutes on its burn rate alone)';
  const lines = [{ minutes: 'canary and linear steps (both versions serve)', judgedBy: `${alarm}; ${shifting}` }];
  if (compared.length > 0 && window !== undefined) {
    lines.push({
      minutes: `all at once, the first ${formatNumber(Math.floor(window / 120))} min`,
      judgedBy:
        `the rollback alarm${compared.length === 1 ? '' : 's'}: the new version against the current version's last minutes before the release, ` +
        `still in the ${formatSeconds(window)} window (more than ${formatNumber(factor!)}× as often, by three standard deviations)`,
    });
  }
  lines.push(
    {
      minutes: 'the new version alone (all at once; after the full shift)',
      judgedBy:
        `${evaluator}: against the current version's last minutes of service, read in the same call with the hour before the release — ` +
        "a full short window at the page rate with each minute capped at 1.5× it (a blip of up to 3 min cannot fail), or the workbook's hour reaching back before the release; " +
        'an incident the service was already paging on before the release is escalated, not rolled back',
    },
    ...(r.guardWindowSeconds !== undefined
      ? [
          {
            minutes: `the first ${formatSeconds(r.guardWindowSeconds)} after the deployment succeeded`,
            judgedBy: r.shadow
              ? 'the guard window (follow-up machine): the page tier on the new version alone; shadow mode only audits a breach (wouldRollback)'
              : 'the guard window (follow-up machine): the page tier on the new version alone, as the evaluator judges it; a breach starts a rollback deployment to the known-good version; a newer deployment ends it',
          },
          { minutes: `after the guard window`, judgedBy: 'nothing rolls back: CodeDeploy polls alarms only during a deployment (paging still pages)' },
        ]
      : [{ minutes: 'after the deployment succeeded', judgedBy: 'nothing rolls back: CodeDeploy polls alarms only during a deployment (paging still pages)' }]),
  );
  return lines;
}

function layoutCostsOf(slo: PolicySlo, policy: RollbackPolicy): PlanLayoutCosts {
  const windowAlarmsUsd = sumUsd(slo.alarms.map((a) => metricAlarmMonthlyUsd(a.metricCount, a.highResolution)));
  const severities = new Set(slo.tiers.map((t) => t.severity)).size;
  const composite = CLOUDWATCH_ALARM_PRICES_USD.composite;
  // A member shares its group's composites, which may hold a severity the member has no tier of.
  const group = slo.group === undefined ? undefined : policy.sloGroups?.find((g) => g.path === slo.group);
  const exactUsd = sumUsd([windowAlarmsUsd, severities * composite]);
  return {
    windowAlarmsUsd,
    exactUsd,
    perTierUsd: sumUsd([exactUsd, slo.tiers.length * composite]),
    nativeAlarmsUsd: exactUsd,
    groupCompositesUsd: sumUsd([(group?.composites.length ?? severities) * composite]),
  };
}

/** The SLO's layout, what it costs, and what the others would. */
function layoutLine(slo: PlanSlo, groupSizes: ReadonlyMap<string, number>): string {
  const c = slo.layoutCosts;
  const usd = (v: number) => `$${v.toFixed(2)}`;
  const members = slo.group !== undefined ? groupSizes.get(slo.group) ?? 1 : undefined;
  const current =
    members !== undefined
      ? `in group ${slo.group} of ${members} SLO${members === 1 ? '' : 's'} (its window alarms ${usd(c.windowAlarmsUsd)} and a share of the group's composites)`
      : slo.alarmLayout === 'per-tier'
        ? `PER_TIER, ${usd(c.perTierUsd)}/month`
        : slo.alarmLayout === 'native'
          ? `NATIVE, ${usd(c.nativeAlarmsUsd)}/month of alarms + the Application Signals SLO`
          : `EXACT, ${usd(c.exactUsd)}/month`;
  return (
    `  Alarm layout: ${current}. Per layout: EXACT ${usd(c.exactUsd)}, PER_TIER ${usd(c.perTierUsd)}, NATIVE ${usd(c.nativeAlarmsUsd)} + the Application Signals SLO ` +
    `(billed by Application Signals), in a ServiceLevelObjectiveGroup of n SLOs ${usd(c.windowAlarmsUsd)} + ${usd(c.groupCompositesUsd)} ÷ n.`
  );
}

function costOf(alarms: ReadonlyArray<Pick<PolicyAlarm, 'metricCount' | 'highResolution'>>, composites: number): PlanCost {
  return {
    metricAlarms: alarms.length,
    highResolutionAlarms: alarms.filter((a) => a.highResolution).length,
    compositeAlarms: composites,
    billedMetrics: alarms.reduce((n, a) => n + a.metricCount, 0),
    monthlyUsd: sumUsd([
      ...alarms.map((a) => metricAlarmMonthlyUsd(a.metricCount, a.highResolution)),
      composites * CLOUDWATCH_ALARM_PRICES_USD.composite,
    ]),
  };
}

function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined) return 'never';
  if (seconds < 3_600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 2 * 86_400) return `${formatNumber(Math.round((seconds / 3_600) * 10) / 10)} h`;
  return `${formatNumber(Math.round((seconds / 86_400) * 10) / 10)} d`;
}

function percent(ratio: number): string {
  return `${formatNumber(Number((ratio * 100).toPrecision(3)))} %`;
}

/** `9 min`, or `5 min … 1.1 h` where the time is a range. */
function formatDetection(d: PlanDetection): string {
  if (d.seconds === undefined) return 'never';
  return d.latestSeconds === undefined ? formatDuration(d.seconds) : `${formatDuration(d.seconds)} … ${formatDuration(d.latestSeconds)}`;
}

/** `9 min (2.08 % budget)`, or `5 min … 1.1 h (11.6 … 148 % budget)` where the time is a range. */
function formatDetectionWithBudget(d: PlanDetection): string {
  if (d.seconds === undefined) return 'never';
  const budget =
    d.latestBudgetSpent === undefined ? percent(d.budgetSpent ?? 0) : `${percent(d.budgetSpent ?? 0).replace(/ %$/, '')} … ${percent(d.latestBudgetSpent)}`;
  return `${formatDetection(d)} (${budget} budget)`;
}

/** The one line that says why some detection times are ranges, naming what they belong to. */
function rangeReason(names: readonly string[]): string {
  return (
    `  ${names.join(', ')}: a range, because CloudWatch evaluates an alarm whose period × evaluation periods exceeds one day only once an hour — ` +
    'it fires up to 59 min after the earliest time, depending on where in the hour the errors start.'
  );
}

function table(rows: readonly string[][]): string[] {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => row[col].length)));
  return rows.map((row) => row.map((cell, col) => cell.padEnd(widths[col])).join('  ').trimEnd());
}

/** The plan's lines for the approval gate, the circuit breaker, post-rollback verification, the guard window and the secondary action, when enabled. */
function humanFlowLines(r: PlanRollbackTrigger): string[] {
  const lines: string[] = [];
    if (r.approvalTimeoutSeconds !== undefined && r.escalateInconclusive) {
      lines.push(
        '  Approval gate: an inconclusive verdict, or a pass during an incident that is not the release\u2019s, waits for `rollback-triggers approve|reject --execution ARN` (the Approval Requested notice has the command).',
      );
    }
    if (r.circuitBreaker) {
      const b = r.circuitBreaker;
      lines.push(
        `  Circuit breaker: more than ${b.maxRollbacks} rollbacks within ${formatSeconds(b.windowSeconds)} open it; then each rollback decision waits up to ${formatSeconds(r.approvalTimeoutSeconds ?? 0)} ` +
          `for a human (no answer: roll back) until someone answers with --close-breaker or ${formatSeconds(b.cooldownSeconds)} pass. The alarm path is never held.`,
      );
    }
    if (r.verifyRollbackSeconds !== undefined) {
      lines.push(
        `  Rollback verification: after each rollback, the restored version is watched ${formatSeconds(r.verifyRollbackSeconds)} on its own traffic → Rollback Verified, or Rollback Unhealthy (escalated${r.circuitBreaker ? ', counted by the breaker' : ''}).`,
      );
    }
    if (r.guardWindowSeconds !== undefined) {
      lines.push(
        `  Guard window: for ${formatSeconds(r.guardWindowSeconds)} after a release succeeds (CodeDeploy polls no alarm then), its page tier is still judged on its own traffic; ` +
          (r.shadow ? 'a breach is only audited (wouldRollback).' : 'a breach starts one rollback deployment to the known-good version (Rollback Triggered, reason guard-window). A newer deployment ends it.'),
      );
    }
    if (r.secondaryActionSeconds !== undefined) {
      lines.push(
        `  Secondary action: when a rollback deployment fails or stops, a direct action on the known-good version (${r.platform === 'lambda' ? 'the alias points at it' : 'a deployment of its task definition'}) ` +
          `waits up to ${formatSeconds(r.secondaryActionSeconds)} for approval (rollback-triggers approve|reject); taken once, never without it.`,
      );
    }
    if (r.shadow) {
      lines.push('  SHADOW mode: never rolls a release back; the audit trail says what it would have done (wouldRollback). The times below are when it would roll back.');
    }
  return lines;
}

/** The plan's `heartbeats` field: present only when the policy has heartbeat triggers. */
function heartbeatsOf(policy: RollbackPolicy, delay: number): { heartbeats?: PlanHeartbeat[] } {
  const heartbeats = planHeartbeats(policy, delay);
  return heartbeats.length > 0 ? { heartbeats } : {};
}

/** Renders a plan as the text the CLI prints. */
export function renderPlan(plan: Plan): string {
  const lines: string[] = [];
  lines.push(`Rollback plan${plan.stack ? ` for stack ${plan.stack}` : ''}`);
  const groupSizes = new Map<string, number>();
  for (const slo of plan.slos) if (slo.group !== undefined) groupSizes.set(slo.group, (groupSizes.get(slo.group) ?? 0) + 1);
  for (const slo of plan.slos) {
    lines.push('');
    lines.push(
      `SLO ${slo.name}: ${formatNumber(slo.objectivePercent)} % over ${formatSeconds(slo.compliancePeriodSeconds)} — ${slo.sliDescription} (${slo.sliScope} traffic)`,
    );
    const ratios = slo.tiers[0]?.detections.map((d) => d.errorRatio) ?? [];
    const header = ['tier', 'windows', 'burn rate', 'error ratio ≥', 'min events', ...ratios.map((r) => `fires at ${percent(r)} errors`)];
    const rows = slo.tiers.map((tier) => [
      tier.name,
      `${formatSeconds(tier.longWindowSeconds)} / ${formatSeconds(tier.shortWindowSeconds)}`,
      `${formatNumber(tier.factor)}×`,
      percent(tier.errorRatioThreshold),
      String(tier.minEventsPerWindow),
      ...tier.detections.map(formatDetectionWithBudget),
    ]);
    lines.push(...table([header, ...rows]).map((l) => `  ${l}`));
    const ranged = slo.tiers.filter((t) => t.detections.some((d) => d.latestSeconds !== undefined)).map((t) => t.name);
    if (ranged.length > 0) lines.push(rangeReason(ranged));
    lines.push(
      "  Measured on the new version's own traffic: a 10 % canary of a version that fails every request is the 100 % column here, where a blended alarm sees 10 %.",
    );
    lines.push(layoutLine(slo, groupSizes));
  }
  if (plan.thresholdTriggers > 0) {
    lines.push('', `Threshold triggers: ${plan.thresholdTriggers}`);
  }
  lines.push(...renderHeartbeats(plan.heartbeats));
  for (const r of plan.rollbackTriggers) {
    lines.push('');
    lines.push(
      `Rollback trigger ${r.name} (${r.platform}): ${r.alarmCount} of at most ${r.maxAlarms} alarms ${r.shadow ? 'created, NOT attached to' : 'on'} the deployment group` +
        `${r.alarmPathSuspended ? ' (alarm path SUSPENDED)' : ''}; evaluator bakes ${formatSeconds(r.bakeSeconds)}, inconclusive → ` +
        (r.approvalTimeoutSeconds === undefined || !r.escalateInconclusive
          ? r.inconclusiveAction
          : `ask a human (approval gate, ${formatSeconds(r.approvalTimeoutSeconds)}; no answer → ${r.inconclusiveAction})`),
    );
    lines.push(...humanFlowLines(r));
    const ratios = r.alarms[0]?.detections.map((d) => d.errorRatio) ?? [];
    const header = ['objective', 'traffic', 'tier', 'burn rate', ...ratios.map((x) => `rolls back at ${percent(x)} errors`)];
    const rows = r.alarms.map((a) => [a.slo, a.scope, a.tier, `${formatNumber(a.factor)}×`, ...a.detections.map(formatDetection)]);
    lines.push(...table([header, ...rows]).map((l) => `  ${l}`));
    if (r.alarmTriggers.length > 0) {
      lines.push(`  Alarm triggers ${r.shadow ? 'for' : 'on'} the deployment group (their own thresholds, not re-scoped to the new version): ${r.alarmTriggers.join(', ')}`);
    }
    const ranged = r.alarms.filter((a) => a.detections.some((d) => d.latestSeconds !== undefined)).map((a) => `${a.slo} ${a.tier}`);
    if (ranged.length > 0) lines.push(rangeReason(ranged));
    lines.push(
      "  Measured on the new version's own traffic: a 10 % canary of a version that fails every request is the 100 % column here, where a blended alarm sees 10 %.",
    );
    lines.push('  Who judges which minutes of a release:');
    for (const c of r.coverage) lines.push(`    ${c.minutes}: ${c.judgedBy}`);
  }
  const c = plan.cost;
  lines.push('');
  lines.push(
    `Alarms: ${c.metricAlarms} metric (${c.highResolutionAlarms} high-resolution, ${c.billedMetrics} billed metrics), ${c.compositeAlarms} composite — ` +
      `$${c.monthlyUsd.toFixed(2)}/month at us-east-1 list prices`,
  );
  lines.push(
    `Detection times assume steady traffic above each tier's minimum events, a clean history and ` +
      (plan.ingestionDelaySeconds > 0 ? `${formatSeconds(plan.ingestionDelaySeconds)} of ingestion delay (included).` : 'no ingestion delay.'),
  );
  return lines.join('\n');
}
