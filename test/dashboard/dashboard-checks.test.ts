import { GraphWidget, MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RollbackTriggersError } from '../../lib/core';
import { checkMetricRows, checkMetricWidget, metricRows, packByWeight } from '../../lib/dashboard/dashboard-checks';
import { decisionsQuery } from '../../lib/dashboard/decisions';

const count = (metricName: string) => new Metric({ namespace: 'Shop', metricName, statistic: 'Sum' });

function code(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(RollbackTriggersError);
    return `${(e as RollbackTriggersError).code}: ${(e as Error).message}`;
  }
  throw new Error('expected a RollbackTriggersError, nothing was thrown');
}

/** Rows as aws-cdk-lib renders them: a metric with its options last, or an expression. */
const metricRow = (id: string, period?: number) => ['Shop', 'Count', { id, stat: 'Sum', visible: false, ...(period ? { period } : {}) }];
const expressionRow = (expression: string, period?: number) => [{ expression, label: 'x', ...(period ? { period } : {}) }];

describe("a widget's metric math gets the alarms' checks", () => {
  it('accepts a widget aws-cdk-lib renders from a valid math expression', () => {
    const widget = new GraphWidget({ left: [new MathExpression({ expression: 'FILL(bad, 0) / total', usingMetrics: { bad: count('Bad'), total: count('All') } })] });
    expect(() => checkMetricWidget('the graph', widget)).not.toThrow();
    expect(metricRows(widget)).toHaveLength(3);
  });

  it('turns aws-cdk-lib’s refusal of two metrics under one id into RT154', () => {
    const widget = new GraphWidget({
      left: [
        new MathExpression({ expression: 'm1 * 2', usingMetrics: { m1: count('A') } }),
        new MathExpression({ expression: 'm1 * 3', usingMetrics: { m1: count('B') } }),
      ],
    });
    expect(code(() => checkMetricWidget('the graph', widget))).toMatch(/^RT154: \[RT154\] the graph: Cannot have two different metrics share the same id \('m1'\)/);
  });

  it.each([
    ['Total', /query id "Total", which CloudWatch refuses/],
    ['1total', /query id "1total"/],
    ['total-2', /query id "total-2"/],
    [`t${'x'.repeat(255)}`, /at most 255 characters/],
  ])('refuses the query id %j (RT154)', (id, message) => {
    expect(code(() => checkMetricRows('the graph', [metricRow(id)]))).toMatch(message);
    expect(code(() => checkMetricRows('the graph', [metricRow(id)]))).toMatch(/^RT154/);
  });

  it('accepts a 255-character id of letters, digits and underscores', () => {
    const id = `t${'x_9'.repeat(84)}Tz`;
    expect(id).toHaveLength(255);
    expect(() => checkMetricRows('the graph', [metricRow(id), expressionRow(`${id} * 2`)])).not.toThrow();
  });

  it('refuses one id on two rows (RT154)', () => {
    expect(code(() => checkMetricRows('the graph', [metricRow('total'), metricRow('total')]))).toMatch(/^RT154: .*query id "total" for two queries/);
  });

  it('refuses an expression over an id the widget does not define (RT217, as for an alarm)', () => {
    expect(code(() => checkMetricRows('the graph', [metricRow('total'), expressionRow('bad / total')]))).toMatch(/^RT217: .*the graph: the expression "bad \/ total" references "bad"/);
  });

  it('refuses what an alarm cannot evaluate: SEARCH, METRICS() (RT216)', () => {
    expect(code(() => checkMetricRows('the graph', [expressionRow('SEARCH(\'{Shop} Count\', \'Sum\')')]))).toMatch(/^RT216: .*SEARCH\(\)/);
    expect(code(() => checkMetricRows('the graph', [metricRow('total'), expressionRow('SUM(METRICS())')]))).toMatch(/^RT216: .*METRICS\(\)/);
  });

  it('refuses a Metrics Insights query over more than 3 hours, as for an alarm (RT216), read at its own period', () => {
    const select = 'SELECT SUM(Count) FROM Shop';
    expect(() => checkMetricRows('the graph', [expressionRow(select, 3_600)])).not.toThrow();
    expect(code(() => checkMetricRows('the graph', [expressionRow(select, 21_600)]))).toMatch(/^RT216: .*latest 3 hours/);
  });

  it('refuses more than 100 metrics and expressions in one widget (RT154)', () => {
    const rows = Array.from({ length: 101 }, (_, i) => metricRow(`m${i}`));
    expect(() => checkMetricRows('the graph', rows.slice(0, 100))).not.toThrow();
    expect(code(() => checkMetricRows('the graph', rows))).toMatch(/^RT154: .*would hold 101 metrics and expressions, a CloudWatch metric widget holds at most 100/);
  });
});

describe('packByWeight', () => {
  it('keeps the order, and every group within the limit unless one item alone is over it', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 40 }), fc.integer({ min: 1, max: 100 }), (weights, limit) => {
        const groups = packByWeight(weights, (w) => w, limit);
        expect(groups.flat()).toEqual(weights);
        for (const group of groups) {
          expect(group.length).toBeGreaterThan(0);
          if (group.length > 1) expect(group.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(limit);
        }
        // Greedy: a group closes only when the next item would not fit.
        groups.slice(1).forEach((group, i) => expect(groups[i].reduce((a, b) => a + b, 0) + group[0]).toBeGreaterThan(limit));
      }),
    );
  });
});

describe('the decisions query', () => {
  it('filters on the deployment group name, newest first', () => {
    expect(decisionsQuery('checkout-live')).toEqual([
      'fields @timestamp, `detail-type` as event, detail.deploymentId as deployment, detail.lifecycleEvent as hook, detail.verdict as verdict, ' +
        'detail.reportedStatus as reported, detail.wouldRollback as wouldRollback, detail.toVersion as toVersion, detail.reasons.0 as reason',
      'filter detail.deploymentGroupName = "checkout-live"',
      'sort @timestamp desc',
      'limit 20',
    ]);
  });

  it.each(['a"b', 'a\\b', 'a\nb'])('refuses a deployment group name its filter string cannot hold: %j (RT154)', (name) => {
    expect(code(() => decisionsQuery(name))).toMatch(/^RT154: .*holds a double quote, a backslash or a line break/);
  });
});
