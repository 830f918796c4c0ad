import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { PrometheusScrapeReceiver, type ScrapeTargetSettings } from '../../src/receivers/prometheus/scraper.js';
import { SCRAPE_ACCEPT } from '../../src/receivers/prometheus/exposition.js';
import type { JsonMetricsRequest } from '../../src/receivers/prometheus/otlp-json.js';
import { MetricsSink, allMetrics, attrs, dataPoints, metricNamed, pointWith } from '../helpers/metrics-sink.js';
import { startTestTarget, type TestTarget } from '../helpers/prometheus-target.js';
import { SEED_FAMILY_NAMES, SPAN_ID, TRACE_ID } from '../helpers/seed-metrics.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function captureLogger(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.push(...chunk.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

async function setup(
  target: Partial<Pick<TestTarget, 'tick' | 'mode'>> = {},
  settings: Partial<ScrapeTargetSettings> = {},
): Promise<{ target: TestTarget; sink: MetricsSink; receiver: PrometheusScrapeReceiver; logs: () => Record<string, unknown>[] }> {
  const t = await startTestTarget(target);
  cleanups.push(() => t.close());
  const sink = new MetricsSink();
  const { logger, lines } = captureLogger();
  const receiver = new PrometheusScrapeReceiver(
    { targets: [{ url: t.url, intervalMs: 60_000, timeoutMs: 2_000, job: 'seed-app', ...settings }], maxBodyBytes: 1 << 20 },
    sink,
    logger,
  );
  cleanups.push(() => receiver.shutdown());
  return { target: t, sink, receiver, logs: lines };
}

const CREATED_NS = '1764000000500000000';

function expectSyntheticUp(req: JsonMetricsRequest, up: number): void {
  expect(pointWith(metricNamed(req, 'up')).asDouble).toBe(up);
  const duration = pointWith(metricNamed(req, 'scrape_duration_seconds')).asDouble as number;
  expect(duration).toBeGreaterThan(0);
  expect(duration).toBeLessThan(5);
}

