import type { ApprovalSettings } from './approval';
import { type BreakerSettings, breakerSettingsProblem } from './breaker';
import { MIN_APPROVAL_SECONDS } from './approval';
import { RollbackTriggersError } from './errors';
import { type EvaluatorHeartbeat, heartbeatConfigProblem } from './heartbeat';

/**
 * What the constructs hand to the evaluator Lambda: environment variable names and the JSON
 * configuration it reads. Shared here so the bundle never imports aws-cdk-lib.
 */
export const EvaluatorEnv = {
  /** JSON {@link EvaluatorConfig}. Lambda allows 4 KB of environment in total. */
  CONFIG: 'RT_EVALUATOR_CONFIG',
  /** DynamoDB table: known-good versions and first bad signals (what outlives a bake). */
  STATE_TABLE: 'RT_STATE_TABLE',
  /** Name or ARN of the EventBridge bus that receives audit events. */
  EVENT_BUS: 'RT_EVENT_BUS',
} as const;

/**
 * The configuration's shape. 2: an SLO's numerator may be metric math (`numeratorMath`). The
 * construct and the handler ship together, so an evaluator refuses any other version.
 */
export const EVALUATOR_CONFIG_SCHEMA_VERSION = 2;
/** Lambda's limit on the total size of a function's environment variables. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

export interface MetricSpec {
  readonly namespace: string;
  readonly metricName: string;
  /** Index into {@link EvaluatorConfig.dimensionSets}: SLOs of one target share their dimensions. */
  readonly dimensionSet: number;
  /**
   * Statistic per one-minute datapoint: Sum or SampleCount, summable over minutes. A share such as
   * percentile rank `PR(:x)` is not summable: it is read only as a part of {@link NumeratorMath},
   * which turns it into a count minute by minute.
   */
  readonly stat: string;
}

/** A metric a {@link NumeratorMath} reads: its name and statistic; namespace and dimensions are the total's. */
export interface MetricPart {
  readonly metricName: string;
  readonly stat: string;
}

/**
 * A numerator no single metric publishes, computed by CloudWatch metric math from one-minute
 * datapoints in the tick's GetMetricData call, exactly as the rollback alarm computes it over its
 * window: an ALB target group's failed requests (its targets' 5xx plus the requests that got no
 * target response), or the requests slower than a latency threshold (the total times the share
 * above the threshold, from percentile rank).
 */
export interface NumeratorMath {
  /**
   * The expression, `{name}` standing for the query of part `name` and `{total}` for the SLO's
   * total, for example `FLOOR({total} * (100 - FILL({pr}, 100)) / 100 + 0.5)`.
   */
  readonly expression: string;
  /**
   * The metrics it reads besides the total, by name (a lowercase letter, then lowercase letters and
   * digits). They share the total's namespace and dimension set (the configuration must fit in
   * Lambda's 4 KB of environment), so only their names and statistics are stored.
   */
  readonly parts: Readonly<Record<string, MetricPart>>;
}

/** One SLO as the evaluator judges it during a bake, on one version's own traffic. */
export interface EvaluatorSlo {
  readonly name: string;
  readonly errorBudget: number;
  /** Burn rate that fails the bake: the fastest page tier's factor (14.4 for the workbook). */
  readonly failBurnRate: number;
  /** The short window that must also burn (the fastest page tier's short window). */
  readonly shortWindowSeconds: number;
  /** Events the new version must serve during the bake before it can pass or fail on this SLO. */
  readonly minEvents: number;
  /** `bad`: numerator counts failures; `good`: numerator counts successes. */
  readonly numeratorKind: 'bad' | 'good';
  /** The numerator when one metric counts it; exactly one of `numerator` and `numeratorMath` is set. */
  readonly numerator?: MetricSpec;
  /** The numerator when metric math over the total and a few more metrics of the same traffic counts it. */
  readonly numeratorMath?: NumeratorMath;
  readonly total: MetricSpec;
  /**
   * The dimension the SLO's metrics carry the version in, when it is not Lambda's `ExecutedVersion`
   * (`Version`: an agent's self-evaluations, a log pattern's lines). Each arm's version is read
   * into it, and the arm's other dimensions (an ECS target group's) are not added: these metrics
   * have none. On arms without a version (ECS) the new version is the one the SLO declares and the
   * current one is not read (`readsArm`, lib/core/metric-queries.ts). Absent: the arm's dimensions
   * are added as they are.
   */
  readonly versionDimension?: string;
  /**
   * true: the SLO's metrics carry neither the version nor a target group (a custom metric without a
   * version dimension, a log pattern's lines without `versionField`, a function's metrics without
   * its alias), as its rollback alarm (scope `declared`) reads them. They are read as declared,
   * once: the arm's dimensions would name a combination CloudWatch never published ("If a specific
   * combination of dimensions was not published, you can't retrieve statistics for it",
   * GetMetricStatistics API reference, Dimensions). What they count is the whole service's, so only
   * the minutes after all traffic reached the new version are its own (`bakeDataFor`). Absent:
   * the arm's dimensions are added ({@link versionDimension}).
   */
  readonly declared?: boolean;
}

