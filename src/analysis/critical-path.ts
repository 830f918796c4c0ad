/**
 * CP-v1 critical path of one trace (ANALYSIS.md §1.4): Jaeger UI's "last-finishing child, walk
 * backwards" with the four CP-v1 fixes — touching siblings are sequential (`<=`), deterministic ties
 * (end desc, start asc, spanId asc), one path per root including orphans, and FOLLOWS_FROM children are
 * non-blocking like PRODUCER→CONSUMER. The walk uses an explicit stack, never recursion.
 */
import type { TraceSpan } from '../model/trace.js';
import { adjustClockSkew } from './clock-skew.js';
import { clipForest, CpState, type CpClip } from './critical-path-clip.js';
import { computeSelfTimes } from './self-time.js';
import { compareBigint, nsToMs, ratio } from './time.js';
import { buildTraceForest, type OrphanReason, type TraceAnomalies, type TraceForest } from './trace-tree.js';

/** A chronological, non-empty piece of the path owned by one span (node index into the forest). */
export interface CpSegment {
  node: number;
  startNs: bigint;
  endNs: bigint;
}

/** The raw result, for analyses that build on the path (aggregation, errors). */
export interface ForestCriticalPaths {
  forest: TraceForest;
  clip: CpClip;
  /** Canonical segments per root, in `forest.roots` order; each tiles [root.start, root.end]. */
  segmentsByRoot: CpSegment[][];
  /** Critical time per node (ns), summed over the node's segments. */
  criticalNs: bigint[];
}

interface Frame {
  node: number;
  lo: bigint;
  cursor: bigint;
  kids: number[];
  next: number;
}

/** Computes the canonical critical path of every root of an already built forest. */
export function criticalPathsOfForest(forest: TraceForest): ForestCriticalPaths {
  const clip = clipForest(forest);
  const criticalNs = forest.nodes.map(() => 0n);
  const segmentsByRoot = forest.roots.map((root) => {
    const segments = walk(forest, clip, root.index);
    for (const s of segments) criticalNs[s.node] = criticalNs[s.node]! + (s.endNs - s.startNs);
    return segments;
  });
  return { forest, clip, segmentsByRoot, criticalNs };
}

/** Kept (blocking, not dropped) children of `i` in walk order: end desc, start asc, spanId asc. */
function walkOrder(forest: TraceForest, clip: CpClip, i: number): number[] {
  const kids = forest.nodes[i]!.children.filter((c) => clip.state[c] === CpState.KEPT);
  kids.sort(
    (a, b) =>
      compareBigint(clip.endNs[b]!, clip.endNs[a]!) ||
      compareBigint(clip.startNs[a]!, clip.startNs[b]!) ||
      (forest.nodes[a]!.spanId < forest.nodes[b]!.spanId ? -1 : 1),
  );
  return kids;
}

function walk(forest: TraceForest, clip: CpClip, root: number): CpSegment[] {
  const out: CpSegment[] = []; // reverse chronological
  const frame = (node: number): Frame => ({
    node,
    lo: clip.startNs[node]!,
    cursor: clip.endNs[node]!,
    kids: walkOrder(forest, clip, node),
    next: 0,
  });
  const stack: Frame[] = [frame(root)];
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    if (f.next < f.kids.length) {
      const c = f.kids[f.next++]!;
      const ce = clip.endNs[c]!;
      // Still running when the later critical sibling started: the parent was not waiting for it.
      // Touching (ce == cursor) counts as sequential.
      if (ce > f.cursor) continue;
      if (ce < f.cursor) out.push({ node: f.node, startNs: ce, endNs: f.cursor });
      f.cursor = clip.startNs[c]!;
      stack.push(frame(c));
    } else {
      if (f.lo < f.cursor) out.push({ node: f.node, startNs: f.lo, endNs: f.cursor });
      stack.pop();
    }
  }
  return canonical(out.reverse());
}

