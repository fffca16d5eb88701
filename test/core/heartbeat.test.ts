import { describe, expect, it } from 'vitest';
import {
  type BakeInput,
  type EvaluatorHeartbeat,
  type HeartbeatBakeData,
  type HeartbeatSpec,
  type QueryResult,
  buildHeartbeatQueries,
  decideBake,
  heartbeatBakeData,
  heartbeatConfigProblem,
  heartbeatGraceSeconds,
  heartbeatSilentDetectionSeconds,
  judgeHeartbeat,
} from '../../lib/core';
import { AVAILABILITY_SLO } from './helpers';

/** The release minute (epoch seconds, minute-aligned). */
const R = 1_800_000_000 - (1_800_000_000 % 60);
const MIN = 60;
/** A beat a minute, 3 consecutive missing fail: the HeartbeatTrigger's defaults. */
const SPEC: HeartbeatSpec = { name: 'worker', intervalSeconds: 60, evaluationPeriods: 3, datapointsToAlarm: 3, versionDimension: 'Version' };
const config = { bakeSeconds: 600, inconclusiveAction: 'fail' as const, deadlineMarginSeconds: 300, compareWithBaseline: false };

/** One datapoint (one beat) in every minute m with `beat(m)`, m counted from the release, from an hour before it. */
function beats(beat: (m: number) => boolean, until = 120): Map<number, number> {
  const s = new Map<number, number>();
  for (let m = -60; m < until; m++) if (beat(m)) s.set(R + m * MIN, 1);
  return s;
}
const always = beats(() => true);
const never = new Map<number, number>();

function data(newVersion: Map<number, number>, endMinute: number, overrides: Partial<HeartbeatBakeData> = {}): HeartbeatBakeData {
  return { heartbeat: SPEC, releaseAt: R, end: R + endMinute * MIN, beats: newVersion, reference: always, ...overrides };
}

/** The bake's decision on the heartbeat alone, `endMinute` minutes of data after the release. */
function bake(hb: HeartbeatBakeData, extra: Partial<BakeInput> = {}) {
  const baked = hb.end - R;
  return decideBake({ config, bakedSeconds: baked, hookAgeSeconds: baked + 180, slos: [], heartbeats: [hb], ...extra });
}

