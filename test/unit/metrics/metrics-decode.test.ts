import { describe, expect, it } from 'vitest';
import { AggregationTemporality, AggregationType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { JsonMetricsSerializer, ProtobufMetricsSerializer } from '@opentelemetry/otlp-transformer';
import { decodeMetricsJson, decodeMetricsProtobuf } from '../../../src/codec/metrics-decode.js';
import { MalformedProtobufError } from '../../../src/codec/wire-reader.js';
import { MalformedJsonError } from '../../../src/codec/otlp-json-in.js';
import type { DecodedMetrics, MetricSeriesBatch } from '../../../src/model/metric.js';
import { otlpType, TypeNames } from '../../../src/codec/protos.js';

/** A reader that only collects on demand, so the test holds the SDK's ResourceMetrics. */
class CollectingReader extends MetricReader {
  constructor(temporality: AggregationTemporality) {
    super({ aggregationTemporalitySelector: () => temporality });
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

async function sdkPayload(temporality: AggregationTemporality) {
  const reader = new CollectingReader(temporality);
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'decode-test', 'host.cores': 8 }),
    readers: [reader],
    views: [{ instrumentName: 'exp', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM } }],
  });
  const meter = provider.getMeter('decoder', '2.0');
  meter.createCounter('requests', { unit: '{request}', description: 'Requests' }).add(7, { route: '/a', ok: true });
  meter.createUpDownCounter('queue').add(-4);
  meter.createGauge('temp', { unit: 'Cel' }).record(21.25);
  meter.createHistogram('lat', { unit: 's', advice: { explicitBucketBoundaries: [1, 2] } }).record(1.5);
  const exp = meter.createHistogram('exp');
  for (const v of [0, 0.5, 3, 300]) exp.record(v);
  const { resourceMetrics } = await reader.collect();
  await provider.shutdown();
  return resourceMetrics;
}

const byName = (d: DecodedMetrics, name: string): MetricSeriesBatch => d.series.find((s) => s.metric.name === name) as MetricSeriesBatch;

describe.each([AggregationTemporality.CUMULATIVE, AggregationTemporality.DELTA])('SDK payloads (temporality %s)', (temporality) => {
  it('decode the same from protobuf and OTLP/JSON, with every type, unit and value', async () => {
    const rm = await sdkPayload(temporality);
    const proto = decodeMetricsProtobuf(ProtobufMetricsSerializer.serializeRequest(rm) as Uint8Array);
    const json = decodeMetricsJson(JsonMetricsSerializer.serializeRequest(rm) as Uint8Array);
    expect(json).toEqual(proto);
    expect(proto.rejected).toBe(0);
    expect(proto.pointCount).toBe(5);
    const requests = byName(proto, 'requests');
    expect(requests.metric).toEqual({
      name: 'requests', type: 'sum', unit: '{request}', description: 'Requests', monotonic: true,
      temporality: temporality === AggregationTemporality.DELTA ? 1 : 2,
    });
    expect(requests.resource).toEqual({ 'service.name': 'decode-test', 'host.cores': '8' });
    expect(requests.attributes).toEqual({ route: '/a', ok: 'true' });
    expect(requests.scope).toBe('decoder');
    expect(requests.points[0]).toMatchObject({ value: 7, flags: 0 });
    expect(requests.points[0]!.timeNs).toBeGreaterThanOrEqual(requests.points[0]!.startNs);
    expect(byName(proto, 'queue').points[0]?.value).toBe(-4);
    expect(byName(proto, 'temp')).toMatchObject({ metric: { type: 'gauge', unit: 'Cel' }, points: [{ value: 21.25 }] });
    expect(byName(proto, 'lat').points[0]).toMatchObject({ count: 1, sum: 1.5, min: 1.5, max: 1.5, bounds: [1, 2], bucketCounts: [0, 1, 0] });
    const e = byName(proto, 'exp').points[0]!;
    expect(e).toMatchObject({ count: 4, sum: 303.5, zeroCount: 1, min: 0, max: 300 });
    expect((e.positive?.counts ?? []).reduce((a, b) => a + b, 0)).toBe(3);
  });
});

