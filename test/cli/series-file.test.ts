import { describe, expect, it } from 'vitest';
import { parseCsvSeries } from '../../lib/cli/series-file';

/**
 * The CSV header and row rules, message by message: each refusal names the line (counted in the
 * file, comments and blank lines included) and, for a cell, its column.
 */
const refuses = (text: string, message: string) => expect(() => parseCsvSeries('f.csv', text)).toThrow(message);

describe('CSV header', () => {
  it('counts the header line after leading comments and blank lines', () => {
    refuses('# exported\n\nminute,requests,errors,minute\n0,1,0,0\n', 'f.csv: line 3: column "minute" appears twice (RT716)');
  });

  it('refuses a header separated by tabs', () => {
    refuses('minute\trequests\terrors\n0\t1\t0\n', 'f.csv: line 1: the header is separated by tabs; CSV columns are separated by commas ("minute,requests,errors") (RT716)');
  });

  it('refuses a header with both or neither of minute and timestamp', () => {
    refuses('minute,timestamp,requests,errors\n0,2024-05-01T10:00:00Z,1,0\n', 'f.csv: line 1: the header needs exactly one of the columns "minute" or "timestamp", got: minute,timestamp,requests,errors (RT716)');
    refuses('requests,errors\n1,0\n', 'f.csv: line 1: the header needs exactly one of the columns "minute" or "timestamp", got: requests,errors (RT716)');
  });

  it('refuses per-version columns without their requests and errors', () => {
    refuses('minute,requests,errors,canary_requests\n0,1,0,1\n', 'f.csv: line 1: columns canary_requests and canary_errors are both required when any canary_ column is given (RT716)');
  });

  it('refuses a header without the blended counts unless both versions give them', () => {
    refuses('minute,errors,stable_requests,stable_errors\n0,0,1,0\n', 'f.csv: line 1: column "requests" is required (or both stable_ and canary_ columns, from which it is summed) (RT716)');
    refuses('minute,requests\n0,1\n', 'f.csv: line 1: column "errors" is required (or both stable_ and canary_ columns, from which it is summed) (RT716)');
  });
});

describe('CSV rows', () => {
  it('refuses a timestamp that is not a time, and an empty one', () => {
    refuses('timestamp,requests,errors\n2024-05-01T10:00:00Z,1,0\nlater,1,0\n', 'f.csv: line 3: field "timestamp": must be an ISO 8601 time such as 2024-05-01T10:00:00Z, got "later" (RT716)');
    refuses('timestamp,requests,errors\n,1,0\n', 'f.csv: line 2: field "timestamp": must be an ISO 8601 time such as 2024-05-01T10:00:00Z, got "" (RT716)');
  });

  it('refuses a quoted field left open, and text after a quoted field', () => {
    refuses('minute,requests,errors\n0,"1,0\n', 'f.csv: line 2: a quoted field is not closed (RT716)');
    refuses('minute,requests,errors\n0,"1"x,0\n', 'f.csv: line 2: unexpected text after a quoted field (RT716)');
  });

  it('refuses a minute that is not a whole number', () => {
    refuses('minute,requests,errors\n0.5,1,0\n', 'f.csv: line 2: field "minute": must be a whole number ≥ 0, got 0.5 (RT716)');
  });

  it('refuses a file with a header and no rows', () => {
    refuses('minute,requests,errors\n# nothing yet\n', 'f.csv: field "series": has no entries: give at least one minute of data (RT716)');
  });

  it('reads one version alone, the other columns empty, and locates entries by their line', () => {
    const data = parseCsvSeries('f.csv', '# c\nminute,stable_requests,stable_errors,canary_requests,canary_errors\n\n0,10,1,,\n2,8,0,2,1\n');
    expect(data.series).toEqual([
      { minute: 0, requests: 10, errors: 1, stable: { requests: 10, errors: 1 } },
      { minute: 2, requests: 10, errors: 1, stable: { requests: 8, errors: 0 }, canary: { requests: 2, errors: 1 } },
    ]);
    expect([data.locate(0), data.locate(1)]).toEqual(['line 4', 'line 5']);
    expect(data).toMatchObject({ file: 'f.csv', format: 'csv', startTimeMs: undefined });
  });
});
