/**
 * The rows and segments get_critical_path shows of a columnar path (critical-path-columns-walk.ts), with
 * the numbers critical-path.ts computes in BigInt: the top span rows, every service row and the longest
 * segments. Objects are built for those only; the ranking is two passes over typed arrays.
 */
import { spanIdHex, type TraceColumns } from '../model/trace-columns.js';
import type { CpSegmentReport, CpServiceRow, CpSpanRow } from './critical-path.js';
import type { CriticalPathDigest, CriticalPathSummaryOptions } from './critical-path-summary.js';
import type { ColumnPath } from './critical-path-columns-walk.js';
import { selfTimeOf, type ColumnForest } from './trace-forest-columns.js';

export function digestPath(forest: ColumnForest, path: ColumnPath, options: CriticalPathSummaryOptions): CriticalPathDigest {
  const { cols } = forest;
  const { criticalNs, totalNs } = path;
  const perServiceIndex = new Float64Array(cols.services.length);
  const topSpans = topSpansOf(cols, path, options.spanRows, perServiceIndex).map((i): CpSpanRow => {
    const c = criticalNs[i]!;
    const self = selfTimeOf(forest, i);
    const duration = forest.endNs[i]! - cols.startNs[i]!;
    return {
      spanId: idOf(cols, i), service: cols.services[cols.service[i]!]!, name: cols.names[cols.name[i]!]!,
      criticalNs: BigInt(c), criticalMs: msOf(c), share: ratioOf(c, totalNs),
      selfNs: BigInt(self), selfMs: msOf(self), durationNs: BigInt(duration), durationMs: msOf(duration),
    };
  });

  const perService = new Map<string, number>();
  perServiceIndex.forEach((c, at) => {
    if (c > 0) perService.set(cols.services[at]!, (perService.get(cols.services[at]!) ?? 0) + c);
  });
  const byService = [...perService].map(([service, c]): CpServiceRow => ({ service, criticalNs: BigInt(c), criticalMs: msOf(c), share: ratioOf(c, totalNs) }));
  byService.sort((a, b) => (a.criticalNs !== b.criticalNs ? (a.criticalNs > b.criticalNs ? -1 : 1) : a.service < b.service ? -1 : 1));

  const traceStart = forest.bounds[0]!;
  const longestSegments = longestOf(path, traceStart, options.segments).map((j): CpSegmentReport => {
    const i = path.span[j]!;
    return {
      spanId: idOf(cols, i), service: cols.services[cols.service[i]!]!, name: cols.names[cols.name[i]!]!,
      startNs: cols.baseNs + BigInt(path.startNs[j]!), endNs: cols.baseNs + BigInt(path.endNs[j]!),
      startOffsetMs: msOf(path.startNs[j]! - traceStart), endOffsetMs: msOf(path.endNs[j]! - traceStart),
    };
  });
  return { totalMs: msOf(totalNs), spanCount: path.onPath.length, segmentCount: path.count, topSpans, byService, longestSegments };
}

/**
 * The first `k` spans of CriticalPathOfRoot.bySpan order (critical desc, spanId asc), without sorting
 * them all; sums critical time per local service index into `perService` (when given) on the way.
 */
export function topSpansOf(cols: TraceColumns, path: ColumnPath, k: number, perService?: Float64Array): number[] {
  const { spanIdHi: hi, spanIdLo: lo, service } = cols;
  const { criticalNs, onPath } = path;
  const top: number[] = [];
  for (let t = 0; t < onPath.length; t++) {
    const x = onPath[t]!;
    const c = criticalNs[x]!;
    if (perService) perService[service[x]!]! += c;
    let at = top.length;
    for (; at > 0; at--) {
      const y = top[at - 1]!;
      const before = c !== criticalNs[y] ? c > criticalNs[y]! : hi[x] !== hi[y] ? hi[x]! < hi[y]! : lo[x]! < lo[y]!;
      if (!before) break;
    }
    if (at >= k) continue;
    top.splice(at, 0, x);
    if (top.length > k) top.pop();
  }
  return top;
}

/**
 * Indexes of the `k` longest segments, longest first, ties in time order: critical-path-summary.ts topK
 * over lengths taken from the rounded ms offsets the answer shows (msOf inline; offsets from the trace
 * start are ≥ 0). The path is stored back to front, so time order is descending index.
 */
function longestOf(path: ColumnPath, traceStart: number, k: number): number[] {
  const top: number[] = [];
  const lengths: number[] = [];
  if (k <= 0) return top;
  for (let j = path.count - 1; j >= 0; j--) {
    const s = path.startNs[j]! - traceStart + 500;
    const e = path.endNs[j]! - traceStart + 500;
    const len = (e - (e % 1000)) / 1e6 - (s - (s % 1000)) / 1e6;
    if (top.length === k && len <= lengths[k - 1]!) continue;
    let at = top.length;
    while (at > 0 && lengths[at - 1]! < len) at--;
    top.splice(at, 0, j);
    lengths.splice(at, 0, len);
    if (top.length > k) {
      top.pop();
      lengths.pop();
    }
  }
  return top;
}

export function idOf(cols: TraceColumns, i: number): string {
  return spanIdHex(cols.spanIdHi[i]!, cols.spanIdLo[i]!);
}

/** time.ts nsToMs for an exact integer number of ns below 2^53 − 500: the same µs rounding, no BigInt. */
export function msOf(ns: number): number {
  const magnitude = (ns < 0 ? -ns : ns) + 500;
  const us = (magnitude - (magnitude % 1000)) / 1000;
  // BigInt has no −0: a negative value that rounds to 0 µs is 0.
  return ns < 0 && us !== 0 ? -us / 1000 : us / 1000;
}

/** time.ts ratio for exact integer ns. */
function ratioOf(part: number, whole: number): number {
  return whole === 0 ? 0 : Math.round((part / whole) * 1e6) / 1e6;
}
