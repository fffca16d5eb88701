import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { describe, expect, it } from 'vitest';
import { AGENT_CODE, AGENT_CONFIDENCE_THRESHOLD, AGENT_SERVICE, AgentServiceStack } from '../../examples/agent-service';
import { readSeriesFile } from '../../lib/cli/series-file';
import { simulate } from '../../lib/core/simulator';
import { recordEvaluation } from '../../lib/runtime/evaluation';
import { run, tempDir } from '../cli/simulate-helpers';
import { policyOf } from '../core/simulator/fixtures';
import { validationApp } from '../helpers';
import { alarmQueries, query } from '../slo/new-sli-fixtures';

const SERIES = join(__dirname, '..', '..', 'examples', 'series', 'agent-canary.json');

function agentStack(app: App = new App()): AgentServiceStack {
  return new AgentServiceStack(app, 'AgentService');
}

/** Every datapoint of one Embedded Metric Format line, sorted: namespace, metric, dimensions, value. */
function datapoints(line: string): string[] {
  const doc = JSON.parse(line) as Record<string, unknown> & { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }> } };
  return doc._aws.CloudWatchMetrics.flatMap((d) =>
    d.Dimensions.flatMap((set) => d.Metrics.map((m) => JSON.stringify([d.Namespace, m.Name, Object.fromEntries(set.map((n) => [n, doc[n]])), doc[m.Name]]))),
  ).sort();
}

describe('example: agent service', () => {
  it('passes CloudFormation schema validation and cdk-nag AwsSolutions, Serverless and NIST 800-53 rev 5 with no unacknowledged finding', () => {
    const { app, report } = validationApp();
    agentStack(app);
    expect(report()).toEqual([]);
  });

  it("attaches two rollback alarms on the deployed version's own traffic: Lambda errors (ExecutedVersion) and self-evaluations (Version)", () => {
    const stack = agentStack();
    const alias = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Alias'))[0] as { Properties: { FunctionVersion: unknown } };
    const [availability, selfEvaluation] = stack.rollbackTrigger.rollbackAlarms.map((a) => alarmQueries(stack, a as Alarm));
    expect(query(availability, 'bad').dimensions.ExecutedVersion).toEqual(alias.Properties.FunctionVersion);
    expect(query(selfEvaluation, 'bad')).toEqual({
      namespace: 'RollbackTriggers/Agent',
      metricName: 'BadEvaluations',
      stat: 'Sum',
      dimensions: { Service: AGENT_SERVICE, Version: alias.Properties.FunctionVersion },
    });
    expect(stack.rollbackTrigger._policy.alarms.map((a) => [a.slo, a.scope, a.minEvents])).toEqual([
      ['Availability', 'version', 70],
      ['SelfEvaluation', 'version', 7],
    ]);
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('blended'));
  });

  it("the agent's placeholder code writes the line recordEvaluation writes: the datapoints the SLI reads", () => {
    const lines: string[] = [];
    const sandbox = { exports: {} as { handler?: (event: unknown) => Promise<{ confidence: number }> }, process: { env: { AWS_LAMBDA_FUNCTION_VERSION: '3' }, stdout: { write: (s: string) => lines.push(s) } }, Date };
    runInNewContext(AGENT_CODE, sandbox);
    return sandbox.exports.handler!({}).then((answer) => {
      expect(lines).toHaveLength(1);
      expect(lines[0].endsWith('\n')).toBe(true);
      const recorded = recordEvaluation({ service: AGENT_SERVICE, version: '3', confidence: answer.confidence, schemaValid: true, threshold: AGENT_CONFIDENCE_THRESHOLD, sink: () => undefined });
      expect(datapoints(lines[0])).toEqual(datapoints(recorded.line));
      // Among them, what the SLO and the rollback alarm read.
      expect(datapoints(lines[0])).toEqual(
        expect.arrayContaining([
          JSON.stringify(['RollbackTriggers/Agent', 'Evaluations', { Service: AGENT_SERVICE, Version: '3' }, 1]),
          JSON.stringify(['RollbackTriggers/Agent', 'BadEvaluations', { Service: AGENT_SERVICE }, 0]),
        ]),
      );
    });
  });

  it('rolls back the example series through its own synthesized policy: the self-evaluations, not the Lambda errors', () => {
    const stack = agentStack();
    const series = readSeriesFile(SERIES);
    const result = simulate({ policy: policyOf(stack), series: series.series, releaseMinute: series.releaseMinute!, deployment: { kind: 'canary', percent: 10, intervalMinutes: 5, bakeMinutes: 10 } });
    expect(result.outcome).toMatchObject({ path: 'alarm', minute: 62, verdict: 'fail', rollback: true, source: 'AgentService/Rollback/SelfEvaluation/version/page-1h' });
    expect(result.paths.find((p) => p.path === 'evaluator')).toMatchObject({ verdict: 'fail', rollback: true, source: 'SelfEvaluation' });
    // Not a single Lambda error: the availability rollback alarm never burns.
    expect(result.minutes.every((m) => (m.burnRates['AgentService/Rollback/Availability/version/page-1h'] ?? 0) === 0)).toBe(true);
  });

  it('is what `rollback-triggers simulate --assembly` replays from the synthesized app', () => {
    const tmp = tempDir('rt-agent-');
    try {
      const app = new App({ outdir: tmp.dir });
      agentStack(app);
      app.synth();
      const { code, out, err } = run(['simulate', SERIES, '--assembly', tmp.dir, '--stack', 'AgentService']);
      expect(err).toBe('');
      expect(code).toBe(0);
      expect(out).toMatch(/^Outcome: ROLLED BACK at minute 62 \(2 min after the release\) — decided by the alarm path \(fail\), AgentService\/Rollback\/SelfEvaluation\/version\/page-1h/m);
      const plan = run(['plan', tmp.dir]);
      expect(plan.code).toBe(0);
      expect(plan.out).toContain(
        "SLO SelfEvaluation: 99 % over 30 d — self-evaluations of agent support-agent (every version) that are bad (confidence below 0.7 or output failing its schema, as the agent's recordEvaluation decides) / self-evaluations (blended traffic)",
      );
    } finally {
      tmp.remove();
    }
  });
});
