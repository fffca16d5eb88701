import { describe, expect, it } from 'vitest';
import {
  EVALUATOR_CONFIG_SCHEMA_VERSION,
  type EvaluatorConfig,
  type EvaluatorSlo,
  LAMBDA_ENVIRONMENT_LIMIT_BYTES,
  MAX_QUERIES_PER_CALL,
  buildHealthQueries,
  buildMetricQueries,
  parseEvaluatorConfig,
  queriesPerTick,
  validateQueriesPerTick,
} from '../../lib/core';
import { parseExpression, referencedIds } from './emulator/expression';
import { AVAILABILITY_SLO, expectRtError } from './helpers';

/** An ALB target group's availability as `Sli.targetGroupAvailability` configures the evaluator. */
const responses = 'FILL({t2xx}, 0) + FILL({t3xx}, 0) + FILL({t4xx}, 0) + FILL({t5xx}, 0)';
const ALB_SLO: EvaluatorSlo = {
  ...AVAILABILITY_SLO,
  numerator: undefined,
  numeratorMath: {
    expression: `FILL({t5xx}, 0) + IF({total} - (${responses}) > 0, {total} - (${responses}), 0)`,
    parts: Object.fromEntries([2, 3, 4, 5].map((n) => [`t${n}xx`, { metricName: `HTTPCode_Target_${n}XX_Count`, stat: 'Sum' }])),
  },
  total: { namespace: 'AWS/ApplicationELB', metricName: 'RequestCount', dimensionSet: 0, stat: 'Sum' },
};

const arms = [
  { arm: 'canary' as const, dimensions: { TargetGroup: 'targetgroup/green/2', LoadBalancer: 'app/lb/1' } },
  { arm: 'baseline' as const, dimensions: { TargetGroup: 'targetgroup/blue/1', LoadBalancer: 'app/lb/1' } },
];

function config(slos: EvaluatorSlo[], extra: Partial<EvaluatorConfig> = {}): EvaluatorConfig {
  return {
    schemaVersion: EVALUATOR_CONFIG_SCHEMA_VERSION,
    platform: 'ecs',
    mode: 'enforce',
    bakeSeconds: 600,
    tickSeconds: 60,
    inconclusiveAction: 'fail',
    deadlineMarginSeconds: 300,
    metricDelaySeconds: 180,
    compareWithBaseline: true,
    slos,
    dimensionSets: [{ Region: 'eu' }],
    ...extra,
  };
}

describe('buildMetricQueries: a metric-math numerator', () => {
  const queries = buildMetricQueries(config([AVAILABILITY_SLO, ALB_SLO]), arms);

  it('reads its parts with ReturnData false under ids prefixed with the numerator’s, and returns one expression under the numerator’s id', () => {
    expect(queries.filter((q) => q.sloIndex === 1).map((q) => [q.id, q.part, q.returnData])).toEqual(
      ['canary', 'baseline'].flatMap((arm) => [
        [`s1_${arm}_n_t2xx`, 'term', false],
        [`s1_${arm}_n_t3xx`, 'term', false],
        [`s1_${arm}_n_t4xx`, 'term', false],
        [`s1_${arm}_n_t5xx`, 'term', false],
        [`s1_${arm}_n`, 'numerator', true],
        [`s1_${arm}_t`, 'total', true],
      ]),
    );
    // A plain numerator is unchanged: one metric query, returned.
    expect(queries.filter((q) => q.sloIndex === 0).map((q) => [q.id, q.part, q.returnData, q.metric?.metricName])).toEqual([
      ['s0_canary_n', 'numerator', true, 'Errors'],
      ['s0_canary_t', 'total', true, 'Invocations'],
      ['s0_baseline_n', 'numerator', true, 'Errors'],
      ['s0_baseline_t', 'total', true, 'Invocations'],
    ]);
    expect(new Set(queries.map((q) => q.id)).size).toBe(queries.length);
    expect(queries.every((q) => q.periodSeconds === 60)).toBe(true);
  });

  it('gives the parts the total’s namespace and dimensions, with the arm’s own', () => {
    for (const q of queries.filter((q) => q.part === 'term')) {
      expect(q.metric).toEqual({
        namespace: 'AWS/ApplicationELB',
        metricName: `HTTPCode_Target_${q.id.slice(-3, -2)}XX_Count`,
        stat: 'Sum',
        dimensions: { Region: 'eu', ...arms.find((a) => a.arm === q.arm)!.dimensions },
      });
    }
  });

  it('writes the expression over its own arm’s queries, and it computes the alarm’s count', () => {
    const canary = queries.find((q) => q.id === 's1_canary_n')!;
    expect(canary.metric).toBeUndefined();
    expect([...referencedIds(canary.expression!)].sort()).toEqual(['s1_canary_n_t2xx', 's1_canary_n_t3xx', 's1_canary_n_t4xx', 's1_canary_n_t5xx', 's1_canary_t']);
    // 1,000 requests, 880 + 20 answered by the targets: 100 the load balancer answered.
    const evaluate = parseExpression(canary.expression!);
    expect(evaluate({ s1_canary_t: 1_000, s1_canary_n_t2xx: 880, s1_canary_n_t3xx: undefined, s1_canary_n_t4xx: 20, s1_canary_n_t5xx: undefined })).toBe(100);
  });
});

