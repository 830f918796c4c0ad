import { status as GrpcStatus } from '@grpc/grpc-js';
import { PermanentError, RetryableError } from '../../pipeline/errors.js';

/**
 * The one table from pipeline errors to wire answers (OTLP spec "Failures", "Throttling"; compatible with
 * the Collector's errors.go). Retryable failures carry a delay: gRPC UNAVAILABLE + RetryInfo, HTTP 503 +
 * Retry-After. Oversized input is RESOURCE_EXHAUSTED without RetryInfo (= not retryable) / 413.
 * Anything unrecognised is retryable: an internal failure must never make a client drop data.
 */
export interface WireError {
  grpcCode: GrpcStatus;
  httpStatus: number;
  message: string;
  /** Present only when the client should retry. */
  retryAfterMs?: number;
}

const DEFAULT_RETRY_AFTER_MS = 1000;

export function toWireError(err: unknown): WireError {
  if (err instanceof PermanentError) {
    switch (err.code) {
      case 'payload_too_large':
        return { grpcCode: GrpcStatus.RESOURCE_EXHAUSTED, httpStatus: 413, message: err.message };
      case 'unsupported':
        return { grpcCode: GrpcStatus.UNIMPLEMENTED, httpStatus: 415, message: err.message };
      default:
        return { grpcCode: GrpcStatus.INVALID_ARGUMENT, httpStatus: 400, message: err.message };
    }
  }
  if (err instanceof RetryableError) {
    return { grpcCode: GrpcStatus.UNAVAILABLE, httpStatus: 503, message: err.message, retryAfterMs: err.retryAfterMs };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { grpcCode: GrpcStatus.UNAVAILABLE, httpStatus: 503, message, retryAfterMs: DEFAULT_RETRY_AFTER_MS };
}

/** Retry-After takes whole seconds; round up so clients never come back early. */
export function retryAfterSeconds(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

/**
 * Refused credentials, from the same table (OTLP spec "Failures": both codes are not retryable, so an
 * exporter with a wrong token drops its data instead of retrying forever; Collector errors.go: 401/403).
 */
export function authWireError(refusal: 'unauthenticated' | 'forbidden', message: string): WireError {
  return refusal === 'unauthenticated'
    ? { grpcCode: GrpcStatus.UNAUTHENTICATED, httpStatus: 401, message }
    : { grpcCode: GrpcStatus.PERMISSION_DENIED, httpStatus: 403, message };
}
