/**
 * Footprint benchmark (issue 10, items 3 and 4): what installing the package costs, and what cdk-nag
 * still reports on the example stacks.
 *
 *   npx tsx bench/footprint.bench.ts [--json]
 *
 * - The npm package, as `npm pack --dry-run --json` lists it (its `prepack`, scripts/package-dist.mjs,
 *   included), after `npm run build`: packed (the .tgz) and unpacked size and file count against the
 *   issue's targets (≤ 400 kB packed, ≤ 1.5 MB unpacked), and where the bytes are. Per part, "gzip"
 *   is each file compressed alone: an estimate of its share of the tarball.
 * - Per example stack, the unacknowledged findings of each cdk-nag pack a user is likely to apply
 *   (AwsSolutions, Serverless, NIST 800-53 rev 5), through the tests' validationApp(). A bare
 *   aws-cdk-lib Lambda function is the control row: it draws findings from every pack, so a zero on
 *   an example means the pack ran and found nothing unacknowledged.
 *
 * kB = 1000 bytes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { App, Stack } from 'aws-cdk-lib';
import { AgentServiceStack } from '../examples/agent-service';
import { CheckoutServiceStack } from '../examples/checkout-service';
import { FargateServiceStack } from '../examples/fargate-service';
import { LambdaCanaryStack } from '../examples/lambda-canary';
import { lambdaFunction, validationApp, type Violation } from '../test/helpers';

const ROOT = join(__dirname, '..');
/** Issue 10, item 3. */
const MAX_PACKED_BYTES = 400_000;
const MAX_UNPACKED_BYTES = 1_500_000;
/** The packs validationApp() applies, by the plugin name their findings carry. */
const PACKS = ['AwsSolutions', 'Serverless', 'NIST.800.53.R5'] as const;

const args = process.argv.slice(2);
for (const a of args) {
  if (a !== '--json') {
    console.error(`unknown argument ${a}; usage: tsx bench/footprint.bench.ts [--json]`);
    process.exit(2);
  }
}
const JSON_OUTPUT = args.includes('--json');
const kB = (bytes: number) => (bytes / 1000).toFixed(1);

// ---------------------------------------------------------------------------------------------
// The package

/** Where a packed file belongs, for the breakdown. */
function partOf(path: string): string {
  if (path.startsWith('assets/cli/')) return 'CLI (assets/cli/main.js, core modules from dist/)';
  if (path.startsWith('runtime/')) return 'agent helper (runtime/: bundle, types, notices)';
  if (path.startsWith('assets/')) return 'Lambda handlers (assets/handlers/, shared chunks)';
  if (path.startsWith('dist/') && path.endsWith('.d.ts')) return 'declarations (dist/**/*.d.ts)';
  if (path.startsWith('dist/')) return 'library (dist/**/*.js)';
  if (path === '.jsii' || path === '.jsii.gz') return 'jsii assembly (.jsii.gz, README inside)';
  if (path === 'README.md') return 'README.md';
  return 'other';
}

interface PackageFootprint {
  readonly packedBytes: number;
  readonly unpackedBytes: number;
  readonly files: number;
  readonly parts: Record<string, { files: number; bytes: number; gzipBytes: number }>;
  /** Library sources newer than the build: the figures describe an older package. */
  readonly stale: boolean;
}

