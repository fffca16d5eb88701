import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnWaitConditionHandle, Stack, Stage } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main';
import { CheckoutServiceStack } from '../../examples/checkout-service';
import { ServiceLevelObjective, Sli } from '../../lib';
import { countMetric } from '../helpers';

function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = main(args, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('rollback-triggers plan', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rt-cli-'));
    const app = new App({ outdir: dir });
    new CheckoutServiceStack(app, 'CheckoutService');
    app.synth();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints thresholds, detection times and cost of the synthesized example', () => {
    const { code, out } = run(['plan', dir]);
    expect(code).toBe(0);
    expect(out).toContain('Rollback plan for stack CheckoutService');
    expect(out).toMatch(/SLO Availability: 99\.9 % over 30 d/);
    expect(out).toMatch(/page-1h\s+1 h \/ 5 min\s+14\.4×\s+1\.44 %\s+70\s+1 min .*9 min .*44 min/);
    expect(out).toMatch(/ticket-3d\s+3 d \/ 6 h\s+1×/);
    expect(out).toMatch(/Alarms: 26 metric .* 4 composite — \$\d+\.\d\d\/month/);
    expect(out).toContain("  Alarm layout: NATIVE, $2.60/month of alarms + the Application Signals SLO.");
    expect(out).toMatch(/Alarm layout: in group CheckoutService\/CheckoutAlerts of 2 SLOs/);
  });

  it('prints the plan as JSON', () => {
    const { code, out } = run(['plan', dir, '--json']);
    expect(code).toBe(0);
    const [plan] = JSON.parse(out);
    expect(plan.slos.map((s: any) => s.name)).toEqual(['Availability', 'Latency', 'Payments']);
    expect(plan.slos[0].tiers.map((t: any) => t.factor)).toEqual([14.4, 6, 3, 1]);
    expect(plan.thresholdTriggers).toBe(2);
  });

  it('adds an ingestion delay', () => {
    const { out } = run(['plan', dir, '--json', '--ingestion-delay', '120']);
    expect(JSON.parse(out)[0].slos[0].tiers[0].detections[0].seconds).toBe(180);
  });

  it('reads stacks inside stages', () => {
    const nested = mkdtempSync(join(tmpdir(), 'rt-cli-stage-'));
    try {
      const app = new App({ outdir: nested });
      const stage = new Stage(app, 'Prod');
      const stack = new Stack(stage, 'Api');
      new ServiceLevelObjective(stack, 'Api', { sli: Sli.errorRatio({ badEvents: countMetric('E'), totalEvents: countMetric('T') }), objectivePercent: 99 });
      app.synth();
      const { code, out } = run(['plan', nested]);
      expect(code).toBe(0);
      expect(out).toContain('SLO Api: 99 %');
    } finally {
      rmSync(nested, { recursive: true, force: true });
    }
  });

  it('exits 2 with a hint when there is no cloud assembly', () => {
    const { code, err } = run(['plan', join(dir, 'missing')]);
    expect(code).toBe(2);
    expect(err).toMatch(/manifest\.json not found — run "cdk synth" first/);
  });

  it('exits 1 when the app declares no SLO', () => {
    const empty = mkdtempSync(join(tmpdir(), 'rt-cli-empty-'));
    try {
      const app = new App({ outdir: empty });
      new CfnWaitConditionHandle(new Stack(app, 'Empty'), 'Placeholder');
      app.synth();
      expect(run(['plan', empty]).code).toBe(1);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('exits 2 on bad usage', () => {
    expect(run([]).code).toBe(2);
    expect(run(['simulate']).code).toBe(2);
    expect(run(['plan', dir, '--ingestion-delay', 'soon']).code).toBe(2);
    expect(run(['plan', '--bogus']).code).toBe(2);
  });
});
