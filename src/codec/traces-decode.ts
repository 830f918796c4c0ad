import { MalformedProtobufError, WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, WireReader } from './wire-reader.js';
import type { DecodedResource, DecodedScope, DecodedSpan, DecodedTraces } from '../model/decoded.js';
import { isEffectiveErrorStatus, StatusCode, UNKNOWN_SERVICE } from '../model/span.js';
import type { Redactor } from './redact.js';

/** How many distinct rejection reasons are kept for the partial-success message. */
const MAX_REASONS = 5;

/**
 * Decodes an ExportTraceServiceRequest in one pass. Spans with invalid ids are rejected one by one
 * (counted for partial_success) so that their batch-mates are kept; a request that is not valid
 * protobuf at all throws MalformedProtobufError, which the receivers answer with 400 / INVALID_ARGUMENT.
 * The returned views alias `buf`: the caller must keep it alive and unmodified while they are used.
 * With a redactor, the raw span, resource and scope bytes handed on are the redacted ones (fresh
 * buffers where something was replaced); a span whose attributes cannot be walked is rejected, since
 * it could not be checked for secrets.
 */
export function decodeTracesRequest(buf: Uint8Array, redactor?: Redactor): DecodedTraces {
  const out: DecodedTraces = { resources: [], spanCount: 0, rejected: 0, reasons: [] };
  const r = new WireReader(buf);
  while (!r.done) {
    const tag = r.varint();
    if (tag >>> 3 === 1 && (tag & 7) === WIRE_LEN) {
      const [start, end] = r.lengthDelimited();
      const resource = decodeResourceSpans(buf, start, end, out, redactor);
      if (resource.scopes.length > 0) out.resources.push(resource);
    } else {
      r.skip(tag & 7);
    }
  }
  return out;
}

function decodeResourceSpans(buf: Uint8Array, start: number, end: number, out: DecodedTraces, redactor: Redactor | undefined): DecodedResource {
  const resource: DecodedResource = { raw: null, schemaUrl: '', serviceName: UNKNOWN_SERVICE, scopes: [] };
  const r = new WireReader(buf, start, end);
  while (!r.done) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === WIRE_LEN) {
      resource.raw = r.bytes();
      if (redactor !== undefined) resource.raw = redactor.resource(resource.raw) ?? resource.raw;
      resource.serviceName = readServiceName(resource.raw) ?? UNKNOWN_SERVICE;
    } else if (field === 2 && wire === WIRE_LEN) {
      const [s, e] = r.lengthDelimited();
      const scope = decodeScopeSpans(buf, s, e, out, redactor);
      if (scope.spans.length > 0) resource.scopes.push(scope);
    } else if (field === 3 && wire === WIRE_LEN) {
      resource.schemaUrl = r.string();
    } else {
      r.skip(wire);
    }
  }
  return resource;
}

function decodeScopeSpans(buf: Uint8Array, start: number, end: number, out: DecodedTraces, redactor: Redactor | undefined): DecodedScope {
  const scope: DecodedScope = { raw: null, schemaUrl: '', spans: [] };
  const r = new WireReader(buf, start, end);
  while (!r.done) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === WIRE_LEN) {
      scope.raw = r.bytes();
      if (redactor !== undefined) scope.raw = redactor.scope(scope.raw) ?? scope.raw;
    } else if (field === 2 && wire === WIRE_LEN) {
      const [s, e] = r.lengthDelimited();
      const span = decodeSpan(buf, s, e);
      let problem = span === null ? null : invalidSpanReason(span);
      if (span !== null && problem === null && redactor !== undefined) problem = redactSpan(redactor, span, buf, s, e);
      if (span !== null && problem === null) {
        scope.spans.push(span);
        out.spanCount++;
      } else {
        out.rejected++;
        const reason = problem ?? 'span is not valid protobuf';
        if (out.reasons.length < MAX_REASONS && !out.reasons.includes(reason)) out.reasons.push(reason);
      }
    } else if (field === 3 && wire === WIRE_LEN) {
      scope.schemaUrl = r.string();
    } else {
      r.skip(wire);
    }
  }
  return scope;
}

const EMPTY = new Uint8Array(0);

/** Swaps in the redacted bytes; returns a rejection reason when the attributes are not walkable. */
function redactSpan(redactor: Redactor, span: DecodedSpan, buf: Uint8Array, start: number, end: number): string | null {
  try {
    const redacted = redactor.span(buf, start, end);
    if (redacted !== null) span.raw = redacted;
    return null;
  } catch (err) {
    if (err instanceof MalformedProtobufError) return 'span attributes, events or links are not valid protobuf';
    throw err;
  }
}

