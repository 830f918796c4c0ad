import { describe, it, expect } from 'vitest';
import protobuf from 'protobufjs';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { decodeTracesRequest } from '../../../src/codec/traces-decode.js';
import { MalformedProtobufError } from '../../../src/codec/wire-reader.js';
import { otlpType, TypeNames } from '../../../src/codec/protos.js';
import type { DecodedSpan } from '../../../src/model/decoded.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const nanos = ([s, ns]: [number, number]): bigint => BigInt(s) * 1_000_000_000n + BigInt(ns);

function sdkSpans(attributes: Record<string, string> = { 'service.name': 'checkout' }): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(attributes),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('lib', '1.0');
  const root = tracer.startSpan('GET /cart', { kind: SpanKind.SERVER, startTime: [1_700_000_000, 1], attributes: { a: 1 } });
  const child = tracer.startSpan('SELECT', { kind: SpanKind.CLIENT, startTime: [1_700_000_000, 2] }, trace.setSpan(ROOT_CONTEXT, root));
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'timeout' });
  child.end([1_700_000_000, 999_999_999]);
  root.end([1_700_000_001, 5]);
  return exporter.getFinishedSpans();
}

function serialize(spans: ReadableSpan[]): Uint8Array {
  const proto = ProtobufTraceSerializer.serializeRequest(spans);
  if (proto === undefined) throw new Error('serializer returned nothing');
  return proto;
}

function spansOf(proto: Uint8Array): DecodedSpan[] {
  return decodeTracesRequest(proto).resources.flatMap((r) => r.scopes.flatMap((s) => s.spans));
}

/** Length-delimited field `field` holding `parts` concatenated; the test builds envelopes by hand. */
function ld(field: number, ...parts: Uint8Array[]): Uint8Array {
  const w = protobuf.Writer.create().uint32((field << 3) | 2).bytes(Buffer.concat(parts));
  return w.finish();
}

/** Unknown fields of every wire type, with numbers no OTLP message uses. */
const UNKNOWN = Buffer.concat([
  protobuf.Writer.create().uint32((1000 << 3) | 0).uint64(123456789).finish(),
  protobuf.Writer.create().uint32((1001 << 3) | 1).fixed64(7).finish(),
  protobuf.Writer.create().uint32((1002 << 3) | 2).string('future').finish(),
  protobuf.Writer.create().uint32((1003 << 3) | 5).fixed32(9).finish(),
]);

function encodeRequest(spans: object[], resource: object | null = null): Uint8Array {
  const resourceSpans = { ...(resource ? { resource } : {}), scopeSpans: [{ spans }] };
  return otlpType(TypeNames.exportTracesRequest).encode({ resourceSpans: [resourceSpans] }).finish();
}

const goodSpan = (name: string, extra: object = {}): object => ({
  traceId: Buffer.alloc(16, 1),
  spanId: Buffer.alloc(8, 2),
  name,
  startTimeUnixNano: 10,
  endTimeUnixNano: 20,
  ...extra,
});

