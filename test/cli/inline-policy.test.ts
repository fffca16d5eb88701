import { Duration, Stack } from 'aws-cdk-lib';
import { LambdaDeploymentConfig, LambdaDeploymentGroup } from 'aws-cdk-lib/aws-codedeploy';
import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BurnRateTier, RollbackTarget, RollbackTrigger, ServiceLevelObjective, Sli } from '../../lib';
import { policyFromInline, withInlineTrafficShift } from '../../lib/cli/inline-policy';
import { InputError } from '../../lib/cli/input-error';
import type { InlineSlo } from '../../lib/cli/series-file';
import { HEALTH_CHECK_DEFAULTS, ROLLBACK_TRIGGER_DEFAULTS, RollbackPolicy, SLO_DEFAULTS, WORKBOOK_TIERS } from '../../lib/core';
import { lambdaFunction, liveAlias } from '../helpers';

const TIERS: Record<string, BurnRateTier> = {
  'page-1h': BurnRateTier.PAGE_1H,
  'page-6h': BurnRateTier.PAGE_6H,
  'ticket-1d': BurnRateTier.TICKET_1D,
  'ticket-3d': BurnRateTier.TICKET_3D,
};

/** The same declaration through the constructs: a Lambda alias, its availability or latency SLI. */
function fromConstructs(slo: InlineSlo): RollbackPolicy {
  const stack = new Stack(undefined, 'S');
  const alias = liveAlias(stack, lambdaFunction(stack));
  const group = new LambdaDeploymentGroup(stack, 'Deployment', {
    alias,
    deploymentConfig: LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
    autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
  });
  const objective = new ServiceLevelObjective(stack, slo.name, {
    sli: slo.sli === 'latency' ? Sli.lambdaLatency(alias, Duration.millis(slo.latencyThreshold!)) : Sli.lambdaAvailability(alias),
    objectivePercent: slo.objectivePercent,
    compliancePeriod: slo.compliancePeriodDays === undefined ? undefined : Duration.days(slo.compliancePeriodDays),
    tiers: slo.tiers?.map((t) => TIERS[t]),
    minEventsPerWindow: slo.minEventsPerWindow,
    suppressTicketsWhilePaging: slo.suppressTicketsWhilePaging,
  });
  const trigger = new RollbackTrigger(stack, 'Rollback', { target: RollbackTarget.lambdaAlias({ deploymentGroup: group, alias }), objectives: [objective] });
  return { schemaVersion: 1, stack: 'S', slos: [objective._policy], thresholdTriggers: [], rollbackTriggers: [trigger._policy] };
}

/** Paths and SLI descriptions aside (the construct's path is its stack's; the CLI's `inline`). */
function normalized(policy: RollbackPolicy): unknown {
  const text = JSON.stringify({ ...policy, stack: undefined }).split('"S/').join('"STACK/').split('"inline/').join('"STACK/');
  const doc = JSON.parse(text) as { slos: Array<{ sli: { description?: string } }> };
  for (const slo of doc.slos) delete slo.sli.description;
  return doc;
}

/** The policy, or the code of the error that refused the declaration. */
function outcome(build: () => RollbackPolicy): { policy: unknown } | { code: string } {
  try {
    return { policy: normalized(build()) };
  } catch (e) {
    const code = (e as { code?: string }).code ?? /\[(RT\d+)\]/.exec((e as Error).message)?.[1];
    if (code === undefined) throw e;
    return { code };
  }
}

const declarations: fc.Arbitrary<InlineSlo> = fc
  .record(
    {
      objectivePercent: fc.constantFrom(90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 99.9999, 99.99999),
      sli: fc.constantFrom('error-ratio' as const, 'latency' as const),
      compliancePeriodDays: fc.option(fc.integer({ min: 1, max: 90 }), { nil: undefined }),
      tiers: fc.option(fc.subarray(WORKBOOK_TIERS.map((t) => t.name), { minLength: 1 }), { nil: undefined }),
      minEventsPerWindow: fc.option(fc.integer({ min: 1, max: 5_000 }), { nil: undefined }),
      suppressTicketsWhilePaging: fc.option(fc.boolean(), { nil: undefined }),
    },
    { requiredKeys: ['objectivePercent', 'sli'] },
  )
  .map((d) => ({ name: 'api', ...d, latencyThreshold: d.sli === 'latency' ? 300 : undefined }));

