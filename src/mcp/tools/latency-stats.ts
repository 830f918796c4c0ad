import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SPAN_KIND_NAMES } from '../../model/span.js';
import { comparisonRange } from '../../analysis/time-range.js';
import type { McpDeps } from '../deps.js';
import { defineTool } from '../register.js';
import { kindNumber } from '../operations.js';
import { boundedResult, budgetInput, budgetOf, metaSchema } from '../result.js';
import { resolveRange, timeInput, toResolved } from '../time-input.js';
import { latencyGroups, type GroupStats } from '../latency-groups.js';

const row = z.looseObject({}).describe('group, count, percentiles_ms, errors, error_rate, rps, max_ms, mean_ms; with compare_to: baseline (same fields) and change (current/baseline per percentile)');
const output = z.object({ service: z.string(), operation: z.string().optional(), group_by: z.string(), groups: z.array(row), meta: metaSchema, hints: z.array(z.string()) });

export function registerLatencyStats(server: McpServer, deps: McpDeps): void {
  defineTool(
    server,
    deps,
    'latency_stats',
    {
      description: 'Percentiles over any window (HDR, every span); group by operation, status or attr.<key> (trace sample); compare_to.',
      inputSchema: z.object({
        service: z.string(),
        operation: z.string().optional(),
        span_kind: z.enum(SPAN_KIND_NAMES).optional(),
        percentiles: z.array(z.number().gt(0).max(100)).min(1).max(10).optional(),
        group_by: z.string().regex(/^(none|operation|status|attr\..+)$/).optional().describe('none|operation|status|attr.<key>'),
        compare_to: z.string().optional().describe('previous, -1d, -7d'),
        limit: z.number().int().min(1).max(200).optional(),
        ...timeInput, ...budgetInput,
      }),
      outputSchema: output,
    },
    async (args) => {
      const range = resolveRange(args, deps.now(), 3_600_000);
      const percentiles = args.percentiles ?? [50, 90, 95, 99, 99.9];
      const scope = { service: args.service, operation: args.operation, kind: args.span_kind === undefined ? undefined : kindNumber(args.span_kind), groupBy: args.group_by ?? 'none', percentiles };
      const current = await latencyGroups(deps, scope, range);
      const baseline = args.compare_to !== undefined ? await latencyGroups(deps, scope, toResolved(comparisonRange(range, args.compare_to))) : null;
      const rows = current.groups.map((g) => withBaseline(g, baseline?.groups.find((b) => b.group === g.group), percentiles));
      return boundedResult({
        rows, offset: 0, limit: args.limit ?? 10, budget: budgetOf(args.max_bytes, deps.limits),
        meta: { window: range.window, precision: current.precision },
        build: (page) => ({ service: args.service, ...(args.operation !== undefined ? { operation: args.operation } : {}), group_by: scope.groupBy, groups: page }),
        summary: (page) => page.length === 0 ? `No spans of ${args.service} in the window; widen it.` : page.slice(0, 3).map((r) => `${r.group}: ${r.count} spans, ${Object.entries(r.percentiles_ms).map(([k, v]) => `${k} ${v} ms`).join(', ')}${r.change ? ` (vs baseline: ${Object.entries(r.change).map(([k, v]) => `${k} ×${v}`).join(', ')})` : ''}`).join('; ') + '.',
        hints: [`find_traces(service="${args.service}"${args.operation ? `, operation="${args.operation}"` : ''}, min_duration_ms=${rows[0]?.percentiles_ms[`p${percentiles.at(-1)}`] ?? 0})`],
      });
    },
  );
}

function withBaseline(g: GroupStats, b: GroupStats | undefined, percentiles: number[]): GroupStats & { baseline?: Omit<GroupStats, 'group'>; change?: Record<string, number | null> } {
  if (!b) return g;
  const { group: _group, ...baseline } = b;
  const change: Record<string, number | null> = {};
  for (const p of percentiles) {
    const cur = g.percentiles_ms[`p${p}`];
    const base = b.percentiles_ms[`p${p}`];
    change[`p${p}`] = cur != null && base ? Math.round((cur / base) * 1000) / 1000 : null;
  }
  return { ...g, baseline, change };
}
