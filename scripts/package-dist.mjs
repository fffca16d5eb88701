#!/usr/bin/env node
/**
 * Readies dist/ for `npm pack` after jsii compiled lib/ into it (issue 10, item 3):
 *
 *   node scripts/package-dist.mjs [--quiet]     (`npm run build` and `prepack` run it)
 *
 * 1. Minifies every .js file under dist/ in place, whitespace and syntax only, as aws-cdk-lib does with
 *    its own compiled JavaScript (aws/aws-cdk, packages/aws-cdk-lib/scripts/minify-sources.sh:
 *    esbuild --minify-whitespace --minify-syntax): identifiers stay, so stack traces still name
 *    the library's functions and classes; the comments go (the declaration files keep the docs).
 *    Minifying twice gives the same bytes, so `prepack` may run it again.
 * 2. Keeps out of the package every file under dist/ that a user cannot reach: writes
 *    dist/.npmignore listing them. jsii compiles all of lib/, the CLI's modules and the pure core
 *    they run included, but the CLI ships as one bundle (assets/cli/main.js, scripts/bundle.mjs)
 *    and the construct code does not load the canary statistics, the emulator or the simulator
 *    (test/build/load.test.ts). What a user reaches from the package's entry points
 *    (package.json `main`, `types`, `exports`, `bin`, `typesVersions`, where they point into dist/):
 *    - the JavaScript files `require`d from them, followed statically (a lazy require counts too);
 *    - the declaration files imported from them (`from`, `import(…)`, `/// <reference path>`): a
 *      TypeScript or jsii consumer needs index.d.ts and every file it imports, the private ones
 *      too (the `@internal` members' types);
 *    - the JavaScript files under dist/ that the entry points outside dist/ require, and what those
 *      reach: the CLI takes the pure-core modules the library ships from dist/ rather than bundling
 *      them again (`require("../../dist/core/….js")`, scripts/bundle.mjs), so each of them ships
 *      even if the library stopped loading it.
 *    npm honors a .npmignore below the package root even when package.json has `files` ("At the
 *    root of your package it will not override the files field, but in subdirectories it will",
 *    npm docs, package.json › files) and does not pack the .npmignore itself. A file jsii adds
 *    after this ran is packed (more than needed, never less).
 * 3. Removes the comments from the shipped declaration files that the types entry does not
 *    re-export (`export … from`): they declare the types of `@internal` members (jsii keeps those
 *    in the .d.ts, stripInternal is off) and nothing a user writes, so their docs help no one. The
 *    public declaration files keep every comment; triple-slash directives are kept everywhere.
 * 4. Checks that the entry points outside dist/ exist, so a partial build is not packed: the `bin`
 *    (assets/cli/main.js, scripts/bundle.mjs) and each subpath package that `files` ships, a
 *    directory with its own package.json whose `main` and `types` Node and TypeScript resolve
 *    `cdk-rollback-triggers/<dir>` to (runtime/: the agent helper, scripts/bundle-runtime.mjs).
 *    Only dist/ gets a .npmignore: what these directories hold is what `files` lists.
 */
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = 'dist';

/** Every string in package.json's entry-point fields that points into dist/. */
export function entryPoints(pkg) {
  const found = [];
  const walk = (v) => {
    if (typeof v === 'string') found.push(v);
    else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x);
  };
  for (const field of ['main', 'types', 'typings', 'exports', 'bin', 'typesVersions']) walk(pkg[field]);
  const inDist = found.map((p) => posix.normalize(p)).filter((p) => p === DIST || p.startsWith(`${DIST}/`));
  const patterns = inDist.filter((p) => p.includes('*'));
  if (patterns.length > 0) throw new Error(`package.json points into dist/ with a pattern (${patterns.join(', ')}): scripts/package-dist.mjs follows files only`);
  return [...new Set(inDist)].sort();
}

/**
 * The relative module specifiers a file loads, as TypeScript's pre-processor reads them (comments
 * and strings skipped): imports, re-exports, `import(…)`, `require(…)` and `/// <reference path>`.
 */
function specifiers(text) {
  const { importedFiles, referencedFiles } = ts.preProcessFile(text, true, true);
  return [...importedFiles.map((f) => f.fileName).filter((f) => f === '.' || f === '..' || f.startsWith('./') || f.startsWith('../')), ...referencedFiles.map((f) => f.fileName)];
}

