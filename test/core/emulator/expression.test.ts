import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FargateServiceStack } from '../../../examples/fargate-service';
import { lambdaService } from '../simulator/fixtures';
import { DOCUMENTED, Evaluate, READINGS, Reading, Values, parseAlarmQueries, parseExpression, readingName } from './expression';
import { Sli } from '../../../lib/slo/sli';
import { countMetric } from '../../helpers';
import { synthesizedSlo } from './fixtures';

/**
 * The test interpreter (`./expression.ts`) follows the CloudWatch metric-math page, and the
 * expressions the constructs synthesize give the same alarm datapoint under every reading of that
 * page where it is silent (and under two readings contrary to it), but for one case:
 *
 * - a burn-rate or rollback alarm whose `total` has no datapoint: no datapoint under the page's
 *   rules, 0 under `missingBesideScalar: 'zero'` — the same decision (notBreaching, threshold > 0).
 *
 * The bake-failures alarm summed `failed + timedOut + aborted`: under the contrary reading
 * `missingBesideSeries: 'drop'` a failure in a minute where the other two metrics published nothing
 * gave no datapoint (OK) where the page's rule gives the count (ALARM at ≥ 1). Each term is now
 * filled (`FILL(x, 0)`), and the tests below show the decision no longer depends on the reading.
 */

const evaluateRows = (text: string, rows: Values[], reading: Reading = DOCUMENTED) => {
  const evaluate = parseExpression(text);
  return rows.map((row) => evaluate(row, reading));
};
const without = (reading: Partial<Reading>): Reading => ({ ...DOCUMENTED, ...reading });
/** `-` on the page: no value for that timestamp. */
const _ = undefined;

