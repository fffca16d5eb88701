import { Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { Alarm, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { describe, expect, it } from 'vitest';
import { HeartbeatTrigger, RollbackPlan, ServiceLevelObjective, Sli, SliKind, SliScope } from '../../lib';
import { buildMetricQueries } from '../../lib/core/metric-queries';
import { AGENT_DIMENSIONS, AGENT_METRICS, DEFAULT_AGENT_NAMESPACE, DEFAULT_CONFIDENCE_THRESHOLD, recordEvaluation } from '../../lib/runtime/evaluation';
import { AGENT_DEFAULT_CONFIDENCE_THRESHOLD, AGENT_DEFAULT_NAMESPACE, AGENT_SLI_DIMENSIONS, AGENT_SLI_METRICS } from '../../lib/slo/agent-self-evaluation';
import { expectRtError } from '../core/helpers';
import { newStack } from '../helpers';
import { alarmQueries, ecsTrigger, evaluatorConfig, hourAlarmQueries, lambdaTrigger, query, versionPlaceholder } from './new-sli-fixtures';

const agent = (props: Partial<Parameters<typeof Sli.agentSelfEvaluation>[0]> = {}) => Sli.agentSelfEvaluation({ service: 'support-agent', ...props });

/** Every datapoint one Embedded Metric Format line publishes: each metric of each directive under each of its dimension sets. */
function emfDatapoints(line: string) {
  const doc = JSON.parse(line) as Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }> } };
  return doc._aws.CloudWatchMetrics.flatMap((d) =>
    d.Dimensions.flatMap((set) =>
      d.Metrics.map((m) => ({ namespace: d.Namespace, metricName: m.Name, dimensions: Object.fromEntries(set.map((name) => [name, doc[name]])), value: doc[m.Name] })),
    ),
  );
}

