import { App, Duration, NestedStack, Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { MathExpression } from 'aws-cdk-lib/aws-cloudwatch';
import { describe, expect, it } from 'vitest';
import { AlertSeverity, BurnRateTier, RollbackTrigger, ServiceLevelObjective, Sli, SloDashboard } from '../../lib';
import { RollbackTriggersError } from '../../lib/core';
import { LambdaCanaryStack } from '../../examples/lambda-canary';
import { countMetric, liveAlias, newStack, validationApp } from '../helpers';
import { dashboardBody, rowsOf, widgetsOfType } from './body';

function refusal(run: () => unknown): RollbackTriggersError {
  try {
    run();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(RollbackTriggersError);
    return e as RollbackTriggersError;
  }
  throw new Error('expected a RollbackTriggersError, nothing was thrown');
}

function slo(stack: Stack, id: string, props: Partial<ConstructorParameters<typeof ServiceLevelObjective>[2]> = {}): ServiceLevelObjective {
  return new ServiceLevelObjective(stack, id, { sli: Sli.errorRatio({ badEvents: countMetric(`${id}Bad`), totalEvents: countMetric(`${id}All`) }), objectivePercent: 99.9, ...props });
}

/** The SLO names of the burn-rate graphs and the trigger paths of the decision tables, in dashboard order. */
function shown(stack: Stack, dashboard: SloDashboard): string[] {
  return dashboardBody(stack, dashboard)
    .widgets.filter((w) => w.properties.view === 'timeSeries' || w.type === 'log')
    .map((w) => String(w.properties.title).replace(/: (burn rate per window|last decisions).*$/, ''));
}

describe('what the dashboard shows', () => {
  it('given, then added, in that order; an SLO or trigger given twice is shown once', () => {
    const stack = newStack();
    const [a, b, c] = ['A', 'B', 'C'].map((id) => slo(stack, id));
    const dashboard = new SloDashboard(stack, 'Dashboard', { objectives: [b, a, b] });
    dashboard.addObjective(c);
    dashboard.addObjective(a);
    expect(dashboard.objectives.map((o) => o.sloName)).toEqual(['B', 'A', 'C']);
    expect(shown(stack, dashboard)).toEqual(['B', 'A', 'C']);
  });

  it('discover: every SLO and trigger of its own stack, created before or after it, in construct-tree order, after those given', () => {
    const app = new App();
    const stack = new LambdaCanaryStack(app, 'Canary');
    const early = slo(stack, 'Early');
    const dashboard = new SloDashboard(stack, 'Dashboard', { discover: true, objectives: [early] });
    const late = slo(stack, 'Late');
    // Not discovered: another stack's SLO, and a nested stack's.
    slo(new Stack(app, 'Other'), 'Elsewhere');
    slo(new NestedStack(stack, 'Nested') as unknown as Stack, 'Nested');
    expect(dashboard.objectives).toEqual([early]); // discovery runs at synth
    expect(shown(stack, dashboard)).toEqual(['Early', 'Availability', 'Latency', 'Canary/Rollback', 'Late']);
    expect(dashboard.objectives.map((o) => o.sloName)).toEqual(['Early', 'Availability', 'Latency', 'Late']);
    expect(dashboard.triggers).toEqual([stack.rollbackTrigger]);
    expect(late.sloName).toBe('Late');
  });

  it('two dashboards discovering one stack each show everything once and never collide: names, log groups, resource policies', () => {
    const app = new App();
    const stacks = ['One', 'Two'].map((id) => new LambdaCanaryStack(app, id));
    for (const stack of stacks) {
      new SloDashboard(stack, 'Dashboard', { discover: true });
      new SloDashboard(stack, 'Second', { discover: true });
    }
    const templates = stacks.map((s) => Template.fromStack(s));
    for (const template of templates) {
      const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
      expect(dashboards).toHaveLength(2);
      expect(dashboards.map((d) => d.Properties.DashboardName)).toEqual([undefined, undefined]);
      for (const type of ['AWS::Logs::LogGroup', 'AWS::Events::Rule']) {
        for (const resource of Object.values(template.findResources(type))) expect(resource.Properties.LogGroupName ?? resource.Properties.Name).toBeUndefined();
      }
    }
    const policyNames = templates.flatMap((t) => Object.values(t.findResources('AWS::Logs::ResourcePolicy')).map((p) => p.Properties.PolicyName));
    expect(policyNames).toHaveLength(4);
    expect(new Set(policyNames).size).toBe(4);
  });

  it('an SLO whose windows need more than 100 metrics and expressions is drawn on several graphs, each with every threshold', () => {
    const stack = newStack();
    // 10 metrics and 2 expressions per window (the most an SLI may use) and its burn rate, 8 windows: 104 rows.
    const sum = (ids: string[]) => new MathExpression({ expression: ids.join(' + '), usingMetrics: Object.fromEntries(ids.map((id) => [id, countMetric(`Count${id}`)])) });
    const tier = (hours: number, severity: AlertSeverity) => BurnRateTier.of({ severity, budgetConsumedPercent: 2, longWindow: Duration.hours(hours) });
    const wide = new ServiceLevelObjective(stack, 'Wide', {
      sli: Sli.errorRatio({ badEvents: sum(['a', 'b', 'c', 'd', 'e']), totalEvents: sum(['f', 'g', 'h', 'i', 'j']) }),
      objectivePercent: 99.9,
      tiers: [tier(1, AlertSeverity.PAGE), tier(2, AlertSeverity.PAGE), tier(4, AlertSeverity.TICKET), tier(8, AlertSeverity.TICKET)],
    });
    // Resolved without synthesizing: an SLO with ten-metric window alarms takes ~20 s to synthesize here.
    const body = dashboardBody(stack, new SloDashboard(stack, 'Dashboard', { objectives: [wide] }), true);
    const graphs = widgetsOfType(body, 'metric').filter((w) => w.properties.view === 'timeSeries');
    expect(graphs.map((g) => g.properties.title)).toEqual(['Wide: burn rate per window (1 of 2)', 'Wide: burn rate per window (2 of 2)']);
    expect(graphs.map((g) => rowsOf(g).length)).toEqual([91, 13]);
    const windows = graphs.flatMap((g) => rowsOf(g).filter((r) => r.label !== undefined).map((r) => r.label!.split(':')[0]));
    expect(windows).toEqual(['5 min', '10 min', '20 min', '40 min', '1 h', '2 h', '4 h', '8 h']);
    for (const g of graphs) expect(g.properties.annotations.horizontal.map((a: { label: string }) => a.label)).toEqual(wide._policy.tiers.map((t) => `${t.name}: ${t.factor}×`));
  });
});

describe('refused props, with a coded error naming the prop', () => {
  it.each([
    ['', /must not be empty/],
    ['a'.repeat(256), /is 256 characters \("a{40}…"\), CloudWatch allows at most 255/],
    ['checkout slo', /holds " " at position 8: CloudWatch dashboard names may only hold A-Z, a-z, 0-9, '-' and '_'/],
    ['checkout.slo', /holds "\." at position 8/],
  ])('dashboardName %j (RT150)', (dashboardName, message) => {
    const stack = newStack();
    const e = refusal(() => new SloDashboard(stack, 'Dashboard', { dashboardName, objectives: [slo(stack, 'A')] }));
    expect(e).toMatchObject({ code: 'RT150', prop: 'dashboardName', constructPath: 'TestStack/Dashboard' });
    expect(e.message).toMatch(message);
  });

  it('accepts a 255-character name of letters, digits, dashes and underscores, and a token', () => {
    const stack = newStack();
    const a = slo(stack, 'A');
    new SloDashboard(stack, 'Long', { dashboardName: `${'a'.repeat(250)}-_A9z`, objectives: [a] });
    new SloDashboard(stack, 'Token', { dashboardName: Token.asString({ Ref: 'NameParameter' }), objectives: [a] });
    expect(Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Dashboard')).map((d) => d.Properties.DashboardName)).toEqual([
      `${'a'.repeat(250)}-_A9z`,
      { Ref: 'NameParameter' },
    ]);
  });

  it('a dashboardName another SloDashboard of the app holds in the same account and Region (RT150); another Region is free', () => {
    const app = new App();
    const one = new Stack(app, 'One', { env: { account: '123456789012', region: 'eu-west-1' } });
    const two = new Stack(app, 'Two', { env: { account: '123456789012', region: 'eu-west-1' } });
    const three = new Stack(app, 'Three', { env: { account: '123456789012', region: 'us-east-1' } });
    new SloDashboard(one, 'Dashboard', { dashboardName: 'checkout', objectives: [slo(one, 'A')] });
    const e = refusal(() => new SloDashboard(two, 'Dashboard', { dashboardName: 'checkout', objectives: [slo(two, 'A')] }));
    expect(e).toMatchObject({ code: 'RT150', prop: 'dashboardName', constructPath: 'Two/Dashboard' });
    expect(e.message).toMatch(/"checkout" is already the name of One\/Dashboard in the same account and Region/);
    expect(() => new SloDashboard(three, 'Dashboard', { dashboardName: 'checkout', objectives: [slo(three, 'A')] })).not.toThrow();
  });

  it.each(['PT6H', '-PT6', '6h', '-P', '-PT', '-PT0H', '-P0D', '-P1.5D', ' -PT6H'])('start %j (RT151)', (start) => {
    const stack = newStack();
    const e = refusal(() => new SloDashboard(stack, 'Dashboard', { start, objectives: [slo(stack, 'A')] }));
    expect(e).toMatchObject({ code: 'RT151', prop: 'start' });
    expect(e.message).toContain(JSON.stringify(start));
  });

  it.each(['-PT6H', '-P7D', '-PT30M', '-P3M', '-PT1H30M', '-P1W', '-P1Y'])('accepts start %j', (start) => {
    const stack = newStack();
    const dashboard = new SloDashboard(stack, 'Dashboard', { start, objectives: [slo(stack, 'A')] });
    expect(dashboardBody(stack, dashboard).start).toBe(start);
  });

  it('an entry that is not an SLO or a trigger (RT152)', () => {
    const stack = newStack();
    const a = slo(stack, 'A');
    expect(refusal(() => new SloDashboard(stack, 'One', { objectives: [a, a.sli as unknown as ServiceLevelObjective] }))).toMatchObject({ code: 'RT152', prop: 'objectives[1]' });
    expect(refusal(() => new SloDashboard(stack, 'Two', { triggers: [a as unknown as RollbackTrigger] }))).toMatchObject({ code: 'RT152', prop: 'triggers[0]' });
    const dashboard = new SloDashboard(stack, 'Three', { objectives: [a] });
    const e = refusal(() => dashboard.addTrigger(a as unknown as RollbackTrigger));
    expect(e).toMatchObject({ code: 'RT152', prop: 'addTrigger: trigger' });
    expect(e.message).toMatch(/must be a RollbackTrigger, got ServiceLevelObjective/);
  });

  it('a dashboard that shows nothing fails the synth (RT153), with discover too when the stack has no SLO', () => {
    const stack = newStack();
    new SloDashboard(stack, 'Dashboard');
    expect(() => Template.fromStack(stack)).toThrow(/\[RT153\] the dashboard shows no SLO and no rollback trigger/);
    const empty = newStack('Empty');
    liveAlias(empty);
    new SloDashboard(empty, 'Dashboard', { discover: true });
    expect(() => Template.fromStack(empty)).toThrow(/\[RT153\] the dashboard found no ServiceLevelObjective and no RollbackTrigger in stack Empty/);
    // Added after construction: shown, and the synth passes.
    const later = newStack('Later');
    const dashboard = new SloDashboard(later, 'Dashboard');
    dashboard.addObjective(slo(later, 'A'));
    expect(() => Template.fromStack(later)).not.toThrow();
  });

  it('more than the 500 widgets of a dashboard (RT155): the SLO that would pass it is refused', () => {
    const stack = newStack();
    const dashboard = new SloDashboard(stack, 'Dashboard');
    // The header and 2 widgets per SLO: the 250th SLO would make 501.
    for (let i = 0; i < 249; i++) dashboard.addObjective(slo(stack, `Slo${i}`, { tiers: [BurnRateTier.PAGE_1H] }));
    const last = slo(stack, 'Last', { tiers: [BurnRateTier.PAGE_1H] });
    const e = refusal(() => dashboard.addObjective(last));
    expect(e).toMatchObject({ code: 'RT155', constructPath: 'TestStack/Dashboard' });
    expect(e.message).toMatch(/showing SLO Last would take the dashboard to 501 widgets, CloudWatch allows at most 500/);
    expect(dashboard.objectives).toHaveLength(249);
  });
});

