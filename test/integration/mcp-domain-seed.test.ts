import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { callOk, connectHttp, type McpConnection } from '../helpers/mcp-client.js';
import { startTestTarget, type TestTarget } from '../helpers/prometheus-target.js';
import { SEED_COUNTERS, SEED_GAUGES, SEED_HISTOGRAMS } from '../helpers/seed-metrics.js';

/**
 * The seed service's own metric families (Prometheus names: cache_hits_total{level}, ml_errors_total,
 * ml_model_inference_duration_seconds, db_connection_pool_in_use/_size), scraped twice by the daemon:
 * analyze must find them by name without being told, and answer from the increase between scrapes.
 */
const SERVICE = 'apes-ml-pipeline';
const TICKS = [1, 3];
const GROWTH = TICKS[1]! - TICKS[0]!;

let daemon: TestDaemon;
let target: TestTarget;
let mcp: McpConnection;

beforeAll(async () => {
  target = await startTestTarget({ mode: 'negotiate', tick: TICKS[0]! });
  daemon = await startTestDaemon({ config: { scrape: { targets: [{ url: target.url, interval: '1h', timeout: '5s', job: SERVICE }] } } });
  const scraper = daemon.service.scraper;
  if (!scraper) throw new Error('scraper not configured');
  for (const tick of TICKS) {
    target.tick = tick;
    expect(await scraper.scrapeNow()).toMatchObject({ up: true, refusedPoints: 0, failedPoints: 0 });
    await new Promise((r) => setTimeout(r, 20));
  }
  await daemon.service.store.flush();
  mcp = await connectHttp(daemon.apiUrl);
});

afterAll(async () => {
  await mcp?.close();
  await daemon?.stop();
  await target?.close();
});

const seedCounter = (name: string) => SEED_COUNTERS.find((c) => c.name === name)!.series;

describe('analyze over the seed service scraped with Prometheus names', () => {
  it('cache: hit ratio per level from the increase between scrapes', async () => {
    const hits = Object.fromEntries(seedCounter('cache_hits').map(([l, v]) => [l['level'], v * GROWTH]));
    const misses = Object.fromEntries(seedCounter('cache_misses').map(([l, v]) => [l['level'], v * GROWTH]));
    const r = await callOk<{ source: string; rows: { level: string; hits: number; misses: number; hit_ratio: number }[]; findings: Record<string, unknown>[] }>(
      mcp.client, 'analyze', { topic: 'cache', service: SERVICE });
    expect(r.source).toBe('metrics');
    expect(r.rows.map((x) => [x.level, x.hits, x.misses, x.hit_ratio])).toEqual(
      ['L1', 'L2', 'L3'].map((l) => [l, hits[l], misses[l], Number((hits[l]! / (hits[l]! + misses[l]!)).toFixed(6))]));
    expect(r.findings.find((f) => f['kind'] === 'weakest_level')).toMatchObject({ level: 'L2' });
    expect(r.findings.find((f) => f['kind'] === 'hierarchy')).toMatchObject({ chained: true, effective_hit_ratio: (900 + 60 + 25) / 1000 });
  });

  it('inference: histogram count, percentile buckets and error types per model', async () => {
    const r = await callOk<{ rows: Record<string, unknown>[] }>(mcp.client, 'analyze', { topic: 'inference', service: SERVICE });
    const [labels, counts] = SEED_HISTOGRAMS.find((h) => h.name === 'ml_model_inference_duration_seconds')!.series[0]!;
    const row = r.rows.find((x) => x['source'] === 'metric ml_model_inference_duration_seconds')!;
    expect(row).toMatchObject({ model: labels['model'], count: counts.reduce((a, b) => a + b, 0) * GROWTH });
    // Ranks of p50 and p99 fall in the 10–50 ms and 500–1000 ms buckets of the seed histogram.
    expect(row['p50_ms']).toBeGreaterThan(10);
    expect(row['p50_ms']).toBeLessThanOrEqual(50);
    expect(row['p99_ms']).toBeGreaterThan(500);
    expect(row['p99_ms']).toBeLessThanOrEqual(1000);
    expect(row['error_types']).toEqual(seedCounter('ml_errors').map(([l, v]) => ({ type: l['error_type'], count: v * GROWTH })));
  });

  it('database: pool utilisation from the app gauges', async () => {
    const r = await callOk<{ findings: Record<string, unknown>[]; source: string }>(mcp.client, 'analyze', { topic: 'database', service: SERVICE });
    const size = SEED_GAUGES.find((g) => g.name === 'db_connection_pool_size')!.series[0]![1];
    const used = SEED_GAUGES.find((g) => g.name === 'db_connection_pool_in_use')!.series[0]![1];
    expect(r.source).toBe('metrics');
    expect(r.findings).toEqual([{ kind: 'pool', pool: 'primary', saturated: false, used_peak: used, used_mean: used, size, peak_utilisation: used / size, mean_utilisation: used / size }]);
  });
});
