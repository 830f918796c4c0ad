/**
 * What the interfaces and analysis read from a store. Methods return promises even for SQLite so that a
 * remote backend (e.g. the OTel ClickHouse schema) can implement the same ports; queries are typed
 * parameter objects, never SQL, so an adapter can push them down.
 */
import type { LatencyDistribution } from '../analysis/latency.js';

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
  /** Only traces with a span whose status is ERROR. */
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
