/**
 * A blended SLI on a RollbackTrigger (a custom metric without a version dimension, a log pattern's
 * lines without `versionField`, a function's own metrics): its metrics carry neither the version
 * nor a target group, so the evaluator must read them as declared — the arm's dimensions would name
 * a combination CloudWatch never published, read no datapoints, and end every release inconclusive
 * (Failed by default). Read as declared, the whole service's counts are the new version's own only
 * once all traffic is on it (AfterAllowTraffic): the evaluator judges those minutes, never the
 * canary's blended ones, which the rollback alarm (scope `declared`) watches.
 *
 * Driven through the real path: a stack is synthesized, the evaluator configuration is read back
 * from the template, the tick's queries are built by core, answered by a CloudWatch that matches
 * metrics by their exact dimensions, turned into evidence by the Lambda's own `sloEvidence` and
 * decided by core's `decideBake`.
 */
import { GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { FilterPattern, LogGroup } from 'aws-cdk-lib/aws-logs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Sli } from '../../lib';
import { tickClock } from '../../lib/core/bake';
import { type Decision, decideBake } from '../../lib/core/decision';
import { type EvaluatorConfig, HOOK_LIMIT_SECONDS } from '../../lib/core/evaluator-config';
import { type MetricQuery, type QueryResult, buildMetricQueries } from '../../lib/core/metric-queries';
import { sloEvidence } from '../../lambda/evaluator/read';
import { countMetric } from '../helpers';
import { armsOf } from './helpers';
import { CREATED_AT, T0, World, expectReports } from '../lambda/fixtures';
import { ecsTrigger, evaluatorConfig, lambdaTrigger } from '../slo/new-sli-fixtures';

type Built = { stack: Stack; trigger: { rollbackAlarms: unknown[]; _policy: { alarms: ReadonlyArray<{ scope: string }> } } };

/** A dimension value as the evaluator configuration renders it: literal text, a token as its CloudFormation JSON (`evaluatorConfig`'s placeholder). */
function rendered(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join && join[0] === '') return join[1].map(rendered).join('');
  return `<${JSON.stringify(value).replace(/"/g, "'")}>`;
}

