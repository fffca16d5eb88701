#!/usr/bin/env node
/**
 * Bundles the Lambda handlers into assets/handlers/ (one ES module per function, <entry>.mjs, and
 * the chunks they share), and the `rollback-triggers` command into assets/cli/main.js (the
 * package's `bin`: plan, simulate, approve, reject), the same bytes on every build.
 *
 *   node scripts/bundle.mjs [--outdir <dir>] [--quiet]
 *
 * The four handlers (starter, evaluator, follow-up, state-change) share most of their code (lib/core,
 * lambda/shared, Powertools): bundled one by one, the package carried it up to four times (issue 10,
 * item 3: ≤ 400 kB packed). They are built together with esbuild's code splitting instead, into one
 * directory that every function deploys (`Code.fromAsset(assets/handlers)`, handler
 * `<entry>.handler`; lib/rollback/rollback-trigger.ts): each entry is a small ES module that imports
 * the chunks it needs, and code used by several entries is in the package once. Splitting needs ES
 * modules; Lambda loads a handler file named .mjs as an ES module, and "starting with Node.js 18,
 * Lambda searches folders in the NODE_PATH environment variable when loading ES modules" and "you
 * can load the AWS SDK that's included in the runtime using ES module import statements" (Lambda
 * developer guide, "Building Lambda functions with Node.js", "Designating a function handler as an
 * ES module"). The handlers' `import('@aws-sdk/client-…')` goes through that same ES-module
 * resolution as an import statement does (the runtime's Node resolves ES modules through NODE_PATH
 * in its default resolver), so the clients stay lazy: loaded on first use, not at init.
 *
 * Deterministic by construction (issue 7, item 6):
 * - the TypeScript settings come from tsconfig.dev.json's compilerOptions, passed inline
 *   (`tsconfigRaw`): esbuild then reads no tsconfig.json at all, so the one jsii writes at the repo
 *   root after the first build (or any other) cannot change the output;
 * - every path is resolved from this file's location (`absWorkingDir` is the repo root), so the
 *   output does not depend on the current directory or on where the repository is checked out;
 *   chunk names carry a hash of their code (renameChunks()), not esbuild's, which covers paths;
 * - no source map, legal comments and charset fixed, and the output is checked for absolute paths;
 * - assets/handlers/ holds exactly the entries, their chunks (chunks/) and, for a file whose bundled
 *   code has license notices, <file>.LEGAL.txt (the CDK asset hash covers the whole directory);
 *   assets/cli/ likewise holds only the CLI bundle and its notices.
 *
 * The Lambda bundles leave `@aws-sdk/*` to the runtime, and import it only with `import()` from the
 * code that needs a client, so a cold start loads no SDK module it does not use. The package has no
 * runtime dependencies (issue 10, item 3), so the CLI is bundled: main.js holds the command and the
 * pure core it runs (plan, simulator, emulator, canary statistics), except the core modules the
 * construct library itself loads, which it requires from the compiled library the package ships
 * (`../../dist/core/….js`; sharedCoreModules() below) rather than carry a second copy. So the CLI
 * runs against the dist/ beside it: `npm run build` writes both. Two optional requires stay, each
 * resolved from the user's project when its command runs, never at load: the AWS SDK clients of
 * `approve` and `reject` (lib/cli/aws-clients.ts; bundled, they weighed 345 kB of a package meant
 * to weigh 1.5 MB unpacked), and `@resvg/resvg-js` for `simulate --png` (a native binary per
 * platform).
 *
 * Also writes <outdir>/manifest.json: the handler directory's files (`handlers`: sha256 and size of
 * each), per Lambda entry (`entries`) its file, handler, sha256 and size, the chunks it imports at
 * load and those it may import later, the bytes of both, the external modules it can import and the
 * packages bundled into them, and per CLI bundle (`cli`) its sha256, size, externals, the dist/
 * modules it requires (`fromDist`) and the packages bundled into it.
 * Uses esbuild's JS API, so it runs with `node` alone.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinModules } from 'node:module';
import * as esbuild from 'esbuild';

/** The Lambda entry points: lambda/<name>/index.ts → assets/handlers/<name>.mjs, handler `<name>.handler`. */
export const ENTRIES = ['starter', 'evaluator', 'follow-up', 'state-change'];

/** The directory under assets/ that every function deploys. */
export const HANDLERS_DIR = 'handlers';

