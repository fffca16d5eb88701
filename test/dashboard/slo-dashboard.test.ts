import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { LambdaDeploymentConfig, LambdaDeploymentGroup } from 'aws-cdk-lib/aws-codedeploy';
import { Alias } from 'aws-cdk-lib/aws-lambda';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { eventBridgeAudit } from '../../lambda/shared/audit';
import { RollbackTarget, RollbackTrigger, ServiceLevelObjective, Sli, SloDashboard } from '../../lib';
import { AUDIT_EVENT_SOURCE, AuditDetailType, auditEvent, type AuditEventDetail } from '../../lib/core';
import { DECISION_COLUMNS, DECISION_ROWS } from '../../lib/dashboard/decisions';
import { countMetric, lambdaCanary, lambdaFunction, liveAlias, newStack } from '../helpers';
import { type Body, type Widget, arnPlaceholder, dashboardBody, periodOf, refPlaceholder, rowsOf, widgetsOfType } from './body';
import { type LogEvent, flatten, runQuery } from './logs-insights';

/** A Lambda canary with its 99.9 % SLO and a rollback trigger on it. */
function canaryWithTrigger(stack: Stack = newStack()) {
  const f = lambdaCanary(stack);
  const trigger = new RollbackTrigger(f.stack, 'Rollback', { target: RollbackTarget.lambdaAlias({ deploymentGroup: f.group, alias: f.alias }), objectives: [f.slo] });
  return { ...f, trigger };
}

/** A Lambda alias with a 99.9 % SLO, and nothing else (no deployment group). */
function sloOnly(stack: Stack = newStack()) {
  const alias = liveAlias(stack);
  const slo = new ServiceLevelObjective(stack, 'Availability', { sli: Sli.lambdaAvailability(alias), objectivePercent: 99.9 });
  return { stack, alias, slo };
}

/** A second function, alias, deployment group, SLO and trigger in the same stack. */
function secondCanary(stack: Stack) {
  const fn = lambdaFunction(stack, 'Fn2');
  const alias = new Alias(stack, 'Live2', { aliasName: 'live', version: fn.currentVersion });
  const group = new LambdaDeploymentGroup(stack, 'Group2', {
    alias,
    deploymentConfig: LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
    autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
  });
  const slo = new ServiceLevelObjective(stack, 'Availability2', { sli: Sli.lambdaAvailability(alias), objectivePercent: 99.5 });
  const trigger = new RollbackTrigger(stack, 'Rollback2', { target: RollbackTarget.lambdaAlias({ deploymentGroup: group, alias }), objectives: [slo] });
  return { fn, alias, group, slo, trigger };
}

function burnRateGraphs(body: Body): Widget[] {
  return widgetsOfType(body, 'metric').filter((w) => w.properties.view === 'timeSeries');
}

/** The visible lines of a graph (the expressions), without the counts they read. */
function lines(widget: Widget) {
  return rowsOf(widget).filter((r) => r.expression !== undefined && r.visible !== false);
}

/** A burn-rate line's expression with the query ids as the SLO's own alarms name them (`total_69ad3f1865_300` → `total`). */
function alarmIds(expression: string): string {
  return expression.replace(/\b([a-z][A-Za-z0-9]*)_[0-9a-f]{10}_\d+\b/g, '$1');
}

describe('SloDashboard in its default configuration', () => {
  it('renders one dashboard with a CloudFormation-generated name, reading every graph at its own period over the last 6 hours (snapshot)', () => {
    const { stack, slo, trigger } = canaryWithTrigger();
    const dashboard = new SloDashboard(stack, 'Dashboard', { objectives: [slo], triggers: [trigger] });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: Match.absent() });
    const body = dashboardBody(stack, dashboard);
    expect(body).toMatchObject({ start: '-PT6H', periodOverride: 'inherit' });
    expect(body.widgets.map((w) => [w.type, w.x, w.y, w.width, w.height])).toEqual([
      ['text', 0, 0, 24, 3],
      ['metric', 0, 3, 16, 6],
      ['metric', 16, 3, 8, 6],
      ['alarm', 0, 9, 8, 6],
      ['log', 8, 9, 16, 6],
    ]);
    expect(body).toMatchSnapshot();
  });

  it('exposes the dashboard, its name and what it shows', () => {
    const { stack, slo, trigger } = canaryWithTrigger();
    const dashboard = new SloDashboard(stack, 'Dashboard', { objectives: [slo], triggers: [trigger] });
    expect(dashboard.objectives).toEqual([slo]);
    expect(dashboard.triggers).toEqual([trigger]);
    expect(stack.resolve(dashboard.dashboardName)).toEqual({ Ref: stack.getLogicalId(dashboard.dashboard.node.defaultChild as any) });
    expect(dashboard.decisionLogGroup).toBeInstanceOf(LogGroup);
  });
});

