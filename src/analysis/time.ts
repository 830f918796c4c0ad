/** Presentation helpers: analysis computes in BigInt nanoseconds and converts only at the edge. */

/** Nanoseconds → milliseconds rounded to at most 3 decimals (µs), the precision agents are given. */
export function nsToMs(ns: bigint): number {
  // Round in BigInt first so values beyond 2^53 ns still land on the nearest µs.
  const us = ns >= 0n ? (ns + 500n) / 1000n : -((-ns + 500n) / 1000n);
  return Number(us) / 1000;
}

/** `part / whole` as a number, 0 when the whole is 0; rounded to 6 decimals so shares print cleanly. */
export function ratio(part: bigint, whole: bigint): number {
  if (whole === 0n) return 0;
  return Math.round((Number(part) / Number(whole)) * 1e6) / 1e6;
}

/** Nearest-rank percentile (q in (0, 1]) over values sorted ascending; null when empty. */
export function nearestRank<T>(sortedAsc: readonly T[], q: number): T | null {
  const n = sortedAsc.length;
  if (n === 0) return null;
  const rank = Math.min(n, Math.max(1, Math.ceil(q * n - 1e-9)));
  return sortedAsc[rank - 1] ?? null;
}

export function compareBigint(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
