/**
 * The state-change handler with a circuit breaker: it counts each FAILURE / STOP of a release in
 * the group's breaker record (the real KnownGoodStore over dynalite, conditional writes and all),
 * closes it on a release's SUCCESS after the cooldown, and audits every transition on EventBridge
 * (the real audit sink over a mocked EventBridge client) with the `CircuitOpen` metric line.
 * CodeDeploy and Lambda are mocked as in state-change.test.ts.
 */
import { EventBridgeClient, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AUDIT_EVENT_SOURCE, AuditDetailType, type AuditEventDetail } from '../../lib/core/audit-events';
import { type BreakerSettings, EMPTY_BREAKER } from '../../lib/core/breaker';
import { eventBridgeAudit } from '../../lambda/shared/audit';
import { KnownGoodStore, MalformedRecordError } from '../../lambda/shared/state';
import { type StateChangeDeps, createStateChangeHandler } from '../../lambda/state-change/index';
import { type Dynalite, withStateTable } from './dynalite';
import { APPLICATION, CLIENT_CONFIG, DEPLOYMENT_GROUP, T0, World, ready, stateChange, stateChangeDeps, throttling } from './starter-fixtures';

const BUS = 'rollback-audit';
/** The defaults: more than 3 rollbacks within an hour open it; it half-opens an hour later. */
const BREAKER: BreakerSettings = { maxRollbacks: 3, windowSeconds: 3_600, cooldownSeconds: 3_600 };

let db: Dynalite;
let store: KnownGoodStore;

withStateTable((server, table) => {
  db = server;
  store = new KnownGoodStore(db.client, table);
});
afterEach(() => {
  vi.restoreAllMocks();
});

/** The world of state-change.test.ts, with EventBridge behind the real audit sink and the metric lines kept. */
class BreakerWorld extends World {
  readonly ebClient = new EventBridgeClient(CLIENT_CONFIG);
  readonly eb = mockClient(this.ebClient);
  readonly entries: PutEventsRequestEntry[] = [];
  readonly lines: string[] = [];

  constructor() {
    super();
    this.eb.on(PutEventsCommand).callsFake((input: { Entries: PutEventsRequestEntry[] }) => {
      this.entries.push(...input.Entries);
      return { FailedEntryCount: 0, Entries: input.Entries.map((_, i) => ({ EventId: `event-${this.entries.length}-${i}` })) };
    });
  }

  /** Delivered events of one detail type, checked for what every audit event on the bus carries. */
  delivered(type: AuditDetailType): AuditEventDetail[] {
    return this.entries
      .filter((e) => e.DetailType === type)
      .map((e) => {
        expect(e.EventBusName).toBe(BUS);
        expect(e.Source).toBe(AUDIT_EVENT_SOURCE);
        const detail = JSON.parse(e.Detail!) as AuditEventDetail;
        expect(detail).toMatchObject({ applicationName: APPLICATION, deploymentGroupName: DEPLOYMENT_GROUP, schemaVersion: 1 });
        return detail;
      });
  }

  /** The metric lines, parsed: group and value. */
  metricValues(): Array<{ group: string; value: number; at: number }> {
    return this.lines.map((line) => {
      const emf = JSON.parse(line);
      expect(emf._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'RollbackTriggers', Dimensions: [['DeploymentGroup']], Metrics: [{ Name: 'CircuitOpen' }] });
      return { group: emf.DeploymentGroup, value: emf.CircuitOpen, at: emf._aws.Timestamp / 1000 };
    });
  }
}

function handlerOf(world: BreakerWorld, overrides: Partial<StateChangeDeps> = {}) {
  return createStateChangeHandler({
    ...stateChangeDeps(world, store),
    audit: eventBridgeAudit(world.ebClient, BUS, world.logger, world.sleep),
    breaker: BREAKER,
    emitMetricLine: (line) => world.lines.push(line),
    ...overrides,
  });
}

const at = (seconds: number) => new Date(seconds * 1000);
const RELEASES = ['d-BADAAAAA1', 'd-BADAAAAA2', 'd-BADAAAAA3', 'd-BADAAAAA4', 'd-BADAAAAA5'];

