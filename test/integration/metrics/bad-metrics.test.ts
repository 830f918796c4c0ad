import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { getJson, getOk, startTestDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { gzipSync } from 'node:zlib';
import { grpcCall, METRICS_EXPORT_PATH, postJson, postProto, rawGrpcClient, rawRequest } from '../../helpers/otlp-raw.js';
import { otlpType, TypeNames } from '../../../src/codec/protos.js';
import { queryApi } from '../../helpers/metrics-sdk.js';

/**
 * Hand-built OTLP metric payloads, valid and not: bad data points are rejected one by one with
 * partial_success.rejected_data_points while their batch-mates are stored; undecodable bodies get
 * 400 / INVALID_ARGUMENT; the daemon keeps serving throughout.
 */

let daemon: TestDaemon;
beforeAll(async () => {
  daemon = await startTestDaemon();
});
afterAll(async () => {
  await daemon?.stop();
});

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
const metricsUrl = (): string => `${daemon.httpUrl}/v1/metrics`;

function request(service: string, metrics: unknown[]): Record<string, unknown> {
  return {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeMetrics: [{ scope: { name: 'hand-built' }, metrics }],
      },
    ],
  };
}

describe('OTLP/JSON metrics', () => {
  it('rejects each bad data point with partial success and stores the good ones', async () => {
    const t = nowNs().toString();
    const s = (nowNs() - 1_000_000_000n).toString();
    const body = request('bad-json', [
      { name: 'good_gauge', unit: '1', gauge: { dataPoints: [{ timeUnixNano: t, asDouble: 4.5 }] } },
      { name: 'nan_gauge', gauge: { dataPoints: [{ timeUnixNano: t, asDouble: 'NaN' }] } },
      { name: 'inf_sum', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ startTimeUnixNano: s, timeUnixNano: t, asDouble: 'Infinity' }] } },
      { name: 'negative_counter', sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: [{ startTimeUnixNano: s, timeUnixNano: t, asInt: '-3' }] } },
      { name: 'no_time', gauge: { dataPoints: [{ asInt: 1 }] } },
      { name: 'no_temporality', sum: { dataPoints: [{ timeUnixNano: t, asInt: 1 }] } },
      {
        name: 'bad_buckets',
        histogram: {
          aggregationTemporality: 1,
          dataPoints: [
            { startTimeUnixNano: s, timeUnixNano: t, count: '3', bucketCounts: ['1', '2'], explicitBounds: [1, 2] },
            { startTimeUnixNano: s, timeUnixNano: t, count: '-1', bucketCounts: [], explicitBounds: [] },
            { startTimeUnixNano: s, timeUnixNano: t, count: '3', bucketCounts: ['1', '1', '1'], explicitBounds: [2, 1] },
            { startTimeUnixNano: s, timeUnixNano: t, count: '4', sum: 10, bucketCounts: ['1', '1', '1'], explicitBounds: [1, 2] },
          ],
        },
      },
      {
        name: 'bad_exp',
        exponentialHistogram: {
          aggregationTemporality: 2,
          dataPoints: [{ startTimeUnixNano: s, timeUnixNano: t, count: '5', scale: 2, zeroCount: '1', positive: { offset: 0, bucketCounts: ['1'] } }],
        },
      },
      { name: 'bad_summary', summary: { dataPoints: [{ timeUnixNano: t, count: '1', sum: 1, quantileValues: [{ quantile: 1.5, value: 1 }] }] } },
    ]);
    const reply = await postJson(metricsUrl(), JSON.stringify(body));
    expect(reply.status).toBe(200);
    const answer = JSON.parse(reply.body.toString()) as { partialSuccess: { rejectedDataPoints: string; errorMessage: string } };
    expect(answer.partialSuccess.rejectedDataPoints).toBe('11');
    expect(answer.partialSuccess.errorMessage).toMatch(/not finite/);
    expect(answer.partialSuccess.errorMessage).toMatch(/^11 data point\(s\) rejected/);
    expect(daemon.service.counters.refusedMetricPoints.http).toBeGreaterThanOrEqual(11);

    const stored = await queryApi(daemon.apiUrl, { select: 'good_gauge{service.name="bad-json"}', agg: 'last', window: '1h' });
    expect(stored.groups[0]?.value).toBe(4.5);
    expect(stored.unit).toBe('1');
    const { metrics } = await getOk<{ metrics: { name: string }[] }>(`${daemon.apiUrl}/api/metrics`);
    expect(metrics.map((m) => m.name)).not.toContain('bad_buckets');
  });

  it('shares the traces path conformance: 415, 405, gzip, 400 on a corrupt gzip body', async () => {
    const text = await rawRequest(metricsUrl(), { headers: { 'Content-Type': 'text/plain' }, body: Buffer.from('x') });
    expect(text.status).toBe(415);
    const get = await rawRequest(metricsUrl(), { method: 'GET' });
    expect(get.status).toBe(405);
    const t = nowNs().toString();
    const body = gzipSync(JSON.stringify(request('gzip', [{ name: 'gz', gauge: { dataPoints: [{ timeUnixNano: t, asDouble: 1 }] } }])));
    const ok = await postJson(metricsUrl(), body, { 'Content-Encoding': 'gzip' });
    expect(ok.status).toBe(200);
    expect(ok.body.toString()).toBe('{}');
    const corrupt = await postJson(metricsUrl(), Buffer.from('not gzip'), { 'Content-Encoding': 'gzip' });
    expect(corrupt.status).toBe(400);
  });

  it('answers 400 with a Status body to invalid JSON, and full success to an empty request', async () => {
    const bad = await postJson(metricsUrl(), '{"resourceMetrics": [');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body.toString())).toMatchObject({ code: 3 });
    const notArray = await postJson(metricsUrl(), '{"resourceMetrics": 5}');
    expect(notArray.status).toBe(400);
    const empty = await postJson(metricsUrl(), '{"resourceMetrics":[]}');
    expect(empty.status).toBe(200);
    expect(empty.body.toString()).toBe('{}');
  });

  it('keeps exemplars with their trace and span ids, and summaries with their quantiles', async () => {
    const t = nowNs();
    const traceId = '5B8EFFF798038103D269B633813FC60C';
    const body = request('exemplars', [
      {
        name: 'http_request_duration_seconds',
        histogram: {
          aggregationTemporality: 1,
          dataPoints: [
            {
              startTimeUnixNano: (t - 10_000_000_000n).toString(),
              timeUnixNano: t.toString(),
              count: 2,
              sum: 3.5,
              bucketCounts: [1, 1],
              explicitBounds: [1],
              exemplars: [{ timeUnixNano: t.toString(), asDouble: 2.5, traceId, spanId: 'EEE19B7EC3C1B174' }],
            },
          ],
        },
      },
      {
        name: 'rpc_latency_summary',
        summary: {
          dataPoints: [
            {
              startTimeUnixNano: (t - 10_000_000_000n).toString(),
              timeUnixNano: t.toString(),
              count: 10,
              sum: 20,
              quantileValues: [{ quantile: 0.5, value: 1.5 }, { quantile: 0.99, value: 9 }],
            },
          ],
        },
      },
    ]);
    const reply = await postJson(metricsUrl(), JSON.stringify(body));
    expect(reply.status).toBe(200);
    expect(reply.body.toString()).toBe('{}');
    const r = await queryApi(daemon.apiUrl, { select: 'http_request_duration_seconds{service.name="exemplars"}', agg: 'count', window: '1h', exemplars: '5' });
    expect(r.groups[0]?.value).toBe(2);
    expect(r.groups[0]?.exemplars).toEqual([
      expect.objectContaining({ traceId: traceId.toLowerCase(), spanId: 'eee19b7ec3c1b174', value: 2.5 }),
    ]);
    const p99 = await queryApi(daemon.apiUrl, { select: 'rpc_latency_summary', agg: 'p99', window: '1h' });
    expect(p99.groups[0]?.value).toBe(9);
    const avg = await queryApi(daemon.apiUrl, { select: 'rpc_latency_summary', agg: 'avg', window: '1h' });
    expect(avg.groups[0]?.value).toBe(2);
  });
});

