import { CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { describe, expect, it } from 'vitest';
import { RELATIVE_ALARM_BLENDED_FACTOR, SliPoint, WindowCounts, emulate, relativeWindowBurnRate, remainderOf } from '../../../lib/core/emulator';
import { lambdaService } from '../simulator/fixtures';
import { expectRtError } from '../helpers';
import { parseAlarmQueries, parseExpression } from './expression';
import { ROLLBACK_ALARM, rollbackAlarmPolicy, series } from './fixtures';

/**
 * Publishing lag. A Lambda rollback alarm reads two series families: the alias (`FunctionName`,
 * `Resource`) and the new version through it (`…, ExecutedVersion`), and takes the current
 * version's traffic as the alias minus the new version. Nothing documents that a minute of both
 * arrives together. When one is late, CloudWatch evaluates the window on what has arrived: the two
 * sides then cover different minutes, and an incident both versions share can read as the new
 * version's.
 */

/**
 * The rollback alarm of the synthesized Lambda service (99.9 %, 5-minute window, 70 events,
 * factor 2) as it was synthesized before the guards (test/rollback snapshot at commit 82606d1).
 */
const BEFORE =
  'IF(total >= 70, IF((FILL(basetotal, 0) - total) >= 70, IF((FILL(basetotal, 0) - total) >= total, IF((FILL(bad, 0) - (2 * (FILL(basebad, 0) - FILL(bad, 0)) / (FILL(basetotal, 0) - total) * total)) > 0, IF((FILL(bad, 0) - (2 * (FILL(basebad, 0) - FILL(bad, 0)) / (FILL(basetotal, 0) - total) * total)) * (FILL(bad, 0) - (2 * (FILL(basebad, 0) - FILL(bad, 0)) / (FILL(basetotal, 0) - total) * total)) > 9 * ((2 * (FILL(basebad, 0) - FILL(bad, 0)) / (FILL(basetotal, 0) - total) * total) + 1), FILL(bad, 0) / total, 0), 0), 0), 0), 0) / 0.001';
const THRESHOLD = 14.4;
const WINDOW = 5;

/** The synthesized Lambda rollback alarm (the availability SLO's), from the template. */
function synthesizedRollbackAlarm() {
  const { stack, trigger } = lambdaService();
  const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, { Properties: Record<string, any> }> };
  const cfn = (trigger.rollbackAlarms[0] as Alarm).node.defaultChild as CfnElement;
  const props = template.Resources[stack.resolve(cfn.logicalId) as string].Properties;
  return { props, queries: parseAlarmQueries(props.Metrics) };
}

/** One shared incident: both versions fail `rate` of their requests in minutes [from, to), `background` otherwise. */
interface Incident {
  readonly share: number;
  readonly perMinute: number;
  readonly rate: number;
  readonly background: number;
  readonly from: number;
  readonly to: number;
}

/**
 * What CloudWatch holds for the window that ends before minute `at` when one side is `lag` minutes
 * behind: each side summed over its own arrived minutes (the alias is both versions' traffic).
 */
function windowsAt(incident: Incident, at: number, late: 'alias' | 'version', lag: number): { canary: WindowCounts; alias: WindowCounts } {
  const sum = (lastMinute: number, share: number): WindowCounts => {
    let total = 0;
    let bad = 0;
    let datapoints = 0;
    for (let m = at - WINDOW; m <= lastMinute; m++) {
      const requests = share * incident.perMinute;
      total += requests;
      bad += requests * (m >= incident.from && m < incident.to ? incident.rate : incident.background);
      datapoints++;
    }
    return { datapoints, total, bad };
  };
  return {
    canary: sum(at - 1 - (late === 'version' ? lag : 0), incident.share),
    alias: sum(at - 1 - (late === 'alias' ? lag : 0), 1),
  };
}

/**
 * Every shared incident of the grid around minute 100: shares, traffic, error rates, onsets and
 * lengths, on a service with `background` errors on both versions besides.
 */
function* sharedIncidents(backgrounds: readonly number[]): Generator<Incident> {
  for (const share of [0.01, 0.1, 0.25, 0.4, 0.5]) {
    for (const perMinute of [200, 2_000, 20_000]) {
      for (const rate of [0.05, 0.3, 1]) {
        for (const background of backgrounds) {
          for (let from = 90; from <= 100; from++) {
            for (const length of [1, 2, 3, 5, 8, 20]) yield { share, perMinute, rate, background, from, to: from + length };
          }
        }
      }
    }
  }
}

/** Which side is late, by how many minutes: the alias up to 4, the new version up to 2 (of a 5-minute window). */
const LAGS: ReadonlyArray<['alias' | 'version', number]> = [
  ['alias', 1],
  ['alias', 2],
  ['alias', 3],
  ['alias', 4],
  ['version', 1],
  ['version', 2],
];

