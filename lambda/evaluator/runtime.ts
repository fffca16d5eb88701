import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { CodeDeployClient, DeploymentInfo } from '@aws-sdk/client-codedeploy';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { AuditDetailType, type AuditEventDetail, auditEvent } from '../../lib/core/audit-events';
import type { BakeState, CaughtError } from '../../lib/core/bake';
import { type BreakerRecord, type BreakerSettings, type BreakerTransition, circuitMetricLine, recordRollback } from '../../lib/core/breaker';
import type { Decision, KnownGood } from '../../lib/core/decision';
import { type EvaluatorConfig, EvaluatorEnv } from '../../lib/core/evaluator-config';
import { RollbackTriggersError } from '../../lib/core/errors';
import type { AuditLogger, AuditSink } from '../shared/audit';
import type { DeploymentTargets } from '../shared/codedeploy';
import { type BreakerStore, updateBreaker } from '../shared/state';
import { type Lazy, once } from '../shared/handler-kit';
import { type RetryOptions, errorName, isRetryable, retryUntil, withRetry } from '../shared/retry';

/** SDK clients the steps use. Any not given is created on first use. */
export interface StepClients {
  readonly codedeploy?: CodeDeployClient;
  readonly cloudwatch?: CloudWatchClient;
  readonly dynamodb?: DynamoDBClient;
  readonly lambda?: LambdaClient;
  readonly ecs?: ECSClient;
  readonly events?: EventBridgeClient;
}

/** What the steps need of the known-good store (lambda/shared/state.ts `KnownGoodStore`). */
export interface KnownGoodReader extends BreakerStore {
  /** Throws when the record cannot be read: never "none recorded" on an error. */
  get(applicationName: string, deploymentGroupName: string): Promise<KnownGoodWithHistory | undefined>;
  /** Records a version as known-good (a secondary action that put the alias back on it), unless a later record stands. */
  put(applicationName: string, deploymentGroupName: string, knownGood: KnownGood, source: { deploymentId: string; completedAt: number }, now: number): Promise<unknown>;
  recordFirstBadSignal(deploymentId: string, at: number): Promise<unknown>;
  /** The guard window's and the secondary action's one action: true for the first claim ever. */
  claimAction(claim: string, at: number, owner?: string): Promise<boolean>;
  recordActionResult(claim: string, result: string): Promise<void>;
  actionClaim(claim: string): Promise<{ claimedAt: number; result?: string; owner?: string } | undefined>;
}

/** A known-good record with the deployment that made it and the record it replaced (lambda/shared/state.ts KnownGoodRecord). */
export type KnownGoodWithHistory = KnownGood & { readonly deploymentId?: string; readonly previous?: KnownGood & { readonly deploymentId?: string } };

export interface StepLogger extends AuditLogger {
  info(message: string, extra: Record<string, unknown>): void;
}

export interface StepDeps {
  readonly config: EvaluatorConfig;
  /** DynamoDB table of known-good records and first bad signals. */
  readonly stateTable: string;
  /** EventBridge bus of the audit trail. */
  readonly eventBus: string;
  /** SDK clients (tests pass mocked ones); the rest are created on first use. */
  readonly clients?: StepClients;
  /** @default new KnownGoodStore(dynamodb, stateTable) */
  readonly knownGood?: KnownGoodReader;
  readonly logger: StepLogger;
  /** Epoch seconds. */
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  /** HTTP client for health checks. @default the runtime's fetch */
  readonly fetch?: typeof fetch;
  /** Writes one embedded-metric-format line (the circuit breaker's metric). @default process.stdout */
  readonly emitMetricLine?: (line: string) => void;
  /** Seconds one step may spend retrying AWS calls. @default STEP_RETRY_BUDGET_SECONDS (60) */
  readonly retryBudgetSeconds?: number;
  /** First retry pause. @default 200 */
  readonly retryBaseDelayMs?: number;
}

export type AuditBase = Omit<AuditEventDetail, 'schemaVersion' | 'idempotencyKey' | 'occurredAt' | 'reasons'>;
/** `keySubject`: lib/core/audit-events.ts auditEvent (a decision that names neither a hook nor a rollback). */
export type AuditEntry = { type: AuditDetailType; detail: AuditBase & { reasons: readonly string[] }; keySubject?: string };
export type Report = Decision & { action: 'report' };
type BreakerChange = { record: BreakerRecord; transition?: BreakerTransition };

/** Runtime SDK options: bounded requests, and few SDK-level attempts (the step retries by time itself). */
const CLIENT_OPTIONS = { maxAttempts: 2, requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000 } };

function lazyClient<T>(given: T | undefined, make: () => Promise<T>): Lazy<T> {
  return given ? () => Promise.resolve(given) : once(make);
}

