import { execFileSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEmf } from './emf';

/**
 * The published helper, `cdk-rollback-triggers/runtime`: scripts/bundle-runtime.mjs bundles
 * lib/runtime into runtime/index.js (+ declarations). Built here into a temporary directory (the
 * repository is not touched), then loaded in a fresh Node process from a directory with no
 * node_modules anywhere above it: whatever the bundle requires must be inside it or built in.
 */

const REPO = join(__dirname, '..', '..');
/** Ajv (three dialects) and Powertools Metrics inlined: ~173 kB; the cap catches a pulled-in extra dependency. */
const MAX_BUNDLE_BYTES = 250_000;

interface BundleInfo {
  file: string;
  sha256: string;
  bytes: number;
  declarations: string[];
  packages: string[];
  requires: string[];
}

let tmp: string;
let outA: string;
let infoA: BundleInfo;
let infoB: BundleInfo;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'rt-runtime-'));
  outA = join(tmp, 'a');
  const script = (await import(join(REPO, 'scripts', 'bundle-runtime.mjs'))) as { bundleRuntime: (o: { outdir: string; quiet: boolean }) => Promise<BundleInfo> };
  infoA = await script.bundleRuntime({ outdir: outA, quiet: true });
  infoB = await script.bundleRuntime({ outdir: join(tmp, 'b'), quiet: true });
}, 120_000);

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Runs `code` in a fresh Node process whose cwd has no node_modules above it; returns stdout. */
function runNode(code: string, cwd: string): string {
  return execFileSync(process.execPath, ['-e', code], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } });
}

