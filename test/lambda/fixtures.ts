/**
 * A small, faithful model of the AWS services the bake's step Lambda talks to, and a driver that
 * runs it the way the Step Functions machine does (lib/core/bake.ts, BakeNext).
 *
 * Every SDK client is a real v3 client whose `send` is replaced by aws-sdk-client-mock, so the
 * SDK's own retries never run: what survives a fault here is the step's time-bounded `withRetry`.
 * The fakes keep the state that matters for correctness:
 * - CodeDeploy accepts ONE status per hook execution; a second PutLifecycleEventHookExecutionStatus
 *   fails with LifecycleEventAlreadyCompletedException, as the API does, and the target's
 *   lifecycle events show what was applied.
 * - The deployment's target lists its lifecycle events with their status and, once started, their
 *   `startTime` (CodeDeploy's clock of the hook, `hookStartTime`).
 * - CloudWatch answers GetMetricData with one-minute datapoints for the query ids it is sent
 *   (an expression's computed from the queries it names, no result for a query with ReturnData
 *   false), honouring StartTime (inclusive) and EndTime (exclusive), with per-result StatusCode, top-level
 *   Messages, pages (NextToken), a latency per call (`metricLatencySeconds`) and, for clock-skew
 *   tests, datapoints stamped in the future.
 * - EventBridge rejects a request over 256 KB as the API does, and per-entry errors on demand.
 * - The known-good store is in memory (the DynamoDB store has its own tests); one test wires the
 *   real `KnownGoodStore` to a mocked DynamoDB client.
 * Faults are injected per operation: the next N calls fail (optionally after the write applied,
 * like a timeout whose request reached the service), every call fails, or calls fail during a
 * window of the fake clock.
 */
import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput, type GetMetricDataCommandOutput, type MetricDataResult } from '@aws-sdk/client-cloudwatch';
import {
  BatchGetDeploymentTargetsCommand,
  CodeDeployClient,
  type DeploymentCreator,
  CreateDeploymentCommand,
  type CreateDeploymentCommandInput,
  type DeploymentInfo,
  GetDeploymentCommand,
  GetDeploymentGroupCommand,
  LifecycleEventAlreadyCompletedException,
  ListDeploymentTargetsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
  type PutLifecycleEventHookExecutionStatusCommandInput,
} from '@aws-sdk/client-codedeploy';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeServicesCommand, DescribeTaskDefinitionCommand, DescribeTaskSetsCommand, ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry, type PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import { GetFunctionCommand, LambdaClient, UpdateAliasCommand, type UpdateAliasCommandInput } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { expect, vi } from 'vitest';
import { AUDIT_EVENT_SOURCE, type AuditDetailType, type AuditEventDetail, type BakeState, type BreakerRecord, EMPTY_BREAKER, EVALUATOR_CONFIG_SCHEMA_VERSION, type EvaluatorConfig, type KnownGood, isFollowUpPhase } from '../../lib/core';
import { type KnownGoodReader, type StepDeps, type StepHandler, type StepLogger, createStepHandler } from '../../lambda/evaluator/index';
import { createFollowUpStepHandler } from '../../lambda/follow-up/index';
import { AVAILABILITY_SLO } from '../core/helpers';
import { parseExpression, referencedIds } from '../core/emulator/expression';

// ---------------------------------------------------------------------------------------------
// Constants of the scenario: one Lambda function behind the alias `live`, version 1 → 2.

import { APPLICATION, ALIAS, CLIENT_CONFIG, DEPLOYMENT_GROUP, DEPLOYMENT_ID, FUNCTION_NAME, HOOK_ID, SHA_V1, SHA_V2, T0, awsError } from './scenario';
import { getFunctionAnswer } from './scenario';
export { APPLICATION, ALIAS, CLIENT_CONFIG, DEPLOYMENT_GROUP, DEPLOYMENT_ID, FUNCTION_NAME, HOOK_ID, SHA_V1, SHA_V2, T0, awsError, serverError, throttling } from './scenario';

