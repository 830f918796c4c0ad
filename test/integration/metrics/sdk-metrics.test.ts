import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getOk, startTestDaemon, type TestDaemon } from '../../helpers/daemon.js';
import {
  byLabel,
  meterProvider,
  metricExporter,
  queryApi,
  type MetricsTransport,
  type Temporality,
} from '../../helpers/metrics-sdk.js';

/**
 * The real OTel JS MeterProvider with each OTLP metric exporter and both temporalities against a real
 * daemon: counters, up-down counters, gauges, explicit and exponential histograms with known values,
 * recorded in two export rounds; the query API must return the exact sums, rates, ratios and counts,
 * and quantiles within the documented interpolation error.
 */

const CASES: { transport: MetricsTransport; temporality: Temporality; gzip: boolean }[] = [
  { transport: 'grpc', temporality: 'cumulative', gzip: false },
  { transport: 'grpc', temporality: 'delta', gzip: true },
  { transport: 'http-proto', temporality: 'cumulative', gzip: true },
  { transport: 'http-proto', temporality: 'delta', gzip: false },
  { transport: 'http-json', temporality: 'cumulative', gzip: false },
  { transport: 'http-json', temporality: 'delta', gzip: true },
];

const BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
const HITS: Record<string, number> = { L1: 80, L2: 15, L3: 5 };
const MISSES: Record<string, number> = { L1: 20, L2: 5, L3: 3 };
/** Request durations: 1 ms … 200 ms in 1 ms steps. */
const DURATIONS = Array.from({ length: 200 }, (_, i) => (i + 1) / 1000);
/** Inference durations: 1 … 1000 ms as a log-spread set. */
const INFERENCE = Array.from({ length: 300 }, (_, i) => Math.round(1000 * Math.exp((i / 299) * Math.log(1000))) / 1000);

let daemon: TestDaemon;
beforeAll(async () => {
  daemon = await startTestDaemon();
});
afterAll(async () => {
  await daemon?.stop();
});

function exactQuantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] as number;
}

