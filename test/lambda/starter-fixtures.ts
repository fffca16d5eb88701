/**
 * A small model of the AWS services the hook starter and the state-change handler call, for their
 * tests. Every SDK client is a real v3 client whose `send` is replaced by aws-sdk-client-mock (so
 * the SDK's own retries never run: what survives a fault is the handler's retry). The fakes keep
 * the state that matters:
 * - Step Functions keeps executions by name. StartExecution with a name in use succeeds only when
 *   the execution is open and the input is the same (it returns that execution); otherwise it
 *   fails with ExecutionAlreadyExists, as the API does for Standard workflows.
 * - CodeDeploy accepts ONE status per hook execution; a second report fails with
 *   LifecycleEventAlreadyCompletedException.
 * Time is a fake clock: `sleep` advances it, and the Lambda context's remaining time follows it.
 * Faults are injected per operation: the next N calls fail, or every call fails.
 */
import {
  BatchGetDeploymentTargetsCommand,
  CodeDeployClient,
  type DeploymentInfo,
  GetDeploymentCommand,
  LifecycleEventAlreadyCompletedException,
  ListDeploymentTargetsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
  type PutLifecycleEventHookExecutionStatusCommandInput,
} from '@aws-sdk/client-codedeploy';
import { DescribeTaskDefinitionCommand, DescribeTaskSetsCommand, ECSClient } from '@aws-sdk/client-ecs';
import { GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeExecutionCommand, ExecutionAlreadyExists, SFNClient, StartExecutionCommand, type StartExecutionCommandInput } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { vi } from 'vitest';
import type { AuditDetailType, AuditEvent, AuditEventDetail } from '../../lib/core';
import type { AuditSink } from '../../lambda/shared/audit';
import type { HandlerLogger } from '../../lambda/shared/handler-kit';
import type { StateChangeDeps } from '../../lambda/state-change/index';
import type { KnownGoodStore } from '../../lambda/shared/state';
import { APPLICATION, ALIAS, CLIENT_CONFIG, DEPLOYMENT_GROUP, FUNCTION_NAME, SHA_V1, SHA_V2, T0, awsError } from './scenario';
import { getFunctionAnswer } from './scenario';
export { APPLICATION, ALIAS, CLIENT_CONFIG, DEPLOYMENT_GROUP, DEPLOYMENT_ID, FUNCTION_NAME, HOOK_ID, SHA_V1, SHA_V2, T0, awsError, serverError, throttling } from './scenario';

/** What a real hook execution id looks like: ~288 base64 characters with `+`, `/` and `=`. */
export const REAL_HOOK_ID = `${'eyJlbmNyeXB0ZWREYXRhIjoiK3Bz/Yz'.repeat(9)}+/Ab==`;
export const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:rollback-bake';
export const ECS_SERVICE_ARN = 'arn:aws:ecs:us-east-1:123456789012:service/orders-cluster/orders-svc';

// ---------------------------------------------------------------------------------------------
// Errors as the SDK raises them.

export const accessDenied = () => awsError('AccessDeniedException', 400, 'User is not authorized to perform this action');

export type Op =
  | 'StartExecution'
  | 'DescribeExecution'
  | 'GetDeployment'
  | 'ListDeploymentTargets'
  | 'BatchGetDeploymentTargets'
  | 'PutLifecycleEventHookExecutionStatus'
  | 'GetFunction'
  | 'DescribeTaskSets'
  | 'DescribeTaskDefinition';

export interface Execution {
  readonly arn: string;
  readonly input: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';
}

export interface DeploymentOptions extends Partial<DeploymentInfo> {
  /** Lambda (default) or ECS targets. */
  readonly platform?: 'lambda' | 'ecs';
  readonly currentVersion?: string;
  readonly targetVersion?: string;
}

