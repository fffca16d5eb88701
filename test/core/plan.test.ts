import { describe, expect, it } from 'vitest';
import { lambdaService } from './simulator/fixtures';
import { expectRtError } from './helpers';
import {
  CLOUDWATCH_ALARM_PRICES_USD,
  DEFAULT_PLAN_ERROR_RATIOS,
  POLICY_METADATA_TYPE,
  POLICY_SCHEMA_VERSION,
  WORKBOOK_TIERS,
  buildPlan,
  defaultMinEventsPerWindow,
  deriveTier,
  metricAlarmMonthlyUsd,
  policyFromEntries,
  renderPlan,
  sumUsd,
  type PolicyAlarm,
  type PolicyComposite,
  type PolicySlo,
  type PolicyThresholdTrigger,
  type PolicyTier,
  type RollbackPolicy,
  type TierSpec,
} from '../../lib/core';

// ---------------------------------------------------------------------------------------------
// A hand-built policy: one 99.9 % SLO with the four workbook tiers (8 window alarms of 2 metrics,
// 4 tier composites + page and ticket composites) and one single-metric threshold trigger.
// ---------------------------------------------------------------------------------------------

const THIRTY_DAYS = 30 * 86_400;
const SLO_PATH = 'CheckoutStack/Availability';

function sloFixture(options: {
  name?: string;
  path?: string;
  specs?: readonly TierSpec[];
  metricCount?: number;
} = {}): PolicySlo {
  const path = options.path ?? SLO_PATH;
  const metricCount = options.metricCount ?? 2;
  const tiers: PolicyTier[] = [];
  const alarms: PolicyAlarm[] = [];
  const composites: PolicyComposite[] = [];
  for (const spec of options.specs ?? WORKBOOK_TIERS) {
    const derived = deriveTier(spec, 99.9, THIRTY_DAYS);
    const minEvents = defaultMinEventsPerWindow(derived);
    const ids = { long: `${path}/${spec.name}/long`, short: `${path}/${spec.name}/short` };
    for (const role of ['long', 'short'] as const) {
      const windowSeconds = role === 'long' ? spec.longWindowSeconds : spec.shortWindowSeconds;
      alarms.push({
        id: ids[role],
        windowSeconds,
        threshold: derived.factor,
        minEvents,
        treatMissingData: 'notBreaching',
        metricCount,
        highResolution: windowSeconds < 60,
      });
    }
    tiers.push({ ...derived, minEventsPerWindow: minEvents, longAlarm: ids.long, shortAlarm: ids.short });
    composites.push({ id: `${path}/${spec.name}`, kind: 'tier', severity: spec.severity, operator: 'AND', children: [ids.long, ids.short] });
  }
  for (const severity of ['page', 'ticket'] as const) {
    const children = tiers.filter((t) => t.severity === severity).map((t) => `${path}/${t.name}`);
    if (children.length > 0) composites.push({ id: `${path}/${severity}`, kind: 'severity', severity, operator: 'OR', children });
  }
  return {
    kind: 'slo',
    name: options.name ?? 'checkout-availability',
    path,
    objectivePercent: 99.9,
    compliancePeriodSeconds: THIRTY_DAYS,
    errorBudget: 0.001,
    sli: { kind: 'error-ratio', scope: 'version', description: 'Lambda errors ÷ invocations', resolutionSeconds: 60, metricCount },
    tiers,
    alarms,
    composites,
  };
}

const latencyTrigger: PolicyThresholdTrigger = {
  kind: 'threshold',
  name: 'p99-latency',
  path: 'CheckoutStack/P99Latency',
  comparison: 'GreaterThanThreshold',
  threshold: 2_000,
  periodSeconds: 60,
  evaluationPeriods: 3,
  datapointsToAlarm: 2,
  treatMissingData: 'notBreaching',
  metricCount: 1,
  highResolution: false,
  severity: 'page',
};

function policy(slos: readonly PolicySlo[], thresholdTriggers: readonly PolicyThresholdTrigger[] = [latencyTrigger]): RollbackPolicy {
  return { schemaVersion: POLICY_SCHEMA_VERSION, stack: 'CheckoutStack', slos, thresholdTriggers };
}

const checkout = sloFixture();
const checkoutPolicy = policy([checkout]);

