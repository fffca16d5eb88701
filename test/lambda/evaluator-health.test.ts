import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditDetailType } from '../../lib/core';
import { CREATED_AT, T0, World, expectAudit, expectReports, trace, traffic } from './fixtures';

const http = { kind: 'http' as const, name: 'checkout-url', url: 'https://canary.example.test/health', timeoutMs: 1_000, failAfter: 3 };
const synthetics = { kind: 'synthetics' as const, name: 'checkout-journey', canaryName: 'checkout-journey', minSuccessPercent: 100 };

function answering(statuses: number[]): typeof fetch {
  let call = 0;
  return vi.fn(async () => new Response(null, { status: statuses[Math.min(call++, statuses.length - 1)] })) as unknown as typeof fetch;
}

afterEach(() => vi.restoreAllMocks());

describe('health checks during the bake', () => {
  it('passes a clean bake whose HTTP probe answers 200 every tick', async () => {
    const fetch = answering([200]);
    const world = new World({ traffic: traffic.clean(), config: { healthChecks: [http] }, fetch });
    await world.bake();
    expectReports(world, { accepted: ['Succeeded'] });
    expect(vi.mocked(fetch).mock.calls[0][0]).toBe(http.url);
  });

  it('does not pass while the probe is failing at the end of the bake: waits for it to recover (or fail three times)', async () => {
    // 14 ticks in a clean bake (T0 … T0 + 780); the probe fails on the last two, then answers 200.
    const fetch = answering([...Array(12).fill(200), 503, 503, 200]);
    const world = new World({ traffic: traffic.clean(), config: { healthChecks: [http] }, fetch });
    await world.bake();
    expectReports(world, { accepted: ['Succeeded'] });
    // One tick past the bake's end: the pass waited for the probe to answer again.
    expect(world.accepted[0].at - T0).toBe(780 + 60);
    expect(vi.mocked(fetch).mock.calls).toHaveLength(15);
  });

  it('tolerates two failed probes but fails the bake on the third consecutive one', async () => {
    const fetch = answering([503, 503, 200, 503, 503, 503]);
    const world = new World({ traffic: traffic.clean(), config: { healthChecks: [http] }, fetch });
    const run = await world.bake();
    expectReports(world, { accepted: ['Failed'] });
    expect(vi.mocked(fetch)).toHaveBeenCalledTimes(6);
    // The consecutive failures travel in the state from tick to tick.
    expect(run.steps.slice(0, 6).map((s) => s.output.httpFailures)).toEqual([[1], [2], [0], [1], [2], [3]]);
    expect(trace(run).slice(-2)).toEqual(['tick→report', 'reported→done']);
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail' });
    expect(verdict.reasons[0]).toMatch(/health check checkout-url: 3 consecutive failures of GET .* \(last: HTTP 503\)/);
  });

  it('counts a probe that times out or cannot connect as a failure', async () => {
    const timingOut = vi.fn(async () => {
      throw Object.assign(new Error('aborted'), { name: 'TimeoutError' });
    }) as unknown as typeof globalThis.fetch;
    const world = new World({ traffic: traffic.clean(), config: { healthChecks: [http] }, fetch: timingOut });
    await world.bake();
    expectReports(world, { accepted: ['Failed'] });
    expect(expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT).reasons[0]).toMatch(/last: TimeoutError/);
  });

  it('reads the Synthetics canary in the same GetMetricData call as the SLOs and fails when its runs fail significantly more often than before the release', async () => {
    const world = new World({
      config: { healthChecks: [synthetics] },
      // Healthy SLO traffic; from two minutes after traffic shifted every minute has half its runs
      // fail, after an hour of clean runs before the release: the two clean runs first, then three
      // failed of five against none of 60 is Fisher's p ≈ 0.0002, under 0.001 (two of four: 0.003).
      traffic: (id, minute) => (id === 'h0' ? (minute >= T0 + 120 ? 50 : 100) : traffic.clean()(id, minute)),
    });
    await world.bake();
    expectReports(world, { accepted: ['Failed'] });
    const first = world.cw.commandCalls(GetMetricDataCommand)[0].args[0].input;
    expect(first.MetricDataQueries?.map((q) => q.Id)).toEqual(expect.arrayContaining(['s0_canary_n', 's0_canary_t', 'h0']));
    expect(first.MetricDataQueries?.find((q) => q.Id === 'h0')?.MetricStat?.Metric).toMatchObject({
      Namespace: 'CloudWatchSynthetics',
      MetricName: 'SuccessPercent',
      Dimensions: [{ Name: 'CanaryName', Value: 'checkout-journey' }],
    });
    const reason = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT).reasons[0];
    // Three failed runs in a row after a clean hour fail it on the same tick as Fisher would (3 of 5: p ≈ 0.0002).
    expect(reason).toMatch(/checkout-journey had 50 % of its runs succeed at .*, below 100 % \(3 of its 5 runs since traffic shifted below 100 %\); its last 3 runs failed in a row, and none of its 60 runs in the hour before the release did/);
  });

  it('a canary on a 5-minute schedule fails the bake after three failed runs in a row, too few for the comparison', async () => {
    const world = new World({
      config: { healthChecks: [synthetics] },
      // A run every 5 minutes (12 clean ones in the hour before the release); every run after the shift fails.
      traffic: (id, minute) => (id === 'h0' ? ((minute / 60) % 5 === 0 ? (minute >= T0 ? 0 : 100) : undefined) : traffic.clean()(id, minute)),
    });
    await world.bake();
    expectReports(world, { accepted: ['Failed'] });
    expect(expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT).reasons[0]).toMatch(/its last 3 runs failed in a row, and none of its 12 runs in the hour before the release did/);
  });

  it('one flaky run after an hour of clean runs is no regression: the bake passes', async () => {
    const world = new World({
      config: { healthChecks: [synthetics] },
      // One failed run of ~13 against none of 60 before the release: Fisher's p ≈ 0.18.
      traffic: (id, minute) => (id === 'h0' ? (minute === T0 + 120 ? 50 : 100) : traffic.clean()(id, minute)),
    });
    await world.bake();
    expectReports(world, { accepted: ['Succeeded'] });
  });

  it('a canary that failed as often before the release is not the release: the bake passes', async () => {
    const world = new World({
      config: { healthChecks: [synthetics] },
      // Every other run fails, before and after the release alike (a flaky dependency of the journey).
      traffic: (id, minute) => (id === 'h0' ? ((minute / 60) % 2 === 0 ? 50 : 100) : traffic.clean()(id, minute)),
    });
    await world.bake();
    expectReports(world, { accepted: ['Succeeded'] });
  });

  it('without ten runs in the hour before the release there is nothing to compare with: one failed run fails', async () => {
    const world = new World({
      config: { healthChecks: [synthetics] },
      // The canary was created with the release: no runs before it, one failed run after.
      traffic: (id, minute) => (id === 'h0' ? (minute < CREATED_AT ? undefined : minute === T0 + 120 ? 50 : 100) : traffic.clean()(id, minute)),
    });
    await world.bake();
    expectReports(world, { accepted: ['Failed'] });
    expect(expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT).reasons[0]).toMatch(/it ran 0 times in the hour before the release, too few to compare with/);
  });

  it('ignores Synthetics runs from before traffic shifted', async () => {
    const world = new World({
      config: { healthChecks: [synthetics] },
      traffic: (id, minute) => (id === 'h0' ? (minute < T0 ? 0 : 100) : traffic.clean()(id, minute)),
    });
    await world.bake();
    expectReports(world, { accepted: ['Succeeded'] });
  });
});

describe('health checks that cannot be read', () => {
  it('a Synthetics canary whose SuccessPercent is Forbidden is no evidence: no pass', async () => {
    const world = new World({ config: { healthChecks: [synthetics] }, traffic: (id) => (id === 'h0' ? 100 : id.endsWith('_t') ? 1_000 : 0) });
    world.statusModel = (id) => (id === 'h0' ? 'Forbidden' : undefined);
    await world.bake();
    expectReports(world, { accepted: ['Failed'] });
    expect(expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive' }).reasons.join('\n')).toMatch(
      /health check checkout-journey: GetMetricData answered Forbidden for query h0/,
    );
  });
});