describe('OTLP protobuf metrics', () => {
  const encode = (metrics: unknown[]): Uint8Array => otlpType(TypeNames.exportMetricsRequest).encode(request('bad-proto', metrics)).finish();
  const decodeResponse = (body: Uint8Array) =>
    otlpType(TypeNames.exportMetricsResponse).toObject(otlpType(TypeNames.exportMetricsResponse).decode(body), { longs: String }) as {
      partialSuccess?: { rejectedDataPoints: string; errorMessage: string };
    };

  it('rejects bad points per point over gRPC and HTTP, and stores the good ones', async () => {
    const t = nowNs();
    const body = encode([
      { name: 'proto_gauge', gauge: { dataPoints: [{ timeUnixNano: t.toString(), asDouble: 1 }, { timeUnixNano: t.toString(), asDouble: NaN }] } },
      {
        name: 'proto_hist',
        histogram: {
          aggregationTemporality: 2,
          dataPoints: [{ startTimeUnixNano: (t - 1n).toString(), timeUnixNano: t.toString(), count: 2, bucketCounts: [2], explicitBounds: [1, 2] }],
        },
      },
    ]);
    const client = rawGrpcClient(daemon.grpcTarget);
    try {
      const reply = await grpcCall(client, body, METRICS_EXPORT_PATH);
      expect(reply.error).toBeNull();
      expect(decodeResponse(reply.response!).partialSuccess).toMatchObject({ rejectedDataPoints: '2' });
      expect(decodeResponse(reply.response!).partialSuccess?.errorMessage).toMatch(/do not match 2 explicit bounds/);

      const garbage = await grpcCall(client, Buffer.from([0x0a, 0xff, 0xff, 0x01]), METRICS_EXPORT_PATH);
      expect(garbage.error?.code).toBe(status.INVALID_ARGUMENT);
    } finally {
      client.close();
    }
    const http = await postProto(metricsUrl(), body);
    expect(http.status).toBe(200);
    expect(decodeResponse(http.body).partialSuccess).toMatchObject({ rejectedDataPoints: '2' });
    const garbage = await postProto(metricsUrl(), Buffer.from('not protobuf at all'));
    expect(garbage.status).toBe(400);

    const stored = await queryApi(daemon.apiUrl, { select: 'proto_gauge', agg: 'count', window: '1h' });
    // The same point sent twice (gRPC then HTTP) is stored once.
    expect(stored.groups[0]?.value).toBe(1);
    expect(daemon.service.counters.acceptedMetricPoints.grpc).toBeGreaterThanOrEqual(1);
  });
});