describe('the hand-built fixture', () => {
  it('has 4 tiers, 8 window alarms of 2 metrics and 6 composites', () => {
    expect(checkout.tiers.map((t) => t.name)).toEqual(['page-1h', 'page-6h', 'ticket-1d', 'ticket-3d']);
    expect(checkout.alarms).toHaveLength(8);
    expect(checkout.alarms.every((a) => a.metricCount === 2 && !a.highResolution)).toBe(true);
    expect(checkout.composites).toHaveLength(6);
  });
});

// ---------------------------------------------------------------------------------------------
// buildPlan: cost
// ---------------------------------------------------------------------------------------------

describe('buildPlan cost', () => {
  const plan = buildPlan(checkoutPolicy);

  it('counts 9 metric alarms: 8 window alarms and 1 threshold trigger', () => {
    expect(plan.cost.metricAlarms).toBe(9);
  });

  it('bills 17 metrics: 8 math alarms × 2 metrics + 1', () => {
    expect(plan.cost.billedMetrics).toBe(17);
  });

  it('counts 6 composite alarms and no high-resolution alarms', () => {
    expect(plan.cost.compositeAlarms).toBe(6);
    expect(plan.cost.highResolutionAlarms).toBe(0);
  });

  it('costs 17 × $0.10 + 6 × $0.50 = $4.70 a month, without float noise', () => {
    expect(plan.cost.monthlyUsd).toBe(4.7);
  });

  it('reports the stack and the number of threshold triggers', () => {
    expect(plan.stack).toBe('CheckoutStack');
    expect(plan.thresholdTriggers).toBe(1);
  });

  it('prices high-resolution alarms at $0.30 per metric', () => {
    const fastTrigger: PolicyThresholdTrigger = { ...latencyTrigger, periodSeconds: 10, highResolution: true, metricCount: 3 };
    const cost = buildPlan(policy([], [fastTrigger])).cost;
    expect(cost).toEqual({ metricAlarms: 1, highResolutionAlarms: 1, compositeAlarms: 0, billedMetrics: 3, monthlyUsd: 0.9 });
  });

  it('costs nothing for an empty policy', () => {
    const empty = buildPlan(policy([], []));
    expect(empty.cost).toEqual({ metricAlarms: 0, highResolutionAlarms: 0, compositeAlarms: 0, billedMetrics: 0, monthlyUsd: 0 });
    expect(empty.slos).toEqual([]);
  });
});

describe('buildPlan cost: every SLO pays for its own alarms', () => {
  it('counts a second SLO with the same SLI and tiers as 8 more window alarms (SLOs never share one)', () => {
    const twin = sloFixture({ name: 'twin', path: 'CheckoutStack/Twin' });
    const plan = buildPlan(policy([checkout, twin]));
    expect(plan.windowAlarms).toBe(16);
    expect(plan.cost).toMatchObject({ metricAlarms: 17, billedMetrics: 33, compositeAlarms: 12 });
    expect(plan.cost.monthlyUsd).toBe(9.3); // 33 × 0.10 + 12 × 0.50
  });

  it('prices each window by its own resolution when only some windows are high resolution', () => {
    const fast = sloFixture({
      specs: [{ name: 'page-fast', severity: 'page', budgetFraction: 0.02, longWindowSeconds: 360, shortWindowSeconds: 30 }],
    });
    expect(fast.alarms.map((a) => a.highResolution)).toEqual([false, true]);
    const plan = buildPlan(policy([fast], []));
    expect(plan.cost).toMatchObject({ metricAlarms: 2, highResolutionAlarms: 1, monthlyUsd: 1.8 }); // 2×0.30 + 2×0.10 + 2×0.50
  });
});

// ---------------------------------------------------------------------------------------------
// buildPlan: tiers and detection times
// ---------------------------------------------------------------------------------------------

