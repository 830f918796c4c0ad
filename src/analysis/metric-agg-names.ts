/** Aggregation names as people type them (HTTP query strings, MCP arguments). */

/** p5 → 0.05, p50 → 0.5, p99 → 0.99, p999 → 0.999, p99.9 → 0.999, p100 → 1; null if not of that form. */
export function quantileShorthand(agg: string): number | null {
  const m = /^p(\d+(?:\.\d+)?)$/.exec(agg);
  if (!m) return null;
  const digits = m[1] as string;
  if (digits === '100') return 1;
  // Without a dot, digits after the first two are decimals of the percentage (p999 = 99.9th percentile).
  const percent = digits.includes('.') || digits.length <= 2 ? Number(digits) : Number(`${digits.slice(0, 2)}.${digits.slice(2)}`);
  return Number((percent / 100).toPrecision(12));
}
