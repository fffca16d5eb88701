import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEmf } from '../runtime/emf';

/**
 * Issue 10, item 3: what a user gets from npm works. `npm pack` (its `prepack` included), the
 * tarball installed into an empty project that holds only aws-cdk-lib and constructs, the examples
 * synthesized there as a user's app (imports rewritten to 'cdk-rollback-triggers'), the agent
 * helper required as `cdk-rollback-triggers/runtime`, and the installed `rollback-triggers` binary
 * run through `npx`: plan, simulate (with and without the optional PNG renderer) and approve
 * (without the AWS SDK, then with it, against a local endpoint).
 *
 * Runs after `npm run build` (part of `npm test`). Nothing is downloaded: the package has no
 * dependencies, its peers and the optional packages a user would install (the SDK clients, resvg)
 * are links to this repository's node_modules (made after the install, so npm never touches them),
 * and npm runs with --offline. About 45 s of CPU (2 min on a busy 2-core machine), most of it the
 * example app's synthesis and its type check.
 */

const REPO = join(__dirname, '..', '..');
const NODE_MODULES = join(REPO, 'node_modules');
const PACKAGE = 'cdk-rollback-triggers';
/** The peers, and what a TypeScript user's project has beside them. */
const LINKED = ['aws-cdk-lib', 'constructs', '@types/node'];
/** The example app (examples/app.ts and the stacks it imports), every file copied. */
const EXAMPLES = readdirSync(join(REPO, 'examples')).filter((f) => f.endsWith('.ts'));
/** Stacks of the example app that the plan must cover (it may have more). */
const STACKS = ['CheckoutService', 'FargateService', 'LambdaCanary'];
const TIMEOUT_MS = 180_000;
/**
 * Issue 10, item 3's targets: ≤ 400 kB packed and ≤ 1.5 MB unpacked (`npx tsx bench/footprint.bench.ts`
 * prints the figures against them, and where the bytes are), both held here. test/build/bundle.test.ts
 * caps the CLI's and the functions' own bundles, test/runtime the agent helper's.
 */
const MAX_PACKED_BYTES = 400_000;
const MAX_UNPACKED_BYTES = 1_500_000;
/** The AWS SDK clients `approve` and `reject` load from the user's project (lib/cli/aws-clients.ts). */
const SDK_CLIENTS = ['@aws-sdk/client-sfn', '@aws-sdk/client-sts'];
/** tsx's CommonJS hook, from this repository (the project has no tsx): runs the app and the CLI's sources. */
const TSX = createRequire(__filename).resolve('tsx/cjs');
/** An agent's own code, type-checked against the installed helper's declarations (not synthesized: it is no CDK app). */
const AGENT = 'agent.ts';
const AGENT_SOURCE = `import { recordEvaluation, validateOutput, withCheckpoint, type CheckpointResult } from '${PACKAGE}/runtime';

interface State {
  answer?: string;
}
const schema = { type: 'object', required: ['answer'], properties: { answer: { type: 'string' } } };

export async function step(): Promise<CheckpointResult<State>> {
  const result = await withCheckpoint<State>({}, (draft) => {
    draft.answer = 'refund approved';
  }, schema);
  recordEvaluation({ confidence: 0.9, schemaValid: validateOutput(schema, result.state).valid, service: 'support-agent' });
  return result;
}
`;

