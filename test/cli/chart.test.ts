import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SimulationResult, simulate } from '../../lib/core/simulator';
import { Run, run, runWith, tempDir } from './simulate-helpers';

/**
 * The chart's SVG text, byte for byte, against files in `__snapshots__/`: the structural checks in
 * simulate.test.ts say what the chart shows, these say nothing moved (a refactor of chart.ts must
 * leave them unchanged). Between them the cases draw every element the renderer has: one and two
 * SLO panels and the "other alarms" panel, rollback alarms on the new version, blue/green and the
 * declared SLI, paging tiers at shared and distinct factors, per-version and blended traffic, gaps,
 * timestamps across midnight, bucketed long runs, every phase and every decision marker.
 */

const REPO = resolve(__dirname, '..', '..');
const EXAMPLES = join(REPO, 'examples', 'series');

describe('the simulation chart, byte for byte', () => {
  const tmp = tempDir('rt-chart-');
  afterAll(() => tmp.remove());

  /** Runs the CLI with `--chart`; returns the SVG with the machine's paths (only in `<title>`) replaced. */
  function chart(name: string, args: string[], runner: (args: string[]) => Run = run): string {
    const file = join(tmp.dir, `${name}.svg`);
    const { code, err } = runner([...args, '--chart', file]);
    expect(err).toBe('');
    expect(code).toBe(0);
    return readFileSync(file, 'utf8').split(tmp.dir).join('{tmp}').split(REPO).join('{repo}');
  }

  function writeJson(name: string, doc: unknown): string {
    const file = join(tmp.dir, name);
    writeFileSync(file, JSON.stringify(doc));
    return file;
  }

  it('a broken canary rolled back by the alarm path (the README example)', async () => {
    const svg = chart('broken-canary', ['simulate', join(EXAMPLES, 'broken-canary.json')]);
    await expect(svg).toMatchFileSnapshot('__snapshots__/chart-broken-canary.svg');
  });

  it('two SLOs on ECS (blue and green rollback alarms) and alarms the policy does not name', async () => {
    const policy = writeJson('ecs-policy.json', {
      slos: [
        { name: 'Availability', objectivePercent: 99.9, sli: 'error-ratio' },
        { name: 'Latency', objectivePercent: 99, sli: 'latency', latencyThreshold: 0.25 },
      ],
      rollback: { platform: 'ecs' },
    });
    // Two ids that match no SLO and no single rollback alarm: drawn in the "other alarms" panel,
    // one with gaps (null) and zeros.
    const engine = (input: Parameters<typeof simulate>[0]): SimulationResult => {
      const result = simulate(input);
      return {
        ...result,
        thresholds: { ...result.thresholds, 'external/alarm': 3, 'external/other': 0.5 },
        minutes: result.minutes.map((m, i) => ({
          ...m,
          burnRates: { ...m.burnRates, 'external/alarm': i % 7 === 0 ? null : (i % 13) * 0.4, 'external/other': i % 5 === 0 ? 0 : 0.02 * i },
        })),
      };
    };
    const svg = chart('ecs-two-slos', [join(EXAMPLES, 'clean-release.json'), '--policy', policy], (args) => runWith(engine, args));
    await expect(svg).toMatchFileSnapshot('__snapshots__/chart-ecs-other-alarms.svg');
  });

  it('a timestamped CSV across midnight: blended traffic only, gaps, a declared rollback alarm, custom tiers', async () => {
    const rows = ['timestamp,requests,errors'];
    for (let m = 0; m < 300; m++) {
      if (m % 23 === 5 || (m > 200 && m < 212)) continue;
      const time = new Date(Date.parse('2024-05-01T22:00:00Z') + m * 60_000).toISOString().replace('.000', '');
      rows.push(`${time},${500 + (m % 17)},${m > 150 && m % 3 === 0 ? 40 : 0}`);
    }
    const series = join(tmp.dir, 'blended.csv');
    writeFileSync(series, rows.join('\n') + '\n');
    const policy = writeJson('declared-policy.json', {
      slos: [{ name: 'orders', objectivePercent: 99.9, sli: 'error-ratio', tiers: ['page-6h', 'ticket-1d', 'ticket-3d'] }],
      rollback: { perVersionMetrics: false },
    });
    const svg = chart('blended', ['simulate', series, '--policy', policy, '--release-time', '2024-05-02T00:20:00Z', '--deployment', 'Linear10PercentEvery1Minute', '--bake-minutes', '5']);
    await expect(svg).toMatchFileSnapshot('__snapshots__/chart-timestamps-blended.svg');
  });

  it('a long run drawn from buckets (peak burn rate, mean traffic)', async () => {
    const series = writeJson('long.json', {
      releaseMinute: 1_540,
      deployment: { kind: 'canary', percent: 10, intervalMinutes: 10, bakeMinutes: 10 },
      // One tier keeps the file small: 1,600 minutes are drawn from buckets of 2.
      slos: [{ name: 'availability', objectivePercent: 99.9, sli: 'error-ratio', tiers: ['page-1h'] }],
      series: Array.from({ length: 1_600 }, (_, minute) => {
        const requests = 200 + ((minute * 7919) % 50);
        if (minute < 1_540) return { minute, requests, errors: minute % 97 === 0 ? 1 : 0 };
        return { minute, stable: { requests: requests - 20, errors: 0 }, canary: { requests: 20, errors: minute % 4 === 0 ? 1 : 0 } };
      }),
    });
    const svg = chart('long', ['simulate', series]);
    await expect(svg).toMatchFileSnapshot('__snapshots__/chart-bucketed.svg');
  });
});
