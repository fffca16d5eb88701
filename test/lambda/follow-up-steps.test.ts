/**
 * The follow-up function's guard-window and secondary-action steps under AWS faults, driven the way
 * the follow-up machine drives them (World.bake: evaluate, wait, evaluate) against the fake world.
 * What must hold whatever fails: a rollback deployment or an alias move happens at most once, a
 * failure to act is escalated with its cause, and each function runs only its own phases.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditDetailType, type BakeState, SECONDARY_DEPLOYMENT_DESCRIPTION, actionClaimKey, guardInput, secondaryInput } from '../../lib/core';
import { APPLICATION, DEPLOYMENT_GROUP, DEPLOYMENT_ID, ECS_CONTAINER, SHA_V1, SHA_V2, T0, type TrafficModel, World, awsError, expectAudit, throttling, timeout, traffic } from './fixtures';

const SETTINGS = { durationSeconds: 3_600, metricDelaySeconds: 180 };
const ROLLBACK_ID = 'd-ROLLBACK1';
const TASK_DEFINITION = 'arn:aws:ecs:us-east-1:123456789012:task-definition/orders:7';
const IMAGES = { web: 'repo/orders@sha256:good' };
const ECS_INTEGRITY = 'web=repo/orders@sha256:good';

afterEach(() => {
  vi.restoreAllMocks();
});

/** The release's own traffic: 30 % of its requests failing from 30 min after its success. */
const regression: TrafficModel = (id, minute) => (id.endsWith('_t') ? 1_000 : id.startsWith('s0_canary') && minute >= T0 + 1_800 ? 300 : 0);

function guardWorld(platform: 'lambda' | 'ecs' = 'lambda'): World {
  const world = new World({ platform, traffic: regression });
  if (platform === 'ecs') world.taskDefinitions.set(TASK_DEFINITION, { status: 'ACTIVE', images: IMAGES });
  return world;
}

function guardState(platform: 'lambda' | 'ecs' = 'lambda'): BakeState {
  return guardInput(DEPLOYMENT_ID, T0, SETTINGS, platform === 'ecs' ? { version: TASK_DEFINITION, integrity: ECS_INTEGRITY } : { version: '1', integrity: SHA_V1 });
}

function escalations(world: World): string[] {
  return world.audits(AuditDetailType.ESCALATION_RAISED).map((e) => e.reasons[0]);
}

