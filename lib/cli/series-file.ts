import { RollbackTriggersError, type SliKind } from '../core';
import type { DeploymentShape, EvaluatorSettings, HeartbeatMinute, MinuteCounts, SeriesEntry } from '../core/simulator';
import { validateSeries } from '../core/simulator/validate';
import { flagError, seriesError } from './input-error';
import { parseJsonText, readTextFile } from './text-file';

/**
 * Series files of `rollback-triggers simulate`: per-minute counts of requests, errors, slow requests
 * (`slow`, for a latency SLO) and failed business operations (`failures`, for a business-failure
 * SLO), blended and optionally per version, in JSON (which may also carry the release minute, the
 * deployment shape and an inline policy) or CSV (`failures`, `stable_failures`, `canary_failures`
 * and the like; the rest comes from flags). Both may carry Synthetics canaries' runs (`synthetics`:
 * canary name → SuccessPercent; CSV columns `synthetics:<canary name>`) and heartbeats' beats
 * (`heartbeats`: heartbeat name → { canary?, stable?, blended? }; CSV columns
 * `heartbeat:<name>:canary|stable|blended`). Documented in
 * docs/simulator.md ("The JSON series format", "The CSV format"). Every problem is an
 * {@link InputError} naming the file, the CSV line or JSON entry and minute, and the field.
 */

/** One SLO of the inline policy shorthand (see inline-policy.ts). */
export interface InlineSlo {
  readonly name: string;
  readonly objectivePercent: number;
  readonly sli: SliKind;
  readonly compliancePeriodDays?: number;
  /** Names of the SRE Workbook tiers to keep (page-1h, page-6h, ticket-1d, ticket-3d). */
  readonly tiers?: readonly string[];
  readonly minEventsPerWindow?: number;
  readonly latencyThreshold?: number;
  readonly suppressTicketsWhilePaging?: boolean;
}

/** The inline rollback trigger (platform and what an inconclusive bake reports). */
export interface InlineRollback {
  readonly platform?: 'lambda' | 'ecs';
  /**
   * Whether the SLIs can be measured per version (Lambda ExecutedVersion, ECS target groups), as
   * the convenience SLIs can; false for service-wide custom metrics, whose rollback alarm then
   * watches the blended traffic (scope `declared`). @default true
   */
  readonly perVersionMetrics?: boolean;
  readonly inconclusiveAction?: 'fail' | 'pass';
  /**
   * The rollback alarms fire only while the new version fails more than this many times as often
   * as the rest of the traffic (RollbackTrigger `baselineFactor`); 0 compares with the budget alone.
   * @default 2
   */
  readonly baselineFactor?: number;
}

/** A deployment shape as a file or flag gives it: the bake may be left to the policy. */
export type DeploymentInput = Omit<DeploymentShape, 'bakeMinutes'> & { readonly bakeMinutes?: number };

export interface SeriesFile {
  readonly file: string;
  readonly format: 'json' | 'csv';
  readonly description?: string;
  readonly releaseMinute?: number;
  readonly deployment?: DeploymentInput;
  readonly slos?: readonly InlineSlo[];
  readonly rollback?: InlineRollback;
  readonly evaluator?: Partial<EvaluatorSettings>;
  readonly ingestionDelayMinutes?: number;
  readonly series: readonly SeriesEntry[];
  /** CSV with a `timestamp` column: the time of minute 0, in epoch milliseconds. */
  readonly startTimeMs?: number;
  /** Where entry `index` of `series` came from, for messages: `line 5` or `series[3] (minute 12)`. */
  readonly locate: (index: number) => string;
}

const SLI_KINDS: readonly SliKind[] = ['error-ratio', 'success-ratio', 'latency', 'business-failure'];
const COUNT_FIELDS = ['requests', 'errors', 'slow', 'failures'] as const;
/** The optional counts: summed from the versions only when every version gives them. */
const OPTIONAL_COUNTS = ['slow', 'failures'] as const;
const ENTRY_FIELDS = ['minute', ...COUNT_FIELDS, 'stable', 'canary', 'synthetics', 'heartbeats'];
/** CSV columns of Synthetics canaries: `synthetics:<canary name>`, the run's SuccessPercent. */
const SYNTHETICS_COLUMN = /^synthetics:/i;
/** CSV columns of heartbeats: `heartbeat:<heartbeat name>:<stream>`, that stream's beats in the minute. */
const HEARTBEAT_COLUMN = /^heartbeat:(.*):([^:]*)$/i;
const HEARTBEAT_STREAMS: readonly (keyof HeartbeatMinute)[] = ['canary', 'stable', 'blended'];
const TOP_FIELDS = ['$schema', 'description', 'releaseMinute', 'deployment', 'slos', 'rollback', 'evaluator', 'ingestionDelayMinutes', 'series'];
const EVALUATOR_FIELDS: Record<keyof EvaluatorSettings, 'number' | 'boolean' | 'action'> = {
  tickSeconds: 'number',
  metricDelaySeconds: 'number',
  inconclusiveAction: 'action',
  compareWithBaseline: 'boolean',
  deadlineMarginSeconds: 'number',
  baselineFactor: 'number',
};

