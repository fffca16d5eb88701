import { expect } from 'vitest';
import { RollbackTriggersError } from '../../lib/core';

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
