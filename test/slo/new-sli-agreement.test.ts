import { CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { FilterPattern, LogGroup } from 'aws-cdk-lib/aws-logs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Sli } from '../../lib';
import { formatNumber } from '../../lib/core';
import { compilePolicy, relativeWindowBurnRate, windowBurnRate } from '../../lib/core/emulator';
import { DOCUMENTED, READINGS, type Values, parseAlarmQueries, referencedIds } from '../core/emulator/expression';
import { policyOf } from '../core/simulator/fixtures';
import { lambdaTrigger } from './new-sli-fixtures';

// The agent self-evaluation and log-pattern SLIs render the same policy for the three executors:
// the alarms CloudFormation creates, the emulator (the simulator's alarm path) and the evaluator.
// As test/core/emulator/template-agreement.test.ts does for the other SLIs, each synthesized
// alarm expression is interpreted as CloudWatch evaluates it (every reading of the metric-math page
// where it is silent) on random windows and must give what the emulator gives for the same counts;
// the evaluator's reads are checked against the alarms' metrics in the SLIs' own test files.

type Resource = { Type: string; Properties: Record<string, any> };

const CASES: Array<[string, (stack: Stack) => Sli]> = [
  ['agent self-evaluation', () => Sli.agentSelfEvaluation({ service: 'support-agent', confidenceThreshold: 0.7 })],
  [
    'log pattern with versionField',
    (stack) =>
      Sli.logPattern(stack, 'Errors', {
        logGroup: new LogGroup(stack, 'Logs'),
        badPattern: FilterPattern.stringValue('$.level', '=', 'ERROR'),
        totalPattern: FilterPattern.exists('$.version'),
        versionField: '$.version',
      }),
  ],
];

/** One window of one version: whether it has a datapoint, its events, the bad ones, and whether a count of 0 is published. */
const armArb = fc
  .record({ has: fc.boolean(), total: fc.integer({ min: 0, max: 400 }), share: fc.double({ min: 0, max: 1, noNaN: true }), publishZero: fc.boolean() })
  .map(({ has, total, share, publishZero }) => (has ? { has, total, bad: Math.floor(total * share * share), publishZero } : { has, total: 0, bad: 0, publishZero }));

/** What CloudWatch holds for a count: a metric filter with dimensions (or an EMF count of 0) may publish nothing in a window without a match. */
const published = (has: boolean, value: number, publishZero: boolean) => (has && (value > 0 || publishZero) ? value : undefined);
const breaches = (value: number | undefined, threshold: number) => value !== undefined && value >= threshold;

describe.each(CASES)('%s: the synthesized alarms agree with the emulator', (_name, build) => {
  const { stack, trigger } = lambdaTrigger(build);
  const policy = policyOf(stack);
  const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, Resource> };
  const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.resolve((construct.node.defaultChild as CfnElement).logicalId) as string;

  it("the rollback alarm's expression gives the emulator's relative burn rate under every reading", () => {
    const [policyAlarm] = trigger._policy.alarms;
    expect(policyAlarm).toMatchObject({ scope: 'version', baseline: { mode: 'rest-of-blended', factor: 2 } });
    const props = template.Resources[logicalId(trigger.rollbackAlarms[0] as Alarm)].Properties;
    expect(props).toMatchObject({ Threshold: policyAlarm.tier.factor, ComparisonOperator: 'GreaterThanOrEqualToThreshold', EvaluationPeriods: 1, DatapointsToAlarm: 1, TreatMissingData: 'notBreaching' });
    const stats = props.Metrics.filter((m: any) => m.MetricStat);
    expect(stats.map((m: any) => m.MetricStat.Period)).toEqual(stats.map(() => policyAlarm.windowSeconds));
    expect(stats).toHaveLength(policyAlarm.metricCount);
    const queries = parseAlarmQueries(props.Metrics);
    expect([...referencedIds(queries.returned.Expression)].sort()).toEqual(['bad', 'basebad', 'basetotal', 'total']);
    const model = { minEvents: policyAlarm.minEvents, errorBudget: Number(formatNumber(policy.slos[0].errorBudget)), baseline: { factor: 2, shift: policyAlarm.baseline?.shift } };
    fc.assert(
      fc.property(fc.tuple(armArb, armArb), ([canary, old]) => {
        // rest-of-blended: the baseline queries read every version (the alias's, the agent's whole [Service] set).
        const all = { has: canary.has || old.has, total: canary.total + old.total, bad: canary.bad + old.bad };
        const values: Values = {
          total: canary.has ? canary.total : undefined,
          bad: published(canary.has, canary.bad, canary.publishZero),
          basetotal: all.has ? all.total : undefined,
          basebad: published(all.has, all.bad, old.publishZero),
        };
        const emulated = relativeWindowBurnRate(model, { datapoints: canary.has ? 1 : 0, ...canary }, { datapoints: old.has ? 1 : 0, ...old }, { datapoints: all.has ? 1 : 0, ...all });
        for (const { name, reading } of READINGS) {
          const value = queries.evaluate(values, reading);
          // One documented departure (template-agreement.test.ts, underReading): no `total` datapoint against a scalar may read as 0.
          const expected = reading.missingBesideScalar === 'zero' && values.total === undefined ? 0 : emulated;
          expect(value, `${name} on ${JSON.stringify(values)}`).toBe(expected);
          expect(breaches(value, policyAlarm.tier.factor), `${name}: alarm decision`).toBe(breaches(emulated, policyAlarm.tier.factor));
        }
      }),
      { numRuns: 300 },
    );
  });

  it("every window alarm of the SLO gives the emulator's burn rate under every reading", () => {
    const model = compilePolicy(policy);
    expect(model.windows).toHaveLength(8);
    const alarms = Object.values(template.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && String(r.Properties.AlarmDescription).startsWith('SLO Slo'));
    expect(alarms).toHaveLength(8);
    for (const w of model.windows) {
      const alarm = alarms.find((a) => a.Properties.Metrics.some((m: any) => m.MetricStat?.Period === w.windowMinutes * 60) && a.Properties.Threshold === w.threshold);
      expect(alarm, w.id).toBeDefined();
      const { evaluate, returned } = parseAlarmQueries(alarm!.Properties.Metrics);
      expect(returned.Expression).toContain(`IF(total >= ${w.minEvents}`);
      fc.assert(
        fc.property(armArb, (window) => {
          const values: Values = { total: window.has ? window.total : undefined, bad: published(window.has, window.bad, window.publishZero) };
          const emulated = windowBurnRate(w, { datapoints: window.has ? 1 : 0, total: window.total, bad: window.bad });
          for (const { reading } of READINGS) {
            const expected = reading.missingBesideScalar === 'zero' && values.total === undefined ? 0 : emulated;
            expect(evaluate(values, reading), `${w.id} on ${JSON.stringify(values)}`).toBe(expected);
          }
          expect(evaluate(values, DOCUMENTED)).toBe(emulated);
        }),
        { numRuns: 50 },
      );
    }
  });
});
