/**
 * Spans of one trace → a normalised forest, per CP-v1 "Normalisation" and "Forest" (ANALYSIS.md §1.4).
 *
 * Every analysis (critical path, self time, errors, service graph) starts here so that they all agree
 * on the same tree: which duplicate was kept, which spans are roots and why, and which parent edges were
 * cut to break cycles. Nothing throws on a degenerate trace; what was repaired is listed in `anomalies`.
 * All walks are iterative (a 20,000-level chain must not overflow the stack).
 */
import type { TraceSpan } from '../model/trace.js';

export type OrphanReason = 'selfParent' | 'missingParent' | 'cycle';

/** One span after normalisation. Indices refer to `TraceForest.nodes`. */
export interface TraceNode {
  index: number;
  /** The span as received (first received copy when the id was duplicated). */
  span: TraceSpan;
  /** Lower-case hex. */
  spanId: string;
  /** Lower-case hex; '' when the span declares no parent (absent, empty or all zeros). */
  parentSpanId: string;
  startNs: bigint;
  /** `max(endNs, startNs)`: a negative duration becomes zero (recorded in anomalies). */
  endNs: bigint;
  /** Index of the parent node, -1 for a root (including orphans and detached cycle members). */
  parent: number;
  /** Child indices sorted by (start asc, spanId asc). */
  children: number[];
  /** Distance from this node's root (root = 0). */
  depth: number;
  /** Index into `TraceForest.roots` of the tree this node belongs to. */
  rootOrdinal: number;
}

export interface TraceRoot {
  index: number;
  spanId: string;
  orphan: boolean;
  reason: OrphanReason | null;
  primary: boolean;
}

/** Span ids per repair made while building the forest; each list is sorted by spanId. */
export interface TraceAnomalies {
  missingParent: string[];
  selfParent: string[];
  cycleBroken: string[];
  negativeDuration: string[];
  duplicateSpanIds: string[];
}

export interface TraceForest {
  /** traceId of the first span ('' for an empty input). */
  traceId: string;
  nodes: TraceNode[];
  byId: Map<string, number>;
  /** Sorted by (start asc, spanId asc). */
  roots: TraceRoot[];
  /** Node index of the primary root, -1 for an empty trace. */
  primaryRoot: number;
  /** Node indices in breadth-first order from the roots (parents always precede children). */
  topDown: number[];
  /** Earliest start and latest end over all kept spans (0n for an empty trace). */
  startNs: bigint;
  endNs: bigint;
  anomalies: TraceAnomalies;
}

const ZERO_ID = /^0*$/;

function normaliseId(id: string): string {
  const lower = id.toLowerCase();
  return ZERO_ID.test(lower) ? '' : lower;
}

/** Deterministic order used throughout: start asc, then spanId asc. */
export function byStartThenId(a: TraceNode, b: TraceNode): number {
  if (a.startNs !== b.startNs) return a.startNs < b.startNs ? -1 : 1;
  return a.spanId < b.spanId ? -1 : a.spanId > b.spanId ? 1 : 0;
}

export function emptyAnomalies(): TraceAnomalies {
  return { missingParent: [], selfParent: [], cycleBroken: [], negativeDuration: [], duplicateSpanIds: [] };
}

/**
 * Builds the forest. Input order does not matter except for duplicate ids (the first received wins,
 * as CP-v1 requires); the result is otherwise a function of the span set.
 */
