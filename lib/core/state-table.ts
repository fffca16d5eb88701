/**
 * The state table's schema, shared by the construct that creates the DynamoDB table and the
 * Lambda handlers that read and write it (so neither spells a key or an attribute twice).
 *
 * Since the bake runs on Step Functions, the table keeps only what must outlive one execution:
 * - the known-good version of each deployment group (written on the deployment's SUCCESS event,
 *   read by the BeforeAllowTraffic checks and, later, by the guard window);
 * - the first bad signal of a deployment (the earliest moment it was judged bad), from which the
 *   rollback's time to recovery is measured.
 * Deciding once per hook execution is the Step Functions execution name's job, not the table's.
 */
export const StateTableSchema = {
  /** Partition key (string); the table has no sort key. */
  PARTITION_KEY: 'pk',
  /** DynamoDB TTL attribute (epoch seconds). Known-good records carry none: they never expire. */
  TTL_ATTRIBUTE: 'expiresAt',
} as const;

/** Attributes of a known-good record (key {@link knownGoodKey}). */
export const KnownGoodAttribute = {
  /** Lambda version number, or ECS task definition ARN. */
  VERSION: 'version',
  /** Lambda CodeSha256, or the container images of the ECS task definition. */
  INTEGRITY: 'integrity',
  /** The deployment that made this version live. */
  DEPLOYMENT_ID: 'deploymentId',
  /**
   * Epoch seconds at which that deployment completed (CodeDeploy's `completeTime`): the order of
   * known-good records. CodeDeploy runs one deployment at a time per deployment group, so a later
   * completion is a later release, whatever order the SUCCESS events arrive in.
   */
  DEPLOYED_AT: 'deployedAt',
  /** Epoch seconds at which the record was written (for humans; not used for ordering). */
  RECORDED_AT: 'recordedAt',
  /**
   * The record this one replaced (version, integrity, deployment): when the recorded release itself
   * turns bad after its success (the guard window), the version to go back to is this one.
   */
  PREVIOUS_VERSION: 'previousVersion',
  PREVIOUS_INTEGRITY: 'previousIntegrity',
  PREVIOUS_DEPLOYMENT_ID: 'previousDeploymentId',
} as const;

/** Attributes of a first-bad-signal record (key {@link badSignalKey}). */
export const BadSignalAttribute = {
  /** Epoch seconds of the earliest bad signal seen for the deployment. */
  FIRST_BAD_AT: 'firstBadAt',
} as const;

/** Bad-signal records expire (TTL) this long after the signal: long enough for any rollback. */
export const BAD_SIGNAL_RETENTION_SECONDS = 30 * 86_400;

/**
 * Partition key of a deployment group's known-good record. Each name is URI-encoded, so a `#`
 * inside a name cannot make two groups share a key (`a#b` + `c` vs `a` + `b#c`).
 */
export function knownGoodKey(applicationName: string, deploymentGroupName: string): string {
  return `knowngood#${encodeURIComponent(applicationName)}#${encodeURIComponent(deploymentGroupName)}`;
}

/** Attributes of a circuit-breaker record (key {@link breakerKey}): lib/core/breaker.ts's BreakerRecord. */
export const BreakerAttribute = {
  /** JSON array of `{ deploymentId, at }`: the rollbacks within the window. */
  ROLLBACKS: 'rollbacks',
  /** Epoch seconds the breaker opened; absent while closed. */
  OPENED_AT: 'openedAt',
  /** Epoch seconds the breaker last closed: rollbacks before it no longer count. */
  CLEARED_AT: 'clearedAt',
  /** The record's version: every write is conditional on the one it read. */
  VERSION: 'version',
} as const;

/** Partition key of a deployment group's circuit-breaker record. */
export function breakerKey(applicationName: string, deploymentGroupName: string): string {
  return `breaker#${encodeURIComponent(applicationName)}#${encodeURIComponent(deploymentGroupName)}`;
}

/** Partition key of a deployment's first-bad-signal record. */
export function badSignalKey(deploymentId: string): string {
  return `badsignal#${encodeURIComponent(deploymentId)}`;
}

/** Attributes of an action claim (key {@link actionClaimTableKey}): a guard window's or a secondary action's one action. */
export const ActionClaimAttribute = {
  /** Epoch seconds the action was claimed (before AWS was called). */
  CLAIMED_AT: 'claimedAt',
  /** What was done, once AWS answered: the rollback deployment's id, or the alias's new version. */
  RESULT: 'result',
  /**
   * A random token of the attempt that claimed it: a claim whose write was applied but whose answer
   * was lost (then refused when resent) is still that attempt's own.
   */
  OWNER: 'owner',
} as const;

/** Action claims expire this long after the claim: far beyond any retry or redrive of the execution. */
export const ACTION_CLAIM_RETENTION_SECONDS = 90 * 86_400;

/** Partition key of an action claim (`guard:d-…` or `secondary:d-…`, lib/core/follow-up.ts `actionClaimKey`). */
export function actionClaimTableKey(claim: string): string {
  return `action#${encodeURIComponent(claim)}`;
}
