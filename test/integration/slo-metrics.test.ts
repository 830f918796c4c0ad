import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { callOk, connectHttp, type McpConnection } from '../helpers/mcp-client.js';
import { meterProvider, metricExporter } from '../helpers/metrics-sdk.js';

/**
 * Metric SLIs: availability from a good/total counter ratio and latency from a histogram's buckets at
 * or below each threshold, sent by the real OTel metrics SDK (cumulative, OTLP/HTTP protobuf).
 */

const SLO = {
  name: 'inference-metrics',
  service: 'apes-ml-pipeline',
  indicator: { metrics: { good: 'inference_requests_total{outcome="ok"}', total: 'inference_requests_total', latency: 'inference_duration' } },
  objectives: { availability: 0.999, latency: [{ thresholdMs: 2000, target: 0.95 }, { thresholdMs: 5000, target: 0.99 }] },
};

interface Detail {
  slos: { requests: number; objectives: { name: string; events: number; bad: number; burn_rates: Record<string, number>; budget_consumed: number }[]; latency_ms?: { p95: number } }[];
}

describe('slo_status from metrics', () => {
  let daemon: TestDaemon;
  let mcp: McpConnection;

  beforeAll(async () => {
    daemon = await startTestDaemon({ config: { slos: [SLO] } });
    mcp = await connectHttp(daemon.apiUrl);
    const provider = meterProvider('apes-ml-pipeline', metricExporter(daemon, 'http-proto', 'cumulative'));
    const meter = provider.getMeter('slo-metrics');
    const requests = meter.createCounter('inference_requests_total');
    const duration = meter.createHistogram('inference_duration', { unit: 'ms', advice: { explicitBucketBoundaries: [100, 500, 1000, 2000, 5000, 10_000] } });
    // 1000 requests: 10 failed; 940 took ≤ 2 s, 55 in (2 s, 5 s], 5 over 5 s.
    for (let i = 0; i < 1000; i++) {
      requests.add(1, { outcome: i % 100 === 0 ? 'error' : 'ok' });
      duration.record(i < 940 ? 150 + i : i < 995 ? 2500 + i : 7000);
    }
    await provider.forceFlush();
    await provider.shutdown();
  }, 30_000);

  afterAll(async () => {
    await mcp?.close();
    await daemon?.stop();
  });

  it('counts good/total and histogram buckets ≤ threshold in every window', async () => {
    let detail: Detail | undefined;
    for (let i = 0; i < 50; i++) {
      detail = await callOk<Detail>(mcp.client, 'slo_status', { slo: 'inference-metrics' });
      if (detail.slos[0]!.requests === 1000) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const by = Object.fromEntries(detail!.slos[0]!.objectives.map((o) => [o.name, o]));
    expect([by['availability']!.events, by['availability']!.bad]).toEqual([1000, 10]);
    expect([by['latency_le_2000ms']!.events, by['latency_le_2000ms']!.bad]).toEqual([1000, 60]);
    expect([by['latency_le_5000ms']!.events, by['latency_le_5000ms']!.bad]).toEqual([1000, 5]);
    // All points were exported just now: every window holds all of them.
    for (const w of ['5m', '30m', '1h', '6h', '3d']) {
      expect(by['availability']!.burn_rates[w]).toBeCloseTo(0.01 / 0.001, 6);
      expect(by['latency_le_2000ms']!.burn_rates[w]).toBeCloseTo(0.06 / 0.05, 6);
    }
    expect(by['latency_le_5000ms']!.budget_consumed).toBeCloseTo(5 / 10, 6);
    // p95 interpolated inside the (2000, 5000] bucket.
    expect(detail!.slos[0]!.latency_ms!.p95).toBeGreaterThan(2000);
    expect(detail!.slos[0]!.latency_ms!.p95).toBeLessThanOrEqual(5000);
  });
});
