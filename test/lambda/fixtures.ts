/**
 * A small, faithful model of the AWS services the evaluator talks to, for handler tests.
 *
 * Every SDK client is a real v3 client whose `send` is replaced by aws-sdk-client-mock, so the
 * SDK's own retries never run: what survives a fault here is the handler's `withRetry`. The fakes
 * keep the state that matters for correctness:
 * - CodeDeploy accepts ONE status per hook execution; a second PutLifecycleEventHookExecutionStatus
 *   fails with LifecycleEventAlreadyCompletedException, as the API does.
 * - DynamoDB is an in-memory table that evaluates the condition and update expressions the state
 *   store sends (attribute_not_exists, equality, SET), rejects unknown syntax, unused placeholders
 *   and bare reserved words, and upserts on UpdateItem like the real service.
 * - CloudWatch answers GetMetricData with one-minute datapoints for the query ids it is sent,
 *   honouring StartTime (inclusive) and EndTime (exclusive), optionally across two pages.
 * Faults are injected per operation: the next N calls fail (optionally after the write applied,
 * like a timeout whose request reached the service), or every call fails.
 */
import {
  CloudWatchClient,
  GetMetricDataCommand,
  type GetMetricDataCommandInput,
  type GetMetricDataCommandOutput,
  type MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import {
  BatchGetDeploymentTargetsCommand,
  CodeDeployClient,
  type DeploymentCreator,
  type DeploymentInfo,
  GetDeploymentCommand,
  LifecycleEventAlreadyCompletedException,
  ListDeploymentTargetsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
  type PutLifecycleEventHookExecutionStatusCommandInput,
} from '@aws-sdk/client-codedeploy';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  type GetItemCommandInput,
  PutItemCommand,
  type PutItemCommandInput,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry, type PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import { GetFunctionCommand, InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { mockClient } from 'aws-sdk-client-mock';
import { expect, vi } from 'vitest';
import { AUDIT_EVENT_SOURCE, type AuditDetailType, type AuditEventDetail, type EvaluatorConfig } from '../../lib/core';
import { type ContinuationEvent, createHandler, type EvaluatorEvent, type HookEvent, type StateChangeEvent } from '../../lambda/evaluator/index';

// ---------------------------------------------------------------------------------------------
// Constants of the scenario: one Lambda function behind the alias `live`, version 1 → 2.

export const CLIENT_CONFIG = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } };
/** The moment CodeDeploy invokes the hook: a whole minute, epoch seconds (2026-01-15T12:00:00Z). */
export const T0 = Date.UTC(2026, 0, 15, 12, 0, 0) / 1000;
/** The deployment started (and traffic began shifting) ten minutes before the AfterAllowTraffic hook. */
export const CREATED_AT = T0 - 600;
export const DEPLOYMENT_ID = 'd-RELEASE001';
export const HOOK_ID = 'hook-exec-0001-after';
export const APPLICATION = 'orders-app';
export const DEPLOYMENT_GROUP = 'orders-dg';
export const FUNCTION_NAME = 'orders-fn';
export const ALIAS = 'live';
export const EVENT_BUS = 'rollback-audit';
export const STATE_TABLE = 'rollback-state';
export const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:rollback-evaluator';
export const SHA_V1 = 'v1sha256AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';
export const SHA_V2 = 'v2sha256BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB=';

/** 99.9 % availability on the function's own per-version traffic. */
export function lambdaConfig(overrides: Partial<EvaluatorConfig> = {}): EvaluatorConfig {
  const dimensions = { FunctionName: FUNCTION_NAME, Resource: `${FUNCTION_NAME}:${ALIAS}` };
  return {
    schemaVersion: 1,
    platform: 'lambda',
    bakeSeconds: 600,
    tickSeconds: 60,
    inconclusiveAction: 'fail',
    deadlineMarginSeconds: 300,
    metricDelaySeconds: 180,
    compareWithBaseline: false,
    slos: [
      {
        name: 'orders-availability',
        errorBudget: 0.001,
        failBurnRate: 14.4,
        shortWindowSeconds: 300,
        minEvents: 70,
        numeratorKind: 'bad',
        numerator: { namespace: 'AWS/Lambda', metricName: 'Errors', dimensionSet: 0, stat: 'Sum' },
        total: { namespace: 'AWS/Lambda', metricName: 'Invocations', dimensionSet: 0, stat: 'Sum' },
      },
    ],
    dimensionSets: [dimensions],
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------
// Errors as the SDK raises them.

type AwsLikeError = Error & { $metadata: { httpStatusCode?: number }; $fault: 'client' | 'server' };

export function awsError(name: string, httpStatusCode: number, message = name): AwsLikeError {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode }, $fault: httpStatusCode >= 500 ? ('server' as const) : ('client' as const) });
}
export const throttling = () => awsError('ThrottlingException', 400, 'Rate exceeded');
/** A 5xx whose name none of the retry lists knows: only the status code makes it retryable. */
export const serverError = () => awsError('UnknownError', 500, 'We encountered an internal error. Please try again.');
export const timeout = () => Object.assign(new Error('Connection timed out after 3000 ms'), { name: 'TimeoutError' });
/** IAM not yet propagated: CloudWatch says AccessDenied, the JSON APIs AccessDeniedException. */
export const accessDenied = (name = 'AccessDenied') => awsError(name, 403, 'User is not authorized to perform this action');