export function buildTraceForest(spans: readonly TraceSpan[]): TraceForest {
  const anomalies = emptyAnomalies();
  const nodes: TraceNode[] = [];
  const byId = new Map<string, number>();
  const duplicates = new Set<string>();
  for (const span of spans) {
    const spanId = span.spanId.toLowerCase();
    if (byId.has(spanId)) {
      duplicates.add(spanId);
      continue;
    }
    let endNs = span.endNs;
    if (endNs < span.startNs) {
      endNs = span.startNs;
      anomalies.negativeDuration.push(spanId);
    }
    const index = nodes.length;
    nodes.push({
      index,
      span,
      spanId,
      parentSpanId: normaliseId(span.parentSpanId),
      startNs: span.startNs,
      endNs,
      parent: -1,
      children: [],
      depth: 0,
      rootOrdinal: -1,
    });
    byId.set(spanId, index);
  }
  anomalies.duplicateSpanIds = [...duplicates];

  // Parent links; remember why a span without a usable parent is a root.
  const reasons = new Map<number, OrphanReason | null>();
  for (const node of nodes) {
    if (node.parentSpanId === '') {
      reasons.set(node.index, null);
    } else if (node.parentSpanId === node.spanId) {
      reasons.set(node.index, 'selfParent');
      anomalies.selfParent.push(node.spanId);
    } else {
      const parent = byId.get(node.parentSpanId);
      if (parent === undefined) {
        reasons.set(node.index, 'missingParent');
        anomalies.missingParent.push(node.spanId);
      } else {
        node.parent = parent;
      }
    }
  }

  // Spans not reachable from a root sit on (or hang below) parent cycles. Follow parent pointers from
  // each unreached span; a walk that meets itself has found a cycle, which is cut at its earliest member.
  const provisionalKids: number[][] = nodes.map(() => []);
  for (const n of nodes) if (n.parent !== -1) provisionalKids[n.parent]!.push(n.index);
  const reached = new Uint8Array(nodes.length);
  for (const r of reasons.keys()) markFrom(nodes, r, reached, provisionalKids);
  const walkMark = new Int32Array(nodes.length).fill(-1);
  for (const start of nodes) {
    if (reached[start.index] === 1 || walkMark[start.index] !== -1) continue;
    let cur = start.index;
    while (cur !== -1 && walkMark[cur] === -1 && reached[cur] === 0) {
      walkMark[cur] = start.index;
      cur = nodes[cur]!.parent;
    }
    if (cur === -1 || reached[cur] === 1 || walkMark[cur] !== start.index) continue;
    // cur is on a new cycle: collect its members and detach the earliest.
    let pick = nodes[cur]!;
    for (let m = nodes[cur]!.parent; m !== cur; m = nodes[m]!.parent) {
      if (byStartThenId(nodes[m]!, pick) < 0) pick = nodes[m]!;
    }
    pick.parent = -1;
    reasons.set(pick.index, 'cycle');
    anomalies.cycleBroken.push(pick.spanId);
    // Everything below the cut is now reachable; mark it so later walks stop there.
    markFrom(nodes, pick.index, reached, provisionalKids);
  }

  for (const node of nodes) if (node.parent !== -1) nodes[node.parent]!.children.push(node.index);
  for (const node of nodes) if (node.children.length > 1) node.children.sort((a, b) => byStartThenId(nodes[a]!, nodes[b]!));

  const rootIdx = [...reasons.keys()].sort((a, b) => byStartThenId(nodes[a]!, nodes[b]!));
  const roots: TraceRoot[] = rootIdx.map((index) => {
    const reason = reasons.get(index) ?? null;
    return { index, spanId: nodes[index]!.spanId, orphan: reason !== null, reason, primary: false };
  });
  const primaryRoot = choosePrimary(nodes, roots);
  for (const root of roots) root.primary = root.index === primaryRoot;

  const topDown: number[] = [];
  roots.forEach((root, ordinal) => {
    nodes[root.index]!.rootOrdinal = ordinal;
    topDown.push(root.index);
  });
  for (let i = 0; i < topDown.length; i++) {
    const node = nodes[topDown[i]!]!;
    for (const c of node.children) {
      const child = nodes[c]!;
      child.depth = node.depth + 1;
      child.rootOrdinal = node.rootOrdinal;
      topDown.push(c);
    }
  }

  let startNs = 0n;
  let endNs = 0n;
  nodes.forEach((n, i) => {
    if (i === 0 || n.startNs < startNs) startNs = n.startNs;
    if (i === 0 || n.endNs > endNs) endNs = n.endNs;
  });
  for (const list of Object.values(anomalies) as string[][]) list.sort();
  return { traceId: spans[0]?.traceId.toLowerCase() ?? '', nodes, byId, roots, primaryRoot, topDown, startNs, endNs, anomalies };
}

/** Primary root: among non-orphan roots (all roots if none) the earliest start, longest, smallest id. */
function choosePrimary(nodes: TraceNode[], roots: TraceRoot[]): number {
  const pool = roots.some((r) => !r.orphan) ? roots.filter((r) => !r.orphan) : roots;
  let best: TraceNode | undefined;
  for (const r of pool) {
    const n = nodes[r.index]!;
    if (best === undefined) {
      best = n;
      continue;
    }
    if (n.startNs !== best.startNs) {
      if (n.startNs < best.startNs) best = n;
      continue;
    }
    const dn = n.endNs - n.startNs;
    const db = best.endNs - best.startNs;
    if (dn !== db) {
      if (dn > db) best = n;
      continue;
    }
    if (n.spanId < best.spanId) best = n;
  }
  return best?.index ?? -1;
}

/** Marks `from` and every descendant still attached by parent pointers (cut edges are skipped). */
function markFrom(nodes: TraceNode[], from: number, reached: Uint8Array, kids: number[][]): void {
  const stack = [from];
  reached[from] = 1;
  while (stack.length > 0) {
    const i = stack.pop()!;
    for (const c of kids[i]!) {
      if (reached[c] === 0 && nodes[c]!.parent === i) {
        reached[c] = 1;
        stack.push(c);
      }
    }
  }
}
