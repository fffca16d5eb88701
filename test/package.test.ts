import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Runs after `npm run build` (part of `npm test`): the package must ship the prebundled evaluator,
// so users need neither esbuild nor Docker, and the compiled CLI behind `bin`.
describe('the npm package', () => {
  it('contains the bundled evaluator, the compiled library and the CLI', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: join(__dirname, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const files = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['assets/evaluator/index.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', '.jsii', 'README.md']));
    expect(files.some((f) => f.startsWith('lambda/') || f.startsWith('test/'))).toBe(false);
  });
});
