import { IConstruct } from 'constructs';
import { RollbackTriggersError } from '../core/errors';

/**
 * Runs a check and re-throws a core error with the construct path in front of it, so a synth
 * failure points at the construct the user wrote (`Stack/CheckoutSlo: [RT101] objectivePercent …`).
 */
export function atConstruct<T>(scope: IConstruct, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (e instanceof RollbackTriggersError) {
      throw new RollbackTriggersError(e.code, `${scope.node.path}: ${e.message.replace(/^\[[A-Z0-9]+\] /, '')}`);
    }
    throw e;
  }
}
