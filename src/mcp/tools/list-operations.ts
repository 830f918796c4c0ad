import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SPAN_KIND_NAMES } from '../../model/span.js';
import type { McpDeps } from '../deps.js';
import { defineTool } from '../register.js';
import { unknownServiceError } from '../errors.js';
import { kindName, kindNumber, redRow, sortRows, type RedRow } from '../operations.js';
import { boundedResult, budgetInput, budgetOf, decodeCursor, metaSchema, pageInput } from '../result.js';
import { resolveRange, timeInput } from '../time-input.js';

const row = z.looseObject({}).describe('service, operation, kind, count, error_rate, p99_ms, rps, errors, p50_ms, p95_ms, max_ms, total_ms');
const output = z.object({ operations: z.array(row), meta: metaSchema, hints: z.array(z.string()) });
const SORTS = ['p99', 'p95', 'rps', 'errors', 'error_rate', 'total_time', 'count', 'name'] as const;

export function registerListOperations(server: McpServer, deps: McpDeps): void {
  defineTool(
    server,
    deps,
    'list_operations',
    {
      description: 'Operations (service, span name, kind) with rate, errors and p50/p95/p99 from HDR histograms of every span.',
      inputSchema: z.object({
        service: z.string().optional(),
        span_kind: z.enum(SPAN_KIND_NAMES).optional(),
        sort_by: z.enum(SORTS).optional(),
        ...timeInput, ...pageInput, ...budgetInput,
      }),
      outputSchema: output,
    },
    async (args) => {
      const range = resolveRange(args, deps.now(), 3_600_000);
      const stats = await deps.latency.operationStats({
        ...(args.service !== undefined ? { service: args.service } : {}),
        ...(args.span_kind !== undefined ? { kinds: [kindNumber(args.span_kind)] } : {}),
        startNs: range.startNs, endNs: range.endNs,
      });
      if (stats === null) throw await unknownServiceError(deps.spans, args.service as string);
      type Row = RedRow & { service: string; operation: string; kind: string };
      const rows: Row[] = stats.map((s) => ({ service: s.service, operation: s.operation, kind: kindName(s.kind), ...redRow(s.latency, s.errorCount, range.endMs - range.startMs) }));
      sortRows(rows, args.sort_by ?? 'p99', (r) => `${r.service}\u0000${r.operation}`);
      return boundedResult({
        rows, paged: true, offset: decodeCursor(args.cursor), limit: args.limit ?? 20, budget: budgetOf(args.max_bytes, deps.limits),
        meta: { window: range.window, precision: 'hdr-3sd' },
        build: (page) => ({ operations: page }),
        summary: (page, meta) => page.length === 0
          ? `No spans${args.service ? ` of ${args.service}` : ''} between ${range.window.start} and ${range.window.end}; widen the window.`
          : `${meta.total} operations; by ${args.sort_by ?? 'p99'} the top is ${page[0]!.service} "${page[0]!.operation}" (${page[0]!.kind}): p99 ${page[0]!.p99_ms} ms, ${page[0]!.count} spans, error rate ${page[0]!.error_rate}.`,
        hints: rows.length > 0 ? [`latency_stats(service="${rows[0]!.service}", operation="${rows[0]!.operation}", compare_to="previous")`, `find_traces(service="${rows[0]!.service}", operation="${rows[0]!.operation}")`] : [],
      });
    },
  );
}
