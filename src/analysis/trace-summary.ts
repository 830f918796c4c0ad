/**
 * What get_trace's summary view reports of one trace: counts, services, the deepest errors, the spans
 * with the most self time and the primary root's most critical spans (CP-v1, SELF-v1, ERR-v1).
 *
 * This is the reference over the BigInt forest; trace-summary-columns.ts computes the same from a
 * trace's columns without an object per span, and must equal it field for field (tested on random
 * traces). Rows hold ns and raw text; rounding to ms and clipping text are presentation (mcp/).
 */
import { criticalPathsOfForest } from './critical-path.js';
import { exceptionOf, isEffectiveError } from './error-status.js';
import { topBySelf } from './self-time.js';
import { compareBigint } from './time.js';
import type { TraceForest, TraceNode } from './trace-tree.js';

export interface TraceSpanRef {
  spanId: string;
  service: string;
  name: string;
}

export interface TraceServiceRow {
  service: string;
  spans: number;
  /** ERR-v1 effective errors among `spans`. */
  errors: number;
}

export interface TraceSummary {
  traceId: string;
  /** Earliest start over the kept spans. */
  startNs: bigint;
  /** Earliest start to latest (normalised) end. */
  durationNs: bigint;
  /** Spans after removing duplicate ids. */
  spanCount: number;
  maxDepth: number;
  /** The primary root (CP-v1); null for an empty trace. */
  root: (TraceSpanRef & { durationNs: bigint; orphan: boolean }) | null;
  roots: number;
  /** Errors desc, then spans desc, then first appearance in arrival order. */
  services: TraceServiceRow[];
  errorSpans: number;
  /** Deepest first, ties in arrival order; `statusMessage` as stored ('' when none). */
  errors: (TraceSpanRef & { statusMessage: string; exceptionType: string | null })[];
  /** Most self time first, ties in arrival order. */
  topSelfTime: (TraceSpanRef & { selfNs: bigint })[];
  /** Spans on the primary root's critical path, most critical time first, ties by span id. */
  criticalPath: (TraceSpanRef & { criticalNs: bigint })[];
}

/** How many rows each list of the summary keeps. */
export const SUMMARY_ROWS = 5;

const ref = (n: TraceNode): TraceSpanRef => ({ spanId: n.spanId, service: n.span.service, name: n.span.name });

/** The summary of a built forest, with SELF-v1 self times indexed like its nodes. */
export function summarizeTrace(forest: TraceForest, self: readonly bigint[], k = SUMMARY_ROWS): TraceSummary {
  const { nodes } = forest;
  const services = new Map<string, TraceServiceRow>();
  const errorNodes: TraceNode[] = [];
  for (const n of nodes) {
    const s = services.get(n.span.service) ?? { service: n.span.service, spans: 0, errors: 0 };
    s.spans++;
    if (isEffectiveError(n.span)) {
      s.errors++;
      errorNodes.push(n);
    }
    services.set(n.span.service, s);
  }
  const root = forest.primaryRoot >= 0 ? nodes[forest.primaryRoot] : undefined;
  return {
    traceId: forest.traceId,
    startNs: forest.startNs,
    durationNs: forest.endNs - forest.startNs,
    spanCount: nodes.length,
    maxDepth: nodes.reduce((m, n) => Math.max(m, n.depth), 0),
    root: root ? { ...ref(root), durationNs: root.endNs - root.startNs, orphan: forest.roots.find((r) => r.primary)?.orphan ?? false } : null,
    roots: forest.roots.length,
    services: [...services.values()].sort((a, b) => b.errors - a.errors || b.spans - a.spans),
    errorSpans: errorNodes.length,
    errors: errorNodes
      .sort((a, b) => b.depth - a.depth)
      .slice(0, k)
      .map((n) => ({ ...ref(n), statusMessage: n.span.statusMessage, exceptionType: exceptionOf(n.span)?.type ?? null })),
    topSelfTime: topBySelf(nodes, self, k).map((n) => ({ ...ref(n), selfNs: self[n.index]! })),
    criticalPath: root ? topCritical(forest, root, k) : [],
  };
}

/**
 * The primary root's most critical spans (CP-v1 on the forest already built, rather than building it
 * again through computeCriticalPath): critical time desc, then span id.
 */
function topCritical(forest: TraceForest, root: TraceNode, k: number): TraceSummary['criticalPath'] {
  const cp = criticalPathsOfForest(forest);
  const r = forest.roots.findIndex((x) => x.index === root.index);
  const onPath = [...new Set((cp.segmentsByRoot[r] ?? []).map((s) => s.node))];
  onPath.sort((a, b) => compareBigint(cp.criticalNs[b]!, cp.criticalNs[a]!) || (forest.nodes[a]!.spanId < forest.nodes[b]!.spanId ? -1 : 1));
  return onPath.slice(0, k).map((i) => ({ ...ref(forest.nodes[i]!), criticalNs: cp.criticalNs[i]! }));
}
