import { otlpType, TypeNames } from './protos.js';
import { MalformedProtobufError } from './wire-reader.js';
import { MalformedJsonError, quoteLargeIntegers } from './otlp-json-in.js';
import { EnvelopeError, normalizeMetricsRequest } from './metrics-normalize.js';
import type { DecodedMetrics, Labels } from '../model/metric.js';
import type { OtlpEncoding } from '../model/otlp.js';

const textDecoder = new TextDecoder('utf-8');

/**
 * Decodes an ExportMetricsServiceRequest (protobuf or OTLP/JSON) into validated series batches.
 * Invalid data points are rejected one by one (`rejected`, `reasons`); a body that is not a decodable
 * request at all throws MalformedProtobufError / MalformedJsonError (400 / INVALID_ARGUMENT).
 * Protobuf goes through protobufjs rather than the hand-rolled span reader: metric points are small and
 * few per request compared with spans, and one normalizer then serves both encodings.
 */
export function decodeMetricsRequest(encoding: OtlpEncoding, body: Uint8Array, redact?: (labels: Labels) => void): DecodedMetrics {
  return encoding === 'json' ? decodeMetricsJson(body, redact) : decodeMetricsProtobuf(body, redact);
}

export function decodeMetricsProtobuf(body: Uint8Array, redact?: (labels: Labels) => void): DecodedMetrics {
  let message: unknown;
  try {
    message = otlpType(TypeNames.exportMetricsRequest).decode(body);
  } catch (err) {
    throw new MalformedProtobufError((err as Error).message);
  }
  try {
    return normalizeMetricsRequest(message, redact);
  } catch (err) {
    if (err instanceof EnvelopeError) throw new MalformedProtobufError(err.message);
    throw err;
  }
}

export function decodeMetricsJson(body: Uint8Array, redact?: (labels: Labels) => void): DecodedMetrics {
  let doc: unknown;
  try {
    doc = JSON.parse(quoteLargeIntegers(textDecoder.decode(body)));
  } catch (err) {
    throw new MalformedJsonError(`request body is not valid JSON: ${(err as Error).message}`);
  }
  try {
    return normalizeMetricsRequest(doc, redact);
  } catch (err) {
    if (err instanceof EnvelopeError) throw new MalformedJsonError(err.message);
    throw err;
  }
}
