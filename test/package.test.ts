import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// Runs after `npm run build` (part of `npm test`): the package must ship the prebundled evaluator,
// so users need neither esbuild nor Docker, the bundled CLI behind `bin` (assets/cli/main.js) and
// the agent helper behind `cdk-rollback-triggers/runtime` (runtime/, scripts/bundle-runtime.mjs).
describe('the npm package', () => {
  it('contains the bundled evaluator, the compiled library, the CLI and the agent helper', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: join(__dirname, '..'), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const files = (JSON.parse(out) as Array<{ files: Array<{ path: string }> }>)[0].files.map((f) => f.path);
    // The jsii assembly ships compressed: `.jsii` redirects to `.jsii.gz` (jsii --compress-assembly).
    expect(files).toEqual(
      expect.arrayContaining([
        'assets/handlers/starter.mjs',
        'assets/handlers/evaluator.mjs',
        'assets/handlers/follow-up.mjs',
        'assets/handlers/state-change.mjs',
        'assets/handlers/THIRD-PARTY-LICENSES.txt',
        'dist/index.js',
        'dist/index.d.ts',
        'assets/cli/main.js',
        '.jsii',
        '.jsii.gz',
        'README.md',
        'runtime/package.json',
        'runtime/index.js',
        'runtime/index.d.ts',
        'runtime/THIRD-PARTY-LICENSES.txt',
      ]),
    );
    // No AWS SDK: approve and reject load the user's (lib/cli/aws-clients.ts).
    expect(files.filter((f) => /aws-clients|@aws-sdk|@smithy/.test(f))).toEqual([]);
    // lib/runtime ships bundled in runtime/ only (jsii's excludeTypescript keeps it out of dist/).
    expect(files.filter((f) => f.startsWith('dist/runtime/'))).toEqual([]);
    // No source maps: the compiled library ships without them (a third of its size with inline sources).
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(readFileSync(join(__dirname, '..', 'dist', 'index.js'), 'utf8')).not.toContain('sourceMappingURL');
    expect(files.some((f) => f.startsWith('lambda/') || f.startsWith('test/'))).toBe(false);
  });

  it('declares the packages the CLI loads from the project as optional peers, and nothing it would install', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
      dependencies?: unknown;
      peerDependencies: Record<string, string>;
      peerDependenciesMeta: Record<string, { optional?: boolean }>;
      files: string[];
      jsii: { excludeTypescript: string[] };
    };
    expect(pkg.dependencies).toBeUndefined();
    // `peerDependenciesMeta` alone: npm installs none of them (and, with no range, checks none); pnpm
    // reads each as an optional peer of any version. jsii refuses a peer dependency that is not a
    // jsii assembly, so none is in peerDependencies: lib/cli/aws-clients.ts checks the SDK's major
    // version itself.
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual(['aws-cdk-lib', 'constructs']);
    expect(pkg.peerDependenciesMeta).toEqual({
      '@aws-sdk/client-sfn': { optional: true },
      '@aws-sdk/client-sts': { optional: true },
      '@resvg/resvg-js': { optional: true },
    });
    expect(pkg.files).toContain('runtime/**');
    expect(pkg.jsii.excludeTypescript).toContain('lib/runtime/**');
  });
});
