/**
 * Over the SLI kinds a RollbackTrigger takes, on a Lambda alias and on an ECS service: every query
 * the evaluator's tick issues names a metric its rollback alarms read, with only the dimensions that
 * metric declares — plus, when the SLI is per version (or per target group), the arm's own values in
 * the arm's dimensions. CloudWatch "treats each unique combination of dimensions as a separate
 * metric. If a specific combination of dimensions was not published, you can't retrieve statistics
 * for it" (GetMetricStatistics API reference, Dimensions): any other dimension reads nothing.
 */
import type { Stack } from 'aws-cdk-lib';
import { Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Metric, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import type { ApplicationTargetGroup } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { Alias, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { FilterPattern, LogGroup } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { Sli, SliScope } from '../../lib';
import type { EvaluatorConfig } from '../../lib/core/evaluator-config';
import { type ArmScope, buildMetricQueries } from '../../lib/core/metric-queries';
import { countMetric } from '../helpers';
import { armsOf } from './helpers';
import { ecsTrigger, evaluatorConfig, lambdaTrigger } from '../slo/new-sli-fixtures';

type Built = { stack: Stack; trigger: { rollbackAlarms: unknown[] } };
type Dimensions = Readonly<Record<string, string>>;

/** A dimension value as the evaluator configuration renders it (`evaluatorConfig`): literal text, a token as its CloudFormation JSON. */
function rendered(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join && join[0] === '') return join[1].map(rendered).join('');
  return `<${JSON.stringify(value).replace(/"/g, "'")}>`;
}

const dimensionsOf = (dimensions?: Array<{ Name: string; Value: unknown }>): Dimensions =>
  Object.fromEntries((dimensions ?? []).map((d) => [d.Name, rendered(d.Value)]));

/** Every metric the trigger's rollback alarms read (new version and baseline), as synthesized. */
function alarmMetrics(built: Built) {
  const resources = Template.fromStack(built.stack).toJSON().Resources as Record<string, { Properties: { Metrics?: any[] } }>;
  return built.trigger.rollbackAlarms.flatMap((alarm) => {
    const id = built.stack.resolve((alarm as { node: { defaultChild: { logicalId: string } } }).node.defaultChild.logicalId) as string;
    return (resources[id].Properties.Metrics ?? [])
      .filter((m) => m.MetricStat)
      .map((m) => ({
        namespace: m.MetricStat.Metric.Namespace as string,
        metricName: m.MetricStat.Metric.MetricName as string,
        stat: m.MetricStat.Stat as string,
        dimensions: dimensionsOf(m.MetricStat.Metric.Dimensions),
      }));
  });
}


const fn = (s: Stack) => s.node.findChild('Fn') as LambdaFunction;
const alias = (s: Stack) => s.node.findChild('Live') as Alias;
const green = (s: Stack) => s.node.findChild('Green') as ApplicationTargetGroup;
const failed = () => countMetric('Failed');
const requests = () => countMetric('Requests');
const logs = (s: Stack, more: { versionField?: string; totalMetric?: boolean } = {}) =>
  Sli.logPattern(s, 'Errors', {
    logGroup: new LogGroup(s, 'Logs'),
    badPattern: FilterPattern.stringValue('$.level', '=', 'ERROR'),
    ...(more.totalMetric ? { totalMetric: requests() } : { totalPattern: FilterPattern.exists('$.requestId') }),
    ...(more.versionField ? { versionField: more.versionField } : {}),
  });
const custom = (scope?: SliScope) => Sli.errorRatio({ badEvents: failed(), totalEvents: requests(), ...(scope ? { scope } : {}) });
const invocations = (s: Stack) => alias(s).metricInvocations();
const errors = (s: Stack) => alias(s).metricErrors();
const mixed = (s: Stack) => Sli.errorRatio({ badEvents: failed(), totalEvents: invocations(s) });
const shopLatency = () => new Metric({ namespace: 'Shop', metricName: 'Latency', dimensionsMap: { Service: 'checkout' } });

type Reads = 'per arm' | 'as declared';
const LAMBDA: Array<[string, Reads, (s: Stack) => Sli]> = [
  ['Sli.lambdaAvailability(alias)', 'per arm', (s) => Sli.lambdaAvailability(alias(s))],
  ['Sli.lambdaLatency(alias)', 'per arm', (s) => Sli.lambdaLatency(alias(s), Duration.millis(300))],
  ['Sli.agentSelfEvaluation', 'per arm', () => Sli.agentSelfEvaluation({ service: 'support-agent' })],
  ['Sli.agentSelfEvaluation with a version', 'per arm', () => Sli.agentSelfEvaluation({ service: 'support-agent', version: '3' })],
  ['Sli.logPattern with versionField', 'per arm', (s) => logs(s, { versionField: '$.version' })],
  // Lambda publishes its metrics through an alias per ExecutedVersion too ("By Executed Version
  // (ExecutedVersion) – View metrics for a combination of alias and version", Lambda Developer Guide).
  ['Sli.errorRatio over the alias’s own Errors and Invocations', 'per arm', (s) => Sli.errorRatio({ badEvents: errors(s), totalEvents: invocations(s) })],
  ['Sli.lambdaAvailability(function), not its alias', 'as declared', (s) => Sli.lambdaAvailability(fn(s))],
  ['Sli.errorRatio on custom metrics', 'as declared', () => custom()],
  ['Sli.errorRatio on custom metrics declared VERSION without a version dimension', 'as declared', () => custom(SliScope.VERSION)],
  ['Sli.successRatio on custom metrics', 'as declared', () => Sli.successRatio({ goodEvents: countMetric('Succeeded'), totalEvents: requests() })],
  [
    'Sli.businessFailureRatio with a Service dimension',
    'as declared',
    () =>
      Sli.businessFailureRatio({
        failures: new Metric({ namespace: 'Shop', metricName: 'PaymentsFailed', dimensionsMap: { Service: 'checkout' }, statistic: Stats.SUM }),
        attempts: new Metric({ namespace: 'Shop', metricName: 'Payments', dimensionsMap: { Service: 'checkout' }, statistic: Stats.SUM }),
      }),
  ],
  ['Sli.slowRequestRatio on custom metrics', 'as declared', () => Sli.slowRequestRatio({ slowRequests: countMetric('Slow'), totalRequests: requests() })],
  ['Sli.latency on a custom metric (metric-math numerator)', 'as declared', () => Sli.latency({ latency: shopLatency(), threshold: 300 })],
  ['Sli.logPattern without versionField', 'as declared', (s) => logs(s)],
  ['Sli.logPattern with totalMetric', 'as declared', (s) => logs(s, { totalMetric: true })],
  ['custom failures over the alias’s Invocations (one lacks the version)', 'as declared', mixed],
];
const ECS: Array<[string, Reads, (s: Stack) => Sli]> = [
  ['Sli.targetGroupAvailability(green)', 'per arm', (s) => Sli.targetGroupAvailability(green(s))],
  ['Sli.targetGroupLatency(green)', 'per arm', (s) => Sli.targetGroupLatency(green(s), Duration.millis(300))],
  ['Sli.errorRatio on custom metrics', 'as declared', () => custom()],
  ['Sli.agentSelfEvaluation without a version', 'as declared', () => Sli.agentSelfEvaluation({ service: 'support-agent' })],
  ['Sli.logPattern with versionField (ECS has no version to put in it)', 'as declared', (s) => logs(s, { versionField: '$.version' })],
  ['Sli.logPattern without versionField', 'as declared', (s) => logs(s)],
  ['Sli.latency on a custom metric (metric-math numerator)', 'as declared', () => Sli.latency({ latency: shopLatency(), threshold: 300 })],
];

/**
 * What the evaluator may put in an arm's query beyond the metric's declared dimensions, by what the
 * table says the SLI is (not by what the configuration claims): per arm, the arm's values in the
 * arm's dimensions (the SLI's own version dimension for `Version`); as declared, nothing.
 */
function armValues(reads: Reads, config: EvaluatorConfig, sloIndex: number, arm: ArmScope): Dimensions {
  if (reads === 'as declared') return {};
  const versionDimension = config.slos[sloIndex].versionDimension;
  return versionDimension === undefined ? arm.dimensions : { [versionDimension]: arm.dimensions.ExecutedVersion };
}

function check(built: Built, reads: Reads): void {
  const declared = alarmMetrics(built);
  const config = evaluatorConfig(built.stack, built.trigger as never);
  expect(config.slos.map((s) => s.declared === true)).toEqual([reads === 'as declared']);
  const arms = armsOf(config);
  const queries = buildMetricQueries(config, arms).filter((q) => q.metric);
  expect(queries.length).toBeGreaterThan(0);
  // Read as declared: one read (the new version's arm), the other arm would be the same series.
  expect(new Set(queries.map((q) => q.arm))).toEqual(new Set(reads === 'as declared' ? ['canary'] : ['canary', 'baseline']));
  for (const q of queries) {
    const m = q.metric!;
    const own = armValues(reads, config, q.sloIndex, arms.find((a) => a.arm === q.arm)!);
    // Per arm, the query carries the arm's own values: the new version's (or green's) traffic, the current one's on the baseline.
    for (const [name, value] of Object.entries(own)) expect(m.dimensions[name], `${q.id}: ${name}`).toBe(value);
    const twins = declared.filter((d) => d.namespace === m.namespace && d.metricName === m.metricName && d.stat === m.stat);
    expect(twins.length, `${q.id} reads ${m.namespace}/${m.metricName} (${m.stat}), which no rollback alarm reads`).toBeGreaterThan(0);
    const fits = (d: Dimensions) =>
      Object.keys(d).every((name) => name in m.dimensions) &&
      Object.entries(m.dimensions).every(([name, value]) => (name in own ? own[name] === value : d[name] === value));
    const said = `${q.id} asks for ${JSON.stringify(m.dimensions)}; the metric declares ${JSON.stringify(twins.map((t) => t.dimensions))}`;
    expect(twins.some((t) => fits(t.dimensions)), `${said}, the arm sets ${JSON.stringify(own)}`).toBe(true);
  }
}

describe('every query of the evaluator uses the metric’s declared dimensions, or the arm’s when the SLI is per version', () => {
  it.each(LAMBDA)('Lambda alias: %s, read %s', (_, reads, sli) => check(lambdaTrigger(sli), reads));
  it.each(ECS)('ECS service: %s, read %s', (_, reads, sli) => check(ecsTrigger(sli), reads));
});
