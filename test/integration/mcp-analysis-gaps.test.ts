import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type HrTime, type Link, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { callOk, connectHttp, type McpConnection } from '../helpers/mcp-client.js';
import { ServiceProviders } from '../helpers/workload.js';

/**
 * What the bulk MCP analyses must see, sent through the real OTel SDK:
 *  - ERR-v1 effective errors: an HTTP 503 SERVER span (and a gRPC UNAVAILABLE one) whose status is UNSET
 *    is an error that find_errors finds, with the deepest failing span as the root cause; a 404 SERVER
 *    span with UNSET status is not.
 *  - CP-v1 FOLLOWS_FROM: a child linked to its parent with opentracing.ref_type=follows_from is async and
 *    owns no critical time in find_bottlenecks.
 *  - Sampling: with more matching traces than max_traces, the analysed traces are spread over the whole
 *    window (not the newest), and meta says how many were analysed of how many matched.
 */

const MS = 1_000_000n;
const hr = (ns: bigint): HrTime => [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];

let daemon: TestDaemon;
let mcp: McpConnection;
let providers: ServiceProviders;
const now = Date.now();
const t0 = BigInt(now - 110 * 60_000) * MS; // the sampling workload spans [t0, t0 + 100 min)
const recent = BigInt(now - 5 * 60_000) * MS;

function tracer(service: string): Tracer {
  providers ??= new ServiceProviders(() => new OTLPTraceExporter({ url: daemon.tracesUrl, timeoutMillis: 30_000 }));
  return providers.provider(service).getTracer('gaps');
}

function span(service: string, name: string, kind: SpanKind, startNs: bigint, endNs: bigint, parent: Span | null, attributes: Attributes = {}, links: Link[] = []): Span {
  const ctx = parent ? trace.setSpan(ROOT_CONTEXT, parent) : ROOT_CONTEXT;
  const s = tracer(service).startSpan(name, { kind, startTime: hr(startNs), attributes, links, root: parent === null }, ctx);
  (s as Span & { __end?: bigint }).__end = endNs;
  return s;
}
const end = (...spans: Span[]): void => {
  for (const s of spans) s.end(hr((s as Span & { __end: bigint }).__end));
};

const truth = { http503: '', grpc14: '', notFound: '', paymentsServerSpanId: '', inventorySpanId: '' };
/** Sampling workload: 400 traces, the first 300 slow (100 ms), the newest 100 fast (10 ms). */
const SAMPLED = { total: 400, slow: 300 };

beforeAll(async () => {
  daemon = await startTestDaemon();
  // 1) shop SERVER 503 (UNSET) → shop CLIENT 503 (UNSET) → payments SERVER 503 (UNSET) → charge card (OK).
  {
    const root = span('shop', 'POST /pay', SpanKind.SERVER, recent, recent + 50n * MS, null, { 'http.request.method': 'POST', 'http.route': '/pay', 'http.response.status_code': 503 });
    const client = span('shop', 'POST', SpanKind.CLIENT, recent + MS, recent + 45n * MS, root, { 'http.request.method': 'POST', 'http.response.status_code': 503 });
    const server = span('payments', 'POST /charge', SpanKind.SERVER, recent + 2n * MS, recent + 44n * MS, client, { 'http.request.method': 'POST', 'http.route': '/charge', 'http.response.status_code': 503 });
    const card = span('payments', 'charge card', SpanKind.INTERNAL, recent + 3n * MS, recent + 40n * MS, server);
    card.setStatus({ code: SpanStatusCode.OK });
    truth.http503 = root.spanContext().traceId;
    truth.paymentsServerSpanId = server.spanContext().spanId;
    end(card, server, client, root);
  }
  // 2) gRPC: api SERVER with rpc.grpc.status_code 14 (UNAVAILABLE), UNSET.
  {
    const root = span('inventory', 'inventory.Stock/Reserve', SpanKind.SERVER, recent + 100n * MS, recent + 120n * MS, null, { 'rpc.system': 'grpc', 'rpc.grpc.status_code': 14 });
    truth.grpc14 = root.spanContext().traceId;
    truth.inventorySpanId = root.spanContext().spanId;
    end(root);
  }
  // 3) 404 on a server, UNSET: the client's fault, not an error (ERR-v1).
  {
    const root = span('shop', 'GET /item/{id}', SpanKind.SERVER, recent + 200n * MS, recent + 210n * MS, null, { 'http.request.method': 'GET', 'http.response.status_code': 404 });
    truth.notFound = root.spanContext().traceId;
    end(root);
  }
  // 4) jobs SERVER 0-100 ms: INSERT job 0-40 ms (blocking), send email 50-150 ms linked follows_from (async).
  for (let i = 0; i < 5; i++) {
    const s0 = recent + BigInt(300 + i * 200) * MS;
    const root = span('jobs', 'POST /enqueue', SpanKind.SERVER, s0, s0 + 100n * MS, null);
    const insert = span('jobs', 'INSERT job', SpanKind.CLIENT, s0, s0 + 40n * MS, root, { 'db.system.name': 'postgresql' });
    const email = span('jobs', 'send email', SpanKind.INTERNAL, s0 + 50n * MS, s0 + 150n * MS, root, {}, [
      { context: root.spanContext(), attributes: { 'opentracing.ref_type': 'follows_from' } },
    ]);
    end(insert, email, root);
  }
  // 5) 400 failing traces of sampler "GET /s" evenly over 100 minutes: older ones slow, the newest quarter fast.
  for (let i = 0; i < SAMPLED.total; i++) {
    const s0 = t0 + BigInt(i * 15_000) * MS;
    const root = span('sampler', 'GET /s', SpanKind.SERVER, s0, s0 + (i < SAMPLED.slow ? 100n : 10n) * MS, null);
    root.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    end(root);
  }
  expect(await providers.finish()).toEqual([]);
  await daemon.service.store.flush();
  mcp = await connectHttp(daemon.apiUrl);
}, 120_000);