describe('guard window: the rollback deployment is created at most once', () => {
  it('a claim that stands without a result (an earlier attempt stopped between the claim and AWS’s answer): escalated, never a second CreateDeployment', async () => {
    const world = guardWorld();
    world.knownGood.claims.set(actionClaimKey('guard', DEPLOYMENT_ID), { claimedAt: T0 + 1_900 });
    const run = await world.bake(guardState());
    expect(run.final.next).toBe('done');
    expect(world.calls('CreateDeployment')).toBe(0);
    expect(world.audits(AuditDetailType.ROLLBACK_TRIGGERED)).toEqual([]);
    expect(escalations(world)).toEqual([
      expect.stringMatching(new RegExp(`an earlier attempt claimed the action at ${new Date((T0 + 1_900) * 1000).toISOString()} without confirming it .* not repeated, check the deployment group: a human must roll it back$`)),
    ]);
  });

  it('a claim whose write timed out after it applied: the resent claim is refused, but the claim is this attempt’s own (its owner token): the rollback is created, once', async () => {
    const world = guardWorld();
    world.failNext('ClaimAction', { error: timeout(), applied: true });
    await world.bake(guardState());
    expect(world.calls('ClaimAction')).toBe(2);
    expect(world.calls('CreateDeployment')).toBe(1);
    expect(escalations(world)).toEqual([]);
    expectAudit(world, AuditDetailType.ROLLBACK_TRIGGERED, { reason: 'guard-window', rollbackDeploymentId: world.latestDeploymentId });
  });

  it('a claim another attempt wrote (another owner token) without a result: not acted on', async () => {
    const world = guardWorld();
    world.knownGood.claims.set(actionClaimKey('guard', DEPLOYMENT_ID), { claimedAt: T0 + 1_900, owner: 'another-attempt' });
    await world.bake(guardState());
    expect(world.calls('CreateDeployment')).toBe(0);
    expect(escalations(world)).toEqual([expect.stringContaining('without confirming it')]);
  });

  it('a claim that cannot be written: not acted on, escalated with the cause', async () => {
    const world = guardWorld();
    world.failAlways('ClaimAction', () => awsError('ResourceNotFoundException', 400, 'Requested resource not found'));
    await world.bake(guardState());
    expect(world.calls('CreateDeployment')).toBe(0);
    expect(escalations(world)).toEqual([expect.stringContaining('the action could not be claimed in the state table (ResourceNotFoundException: Requested resource not found), so it was not taken')]);
  });

  it('a result that could not be recorded: the rollback stands, and a repeat of the step never creates a second one', async () => {
    const world = guardWorld();
    world.failAlways('RecordActionResult', () => awsError('ResourceNotFoundException', 400));
    await world.bake(guardState());
    expect(world.createdDeployments).toHaveLength(1);
    expectAudit(world, AuditDetailType.ROLLBACK_TRIGGERED, { reason: 'guard-window', rollbackDeploymentId: world.latestDeploymentId });
    // A redriven execution that does not see the rollback as the group's latest deployment.
    world.failAlways('GetDeploymentGroup', () => awsError('DeploymentGroupDoesNotExistException', 400));
    await world.bake(guardState());
    expect(world.calls('CreateDeployment')).toBe(1);
    expect(escalations(world)).toEqual([expect.stringContaining('without confirming it')]);
  });

  it('CreateDeployment refused: escalated naming CodeDeploy’s error; the claim stands, so a repeat does not try again', async () => {
    const world = guardWorld();
    world.failAlways('CreateDeployment', () => awsError('DeploymentLimitExceededException', 400, 'The deployment group already has an active deployment'));
    await world.bake(guardState());
    expect(world.calls('CreateDeployment')).toBe(1);
    expect(world.audits(AuditDetailType.ROLLBACK_TRIGGERED)).toEqual([]);
    expect(escalations(world)).toEqual([expect.stringContaining('the action failed (DeploymentLimitExceededException: The deployment group already has an active deployment): a human must roll it back')]);
    world.heal('CreateDeployment');
    await world.bake(guardState());
    expect(world.calls('CreateDeployment')).toBe(1);
  });

  it('CreateDeployment throttled: resent (nothing was created), exactly one rollback deployment', async () => {
    const world = guardWorld();
    world.failNext('CreateDeployment', throttling(), throttling());
    await world.bake(guardState());
    expect(world.calls('CreateDeployment')).toBe(3);
    expect(world.createdDeployments).toHaveLength(1);
    expectAudit(world, AuditDetailType.ROLLBACK_TRIGGERED, { rollbackDeploymentId: world.latestDeploymentId });
  });

  it('CreateDeployment timed out after CodeDeploy created it: never resent (no idempotency token), escalated to be checked', async () => {
    const world = guardWorld();
    world.failNext('CreateDeployment', { error: timeout(), applied: true });
    await world.bake(guardState());
    expect(world.calls('CreateDeployment')).toBe(1);
    expect(world.createdDeployments).toHaveLength(1);
    expect(escalations(world)).toEqual([expect.stringMatching(/the action failed \(CreateDeploymentUnconfirmed: CreateDeployment may have started a deployment \(TimeoutError: .*\); not resent: check the deployment group\)/)]);
  });

  it('the deployment group unreadable: judged as no newer deployment, and the breach is still rolled back once', async () => {
    const world = guardWorld();
    world.failAlways('GetDeploymentGroup', () => awsError('AccessDeniedException', 400, 'not authorized to perform codedeploy:GetDeploymentGroup'));
    const run = await world.bake(guardState());
    expect(run.final.next).toBe('done');
    expect(world.createdDeployments).toHaveLength(1);
    expectAudit(world, AuditDetailType.ROLLBACK_TRIGGERED, { reason: 'guard-window' });
    expect(world.logs.some((l) => l.level === 'WARN' && l.message.startsWith('could not read the deployment group'))).toBe(true);
  });

  it('ECS: the rollback deployment deploys the known-good task definition behind the service’s load-balanced container', async () => {
    const world = guardWorld('ecs');
    // The release's task set runs revision 8: the audit names both versions as task definitions.
    const releaseDefinition = 'arn:aws:ecs:us-east-1:123456789012:task-definition/orders:8';
    world.taskSets.set('ecs-svc/green', releaseDefinition);
    world.taskDefinitions.set(releaseDefinition, { status: 'ACTIVE', images: { web: 'repo/orders@sha256:bad' } });
    await world.bake(guardState('ecs'));
    expect(world.createdDeployments).toHaveLength(1);
    const created = world.createdDeployments[0];
    expect(created.deploymentConfigName).toBe('CodeDeployDefault.ECSAllAtOnce');
    expect(JSON.parse(created.revision!.appSpecContent!.content!).Resources).toEqual([
      { TargetService: { Type: 'AWS::ECS::Service', Properties: { TaskDefinition: TASK_DEFINITION, LoadBalancerInfo: { ContainerName: 'web', ContainerPort: 8080 } } } },
    ]);
    expectAudit(world, AuditDetailType.ROLLBACK_TRIGGERED, { reason: 'guard-window', fromVersion: releaseDefinition, toVersion: TASK_DEFINITION, rollbackDeploymentId: world.latestDeploymentId });
  });

  it('ECS: a known-good task definition no longer ACTIVE is not deployed', async () => {
    const world = guardWorld('ecs');
    world.taskDefinitions.set(TASK_DEFINITION, { status: 'INACTIVE', images: IMAGES });
    await world.bake(guardState('ecs'));
    expect(world.calls('CreateDeployment')).toBe(0);
    expect(escalations(world)).toEqual([expect.stringContaining(`the known-good version ${TASK_DEFINITION} no longer exists (or is no longer ACTIVE)`)]);
  });
});

