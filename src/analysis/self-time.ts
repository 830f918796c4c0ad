/**
 * SELF-v1 (ANALYSIS.md §1.4): a span's self time is its duration minus the union of its direct
 * children's intervals clipped to the span. All direct children count (blocking or not, clipped away by
 * CP-v1 or not) and raw (normalised) intervals are used, which is what Jaeger UI shows as "self time".
 *
 * Self time is not critical time: an async child lowers the parent's self time but not its critical
 * time, and a parallel child that is not on the path lowers self time only.
 */
import { compareBigint } from './time.js';
import type { TraceForest, TraceNode } from './trace-tree.js';

/** Self time in ns per node, indexed like `forest.nodes`. Always in `[0, duration]`. */
export function computeSelfTimes(forest: TraceForest): bigint[] {
  const { nodes } = forest;
  const self: bigint[] = new Array<bigint>(nodes.length);
  for (const node of nodes) {
    const s = node.startNs;
    const e = node.endNs;
    let covered = 0n;
    // Children are sorted by start, so one sweep merges their clipped intervals.
    let runStart = 0n;
    let runEnd = 0n;
    let open = false;
    for (const c of node.children) {
      const child = nodes[c]!;
      const cs = child.startNs > s ? child.startNs : s;
      const ce = child.endNs < e ? child.endNs : e;
      if (ce <= cs) continue;
      if (open && cs <= runEnd) {
        if (ce > runEnd) runEnd = ce;
        continue;
      }
      if (open) covered += runEnd - runStart;
      runStart = cs;
      runEnd = ce;
      open = true;
    }
    if (open) covered += runEnd - runStart;
    self[node.index] = e - s - covered;
  }
  return self;
}

/** The `k` nodes with the most self time (most first; ties in node order). */
export function topBySelf(nodes: readonly TraceNode[], self: readonly bigint[], k: number): TraceNode[] {
  return [...nodes].sort((a, b) => compareBigint(self[b.index]!, self[a.index]!) || a.index - b.index).slice(0, k);
}
