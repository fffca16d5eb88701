import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_COMPLIANCE_PERIOD_SECONDS,
  HOURLY_EVALUATION_AFTER_SECONDS,
  RollbackTriggersError,
  WORKBOOK_TIERS,
  budgetSpentAtFire,
  burnRate,
  burnRateFactor,
  canTierFire,
  alarmEvaluationIntervalSeconds,
  defaultMinEventsPerWindow,
  deriveTier,
  detectionRangeSeconds,
  detectionSeconds,
  errorBudget,
  formatNumber,
  formatSeconds,
  fullOutageBudgetSeconds,
  MIN_ERROR_BUDGET,
  secondsToFire,
  validateBudgetConsumedPercent,
  validateDurationSeconds,
  validateErrorBudgetMeasurable,
  validateMinEventsMeasureBudget,
  validateMinEventsPerWindow,
  validateObjectivePercent,
  type TierSpec,
} from '../../lib/core';
import { expectRtError } from './helpers';

const DAY = 86_400;
const THIRTY_DAYS = 30 * DAY; // 2,592,000 s
const TWENTY_EIGHT_DAYS = 28 * DAY; // 2,419,200 s

const [PAGE_1H, PAGE_6H, TICKET_1D, TICKET_3D] = WORKBOOK_TIERS;

/** The 14.4× tier for a 99.9 % SLO over 30 days: the running example of the SRE Workbook. */
const fastTier = deriveTier(PAGE_1H, 99.9, THIRTY_DAYS);

function tier(overrides: Partial<TierSpec>): TierSpec {
  return { name: 'custom', severity: 'page', budgetFraction: 0.02, longWindowSeconds: 3_600, shortWindowSeconds: 300, ...overrides };
}

// ---------------------------------------------------------------------------------------------
// Arbitraries
// ---------------------------------------------------------------------------------------------

/** Any objective strictly between 0 and 100 %. */
const objectiveArb = fc.double({ min: 0, max: 100, minExcluded: true, maxExcluded: true, noNaN: true });

/** Whole-second windows with short < long ≤ period, period up to 400 days. */
const windowsArb = fc
  .integer({ min: 2, max: 400 * DAY })
  .chain((period) =>
    fc
      .integer({ min: 2, max: period })
      .chain((long) => fc.integer({ min: 1, max: long - 1 }).map((short) => ({ period, long, short }))),
  );

/** A structurally valid tier (fraction in (0, 1], short < long ≤ period) and its period. */
function tierCaseArb(fractionArb: fc.Arbitrary<number>) {
  return fc.record({ fraction: fractionArb, windows: windowsArb }).map(({ fraction, windows }) => ({
    period: windows.period,
    tier: tier({ budgetFraction: fraction, longWindowSeconds: windows.long, shortWindowSeconds: windows.short }),
  }));
}

const anyFractionArb = fc.double({ min: 0, max: 1, minExcluded: true, noNaN: true });
/** Budget shares of at least one part per million, so products stay well inside normal floats. */
const practicalFractionArb = fc.double({ min: 1e-6, max: 1, noNaN: true });

/** A tier that deriveTier accepts, with its objective and period. */
const derivableArb = fc
  .record({ objective: objectiveArb, tierCase: tierCaseArb(practicalFractionArb) })
  .filter(({ objective, tierCase }) => canTierFire(tierCase.tier, objective, tierCase.period))
  .map(({ objective, tierCase }) => ({
    objective,
    period: tierCase.period,
    derived: deriveTier(tierCase.tier, objective, tierCase.period),
  }));

// ---------------------------------------------------------------------------------------------
// Reference values (Google SRE Workbook, "Alerting on SLOs")
// ---------------------------------------------------------------------------------------------

describe('errorBudget', () => {
  it('is exactly 0.001 for a 99.9 % objective', () => {
    expect(errorBudget(99.9)).toBe(0.001);
  });

  it('is exactly 0.0001 for a 99.99 % objective', () => {
    expect(errorBudget(99.99)).toBe(0.0001);
  });

  it('is exactly 0.00001 for a 99.999 % objective', () => {
    expect(errorBudget(99.999)).toBe(0.00001);
  });

  it('is 0.1 for a 90 % objective', () => {
    expect(errorBudget(90)).toBe(0.1);
  });
});

