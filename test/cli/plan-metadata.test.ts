import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration, Stack, Stage } from 'aws-cdk-lib';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckoutServiceStack } from '../../examples/checkout-service';
import { LambdaCanaryStack } from '../../examples/lambda-canary';
import { AlertSeverity, BurnRateTier, ServiceLevelObjective, Sli } from '../../lib';
import { POLICY_METADATA_TYPE } from '../../lib/core';
import { countMetric } from '../helpers';
import { run, tempDir } from './simulate-helpers';

/**
 * `plan` and `simulate --assembly` on cloud assemblies edited by hand: every edit is either still a
 * valid policy (exit 0) or refused with exit 2 and one message naming the file, the entry and the
 * field, with the rule and its code — never a crash, a stack trace or a plan built on a broken
 * entry.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Infinity survives as 1e999, which JSON.parse reads back as Infinity (a hand-typed huge number). */
function writeJson(file: string, value: unknown): void {
  const text = JSON.stringify(value, (_k, v) => (v === Infinity ? '__INF__' : v === -Infinity ? '__-INF__' : v), 1);
  writeFileSync(file, text.replace(/"__INF__"/g, '1e999').replace(/"__-INF__"/g, '-1e999'));
}

const STACK_TRACE = /\n\s+at /;
// The properties run a fixed seed; RT_SEED, RT_RUNS, RT_MANIFEST_RUNS and RT_SIM_RUNS run them with another seed or longer.


let assembly: ReturnType<typeof tempDir>;
let work: ReturnType<typeof tempDir>;
/** The metadata files of the stacks (relative to the assembly), as synthesized. */
let metadataFiles: string[];

beforeAll(() => {
  assembly = tempDir('rt-meta-asm-');
  work = tempDir('rt-meta-work-');
  const app = new App({ outdir: assembly.dir });
  new LambdaCanaryStack(app, 'LambdaCanary');
  new CheckoutServiceStack(app, 'CheckoutService');
  // A stage (nested assembly) with custom tiers, a 28-day period, a 30 s SLI resolution, and two
  // identical SLOs, each with its own window alarms.
  const stage = new Stage(app, 'Prod');
  const batch = new Stack(stage, 'Batch');
  for (const name of ['Jobs', 'JobsToo']) {
    new ServiceLevelObjective(batch, name, {
      sli: Sli.errorRatio({ badEvents: countMetric('Failed', 'Batch'), totalEvents: countMetric('Jobs', 'Batch') }),
      objectivePercent: 99.5,
      compliancePeriod: Duration.days(28),
      resolution: Duration.seconds(30),
      tiers: [
        BurnRateTier.of({ name: 'fast', severity: AlertSeverity.PAGE, budgetConsumedPercent: 2, longWindow: Duration.hours(1), shortWindow: Duration.minutes(5) }),
        BurnRateTier.of({ name: 'slow', severity: AlertSeverity.TICKET, budgetConsumedPercent: 10, longWindow: Duration.days(1), shortWindow: Duration.hours(2) }),
      ],
    });
  }
  app.synth();
  metadataFiles = [];
  const walk = (dir: string, prefix: string) => {
    for (const name of readdirSync(dir, { withFileTypes: true })) {
      if (name.isDirectory() && name.name.startsWith('assembly-')) walk(join(dir, name.name), `${prefix}${name.name}/`);
      else if (name.name.endsWith('.metadata.json')) metadataFiles.push(`${prefix}${name.name}`);
    }
  };
  walk(assembly.dir, '');
  metadataFiles.sort();
});
afterAll(() => {
  assembly?.remove();
  work?.remove();
});

/** A fresh copy of the assembly's manifests and metadata (the templates are not read). */
function copyAssembly(name: string): string {
  const dir = join(work.dir, name);
  rmSync(dir, { recursive: true, force: true });
  cpSync(assembly.dir, dir, { recursive: true, filter: (src) => !/\.template\.json$|asset\./.test(src) });
  return dir;
}