export type Op =
  | 'GetDeployment'
  | 'ListDeploymentTargets'
  | 'BatchGetDeploymentTargets'
  | 'PutLifecycleEventHookExecutionStatus'
  | 'GetMetricData'
  | 'PutItem'
  | 'GetItem'
  | 'UpdateItem'
  | 'GetFunction'
  | 'Invoke'
  | 'PutEvents';

interface QueuedFault {
  readonly error: Error;
  /** The request reached the service and took effect; only the response was lost (timeouts). */
  readonly applied: boolean;
}

// ---------------------------------------------------------------------------------------------
// Metric traffic: value of a query id (`s0_canary_n`, `s0_baseline_t`, ...) for one minute.

export type TrafficModel = (queryId: string, minute: number) => number | undefined;

export const traffic = {
  /** Both versions serve `perMinute` invocations without an error. */
  clean:
    (perMinute = 1_000): TrafficModel =>
    (id) =>
      id.endsWith('_t') ? perMinute : 0,
  /** The new version fails `errorRate` of its requests; the current one is healthy. */
  broken:
    (errorRate = 0.3, perMinute = 1_000): TrafficModel =>
    (id) =>
      id.endsWith('_t') ? perMinute : id.startsWith('s0_canary') ? perMinute * errorRate : 0,
  /** No datapoints at all (misdimensioned metric, or no traffic). */
  none: (): TrafficModel => () => undefined,
};

// ---------------------------------------------------------------------------------------------
// The DynamoDB table.

type Item = Record<string, AttributeValue>;

/** The reserved words an expression of this table could plausibly hit (subset of DynamoDB's list). */
const RESERVED = new Set(['AT', 'DATA', 'NAME', 'OWNER', 'SEQUENCE', 'STATE', 'STATUS', 'TIMESTAMP', 'TTL', 'USER', 'VALUE', 'VERSION', 'COUNT', 'SIZE', 'KEY', 'TOKEN', 'LEASE']);

export class FakeTable {
  readonly items = new Map<string, Item>();

  get(pk: string): Item | undefined {
    return this.items.get(pk);
  }

  putItem(input: PutItemCommandInput): object {
    const item = input.Item!;
    const pk = item.pk?.S;
    if (!pk) throw awsError('ValidationException', 400, 'One of the required keys was not given a value');
    const resolve = this.resolver(input.ExpressionAttributeNames, input.ExpressionAttributeValues, [input.ConditionExpression]);
    if (!this.conditionHolds(input.ConditionExpression, this.items.get(pk), resolve)) throw conditionFailed();
    this.items.set(pk, structuredClone(item));
    return {};
  }

  getItem(input: GetItemCommandInput): { Item?: Item } {
    const item = this.items.get(input.Key!.pk!.S!);
    return item ? { Item: structuredClone(item) } : {};
  }

