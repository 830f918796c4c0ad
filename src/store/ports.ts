/**
 * What the interfaces and analysis read from a store. Methods return promises even for SQLite so that a
 * remote backend (e.g. the OTel ClickHouse schema) can implement the same ports; queries are typed
 * parameter objects, never SQL, so an adapter can push them down.
 */
import type { LatencyDistribution } from '../analysis/latency.js';
import type { TraceSpan } from '../model/trace.js';
import type { TraceColumns, TraceColumnsDetail } from '../model/trace-columns.js';

export interface ServiceSummary {
  name: string;
  /** Spans stored within latency retention (from the histograms, so it never scans spans). */
  spanCount: number;
}

export interface TraceSearchQuery {
  /** A trace matches if one of its spans has this service (and operation, duration, error) ... */
  service?: string;
  operation?: string;
  /** ... and lasted at least this long. */
  minDurationNs?: bigint;
  /** ... and at most this long (optional). */
  maxDurationNs?: bigint;
  /** Only traces with an ERR-v1 effective error (status ERROR, or UNSET with a failing HTTP/gRPC code). */
  errorsOnly?: boolean;
  /** Matching spans start within [startNs, endNs]. */
  startNs: bigint;
  endNs: bigint;
  /** At most this many traces, newest first. */
  limit: number;
}

export interface TraceSummary {
  traceId: string;
  /** The root span's service and name; if the root has not arrived, those of the earliest span. */
  rootService: string;
  rootOperation: string;
  /** False when no span without a parent has been received for this trace. */
  hasRoot: boolean;
  startNs: bigint;
  durationNs: bigint;
  spanCount: number;
  errorCount: number;
}

export interface StoredSpan {
  spanId: string;
  parentSpanId: string;
  service: string;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  statusCode: number;
  resourceId: number;
  scopeId: number;
  /** The span's protobuf bytes as received. */
  raw: Uint8Array;
}

export interface StoredBlob {
  schemaUrl: string;
  raw: Uint8Array | null;
}

export interface StoredTrace {
  traceId: string;
  /** In arrival order. */
  spans: StoredSpan[];
  resources: Map<number, StoredBlob>;
  scopes: Map<number, StoredBlob>;
}

export interface LatencyQuery {
  service: string;
  operation?: string;
  /** OTLP SpanKind; all kinds when absent. */
  kind?: number;
  /** true: only error spans; false: only non-error; absent: both. */
  error?: boolean;
  startNs: bigint;
  endNs: bigint;
}

export interface SpanReader {
  listServices(): Promise<ServiceSummary[]>;
  /** Null when the service is unknown (so callers can suggest valid names). */
  searchTraces(query: TraceSearchQuery): Promise<TraceSummary[] | null>;
  /** Null when no span of the trace is stored. `traceId` is 32 hex digits. */
  getTrace(traceId: string): Promise<StoredTrace | null>;
}

export interface LatencyReader {
  /** Null when the service (or the operation within it) is unknown. */
  latency(query: LatencyQuery): Promise<LatencyDistribution | null>;
}

// ---- Read paths for the MCP tools and analysis (issue 4) ----

/**
 * How much of each stored span to decode. `timing` comes from the indexed columns alone (ids, names,
 * kind, times, status code): no protobuf decode, fast enough for thousands of traces; attributes,
 * resource, events, links and the status message are empty. `links` adds the span links (what CP-v1
 * needs for FOLLOWS_FROM) with a skip-everything-else wire scan. `full` decodes the stored bytes.
 * `errors` is `links` plus the attributes, events and status message of the spans that are ERR-v1
 * errors (flagged at ingest; in older data, those that may be), resource left empty: a trace summary.
 */
export type TraceDetail = 'timing' | 'links' | 'errors' | 'full';

export interface OperationStatsQuery {
  /** All services when absent. */
  service?: string;
  /** OTLP SpanKinds to include; all kinds when absent. */
  kinds?: readonly number[];
  /** `service` merges every operation and kind of a service into one row (operation "", kind -1). */
  groupBy?: 'operation' | 'service';
  startNs: bigint;
  endNs: bigint;
}

