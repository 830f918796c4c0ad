/**
 * The get_trace summary (trace-summary.ts) from a trace's columns: the same numbers, order and ties, with
 * objects and strings built only for the rows it reports. As TraceSpans and forest nodes, a 1k-span trace
 * is thousands of objects and BigInts that are garbage by the end of the call; the GC pauses they cause,
 * not the arithmetic, are what set the tool's p99 (model/trace-columns.ts).
 *
 * Errors are judged from what the columns hold, as isEffectiveError judges the TraceSpans of the same
 * read: status code and kind for every span, attributes only for the spans in `errorDetails` (get_trace
 * reads the `errors` detail, so those are the spans getTraceSpans(`errors`) decodes in full).
 *
 * Declines (null) what the columnar forest cannot answer exactly: times too far apart for doubles, a
 * parent cycle (the BigInt forest cuts it), and an empty trace (the tool reports that as not stored).
 */
import type { TraceColumns } from '../model/trace-columns.js';
import { clipOf } from './critical-path-columns.js';
import { idOf, topSpansOf } from './critical-path-columns-digest.js';
import { walkColumns } from './critical-path-columns-walk.js';
import { exceptionOf, isEffectiveErrorAt } from './error-status.js';
import { buildColumnForest, depthsOf, selfTimesOf } from './trace-forest-columns.js';
import { SUMMARY_ROWS, type TraceServiceRow, type TraceSpanRef, type TraceSummary } from './trace-summary.js';

/** The summary of `cols`, or null when the BigInt path must answer (see above). */
export function summarizeTraceColumns(cols: TraceColumns, k = SUMMARY_ROWS): TraceSummary | null {
  if (cols.count === 0) return null;
  const forest = buildColumnForest(cols);
  if (forest === null) return null;
  const depth = depthsOf(forest);
  const clip = depth === null ? null : clipOf(forest);
  if (depth === null || clip === null) return null;
  const { kept } = forest;
  const self = selfTimesOf(forest);

  // One pass over the kept spans (arrival order = the forest's node order) for every count and ranking.
  const serviceCount = cols.services.length;
  const spans = new Int32Array(serviceCount);
  const errors = new Int32Array(serviceCount);
  const first = new Int32Array(serviceCount).fill(-1);
  const deepestErrors: number[] = [];
  const mostSelf: number[] = [];
  const deeper = (a: number, b: number): boolean => depth[a]! > depth[b]!;
  const moreSelf = (a: number, b: number): boolean => self[a]! > self[b]!;
  let errorSpans = 0;
  let maxDepth = 0;
  for (let i = 0; i < cols.count; i++) {
    if (kept[i] === 0) continue;
    const s = cols.service[i]!;
    if (first[s] === -1) first[s] = i;
    spans[s]!++;
    if (depth[i]! > maxDepth) maxDepth = depth[i]!;
    if (isEffectiveErrorAt(cols, i)) {
      errors[s]!++;
      errorSpans++;
      offer(deepestErrors, i, k, deeper);
    }
    offer(mostSelf, i, k, moreSelf);
  }

  const root = forest.primaryRoot;
  const path = walkColumns(forest, clip, root);
  const ref = (i: number): TraceSpanRef => ({ spanId: idOf(cols, i), service: cols.services[cols.service[i]!]!, name: cols.names[cols.name[i]!]! });
  const [start, end] = forest.bounds;
  return {
    traceId: cols.traceId.toLowerCase(),
    startNs: cols.baseNs + BigInt(start!),
    durationNs: BigInt(end! - start!),
    spanCount: forest.keptCount,
    maxDepth,
    root: { ...ref(root), durationNs: BigInt(forest.endNs[root]! - cols.startNs[root]!), orphan: cols.hasParent[root] === 1 },
    roots: forest.roots.length,
    services: serviceRows(cols, spans, errors, first),
    errorSpans,
    errors: deepestErrors.map((i) => {
      const d = cols.errorDetails?.get(i);
      return { ...ref(i), statusMessage: d?.statusMessage ?? '', exceptionType: d ? (exceptionOf(d)?.type ?? null) : null };
    }),
    topSelfTime: mostSelf.map((i) => ({ ...ref(i), selfNs: BigInt(self[i]!) })),
    criticalPath: topSpansOf(cols, path, k).map((i) => ({ ...ref(i), criticalNs: BigInt(path.criticalNs[i]!) })),
  };
}

/**
 * Keeps `top` the best `k` offered so far, best first; offered in arrival order, so an equal one goes
 * after those already there (the stable sort of the reference).
 */
function offer(top: number[], x: number, k: number, better: (a: number, b: number) => boolean): void {
  let at = top.length;
  while (at > 0 && better(x, top[at - 1]!)) at--;
  if (at >= k) return;
  top.splice(at, 0, x);
  if (top.length > k) top.pop();
}

/**
 * Service rows in the reference's order: rows keyed by name in order of first appearance among the kept
 * spans (a later duplicate copy may have named a service first), then errors desc, spans desc.
 */
function serviceRows(cols: TraceColumns, spans: Int32Array, errors: Int32Array, first: Int32Array): TraceServiceRow[] {
  const seen: number[] = [];
  first.forEach((at, s) => {
    if (at !== -1) seen.push(s);
  });
  seen.sort((a, b) => first[a]! - first[b]!);
  const rows = new Map<string, TraceServiceRow>();
  for (const s of seen) {
    const service = cols.services[s]!;
    const row = rows.get(service) ?? { service, spans: 0, errors: 0 };
    row.spans += spans[s]!;
    row.errors += errors[s]!;
    rows.set(service, row);
  }
  return [...rows.values()].sort((a, b) => b.errors - a.errors || b.spans - a.spans);
}
