import type { MetricSource } from '../analysis/metric-source.js';
import type { SloEventSources } from '../analysis/slo-events.js';
import type {
  AuditReader,
  LatencyReader,
  OperationStatsReader,
  SloCatalog,
  SpanReader,
  TraceSpanReader,
} from '../store/ports.js';
import type { AlertsPort } from '../store/ports.js';
import type { LatencyTimelineReader } from '../store/ports.js';

/** What get_status reports; the composition root gathers it from the running components. */
export interface StatusSnapshot {
  version: string;
  uptimeSeconds: number;
  ingest: { acceptedSpans: number; refusedSpans: number; failedRequests: number; invalidRequests: number };
  store: { liveBytes: number | null; activeLatencySeries: number | null; retentionDeletedSpans: number | null; healthy: boolean };
  retention: { spansMaxAge: string; latencyMinutesMaxAge: string; latencyHoursMaxAge: string };
  endpoints: Record<string, string>;
  /** Readiness problems (memory pressure, store write failures such as a full disk); empty when ready. */
  problems?: string[];
  memory?: { rssBytes: number; limitBytes: number };
}

export interface McpLimits {
  /** Response budget when the call gives no max_bytes (bytes of structuredContent JSON). */
  defaultBytes: number;
  /** No response exceeds this, whatever max_bytes asks. */
  hardCapBytes: number;
  /** Most traces a bulk analysis (bottlenecks, service map, errors) decodes. */
  maxAnalysisTraces: number;
  /** A tool call running longer is abandoned with a ToolError asking for a narrower window (mcp.queryTimeout). */
  queryTimeoutMs?: number;
}

export const DEFAULT_MCP_LIMITS: McpLimits = { defaultBytes: 8 * 1024, hardCapBytes: 24 * 1024, maxAnalysisTraces: 2000 };

/** Token roles (issue 6): `ingest` may only export OTLP; `read` may call read tools; `admin` may also write. */
export type Role = 'ingest' | 'read' | 'admin';

/** Who is calling, fixed per MCP session (stdio) or request (HTTP). */
export interface Caller {
  transport: 'stdio' | 'http';
  /** A token's name, never its secret; "local" for stdio, "anonymous" for an unauthenticated loopback client. */
  identity: string;
  role: Role;
  /** May call write tools (SLOs, alert rules): stdio always; HTTP only when the config allows writes and the role is admin. */
  canWrite: boolean;
  /** Why writes are refused, phrased as how to enable them; absent when canWrite. */
  writeDenial?: string;
}

export const LOCAL_CALLER: Caller = { transport: 'stdio', identity: 'local', role: 'admin', canWrite: true };

/** One finished tool call, for the audit log. `args` are the validated arguments (digest them, do not store secrets). */
export interface ToolCallRecord {
  tool: string;
  writes: boolean;
  args: unknown;
  caller: Caller;
  durationMs: number;
  resultBytes: number;
  truncated: boolean;
  /** refused: a ToolError (bad arguments, not allowed); error: anything else. */
  outcome: 'ok' | 'refused' | 'error';
  error?: string;
}

/** Everything a tool may use: store read ports, a status source and the clock. No module-level state. */
export interface McpDeps {
  spans: SpanReader & TraceSpanReader;
  latency: LatencyReader & OperationStatsReader;
  /** Stored OTLP/Prometheus metric series (query_metrics, metric-based SLIs, cache and capacity analyses). */
  metrics: MetricSource;
  status: () => Promise<StatusSnapshot>;
  now: () => number;
  limits: McpLimits;
  caller: Caller;
  /** Called once per tool call after it finishes (audit log). */
  onToolCall?: (call: ToolCallRecord) => void;
  /** Alert rules, states and history (alerts, manage_alert_rule); absent when alerting is not running. */
  alerts?: AlertsPort;
  /** Per-step counts, errors and HDR buckets (compare_windows, find_anomalies, capacity_forecast). */
  timeline: LatencyTimelineReader;
  /** SLO definitions and what they are evaluated on (slo_status, manage_slo, spanlens://slos). */
  slos: { catalog: SloCatalog; events: SloEventSources };
  /** The audit log, for audit_log (admin callers only); absent when audit.enabled is false. */
  audit?: AuditReader;
}
