#!/usr/bin/env node
/**
 * Bundles the Lambda handlers into assets/<entry>/index.js, and the `rollback-triggers` command
 * into assets/cli/main.js (the package's `bin`: plan, simulate, approve, reject), the same bytes
 * on every build.
 *
 *   node scripts/bundle.mjs [--outdir <dir>] [--quiet]
 *
 * Deterministic by construction (issue 7, item 6):
 * - the TypeScript settings come from tsconfig.dev.json's compilerOptions, passed inline
 *   (`tsconfigRaw`): esbuild then reads no tsconfig.json at all, so the one jsii writes at the repo
 *   root after the first build (or any other) cannot change the output;
 * - every path is resolved from this file's location (`absWorkingDir` is the repo root), so the
 *   output does not depend on the current directory or on where the repository is checked out;
 * - no source map, legal comments and charset fixed, and the output is checked for absolute paths;
 * - each assets/<entry>/ holds exactly index.js and, when the bundled code has license notices,
 *   index.js.LEGAL.txt (the CDK asset hash covers the whole directory); assets/cli/ likewise holds
 *   only the CLI bundles and their notices.
 *
 * The Lambda bundles leave `@aws-sdk/*` to the runtime. The package has no runtime dependencies
 * (issue 10, item 3), so the CLI is bundled whole: main.js holds the command and the pure core it
 * runs (plan, simulator, emulator, canary statistics). Two optional requires stay, each resolved
 * from the user's project when its command runs, never at load: the AWS SDK clients of `approve`
 * and `reject` (lib/cli/aws-clients.ts; bundled, they weighed 345 kB of a package meant to weigh
 * 1.5 MB unpacked), and `@resvg/resvg-js` for `simulate --png` (a native binary per platform).
 *
 * Also writes <outdir>/manifest.json: per Lambda entry (`entries`) and per CLI bundle (`cli`) its
 * sha256, size, the external modules it requires and the packages bundled into it.
 * Uses esbuild's JS API, so it runs with `node` alone.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

/** The Lambda entry points: lambda/<name>/index.ts → assets/<name>/index.js. */
export const ENTRIES = ['starter', 'evaluator', 'follow-up', 'state-change'];

/**
 * The CLI's bundles: lib/cli/<name>.ts → assets/cli/<name>.js, everything inlined but what `external`
 * names, which the user's project provides when a command needs it (package.json lists them in
 * `peerDependenciesMeta`, optional).
 */
export const CLI_BUNDLES = {
  main: { external: ['@aws-sdk/*', '@resvg/resvg-js'] },
};

/** Directories under lambda/ that are not entry points. */
const NOT_ENTRIES = ['shared'];

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** What to bundle where: a Lambda handler or the CLI, the SDK external to both. */
function lambdaTarget(name) {
  // The Lambda Node.js runtime ships AWS SDK v3.
  return { name, entry: `lambda/${name}/index.ts`, dir: name, file: 'index.js', external: ['@aws-sdk/*'] };
}

function cliTarget(name) {
  return { name, entry: `lib/cli/${name}.ts`, dir: 'cli', file: `${name}.js`, external: CLI_BUNDLES[name].external };
}

/** Fixed esbuild options: nothing here may depend on the machine, the directory or build order. */
function buildOptions(target) {
  const devTsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.dev.json'), 'utf8'));
  if (devTsconfig.extends !== undefined) throw new Error('tsconfig.dev.json uses "extends": inline the options here, tsconfigRaw does not follow it');
  return {
    absWorkingDir: ROOT,
    entryPoints: [target.entry],
    outfile: `out/${target.dir}/${target.file}`,
    write: false,
    metafile: true,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    external: target.external,
    sourcemap: false,
    // Third-party license notices are kept in <file>.LEGAL.txt next to the bundle (when there are
    // any), rather than in the code Lambda (or the CLI) parses at load.
    legalComments: 'external',
    charset: 'ascii',
    // Inline, so that no tsconfig.json on disk is ever consulted.
    tsconfigRaw: { compilerOptions: devTsconfig.compilerOptions },
    logLevel: 'silent',
  };
}

/** The Lambda handler directories: exactly ENTRIES, or the build fails (no handler left unbundled, none missing). */
export function findEntries() {
  const lambdaDir = join(ROOT, 'lambda');
  const onDisk = readdirSync(lambdaDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !NOT_ENTRIES.includes(d.name) && existsSync(join(lambdaDir, d.name, 'index.ts')))
    .map((d) => d.name);
  const unknown = onDisk.filter((n) => !ENTRIES.includes(n));
  if (unknown.length > 0) {
    throw new Error(
      `lambda/${unknown.join('/index.ts, lambda/')}/index.ts is not a known entry point: add it to ENTRIES in scripts/bundle.mjs (or to NOT_ENTRIES if it is not a handler)`,
    );
  }
  const missing = ENTRIES.filter((n) => !onDisk.includes(n));
  if (missing.length > 0) {
    throw new Error(`missing Lambda entry point(s): ${missing.map((n) => `lambda/${n}/index.ts`).join(', ')}`);
  }
  return ENTRIES;
}

function packageOf(input) {
  const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
  return m ? m[1] : undefined;
}

