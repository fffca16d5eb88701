import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run, tempDir } from './simulate-helpers';
import { SCENARIOS, generateAll } from '../../scripts/generate-series';
import { readSeriesFile } from '../../lib/cli/series-file';

const DIR = join(__dirname, '..', '..', 'examples', 'series');

describe('the example series', () => {
  it('are what scripts/generate-series.ts writes (seeded: run it after changing a scenario)', () => {
    const generated = generateAll();
    const committed = readdirSync(DIR).filter((f) => f.endsWith('.json') || f.endsWith('.csv'));
    expect(committed.sort()).toEqual(Object.keys(generated).sort());
    for (const [file, content] of Object.entries(generated)) expect(readFileSync(join(DIR, file), 'utf8'), file).toBe(content);
  });

  it('cover the scenarios the simulator documents, in JSON and CSV', () => {
    expect(SCENARIOS.map((s) => s.file)).toEqual([
      'clean-release.json',
      'total-outage.json',
      'slow-burn.json',
      'short-blip.json',
      'low-traffic.json',
      'broken-canary.json',
      'linear-regression.csv',
      'agent-canary.json',
    ]);
  });

  it('read without error, with per-version counts where the scenario has them', () => {
    for (const s of SCENARIOS) {
      const data = readSeriesFile(join(DIR, s.file));
      expect(data.series).toHaveLength(s.minutes);
      const afterRelease = data.series.filter((e) => e.minute >= s.releaseMinute);
      // A version without requests in a minute publishes no datapoint, so it has no entry.
      expect(afterRelease.every((e) => (e.canary !== undefined) === e.requests > 0), s.file).toBe(true);
    }
  });

  it('model the scenario: a single error in low traffic, a total outage, a 30 % broken canary', () => {
    const low = readSeriesFile(join(DIR, 'low-traffic.json')).series;
    expect(low.reduce((n, e) => n + (e.canary?.errors ?? 0), 0)).toBe(1);
    expect(Math.max(...low.map((e) => e.requests))).toBeLessThan(10);
    const outage = readSeriesFile(join(DIR, 'total-outage.json')).series.filter((e) => e.minute >= 60);
    expect(outage.every((e) => e.canary!.errors === e.canary!.requests && e.stable === undefined)).toBe(true);
    const broken = readSeriesFile(join(DIR, 'broken-canary.json')).series.filter((e) => e.minute >= 60);
    const ratio = broken.reduce((n, e) => n + e.canary!.errors, 0) / broken.reduce((n, e) => n + e.canary!.requests, 0);
    expect(ratio).toBeGreaterThan(0.28);
    expect(ratio).toBeLessThan(0.32);
  });
});

