import { bytesEqual, MalformedProtobufError, WIRE_FIXED32, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, WireReader } from './wire-reader.js';
import { GRPC_KEY, HTTP_KEY, HTTP_OLD_KEY, statusKey, statusValueOf } from './status-attributes.js';
import { isEffectiveErrorStatus, StatusCode, UNKNOWN_SERVICE } from '../model/span.js';
import { expandTraces, LAYOUT, TIME_HI, TIME_LO, type FlatTraces } from './trace-layout.js';
import type { DecodedTraces } from '../model/decoded.js';
import type { Redactor } from './redact.js';
import { SpanNames } from './span-names.js';

/** How many distinct rejection reasons are kept for the partial-success message. */
const MAX_REASONS = 5;
const { NONE, RESOURCE_WORDS, SCOPE_WORDS, SPAN_WORDS, STATUS_SHIFT, EFFECTIVE_ERROR, HAS_LINKS } = LAYOUT;

// Scratch reused from request to request (decoding is synchronous and not re-entrant); the result gets
// copies of exactly the words written.
let layout = new Uint32Array(1 << 14);
let times = new Uint32Array(1 << 12);
/** Next free word of `layout`, and spans written to `times`. */
let w = 0;
let t = 0;

/** One request's state besides the scratch arrays. */
interface Request {
  buf: Uint8Array;
  redactor: Redactor | undefined;
  out: FlatTraces;
  stringIndex: Map<string, number>;
  names: SpanNames;
  intern: (s: string) => number;
}

/**
 * Decodes an ExportTraceServiceRequest in one pass into its flat form (trace-layout.ts). Spans with
 * invalid ids are rejected one by one (counted for partial_success) so that their batch-mates are kept; a
 * request that is not valid protobuf at all throws MalformedProtobufError, which the receivers answer with
 * 400 / INVALID_ARGUMENT. Offsets point into `buf`. With a redactor, the span, resource and scope bytes
 * are the redacted ones where something was replaced (appended after the body, in `extra`); a span whose
 * attributes cannot be walked is rejected, since it could not be checked for secrets.
 */
export function decodeTracesFlat(buf: Uint8Array, redactor?: Redactor): FlatTraces {
  const out: FlatTraces = { layout, times, strings: [], extra: [], extraBytes: 0, spanCount: 0, rejected: 0, reasons: [] };
  const request: Request = { buf, redactor, out, stringIndex: new Map(), names: spanNames.reset(buf), intern: (s) => intern(request, s) };
  w = 1;
  t = 0;
  let resources = 0;
  const r = new WireReader(buf);
  while (!r.done) {
    const tag = r.varint();
    if (tag >>> 3 === 1 && (tag & 7) === WIRE_LEN) {
      const s = payloadStart(r);
      if (resourceSpans(request, s, r.pos)) resources++;
    } else {
      r.skip(tag & 7);
    }
  }
  layout[0] = resources;
  out.layout = layout.slice(0, w);
  out.times = times.slice(0, 4 * t);
  return out;
}

/**
 * decodeTracesFlat as objects (model/decoded.ts), for the cold paths: views alias `buf`, or the
 * redacted replacements.
 */
export function decodeTracesRequest(buf: Uint8Array, redactor?: Redactor): DecodedTraces {
  return expandTraces(decodeTracesFlat(buf, redactor), buf);
}

/** Reads a length and moves past the payload; returns the payload's start (its end is `r.pos`). */
function payloadStart(r: WireReader): number {
  const len = r.varint();
  const start = r.pos;
  if (start + len > r.end) throw new MalformedProtobufError('length-delimited field runs past its message');
  r.pos = start + len;
  return start;
}

function ensureWords(n: number): void {
  if (w + n <= layout.length) return;
  const grown = new Uint32Array(Math.max(2 * layout.length, w + n));
  grown.set(layout.subarray(0, w));
  layout = grown;
}

function intern(request: Request, s: string): number {
  let i = request.stringIndex.get(s);
  if (i === undefined) {
    i = request.out.strings.length;
    request.out.strings.push(s);
    request.stringIndex.set(s, i);
  }
  return i;
}

/** Appends replacement bytes after the body; returns their offset. */
function addExtra(request: Request, bytes: Uint8Array): number {
  const out = request.out;
  const offset = request.buf.length + out.extraBytes;
  out.extra.push(bytes);
  out.extraBytes += bytes.length;
  return offset;
}

function reject(out: FlatTraces, reason: string): void {
  out.rejected++;
  if (out.reasons.length < MAX_REASONS && !out.reasons.includes(reason)) out.reasons.push(reason);
}

