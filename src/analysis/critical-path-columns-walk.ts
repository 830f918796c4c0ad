/**
 * The CP-v1 back-walk (critical-path.ts `walk` and `canonical`) over a ColumnForest: same frames, same
 * walk order, same `<=` rule, with the stack and the output in typed arrays.
 *
 * Loops here avoid closures and per-element calls, and each pass is its own small function: on a big
 * trace the first calls run before the JIT has optimised anything (where every call costs) and a small
 * function is quicker to compile, so this is what keeps the first calls after start near the later ones.
 */
import { CpState } from './critical-path-clip.js';
import { compareSpanIds, type ColumnForest } from './trace-forest-columns.js';

/** Effective (clipped) interval and CpState per span, as critical-path-clip.ts computes them. */
export interface ColumnClip {
  startNs: Float64Array;
  endNs: Float64Array;
  state: Uint8Array;
}

/** Raw walk output: segments in reverse chronological order, possibly empty or mergeable. */
interface RawSegments {
  count: number;
  span: Int32Array;
  startNs: Float64Array;
  endNs: Float64Array;
}

/** Canonical segments of one root's path, chronological, as parallel arrays. */
export interface ColumnPath {
  count: number;
  span: Int32Array;
  startNs: Float64Array;
  endNs: Float64Array;
  /** Critical ns per span index. */
  criticalNs: Float64Array;
  /** Distinct spans on the path, in first-segment order. */
  onPath: Int32Array;
  /** The root's duration. */
  totalNs: number;
}

/** The canonical critical path of `root`. */
export function walkColumns(forest: ColumnForest, clip: ColumnClip, root: number): ColumnPath {
  const raw = walk(forest, clip, root);
  const path = canonical(forest.cols.count, raw);
  return { ...path, totalNs: forest.endNs[root]! - forest.cols.startNs[root]! };
}

function walk(forest: ColumnForest, clip: ColumnClip, root: number): RawSegments {
  const { childStart, children } = forest;
  const { startNs: cs, endNs: ce, state } = clip;
  const order = new Int32Array(children.length);
  const n = forest.keptCount;
  const fNode = new Int32Array(n);
  const fNext = new Int32Array(n);
  const fEnd = new Int32Array(n);
  const fLo = new Float64Array(n);
  const fCursor = new Float64Array(n);
  // Each visited span emits at most one gap per critical child plus its own tail: ≤ 2 per span.
  const span = new Int32Array(2 * n + 1);
  const startNs = new Float64Array(2 * n + 1);
  const endNs = new Float64Array(2 * n + 1);
  let out = 0;
  let sp = 0;
  for (let node = root; node !== -1; ) {
    const from = childStart[node]!;
    let to = from;
    for (let k = from; k < childStart[node + 1]!; k++) if (state[children[k]!] === CpState.KEPT) order[to++] = children[k]!;
    if (to === from) {
      // Most spans are leaves: a frame would only emit the whole interval and pop, so emit it directly.
      if (cs[node]! < ce[node]!) {
        span[out] = node;
        startNs[out] = cs[node]!;
        endNs[out++] = ce[node]!;
      }
    } else {
      if (to - from > 1) sortWalkOrder(forest, clip, order, from, to);
      fNode[sp] = node;
      fNext[sp] = from;
      fEnd[sp] = to;
      fLo[sp] = cs[node]!;
      fCursor[sp++] = ce[node]!;
    }
    node = -1;
    while (sp > 0 && node === -1) {
      const f = sp - 1;
      if (fNext[f]! < fEnd[f]!) {
        const c = order[fNext[f]!++]!;
        const end = ce[c]!;
        // Still running when the later critical sibling started; touching (==) counts as sequential.
        if (end > fCursor[f]!) continue;
        if (end < fCursor[f]!) {
          span[out] = fNode[f]!;
          startNs[out] = end;
          endNs[out++] = fCursor[f]!;
        }
        fCursor[f] = cs[c]!;
        node = c;
      } else {
        if (fLo[f]! < fCursor[f]!) {
          span[out] = fNode[f]!;
          startNs[out] = fLo[f]!;
          endNs[out++] = fCursor[f]!;
        }
        sp--;
      }
    }
  }
  return { count: out, span, startNs, endNs };
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

/** Reverse-chronological raw segments → canonical ones: drop empty, merge same-span neighbours; critical time per span. */
function canonical(spans: number, raw: RawSegments): Omit<ColumnPath, 'totalNs'> {
  const span = new Int32Array(raw.count);
  const startNs = new Float64Array(raw.count);
  const endNs = new Float64Array(raw.count);
  const criticalNs = new Float64Array(spans);
  const seen = new Uint8Array(spans);
  const onPath = new Int32Array(raw.count);
  let m = 0;
  let distinct = 0;
  for (let r = raw.count - 1; r >= 0; r--) {
    const s = raw.startNs[r]!;
    const e = raw.endNs[r]!;
    const node = raw.span[r]!;
    if (e <= s) continue;
    criticalNs[node]! += e - s;
    if (seen[node] === 0) {
      seen[node] = 1;
      onPath[distinct++] = node;
    }
    if (m > 0 && span[m - 1] === node && endNs[m - 1] === s) {
      endNs[m - 1] = e;
      continue;
    }
    span[m] = node;
    startNs[m] = s;
    endNs[m++] = e;
  }
  return { count: m, span, startNs, endNs, criticalNs, onPath: onPath.subarray(0, distinct) };
}
