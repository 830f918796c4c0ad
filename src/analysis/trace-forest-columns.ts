/**
 * The CP-v1 forest (ANALYSIS.md §1.4 "Normalisation" and "Forest") over TraceColumns: the same tree
 * buildTraceForest makes, as typed arrays indexed by span position, so that a 10k-span trace costs a
 * few dozen allocations instead of tens of thousands (see model/trace-columns.ts for why).
 *
 * It covers what a well-formed trace needs and declines the rest: a trace with times too far apart to
 * stay exact in doubles yields null here, one with a parent cycle yields null when clipped
 * (critical-path-columns.ts), and the caller then takes the BigInt path (trace-tree.ts), which handles
 * everything. Neither happens in traces a working SDK produces.
 *
 * Two passes over the spans build it (ids, then parents); children are kept as sibling lists rather than
 * sorted arrays because every consumer orders them itself. Few passes and plain loops matter here: the
 * first calls on a big trace run before the JIT has optimised anything, where each pass and each call costs.
 */
import type { TraceColumns } from '../model/trace-columns.js';

export interface ColumnForest {
  cols: TraceColumns;
  /** Spans that are the first received copy of their id; later copies take no further part. */
  keptCount: number;
  /** 1 for a kept span (the first received copy of its id), 0 for a later copy. */
  kept: Uint8Array;
  /** Normalised end: max(end, start). Starts are `cols.startNs`. */
  endNs: Float64Array;
  /** Children of span i: firstChild[i], then nextSibling[...] until -1 (in no particular order). */
  firstChild: Int32Array;
  nextSibling: Int32Array;
  /** Root span indexes (true roots and orphans). */
  roots: number[];
  /** Span index of the primary root (CP-v1), -1 when there is no span. */
  primaryRoot: number;
  /** Earliest start and latest (normalised) end over kept spans, as offsets like the columns'. */
  bounds: Float64Array;
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

/** The forest of `cols`, or null when its times may not be exact in doubles. */
export function buildColumnForest(cols: TraceColumns): ColumnForest | null {
  const n = cols.count;
  let size = 16;
  while (size < n * 2) size *= 2;
  const ids = new Int32Array(size).fill(-1);
  const endNs = new Float64Array(n);
  // Doubles in an array rather than object fields: their representation must not change between calls.
  const bounds = new Float64Array(2);
  const kept = new Uint8Array(n);
  const keptCount = indexIds(cols, ids, kept, endNs, bounds);
  if (keptCount < 0 || (keptCount > 0 && bounds[1]! - bounds[0]! > MAX_EXACT_RANGE)) return null;
  const firstChild = new Int32Array(n).fill(-1);
  const nextSibling = new Int32Array(n).fill(-1);
  const orphan = new Uint8Array(n);
  const roots = linkParents(cols, ids, kept, firstChild, nextSibling, orphan);
  return { cols, keptCount, kept, endNs, firstChild, nextSibling, roots, primaryRoot: choosePrimary(cols, endNs, orphan, roots), bounds };
}

/** Open-addressing hash of a 64-bit id; the table's size is a power of two, collisions probe linearly. */
function hashId(hi: number, lo: number): number {
  const h = Math.imul(hi ^ Math.imul(lo, 0x9e3779b1), 0x85ebca6b);
  return h ^ (h >>> 15);
}

/**
 * Indexes each id's first received copy in `ids` and marks it in `kept` (later copies are left out),
 * normalises ends, and records the kept spans' earliest start and latest end. Returns the number of
 * kept spans, or -1 when a time is out of the exact range (the columns hold integers, so a range check
 * is an exactness check).
 */
function indexIds(cols: TraceColumns, ids: Int32Array, kept: Uint8Array, endNs: Float64Array, bounds: Float64Array): number {
  const { startNs, spanIdHi, spanIdLo } = cols;
  const mask = ids.length - 1;
  const max = Number.MAX_SAFE_INTEGER;
  let count = 0;
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < cols.count; i++) {
    const s = startNs[i]!;
    const e = cols.endNs[i]!;
    if (!(s >= -max && s <= max && e >= -max && e <= max)) return -1;
    const end = e < s ? s : e;
    endNs[i] = end;
    const hi = spanIdHi[i]!;
    const lo = spanIdLo[i]!;
    let slot = hashId(hi, lo) & mask;
    while (ids[slot] !== -1 && (spanIdHi[ids[slot]!] !== hi || spanIdLo[ids[slot]!] !== lo)) slot = (slot + 1) & mask;
    if (ids[slot] !== -1) continue;
    ids[slot] = i;
    kept[i] = 1;
    count++;
    if (s < first) first = s;
    if (end > last) last = end;
  }
  bounds[0] = first;
  bounds[1] = last;
  return count;
}