describe('series cap', () => {
  it('sends the points of series beyond the cap to one overflow series per metric', async () => {
    const capped = await startTestDaemon({ config: { metrics: { maxSeries: 3 } } });
    try {
      const t = nowNs().toString();
      const points = Array.from({ length: 6 }, (_, i) => ({
        timeUnixNano: t,
        asInt: 1,
        attributes: [{ key: 'user', value: { stringValue: `u${i}` } }],
      }));
      const reply = await postJson(`${capped.httpUrl}/v1/metrics`, JSON.stringify(request('capped', [{ name: 'logins', gauge: { dataPoints: points } }])));
      expect(reply.status).toBe(200);
      const r = await queryApi(capped.apiUrl, { select: 'logins', agg: 'count', by: 'user,otel.metric.overflow', window: '1h' });
      // The overflow series flags that the cap was hit; its points are not a faithful aggregate (points of
      // different source series at the same time replace each other), so only its presence is asserted.
      expect(r.groups.map((g) => [g.labels['user'], g.labels['otel.metric.overflow']])).toEqual([
        ['u0', ''],
        ['u1', ''],
        ['u2', ''],
        ['', 'true'],
      ]);
      expect(r.seriesCount).toBe(4);

      // Counters beyond the cap are summed faithfully into the overflow series (as deltas).
      const start = (BigInt(Date.now()) * 1_000_000n).toString();
      for (const [round, values] of [[1, [1, 2, 3]], [2, [4, 6, 8]]] as const) {
        const tNs = (BigInt(Date.now()) * 1_000_000n + BigInt(round)).toString();
        const dataPoints = values.map((v, i) => ({
          startTimeUnixNano: start, timeUnixNano: tNs, asInt: v, attributes: [{ key: 'user', value: { stringValue: `u${i}` } }],
        }));
        const sent = await postJson(`${capped.httpUrl}/v1/metrics`, JSON.stringify(request('capped', [{ name: 'requests_total', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints } }])));
        expect(sent.status).toBe(200);
      }
      const inc = await queryApi(capped.apiUrl, { select: 'requests_total', agg: 'increase', by: 'otel.metric.overflow', window: '1h' });
      expect(inc.groups.map((g) => [g.labels['otel.metric.overflow'], g.value])).toEqual([['true', 18]]);
    } finally {
      await capped.stop();
    }
  });
});

describe('metrics read API errors', () => {
  it('answers 400 with a hint for bad queries and 404 with known names for unknown metrics', async () => {
    const get = async (q: string) => getJson<{ error: string; knownMetrics?: string[] }>(`${daemon.apiUrl}/api/metrics/query?${q}`);
    expect((await get('')).body.error).toMatch(/select is required/);
    expect((await get('select=m{a=b}')).status).toBe(400);
    expect((await get('select=m&agg=median')).body.error).toMatch(/agg must be one of/);
    expect((await get('select=m&agg=quantile&q=2')).body.error).toMatch(/q between 0 and 1/);
    expect((await get('select=m&step=soon')).status).toBe(400);
    const unknown = await get('select=no_such_metric');
    expect(unknown.status).toBe(404);
    expect(Array.isArray(unknown.body.knownMetrics)).toBe(true);
  });
});