const hasJq = (() => {
  try {
    execFileSync('jq', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe('replaying a CloudWatch export (README)', () => {
  it.skipIf(!hasJq)('turns GetMetricData output into a CSV the simulator reads, per-version metrics only', () => {
    const tmp = tempDir('rt-sim-jq-');
    try {
      // GetMetricData's shape: one result per query id, newest first, no datapoint for a version
      // without invocations (and Errors datapoints only in some minutes).
      const at = (i: number) => new Date(Date.parse('2024-05-01T10:00:00Z') + i * 60_000).toISOString().replace('.000Z', '+00:00');
      const results = new Map<string, { Timestamps: string[]; Values: number[] }>();
      const put = (id: string, i: number, v: number) => {
        const r = results.get(id) ?? { Timestamps: [], Values: [] };
        r.Timestamps.push(at(i));
        r.Values.push(v);
        results.set(id, r);
      };
      for (let i = 39; i >= 0; i--) {
        const canary = i >= 20 ? (i < 25 ? 100 : 1_000) : 0;
        if (canary < 1_000) put('stable_requests', i, 1_000 - canary);
        if (canary < 1_000 && i % 9 === 0) put('stable_errors', i, 1);
        if (canary > 0) {
          put('canary_requests', i, canary);
          put('canary_errors', i, canary * 0.3);
        }
      }
      const exported = join(tmp.dir, 'export.json');
      writeFileSync(exported, JSON.stringify({ MetricDataResults: [...results].map(([Id, r]) => ({ Id, Label: Id, ...r, StatusCode: 'Complete' })), Messages: [] }));
      const csv = execFileSync('jq', ['-r', '-f', join(DIR, 'cloudwatch-to-csv.jq'), exported], { encoding: 'utf8' });
      const csvFile = join(tmp.dir, 'export.csv');
      writeFileSync(csvFile, csv);
      // Columns in the order of the queries (here: as first met).
      expect(csv.split('\n')[0]).toBe('"timestamp","canary_requests","canary_errors","stable_requests","stable_errors"');
      expect(readSeriesFile(csvFile).series[21]).toEqual({ minute: 21, requests: 1_000, errors: 30, stable: { requests: 900, errors: 0 }, canary: { requests: 100, errors: 30 } });
      const { code, out } = run(['simulate', csvFile, '--release-time', '2024-05-01T10:20:00Z', '--deployment', 'canary:10:5', '--bake-minutes', '5']);
      expect(code).toBe(0);
      expect(out).toMatch(/^Outcome: ROLLED BACK at minute 2[0-3] \(10:2[0-3]Z\)/m);
    } finally {
      tmp.remove();
    }
  });

  it.skipIf(!hasJq)('writes 0 for a failures count without a datapoint in a minute its requests have one', () => {
    const tmp = tempDir('rt-sim-jq-');
    try {
      const at = (i: number) => `2024-05-01T10:0${i}:00+00:00`;
      const result = (Id: string, points: Array<[number, number]>) => ({ Id, Label: Id, Timestamps: points.map(([i]) => at(i)), Values: points.map(([, v]) => v), StatusCode: 'Complete' });
      const exported = join(tmp.dir, 'export.json');
      writeFileSync(
        exported,
        JSON.stringify({
          MetricDataResults: [
            result('requests', [
              [1, 10],
              [0, 10],
            ]),
            result('errors', [[0, 0]]),
            result('failures', [[1, 2]]),
          ],
          Messages: [],
        }),
      );
      const csvFile = join(tmp.dir, 'export.csv');
      writeFileSync(csvFile, execFileSync('jq', ['-r', '-f', join(DIR, 'cloudwatch-to-csv.jq'), exported], { encoding: 'utf8' }));
      expect(readSeriesFile(csvFile).series).toEqual([
        { minute: 0, requests: 10, errors: 0, failures: 0 },
        { minute: 1, requests: 10, errors: 0, failures: 2 },
      ]);
    } finally {
      tmp.remove();
    }
  });

  it.skipIf(!hasJq)('names a Synthetics canary\'s column by its query\'s Label synthetics:<canary name>, a minute without a run left empty', () => {
    const tmp = tempDir('rt-sim-jq-');
    try {
      const at = (i: number) => `2024-05-01T10:0${i}:00+00:00`;
      const result = (Id: string, Label: string, points: Array<[number, number]>) => ({ Id, Label, Timestamps: points.map(([i]) => at(i)), Values: points.map(([, v]) => v), StatusCode: 'Complete' });
      const exported = join(tmp.dir, 'export.json');
      writeFileSync(
        exported,
        JSON.stringify({
          MetricDataResults: [
            result('requests', 'requests', [
              [2, 10],
              [1, 10],
              [0, 10],
            ]),
            result('errors', 'errors', [[0, 0]]),
            result('journey', 'synthetics:journey', [
              [2, 0],
              [0, 100],
            ]),
          ],
          Messages: [],
        }),
      );
      const csvFile = join(tmp.dir, 'export.csv');
      const csv = execFileSync('jq', ['-r', '-f', join(DIR, 'cloudwatch-to-csv.jq'), exported], { encoding: 'utf8' });
      expect(csv.split('\n')[0]).toBe('"timestamp","requests","errors","synthetics:journey"');
      writeFileSync(csvFile, csv);
      expect(readSeriesFile(csvFile).series).toEqual([
        { minute: 0, requests: 10, errors: 0, synthetics: { journey: 100 } },
        { minute: 1, requests: 10, errors: 0 },
        { minute: 2, requests: 10, errors: 0, synthetics: { journey: 0 } },
      ]);
    } finally {
      tmp.remove();
    }
  });
});