/** A release that failed (or was stopped) `offset` seconds after T0. */
function failedRelease(world: BreakerWorld, id: string, offset: number, state: 'FAILURE' | 'STOP' = 'FAILURE') {
  world.addDeployment(id, {
    status: state === 'STOP' ? 'Stopped' : 'Failed',
    completeTime: at(T0 + offset),
    errorInformation: { code: 'ALARM_ACTIVE', message: 'Activated alarms: <orders-availability-page>' },
  });
}

/** Delivers the FAILURE / STOP of `id` at `offset` (+ 30 s of EventBridge delay). */
async function deliver(world: BreakerWorld, handle: ReturnType<typeof handlerOf>, id: string, offset: number, state: 'FAILURE' | 'STOP' | 'SUCCESS' = 'FAILURE') {
  world.now = Math.max(world.now, T0 + offset + 30);
  await handle(stateChange(id, state), world.context());
}

/** Four releases fail ten minutes apart; returns when the breaker opened. */
async function openBreaker(world: BreakerWorld, handle: ReturnType<typeof handlerOf>): Promise<number> {
  for (const [i, id] of RELEASES.slice(0, 4).entries()) {
    failedRelease(world, id, i * 600, i % 2 === 0 ? 'FAILURE' : 'STOP');
    await deliver(world, handle, id, i * 600, i % 2 === 0 ? 'FAILURE' : 'STOP');
  }
  return world.now;
}