/**
 * What every step uses, created once per Lambda environment: the configuration, the SDK clients and
 * the modules that import SDK commands (both loaded on first use, so module init stays small),
 * time-bounded retries, the audit, and the hand-over of a decision to the machine's report.
 */
export class StepRuntime {
  readonly config: EvaluatorConfig;
  readonly logger: StepLogger;
  readonly cloudwatch: Lazy<CloudWatchClient>;
  readonly lambda: Lazy<LambdaClient>;
  readonly ecs: Lazy<ECSClient>;
  readonly knownGood: Lazy<KnownGoodReader>;
  readonly codedeploy: Lazy<CodeDeployClient>;
  /**
   * CodeDeploy for CreateDeployment: the SDK must not resend it on its own (no idempotency token:
   * after a timeout the deployment may exist); lambda/shared/rollback-actions.ts decides what to resend.
   */
  readonly codedeployOnce: Lazy<CodeDeployClient>;
  private readonly codedeployCalls = once(() => import('../shared/codedeploy.js'));
  private readonly auditSink: Lazy<AuditSink>;

  constructor(readonly deps: StepDeps) {
    const given = deps.clients ?? {};
    this.config = deps.config;
    this.logger = deps.logger;
    this.codedeploy = lazyClient(given.codedeploy, async () => new (await import('@aws-sdk/client-codedeploy')).CodeDeployClient(CLIENT_OPTIONS));
    this.codedeployOnce = lazyClient(given.codedeploy, async () => new (await import('@aws-sdk/client-codedeploy')).CodeDeployClient({ ...CLIENT_OPTIONS, maxAttempts: 1 }));
    this.cloudwatch = lazyClient(given.cloudwatch, async () => new (await import('@aws-sdk/client-cloudwatch')).CloudWatchClient(CLIENT_OPTIONS));
    this.lambda = lazyClient(given.lambda, async () => new (await import('@aws-sdk/client-lambda')).LambdaClient(CLIENT_OPTIONS));
    this.ecs = lazyClient(given.ecs, async () => new (await import('@aws-sdk/client-ecs')).ECSClient(CLIENT_OPTIONS));
    const dynamodb = lazyClient(given.dynamodb, async () => new (await import('@aws-sdk/client-dynamodb')).DynamoDBClient(CLIENT_OPTIONS));
    const events = lazyClient(given.events, async () => new (await import('@aws-sdk/client-eventbridge')).EventBridgeClient(CLIENT_OPTIONS));
    this.knownGood = lazyClient(deps.knownGood, async () => new (await import('../shared/state.js')).KnownGoodStore(await dynamodb(), deps.stateTable));
    this.auditSink = once(async () => (await import('../shared/audit.js')).eventBridgeAudit(await events(), deps.eventBus, deps.logger, deps.sleep));
  }

  /** Epoch seconds. */
  now(): number {
    return this.deps.now();
  }

  emitMetricLine(line: string): void {
    (this.deps.emitMetricLine ?? ((l: string) => process.stdout.write(`${l}\n`)))(line);
  }

  /**
   * The group this trigger guards. RollbackTrigger's evaluatorConfig always names it; a
   * configuration without it is a deployment bug: the step fails loudly, and the machine's
   * Catch-all reports fail-closed.
   */
  guardedGroup(): { applicationName: string; deploymentGroupName: string } {
    const { applicationName, deploymentGroupName } = this.config;
    if (!applicationName || !deploymentGroupName) throw new RollbackTriggersError('RT402', `${EvaluatorEnv.CONFIG} names no applicationName or deploymentGroupName`);
    return { applicationName, deploymentGroupName };
  }

  /** Time-bounded retries: until `until` (the step's budget, never past the report's last chance). */
  retry(until: number): RetryOptions {
    return retryUntil(until, this.deps, (error, attempt) => this.logger.warn('AWS call failed; retrying', { error: describeError(error), attempt }), this.deps.retryBaseDelayMs);
  }

  /** An AWS failure is expected and decided by the rules; anything else is a bug: crash, let the machine retry. */
  expected(e: unknown): string {
    const err = e as { $metadata?: unknown } | undefined;
    if (err?.$metadata === undefined && !isRetryable(e, true) && errorName(e) !== 'TooManyPages' && errorName(e) !== 'MalformedRecordError') throw e;
    return describeError(e);
  }

  async getDeployment(deploymentId: string, until: number): Promise<DeploymentInfo> {
    const [{ getDeployment }, client] = await Promise.all([this.codedeployCalls(), this.codedeploy()]);
    return withRetry(() => getDeployment(client, deploymentId), this.retry(until));
  }

  async findTargets(deploymentId: string, until: number): Promise<DeploymentTargets> {
    const [{ findTargets }, client] = await Promise.all([this.codedeployCalls(), this.codedeploy()]);
    return withRetry(() => findTargets(client, deploymentId), this.retry(until));
  }

