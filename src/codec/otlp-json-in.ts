import protobuf from 'protobufjs';
import { otlpType, TypeNames } from './protos.js';

/**
 * OTLP/JSON → protobuf transcoding for trace export requests (OTLP-CONFORMANCE.md items 19–25).
 * protobufjs's own JSON path cannot be used: it reads hex ids as base64, drops snake_case keys and turns
 * 64-bit integers into inexact doubles. The output is re-encoded as protobuf so that JSON requests go
 * through the same ingest decoder (decodeTracesFlat) as binary ones.
 */
export class MalformedJsonError extends Error {
  override readonly name = 'MalformedJsonError';
}

/** A problem confined to one span: the span is dropped and counted, its batch-mates are kept. */
class SpanRejection extends Error {}

type Json = Record<string, unknown>;
type Out = Record<string, unknown>;

/** protobufjs types util.Long as a bare constructor; these are the long.js statics it really has. */
interface LongStatic {
  fromBits(low: number, high: number, unsigned: boolean): protobuf.Long;
  fromNumber(value: number, unsigned: boolean): protobuf.Long;
}
const Long = protobuf.util.Long as unknown as LongStatic;
const MAX_REASONS = 5;
/**
 * Deep enough for any real attribute, shallow enough for protobufjs: its encoder refuses more than 100
 * nested messages (util.recursionLimit) with a plain Error, and a kvlist level costs three of them
 * (AnyValue, KeyValueList, KeyValue) below the five of ResourceSpans → … → Link → KeyValue.
 */
const MAX_ANY_VALUE_DEPTH = 30;
// Maps, not object literals: a sender-controlled name such as "constructor" must not hit Object.prototype.
const SPAN_KINDS = new Map(
  ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'].map((n, i) => [`SPAN_KIND_${n}`, i]),
);
const STATUS_CODES = new Map(['UNSET', 'OK', 'ERROR'].map((n, i) => [`STATUS_CODE_${n}`, i]));
const textDecoder = new TextDecoder('utf-8'); // not fatal, like the binary path; strips a BOM