describe('buildPlan tiers and detections', () => {
  const plan = buildPlan(checkoutPolicy);
  const slo = plan.slos[0];
  const tier = (name: string) => slo.tiers.find((t) => t.name === name)!;

  it('quotes a total outage, 10 % and 2 % errors by default', () => {
    expect(DEFAULT_PLAN_ERROR_RATIOS).toEqual([1, 0.1, 0.02]);
    expect(tier('page-1h').detections.map((d) => d.errorRatio)).toEqual([1, 0.1, 0.02]);
  });

  it('copies the SLO header fields', () => {
    expect(slo).toMatchObject({
      name: 'checkout-availability',
      path: SLO_PATH,
      objectivePercent: 99.9,
      compliancePeriodSeconds: THIRTY_DAYS,
      sliDescription: 'Lambda errors ÷ invocations',
      sliScope: 'version',
    });
  });

  it('copies factor, threshold and minimum events of each tier', () => {
    expect(slo.tiers.map((t) => [t.name, t.factor, t.errorRatioThreshold, t.minEventsPerWindow])).toEqual([
      ['page-1h', 14.4, 0.0144, 70],
      ['page-6h', 6, 0.006, 167],
      ['ticket-1d', 3, 0.003, 334],
      ['ticket-3d', 1, 0.001, 1_001],
    ]);
  });

  it('detects page-1h after 60, 540 and 2640 s at 100 %, 10 % and 2 % errors', () => {
    expect(tier('page-1h').detections.map((d) => d.seconds)).toEqual([60, 540, 2_640]);
  });

  it('gives the detection times of every tier, in whole minutes', () => {
    // threshold × long window ÷ error ratio, rounded up to the minute:
    // page-6h 129.6 / 1296 / 6480 s; ticket-1d and ticket-3d 259.2 / 2592 / 12960 s.
    expect(slo.tiers.map((t) => t.detections.map((d) => d.seconds))).toEqual([
      [60, 540, 2_640],
      [180, 1_320, 6_480],
      [300, 2_640, 12_960],
      [300, 2_640, 12_960],
    ]);
  });

  it('reports the budget spent by the rounded-up detection time (a bit over the 2 % share)', () => {
    const spent = tier('page-1h').detections.map((d) => d.budgetSpent!);
    // 60 s of 100 % errors, 540 s of 10 %, 2640 s of 2 %, against a 2592-second monthly budget.
    expect(spent[0]).toBeCloseTo(60 / 2_592, 12);
    expect(spent[1]).toBeCloseTo(54 / 2_592, 12);
    expect(spent[2]).toBeCloseTo(52.8 / 2_592, 12);
    for (const s of spent) expect(s).toBeGreaterThanOrEqual(0.02);
  });

  it('adds the ingestion delay to every detection time', () => {
    const delayed = buildPlan(checkoutPolicy, { ingestionDelaySeconds: 180 });
    expect(delayed.slos[0].tiers[0].detections.map((d) => d.seconds)).toEqual([240, 720, 2_820]);
  });

  it('gives the 3-day tier, evaluated once an hour, a range: the earliest time and up to 59 minutes later', () => {
    expect(slo.tiers.map((t) => t.evaluatedHourly)).toEqual([false, false, false, true]);
    expect(tier('ticket-3d').detections.map((d) => [d.seconds, d.latestSeconds])).toEqual([
      [300, 300 + 3_540],
      [2_640, 2_640 + 3_540],
      [12_960, 12_960 + 3_540],
    ]);
    // A whole day is not more than a day: ticket-1d is evaluated every minute, its times exact.
    for (const name of ['page-1h', 'page-6h', 'ticket-1d']) {
      for (const d of tier(name).detections) {
        expect(d.latestSeconds, name).toBeUndefined();
        expect(d.latestBudgetSpent, name).toBeUndefined();
      }
    }
  });

  it('reports the budget spent by the latest time of a range too', () => {
    const [outage, tenPercent] = tier('ticket-3d').detections;
    // 64 minutes of a total outage against a 2,592-second monthly budget: 1.48 budgets.
    expect(outage.budgetSpent).toBeCloseTo(300 / 2_592, 12);
    expect(outage.latestBudgetSpent).toBeCloseTo(3_840 / 2_592, 12);
    expect(tenPercent.latestBudgetSpent).toBeCloseTo((0.1 * 6_180) / 2_592, 12);
  });

  it('adds the ingestion delay to both ends of a range', () => {
    const delayed = buildPlan(checkoutPolicy, { ingestionDelaySeconds: 180 });
    expect(delayed.ingestionDelaySeconds).toBe(180);
    expect(plan.ingestionDelaySeconds).toBe(0);
    const outage = delayed.slos[0].tiers[3].detections[0];
    expect([outage.seconds, outage.latestSeconds]).toEqual([480, 480 + 3_540]);
  });

  it('gives every tier whose long window exceeds a day a range, and no tier up to a day', () => {
    const custom = buildPlan(
      policy(
        [
          sloFixture({
            specs: [
              { name: 'ticket-25h', severity: 'ticket', budgetFraction: 0.1, longWindowSeconds: 90_000, shortWindowSeconds: 7_500 },
              { name: 'ticket-24h', severity: 'ticket', budgetFraction: 0.1, longWindowSeconds: 86_400, shortWindowSeconds: 7_200 },
            ],
          }),
        ],
        [],
      ),
    );
    const [over, exact] = custom.slos[0].tiers;
    expect([over.evaluatedHourly, exact.evaluatedHourly]).toEqual([true, false]);
    expect(over.detections.every((d) => d.latestSeconds === d.seconds! + 3_540)).toBe(true);
    expect(exact.detections.every((d) => d.latestSeconds === undefined)).toBe(true);
  });

  it('uses custom error ratios and reports "never" (undefined) below a tier threshold', () => {
    const custom = buildPlan(checkoutPolicy, { errorRatios: [0.01] });
    const [page1h, page6h] = custom.slos[0].tiers;
    expect(page1h.detections).toEqual([{ errorRatio: 0.01, seconds: undefined, budgetSpent: undefined }]);
    expect(page6h.detections[0].seconds).toBe(12_960); // 0.006 × 21600 ÷ 0.01
  });
});

