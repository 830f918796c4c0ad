/**
 * A span as analysis sees it: decoded, with the attributes analysis rules read (semantic conventions
 * for errors, peers and databases). The store builds these from the bytes it kept; analysis never sees
 * protobuf. Times are BigInt nanoseconds end to end (ARCHITECTURE.md house style 11).
 */
export type AttributeValue = string | number | boolean | bigint | AttributeValue[] | null;
export type Attributes = Record<string, AttributeValue>;

export interface TraceEvent {
  name: string;
  timeNs: bigint;
  attributes: Attributes;
}

export interface TraceLink {
  /** 32 lower-case hex digits. */
  traceId: string;
  /** 16 lower-case hex digits. */
  spanId: string;
  attributes: Attributes;
}

export interface TraceSpan {
  /** 32 lower-case hex digits. */
  traceId: string;
  /** 16 lower-case hex digits. */
  spanId: string;
  /** Empty string for a root span. */
  parentSpanId: string;
  /** The resource's service.name (or UNKNOWN_SERVICE). */
  service: string;
  name: string;
  /** OTLP SpanKind (see SpanKind in span.ts). */
  kind: number;
  startNs: bigint;
  endNs: bigint;
  /** OTLP Status.StatusCode (see StatusCode in span.ts). */
  statusCode: number;
  statusMessage: string;
  /** Span attributes; empty when the caller asked for timing only. */
  attributes: Attributes;
  /** Resource attributes (service.version, deployment.environment, ...); empty for timing only. */
  resource: Attributes;
  events: TraceEvent[];
  links: TraceLink[];
}
