import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { AlarmLayout, AlertSeverity, BurnRateTier, RollbackPlan, ServiceLevelObjective, ServiceLevelObjectiveGroup, Sli } from '../../lib';
import { compilePolicy, emulate } from '../../lib/core/emulator';
import { expectRtError } from '../core/helpers';
import { policyOf, steadyIncident } from '../core/emulator/fixtures';
import { compositeAlarms, countMetric, metricAlarms, newStack, resourcesOfType } from '../helpers';

const errorRatio = (name: string) => Sli.errorRatio({ badEvents: countMetric(`${name}Failed`), totalEvents: countMetric(name) });

/** A composite's rule with each Ref written as {logical id}. */
function ruleText(rule: unknown): string {
  if (typeof rule === 'string') return rule;
  return ((rule as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1] as unknown[]).map((p) => (typeof p === 'string' ? p : `{${(p as { Ref: string }).Ref}}`)).join('');
}

describe('alarmLayout NATIVE: an Application Signals SLO beside the EXACT alarms', () => {
  const native = () => {
    const stack = newStack('Shop');
    const slo = new ServiceLevelObjective(stack, 'Checkout', { sli: errorRatio('Orders'), objectivePercent: 99.9, alarmLayout: AlarmLayout.NATIVE });
    return { stack, slo, slos: resourcesOfType(stack, 'AWS::ApplicationSignals::ServiceLevelObjective') };
  };

  it('creates a request-based SLO on the same bad and total queries, its goal, the compliance period and one burn-rate configuration per window', () => {
    const { stack, slo, slos } = native();
    expect(Object.keys(slos)).toHaveLength(1);
    expect(slo.applicationSignalsSlo).toBeDefined();
    const props = Object.values(slos)[0].Properties;
    expect(props.Name).toBe('Shop-Checkout');
    expect(props.Goal).toEqual({ AttainmentGoal: 99.9, Interval: { RollingInterval: { Duration: 30, DurationUnit: 'DAY' } } });
    // The workbook windows: 5 min, 30 min, 1 h, 2 h, 6 h, 1 d, 3 d (6 h is page-6h's long and ticket-3d's short window).
    expect(props.BurnRateConfigurations.map((b: { LookBackWindowMinutes: number }) => b.LookBackWindowMinutes)).toEqual([5, 30, 60, 120, 360, 1_440, 4_320]);
    const metric = props.RequestBasedSli.RequestBasedSliMetric;
    expect(metric.TotalRequestCountMetric).toEqual([
      { Id: 'total', MetricStat: { Metric: { Namespace: 'Shop', MetricName: 'Orders' }, Period: 60, Stat: 'Sum' }, ReturnData: true },
    ]);
    expect(metric.MonitoredRequestCountMetric).toEqual({
      BadCountMetric: [{ Id: 'bad', MetricStat: { Metric: { Namespace: 'Shop', MetricName: 'OrdersFailed' }, Period: 60, Stat: 'Sum' }, ReturnData: true }],
    });
    // The alarms are EXACT's: 8 window alarms and 2 composites.
    expect(Object.keys(metricAlarms(stack))).toHaveLength(8);
    expect(Object.keys(compositeAlarms(stack))).toHaveLength(2);
    expect(slo._policy.alarmLayout).toBe('native');
    expect(slos).toMatchSnapshot();
  });

  it('counts good requests for a success-ratio SLI, and renders metric math (a latency SLI) as expressions with one returning data', () => {
    const stack = newStack('Shop');
    new ServiceLevelObjective(stack, 'Ok', {
      sli: Sli.successRatio({ goodEvents: countMetric('Ok'), totalEvents: countMetric('All') }),
      objectivePercent: 99,
      alarmLayout: AlarmLayout.NATIVE,
    });
    new ServiceLevelObjective(stack, 'Fast', {
      sli: Sli.latency({ latency: new Metric({ namespace: 'Shop', metricName: 'Latency' }), threshold: 120 }),
      objectivePercent: 99,
      alarmLayout: AlarmLayout.NATIVE,
    });
    const [ok, fast] = Object.values(resourcesOfType(stack, 'AWS::ApplicationSignals::ServiceLevelObjective')).map((r) => r.Properties.RequestBasedSli.RequestBasedSliMetric);
    expect(Object.keys(ok.MonitoredRequestCountMetric)).toEqual(['GoodCountMetric']);
    const bad = fast.MonitoredRequestCountMetric.BadCountMetric as Array<{ Id: string; Expression?: string; ReturnData: boolean; MetricStat?: { Stat: string } }>;
    expect(bad.filter((q) => q.ReturnData)).toEqual([expect.objectContaining({ Id: 'bad', Expression: 'FLOOR(total * (100 - FILL(pr, 100)) / 100 + 0.5)' })]);
    expect(bad.find((q) => q.Id === 'pr')!.MetricStat!.Stat).toBe('PR(:120)');
    expect(bad.find((q) => q.Id === 'total')!.MetricStat!.Stat).toBe('SampleCount');
  });

  it('names the SLO from the stack and sloName by default (unique per account and Region like the stack), or as given', () => {
    const stack = newStack('Shop');
    new ServiceLevelObjective(stack, 'A', { sli: errorRatio('A'), objectivePercent: 99.9, alarmLayout: AlarmLayout.NATIVE, sloName: 'Check out/v2 "fast"'.replace(/"/g, '') });
    new ServiceLevelObjective(stack, 'B', { sli: errorRatio('B'), objectivePercent: 99.9, alarmLayout: AlarmLayout.NATIVE, applicationSignalsSloName: 'checkout availability' });
    const names = Object.values(resourcesOfType(stack, 'AWS::ApplicationSignals::ServiceLevelObjective')).map((r) => r.Properties.Name);
    expect(names).toEqual(['Shop-Check out-v2 fast', 'checkout availability']);
    // 'Check-out-v2 fast' gives the same name as 'Check out/v2 fast' once '/' is replaced: refused, not left to the deploy.
    expect(
      expectRtError(() => new ServiceLevelObjective(stack, 'C', { sli: errorRatio('C'), objectivePercent: 99.9, alarmLayout: AlarmLayout.NATIVE, sloName: 'Check out-v2 fast' }), 'RT130').message,
    ).toMatch(/"Shop-Check out-v2 fast" is already that of Shop\/A\/ApplicationSignalsSlo/);
  });

  it('refuses a name the API refuses, a name without the NATIVE layout, and tiers an Application Signals SLO cannot hold', () => {
    const make = (props: object) => () => new ServiceLevelObjective(newStack(), 'S', { sli: errorRatio('A'), objectivePercent: 99.9, ...props });
    expect(expectRtError(make({ alarmLayout: AlarmLayout.NATIVE, applicationSignalsSloName: '-bad-' }), 'RT130').message).toMatch(
      /applicationSignalsSloName must be 2 to 128 characters.*got "-bad-"/,
    );
    expect(expectRtError(make({ applicationSignalsSloName: 'fine' }), 'RT130').message).toMatch(/only alarmLayout: AlarmLayout\.NATIVE creates/);
    // Six tiers with distinct windows: 12 look-back windows, above the 10 burn-rate configurations an SLO holds.
    const tiers = Array.from({ length: 6 }, (_, i) =>
      BurnRateTier.of({ severity: AlertSeverity.TICKET, budgetConsumedPercent: 10, longWindow: Duration.hours(2 + i), shortWindow: Duration.minutes(10 + i), name: `t${i}` }),
    );
    expect(expectRtError(make({ alarmLayout: AlarmLayout.NATIVE, tiers }), 'RT131').message).toMatch(/12 distinct windows .* at most 10 burn-rate configurations/);
    expect(() => make({ alarmLayout: AlarmLayout.EXACT, tiers })()).not.toThrow();
  });
});

describe('ServiceLevelObjectiveGroup: SLOs of one service sharing one page and one ticket composite', () => {
  const service = (groupProps: object = {}) => {
    const stack = newStack('Shop');
    const topic = new Topic(stack, 'OnCall');
    const group = new ServiceLevelObjectiveGroup(stack, 'Checkout', { pageActions: [new SnsAction(topic)], ...groupProps });
    const availability = new ServiceLevelObjective(stack, 'Availability', { sli: errorRatio('Orders'), objectivePercent: 99.9, group });
    const latency = new ServiceLevelObjective(stack, 'Latency', { sli: errorRatio('Slow'), objectivePercent: 99, group });
    return { stack, group, availability, latency };
  };

  it('creates each member’s window alarms and two composites for the group, whose rules OR every member’s tiers', () => {
    const { stack, group, availability, latency } = service();
    expect(Object.keys(metricAlarms(stack))).toHaveLength(16);
    const composites = compositeAlarms(stack);
    expect(Object.keys(composites)).toHaveLength(2);
    const page = Object.entries(composites).find(([id]) => id.startsWith('CheckoutPageAlarm'))![1].Properties;
    const rule = ruleText(page.AlarmRule);
    expect(rule.match(/ AND /g)).toHaveLength(4);
    expect(rule.match(/\) OR \(/g)).toHaveLength(3);
    for (const member of ['Availabilitypage1h', 'Availabilitypage6h', 'Latencypage1h', 'Latencypage6h']) {
      expect(rule).toMatch(new RegExp(`\\(ALARM\\("\\{${member}LongWindowAlarm\\w+\\}"\\) AND ALARM\\("\\{${member}ShortWindowAlarm\\w+\\}"\\)\\)`));
    }
    expect(page.AlarmActions).toHaveLength(1);
    expect(availability.pageAlarm).toBe(group.pageAlarm);
    expect(latency.ticketAlarm).toBe(group.ticketAlarm);
    expect(group.memberPaths).toEqual(['Shop/Availability', 'Shop/Latency']);
    expect(availability._policy).toMatchObject({ group: 'Shop/Checkout', composites: [] });
    expect(composites).toMatchSnapshot();
  });

  it('writes the group into the policy, and the emulator pages for either member on the minute that member’s tier fires', () => {
    const { stack } = service({ suppressTicketsWhilePaging: true });
    Template.fromStack(stack); // synth: the group's rules are rendered with every member
    const policy = policyOf(stack);
    expect(policy.sloGroups).toHaveLength(1);
    expect(policy.sloGroups![0].composites.map((c) => [c.id, c.children.length, c.suppressedBy])).toEqual([
      ['Shop/Checkout/page', 4, undefined],
      ['Shop/Checkout/ticket', 4, 'Shop/Checkout/page'],
    ]);
    const result = emulate({ policy, sli: { 'Shop/Availability': steadyIncident(0, 30), 'Shop/Latency': steadyIncident(1, 30) } }, { fromMinute: 0 });
    const first = Object.fromEntries([...result.summary.tiers, ...result.summary.severities].map((f) => [f.id, f.firstAlarmMinute]));
    expect(first['Shop/Availability/page-1h']).toBeNull();
    expect(first['Shop/Latency/page-1h']).toBe(9);
    expect(first['Shop/Checkout/page']).toBe(9);
    expect(compilePolicy(policy).composites.map((c) => c.id)).toEqual(['Shop/Checkout/page', 'Shop/Checkout/ticket']);
  });

  it('costs the service two composites: two SLOs pay $2.10 each instead of $2.60', () => {
    const { stack } = service();
    const plan = RollbackPlan.of(stack);
    expect(plan.compositeAlarmCount).toBe(2);
    // 16 two-metric window alarms ($3.20) and 2 composites ($1.00) for two SLOs.
    expect(plan.monthlyCostUsd / 2).toBe(2.1);
    expect(plan.render()).toContain('  Alarm layout: in group Shop/Checkout of 2 SLOs (its window alarms $1.60 and a share of the group');
  });

  it('refuses actions, ticket suppression or PER_TIER on a member, a member of another stack, and a group without members', () => {
    const stack = newStack('Shop');
    const group = new ServiceLevelObjectiveGroup(stack, 'Checkout');
    const topic = new Topic(stack, 'OnCall');
    const member = (props: object, scope: Stack = stack) => () => new ServiceLevelObjective(scope, `S${Math.random()}`.replace('.', ''), { sli: errorRatio('A'), objectivePercent: 99.9, group, ...props });
    expect(expectRtError(member({ pageActions: [new SnsAction(topic)] }), 'RT132').message).toMatch(/pageActions: the SLO is in group Checkout, whose composites carry the actions/);
    expect(expectRtError(member({ suppressTicketsWhilePaging: true }), 'RT132').message).toMatch(/suppressTicketsWhilePaging: the SLO is in group Checkout/);
    expect(expectRtError(member({ alarmLayout: AlarmLayout.PER_TIER }), 'RT132').message).toMatch(/alarmLayout PER_TIER gives the SLO composites of its own/);
    const other = new Stack(stack.node.scope as App, 'Other');
    expect(expectRtError(member({}, other), 'RT132').message).toMatch(/a composite alarm and its alarms must be in one stack/);
    const lonely = newStack('Lonely');
    new ServiceLevelObjectiveGroup(lonely, 'Empty');
    expect(() => Template.fromStack(lonely)).toThrow(/\[RT132\] group Empty has no member SLO/);
  });

  it('refuses a group named like an SLO or another group of the stack (their composites would share a name), either way round', () => {
    const stack = newStack('Shop');
    new ServiceLevelObjective(stack, 'Checkout', { sli: errorRatio('A'), objectivePercent: 99.9 });
    expect(expectRtError(() => new ServiceLevelObjectiveGroup(stack, 'CheckoutGroup', { groupName: 'Checkout' }), 'RT132').message).toMatch(
      /groupName "Checkout" is already the name of Shop\/Checkout/,
    );
    const group = new ServiceLevelObjectiveGroup(stack, 'Service');
    expect(expectRtError(() => new ServiceLevelObjectiveGroup(stack, 'Other', { groupName: 'Service' }), 'RT132').message).toMatch(/already the name of Shop\/Service/);
    expect(expectRtError(() => new ServiceLevelObjective(stack, 'Svc', { sli: errorRatio('B'), objectivePercent: 99.9, sloName: 'Service', group }), 'RT122').message).toMatch(
      /sloName "Service" is already the name of Shop\/Service/,
    );
  });

  it('warns when the rule over generated alarm names would likely pass 10,240 characters, and refuses suppression the group cannot apply', () => {
    const stack = newStack('A-stack-name-long-enough-that-generated-alarm-names-are-long-too');
    const group = new ServiceLevelObjectiveGroup(stack, 'Fleet');
    for (let i = 0; i < 25; i++) new ServiceLevelObjective(stack, `Service${i}`, { sli: errorRatio(`S${i}`), objectivePercent: 99.9, group, tiers: [BurnRateTier.PAGE_1H, BurnRateTier.PAGE_6H] });
    Template.fromStack(stack);
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('page composite of group Fleet names 25 SLOs'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0].entry.data)).toMatch(/estimated at 1\d,\d*|estimated at 1\d{4} characters/);

    const ticketsOnly = newStack('T');
    const quiet = new ServiceLevelObjectiveGroup(ticketsOnly, 'Quiet', { suppressTicketsWhilePaging: true });
    new ServiceLevelObjective(ticketsOnly, 'Slow', { sli: errorRatio('Slow'), objectivePercent: 99.9, group: quiet, tiers: [BurnRateTier.TICKET_1D] });
    expect(() => Template.fromStack(ticketsOnly)).toThrow(/\[RT132\] suppressTicketsWhilePaging .* no member of group Quiet has a page tier/);
  });

  it('refuses at synth a group whose page rule would name more than 100 alarms (26 members of two page tiers)', () => {
    const stack = newStack('Big');
    const group = new ServiceLevelObjectiveGroup(stack, 'Fleet');
    for (let i = 0; i < 26; i++) new ServiceLevelObjective(stack, `S${i}`, { sli: errorRatio(`S${i}`), objectivePercent: 99.9, group, tiers: [BurnRateTier.PAGE_1H, BurnRateTier.PAGE_6H] });
    expect(() => Template.fromStack(stack)).toThrow(/\[RT210\] the page composite of group Fleet \(26 SLOs\) would combine 104 alarms/);
  });
});
