import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_ALARM_DESCRIPTION_LENGTH,
  MAX_ALARM_NAME_LENGTH,
  MAX_COMPOSITE_CHILDREN,
  MAX_COMPOSITE_RULE_LENGTH,
  MAX_EXPRESSIONS_PER_MATH_ALARM,
  MAX_METRICS_PER_MATH_ALARM,
  compositeRule,
  isHighResolutionPeriod,
  isValidPeriod,
  validateAlarmDescription,
  validateAlarmMathExpression,
  validateAlarmName,
  validateAlarmNamePart,
  validateComposite,
  validateDatapointsToAlarm,
  validateEvaluationRange,
  validateLibraryQueryId,
  validateMathAlarmSize,
  validatePeriod,
  validateResolutionForNamespaces,
  validateSubMinutePeriod,
  validateThreshold,
  validateWindowMultiple,
} from '../../lib/core';
import { expectRtError } from './helpers';

describe('PutMetricAlarm / PutCompositeAlarm limit constants', () => {
  it('match the documented CloudWatch quotas', () => {
    expect(MAX_METRICS_PER_MATH_ALARM).toBe(10);
    expect(MAX_EXPRESSIONS_PER_MATH_ALARM).toBe(10);
    expect(MAX_COMPOSITE_RULE_LENGTH).toBe(10_240);
    expect(MAX_COMPOSITE_CHILDREN).toBe(100);
    expect(MAX_ALARM_NAME_LENGTH).toBe(255);
  });
});

describe('isValidPeriod', () => {
  it.each([10, 20, 30, 60, 120, 300, 3_600, 86_400])('accepts %d s', (seconds) => {
    expect(isValidPeriod(seconds)).toBe(true);
  });

  it.each([0, -60, 5, 15, 45, 59, 61, 90, 1.5, 60.5, Number.NaN, Number.POSITIVE_INFINITY])('rejects %d s', (seconds) => {
    expect(isValidPeriod(seconds)).toBe(false);
  });

  it('accepts every positive multiple of 60 s', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), (k) => {
        expect(isValidPeriod(60 * k)).toBe(true);
      }),
    );
  });

  it('rejects every whole number of seconds above 30 that is not a multiple of 60', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 31, max: 10_000_000 }).filter((s) => s % 60 !== 0),
        (seconds) => {
          expect(isValidPeriod(seconds)).toBe(false);
        },
      ),
    );
  });
});

describe('isHighResolutionPeriod', () => {
  it('is true below 60 s and false from 60 s', () => {
    expect([10, 20, 30, 59].map(isHighResolutionPeriod)).toEqual([true, true, true, true]);
    expect([60, 120, 3_600].map(isHighResolutionPeriod)).toEqual([false, false, false]);
  });
});

describe('validatePeriod (RT201)', () => {
  it.each([0, 15, 45, 61, 90, 1.5])('throws RT201 for %d s, naming the property and the value', (seconds) => {
    const error = expectRtError(() => validatePeriod('sli.period', seconds), 'RT201');
    expect(error.message).toContain('sli.period');
    expect(error.message).toContain(`got ${seconds} s`);
  });

  it.each([10, 20, 30, 60, 120, 3_600])('passes for %d s', (seconds) => {
    expect(() => validatePeriod('sli.period', seconds)).not.toThrow();
  });
});

describe('validateResolutionForNamespaces (RT202)', () => {
  it('throws RT202 for a 10 s period on AWS/Lambda metrics, naming the namespace', () => {
    const error = expectRtError(() => validateResolutionForNamespaces('sli.period', 10, ['AWS/Lambda']), 'RT202');
    expect(error.message).toContain('AWS/Lambda');
    expect(error.message).toContain('10 s');
    expect(error.message).toContain('60 seconds');
  });

  it('throws RT202 for a 30 s period when any one of several namespaces is AWS-vended', () => {
    expectRtError(() => validateResolutionForNamespaces('sli.period', 30, ['Checkout', 'AWS/ApplicationELB']), 'RT202');
  });

  it('names each vended namespace once', () => {
    const error = expectRtError(
      () => validateResolutionForNamespaces('sli.period', 10, ['AWS/Lambda', 'Checkout', 'AWS/Lambda', 'AWS/ApiGateway']),
      'RT202',
    );
    expect(error.message).toContain('AWS/Lambda, AWS/ApiGateway metrics');
    expect(error.message.split('AWS/Lambda')).toHaveLength(2);
  });

  it('passes for a 10 s period on a custom namespace', () => {
    expect(() => validateResolutionForNamespaces('sli.period', 10, ['Checkout'])).not.toThrow();
  });

  it('passes for a 60 s period on an AWS/ namespace', () => {
    expect(() => validateResolutionForNamespaces('sli.period', 60, ['AWS/Lambda'])).not.toThrow();
  });

  it('passes when there are no namespaces', () => {
    expect(() => validateResolutionForNamespaces('sli.period', 10, [])).not.toThrow();
  });
});

