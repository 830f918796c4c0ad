/**
 * CP-v1 (ANALYSIS.md §1.4) of one trace's primary root over TraceColumns, summarised as
 * get_critical_path shows it. Same rules, same tie-breaks and the same numbers as
 * `summarizeCriticalPath(computeCriticalPath(spans))` (the equivalence is tested on random traces), but
 * it runs over typed arrays and objects are built only for the rows and segments that are shown: on a
 * 10k-span trace the BigInt path's 10k-object forest and reports are what put GC pauses into the tool's p99.
 *
 * Times are exact integer ns offsets in doubles (trace-forest-columns.ts declines traces where they
 * would not be).
 */
import { SpanKind } from '../model/span.js';
import type { TraceColumns } from '../model/trace-columns.js';
import { CpState } from './critical-path-clip.js';
import { digestPath, idOf, msOf } from './critical-path-columns-digest.js';
import { walkColumns, type ColumnClip } from './critical-path-columns-walk.js';
import type { CriticalPathSummary, CriticalPathSummaryOptions } from './critical-path-summary.js';
import { buildColumnForest, type ColumnForest } from './trace-forest-columns.js';

/** The summary, or null when the trace needs the BigInt path (see trace-forest-columns.ts). */
export function summarizeColumns(cols: TraceColumns, options: CriticalPathSummaryOptions): CriticalPathSummary | null {
  const forest = buildColumnForest(cols);
  if (forest === null) return null;
  const adjustments = new Int32Array(3);
  const clip = clipOf(forest, adjustments);
  if (clip === null) return null;
  const [start, end] = forest.bounds;
  return {
    traceId: cols.count === 0 ? '' : cols.traceId.toLowerCase(),
    traceDurationMs: cols.count === 0 ? 0 : msOf(end! - start!),
    roots: forest.roots.length,
    primaryRootSpanId: forest.primaryRoot === -1 ? null : idOf(cols, forest.primaryRoot),
    adjustments: { truncated: adjustments[0]!, dropped: adjustments[1]!, nonBlocking: adjustments[2]! },
    path: forest.primaryRoot === -1 ? null : digestPath(forest, walkColumns(forest, clip, forest.primaryRoot), options),
  };
}

/**
 * The CP-v1 clip of every span (critical-path-clip.ts clipForest over columns), counting truncated,
 * dropped and non-blocking spans into `counts`; null when some span sits on a parent cycle.
 */
export function clipOf(forest: ColumnForest, counts: Int32Array = new Int32Array(3)): ColumnClip | null {
  const clip: ColumnClip = { startNs: Float64Array.from(forest.cols.startNs), endNs: Float64Array.from(forest.endNs), state: new Uint8Array(forest.cols.count) };
  return clipColumns(forest, clip, counts) === forest.keptCount ? clip : null;
}

/**
 * critical-path-clip.ts clipForest over columns, in place on `clip` (which starts as the spans' own
 * intervals), breadth-first from the roots so that each child is clipped against its parent's effective
 * interval. Counts truncated, dropped and non-blocking spans (the lists' lengths) into `counts`; returns
 * how many spans the roots reach (fewer than the kept spans: a parent cycle).
 */
function clipColumns(forest: ColumnForest, clip: ColumnClip, counts: Int32Array): number {
  const { cols, firstChild, nextSibling, roots } = forest;
  const { startNs, endNs, state } = clip;
  const queue = new Int32Array(forest.keptCount);
  let reached = 0;
  for (const r of roots) queue[reached++] = r;
  for (let at = 0; at < reached; at++) {
    const p = queue[at]!;
    for (let i = firstChild[p]!; i !== -1; i = nextSibling[i]!) {
      queue[reached++] = i;
      if (state[p] !== CpState.KEPT) {
        state[i] = state[p]!;
        continue;
      }
      if ((cols.kind[p] === SpanKind.PRODUCER && cols.kind[i] === SpanKind.CONSUMER) || (cols.links.size > 0 && followsFromParent(cols, p, i))) {
        state[i] = CpState.NON_BLOCKING;
        counts[2]!++;
        continue;
      }
      const ps = startNs[p]!;
      const pe = endNs[p]!;
      const cs = startNs[i]!;
      const ce = endNs[i]!;
      // Identical to Jaeger UI's sanitizeOverFlowingChildren table, as in critical-path-clip.ts.
      if (cs >= ps ? cs >= pe : ce <= ps) {
        state[i] = CpState.DROPPED;
        counts[1]!++;
        continue;
      }
      const s = cs < ps ? ps : cs;
      const e = ce > pe ? pe : ce;
      if (s !== cs || e !== ce) counts[0]!++;
      startNs[i] = s;
      endNs[i] = e;
    }
  }
  return reached;
}

/** The FOLLOWS_FROM half of critical-path-clip.ts isNonBlocking (the PRODUCER→CONSUMER half is inline). */
function followsFromParent(cols: TraceColumns, p: number, c: number): boolean {
  const links = cols.links.get(c);
  if (links === undefined) return false;
  const parentId = idOf(cols, p);
  const traceId = cols.traceId.toLowerCase();
  return links.some(
    (l) => l.spanId.toLowerCase() === parentId && l.traceId.toLowerCase() === traceId && l.attributes['opentracing.ref_type'] === 'follows_from',
  );
}
