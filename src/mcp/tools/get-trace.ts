import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { buildTraceForest } from '../../analysis/trace-tree.js';
import { computeSelfTimes } from '../../analysis/self-time.js';
import { summarizeTrace, type TraceSummary } from '../../analysis/trace-summary.js';
import { summarizeTraceColumns } from '../../analysis/trace-summary-columns.js';
import { topologyOf, type TopologyOptions, type TraceTopology } from '../../analysis/trace-topology.js';
import { topologyOfColumns } from '../../analysis/trace-topology-columns.js';
import type { McpDeps } from '../deps.js';
import { defineTool } from '../register.js';
import { budgetInput, budgetOf, metaSchema } from '../result.js';
import { loadTrace, traceIdInput, traceNotStored } from '../trace-input.js';
import { spanDetailSchema, spansView, summarySchema, summaryView, topologySchema, topologyView } from '../trace-views.js';

const output = z.object({
  trace_id: z.string(), view: z.enum(['summary', 'topology', 'spans']),
  summary: summarySchema.optional(), topology: z.array(topologySchema).optional(), spans: z.array(spanDetailSchema).optional(),
  meta: metaSchema, hints: z.array(z.string()),
});

export function registerGetTrace(server: McpServer, deps: McpDeps): void {
  defineTool(
    server,
    deps,
    'get_trace',
    {
      description: 'One trace, progressively: view=summary (default), topology (flat span tree, most informative max_spans) or spans (detail of span_ids).',
      inputSchema: z.object({
        trace_id: traceIdInput,
        view: z.enum(['summary', 'topology', 'spans']).optional(),
        span_ids: z.array(z.string().regex(/^[0-9a-fA-F]{16}$/)).max(100).optional().describe('view=spans'),
        max_spans: z.number().int().min(1).max(500).optional(),
        depth: z.number().min(0).optional().describe('view=topology'),
        attributes: z.enum(['none', 'keys', 'all']).optional(),
        include_events: z.boolean().optional(),
        ...budgetInput,
      }),
      outputSchema: output,
    },
    async (args) => {
      const view = args.view ?? 'summary';
      const budget = budgetOf(args.max_bytes, deps.limits);
      if (view === 'summary') return summaryView(await summarize(deps, args.trace_id), budget);
      const maxSpans = args.max_spans ?? 50;
      if (view === 'topology') return topologyView(await topology(deps, args.trace_id, { limit: maxSpans, depth: args.depth }), { maxSpans, budget });
      const forest = buildTraceForest(await loadTrace(deps, args.trace_id, 'full'));
      const self = computeSelfTimes(forest);
      return spansView(forest, self, { spanIds: args.span_ids, maxSpans, attributes: args.attributes ?? 'all', events: args.include_events ?? false, budget });
    },
  );
}

/**
 * The trace's summary from its columns (no object per span, so a big trace adds no GC pause), or from the
 * BigInt spans for the rare trace the columns decline (parent cycles, times > 104 days apart).
 */
async function summarize(deps: McpDeps, traceId: string): Promise<TraceSummary> {
  const cols = await deps.spans.getTraceColumns(traceId.toLowerCase(), { detail: 'errors' });
  if (cols === null || cols.count === 0) throw traceNotStored(traceId);
  const fast = summarizeTraceColumns(cols);
  if (fast !== null) return fast;
  const forest = buildTraceForest(await loadTrace(deps, traceId, 'errors'));
  return summarizeTrace(forest, computeSelfTimes(forest));
}

/** The topology rows likewise: from the columns, or from the BigInt spans when they decline. */
async function topology(deps: McpDeps, traceId: string, options: TopologyOptions): Promise<TraceTopology> {
  const cols = await deps.spans.getTraceColumns(traceId.toLowerCase(), { detail: 'timing' });
  if (cols === null || cols.count === 0) throw traceNotStored(traceId);
  const fast = topologyOfColumns(cols, options);
  if (fast !== null) return fast;
  const forest = buildTraceForest(await loadTrace(deps, traceId, 'timing'));
  return topologyOf(forest, computeSelfTimes(forest), options);
}
