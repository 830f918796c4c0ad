import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { computeCriticalPath } from '../../analysis/critical-path.js';
import { summarizeColumns } from '../../analysis/critical-path-columns.js';
import { summarizeCriticalPath, type CriticalPathSummary, type CriticalPathSummaryOptions } from '../../analysis/critical-path-summary.js';
import type { McpDeps } from '../deps.js';
import { defineTool } from '../register.js';
import { boundedResult, budgetInput, budgetOf, metaSchema, round } from '../result.js';
import { loadTrace, traceIdInput, traceNotStored } from '../trace-input.js';

const row = z.looseObject({}).describe('service, critical_ms, share; group_by=span adds span_id, operation, self_ms, duration_ms');
const segment = z.looseObject({ span_id: z.string(), start_offset_ms: z.number(), end_offset_ms: z.number() });
const output = z.object({
  trace_id: z.string(), trace_duration_ms: z.number(), critical_path_ms: z.number(),
  root_span_id: z.string().nullable(), roots: z.number(),
  group_by: z.enum(['span', 'service']), rows: z.array(row),
  segments: z.array(segment).describe('longest, in time order'), total_segments: z.number(),
  adjustments: z.record(z.string(), z.number()).describe('spans truncated, dropped, non_blocking'),
  meta: metaSchema, hints: z.array(z.string()),
});

export function registerGetCriticalPath(server: McpServer, deps: McpDeps): void {
  defineTool(
    server,
    deps,
    'get_critical_path',
    {
      description: 'Critical path (CP-v1) of one trace: the spans or services the request waited on, by exclusive critical time.',
      inputSchema: z.object({
        trace_id: traceIdInput,
        group_by: z.enum(['span', 'service']).optional(),
        max_segments: z.number().int().min(0).max(100).optional(),
        limit: z.number().int().min(1).max(200).optional(),
        ...budgetInput,
      }),
      outputSchema: output,
    },
    async (args) => {
      const groupBy = args.group_by ?? 'span';
      const limit = args.limit ?? 15;
      const report = await summarize(deps, args.trace_id, { spanRows: limit, segments: args.max_segments ?? 15 });
      const cp = report.path;
      const rows = !cp ? [] : groupBy === 'service'
        ? cp.byService.slice(0, limit).map((s) => ({ service: s.service, critical_ms: s.criticalMs, share: round(s.share) }))
        : cp.topSpans.map((s) => ({ span_id: s.spanId, service: s.service, operation: s.name, critical_ms: s.criticalMs, share: round(s.share), self_ms: s.selfMs, duration_ms: s.durationMs }));
      const total = !cp ? 0 : groupBy === 'service' ? cp.byService.length : cp.spanCount;
      const segments = (cp?.longestSegments ?? [])
        .map((s) => ({ span_id: s.spanId, service: s.service, operation: s.name, start_offset_ms: s.startOffsetMs, end_offset_ms: s.endOffsetMs }))
        .sort((a, b) => a.start_offset_ms - b.start_offset_ms);
      const adj = report.adjustments;
      return boundedResult({
        rows, total, offset: 0, limit, budget: budgetOf(args.max_bytes, deps.limits), meta: { precision: 'exact' },
        build: (page) => ({
          trace_id: report.traceId, trace_duration_ms: report.traceDurationMs, critical_path_ms: cp?.totalMs ?? 0,
          root_span_id: report.primaryRootSpanId, roots: report.roots, group_by: groupBy, rows: page,
          segments: page.length < total ? segments.slice(0, 5) : segments, total_segments: cp?.segmentCount ?? 0,
          adjustments: { truncated: adj.truncated, dropped: adj.dropped, non_blocking: adj.nonBlocking },
        }),
        summary: (page) => `Critical path ${cp?.totalMs ?? 0} ms of a ${report.traceDurationMs} ms trace; ${page.slice(0, 3).map((r) => `${r.service}${'operation' in r ? ` "${r.operation}"` : ''} ${r.critical_ms} ms (${Math.round(r.share * 100)}%)`).join(', ')}.`,
        hints: rows[0] && 'span_id' in rows[0] ? [`get_trace(trace_id="${report.traceId}", view="spans", span_ids=["${rows[0].span_id}"], attributes="all")`] : [],
      });
    },
  );
}

/**
 * The trace's CP-v1 summary from its columns (no object per span: a 10k-span trace stays out of GC), or
 * from the BigInt spans for the rare trace the columnar path declines (parent cycles, times > 104 days apart).
 */
async function summarize(deps: McpDeps, traceId: string, options: CriticalPathSummaryOptions): Promise<CriticalPathSummary> {
  const cols = await deps.spans.getTraceColumns(traceId.toLowerCase());
  if (cols === null || cols.count === 0) throw traceNotStored(traceId);
  return summarizeColumns(cols, options) ?? summarizeCriticalPath(computeCriticalPath(await loadTrace(deps, traceId, 'links')), options);
}