/** One (service, span name, kind) over a window, merged from the HDR histograms (never from spans). */
export interface OperationStats {
  service: string;
  operation: string;
  kind: number;
  /** Spans with status ERROR. */
  errorCount: number;
  /** Every span (error or not). */
  latency: LatencyDistribution;
}

export interface TraceSpanReader {
  /**
   * Up to `limit` traces matching the query, sampled uniformly over the window (not the newest ones), and
   * how many matched; null when the service is unknown.
   */
  sampleTraceIds(query: TraceSearchQuery): Promise<TraceIdSample | null>;
  /** Null when no span of the trace is stored. Spans in arrival order. */
  getTraceSpans(traceId: string, options: { detail: TraceDetail }): Promise<TraceSpan[] | null>;
  /**
   * The same spans (arrival order, `links` detail by default) as columns: one trace's headers without an
   * object per span, for analyses of very large traces. `timing` leaves links out; `errors` adds
   * `errorDetails`, the spans getTraceSpans(`errors`) decodes in full. Null when no span of the trace is stored.
   */
  getTraceColumns(traceId: string, options?: { detail: TraceColumnsDetail }): Promise<TraceColumns | null>;
  /** Many traces at once (bulk analysis); unknown ids are absent from the map. */
  getTracesSpans(traceIds: readonly string[], options: { detail: TraceDetail }): Promise<Map<string, TraceSpan[]>>;
}

export interface OperationStatsReader {
  /** Null when the service is unknown. Rows in no particular order. */
  operationStats(query: OperationStatsQuery): Promise<OperationStats[] | null>;
}

// ---- Alerting (issue 5): what the alerting engine reads for SLO rules, and what MCP reads and writes ----
import type { BurnWindow, WindowEvents } from '../analysis/burn-rate.js';
import type { AlertStateName } from '../analysis/alert-state.js';

/** Per-window event counts of an SLO's objectives (SLO-v1): what a burn_rate alert rule evaluates. */
export interface SloBurnSource {
  /**
   * One entry per ratio objective of the SLO (SLO-v1 names: availability, latency_le_<ms>ms, error_rate),
   * each with its target (good fraction) and events per window ending at nowMs. Null when no SLO has that name.
   */
  burnEvents(slo: string, windows: readonly BurnWindow[], nowMs: number): Promise<SloObjectiveEvents[] | null>;
}

export interface SloObjectiveEvents {
  objective: string;
  target: number;
  events: Partial<Record<BurnWindow, WindowEvents>>;
}

/** One rule with its current state. */
export interface AlertOverviewRow {
  name: string;
  source: 'config' | 'mcp';
  type: string;
  severity: string;
  /** The condition in words, e.g. "p95(checkout) over 5m > 2000 ms". */
  expr: string;
  forMs: number;
  receivers: string[];
  state: AlertStateName;
  /** pending/firing: when the condition turned true; resolved: when it resolved. */
  sinceMs: number | null;
  value: number | null;
  lastEvalMs: number | null;
  /** Why the last evaluation produced no value (unknown service, SLO, metric), if so. */
  note?: string;
}

export interface AlertHistoryEntry {
  atMs: number;
  rule: string;
  /** state: a transition (from → to); delivery: one webhook attempt. */
  kind: 'state' | 'delivery';
  from?: AlertStateName;
  to?: AlertStateName;
  value?: number | null;
  receiver?: string;
  attempt?: number;
  ok?: boolean;
  /** HTTP status or error text of a delivery attempt. */
  detail?: string;
}

export type AlertWriteResult = { ok: true; created: boolean; rule: AlertOverviewRow } | { ok: false; error: string };

