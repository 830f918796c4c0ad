/**
 * What the interfaces and analysis read from a store. Methods return promises even for SQLite so that a
 * remote backend (e.g. the OTel ClickHouse schema) can implement the same ports; queries are typed
 * parameter objects, never SQL, so an adapter can push them down.
 */
import type { LatencyDistribution } from '../analysis/latency.js';
import type { TraceSpan } from '../model/trace.js';

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
  /** Many traces at once (bulk analysis); unknown ids are absent from the map. */
  getTracesSpans(traceIds: readonly string[], options: { detail: TraceDetail }): Promise<Map<string, TraceSpan[]>>;
}

export interface OperationStatsReader {
  /** Null when the service is unknown. Rows in no particular order. */
  operationStats(query: OperationStatsQuery): Promise<OperationStats[] | null>;
}

/** A uniform sample of the traces matching a search (TraceSpanReader.sampleTraceIds). */
export interface TraceIdSample {
  /** In no particular order. */
  traceIds: string[];
  /** Traces that matched: exact when `matchedExact`, else estimated from the sampled fraction. */
  matched: number;
  matchedExact: boolean;
}
