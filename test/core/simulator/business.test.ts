import { App, Stack } from 'aws-cdk-lib';
import { LambdaDeploymentConfig } from 'aws-cdk-lib/aws-codedeploy';
import { Metric, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import { describe, expect, it } from 'vitest';
import { RollbackTarget, RollbackTrigger, ServiceLevelObjective, Sli, SliScope } from '../../../lib';
import type { RollbackPolicy } from '../../../lib/core';
import { type MinuteCounts, type PathOutcome, type SeriesEntry, type SimulationResult, simulate } from '../../../lib/core/simulator';
import { lambdaCanaryGroup } from '../../helpers';
import { expectRtError } from '../helpers';
import { CANARY_10_FOR_10, policyOf } from './fixtures';

// Issue 8 item 5: a business-failure SLO (Sli.businessFailureRatio: failed payments over attempted
// payments) is replayed on the series' `failures` count, not on `errors` — a declined payment is
// not an HTTP or Lambda error. The policy is synthesized from real constructs: a Lambda alias, a
// 99.5 % Payments SLO on the checkout's own payment metrics (scoped to the version: they carry the
// executed version), and a RollbackTrigger guarding the alias's CodeDeploy deployment group, with
// or without a 99.9 % availability SLO beside it.
//
// 99.5 %: budget 0.5 %, page-1h threshold 14.4 × 0.5 % = 7.2 % failed payments, minimum events
// ⌊1 ÷ (14.4 × 0.005)⌋ + 1 = 14. The custom metrics have no rebind to a version, so the trigger's
// rollback alarm watches the SLI as declared (scope `declared`): a version-scoped SLI, i.e. the
// new version's own payments (the series' `canary` entries), over page-1h's 5-minute short window.

function synthesize(withAvailability: boolean): RollbackPolicy {
  const stack = new Stack(new App(), 'Shop');
  const { fn, alias, group } = lambdaCanaryGroup(stack, { deploymentConfig: LambdaDeploymentConfig.CANARY_10PERCENT_10MINUTES });
  const payments = (metricName: string) =>
    new Metric({ namespace: 'Checkout', metricName, dimensionsMap: { FunctionName: fn.functionName, Resource: `${fn.functionName}:live` }, statistic: Stats.SUM });
  const objectives = [
    new ServiceLevelObjective(stack, 'Payments', {
      sli: Sli.businessFailureRatio({
        failures: payments('PaymentsFailed'),
        attempts: payments('PaymentsAttempted'),
        scope: SliScope.VERSION,
        description: 'failed payments / attempted payments',
      }),
      objectivePercent: 99.5,
    }),
  ];
  if (withAvailability) objectives.push(new ServiceLevelObjective(stack, 'Availability', { sli: Sli.lambdaAvailability(alias), objectivePercent: 99.9 }));
  new RollbackTrigger(stack, 'Rollback', { target: RollbackTarget.lambdaAlias({ deploymentGroup: group, alias }), objectives });
  return policyOf(stack);
}

const payments = synthesize(false);
const both = synthesize(true);

const IDS = {
  paymentsRollback: 'Shop/Rollback/Payments/declared/page-1h',
  availabilityRollback: 'Shop/Rollback/Availability/version/page-1h',
  paymentsPage: 'Shop/Payments/page',
} as const;

/**
 * A 10 % canary for 10 minutes of a checkout at 1,000 payments a minute, released at minute 0 after
 * 400 minutes of history, then all traffic on the new version until minute 40. `canary(requests)`
 * and `stable(requests)` give each version's errors and failed payments (default none); the blended
 * entry is their sum.
 */
function release(opts: {
  canary?: (requests: number) => { errors?: number; failures?: number };
  stable?: (requests: number) => { errors?: number; failures?: number };
  withFailures?: boolean;
}): SeriesEntry[] {
  const withFailures = opts.withFailures ?? true;
  const counts = (requests: number, bad: { errors?: number; failures?: number } | undefined): MinuteCounts => ({
    requests,
    errors: bad?.errors ?? 0,
    ...(withFailures ? { failures: bad?.failures ?? 0 } : {}),
  });
  const out: SeriesEntry[] = [];
  for (let m = -400; m <= 40; m++) {
    const canaryRequests = m < 0 ? 0 : m < 10 ? 100 : 1_000;
    const stable = counts(1_000 - canaryRequests, opts.stable?.(1_000 - canaryRequests));
    const canary = canaryRequests > 0 ? counts(canaryRequests, opts.canary?.(canaryRequests)) : undefined;
    const parts = canary ? [stable, canary] : [stable];
    const sum = (f: 'requests' | 'errors' | 'failures') => parts.reduce((n, p) => n + (p[f] ?? 0), 0);
    out.push({
      minute: m,
      requests: sum('requests'),
      errors: sum('errors'),
      ...(withFailures ? { failures: sum('failures') } : {}),
      ...(stable.requests > 0 ? { stable } : {}),
      ...(canary ? { canary } : {}),
    });
  }
  return out;
}

const run = (series: readonly SeriesEntry[], policy: RollbackPolicy = payments): SimulationResult =>
  simulate({ policy, series, releaseMinute: 0, deployment: CANARY_10_FOR_10 });
const path = (result: SimulationResult, name: PathOutcome['path']) => result.paths.find((p) => p.path === name)!;

describe('a business-failure SLO replays failed business operations (failures), not errors', () => {
  it('is synthesized as a business-failure SLO whose rollback alarm watches the new version as declared', () => {
    const slo = payments.slos.find((s) => s.name === 'Payments')!;
    expect(slo.sli).toMatchObject({ kind: 'business-failure', scope: 'version' });
    const alarm = payments.rollbackTriggers![0].alarms.find((a) => a.slo === 'Payments')!;
    expect(alarm).toMatchObject({ scope: 'declared', minEvents: 14 });
    expect(alarm.tier).toMatchObject({ name: 'page-1h', factor: 14.4 });
  });

  it('rolls back a new version that fails 10 % of its payments without a single error, on its own traffic', () => {
    const result = run(release({ canary: (requests) => ({ failures: requests / 10 }) }));
    // At minute 1 the 5-minute window holds minute 0: 10 of the new version's 100 payments failed,
    // 10 % ÷ 0.5 % = 20× ≥ 14.4×.
    expect(result.outcome).toMatchObject({ path: 'alarm', minute: 1, detectionMinutes: 1, verdict: 'fail', rollback: true, source: IDS.paymentsRollback });
    expect(result.outcome.reasons[0]).toMatch(/on the new version's traffic \(the SLI as declared\): burn rate 20× over the last 5 min \(10 of 100 events bad, minimum 14\)/);
    expect(result.minutes.find((m) => m.minute === 1)!.burnRates[IDS.paymentsRollback]).toBe(20);
    // The evaluator, on its own, fails the release on the same failures.
    expect(path(result, 'evaluator')).toMatchObject({ verdict: 'fail', rollback: true, status: 'Failed', source: 'Payments' });
  });

  it('is not fooled by errors: a release that fails 10 % of its requests but no payment passes the Payments SLO', () => {
    const result = run(release({ canary: (requests) => ({ errors: requests / 10 }) }));
    expect(result.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass', rollback: false, status: 'Succeeded' });
    expect(path(result, 'alarm')).toMatchObject({ verdict: 'none', rollback: false });
    expect(path(result, 'paging')).toMatchObject({ verdict: 'none', rollback: false });
    expect(result.minutes.filter((m) => m.minute >= 1).every((m) => (m.burnRates[IDS.paymentsRollback] ?? 0) === 0)).toBe(true);
  });

  it('keeps each SLO on its own count when the trigger also guards availability', () => {
    // Failed payments, no errors: Payments rolls back, the availability alarm sees nothing.
    const failedPayments = run(release({ canary: (requests) => ({ failures: requests / 10 }) }), both);
    expect(failedPayments.outcome).toMatchObject({ path: 'alarm', minute: 1, source: IDS.paymentsRollback });
    expect(failedPayments.minutes.find((m) => m.minute === 1)!.burnRates[IDS.availabilityRollback]).toBe(0);
    // Errors, no failed payment: availability rolls back, Payments sees nothing.
    const errors = run(release({ canary: (requests) => ({ errors: requests / 10 }) }), both);
    expect(errors.outcome).toMatchObject({ path: 'alarm', minute: 1, source: IDS.availabilityRollback });
    expect(errors.minutes.find((m) => m.minute === 1)!.burnRates[IDS.paymentsRollback]).toBe(0);
  });

  it('pages on blended failed payments', () => {
    // All traffic failing 10 % of payments from the release on: the blended page-1h tier (14.4× over
    // 1 h and 5 min) fires once the hour holds enough of them; paging never rolls back.
    const result = run(release({ canary: (requests) => ({ failures: requests / 10 }), stable: (requests) => ({ failures: requests / 10 }) }));
    expect(path(result, 'paging')).toMatchObject({ verdict: 'fail', rollback: false, source: IDS.paymentsPage });
  });

  it('refuses a series without failures (RT706), naming the field and why', () => {
    const message = expectRtError(() => run(release({ canary: (requests) => ({ failures: requests / 10 }), withFailures: false })), 'RT706').message;
    expect(message).toBe(
      '[RT706] series entry 0 (minute -400): failures is missing, but a business-failure SLO of the policy counts failed business operations, not errors — ' +
        'give failures (business operations that failed among requests) on every entry',
    );
    // A per-version part without it is refused too.
    const series = release({});
    const withoutCanaryFailures = series.map((e) => (e.minute === 3 ? { ...e, canary: { requests: e.canary!.requests, errors: 0 } } : e));
    expect(expectRtError(() => run(withoutCanaryFailures), 'RT706').message).toMatch(/^\[RT706\] series entry 403 \(minute 3\): canary\.failures is missing, but a business-failure SLO/);
  });

  it('does not ask for failures when no SLO counts them', () => {
    const availabilityOnly: RollbackPolicy = {
      ...both,
      slos: both.slos.filter((s) => s.name === 'Availability'),
      rollbackTriggers: both.rollbackTriggers!.map((t) => ({ ...t, alarms: t.alarms.filter((a) => a.slo === 'Availability') })),
    };
    expect(() => run(release({ withFailures: false }), availabilityOnly)).not.toThrow();
  });

  it.each([
    ['blended', (e: SeriesEntry) => ({ ...e, failures: e.requests + 1 }), /series entry 400 \(minute 0\): failures \(1001\) must not exceed requests \(1000\)/],
    ['canary', (e: SeriesEntry) => ({ ...e, canary: { ...e.canary!, failures: 101 } }), /series entry 400 \(minute 0\): canary\.failures \(101\) must not exceed canary\.requests \(100\)/],
  ])('refuses failures above requests (RT705, %s)', (_name, patch, message) => {
    const series = release({}).map((e) => (e.minute === 0 ? patch(e) : e));
    expect(expectRtError(() => run(series), 'RT705').message).toMatch(message);
  });

  it.each([
    ['negative', -1],
    ['fractional', 1.5],
  ])('refuses a %s failures count (RT703)', (_name, failures) => {
    const series = release({}).map((e) => (e.minute === 0 ? { ...e, failures } : e));
    expect(expectRtError(() => run(series), 'RT703').message).toMatch(/series entry 400 \(minute 0\): failures must be a whole number ≥ 0/);
  });
});