/** Every place in a metadata file's policy entries a hand edit can reach, as a path of keys. */
function policyPaths(doc: Json): Array<Array<string | number>> {
  const paths: Array<Array<string | number>> = [];
  const walk = (value: Json, path: Array<string | number>) => {
    paths.push(path);
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i]));
    else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
  };
  for (const [key, list] of Object.entries(doc as Record<string, Json[]>)) {
    list.forEach((m, i) => {
      if ((m as { type?: string }).type === POLICY_METADATA_TYPE) walk((m as { data: Json }).data, [key, i, 'data']);
    });
  }
  return paths;
}

function getAt(doc: Json, path: ReadonlyArray<string | number>): Json {
  return path.reduce<Json>((v, k) => (v as Record<string | number, Json>)[k], doc);
}

type Mutation =
  | { readonly kind: 'set'; readonly value: Json | typeof Infinity }
  | { readonly kind: 'delete' }
  | { readonly kind: 'add'; readonly key: string; readonly value: Json }
  | { readonly kind: 'negate' }
  | { readonly kind: 'scale'; readonly factor: number };

/** Values a hand edit or a script puts where a value was. */
const editedValue: fc.Arbitrary<Json | number> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.constantFrom('', 'NaN', 'Infinity', '-1', '99.9', '1e3', 'page-2h', 'lambda', 'version', 'GreaterThanThreshold', 'true'),
  fc.string({ maxLength: 8 }),
  fc.constantFrom(0, -1, -0.5, 0.5, 1, 2, 59, 60, 61, 100, 101, 1e15, 1e300, Infinity, -Infinity, Number.MAX_SAFE_INTEGER + 2),
  fc.integer({ min: -1_000, max: 100_000 }),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }),
  fc.constant([] as Json[]),
  fc.constant({} as Json),
  fc.constant(['x'] as Json[]),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 5, arbitrary: editedValue.map((value) => ({ kind: 'set' as const, value })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'delete' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('add' as const), key: fc.constantFrom('extra', 'objectivePercnt', 'tier'), value: editedValue as fc.Arbitrary<Json> }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'negate' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('scale' as const), factor: fc.constantFrom(0, 0.5, 2, 10, 1e6) }) },
);

/** Applies the edit; says whether it certainly breaks the entry (a wrong type, a non-finite or negative number). */
function apply(doc: Json, path: ReadonlyArray<string | number>, m: Mutation): { surelyInvalid: boolean } {
  const parent = getAt(doc, path.slice(0, -1)) as Record<string | number, Json>;
  const key = path[path.length - 1];
  const before = parent[key];
  const typeOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  // `threshold` of a threshold trigger is a metric's threshold: any finite number is one.
  const anyNumber = key === 'threshold' && (getAt(doc, path.slice(0, -1)) as { kind?: string }).kind === 'threshold';
  switch (m.kind) {
    case 'set':
      parent[key] = m.value as Json;
      if (typeOf(before) !== typeOf(m.value)) return { surelyInvalid: true };
      if (typeof m.value === 'number' && !Number.isFinite(m.value)) return { surelyInvalid: typeof before === 'number' };
      return { surelyInvalid: typeof before === 'number' && typeof m.value === 'number' && m.value < 0 && !anyNumber };
    case 'delete':
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      return { surelyInvalid: false };
    case 'add':
      if (before !== null && typeof before === 'object' && !Array.isArray(before)) (before as Record<string, Json>)[m.key] = m.value;
      return { surelyInvalid: false };
    case 'negate':
      if (typeof before !== 'number') return { surelyInvalid: false };
      parent[key] = -before;
      return { surelyInvalid: before > 0 && !anyNumber };
    case 'scale':
      if (typeof before !== 'number') return { surelyInvalid: false };
      parent[key] = before * m.factor;
      return { surelyInvalid: false };
  }
}

/** Exit 0 with a plan, or exit 2 with one message naming `file` and a field, with a coded rule; never a stack trace. */
function expectPlanOrNamedError(result: { code: number; out: string; err: string }, file: string): void {
  expect(result.err).not.toMatch(STACK_TRACE);
  expect([0, 2]).toContain(result.code);
  if (result.code === 0) {
    expect(result.out).toContain('Rollback plan');
    // Only warnings (unknown fields) on stderr.
    for (const line of result.err.split('\n').filter((l) => l !== '')) expect(line).toMatch(/^warning: .*: field ".*": unknown to this version/);
  } else {
    expect(result.err.split('\n')).toHaveLength(1);
    expect(result.err.startsWith(`${file}: `)).toBe(true);
    expect(result.err).toMatch(/: field "data(\.[^"]+)?": .+ \(RT71[45]\)$/);
  }
}

