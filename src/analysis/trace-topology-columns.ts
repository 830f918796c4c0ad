/**
 * The get_trace topology rows (trace-topology.ts) from a trace's columns: the same ranking, rows and
 * tree order, with objects built only for the page of rows shown (see model/trace-columns.ts for why).
 * Errors are judged from the columns as isEffectiveErrorAt says (get_trace reads the `timing` detail
 * here, as the object path does: status code and kind only).
 *
 * Declines (null) what the columnar forest cannot answer exactly: times too far apart for doubles, a
 * parent cycle (the BigInt forest cuts it), and an empty trace.
 */
import { spanIdHex, type TraceColumns } from '../model/trace-columns.js';
import { idOf } from './critical-path-columns-digest.js';
import { isEffectiveErrorAt } from './error-status.js';
import { buildColumnForest, compareSpanIds, depthsOf, selfTimesOf, type ColumnForest } from './trace-forest-columns.js';
import type { TopologyOptions, TraceTopology } from './trace-topology.js';

/** The topology of `cols`, or null when the BigInt path must answer (see above). */
export function topologyOfColumns(cols: TraceColumns, o: TopologyOptions): TraceTopology | null {
  if (cols.count === 0) return null;
  const forest = buildColumnForest(cols);
  if (forest === null) return null;
  const depth = depthsOf(forest);
  if (depth === null) return null;
  const { kept, firstChild, nextSibling } = forest;
  const self = selfTimesOf(forest);
  const error = new Uint8Array(cols.count);
  const eligible = new Int32Array(forest.keptCount);
  let total = 0;
  for (let i = 0; i < cols.count; i++) {
    if (kept[i] === 0) continue;
    if (isEffectiveErrorAt(cols, i)) error[i] = 1;
    if (o.depth === undefined || depth[i]! <= o.depth) eligible[total++] = i;
  }
  // Errors first, then self time desc, shallow first, arrival order: a total order, as the reference's.
  const ranked = eligible.subarray(0, total).sort((a, b) => error[b]! - error[a]! || self[b]! - self[a]! || depth[a]! - depth[b]! || a - b);
  const order = treeOrderOf(forest);
  const start = forest.bounds[0]!;
  const rows = Array.from(ranked.subarray(0, Math.max(0, o.limit)), (i) => {
    let children = 0;
    for (let c = firstChild[i]!; c !== -1; c = nextSibling[c]!) children++;
    return {
      spanId: idOf(cols, i), service: cols.services[cols.service[i]!]!, name: cols.names[cols.name[i]!]!,
      parentId: cols.hasParent[i] === 1 ? spanIdHex(cols.parentIdHi[i]!, cols.parentIdLo[i]!) : '',
      depth: depth[i]!, kind: cols.kind[i]!, startOffsetNs: BigInt(cols.startNs[i]! - start), durationNs: BigInt(forest.endNs[i]! - cols.startNs[i]!),
      selfNs: BigInt(self[i]!), error: error[i] === 1, children, treeOrder: order[i]!,
    };
  });
  return { traceId: cols.traceId.toLowerCase(), spanCount: forest.keptCount, total, rows };
}

/**
 * Position of each kept span in the reference's depth-first walk: roots, then each span's children, by
 * (start asc, span id asc). Iterative, with the children of one span sorted in a shared buffer and
 * pushed last-first onto one stack.
 */
function treeOrderOf(forest: ColumnForest): Int32Array {
  const { cols, firstChild, nextSibling } = forest;
  const order = new Int32Array(cols.count);
  const stack = new Int32Array(forest.keptCount);
  const kids = new Int32Array(forest.keptCount);
  const byStartThenId = (a: number, b: number): number => cols.startNs[a]! - cols.startNs[b]! || compareSpanIds(cols, a, b);
  let sp = 0;
  const roots = Int32Array.from(forest.roots).sort(byStartThenId);
  for (let r = roots.length - 1; r >= 0; r--) stack[sp++] = roots[r]!;
  let next = 0;
  while (sp > 0) {
    const i = stack[--sp]!;
    order[i] = next++;
    let m = 0;
    for (let c = firstChild[i]!; c !== -1; c = nextSibling[c]!) kids[m++] = c;
    if (m > 16) kids.subarray(0, m).sort(byStartThenId);
    else {
      for (let k = 1; k < m; k++) {
        const x = kids[k]!;
        let at = k;
        for (; at > 0 && byStartThenId(kids[at - 1]!, x) > 0; at--) kids[at] = kids[at - 1]!;
        kids[at] = x;
      }
    }
    for (let k = m - 1; k >= 0; k--) stack[sp++] = kids[k]!;
  }
  return order;
}
