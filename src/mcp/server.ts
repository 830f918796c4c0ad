import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';

export type { McpServer };
import { LOCAL_CALLER, type Caller, type McpDeps } from './deps.js';
import { registerTools } from './tools/index.js';
import { installCompactToolList } from './register.js';

export const MCP_SERVER_NAME = 'spanlens';

/** Sent in `initialize`: how to drill down, so the model starts from aggregates, not raw traces. */
export const INSTRUCTIONS = `spanlens answers performance questions from locally stored OpenTelemetry traces.
Drill down from aggregates to single traces:
1. get_status: is data arriving, what is covered.
2. list_services, then list_operations(service): rates, error rates, p50/p95/p99 from HDR histograms of every span.
3. latency_stats(service, operation, compare_to="previous"): any percentiles, grouped by operation, status or attr.<key>.
4. find_bottlenecks(service, operation): which downstream operation owns the critical path of slow requests; service_map for dependencies; find_errors for root-cause spans.
5. find_traces(...) for example trace ids, then get_trace(trace_id) (summary first, then view="topology" or selected span_ids) and get_critical_path(trace_id).
Times: window="15m"|"1h"|"30d", or start (RFC3339 or now-2h) and end (default now).
Every answer has meta {total, returned, truncated, bytes, window, next_cursor, more; bulk analyses add sample {analysed, matched}: traces sampled uniformly over the window} and hints (suggested next calls); max_bytes raises the answer budget. Durations are milliseconds.`;

/**
 * A new server with every tool registered, for one caller; no module-level state, so one per session
 * (stdio) or request (HTTP) is fine.
 */
export function createMcpServer(deps: Omit<McpDeps, 'caller'>, version: string, caller: Caller = LOCAL_CALLER): McpServer {
  const server = new McpServer({ name: MCP_SERVER_NAME, version }, { instructions: INSTRUCTIONS, capabilities: { tools: {} } });
  registerTools(server, { ...deps, caller });
  installCompactToolList(server);
  return server;
}
