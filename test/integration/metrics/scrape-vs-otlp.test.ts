import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../../helpers/daemon.js';
import { postJson } from '../../helpers/otlp-raw.js';
import { queryApi, type QueryResult } from '../../helpers/metrics-sdk.js';
import { startTestTarget, type TestTarget } from '../../helpers/prometheus-target.js';
import { SEED_COUNTERS, SEED_CREATED_SECONDS, SEED_GAUGES, SEED_HISTOGRAMS, SEED_SUMMARY } from '../../helpers/seed-metrics.js';

/**
 * Acceptance (issue 3): the seed app's 13 metric families reach the store once by scraping its
 * OpenMetrics endpoint and once as OTLP an SDK would send for the same values (cumulative, same start
 * times); every query answers the same for both. The OTLP requests are built here from the seed spec,
 * independently of the receiver's mapping code.
 */
const SCRAPED = 'seed-app';
const PUSHED = 'seed-otlp';
const CREATED_NS = (BigInt(Math.round(SEED_CREATED_SECONDS * 1000)) * 1_000_000n).toString();

function kv(rec: Record<string, string>): { key: string; value: { stringValue: string } }[] {
  return Object.entries(rec).map(([key, v]) => ({ key, value: { stringValue: v } }));
}

/** The seed values at tick n, as one OTLP/JSON ExportMetricsServiceRequest from service PUSHED. */
function otlpRequest(n: number, timeNs: string): string {
  const t = { startTimeUnixNano: CREATED_NS, timeUnixNano: timeNs };
  const metrics: unknown[] = [
    ...SEED_COUNTERS.map((c) => ({
      name: `${c.name}_total`,
      sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: c.series.map(([rec, v]) => ({ attributes: kv(rec), ...t, asDouble: v * n })) },
    })),
    ...SEED_HISTOGRAMS.map((h) => ({
      name: h.name,
      unit: 's',
      histogram: {
        aggregationTemporality: 2,
        dataPoints: h.series.map(([rec, counts, sum]) => ({
          attributes: kv(rec),
          ...t,
          count: String(counts.reduce((a, b) => a + b, 0) * n),
          sum: sum * n,
          bucketCounts: counts.map((c) => String(c * n)),
          explicitBounds: h.bounds,
        })),
      },
    })),
    ...SEED_GAUGES.map((g) => ({ name: g.name, gauge: { dataPoints: g.series.map(([rec, v]) => ({ attributes: kv(rec), timeUnixNano: timeNs, asDouble: v })) } })),
    {
      name: SEED_SUMMARY.name,
      unit: 's',
      summary: {
        dataPoints: SEED_SUMMARY.series.map(([rec, qs, count, sum]) => ({
          attributes: kv(rec),
          ...t,
          count: String(count * n),
          sum: sum * n,
          quantileValues: qs.map(([quantile, value]) => ({ quantile, value })),
        })),
      },
    },
  ];
  return JSON.stringify({
    resourceMetrics: [{ resource: { attributes: kv({ 'service.name': PUSHED }) }, scopeMetrics: [{ scope: { name: 'seed-sdk' }, metrics }] }],
  });
}

let daemon: TestDaemon;
let target: TestTarget;
let window: { start: string; end: string };

beforeAll(async () => {
  const startMs = Date.now() - 1;
  target = await startTestTarget({ mode: 'negotiate', tick: 1 });
  daemon = await startTestDaemon({ config: { scrape: { targets: [{ url: target.url, interval: '1h', timeout: '5s', job: SCRAPED }] } } });
  const scraper = daemon.service.scraper;
  if (!scraper) throw new Error('scraper not configured');
  for (const tick of [1, 3, 4]) {
    target.tick = tick;
    const status = await scraper.scrapeNow();
    expect(status).toMatchObject({ up: true, refusedPoints: 0, failedPoints: 0, droppedPoints: 0 });
    const reply = await postJson(`${daemon.httpUrl}/v1/metrics`, otlpRequest(tick, `${BigInt(Date.now()) * 1_000_000n}`));
    expect(reply.status).toBe(200);
    expect(reply.body.toString()).not.toMatch(/rejected/i);
    await new Promise((r) => setTimeout(r, 20));
  }
  await daemon.service.store.flush();
  window = { start: String(startMs), end: String(Date.now() + 1) };
});

