/**
 * A small seeded PRNG and the samplers the scenario generator needs. Hand-written so the eval's
 * numbers depend on nothing but the seed (no library upgrade can change them).
 */

/** mulberry32 (Tommy Ettinger, public domain): 32-bit state, uniform in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** FNV-1a of a string mixed with a seed: one independent stream per scenario name. */
export function streamSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Standard normal (Box–Muller). */
export function gaussian(rng: () => number): number {
  const u = 1 - rng(); // (0, 1]: log(0) never happens
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Poisson(λ): Knuth's product method below 30, a rounded normal above (error < 1 % there). */
export function poisson(rng: () => number, lambda: number): number {
  if (!(lambda > 0)) return 0;
  if (lambda < 30) {
    const limit = Math.exp(-lambda);
    let k = 0;
    let p = rng();
    while (p > limit) {
      k++;
      p *= rng();
    }
    return k;
  }
  return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * gaussian(rng)));
}

/** Binomial(n, p): exact inversion while n·min(p, 1 − p) < 30, a clamped rounded normal above. */
export function binomial(rng: () => number, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(rng, n, 1 - p);
  const mean = n * p;
  if (mean < 30) {
    const q = 1 - p;
    let k = 0;
    let pk = Math.pow(q, n);
    let cdf = pk;
    const u = rng();
    while (u > cdf && k < n) {
      pk *= ((n - k) / (k + 1)) * (p / q);
      k++;
      cdf += pk;
    }
    return k;
  }
  return Math.min(n, Math.max(0, Math.round(mean + Math.sqrt(mean * (1 - p)) * gaussian(rng))));
}

/** Uniform in [a, b). */
export function uniformBetween(rng: () => number, a: number, b: number): number {
  return a + (b - a) * rng();
}

/** A whole number from a to b, both included. */
export function integerBetween(rng: () => number, a: number, b: number): number {
  return a + Math.floor((b - a + 1) * rng());
}

/** Log-uniform in [a, b): as many draws from 2 % to 4 % as from 10 % to 20 %. */
export function logUniformBetween(rng: () => number, a: number, b: number): number {
  return a * Math.pow(b / a, rng());
}
