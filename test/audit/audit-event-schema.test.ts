import { describe, expect, expectTypeOf, it } from 'vitest';
import { AuditEventSchema, AuditEventDetail } from '../../lib';
import { AuditDetailType, auditEvent, alarmNamesFromErrorMessage, type AuditEventDetail as CoreDetail } from '../../lib/core';

describe('audit event schema', () => {
  it('exports the constants the evaluator uses', () => {
    const event = auditEvent(AuditDetailType.ROLLBACK_TRIGGERED, { deploymentId: 'd-1', reasons: ['x'] }, new Date(0));
    expect(event.source).toBe(AuditEventSchema.SOURCE);
    expect(event.detailType).toBe(AuditEventSchema.ROLLBACK_TRIGGERED);
    expect(event.detail.schemaVersion).toBe(AuditEventSchema.SCHEMA_VERSION);
    expect(AuditEventSchema.SOURCE.startsWith('aws.')).toBe(false); // EventBridge reserves aws.*
  });

  it('keeps the public detail interface in step with what the evaluator sends', () => {
    // What the evaluator emits must be readable through the public, jsii-exported interface.
    expectTypeOf<CoreDetail>().toExtend<Omit<AuditEventDetail, 'reasons' | 'observations' | 'alarmNames' | 'incidents' | 'approval' | 'secondaryAction'>>();
    expectTypeOf<keyof AuditEventDetail>().toEqualTypeOf<keyof CoreDetail>();
  });

  it('gives repeats of one decision the same idempotency key and different decisions different keys', () => {
    const at = new Date(0);
    const a = auditEvent(AuditDetailType.DEPLOYMENT_VERDICT, { deploymentId: 'd-1', lifecycleEventHookExecutionId: 'h-1', verdict: 'fail', reasons: [] }, at);
    const b = auditEvent(AuditDetailType.DEPLOYMENT_VERDICT, { deploymentId: 'd-1', lifecycleEventHookExecutionId: 'h-1', verdict: 'fail', reasons: ['later'] }, new Date(5000));
    const c = auditEvent(AuditDetailType.DEPLOYMENT_VERDICT, { deploymentId: 'd-1', lifecycleEventHookExecutionId: 'h-2', verdict: 'fail', reasons: [] }, at);
    expect(a.detail.idempotencyKey).toBe(b.detail.idempotencyKey);
    expect(a.detail.idempotencyKey).not.toBe(c.detail.idempotencyKey);
  });

  it('tells apart two decisions of one deployment that name neither a hook nor a rollback by their key subject', () => {
    const at = new Date(0);
    const detail = { deploymentId: 'd-1', reasons: ['x'] };
    const guard = auditEvent(AuditDetailType.ESCALATION_RAISED, detail, at, 'guard-d-1');
    const breaker = auditEvent(AuditDetailType.ESCALATION_RAISED, detail, at, 'breaker');
    expect(guard.detail.idempotencyKey).not.toBe(breaker.detail.idempotencyKey);
    expect(auditEvent(AuditDetailType.ESCALATION_RAISED, detail, new Date(9000), 'breaker').detail.idempotencyKey).toBe(breaker.detail.idempotencyKey);
    // Without one, the key is as before: the hook, else the rollback, else the deployment.
    expect(auditEvent(AuditDetailType.ESCALATION_RAISED, detail, at).detail.idempotencyKey).toBe('EscalationRaised:d-1:deployment:');
  });

  it('reads the alarm names CodeDeploy lists in an ALARM_ACTIVE error message', () => {
    const stopped = 'One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped.';
    expect(alarmNamesFromErrorMessage(`${stopped} Activated alarms: <Checkout-page> <Other alarm>`)).toEqual(['Checkout-page', 'Other alarm']);
    expect(alarmNamesFromErrorMessage(`${stopped} Activated alarms: a, b`)).toEqual(['a', 'b']);
    expect(alarmNamesFromErrorMessage(undefined)).toEqual([]);
  });
});