/** Returns null when the span's own bytes are malformed, so that only this span is rejected. */
function decodeSpan(buf: Uint8Array, start: number, end: number): DecodedSpan | null {
  const span: DecodedSpan = {
    traceId: EMPTY,
    spanId: EMPTY,
    parentSpanId: EMPTY,
    name: '',
    kind: 0,
    startNs: 0n,
    endNs: 0n,
    statusCode: 0,
    effectiveError: false,
    hasLinks: false,
    raw: buf.subarray(start, end),
  };
  const r = new WireReader(buf, start, end);
  // Protocol status codes, for ERR-v1 on UNSET spans: read while passing the attributes anyway.
  let httpStatus: number | undefined;
  let httpStatusOld: number | undefined;
  let grpcStatus: number | undefined;
  try {
    while (!r.done) {
      const tag = r.varint();
      const field = tag >>> 3;
      const wire = tag & 7;
      if (field === 1 && wire === WIRE_LEN) span.traceId = r.bytes();
      else if (field === 2 && wire === WIRE_LEN) span.spanId = r.bytes();
      else if (field === 4 && wire === WIRE_LEN) span.parentSpanId = r.bytes();
      else if (field === 5 && wire === WIRE_LEN) span.name = r.string();
      else if (field === 6 && wire === WIRE_VARINT) span.kind = r.varint();
      else if (field === 7 && wire === WIRE_FIXED64) span.startNs = r.fixed64();
      else if (field === 8 && wire === WIRE_FIXED64) span.endNs = r.fixed64();
      else if (field === 15 && wire === WIRE_LEN) span.statusCode = readStatusCode(r.bytes());
      else if (field === 16 && wire === WIRE_FIXED32) r.fixed32();
      else if (field === 9 && wire === WIRE_LEN) {
        const len = r.varint();
        const s = r.pos;
        if (s + len > r.end) throw new MalformedProtobufError('length-delimited field runs past its message');
        r.pos = s + len;
        // Most attributes are dismissed by their key's length byte (the three keys are 25, 16, 20 bytes).
        const keyLen = buf[s + 1];
        if (keyLen === 25 || keyLen === 16 || keyLen === 20) {
          const key = statusKey(buf, s, s + len);
          if (key === HTTP_KEY) httpStatus = statusValue(buf, s + 2 + HTTP_STATUS.length, s + len);
          else if (key === HTTP_OLD_KEY) httpStatusOld = statusValue(buf, s + 2 + HTTP_STATUS_OLD.length, s + len);
          else if (key === GRPC_KEY) grpcStatus = statusValue(buf, s + 2 + GRPC_STATUS.length, s + len);
        }
      } else if (field === 13 && wire === WIRE_LEN) {
        r.skip(wire);
        span.hasLinks = true;
      } else r.skip(wire);
    }
  } catch (err) {
    if (err instanceof MalformedProtobufError) return null;
    throw err;
  }
  if (span.statusCode === StatusCode.ERROR) span.effectiveError = true;
  else if (span.statusCode === StatusCode.UNSET && (httpStatus ?? httpStatusOld ?? grpcStatus) !== undefined) {
    span.effectiveError = isEffectiveErrorStatus(span.statusCode, span.kind, httpStatus ?? httpStatusOld, grpcStatus);
  }
  return span;
}

const utf8 = new TextEncoder();
const HTTP_STATUS = utf8.encode('http.response.status_code');
const HTTP_STATUS_OLD = utf8.encode('http.status_code');
const GRPC_STATUS = utf8.encode('rpc.grpc.status_code');
const HTTP_KEY = 1;
const HTTP_OLD_KEY = 2;
const GRPC_KEY = 3;

/**
 * Which protocol status attribute the KeyValue at [s, e) is (0: none). The three keys differ in length
 * (25, 16, 20 bytes), so most attributes are dismissed by their key's length byte alone; a key is
 * field 1 and comes first in every SDK's encoding (a key elsewhere is simply not recognised).
 */
function statusKey(buf: Uint8Array, s: number, e: number): number {
  if (buf[s] !== 0x0a) return 0;
  const len = buf[s + 1] as number;
  const key = len === 25 ? HTTP_STATUS : len === 16 ? HTTP_STATUS_OLD : len === 20 ? GRPC_STATUS : null;
  if (key === null || s + 2 + len > e || !bytesEqual(buf, s + 2, s + 2 + len, key)) return 0;
  return key === HTTP_STATUS ? HTTP_KEY : key === HTTP_STATUS_OLD ? HTTP_OLD_KEY : GRPC_KEY;
}

