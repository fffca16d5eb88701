/**
 * Synthesis-time benchmark: N availability SLOs built with cdk-rollback-triggers versus hand-written
 * aws-cdk-lib code that creates the same CloudWatch resources.
 *
 *   npx tsx bench/synth.bench.ts            # plain-text table on stdout, progress on stderr
 *   npx tsx bench/synth.bench.ts --json     # JSON on stdout instead
 *   npx tsx bench/synth.bench.ts --no-validation
 *       # opt-in: turn off aws-cdk-lib's built-in CloudFormation validation for BOTH variants
 *
 * Method. For each size and variant a fresh App and Stack(s) are built, the constructs created and
 * `app.synth()` called; the time of all of that together is one sample (process.hrtime.bigint()).
 * Per size: one untimed warm-up run of each variant, then R interleaved repetitions A, B, A, B…
 * Each SLO sits on its own inline-code Lambda function (same in both variants), so the only
 * difference is how the alarms are made. A GC runs before every sample, outside the timing.
 *
 * Both variants must produce identical CloudWatch resources: the resource counts per type are
 * compared on every run, and on the warm-up runs every alarm's properties are compared too
 * (descriptions and generated names ignored, composite rules compared with alarm references masked). Any mismatch
 * throws: the comparison is only fair when the templates match.
 *
 * CloudFormation allows 500 resources per stack and aws-cdk-lib refuses to synthesize more, and
 * one SLO here is 12 resources (8 alarms, 2 composites, a function and its role), so SLOs are
 * spread over stacks of at most 25 (400 resources). 100 SLOs = 4 stacks.
 */
import { App, CloudFormationValidatePlugin, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { RollbackPlan, ServiceLevelObjective, Sli } from '../lib';

// ---------------------------------------------------------------------------------------------
// Configuration

const SIZES: ReadonlyArray<{ slos: number; reps: number }> = [
  { slos: 1, reps: 7 },
  { slos: 10, reps: 7 },
  { slos: 100, reps: 3 },
];
const MAX_SLOS_PER_STACK = 25;
const OBJECTIVE_PERCENT = 99.9;

const args = new Set(process.argv.slice(2));
for (const a of args) {
  if (a !== '--json' && a !== '--no-validation') {
    console.error(`unknown argument ${a}; usage: tsx bench/synth.bench.ts [--json] [--no-validation]`);
    process.exit(2);
  }
}
const JSON_OUTPUT = args.has('--json');
const BUILTIN_VALIDATION = !args.has('--no-validation');

type Variant = 'library' | 'hand-written';
const VARIANTS: readonly Variant[] = ['library', 'hand-written'];

// ---------------------------------------------------------------------------------------------
// A GC between samples, outside the timing, so one sample does not pay for the previous one's garbage.

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

// Time spent in aws-cdk-lib's built-in validation plugin, to show how much of synth it is. The
// wrapper only counts calls and time; the plugin itself runs unchanged.
let validateCalls = 0;
let validateNs = 0n;
const originalValidate = CloudFormationValidatePlugin.prototype.validate;
CloudFormationValidatePlugin.prototype.validate = function (this: CloudFormationValidatePlugin, ...a: Parameters<typeof originalValidate>) {
  const t0 = process.hrtime.bigint();
  try {
    return originalValidate.apply(this, a);
  } finally {
    validateNs += process.hrtime.bigint() - t0;
    validateCalls++;
  }
};

// ---------------------------------------------------------------------------------------------
// The two variants

function newFunction(scope: Construct, i: number): lambda.Function {
  return new lambda.Function(scope, `Fn${i}`, {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 });'),
  });
}

function librarySlo(scope: Construct, i: number, fn: lambda.IFunction): void {
  new ServiceLevelObjective(scope, `Slo${i}`, { sli: Sli.lambdaAvailability(fn), objectivePercent: OBJECTIVE_PERCENT });
}

