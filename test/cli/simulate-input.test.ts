import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputError } from '../../lib/cli/input-error';
import { writeAllOrNothing } from '../../lib/cli/output-files';
import { PngUnavailableError, svgToPng } from '../../lib/cli/png';
import { parseCsvSeries, parseDeploymentFlag, parseJsonSeries } from '../../lib/cli/series-file';
import { RollbackTriggersError } from '../../lib/core';
import { run, runWith, tempDir } from './simulate-helpers';

const HEAD = '"releaseMinute": 1, "deployment": { "kind": "all-at-once", "bakeMinutes": 10 }';
const ok = (minute: number) => `{ "minute": ${minute}, "requests": 100, "errors": 0 }`;
/** A JSON series file whose third entry (index 2, minute 2) is `entry`. */
const withEntry = (entry: string) => `{ ${HEAD}, "series": [ ${ok(0)}, ${ok(1)}, ${entry}, ${ok(3)} ] }`;
const CSV_HEAD = 'minute,requests,errors,slow';

/**
 * Each bad input: exit code 2, one message naming the file, where in it (CSV line, JSON entry and
 * minute) and the field, and no output left behind — not even a temporary file.
 */
const cases: Array<{ name: string; file: string; content: string; args?: string[]; message: RegExp }> = [
  // JSON
  {
    name: 'malformed JSON',
    file: 'series.json',
    content: `{\n  "releaseMinute": 1,\n  "series": [ { "minute": 0 "requests": 1 } ]\n}`,
    message: /series\.json: malformed JSON: .*\(line 3 column \d+\)/,
  },
  { name: 'an unknown top-level field', file: 'series.json', content: `{ ${HEAD}, "relaseMinute": 2, "series": [${ok(0)}, ${ok(1)}] }`, message: /series\.json: field "relaseMinute": unknown field; the fields here are description, releaseMinute/ },
  { name: 'an unknown entry field', file: 'series.json', content: withEntry('{ "minute": 2, "requests": 100, "eror": 1, "errors": 0 }'), message: /series\.json: series\[2\] \(minute 2\): field "eror": unknown field/ },
  { name: 'a negative count', file: 'series.json', content: withEntry('{ "minute": 2, "requests": -5, "errors": 0 }'), message: /series\.json: series\[2\] \(minute 2\): field "requests": must be a whole number ≥ 0 .*got -5/ },
  { name: 'a fractional count', file: 'series.json', content: withEntry('{ "minute": 2, "requests": 10.5, "errors": 0 }'), message: /series\[2\] \(minute 2\): field "requests": must be a whole number ≥ 0/ },
  { name: 'a count that is a string', file: 'series.json', content: withEntry('{ "minute": 2, "requests": "100", "errors": 0 }'), message: /series\[2\] \(minute 2\): field "requests": must be a number, got "100"/ },
  { name: 'errors above requests', file: 'series.json', content: withEntry('{ "minute": 2, "requests": 10, "errors": 11 }'), message: /series\.json: series\[2\] \(minute 2\): field "errors": 11 is above requests \(10\)/ },
  { name: 'slow above requests', file: 'series.json', content: withEntry('{ "minute": 2, "requests": 10, "errors": 0, "slow": 12 }'), message: /series\[2\] \(minute 2\): field "slow": 12 is above requests \(10\)/ },
  {
    name: 'failures above requests',
    file: 'series.json',
    content: withEntry('{ "minute": 2, "requests": 10, "errors": 0, "failures": 11 }'),
    message: /series\[2\] \(minute 2\): field "failures": 11 is above requests \(10\); failures count business operations that failed among them/,
  },
  {
    name: 'canary failures above canary requests',
    file: 'series.json',
    content: withEntry('{ "minute": 2, "stable": { "requests": 90, "errors": 0, "failures": 0 }, "canary": { "requests": 10, "errors": 0, "failures": 12 } }'),
    message: /series\[2\] \(minute 2\): field "canary\.failures": 12 is above canary\.requests \(10\)/,
  },
  {
    name: 'a negative failures count',
    file: 'series.json',
    content: withEntry('{ "minute": 2, "requests": 10, "errors": 0, "failures": -1 }'),
    message: /series\[2\] \(minute 2\): field "failures": must be a whole number ≥ 0 .*got -1/,
  },
  {
    name: 'blended failures that are not the sum of the versions',
    file: 'series.json',
    content: withEntry('{ "minute": 2, "failures": 3, "stable": { "requests": 90, "errors": 0, "failures": 1 }, "canary": { "requests": 10, "errors": 0, "failures": 1 } }'),
    message: /series\[2\] \(minute 2\): field "failures": 3 is not the sum of stable\.failures \(1\) and canary\.failures \(1\)/,
  },
  {
    name: 'canary errors above canary requests',
    file: 'series.json',
    content: withEntry('{ "minute": 2, "requests": 100, "errors": 20, "stable": { "requests": 90, "errors": 0 }, "canary": { "requests": 10, "errors": 20 } }'),
    message: /series\[2\] \(minute 2\): field "canary\.errors": 20 is above canary\.requests \(10\)/,
  },
  {
    name: 'an unknown field in the per-version counts',
    file: 'series.json',
    content: withEntry('{ "minute": 2, "requests": 100, "errors": 0, "canary": { "requests": 10, "errors": 0, "latency": 3 } }'),
    message: /series\[2\] \(minute 2\): field "canary\.latency": unknown field/,
  },
  {
    name: 'versions that do not add up to the blended counts',
    file: 'series.json',
    content: withEntry('{ "minute": 2, "requests": 100, "errors": 0, "stable": { "requests": 80, "errors": 0 }, "canary": { "requests": 10, "errors": 0 } }'),
    message: /series\[2\] \(minute 2\): field "requests": 100 is not the sum of stable\.requests \(80\) and canary\.requests \(10\)/,
  },
  { name: 'a minute that goes back', file: 'series.json', content: withEntry(ok(1)), message: /series\.json: series\[2\] \(minute 1\): field "minute": 1 is not after the previous entry's minute 1 \(series\[1\] \(minute 1\)\)/ },
  { name: 'a missing minute field', file: 'series.json', content: withEntry('{ "requests": 100, "errors": 0 }'), message: /series\.json: series\[2\]: field "minute": is required/ },
  { name: 'a missing errors field', file: 'series.json', content: withEntry('{ "minute": 2, "requests": 100 }'), message: /series\[2\] \(minute 2\): field "errors": is required/ },
  { name: 'a missing series', file: 'series.json', content: `{ ${HEAD} }`, message: /series\.json: field "series": is required/ },
  { name: 'an empty series', file: 'series.json', content: `{ ${HEAD}, "series": [] }`, message: /series\.json: field "series": has no entries/ },
  { name: 'a missing release minute', file: 'series.json', content: `{ "deployment": { "kind": "all-at-once" }, "series": [${ok(0)}] }`, message: /series\.json: field "releaseMinute": is required \(or give --release-minute\)/ },
  { name: 'a release before the series', file: 'series.json', content: `{ "releaseMinute": 0, "deployment": { "kind": "all-at-once" }, "series": [${ok(5)}, ${ok(6)}] }`, message: /series\.json: field "releaseMinute": 0 is before the series, which starts at minute 5/ },
  { name: 'a missing deployment', file: 'series.json', content: `{ "releaseMinute": 1, "series": [${ok(0)}, ${ok(1)}] }`, message: /series\.json: field "deployment": is required \(or give --deployment\)/ },
  {
    name: 'a canary percent out of range',
    file: 'series.json',
    content: `{ "releaseMinute": 1, "deployment": { "kind": "canary", "percent": 150, "intervalMinutes": 5 }, "series": [${ok(0)}, ${ok(1)}] }`,
    message: /series\.json: deployment: field "percent": must be a whole percentage from 1 to 99 .*got 150/,
  },
  {
    name: 'an unknown deployment kind',
    file: 'series.json',
    content: `{ "releaseMinute": 1, "deployment": { "kind": "blue-green" }, "series": [${ok(0)}, ${ok(1)}] }`,
    message: /deployment: field "kind": must be "all-at-once", "canary" or "linear", got "blue-green"/,
  },
  {
    name: 'an objective of 100 %',
    file: 'series.json',
    content: `{ ${HEAD}, "slos": [{ "name": "availability", "objectivePercent": 100 }], "series": [${ok(0)}, ${ok(1)}] }`,
    message: /series\.json: slos\[0\]: field "objectivePercent": must be a number above 0 and below 100, got 100 — use 99\.9/,
  },
  {
    name: 'a 90 % objective with the default tiers (the 14.4× tier can never fire)',
    file: 'series.json',
    content: `{ ${HEAD}, "slos": [{ "name": "batch", "objectivePercent": 90 }], "series": [${ok(0)}, ${ok(1)}] }`,
    message: /series\.json: slos\[0\]: field "tiers": tier "page-1h" can never fire for a 90 % objective.* \(RT106\)$/,
  },
  {
    name: 'an unknown tier name',
    file: 'series.json',
    content: `{ ${HEAD}, "slos": [{ "name": "a", "objectivePercent": 99, "tiers": ["page-2h"] }], "series": [${ok(0)}, ${ok(1)}] }`,
    message: /slos\[0\]: field "tiers": unknown tier "page-2h"; the SRE Workbook tiers are page-1h, page-6h, ticket-1d, ticket-3d/,
  },
  {
    name: 'a latency SLO without slow counts',
    file: 'series.json',
    content: `{ ${HEAD}, "slos": [{ "name": "latency", "objectivePercent": 99, "sli": "latency" }], "series": [{ "minute": 0, "requests": 10, "errors": 0, "slow": 1 }, ${ok(1)}] }`,
    message: /series\.json: series\[1\] \(minute 1\): field "slow": is required: SLO latency is a latency SLO/,
  },
  {
    name: 'a business-failure SLO without failures counts',
    file: 'series.json',
    content: `{ ${HEAD}, "slos": [{ "name": "payments", "objectivePercent": 99.5, "sli": "business-failure" }], "series": [{ "minute": 0, "requests": 10, "errors": 0, "failures": 1 }, ${ok(1)}] }`,
    message: /series\.json: series\[1\] \(minute 1\): field "failures": is required: SLO payments is a business-failure SLO, which counts failed business operations \(not errors\) among the requests/,
  },
  {
    name: "a business-failure SLO without the new version's failures",
    file: 'series.json',
    content:
      `{ ${HEAD}, "slos": [{ "name": "payments", "objectivePercent": 99.5, "sli": "business-failure" }], "series": [` +
      '{ "minute": 0, "requests": 100, "errors": 0, "failures": 0 }, ' +
      '{ "minute": 1, "stable": { "requests": 90, "errors": 0, "failures": 0 }, "canary": { "requests": 10, "errors": 0, "failures": 1 } }, ' +
      '{ "minute": 2, "stable": { "requests": 90, "errors": 0, "failures": 0 }, "canary": { "requests": 10, "errors": 0 } }] }',
    message: /series\.json: series\[2\] \(minute 2\): field "canary\.failures": is required: SLO payments is a business-failure SLO/,
  },
  {
    name: 'a Synthetics SuccessPercent above 100',
    file: 'series.json',
    content: withEntry('{ "minute": 2, "requests": 100, "errors": 0, "synthetics": { "journey": 150 } }'),
    message: /series\.json: series\[2\] \(minute 2\): field "synthetics\.journey": must be a number from 0 to 100 \(the SuccessPercent of the canary's run that minute\), got 150/,
  },
  {
    name: 'a Synthetics SuccessPercent that is a string',
    file: 'series.json',
    content: withEntry('{ "minute": 2, "requests": 100, "errors": 0, "synthetics": { "journey": "100" } }'),
    message: /series\[2\] \(minute 2\): field "synthetics\.journey": must be a number, got "100"/,
  },
  {
    name: 'synthetics that is not an object',
    file: 'series.json',
    content: withEntry('{ "minute": 2, "requests": 100, "errors": 0, "synthetics": [100] }'),
    message: /series\[2\] \(minute 2\): synthetics \(canary name → SuccessPercent\) must be a JSON object, got an array/,
  },
  // CSV
  {
    name: 'a CSV Synthetics cell below 0',
    file: 'series.csv',
    content: 'minute,requests,errors,synthetics:journey\n0,10,0,100\n1,10,0,-5\n',
    message: /series\.csv: line 3: field "synthetics:journey": must be a number from 0 to 100 \(the SuccessPercent of the canary's run that minute\), got -5/,
  },
  { name: 'a CSV Synthetics column without a canary name', file: 'series.csv', content: 'minute,requests,errors,synthetics:\n0,10,0,100\n', message: /series\.csv: line 1: column "synthetics:" names no canary/ },
  { name: 'an empty CSV file', file: 'series.csv', content: '\n# only a comment\n', message: /series\.csv: is empty: expected a header/ },
  { name: 'an unknown CSV column', file: 'series.csv', content: 'minute,requests,errors,latency\n0,1,0,5\n', message: /series\.csv: line 1: unknown column "latency"; the columns are minute, timestamp, requests/ },
  { name: 'a CSV without an errors column', file: 'series.csv', content: 'minute,requests\n0,1\n', message: /series\.csv: line 1: column "errors" is required/ },
  { name: 'a CSV row with too few fields', file: 'series.csv', content: `${CSV_HEAD}\n0,10,0,0\n1,10,0\n`, message: /series\.csv: line 3: expected 4 fields \(minute,requests,errors,slow\), got 3/ },
  { name: 'a CSV cell that is not a number', file: 'series.csv', content: `${CSV_HEAD}\n0,10,0,0\n1,10,x,0\n`, message: /series\.csv: line 3: field "errors": must be a number, got "x"/ },
  { name: 'a negative CSV count', file: 'series.csv', content: `${CSV_HEAD}\n0,10,0,0\n# a comment line\n1,10,-1,0\n`, message: /series\.csv: line 4: field "errors": must be a whole number ≥ 0 .*got -1/ },
  { name: 'CSV errors above requests', file: 'series.csv', content: `${CSV_HEAD}\n0,10,0,0\n\n1,10,11,0\n`, message: /series\.csv: line 4: field "errors": 11 is above requests \(10\)/ },
  {
    name: 'CSV canary failures above canary requests',
    file: 'series.csv',
    content: 'minute,stable_requests,stable_errors,stable_failures,canary_requests,canary_errors,canary_failures\n0,10,0,0,,,\n1,9,0,0,1,0,2\n',
    message: /series\.csv: line 3: field "canary_failures": 2 is above canary_requests \(1\); failures count business operations that failed among them/,
  },
  {
    name: 'a CSV failures cell that is not a number',
    file: 'series.csv',
    content: 'minute,requests,errors,failures\n0,10,0,0\n1,10,0,few\n',
    message: /series\.csv: line 3: field "failures": must be a number, got "few"/,
  },
  { name: 'CSV minutes that go back', file: 'series.csv', content: `${CSV_HEAD}\n0,10,0,0\n5,10,0,0\n3,10,0,0\n`, message: /series\.csv: line 4: field "minute": 3 is not after the previous entry's minute 5 \(line 3\)/ },
  {
    name: 'a half-filled per-version group',
    file: 'series.csv',
    content: 'minute,requests,errors,canary_requests,canary_errors\n0,10,0,,\n1,10,0,5,\n',
    message: /series\.csv: line 3: field "canary_errors": is empty while other canary_ cells of this row are not/,
  },
  {
    name: 'a CSV timestamp off the minute',
    file: 'series.csv',
    content: 'timestamp,requests,errors\n2024-05-01T10:00:00Z,1,0\n2024-05-01T10:00:30Z,1,0\n',
    message: /series\.csv: line 3: field "timestamp": must fall on a whole minute after the first row/,
  },
  { name: 'a CSV without --release-minute', file: 'series.csv', content: `${CSV_HEAD}\n0,10,0,0\n`, args: [], message: /series\.csv: the release minute is required: give --release-minute/ },
  { name: 'a CSV without --deployment', file: 'series.csv', content: `${CSV_HEAD}\n0,10,0,0\n`, args: ['--release-minute', '0'], message: /series\.csv: the deployment shape is required: give --deployment/ },
  // Flags
  { name: 'a malformed --deployment', file: 'series.csv', content: `${CSV_HEAD}\n0,10,0,0\n`, args: ['--release-minute', '0', '--deployment', 'canary:10'], message: /--deployment must be all-at-once, canary:PERCENT:MINUTES, .* got "canary:10"/ },
  { name: 'a negative --release-minute', file: 'series.csv', content: `${CSV_HEAD}\n0,10,0,0\n`, args: ['--release-minute=-1', '--deployment', 'all-at-once'], message: /--release-minute must be a whole number ≥ 0, got "-1"/ },
  { name: 'an --ingestion-delay off the minute', file: 'series.csv', content: `${CSV_HEAD}\n0,10,0,0\n`, args: ['--release-minute', '0', '--deployment', 'all-at-once', '--ingestion-delay', '90'], message: /--ingestion-delay must be a multiple of 60 seconds/ },
  { name: 'a missing --assembly directory', file: 'series.csv', content: `${CSV_HEAD}\n0,10,0,0\n`, args: ['--release-minute', '0', '--deployment', 'all-at-once', '--assembly', '/nonexistent/cdk.out'], message: /--assembly \/nonexistent\/cdk\.out: .*manifest\.json not found — run "cdk synth" first/ },
];

describe('rollback-triggers simulate: bad input', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.remove());

  for (const c of cases) {
    it(`rejects ${c.name}: exit 2, file + where + field, nothing written`, () => {
      const file = join(tmp.dir, c.file);
      writeFileSync(file, c.content);
      const outputs = ['out.json', 'chart.svg', 'chart.png'].map((f) => join(tmp.dir, f));
      const args = c.args ?? (c.file.endsWith('.csv') ? ['--release-minute', '0', '--deployment', 'all-at-once'] : []);
      const { code, out, err } = run(['simulate', file, ...args, '--json', outputs[0], '--chart', outputs[1], '--png', outputs[2]]);
      expect(code).toBe(2);
      expect(out).toBe('');
      expect(err).toMatch(c.message);
      // One message, on one line, that starts with the file (flag errors name the flag instead).
      expect(err.split('\n')).toHaveLength(1);
      if (!/^--/.test(err)) expect(err.startsWith(file)).toBe(true);
      expect(tmp.files()).toEqual([c.file]);
    });
  }

  it('keeps an existing output untouched when the input is bad', () => {
    const chart = join(tmp.dir, 'chart.svg');
    writeFileSync(chart, 'previous chart');
    const file = join(tmp.dir, 'series.json');
    writeFileSync(file, withEntry('{ "minute": 2, "requests": 10, "errors": 11 }'));
    expect(run(['simulate', file, '--chart', chart]).code).toBe(2);
    expect(readFileSync(chart, 'utf8')).toBe('previous chart');
  });

  it('rejects a missing file and an output directory that does not exist, before reading', () => {
    expect(run(['simulate', join(tmp.dir, 'nope.json')])).toMatchObject({ code: 2, err: `${join(tmp.dir, 'nope.json')}: no such file (RT713)` });
    const missingDir = run(['simulate', 'examples/series/broken-canary.json', '--chart', join(tmp.dir, 'no', 'such', 'dir', 'c.svg')]);
    expect(missingDir.code).toBe(2);
    expect(missingDir.err).toMatch(/--chart .*c\.svg: the directory .*dir does not exist or is not writable/);
  });

  it('refuses to write two outputs, or an output over the series file, to one path', () => {
    const file = join(tmp.dir, 'series.json');
    writeFileSync(file, withEntry(ok(2)));
    const same = join(tmp.dir, 'chart');
    expect(run(['simulate', file, '--chart', same, '--png', same])).toMatchObject({ code: 2, err: `--png ${same}: is also --chart; give each output its own file (RT712)` });
    expect(run(['simulate', file, '--json', file])).toMatchObject({ code: 2, err: `--json ${file}: is also the series file; give each output its own file (RT712)` });
    expect(readFileSync(file, 'utf8')).toBe(withEntry(ok(2)));
    expect(tmp.files()).toEqual(['series.json']);
  });

  it('rejects usage errors with the usage text', () => {
    const none = run(['simulate']);
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/^simulate needs a series file \(RT712\)\n\nUsage: rollback-triggers simulate/);
    const unknown = run(['simulate', 'x.json', '--chrt', 'c.svg']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/^unknown option --chrt \(did you mean --chart\?\) \(RT712\)\n\nUsage: rollback-triggers simulate/);
    expect(run(['simulate', 'a.json', 'b.json']).err).toMatch(/^one series file at a time/);
  });

  it("points the engine's own input errors at the file's line", () => {
    const file = join(tmp.dir, 'series.csv');
    writeFileSync(file, `# exported\n${CSV_HEAD}\n0,10,0,0\n1,10,0,0\n2,10,0,0\n`);
    const engine = () => {
      throw new RollbackTriggersError('RT703', 'series entry 2 (minute 2): requests must be a whole number ≥ 0, got 10');
    };
    const { code, err } = runWith(engine, [file, '--release-minute', '0', '--deployment', 'all-at-once']);
    expect(code).toBe(2);
    expect(err).toBe(`${file}: line 5: requests must be a whole number ≥ 0, got 10 (RT703)`);
  });

  it('reports an engine crash as an internal error, exit 1, nothing written', () => {
    const chart = join(tmp.dir, 'chart.svg');
    const { code, err } = runWith(
      () => {
        throw new TypeError('boom');
      },
      ['examples/series/broken-canary.json', '--chart', chart],
    );
    expect(code).toBe(1);
    expect(err).toMatch(/^internal error while simulating examples\/series\/broken-canary\.json: TypeError: boom/);
    expect(tmp.files()).toEqual([]);
  });
});

describe('writing outputs all or nothing', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());

  it('writes nothing when one output cannot be written', () => {
    const first = join(tmp.dir, 'a.json');
    expect(() =>
      writeAllOrNothing([
        { path: first, content: '{}' },
        { path: join(tmp.dir, 'missing', 'b.svg'), content: '<svg/>' },
      ]),
    ).toThrow(InputError);
    expect(tmp.files()).toEqual([]);
  });

  it('replaces existing files only once every output is written', () => {
    const a = join(tmp.dir, 'a.txt');
    writeFileSync(a, 'old');
    writeAllOrNothing([
      { path: a, content: 'new' },
      { path: join(tmp.dir, 'b.bin'), content: new Uint8Array([1, 2, 3]) },
    ]);
    expect(readFileSync(a, 'utf8')).toBe('new');
    expect([...readFileSync(join(tmp.dir, 'b.bin'))]).toEqual([1, 2, 3]);
    expect(tmp.files()).toEqual(['a.txt', 'b.bin']);
  });
});

