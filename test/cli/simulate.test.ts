import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PNG_SIGNATURE, XmlElement, byClass, byId, parseXml, run, tempDir, textOf } from './simulate-helpers';

const EXAMPLES = join(__dirname, '..', '..', 'examples', 'series');
const example = (name: string) => join(EXAMPLES, name);

describe('rollback-triggers simulate: the broken canary, end to end', () => {
  const tmp = tempDir();
  const svgPath = join(tmp.dir, 'chart.svg');
  const jsonPath = join(tmp.dir, 'result.json');
  const pngPath = join(tmp.dir, 'chart.png');
  let result: ReturnType<typeof run>;
  let svg: XmlElement;
  beforeAll(() => {
    result = run(['simulate', example('broken-canary.json'), '--chart', svgPath, '--json', jsonPath, '--png', pngPath]);
    svg = parseXml(readFileSync(svgPath, 'utf8'));
  });
  afterAll(() => tmp.remove());

  it('exits 0 and writes exactly the three outputs, no temporary files', () => {
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(tmp.files()).toEqual(['chart.png', 'chart.svg', 'result.json']);
    expect(result.out).toContain(`wrote ${svgPath}`);
  });

  it('prints the timeline: input, phases, the outcome and every path with its reasons', () => {
    const out = result.out;
    expect(out).toContain('Simulation of');
    expect(out).toContain('a 10 % canary of a version that fails 30 % of its requests');
    expect(out).toMatch(/Deployment {2}canary 10 % for 10 min, then all traffic, bake 10 min, released at minute 60/);
    expect(out).toMatch(/Policy {6}inline, from the series file: availability 99\.9 % \(error-ratio\); rollback alarms on new version traffic/);
    expect(out).toMatch(/^Phases\n {2}before +minutes 0–60 +0 % on the new version\n {2}canary +minutes 60–6\d +10 % on the new version/m);
    expect(out).toMatch(/after +minutes 6\d–\d+ +0 % on the new version \(rolled back\)/);
    // The 10 % canary of a broken version is caught on its own traffic within a few minutes.
    expect(out).toMatch(/^Outcome: ROLLED BACK at minute 6[0-3] \([0-3] min after the release\) — decided by the alarm path \(fail\)/m);
    expect(out).toMatch(/^ {2}alarm path fail → rollback {2}minute 6[0-3]/m);
    expect(out).toMatch(/^ {2}evaluator {2}fail → rollback {2}minute \d+/m);
    expect(out).toMatch(/^ {2}paging {5}/m);
    // The engine's reasons carry the numbers (their wording is the engine's).
    expect(out).toMatch(/burn rate \d+(\.\d+)?× over the last 5 min \(\d+ of \d+ events bad, minimum 70\)[^\n]*threshold 14\.4×/);
    // First minute each rollback alarm and paging tier reached its threshold.
    expect(out).toMatch(/^Rollback alarms .*\n {2}availability new version 5 min +≥ 14\.4× +minute 6[0-3] \(\d+×\) +peak \d+× at minute \d+/m);
    expect(out).toMatch(/^ {2}availability page-1h +≥ 14\.4× +(minute \d+|never)/m);
    expect(out).toMatch(/^ {2}availability ticket-3d +≥ 1× /m);
  });

  it('writes the SimulationResult and an input summary as JSON', () => {
    const doc = JSON.parse(readFileSync(jsonPath, 'utf8'));
    expect(doc.schemaVersion).toBe(1);
    expect(doc.input).toMatchObject({
      format: 'json',
      entries: 120,
      firstMinute: 0,
      lastMinute: 119,
      missingMinutes: 0,
      releaseMinute: 60,
      deployment: { kind: 'canary', percent: 10, intervalMinutes: 10, bakeMinutes: 10 },
      ingestionDelayMinutes: 0,
      rollbackTrigger: 'inline/Rollback',
      policySource: { kind: 'series-file' },
    });
    expect(doc.input.policy.slos.map((s: { name: string }) => s.name)).toEqual(['availability']);
    const r = doc.result;
    expect(r.outcome).toMatchObject({ path: 'alarm', verdict: 'fail', rollback: true });
    expect(r.outcome.minute - 60).toBeLessThanOrEqual(3);
    expect(r.paths.map((p: { path: string }) => p.path)).toEqual(['alarm', 'evaluator', 'paging']);
    expect(r.phases[0]).toEqual({ name: 'before', fromMinute: 0, toMinute: 60, canaryShare: 0 });
    expect(r.phases.map((p: { name: string }) => p.name)).toContain('canary');
    expect(r.minutes.length).toBeGreaterThanOrEqual(120);
    expect(r.thresholds['inline/availability/page-1h/long']).toBe(14.4);
  });

  it('draws an SVG that parses as XML, with the phases as bands', () => {
    expect(svg.tag).toBe('svg');
    expect(svg.attributes.xmlns).toBe('http://www.w3.org/2000/svg');
    const phases = byClass(byId(svg, 'phases')!, 'phase');
    expect(phases.map((p) => p.attributes.class)).toEqual(expect.arrayContaining(['phase phase-canary', 'phase phase-after']));
    const canary = phases.find((p) => p.attributes.class === 'phase phase-canary')!;
    expect(canary.attributes['data-from']).toBe('60');
    expect(canary.attributes['data-share']).toBe('0.1');
    expect(canary.children.some((c) => c.tag === 'rect')).toBe(true);
    const labels = textOf(byId(svg, 'phase-labels')!);
    expect(labels).toContain('canary 10 %');
    expect(labels).toContain('after: rolled back');
  });

  it('marks the release and each decision, the outcome labelled', () => {
    const markers = byClass(byId(svg, 'markers')!, 'marker');
    const kinds = markers.map((m) => m.attributes.class);
    expect(kinds).toEqual(expect.arrayContaining(['marker marker-release', 'marker marker-alarm', 'marker marker-evaluator']));
    const alarm = markers.find((m) => m.attributes.class === 'marker marker-alarm')!;
    expect(Number(alarm.attributes['data-minute']) - 60).toBeLessThanOrEqual(3);
    expect(textOf(alarm)).toMatch(/alarm path: fail → rollback at minute 6[0-3] \(outcome\)/);
    expect(textOf(byId(svg, 'markers')!)).toContain('release at minute 60');
  });

  it('plots burn rates against the thresholds, and traffic per version', () => {
    const thresholds = byClass(svg, 'threshold').map((t) => Number(t.attributes['data-threshold']));
    expect(thresholds).toEqual([14.4, 6, 3, 1]);
    const rollbackLines = byClass(svg, 'burn-rollback');
    expect(rollbackLines).toHaveLength(1);
    expect(rollbackLines[0].attributes.d).toMatch(/^M[\d.]+,[\d.]+ L/);
    expect(byClass(svg, 'burn-paging').length).toBe(8);
    expect(byClass(svg, 'traffic-stable')).toHaveLength(1);
    expect(byClass(svg, 'traffic-canary')).toHaveLength(1);
    expect(textOf(byId(svg, 'legend')!)).toContain('rollback alarm: new version, 5 min');
  });

  it('rasterizes the chart to a PNG at twice the SVG size', () => {
    const png = readFileSync(pngPath);
    expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(png.toString('ascii', 12, 16)).toBe('IHDR');
    expect(png.readUInt32BE(16)).toBe(2 * Number(svg.attributes.width));
    expect(png.readUInt32BE(20)).toBe(2 * Number(svg.attributes.height));
  });
});