export class World {
  /** Epoch seconds; `sleep` advances it. */
  now = T0;
  readonly sleeps: number[] = [];
  readonly sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    this.now += ms / 1000;
  };

  readonly executions = new Map<string, Execution>();
  readonly deployments = new Map<string, DeploymentOptions>();
  /** Lambda versions that exist, with their CodeSha256. */
  readonly functionVersions = new Map<string, string>([
    ['1', SHA_V1],
    ['2', SHA_V2],
  ]);
  /** CodeDeploy's record of hook outcomes: the first status reported wins. */
  readonly hookOutcomes = new Map<string, 'Succeeded' | 'Failed'>();

  readonly sfnClient = new SFNClient(CLIENT_CONFIG);
  readonly codedeployClient = new CodeDeployClient(CLIENT_CONFIG);
  readonly lambdaClient = new LambdaClient(CLIENT_CONFIG);
  readonly ecsClient = new ECSClient(CLIENT_CONFIG);
  readonly sfn = mockClient(this.sfnClient);
  readonly cd = mockClient(this.codedeployClient);
  readonly lam = mockClient(this.lambdaClient);
  readonly ecs = mockClient(this.ecsClient);

  /** Audit events handed to the sink. */
  readonly audited: AuditEvent[] = [];
  /** Make the audit sink itself throw (a broken sink must never break a handler). */
  auditThrows = false;
  readonly auditSink: AuditSink = {
    publish: async (events) => {
      if (this.auditThrows) throw awsError('InternalFailure', 500);
      this.audited.push(...events);
    },
  };

  readonly logger: HandlerLogger = { info: vi.fn(), warn: vi.fn(), error: vi.fn() };
  readonly metrics = { addDimension: vi.fn(), addMetric: vi.fn(), publishStoredMetrics: vi.fn() };

  private readonly queued = new Map<Op, Error[]>();
  private readonly always = new Map<Op, () => Error>();
  private readonly counts = new Map<Op, number>();

  constructor() {
    this.wire();
  }

  /** A Lambda context with `budgetMs` left now; the time left follows the clock. */
  context(budgetMs = 60_000): { getRemainingTimeInMillis(): number } {
    const start = this.now;
    return { getRemainingTimeInMillis: () => Math.max(0, budgetMs - (this.now - start) * 1000) };
  }

  addDeployment(id: string, options: DeploymentOptions = {}): this {
    this.deployments.set(id, {
      deploymentId: id,
      applicationName: APPLICATION,
      deploymentGroupName: DEPLOYMENT_GROUP,
      creator: 'user',
      status: 'InProgress',
      createTime: new Date((T0 - 600) * 1000),
      ...options,
    });
    return this;
  }

  /** The next calls of `op` fail with these errors, in order. */
  failNext(op: Op, ...errors: Error[]): this {
    this.queued.set(op, [...(this.queued.get(op) ?? []), ...errors]);
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

  calls(op: Op): number {
    return this.counts.get(op) ?? 0;
  }

  startCalls(): StartExecutionCommandInput[] {
    return this.sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input);
  }

  reportCalls(): string[] {
    return this.cd.commandCalls(PutLifecycleEventHookExecutionStatusCommand).map((c) => c.args[0].input.status!);
  }

  audits(type: AuditDetailType): AuditEventDetail[] {
    return this.audited.filter((e) => e.detailType === type).map((e) => e.detail);
  }

  /** Log lines of one level, as [message, extra]. */
  logLines(level: 'info' | 'warn' | 'error'): Array<[string, Record<string, unknown> | undefined]> {
    return (this.logger[level] as ReturnType<typeof vi.fn>).mock.calls as Array<[string, Record<string, unknown> | undefined]>;
  }

  private dispatch<T>(op: Op, normal: () => T): T {
    this.counts.set(op, this.calls(op) + 1);
    const fault = this.queued.get(op)?.shift();
    if (fault) throw fault;
    const always = this.always.get(op);
    if (always) throw always();
    return normal();
  }

  private wire(): void {
    this.sfn.on(StartExecutionCommand).callsFake((input: StartExecutionCommandInput) =>
      this.dispatch('StartExecution', () => {
        const existing = this.executions.get(input.name!);
        if (existing) {
          if (existing.status === 'RUNNING' && existing.input === input.input) return { executionArn: existing.arn, startDate: new Date(this.now * 1000) };
          throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${existing.arn}'`, $metadata: { httpStatusCode: 400 } });
        }
        const arn = `${input.stateMachineArn!.replace(':stateMachine:', ':execution:')}:${input.name}`;
        this.executions.set(input.name!, { arn, input: input.input!, status: 'RUNNING' });
        return { executionArn: arn, startDate: new Date(this.now * 1000) };
      }),
    );
    this.sfn.on(DescribeExecutionCommand).callsFake((input: { executionArn: string }) =>
      this.dispatch('DescribeExecution', () => {
        const execution = [...this.executions.values()].find((e) => e.arn === input.executionArn);
        if (!execution) throw awsError('ExecutionDoesNotExist', 400);
        return { executionArn: execution.arn, status: execution.status, input: execution.input };
      }),
    );
    this.cd.on(GetDeploymentCommand).callsFake((input: { deploymentId: string }) =>
      this.dispatch('GetDeployment', () => {
        const d = this.deployments.get(input.deploymentId);
        if (!d) throw awsError('DeploymentDoesNotExistException', 400, `deployment ${input.deploymentId} does not exist`);
        const { platform: _p, currentVersion: _c, targetVersion: _t, ...info } = d;
        return { deploymentInfo: info };
      }),
    );
    this.cd.on(PutLifecycleEventHookExecutionStatusCommand).callsFake((input: PutLifecycleEventHookExecutionStatusCommandInput) =>
      this.dispatch('PutLifecycleEventHookExecutionStatus', () => {
        const hookId = input.lifecycleEventHookExecutionId!;
        if (this.hookOutcomes.has(hookId)) {
          throw new LifecycleEventAlreadyCompletedException({ message: `Lifecycle event ${hookId} is already completed`, $metadata: { httpStatusCode: 400 } });
        }
        this.hookOutcomes.set(hookId, input.status as 'Succeeded' | 'Failed');
        return { lifecycleEventHookExecutionId: hookId };
      }),
    );
    this.cd.on(ListDeploymentTargetsCommand).callsFake((input: { deploymentId: string }) =>
      this.dispatch('ListDeploymentTargets', () => ({ targetIds: [`target-of-${input.deploymentId}`] })),
    );
    this.cd.on(BatchGetDeploymentTargetsCommand).callsFake((input: { deploymentId: string; targetIds: string[] }) =>
      this.dispatch('BatchGetDeploymentTargets', () => {
        const d = this.deployments.get(input.deploymentId);
        const current = d?.currentVersion ?? '1';
        const target = d?.targetVersion ?? '2';
        if (d?.platform === 'ecs') {
          return {
            deploymentTargets: [
              {
                deploymentTargetType: 'ECSTarget',
                ecsTarget: {
                  deploymentId: input.deploymentId,
                  targetId: input.targetIds[0],
                  targetArn: ECS_SERVICE_ARN,
                  status: 'Succeeded',
                  taskSetsInfo: [
                    { identifer: `ecs-svc/${current}`, taskSetLabel: 'Blue', targetGroup: { name: 'tg-blue' } },
                    { identifer: `ecs-svc/${target}`, taskSetLabel: 'Green', targetGroup: { name: 'tg-green' } },
                  ],
                },
              },
            ],
          };
        }
        return {
          deploymentTargets: [
            {
              deploymentTargetType: 'LambdaTarget',
              lambdaTarget: {
                deploymentId: input.deploymentId,
                targetId: input.targetIds[0],
                status: 'Succeeded',
                lambdaFunctionInfo: { functionName: FUNCTION_NAME, functionAlias: ALIAS, currentVersion: current, targetVersion: target },
              },
            },
          ],
        };
      }),
    );
    this.lam.on(GetFunctionCommand).callsFake((input: { FunctionName: string; Qualifier?: string }) =>
      this.dispatch('GetFunction', () => getFunctionAnswer(this.functionVersions, input)),
    );
    this.ecs.on(DescribeTaskSetsCommand).callsFake((input: { taskSets: string[] }) =>
      this.dispatch('DescribeTaskSets', () => ({ taskSets: [{ id: input.taskSets[0], taskDefinition: `arn:aws:ecs:us-east-1:123456789012:task-definition/orders:${input.taskSets[0].split('/')[1]}` }] })),
    );
    this.ecs.on(DescribeTaskDefinitionCommand).callsFake((input: { taskDefinition: string }) =>
      this.dispatch('DescribeTaskDefinition', () => ({
        taskDefinition: {
          taskDefinitionArn: input.taskDefinition,
          status: 'ACTIVE',
          containerDefinitions: [{ name: 'app', image: `123456789012.dkr.ecr.us-east-1.amazonaws.com/orders@sha256:${input.taskDefinition.split(':').pop()}` }],
        },
      })),
    );
  }
}

