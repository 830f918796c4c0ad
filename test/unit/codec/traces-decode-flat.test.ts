import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeTracesFlat, decodeTracesRequest } from '../../../src/codec/traces-decode.js';
import { LAYOUT } from '../../../src/codec/trace-layout.js';
import { otlpType, TypeNames } from '../../../src/codec/protos.js';

const REQUEST = otlpType(TypeNames.exportTracesRequest);
const SPAN = otlpType(TypeNames.span);

function request(spans: object[]): Uint8Array {
  return REQUEST.encode({ resourceSpans: [{ scopeSpans: [{ spans }] }] }).finish();
}

const span = (k: number, extra: object = {}): object => ({
  traceId: Buffer.alloc(16, 1 + (k % 200)),
  spanId: Buffer.alloc(8, 1 + (k % 250)),
  name: `op-${k}`,
  startTimeUnixNano: 10,
  endTimeUnixNano: 20,
  ...extra,
});

const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
/** Names as UTF-8 bytes, invalid sequences included: a name is decoded once per request by its bytes. */
const nameBytes = fc.oneof(fc.string({ maxLength: 12 }).map((s) => Buffer.from(s)), fc.uint8Array({ maxLength: 12 }).map((b) => Buffer.from(b)));

describe('flat trace decoding', () => {
  it('reads names, kinds, times and parents as protobufjs wrote them, over random spans', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ name: nameBytes, start: u64, end: u64, kind: fc.integer({ min: 0, max: 9 }), parent: fc.boolean() }), { minLength: 1, maxLength: 40 }), (specs) => {
        const spans = specs.map((s, k) => ({
          ...span(k),
          // protobufjs writes `string` fields from JS strings; raw bytes go in through a bytes-typed twin below.
          name: '',
          kind: s.kind,
          startTimeUnixNano: s.start.toString(),
          endTimeUnixNano: s.end.toString(),
          ...(s.parent ? { parentSpanId: Buffer.alloc(8, 9) } : {}),
        }));
        // Splice each name's raw bytes in as field 5 (appended fields win for singular fields).
        const encoded = spans.map((sp, k) => {
          const bytes = SPAN.encode(sp).finish();
          const name = specs[k]?.name as Buffer;
          return Buffer.concat([bytes, Buffer.from([0x2a, name.length]), name]);
        });
        // ExportTraceServiceRequest.resource_spans (1) > ResourceSpans.scope_spans (2) > ScopeSpans.spans (2).
        const full = ld(1, ld(2, Buffer.concat(encoded.map((e) => ld(2, e)))));
        const decoded = decodeTracesRequest(full).resources[0]?.scopes[0]?.spans ?? [];
        expect(decoded.length).toBe(specs.length);
        decoded.forEach((d, k) => {
          const s = specs[k] as (typeof specs)[number];
          expect(d.name).toBe(new TextDecoder().decode(s.name));
          expect(d.startNs).toBe(s.start);
          expect(d.endNs).toBe(s.end);
          expect(d.kind).toBe(s.kind > 5 ? 0 : s.kind);
          expect(d.parentSpanId.length).toBe(s.parent ? 8 : 0);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('keeps one string per distinct name, past the first table size', () => {
    const spans = Array.from({ length: 1200 }, (_, k) => span(k, { name: `op-${k % 600}` }));
    const flat = decodeTracesFlat(request(spans));
    expect(flat.spanCount).toBe(1200);
    expect(new Set(flat.strings).size).toBe(flat.strings.length);
    expect(flat.strings.filter((s) => s.startsWith('op-')).length).toBe(600);
    const names = decodeTracesRequest(request(spans)).resources[0]?.scopes[0]?.spans.map((s) => s.name);
    expect(names).toEqual(spans.map((_, k) => `op-${k % 600}`));
  });

  it('returns copies: a later decode does not change an earlier result', () => {
    const first = decodeTracesFlat(request(Array.from({ length: 300 }, (_, k) => span(k))));
    const layout = Array.from(first.layout);
    const times = Array.from(first.times);
    decodeTracesFlat(request([span(7, { startTimeUnixNano: 99, endTimeUnixNano: 100 })]));
    expect(Array.from(first.layout)).toEqual(layout);
    expect(Array.from(first.times)).toEqual(times);
    expect(first.times.length).toBe(4 * 300);
    expect(first.layout.length).toBe(1 + LAYOUT.RESOURCE_WORDS + LAYOUT.SCOPE_WORDS + 300 * LAYOUT.SPAN_WORDS);
  });

  it('grows its scratch arrays without losing what was written', () => {
    const spans = Array.from({ length: 3000 }, (_, k) => span(k, { startTimeUnixNano: k, endTimeUnixNano: 2 * k + 1 }));
    const decoded = decodeTracesRequest(request(spans)).resources[0]?.scopes[0]?.spans ?? [];
    expect(decoded.map((s) => [s.name, s.startNs, s.endNs])).toEqual(spans.map((_, k) => [`op-${k}`, BigInt(k), BigInt(2 * k + 1)]));
  });

  it('leaves no words of a rejected span between the kept ones', () => {
    const flat = decodeTracesFlat(request([span(1), span(2, { spanId: Buffer.alloc(8) }), span(3, { startTimeUnixNano: 30, endTimeUnixNano: 40 })]));
    expect(flat.spanCount).toBe(2);
    expect(flat.rejected).toBe(1);
    const spans = decodeTracesRequest(request([span(1), span(2, { spanId: Buffer.alloc(8) }), span(3, { startTimeUnixNano: 30, endTimeUnixNano: 40 })])).resources[0]?.scopes[0]?.spans;
    expect(spans?.map((s) => [s.name, s.startNs, s.endNs])).toEqual([
      ['op-1', 10n, 20n],
      ['op-3', 30n, 40n],
    ]);
  });
});

function ld(field: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([(field << 3) | 2]), varint(payload.length), payload]);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}
