import { IConstruct } from 'constructs';
import { RollbackTriggersError } from '../core/errors';

/**
 * Runs a check and re-throws a core error with the construct path in front of it, so a synth
 * failure points at the construct the user wrote (`[RT101] Stack/CheckoutSlo: objectivePercent …`).
 * An error that already names a construct keeps it: the innermost construct is the precise one.
 */
export function atConstruct<T>(scope: IConstruct, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof RollbackTriggersError && e.constructPath === undefined) {
      throw new RollbackTriggersError(e.code, e.detail, { constructPath: scope.node.path, prop: e.prop });
    }
    throw e;
  }
}

/** A prop's value as a refusal shows it: a literal as written, an object by its class (`Alias`). */
export function describeProp(value: unknown): string {
  if (value === undefined || value === null) return String(value);
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'an object';
  return typeof value;
}

/**
 * Runs a core check that names a prop only in its text (`validateDurationSeconds(label, …)`) and
 * re-throws its error with `prop` set, so tools read the prop without parsing the message.
 */
export function withProp<T>(prop: string, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof RollbackTriggersError && e.prop === undefined) {
      throw new RollbackTriggersError(e.code, e.detail, { constructPath: e.constructPath, prop });
    }
    throw e;
  }
}