describe('rollback-triggers simulate: every example series', () => {
  const tmp = tempDir();
  afterAll(() => tmp.remove());
  const expectations: Record<string, RegExp> = {
    'clean-release.json': /^Outcome: DEPLOYED at minute \d+ .* decided by the evaluator \(pass, reported Succeeded\)/m,
    'total-outage.json': /^Outcome: ROLLED BACK at minute 6[01] .* decided by the alarm path \(fail\)/m,
    'slow-burn.json': /^Outcome: /m,
    'short-blip.json': /^Outcome: /m,
    'low-traffic.json': /^Outcome: .*decided by the evaluator \(inconclusive/m,
    'broken-canary.json': /^Outcome: ROLLED BACK at minute 6[0-3] .* decided by the alarm path \(fail\)/m,
  };

  for (const [file, outcome] of Object.entries(expectations)) {
    it(`simulates ${file} and draws its chart`, () => {
      const chart = join(tmp.dir, `${file}.svg`);
      const { code, out, err } = run(['simulate', example(file), '--chart', chart]);
      expect(err).toBe('');
      expect(code).toBe(0);
      expect(out).toMatch(outcome);
      const svg = parseXml(readFileSync(chart, 'utf8'));
      expect(byClass(svg, 'phase').length).toBeGreaterThanOrEqual(2);
      expect(byClass(svg, 'marker').length).toBeGreaterThanOrEqual(2);
    });
  }

  it('draws one burn panel per SLO (availability and latency for the clean release)', () => {
    const chart = join(tmp.dir, 'two-slos.svg');
    expect(run(['simulate', example('clean-release.json'), '--chart', chart]).code).toBe(0);
    const svg = parseXml(readFileSync(chart, 'utf8'));
    expect(byClass(svg, 'burn-panel')).toHaveLength(2);
    expect(byClass(svg, 'burn-rollback')).toHaveLength(2);
  });

  it('simulates the CSV example with flags, reading timestamps', () => {
    const { code, out, err } = run([
      'simulate',
      example('linear-regression.csv'),
      '--release-time',
      '2024-05-01T10:45:00Z',
      '--deployment',
      'Linear10PercentEvery1Minute',
      '--bake-minutes',
      '10',
    ]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain('minute 0 is 2024-05-01T10:00:00.000Z');
    expect(out).toMatch(/Deployment {2}linear, 10 % more every 1 min, bake 10 min, released at minute 45 \(10:45Z\)/);
    expect(out).toMatch(/linear step +minutes 45 \(10:45Z\)–46 \(10:46Z\) +10 % on the new version/);
    expect(out).toMatch(/^Outcome: ROLLED BACK/m);
  });

  it('prints the JSON on stdout with --json -', () => {
    const { code, out } = run(['simulate', example('total-outage.json'), '--json', '-']);
    expect(code).toBe(0);
    const doc = JSON.parse(out);
    expect(doc.result.outcome.rollback).toBe(true);
    expect(doc.input.deployment).toEqual({ kind: 'all-at-once', bakeMinutes: 10 });
  });

  it('lets flags override the file: deployment, release, bake and ingestion delay', () => {
    const { code, out } = run([
      'simulate',
      example('broken-canary.json'),
      '--deployment',
      'canary:20:5',
      '--release-minute',
      '50',
      '--bake-minutes',
      '5',
      '--ingestion-delay',
      '120',
      '--json',
      '-',
    ]);
    expect(code).toBe(0);
    const doc = JSON.parse(out);
    expect(doc.input).toMatchObject({ releaseMinute: 50, deployment: { kind: 'canary', percent: 20, intervalMinutes: 5, bakeMinutes: 5 }, ingestionDelayMinutes: 2 });
    expect(doc.input.policy.rollbackTriggers[0].bakeSeconds).toBe(300);
  });

  it('prints the usage with --help', () => {
    const { code, out } = run(['simulate', '--help']);
    expect(code).toBe(0);
    expect(out).toMatch(/^Usage: rollback-triggers simulate SERIES-FILE \[options\]/);
    expect(out).toContain('--assembly DIR');
    expect(run(['--help']).out).toContain('rollback-triggers simulate SERIES-FILE');
  });

  it('reports progress on stderr for runs longer than 10,000 minutes', () => {
    const series = Array.from({ length: 10_500 }, (_, minute) => ({ minute, requests: 100, errors: 0 }));
    const file = join(tmp.dir, 'long.json');
    writeFileSync(file, JSON.stringify({ releaseMinute: 10_000, deployment: { kind: 'all-at-once', bakeMinutes: 10 }, series }));
    const chart = join(tmp.dir, 'long.svg');
    const { code, err } = run(['simulate', file, '--chart', chart]);
    expect(code).toBe(0);
    expect(err).toMatch(/^\[\d+\.\d s\] read 10,500 entries \(minutes 0–10499\)/m);
    expect(err).toMatch(/^\[\d+\.\d s\] simulating/m);
    expect(err).toMatch(/^\[\d+\.\d s\] drawing the chart/m);
    expect(err).toMatch(/^\[\d+\.\d s\] done, wrote .*long\.svg$/m);
    // Long runs are drawn from buckets: the chart stays small.
    expect(readFileSync(chart, 'utf8').length).toBeLessThan(400_000);
    // Short runs print nothing on stderr.
    expect(run(['simulate', example('total-outage.json')]).err).toBe('');
  });
});