describe('the example stacks with a dashboard', () => {
  it('a rollback trigger and its dashboard pass CloudFormation validation and cdk-nag (AwsSolutions, Serverless, NIST 800-53 rev 5) with no finding', () => {
    const { app, report } = validationApp();
    const stack = new LambdaCanaryStack(app, 'LambdaCanary');
    new SloDashboard(stack, 'Dashboard', { discover: true });
    expect(report()).toEqual([]);
  });

  it('the dashboard adds only its own resources: the template otherwise unchanged', () => {
    const without = Template.fromStack(new LambdaCanaryStack(new App(), 'LambdaCanary')).toJSON().Resources;
    const stack = new LambdaCanaryStack(new App(), 'LambdaCanary');
    new SloDashboard(stack, 'Dashboard', { discover: true });
    const withDashboard = Template.fromStack(stack).toJSON().Resources;
    const added = Object.keys(withDashboard).filter((id) => !(id in without));
    expect(Object.fromEntries(Object.entries(without).map(([id]) => [id, withDashboard[id]]))).toEqual(without);
    expect(added.map((id) => withDashboard[id].Type).sort()).toEqual(['AWS::CloudWatch::Dashboard', 'AWS::Events::Rule', 'AWS::Logs::LogGroup', 'AWS::Logs::ResourcePolicy']);
  });
});

describe('a trigger in two dashboards', () => {
  it('gets one rule on its bus per dashboard', () => {
    const stack = new LambdaCanaryStack(new App(), 'LambdaCanary');
    new SloDashboard(stack, 'One', { triggers: [stack.rollbackTrigger] });
    new SloDashboard(stack, 'Two', { triggers: [stack.rollbackTrigger] });
    const rules = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule')).filter((r) => /SLO dashboard/.test(r.Properties.Description));
    expect(rules).toHaveLength(2);
  });
});
