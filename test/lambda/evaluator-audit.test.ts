/**
 * The audit trail the step Lambda writes: PutEvents partial failures (retry only what is
 * retryable, fall back to a structured log line, never delay or flip the decision), entries over
 * PutEvents' 256 KB trimmed instead of lost, what CodeDeploy actually applied after
 * LifecycleEventAlreadyCompletedException, and a report that failed every retry.
 */
import { PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AUDIT_EVENT_SOURCE, AuditDetailType, type BakeState, auditEvent } from '../../lib/core';
import { PUT_EVENTS_MAX_BYTES, entrySize, fitEvent } from '../../lambda/shared/audit';
import { DEPLOYMENT_ID, HOOK_ID, T0, World, expectAudit, expectReports, serverError, timeout, trace, traffic } from './fixtures';

afterEach(() => {
  vi.restoreAllMocks();
});

/** The decision went out first, unchanged, and the audit followed. */
function expectReportedBeforeAuditing(world: World, status: 'Succeeded' | 'Failed'): void {
  expectReports(world, { accepted: [status] });
  const report = world.cd.commandCalls(PutLifecycleEventHookExecutionStatusCommand)[0];
  const firstPut = world.eb.commandCalls(PutEventsCommand)[0];
  expect(report.calledBefore(firstPut)).toBe(true);
}

describe('PutEvents partial failure', () => {
  it('an entry rejected with ThrottlingException is retried and delivered', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.putEventsEntryError = (_entry, call) => (call === 0 ? 'ThrottlingException' : undefined);

    await world.bake();

    expectReportedBeforeAuditing(world, 'Failed');
    const calls = world.putEventsCalls();
    expect(calls).toHaveLength(2);
    expect(calls[1].map((e) => e.DetailType)).toEqual([AuditDetailType.DEPLOYMENT_VERDICT]);
    expect(calls[1][0].Detail).toBe(calls[0][0].Detail); // same event, same idempotency key
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed' });
    expect(world.fallbacks()).toEqual([]);
  });

  it('only the failed entries of a batch are retried (verdict + escalation)', async () => {
    const world = new World({ traffic: traffic.clean() });
    world.failAlways('GetMetricData', () => Object.assign(new Error('denied'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }));
    world.putEventsEntryError = (entry, call) => (call === 0 && entry.DetailType === AuditDetailType.ESCALATION_RAISED ? 'ThrottlingException' : undefined);

    await world.bake();

    expectReports(world, { accepted: ['Failed'] });
    expect(world.putEventsCalls().map((entries) => entries.map((e) => e.DetailType))).toEqual([
      [AuditDetailType.DEPLOYMENT_VERDICT, AuditDetailType.ESCALATION_RAISED],
      [AuditDetailType.ESCALATION_RAISED],
    ]);
    expect(world.audits(AuditDetailType.DEPLOYMENT_VERDICT)).toHaveLength(1); // the delivered entry is not sent twice
    expectAudit(world, AuditDetailType.ESCALATION_RAISED, { lifecycleEventHookExecutionId: HOOK_ID });
  });

  it('InternalFailure on every attempt → retried, then logged with auditFallback; the decision is unchanged', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.putEventsEntryError = () => 'InternalFailure';

    const run = await world.bake();

    expectReportedBeforeAuditing(world, 'Failed');
    expect(run.final.next).toBe('done');
    expect(world.putEventsCalls()).toHaveLength(3);
    expect(world.fallbacks()).toEqual([
      expect.objectContaining({
        message: 'audit event not delivered',
        detailType: AuditDetailType.DEPLOYMENT_VERDICT,
        detail: expect.objectContaining({ schemaVersion: 1, deploymentId: DEPLOYMENT_ID, verdict: 'fail', reportedStatus: 'Failed', idempotencyKey: expect.any(String) }),
      }),
    ]);
  });

  it('a non-retryable ErrorCode (MalformedDetail) is not retried; logged with auditFallback at once', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.putEventsEntryError = () => 'MalformedDetail';

    await world.bake();

    expectReportedBeforeAuditing(world, 'Failed');
    expect(world.putEventsCalls()).toHaveLength(1);
    expect(world.fallbacks()).toEqual([expect.objectContaining({ message: 'audit event rejected', errorCode: 'MalformedDetail', detailType: AuditDetailType.DEPLOYMENT_VERDICT })]);
  });

  it('PutEvents throwing entirely → logged with auditFallback after the retries; a pass stays a pass, on time', async () => {
    const world = new World({ traffic: traffic.clean() });
    world.failAlways('PutEvents', serverError);

    await world.bake();

    expectReports(world, { accepted: ['Succeeded'] });
    expect(world.accepted[0].at - T0).toBe(780);
    expect(world.calls('PutEvents')).toBe(3);
    expect(world.delivered).toEqual([]);
    expect(world.fallbacks()).toEqual([
      expect.objectContaining({ message: 'audit event not delivered', detailType: AuditDetailType.DEPLOYMENT_VERDICT, detail: expect.objectContaining({ verdict: 'pass', reportedStatus: 'Succeeded' }) }),
    ]);
  });
});

