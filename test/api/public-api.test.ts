import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';

/**
 * The public API as jsii publishes it: the assembly `.jsii` that `npm run build` writes (and that
 * `npm test` builds before vitest runs). What it lists is what every jsii language and the API
 * reference see, so a change to it shows up in review as a change to `__snapshots__/public-api.txt`
 * (regenerate with `npx vitest run test/api -u` after `npm run build`).
 *
 * The documentation checks are STYLE.md's rule 3 ("every optional prop documents its default") and
 * the rule that the public API has no undocumented member (cdk-monitoring-constructs' weak spot).
 */

const ASSEMBLY = join(__dirname, '..', '..', '.jsii');

// The part of the jsii assembly schema (@jsii/spec) this test reads.
interface Docs {
  readonly summary?: string;
  readonly default?: string;
  readonly deprecated?: string;
}
type TypeReference =
  | { readonly primitive: string }
  | { readonly fqn: string }
  | { readonly collection: { readonly kind: 'array' | 'map'; readonly elementtype: TypeReference } }
  | { readonly union: { readonly types: readonly TypeReference[] } }
  | { readonly intersection: { readonly types: readonly TypeReference[] } };
interface Parameter {
  readonly name: string;
  readonly type: TypeReference;
  readonly optional?: boolean;
  readonly variadic?: boolean;
}
interface Callable {
  readonly name?: string;
  readonly docs?: Docs;
  readonly parameters?: readonly Parameter[];
  readonly returns?: { readonly type: TypeReference; readonly optional?: boolean };
  readonly static?: boolean;
  readonly protected?: boolean;
  readonly abstract?: boolean;
  readonly async?: boolean;
}
interface Property {
  readonly name: string;
  readonly docs?: Docs;
  readonly type: TypeReference;
  readonly optional?: boolean;
  readonly immutable?: boolean;
  readonly static?: boolean;
  readonly const?: boolean;
  readonly protected?: boolean;
  readonly abstract?: boolean;
}
interface JsiiType {
  readonly fqn: string;
  readonly kind: 'class' | 'interface' | 'enum';
  readonly docs?: Docs;
  readonly datatype?: boolean;
  readonly abstract?: boolean;
  readonly base?: string;
  readonly interfaces?: readonly string[];
  readonly initializer?: Callable;
  readonly methods?: readonly Callable[];
  readonly properties?: readonly Property[];
  readonly members?: ReadonlyArray<{ readonly name: string; readonly docs?: Docs }>;
}
interface Assembly {
  readonly name: string;
  readonly types?: Record<string, JsiiType>;
}

let cached: Assembly | undefined;

/** The assembly, or a failure that says how to produce it (a missing assembly is never a pass). */
function assembly(): Assembly {
  if (!cached) {
    if (!existsSync(ASSEMBLY)) {
      throw new Error(`${ASSEMBLY} is missing: run \`npm run build\` first (it bundles the handlers and compiles the jsii assembly; \`npm test\` does it for you)`);
    }
    cached = readAssembly(ASSEMBLY);
  }
  return cached;
}

/**
 * The build compresses the assembly (`jsii --compress-assembly`): `.jsii` is then a redirect
 * (`{ schema: 'jsii/file-redirect', compression: 'gzip', filename }`) to the gzipped assembly, as
 * jsii tools read it.
 */
function readAssembly(file: string): Assembly {
  const read = JSON.parse(readFileSync(file, 'utf8')) as Assembly & { schema?: string; compression?: string; filename?: string };
  if (read.schema !== 'jsii/file-redirect') return read;
  const target = join(dirname(file), read.filename!);
  const bytes = readFileSync(target);
  return JSON.parse((read.compression === 'gzip' ? gunzipSync(bytes) : bytes).toString('utf8')) as Assembly;
}

function types(): JsiiType[] {
  return Object.values(assembly().types ?? {}).sort((a, b) => compare(a.fqn, b.fqn));
}

/** Code-point order: the same on every machine and locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

// Listing ------------------------------------------------------------------------------------

function ownName(fqn: string): string {
  return fqn.startsWith(`${assembly().name}.`) ? fqn.slice(assembly().name.length + 1) : fqn;
}

/** A type reference as TypeScript would write it; this assembly's own types without their prefix. */
function typeRef(ref: TypeReference): string {
  if ('primitive' in ref) return ref.primitive;
  if ('fqn' in ref) return ownName(ref.fqn);
  if ('collection' in ref) return ref.collection.kind === 'array' ? `Array<${typeRef(ref.collection.elementtype)}>` : `Record<string, ${typeRef(ref.collection.elementtype)}>`;
  if ('union' in ref) return ref.union.types.map(typeRef).join(' | ');
  return ref.intersection.types.map(typeRef).join(' & ');
}