/** Reads a series file; `.csv` files are CSV, everything else JSON. */
export function readSeriesFile(file: string): SeriesFile {
  const text = readTextFile(file, 'a series file (JSON, or CSV named .csv)');
  return file.toLowerCase().endsWith('.csv') ? parseCsvSeries(file, text) : parseJsonSeries(file, text);
}

// ---------------------------------------------------------------------------------------------
// JSON

/** Parses the JSON format; `file` is only used in messages. */
export function parseJsonSeries(file: string, text: string): SeriesFile {
  const doc = parseJsonText(file, text, 'a JSON series { "series": [ { "minute": 0, "requests": 100, "errors": 0 }, … ] }');
  const top = object(doc, file, undefined, 'the document');
  unknownFields(top, TOP_FIELDS, file, undefined);

  const rawSeries = top.series;
  if (rawSeries === undefined) throw seriesError('is required: the per-minute entries', file, undefined, 'series');
  if (!Array.isArray(rawSeries)) throw seriesError(`must be an array of per-minute entries, got ${describe(rawSeries)}`, file, undefined, 'series');
  const series: SeriesEntry[] = [];
  const locate = (i: number) => {
    const minute = (rawSeries[i] as { minute?: unknown } | null)?.minute;
    return typeof minute === 'number' ? `series[${i}] (minute ${minute})` : `series[${i}]`;
  };
  rawSeries.forEach((raw, i) => {
    const where = locate(i);
    const entry = object(raw, file, where, 'an entry');
    unknownFields(entry, ENTRY_FIELDS, file, where);
    const minute = wholeNumber(entry.minute, file, where, 'minute');
    const read: NumberReader = (field, value) => {
      if (value === undefined) return undefined;
      return typeof value === 'number' ? value : typeError(value, file, where, field, 'a number');
    };
    const synthetics = optional(entry.synthetics, (v) => {
      const runs = object(v, file, where, 'synthetics (canary name → SuccessPercent)');
      return Object.fromEntries(Object.entries(runs).map(([canary, value]) => [canary, successPercent(read(`synthetics.${canary}`, value)!, file, where, `synthetics.${canary}`)]));
    });
    const heartbeats = optional(entry.heartbeats, (v) => checkHeartbeats(v, file, where, jsonHeartbeatField));
    series.push({ ...buildEntry(minute, entry, file, where, read), ...(synthetics ? { synthetics } : {}), ...(heartbeats ? { heartbeats } : {}) });
  });
  checkSeries(series, file, locate);

  return {
    file,
    format: 'json',
    description: optional(top.description, (v) => (typeof v === 'string' ? v : typeError(v, file, undefined, 'description', 'a string'))),
    releaseMinute: optional(top.releaseMinute, (v) => wholeNumber(v, file, undefined, 'releaseMinute')),
    deployment: optional(top.deployment, (v) => parseDeployment(v, file)),
    slos: optional(top.slos, (v) => parseInlineSlos(v, file)),
    rollback: optional(top.rollback, (v) => parseRollback(v, file)),
    evaluator: optional(top.evaluator, (v) => parseEvaluator(v, file)),
    ingestionDelayMinutes: optional(top.ingestionDelayMinutes, (v) => {
      const minutes = wholeNumber(v, file, undefined, 'ingestionDelayMinutes');
      if (minutes > MAX_INGESTION_DELAY_MINUTES) {
        throw seriesError(`must be at most ${MAX_INGESTION_DELAY_MINUTES} (14 days: CloudWatch takes no datapoint older than two weeks), got ${minutes}`, file, undefined, 'ingestionDelayMinutes');
      }
      return minutes;
    }),
    series,
    locate,
  };
}

function parseDeployment(raw: unknown, file: string): DeploymentInput {
  const d = object(raw, file, undefined, 'deployment');
  unknownFields(d, ['kind', 'percent', 'intervalMinutes', 'bakeMinutes'], file, 'deployment');
  const kind = d.kind;
  if (kind !== 'all-at-once' && kind !== 'canary' && kind !== 'linear') {
    throw seriesError(`must be "all-at-once", "canary" or "linear", got ${describe(kind)}`, file, 'deployment', 'kind');
  }
  const bakeMinutes = optional(d.bakeMinutes, (v) => positiveWhole(v, file, 'deployment', 'bakeMinutes'));
  if (kind === 'all-at-once') {
    for (const f of ['percent', 'intervalMinutes']) {
      if (d[f] !== undefined) throw seriesError('is not used by an all-at-once deployment; remove it', file, 'deployment', f);
    }
    return { kind, bakeMinutes };
  }
  for (const f of ['percent', 'intervalMinutes']) {
    if (d[f] === undefined) throw seriesError(`is required for a ${kind} deployment`, file, 'deployment', f);
  }
  return {
    kind,
    percent: percentOf(d.percent, file, 'deployment', 'percent'),
    intervalMinutes: intervalOf(d.intervalMinutes, file, 'deployment', 'intervalMinutes'),
    bakeMinutes,
  };
}