describe('burnRate', () => {
  it('is 1 when errors arrive exactly at the budget rate', () => {
    expect(burnRate(0.001, 99.9)).toBeCloseTo(1, 12);
  });

  it('is 1000 for a total outage of a 99.9 % SLO', () => {
    expect(burnRate(1, 99.9)).toBeCloseTo(1000, 9);
  });

  it('is 14.4 at a 1.44 % error ratio for a 99.9 % SLO', () => {
    expect(burnRate(0.0144, 99.9)).toBeCloseTo(14.4, 9);
  });

  it('rejects an invalid objective', () => {
    expectRtError(() => burnRate(0.1, 100), 'RT101');
  });
});

describe('burn-rate factors of the workbook tiers', () => {
  it('lists the four tiers fastest first with the workbook windows and budget shares', () => {
    expect(WORKBOOK_TIERS.map((t) => [t.name, t.severity, t.budgetFraction, t.longWindowSeconds, t.shortWindowSeconds])).toEqual([
      ['page-1h', 'page', 0.02, 3_600, 300],
      ['page-6h', 'page', 0.05, 21_600, 1_800],
      ['ticket-1d', 'ticket', 0.1, 86_400, 7_200],
      ['ticket-3d', 'ticket', 0.1, 259_200, 21_600],
    ]);
  });

  it('uses a short window of long ÷ 12 for every tier', () => {
    for (const t of WORKBOOK_TIERS) expect(t.shortWindowSeconds * 12).toBe(t.longWindowSeconds);
  });

  it('defaults the compliance period to 30 days', () => {
    expect(DEFAULT_COMPLIANCE_PERIOD_SECONDS).toBe(THIRTY_DAYS);
  });

  it.each([
    ['page-1h', PAGE_1H, 14.4],
    ['page-6h', PAGE_6H, 6],
    ['ticket-1d', TICKET_1D, 3],
    ['ticket-3d', TICKET_3D, 1],
  ])('gives %s a factor of %d over 30 days', (_name, spec, expected) => {
    expect(deriveTier(spec, 99.9, THIRTY_DAYS).factor).toBeCloseTo(expected, 3);
  });

  it.each([
    ['page-1h', PAGE_1H, 13.44],
    ['page-6h', PAGE_6H, 5.6],
    ['ticket-1d', TICKET_1D, 2.8],
    ['ticket-3d', TICKET_3D, 0.933],
  ])('gives %s a factor of %d over 28 days', (_name, spec, expected) => {
    expect(deriveTier(spec, 99.9, TWENTY_EIGHT_DAYS).factor).toBeCloseTo(expected, 3);
  });

  it('renders the 30-day factors without float noise', () => {
    expect(WORKBOOK_TIERS.map((t) => burnRateFactor(t.budgetFraction, THIRTY_DAYS, t.longWindowSeconds))).toEqual([14.4, 6, 3, 1]);
  });

  it('derives the error-ratio thresholds 1.44 %, 0.6 %, 0.3 %, 0.1 % for a 99.9 % SLO', () => {
    expect(WORKBOOK_TIERS.map((t) => deriveTier(t, 99.9, THIRTY_DAYS).errorRatioThreshold)).toEqual([0.0144, 0.006, 0.003, 0.001]);
  });

  it('keeps the tier spec fields on the derived tier', () => {
    expect(fastTier).toMatchObject(PAGE_1H);
  });
});