describe('rollback-triggers plan: hand-edited policy metadata', () => {
  it('plans the assembly as synthesized (every stack, the stage included)', () => {
    const { code, out, err } = run(['plan', assembly.dir]);
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain('Rollback plan for stack LambdaCanary');
    expect(out).toContain('Rollback plan for stack CheckoutService');
    expect(out).toContain('Rollback plan for stack Prod/Batch');
    expect(out).not.toContain('Window reuse');
  });

  const cases: Array<{ name: string; stack: string; entry: string; edit: (e: any) => void; message: RegExp }> = [
    { name: 'a missing tiers list', stack: 'LambdaCanary', entry: '/LambdaCanary/Availability', edit: (e) => delete e.tiers, message: /field "data\.entry\.tiers": is required: an array of the burn-rate tiers/ },
    { name: 'an objective as a string', stack: 'LambdaCanary', entry: '/LambdaCanary/Availability', edit: (e) => (e.objectivePercent = '99.9'), message: /field "data\.entry\.objectivePercent": must be a number above 0 and below 100 — 99\.9 for "three nines", got "99\.9"/ },
    { name: 'an SLI that is null', stack: 'LambdaCanary', entry: '/LambdaCanary/Availability', edit: (e) => (e.sli = null), message: /field "data\.entry\.sli": must be a JSON object, got null/ },
    { name: 'a negative factor', stack: 'LambdaCanary', entry: '/LambdaCanary/Availability', edit: (e) => (e.tiers[0].factor = -14.4), message: /field "data\.entry\.tiers\[0\]\.factor": must be a burn rate above 0, got -14\.4/ },
    { name: 'a huge number (1e999 reads as Infinity)', stack: 'LambdaCanary', entry: '/LambdaCanary/Availability', edit: (e) => (e.compliancePeriodSeconds = Infinity), message: /field "data\.entry\.compliancePeriodSeconds": must be a whole number of seconds ≥ 1 .*got Infinity \(a number too large to hold\)/ },
    { name: 'an objective edited without its budget', stack: 'LambdaCanary', entry: '/LambdaCanary/Availability', edit: (e) => (e.objectivePercent = 99), message: /field "data\.entry\.errorBudget": 0\.001 does not match objectivePercent 99, whose budget is .* = 0\.01; the policy is computed at synth/ },
    { name: 'a renamed tier', stack: 'LambdaCanary', entry: '/LambdaCanary/Latency', edit: (e) => (e.tiers[3].name = 'page-2h'), message: /field "data\.entry\.tiers\[3\]\.name": tier "page-2h" has the window alarms "LambdaCanary\/Latency\/ticket-3d\/long" and "LambdaCanary\/Latency\/ticket-3d\/short", not "LambdaCanary\/Latency\/page-2h\/long" and/ },
    { name: 'a tier name that is not one', stack: 'LambdaCanary', entry: '/LambdaCanary/Latency', edit: (e) => (e.tiers[1].name = 'page 6h!'), message: /field "data\.entry\.tiers\[1\]\.name": must be 1 to 64 letters, digits or dashes/ },
    { name: 'an unknown severity', stack: 'LambdaCanary', entry: '/LambdaCanary/Latency', edit: (e) => (e.tiers[0].severity = 'urgent'), message: /field "data\.entry\.tiers\[0\]\.severity": must be the severity, one of "page", "ticket"; got "urgent"/ },
    {
      name: "a tier that names another SLO's window alarm (SLOs never share one)",
      stack: 'LambdaCanary',
      entry: '/LambdaCanary/Latency',
      edit: (e) => (e.tiers[0].longAlarm = e.composites[0].children[0] = 'LambdaCanary/Availability/page-1h/long'),
      message: /field "data\.entry\.tiers\[0\]\.longAlarm": "LambdaCanary\/Availability\/page-1h\/long" is not the id of a window alarm of this SLO \(its alarms\[\]\.id\)/,
    },
    { name: "an alarm's threshold edited alone", stack: 'LambdaCanary', entry: '/LambdaCanary/Availability', edit: (e) => (e.alarms[0].threshold = 2), message: /field "data\.entry\.tiers\[0\]\.longAlarm": alarm ".*page-1h\/long" has threshold 2, the tier's burn-rate factor is 14\.4/ },
    {
      name: 'a page composite without one of the page tiers',
      stack: 'LambdaCanary',
      entry: '/LambdaCanary/Availability',
      edit: (e) => e.composites[0].children.pop(),
      message:
        /field "data\.entry\.composites\[0\]": must be the page composite of kind "severity", the OR of each page tier's long AND short window alarm \(\(LambdaCanary\/Availability\/page-1h\/long AND LambdaCanary\/Availability\/page-1h\/short\), \(LambdaCanary\/Availability\/page-6h\/long AND/,
    },
    {
      name: 'a suppressor no composite is',
      stack: 'CheckoutService',
      entry: '/CheckoutService/Availability',
      edit: (e) => (e.composites.find((k: { suppressedBy?: string }) => k.suppressedBy).suppressedBy = 'CheckoutService/Availability/pager'),
      message: /field "data\.entry\.composites\[\d+\]\.suppressedBy": "CheckoutService\/Availability\/pager" is not the id of a composite of the stack/,
    },
    { name: 'a rollback alarm on an SLO the stack lacks', stack: 'LambdaCanary', entry: '/LambdaCanary/Rollback', edit: (e) => (e.alarms[0].slo = 'Checkout'), message: /field "data\.entry\.alarms\[0\]\.slo": "Checkout" is not the name of an SLO of the stack \(Availability, Latency\) or of the assembly/ },
    { name: 'a rollback alarm on target groups of a Lambda trigger', stack: 'LambdaCanary', entry: '/LambdaCanary/Rollback', edit: (e) => (e.alarms[1].scope = 'blue'), message: /field "data\.entry\.alarms\[1\]\.scope": must be the traffic a lambda rollback alarm watches, one of "version", "declared"; got "blue"/ },
    { name: 'a negative bake', stack: 'LambdaCanary', entry: '/LambdaCanary/Rollback', edit: (e) => (e.bakeSeconds = -600), message: /field "data\.entry\.bakeSeconds": must be seconds above 0 and at most the deadline \(3300 s\), got -600/ },
    { name: 'more rollback alarms than the cap', stack: 'LambdaCanary', entry: '/LambdaCanary/Rollback', edit: (e) => (e.maxAlarms = 1), message: /field "data\.entry\.alarms": holds 2 alarms, above maxAlarms \(1\)/ },
    { name: 'a newer schema', stack: 'LambdaCanary', entry: '/LambdaCanary/Availability', edit: () => undefined, message: /field "data\.schemaVersion": is 2, this tool reads version 1 — upgrade cdk-rollback-triggers/ },
    { name: 'datapointsToAlarm above the evaluation periods', stack: 'CheckoutService', entry: '/CheckoutService/P99Latency', edit: (e) => (e.datapointsToAlarm = 9), message: /field "data\.entry\.datapointsToAlarm": must be a whole number from 1 to evaluationPeriods \(\d+\), got 9/ },
    { name: 'an anomaly-band comparison', stack: 'CheckoutService', entry: '/CheckoutService/P99Latency', edit: (e) => (e.comparison = 'LessThanLowerOrGreaterThanUpperThreshold'), message: /field "data\.entry\.comparison": must be a CloudWatch comparison operator/ },
    { name: 'a 45 s period', stack: 'CheckoutService', entry: '/CheckoutService/P99Latency', edit: (e) => (e.periodSeconds = 45), message: /field "data\.entry\.periodSeconds": must be 10, 20, 30 or a multiple of 60 seconds \(CloudWatch alarm periods\), got 45/ },
  ];

  for (const c of cases) {
    it(`refuses ${c.name}: exit 2, the file, the entry and the field`, () => {
      const dir = copyAssembly('case');
      const file = join(dir, `${c.stack}.metadata.json`);
      const doc = JSON.parse(readFileSync(file, 'utf8'));
      const metadata = doc[c.entry].find((m: { type: string }) => m.type === POLICY_METADATA_TYPE);
      c.edit(metadata.data.entry);
      if (c.name === 'a newer schema') metadata.data.schemaVersion = 2;
      writeJson(file, doc);
      const result = run(['plan', dir]);
      expect(result.err).not.toMatch(STACK_TRACE);
      expect(result.code).toBe(2);
      expect(result.out).toBe('');
      expect(result.err).toMatch(c.message);
      expect(result.err.startsWith(`${file}: ["${c.entry}"][`)).toBe(true);
      expect(result.err).toMatch(/ \(RT715\)$/);
    });
  }

  it('warns about a field it does not know, and plans', () => {
    const dir = copyAssembly('unknown-field');
    const file = join(dir, 'LambdaCanary.metadata.json');
    const doc = JSON.parse(readFileSync(file, 'utf8'));
    doc['/LambdaCanary/Availability'].find((m: { type: string }) => m.type === POLICY_METADATA_TYPE).data.entry.owner = 'payments-team';
    writeJson(file, doc);
    const { code, out, err } = run(['plan', dir]);
    expect(code).toBe(0);
    expect(out).toContain('Rollback plan for stack LambdaCanary');
    expect(err).toBe(`warning: ${file}: ["/LambdaCanary/Availability"][0]: field "data.entry.owner": unknown to this version of rollback-triggers, ignored (the fields here are kind, name, path, objectivePercent, compliancePeriodSeconds, errorBudget, sli, tiers, alarms, composites, alarmLayout, group)`);
  });

  it('property: any hand edit of a policy entry plans or is refused naming the file and field; a wrong type, a non-finite or a negative number is refused', () => {
    const docs = metadataFiles.map((f) => ({ file: f, doc: JSON.parse(readFileSync(join(assembly.dir, f), 'utf8')) as Json }));
    const dir = copyAssembly('property');
    fc.assert(
      fc.property(fc.nat(), fc.nat(), mutation, (which, where, m) => {
        const { file, doc: original } = docs[which % docs.length];
        const doc = structuredClone(original);
        const paths = policyPaths(doc).filter((p) => p.length > 3);
        const path = paths[where % paths.length];
        const { surelyInvalid } = apply(doc, path, m);
        const target = join(dir, file);
        writeJson(target, doc);
        try {
          const result = run(['plan', dir]);
          expectPlanOrNamedError(result, target);
          if (surelyInvalid) expect(result.code, `${file} ${JSON.stringify(path)} ${JSON.stringify(m)}`).toBe(2);
        } finally {
          writeJson(target, original);
        }
      }),
      { numRuns: Number(process.env.RT_RUNS ?? 300), seed: Number(process.env.RT_SEED ?? 13) },
    );
  });
});

describe('rollback-triggers plan: hand-edited manifests', () => {
  it('names the manifest when it is not JSON', () => {
    const dir = copyAssembly('malformed');
    writeFileSync(join(dir, 'manifest.json'), '{ "version": "48.0.0", "artifacts": {');
    const { code, err } = run(['plan', dir]);
    expect(code).toBe(2);
    expect(err).toMatch(new RegExp(`^${join(dir, 'manifest.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: malformed JSON: .*\\(line 1 column \\d+\\) \\(RT713\\)$`));
  });

  it("names a stack's metadata file when it is not JSON, empty or missing", () => {
    const dir = copyAssembly('metadata-file');
    const file = join(dir, 'LambdaCanary.metadata.json');
    writeFileSync(file, '{\n  "/LambdaCanary/Availability": [\n    { "type": "aws:cdk:logicalId" "data": "x" }\n  ]\n}');
    expect(run(['plan', dir]).err).toMatch(/LambdaCanary\.metadata\.json: malformed JSON: .*\(line 3 column \d+\) \(RT713\)$/);
    writeFileSync(file, '');
    expect(run(['plan', dir]).err).toBe(`${file}: is empty; expected the metadata of stack LambdaCanary (a JSON object of metadata entries by construct path) (RT713)`);
    rmSync(file);
    expect(run(['plan', dir]).err).toBe(`${file}: no such file (RT713)`);
  });

  it('refuses a nested assembly that points back at itself, rather than recursing until the stack overflows', () => {
    const dir = copyAssembly('cycle');
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    manifest.artifacts.Loop = { type: 'cdk:cloud-assembly', properties: { directoryName: '.' } };
    writeJson(join(dir, 'manifest.json'), manifest);
    const { code, err } = run(['plan', dir]);
    expect(code).toBe(2);
    expect(err).toMatch(/manifest\.json: nests the cloud assembly .* in itself .* \(RT714\)$/);
  });

  it('reads a manifest given in place of its directory', () => {
    expect(run(['plan', join(assembly.dir, 'manifest.json')]).code).toBe(0);
  });

  it('property: any hand edit of the manifest plans or is refused naming a file of the assembly', () => {
    const original = JSON.parse(readFileSync(join(assembly.dir, 'manifest.json'), 'utf8')) as Json;
    const dir = copyAssembly('manifest-property');
    const manifest = join(dir, 'manifest.json');
    const paths: Array<Array<string | number>> = [];
    const walk = (value: Json, path: Array<string | number>) => {
      if (path.length > 0) paths.push(path);
      if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i]));
      else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, [...path, k]);
    };
    walk(original, []);
    fc.assert(
      fc.property(fc.nat(), mutation, (where, m) => {
        const doc = structuredClone(original);
        apply(doc, paths[where % paths.length], m);
        writeJson(manifest, doc);
        try {
          const result = run(['plan', dir]);
          expect(result.err).not.toMatch(STACK_TRACE);
          expect([0, 1, 2]).toContain(result.code);
          // 1: the edit left no stack with a policy ("nothing to plan").
          if (result.code === 1) expect(result.err).toBe(`no rollback-triggers SLOs or triggers found in ${dir}`);
          if (result.code === 2) {
            expect(result.err.split('\n')).toHaveLength(1);
            expect(result.err.startsWith(dir)).toBe(true);
            expect(result.err).toMatch(/ \(RT71[345]\)$/);
          }
        } finally {
          writeJson(manifest, original);
        }
      }),
      { numRuns: Number(process.env.RT_MANIFEST_RUNS ?? 150), seed: Number(process.env.RT_SEED ?? 13) },
    );
  });
});

