import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { aggregateCriticalPaths, findBottlenecks } from '../../analysis/critical-path-aggregate.js';
import type { McpDeps } from '../deps.js';
import { defineTool } from '../register.js';
import { boundedResult, budgetInput, budgetOf, metaSchema, round } from '../result.js';
import { resolveRange, timeInput } from '../time-input.js';
import { sampleInput, sampleTraces } from '../trace-sample.js';

const row = z.looseObject({}).describe('rank, service, operation, critical_ms, share, mean_per_trace_ms, p90_per_trace_ms, traces_on_path, trace_fraction, tail_share_delta (tail share − overall share)');
const output = z.object({
  root: z.object({ service: z.string(), operation: z.string() }),
  traces_analysed: z.number(),
  root_latency_ms: z.record(z.string(), z.number().nullable()).describe('p50, p90, p99, max'),
  tail_threshold_ms: z.number().nullable(),
  bottlenecks: z.array(row), meta: metaSchema, hints: z.array(z.string()),
});

export function registerFindBottlenecks(server: McpServer, deps: McpDeps): void {
  defineTool(
    server,
    deps,
    'find_bottlenecks',
    {
      description: 'Aggregated critical path (AGG-v1) of requests to service+operation: which operations the requests wait on, and which grow in the slow tail.',
      inputSchema: z.object({
        service: z.string().describe('of the root span'),
        operation: z.string().describe('root span name'),
        slow_quantile: z.number().min(0).max(1).optional().describe('only roots ≥ this quantile, e.g. 0.9'),
        limit: z.number().int().min(1).max(50).optional(),
        ...timeInput, ...sampleInput, ...budgetInput,
      }),
      outputSchema: output,
    },
    async (args) => {
      const range = resolveRange(args, deps.now(), 3_600_000);
      const sample = await sampleTraces(deps, { service: args.service, operation: args.operation, maxTraces: args.max_traces }, range, 'links');
      const agg = aggregateCriticalPaths(sample.traces, {
        rootService: args.service, rootName: args.operation, callPathLimit: 0, rootEndWindow: { startNs: range.startNs, endNs: range.endNs },
        ...(args.slow_quantile !== undefined ? { minRootQuantile: args.slow_quantile } : {}),
      });
      const rows = findBottlenecks(agg, { minTraceFraction: 0, limit: 50 }).map((b) => ({
        rank: b.rank, service: b.service, operation: b.name, critical_ms: b.criticalMs, share: round(b.share), mean_per_trace_ms: b.meanPerTraceMs,
        p90_per_trace_ms: b.p90PerTraceMs, traces_on_path: b.tracesOnPath, trace_fraction: round(b.traceFraction), tail_share_delta: b.tailShareDelta === null ? null : round(b.tailShareDelta),
      }));
      const l = agg.rootLatency;
      return boundedResult({
        rows, offset: 0, limit: args.limit ?? 10, budget: budgetOf(args.max_bytes, deps.limits),
        meta: { window: range.window, precision: sample.precision, sample: sample.meta },
        build: (page) => ({
          root: { service: args.service, operation: args.operation }, traces_analysed: agg.traceCount,
          root_latency_ms: { p50: l.p50Ms, p90: l.p90Ms, p99: l.p99Ms, max: l.maxMs }, tail_threshold_ms: agg.tailContrast?.thresholdMs ?? null, bottlenecks: page,
        }),
        summary: (page) => agg.traceCount === 0
          ? `No traces rooted at ${args.service} "${args.operation}" in the window; check the names with list_operations(service="${args.service}", span_kind="server").`
          : `Over ${agg.traceCount} traces of ${args.service} "${args.operation}" (p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms), the critical path is owned by ${page.slice(0, 3).map((r) => `${r.service} "${r.operation}" ${Math.round(r.share * 100)}%`).join(', ')}.`,
        hints: rows[0] ? [`find_traces(service="${args.service}", operation="${args.operation}", sort="slowest")`, `latency_stats(service="${rows[0].service}", operation="${rows[0].operation}", compare_to="previous")`] : [],
      });
    },
  );
}