describe('time to fire of the 14.4× tier for a 99.9 % SLO', () => {
  it.each([
    [1, 51.84],
    [0.1, 518.4],
    [0.02, 2_592],
  ])('at an error ratio of %d it fires after ~%d s of continuous bad traffic', (ratio, seconds) => {
    expect(secondsToFire(fastTier, ratio)).toBeCloseTo(seconds, 6);
  });

  it.each([
    [1, 60],
    [0.1, 540],
    [0.02, 2_640],
  ])('at an error ratio of %d CloudWatch detects it after %d s (rounded up to whole minutes)', (ratio, seconds) => {
    expect(detectionSeconds(fastTier, ratio)).toBe(seconds);
  });

  it('fires exactly when the error ratio reaches the 1.44 % threshold, after the full long window', () => {
    expect(secondsToFire(fastTier, 0.0144)).toBeCloseTo(3_600, 9);
    expect(detectionSeconds(fastTier, 0.0144)).toBe(3_600);
  });

  it('never fires at 1 % errors, below the 1.44 % threshold', () => {
    expect(secondsToFire(fastTier, 0.01)).toBeUndefined();
    expect(detectionSeconds(fastTier, 0.01)).toBeUndefined();
    expect(budgetSpentAtFire(fastTier, 0.01, 99.9, THIRTY_DAYS)).toBeUndefined();
  });

  it('never fires at a zero, negative or NaN error ratio', () => {
    expect(secondsToFire(fastTier, 0)).toBeUndefined();
    expect(secondsToFire(fastTier, -0.5)).toBeUndefined();
    expect(secondsToFire(fastTier, Number.NaN)).toBeUndefined();
  });

  it.each([1, 0.1, 0.02])('has spent the tier budget share (2 %) when it fires at an error ratio of %d', (ratio) => {
    expect(budgetSpentAtFire(fastTier, ratio, 99.9, THIRTY_DAYS)).toBeCloseTo(0.02, 12);
  });

  it('charges the extra time of the minute rounding to the budget when given the detection time', () => {
    // 10 % errors for 540 s instead of 518.4 s: 54 bad-traffic seconds of a 2,592-second budget.
    expect(budgetSpentAtFire(fastTier, 0.1, 99.9, THIRTY_DAYS, 540)).toBeCloseTo(54 / 2_592, 12);
  });

  it('adds the ingestion delay after rounding', () => {
    expect(detectionSeconds(fastTier, 0.1, 60, 120)).toBe(660);
  });

  it('rounds up to a custom evaluation interval', () => {
    expect(detectionSeconds(fastTier, 0.1, 300)).toBe(600);
    expect(detectionSeconds(fastTier, 1, 10)).toBe(60);
  });

  it('absorbs float noise of under 1e-9 evaluation intervals instead of rounding up a whole minute', () => {
    // threshold 0.0166666666667 (1/60 to 12 digits) × 3600 s = 60.00000000012 s at 100 % errors.
    const nearlyOneMinute = deriveTier(tier({ budgetFraction: 0.0333333333334 }), 50, 3_600);
    expect(secondsToFire(nearlyOneMinute, 1)).toBeGreaterThan(60);
    expect(detectionSeconds(nearlyOneMinute, 1)).toBe(60);
  });
});

describe('hourly evaluation of alarms over a day', () => {
  const ticket1d = deriveTier(TICKET_1D, 99.9, THIRTY_DAYS);
  const ticket3d = deriveTier(TICKET_3D, 99.9, THIRTY_DAYS);

  it('evaluates an alarm every minute up to a day of period × evaluation periods, once an hour beyond', () => {
    expect(HOURLY_EVALUATION_AFTER_SECONDS).toBe(DAY);
    expect(alarmEvaluationIntervalSeconds(60)).toBe(60);
    expect(alarmEvaluationIntervalSeconds(DAY)).toBe(60);
    expect(alarmEvaluationIntervalSeconds(DAY + 60)).toBe(3_600);
    expect(alarmEvaluationIntervalSeconds(3 * DAY)).toBe(3_600);
    expect(alarmEvaluationIntervalSeconds(3_600, 24)).toBe(60);
    expect(alarmEvaluationIntervalSeconds(3_600, 25)).toBe(3_600);
    expect(alarmEvaluationIntervalSeconds(300, 288)).toBe(60);
  });

  it('gives tiers whose windows are a day or less one time: the range is a point', () => {
    for (const tier of [fastTier, deriveTier(PAGE_6H, 99.9, THIRTY_DAYS), ticket1d]) {
      for (const ratio of [1, 0.1, 0.02]) {
        const range = detectionRangeSeconds(tier, ratio)!;
        expect(range, `${tier.name} at ${ratio}`).toEqual({ earliestSeconds: detectionSeconds(tier, ratio), latestSeconds: detectionSeconds(tier, ratio) });
      }
    }
  });

  it.each([
    [1, 300],
    [0.1, 2_640],
    [0.02, 12_960],
  ])('gives the 3-day tier at an error ratio of %d a range from %d s to 59 minutes later', (ratio, earliest) => {
    expect(detectionRangeSeconds(ticket3d, ratio)).toEqual({ earliestSeconds: earliest, latestSeconds: earliest + 3_540 });
    expect(detectionSeconds(ticket3d, ratio)).toBe(earliest);
  });

  it('adds the ingestion delay to both ends', () => {
    expect(detectionRangeSeconds(ticket3d, 1, 180)).toEqual({ earliestSeconds: 480, latestSeconds: 480 + 3_540 });
    expect(detectionRangeSeconds(fastTier, 0.1, 120)).toEqual({ earliestSeconds: 660, latestSeconds: 660 });
  });

  it('is undefined where the tier never fires', () => {
    expect(detectionRangeSeconds(ticket3d, 0.0009)).toBeUndefined();
    expect(detectionRangeSeconds(ticket3d, 0)).toBeUndefined();
    expect(detectionRangeSeconds(ticket3d, Number.NaN)).toBeUndefined();
  });

  it('waits for the later window: an hourly long window fires on the hour, a minute-evaluated short one when it breaches', () => {
    // A custom tier whose short window breaches long after the long one would be odd (the short
    // window is shorter), but both hourly: one shared hour, so still 59 minutes at most.
    const bothHourly = deriveTier(tier({ longWindowSeconds: 7 * DAY, shortWindowSeconds: 2 * DAY }), 99.9, THIRTY_DAYS);
    const range = detectionRangeSeconds(bothHourly, 1)!;
    expect(range.latestSeconds - range.earliestSeconds).toBe(3_540);
  });
});

