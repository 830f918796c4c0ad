import { otlpType, TypeNames } from './protos.js';

import type { OtlpEncoding } from '../model/otlp.js';
export type { OtlpEncoding };

/** OTLP answers are capped (spec "OTLP/HTTP Response": limit the response size); the message is the only unbounded part. */
const MAX_ERROR_MESSAGE = 1024;

const EMPTY_PROTO = new Uint8Array(0);
const EMPTY_JSON = new TextEncoder().encode('{}');

/**
 * Encodes an Export*ServiceResponse. With nothing rejected and no warning, partial_success is left
 * unset (spec "Full Success"): an empty message, which is zero bytes in protobuf and `{}` in JSON.
 */
export function encodeExportResponse(
  encoding: OtlpEncoding,
  rejected: number,
  errorMessage: string,
  rejectedField: 'rejectedSpans' | 'rejectedDataPoints' = 'rejectedSpans',
): Uint8Array {
  if (rejected === 0 && errorMessage === '') return encoding === 'json' ? EMPTY_JSON : EMPTY_PROTO;
  const message = truncate(errorMessage);
  if (encoding === 'json') {
    // int64 fields are strings in proto3 JSON.
    return new TextEncoder().encode(
      JSON.stringify({ partialSuccess: { [rejectedField]: String(rejected), errorMessage: message } }),
    );
  }
  const type = otlpType(TypeNames.exportTracesResponse);
  // Both signals' partial-success messages share field numbers (1: rejected count, 2: message).
  return type.encode({ partialSuccess: { rejectedSpans: rejected, errorMessage: message } }).finish();
}

/** A google.rpc.Status body for an OTLP/HTTP error response, in the request's encoding. */
export function encodeRpcStatus(encoding: OtlpEncoding, code: number, message: string): Uint8Array {
  const text = truncate(message);
  if (encoding === 'json') return new TextEncoder().encode(JSON.stringify({ code, message: text }));
  return otlpType(TypeNames.rpcStatus).encode({ code, message: text }).finish();
}

/**
 * The binary google.rpc.Status carried in gRPC's `grpc-status-details-bin` trailer, with a RetryInfo
 * detail: under OTLP that detail is what tells a client how long to wait before retrying.
 */
export function encodeRetryStatusDetails(code: number, message: string, retryDelayMs: number): Uint8Array {
  const seconds = Math.floor(retryDelayMs / 1000);
  const nanos = (retryDelayMs % 1000) * 1_000_000;
  const retryInfo = otlpType(TypeNames.retryInfo).encode({ retryDelay: { seconds, nanos } }).finish();
  return otlpType(TypeNames.rpcStatus)
    .encode({
      code,
      message: truncate(message),
      details: [{ type_url: 'type.googleapis.com/google.rpc.RetryInfo', value: retryInfo }],
    })
    .finish();
}

function truncate(message: string): string {
  return message.length > MAX_ERROR_MESSAGE ? `${message.slice(0, MAX_ERROR_MESSAGE - 1)}…` : message;
}