describe('the interpreter follows the metric-math page', () => {
  // Comparison and logical operators: metric1 [30, 20, 0, 0], metric2 [20, -, 20, -].
  const comparisonRows: Values[] = [30, 20, 0, 0].map((metric1, i) => ({ metric1, metric2: [20, _, 20, _][i] }));
  // Using IF expressions: metric1 [1, 1, 0, 0, -], metric2 [30, -, 0, 0, 30], metric3 [0, 0, 20, -, 20].
  const ifRows: Values[] = [1, 1, 0, 0, _].map((metric1, i) => ({ metric1, metric2: [30, _, 0, 0, 30][i], metric3: [0, 0, 20, _, 20][i] }));

  it('comparison and logical operators: the page’s table', () => {
    expect(evaluateRows('(metric1 < metric2)', comparisonRows)).toEqual([0, 0, 1, 0]);
    expect(evaluateRows('(metric1 >= 30)', comparisonRows)).toEqual([1, 0, 0, 0]);
    expect(evaluateRows('(metric1 > 15 AND metric2 > 15)', comparisonRows)).toEqual([1, 0, 0, 0]);
  });

  it('IF: the page’s three tables', () => {
    expect(evaluateRows('IF(metric1, metric2, metric3)', ifRows)).toEqual([30, 0, 20, _, _]);
    expect(evaluateRows('IF(metric1, 5, metric3)', ifRows)).toEqual([5, 5, 20, _, _]);
    expect(evaluateRows('IF(metric1, metric2, 5)', ifRows)).toEqual([30, 0, 5, 5, _]);
    // "is dropped, if … metric1 is FALSE and … metric3 is omitted from the expression"
    expect(evaluateRows('IF(metric1, metric2)', ifRows)).toEqual([30, 0, _, _, _]);
    // A negative condition is TRUE; IF(scalar1, …) picks a whole argument.
    expect(parseExpression('IF(m - 5, 1, 2)')({ m: 3 })).toBe(1);
    expect(evaluateRows('IF(0, metric2, metric3)', ifRows)).toEqual([0, 0, 20, _, 20]);
  });

  it('arithmetic: a missing value beside a series is 0, a division by zero is dropped, FILL fills', () => {
    expect(parseExpression('a + b')({ a: 3, b: _ })).toBe(3);
    expect(parseExpression('a - b')({ a: _, b: 3 })).toBe(-3);
    expect(parseExpression('a + b')({ a: _, b: _ })).toBe(_);
    expect(parseExpression('a / b')({ a: 3, b: 0 })).toBe(_);
    expect(parseExpression('a / b')({ a: 0, b: 0 })).toBe(_);
    expect(parseExpression('a / 2')({ a: _ })).toBe(_);
    expect(parseExpression('FILL(a, 7) + 1')({ a: _ })).toBe(8);
    expect(parseExpression('FILL(a, 7)')({ a: 2 })).toBe(2);
    // The untaken branch's dropped datapoint is discarded; a TRUE condition over a dropped
    // datapoint gives 0, as over any missing one.
    expect(parseExpression('IF(b > 0, a / b, 5)')({ a: 3, b: 0 })).toBe(5);
    expect(parseExpression('IF(b >= 0, a / b, 5)')({ a: 3, b: 0 })).toBe(0);
    // A datapoint is a number; "no datapoint" is none, never NaN.
    expect(() => parseExpression('a')({ a: Number.NaN })).toThrow(/finite/);
    expect(() => parseExpression('a + c')({ a: 1 })).toThrow(/no value given for metric id c/);
  });

  it('FLOOR and CEIL: datapoint by datapoint, none where there is none', () => {
    expect(evaluateRows('FLOOR(a + 0.5)', [{ a: 2.4 }, { a: 2.5 }, { a: 3.0000000000000004 }, { a: 29.999999999999996 }, { a: _ }])).toEqual([2, 3, 3, 30, _]);
    expect(evaluateRows('CEIL(a)', [{ a: 2.1 }, { a: -2.1 }, { a: _ }])).toEqual([3, -2, _]);
    expect(parseExpression('FLOOR(a) + FLOOR(2.7)')({ a: 1.5 })).toBe(3);
    expect(() => parseExpression('FLOOR(a, b)')({ a: 1, b: 2 })).toThrow(/one time series/);
  });

  it('each reading the page contradicts does contradict one of its sentences or examples (so the options are wired)', () => {
    expect(evaluateRows('(metric1 < metric2)', comparisonRows, without({ missingBesideSeries: 'drop' }))).toEqual([0, _, 1, _]);
    expect(parseExpression('a / b')({ a: 3, b: 0 }, without({ divisionByZero: 'ieee' }))).toBe(Number.POSITIVE_INFINITY);
    expect(parseExpression('a / b')({ a: 0, b: 0 }, without({ divisionByZero: 'ieee' }))).toBeNaN();
    // And the silent points: a series without a datapoint against a scalar; IF(TS op S, …) with
    // TRUE and no true value.
    expect(parseExpression('a >= 70')({ a: _ }, without({ missingBesideScalar: 'zero' }))).toBe(0);
    expect(parseExpression('a >= 70')({ a: _ })).toBe(_);
    expect(parseExpression('IF(c > 0, a, 1)')({ c: 1, a: _ })).toBe(0);
    expect(parseExpression('IF(c > 0, a, 1)')({ c: 1, a: _ }, without({ missingTrueValue: 'drop' }))).toBe(_);
  });

  it('a whole alarm: expression queries are computed at the same timestamp, under the same reading', () => {
    const alarm = parseAlarmQueries([
      { Id: 'e', Expression: 'IF(total >= 2, bad / total, 0)', ReturnData: true },
      { Id: 'total', ReturnData: false },
      { Id: 'bad', Expression: 'FILL(x, 0) + y', ReturnData: false },
      { Id: 'x', ReturnData: false },
      { Id: 'y', ReturnData: false },
    ]);
    expect(alarm.metricIds).toEqual(['total', 'x', 'y']);
    expect(alarm.expressionIds).toEqual(['e', 'bad']);
    expect(alarm.evaluate({ total: 4, x: 1, y: 1 })).toBe(0.5);
    expect(alarm.evaluate({ total: 4, x: _, y: 2 })).toBe(0.5);
    // y without a datapoint beside FILL(x, 0): 0 under the page's rule; under the contrary reading
    // `bad` has none, and so has `bad / total`, the TRUE branch: 0 ("has the value of 0"), or none.
    expect(alarm.evaluate({ total: 4, x: 2, y: _ })).toBe(0.5);
    expect(alarm.evaluate({ total: 4, x: 2, y: _ }, without({ missingBesideSeries: 'drop' }))).toBe(0);
    expect(alarm.evaluate({ total: 4, x: 2, y: _ }, without({ missingBesideSeries: 'drop', missingTrueValue: 'drop' }))).toBe(_);
    // A value given for an expression query is taken as is.
    expect(alarm.evaluate({ total: 4, bad: 3 })).toBe(0.75);
    expect(() => alarm.evaluate({ total: 4, x: 1 })).toThrow(/no value given for metric id y/);
    expect(() => parseAlarmQueries([{ Id: 'a', Expression: 'b', ReturnData: true }, { Id: 'b', Expression: 'a', ReturnData: false }]).evaluate({})).toThrow(/refer to each other/);
    expect(() => parseAlarmQueries([{ Id: 'a', ReturnData: true }])).toThrow(/exactly one expression/);
  });

  it('READINGS holds every combination of the options once, the documented one first', () => {
    expect(READINGS).toHaveLength(16);
    expect(READINGS[0]).toEqual({ name: 'documented', reading: DOCUMENTED });
    expect(new Set(READINGS.map((r) => JSON.stringify(r.reading))).size).toBe(16);
    expect(readingName(without({ divisionByZero: 'ieee', missingBesideScalar: 'zero' }))).toBe('missingBesideScalar=zero, divisionByZero=ieee');
  });
});

