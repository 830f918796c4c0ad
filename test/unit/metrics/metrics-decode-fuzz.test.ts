import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeMetricsJson, decodeMetricsProtobuf } from '../../../src/codec/metrics-decode.js';
import { MalformedJsonError } from '../../../src/codec/otlp-json-in.js';
import { MalformedProtobufError } from '../../../src/codec/wire-reader.js';
import { otlpType, TypeNames } from '../../../src/codec/protos.js';

/**
 * Bad input never escapes as anything but the two malformed-request errors (→ 400) or per-point
 * rejections: arbitrary values in every field of a well-shaped request, and arbitrary bytes.
 */
const arr = <T>(a: fc.Arbitrary<T>) => fc.array(a, { maxLength: 4 });
const leaf = fc.oneof(fc.anything({ maxDepth: 2, maxKeys: 4 }), fc.constantFrom('NaN', 'Infinity', '-1', '18446744073709551616', 'AGGREGATION_TEMPORALITY_DELTA'));
const kv = fc.record({ key: fc.oneof(fc.string(), leaf), value: fc.oneof(leaf, fc.record({ stringValue: leaf }), fc.record({ arrayValue: fc.record({ values: arr(leaf) }) })) }, { requiredKeys: [] });
const point = fc.record(
  {
    timeUnixNano: leaf, startTimeUnixNano: leaf, asDouble: leaf, asInt: leaf, count: leaf, sum: leaf, min: leaf, max: leaf,
    bucketCounts: fc.oneof(leaf, arr(leaf)), explicitBounds: fc.oneof(leaf, arr(leaf)), scale: leaf, zeroCount: leaf,
    positive: fc.oneof(leaf, fc.record({ offset: leaf, bucketCounts: arr(leaf) })), flags: leaf,
    quantileValues: fc.oneof(leaf, arr(fc.record({ quantile: leaf, value: leaf }))),
    attributes: fc.oneof(leaf, arr(kv)), exemplars: fc.oneof(leaf, arr(fc.record({ traceId: leaf, spanId: leaf, asDouble: leaf, timeUnixNano: leaf }))),
  },
  { requiredKeys: [] },
);
const data = fc.record({ dataPoints: fc.oneof(leaf, arr(point)), aggregationTemporality: leaf, isMonotonic: leaf }, { requiredKeys: [] });
const metric = fc.record(
  { name: leaf, unit: leaf, gauge: data, sum: data, histogram: data, exponentialHistogram: data, summary: data },
  { requiredKeys: [] },
);
const request = fc.record({
  resourceMetrics: arr(
    fc.record({ resource: fc.oneof(leaf, fc.record({ attributes: arr(kv) })), scopeMetrics: arr(fc.record({ scope: leaf, metrics: arr(metric) })) }, { requiredKeys: [] }),
  ),
});

const allowed = (err: unknown): boolean => err instanceof MalformedJsonError || err instanceof MalformedProtobufError;

describe('metrics decoders under arbitrary input', () => {
  it('JSON: decodes or throws MalformedJsonError, and counts every point it did not keep', () => {
    fc.assert(
      fc.property(request, (req) => {
        let text: string;
        try {
          text = JSON.stringify(req, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
        } catch {
          return;
        }
        if (text === undefined) return;
        try {
          const d = decodeMetricsJson(new TextEncoder().encode(text));
          expect(d.pointCount).toBe(d.series.reduce((a, s) => a + s.points.length, 0));
        } catch (err) {
          if (!allowed(err)) throw err;
        }
      }),
      { numRuns: 200 },
    );
  });

  it('protobuf: arbitrary bytes and mutated valid requests decode or throw MalformedProtobufError', () => {
    const valid = otlpType(TypeNames.exportMetricsRequest)
      .encode({
        resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'h', histogram: { aggregationTemporality: 2, dataPoints: [{ timeUnixNano: 5, count: 1, bucketCounts: [1] }] } }] }] }],
      })
      .finish();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (bytes, at, value) => {
        const mutated = Uint8Array.from(valid);
        if (mutated.length > 0) mutated[at % mutated.length] = value;
        for (const input of [bytes, mutated]) {
          try {
            decodeMetricsProtobuf(input);
          } catch (err) {
            if (!allowed(err)) throw err;
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