/** The SRE Workbook tiers for a 30-day period, as someone would write them out by hand. */
const HAND_TIERS = [
  { name: 'page-1h', severity: 'page', factor: 14.4, long: [Duration.hours(1), '1 h'], short: [Duration.minutes(5), '5 min'] },
  { name: 'page-6h', severity: 'page', factor: 6, long: [Duration.hours(6), '6 h'], short: [Duration.minutes(30), '30 min'] },
  { name: 'ticket-1d', severity: 'ticket', factor: 3, long: [Duration.days(1), '1 d'], short: [Duration.hours(2), '2 h'] },
  { name: 'ticket-3d', severity: 'ticket', factor: 1, long: [Duration.days(3), '3 d'], short: [Duration.hours(6), '6 h'] },
] as const;

function handWrittenSlo(scope: Construct, i: number, fn: lambda.IFunction): void {
  const name = `Slo${i}`;
  const slo = new Construct(scope, name);
  const budget = 0.001; // 99.9 %
  const metric = (metricName: string) =>
    new cloudwatch.Metric({ namespace: 'AWS/Lambda', metricName, dimensionsMap: { FunctionName: fn.functionName }, statistic: cloudwatch.Stats.SUM });
  const bad = metric('Errors');
  const total = metric('Invocations');
  const bySeverity: Record<'page' | 'ticket', cloudwatch.IAlarmRule[]> = { page: [], ticket: [] };

  for (const tier of HAND_TIERS) {
    const minEvents = Math.floor(1 / (tier.factor * budget)) + 1;
    const windowAlarm = (role: string, [window, windowText]: readonly [Duration, string]) =>
      new cloudwatch.Alarm(slo, `${tier.name}-${role}`, {
        metric: new cloudwatch.MathExpression({
          expression: `IF(total >= ${minEvents}, FILL(bad, 0) / total, 0) / ${budget}`,
          usingMetrics: { bad, total },
          period: window,
          label: `${name} burn rate over ${windowText}`,
        }),
        threshold: tier.factor,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: `${name}: burn rate over ${windowText} >= ${tier.factor}x (${role} window of ${tier.name})`,
      });
    bySeverity[tier.severity].push(cloudwatch.AlarmRule.allOf(windowAlarm('long', tier.long), windowAlarm('short', tier.short)));
  }
  // The whole multiwindow rule in one composite per severity, as the library's default layout (EXACT).
  for (const severity of ['page', 'ticket'] as const) {
    new cloudwatch.CompositeAlarm(slo, severity, {
      alarmRule: cloudwatch.AlarmRule.anyOf(...bySeverity[severity]),
      alarmDescription: `${name}: any ${severity} tier firing`,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// One run

interface RunResult {
  readonly ms: number;
  readonly validateMs: number;
  readonly validateCalls: number;
  readonly stacks: number;
  readonly resourceCounts: Record<string, number>;
  readonly templates: any[];
  readonly plan?: { metricAlarmCount: number; compositeAlarmCount: number; monthlyCostUsd: number; sloCount: number };
}

let outRoot: string | undefined;
let runCounter = 0;

function runOnce(variant: Variant, slos: number): RunResult {
  const outdir = path.join(outRoot!, `run-${runCounter++}`);
  gc();
  validateCalls = 0;
  validateNs = 0n;

  const t0 = process.hrtime.bigint();
  const app = new App({ outdir, builtinCloudFormationValidation: BUILTIN_VALIDATION });
  let stack: Stack | undefined;
  for (let i = 0; i < slos; i++) {
    if (i % MAX_SLOS_PER_STACK === 0) stack = new Stack(app, `Slos${i / MAX_SLOS_PER_STACK}`);
    const fn = newFunction(stack!, i);
    if (variant === 'library') librarySlo(stack!, i, fn);
    else handWrittenSlo(stack!, i, fn);
  }
  const assembly = app.synth();
  const t1 = process.hrtime.bigint();

  const resourceCounts: Record<string, number> = {};
  const templates = assembly.stacks.map((s) => s.template);
  for (const template of templates) {
    for (const resource of Object.values<any>(template.Resources ?? {})) {
      resourceCounts[resource.Type] = (resourceCounts[resource.Type] ?? 0) + 1;
    }
  }
  let plan: RunResult['plan'];
  if (variant === 'library') {
    // RollbackPlan.of(app) covers every stack; with one stack it equals RollbackPlan.of(stack).
    const p = RollbackPlan.of(app);
    plan = { metricAlarmCount: p.metricAlarmCount, compositeAlarmCount: p.compositeAlarmCount, monthlyCostUsd: p.monthlyCostUsd, sloCount: p.sloCount };
  }
  const result: RunResult = {
    ms: Number(t1 - t0) / 1e6,
    validateMs: Number(validateNs) / 1e6,
    validateCalls,
    stacks: assembly.stacks.length,
    resourceCounts,
    templates,
    plan,
  };
  fs.rmSync(outdir, { recursive: true, force: true });
  return result;
}

// ---------------------------------------------------------------------------------------------
// Fairness checks

const ALARM = 'AWS::CloudWatch::Alarm';
const COMPOSITE = 'AWS::CloudWatch::CompositeAlarm';

function checkCounts(slos: number, lib: RunResult, hand: RunResult): void {
  const types = [...new Set([...Object.keys(lib.resourceCounts), ...Object.keys(hand.resourceCounts)])].sort();
  const diffs = types.filter((t) => lib.resourceCounts[t] !== hand.resourceCounts[t]);
  if (diffs.length > 0 || !lib.resourceCounts[ALARM] || !lib.resourceCounts[COMPOSITE]) {
    throw new Error(
      `${slos} SLOs: the variants do not create the same resources, the comparison would be unfair: ` +
        types.map((t) => `${t} library=${lib.resourceCounts[t] ?? 0} hand-written=${hand.resourceCounts[t] ?? 0}`).join('; '),
    );
  }
}

/** Replaces every CloudFormation reference in a composite rule with a placeholder. */
function maskedRule(rule: any): string {
  if (typeof rule === 'string') return rule;
  if (rule && Array.isArray(rule['Fn::Join'])) {
    const [sep, parts] = rule['Fn::Join'];
    return parts.map((p: any) => (typeof p === 'string' ? p : '<alarm>')).join(sep);
  }
  return '<alarm>';
}

function fingerprints(templates: any[]): string[] {
  const out: string[] = [];
  for (const template of templates) {
    for (const resource of Object.values<any>(template.Resources ?? {})) {
      if (resource.Type !== ALARM && resource.Type !== COMPOSITE) continue;
      // Descriptions are free text; AlarmName of a composite is generated from its construct path.
      const { AlarmDescription: _description, AlarmName: _name, ...props } = resource.Properties;
      if (resource.Type === COMPOSITE) props.AlarmRule = maskedRule(props.AlarmRule);
      out.push(`${resource.Type} ${JSON.stringify(props)}`);
    }
  }
  return out.sort();
}

function checkProperties(slos: number, lib: RunResult, hand: RunResult): void {
  const a = fingerprints(lib.templates);
  const b = fingerprints(hand.templates);
  const firstDiff = a.findIndex((x, i) => x !== b[i]);
  if (a.length !== b.length || firstDiff !== -1) {
    throw new Error(
      `${slos} SLOs: the alarms differ between the variants (descriptions and names ignored), the comparison would be unfair.\n` +
        `  library:      ${a[firstDiff]}\n  hand-written: ${b[firstDiff]}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Statistics and output

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

interface VariantStats {
  readonly samplesMs: number[];
  readonly medianMs: number;
  readonly minMs: number;
  readonly validateMedianMs: number;
}

interface SizeResult {
  readonly slos: number;
  readonly reps: number;
  readonly stacks: number;
  readonly alarms: number;
  readonly composites: number;
  readonly warmupMs: Record<Variant, number>;
  readonly variants: Record<Variant, VariantStats>;
  readonly ratioOfMedians: number;
  readonly ratioOfMins: number;
  readonly libraryPerSlo: { metricAlarms: number; compositeAlarms: number; monthlyCostUsd: number };
}

function stats(runs: RunResult[]): VariantStats {
  const samplesMs = runs.map((r) => r.ms);
  return {
    samplesMs: samplesMs.map((x) => Math.round(x * 10) / 10),
    medianMs: median(samplesMs),
    minMs: Math.min(...samplesMs),
    validateMedianMs: median(runs.map((r) => r.validateMs)),
  };
}

function progress(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

function benchSize(slos: number, reps: number): SizeResult {
  // Warm-up: one run of each variant, untimed for the statistics, fully checked.
  const warmLib = runOnce('library', slos);
  const warmHand = runOnce('hand-written', slos);
  checkCounts(slos, warmLib, warmHand);
  checkProperties(slos, warmLib, warmHand);
  progress(`  ${slos} SLOs warm-up: library ${warmLib.ms.toFixed(0)} ms, hand-written ${warmHand.ms.toFixed(0)} ms`);

  const runs: Record<Variant, RunResult[]> = { library: [], 'hand-written': [] };
  for (let r = 0; r < reps; r++) {
    for (const v of VARIANTS) runs[v].push(runOnce(v, slos));
    checkCounts(slos, runs.library[r], runs['hand-written'][r]);
    progress(`  ${slos} SLOs rep ${r + 1}/${reps}: library ${runs.library[r].ms.toFixed(0)} ms, hand-written ${runs['hand-written'][r].ms.toFixed(0)} ms`);
  }

  const plan = warmLib.plan!;
  if (plan.sloCount !== slos || plan.metricAlarmCount !== warmLib.resourceCounts[ALARM] || plan.compositeAlarmCount !== warmLib.resourceCounts[COMPOSITE]) {
    throw new Error(
      `${slos} SLOs: RollbackPlan (${plan.sloCount} SLOs, ${plan.metricAlarmCount} alarms, ${plan.compositeAlarmCount} composites) ` +
        `disagrees with the template (${warmLib.resourceCounts[ALARM]} alarms, ${warmLib.resourceCounts[COMPOSITE]} composites)`,
    );
  }
  const lib = stats(runs.library);
  const hand = stats(runs['hand-written']);
  return {
    slos,
    reps,
    stacks: warmLib.stacks,
    alarms: warmLib.resourceCounts[ALARM],
    composites: warmLib.resourceCounts[COMPOSITE],
    warmupMs: { library: warmLib.ms, 'hand-written': warmHand.ms },
    variants: { library: lib, 'hand-written': hand },
    ratioOfMedians: lib.medianMs / hand.medianMs,
    ratioOfMins: lib.minMs / hand.minMs,
    libraryPerSlo: {
      metricAlarms: plan.metricAlarmCount / slos,
      compositeAlarms: plan.compositeAlarmCount / slos,
      monthlyCostUsd: Math.round((plan.monthlyCostUsd / slos) * 100) / 100,
    },
  };
}

function validationStatus(): string {
  if (!BUILTIN_VALIDATION) return 'OFF for both variants (--no-validation: App builtinCloudFormationValidation=false)';
  if (process.env.CDK_VALIDATION === 'false') return 'OFF for both variants (CDK_VALIDATION=false in the environment)';
  return "ON for both variants (aws-cdk-lib's built-in CloudFormation Validate plugin, the default; runs inside app.synth() once per stack)";
}

function pad(s: string | number, n: number, left = false): string {
  const str = String(s);
  return left ? str.padEnd(n) : str.padStart(n);
}

function renderTable(results: SizeResult[], meta: Record<string, unknown>): string {
  const lines: string[] = [];
  lines.push('cdk-rollback-triggers synth benchmark: library vs hand-written aws-cdk-lib (same alarms)');
  lines.push(`node ${meta.node}, aws-cdk-lib ${meta.awsCdkLib}, ${meta.cpus} CPUs, load average ${meta.loadavgStart} at start, ${meta.loadavgEnd} at end`);
  lines.push(`validation: ${meta.validation}`);
  lines.push(
    `each sample = new App + Stack(s) + constructs + app.synth(); 1 warm-up per variant and size, then interleaved reps; GC before each sample; ` +
      `at most ${MAX_SLOS_PER_STACK} SLOs per stack (500-resource limit)`,
  );
  lines.push(`first synth in the process (library warm-up, 1 SLO, includes one-time validation engine start-up): ${results[0]?.warmupMs.library.toFixed(0)} ms`);
  lines.push('');
  const header = `${pad('SLOs', 5)} ${pad('stacks', 6)} ${pad('alarms', 6)} ${pad('compos.', 7)}  ${pad('variant', 12, true)} ${pad('reps', 4)} ${pad('median ms', 10)} ${pad('min ms', 9)} ${pad('validate ms', 11)}`;
  lines.push(header);
  lines.push('-'.repeat(header.length));
  for (const r of results) {
    VARIANTS.forEach((v, idx) => {
      const s = r.variants[v];
      const first = idx === 0;
      lines.push(
        `${pad(first ? r.slos : '', 5)} ${pad(first ? r.stacks : '', 6)} ${pad(first ? r.alarms : '', 6)} ${pad(first ? r.composites : '', 7)}  ` +
          `${pad(v, 12, true)} ${pad(r.reps, 4)} ${pad(s.medianMs.toFixed(1), 10)} ${pad(s.minMs.toFixed(1), 9)} ${pad(BUILTIN_VALIDATION ? s.validateMedianMs.toFixed(1) : '-', 11)}`,
      );
    });
    lines.push(`${pad('', 29)}  ${pad('lib / hand', 12, true)} ${pad('', 4)} ${pad(r.ratioOfMedians.toFixed(2) + 'x', 10)} ${pad(r.ratioOfMins.toFixed(2) + 'x', 9)}`);
    lines.push('');
  }
  lines.push('library, per SLO (RollbackPlan.of(app), us-east-1 list prices):');
  lines.push(`${pad('SLOs', 5)} ${pad('metric alarms', 14)} ${pad('composites', 11)} ${pad('USD / month', 12)}`);
  for (const r of results) {
    lines.push(`${pad(r.slos, 5)} ${pad(r.libraryPerSlo.metricAlarms, 14)} ${pad(r.libraryPerSlo.compositeAlarms, 11)} ${pad(r.libraryPerSlo.monthlyCostUsd.toFixed(2), 12)}`);
  }
  lines.push('');
  lines.push(`total wall time ${(Number(meta.totalMs) / 1000).toFixed(1)} s`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

function main(): void {
  const started = process.hrtime.bigint();
  const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
  const loadavgStart = loadavg();
  outRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'rollback-triggers-bench-'));
  const results: SizeResult[] = [];
  try {
    for (const { slos, reps } of SIZES) {
      progress(`${slos} SLOs…`);
      results.push(benchSize(slos, reps));
    }
  } finally {
    fs.rmSync(outRoot, { recursive: true, force: true });
  }
  const meta = {
    node: process.version,
    awsCdkLib: require('aws-cdk-lib/package.json').version as string,
    cpus: os.cpus().length,
    loadavgStart,
    loadavgEnd: loadavg(),
    validation: validationStatus(),
    builtinValidation: BUILTIN_VALIDATION && process.env.CDK_VALIDATION !== 'false',
    maxSlosPerStack: MAX_SLOS_PER_STACK,
    objectivePercent: OBJECTIVE_PERCENT,
    totalMs: Number(process.hrtime.bigint() - started) / 1e6,
  };
  if (JSON_OUTPUT) {
    process.stdout.write(`${JSON.stringify({ meta, results }, null, 2)}\n`);
  } else {
    process.stdout.write(`${renderTable(results, meta)}\n`);
  }
}

main();