/** A failed rollback deployment of the release, with the version before it recorded known-good. */
function secondaryWorld(platform: 'lambda' | 'ecs' = 'lambda'): World {
  const world = new World({ platform, traffic: traffic.clean() });
  world.versions = { current: '2', target: '1' };
  world.addDeployment(ROLLBACK_ID, { creator: 'codeDeployRollback', errorInformation: { code: 'HOOK_EXECUTION_FAILURE', message: 'a lifecycle event hook failed' } }, ['Failed']);
  // The failed rollback is the group's latest deployment.
  world.latestDeploymentId = ROLLBACK_ID;
  if (platform === 'ecs') {
    world.taskDefinitions.set(TASK_DEFINITION, { status: 'ACTIVE', images: IMAGES });
    world.knownGood.seed(TASK_DEFINITION, ECS_INTEGRITY, APPLICATION, DEPLOYMENT_GROUP, 'd-PREVIOUS1');
  } else {
    world.knownGood.seed('1', SHA_V1, APPLICATION, DEPLOYMENT_GROUP, 'd-PREVIOUS1');
  }
  return world;
}

const secondaryState = () => secondaryInput(ROLLBACK_ID, T0, { approvalTimeoutSeconds: 1_800 }, DEPLOYMENT_ID);

/** What the machine hands back after `Ask for approval`: the answer (SendTaskSuccess's output) under the request. */
function approved(asked: BakeState, answer: unknown = { approvedBy: 'jane' }): BakeState {
  const s = asked.secondary!;
  return { ...asked, phase: 'secondary-answered', secondary: { ...s, request: { ...s.request!, answer } } };
}

