import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Issue 7, items 6 and 7: one bundle per commit, whatever the build order, and a small one; issue
 * 10, item 3: the four Lambda handlers share their code (assets/handlers/, ES modules split into
 * chunks) and the CLI takes the core the library ships from dist/, so the package carries each once.
 *
 * scripts/bundle.mjs runs twice on two snapshots of the sources at two different absolute paths,
 * from two different working directories; the second snapshot has decoy tsconfig.json files (at
 * its root, where jsii writes one, and under lambda/) that change esbuild's output when read. The
 * bundles must be byte-identical. The handlers are then loaded as Lambda loads them (an ES module
 * per function, the SDK imported on first use), and the CLI run from a package layout. Nothing in
 * the repository is touched: the snapshots and outputs live in a temporary directory, node_modules
 * is a symlink to the repository's, dist/ (the CLI's core; `npm run build` first) too.
 */

const REPO = join(__dirname, '..', '..');
/**
 * What each Lambda entry may load, at most: its .mjs and every chunk it imports, at load or later
 * through import() (1 kB = 1000 bytes, minified, `@aws-sdk/*` external). Issue 7's target was
 * ≤ 100 kB per single-file bundle; split, a module's code is kept for the four entries together and
 * lands whole in the chunk of every entry that imports the module, which costs an entry up to
 * ~18 kB of code only another entry calls, hence 125 kB. What a cold start loads (`loadBytes`,
 * static imports only) is less: ~65 to 100 kB.
 */
const MAX_ENTRY_BYTES = 125_000;
/** What every function deploys: assets/handlers/, the four entries and all their chunks (~176 kB; four separate bundles were 300 kB). */
const MAX_HANDLERS_BYTES = 200_000;
/** The CLI (assets/cli/main.js: the commands and the pure core they run, no SDK, the core the library ships taken from dist/): ~200 kB. */
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
  /** `<entry>.handler`, the function's Handler. */
  handler: string;
  /** Chunks (paths in assets/handlers/) the entry imports when it loads, directly or through another chunk. */
  chunks: string[];
  /** Chunks it may import later, through import(). */
  lazyChunks: string[];
  /** The entry and `chunks`: what a cold start loads. */
  loadBytes: number;
  /** The entry, `chunks` and `lazyChunks`. */
  allBytes: number;
  externals: string[];
  packages: string[];
}
interface CliInfo extends FileInfo {
  /** main.js.LEGAL.txt: the license notices of the bundled code, when it has any. */
  legal?: FileInfo;
  externals: string[];
  /** The compiled library's modules the CLI requires (dist/core/….js), not bundled a second time. */
  fromDist: string[];
  packages: string[];
}
interface Manifest {
  esbuild: string;
  /** assets/handlers/: every file, path → sha256 and bytes; `bytes`: the code's (license notices aside). */
  handlers: { dir: string; bytes: number; files: Record<string, { sha256: string; bytes: number }> };
  entries: Record<string, EntryInfo>;
  /** The CLI's bundle: assets/cli/main.js. */
  cli: Record<string, CliInfo>;
}

/** Every file the manifest lists (paths in the output directory): the handlers' files, the CLI's bundle and notices. */
function allFiles(m: Manifest): FileInfo[] {
  return [
    ...Object.entries(m.handlers.files).map(([file, info]) => ({ file: `${m.handlers.dir}/${file}`, ...info })),
    ...Object.values(m.cli).flatMap((e) => (e.legal ? [e, e.legal] : [e])),
  ];
}