describe('validateWindowMultiple (RT203)', () => {
  it('passes for a 5 min window at a 1 min resolution', () => {
    expect(() => validateWindowMultiple('tier.shortWindow', 300, 60)).not.toThrow();
  });

  it('throws RT203 for a 90 s window at a 1 min resolution, naming both', () => {
    const error = expectRtError(() => validateWindowMultiple('tier.shortWindow', 90, 60), 'RT203');
    expect(error.message).toContain('tier.shortWindow');
    expect(error.message).toContain('1 min');
    expect(error.message).toContain('90 s');
  });

  it('throws RT203 for a 1 h window at a 7 min resolution', () => {
    expectRtError(() => validateWindowMultiple('tier.longWindow', 3_600, 420), 'RT203');
  });
});

describe('validateEvaluationRange (RT204, RT205)', () => {
  it('passes for 300 s × 288 periods = exactly 1 day', () => {
    expect(() => validateEvaluationRange('alarm', 300, 288)).not.toThrow();
  });

  it('throws RT205 for 300 s × 289 periods, citing the 1 d limit for sub-hour periods', () => {
    const error = expectRtError(() => validateEvaluationRange('alarm', 300, 289), 'RT205');
    expect(error.message).toContain('1 d');
    expect(error.message).toContain('under 1 hour');
    expect(error.message).toContain('289 evaluation periods');
  });

  it('passes for 60 s × 1440 periods and throws for 60 s × 1441', () => {
    expect(() => validateEvaluationRange('alarm', 60, 1_440)).not.toThrow();
    expectRtError(() => validateEvaluationRange('alarm', 60, 1_441), 'RT205');
  });

  it('passes for 3600 s × 168 periods = exactly 7 days', () => {
    expect(() => validateEvaluationRange('alarm', 3_600, 168)).not.toThrow();
  });

  it('throws RT205 for 3600 s × 169 periods, citing the 7 d limit', () => {
    const error = expectRtError(() => validateEvaluationRange('alarm', 3_600, 169), 'RT205');
    expect(error.message).toContain('7 d');
  });

  it('allows more than a day once the period is an hour or longer', () => {
    expect(() => validateEvaluationRange('alarm', 3_600, 48)).not.toThrow();
  });

  it.each([0, -1, 2.5, Number.NaN])('throws RT204 for %d evaluation periods', (periods) => {
    const error = expectRtError(() => validateEvaluationRange('alarm', 60, periods), 'RT204');
    expect(error.message).toContain(`got ${periods}`);
  });
});

describe('validateDatapointsToAlarm (RT206)', () => {
  it('passes for 3 of 3 and 1 of 3', () => {
    expect(() => validateDatapointsToAlarm('alarm', 3, 3)).not.toThrow();
    expect(() => validateDatapointsToAlarm('alarm', 1, 3)).not.toThrow();
  });

  it('throws RT206 for 0 datapoints', () => {
    expectRtError(() => validateDatapointsToAlarm('alarm', 0, 3), 'RT206');
  });

  it('throws RT206 for 4 of 3, naming the evaluation periods', () => {
    const error = expectRtError(() => validateDatapointsToAlarm('alarm', 4, 3), 'RT206');
    expect(error.message).toContain('(3)');
    expect(error.message).toContain('got 4');
  });

  it('throws RT206 for a fractional count', () => {
    expectRtError(() => validateDatapointsToAlarm('alarm', 1.5, 3), 'RT206');
  });
});