describe.each(CASES)('OTel JS SDK $transport exporter, $temporality temporality (gzip $gzip)', (c) => {
  it('stores every instrument and answers exact sums, rates, ratios, counts and bounded quantiles', async () => {
    const service = `sdk-metrics-${c.transport}-${c.temporality}`;
    const startMs = Date.now() - 1;
    const provider = meterProvider(service, metricExporter(daemon, c.transport, c.temporality, c.gzip), ['ml_model_inference_duration_seconds']);
    const meter = provider.getMeter('spanlens-test', '1.0.0');
    const hits = meter.createCounter('cache_hits_total', { description: 'Cache hits', unit: '{hit}' });
    const misses = meter.createCounter('cache_misses_total', { unit: '{miss}' });
    const pool = meter.createUpDownCounter('db_pool_connections_in_use', { unit: '{connection}' });
    const memory = meter.createGauge('ml_model_memory_bytes', { unit: 'By' });
    const duration = meter.createHistogram('http_server_request_duration_seconds', {
      unit: 's',
      advice: { explicitBucketBoundaries: BOUNDS },
    });
    const inference = meter.createHistogram('ml_model_inference_duration_seconds', { unit: 's' });

    // Two export rounds, so cumulative series have a baseline and delta series several points.
    for (const round of [0, 1]) {
      for (const level of ['L1', 'L2', 'L3']) {
        const h = HITS[level] as number;
        const m = MISSES[level] as number;
        const hRound = round === 0 ? Math.floor(h / 2) : h - Math.floor(h / 2);
        const mRound = round === 0 ? Math.floor(m / 2) : m - Math.floor(m / 2);
        for (let i = 0; i < hRound; i++) hits.add(1, { level });
        misses.add(mRound, { level });
      }
      pool.add(round === 0 ? 5 : -2, { pool: 'main' });
      memory.record(round === 0 ? 100 : 250, { model: 'ranker' });
      for (const d of DURATIONS.filter((_, i) => i % 2 === round)) duration.record(d, { 'http.route': '/predict' });
      for (const v of INFERENCE.filter((_, i) => i % 2 === round)) inference.record(v, { model: 'ranker' });
      await provider.forceFlush();
    }
    await provider.shutdown();
    await daemon.service.store.flush();
    const endMs = Date.now() + 1;
    const window = { start: String(startMs), end: String(endMs) };
    const svc = `service.name="${service}"`;

    // Discovery: names, types, units, descriptions, label keys and values.
    const { metrics } = await getOk<{ metrics: { name: string; type: string; unit: string; description: string; seriesCount: number; labels: { key: string; values: string[] }[] }[] }>(
      `${daemon.apiUrl}/api/metrics?name=cache_hits`,
    );
    const hitsInfo = metrics.find((m) => m.name === 'cache_hits_total');
    expect(hitsInfo).toMatchObject({ type: 'sum', unit: '{hit}', description: 'Cache hits' });
    expect(hitsInfo?.labels.find((l) => l.key === 'level')?.values).toEqual(['L1', 'L2', 'L3']);

    // Counters: exact increase per level, and the rate is the increase over the window.
    const inc = await queryApi(daemon.apiUrl, { select: `cache_hits_total{${svc}}`, agg: 'increase', by: 'level', ...window });
    expect(byLabel(inc, 'level')).toEqual(HITS);
    const rate = await queryApi(daemon.apiUrl, { select: `cache_hits_total{${svc},level="L1"}`, agg: 'rate', ...window });
    expect(rate.groups[0]?.value).toBeCloseTo(80 / ((endMs - startMs) / 1000), 9);

    // hits / (hits + misses) by cache level.
    const ratio = await queryApi(daemon.apiUrl, {
      select: `cache_hits_total{${svc}}`,
      denominator: [`cache_hits_total{${svc}}`, `cache_misses_total{${svc}}`],
      agg: 'increase',
      by: 'level',
      ...window,
    });
    expect(byLabel(ratio, 'level')).toEqual({ L1: 0.8, L2: 0.75, L3: 5 / 8 });

    // Up-down counter (cumulative under both preferences in the JS SDK) and gauge: current level.
    const poolNow = await queryApi(daemon.apiUrl, { select: `db_pool_connections_in_use{${svc}}`, agg: 'sum', ...window });
    expect(poolNow.groups[0]?.value).toBe(3);
    const mem = await queryApi(daemon.apiUrl, { select: `ml_model_memory_bytes{${svc}}`, agg: 'last', ...window });
    expect(mem.groups[0]?.value).toBe(250);
    const memMax = await queryApi(daemon.apiUrl, { select: `ml_model_memory_bytes{${svc}}`, agg: 'max', ...window });
    expect(memMax.groups[0]?.value).toBe(250);

    // Explicit-bucket histogram: exact count and sum; quantiles within the bucket that holds them.
    const dsel = `http_server_request_duration_seconds{${svc},http.route="/predict"}`;
    const count = await queryApi(daemon.apiUrl, { select: dsel, agg: 'count', ...window });
    expect(count.groups[0]?.value).toBe(200);
    const sum = await queryApi(daemon.apiUrl, { select: dsel, agg: 'sum', ...window });
    expect(sum.groups[0]?.value).toBeCloseTo(DURATIONS.reduce((a, b) => a + b, 0), 9);
    for (const q of [0.5, 0.9, 0.99]) {
      const r = await queryApi(daemon.apiUrl, { select: dsel, agg: 'quantile', q: String(q), ...window });
      const est = r.groups[0]?.value as number;
      const exact = exactQuantile(DURATIONS, q);
      const upper = BOUNDS.find((b) => b >= exact) ?? Infinity;
      const lower = [...BOUNDS].reverse().find((b) => b < exact) ?? 0;
      expect(est, `p${q * 100}`).toBeGreaterThanOrEqual(lower);
      expect(est, `p${q * 100}`).toBeLessThanOrEqual(Math.min(upper, 0.2));
    }

    // Exponential histogram: exact count; quantiles within the relative error of its scale.
    const isel = `ml_model_inference_duration_seconds{${svc}}`;
    const icount = await queryApi(daemon.apiUrl, { select: isel, agg: 'count', ...window });
    expect(icount.groups[0]?.value).toBe(INFERENCE.length);
    const iavg = await queryApi(daemon.apiUrl, { select: isel, agg: 'avg', ...window });
    expect(iavg.groups[0]?.value).toBeCloseTo(INFERENCE.reduce((a, b) => a + b, 0) / INFERENCE.length, 9);
    for (const q of [0.5, 0.9, 0.99]) {
      const r = await queryApi(daemon.apiUrl, { select: isel, agg: `p${q * 100}`, ...window });
      const est = r.groups[0]?.value as number;
      const exact = exactQuantile(INFERENCE, q);
      // maxSize 160 buckets over 3 decades (≈ 2^10) gives scale 4: relative error < base − 1 = 2^(1/16) − 1.
      expect(Math.abs(est - exact) / exact, `p${q * 100} ${est} vs ${exact}`).toBeLessThan(2 ** (1 / 16) - 1);
    }

    // Step series: per-interval increases add up to the total and are never negative.
    const steps = await queryApi(daemon.apiUrl, { select: `cache_hits_total{${svc}}`, agg: 'increase', step: '100ms', ...window });
    const values = (steps.groups[0]?.points ?? []).map((p) => p.value ?? 0);
    expect(values.every((v) => v >= 0)).toBe(true);
    expect(values.reduce((a, b) => a + b, 0)).toBe(100);
  });
});