describe('Sli.agentSelfEvaluation', () => {
  it('divides BadEvaluations by Evaluations, Sum, of every version of the agent by default', () => {
    const stack = newStack();
    const sli = agent();
    expect(sli.kind).toBe(SliKind.BUSINESS_FAILURE);
    expect(sli.scope).toBe(SliScope.BLENDED);
    new ServiceLevelObjective(stack, 'Slo', { sli, objectivePercent: 99 });
    const queries = hourAlarmQueries(stack);
    expect(query(queries, 'bad')).toEqual({ namespace: 'RollbackTriggers/Agent', metricName: 'BadEvaluations', stat: 'Sum', dimensions: { Service: 'support-agent' } });
    expect(query(queries, 'total')).toEqual({ namespace: 'RollbackTriggers/Agent', metricName: 'Evaluations', stat: 'Sum', dimensions: { Service: 'support-agent' } });
  });

  it('reads one version with version (the ECS task definition revision or image tag), in the namespace given', () => {
    const stack = newStack();
    const sli = agent({ metricNamespace: 'Acme/Agents', version: 'v42' });
    expect(sli.scope).toBe(SliScope.VERSION);
    new ServiceLevelObjective(stack, 'Slo', { sli, objectivePercent: 99 });
    expect(query(hourAlarmQueries(stack), 'bad')).toEqual({ namespace: 'Acme/Agents', metricName: 'BadEvaluations', stat: 'Sum', dimensions: { Service: 'support-agent', Version: 'v42' } });
  });

  it('prints the confidence threshold the agent applies in its description, the alarm descriptions and the plan', () => {
    const stack = newStack();
    const sli = agent({ confidenceThreshold: 0.8 });
    expect(sli.description).toBe(
      "self-evaluations of agent support-agent (every version) that are bad (confidence below 0.8 or output failing its schema, as the agent's recordEvaluation decides) / self-evaluations",
    );
    const slo = new ServiceLevelObjective(stack, 'Slo', { sli, objectivePercent: 99 });
    expect(slo._policy.sli.description).toBe(sli.description);
    expect(RollbackPlan.of(stack).render()).toContain(`SLO Slo: 99 % over 30 d — ${sli.description} (blended traffic)`);
    expect(agent().description).toContain('confidence below 0.7');
    expect(agent({ version: 'v42' }).description).toContain('(version v42)');
  });

  it('does not print a service known only at deploy time (the policy is plain text)', () => {
    const stack = newStack();
    const sli = agent({ service: Token.asString({ Ref: 'AgentName' }) });
    expect(sli.description).toMatch(/^self-evaluations of the agent \(every version\)/);
    new ServiceLevelObjective(stack, 'Slo', { sli, objectivePercent: 99 });
    expect(query(hourAlarmQueries(stack), 'bad').dimensions).toEqual({ Service: { Ref: 'AgentName' } });
  });

  describe('refuses props the agent could not write or the SLI could not match', () => {
    it.each([
      ['an empty service', { service: '' }, 'RT140', /service must be the Service dimension .*1 to 1,024 printable ASCII characters, got 0 characters/],
      ['a blank service', { service: '   ' }, 'RT140', /service .* not blank, got "   "/],
      ['a non-ASCII service', { service: 'agent-é' }, 'RT140', /service .* got "agent-é"/],
      ['a 1,025-character service', { service: 'a'.repeat(1025) }, 'RT140', /got 1025 characters/],
      ['no service', { service: undefined }, 'RT140', /service must be .* got nothing/],
      ['an empty version', { version: '' }, 'RT140', /version must be the Version the release's tasks write/],
      ['a namespace of AWS', { metricNamespace: 'AWS/Lambda' }, 'RT141', /metricNamespace .* not starting with "AWS\/" \(reserved for AWS services\), got "AWS\/Lambda" — omit it for "RollbackTriggers\/Agent"/],
      ['a namespace starting with a colon', { metricNamespace: ':agents' }, 'RT141', /not starting with ':'/],
      ['an empty namespace', { metricNamespace: '' }, 'RT141', /got 0 characters/],
      ['a threshold of 0', { confidenceThreshold: 0 }, 'RT142', /confidenceThreshold must be above 0 and at most 1 .*got 0 — use the threshold the agent passes to recordEvaluation \(0\.7 by default\)/],
      ['a threshold above 1', { confidenceThreshold: 1.5 }, 'RT142', /got 1\.5/],
      ['a threshold in percent', { confidenceThreshold: 70 }, 'RT142', /got 70/],
      ['a NaN threshold', { confidenceThreshold: NaN }, 'RT142', /got NaN/],
      ['a threshold known only at deploy time', { confidenceThreshold: Token.asNumber({ Ref: 'Threshold' }) }, 'RT142', /must be a literal number/],
    ])('%s', (_name, props, code, message) => {
      const error = expectRtError(() => Sli.agentSelfEvaluation({ service: 'support-agent', ...(props as object) } as never), code);
      expect(error.message).toMatch(message);
    });

    it('accepts a threshold of exactly 1 (every evaluation below full confidence is bad)', () => {
      expect(agent({ confidenceThreshold: 1 }).description).toContain('confidence below 1 ');
    });

    it('names the prop at fault for tools', () => {
      expect(expectRtError(() => agent({ confidenceThreshold: 2 }), 'RT142').prop).toBe('confidenceThreshold');
      expect(expectRtError(() => agent({ metricNamespace: 'AWS/X' }), 'RT141').prop).toBe('metricNamespace');
      expect(expectRtError(() => agent({ version: ' ' }), 'RT140').prop).toBe('version');
    });
  });
});

describe('the metric contract with the runtime helper (lib/runtime/evaluation.ts)', () => {
  it('names the same namespace, metrics, dimensions and default threshold on both sides', () => {
    expect(AGENT_DEFAULT_NAMESPACE).toBe(DEFAULT_AGENT_NAMESPACE);
    expect(AGENT_DEFAULT_CONFIDENCE_THRESHOLD).toBe(DEFAULT_CONFIDENCE_THRESHOLD);
    expect(AGENT_SLI_METRICS).toEqual({ bad: AGENT_METRICS.BAD_EVALUATIONS, total: AGENT_METRICS.EVALUATIONS });
    expect(AGENT_SLI_DIMENSIONS).toEqual({ service: AGENT_DIMENSIONS.SERVICE, version: AGENT_DIMENSIONS.VERSION });
  });

  it('reads, blended and per version, exactly the datapoints recordEvaluation writes, and counts a low confidence and a schema failure as bad', () => {
    const lines: string[] = [];
    const record = (confidence: number, schemaValid?: boolean) =>
      recordEvaluation({ service: 'support-agent', version: '7', confidence, schemaValid, threshold: 0.8, sink: (line) => lines.push(line) });
    record(0.9, true);
    record(0.79);
    record(0.95, false);
    const points = lines.map(emfDatapoints);
    // What the rollback alarm reads of version 7, and what the SLO reads of every version.
    const stack = newStack();
    const perVersion = lambdaTrigger(() => agent({ confidenceThreshold: 0.8 }));
    const own = alarmQueries(perVersion.stack, perVersion.trigger.rollbackAlarms[0] as Alarm);
    new ServiceLevelObjective(stack, 'Slo', { sli: agent({ confidenceThreshold: 0.8 }), objectivePercent: 99 });
    const blended = hourAlarmQueries(stack);
    const read = (q: ReturnType<typeof query>, version?: string) =>
      points.map((p) => p.find((d) => d.namespace === q.namespace && d.metricName === q.metricName && JSON.stringify(d.dimensions) === JSON.stringify(version === undefined ? q.dimensions : { ...q.dimensions, Version: version }))?.value);
    const versionOf = (q: ReturnType<typeof query>) => ({ ...q, dimensions: { Service: q.dimensions.Service } });
    // The rollback alarm's Version is the deployed version (a CloudFormation attribute): read with 7.
    expect(read(versionOf(query(own, 'bad')), '7')).toEqual([0, 1, 1]);
    expect(read(versionOf(query(own, 'total')), '7')).toEqual([1, 1, 1]);
    expect(read(query(blended, 'bad'))).toEqual([0, 1, 1]);
    expect(read(query(blended, 'total'))).toEqual([1, 1, 1]);
  });
});

describe('on a RollbackTrigger of a Lambda alias', () => {
  const built = lambdaTrigger(() => agent());

  it("reads the deployed version's own evaluations (Version = the version CodeDeploy shifts to) against the rest of the agent's, without the blended warning", () => {
    const { stack, trigger, fn } = built;
    const queries = alarmQueries(stack, trigger.rollbackAlarms[0] as Alarm);
    const deployed = stack.resolve(fn.currentVersion.version);
    expect(query(queries, 'bad')).toEqual({ namespace: 'RollbackTriggers/Agent', metricName: 'BadEvaluations', stat: 'Sum', dimensions: { Service: 'support-agent', Version: deployed } });
    expect(query(queries, 'total').dimensions).toEqual({ Service: 'support-agent', Version: deployed });
    // The baseline: every version of the agent ([Service]), from which the alarm subtracts the new one.
    expect(query(queries, 'basebad')).toEqual({ namespace: 'RollbackTriggers/Agent', metricName: 'BadEvaluations', stat: 'Sum', dimensions: { Service: 'support-agent' } });
    expect(query(queries, 'basetotal').dimensions).toEqual({ Service: 'support-agent' });
    expect(trigger._policy.alarms).toEqual([expect.objectContaining({ slo: 'Slo', scope: 'version', baseline: { mode: 'rest-of-blended', factor: 2, shift: { kind: 'canary', share: 0.1 } }, metricCount: 4 })]);
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('measures all traffic blended'));
  });

  it("has the evaluator read each arm's version in the Version dimension (not ExecutedVersion), from the alarm's metrics", () => {
    const { stack, trigger, fn } = built;
    const config = evaluatorConfig(stack, trigger);
    expect(config.slos).toHaveLength(1);
    expect(config.slos[0]).toMatchObject({
      name: 'Slo',
      versionDimension: 'Version',
      numerator: { namespace: 'RollbackTriggers/Agent', metricName: 'BadEvaluations', stat: 'Sum' },
      total: { namespace: 'RollbackTriggers/Agent', metricName: 'Evaluations', stat: 'Sum' },
    });
    expect(config.dimensionSets[config.slos[0].total.dimensionSet]).toEqual({ Service: 'support-agent', Version: versionPlaceholder(stack, fn.currentVersion) });
    // As the evaluator's tick builds its GetMetricData call for version 7 replacing version 6.
    const queries = buildMetricQueries(config, [
      { arm: 'canary', dimensions: { ExecutedVersion: '7' } },
      { arm: 'baseline', dimensions: { ExecutedVersion: '6' } },
    ]);
    expect(queries.map((q) => [q.id, q.metric])).toEqual([
      ['s0_canary_n', { namespace: 'RollbackTriggers/Agent', metricName: 'BadEvaluations', stat: 'Sum', dimensions: { Service: 'support-agent', Version: '7' } }],
      ['s0_canary_t', { namespace: 'RollbackTriggers/Agent', metricName: 'Evaluations', stat: 'Sum', dimensions: { Service: 'support-agent', Version: '7' } }],
      ['s0_baseline_n', { namespace: 'RollbackTriggers/Agent', metricName: 'BadEvaluations', stat: 'Sum', dimensions: { Service: 'support-agent', Version: '6' } }],
      ['s0_baseline_t', { namespace: 'RollbackTriggers/Agent', metricName: 'Evaluations', stat: 'Sum', dimensions: { Service: 'support-agent', Version: '6' } }],
    ]);
    // The same metrics (namespace, name, statistic, dimension names) as the rollback alarm's own counts.
    const own = alarmQueries(stack, trigger.rollbackAlarms[0] as Alarm);
    for (const [id, q] of [
      ['bad', queries[0].metric!],
      ['total', queries[1].metric!],
    ] as const) {
      const alarm = query(own, id);
      expect([q.namespace, q.metricName, q.stat, Object.keys(q.dimensions).sort()]).toEqual([alarm.namespace, alarm.metricName, alarm.stat, Object.keys(alarm.dimensions).sort()]);
    }
  });
});

