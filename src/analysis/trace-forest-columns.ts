/**
 * The CP-v1 forest (ANALYSIS.md §1.4 "Normalisation" and "Forest") over TraceColumns: the same tree
 * buildTraceForest makes, as typed arrays indexed by span position, so that a 10k-span trace costs a
 * few dozen allocations instead of tens of thousands (see model/trace-columns.ts for why).
 *
 * It covers what a well-formed trace needs and declines the rest: a trace with a parent cycle, or with
 * times too far apart to stay exact in doubles, yields null and the caller takes the BigInt path
 * (trace-tree.ts), which handles everything. Neither happens in traces a working SDK produces.
 */
import type { TraceColumns } from '../model/trace-columns.js';

/** Root markers in ColumnForest.rootKind. */
export const ROOT_NONE = 0;
export const ROOT_TRUE = 1;
export const ROOT_ORPHAN = 2;

export interface ColumnForest {
  cols: TraceColumns;
  /** 1 for the first received copy of each span id; duplicates take no further part. */
  kept: Uint8Array;
  keptCount: number;
  /** Normalised end: max(end, start). Starts are `cols.startNs`. */
  endNs: Float64Array;
  /** Parent span index, -1 for roots and duplicates. */
  parent: Int32Array;
  rootKind: Uint8Array;
  roots: number;
  /** Span index of the primary root (CP-v1), -1 when there is no span. */
  primaryRoot: number;
  /** Children of span i are `children[childStart[i] .. childStart[i + 1])`, in span order. */
  childStart: Int32Array;
  children: Int32Array;
  /** Kept spans, parents before children. */
  topDown: Int32Array;
  /** Earliest start and latest (normalised) end over kept spans, as offsets like the columns'. */
  startNs: number;
  endNsMax: number;
}

/** Offsets further apart than this could round once 500 ns are added for µs rounding (time.ts nsToMs). */
const MAX_EXACT_RANGE = Number.MAX_SAFE_INTEGER - 1024;

/** Span ids compared as their hex strings compare. */
export function compareSpanIds(cols: TraceColumns, a: number, b: number): number {
  const ah = cols.spanIdHi[a]!;
  const bh = cols.spanIdHi[b]!;
  if (ah !== bh) return ah < bh ? -1 : 1;
  const al = cols.spanIdLo[a]!;
  const bl = cols.spanIdLo[b]!;
  return al < bl ? -1 : al > bl ? 1 : 0;
}

/** The forest of `cols`, or null when the trace needs the BigInt path (a parent cycle, or inexact times). */
export function buildColumnForest(cols: TraceColumns): ColumnForest | null {
  const n = cols.count;
  let size = 16;
  while (size < n * 2) size *= 2;
  const ids = new Int32Array(size).fill(-1);
  const kept = new Uint8Array(n);
  const endNs = new Float64Array(n);
  const range = dedupe(cols, ids, kept, endNs);
  if (range === null) return null;
  const parent = new Int32Array(n).fill(-1);
  const rootKind = new Uint8Array(n);
  const childStart = new Int32Array(n + 1);
  const roots = link(cols, ids, kept, parent, rootKind, childStart);
  const children = childrenOf(parent, childStart);
  const topDown = breadthFirst(roots, childStart, children, range.keptCount);
  if (topDown === null) return null;
  return {
    cols, kept, keptCount: range.keptCount, endNs, parent, rootKind, roots: roots.length, childStart, children, topDown,
    primaryRoot: choosePrimary(cols, endNs, rootKind, roots),
    startNs: range.keptCount > 0 ? range.first : 0,
    endNsMax: range.keptCount > 0 ? range.last : 0,
  };
}

// Each pass below is its own small function: the first calls on a big trace run before the JIT has
// optimised anything, and a small loop body is both cheaper to interpret and quicker to compile.

/** Open-addressing hash of a 64-bit id (the table is a power of two; collisions probe linearly). */
function hashId(hi: number, lo: number): number {
  const h = Math.imul(hi ^ Math.imul(lo, 0x9e3779b1), 0x85ebca6b);
  return h ^ (h >>> 15);
}

/**
 * Normalises ends (max(end, start)), keeps the first received copy of each id (indexing it in `ids`),
 * and checks that times stay exact; null when they may not (the columns hold integers, so a range
 * check is an exactness check).
 */