  /** Never throws: an audit failure never delays or flips a decision. */
  async publish(entries: readonly AuditEntry[]): Promise<void> {
    const at = new Date(this.now() * 1000);
    const built = entries.map((e) => auditEvent(e.type, e.detail, at, e.keySubject));
    try {
      await (await this.auditSink()).publish(built);
    } catch (e) {
      for (const event of built) this.logger.error('audit event not delivered', { auditFallback: event, error: errorName(e) });
    }
  }

  /** What every audit event of the hook names. */
  auditBase(state: BakeState): AuditBase {
    const c = state.context ?? {};
    return compact({
      deploymentId: state.deploymentId,
      lifecycleEventHookExecutionId: state.lifecycleEventHookExecutionId,
      // This trigger's own group, not the deployment's: the notices rule matches on it, and a
      // deployment that could not be read (or of a foreign group, named in the reasons) must still
      // reach the topic.
      applicationName: this.config.applicationName,
      deploymentGroupName: this.config.deploymentGroupName,
      lifecycleEvent: c.lifecycleEvent,
      fromVersion: c.fromVersion,
      toVersion: c.toVersion,
    });
  }

  /**
   * Writes a change of the group's circuit breaker (a conditional write, read again on a lost race);
   * a transition is audited (`Circuit Opened` / `Circuit Closed`) and sets the `CircuitOpen` metric.
   * Returns the transition, if any. Throws what the store throws: the caller decides what it costs.
   */
  async changeBreaker(state: BakeState, change: (record: BreakerRecord, now: number, settings: BreakerSettings) => BreakerChange | undefined, until: number): Promise<BreakerTransition | undefined> {
    const settings = this.config.breaker;
    if (!settings) return undefined;
    const { applicationName, deploymentGroupName } = this.guardedGroup();
    const now = this.now();
    const store = await this.knownGood();
    const written = await withRetry(() => updateBreaker(store, applicationName, deploymentGroupName, (record) => change(record, now, settings)), this.retry(until));
    const transition = written?.transition;
    if (!transition) return undefined;
    this.emitMetricLine(circuitMetricLine(deploymentGroupName, transition.to === 'open', now));
    const { lifecycleEventHookExecutionId: _hook, ...base } = this.auditBase(state);
    await this.publish([{ type: transition.to === 'open' ? AuditDetailType.CIRCUIT_OPENED : AuditDetailType.CIRCUIT_CLOSED, detail: { ...base, reasons: [transition.reason] } }]);
    return transition;
  }

  /**
   * A rollback the follow-up machine saw or started (an unhealthy restored version, a guard window's
   * rollback) counted by the circuit breaker under `key` (a repeat counts once); a failure is logged
   * and returned as a note for the audit's reasons. Nothing without a breaker.
   */
  async countRollback(state: BakeState, key: string, what: string, until: number): Promise<string[]> {
    if (!this.config.breaker) return [];
    try {
      await this.changeBreaker(state, (record, now, settings) => recordRollback(record, key, now, now, settings), until);
      return [];
    } catch (e) {
      this.logger.warn(`could not count ${what} in the circuit breaker`, { error: describeError(e) });
      return [`it could not be counted by the circuit breaker (${describeError(e)})`];
    }
  }

  /** What the follow-up machine's audit events name: the bake's base without a hook (they answer none). */
  unhookedBase(state: BakeState): Omit<AuditBase, 'lifecycleEventHookExecutionId' | 'lifecycleEvent'> {
    const { lifecycleEventHookExecutionId: _hook, lifecycleEvent: _event, ...rest } = this.auditBase(state);
    return rest;
  }
}

/** The next state: the input with `patch`, without fields that no longer apply. */
export function out(state: BakeState, patch: Partial<BakeState>): BakeState {
  const next: Record<string, unknown> = { ...state, ...patch };
  if (next.next !== 'wait') delete next.waitSeconds;
  if (next.next !== 'report' && next.next !== 'approve' && next.phase === 'tick') delete next.report;
  // The question travels only while it is asked and answered.
  if (next.next !== 'approve' && next.phase !== 'approval') delete next.approval;
  return compact(next) as unknown as BakeState;
}

/** Drops `undefined` fields: the state travels as JSON. */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

export function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}

export function describeError(e: unknown): string {
  const message = (e as Error | undefined)?.message;
  const name = errorName(e);
  return message && message !== name ? `${name}: ${clip(message, 300)}` : name;
}

/** What a Catch of the machine put on the state (the report's error), for a reason. */
export function describeCaught(error: CaughtError | undefined, unnamed: string): string {
  return `${error?.Error ?? unnamed}${error?.Cause ? `: ${clip(error.Cause, 500)}` : ''}`;
}
