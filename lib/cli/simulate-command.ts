import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { RollbackPolicy, RollbackTriggersError, formatNumber } from '../core';
import type { DeploymentShape, SimulationInput, SimulationResult } from '../core/simulator';
import { readPolicies } from './assembly';
import { renderChart } from './chart';
import { policyFromInline } from './inline-policy';
import { InputError } from './input-error';
import { OutputFile, checkOutputPath, writeAllOrNothing } from './output-files';
import { PngUnavailableError, svgToPng } from './png';
import { DeploymentInput, InlineRollback, InlineSlo, SeriesFile, parseDeploymentFlag, readPolicyFile, readSeriesFile } from './series-file';
import { renderTimeline } from './timeline';

export const SIMULATE_USAGE = `Usage: rollback-triggers simulate SERIES-FILE [options]

  simulate  Replay a per-minute series (JSON or CSV, see the README, "Simulate a release before it ships") through both
            rollback paths — the CloudWatch alarms CodeDeploy polls and the evaluator hook —
            and through the paging alarms; print when each would act and why.

  Policy (default: the file's "slos", else one 99.9 % error-ratio SLO "availability"):
    --assembly DIR          read the policy of a synthesized app (cdk.out)
    --stack NAME            the stack to read, when the assembly holds several
    --trigger NAME          the rollback trigger (name or path), when the stack holds several
    --policy FILE           an inline policy file: { "slos": [...], "rollback": {...} }

  Deployment (override the JSON file's fields; required for CSV):
    --release-minute N      minute the deployment starts shifting traffic
    --release-time ISO      the same as a time, for CSV files with a timestamp column
    --deployment SHAPE      all-at-once | canary:PERCENT:MINUTES | linear:PERCENT:MINUTES
                            | a CodeDeploy config name (Canary10Percent5Minutes, …)
    --bake-minutes N        evaluator bake after all traffic shifted
                            (default: the rollback trigger's bake, else 10)
    --ingestion-delay SECONDS  CloudWatch ingestion delay for the alarms (multiple of 60; default 0)

  Output (each file written whole or not at all):
    --json FILE             the result and an input summary as JSON ("-" for stdout)
    --chart FILE.svg        chart: burn rates against thresholds, traffic per version,
                            deployment phases, decisions
    --png FILE.png          the same chart as PNG

Exit codes: 0 simulated (whatever the verdict), 1 internal error, 2 bad usage or input.`;

/** The simulation engine; a parameter so tests can replace it. */
export type SimulateEngine = (input: SimulationInput) => SimulationResult;

/** Runs past this many minutes print progress on stderr. */
export const PROGRESS_MINUTES = 10_000;

const DEFAULT_SLOS: readonly InlineSlo[] = [{ name: 'availability', objectivePercent: 99.9, sli: 'error-ratio' }];
const DEFAULT_BAKE_MINUTES = 10;

/** Where the policy came from, for the timeline and the JSON. */
export interface PolicySource {
  readonly kind: 'assembly' | 'policy-file' | 'series-file' | 'default';
  readonly path?: string;
  readonly stack?: string;
}

/** What the CLI fed the engine and what it read, as the JSON output's `input`. */
export interface InputSummary {
  readonly file: string;
  readonly format: 'json' | 'csv';
  readonly description?: string;
  readonly entries: number;
  readonly firstMinute: number;
  readonly lastMinute: number;
  /** Minutes between the first and last entry that have no entry (no datapoint). */
  readonly missingMinutes: number;
  /** Entries with new-version (`canary`) and old-version (`stable`) counts. */
  readonly canaryEntries: number;
  readonly stableEntries: number;
  /** Time of minute 0, for CSV files with timestamps. */
  readonly startTime?: string;
  readonly releaseMinute: number;
  readonly deployment: DeploymentShape;
  readonly ingestionDelayMinutes: number;
  readonly rollbackTrigger?: string;
  readonly policySource: PolicySource;
  readonly policy: RollbackPolicy;
}