export function packageFootprint(): PackageFootprint {
  const entry = join(ROOT, 'dist', 'index.js');
  if (!existsSync(entry)) throw new Error('dist/index.js is missing: run `npm run build` first (the package is what jsii and scripts/bundle.mjs build)');
  const out = execFileSync('npm', ['pack', '--dry-run', '--json'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const [pack] = JSON.parse(out) as Array<{ size: number; unpackedSize: number; entryCount: number; files: Array<{ path: string; size: number }> }>;
  const parts: PackageFootprint['parts'] = {};
  for (const f of pack.files) {
    const part = (parts[partOf(f.path)] ??= { files: 0, bytes: 0, gzipBytes: 0 });
    part.files++;
    part.bytes += f.size;
    part.gzipBytes += gzipSync(readFileSync(join(ROOT, f.path)), { level: 9 }).length;
  }
  const built = statSync(entry).mtimeMs;
  const newer = (dir: string): boolean =>
    readdirSync(join(ROOT, dir), { withFileTypes: true }).some((d) =>
      d.isDirectory() ? newer(join(dir, d.name)) : d.name.endsWith('.ts') && statSync(join(ROOT, dir, d.name)).mtimeMs > built,
    );
  return { packedBytes: pack.size, unpackedBytes: pack.unpackedSize, files: pack.entryCount, parts, stale: newer('lib') || newer('lambda') };
}

// ---------------------------------------------------------------------------------------------
// cdk-nag

/** The example stacks, as examples/app.ts creates them (the Fargate one needs a concrete region, as in the tests). */
const EXAMPLES: ReadonlyArray<{ readonly name: string; readonly build: (app: App) => Stack }> = [
  { name: 'CheckoutService', build: (app) => new CheckoutServiceStack(app, 'CheckoutService') },
  { name: 'LambdaCanary', build: (app) => new LambdaCanaryStack(app, 'LambdaCanary') },
  { name: 'AgentService', build: (app) => new AgentServiceStack(app, 'AgentService') },
  { name: 'FargateService', build: (app) => new FargateServiceStack(app, 'FargateService', { env: { region: 'eu-west-1' } }) },
];
const CONTROL = { name: 'control: a bare Function', build: (app: App) => lambdaFunction(new Stack(app, 'Bare')).stack };

type NagCounts = Record<(typeof PACKS)[number] | 'other', number>;

/**
 * Synthesizes one stack with the packs and counts its unacknowledged findings per pack. Outside a
 * test, aws-cdk-lib prints the validation report and sets process.exitCode to 1 when a rule fails
 * (core/lib/private/synthesis-validation.ts): the counts are this bench's output, so both are undone.
 */
export function nagCounts(build: (app: App) => unknown): NagCounts {
  const { app, report } = validationApp();
  build(app);
  const exitCode = process.exitCode;
  const consoleError = console.error;
  let violations: Violation[];
  console.error = () => {};
  try {
    violations = report();
  } finally {
    console.error = consoleError;
    process.exitCode = exitCode;
  }
  const counts: NagCounts = { AwsSolutions: 0, Serverless: 0, 'NIST.800.53.R5': 0, other: 0 };
  for (const v of violations) counts[(PACKS as readonly string[]).includes(v.plugin) ? (v.plugin as (typeof PACKS)[number]) : 'other']++;
  return counts;
}

// ---------------------------------------------------------------------------------------------

function main(): void {
  const started = Date.now();
  const footprint = packageFootprint();
  const nag: Record<string, NagCounts> = {};
  for (const example of [...EXAMPLES, CONTROL]) {
    process.stderr.write(`cdk-nag: ${example.name}…\n`);
    nag[example.name] = nagCounts(example.build);
  }
  if (JSON_OUTPUT) {
    process.stdout.write(`${JSON.stringify({ package: footprint, targets: { maxPackedBytes: MAX_PACKED_BYTES, maxUnpackedBytes: MAX_UNPACKED_BYTES }, nag }, null, 2)}\n`);
    return;
  }
  const mark = (ok: boolean) => (ok ? 'ok' : 'OVER');
  const lines: string[] = [];
  lines.push('cdk-rollback-triggers footprint: the npm package (npm pack --dry-run) and cdk-nag on the examples');
  if (footprint.stale) lines.push('note: lib/ or lambda/ changed after the last build; run `npm run build` for current figures');
  lines.push('');
  lines.push(`package: ${kB(footprint.packedBytes)} kB packed (target ≤ ${kB(MAX_PACKED_BYTES)} kB: ${mark(footprint.packedBytes <= MAX_PACKED_BYTES)}), ` +
    `${kB(footprint.unpackedBytes)} kB unpacked (target ≤ ${kB(MAX_UNPACKED_BYTES)} kB: ${mark(footprint.unpackedBytes <= MAX_UNPACKED_BYTES)}), ${footprint.files} files`);
  lines.push(`  ${'part'.padEnd(58)}${'files'.padStart(6)}${'unpacked'.padStart(12)}${'gzip'.padStart(10)}`);
  for (const [part, p] of Object.entries(footprint.parts).sort((a, b) => b[1].bytes - a[1].bytes)) {
    lines.push(`  ${part.padEnd(58)}${String(p.files).padStart(6)}${`${kB(p.bytes)} kB`.padStart(12)}${`${kB(p.gzipBytes)} kB`.padStart(10)}`);
  }
  lines.push('');
  lines.push('cdk-nag: unacknowledged findings per pack (validationApp(): AwsSolutions, Serverless, NIST 800-53 rev 5)');
  lines.push(`  ${'stack'.padEnd(26)}${PACKS.map((p) => p.padStart(16)).join('')}${'other'.padStart(8)}`);
  for (const [name, c] of Object.entries(nag)) {
    lines.push(`  ${name.padEnd(26)}${PACKS.map((p) => String(c[p]).padStart(16)).join('')}${String(c.other).padStart(8)}`);
  }
  lines.push('');
  lines.push(`total wall time ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

main();
