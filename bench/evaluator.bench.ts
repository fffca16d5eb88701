/**
 * Lambda footprint benchmark (issue 7, item 7), for every Lambda handler the library ships. The
 * four handlers are ES modules built together with shared chunks (scripts/bundle.mjs, issue 10):
 * - minified and gzip size of what each entry loads at a cold start (the entry and its static
 *   chunks) and with every chunk it may load later, against the target of ≤ 125 kB minified with
 *   `@aws-sdk/*` external for the latter (scripts/bundle.mjs says why 125, not 100: a shared chunk
 *   carries code only another entry calls);
 * - module init time over an empty Node.js start, measured in the same run: `import(entry)` and an
 *   empty module interleaved (order rotated every round), medians; target ≤ 150 ms;
 * - GetMetricData calls per bake tick for 1 and 20 SLOs (target: 1 call for all SLOs), by running
 *   the evaluator's step handler (`createStepHandler`) on a `tick` state against mocked AWS.
 *
 * The bundles are built fresh by scripts/bundle.mjs into a temporary directory (the same bytes as
 * `npm run bundle` writes to assets/). As on the Lambda runtime, which finds SDK v3 through
 * NODE_PATH (/var/runtime/node_modules), the bundles resolve `@aws-sdk/*` through NODE_PATH set to
 * this repository's node_modules, where the SDK clients are devDependencies.
 *
 *   npx tsx bench/evaluator.bench.ts [--json] [--runs N]
 *
 * kB = 1000 bytes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { CloudWatchClient, GetMetricDataCommand, type GetMetricDataCommandInput } from '@aws-sdk/client-cloudwatch';
import {
  BatchGetDeploymentTargetsCommand,
  CodeDeployClient,
  GetDeploymentCommand,
  ListDeploymentTargetsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
} from '@aws-sdk/client-codedeploy';
import { DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import * as core from '../lib/core';
import type { ArmScope, BakeState, EvaluatorConfig } from '../lib/core';
import type * as Evaluator from '../lambda/evaluator';

const ROOT = join(__dirname, '..');
const NODE_MODULES = join(ROOT, 'node_modules');
/** Issue 7 targets. */
const MAX_BUNDLE_BYTES = 125_000;
const MAX_INIT_MS = 150;
const MAX_CALLS_PER_TICK = 1;

interface EntryInfo {
  /** handlers/<entry>.mjs */
  file: string;
  sha256: string;
  bytes: number;
  /** Chunks the entry imports statically (loaded at a cold start), relative to handlers/. */
  chunks: string[];
  /** Chunks it imports with import() (loaded on first use). */
  lazyChunks: string[];
  loadBytes: number;
  allBytes: number;
  externals: string[];
  packages: string[];
}
interface Manifest {
  esbuild: string;
  entries: Record<string, EntryInfo>;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const kB = (bytes: number) => (bytes / 1000).toFixed(1);

// ---------------------------------------------------------------------------------------------
// Bundles: build, size, externals resolvable as on the Lambda runtime
// ---------------------------------------------------------------------------------------------

function buildBundles(outdir: string): Manifest {
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs'), '--outdir', outdir, '--quiet'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as Manifest;
}

/**
 * The child environment, as on Lambda: the SDK found through NODE_PATH (/var/runtime/node_modules
 * there), the runtime's own variables, and every handler variable core declares (the `…Env`
 * objects of lib/core) set to a plausible value, so that a handler reading its configuration at
 * init is measured doing so instead of failing.
 */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_PATH: NODE_MODULES,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: 'bench',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
  };
  // Nothing of this process's loaders (tsx) or settings may leak into the measured processes.
  delete env.NODE_OPTIONS;
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  for (const [exported, value] of Object.entries(core)) {
    if (!exported.endsWith('Env') || typeof value !== 'object' || value === null) continue;
    for (const name of Object.values(value as Record<string, unknown>)) {
      if (typeof name !== 'string' || env[name] !== undefined || /SECONDS$/.test(name)) continue;
      if (name === core.EvaluatorEnv.CONFIG) env[name] = JSON.stringify(config(1));
      else if (/ARN$/.test(name)) env[name] = 'arn:aws:states:us-east-1:123456789012:stateMachine:bench';
      else env[name] = 'bench';
    }
  }
  return env;
}

