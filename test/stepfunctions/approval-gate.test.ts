/**
 * The approval gate end to end: the SYNTHESIZED state machine of a trigger with
 * `inconclusiveAction: ESCALATE` runs on aws-local-stepfunctions, its Lambda tasks on the real
 * evaluator against the fake AWS world; the `.waitForTaskToken` PutEvents task is answered by the
 * test as a human would (SendTaskSuccess, SendTaskFailure `Rejected`, or no answer: `States.Timeout`).
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { InconclusiveAction } from '../../lib';
import {
  APPROVAL_LAST_END_SECONDS,
  APPROVAL_REJECTED_ERROR,
  APPROVAL_REPORT_MARGIN_SECONDS,
  AuditDetailType,
  type BakeExecutionInput,
  MAX_DEADLINE_SECONDS,
  STATES_TIMEOUT_ERROR,
} from '../../lib/core';
import { DEPLOYMENT_ID, HOOK_ID, T0, World, expectAudit, expectReports, traffic } from '../lambda/fixtures';
import { type RunOptions, TASK_TOKEN, bakeDefinition, runMachine, statesOf } from './machine';
import { gatedInput, runInWorld } from './world-run';

/** The default gate: a 30-minute wait after a 22-minute deadline (52 min − 30 min). */
const DEADLINE_SECONDS = APPROVAL_LAST_END_SECONDS - 1_800;
/** One evaluator step at worst (its task timeout): the answer's step after the wait. */
const STEP_SECONDS = 130;

/** The machine's path from the question on: the states after it, in order. */
function afterAsking(path: readonly string[]): string[] {
  return path.slice(path.indexOf('Ask for approval'));
}

let definition: Record<string, unknown>;
beforeAll(() => {
  definition = bakeDefinition({ inconclusiveAction: InconclusiveAction.ESCALATE });
});
afterEach(() => {
  vi.restoreAllMocks();
});

function gatedWorld(options: { traffic?: ReturnType<typeof traffic.clean>; timeoutSeconds?: number; bakeSeconds?: number } = {}): World {
  // As RollbackTrigger configures an ESCALATE trigger: the deadline leaves room for the wait.
  return new World({
    traffic: options.traffic ?? traffic.clean(0),
    config: { approval: { timeoutSeconds: options.timeoutSeconds ?? 1_800 }, deadlineMarginSeconds: 3_600 - DEADLINE_SECONDS, ...(options.bakeSeconds ? { bakeSeconds: options.bakeSeconds } : {}) },
  });
}

/**
 * A bake that ends at the deadline: `bake: 19 min` after the default 3-min metric delay fills the
 * 22-minute deadline the default wait leaves (a trigger that synthesizes). With no datapoints the
 * verdict is inconclusive only then.
 */
const BAKE_TO_DEADLINE = DEADLINE_SECONDS - 180;

function input(): BakeExecutionInput {
  return gatedInput(DEADLINE_SECONDS);
}

function bake(world: World, answer?: RunOptions['answer']) {
  return runInWorld(world, definition, input(), answer);
}

/** SendTaskFailure as the harness passes it: the error's name is Step Functions' Error, its message the Cause. */
function rejection(cause: unknown): Error {
  return Object.assign(new Error(JSON.stringify(cause)), { name: APPROVAL_REJECTED_ERROR });
}