function parseInlineSlos(raw: unknown, file: string): InlineSlo[] {
  if (!Array.isArray(raw) || raw.length === 0) throw seriesError(`must be a non-empty array of SLOs, got ${describe(raw)}`, file, undefined, 'slos');
  const names = new Set<string>();
  return raw.map((item, i) => {
    const where = `slos[${i}]`;
    const s = object(item, file, where, 'an SLO');
    unknownFields(s, ['name', 'objectivePercent', 'sli', 'compliancePeriodDays', 'tiers', 'minEventsPerWindow', 'latencyThreshold', 'suppressTicketsWhilePaging'], file, where);
    if (typeof s.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$/.test(s.name)) {
      throw seriesError(`must be 1 to 64 letters, digits, spaces, dots, dashes or underscores, got ${describe(s.name)}`, file, where, 'name');
    }
    if (names.has(s.name)) throw seriesError(`"${s.name}" names two SLOs; give each a distinct name`, file, where, 'name');
    names.add(s.name);
    if (typeof s.objectivePercent !== 'number' || !(s.objectivePercent > 0 && s.objectivePercent < 100)) {
      throw seriesError(`must be a number above 0 and below 100, got ${describe(s.objectivePercent)} — use 99.9 for "three nines"`, file, where, 'objectivePercent');
    }
    const sli = s.sli ?? 'error-ratio';
    if (!SLI_KINDS.includes(sli as SliKind)) throw seriesError(`must be one of ${SLI_KINDS.join(', ')}, got ${describe(sli)}`, file, where, 'sli');
    const tiers = optional(s.tiers, (v) => {
      if (!Array.isArray(v) || v.length === 0 || v.some((t) => typeof t !== 'string')) {
        throw seriesError(`must be a non-empty array of tier names, got ${describe(v)}`, file, where, 'tiers');
      }
      return v as string[];
    });
    return {
      name: s.name,
      objectivePercent: s.objectivePercent,
      sli: sli as SliKind,
      compliancePeriodDays: optional(s.compliancePeriodDays, (v) => positiveWhole(v, file, where, 'compliancePeriodDays')),
      tiers,
      minEventsPerWindow: optional(s.minEventsPerWindow, (v) => positiveWhole(v, file, where, 'minEventsPerWindow')),
      latencyThreshold: optional(s.latencyThreshold, (v) => {
        if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw seriesError(`must be a finite number above 0, got ${describe(v)}`, file, where, 'latencyThreshold');
        return v;
      }),
      suppressTicketsWhilePaging: optional(s.suppressTicketsWhilePaging, (v) =>
        typeof v === 'boolean' ? v : typeError(v, file, where, 'suppressTicketsWhilePaging', 'true or false'),
      ),
    };
  });
}

function parseRollback(raw: unknown, file: string): InlineRollback {
  const r = object(raw, file, undefined, 'rollback');
  unknownFields(r, ['platform', 'inconclusiveAction', 'perVersionMetrics', 'baselineFactor'], file, 'rollback');
  if (r.platform !== undefined && r.platform !== 'lambda' && r.platform !== 'ecs') {
    throw seriesError(`must be "lambda" or "ecs", got ${describe(r.platform)}`, file, 'rollback', 'platform');
  }
  if (r.inconclusiveAction !== undefined && r.inconclusiveAction !== 'fail' && r.inconclusiveAction !== 'pass') {
    throw seriesError(`must be "fail" or "pass", got ${describe(r.inconclusiveAction)}`, file, 'rollback', 'inconclusiveAction');
  }
  if (r.perVersionMetrics !== undefined && typeof r.perVersionMetrics !== 'boolean') typeError(r.perVersionMetrics, file, 'rollback', 'perVersionMetrics', 'true or false');
  if (r.baselineFactor !== undefined && !(typeof r.baselineFactor === 'number' && Number.isFinite(r.baselineFactor) && r.baselineFactor >= 0)) {
    typeError(r.baselineFactor, file, 'rollback', 'baselineFactor', '0 (off) or a positive number');
  }
  return {
    platform: r.platform as InlineRollback['platform'],
    baselineFactor: r.baselineFactor as number | undefined,
    inconclusiveAction: r.inconclusiveAction as InlineRollback['inconclusiveAction'],
    perVersionMetrics: r.perVersionMetrics as boolean | undefined,
  };
}

function parseEvaluator(raw: unknown, file: string): Partial<EvaluatorSettings> {
  const e = object(raw, file, undefined, 'evaluator');
  unknownFields(e, Object.keys(EVALUATOR_FIELDS), file, 'evaluator');
  const settings: Record<string, unknown> = {};
  for (const [field, kind] of Object.entries(EVALUATOR_FIELDS)) {
    const v = e[field];
    if (v === undefined) continue;
    if (kind === 'number' && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) typeError(v, file, 'evaluator', field, 'a number of seconds ≥ 0');
    if (kind === 'boolean' && typeof v !== 'boolean') typeError(v, file, 'evaluator', field, 'true or false');
    if (kind === 'action' && v !== 'fail' && v !== 'pass') typeError(v, file, 'evaluator', field, '"fail" or "pass"');
    settings[field] = v;
  }
  return settings as Partial<EvaluatorSettings>;
}

