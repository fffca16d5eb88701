import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ArmScope,
  BAKE_JUDGES,
  type BakeInput,
  type QueryResult,
  type SloTimeline,
  WATCH_JUDGES,
  bakeDataFor,
  decideBake,
  decideBakeWith,
  queryId,
} from '../../lib/core';
import { AVAILABILITY_SLO } from './helpers';

/**
 * The bake decision's judges are given by its caller (`decideBakeWith`): the bake's tick and the
 * simulator's bake give `BAKE_JUDGES` (`decideBake`), the follow-up function's watches (the
 * verification, the guard window) `WATCH_JUDGES`, none — so that function does not bundle the
 * heartbeat judge and keeps under the 100 kB bundle target. Users rely on the watches deciding
 * exactly as before, and on a decision that needs a judge it was not given failing loudly rather
 * than passing without it.
 */

const slo = AVAILABILITY_SLO;
/** The watch's start (the rollback's or the release's success), minute-aligned. */
const START = 1_800_000_000 - (1_800_000_000 % 60);
const CANARY_ONLY: ArmScope[] = [{ arm: 'canary', dimensions: {} }];

interface Minute {
  readonly total: number;
  readonly bad: number;
}

/** The follow-up's read as GetMetricData answers it: the target version's own arm, from an hour before the start. */
function canaryResults(minutes: ReadonlyArray<Minute | null | undefined>): Map<string, QueryResult> {
  const numerator = new Map<number, number>();
  const total = new Map<number, number>();
  minutes.forEach((m, i) => {
    if (!m) return;
    const at = START - 3600 + 60 * i;
    total.set(at, m.total);
    if (m.bad > 0) numerator.set(at, m.bad);
  });
  return new Map([
    [queryId(0, 'canary', 'numerator'), { status: 'Complete', series: numerator }],
    [queryId(0, 'canary', 'total'), { status: 'Complete', series: total }],
  ]);
}

/** One watch tick `n` minutes after the start, as lambda/follow-up (verify.ts, guard.ts) builds it: the comparison off. */
function watchInput(minutes: ReadonlyArray<Minute | null | undefined>, n: number, o: { bakeSeconds: number; baselineFactor: number; health?: string[] }): BakeInput {
  const end = START + 60 * n;
  return {
    config: { bakeSeconds: o.bakeSeconds, inconclusiveAction: 'fail', deadlineMarginSeconds: 0, compareWithBaseline: false, baselineFactor: o.baselineFactor },
    bakedSeconds: 60 * n,
    hookAgeSeconds: 60 * n + 180,
    deadlineSeconds: o.bakeSeconds + 600,
    lifecycleEvent: 'AfterAllowTraffic',
    slos: bakeDataFor([slo], CANARY_ONLY, canaryResults(minutes), START, end),
    ...(o.health ? { healthFailures: o.health } : {}),
  };
}

const minute = fc.option(
  fc.integer({ min: 0, max: 3000 }).chain((total) => fc.oneof(fc.constant(0), fc.integer({ min: 0, max: total }), fc.integer({ min: 0, max: Math.ceil(total / 20) })).map((bad) => ({ total, bad }))),
  { freq: 8 },
);

