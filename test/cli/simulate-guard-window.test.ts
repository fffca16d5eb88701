import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { LambdaDeploymentConfig, LambdaDeploymentGroup } from 'aws-cdk-lib/aws-codedeploy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RollbackTarget, RollbackTrigger, ServiceLevelObjective, Sli, TriggerMode } from '../../lib';
import { lambdaFunction, liveAlias } from '../helpers';
import { run, tempDir } from './simulate-helpers';

// `simulate --assembly` of a trigger with a guard window: one headline for the window (with its
// reasons) in the text output, the whole outcome in the JSON; nothing of it for a trigger without one.

const RELEASE = 60;
/** The new version fails 5 % of its requests from this minute on: long after the release succeeds. */
const ONSET = RELEASE + 55;

function stackWith(app: App, id: string, props: { guardWindow?: Duration; mode?: TriggerMode }): void {
  const stack = new Stack(app, id);
  const alias = liveAlias(stack, lambdaFunction(stack));
  const shadow = props.mode === TriggerMode.SHADOW;
  const group = new LambdaDeploymentGroup(stack, 'Deployment', {
    alias,
    deploymentConfig: LambdaDeploymentConfig.CANARY_10PERCENT_10MINUTES,
    // Shadow mode attaches no alarm: aws-cdk-lib refuses deploymentInAlarm on a group without one.
    autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: !shadow },
  });
  const slo = new ServiceLevelObjective(stack, 'Availability', { sli: Sli.lambdaAvailability(alias), objectivePercent: 99.9 });
  new RollbackTrigger(stack, 'Rollback', { target: RollbackTarget.lambdaAlias({ deploymentGroup: group, alias }), objectives: [slo], ...props });
}

/** A 10 % canary for 10 minutes at minute RELEASE, 1,000 requests a minute, until minute `until`. */
function seriesFile(dir: string, name: string, canaryFails: (minute: number) => boolean, until: number): string {
  const series = [];
  for (let m = 0; m <= until; m++) {
    const canary = m < RELEASE ? 0 : m < RELEASE + 10 ? 100 : 1_000;
    const errors = canaryFails(m) ? canary * 0.05 : 0;
    series.push({
      minute: m,
      requests: 1_000,
      errors,
      stable: { requests: 1_000 - canary, errors: 0 },
      ...(canary > 0 ? { canary: { requests: canary, errors } } : {}),
    });
  }
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ releaseMinute: RELEASE, deployment: { kind: 'canary', percent: 10, intervalMinutes: 10, bakeMinutes: 10 }, series }));
  return path;
}

describe('rollback-triggers simulate: the guard window', () => {
  const tmp = tempDir('rt-sim-guard-');
  beforeAll(() => {
    const app = new App({ outdir: tmp.dir });
    stackWith(app, 'Guarded', { guardWindow: Duration.minutes(45) });
    stackWith(app, 'Shadowed', { guardWindow: Duration.minutes(45), mode: TriggerMode.SHADOW });
    stackWith(app, 'Plain', {});
    app.synth();
  });
  afterAll(() => tmp.remove());

  function simulateStack(stack: string, series: string) {
    const text = run(['simulate', series, '--assembly', tmp.dir, '--stack', stack]);
    const json = run(['simulate', series, '--assembly', tmp.dir, '--stack', stack, '--json', '-']);
    expect(text.err).toBe('');
    expect(text.code).toBe(0);
    expect(json.code).toBe(0);
    return { out: text.out, result: JSON.parse(json.out).result };
  }

  it('prints the breach and its minute, and carries the outcome in the JSON', () => {
    const { out, result } = simulateStack('Guarded', seriesFile(tmp.dir, 'regression.json', (m) => m >= ONSET, 200));
    expect(result.outcome).toMatchObject({ path: 'evaluator', status: 'Succeeded' });
    const g = result.guardWindow;
    expect(g).toMatchObject({ outcome: 'breach', rollback: true, durationSeconds: 2_700, startMinute: Math.floor(result.outcome.minute) });
    expect(g.breachMinute).toBeGreaterThan(ONSET);
    const lines = out.split('\n');
    const at = lines.findIndex((l) => l.startsWith('Guard window: '));
    expect(lines[at]).toBe(`Guard window: BREACH at minute ${g.breachMinute} (45 min from minute ${g.startMinute}) → rollback deployment to the known-good version`);
    expect(lines.slice(at + 1, at + 1 + g.reasons.length)).toEqual(g.reasons.map((r: string) => `  - ${r}`));
    // After the release's own outcome, before the paths.
    expect(at).toBeGreaterThan(lines.findIndex((l) => l.startsWith('Outcome: ')));
    expect(at).toBeLessThan(lines.indexOf('Paths'));
  });

  it('prints a shadow breach as audit only', () => {
    const { out, result } = simulateStack('Shadowed', seriesFile(tmp.dir, 'regression-shadow.json', (m) => m >= ONSET, 200));
    expect(result.guardWindow).toMatchObject({ outcome: 'breach', wouldRollback: true, rollback: false });
    expect(out).toMatch(/^Guard window: BREACH at minute \S+ \(45 min from minute \d+\) → would have rolled back \(shadow mode: audit only\)$/m);
  });

  it('prints a held window, and a series too short to say so', () => {
    const held = simulateStack('Guarded', seriesFile(tmp.dir, 'clean.json', () => false, 200));
    expect(held.result.guardWindow.outcome).toBe('held');
    expect(held.out).toMatch(/^Guard window: HELD \(45 min from minute \d+, minutes \d+–\d+ judged\) — no breach$/m);
    const short = simulateStack('Guarded', seriesFile(tmp.dir, 'short.json', () => false, RELEASE + 40));
    expect(short.result.guardWindow.outcome).toBe('series-ended');
    expect(short.out).toMatch(/^Guard window: SERIES ENDED \(45 min from minute \d+\) — no breach in the minutes the series holds/m);
  });

  it('prints nothing of a guard window for a trigger without one', () => {
    const { out, result } = simulateStack('Plain', seriesFile(tmp.dir, 'regression-plain.json', (m) => m >= ONSET, 200));
    expect(result).not.toHaveProperty('guardWindow');
    expect(out).not.toMatch(/guard window/i);
  });
});
