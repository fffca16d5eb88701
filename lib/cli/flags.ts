import { flagError } from './input-error';

/**
 * The CLI's own option parser. `node:util` `parseArgs` reads `--bake-minutes -5` as a flag without
 * its value followed by an unknown option, keeps the last of a repeated flag silently, and words its
 * errors for programmers; this one takes a value that looks like a number even when it starts with
 * a dash (so the flag's own check can say what is allowed), refuses a repeated value flag, and
 * names the flag, the value and what it takes in every error (code RT712).
 */
export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  /** What the value is, for messages: `FILE.svg`, `N`, `SECONDS`. */
  readonly value?: string;
  readonly short?: string;
}

export interface ParsedFlags {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

/** A value that is a number, signed or not (`-5`, `-0.5`, `-1e3`, `-Infinity`), not an option. */
const NUMBER_LIKE = /^-(\d|\.\d|infinity\b|nan\b)/i;

export function parseFlags(argv: readonly string[], spec: Readonly<Record<string, FlagSpec>>): ParsedFlags {
  const values: Record<string, string | boolean | undefined> = {};
  const positionals: string[] = [];
  const byShort = new Map(Object.entries(spec).flatMap(([name, s]) => (s.short ? [[s.short, name] as const] : [])));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-' || !arg.startsWith('-')) {
      positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
    } else {
      const short = byShort.get(arg.slice(1));
      if (short === undefined) {
        throw flagError(NUMBER_LIKE.test(arg) ? `${arg} is not an option; give a number as the value of the flag it belongs to` : `unknown option ${arg}${suggest(arg, spec)}`);
      }
      name = short;
    }
    const s = spec[name];
    if (s === undefined) throw flagError(`unknown option --${name}${suggest(name, spec)}`);
    const flag = `--${name}`;
    if (s.type === 'boolean') {
      if (inline !== undefined) throw flagError(`${flag} takes no value, got ${arg}`);
      values[name] = true;
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[i + 1];
      const what = s.value ?? 'a value';
      if (next === undefined) throw flagError(`${flag} needs a value (${what}) after it`);
      if (next.startsWith('-') && next !== '-' && !NUMBER_LIKE.test(next)) {
        throw flagError(`${flag} needs a value (${what}), got the option ${next}; write ${flag}=VALUE for a value that starts with a dash`);
      }
      value = next;
      i++;
    }
    if (value.trim() === '') throw flagError(`${flag} needs a value (${s.value ?? 'a value'}), got an empty one`);
    const previous = values[name];
    if (previous !== undefined) throw flagError(`${flag} is given twice ("${previous}", then "${value}"); give it once`);
    values[name] = value;
  }
  return { values, positionals };
}

/** ` (did you mean --chart?)` for a near miss: one typo, a missing dash, a prefix. */
function suggest(typed: string, spec: Readonly<Record<string, FlagSpec>>): string {
  const bare = typed.replace(/^-+/, '').split('=')[0].toLowerCase();
  const names = Object.keys(spec);
  const near = names.find((n) => n.startsWith(bare) && bare.length >= 2) ?? names.find((n) => distance(n, bare) <= Math.max(1, Math.floor(n.length / 4)));
  return near === undefined ? '; see --help' : ` (did you mean --${near}?)`;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}