describe('counting the rollbacks of releases', () => {
  it('the 4th failed release within the hour opens the breaker: Circuit Opened on EventBridge, listing the deployments, and one metric line with 1', async () => {
    const world = new BreakerWorld();
    const handle = handlerOf(world);

    for (const [i, id] of RELEASES.slice(0, 3).entries()) {
      failedRelease(world, id, i * 600, i === 1 ? 'STOP' : 'FAILURE');
      await deliver(world, handle, id, i * 600, i === 1 ? 'STOP' : 'FAILURE');
    }
    expect(world.delivered(AuditDetailType.ROLLBACK_TRIGGERED)).toHaveLength(3);
    expect(world.delivered(AuditDetailType.CIRCUIT_OPENED)).toEqual([]);
    expect(world.lines).toEqual([]);
    await expect(store.getBreaker(APPLICATION, DEPLOYMENT_GROUP)).resolves.toEqual({
      rollbacks: [
        { deploymentId: 'd-BADAAAAA1', at: T0 },
        { deploymentId: 'd-BADAAAAA2', at: T0 + 600 },
        { deploymentId: 'd-BADAAAAA3', at: T0 + 1_200 },
      ],
      version: 3,
    });

    failedRelease(world, 'd-BADAAAAA4', 1_800);
    await deliver(world, handle, 'd-BADAAAAA4', 1_800);
    const openedAt = world.now;

    const [opened, ...more] = world.delivered(AuditDetailType.CIRCUIT_OPENED);
    expect(more).toEqual([]);
    expect(opened.deploymentId).toBe('d-BADAAAAA4');
    expect(opened.reasons).toEqual(['4 rollbacks within 1 h (more than 3): d-BADAAAAA1, d-BADAAAAA2, d-BADAAAAA3, d-BADAAAAA4']);
    // The rollback itself is audited first, as without a breaker.
    expect(world.entries.map((e) => e.DetailType).slice(-2)).toEqual([AuditDetailType.ROLLBACK_TRIGGERED, AuditDetailType.CIRCUIT_OPENED]);
    expect(world.metricValues()).toEqual([{ group: DEPLOYMENT_GROUP, value: 1, at: openedAt }]);
    await expect(store.getBreaker(APPLICATION, DEPLOYMENT_GROUP)).resolves.toMatchObject({ openedAt, version: 4 });
  });

  it('a repeated event (EventBridge or Lambda retry) is not counted twice, and changes nothing', async () => {
    const world = new BreakerWorld();
    const handle = handlerOf(world);
    for (const [i, id] of RELEASES.slice(0, 3).entries()) {
      failedRelease(world, id, i * 600);
      await deliver(world, handle, id, i * 600);
    }
    // The 3rd again, twice (a duplicate delivery, then a retry).
    world.now += 60;
    await handle(stateChange('d-BADAAAAA3', 'FAILURE'), world.context());
    world.now += 60;
    await handle(stateChange('d-BADAAAAA3', 'FAILURE'), world.context());

    const record = await store.getBreaker(APPLICATION, DEPLOYMENT_GROUP);
    expect(record).toMatchObject({ version: 3 });
    expect(record.rollbacks.map((r) => r.deploymentId)).toEqual(['d-BADAAAAA1', 'd-BADAAAAA2', 'd-BADAAAAA3']);
    expect(world.delivered(AuditDetailType.CIRCUIT_OPENED)).toEqual([]);
    expect(world.lines).toEqual([]);

    // A repeat of the opening event does not open it again.
    failedRelease(world, 'd-BADAAAAA4', 1_800);
    await deliver(world, handle, 'd-BADAAAAA4', 1_800);
    world.now += 60;
    await handle(stateChange('d-BADAAAAA4', 'FAILURE'), world.context());
    expect(world.delivered(AuditDetailType.CIRCUIT_OPENED)).toHaveLength(1);
    expect(world.lines).toHaveLength(1);
    await expect(store.getBreaker(APPLICATION, DEPLOYMENT_GROUP)).resolves.toMatchObject({ version: 4 });
  });

  it.each(['FAILURE', 'STOP'] as const)('a %s of a rollback deployment is not counted (it is escalated)', async (state) => {
    const world = new BreakerWorld();
    const handle = handlerOf(world);
    for (const [i, id] of RELEASES.slice(0, 3).entries()) {
      failedRelease(world, id, i * 600);
      await deliver(world, handle, id, i * 600);
    }
    world.addDeployment('d-ROLLBACK1', {
      creator: 'codeDeployRollback',
      status: state === 'STOP' ? 'Stopped' : 'Failed',
      completeTime: at(T0 + 1_500),
      rollbackInfo: { rollbackTriggeringDeploymentId: 'd-BADAAAAA3' },
    });
    await deliver(world, handle, 'd-ROLLBACK1', 1_500, state);

    expect(world.delivered(AuditDetailType.ESCALATION_RAISED)).toHaveLength(1);
    const record = await store.getBreaker(APPLICATION, DEPLOYMENT_GROUP);
    expect(record.version).toBe(3);
    expect(record.rollbacks.map((r) => r.deploymentId)).not.toContain('d-ROLLBACK1');
    expect(record.openedAt).toBeUndefined();
    expect(world.delivered(AuditDetailType.CIRCUIT_OPENED)).toEqual([]);
    expect(world.lines).toEqual([]);
  });

  it('failures spread over more than the window never open it', async () => {
    const world = new BreakerWorld();
    const handle = handlerOf(world);
    for (const [i, id] of RELEASES.entries()) {
      failedRelease(world, id, i * 1_300);
      await deliver(world, handle, id, i * 1_300);
    }
    const record = await store.getBreaker(APPLICATION, DEPLOYMENT_GROUP);
    expect(record.openedAt).toBeUndefined();
    expect(record.rollbacks.map((r) => r.deploymentId)).toEqual(['d-BADAAAAA3', 'd-BADAAAAA4', 'd-BADAAAAA5']);
    expect(world.delivered(AuditDetailType.CIRCUIT_OPENED)).toEqual([]);
  });

  it('a rollback while open is counted without another Circuit Opened', async () => {
    const world = new BreakerWorld();
    const handle = handlerOf(world);
    const openedAt = await openBreaker(world, handle);
    failedRelease(world, 'd-BADAAAAA5', 2_400);
    await deliver(world, handle, 'd-BADAAAAA5', 2_400);
    expect(world.delivered(AuditDetailType.CIRCUIT_OPENED)).toHaveLength(1);
    expect(world.lines).toHaveLength(1);
    await expect(store.getBreaker(APPLICATION, DEPLOYMENT_GROUP)).resolves.toMatchObject({ openedAt, version: 5 });
  });
});