/** Where the shared chunks go, under HANDLERS_DIR: the entries stay alone at the top. */
const CHUNKS_DIR = 'chunks';

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

/** Fixed esbuild options: nothing here may depend on the machine, the directory or build order. */
function commonOptions() {
  const devTsconfig = JSON.parse(readFileSync(join(ROOT, 'tsconfig.dev.json'), 'utf8'));
  if (devTsconfig.extends !== undefined) throw new Error('tsconfig.dev.json uses "extends": inline the options here, tsconfigRaw does not follow it');
  return {
    absWorkingDir: ROOT,
    write: false,
    metafile: true,
    bundle: true,
    platform: 'node',
    target: 'node20',
    minify: true,
    sourcemap: false,
    // Third-party license notices are kept in <file>.LEGAL.txt next to the code (when there are
    // any), rather than in the code Lambda (or the CLI) parses at load.
    legalComments: 'external',
    charset: 'ascii',
    // Inline, so that no tsconfig.json on disk is ever consulted.
    tsconfigRaw: { compilerOptions: devTsconfig.compilerOptions },
    logLevel: 'silent',
  };
}

/** The Lambda handlers: one build, split, ES modules. */
function lambdaOptions(entries) {
  return {
    ...commonOptions(),
    entryPoints: Object.fromEntries(entries.map((name) => [name, `lambda/${name}/index.ts`])),
    outdir: `out/${HANDLERS_DIR}`,
    // .mjs: Lambda (and Node) load the file as an ES module whatever package.json says.
    outExtension: { '.js': '.mjs' },
    chunkNames: `${CHUNKS_DIR}/[name]-[hash]`,
    splitting: true,
    format: 'esm',
    // The Lambda Node.js runtime includes AWS SDK v3 (nodejs18.x and later).
    external: ['@aws-sdk/*'],
  };
}

/** One CLI bundle: CommonJS, one file, the core modules the library ships taken from dist/. */
function cliOptions(name, shared) {
  return {
    ...commonOptions(),
    entryPoints: [`lib/cli/${name}.ts`],
    outfile: `out/cli/${name}.js`,
    format: 'cjs',
    external: CLI_BUNDLES[name].external,
    plugins: [coreFromDist(shared)],
  };
}

/** Where the CLI (assets/cli/<name>.js) finds the compiled lib/<module>.ts: jsii compiles lib/ into dist/. */
const CLI_TO_DIST = '../../dist/';
const distSpecifier = (libFile) => `${CLI_TO_DIST}${libFile.slice('lib/'.length).replace(/\.ts$/, '.js')}`;

/**
 * The pure-core modules the CLI requires from the compiled library instead of bundling them a
 * second time (issue 10, item 3: about 30 kB of the CLI): the lib/core modules the construct
 * library itself loads, which jsii compiles into dist/ and the package ships anyway. That is what
 * lib/index.ts reaches through value imports (type-only imports are erased, as jsii erases them),
 * less any module that imports something other than such modules and Node's built-ins: the command
 * must run without aws-cdk-lib. scripts/package-dist.mjs ships every dist/ file assets/cli/ requires,
 * reachable from the library or not, so none can be left out of the package. Returns the modules'
 * repository paths (lib/core/….ts).
 */
async function sharedCoreModules() {
  const result = await esbuild.build({ ...commonOptions(), entryPoints: ['lib/index.ts'], outfile: 'out/lib/index.js', format: 'cjs', packages: 'external' });
  checkErrors('lib/index.ts', result);
  const inputs = result.metafile.inputs;
  const shared = new Set(Object.keys(inputs).filter((f) => f.startsWith('lib/core/') && f.endsWith('.ts')));
  // Drop every module that imports (directly or through another) a package or a module outside the set.
  for (let changed = true; changed; ) {
    changed = false;
    for (const f of shared) {
      const ok = inputs[f].imports.every((i) => (i.external ? i.path.startsWith('node:') || isBuiltinModule(i.path) : shared.has(i.path)));
      if (!ok) {
        shared.delete(f);
        changed = true;
      }
    }
  }
  return shared;
}

/** The names a module exports at run time (types erased), as esbuild sees them. */
async function exportNames(file) {
  const result = await esbuild.build({ ...commonOptions(), bundle: false, minify: false, entryPoints: [file], outfile: 'out/exports.js', format: 'esm' });
  checkErrors(file, result);
  return result.metafile.outputs['out/exports.js'].exports.filter((n) => n !== 'default');
}

