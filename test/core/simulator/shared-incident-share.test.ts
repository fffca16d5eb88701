import { describe, expect, it } from 'vitest';
import { type SimulationResult, simulate } from '../../../lib/core/simulator';
import { buildSeries, lambdaService } from './fixtures';

// A shared incident that begins with a 10 % canary (eval class canary-shared-incident: 1–3 minutes
// after the release): the rollback alarm's 5-minute window then holds one minute of the new version
// and five of the current version, four of them from before the incident. Counted as they are, the
// new version reads 5× worse than the current one and the alarm rolls the release back; weighed at
// its canary share (relativeExpectedBad), the new version fails no more often than its share of the
// current version's bad events predicts, and the alarm holds. The service (fixtures.ts) deploys with
// CodeDeployDefault.LambdaCanary10Percent10Minutes: the policy's rollback alarm carries that share.

const service = lambdaService();
const CANARY_10_FOR_10 = { kind: 'canary', percent: 10, intervalMinutes: 10, bakeMinutes: 10 } as const;

/** 1,000 requests a minute, 10 % on the new version from minute 0; both fail `rate(m)` of them. */
function sharedIncident(rate: (m: number) => number): SimulationResult {
  const series = buildSeries(-400, 60, (m) => {
    const errors = (requests: number) => Math.round(requests * rate(m));
    if (m < 0) return { stable: { requests: 1_000, errors: errors(1_000) } };
    if (m < 10) return { stable: { requests: 900, errors: errors(900) }, canary: { requests: 100, errors: errors(100) } };
    return { canary: { requests: 1_000, errors: errors(1_000) } };
  });
  return simulate({ policy: service.policy, series, releaseMinute: 0, deployment: CANARY_10_FOR_10 });
}

describe('a shared incident that begins in the first minutes of a canary', () => {
  it('records the deployment\'s canary share on the rollback alarm', () => {
    const alarm = service.policy.rollbackTriggers![0].alarms[0];
    expect(alarm.baseline).toEqual({ mode: 'rest-of-blended', factor: 2, shift: { kind: 'canary', share: 0.1 } });
  });

  // From the release minute on: at minute 1 the alarm's window holds that one minute of the new
  // version (100 events, all in the incident) against five of the current version, one of them in
  // it — 5× the current version's ratio counted as it is (a rollback before the share was weighed).
  it.each([0.12, 0.3])('does not roll back when both versions fail %d of their requests from the release, and says how the alarm weighed it', (rate) => {
    const result = sharedIncident((m) => (m >= 0 && m < 6 ? rate : m % 2 === 0 ? 0.001 : 0));
    const alarm = result.paths.find((p) => p.path === 'alarm')!;
    expect(alarm).toMatchObject({ rollback: false });
    expect(alarm.reasons.join(' ')).toMatch(/weighed at its canary share of 10 %/);
  });

  it('still rolls back the new version failing alone in its first minute', () => {
    const series = buildSeries(-400, 60, (m) => {
      if (m < 0) return { stable: { requests: 1_000, errors: m % 2 === 0 ? 1 : 0 } };
      if (m < 10) return { stable: { requests: 900, errors: m % 2 === 0 ? 1 : 0 }, canary: { requests: 100, errors: 12 } };
      return { canary: { requests: 1_000, errors: 120 } };
    });
    const result = simulate({ policy: service.policy, series, releaseMinute: 0, deployment: CANARY_10_FOR_10 });
    expect(result.outcome).toMatchObject({ path: 'alarm', rollback: true });
    expect(result.outcome.detectionMinutes).toBeLessThanOrEqual(2);
  });
});
