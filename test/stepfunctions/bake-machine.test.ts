/**
 * The synthesized state machine itself, with stand-in evaluator steps: what the machine does with
 * each answer, each crash and each CodeDeploy error. The real handlers run through the same machine
 * in bake-end-to-end.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { BakeExecutionInput, BakeState } from '../../lib/core';
import { FakeCodeDeploy, bakeDefinition, lambdaStates, runMachine, sdkError, statesOf } from './machine';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0) / 1000;
const INPUT: BakeExecutionInput = {
  deploymentId: 'd-ABCDEFGHI',
  lifecycleEventHookExecutionId: 'hook-1',
  hookStartedAt: T0,
  deadline: new Date((T0 + 3300) * 1000).toISOString(),
};

let definition: Record<string, unknown>;
beforeAll(() => {
  definition = bakeDefinition();
});

/** An evaluator that cannot run at all (its bundle does not load). */
const broken = (): never => {
  throw Object.assign(new Error('Cannot find module'), { name: 'Runtime.ImportModuleError' });
};

/** A stand-in evaluator: resolve → three ticks → report `status`; audits return done. */
function scripted(status: 'Succeeded' | 'Failed', ticks = 3) {
  const calls: BakeState[] = [];
  const evaluate = (state: BakeState): BakeState => {
    calls.push(state);
    switch (state.phase) {
      case 'resolve':
        return { ...state, phase: 'tick', ticks: 0, next: 'wait', waitSeconds: 60 };
      case 'tick': {
        const n = (state.ticks ?? 0) + 1;
        if (n < ticks) return { ...state, ticks: n, next: 'wait', waitSeconds: 60 };
        return { ...state, ticks: n, next: 'report', report: { status, verdict: status === 'Succeeded' ? 'pass' : 'fail', reasons: ['r'], observations: [] } };
      }
      case 'report-failed':
        return { ...state, next: 'fail' };
      default:
        return { ...state, next: 'done' };
    }
  };
  return { calls, evaluate };
}