/** Every file under `dir`, relative to it, sorted. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((d) => (d.isDirectory() ? filesUnder(dir, join(prefix, d.name)) : [join(prefix, d.name)]))
    .sort();
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
  expect(existsSync(join(REPO, 'dist', 'core', 'plan.js')), 'dist/ is missing: run `npm run build` first (the CLI requires the core the library ships from dist/)').toBe(true);
  tmp = mkdtempSync(join(tmpdir(), 'rt-bundle-'));
  treeA = join(tmp, 'a', 'checkout');
  treeB = join(tmp, 'elsewhere', 'b', 'checkout');
  // Each output as in the package: <package>/assets, with the compiled library at <package>/dist
  // (the CLI requires ../../dist/core/…), and no node_modules anywhere above it.
  outA = join(tmp, 'package-a', 'assets');
  outB = join(tmp, 'package-b', 'assets');
  for (const out of [outA, outB]) {
    mkdirSync(join(out, '..'), { recursive: true });
    symlinkSync(join(REPO, 'dist'), join(out, '..', 'dist'), 'dir');
  }
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
}, 120_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('scripts/bundle.mjs', () => {
  it('bundles every Lambda entry point into assets/handlers/: one .mjs per function, the chunks they share, nothing else', () => {
    const entries = entriesOnDisk(treeA);
    expect(entries.length).toBeGreaterThan(0);
    expect(Object.keys(manifestA.entries).sort()).toEqual(entries);
    // The directory every function deploys holds exactly the files the manifest lists: any other
    // file would change the CDK asset hash (or ship in the package).
    const files = filesUnder(join(outA, 'handlers'));
    expect(files).toEqual(Object.keys(manifestA.handlers.files).sort());
    expect(files.filter((f) => !f.startsWith('chunks/'))).toEqual(['THIRD-PARTY-LICENSES.txt', ...entries.map((n) => `${n}.mjs`)].sort());
    for (const f of files.filter((x) => x.startsWith('chunks/'))) expect(f).toMatch(/^chunks\/[\w-]+\.mjs(\.LEGAL\.txt)?$/);
    for (const name of entries) {
      const info = manifestA.entries[name];
      expect(info.file).toBe(`handlers/${name}.mjs`);
      expect(info.handler).toBe(`${name}.handler`);
      // Every chunk an entry names is in the directory, and the byte counts add up.
      for (const c of [...info.chunks, ...info.lazyChunks]) expect(files).toContain(c);
      const sum = (list: string[]) => list.reduce((n, f) => n + manifestA.handlers.files[f].bytes, 0);
      expect(info.loadBytes).toBe(sum([`${name}.mjs`, ...info.chunks]));
      expect(info.allBytes).toBe(sum([`${name}.mjs`, ...info.chunks, ...info.lazyChunks]));
    }
    // Shared: some chunk is imported by more than one entry.
    const users = new Map<string, number>();
    for (const info of Object.values(manifestA.entries)) for (const c of info.chunks) users.set(c, (users.get(c) ?? 0) + 1);
    expect(Math.max(...users.values())).toBe(entries.length);
  });

  it('ships the license notices of every package bundled into the handlers, with the license texts', () => {
    const notices = readFileSync(join(outA, 'handlers', 'THIRD-PARTY-LICENSES.txt'), 'utf8');
    const bundled = [...new Set(Object.values(manifestA.entries).flatMap((e) => e.packages))];
    expect(bundled.length).toBeGreaterThan(0);
    for (const name of bundled) expect(notices).toMatch(new RegExp(`^${name.replace(/[/.@*]/g, '\\$&')} \\S+ \\(`, 'm'));
    // Apache-2.0 (section 4(a)) asks for a copy of the license itself with redistributed code.
    if (notices.includes('(Apache-2.0)')) expect(notices).toContain('TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION');
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
    expect(filesUnder(outB)).toEqual(filesUnder(outA));
    for (const info of allFiles(manifestA)) {
      const a = readFileSync(join(outA, info.file));
      const b = readFileSync(join(outB, info.file));
      expect(b.equals(a), `${info.file}: the two builds differ`).toBe(true);
      expect(createHash('sha256').update(a).digest('hex'), `${info.file}: manifest sha256`).toBe(info.sha256);
      expect(a.length, `${info.file}: manifest bytes`).toBe(info.bytes);
    }
    for (const info of Object.values(manifestA.entries)) expect(info.sha256).toBe(manifestA.handlers.files[info.file.slice('handlers/'.length)].sha256);
  });

  it('embeds no absolute path', () => {
    for (const info of allFiles(manifestA)) {
      const text = readFileSync(join(outA, info.file), 'utf8');
      for (const path of ['/work/', tmp, REPO]) expect(text.includes(path), `${info.file} contains ${path}`).toBe(false);
      expect(text).not.toMatch(/sourceMappingURL/);
    }
  });

  it('imports the AWS SDK from the runtime, lazily, and bundles none of it, nor the CDK', () => {
    for (const [name, info] of Object.entries(manifestA.entries)) {
      expect(info.externals.length, `${name} imports no SDK client`).toBeGreaterThan(0);
      for (const external of info.externals) expect(external, `${name} imports ${external}`).toMatch(/^@aws-sdk\/client-[a-z]+$/);
      for (const pkg of info.packages) expect(pkg, `${name} bundles ${pkg}`).not.toMatch(/^(@aws-sdk\/|@smithy\/|aws-cdk-lib$|constructs$|aws-cdk$)/);
    }
    for (const file of Object.keys(manifestA.handlers.files).filter((f) => f.endsWith('.mjs'))) {
      const text = readFileSync(join(outA, 'handlers', file), 'utf8');
      // ES modules throughout: no CommonJS require (esbuild's __require throws "Dynamic require … is not supported" in an ES module).
      expect(text, file).not.toMatch(/\b(require|__require)\(/);
      // Every mention of an SDK module is an import of it, never a module body.
      const mentions = text.match(/.{0,9}@aws-sdk\//g) ?? [];
      for (const m of mentions) expect(m, `${file}: ${m}`).toMatch(/(import\(|from)["'`]@aws-sdk\/$/);
    }
    // What a cold start loads imports no SDK module: only chunks reached through import() may.
    for (const [name, info] of Object.entries(manifestA.entries)) {
      for (const file of [`${name}.mjs`, ...info.chunks]) {
        expect(readFileSync(join(outA, 'handlers', file), 'utf8'), `${name} loads ${file}, which imports the SDK at load`).not.toMatch(/from["'`]@aws-sdk\//);
      }
    }
  });

  it('loads each entry as an ES module, with no node_modules anywhere above it: the handler is exported and nothing it loads needs a package', () => {
    const script = `const m = await import(${JSON.stringify(pathToFileURL(join(outA, 'handlers', 'ENTRY.mjs')).href)}); process.stdout.write(typeof m.handler);`;
    for (const name of Object.keys(manifestA.entries)) {
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script.replace('ENTRY', name)], { cwd: tmpdir(), encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
      expect(out, name).toBe('function');
    }
  });

  it('the starter, run from the bundle as Lambda runs it, loads the Step Functions client on first use and starts the bake', () => {
    // A copy of the directory the function deploys, and, where Node resolves `import('@aws-sdk/…')`
    // from it, a stand-in for the runtime's SDK that records what it is sent.
    const task = join(tmp, 'task');
    cpSync(join(outA, 'handlers'), task, { recursive: true });
    const sfn = join(task, 'node_modules', '@aws-sdk', 'client-sfn');
    mkdirSync(sfn, { recursive: true });
    writeFileSync(join(sfn, 'package.json'), JSON.stringify({ name: '@aws-sdk/client-sfn', type: 'module', exports: './index.js' }));
    writeFileSync(
      join(sfn, 'index.js'),
      `class Command { constructor(input) { this.input = input; } }
       export class StartExecutionCommand extends Command {}
       export class DescribeExecutionCommand extends Command {}
       export class SFNClient {
         async send(command) {
           globalThis.sent.push({ command: command.constructor.name, input: command.input });
           return { executionArn: 'arn:aws:states:us-east-1:123456789012:execution:Bake:' + command.input.name };
         }
       }`,
    );
    const script = `
      globalThis.sent = [];
      const { handler } = await import(${JSON.stringify(pathToFileURL(join(task, 'starter.mjs')).href)});
      await handler({ DeploymentId: 'd-EXAMPLE11', LifecycleEventHookExecutionId: 'hook-1' }, { getRemainingTimeInMillis: () => 60000 });
      process.stdout.write('\\nSENT ' + JSON.stringify(globalThis.sent) + '\\n');`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: tmpdir(),
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', RT_STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:123456789012:stateMachine:Bake', RT_EVENT_BUS: 'audit', AWS_REGION: 'us-east-1' },
    });
    const sent = JSON.parse(out.split('\n').find((l) => l.startsWith('SENT '))!.slice('SENT '.length)) as Array<{ command: string; input: { stateMachineArn: string; name: string; input: string } }>;
    expect(sent).toHaveLength(1);
    expect(sent[0].command).toBe('StartExecutionCommand');
    expect(sent[0].input.stateMachineArn).toBe('arn:aws:states:us-east-1:123456789012:stateMachine:Bake');
    expect(JSON.parse(sent[0].input.input)).toMatchObject({ deploymentId: 'd-EXAMPLE11', lifecycleEventHookExecutionId: 'hook-1' });
  });

  it(`keeps what each entry may load within ${MAX_ENTRY_BYTES / 1000} kB, and the directory every function deploys within ${MAX_HANDLERS_BYTES / 1000} kB`, () => {
    const sizes = Object.fromEntries(Object.entries(manifestA.entries).map(([name, info]) => [name, info.allBytes]));
    const over = Object.entries(sizes).filter(([, bytes]) => bytes > MAX_ENTRY_BYTES);
    expect(over, `entries over ${MAX_ENTRY_BYTES} bytes with their chunks: ${JSON.stringify(sizes)}`).toEqual([]);
    for (const info of Object.values(manifestA.entries)) expect(info.loadBytes).toBeLessThanOrEqual(info.allBytes);
    expect(manifestA.handlers.bytes, 'assets/handlers/').toBeLessThanOrEqual(MAX_HANDLERS_BYTES);
  });

  it('bundles the CLI into assets/cli/main.js alone: no AWS SDK bundle beside it', () => {
    expect(Object.keys(manifestA.cli)).toEqual(['main']);
    const info = manifestA.cli.main;
    expect(readdirSync(join(outA, 'cli')).sort()).toEqual(info.legal ? ['main.js', 'main.js.LEGAL.txt'] : ['main.js']);
  });

  it("bundles the command into assets/cli/main.js: no SDK, no third-party code, the SDK and resvg left to the user's project, the core the library ships taken from dist/", () => {
    const info = manifestA.cli.main;
    expect(info.file).toBe('cli/main.js');
    // approve/reject require the SFN and STS clients, `simulate --png` resvg (a native binary per platform), from the user's project.
    expect(info.externals).toEqual(CLI_EXTERNALS);
    expect(info.packages).toEqual([]);
    // The pure-core modules the construct library loads come from the compiled library, never the
    // simulator, emulator or canary statistics (the library does not ship them: test/build/load.test.ts).
    expect(info.fromDist.length).toBeGreaterThan(0);
    for (const f of info.fromDist) {
      expect(f).toMatch(/^dist\/core\/[\w-]+\.js$/);
      expect(existsSync(join(REPO, f)), `${f} is required by the CLI but jsii did not write it`).toBe(true);
    }
    expect(info.fromDist).toEqual(expect.arrayContaining(['dist/core/errors.js', 'dist/core/plan.js']));
    const text = readFileSync(join(outA, info.file), 'utf8');
    // The package's `bin`: npm links it as an executable, so it starts with its interpreter line.
    expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true);
    // No SDK client code (its service target prefix, its packages' names as modules) in the bundle.
    for (const marker of ['AWSStepFunctions', '@smithy/', 'GetCallerIdentityResult']) expect(text.includes(marker), `main.js contains ${marker}`).toBe(false);
    const required = [...new Set([...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]))];
    expect(required.filter((r) => !r.startsWith('node:') && !r.startsWith('../../dist/')).sort()).toEqual(CLI_EXTERNALS);
    expect(required.filter((r) => r.startsWith('../../dist/')).map((r) => r.slice('../../'.length)).sort()).toEqual(info.fromDist);
    // It runs from the package (dist/ beside assets/), from a directory without node_modules: plan's usage, and approve saying what to install.
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