describe('Prometheus scrape receiver against a seed-app target', () => {
  it('OpenMetrics (negotiated): exact values, types, temporality, created start times, units, exemplars', async () => {
    const { target, sink, receiver } = await setup();
    const status = await receiver.scrapeNow();
    expect(status).toMatchObject({ up: true, successes: 1, failures: 0, lastSamples: 97, droppedPoints: 0 });
    expect(target.accepts[0]).toBe(SCRAPE_ACCEPT);
    const req = sink.last();

    const resource = attrs(req.resourceMetrics[0]?.resource.attributes ?? []);
    const port = new URL(target.url).port;
    expect(resource).toEqual({
      'service.name': 'seed-app',
      'service.instance.id': `127.0.0.1:${port}`,
      'server.address': '127.0.0.1',
      'server.port': port,
      'url.scheme': 'http',
    });
    expect(req.resourceMetrics[0]?.scopeMetrics.map((s) => s.scope.name)).toEqual(['spanlens/receiver/prometheus']);
    expect(allMetrics(req).map((m) => m.name).sort()).toEqual(
      [...SEED_FAMILY_NAMES, 'up', 'scrape_duration_seconds', 'scrape_samples_scraped'].sort(),
    );
    expectSyntheticUp(req, 1);
    expect(pointWith(metricNamed(req, 'scrape_samples_scraped')).asDouble).toBe(97);

    const hits = metricNamed(req, 'cache_hits_total');
    expect(hits).toMatchObject({ description: 'Cache hits by level', metadata: [{ key: 'prometheus.type', value: { stringValue: 'counter' } }] });
    expect('sum' in hits && hits.sum).toMatchObject({ aggregationTemporality: 2, isMonotonic: true });
    for (const [level, value] of [['L1', 900], ['L2', 60], ['L3', 25]] as const) {
      expect(pointWith(hits, { level })).toMatchObject({ asDouble: value, startTimeUnixNano: CREATED_NS });
      expect(pointWith(metricNamed(req, 'cache_misses_total'), { level }).asDouble).toBe({ L1: 100, L2: 40, L3: 15 }[level]);
    }
    const requests = pointWith(metricNamed(req, 'http_requests_total'), { method: 'GET', endpoint: '/predict', status_code: '200' });
    expect(requests.exemplars).toEqual([{ traceId: TRACE_ID, spanId: SPAN_ID, asDouble: 1, timeUnixNano: '1764000100250000000' }]);

    const latency = metricNamed(req, 'http_request_duration_seconds');
    expect(latency.unit).toBe('s');
    expect('histogram' in latency && latency.histogram.aggregationTemporality).toBe(2);
    const get = pointWith(latency, { method: 'GET', endpoint: '/predict' });
    expect(get).toMatchObject({
      startTimeUnixNano: CREATED_NS,
      count: '1200',
      sum: 61.25,
      explicitBounds: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      bucketCounts: ['100', '300', '400', '250', '100', '30', '15', '4', '1', '0'],
    });
    expect(get.attributes.map((a) => a.key)).toEqual(['method', 'endpoint']);
    expect(get.exemplars).toEqual([{ traceId: TRACE_ID, asDouble: 0.0173, timeUnixNano: get.timeUnixNano }]);
    expect(pointWith(metricNamed(req, 'ml_model_inference_duration_seconds'), { model: 'fraud-v2' })).toMatchObject({
      count: '800',
      sum: 55.75,
      explicitBounds: [0.01, 0.05, 0.1, 0.5, 1],
      bucketCounts: ['40', '500', '200', '50', '8', '2'],
    });
    expect(pointWith(metricNamed(req, 'db_query_duration_seconds'), { operation: 'insert' })).toMatchObject({ count: '330', sum: 4.25 });

    const summary = metricNamed(req, 'redis_operation_duration_seconds');
    expect('summary' in summary).toBe(true);
    expect(pointWith(summary, { operation: 'GET' })).toMatchObject({
      count: '6500',
      sum: 3.25,
      startTimeUnixNano: CREATED_NS,
      quantileValues: [
        { quantile: 0.5, value: 0.0004 },
        { quantile: 0.9, value: 0.0011 },
        { quantile: 0.99, value: 0.003 },
      ],
    });
    const pool = metricNamed(req, 'db_connection_pool_in_use');
    expect('gauge' in pool).toBe(true);
    expect(pointWith(pool, { pool: 'primary' })).toEqual({
      attributes: [{ key: 'pool', value: { stringValue: 'primary' } }],
      timeUnixNano: expect.stringMatching(/^\d{19}$/) as unknown as string,
      asDouble: 7,
    });
    expect(pointWith(metricNamed(req, 'mcp_operations_total'), { status: 'error' }).asDouble).toBe(8);
  });

  it('text 0.0.4: same values; unknown start time = first scrape (zero-duration), kept, and a counter reset restarts it', async () => {
    const { target, sink, receiver } = await setup({ mode: 'prometheus-text' });
    await receiver.scrapeNow();
    const first = sink.last();
    expect(pointWith(metricNamed(first, 'scrape_samples_scraped')).asDouble).toBe(73);
    const h1 = pointWith(metricNamed(first, 'cache_hits_total'), { level: 'L1' });
    expect(h1.asDouble).toBe(900);
    expect(h1.startTimeUnixNano).toBe(h1.timeUnixNano);
    const lat1 = pointWith(metricNamed(first, 'http_request_duration_seconds'), { method: 'POST' });
    expect(lat1).toMatchObject({ count: '812', bucketCounts: ['0', '50', '200', '300', '180', '50', '20', '8', '2', '2'] });
    expect(lat1.startTimeUnixNano).toBe(lat1.timeUnixNano);
    expect(metricNamed(first, 'http_request_duration_seconds').unit).toBeUndefined();

    target.tick = 3;
    await receiver.scrapeNow();
    const h2 = pointWith(metricNamed(sink.last(), 'cache_hits_total'), { level: 'L1' });
    expect(h2.asDouble).toBe(2700);
    expect(h2.startTimeUnixNano).toBe(h1.timeUnixNano);
    expect(BigInt(h2.timeUnixNano as string)).toBeGreaterThan(BigInt(h1.timeUnixNano as string));
    const lat2 = pointWith(metricNamed(sink.last(), 'http_request_duration_seconds'), { method: 'POST' });
    expect(lat2).toMatchObject({ count: '2436', startTimeUnixNano: lat1.startTimeUnixNano });

    target.tick = 1; // the app restarted: every cumulative value dropped
    await receiver.scrapeNow();
    const h3 = pointWith(metricNamed(sink.last(), 'cache_hits_total'), { level: 'L1' });
    expect(h3.asDouble).toBe(900);
    expect(h3.startTimeUnixNano).toBe(h2.timeUnixNano);
    const lat3 = pointWith(metricNamed(sink.last(), 'http_request_duration_seconds'), { method: 'POST' });
    expect(lat3).toMatchObject({ count: '812', startTimeUnixNano: lat2.timeUnixNano });
    const summary3 = pointWith(metricNamed(sink.last(), 'redis_operation_duration_seconds'), { operation: 'GET' });
    expect(summary3.startTimeUnixNano).toBe(lat2.timeUnixNano);
  });

  it('a down target yields up 0 (only the synthetic metrics), is logged once per state change, and recovers', async () => {
    const { target, sink, receiver, logs } = await setup({ mode: 'error500' }, { timeoutMs: 300 });
    await receiver.scrapeNow();
    let status = await receiver.scrapeNow();
    expect(status).toMatchObject({ up: false, failures: 2, lastError: 'HTTP 500 Internal Server Error' });
    expect(allMetrics(sink.last()).map((m) => m.name)).toEqual(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);
    expectSyntheticUp(sink.last(), 0);

    target.mode = 'garbage';
    status = await receiver.scrapeNow();
    expect(status.lastError).toBe('invalid exposition: line 2: invalid value "is"');
    target.mode = 'hang';
    status = await receiver.scrapeNow();
    expect(status.lastError).toBe('timed out after 300ms');
    target.mode = 'negotiate';
    status = await receiver.scrapeNow();
    expect(status).toMatchObject({ up: true, successes: 1, failures: 4 });
    await target.close();
    status = await receiver.scrapeNow();
    expect(status.lastError).toMatch(/fetch failed: ECONNREFUSED/);

    const stateLogs = logs().filter((l) => /scrape target is (up|down)/.test(l.msg as string)).map((l) => l.msg);
    expect(stateLogs).toEqual(['scrape target is down', 'scrape target is up', 'scrape target is down']);
  }, 20_000);

  it('schedules scrapes at fixed interval slots and stops cleanly on shutdown', async () => {
    const { sink, receiver } = await setup({}, { intervalMs: 150, timeoutMs: 100 });
    const started = performance.now();
    receiver.start();
    await sink.waitFor(4);
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(440);
    await receiver.shutdown();
    const after = sink.requests.length;
    await new Promise((r) => setTimeout(r, 400));
    expect(sink.requests.length).toBe(after);
    await receiver.shutdown(); // idempotent
    expect(receiver.status()[0]).toMatchObject({ up: true });
    expect(dataPoints(metricNamed(sink.last(), 'up'))).toHaveLength(1);
  });
});
