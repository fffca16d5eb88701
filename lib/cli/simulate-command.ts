import { extname, resolve } from 'node:path';
import { DEFAULT_DEADLINE_SECONDS, HOOK_LIMIT_SECONDS, ROLLBACK_TRIGGER_DEFAULTS, MAX_EMULATED_MINUTES, PolicyRollbackTrigger, RollbackPolicy, RollbackTriggersError, formatNumber, formatSeconds } from '../core';
import { DEFAULT_EVALUATOR_SETTINGS, type DeploymentShape, type SimulationInput, type SimulationResult, shiftPlan } from '../core/simulator';
import { readPolicies } from './assembly';
import { renderChart } from './chart';
import { FlagSpec, parseFlags } from './flags';
import { policyFromInline, withInlineTrafficShift } from './inline-policy';
import { InputError, flagError, seriesError } from './input-error';
import { OutputFile, checkOutputPath, writeAllOrNothing } from './output-files';
import { PngUnavailableError, svgToPng } from './png';
import { DeploymentInput, InlineRollback, InlineSlo, MAX_INGESTION_DELAY_MINUTES, SeriesFile, parseDeploymentFlag, readPolicyFile, readSeriesFile } from './series-file';
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
    --breaker-open          replay as if the trigger's circuit breaker were open: a rollback on
                            evidence asks a human first (replayed unanswered)

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

/**
 * The longest ingestion delay the CLI takes, in seconds: CloudWatch accepts datapoints up to two
 * weeks old (PutMetricData), so a later one never lands.
 */
export const MAX_INGESTION_DELAY_SECONDS = MAX_INGESTION_DELAY_MINUTES * 60;

const SIMULATE_FLAGS: Record<string, FlagSpec> = {
  'assembly': { type: 'string', value: 'DIR' },
  'stack': { type: 'string', value: 'NAME' },
  'trigger': { type: 'string', value: 'NAME' },
  'policy': { type: 'string', value: 'FILE' },
  'release-minute': { type: 'string', value: 'N' },
  'release-time': { type: 'string', value: 'ISO' },
  'deployment': { type: 'string', value: 'SHAPE' },
  'bake-minutes': { type: 'string', value: 'N' },
  'ingestion-delay': { type: 'string', value: 'SECONDS' },
  'breaker-open': { type: 'boolean' },
  'json': { type: 'string', value: 'FILE or -' },
  'chart': { type: 'string', value: 'FILE.svg' },
  'png': { type: 'string', value: 'FILE.png' },
  'help': { type: 'boolean', short: 'h' },
};