/**
 * The esbuild plugin behind sharedCoreModules(): an import, from lib/, of a shared module becomes
 * `require("../../dist/core/<module>.js")`. An `export * from` a shared module (the lib/core barrel)
 * is rewritten to name what it re-exports: esbuild cannot see the names of an external CommonJS
 * module, and would otherwise keep every other module of the barrel.
 */
function coreFromDist(shared) {
  const libDir = join(ROOT, 'lib') + sep;
  const repoPath = (abs) => relative(ROOT, abs).split(sep).join('/');
  return {
    name: 'core-from-dist',
    setup(build) {
      const resolveTs = (spec, resolveDir, importer, kind) => build.resolve(spec, { kind, resolveDir, importer, pluginData: { coreFromDist: true } });
      build.onResolve({ filter: /^\.\.?(\/|$)/ }, async (args) => {
        if (args.pluginData?.coreFromDist || !args.importer.startsWith(libDir)) return undefined;
        const r = await resolveTs(args.path, args.resolveDir, args.importer, args.kind);
        if (r.errors.length > 0 || !shared.has(repoPath(r.path))) return undefined;
        return { path: distSpecifier(repoPath(r.path)), external: true };
      });
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (!args.path.startsWith(libDir)) return undefined;
        const source = readFileSync(args.path, 'utf8');
        if (!/^export \* from /m.test(source)) return undefined;
        const seen = new Map();
        const lines = [];
        for (const line of source.split('\n')) {
          const m = /^export \* from '([^']+)';\s*$/.exec(line);
          const r = m ? await resolveTs(m[1], dirname(args.path), args.path, 'import-statement') : undefined;
          if (!r || r.errors.length > 0 || !shared.has(repoPath(r.path))) {
            lines.push(line);
            continue;
          }
          const names = await exportNames(repoPath(r.path));
          for (const n of names) {
            // Two `export *` of one name make it ambiguous (not exported); named, they would collide.
            if (seen.has(n)) throw new Error(`${repoPath(args.path)}: ${n} is exported by both ${seen.get(n)} and ${m[1]}`);
            seen.set(n, m[1]);
          }
          if (names.length > 0) lines.push(`export { ${names.join(', ')} } from '${m[1]}';`);
        }
        return { contents: lines.join('\n'), loader: 'ts', resolveDir: dirname(args.path) };
      });
    },
  };
}

/** Node's built-in modules, by the bare names esbuild leaves external. */
function isBuiltinModule(name) {
  return builtinModules.includes(name);
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
/** The license notices of the packages bundled into a directory, next to the code. */
export const NOTICES = 'THIRD-PARTY-LICENSES.txt';
const LICENSE_FILES = ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'license', 'LICENCE', 'NOTICE', 'NOTICE.md', 'NOTICE.txt'];

/** The package directory an input file belongs to (the innermost node_modules/<name>), relative to the root. */
export function packageDirOf(input) {
  const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
  return m ? m[1] : undefined;
}

/**
 * The license notices of the bundled packages: MIT, BSD and Apache-2.0 ask that their notices go
 * with redistributed copies (Apache-2.0, section 4(a): "a copy of this License"), and a minified
 * bundle keeps none of them (esbuild only extracts `/*!` and `@license` comments). One section per
 * package, sorted, so the file is deterministic.
 */
export function thirdPartyNotices(packageDirs, what) {
  const sections = [];
  for (const dir of [...new Set(packageDirs)].sort()) {
    const pkg = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8'));
    const texts = LICENSE_FILES.filter((f) => existsSync(join(ROOT, dir, f))).map((f) => readFileSync(join(ROOT, dir, f), 'utf8').trim());
    const license = typeof pkg.license === 'string' ? pkg.license : 'see the package';
    sections.push(`${pkg.name} ${pkg.version} (${license})\n\n${texts.length > 0 ? texts.join('\n\n') : `No license file in the package; its package.json declares ${license}.`}`);
  }
  return Buffer.from(`Third-party code bundled into ${what}, with its license notices.\n\n${sections.join(`\n\n${'-'.repeat(78)}\n\n`)}\n`, 'utf8');
}

