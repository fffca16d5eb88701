/**
 * Generates the example series of `rollback-triggers simulate` in examples/series/: seeded, so the
 * files are the same on every run (a test checks the committed files against this script).
 *
 *   npx tsx scripts/generate-series.ts            # writes examples/series/
 *   npx tsx scripts/generate-series.ts OUT-DIR    # writes elsewhere
 *
 * Each scenario is a per-minute traffic model: requests around a base rate with a slow daily-like
 * swell and noise; the new version's share follows the deployment shape (as CodeDeploy shifts it);
 * errors and slow requests are drawn per version from binomial distributions with the scenario's
 * ratios. The series shows what would happen without any rollback — the simulator decides when the
 * policy would have stopped it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../eval/random';

// The eval's seeded PRNG: the example series depend on nothing but their seeds.
const prng = mulberry32;

/** Binomial draw: exact (Bernoulli sum) for small n, normal approximation (rounded, clamped) for large n·p. */
function binomial(random: () => number, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (n < 2_000 || n * p < 30) {
    let k = 0;
    for (let i = 0; i < n; i++) if (random() < p) k++;
    return k;
  }
  const u1 = Math.max(random(), 1e-12);
  const u2 = random();
  const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  return Math.min(n, Math.max(0, Math.round(n * p + z * Math.sqrt(n * p * (1 - p)))));
}

type Shape = { kind: 'all-at-once' } | { kind: 'canary' | 'linear'; percent: number; intervalMinutes: number };

/** Share of traffic on the new version at `minute`, as CodeDeploy shifts it. */
function newShare(shape: Shape, release: number, minute: number): number {
  if (minute < release) return 0;
  if (shape.kind === 'all-at-once') return 1;
  const steps = Math.floor((minute - release) / shape.intervalMinutes);
  if (shape.kind === 'canary') return steps === 0 ? shape.percent / 100 : 1;
  return Math.min(1, ((steps + 1) * shape.percent) / 100);
}

interface Version {
  /** Error ratio at a minute. */
  readonly errors: (minute: number) => number;
  /** Share of requests over the latency threshold; omitted when the scenario has no latency SLO. */
  readonly slow?: (minute: number) => number;
  /** Share of requests whose business outcome failed (an agent's bad self-evaluation); omitted when the scenario has no business-failure SLO. */
  readonly failures?: (minute: number) => number;
  /** Exact error counts at some minutes (capped by the requests), instead of a draw. */
  readonly exactErrors?: Readonly<Record<number, number>>;
}

interface Scenario {
  readonly file: string;
  readonly description: string;
  readonly seed: number;
  readonly minutes: number;
  readonly releaseMinute: number;
  readonly shape: Shape;
  readonly bakeMinutes: number;
  /** Mean requests per minute. */
  readonly rate: number;
  readonly old: Version;
  readonly new: Version;
  readonly slos?: readonly object[];
  readonly rollback?: object;
  /** Per-version counts: `always`, or only from the release on (`after-release`). */
  readonly perVersion: 'always' | 'after-release';
  /** CSV: the time of minute 0; the file gets a timestamp column instead of `minute`. */
  readonly csvStart?: string;
}

const AVAILABILITY = { name: 'availability', objectivePercent: 99.9, sli: 'error-ratio' };
const LATENCY = { name: 'latency', objectivePercent: 99, sli: 'latency', latencyThreshold: 300 };
/** A healthy service: 0.02 % errors (0.2× burn on 99.9 %), 0.2 % slow (0.2× burn on 99 %). */
const HEALTHY: Version = { errors: () => 0.0002, slow: () => 0.002 };
const HEALTHY_ERRORS: Version = { errors: () => 0.0002 };