/**
 * The value of KeyValue field 2 after the key at `at`: an int, a double or a numeric string (some SDKs
 * send strings). The common case (one-byte lengths, an int value) is read without allocating.
 */
function statusValue(buf: Uint8Array, at: number, end: number): number | undefined {
  if (buf[at] === 0x12 && at + 3 < end && (buf[at + 1] as number) < 0x80 && buf[at + 2] === 0x18) {
    let value = 0;
    let multiplier = 1;
    for (let p = at + 3; p < end && p < at + 8; p++) {
      const byte = buf[p] as number;
      value += (byte & 0x7f) * multiplier;
      if (byte < 0x80) return value;
      multiplier *= 128;
    }
    return undefined; // ≥ 2^35 or negative: no status code
  }
  const r = new WireReader(buf, at, end);
  let value: number | undefined;
  while (!r.done) {
    const tag = r.varint();
    if (tag !== ((2 << 3) | WIRE_LEN)) {
      r.skip(tag & 7);
      continue;
    }
    const [vs, ve] = r.lengthDelimited();
    const any = new WireReader(buf, vs, ve);
    while (!any.done) {
      const t = any.varint();
      if (t === ((3 << 3) | WIRE_VARINT)) {
        const v = Number(BigInt.asIntN(64, any.varintBig()));
        value = Number.isSafeInteger(v) ? v : undefined;
      } else if (t === ((4 << 3) | WIRE_FIXED64)) {
        const f64 = new Float64Array(new BigUint64Array([any.fixed64()]).buffer)[0] as number;
        value = Number.isFinite(f64) ? f64 : undefined;
      } else if (t === ((1 << 3) | WIRE_LEN)) {
        const text = any.string();
        value = /^\s*-?\d+\s*$/.test(text) ? Number(text) : undefined;
      } else any.skip(t & 7);
    }
  }
  return value;
}

function isAllZero(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

function invalidSpanReason(span: DecodedSpan): string | null {
  if (span.traceId.length !== 16) return `trace_id must be 16 bytes, got ${span.traceId.length}`;
  if (isAllZero(span.traceId)) return 'trace_id must not be all zeroes';
  if (span.spanId.length !== 8) return `span_id must be 8 bytes, got ${span.spanId.length}`;
  if (isAllZero(span.spanId)) return 'span_id must not be all zeroes';
  if (span.parentSpanId.length !== 0 && span.parentSpanId.length !== 8) {
    return `parent_span_id must be empty or 8 bytes, got ${span.parentSpanId.length}`;
  }
  // Some SDKs send an all-zero parent for roots; it means "no parent", not an error.
  if (span.parentSpanId.length === 8 && isAllZero(span.parentSpanId)) span.parentSpanId = EMPTY;
  if (span.kind > 5) span.kind = 0;
  return null;
}

function readStatusCode(status: Uint8Array): number {
  const r = new WireReader(status);
  let code = 0;
  while (!r.done) {
    const tag = r.varint();
    if (tag === ((3 << 3) | WIRE_VARINT)) code = r.varint();
    else r.skip(tag & 7);
  }
  return code > 2 ? 0 : code;
}

const SERVICE_NAME = new TextEncoder().encode('service.name');

/** Finds the string value of the `service.name` resource attribute without decoding the others. */
export function readServiceName(resource: Uint8Array): string | null {
  const r = new WireReader(resource);
  let found: string | null = null;
  while (!r.done) {
    const tag = r.varint();
    if (tag !== ((1 << 3) | WIRE_LEN)) {
      r.skip(tag & 7);
      continue;
    }
    const [s, e] = r.lengthDelimited();
    const kv = new WireReader(resource, s, e);
    let isServiceName = false;
    let value: string | null = null;
    while (!kv.done) {
      const t = kv.varint();
      if (t === ((1 << 3) | WIRE_LEN)) {
        const [ks, ke] = kv.lengthDelimited();
        isServiceName = bytesEqual(resource, ks, ke, SERVICE_NAME);
      } else if (t === ((2 << 3) | WIRE_LEN)) {
        const [vs, ve] = kv.lengthDelimited();
        const any = new WireReader(resource, vs, ve);
        while (!any.done) {
          const at = any.varint();
          if (at === ((1 << 3) | WIRE_LEN)) value = any.string();
          else any.skip(at & 7);
        }
      } else {
        kv.skip(t & 7);
      }
    }
    if (isServiceName && value !== null && value !== '') found = value;
  }
  return found;
}

function bytesEqual(buf: Uint8Array, start: number, end: number, expected: Uint8Array): boolean {
  if (end - start !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (buf[start + i] !== expected[i]) return false;
  return true;
}