// ---------------------------------------------------------------------------------------------

type Resource = { Type: string; Properties: Record<string, any> };

interface SynthesizedAlarm {
  readonly where: string;
  /** The returned expression. */
  readonly text: string;
  /** The whole alarm: the values of the ids `text` names, or of its metric queries (`metricIds`). */
  readonly evaluate: Evaluate;
  readonly metricIds: readonly string[];
  readonly threshold: number;
}

/** Every metric alarm's returned expression in the stacks, with the alarm it belongs to. */
function mathAlarms(stacks: Stack[]): SynthesizedAlarm[] {
  return stacks.flatMap((stack) =>
    Object.entries((Template.fromStack(stack).toJSON() as { Resources: Record<string, Resource> }).Resources)
      .filter(([, r]) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.Metrics)
      .map(([logicalId, r]) => {
        const where = `${stack.stackName}/${logicalId}`;
        const queries = parseAlarmQueries(r.Properties.Metrics);
        // Every one of them breaches at or above a positive threshold, 1 of 1 (DatapointsToAlarm
        // defaults to EvaluationPeriods), and treats missing data as not breaching: no datapoint
        // and a datapoint of 0 are then the same decision.
        expect(r.Properties, where).toMatchObject({ ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1, TreatMissingData: 'notBreaching' });
        expect(r.Properties.DatapointsToAlarm ?? 1, where).toBe(1);
        expect(r.Properties.Threshold, where).toBeGreaterThan(0);
        return { where, text: queries.returned.Expression, evaluate: queries.evaluate, metricIds: queries.metricIds, threshold: r.Properties.Threshold as number };
      }),
  );
}

const breaches = (value: number | undefined, threshold: number) => value !== undefined && value >= threshold;

/** The expression's datapoint under every reading: each must be `expected(reading)`, and each the same alarm decision. */
function expectUnderEveryReading(alarm: SynthesizedAlarm, values: Values, expected: (reading: Reading) => number | undefined, sameDecision = true) {
  const decisions = new Set<boolean>();
  for (const { name, reading } of READINGS) {
    const value = alarm.evaluate(values, reading);
    expect(value, `${alarm.where} under ${name} on ${JSON.stringify(values)}: ${alarm.text}`).toBe(expected(reading));
    decisions.add(breaches(value, alarm.threshold));
  }
  if (sameDecision) expect(decisions.size, `${alarm.where} on ${JSON.stringify(values)}: one alarm decision under every reading`).toBe(1);
}

/**
 * The one departure of the burn-rate expressions: with no datapoint of `total`, `IF(total >= N, …, 0)`
 * has none under the documented reading, and 0 where a series without a datapoint against a scalar
 * is taken as 0 (the page is silent there). Notbreaching either way.
 */
