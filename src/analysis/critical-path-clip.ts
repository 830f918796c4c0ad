/**
 * CP-v1 blocking rule and clipping (ANALYSIS.md §1.4), computed once top-down for the whole forest.
 *
 * Doing it for every span (not only the ones the back-walk visits) makes `cpAdjustments` complete and
 * lets the aggregate and error analyses reuse one pass. Parents precede children in `forest.topDown`,
 * so each child is clipped against its parent's already clipped ("effective") interval.
 */
import { SpanKind } from '../model/span.js';
import type { TraceForest, TraceNode } from './trace-tree.js';

/** Why a span is (not) part of its root's critical-path tree. */
export const CpState = {
  KEPT: 0,
  /** Clipped out (no overlap with the parent's effective interval), or below such a span. */
  DROPPED: 1,
  /** Non-blocking child (PRODUCER→CONSUMER or FOLLOWS_FROM), or below one. */
  NON_BLOCKING: 2,
} as const;

export interface CpClip {
  /** Effective interval per node (meaningful for KEPT nodes). */
  startNs: bigint[];
  endNs: bigint[];
  state: Uint8Array;
  /** Span ids whose own interval was shortened, dropped, or that are non-blocking; sorted. */
  truncated: string[];
  dropped: string[];
  nonBlocking: string[];
}

/**
 * A child does not block its parent when the parent only hands it work (PRODUCER→CONSUMER), or when the
 * child says so with an OpenTracing FOLLOWS_FROM reference (shims and the Jaeger translator encode it as a
 * link to the parent carrying `opentracing.ref_type = follows_from`).
 */
export function isNonBlocking(parent: TraceNode, child: TraceNode): boolean {
  if (parent.span.kind === SpanKind.PRODUCER && child.span.kind === SpanKind.CONSUMER) return true;
  const traceId = child.span.traceId.toLowerCase();
  for (const link of child.span.links) {
    if (
      link.spanId.toLowerCase() === parent.spanId &&
      link.traceId.toLowerCase() === traceId &&
      link.attributes['opentracing.ref_type'] === 'follows_from'
    ) {
      return true;
    }
  }
  return false;
}

export function clipForest(forest: TraceForest): CpClip {
  const { nodes } = forest;
  const startNs = nodes.map((n) => n.startNs);
  const endNs = nodes.map((n) => n.endNs);
  const state = new Uint8Array(nodes.length);
  const truncated: string[] = [];
  const dropped: string[] = [];
  const nonBlocking: string[] = [];
  for (const i of forest.topDown) {
    const node = nodes[i]!;
    if (node.parent === -1) continue;
    const p = node.parent;
    if (state[p] !== CpState.KEPT) {
      state[i] = state[p]!;
      continue;
    }
    if (isNonBlocking(nodes[p]!, node)) {
      state[i] = CpState.NON_BLOCKING;
      nonBlocking.push(node.spanId);
      continue;
    }
    const ps = startNs[p]!;
    const pe = endNs[p]!;
    const cs = node.startNs;
    const ce = node.endNs;
    // Identical to Jaeger UI's sanitizeOverFlowingChildren table: a child with no overlap is dropped with
    // its subtree; otherwise it is cut to the parent's interval. Clipping never invents time.
    if (cs >= ps ? cs >= pe : ce <= ps) {
      state[i] = CpState.DROPPED;
      dropped.push(node.spanId);
      continue;
    }
    const s = cs < ps ? ps : cs;
    const e = ce > pe ? pe : ce;
    if (s !== cs || e !== ce) truncated.push(node.spanId);
    startNs[i] = s;
    endNs[i] = e;
  }
  truncated.sort();
  dropped.sort();
  nonBlocking.sort();
  return { startNs, endNs, state, truncated, dropped, nonBlocking };
}