describe('validateMathAlarmSize (RT207, RT208)', () => {
  it('passes for 10 metrics and 10 expressions', () => {
    expect(() => validateMathAlarmSize('sli', 10, 10)).not.toThrow();
  });

  it('throws RT207 for 11 metrics', () => {
    const error = expectRtError(() => validateMathAlarmSize('sli', 11, 1), 'RT207');
    expect(error.message).toContain('11 metrics');
    expect(error.message).toContain('at most 10');
  });

  it('throws RT208 for 11 expressions', () => {
    const error = expectRtError(() => validateMathAlarmSize('sli', 2, 11), 'RT208');
    expect(error.message).toContain('11 math expressions');
  });

  it('reports too many metrics first when both limits are exceeded', () => {
    expectRtError(() => validateMathAlarmSize('sli', 11, 11), 'RT207');
  });
});

describe('validateAlarmName (RT209)', () => {
  it('passes for a 255-character name', () => {
    expect(() => validateAlarmName('a'.repeat(255))).not.toThrow();
  });

  it('throws RT209 for a 256-character name, giving its length and the start of the name', () => {
    const name = `checkout-${'x'.repeat(247)}`;
    expect(name).toHaveLength(256);
    const error = expectRtError(() => validateAlarmName(name), 'RT209');
    expect(error.message).toContain('256 characters');
    expect(error.message).toContain(name.slice(0, 40));
    expect(error.message).not.toContain(name.slice(0, 41));
  });
});

describe('compositeRule', () => {
  it('joins two children with AND', () => {
    expect(compositeRule('AND', ['a', 'b'])).toBe('(ALARM("a") AND ALARM("b"))');
  });

  it('joins three children with OR', () => {
    expect(compositeRule('OR', ['x', 'y', 'z'])).toBe('(ALARM("x") OR ALARM("y") OR ALARM("z"))');
  });

  it('wraps a single child in parentheses', () => {
    expect(compositeRule('AND', ['only'])).toBe('(ALARM("only"))');
  });

  it('is 2 + Σ(name + 9) + (n − 1)(op + 2) characters long', () => {
    // ALARM("…") adds 9 characters per child; separators are " AND " / " OR ".
    fc.assert(
      fc.property(fc.constantFrom('AND' as const, 'OR' as const), fc.array(fc.string({ minLength: 1, maxLength: 30 }), { minLength: 1, maxLength: 20 }), (op, names) => {
        const rule = compositeRule(op, names);
        const expected = 2 + names.reduce((n, name) => n + name.length + 9, 0) + (names.length - 1) * (op.length + 2);
        expect(rule).toHaveLength(expected);
      }),
    );
  });
});

describe('validateComposite (RT210, RT211)', () => {
  it('passes for 100 children and a 10,240-character rule', () => {
    expect(() => validateComposite('severity', 100, 'x'.repeat(10_240))).not.toThrow();
  });

  it('throws RT210 for 101 children', () => {
    const error = expectRtError(() => validateComposite('severity', 101, undefined), 'RT210');
    expect(error.message).toContain('101 alarms');
    expect(error.message).toContain('at most 100');
  });

  it('throws RT211 for a rule of 10,241 characters', () => {
    const error = expectRtError(() => validateComposite('severity', 2, 'x'.repeat(10_241)), 'RT211');
    expect(error.message).toContain('10241 characters');
  });

  it('skips the length check when the rule is not known at synth', () => {
    expect(() => validateComposite('severity', 100, undefined)).not.toThrow();
  });

  it('rejects a real rule over 100 long child names', () => {
    const names = Array.from({ length: 100 }, (_, i) => `${'prefix-'.repeat(13)}alarm-${i}`);
    const rule = compositeRule('OR', names);
    expect(rule.length).toBeGreaterThan(10_240);
    expectRtError(() => validateComposite('severity', names.length, rule), 'RT211');
  });
});

