import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { computeCriticalPath } from '../../analysis/critical-path.js';
import type { McpDeps } from '../deps.js';
import { defineTool } from '../register.js';
import { boundedResult, budgetInput, budgetOf, metaSchema, round } from '../result.js';
import { loadTrace, traceIdInput } from '../trace-input.js';

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
      const report = computeCriticalPath(await loadTrace(deps, args.trace_id, 'links'));
      const cp = report.criticalPaths.find((c) => c.primary) ?? report.criticalPaths[0];
      const groupBy = args.group_by ?? 'span';
      const limit = args.limit ?? 15;
      // A 10k-span trace can have 10k spans on its path: objects are built only for the rows and
      // segments that can be shown (rows come ranked by critical time), which keeps GC out of the p99.
      const ranked = !cp ? [] : groupBy === 'service' ? cp.byService : cp.bySpan;
      const rows = !cp ? [] : groupBy === 'service'
        ? cp.byService.slice(0, limit).map((s) => ({ service: s.service, critical_ms: s.criticalMs, share: round(s.share) }))
        : cp.bySpan.slice(0, limit).map((s) => ({ span_id: s.spanId, service: s.service, operation: s.name, critical_ms: s.criticalMs, share: round(s.share), self_ms: s.selfMs, duration_ms: s.durationMs }));
      const segments = longest(cp?.segments ?? [], args.max_segments ?? 15)
        .map((s) => ({ span_id: s.spanId, service: s.service, operation: s.name, start_offset_ms: s.startOffsetMs, end_offset_ms: s.endOffsetMs }))
        .sort((a, b) => a.start_offset_ms - b.start_offset_ms);
      const root = report.roots.find((r) => r.primary);
      const adj = report.cpAdjustments;
      return boundedResult({
        rows, total: ranked.length, offset: 0, limit, budget: budgetOf(args.max_bytes, deps.limits), meta: { precision: 'exact' },
        build: (page) => ({
          trace_id: report.traceId, trace_duration_ms: report.traceDurationMs, critical_path_ms: cp?.totalMs ?? 0,
          root_span_id: root?.spanId ?? null, roots: report.roots.length, group_by: groupBy, rows: page,
          segments: page.length < ranked.length ? segments.slice(0, 5) : segments, total_segments: cp?.segments.length ?? 0,
          adjustments: { truncated: adj.truncated.length, dropped: adj.dropped.length, non_blocking: adj.nonBlocking.length },
        }),
        summary: (page) => `Critical path ${cp?.totalMs ?? 0} ms of a ${report.traceDurationMs} ms trace; ${page.slice(0, 3).map((r) => `${r.service}${'operation' in r ? ` "${r.operation}"` : ''} ${r.critical_ms} ms (${Math.round(r.share * 100)}%)`).join(', ')}.`,
        hints: rows[0] && 'span_id' in rows[0] ? [`get_trace(trace_id="${report.traceId}", view="spans", span_ids=["${rows[0].span_id}"], attributes="all")`] : [],
      });
    },
  );
}

/** The k longest segments (ties: earlier first), without sorting them all. */
function longest<S extends { startOffsetMs: number; endOffsetMs: number }>(segments: readonly S[], k: number): S[] {
  if (k <= 0) return [];
  const top: S[] = [];
  const length = (s: S): number => s.endOffsetMs - s.startOffsetMs;
  for (const s of segments) {
    if (top.length === k && length(s) <= length(top[k - 1] as S)) continue;
    let at = top.length;
    while (at > 0 && length(top[at - 1] as S) < length(s)) at--;
    top.splice(at, 0, s);
    if (top.length > k) top.pop();
  }
  return top;
}