describe('edge objectives from the design notes', () => {
  it('lets a 99.999 % SLO exhaust a month of budget in ~26 s of total outage', () => {
    expect(errorBudget(99.999) * THIRTY_DAYS).toBeCloseTo(25.92, 9);
    const tier99999 = deriveTier(PAGE_1H, 99.999, THIRTY_DAYS);
    expect(budgetSpentAtFire(tier99999, 1, 99.999, THIRTY_DAYS, 25.92)).toBeCloseTo(1, 9);
  });

  it('still fires the 14.4× tier for a 99.999 % SLO, within the first minute of an outage', () => {
    const tier99999 = deriveTier(PAGE_1H, 99.999, THIRTY_DAYS);
    expect(tier99999.errorRatioThreshold).toBeCloseTo(0.000144, 12);
    expect(secondsToFire(tier99999, 1)).toBeCloseTo(0.5184, 9);
    expect(detectionSeconds(tier99999, 1)).toBe(60);
  });

  it('accepts a tier whose threshold is exactly 100 %, which fires only on a total outage after its long window', () => {
    // factor 10 (100 % budget over 10 h ÷ 1 h) × budget 0.1 = threshold 1.
    const edge = deriveTier(tier({ budgetFraction: 1 }), 90, 36_000);
    expect(edge.factor).toBe(10);
    expect(edge.errorRatioThreshold).toBe(1);
    expect(secondsToFire(edge, 1)).toBe(3_600);
    expect(secondsToFire(edge, 0.999)).toBeUndefined();
  });

  it('accepts the 1× tier for a 90 % SLO (threshold 10 %)', () => {
    expect(deriveTier(TICKET_3D, 90, THIRTY_DAYS).errorRatioThreshold).toBeCloseTo(0.1, 12);
  });
});

describe('canTierFire', () => {
  it('is true for all workbook tiers at 99.9 %', () => {
    for (const t of WORKBOOK_TIERS) expect(canTierFire(t, 99.9, THIRTY_DAYS)).toBe(true);
  });

  it('is false only for the 14.4× tier at 90 % (the largest usable factor is 1 ÷ 0.1 = 10)', () => {
    expect(WORKBOOK_TIERS.map((t) => canTierFire(t, 90, THIRTY_DAYS))).toEqual([false, true, true, true]);
  });

  it('is false for the 14.4× and 6× tiers at 80 % (largest usable factor 5)', () => {
    expect(WORKBOOK_TIERS.map((t) => canTierFire(t, 80, THIRTY_DAYS))).toEqual([false, false, true, true]);
  });

  it('is false for a malformed tier or objective instead of throwing', () => {
    expect(canTierFire(tier({ budgetFraction: 0 }), 99.9, THIRTY_DAYS)).toBe(false);
    expect(canTierFire(PAGE_1H, 100, THIRTY_DAYS)).toBe(false);
  });
});

describe('defaultMinEventsPerWindow', () => {
  it.each([
    ['page-1h', PAGE_1H, 70],
    ['page-6h', PAGE_6H, 167],
    ['ticket-1d', TICKET_1D, 334],
    ['ticket-3d', TICKET_3D, 1_001],
  ])('is %s → %d for a 99.9 % SLO over 30 days', (_name, spec, expected) => {
    expect(defaultMinEventsPerWindow(deriveTier(spec, 99.9, THIRTY_DAYS))).toBe(expected);
  });

  it('needs one more event than 1 ÷ threshold when that is a whole number (one error in 1000 events is exactly 0.1 %)', () => {
    const oneX = deriveTier(TICKET_3D, 99.9, THIRTY_DAYS);
    expect(oneX.errorRatioThreshold).toBe(0.001);
    expect(1 / 1_000).toBeGreaterThanOrEqual(oneX.errorRatioThreshold);
    expect(defaultMinEventsPerWindow(oneX)).toBe(1_001);
  });

  it('is 2 for a tier whose threshold is a 100 % error ratio', () => {
    expect(defaultMinEventsPerWindow(deriveTier(tier({ budgetFraction: 1 }), 90, 36_000))).toBe(2);
  });

  // Regression: a float fudge once returned 11 here. Threshold 0.100000000001: one error in 10
  // events is 0.1 < threshold, so 10 is the smallest safe count.
  it('is the smallest safe count when 1 ÷ threshold is just below a whole number', () => {
    const t = deriveTier(tier({ budgetFraction: 0.500000000005, longWindowSeconds: 1_000, shortWindowSeconds: 10 }), 90, 2_000);
    expect(t.errorRatioThreshold).toBe(0.100000000001);
    expect(1 / 10).toBeLessThan(t.errorRatioThreshold);
    expect(defaultMinEventsPerWindow(t)).toBe(10);
  });
});

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