export interface EvaluatorTargetGroup {
  /** The target group's name, as CodeDeploy reports it in `taskSetsInfo[].targetGroup.name`. */
  readonly name: string;
  /** Dimensions of its ALB metrics (`TargetGroup`, `LoadBalancer`). */
  readonly dimensions: Readonly<Record<string, string>>;
}

/** A health check run on every bake tick, besides the SLOs. */
export interface EvaluatorHealthCheck {
  readonly kind: 'http' | 'synthetics';
  readonly name: string;
  /** http: the URL probed with GET; a status from 200 to 399 passes. */
  readonly url?: string;
  readonly timeoutMs?: number;
  /** http: consecutive failed probes that fail the bake ("3 consecutive failures"). */
  readonly failAfter?: number;
  /** synthetics: the CloudWatch Synthetics canary whose SuccessPercent is read. */
  readonly canaryName?: string;
  /** synthetics: any run below this share of successful steps since traffic shifted fails the bake. */
  readonly minSuccessPercent?: number;
}

export interface EvaluatorConfig {
  readonly schemaVersion: typeof EVALUATOR_CONFIG_SCHEMA_VERSION;
  readonly platform: 'lambda' | 'ecs';
  /**
   * `shadow`: judge and audit as usual, but report Succeeded where the verdict would fail the hook
   * (audited with `wouldRollback`). The constructs always set it.
   */
  readonly mode: 'enforce' | 'shadow';
  /**
   * The CodeDeploy application and deployment group this trigger guards. A hook of a deployment of
   * any other group is refused with an escalation: its metrics are not this trigger's, and the
   * evaluator's IAM is scoped to its own group. The constructs always set both; the evaluator's
   * step refuses a configuration without them (fail closed).
   */
  readonly applicationName?: string;
  readonly deploymentGroupName?: string;
  /** How long the new version's own traffic is watched after traffic shifts. */
  readonly bakeSeconds: number;
  /** Seconds between metric reads during the bake. */
  readonly tickSeconds: number;
  /**
   * What an inconclusive bake (too little data) reports: `fail` (default, fail closed) or `pass`.
   * With `approval`, what it reports when nobody answers.
   */
  readonly inconclusiveAction: 'fail' | 'pass';
  /**
   * The approval gate: inconclusive verdicts (and passes during a pre-existing incident) ask a
   * human first when `approval.escalateInconclusive`; rollbacks ask while the breaker is open.
   */
  readonly approval?: ApprovalSettings;
  /** The circuit breaker (needs `approval`): a rollback asks a human first while it is open. */
  readonly breaker?: BreakerSettings;
  /** Report at the latest this long before CodeDeploy's one-hour hook limit. */
  readonly deadlineMarginSeconds: number;
  /** CloudWatch ingestion delay: minutes newer than this are not trusted to be complete. */
  readonly metricDelaySeconds: number;
  /** Compare the new version with the current one (canary judge) as well as with the budget. */
  readonly compareWithBaseline: boolean;
  /**
   * The page-rate failure counts only while the new version fails more than this many times as
   * often as the current version on the same minutes (as the rollback alarms do); 0 or absent:
   * the burn rate alone.
   */
  readonly baselineFactor?: number;
  readonly slos: readonly EvaluatorSlo[];
  /**
   * Metric dimensions, stored once and referenced by index (the whole configuration must fit in
   * Lambda's 4 KB of environment). The per-arm dimensions (ExecutedVersion, TargetGroup) are added
   * at run time.
   */
  readonly dimensionSets: ReadonlyArray<Readonly<Record<string, string>>>;
  /** Health checks run on every bake tick. */
  readonly healthChecks?: readonly EvaluatorHealthCheck[];
  /**
   * Heartbeats (`HeartbeatTrigger`s given in `alarmTriggers`) judged on every bake tick: a missing
   * beat of the new version is a failure, not "no data" (lib/core/heartbeat.ts).
   */
  readonly heartbeats?: readonly EvaluatorHeartbeat[];
  /** ECS: the two target groups whose traffic CodeDeploy swaps. */
  readonly targetGroups?: readonly EvaluatorTargetGroup[];
}

/** CodeDeploy fails a hook that has not reported within one hour. */
export const HOOK_LIMIT_SECONDS = 3_600;
/** One Lambda invocation runs at most 15 minutes. */
export const LAMBDA_MAX_TIMEOUT_SECONDS = 900;

/**
 * Parses and checks the configuration; throws with the field at fault. A deploy-time bug, not user
 * input: the step fails, and the bake machine's catch-all reports it fail-closed.
 */
