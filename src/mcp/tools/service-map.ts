import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { buildServiceGraph, serviceGraphToMermaid, serviceNeighbourhood, type ServiceGraphEdge } from '../../analysis/service-graph.js';
import type { McpDeps } from '../deps.js';
import { defineTool } from '../register.js';
import { boundedResult, budgetInput, budgetOf, metaSchema, round } from '../result.js';
import { resolveRange, timeInput } from '../time-input.js';
import { sampleInput, sampleTraces } from '../trace-sample.js';

const edge = z.looseObject({}).describe('client, server, connection_type, calls, errors, error_rate, rps and client_/server_ p50_ms, p95_ms, p99_ms');
type EdgeRow = { client: string; server: string; connection_type: string; calls: number; errors: number; error_rate: number } & Record<string, unknown>;
const output = z.object({
  nodes: z.array(z.object({ name: z.string(), type: z.string() })),
  edges: z.array(edge),
  mermaid: z.string(),
  traces_analysed: z.number(), unpaired_spans: z.number(), self_calls: z.number(),
  meta: metaSchema, hints: z.array(z.string()),
});

export function registerServiceMap(server: McpServer, deps: McpDeps): void {
  defineTool(
    server,
    deps,
    'service_map',
    {
      description: 'Service dependency edges (SG-v1; databases, queues and peers as virtual nodes) with calls, errors, latency and Mermaid.',
      inputSchema: z.object({
        service: z.string().optional().describe('edges within depth hops'),
        depth: z.number().int().min(1).max(5).optional(),
        limit: z.number().int().min(1).max(200).optional(),
        ...timeInput, ...sampleInput, ...budgetInput,
      }),
      outputSchema: output,
    },
    async (args) => {
      const range = resolveRange(args, deps.now(), 3_600_000);
      const sample = await sampleTraces(deps, { service: args.service, maxTraces: args.max_traces }, range, 'full');
      let graph = buildServiceGraph(sample.traces, { windowNs: range.endNs - range.startNs });
      if (args.service !== undefined) graph = serviceNeighbourhood(graph, args.service, args.depth ?? 2);
      const edges = graph.edges.map(edgeRow);
      return boundedResult({
        rows: graph.edges, offset: 0, limit: args.limit ?? 30, budget: budgetOf(args.max_bytes, deps.limits),
        meta: { window: range.window, precision: sample.precision, sample: sample.meta },
        build: (page) => {
          const names = new Set(page.flatMap((e) => [e.client, e.server]));
          const nodes = graph.nodes.filter((n) => names.has(n.name));
          return {
            nodes, edges: page.map(edgeRow), mermaid: serviceGraphToMermaid({ ...graph, nodes, edges: page }),
            traces_analysed: graph.traceCount, unpaired_spans: graph.unpairedSpans, self_calls: graph.selfCallCount,
          };
        },
        summary: (page) => page.length === 0
          ? 'No calls between services in the window (or no traces); widen the window.'
          : `${edges.length} edges over ${graph.traceCount} traces; busiest: ${page.slice(0, 4).map((e) => `${e.client}→${e.server} ${e.requestCount} calls (${Math.round(e.errorRate * 1000) / 10}% err)`).join(', ')}.`,
        hints: ['find_errors(window="1h")', 'list_operations(service=…, span_kind="client")'],
      });
    },
  );
}

function edgeRow(e: ServiceGraphEdge): EdgeRow {
  return {
    client: e.client, server: e.server, connection_type: e.connectionType || 'direct', calls: e.requestCount, errors: e.failedCount, error_rate: round(e.errorRate),
    rps: e.rps === null ? null : round(e.rps), client_p50_ms: e.clientP50Ms, client_p95_ms: e.clientP95Ms, client_p99_ms: e.clientP99Ms,
    server_p50_ms: e.serverP50Ms, server_p95_ms: e.serverP95Ms, server_p99_ms: e.serverP99Ms,
  };
}