describe('audit entries over 256 KB', () => {
  /** A verdict whose reasons alone are ~400 KB (a thousand SLOs' worth of explanation). */
  function hugeReported(): BakeState {
    const world = new World();
    return {
      ...world.initialState(),
      phase: 'reported',
      context: { applicationName: 'orders-app', deploymentGroupName: 'orders-dg', lifecycleEvent: 'AfterAllowTraffic', fromVersion: '1', toVersion: '2' },
      report: {
        status: 'Failed',
        verdict: 'fail',
        escalate: true,
        reasons: Array.from({ length: 1_000 }, (_, i) => `slo-${i}: the new version burns its error budget at 300× — ${'x'.repeat(400)}`),
        observations: Array.from({ length: 40 }, (_, i) => ({ slo: `slo-${i}`, arm: 'canary' as const, windowSeconds: 600, totalEvents: 7_000, badEvents: 2_100, burnRate: 300, threshold: 14.4 })),
      },
    };
  }

  it('are trimmed (numbers kept, long reasons cut, `trimmed: true`) and delivered, not retried into the log', async () => {
    const world = new World();

    const out = await world.handler(hugeReported());

    expect(out.next).toBe('done');
    expect(world.calls('PutEvents')).toBe(1);
    expect(world.fallbacks()).toEqual([]);
    for (const type of [AuditDetailType.DEPLOYMENT_VERDICT, AuditDetailType.ESCALATION_RAISED]) {
      const detail = expectAudit(world, type, { verdict: 'fail', reportedStatus: 'Failed', deploymentId: DEPLOYMENT_ID, toVersion: '2' }) as unknown as Record<string, unknown>;
      expect(detail.trimmed).toBe(true);
      expect(detail.trimmedReasons).toBeGreaterThan(0);
      expect(detail.observations).toHaveLength(40);
      expect((detail.reasons as string[])[0]).toMatch(/^slo-0: the new version burns its error budget at 300×/);
    }
    for (const entry of world.putEventsCalls()[0]) expect(entrySize(entry)).toBeLessThanOrEqual(PUT_EVENTS_MAX_BYTES);
    expect(world.logs).toContainEqual(expect.objectContaining({ level: 'WARN', message: 'audit event trimmed to fit PutEvents' }));
  });

  it('entrySize counts what EventBridge counts: Source, DetailType, Detail (UTF-8 bytes), Resources, 14 for Time', () => {
    expect(entrySize({ Source: 'rollback-triggers', DetailType: 'Deployment Verdict', Detail: '{"a":"é"}' })).toBe(17 + 18 + 10);
    expect(entrySize({ Source: 'a', DetailType: 'b', Detail: 'c', Resources: ['arn:x'], Time: new Date() })).toBe(14 + 3 + 5);
  });

  it('fitEvent leaves an event under the limit alone', () => {
    const event = auditEvent(AuditDetailType.DEPLOYMENT_VERDICT, { deploymentId: DEPLOYMENT_ID, reasons: ['fine'] }, new Date(T0 * 1000));
    expect(fitEvent(event)).toEqual({ event, trimmed: false });
    const big = auditEvent(AuditDetailType.DEPLOYMENT_VERDICT, { deploymentId: DEPLOYMENT_ID, verdict: 'fail', reasons: ['y'.repeat(300_000)] }, new Date(T0 * 1000));
    const fitted = fitEvent(big);
    expect(fitted.trimmed).toBe(true);
    expect(fitted.event.source).toBe(AUDIT_EVENT_SOURCE);
    expect(fitted.event.detail).toMatchObject({ verdict: 'fail', trimmed: true, idempotencyKey: big.detail.idempotencyKey });
    expect(entrySize({ Source: fitted.event.source, DetailType: fitted.event.detailType, Detail: JSON.stringify(fitted.event.detail) })).toBeLessThanOrEqual(PUT_EVENTS_MAX_BYTES);
  });
});