describe('validateAlarmName: characters and emptiness (RT215)', () => {
  it('throws RT215 for an empty name, naming the prop', () => {
    const error = expectRtError(() => validateAlarmName('', 'alarmName'), 'RT215');
    expect(error.message).toContain('alarmName must not be empty');
  });

  it.each([
    ['a newline', 'shop\nalarm', 'U+000A'],
    ['a tab', 'shop\talarm', 'U+0009'],
    ['NUL', 'shop\u0000alarm', 'U+0000'],
    ['DEL', 'shop\u007falarm', 'U+007F'],
    ['a double quote', 'shop"alarm', 'double quote'],
    ['a lone high surrogate', 'shop\ud800alarm', 'lone UTF-16 surrogate'],
    ['a lone low surrogate', 'shop\udc00alarm', 'lone UTF-16 surrogate'],
  ])('throws RT215 for %s, saying which character and where', (_, name, what) => {
    const error = expectRtError(() => validateAlarmName(name, 'alarmName'), 'RT215');
    expect(error.message).toContain(what);
    expect(error.message).toContain('position 4');
    expect(error.message).toContain('ALARM("name")');
  });

  it.each([
    ['Unicode letters', 'bücher-verfügbarkeit'],
    ['an astral character (a valid surrogate pair)', 'shop-🚀'],
    ['spaces and single quotes', "shop's checkout alarm"],
    ['a backslash', 'shop\\alarm'],
    ['colons and slashes', 'shop:checkout/page'],
  ])('accepts %s', (_, name) => {
    expect(() => validateAlarmName(name)).not.toThrow();
  });

  it('checks a name part without the length and emptiness rules of a whole name', () => {
    expect(() => validateAlarmNamePart('alarmNamePrefix', 'x'.repeat(300))).not.toThrow();
    expect(expectRtError(() => validateAlarmNamePart('alarmNamePrefix', 'a"b'), 'RT215').message).toMatch(/^\[RT215\] alarmNamePrefix "a\\"b"/);
  });

  it('rejects every ASCII control character and accepts every other ASCII character', () => {
    for (let code = 0; code < 128; code++) {
      const name = `a${String.fromCharCode(code)}b`;
      if (code < 0x20 || code === 0x7f || code === 0x22) expectRtError(() => validateAlarmName(name), 'RT215');
      else expect(() => validateAlarmName(name)).not.toThrow();
    }
  });
});

describe('validateAlarmDescription (RT220)', () => {
  it('passes for 1,024 characters and throws RT220 for 1,025, naming the prop', () => {
    expect(MAX_ALARM_DESCRIPTION_LENGTH).toBe(1_024);
    expect(() => validateAlarmDescription('description', 'd'.repeat(1_024))).not.toThrow();
    const error = expectRtError(() => validateAlarmDescription('description', 'd'.repeat(1_025)), 'RT220');
    expect(error.message).toContain('description would be 1025 characters');
  });
});

describe('validateSubMinutePeriod (RT214)', () => {
  it('throws RT214 for a sub-minute period at a standard resolution, naming both props', () => {
    const error = expectRtError(() => validateSubMinutePeriod('period', 10, 60, 'resolution'), 'RT214');
    expect(error.message).toContain('period is 10 s, below one minute, but resolution is 1 min');
    expect(error.message).toContain('StorageResolution 1');
  });

  it('passes once the resolution is declared high, and for periods of a minute or more', () => {
    expect(() => validateSubMinutePeriod('period', 10, 10, 'resolution')).not.toThrow();
    expect(() => validateSubMinutePeriod('period', 30, 10, 'resolution')).not.toThrow();
    expect(() => validateSubMinutePeriod('period', 60, 60, 'resolution')).not.toThrow();
  });
});

describe('validateThreshold (RT218)', () => {
  it.each([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])('throws RT218 for %s', (threshold) => {
    expect(expectRtError(() => validateThreshold('threshold', threshold), 'RT218').message).toContain('"Threshold": null');
  });

  it.each([0, -5, 0.7, 1e300, -1e300])('accepts %s', (threshold) => {
    expect(() => validateThreshold('threshold', threshold)).not.toThrow();
  });
});

describe('validateWindowMultiple names the resolution it divides by', () => {
  it('says "the metric resolution" for a trigger', () => {
    expect(expectRtError(() => validateWindowMultiple('period', 30, 20, 'the metric resolution'), 'RT203').message).toContain(
      'period must be a whole multiple of the metric resolution 20 s, got 30 s',
    );
  });
});

describe('validateAlarmMathExpression (RT216, RT217)', () => {
  const minute = { evaluationRangeSeconds: 3_600, highResolution: false };

  it.each([
    ['SEARCH()', "SUM(SEARCH('{Shop} MetricName=\"Failed\"', 'Sum', 60))", []],
    ['SEARCH() in lower case', "search('{Shop}', 'Sum', 60)", []],
    ['METRICS()', 'SUM(METRICS())', ['a', 'b']],
    ['METRICS() with a filter', 'SUM(METRICS("err"))', ['err1', 'err2']],
    ['ANOMALY_DETECTION_BAND()', 'ANOMALY_DETECTION_BAND(a, 2)', ['a']],
  ])('refuses %s with RT216, naming the prop and the expression', (_, expression, ids) => {
    const error = expectRtError(() => validateAlarmMathExpression("the SLI's bad count", expression, ids, minute), 'RT216');
    expect(error.message).toContain("the SLI's bad count uses");
    expect(error.message).toContain(expression);
  });

  it('refuses a Metrics Insights query over more than 3 hours or at high resolution, and accepts one within', () => {
    const query = 'SELECT SUM(Failed) FROM SCHEMA("Shop", Service) WHERE Service = \'checkout\'';
    expect(() => validateAlarmMathExpression('metric', query, [], { evaluationRangeSeconds: 3 * 3_600, highResolution: false })).not.toThrow();
    expect(expectRtError(() => validateAlarmMathExpression('metric', query, [], { evaluationRangeSeconds: 3 * 3_600 + 60, highResolution: false }), 'RT216').message).toContain(
      'only the latest 3 hours',
    );
    expectRtError(() => validateAlarmMathExpression('metric', query, [], { evaluationRangeSeconds: 600, highResolution: true }), 'RT216');
  });

  it('ignores function names inside string literals', () => {
    expect(() => validateAlarmMathExpression('metric', 'SELECT MAX(Latency) FROM SCHEMA("SEARCH", METRICS)', [], minute)).not.toThrow();
  });

  it('refuses an identifier with no query of that id (RT217), listing the known ids', () => {
    const error = expectRtError(() => validateAlarmMathExpression('metric', 'errors + throtles', ['errors', 'throttles'], minute), 'RT217');
    expect(error.message).toContain('"throtles"');
    expect(error.message).toContain('(errors, throttles)');
  });

  it('accepts the expressions this library renders and does not read number exponents as ids', () => {
    const derived = 'FILL(t5xx, 0) + IF(total - (FILL(t2xx, 0) + FILL(t5xx, 0)) > 0, total - (FILL(t2xx, 0) + FILL(t5xx, 0)), 0)';
    expect(validateAlarmMathExpression('bad', derived, ['total', 't2xx', 't5xx'], minute)).toEqual([]);
    expect(validateAlarmMathExpression('bad', 'total * (100 - FILL(pr, 100)) / 100', ['total', 'pr'], minute)).toEqual([]);
    expect(validateAlarmMathExpression('bad', 'a * 1e3 + b / 2.5e-2', ['a', 'b'], minute)).toEqual([]);
    expect(validateAlarmMathExpression('bad', 'SUM([a, b])', ['a', 'b'], minute)).toEqual([]);
  });

  it('warns about the functions the User Guide advises against in alarms', () => {
    expect(validateAlarmMathExpression('metric', 'RUNNING_SUM(a)', ['a'], minute)).toEqual([expect.stringContaining('RUNNING_SUM()')]);
    expect(validateAlarmMathExpression('metric', 'a - AVG(a)', ['a'], minute)).toEqual([expect.stringContaining('AVG() of a single time series')]);
    expect(validateAlarmMathExpression('metric', 'REMOVE_EMPTY([a, b])', ['a', 'b'], minute)).toHaveLength(1);
  });
});

describe('validateLibraryQueryId (RT221)', () => {
  it('refuses an id of the alarm bound to another metric, and passes the same metric', () => {
    expect(expectRtError(() => validateLibraryQueryId("the SLI's bad count", 'total', false), 'RT221').message).toContain('"total" for another metric');
    expect(() => validateLibraryQueryId("the SLI's bad count", 'total', true)).not.toThrow();
  });
});
