/**
 * The secondary action end to end: the SYNTHESIZED follow-up machine of a trigger with
 * `secondaryAction: {}` runs on aws-local-stepfunctions with the execution input the state-change
 * handler starts it with when a rollback deployment fails (core's secondaryInput), its Lambda tasks
 * on the real follow-up function against the fake AWS world; the `.waitForTaskToken` question is
 * answered by the test as a human would (SendTaskSuccess, SendTaskFailure `Rejected`, or no answer).
 * The failed rollback was moving the alias from the bad version 2 back to the known-good version 1.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  APPROVAL_REJECTED_ERROR,
  AuditDetailType,
  type BakeState,
  GUARD_ROLLBACK_DESCRIPTION,
  SECONDARY_DEPLOYMENT_DESCRIPTION,
  STATES_TIMEOUT_ERROR,
  libraryRollbackOf,
  secondaryInput,
} from '../../lib/core';
import { ALIAS, APPLICATION, DEPLOYMENT_GROUP, DEPLOYMENT_ID, ECS_CONTAINER, FUNCTION_NAME, SHA_V1, SHA_V2, T0, World, expectAudit } from '../lambda/fixtures';
import { type RunOptions, TASK_TOKEN, bakeDefinition, clockOf, runMachine } from './machine';

const ROLLBACK_ID = 'd-ROLLBACK1';
const TIMEOUT_SECONDS = 3_600;
const FAILURE = 'The deployment failed because a specified lifecycle event hook failed.';
const EXECUTION_ARN = 'arn:aws:states:us-east-1:123456789012:execution:bake:exec';

let definition: Record<string, unknown>;
beforeAll(() => {
  definition = bakeDefinition({ secondaryAction: {} }, 'FollowUp');
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** A world whose rollback deployment of the release failed; the version before the release is known-good. */
function failedRollback(options: { platform?: 'lambda' | 'ecs'; description?: string } = {}): World {
  const world = new World({ platform: options.platform });
  // The rollback deployment moves the alias from the release's version back to the previous one.
  world.versions = { current: '2', target: '1' };
  world.addDeployment(
    ROLLBACK_ID,
    {
      creator: options.description ? 'user' : 'codeDeployRollback',
      errorInformation: { code: 'HOOK_EXECUTION_FAILURE', message: FAILURE },
      ...(options.description ? { description: options.description } : { rollbackInfo: { rollbackTriggeringDeploymentId: DEPLOYMENT_ID } }),
    },
    ['Failed'],
  );
  // The failed rollback is the group's latest deployment.
  world.latestDeploymentId = ROLLBACK_ID;
  world.knownGood.seed('1', SHA_V1, APPLICATION, DEPLOYMENT_GROUP, 'd-PREVIOUS1');
  return world;
}

function secondary(world: World, answer?: RunOptions['answer']) {
  return runMachine({ definition, input: secondaryInput(ROLLBACK_ID, T0, { approvalTimeoutSeconds: TIMEOUT_SECONDS }, DEPLOYMENT_ID), evaluate: (s: BakeState) => world.handler(s), clock: clockOf(world), answer });
}

/** SendTaskFailure as the harness passes it: the error's name is Step Functions' Error, its message the Cause. */
function rejection(cause: unknown): Error {
  return Object.assign(new Error(JSON.stringify(cause)), { name: APPROVAL_REJECTED_ERROR });
}

