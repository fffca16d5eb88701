import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { LambdaDeploymentConfig, LambdaDeploymentGroup } from 'aws-cdk-lib/aws-codedeploy';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FargateServiceStack } from '../../examples/fargate-service';
import { LambdaCanaryStack } from '../../examples/lambda-canary';
import { AlertSeverity, BurnRateTier, HealthCheck, InconclusiveAction, RollbackTarget, RollbackTrigger, ServiceLevelObjective, Sli } from '../../lib';
import { readPolicies } from '../../lib/cli/assembly';
import { policyFromInline, withInlineTrafficShift } from '../../lib/cli/inline-policy';
import { RollbackPolicy } from '../../lib/core';
import { countMetric, lambdaFunction, liveAlias } from '../helpers';
import { run, tempDir } from './simulate-helpers';

/** The same policy, whoever wrote it: stack name and SLI descriptions aside. */
function normalized(policy: RollbackPolicy, stack: string): unknown {
  const text = JSON.stringify({ ...policy, stack: undefined }).split(`"${stack}/`).join('"STACK/').split('"inline/').join('"STACK/');
  const doc = JSON.parse(text) as { slos: Array<{ sli: { description?: string } }> };
  for (const slo of doc.slos) delete slo.sli.description;
  return doc;
}

function synth(build: (app: App) => void): RollbackPolicy[] {
  const tmp = tempDir('rt-sim-synth-');
  try {
    const app = new App({ outdir: tmp.dir });
    build(app);
    app.synth();
    return readPolicies(tmp.dir);
  } finally {
    tmp.remove();
  }
}