// ---------------------------------------------------------------------------------------------
// CSV

const VERSION_COLUMNS = ['stable', 'canary'].flatMap((arm) => COUNT_FIELDS.map((f) => `${arm}_${f}`));
const CSV_COLUMNS = ['minute', 'timestamp', ...COUNT_FIELDS, ...VERSION_COLUMNS];

/**
 * Parses the CSV format: a header naming the columns (any order), one row per minute, `#` comment
 * lines and blank lines ignored, an empty cell meaning "no value". Fields may be double-quoted
 * (as `jq @csv` writes them). Instead of `minute`, a `timestamp` column (ISO 8601) may give the
 * time of each row; minute 0 is the first row's timestamp.
 */
export function parseCsvSeries(file: string, text: string): SeriesFile {
  const lines = text.split(/\r?\n/);
  const header = readCsvHeader(lines, file);
  const clock: CsvClock = {};
  const series: SeriesEntry[] = [];
  const lineOf: number[] = [];
  for (let i = header.index + 1; i < lines.length; i++) {
    if (isBlankOrComment(lines[i])) continue;
    series.push(csvEntry(lines[i], header, clock, file, `line ${i + 1}`));
    lineOf.push(i + 1);
  }
  const locate = (index: number) => `line ${lineOf[index]}`;
  checkSeries(series, file, locate);
  return { file, format: 'csv', series, startTimeMs: clock.startTimeMs, locate };
}

/** The header: its line's index, the column names as read, and which are there. */
interface CsvHeader {
  readonly index: number;
  readonly columns: readonly string[];
  readonly seen: ReadonlySet<string>;
}

/** With a `timestamp` column: the first row's time, in epoch milliseconds (minute 0). */
interface CsvClock {
  startTimeMs?: number;
}

function isBlankOrComment(line: string): boolean {
  return line.trim() === '' || line.trimStart().startsWith('#');
}

/** The first line that is neither blank nor a comment, checked as a header. */
function readCsvHeader(lines: readonly string[], file: string): CsvHeader {
  const index = lines.findIndex((l) => !isBlankOrComment(l));
  if (index < 0) throw seriesError('is empty: expected a header such as "minute,requests,errors"', file);
  const where = `line ${index + 1}`;
  const separator = [';', '\t'].find((c) => !lines[index].includes(',') && lines[index].includes(c));
  if (separator !== undefined) {
    throw seriesError(`the header is separated by ${separator === ';' ? 'semicolons' : 'tabs'}; CSV columns are separated by commas ("minute,requests,errors")`, file, where);
  }
  // Column names are case-insensitive; a Synthetics canary's or a heartbeat's name is kept as written.
  const columns = splitCsvLine(lines[index], file, where).map((c) => {
    const name = c.trim();
    if (SYNTHETICS_COLUMN.test(name)) return `synthetics:${name.slice('synthetics:'.length).trim()}`;
    const heartbeat = HEARTBEAT_COLUMN.exec(name);
    if (heartbeat) return heartbeatColumn(heartbeat[1].trim(), heartbeat[2].trim().toLowerCase());
    return /^heartbeat:/i.test(name) ? name : name.toLowerCase();
  });
  const seen = checkColumnNames(columns, file, where);
  checkColumnSet(columns, seen, file, where);
  return { index, columns, seen };
}

/** Each column known (or a named Synthetics canary, or a named heartbeat's stream) and given once; returns the set of them. */
function checkColumnNames(columns: readonly string[], file: string, where: string): Set<string> {
  const seen = new Set<string>();
  for (const column of columns) {
    if (column === 'synthetics:') {
      throw seriesError('column "synthetics:" names no canary; name it synthetics:<canary name>, as the CanaryName dimension', file, where);
    }
    const heartbeat = HEARTBEAT_COLUMN.exec(column);
    if (!heartbeat && /^heartbeat:/i.test(column)) {
      throw seriesError(`column "${column}" names no stream; name it heartbeat:<heartbeat name>:canary|stable|blended`, file, where);
    }
    if (heartbeat && heartbeat[1] === '') {
      throw seriesError(`column "${column}" names no heartbeat; name it heartbeat:<heartbeat name>:canary|stable|blended, the HeartbeatTrigger's construct id`, file, where);
    }
    if (heartbeat && !HEARTBEAT_STREAMS.includes(heartbeat[2] as keyof HeartbeatMinute)) {
      throw seriesError(`column "${column}" ends in "${heartbeat[2]}", not a stream: end it in :canary, :stable or :blended (the beats of the new version, the current one, or both)`, file, where);
    }
    if (!CSV_COLUMNS.includes(column) && !SYNTHETICS_COLUMN.test(column) && !heartbeat) {
      throw seriesError(`unknown column "${column}"; the columns are ${CSV_COLUMNS.join(', ')}, synthetics:<canary name>, heartbeat:<name>:canary|stable|blended`, file, where);
    }
    if (seen.has(column)) throw seriesError(`column "${column}" appears twice`, file, where);
    seen.add(column);
  }
  return seen;
}