/** Links every kept span to its parent's child list; returns the roots (no parent, self parent, missing parent), marking orphans. */
function linkParents(cols: TraceColumns, ids: Int32Array, kept: Uint8Array, firstChild: Int32Array, nextSibling: Int32Array, orphan: Uint8Array): number[] {
  const { spanIdHi, spanIdLo, parentIdHi, parentIdLo, hasParent } = cols;
  const mask = ids.length - 1;
  const roots: number[] = [];
  for (let i = 0; i < cols.count; i++) {
    if (kept[i] === 0) continue;
    if (hasParent[i] === 0) {
      roots.push(i);
      continue;
    }
    const ph = parentIdHi[i]!;
    const pl = parentIdLo[i]!;
    let p = -1;
    if (ph !== spanIdHi[i] || pl !== spanIdLo[i]) {
      let slot = hashId(ph, pl) & mask;
      while (ids[slot] !== -1 && (spanIdHi[ids[slot]!] !== ph || spanIdLo[ids[slot]!] !== pl)) slot = (slot + 1) & mask;
      p = ids[slot]!;
    }
    if (p === -1) {
      orphan[i] = 1;
      roots.push(i);
    } else {
      nextSibling[i] = firstChild[p]!;
      firstChild[p] = i;
    }
  }
  return roots;
}

/** CP-v1 primary root: among non-orphan roots (all roots if none) the earliest start, longest, smallest id. */
function choosePrimary(cols: TraceColumns, endNs: Float64Array, orphan: Uint8Array, roots: readonly number[]): number {
  const anyTrue = roots.some((r) => orphan[r] === 0);
  let best = -1;
  for (const i of roots) {
    if (anyTrue && orphan[i] === 1) continue;
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
  const kids: number[] = [];
  for (let c = forest.firstChild[i]!; c !== -1; c = forest.nextSibling[c]!) kids.push(c);
  const starts = forest.cols.startNs;
  kids.sort((a, b) => starts[a]! - starts[b]!);
  return uncoveredNs(forest, i, kids, kids.length);
}

/** Span i's duration minus the union of its children `kids[0, m)` (sorted by start) clipped to it. */
function uncoveredNs(forest: ColumnForest, i: number, kids: ArrayLike<number>, m: number): number {
  const { endNs } = forest;
  const starts = forest.cols.startNs;
  const s = starts[i]!;
  const e = endNs[i]!;
  let covered = 0;
  let runStart = 0;
  let runEnd = 0;
  let open = false;
  for (let k = 0; k < m; k++) {
    const c = kids[k]!;
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

/**
 * Distance of every kept span from its root (trace-tree.ts `depth`), breadth-first from the roots; null
 * when the roots do not reach every kept span, i.e. some sit on a parent cycle (the BigInt path cuts it).
 */
export function depthsOf(forest: ColumnForest): Int32Array | null {
  const { firstChild, nextSibling, roots } = forest;
  const depth = new Int32Array(forest.cols.count);
  const queue = new Int32Array(forest.keptCount);
  let reached = 0;
  for (const r of roots) queue[reached++] = r;
  for (let at = 0; at < reached; at++) {
    const p = queue[at]!;
    const d = depth[p]! + 1;
    for (let c = firstChild[p]!; c !== -1; c = nextSibling[c]!) {
      depth[c] = d;
      queue[reached++] = c;
    }
  }
  return reached === forest.keptCount ? depth : null;
}

/**
 * SELF-v1 self time of every kept span (self-time.ts computeSelfTimes; 0 for later copies of an id):
 * one sweep per span over its children by start, in a buffer shared by all spans instead of an array each.
 */
export function selfTimesOf(forest: ColumnForest): Float64Array {
  const { cols, firstChild, nextSibling, kept } = forest;
  const starts = cols.startNs;
  const self = new Float64Array(cols.count);
  const kids = new Int32Array(forest.keptCount);
  for (let i = 0; i < cols.count; i++) {
    if (kept[i] === 0) continue;
    let m = 0;
    for (let c = firstChild[i]!; c !== -1; c = nextSibling[c]!) kids[m++] = c;
    if (m > 1) sortByStart(starts, kids, m);
    self[i] = uncoveredNs(forest, i, kids, m);
  }
  return self;
}

/** `order[0..m)` by start ascending (ties in any order: the union swept above does not depend on it). */
function sortByStart(starts: Float64Array, order: Int32Array, m: number): void {
  if (m > 32) {
    order.subarray(0, m).sort((a, b) => starts[a]! - starts[b]!);
    return;
  }
  for (let k = 1; k < m; k++) {
    const x = order[k]!;
    const sx = starts[x]!;
    let at = k;
    for (; at > 0 && starts[order[at - 1]!]! > sx; at--) order[at] = order[at - 1]!;
    order[at] = x;
  }
}
