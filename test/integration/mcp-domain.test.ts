import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type HrTime, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { callOk, callTool, connectHttp, type McpConnection } from '../helpers/mcp-client.js';
import { meterProvider, metricExporter } from '../helpers/metrics-sdk.js';
import { RecordingExporter } from '../helpers/workload.js';

/**
 * The domain analyses end to end: the real OTel JS SDK sends cache counters, an inference histogram and
 * spans (inference of one model in two versions on two instances, with planted cold starts; requests
 * with and without an N+1 query loop) to a real daemon; the MCP answers over Streamable HTTP must match
 * ground truth computed here from what was sent.
 */

const SERVICE = 'apes-ml-pipeline';
const MS = 1_000_000n;
const hr = (ns: bigint): HrTime => [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
/** Chained L1 → L2 → L3: each level's lookups are the previous level's misses. */
const CACHE = { L1: { hits: 900, misses: 100 }, L2: { hits: 60, misses: 40 }, L3: { hits: 10, misses: 30 } } as const;

interface Sent {
  durationsMs: Record<string, number[]>;
  coldStarts: { traceId: string; version: string; instance: string; reason: string }[];
  slowOutlierTraceId: string;
  nPlusOneTraceId: string;
  inferenceTraces: number;
  dbTraces: number;
}

let daemon: TestDaemon;
let mcp: McpConnection;
let sent: Sent;

beforeAll(async () => {
  daemon = await startTestDaemon();
  mcp = await connectHttp(daemon.apiUrl);
  const meters = meterProvider(SERVICE, metricExporter(daemon, 'http-proto', 'cumulative'));
  const meter = meters.getMeter('apes', '1.0.0');
  const hits = meter.createCounter('cache_hits_total');
  const misses = meter.createCounter('cache_misses_total');
  for (const [level, c] of Object.entries(CACHE)) {
    hits.add(c.hits, { level, cache: 'features' });
    misses.add(c.misses, { level, cache: 'features' });
  }
  const inferenceHist = meter.createHistogram('ml_model_inference_duration_seconds', { unit: 's', advice: { explicitBucketBoundaries: [0.01, 0.05, 0.1, 0.5, 1] } });
  for (let i = 0; i < 40; i++) inferenceHist.record(i < 30 ? 0.02 : 0.2, { model: 'fraud' });
  // The semconv pool instruments: 18 of 20 connections in use (and 2 idle, which must not count).
  const pool = { 'db.client.connection.pool.name': 'main' };
  const connections = meter.createUpDownCounter('db.client.connection.count');
  connections.add(18, { ...pool, 'db.client.connection.state': 'used' });
  connections.add(2, { ...pool, 'db.client.connection.state': 'idle' });
  meter.createGauge('db.client.connection.max').record(20, pool);
  // Many series (one per shard) for the byte-budget checks.
  const wide = meter.createCounter('shard_requests_total');
  for (let i = 0; i < 400; i++) wide.add(i + 1, { shard: `shard-${String(i).padStart(3, '0')}` });
  await meters.forceFlush();
  await meters.shutdown();
  sent = await sendSpans(daemon.tracesUrl, Date.now());
  // Spans reach the store through the writer: wait until every trace is searchable.
  for (let i = 0; i < 100; i++) {
    const db = await callOk<{ context: { traces_analysed: number } }>(mcp.client, 'analyze', { topic: 'database', window: '2h' });
    if (db.context.traces_analysed >= sent.inferenceTraces + sent.dbTraces) break;
    await new Promise((r) => setTimeout(r, 100));
  }
}, 60_000);

afterAll(async () => {
  await mcp?.close();
  await daemon?.stop();
});

async function sendSpans(tracesUrl: string, nowMs: number): Promise<Sent> {
  const recorders: RecordingExporter[] = [];
  const providers: BasicTracerProvider[] = [];
  const tracerFor = (instance: string): Tracer => {
    const recorder = new RecordingExporter(new OTLPTraceExporter({ url: tracesUrl }));
    recorders.push(recorder);
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': SERVICE, 'service.instance.id': instance }),
      spanProcessors: [new BatchSpanProcessor(recorder, { maxExportBatchSize: 1024, maxQueueSize: 10_000, scheduledDelayMillis: 60_000 })],
    });
    providers.push(provider);
    return provider.getTracer('apes', '1.0.0');
  };
  const pods = { 'pod-a': tracerFor('pod-a'), 'pod-b': tracerFor('pod-b') };
  const base = BigInt(nowMs - 50 * 60_000) * MS;
  const out: Sent = { durationsMs: { v1: [], v2: [] }, coldStarts: [], slowOutlierTraceId: '', nPlusOneTraceId: '', inferenceTraces: 0, dbTraces: 0 };
  const infer = (pod: 'pod-a' | 'pod-b', version: 'v1' | 'v2', atMs: number, durUs: number): string => {
    const start = base + BigInt(atMs) * MS;
    const span = pods[pod].startSpan('model.predict', {
      kind: SpanKind.INTERNAL, root: true, startTime: hr(start),
      attributes: { 'ml.model.name': 'fraud', 'ml.model.version': version },
    });
    span.end(hr(start + BigInt(durUs) * 1000n));
    out.durationsMs[version]!.push(durUs / 1000);
    out.inferenceTraces++;
    return span.spanContext().traceId;
  };
  // v1 on pod-a and v2 on pod-b: the first call on each pod is a cold start (≈ 20× the usual latency).
  out.coldStarts.push({ traceId: infer('pod-a', 'v1', 0, 480_250), version: 'v1', instance: 'pod-a', reason: 'first_on_instance' });
  out.coldStarts.push({ traceId: infer('pod-b', 'v2', 0, 310_500), version: 'v2', instance: 'pod-b', reason: 'first_on_instance' });
  for (let i = 0; i < 120; i++) {
    infer('pod-a', 'v1', 1000 + i * 500, 20_000 + ((i * 37) % 100) * 97);
    infer('pod-b', 'v2', 1000 + i * 500, 12_000 + ((i * 53) % 100) * 61);
  }
  // A slow v1 call mid-life (not a cold start), then pod-a idles 12 minutes and wakes up cold.
  out.slowOutlierTraceId = infer('pod-a', 'v1', 70_000, 400_000);
  out.coldStarts.push({ traceId: infer('pod-a', 'v1', 70_000 + 12 * 60_000, 455_125), version: 'v1', instance: 'pod-a', reason: 'after_idle_gap' });
  for (let i = 0; i < 20; i++) infer('pod-a', 'v1', 70_000 + 12 * 60_000 + 1000 + i * 500, 21_000 + i * 50);

  // Requests: GET /orders issues one orders query, and in one request an item query per line item (N+1).
  const tracer = pods['pod-a'];
  for (let r = 0; r < 10; r++) {
    const t0 = base + BigInt(30 * 60_000 + r * 1000) * MS;
    const root = tracer.startSpan('GET /orders', { kind: SpanKind.SERVER, root: true, startTime: hr(t0), attributes: { 'http.request.method': 'GET', 'http.route': '/orders' } });
    const ctx = trace.setSpan(ROOT_CONTEXT, root);
    const q = tracer.startSpan('SELECT orders', { kind: SpanKind.CLIENT, startTime: hr(t0 + MS), attributes: { 'db.system.name': 'postgresql', 'db.query.text': `SELECT * FROM orders WHERE customer_id = ${r}` } }, ctx);
    q.end(hr(t0 + 3n * MS));
    const items = r === 7 ? 9 : 1;
    for (let i = 0; i < items; i++) {
      const s = tracer.startSpan('SELECT items', { kind: SpanKind.CLIENT, startTime: hr(t0 + BigInt(4 + i) * MS), attributes: { 'db.system': 'postgresql', 'db.statement': `SELECT * FROM items WHERE id IN (${i}, ${i + 1}, ${i + 2})` } }, ctx);
      if (r === 7 && i === 8) s.setStatus({ code: SpanStatusCode.ERROR, message: 'canceling statement due to statement timeout' });
      s.end(hr(t0 + BigInt(4 + i) * MS + 800_000n));
    }
    root.end(hr(t0 + 20n * MS));
    if (r === 7) out.nPlusOneTraceId = root.spanContext().traceId;
    out.dbTraces++;
  }
  for (const p of providers) await p.forceFlush();
  for (const p of providers) await p.shutdown();
  const failures = recorders.flatMap((r) => r.failures);
  if (failures.length > 0) throw new Error(`export failed: ${JSON.stringify(failures[0])}`);
  return out;
}