function modifiers(member: { static?: boolean; protected?: boolean; abstract?: boolean; docs?: Docs }, kind: 'class' | 'interface'): string {
  return [
    member.docs?.deprecated !== undefined ? '@deprecated ' : '',
    member.protected ? 'protected ' : '',
    member.static ? 'static ' : '',
    member.abstract && kind === 'class' ? 'abstract ' : '',
  ].join('');
}

function signature(callable: Callable): string {
  const params = (callable.parameters ?? []).map((p) => `${p.variadic ? '...' : ''}${p.name}${p.optional ? '?' : ''}: ${typeRef(p.type)}`);
  if (callable.name === undefined) return `(${params.join(', ')})`; // an initializer
  const returns = callable.returns ? `${typeRef(callable.returns.type)}${callable.returns.optional ? ' | undefined' : ''}` : 'void';
  return `(${params.join(', ')}): ${callable.async ? `Promise<${returns}>` : returns}`;
}

function propertyLine(p: Property, kind: 'class' | 'interface'): string {
  return `${modifiers(p, kind)}${p.immutable ? 'readonly ' : ''}${p.name}${p.optional ? '?' : ''}: ${typeRef(p.type)}`;
}

/** Statics first, then instance members, each by name. */
function byStaticThenName(a: { name?: string; static?: boolean }, b: { name?: string; static?: boolean }): number {
  return Number(!a.static) - Number(!b.static) || compare(a.name ?? '', b.name ?? '');
}

function typeHeader(t: JsiiType): string {
  const kind = t.kind === 'interface' ? (t.datatype ? 'struct' : 'interface') : t.kind === 'class' && t.abstract ? 'abstract class' : t.kind;
  const parents = [t.base ? ` extends ${ownName(t.base)}` : '', t.interfaces?.length ? ` ${t.kind === 'class' ? 'implements' : 'extends'} ${t.interfaces.map(ownName).sort(compare).join(', ')}` : ''];
  return `${t.docs?.deprecated !== undefined ? '@deprecated ' : ''}${kind} ${t.fqn}${parents.join('')}`;
}

/** One type: its header, then its members indented, in a fixed order. */
function typeListing(t: JsiiType): string[] {
  if (t.kind === 'enum') return [typeHeader(t), ...(t.members ?? []).map((m) => `  ${m.docs?.deprecated !== undefined ? '@deprecated ' : ''}${m.name}`)];
  const kind = t.kind;
  return [
    typeHeader(t),
    ...(t.initializer ? [`  ${t.initializer.protected ? 'protected ' : ''}constructor${signature(t.initializer)}`] : []),
    ...[...(t.properties ?? [])].sort(byStaticThenName).map((p) => `  ${propertyLine(p, kind)}`),
    ...[...(t.methods ?? [])].sort(byStaticThenName).map((m) => `  ${modifiers(m, kind)}${m.name}${signature(m)}`),
  ];
}

// Documentation checks ----------------------------------------------------------------------

/** `fqn` for a type, `fqn.member` for its members: every public type, property, method and enum member without a summary. */
function undocumented(t: JsiiType): string[] {
  const missing = (docs: Docs | undefined) => !docs?.summary?.trim();
  return [
    ...(missing(t.docs) ? [t.fqn] : []),
    ...[...(t.properties ?? []), ...(t.methods ?? []), ...(t.members ?? [])].filter((m) => missing(m.docs)).map((m) => `${t.fqn}.${m.name}`),
  ];
}

describe('the public API (the jsii assembly)', () => {
  it('is the API in __snapshots__/public-api.txt (an API change shows up in review)', async () => {
    const listing = types().map((t) => typeListing(t).join('\n'));
    await expect(`${listing.join('\n\n')}\n`).toMatchFileSnapshot('__snapshots__/public-api.txt');
  });

  it('documents the default of every optional property of every struct (@default)', () => {
    const offenders = types()
      .filter((t) => t.kind === 'interface' && t.datatype)
      .flatMap((t) => (t.properties ?? []).filter((p) => p.optional && !p.docs?.default?.trim()).map((p) => `${t.fqn}.${p.name}`))
      .sort(compare);
    expect(offenders, `optional struct properties without @default (write a literal, "@default 14.4", or the behaviour, "@default - a new event bus"):\n  ${offenders.join('\n  ')}\n`).toEqual([]);
  });

  it('documents every public type and member with a summary', () => {
    const offenders = types().flatMap(undocumented).sort(compare);
    expect(offenders, `public types and members without a doc comment:\n  ${offenders.join('\n  ')}\n`).toEqual([]);
  });
});
