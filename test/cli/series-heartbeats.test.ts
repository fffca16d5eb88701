import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { LambdaDeploymentConfig } from 'aws-cdk-lib/aws-codedeploy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeartbeatTrigger, RollbackTarget, RollbackTrigger } from '../../lib';
import { parseCsvSeries, parseJsonSeries } from '../../lib/cli/series-file';
import { lambdaCanary } from '../helpers';
import { run, tempDir } from './simulate-helpers';

// Heartbeats in series files: JSON `heartbeats` (heartbeat name → { canary?, stable?, blended? }) and
// CSV `heartbeat:<name>:<stream>` columns read to the same entries, bad beats refused naming the file,
// the entry and the field, and `rollback-triggers simulate` replaying a synthesized HeartbeatTrigger.

describe('heartbeats in a series file', () => {
  it('reads JSON heartbeats and CSV heartbeat:<name>:<stream> columns to the same entries, an empty cell as no beat', () => {
    const json = parseJsonSeries(
      'f.json',
      JSON.stringify({
        series: [
          { minute: 0, requests: 10, errors: 0, heartbeats: { Worker: { canary: 1, stable: 2 }, 'Batch job': { blended: 3 } } },
          { minute: 1, requests: 10, errors: 0, heartbeats: { Worker: { stable: 0 } } },
          { minute: 2, requests: 10, errors: 0 },
        ],
      }),
    );
    // Column names are case-insensitive, the heartbeat's name kept as written (a construct id may hold a space).
    const csv = parseCsvSeries(
      'f.csv',
      ['minute,requests,errors,heartbeat:Worker:canary,HEARTBEAT:Worker:Stable,heartbeat:Batch job:blended', '0,10,0,1,2,3', '1,10,0,,0,', '2,10,0,,,'].join('\n'),
    );
    expect(csv.series).toEqual(json.series);
    expect(json.series[0].heartbeats).toEqual({ Worker: { canary: 1, stable: 2 }, 'Batch job': { blended: 3 } });
    expect(json.series[1].heartbeats).toEqual({ Worker: { stable: 0 } });
    expect(json.series[2].heartbeats).toBeUndefined();
  });

  it.each([
    ['a negative count', { Worker: { canary: -1 } }, 'field "heartbeats.Worker.canary": must be a whole number of beats ≥ 0, got -1 (RT716)'],
    ['a fraction', { Worker: { blended: 0.5 } }, 'field "heartbeats.Worker.blended": must be a whole number of beats ≥ 0, got 0.5 (RT716)'],
    ['a string', { Worker: { stable: '1' } }, 'field "heartbeats.Worker.stable": must be a whole number of beats ≥ 0, got "1" (RT716)'],
    ['an unknown stream', { Worker: { new: 1 } }, 'field "heartbeats.Worker.new": is not a stream: give canary, stable or blended beats (RT716)'],
    ['a heartbeat that is not an object', { Worker: 1 }, 'field "heartbeats.Worker": must be an object { canary?, stable?, blended? } of beat counts, got 1 (RT716)'],
    ['heartbeats that are not an object', [1], 'field "heartbeats": must be an object { heartbeatName: { canary?, stable?, blended? } } of beat counts, got an array (RT716)'],
  ])('refuses %s in JSON, naming the file, the entry and the field', (_name, heartbeats, message) => {
    const text = JSON.stringify({ series: [{ minute: 0, requests: 1, errors: 0 }, { minute: 5, requests: 1, errors: 0, heartbeats }] });
    expect(() => parseJsonSeries('f.json', text)).toThrow(`f.json: series[1] (minute 5): ${message}`);
  });

  it('refuses bad CSV heartbeat cells and columns, naming the file, the line and the column', () => {
    const refuses = (text: string, message: string) => expect(() => parseCsvSeries('f.csv', text)).toThrow(message);
    refuses('minute,requests,errors,heartbeat:Worker:canary\n0,1,0,1\n1,1,0,-2\n', 'f.csv: line 3: field "heartbeat:Worker:canary": must be a whole number of beats ≥ 0, got -2 (RT716)');
    refuses('minute,requests,errors,heartbeat:Worker:canary\n0,1,0,1.5\n', 'f.csv: line 2: field "heartbeat:Worker:canary": must be a whole number of beats ≥ 0, got 1.5 (RT716)');
    refuses('minute,requests,errors,heartbeat:Worker:canary\n0,1,0,one\n', 'f.csv: line 2: field "heartbeat:Worker:canary": must be a number, got "one" (RT716)');
    refuses('minute,requests,errors,heartbeat:Worker:new\n0,1,0,1\n', 'f.csv: line 1: column "heartbeat:Worker:new" ends in "new", not a stream: end it in :canary, :stable or :blended');
    refuses('minute,requests,errors,heartbeat::canary\n0,1,0,1\n', 'f.csv: line 1: column "heartbeat::canary" names no heartbeat');
    refuses('minute,requests,errors,heartbeat:Worker:canary,Heartbeat:Worker:CANARY\n0,1,0,1,1\n', 'f.csv: line 1: column "heartbeat:Worker:canary" appears twice (RT716)');
    refuses('minute,requests,errors,heartbeat:Worker\n0,1,0,1\n', 'f.csv: line 1: column "heartbeat:Worker" names no stream; name it heartbeat:<heartbeat name>:canary|stable|blended (RT716)');
  });
});

