import { z } from 'zod';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { TraceForest, TraceNode } from '../analysis/trace-tree.js';
import { criticalPathsOfForest } from '../analysis/critical-path.js';
import { isEffectiveError, exceptionOf } from '../analysis/error-status.js';
import type { AttributeValue, Attributes } from '../model/trace.js';
import { kindName } from './operations.js';
import { boundedResult, clipText, iso, msFromNs, round } from './result.js';
import { ToolError } from './errors.js';

export const summarySchema = z.looseObject({}).describe('duration_ms, span_count, error_spans, start, max_depth, root, roots, services[], errors[] (deepest first), top_self_time[], critical_path[]');
export const topologySchema = z.looseObject({}).describe('span_id, parent_id, depth, service, operation, duration_ms, kind, start_offset_ms, self_ms, error, children');
export const spanDetailSchema = z.looseObject({}).describe('span_id, service, operation, duration_ms, status, parent_id, kind, start, start_offset_ms, self_ms, status_message, effective_error, attributes, resource, events, links');
type SpanDetail = z.infer<typeof spanDetailSchema>;

const ref = (n: TraceNode): { span_id: string; service: string; operation: string } => ({ span_id: n.spanId, service: n.span.service, operation: n.span.name });
const STATUS = ['unset', 'ok', 'error'] as const;

export function summaryView(forest: TraceForest, self: bigint[], budget: number): CallToolResult {
  const { nodes } = forest;
  const services = new Map<string, { service: string; spans: number; errors: number }>();
  const errorNodes: TraceNode[] = [];
  for (const n of nodes) {
    const s = services.get(n.span.service) ?? { service: n.span.service, spans: 0, errors: 0 };
    s.spans++;
    if (isEffectiveError(n.span)) {
      s.errors++;
      errorNodes.push(n);
    }
    services.set(n.span.service, s);
  }
  const root = forest.primaryRoot >= 0 ? nodes[forest.primaryRoot] : undefined;
  const criticalTop = root ? topCritical(forest, root, 5) : [];
  const summary = {
    start: iso(Number(forest.startNs / 1_000_000n)), duration_ms: msFromNs(forest.endNs - forest.startNs), span_count: nodes.length,
    max_depth: nodes.reduce((m, n) => Math.max(m, n.depth), 0),
    root: root ? { ...ref(root), duration_ms: msFromNs(root.endNs - root.startNs), orphan: forest.roots.find((r) => r.primary)?.orphan ?? false } : null,
    roots: forest.roots.length,
    services: [...services.values()].sort((a, b) => b.errors - a.errors || b.spans - a.spans),
    error_spans: errorNodes.length,
    errors: errorNodes.sort((a, b) => b.depth - a.depth).slice(0, 5).map((n) => ({ ...ref(n), message: n.span.statusMessage ? clipText(n.span.statusMessage) : null, exception_type: exceptionOf(n.span)?.type ?? null })),
    top_self_time: topBySelf(nodes, self, 5).map((n) => ({ ...ref(n), self_ms: msFromNs(self[n.index] as bigint) })),
    critical_path: criticalTop,
  };
  const traceId = forest.traceId;
  return boundedResult({
    rows: summary.services, offset: 0, limit: 20, budget, meta: { precision: 'exact' },
    build: (page) => ({ trace_id: traceId, view: 'summary', summary: { ...summary, services: page } }),
    summary: () => `Trace ${traceId}: ${summary.duration_ms} ms, ${nodes.length} spans in ${services.size} services, ${errorNodes.length} error spans` +
      (summary.critical_path[0] ? `; most critical: ${summary.critical_path[0].service} "${summary.critical_path[0].operation}" ${summary.critical_path[0].critical_ms} ms.` : '.'),
    hints: [`get_critical_path(trace_id="${traceId}")`, `get_trace(trace_id="${traceId}", view="topology")`],
  });
}

export function topologyView(forest: TraceForest, self: bigint[], o: { maxSpans: number; depth: number | undefined; budget: number }): CallToolResult {
  const { nodes } = forest;
  const eligible = nodes.filter((n) => o.depth === undefined || n.depth <= o.depth);
  // Most informative first: errors, then self time, then shallow spans; the page is shown in tree order.
  const error = nodes.map((n) => isEffectiveError(n.span));
  const ranked = eligible.sort((a, b) => Number(error[b.index]) - Number(error[a.index]) || cmp(self[b.index] as bigint, self[a.index] as bigint) || a.depth - b.depth || a.index - b.index);
  const order = treeOrder(forest);
  return boundedResult({
    rows: ranked, offset: 0, limit: o.maxSpans, limitArg: 'max_spans', budget: o.budget, meta: { precision: 'exact' },
    build: (page) => ({
      trace_id: forest.traceId, view: 'topology',
      topology: [...page].sort((a, b) => (order[a.index] as number) - (order[b.index] as number)).map((n) => ({
        ...ref(n), parent_id: n.parent >= 0 ? (nodes[n.parent] as TraceNode).spanId : n.parentSpanId, depth: n.depth, kind: kindName(n.span.kind),
        start_offset_ms: msFromNs(n.startNs - forest.startNs), duration_ms: msFromNs(n.endNs - n.startNs), self_ms: msFromNs(self[n.index] as bigint),
        error: error[n.index] as boolean, children: n.children.length,
      })),
    }),
    summary: (page, meta) => `${page.length} of ${nodes.length} spans (errors and largest self time first, shown in tree order)${meta.truncated ? '; raise max_spans or set depth to see others' : ''}.`,
    hints: [`get_trace(trace_id="${forest.traceId}", view="spans", span_ids=[…])`],
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

/**
 * The primary root's most critical spans (CP-v1 on the forest already built for the view, rather than
 * building it again through computeCriticalPath): critical time desc, then span id.
 */
function topCritical(forest: TraceForest, root: TraceNode, k: number): { span_id: string; service: string; operation: string; critical_ms: number; share: number }[] {
  const cp = criticalPathsOfForest(forest);
  const r = forest.roots.findIndex((x) => x.index === root.index);
  const onPath = [...new Set((cp.segmentsByRoot[r] ?? []).map((s) => s.node))];
  onPath.sort((a, b) => cmp(cp.criticalNs[b] as bigint, cp.criticalNs[a] as bigint) || ((forest.nodes[a] as TraceNode).spanId < (forest.nodes[b] as TraceNode).spanId ? -1 : 1));
  const totalNs = root.endNs - root.startNs;
  return onPath.slice(0, k).map((i) => {
    const n = forest.nodes[i] as TraceNode;
    const c = cp.criticalNs[i] as bigint;
    return { ...ref(n), critical_ms: msFromNs(c), share: totalNs > 0n ? round(Number(c) / Number(totalNs)) : 0 };
  });
}

function topBySelf(nodes: TraceNode[], self: bigint[], k: number): TraceNode[] {
  return [...nodes].sort((a, b) => cmp(self[b.index] as bigint, self[a.index] as bigint) || a.index - b.index).slice(0, k);
}

/** Position of each node in a depth-first walk (iterative: traces can be 20k levels deep). */
function treeOrder(forest: TraceForest): number[] {
  const order = new Array<number>(forest.nodes.length).fill(0);
  const stack = forest.roots.map((r) => r.index).reverse();
  let i = 0;
  while (stack.length > 0) {
    const index = stack.pop() as number;
    order[index] = i++;
    const children = (forest.nodes[index] as TraceNode).children;
    for (let c = children.length - 1; c >= 0; c--) stack.push(children[c] as number);
  }
  return order;
}

const cmp = (a: bigint, b: bigint): number => (a < b ? -1 : a > b ? 1 : 0);