/** Resolves a relative specifier as Node (JavaScript) or TypeScript (declarations) would, within the repository. */
function resolveSpecifier(from, spec) {
  const base = join(dirname(from), spec);
  const candidates = from.endsWith('.d.ts')
    ? [base, base.replace(/\.js$/, '.d.ts'), `${base}.d.ts`, join(base, 'index.d.ts')]
    : [base, `${base}.js`, join(base, 'index.js')];
  return candidates.find((c) => !c.startsWith('..') && existsSync(join(ROOT, c)) && statSync(join(ROOT, c)).isFile());
}

/** The files under dist/ reachable from `roots` (repository-relative paths). */
export function reachable(roots) {
  const seen = new Set();
  const stack = [...roots];
  while (stack.length > 0) {
    const file = stack.pop();
    if (seen.has(file)) continue;
    if (!existsSync(join(ROOT, file))) throw new Error(`${file} is missing: run \`npm run build\` first`);
    seen.add(file);
    if (!/\.(c?js|d\.ts)$/.test(file)) continue;
    const text = readFileSync(join(ROOT, file), 'utf8');
    for (const spec of specifiers(text)) {
      const target = resolveSpecifier(file, spec);
      if (!target) throw new Error(`${file} loads "${spec}", which is no file of the package: the build is incomplete`);
      // Outside dist/ (package.json, say), `files` decides.
      if (target.startsWith(`${DIST}/`)) stack.push(target);
    }
  }
  return seen;
}

function filesUnder(dir) {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((d) => {
    const path = `${dir}/${d.name}`;
    return d.isDirectory() ? filesUnder(path) : [path];
  });
}

/**
 * The entry points outside dist/: package.json's own (the `bin`) and, per top-level directory that
 * `files` ships and that holds a package.json (a subpath package such as runtime/), that file's
 * `main` and `types`. Throws when one is missing. Returns them, relative to `root` (the repository).
 */
export function outsideEntryPoints(pkg, root = ROOT) {
  const found = [];
  const walk = (v) => {
    if (typeof v === 'string') found.push(posix.normalize(v));
    else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x);
  };
  for (const field of ['main', 'types', 'typings', 'exports', 'bin']) walk(pkg[field]);
  const subpackages = [...new Set((pkg.files ?? []).filter((f) => !f.startsWith('!')).map((f) => posix.normalize(f).split('/')[0]))]
    .filter((dir) => dir !== DIST && existsSync(join(root, dir, 'package.json')) && statSync(join(root, dir)).isDirectory())
    .sort();
  for (const dir of subpackages) {
    const sub = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
    if (typeof sub.main !== 'string') throw new Error(`${dir}/package.json has no "main": require('${pkg.name}/${dir}') would not resolve`);
    for (const field of ['main', 'types']) if (typeof sub[field] === 'string') found.push(posix.join(dir, sub[field]));
  }
  const outside = [...new Set(found.filter((p) => p !== DIST && !p.startsWith(`${DIST}/`)))].sort();
  const missing = outside.filter((p) => !existsSync(join(root, p)));
  if (missing.length > 0) throw new Error(`${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} missing: run \`npm run build\` first (\`npm run bundle\` writes assets/ and runtime/)`);
  return outside;
}

/**
 * The files under dist/ that `files` (repository paths outside dist/, the CLI's bundle say) load
 * with a relative specifier. Throws when one of them is missing.
 */
export function loadedFromOutside(files, root = ROOT) {
  const found = new Set();
  for (const file of files.filter((f) => /\.c?js$/.test(f))) {
    for (const spec of specifiers(readFileSync(join(root, file), 'utf8'))) {
      const target = posix.normalize(posix.join(posix.dirname(file), spec));
      if (target !== DIST && !target.startsWith(`${DIST}/`)) continue;
      if (!existsSync(join(root, target)) || !statSync(join(root, target)).isFile()) {
        throw new Error(`${file} requires ${target}, which is missing: run \`npm run build\` (jsii compiles dist/ after \`npm run bundle\`)`);
      }
      found.add(target);
    }
  }
  return [...found].sort();
}

/** Minifies the compiled JavaScript in place (whitespace and syntax); returns the bytes before and after. */
export function minifyDist() {
  let before = 0;
  let after = 0;
  for (const file of filesUnder(DIST).filter((f) => f.endsWith('.js'))) {
    const path = join(ROOT, file);
    const code = readFileSync(path, 'utf8');
    const out = esbuild.transformSync(code, {
      loader: 'js',
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      minifyWhitespace: true,
      minifySyntax: true,
      charset: 'utf8',
      legalComments: 'inline',
      sourcefile: file,
    }).code;
    before += Buffer.byteLength(code);
    after += Buffer.byteLength(out);
    if (out !== code) writeFileSync(path, out);
  }
  return { before, after };
}