/** A lazy dependency that is already there. */
export const ready =
  <T>(value: T) =>
  async (): Promise<T> =>
    value;

/** An EventBridge "CodeDeploy Deployment State-change Notification" of a deployment, as the state-change function receives it. */
export function stateChange(deploymentId: string, state: string, names: { application?: string; deploymentGroup?: string } = { application: APPLICATION, deploymentGroup: DEPLOYMENT_GROUP }) {
  return {
    version: '0',
    id: 'c8e8a0b5-0000-0000-0000-000000000000',
    source: 'aws.codedeploy',
    'detail-type': 'CodeDeploy Deployment State-change Notification',
    region: 'us-east-1',
    detail: { region: 'us-east-1', deploymentId, instanceGroupId: 'ig', state, ...names },
  };
}

/** The state-change function's wiring in a test: the world's clients, clock and audit, and `store`. */
export function stateChangeDeps(world: World, store: KnownGoodStore): StateChangeDeps {
  return {
    applicationName: APPLICATION,
    deploymentGroupName: DEPLOYMENT_GROUP,
    codedeploy: ready(world.codedeployClient),
    lambda: ready(world.lambdaClient),
    ecs: ready(world.ecsClient),
    store: ready(store),
    audit: world.auditSink,
    logger: world.logger,
    metrics: world.metrics,
    now: () => world.now,
    sleep: world.sleep,
  };
}