describe('series formats', () => {
  it('reads JSON entries with per-version counts, summing the blended counts when they are left out', () => {
    const data = parseJsonSeries(
      'f.json',
      JSON.stringify({
        series: [
          { minute: 0, requests: 10, errors: 1, slow: 2 },
          { minute: 2, stable: { requests: 9, errors: 0, slow: 1 }, canary: { requests: 1, errors: 1, slow: 0 } },
        ],
      }),
    );
    expect(data.series).toEqual([
      { minute: 0, requests: 10, errors: 1, slow: 2 },
      { minute: 2, requests: 10, errors: 1, slow: 1, stable: { requests: 9, errors: 0, slow: 1 }, canary: { requests: 1, errors: 1, slow: 0 } },
    ]);
    // A minute without an entry is no datapoint, unlike an entry with zero requests.
    expect(data.series.map((e) => e.minute)).toEqual([0, 2]);
    expect(data.locate(1)).toBe('series[1] (minute 2)');
  });

  it('reads CSV: any column order, comments, blank lines, quoted cells, empty cells as no value', () => {
    const data = parseCsvSeries(
      'f.csv',
      '\uFEFF# exported from CloudWatch\r\nerrors,minute,requests,canary_requests,canary_errors,stable_requests,stable_errors\r\n\r\n"1","0","10",,,,\r\n0,1,10,1,0,9,0\r\n',
    );
    expect(data.series).toEqual([
      { minute: 0, requests: 10, errors: 1 },
      { minute: 1, requests: 10, errors: 0, stable: { requests: 9, errors: 0 }, canary: { requests: 1, errors: 0 } },
    ]);
    expect(data.locate(1)).toBe('line 5');
  });

  it('reads failures (failed business operations) per version, summing the blended count when every version gives it', () => {
    const data = parseJsonSeries(
      'f.json',
      JSON.stringify({
        series: [
          { minute: 0, requests: 10, errors: 1, failures: 2 },
          { minute: 1, stable: { requests: 9, errors: 0, failures: 1 }, canary: { requests: 1, errors: 0, failures: 1 } },
          { minute: 2, stable: { requests: 9, errors: 0, failures: 1 }, canary: { requests: 1, errors: 0 } },
          { minute: 3, requests: 10, errors: 0, failures: 2, stable: { requests: 9, errors: 0, failures: 1 }, canary: { requests: 1, errors: 0, failures: 1 } },
        ],
      }),
    );
    expect(data.series).toEqual([
      { minute: 0, requests: 10, errors: 1, failures: 2 },
      { minute: 1, requests: 10, errors: 0, failures: 2, stable: { requests: 9, errors: 0, failures: 1 }, canary: { requests: 1, errors: 0, failures: 1 } },
      // One version without it: no blended count (a business-failure SLO then asks for it).
      { minute: 2, requests: 10, errors: 0, stable: { requests: 9, errors: 0, failures: 1 }, canary: { requests: 1, errors: 0 } },
      { minute: 3, requests: 10, errors: 0, failures: 2, stable: { requests: 9, errors: 0, failures: 1 }, canary: { requests: 1, errors: 0, failures: 1 } },
    ]);
  });

  it('reads CSV failures columns: failures, stable_failures, canary_failures, the blended one summed when left out', () => {
    const blended = parseCsvSeries('f.csv', 'minute,requests,errors,failures,canary_requests,canary_errors,canary_failures\n0,10,1,0,,,\n1,10,0,3,2,0,1\n');
    expect(blended.series).toEqual([
      { minute: 0, requests: 10, errors: 1, failures: 0 },
      { minute: 1, requests: 10, errors: 0, failures: 3, canary: { requests: 2, errors: 0, failures: 1 } },
    ]);
    const summed = parseCsvSeries(
      'f.csv',
      'canary_failures,minute,stable_requests,stable_errors,stable_failures,canary_requests,canary_errors\n,0,10,0,1,,\n2,1,8,1,0,2,0\n',
    );
    expect(summed.series).toEqual([
      { minute: 0, requests: 10, errors: 0, failures: 1, stable: { requests: 10, errors: 0, failures: 1 } },
      { minute: 1, requests: 10, errors: 1, failures: 2, stable: { requests: 8, errors: 1, failures: 0 }, canary: { requests: 2, errors: 0, failures: 2 } },
    ]);
    expect(() => parseCsvSeries('f.csv', 'minute,requests,errors,failure\n0,1,0,0\n')).toThrow(
      /unknown column "failure"; the columns are minute, timestamp, requests, errors, slow, failures, stable_requests, stable_errors, stable_slow, stable_failures, canary_requests, canary_errors, canary_slow, canary_failures/,
    );
  });

  it('reads Synthetics runs: JSON synthetics, CSV synthetics:<canary name> columns, an empty cell as no run', () => {
    const json = parseJsonSeries(
      'f.json',
      JSON.stringify({
        series: [
          { minute: 0, requests: 10, errors: 0, synthetics: { journey: 100, 'Checkout-Flow': 0 } },
          { minute: 1, requests: 10, errors: 0 },
          { minute: 2, stable: { requests: 9, errors: 0 }, canary: { requests: 1, errors: 0 }, synthetics: { journey: 62.5 } },
        ],
      }),
    );
    expect(json.series).toEqual([
      { minute: 0, requests: 10, errors: 0, synthetics: { 'journey': 100, 'Checkout-Flow': 0 } },
      { minute: 1, requests: 10, errors: 0 },
      { minute: 2, requests: 10, errors: 0, stable: { requests: 9, errors: 0 }, canary: { requests: 1, errors: 0 }, synthetics: { journey: 62.5 } },
    ]);
    // The column prefix is case-insensitive like every column; the canary's name is kept as written.
    const csv = parseCsvSeries('f.csv', 'minute,requests,errors,SYNTHETICS:journey,"synthetics:Checkout-Flow"\n0,10,0,100,0\n1,10,0,,\n2,10,0,62.5,\n');
    expect(csv.series).toEqual([
      { minute: 0, requests: 10, errors: 0, synthetics: { 'journey': 100, 'Checkout-Flow': 0 } },
      { minute: 1, requests: 10, errors: 0 },
      { minute: 2, requests: 10, errors: 0, synthetics: { journey: 62.5 } },
    ]);
    expect(() => parseCsvSeries('f.csv', 'minute,requests,errors,synthetics:a,synthetics:a\n0,1,0,1,1\n')).toThrow(/column "synthetics:a" appears twice/);
    expect(() => parseCsvSeries('f.csv', 'minute,requests,errors,synthetic:a\n0,1,0,1\n')).toThrow(/unknown column "synthetic:a"; the columns are .*, canary_failures, synthetics:<canary name>/);
  });

  it('reads CSV timestamps as minutes from the first row', () => {
    const data = parseCsvSeries('f.csv', 'timestamp,requests,errors\n2024-05-01T10:00:00Z,1,0\n2024-05-01T10:03:00+00:00,2,0\n');
    expect(data.startTimeMs).toBe(Date.parse('2024-05-01T10:00:00Z'));
    expect(data.series.map((e) => e.minute)).toEqual([0, 3]);
  });

  it('parses --deployment shorthands and CodeDeploy config names', () => {
    expect(parseDeploymentFlag('all-at-once')).toEqual({ kind: 'all-at-once' });
    expect(parseDeploymentFlag('canary:10:5')).toEqual({ kind: 'canary', percent: 10, intervalMinutes: 5 });
    expect(parseDeploymentFlag('linear:10:1')).toEqual({ kind: 'linear', percent: 10, intervalMinutes: 1 });
    expect(parseDeploymentFlag('CodeDeployDefault.LambdaCanary10Percent5Minutes')).toEqual({ kind: 'canary', percent: 10, intervalMinutes: 5 });
    expect(parseDeploymentFlag('Linear10PercentEvery1Minute')).toEqual({ kind: 'linear', percent: 10, intervalMinutes: 1 });
    expect(parseDeploymentFlag('CodeDeployDefault.ECSAllAtOnce')).toEqual({ kind: 'all-at-once' });
    expect(() => parseDeploymentFlag('canary:0:5')).toThrow(/--deployment canary:0:5: PERCENT must be a whole percentage from 1 to 99/);
    expect(() => parseDeploymentFlag('canary:10')).toThrow(/--deployment must be all-at-once, canary:PERCENT:MINUTES/);
  });
});

