import { IConstruct } from 'constructs';
import { POLICY_METADATA_TYPE } from '../core/policy';

/**
 * The policy entries of every construct under `scope`, as the cloud assembly will hold them: the
 * construct metadata of type {@link POLICY_METADATA_TYPE} (what `rollback-triggers plan cdk.out`
 * reads), so a plan built in the app and one built from cdk.out read the same entries, whichever
 * construct wrote them (SLOs, groups, triggers).
 */
export function policyEntriesUnder(scope: IConstruct): unknown[] {
  return scope.node.findAll().flatMap((c) => c.node.metadata.filter((m) => m.type === POLICY_METADATA_TYPE).map((m) => m.data as unknown));
}