describe('the inline policy shorthand builds the policy the constructs would', () => {
  it('matches the Lambda canary example (availability and latency SLOs, rollback trigger)', () => {
    const [fromConstructs] = synth((app) => new LambdaCanaryStack(app, 'LambdaCanary'));
    const inline = policyFromInline({
      slos: [
        { name: 'Availability', objectivePercent: 99.9, sli: 'error-ratio' },
        { name: 'Latency', objectivePercent: 99, sli: 'latency', latencyThreshold: 300 },
      ],
      bakeSeconds: 600,
    });
    // As `simulate` replays it: the shape replayed (the example's CodeDeployDefault.LambdaCanary10Percent5Minutes) gives the alarms their share.
    expect(normalized(withInlineTrafficShift(inline, { kind: 'canary', percent: 10 }), 'LambdaCanary')).toEqual(normalized(fromConstructs, 'LambdaCanary'));
  });

  it('matches custom tiers, minimum events, compliance period, suppression, bake and inconclusive action', () => {
    const [fromConstructs] = synth((app) => {
      const stack = new Stack(app, 'Custom');
      const alias = liveAlias(stack, lambdaFunction(stack));
      const group = new LambdaDeploymentGroup(stack, 'Deployment', {
        alias,
        deploymentConfig: LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_1MINUTE,
        autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
      });
      const slo = new ServiceLevelObjective(stack, 'api', {
        sli: Sli.lambdaAvailability(alias),
        objectivePercent: 99.5,
        compliancePeriod: Duration.days(28),
        tiers: [BurnRateTier.PAGE_6H, BurnRateTier.TICKET_1D],
        minEventsPerWindow: 200,
        suppressTicketsWhilePaging: true,
      });
      new RollbackTrigger(stack, 'Rollback', {
        target: RollbackTarget.lambdaAlias({ deploymentGroup: group, alias }),
        objectives: [slo],
        bake: Duration.minutes(20),
        inconclusiveAction: InconclusiveAction.PASS,
      });
    });
    const inline = policyFromInline({
      slos: [{ name: 'api', objectivePercent: 99.5, sli: 'error-ratio', compliancePeriodDays: 28, tiers: ['page-6h', 'ticket-1d'], minEventsPerWindow: 200, suppressTicketsWhilePaging: true }],
      rollback: { inconclusiveAction: 'pass' },
      bakeSeconds: 1200,
    });
    expect(normalized(withInlineTrafficShift(inline, { kind: 'linear', percent: 10 }), 'Custom')).toEqual(normalized(fromConstructs, 'Custom'));
  });

  it('matches a service-wide custom SLI: one declared rollback alarm, no baseline', () => {
    const [fromConstructs] = synth((app) => {
      const stack = new Stack(app, 'Declared');
      const alias = liveAlias(stack, lambdaFunction(stack));
      const group = new LambdaDeploymentGroup(stack, 'Deployment', {
        alias,
        deploymentConfig: LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
        autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
      });
      const slo = new ServiceLevelObjective(stack, 'orders', { sli: Sli.errorRatio({ badEvents: countMetric('Failed'), totalEvents: countMetric('Orders') }), objectivePercent: 99.9 });
      new RollbackTrigger(stack, 'Rollback', { target: RollbackTarget.lambdaAlias({ deploymentGroup: group, alias }), objectives: [slo] });
    });
    const inline = policyFromInline({ slos: [{ name: 'orders', objectivePercent: 99.9, sli: 'error-ratio' }], rollback: { perVersionMetrics: false }, bakeSeconds: 600 });
    expect(normalized(inline, 'Declared')).toEqual(normalized(fromConstructs, 'Declared'));
  });

  it('matches the ECS example: blue and green alarms, each compared with the other', () => {
    const [fromConstructs] = synth((app) => new FargateServiceStack(app, 'FargateService', { env: { region: 'eu-west-1' } }));
    const inline = policyFromInline({
      slos: [
        { name: 'Availability', objectivePercent: 99.9, sli: 'error-ratio' },
        { name: 'Latency', objectivePercent: 99, sli: 'latency', latencyThreshold: 0.25 },
      ],
      rollback: { platform: 'ecs' },
      bakeSeconds: 600,
    });
    const [synthesized] = (normalized(fromConstructs, 'FargateService') as RollbackPolicy).rollbackTriggers!.map((t) => JSON.parse(JSON.stringify(t).split('"STACK/').join('"inline/')));
    // The example also shows the circuit breaker, rollback verification, the guard window and the
    // secondary action, which an inline policy does not describe; the breaker's approval wait moves
    // the deadline to 52 − 30 = 22 min.
    const { circuitBreaker, approvalTimeoutSeconds, escalateInconclusive, verifyRollbackSeconds, guardWindowSeconds, secondaryActionSeconds, deadlineSeconds, ...alarmsAndBake } = synthesized;
    expect({ circuitBreaker, approvalTimeoutSeconds, escalateInconclusive, verifyRollbackSeconds, guardWindowSeconds, secondaryActionSeconds, deadlineSeconds }).toEqual({
      circuitBreaker: { maxRollbacks: 3, windowSeconds: 3_600, cooldownSeconds: 3_600 },
      approvalTimeoutSeconds: 1_800,
      escalateInconclusive: false,
      verifyRollbackSeconds: 600,
      guardWindowSeconds: 7_200,
      secondaryActionSeconds: 3_600,
      deadlineSeconds: 1_320,
    });
    const { deadlineSeconds: _inlineDeadline, ...inlineRest } = withInlineTrafficShift(inline, { kind: 'canary', percent: 10 }).rollbackTriggers![0];
    expect(inlineRest).toEqual(alarmsAndBake);
  });
});