describe('OTLP/JSON specifics', () => {
  const t = '1700000000000000000';
  it('accepts snake_case keys, enum names, numeric strings and the proto3 special doubles', () => {
    const body = JSON.stringify({
      resource_metrics: [
        {
          scope_metrics: [
            {
              metrics: [
                {
                  name: 'x',
                  sum: {
                    aggregation_temporality: 'AGGREGATION_TEMPORALITY_CUMULATIVE',
                    is_monotonic: true,
                    data_points: [{ start_time_unix_nano: '1', time_unix_nano: t, as_int: '9007199254740993' }],
                  },
                },
                { name: 'g', gauge: { dataPoints: [{ timeUnixNano: Number(1e18), asDouble: '-Infinity' }] } },
              ],
            },
          ],
        },
      ],
    });
    const d = decodeMetricsJson(new TextEncoder().encode(body));
    expect(d.series[0]?.points[0]).toMatchObject({ timeNs: BigInt(t), startNs: 1n, value: 9007199254740992 });
    expect(d.series[0]?.metric.temporality).toBe(2);
    expect(d.rejected).toBe(1);
    expect(d.reasons[0]).toMatch(/g: value -Infinity is not finite/);
  });

  it('accepts a staleness marker (flags = no recorded value) whatever its value', () => {
    const body = JSON.stringify({
      resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'up', gauge: { dataPoints: [{ timeUnixNano: t, asDouble: 'NaN', flags: 1 }] } }] }] }],
    });
    const d = decodeMetricsJson(new TextEncoder().encode(body));
    expect(d.rejected).toBe(0);
    expect(d.series[0]?.points[0]).toEqual({ timeNs: BigInt(t), startNs: 0n, flags: 1, exemplars: [] });
  });

  it('reads negative sint32 offsets, signed ints, bytes attributes and ids from protobuf', () => {
    const type = otlpType(TypeNames.exportMetricsRequest);
    const bytes = type
      .encode({
        resourceMetrics: [
          {
            scopeMetrics: [
              {
                metrics: [
                  {
                    name: 'e',
                    exponentialHistogram: {
                      aggregationTemporality: 1,
                      dataPoints: [
                        {
                          timeUnixNano: 10, count: 4, scale: -3, zeroCount: 1, positive: { offset: -7, bucketCounts: [1, 2] },
                          exemplars: [{ timeUnixNano: 9, asInt: -2, traceId: new Uint8Array(16).fill(0xab), spanId: new Uint8Array(8).fill(1) }],
                          attributes: [{ key: 'k', value: { intValue: -5 } }, { key: 'b', value: { bytesValue: Uint8Array.from([1, 2]) } }],
                        },
                      ],
                    },
                  },
                ],
              },
            ],
          },
        ],
      })
      .finish();
    const wire = decodeMetricsProtobuf(bytes);
    expect(wire.series[0]?.points[0]).toMatchObject({ scale: -3, positive: { offset: -7, counts: [1, 2] } });
    expect(wire.series[0]?.points[0]?.exemplars[0]).toMatchObject({ value: -2, traceId: 'ab'.repeat(16), spanId: '01'.repeat(8) });
    expect(wire.series[0]?.attributes).toEqual({ k: '-5', b: 'AQI=' });
  });

  it('throws the malformed-request errors for undecodable bodies', () => {
    expect(() => decodeMetricsJson(new TextEncoder().encode('[1'))).toThrow(MalformedJsonError);
    expect(() => decodeMetricsJson(new TextEncoder().encode('{"resourceMetrics":[1]}'))).toThrow(MalformedJsonError);
    expect(() => decodeMetricsProtobuf(Uint8Array.from([0x0a, 0x05, 0x12]))).toThrow(MalformedProtobufError);
  });
});
