/**
 * The whole evaluator path with real code at every step: CodeDeploy's hook event reaches the real
 * hook function (lambda/starter), whose StartExecution runs the SYNTHESIZED state machine on
 * aws-local-stepfunctions; its Lambda tasks run the real evaluator (lambda/evaluator) against the
 * fake AWS world of test/lambda/fixtures.ts (aws-sdk-client-mock: CodeDeploy accepting one status
 * per hook, CloudWatch answering GetMetricData per minute, EventBridge); its SDK-integration tasks
 * (the report, the fail-closed GetDeployment and PutEvents) call the same fakes.
 */
import { PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { DescribeExecutionCommand, ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuditDetailType, type BakeExecutionInput, type BakeState } from '../../lib/core';
import { createStarter } from '../../lambda/starter/index';
import { eventBridgeAudit } from '../../lambda/shared/audit';
import { APPLICATION, CLIENT_CONFIG, DEADLINE, DEPLOYMENT_GROUP, DEPLOYMENT_ID, HOOK_ID, T0, World, expectAudit, expectReports, throttling, traffic } from '../lambda/fixtures';
import { bakeDefinition, runMachine, type RunResult } from './machine';
import { TriggerMode } from '../../lib';

const STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:123456789012:stateMachine:bake';

let definition: Record<string, unknown>;
let shadowDefinition: Record<string, unknown>;
beforeAll(() => {
  definition = bakeDefinition();
  shadowDefinition = bakeDefinition({ mode: TriggerMode.SHADOW });
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** Step Functions for the hook function: StartExecution runs the synthesized machine locally. */
class LocalStepFunctions {
  readonly client = new SFNClient(CLIENT_CONFIG);
  readonly mock = mockClient(this.client);
  readonly executions = new Map<string, { input: string; run: Promise<RunResult>; status: string }>();

  constructor(world: World, evaluate?: (state: BakeState) => Promise<BakeState>, shadow = false) {
    this.mock.on(StartExecutionCommand).callsFake(async (input: { name: string; input: string }) => {
      const existing = this.executions.get(input.name);
      // Standard workflows: the same name and input while open is the same execution; otherwise
      // ExecutionAlreadyExists (StartExecution API reference).
      if (existing && !(existing.status === 'RUNNING' && existing.input === input.input)) {
        throw new ExecutionAlreadyExists({ message: `Execution Already Exists: '${input.name}'`, $metadata: {} });
      }
      if (!existing) {
        const record = { input: input.input, status: 'RUNNING', run: undefined as unknown as Promise<RunResult> };
        record.run = runBake(world, JSON.parse(input.input), evaluate, shadow).then((r) => {
          record.status = r.status;
          return r;
        });
        this.executions.set(input.name, record);
      }
      return { executionArn: `${STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${input.name}`, startDate: new Date() };
    });
    this.mock.on(DescribeExecutionCommand).callsFake(async (input: { executionArn: string }) => {
      const name = input.executionArn.split(':').pop()!;
      return { executionArn: input.executionArn, status: this.executions.get(name)?.status ?? 'RUNNING', startDate: new Date() };
    });
  }

  async settle(): Promise<RunResult[]> {
    return Promise.all([...this.executions.values()].map((e) => e.run));
  }
}

/** One execution of the synthesized machine, its tasks bound to the world's real handlers and fakes. */
function runBake(world: World, input: BakeExecutionInput, evaluate?: (state: BakeState) => Promise<BakeState>, shadow = false): Promise<RunResult> {
  return runMachine({
    definition: shadow ? shadowDefinition : definition,
    input,
    evaluate: evaluate ?? ((state) => world.handler(state)),
    clock: {
      now: () => world.now,
      advance: (seconds) => {
        world.now += seconds;
      },
    },
    // The report goes through the world's CodeDeploy, whose errors Step Functions names `CodeDeploy.<name>`.
    codedeploy: {
      reports: [],
      report: async (p: { DeploymentId: string; LifecycleEventHookExecutionId: string; Status: string }) => {
        try {
          await world.codedeploy.send(
            new PutLifecycleEventHookExecutionStatusCommand({ deploymentId: p.DeploymentId, lifecycleEventHookExecutionId: p.LifecycleEventHookExecutionId, status: p.Status as 'Failed' }),
          );
          return {};
        } catch (e) {
          throw Object.assign(new Error((e as Error).message), { name: `CodeDeploy.${(e as Error).name}` });
        }
      },
      getDeployment: () => ({ DeploymentInfo: { Creator: world.deployment().info.creator } }),
    } as never,
  });
}

function hook(world: World, sfn: LocalStepFunctions, shadow = false) {
  return createStarter({
    shadow,
    stateMachineArn: STATE_MACHINE_ARN,
    sfn: async () => sfn.client,
    codedeploy: async () => world.codedeploy,
    audit: eventBridgeAudit(world.events, 'rollback-audit', world.logger, async () => undefined),
    logger: world.logger,
    now: () => world.now,
    sleep: async (ms) => {
      world.now += ms / 1000;
    },
  });
}

async function release(world: World, options: { evaluate?: (state: BakeState) => Promise<BakeState>; shadow?: boolean } = {}): Promise<RunResult> {
  const sfn = new LocalStepFunctions(world, options.evaluate, options.shadow);
  await hook(world, sfn, options.shadow)({ DeploymentId: DEPLOYMENT_ID, LifecycleEventHookExecutionId: HOOK_ID }, { getRemainingTimeInMillis: () => 170_000 });
  const runs = await sfn.settle();
  expect(runs.length).toBe(1);
  return runs[0];
}

describe('a release through the hook function, the synthesized machine and the real evaluator', () => {
  it('clean release: the whole bake on the new version’s own traffic, then one Succeeded with the evidence', async () => {
    const world = new World({ traffic: traffic.clean() });
    const run = await release(world);
    expect(run.status).toBe('SUCCEEDED');
    expectReports(world, { accepted: ['Succeeded'] });
    // Not before the bake (10 min) plus the metric delay (3 min) has been read.
    expect(world.accepted[0].at - T0).toBeGreaterThanOrEqual(600);
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'pass', reportedStatus: 'Succeeded', lifecycleEventHookExecutionId: HOOK_ID });
    expect(verdict.observations?.find((o) => o.arm === 'canary')?.totalEvents).toBeGreaterThan(0);
    // One GetMetricData call per tick for every SLO and arm.
    const ticks = run.path.filter((p) => p === 'Evaluate').length;
    expect(world.metricCalls().length).toBe(ticks);
  });

  it('regression (30 % errors): Failed on the first reading, CodeDeploy rolls back', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    const run = await release(world);
    expect(run.status).toBe('SUCCEEDED');
    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at - T0).toBeLessThan(60);
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed' });
  });

  it('the error count Forbidden on a release failing 30 %: never Succeeded', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.statusModel = (id) => (id.endsWith('_canary_n') ? 'Forbidden' : undefined);
    await release(world);
    expectReports(world, { accepted: ['Failed'] });
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Failed' });
  });

  it('GetDeployment failing for the whole hook: Succeeded only at the deadline, with an escalation', async () => {
    const world = new World({ traffic: traffic.clean() });
    world.failAlways('GetDeployment', throttling);
    await release(world);
    expectReports(world, { accepted: ['Succeeded'] });
    expect(world.accepted[0].at).toBeGreaterThanOrEqual(DEADLINE);
    // It names the trigger's own group although the deployment was never read: the notices rule matches on it.
    expectAudit(world, AuditDetailType.ESCALATION_RAISED, { deploymentGroupName: DEPLOYMENT_GROUP, applicationName: APPLICATION });
  });

  it('AfterAllowTestTraffic with GetMetricData denied on every call: never Succeeded', async () => {
    const world = new World({ traffic: traffic.clean(), lifecycleEvent: 'AfterAllowTestTraffic' });
    world.failAlways('GetMetricData', () => Object.assign(new Error('denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    await release(world);
    expectReports(world, { accepted: ['Failed'] });
  });

  it('BeforeAllowTraffic with the known-good record unreadable: inconclusive, not "none recorded"', async () => {
    const world = new World({ lifecycleEvent: 'BeforeAllowTraffic' });
    world.failAlways('KnownGoodGet', () => Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } }));
    const run = await release(world);
    expect(run.path).not.toContain('Read deployment'); // decided by the evaluator, not its fail-closed fallback
    expectReports(world, { accepted: ['Failed'] });
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive' });
  });

  it('a throttled read at the last tick of a healthy bake: another tick, then Succeeded', async () => {
    const world = new World({ traffic: traffic.clean() });
    world.failDuring('GetMetricData', T0 + 590, T0 + 720, throttling);
    await release(world);
    expectReports(world, { accepted: ['Succeeded'] });
  });

  it('a tick that crashes is run again by the machine with the same state, and decides the same', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    let crashes = 0;
    const run = await release(world, {
      evaluate: async (state) => {
        if (state.phase === 'resolve' && crashes === 0) {
          crashes++;
          throw Object.assign(new Error('Task timed out after 180.00 seconds'), { name: 'Sandbox.Timedout' });
        }
        return world.handler(state);
      },
    });
    expect(crashes).toBe(1);
    expect(run.path.filter((p) => p === 'Evaluate').length).toBe(1); // retried inside the state
    expectReports(world, { accepted: ['Failed'] });
  });

  it('the tick that would pass crashes once: run again with the same state, the same verdict, one report', async () => {
    const reference = new World({ traffic: traffic.clean() });
    await release(reference);
    const passedAt = reference.accepted[0].at;

    const world = new World({ traffic: traffic.clean() });
    let crashedAt: number | undefined;
    await release(world, {
      evaluate: async (state) => {
        if (state.phase === 'tick' && crashedAt === undefined && world.now >= passedAt) {
          crashedAt = world.now;
          throw Object.assign(new Error('Task timed out after 180.00 seconds'), { name: 'Sandbox.Timedout' });
        }
        return world.handler(state);
      },
    });
    // (The harness does not advance the clock for the machine's retry interval; the step is
    // stateless, so only the data it reads could change the verdict.)
    expect(crashedAt).toBe(passedAt);
    expectReports(world, { accepted: ['Succeeded'] });
  });

  it('an evaluator that cannot run at all: the machine reports Failed itself and audits why', async () => {
    const world = new World({ traffic: traffic.clean() });
    const run = await release(world, {
      evaluate: async () => {
        throw Object.assign(new Error("Cannot find module 'index'"), { name: 'Runtime.ImportModuleError' });
      },
    });
    expect(run.status).toBe('FAILED');
    expectReports(world, { accepted: ['Failed'] });
    expect(run.auditEntries.map((e) => e.DetailType)).toEqual(['Deployment Verdict', 'Escalation Raised']);
  });

  it('the deadline: no data for the whole hook → inconclusive, Failed before CodeDeploy’s hour', async () => {
    const world = new World({ traffic: traffic.none() });
    await release(world, {});
    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at - T0).toBeLessThan(3_600);
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Failed' });
  });

  it('a duplicate hook invocation starts nothing and reports nothing: suppressed with the execution’s status', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    const sfn = new LocalStepFunctions(world);
    const start = hook(world, sfn);
    const event = { DeploymentId: DEPLOYMENT_ID, LifecycleEventHookExecutionId: HOOK_ID };
    await start(event, { getRemainingTimeInMillis: () => 170_000 });
    world.now += 5;
    await start(event, { getRemainingTimeInMillis: () => 170_000 });
    await sfn.settle();
    await start(event, { getRemainingTimeInMillis: () => 170_000 });
    expect(sfn.executions.size).toBe(1);
    expectReports(world, { accepted: ['Failed'] });
    const suppressed = world.audits(AuditDetailType.TRIGGER_SUPPRESSED);
    expect(suppressed.map((s) => s.reasons.join(' '))).toEqual([expect.stringMatching(/RUNNING/), expect.stringMatching(/SUCCEEDED/)]);
  });

  it('hooks of a rollback deployment: Succeeded at once, never blocked', async () => {
    const world = new World({ traffic: traffic.broken(0.9), creator: 'codeDeployRollback' });
    await release(world);
    expectReports(world, { accepted: ['Succeeded'] });
    expect(world.accepted[0].at - T0).toBeLessThan(5);
  });

  it('a deployment stopped mid-bake: nothing is reported, the audit says CodeDeploy decided', async () => {
    const world = new World({ traffic: traffic.clean() });
    world.deployment().statuses.push('InProgress', 'InProgress', 'Stopped');
    const run = await release(world);
    expect(run.status).toBe('SUCCEEDED');
    expectReports(world, { accepted: [] });
    expectAudit(world, AuditDetailType.TRIGGER_SUPPRESSED);
  });
});

