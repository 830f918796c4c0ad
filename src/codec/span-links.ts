import { WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, WireReader } from './wire-reader.js';
import type { AttributeValue, Attributes, TraceEvent, TraceLink } from '../model/trace.js';

/** What analysis needs from a stored span beyond its indexed header. */
export interface SpanDetails {
  attributes: Attributes;
  events: TraceEvent[];
  links: TraceLink[];
  statusMessage: string;
}

/**
 * Stored Span / Resource bytes read with the wire reader instead of protobufjs objects: several times
 * cheaper, and `decodeSpanLinks` skips everything but field 13 so that a critical path (which needs links
 * for FOLLOWS_FROM, CP-v1) does not pay for attributes and events. Values map as in span-details.ts:
 * int64 → number when safe else bigint, bytes → base64, kvlist → "k=v" strings.
 */
export function decodeSpanLinks(raw: Uint8Array): TraceLink[] {
  const links: TraceLink[] = [];
  const r = new WireReader(raw);
  while (!r.done) {
    const tag = r.varint();
    if (tag === ((13 << 3) | WIRE_LEN)) links.push(link(raw, ...r.lengthDelimited()));
    else r.skip(tag & 7);
  }
  return links;
}

/** Attributes, events, links and status message of a stored Span. */
export function decodeSpanDetailsFast(raw: Uint8Array): SpanDetails {
  const out: SpanDetails = { attributes: {}, events: [], links: [], statusMessage: '' };
  const r = new WireReader(raw);
  while (!r.done) {
    const tag = r.varint();
    if (tag === ((9 << 3) | WIRE_LEN)) keyValue(raw, ...r.lengthDelimited(), out.attributes);
    else if (tag === ((11 << 3) | WIRE_LEN)) out.events.push(event(raw, ...r.lengthDelimited()));
    else if (tag === ((13 << 3) | WIRE_LEN)) out.links.push(link(raw, ...r.lengthDelimited()));
    else if (tag === ((15 << 3) | WIRE_LEN)) out.statusMessage = statusMessage(raw, ...r.lengthDelimited());
    else r.skip(tag & 7);
  }
  return out;
}

/** Attributes of a stored Resource (null: no resource). */
export function decodeResourceAttributesFast(raw: Uint8Array | null): Attributes {
  const out: Attributes = {};
  if (raw === null) return out;
  const r = new WireReader(raw);
  while (!r.done) {
    const tag = r.varint();
    if (tag === ((1 << 3) | WIRE_LEN)) keyValue(raw, ...r.lengthDelimited(), out);
    else r.skip(tag & 7);
  }
  return out;
}

function event(buf: Uint8Array, start: number, end: number): TraceEvent {
  const out: TraceEvent = { name: '', timeNs: 0n, attributes: {} };
  const r = new WireReader(buf, start, end);
  while (!r.done) {
    const tag = r.varint();
    if (tag === ((1 << 3) | WIRE_FIXED64)) out.timeNs = r.fixed64();
    else if (tag === ((2 << 3) | WIRE_LEN)) out.name = r.string();
    else if (tag === ((3 << 3) | WIRE_LEN)) keyValue(buf, ...r.lengthDelimited(), out.attributes);
    else r.skip(tag & 7);
  }
  return out;
}

function link(buf: Uint8Array, start: number, end: number): TraceLink {
  const out: TraceLink = { traceId: '', spanId: '', attributes: {} };
  const r = new WireReader(buf, start, end);
  while (!r.done) {
    const tag = r.varint();
    if (tag === ((1 << 3) | WIRE_LEN)) out.traceId = hex(r.bytes());
    else if (tag === ((2 << 3) | WIRE_LEN)) out.spanId = hex(r.bytes());
    else if (tag === ((4 << 3) | WIRE_LEN)) keyValue(buf, ...r.lengthDelimited(), out.attributes);
    else r.skip(tag & 7);
  }
  return out;
}

function statusMessage(buf: Uint8Array, start: number, end: number): string {
  const r = new WireReader(buf, start, end);
  let message = '';
  while (!r.done) {
    const tag = r.varint();
    if (tag === ((2 << 3) | WIRE_LEN)) message = r.string();
    else r.skip(tag & 7);
  }
  return message;
}

function keyValue(buf: Uint8Array, start: number, end: number, into: Attributes): void {
  const [key, value] = pair(buf, start, end);
  into[key] = value;
}

function pair(buf: Uint8Array, start: number, end: number): [string, AttributeValue] {
  const r = new WireReader(buf, start, end);
  let key = '';
  let value: AttributeValue = null;
  while (!r.done) {
    const tag = r.varint();
    if (tag === ((1 << 3) | WIRE_LEN)) key = r.string();
    else if (tag === ((2 << 3) | WIRE_LEN)) value = anyValue(buf, ...r.lengthDelimited());
    else r.skip(tag & 7);
  }
  return [key, value];
}

/** AnyValue; nesting depth is bounded by the 64 MiB request limit and protobufjs's own decode at ingest. */
function anyValue(buf: Uint8Array, start: number, end: number): AttributeValue {
  const r = new WireReader(buf, start, end);
  let value: AttributeValue = null;
  while (!r.done) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === WIRE_LEN) value = r.string();
    else if (field === 2 && wire === WIRE_VARINT) value = r.varint() !== 0;
    else if (field === 3 && wire === WIRE_VARINT) value = safe(BigInt.asIntN(64, r.varintBig()));
    else if (field === 4 && wire === WIRE_FIXED64) {
      const at = r.pos;
      r.fixed64();
      value = Buffer.from(r.buf.buffer, r.buf.byteOffset, r.buf.byteLength).readDoubleLE(at);
    } else if (field === 5 && wire === WIRE_LEN) value = repeated(buf, ...r.lengthDelimited(), (s, e) => anyValue(buf, s, e));
    else if (field === 6 && wire === WIRE_LEN) {
      value = repeated(buf, ...r.lengthDelimited(), (s, e) => {
        const [k, v] = pair(buf, s, e);
        return `${k}=${String(v)}`;
      });
    } else if (field === 7 && wire === WIRE_LEN) value = Buffer.from(r.bytes()).toString('base64');
    else r.skip(wire);
  }
  return value;
}

/** ArrayValue / KeyValueList: `repeated … values = 1`. */
function repeated(buf: Uint8Array, start: number, end: number, item: (s: number, e: number) => AttributeValue): AttributeValue[] {
  const out: AttributeValue[] = [];
  const r = new WireReader(buf, start, end);
  while (!r.done) {
    const tag = r.varint();
    if (tag === ((1 << 3) | WIRE_LEN)) out.push(item(...r.lengthDelimited()));
    else r.skip(tag & 7);
  }
  return out;
}

const safe = (v: bigint): number | bigint => (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