/** Throws when a file names the repository's location (or the checkout this project is developed in). */
function checkNoAbsolutePaths(label, files) {
  const roots = new Set([ROOT, realpathSync(ROOT), '/work/']);
  for (const [file, contents] of files) {
    const text = Buffer.from(contents).toString('utf8');
    for (const root of roots) {
      if (text.includes(root)) throw new Error(`${label}: ${file} contains the absolute path ${root}`);
    }
  }
}

function checkErrors(label, result) {
  if (result.errors.length > 0) throw new Error(`${label}: ${result.errors.map((e) => e.text).join('; ')}`);
}

/** The external modules an output imports (built-ins aside), sorted. */
function externalsOf(outputs) {
  return [...new Set(outputs.flatMap((o) => o.imports.filter((i) => i.external && !i.path.startsWith('node:')).map((i) => i.path)))].sort();
}

/** The packages bundled into some outputs, summarized. */
function packagesOf(outputs) {
  return summarizePackages([...new Set(outputs.flatMap((o) => Object.keys(o.inputs).map(packageOf)).filter(Boolean))].sort());
}

/**
 * Bundles the Lambda entries together into assets/handlers/ (in memory); returns the files, keyed
 * by their path in that directory, and the manifest's `handlers` and `entries`.
 */
async function bundleHandlers(entries) {
  const label = HANDLERS_DIR;
  const result = await esbuild.build(lambdaOptions(entries));
  checkErrors(label, result);
  const prefix = `out/${HANDLERS_DIR}/`;
  const outDir = join(ROOT, 'out', HANDLERS_DIR);
  const files = new Map(result.outputFiles.map((f) => [posix.normalize(f.path.slice(outDir.length + 1).split('\\').join('/')), f.contents]));
  // Exactly the entries at the top, their chunks in chunks/, and license notices next to either.
  const code = [...files.keys()].filter((f) => !f.endsWith(LEGAL_SUFFIX));
  const unexpected = [
    ...code.filter((f) => !(entries.includes(f.replace(/\.mjs$/, '')) && !f.includes('/')) && !new RegExp(`^${CHUNKS_DIR}/[\\w.-]+\\.mjs$`).test(f)),
    ...[...files.keys()].filter((f) => f.endsWith(LEGAL_SUFFIX) && !files.has(f.slice(0, -LEGAL_SUFFIX.length))),
  ];
  const missing = entries.filter((n) => !files.has(`${n}.mjs`));
  if (unexpected.length > 0 || missing.length > 0) {
    throw new Error(`${label}: expected ${entries.map((n) => `${n}.mjs`).join(', ')} and ${CHUNKS_DIR}/*.mjs (with their ${LEGAL_SUFFIX}), got ${[...files.keys()].join(', ')}`);
  }
  checkNoAbsolutePaths(label, files);
  const renamed = renameChunks(files);

  const outputs = result.metafile.outputs;
  const rel = (outPath) => renamed.path(outPath.slice(prefix.length));
  /** The outputs `from` reaches through imports of the given kinds, itself included. */
  const closure = (from, kinds) => {
    const seen = new Set();
    const stack = [from];
    while (stack.length > 0) {
      const o = stack.pop();
      if (seen.has(o)) continue;
      seen.add(o);
      for (const i of outputs[o].imports) if (!i.external && kinds.includes(i.kind)) stack.push(i.path);
    }
    return seen;
  };
  const bytesOf = (set) => [...set].reduce((sum, o) => sum + renamed.files.get(rel(o)).length, 0);
  const bundledDirs = Object.values(outputs).flatMap((o) => Object.keys(o.inputs).map(packageDirOf)).filter(Boolean);
  if (bundledDirs.length > 0) renamed.files.set(NOTICES, thirdPartyNotices(bundledDirs, `${HANDLERS_DIR}/ (the Lambda handlers)`));
  const handlers = { dir: HANDLERS_DIR, bytes: 0, files: {} };
  for (const file of [...renamed.files.keys()].sort()) {
    const contents = renamed.files.get(file);
    handlers.files[file] = { sha256: sha256(contents), bytes: contents.length };
    if (!file.endsWith(LEGAL_SUFFIX) && file !== NOTICES) handlers.bytes += contents.length;
  }
  const info = {};
  for (const name of entries) {
    const out = `${prefix}${name}.mjs`;
    // What a cold start loads (static imports), and everything the entry may load (import() too).
    const atLoad = closure(out, ['import-statement']);
    const all = closure(out, ['import-statement', 'dynamic-import']);
    const reached = [...all].map((o) => outputs[o]);
    info[name] = {
      file: `${HANDLERS_DIR}/${name}.mjs`,
      handler: `${name}.handler`,
      sha256: handlers.files[`${name}.mjs`].sha256,
      bytes: handlers.files[`${name}.mjs`].bytes,
      chunks: [...atLoad].filter((o) => o !== out).map(rel).sort(),
      lazyChunks: [...all].filter((o) => !atLoad.has(o)).map(rel).sort(),
      loadBytes: bytesOf(atLoad),
      allBytes: bytesOf(all),
      externals: externalsOf(reached),
      packages: packagesOf(reached),
    };
  }
  return { files: renamed.files, handlers, entries: info, warnings: result.warnings };
}

