import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KnownGood } from '../../lib/core/decision';
import { type BreakerRecord, EMPTY_BREAKER } from '../../lib/core/breaker';
import { ACTION_CLAIM_RETENTION_SECONDS, ActionClaimAttribute, BAD_SIGNAL_RETENTION_SECONDS, BadSignalAttribute, BreakerAttribute, KnownGoodAttribute, StateTableSchema, badSignalKey, actionClaimTableKey, breakerKey, knownGoodKey } from '../../lib/core/state-table';

/** A known-good record as stored: the version, and which deployment made it live and when. */
export interface KnownGoodRecord extends KnownGood {
  readonly deploymentId?: string;
  /** Epoch seconds the deployment completed (the records' order). */
  readonly deployedAt?: number;
  /** Epoch seconds the record was written. */
  readonly recordedAt?: number;
  /** The record this one replaced: what to go back to when this version turns bad after its success. */
  readonly previous?: KnownGood & { readonly deploymentId?: string };
}

/** The deployment whose success makes a version known-good. */
export interface KnownGoodSource {
  readonly deploymentId: string;
  /**
   * Epoch seconds the deployment completed (GetDeployment `completeTime`). Records are ordered by
   * it: CodeDeploy runs one deployment at a time per deployment group, so a later completion is
   * the later release, however late its SUCCESS event is delivered (EventBridge retries, a DLQ
   * redrive).
   */
  readonly completedAt: number;
}

export type PutKnownGoodResult =
  | { readonly recorded: true }
  /** A record of a later deployment stands (this event arrived late): nothing was written. */
  | { readonly recorded: false; readonly standing?: KnownGoodRecord };

/** A record exists but cannot be understood: never to be read as "none recorded". */
export class MalformedRecordError extends Error {
  override readonly name = 'MalformedRecordError';
}

const PK = StateTableSchema.PARTITION_KEY;
const TTL = StateTableSchema.TTL_ATTRIBUTE;
const A = KnownGoodAttribute;

