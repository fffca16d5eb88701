import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { POLICY_METADATA_TYPE, RollbackPolicy, policyFromEntries } from '../core';
import { ASSEMBLY_ERROR, InputError } from './input-error';
import { CheckedEntry, checkPolicyEntry, checkStackPolicy } from './policy-metadata';
import { parseJsonText, readTextFile } from './text-file';

/**
 * Reads the rollback policy of every stack in a cloud assembly directory (`cdk.out`), following
 * nested assemblies (stages). Stack metadata sits inline in `manifest.json` or, in newer
 * assemblies, in the artifact's `additionalMetadataFile`.
 *
 * Every problem is an {@link InputError} naming the file: a missing or malformed manifest or
 * metadata file, a manifest without the shape `cdk synth` writes (RT714), a policy entry that is
 * malformed or contradicts itself (RT715, see policy-metadata.ts). Only the fields this reads are
 * checked: the rest of the cloud assembly schema belongs to the CDK. Policy fields this version
 * does not know go to `warn`.
 */
export function readPolicies(assemblyDir: string, warn: (message: string) => void = () => undefined): RollbackPolicy[] {
  // `plan cdk.out/manifest.json` means the assembly the manifest is in.
  const dir = basename(assemblyDir) === 'manifest.json' && isFile(assemblyDir) ? dirname(assemblyDir) : assemblyDir;
  if (isFile(dir)) {
    throw new InputError('is a file, not a cloud assembly directory; give the directory "cdk synth" writes (cdk.out)', dir, undefined, undefined, ASSEMBLY_ERROR);
  }
  const stacks = readAssembly(dir, warn, []);
  // A rollback trigger may judge SLOs of another stack: look them up in the whole assembly.
  const allEntries = stacks.flatMap((s) => s.entries);
  for (const s of stacks) checkStackPolicy(s.entries, allEntries);
  return stacks.map((s) => policyFromEntries(s.entries.map((e) => ({ schemaVersion: 1, entry: e.entry })), s.stack));
}

interface StackEntries {
  readonly stack: string;
  readonly entries: readonly CheckedEntry[];
}

function readAssembly(assemblyDir: string, warn: (message: string) => void, parents: readonly string[]): StackEntries[] {
  const manifestPath = join(assemblyDir, 'manifest.json');
  if (!isFile(manifestPath) && !isDirectory(manifestPath)) {
    throw new InputError(`${manifestPath} not found — run "cdk synth" first, or pass the cloud assembly directory`, undefined, undefined, undefined, ASSEMBLY_ERROR);
  }
  const real = realpathSync(assemblyDir);
  if (parents.includes(real)) {
    throw new InputError(`nests the cloud assembly ${parents[parents.length - 1]} in itself (a directoryName that points back up); a stage's assembly is a subdirectory`, manifestPath, undefined, undefined, ASSEMBLY_ERROR);
  }
  const manifest = readJsonObject(manifestPath, 'a cloud assembly manifest (manifest.json, as "cdk synth" writes it)');
  const artifacts = manifest.artifacts ?? {};
  if (!isObject(artifacts)) fail(manifestPath, undefined, 'artifacts', `must be an object of artifacts by id, got ${describe(artifacts)}`);
  const policies: StackEntries[] = [];
  for (const [id, artifact] of Object.entries(artifacts)) {
    const where = `artifacts[${JSON.stringify(id)}]`;
    if (!isObject(artifact)) fail(manifestPath, where, undefined, `must be an object { type, … }, got ${describe(artifact)}`);
    if (typeof artifact.type !== 'string') fail(manifestPath, where, 'type', `must be the artifact type (a string such as "aws:cloudformation:stack"), got ${describe(artifact.type)}`);
    if (artifact.type === 'cdk:cloud-assembly') {
      const directoryName = isObject(artifact.properties) ? artifact.properties.directoryName : undefined;
      if (directoryName === undefined) continue;
      if (typeof directoryName !== 'string' || directoryName.trim() === '') {
        fail(manifestPath, where, 'properties.directoryName', `must be the nested assembly's directory (a non-empty string), got ${describe(directoryName)}`);
      }
      policies.push(...readAssembly(join(assemblyDir, directoryName), warn, [...parents, real]));
      continue;
    }
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    const stack = typeof artifact.displayName === 'string' && artifact.displayName !== '' ? artifact.displayName : id;
    const entries: CheckedEntry[] = [];
    if (artifact.metadata !== undefined) {
      if (!isObject(artifact.metadata)) fail(manifestPath, where, 'metadata', `must be an object of metadata entries by construct path, got ${describe(artifact.metadata)}`);
      entries.push(...policyEntries(artifact.metadata, manifestPath, `${where}.metadata`, warn));
    }
    if (artifact.additionalMetadataFile !== undefined) {
      const name = artifact.additionalMetadataFile;
      if (typeof name !== 'string' || name.trim() === '') fail(manifestPath, where, 'additionalMetadataFile', `must be the name of the stack's metadata file, got ${describe(name)}`);
      const file = join(assemblyDir, name);
      entries.push(...policyEntries(readJsonObject(file, `the metadata of stack ${stack} (a JSON object of metadata entries by construct path)`), file, '', warn));
    }
    if (entries.length > 0) policies.push({ stack, entries });
  }
  return policies;
}

/** The policy entries of one metadata object (`{ "/Stack/Slo": [ { type, data }, … ] }`), each checked. */
function policyEntries(metadata: Record<string, unknown>, file: string, prefix: string, warn: (message: string) => void): CheckedEntry[] {
  const entries: CheckedEntry[] = [];
  for (const [path, list] of Object.entries(metadata)) {
    const at = `${prefix}[${JSON.stringify(path)}]`;
    if (!Array.isArray(list)) fail(file, at.replace(/^\./, ''), undefined, `must be an array of metadata entries { type, data }, got ${describe(list)}`);
    list.forEach((m, i) => {
      const where = `${at}[${i}]`.replace(/^\./, '');
      if (!isObject(m)) fail(file, where, undefined, `must be a metadata entry { type, data }, got ${describe(m)}`);
      if (m.type !== POLICY_METADATA_TYPE) return;
      entries.push({ entry: checkPolicyEntry(m.data, { file, where }, warn), at: { file, where } });
    });
  }
  return entries;
}

function readJsonObject(file: string, what: string): Record<string, unknown> {
  const doc = parseJsonText(file, readTextFile(file, what), what);
  if (!isObject(doc)) fail(file, undefined, undefined, `must be a JSON object (${what}), got ${describe(doc)}`);
  return doc;
}

function fail(file: string, where: string | undefined, field: string | undefined, rule: string): never {
  throw new InputError(rule, file, where === '' ? undefined : where, field, ASSEMBLY_ERROR);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return JSON.stringify(value) ?? String(value);
}