describe('per SLO: the burn rate of every tier window against the tier thresholds', () => {
  const { stack, slo } = sloOnly();
  const dashboard = new SloDashboard(stack, 'Dashboard', { objectives: [slo] });
  const body = dashboardBody(stack, dashboard);
  const [graph] = burnRateGraphs(body);
  const alarms = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm')) as Array<{ Properties: Record<string, any> }>;
  /** Each window alarm of the SLO: its period (the window), its threshold and its expression. */
  const windowAlarms = alarms.map((a) => ({
    period: a.Properties.Metrics.find((m: any) => m.MetricStat).MetricStat.Period as number,
    threshold: a.Properties.Threshold as number,
    expression: a.Properties.Metrics.find((m: any) => m.ReturnData).Expression as string,
  }));

  it('draws one horizontal line per tier, at its factor, red for pages and orange for tickets', () => {
    expect(burnRateGraphs(body)).toHaveLength(1);
    expect(graph.properties.annotations.horizontal).toEqual([
      { value: 14.4, label: 'page-1h: 14.4×', color: '#d62728', yAxis: 'left' },
      { value: 6, label: 'page-6h: 6×', color: '#d62728', yAxis: 'left' },
      { value: 3, label: 'ticket-1d: 3×', color: '#ff7f0e', yAxis: 'left' },
      { value: 1, label: 'ticket-3d: 1×', color: '#ff7f0e', yAxis: 'left' },
    ]);
    expect(new Set(graph.properties.annotations.horizontal.map((a: { value: number }) => a.value))).toEqual(new Set(windowAlarms.map((a) => a.threshold)));
  });

  it("shows each window once, shortest first, at the window's own period: the workbook's 6 h is page-6h's long and ticket-3d's short window", () => {
    expect(lines(graph).map((l) => periodOf(graph, l))).toEqual([300, 1_800, 3_600, 7_200, 21_600, 86_400, 259_200]);
    expect(lines(graph).map((l) => l.label)).toEqual([
      '5 min: page-1h short (≥ 70 events)',
      '30 min: page-6h short (≥ 167 events)',
      '1 h: page-1h long (≥ 70 events)',
      '2 h: ticket-1d short (≥ 334 events)',
      '6 h: page-6h long, ticket-3d short (≥ 167 events)',
      '1 d: ticket-1d long (≥ 334 events)',
      '3 d: ticket-3d long (≥ 1001 events)',
    ]);
    // Every count a line reads is at the line's period too.
    for (const row of rowsOf(graph)) {
      // metricBurnRate suffixes every query id with the SLO's address and the window in seconds.
      const window = Number(/_[0-9a-f]{10}_(\d+)\b/.exec(row.id ?? row.expression!)![1]);
      expect(periodOf(graph, row)).toBe(window);
    }
  });

  it("each line is its window alarm's expression (the same counts, guard and budget), with the lowest guard where tiers share a window", () => {
    for (const line of lines(graph)) {
      const period = periodOf(graph, line);
      const ofWindow = windowAlarms.filter((a) => a.period === period);
      expect(ofWindow.length).toBeGreaterThan(0);
      const guards = ofWindow.map((a) => Number(/>= (\d+)/.exec(a.expression)![1]));
      const drawn = alarmIds(line.expression!);
      expect(Number(/>= (\d+)/.exec(drawn)![1])).toBe(Math.min(...guards));
      for (const alarm of ofWindow) expect(drawn.replace(/>= \d+/, '>= N')).toBe(alarm.expression.replace(/>= \d+/, '>= N'));
      expect(ofWindow.map((a) => a.expression)).toContain(drawn);
    }
  });

  it('starts the y axis at 0, in multiples of the budget rate', () => {
    expect(graph.properties.yAxis.left).toEqual({ min: 0, label: '× budget rate', showUnits: false });
    expect(graph.properties.title).toBe('Availability: burn rate per window');
  });
});

