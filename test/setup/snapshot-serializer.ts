import { expect } from 'vitest';

// Asset hashes and the CDK version change with every upgrade of aws-cdk-lib; strip them so
// snapshots only change when what the library renders changes (as cdk-monitoring-constructs does).
const ASSET_HASH = /[0-9a-f]{64}(\.zip|\.json)?/g;
const HAS_ASSET_HASH = /[0-9a-f]{64}/; // no /g: test() on a global regex is stateful

expect.addSnapshotSerializer({
  test: (value: unknown) => typeof value === 'string' && HAS_ASSET_HASH.test(value),
  serialize: (value: string, config, indentation, depth, refs, printer) =>
    printer(value.replace(ASSET_HASH, (_, ext: string | undefined) => `[HASH REMOVED]${ext ?? ''}`), config, indentation, depth, refs),
});