export interface AlertsPort {
  /** Every rule, firing and pending first; the newest history entries (at most historyLimit). */
  overview(query: { historyLimit: number; rule?: string }): Promise<{ alerts: AlertOverviewRow[]; history: AlertHistoryEntry[] }>;
  /** Validates and stores an MCP-managed rule; config rules cannot be replaced. */
  upsertRule(spec: Record<string, unknown>): Promise<AlertWriteResult>;
  deleteRule(name: string): Promise<{ ok: true } | { ok: false; error: string }>;
}

// ---- Per-step latency series (issue 5: window comparison, anomalies, capacity) ----

export interface LatencyTimelineQuery {
  /** All services when absent. */
  service?: string;
  operation?: string;
  /** OTLP SpanKinds to include; all kinds when absent. */
  kinds?: readonly number[];
  /** Stored minutes (hours) that start in [startNs, endNs). */
  startNs: bigint;
  endNs: bigint;
  /** A multiple of 60,000; a multiple of 3,600,000 reads the hourly rows. Steps are epoch-aligned. */
  stepMs: number;
  /** Decode the histograms; false gives counts and errors only (no decode, much cheaper). */
  histograms: boolean;
}

/** A latency distribution as its non-empty HDR buckets, ascending; each bucket is one tie group. */
export interface LatencyBuckets {
  /** The bucket's highest equivalent value (what a percentile read returns), µs. */
  upperUs: number[];
  counts: number[];
}

export interface LatencyStep {
  /** Epoch ms of the step's start (a multiple of stepMs). */
  startMs: number;
  count: number;
  errors: number;
  /** Every span of the step (error or not); null when histograms were not asked for. */
  buckets: LatencyBuckets | null;
}

/** One (service, span name, kind): its non-empty steps, ascending. */
export interface LatencyTimeline {
  service: string;
  operation: string;
  kind: number;
  steps: LatencyStep[];
}

export interface LatencyTimelineReader {
  /** Null when the service (or the operation within it) is unknown. */
  latencyTimeline(query: LatencyTimelineQuery): Promise<LatencyTimeline[] | null>;
}
// ---- SLOs (issue 5): declared in analysis (which evaluates them), implemented in store/sqlite ----

export type {
  SloBucket,
  SloBucketQuery,
  SloBucketResult,
  SloCatalog,
  SloEventReader,
  SloSource,
  StoredSlo,
} from '../analysis/slo-source.js';
export { SloDefinitionError } from '../analysis/slo-source.js';
/** One MCP tool call as the audit log keeps it: who, what (a digest of the arguments, never secrets), how it went. */
export interface AuditEntry {
  timeMs: number;
  transport: 'stdio' | 'http';
  /** Token name, "local" (stdio) or "anonymous". */
  identity: string;
  role: 'ingest' | 'read' | 'admin';
  tool: string;
  writes: boolean;
  /** SHA-256 (hex) of the canonical JSON of the arguments (keys sorted). */
  argsSha256: string;
  /** Short preview of the arguments with secret-looking values masked. */
  argsPreview: string;
  durationMs: number;
  resultBytes: number;
  truncated: boolean;
  outcome: 'ok' | 'refused' | 'error';
  error?: string;
}

export interface AuditQuery {
  /** Inclusive lower bound (ms since epoch). */
  sinceMs: number;
  /** Inclusive upper bound; default: now. */
  untilMs?: number;
  identity?: string;
  tool?: string;
  /** Entries skipped from the start in `order` (paging). */
  offset?: number;
  limit: number;
  /** desc: newest first (what a person asks for); asc: oldest first (a log to replay). */
  order: 'asc' | 'desc';
}

export interface AuditReader {
  /** Entries in [sinceMs, untilMs]; anything still queued for writing is written first, so a call just made is seen. */
  auditEntries(query: AuditQuery): Promise<{ entries: AuditEntry[]; total: number }>;
}

/** A uniform sample of the traces matching a search (TraceSpanReader.sampleTraceIds). */
export interface TraceIdSample {
  /** In no particular order. */
  traceIds: string[];
  /** Traces that matched: exact when `matchedExact`, else estimated from the sampled fraction. */
  matched: number;
  matchedExact: boolean;
}