let tmp: string;
let project: string;
let installed: string;
let tarball: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (asynchronously, so a local server in this process can answer it). */
function run(file: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { ...options, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }, (e, stdout, stderr) =>
      resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** `npx rollback-triggers …` in the project; --no-install: a missing binary fails instead of fetching some other package of that name. */
function rollbackTriggers(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return run('npx', ['--no-install', 'rollback-triggers', ...args], { cwd: project, env: { ...env, npm_config_offline: 'true' } });
}

/** The same command from this repository's sources (tsx), to compare the bundle against. */
function fromSources(args: string[]): Promise<Run> {
  return run(process.execPath, ['--require', TSX, join(REPO, 'lib', 'cli', 'main.ts'), ...args], { cwd: project });
}

function link(name: string): void {
  mkdirSync(join(project, 'node_modules', name, '..'), { recursive: true });
  symlinkSync(join(NODE_MODULES, name), join(project, 'node_modules', name), 'dir');
}

beforeAll(async () => {
  expect(existsSync(join(REPO, 'dist', 'index.js')), 'dist/index.js is missing: run `npm run build` first').toBe(true);
  tmp = mkdtempSync(join(tmpdir(), 'rt-tarball-'));
  execFileSync('npm', ['pack', '--pack-destination', tmp, '--silent'], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
  const packed = readdirSync(tmp).filter((f) => f.endsWith('.tgz'));
  expect(packed).toHaveLength(1);
  tarball = join(tmp, packed[0]);

  project = join(tmp, 'app');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), `${JSON.stringify({ name: 'tarball-app', version: '1.0.0', private: true }, null, 2)}\n`);
  // --legacy-peer-deps: npm would otherwise fetch the peers; they are linked below instead.
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--legacy-peer-deps', tarball], { cwd: project, stdio: ['ignore', 'ignore', 'pipe'] });
  installed = join(project, 'node_modules', PACKAGE);
  for (const name of LINKED) link(name);

  // The examples as a user's app: the same files, importing the installed package.
  mkdirSync(join(project, 'src'));
  for (const file of EXAMPLES) {
    const text = readFileSync(join(REPO, 'examples', file), 'utf8').replace(/from '\.\.\/lib'/g, `from '${PACKAGE}'`);
    // Anything else reaching out of examples/ would not exist in a user's project.
    expect(text, `examples/${file} imports from outside examples/ other than '../lib'`).not.toMatch(/from '\.\.\//);
    writeFileSync(join(project, 'src', file), text);
  }
  writeFileSync(join(project, 'src', AGENT), AGENT_SOURCE);
  // What `cdk synth` does with the app: run it with CDK_OUTDIR set.
  const synth = await run(process.execPath, ['--require', TSX, join(project, 'src', 'app.ts')], { cwd: project, env: { ...process.env, CDK_OUTDIR: join(project, 'cdk.out') } });
  expect(synth.code, `the example app failed to synthesize:\n${synth.stderr}`).toBe(0);
}, TIMEOUT_MS);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// Each test runs processes on a machine the other test files share: more than vitest's default minute when it is busy.
describe('the packed package, installed into an empty project', { timeout: TIMEOUT_MS }, () => {
  it('installs as npm packs it: the library, its declarations, the bundled binary, and nothing only the build needs', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
      .split('\n')
      .filter((f) => f)
      .map((f) => f.replace(/^package\//, ''));
    expect(files).toEqual(
      expect.arrayContaining(['dist/index.js', 'dist/index.d.ts', 'assets/cli/main.js', '.jsii', '.jsii.gz', 'package.json', 'README.md', 'runtime/package.json', 'runtime/index.js', 'runtime/index.d.ts']),
    );
    // The command alone: the AWS SDK of approve and reject comes from the user's project.
    expect(files.filter((f) => f.startsWith('assets/cli/'))).toEqual(['assets/cli/main.js']);
    // The functions' code: one directory they all deploy, an ES module per function and the chunks they share.
    expect(files.filter((f) => f.startsWith('assets/') && !f.startsWith('assets/cli/') && !f.startsWith('assets/handlers/'))).toEqual([]);
    // With the license notices of the packages bundled into them (Apache-2.0 asks for the license's text).
    expect(files.filter((f) => /^assets\/handlers\/[^/]+$/.test(f)).sort()).toEqual([
      'assets/handlers/THIRD-PARTY-LICENSES.txt',
      ...['evaluator', 'follow-up', 'starter', 'state-change'].map((n) => `assets/handlers/${n}.mjs`),
    ]);
    expect(files.some((f) => f.startsWith('assets/handlers/chunks/'))).toBe(true);
    // The agent helper's bundle, its declarations and the notices of the code it bundles; nothing else.
    expect(files.filter((f) => f.startsWith('runtime/') && !/^runtime\/[a-z-]+\.d\.ts$/.test(f)).sort()).toEqual([
      'runtime/THIRD-PARTY-LICENSES.txt',
      'runtime/index.js',
      'runtime/package.json',
    ]);
    // The CLI ships bundled; the construct code loads neither the canary statistics, the emulator nor the simulator.
    expect(files.filter((f) => /^dist\/(cli|core\/(canary|emulator|simulator))\//.test(f))).toEqual([]);
    const sourcesOrBuildFiles = (f: string) => /^(lib|lambda|test|scripts|examples)\/|\.map$|tsbuildinfo|\.npmignore$/.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts'));
    expect(files.filter(sourcesOrBuildFiles)).toEqual([]);
    // npm linked the binary into the project.
    expect(existsSync(join(project, 'node_modules', '.bin', 'rollback-triggers'))).toBe(true);
  });

  it(`stays under ${MAX_PACKED_BYTES / 1000} kB packed and ${MAX_UNPACKED_BYTES / 1e6} MB installed`, () => {
    const packed = statSync(tarball).size;
    const sizeOf = (dir: string): number =>
      readdirSync(dir, { withFileTypes: true }).reduce((sum, d) => sum + (d.isDirectory() ? sizeOf(join(dir, d.name)) : statSync(join(dir, d.name)).size), 0);
    const unpacked = sizeOf(installed);
    expect(packed, `the tarball is ${packed} bytes`).toBeLessThanOrEqual(MAX_PACKED_BYTES);
    expect(unpacked, `the installed package is ${unpacked} bytes`).toBeLessThanOrEqual(MAX_UNPACKED_BYTES);
  });

  it('type-checks the example app against the installed declarations, every one of them present', () => {
    const roots = [...EXAMPLES, AGENT].map((f) => join(project, 'src', f));
    const program = ts.createProgram(roots, {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      types: ['node'],
      typeRoots: [join(project, 'node_modules', '@types')],
      // aws-cdk-lib's own declarations are not under test; the package's and the app's are checked below.
      skipLibCheck: false,
    });
    const ours = program.getSourceFiles().filter((f) => f.fileName.startsWith(`${installed}/`) || f.fileName.startsWith(join(project, 'src')));
    // The check sees the package's declarations, the internal ones the public ones import too.
    const names = ours.map((f) => relative(installed, f.fileName));
    expect(names).toEqual(expect.arrayContaining(['dist/index.d.ts', 'dist/slo/service-level-objective.d.ts', 'dist/core/policy.d.ts', 'runtime/index.d.ts']));
    const diagnostics = ours.flatMap((f) => [...program.getSyntacticDiagnostics(f), ...program.getSemanticDiagnostics(f)]);
    const text = diagnostics.map((d) => `${d.file ? relative(project, d.file.fileName) : ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    expect(text).toEqual([]);
  });

  it('synthesizes the examples with the installed package', () => {
    const manifest = JSON.parse(readFileSync(join(project, 'cdk.out', 'manifest.json'), 'utf8')) as { artifacts: Record<string, { type: string }> };
    const stacks = Object.entries(manifest.artifacts)
      .filter(([, a]) => a.type === 'aws:cloudformation:stack')
      .map(([id]) => id);
    expect(stacks).toEqual(expect.arrayContaining(STACKS));
    // The functions' code is the installed package's prebundled handlers (Code.fromAsset of
    // assets/handlers/, one asset for all four functions), byte for byte.
    const filesUnder = (dir: string, prefix = ''): string[] =>
      readdirSync(join(dir, prefix), { withFileTypes: true })
        .flatMap((d) => (d.isDirectory() ? filesUnder(dir, join(prefix, d.name)) : [join(prefix, d.name)]))
        .sort();
    const handlers = join(installed, 'assets', 'handlers');
    const assets = JSON.parse(readFileSync(join(project, 'cdk.out', 'LambdaCanary.assets.json'), 'utf8')) as { files: Record<string, { source: { path: string; packaging: string } }> };
    const dirs = Object.values(assets.files)
      .filter((f) => f.source.packaging === 'zip')
      .map((f) => join(project, 'cdk.out', f.source.path));
    expect(dirs).toHaveLength(1);
    expect(filesUnder(dirs[0])).toEqual(filesUnder(handlers));
    for (const file of filesUnder(handlers)) {
      expect(readFileSync(join(dirs[0], file)).equals(readFileSync(join(handlers, file))), `${relative(project, dirs[0])}/${file} differs from the package's`).toBe(true);
    }
    // Each function runs its own entry of that directory.
    const template = JSON.parse(readFileSync(join(project, 'cdk.out', 'LambdaCanary.template.json'), 'utf8')) as { Resources: Record<string, { Type: string; Properties: { Handler?: string; Code?: { S3Key?: unknown } } }> };
    const own = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Code?.S3Key !== undefined);
    expect(own.map((r) => r.Properties.Handler).sort()).toEqual(expect.arrayContaining(['evaluator.handler', 'starter.handler', 'state-change.handler']));
    for (const r of own) expect(existsSync(join(handlers, `${r.Properties.Handler!.replace(/\.handler$/, '')}.mjs`)), r.Properties.Handler).toBe(true);
  });

  it("`require('cdk-rollback-triggers/runtime')` in the project loads the agent helper, which writes an EMF line", async () => {
    const script = `
      const rt = require('${PACKAGE}/runtime');
      const lines = [];
      const record = rt.recordEvaluation({ confidence: 0.4, schemaValid: true, service: 'support-agent', version: '7', sink: (line) => lines.push(line) });
      process.stdout.write(JSON.stringify({ path: require.resolve('${PACKAGE}/runtime'), bad: record.bad, lines }));`;
    // From the project, as the agent's code would: no tsx, no preload.
    const r = await run(process.execPath, ['-e', script], { cwd: project, env: { PATH: process.env.PATH } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { path, bad, lines } = JSON.parse(r.stdout) as { path: string; bad: boolean; lines: string[] };
    expect(relative(installed, path)).toBe(join('runtime', 'index.js'));
    expect(bad).toBe(true);
    expect(lines).toHaveLength(1);
    expect(parseEmf(lines[0])).toMatchObject({ Service: 'support-agent', Version: '7', Evaluations: 1, BadEvaluations: 1, LowConfidence: 1, Confidence: 0.4 });
  });

  it('`npx rollback-triggers plan cdk.out` prints the plan of every stack, as the sources do', async () => {
    const plan = await rollbackTriggers(['plan', 'cdk.out']);
    expect(plan.stderr).toBe('');
    expect(plan.code).toBe(0);
    for (const stack of STACKS) expect(plan.stdout).toContain(`Rollback plan for stack ${stack}`);
    const sources = await fromSources(['plan', 'cdk.out']);
    expect(plan.stdout).toBe(sources.stdout);
  });

  it('`npx rollback-triggers simulate` replays a series against the synthesized policy, as the sources do', async () => {
    const series = join(REPO, 'examples', 'series', 'clean-release.json');
    const args = ['simulate', series, '--assembly', 'cdk.out', '--stack', 'LambdaCanary', '--json', 'installed.json', '--chart', 'clean.svg'];
    const sim = await rollbackTriggers(args);
    expect(sim.stderr).toBe('');
    expect(sim.code).toBe(0);
    expect(sim.stdout).toContain('Policy      stack LambdaCanary of cdk.out');
    const result = JSON.parse(readFileSync(join(project, 'installed.json'), 'utf8')) as { result: { outcome: { verdict: string } } };
    expect(result.result.outcome.verdict).toBe('pass');
    expect(readFileSync(join(project, 'clean.svg'), 'utf8')).toMatch(/^<svg /);
    await fromSources(args.map((a) => (a === 'installed.json' ? 'sources.json' : a === 'clean.svg' ? 'sources.svg' : a)));
    expect(readFileSync(join(project, 'installed.json'), 'utf8')).toBe(readFileSync(join(project, 'sources.json'), 'utf8'));
  });

  it('`simulate --png` says how to install the optional renderer when it is missing, and uses it once installed', async () => {
    const args = ['simulate', join(REPO, 'examples', 'series', 'broken-canary.json'), '--png', 'broken.png'];
    const missing = await rollbackTriggers(args);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/--png needs the resvg binary .*npm install @resvg\/resvg-js@[\d.]+.*nothing was written/);
    expect(existsSync(join(project, 'broken.png'))).toBe(false);

    // What `npm install @resvg/resvg-js` would add (the repository's copy, with this platform's binary).
    link('@resvg/resvg-js');
    try {
      const rendered = await rollbackTriggers(args);
      expect(rendered.stderr).toBe('');
      expect(rendered.code).toBe(0);
      expect(rendered.stdout).toMatch(/Outcome: ROLLED BACK/);
      expect(readFileSync(join(project, 'broken.png')).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    } finally {
      rmSync(join(project, 'node_modules', '@resvg', 'resvg-js'));
    }
  });

  it("`npx rollback-triggers approve` names the npm install command without the AWS SDK; with it, signs and sends its call and reads the answer", async () => {
    // A local endpoint (AWS_ENDPOINT_URL) that knows no execution; a preload refuses every DNS
    // lookup and the region does not exist, so nothing can reach AWS even if the endpoint were ignored.
    const requests: { target: string; authorization: string }[] = [];
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      req.resume();
      req.on('end', () => {
        requests.push({ target: String(req.headers['x-amz-target']), authorization: String(req.headers.authorization) });
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ __type: 'ExecutionDoesNotExist', message: 'Execution Does Not Exist' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const noDns = join(tmp, 'no-dns.cjs');
      writeFileSync(
        noDns,
        `const dns = require('node:dns');
         const refuse = (host, ...rest) => { const cb = rest.pop(); process.nextTick(cb, Object.assign(new Error('DNS refused in test: ' + host), { code: 'ENOTFOUND' })); };
         dns.lookup = refuse;
         dns.promises.lookup = async (host) => { throw Object.assign(new Error('DNS refused in test: ' + host), { code: 'ENOTFOUND' }); };`,
      );
      const arn = 'arn:aws:states:xx-test-1:123456789012:execution:Bake:d-EXAMPLE11';
      const env = {
        PATH: process.env.PATH,
        HOME: tmp,
        NODE_OPTIONS: `--require ${noDns}`,
        AWS_ENDPOINT_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
        AWS_CONFIG_FILE: join(tmp, 'none'),
        AWS_SHARED_CREDENTIALS_FILE: join(tmp, 'none'),
        AWS_EC2_METADATA_DISABLED: 'true',
      };
      // The package ships no SDK, and the project has none yet.
      expect(SDK_CLIENTS.filter((name) => existsSync(join(project, 'node_modules', name)))).toEqual([]);
      const missing = await rollbackTriggers(['approve', '--execution', arn], env);
      expect(missing.code).toBe(2);
      expect(missing.stdout).toBe('');
      expect(missing.stderr).toMatch(
        /^approve and reject need the AWS SDK for JavaScript v3 from your project .*Install them in your project with "npm install @aws-sdk\/client-sfn@3 @aws-sdk\/client-sts@3"; nothing was sent\n$/,
      );
      expect(requests).toEqual([]);

      // What `npm install @aws-sdk/client-sfn@3 @aws-sdk/client-sts@3` would add (the repository's copies; Node
      // resolves their own dependencies from where the links point).
      for (const name of SDK_CLIENTS) link(name);
      try {
        const answer = await rollbackTriggers(['approve', '--execution', arn], env);
        expect(answer.stderr).toContain(`${arn} does not exist (ExecutionDoesNotExist)`);
        expect(answer.code).toBe(1);
        expect(requests).toHaveLength(1);
        expect(requests[0].target).toBe('AWSStepFunctions.DescribeExecution');
        expect(requests[0].authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/xx-test-1\/states\/aws4_request, /);
      } finally {
        for (const name of SDK_CLIENTS) rmSync(join(project, 'node_modules', name));
      }
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
