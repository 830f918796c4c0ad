/** The service name OpenTelemetry SDKs use when none is configured; we use it for resources without one. */
export const UNKNOWN_SERVICE = 'unknown_service';

/** OTLP Span.SpanKind values. */
export const SpanKind = {
  UNSPECIFIED: 0,
  INTERNAL: 1,
  SERVER: 2,
  CLIENT: 3,
  PRODUCER: 4,
  CONSUMER: 5,
} as const;

/** OTLP Status.StatusCode values. */
export const StatusCode = {
  UNSET: 0,
  OK: 1,
  ERROR: 2,
} as const;

export const SPAN_KIND_NAMES = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
export type SpanKindName = (typeof SPAN_KIND_NAMES)[number];

/** gRPC codes a server reports for its own failures: UNKNOWN, DEADLINE_EXCEEDED, UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS. */
const GRPC_SERVER_ERROR_CODES: ReadonlySet<number> = new Set([2, 4, 12, 13, 14, 15]);

/**
 * ERR-v1 effective error (ANALYSIS.md §7.2) from the span's status, kind and protocol status codes
 * (undefined: attribute absent). One rule for the ingest decoder (search rows) and the analyses.
 */
export function isEffectiveErrorStatus(statusCode: number, kind: number, httpStatus: number | undefined, grpcStatus: number | undefined): boolean {
  if (statusCode === StatusCode.ERROR) return true;
  if (statusCode === StatusCode.OK) return false;
  if (httpStatus !== undefined) {
    if (kind === SpanKind.SERVER && httpStatus >= 500) return true;
    if (kind === SpanKind.CLIENT && httpStatus >= 400) return true;
  }
  if (grpcStatus !== undefined) {
    if (kind === SpanKind.SERVER && GRPC_SERVER_ERROR_CODES.has(grpcStatus)) return true;
    if (kind === SpanKind.CLIENT && grpcStatus !== 0) return true;
  }
  return false;
}