function isConditionFailed(e: unknown): boolean {
  return (e as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';
}

/** Loaded on first use: a handler that never touches the table never loads the DynamoDB client. */
const commands = () => import('@aws-sdk/client-dynamodb');

function optionalNumber(item: Record<string, AttributeValue>, name: string, key: string): number | undefined {
  const value = item[name];
  if (value === undefined) return undefined;
  const n = value.N !== undefined ? Number(value.N) : NaN;
  if (!Number.isFinite(n)) throw new MalformedRecordError(`state table item ${key}: ${name} is not a number`);
  return n;
}

/**
 * The DynamoDB state table (schema: lib/core/state-table.ts): the known-good version of each
 * deployment group, and the first bad signal of each deployment (for time to recovery).
 *
 * Every method makes one request and lets its error through: the caller retries within its own
 * time budget. In particular a failed or unintelligible read THROWS: an unreadable known-good
 * record must never read as "none recorded" (the BeforeAllowTraffic check would then pass a
 * tampered known-good version).
 */
export class KnownGoodStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly table: string,
  ) {}

  /** The group's known-good version; `undefined` only when the table answered that none exists. */
  async get(applicationName: string, deploymentGroupName: string): Promise<KnownGoodRecord | undefined> {
    const { GetItemCommand } = await commands();
    const key = knownGoodKey(applicationName, deploymentGroupName);
    const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: { [PK]: { S: key } }, ConsistentRead: true }));
    const item = out.Item;
    if (!item) return undefined;
    const version = item[A.VERSION]?.S;
    if (!version) throw new MalformedRecordError(`known-good record ${key} has no ${A.VERSION}`);
    const integrity = item[A.INTEGRITY];
    if (integrity !== undefined && integrity.S === undefined) throw new MalformedRecordError(`known-good record ${key}: ${A.INTEGRITY} is not a string`);
    const previousVersion = item[A.PREVIOUS_VERSION]?.S;
    return {
      version,
      integrity: integrity?.S,
      deploymentId: item[A.DEPLOYMENT_ID]?.S,
      deployedAt: optionalNumber(item, A.DEPLOYED_AT, key),
      recordedAt: optionalNumber(item, A.RECORDED_AT, key),
      ...(previousVersion
        ? { previous: { version: previousVersion, integrity: item[A.PREVIOUS_INTEGRITY]?.S, ...(item[A.PREVIOUS_DEPLOYMENT_ID]?.S ? { deploymentId: item[A.PREVIOUS_DEPLOYMENT_ID].S } : {}) } }
        : {}),
    };
  }

  /**
   * Records `knownGood` for the group unless a later deployment's record stands. Conditional on
   * the deployments' completion times, not on when the record is written: a late SUCCESS event of
   * an older deployment (retried, or redriven from the DLQ hours later) is written later but must
   * not replace the newer version. A repeat of the same deployment's event rewrites its own record
   * (idempotent); a record without a completion time (written by an older release of this
   * library) is replaced.
   */
  async put(
    applicationName: string,
    deploymentGroupName: string,
    knownGood: KnownGood,
    source: KnownGoodSource,
    now: number,
    previous?: KnownGood & { readonly deploymentId?: string },
  ): Promise<PutKnownGoodResult> {
    const written = await this.putIf(
      {
        [PK]: { S: knownGoodKey(applicationName, deploymentGroupName) },
        [A.VERSION]: { S: knownGood.version },
        ...(knownGood.integrity !== undefined ? { [A.INTEGRITY]: { S: knownGood.integrity } } : {}),
        [A.DEPLOYMENT_ID]: { S: source.deploymentId },
        [A.DEPLOYED_AT]: { N: String(source.completedAt) },
        [A.RECORDED_AT]: { N: String(now) },
        ...(previous ? { [A.PREVIOUS_VERSION]: { S: previous.version } } : {}),
        ...(previous?.integrity !== undefined ? { [A.PREVIOUS_INTEGRITY]: { S: previous.integrity } } : {}),
        ...(previous?.deploymentId !== undefined ? { [A.PREVIOUS_DEPLOYMENT_ID]: { S: previous.deploymentId } } : {}),
      },
      'attribute_not_exists(#pk) OR attribute_not_exists(#deployedAt) OR #deployedAt < :deployedAt OR (#deployedAt = :deployedAt AND #deploymentId = :deploymentId)',
      { '#pk': PK, '#deployedAt': A.DEPLOYED_AT, '#deploymentId': A.DEPLOYMENT_ID },
      { ':deployedAt': { N: String(source.completedAt) }, ':deploymentId': { S: source.deploymentId } },
    );
    if (written) return { recorded: true };
    // Only to say which record stands; failing to read it changes nothing.
    const standing = await this.get(applicationName, deploymentGroupName).catch(() => undefined);
    return { recorded: false, standing };
  }

  /**
   * Remembers the first moment a deployment was judged bad (the evaluator's Failed verdict, or the
   * deployment's failure), keeping the earliest. Returns whether this call's moment is now the
   * first (false when an earlier or equal one stands).
   */
  async recordFirstBadSignal(deploymentId: string, at: number): Promise<boolean> {
    return this.putIf(
      {
        [PK]: { S: badSignalKey(deploymentId) },
        [BadSignalAttribute.FIRST_BAD_AT]: { N: String(at) },
        [TTL]: { N: String(Math.ceil(at) + BAD_SIGNAL_RETENTION_SECONDS) },
      },
      'attribute_not_exists(#pk) OR #firstBadAt > :at',
      { '#pk': PK, '#firstBadAt': BadSignalAttribute.FIRST_BAD_AT },
      { ':at': { N: String(at) } },
    );
  }

  /** Epoch seconds of the deployment's first bad signal; `undefined` when none was recorded. */
  async firstBadSignal(deploymentId: string): Promise<number | undefined> {
    const { GetItemCommand } = await commands();
    const key = badSignalKey(deploymentId);
    const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: { [PK]: { S: key } }, ConsistentRead: true }));
    if (!out.Item) return undefined;
    const at = optionalNumber(out.Item, BadSignalAttribute.FIRST_BAD_AT, key);
    if (at === undefined) throw new MalformedRecordError(`bad-signal record ${key} has no ${BadSignalAttribute.FIRST_BAD_AT}`);
    return at;
  }

  /** The group's circuit breaker; {@link EMPTY_BREAKER} when none was ever written. */
  async getBreaker(applicationName: string, deploymentGroupName: string): Promise<BreakerRecord> {
    const { GetItemCommand } = await commands();
    const key = breakerKey(applicationName, deploymentGroupName);
    const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: { [PK]: { S: key } }, ConsistentRead: true }));
    if (!out.Item) return EMPTY_BREAKER;
    const version = optionalNumber(out.Item, BreakerAttribute.VERSION, key);
    if (version === undefined) throw new MalformedRecordError(`breaker record ${key} has no ${BreakerAttribute.VERSION}`);
    const rollbacks = out.Item[BreakerAttribute.ROLLBACKS];
    // Never read as "no rollbacks": a record of another shape is an error (never a closed breaker by accident).
    if (rollbacks !== undefined && rollbacks.S === undefined) throw new MalformedRecordError(`breaker record ${key}: ${BreakerAttribute.ROLLBACKS} is not a string`);
    const openedAt = optionalNumber(out.Item, BreakerAttribute.OPENED_AT, key);
    const clearedAt = optionalNumber(out.Item, BreakerAttribute.CLEARED_AT, key);
    return { rollbacks: parseRollbacks(rollbacks?.S, key), ...(openedAt !== undefined ? { openedAt } : {}), ...(clearedAt !== undefined ? { clearedAt } : {}), version };
  }

  /**
   * Writes `record` if the stored one is still at `record.version - 1` (optimistic locking): false
   * when another write came first, and the caller reads again.
   */
  async putBreaker(applicationName: string, deploymentGroupName: string, record: BreakerRecord): Promise<boolean> {
    const read = record.version - 1;
    return this.putIf(
      {
        [PK]: { S: breakerKey(applicationName, deploymentGroupName) },
        [BreakerAttribute.ROLLBACKS]: { S: JSON.stringify(record.rollbacks) },
        ...(record.openedAt !== undefined ? { [BreakerAttribute.OPENED_AT]: { N: String(record.openedAt) } } : {}),
        ...(record.clearedAt !== undefined ? { [BreakerAttribute.CLEARED_AT]: { N: String(record.clearedAt) } } : {}),
        [BreakerAttribute.VERSION]: { N: String(record.version) },
      },
      read === 0 ? 'attribute_not_exists(#pk)' : '#version = :read',
      read === 0 ? { '#pk': PK } : { '#version': BreakerAttribute.VERSION },
      read === 0 ? {} : { ':read': { N: String(read) } },
    );
  }

  /**
   * Claims a one-time action (`claim`: lib/core/follow-up.ts `actionClaimKey`) before AWS is called:
   * true for the first claim ever, false when one stands (a retried step, a redriven execution):
   * the action is then never taken again. CreateDeployment has no idempotency token; this is it.
   */
  async claimAction(claim: string, at: number, owner?: string): Promise<boolean> {
    return this.putIf(
      {
        [PK]: { S: actionClaimTableKey(claim) },
        [ActionClaimAttribute.CLAIMED_AT]: { N: String(at) },
        ...(owner !== undefined ? { [ActionClaimAttribute.OWNER]: { S: owner } } : {}),
        [TTL]: { N: String(Math.ceil(at) + ACTION_CLAIM_RETENTION_SECONDS) },
      },
      'attribute_not_exists(#pk)',
      { '#pk': PK },
      {},
    );
  }

  /** Records what a claimed action did (best effort: the audit says it too). */
  async recordActionResult(claim: string, result: string): Promise<void> {
    const { UpdateItemCommand } = await commands();
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.table,
        Key: { [PK]: { S: actionClaimTableKey(claim) } },
        UpdateExpression: 'SET #result = :result',
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PK, '#result': ActionClaimAttribute.RESULT },
        ExpressionAttributeValues: { ':result': { S: result } },
      }),
    );
  }

  /** What a claimed action did: undefined when unclaimed; `result` undefined when claimed and not confirmed. */
  async actionClaim(claim: string): Promise<{ claimedAt: number; result?: string; owner?: string } | undefined> {
    const { GetItemCommand } = await commands();
    const key = actionClaimTableKey(claim);
    const out = await this.client.send(new GetItemCommand({ TableName: this.table, Key: { [PK]: { S: key } }, ConsistentRead: true }));
    if (!out.Item) return undefined;
    const claimedAt = optionalNumber(out.Item, ActionClaimAttribute.CLAIMED_AT, key);
    if (claimedAt === undefined) throw new MalformedRecordError(`action claim ${key} has no ${ActionClaimAttribute.CLAIMED_AT}`);
    const result = out.Item[ActionClaimAttribute.RESULT]?.S;
    const owner = out.Item[ActionClaimAttribute.OWNER]?.S;
    return { claimedAt, ...(result !== undefined ? { result } : {}), ...(owner !== undefined ? { owner } : {}) };
  }

  /** One conditional PutItem: true when written, false when the condition held it back. */
  private async putIf(
    item: Record<string, AttributeValue>,
    condition: string,
    names: Record<string, string>,
    values: Record<string, AttributeValue>,
  ): Promise<boolean> {
    const { PutItemCommand } = await commands();
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          // DynamoDB refuses an empty ExpressionAttributeValues map.
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailed(e)) return false;
      throw e;
    }
  }
}

