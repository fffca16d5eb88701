#!/usr/bin/env node
/**
 * Bundles the agent runtime helper, lib/runtime/index.ts, into runtime/index.js (CommonJS, its
 * dependencies — Powertools Metrics, Ajv — inlined, so the agent installs nothing) and emits its
 * type declarations into runtime/*.d.ts. runtime/package.json (committed) points `main` and
 * `types` at them, so `require('cdk-rollback-triggers/runtime')` resolves without an "exports" field.
 *
 *   node scripts/bundle-runtime.mjs [--outdir <dir>] [--quiet]
 *
 * Deterministic the way scripts/bundle.mjs is (same esbuild options: minified CommonJS for
 * node20, no source map, legal comments in index.js.LEGAL.txt, tsconfig.dev.json's compiler
 * options passed inline so no tsconfig.json on disk is read, paths from this file's location), and
 * checked: no absolute path in the output, and neither aws-cdk-lib nor constructs bundled or
 * required — the helper runs in the agent, where neither is installed. The bundled packages'
 * license notices go to runtime/THIRD-PARTY-LICENSES.txt.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import ts from 'typescript';
import { NOTICES, packageDirOf, parseArgs, thirdPartyNotices } from './bundle.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ENTRY = 'lib/runtime/index.ts';
const SOURCE_DIR = 'lib/runtime';
/** Packages the helper must never contain or require: it runs in the agent, not in a CDK app. */
const FORBIDDEN = [/^aws-cdk-lib(\/|$)/, /^constructs(\/|$)/];
/** Output files this script owns in the output directory; anything else there (package.json) is left alone. */
const OWNED = (file) => file.endsWith('.js') || file.endsWith('.d.ts') || file.endsWith('.LEGAL.txt') || file === NOTICES;

function devCompilerOptions() {
  const devTsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.dev.json'), 'utf8'));
  if (devTsconfig.extends !== undefined) throw new Error('tsconfig.dev.json uses "extends": inline the options here, tsconfigRaw does not follow it');
  return devTsconfig.compilerOptions;
}

