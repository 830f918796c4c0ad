import { z } from 'zod';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { TraceForest, TraceNode } from '../analysis/trace-tree.js';
import { isEffectiveError } from '../analysis/error-status.js';
import { topBySelf } from '../analysis/self-time.js';
import type { TraceSpanRef, TraceSummary } from '../analysis/trace-summary.js';
import type { TraceTopology } from '../analysis/trace-topology.js';
import type { AttributeValue, Attributes } from '../model/trace.js';
import { kindName } from './operations.js';
import { boundedResult, clipText, iso, msFromNs, round } from './result.js';
import { ToolError } from './errors.js';

export const summarySchema = z.looseObject({}).describe('duration_ms, span_count, error_spans, start, max_depth, root, roots, services[], errors[] (deepest first), top_self_time[], critical_path[]');
export const topologySchema = z.looseObject({}).describe('span_id, parent_id, depth, service, operation, duration_ms, kind, start_offset_ms, self_ms, error, children');
export const spanDetailSchema = z.looseObject({}).describe('span_id, service, operation, duration_ms, status, parent_id, kind, start, start_offset_ms, self_ms, status_message, effective_error, attributes, resource, events, links');
type SpanDetail = z.infer<typeof spanDetailSchema>;

const ref = (n: TraceNode): { span_id: string; service: string; operation: string } => ({ span_id: n.spanId, service: n.span.service, operation: n.span.name });
const spanRef = (r: TraceSpanRef): { span_id: string; service: string; operation: string } => ({ span_id: r.spanId, service: r.service, operation: r.name });
const STATUS = ['unset', 'ok', 'error'] as const;

/** The summary view of a TraceSummary (from the columns or the BigInt forest: they are equal). */
export function summaryView(s: TraceSummary, budget: number): CallToolResult {
  const root = s.root;
  const summary = {
    start: iso(Number(s.startNs / 1_000_000n)), duration_ms: msFromNs(s.durationNs), span_count: s.spanCount,
    max_depth: s.maxDepth,
    root: root ? { ...spanRef(root), duration_ms: msFromNs(root.durationNs), orphan: root.orphan } : null,
    roots: s.roots,
    services: s.services.map(({ service, spans, errors }) => ({ service, spans, errors })),
    error_spans: s.errorSpans,
    errors: s.errors.map((e) => ({ ...spanRef(e), message: e.statusMessage ? clipText(e.statusMessage) : null, exception_type: e.exceptionType })),
    top_self_time: s.topSelfTime.map((t) => ({ ...spanRef(t), self_ms: msFromNs(t.selfNs) })),
    critical_path: s.criticalPath.map((c) => ({
      ...spanRef(c), critical_ms: msFromNs(c.criticalNs), share: root && root.durationNs > 0n ? round(Number(c.criticalNs) / Number(root.durationNs)) : 0,
    })),
  };
  const traceId = s.traceId;
  return boundedResult({
    rows: summary.services, offset: 0, limit: 20, budget, meta: { precision: 'exact' },
    build: (page) => ({ trace_id: traceId, view: 'summary', summary: { ...summary, services: page } }),
    summary: () => `Trace ${traceId}: ${summary.duration_ms} ms, ${s.spanCount} spans in ${s.services.length} services, ${s.errorSpans} error spans` +
      (summary.critical_path[0] ? `; most critical: ${summary.critical_path[0].service} "${summary.critical_path[0].operation}" ${summary.critical_path[0].critical_ms} ms.` : '.'),
    hints: [`get_critical_path(trace_id="${traceId}")`, `get_trace(trace_id="${traceId}", view="topology")`],
  });
}

