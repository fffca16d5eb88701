/**
 * Just enough of CloudWatch Logs Insights to run the dashboard's decisions query over log events
 * offline, so a test checks what the table would show, not only the query's text. Fields are
 * discovered the way the CloudWatch Logs User Guide describes for JSON events ("Supported logs and
 * discovered fields": nested fields with dots, array items by index) plus the `@timestamp` and
 * `@message` system fields. Commands: `SOURCE '…'` (what a dashboard widget puts first), `fields`
 * (with `as`), `filter field = "value"`, `sort field asc|desc`, `limit n`. Anything else throws,
 * so a query using more than this is caught instead of half-run.
 */

export interface LogEvent {
  readonly timestamp: number;
  readonly message: string;
}

/** The fields Logs Insights discovers in one JSON value. */
export function flatten(value: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value as Record<string, unknown>)) flatten(inner, prefix === '' ? key : `${prefix}.${key}`, out);
  } else {
    out[prefix] = value;
  }
  return out;
}

/** Splits at `|` outside quotes and backticks. */
function commands(query: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (const ch of query) {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'" || ch === '`') {
      quote = ch;
    } else if (ch === '|') {
      out.push(current.trim());
      current = '';
      continue;
    }
    current += ch;
  }
  if (quote !== undefined) throw new Error(`unterminated ${quote} in the query`);
  out.push(current.trim());
  return out;
}

/** A field name: backticked, or letters, digits, `_`, `.` and a leading `@` (CloudWatch Logs User Guide, "Fields that contain special characters"). */
function fieldName(text: string): string {
  const t = text.trim();
  const ticked = /^`([^`]+)`$/.exec(t);
  if (ticked) return ticked[1];
  if (!/^@?[A-Za-z0-9_.]+$/.test(t)) throw new Error(`"${t}" is not a field name: one with other characters must be in backticks`);
  return t;
}

/** Runs `query` over the named log groups' events and returns the rows the table would show. */
export function runQuery(query: string, logGroups: Record<string, readonly LogEvent[]>): Array<Record<string, unknown>> {
  const [first, ...rest] = commands(query);
  const source = /^SOURCE '([^']+)'$/.exec(first);
  if (!source) throw new Error(`a dashboard query starts with SOURCE 'log group', got "${first}"`);
  const events = logGroups[source[1]];
  if (events === undefined) throw new Error(`the query reads log group ${source[1]}, which holds no events here`);
  let rows = events.map((e) => ({ ...flatten(JSON.parse(e.message)), '@timestamp': e.timestamp, '@message': e.message }) as Record<string, unknown>);
  let columns: Array<{ field: string; as: string }> | undefined;
  for (const command of rest) {
    const [, verb, args] = /^(\w+)\s+([\s\S]*)$/.exec(command) ?? [];
    if (verb === 'fields') {
      columns = args.split(',').map((part) => {
        const [field, alias] = part.split(/\s+as\s+/);
        return { field: fieldName(field), as: alias === undefined ? fieldName(field) : alias.trim() };
      });
    } else if (verb === 'filter') {
      const m = /^(\S+)\s*=\s*"([^"]*)"$/.exec(args.trim());
      if (!m) throw new Error(`only filter field = "value" is supported here, got "${args}"`);
      const [field, value] = [fieldName(m[1]), m[2]];
      rows = rows.filter((r) => r[field] === value);
    } else if (verb === 'sort') {
      const [field, order] = args.trim().split(/\s+/);
      const key = fieldName(field);
      if (order !== 'asc' && order !== 'desc') throw new Error(`sort needs asc or desc, got "${order}"`);
      rows = [...rows].sort((a, b) => ((a[key] as number) - (b[key] as number)) * (order === 'asc' ? 1 : -1));
    } else if (verb === 'limit') {
      if (!/^\d+$/.test(args.trim())) throw new Error(`limit needs a whole number, got "${args}"`);
      rows = rows.slice(0, Number(args.trim()));
    } else {
      throw new Error(`command "${command}" is not supported by this test's Logs Insights`);
    }
  }
  if (columns === undefined) return rows;
  return rows.map((r) => Object.fromEntries(columns!.map(({ field, as }) => [as, r[field] ?? null])));
}