/** The esbuild options of scripts/bundle.mjs, for one CommonJS library entry with nothing external. */
function buildOptions() {
  return {
    absWorkingDir: ROOT,
    entryPoints: [ENTRY],
    outfile: 'out/runtime/index.js',
    write: false,
    metafile: true,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    external: [],
    sourcemap: false,
    legalComments: 'external',
    charset: 'ascii',
    tsconfigRaw: { compilerOptions: devCompilerOptions() },
    logLevel: 'silent',
  };
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

async function bundleJs() {
  const result = await esbuild.build(buildOptions());
  if (result.errors.length > 0) throw new Error(result.errors.map((e) => e.text).join('; '));
  const files = new Map(result.outputFiles.map((f) => [basename(f.path), f.contents]));
  const unexpected = [...files.keys()].filter((f) => f !== 'index.js' && f !== 'index.js.LEGAL.txt');
  if (!files.has('index.js') || unexpected.length > 0) throw new Error(`expected index.js (and index.js.LEGAL.txt), got ${[...files.keys()].join(', ')}`);
  const output = result.metafile.outputs['out/runtime/index.js'];
  const packageDirs = [...new Set(Object.keys(output.inputs).map(packageDirOf).filter(Boolean))].sort();
  const packages = [...new Set(packageDirs.map((d) => JSON.parse(readFileSync(join(ROOT, d, 'package.json'), 'utf8')).name))].sort();
  const requires = [...new Set(output.imports.filter((i) => i.external).map((i) => i.path))].sort();
  for (const name of [...packages, ...requires]) {
    if (FORBIDDEN.some((re) => re.test(name))) throw new Error(`runtime/index.js would contain or require ${name}: lib/runtime must not import aws-cdk-lib or constructs`);
  }
  const nonBuiltin = requires.filter((r) => !r.startsWith('node:') && !isBuiltin(r));
  if (nonBuiltin.length > 0) throw new Error(`runtime/index.js would require ${nonBuiltin.join(', ')} at run time: bundle it (the agent installs nothing)`);
  files.set(NOTICES, thirdPartyNotices(packageDirs, 'runtime/index.js'));
  return { files, packages, requires, warnings: result.warnings };
}

function isBuiltin(name) {
  return ['assert', 'async_hooks', 'buffer', 'console', 'crypto', 'events', 'fs', 'os', 'path', 'process', 'stream', 'url', 'util', 'worker_threads'].includes(name);
}

/** The declarations of lib/runtime, emitted with the TypeScript compiler API (no tsconfig file read). */
function emitDeclarations() {
  const { options, errors } = ts.convertCompilerOptionsFromJson(
    {
      ...devCompilerOptions(),
      noEmit: false,
      declaration: true,
      emitDeclarationOnly: true,
      // Internal helpers (marked @internal) stay out of the published types.
      stripInternal: true,
      rootDir: join(ROOT, SOURCE_DIR),
      outDir: join(ROOT, 'out', 'runtime'),
    },
    ROOT,
  );
  if (errors.length > 0) throw new Error(errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('; '));
  // The compiler resolves `types` (["node"]) from the current directory: make that the repository
  // root, whatever directory the script runs from.
  const host = ts.createCompilerHost(options);
  host.getCurrentDirectory = () => ROOT;
  const program = ts.createProgram({ rootNames: [join(ROOT, ENTRY)], options, host });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  if (diagnostics.length > 0) {
    throw new Error(
      `type errors in ${SOURCE_DIR}:\n${ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => ROOT, getNewLine: () => '\n' })}`,
    );
  }
  const files = new Map();
  const emitted = program.emit(undefined, (fileName, text) => {
    const rel = relative(join(ROOT, 'out', 'runtime'), fileName);
    if (rel.startsWith('..') || rel.includes('/')) throw new Error(`unexpected declaration output ${fileName}`);
    files.set(rel, Buffer.from(text, 'utf8'));
  });
  if (emitted.emitSkipped) throw new Error('TypeScript skipped the declaration emit');
  if (!files.has('index.d.ts')) throw new Error(`no index.d.ts emitted (got ${[...files.keys()].join(', ')})`);
  // The published types may only refer to each other and to built-in types: an import of a
  // bundled package (ajv, Powertools) would need that package installed to type-check.
  for (const [file, contents] of files) {
    const text = contents.toString('utf8');
    for (const m of text.matchAll(/(?:from|import\()\s*['"]([^'"]+)['"]/g)) {
      if (!m[1].startsWith('./')) throw new Error(`runtime/${file} refers to ${m[1]}: the published types must be self-contained`);
    }
  }
  return files;
}

/** Bundles into `outdir` (default: <repo>/runtime). Returns what it wrote. */
export async function bundleRuntime({ outdir = join(ROOT, 'runtime'), quiet = false } = {}) {
  const js = await bundleJs();
  const dts = emitDeclarations();
  const all = new Map([...js.files, ...dts]);
  const roots = new Set([ROOT, realpathSync(ROOT), '/work/']);
  for (const [file, contents] of all) {
    const text = Buffer.from(contents).toString('utf8');
    for (const root of roots) {
      if (text.includes(root)) throw new Error(`runtime/${file} contains the absolute path ${root}`);
    }
  }
  mkdirSync(outdir, { recursive: true });
  // Stale outputs (a declaration of a module since removed) would ship in the package.
  for (const file of readdirSync(outdir)) {
    if (OWNED(file) && !all.has(file)) rmSync(join(outdir, file));
  }
  for (const [file, contents] of all) writeFileSync(join(outdir, file), contents);
  const info = {
    file: 'index.js',
    sha256: sha256(js.files.get('index.js')),
    bytes: js.files.get('index.js').length,
    declarations: [...dts.keys()].sort(),
    packages: js.packages,
    requires: js.requires,
  };
  if (!quiet) {
    for (const w of js.warnings) console.warn(`bundle runtime: warning: ${w.text}${w.location ? ` (${w.location.file}:${w.location.line})` : ''}`);
    console.log(
      `bundle runtime/index.js ${(info.bytes / 1000).toFixed(1).padStart(6)} kB  sha256 ${info.sha256.slice(0, 16)}, ` +
        `${info.declarations.length} declaration files, ${NOTICES}; bundles ${info.packages.join(', ')}`,
    );
  }
  if (!existsSync(join(outdir, 'package.json')) && outdir === join(ROOT, 'runtime')) throw new Error('runtime/package.json is missing: it is committed, restore it');
  return info;
}

if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  bundleRuntime(parseArgs(process.argv.slice(2), 'scripts/bundle-runtime.mjs')).catch((err) => {
    console.error(`bundle-runtime failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  });
}