const DEFAULT_SLOS: readonly InlineSlo[] = [{ name: 'availability', objectivePercent: 99.9, sli: 'error-ratio' }];
const DEFAULT_BAKE_MINUTES = ROLLBACK_TRIGGER_DEFAULTS.bakeSeconds / 60;

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
    parsed = parseFlags(argv, SIMULATE_FLAGS);
  } catch (e) {
    err(`${(e as Error).message}\n\n${SIMULATE_USAGE}`);
    return 2;
  }
  const flags = parsed.values as Flags & { readonly help?: boolean };
  if (flags.help) {
    out(SIMULATE_USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    err(`${flagError(parsed.positionals.length === 0 ? 'simulate needs a series file' : `one series file at a time, got ${parsed.positionals.join(' ')}`).message}\n\n${SIMULATE_USAGE}`);
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
  readonly 'breaker-open'?: boolean;
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

/** The flags' values, read and checked before the series file is. */
interface FlagValues {
  readonly releaseMinute?: number;
  readonly bakeMinutes?: number;
  readonly ingestionDelaySeconds?: number;
  readonly deployment?: DeploymentInput;
}

/** The first and last minute of the series. */
interface Span {
  readonly first: number;
  readonly last: number;
}

type Progress = (message: string) => void;

/** The engine's input as the CLI builds it: the ingestion delay always resolved. */
type ReplayInput = SimulationInput & { readonly ingestionDelayMinutes: number };

function simulateFile(file: string, flags: Flags, out: (s: string) => void, err: (s: string) => void, engine: SimulateEngine): number {
  // Flags first: a typo should not wait for a large file to be read.
  const given = readFlags(file, flags);
  const started = Date.now();
  const data = readSeriesFile(file);
  const span: Span = { first: data.series[0].minute, last: data.series[data.series.length - 1].minute };
  const progress = progressReporter(span, started, err);
  progress(`read ${data.series.length.toLocaleString('en-US')} entries (minutes ${span.first}–${span.last}) from ${file}`);

  const bake = givenBake(given, flags, data);
  const resolved = resolvePolicy(data, flags, bake?.minutes ?? DEFAULT_BAKE_MINUTES, err);
  const { source, rollbackTrigger } = resolved;
  let policy = resolved.policy;
  const trigger = rollbackTrigger === undefined ? policy.rollbackTriggers?.[0] : policy.rollbackTriggers?.find((t) => t.name === rollbackTrigger || t.path === rollbackTrigger);
  if (flags['breaker-open'] && trigger?.circuitBreaker === undefined) {
    throw flagError(`--breaker-open: the rollback trigger ${trigger ? trigger.name : '(none in the policy)'} has no circuitBreaker, so there is no breaker to replay open (synthesize it with circuitBreaker and pass --assembly)`);
  }
  const releaseMinute = releaseMinuteOf(file, flags, given, data, span);
  const deployment = deploymentOf(file, given, data, bake, trigger, source);
  // A shorthand policy has no deployment group: the shape replayed stands for its configuration.
  if (source.kind !== 'assembly') policy = withInlineTrafficShift(policy, deployment);
  const ingestionDelayMinutes = given.ingestionDelaySeconds !== undefined ? given.ingestionDelaySeconds / 60 : (data.ingestionDelayMinutes ?? 0);
  checkReplayLength(file, flags, given, span, releaseMinute, deployment, ingestionDelayMinutes);
  checkBadEventCounts(data, policy);

  const input: ReplayInput = {
    policy,
    series: data.series,
    releaseMinute,
    deployment,
    evaluator: data.evaluator,
    ingestionDelayMinutes,
    rollbackTrigger,
    ...(flags['breaker-open'] ? { breakerOpen: true } : {}),
  };
  const result = replay(engine, input, data, progress);
  const summary = inputSummary(file, data, span, input, trigger, source);
  const json = JSON.stringify({ schemaVersion: 1, input: summary, result }, null, 2) + '\n';
  const files = outputFiles(flags, json, summary, result, progress);
  writeAllOrNothing(files);
  progress(`done${files.length > 0 ? `, wrote ${files.map((f) => f.path).join(', ')}` : ''}`);
  printResult(out, flags, json, summary, result, files);
  return 0;
}

/** Checks the flags that conflict or need each other, reads the values, and checks the output paths. */
function readFlags(file: string, flags: Flags): FlagValues {
  if (flags.assembly !== undefined && flags.policy !== undefined) throw flagError('give either --assembly or --policy, not both');
  if (flags.stack !== undefined && flags.assembly === undefined) throw flagError('--stack needs --assembly');
  if (flags.trigger !== undefined && flags.assembly === undefined) throw flagError('--trigger needs --assembly (an inline policy has one rollback trigger)');
  if (flags['release-minute'] !== undefined && flags['release-time'] !== undefined) throw flagError('give either --release-minute or --release-time, not both');
  const values = readFlagValues(flags);
  checkOutputFlags(file, flags);
  return values;
}

function readFlagValues(flags: Flags): FlagValues {
  const releaseMinute = optionalWhole(flags['release-minute'], '--release-minute', 0, Number.MAX_SAFE_INTEGER, 'a whole number ≥ 0');
  const maxBakeMinutes = DEFAULT_DEADLINE_SECONDS / 60;
  const bakeMinutes = optionalWhole(
    flags['bake-minutes'],
    '--bake-minutes',
    1,
    maxBakeMinutes,
    `whole minutes from 1 to ${maxBakeMinutes} (the evaluator reports at the latest ${maxBakeMinutes} min after its hook starts)`,
  );
  const ingestionDelaySeconds = optionalWhole(
    flags['ingestion-delay'],
    '--ingestion-delay',
    0,
    MAX_INGESTION_DELAY_SECONDS,
    `whole seconds from 0 to ${MAX_INGESTION_DELAY_SECONDS} (14 days: CloudWatch takes no datapoint older than two weeks)`,
  );
  if (ingestionDelaySeconds !== undefined && ingestionDelaySeconds % 60 !== 0) {
    throw flagError(`--ingestion-delay must be a multiple of 60 seconds (the simulation runs in whole minutes), got "${flags['ingestion-delay']}"`);
  }
  const deployment = flags.deployment === undefined ? undefined : parseDeploymentFlag(flags.deployment);
  return { releaseMinute, bakeMinutes, ingestionDelaySeconds, deployment };
}

/** Each output a file of its own, named for what it holds, in a directory that exists. */
function checkOutputFlags(file: string, flags: Flags): void {
  if (flags.chart === '-' || flags.png === '-') throw flagError('--chart and --png need a file name; only --json writes to stdout ("-")');
  // A PNG named .svg (or the reverse) opens as a broken image.
  for (const [flag, path, other, otherFlag] of [
    ['--chart', flags.chart, '.png', '--png'],
    ['--png', flags.png, '.svg', '--chart'],
  ] as const) {
    if (path !== undefined && extname(path).toLowerCase() === other) {
      throw flagError(`${flag} ${path}: ${flag} writes ${flag === '--chart' ? 'SVG' : 'PNG'}, not ${other.slice(1).toUpperCase()}; name the file ${flag === '--chart' ? '.svg' : '.png'}, or give it to ${otherFlag}`);
    }
  }
  const outputs = [
    ['--json', flags.json],
    ['--chart', flags.chart],
    ['--png', flags.png],
  ] as const;
  const claimed = new Map<string, string>([[resolve(file), 'the series file']]);
  for (const [flag, path] of outputs) {
    if (path === undefined || path === '-') continue;
    checkOutputPath(path, flag);
    const other = claimed.get(resolve(path));
    if (other) throw flagError(`${flag} ${path}: is also ${other}; give each output its own file`);
    claimed.set(resolve(path), flag);
  }
}

/** Progress on stderr, timed from `started`, for runs long enough to wait for. */
function progressReporter(span: Span, started: number, err: (s: string) => void): Progress {
  const long = span.last - span.first + 1 > PROGRESS_MINUTES;
  return (message) => {
    if (long) err(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${message}`);
  };
}

/** The bake, and who gave it: a flag's error names the flag, a file's the file's field. */
function givenBake(given: FlagValues, flags: Flags, data: SeriesFile): Bake | undefined {
  if (given.bakeMinutes !== undefined) return { minutes: given.bakeMinutes, from: { flag: '--bake-minutes', text: flags['bake-minutes']! } };
  if (data.deployment?.bakeMinutes !== undefined) return { minutes: data.deployment.bakeMinutes, from: { file: data.file, where: 'deployment', field: 'bakeMinutes' } };
  return undefined;
}

/** The release minute, from a flag or the file, within what one replay covers. */
function releaseMinuteOf(file: string, flags: Flags, given: FlagValues, data: SeriesFile, span: Span): number {
  let releaseMinute = given.releaseMinute ?? data.releaseMinute;
  if (flags['release-time'] !== undefined) releaseMinute = releaseFromTime(flags['release-time'], data);
  if (releaseMinute === undefined) {
    throw seriesError(
      data.format === 'csv' ? 'the release minute is required: give --release-minute (or --release-time)' : 'is required (or give --release-minute)',
      file,
      undefined,
      data.format === 'csv' ? undefined : 'releaseMinute',
    );
  }
  // A release after the last entry is allowed: "no data after the release" is a case to replay.
  const releaseError = (rule: string) =>
    flags['release-minute'] !== undefined
      ? flagError(`--release-minute ${flags['release-minute']}: ${rule}`)
      : flags['release-time'] !== undefined
        ? flagError(`--release-time ${flags['release-time']} (minute ${releaseMinute}): ${rule}`)
        : seriesError(`${releaseMinute} ${rule}`, file, undefined, 'releaseMinute');
  if (releaseMinute < span.first) throw releaseError(`is before the series, which starts at minute ${span.first}`);
  if (releaseMinute - span.first >= MAX_EMULATED_MINUTES) {
    throw releaseError(
      `is ${releaseMinute - span.first} minutes after the series' first entry (minute ${span.first}); one replay covers less than ${MAX_EMULATED_MINUTES} minutes (60 days) from there — drop older entries`,
    );
  }
  return releaseMinute;
}

/** The deployment shape, from a flag or the file, with its bake: given, else the rollback trigger's, else the default. */
function deploymentOf(
  file: string,
  given: FlagValues,
  data: SeriesFile,
  bake: Bake | undefined,
  trigger: PolicyRollbackTrigger | undefined,
  source: PolicySource,
): DeploymentShape {
  const deploymentInput: DeploymentInput | undefined = given.deployment ? { ...given.deployment, bakeMinutes: data.deployment?.bakeMinutes } : data.deployment;
  if (deploymentInput === undefined) {
    throw seriesError(
      data.format === 'csv' ? 'the deployment shape is required: give --deployment (all-at-once, canary:10:5, linear:10:1…)' : 'is required (or give --deployment)',
      file,
      undefined,
      data.format === 'csv' ? undefined : 'deployment',
    );
  }
  const bakeMinutes = bake?.minutes ?? (trigger ? trigger.bakeSeconds / 60 : DEFAULT_BAKE_MINUTES);
  // A trigger from the assembly was checked at synth with its own metric delay; a bake given here is checked against the replay's.
  if (bake !== undefined || source.kind !== 'assembly') {
    checkBake(bake ?? { minutes: bakeMinutes, from: { file: data.file, where: 'deployment', field: 'bakeMinutes' } }, source.kind === 'assembly' ? trigger : undefined, data);
  }
  return { ...deploymentInput, bakeMinutes };
}

/**
 * One replay runs from the first entry to the end of the deployment (the hook reports within the
 * hour after the full shift) and past the last entry by the ingestion delay: name what makes it too long.
 */
function checkReplayLength(file: string, flags: Flags, given: FlagValues, span: Span, releaseMinute: number, deployment: DeploymentShape, ingestionDelayMinutes: number): void {
  const { first, last } = span;
  const shiftEnd = shiftPlan(deployment, releaseMinute).allTrafficMinute;
  if (shiftEnd + HOOK_LIMIT_SECONDS / 60 - first >= MAX_EMULATED_MINUTES) {
    const rule =
      `shifts all traffic at minute ${shiftEnd}, ${shiftEnd - releaseMinute} minutes after the release; with the hour of the hook, the replay from the ` +
      `series' first entry (minute ${first}) would exceed the ${MAX_EMULATED_MINUTES} minutes (60 days) one replay covers — use fewer or shorter steps`;
    if (given.deployment) throw flagError(`--deployment ${flags.deployment}: ${rule}`);
    throw seriesError(rule, file, undefined, 'deployment');
  }
  if (last + ingestionDelayMinutes + 1 - first >= MAX_EMULATED_MINUTES) {
    const rule = `delays the last entry (minute ${last}) past the ${MAX_EMULATED_MINUTES} minutes (60 days) one replay covers from the first entry (minute ${first})`;
    if (given.ingestionDelaySeconds !== undefined) throw flagError(`--ingestion-delay ${flags['ingestion-delay']}: ${rule}`);
    throw seriesError(`${ingestionDelayMinutes} ${rule}`, file, undefined, 'ingestionDelayMinutes');
  }
}

/** Runs the engine; its input errors point at the file's line or entry. */
function replay(engine: SimulateEngine, input: SimulationInput, data: SeriesFile, progress: Progress): SimulationResult {
  progress('simulating (alarm emulator, evaluator, paging)…');
  let result: SimulationResult;
  try {
    result = engine(input);
  } catch (e) {
    if (e instanceof RollbackTriggersError) throw engineInputError(e, data);
    throw e;
  }
  progress('simulated');
  return result;
}

function inputSummary(file: string, data: SeriesFile, span: Span, input: ReplayInput, trigger: PolicyRollbackTrigger | undefined, source: PolicySource): InputSummary {
  return {
    file,
    format: data.format,
    description: data.description,
    entries: data.series.length,
    firstMinute: span.first,
    lastMinute: span.last,
    missingMinutes: span.last - span.first + 1 - data.series.length,
    canaryEntries: data.series.filter((e) => e.canary !== undefined).length,
    stableEntries: data.series.filter((e) => e.stable !== undefined).length,
    startTime: data.startTimeMs === undefined ? undefined : new Date(data.startTimeMs).toISOString(),
    releaseMinute: input.releaseMinute,
    deployment: input.deployment,
    ingestionDelayMinutes: input.ingestionDelayMinutes,
    rollbackTrigger: trigger?.path,
    policySource: source,
    policy: input.policy,
  };
}

/** The files to write, in the order json, chart, png; the chart is drawn only when asked for. */
function outputFiles(flags: Flags, json: string, summary: InputSummary, result: SimulationResult, progress: Progress): OutputFile[] {
  const files: OutputFile[] = [];
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
  return files;
}

/** `--json -` prints the JSON alone; otherwise the timeline and each file written. */
function printResult(out: (s: string) => void, flags: Flags, json: string, summary: InputSummary, result: SimulationResult, files: readonly OutputFile[]): void {
  if (flags.json === '-') {
    out(json.trimEnd());
  } else {
    out(renderTimeline(summary, result));
    for (const f of files) out(`wrote ${f.path}`);
  }
}

/** A bake in minutes and where it came from. */
interface Bake {
  readonly minutes: number;
  readonly from: { readonly flag: string; readonly text: string } | { readonly file: string; readonly where: string; readonly field: string };
}

/**
 * The evaluator must report before its deadline (the synthesized rollback trigger's, else 55 min
 * after the hook starts), and reads each minute a metric delay late: the bake fits between them
 * (RT305 at synth). The error names the flag or the file's field that gave the bake.
 */
function checkBake(bake: Bake, trigger: PolicyRollbackTrigger | undefined, data: SeriesFile): void {
  const deadlineSeconds = trigger?.deadlineSeconds ?? DEFAULT_DEADLINE_SECONDS;
  const metricDelaySeconds = data.evaluator?.metricDelaySeconds ?? DEFAULT_EVALUATOR_SETTINGS.metricDelaySeconds;
  const maxBakeSeconds = deadlineSeconds - metricDelaySeconds;
  if (maxBakeSeconds <= 0) {
    throw seriesError(
      `must leave time for a bake: below the deadline of ${formatSeconds(deadlineSeconds)} after the hook starts, got ${formatSeconds(metricDelaySeconds)}`,
      data.file,
      'evaluator',
      'metricDelaySeconds',
    );
  }
  if (bake.minutes * 60 <= maxBakeSeconds) return;
  const rule =
    `must be at most ${formatSeconds(maxBakeSeconds)} (the deadline of ${formatSeconds(deadlineSeconds)} after the hook starts` +
    `${trigger?.deadlineSeconds !== undefined ? ` (rollback trigger ${trigger.name})` : ''}, minus ${formatSeconds(metricDelaySeconds)} metric delay)`;
  if ('flag' in bake.from) throw flagError(`${bake.from.flag} ${bake.from.text}: ${rule}`);
  throw seriesError(`${rule}, got ${formatNumber(bake.minutes)} min`, bake.from.file, bake.from.where, bake.from.field);
}

function resolvePolicy(
  data: SeriesFile,
  flags: Flags,
  bakeMinutes: number,
  warn: (message: string) => void,
): { policy: RollbackPolicy; source: PolicySource; rollbackTrigger?: string } {
  // The inline trigger bakes what is given; checkBake checks it before the replay.
  const inline = (slos: readonly InlineSlo[], rollback: InlineRollback | undefined, file: string | undefined) =>
    policyFromInline({ slos, rollback, bakeSeconds: bakeMinutes * 60, file });

  if (flags.assembly !== undefined) {
    let policies: RollbackPolicy[];
    try {
      policies = readPolicies(flags.assembly, warn);
    } catch (e) {
      if (!(e instanceof InputError)) throw e;
      throw new InputError(`--assembly ${flags.assembly}: ${e.message}`);
    }
    const withSlos = policies.filter((p) => p.slos.length > 0);
    const names = policies.map((p) => p.stack ?? '(unnamed)').join(', ');
    let policy: RollbackPolicy | undefined;
    if (flags.stack !== undefined) {
      policy = policies.find((p) => p.stack === flags.stack);
      if (!policy) throw flagError(`--stack ${flags.stack}: no such stack with a rollback-triggers policy in ${flags.assembly} (stacks: ${names || 'none'})`);
      if (policy.slos.length === 0) throw flagError(`--stack ${flags.stack}: the stack has no ServiceLevelObjective to replay`);
    } else if (withSlos.length === 1) {
      policy = withSlos[0];
    } else if (withSlos.length === 0) {
      throw flagError(`--assembly ${flags.assembly}: no rollback-triggers SLOs found — run "cdk synth" on an app that uses ServiceLevelObjective`);
    } else {
      throw flagError(`--assembly ${flags.assembly} holds several stacks with SLOs (${withSlos.map((p) => p.stack).join(', ')}): pick one with --stack`);
    }
    const triggers = policy.rollbackTriggers ?? [];
    if (flags.trigger !== undefined && !triggers.some((t) => t.name === flags.trigger || t.path === flags.trigger)) {
      throw flagError(`--trigger ${flags.trigger}: stack ${policy.stack} has ${triggers.map((t) => `${t.name} (${t.path})`).join(', ') || 'no rollback trigger'}`);
    }
    return { policy, source: { kind: 'assembly', path: flags.assembly, stack: policy.stack }, rollbackTrigger: flags.trigger };
  }
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
      if (missing) throw seriesError(`is required: ${why(slo.name)}`, data.file, data.locate(i), missing);
    });
  }
}

