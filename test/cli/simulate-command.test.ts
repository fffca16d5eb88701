import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, tempDir } from './simulate-helpers';

/**
 * `simulate`'s own checks of the release, the deployment and the ingestion delay once the file is
 * read, each naming the flag or the file's field that gave the value, and what it prints and
 * writes when the replay runs.
 */

let tmp: ReturnType<typeof tempDir>;
const path = (name: string) => join(tmp.dir, name);
const entries = (minutes: number[]) => minutes.map((minute) => ({ minute, requests: 100, errors: 0 }));

beforeAll(() => {
  tmp = tempDir('rt-simulate-command-');
  const write = (name: string, doc: object) => writeFileSync(path(name), JSON.stringify(doc));
  write('no-release.json', { deployment: { kind: 'all-at-once' }, series: entries([0, 1]) });
  write('no-deployment.json', { releaseMinute: 1, series: entries([0, 1]) });
  write('early-release.json', { releaseMinute: 2, deployment: { kind: 'all-at-once' }, series: entries([5, 6]) });
  write('long-deployment.json', { releaseMinute: 1, deployment: { kind: 'linear', percent: 1, intervalMinutes: 2880 }, series: entries([0, 1]) });
  write('far-last.json', { releaseMinute: 0, deployment: { kind: 'all-at-once' }, series: entries([0, 66_300]) });
  write('far-last-delayed.json', { releaseMinute: 0, deployment: { kind: 'all-at-once' }, ingestionDelayMinutes: 20_160, series: entries([0, 66_300]) });
  writeFileSync(path('timestamps.csv'), 'timestamp,requests,errors\n2024-05-01T10:00:00Z,100,0\n2024-05-01T10:01:00Z,100,0\n');
});
afterAll(() => tmp?.remove());

describe('rollback-triggers simulate: release, deployment and delay checks', () => {
  const refused: Array<{ name: string; args: () => string[]; err: () => string }> = [
    {
      name: 'a JSON file without the release minute',
      args: () => [path('no-release.json')],
      err: () => `${path('no-release.json')}: field "releaseMinute": is required (or give --release-minute) (RT716)`,
    },
    {
      name: 'a JSON file without the deployment',
      args: () => [path('no-deployment.json')],
      err: () => `${path('no-deployment.json')}: field "deployment": is required (or give --deployment) (RT716)`,
    },
    {
      name: "a file's release before its first entry",
      args: () => [path('early-release.json')],
      err: () => `${path('early-release.json')}: field "releaseMinute": 2 is before the series, which starts at minute 5 (RT716)`,
    },
    {
      name: 'a --release-time too far after the first entry',
      args: () => [path('timestamps.csv'), '--deployment', 'all-at-once', '--release-time', '2024-08-01T10:00:00Z'],
      err: () =>
        "--release-time 2024-08-01T10:00:00Z (minute 132480): is 132480 minutes after the series' first entry (minute 0); one replay covers less than 86400 minutes (60 days) from there — drop older entries (RT712)",
    },
    {
      name: "a file's deployment too long to replay",
      args: () => [path('long-deployment.json')],
      err: () =>
        `${path('long-deployment.json')}: field "deployment": shifts all traffic at minute 285121, 285120 minutes after the release; with the hour of the hook, the replay from the series' first entry (minute 0) would exceed the 86400 minutes (60 days) one replay covers — use fewer or shorter steps (RT716)`,
    },
    {
      name: 'an --ingestion-delay that pushes the last entry past the replay',
      args: () => [path('far-last.json'), '--ingestion-delay', '1209600'],
      err: () => `read 2 entries (minutes 0–66300) from ${path('far-last.json')}\n--ingestion-delay 1209600: delays the last entry (minute 66300) past the 86400 minutes (60 days) one replay covers from the first entry (minute 0) (RT712)`,
    },
    {
      name: "a file's ingestion delay that pushes the last entry past the replay",
      args: () => [path('far-last-delayed.json')],
      err: () =>
        `read 2 entries (minutes 0–66300) from ${path('far-last-delayed.json')}\n${path('far-last-delayed.json')}: field "ingestionDelayMinutes": 20160 delays the last entry (minute 66300) past the 86400 minutes (60 days) one replay covers from the first entry (minute 0) (RT716)`,
    },    {
      name: '--breaker-open when the replayed trigger has no circuit breaker',
      args: () => [path('no-release.json'), '--release-minute', '1', '--breaker-open'],
      // The default policy's trigger (the library's defaults) has none.
      err: () => '--breaker-open: the rollback trigger Rollback has no circuitBreaker, so there is no breaker to replay open (synthesize it with circuitBreaker and pass --assembly) (RT712)',
    },
  ];

  for (const c of refused) {
    it(`refuses ${c.name}`, () => {
      const { code, out, err } = run(['simulate', ...c.args()]);
      expect({ code, out, err: err.replace(/^\[\d+\.\d s\] /gm, '') }).toEqual({ code: 2, out: '', err: c.err() });
    });
  }
});

describe('rollback-triggers simulate: what a replay prints and writes', () => {
  it('prints the timeline, then one line per file written, in the order json, chart', () => {
    const json = path('r.json');
    const chart = path('c.svg');
    const { code, out, err } = run(['simulate', 'examples/series/total-outage.json', '--chart', chart, '--json', json]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^Outcome: /m);
    expect(out.endsWith(`\nwrote ${json}\nwrote ${chart}`)).toBe(true);
    const doc = JSON.parse(readFileSync(json, 'utf8'));
    expect(Object.keys(doc)).toEqual(['schemaVersion', 'input', 'result']);
    expect(Object.keys(doc.input)).toEqual([
      'file',
      'format',
      'description',
      'entries',
      'firstMinute',
      'lastMinute',
      'missingMinutes',
      'canaryEntries',
      'stableEntries',
      'releaseMinute',
      'deployment',
      'ingestionDelayMinutes',
      'rollbackTrigger',
      'policySource',
      'policy',
    ]);
    expect(readFileSync(json, 'utf8')).toBe(JSON.stringify(doc, null, 2) + '\n');
    // --json - prints the same document (without its final newline) and nothing else.
    const stdout = run(['simulate', 'examples/series/total-outage.json', '--json', '-']);
    expect(stdout.out).toBe(readFileSync(json, 'utf8').trimEnd());
  });

  it('reports the steps of a long replay on stderr, in order', () => {
    const file = path('long.json');
    writeFileSync(file, JSON.stringify({ releaseMinute: 10_000, deployment: { kind: 'all-at-once', bakeMinutes: 10 }, series: entries(Array.from({ length: 10_001 }, (_, i) => i)) }));
    const chart = path('long.svg');
    const png = path('long.png');
    const { code, err } = run(['simulate', file, '--chart', chart, '--png', png]);
    expect(code).toBe(0);
    expect(err.replace(/^\[\d+\.\d s\] /gm, '')).toBe(
      [
        `read 10,001 entries (minutes 0–10000) from ${file}`,
        'simulating (alarm emulator, evaluator, paging)…',
        'simulated',
        'drawing the chart…',
        'rasterizing the chart…',
        `done, wrote ${chart}, ${png}`,
      ].join('\n'),
    );
  });
});
