import { Names, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { FilterPattern, LogGroup, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { RollbackPlan, ServiceLevelObjective, Sli, SliKind, SliScope } from '../../lib';
import { buildMetricQueries } from '../../lib/core/metric-queries';
import { expectRtError } from '../core/helpers';
import { countMetric, newStack } from '../helpers';
import { alarmQueries, evaluatorConfig, hourAlarmQueries, lambdaTrigger, query } from './new-sli-fixtures';

type Filter = { Properties: { FilterPattern: string; LogGroupName: unknown; MetricTransformations: Array<Record<string, unknown>> } };

const ERRORS = FilterPattern.stringValue('$.level', '=', 'ERROR');
const LINES = FilterPattern.exists('$.version');

function filters(stack: Stack): Filter[] {
  return Object.values(Template.fromStack(stack).findResources('AWS::Logs::MetricFilter')) as Filter[];
}

/** The metric name prefix the SLI derives from its construct (unique in the app, hence the account). */
function unique(stack: Stack, id = 'Errors'): string {
  return Names.uniqueResourceName(stack.node.findChild(id), { maxLength: 200 });
}

function logSli(stack: Stack, props: Partial<Parameters<typeof Sli.logPattern>[2]> = {}, id = 'Errors'): Sli {
  const logGroup = (stack.node.tryFindChild('Logs') as LogGroup | undefined) ?? new LogGroup(stack, 'Logs');
  return Sli.logPattern(stack, id, { logGroup, badPattern: ERRORS, totalPattern: LINES, ...props });
}

describe('Sli.logPattern', () => {
  it('counts bad lines and all lines with two metric filters (value 1, default 0) and divides their sums', () => {
    const stack = newStack();
    const sli = logSli(stack);
    expect(sli.kind).toBe(SliKind.ERROR_RATIO);
    expect(sli.scope).toBe(SliScope.BLENDED);
    new ServiceLevelObjective(stack, 'Slo', { sli, objectivePercent: 99 });
    const logGroup = stack.resolve((stack.node.findChild('Logs') as LogGroup).logGroupName);
    expect(filters(stack)).toEqual([
      {
        Type: 'AWS::Logs::MetricFilter',
        Properties: {
          FilterPattern: '{ $.level = "ERROR" }',
          LogGroupName: logGroup,
          MetricTransformations: [{ MetricNamespace: 'RollbackTriggers/LogPatterns', MetricName: `${unique(stack)}BadLines`, MetricValue: '1', DefaultValue: 0 }],
        },
      },
      {
        Type: 'AWS::Logs::MetricFilter',
        Properties: {
          FilterPattern: '{ $.version = "*" }',
          LogGroupName: logGroup,
          MetricTransformations: [{ MetricNamespace: 'RollbackTriggers/LogPatterns', MetricName: `${unique(stack)}Lines`, MetricValue: '1', DefaultValue: 0 }],
        },
      },
    ]);
    const queries = hourAlarmQueries(stack);
    expect(query(queries, 'bad')).toEqual({ namespace: 'RollbackTriggers/LogPatterns', metricName: `${unique(stack)}BadLines`, stat: 'Sum', dimensions: {} });
    expect(query(queries, 'total')).toEqual({ namespace: 'RollbackTriggers/LogPatterns', metricName: `${unique(stack)}Lines`, stat: 'Sum', dimensions: {} });
    expect(sli.metricFilters).toHaveLength(2);
    expect(sli.metricFilters.every((f) => f instanceof MetricFilter && f.node.scope!.node.path === 'TestStack/Errors')).toBe(true);
  });

  it('divides by the service’s own count of events with totalMetric, in the namespace and under the names given', () => {
    const stack = newStack();
    const sli = logSli(stack, { totalPattern: undefined, totalMetric: countMetric('Requests'), metricNamespace: 'Shop/Logs', badMetricName: 'PaymentDeclinedInternal' });
    new ServiceLevelObjective(stack, 'Slo', { sli, objectivePercent: 99.5 });
    expect(filters(stack)).toHaveLength(1);
    const queries = hourAlarmQueries(stack);
    expect(query(queries, 'bad')).toEqual({ namespace: 'Shop/Logs', metricName: 'PaymentDeclinedInternal', stat: 'Sum', dimensions: {} });
    expect(query(queries, 'total')).toEqual({ namespace: 'Shop', metricName: 'Requests', stat: 'Sum', dimensions: {} });
    expect(sli.description).toBe('log lines matching { $.level = "ERROR" } / the given total metric');
  });

  it('publishes the counts per Version too with versionField: dimension from the line, no default value', () => {
    const stack = newStack();
    logSli(stack, { versionField: '$.version' });
    const byVersion = filters(stack).filter((f) => f.Properties.MetricTransformations[0].Dimensions);
    expect(byVersion.map((f) => [f.Properties.FilterPattern, f.Properties.MetricTransformations[0]])).toEqual([
      ['{ $.level = "ERROR" }', { MetricNamespace: 'RollbackTriggers/LogPatterns', MetricName: `${unique(stack)}BadLines`, MetricValue: '1', Dimensions: [{ Key: 'Version', Value: '$.version' }] }],
      ['{ $.version = "*" }', { MetricNamespace: 'RollbackTriggers/LogPatterns', MetricName: `${unique(stack)}Lines`, MetricValue: '1', Dimensions: [{ Key: 'Version', Value: '$.version' }] }],
    ]);
    expect(filters(stack)).toHaveLength(4);
  });

  it('takes a space-delimited field for a space-delimited pattern', () => {
    const stack = newStack();
    logSli(stack, {
      badPattern: FilterPattern.spaceDelimited('time', 'version', 'level', 'message').whereString('level', '=', 'ERROR'),
      totalPattern: FilterPattern.spaceDelimited('time', 'version', 'level', 'message'),
      versionField: '$version',
    });
    expect(filters(stack).filter((f) => f.Properties.MetricTransformations[0].Dimensions).map((f) => f.Properties.MetricTransformations[0].Dimensions)).toEqual([
      [{ Key: 'Version', Value: '$version' }],
      [{ Key: 'Version', Value: '$version' }],
    ]);
  });

  it('describes both patterns in the plan, cut to 60 characters each', () => {
    const stack = newStack();
    const long = FilterPattern.literal(`"${'x'.repeat(100)}"`);
    const sli = logSli(stack, { badPattern: long, totalPattern: FilterPattern.allEvents() });
    expect(sli.description).toBe(`log lines matching "${'x'.repeat(56)}... / all lines`);
    new ServiceLevelObjective(stack, 'Slo', { sli, objectivePercent: 99 });
    expect(RollbackPlan.of(stack).render()).toContain(`SLO Slo: 99 % over 30 d — ${sli.description} (blended traffic)`);
  });

  describe('refuses props that CloudWatch Logs would refuse or that would count nonsense', () => {
    const cases: Array<[string, (stack: Stack) => unknown, string, RegExp]> = [
      ['an empty bad pattern', (s) => logSli(s, { badPattern: FilterPattern.allEvents() }), 'RT144', /badPattern must not be empty: an empty filter pattern matches every log event, so every line would count as bad/],
      ['a blank bad pattern', (s) => logSli(s, { badPattern: FilterPattern.literal('  ') }), 'RT144', /badPattern must not be empty/],
      ['a bad pattern over 1,024 characters', (s) => logSli(s, { badPattern: FilterPattern.literal('x'.repeat(1025)) }), 'RT144', /badPattern is 1025 characters, above the 1,024/],
      ['no bad pattern', (s) => logSli(s, { badPattern: undefined }), 'RT144', /badPattern must be a filter pattern .* got undefined/],
      ['a total pattern over 1,024 characters', (s) => logSli(s, { totalPattern: FilterPattern.literal('y'.repeat(2000)) }), 'RT144', /totalPattern is 2000 characters/],
      ['both totals', (s) => logSli(s, { totalMetric: countMetric('Requests') }), 'RT146', /needs exactly one of totalPattern .* and totalMetric .* got both/],
      ['neither total', (s) => logSli(s, { totalPattern: undefined }), 'RT146', /got neither/],
      ['a namespace with a colon', (s) => logSli(s, { metricNamespace: 'Shop:Logs' }), 'RT141', /metricNamespace must be 1 to 255 printable ASCII characters without ':', '\*' or '\$'.*got "Shop:Logs"/],
      ['an AWS namespace', (s) => logSli(s, { metricNamespace: 'AWS/Logs' }), 'RT141', /not starting with "AWS\/"/],
      ['a namespace over 255 characters', (s) => logSli(s, { metricNamespace: 'n'.repeat(256) }), 'RT141', /metricNamespace must be 1 to 255/],
      ['a metric name with a star', (s) => logSli(s, { badMetricName: 'Errors*' }), 'RT145', /badMetricName must be 1 to 255 characters without ':', '\*' or '\$'.*got "Errors\*"/],
      ['an empty metric name', (s) => logSli(s, { totalMetricName: '' }), 'RT145', /totalMetricName must be 1 to 255 characters/],
      ['one name for both metrics', (s) => logSli(s, { badMetricName: 'Lines', totalMetricName: 'Lines' }), 'RT145', /are both "Lines": the bad lines and all lines must be two metrics/],
      ['versionField with totalMetric', (s) => logSli(s, { totalPattern: undefined, totalMetric: countMetric('Requests'), versionField: '$.version' }), 'RT147', /needs totalPattern, not totalMetric/],
      ['versionField on a term pattern', (s) => logSli(s, { badPattern: FilterPattern.literal('ERROR'), versionField: '$.version' }), 'RT147', /badPattern "ERROR" is a term pattern: CloudWatch Logs takes dimension values only from fields of JSON .* or space-delimited .* patterns/],
      ['versionField with every line as total', (s) => logSli(s, { totalPattern: FilterPattern.allEvents(), versionField: '$.version' }), 'RT147', /totalPattern "every line" is a term pattern/],
      ['a space-delimited field on a JSON pattern', (s) => logSli(s, { versionField: '$version' }), 'RT147', /"\$version" is a space-delimited field, but badPattern .* is a json pattern/],
      ['a versionField that selects nothing', (s) => logSli(s, { versionField: 'version' }), 'RT147', /must select a field of the line: \$\.version for a JSON pattern, \$version for a space-delimited one, got "version"/],
      ['no scope', () => Sli.logPattern(undefined as never, 'Errors', { logGroup: new LogGroup(newStack(), 'Logs'), badPattern: ERRORS, totalPattern: LINES }), 'RT143', /needs a construct scope and a non-empty id/],
      ['no log group', (s) => Sli.logPattern(s, 'Errors', { badPattern: ERRORS, totalPattern: LINES } as never), 'RT143', /logGroup must be the log group whose lines are counted/],
    ];
    it.each(cases)('%s', (_name, build, code, message) => {
      expect(expectRtError(() => build(newStack()), code).message).toMatch(message);
    });

    it('leaves patterns and names known only at deploy time to CloudFormation', () => {
      const stack = newStack();
      expect(() => logSli(stack, { badPattern: FilterPattern.literal(Token.asString({ Ref: 'Pattern' })), badMetricName: Token.asString({ Ref: 'Name' }) })).not.toThrow();
    });
  });
});

describe('on a RollbackTrigger of a Lambda alias', () => {
  it("reads the deployed version's own lines with versionField, against the rest of the lines", () => {
    const { stack, trigger, fn } = lambdaTrigger((s) => logSli(s, { versionField: '$.version' }));
    const queries = alarmQueries(stack, trigger.rollbackAlarms[0] as Alarm);
    const deployed = stack.resolve(fn.currentVersion.version);
    expect(query(queries, 'bad')).toEqual({ namespace: 'RollbackTriggers/LogPatterns', metricName: `${unique(stack)}BadLines`, stat: 'Sum', dimensions: { Version: deployed } });
    expect(query(queries, 'total').dimensions).toEqual({ Version: deployed });
    expect(query(queries, 'basebad').dimensions).toEqual({});
    expect(trigger._policy.alarms).toEqual([expect.objectContaining({ scope: 'version', baseline: { mode: 'rest-of-blended', factor: 2, shift: { kind: 'canary', share: 0.1 } } })]);
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('measures all traffic blended'));
    // The evaluator reads each arm's version into Version.
    const config = evaluatorConfig(stack, trigger);
    expect(config.slos[0].versionDimension).toBe('Version');
    const read = buildMetricQueries(config, [
      { arm: 'canary', dimensions: { ExecutedVersion: '7' } },
      { arm: 'baseline', dimensions: { ExecutedVersion: '6' } },
    ]);
    expect(read.map((q) => q.metric!.dimensions)).toEqual([{ Version: '7' }, { Version: '7' }, { Version: '6' }, { Version: '6' }]);
  });

  it('is treated as any blended SLI without versionField: the blended warning, one alarm on the SLI as declared, no baseline, no version dimension for the evaluator', () => {
    const logs = lambdaTrigger((s) => logSli(s));
    const raw = lambdaTrigger(() => Sli.errorRatio({ badEvents: countMetric('Failed'), totalEvents: countMetric('Requests') }));
    for (const { stack } of [logs, raw]) Annotations.fromStack(stack).hasWarning('/Svc/Rollback', Match.stringLikeRegexp('SLO Slo measures all traffic blended: a 10 % canary'));
    const shape = (t: typeof logs) => t.trigger._policy.alarms.map(({ scope, baseline, metricCount, windowSeconds }) => ({ scope, baseline, metricCount, windowSeconds }));
    expect(shape(logs)).toEqual(shape(raw));
    expect(shape(logs)).toEqual([{ scope: 'declared', baseline: undefined, metricCount: 2, windowSeconds: 300 }]);
    expect(evaluatorConfig(logs.stack, logs.trigger).slos[0].versionDimension).toBeUndefined();
    expect(evaluatorConfig(raw.stack, raw.trigger).slos[0].versionDimension).toBeUndefined();
  });
});