/** Writes one ResourceSpans; returns false (and writes nothing) when none of its spans was kept. */
function resourceSpans(request: Request, start: number, end: number): boolean {
  const { buf, redactor } = request;
  ensureWords(RESOURCE_WORDS);
  const at = w;
  w += RESOURCE_WORDS;
  let raw: Uint8Array | null = null;
  let rawOffset: number = NONE;
  let schemaUrl = '';
  let scopes = 0;
  const r = new WireReader(buf, start, end);
  while (!r.done) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === WIRE_LEN) {
      const s = payloadStart(r);
      raw = buf.subarray(s, r.pos);
      rawOffset = s;
      const redacted = redactor?.resource(raw) ?? null;
      if (redacted !== null) {
        raw = redacted;
        rawOffset = addExtra(request, redacted);
      }
    } else if (field === 2 && wire === WIRE_LEN) {
      const s = payloadStart(r);
      if (scopeSpans(request, s, r.pos)) scopes++;
    } else if (field === 3 && wire === WIRE_LEN) {
      schemaUrl = r.string();
    } else {
      r.skip(wire);
    }
  }
  if (scopes === 0) {
    w = at;
    return false;
  }
  layout[at] = intern(request, (raw === null ? null : readServiceName(raw)) ?? UNKNOWN_SERVICE);
  layout[at + 1] = intern(request, schemaUrl);
  layout[at + 2] = raw === null ? NONE : rawOffset;
  layout[at + 3] = raw === null ? 0 : raw.length;
  layout[at + 4] = NONE;
  layout[at + 5] = scopes;
  return true;
}

/** Writes one ScopeSpans; returns false (and writes nothing) when none of its spans was kept. */
function scopeSpans(request: Request, start: number, end: number): boolean {
  const { buf, redactor } = request;
  ensureWords(SCOPE_WORDS);
  const at = w;
  w += SCOPE_WORDS;
  let rawOffset: number = NONE;
  let rawLength = 0;
  let schemaUrl = '';
  let spans = 0;
  const r = new WireReader(buf, start, end);
  while (!r.done) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === WIRE_LEN) {
      const s = payloadStart(r);
      rawOffset = s;
      rawLength = r.pos - s;
      const redacted = redactor?.scope(buf.subarray(s, r.pos)) ?? null;
      if (redacted !== null) {
        rawOffset = addExtra(request, redacted);
        rawLength = redacted.length;
      }
    } else if (field === 2 && wire === WIRE_LEN) {
      const s = payloadStart(r);
      if (span(request, s, r.pos)) spans++;
    } else if (field === 3 && wire === WIRE_LEN) {
      schemaUrl = r.string();
    } else {
      r.skip(wire);
    }
  }
  if (spans === 0) {
    w = at;
    return false;
  }
  layout[at] = intern(request, schemaUrl);
  layout[at + 1] = rawOffset;
  layout[at + 2] = rawLength;
  layout[at + 3] = NONE;
  layout[at + 4] = spans;
  return true;
}

// A span's fields while it is read; module-level so that reading a span allocates nothing.
let traceAt = 0;
let traceLength = 0;
let spanAt = 0;
let spanLength = 0;
let parentAt = 0;
let parentLength = 0;
let nameStart = 0;
let nameEnd = 0;
let kind = 0;
let statusCode = 0;
let hasLinks = false;
let httpStatus: number | undefined;
let httpStatusOld: number | undefined;
let grpcStatus: number | undefined;