describe('the secondary action on the synthesized machine', () => {
  it('asks with an Approval Requested event that carries the token, the commands, the action and the question', async () => {
    const world = failedRollback();
    let asked: Record<string, any> | undefined;
    await secondary(world, (entry) => {
      asked = { ...entry.Detail, detailType: entry.DetailType, source: entry.Source };
      throw rejection({ approvedBy: 'sam' });
    });
    expect(asked).toMatchObject({
      detailType: AuditDetailType.APPROVAL_REQUESTED,
      source: 'rollback-triggers',
      deploymentId: ROLLBACK_ID,
      rollbackDeploymentId: ROLLBACK_ID,
      taskToken: TASK_TOKEN,
      executionArn: EXECUTION_ARN,
      secondaryAction: { kind: 'update-alias', functionName: FUNCTION_NAME, alias: ALIAS, version: '1', integrity: SHA_V1 },
      approval: { kind: 'secondary-action', timeoutSeconds: TIMEOUT_SECONDS, expiresAt: new Date((T0 + TIMEOUT_SECONDS) * 1000).toISOString() },
      howToAnswer: {
        approve: `npx rollback-triggers approve --execution ${EXECUTION_ARN}`,
        reject: `npx rollback-triggers reject --execution ${EXECUTION_ARN}`,
      },
    });
    const question: string = asked!.approval.question;
    expect(question).toContain(`The rollback deployment ${ROLLBACK_ID} of ${DEPLOYMENT_ID} did not complete (${FAILURE})`);
    expect(question).toContain(`point alias ${ALIAS} of ${FUNCTION_NAME} at the known-good version 1 (CodeSha256 ${SHA_V1}`);
    expect(asked!.reasons).toEqual([question]);
    expect(asked!.howToAnswer.awsCliApprove).toContain('aws stepfunctions send-task-success');
  });

  it('approved: the alias points at the known-good version alone, once, after the answer; the answer and the action are audited', async () => {
    const world = failedRollback();
    let updatesWhenAsked = -1;
    const run = await secondary(world, () => {
      updatesWhenAsked = world.aliasUpdates.length;
      world.now += 600;
      return { approvedBy: 'jane', callerIdentity: 'arn:aws:sts::123456789012:assumed-role/oncall/jane' };
    });
    expect(run.status, run.error).toBe('SUCCEEDED');
    expect(updatesWhenAsked).toBe(0);
    expect(world.aliasUpdates).toEqual([{ FunctionName: FUNCTION_NAME, Name: ALIAS, FunctionVersion: '1', RoutingConfig: { AdditionalVersionWeights: {} } }]);
    const answered = expectAudit(world, AuditDetailType.APPROVAL_ANSWERED, {
      deploymentId: ROLLBACK_ID,
      rollbackDeploymentId: ROLLBACK_ID,
      approval: { kind: 'secondary-action', result: 'approved', answeredBy: 'arn:aws:sts::123456789012:assumed-role/oncall/jane', answeredBySource: 'caller-identity' },
      secondaryAction: { kind: 'update-alias', version: '1' },
    });
    expect(answered.reasons[0]).toMatch(/^approved by jane as arn:aws:sts::.*: the secondary action is taken$/);
    const taken = expectAudit(world, AuditDetailType.SECONDARY_ACTION_TAKEN, { rollbackDeploymentId: ROLLBACK_ID, toVersion: '1', approval: { result: 'approved' } });
    expect(taken.reasons[0]).toMatch(new RegExp(`^alias ${ALIAS} of ${FUNCTION_NAME} now points at the known-good version 1 alone`));
    expect(world.createdDeployments).toEqual([]);
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)).toEqual([]);
  });

  it('a redriven, approved again execution does not act again', async () => {
    const world = failedRollback();
    const approve = () => ({ approvedBy: 'jane' });
    await secondary(world, approve);
    await secondary(world, approve);
    expect(world.aliasUpdates).toHaveLength(1);
    const taken = world.audits(AuditDetailType.SECONDARY_ACTION_TAKEN);
    expect(taken).toHaveLength(2);
    expect(taken[1].idempotencyKey).toBe(taken[0].idempotencyKey);
  });

  it('rejected: nothing is done, and who rejected is audited', async () => {
    const world = failedRollback();
    const run = await secondary(world, () => {
      throw rejection({ approvedBy: 'sam', reason: 'fixing it by hand' });
    });
    expect(run.status, run.error).toBe('SUCCEEDED');
    expect(world.aliasUpdates).toEqual([]);
    expect(world.knownGood.claims.size).toBe(0);
    const answered = expectAudit(world, AuditDetailType.APPROVAL_ANSWERED, { approval: { result: 'rejected', answeredBy: 'sam' } });
    expect(answered.reasons[0]).toBe('rejected by sam (fixing it by hand): no secondary action (the escalation stands)');
    expect(world.audits(AuditDetailType.SECONDARY_ACTION_TAKEN)).toEqual([]);
  });

  it('no answer in time: nothing is done', async () => {
    const world = failedRollback();
    const run = await secondary(world, (entry) => {
      world.now += entry.Detail.approval.timeoutSeconds;
      throw Object.assign(new Error('timed out'), { name: STATES_TIMEOUT_ERROR });
    });
    expect(run.status, run.error).toBe('SUCCEEDED');
    expect(world.aliasUpdates).toEqual([]);
    const answered = expectAudit(world, AuditDetailType.APPROVAL_ANSWERED, { approval: { result: 'timed-out' } });
    expect(answered.reasons[0]).toMatch(/^no answer within 60 min .*: no secondary action \(the escalation stands\)$/);
    expect(world.audits(AuditDetailType.SECONDARY_ACTION_TAKEN)).toEqual([]);
  });

  it('the known-good version altered while a human decided: escalated, the alias does not move', async () => {
    const world = failedRollback();
    const run = await secondary(world, () => {
      world.functionVersions.set('1', 'tamperedCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC=');
      return { approvedBy: 'jane' };
    });
    expect(run.status, run.error).toBe('SUCCEEDED');
    expect(world.aliasUpdates).toEqual([]);
    expectAudit(world, AuditDetailType.APPROVAL_ANSWERED, { approval: { result: 'approved' } });
    const escalation = expectAudit(world, AuditDetailType.ESCALATION_RAISED, { rollbackDeploymentId: ROLLBACK_ID });
    expect(escalation.reasons[0]).toMatch(new RegExp(`^the approved secondary action after the failed rollback ${ROLLBACK_ID} was not taken: the known-good version 1 was altered since it was recorded`));
    expect(world.audits(AuditDetailType.SECONDARY_ACTION_TAKEN)).toEqual([]);
  });

  it.each([
    { case: 'no known-good record', arrange: (w: World) => w.knownGood.records.clear(), why: /no known-good version is recorded for the group/ },
    { case: 'a known-good version altered before asking', arrange: (w: World) => w.functionVersions.set('1', 'tamperedCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC='), why: /the known-good version 1 was altered since it was recorded/ },
  ])('$case: escalated without asking anyone', async ({ arrange, why }) => {
    const world = failedRollback();
    arrange(world);
    const run = await secondary(world);
    expect(run.status, run.error).toBe('SUCCEEDED');
    expect(run.path).not.toContain('Ask for approval');
    expect(run.auditEntries.filter((e) => e.DetailType === AuditDetailType.APPROVAL_REQUESTED)).toEqual([]);
    expect(world.aliasUpdates).toEqual([]);
    const escalation = expectAudit(world, AuditDetailType.ESCALATION_RAISED, { deploymentId: ROLLBACK_ID, rollbackDeploymentId: ROLLBACK_ID });
    expect(escalation.reasons[0]).toMatch(new RegExp(`^the rollback ${ROLLBACK_ID} failed and no secondary action can be proposed: `));
    expect(escalation.reasons[0]).toMatch(why);
  });

  it('a failed guard-window rollback, whose release is the group’s known-good record: never proposes the bad version', async () => {
    // The release succeeded (recorded known-good), breached its guard window, and the rollback deployment the window started failed.
    const world = failedRollback({ description: `${GUARD_ROLLBACK_DESCRIPTION}${DEPLOYMENT_ID}` });
    world.knownGood.seed('2', SHA_V2, APPLICATION, DEPLOYMENT_GROUP, DEPLOYMENT_ID);
    const run = await secondary(world);
    expect(run.status, run.error).toBe('SUCCEEDED');
    expect(run.path).not.toContain('Ask for approval');
    expect(world.aliasUpdates).toEqual([]);
    const escalation = expectAudit(world, AuditDetailType.ESCALATION_RAISED, { rollbackDeploymentId: ROLLBACK_ID });
    expect(escalation.reasons[0]).toContain(`the known-good record names version 2 of ${DEPLOYMENT_ID}, the release the rollback undid`);
  });

  it('ECS: approved, a new deployment of the known-good task definition, all at once, without alarms or automatic rollback', async () => {
    // The follow-up machine has no platform-dependent state (the platform is the function's configuration): the ECS world runs on the same definition.
    const world = failedRollback({ platform: 'ecs' });
    const taskDefinition = 'arn:aws:ecs:us-east-1:123456789012:task-definition/orders:7';
    const images = { web: 'repo/orders@sha256:good' };
    world.taskDefinitions.set(taskDefinition, { status: 'ACTIVE', images });
    world.knownGood.seed(taskDefinition, 'web=repo/orders@sha256:good', APPLICATION, DEPLOYMENT_GROUP, 'd-PREVIOUS1');
    let action: Record<string, unknown> | undefined;
    const run = await secondary(world, (entry) => {
      action = entry.Detail.secondaryAction;
      return { approvedBy: 'jane' };
    });
    expect(run.status, run.error).toBe('SUCCEEDED');
    expect(action).toEqual({ kind: 'ecs-deployment', taskDefinition, integrity: 'web=repo/orders@sha256:good', ...ECS_CONTAINER });
    expect(world.aliasUpdates).toEqual([]);
    expect(world.createdDeployments).toHaveLength(1);
    const created = world.createdDeployments[0];
    expect(created).toMatchObject({
      applicationName: APPLICATION,
      deploymentGroupName: DEPLOYMENT_GROUP,
      deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce',
      autoRollbackConfiguration: { enabled: false },
      overrideAlarmConfiguration: { enabled: false },
      description: `${SECONDARY_DEPLOYMENT_DESCRIPTION}${DEPLOYMENT_ID}`,
    });
    expect(libraryRollbackOf(created.description)).toBe(DEPLOYMENT_ID);
    expect(JSON.parse(created.revision!.appSpecContent!.content!).Resources).toEqual([
      { TargetService: { Type: 'AWS::ECS::Service', Properties: { TaskDefinition: taskDefinition, LoadBalancerInfo: { ContainerName: 'web', ContainerPort: 8080 } } } },
    ]);
    const taken = expectAudit(world, AuditDetailType.SECONDARY_ACTION_TAKEN, { toVersion: taskDefinition });
    expect(taken.reasons[0]).toMatch(new RegExp(`^deployment ${world.latestDeploymentId} of the known-good task definition ${taskDefinition} started`));
  });
});