/**
 * Renames the chunks `<name>-<hash>.mjs` (and their license notices) to `<name>-<h>.mjs`, h the
 * first 8 hex digits of the sha256 of the chunk's code with the chunk names in it masked, and
 * rewrites the imports that name them. esbuild's own [hash] covers the paths of the chunk's inputs
 * relative to the working directory, so a node_modules found through a symlink, or outside the
 * checkout, changes every name (and so the entries that import them) while the code stays the
 * same. Masking the names keeps imports between chunks, cycles included, from making one name
 * depend on another. Returns the new files and the old path → new path function.
 */
function renameChunks(files) {
  const chunkRe = new RegExp(`^${CHUNKS_DIR}/([\\w-]+)-([A-Z2-7]{8})\\.mjs$`);
  const chunks = [...files.keys()].filter((f) => chunkRe.test(f));
  const names = chunks.map((f) => basename(f));
  const mask = (text) => names.reduce((t, n) => t.split(`/${n}`).join(`/${n.replace(/-[A-Z2-7]{8}\.mjs$/, '-#.mjs')}`), text);
  const to = new Map();
  for (const f of chunks) {
    const [, name] = chunkRe.exec(f);
    const h = sha256(mask(Buffer.from(files.get(f)).toString('utf8'))).slice(0, 8);
    to.set(basename(f), `${name}-${h}.mjs`);
  }
  if (new Set(to.values()).size !== to.size) throw new Error(`${HANDLERS_DIR}: two chunks would have the same name: ${[...to.values()].join(', ')}`);
  const path = (f) => {
    const legal = f.endsWith(LEGAL_SUFFIX);
    const code = legal ? f.slice(0, -LEGAL_SUFFIX.length) : f;
    const n = to.get(basename(code));
    if (!code.startsWith(`${CHUNKS_DIR}/`) || n === undefined) return f;
    return `${CHUNKS_DIR}/${n}${legal ? LEGAL_SUFFIX : ''}`;
  };
  const out = new Map();
  for (const [f, contents] of files) {
    if (f.endsWith(LEGAL_SUFFIX)) {
      out.set(path(f), contents);
      continue;
    }
    // Imports name a chunk as ./chunks/<file> (from an entry) or ./<file> (from a chunk).
    let text = Buffer.from(contents).toString('utf8');
    for (const [from, n] of to) text = text.split(`/${from}`).join(`/${n}`);
    out.set(path(f), Buffer.from(text, 'utf8'));
  }
  // Every file a module imports by a relative path is one of the files.
  for (const [f, contents] of out) {
    if (f.endsWith(LEGAL_SUFFIX)) continue;
    for (const m of Buffer.from(contents).toString('utf8').matchAll(/["'`](\.\.?\/[^"'`]+)["'`]/g)) {
      const target = posix.join(posix.dirname(f), m[1]);
      if (!out.has(target)) throw new Error(`${HANDLERS_DIR}/${f} imports ${m[1]}, which is not in ${HANDLERS_DIR}/`);
    }
  }
  return { files: out, path };
}

/** Bundles one CLI bundle in memory; returns its files and what went into them. */
async function bundleCli(name, shared) {
  const dir = 'cli';
  const js = `${name}.js`;
  const legalFile = `${js}${LEGAL_SUFFIX}`;
  const label = `${dir}/${name}`;
  const result = await esbuild.build(cliOptions(name, shared));
  checkErrors(label, result);
  const files = new Map(result.outputFiles.map((f) => [basename(f.path), f.contents]));
  const unexpected = [...files.keys()].filter((f) => f !== js && f !== legalFile);
  if (!files.has(js) || unexpected.length > 0) {
    throw new Error(`${label}: expected ${js} (and ${legalFile}), got ${[...files.keys()].join(', ')}`);
  }
  checkNoAbsolutePaths(label, files);
  const output = result.metafile.outputs[`out/${dir}/${js}`];
  const code = files.get(js);
  const legal = files.get(legalFile);
  return {
    name,
    files,
    warnings: result.warnings,
    info: {
      file: `${dir}/${js}`,
      sha256: sha256(code),
      bytes: code.length,
      ...(legal ? { legal: { file: `${dir}/${legalFile}`, sha256: sha256(legal), bytes: legal.length } } : {}),
      externals: externalsOf([output]).filter((x) => !x.startsWith(CLI_TO_DIST)),
      // The compiled library's modules it requires (package-dist ships them).
      fromDist: externalsOf([output])
        .filter((x) => x.startsWith(CLI_TO_DIST))
        .map((x) => `dist/${x.slice(CLI_TO_DIST.length)}`),
      packages: packagesOf([output]),
    },
  };
}

/** Writes `files` (paths relative to `dir`) into `dir`, emptied first. */
function writeDir(dir, files) {
  // Only the bundles (and their license notices) in each directory: a stale file would change the
  // CDK asset hash (or ship in the package).
  rmSync(dir, { recursive: true, force: true });
  for (const [file, contents] of files) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), contents);
  }
}

const kB = (bytes) => (bytes / 1000).toFixed(1).padStart(6);

/**
 * Bundles every entry into `outdir` (default: <repo>/assets) and writes the manifest.
 * Returns the manifest.
 */
export async function bundle({ outdir = join(ROOT, 'assets'), quiet = false } = {}) {
  const shared = await sharedCoreModules();
  const [handlers, ...clis] = await Promise.all([bundleHandlers(findEntries()), ...Object.keys(CLI_BUNDLES).map((name) => bundleCli(name, shared))]);
  const manifest = { esbuild: esbuild.version, handlers: handlers.handlers, entries: handlers.entries, cli: {} };
  mkdirSync(outdir, { recursive: true });
  // The per-function directories of earlier versions (assets/<entry>/index.js): gone, or they would ship.
  for (const name of ENTRIES) rmSync(join(outdir, name), { recursive: true, force: true });
  writeDir(join(outdir, HANDLERS_DIR), handlers.files);
  writeDir(join(outdir, 'cli'), new Map(clis.flatMap((b) => [...b.files])));
  for (const b of clis) manifest.cli[b.name] = b.info;
  writeFileSync(join(outdir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  if (!quiet) {
    const warn = (label, w) => console.warn(`bundle ${label}: warning: ${w.text}${w.location ? ` (${w.location.file}:${w.location.line})` : ''}`);
    for (const w of handlers.warnings) warn(HANDLERS_DIR, w);
    for (const b of clis) for (const w of b.warnings) warn(`cli/${b.name}`, w);
    const h = manifest.handlers;
    const chunks = Object.keys(h.files).filter((f) => f.startsWith(`${CHUNKS_DIR}/`) && !f.endsWith(LEGAL_SUFFIX)).length;
    console.log(`bundle ${`${HANDLERS_DIR}/`.padEnd(22)} ${kB(h.bytes)} kB  ${ENTRIES.length} entries, ${chunks} shared chunks`);
    for (const [name, e] of Object.entries(manifest.entries)) {
      console.log(`  ${`${name}.mjs`.padEnd(20)}  ${kB(e.loadBytes)} kB at load, ${kB(e.allBytes)} kB with its lazy chunks (entry ${(e.bytes / 1000).toFixed(1)} kB, sha256 ${e.sha256.slice(0, 16)})`);
    }
    for (const b of clis) {
      const legal = b.info.legal ? ` (+ ${(b.info.legal.bytes / 1000).toFixed(1)} kB of license notices in ${basename(b.info.legal.file)})` : '';
      console.log(`bundle ${b.info.file.padEnd(22)} ${kB(b.info.bytes)} kB  sha256 ${b.info.sha256.slice(0, 16)}${legal}, ${b.info.fromDist.length} core modules from dist/`);
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