describe('shadow mode (TriggerMode.SHADOW): the whole bake runs and audits, CodeDeploy is never told Failed', () => {
  const shadowWorld = (traffic: NonNullable<ConstructorParameters<typeof World>[0]>['traffic']) => new World({ traffic, config: { mode: 'shadow' } });

  it('a regression that enforcing rolls back: Succeeded reported, the verdict audited as fail with wouldRollback', async () => {
    const world = shadowWorld(traffic.broken(0.3));
    const run = await release(world, { shadow: true });
    expect(run.status).toBe('SUCCEEDED');
    expectReports(world, { accepted: ['Succeeded'] });
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Succeeded', wouldRollback: true });
    expect(verdict.reasons[0]).toMatch(/^shadow mode: the trigger would have reported Failed/);
  });

  it('a clean release: Succeeded as when enforcing, and no wouldRollback', async () => {
    const world = shadowWorld(traffic.clean());
    await release(world, { shadow: true });
    expectReports(world, { accepted: ['Succeeded'] });
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'pass', reportedStatus: 'Succeeded' });
    expect(verdict.wouldRollback).toBeUndefined();
  });

  it('no data for the whole hook (inconclusive, fail closed when enforcing): Succeeded, audited with wouldRollback', async () => {
    const world = shadowWorld(traffic.none());
    await release(world, { shadow: true });
    expectReports(world, { accepted: ['Succeeded'] });
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Succeeded', wouldRollback: true });
  });

  it('an evaluator that cannot run at all: the machine itself reports Succeeded, audits wouldRollback and escalates', async () => {
    const world = shadowWorld(traffic.clean());
    const run = await release(world, {
      shadow: true,
      evaluate: async () => {
        throw Object.assign(new Error("Cannot find module 'index'"), { name: 'Runtime.ImportModuleError' });
      },
    });
    expectReports(world, { accepted: ['Succeeded'] });
    expect(run.auditEntries.map((e) => e.DetailType)).toEqual(['Deployment Verdict', 'Escalation Raised']);
    expect(run.auditEntries[0].Detail).toMatchObject({ reportedStatus: 'Succeeded', verdict: 'inconclusive', wouldRollback: true });
  });
});