/** Every external a bundle requires must resolve, or the init time would be that of a crash. */
function unresolvedExternals(manifest: Manifest): string[] {
  const missing: string[] = [];
  for (const info of Object.values(manifest.entries)) {
    for (const ext of info.externals) {
      try {
        require.resolve(ext, { paths: [NODE_MODULES] });
      } catch {
        missing.push(ext);
      }
    }
  }
  return [...new Set(missing)];
}

// ---------------------------------------------------------------------------------------------
// Module init over an empty start
// ---------------------------------------------------------------------------------------------

interface InitResult {
  baselineMs: number;
  /** Interquartile range of the empty starts: the noise floor of the init figures. */
  baselineIqrMs: number;
  withBundleMs: Record<string, number>;
  errors: Record<string, string>;
}

/**
 * Medians of an empty ES module, `await import(entry)` and, for each entry, the same followed by
 * loading every SDK client it imports (lazily or not): what its first invocation can add to the
 * module init when the clients load on first use. Label `<name>+sdk` for the latter. The clients
 * load through `createRequire` (CommonJS), which honours NODE_PATH as Lambda's ES-module loader
 * does; Node's own ES-module resolution does not read NODE_PATH.
 */
function initTimes(bundles: Record<string, { file: string; externals: string[] }>, runs: number): InitResult {
  const env = childEnv();
  const errors: Record<string, string> = {};
  const time = (label: string, script: string): number => {
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env, cwd: tmpdir(), stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0 && !errors[label]) errors[label] = (r.stderr || `exit ${r.status}`).trim().split('\n').slice(0, 3).join(' | ');
    return ms;
  };
  const jobs: Array<[string, string]> = [['', '']];
  for (const [name, { file, externals }] of Object.entries(bundles)) {
    const load = `await import(${JSON.stringify(pathToFileURL(file).href)});`;
    const sdk = `const { createRequire } = await import('node:module'); const r = createRequire(${JSON.stringify(`${tmpdir()}/`)});`;
    jobs.push([name, load], [`${name}+sdk`, `${load}${sdk}${externals.map((x) => `r(${JSON.stringify(x)});`).join('')}`]);
  }
  const samples = new Map<string, number[]>(jobs.map(([label]) => [label, []]));
  const warmup = 2;
  for (let round = 0; round < warmup + runs; round++) {
    // Rotate the order every round so that no job always runs right after another.
    for (let k = 0; k < jobs.length; k++) {
      const [label, script] = jobs[(round + k) % jobs.length];
      const ms = time(label, script);
      if (round >= warmup) samples.get(label)!.push(ms);
    }
  }
  const withBundleMs: Record<string, number> = {};
  for (const [label] of jobs.slice(1)) withBundleMs[label] = median(samples.get(label)!);
  const base = [...samples.get('')!].sort((a, b) => a - b);
  const q = (p: number) => base[Math.min(base.length - 1, Math.floor(p * base.length))];
  return { baselineMs: median(base), baselineIqrMs: q(0.75) - q(0.25), withBundleMs, errors };
}

// ---------------------------------------------------------------------------------------------
// GetMetricData calls per tick, through the evaluator's step handler
// ---------------------------------------------------------------------------------------------

type CreateStepHandler = typeof Evaluator.createStepHandler;