/** The topology view of ranked rows (from the columns or the BigInt forest: they are equal); a page is shown in tree order. */
export function topologyView(t: TraceTopology, o: { maxSpans: number; budget: number }): CallToolResult {
  return boundedResult({
    rows: t.rows, total: t.total, offset: 0, limit: o.maxSpans, limitArg: 'max_spans', budget: o.budget, meta: { precision: 'exact' },
    build: (page) => ({
      trace_id: t.traceId, view: 'topology',
      // Fields spelled out, not spread from spanRef: on Node 20 a spread followed by more fields made each
      // row ~80× slower to build, and fitting the byte budget builds the page up to ~8 times.
      topology: [...page].sort((a, b) => a.treeOrder - b.treeOrder).map((r) => ({
        span_id: r.spanId, service: r.service, operation: r.name, parent_id: r.parentId, depth: r.depth, kind: kindName(r.kind),
        start_offset_ms: msFromNs(r.startOffsetNs), duration_ms: msFromNs(r.durationNs), self_ms: msFromNs(r.selfNs),
        error: r.error, children: r.children,
      })),
    }),
    summary: (page, meta) => `${page.length} of ${t.spanCount} spans (errors and largest self time first, shown in tree order)${meta.truncated ? '; raise max_spans or set depth to see others' : ''}.`,
    hints: [`get_trace(trace_id="${t.traceId}", view="spans", span_ids=[…])`],
  });
}

export function spansView(
  forest: TraceForest,
  self: bigint[],
  o: { spanIds: string[] | undefined; maxSpans: number; attributes: 'none' | 'keys' | 'all'; events: boolean; budget: number },
): CallToolResult {
  const { nodes } = forest;
  let chosen: TraceNode[];
  if (o.spanIds) {
    const missing = o.spanIds.filter((id) => !forest.byId.has(id.toLowerCase()));
    if (missing.length > 0) throw new ToolError(`span ids not in trace ${forest.traceId}: ${missing.join(', ')}; list them with view="topology"`);
    chosen = o.spanIds.map((id) => nodes[forest.byId.get(id.toLowerCase()) as number] as TraceNode);
  } else chosen = topBySelf(nodes, self, nodes.length);
  return boundedResult({
    rows: chosen, offset: 0, limit: o.maxSpans, limitArg: 'max_spans', budget: o.budget, meta: { precision: 'exact' },
    build: (page) => ({ trace_id: forest.traceId, view: 'spans', spans: page.map((n) => detail(n, forest, self, o)) }),
    summary: (page) => `${page.length} span(s) of trace ${forest.traceId}: ${page.slice(0, 3).map((n) => `${n.span.service} "${n.span.name}" ${msFromNs(n.endNs - n.startNs)} ms`).join(', ')}.`,
  });
}

function detail(n: TraceNode, forest: TraceForest, self: bigint[], o: { attributes: 'none' | 'keys' | 'all'; events: boolean }): SpanDetail {
  const s = n.span;
  return {
    ...ref(n), parent_id: n.parentSpanId, kind: kindName(s.kind), start: iso(Number(s.startNs / 1_000_000n)), start_offset_ms: msFromNs(n.startNs - forest.startNs),
    duration_ms: msFromNs(n.endNs - n.startNs), self_ms: msFromNs(self[n.index] as bigint), status: STATUS[s.statusCode] ?? 'unset', status_message: clipText(s.statusMessage, 300),
    effective_error: isEffectiveError(s),
    ...(o.attributes === 'keys' ? { attributes: Object.keys(s.attributes) } : o.attributes === 'all' ? { attributes: clip(s.attributes), resource: clip(s.resource) } : {}),
    ...(o.events ? { events: s.events.slice(0, 20).map((e) => ({ name: e.name, offset_ms: msFromNs(e.timeNs - forest.startNs), attributes: clip(e.attributes) })) } : {}),
    links: s.links.length,
  };
}

/** Attribute values as JSON-safe and short: bigint → string, strings over 300 chars cut. */
function clip(attrs: Attributes): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(attrs)) out[k] = clipValue(v);
  return out;
}

function clipValue(v: AttributeValue): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return v.length > 300 ? `${v.slice(0, 300)}…` : v;
  if (Array.isArray(v)) return v.slice(0, 20).map(clipValue);
  return v;
}
