/**
 * What one get_critical_path answer shows of a CP-v1 report: the primary root's path, its top span
 * rows, all service rows and its longest segments, plus counts. A 10k-span trace can have 10k spans and
 * segments on its path; an answer shows a few dozen, so only those become objects.
 */
import type { CpSegmentReport, CpServiceRow, CpSpanRow, CriticalPathReport } from './critical-path.js';

export interface CriticalPathSummaryOptions {
  /** How many of the top span rows to keep (`bySpan` order). */
  spanRows: number;
  /** How many of the longest segments to keep. */
  segments: number;
}

export interface CriticalPathDigest {
  totalMs: number;
  /** Spans with critical time > 0 (all of them, not only `topSpans`). */
  spanCount: number;
  segmentCount: number;
  /** The first `spanRows` of CriticalPathOfRoot.bySpan. */
  topSpans: CpSpanRow[];
  /** All of CriticalPathOfRoot.byService. */
  byService: CpServiceRow[];
  /** The `segments` longest (by their rounded ms offsets), longest first, ties in time order. */
  longestSegments: CpSegmentReport[];
}

export interface CriticalPathSummary {
  traceId: string;
  traceDurationMs: number;
  roots: number;
  primaryRootSpanId: string | null;
  adjustments: { truncated: number; dropped: number; nonBlocking: number };
  /** The primary root's path; null for an empty trace. */
  path: CriticalPathDigest | null;
}

/** The summary of a full report: the reference the columnar path (critical-path-columns.ts) must equal. */
export function summarizeCriticalPath(report: CriticalPathReport, options: CriticalPathSummaryOptions): CriticalPathSummary {
  const cp = report.criticalPaths.find((c) => c.primary) ?? report.criticalPaths[0];
  const adj = report.cpAdjustments;
  const segments = cp?.segments ?? [];
  const segmentLength = (i: number): number => segments[i]!.endOffsetMs - segments[i]!.startOffsetMs;
  return {
    traceId: report.traceId,
    traceDurationMs: report.traceDurationMs,
    roots: report.roots.length,
    primaryRootSpanId: report.roots.find((r) => r.primary)?.spanId ?? null,
    adjustments: { truncated: adj.truncated.length, dropped: adj.dropped.length, nonBlocking: adj.nonBlocking.length },
    path: !cp
      ? null
      : {
          totalMs: cp.totalMs,
          spanCount: cp.bySpan.length,
          segmentCount: segments.length,
          topSpans: cp.bySpan.slice(0, Math.max(0, options.spanRows)),
          byService: cp.byService,
          longestSegments: topK(segments.length, options.segments, (a, b) => segmentLength(a) > segmentLength(b)).map((i) => segments[i]!),
        },
  };
}

/**
 * Indexes of the `k` best of `0..count-1`, best first, without sorting them all. `better(a, b)` is a
 * strict order; candidates it does not separate keep index order (the earlier one ranks first).
 */
export function topK(count: number, k: number, better: (a: number, b: number) => boolean): number[] {
  const top: number[] = [];
  if (k <= 0) return top;
  for (let i = 0; i < count; i++) {
    if (top.length === k && !better(i, top[k - 1]!)) continue;
    let at = top.length;
    while (at > 0 && better(i, top[at - 1]!)) at--;
    top.splice(at, 0, i);
    if (top.length > k) top.pop();
  }
  return top;
}
