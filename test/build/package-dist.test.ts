import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * scripts/package-dist.mjs (`npm run build`, `prepack`) refuses to ready a package whose entry points
 * outside dist/ are missing: the `bin` and the subpath packages `files` ships (runtime/, the agent
 * helper, `require('cdk-rollback-triggers/runtime')`), so a partial build is never packed with a
 * runtime/package.json that points at nothing. It also ships every dist/ file the CLI's bundle
 * requires (the pure core the library compiles, which assets/cli/main.js does not bundle again).
 */

const REPO = join(__dirname, '..', '..');

interface PackageDist {
  outsideEntryPoints(pkg: Record<string, unknown>, root?: string): string[];
  loadedFromOutside(files: string[], root?: string): string[];
}

let script: PackageDist;
let tmp: string;

beforeAll(async () => {
  script = (await import(join(REPO, 'scripts', 'package-dist.mjs'))) as PackageDist;
  tmp = mkdtempSync(join(tmpdir(), 'rt-package-dist-'));
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('scripts/package-dist.mjs: the entry points outside dist/', () => {
  it("are the repository's bin and the agent helper's bundle and types, present after the build", () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(script.outsideEntryPoints(pkg)).toEqual(['assets/cli/main.js', 'runtime/index.d.ts', 'runtime/index.js']);
  });

  it('a subpath package whose main or types is missing stops the packing, naming the files', () => {
    const root = join(tmp, 'partial');
    mkdirSync(join(root, 'runtime'), { recursive: true });
    mkdirSync(join(root, 'assets', 'cli'), { recursive: true });
    writeFileSync(join(root, 'assets', 'cli', 'main.js'), '#!/usr/bin/env node\n');
    writeFileSync(join(root, 'runtime', 'package.json'), JSON.stringify({ main: 'index.js', types: 'index.d.ts' }));
    const pkg = { name: 'p', main: 'dist/index.js', bin: { p: 'assets/cli/main.js' }, files: ['dist/**/*.js', 'assets/**', 'runtime/**', 'README.md'] };
    expect(() => script.outsideEntryPoints(pkg, root)).toThrow(
      'runtime/index.d.ts, runtime/index.js are missing: run `npm run build` first (`npm run bundle` writes assets/ and runtime/)',
    );
    writeFileSync(join(root, 'runtime', 'index.js'), 'module.exports = {};\n');
    expect(() => script.outsideEntryPoints(pkg, root)).toThrow(/^runtime\/index\.d\.ts is missing/);
    writeFileSync(join(root, 'runtime', 'index.d.ts'), 'export {};\n');
    expect(script.outsideEntryPoints(pkg, root)).toEqual(['assets/cli/main.js', 'runtime/index.d.ts', 'runtime/index.js']);
    // A directory `files` does not ship is not checked; a missing bin is.
    expect(script.outsideEntryPoints({ ...pkg, files: ['dist/**/*.js', 'assets/**'] }, root)).toEqual(['assets/cli/main.js']);
    expect(() => script.outsideEntryPoints({ ...pkg, bin: { p: 'assets/cli/gone.js' } }, root)).toThrow(/^assets\/cli\/gone\.js is missing/);
  });

  it('a subpath package without "main" stops the packing', () => {
    const root = join(tmp, 'no-main');
    mkdirSync(join(root, 'runtime'), { recursive: true });
    writeFileSync(join(root, 'runtime', 'package.json'), JSON.stringify({ types: 'index.d.ts' }));
    expect(() => script.outsideEntryPoints({ name: 'p', files: ['runtime/**'] }, root)).toThrow(`runtime/package.json has no "main": require('p/runtime') would not resolve`);
  });
});

describe('scripts/package-dist.mjs: the dist/ files the CLI requires', () => {
  it('are the core modules scripts/bundle.mjs took from dist/, and the package ships every one of them', () => {
    const manifest = JSON.parse(readFileSync(join(REPO, 'assets', 'manifest.json'), 'utf8')) as { cli: { main: { fromDist: string[] } } };
    const required = script.loadedFromOutside(['assets/cli/main.js', 'runtime/index.js']);
    expect(required).toEqual(manifest.cli.main.fromDist);
    expect(required.length).toBeGreaterThan(0);
    // dist/.npmignore (what the packing leaves out) names none of them.
    const ignored = readFileSync(join(REPO, 'dist', '.npmignore'), 'utf8').split('\n');
    for (const f of required) expect(ignored, f).not.toContain(`/${f.slice('dist/'.length)}`);
  });

  it('a required dist/ file that is missing stops the packing, naming both files', () => {
    const root = join(tmp, 'cli-requires');
    mkdirSync(join(root, 'assets', 'cli'), { recursive: true });
    mkdirSync(join(root, 'dist', 'core'), { recursive: true });
    writeFileSync(join(root, 'assets', 'cli', 'main.js'), '#!/usr/bin/env node\nconst a = require("../../dist/core/a.js"), b = require("../../dist/core/b.js"), fs = require("node:fs");\n');
    writeFileSync(join(root, 'dist', 'core', 'a.js'), 'exports.a = 1;\n');
    expect(() => script.loadedFromOutside(['assets/cli/main.js'], root)).toThrow(/^assets\/cli\/main\.js requires dist\/core\/b\.js, which is missing: run `npm run build`/);
    writeFileSync(join(root, 'dist', 'core', 'b.js'), 'exports.b = 2;\n');
    expect(script.loadedFromOutside(['assets/cli/main.js'], root)).toEqual(['dist/core/a.js', 'dist/core/b.js']);
  });
});