/** One of minute or timestamp; each version's requests and errors together; the blended counts, or both versions to sum. */
function checkColumnSet(columns: readonly string[], seen: ReadonlySet<string>, file: string, where: string): void {
  if (seen.has('minute') === seen.has('timestamp')) {
    throw seriesError(`the header needs exactly one of the columns "minute" or "timestamp", got: ${columns.join(',')}`, file, where);
  }
  for (const arm of ['stable', 'canary']) {
    const armColumns = columns.filter((c) => c.startsWith(`${arm}_`));
    if (armColumns.length > 0 && !(seen.has(`${arm}_requests`) && seen.has(`${arm}_errors`))) {
      throw seriesError(`columns ${arm}_requests and ${arm}_errors are both required when any ${arm}_ column is given`, file, where);
    }
  }
  const perVersion = seen.has('stable_requests') && seen.has('canary_requests');
  for (const required of ['requests', 'errors']) {
    if (!seen.has(required) && !perVersion) {
      throw seriesError(`column "${required}" is required (or both stable_ and canary_ columns, from which it is summed)`, file, where);
    }
  }
}

/** One row as an entry: its minute, its counts (blended and per version) and its Synthetics runs. */
function csvEntry(line: string, header: CsvHeader, clock: CsvClock, file: string, where: string): SeriesEntry {
  const cells = splitCsvLine(line, file, where);
  if (cells.length !== header.columns.length) {
    throw seriesError(`expected ${header.columns.length} fields (${header.columns.join(',')}), got ${cells.length}`, file, where);
  }
  const row: Record<string, string> = {};
  header.columns.forEach((c, k) => (row[c] = cells[k].trim()));
  const minute = header.seen.has('timestamp')
    ? timestampMinute(row.timestamp, clock, file, where)
    : wholeNumber(cellNumber(row.minute, file, where, 'minute'), file, where, 'minute');
  const counts = csvCounts(row, header.seen, file, where);
  const synthetics = csvSynthetics(row, header.columns, file, where);
  const heartbeats = csvHeartbeats(row, header.columns, file, where);
  const entry = buildEntry(minute, counts, file, where, (_field, value) => value as number | undefined, '_');
  return { ...entry, ...(Object.keys(synthetics).length > 0 ? { synthetics } : {}), ...(heartbeats ? { heartbeats } : {}) };
}

/** A row's timestamp as minutes after the first row's, which sets the clock. */
function timestampMinute(timestamp: string, clock: CsvClock, file: string, where: string): number {
  const ms = Date.parse(timestamp);
  if (timestamp === '' || Number.isNaN(ms)) throw seriesError(`must be an ISO 8601 time such as 2024-05-01T10:00:00Z, got "${timestamp}"`, file, where, 'timestamp');
  clock.startTimeMs ??= ms;
  const offset = (ms - clock.startTimeMs) / 60_000;
  if (!Number.isInteger(offset)) {
    throw seriesError(`must fall on a whole minute after the first row (${new Date(clock.startTimeMs).toISOString()}), got "${timestamp}"`, file, where, 'timestamp');
  }
  return offset;
}

/** The row's counts as `buildEntry` reads them; a version whose cells are all empty is left out. */
function csvCounts(row: Record<string, string>, seen: ReadonlySet<string>, file: string, where: string): Record<string, unknown> {
  const counts: Record<string, unknown> = {};
  for (const field of COUNT_FIELDS) counts[field] = cellNumber(row[field], file, where, field);
  for (const arm of ['stable', 'canary']) {
    if (!seen.has(`${arm}_requests`)) continue;
    const values = Object.fromEntries(COUNT_FIELDS.map((f) => [f, cellNumber(row[`${arm}_${f}`], file, where, `${arm}_${f}`)]));
    if (Object.values(values).every((v) => v === undefined)) continue;
    for (const f of ['requests', 'errors']) {
      if (values[f] === undefined) throw seriesError(`is empty while other ${arm}_ cells of this row are not; fill it or clear them all`, file, where, `${arm}_${f}`);
    }
    counts[arm] = values;
  }
  return counts;
}

/** The row's Synthetics runs by canary name; an empty cell is no run. */
function csvSynthetics(row: Record<string, string>, columns: readonly string[], file: string, where: string): Record<string, number> {
  const synthetics: Record<string, number> = {};
  for (const column of columns) {
    if (!SYNTHETICS_COLUMN.test(column)) continue;
    const value = cellNumber(row[column], file, where, column);
    if (value !== undefined) synthetics[column.slice('synthetics:'.length)] = successPercent(value, file, where, column);
  }
  return synthetics;
}

/** The column of one heartbeat's stream, as the header is read: `heartbeat:Worker:canary`. */
function heartbeatColumn(name: string, stream: string): string {
  return `heartbeat:${name}:${stream}`;
}