/** `rollback-triggers simulate …`; returns the exit code. */
export function runSimulate(argv: string[], out: (s: string) => void, err: (s: string) => void, engine: SimulateEngine): number {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'assembly': { type: 'string' },
        'stack': { type: 'string' },
        'trigger': { type: 'string' },
        'policy': { type: 'string' },
        'release-minute': { type: 'string' },
        'release-time': { type: 'string' },
        'deployment': { type: 'string' },
        'bake-minutes': { type: 'string' },
        'ingestion-delay': { type: 'string' },
        'json': { type: 'string' },
        'chart': { type: 'string' },
        'png': { type: 'string' },
        'help': { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    err(`${(e as Error).message}\n\n${SIMULATE_USAGE}`);
    return 2;
  }
  const flags = parsed.values;
  if (flags.help) {
    out(SIMULATE_USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    err(`${parsed.positionals.length === 0 ? 'simulate needs a series file' : `one series file at a time, got ${parsed.positionals.join(' ')}`}\n\n${SIMULATE_USAGE}`);
    return 2;
  }
  const file = parsed.positionals[0];
  try {
    return simulateFile(file, flags, out, err, engine);
  } catch (e) {
    if (e instanceof InputError) {
      err(e.message);
      return 2;
    }
    if (e instanceof PngUnavailableError) {
      err(e.message);
      return 1;
    }
    err(`internal error while simulating ${file}: ${(e as Error).stack ?? String(e)}`);
    return 1;
  }
}

interface Flags {
  readonly 'assembly'?: string;
  readonly 'stack'?: string;
  readonly 'trigger'?: string;
  readonly 'policy'?: string;
  readonly 'release-minute'?: string;
  readonly 'release-time'?: string;
  readonly 'deployment'?: string;
  readonly 'bake-minutes'?: string;
  readonly 'ingestion-delay'?: string;
  readonly 'json'?: string;
  readonly 'chart'?: string;
  readonly 'png'?: string;
}

function simulateFile(file: string, flags: Flags, out: (s: string) => void, err: (s: string) => void, engine: SimulateEngine): number {
  // Flags first: a typo should not wait for a large file to be read.
  if (flags.assembly !== undefined && flags.policy !== undefined) throw new InputError('give either --assembly or --policy, not both');
  if (flags.stack !== undefined && flags.assembly === undefined) throw new InputError('--stack needs --assembly');
  if (flags['release-minute'] !== undefined && flags['release-time'] !== undefined) throw new InputError('give either --release-minute or --release-time, not both');
  const releaseFlag = optionalWhole(flags['release-minute'], '--release-minute', 0);
  const bakeFlag = optionalWhole(flags['bake-minutes'], '--bake-minutes', 1);
  const delaySeconds = optionalWhole(flags['ingestion-delay'], '--ingestion-delay', 0);
  if (delaySeconds !== undefined && delaySeconds % 60 !== 0) {
    throw new InputError(`--ingestion-delay must be a multiple of 60 seconds (the simulation runs in whole minutes), got ${delaySeconds}`);
  }
  const deploymentFlag = flags.deployment === undefined ? undefined : parseDeploymentFlag(flags.deployment);
  const outputs = [
    ['--json', flags.json],
    ['--chart', flags.chart],
    ['--png', flags.png],
  ] as const;
  if (flags.chart === '-' || flags.png === '-') throw new InputError('--chart and --png need a file name');
  const claimed = new Map<string, string>([[resolve(file), 'the series file']]);
  for (const [flag, path] of outputs) {
    if (path === undefined || path === '-') continue;
    checkOutputPath(path, flag);
    const other = claimed.get(resolve(path));
    if (other) throw new InputError(`${flag} ${path}: is also ${other}; give each output its own file`);
    claimed.set(resolve(path), flag);
  }

  const started = Date.now();
  const data = readSeriesFile(file);
  const first = data.series[0].minute;
  const last = data.series[data.series.length - 1].minute;
  const long = last - first + 1 > PROGRESS_MINUTES;
  const progress = (message: string) => {
    if (long) err(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${message}`);
  };
  progress(`read ${data.series.length.toLocaleString('en-US')} entries (minutes ${first}–${last}) from ${file}`);

  // Policy.
  const { policy, source, rollbackTrigger } = resolvePolicy(data, flags);
  const trigger = rollbackTrigger === undefined ? policy.rollbackTriggers?.[0] : policy.rollbackTriggers?.find((t) => t.name === rollbackTrigger || t.path === rollbackTrigger);

  // Release and deployment.
  let releaseMinute = releaseFlag ?? data.releaseMinute;
  if (flags['release-time'] !== undefined) releaseMinute = releaseFromTime(flags['release-time'], data);
  if (releaseMinute === undefined) {
    throw new InputError(
      data.format === 'csv' ? 'the release minute is required: give --release-minute (or --release-time)' : 'is required (or give --release-minute)',
      file,
      undefined,
      data.format === 'csv' ? undefined : 'releaseMinute',
    );
  }
  // A release after the last entry is allowed: "no data after the release" is a case to replay.
  if (releaseMinute < first) {
    throw new InputError(`${releaseMinute} is before the series, which starts at minute ${first}`, file, undefined, flags['release-minute'] !== undefined ? '--release-minute' : 'releaseMinute');
  }
  const deploymentInput: DeploymentInput | undefined = deploymentFlag ? { ...deploymentFlag, bakeMinutes: data.deployment?.bakeMinutes } : data.deployment;
  if (deploymentInput === undefined) {
    throw new InputError(
      data.format === 'csv' ? 'the deployment shape is required: give --deployment (all-at-once, canary:10:5, linear:10:1…)' : 'is required (or give --deployment)',
      file,
      undefined,
      data.format === 'csv' ? undefined : 'deployment',
    );
  }
  const bakeMinutes = bakeFlag ?? deploymentInput.bakeMinutes ?? (trigger ? trigger.bakeSeconds / 60 : DEFAULT_BAKE_MINUTES);
  const deployment: DeploymentShape = { ...deploymentInput, bakeMinutes };
  const ingestionDelayMinutes = delaySeconds !== undefined ? delaySeconds / 60 : (data.ingestionDelayMinutes ?? 0);
  checkBadEventCounts(data, policy);

  const input: SimulationInput = {
    policy,
    series: data.series,
    releaseMinute,
    deployment,
    evaluator: data.evaluator,
    ingestionDelayMinutes,
    rollbackTrigger,
  };
  progress('simulating (alarm emulator, evaluator, paging)…');
  let result: SimulationResult;
  try {
    result = engine(input);
  } catch (e) {
    if (e instanceof RollbackTriggersError) throw engineInputError(e, data);
    throw e;
  }
  progress('simulated');

  const summary: InputSummary = {
    file,
    format: data.format,
    description: data.description,
    entries: data.series.length,
    firstMinute: first,
    lastMinute: last,
    missingMinutes: last - first + 1 - data.series.length,
    canaryEntries: data.series.filter((e) => e.canary !== undefined).length,
    stableEntries: data.series.filter((e) => e.stable !== undefined).length,
    startTime: data.startTimeMs === undefined ? undefined : new Date(data.startTimeMs).toISOString(),
    releaseMinute,
    deployment,
    ingestionDelayMinutes,
    rollbackTrigger: trigger?.path,
    policySource: source,
    policy,
  };

  const files: OutputFile[] = [];
  const json = JSON.stringify({ schemaVersion: 1, input: summary, result }, null, 2) + '\n';
  if (flags.json !== undefined && flags.json !== '-') files.push({ path: flags.json, content: json });
  if (flags.chart !== undefined || flags.png !== undefined) {
    progress('drawing the chart…');
    const svg = renderChart(summary, result);
    if (flags.chart !== undefined) files.push({ path: flags.chart, content: svg });
    if (flags.png !== undefined) {
      progress('rasterizing the chart…');
      files.push({ path: flags.png, content: svgToPng(svg) });
    }
  }
  writeAllOrNothing(files);
  progress(`done${files.length > 0 ? `, wrote ${files.map((f) => f.path).join(', ')}` : ''}`);

  if (flags.json === '-') {
    out(json.trimEnd());
  } else {
    out(renderTimeline(summary, result));
    for (const f of files) out(`wrote ${f.path}`);
  }
  return 0;
}

function resolvePolicy(data: SeriesFile, flags: Flags): { policy: RollbackPolicy; source: PolicySource; rollbackTrigger?: string } {
  const bakeSeconds = () => 60 * (optionalWhole(flags['bake-minutes'], '--bake-minutes', 1) ?? data.deployment?.bakeMinutes ?? DEFAULT_BAKE_MINUTES);
  const inline = (slos: readonly InlineSlo[], rollback: InlineRollback | undefined, file: string | undefined) =>
    policyFromInline({ slos, rollback, bakeSeconds: bakeSeconds(), metricDelaySeconds: data.evaluator?.metricDelaySeconds, file });

  if (flags.assembly !== undefined) {
    let policies: RollbackPolicy[];
    try {
      policies = readPolicies(flags.assembly);
    } catch (e) {
      throw new InputError(`--assembly ${flags.assembly}: ${(e as Error).message}`);
    }
    const withSlos = policies.filter((p) => p.slos.length > 0);
    const names = policies.map((p) => p.stack ?? '(unnamed)').join(', ');
    let policy: RollbackPolicy | undefined;
    if (flags.stack !== undefined) {
      policy = policies.find((p) => p.stack === flags.stack);
      if (!policy) throw new InputError(`--stack ${flags.stack}: no such stack with a rollback-triggers policy in ${flags.assembly} (stacks: ${names || 'none'})`);
      if (policy.slos.length === 0) throw new InputError(`--stack ${flags.stack}: the stack has no ServiceLevelObjective to replay`);
    } else if (withSlos.length === 1) {
      policy = withSlos[0];
    } else if (withSlos.length === 0) {
      throw new InputError(`--assembly ${flags.assembly}: no rollback-triggers SLOs found — run "cdk synth" on an app that uses ServiceLevelObjective`);
    } else {
      throw new InputError(`--assembly ${flags.assembly} holds several stacks with SLOs (${withSlos.map((p) => p.stack).join(', ')}): pick one with --stack`);
    }
    const triggers = policy.rollbackTriggers ?? [];
    if (flags.trigger !== undefined && !triggers.some((t) => t.name === flags.trigger || t.path === flags.trigger)) {
      throw new InputError(`--trigger ${flags.trigger}: stack ${policy.stack} has ${triggers.map((t) => `${t.name} (${t.path})`).join(', ') || 'no rollback trigger'}`);
    }
    return { policy, source: { kind: 'assembly', path: flags.assembly, stack: policy.stack }, rollbackTrigger: flags.trigger };
  }
  if (flags.trigger !== undefined) throw new InputError('--trigger needs --assembly (an inline policy has one rollback trigger)');
  if (flags.policy !== undefined) {
    const p = readPolicyFile(flags.policy);
    return { policy: inline(p.slos, p.rollback, flags.policy), source: { kind: 'policy-file', path: flags.policy } };
  }
  if (data.slos !== undefined) return { policy: inline(data.slos, data.rollback, data.file), source: { kind: 'series-file', path: data.file } };
  return { policy: inline(DEFAULT_SLOS, data.rollback, data.file), source: { kind: 'default' } };
}

/**
 * Counts an SLO reads its bad events from, beyond `errors`: a latency SLO counts `slow` requests, a
 * business-failure SLO `failures` (failed business operations, not errors). Every entry, and every
 * per-version part of it, needs the count; the message names the field and the SLO that needs it.
 */
function checkBadEventCounts(data: SeriesFile, policy: RollbackPolicy): void {
  const sep = data.format === 'csv' ? '_' : '.';
  const needs = [
    { field: 'slow', kind: 'latency', why: (slo: string) => `SLO ${slo} is a latency SLO, which counts slow requests (over the latency threshold)` },
    {
      field: 'failures',
      kind: 'business-failure',
      why: (slo: string) => `SLO ${slo} is a business-failure SLO, which counts failed business operations (not errors) among the requests`,
    },
  ] as const;
  for (const { field, kind, why } of needs) {
    const slo = policy.slos.find((s) => s.sli.kind === kind);
    if (!slo) continue;
    data.series.forEach((entry, i) => {
      // Given for one version but not the other: name the version's (the blended one could not be summed).
      const parts = (['stable', 'canary'] as const).flatMap((arm) => (entry[arm] ? [{ arm, counts: entry[arm] }] : []));
      const lacking = parts.find((p) => p.counts[field] === undefined);
      const partial = lacking !== undefined && parts.some((p) => p.counts[field] !== undefined);
      const missing = partial ? `${lacking.arm}${sep}${field}` : entry[field] === undefined ? field : lacking ? `${lacking.arm}${sep}${field}` : undefined;
      if (missing) throw new InputError(`is required: ${why(slo.name)}`, data.file, data.locate(i), missing);
    });
  }
}

/** Engine errors name `series entry N (minute M)`; point at the file's line or entry instead. */
function engineInputError(e: RollbackTriggersError, data: SeriesFile): InputError {
  const match = /^\[RT\d+\] series entry (\d+)(?: \(minute [^)]*\))?: /.exec(e.message);
  if (match) return new InputError(`${e.message.slice(match[0].length)} (${e.code})`, data.file, data.locate(Number(match[1])));
  return new InputError(e.message, data.file);
}

function releaseFromTime(text: string, data: SeriesFile): number {
  if (data.startTimeMs === undefined) throw new InputError('--release-time needs a CSV file with a timestamp column; use --release-minute');
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new InputError(`--release-time must be an ISO 8601 time such as 2024-05-01T10:30:00Z, got "${text}"`);
  const minute = (ms - data.startTimeMs) / 60_000;
  if (!Number.isInteger(minute) || minute < 0) {
    throw new InputError(`--release-time ${text} must fall on a whole minute at or after the first row (${new Date(data.startTimeMs).toISOString()})`);
  }
  return minute;
}

function optionalWhole(text: string | undefined, flag: string, min: number): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min) throw new InputError(`${flag} must be a whole number ≥ ${min}, got "${text}"`);
  return value;
}

/** Minutes as the timeline prints them: whole minutes plainly, evaluator ticks to the second. */
export function formatMinute(minute: number): string {
  return Number.isInteger(minute) ? String(minute) : formatNumber(Number(minute.toFixed(2)));
}
