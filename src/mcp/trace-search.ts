import { z } from 'zod';
import { buildTraceForest } from '../analysis/trace-tree.js';
import { computeSelfTimes } from '../analysis/self-time.js';
import type { TraceSummary } from '../store/ports.js';
import type { McpDeps } from './deps.js';
import { unknownServiceError } from './errors.js';
import { compilePredicates, type Predicate } from './predicates.js';
import { iso, msFromNs } from './result.js';
import type { ResolvedRange } from './time-input.js';
import { readTracesInSlices } from './deadline.js';

export const traceRowSchema = z.looseObject({}).describe('trace_id, duration_ms, root_service, root_operation, error_count, start, has_root, span_count, top_self_time {span_id, service, operation, self_ms}');
export interface TraceRow {
  trace_id: string;
  start: string;
  duration_ms: number;
  root_service: string;
  root_operation: string;
  has_root: boolean;
  span_count: number;
  error_count: number;
  top_self_time?: { span_id: string; service: string; operation: string; self_ms: number } | null;
}

export interface TraceSearchArgs {
  service?: string | undefined;
  operation?: string | undefined;
  min_duration_ms?: number | undefined;
  max_duration_ms?: number | undefined;
  error?: boolean | undefined;
  where?: Predicate[] | undefined;
  sort?: 'newest' | 'slowest' | undefined;
}

const ns = (ms: number): bigint => BigInt(Math.round(ms * 1e6));

/**
 * Matching traces, ordered, with the page [offset, offset+limit) enriched with its top self-time span.
 * Without predicates or a slowest-first sort the store answers exactly what is needed; otherwise the
 * newest maxAnalysisTraces candidates are scanned (`bounded`).
 */
export async function searchTraceRows(deps: McpDeps, a: TraceSearchArgs, range: ResolvedRange, offset: number, limit: number): Promise<{ rows: TraceRow[]; scanned: number; bounded: boolean }> {
  const wide = a.where !== undefined || a.sort === 'slowest' || a.error === false;
  const fetch = wide ? deps.limits.maxAnalysisTraces : offset + limit + 1;
  const found = await deps.spans.searchTraces({
    ...(a.service !== undefined ? { service: a.service } : {}),
    ...(a.operation !== undefined ? { operation: a.operation } : {}),
    ...(a.min_duration_ms !== undefined ? { minDurationNs: ns(a.min_duration_ms) } : {}),
    ...(a.max_duration_ms !== undefined ? { maxDurationNs: ns(a.max_duration_ms) } : {}),
    ...(a.error === true ? { errorsOnly: true } : {}),
    startNs: range.startNs, endNs: range.endNs, limit: fetch,
  });
  if (found === null) throw await unknownServiceError(deps.spans, a.service as string);
  let matches: TraceSummary[] = a.error === false ? found.filter((t) => t.errorCount === 0) : found;
  if (a.where !== undefined) {
    const test = compilePredicates(a.where);
    const decoded = await readTracesInSlices(deps.spans, matches.map((t) => t.traceId), 'full');
    matches = matches.filter((t) => (decoded.get(t.traceId) ?? []).some((s) => (a.service === undefined || s.service === a.service) && (a.operation === undefined || s.name === a.operation) && test(s)));
  }
  if (a.sort === 'slowest') matches = [...matches].sort((x, y) => (y.durationNs > x.durationNs ? 1 : y.durationNs < x.durationNs ? -1 : 0));
  const rows: TraceRow[] = matches.map((t) => ({
    trace_id: t.traceId, start: iso(Number(t.startNs / 1_000_000n)), duration_ms: msFromNs(t.durationNs), root_service: t.rootService, root_operation: t.rootOperation,
    has_root: t.hasRoot, span_count: t.spanCount, error_count: t.errorCount,
  }));
  const page = rows.slice(offset, offset + limit);
  const spans = await deps.spans.getTracesSpans(page.map((r) => r.trace_id), { detail: 'timing' });
  for (const row of page) {
    const forest = buildTraceForest(spans.get(row.trace_id) ?? []);
    const self = computeSelfTimes(forest);
    let best = -1;
    for (let i = 0; i < self.length; i++) if (best < 0 || (self[i] as bigint) > (self[best] as bigint)) best = i;
    const n = forest.nodes[best];
    row.top_self_time = n ? { span_id: n.spanId, service: n.span.service, operation: n.span.name, self_ms: msFromNs(self[best] as bigint) } : null;
  }
  return { rows, scanned: found.length, bounded: wide && found.length >= fetch };
}
