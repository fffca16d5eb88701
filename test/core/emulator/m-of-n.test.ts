import { describe, expect, it } from 'vitest';
import { AlarmState, TreatMissingData, evaluateMOfN, isBreaching } from '../../../lib/core/emulator';
import { expectRtError } from '../helpers';

/** `0 - X - X`: oldest first, 0 not breaching, X breaching, - missing (the guide's notation). */
function parse(datapoints: string): (boolean | undefined)[] {
  return datapoints.split(/\s+/).map((d) => (d === '-' ? undefined : d === 'X'));
}

const RETAIN = 'retain';
type Expected = AlarmState | typeof RETAIN;
const MODES: readonly TreatMissingData[] = ['missing', 'ignore', 'breaching', 'notBreaching'];

function check(datapoints: string, n: number, m: number, expected: readonly [Expected, Expected, Expected, Expected]) {
  MODES.forEach((treatMissingData, i) => {
    const want = expected[i];
    for (const current of ['OK', 'ALARM', 'INSUFFICIENT_DATA'] as const) {
      const got = evaluateMOfN(parse(datapoints), { evaluationPeriods: n, datapointsToAlarm: m, treatMissingData }, current);
      expect(got, `${datapoints}, ${m} of ${n}, ${treatMissingData}, from ${current}`).toBe(want === RETAIN ? current : want);
    }
  });
}

// Amazon CloudWatch User Guide, "Configuring how CloudWatch alarms treat missing data"
// (awsdocs/amazon-cloudwatch-user-guide, doc_source/AlarmThatSendsEmail.md). Columns: MISSING,
// IGNORE, BREACHING, NOT BREACHING; evaluation range 5 datapoints.
describe('evaluateMOfN reproduces the CloudWatch guide tables', () => {
  it.each([
    ['0 - X - X', ['OK', 'OK', 'OK', 'OK']],
    ['0 - - - -', ['OK', 'OK', 'OK', 'OK']],
    ['- - - - -', ['INSUFFICIENT_DATA', RETAIN, 'ALARM', 'OK']],
    ['0 X X - X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['- - X - -', ['ALARM', RETAIN, 'ALARM', 'OK']],
    // Rows of an earlier revision of the same page.
    ['- - - - X', ['INSUFFICIENT_DATA', RETAIN, 'ALARM', 'OK']],
    ['X - - - -', ['ALARM', RETAIN, 'ALARM', 'OK']],
  ] as const)('3 of 3: %s', (datapoints, expected) => check(datapoints, 3, 3, expected));

  it.each([
    ['0 - X - X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['0 0 X 0 X', ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['0 - X - -', ['OK', 'OK', 'ALARM', 'OK']],
    ['- - - - 0', ['OK', 'OK', 'ALARM', 'OK']],
    ['- - - X -', ['ALARM', RETAIN, 'ALARM', 'OK']],
  ] as const)('2 of 3: %s', (datapoints, expected) => check(datapoints, 3, 2, expected));
});

describe('evaluateMOfN', () => {
  it('decides on the N most recent real datapoints when there are enough, skipping gaps', () => {
    // "X X 0 - 0 - 0": the three most recent real ones are 0 0 0 → OK although two X are in range.
    expect(evaluateMOfN(parse('X X 0 - 0 - 0'), { evaluationPeriods: 3, datapointsToAlarm: 1, treatMissingData: 'breaching' }, 'ALARM')).toBe('OK');
    expect(evaluateMOfN(parse('0 X - X - X'), { evaluationPeriods: 3, datapointsToAlarm: 3, treatMissingData: 'notBreaching' }, 'OK')).toBe('ALARM');
  });

  it('evaluates a 1-of-1 window alarm on its latest real datapoint, and applies TreatMissingData only when none is in range', () => {
    const one = (treatMissingData: TreatMissingData, datapoints: string, current: AlarmState = 'OK') =>
      evaluateMOfN(parse(datapoints), { evaluationPeriods: 1, datapointsToAlarm: 1, treatMissingData }, current);
    expect(one('notBreaching', 'X')).toBe('ALARM');
    expect(one('notBreaching', '0')).toBe('OK');
    expect(one('notBreaching', 'X - -')).toBe('ALARM'); // the last window that had data
    expect(one('notBreaching', '-')).toBe('OK');
    expect(one('breaching', '-')).toBe('ALARM');
    expect(one('missing', '-')).toBe('INSUFFICIENT_DATA');
    expect(one('ignore', '-', 'ALARM')).toBe('ALARM');
  });

  it('compares with each operator', () => {
    expect([isBreaching(5, 'GreaterThanOrEqualToThreshold', 5), isBreaching(5, 'GreaterThanThreshold', 5)]).toEqual([true, false]);
    expect([isBreaching(5, 'LessThanOrEqualToThreshold', 5), isBreaching(5, 'LessThanThreshold', 5)]).toEqual([true, false]);
    expect(isBreaching(0.6, 'LessThanThreshold', 0.7)).toBe(true);
  });

  it('rejects impossible configurations', () => {
    const range = parse('0 0 0');
    expectRtError(() => evaluateMOfN(range, { evaluationPeriods: 3, datapointsToAlarm: 4, treatMissingData: 'missing' }, 'OK'), 'RT501');
    expectRtError(() => evaluateMOfN(range, { evaluationPeriods: 4, datapointsToAlarm: 1, treatMissingData: 'missing' }, 'OK'), 'RT501');
    expectRtError(() => evaluateMOfN(range, { evaluationPeriods: 1, datapointsToAlarm: 1, treatMissingData: 'sometimes' as TreatMissingData }, 'OK'), 'RT501');
  });
});