/** The deployment started (and traffic began shifting) ten minutes before the AfterAllowTraffic hook. */
export const CREATED_AT = T0 - 600;
/** The machine's deadline: hook start + 55 min (DEFAULT_DEADLINE_SECONDS). */
export const DEADLINE = T0 + 3_300;
/** The machine's report-by: hook start + 57 min (MAX_DEADLINE_SECONDS). */
export const REPORT_BY = T0 + 3_420;
export const EVENT_BUS = 'rollback-audit';
export const STATE_TABLE = 'rollback-state';
/** ECS: the target groups behind the original (blue) and replacement (green) task sets. */
export const TG_BLUE = 'orders-blue';
export const TG_GREEN = 'orders-green';
/** ECS: the service the deployment group releases, and the container its load balancer sends traffic to. */
export const ECS_SERVICE_ARN = 'arn:aws:ecs:us-east-1:123456789012:service/orders-cluster/orders-service';
export const ECS_CONTAINER = { containerName: 'web', containerPort: 8080 };

/** 99.9 % availability on the function's own per-version traffic. */
export function lambdaConfig(overrides: Partial<EvaluatorConfig> = {}): EvaluatorConfig {
  const dimensions = { FunctionName: FUNCTION_NAME, Resource: `${FUNCTION_NAME}:${ALIAS}` };
  return {
    schemaVersion: EVALUATOR_CONFIG_SCHEMA_VERSION,
    platform: 'lambda',
    mode: 'enforce',
    applicationName: APPLICATION,
    deploymentGroupName: DEPLOYMENT_GROUP,
    bakeSeconds: 600,
    tickSeconds: 60,
    inconclusiveAction: 'fail',
    deadlineMarginSeconds: 300,
    metricDelaySeconds: 180,
    compareWithBaseline: false,
    slos: [
      { ...AVAILABILITY_SLO, name: 'orders-availability' },
    ],
    dimensionSets: [dimensions],
    ...overrides,
  };
}

/** ECS blue/green behind an ALB: 5xx per target group. */
export function ecsConfig(overrides: Partial<EvaluatorConfig> = {}): EvaluatorConfig {
  const base = lambdaConfig();
  return {
    ...base,
    platform: 'ecs',
    slos: [
      {
        ...base.slos[0],
        numerator: { namespace: 'AWS/ApplicationELB', metricName: 'HTTPCode_Target_5XX_Count', dimensionSet: 0, stat: 'Sum' },
        total: { namespace: 'AWS/ApplicationELB', metricName: 'RequestCount', dimensionSet: 0, stat: 'Sum' },
      },
    ],
    dimensionSets: [{}],
    targetGroups: [
      { name: TG_BLUE, dimensions: { TargetGroup: `targetgroup/${TG_BLUE}/1111`, LoadBalancer: 'app/orders/abcd' } },
      { name: TG_GREEN, dimensions: { TargetGroup: `targetgroup/${TG_GREEN}/2222`, LoadBalancer: 'app/orders/abcd' } },
    ],
    ...overrides,
  };
}

/**
 * ECS blue/green behind an ALB, as `Sli.targetGroupAvailability` configures the evaluator: failed
 * requests = the targets' 5xx + the requests routed to the group that got no target response.
 */
export function albConfig(overrides: Partial<EvaluatorConfig> = {}): EvaluatorConfig {
  const base = ecsConfig(overrides);
  const code = (n: number) => ({ metricName: `HTTPCode_Target_${n}XX_Count`, stat: 'Sum' });
  const responses = 'FILL({t2xx}, 0) + FILL({t3xx}, 0) + FILL({t4xx}, 0) + FILL({t5xx}, 0)';
  return {
    ...base,
    slos: [
      {
        ...base.slos[0],
        numerator: undefined,
        numeratorMath: {
          expression: `FILL({t5xx}, 0) + IF({total} - (${responses}) > 0, {total} - (${responses}), 0)`,
          parts: { t2xx: code(2), t3xx: code(3), t4xx: code(4), t5xx: code(5) },
        },
      },
    ],
    ...overrides,
  };
}

