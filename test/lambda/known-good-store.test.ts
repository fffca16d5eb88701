/**
 * KnownGoodStore against dynalite: the condition expressions are evaluated by a DynamoDB
 * implementation, not by a hand-written fake.
 */
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { BAD_SIGNAL_RETENTION_SECONDS, KnownGoodAttribute, StateTableSchema, badSignalKey, knownGoodKey } from '../../lib/core';
import { KnownGoodStore, MalformedRecordError } from '../../lambda/shared/state';
import { type Dynalite, withStateTable, closedEndpoint, dynamoClient } from './dynalite';

const APP = 'orders-app';
const GROUP = 'orders-dg';
const T = 1_768_478_400; // 2026-01-15T12:00:00Z

let db: Dynalite;
let table: string;
let store: KnownGoodStore;

withStateTable((server, created) => {
  db = server;
  table = created;
  store = new KnownGoodStore(db.client, table);
});

async function rawItem(pk: string) {
  return (await db.client.send(new GetItemCommand({ TableName: table, Key: { [StateTableSchema.PARTITION_KEY]: { S: pk } }, ConsistentRead: true }))).Item;
}

describe('known-good records', () => {
  it('none recorded → undefined', async () => {
    await expect(store.get(APP, GROUP)).resolves.toBeUndefined();
  });

  it('put then get round-trips the version, its integrity and the deployment that made it live', async () => {
    await expect(store.put(APP, GROUP, { version: '7', integrity: 'sha-7' }, { deploymentId: 'd-AAAAAAAA7', completedAt: T }, T + 5)).resolves.toEqual({ recorded: true });

    await expect(store.get(APP, GROUP)).resolves.toEqual({ version: '7', integrity: 'sha-7', deploymentId: 'd-AAAAAAAA7', deployedAt: T, recordedAt: T + 5 });
    const item = await rawItem(knownGoodKey(APP, GROUP));
    expect(item?.[KnownGoodAttribute.VERSION]).toEqual({ S: '7' });
    // A known-good record never expires: a group that deploys twice a year keeps its rollback target.
    expect(item?.[StateTableSchema.TTL_ATTRIBUTE]).toBeUndefined();
  });

  it('a version without a fingerprint is stored without one', async () => {
    await store.put(APP, GROUP, { version: '3' }, { deploymentId: 'd-AAAAAAAA3', completedAt: T }, T);
    await expect(store.get(APP, GROUP)).resolves.toMatchObject({ version: '3', integrity: undefined });
  });

  it('a later deployment replaces the record', async () => {
    await store.put(APP, GROUP, { version: '1' }, { deploymentId: 'd-AAAAAAAA1', completedAt: T }, T);
    await expect(store.put(APP, GROUP, { version: '2' }, { deploymentId: 'd-AAAAAAAA2', completedAt: T + 600 }, T + 601)).resolves.toEqual({ recorded: true });
    await expect(store.get(APP, GROUP)).resolves.toMatchObject({ version: '2', deploymentId: 'd-AAAAAAAA2' });
  });

  it('the conditional put rejects a stale write: an older deployment’s SUCCESS delivered late (written later) never overwrites the newer record', async () => {
    await store.put(APP, GROUP, { version: '2', integrity: 'sha-2' }, { deploymentId: 'd-AAAAAAAA2', completedAt: T + 600 }, T + 601);

    // The older deployment completed first, but its event is processed an hour later (a redrive).
    const late = await store.put(APP, GROUP, { version: '1', integrity: 'sha-1' }, { deploymentId: 'd-AAAAAAAA1', completedAt: T }, T + 3_600);

    expect(late).toEqual({ recorded: false, standing: expect.objectContaining({ version: '2', deploymentId: 'd-AAAAAAAA2', deployedAt: T + 600 }) });
    await expect(store.get(APP, GROUP)).resolves.toEqual({ version: '2', integrity: 'sha-2', deploymentId: 'd-AAAAAAAA2', deployedAt: T + 600, recordedAt: T + 601 });
  });

  it('a repeat of the same deployment’s event is idempotent; another deployment with the same completion time is refused', async () => {
    await store.put(APP, GROUP, { version: '2' }, { deploymentId: 'd-AAAAAAAA2', completedAt: T }, T);
    await expect(store.put(APP, GROUP, { version: '2' }, { deploymentId: 'd-AAAAAAAA2', completedAt: T }, T + 30)).resolves.toEqual({ recorded: true });
    await expect(store.put(APP, GROUP, { version: '9' }, { deploymentId: 'd-AAAAAAAA9', completedAt: T }, T + 30)).resolves.toMatchObject({ recorded: false });
    await expect(store.get(APP, GROUP)).resolves.toMatchObject({ version: '2', recordedAt: T + 30 });
  });

  it('a record without a completion time (written by an older release) is replaced', async () => {
    await db.client.send(
      new PutItemCommand({ TableName: table, Item: { pk: { S: knownGoodKey(APP, GROUP) }, version: { S: '1' }, deploymentId: { S: 'd-OLDFORMAT' }, recordedAt: { N: String(T) } } }),
    );
    await expect(store.put(APP, GROUP, { version: '2' }, { deploymentId: 'd-AAAAAAAA2', completedAt: T - 60 }, T + 1)).resolves.toEqual({ recorded: true });
    await expect(store.get(APP, GROUP)).resolves.toMatchObject({ version: '2' });
  });

  it('groups are separate, and a # inside a name cannot make two groups share a record', async () => {
    await store.put('a#b', 'c', { version: '1' }, { deploymentId: 'd-AAAAAAAA1', completedAt: T }, T);
    await expect(store.get('a', 'b#c')).resolves.toBeUndefined();
    await expect(store.get(APP, 'other-dg')).resolves.toBeUndefined();
    await expect(store.get('a#b', 'c')).resolves.toMatchObject({ version: '1' });
  });

  it('a record that exists but cannot be understood throws instead of reading as "none recorded"', async () => {
    await db.client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: knownGoodKey(APP, GROUP) }, integrity: { S: 'sha' } } }));
    await expect(store.get(APP, GROUP)).rejects.toBeInstanceOf(MalformedRecordError);
  });
});

