import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue 7, items 6 and 7: one bundle per commit, whatever the build order, and a small one.
 *
 * scripts/bundle.mjs runs twice on two snapshots of the sources at two different absolute paths,
 * from two different working directories; the second snapshot has decoy tsconfig.json files (at
 * its root, where jsii writes one, and under lambda/) that change esbuild's output when read. The
 * bundles must be byte-identical. Nothing in the repository is touched: the snapshots and outputs
 * live in a temporary directory, node_modules is a symlink to the repository's.
 */

const REPO = join(__dirname, '..', '..');
/** The issue's target for each Lambda bundle, minified with `@aws-sdk/*` external (1 kB = 1000 bytes). */
const MAX_BUNDLE_BYTES = 100_000;
/** The CLI (assets/cli/main.js: the commands and the pure core they run, no SDK): ~220 kB. */
const MAX_CLI_MAIN_BYTES = 300_000;
/** What assets/cli/main.js leaves to the user's project, each required only by the command that needs it. */
const CLI_EXTERNALS = ['@aws-sdk/client-sfn', '@aws-sdk/client-sfn/package.json', '@aws-sdk/client-sts', '@aws-sdk/client-sts/package.json', '@resvg/resvg-js'];
/** A tsconfig.json that changes esbuild's output if esbuild reads it (checked below). */
const DECOY_TSCONFIG = {
  compilerOptions: { alwaysStrict: false, strict: false, useDefineForClassFields: false, experimentalDecorators: true, target: 'es5' },
};

interface FileInfo {
  file: string;
  sha256: string;
  bytes: number;
}
interface EntryInfo extends FileInfo {
  /** index.js.LEGAL.txt: the license notices of the bundled code, when it has any. */
  legal?: FileInfo;
  externals: string[];
  packages: string[];
}
interface Manifest {
  esbuild: string;
  entries: Record<string, EntryInfo>;
  /** The CLI's bundle: assets/cli/main.js. */
  cli: Record<string, EntryInfo>;
}

/** Every file the manifest lists: the bundles and their license notices, Lambda and CLI. */
function allFiles(m: Manifest): FileInfo[] {
  return [...Object.values(m.entries), ...Object.values(m.cli)].flatMap((e) => (e.legal ? [e, e.legal] : [e]));
}

let tmp: string;
let outA: string;
let outB: string;
let treeA: string;
let treeB: string;
let manifestA: Manifest;
let manifestB: Manifest;