/** 99 % of invocations at or below 300 ms, as `Sli.lambdaLatency(alias, 300 ms)` configures the evaluator. */
export function latencyConfig(overrides: Partial<EvaluatorConfig> = {}): EvaluatorConfig {
  const base = lambdaConfig(overrides);
  return {
    ...base,
    slos: [
      {
        ...base.slos[0],
        name: 'orders-latency',
        errorBudget: 0.01,
        minEvents: 7,
        numerator: undefined,
        numeratorMath: { expression: 'FLOOR({total} * (100 - FILL({pr}, 100)) / 100 + 0.5)', parts: { pr: { metricName: 'Duration', stat: 'PR(:300)' } } },
      },
    ],
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------
// Errors as the SDK raises them.

export const timeout = () => Object.assign(new Error('Connection timed out after 3000 ms'), { name: 'TimeoutError' });
/** IAM not yet propagated: CloudWatch says AccessDenied, the JSON APIs AccessDeniedException. */
export const accessDenied = (name = 'AccessDenied') => awsError(name, 403, 'User is not authorized to perform this action');

export type Op =
  | 'GetDeployment'
  | 'ListDeploymentTargets'
  | 'BatchGetDeploymentTargets'
  | 'PutLifecycleEventHookExecutionStatus'
  | 'GetMetricData'
  | 'GetFunction'
  | 'PutEvents'
  | 'KnownGoodGet'
  | 'RecordFirstBadSignal'
  | 'BreakerGet'
  | 'BreakerPut'
  | 'ClaimAction'
  | 'KnownGoodPut'
  | 'RecordActionResult'
  | 'ActionClaim'
  | 'GetDeploymentGroup'
  | 'CreateDeployment'
  | 'UpdateAlias'
  | 'DescribeServices'
  | 'DescribeTaskDefinition'
  | 'DescribeTaskSets';

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
  /** As clean, but the error count publishes nothing when nothing failed (a count metric's habit). */
  cleanSparse:
    (perMinute = 1_000): TrafficModel =>
    (id) =>
      id.endsWith('_t') ? perMinute : undefined,
  /** The new version fails `errorRate` of its requests; the current one is healthy. */
  broken:
    (errorRate = 0.3, perMinute = 1_000): TrafficModel =>
    (id) =>
      id.endsWith('_t') ? perMinute : id.startsWith('s0_canary') ? perMinute * errorRate : 0,
  /** No datapoints at all (misdimensioned metric, or no traffic). */
  none: (): TrafficModel => () => undefined,
};

/** Per-result StatusCode CloudWatch answers, by query id and page (0-based); Complete when undefined. */
export type StatusModel = (queryId: string, page: number, call: number) => string | undefined;

// ---------------------------------------------------------------------------------------------
// The in-memory known-good store (the DynamoDB one is tested against dynalite by its owner).

export class FakeKnownGood implements KnownGoodReader {
  readonly records = new Map<string, KnownGood>();
  readonly badSignals = new Map<string, number>();
  constructor(private readonly dispatch: <T>(op: Op, normal: () => T) => T) {}

  async get(application: string, group: string): Promise<KnownGood | undefined> {
    return this.dispatch('KnownGoodGet', () => this.records.get(`${application}#${group}`));
  }

  async recordFirstBadSignal(deploymentId: string, at: number): Promise<boolean> {
    return this.dispatch('RecordFirstBadSignal', () => {
      const standing = this.badSignals.get(deploymentId);
      if (standing !== undefined && standing <= at) return false;
      this.badSignals.set(deploymentId, at);
      return true;
    });
  }

  /** Circuit-breaker records by group, with the conditional write the DynamoDB store makes. */
  readonly breakers = new Map<string, BreakerRecord>();

  async getBreaker(application: string, group: string): Promise<BreakerRecord> {
    return this.dispatch('BreakerGet', () => this.breakers.get(`${application}#${group}`) ?? EMPTY_BREAKER);
  }

  async putBreaker(application: string, group: string, record: BreakerRecord): Promise<boolean> {
    return this.dispatch('BreakerPut', () => {
      const key = `${application}#${group}`;
      if ((this.breakers.get(key)?.version ?? 0) !== record.version - 1) return false;
      this.breakers.set(key, record);
      return true;
    });
  }

  /** One-time action claims (guard window, secondary action), with the conditional write the DynamoDB store makes. */
  readonly claims = new Map<string, { claimedAt: number; result?: string; owner?: string }>();

  async claimAction(claim: string, at: number, owner?: string): Promise<boolean> {
    return this.dispatch('ClaimAction', () => {
      if (this.claims.has(claim)) return false;
      this.claims.set(claim, { claimedAt: at, ...(owner !== undefined ? { owner } : {}) });
      return true;
    });
  }

  async recordActionResult(claim: string, result: string): Promise<void> {
    return this.dispatch('RecordActionResult', () => {
      const standing = this.claims.get(claim);
      if (standing) this.claims.set(claim, { ...standing, result });
    });
  }

  async actionClaim(claim: string): Promise<{ claimedAt: number; result?: string; owner?: string } | undefined> {
    return this.dispatch('ActionClaim', () => this.claims.get(claim));
  }

  /** `deploymentId`: the deployment whose success made the version known-good, as the DynamoDB store records it. */
  seed(version: string, integrity: string, application = APPLICATION, group = DEPLOYMENT_GROUP, deploymentId?: string, previous?: KnownGood & { deploymentId?: string }): void {
    this.records.set(`${application}#${group}`, { version, integrity, ...(deploymentId ? { deploymentId } : {}), ...(previous ? { previous } : {}) } as KnownGood);
  }

  /** As the DynamoDB store: written unless a record of a later completion stands. */
  async put(application: string, group: string, knownGood: KnownGood, source: { deploymentId: string; completedAt: number }): Promise<{ recorded: boolean }> {
    return this.dispatch('KnownGoodPut', () => {
      const key = `${application}#${group}`;
      const standing = this.records.get(key) as (KnownGood & { deployedAt?: number }) | undefined;
      if (standing?.deployedAt !== undefined && standing.deployedAt > source.completedAt) return { recorded: false };
      this.records.set(key, { ...knownGood, deploymentId: source.deploymentId, deployedAt: source.completedAt } as KnownGood);
      return { recorded: true };
    });
  }
}

// ---------------------------------------------------------------------------------------------
// The world: clock, services, handler, and the machine's loop.

export interface DeploymentModel {
  info: DeploymentInfo;
  /** Status returned by the n-th GetDeployment of this deployment (the last one repeats). */
  statuses: string[];
  reads: number;
}

export type LifecycleEvent = 'BeforeAllowTraffic' | 'AfterAllowTraffic' | 'BeforeInstall' | 'AfterAllowTestTraffic';

export interface WorldOptions {
  readonly config?: Partial<EvaluatorConfig>;
  readonly platform?: 'lambda' | 'ecs';
  readonly lifecycleEvent?: LifecycleEvent;
  readonly creator?: string;
  readonly traffic?: TrafficModel;
  /** The HTTP client health checks use. */
  readonly fetch?: typeof fetch;
  /** Wire the real KnownGoodStore to the mocked DynamoDB client instead of the in-memory store. */
  readonly realKnownGoodStore?: boolean;
}

/** A step as the machine saw it: the state it sent and the state that came back. */
export interface StepRecord {
  readonly at: number;
  readonly input: BakeState;
  readonly output: BakeState;
}

export interface BakeRun {
  readonly final: BakeState;
  readonly steps: readonly StepRecord[];
}

const LAMBDA_EVENTS = ['BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic'];
const ECS_EVENTS = ['BeforeInstall', 'Install', 'AfterInstall', 'AllowTestTraffic', 'AfterAllowTestTraffic', 'BeforeAllowTraffic', 'AllowTraffic', 'AfterAllowTraffic'];

export class World {
  /** Epoch seconds; `sleep` and the machine's waits advance it, so an hour runs in milliseconds. */
  now = T0;
  readonly config: EvaluatorConfig;
  readonly platform: 'lambda' | 'ecs';
  lifecycleEvent: LifecycleEvent;
  versions = { current: '1', target: '2' };
  /** Lambda versions that exist, with their CodeSha256. */
  readonly functionVersions = new Map<string, string>([
    ['1', SHA_V1],
    ['2', SHA_V2],
  ]);
  readonly deployments = new Map<string, DeploymentModel>();
  /** The group's latest deployment (GetDeploymentGroup lastAttemptedDeployment); a CreateDeployment makes its own the latest. */
  latestDeploymentId = DEPLOYMENT_ID;
  /** CreateDeployment calls CodeDeploy accepted, in order. */
  readonly createdDeployments: CreateDeploymentCommandInput[] = [];
  /** UpdateAlias calls Lambda accepted, in order. */
  readonly aliasUpdates: UpdateAliasCommandInput[] = [];
  /** ECS task sets (id → its task definition ARN), for DescribeTaskSets. */
  readonly taskSets = new Map<string, string>();
  /** ECS task definitions that exist (ARN → status and container images). */
  readonly taskDefinitions = new Map<string, { status: string; images: Record<string, string> }>();
  trafficModel: TrafficModel;
  /** Per-result StatusCode of GetMetricData. */
  statusModel: StatusModel = () => undefined;
  /** Split every GetMetricData answer into this many pages (NextToken). */
  metricPages = 1;
  /** Answer every GetMetricData page with a NextToken (a read that never ends). */
  endlessMetricPages = false;
  /** Top-level Messages of every GetMetricData answer. */
  metricMessages: Array<{ Code: string; Value: string }> = [];
  /** Extra datapoints CloudWatch returns whatever the EndTime (a publisher with a fast clock): query id → [epoch seconds, value][]. */
  skewedDatapoints: (queryId: string, now: number) => Array<[number, number]> = () => [];
  /** ListDeploymentTargets answers with a NextToken forever. */
  endlessTargetPages = false;
  /**
   * Epoch seconds at which CodeDeploy started the running lifecycle event (its `startTime` in
   * BatchGetDeploymentTargets; earlier events started a minute apart before it). Undefined: the
   * target does not say.
   */
  hookStartTime: number | undefined = T0;
  /** Seconds every GetMetricData call takes (the clock moves on while CloudWatch answers). */
  metricLatencySeconds = 0;
  /** CodeDeploy's record of hook outcomes: the first status reported wins. */
  readonly hookOutcomes = new Map<string, 'Succeeded' | 'Failed'>();
  readonly accepted: Array<{ hookId: string; status: string; at: number }> = [];
  /** PutEvents entries EventBridge accepted. */
  readonly delivered: PutEventsRequestEntry[] = [];
  /** Per-entry error code EventBridge answers for the n-th PutEvents call (0-based), if any. */
  putEventsEntryError?: (entry: PutEventsRequestEntry, call: number, index: number) => string | undefined;
  private putEventsCounter = 0;
  private metricDataCounter = 0;
  readonly sleeps: number[] = [];
  readonly logs: Array<{ level: string; message: string; extra: Record<string, unknown> }> = [];

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
  readonly knownGood: FakeKnownGood;

  readonly logger: StepLogger = {
    info: (message, extra) => this.logs.push({ level: 'INFO', message, extra }),
    warn: (message, extra) => this.logs.push({ level: 'WARN', message, extra }),
    error: (message, extra) => this.logs.push({ level: 'ERROR', message, extra }),
  };
  readonly handler: StepHandler;
  /** The bake's evaluator and the follow-up function, each refusing the other's phases. */
  readonly bakeHandler: StepHandler;
  readonly followUpHandler: StepHandler;

  private readonly opCounts = new Map<Op, number>();
  private readonly queued = new Map<Op, QueuedFault[]>();
  private readonly always = new Map<Op, () => Error>();
  private readonly windows: Array<{ op: Op; from: number; to: number; make: () => Error }> = [];

  constructor(options: WorldOptions = {}) {
    this.platform = options.platform ?? 'lambda';
    this.config = this.platform === 'ecs' ? ecsConfig(options.config) : lambdaConfig(options.config);
    this.lifecycleEvent = options.lifecycleEvent ?? 'AfterAllowTraffic';
    this.trafficModel = options.traffic ?? traffic.clean();
    this.addDeployment(DEPLOYMENT_ID, { creator: (options.creator ?? 'user') as DeploymentCreator, createTime: new Date(CREATED_AT * 1000) }, ['InProgress']);
    // Deterministic retry jitter.
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    this.knownGood = new FakeKnownGood((op, normal) => this.dispatch(op, normal));
    this.wire();
    const deps: StepDeps = {
      config: this.config,
      stateTable: STATE_TABLE,
      eventBus: EVENT_BUS,
      clients: { codedeploy: this.codedeploy, cloudwatch: this.cloudwatch, dynamodb: this.dynamodb, lambda: this.lambda, ecs: this.ecs, events: this.events },
      ...(options.realKnownGoodStore ? {} : { knownGood: this.knownGood }),
      logger: this.logger,
      now: () => this.now,
      sleep: async (ms) => {
        this.sleeps.push(ms);
        this.now += ms / 1000;
      },
      fetch: options.fetch,
    };
    // The machines' two functions: the bake's evaluator and the follow-up function, each with its own phases.
    const bake = createStepHandler(deps);
    const followUp = createFollowUpStepHandler(deps);
    this.bakeHandler = bake;
    this.followUpHandler = followUp;
    this.handler = (state) => (isFollowUpPhase(state?.phase) ? followUp(state) : bake(state));
  }

  addDeployment(deploymentId: string, info: Partial<DeploymentInfo>, statuses: string[]): DeploymentModel {
    const model: DeploymentModel = {
      info: { deploymentId, applicationName: APPLICATION, deploymentGroupName: DEPLOYMENT_GROUP, computePlatform: this.platform === 'ecs' ? 'ECS' : 'Lambda', creator: 'user', ...info },
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

  /** Calls of `op` fail while the clock is in [from, to). */
  failDuring(op: Op, from: number, to: number, make: () => Error): this {
    this.windows.push({ op, from, to, make });
    return this;
  }

  heal(op: Op): this {
    this.always.delete(op);
    this.queued.delete(op);
    return this;
  }

  // -------------------------------------------------------------------------------------------
  // The state machine, as lib/core/bake.ts documents it.

  /** The execution input the starter builds for the hook. */
  initialState(overrides: Partial<BakeState> = {}): BakeState {
    return {
      deploymentId: DEPLOYMENT_ID,
      lifecycleEventHookExecutionId: HOOK_ID,
      hookStartedAt: T0,
      deadline: new Date(DEADLINE * 1000).toISOString(),
      reportBy: new Date(REPORT_BY * 1000).toISOString(),
      phase: 'resolve',
      ...overrides,
    };
  }

  /**
   * Runs the machine: Evaluate; on `wait` advance the clock by waitSeconds and evaluate again; on
   * `report` call PutLifecycleEventHookExecutionStatus (retried like the machine's Report state)
   * and continue with phase reported / already-completed / report-failed; end on done / fail.
   */
  async bake(from: BakeState = this.initialState(), maxSteps = 500): Promise<BakeRun> {
    const steps: StepRecord[] = [];
    let state = from;
    for (let i = 0; i < maxSteps; i++) {
      const at = this.now;
      const output = await this.handler(state);
      // What the machine carries between states is JSON.
      expect(JSON.parse(JSON.stringify(output))).toEqual(output);
      steps.push({ at, input: state, output });
      switch (output.next) {
        case 'wait':
          expect(Number.isInteger(output.waitSeconds)).toBe(true);
          expect(output.waitSeconds).toBeGreaterThan(0);
          this.now += output.waitSeconds!;
          state = output;
          break;
        case 'report':
          state = await this.machineReport(output);
          break;
        case 'done':
        case 'fail':
          return { final: output, steps };
        default:
          throw new Error(`the step returned next = ${String(output.next)}`);
      }
    }
    throw new Error(`more than ${maxSteps} steps: the bake never ends`);
  }

  /** The machine's Report state: Retry with backoff (2 s × 2ⁿ, 8 retries), never on final errors. */
  private async machineReport(state: BakeState): Promise<BakeState> {
    const final = new Set(['LifecycleEventAlreadyCompletedException', 'DeploymentDoesNotExistException', 'InvalidLifecycleEventHookExecutionIdException']);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.codedeploy.send(
          new PutLifecycleEventHookExecutionStatusCommand({ deploymentId: state.deploymentId, lifecycleEventHookExecutionId: state.lifecycleEventHookExecutionId, status: state.report!.status }),
        );
        return { ...state, phase: 'reported' };
      } catch (e) {
        const name = (e as Error).name;
        const caught = { Error: `CodeDeploy.${name}`, Cause: (e as Error).message };
        if (name === 'LifecycleEventAlreadyCompletedException') return { ...state, phase: 'already-completed', reportError: caught };
        if (final.has(name) || attempt >= 8) return { ...state, phase: 'report-failed', reportError: caught };
        this.now += Math.min(30, 2 * 2 ** attempt);
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // What happened.

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

  putEventsCalls(): PutEventsRequestEntry[][] {
    return this.eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries ?? []);
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
    return this.logs
      .filter((l) => l.level === 'ERROR' && 'auditFallback' in l.extra)
      .map((l) => {
        const event = l.extra.auditFallback as { detailType: string; detail: AuditEventDetail };
        return { message: l.message, detailType: event.detailType, detail: event.detail, errorCode: l.extra.errorCode as string | undefined };
      });
  }

  // -------------------------------------------------------------------------------------------
  // Service behaviour.

  dispatch<T>(op: Op, normal: () => T): T {
    this.opCounts.set(op, this.calls(op) + 1);
    const fault = this.queued.get(op)?.shift();
    if (fault) {
      if (fault.applied) normal();
      throw fault.error;
    }
    const always = this.always.get(op);
    if (always) throw always();
    const window = this.windows.find((w) => w.op === op && this.now >= w.from && this.now < w.to);
    if (window) throw window.make();
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
    this.cd.on(ListDeploymentTargetsCommand).callsFake((input: { deploymentId: string; nextToken?: string }) =>
      this.dispatch('ListDeploymentTargets', () =>
        this.endlessTargetPages
          ? { targetIds: input.nextToken ? [] : [this.targetId()], nextToken: `page-${(Number(input.nextToken?.slice(5) ?? 0) || 0) + 1}` }
          : { targetIds: [this.targetId()] },
      ),
    );
    this.cd.on(BatchGetDeploymentTargetsCommand).callsFake((input: { deploymentId: string; targetIds: string[] }) =>
      this.dispatch('BatchGetDeploymentTargets', () => ({ deploymentTargets: input.targetIds.map((targetId) => this.target(input.deploymentId, targetId)) })),
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
    this.cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
      this.now += this.metricLatencySeconds;
      return this.dispatch('GetMetricData', () => this.getMetricData(input));
    });
    this.cd.on(GetDeploymentGroupCommand).callsFake(() =>
      this.dispatch('GetDeploymentGroup', () => ({ deploymentGroupInfo: { lastAttemptedDeployment: { deploymentId: this.latestDeploymentId } } })),
    );
    this.cd.on(CreateDeploymentCommand).callsFake((input: CreateDeploymentCommandInput) =>
      this.dispatch('CreateDeployment', () => {
        this.createdDeployments.push(input);
        const id = `d-CREATED${this.createdDeployments.length}`;
        this.addDeployment(id, { description: input.description }, ['Created']);
        this.latestDeploymentId = id;
        return { deploymentId: id };
      }),
    );
    this.lam.on(UpdateAliasCommand).callsFake((input: UpdateAliasCommandInput) =>
      this.dispatch('UpdateAlias', () => {
        this.aliasUpdates.push(input);
        return { Name: input.Name, FunctionVersion: input.FunctionVersion };
      }),
    );
    // ECS answers a service of another cluster, or one it does not know, as a MISSING failure.
    this.ecsMock.on(DescribeServicesCommand).callsFake((input: { cluster?: string; services?: string[] }) =>
      this.dispatch('DescribeServices', () =>
        input.cluster === 'orders-cluster' && input.services?.length === 1 && input.services[0] === ECS_SERVICE_ARN
          ? { services: [{ serviceArn: ECS_SERVICE_ARN, loadBalancers: [{ ...ECS_CONTAINER, targetGroupArn: `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/${TG_BLUE}/1` }] }], failures: [] }
          : { services: [], failures: (input.services ?? []).map((arn) => ({ arn, reason: 'MISSING' })) },
      ),
    );
    this.ecsMock.on(DescribeTaskSetsCommand).callsFake((input: { taskSets?: string[] }) =>
      this.dispatch('DescribeTaskSets', () => ({
        taskSets: (input.taskSets ?? []).flatMap((id) => (this.taskSets.has(id) ? [{ id, taskDefinition: this.taskSets.get(id) }] : [])),
      })),
    );
    this.ecsMock.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) =>
      this.dispatch('DescribeTaskDefinition', () => {
        const def = this.taskDefinitions.get(input.taskDefinition);
        if (!def) throw awsError('ClientException', 400, 'Unable to describe task definition.');
        return { taskDefinition: { taskDefinitionArn: input.taskDefinition, status: def.status, containerDefinitions: Object.entries(def.images).map(([name, image]) => ({ name, image })) } };
      }),
    );
    this.lam.on(GetFunctionCommand).callsFake((input: { FunctionName: string; Qualifier?: string }) =>
      this.dispatch('GetFunction', () => getFunctionAnswer(this.functionVersions, input)),
    );
    this.eb.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) =>
      this.dispatch('PutEvents', () => {
        // PutEvents refuses a request whose entries total 256 KB or more (EventBridge quotas).
        const bytes = input.Entries.reduce((n, e) => n + Buffer.byteLength(e.Source ?? '') + Buffer.byteLength(e.DetailType ?? '') + Buffer.byteLength(e.Detail ?? ''), 0);
        if (bytes >= 256 * 1024) throw awsError('ValidationException', 400, 'Total size of the entries in the request is over the limit.');
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

  private targetId(): string {
    return this.platform === 'ecs' ? 'orders-cluster:orders-service' : `${FUNCTION_NAME}:${ALIAS}`;
  }

  private target(deploymentId: string, targetId: string) {
    const lifecycleEvents = this.lifecycleEvents();
    if (this.platform === 'ecs') {
      return {
        deploymentTargetType: 'ECSTarget',
        ecsTarget: {
          deploymentId,
          targetId,
          targetArn: ECS_SERVICE_ARN,
          status: 'InProgress',
          lifecycleEvents,
          taskSetsInfo: [
            { identifer: 'ecs-svc/blue', taskSetLabel: 'Blue', targetGroup: { name: TG_BLUE } },
            { identifer: 'ecs-svc/green', taskSetLabel: 'Green', targetGroup: { name: TG_GREEN } },
          ],
        },
      };
    }
    return {
      deploymentTargetType: 'LambdaTarget',
      lambdaTarget: {
        deploymentId,
        targetId,
        targetArn: `arn:aws:lambda:us-east-1:123456789012:function:${FUNCTION_NAME}:${ALIAS}`,
        status: 'InProgress',
        lifecycleEvents,
        lambdaFunctionInfo: {
          functionName: FUNCTION_NAME,
          functionAlias: ALIAS,
          currentVersion: this.versions.current,
          targetVersion: this.versions.target,
          targetVersionWeight: this.lifecycleEvent === 'BeforeAllowTraffic' ? 0 : 1,
        },
      },
    };
  }

  private lifecycleEvents() {
    const order = this.platform === 'ecs' ? ECS_EVENTS : LAMBDA_EVENTS;
    const running = order.indexOf(this.lifecycleEvent);
    // Once the running hook has been decided (by a report or by CodeDeploy), its event shows that.
    const decided = [...this.hookOutcomes.values()][0];
    const start = this.hookStartTime;
    return order.map((name, i) => ({
      lifecycleEventName: name,
      status: i < running ? 'Succeeded' : i === running ? (decided ?? 'InProgress') : 'Pending',
      ...(start !== undefined && i <= running ? { startTime: new Date((start - (running - i) * 60) * 1000) } : {}),
    }));
  }

  private getMetricData(input: GetMetricDataCommandInput): Partial<GetMetricDataCommandOutput> {
    const call = this.metricDataCounter++;
    const start = input.StartTime!.getTime() / 1000;
    const end = input.EndTime!.getTime() / 1000;
    const page = input.NextToken === undefined ? 0 : Number(input.NextToken.replace('page-', ''));
    const pages = this.endlessMetricPages ? Infinity : this.metricPages;
    const queries = input.MetricDataQueries ?? [];
    // A metric's datapoint is the traffic model's; an expression's is computed from the queries it
    // names, minute by minute, by the metric-math interpreter the alarm tests use.
    const valueOf = (id: string, minute: number, path: readonly string[] = []): number | undefined => {
      const q = queries.find((o) => o.Id === id);
      if (q === undefined) throw new Error(`GetMetricData: an expression names ${id}, which is no query of the call (ValidationError)`);
      if (q.Expression === undefined) return this.trafficModel(id, minute);
      if (path.includes(id)) throw new Error(`GetMetricData: expressions refer to each other: ${[...path, id].join(' → ')}`);
      const values = Object.fromEntries([...referencedIds(q.Expression)].map((ref) => [ref, valueOf(ref, minute, [...path, id])]));
      return parseExpression(q.Expression)(values);
    };
    // GetMetricData returns only the queries whose ReturnData is true (the default).
    const results: MetricDataResult[] = queries.filter((q) => q.ReturnData !== false).map((q) => {
      const id = q.Id!;
      const forced = this.statusModel(id, page, call);
      // Forbidden and InternalError results carry no datapoints.
      if (forced === 'Forbidden' || forced === 'InternalError') return { Id: id, Label: id, Timestamps: [], Values: [], StatusCode: forced } as MetricDataResult;
      const points: Array<[number, number]> = [];
      for (let minute = Math.ceil(start / 60) * 60; minute < end; minute += 60) {
        const value = valueOf(id, minute);
        if (value !== undefined) points.push([minute, value]);
      }
      if (page === 0) points.push(...this.skewedDatapoints(id, this.now));
      // Page p of n carries the p-th share of every series; all but the last say PartialData.
      const share = Number.isFinite(pages) ? Math.ceil(points.length / pages) : page === 0 ? points.length : 0;
      const mine = Number.isFinite(pages) ? points.slice(page * share, (page + 1) * share) : page === 0 ? points : [];
      const last = page + 1 >= pages;
      return {
        Id: id,
        Label: id,
        Timestamps: mine.map(([t]) => new Date(t * 1000)),
        Values: mine.map(([, v]) => v),
        StatusCode: forced ?? (last ? 'Complete' : 'PartialData'),
      } as MetricDataResult;
    });
    const last = page + 1 >= pages;
    return { MetricDataResults: results, Messages: this.metricMessages, ...(last ? {} : { NextToken: `page-${page + 1}` }) };
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

/** The evaluation steps (not the report) in order: phase in, next out. */
export function trace(run: BakeRun): string[] {
  return run.steps.map((s) => `${s.input.phase}→${s.output.next}`);
}