describe('the inline shorthand and the constructs build one policy (lib/core/policy-builder.ts)', () => {
  it('render the same policy for the same declaration, or refuse it with the same code', () => {
    fc.assert(
      fc.property(declarations, (slo) => {
        // fromConstructs deploys with a 10 % canary: replayed so, the shorthand's alarms carry that share.
        const inline = outcome(() => withInlineTrafficShift(policyFromInline({ slos: [slo], bakeSeconds: ROLLBACK_TRIGGER_DEFAULTS.bakeSeconds }), { kind: 'canary', percent: 10 }));
        const constructs = outcome(() => fromConstructs(slo));
        expect(inline).toEqual(constructs);
      }),
      { numRuns: 40, seed: 12 },
    );
  });

  it('takes every default from the one defaults object of the core', () => {
    const policy = policyFromInline({ slos: [{ name: 'api', objectivePercent: 99.9, sli: 'error-ratio' }], bakeSeconds: ROLLBACK_TRIGGER_DEFAULTS.bakeSeconds });
    const trigger = policy.rollbackTriggers![0];
    expect(policy.slos[0].compliancePeriodSeconds).toBe(SLO_DEFAULTS.compliancePeriodSeconds);
    expect(policy.slos[0].sli.resolutionSeconds).toBe(SLO_DEFAULTS.resolutionSeconds);
    expect(trigger.deadlineSeconds).toBe(ROLLBACK_TRIGGER_DEFAULTS.deadlineSeconds);
    expect(trigger.maxAlarms).toBe(ROLLBACK_TRIGGER_DEFAULTS.maxAlarmsPerDeploymentGroup);
    expect(trigger.inconclusiveAction).toBe(ROLLBACK_TRIGGER_DEFAULTS.inconclusiveAction);
    expect(trigger.alarms[0].baseline?.factor).toBe(ROLLBACK_TRIGGER_DEFAULTS.baselineFactor);
    expect(HEALTH_CHECK_DEFAULTS).toEqual({ httpTimeoutMs: 5_000, httpFailAfter: 3, minSuccessPercent: 100 });
  });
});

describe('the inline shorthand refuses what the constructs refuse, naming the file and field', () => {
  const refuse = (slo: Partial<InlineSlo>) => () =>
    policyFromInline({ slos: [{ name: 'api', objectivePercent: 99.9, sli: 'error-ratio', ...slo }], bakeSeconds: 600, file: 'release.json' });

  it.each([
    ['an error budget below one event in a million (RT119)', { objectivePercent: 99.99999 }, 'objectivePercent', 'RT119'],
    ['a minimum that cannot measure the budget (RT120)', { minEventsPerWindow: 100 }, 'minEventsPerWindow', 'RT120'],
    ['a minimum beyond whole doubles (RT114)', { minEventsPerWindow: 2 ** 53 }, 'minEventsPerWindow', 'RT114'],
    ['a name CloudWatch cannot carry (RT215)', { name: 'a"b' }, 'name', 'RT215'],
    ['a tier named twice (RT117)', { tiers: ['page-1h', 'page-1h'] }, 'tiers', 'RT117'],
    ['a tier longer than the compliance period (RT105)', { compliancePeriodDays: 2, tiers: ['page-1h', 'ticket-3d'] }, 'tiers', 'RT105'],
    ['suppression without a ticket tier (RT125)', { tiers: ['page-1h'], suppressTicketsWhilePaging: true }, 'suppressTicketsWhilePaging', 'RT125'],
  ])('%s', (_what, slo, field, code) => {
    let error: unknown;
    try {
      refuse(slo)();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ file: 'release.json', where: 'slos[0]', field, code });
    expect((error as Error).message).toMatch(new RegExp(`^release\\.json: slos\\[0\\]: field "${field}": .*\\(${code}\\)$`, 's'));
  });

  it('refuses an SLO without a page tier (RT307), as RollbackTrigger does', () => {
    expect(refuse({ tiers: ['ticket-1d'] })).toThrow(/field "tiers": has no page tier.*\(RT307\)/);
  });
});