describe('on a RollbackTrigger of an ECS service', () => {
  it('refuses a version declared at synth: CodeDeploy releases task sets the app does not name, so the trigger could judge an older version (RT148)', () => {
    const error = expectRtError(() => ecsTrigger(() => agent({ version: 'v42' })), 'RT148');
    expect(error.message).toMatch(/objectives\[0\]: SLO Slo's SLI reads the version declared at synth .* declare the SLI without version \(blended\)/);
  });

  it('refuses a per-version heartbeat among the alarm triggers: no worker knows the task set id the evaluator would look for (RT351)', () => {
    const beats = (stack: Stack) => ({
      alarmTriggers: [
        new HeartbeatTrigger(stack, 'Beat', { metric: new Metric({ namespace: 'Workers', metricName: 'Heartbeat', dimensionsMap: { Service: 'agent' } }), versionDimension: 'Version' }),
      ],
    });
    expect(expectRtError(() => ecsTrigger(() => agent(), 99, beats), 'RT351').message).toMatch(/heartbeat Beat has versionDimension "Version", but on ECS .* leave versionDimension out on ECS/);
    const without = (stack: Stack) => ({
      alarmTriggers: [new HeartbeatTrigger(stack, 'Beat', { metric: new Metric({ namespace: 'Workers', metricName: 'Heartbeat', dimensionsMap: { Service: 'agent' } }) })],
    });
    expect(() => ecsTrigger(() => agent(), 99, without)).not.toThrow();
  });

  it('warns, as for any blended SLI, when no version is declared', () => {
    const { stack, trigger } = ecsTrigger(() => agent());
    expect(trigger._policy.alarms).toEqual([expect.objectContaining({ scope: 'declared' })]);
    Annotations.fromStack(stack).hasWarning('/Ecs/Rollback', Match.stringLikeRegexp('SLO Slo measures all traffic blended'));
  });
});

describe('construct ids', () => {
  it('creates nothing itself: the SLO and the trigger own every alarm', () => {
    const stack = newStack();
    const before = stack.node.findAll().length;
    agent();
    expect(stack.node.findAll().length).toBe(before);
    expect(agent().metricFilters).toEqual([]);
  });

  it('two SLOs on one agent with the same objective are two SLOs, with their own alarms', () => {
    const stack: Stack = newStack();
    new ServiceLevelObjective(stack, 'A', { sli: agent(), objectivePercent: 99 });
    new ServiceLevelObjective(stack, 'B', { sli: agent(), objectivePercent: 99 });
    expect(RollbackPlan.of(stack).toJson().slos.map((s: { name: string }) => s.name)).toEqual(['A', 'B']);
  });
});
