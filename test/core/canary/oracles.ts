// Independent reference implementations for the canary judge's tests: slow, exact, and sharing no
// code with lib/core/canary.

function choose(n: bigint, k: bigint): bigint {
  if (k < 0n || k > n) return 0n;
  let result = 1n;
  for (let i = 1n; i <= k; i++) result = (result * (n - k + i)) / i;
  return result;
}

/** num / den as a double, exact to double precision for ratios above ~1e-40. */
function ratio(num: bigint, den: bigint): number {
  return Number((num * 10n ** 60n) / den) / 1e60;
}

/**
 * Fisher's exact test on [[a, b], [c, d]] by enumerating every table with the same margins in
 * exact rational arithmetic (BigInt binomial coefficients): the test's definition.
 */
export function fisherOracle(a: number, b: number, c: number, d: number) {
  const n = BigInt(a + b);
  const bad = BigInt(a + c);
  const all = BigInt(a + b + c + d);
  const weight = (k: bigint) => choose(bad, k) * choose(all - bad, n - k);
  const denominator = choose(all, n);
  const observed = weight(BigInt(a));
  let worse = 0n;
  let better = 0n;
  let twoSided = 0n;
  for (let k = 0n; k <= n; k++) {
    const w = weight(k);
    if (k >= BigInt(a)) worse += w;
    if (k <= BigInt(a)) better += w;
    // R's rule: as extreme when w ≤ observed × (1 + 1e-7), here in exact integers.
    if (w * 10_000_000n <= observed * 10_000_001n) twoSided += w;
  }
  return {
    pCanaryWorse: ratio(worse, denominator),
    pCanaryBetter: ratio(better, denominator),
    pTwoSided: ratio(twoSided, denominator),
  };
}
