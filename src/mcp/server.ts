import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';

export type { McpServer };
import { LOCAL_CALLER, type Caller, type McpDeps } from './deps.js';
import { registerTools } from './tools/index.js';
import { installCompactToolList } from './register.js';
import { registerPrompts } from './prompts.js';
import { registerResources } from './resources.js';

export const MCP_SERVER_NAME = 'spanlens';

/** Sent in `initialize`: how to drill down, so the model starts from aggregates, not raw traces. */
export const INSTRUCTIONS = `spanlens answers performance questions from locally stored OpenTelemetry traces and metrics.
Start broad, then drill down from aggregates to single traces:
1. get_status (is data arriving), then performance_report(service?) for ranked findings across SLOs, alerts, regressions, bottleneck, errors, cache and inference, each with its next call.
2. list_services, then list_operations(service): rates, error rates, p50/p95/p99 from HDR histograms of every span.
3. latency_stats(service, operation, compare_to="previous"): any percentiles, grouped by operation, status or attr.<key>.
4. Why slower: compare_windows(service, baseline="previous"|"-1d" or attr="service.version", values=[old,new]) ranks the operations that regressed and the downstream culprit; find_anomalies(service) says which minutes; capacity_forecast for growth.
5. find_bottlenecks(service, operation): which downstream operation owns the critical path of slow requests; service_map for dependencies; find_errors for root-cause spans.
6. find_traces(...) for example trace ids, then get_trace(trace_id) (summary first, then view="topology" or selected span_ids) and get_critical_path(trace_id).
SLOs and alerts: slo_status() for all, slo_status(slo) for budget, burn rates and alerts of one; alerts() for rule states. manage_slo and manage_alert_rule write (stdio, or HTTP with mcp.allowWrites). Prompts hold playbooks for common questions.
Metrics: list_metrics(match), then query_metrics(select='name{label="v",l=~"re"}', several joined by +; denominator for ratios; agg=rate|increase|sum|avg|min|max|count|last|p50|p99|p999; by="label,label" or "*" per series; step="5m" for a series).
Domains: analyze(topic="cache"|"inference"|"database", service?): rows per cache level / model version / query shape, findings (weakest level, cold starts, N+1, pool saturation) with trace ids.
Times: window="15m"|"1h"|"30d", or start (RFC3339 or now-2h) and end (default now).
Every answer has meta {total, returned, truncated, bytes, window, next_cursor, more; bulk analyses add sample {analysed, matched}: traces sampled uniformly over the window} and hints (suggested next calls); max_bytes raises the answer budget. Durations are milliseconds.`;

/**
 * A new server with every tool registered, for one caller; no module-level state, so one per session
 * (stdio) or request (HTTP) is fine.
 */
export function createMcpServer(deps: Omit<McpDeps, 'caller'>, version: string, caller: Caller = LOCAL_CALLER): McpServer {
  const server = new McpServer({ name: MCP_SERVER_NAME, version }, { instructions: INSTRUCTIONS, capabilities: { tools: {}, prompts: {}, resources: {} } });
  registerTools(server, { ...deps, caller });
  installCompactToolList(server);
  registerPrompts(server);
  registerResources(server, { ...deps, caller });
  return server;
}