/** The declaration files `roots` re-export from (`export * from`, `export { … } from`), themselves included. */
export function reExported(roots) {
  const seen = new Set();
  const stack = roots.filter((f) => f.endsWith('.d.ts'));
  while (stack.length > 0) {
    const file = stack.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const source = ts.createSourceFile(file, readFileSync(join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
    for (const statement of source.statements) {
      if (!ts.isExportDeclaration(statement) || !statement.moduleSpecifier || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
      const spec = statement.moduleSpecifier.text;
      if (!spec.startsWith('.')) continue;
      const target = resolveSpecifier(file, spec);
      if (!target) throw new Error(`${file} re-exports "${spec}", which is no file of the package: the build is incomplete`);
      if (target.startsWith(`${DIST}/`)) stack.push(target);
    }
  }
  return seen;
}

/** A declaration file without comments, its leading triple-slash directives kept; the same text for a file without comments. */
export function withoutComments(file, text) {
  const directives = text.match(/^(?:\s*\/\/\/\s*<[^\n]*\n)*/)[0].trim();
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const printed = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed }).printFile(source);
  return directives ? `${directives}\n${printed}` : printed;
}

/**
 * Readies dist/ for packing: minifies the JavaScript, strips the internal declaration files'
 * comments and writes dist/.npmignore. Returns the entry points, the shipped and the left-out files.
 */
export function packageDist({ quiet = false } = {}) {
  if (!existsSync(join(ROOT, DIST, 'index.js'))) throw new Error('dist/index.js is missing: run `npm run build` first');
  const log = (line) => quiet || console.log(`package-dist: ${line}`);
  const kB = (bytes) => `${(bytes / 1000).toFixed(1)} kB`;

  const js = minifyDist();
  log(`JavaScript minified, ${kB(js.before)} → ${kB(js.after)}`);

  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const outside = outsideEntryPoints(pkg);
  log(`entry points outside dist/ present: ${outside.join(', ')}`);
  const roots = entryPoints(pkg);
  if (roots.length === 0) throw new Error('package.json has no entry point in dist/');
  const fromOutside = loadedFromOutside(outside);
  log(`${fromOutside.length} files of dist/ required from outside it (${outside.filter((f) => /\.c?js$/.test(f)).join(', ')})`);
  const keep = reachable([...roots, ...fromOutside]);

  const publicDeclarations = reExported(roots);
  const internalDeclarations = [...keep].filter((f) => f.endsWith('.d.ts') && !publicDeclarations.has(f));
  let before = 0;
  let after = 0;
  for (const file of internalDeclarations) {
    const path = join(ROOT, file);
    const text = readFileSync(path, 'utf8');
    const out = withoutComments(file, text);
    before += Buffer.byteLength(text);
    after += Buffer.byteLength(out);
    if (out !== text) writeFileSync(path, out);
  }
  log(`declarations: ${publicDeclarations.size} public files keep their comments, ${internalDeclarations.length} internal ones lose theirs (${kB(before)} → ${kB(after)})`);

  const all = filesUnder(DIST).filter((f) => f !== `${DIST}/.npmignore`);
  const omit = all.filter((f) => !keep.has(f)).sort();
  const lines = [
    '# Generated by scripts/package-dist.mjs (npm run build, prepack): what no entry point of the package reaches.',
    ...omit.map((f) => `/${f.slice(DIST.length + 1)}`),
    '',
  ];
  const ignoreFile = join(ROOT, DIST, '.npmignore');
  // Rewritten only when it changes: an `npm pack` running meanwhile never reads half a file.
  if (!existsSync(ignoreFile) || readFileSync(ignoreFile, 'utf8') !== lines.join('\n')) writeFileSync(ignoreFile, lines.join('\n'));
  const size = (files) => kB(files.reduce((s, f) => s + statSync(join(ROOT, f)).size, 0));
  log(`dist/ ships ${keep.size} files (${size([...keep])}) reachable from ${roots.join(', ')}; dist/.npmignore leaves out ${omit.length} (${size(omit)})`);
  return { roots, outside, fromOutside, keep: [...keep].sort(), omit };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== '--quiet');
  if (unknown.length > 0) {
    console.error(`unknown argument ${unknown[0]} (usage: node scripts/package-dist.mjs [--quiet])`);
    process.exit(2);
  }
  try {
    packageDist({ quiet: args.includes('--quiet') });
  } catch (e) {
    console.error(`package-dist failed: ${e instanceof Error ? e.message : e}`);
    process.exit(1);
  }
}