describe('secondary action steps', () => {
  it('ECS: proposes a deployment of the known-good task definition with the service’s container, and on approval creates it once', async () => {
    const world = secondaryWorld('ecs');
    const asked = await world.followUpHandler(secondaryState());
    expect(asked.next).toBe('approve');
    expect(asked.secondary!.action).toEqual({ kind: 'ecs-deployment', taskDefinition: TASK_DEFINITION, integrity: ECS_INTEGRITY, ...ECS_CONTAINER });
    expect(world.calls('CreateDeployment')).toBe(0);

    const done = await world.followUpHandler(approved(asked));
    expect(done.next).toBe('done');
    expect(world.createdDeployments).toHaveLength(1);
    expect(world.createdDeployments[0]).toMatchObject({ deploymentConfigName: 'CodeDeployDefault.ECSAllAtOnce', description: `${SECONDARY_DEPLOYMENT_DESCRIPTION}${DEPLOYMENT_ID}` });
    expect(JSON.parse(world.createdDeployments[0].revision!.appSpecContent!.content!).Resources[0].TargetService.Properties).toEqual({
      TaskDefinition: TASK_DEFINITION,
      LoadBalancerInfo: { ContainerName: 'web', ContainerPort: 8080 },
    });
    // The same answer again (a retried step): no second deployment.
    await world.followUpHandler(approved(asked));
    expect(world.calls('CreateDeployment')).toBe(1);
  });

  it('ECS: the service unreadable: no action proposed, escalated with the cause', async () => {
    const world = secondaryWorld('ecs');
    world.failAlways('DescribeServices', () => awsError('ClusterNotFoundException', 400, 'Cluster not found.'));
    const out = await world.followUpHandler(secondaryState());
    expect(out.next).toBe('done');
    expect(escalations(world)).toEqual([expect.stringContaining('no secondary action can be proposed: the ECS service could not be read (ClusterNotFoundException: Cluster not found.)')]);
  });

  it('ECS: the known-good task definition altered between the question and the answer: not deployed', async () => {
    const world = secondaryWorld('ecs');
    const asked = await world.followUpHandler(secondaryState());
    world.taskDefinitions.set(TASK_DEFINITION, { status: 'ACTIVE', images: { web: 'repo/orders:latest' } });
    await world.followUpHandler(approved(asked));
    expect(world.calls('CreateDeployment')).toBe(0);
    expect(escalations(world)).toEqual([expect.stringContaining(`the known-good version ${TASK_DEFINITION} was altered since it was recorded (integrity ${ECS_INTEGRITY} recorded, web=repo/orders:latest now)`)]);
  });

  it('ECS: DescribeTaskDefinition failing: no action proposed, escalated', async () => {
    const world = secondaryWorld('ecs');
    world.failAlways('DescribeTaskDefinition', () => awsError('InvalidParameterException', 400, 'bad request'));
    await world.followUpHandler(secondaryState());
    expect(escalations(world)).toEqual([expect.stringContaining(`the known-good version ${TASK_DEFINITION} could not be checked (InvalidParameterException: bad request)`)]);
  });

  it('UpdateAlias throttled: resent, the alias moves once', async () => {
    const world = secondaryWorld();
    world.failNext('UpdateAlias', throttling());
    const asked = await world.followUpHandler(secondaryState());
    await world.followUpHandler(approved(asked));
    expect(world.calls('UpdateAlias')).toBe(2);
    expect(world.aliasUpdates).toHaveLength(1);
    expectAudit(world, AuditDetailType.SECONDARY_ACTION_TAKEN, { toVersion: '1' });
  });

  it('UpdateAlias refused: escalated naming Lambda’s error, no Secondary Action Taken', async () => {
    const world = secondaryWorld();
    world.failAlways('UpdateAlias', () => awsError('ResourceConflictException', 409, 'The operation cannot be performed at this time.'));
    const asked = await world.followUpHandler(secondaryState());
    await world.followUpHandler(approved(asked));
    expect(world.aliasUpdates).toEqual([]);
    expect(world.audits(AuditDetailType.SECONDARY_ACTION_TAKEN)).toEqual([]);
    expect(escalations(world)).toEqual([expect.stringContaining('was not taken: the action failed (ResourceConflictException: The operation cannot be performed at this time.)')]);
  });
});

describe('each function runs only its own phases', () => {
  it('the bake’s evaluator refuses the follow-up phases (it may not create deployments or move aliases)', async () => {
    const world = secondaryWorld();
    await expect(world.bakeHandler(guardState())).rejects.toThrow(/this function does not run phase guard$/);
    const asked = await world.followUpHandler(secondaryState());
    await expect(world.bakeHandler(approved(asked))).rejects.toThrow(/this function does not run phase secondary-answered$/);
    expect(world.calls('UpdateAlias')).toBe(0);
  });

  it('the follow-up function refuses the bake’s phases', async () => {
    const world = new World({ traffic: traffic.clean() });
    await expect(world.followUpHandler(world.initialState())).rejects.toThrow(/this function does not run phase resolve$/);
    const ticking = await world.bakeHandler(world.initialState());
    expect(ticking).toMatchObject({ phase: 'tick', next: 'wait' });
    await expect(world.followUpHandler(ticking)).rejects.toThrow(/this function does not run phase tick$/);
    expect(world.reportCalls()).toEqual([]);
  });
});