function dedupe(cols: TraceColumns, ids: Int32Array, kept: Uint8Array, endNs: Float64Array): { keptCount: number; first: number; last: number } | null {
  const { startNs, spanIdHi, spanIdLo } = cols;
  const mask = ids.length - 1;
  let keptCount = 0;
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < cols.count; i++) {
    const s = startNs[i]!;
    const e = cols.endNs[i]!;
    if (!(s >= -Number.MAX_SAFE_INTEGER && s <= Number.MAX_SAFE_INTEGER && e >= -Number.MAX_SAFE_INTEGER && e <= Number.MAX_SAFE_INTEGER)) return null;
    const end = e < s ? s : e;
    endNs[i] = end;
    const hi = spanIdHi[i]!;
    const lo = spanIdLo[i]!;
    let slot = hashId(hi, lo) & mask;
    while (ids[slot] !== -1 && (spanIdHi[ids[slot]!] !== hi || spanIdLo[ids[slot]!] !== lo)) slot = (slot + 1) & mask;
    if (ids[slot] !== -1) continue; // a later copy: the first received wins
    ids[slot] = i;
    kept[i] = 1;
    keptCount++;
    if (s < first) first = s;
    if (end > last) last = end;
  }
  return keptCount > 0 && last - first > MAX_EXACT_RANGE ? null : { keptCount, first, last };
}

/** Resolves parents and counts children (into childStart[p + 1]); returns the roots in span order. */
function link(cols: TraceColumns, ids: Int32Array, kept: Uint8Array, parent: Int32Array, rootKind: Uint8Array, childStart: Int32Array): number[] {
  const { spanIdHi, spanIdLo, parentIdHi, parentIdLo, hasParent } = cols;
  const mask = ids.length - 1;
  const roots: number[] = [];
  for (let i = 0; i < cols.count; i++) {
    if (kept[i] === 0) continue;
    const ph = parentIdHi[i]!;
    const pl = parentIdLo[i]!;
    let p = -1;
    if (hasParent[i] === 1 && (ph !== spanIdHi[i] || pl !== spanIdLo[i])) {
      let slot = hashId(ph, pl) & mask;
      while (ids[slot] !== -1 && (spanIdHi[ids[slot]!] !== ph || spanIdLo[ids[slot]!] !== pl)) slot = (slot + 1) & mask;
      p = ids[slot]!;
    }
    if (p === -1) {
      rootKind[i] = hasParent[i] === 0 ? ROOT_TRUE : ROOT_ORPHAN;
      roots.push(i);
    } else {
      parent[i] = p;
      childStart[p + 1]!++;
    }
  }
  return roots;
}

/** Turns the child counts into offsets and fills the children, in span order. */
function childrenOf(parent: Int32Array, childStart: Int32Array): Int32Array {
  const n = parent.length;
  for (let i = 0; i < n; i++) childStart[i + 1]! += childStart[i]!;
  const children = new Int32Array(childStart[n]!);
  const fill = childStart.slice(0, n);
  for (let i = 0; i < n; i++) if (parent[i] !== -1) children[fill[parent[i]!]!++] = i;
  return children;
}

/** Kept spans breadth-first from the roots; null when some kept span is not reached (it sits on a parent cycle). */
function breadthFirst(roots: readonly number[], childStart: Int32Array, children: Int32Array, keptCount: number): Int32Array | null {
  const topDown = new Int32Array(keptCount);
  let reached = 0;
  for (const r of roots) topDown[reached++] = r;
  for (let at = 0; at < reached; at++) {
    const p = topDown[at]!;
    for (let c = childStart[p]!; c < childStart[p + 1]!; c++) topDown[reached++] = children[c]!;
  }
  return reached === keptCount ? topDown : null;
}

/** CP-v1 primary root: among non-orphan roots (all roots if none) the earliest start, longest, smallest id. */
function choosePrimary(cols: TraceColumns, endNs: Float64Array, rootKind: Uint8Array, roots: readonly number[]): number {
  const anyTrue = roots.some((r) => rootKind[r] === ROOT_TRUE);
  let best = -1;
  for (const i of roots) {
    if (anyTrue && rootKind[i] !== ROOT_TRUE) continue;
    if (best === -1) {
      best = i;
      continue;
    }
    const s = cols.startNs[i]!;
    const bs = cols.startNs[best]!;
    if (s !== bs) {
      if (s < bs) best = i;
      continue;
    }
    const d = endNs[i]! - s;
    const bd = endNs[best]! - bs;
    if (d !== bd) {
      if (d > bd) best = i;
      continue;
    }
    if (compareSpanIds(cols, i, best) < 0) best = i;
  }
  return best;
}

/**
 * SELF-v1 self time of span i: its duration minus the union of all its direct children's intervals
 * clipped to it (self-time.ts, for one span; callers ask only for the spans they show).
 */
export function selfTimeOf(forest: ColumnForest, i: number): number {
  const { childStart, children, endNs } = forest;
  const starts = forest.cols.startNs;
  const s = starts[i]!;
  const e = endNs[i]!;
  const kids = children.slice(childStart[i]!, childStart[i + 1]!).sort((a, b) => starts[a]! - starts[b]!);
  let covered = 0;
  let runStart = 0;
  let runEnd = 0;
  let open = false;
  for (const c of kids) {
    const cs = starts[c]! > s ? starts[c]! : s;
    const ce = endNs[c]! < e ? endNs[c]! : e;
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
  return e - s - covered;
}