describe('closing after the cooldown', () => {
  it('a release’s SUCCESS after the cooldown closes it: Circuit Closed and a metric line with 0; before the cooldown it stays open', async () => {
    const world = new BreakerWorld();
    const handle = handlerOf(world);
    const openedAt = await openBreaker(world, handle);

    // A release a human let through succeeds before the cooldown: still open.
    world.addDeployment('d-GOODAAAA1', { status: 'Succeeded', completeTime: at(openedAt + 600) });
    world.now = openedAt + 630;
    await handle(stateChange('d-GOODAAAA1', 'SUCCESS'), world.context());
    expect(world.delivered(AuditDetailType.KNOWN_GOOD_RECORDED)).toHaveLength(1);
    expect(world.delivered(AuditDetailType.CIRCUIT_CLOSED)).toEqual([]);
    await expect(store.getBreaker(APPLICATION, DEPLOYMENT_GROUP)).resolves.toMatchObject({ openedAt });

    // After the cooldown (half-open), the next release succeeds: closed.
    world.addDeployment('d-GOODAAAA2', { status: 'Succeeded', completeTime: at(openedAt + 3_700) });
    world.now = openedAt + 3_730;
    await handle(stateChange('d-GOODAAAA2', 'SUCCESS'), world.context());

    const [closed, ...more] = world.delivered(AuditDetailType.CIRCUIT_CLOSED);
    expect(more).toEqual([]);
    expect(closed.deploymentId).toBe('d-GOODAAAA2');
    expect(closed.reasons).toEqual(['deployment d-GOODAAAA2 succeeded after the cooldown']);
    expect(world.metricValues()).toEqual([
      { group: DEPLOYMENT_GROUP, value: 1, at: openedAt },
      { group: DEPLOYMENT_GROUP, value: 0, at: openedAt + 3_730 },
    ]);
    const record = await store.getBreaker(APPLICATION, DEPLOYMENT_GROUP);
    expect(record.openedAt).toBeUndefined();
    expect(record.version).toBe(5);
    // The known-good version is still recorded, as without a breaker.
    await expect(store.get(APPLICATION, DEPLOYMENT_GROUP)).resolves.toMatchObject({ deploymentId: 'd-GOODAAAA2' });

    // A repeat of that SUCCESS changes nothing more.
    world.now += 60;
    await handle(stateChange('d-GOODAAAA2', 'SUCCESS'), world.context());
    expect(world.delivered(AuditDetailType.CIRCUIT_CLOSED)).toHaveLength(1);
    expect(world.lines).toHaveLength(2);
  });

  it('a SUCCESS delivered after the cooldown, of a release that ended while the breaker was open, does not close it; a release that ends after the cooldown does', async () => {
    const world = new BreakerWorld();
    const handle = handlerOf(world);
    const openedAt = await openBreaker(world, handle);

    // Ended 10 minutes after the breaker opened; the event arrives 61 minutes after (a late delivery, a redrive).
    world.addDeployment('d-LATEAAAA1', { status: 'Succeeded', completeTime: at(openedAt + 600) });
    world.now = openedAt + 3_660;
    await handle(stateChange('d-LATEAAAA1', 'SUCCESS'), world.context());
    expect(world.delivered(AuditDetailType.CIRCUIT_CLOSED)).toEqual([]);
    expect(world.metricValues().map((m) => m.value)).toEqual([1]);
    await expect(store.getBreaker(APPLICATION, DEPLOYMENT_GROUP)).resolves.toMatchObject({ openedAt, version: 4 });
    // The release is still recorded known-good, as without a breaker.
    expect(world.delivered(AuditDetailType.KNOWN_GOOD_RECORDED).map((d) => d.deploymentId)).toEqual(['d-LATEAAAA1']);

    // A release that ends after the cooldown closes it, as of when it ended.
    world.addDeployment('d-GOODAAAA2', { status: 'Succeeded', completeTime: at(openedAt + 3_700) });
    world.now = openedAt + 3_730;
    await handle(stateChange('d-GOODAAAA2', 'SUCCESS'), world.context());
    const [closed, ...more] = world.delivered(AuditDetailType.CIRCUIT_CLOSED);
    expect(more).toEqual([]);
    expect(closed).toMatchObject({ deploymentId: 'd-GOODAAAA2', reasons: ['deployment d-GOODAAAA2 succeeded after the cooldown'] });
    expect(world.metricValues().map((m) => m.value)).toEqual([1, 0]);
    const record = await store.getBreaker(APPLICATION, DEPLOYMENT_GROUP);
    expect(record.openedAt).toBeUndefined();
    expect(record.clearedAt).toBe(openedAt + 3_700);
  });

  it('a release the evaluator judged bad (a held rollback a human let through) does not close it, even after the cooldown, and is not recorded known-good', async () => {
    const world = new BreakerWorld();
    const handle = handlerOf(world);
    const openedAt = await openBreaker(world, handle);
    // The evaluator recorded its first bad signal when it judged it (the breaker held the rollback; a human approved).
    await store.recordFirstBadSignal('d-HELDAAAA1', openedAt + 2_700);
    world.addDeployment('d-HELDAAAA1', { status: 'Succeeded', completeTime: at(openedAt + 3_780) });
    world.now = openedAt + 3_800;
    await handle(stateChange('d-HELDAAAA1', 'SUCCESS'), world.context());
    expect(world.delivered(AuditDetailType.CIRCUIT_CLOSED)).toEqual([]);
    expect(world.delivered(AuditDetailType.KNOWN_GOOD_RECORDED)).toEqual([]);
    await expect(store.getBreaker(APPLICATION, DEPLOYMENT_GROUP)).resolves.toMatchObject({ openedAt, version: 4 });
  });

  it('a completion time ahead of the handler’s clock is judged at the clock: before the cooldown it stays open', async () => {
    const world = new BreakerWorld();
    const handle = handlerOf(world);
    const openedAt = await openBreaker(world, handle);
    // CodeDeploy says the release ended after the cooldown; the handler's clock is still inside it.
    world.addDeployment('d-SKEWAAAA1', { status: 'Succeeded', completeTime: at(openedAt + 3_700) });
    world.now = openedAt + 3_500;
    await handle(stateChange('d-SKEWAAAA1', 'SUCCESS'), world.context());
    expect(world.delivered(AuditDetailType.CIRCUIT_CLOSED)).toEqual([]);
    await expect(store.getBreaker(APPLICATION, DEPLOYMENT_GROUP)).resolves.toMatchObject({ openedAt });
  });

  it('a rollback deployment’s SUCCESS after the cooldown does not close it', async () => {
    const world = new BreakerWorld();
    const handle = handlerOf(world);
    const openedAt = await openBreaker(world, handle);
    world.addDeployment('d-ROLLBACK1', { creator: 'codeDeployRollback', status: 'Succeeded', completeTime: at(openedAt + 3_700), rollbackInfo: { rollbackTriggeringDeploymentId: 'd-BADAAAAA4' } });
    world.now = openedAt + 3_730;
    await handle(stateChange('d-ROLLBACK1', 'SUCCESS'), world.context());
    expect(world.delivered(AuditDetailType.ROLLBACK_COMPLETED)).toHaveLength(1);
    expect(world.delivered(AuditDetailType.CIRCUIT_CLOSED)).toEqual([]);
    await expect(store.getBreaker(APPLICATION, DEPLOYMENT_GROUP)).resolves.toMatchObject({ openedAt });
  });

  it('a release’s FAILURE in half-open re-opens it: Circuit Opened for the trial, metric 1', async () => {
    const world = new BreakerWorld();
    const handle = handlerOf(world);
    const openedAt = await openBreaker(world, handle);
    failedRelease(world, 'd-TRIALAAA1', openedAt - T0 + 3_700);
    await deliver(world, handle, 'd-TRIALAAA1', openedAt - T0 + 3_700);

    const opened = world.delivered(AuditDetailType.CIRCUIT_OPENED);
    expect(opened).toHaveLength(2);
    expect(opened[1]).toMatchObject({ deploymentId: 'd-TRIALAAA1', reasons: ['deployment d-TRIALAAA1 rolled back during the half-open trial after the cooldown'] });
    expect(world.metricValues().map((m) => m.value)).toEqual([1, 1]);
    await expect(store.getBreaker(APPLICATION, DEPLOYMENT_GROUP)).resolves.toMatchObject({ openedAt: world.now });
  });
});

