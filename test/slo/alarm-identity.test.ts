import { CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { RollbackTarget, RollbackTrigger, ServiceLevelObjective, Sli } from '../../lib';
import { countMetric, lambdaCanary, newStack } from '../helpers';

// Every alarm is owned by the construct that declared it (lib/private/alarm-factory.ts): deleting
// one SLO from an app must leave every other alarm where it was, under the same logical id, or
// CloudFormation would replace it (and reset its state and history).

const SLOS = ['Checkout', 'CheckoutTeamB', 'Payments'] as const;
type SloId = (typeof SLOS)[number];
type Resource = { Type: string; Properties: Record<string, unknown>; path: string };

/** The example-shaped stack: a Lambda canary rolled back on its SLO, and three more SLOs, two of them identical. */
function alarmsOf(without?: SloId): Record<string, Resource> {
  const f = lambdaCanary(newStack());
  new RollbackTrigger(f.stack, 'Rollback', { target: RollbackTarget.lambdaAlias({ deploymentGroup: f.group, alias: f.alias }), objectives: [f.slo] });
  const shop = () => Sli.errorRatio({ badEvents: countMetric('Failed'), totalEvents: countMetric('Requests') });
  const props: Record<SloId, ConstructorParameters<typeof ServiceLevelObjective>[2]> = {
    // Same SLI and objective: these two once shared their window alarms, under Checkout's path.
    Checkout: { sli: shop(), objectivePercent: 99.9 },
    CheckoutTeamB: { sli: shop(), objectivePercent: 99.9 },
    Payments: { sli: Sli.errorRatio({ badEvents: countMetric('Failed', 'Payments'), totalEvents: countMetric('Calls', 'Payments') }), objectivePercent: 99.5 },
  };
  for (const id of SLOS) if (id !== without) new ServiceLevelObjective(f.stack, id, props[id]);
  const resources = (Template.fromStack(f.stack).toJSON() as { Resources: Record<string, Omit<Resource, 'path'>> }).Resources;
  const paths = new Map(
    f.stack.node.findAll().flatMap((c) => (c instanceof CfnResource ? [[f.stack.getLogicalId(c), c.node.path] as const] : [])),
  );
  return Object.fromEntries(
    Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm' || r.Type === 'AWS::CloudWatch::CompositeAlarm')
      .map(([logicalId, r]) => [logicalId, { ...r, path: paths.get(logicalId)! }]),
  );
}

const pathOf = (r: Resource) => r.path;

describe('alarm identity: each alarm belongs to the construct that declared it', () => {
  const all = alarmsOf();

  it('gives every SLO its own 8 window alarms and 2 composites (EXACT), under its own path', () => {
    for (const id of SLOS) {
      const own = Object.values(all).filter((r) => pathOf(r).startsWith(`TestStack/${id}/`));
      expect(own.filter((r) => r.Type === 'AWS::CloudWatch::Alarm')).toHaveLength(8);
      expect(own.filter((r) => r.Type === 'AWS::CloudWatch::CompositeAlarm')).toHaveLength(2);
    }
    // Every other alarm is the canary's SLO's or the trigger's.
    const owners = Object.values(all).map((r) => r.path.split('/')[1]);
    expect(new Set(owners)).toEqual(new Set([...SLOS, 'Availability', 'Rollback']));
  });

  it.each(SLOS)('deleting SLO %s changes no other alarm: same logical ids, same properties', (deleted) => {
    const rest = alarmsOf(deleted);
    const gone = Object.keys(all).filter((logicalId) => !(logicalId in rest));
    // Exactly the deleted SLO's alarms went away.
    expect(gone.map((logicalId) => pathOf(all[logicalId])).every((p) => p.startsWith(`TestStack/${deleted}/`))).toBe(true);
    expect(gone).toHaveLength(10);
    // Everything else is the same resource under the same logical id.
    for (const [logicalId, resource] of Object.entries(rest)) {
      expect(all[logicalId], `${logicalId} (${pathOf(resource)}) is new after deleting ${deleted}`).toBeDefined();
      expect(resource).toEqual(all[logicalId]);
    }
  });
});