describe('first bad signal', () => {
  it('keeps the earliest moment (conditional put), whatever order the signals arrive in', async () => {
    await expect(store.firstBadSignal('d-AAAAAAAA1')).resolves.toBeUndefined();
    await expect(store.recordFirstBadSignal('d-AAAAAAAA1', T + 200)).resolves.toBe(true);
    await expect(store.recordFirstBadSignal('d-AAAAAAAA1', T + 300)).resolves.toBe(false);
    await expect(store.recordFirstBadSignal('d-AAAAAAAA1', T + 200)).resolves.toBe(false);
    await expect(store.firstBadSignal('d-AAAAAAAA1')).resolves.toBe(T + 200);
    await expect(store.recordFirstBadSignal('d-AAAAAAAA1', T + 100)).resolves.toBe(true);
    await expect(store.firstBadSignal('d-AAAAAAAA1')).resolves.toBe(T + 100);
    // Another deployment's signal is its own.
    await expect(store.firstBadSignal('d-AAAAAAAA2')).resolves.toBeUndefined();
    // The record expires (TTL) a month after the signal.
    expect((await rawItem(badSignalKey('d-AAAAAAAA1')))?.[StateTableSchema.TTL_ATTRIBUTE]).toEqual({ N: String(T + 100 + BAD_SIGNAL_RETENTION_SECONDS) });
  });
});

describe('read and write errors are never "none"', () => {
  it('a read that fails (nothing listens on the endpoint) → get and firstBadSignal throw', async () => {
    const broken = new KnownGoodStore(dynamoClient(await closedEndpoint()), table);
    await expect(broken.get(APP, GROUP)).rejects.toThrow();
    await expect(broken.firstBadSignal('d-AAAAAAAA1')).rejects.toThrow();
  });

  it('a missing table is an error, not an empty answer or a refused condition', async () => {
    const missing = new KnownGoodStore(db.client, 'no-such-table');
    await expect(missing.get(APP, GROUP)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(missing.put(APP, GROUP, { version: '1' }, { deploymentId: 'd-AAAAAAAA1', completedAt: T }, T)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(missing.recordFirstBadSignal('d-AAAAAAAA1', T)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});
