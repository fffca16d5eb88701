/**
 * KnownGoodStore against dynalite: the condition expressions are evaluated by a DynamoDB
 * implementation, not by a hand-written fake.
 */
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { ACTION_CLAIM_RETENTION_SECONDS, BAD_SIGNAL_RETENTION_SECONDS, KnownGoodAttribute, StateTableSchema, actionClaimKey, actionClaimTableKey, badSignalKey, knownGoodKey } from '../../lib/core';
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

describe('action claims (a guard window’s or a secondary action’s one action)', () => {
  const GUARD_CLAIM = actionClaimKey('guard', 'd-AAAAAAAA1');

  it('unclaimed → undefined; the first claim wins, every later one is refused and changes nothing', async () => {
    await expect(store.actionClaim(GUARD_CLAIM)).resolves.toBeUndefined();
    await expect(store.claimAction(GUARD_CLAIM, T + 10)).resolves.toBe(true);
    // A retried step, or an execution redriven an hour later.
    await expect(store.claimAction(GUARD_CLAIM, T + 10)).resolves.toBe(false);
    await expect(store.claimAction(GUARD_CLAIM, T + 3_600)).resolves.toBe(false);
    await expect(store.actionClaim(GUARD_CLAIM)).resolves.toEqual({ claimedAt: T + 10 });
    // The claim outlives any retry or redrive, then expires (TTL).
    expect((await rawItem(actionClaimTableKey(GUARD_CLAIM)))?.[StateTableSchema.TTL_ATTRIBUTE]).toEqual({ N: String(T + 10 + ACTION_CLAIM_RETENTION_SECONDS) });
  });

  it('claims are per flow and per deployment', async () => {
    await store.claimAction(GUARD_CLAIM, T);
    await expect(store.claimAction(actionClaimKey('secondary', 'd-AAAAAAAA1'), T)).resolves.toBe(true);
    await expect(store.claimAction(actionClaimKey('guard', 'd-AAAAAAAA2'), T)).resolves.toBe(true);
  });

  it('concurrent claimers (separate clients, all at once): exactly one wins', async () => {
    const clients = Array.from({ length: 12 }, () => dynamoClient(db.endpoint));
    const won = await Promise.all(clients.map((c, i) => new KnownGoodStore(c, table).claimAction(GUARD_CLAIM, T + i))).finally(() => clients.forEach((c) => c.destroy()));
    expect(won.filter(Boolean)).toHaveLength(1);
    // The stored claim is the winner's.
    await expect(store.actionClaim(GUARD_CLAIM)).resolves.toEqual({ claimedAt: T + won.indexOf(true) });
  });

  it('the result is undefined until recorded, then read back; the claim stands', async () => {
    await store.claimAction(GUARD_CLAIM, T);
    await expect(store.actionClaim(GUARD_CLAIM)).resolves.toEqual({ claimedAt: T });
    await store.recordActionResult(GUARD_CLAIM, 'd-ROLLBACK9');
    await expect(store.actionClaim(GUARD_CLAIM)).resolves.toEqual({ claimedAt: T, result: 'd-ROLLBACK9' });
    await expect(store.claimAction(GUARD_CLAIM, T + 60)).resolves.toBe(false);
  });

  it('a result without a claim is refused and creates no claim (it would block the action for good)', async () => {
    await expect(store.recordActionResult(GUARD_CLAIM, 'd-ROLLBACK9')).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    await expect(store.actionClaim(GUARD_CLAIM)).resolves.toBeUndefined();
    await expect(store.claimAction(GUARD_CLAIM, T)).resolves.toBe(true);
  });

  it('a claim item without its time throws instead of reading as unclaimed', async () => {
    await db.client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: actionClaimTableKey(GUARD_CLAIM) } } }));
    await expect(store.actionClaim(GUARD_CLAIM)).rejects.toBeInstanceOf(MalformedRecordError);
  });

  it('a missing table is an error, never a claim won or refused', async () => {
    const missing = new KnownGoodStore(db.client, 'no-such-table');
    await expect(missing.claimAction(GUARD_CLAIM, T)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(missing.actionClaim(GUARD_CLAIM)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });
});

describe('action claims carry the attempt that wrote them', () => {
  it('the owner token is kept, so an attempt whose claim write was applied but not answered knows the claim is its own', async () => {
    const claim = actionClaimKey('guard', 'd-AAAAAAAA7');
    await expect(store.claimAction(claim, T, 'attempt-1')).resolves.toBe(true);
    await expect(store.claimAction(claim, T, 'attempt-1')).resolves.toBe(false);
    await expect(store.actionClaim(claim)).resolves.toEqual({ claimedAt: T, owner: 'attempt-1' });
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