export function parseEvaluatorConfig(text: string | undefined): EvaluatorConfig {
  if (!text) throw new RollbackTriggersError('RT402', `${EvaluatorEnv.CONFIG} is not set`);
  const config = parseJson(text);
  if (config.schemaVersion !== EVALUATOR_CONFIG_SCHEMA_VERSION) {
    throw new RollbackTriggersError('RT403', `${EvaluatorEnv.CONFIG} has schemaVersion ${String(config.schemaVersion)}, this evaluator reads ${EVALUATOR_CONFIG_SCHEMA_VERSION}`);
  }
  if (config.mode !== 'enforce' && config.mode !== 'shadow') {
    // Fail closed: a configuration that does not say it is a shadow is not read as one.
    throw new RollbackTriggersError('RT402', `${EvaluatorEnv.CONFIG} has mode ${JSON.stringify(config.mode)}, expected "enforce" or "shadow"`);
  }
  if (!Array.isArray(config.slos) || config.slos.length === 0) throw new RollbackTriggersError('RT402', `${EvaluatorEnv.CONFIG} names no SLO`);
  const wait = config.approval?.timeoutSeconds;
  if (config.approval !== undefined && !(Number.isInteger(wait) && wait! >= MIN_APPROVAL_SECONDS && wait! <= HOOK_LIMIT_SECONDS)) {
    throw new RollbackTriggersError('RT402', `${EvaluatorEnv.CONFIG} has approval.timeoutSeconds ${JSON.stringify(wait)}, expected whole seconds from ${MIN_APPROVAL_SECONDS} to ${HOOK_LIMIT_SECONDS}`);
  }
  if (config.breaker !== undefined) {
    const problem = breakerSettingsProblem(config.breaker);
    if (problem) throw new RollbackTriggersError('RT402', `${EvaluatorEnv.CONFIG} has breaker ${problem}`);
    // Fail closed on the configuration, never on a rollback: a breaker without a gate cannot ask.
    if (config.approval === undefined) throw new RollbackTriggersError('RT402', `${EvaluatorEnv.CONFIG} has a breaker without approval (the breaker asks through the approval gate)`);
  }
  config.slos.forEach((slo, i) => {
    const problem = numeratorProblem(slo) ?? scopeProblem(slo);
    if (problem) throw new RollbackTriggersError('RT402', `${EvaluatorEnv.CONFIG}: slos[${i}] (${slo.name}) ${problem}`);
  });
  const heartbeatProblem = heartbeatConfigProblem(config.heartbeats);
  if (heartbeatProblem) throw new RollbackTriggersError('RT402', `${EvaluatorEnv.CONFIG}: ${heartbeatProblem}`);
  return config;
}

function parseJson(text: string): EvaluatorConfig {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (e) {
    throw new RollbackTriggersError('RT402', `${EvaluatorEnv.CONFIG} is not JSON: ${(e as Error).message}`);
  }
  if (config === null || typeof config !== 'object') throw new RollbackTriggersError('RT402', `${EvaluatorEnv.CONFIG} is not a JSON object`);
  return config as EvaluatorConfig;
}

/**
 * Why an SLO's scope cannot be read, or undefined: `declared` a boolean, and not with a version
 * dimension (a metric carrying the version is read per version).
 */
export function scopeProblem(slo: Pick<EvaluatorSlo, 'declared' | 'versionDimension'>): string | undefined {
  if (slo.declared !== undefined && typeof slo.declared !== 'boolean') return `has declared ${JSON.stringify(slo.declared)}, expected true or false`;
  if (slo.declared === true && slo.versionDimension !== undefined) {
    return `is declared (read as declared) and has versionDimension ${JSON.stringify(slo.versionDimension)}: one or the other`;
  }
  return undefined;
}

/** A part's name: it becomes the suffix of a GetMetricData query id (lowercase letters and digits, a letter first; no underscore, which separates the id's parts). */
const PART_NAME = /^[a-z][a-z0-9]*$/;

/** Why an SLO's numerator cannot be read, or undefined: one of `numerator` and `numeratorMath`, well formed. */
export function numeratorProblem(slo: Pick<EvaluatorSlo, 'numerator' | 'numeratorMath'>): string | undefined {
  if ((slo.numerator === undefined) === (slo.numeratorMath === undefined)) return 'needs exactly one of numerator and numeratorMath';
  const math = slo.numeratorMath;
  if (!math) return undefined;
  const names = Object.keys(math.parts ?? {});
  if (names.length === 0) return 'has a numeratorMath without parts';
  const badName = names.find((n) => !PART_NAME.test(n) || n === 'total');
  if (badName !== undefined) return `has a numeratorMath part named "${badName}": use a lowercase letter, then lowercase letters and digits, and not "total"`;
  const unknown = [...math.expression.matchAll(/\{([^}]*)\}/g)].map((m) => m[1]).find((n) => n !== 'total' && !names.includes(n));
  if (unknown !== undefined) return `has a numeratorMath expression naming {${unknown}}, which is neither a part nor {total}`;
  return undefined;
}
