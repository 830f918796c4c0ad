import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { McpDeps } from '../deps.js';
import { defineTool } from '../register.js';
import { boundedResult, budgetInput, budgetOf, decodeCursor, metaSchema, pageInput } from '../result.js';
import { resolveRange, timeInput } from '../time-input.js';
import { predicateSchema } from '../predicates.js';
import { searchTraceRows, traceRowSchema } from '../trace-search.js';

const output = z.object({ traces: z.array(traceRowSchema), scanned: z.number(), meta: metaSchema, hints: z.array(z.string()) });

export function registerFindTraces(server: McpServer, deps: McpDeps): void {
  defineTool(
    server,
    deps,
    'find_traces',
    {
      description: 'Example traces by service, operation, duration, error and attribute predicates, each with its top self-time span.',
      inputSchema: z.object({
        service: z.string().optional(),
        operation: z.string().optional(),
        min_duration_ms: z.number().min(0).optional(),
        max_duration_ms: z.number().min(0).optional(),
        error: z.boolean().optional(),
        where: z.array(predicateSchema).max(10).optional().describe('all hold on one span'),
        sort: z.enum(['newest', 'slowest']).optional(),
        ...timeInput, ...pageInput, ...budgetInput,
      }),
      outputSchema: output,
    },
    async (args) => {
      const range = resolveRange(args, deps.now(), 3_600_000);
      const offset = decodeCursor(args.cursor);
      const limit = args.limit ?? 10;
      const found = await searchTraceRows(deps, args, range, offset, limit);
      return boundedResult({
        rows: found.rows, paged: true, offset, limit, budget: budgetOf(args.max_bytes, deps.limits),
        meta: { window: range.window, precision: found.bounded ? `bounded(${found.scanned} newest traces scanned)` : 'exact' },
        build: (page) => ({ traces: page, scanned: found.scanned }),
        summary: (page, meta) => page.length === 0
          ? `No matching traces between ${range.window.start} and ${range.window.end}; widen the window or relax the filters.`
          : `${meta.total} matching traces${found.bounded ? ' (within the newest scanned)' : ''}; ${page.slice(0, 3).map((t) => `${t.trace_id} ${t.duration_ms} ms${t.top_self_time ? ` (top self: ${t.top_self_time.service} "${t.top_self_time.operation}" ${t.top_self_time.self_ms} ms)` : ''}`).join('; ')}.`,
        hints: found.rows[offset] ? [`get_trace(trace_id="${found.rows[offset].trace_id}")`, `get_critical_path(trace_id="${found.rows[offset].trace_id}")`] : [],
      });
    },
  );
}