describe('the approval gate on the synthesized machine', () => {
  it('asks with an Approval Requested event that carries the token, the numbers and the commands; an approval reports Succeeded', async () => {
    const world = gatedWorld();
    let asked: Record<string, any> | undefined;
    const run = await bake(world, (entry) => {
      asked = { ...entry.Detail, detailType: entry.DetailType, source: entry.Source };
      world.now += 600; // a human takes ten minutes
      return { approvedBy: 'jane', callerIdentity: 'arn:aws:sts::123456789012:assumed-role/oncall/jane' };
    });
    expect(run.status, run.error).toBe('SUCCEEDED');
    expect(asked).toMatchObject({
      detailType: AuditDetailType.APPROVAL_REQUESTED,
      source: 'rollback-triggers',
      deploymentId: DEPLOYMENT_ID,
      lifecycleEventHookExecutionId: HOOK_ID,
      // The synthesized definition names the group by its template reference.
      applicationName: expect.any(String),
      deploymentGroupName: expect.any(String),
      verdict: 'inconclusive',
      taskToken: TASK_TOKEN,
      approval: { timeoutSeconds: 1_800, onApprove: 'Succeeded', onReject: 'Failed', onTimeout: 'Failed' },
      howToAnswer: {
        approve: 'npx rollback-triggers approve --execution arn:aws:states:us-east-1:123456789012:execution:bake:exec',
        reject: 'npx rollback-triggers reject --execution arn:aws:states:us-east-1:123456789012:execution:bake:exec',
      },
    });
    expect(asked!.approval.question).toMatch(/inconclusive.*Approve to let the release continue/);
    expect(asked!.observations.length).toBeGreaterThan(0);
    expect(asked!.howToAnswer.awsCliApprove).toContain('aws stepfunctions send-task-success');
    // Asked at the end of the bake (10 min + 3 min delay), well before the deadline.
    expectReports(world, { accepted: ['Succeeded'] });
    const answered = expectAudit(world, AuditDetailType.APPROVAL_ANSWERED, { approval: { result: 'approved', answeredBy: 'arn:aws:sts::123456789012:assumed-role/oncall/jane', answeredBySource: 'caller-identity' } });
    expect(answered.reasons[0]).toMatch(/^approved by jane as arn:aws:sts::.*: Succeeded/);
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Succeeded', approval: { result: 'approved' } });
  });

  it('a rejection reports Failed, with who rejected and why', async () => {
    const world = gatedWorld();
    const run = await bake(world, () => {
      throw rejection({ approvedBy: 'sam', reason: 'the dashboard looks wrong' });
    });
    expect(run.status).toBe('SUCCEEDED');
    expectReports(world, { accepted: ['Failed'] });
    const answered = expectAudit(world, AuditDetailType.APPROVAL_ANSWERED, { approval: { result: 'rejected', answeredBy: 'sam', answeredBySource: 'approved-by' } });
    // Nothing is reported yet when the answer is audited: the status it leads to is in its reasons.
    expect(answered).not.toHaveProperty('reportedStatus');
    expect(answered.reasons[0]).toBe('rejected by sam (the dashboard looks wrong): Failed');
    // What CodeDeploy was told is on the verdict, with the answer.
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Failed', approval: { result: 'rejected', answeredBy: 'sam' } });
  });

  it('no answer in time: the timeout action (fail closed by default), escalated', async () => {
    const world = gatedWorld();
    const run = await bake(world, (entry) => {
      world.now += entry.Detail.approval.timeoutSeconds;
      throw Object.assign(new Error('timed out'), { name: STATES_TIMEOUT_ERROR });
    });
    expect(run.status).toBe('SUCCEEDED');
    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at - T0).toBeLessThanOrEqual(APPROVAL_LAST_END_SECONDS + STEP_SECONDS);
    const answered = expectAudit(world, AuditDetailType.APPROVAL_ANSWERED, { approval: { result: 'timed-out' } });
    expect(answered).not.toHaveProperty('reportedStatus');
    expect(answered.reasons[0]).toMatch(/^no answer within 30 min \(until .*\): Failed, as configured for an unanswered approval$/);
    expectAudit(world, AuditDetailType.ESCALATION_RAISED, { reportedStatus: 'Failed' });
  });

  it('an approval request EventBridge refuses: the timeout action at once, never a hook left unreported', async () => {
    const world = gatedWorld();
    await bake(world, () => {
      throw Object.assign(new Error('throttled'), { name: 'EventBridge.EventBridgeException' });
    });
    expectReports(world, { accepted: ['Failed'] });
    const answered = expectAudit(world, AuditDetailType.APPROVAL_ANSWERED, { approval: { result: 'timed-out' } });
    expect(answered.reasons[0]).toMatch(/could not be sent or answered \(EventBridge\.EventBridgeException/);
  });

  it('the wait is cut to end 5 min before the report-by time: asked at the deadline, it waits only what is left until hook start + 52 min', async () => {
    // No datapoints at all: inconclusive only at the deadline. A configured wait longer than what
    // is left after it (the evaluator cuts it, whatever it is configured with).
    const world = gatedWorld({ traffic: traffic.none(), timeoutSeconds: 2_400, bakeSeconds: BAKE_TO_DEADLINE });
    let timeoutSeconds = 0;
    let askedAt = 0;
    let expiresAt = '';
    await bake(world, (entry) => {
      timeoutSeconds = entry.Detail.approval.timeoutSeconds;
      expiresAt = entry.Detail.approval.expiresAt;
      askedAt = world.now;
      return {};
    });
    expect(askedAt - T0).toBeGreaterThanOrEqual(DEADLINE_SECONDS);
    expect(timeoutSeconds).toBeGreaterThanOrEqual(60);
    expect(timeoutSeconds).toBeLessThan(2_400);
    // Whole seconds, up to hook start + 52 min and not a second less.
    expect(timeoutSeconds).toBe(Math.floor(T0 + APPROVAL_LAST_END_SECONDS - askedAt));
    expect(Date.parse(expiresAt) / 1000).toBeLessThanOrEqual(T0 + MAX_DEADLINE_SECONDS - APPROVAL_REPORT_MARGIN_SECONDS);
    expectReports(world, { accepted: ['Succeeded'] });
    // An answer without a name: approved, and the audit says it did not name anyone.
    const answered = expectAudit(world, AuditDetailType.APPROVAL_ANSWERED, { approval: { result: 'approved' } });
    expect(answered.reasons[0]).toMatch(/did not say by whom/);
  });

  it('asked at the deadline, nobody answering: the report lands by hook start + 52 min and a step, well before the report-by time, through the report-by guard', async () => {
    // No datapoints at all: inconclusive only at the deadline; the wait runs to its end.
    const world = gatedWorld({ traffic: traffic.none(), bakeSeconds: BAKE_TO_DEADLINE });
    let askedAt = 0;
    const run = await bake(world, (entry) => {
      askedAt = world.now;
      world.now += entry.Detail.approval.timeoutSeconds;
      throw Object.assign(new Error('timed out'), { name: STATES_TIMEOUT_ERROR });
    });
    expect(run.status, run.error).toBe('SUCCEEDED');
    expect(askedAt - T0).toBeGreaterThanOrEqual(DEADLINE_SECONDS);
    expectReports(world, { accepted: ['Failed'] });
    const reportedAt = world.accepted[0].at - T0;
    expect(reportedAt).toBeLessThanOrEqual(APPROVAL_LAST_END_SECONDS + STEP_SECONDS);
    // Room left before report-by (57 min) for two attempts of the answer's step.
    expect(MAX_DEADLINE_SECONDS - reportedAt).toBeGreaterThanOrEqual(2 * STEP_SECONDS);
    expectAudit(world, AuditDetailType.APPROVAL_ANSWERED, { approval: { result: 'timed-out' } });
    // After the wait the machine checks the report-by time before the answer's step, as after any wait.
    expect(afterAsking(run.path).slice(0, 6)).toEqual(['Ask for approval', 'Answered', 'Clock', 'Past report-by?', 'Evaluate', 'Next step']);
    expect(run.path).not.toContain('Report-by passed');
  });

  it('an answer that arrives past the report-by time is not acted on: the machine fails closed inside CodeDeploy’s hour', async () => {
    const world = gatedWorld();
    const run = await bake(world, () => {
      // A wait that overran (the answer arrived after hook start + 57 min).
      world.now = T0 + MAX_DEADLINE_SECONDS + 1;
      return { approvedBy: 'jane' };
    });
    expect(afterAsking(run.path).slice(0, 5)).toEqual(['Ask for approval', 'Answered', 'Clock', 'Past report-by?', 'Report-by passed']);
    // Not the approval's Succeeded: the fail-closed report, audited by the machine, and the
    // execution fails (the bake-failures alarm fires). The evaluator never ran on the answer.
    expectReports(world, { accepted: ['Failed'] });
    expect(run.status).toBe('FAILED');
    expect(run.auditEntries.some((e) => (e.Detail.reasons as string[] | undefined)?.some((r) => r.includes('DeadlinePassed')))).toBe(true);
    expect(world.audits(AuditDetailType.APPROVAL_ANSWERED)).toHaveLength(0);
  });

  it('a failing verdict on evidence is never held for approval: rolled back at once', async () => {
    const world = gatedWorld({ traffic: traffic.broken(0.3) });
    const run = await bake(world);
    expect(run.status).toBe('SUCCEEDED');
    expectReports(world, { accepted: ['Failed'] });
    expect(world.audits(AuditDetailType.APPROVAL_REQUESTED)).toHaveLength(0);
    expect(run.path).not.toContain('Ask for approval');
  });

  it('the machine refuses an approve step without the question (a garbled answer): fail-closed report, never a stuck wait', async () => {
    const world = gatedWorld();
    const run = await runMachine({
      definition,
      input: input(),
      evaluate: (state) => ({ ...state, next: 'approve', report: { status: 'Failed', verdict: 'inconclusive', reasons: [], observations: [] } }) as never,
      clock: { now: () => world.now, advance: (s) => void (world.now += s) },
    });
    expect(run.path).toContain('Unexpected step');
    expect(run.path).not.toContain('Ask for approval');
  });
});

describe('the gate in the template', () => {
  it('exists only with ESCALATE: a wait-for-token PutEvents to the audit bus with the timeout read from the state', () => {
    const gated = Object.values(statesOf(definition)).filter((s) => s.Resource?.endsWith(':events:putEvents.waitForTaskToken'));
    expect(gated).toHaveLength(1);
    expect(gated[0].TimeoutSecondsPath).toBe('$.approval.timeoutSeconds');
    // Every ending of the wait (its Catch too) goes through the report-by guard before the evaluator.
    const states = statesOf(definition);
    expect(gated[0].Next).toBe('Answered');
    expect(gated[0].Catch.map((c: { Next: string }) => c.Next)).toEqual(['Answered']);
    expect(states.Answered.Next).toBe('Clock');
    expect(states.Clock.Next).toBe('Past report-by?');
    expect(states['Past report-by?'].Default).toBe('Evaluate');
    // No Retry: a rejection arrives as an error and a retry would ask again.
    expect(gated[0].Retry).toBeUndefined();
    const plain = Object.values(statesOf(bakeDefinition())).filter((s) => String(s.Resource).includes('waitForTaskToken'));
    expect(plain).toHaveLength(0);
  });
});
