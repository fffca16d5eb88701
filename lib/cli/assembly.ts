import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { POLICY_METADATA_TYPE, RollbackPolicy, policyFromEntries } from '../core';

interface MetadataEntry {
  readonly type: string;
  readonly data?: unknown;
}

interface ArtifactManifest {
  readonly type: string;
  readonly displayName?: string;
  readonly metadata?: Record<string, MetadataEntry[]>;
  readonly additionalMetadataFile?: string;
  readonly properties?: { readonly directoryName?: string };
}

/**
 * Reads the rollback policy of every stack in a cloud assembly directory (`cdk.out`), following
 * nested assemblies (stages). Stack metadata sits inline in `manifest.json` or, in newer
 * assemblies, in the artifact's `additionalMetadataFile`.
 */
export function readPolicies(assemblyDir: string): RollbackPolicy[] {
  const manifestPath = join(assemblyDir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new Error(`${manifestPath} not found — run "cdk synth" first, or pass the cloud assembly directory`);
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { artifacts?: Record<string, ArtifactManifest> };
  const policies: RollbackPolicy[] = [];
  for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type === 'cdk:cloud-assembly' && artifact.properties?.directoryName) {
      policies.push(...readPolicies(join(assemblyDir, artifact.properties.directoryName)));
      continue;
    }
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const metadata: Record<string, MetadataEntry[]> = { ...(artifact.metadata ?? {}) };
    if (artifact.additionalMetadataFile) {
      Object.assign(metadata, JSON.parse(readFileSync(join(assemblyDir, artifact.additionalMetadataFile), 'utf8')));
    }
    const entries = Object.values(metadata)
      .flat()
      .filter((m) => m.type === POLICY_METADATA_TYPE)
      .map((m) => m.data);
    if (entries.length > 0) policies.push(policyFromEntries(entries, artifact.displayName ?? id));
  }
  return policies;
}