describe('the follow-up watches need no judge', () => {
  it('on the target version alone with the comparison off, WATCH_JUDGES decides exactly as decideBake', () => {
    fc.assert(
      fc.property(
        fc.array(minute, { minLength: 61, maxLength: 100 }),
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom(300, 600, 1800),
        fc.constantFrom(0, 1.5, 2),
        fc.boolean(),
        (minutes, n, bakeSeconds, baselineFactor, failing) => {
          const input = watchInput(minutes, n, { bakeSeconds, baselineFactor, health: failing ? ['health check journey: failed'] : undefined });
          expect(decideBakeWith(input, WATCH_JUDGES)).toEqual(decideBake(input));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('still fails a restored version that burns at the page rate, and passes a healthy one', () => {
    const history = Array.from({ length: 60 }, () => ({ total: 1000, bad: 0 }));
    const burning = [...history, ...Array.from({ length: 10 }, () => ({ total: 1000, bad: 200 }))];
    const failed = decideBakeWith(watchInput(burning, 10, { bakeSeconds: 600, baselineFactor: 2 }), WATCH_JUDGES);
    expect(failed).toMatchObject({ action: 'report', status: 'Failed', verdict: 'fail' });
    expect(failed.reasons[0]).toMatch(/^Availability: the new version, serving alone, burns its error budget at 21\.6× .*nothing to compare with/);
    const healthy = [...history, ...Array.from({ length: 10 }, () => ({ total: 1000, bad: 0 }))];
    expect(decideBakeWith(watchInput(healthy, 10, { bakeSeconds: 600, baselineFactor: 2 }), WATCH_JUDGES)).toMatchObject({ action: 'report', status: 'Succeeded', verdict: 'pass' });
  });
});

describe('a decision that needs a judge it was not given throws', () => {
  const config = { bakeSeconds: 600, inconclusiveAction: 'fail' as const, deadlineMarginSeconds: 300, compareWithBaseline: true };
  /** 0.4 %: 4× the budget, under the page rate; worse than the current version's none beyond the judge's tolerance (2 × the budget). */
  const worse = { total: 10_000, bad: 40, datapoints: 10 };

  it('the canary judge, when the bake compares the versions on the same minutes', () => {
    const input: BakeInput = { config, bakedSeconds: 300, hookAgeSeconds: 400, slos: [{ slo, canary: worse, canaryShort: worse, baseline: { total: 10_000, bad: 0, datapoints: 10 } }] };
    expect(() => decideBakeWith(input, WATCH_JUDGES)).toThrow(/^internal: this bake decision needs the canary judge, which its caller did not give/);
    expect(decideBakeWith(input, BAKE_JUDGES)).toEqual(decideBake(input));
    expect(decideBake(input).reasons.join(' ')).toMatch(/worse than the current one on the same minutes/);
  });

  it("the canary judge, when the current version's last minutes are the reference for minutes served alone", () => {
    const RELEASE = START;
    const timeline: SloTimeline = {
      releaseAt: RELEASE,
      end: RELEASE + 600,
      minutes: [
        ...Array.from({ length: 60 }, (_, i) => ({ at: RELEASE - 3600 + 60 * i, baseline: { total: 1000, bad: 0 } })),
        ...Array.from({ length: 10 }, (_, i) => ({ at: RELEASE + 60 * i, canary: { total: 1000, bad: 50 } })),
      ],
    };
    const canary = { total: 10_000, bad: 500, datapoints: 10 };
    const input: BakeInput = {
      config: { ...config, compareWithBaseline: false, baselineFactor: 2 },
      bakedSeconds: 600,
      hookAgeSeconds: 660,
      slos: [{ slo, canary, canaryShort: { total: 5000, bad: 250, datapoints: 5 }, baseline: { total: 0, bad: 0, datapoints: 0 }, timeline }],
    };
    expect(() => decideBakeWith(input, WATCH_JUDGES)).toThrow(/needs the canary judge/);
    expect(decideBake(input)).toMatchObject({ action: 'report', status: 'Failed' });
  });

  it('the heartbeat judge, when there are heartbeats', () => {
    const input: BakeInput = {
      config,
      bakedSeconds: 300,
      hookAgeSeconds: 400,
      slos: [],
      heartbeats: [{ heartbeat: { name: 'worker', intervalSeconds: 60, evaluationPeriods: 3, datapointsToAlarm: 3 }, releaseAt: START, end: START + 300, beats: new Map() }],
    };
    expect(() => decideBakeWith(input, WATCH_JUDGES)).toThrow(/needs the heartbeat judge/);
    expect(decideBakeWith(input, BAKE_JUDGES)).toEqual(decideBake(input));
  });
});