describe('without a breaker, and when the record cannot be written', () => {
  it('without `breaker` nothing is counted, no record is written, no circuit event or metric', async () => {
    const world = new BreakerWorld();
    const handle = handlerOf(world, { breaker: undefined });
    for (const [i, id] of RELEASES.entries()) {
      failedRelease(world, id, i * 300);
      await deliver(world, handle, id, i * 300);
    }
    world.addDeployment('d-GOODAAAA1', { status: 'Succeeded', completeTime: at(T0 + 9_000) });
    await deliver(world, handle, 'd-GOODAAAA1', 9_000, 'SUCCESS');

    expect(world.delivered(AuditDetailType.ROLLBACK_TRIGGERED)).toHaveLength(5);
    await expect(store.getBreaker(APPLICATION, DEPLOYMENT_GROUP)).resolves.toEqual(EMPTY_BREAKER);
    expect(world.delivered(AuditDetailType.CIRCUIT_OPENED)).toEqual([]);
    expect(world.delivered(AuditDetailType.CIRCUIT_CLOSED)).toEqual([]);
    expect(world.lines).toEqual([]);
  });

  it('without emitMetricLine the metric line goes to stdout, one JSON line', async () => {
    const world = new BreakerWorld();
    const written: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
    const handle = handlerOf(world, { emitMetricLine: undefined });
    await openBreaker(world, handle);
    vi.restoreAllMocks();
    const lines = written.filter((w) => w.includes('CircuitOpen'));
    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0])).toMatchObject({ DeploymentGroup: DEPLOYMENT_GROUP, CircuitOpen: 1 });
  });

  it('the breaker record throttled for the whole budget → thrown for Lambda’s retry; the retry counts it once', async () => {
    const world = new BreakerWorld();
    failedRelease(world, 'd-BADAAAAA1', 0);
    let throttled = true;
    const flaky = Object.assign(Object.create(store) as KnownGoodStore, {
      putBreaker: (...args: Parameters<KnownGoodStore['putBreaker']>) => (throttled ? Promise.reject(throttling()) : store.putBreaker(...args)),
    });
    const handle = handlerOf(world, { store: ready(flaky) });

    world.now = T0 + 30;
    await expect(handle(stateChange('d-BADAAAAA1', 'FAILURE'), world.context(20_000))).rejects.toMatchObject({ name: 'ThrottlingException' });
    await expect(store.getBreaker(APPLICATION, DEPLOYMENT_GROUP)).resolves.toEqual(EMPTY_BREAKER);

    throttled = false; // Lambda's async retry
    await handle(stateChange('d-BADAAAAA1', 'FAILURE'), world.context(20_000));
    await handle(stateChange('d-BADAAAAA1', 'FAILURE'), world.context(20_000));
    await expect(store.getBreaker(APPLICATION, DEPLOYMENT_GROUP)).resolves.toMatchObject({ rollbacks: [{ deploymentId: 'd-BADAAAAA1', at: T0 }], version: 1 });
  });

  it('a breaker record that keeps changing under it (BreakerContention) is retried, then thrown: Lambda retries the event, nothing is lost', async () => {
    const world = new BreakerWorld();
    failedRelease(world, 'd-BADAAAAA1', 0);
    const losing = Object.assign(Object.create(store) as KnownGoodStore, { putBreaker: async () => false });
    world.now = T0 + 30;
    await expect(handlerOf(world, { store: ready(losing) })(stateChange('d-BADAAAAA1', 'FAILURE'), world.context())).rejects.toMatchObject({ name: 'BreakerContention' });
    expect(world.delivered(AuditDetailType.ROLLBACK_TRIGGERED)).toHaveLength(1);
    expect(world.delivered(AuditDetailType.ESCALATION_RAISED)).toHaveLength(0);
    await expect(store.getBreaker(APPLICATION, DEPLOYMENT_GROUP)).resolves.toEqual(EMPTY_BREAKER);
  });

  it('a breaker record that cannot be read (malformed) is escalated as such: the known-good record and its audit stand', async () => {
    const world = new BreakerWorld();
    failedRelease(world, 'd-BADAAAAA1', 0);
    const broken = Object.assign(Object.create(store) as KnownGoodStore, {
      getBreaker: async () => {
        throw new MalformedRecordError('breaker record x: rollbacks is not JSON');
      },
    });
    world.now = T0 + 30;
    await expect(handlerOf(world, { store: ready(broken) })(stateChange('d-BADAAAAA1', 'FAILURE'), world.context())).resolves.toBeUndefined();
    expect(world.delivered(AuditDetailType.ROLLBACK_TRIGGERED)).toHaveLength(1);
    const [escalation] = world.delivered(AuditDetailType.ESCALATION_RAISED);
    expect(escalation.reasons[0]).toMatch(/^the circuit breaker could not count this rollback \(MalformedRecordError/);
    expect(escalation.reasons[0]).not.toContain('details unavailable');
  });
});