describe('parseEvaluatorConfig: the numerator', () => {
  const parse = (slo: Partial<EvaluatorSlo>, version = EVALUATOR_CONFIG_SCHEMA_VERSION) =>
    parseEvaluatorConfig(JSON.stringify({ ...config([{ ...ALB_SLO, ...slo }]), schemaVersion: version }));

  it('reads a metric-math numerator', () => {
    expect(parse({}).slos[0].numeratorMath!.parts.t5xx).toEqual({ metricName: 'HTTPCode_Target_5XX_Count', stat: 'Sum' });
  });

  it('refuses a configuration of the schema before metric-math numerators (RT403)', () => {
    expect(EVALUATOR_CONFIG_SCHEMA_VERSION).toBe(2);
    expect(expectRtError(() => parse({}, 1 as never), 'RT403').message).toMatch(/schemaVersion 1, this evaluator reads 2/);
  });

  it('refuses a configuration that is missing, not JSON or names no SLO (RT402)', () => {
    expect(expectRtError(() => parseEvaluatorConfig(undefined), 'RT402').message).toBe('[RT402] RT_EVALUATOR_CONFIG is not set');
    expect(expectRtError(() => parseEvaluatorConfig('{"slos": ['), 'RT402').message).toMatch(/^\[RT402\] RT_EVALUATOR_CONFIG is not JSON: /);
    expect(expectRtError(() => parseEvaluatorConfig('7'), 'RT402').message).toMatch(/is not a JSON object/);
    expect(expectRtError(() => parseEvaluatorConfig(JSON.stringify({ ...config([ALB_SLO]), slos: [] })), 'RT402').message).toMatch(/names no SLO/);
    expect(expectRtError(() => parse({ numeratorMath: undefined }), 'RT402').message).toMatch(/needs exactly one of numerator and numeratorMath/);
  });

  it('refuses a numerator that is neither or both of a metric and metric math', () => {
    expect(() => parse({ numeratorMath: undefined })).toThrow(/slos\[0\] \(Availability\) needs exactly one of numerator and numeratorMath/);
    expect(() => parse({ numerator: AVAILABILITY_SLO.numerator })).toThrow(/exactly one of numerator and numeratorMath/);
  });

  it('refuses parts that cannot be query ids, and placeholders that name no part', () => {
    expect(() => parse({ numeratorMath: { expression: '{total}', parts: {} } })).toThrow(/without parts/);
    expect(() => parse({ numeratorMath: { expression: '{T5}', parts: { T5: { metricName: 'x', stat: 'Sum' } } } })).toThrow(/part named "T5"/);
    expect(() => parse({ numeratorMath: { expression: '{total}', parts: { total: { metricName: 'x', stat: 'Sum' } } } })).toThrow(/part named "total"/);
    expect(() => parse({ numeratorMath: { expression: 'FILL({t6xx}, 0)', parts: { t5xx: { metricName: 'x', stat: 'Sum' } } } })).toThrow(/naming \{t6xx\}/);
  });
});

describe('one GetMetricData call per tick', () => {
  it('counts every query the tick sends, the parts with ReturnData false and the Synthetics canaries included', () => {
    const healthChecks = [{ kind: 'synthetics' as const, name: 'journey', canaryName: 'journey' }, { kind: 'http' as const, name: 'ping', url: 'https://x' }];
    const c = config([AVAILABILITY_SLO, ALB_SLO], { healthChecks });
    expect(queriesPerTick(c)).toBe(2 * 2 + 2 * 6 + 1);
    expect(queriesPerTick(c)).toBe(buildMetricQueries(c, arms).length + buildHealthQueries(c).length);
  });

  it('refuses more queries than one call takes (RT317)', () => {
    expect(() => validateQueriesPerTick('p', MAX_QUERIES_PER_CALL)).not.toThrow();
    const error = expectRtError(() => validateQueriesPerTick('Stack/Rollback: the evaluator', MAX_QUERIES_PER_CALL + 1), 'RT317');
    expect(error.message).toMatch(/501 GetMetricData queries, but one call takes at most 500/);
  });

  it('the largest configuration that fits Lambda’s 4 KB of environment stays far below the 500', () => {
    // Target-group availability SLOs (the most queries per byte of configuration), short names.
    let slos: EvaluatorSlo[] = [];
    while (JSON.stringify(config([...slos, { ...ALB_SLO, name: `s${slos.length}` }])).length <= LAMBDA_ENVIRONMENT_LIMIT_BYTES) slos = [...slos, { ...ALB_SLO, name: `s${slos.length}` }];
    expect(slos.length).toBeGreaterThan(0);
    expect(queriesPerTick(config(slos))).toBeLessThan(MAX_QUERIES_PER_CALL / 4);
  });
});
