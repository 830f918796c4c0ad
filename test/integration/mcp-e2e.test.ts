import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { callOk, openMcpDaemon, type McpConnection, type McpDaemon } from '../helpers/mcp-client.js';
import { nearestRank, sendCheckoutWorkload, type WorkloadTruth } from '../helpers/mcp-workload.js';

/**
 * End to end: the checkout workload (gateway → orders → redis/postgresql, orders → kafka → worker, failed
 * requests with a DeadlockError, a database regression half an hour ago) goes through the real OTel SDK
 * exporter into a running daemon; the real MCP client asks every tool, over Streamable HTTP and over
 * stdio against `spanlens mcp`, and each answer is checked against what the test sent.
 */

const N = 150; // requests per phase (before / after the regression)
const ERROR_EVERY = 10;
const iso = (ms: number): string => new Date(ms).toISOString();
const ms = (ns: bigint): number => Number(ns) / 1e6;
const sorted = (xs: bigint[]): bigint[] => [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

/** HDR: 3 significant digits on microseconds, nearest rank; the answer may exceed the truth by 0.1 % + 1 µs. */
function expectHdr(actualMs: number | null, truthNs: bigint): void {
  const truth = ms(truthNs);
  expect(actualMs).not.toBeNull();
  expect(Math.abs(actualMs! - truth)).toBeLessThanOrEqual(truth * 0.001 + 0.002);
}

for (const transport of ['http', 'stdio'] as const) {
  describe(`end to end over ${transport}`, () => {
    let opened: McpDaemon | undefined;
    let mcp: McpConnection;
    let truth: WorkloadTruth;
    const now = Date.now();
    const call = <T = Record<string, unknown>>(name: string, args: Record<string, unknown> = {}): Promise<T> => callOk<T>(mcp.client, name, args);

    beforeAll(async () => {
      opened = await openMcpDaemon(transport, 'spanlens-mcp-e2e-');
      mcp = opened.mcp;
      const tracesUrl = opened.tracesUrl;
      truth = await sendCheckoutWorkload({ makeExporter: () => new OTLPTraceExporter({ url: tracesUrl, timeoutMillis: 20_000 }), nowMs: now, requestsPerPhase: N, errorEvery: ERROR_EVERY });
      // Histograms flush every 2 s: wait until every span is counted.
      for (let i = 0; i < 150; i++) {
        const status = await call<{ ingest: Record<string, number> }>('get_status');
        const ops = await call<{ operations: { count: number }[] }>('list_operations', { window: '2h', limit: 50 });
        if (status.ingest['accepted_spans'] === truth.spanCount && ops.operations.reduce((n, o) => n + o.count, 0) === truth.spanCount) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    });

    afterAll(async () => {
      await opened?.close();
    });

    it('list_services and list_operations: exact counts and errors, HDR percentiles of every span', async () => {
      const services = await call<{ services: { service: string; count: number; errors: number; latency_of: string; p99_ms: number }[] }>('list_services', { window: '2h' });
      expect(services.services.map((s) => s.service).sort()).toEqual(['gateway', 'orders', 'worker']);
      const gateway = services.services.find((s) => s.service === 'gateway')!;
      const failed = truth.requests.filter((r) => r.failed).length;
      expect(gateway).toMatchObject({ count: 2 * N, errors: failed, latency_of: 'entry_spans' });
      expectHdr(gateway.p99_ms, nearestRank(sorted(truth.requests.map((r) => r.gatewayNs)), 99));

      const ops = await call<{ operations: { service: string; operation: string; kind: string; count: number; errors: number; p50_ms: number; p95_ms: number; p99_ms: number }[] }>(
        'list_operations', { service: 'orders', window: '2h', sort_by: 'p99' });
      const dbRow = ops.operations.find((o) => o.operation === 'SELECT orders')!;
      expect(dbRow).toMatchObject({ kind: 'client', count: 2 * N, errors: failed });
      const db = sorted(truth.requests.map((r) => r.dbNs));
      expectHdr(dbRow.p50_ms, nearestRank(db, 50));
      expectHdr(dbRow.p95_ms, nearestRank(db, 95));
      expectHdr(dbRow.p99_ms, nearestRank(db, 99));
      // Sorted by p99: the server span that contains the database call comes first.
      expect(ops.operations[0]).toMatchObject({ operation: 'POST /orders', kind: 'server' });
      expect(ops.operations.map((o) => o.operation).sort()).toEqual(['GET cart', 'POST /orders', 'SELECT orders', 'publish order']);
    });

    it('latency_stats: any percentile, by status, and the regression against the previous window', async () => {
      const after = truth.requests.filter((r) => r.afterRegression);
      const stats = await call<{ groups: { group: string; count: number; percentiles_ms: Record<string, number>; change?: Record<string, number>; baseline?: { count: number } }[] }>('latency_stats', {
        service: 'orders', operation: 'SELECT orders', start: iso(truth.regressionAtMs), end: iso(now), percentiles: [50, 90, 99.9], compare_to: 'previous',
      });
      const g = stats.groups[0]!;
      expect(g.count).toBe(N);
      expect(g.baseline!.count).toBe(N);
      const db = sorted(after.map((r) => r.dbNs));
      for (const p of [50, 90, 99.9]) expectHdr(g.percentiles_ms[`p${p}`]!, nearestRank(db, p));
      expect(g.change!['p50']).toBeGreaterThan(8);

      const byStatus = await call<{ groups: { group: string; count: number }[] }>('latency_stats', { service: 'gateway', span_kind: 'server', window: '2h', group_by: 'status' });
      const failed = truth.requests.filter((r) => r.failed).length;
      expect(Object.fromEntries(byStatus.groups.map((x) => [x.group, x.count]))).toEqual({ ok_or_unset: 2 * N - failed, error: failed });

      const byAttr = await call<{ groups: { group: string; count: number }[] }>('latency_stats', { service: 'gateway', span_kind: 'server', window: '2h', group_by: 'attr.http.response.status_code' });
      expect(Object.fromEntries(byAttr.groups.map((x) => [x.group, x.count]))).toEqual({ 'http.response.status_code=200': 2 * N - failed, 'http.response.status_code=500': failed });
    });

    it('find_bottlenecks names the cache before the regression and the database after', async () => {
      const before = await call<{ traces_analysed: number; bottlenecks: { service: string; operation: string; critical_ms: number }[] }>('find_bottlenecks', {
        service: 'gateway', operation: 'GET /checkout', start: iso(truth.regressionAtMs - 31 * 60_000), end: iso(truth.regressionAtMs - 1),
      });
      expect(before.traces_analysed).toBe(N);
      expect(before.bottlenecks[0]).toMatchObject({ service: 'orders', operation: 'GET cart' });
      const cacheTotal = truth.requests.filter((r) => !r.afterRegression).reduce((s, r) => s + r.cacheNs, 0n);
      expect(before.bottlenecks[0]!.critical_ms).toBeCloseTo(ms(cacheTotal), 0);
      const after = await call<{ traces_analysed: number; bottlenecks: { service: string; operation: string }[] }>('find_bottlenecks', {
        service: 'gateway', operation: 'GET /checkout', start: iso(truth.regressionAtMs), end: iso(now),
      });
      expect(after.traces_analysed).toBe(N);
      expect(after.bottlenecks[0]).toMatchObject({ service: 'orders', operation: 'SELECT orders' });
      // Over both phases the slowest 10 % are all after the regression: the database owns their path.
      const tail = await call<{ traces_analysed: number; bottlenecks: { operation: string }[] }>('find_bottlenecks', {
        service: 'gateway', operation: 'GET /checkout', window: '2h', slow_quantile: 0.9,
      });
      // Roots at or above the nearest-rank p90 (rank 270 of 300): 31 traces.
      expect(tail.traces_analysed).toBe(2 * N - Math.ceil(0.9 * 2 * N) + 1);
      expect(tail.bottlenecks[0]!.operation).toBe('SELECT orders');
    });

    it('service_map: exactly the dependency edges that were sent, with exact calls and errors', async () => {
      const map = await call<{ edges: { client: string; server: string; connection_type: string; calls: number; errors: number }[]; mermaid: string; nodes: { name: string; type: string }[] }>('service_map', { window: '2h', max_traces: 5000 });
      const failed = truth.requests.filter((r) => r.failed).length;
      const edges = map.edges.map((e) => `${e.client}->${e.server} ${e.connection_type} ${e.calls}/${e.errors}`).sort();
      expect(edges).toEqual([
        `gateway->orders direct ${2 * N}/${failed}`,
        `orders->postgresql database ${2 * N}/${failed}`,
        `orders->redis database ${2 * N}/0`,
        `orders->worker messaging_system ${2 * N}/0`,
        `user->gateway virtual_node ${2 * N}/${failed}`,
      ]);
      expect(map.edges.some((e) => e.client === e.server)).toBe(false);
      expect(map.mermaid).toMatch(/^graph LR/);
      expect(map.nodes.find((n) => n.name === 'postgresql')?.type).toBe('database');
    });

    it('find_errors: the root cause is the database span, grouped by exception type, with exact counts', async () => {
      const failed = truth.requests.filter((r) => r.failed);
      const errors = await call<{ traces_with_errors: number; groups: { service: string; operation: string; error_key: string; count: number; root_cause_count: number; originating: { service: string; operation: string }; exemplar_trace_ids: string[] }[] }>('find_errors', { window: '2h' });
      expect(errors.traces_with_errors).toBe(failed.length);
      const db = errors.groups.find((g) => g.operation === 'SELECT orders')!;
      expect(db).toMatchObject({ service: 'orders', error_key: 'DeadlockError', count: failed.length, root_cause_count: failed.length });
      for (const g of errors.groups) expect(g.originating).toMatchObject({ service: 'orders', operation: 'SELECT orders' });
      expect(failed.map((r) => r.traceId)).toEqual(expect.arrayContaining(db.exemplar_trace_ids));
    });

    it('find_traces, get_trace and get_critical_path drill into one slow failed trace', async () => {
      const failed = truth.requests.filter((r) => r.failed);
      const found = await call<{ traces: { trace_id: string; duration_ms: number; top_self_time: { operation: string } }[]; meta: { total: number } }>('find_traces', {
        service: 'gateway', error: true, window: '2h', limit: 100, max_bytes: 24_576,
      });
      expect(found.meta.total).toBe(failed.length);
      expect(found.traces.map((t) => t.trace_id).sort()).toEqual(failed.map((r) => r.traceId).sort());
      const predicate = await call<{ meta: { total: number } }>('find_traces', { window: '2h', where: [{ key: 'http.response.status_code', op: '=', value: 500 }], limit: 5 });
      expect(predicate.meta.total).toBe(failed.length);

      const slow = failed.filter((r) => r.afterRegression).sort((a, b) => Number(b.gatewayNs - a.gatewayNs))[0]!;
      const slowest = await call<{ traces: { trace_id: string; duration_ms: number; top_self_time: { operation: string } }[] }>('find_traces', {
        service: 'gateway', operation: 'GET /checkout', error: true, sort: 'slowest', window: '2h', limit: 1,
      });
      // The trace ends with the async consumer, 8 ms after the gateway span.
      expect(slowest.traces[0]).toMatchObject({ trace_id: slow.traceId, top_self_time: { operation: 'SELECT orders' } });
      expect(slowest.traces[0]!.duration_ms).toBeCloseTo(ms(slow.gatewayNs) + 8, 3);

      const summary = await call<{ summary: { span_count: number; error_spans: number; errors: { operation: string; exception_type: string | null }[]; critical_path: { operation: string }[] } }>('get_trace', { trace_id: slow.traceId });
      expect(summary.summary).toMatchObject({ span_count: 7, error_spans: 4 });
      expect(summary.summary.errors[0]).toMatchObject({ operation: 'SELECT orders', exception_type: 'DeadlockError' });
      const topology = await call<{ topology: { operation: string; depth: number }[] }>('get_trace', { trace_id: slow.traceId, view: 'topology' });
      expect(topology.topology.map((s) => `${s.depth}:${s.operation}`)).toEqual(['0:GET /checkout', '1:POST /orders', '2:POST /orders', '3:GET cart', '3:SELECT orders', '3:publish order', '4:process order']);

      const cp = await call<{ critical_path_ms: number; rows: { operation: string; critical_ms: number }[] }>('get_critical_path', { trace_id: slow.traceId });
      expect(cp.critical_path_ms).toBeCloseTo(ms(slow.gatewayNs), 3);
      expect(cp.rows[0]!.operation).toBe('SELECT orders');
      expect(cp.rows[0]!.critical_ms).toBeCloseTo(ms(slow.dbNs), 3);
    });
  });
}