afterAll(async () => {
  await daemon?.stop();
  await target?.close();
});

async function both(params: Record<string, string | string[]>, selects: (service: string) => Record<string, string | string[]>): Promise<[QueryResult, QueryResult]> {
  return Promise.all(
    [SCRAPED, PUSHED].map((service) => queryApi(daemon.apiUrl, { ...params, ...selects(service), ...window })),
  ) as Promise<[QueryResult, QueryResult]>;
}

function answers(r: QueryResult): Record<string, number | null> {
  return Object.fromEntries(r.groups.map((g) => [JSON.stringify(g.labels), g.value]));
}

const sel = (metric: string, extra = '') => (service: string) => ({ select: `${metric}{service.name="${service}"${extra}}` });

describe('scrape and OTLP give the same query answers for the same values', () => {
  it.each([
    ['cache hit ratio by level', { agg: 'increase', by: 'level' }, (s: string) => ({ select: `cache_hits_total{service.name="${s}"}`, denominator: [`cache_hits_total{service.name="${s}"}`, `cache_misses_total{service.name="${s}"}`] })],
    ['HTTP request increase by status', { agg: 'increase', by: 'status_code' }, sel('http_requests_total')],
    ['Redis operation rate by operation', { agg: 'rate', by: 'operation' }, sel('redis_operations_total')],
    ['ML predictions by model and outcome', { agg: 'increase', by: 'model,outcome' }, sel('ml_predictions_total')],
    ['ML errors by type', { agg: 'increase', by: 'error_type' }, sel('ml_errors_total')],
    ['MCP operations by status', { agg: 'increase', by: 'status' }, sel('mcp_operations_total')],
    ['HTTP p99 latency by method', { agg: 'p99', by: 'method' }, sel('http_request_duration_seconds')],
    ['HTTP latency count', { agg: 'count', by: 'endpoint' }, sel('http_request_duration_seconds')],
    ['ML inference p50', { agg: 'p50' }, sel('ml_model_inference_duration_seconds')],
    ['DB query p90 by operation', { agg: 'p90', by: 'operation' }, sel('db_query_duration_seconds')],
    ['DB pool in use (last)', { agg: 'last', by: 'pool' }, sel('db_connection_pool_in_use')],
    ['DB pool size (max)', { agg: 'max' }, sel('db_connection_pool_size')],
  ])('%s', async (_name, params, selects) => {
    const [scraped, pushed] = await both(params, selects);
    expect(scraped.groups.length).toBeGreaterThan(0);
    expect(scraped.truncated).toBe(false);
    const a = answers(scraped);
    const b = answers(pushed);
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
    for (const [k, v] of Object.entries(b)) {
      if (v === null) expect(a[k], k).toBeNull();
      else expect(a[k], k).toBeCloseTo(v, 9);
    }
  });

  it('the exact answers, for the record', async () => {
    const [ratio] = await both({ agg: 'increase', by: 'level' }, (s) => ({
      select: `cache_hits_total{service.name="${s}"}`,
      denominator: [`cache_hits_total{service.name="${s}"}`, `cache_misses_total{service.name="${s}"}`],
    }));
    const byLevel = Object.fromEntries(ratio.groups.map((g) => [g.labels['level'], g.value]));
    expect(byLevel['L1']).toBeCloseTo(0.9, 12);
    expect(byLevel['L2']).toBeCloseTo(0.6, 12);
    expect(byLevel['L3']).toBeCloseTo(0.625, 12);
    const [requests] = await both({ agg: 'increase', by: 'status_code' }, sel('http_requests_total'));
    // Ticks 1 → 3 → 4 inside the window: increase = 3 × the base values (the first point is the baseline).
    expect(Object.fromEntries(requests.groups.map((g) => [g.labels['status_code'], g.value]))).toEqual({ '200': 6000, '500': 36 });
    const [pool] = await both({ agg: 'last' }, sel('db_connection_pool_in_use'));
    expect(pool.groups[0]?.value).toBe(7);
  });
});