/** The row's heartbeat beats by heartbeat name and stream; an empty cell is no beat. Undefined when the row has none. */
function csvHeartbeats(row: Record<string, string>, columns: readonly string[], file: string, where: string): Record<string, HeartbeatMinute> | undefined {
  const heartbeats: Record<string, Record<string, number>> = {};
  for (const column of columns) {
    const match = HEARTBEAT_COLUMN.exec(column);
    if (!match) continue;
    const value = cellNumber(row[column], file, where, column);
    if (value !== undefined) (heartbeats[match[1]] ??= {})[match[2]] = value;
  }
  if (Object.keys(heartbeats).length === 0) return undefined;
  return checkHeartbeats(heartbeats, file, where, (name, stream) => (name === undefined || stream === undefined ? 'heartbeats' : heartbeatColumn(name, stream)));
}

/** `heartbeats.Worker.canary`: the JSON field of a heartbeat, of one of its minutes or of one stream. */
function jsonHeartbeatField(name?: string, stream?: string): string {
  return ['heartbeats', name, stream].filter((s) => s !== undefined).join('.');
}

/**
 * One entry's heartbeats checked by the simulator's own rule (validateSeries, RT703: objects of
 * whole beat counts ≥ 0), its error re-raised as a series-file error naming the file, the entry and
 * the field (`field(name, stream)`: the JSON path or the CSV column), so the two cannot disagree.
 */
function checkHeartbeats(value: unknown, file: string, where: string, field: (name?: string, stream?: string) => string): Record<string, HeartbeatMinute> {
  const probe = { minute: 0, requests: 0, errors: 0, heartbeats: value } as unknown as SeriesEntry;
  try {
    validateSeries([probe], false);
  } catch (e) {
    if (!(e instanceof RollbackTriggersError)) throw e;
    // The core names the entry ("series entry 0 (minute 0): ") and then the field (`heartbeats.Worker.canary must be …`).
    const message = e.detail.replace(/^series entry 0 \(minute 0\): /, '');
    const fields: Array<[string, string?, string?]> = [['heartbeats']];
    for (const [name, minute] of isObject(value) ? Object.entries(value) : []) {
      fields.push([`heartbeats.${name}`, name]);
      for (const stream of isObject(minute) ? Object.keys(minute) : []) fields.push([`heartbeats.${name}.${stream}`, name, stream]);
    }
    const named = fields.filter(([path]) => message.startsWith(`${path} `)).sort((a, b) => b[0].length - a[0].length)[0];
    if (named === undefined) throw seriesError(message, file, where, field());
    throw seriesError(message.slice(named[0].length + 1), file, where, field(named[1], named[2]));
  }
  return value as Record<string, HeartbeatMinute>;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Splits one CSV line; double-quoted fields may hold commas and doubled quotes. */
function splitCsvLine(line: string, file: string, where: string): string[] {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= line.length) throw seriesError('a quoted field is not closed', file, where);
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += line[i++];
      }
      cells.push(value);
      const rest = line.slice(i).match(/^\s*/)![0].length;
      i += rest;
      if (i < line.length && line[i] !== ',') throw seriesError('unexpected text after a quoted field', file, where);
    } else {
      const end = line.indexOf(',', i);
      cells.push(end < 0 ? line.slice(i) : line.slice(i, end));
      i = end < 0 ? line.length : end;
    }
    if (i >= line.length) return cells;
    i++; // the comma
  }
}

