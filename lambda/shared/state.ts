import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { KnownGood } from '../../lib/core';

/** A decision as stored: what was decided once for a hook execution, and whether it was reported. */
export interface StoredDecision {
  readonly status: 'Succeeded' | 'Failed';
  readonly verdict: string;
  readonly reasons: readonly string[];
  readonly decidedAt: number;
}

export interface HookRecord {
  readonly deploymentId: string;
  /** When the hook was first invoked (epoch seconds): CodeDeploy's one-hour clock. */
  readonly hookStartedAt: number;
  readonly leaseUntil: number;
  readonly sequence: number;
  readonly decision?: StoredDecision;
  readonly reported: boolean;
  /** The invocation that claimed or last took over the hook (tells its own lost write from a rival's). */
  readonly leaseOwner?: string;
}

export type Claim = { readonly kind: 'new'; readonly record: HookRecord } | { readonly kind: 'existing'; readonly record: HookRecord };

const DAY = 86_400;

/**
 * The state table. Every write that decides something is conditional, so duplicate or concurrent
 * invocations for one hook execution decide once and never differently (CodeDeploy does not
 * document whether it invokes hooks synchronously; expect duplicates).
 */
export class StateStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  /**
   * `owner` identifies the calling invocation: when the conditional put fails because an earlier
   * attempt of this very call was written but its response was lost (a timeout, or the SDK's own
   * retry), the claim is still ours.
   */
  async claim(hookId: string, deploymentId: string, now: number, leaseSeconds: number, owner: string): Promise<Claim> {
    const record: HookRecord = { deploymentId, hookStartedAt: now, leaseUntil: now + leaseSeconds, sequence: 0, reported: false, leaseOwner: owner };
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: {
            pk: { S: hookKey(hookId) },
            deploymentId: { S: deploymentId },
            hookStartedAt: { N: String(now) },
            leaseUntil: { N: String(record.leaseUntil) },
            sequence: { N: '0' },
            reported: { BOOL: false },
            leaseOwner: { S: owner },
            expiresAt: { N: String(now + 30 * DAY) },
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return { kind: 'new', record };
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException) && (e as Error).name !== 'ConditionalCheckFailedException') throw e;
      const existing = await this.getHook(hookId);
      if (!existing) throw new Error(`hook record ${hookId} vanished after a conditional check failure`);
      if (existing.leaseOwner === owner && !existing.decision) return { kind: 'new', record: existing };
      return { kind: 'existing', record: existing };
    }
  }

  async getHook(hookId: string): Promise<HookRecord | undefined> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: { pk: { S: hookKey(hookId) } }, ConsistentRead: true }));
    const item = out.Item;
    if (!item) return undefined;
    return {
      deploymentId: item.deploymentId?.S ?? '',
      hookStartedAt: Number(item.hookStartedAt?.N ?? 0),
      leaseUntil: Number(item.leaseUntil?.N ?? 0),
      sequence: Number(item.sequence?.N ?? 0),
      decision: item.decision?.S ? (JSON.parse(item.decision.S) as StoredDecision) : undefined,
      reported: item.reported?.BOOL ?? false,
      leaseOwner: item.leaseOwner?.S,
    };
  }

  /** Takes the bake over from an expired lease or a continuation; false when another invocation won. */
  async takeOver(hookId: string, expectedSequence: number, leaseUntil: number, owner: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { pk: { S: hookKey(hookId) } },
          UpdateExpression: 'SET #seq = :next, leaseUntil = :lease, leaseOwner = :owner',
          ConditionExpression: '#seq = :expected AND attribute_not_exists(decision)',
          ExpressionAttributeNames: { '#seq': 'sequence' },
          ExpressionAttributeValues: {
            ':next': { N: String(expectedSequence + 1) },
            ':expected': { N: String(expectedSequence) },
            ':lease': { N: String(leaseUntil) },
            ':owner': { S: owner },
          },
        }),
      );
      return true;
    } catch (e) {
      if ((e as Error).name !== 'ConditionalCheckFailedException') throw e;
      // An earlier attempt of this call may have been written with its response lost: then we won.
      const current = await this.getHook(hookId);
      return current?.leaseOwner === owner && current.sequence === expectedSequence + 1;
    }
  }

  /** Stores the decision unless one exists; returns the decision that stands. */
  async decide(hookId: string, decision: StoredDecision): Promise<StoredDecision> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: { pk: { S: hookKey(hookId) } },
          // Also sets the expiry: a decision may be the record's first write (rollback hooks, or a
          // claim that failed), and every record expires 30 days after it was decided.
          UpdateExpression: 'SET decision = :d, expiresAt = :exp',
          ConditionExpression: 'attribute_not_exists(decision)',
          ExpressionAttributeValues: { ':d': { S: JSON.stringify(decision) }, ':exp': { N: String(Math.round(decision.decidedAt) + 30 * DAY) } },
        }),
      );
      return decision;
    } catch (e) {
      if ((e as Error).name !== 'ConditionalCheckFailedException') throw e;
      const standing = (await this.getHook(hookId))?.decision;
      if (!standing) throw new Error(`hook ${hookId}: decision condition failed but no decision is stored`);
      return standing;
    }
  }

  async markReported(hookId: string): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { pk: { S: hookKey(hookId) } },
        UpdateExpression: 'SET reported = :t',
        ExpressionAttributeValues: { ':t': { BOOL: true } },
      }),
    );
  }

  async getKnownGood(application: string, group: string): Promise<KnownGood | undefined> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: { pk: { S: knownGoodKey(application, group) } }, ConsistentRead: true }));
    if (!out.Item?.version?.S) return undefined;
    return { version: out.Item.version.S, integrity: out.Item.integrity?.S };
  }

  async putKnownGood(application: string, group: string, knownGood: KnownGood, deploymentId: string, now: number): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: {
          pk: { S: knownGoodKey(application, group) },
          version: { S: knownGood.version },
          ...(knownGood.integrity !== undefined ? { integrity: { S: knownGood.integrity } } : {}),
          deploymentId: { S: deploymentId },
          recordedAt: { N: String(now) },
        },
      }),
    );
  }

  /** Remembers the first moment a deployment was judged bad (for time to recovery); keeps the earliest. */
  async recordFirstBadSignal(deploymentId: string, at: number): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: { pk: { S: `badsignal#${deploymentId}` }, at: { N: String(at) }, expiresAt: { N: String(at + 30 * DAY) } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (e) {
      if ((e as Error).name !== 'ConditionalCheckFailedException') throw e;
    }
  }

  async firstBadSignal(deploymentId: string): Promise<number | undefined> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: { pk: { S: `badsignal#${deploymentId}` } } }));
    return out.Item?.at?.N ? Number(out.Item.at.N) : undefined;
  }
}

function hookKey(hookId: string): string {
  return `hook#${hookId}`;
}

function knownGoodKey(application: string, group: string): string {
  return `knowngood#${application}#${group}`;
}