/** `createStepHandler` from lambda/evaluator, or why it cannot be used (the rest of the bench still runs). */
function loadStepHandler(): CreateStepHandler | string {
  let mod: Partial<typeof Evaluator>;
  try {
    mod = require('../lambda/evaluator/index') as Partial<typeof Evaluator>;
  } catch (err) {
    return `lambda/evaluator/index.ts does not load (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
  }
  if (typeof mod.createStepHandler !== 'function') {
    return "lambda/evaluator/index.ts exports no createStepHandler(deps) (the state machine's step handler)";
  }
  return mod.createStepHandler;
}

function config(sloCount: number): EvaluatorConfig {
  return {
    schemaVersion: core.EVALUATOR_CONFIG_SCHEMA_VERSION,
    platform: 'lambda',
    mode: 'enforce',
    bakeSeconds: 600,
    tickSeconds: 60,
    inconclusiveAction: 'fail',
    deadlineMarginSeconds: 300,
    metricDelaySeconds: 180,
    compareWithBaseline: false,
    dimensionSets: [{ FunctionName: 'checkout', Resource: 'checkout:live' }],
    slos: Array.from({ length: sloCount }, (_, i) => ({
      name: `slo-${i}`,
      errorBudget: 0.001,
      failBurnRate: 14.4,
      shortWindowSeconds: 300,
      minEvents: 70,
      numeratorKind: 'bad' as const,
      numerator: { namespace: 'AWS/Lambda', metricName: 'Errors', dimensionSet: 0, stat: 'Sum' },
      total: { namespace: 'AWS/Lambda', metricName: 'Invocations', dimensionSet: 0, stat: 'Sum' },
    })),
  };
}

interface TickResult {
  calls: number;
  queries: number;
  /** What the tick told the machine to do next (a healthy mid-bake tick: `wait`). */
  next?: string;
}

/**
 * One `tick` step, ten minutes into a healthy Lambda deployment (new version 2, current 1), every
 * SDK client class mocked (so clients the handler creates itself, lazily or not, are counted too).
 * CloudWatch answers every query it is sent, complete, with one datapoint a minute: no retry or
 * second page is needed, so any call beyond the first is the handler's own.
 */
async function callsPerTick(createStepHandler: CreateStepHandler, sloCount: number): Promise<TickResult> {
  const creds = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } };
  // The SDK's notice that it will need Node.js 22 from 2027 says nothing about this bench.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const hookStartedAt = Date.parse('2026-11-27T10:00:00Z') / 1000;
  let now = hookStartedAt + 600;
  const cd = mockClient(CodeDeployClient);
  const cw = mockClient(CloudWatchClient);
  const ddb = mockClient(DynamoDBClient);
  const eb = mockClient(EventBridgeClient);
  const lambda = mockClient(LambdaClient);
  const ecs = mockClient(ECSClient);
  try {
    cd.on(GetDeploymentCommand).resolves({
      deploymentInfo: {
        deploymentId: 'd-BENCH0001',
        status: 'InProgress',
        creator: 'user',
        createTime: new Date(hookStartedAt * 1000),
        applicationName: 'app',
        deploymentGroupName: 'group',
      },
    });
    cd.on(ListDeploymentTargetsCommand).resolves({ targetIds: ['checkout'] });
    cd.on(BatchGetDeploymentTargetsCommand).resolves({
      deploymentTargets: [
        {
          lambdaTarget: {
            lambdaFunctionInfo: { functionName: 'checkout', currentVersion: '1', targetVersion: '2' },
            lifecycleEvents: [{ lifecycleEventName: 'AfterAllowTraffic', status: 'InProgress' }],
          },
        },
      ],
    });
    cd.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
    cw.on(GetMetricDataCommand).callsFake((input: GetMetricDataCommandInput) => {
      const start = Math.ceil(new Date(input.StartTime ?? 0).getTime() / 60_000) * 60_000;
      const end = new Date(input.EndTime ?? 0).getTime();
      const minutes: Date[] = [];
      for (let t = start; t < end; t += 60_000) minutes.push(new Date(t));
      return {
        MetricDataResults: (input.MetricDataQueries ?? []).map((q) => ({
          Id: q.Id,
          StatusCode: 'Complete',
          Timestamps: minutes,
          // Numerators (`…_n`) count nothing bad; totals 100 requests a minute.
          Values: minutes.map(() => (q.Id?.endsWith('_n') ? 0 : 100)),
        })),
        Messages: [],
      };
    });
    ddb.on(PutItemCommand).resolves({});
    ddb.on(GetItemCommand).resolves({});
    ddb.on(UpdateItemCommand).resolves({});
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });

    const arms: ArmScope[] = [
      { arm: 'canary', dimensions: { ExecutedVersion: '2' } },
      { arm: 'baseline', dimensions: { ExecutedVersion: '1' } },
    ];
    const state: BakeState = {
      phase: 'tick',
      deploymentId: 'd-BENCH0001',
      lifecycleEventHookExecutionId: 'hook-execution-1',
      hookStartedAt,
      deadline: new Date((hookStartedAt + 55 * 60) * 1000).toISOString(),
      context: {
        applicationName: 'app',
        deploymentGroupName: 'group',
        lifecycleEvent: 'AfterAllowTraffic',
        fromVersion: '1',
        toVersion: '2',
        arms,
        windowStart: hookStartedAt,
      },
      ticks: 5,
    };
    const silent = () => undefined;
    const step = createStepHandler({
      config: config(sloCount),
      stateTable: 'state-table',
      eventBus: 'audit-bus',
      // Mocked clients given; the known-good store is the real one, on the mocked DynamoDB client.
      clients: {
        codedeploy: new CodeDeployClient(creds),
        cloudwatch: new CloudWatchClient(creds),
        dynamodb: new DynamoDBClient(creds),
        lambda: new LambdaClient(creds),
        ecs: new ECSClient(creds),
        events: new EventBridgeClient(creds),
      },
      logger: { info: silent, warn: silent, error: silent },
      now: () => now,
      sleep: async (ms: number) => {
        now += ms / 1000;
      },
    });
    const out = await step(state);
    const calls = cw.commandCalls(GetMetricDataCommand);
    return {
      calls: calls.length,
      queries: calls.reduce((n, c) => n + (c.args[0].input.MetricDataQueries?.length ?? 0), 0),
      next: out?.next,
    };
  } finally {
    for (const m of [cd, cw, ddb, eb, lambda, ecs]) m.restore();
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const runs = Number(arg('--runs') ?? 21);
  if (!Number.isInteger(runs) || runs < 15) throw new Error('--runs must be a whole number ≥ 15');
  const out = mkdtempSync(join(tmpdir(), 'rt-bench-'));
  try {
    const manifest = buildBundles(out);
    const names = Object.keys(manifest.entries);
    // What a cold start reads (the entry and its static chunks) and everything the entry may load.
    const handlersDir = join(out, 'handlers');
    const sizes = Object.fromEntries(
      names.map((name) => {
        const e = manifest.entries[name];
        const read = (files: string[]) => Buffer.concat(files.map((f) => readFileSync(join(handlersDir, f))));
        const atLoad = read([e.file.replace(/^handlers\//, ''), ...e.chunks]);
        const all = Buffer.concat([atLoad, read(e.lazyChunks)]);
        return [name, { loadBytes: atLoad.length, bytes: all.length, gzipBytes: gzipSync(all, { level: 9 }).length }];
      }),
    );
    const unresolved = unresolvedExternals(manifest);
    if (unresolved.length > 0) {
      throw new Error(`the bundles require ${unresolved.join(', ')}, which ${NODE_MODULES} does not have: run npm ci`);
    }
    const init = initTimes(Object.fromEntries(names.map((n) => [n, { file: join(out, manifest.entries[n].file), externals: manifest.entries[n].externals }])), runs);

    const createStepHandler = loadStepHandler();
    const ticks: Record<string, TickResult | string> = {};
    for (const slos of [1, 20]) {
      if (typeof createStepHandler === 'string') {
        ticks[`slos${slos}`] = `n/a: ${createStepHandler}`;
        continue;
      }
      try {
        ticks[`slos${slos}`] = await callsPerTick(createStepHandler, slos);
      } catch (err) {
        ticks[`slos${slos}`] = `n/a: the tick step threw: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`;
      }
    }

    const assetsManifest = join(ROOT, 'assets', 'manifest.json');
    const staleAssets =
      !existsSync(assetsManifest) || JSON.stringify((JSON.parse(readFileSync(assetsManifest, 'utf8')) as Manifest).entries) !== JSON.stringify(manifest.entries);

    const result = {
      esbuild: manifest.esbuild,
      runs,
      nodeStartMs: round1(init.baselineMs),
      nodeStartIqrMs: round1(init.baselineIqrMs),
      bundles: Object.fromEntries(
        names.map((n) => [
          n,
          {
            /** The entry with every chunk it may load (the target's measure). */
            bytes: sizes[n].bytes,
            gzipBytes: sizes[n].gzipBytes,
            /** The entry and its static chunks: what a cold start reads. */
            loadBytes: sizes[n].loadBytes,
            sha256: manifest.entries[n].sha256,
            nodeStartWithBundleMs: round1(init.withBundleMs[n]),
            moduleInitMs: round1(init.withBundleMs[n] - init.baselineMs),
            /** Module init plus loading every SDK client the bundle requires (on first use if lazy). */
            withSdkClientsMs: round1(init.withBundleMs[`${n}+sdk`] - init.baselineMs),
            sdkClients: manifest.entries[n].externals,
            ...(init.errors[n] ? { initError: init.errors[n] } : {}),
          },
        ]),
      ),
      getMetricDataPerTick: ticks,
      targets: { maxBundleBytes: MAX_BUNDLE_BYTES, maxModuleInitMs: MAX_INIT_MS, maxGetMetricDataCallsPerTick: MAX_CALLS_PER_TICK },
    };
    if (process.argv.includes('--json')) {
      console.log(JSON.stringify(result, null, 2));
      return;
    }

    const mark = (ok: boolean) => (ok ? 'ok' : 'OVER');
    console.log('cdk-rollback-triggers Lambda footprint (kB = 1000 bytes; @aws-sdk/* external, resolved through NODE_PATH as on Lambda)');
    console.log(
      `esbuild ${manifest.esbuild}; empty node start ${result.nodeStartMs} ms (median of ${runs}, interleaved with every bundle; interquartile range ${result.nodeStartIqrMs} ms)`,
    );
    console.log('');
    console.log(
      `${'entry'.padEnd(14)}${'at load'.padStart(10)}${'minified'.padStart(10)}${'gzip'.padStart(10)}  ≤ ${MAX_BUNDLE_BYTES / 1000} kB${'init'.padStart(12)}  ≤ ${MAX_INIT_MS} ms${'+ SDK clients'.padStart(16)}`,
    );
    for (const n of names) {
      const b = result.bundles[n];
      const sdkError = init.errors[`${n}+sdk`];
      const initText = b.initError ? 'error' : `${b.moduleInitMs.toFixed(1)} ms`;
      const sdkText = sdkError ? 'error' : `${b.withSdkClientsMs.toFixed(1)} ms`;
      console.log(
        `${n.padEnd(14)}${`${kB(b.loadBytes)} kB`.padStart(10)}${`${kB(b.bytes)} kB`.padStart(10)}${`${kB(b.gzipBytes)} kB`.padStart(10)}  ${mark(b.bytes <= MAX_BUNDLE_BYTES).padEnd(8)}${initText.padStart(12)}  ${(b.initError ? 'ERR' : mark(b.moduleInitMs <= MAX_INIT_MS)).padEnd(9)}${sdkText.padStart(16)}`,
      );
      if (b.initError) console.log(`${''.padEnd(14)}import failed: ${b.initError}`);
      if (sdkError) console.log(`${''.padEnd(14)}SDK clients failed to load: ${sdkError}`);
    }
    console.log('');
    console.log('at load: <entry>.mjs and the chunks it imports statically (a cold start reads them); minified and gzip: with the chunks');
    console.log('  it imports on first use too (license notices ship next to the chunks as <chunk>.LEGAL.txt, not counted)');
    console.log('init: import(entry) over an empty ES module; + SDK clients: the same, then loading every @aws-sdk');
    console.log("  client the bundle requires (what a lazy bundle's first invocation adds; not part of the init target)");
    console.log('');
    for (const [label, slos] of [['slos1', 1], ['slos20', 20]] as const) {
      const t = ticks[label];
      const text =
        typeof t === 'string'
          ? t
          : `${t.calls} call(s), ${t.queries} queries per tick (next: ${t.next ?? '?'})   target ${MAX_CALLS_PER_TICK} call   ${mark(t.calls <= MAX_CALLS_PER_TICK)}`;
      console.log(`GetMetricData, ${String(slos).padStart(2)} SLO${slos === 1 ? ' ' : 's'}: ${text}`);
    }
    if (staleAssets) console.log('\nnote: assets/ differs from these bundles (or has no manifest): run `npm run bundle`');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
