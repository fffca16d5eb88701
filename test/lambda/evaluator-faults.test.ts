/**
 * "Evidence, or it is not a pass" (DESIGN.md): the step Lambda under AWS faults — throttling, 5xx,
 * timeouts, AccessDenied while IAM propagates and forever, GetMetricData per-result StatusCode
 * (PartialData, InternalError, Forbidden), pages and the page cap, top-level Messages, clock skew,
 * and ListDeploymentTargets pages. Whatever fails, CodeDeploy hears one status, never a
 * `Succeeded` without evidence, and the audit says which read failed and why.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditDetailType } from '../../lib/core';
import {
  DEADLINE,
  HOOK_ID,
  type Op,
  REPORT_BY,
  T0,
  World,
  accessDenied,
  expectAudit,
  expectReports,
  serverError,
  throttling,
  timeout,
  trace,
  traffic,
} from './fixtures';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('each AWS call throttled, then succeeding', () => {
  // AfterAllowTraffic, broken version: decided Failed on the first tick.
  const cases: Array<{ op: Op; times: number }> = [
    { op: 'GetDeployment', times: 2 },
    { op: 'ListDeploymentTargets', times: 1 },
    { op: 'BatchGetDeploymentTargets', times: 2 },
    { op: 'GetMetricData', times: 2 },
    { op: 'PutEvents', times: 2 },
    { op: 'RecordFirstBadSignal', times: 2 },
  ];

  it.each(cases)('$op throttled $times× → retried within the step, exactly one Failed report', async ({ op, times }) => {
    const baseline = new World({ traffic: traffic.broken(0.3) });
    await baseline.bake();
    const world = new World({ traffic: traffic.broken(0.3) });
    world.failNext(op, ...Array.from({ length: times }, throttling));

    const run = await world.bake();

    expect(world.calls(op)).toBe(baseline.calls(op) + times);
    expect(trace(run)).toEqual(['resolve→report', 'reported→done']);
    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at - T0).toBeLessThan(10);
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed', lifecycleEventHookExecutionId: HOOK_ID });
    expect(world.fallbacks()).toEqual([]);
  });

  it.each<{ op: Op; times: number }>([
    { op: 'KnownGoodGet', times: 2 },
    { op: 'GetFunction', times: 2 },
  ])('BeforeAllowTraffic: $op throttled $times× → still exactly one Succeeded report', async ({ op, times }) => {
    const world = new World({ lifecycleEvent: 'BeforeAllowTraffic' });
    world.failNext(op, ...Array.from({ length: times }, throttling));

    await world.bake();

    expect(world.calls(op)).toBe(1 + times);
    expectReports(world, { accepted: ['Succeeded'] });
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'pass', lifecycleEvent: 'BeforeAllowTraffic' });
  });

  it('the first bad signal cannot be recorded at all: the verdict stands, the step still ends', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.failAlways('RecordFirstBadSignal', serverError);

    const run = await world.bake();

    expect(run.final.next).toBe('done');
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed' });
    expect(world.logs.some((l) => l.message === 'could not record the first bad signal')).toBe(true);
  });
});

describe('5xx, timeouts and AccessDenied on GetMetricData', () => {
  it.each([
    ['5xx', serverError],
    ['TimeoutError', timeout],
    ['AccessDenied (IAM not yet propagated)', () => accessDenied()],
  ])('%s three times, then data → decides on the same tick', async (_name, make) => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.failNext('GetMetricData', make(), make(), make());

    await world.bake();

    expect(world.calls('GetMetricData')).toBe(4);
    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at - T0).toBeLessThan(10); // retried within the tick, not a tick later
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail', reportedStatus: 'Failed' });
  });

  it('5xx on every call → read again every tick, inconclusive → Failed only at the deadline, with the cause in the reasons', async () => {
    const world = new World({ traffic: traffic.clean() });
    world.failAlways('GetMetricData', serverError);

    await world.bake();

    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at).toBeGreaterThanOrEqual(DEADLINE); // not at the end of the bake (T0 + 780)
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Failed' });
    expect(verdict.reasons[0]).toMatch(/metrics could not be read \(inconclusive → Failed\)/);
    expect(verdict.reasons).toContainEqual(expect.stringMatching(/GetMetricData failed \(UnknownError: We encountered an internal error/));
  });

  it('AccessDenied that never goes away is a configuration error: inconclusive → Failed at the end of the bake, with an escalation', async () => {
    const world = new World({ traffic: traffic.clean() });
    world.failAlways('GetMetricData', () => accessDenied());

    await world.bake();

    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at - T0).toBeGreaterThanOrEqual(780);
    expect(world.accepted[0].at - T0).toBeLessThan(900);
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Failed' });
    expect(verdict.reasons).toContainEqual(expect.stringMatching(/GetMetricData failed \(AccessDenied.*\) \(configuration error: waiting will not fix it\)/));
    expectAudit(world, AuditDetailType.ESCALATION_RAISED, { verdict: 'inconclusive', reportedStatus: 'Failed' });
  });

  // Bug: one throttled read at the last tick failed a healthy release with 45 minutes left
  // (retries were count-bounded).
  it('throttled for two minutes at the last tick of a healthy bake: another tick, then a pass — never a fail with 45 minutes left', async () => {
    const world = new World({ traffic: traffic.clean() });
    world.failDuring('GetMetricData', T0 + 780, T0 + 900, throttling);

    const run = await world.bake();

    expectReports(world, { accepted: ['Succeeded'] });
    expect(world.accepted[0].at - T0).toBeGreaterThan(900);
    // The tick at the end of the bake retried for its budget, could not read, and waited.
    const last = run.steps.find((s) => s.at === T0 + 780)!;
    expect(last.output.next).toBe('wait');
    expect(world.calls('GetMetricData')).toBeGreaterThan(14 + 5);
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'pass', reportedStatus: 'Succeeded' });
  });
});

describe('GetMetricData per-result StatusCode', () => {
  // Bug: a Forbidden or InternalError result for the error count read as "zero errors": a release
  // failing 30 % of its requests passed the whole bake.
  it('Forbidden for the error-count query of a release failing 30 %: never a pass — inconclusive → Failed at the end of the bake, named in the audit', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.statusModel = (id) => (id === 's0_canary_n' ? 'Forbidden' : undefined);

    await world.bake();

    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at - T0).toBe(780); // the bake's end, not the deadline: waiting will not fix it
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Failed' });
    expect(verdict.reasons).toContainEqual(
      'orders-availability: GetMetricData answered Forbidden for query s0_canary_n: the evaluator is not allowed to read this metric (configuration error: waiting will not fix it)',
    );
    // Observations of data that was not read are not reported as numbers.
    expect(verdict.observations).toEqual([]);
    expectAudit(world, AuditDetailType.ESCALATION_RAISED, { verdict: 'inconclusive' });
  });

  it('InternalError for the error-count query on every read: retried, read again every tick, never a pass — inconclusive at the deadline', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.statusModel = (id) => (id === 's0_canary_n' ? 'InternalError' : undefined);

    await world.bake();

    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at).toBeGreaterThanOrEqual(DEADLINE);
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Failed' });
    expect(verdict.reasons).toContainEqual('orders-availability: GetMetricData answered InternalError for query s0_canary_n');
  });

  it('InternalError twice, then Complete: the read is retried within the tick and decides', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.statusModel = (id, _page, call) => (id === 's0_canary_n' && call < 2 ? 'InternalError' : undefined);

    await world.bake();

    expect(world.calls('GetMetricData')).toBe(3);
    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at - T0).toBeLessThan(10);
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail' });
  });

  it('a Forbidden baseline with the canary judge on: the comparison is part of the judgement, so no pass', async () => {
    const world = new World({ config: { compareWithBaseline: true }, traffic: traffic.clean() });
    world.statusModel = (id) => (id === 's0_baseline_t' ? 'Forbidden' : undefined);

    await world.bake();

    expectReports(world, { accepted: ['Failed'] });
    expect(expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive' }).reasons.join('\n')).toMatch(
      /orders-availability \(current version, for the canary judge\): GetMetricData answered Forbidden for query s0_baseline_t/,
    );
  });

  it('a missing numerator with a Complete result is zero errors: a clean version whose error count publishes nothing passes', async () => {
    const world = new World({ traffic: traffic.cleanSparse() });

    await world.bake();

    expectReports(world, { accepted: ['Succeeded'] });
    expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'pass' });
  });

  it('follows NextToken and uses every page: the failure is only visible on page 2', async () => {
    // Errors only in the last three minutes before the ingestion delay; page 1 holds the earlier half.
    const lateErrors = (id: string, minute: number) => (id.endsWith('_t') ? 1_000 : id === 's0_canary_n' && minute >= T0 - 360 ? 400 : 0);
    const world = new World({ traffic: lateErrors });
    world.metricPages = 2;

    await world.bake();

    const calls = world.metricCalls();
    expect(calls).toHaveLength(2);
    expect(calls[0].NextToken).toBeUndefined();
    expect(calls[1].NextToken).toBe('page-1');
    expect(calls[1].StartTime).toEqual(calls[0].StartTime);
    expect(calls[1].EndTime).toEqual(calls[0].EndTime);
    expectReports(world, { accepted: ['Failed'] });
    // 7,000 invocations: page 1's 4 minutes plus page 2's 3; 1,200 errors, all from page 2.
    expect(expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail' }).observations).toContainEqual(
      expect.objectContaining({ arm: 'canary', totalEvents: 7_000, badEvents: 1_200 }),
    );
  });

  it('a read whose pages never end stops at the page cap (20): partial results are not evidence, so no pass', async () => {
    const world = new World({ traffic: traffic.clean() });
    world.endlessMetricPages = true;

    const run = await world.bake();

    const ticks = run.steps.filter((s) => s.input.phase !== 'reported').length;
    expect(world.calls('GetMetricData')).toBe(20 * ticks);
    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at).toBeGreaterThanOrEqual(DEADLINE);
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Failed' });
    expect(verdict.reasons).toContainEqual(expect.stringMatching(/GetMetricData returned only part of query s0_canary_n/));
    expect(verdict.reasons).toContainEqual(expect.stringMatching(/CloudWatch: the read stopped after 20 pages/));
  });

  it('top-level Messages go into the reasons of the verdict', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.metricMessages = [{ Code: 'MaxQueryTimeRangeExceed', Value: 'The query time range exceeds the metric retention' }];

    await world.bake();

    expect(expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'fail' }).reasons).toContain(
      'CloudWatch: MaxQueryTimeRangeExceed: The query time range exceeds the metric retention',
    );
  });
});

describe('clock skew', () => {
  it('datapoints stamped after the evaluator’s clock are ignored, and the audit says how many', async () => {
    const world = new World({ traffic: traffic.clean() });
    // A publisher whose clock runs 5 minutes fast: a burst of errors "from the future" on every read.
    world.skewedDatapoints = (id, now) => (id === 's0_canary_n' ? [[Math.floor(now / 60) * 60 + 300, 900]] : id === 's0_canary_t' ? [[Math.floor(now / 60) * 60 + 300, 1_000]] : []);

    await world.bake();

    expectReports(world, { accepted: ['Succeeded'] });
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'pass' });
    expect(verdict.reasons).toContain("ignored 2 datapoints stamped after the evaluator's clock (clock skew)");
    expect(verdict.observations).toContainEqual(expect.objectContaining({ arm: 'canary', totalEvents: 20_000, badEvents: 0 }));
  });
});

describe('ListDeploymentTargets', () => {
  it('pages that never end stop at the page cap: the versions are unreadable, retried every tick, inconclusive at the deadline', async () => {
    const world = new World({ traffic: traffic.broken(0.3) });
    world.endlessTargetPages = true;

    await world.bake();

    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at).toBeGreaterThanOrEqual(DEADLINE);
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Failed' });
    expect(verdict.reasons[0]).toMatch(/deadline reached without the versions of this release \(inconclusive → Failed\)/);
    expect(verdict.reasons[1]).toMatch(/TooManyPages: ListDeploymentTargets of d-RELEASE01 still had more pages after 20/);
    expect(world.metricCalls()).toHaveLength(0);
  });
});

describe('GetMetricData bounded by the step’s budget', () => {
  /**
   * GetMetricData that never answers: each request ends only when its `abortSignal` fires (as the
   * SDK's HTTP handler ends it), then rejects with AbortError. The fake timers fire the abort; the
   * world's clock moves on by the time the request hung. Runs with fake setTimeout and Date.
   */
  function hangingGetMetricData(world: World): Array<{ at: number; signal?: AbortSignal; endedAt?: number }> {
    const requests: Array<{ at: number; signal?: AbortSignal; endedAt?: number }> = [];
    vi.spyOn(world.cloudwatch, 'send').mockImplementation(((_command: unknown, options?: { abortSignal?: AbortSignal }) => {
      const request: { at: number; signal?: AbortSignal; endedAt?: number } = { at: world.now, signal: options?.abortSignal };
      requests.push(request);
      const sentAt = Date.now();
      return new Promise((_resolve, reject) => {
        options?.abortSignal?.addEventListener('abort', () => {
          world.now = request.at + (Date.now() - sentAt) / 1000;
          request.endedAt = world.now;
          reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
        });
      });
    }) as never);
    return requests;
  }

  /** Moves the fake timers on, a second at a time, until `work` settles (or `maxSeconds` have passed: it hangs). */
  async function whileTimersRun<T>(work: Promise<T>, maxSeconds: number): Promise<T> {
    let settled = false;
    work.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let i = 0; i < maxSeconds && !settled; i++) await vi.advanceTimersByTimeAsync(1_000);
    if (!settled) throw new Error(`the step was still running after ${maxSeconds} s: a hanging GetMetricData outlasted the step's budget`);
    return work;
  }

  // Bug: a request that hung was bounded only by the SDK's timeouts (10 s × attempts, for each of up
  // to 20 pages): the step could outlast its budget and the Lambda's own timeout, and near the
  // deadline the machine's retry of the step pushed the report past CodeDeploy's hour.
  it('a GetMetricData that hangs is aborted when the step’s budget runs out: the tick waits, nothing read is evidence', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const world = new World({ traffic: traffic.clean() });
    const requests = hangingGetMetricData(world);

    const out = await whileTimersRun(world.handler(world.initialState()), 600);

    expect(out).toMatchObject({ phase: 'tick', next: 'wait', ticks: 1 });
    expect(out.report).toBeUndefined();
    expect(requests.length).toBeGreaterThan(0);
    for (const r of requests) {
      expect(r.signal, 'every request gets an abortSignal').toBeDefined();
      expect(r.signal!.aborted).toBe(true);
    }
    // Within the step's budget (60 s), never past it.
    expect(world.now).toBeLessThanOrEqual(T0 + 60);
    const continued = world.logs.find((l) => l.message === 'bake continues')!;
    expect((continued.extra.reasons as string[]).join('\n')).toMatch(/GetMetricData did not answer within the step's time budget/);
  });

  it('hanging on every read: every tick waits, and at the deadline it is inconclusive → Failed, before the report-by — never a pass', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const world = new World({ traffic: traffic.clean() });
    const requests = hangingGetMetricData(world);

    const run = await whileTimersRun(world.bake(), 2 * 3_600);

    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at).toBeGreaterThanOrEqual(DEADLINE);
    expect(world.accepted[0].at).toBeLessThanOrEqual(DEADLINE + 60);
    expect(world.accepted[0].at).toBeLessThan(REPORT_BY);
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Failed' });
    expect(verdict.reasons[0]).toMatch(/metrics could not be read \(inconclusive → Failed\)/);
    // Every step ended within its own budget: a minute from its start.
    for (const step of run.steps) {
      const mine = requests.filter((r) => r.at >= step.at && r.at < step.at + 60);
      for (const r of mine) expect(r.endedAt! - step.at).toBeLessThanOrEqual(60);
    }
    expect(run.steps.filter((s) => s.input.phase === 'tick' || s.input.phase === 'resolve').every((s) => s.output.next !== 'report' || s.output.report?.status === 'Failed')).toBe(true);
  });

  it('slow pages: no page is requested once the budget has passed; the rest is not evidence (as with the page cap)', async () => {
    const world = new World({ traffic: traffic.clean() });
    world.endlessMetricPages = true;
    world.metricLatencySeconds = 15;

    const run = await world.bake();

    // 15 s a page: four pages fill the step's 60 s budget, not the page cap's 20 (300 s).
    const reads = run.steps.filter((s) => s.input.phase !== 'reported').length;
    expect(world.calls('GetMetricData')).toBe(4 * reads);
    expectReports(world, { accepted: ['Failed'] });
    expect(world.accepted[0].at).toBeGreaterThanOrEqual(DEADLINE);
    expect(world.accepted[0].at).toBeLessThan(REPORT_BY);
    const verdict = expectAudit(world, AuditDetailType.DEPLOYMENT_VERDICT, { verdict: 'inconclusive', reportedStatus: 'Failed' });
    expect(verdict.reasons).toContainEqual(expect.stringMatching(/GetMetricData returned only part of query s0_canary_n/));
    expect(verdict.reasons).toContainEqual(expect.stringMatching(/CloudWatch: the read stopped after 4 pages when the step's time budget ran out/));
  });
});
