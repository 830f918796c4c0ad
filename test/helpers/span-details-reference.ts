import { otlpType, TypeNames } from '../../src/codec/protos.js';
import type { LongLike, PbAnyValue, PbKeyValue } from '../../src/codec/otlp-json-out.js';
import type { SpanDetails } from '../../src/codec/span-links.js';
import type { AttributeValue, Attributes } from '../../src/model/trace.js';

/**
 * The reference decoder (protobufjs) of what analysis needs; src/codec/span-links.ts is the equivalent,
 * faster wire-reader version the store uses, and test/unit/codec/span-links.test.ts holds them equal.
 *
 * Decodes what analysis needs from stored Span / Resource protobuf bytes into the TraceSpan shapes
 * (model/trace.ts): attributes, events, links and the status message. Integers that fit in 2^53 become
 * numbers, larger ones bigint; bytes values become base64 strings; kvlists become arrays of "k=v" strings.
 */

interface PbSpan {
  attributes?: PbKeyValue[];
  events?: { timeUnixNano?: LongLike; name?: string; attributes?: PbKeyValue[] }[];
  links?: { traceId?: Uint8Array; spanId?: Uint8Array; attributes?: PbKeyValue[] }[];
  status?: { message?: string } | null;
}

export function decodeSpanDetails(raw: Uint8Array): SpanDetails {
  const s = otlpType(TypeNames.span).decode(raw) as unknown as PbSpan;
  return {
    attributes: attributes(s.attributes),
    events: (s.events ?? []).map((e) => ({ name: e.name ?? '', timeNs: bigintOf(e.timeUnixNano), attributes: attributes(e.attributes) })),
    links: (s.links ?? []).map((l) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId), attributes: attributes(l.attributes) })),
    statusMessage: s.status?.message ?? '',
  };
}

export function decodeResourceAttributes(raw: Uint8Array | null): Attributes {
  if (raw === null) return {};
  const r = otlpType(TypeNames.resource).decode(raw) as unknown as { attributes?: PbKeyValue[] };
  return attributes(r.attributes);
}

function attributes(kvs: PbKeyValue[] | undefined): Attributes {
  const out: Attributes = {};
  for (const kv of kvs ?? []) out[kv.key ?? ''] = kv.value ? value(kv.value) : null;
  return out;
}

function value(v: PbAnyValue): AttributeValue {
  if (Object.hasOwn(v, 'stringValue')) return v.stringValue ?? '';
  if (Object.hasOwn(v, 'boolValue')) return v.boolValue ?? false;
  if (Object.hasOwn(v, 'intValue')) {
    const big = bigintOf(v.intValue);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  if (Object.hasOwn(v, 'doubleValue')) return v.doubleValue ?? 0;
  if (Object.hasOwn(v, 'bytesValue')) return Buffer.from(v.bytesValue ?? new Uint8Array(0)).toString('base64');
  if (Object.hasOwn(v, 'arrayValue')) return (v.arrayValue?.values ?? []).map(value);
  if (Object.hasOwn(v, 'kvlistValue')) {
    return (v.kvlistValue?.values ?? []).map((kv) => `${kv.key ?? ''}=${String(kv.value ? value(kv.value) : null)}`);
  }
  return null;
}

/** Long.toString honours the Long's signedness (fixed64 decodes unsigned, int64 signed). */
function bigintOf(v: LongLike | undefined): bigint {
  if (v === undefined) return 0n;
  return typeof v === 'number' ? BigInt(v) : BigInt(v.toString());
}

function hex(b: Uint8Array | undefined): string {
  return b ? Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex') : '';
}