describe('judgeHeartbeat: a missing beat is a failure, after the grace', () => {
  it('the grace is interval × datapointsToAlarm, and a silent version is failed after the grace and M more intervals', () => {
    expect(heartbeatGraceSeconds(SPEC)).toBe(180);
    expect(heartbeatSilentDetectionSeconds(SPEC, 180)).toBe(180 + 180 + 180);
    expect(heartbeatGraceSeconds({ intervalSeconds: 300, datapointsToAlarm: 2 })).toBe(600);
  });

  it('during a canary (all traffic reaches the new version only at the hook) the grace counts from the hook: sparse beats at the canary share do not fail it', () => {
    // A 10-minute canary at 10 %: the worker beats per request, twice in those 10 minutes; all traffic from minute 10.
    const sparse = beats((m) => m === 3 || m === 8 || m >= 10);
    for (let end = 4; end <= 14; end++) {
      expect(judgeHeartbeat(data(sparse, end, { allTrafficAt: R + 10 * MIN })).failure, `at minute ${end}`).toBeUndefined();
    }
    // Counted from the release alone, the canary's silent minutes 5–7 would fail it at minute 8.
    expect(judgeHeartbeat(data(sparse, 8)).failure).toMatch(/stopped beating/);
    // After the hook a version that stops beating is failed on its 3rd silent minute, as before.
    const stops = beats((m) => m < 12);
    expect(judgeHeartbeat(data(stops, 14, { allTrafficAt: R + 10 * MIN })).failure).toBeUndefined();
    expect(judgeHeartbeat(data(stops, 15, { allTrafficAt: R + 10 * MIN })).failure).toMatch(/stopped beating/);
  });

  it('never passes before one interval after the grace and the shift has been judged: a worker that beat in the canary and hung at the shift is pending, then failed', () => {
    const five: HeartbeatSpec = { ...SPEC, intervalSeconds: 300 };
    // Beats at minutes 0 and 4 of a 5-minute canary, nothing once all traffic is on it (minute 5).
    const hung = beats((m) => m === 0 || m === 4);
    const at = (end: number) => judgeHeartbeat({ ...data(hung, end, { allTrafficAt: R + 5 * MIN }), heartbeat: five });
    // Grace 15 min: at minute 15 no interval starts at or after it — no evidence either way, so no pass.
    expect(at(15)).toEqual({ pending: 'heartbeat worker: no interval of 5 min after the grace and the full traffic shift has been judged yet: waiting for one' });
    expect(bake({ ...data(hung, 15, { allTrafficAt: R + 5 * MIN }), heartbeat: five })).not.toMatchObject({ status: 'Succeeded' });
    expect(at(30).failure).toMatch(/stopped beating/);
  });

  it('a version that beats every minute is neither failed nor pending', () => {
    for (let end = 4; end <= 30; end++) expect(judgeHeartbeat(data(always, end))).toEqual({});
    // Before the first whole interval after the 3-minute grace there is no evidence yet: pending, never a pass.
    for (let end = 1; end <= 3; end++) expect(judgeHeartbeat(data(always, end)).pending).toMatch(/no interval of 1 min after the grace .* judged yet/);
  });

  it('a version that never beats waits through the grace, then fails on the 3rd missing minute after it — not "no data"', () => {
    for (let end = 1; end <= 5; end++) {
      const j = judgeHeartbeat(data(never, end));
      expect(j.failure, `at minute ${end}`).toBeUndefined();
      expect(j.pending).toMatch(/^heartbeat worker: no beat from the new version since the release yet \(a missing beat counts from the end of the grace of 3 min after the release\)$/);
    }
    const j = judgeHeartbeat(data(never, 6));
    expect(j.failure).toBe(
      'heartbeat worker: the new version has not beaten once since the release — no beat from the new version in 3 of its last 3 intervals of 1 min (3 fail it), ' +
        'missing intervals counted from the end of the grace of 3 min after the release; the current version beat 60 times in the hour before the release',
    );
  });

  it('a version that stops beating fails 3 minutes after its last beat, waiting while the latest minutes miss', () => {
    const stops = beats((m) => m < 10);
    expect(judgeHeartbeat(data(stops, 10))).toEqual({});
    expect(judgeHeartbeat(data(stops, 11)).pending).toMatch(/no beat from the new version in its latest interval of 1 min \(1 missing of the 3 that fail it\): waiting for the next beat/);
    expect(judgeHeartbeat(data(stops, 12)).pending).toMatch(/\(2 missing of the 3/);
    expect(judgeHeartbeat(data(stops, 13)).failure).toMatch(/^heartbeat worker: the new version stopped beating — no beat from the new version in 3 of its last 3 intervals/);
  });

  it('respects the grace exactly: a first beat in the 4th minute never fails, a first beat in the 7th fails at minute 6', () => {
    // Minutes 0–2 are the grace (interval × M = 3 min): missing there never counts.
    const late = beats((m) => m >= 3);
    for (let end = 1; end <= 40; end++) expect(judgeHeartbeat(data(late, end)).failure, `at minute ${end}`).toBeUndefined();
    // One more silent minute (minute 3, after the grace) is 1 of 3: still no failure.
    const later = beats((m) => m >= 4);
    for (let end = 1; end <= 40; end++) expect(judgeHeartbeat(data(later, end)).failure, `at minute ${end}`).toBeUndefined();
    // Silent through minute 5: minutes 3, 4, 5 are missing after the grace — the 3 that fail it.
    const tooLate = beats((m) => m >= 6);
    expect(judgeHeartbeat(data(tooLate, 5)).failure).toBeUndefined();
    expect(judgeHeartbeat(data(tooLate, 6)).failure).toMatch(/has not beaten once since the release/);
  });

  it('counts M of N: 2 of 3 fails on two missing minutes among the last three, not on one', () => {
    const spec = { ...SPEC, datapointsToAlarm: 2 };
    // Grace 2 min. From minute 10 every third minute has no beat: one missing minute in any three → pending at most.
    const everyThird = beats((m) => m < 10 || m % 3 !== 0);
    for (let end = 1; end <= 30; end++) expect(judgeHeartbeat(data(everyThird, end, { heartbeat: spec })).failure, `at minute ${end}`).toBeUndefined();
    // Every other minute: two of some three consecutive minutes miss (11 and 13 around 12) → failed at minute 14.
    const everyOther = beats((m) => m < 10 || m % 2 === 0);
    expect(judgeHeartbeat(data(everyOther, 13, { heartbeat: spec })).failure).toBeUndefined();
    expect(judgeHeartbeat(data(everyOther, 14, { heartbeat: spec })).failure).toMatch(/in 2 of its last 3 intervals/);
    // Two minutes in a row missing (20 and 21) → failed at minute 22.
    const gap = beats((m) => m !== 20 && m !== 21);
    expect(judgeHeartbeat(data(gap, 21, { heartbeat: spec })).failure).toBeUndefined();
    expect(judgeHeartbeat(data(gap, 22, { heartbeat: spec })).failure).toMatch(/no beat from the new version in 2 of its last 3 intervals of 1 min \(2 fail it\)/);
  });

  it('judges whole intervals of the heartbeat period: a 5-minute heartbeat needs one beat per 5 minutes', () => {
    const spec: HeartbeatSpec = { name: 'batch', intervalSeconds: 300, evaluationPeriods: 2, datapointsToAlarm: 2 };
    // A beat every 5 minutes, then none after minute 20. Grace 10 min.
    const fiveMinutely = beats((m) => m % 5 === 0 && m <= 20);
    expect(judgeHeartbeat(data(fiveMinutely, 24, { heartbeat: spec, reference: fiveMinutely })).failure).toBeUndefined();
    expect(judgeHeartbeat(data(fiveMinutely, 31, { heartbeat: spec, reference: fiveMinutely })).failure).toMatch(/^heartbeat batch: the service stopped beating — no beat from the service in 2 of its last 2 intervals of 5 min/);
  });

  it('a silence the current version shared before the release is not the release: starved (inconclusive), not a failure', () => {
    const j = judgeHeartbeat(data(never, 10, { reference: never }));
    expect(j.failure).toBeUndefined();
    expect(j.starved).toMatch(
      /^heartbeat worker: no beat from the new version in 3 of its last 3 intervals .*, but the current version did not beat in the hour before the release either \(is the beat published with the Version dimension\?\): nothing says the silence is the release's$/,
    );
    // Without a current version there is nothing to compare with either.
    expect(judgeHeartbeat(data(never, 10, { reference: undefined })).starved).toMatch(/, but there is no current version to compare with: nothing says the silence is the release's$/);
  });

  it('a read that failed is no evidence: unread, never a missing beat', () => {
    const problem = { permanent: false, reason: 'GetMetricData answered InternalError for query b0_canary' };
    expect(judgeHeartbeat(data(never, 10, { problems: [problem] }))).toEqual({ unread: [{ permanent: false, reason: `heartbeat worker: ${problem.reason}` }] });
    // The reference is read only to blame the release: a beating new version does not need it.
    expect(judgeHeartbeat(data(always, 10, { referenceProblems: [problem] }))).toEqual({});
    expect(judgeHeartbeat(data(never, 10, { referenceProblems: [problem] })).unread?.[0].reason).toMatch(/the beats before the release that would blame the release could not be read/);
  });
});

describe('decideBake: heartbeats are the exception to "no data is inconclusive"', () => {
  it('an SLO without datapoints is inconclusive at the end of the bake; a heartbeat without datapoints fails it', () => {
    const noData = { slo: AVAILABILITY_SLO, canary: { total: 0, bad: 0, datapoints: 0 }, canaryShort: { total: 0, bad: 0, datapoints: 0 } };
    const sloOnly = decideBake({ config, bakedSeconds: 600, hookAgeSeconds: 800, slos: [noData] });
    expect(sloOnly).toMatchObject({ action: 'report', status: 'Failed', verdict: 'inconclusive' });
    const withHeartbeat = decideBake({ config, bakedSeconds: 600, hookAgeSeconds: 800, slos: [noData], heartbeats: [data(never, 10)] });
    expect(withHeartbeat).toMatchObject({ action: 'report', status: 'Failed', verdict: 'fail' });
    expect(withHeartbeat.reasons[0]).toMatch(/^heartbeat worker: the new version has not beaten once since the release/);
  });

  it('fails as soon as the new version is silent for M intervals after the grace, before the bake is over', () => {
    expect(bake(data(never, 5))).toMatchObject({ action: 'continue' });
    expect(bake(data(never, 6))).toMatchObject({ action: 'report', status: 'Failed', verdict: 'fail' });
  });

  it('passes a beating version at the end of the bake', () => {
    expect(bake(data(always, 10))).toMatchObject({ action: 'report', status: 'Succeeded', verdict: 'pass' });
  });

  it('holds the bake open past its end while the latest beat is missing, then decides on the next beats', () => {
    const stops = beats((m) => m < 9);
    // Bake over at minute 10 with minute 9 missing: no pass yet.
    expect(bake(data(stops, 10))).toMatchObject({ action: 'continue' });
    expect(bake(data(stops, 12))).toMatchObject({ action: 'report', verdict: 'fail' });
    const resumes = beats((m) => m !== 9);
    expect(bake(data(resumes, 11))).toMatchObject({ action: 'report', verdict: 'pass' });
  });

  it('a silence shared with the current version is inconclusive at the end of the bake (the configured action), not a failure', () => {
    const d = bake(data(never, 10, { reference: never }));
    expect(d).toMatchObject({ action: 'report', verdict: 'inconclusive', status: 'Failed' });
    expect(d.reasons[0]).toMatch(/without enough data \(inconclusive → Failed\)/);
  });

  it('an unread heartbeat waits for the next tick, and is inconclusive at the deadline', () => {
    const unread = data(never, 10, { problems: [{ permanent: false, reason: 'GetMetricData answered InternalError for query b0_canary' }] });
    expect(bake(unread)).toMatchObject({ action: 'continue' });
    const atDeadline = bake(unread, { hookAgeSeconds: 3_400 });
    expect(atDeadline).toMatchObject({ action: 'report', verdict: 'inconclusive' });
    expect(atDeadline.reasons.join(' ')).toContain('heartbeat worker: GetMetricData answered InternalError');
  });
});

describe('reading heartbeats', () => {
  const heartbeat: EvaluatorHeartbeat = { ...SPEC, namespace: 'Workers', metricName: 'Heartbeat', dimensions: { Service: 'orders' } };

  it('reads the new version and the current version by their version dimension, SampleCount per minute', () => {
    expect(buildHeartbeatQueries([heartbeat], { toVersion: '7', fromVersion: '6' })).toEqual([
      { id: 'b0_canary', metric: { namespace: 'Workers', metricName: 'Heartbeat', stat: 'SampleCount', dimensions: { Service: 'orders', Version: '7' } }, periodSeconds: 60 },
      { id: 'b0_baseline', metric: { namespace: 'Workers', metricName: 'Heartbeat', stat: 'SampleCount', dimensions: { Service: 'orders', Version: '6' } }, periodSeconds: 60 },
    ]);
  });

  it('reads a heartbeat without a version dimension once, as declared', () => {
    const { versionDimension: _v, ...blended } = heartbeat;
    expect(buildHeartbeatQueries([blended, heartbeat], { toVersion: '7' })).toEqual([
      { id: 'b0', metric: { namespace: 'Workers', metricName: 'Heartbeat', stat: 'SampleCount', dimensions: { Service: 'orders' } }, periodSeconds: 60 },
      { id: 'b1_canary', metric: { namespace: 'Workers', metricName: 'Heartbeat', stat: 'SampleCount', dimensions: { Service: 'orders', Version: '7' } }, periodSeconds: 60 },
    ]);
  });

  it('a Complete result without datapoints is beats that did not happen; any other status is a problem', () => {
    const results = new Map<string, QueryResult>([
      ['b0_canary', { status: 'Complete', series: new Map() }],
      ['b0_baseline', { status: 'Complete', series: always }],
    ]);
    const [read] = heartbeatBakeData([SPEC], results, { releaseAt: R, end: R + 600, versions: { toVersion: '7', fromVersion: '6' } });
    expect(read.problems).toBeUndefined();
    expect(judgeHeartbeat(read).failure).toMatch(/has not beaten once/);
    const forbidden = new Map(results).set('b0_canary', { status: 'Forbidden', series: new Map() });
    const [refused] = heartbeatBakeData([SPEC], forbidden, { releaseAt: R, end: R + 600, versions: { toVersion: '7', fromVersion: '6' } });
    expect(refused.problems).toEqual([expect.objectContaining({ permanent: true })]);
    const [failedCall] = heartbeatBakeData([SPEC], results, { releaseAt: R, end: R + 600, versions: {} }, { permanent: false, reason: 'GetMetricData failed (timeout)' });
    expect(failedCall.problems).toEqual([{ permanent: false, reason: 'not read (the GetMetricData call failed)' }]);
  });

  it('refuses a malformed configuration instead of reading it as silence', () => {
    expect(heartbeatConfigProblem(undefined)).toBeUndefined();
    expect(heartbeatConfigProblem([heartbeat])).toBeUndefined();
    expect(heartbeatConfigProblem({})).toBe('heartbeats is not an array');
    expect(heartbeatConfigProblem([{ ...heartbeat, intervalSeconds: 90 }])).toMatch(/intervalSeconds 90, expected whole minutes/);
    expect(heartbeatConfigProblem([{ ...heartbeat, datapointsToAlarm: 4 }])).toMatch(/4 of 3 intervals/);
    expect(heartbeatConfigProblem([{ ...heartbeat, versionDimension: '' }])).toMatch(/empty versionDimension/);
  });
});
