import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { buildTraceForest } from '../../analysis/trace-tree.js';
import { computeSelfTimes } from '../../analysis/self-time.js';
import type { McpDeps } from '../deps.js';
import { defineTool } from '../register.js';
import { budgetInput, budgetOf, metaSchema } from '../result.js';
import { loadTrace, traceIdInput } from '../trace-input.js';
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
      const spans = await loadTrace(deps, args.trace_id, view === 'topology' ? 'timing' : view === 'summary' ? 'errors' : 'full');
      const forest = buildTraceForest(spans);
      const self = computeSelfTimes(forest);
      const budget = budgetOf(args.max_bytes, deps.limits);
      const maxSpans = args.max_spans ?? 50;
      if (view === 'summary') return summaryView(forest, self, budget);
      if (view === 'topology') return topologyView(forest, self, { maxSpans, depth: args.depth, budget });
      return spansView(forest, self, { spanIds: args.span_ids, maxSpans, attributes: args.attributes ?? 'all', events: args.include_events ?? false, budget });
    },
  );
}