export function transcodeTracesJson(body: Uint8Array): { proto: Uint8Array; rejected: number; reasons: string[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(quoteLargeIntegers(textDecoder.decode(body)));
  } catch (err) {
    throw new MalformedJsonError(`request body is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc)) throw new MalformedJsonError('request body must be a JSON object');
  const state: State = { rejected: 0, reasons: [] };
  const resourceSpans: Out[] = [];
  list(doc, 'resourceSpans', 'resource_spans', 'resourceSpans').forEach((rs, i) => {
    const where = `resourceSpans[${i}]`;
    if (!isObject(rs)) throw new MalformedJsonError(`${where} must be an object`);
    const out = transcodeResourceSpans(rs, where, state);
    if (out !== null) resourceSpans.push(out);
  });
  const proto = otlpType(TypeNames.exportTracesRequest).encode({ resourceSpans }).finish();
  return { proto, rejected: state.rejected, reasons: state.reasons };
}

/**
 * JSON.parse reads every number as a double, so integer literals too long to be safe (more than 15 digits)
 * are turned into strings first; every 64-bit field accepts strings. One linear pass that skips string
 * contents (where digits are text); the common case (no such literal) returns the input unchanged.
 */
export function quoteLargeIntegers(text: string): string {
  let out = '';
  let copied = 0;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      i = endOfString(text, i);
      continue;
    }
    if (c !== 0x2d /* - */ && (c < 0x30 || c > 0x39)) {
      i++;
      continue;
    }
    const start = i;
    if (c === 0x2d) i++;
    const digitsStart = i;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
    const next = text.charCodeAt(i);
    if (next === 0x2e /* . */ || next === 0x65 /* e */ || next === 0x45 /* E */) {
      // A fraction or exponent: not an integer literal, so it is left to JSON.parse as a double.
      while (i < n && isNumberChar(text.charCodeAt(i))) i++;
      continue;
    }
    // A leading zero makes the literal invalid JSON; leave it for JSON.parse to reject.
    if (i - digitsStart > 15 && text.charCodeAt(digitsStart) !== 0x30) {
      out += `${text.slice(copied, start)}"${text.slice(start, i)}"`;
      copied = i;
    }
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Index just past the string literal opening at `open` (or the text length when it is unterminated). */
function endOfString(text: string, open: number): number {
  let close = text.indexOf('"', open + 1);
  while (close !== -1) {
    let backslashes = 0;
    while (text.charCodeAt(close - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return close + 1;
    close = text.indexOf('"', close + 1);
  }
  return text.length;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isNumberChar = (c: number): boolean => isDigit(c) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d;

type State = { rejected: number; reasons: string[] };

function transcodeResourceSpans(rs: Json, where: string, state: State): Out | null {
  const out = envelope(rs, 'resource', RESOURCE, where);
  const scopeSpans: Out[] = [];
  list(rs, 'scopeSpans', 'scope_spans', `${where}.scopeSpans`).forEach((ss, j) => {
    const at = `${where}.scopeSpans[${j}]`;
    if (!isObject(ss)) throw new MalformedJsonError(`${at} must be an object`);
    const scope = envelope(ss, 'scope', SCOPE, at);
    const spans: Out[] = [];
    for (const span of list(ss, 'spans', 'spans', `${at}.spans`)) {
      try {
        if (!isObject(span)) throw new SpanRejection('span is not a JSON object');
        spans.push(message(span, SPAN, 0));
      } catch (err) {
        if (!(err instanceof SpanRejection)) throw err;
        state.rejected++;
        if (state.reasons.length < MAX_REASONS && !state.reasons.includes(err.message)) state.reasons.push(err.message);
      }
    }
    if (spans.length > 0) scopeSpans.push({ ...scope, spans });
  });
  return scopeSpans.length === 0 ? null : { ...out, scopeSpans };
}

/** The resource/scope of a ResourceSpans/ScopeSpans: its problems cannot be confined to one span. */
function envelope(o: Json, key: string, fields: Spec, where: string): Out {
  const out: Out = {};
  const inner = field(o, key, key);
  if (inner !== undefined) {
    if (!isObject(inner)) throw new MalformedJsonError(`${where}.${key} must be an object`);
    try {
      out[key] = message(inner, fields, 0);
    } catch (err) {
      if (err instanceof SpanRejection) throw new MalformedJsonError(`${where}.${key}: ${err.message}`);
      throw err;
    }
  }
  const schemaUrl = field(o, 'schemaUrl', 'schema_url');
  if (schemaUrl !== undefined && typeof schemaUrl !== 'string') throw new MalformedJsonError(`${where}.schemaUrl must be a string`);
  put(out, 'schemaUrl', schemaUrl);
  return out;
}

// ---- message tables: lowerCamelCase name → converter; the snake_case name is derived ----

/**
 * A converter gets a field's JSON value (undefined only for an absent required field) and returns the proto
 * value, or throws SpanRejection; `what` names the field in the reason.
 */
type Convert = (v: unknown, what: string, depth: number) => unknown;
interface Spec {
  /** Both spellings of every field → [output name, converter, name used in reasons]. */
  byKey: Map<string, [string, Convert, string]>;
  /** Fields whose absence is an error: their converter is run on undefined. */
  required: [string, Convert, string][];
  /** How a value of this message is named in reasons ("link is not an object"). */
  noun: string;
}

/** `prefix` is how reasons name this message's fields: "link " gives "link traceId is not 32 hex characters". */
function spec(prefix: string, fields: Record<string, Convert>, required: string[] = []): Spec {
  const noun = prefix.replace(/[. ]$/, '') || 'value';
  const byKey = new Map<string, [string, Convert, string]>();
  for (const [camel, convert] of Object.entries(fields)) {
    const entry: [string, Convert, string] = [camel, convert, prefix + camel];
    byKey.set(camel, entry).set(camel.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`), entry);
  }
  return { byKey, noun, required: required.map((r) => byKey.get(r) as [string, Convert, string]) };
}

/**
 * Converts one JSON message. It walks the keys that are present (usually few) rather than every field of
 * the schema; unknown keys are ignored and null means "default" (proto3 JSON). If both spellings of a
 * field are present the later one wins. Defaults are left out so the output is as small as a native encoding.
 */