/** Validates and writes one span; returns false when it was rejected (counted with its reason). */
function span(request: Request, start: number, end: number): boolean {
  const { buf, out } = request;
  traceLength = spanLength = parentLength = 0;
  nameStart = nameEnd = kind = statusCode = 0;
  hasLinks = false;
  httpStatus = httpStatusOld = grpcStatus = undefined;
  if (times.length < 4 * (t + 1)) {
    const grown = new Uint32Array(2 * times.length);
    grown.set(times);
    times = grown;
  }
  const time = 4 * t;
  times[time] = times[time + 1] = times[time + 2] = times[time + 3] = 0;
  try {
    readSpan(buf, start, end, time);
  } catch (err) {
    if (!(err instanceof MalformedProtobufError)) throw err;
    reject(out, 'span is not valid protobuf');
    return false;
  }
  const problem = invalidIdsReason(buf);
  if (problem !== null) {
    reject(out, problem);
    return false;
  }
  let rawOffset = start;
  let rawLength = end - start;
  if (request.redactor !== undefined) {
    let redacted: Uint8Array | null;
    try {
      redacted = request.redactor.span(buf, start, end);
    } catch (err) {
      if (!(err instanceof MalformedProtobufError)) throw err;
      reject(out, 'span attributes, events or links are not valid protobuf');
      return false;
    }
    if (redacted !== null) {
      rawOffset = addExtra(request, redacted);
      rawLength = redacted.length;
    }
  }
  if (kind > 5) kind = 0;
  let effectiveError = statusCode === StatusCode.ERROR;
  if (statusCode === StatusCode.UNSET && (httpStatus ?? httpStatusOld ?? grpcStatus) !== undefined) {
    effectiveError = isEffectiveErrorStatus(statusCode, kind, httpStatus ?? httpStatusOld, grpcStatus);
  }
  ensureWords(SPAN_WORDS);
  layout[w] = traceAt;
  layout[w + 1] = spanAt;
  // Some SDKs send an all-zero parent for roots; it means "no parent", not an error.
  layout[w + 2] = parentLength === 0 || isAllZero(buf, parentAt, parentAt + 8) ? NONE : parentAt;
  layout[w + 3] = request.names.indexOf(nameStart, nameEnd, request.intern);
  layout[w + 4] = kind | (statusCode << STATUS_SHIFT) | (effectiveError ? EFFECTIVE_ERROR : 0) | (hasLinks ? HAS_LINKS : 0);
  layout[w + 5] = rawOffset;
  layout[w + 6] = rawLength;
  w += SPAN_WORDS;
  t++;
  out.spanCount++;
  return true;
}

/** Reads the span's fields into the module-level registers and its times into `times` at `time`. */
function readSpan(buf: Uint8Array, start: number, end: number, time: number): void {
  const r = reader.reset(buf, start, end);
  while (!r.done) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === WIRE_LEN) {
      const s = payloadStart(r);
      const e = r.pos;
      if (field === 1) {
        traceAt = s;
        traceLength = e - s;
      } else if (field === 2) {
        spanAt = s;
        spanLength = e - s;
      } else if (field === 4) {
        parentAt = s;
        parentLength = e - s;
      } else if (field === 5) {
        nameStart = s;
        nameEnd = e;
      } else if (field === 15) statusCode = readStatusCode(buf, s, e);
      else if (field === 13) hasLinks = true;
      else if (field === 9) {
        // Most attributes are dismissed by their key's length byte (the three keys are 25, 16, 20 bytes).
        const keyLength = buf[s + 1];
        if (keyLength === 25 || keyLength === 16 || keyLength === 20) {
          const key = statusKey(buf, s, e);
          if (key === HTTP_KEY) httpStatus = statusValueOf(buf, s, e, key);
          else if (key === HTTP_OLD_KEY) httpStatusOld = statusValueOf(buf, s, e, key);
          else if (key === GRPC_KEY) grpcStatus = statusValueOf(buf, s, e, key);
        }
      }
    } else if (field === 6 && wire === WIRE_VARINT) kind = r.varint();
    else if (field === 7 && wire === WIRE_FIXED64) r.fixed64Words(times, time + TIME_LO, time + TIME_HI);
    else if (field === 8 && wire === WIRE_FIXED64) r.fixed64Words(times, time + 2 + TIME_LO, time + 2 + TIME_HI);
    else if (field === 16 && wire === WIRE_FIXED32) r.fixed32();
    else r.skip(wire);
  }
}

const reader = new WireReader(new Uint8Array(0));

function invalidIdsReason(buf: Uint8Array): string | null {
  if (traceLength !== 16) return `trace_id must be 16 bytes, got ${traceLength}`;
  if (isAllZero(buf, traceAt, traceAt + 16)) return 'trace_id must not be all zeroes';
  if (spanLength !== 8) return `span_id must be 8 bytes, got ${spanLength}`;
  if (isAllZero(buf, spanAt, spanAt + 8)) return 'span_id must not be all zeroes';
  if (parentLength !== 0 && parentLength !== 8) return `parent_span_id must be empty or 8 bytes, got ${parentLength}`;
  return null;
}

function isAllZero(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

function readStatusCode(buf: Uint8Array, start: number, end: number): number {
  const r = new WireReader(buf, start, end);
  let code = 0;
  while (!r.done) {
    const tag = r.varint();
    if (tag === ((3 << 3) | WIRE_VARINT)) code = r.varint();
    else r.skip(tag & 7);
  }
  return code > 2 ? 0 : code;
}

const spanNames = new SpanNames();

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