describe('rollback-triggers simulate --assembly: hand-edited policy metadata', () => {
  it('property: replays or refuses naming the file and field, never a crash', () => {
    const series = join(work.dir, 'series.json');
    writeFileSync(
      series,
      JSON.stringify({
        releaseMinute: 30,
        deployment: { kind: 'all-at-once' },
        series: Array.from({ length: 60 }, (_, minute) => ({ minute, requests: 100, errors: minute > 30 ? 5 : 0, slow: 0 })),
      }),
    );
    const file = 'LambdaCanary.metadata.json';
    const original = JSON.parse(readFileSync(join(assembly.dir, file), 'utf8')) as Json;
    const dir = copyAssembly('simulate-property');
    const target = join(dir, file);
    mkdirSync(dir, { recursive: true });
    fc.assert(
      fc.property(fc.nat(), mutation, (where, m) => {
        const doc = structuredClone(original);
        const paths = policyPaths(doc).filter((p) => p.length > 3);
        const { surelyInvalid } = apply(doc, paths[where % paths.length], m);
        writeJson(target, doc);
        try {
          const result = run(['simulate', series, '--assembly', dir, '--stack', 'LambdaCanary']);
          expect(result.err).not.toMatch(STACK_TRACE);
          expect([0, 2]).toContain(result.code);
          if (result.code === 2) {
            expect(result.err.split('\n')).toHaveLength(1);
            // The policy's fault names the metadata file and field; a replay the edit makes impossible names the engine's rule.
            const policyFault = result.err.startsWith(`--assembly ${dir}: ${target}: `) && /field "data[^"]*": .* \(RT71[45]\)$/.test(result.err);
            const replayFault = result.err.startsWith(`${series}: `);
            expect(policyFault || replayFault, result.err).toBe(true);
          }
          if (surelyInvalid) expect(result.code).toBe(2);
        } finally {
          writeJson(target, original);
        }
      }),
      { numRuns: Number(process.env.RT_SIM_RUNS ?? 40), seed: Number(process.env.RT_SEED ?? 13) },
    );
  });
});
