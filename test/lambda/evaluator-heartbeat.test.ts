import { GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { AuditDetailType, type EvaluatorHeartbeat } from '../../lib/core';
import { CREATED_AT, T0, type TrafficModel, World, expectAudit, expectReports, traffic } from './fixtures';

// The bake's step Lambda with a HeartbeatTrigger in its trigger's alarmTriggers: the workers of
// each version publish Heartbeat { Service, Version }. The deployment (version 1 → 2) started at
// CREATED_AT, ten minutes before the AfterAllowTraffic hook (T0); the evaluator ticks every minute
// with a 3-minute metric delay. Availability traffic is clean throughout: only the heartbeat decides.

const WORKER: EvaluatorHeartbeat = {
  name: 'worker',
  intervalSeconds: 60,
  evaluationPeriods: 3,
  datapointsToAlarm: 3,
  versionDimension: 'Version',
  namespace: 'Workers',
  metricName: 'Heartbeat',
  dimensions: { Service: 'orders' },
};

/** Clean requests; the current version (1) beats every minute; the new version (2) beats in the minutes `newBeats` says (minutes since the release). */
function beating(newBeats: (minuteSinceRelease: number) => boolean, currentBeats: (minute: number) => boolean = () => true): TrafficModel {
  return (id, t) => {
    if (id === 'b0_canary') return newBeats((t - CREATED_AT) / 60) ? 1 : undefined;
    if (id === 'b0_baseline') return currentBeats((t - CREATED_AT) / 60) ? 1 : undefined;
    return traffic.clean()(id, t);
  };
}

function world(model: TrafficModel) {
  return new World({ config: { heartbeats: [WORKER] }, traffic: model });
}

describe('heartbeats during the bake', () => {
  it('passes a new version that beats every minute, reading each version by its own Version dimension in the tick\'s one call', async () => {
    const w = world(beating(() => true));
    await w.bake();
    expectReports(w, { accepted: ['Succeeded'] });
    const queries = w.cw.commandCalls(GetMetricDataCommand)[0].args[0].input.MetricDataQueries!;
    expect(queries.map((q) => q.Id)).toEqual(expect.arrayContaining(['s0_canary_n', 's0_canary_t', 'b0_canary', 'b0_baseline']));
    expect(queries.find((q) => q.Id === 'b0_canary')?.MetricStat).toMatchObject({
      Metric: { Namespace: 'Workers', MetricName: 'Heartbeat', Dimensions: expect.arrayContaining([{ Name: 'Service', Value: 'orders' }, { Name: 'Version', Value: '2' }]) },
      Stat: 'SampleCount',
      Period: 60,
    });
    expect(queries.find((q) => q.Id === 'b0_baseline')?.MetricStat?.Metric?.Dimensions).toEqual(expect.arrayContaining([{ Name: 'Version', Value: '1' }]));
  });

  it('rolls back a new version that never beats — a failure, not "no data" — on the first tick that sees the grace and 3 silent minutes', async () => {
    const w = world(beating(() => false));
    await w.bake();
    expectReports(w, { accepted: ['Failed'] });
    // The hook (T0) starts 10 minutes after the release, when all traffic is on the new version: a
    // silent interval counts only from then (a canary's share beats less), so minutes 10, 11 and 12,
    // trusted complete at minute 13 + the 3-minute delay = T0 + 6 min.
    expect(w.accepted[0].at).toBe(T0 + 360);
    const verdict = expectAudit(w, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail' });
    expect(verdict.reasons[0]).toBe(
      'heartbeat worker: the new version has not beaten once since the release — no beat from the new version in 3 of its last 3 intervals of 1 min (3 fail it), ' +
        'missing intervals counted from the full traffic shift (AfterAllowTraffic) 10 min after the release, later than the grace of 3 min; the current version beat 60 times in the hour before the release',
    );
  });

  it('rolls back a new version whose workers hang in the middle of the bake, three minutes (plus the metric delay) after the last beat', async () => {
    // Beats until 12 minutes after the release (T0 + 2 min), then nothing.
    const w = world(beating((m) => m < 12));
    await w.bake();
    expectReports(w, { accepted: ['Failed'] });
    // Minutes 12, 13 and 14 silent: trusted complete at minute 15 + the 3-minute delay = T0 + 8 min.
    expect(w.accepted[0].at).toBe(T0 + 480);
    expect(expectAudit(w, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail' }).reasons[0]).toMatch(/^heartbeat worker: the new version stopped beating/);
  });

  it('respects the grace: a first beat 3 minutes after the release passes; one silent minute after the grace is tolerated; three are not', async () => {
    for (const firstBeat of [3, 4]) {
      const w = world(beating((m) => m >= firstBeat));
      await w.bake();
      expectReports(w, { accepted: ['Succeeded'] });
    }
    // Silent through the canary and minutes 10–12 after the hook: three missing intervals once all traffic is on it.
    const late = world(beating((m) => m >= 13));
    await late.bake();
    expectReports(late, { accepted: ['Failed'] });
    expect(expectAudit(late, AuditDetailType.DEPLOYMENT_VERDICT).reasons[0]).toMatch(/^heartbeat worker: the new version has not beaten once since the release/);
  });

  it('does not blame the release for a silence the current version shared: inconclusive (the configured action), not a failure', async () => {
    // A beat published without the Version dimension (or workers already silent): neither version has beats under it.
    const w = world(beating(() => false, () => false));
    await w.bake();
    expectReports(w, { accepted: ['Failed'] });
    const verdict = expectAudit(w, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive' });
    expect(verdict.reasons.join('\n')).toMatch(/the current version did not beat in the hour before the release either \(is the beat published with the Version dimension\?\)/);
  });

  it('a heartbeat CloudWatch will not let the evaluator read is no evidence of silence: inconclusive, not a rollback on evidence', async () => {
    const w = world(beating(() => false));
    w.statusModel = (id) => (id === 'b0_canary' ? 'Forbidden' : undefined);
    await w.bake();
    const verdict = expectAudit(w, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive' });
    expect(verdict.reasons.join('\n')).toMatch(/heartbeat worker: GetMetricData answered Forbidden for query b0_canary/);
  });
});