describe('RT101: invalid objective', () => {
  it.each([
    [0, 'got 0'],
    [100, 'got 100'],
    [-1, 'got -1'],
    [Number.NaN, 'got NaN'],
    [Number.POSITIVE_INFINITY, 'got Infinity'],
    [150, 'got 150'],
  ])('rejects %d, naming the value and suggesting 99.9', (objective, shown) => {
    const error = expectRtError(() => errorBudget(objective), 'RT101');
    expect(error.message).toContain(shown);
    expect(error.message).toContain('99.9');
  });

  it('is raised by deriveTier for an invalid objective', () => {
    expectRtError(() => deriveTier(PAGE_1H, 0, THIRTY_DAYS), 'RT101');
  });

  it('names the property it was given', () => {
    const error = expectRtError(() => validateObjectivePercent(100, 'props.objective'), 'RT101');
    expect(error.message).toContain('props.objective');
  });

  it('accepts objectives just inside the bounds', () => {
    expect(() => validateObjectivePercent(0.001)).not.toThrow();
    expect(() => validateObjectivePercent(99.9999)).not.toThrow();
  });

  it('is a RollbackTriggersError, a subclass of Error, with its code in the message', () => {
    const error = expectRtError(() => errorBudget(0), 'RT101');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('RollbackTriggersError');
    expect(error).toBeInstanceOf(RollbackTriggersError);
  });
});

describe('RT102: budget fraction out of range', () => {
  it.each([0, -0.1, 1.5, Number.NaN])('rejects a budget fraction of %d', (fraction) => {
    expectRtError(() => deriveTier(tier({ budgetFraction: fraction }), 99.9, THIRTY_DAYS), 'RT102');
  });

  it('reports the fraction as a percentage and names the tier', () => {
    const error = expectRtError(() => deriveTier(tier({ name: 'too-greedy', budgetFraction: 1.5 }), 99.9, THIRTY_DAYS), 'RT102');
    expect(error.message).toContain('"too-greedy"');
    expect(error.message).toContain('150 %');
  });

  it('accepts a budget fraction of exactly 1', () => {
    expect(() => deriveTier(tier({ budgetFraction: 1, longWindowSeconds: THIRTY_DAYS, shortWindowSeconds: DAY }), 99.9, THIRTY_DAYS)).not.toThrow();
  });
});

describe('RT103: non-positive windows', () => {
  it.each([
    [0, 300],
    [3_600, 0],
    [-3_600, 300],
    [3_600, Number.NaN],
  ])('rejects long %d s / short %d s', (long, short) => {
    expectRtError(() => deriveTier(tier({ longWindowSeconds: long, shortWindowSeconds: short }), 99.9, THIRTY_DAYS), 'RT103');
  });
});

describe('RT104: short window not shorter than long window', () => {
  it('rejects a short window equal to the long window', () => {
    expectRtError(() => deriveTier(tier({ longWindowSeconds: 3_600, shortWindowSeconds: 3_600 }), 99.9, THIRTY_DAYS), 'RT104');
  });

  it('rejects a short window longer than the long window, naming both and the long ÷ 12 rule', () => {
    const error = expectRtError(() => deriveTier(tier({ longWindowSeconds: 300, shortWindowSeconds: 3_600 }), 99.9, THIRTY_DAYS), 'RT104');
    expect(error.message).toContain('short 1 h');
    expect(error.message).toContain('long 5 min');
    expect(error.message).toContain('long ÷ 12');
  });
});

describe('RT105: long window longer than the compliance period', () => {
  it('rejects a 3-day window in a 1-day period, naming both', () => {
    const error = expectRtError(() => deriveTier(TICKET_3D, 99.9, DAY), 'RT105');
    expect(error.message).toContain('longWindow 3 d');
    expect(error.message).toContain('compliance period 1 d');
    expect(error.message).toContain('lengthen compliancePeriod or shorten the tier\'s longWindow');
  });

  it('accepts a long window equal to the compliance period', () => {
    expect(() => deriveTier(tier({ budgetFraction: 0.5, longWindowSeconds: DAY, shortWindowSeconds: 7_200 }), 99.9, DAY)).not.toThrow();
  });
});