describe('runtime/index.js, the bundled helper', () => {
  it('is deterministic and small, and bundles its dependencies', () => {
    expect(infoB.sha256).toBe(infoA.sha256);
    expect(readFileSync(join(tmp, 'b', 'index.d.ts'), 'utf8')).toBe(readFileSync(join(outA, 'index.d.ts'), 'utf8'));
    expect(infoA.bytes).toBeLessThan(MAX_BUNDLE_BYTES);
    expect(infoA.packages).toEqual(expect.arrayContaining(['@aws-lambda-powertools/metrics', 'ajv']));
    expect(infoA.packages.filter((p) => p === 'aws-cdk-lib' || p === 'constructs')).toEqual([]);
  });

  it('ships the license notices of every package it bundles', () => {
    const notices = readFileSync(join(outA, 'THIRD-PARTY-LICENSES.txt'), 'utf8');
    for (const name of infoA.packages) {
      const version = (JSON.parse(readFileSync(join(REPO, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
      expect(notices).toContain(`${name} ${version} (`);
    }
    // Ajv's MIT notice itself, not just its name.
    expect(notices).toContain('Copyright (c) 2015-2021 Evgeny Poberezkin');
  });

  it('requires nothing but Node built-ins — in particular neither aws-cdk-lib nor constructs', () => {
    const code = readFileSync(join(outA, 'index.js'), 'utf8');
    // Calls, not the text of code Ajv generates for its standalone mode ('require("ajv/dist/runtime/equal")' in a string).
    const required = [...code.matchAll(/(?<!['"`])\brequire\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map((m) => m[1]);
    expect(required.length).toBeGreaterThan(0); // the pattern matches this bundle's requires at all
    expect(required.filter((r) => /^(aws-cdk-lib|constructs)(\/|$)/.test(r))).toEqual([]);
    const builtins = new Set(builtinModules);
    expect(required.filter((r) => !r.startsWith('node:') && !builtins.has(r))).toEqual([]);
    expect(infoA.requires.filter((r) => !r.startsWith('node:') && !builtins.has(r))).toEqual([]);
  });

  it('works when loaded on its own: records an evaluation, validates, restores a checkpoint', () => {
    const isolated = mkdtempSync(join(tmpdir(), 'rt-runtime-load-'));
    try {
      cpSync(outA, join(isolated, 'runtime'), { recursive: true });
      const out = runNode(
        `
        process.env.AWS_LAMBDA_FUNCTION_VERSION = '9';
        const rt = require('./runtime/index.js');
        const lines = [];
        const rec = rt.recordEvaluation({ confidence: 0.4, schemaValid: true, service: 'agent', sink: (l) => lines.push(l) });
        const schema = { type: 'object', required: ['answer'], properties: { answer: { type: 'string' } } };
        const v = rt.validateOutput(schema, { answer: 1 });
        rt.withCheckpoint({ n: 1, log: [] }, async (d) => { d.n = 2; d.log.push('x'); throw new Error('tool failed'); }, schema).then((cp) => {
          const loaded = Object.keys(require.cache);
          process.stdout.write(JSON.stringify({ line: lines[0], bad: rec.bad, v, cp: { ok: cp.ok, state: cp.state, reason: cp.reason }, loaded, exports: Object.keys(rt).sort() }));
        });
        `,
        isolated,
      );
      const result = JSON.parse(out) as { line: string; bad: boolean; v: unknown; cp: unknown; loaded: string[]; exports: string[] };
      expect(parseEmf(result.line)).toMatchObject({ Service: 'agent', Version: '9', Evaluations: 1, BadEvaluations: 1, LowConfidence: 1, Confidence: 0.4 });
      expect(result.bad).toBe(true);
      expect(result.v).toEqual({ valid: false, errors: [{ path: '/answer', message: 'must be string', keyword: 'type' }] });
      expect(result.cp).toEqual({ ok: false, state: { n: 1, log: [] }, reason: 'step threw: tool failed' });
      // Only the bundle itself was loaded from disk.
      expect(result.loaded.map((f) => relative(isolated, f))).toEqual([join('runtime', 'index.js')]);
      expect(result.exports).toEqual([
        'AGENT_DIMENSIONS',
        'AGENT_METRICS',
        'DEFAULT_AGENT_NAMESPACE',
        'DEFAULT_CONFIDENCE_THRESHOLD',
        'checkpoint',
        'formatValidationErrors',
        'recordEvaluation',
        'validateOutput',
        'withCheckpoint',
        'withCheckpointSync',
      ]);
    } finally {
      rmSync(isolated, { recursive: true, force: true });
    }
  });

  it('resolves as cdk-rollback-triggers/runtime through runtime/package.json, with the package.json of the repository', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { name: string; exports?: unknown };
    const runtimePkg = JSON.parse(readFileSync(join(REPO, 'runtime', 'package.json'), 'utf8')) as { main: string; types: string };
    expect(runtimePkg).toEqual({ main: 'index.js', types: 'index.d.ts' });
    const app = mkdtempSync(join(tmpdir(), 'rt-runtime-app-'));
    try {
      const installed = join(app, 'node_modules', pkg.name);
      mkdirSync(join(installed, 'runtime'), { recursive: true });
      writeFileSync(join(installed, 'package.json'), JSON.stringify(pkg));
      cpSync(outA, join(installed, 'runtime'), { recursive: true });
      cpSync(join(REPO, 'runtime', 'package.json'), join(installed, 'runtime', 'package.json'));
      const out = runNode(`process.stdout.write(JSON.stringify({ path: require.resolve('${pkg.name}/runtime'), type: typeof require('${pkg.name}/runtime').withCheckpoint }))`, app);
      const { path, type } = JSON.parse(out) as { path: string; type: string };
      expect(relative(app, path)).toBe(join('node_modules', pkg.name, 'runtime', 'index.js'));
      expect(type).toBe('function');
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });
});

describe('runtime/*.d.ts, the published types', () => {
  function typeCheck(source: string): string[] {
    const dir = mkdtempSync(join(tmpdir(), 'rt-runtime-types-'));
    try {
      cpSync(outA, join(dir, 'runtime'), { recursive: true });
      writeFileSync(join(dir, 'runtime', 'package.json'), JSON.stringify({ main: 'index.js', types: 'index.d.ts' }));
      const file = join(dir, 'agent.ts');
      writeFileSync(file, source);
      const program = ts.createProgram([file], {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.Node16,
        moduleResolution: ts.ModuleResolutionKind.Node16,
        types: [],
        lib: ['lib.es2022.d.ts'],
      });
      return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('are self-contained: an agent type-checks against them with no other package installed', () => {
    expect(infoA.declarations).toEqual(['checkpoint.d.ts', 'evaluation.d.ts', 'index.d.ts', 'schema.d.ts']);
    const diagnostics = typeCheck(`
      import { recordEvaluation, validateOutput, withCheckpoint, checkpoint, type CheckpointResult } from './runtime';
      interface State { answer?: string; confidence?: number }
      const schema = { type: 'object', required: ['answer'] };
      async function main(): Promise<boolean> {
        const r = recordEvaluation({ confidence: 0.8, schemaValid: validateOutput(schema, {}).valid, service: 'agent', version: '3' });
        const cp: CheckpointResult<State> = await withCheckpoint<State>({}, (d) => { d.answer = 'x'; }, schema, {
          record: { service: 'agent', confidence: (s) => s.confidence ?? 0 },
        });
        const copy: State = checkpoint<State>({ answer: 'y' });
        return r.bad && cp.ok && copy.answer === 'y';
      }
      void main;
    `);
    expect(diagnostics).toEqual([]);
  });

  it('catch misuse (the types are real, not any)', () => {
    const diagnostics = typeCheck(`
      import { recordEvaluation } from './runtime';
      recordEvaluation({ confidence: 0.8 });
    `);
    expect(diagnostics.join('\n')).toMatch(/Property 'service' is missing/);
  });

  it('leave the internal helpers out', () => {
    const all = infoA.declarations.map((f) => readFileSync(join(outA, f), 'utf8')).join('\n');
    for (const internal of ['emfLine', 'recordWith', 'resolveSettings', 'checkNamespace', 'outputValidator', 'RecorderSettings']) expect(all).not.toContain(internal);
  });
});

describe('the construct library and the helper stay apart', () => {
  /** The repository files a TypeScript file imports, followed transitively through relative imports. */
  function reachable(entry: string): Set<string> {
    const seen = new Set<string>();
    const queue = [resolve(entry)];
    while (queue.length > 0) {
      const file = queue.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from|import|require\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
        const base = resolve(dirname(file), m[1]);
        const candidates = [`${base}.ts`, join(base, 'index.ts'), base];
        const found = candidates.find((c) => {
          try {
            return readFileSync(c) !== undefined && c.endsWith('.ts');
          } catch {
            return false;
          }
        });
        if (found) queue.push(found);
      }
    }
    return seen;
  }

  it('lib/index.ts does not reach lib/runtime', () => {
    const files = [...reachable(join(REPO, 'lib', 'index.ts'))].map((f) => relative(REPO, f));
    expect(files.length).toBeGreaterThan(10); // the walk follows imports at all
    expect(files.filter((f) => f.startsWith(join('lib', 'runtime')))).toEqual([]);
  });

  it('lib/runtime imports neither aws-cdk-lib nor constructs, nor anything outside lib/runtime', () => {
    const dir = join(REPO, 'lib', 'runtime');
    const specifiers = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/(?:from|import|require\()\s*['"]([^'"]+)['"]/g)].map((m) => m[1]));
    expect(specifiers.filter((s) => /^(aws-cdk-lib|constructs)(\/|$)/.test(s))).toEqual([]);
    expect(specifiers.filter((s) => s.startsWith('..'))).toEqual([]);
    expect([...new Set(specifiers.filter((s) => !s.startsWith('.')))].sort()).toEqual(['@aws-lambda-powertools/metrics', 'ajv', 'ajv/dist/2019', 'ajv/dist/2020']);
  });
});