describe('the synthesized bake state machine', () => {
  it('is a Standard workflow in JSONPath whose Lambda steps all retry a crash with the same state and catch the rest', () => {
    const states = statesOf(definition);
    expect(definition.StartAt).toBe('Start');
    expect(states.Start).toMatchObject({ Type: 'Pass', Result: 'resolve', ResultPath: '$.phase', Next: 'Evaluate' });
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
    const steps = lambdaStates(definition);
    expect(steps.sort()).toEqual(['Audit already completed', 'Audit verdict', 'Escalate report failure', 'Evaluate']);
    for (const name of steps) {
      expect(states[name].Retry).toEqual(expect.arrayContaining([expect.objectContaining({ ErrorEquals: ['States.TaskFailed', 'States.Timeout'], MaxAttempts: 1 })]));
      expect(states[name].TimeoutSeconds).toBe(130);
      // Before the report a crash fails closed; after it, the hook is decided: audit only, never report again.
      const next = name === 'Evaluate' ? 'Read deployment' : 'Decided, audit failed';
      expect(states[name].Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.crash', Next: next }]);
    }
    // The report never retries "already completed": a second status is never sent for it.
    expect(states.Report.Retry[0]).toMatchObject({ ErrorEquals: expect.arrayContaining(['CodeDeploy.LifecycleEventAlreadyCompletedException']), MaxAttempts: 0 });
    expect(states.Report.Resource).toBe('arn:aws:states:::aws-sdk:codedeploy:putLifecycleEventHookExecutionStatus');
  });

  it('waits between ticks, reports once, audits the verdict and ends', async () => {
    const codedeploy = new FakeCodeDeploy();
    const { calls, evaluate } = scripted('Succeeded');
    let clock = T0;
    const run = await runMachine({ definition, input: INPUT, evaluate, codedeploy, clock: { now: () => clock, advance: (s) => (clock += s) } });
    expect(run.status).toBe('SUCCEEDED');
    expect(codedeploy.reports).toEqual([{ hookId: 'hook-1', status: 'Succeeded' }]);
    expect(calls.map((c) => c.phase)).toEqual(['resolve', 'tick', 'tick', 'tick', 'reported']);
    expect(clock - T0).toBe(180);
    expect(run.path.filter((p) => p === 'Wait').length).toBe(3);
  });

  it('runs a crashed step again with the same state and decides the same', async () => {
    const codedeploy = new FakeCodeDeploy();
    const { calls, evaluate } = scripted('Failed');
    let crashed = false;
    const run = await runMachine({
      definition,
      input: INPUT,
      codedeploy,
      evaluate: (state) => {
        if (state.phase === 'tick' && state.ticks === 1 && !crashed) {
          crashed = true;
          throw Object.assign(new Error('Runtime.ExitError'), { name: 'Runtime.ExitError' });
        }
        return evaluate(state);
      },
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(crashed).toBe(true);
    expect(codedeploy.reports).toEqual([{ hookId: 'hook-1', status: 'Failed' }]);
    expect(calls.filter((c) => c.phase === 'tick').length).toBe(3);
    expect(run.path).not.toContain('Read deployment');
  });

  it('hands LifecycleEventAlreadyCompletedException to the evaluator without retrying the report', async () => {
    const codedeploy = new FakeCodeDeploy();
    codedeploy.accepted.set('hook-1', 'Failed');
    const { calls, evaluate } = scripted('Succeeded');
    const run = await runMachine({ definition, input: INPUT, evaluate, codedeploy });
    expect(run.status).toBe('SUCCEEDED');
    expect(codedeploy.reports.length).toBe(1);
    const last = calls[calls.length - 1];
    expect(last.phase).toBe('already-completed');
    expect(last.reportError?.Error).toBe('CodeDeploy.LifecycleEventAlreadyCompletedException');
  });

  it('retries a throttled or denied report (IAM propagation) and reports it once', async () => {
    const codedeploy = new FakeCodeDeploy();
    codedeploy.reportFaults = [sdkError('CodeDeploy.ThrottlingException'), sdkError('CodeDeploy.AccessDeniedException'), sdkError('States.Timeout')];
    const { evaluate } = scripted('Failed');
    const run = await runMachine({ definition, input: INPUT, evaluate, codedeploy });
    expect(run.status).toBe('SUCCEEDED');
    expect(codedeploy.reports.length).toBe(4);
    expect([...codedeploy.accepted]).toEqual([['hook-1', 'Failed']]);
  });

  it('escalates through the evaluator and fails the execution when the report fails every retry', async () => {
    const codedeploy = new FakeCodeDeploy();
    codedeploy.reportFaults = Array.from({ length: 20 }, () => sdkError('CodeDeploy.InternalFailure'));
    const { calls, evaluate } = scripted('Failed');
    const run = await runMachine({ definition, input: INPUT, evaluate, codedeploy });
    expect(run.status).toBe('FAILED');
    expect(run.error).toMatch(/ReportFailed|could not be reported/);
    expect(codedeploy.reports.length).toBe(9); // the first try and 8 retries
    expect(calls[calls.length - 1]).toMatchObject({ phase: 'report-failed', reportError: { Error: 'CodeDeploy.InternalFailure' } });
  });

  describe('fail closed when the evaluator cannot run', () => {

    it('reports Failed for a release, audits the decision and an escalation, and fails the execution', async () => {
      const codedeploy = new FakeCodeDeploy();
      const run = await runMachine({ definition, input: INPUT, evaluate: broken, codedeploy });
      expect(run.status).toBe('FAILED');
      expect(run.error).toMatch(/EvaluatorFailed|could not run/);
      expect(codedeploy.reports).toEqual([{ hookId: 'hook-1', status: 'Failed' }]);
      expect(run.auditEntries.map((e) => e.DetailType)).toEqual(['Deployment Verdict', 'Escalation Raised']);
      expect(run.auditEntries[0].Detail).toMatchObject({
        schemaVersion: 1,
        deploymentId: 'd-ABCDEFGHI',
        lifecycleEventHookExecutionId: 'hook-1',
        verdict: 'inconclusive',
        reportedStatus: 'Failed',
        idempotencyKey: 'DeploymentVerdict:d-ABCDEFGHI:hook-1:machine',
      });
      // Each detail-type has its own key, and both name this trigger's group (the notices rule matches on it).
      expect(run.auditEntries[1].Detail.idempotencyKey).toBe('EscalationRaised:d-ABCDEFGHI:hook-1:machine');
      for (const e of run.auditEntries) expect(e.Detail).toMatchObject({ applicationName: 'GroupApplication6E8A938A', deploymentGroupName: 'GroupC77FDACD' });
      expect((run.auditEntries[0].Detail.reasons as string[])[0]).toMatch(/the evaluator could not run \(Runtime.ImportModuleError: Cannot find module\)/);
      // EventBridge takes the detail as a JSON string.
      const put = statesOf(definition)['Audit fail-closed decision'];
      expect(put.Parameters.Entries.map((e: Record<string, string>) => e['Detail.$'])).toEqual(['States.JsonToString($.audit.verdict)', 'States.JsonToString($.audit.escalation)']);
      expect(run.path).not.toContain('Read again in a minute');
    });

    it('never blocks a rollback: a rollback deployment is reported Succeeded', async () => {
      const codedeploy = new FakeCodeDeploy();
      codedeploy.deployment = { DeploymentId: 'd-ABCDEFGHI', Creator: 'codeDeployRollback' };
      const run = await runMachine({ definition, input: INPUT, evaluate: broken, codedeploy });
      expect(codedeploy.reports).toEqual([{ hookId: 'hook-1', status: 'Succeeded' }]);
      expect(run.auditEntries[0].Detail).toMatchObject({ verdict: 'skipped', reportedStatus: 'Succeeded' });
    });

    it('a deployment that cannot be read either: read again every minute, Succeeded only at the deadline, with an escalation', async () => {
      const codedeploy = new FakeCodeDeploy();
      codedeploy.deployment = sdkError('CodeDeploy.ThrottlingException');
      let clock = T0;
      const run = await runMachine({ definition, input: INPUT, evaluate: broken, codedeploy, clock: { now: () => clock, advance: (s) => (clock += s) } });
      expect(codedeploy.reports).toEqual([{ hookId: 'hook-1', status: 'Succeeded' }]);
      expect(clock).toBeGreaterThanOrEqual(T0 + 3300);
      expect(clock).toBeLessThan(T0 + 3300 + 120);
      // Six tries (the first and five retries) every minute until the deadline.
      expect(codedeploy.getDeploymentCalls).toBe(6 * (run.path.filter((p) => p === 'Read again in a minute').length + 1));
      expect(run.path.filter((p) => p === 'Read again in a minute').length).toBeGreaterThanOrEqual(55);
      expect(run.auditEntries.map((e) => e.DetailType)).toEqual(['Deployment Verdict', 'Escalation Raised']);
      expect(run.auditEntries[0].Detail).toMatchObject({ verdict: 'skipped', reportedStatus: 'Succeeded' });
    });

    it('a deployment readable again after ten minutes is judged as it is: a release fails closed', async () => {
      const codedeploy = new FakeCodeDeploy();
      codedeploy.deployment = sdkError('CodeDeploy.ThrottlingException');
      let clock = T0;
      const run = await runMachine({
        definition,
        input: INPUT,
        evaluate: broken,
        codedeploy,
        clock: {
          now: () => clock,
          advance: (s) => {
            clock += s;
            if (clock >= T0 + 600) codedeploy.deployment = { DeploymentId: 'd-ABCDEFGHI', Creator: 'user' };
          },
        },
      });
      expect(codedeploy.reports).toEqual([{ hookId: 'hook-1', status: 'Failed' }]);
      expect(clock).toBeLessThan(T0 + 700);
      expect(run.auditEntries[0].Detail).toMatchObject({ verdict: 'inconclusive', reportedStatus: 'Failed' });
    });

    it('a fail-closed report that CodeDeploy refuses is audited without a reported status', async () => {
      const codedeploy = new FakeCodeDeploy();
      codedeploy.reportFaults = Array.from({ length: 20 }, () => sdkError('CodeDeploy.InternalFailure', 'boom'));
      const run = await runMachine({ definition, input: INPUT, evaluate: broken, codedeploy });
      expect(codedeploy.accepted.size).toBe(0);
      expect(run.auditEntries[0].Detail.reportedStatus).toBeUndefined();
      expect((run.auditEntries[0].Detail.reasons as string[])[2]).toMatch(/Failed could not be reported \(CodeDeploy.InternalFailure: boom\)/);
    });

    it('an evaluator that never decides: at report-by (hook start + 57 min) the machine reports Failed itself', async () => {
      const codedeploy = new FakeCodeDeploy();
      let clock = T0;
      const input = { ...INPUT, reportBy: new Date((T0 + 3420) * 1000).toISOString() };
      const run = await runMachine({
        definition,
        input,
        evaluate: (state) => ({ ...state, phase: 'tick', next: 'wait', waitSeconds: 60 }),
        codedeploy,
        clock: { now: () => clock, advance: (s) => (clock += s) },
      });
      expect(codedeploy.reports).toEqual([{ hookId: 'hook-1', status: 'Failed' }]);
      expect(clock).toBe(T0 + 3420);
      expect(run.path).toContain('Report-by passed');
      expect((run.auditEntries[0].Detail.reasons as string[])[0]).toMatch(/DeadlinePassed/);
    });

    it('rejected PutEvents entries count as not delivered', async () => {
      const run = await runMachine({
        definition,
        input: INPUT,
        evaluate: broken,
        putEvents: () => undefined,
        putEventsResult: { FailedEntryCount: 2 },
      });
      expect(run.path).toContain('Audit not delivered (kept in the execution log)');
    });

    it.each<[string, (s: BakeState) => BakeState]>([
      ['an unknown next step', (s) => ({ ...s, next: 'sideways' as never })],
      ['no next step at all', (s) => ({ ...s, next: undefined })],
      ['a null next step', (s) => ({ ...s, next: null as never })],
      ['a wait without seconds', (s) => ({ ...s, next: 'wait', waitSeconds: undefined })],
      ['a report without a status', (s) => ({ ...s, next: 'report', report: undefined })],
      ['an answer without the state', () => ({ next: 'sideways' }) as never],
      ['an empty answer', () => ({}) as never],
      ['a null answer', () => null as never],
    ])('%s is treated as a crash: fail closed, never a runtime error that leaves the hook unreported', async (_name, answer) => {
      const codedeploy = new FakeCodeDeploy();
      const run = await runMachine({ definition, input: INPUT, evaluate: answer, codedeploy });
      expect(codedeploy.reports).toEqual([{ hookId: 'hook-1', status: 'Failed' }]);
      expect((run.auditEntries[0].Detail.reasons as string[])[0]).toMatch(/UnexpectedNextStep/);
    });

    it('an audit EventBridge refuses does not undo the report; the execution still ends', async () => {
      const codedeploy = new FakeCodeDeploy();
      const run = await runMachine({
        definition,
        input: INPUT,
        evaluate: broken,
        codedeploy,
        putEvents: () => {
          throw sdkError('EventBridge.InternalException');
        },
      });
      expect(codedeploy.reports).toEqual([{ hookId: 'hook-1', status: 'Failed' }]);
      expect(run.path).toContain('Audit not delivered (kept in the execution log)');
      expect(run.status).toBe('FAILED');
    });
  });

  describe('after the report the hook is decided: never reported twice', () => {
    it.each<[string, BakeState['phase']]>([
      ['the verdict audit', 'reported'],
      ['the already-completed audit', 'already-completed'],
      ['the report-failure escalation', 'report-failed'],
    ])('%s crashing: no second report; the machine audits what it knows and fails the execution', async (_name, phase) => {
      const codedeploy = new FakeCodeDeploy();
      if (phase === 'already-completed') codedeploy.accepted.set('hook-1', 'Failed');
      if (phase === 'report-failed') codedeploy.reportFaults = Array.from({ length: 20 }, () => sdkError('CodeDeploy.InternalFailure'));
      const { evaluate } = scripted('Succeeded', 1);
      const run = await runMachine({
        definition,
        input: INPUT,
        codedeploy,
        evaluate: (state) => {
          if (state.phase === phase) throw Object.assign(new Error('boom'), { name: 'Error' });
          return evaluate(state);
        },
      });
      expect(run.status).toBe('FAILED');
      expect(codedeploy.getDeploymentCalls).toBe(0);
      expect(codedeploy.reports.filter((r) => r.status === 'Failed')).toEqual([]);
      const detail = run.auditEntries[0].Detail;
      if (phase === 'reported') expect(detail).toMatchObject({ reportedStatus: 'Succeeded', verdict: 'pass' });
      else expect(detail.reportedStatus).toBeUndefined();
    });

    it('an audit step that answers "report" again is not obeyed', async () => {
      const codedeploy = new FakeCodeDeploy();
      const { evaluate } = scripted('Succeeded', 1);
      const run = await runMachine({ definition, input: INPUT, codedeploy, evaluate: (s) => (s.phase === 'reported' ? { ...s, next: 'report' } : evaluate(s)) });
      expect(codedeploy.reports).toEqual([{ hookId: 'hook-1', status: 'Succeeded' }]);
      // Its answer is not trusted for anything: the audit says the hook was decided, no more.
      expect(run.auditEntries[1].Detail.reportedStatus).toBeUndefined();
      expect((run.auditEntries[1].Detail.reasons as string[])[0]).toMatch(/decided .* could not audit it/);
    });
  });
});
