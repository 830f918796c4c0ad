import { WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, WireReader } from './wire-reader.js';
import type { AttributeValue, Attributes, TraceLink } from '../model/trace.js';

/**
 * Only the links of a stored Span (field 13), read with the wire reader: every other field is skipped
 * without decoding, so a critical path (which needs links for FOLLOWS_FROM, CP-v1) does not pay for
 * attributes and events. Link attributes keep scalar values; arrays and kvlists read as null.
 */
export function decodeSpanLinks(raw: Uint8Array): TraceLink[] {
  const links: TraceLink[] = [];
  const r = new WireReader(raw);
  while (!r.done) {
    const tag = r.varint();
    if (tag >>> 3 === 13 && (tag & 7) === WIRE_LEN) {
      const [start, end] = r.lengthDelimited();
      links.push(link(raw, start, end));
    } else r.skip(tag & 7);
  }
  return links;
}

function link(buf: Uint8Array, start: number, end: number): TraceLink {
  const out: TraceLink = { traceId: '', spanId: '', attributes: {} };
  const r = new WireReader(buf, start, end);
  while (!r.done) {
    const tag = r.varint();
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === WIRE_LEN) out.traceId = hex(r.bytes());
    else if (field === 2 && (tag & 7) === WIRE_LEN) out.spanId = hex(r.bytes());
    else if (field === 4 && (tag & 7) === WIRE_LEN) {
      const [s, e] = r.lengthDelimited();
      keyValue(buf, s, e, out.attributes);
    } else r.skip(tag & 7);
  }
  return out;
}

function keyValue(buf: Uint8Array, start: number, end: number, into: Attributes): void {
  const r = new WireReader(buf, start, end);
  let key = '';
  let value: AttributeValue = null;
  while (!r.done) {
    const tag = r.varint();
    if (tag >>> 3 === 1 && (tag & 7) === WIRE_LEN) key = r.string();
    else if (tag >>> 3 === 2 && (tag & 7) === WIRE_LEN) {
      const [s, e] = r.lengthDelimited();
      value = anyValue(buf, s, e);
    } else r.skip(tag & 7);
  }
  into[key] = value;
}

function anyValue(buf: Uint8Array, start: number, end: number): AttributeValue {
  const r = new WireReader(buf, start, end);
  let value: AttributeValue = null;
  while (!r.done) {
    const tag = r.varint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === WIRE_LEN) value = r.string();
    else if (field === 2 && wire === WIRE_VARINT) value = r.varint() !== 0;
    else if (field === 3 && wire === WIRE_VARINT) value = BigInt.asIntN(64, r.varintBig());
    else if (field === 4 && wire === WIRE_FIXED64) {
      const at = r.pos;
      r.fixed64();
      value = Buffer.from(r.buf.buffer, r.buf.byteOffset, r.buf.byteLength).readDoubleLE(at);
    }
    else r.skip(wire);
  }
  return typeof value === 'bigint' && value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