// ---------------------------------------------------------------------------------------------
// renderPlan
// ---------------------------------------------------------------------------------------------

describe('renderPlan', () => {
  const text = renderPlan(buildPlan(checkoutPolicy));
  const lines = text.split('\n');
  const rowOf = (tierName: string) => lines.find((l) => l.trimStart().startsWith(`${tierName} `))!;

  it('names the stack', () => {
    expect(lines[0]).toBe('Rollback plan for stack CheckoutStack');
  });

  it('describes the SLO with objective, period, SLI and scope', () => {
    expect(text).toContain('SLO checkout-availability: 99.9 % over 30 d — Lambda errors ÷ invocations (version traffic)');
  });

  it('has a header with one column per quoted error ratio', () => {
    expect(text).toContain('fires at 100 % errors');
    expect(text).toContain('fires at 10 % errors');
    expect(text).toContain('fires at 2 % errors');
  });

  it('shows the 14.4× factor, windows, threshold and minimum events of page-1h', () => {
    const row = rowOf('page-1h');
    expect(row).toContain('14.4×');
    expect(row).toContain('1 h / 5 min');
    expect(row).toContain('1.44 %');
    expect(row).toContain(' 70 ');
  });

  it('shows page-1h firing after 1 min, 9 min and 44 min', () => {
    const row = rowOf('page-1h');
    expect(row).toMatch(/1 min \(2\.31 % budget\).*9 min \(2\.08 % budget\).*44 min \(2\.04 % budget\)/);
  });

  it('shows durations of an hour or more in hours', () => {
    expect(rowOf('ticket-3d')).toContain('3.6 h');
    expect(rowOf('page-6h')).toContain('1.8 h');
  });

  it('prints the 3-day tier’s detection times as ranges, budget included, and ticket-1d’s as single times', () => {
    expect(rowOf('ticket-3d')).toMatch(/5 min … 1\.1 h \(11\.6 … 148 % budget\)\s+44 min … 1\.7 h \(10\.2 … 23\.8 % budget\)\s+3\.6 h … 4\.6 h \(10 … 12\.7 % budget\)$/);
    expect(rowOf('ticket-1d')).toMatch(/5 min \(11\.6 % budget\)\s+44 min \(10\.2 % budget\)\s+3\.6 h \(10 % budget\)$/);
    expect(rowOf('ticket-1d')).not.toContain('…');
  });

  it('says in one line why the ranges are ranges, right under the table', () => {
    const reasons = lines.filter((l) => l.includes('a range, because'));
    expect(reasons).toEqual([
      '  ticket-3d: a range, because CloudWatch evaluates an alarm whose period × evaluation periods exceeds one day only once an hour — ' +
        'it fires up to 59 min after the earliest time, depending on where in the hour the errors start.',
    ]);
    expect(lines.indexOf(reasons[0])).toBe(lines.indexOf(rowOf('ticket-3d')) + 1);
  });

  it('prints no range and no reason when no window exceeds a day', () => {
    const fast = renderPlan(buildPlan(policy([sloFixture({ specs: WORKBOOK_TIERS.slice(0, 3) })])));
    expect(fast).not.toContain('…');
    expect(fast).not.toContain('a range, because');
  });

  it('says which ingestion delay the times include', () => {
    expect(text).toContain("Detection times assume steady traffic above each tier's minimum events, a clean history and no ingestion delay.");
    expect(renderPlan(buildPlan(checkoutPolicy, { ingestionDelaySeconds: 180 }))).toContain('a clean history and 3 min of ingestion delay (included).');
  });

  it('lists the four tiers in order', () => {
    const order = ['page-1h', 'page-6h', 'ticket-1d', 'ticket-3d'].map((name) => lines.indexOf(rowOf(name)));
    expect(order.every((i) => i > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('counts the threshold triggers', () => {
    expect(text).toContain('Threshold triggers: 1');
  });

  it('totals the alarms and the monthly cost', () => {
    expect(text).toContain('Alarms: 9 metric (0 high-resolution, 17 billed metrics), 6 composite — $4.70/month at us-east-1 list prices');
  });

  it('has no window-reuse line: SLOs never share alarms', () => {
    expect(text).not.toContain('Window reuse');
  });

  it('renders "never" for a ratio below a tier threshold', () => {
    const custom = renderPlan(buildPlan(checkoutPolicy, { errorRatios: [0.01] }));
    const row = custom.split('\n').find((l) => l.trimStart().startsWith('page-1h '))!;
    expect(row.trimEnd().endsWith('never')).toBe(true);
    expect(custom).toContain('fires at 1 % errors');
  });

  it('omits the stack name and the trigger line when there are none', () => {
    const bare = renderPlan(buildPlan({ schemaVersion: POLICY_SCHEMA_VERSION, slos: [checkout], thresholdTriggers: [] }));
    expect(bare.split('\n')[0]).toBe('Rollback plan');
    expect(bare).not.toContain('Threshold triggers');
  });

  it('aligns every factor under the burn-rate header', () => {
    const header = lines.find((l) => l.trimStart().startsWith('tier '))!;
    const column = header.indexOf('burn rate');
    const rows = ['page-1h', 'page-6h', 'ticket-1d', 'ticket-3d'].map(rowOf);
    expect(rows.map((row) => row.slice(column).split(' ')[0])).toEqual(['14.4×', '6×', '3×', '1×']);
  });
});

// ---------------------------------------------------------------------------------------------
// policyFromEntries and pricing helpers
// ---------------------------------------------------------------------------------------------

describe('policyFromEntries', () => {
  it('groups SLO and threshold entries and keeps the stack', () => {
    const doc = policyFromEntries(
      [
        { schemaVersion: 1, entry: latencyTrigger },
        { schemaVersion: 1, entry: checkout },
      ],
      'CheckoutStack',
    );
    expect(doc).toEqual({ schemaVersion: 1, stack: 'CheckoutStack', slos: [checkout], thresholdTriggers: [latencyTrigger], rollbackTriggers: [] });
  });

  it('returns an empty policy for no entries', () => {
    expect(policyFromEntries([])).toEqual({ schemaVersion: 1, stack: undefined, slos: [], thresholdTriggers: [], rollbackTriggers: [] });
  });

  it('throws on schemaVersion 2, asking to upgrade', () => {
    expect(() => policyFromEntries([{ schemaVersion: 2, entry: checkout }])).toThrow(
      /schemaVersion 2, this tool reads version 1 — upgrade cdk-rollback-triggers/,
    );
  });

  it('throws when the schema version is missing', () => {
    expect(() => policyFromEntries([{ entry: checkout }])).toThrow(/schemaVersion undefined/);
  });

  it('throws when an entry has no body', () => {
    expect(() => policyFromEntries([{ schemaVersion: 1 }])).toThrow(/has no entry: this tool reads version 1 entries/);
  });

  it('refuses an entry it cannot read with RT401', () => {
    expect(expectRtError(() => policyFromEntries([{ schemaVersion: 2, entry: checkout }]), 'RT401').message).toMatch(/upgrade cdk-rollback-triggers/);
    expectRtError(() => policyFromEntries([{ schemaVersion: 1 }]), 'RT401');
  });

  it('uses a namespaced metadata type', () => {
    expect(POLICY_METADATA_TYPE).toBe('cdk-rollback-triggers:policy');
  });

  it('feeds buildPlan directly', () => {
    const doc = policyFromEntries([{ schemaVersion: 1, entry: checkout }, { schemaVersion: 1, entry: latencyTrigger }], 'CheckoutStack');
    expect(buildPlan(doc).cost.monthlyUsd).toBe(4.7);
  });
});

describe('pricing', () => {
  it('uses the us-east-1 list prices', () => {
    expect(CLOUDWATCH_ALARM_PRICES_USD).toEqual({ standardPerMetric: 0.1, highResolutionPerMetric: 0.3, composite: 0.5 });
  });

  it('bills a metric alarm per metric it reads', () => {
    expect(metricAlarmMonthlyUsd(2, false)).toBeCloseTo(0.2, 12);
    expect(metricAlarmMonthlyUsd(2, true)).toBeCloseTo(0.6, 12);
  });

  it('sums money in cents without float noise', () => {
    expect(sumUsd([0.1, 0.2])).toBe(0.3);
    expect(sumUsd(Array.from({ length: 17 }, () => 0.1))).toBe(1.7);
    expect(sumUsd([4.7, -4.3])).toBe(0.4);
  });
});

describe('which path judges which minutes of a release (issue 8)', () => {
  const { policy: synthesized } = lambdaService();
  const plan = buildPlan(synthesized);

  it('names the alarm for the minutes both versions serve and the first minutes of an all-at-once release, the evaluator for the minutes the new version serves alone', () => {
    const coverage = plan.rollbackTriggers[0].coverage;
    expect(coverage.map((c) => c.minutes)).toEqual([
      'canary and linear steps (both versions serve)',
      // The alarm's 5-minute window holds more minutes before the release than after it for 2 minutes.
      'all at once, the first 2 min',
      'the new version alone (all at once; after the full shift)',
      'after the deployment succeeded',
    ]);
    expect(coverage[0].judgedBy).toMatch(/the rollback alarm, the new version against the current one on the same 5 min window \(more than 2× as often, by three standard deviations/);
    expect(coverage[2].judgedBy).toMatch(/^the evaluator \(from AfterAllowTraffic for 10 min, longer while the new version burns at the page rate, 55 min after the hook started at the latest\)/);
    expect(coverage[2].judgedBy).toMatch(/a blip of up to 3 min cannot fail/);
    expect(renderPlan(plan)).toContain('  Who judges which minutes of a release:\n    canary and linear steps (both versions serve): ');
  });

  it('gives a rollback alarm its time as a single figure, and a range only if its window exceeded a day', () => {
    const trigger = synthesized.rollbackTriggers![0];
    expect(plan.rollbackTriggers[0].alarms[0].detections.every((d) => d.latestSeconds === undefined)).toBe(true);
    // A hand-made rollback alarm on a 2-day window (the constructs do not make one): evaluated hourly.
    const long = buildPlan({ ...synthesized, rollbackTriggers: [{ ...trigger, alarms: trigger.alarms.map((a) => ({ ...a, windowSeconds: 2 * 86_400 })) }] });
    const detections = long.rollbackTriggers[0].alarms[0].detections;
    expect(detections.every((d) => d.seconds === undefined || d.latestSeconds === d.seconds + 3_540)).toBe(true);
    const text = renderPlan(long);
    expect(text).toMatch(/Availability\s+version\s+page-1h\s+14\.4×\s+\d+ (min|h) … \d/);
    expect(text).toContain('  Availability page-1h: a range, because CloudWatch evaluates an alarm whose period × evaluation periods exceeds one day only once an hour');
  });

  it('says when the alarm path is suspended, and drops the all-at-once line when no alarm compares', () => {
    const trigger = synthesized.rollbackTriggers![0];
    const suspended = buildPlan({ ...synthesized, rollbackTriggers: [{ ...trigger, alarmPathSuspended: true }] }).rollbackTriggers[0].coverage;
    expect(suspended[0].judgedBy).toMatch(/^the rollback alarms are SUSPENDED/);
    const burnOnly = buildPlan({ ...synthesized, rollbackTriggers: [{ ...trigger, alarms: trigger.alarms.map(({ baseline: _b, ...a }) => a) }] }).rollbackTriggers[0].coverage;
    expect(burnOnly.map((c) => c.minutes)).not.toContain('all at once, the first 2 min');
    expect(burnOnly[0].judgedBy).toMatch(/^the rollback alarm on the burn rate alone \(5 min window\)/);
  });
});