  updateItem(input: UpdateItemCommandInput): object {
    const pk = input.Key!.pk!.S!;
    const existing = this.items.get(pk);
    const resolve = this.resolver(input.ExpressionAttributeNames, input.ExpressionAttributeValues, [input.ConditionExpression, input.UpdateExpression]);
    if (!this.conditionHolds(input.ConditionExpression, existing, resolve)) throw conditionFailed();
    const match = /^\s*SET\s+(.+)$/i.exec(input.UpdateExpression ?? '');
    if (!match) throw new Error(`fake table: unsupported UpdateExpression ${input.UpdateExpression}`);
    // UpdateItem creates the item when it does not exist (and the condition allowed it).
    const next: Item = structuredClone(existing ?? { pk: { S: pk } });
    for (const clause of match[1].split(',')) {
      const assignment = /^\s*([#\w]+)\s*=\s*(:\w+)\s*$/.exec(clause);
      if (!assignment) throw new Error(`fake table: unsupported SET clause ${clause}`);
      next[resolve.name(assignment[1])] = structuredClone(resolve.value(assignment[2]));
    }
    this.items.set(pk, next);
    return {};
  }

  private resolver(names: Record<string, string> | undefined, values: Record<string, AttributeValue> | undefined, expressions: Array<string | undefined>) {
    const text = expressions.filter(Boolean).join(' ');
    // DynamoDB rejects placeholders that no expression uses.
    for (const key of Object.keys(names ?? {})) if (!text.includes(key)) throw awsError('ValidationException', 400, `Value provided in ExpressionAttributeNames unused in expressions: keys: {${key}}`);
    for (const key of Object.keys(values ?? {})) if (!text.includes(key)) throw awsError('ValidationException', 400, `Value provided in ExpressionAttributeValues unused in expressions: keys: {${key}}`);
    return {
      name(token: string): string {
        if (token.startsWith('#')) {
          const resolved = names?.[token];
          if (!resolved) throw awsError('ValidationException', 400, `An expression attribute name used in the document path is not defined; attribute name: ${token}`);
          return resolved;
        }
        if (RESERVED.has(token.toUpperCase())) throw awsError('ValidationException', 400, `Attribute name is a reserved keyword; reserved keyword: ${token}`);
        return token;
      },
      value(token: string): AttributeValue {
        const v = values?.[token];
        if (!v) throw awsError('ValidationException', 400, `An expression attribute value used in expression is not defined; attribute value: ${token}`);
        return v;
      },
    };
  }

  private conditionHolds(condition: string | undefined, item: Item | undefined, resolve: ReturnType<FakeTable['resolver']>): boolean {
    if (!condition) return true;
    return condition.split(/\s+AND\s+/i).every((clause) => {
      const fn = /^\s*attribute_(not_)?exists\(\s*([#\w]+)\s*\)\s*$/.exec(clause);
      if (fn) {
        const present = item?.[resolve.name(fn[2])] !== undefined;
        return fn[1] ? !present : present;
      }
      const eq = /^\s*([#\w]+)\s*=\s*(:\w+)\s*$/.exec(clause);
      if (eq) return JSON.stringify(item?.[resolve.name(eq[1])]) === JSON.stringify(resolve.value(eq[2]));
      throw new Error(`fake table: unsupported ConditionExpression clause ${clause}`);
    });
  }
}

function conditionFailed(): ConditionalCheckFailedException {
  return new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: { httpStatusCode: 400 } });
}

// ---------------------------------------------------------------------------------------------
// The world: clock, services, handler.

export interface DeploymentModel {
  info: DeploymentInfo;
  /** Status returned by the n-th GetDeployment of this deployment (the last one repeats). */
  statuses: string[];
  reads: number;
}

export interface WorldOptions {
  readonly config?: Partial<EvaluatorConfig>;
  readonly lifecycleEvent?: 'BeforeAllowTraffic' | 'AfterAllowTraffic';
  readonly creator?: string;
  readonly traffic?: TrafficModel;
  /** The HTTP client health checks use. */
  readonly fetch?: typeof fetch;
}

export type Ctx = { getRemainingTimeInMillis(): number; invokedFunctionArn: string };

export class World {
  /** Epoch seconds; `sleep` advances it, so a bake of ten minutes runs in microseconds. */
  now = T0;
  readonly config: EvaluatorConfig;
  lifecycleEvent: 'BeforeAllowTraffic' | 'AfterAllowTraffic';
  versions = { current: '1', target: '2' };
  /** Lambda versions that exist, with their CodeSha256. */
  readonly functionVersions = new Map<string, string>([
    ['1', SHA_V1],
    ['2', SHA_V2],
  ]);
  readonly deployments = new Map<string, DeploymentModel>();
  trafficModel: TrafficModel;
  /** Split every GetMetricData answer into two pages (NextToken). */
  metricPages: 1 | 2 = 1;
  /** CodeDeploy's record of hook outcomes: the first status reported wins. */
  readonly hookOutcomes = new Map<string, 'Succeeded' | 'Failed'>();
  readonly accepted: Array<{ hookId: string; status: string; at: number }> = [];
  readonly table = new FakeTable();
  /** PutEvents entries EventBridge accepted. */
  readonly delivered: PutEventsRequestEntry[] = [];
  /** Per-entry error code EventBridge answers for the n-th PutEvents call (0-based), if any. */
  putEventsEntryError?: (entry: PutEventsRequestEntry, call: number, index: number) => string | undefined;
  private putEventsCounter = 0;
  readonly sleeps: number[] = [];

  readonly codedeploy = new CodeDeployClient(CLIENT_CONFIG);
  readonly cloudwatch = new CloudWatchClient(CLIENT_CONFIG);
  readonly dynamodb = new DynamoDBClient(CLIENT_CONFIG);
  readonly lambda = new LambdaClient(CLIENT_CONFIG);
  readonly ecs = new ECSClient(CLIENT_CONFIG);
  readonly events = new EventBridgeClient(CLIENT_CONFIG);
  readonly cd = mockClient(this.codedeploy);
  readonly cw = mockClient(this.cloudwatch);
  readonly ddb = mockClient(this.dynamodb);
  readonly lam = mockClient(this.lambda);
  readonly ecsMock = mockClient(this.ecs);
  readonly eb = mockClient(this.events);

  readonly logger = new Logger({ serviceName: 'rollback-evaluator-test', logLevel: 'SILENT' });
  readonly metrics = new Metrics({ namespace: 'RollbackTriggersTest', serviceName: 'rollback-evaluator-test' });
  readonly errorLog = vi.spyOn(this.logger, 'error');
  readonly addMetric = vi.spyOn(this.metrics, 'addMetric');
  readonly handler: ReturnType<typeof createHandler>;

  private readonly opCounts = new Map<Op, number>();
  private readonly queued = new Map<Op, QueuedFault[]>();
  private readonly always = new Map<Op, () => Error>();

  constructor(options: WorldOptions = {}) {
    this.config = lambdaConfig(options.config);
    this.lifecycleEvent = options.lifecycleEvent ?? 'AfterAllowTraffic';
    this.trafficModel = options.traffic ?? traffic.clean();
    this.addDeployment(DEPLOYMENT_ID, { creator: (options.creator ?? 'user') as DeploymentCreator, createTime: new Date(CREATED_AT * 1000) }, ['InProgress']);
    vi.spyOn(this.metrics, 'publishStoredMetrics').mockImplementation(() => this.metrics); // no EMF on stdout
    // Deterministic retry jitter.
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    this.wire();
    this.handler = createHandler({
      config: this.config,
      stateTable: STATE_TABLE,
      eventBus: EVENT_BUS,
      codedeploy: this.codedeploy,
      cloudwatch: this.cloudwatch,
      dynamodb: this.dynamodb,
      lambda: this.lambda,
      ecs: this.ecs,
      events: this.events,
      logger: this.logger,
      metrics: this.metrics,
      now: () => this.now,
      sleep: async (ms) => {
        this.sleeps.push(ms);
        this.now += ms / 1000;
      },
      fetch: options.fetch,
    });
  }

  addDeployment(deploymentId: string, info: Partial<DeploymentInfo>, statuses: string[]): DeploymentModel {
    const model: DeploymentModel = {
      info: { deploymentId, applicationName: APPLICATION, deploymentGroupName: DEPLOYMENT_GROUP, computePlatform: 'Lambda', creator: 'user', ...info },
      statuses,
      reads: 0,
    };
    this.deployments.set(deploymentId, model);
    return model;
  }

  deployment(id = DEPLOYMENT_ID): DeploymentModel {
    return this.deployments.get(id)!;
  }

  /** The next calls of `op` fail with these errors, in order; then it behaves again. */
  failNext(op: Op, ...errors: Array<Error | QueuedFault>): this {
    const queue = this.queued.get(op) ?? [];
    queue.push(...errors.map((e) => (e instanceof Error ? { error: e, applied: false } : e)));
    this.queued.set(op, queue);
    return this;
  }

  /** Every call of `op` fails from now on (until `heal`). */
  failAlways(op: Op, make: () => Error): this {
    this.always.set(op, make);
    return this;
  }

  heal(op: Op): this {
    this.always.delete(op);
    this.queued.delete(op);
    return this;
  }

  /** A hook invocation context with `budgetMs` left when it starts; time runs with the clock. */
  context(budgetMs = 900_000): Ctx {
    const start = this.now;
    return { getRemainingTimeInMillis: () => Math.max(0, budgetMs - (this.now - start) * 1000), invokedFunctionArn: FUNCTION_ARN };
  }

  hookEvent(hookId = HOOK_ID, deploymentId = DEPLOYMENT_ID): HookEvent {
    return { DeploymentId: deploymentId, LifecycleEventHookExecutionId: hookId };
  }

  stateChange(deploymentId: string, state: string): StateChangeEvent {
    return {
      source: 'aws.codedeploy',
      'detail-type': 'CodeDeploy Deployment State-change Notification',
      detail: { deploymentId, state, application: APPLICATION, deploymentGroup: DEPLOYMENT_GROUP },
    };
  }

  run(event: EvaluatorEvent = this.hookEvent(), budgetMs?: number): Promise<void> {
    return this.handler(event, this.context(budgetMs));
  }

  /** Runs an invocation and every continuation it hands over to, like Lambda's async invoke would. */
  async runFollowingContinuations(event: EvaluatorEvent = this.hookEvent(), budgetMs?: number): Promise<number> {
    let invocations = 0;
    let handedOver = this.continuations().length;
    let next: EvaluatorEvent | undefined = event;
    while (next) {
      invocations++;
      if (invocations > 20) throw new Error('more than 20 invocations: the bake never ends');
      await this.run(next, budgetMs);
      const all = this.continuations();
      next = all.length > handedOver ? all[all.length - 1] : undefined;
      handedOver = all.length;
      this.now += 2; // async invocation latency
    }
    return invocations;
  }

  // -------------------------------------------------------------------------------------------
  // What happened.

  /** The state table's record of a hook execution, decoded. */
  hookRecord(hookId = HOOK_ID): { decision?: { status: string; verdict: string; reasons: string[] }; reported?: boolean; sequence?: number; hookStartedAt?: number } | undefined {
    const item = this.table.get(`hook#${hookId}`);
    if (!item) return undefined;
    return {
      decision: item.decision?.S ? JSON.parse(item.decision.S) : undefined,
      reported: item.reported?.BOOL,
      sequence: item.sequence?.N !== undefined ? Number(item.sequence.N) : undefined,
      hookStartedAt: item.hookStartedAt?.N !== undefined ? Number(item.hookStartedAt.N) : undefined,
    };
  }

  /** How many times `op` was called, failed attempts included. */
  calls(op: Op): number {
    return this.opCounts.get(op) ?? 0;
  }

  /** Status of every PutLifecycleEventHookExecutionStatus call, accepted or not. */
  reportCalls(): string[] {
    return this.cd.commandCalls(PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input.status!);
  }

  metricCalls(): GetMetricDataCommandInput[] {
    return this.cw.commandCalls(GetMetricDataCommand).map((c) => c.args[0].input);
  }

  getDeploymentCalls(): number {
    return this.cd.commandCalls(GetDeploymentCommand).length;
  }

  putEventsCalls(): PutEventsRequestEntry[][] {
    return this.eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries ?? []);
  }

  continuations(): ContinuationEvent[] {
    return this.lam.commandCalls(InvokeCommand).map((c) => JSON.parse(Buffer.from(c.args[0].input.Payload as Uint8Array).toString('utf8')) as ContinuationEvent);
  }

  invokeCalls() {
    return this.lam.commandCalls(InvokeCommand).map((c) => c.args[0].input);
  }

  /** Delivered audit events of one detail type, checked for the contract every event must meet. */
  audits(detailType: AuditDetailType): AuditEventDetail[] {
    return this.delivered
      .filter((e) => e.DetailType === detailType)
      .map((e) => {
        expect(e.Source).toBe(AUDIT_EVENT_SOURCE);
        expect(e.EventBusName).toBe(EVENT_BUS);
        const detail = JSON.parse(e.Detail!) as AuditEventDetail;
        expect(detail.schemaVersion).toBe(1);
        expect(typeof detail.idempotencyKey).toBe('string');
        expect(detail.idempotencyKey.length).toBeGreaterThan(0);
        expect(typeof detail.deploymentId).toBe('string');
        return detail;
      });
  }

  /** Audit events that were written to the log because EventBridge would not take them. */
  fallbacks(): Array<{ message: string; detailType: string; detail: AuditEventDetail; errorCode?: string }> {
    return this.errorLog.mock.calls
      .filter((args) => typeof args[1] === 'object' && args[1] !== null && 'auditFallback' in args[1])
      .map((args) => {
        const extra = args[1] as unknown as { auditFallback: { detailType: string; detail: AuditEventDetail }; errorCode?: string };
        return { message: String(args[0]), detailType: extra.auditFallback.detailType, detail: extra.auditFallback.detail, errorCode: extra.errorCode };
      });
  }

  // -------------------------------------------------------------------------------------------
  // Service behaviour.

  private dispatch<T>(op: Op, normal: () => T): T {
    this.opCounts.set(op, this.calls(op) + 1);
    const fault = this.queued.get(op)?.shift();
    if (fault) {
      if (fault.applied) normal();
      throw fault.error;
    }
    const always = this.always.get(op);
    if (always) throw always();
    return normal();
  }

  private wire(): void {
    this.cd.on(GetDeploymentCommand).callsFake((input: { deploymentId: string }) =>
      this.dispatch('GetDeployment', () => {
        const model = this.deployments.get(input.deploymentId);
        if (!model) throw awsError('DeploymentDoesNotExistException', 400, `deployment ${input.deploymentId} does not exist`);
        const status = model.statuses[Math.min(model.reads, model.statuses.length - 1)];
        model.reads++;
        return { deploymentInfo: { ...model.info, status } };
      }),
    );
    this.cd.on(ListDeploymentTargetsCommand).callsFake((input: { deploymentId: string }) =>
      this.dispatch('ListDeploymentTargets', () => ({ targetIds: [`${FUNCTION_NAME}:${ALIAS}`], deploymentId: input.deploymentId })),
    );
    this.cd.on(BatchGetDeploymentTargetsCommand).callsFake((input: { deploymentId: string; targetIds: string[] }) =>
      this.dispatch('BatchGetDeploymentTargets', () => ({
        deploymentTargets: input.targetIds.map((targetId) => ({
          deploymentTargetType: 'LambdaTarget',
          lambdaTarget: {
            deploymentId: input.deploymentId,
            targetId,
            targetArn: `arn:aws:lambda:us-east-1:123456789012:function:${FUNCTION_NAME}:${ALIAS}`,
            status: 'InProgress',
            lifecycleEvents: this.lifecycleEvents(),
            lambdaFunctionInfo: {
              functionName: FUNCTION_NAME,
              functionAlias: ALIAS,
              currentVersion: this.versions.current,
              targetVersion: this.versions.target,
              targetVersionWeight: this.lifecycleEvent === 'BeforeAllowTraffic' ? 0 : 1,
            },
          },
        })),
      })),
    );
    this.cd.on(PutLifecycleEventHookExecutionStatusCommand).callsFake((input: PutLifecycleEventHookExecutionStatusCommandInput) =>
      this.dispatch('PutLifecycleEventHookExecutionStatus', () => {
        const hookId = input.lifecycleEventHookExecutionId!;
        if (this.hookOutcomes.has(hookId)) {
          throw new LifecycleEventAlreadyCompletedException({ message: `Lifecycle event ${hookId} is already completed`, $metadata: { httpStatusCode: 400 } });
        }
        this.hookOutcomes.set(hookId, input.status as 'Succeeded' | 'Failed');
        this.accepted.push({ hookId, status: input.status!, at: this.now });
        return { lifecycleEventHookExecutionId: hookId };
      }),
    );
    this.cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => this.dispatch('GetMetricData', () => this.getMetricData(input)));
    this.ddb.on(PutItemCommand).callsFake((input: PutItemCommandInput) => this.dispatch('PutItem', () => this.table.putItem(input)));
    this.ddb.on(GetItemCommand).callsFake((input: GetItemCommandInput) => this.dispatch('GetItem', () => this.table.getItem(input)));
    this.ddb.on(UpdateItemCommand).callsFake((input: UpdateItemCommandInput) => this.dispatch('UpdateItem', () => this.table.updateItem(input)));
    this.lam.on(GetFunctionCommand).callsFake((input: { FunctionName: string; Qualifier?: string }) =>
      this.dispatch('GetFunction', () => {
        const sha = input.Qualifier ? this.functionVersions.get(input.Qualifier) : undefined;
        if (input.FunctionName !== FUNCTION_NAME || sha === undefined) {
          throw new ResourceNotFoundException({ message: `Function not found: ${input.FunctionName}:${input.Qualifier}`, $metadata: { httpStatusCode: 404 } });
        }
        return { Configuration: { FunctionName: FUNCTION_NAME, Version: input.Qualifier, CodeSha256: sha } };
      }),
    );
    this.lam.on(InvokeCommand).callsFake(() => this.dispatch('Invoke', () => ({ StatusCode: 202 })));
    this.eb.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) =>
      this.dispatch('PutEvents', () => {
        const call = this.putEventsCounter++;
        let failed = 0;
        const entries: PutEventsResultEntry[] = input.Entries.map((entry, index) => {
          const code = this.putEventsEntryError?.(entry, call, index);
          if (code) {
            failed++;
            return { ErrorCode: code, ErrorMessage: `entry rejected: ${code}` };
          }
          this.delivered.push(entry);
          return { EventId: `event-${call}-${index}` };
        });
        return { FailedEntryCount: failed, Entries: entries };
      }),
    );
  }

  private lifecycleEvents() {
    const order = ['BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic'];
    const running = order.indexOf(this.lifecycleEvent);
    // Once the running hook has been decided (by a report or by CodeDeploy), its event shows that.
    const decided = [...this.hookOutcomes.values()][0];
    return order.map((name, i) => ({ lifecycleEventName: name, status: i < running ? 'Succeeded' : i === running ? (decided ?? 'InProgress') : 'Pending' }));
  }

  private getMetricData(input: GetMetricDataCommandInput): Partial<GetMetricDataCommandOutput> {
    const start = input.StartTime!.getTime() / 1000;
    const end = input.EndTime!.getTime() / 1000;
    const results: MetricDataResult[] = (input.MetricDataQueries ?? []).map((q) => {
      const Timestamps: Date[] = [];
      const Values: number[] = [];
      for (let minute = Math.ceil(start / 60) * 60; minute < end; minute += 60) {
        const value = this.trafficModel(q.Id!, minute);
        if (value === undefined) continue;
        Timestamps.push(new Date(minute * 1000));
        Values.push(value);
      }
      return { Id: q.Id, Label: q.MetricStat?.Metric?.MetricName, Timestamps, Values, StatusCode: 'Complete' };
    });
    if (this.metricPages === 1) return { MetricDataResults: results, Messages: [] };
    // Two pages: the first carries the earlier half of every series (PartialData), the second the rest.
    const firstPage = input.NextToken === undefined;
    const page = results.map((r) => {
      const half = Math.ceil(r.Timestamps!.length / 2);
      const [from, to] = firstPage ? [0, half] : [half, r.Timestamps!.length];
      return { ...r, Timestamps: r.Timestamps!.slice(from, to), Values: r.Values!.slice(from, to), StatusCode: firstPage ? 'PartialData' : 'Complete' } as MetricDataResult;
    });
    return firstPage ? { MetricDataResults: page, NextToken: 'page-2-token', Messages: [] } : { MetricDataResults: page, Messages: [] };
  }
}

// ---------------------------------------------------------------------------------------------
// Assertions every test makes.

/**
 * (a) How many hook reports CodeDeploy received: `calls` statuses sent in total (retries
 * included), and exactly the `accepted` ones applied (none where CodeDeploy had already decided).
 */
export function expectReports(world: World, expected: { accepted: Array<'Succeeded' | 'Failed'>; calls?: number }): void {
  expect(world.accepted.map((a) => a.status)).toEqual(expected.accepted);
  const calls = world.reportCalls();
  expect(calls).toHaveLength(expected.calls ?? expected.accepted.length);
  // Retries and repeats never change their mind.
  if (expected.accepted.length > 0) expect(new Set(calls)).toEqual(new Set(expected.accepted));
}

/** (b) An audit record exists: delivered to EventBridge with the expected detail-type. */
export function expectAudit(world: World, detailType: AuditDetailType, match: Partial<Record<keyof AuditEventDetail, unknown>> = {}): AuditEventDetail {
  const found = world.audits(detailType);
  expect(found.length, `no '${detailType}' audit event among ${JSON.stringify(world.delivered.map((e) => e.DetailType))}`).toBeGreaterThan(0);
  const detail = found[found.length - 1];
  expect(detail).toMatchObject(match);
  return detail;
}
