import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Runs after `npm run build` (part of `npm test`): the package must ship the prebundled evaluator,
// so users need neither esbuild nor Docker, and the compiled CLI behind `bin`.
describe('the npm package', () => {
  it('contains the bundled evaluator, the compiled library and the CLI', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: join(__dirname, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const files = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path);
    // The jsii assembly ships compressed: `.jsii` redirects to `.jsii.gz` (jsii --compress-assembly).
    expect(files).toEqual(expect.arrayContaining(['assets/evaluator/index.js', 'assets/follow-up/index.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', '.jsii', '.jsii.gz', 'README.md']));
    // No source maps: the compiled library ships without them (a third of its size with inline sources).
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(readFileSync(join(__dirname, '..', 'dist', 'index.js'), 'utf8')).not.toContain('sourceMappingURL');
    expect(files.some((f) => f.startsWith('lambda/') || f.startsWith('test/'))).toBe(false);
  });
});