describe('RT106: tier that can never fire', () => {
  it('rejects the 14.4× tier for a 90 % SLO (threshold 144 %)', () => {
    const error = expectRtError(() => deriveTier(PAGE_1H, 90, THIRTY_DAYS), 'RT106');
    expect(error.message).toContain('never fire');
    expect(error.message).toContain('"page-1h"');
    expect(error.message).toContain('90 %');
    expect(error.message).toContain('144 %');
  });

  it('names the largest usable factor (1 ÷ budget)', () => {
    const error = expectRtError(() => deriveTier(PAGE_1H, 90, THIRTY_DAYS), 'RT106');
    expect(error.message).toContain('the largest usable factor is 10');
  });

  it('rejects the 6× tier for a 80 % SLO (threshold 120 %)', () => {
    expectRtError(() => deriveTier(PAGE_6H, 80, THIRTY_DAYS), 'RT106');
  });
});

describe('message formatting', () => {
  it.each([
    [3 * DAY, '3 d'],
    [3_600, '1 h'],
    [21_600, '6 h'],
    [300, '5 min'],
    [90, '90 s'],
    [0.5, '0.5 s'],
  ])('formats %d s as "%s"', (seconds, text) => {
    expect(formatSeconds(seconds)).toBe(text);
  });

  it('formats numbers without float noise', () => {
    expect(formatNumber(0.1 + 0.2)).toBe('0.3');
    expect(formatNumber(0.0144 * 100)).toBe('1.44');
    expect(formatNumber(Number.NaN)).toBe('NaN');
  });
});

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