describe('the guard window and the circuit breaker', () => {
  const BREAKER = { maxRollbacks: 3, windowSeconds: 3_600, cooldownSeconds: 3_600 };
  const APPROVAL = { timeoutSeconds: 1_800, escalateInconclusive: false };
  const key = `${APPLICATION}#${DEPLOYMENT_GROUP}`;

  it('an open breaker: the breach is escalated for a human, no rollback deployment (the window has nobody to ask)', async () => {
    const world = new World({ traffic: regression, config: { breaker: BREAKER, approval: APPROVAL } });
    world.knownGood.breakers.set(key, { rollbacks: [], openedAt: T0 + 1_000, version: 1 });
    await world.bake(guardState());
    expect(world.calls('CreateDeployment')).toBe(0);
    expect(escalations(world)).toEqual([expect.stringContaining('the circuit breaker of the group is open')]);
  });

  it('a closed breaker: the rollback deployment is counted as one more rollback of the group, once', async () => {
    const world = new World({ traffic: regression, config: { breaker: BREAKER, approval: APPROVAL } });
    await world.bake(guardState());
    expect(world.createdDeployments).toHaveLength(1);
    expect(world.knownGood.breakers.get(key)?.rollbacks.map((r) => r.deploymentId)).toEqual([`guard:${DEPLOYMENT_ID}`]);
    // A redriven execution (the rollback already confirmed): counted once still.
    world.latestDeploymentId = DEPLOYMENT_ID;
    await world.bake(guardState());
    expect(world.createdDeployments).toHaveLength(1);
    expect(world.knownGood.breakers.get(key)?.rollbacks).toHaveLength(1);
  });

  it('an unreadable breaker holds nothing back: the rollback deployment is created', async () => {
    const world = new World({ traffic: regression, config: { breaker: BREAKER, approval: APPROVAL } });
    world.failAlways('BreakerGet', () => awsError('ResourceNotFoundException', 400));
    await world.bake(guardState());
    expect(world.createdDeployments).toHaveLength(1);
  });
});

describe('secondary action after a failed guard-window rollback', () => {
  it('the record names the undone release: the record it replaced is proposed, and after the alias moves the group’s record names the restored version', async () => {
    const world = secondaryWorld();
    // The release (version 2) succeeded and was recorded, replacing version 1; its guard window's rollback then failed.
    world.knownGood.seed('2', SHA_V2, APPLICATION, DEPLOYMENT_GROUP, DEPLOYMENT_ID, { version: '1', integrity: SHA_V1, deploymentId: 'd-PREVIOUS1' });
    const asked = await world.followUpHandler(secondaryState());
    expect(asked.next).toBe('approve');
    expect(asked.secondary!.action).toMatchObject({ kind: 'update-alias', version: '1', integrity: SHA_V1 });
    await world.followUpHandler(approved(asked));
    expect(world.aliasUpdates.map((u) => u.FunctionVersion)).toEqual(['1']);
    expect(world.knownGood.records.get(`${APPLICATION}#${DEPLOYMENT_GROUP}`)).toMatchObject({ version: '1', integrity: SHA_V1, deploymentId: ROLLBACK_ID });
    expect(expectAudit(world, AuditDetailType.SECONDARY_ACTION_TAKEN).reasons).toHaveLength(1);
  });

  it('the restored version cannot be recorded: the alias still moved, and the audit says the record was not updated', async () => {
    const world = secondaryWorld();
    world.knownGood.seed('2', SHA_V2, APPLICATION, DEPLOYMENT_GROUP, DEPLOYMENT_ID, { version: '1', integrity: SHA_V1 });
    world.failAlways('KnownGoodPut', () => awsError('ResourceNotFoundException', 400, 'Requested resource not found'));
    const asked = await world.followUpHandler(secondaryState());
    await world.followUpHandler(approved(asked));
    expect(world.aliasUpdates).toHaveLength(1);
    expect(expectAudit(world, AuditDetailType.SECONDARY_ACTION_TAKEN).reasons[1]).toContain('the restored version could not be recorded as known-good (ResourceNotFoundException');
  });
});

describe('secondary action: an approval that went stale is not acted on', () => {
  it('a newer deployment started while a human decided: escalated, the alias does not move', async () => {
    const world = secondaryWorld();
    const asked = await world.followUpHandler(secondaryState());
    world.latestDeploymentId = 'd-NEWER0001';
    await world.followUpHandler(approved(asked));
    expect(world.aliasUpdates).toEqual([]);
    expect(escalations(world)).toEqual([expect.stringContaining('deployment d-NEWER0001 of the group started after the failed rollback: it owns the group now')]);
  });

  it('the group unreadable at the answer: not acted on (a traffic move on an unknown state), escalated with the cause', async () => {
    const world = secondaryWorld();
    const asked = await world.followUpHandler(secondaryState());
    world.failAlways('GetDeploymentGroup', () => awsError('AccessDeniedException', 400, 'not authorized'));
    await world.followUpHandler(approved(asked));
    expect(world.aliasUpdates).toEqual([]);
    expect(escalations(world)).toEqual([expect.stringContaining('the deployment group could not be read to check that no newer deployment started (AccessDeniedException')]);
  });
});