describe('rollback-triggers simulate --assembly: replay the policy about to be deployed', () => {
  const tmp = tempDir('rt-sim-assembly-');
  beforeAll(() => {
    const app = new App({ outdir: tmp.dir });
    new LambdaCanaryStack(app, 'LambdaCanary');
    const second = new Stack(app, 'Other');
    new ServiceLevelObjective(second, 'Queue', {
      sli: Sli.errorRatio({ badEvents: countMetric('Failed'), totalEvents: countMetric('Jobs') }),
      objectivePercent: 99,
      tiers: [BurnRateTier.of({ severity: AlertSeverity.PAGE, budgetConsumedPercent: 5, longWindow: Duration.hours(6) })],
    });
    app.synth();
  });
  afterAll(() => tmp.remove());
  const series = join(__dirname, '..', '..', 'examples', 'series', 'clean-release.json');

  it('replays the synthesized stack: its alarm ids, thresholds and rollback trigger', () => {
    const json = join(tmp.dir, 'result.json');
    const { code, out, err } = run(['simulate', series, '--assembly', tmp.dir, '--stack', 'LambdaCanary', '--json', json]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/Policy {6}stack LambdaCanary of .*: Availability 99\.9 % \(error-ratio\), Latency 99 % \(latency\); rollback alarms on new version traffic/);
    const doc = JSON.parse(readFileSync(json, 'utf8'));
    expect(doc.input.policySource).toEqual({ kind: 'assembly', path: tmp.dir, stack: 'LambdaCanary' });
    expect(doc.input.rollbackTrigger).toBe('LambdaCanary/Rollback');
    expect(doc.result.thresholds['LambdaCanary/Availability/page-1h/long']).toBe(14.4);
    expect(doc.result.thresholds['LambdaCanary/Latency/page-6h/short']).toBe(6);
    expect(doc.result.outcome.verdict).toBe('pass');
  });

  it('needs --stack when several stacks have SLOs, and names them', () => {
    const { code, err } = run(['simulate', series, '--assembly', tmp.dir]);
    expect(code).toBe(2);
    expect(err).toMatch(/holds several stacks with SLOs \(LambdaCanary, Other\): pick one with --stack/);
    expect(run(['simulate', series, '--assembly', tmp.dir, '--stack', 'Nope']).err).toMatch(/--stack Nope: no such stack .*\(stacks: LambdaCanary, Other\)/);
    expect(run(['simulate', series, '--assembly', tmp.dir, '--stack', 'LambdaCanary', '--trigger', 'Nope']).err).toMatch(
      /--trigger Nope: stack LambdaCanary has Rollback \(LambdaCanary\/Rollback\)/,
    );
  });

  it("asks for slow counts when the stack's latency SLO needs them", () => {
    const brokenCanary = join(__dirname, '..', '..', 'examples', 'series', 'broken-canary.json');
    const { code, err } = run(['simulate', brokenCanary, '--assembly', tmp.dir, '--stack', 'LambdaCanary']);
    expect(code).toBe(2);
    expect(err).toMatch(/broken-canary\.json: series\[0\] \(minute 0\): field "slow": is required: SLO Latency is a latency SLO/);
  });

  it('replays a stack without a rollback trigger (paging alarms, evaluator on every page tier)', () => {
    const { code, out } = run(['simulate', join(__dirname, '..', '..', 'examples', 'series', 'broken-canary.json'), '--assembly', tmp.dir, '--stack', 'Other']);
    expect(code).toBe(0);
    expect(out).toMatch(/Policy {6}stack Other of .*: Queue 99 % \(error-ratio\); no rollback trigger/);
  });
});