function message(o: unknown, fields: Spec, depth: number): Out {
  if (!isObject(o)) throw new SpanRejection(`${fields.noun} is not an object`);
  const out: Out = {};
  for (const key in o) {
    const f = fields.byKey.get(key);
    const v = o[key];
    if (f !== undefined && v !== null) put(out, f[0], f[1](v, f[2], depth));
  }
  for (const [camel, convert, what] of fields.required) if (!(camel in out)) convert(undefined, what, depth);
  return out;
}

function put(o: Out, key: string, v: unknown): void {
  if (v === '' || v === 0 || v === undefined) return;
  if ((Array.isArray(v) || v instanceof Uint8Array) && v.length === 0) return;
  o[key] = v;
}

const messages = (fields: Spec): Convert => (v, what, depth) => optArray(v, what).map((e) => message(e, fields, depth));
const ids = (size: number, optional: boolean): Convert => (v, what) => id(v, size, what, optional);

const KEY_VALUE = spec('attribute ', { key: str, value: (v, _what, depth) => anyValue(v, depth) });
const attrs = messages(KEY_VALUE);
const ARRAY_VALUE = spec('arrayValue.', {
  values: (v, what, depth) => optArray(v, what).map((e) => anyValue(e, depth)),
});
const KVLIST_VALUE = spec('kvlistValue.', { values: attrs });
const ANY_VALUE = spec('', {
  stringValue: str,
  boolValue: (v) => {
    if (typeof v !== 'boolean') throw new SpanRejection('boolValue is not a boolean');
    return v;
  },
  intValue: int64,
  doubleValue: double,
  bytesValue: base64,
  arrayValue: (v, _what, depth) => message(v, ARRAY_VALUE, depth),
  kvlistValue: (v, _what, depth) => message(v, KVLIST_VALUE, depth),
});
const ENTITY_REF = spec('entityRef ', {
  schemaUrl: str,
  type: str,
  idKeys: (v, what) => optArray(v, what).map((e) => str(e, what)),
  descriptionKeys: (v, what) => optArray(v, what).map((e) => str(e, what)),
});
const RESOURCE = spec('', { attributes: attrs, droppedAttributesCount: uint32, entityRefs: messages(ENTITY_REF) });
const SCOPE = spec('', { name: str, version: str, attributes: attrs, droppedAttributesCount: uint32 });
const EVENT = spec('event ', { timeUnixNano: uint64, name: str, attributes: attrs, droppedAttributesCount: uint32 });
const LINK = spec('link ', {
  traceId: ids(16, true),
  spanId: ids(8, true),
  traceState: str,
  attributes: attrs,
  droppedAttributesCount: uint32,
  flags: uint32,
});
const STATUS = spec('status.', { message: str, code: (v, what) => enumValue(v, STATUS_CODES, what) });
const SPAN = spec(
  '',
  {
    traceId: ids(16, false),
    spanId: ids(8, false),
    traceState: str,
    parentSpanId: ids(8, true),
    flags: uint32,
    name: str,
    kind: (v, what) => enumValue(v, SPAN_KINDS, what),
    startTimeUnixNano: uint64,
    endTimeUnixNano: uint64,
    attributes: attrs,
    droppedAttributesCount: uint32,
    events: messages(EVENT),
    droppedEventsCount: uint32,
    links: messages(LINK),
    droppedLinksCount: uint32,
    status: (v) => message(v, STATUS, 0),
  },
  ['traceId', 'spanId'],
);

/** A oneof: the first member present wins, and it is kept even when it holds its default. */
function anyValue(v: unknown, depth: number): Out {
  if (depth >= MAX_ANY_VALUE_DEPTH) throw new SpanRejection(`attribute value nested deeper than ${MAX_ANY_VALUE_DEPTH}`);
  if (!isObject(v)) throw new SpanRejection('attribute value is not an object');
  for (const key in v) {
    const f = ANY_VALUE.byKey.get(key);
    const x = v[key];
    if (f !== undefined && x !== null) return { [f[0]]: f[1](x, f[2], depth + 1) };
  }
  return {}; // an empty AnyValue is legal: the value is unset
}

