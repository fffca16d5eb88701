/**
 * The circuit breaker's record in the state table (KnownGoodStore.getBreaker / putBreaker) and the
 * read-change-write loop around it (updateBreaker), against dynalite: the conditional write on the
 * record's version is evaluated by a DynamoDB implementation, and concurrent writers really race.
 */
import { type AttributeValue, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { BreakerAttribute, StateTableSchema, breakerKey } from '../../lib/core/state-table';
import { type BreakerRecord, type BreakerSettings, EMPTY_BREAKER, closeByHuman, recordRollback } from '../../lib/core/breaker';
import { type BreakerStore, KnownGoodStore, MalformedRecordError, updateBreaker } from '../../lambda/shared/state';
import { type Dynalite, withStateTable, closedEndpoint, dynamoClient } from './dynalite';

const APP = 'orders-app';
const GROUP = 'orders-dg';
const T = 1_768_478_400; // 2026-01-15T12:00:00Z
const S: BreakerSettings = { maxRollbacks: 3, windowSeconds: 3_600, cooldownSeconds: 3_600 };
const PK = StateTableSchema.PARTITION_KEY;

let db: Dynalite;
let table: string;
let store: KnownGoodStore;

withStateTable((server, created) => {
  db = server;
  table = created;
  store = new KnownGoodStore(db.client, table);
});

async function rawItem(pk = breakerKey(APP, GROUP)) {
  return (await db.client.send(new GetItemCommand({ TableName: table, Key: { [PK]: { S: pk } }, ConsistentRead: true }))).Item;
}

async function putRaw(item: Record<string, AttributeValue>) {
  await db.client.send(new PutItemCommand({ TableName: table, Item: { [PK]: { S: breakerKey(APP, GROUP) }, ...item } }));
}

const OPEN: BreakerRecord = {
  rollbacks: [
    { deploymentId: 'd-AAAAAAAA1', at: T },
    { deploymentId: 'd-AAAAAAAA2', at: T + 600 },
    { deploymentId: 'd-AAAAAAAA3', at: T + 1_200 },
    { deploymentId: 'd-AAAAAAAA4', at: T + 1_800.5 },
  ],
  openedAt: T + 1_800.5,
  version: 1,
};

/** A rollback of `id` at T + `offset`, as the state-change handler counts it. */
const rollbackOf = (id: string, offset = 0) => (record: BreakerRecord) => recordRollback(record, id, T + offset, T + offset, S);

describe('getBreaker / putBreaker', () => {
  it('no record → the empty breaker (closed, no rollbacks, version 0)', async () => {
    await expect(store.getBreaker(APP, GROUP)).resolves.toEqual(EMPTY_BREAKER);
    await expect(store.getBreaker(APP, GROUP)).resolves.toEqual({ rollbacks: [], version: 0 });
  });

  it('an open record round-trips: the rollbacks (fractional seconds too), openedAt and the version, under the breaker key', async () => {
    await expect(store.putBreaker(APP, GROUP, OPEN)).resolves.toBe(true);
    await expect(store.getBreaker(APP, GROUP)).resolves.toEqual(OPEN);

    const item = await rawItem();
    expect(item?.[PK]).toEqual({ S: 'breaker#orders-app#orders-dg' });
    expect(JSON.parse(item?.[BreakerAttribute.ROLLBACKS]?.S ?? 'null')).toEqual(OPEN.rollbacks);
    expect(item?.[BreakerAttribute.OPENED_AT]).toEqual({ N: String(T + 1_800.5) });
    expect(item?.[BreakerAttribute.VERSION]).toEqual({ N: '1' });
    // The breaker must outlive any quiet spell: no expiry.
    expect(item?.[StateTableSchema.TTL_ATTRIBUTE]).toBeUndefined();
  });

  it('a closed record written over an open one removes openedAt (the item is replaced, not merged)', async () => {
    await store.putBreaker(APP, GROUP, OPEN);
    const closed = closeByHuman(OPEN, 'alice', S, T + 2_000)!.record;
    await expect(store.putBreaker(APP, GROUP, closed)).resolves.toBe(true);
    await expect(store.getBreaker(APP, GROUP)).resolves.toEqual({ rollbacks: OPEN.rollbacks, clearedAt: T + 2_000, version: 2 });
    expect((await rawItem())?.[BreakerAttribute.OPENED_AT]).toBeUndefined();
  });

  it('the write is conditional on the version it read: a stale write returns false and changes nothing', async () => {
    const v1 = { rollbacks: [{ deploymentId: 'd-AAAAAAAA1', at: T }], version: 1 };
    await expect(store.putBreaker(APP, GROUP, v1)).resolves.toBe(true);

    // A second first write (it read "none"): refused.
    await expect(store.putBreaker(APP, GROUP, { rollbacks: [{ deploymentId: 'd-OTHER0001', at: T }], version: 1 })).resolves.toBe(false);
    // A write that skips a version (it read 2, the table holds 1): refused.
    await expect(store.putBreaker(APP, GROUP, { ...OPEN, version: 3 })).resolves.toBe(false);
    await expect(store.getBreaker(APP, GROUP)).resolves.toEqual(v1);

    // Two writers both read version 1: the first wins, the second's write is refused.
    const read = await store.getBreaker(APP, GROUP);
    const a = recordRollback(read, 'd-AAAAAAAA2', T + 60, T + 60, S)!.record;
    const b = recordRollback(read, 'd-BBBBBBBB2', T + 61, T + 61, S)!.record;
    await expect(store.putBreaker(APP, GROUP, a)).resolves.toBe(true);
    await expect(store.putBreaker(APP, GROUP, b)).resolves.toBe(false);
    await expect(store.getBreaker(APP, GROUP)).resolves.toEqual(a);
    expect(a.version).toBe(2);
  });

  it('groups are separate, and a # inside a name cannot make two groups share a record', async () => {
    await store.putBreaker('a#b', 'c', OPEN);
    await expect(store.getBreaker('a', 'b#c')).resolves.toEqual(EMPTY_BREAKER);
    await expect(store.getBreaker(APP, 'other-dg')).resolves.toEqual(EMPTY_BREAKER);
    await expect(store.getBreaker('a#b', 'c')).resolves.toEqual(OPEN);
    // The first write of another group is not refused by this one's record.
    await expect(store.putBreaker('a', 'b#c', { rollbacks: [], version: 1 })).resolves.toBe(true);
  });

  it('a record without rollbacks reads as none (the attribute is optional), with its openedAt', async () => {
    await putRaw({ [BreakerAttribute.VERSION]: { N: '7' }, [BreakerAttribute.OPENED_AT]: { N: String(T) } });
    await expect(store.getBreaker(APP, GROUP)).resolves.toEqual({ rollbacks: [], openedAt: T, version: 7 });
  });
});

describe('a record that cannot be understood throws MalformedRecordError, never reads as closed', () => {
  const rollbacks = { S: JSON.stringify(OPEN.rollbacks) };
  const cases: Array<[string, Record<string, AttributeValue>]> = [
    ['no version', { [BreakerAttribute.ROLLBACKS]: rollbacks, [BreakerAttribute.OPENED_AT]: { N: String(T) } }],
    ['a version that is a string', { [BreakerAttribute.VERSION]: { S: '3' }, [BreakerAttribute.ROLLBACKS]: rollbacks }],
    ['an openedAt that is a string', { [BreakerAttribute.VERSION]: { N: '3' }, [BreakerAttribute.ROLLBACKS]: rollbacks, [BreakerAttribute.OPENED_AT]: { S: String(T) } }],
    ['rollbacks that are not JSON', { [BreakerAttribute.VERSION]: { N: '3' }, [BreakerAttribute.ROLLBACKS]: { S: '[{"deploymentId":' }, [BreakerAttribute.OPENED_AT]: { N: String(T) } }],
    ['rollbacks that are a JSON object', { [BreakerAttribute.VERSION]: { N: '3' }, [BreakerAttribute.ROLLBACKS]: { S: '{"deploymentId":"d-1","at":1}' } }],
    ['rollbacks with an entry without a deployment id', { [BreakerAttribute.VERSION]: { N: '3' }, [BreakerAttribute.ROLLBACKS]: { S: '[{"at":1}]' } }],
    ['rollbacks with an entry whose time is a string', { [BreakerAttribute.VERSION]: { N: '3' }, [BreakerAttribute.ROLLBACKS]: { S: '[{"deploymentId":"d-1","at":"1"}]' } }],
    ['rollbacks with a null entry', { [BreakerAttribute.VERSION]: { N: '3' }, [BreakerAttribute.ROLLBACKS]: { S: '[null]' } }],
    ['rollbacks JSON null', { [BreakerAttribute.VERSION]: { N: '3' }, [BreakerAttribute.ROLLBACKS]: { S: 'null' } }],
  ];

  it.each(cases)('%s', async (_label, item) => {
    await putRaw(item);
    await expect(store.getBreaker(APP, GROUP)).rejects.toBeInstanceOf(MalformedRecordError);
    // And updateBreaker lets it through instead of writing over it.
    await expect(updateBreaker(store, APP, GROUP, rollbackOf('d-AAAAAAAA9'))).rejects.toBeInstanceOf(MalformedRecordError);
  });

  // BUG (lambda/shared/state.ts, getBreaker): `out.Item[BreakerAttribute.ROLLBACKS]?.S` treats a
  // rollbacks attribute of another DynamoDB type as absent, so the count silently reads as zero
  // (and the next write replaces it). Marked `fails` until getBreaker checks the type, as `get`
  // does for the known-good integrity attribute.
  it.each([
    ['a list', { L: [{ S: 'd-1' }] }],
    ['a number', { N: '4' }],
  ] as Array<[string, AttributeValue]>)('rollbacks stored as %s (not a JSON string)', async (_label, value) => {
    await putRaw({ [BreakerAttribute.VERSION]: { N: '3' }, [BreakerAttribute.ROLLBACKS]: value });
    await expect(store.getBreaker(APP, GROUP)).rejects.toBeInstanceOf(MalformedRecordError);
  });
});

describe('updateBreaker: read, change, conditional write; read again on a lost race', () => {
  it('writes the change it computed from the stored record and returns it', async () => {
    const written = await updateBreaker(store, APP, GROUP, rollbackOf('d-AAAAAAAA1'));
    expect(written).toEqual({ record: { rollbacks: [{ deploymentId: 'd-AAAAAAAA1', at: T }], version: 1 } });
    await expect(store.getBreaker(APP, GROUP)).resolves.toEqual(written!.record);
  });

  it('a change that finds nothing to do writes nothing and returns undefined (a repeated event)', async () => {
    await updateBreaker(store, APP, GROUP, rollbackOf('d-AAAAAAAA1'));
    await expect(updateBreaker(store, APP, GROUP, rollbackOf('d-AAAAAAAA1', 30))).resolves.toBeUndefined();
    await expect(store.getBreaker(APP, GROUP)).resolves.toMatchObject({ version: 1 });
  });

  it('two concurrent updates are both counted (no lost update)', async () => {
    const [a, b] = await Promise.all([updateBreaker(store, APP, GROUP, rollbackOf('d-AAAAAAAA1', 0)), updateBreaker(store, APP, GROUP, rollbackOf('d-BBBBBBBB1', 1))]);
    expect(a).toBeDefined();
    expect(b).toBeDefined();
    const record = await store.getBreaker(APP, GROUP);
    expect(record.version).toBe(2);
    expect(record.rollbacks.map((r) => r.deploymentId).sort()).toEqual(['d-AAAAAAAA1', 'd-BBBBBBBB1']);
  });

  it('several concurrent rollbacks of different deployments are all in the record, and exactly one of them reports the opening', async () => {
    const n = 6;
    let lost = 0;
    const counting: BreakerStore = {
      getBreaker: (a, g) => store.getBreaker(a, g),
      putBreaker: async (a, g, r) => {
        const ok = await store.putBreaker(a, g, r);
        if (!ok) lost++;
        return ok;
      },
    };
    const ids = Array.from({ length: n }, (_, i) => `d-CONCUR00${i}`);
    // Deployments that ended a few seconds apart, their events handled at the same moment. n
    // writers need at most n attempts: each loss is another writer's (single) success.
    const now = T + 60;
    const results = await Promise.all(ids.map((id, i) => updateBreaker(counting, APP, GROUP, (record) => recordRollback(record, id, T + i, now, S), n)));

    expect(lost).toBeGreaterThan(0); // they did race
    const record = await store.getBreaker(APP, GROUP);
    expect(record.version).toBe(n);
    expect(record.rollbacks.map((r) => r.deploymentId).sort()).toEqual(ids);
    expect(record.openedAt).toBeDefined();
    const openings = results.filter((r) => r?.transition?.to === 'open');
    expect(openings).toHaveLength(1);
    expect(record.openedAt).toBe(openings[0]!.record.openedAt);
  });

  // BUG (lib/core/breaker.ts:52, `recent` keeps only `r.at <= now`; lambda/state-change/index.ts:229
  // takes `now` once, before the retried updateBreaker): a writer whose clock is behind the
  // rollback another writer just stored — its own `now` read before it lost the race, or another
  // Lambda's clock — drops that rollback from the record it writes back. A lost update. Marked
  // `fails` until the rule keeps rollbacks newer than `now` (or the handler reads its clock per attempt).
  it('a writer with an earlier clock than the rollback that won the race keeps that rollback', async () => {
    // Writer A read its clock at T + 10 (its deployment ended at T); meanwhile B's deployment ended
    // at T + 20 and B, reading its clock at T + 20, wrote first. A's first write was refused; its
    // re-read (here: A's read after B's write) sees B's rollback, with A's clock still at T + 10.
    const b = await updateBreaker(store, APP, GROUP, (record) => recordRollback(record, 'd-BBBBBBBB1', T + 20, T + 20, S));
    expect(b?.record.rollbacks).toHaveLength(1);
    await updateBreaker(store, APP, GROUP, (record) => recordRollback(record, 'd-AAAAAAAA1', T, T + 10, S));
    const record = await store.getBreaker(APP, GROUP);
    expect(record.version).toBe(2);
    expect(record.rollbacks.map((r) => r.deploymentId).sort()).toEqual(['d-AAAAAAAA1', 'd-BBBBBBBB1']);
  });

  it('the same deployment counted concurrently (a duplicate delivery) is counted once', async () => {
    const results = await Promise.all([1, 2, 3].map(() => updateBreaker(store, APP, GROUP, rollbackOf('d-DUPLICAT1'))));
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    await expect(store.getBreaker(APP, GROUP)).resolves.toEqual({ rollbacks: [{ deploymentId: 'd-DUPLICAT1', at: T }], version: 1 });
  });

  /** A store that loses the race `losses` times: before each of those writes another writer really writes first. */
  function losing(losses: number) {
    const calls = { get: 0, put: 0 };
    let rival = 0;
    const wrapper: BreakerStore = {
      getBreaker: (a, g) => {
        calls.get++;
        return store.getBreaker(a, g);
      },
      putBreaker: async (a, g, record) => {
        calls.put++;
        if (calls.put <= losses) {
          const current = await store.getBreaker(a, g);
          const next = recordRollback(current, `d-RIVAL000${++rival}`, T - 60, T, S);
          expect(await store.putBreaker(a, g, next!.record)).toBe(true);
        }
        return store.putBreaker(a, g, record);
      },
    };
    return { wrapper, calls };
  }

  it('after lost races it reads again, and its change is computed from the record that won', async () => {
    const { wrapper, calls } = losing(2);
    const written = await updateBreaker(wrapper, APP, GROUP, rollbackOf('d-AAAAAAAA1'));
    expect(calls).toEqual({ get: 3, put: 3 });
    expect(written?.record.version).toBe(3);
    const record = await store.getBreaker(APP, GROUP);
    expect(record.rollbacks.map((r) => r.deploymentId)).toEqual(['d-RIVAL0001', 'd-RIVAL0002', 'd-AAAAAAAA1']);
  });

  it('gives up with a BreakerContention error after N lost races (default 5), writing nothing of its own', async () => {
    const always = losing(Infinity);
    await expect(updateBreaker(always.wrapper, APP, GROUP, rollbackOf('d-AAAAAAAA1'))).rejects.toMatchObject({
      name: 'BreakerContention',
      message: 'the circuit breaker of orders-app/orders-dg changed under 5 writes in a row',
    });
    expect(always.calls).toEqual({ get: 5, put: 5 });
    const record = await store.getBreaker(APP, GROUP);
    expect(record.rollbacks.map((r) => r.deploymentId)).not.toContain('d-AAAAAAAA1');

    const three = losing(Infinity);
    await expect(updateBreaker(three.wrapper, APP, 'other-dg', rollbackOf('d-AAAAAAAA1'), 3)).rejects.toMatchObject({ name: 'BreakerContention' });
    expect(three.calls).toEqual({ get: 3, put: 3 });
  });

  it('a store whose conditional write always fails (without a rival) also ends in BreakerContention', async () => {
    let puts = 0;
    const refusing: BreakerStore = { getBreaker: (a, g) => store.getBreaker(a, g), putBreaker: async () => (puts++, false) };
    await expect(updateBreaker(refusing, APP, GROUP, rollbackOf('d-AAAAAAAA1'), 4)).rejects.toMatchObject({ name: 'BreakerContention' });
    expect(puts).toBe(4);
  });
});

describe('read and write errors are errors, never "closed"', () => {
  it('a read that fails (nothing listens on the endpoint) throws', async () => {
    const broken = new KnownGoodStore(dynamoClient(await closedEndpoint()), table);
    await expect(broken.getBreaker(APP, GROUP)).rejects.toThrow();
    await expect(broken.putBreaker(APP, GROUP, OPEN)).rejects.toThrow();
  });

  it('a missing table is ResourceNotFoundException, not an empty record or a refused condition', async () => {
    const missing = new KnownGoodStore(db.client, 'no-such-table');
    await expect(missing.getBreaker(APP, GROUP)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(missing.putBreaker(APP, GROUP, OPEN)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(missing.putBreaker(APP, GROUP, { ...OPEN, version: 2 })).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});