afterAll(async () => {
  await mcp?.close();
  await daemon?.stop();
});

interface ErrorGroupRow { service: string; operation: string; error_key: string; count: number; root_cause_count: number; originating: { span_id: string; service: string; operation: string } | null; exemplar_trace_ids: string[]; first_seen: string; last_seen: string }
interface SampleMeta { precision: string; sample: { analysed: number; matched: number; matched_exact: boolean } }

describe('ERR-v1 effective errors in the bulk tools', () => {
  it('find_errors finds a 503 SERVER span with UNSET status, rooted at the deepest failing span', async () => {
    const r = await callOk<{ traces_with_errors: number; groups: ErrorGroupRow[] }>(mcp.client, 'find_errors', { service: 'payments', window: '30m' });
    expect(r.traces_with_errors).toBe(1);
    const g = r.groups.find((x) => x.operation === 'POST /charge');
    expect(g).toMatchObject({ service: 'payments', error_key: 'HTTP 503', count: 1, root_cause_count: 1, exemplar_trace_ids: [truth.http503] });
    expect(g?.originating).toMatchObject({ span_id: truth.paymentsServerSpanId, service: 'payments', operation: 'POST /charge' });
  });

  it('over every service: the HTTP and the gRPC failures, not the 404', async () => {
    const r = await callOk<{ groups: ErrorGroupRow[] }>(mcp.client, 'find_errors', { window: '30m', limit: 100 });
    const traces = new Set(r.groups.flatMap((g) => g.exemplar_trace_ids));
    expect(traces.has(truth.http503)).toBe(true);
    expect(traces.has(truth.grpc14)).toBe(true);
    expect(traces.has(truth.notFound)).toBe(false);
    // The shop SERVER and CLIENT spans fail because payments did: all three chains name payments.
    for (const g of r.groups.filter((x) => x.exemplar_trace_ids.includes(truth.http503))) {
      expect(g.originating).toMatchObject({ span_id: truth.paymentsServerSpanId });
    }
    expect(r.groups.find((g) => g.service === 'inventory')).toMatchObject({ error_key: 'gRPC 14', originating: { span_id: truth.inventorySpanId } });
  });

  it('find_traces(error=true) lists the effective-error traces', async () => {
    const r = await callOk<{ traces: { trace_id: string; error_count: number }[] }>(mcp.client, 'find_traces', { service: 'shop', window: '30m', error: true });
    expect(r.traces.map((t) => t.trace_id)).toEqual([truth.http503]);
    // shop SERVER 503 and CLIENT 503, payments SERVER 503; not the OK card charge.
    expect(r.traces[0]?.error_count).toBe(3);
  });

  it('RED error rates count the same effective errors (HDR series error flag)', async () => {
    const r = await callOk<{ operations: { service: string; operation: string; kind: string; errors: number; count: number }[] }>(mcp.client, 'list_operations', { window: '30m', limit: 100 });
    const row = (service: string, operation: string): { errors: number; count: number } | undefined => r.operations.find((o) => o.service === service && o.operation === operation);
    expect(row('shop', 'POST /pay')).toMatchObject({ errors: 1, count: 1 });
    expect(row('payments', 'POST /charge')).toMatchObject({ errors: 1, count: 1 });
    expect(row('payments', 'charge card')).toMatchObject({ errors: 0 });
    expect(row('inventory', 'inventory.Stock/Reserve')?.errors).toBe(1);
  });
});