/** A metric as CloudWatch identifies it: namespace, name, statistic and the exact dimension set. */
interface MetricId {
  readonly namespace: string;
  readonly metricName: string;
  readonly stat: string;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** Every metric the trigger's rollback alarms read, as synthesized (their dimensions as declared). */
function rollbackAlarmMetrics(built: Built): MetricId[] {
  const resources = Template.fromStack(built.stack).toJSON().Resources as Record<string, { Properties: { Metrics?: any[] } }>;
  return built.trigger.rollbackAlarms.flatMap((alarm) => {
    const id = built.stack.resolve((alarm as { node: { defaultChild: { logicalId: string } } }).node.defaultChild.logicalId) as string;
    return (resources[id].Properties.Metrics ?? [])
      .filter((m) => m.MetricStat)
      .map((m) => ({
        namespace: m.MetricStat.Metric.Namespace,
        metricName: m.MetricStat.Metric.MetricName,
        stat: m.MetricStat.Stat,
        dimensions: Object.fromEntries((m.MetricStat.Metric.Dimensions ?? []).map((d: { Name: string; Value: unknown }) => [d.Name, rendered(d.Value)])),
      }));
  });
}


const sameDimensions = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

describe('a blended SLI on a RollbackTrigger: the evaluator reads its metrics as its rollback alarm declares them', () => {
  const custom = () => Sli.errorRatio({ badEvents: countMetric('Failed'), totalEvents: countMetric('Requests') });
  const logs = (stack: Stack) =>
    Sli.logPattern(stack, 'Errors', {
      logGroup: new LogGroup(stack, 'Logs'),
      badPattern: FilterPattern.stringValue('$.level', '=', 'ERROR'),
      totalPattern: FilterPattern.exists('$.requestId'),
    });

  it.each([
    ['a custom metric on a Lambda alias', () => lambdaTrigger(custom)],
    ['Sli.logPattern without versionField on a Lambda alias', () => lambdaTrigger(logs)],
    ['a custom metric on an ECS service', () => ecsTrigger(custom)],
    ['Sli.logPattern without versionField on an ECS service', () => ecsTrigger(logs)],
  ])('%s: every query asks for the metric exactly as its rollback alarm (scope declared) declares it', (_, build) => {
    const built = build();
    expect(built.trigger._policy.alarms.map((a) => a.scope)).toEqual(['declared']);
    const declared = rollbackAlarmMetrics(built);
    const config = evaluatorConfig(built.stack, built.trigger as never);
    const queries = buildMetricQueries(config, armsOf(config)).filter((q) => q.metric);
    expect(queries.length).toBeGreaterThan(0);
    for (const q of queries) {
      const m = q.metric!;
      const twin = declared.find((d) => d.namespace === m.namespace && d.metricName === m.metricName && d.stat === m.stat);
      expect(twin, `${q.id} reads ${m.namespace}/${m.metricName}, which the rollback alarm does not`).toBeDefined();
      expect({ id: q.id, dimensions: m.dimensions }).toEqual({ id: q.id, dimensions: twin!.dimensions });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The decision over what CloudWatch would answer.

/**
 * GetMetricData as CloudWatch answers it for metrics published under exactly one dimension set each:
 * "CloudWatch treats each unique combination of dimensions as a separate metric. If a specific
 * combination of dimensions was not published, you can't retrieve statistics for it" (CloudWatch
 * API Reference, GetMetricStatistics, Dimensions). Here a query of a combination never published
 * is answered Complete without datapoints: what the evaluator sees of a misdimensioned metric.
 */
function cloudWatch(published: ReadonlyArray<{ id: Omit<MetricId, 'stat'>; value: (minute: number) => number | undefined }>) {
  return (queries: readonly MetricQuery[], start: number, end: number): Map<string, QueryResult> => {
    const results = new Map<string, QueryResult>();
    for (const q of queries) {
      if (!q.metric) throw new Error(`this model answers metrics only, not ${q.id}'s expression`);
      expect(q.metric.stat).toBe('Sum');
      const m = q.metric;
      const source = published.find((p) => p.id.namespace === m.namespace && p.id.metricName === m.metricName && sameDimensions(p.id.dimensions, m.dimensions));
      const series = new Map<number, number>();
      for (let t = start; source && t < end; t += 60) {
        const v = source.value(t);
        if (v !== undefined) series.set(t, v);
      }
      results.set(q.id, { status: 'Complete', series });
    }
    return results;
  };
}

/** Epoch seconds of the release (the deployment's createTime, a whole minute). */
const R = Date.UTC(2026, 0, 15, 12, 0, 0) / 1000;
/** The 10 % canary shifts all traffic 6 minutes in; CodeDeploy starts AfterAllowTraffic 20 seconds later. */
const SHIFT = R + 6 * 60;
const HOOK = SHIFT + 20;
const REQUESTS = 2000;

/** The service's requests and failures per minute, both versions blended (the app's own metric has no version). */
function blended(newErrorRatio: number, options: { newPublishes?: boolean } = {}) {
  const oldErrors = 1; // 0.05 %: half the error budget of a 99.9 % SLO
  const minute = (t: number) => {
    const share = t < R ? 0 : t < SHIFT ? 0.1 : 1;
    const newRequests = options.newPublishes === false ? 0 : REQUESTS * share;
    const oldRequests = REQUESTS * (1 - share);
    const bad = Math.round((oldRequests / REQUESTS) * oldErrors + newRequests * newErrorRatio);
    return { requests: oldRequests + newRequests, bad };
  };
  return (metricName: 'Requests' | 'Failed') => (t: number) => {
    const m = minute(t);
    if (m.requests === 0) return undefined;
    return metricName === 'Requests' ? m.requests : m.bad;
  };
}

/** The bake's ticks from AfterAllowTraffic, as the step Lambda runs them, until one reports. */
function bake(config: EvaluatorConfig, answer: ReturnType<typeof cloudWatch>): Decision & { action: 'report' } {
  const arms = armsOf(config);
  for (let now = HOOK; now < HOOK + HOOK_LIMIT_SECONDS; now += config.tickSeconds) {
    const clock = tickClock(now, HOOK, config.metricDelaySeconds);
    const queries = buildMetricQueries(config, arms);
    const results = answer(queries, R - 3600, clock.end);
    // The tick's evidence (lambda/evaluator/read.ts): all traffic is on the new version from the hook's start.
    const slos = sloEvidence(config, arms, results, R, clock.end, undefined, HOOK);
    const decision = decideBake({
      config,
      bakedSeconds: clock.bakedSeconds,
      hookAgeSeconds: clock.hookAgeSeconds,
      deadlineSeconds: HOOK_LIMIT_SECONDS - config.deadlineMarginSeconds,
      lifecycleEvent: 'AfterAllowTraffic',
      slos,
    });
    if (decision.action === 'report') return decision;
  }
  throw new Error('the bake never reported');
}

describe('the bake of a blended custom-metric SLI over what CloudWatch answers', () => {
  const built = lambdaTrigger(() => Sli.errorRatio({ badEvents: countMetric('Failed'), totalEvents: countMetric('Requests') }), 99.9);
  const config = evaluatorConfig(built.stack, built.trigger);
  const publish = (series: ReturnType<typeof blended>) =>
    cloudWatch([
      { id: { namespace: 'Shop', metricName: 'Requests', dimensions: {} }, value: series('Requests') },
      { id: { namespace: 'Shop', metricName: 'Failed', dimensions: {} }, value: series('Failed') },
    ]);

  it('passes a healthy release on the minutes the new version served all traffic (it was inconclusive: every release failed)', () => {
    const decision = bake(config, publish(blended(0.0005)));
    expect(decision.reasons).toEqual(expect.arrayContaining([expect.stringMatching(/bake complete/)]));
    expect({ status: decision.status, verdict: decision.verdict }).toEqual({ status: 'Succeeded', verdict: 'pass' });
    // Evidence of the new version alone: no canary minute, only those from the minute after the shift on.
    const canary = decision.observations.find((o) => o.arm === 'canary')!;
    expect(canary.totalEvents).toBeGreaterThanOrEqual(config.slos[0].minEvents);
    expect(canary.totalEvents % REQUESTS).toBe(0);
  });

  it('rolls back a version that fails 5 % of its requests once it serves all traffic (a 10 % canary diluted it to 5.5× blended)', () => {
    const decision = bake(config, publish(blended(0.05)));
    expect({ status: decision.status, verdict: decision.verdict }).toEqual({ status: 'Failed', verdict: 'fail' });
    expect(decision.reasons[0]).toMatch(/^Slo: the new version, serving alone, burns its error budget/);
  });

  it('never passes on the canary’s blended minutes: a new version that publishes nothing is inconclusive, not a pass', () => {
    const decision = bake(config, publish(blended(0, { newPublishes: false })));
    expect({ status: decision.status, verdict: decision.verdict }).toEqual({ status: 'Failed', verdict: 'inconclusive' });
  });
});

// ---------------------------------------------------------------------------------------------
// Through the bake's step Lambda (lambda/evaluator: resolve, tick, report), as the state machine drives it.

describe('the step Lambda’s bake of an SLO read as declared', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const SERVICE = { Service: 'shop' };
  /** The configuration the construct renders for Sli.errorRatio on Shop/Failed and Shop/Requests by Service (lambdaTrigger above). */
  const declaredSlo = {
    name: 'checkout',
    errorBudget: 0.001,
    failBurnRate: 14.4,
    shortWindowSeconds: 300,
    minEvents: 70,
    numeratorKind: 'bad' as const,
    numerator: { namespace: 'Shop', metricName: 'Failed', dimensionSet: 0, stat: 'Sum' },
    total: { namespace: 'Shop', metricName: 'Requests', dimensionSet: 0, stat: 'Sum' },
    declared: true,
  };

  /**
   * A world whose CloudWatch publishes the service's own metric under `SERVICE` only: a query asking
   * for any other dimension set reads nothing. The release (CREATED_AT) shifts 10 % of 2,000
   * requests a minute to the new version; at the hook (T0) all of them.
   */
  function world(newErrorRatio: number) {
    const w: World = new World({
      config: { slos: [declaredSlo], dimensionSets: [SERVICE], baselineFactor: 2 },
      traffic: (id, minute) => {
        const calls = w.cw.commandCalls(GetMetricDataCommand);
        const q = calls[calls.length - 1].args[0].input.MetricDataQueries!.find((o: MetricDataQuery) => o.Id === id)!;
        const dimensions = Object.fromEntries((q.MetricStat!.Metric!.Dimensions ?? []).map((d) => [d.Name!, d.Value!]));
        if (!sameDimensions(dimensions, SERVICE)) return undefined;
        const share = minute < CREATED_AT ? 0 : minute < T0 ? 0.1 : 1;
        const bad = Math.round((1 - share) * 1 + 2000 * share * newErrorRatio);
        return q.MetricStat!.Metric!.MetricName === 'Requests' ? 2000 : bad;
      },
    });
    return w;
  }

  it('reads the metric as declared, once, and passes a healthy release', async () => {
    const w = world(0.0005);
    const run = await w.bake();
    expectReports(w, { accepted: ['Succeeded'] });
    expect(run.final.report).toMatchObject({ status: 'Succeeded', verdict: 'pass' });
    const read = w.metricCalls()[0].MetricDataQueries!.filter((q) => q.Id!.startsWith('s0_'));
    expect(read.map((q) => [q.Id, q.MetricStat!.Metric!.Dimensions])).toEqual([
      ['s0_canary_n', [{ Name: 'Service', Value: 'shop' }]],
      ['s0_canary_t', [{ Name: 'Service', Value: 'shop' }]],
    ]);
  });

  it('rolls back a version that fails 5 % of its requests once it serves all traffic', async () => {
    const w = world(0.05);
    const run = await w.bake();
    expectReports(w, { accepted: ['Failed'] });
    expect(run.final.report).toMatchObject({ status: 'Failed', verdict: 'fail' });
    expect(run.final.report!.reasons[0]).toMatch(/^checkout: the new version, serving alone, burns its error budget/);
  });
});