/** The handler directories in the repository: lambda/<name>/index.ts, shared code excluded. */
function entriesOnDisk(root: string): string[] {
  return readdirSync(join(root, 'lambda'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'shared' && existsSync(join(root, 'lambda', d.name, 'index.ts')))
    .map((d) => d.name)
    .sort();
}

/** A copy of what the bundle reads: the handlers, the library they import, the script and its config. */
function snapshot(from: string, to: string): void {
  mkdirSync(join(to, 'scripts'), { recursive: true });
  for (const dir of ['lambda', 'lib']) cpSync(join(from, dir), join(to, dir), { recursive: true });
  for (const file of ['package.json', 'tsconfig.dev.json', 'scripts/bundle.mjs']) cpSync(join(from, file), join(to, file));
  symlinkSync(join(REPO, 'node_modules'), join(to, 'node_modules'), 'dir');
}

function runBundle(tree: string, outdir: string, cwd: string): Manifest {
  execFileSync(process.execPath, [join(tree, 'scripts', 'bundle.mjs'), '--outdir', outdir, '--quiet'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as Manifest;
}

/** esbuild as `npm run bundle` used to call it: tsconfig.json discovered on disk. */
async function naiveBuild(tree: string, entry: string): Promise<string> {
  const result = await esbuild.build({
    absWorkingDir: tree,
    entryPoints: [`lambda/${entry}/index.ts`],
    outfile: 'out.js',
    write: false,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: true,
    external: ['@aws-sdk/*'],
    logLevel: 'silent',
  });
  return createHash('sha256').update(result.outputFiles[0].contents).digest('hex');
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'rt-bundle-'));
  treeA = join(tmp, 'a', 'checkout');
  treeB = join(tmp, 'elsewhere', 'b', 'checkout');
  outA = join(tmp, 'out-a');
  outB = join(tmp, 'out-b');
  // One snapshot of the sources, copied again: both builds see the same files even if the
  // working tree changes while the test runs.
  snapshot(REPO, treeA);
  snapshot(treeA, treeB);
  rmSync(join(treeB, 'node_modules'));
  symlinkSync(join(REPO, 'node_modules'), join(treeB, 'node_modules'), 'dir');
  writeFileSync(join(treeB, 'tsconfig.json'), JSON.stringify(DECOY_TSCONFIG));
  writeFileSync(join(treeB, 'lambda', 'tsconfig.json'), JSON.stringify(DECOY_TSCONFIG));
  manifestA = runBundle(treeA, outA, treeA);
  manifestB = runBundle(treeB, outB, tmpdir());
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('scripts/bundle.mjs', () => {
  it('bundles every Lambda entry point', () => {
    const entries = entriesOnDisk(treeA);
    expect(entries.length).toBeGreaterThan(0);
    expect(Object.keys(manifestA.entries).sort()).toEqual(entries);
    for (const name of entries) {
      // The asset directory holds the bundle and its license notices only: any other file would
      // change the CDK asset hash.
      const files = readdirSync(join(outA, name)).sort();
      expect(files).toEqual(manifestA.entries[name].legal ? ['index.js', 'index.js.LEGAL.txt'] : ['index.js']);
    }
  });

  it('fails loudly when an entry point is missing or a handler directory is not a known entry', () => {
    const entries = Object.keys(manifestA.entries);
    const run = (tree: string) => {
      try {
        execFileSync(process.execPath, [join(tree, 'scripts', 'bundle.mjs'), '--outdir', join(tree, 'out'), '--quiet'], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
        return { status: 0, stderr: '' };
      } catch (e) {
        const err = e as { status: number; stderr: string };
        return { status: err.status, stderr: err.stderr };
      }
    };
    const missing = join(tmp, 'missing', 'checkout');
    snapshot(treeA, missing);
    rmSync(join(missing, 'lambda', entries[0]), { recursive: true });
    expect(run(missing)).toEqual({ status: 1, stderr: expect.stringContaining(`missing Lambda entry point(s): lambda/${entries[0]}/index.ts`) });
    expect(existsSync(join(missing, 'out'))).toBe(false);

    const unknown = join(tmp, 'unknown', 'checkout');
    snapshot(treeA, unknown);
    mkdirSync(join(unknown, 'lambda', 'extra'));
    writeFileSync(join(unknown, 'lambda', 'extra', 'index.ts'), 'export const handler = async () => 1;\n');
    expect(run(unknown)).toEqual({ status: 1, stderr: expect.stringContaining('lambda/extra/index.ts is not a known entry point') });
  });

  it('the decoy tsconfig.json would change the output if esbuild read it', async () => {
    // esbuild as the old `npm run bundle` ran it: at least one bundle changes with the decoy.
    const changed: string[] = [];
    for (const entry of Object.keys(manifestA.entries)) {
      if ((await naiveBuild(treeB, entry)) !== (await naiveBuild(treeA, entry))) changed.push(entry);
    }
    expect(changed.length).toBeGreaterThan(0);
  });

  it('writes byte-identical bundles whatever tsconfig.json, checkout path or working directory', () => {
    expect(manifestB).toEqual(manifestA);
    for (const info of allFiles(manifestA)) {
      const a = readFileSync(join(outA, info.file));
      const b = readFileSync(join(outB, info.file));
      expect(b.equals(a), `${info.file}: the two builds differ`).toBe(true);
      expect(createHash('sha256').update(a).digest('hex'), `${info.file}: manifest sha256`).toBe(info.sha256);
      expect(a.length, `${info.file}: manifest bytes`).toBe(info.bytes);
    }
  });

  it('embeds no absolute path', () => {
    for (const info of allFiles(manifestA)) {
      const text = readFileSync(join(outA, info.file), 'utf8');
      for (const path of ['/work/', tmp, REPO]) expect(text.includes(path), `${info.file} contains ${path}`).toBe(false);
      expect(text).not.toMatch(/sourceMappingURL/);
    }
  });

  it('requires the AWS SDK from the runtime and bundles none of it, nor the CDK', () => {
    for (const [name, info] of Object.entries(manifestA.entries)) {
      for (const external of info.externals) expect(external, `${name} requires ${external}`).toMatch(/^@aws-sdk\//);
      for (const pkg of info.packages) expect(pkg, `${name} bundles ${pkg}`).not.toMatch(/^(@aws-sdk\/|@smithy\/|aws-cdk-lib$|constructs$|aws-cdk$)/);
      const text = readFileSync(join(outA, info.file), 'utf8');
      // Every mention of an SDK module is a require or import of it, never a module body.
      const mentions = text.match(/.{0,9}@aws-sdk\//g) ?? [];
      for (const m of mentions) expect(m, `${name}: ${m}`).toMatch(/(require|import)\(["'`]@aws-sdk\/$/);
    }
  });

  it(`keeps each bundle within ${MAX_BUNDLE_BYTES / 1000} kB minified with @aws-sdk/* external`, () => {
    const sizes = Object.fromEntries(Object.entries(manifestA.entries).map(([name, info]) => [name, info.bytes]));
    const over = Object.entries(sizes).filter(([, bytes]) => bytes > MAX_BUNDLE_BYTES);
    expect(over, `bundles over ${MAX_BUNDLE_BYTES} bytes: ${JSON.stringify(sizes)}`).toEqual([]);
  });

  it('bundles the CLI into assets/cli/main.js alone: no AWS SDK bundle beside it', () => {
    expect(Object.keys(manifestA.cli)).toEqual(['main']);
    const info = manifestA.cli.main;
    expect(readdirSync(join(outA, 'cli')).sort()).toEqual(info.legal ? ['main.js', 'main.js.LEGAL.txt'] : ['main.js']);
  });

  it('bundles the command into assets/cli/main.js: no SDK, no third-party code, the SDK and resvg left to the user\'s project', () => {
    const info = manifestA.cli.main;
    expect(info.file).toBe('cli/main.js');
    // approve/reject require the SFN and STS clients, `simulate --png` resvg (a native binary per platform), from the user's project.
    expect(info.externals).toEqual(CLI_EXTERNALS);
    expect(info.packages).toEqual([]);
    const text = readFileSync(join(outA, info.file), 'utf8');
    // The package's `bin`: npm links it as an executable, so it starts with its interpreter line.
    expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true);
    // No SDK client code (its service target prefix, its packages' names as modules) in the bundle.
    for (const marker of ['AWSStepFunctions', '@smithy/', 'GetCallerIdentityResult']) expect(text.includes(marker), `main.js contains ${marker}`).toBe(false);
    const required = [...new Set([...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]))];
    expect(required.filter((r) => !r.startsWith('node:')).sort()).toEqual(CLI_EXTERNALS);
    // It runs on its own, from a directory without node_modules: plan's usage, and approve saying what to install.
    const env = { PATH: process.env.PATH ?? '' };
    const usage = execFileSync(process.execPath, [join(outA, info.file), '--help'], { cwd: tmpdir(), encoding: 'utf8', env });
    expect(usage).toMatch(/^Usage: rollback-triggers plan /);
    const approve = spawnSync(process.execPath, [join(outA, info.file), 'approve', '--execution', 'arn:aws:states:eu-west-1:123456789012:execution:Bake:d-EXAMPLE11'], {
      cwd: tmpdir(),
      encoding: 'utf8',
      env,
    });
    expect(approve.status).toBe(2);
    expect(approve.stderr).toContain('Install them in your project with "npm install @aws-sdk/client-sfn@3 @aws-sdk/client-sts@3"; nothing was sent');
  });

  it(`keeps the CLI command within ${MAX_CLI_MAIN_BYTES / 1000} kB minified`, () => {
    const bytes = manifestA.cli.main.bytes;
    expect(bytes, `cli/main.js is ${bytes} bytes`).toBeLessThanOrEqual(MAX_CLI_MAIN_BYTES);
  });
});
