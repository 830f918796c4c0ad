import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PackedSpans, packSpans, type SpanToPack } from '../../../src/store/sqlite/span-pack.js';

const span = fc.record({
  spanId: fc.uint8Array({ minLength: 8, maxLength: 8 }),
  parentSpanId: fc.oneof(fc.constant(new Uint8Array()), fc.uint8Array({ minLength: 8, maxLength: 8 })),
  kind: fc.integer({ min: 0, max: 5 }),
  statusCode: fc.integer({ min: 0, max: 2 }),
  serviceId: fc.nat({ max: 2 ** 32 - 1 }),
  nameId: fc.nat({ max: 2 ** 32 - 1 }),
  resourceId: fc.nat({ max: 2 ** 32 - 1 }),
  scopeId: fc.nat({ max: 2 ** 32 - 1 }),
  startNs: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  endNs: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  raw: fc.uint8Array({ maxLength: 300 }),
});

describe('packed trace chunks', () => {
  it('give back every field of every span, in order', () => {
    fc.assert(
      fc.property(fc.array(span, { minLength: 1, maxLength: 30 }), (spans: SpanToPack[]) => {
        const read: SpanToPack[] = [];
        for (const s = new PackedSpans(packSpans(spans)); s.next(); ) {
          read.push({
            spanId: new Uint8Array(s.spanId),
            parentSpanId: new Uint8Array(s.parentSpanId),
            kind: s.kind,
            statusCode: s.statusCode,
            serviceId: s.serviceId,
            nameId: s.nameId,
            resourceId: s.resourceId,
            scopeId: s.scopeId,
            startNs: s.startNs,
            endNs: s.endNs,
            raw: new Uint8Array(s.raw),
          });
        }
        expect(read).toEqual(spans.map((s) => ({ ...s, spanId: new Uint8Array(s.spanId), raw: new Uint8Array(s.raw) })));
      }),
      { numRuns: 100 },
    );
  });

  it('reject a record that overruns its row instead of reading past it', () => {
    const packed = packSpans([{ spanId: new Uint8Array(8), parentSpanId: new Uint8Array(), kind: 1, statusCode: 0, serviceId: 1, nameId: 1, resourceId: 1, scopeId: 1, startNs: 1n, endNs: 2n, raw: new Uint8Array(10) }]);
    const cursor = new PackedSpans(packed.subarray(0, packed.byteLength - 1));
    expect(() => cursor.next()).toThrow(/overruns/);
  });
});
