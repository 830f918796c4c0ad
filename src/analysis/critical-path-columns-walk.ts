/**
 * The CP-v1 back-walk (critical-path.ts `walk` + `canonical`) over a ColumnForest: same frames, same walk
 * order, same `<=` rule, with the stack and the output in typed arrays.
 *
 * One pass: the walk never emits an empty segment (both emits are guarded by a strict `<`), so
 * canonicalising reduces to merging a segment into its same-span neighbour, which is done as segments
 * are emitted; critical time and the spans on the path are summed on the way. Loops avoid closures and
 * per-element calls: on a big trace the first calls run before the JIT has optimised anything.
 */
import { CpState } from './critical-path-clip.js';
import { compareSpanIds, type ColumnForest } from './trace-forest-columns.js';

/** Effective (clipped) interval and CpState per span, as critical-path-clip.ts computes them. */
export interface ColumnClip {
  startNs: Float64Array;
  endNs: Float64Array;
  state: Uint8Array;
}

/** Canonical segments of one root's path as parallel arrays, in REVERSE chronological order (index 0 is the last). */
export interface ColumnPath {
  count: number;
  span: Int32Array;
  startNs: Float64Array;
  endNs: Float64Array;
  /** Critical ns per span index. */
  criticalNs: Float64Array;
  /** Distinct spans on the path. */
  onPath: Int32Array;
  /** The root's duration. */
  totalNs: number;
}

/** The canonical critical path of `root`. */
export function walkColumns(forest: ColumnForest, clip: ColumnClip, root: number): ColumnPath {
  const { firstChild, nextSibling } = forest;
  const { startNs: cs, endNs: ce, state } = clip;
  const n = forest.keptCount;
  // Each frame's kept children, walk-ordered, in a region of `kids`; regions are freed as frames pop.
  const kids = new Int32Array(n);
  let kidsTop = 0;
  const fNode = new Int32Array(n);
  const fFrom = new Int32Array(n);
  const fNext = new Int32Array(n);
  const fEnd = new Int32Array(n);
  const fLo = new Float64Array(n);
  const fCursor = new Float64Array(n);
  // Each visited span emits at most one gap per critical child plus its own tail: ≤ 2 per span.
  const span = new Int32Array(2 * n + 1);
  const startNs = new Float64Array(2 * n + 1);
  const endNs = new Float64Array(2 * n + 1);
  const criticalNs = new Float64Array(forest.cols.count);
  const seen = new Uint8Array(forest.cols.count);
  const onPath = new Int32Array(n);
  let m = 0;
  let distinct = 0;
  let sp = 0;
  let node = root;
  for (;;) {
    let emit = -1;
    let s = 0;
    let e = 0;
    if (node !== -1) {
      const from = kidsTop;
      for (let c = firstChild[node]!; c !== -1; c = nextSibling[c]!) if (state[c] === CpState.KEPT) kids[kidsTop++] = c;
      if (kidsTop === from) {
        // Most spans are leaves: a frame would only emit the whole interval and pop, so emit it directly.
        if (cs[node]! < ce[node]!) {
          emit = node;
          s = cs[node]!;
          e = ce[node]!;
        }
      } else {
        if (kidsTop - from > 1) sortWalkOrder(forest, clip, kids, from, kidsTop);
        fNode[sp] = node;
        fFrom[sp] = from;
        fNext[sp] = from;
        fEnd[sp] = kidsTop;
        fLo[sp] = cs[node]!;
        fCursor[sp++] = ce[node]!;
      }
      node = -1;
    } else if (sp === 0) {
      break;
    } else {
      const f = sp - 1;
      if (fNext[f]! < fEnd[f]!) {
        const c = kids[fNext[f]!++]!;
        const end = ce[c]!;
        // Still running when the later critical sibling started: not critical. Touching (==) is sequential.
        if (end > fCursor[f]!) continue;
        if (end < fCursor[f]!) {
          emit = fNode[f]!;
          s = end;
          e = fCursor[f]!;
        }
        fCursor[f] = cs[c]!;
        node = c;
      } else {
        if (fLo[f]! < fCursor[f]!) {
          emit = fNode[f]!;
          s = fLo[f]!;
          e = fCursor[f]!;
        }
        kidsTop = fFrom[f]!;
        sp--;
      }
    }
    if (emit === -1) continue;
    criticalNs[emit]! += e - s;
    if (seen[emit] === 0) {
      seen[emit] = 1;
      onPath[distinct++] = emit;
    }
    // Emitted back to front: this segment precedes the previous one; same span and touching → one segment.
    if (m > 0 && span[m - 1] === emit && startNs[m - 1] === e) {
      startNs[m - 1] = s;
      continue;
    }
    span[m] = emit;
    startNs[m] = s;
    endNs[m++] = e;
  }
  return { count: m, span, startNs, endNs, criticalNs, onPath: onPath.subarray(0, distinct), totalNs: forest.endNs[root]! - forest.cols.startNs[root]! };
}

/** CP-v1 walk order (end desc, start asc, spanId asc) of `order[from..to)`: insertion sort for the usual few children. */
function sortWalkOrder(forest: ColumnForest, clip: ColumnClip, order: Int32Array, from: number, to: number): void {
  const { startNs: cs, endNs: ce } = clip;
  const { spanIdHi: hi, spanIdLo: lo } = forest.cols;
  if (to - from > 32) {
    order.subarray(from, to).sort((a, b) => (ce[a] !== ce[b] ? (ce[a]! > ce[b]! ? -1 : 1) : cs[a] !== cs[b] ? (cs[a]! < cs[b]! ? -1 : 1) : compareSpanIds(forest.cols, a, b)));
    return;
  }
  for (let k = from + 1; k < to; k++) {
    const x = order[k]!;
    let at = k;
    for (; at > from; at--) {
      const y = order[at - 1]!;
      const before = ce[x] !== ce[y] ? ce[x]! > ce[y]! : cs[x] !== cs[y] ? cs[x]! < cs[y]! : hi[x] !== hi[y] ? hi[x]! < hi[y]! : lo[x]! < lo[y]!;
      if (!before) break;
      order[at] = y;
    }
    order[at] = x;
  }
}
