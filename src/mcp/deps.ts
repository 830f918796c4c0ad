import type {
  LatencyReader,
  OperationStatsReader,
  SpanReader,
  TraceSpanReader,
} from '../store/ports.js';

/** What get_status reports; the composition root gathers it from the running components. */
export interface StatusSnapshot {
  version: string;
  uptimeSeconds: number;
  ingest: { acceptedSpans: number; refusedSpans: number; failedRequests: number; invalidRequests: number };
  store: { liveBytes: number | null; activeLatencySeries: number | null; retentionDeletedSpans: number | null; healthy: boolean };
  retention: { spansMaxAge: string; latencyMinutesMaxAge: string; latencyHoursMaxAge: string };
  endpoints: Record<string, string>;
}

export interface McpLimits {
  /** Response budget when the call gives no max_bytes (bytes of structuredContent JSON). */
  defaultBytes: number;
  /** No response exceeds this, whatever max_bytes asks. */
  hardCapBytes: number;
  /** Most traces a bulk analysis (bottlenecks, service map, errors) decodes. */
  maxAnalysisTraces: number;
}

export const DEFAULT_MCP_LIMITS: McpLimits = { defaultBytes: 8 * 1024, hardCapBytes: 24 * 1024, maxAnalysisTraces: 2000 };

/** Everything a tool may use: store read ports, a status source and the clock. No module-level state. */
export interface McpDeps {
  spans: SpanReader & TraceSpanReader;
  latency: LatencyReader & OperationStatsReader;
  status: () => Promise<StatusSnapshot>;
  now: () => number;
  limits: McpLimits;
}