describe('a business-failure SLO replays the failures columns', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.remove());

  /** A Lambda canary of 10 % for 10 minutes at 1,000 payments a minute, released at minute 60; `canary` gives the new version's errors and failures. */
  function csv(canary: (requests: number) => { errors: number; failures: number | '' }): string {
    const rows = ['minute,stable_requests,stable_errors,stable_failures,canary_requests,canary_errors,canary_failures'];
    for (let m = 0; m <= 90; m++) {
      const c = m < 60 ? 0 : m < 70 ? 100 : 1_000;
      const bad = c > 0 ? canary(c) : undefined;
      rows.push(`${m},${1_000 - c},0,0,${c > 0 ? c : ''},${bad ? bad.errors : ''},${bad ? bad.failures : ''}`);
    }
    return rows.join('\n');
  }

  function simulateCsv(content: string): ReturnType<typeof run> & { doc?: { result: { outcome: Record<string, unknown> } } } {
    const policy = join(tmp.dir, 'policy.json');
    writeFileSync(policy, JSON.stringify({ slos: [{ name: 'Payments', objectivePercent: 99.5, sli: 'business-failure' }], rollback: { platform: 'lambda' } }));
    const series = join(tmp.dir, 'payments.csv');
    writeFileSync(series, content);
    const json = join(tmp.dir, 'out.json');
    const result = run(['simulate', series, '--policy', policy, '--release-minute', '60', '--deployment', 'Canary10Percent10Minutes', '--json', json]);
    return result.code === 0 ? { ...result, doc: JSON.parse(readFileSync(json, 'utf8')) } : result;
  }

  it('rolls back a new version that fails 10 % of its payments without an error', () => {
    const { code, err, out, doc } = simulateCsv(csv((requests) => ({ errors: 0, failures: requests / 10 })));
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^Outcome: ROLLED BACK at minute 61 \(1 min after the release\) — decided by the alarm path \(fail\)/m);
    expect(doc!.result.outcome).toMatchObject({ path: 'alarm', minute: 61, rollback: true });
  });

  it('deploys a new version whose errors are not failed payments', () => {
    const { code, doc } = simulateCsv(csv((requests) => ({ errors: requests / 10, failures: 0 })));
    expect(code).toBe(0);
    expect(doc!.result.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass', rollback: false });
  });

  it('asks for the new version\'s failures when a row leaves them out', () => {
    const { code, err } = simulateCsv(csv((requests) => ({ errors: 0, failures: requests === 100 ? '' : 0 })));
    expect(code).toBe(2);
    expect(err).toMatch(/payments\.csv: line 62: field "canary_failures": is required: SLO Payments is a business-failure SLO, which counts failed business operations \(not errors\)/);
  });
});

describe('--png without a resvg binary for the platform', () => {
  it('explains how to get one', () => {
    const missing = () => {
      throw new Error("Cannot find module '@resvg/resvg-js-darwin-arm64'\nRequire stack: …");
    };
    expect(() => svgToPng('<svg xmlns="http://www.w3.org/2000/svg"/>', 2, missing)).toThrow(PngUnavailableError);
    expect(() => svgToPng('<svg xmlns="http://www.w3.org/2000/svg"/>', 2, missing)).toThrow(
      /--png needs the resvg binary for .*\(Cannot find module '@resvg\/resvg-js-darwin-arm64'\)\. Install it in your project with "npm install @resvg\/resvg-js@2\.6\.2"/,
    );
  });
});