describe('a Lambda rollback alarm when the alias and the new version arrive apart', () => {
  const { props, queries } = synthesizedRollbackAlarm();
  const before = parseExpression(BEFORE);
  const valuesOf = (w: { canary: WindowCounts; alias: WindowCounts }) => ({ total: w.canary.total, bad: w.canary.bad, basetotal: w.alias.total, basebad: w.alias.bad });
  /** Every evaluation of every incident of the grid under every lag: how often each expression fires. */
  const firings = (backgrounds: readonly number[]) => {
    let beforeFires = 0;
    let nowFires = 0;
    let evaluations = 0;
    const disagreements: string[] = [];
    for (const incident of sharedIncidents(backgrounds)) {
      for (const [late, lag] of LAGS) {
        for (let at = incident.from + 1; at <= incident.to + WINDOW + lag; at++) {
          const w = windowsAt(incident, at, late, lag);
          const values = valuesOf(w);
          if ((before(values) ?? 0) >= THRESHOLD) beforeFires++;
          const now = queries.evaluate(values) ?? 0;
          if (now >= THRESHOLD) nowFires++;
          // The emulator reads the same window the same way.
          if ((relativeWindowBurnRate(alarm(), w.canary, remainderOf(w.alias, w.canary), w.alias) ?? 0) !== now) disagreements.push(JSON.stringify({ ...incident, late, lag, at }));
          evaluations++;
        }
      }
    }
    expect(disagreements.slice(0, 5), 'the emulator and the template disagree').toEqual([]);
    return { beforeFires, nowFires, evaluations };
  };

  it('is the alarm these tests model: the alias minus the new version over 5 minutes, 70 events, factor 2, ≥ 14.4', () => {
    expect(props.Threshold).toBe(THRESHOLD);
    expect(props.Metrics.filter((m: any) => m.MetricStat).map((m: any) => m.MetricStat.Period)).toEqual([300, 300, 300, 300]);
    expect(queries.returned.Expression).toContain('IF(total >= 70, IF((FILL(basetotal, 0) - total) >= 70');
    expect(queries.returned.Expression).toContain(`IF(2 * FILL(basebad, 0) >= FILL(bad, 0), IF(FILL(bad, 0) * FILL(basetotal, 0) > ${RELATIVE_ALARM_BLENDED_FACTOR} * FILL(basebad, 0) * total`);
  });

  it("today's template rolls back a healthy release on a shared incident when the alias is a minute late; the guarded one never does on a service without background errors", () => {
    const { beforeFires, nowFires, evaluations } = firings([0]);
    expect(evaluations).toBeGreaterThan(50_000);
    expect(nowFires).toBe(0);
    expect(beforeFires).toBeGreaterThan(1_000);
    // The hazard spelled out: a 10 % canary at 2,000 requests a minute, both versions failing 30 %
    // from minute 99 on, the alias a minute late at minute 100. The version's window has 60 of 1,000
    // requests failed; the alias (minutes 95–98) none: the remainder is −60 failed of 7,000, and the
    // expression before the guards read a clean current version beside a failing new one.
    const hazard = valuesOf(windowsAt({ share: 0.1, perMinute: 2_000, rate: 0.3, background: 0, from: 99, to: 200 }, 100, 'alias', 1));
    expect(hazard).toEqual({ total: 1_000, bad: 60, basetotal: 8_000, basebad: 0 });
    expect(before(hazard)).toBeGreaterThanOrEqual(THRESHOLD);
    expect(queries.evaluate(hazard)).toBe(0);
  });

  it('with background errors on both versions, an incident’s first minutes fire less than a quarter as often as before (the residual the README names)', () => {
    // 0.1 % and 1 % of requests failing on both versions before and after the incident: the alias's
    // background errors can outnumber the version's first incident errors at a 1 % share, and no
    // window sum tells a late alias from a clean current version.
    const { beforeFires, nowFires, evaluations } = firings([0.001, 0.01]);
    expect(evaluations).toBeGreaterThan(100_000);
    expect(beforeFires).toBeGreaterThan(1_000);
    expect(nowFires).toBeLessThan(beforeFires / 4);
  });

  it('still rolls back a regression of the new version alone with either side late: up to 2 × lag − 1 minutes later when the alias is late, lag when the version is', () => {
    // A 10 % canary at 2,000 a minute fails every request from minute 90 on; the current version is clean.
    const firstFiring = (late: 'alias' | 'version', lag: number) => {
      for (let at = 91; at < 120; at++) {
        const canary = (last: number) => counts(at, last, 200, (m) => (m >= 90 ? 1 : 0));
        const vLast = at - 1 - (late === 'version' ? lag : 0);
        const aLast = at - 1 - (late === 'alias' ? lag : 0);
        const old = counts(at, aLast, 1_800, () => 0);
        const aliasCanary = canary(aLast);
        const values = valuesOf({ canary: canary(vLast), alias: { datapoints: old.datapoints, total: aliasCanary.total + old.total, bad: aliasCanary.bad + old.bad } });
        if ((queries.evaluate(values) ?? 0) >= THRESHOLD) return at;
      }
      return undefined;
    };
    expect(firstFiring('alias', 0)).toBe(91);
    for (const [late, lag] of LAGS.filter(([, l]) => l <= 2)) {
      expect(firstFiring(late, lag), `${late} ${lag} min late`).toBe(91 + (late === 'alias' ? 2 * lag - 1 : lag));
    }
  });
});

