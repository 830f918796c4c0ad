/**
 * The rows and segments get_critical_path shows of a columnar path (critical-path-columns-walk.ts), with
 * the numbers critical-path.ts computes in BigInt: the top span rows, every service row and the longest
 * segments. Objects are built for those only; ranking runs over typed arrays.
 */
import { spanIdHex, type TraceColumns } from '../model/trace-columns.js';
import type { CpSegmentReport, CpServiceRow, CpSpanRow } from './critical-path.js';
import type { CriticalPathDigest, CriticalPathSummaryOptions } from './critical-path-summary.js';
import type { ColumnPath } from './critical-path-columns-walk.js';
import { selfTimeOf, type ColumnForest } from './trace-forest-columns.js';

export function digestPath(forest: ColumnForest, path: ColumnPath, options: CriticalPathSummaryOptions): CriticalPathDigest {
  const { cols } = forest;
  const { criticalNs, onPath, totalNs } = path;
  const topSpans = topSpansOf(cols, criticalNs, onPath, options.spanRows).map((i): CpSpanRow => {
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
  criticalByService(cols, criticalNs, onPath).forEach((c, at) => {
    if (c > 0) perService.set(cols.services[at]!, (perService.get(cols.services[at]!) ?? 0) + c);
  });
  const byService = [...perService].map(([service, c]): CpServiceRow => ({ service, criticalNs: BigInt(c), criticalMs: msOf(c), share: ratioOf(c, totalNs) }));
  byService.sort((a, b) => (a.criticalNs !== b.criticalNs ? (a.criticalNs > b.criticalNs ? -1 : 1) : a.service < b.service ? -1 : 1));

  const longestSegments = longestOf(segmentLengthsMs(path, forest.startNs), options.segments).map((j): CpSegmentReport => {
    const i = path.span[j]!;
    return {
      spanId: idOf(cols, i), service: cols.services[cols.service[i]!]!, name: cols.names[cols.name[i]!]!,
      startNs: cols.baseNs + BigInt(path.startNs[j]!), endNs: cols.baseNs + BigInt(path.endNs[j]!),
      startOffsetMs: msOf(path.startNs[j]! - forest.startNs), endOffsetMs: msOf(path.endNs[j]! - forest.startNs),
    };
  });
  return { totalMs: msOf(totalNs), spanCount: onPath.length, segmentCount: path.count, topSpans, byService, longestSegments };
}

/** Critical ns per local service index. */
function criticalByService(cols: TraceColumns, criticalNs: Float64Array, onPath: Int32Array): Float64Array {
  const sums = new Float64Array(cols.services.length);
  for (let k = 0; k < onPath.length; k++) sums[cols.service[onPath[k]!]!]! += criticalNs[onPath[k]!]!;
  return sums;
}

/**
 * Segment lengths from their rounded ms offsets, exactly as the answer shows them and as the BigInt path
 * ranks them (msOf inline: offsets from the trace start are ≥ 0).
 */
function segmentLengthsMs(path: ColumnPath, traceStartNs: number): Float64Array {
  const lengths = new Float64Array(path.count);
  for (let j = 0; j < path.count; j++) {
    const s = path.startNs[j]! - traceStartNs + 500;
    const e = path.endNs[j]! - traceStartNs + 500;
    lengths[j] = (e - (e % 1000)) / 1e6 - (s - (s % 1000)) / 1e6;
  }
  return lengths;
}

/** The first `k` spans of CriticalPathOfRoot.bySpan order (critical desc, spanId asc), without sorting them all. */
function topSpansOf(cols: TraceColumns, criticalNs: Float64Array, onPath: Int32Array, k: number): number[] {
  const { spanIdHi: hi, spanIdLo: lo } = cols;
  const top: number[] = [];
  if (k <= 0) return top;
  for (let t = 0; t < onPath.length; t++) {
    const x = onPath[t]!;
    let at = top.length;
    for (; at > 0; at--) {
      const y = top[at - 1]!;
      const before = criticalNs[x] !== criticalNs[y] ? criticalNs[x]! > criticalNs[y]! : hi[x] !== hi[y] ? hi[x]! < hi[y]! : lo[x]! < lo[y]!;
      if (!before) break;
    }
    if (at === k) continue;
    top.splice(at, 0, x);
    if (top.length > k) top.pop();
  }
  return top;
}

/** critical-path-summary.ts topK over precomputed lengths: the `k` largest, ties in index (time) order. */
function longestOf(lengths: Float64Array, k: number): number[] {
  const top: number[] = [];
  if (k <= 0) return top;
  for (let j = 0; j < lengths.length; j++) {
    const len = lengths[j]!;
    if (top.length === k && len <= lengths[top[k - 1]!]!) continue;
    let at = top.length;
    while (at > 0 && lengths[top[at - 1]!]! < len) at--;
    top.splice(at, 0, j);
    if (top.length > k) top.pop();
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