describe('per SLO: the error budget left over its compliance period', () => {
  it('one value over exactly one compliance period, read at that period', () => {
    const { stack, slo } = sloOnly();
    const weekly = new ServiceLevelObjective(stack, 'Weekly', { sli: Sli.errorRatio({ badEvents: countMetric('Bad'), totalEvents: countMetric('All') }), objectivePercent: 99, compliancePeriod: Duration.days(7) });
    const body = dashboardBody(stack, new SloDashboard(stack, 'Dashboard', { objectives: [slo, weekly] }));
    const budgets = widgetsOfType(body, 'metric').filter((w) => w.properties.view === 'singleValue');
    expect(budgets.map((w) => [w.properties.title, w.properties.start])).toEqual([
      ['Availability: error budget left (% over 30 d)', '-P30D'],
      ['Weekly: error budget left (% over 7 d)', '-P7D'],
    ]);
    for (const [widget, seconds] of [
      [budgets[0], 2_592_000],
      [budgets[1], 604_800],
    ] as const) {
      const [remaining] = lines(widget);
      expect(alarmIds(remaining.expression!)).toBe('100 - 100 * consumed');
      expect(rowsOf(widget).map((r) => periodOf(widget, r))).toEqual(rowsOf(widget).map(() => seconds));
    }
  });
});