function cellNumber(cell: string | undefined, file: string, where: string, field: string): number | undefined {
  if (cell === undefined || cell === '') return undefined;
  const value = Number(cell);
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(cell) || !Number.isFinite(value)) {
    throw seriesError(`must be a number, got "${cell}"`, file, where, field);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Shared checks

type NumberReader = (field: string, value: unknown) => number | undefined;

/** Builds one entry from blended and per-version counts, checking each count. */
function buildEntry(minute: number, raw: Record<string, unknown>, file: string, where: string, read: NumberReader, separator = '.'): SeriesEntry {
  const arms: { stable?: MinuteCounts; canary?: MinuteCounts } = {};
  for (const arm of ['stable', 'canary'] as const) {
    const value = raw[arm];
    if (value === undefined) continue;
    const counts = object(value, file, where, arm);
    unknownFields(counts, COUNT_FIELDS, file, where, `${arm}${separator}`);
    arms[arm] = readCounts(counts, file, where, read, `${arm}${separator}`);
  }
  let blended: MinuteCounts;
  const parts = [arms.stable, arms.canary].filter((c): c is MinuteCounts => c !== undefined);
  if (raw.requests === undefined && raw.errors === undefined && parts.length > 0) {
    // Only per-version data: the blended traffic is their sum (a version without requests in a
    // minute publishes no datapoint, so one part alone is all the traffic). An optional count is
    // summed when every version gives it, unless the blended one is given.
    const sum = (f: CountField) => (parts.every((p) => p[f] !== undefined) ? parts.reduce((n, p) => n + p[f]!, 0) : undefined);
    const requests = sum('requests')!;
    const counts: { -readonly [F in CountField]?: number } = { requests, errors: sum('errors')! };
    for (const f of OPTIONAL_COUNTS) {
      const given = readCount(raw, f, false, file, where, read, '');
      if (given !== undefined) amongRequests(given, f, requests, file, where, '');
      const value = given ?? sum(f);
      if (value !== undefined) counts[f] = value;
    }
    blended = counts as MinuteCounts;
  } else {
    blended = readCounts(raw, file, where, read, '');
  }
  if (arms.stable && arms.canary) {
    for (const f of COUNT_FIELDS) {
      const s = arms.stable[f];
      const c = arms.canary[f];
      const b = blended[f];
      if (s !== undefined && c !== undefined && b !== undefined && s + c !== b) {
        throw seriesError(
          `${b} is not the sum of stable${separator}${f} (${s}) and canary${separator}${f} (${c}); give consistent numbers, or leave the blended "${f}" out to have it summed`,
          file,
          where,
          f,
        );
      }
    }
  }
  return {
    minute,
    requests: blended.requests,
    errors: blended.errors,
    ...(blended.slow !== undefined ? { slow: blended.slow } : {}),
    ...(blended.failures !== undefined ? { failures: blended.failures } : {}),
    ...(arms.stable ? { stable: arms.stable } : {}),
    ...(arms.canary ? { canary: arms.canary } : {}),
  };
}

type CountField = (typeof COUNT_FIELDS)[number];

/** What each bad-event count counts among the minute's requests, for the message when it exceeds them. */
const AMONG_REQUESTS: Record<Exclude<CountField, 'requests'>, string> = {
  errors: 'errors count failed requests among them',
  slow: 'slow counts requests over the latency threshold',
  failures: 'failures count business operations that failed among them (for a business-failure SLO, requests are the business operations)',
};

/** One count of an entry or a per-version part: a whole number ≥ 0, or undefined when absent and not required. */
function readCount(raw: Record<string, unknown>, f: CountField, required: boolean, file: string, where: string, read: NumberReader, prefix: string): number | undefined {
  const value = read(`${prefix}${f}`, raw[f]);
  if (value === undefined) {
    if (required) throw seriesError('is required', file, where, `${prefix}${f}`);
    return undefined;
  }
  if (!Number.isSafeInteger(value) || value < 0) {
    throw seriesError(`must be a whole number ≥ 0 (a count of ${f === 'failures' ? 'business operations' : 'requests'} in the minute), got ${value}`, file, where, `${prefix}${f}`);
  }
  return value;
}

/** A minute's Synthetics SuccessPercent: the share of the canary's runs that succeeded, 0 to 100. */
function successPercent(value: number, file: string, where: string, field: string): number {
  if (!Number.isFinite(value) || value < 0 || value > 100) {
    throw seriesError(`must be a number from 0 to 100 (the SuccessPercent of the canary's run that minute), got ${value}`, file, where, field);
  }
  return value;
}

function amongRequests(value: number, f: Exclude<CountField, 'requests'>, requests: number, file: string, where: string, prefix: string): void {
  if (value > requests) throw seriesError(`${value} is above ${prefix}requests (${requests}); ${AMONG_REQUESTS[f]}`, file, where, `${prefix}${f}`);
}

function readCounts(raw: Record<string, unknown>, file: string, where: string, read: NumberReader, prefix: string): MinuteCounts {
  const requests = readCount(raw, 'requests', true, file, where, read, prefix)!;
  const errors = readCount(raw, 'errors', true, file, where, read, prefix)!;
  amongRequests(errors, 'errors', requests, file, where, prefix);
  const counts: { -readonly [F in CountField]?: number } = { requests, errors };
  for (const f of OPTIONAL_COUNTS) {
    const value = readCount(raw, f, false, file, where, read, prefix);
    if (value === undefined) continue;
    amongRequests(value, f, requests, file, where, prefix);
    counts[f] = value;
  }
  return counts as MinuteCounts;
}

/** Minutes strictly increasing; a non-empty series. */
function checkSeries(series: readonly SeriesEntry[], file: string, locate: (i: number) => string): void {
  if (series.length === 0) throw seriesError('has no entries: give at least one minute of data', file, undefined, 'series');
  for (let i = 1; i < series.length; i++) {
    if (series[i].minute <= series[i - 1].minute) {
      throw seriesError(
        `${series[i].minute} is not after the previous entry's minute ${series[i - 1].minute} (${locate(i - 1)}); minutes must be strictly increasing, one entry per minute`,
        file,
        locate(i),
        'minute',
      );
    }
  }
}

function object(value: unknown, file: string, where: string | undefined, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw seriesError(`${what} must be a JSON object, got ${describe(value)}`, file, where);
  return value as Record<string, unknown>;
}

function unknownFields(value: Record<string, unknown>, known: readonly string[], file: string, where: string | undefined, prefix = ''): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw seriesError(`unknown field; the fields here are ${known.filter((k) => k !== '$schema').join(', ')}`, file, where, `${prefix}${key}`);
    }
  }
}