describe('LifecycleEventAlreadyCompletedException: the audit says what CodeDeploy actually applied', () => {
  it('our own report applied, its answer lost (timeout), the retry refused: Deployment Verdict with the status CodeDeploy shows', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.failNext('PutLifecycleEventHookExecutionStatus', { error: timeout(), applied: true });

    const run = await world.bake();

    expect(trace(run)).toEqual(['resolve→report', 'already-completed→done']);
    expectReports(world, { accepted: ['Failed'], calls: 2 });
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed', lifecycleEventHookExecutionId: HOOK_ID });
    expect(verdict.reasons[0]).toBe("CodeDeploy had already applied Failed to AfterAllowTraffic (deployment InProgress): this execution's earlier report, whose answer was lost");
    expect(world.audits(AuditDetailType.TRIGGER_SUPPRESSED)).toEqual([]);
    expect(world.audits(AuditDetailType.ESCALATION_RAISED)).toEqual([]);
  });

  it('CodeDeploy applied the other status (someone else reported Succeeded first): Trigger Suppressed saying so, plus an escalation', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.hookOutcomes.set(HOOK_ID, 'Succeeded');

    await world.bake();

    expect(world.accepted).toEqual([]);
    const suppressed = expectAudit(world, AuditDetailType.TRIGGER_SUPPRESSED, { verdict: 'fail', lifecycleEventHookExecutionId: HOOK_ID });
    expect(suppressed.reportedStatus).toBeUndefined();
    expect(suppressed.reasons[0]).toBe('hook already completed: CodeDeploy applied Succeeded to AfterAllowTraffic (deployment InProgress); the Failed this execution decided was not applied');
    expect(suppressed.reasons[1]).toMatch(/CodeDeploy answered CodeDeploy\.LifecycleEventAlreadyCompletedException/);
    expectAudit(world, AuditDetailType.ESCALATION_RAISED, { verdict: 'fail' });
    expect(world.audits(AuditDetailType.DEPLOYMENT_VERDICT)).toEqual([]);
  });

  // Bug: with the outcome unreadable the old audit said "Failed was not applied" — possibly the
  // opposite of what CodeDeploy did.
  it('what CodeDeploy applied cannot be read: the audit says "unknown", never "not applied"', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.failNext('PutLifecycleEventHookExecutionStatus', { error: timeout(), applied: true });
    const state = await world.handler(world.initialState());
    expect(state.next).toBe('report');
    await expect(world.codedeploy.send(new PutLifecycleEventHookExecutionStatusCommand({ deploymentId: DEPLOYMENT_ID, lifecycleEventHookExecutionId: HOOK_ID, status: 'Failed' }))).rejects.toThrow();
    world.failAlways('BatchGetDeploymentTargets', serverError).failAlways('GetDeployment', serverError);

    const out = await world.handler({
      ...state,
      phase: 'already-completed',
      reportError: { Error: 'CodeDeploy.LifecycleEventAlreadyCompletedException', Cause: 'already completed' },
    });

    expect(out.next).toBe('done');
    const suppressed = expectAudit(world, AuditDetailType.TRIGGER_SUPPRESSED, { verdict: 'fail' });
    expect(suppressed.reasons[0]).toMatch(/^hook already completed; what CodeDeploy applied to AfterAllowTraffic is unknown \(the hook's status could not be read \(UnknownError.*\); the Failed this execution decided may not have been applied$/);
    expect(suppressed.reasons.join(' ')).not.toMatch(/was not applied/);
    expectAudit(world, AuditDetailType.ESCALATION_RAISED, { verdict: 'fail' });
  });
});

describe('a report that failed every retry', () => {
  it('raises an escalation with the error the machine caught, and tells the machine to fail', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.failAlways('PutLifecycleEventHookExecutionStatus', serverError);

    const run = await world.bake();

    expect(run.final.next).toBe('fail');
    expect(trace(run)).toEqual(['resolve→report', 'report-failed→fail']);
    expect(world.accepted).toEqual([]);
    const escalation = expectAudit(world, AuditDetailType.ESCALATION_RAISED, { verdict: 'fail', lifecycleEventHookExecutionId: HOOK_ID });
    expect(escalation.reasons[0]).toMatch(/^could not report Failed to CodeDeploy after the state machine's retries \(CodeDeploy\.UnknownError: We encountered an internal error/);
    expect(escalation.reasons[1]).toMatch(/burns its error budget/);
  });
});