/** Bundled packages, sorted; a scope with more than 5 of them is listed once as `@scope/* (n)`. */
function summarizePackages(names) {
  const byScope = new Map();
  for (const n of names) {
    const scope = n.startsWith('@') ? n.split('/')[0] : undefined;
    if (scope) byScope.set(scope, (byScope.get(scope) ?? 0) + 1);
  }
  const out = new Set();
  for (const n of names) {
    const scope = n.startsWith('@') ? n.split('/')[0] : undefined;
    out.add(scope && byScope.get(scope) > 5 ? `${scope}/* (${byScope.get(scope)})` : n);
  }
  return [...out].sort();
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');
const LEGAL_SUFFIX = '.LEGAL.txt';

/** Bundles one target in memory; returns its files and what went into them. */
async function bundleOne(target) {
  const { name, dir, file: js } = target;
  const legalFile = `${js}${LEGAL_SUFFIX}`;
  const result = await esbuild.build(buildOptions(target));
  if (result.errors.length > 0) throw new Error(`${name}: ${result.errors.map((e) => e.text).join('; ')}`);
  const files = new Map(result.outputFiles.map((f) => [basename(f.path), f.contents]));
  const unexpected = [...files.keys()].filter((f) => f !== js && f !== legalFile);
  if (!files.has(js) || unexpected.length > 0) {
    throw new Error(`${name}: expected ${js} (and ${legalFile}), got ${[...files.keys()].join(', ')}`);
  }
  // The repository's own location, and the path of the checkout this project is developed in.
  const roots = new Set([ROOT, realpathSync(ROOT), '/work/']);
  for (const [file, contents] of files) {
    const text = Buffer.from(contents).toString('utf8');
    for (const root of roots) {
      if (text.includes(root)) throw new Error(`${name}: ${file} contains the absolute path ${root}`);
    }
  }
  const output = result.metafile.outputs[`out/${dir}/${js}`];
  const externals = [...new Set(output.imports.filter((i) => i.external && !i.path.startsWith('node:')).map((i) => i.path))].sort();
  const packages = summarizePackages([...new Set(Object.keys(output.inputs).map(packageOf).filter(Boolean))].sort());
  const code = files.get(js);
  const legal = files.get(legalFile);
  return {
    name,
    dir,
    files,
    warnings: result.warnings,
    info: {
      file: `${dir}/${js}`,
      sha256: sha256(code),
      bytes: code.length,
      ...(legal ? { legal: { file: `${dir}/${legalFile}`, sha256: sha256(legal), bytes: legal.length } } : {}),
      externals,
      packages,
    },
  };
}

/**
 * Bundles every entry into `outdir` (default: <repo>/assets) and writes the manifest.
 * Returns the manifest.
 */
export async function bundle({ outdir = join(ROOT, 'assets'), quiet = false } = {}) {
  const lambdas = await Promise.all(findEntries().map((name) => bundleOne(lambdaTarget(name))));
  const clis = await Promise.all(Object.keys(CLI_BUNDLES).map((name) => bundleOne(cliTarget(name))));
  const manifest = { esbuild: esbuild.version, entries: {}, cli: {} };
  mkdirSync(outdir, { recursive: true });
  // Only the bundles (and their license notices) in each directory: a stale file would change the
  // CDK asset hash (or ship in the package).
  for (const dir of new Set([...lambdas, ...clis].map((b) => b.dir))) {
    rmSync(join(outdir, dir), { recursive: true, force: true });
    mkdirSync(join(outdir, dir), { recursive: true });
  }
  for (const b of [...lambdas, ...clis]) {
    for (const [file, contents] of b.files) writeFileSync(join(outdir, b.dir, file), contents);
  }
  for (const b of lambdas) manifest.entries[b.name] = b.info;
  for (const b of clis) manifest.cli[b.name] = b.info;
  writeFileSync(join(outdir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  if (!quiet) {
    for (const b of [...lambdas, ...clis]) {
      const label = b.dir === b.name ? b.name : `${b.dir}/${b.name}`;
      for (const w of b.warnings) console.warn(`bundle ${label}: warning: ${w.text}${w.location ? ` (${w.location.file}:${w.location.line})` : ''}`);
      const legal = b.info.legal ? ` (+ ${(b.info.legal.bytes / 1000).toFixed(1)} kB of license notices in ${basename(b.info.legal.file)})` : '';
      console.log(`bundle ${label.padEnd(16)} ${(b.info.bytes / 1000).toFixed(1).padStart(6)} kB  sha256 ${b.info.sha256.slice(0, 16)}${legal}`);
    }
  }
  return manifest;
}

/** `[--outdir <dir>] [--quiet]`, the arguments of this script and of scripts/bundle-runtime.mjs. */
export function parseArgs(argv, script = 'scripts/bundle.mjs') {
  const args = { quiet: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--outdir') args.outdir = argv[++i];
    else if (a.startsWith('--outdir=')) args.outdir = a.slice('--outdir='.length);
    else if (a === '--quiet') args.quiet = true;
    else throw new Error(`unknown argument ${a} (usage: node ${script} [--outdir <dir>] [--quiet])`);
  }
  if (args.outdir !== undefined) {
    if (!args.outdir) throw new Error('--outdir needs a directory');
    args.outdir = isAbsolute(args.outdir) ? args.outdir : resolve(process.cwd(), args.outdir);
  }
  return args;
}

if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  bundle(parseArgs(process.argv.slice(2))).catch((err) => {
    console.error(`bundle failed: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
  });
}
