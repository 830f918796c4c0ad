import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { McpDeps } from '../deps.js';
import { defineTool } from '../register.js';
import { ENTRY_KINDS, redRow, sortRows, type RedRow } from '../operations.js';
import { boundedResult, budgetInput, budgetOf, decodeCursor, metaSchema, pageInput } from '../result.js';
import { resolveRange, timeInput } from '../time-input.js';

const row = z.looseObject({}).describe('service, count, rps, error_rate, p99_ms, latency_of, errors, p50_ms, p95_ms, max_ms, total_ms');
const output = z.object({ services: z.array(row), meta: metaSchema, hints: z.array(z.string()) });
const SORTS = ['rps', 'errors', 'error_rate', 'p99', 'p95', 'total_time', 'count', 'name'] as const;

export function registerListServices(server: McpServer, deps: McpDeps): void {
  defineTool(
    server,
    deps,
    'list_services',
    {
      description: 'Services with rate, errors and p50/p95/p99 of their entry (server/consumer) spans, from HDR histograms.',
      inputSchema: z.object({
        match: z.string().optional().describe('substring'),
        sort_by: z.enum(SORTS).optional(),
        ...timeInput, ...pageInput, ...budgetInput,
      }),
      outputSchema: output,
    },
    async (args) => {
      const range = resolveRange(args, deps.now(), 3_600_000);
      const window = { startNs: range.startNs, endNs: range.endNs, groupBy: 'service' as const };
      const all = (await deps.latency.operationStats(window)) ?? [];
      const entry = new Map(((await deps.latency.operationStats({ ...window, kinds: [...ENTRY_KINDS] })) ?? []).map((s) => [s.service, s]));
      const rows: (RedRow & { service: string; latency_of: 'entry_spans' | 'all_spans' })[] = all
        .filter((s) => !args.match || s.service.toLowerCase().includes(args.match.toLowerCase()))
        .map((s) => {
          const chosen = entry.get(s.service) ?? s;
          return { service: s.service, latency_of: chosen === s ? 'all_spans' : 'entry_spans', ...redRow(chosen.latency, chosen.errorCount, range.endMs - range.startMs) };
        });
      sortRows(rows, args.sort_by ?? 'rps', (r) => r.service);
      return boundedResult({
        rows, paged: true, offset: decodeCursor(args.cursor), limit: args.limit ?? 20, budget: budgetOf(args.max_bytes, deps.limits),
        meta: { window: range.window, precision: 'hdr-3sd' },
        build: (page) => ({ services: page }),
        summary: (page, meta) => page.length === 0
          ? `No spans between ${range.window.start} and ${range.window.end}; widen the window or check get_status.`
          : `${meta.total} services in the window: ${page.slice(0, 5).map((r) => `${r.service} (${r.rps} rps, p99 ${r.p99_ms} ms, error rate ${r.error_rate})`).join(', ')}.`,
        hints: rows.length > 0 ? [`list_operations(service="${rows[0]!.service}", span_kind="server")`, 'service_map(window="1h")'] : [],
      });
    },
  );
}