/** Drops empty segments and merges adjacent ones of the same span. */
function canonical(chronological: CpSegment[]): CpSegment[] {
  const result: CpSegment[] = [];
  for (const s of chronological) {
    if (s.endNs <= s.startNs) continue;
    const last = result[result.length - 1];
    if (last !== undefined && last.node === s.node && last.endNs === s.startNs) last.endNs = s.endNs;
    else result.push({ ...s });
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------
// Report (the get_critical_path output shape of §1.4, with ns alongside ms)

export interface CriticalPathOptions {
  /** Include the segment list (default true); bySpan/byService are always present. */
  includeSegments?: boolean;
  /** 'none' (default, CP-v1 clips) or 'jaeger': shift spans per Jaeger's adjuster first (§1.3). */
  clockSkew?: 'none' | 'jaeger';
  /** Largest shift the Jaeger adjuster may apply (default 1 s). */
  maxClockSkewNs?: bigint;
}

export interface CpClockSkew {
  mode: 'none' | 'jaeger';
  maxDeltaNs: bigint;
  /** Shifted spans (sorted by spanId); times everywhere else in the report are the shifted ones. */
  adjustments: { spanId: string; deltaNs: bigint; deltaMs: number }[];
  /** Shifts larger than maxDeltaNs, not applied. */
  warnings: { spanId: string; deltaNs: bigint; reason: string }[];
}

export interface CpRootInfo {
  spanId: string;
  orphan: boolean;
  reason: OrphanReason | null;
  primary: boolean;
}

export interface CpSegmentReport {
  spanId: string;
  service: string;
  name: string;
  startNs: bigint;
  endNs: bigint;
  /** Offsets from the trace's earliest span start. */
  startOffsetMs: number;
  endOffsetMs: number;
}

export interface CpSpanRow {
  spanId: string;
  service: string;
  name: string;
  criticalNs: bigint;
  criticalMs: number;
  /** criticalNs / root duration. */
  share: number;
  selfNs: bigint;
  selfMs: number;
  durationNs: bigint;
  durationMs: number;
}

export interface CpServiceRow {
  service: string;
  criticalNs: bigint;
  criticalMs: number;
  share: number;
}

export interface CriticalPathOfRoot {
  rootSpanId: string;
  primary: boolean;
  totalNs: bigint;
  totalMs: number;
  segments: CpSegmentReport[];
  /** Spans with critical time > 0, by criticalNs desc then spanId. */
  bySpan: CpSpanRow[];
  /** By criticalNs desc then service. */
  byService: CpServiceRow[];
}

export interface CriticalPathReport {
  traceId: string;
  /** Earliest start to latest end over all spans. */
  traceDurationNs: bigint;
  traceDurationMs: number;
  roots: CpRootInfo[];
  /** One per root, in `roots` order (start, spanId). */
  criticalPaths: CriticalPathOfRoot[];
  cpAdjustments: { truncated: string[]; dropped: string[]; nonBlocking: string[] };
  clockSkew: CpClockSkew;
  anomalies: TraceAnomalies;
}

/** CP-v1 for one trace. An empty input yields an empty report, never a throw. */
export function computeCriticalPath(spans: readonly TraceSpan[], options: CriticalPathOptions = {}): CriticalPathReport {
  let forest = buildTraceForest(spans);
  const clockSkew: CpClockSkew = { mode: options.clockSkew ?? 'none', maxDeltaNs: options.maxClockSkewNs ?? 1_000_000_000n, adjustments: [], warnings: [] };
  if (clockSkew.mode === 'jaeger') {
    const adjusted = adjustClockSkew(forest, clockSkew.maxDeltaNs);
    forest = adjusted.forest;
    clockSkew.adjustments = adjusted.adjustments.map((a) => ({ ...a, deltaMs: nsToMs(a.deltaNs) }));
    clockSkew.warnings = adjusted.warnings;
  }
  const cp = criticalPathsOfForest(forest);
  const self = computeSelfTimes(forest);
  const { nodes } = forest;
  const criticalPaths = forest.roots.map((root, r): CriticalPathOfRoot => {
    const segs = cp.segmentsByRoot[r]!;
    const rootNode = nodes[root.index]!;
    const totalNs = rootNode.endNs - rootNode.startNs;
    const onPath = [...new Set(segs.map((s) => s.node))];
    const bySpan = onPath.map((i): CpSpanRow => {
      const n = nodes[i]!;
      const c = cp.criticalNs[i]!;
      return {
        spanId: n.spanId,
        service: n.span.service,
        name: n.span.name,
        criticalNs: c,
        criticalMs: nsToMs(c),
        share: ratio(c, totalNs),
        selfNs: self[i]!,
        selfMs: nsToMs(self[i]!),
        durationNs: n.endNs - n.startNs,
        durationMs: nsToMs(n.endNs - n.startNs),
      };
    });
    bySpan.sort((a, b) => compareBigint(b.criticalNs, a.criticalNs) || (a.spanId < b.spanId ? -1 : 1));
    const perService = new Map<string, bigint>();
    for (const row of bySpan) perService.set(row.service, (perService.get(row.service) ?? 0n) + row.criticalNs);
    const byService = [...perService].map(([service, c]) => ({ service, criticalNs: c, criticalMs: nsToMs(c), share: ratio(c, totalNs) }));
    byService.sort((a, b) => compareBigint(b.criticalNs, a.criticalNs) || (a.service < b.service ? -1 : 1));
    const segments =
      options.includeSegments === false
        ? []
        : segs.map((s) => {
            const n = nodes[s.node]!;
            return {
              spanId: n.spanId,
              service: n.span.service,
              name: n.span.name,
              startNs: s.startNs,
              endNs: s.endNs,
              startOffsetMs: nsToMs(s.startNs - forest.startNs),
              endOffsetMs: nsToMs(s.endNs - forest.startNs),
            };
          });
    return { rootSpanId: root.spanId, primary: root.primary, totalNs, totalMs: nsToMs(totalNs), segments, bySpan, byService };
  });
  const traceDurationNs = forest.endNs - forest.startNs;
  return {
    traceId: forest.traceId,
    traceDurationNs,
    traceDurationMs: nsToMs(traceDurationNs),
    roots: forest.roots.map(({ spanId, orphan, reason, primary }) => ({ spanId, orphan, reason, primary })),
    criticalPaths,
    cpAdjustments: { truncated: cp.clip.truncated, dropped: cp.clip.dropped, nonBlocking: cp.clip.nonBlocking },
    clockSkew,
    anomalies: forest.anomalies,
  };
}