describe('get_trace summary reads only the error spans in full', () => {
  it('counts the effective errors and names the deepest first', async () => {
    const r = await callOk<{ summary: { error_spans: number; errors: { span_id: string }[]; services: { service: string; errors: number }[]; critical_path: { service: string }[] } }>(mcp.client, 'get_trace', { trace_id: truth.http503 });
    expect(r.summary.error_spans).toBe(3);
    expect(r.summary.errors[0]?.span_id).toBe(truth.paymentsServerSpanId);
    expect(Object.fromEntries(r.summary.services.map((s) => [s.service, s.errors]))).toEqual({ shop: 2, payments: 1 });
    expect(r.summary.critical_path[0]?.service).toBe('payments');
  });
});

describe('CP-v1 FOLLOWS_FROM links in find_bottlenecks', () => {
  it('a follows_from child is async: it owns no critical time', async () => {
    const r = await callOk<{ traces_analysed: number; bottlenecks: { service: string; operation: string; critical_ms: number }[] }>(mcp.client, 'find_bottlenecks', { service: 'jobs', operation: 'POST /enqueue', window: '30m' });
    expect(r.traces_analysed).toBe(5);
    const byOp = Object.fromEntries(r.bottlenecks.map((b) => [b.operation, b.critical_ms]));
    expect(byOp).toEqual({ 'POST /enqueue': 5 * 60, 'INSERT job': 5 * 40 });
  });
});

describe('bulk tools sample uniformly over the window', () => {
  it('find_errors over 100 minutes with max_traces=40 sees the oldest and the newest minutes', async () => {
    const r = await callOk<{ traces_with_errors: number; groups: ErrorGroupRow[]; meta: SampleMeta }>(mcp.client, 'find_errors', { service: 'sampler', window: '2h', max_traces: 40 });
    expect(r.traces_with_errors).toBe(40);
    expect(r.meta.sample.analysed).toBe(40);
    // Exact, or estimated from the hash band read.
    if (r.meta.sample.matched_exact) expect(r.meta.sample.matched).toBe(SAMPLED.total);
    expect(r.meta.sample.matched).toBeGreaterThan(SAMPLED.total * 0.6);
    expect(r.meta.sample.matched).toBeLessThan(SAMPLED.total * 1.6);
    expect(r.meta.precision).toMatch(/^sampled\(40 of ~?\d+ traces/);
    const g = r.groups[0]!;
    const firstMin = (Date.parse(g.first_seen) - Number(t0 / MS)) / 60_000;
    const lastMin = (Date.parse(g.last_seen) - Number(t0 / MS)) / 60_000;
    // 40 of 400 uniformly: the oldest sampled is within the first ~20 minutes, the newest in the last ~20.
    // (The newest 40 would all lie in the last 10 minutes.)
    expect(firstMin).toBeLessThan(25);
    expect(lastMin).toBeGreaterThan(75);
  });

  it('find_bottlenecks: root latency reflects the whole window (3/4 of the traces are slow), deterministically', async () => {
    const args = { service: 'sampler', operation: 'GET /s', window: '2h', max_traces: 100 };
    const a = await callOk<{ traces_analysed: number; root_latency_ms: { p50: number }; meta: SampleMeta }>(mcp.client, 'find_bottlenecks', args);
    expect(a.traces_analysed).toBe(100);
    expect(a.root_latency_ms.p50).toBe(100);
    expect(a.meta.sample.analysed).toBe(100);
    const b = await callOk<{ root_latency_ms: unknown; bottlenecks: unknown; meta: SampleMeta }>(mcp.client, 'find_bottlenecks', args);
    expect([b.root_latency_ms, b.bottlenecks, b.meta.sample]).toEqual([a.root_latency_ms, (a as unknown as { bottlenecks: unknown }).bottlenecks, a.meta.sample]);
  });

  it('without a cap the answer is exact', async () => {
    const r = await callOk<{ traces_analysed: number; meta: SampleMeta }>(mcp.client, 'find_bottlenecks', { service: 'sampler', operation: 'GET /s', window: '2h', max_traces: 1000 });
    expect(r.traces_analysed).toBe(SAMPLED.total);
    expect(r.meta.sample).toEqual({ analysed: SAMPLED.total, matched: SAMPLED.total, matched_exact: true });
    expect(r.meta.precision).toBe(`exact(${SAMPLED.total} traces)`);
  });
});