describe('rollback-triggers simulate: a synthesized HeartbeatTrigger replayed from the series file', () => {
  const tmp = tempDir('rt-sim-heartbeat-');
  beforeAll(() => {
    const app = new App({ outdir: tmp.dir });
    const stack = new Stack(app, 'Workers');
    const { alias, group, slo } = lambdaCanary(stack, { deploymentConfig: LambdaDeploymentConfig.CANARY_10PERCENT_10MINUTES });
    const worker = new HeartbeatTrigger(stack, 'Worker', {
      metric: new Metric({ namespace: 'Workers', metricName: 'Heartbeat', dimensionsMap: { Service: 'orders' } }),
      versionDimension: 'Version',
    });
    new RollbackTrigger(stack, 'Rollback', { target: RollbackTarget.lambdaAlias({ deploymentGroup: group, alias }), objectives: [slo], alarmTriggers: [worker] });
    app.synth();
  });
  afterAll(() => tmp.remove());

  /** A 10 % canary for 10 minutes released at minute 60, no request failing; the current version beats every minute, the new one while `beats(minute)`. */
  function csv(beats: (minute: number) => boolean, withHeartbeat = true): string {
    const rows = [`minute,stable_requests,stable_errors,canary_requests,canary_errors${withHeartbeat ? ',heartbeat:Worker:canary,heartbeat:Worker:stable' : ''}`];
    for (let m = 0; m <= 100; m++) {
      const c = m < 60 ? 0 : m < 70 ? 100 : 1_000;
      const heartbeat = withHeartbeat ? `,${m >= 60 && beats(m) ? 1 : ''},1` : '';
      rows.push(`${m},${1_000 - c},0,${c > 0 ? c : ''},${c > 0 ? 0 : ''}${heartbeat}`);
    }
    return rows.join('\n');
  }

  function simulate(name: string, content: string) {
    const series = join(tmp.dir, name);
    writeFileSync(series, content);
    const json = join(tmp.dir, 'out.json');
    const result = run(['simulate', series, '--assembly', tmp.dir, '--release-minute', '60', '--deployment', 'Canary10Percent10Minutes', '--json', json]);
    return { ...result, doc: result.code === 0 ? JSON.parse(readFileSync(json, 'utf8')) : undefined };
  }

  const notReplayed = (reasons: readonly string[]) => reasons.filter((r) => r.includes('was not replayed'));

  it('rolls back a new version that stops beating, the evaluator naming the heartbeat; the note "was not replayed" gone', () => {
    // The new version beats until minute 72 (2 minutes into all traffic), then is silent.
    const { code, err, doc } = simulate('silent.csv', csv((m) => m < 72));
    expect(err).toBe('');
    expect(code).toBe(0);
    const evaluator = doc.result.paths.find((p: { path: string }) => p.path === 'evaluator');
    expect(evaluator).toMatchObject({ verdict: 'fail', status: 'Failed', rollback: true, source: 'heartbeat Worker' });
    expect(evaluator.reasons[0]).toMatch(/^heartbeat Worker: the new version stopped beating/);
    expect(doc.result.outcome).toMatchObject({ path: 'evaluator', rollback: true, source: 'heartbeat Worker' });
    expect(notReplayed(evaluator.reasons).filter((r) => r.startsWith('heartbeat Worker'))).toEqual([]);
  });

  it('deploys when the new version keeps beating, and reads the same beats from JSON', () => {
    const { doc } = simulate('beating.csv', csv(() => true));
    expect(doc.result.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass', rollback: false });
    const entries = parseCsvSeries('silent.csv', csv((m) => m < 72)).series;
    const fromJson = simulate('silent.json', JSON.stringify({ series: entries }));
    expect(fromJson.err).toBe('');
    expect(fromJson.doc.result.outcome).toMatchObject({ path: 'evaluator', rollback: true, source: 'heartbeat Worker' });
  });

  it('without heartbeat values the heartbeat is not replayed, and the note says how to give them', () => {
    const { doc } = simulate('none.csv', csv(() => true, false));
    const evaluator = doc.result.paths.find((p: { path: string }) => p.path === 'evaluator');
    expect(evaluator.verdict).toBe('pass');
    expect(notReplayed(evaluator.reasons).some((r) => r.startsWith('heartbeat Worker was not replayed: the series has no heartbeats values for it'))).toBe(true);
  });
});