const noTotal = (reading: Reading) => (reading.missingBesideScalar === 'zero' ? 0 : undefined);

describe('the library’s synthesized expressions under every reading', () => {
  const lambda = lambdaService({ latency: true });
  const fargate = new FargateServiceStack(new App(), 'Fargate', { env: { region: 'eu-west-1' } });
  const slo = synthesizedSlo();
  // The good/total form: no rollback alarm renders it any more (latency SLIs count bad requests).
  const successRatio = synthesizedSlo({ sli: Sli.successRatio({ goodEvents: countMetric('Ok'), totalEvents: countMetric('All') }) });
  const alarms = mathAlarms([lambda.stack, fargate, slo.stack, successRatio.stack]);

  const relative = alarms.filter((a) => a.text.includes('basetotal'));
  const burnRate = alarms.filter((a) => !a.text.includes('basetotal') && /^IF\(total >= \d+, (FILL\(bad, 0\)|\(total - FILL\(good, 0\)\)) \/ total, 0\) \/ [0-9.e-]+$/.test(a.text));
  // The executions alarms of the state machines: each example's bake, and the Fargate example's rollback verification.
  const bakeFailures = alarms.filter((a) => a.text === 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)');

  /** The numbers of a burn-rate or relative expression. */
  const shape = (a: SynthesizedAlarm) => ({
    minEvents: Number(/^IF\(total >= (\d+),/.exec(a.text)![1]),
    budget: Number(/ \/ ([0-9.e-]+)$/.exec(a.text)![1]),
    goodForm: a.text.includes('good'),
    blended: a.text.includes('(FILL(basetotal, 0) - total)'),
    // How `bad` is counted: one metric, a target group's derived count, or a latency SLI's from the percentile rank.
    count: a.metricIds.includes('pr') ? 'latency' : a.metricIds.includes('t5xx') ? 'target-group' : 'metric',
  });
  type Counts = { readonly total?: number; readonly bad?: number };
  /**
   * The datapoints an alarm reads, from published counts (`undefined`: no datapoint); the good
   * form publishes `total − bad` (a missing `bad` there meaning none bad).
   */
  const valuesOf = (a: SynthesizedAlarm, canary: Counts, base?: Counts): Values => {
    const { goodForm } = shape(a);
    const good = (c: Counts) => (c.total === undefined ? undefined : c.total - (c.bad ?? 0));
    return {
      total: canary.total,
      ...(goodForm ? { good: good(canary) } : { bad: canary.bad }),
      ...(base ? { basetotal: base.total, ...(goodForm ? { basegood: good(base) } : { basebad: base.bad }) } : {}),
    };
  };

  it('covers every math alarm the constructs render: the rollback alarms, the burn-rate windows, the bake failures', () => {
    // Lambda: rest-of-blended (the alias minus the new version); ECS: separate (the other target
    // group, blue and green); error-ratio SLIs (one metric, or a target group's derived count) and
    // latency SLIs (derived from the percentile rank), all counting bad events.
    expect(new Set(relative.map((a) => `${shape(a).blended ? 'blended' : 'separate'}/${shape(a).goodForm ? 'good' : 'bad'}/${shape(a).count}`))).toEqual(
      new Set(['blended/bad/metric', 'blended/bad/latency', 'separate/bad/target-group', 'separate/bad/latency']),
    );
    expect(burnRate.length).toBeGreaterThanOrEqual(8);
    expect(new Set(burnRate.map((a) => shape(a).goodForm))).toEqual(new Set([true, false]));
    expect(new Set(burnRate.map((a) => shape(a).count))).toEqual(new Set(['metric', 'target-group', 'latency']));
    expect(bakeFailures).toHaveLength(3);
    expect(bakeFailures.map((a) => a.where).filter((w) => w.includes('FollowUpFailuresAlarm'))).toHaveLength(1);
    const covered = new Set([...relative, ...burnRate, ...bakeFailures]);
    expect(alarms.filter((a) => !covered.has(a)).map((a) => `${a.where}: ${a.text}`)).toEqual([]);
  });

  it('every alarm but the bake failures, from any datapoints of its metrics, gives the documented datapoint under every reading (but the no-total departure)', () => {
    // Derived counts (an expression query `bad` over per-class counts) included: the whole alarm
    // is evaluated from its metric queries.
    for (const a of [...relative, ...burnRate]) {
      const n = shape(a).minEvents;
      const datapoint = fc.oneof(fc.constant(undefined), fc.constant(0), fc.integer({ min: 0, max: 5_000 }), fc.integer({ min: n - 2, max: 3 * n }));
      fc.assert(
        fc.property(fc.record(Object.fromEntries(a.metricIds.map((id) => [id, datapoint]))), fc.boolean(), (drawn, equalTotals) => {
          // Ties: the baseline's total equal to the new version's (blended: the alias all new version).
          const values: Values = equalTotals && 'basetotal' in drawn ? { ...drawn, basetotal: drawn.total } : drawn;
          const documented = a.evaluate(values, DOCUMENTED);
          expectUnderEveryReading(a, values, (reading) => (values.total === undefined ? noTotal(reading) : documented));
        }),
        { numRuns: 200 },
      );
    }
  });

  describe('the rollback alarms’ relative expression', () => {
    /**
     * Scenarios for one relative alarm: the new version's and the baseline's published counts (the
     * baseline as the alarm reads it: the alias, new version included, when blended), and the
     * datapoint every reading must give.
     */
    const scenarios = (a: SynthesizedAlarm) => {
      const { minEvents: n, budget, blended } = shape(a);
      const burn = (c: Required<Counts>) => c.bad / c.total / budget;
      const canary = { total: 10 * n, bad: n };
      const healthyBase = (c: Counts) => (blended ? { total: (c.total ?? 0) + 20 * n, bad: c.bad } : { total: 20 * n, bad: 0 });
      return [
        // Division by zero (2 × baseBad ÷ baseTotal) in the branch IF(baseTotal >= N, …) leaves.
        { name: 'baseline total 0 (0 ÷ 0 where the baseline is divided)', canary, base: blended ? canary : { total: 0, bad: 0 }, expected: () => 0 },
        { name: 'baseline total 0 with bad baseline events (x ÷ 0: ±Infinity under ieee)', canary, base: blended ? { total: canary.total, bad: canary.bad + 5 } : { total: 0, bad: 5 }, expected: () => 0 },
        { name: 'no baseline datapoint at all (FILL: 0 events)', canary, base: {}, expected: () => 0 },
        ...(blended
          ? []
          : [{ name: 'baseline total equal to the new version’s, no baseline errors (≥ holds: the alarm burns)', canary, base: { total: canary.total, bad: 0 }, expected: () => burn(canary) }]),
        // FILL: a count without a datapoint is 0 events, as a published 0.
        { name: 'bad has no datapoint (FILL: none bad)', canary: { total: canary.total }, base: healthyBase({ total: canary.total }), expected: () => 0 },
        { name: 'bad published as 0', canary: { total: canary.total, bad: 0 }, base: healthyBase({ total: canary.total, bad: 0 }), expected: () => 0 },
        ...(blended
          ? [{ name: 'bad and basebad have no datapoint', canary: { total: canary.total }, base: { total: canary.total + 20 * n }, expected: () => 0 }]
          : [
              { name: 'basebad has no datapoint (FILL: a clean baseline; the regression burns)', canary, base: { total: 20 * n }, expected: () => burn(canary) },
              { name: 'basebad published as 0', canary, base: { total: 20 * n, bad: 0 }, expected: () => burn(canary) },
            ]),
        { name: 'a regression the baseline does not share (every IF taken)', canary, base: healthyBase(canary), expected: () => burn(canary) },
        { name: 'fewer events than the guard', canary: { total: n - 1, bad: n - 1 }, base: healthyBase({ total: n - 1, bad: n - 1 }), expected: () => 0 },
        { name: 'total 0 (FILL(bad, 0) ÷ total is 0 ÷ 0 in the untaken branch)', canary: { total: 0, bad: 0 }, base: healthyBase({ total: 0, bad: 0 }), expected: () => 0 },
        // The one reading-dependent datapoint: no datapoint of total.
        { name: 'total has no datapoint', canary: {}, base: { total: 20 * n, bad: 0 }, expected: noTotal },
        { name: 'total has no datapoint, bad has one', canary: { bad: 3 }, base: { total: 20 * n, bad: 3 }, expected: noTotal },
      ];
    };

    it('gives the same datapoint under every reading: baseline total 0 or equal, bad / basebad / total without a datapoint', () => {
      for (const a of relative) {
        for (const s of scenarios(a)) {
          expectUnderEveryReading({ ...a, where: `${a.where} (${s.name})` }, valuesOf(a, s.canary, s.base), s.expected);
        }
      }
    });

    it('on any counts, consistent or not, every reading gives the documented datapoint (but the no-total departure)', () => {
      const count = fc.oneof(fc.constant(undefined), fc.constant(0), fc.integer({ min: 0, max: 5_000 }));
      for (const a of relative) {
        const { minEvents: n, blended } = shape(a);
        const near = fc.oneof(count, fc.integer({ min: n - 2, max: n + 2 }));
        fc.assert(
          fc.property(
            fc.record({ total: near, bad: count, basetotal: near, basebad: count, tie: fc.constantFrom('none', 'zero divisor', 'equal totals'), sameBad: fc.boolean() }),
            ({ total, bad, basetotal, basebad, tie, sameBad }) => {
              // Ties: the baseline's divisor (FILL(basetotal, 0) [− total]) zero, or the baseline
              // serving exactly as many events as the new version.
              const rest = tie === 'zero divisor' ? 0 : tie === 'equal totals' ? total : undefined;
              const base = {
                total: total === undefined || rest === undefined ? basetotal : blended ? total + rest : rest,
                bad: sameBad ? (blended ? bad : undefined) : basebad,
              };
              const values = valuesOf(a, { total, bad }, base);
              const documented = a.evaluate(values, DOCUMENTED);
              expectUnderEveryReading(a, values, (reading) => (values.total === undefined ? noTotal(reading) : documented));
            },
          ),
          { numRuns: 300 },
        );
      }
    });
  });

  describe('the burn-rate windows', () => {
    it('give the same datapoint under every reading: total 0 or without a datapoint, bad without one', () => {
      for (const a of burnRate) {
        const { minEvents: n, budget } = shape(a);
        const cases: Array<[string, Counts, (reading: Reading) => number | undefined]> = [
          ['burning', { total: 2 * n, bad: n }, () => n / (2 * n) / budget],
          ['bad has no datapoint', { total: 2 * n }, () => 0],
          ['fewer events than the guard', { total: n - 1, bad: n - 1 }, () => 0],
          ['total 0 (0 ÷ 0 in the untaken branch)', { total: 0, bad: 0 }, () => 0],
          ['total has no datapoint', {}, noTotal],
        ];
        for (const [name, counts, expected] of cases) expectUnderEveryReading({ ...a, where: `${a.where} (${name})` }, valuesOf(a, counts), expected);
      }
    });
  });

  describe('the bake-failures alarm: FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)', () => {
    /**
     * Filled term by term, a lone failure is a sum of 1 under every reading (it was no datapoint
     * under the contrary `missingBesideSeries: 'drop'` while the expression was `failed + timedOut
     * + aborted`), and a minute without any datapoint is 0 (FILL gives every timestamp a value).
     */
    const sum = (v: Values) => (v.failed ?? 0) + (v.timedOut ?? 0) + (v.aborted ?? 0);

    it('sums with missing metrics as 0 under every reading: a lone failure alarms', () => {
      expect(bakeFailures.length).toBeGreaterThan(0);
      for (const a of bakeFailures) {
        expect(a.threshold, a.where).toBe(1);
        const lone = { failed: 1, timedOut: _, aborted: _ };
        for (const { reading } of READINGS) expect(a.evaluate(lone, reading)).toBe(1);
        fc.assert(
          fc.property(fc.record({ failed: fc.option(fc.nat(5), { nil: undefined }), timedOut: fc.option(fc.nat(5), { nil: undefined }), aborted: fc.option(fc.nat(5), { nil: undefined }) }), (values) =>
            READINGS.every(({ reading }) => a.evaluate(values, reading) === sum(values)),
          ),
          { numRuns: 200 },
        );
      }
    });
  });
});