describe('decodeTracesRequest', () => {
  it('extracts the indexed fields from an otlp-transformer payload', () => {
    const sdk = sdkSpans();
    const proto = serialize(sdk);
    const decoded = decodeTracesRequest(proto);
    expect(decoded).toMatchObject({ spanCount: 2, rejected: 0, reasons: [] });
    expect(decoded.resources).toHaveLength(1);
    expect(decoded.resources[0]?.serviceName).toBe('checkout');
    const spans = spansOf(proto);
    expect(spans.map((s) => s.name)).toEqual(sdk.map((s) => s.name));
    for (const [i, s] of spans.entries()) {
      const want = sdk[i] as ReadableSpan;
      expect(hex(s.traceId)).toBe(want.spanContext().traceId);
      expect(hex(s.spanId)).toBe(want.spanContext().spanId);
      expect(hex(s.parentSpanId)).toBe(want.parentSpanContext?.spanId ?? '');
      expect(s.kind).toBe(want.kind + 1); // the API enum has no UNSPECIFIED
      expect(s.startNs).toBe(nanos(want.startTime));
      expect(s.endNs).toBe(nanos(want.endTime));
      expect(s.statusCode).toBe(want.status.code);
    }
    const [child, root] = spans as [DecodedSpan, DecodedSpan];
    expect([child.kind, child.statusCode, child.startNs, child.endNs]).toEqual([3, 2, 1_700_000_000_000_000_002n, 1_700_000_000_999_999_999n]);
    expect(hex(child.parentSpanId)).toBe(hex(root.spanId));
    expect(root.parentSpanId).toHaveLength(0);
  });

  it('keeps each span as bytes that decode to the same span', () => {
    const proto = serialize(sdkSpans());
    const full = otlpType(TypeNames.exportTracesRequest).decode(proto).toJSON() as {
      resourceSpans: { scopeSpans: { spans: unknown[] }[] }[];
    };
    const expected = full.resourceSpans[0]?.scopeSpans[0]?.spans;
    const actual = spansOf(proto).map((s) => otlpType(TypeNames.span).decode(s.raw).toJSON());
    expect(actual).toEqual(expected);
  });

  it('skips unknown fields in the request, resource spans, scope spans and span', () => {
    const proto = serialize(sdkSpans());
    const [resource] = decodeTracesRequest(proto).resources;
    const scope = resource?.scopes[0];
    const spans = scope?.spans ?? [];
    const spanFields = spans.map((s) => ld(2, s.raw, UNKNOWN));
    const scopeSpans = ld(2, ld(1, scope?.raw ?? new Uint8Array(0)), UNKNOWN, ...spanFields);
    const request = Buffer.concat([UNKNOWN, ld(1, ld(1, resource?.raw ?? new Uint8Array(0)), UNKNOWN, scopeSpans), UNKNOWN]);
    const decoded = decodeTracesRequest(request);
    expect(decoded).toMatchObject({ spanCount: 2, rejected: 0 });
    expect(decoded.resources[0]?.serviceName).toBe('checkout');
    const again = spansOf(request);
    expect(again.map((s) => [hex(s.spanId), s.name, s.kind, s.startNs, s.endNs, s.statusCode])).toEqual(
      spans.map((s) => [hex(s.spanId), s.name, s.kind, s.startNs, s.endNs, s.statusCode]),
    );
    // The stored bytes are the span as received, unknown fields included.
    expect(hex(again[0]?.raw ?? new Uint8Array(0)).endsWith(hex(UNKNOWN))).toBe(true);
  });

  it('throws MalformedProtobufError on a truncated payload', () => {
    const proto = serialize(sdkSpans());
    for (const cut of [1, 3, proto.length - 10]) {
      expect(() => decodeTracesRequest(proto.subarray(0, proto.length - cut))).toThrow(MalformedProtobufError);
    }
    expect(() => decodeTracesRequest(Uint8Array.of(0x0a))).toThrow(MalformedProtobufError);
    expect(() => decodeTracesRequest(Uint8Array.of(0x0b))).toThrow(MalformedProtobufError); // wire type 3 (group)
  });

  it('rejects spans with invalid ids alone and reports why', () => {
    const proto = encodeRequest([
      goodSpan('ok-1'),
      goodSpan('short-trace', { traceId: Buffer.alloc(15, 1) }),
      goodSpan('zero-span', { spanId: Buffer.alloc(8, 0) }),
      goodSpan('bad-parent', { parentSpanId: Buffer.alloc(4, 3) }),
      goodSpan('zero-parent', { parentSpanId: Buffer.alloc(8, 0) }),
      goodSpan('ok-2', { parentSpanId: Buffer.alloc(8, 3) }),
    ]);
    const decoded = decodeTracesRequest(proto);
    expect(decoded.spanCount).toBe(3);
    expect(decoded.rejected).toBe(3);
    expect(decoded.reasons).toEqual([
      'trace_id must be 16 bytes, got 15',
      'span_id must not be all zeroes',
      'parent_span_id must be empty or 8 bytes, got 4',
    ]);
    const spans = spansOf(proto);
    expect(spans.map((s) => s.name)).toEqual(['ok-1', 'zero-parent', 'ok-2']);
    // An all-zero parent means "root".
    expect(spans[1]?.parentSpanId).toHaveLength(0);
  });

  it('falls back to unknown_service when the resource has no service.name', () => {
    expect(decodeTracesRequest(serialize(sdkSpans({ 'host.name': 'h' }))).resources[0]?.serviceName).toBe('unknown_service');
    expect(decodeTracesRequest(encodeRequest([goodSpan('a')])).resources[0]?.serviceName).toBe('unknown_service');
    const empty = { attributes: [{ key: 'service.name', value: { stringValue: '' } }] };
    expect(decodeTracesRequest(encodeRequest([goodSpan('a')], empty)).resources[0]?.serviceName).toBe('unknown_service');
  });

  it('decodes an empty request to nothing', () => {
    expect(decodeTracesRequest(new Uint8Array(0))).toEqual({ resources: [], spanCount: 0, rejected: 0, reasons: [] });
  });
});
