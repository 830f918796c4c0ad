/**
 * The rows get_trace's topology view shows: a trace's spans ranked most informative first (errors, then
 * self time, then shallow spans), each with where it sits in the tree, so that a page of them can be
 * shown in tree order.
 *
 * This is the reference over the BigInt forest; trace-topology-columns.ts ranks the same rows from a
 * trace's columns without an object per span, and must equal it field for field (tested on random traces).
 */
import { isEffectiveError } from './error-status.js';
import { compareBigint } from './time.js';
import type { TraceSpanRef } from './trace-summary.js';
import type { TraceForest } from './trace-tree.js';

export interface TopologyRow extends TraceSpanRef {
  /** The declared parent (lower-case hex), '' when none: for an orphan, the span that was not found. */
  parentId: string;
  depth: number;
  kind: number;
  /** From the trace's earliest start. */
  startOffsetNs: bigint;
  durationNs: bigint;
  selfNs: bigint;
  error: boolean;
  children: number;
  /** Position in a depth-first walk from the roots (children by start, then span id): the order shown. */
  treeOrder: number;
}

export interface TraceTopology {
  traceId: string;
  spanCount: number;
  /** Spans within the depth limit: how many rows there are in all. */
  total: number;
  /** The first `limit` of them, most informative first. */
  rows: TopologyRow[];
}

export interface TopologyOptions {
  limit: number;
  /** Only spans at most this deep (roots are 0); all when absent. */
  depth?: number | undefined;
}

/** The topology of a built forest, with SELF-v1 self times indexed like its nodes. */
export function topologyOf(forest: TraceForest, self: readonly bigint[], o: TopologyOptions): TraceTopology {
  const { nodes } = forest;
  const eligible = nodes.filter((n) => o.depth === undefined || n.depth <= o.depth);
  const error = nodes.map((n) => isEffectiveError(n.span));
  const ranked = eligible.sort((a, b) => Number(error[b.index]) - Number(error[a.index]) || compareBigint(self[b.index]!, self[a.index]!) || a.depth - b.depth || a.index - b.index);
  const order = treeOrder(forest);
  return {
    traceId: forest.traceId,
    spanCount: nodes.length,
    total: ranked.length,
    rows: ranked.slice(0, Math.max(0, o.limit)).map((n) => ({
      spanId: n.spanId, service: n.span.service, name: n.span.name, parentId: n.parent >= 0 ? nodes[n.parent]!.spanId : n.parentSpanId, depth: n.depth, kind: n.span.kind,
      startOffsetNs: n.startNs - forest.startNs, durationNs: n.endNs - n.startNs, selfNs: self[n.index]!,
      error: error[n.index]!, children: n.children.length, treeOrder: order[n.index]!,
    })),
  };
}

/** Position of each node in a depth-first walk (iterative: traces can be 20k levels deep). */
function treeOrder(forest: TraceForest): number[] {
  const order = new Array<number>(forest.nodes.length).fill(0);
  const stack = forest.roots.map((r) => r.index).reverse();
  let i = 0;
  while (stack.length > 0) {
    const index = stack.pop()!;
    order[index] = i++;
    const children = forest.nodes[index]!.children;
    for (let c = children.length - 1; c >= 0; c--) stack.push(children[c]!);
  }
  return order;
}
