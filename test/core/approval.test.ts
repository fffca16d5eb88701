import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  APPROVAL_LAST_END_SECONDS,
  APPROVAL_REJECTED_ERROR,
  APPROVAL_REPORT_MARGIN_SECONDS,
  type ApprovalRequest,
  type ApprovalSettings,
  type GateInput,
  MAX_ANSWER_FIELD,
  MIN_APPROVAL_SECONDS,
  STATES_TIMEOUT_ERROR,
  answerFields,
  approvalOutcome,
  approvalRequest,
  needsApproval,
} from '../../lib/core/approval';
import type { HookStatus } from '../../lib/core/decision';

// The approval gate's rules (lib/core/approval.ts), shared by the evaluator and the tests: which
// decided reports wait for a human, the question and its wait, and what an answer — or none —
// reports. The machine runs them in test/stepfunctions/approval-gate.test.ts.

/** 2026-11-29T12:00:00Z, in epoch seconds. */
const NOW = Date.UTC(2026, 10, 29, 12) / 1000;
const GATE: ApprovalSettings = { timeoutSeconds: 1_800 };
const INCIDENT = { kind: 'pre-existing', slo: 'Availability', reason: 'paging before the release' };
const STATUSES: readonly HookStatus[] = ['Succeeded', 'Failed'];

function report(overrides: Partial<GateInput> & { reasons?: string[] } = {}) {
  return { status: 'Failed' as HookStatus, verdict: 'inconclusive', reasons: ['too few events: 12 of the 70 the page tier needs'], lifecycleEvent: 'AfterAllowTraffic', ...overrides };
}

/**
 * The request the evaluator would put in the state: asked, or the test fails. `left` is what is
 * left for the wait: the report-by time is that plus the 5-minute margin after NOW.
 */
function asked(options: { fallback?: HookStatus; left?: number; settings?: ApprovalSettings; verdict?: string } = {}): ApprovalRequest {
  const reportBy = NOW + APPROVAL_REPORT_MARGIN_SECONDS + (options.left ?? 3_000);
  const r = approvalRequest(report({ verdict: options.verdict ?? 'inconclusive' }), options.settings ?? GATE, options.fallback ?? 'Failed', NOW, reportBy);
  if (!('request' in r)) throw new Error(`expected a request, got ${r.notAsked}`);
  return r.request;
}

/** The request after SendTaskSuccess with `answer`. */
function approved(answer: unknown, request = asked()): ApprovalRequest {
  return { ...request, answer };
}

/** The request after the task's Catch put `error` in it. */
function failed(error: { Error?: string; Cause?: string }, request = asked()): ApprovalRequest {
  return { ...request, error };
}