describe('rollback-triggers simulate --assembly: health checks of the synthesized trigger', () => {
  const tmp = tempDir('rt-sim-health-');
  beforeAll(() => {
    const app = new App({ outdir: tmp.dir });
    const stack = new Stack(app, 'Shop');
    const alias = liveAlias(stack, lambdaFunction(stack));
    const group = new LambdaDeploymentGroup(stack, 'Deployment', {
      alias,
      deploymentConfig: LambdaDeploymentConfig.CANARY_10PERCENT_10MINUTES,
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });
    const slo = new ServiceLevelObjective(stack, 'Availability', { sli: Sli.lambdaAvailability(alias), objectivePercent: 99.9 });
    new RollbackTrigger(stack, 'Rollback', {
      target: RollbackTarget.lambdaAlias({ deploymentGroup: group, alias }),
      objectives: [slo],
      healthChecks: [
        HealthCheck.synthetics({ name: 'journey', canaryName: 'journey' }),
        HealthCheck.http({ name: 'home', url: 'https://example.test/health' }),
        // A canary whose name is known only at deploy time (a Canary construct's canaryName, a parameter).
        HealthCheck.synthetics({ name: 'search', canaryName: new CfnParameter(stack, 'SearchCanary').valueAsString, minSuccessPercent: 90 }),
      ],
    });
    app.synth();
  });
  afterAll(() => tmp.remove());

  /** A 10 % canary for 10 minutes released at minute 60, no request failing; the journey's SuccessPercent every minute from `journey(minute)`. */
  function csv(journey: (minute: number) => number | ''): string {
    const rows = ['minute,stable_requests,stable_errors,canary_requests,canary_errors,synthetics:journey'];
    for (let m = 0; m <= 100; m++) {
      const c = m < 60 ? 0 : m < 70 ? 100 : 1_000;
      rows.push(`${m},${1_000 - c},0,${c > 0 ? c : ''},${c > 0 ? 0 : ''},${journey(m)}`);
    }
    return rows.join('\n');
  }

  function simulateCsv(content: string) {
    const series = join(tmp.dir, 'journey.csv');
    writeFileSync(series, content);
    const json = join(tmp.dir, 'out.json');
    const result = run(['simulate', series, '--assembly', tmp.dir, '--release-minute', '60', '--deployment', 'Canary10Percent10Minutes', '--json', json]);
    return { ...result, doc: result.code === 0 ? JSON.parse(readFileSync(json, 'utf8')) : undefined };
  }

  it('carries the health checks in the assembly\'s policy, a deploy-time canary name left out', () => {
    const [policy] = readPolicies(tmp.dir);
    expect(policy.rollbackTriggers![0].healthChecks).toEqual([
      { kind: 'synthetics', name: 'journey', canaryName: 'journey', minSuccessPercent: 100 },
      { kind: 'http', name: 'home', url: 'https://example.test/health', failAfter: 3 },
      { kind: 'synthetics', name: 'search', minSuccessPercent: 90 },
    ]);
  });

  it('rolls back on the journey canary failing after the full shift, read from the CSV synthetics:journey column', () => {
    const { code, err, out, doc } = simulateCsv(csv((m) => (m >= 72 ? 0 : 100)));
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toMatch(/^Outcome: ROLLED BACK at minute 78 \(18 min after the release\) — decided by the evaluator \(fail, reported Failed\), health check journey$/m);
    expect(doc.result.outcome).toMatchObject({ path: 'evaluator', minute: 78, rollback: true, source: 'health check journey' });
    expect(doc.result.outcome.reasons[0]).toMatch(/^health check journey: Synthetics canary journey had 0 % of its runs succeed at minute 72, below 100 % \(3 of its 5 runs since traffic shifted below 100 %\)/);
    const reasons: string[] = doc.result.outcome.reasons;
    expect(reasons).toContain(
      "health check home (HTTP GET https://example.test/health) was not replayed: the series holds metrics, not the probe's answers — in production 3 consecutive failed probes fail the bake",
    );
    expect(reasons.some((r) => r.startsWith('health check search (Synthetics canary search) was not replayed: the series has no synthetics values for canary search (its canary name is known only at deploy time: looked up as "search")'))).toBe(true);
  });

  it('finds a deploy-time canary name\'s runs under the check\'s name', () => {
    const content = csv((m) => (m >= 72 ? 0 : 100)).replace('synthetics:journey', 'synthetics:search');
    const { code, doc } = simulateCsv(content);
    expect(code).toBe(0);
    // 90 % is the search check's minimum: 0 % fails, as the journey's would.
    expect(doc.result.outcome).toMatchObject({ path: 'evaluator', minute: 78, rollback: true, source: 'health check search' });
    expect(doc.result.outcome.reasons[0]).toMatch(/^health check search: Synthetics canary search had 0 % of its runs succeed at minute 72, below 90 %/);
    expect(doc.result.outcome.reasons).toContain('health check search (its canary name is known only at deploy time: looked up as "search")');
  });

  it('deploys when the journey only flakes once, and when the CSV has no run of it', () => {
    expect(simulateCsv(csv((m) => (m === 72 ? 0 : 100))).doc.result.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass', rollback: false });
    const none = simulateCsv(csv(() => ''));
    expect(none.doc.result.outcome).toMatchObject({ path: 'evaluator', verdict: 'pass', rollback: false });
    expect(none.doc.result.outcome.reasons.some((r: string) => r.startsWith('health check journey (Synthetics canary journey) was not replayed'))).toBe(true);
  });
});