describe('per rollback trigger: its alarms and its last decisions', () => {
  it('an alarm status widget of its rollback and operational alarms, ALARM first', () => {
    const { stack, slo, trigger } = canaryWithTrigger();
    const body = dashboardBody(stack, new SloDashboard(stack, 'Dashboard', { objectives: [slo], triggers: [trigger] }));
    const [status] = widgetsOfType(body, 'alarm');
    expect(status.properties).toEqual({
      title: 'TestStack/Rollback: rollback and operational alarms',
      alarms: [...trigger.rollbackAlarms, ...trigger.operationalAlarms].map((a) => arnPlaceholder(stack, a as any)),
      sortBy: 'stateUpdatedTimestamp',
    });
  });

  it("copies the trigger's audit events to a log group with a rule on its audit bus, under a resource policy EventBridge rules of the account may use", () => {
    const { stack, trigger, group } = canaryWithTrigger();
    const dashboard = new SloDashboard(stack, 'Dashboard', { triggers: [trigger] });
    const template = Template.fromStack(stack);
    const logGroupId = stack.getLogicalId(dashboard.decisionLogGroup!.node.defaultChild as any);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: stack.getLogicalId(trigger.auditBus.node.defaultChild as any) },
      EventPattern: { source: [AUDIT_EVENT_SOURCE], detail: { deploymentGroupName: [{ Ref: stack.getLogicalId(group.node.defaultChild as any) }] } },
      Targets: [Match.objectLike({ Arn: { 'Fn::Join': ['', Match.arrayWith([':log-group:', { Ref: logGroupId }])] } })],
    });
    const [policy] = Object.values(template.findResources('AWS::Logs::ResourcePolicy')) as Array<{ Properties: { PolicyDocument: any } }>;
    const document = JSON.parse(
      (policy.Properties.PolicyDocument['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : `<${JSON.stringify(p).replace(/"/g, '')}>`)).join(''),
    );
    // CreateLogStream unconditioned (the call carries no source ARN), PutLogEvents only from this account's rules.
    expect(document.Statement).toEqual([
      {
        Sid: 'AuditEventStreamsForEventBridge',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'logs:CreateLogStream',
        Resource: `<{Fn::GetAtt:[${logGroupId},Arn]}>`,
      },
      {
        Sid: 'AuditEventsFromEventBridgeRules',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'logs:PutLogEvents',
        Resource: `<{Fn::GetAtt:[${logGroupId},Arn]}>`,
        Condition: {
          StringEquals: { 'aws:SourceAccount': '<{Ref:AWS::AccountId}>' },
          ArnLike: { 'aws:SourceArn': 'arn:<{Ref:AWS::Partition}>:events:<{Ref:AWS::Region}>:<{Ref:AWS::AccountId}>:rule/*' },
        },
      },
    ]);
  });

  it('the decisions table, run over real audit events as EventBridge writes them, shows this group’s newest decisions with every column filled', async () => {
    const { stack, trigger, group } = canaryWithTrigger();
    const dashboard = new SloDashboard(stack, 'Dashboard', { triggers: [trigger] });
    const [log] = widgetsOfType(dashboardBody(stack, dashboard), 'log');
    expect(log.properties.view).toBe('table');
    const source = refPlaceholder(stack, dashboard.decisionLogGroup as any);
    const groupName = refPlaceholder(stack, group as any);

    // The events as the handlers publish them (core's auditEvent, the audit sink's PutEvents
    // entries), wrapped as EventBridge delivers them to a CloudWatch Logs target: the whole event.
    const entries: Array<{ Source: string; DetailType: string; Detail: string }> = [];
    const client = { send: async (command: { input: { Entries: typeof entries } }) => (entries.push(...command.input.Entries), { FailedEntryCount: 0, Entries: [] }) };
    const sink = eventBridgeAudit(client as unknown as EventBridgeClient, 'bus', { warn: () => undefined, error: () => undefined }, async () => undefined);
    const verdict = (deploymentId: string, deploymentGroupName: string, minute: number, extra: Partial<AuditEventDetail> = {}) =>
      auditEvent(
        AuditDetailType.DEPLOYMENT_VERDICT,
        {
          deploymentId,
          applicationName: 'app',
          deploymentGroupName,
          lifecycleEventHookExecutionId: `hook-${deploymentId}`,
          lifecycleEvent: 'AfterAllowTraffic',
          fromVersion: '1',
          toVersion: '2',
          verdict: 'fail',
          reportedStatus: 'Failed',
          reasons: [`burn rate 80× over 5 min ≥ 14.4× (${deploymentId})`, 'second reason'],
          ...extra,
        },
        new Date(Date.UTC(2026, 0, 1, 12, minute)),
      );
    const published = [
      verdict('d-OLD', groupName, 0, { verdict: 'pass', reportedStatus: 'Succeeded', wouldRollback: false }),
      verdict('d-OTHERGROUP', 'another-group', 5),
      verdict('d-NEW', groupName, 10, { wouldRollback: true }),
    ];
    await sink.publish(published);
    const events: LogEvent[] = entries.map((entry, i) => {
      const detail = JSON.parse(entry.Detail) as AuditEventDetail;
      const time = Date.parse(detail.occurredAt);
      const event = { version: '0', id: `id-${i}`, 'detail-type': entry.DetailType, source: entry.Source, account: '123456789012', time: new Date(time).toISOString(), region: 'us-east-1', resources: [], detail };
      return { timestamp: time, message: JSON.stringify(event) };
    });

    const rows = runQuery(log.properties.query, { [source]: events });
    expect(rows).toEqual([
      {
        '@timestamp': Date.UTC(2026, 0, 1, 12, 10),
        event: 'Deployment Verdict',
        deployment: 'd-NEW',
        hook: 'AfterAllowTraffic',
        verdict: 'fail',
        reported: 'Failed',
        wouldRollback: true,
        toVersion: '2',
        reason: 'burn rate 80× over 5 min ≥ 14.4× (d-NEW)',
      },
      {
        '@timestamp': Date.UTC(2026, 0, 1, 12, 0),
        event: 'Deployment Verdict',
        deployment: 'd-OLD',
        hook: 'AfterAllowTraffic',
        verdict: 'pass',
        reported: 'Succeeded',
        wouldRollback: false,
        toVersion: '2',
        reason: 'burn rate 80× over 5 min ≥ 14.4× (d-OLD)',
      },
    ]);
    // Every column is a field Logs Insights discovers in such an event.
    const discovered = flatten(JSON.parse(events[0].message));
    for (const { field } of DECISION_COLUMNS.filter((c) => c.field !== '@timestamp')) expect(Object.keys(discovered)).toContain(field.replace(/`/g, ''));
  });

  it('keeps the newest 20 decisions', () => {
    const { stack, trigger, group } = canaryWithTrigger();
    const dashboard = new SloDashboard(stack, 'Dashboard', { triggers: [trigger] });
    const [log] = widgetsOfType(dashboardBody(stack, dashboard), 'log');
    const groupName = refPlaceholder(stack, group);
    const events = Array.from({ length: 30 }, (_, i) => ({
      timestamp: i * 60_000,
      message: JSON.stringify({ 'detail-type': 'Deployment Verdict', source: AUDIT_EVENT_SOURCE, detail: { deploymentId: `d-${i}`, deploymentGroupName: groupName, reasons: [] } }),
    }));
    const rows = runQuery(log.properties.query, { [refPlaceholder(stack, dashboard.decisionLogGroup as any)]: events });
    expect(rows.map((r) => r.deployment)).toEqual(Array.from({ length: DECISION_ROWS }, (_, i) => `d-${29 - i}`));
  });

  it('two triggers share one log group and one resource policy, with a rule and a table each, each table filtered on its own group', () => {
    const first = canaryWithTrigger();
    const second = secondCanary(first.stack);
    const dashboard = new SloDashboard(first.stack, 'Dashboard', { triggers: [first.trigger, second.trigger] });
    const template = Template.fromStack(first.stack);
    template.resourceCountIs('AWS::Logs::ResourcePolicy', 1);
    // The triggers' own log groups are under them; the dashboard's is one.
    expect(dashboard.node.findAll().filter((c) => c instanceof LogGroup)).toHaveLength(1);
    const rules = Object.values(template.findResources('AWS::Events::Rule')).filter((r) => /SLO dashboard/.test(r.Properties.Description));
    expect(rules.map((r) => r.Properties.EventBusName)).toEqual([first.trigger, second.trigger].map((t) => ({ Ref: first.stack.getLogicalId(t.auditBus.node.defaultChild as any) })));
    const logs = widgetsOfType(dashboardBody(first.stack, dashboard), 'log');
    const source = `SOURCE '${refPlaceholder(first.stack, dashboard.decisionLogGroup as any)}' | `;
    expect(logs.map((l) => l.properties.query.startsWith(source))).toEqual([true, true]);
    expect(logs.map((l) => /filter detail.deploymentGroupName = "([^"]+)"/.exec(l.properties.query)![1])).toEqual([first.group, second.group].map((g) => refPlaceholder(first.stack, g)));
  });

  it('a decisionLogGroup given is used as it is: no log group and no resource policy of the dashboard', () => {
    const { stack, trigger } = canaryWithTrigger();
    const own = new LogGroup(stack, 'MyDecisions');
    const dashboard = new SloDashboard(stack, 'Dashboard', { triggers: [trigger], decisionLogGroup: own });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Logs::ResourcePolicy', 0);
    expect(dashboard.decisionLogGroup).toBe(own);
    const [log] = widgetsOfType(dashboardBody(stack, dashboard), 'log');
    expect(log.properties.query.startsWith(`SOURCE '${refPlaceholder(stack, own)}' | `)).toBe(true);
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [Match.objectLike({ Arn: { 'Fn::Join': ['', Match.arrayWith([':log-group:', { Ref: stack.getLogicalId(own.node.defaultChild as any) }])] } })],
    });
  });

  it('an SLO-only dashboard creates no log group, rule or resource policy', () => {
    const { stack, slo } = sloOnly();
    const dashboard = new SloDashboard(stack, 'Dashboard', { objectives: [slo] });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Logs::ResourcePolicy', 0);
    template.resourceCountIs('AWS::Logs::LogGroup', 0);
    template.resourceCountIs('AWS::Events::Rule', 0);
    expect(dashboard.decisionLogGroup).toBeUndefined();
  });
});