function parseRollbacks(text: string | undefined, key: string): BreakerRecord['rollbacks'] {
  let value: unknown;
  try {
    value = JSON.parse(text ?? '[]');
  } catch {
    throw new MalformedRecordError(`breaker record ${key}: ${BreakerAttribute.ROLLBACKS} is not JSON`);
  }
  const ok = Array.isArray(value) && value.every((r) => r && typeof r.deploymentId === 'string' && typeof r.at === 'number' && Number.isFinite(r.at));
  if (!ok) throw new MalformedRecordError(`breaker record ${key}: ${BreakerAttribute.ROLLBACKS} is not a list of { deploymentId, at }`);
  return value as BreakerRecord['rollbacks'];
}

/** What {@link updateBreaker} needs of the store. */
export interface BreakerStore {
  getBreaker(applicationName: string, deploymentGroupName: string): Promise<BreakerRecord>;
  putBreaker(applicationName: string, deploymentGroupName: string, record: BreakerRecord): Promise<boolean>;
}

/**
 * Read, change, write conditionally; on a lost race read again (a few times: one deployment group
 * has at most a handful of writers). Returns the change that was written, or undefined when
 * `change` found nothing to do.
 */
export async function updateBreaker<T extends { record: BreakerRecord }>(
  store: BreakerStore,
  applicationName: string,
  deploymentGroupName: string,
  change: (current: BreakerRecord) => T | undefined,
  attempts = 5,
): Promise<T | undefined> {
  for (let i = 0; i < attempts; i++) {
    const next = change(await store.getBreaker(applicationName, deploymentGroupName));
    if (next === undefined) return undefined;
    if (await store.putBreaker(applicationName, deploymentGroupName, next.record)) return next;
  }
  // Retryable ($retryable, as the SDK marks its own): the caller's time-bounded retry, then Lambda's, try again.
  throw Object.assign(new Error(`the circuit breaker of ${applicationName}/${deploymentGroupName} changed under ${attempts} writes in a row`), { name: 'BreakerContention', $retryable: {} });
}