describe('properties', () => {
  it('factor × long window = budget fraction × compliance period', () => {
    fc.assert(
      fc.property(tierCaseArb(practicalFractionArb), ({ tier: t, period }) => {
        const factor = burnRateFactor(t.budgetFraction, period, t.longWindowSeconds);
        const budgetSeconds = t.budgetFraction * period;
        expect(Math.abs(factor * t.longWindowSeconds - budgetSeconds)).toBeLessThanOrEqual(budgetSeconds * 1e-11);
      }),
      { numRuns: 500 },
    );
  });

  it('deriveTier reports the factor and threshold = factor × budget', () => {
    fc.assert(
      fc.property(derivableArb, ({ objective, period, derived }) => {
        const budget = errorBudget(objective);
        expect(Math.abs(derived.factor * derived.longWindowSeconds - derived.budgetFraction * period)).toBeLessThanOrEqual(
          derived.budgetFraction * period * 1e-11,
        );
        expect(Math.abs(derived.errorRatioThreshold - derived.factor * budget)).toBeLessThanOrEqual(derived.factor * budget * 1e-11);
        expect(derived.errorRatioThreshold).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });

  it('secondsToFire is defined iff the error ratio reaches the threshold', () => {
    fc.assert(
      fc.property(derivableArb, fc.double({ min: 0, max: 1, noNaN: true }), ({ derived }, ratio) => {
        expect(secondsToFire(derived, ratio) !== undefined).toBe(ratio > 0 && ratio >= derived.errorRatioThreshold);
        // The threshold itself always fires, after the full long window.
        if (derived.errorRatioThreshold > 0) {
          expect(secondsToFire(derived, derived.errorRatioThreshold)).toBeCloseTo(derived.longWindowSeconds, 6);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('secondsToFire does not grow as the error ratio grows above the threshold', () => {
    fc.assert(
      fc.property(
        derivableArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        ({ derived }, u1, u2) => {
          const t = derived.errorRatioThreshold;
          fc.pre(t > 0);
          const [low, high] = [t + Math.min(u1, u2) * (1 - t), t + Math.max(u1, u2) * (1 - t)];
          const slow = secondsToFire(derived, low);
          const fast = secondsToFire(derived, high);
          expect(slow).toBeDefined();
          expect(fast).toBeDefined();
          expect(fast!).toBeLessThanOrEqual(slow!);
          // and never later than the long window
          expect(slow!).toBeLessThanOrEqual(derived.longWindowSeconds * (1 + 1e-12));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('a tier can fire iff deriveTier accepts it iff factor × budget ≤ 1', () => {
    const seen = { fires: 0, never: 0 };
    fc.assert(
      fc.property(objectiveArb, tierCaseArb(anyFractionArb), (objective, { tier: t, period }) => {
        const product = burnRateFactor(t.budgetFraction, period, t.longWindowSeconds) * errorBudget(objective);
        let thrown: unknown;
        try {
          deriveTier(t, objective, period);
        } catch (error) {
          thrown = error;
        }
        if (thrown !== undefined) expect((thrown as RollbackTriggersError).code).toBe('RT106');
        const fires = canTierFire(t, objective, period);
        expect(fires).toBe(thrown === undefined);
        expect(fires).toBe(product <= 1);
        seen[fires ? 'fires' : 'never'] += 1;
      }),
      { numRuns: 1_000 },
    );
    // Both outcomes must actually have been exercised for the equivalence to mean anything.
    expect(seen.fires).toBeGreaterThan(20);
    expect(seen.never).toBeGreaterThan(20);
  });

  it('defaultMinEventsPerWindow is the smallest count at which one bad event stays below the threshold', () => {
    // Thresholds ≥ 1e-6 (at most ~1M events per window): far below that, 1 ÷ N and the threshold
    // differ by less than a double can resolve, so the float comparison itself stops being exact.
    fc.assert(
      fc.property(derivableArb, ({ derived }) => {
        const t = derived.errorRatioThreshold;
        fc.pre(t >= 1e-6);
        const n = defaultMinEventsPerWindow(derived);
        expect(Number.isInteger(n)).toBe(true);
        expect(n).toBeGreaterThan(1);
        expect(1 / n).toBeLessThan(t);
        expect(1 / (n - 1)).toBeGreaterThanOrEqual(t);
      }),
      { numRuns: 1_000 },
    );
  });

  it('detectionSeconds is a whole number of minutes, not earlier than secondsToFire', () => {
    fc.assert(
      fc.property(derivableArb, fc.double({ min: 0, max: 1, noNaN: true }), ({ derived }, ratio) => {
        const continuous = secondsToFire(derived, ratio);
        const detected = detectionSeconds(derived, ratio);
        expect(detected === undefined).toBe(continuous === undefined);
        if (continuous === undefined || detected === undefined) return;
        expect(detected % 60).toBe(0);
        // Rounding up snaps float noise below 1e-9 minutes down (see the "absorbs float noise" test).
        expect(detected).toBeGreaterThanOrEqual(continuous - 60e-9);
        expect(detected).toBeLessThan(continuous + 60);
      }),
      { numRuns: 1_000 },
    );
  });

  it('detectionRangeSeconds starts at detectionSeconds and ends at most 59 minutes later, only for windows over a day', () => {
    fc.assert(
      fc.property(derivableArb, fc.double({ min: 0, max: 1, noNaN: true }), fc.integer({ min: 0, max: 600 }), ({ derived }, ratio, delay) => {
        const range = detectionRangeSeconds(derived, ratio, delay);
        const detected = detectionSeconds(derived, ratio, 60, delay);
        expect(range === undefined).toBe(detected === undefined);
        if (range === undefined) return;
        expect(range.earliestSeconds).toBe(detected);
        const hourly = derived.longWindowSeconds > DAY || derived.shortWindowSeconds > DAY;
        expect(range.latestSeconds - range.earliestSeconds).toBe(hourly ? 3_540 : 0);
      }),
      { numRuns: 1_000 },
    );
  });

  it('budgetSpentAtFire at the continuous time equals the tier budget share', () => {
    fc.assert(
      fc.property(derivableArb, fc.double({ min: 0, max: 1, noNaN: true }), ({ objective, period, derived }, u) => {
        const t = derived.errorRatioThreshold;
        fc.pre(t > 0);
        const ratio = t + u * (1 - t);
        expect(budgetSpentAtFire(derived, ratio, objective, period)).toBeCloseTo(derived.budgetFraction, 9);
      }),
      { numRuns: 500 },
    );
  });
});

describe('RT118: durations are positive, finite, whole seconds', () => {
  it.each([
    [0, 'Duration.days(0)', '(0 s)'],
    [Number.NaN, 'Duration.days(NaN)', ''],
    [Number.POSITIVE_INFINITY, 'Duration.days(Infinity)', ''],
    [1.5, 'Duration.millis(1500)', '(1.5 s)'],
    [-60, 'Duration.minutes(-1)', '(-60 s)'],
  ])('refuses %s s, naming the prop and the value as written', (seconds, rendered, inSeconds) => {
    const error = expectRtError(() => validateDurationSeconds('compliancePeriod', seconds, rendered), 'RT118');
    expect(error.message).toContain(`compliancePeriod must be a whole number of seconds above 0, got ${rendered}${inSeconds ? ` ${inSeconds}` : ''} —`);
  });

  it('accepts any positive whole number of seconds', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 10 * 365 * DAY }), (seconds) => validateDurationSeconds('d', seconds, `${seconds}`)));
  });
});

describe('RT102: budgetConsumedPercent', () => {
  it.each([0, -1, 100.0001, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])('refuses %s', (percent) => {
    expect(expectRtError(() => validateBudgetConsumedPercent('budgetConsumedPercent', percent), 'RT102').message).toContain(`got ${percent}`);
  });

  it.each([0.001, 2, 5, 10, 100])('accepts %s', (percent) => {
    expect(() => validateBudgetConsumedPercent('budgetConsumedPercent', percent)).not.toThrow();
  });
});

describe('RT114: minEventsPerWindow is a whole number from 1 to 2^53 − 1', () => {
  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, 1e300])('refuses %s', (n) => {
    expectRtError(() => validateMinEventsPerWindow(n), 'RT114');
  });

  it.each([1, 70, Number.MAX_SAFE_INTEGER])('accepts %s', (n) => {
    expect(() => validateMinEventsPerWindow(n)).not.toThrow();
  });
});

describe('RT119: an objective whose budget is below one event in a million', () => {
  it('accepts six nines, the smallest budget the alarms can write', () => {
    expect(MIN_ERROR_BUDGET).toBe(1e-6);
    expect(errorBudget(99.9999)).toBeCloseTo(1e-6, 15);
    expect(String(errorBudget(99.9999))).not.toContain('e');
    expect(() => validateErrorBudgetMeasurable(99.9999)).not.toThrow();
  });

  it.each([99.99995, 99.99999, 99.9999999999, 99.99999999999999])('refuses %s', (objective) => {
    const error = expectRtError(() => validateErrorBudgetMeasurable(objective), 'RT119');
    expect(error.message).toContain(`objectivePercent ${objective} leaves an error budget of`);
    expect(error.message).toContain('use at most 99.9999 (six nines)');
  });

  it('says how many events a window would need before one failure stops paging by itself', () => {
    // 99.99999 % → budget 1e-7 (as the double gives it: 1.00000000032e-7); 1 ÷ (14.4 × 1e-7) ≈ 694,444.
    expect(expectRtError(() => validateErrorBudgetMeasurable(99.99999), 'RT119').message).toContain('over 694444 events');
  });
});

describe('RT120: one failed request at the minimum event count must stay below every threshold', () => {
  const derived = (objective: number) => WORKBOOK_TIERS.map((t) => deriveTier(t, objective, THIRTY_DAYS));

  it('refuses 99.999 % with minEventsPerWindow 100: one failure in 100 is a 1000× burn', () => {
    const error = expectRtError(() => validateMinEventsMeasureBudget(99.999, 100, derived(99.999)), 'RT120');
    expect(error.message).toContain('objectivePercent 99.999 leaves an error budget of 0.001 % of events, less than one request can measure at minEventsPerWindow 100');
    expect(error.message).toContain('a 1000× burn');
    // The 1× tier has the lowest threshold, so it is the one named; the other three fail too.
    expect(error.message).toContain('tier "ticket-3d" (1×, an error ratio of 0.001 %) (and 3 other tiers)');
    expect(error.message).toContain('Raise minEventsPerWindow to at least 100001');
    expect(error.message).toContain('lower objectivePercent below 99');
  });

  it('puts the boundary where one failure equals the threshold: 1,000 events fire a 99.9 % 1× tier, 1,001 do not', () => {
    expectRtError(() => validateMinEventsMeasureBudget(99.9, 1000, derived(99.9)), 'RT120');
    expect(() => validateMinEventsMeasureBudget(99.9, 1001, derived(99.9))).not.toThrow();
  });

  it('never refuses the per-tier defaults', () => {
    fc.assert(
      fc.property(fc.double({ min: 95, max: 99.9999, noNaN: true }), fc.constantFrom(...WORKBOOK_TIERS), (objective, spec) => {
        if (!canTierFire(spec, objective, THIRTY_DAYS)) return;
        const tier = deriveTier(spec, objective, THIRTY_DAYS);
        validateMinEventsMeasureBudget(objective, defaultMinEventsPerWindow(tier), [tier]);
      }),
    );
  });
});

describe('fullOutageBudgetSeconds', () => {
  it('is 25.92 s for 99.999 % over 30 days and 43.2 min for 99.9 %', () => {
    expect(fullOutageBudgetSeconds(99.999, THIRTY_DAYS)).toBeCloseTo(25.92, 6);
    expect(fullOutageBudgetSeconds(99.9, THIRTY_DAYS)).toBeCloseTo(2_592, 6);
  });
});