describe('the emulator models series that arrive apart (seriesDelayMinutes)', () => {
  const ID = ROLLBACK_ALARM.id;
  // The window the constructs give a rollback alarm: the fastest page tier's short window, 5 minutes.
  const policy = rollbackAlarmPolicy(WINDOW * 60);
  // 1,000 requests a minute; a 10 % canary from minute 0; both versions fail 30 % from minute 20 on.
  const shared = (m: number, t: number) => (m >= 20 ? t * 0.3 : 0);
  const newVersion = series(0, 40, 100, shared);
  const oldVersion = series(-120, 40, (m) => (m < 0 ? 1_000 : 900), shared);
  const run = (mode: 'rest-of-blended' | 'separate', seriesDelayMinutes: Record<string, number>, canary: SliPoint[] = newVersion, old: SliPoint[] = oldVersion) =>
    emulate(
      { policy, sli: { [ID]: canary }, baselines: { [ID]: { factor: ROLLBACK_ALARM.factor, mode, series: old } } },
      { fromMinute: 0, toMinute: 40, seriesDelayMinutes },
    );
  const firstAlarm = (mode: 'rest-of-blended' | 'separate', delays: Record<string, number>, canary?: SliPoint[], old?: SliPoint[]) =>
    run(mode, delays, canary, old).summary.windows[0].firstAlarmMinute;

  it('a shared incident with the alias 1 to 4 minutes late, or the new version 1 to 2: the Lambda alarm holds', () => {
    for (const lag of [0, 1, 2, 3, 4]) {
      expect(firstAlarm('rest-of-blended', { [`baseline:${ID}`]: lag }), `alias ${lag} min late`).toBeNull();
      if (lag <= 2) expect(firstAlarm('rest-of-blended', { [ID]: lag }), `version ${lag} min late`).toBeNull();
    }
  });

  it('a regression of the new version alone still fires with either side late', () => {
    const broken = series(0, 40, 100, (m, t) => (m >= 20 ? t : 0));
    const clean = series(-120, 40, (m) => (m < 0 ? 1_000 : 900), () => 0);
    const onTime = firstAlarm('rest-of-blended', {}, broken, clean)!;
    expect(onTime).toBe(21);
    for (const lag of [1, 2]) {
      expect(firstAlarm('rest-of-blended', { [`baseline:${ID}`]: lag }, broken, clean), `alias ${lag} min late`).toBe(onTime + 2 * lag - 1);
      expect(firstAlarm('rest-of-blended', { [ID]: lag }, broken, clean), `version ${lag} min late`).toBe(onTime + lag);
    }
  });

  it('ECS compares two target groups of one load balancer: published together, a shared incident holds; one group a minute behind the other is the residual the README names', () => {
    // Both target groups late alike (one load balancer publishes both): the alarm holds.
    expect(firstAlarm('separate', { [ID]: 2, [`baseline:${ID}`]: 2 })).toBeNull();
    // The old version's target group a minute behind: the incident's first minute is the new
    // version's alone, and nothing in the two target groups' own metrics tells a late minute from a
    // clean one. The alarm rests on the load balancer publishing its target groups together.
    expect(firstAlarm('separate', { [`baseline:${ID}`]: 1 })).not.toBeNull();
  });

  it('refuses a delay for a series the run does not have, or one that is not a whole number ≥ 0 (RT505)', () => {
    expect(expectRtError(() => run('separate', { nope: 1 }), 'RT505').message).toMatch(/seriesDelayMinutes names "nope", which is no series of this run/);
    expect(expectRtError(() => run('separate', { [ID]: -1 }), 'RT505').message).toMatch(/\(minutes that series arrives late\) must be a whole number ≥ 0, got -1/);
    expect(expectRtError(() => run('separate', { [ID]: 1.5 }), 'RT505').message).toMatch(/got 1.5/);
  });
});

function alarm() {
  // As synthesized: lambdaService deploys with CodeDeployDefault.LambdaCanary10Percent5Minutes.
  return { minEvents: 70, errorBudget: 0.001, baseline: { factor: 2, shift: { kind: 'canary' as const, share: 0.1 } } };
}

/** A version's counts over the window ending before `at`, up to `last`: `perMinute` requests, `rate(m)` of them failing. */
function counts(at: number, last: number, perMinute: number, rate: (m: number) => number): WindowCounts {
  let total = 0;
  let bad = 0;
  let datapoints = 0;
  for (let m = at - WINDOW; m <= last; m++) {
    total += perMinute;
    bad += perMinute * rate(m);
    datapoints++;
  }
  return { datapoints, total, bad };
}