const nearestRankMs = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(Math.ceil(p * sorted.length), 1) - 1]!;
};

describe('analyze over MCP, fed by the OTel JS SDK', () => {
  it('cache: the exact hit ratio per level, the chained effective ratio, and the level that loses most', async () => {
    const r = await callOk<{ source: string; rows: { cache: string; level: string; hit_ratio: number; hits: number; misses: number }[]; findings: Record<string, unknown>[] }>(
      mcp.client, 'analyze', { topic: 'cache', service: SERVICE });
    expect(r.source).toBe('metrics');
    expect(r.rows.map((x) => [x.cache, x.level, x.hits, x.misses, x.hit_ratio])).toEqual(
      Object.entries(CACHE).map(([level, c]) => ['features', level, c.hits, c.misses, c.hits / (c.hits + c.misses)]));
    expect(r.rows.map((x) => x.hit_ratio)).toEqual([0.9, 0.6, 0.25]);
    expect(r.findings.find((f) => f['kind'] === 'weakest_level')).toMatchObject({ cache: 'features', level: 'L3' });
    expect(r.findings.find((f) => f['kind'] === 'hierarchy')).toMatchObject({ chained: true, effective_hit_ratio: (900 + 60 + 10) / 1000 });
    // The same ratio through query_metrics, as the hint suggests.
    const q = await callOk<{ groups: { labels: Record<string, string>; value: number }[] }>(mcp.client, 'query_metrics', {
      select: 'cache_hits_total', denominator: 'cache_hits_total + cache_misses_total', agg: 'increase', by: 'level',
    });
    expect(Object.fromEntries(q.groups.map((g) => [g.labels['level'], g.value]))).toEqual({ L1: 0.9, L2: 0.6, L3: 0.25 });
  });

  it('inference: exact percentiles per model version, cold starts named with their traces, the mid-life outlier apart', async () => {
    type Answer = { rows: Record<string, unknown>[]; findings: Record<string, unknown>[]; context: { cold_start_rule: string } };
    const inferenceSpans = sent.durationsMs['v1']!.length + sent.durationsMs['v2']!.length;
    let r = await callOk<Answer>(mcp.client, 'analyze', { topic: 'inference', service: SERVICE, window: '2h' });
    // The HDR histograms are flushed every 2 s, after the spans are searchable.
    for (let i = 0; i < 60 && r.rows.find((x) => x['source'] === 'hdr')?.['count'] !== inferenceSpans; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      r = await callOk<Answer>(mcp.client, 'analyze', { topic: 'inference', service: SERVICE, window: '2h' });
    }
    for (const version of ['v1', 'v2']) {
      const row = r.rows.find((x) => x['source'] === 'spans' && x['version'] === version)!;
      const truth = sent.durationsMs[version]!;
      expect(row['count']).toBe(truth.length);
      for (const [key, p] of [['p50_ms', 0.5], ['p95_ms', 0.95], ['p99_ms', 0.99]] as const) {
        const want = nearestRankMs(truth, p);
        // Exact over every span here; the bar is HDR precision (3 significant digits).
        expect(Math.abs((row[key] as number) - want)).toBeLessThanOrEqual(want * 0.001);
        expect(row[key]).toBe(want);
      }
    }
    const colds = r.findings.filter((f) => f['kind'] === 'cold_start').map((f) => ({ traceId: f['trace_id'], version: f['version'], instance: f['instance'], reason: f['reason'] }));
    expect(colds.sort((a, b) => String(a.traceId).localeCompare(String(b.traceId)))).toEqual([...sent.coldStarts].sort((a, b) => a.traceId.localeCompare(b.traceId)));
    expect(colds.map((c) => c.traceId)).not.toContain(sent.slowOutlierTraceId);
    expect(r.rows.find((x) => x['version'] === 'v1')).toMatchObject({ cold_starts: 2, slow_outliers: 1 });
    expect(r.context.cold_start_rule).toMatch(/MAD/);
    // Every span of the operation, from the HDR histograms: both versions together, within 3 significant digits.
    const hdr = r.rows.find((x) => x['source'] === 'hdr')!;
    const all = [...sent.durationsMs['v1']!, ...sent.durationsMs['v2']!];
    expect(hdr).toMatchObject({ service: SERVICE, operation: 'model.predict', count: all.length });
    for (const [key, p] of [['p50_ms', 0.5], ['p95_ms', 0.95], ['p99_ms', 0.99]] as const) {
      const want = nearestRankMs(all, p);
      expect(Math.abs((hdr[key] as number) - want)).toBeLessThanOrEqual(want * 0.001 + 0.001);
    }
    const metricRow = r.rows.find((x) => String(x['source']).startsWith('metric '));
    expect(metricRow).toMatchObject({ model: 'fraud', count: 40 });
    expect(metricRow!['p50_ms']).toBeGreaterThan(10);
    expect(metricRow!['p50_ms']).toBeLessThanOrEqual(50);
  });

  it('database: the N+1 loop is found with its exemplar trace id; statements are normalised; the pool is saturated', async () => {
    const r = await callOk<{ rows: Record<string, unknown>[]; findings: Record<string, unknown>[]; context: { per_root: Record<string, unknown>[] }; hints: string[] }>(
      mcp.client, 'analyze', { topic: 'database', service: SERVICE, window: '2h' });
    const n1 = r.findings.filter((f) => f['kind'] === 'n_plus_one');
    expect(n1).toHaveLength(1);
    expect(n1[0]).toMatchObject({ system: 'postgresql', statement: 'SELECT * FROM items WHERE id IN (?)', parent: `${SERVICE} GET /orders`, traces: 1, max_repeats: 9, exemplar_trace_ids: [sent.nPlusOneTraceId] });
    expect(r.hints[0]).toContain(sent.nPlusOneTraceId);
    const items = r.rows.find((x) => x['statement'] === 'SELECT * FROM items WHERE id IN (?)')!;
    expect(items).toMatchObject({ calls: 18, traces: 10, errors: 1, calls_per_trace_max: 9, p50_ms: 0.8 });
    expect(r.rows.find((x) => x['statement'] === 'SELECT * FROM orders WHERE customer_id = ?')).toMatchObject({ calls: 10, p99_ms: 2 });
    expect(r.findings.find((f) => f['kind'] === 'pool')).toMatchObject({ pool: 'main', saturated: true, used_peak: 18, size: 20, peak_utilisation: 0.9 });
    expect(r.context.per_root[0]).toMatchObject({ root: `${SERVICE} GET /orders`, traces: 10, db_calls_max: 10, db_calls_mean: 2.8 });
  });

  it('metric calls that cannot be answered say how to fix them', async () => {
    const text = async (args: Record<string, unknown>): Promise<string> => {
      const r = await callTool(mcp.client, 'query_metrics', args);
      expect(r.isError, JSON.stringify(args)).toBe(true);
      return JSON.stringify(r.content);
    };
    expect(await text({ select: 'cache_hit_total' })).toContain('cache_hits_total');
    expect(await text({ select: 'cache_hits_total{level=L1}' })).toMatch(/double-quoted/);
    expect(await text({ select: 'cache_hits_total', agg: 'median' })).toMatch(/p99/);
    expect(await text({ select: 'cache_hits_total', step: 'often' })).toMatch(/5m/);
    const listed = await callOk<{ metrics: { name: string; labels: Record<string, string> }[] }>(mcp.client, 'list_metrics', { match: 'cache' });
    expect(listed.metrics.map((m) => m.name)).toEqual(['cache_hits_total', 'cache_misses_total']);
    expect(listed.metrics[0]!.labels['level']).toBe('L1|L2|L3');
  });

  it('a step finer than 60 points is widened, not cut', async () => {
    const r = await callOk<{ step_s: number; notes: string[]; groups: { points: unknown[] }[] }>(mcp.client, 'query_metrics', { select: 'cache_hits_total', agg: 'increase', step: '10s', window: '1h' });
    expect(r.step_s).toBe(60);
    expect(r.notes[0]).toMatch(/widened/);
    expect(r.groups[0]!.points).toHaveLength(60);
  });

  it('many series stay under the byte budget, largest first, and say they were cut', async () => {
    const r = await callTool(mcp.client, 'query_metrics', { select: 'shard_requests_total', agg: 'increase', by: 'shard', limit: 200, step: '5m' });
    const sc = r.structuredContent as { groups: { labels: { shard: string }; value: number }[]; meta: { truncated: boolean; total: number; bytes: number; more: string } };
    expect(sc.meta).toMatchObject({ truncated: true, total: 400 });
    expect(sc.meta.bytes).toBeLessThanOrEqual(8 * 1024);
    expect(Buffer.byteLength(JSON.stringify(r))).toBeLessThanOrEqual(8 * 1024);
    expect(sc.groups[0]).toMatchObject({ labels: { shard: 'shard-399' }, value: 400 });
    expect(sc.meta.more).toMatch(/max_bytes/);
    const big = await callOk<{ groups: unknown[]; meta: { bytes: number } }>(mcp.client, 'query_metrics', { select: 'shard_requests_total', agg: 'increase', by: 'shard', limit: 200, max_bytes: 100_000 });
    expect(big.meta.bytes).toBeLessThanOrEqual(24 * 1024);
  });
});