describe('needsApproval: which decided reports wait for a human', () => {
  it('never without the gate', () => {
    for (const r of [report(), report({ verdict: 'pass', status: 'Succeeded', incidents: [INCIDENT] })]) expect(needsApproval(r, undefined)).toBe(false);
  });

  it('an inconclusive verdict asks, whatever the fallback status would be', () => {
    for (const status of STATUSES) {
      expect(needsApproval(report({ status }), GATE)).toBe(true);
      expect(needsApproval(report({ status, lifecycleEvent: undefined }), GATE)).toBe(true);
    }
  });

  it('AfterAllowTestTraffic: too little test traffic passes by design and is not asked; an inconclusive that fails closed there is', () => {
    expect(needsApproval(report({ status: 'Succeeded', lifecycleEvent: 'AfterAllowTestTraffic' }), GATE)).toBe(false);
    expect(needsApproval(report({ status: 'Failed', lifecycleEvent: 'AfterAllowTestTraffic' }), GATE)).toBe(true);
  });

  it('a pass during an incident that is not the release’s asks; a plain pass does not', () => {
    expect(needsApproval(report({ verdict: 'pass', status: 'Succeeded', incidents: [INCIDENT] }), GATE)).toBe(true);
    expect(needsApproval(report({ verdict: 'pass', status: 'Succeeded', incidents: [] }), GATE)).toBe(false);
    expect(needsApproval(report({ verdict: 'pass', status: 'Succeeded' }), GATE)).toBe(false);
  });

  it('a failing verdict never waits: a rollback is never held (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('fail', 'skipped'),
        fc.constantFrom(...STATUSES),
        fc.option(fc.constantFrom('AfterAllowTraffic', 'AfterAllowTestTraffic', 'BeforeAllowTraffic', 'BeforeInstall'), { nil: undefined }),
        fc.array(fc.constant(INCIDENT), { maxLength: 3 }),
        fc.integer({ min: MIN_APPROVAL_SECONDS, max: APPROVAL_LAST_END_SECONDS - 60 }),
        (verdict, status, lifecycleEvent, incidents, timeoutSeconds) => {
          expect(needsApproval({ verdict, status, lifecycleEvent, incidents }, { timeoutSeconds })).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('approvalRequest: the question and how long it waits', () => {
  it('waits the configured time when the report-by time allows, with the three outcomes', () => {
    const r = asked({ left: 3_000 });
    expect(r).toMatchObject({ timeoutSeconds: 1_800, expiresAt: '2026-11-29T12:30:00.000Z', onApprove: 'Succeeded', onReject: 'Failed', onTimeout: 'Failed' });
    expect(r.answer).toBeUndefined();
    expect(r.error).toBeUndefined();
  });

  it('the wait ends 5 min before the report-by time: hook start + 52 min at the latest', () => {
    expect(APPROVAL_REPORT_MARGIN_SECONDS).toBe(300);
    expect(APPROVAL_LAST_END_SECONDS).toBe(52 * 60);
    // Asked at hook start + 40 min (report-by at + 57 min): 12 minutes to wait, not 17.
    const hookStart = NOW - 40 * 60;
    const r = approvalRequest(report(), GATE, 'Failed', NOW, hookStart + 57 * 60);
    expect(r).toMatchObject({ request: { timeoutSeconds: 720, expiresAt: new Date((hookStart + APPROVAL_LAST_END_SECONDS) * 1000).toISOString() } });
    // A configured wait that ends earlier is not lengthened.
    expect(approvalRequest(report(), { timeoutSeconds: 600 }, 'Failed', NOW, hookStart + 57 * 60)).toMatchObject({ request: { timeoutSeconds: 600 } });
  });

  it('cuts the wait to end 5 min before the report-by time (whole seconds)', () => {
    expect(asked({ left: 600 })).toMatchObject({ timeoutSeconds: 600, expiresAt: '2026-11-29T12:10:00.000Z' });
    expect(asked({ left: 754.9 })).toMatchObject({ timeoutSeconds: 754, expiresAt: '2026-11-29T12:12:34.000Z' });
    expect(asked({ left: 754.9 }).question).toContain('without an answer in 754 s: Failed.');
  });

  it('asks with exactly a minute left; with less, says why and applies the fallback as if unanswered', () => {
    expect(asked({ left: MIN_APPROVAL_SECONDS }).timeoutSeconds).toBe(MIN_APPROVAL_SECONDS);
    // Report-by 6 min away: a minute for the wait, then the 5-minute margin.
    expect(approvalRequest(report(), GATE, 'Failed', NOW, NOW + 360)).toMatchObject({ request: { timeoutSeconds: 60 } });
    for (const [left, shown] of [
      [59, '59 s'],
      [0, '0 s'],
      [-30, '0 s'],
      // Inside the margin: the report-by time is still ahead, but no wait may end so late.
      [-299, '0 s'],
    ] as const) {
      for (const fallback of STATUSES) {
        const r = approvalRequest(report(), GATE, fallback, NOW, NOW + APPROVAL_REPORT_MARGIN_SECONDS + left);
        expect(r).toEqual({
          notAsked: `no time left to ask a human (${shown} before the wait's latest end, hook start + 52 min; at least 60 s needed): ${fallback} as if unanswered`,
        });
      }
    }
    // A configured wait below a minute is not asked either (the constructs refuse it: RT342).
    expect(approvalRequest(report(), { timeoutSeconds: 30 }, 'Failed', NOW, NOW + 3_000)).toHaveProperty('notAsked');
  });

  it('the question says what is ambiguous, the first reason, what each answer does and what no answer reports', () => {
    const fails = asked();
    expect(fails.question).toBe(
      'The bake is inconclusive: too few events: 12 of the 70 the page tier needs. Approve to let the release continue (Succeeded), reject to roll it back (Failed); without an answer in 30 min: Failed.',
    );
    expect(asked({ fallback: 'Succeeded' }).question).toMatch(/without an answer in 30 min: Succeeded\.$/);
    expect(asked({ fallback: 'Succeeded' }).onTimeout).toBe('Succeeded');
    const incident = asked({ verdict: 'pass' });
    expect(incident.question).toMatch(/^The release passed, but the service is in an incident that is not the release’s: /);
    const silent = approvalRequest({ ...report(), reasons: [] }, GATE, 'Failed', NOW, NOW + 3_000);
    expect('request' in silent && silent.request.question).toMatch(/^The bake is inconclusive: no reason given\. /);
  });

  it('never waits past 5 min before the report-by time, never longer than configured, and asks iff a minute fits (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: MIN_APPROVAL_SECONDS, max: APPROVAL_LAST_END_SECONDS - 60 }),
        fc.integer({ min: 0, max: 3_600_000 }),
        fc.integer({ min: -600_000, max: 3_600_000 }),
        fc.constantFrom(...STATUSES),
        (timeoutSeconds, nowMs, leftMs, fallback) => {
          const now = NOW + nowMs / 1000;
          const reportBy = now + leftMs / 1000;
          const r = approvalRequest(report(), { timeoutSeconds }, fallback, now, reportBy);
          const latestEnd = reportBy - APPROVAL_REPORT_MARGIN_SECONDS;
          const fits = Math.min(timeoutSeconds, Math.floor(latestEnd - now)) >= MIN_APPROVAL_SECONDS;
          expect('request' in r).toBe(fits);
          if (!('request' in r)) {
            expect(r.notAsked).toContain(`${fallback} as if unanswered`);
            return;
          }
          const q = r.request;
          expect(Number.isInteger(q.timeoutSeconds)).toBe(true);
          expect(q.timeoutSeconds).toBeGreaterThanOrEqual(MIN_APPROVAL_SECONDS);
          expect(q.timeoutSeconds).toBeLessThanOrEqual(timeoutSeconds);
          expect(q.timeoutSeconds).toBeLessThanOrEqual(latestEnd - now);
          expect(Date.parse(q.expiresAt)).toBeLessThanOrEqual(Math.ceil(latestEnd * 1000));
          expect(q).toMatchObject({ onApprove: 'Succeeded', onReject: 'Failed', onTimeout: fallback });
          expect(q.question).toMatch(new RegExp(`without an answer in .+: ${fallback}\\.$`));
        },
      ),
      { numRuns: 1_000 },
    );
  });
});

describe('approvalOutcome: what the answer reports', () => {
  const JANE = 'arn:aws:sts::123456789012:assumed-role/oncall/jane';

  it('an approval with both names: the caller identity is who answered, both are in the reason', () => {
    const o = approvalOutcome(approved({ approvedBy: 'jane', callerIdentity: JANE, reason: 'known noisy dependency' }));
    expect(o).toEqual({ result: 'approved', status: 'Succeeded', answeredBy: JANE, answeredBySource: 'caller-identity', reason: `approved by jane as ${JANE} (known noisy dependency): Succeeded` });
  });

  it('an approval that names only approvedBy, or the same name twice', () => {
    expect(approvalOutcome(approved({ approvedBy: 'jane' }))).toEqual({ result: 'approved', status: 'Succeeded', answeredBy: 'jane', answeredBySource: 'approved-by', reason: 'approved by jane: Succeeded' });
    expect(approvalOutcome(approved({ approvedBy: JANE, callerIdentity: JANE })).reason).toBe(`approved by ${JANE}: Succeeded`);
    expect(approvalOutcome(approved({ callerIdentity: JANE }))).toMatchObject({ answeredBy: JANE, answeredBySource: 'caller-identity', reason: `approved by ${JANE}: Succeeded` });
  });

  it('an approval is SendTaskSuccess, whatever its output: an output that says nothing still approves, and says CloudTrail knows who', () => {
    for (const answer of [undefined, {}, null, 42, true, 'yes', ['jane'], { approvedBy: 7, reason: '   ' }, { whoever: 'jane' }]) {
      const o = approvalOutcome(approved(answer));
      expect(o).toEqual({ result: 'approved', status: 'Succeeded', reason: 'approved (the answer did not say by whom; CloudTrail has the SendTask call): Succeeded' });
    }
    // An output that is itself a JSON string is read as the object it holds.
    expect(approvalOutcome(approved(JSON.stringify({ approvedBy: 'jane' })))).toMatchObject({ answeredBy: 'jane', answeredBySource: 'approved-by' });
  });

  it('a rejection with a JSON cause (the CLI, the notice’s aws command)', () => {
    const o = approvalOutcome(failed({ Error: APPROVAL_REJECTED_ERROR, Cause: JSON.stringify({ approvedBy: 'bob', callerIdentity: 'arn:aws:iam::123456789012:user/bob', reason: 'p99 doubled' }) }));
    expect(o).toEqual({
      result: 'rejected',
      status: 'Failed',
      answeredBy: 'arn:aws:iam::123456789012:user/bob',
      answeredBySource: 'caller-identity',
      reason: 'rejected by bob as arn:aws:iam::123456789012:user/bob (p99 doubled): Failed',
    });
  });

  it('a rejection with a plain-text cause keeps it as the reason; without a cause it says nobody was named', () => {
    expect(approvalOutcome(failed({ Error: APPROVAL_REJECTED_ERROR, Cause: 'looks wrong, roll back' }))).toEqual({
      result: 'rejected',
      status: 'Failed',
      reason: 'rejected (the answer did not say by whom; CloudTrail has the SendTask call) (looks wrong, roll back): Failed',
    });
    // A cause that parses as JSON but is no object (`--cause 4521`) is a reason too.
    for (const cause of ['4521', 'true', '"bad release"']) {
      expect(approvalOutcome(failed({ Error: APPROVAL_REJECTED_ERROR, Cause: cause })).reason).toContain(`(${cause})`);
    }
    expect(approvalOutcome(failed({ Error: APPROVAL_REJECTED_ERROR }))).toEqual({
      result: 'rejected',
      status: 'Failed',
      reason: 'rejected (the answer did not say by whom; CloudTrail has the SendTask call): Failed',
    });
  });

  it('the timeout reports the fallback, with the wait and when it ended', () => {
    for (const fallback of STATUSES) {
      const request = asked({ fallback });
      expect(approvalOutcome(failed({ Error: STATES_TIMEOUT_ERROR, Cause: '' }, request))).toEqual({
        result: 'timed-out',
        status: fallback,
        reason: `no answer within 30 min (until 2026-11-29T12:30:00.000Z): ${fallback}, as configured for an unanswered approval`,
      });
    }
  });

  it('another error — the request was refused or could not be answered — reports the fallback too, naming the error', () => {
    const o = approvalOutcome(failed({ Error: 'EventBridge.FailedEntry', Cause: 'InternalFailure' }, asked({ fallback: 'Succeeded' })));
    expect(o).toEqual({
      result: 'timed-out',
      status: 'Succeeded',
      reason: 'the approval request could not be sent or answered (EventBridge.FailedEntry: InternalFailure): Succeeded, as configured for an unanswered approval',
    });
    expect(approvalOutcome(failed({})).reason).toBe('the approval request could not be sent or answered (unknown error): Failed, as configured for an unanswered approval');
    // A rejection is only the error the CLI sends: another name (case included) is not one.
    expect(approvalOutcome(failed({ Error: 'rejected', Cause: '{"approvedBy":"bob"}' }))).toMatchObject({ result: 'timed-out', status: 'Failed' });
    expect(approvalOutcome(failed({ Error: 'rejected' })).answeredBy).toBeUndefined();
  });

  it(`clips long fields to ${MAX_ANSWER_FIELD} characters, the error's cause too`, () => {
    const long = 'x'.repeat(1_000);
    const o = approvalOutcome(approved({ approvedBy: long, reason: `  ${long}  ` }));
    expect(o.answeredBy).toHaveLength(MAX_ANSWER_FIELD);
    expect(o.answeredBy).toBe(`${'x'.repeat(MAX_ANSWER_FIELD - 1)}\u2026`);
    expect(o.reason).toBe(`approved by ${o.answeredBy} (${o.answeredBy}): Succeeded`);
    const rejected = approvalOutcome(failed({ Error: APPROVAL_REJECTED_ERROR, Cause: long }));
    expect(rejected.reason).toBe(`rejected (the answer did not say by whom; CloudTrail has the SendTask call) (${'x'.repeat(MAX_ANSWER_FIELD - 1)}\u2026): Failed`);
    const refusedCause = approvalOutcome(failed({ Error: 'States.TaskFailed', Cause: long }));
    expect(refusedCause.reason).toContain(`(States.TaskFailed: ${'x'.repeat(MAX_ANSWER_FIELD - 1)}\u2026)`);
    // Exactly the limit is kept whole.
    expect(approvalOutcome(approved({ approvedBy: 'y'.repeat(MAX_ANSWER_FIELD) })).answeredBy).toBe('y'.repeat(MAX_ANSWER_FIELD));
  });

  it('the status is always the request’s outcome for how the wait ended, and who answered fits the limit (property)', () => {
    const field = fc.oneof(fc.string({ maxLength: 400 }), fc.integer(), fc.constant(undefined));
    const answer = fc.oneof(fc.anything(), fc.record({ approvedBy: field, callerIdentity: field, reason: field }, { requiredKeys: [] }));
    const error = fc.option(
      fc.record(
        { Error: fc.oneof(fc.constantFrom(APPROVAL_REJECTED_ERROR, STATES_TIMEOUT_ERROR, 'EventBridge.FailedEntry', 'States.TaskFailed'), fc.string()), Cause: fc.oneof(fc.string({ maxLength: 600 }), fc.json()) },
        { requiredKeys: [] },
      ),
      { nil: undefined },
    );
    fc.assert(
      fc.property(fc.constantFrom(...STATUSES), answer, error, (fallback, a, e) => {
        const request: ApprovalRequest = { ...asked({ fallback }), answer: a, ...(e !== undefined ? { error: e } : {}) };
        const o = approvalOutcome(request);
        const expected = { approved: request.onApprove, rejected: request.onReject, 'timed-out': request.onTimeout, 'not-asked': undefined }[o.result];
        expect(['approved', 'rejected', 'timed-out']).toContain(o.result);
        expect(o.status).toBe(expected);
        expect(o.result === 'approved').toBe(e === undefined);
        expect(o.result === 'rejected').toBe(e?.Error === APPROVAL_REJECTED_ERROR);
        expect(o.reason.endsWith(o.status) || o.reason.endsWith(`${o.status}, as configured for an unanswered approval`)).toBe(true);
        if (o.answeredBy !== undefined) {
          expect(o.answeredBy.length).toBeGreaterThan(0);
          expect(o.answeredBy.length).toBeLessThanOrEqual(MAX_ANSWER_FIELD);
          expect(o.answeredBySource === 'caller-identity' || o.answeredBySource === 'approved-by').toBe(true);
        } else {
          expect(o.answeredBySource).toBeUndefined();
        }
        if (o.result === 'timed-out') expect(o.answeredBy).toBeUndefined();
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('answerFields: the strings an answer may carry', () => {
  it('keeps approvedBy, callerIdentity and reason, trimmed; drops the rest', () => {
    expect(answerFields({ approvedBy: ' jane ', callerIdentity: 'arn:aws:iam::123456789012:user/jane', reason: 'ok', extra: 'x', taskToken: 't' })).toEqual({
      approvedBy: 'jane',
      callerIdentity: 'arn:aws:iam::123456789012:user/jane',
      reason: 'ok',
    });
    expect(answerFields({ approvedBy: '', callerIdentity: '   ', reason: 3 })).toEqual({});
  });

  it('reads an object from a JSON string; anything else says nothing', () => {
    expect(answerFields('{"reason":"fine"}')).toEqual({ reason: 'fine' });
    for (const value of [undefined, null, 0, false, 'not json', '"a string"', '[1]', [{ approvedBy: 'jane' }], 'null']) expect(answerFields(value)).toEqual({});
  });

  it('never returns a field longer than the limit, nor an empty one (property)', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.record({ approvedBy: fc.string({ maxLength: 600 }), callerIdentity: fc.string({ maxLength: 600 }), reason: fc.string({ maxLength: 600 }) })), (value) => {
        const fields = answerFields(value) as Record<string, unknown>;
        for (const key of ['approvedBy', 'callerIdentity', 'reason']) {
          const v = fields[key];
          if (v === undefined) continue;
          expect(typeof v).toBe('string');
          expect((v as string).length).toBeGreaterThan(0);
          expect((v as string).length).toBeLessThanOrEqual(MAX_ANSWER_FIELD);
          expect(v).toBe((v as string).trim());
        }
      }),
      { numRuns: 1_000 },
    );
  });
});