export const SCENARIOS: readonly Scenario[] = [
  {
    file: 'clean-release.json',
    description: 'a healthy release: the new version behaves like the old one',
    seed: 1,
    minutes: 150,
    releaseMinute: 60,
    shape: { kind: 'canary', percent: 10, intervalMinutes: 10 },
    bakeMinutes: 10,
    rate: 1_000,
    old: HEALTHY,
    new: HEALTHY,
    slos: [AVAILABILITY, LATENCY],
    perVersion: 'always',
  },
  {
    file: 'total-outage.json',
    description: 'all at once, and the new version fails every request',
    seed: 2,
    minutes: 100,
    releaseMinute: 60,
    shape: { kind: 'all-at-once' },
    bakeMinutes: 10,
    rate: 1_000,
    old: HEALTHY_ERRORS,
    new: { errors: () => 1 },
    slos: [AVAILABILITY],
    perVersion: 'always',
  },
  {
    file: 'slow-burn.json',
    description: 'the new version fails 0.4 % of requests: a 4× burn, below every page tier',
    seed: 3,
    minutes: 480,
    releaseMinute: 60,
    shape: { kind: 'canary', percent: 10, intervalMinutes: 10 },
    bakeMinutes: 10,
    rate: 1_000,
    old: HEALTHY_ERRORS,
    new: { errors: () => 0.004 },
    slos: [AVAILABILITY],
    perVersion: 'always',
  },
  {
    file: 'short-blip.json',
    description: 'a 90-second dependency blip (25 % errors) hits both versions during the canary step',
    seed: 4,
    minutes: 120,
    releaseMinute: 60,
    shape: { kind: 'canary', percent: 10, intervalMinutes: 10 },
    bakeMinutes: 10,
    rate: 1_000,
    // Minute 64 whole, minute 65 half: 90 seconds, while both versions serve traffic.
    old: { errors: (m) => (m === 64 ? 0.25 : m === 65 ? 0.125 : 0.0002) },
    new: { errors: (m) => (m === 64 ? 0.25 : m === 65 ? 0.125 : 0.0002) },
    slos: [AVAILABILITY],
    perVersion: 'always',
  },
  {
    file: 'low-traffic.json',
    description: 'about 3 requests a minute and a single failed request after the release',
    seed: 5,
    minutes: 120,
    releaseMinute: 60,
    shape: { kind: 'all-at-once' },
    bakeMinutes: 10,
    rate: 3,
    old: { errors: () => 0 },
    new: { errors: () => 0, exactErrors: { 63: 1 } },
    slos: [AVAILABILITY],
    perVersion: 'always',
  },
  {
    file: 'broken-canary.json',
    description: 'a 10 % canary of a version that fails 30 % of its requests',
    seed: 6,
    minutes: 120,
    releaseMinute: 60,
    shape: { kind: 'canary', percent: 10, intervalMinutes: 10 },
    bakeMinutes: 10,
    rate: 1_000,
    old: HEALTHY_ERRORS,
    new: { errors: () => 0.3 },
    slos: [AVAILABILITY],
    perVersion: 'always',
  },
  {
    file: 'linear-regression.csv',
    description: 'a CloudWatch-style export: linear 10 % a minute, the new version fails 3 % of requests; per-version counts only from the release',
    seed: 7,
    minutes: 120,
    releaseMinute: 45,
    shape: { kind: 'linear', percent: 10, intervalMinutes: 1 },
    bakeMinutes: 10,
    rate: 800,
    old: HEALTHY_ERRORS,
    new: { errors: () => 0.03 },
    perVersion: 'after-release',
    csvStart: '2024-05-01T10:00:00Z',
  },
  {
    // examples/agent-service.ts: one self-evaluation per invocation, so the requests are the
    // evaluations too; a bad evaluation (low confidence, output failing its schema) is no error.
    file: 'agent-canary.json',
    description:
      'an LLM agent on Lambda, one self-evaluation per invocation: a 10 % canary of a version whose self-evaluations are bad 30 % of the time (failures) without a single Lambda error',
    seed: 8,
    minutes: 120,
    releaseMinute: 60,
    shape: { kind: 'canary', percent: 10, intervalMinutes: 5 },
    bakeMinutes: 10,
    rate: 200,
    old: { errors: () => 0.0002, failures: () => 0.005 },
    new: { errors: () => 0.0002, failures: () => 0.3 },
    slos: [AVAILABILITY, { name: 'self-evaluation', objectivePercent: 99, sli: 'business-failure' }],
    perVersion: 'always',
  },
];

interface Counts {
  requests: number;
  errors: number;
  slow?: number;
  failures?: number;
}

