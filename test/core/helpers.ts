import { expect } from 'vitest';
import { type ArmScope, type EvaluatorConfig, type EvaluatorSlo, RollbackTriggersError, armScopesFor } from '../../lib/core';

/**
 * Runs `fn`, asserts it throws a RollbackTriggersError with `code`, and returns the error so the
 * caller can check the message.
 */
export function expectRtError(fn: () => unknown, code: string): RollbackTriggersError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected ${code} to be thrown`).toBeInstanceOf(RollbackTriggersError);
  const error = thrown as RollbackTriggersError;
  expect(error.code).toBe(code);
  expect(error.message.startsWith(`[${code}] `)).toBe(true);
  return error;
}

/**
 * The evaluator's view of a 99.9 % Lambda availability SLO with the workbook's fastest page tier:
 * 14.4× over 1 h and 5 min, at least 70 events a window. The decision, evidence and window tests
 * work their numbers out against it.
 */
export const AVAILABILITY_SLO: EvaluatorSlo = {
  name: 'Availability',
  errorBudget: 0.001,
  failBurnRate: 14.4,
  shortWindowSeconds: 300,
  minEvents: 70,
  numeratorKind: 'bad',
  numerator: { namespace: 'AWS/Lambda', metricName: 'Errors', dimensionSet: 0, stat: 'Sum' },
  total: { namespace: 'AWS/Lambda', metricName: 'Invocations', dimensionSet: 0, stat: 'Sum' },
};

/** The arms the tick reads, as `resolve` finds them: Lambda version 7 replacing 6, or ECS green replacing blue. */
export function armsOf(config: EvaluatorConfig): ArmScope[] {
  const arms =
    config.platform === 'lambda'
      ? armScopesFor(config, { platform: 'lambda', targetVersion: '7', currentVersion: '6' })
      : armScopesFor(config, { platform: 'ecs', currentTargetGroup: config.targetGroups![0].name, targetTargetGroup: config.targetGroups![1].name });
  if (typeof arms === 'string') throw new Error(arms);
  return arms;
}
