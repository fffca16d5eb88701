import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ERROR_RANGES, RollbackTriggersError, errorText } from '../../lib/core';
import { ERROR_DOCS_PATH, codesOf, renderErrorDocs } from '../../scripts/error-docs';

const REPO = join(__dirname, '..', '..');
const REGISTRY = join('lib', 'core', 'error-codes.ts');
const CODE = /RT\d{3}/g;

/** Every source file under lib/ and lambda/ but the registry itself, by path from the repository root. */
function sources(): Array<{ file: string; text: string }> {
  const walk = (dir: string): string[] =>
    readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(join(dir, e.name)) : /\.(ts|mts|js|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
    );
  return ['lib', 'lambda']
    .flatMap(walk)
    .filter((file) => file !== REGISTRY)
    .map((file) => ({ file, text: readFileSync(join(REPO, file), 'utf8') }));
}

/** The text without comments, so a code only a comment names does not count as used. */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

const registered = new Set(Object.keys(ERROR_CODES));

describe('the error registry', () => {
  it('renders docs/errors.md (on a mismatch, run `npm run docs:errors`)', () => {
    expect(readFileSync(join(REPO, ERROR_DOCS_PATH), 'utf8'), 'docs/errors.md is stale: run `npm run docs:errors`').toBe(renderErrorDocs());
  });

  it('registers every code that lib/ and lambda/ name, comments included', () => {
    const unregistered = sources().flatMap(({ file, text }) => [...text.matchAll(CODE)].filter(([code]) => !registered.has(code)).map(([code]) => `${code} in ${file}`));
    expect(unregistered, 'add these codes to lib/core/error-codes.ts').toEqual([]);
  });

  it('has no dead entry: every code is thrown or formatted somewhere in lib/ or lambda/', () => {
    // A code in use is a string literal ('RT101') or a hand-formatted message ([RT101]).
    const used = new Set(sources().flatMap(({ text }) => [...withoutComments(text).matchAll(/['"`[](RT\d{3})\b/g)].map((m) => m[1])));
    expect([...registered].filter((code) => !used.has(code)), 'remove these codes from lib/core/error-codes.ts, or use them').toEqual([]);
  });

  it('gives each code one entry, a meaning and a range', () => {
    const keys = [...readFileSync(join(REPO, REGISTRY), 'utf8').matchAll(/^\s*(RT\d{3}):/gm)].map((m) => m[1]);
    expect(keys.filter((code, i) => keys.indexOf(code) !== i), 'codes listed twice').toEqual([]);
    expect(keys.sort()).toEqual([...registered].sort());
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^RT\d{3}$/);
      expect(info.meaning.trim(), `${code} needs a meaning`).not.toBe('');
      expect(info.meaning, `${code}: one line`).not.toMatch(/\n/);
    }
    expect(ERROR_RANGES.flatMap((r) => codesOf(r).map(([code]) => code)).sort()).toEqual([...registered].sort());
  });
});

describe('RollbackTriggersError', () => {
  it('carries its code, construct path and prop, and keeps the coded message form', () => {
    const e = new RollbackTriggersError('RT101', 'objectivePercent must be above 0 and below 100, got 100', { constructPath: 'Stack/Slo', prop: 'objectivePercent' });
    expect(e).toMatchObject({ name: 'RollbackTriggersError', code: 'RT101', constructPath: 'Stack/Slo', prop: 'objectivePercent' });
    expect(e.message).toBe('[RT101] Stack/Slo: objectivePercent must be above 0 and below 100, got 100');
    expect(e.detail).toBe('objectivePercent must be above 0 and below 100, got 100');
  });

  it('formats a validation message the same way', () => {
    expect(errorText('RT306', 'too many alarms')).toBe('[RT306] too many alarms');
  });
});