// ---- scalar conversions (each throws SpanRejection with a short, stable reason) ----

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** proto3 JSON: both the lowerCamelCase and the original field name are accepted; null means "default". */
function field(o: Json, camel: string, snake: string): unknown {
  const v = o[camel];
  if (v !== undefined && v !== null) return v;
  const w = o[snake];
  return w === null ? undefined : w;
}

function list(o: Json, camel: string, snake: string, where: string): unknown[] {
  const v = field(o, camel, snake);
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new MalformedJsonError(`${where} must be an array`);
  return v;
}

function optArray(v: unknown, what: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new SpanRejection(`${what} is not an array`);
  return v;
}

function str(v: unknown, what: string): string {
  if (v === undefined) return '';
  if (typeof v !== 'string') throw new SpanRejection(`${what} is not a string`);
  return v;
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** Ids are hex in OTLP/JSON (not base64 as proto3 JSON would have it); empty means unset. */
function id(v: unknown, size: number, what: string, optional = false): Uint8Array {
  const s = str(v, what);
  if (s === '' && optional) return new Uint8Array(0);
  if (s.length !== size * 2 || !HEX.test(s)) throw new SpanRejection(`${what} is not ${size * 2} hex characters`);
  const bytes = Buffer.from(s, 'hex');
  if (!optional && bytes.every((b) => b === 0)) throw new SpanRejection(`${what} is all zeroes`);
  return bytes;
}

function enumValue(v: unknown, names: Map<string, number>, what: string): number {
  if (v === undefined) return 0;
  if (typeof v === 'string') {
    const n = names.get(v);
    if (n === undefined) throw new SpanRejection(`unknown ${what} name`);
    return n;
  }
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0x7fffffff) return v;
  throw new SpanRejection(`${what} is not a valid enum value`);
}

function uint32(v: unknown, what: string): number {
  if (v === undefined) return 0;
  const n = typeof v === 'string' && /^\d{1,10}$/.test(v) ? Number(v) : v;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff) return n;
  throw new SpanRejection(`${what} is not a valid uint32`);
}

/** Decimal strings go to Long through BigInt (exact, and 3× faster than Long.fromString), never through a double. */
function uint64(v: unknown, what: string): protobuf.Long {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return Long.fromNumber(v, true);
  if (typeof v === 'string' && /^\d+$/.test(v)) {
    const b = BigInt(v);
    if (b <= 0xffffffffffffffffn) return longFromBigInt(b, true);
  }
  throw new SpanRejection(`${what} is not a valid unsigned 64-bit integer`);
}

function int64(v: unknown): protobuf.Long {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return Long.fromNumber(v, false);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) {
    const b = BigInt(v);
    if (b >= -0x8000000000000000n && b <= 0x7fffffffffffffffn) return longFromBigInt(b, false);
  }
  throw new SpanRejection('intValue is not a valid signed 64-bit integer');
}

function longFromBigInt(b: bigint, unsigned: boolean): protobuf.Long {
  const bits = BigInt.asUintN(64, b);
  return Long.fromBits(Number(bits & 0xffffffffn), Number(bits >> 32n), unsigned);
}

const SPECIAL_DOUBLES = new Map([['NaN', NaN], ['Infinity', Infinity], ['-Infinity', -Infinity]]);
const DECIMAL = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

function double(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const special = SPECIAL_DOUBLES.get(v);
    if (special !== undefined) return special;
    // Also the path for integer literals that quoteLargeIntegers turned into strings.
    if (DECIMAL.test(v)) return Number(v);
  }
  throw new SpanRejection('doubleValue is not a number');
}

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** Standard or URL-safe alphabet, padding optional (Node's decoder accepts both alphabets). */
function base64(v: unknown): Uint8Array {
  if (typeof v !== 'string' || !BASE64.test(v) || v.replace(/=+$/, '').length % 4 === 1) {
    throw new SpanRejection('bytesValue is not base64');
  }
  return Buffer.from(v, 'base64');
}