function wholeNumber(value: unknown, file: string, where: string | undefined, field: string): number {
  if (value === undefined) throw seriesError('is required', file, where, field);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw seriesError(`must be a whole number ≥ 0, got ${describe(value)}`, file, where, field);
  return value;
}

function positiveWhole(value: unknown, file: string, where: string | undefined, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw seriesError(`must be a whole number ≥ 1, got ${describe(value)}`, file, where, field);
  return value;
}

function percentOf(value: unknown, file: string, where: string | undefined, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 99) {
    throw seriesError(`must be a whole percentage from 1 to 99 (as CodeDeploy configs take it), got ${describe(value)}`, file, where, field);
  }
  return value;
}

/** The longest ingestion delay, in minutes: CloudWatch takes datapoints up to two weeks old (PutMetricData). */
export const MAX_INGESTION_DELAY_MINUTES = 14 * 1_440;

/** CodeDeploy shifts traffic in whole-minute intervals of at most 2,880 (2 days; CreateDeploymentConfig's TimeBasedCanary/TimeBasedLinear). */
export const MAX_INTERVAL_MINUTES = 2_880;

function intervalOf(value: unknown, file: string, where: string | undefined, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_INTERVAL_MINUTES) {
    throw seriesError(`must be a whole number of minutes from 1 to ${MAX_INTERVAL_MINUTES} (CodeDeploy's longest interval, 2 days), got ${describe(value)}`, file, where, field);
  }
  return value;
}

function optional<T>(value: unknown, read: (v: unknown) => T): T | undefined {
  return value === undefined ? undefined : read(value);
}

function typeError(value: unknown, file: string, where: string | undefined, field: string, expected: string): never {
  throw seriesError(`must be ${expected}, got ${describe(value)}`, file, where, field);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  // JSON reads a number too large for a double (1e999) as Infinity, which JSON.stringify prints as null.
  if (typeof value === 'number' && !Number.isFinite(value)) return `${value} (a number too large to hold)`;
  return JSON.stringify(value);
}

/**
 * Parses `--deployment`: `all-at-once`, `canary:PERCENT:MINUTES`, `linear:PERCENT:MINUTES`, or a
 * CodeDeploy predefined config name (`Canary10Percent5Minutes`, `Linear10PercentEvery1Minute`,
 * `AllAtOnce`, with or without the `CodeDeployDefault.Lambda` / `ECS` prefix).
 */
export function parseDeploymentFlag(text: string): DeploymentInput {
  const name = text.trim().replace(/^CodeDeployDefault\.(Lambda|ECS)/i, '');
  if (/^(all-at-once|allatonce)$/i.test(name)) return { kind: 'all-at-once' };
  // Any numbers, signed or not, so a wrong one is named rather than the whole shape refused.
  const match =
    /^(canary|linear):([^:]*):([^:]*)$/i.exec(name) ?? /^(canary)(\d+)Percent(\d+)Minutes?$/i.exec(name) ?? /^(linear)(\d+)PercentEvery(\d+)Minutes?$/i.exec(name);
  if (!match) {
    throw flagError(
      `--deployment must be all-at-once, canary:PERCENT:MINUTES, linear:PERCENT:MINUTES or a CodeDeploy config name such as Canary10Percent5Minutes, got "${text}"`,
    );
  }
  const kind = match[1].toLowerCase() as 'canary' | 'linear';
  const step = kind === 'canary' ? 'the canary step' : 'every linear step';
  const percent = Number(match[2]);
  if (!/^\d+$/.test(match[2].trim()) || !(percent >= 1 && percent <= 99)) {
    throw flagError(`--deployment ${text}: PERCENT must be a whole percentage from 1 to 99 (the traffic ${step} shifts, as CodeDeploy configs take it), got "${match[2]}"`);
  }
  const intervalMinutes = Number(match[3]);
  if (!/^\d+$/.test(match[3].trim()) || !(intervalMinutes >= 1 && intervalMinutes <= MAX_INTERVAL_MINUTES)) {
    throw flagError(`--deployment ${text}: MINUTES must be a whole number of minutes from 1 to ${MAX_INTERVAL_MINUTES} (CodeDeploy's longest interval, 2 days), got "${match[3]}"`);
  }
  return { kind, percent, intervalMinutes };
}

/** An inline policy on its own (`--policy FILE`): `{ "slos": [...], "rollback": {...} }`. */
export function readPolicyFile(file: string): { readonly slos: readonly InlineSlo[]; readonly rollback?: InlineRollback } {
  const what = 'an inline policy file { "slos": [...], "rollback": {...} }';
  const doc = parseJsonText(file, readTextFile(file, what), what);
  const top = object(doc, file, undefined, 'the document');
  unknownFields(top, ['$schema', 'slos', 'rollback'], file, undefined);
  if (top.slos === undefined) throw seriesError('is required', file, undefined, 'slos');
  return { slos: parseInlineSlos(top.slos, file), rollback: optional(top.rollback, (v) => parseRollback(v, file)) };
}
