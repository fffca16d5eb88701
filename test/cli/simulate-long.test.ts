import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { byClass, parseXml, run, tempDir } from './simulate-helpers';

/**
 * A month of minutes (43,200) with two SLOs: 16 paging window alarms and 2 rollback alarms, about
 * 780,000 burn rates. The chart used to spread them all into one `Math.max(...)` call, which
 * overflows the call stack from about 17,500 minutes on (exit 1, "Maximum call stack size
 * exceeded"); it now scans them once and draws every line from at most ~1,500 buckets.
 */
describe('rollback-triggers simulate: a month of minutes', () => {
  const MINUTES = 30 * 1_440;
  const RELEASE = MINUTES - 60;
  let tmp: ReturnType<typeof tempDir>;
  let result: ReturnType<typeof run>;
  let seconds: number;

  beforeAll(() => {
    tmp = tempDir('rt-month-');
    // Deterministic noise: a healthy month, then a canary that fails 20 % of its requests.
    const series = Array.from({ length: MINUTES }, (_, minute) => {
      const requests = 200 + ((minute * 7919) % 50);
      const errors = (minute * 104_729) % 997 === 0 ? 2 : 0;
      if (minute < RELEASE) return { minute, requests, errors, slow: errors };
      const canary = { requests: 20, errors: 4, slow: 0 };
      const stable = { requests: requests - 20, errors: 0, slow: 0 };
      return { minute, stable, canary };
    });
    const file = join(tmp.dir, 'month.json');
    writeFileSync(
      file,
      JSON.stringify({
        releaseMinute: RELEASE,
        deployment: { kind: 'canary', percent: 10, intervalMinutes: 10, bakeMinutes: 10 },
        slos: [
          { name: 'availability', objectivePercent: 99.9 },
          { name: 'latency', objectivePercent: 99, sli: 'latency' },
        ],
        series,
      }),
    );
    const started = Date.now();
    result = run(['simulate', file, '--chart', join(tmp.dir, 'month.svg')]);
    seconds = (Date.now() - started) / 1000;
  });
  afterAll(() => tmp.remove());

  it('simulates and draws the chart, reporting progress, in a few seconds', () => {
    expect(result.err).not.toMatch(/internal error|\n\s+at /);
    expect(result.code).toBe(0);
    const decided = Number(/Outcome: ROLLED BACK at minute (\d+)/.exec(result.out)?.[1]);
    expect(decided).toBeGreaterThan(RELEASE);
    expect(decided).toBeLessThan(RELEASE + 10);
    expect(result.err).toMatch(/drawing the chart…\n.*done, wrote .*month\.svg$/);
    // Generous for a shared 2-core machine; it takes about 3 s alone.
    expect(seconds).toBeLessThan(30);
  });

  it('draws every burn-rate line from at most ~1,500 buckets, so the file stays small', () => {
    const svg = readFileSync(join(tmp.dir, 'month.svg'), 'utf8');
    expect(svg.length).toBeLessThan(1_000_000);
    const root = parseXml(svg);
    const lines = byClass(root, 'burn');
    // 2 SLOs × 4 tiers × 2 windows, and 2 rollback alarms.
    expect(lines).toHaveLength(18);
    for (const line of lines) expect((line.attributes.d.match(/[ML]/g) ?? []).length).toBeLessThanOrEqual(1_501);
    // The log scale reaches the canary's burn rate (20 % errors = 200× a 99.9 % budget).
    expect(svg).toMatch(/>100×</);
  });
});
