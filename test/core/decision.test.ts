import { describe, expect, it } from 'vitest';
import {
  BakeInput,
  Counts,
  EvaluatorSlo,
  compareWithBaseline,
  decideBake,
  decideBeforeTraffic,
  isDeploymentFinished,
  isRollbackDeployment,
} from '../../lib/core';

const slo: EvaluatorSlo = {
  name: 'Availability',
  errorBudget: 0.001,
  failBurnRate: 14.4,
  shortWindowSeconds: 300,
  minEvents: 70,
  numeratorKind: 'bad',
  numerator: { namespace: 'AWS/Lambda', metricName: 'Errors', dimensionSet: 0, stat: 'Sum' },
  total: { namespace: 'AWS/Lambda', metricName: 'Invocations', dimensionSet: 0, stat: 'Sum' },
};
const counts = (total: number, bad: number, datapoints = 10): Counts => ({ total, bad, datapoints });
const config = { bakeSeconds: 600, inconclusiveAction: 'fail' as const, deadlineMarginSeconds: 300, compareWithBaseline: true };

function bake(overrides: Partial<BakeInput> & { canary?: Counts; short?: Counts; baseline?: Counts } = {}) {
  const { canary = counts(10_000, 0), short = counts(5_000, 0), baseline, ...rest } = overrides;
  return decideBake({ config, bakedSeconds: 300, hookAgeSeconds: 400, slos: [{ slo, canary, canaryShort: short, baseline }], ...rest });
}

describe('BeforeAllowTraffic', () => {
  it('passes a real change whose rollback target is intact', () => {
    const d = decideBeforeTraffic({ currentVersion: '3', targetVersion: '4', knownGood: { version: '3', integrity: 'sha-a' }, currentExists: true, currentIntegrity: 'sha-a' });
    expect(d).toMatchObject({ status: 'Succeeded', verdict: 'pass' });
    expect(d.reasons.join(' ')).toContain('known-good version 3 is intact');
  });

  it.each([
    ['the same version again', { currentVersion: '3', targetVersion: '3', currentExists: true }, /already serving traffic/],
    ['a deleted rollback target', { currentVersion: '3', targetVersion: '4', currentExists: false }, /no longer exists/],
    ['an altered known-good version', { currentVersion: '3', targetVersion: '4', knownGood: { version: '3', integrity: 'sha-a' }, currentExists: true, currentIntegrity: 'sha-b' }, /altered/],
    ['no target version', { currentVersion: '3', currentExists: true }, /no target version/],
  ])('fails %s', (_, input, reason) => {
    const d = decideBeforeTraffic(input);
    expect(d.status).toBe('Failed');
    expect(d.reasons.join(' ')).toMatch(reason);
  });

  it('passes the first deployment, before anything is recorded', () => {
    expect(decideBeforeTraffic({ currentVersion: '1', targetVersion: '2', currentExists: true }).status).toBe('Succeeded');
  });
});

describe('bake', () => {
  it('keeps watching while the bake runs and the version is healthy', () => {
    expect(bake().action).toBe('continue');
  });

  it('fails at once when the new version burns at the page rate over the bake and the short window', () => {
    const d = bake({ canary: counts(1_000, 300), short: counts(500, 150) });
    expect(d).toMatchObject({ action: 'report', status: 'Failed', verdict: 'fail' });
    expect(d.reasons[0]).toMatch(/burns its error budget at 300× .* threshold is 14\.4×/);
    expect(d.observations[0]).toMatchObject({ arm: 'canary', totalEvents: 1_000, badEvents: 300, burnRate: 300 });
  });

  it('does not fail on a burst the short window no longer shows', () => {
    expect(bake({ canary: counts(1_000, 30), short: counts(500, 0) }).action).toBe('continue');
  });

  it('does not fail on one error among few events', () => {
    const d = bake({ canary: counts(20, 1), short: counts(10, 1), bakedSeconds: 600 });
    expect(d).toMatchObject({ status: 'Failed', verdict: 'inconclusive' });
    expect(d.reasons.join(' ')).toMatch(/only 20 of the 70 events/);
  });

  it('passes a clean bake once it is over', () => {
    expect(bake({ bakedSeconds: 600 })).toMatchObject({ action: 'report', status: 'Succeeded', verdict: 'pass' });
  });

  it('is inconclusive without datapoints: fail closed by default, pass when configured', () => {
    expect(bake({ canary: counts(0, 0, 0), short: counts(0, 0, 0), bakedSeconds: 600 })).toMatchObject({ status: 'Failed', verdict: 'inconclusive' });
    expect(
      bake({ canary: counts(0, 0, 0), short: counts(0, 0, 0), bakedSeconds: 600, config: { ...config, inconclusiveAction: 'pass' } }),
    ).toMatchObject({ status: 'Succeeded', verdict: 'inconclusive' });
  });

  it('decides before CodeDeploy\'s hour runs out', () => {
    expect(bake({ bakedSeconds: 120, hookAgeSeconds: 3_300 })).toMatchObject({ action: 'report', status: 'Succeeded' });
    expect(bake({ bakedSeconds: 120, hookAgeSeconds: 3_299 }).action).toBe('continue');
  });

  it('fails a version clearly worse than the current one on the same minutes, below the page rate', () => {
    // 1 % errors is a 10× burn (below 14.4×) but ten times the current version's 0.1 %.
    const d = bake({ canary: counts(20_000, 200), short: counts(5_000, 50), baseline: counts(200_000, 200) });
    expect(d).toMatchObject({ status: 'Failed', verdict: 'fail' });
    expect(d.reasons[0]).toMatch(/worse than the current one/);
  });

  it('does not fail a statistically significant but tiny difference', () => {
    expect(bake({ canary: counts(1_000_000, 1_050), short: counts(100_000, 105), baseline: counts(1_000_000, 1_000) }).action).toBe('continue');
  });

  it('skips the comparison when configured off', () => {
    expect(bake({ canary: counts(20_000, 200), short: counts(5_000, 50), baseline: counts(200_000, 200), config: { ...config, compareWithBaseline: false } }).action).toBe('continue');
  });
});

describe('compareWithBaseline', () => {
  it('has no verdict with too few events on either side', () => {
    expect(compareWithBaseline(slo, counts(40, 3), counts(400, 2))).toBeUndefined();
  });
});

describe('deployment states', () => {
  it('recognises rollback deployments and finished deployments', () => {
    expect(isRollbackDeployment('codeDeployRollback')).toBe(true);
    expect(isRollbackDeployment('CloudFormationRollback')).toBe(true);
    expect(isRollbackDeployment('user')).toBe(false);
    expect(['Succeeded', 'Failed', 'Stopped', 'InProgress'].map(isDeploymentFinished)).toEqual([true, true, true, false]);
  });
});
