import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { groupErrors } from '../../analysis/errors.js';
import type { McpDeps } from '../deps.js';
import { defineTool } from '../register.js';
import { boundedResult, budgetInput, budgetOf, clipText, iso, metaSchema, round } from '../result.js';
import { resolveRange, timeInput } from '../time-input.js';
import { sampleInput, sampleTraces } from '../trace-sample.js';

const group = z.looseObject({}).describe('service, operation, error_key, count, exemplar_trace_ids; error_key: exception type, error.type, status message or code. Also key_source, traces, error_rate, root_cause_count, originating (most frequent root-cause span), sample_message, first_seen, last_seen');
const output = z.object({ traces_with_errors: z.number(), error_spans: z.number(), groups: z.array(group), meta: metaSchema, hints: z.array(z.string()) });

export function registerFindErrors(server: McpServer, deps: McpDeps): void {
  defineTool(
    server,
    deps,
    'find_errors',
    {
      description: 'Errors (ERR-v1) grouped by service, operation and exception type, with the root-cause span and exemplar trace ids.',
      inputSchema: z.object({
        service: z.string().optional(),
        limit: z.number().int().min(1).max(100).optional(),
        ...timeInput, ...sampleInput, ...budgetInput,
      }),
      outputSchema: output,
    },
    async (args) => {
      const range = resolveRange(args, deps.now(), 3_600_000);
      const sample = await sampleTraces(deps, { service: args.service, errorsOnly: true, maxTraces: args.max_traces }, range, 'full');
      const result = groupErrors(sample.traces, { maxExemplars: 3 });
      const totals = new Map(((await deps.latency.operationStats({ startNs: range.startNs, endNs: range.endNs })) ?? []).map((s) => [`${s.service}\u0000${s.operation}`, s.latency.count]));
      const rows = result.groups.map((g) => {
        const all = totals.get(`${g.service}\u0000${g.operation}`);
        return {
          service: g.service, operation: g.operation, error_key: clipText(g.errorKey), key_source: g.keySource, count: g.count, traces: g.traceCount,
          error_rate: all ? round(Math.min(1, g.count / all)) : null, root_cause_count: g.rootCauseCount,
          originating: g.originating ? { span_id: g.originating.spanId, service: g.originating.service, operation: g.originating.name, count: g.originating.count } : null,
          sample_message: g.sampleMessage === null ? null : clipText(g.sampleMessage), first_seen: iso(Number(g.firstSeenNs / 1_000_000n)), last_seen: iso(Number(g.lastSeenNs / 1_000_000n)), exemplar_trace_ids: g.exemplarTraceIds,
        };
      });
      return boundedResult({
        rows, offset: 0, limit: args.limit ?? 20, budget: budgetOf(args.max_bytes, deps.limits),
        meta: { window: range.window, precision: sample.precision, sample: sample.meta },
        build: (page) => ({ traces_with_errors: result.errorTraceCount, error_spans: result.errorSpanCount, groups: page }),
        summary: (page) => page.length === 0
          ? `No errors${args.service ? ` in ${args.service}` : ''} in the window.`
          : `${result.errorSpanCount} error spans in ${result.errorTraceCount} traces; top: ${page.slice(0, 3).map((g) => `${g.service} "${g.operation}" ${g.error_key || '(no key)'} ×${g.count}${g.originating ? ` from ${g.originating.service} "${g.originating.operation}"` : ''}`).join('; ')}.`,
        hints: rows[0]?.exemplar_trace_ids[0] ? [`get_trace(trace_id="${rows[0].exemplar_trace_ids[0]}")`] : [],
      });
    },
  );
}
