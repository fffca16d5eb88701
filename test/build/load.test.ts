import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Issue 10, item 3: the construct code users load at synth does not load the canary statistics,
 * the alarm emulator or the simulator — only the CLI (`plan`, `simulate`) and the Lambda handlers
 * need them. Runs after `npm run build` (part of `npm test`), on the compiled `dist/index.js`, in a
 * fresh Node process so that nothing this test process already loaded counts.
 *
 * A construct file importing the core barrel (`from '../core'`) loads all of lib/core and fails
 * this; import from the module that defines the name instead (`from '../core/errors'`).
 */

const REPO = join(__dirname, '..', '..');
const ENTRY = join(REPO, 'dist', 'index.js');
/** Core modules only the CLI and the Lambda handlers need. */
const CLI_ONLY = /^dist\/core\/(canary|emulator|simulator)\//;

/** The repository-relative paths of the modules under dist/ that requiring `dist/index.js` loads. */
function modulesLoadedBy(entry: string): string[] {
  const script = `
    const path = require('node:path');
    require(process.argv[1]);
    const loaded = Object.keys(require.cache)
      .map((file) => path.relative(process.argv[2], file).split(path.sep).join('/'))
      .filter((file) => file.startsWith('dist/'));
    process.stdout.write(JSON.stringify(loaded));
  `;
  const out = execFileSync(process.execPath, ['-e', script, entry, REPO], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return (JSON.parse(out) as string[]).sort();
}

describe('loading the construct library', () => {
  it('does not load the canary statistics, the emulator or the simulator', () => {
    expect(existsSync(ENTRY), `${ENTRY} is missing: run \`npm run build\` first`).toBe(true);
    const loaded = modulesLoadedBy(ENTRY);
    // The check sees dist/core at all (a wrong path would make it pass vacuously).
    expect(loaded).toContain('dist/core/errors.js');
    expect(loaded.filter((file) => CLI_ONLY.test(file)), `requiring dist/index.js loads these core modules:\n${loaded.filter((f) => f.startsWith('dist/core/')).join('\n')}`).toEqual([]);
  });
});