/** Engine errors name `series entry N (minute M)`; point at the file's line or entry instead. */
function engineInputError(e: RollbackTriggersError, data: SeriesFile): InputError {
  const match = /^series entry (\d+)(?: \(minute [^)]*\))?: /.exec(e.detail);
  if (match) return new InputError(`${e.detail.slice(match[0].length)} (${e.code})`, data.file, data.locate(Number(match[1])));
  return new InputError(e.message, data.file);
}

function releaseFromTime(text: string, data: SeriesFile): number {
  if (data.startTimeMs === undefined) throw flagError('--release-time needs a CSV file with a timestamp column; use --release-minute');
  // Date.parse also reads "May 1 2024" and other local-time shapes; only ISO 8601 says what it means.
  const ms = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/.test(text.trim()) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) throw flagError(`--release-time must be an ISO 8601 time such as 2024-05-01T10:30:00Z, got "${text}"`);
  const minute = (ms - data.startTimeMs) / 60_000;
  if (!Number.isInteger(minute) || minute < 0) {
    throw flagError(`--release-time ${text} must fall on a whole minute at or after the first row (${new Date(data.startTimeMs).toISOString()})`);
  }
  return minute;
}

/** A flag's whole number from `min` to `max`; `allowed` says so in words, for the message. */
function optionalWhole(text: string | undefined, flag: string, min: number, max: number, allowed: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) throw flagError(`${flag} must be ${allowed}, got "${text}"`);
  return value;
}

/** Minutes as the timeline prints them: whole minutes plainly, evaluator ticks to the second. */
export function formatMinute(minute: number): string {
  return Number.isInteger(minute) ? String(minute) : formatNumber(Number(minute.toFixed(2)));
}
