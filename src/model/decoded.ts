/**
 * What the ingest decoder hands to the store: the few fields the store indexes, plus the exact bytes
 * of each span, resource and scope so that a trace can be returned as it was received.
 * Byte fields are views into the request buffer (see decodeTracesRequest, which expands the flat decode of codec/trace-layout.ts).
 */
export interface DecodedSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  /** Empty for a root span. */
  parentSpanId: Uint8Array;
  name: string;
  kind: number;
  startNs: bigint;
  endNs: bigint;
  statusCode: number;
  /** ERR-v1 effective error: status ERROR, or UNSET with an HTTP/gRPC status code that means failure. */
  effectiveError: boolean;
  /** The span carries links (field 13): readers scan only such spans for FOLLOWS_FROM. */
  hasLinks: boolean;
  /** The span's own protobuf encoding (opentelemetry.proto.trace.v1.Span). */
  raw: Uint8Array;
}

export interface DecodedScope {
  /** InstrumentationScope bytes, or null when the sender left the scope unset. */
  raw: Uint8Array | null;
  /** Digest of schemaUrl and raw that the store deduplicates by, when computed before the writer. */
  digest?: Uint8Array;
  schemaUrl: string;
  spans: DecodedSpan[];
}

export interface DecodedResource {
  /** Resource bytes, or null when unset. */
  raw: Uint8Array | null;
  /** Digest of schemaUrl and raw that the store deduplicates by, when computed before the writer. */
  digest?: Uint8Array;
  schemaUrl: string;
  serviceName: string;
  scopes: DecodedScope[];
}

export interface DecodedTraces {
  resources: DecodedResource[];
  /** Spans accepted by validation. */
  spanCount: number;
  /** Spans rejected individually (bad ids, malformed span bytes). */
  rejected: number;
  /** A few distinct rejection reasons, for the partial_success error_message. */
  reasons: string[];
}
