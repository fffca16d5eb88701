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
      expect(states[name].Retry).toEqual(expect.arrayContaining([expect.objectContaining({ ErrorEquals: ['States.TaskFailed', 'States.Timeout'], MaxAttempts: 3 })]));
      expect(states[name].Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.crash', Next: 'Read deployment' }]);
    }
    // The report never retries "already completed": a second status is never sent for it.
    expect(states.Report.Retry[0]).toMatchObject({ ErrorEquals: expect.arrayContaining(['CodeDeploy.LifecycleEventAlreadyCompletedException']), MaxAttempts: 0 });
    expect(states.Report.Resource).toBe('arn:aws:states:::aws-sdk:codedeploy:putLifecycleEventHookExecutionStatus');
  });

  it('waits between ticks, reports once, audits the verdict and ends', async () => {
    const codedeploy = new FakeCodeDeploy();
    const { calls, evaluate } = scripted('Succeeded');
    let clock = 0;
    const run = await runMachine({ definition, input: INPUT, evaluate, codedeploy, advanceClock: (s) => (clock += s) });
    expect(run.status).toBe('SUCCEEDED');
    expect(codedeploy.reports).toEqual([{ hookId: 'hook-1', status: 'Succeeded' }]);
    expect(calls.map((c) => c.phase)).toEqual(['resolve', 'tick', 'tick', 'tick', 'reported']);
    expect(clock).toBe(180);
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
    const broken = () => {
      throw Object.assign(new Error('Cannot find module'), { name: 'Runtime.ImportModuleError' });
    };

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
        idempotencyKey: 'EvaluatorFailed:d-ABCDEFGHI:hook-1',
      });
      expect((run.auditEntries[0].Detail.reasons as string[])[0]).toMatch(/the evaluator could not run \(Runtime.ImportModuleError: Cannot find module\)/);
      // EventBridge takes the detail as a JSON string.
      const put = statesOf(definition)['Audit fail-closed decision'];
      expect(put.Parameters.Entries.map((e: Record<string, string>) => e['Detail.$'])).toEqual(['States.JsonToString($.auditDetail)', 'States.JsonToString($.auditDetail)']);
      expect(run.path).not.toContain('Wait for the deadline');
    });

    it('never blocks a rollback: a rollback deployment is reported Succeeded', async () => {
      const codedeploy = new FakeCodeDeploy();
      codedeploy.deployment = { DeploymentId: 'd-ABCDEFGHI', Creator: 'codeDeployRollback' };
      const run = await runMachine({ definition, input: INPUT, evaluate: broken, codedeploy });
      expect(codedeploy.reports).toEqual([{ hookId: 'hook-1', status: 'Succeeded' }]);
      expect(run.auditEntries[0].Detail).toMatchObject({ verdict: 'skipped', reportedStatus: 'Succeeded' });
    });

    it('a deployment that cannot be read either: Succeeded only after waiting for the deadline, with an escalation', async () => {
      const codedeploy = new FakeCodeDeploy();
      codedeploy.deployment = sdkError('CodeDeploy.ThrottlingException');
      const run = await runMachine({ definition, input: INPUT, evaluate: broken, codedeploy });
      expect(codedeploy.getDeploymentCalls).toBe(6); // the first try and 5 retries
      const waited = run.path.indexOf('Wait for the deadline');
      expect(waited).toBeGreaterThan(-1);
      expect(run.path.indexOf('Report fail-closed status')).toBeGreaterThan(waited);
      expect(codedeploy.reports).toEqual([{ hookId: 'hook-1', status: 'Succeeded' }]);
      expect(run.auditEntries.map((e) => e.DetailType)).toContain('Escalation Raised');
      expect(statesOf(definition)['Wait for the deadline']).toMatchObject({ Type: 'Wait', TimestampPath: '$.deadline' });
    });

    it('an answer the machine does not know is treated as a crash', async () => {
      const codedeploy = new FakeCodeDeploy();
      const run = await runMachine({ definition, input: INPUT, evaluate: (s) => ({ ...s, next: 'sideways' as never }), codedeploy });
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
});
