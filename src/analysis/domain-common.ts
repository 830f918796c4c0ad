/**
 * Helpers the domain analyses (cache, inference, database) share: tolerant label and metric-name
 * lookup across naming generations, time bins for span counts, and small robust statistics.
 */
import type { Labels } from '../model/metric.js';
import type { StoredSeries } from './metric-source.js';

/** The first label present (non-empty) among `keys`, else undefined. */
export function labelOf(labels: Labels, keys: readonly string[]): string | undefined {
  for (const k of keys) {
    const v = labels[k];
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}

/**
 * Series with their labels replaced by canonical ones (each canonical key from its first present
 * variant, '' when none), so that series naming a label differently (`level`, `cache.level`) still group
 * together in evaluateMetricQuery.
 */
export function relabel(series: readonly StoredSeries[], canonical: Record<string, readonly string[]>): StoredSeries[] {
  return series.map((s) => {
    const labels: Labels = {};
    for (const [key, variants] of Object.entries(canonical)) labels[key] = labelOf(s.labels, variants) ?? '';
    return { ...s, labels };
  });
}

/** Names matching the first pattern that matches any name (patterns in order of preference). */
export function pickMetricNames(names: readonly string[], patterns: readonly RegExp[]): string[] {
  for (const re of patterns) {
    const hit = names.filter((n) => re.test(n));
    if (hit.length > 0) return hit.sort();
  }
  return [];
}

/** Time bins (lo, hi] of `stepNs` ending at endNs, the latest `maxPoints` kept; as evaluateMetricQuery bins. */
export function stepBins(startNs: bigint, endNs: bigint, stepNs: bigint, maxPoints: number): { lo: bigint; hi: bigint }[] {
  const count = Number((endNs - startNs + stepNs - 1n) / stepNs);
  const out: { lo: bigint; hi: bigint }[] = [];
  for (let k = Math.max(0, count - maxPoints); k < count; k++) {
    const lo = startNs + BigInt(k) * stepNs;
    out.push({ lo, hi: lo + stepNs < endNs ? lo + stepNs : endNs });
  }
  return out;
}

/** Index of the bin holding t (lo < t ≤ hi, the first bin also takes t = lo), or -1. */
export function binIndex(bins: readonly { lo: bigint; hi: bigint }[], t: bigint): number {
  if (bins.length === 0) return -1;
  const first = bins[0] as { lo: bigint };
  const step = (bins[0] as { hi: bigint }).hi - first.lo;
  if (t < first.lo || step <= 0n) return -1;
  const i = t === first.lo ? 0 : Number((t - first.lo - 1n) / step);
  return i < bins.length && t <= (bins[i] as { hi: bigint }).hi ? i : -1;
}

export function median(sortedAsc: readonly number[]): number {
  const n = sortedAsc.length;
  if (n === 0) return NaN;
  const mid = n >> 1;
  return n % 2 === 1 ? (sortedAsc[mid] as number) : ((sortedAsc[mid - 1] as number) + (sortedAsc[mid] as number)) / 2;
}

/** Median absolute deviation (unscaled). */
export function mad(sortedAsc: readonly number[], med = median(sortedAsc)): number {
  return median(sortedAsc.map((v) => Math.abs(v - med)).sort((a, b) => a - b));
}

/** Least-squares slope of y over x = 0, 1, 2, … (null with fewer than 2 points). */
export function slope(ys: readonly (number | null)[]): number | null {
  const pts = ys.flatMap((y, x) => (y === null ? [] : [[x, y] as const]));
  if (pts.length < 2) return null;
  const mx = pts.reduce((a, [x]) => a + x, 0) / pts.length;
  const my = pts.reduce((a, [, y]) => a + y, 0) / pts.length;
  let num = 0;
  let den = 0;
  for (const [x, y] of pts) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? null : num / den;
}

/** Two-proportion z statistic of p1 = k1/n1 against p2 = k2/n2 (positive when p1 > p2); 0 if undefined. */
export function twoProportionZ(k1: number, n1: number, k2: number, n2: number): number {
  if (n1 === 0 || n2 === 0) return 0;
  const p = (k1 + k2) / (n1 + n2);
  const se = Math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2));
  return se === 0 ? 0 : (k1 / n1 - k2 / n2) / se;
}

export const round = (x: number, digits = 4): number => Number(x.toFixed(digits));

/** Natural order for level names: L1 < L2 < L10, numbers numerically, then text. */
export function compareLevels(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