interface Entry extends Counts {
  minute: number;
  stable?: Counts;
  canary?: Counts;
}

function generate(s: Scenario): Entry[] {
  const random = prng(s.seed);
  const entries: Entry[] = [];
  const counts = (n: number, v: Version, minute: number): Counts => {
    const exact = v.exactErrors?.[minute];
    const c: Counts = { requests: n, errors: exact !== undefined ? Math.min(n, exact) : binomial(random, n, v.errors(minute)) };
    if (v.slow) c.slow = binomial(random, n - c.errors, v.slow(minute));
    if (v.failures) c.failures = binomial(random, n - c.errors, v.failures(minute));
    return c;
  };
  for (let minute = 0; minute < s.minutes; minute++) {
    // A slow swell (±10 % over 4 hours) and ±3 % noise around the base rate.
    const mean = s.rate * (1 + 0.1 * Math.sin((2 * Math.PI * minute) / 240)) * (1 + 0.06 * (random() - 0.5));
    const requests = s.rate < 50 ? binomial(random, Math.round(mean * 4), 0.25) : Math.round(mean);
    const share = newShare(s.shape, s.releaseMinute, minute);
    const canaryRequests = Math.round(requests * share);
    const stable = counts(requests - canaryRequests, s.old, minute);
    const canary = share > 0 ? counts(canaryRequests, s.new, minute) : undefined;
    const entry: Entry = {
      minute,
      requests,
      errors: stable.errors + (canary?.errors ?? 0),
      ...(stable.slow !== undefined ? { slow: stable.slow + (canary?.slow ?? 0) } : {}),
      ...(stable.failures !== undefined ? { failures: stable.failures + (canary?.failures ?? 0) } : {}),
    };
    // Per-version metrics (Lambda ExecutedVersion, a target group's) publish no datapoint in a
    // minute without requests, so a version without traffic has no entry.
    if (s.perVersion === 'always' || minute >= s.releaseMinute) {
      if (stable.requests > 0) entry.stable = stable;
      if (canary && canary.requests > 0) entry.canary = canary;
    }
    entries.push(entry);
  }
  return entries;
}

/** JSON with one series entry per line: readable, and small diffs when the model changes. */
function toJson(s: Scenario, entries: readonly Entry[]): string {
  const head = {
    description: s.description,
    releaseMinute: s.releaseMinute,
    deployment: { ...s.shape, bakeMinutes: s.bakeMinutes },
    ...(s.slos ? { slos: s.slos } : {}),
    ...(s.rollback ? { rollback: s.rollback } : {}),
  };
  const lines = Object.entries(head).map(([k, v]) => `  ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
  const series = entries.map((e) => `    ${JSON.stringify(e)}`).join(',\n');
  return `{\n${lines.join(',\n')},\n  "series": [\n${series}\n  ]\n}\n`;
}

function toCsv(s: Scenario, entries: readonly Entry[]): string {
  const start = Date.parse(s.csvStart!);
  const cell = (v: number | undefined) => (v === undefined ? '' : String(v));
  const rows = entries.map((e) =>
    [
      new Date(start + e.minute * 60_000).toISOString().replace('.000Z', 'Z'),
      e.requests,
      e.errors,
      cell(e.stable?.requests),
      cell(e.stable?.errors),
      cell(e.canary?.requests),
      cell(e.canary?.errors),
    ].join(','),
  );
  return [`# ${s.description}`, 'timestamp,requests,errors,stable_requests,stable_errors,canary_requests,canary_errors', ...rows].join('\n') + '\n';
}

/** Every example file, by name. */
export function generateAll(): Record<string, string> {
  return Object.fromEntries(SCENARIOS.map((s) => [s.file, s.csvStart ? toCsv(s, generate(s)) : toJson(s, generate(s))]));
}

if (require.main === module) {
  const dir = process.argv[2] ?? join(__dirname, '..', 'examples', 'series');
  mkdirSync(dir, { recursive: true });
  for (const [file, content] of Object.entries(generateAll())) {
    writeFileSync(join(dir, file), content);
    console.log(`wrote ${join(dir, file)}`);
  }
}
