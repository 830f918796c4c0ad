import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type HrTime, type Span } from '@opentelemetry/api';
import type { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { fillBulkStore } from '../helpers/bulk-store.js';
import { makeTempDir, removeDir, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { callTool, connectHttp, resultBytes, type McpConnection } from '../helpers/mcp-client.js';
import { ServiceProviders } from '../helpers/workload.js';

/**
 * Every tool stays under the hard cap (24 KiB by default) on a store built to blow it: 1,000,000 spans
 * written in the last hour (100k traces over 40 services, through the store's own writer), one
 * 10,000-span trace with errors and 1 KB attribute values, and 1,000 (service, operation) pairs. Calls ask
 * for as much as the schemas allow (largest limit, max_bytes far above the cap) over the whole window;
 * answers that were cut say so.
 */

const HARD_CAP = 24 * 1024;
const DEFAULT_BUDGET = 8 * 1024;
const MS = 1_000_000n;
const hr = (ns: bigint): HrTime => [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];

const BULK_SPANS = 1_000_000;
let dataDir = '';
let bulk: { spans: number; traces: number; ms: number };
let daemon: TestDaemon;
let mcp: McpConnection;
let bigTraceId = '';
const bigSpanIds: string[] = [];
const sizes: Record<string, number> = {};

async function send(build: (provider: (service: string) => BasicTracerProvider) => void): Promise<void> {
  const providers = new ServiceProviders(() => new OTLPTraceExporter({ url: daemon.tracesUrl, timeoutMillis: 30_000 }), 2000);
  build((service) => providers.provider(service));
  expect(await providers.finish()).toEqual([]);
}

beforeAll(async () => {
  dataDir = makeTempDir('spanlens-caps-');
  // The bulk lies 70 min – 4 h ago: the 1h calls below see only the SDK-sent data, the 4h calls everything.
  bulk = fillBulkStore({ dataDir, spans: BULK_SPANS, nowMs: Date.now() - 70 * 60_000, windowMs: 170 * 60_000 });
  daemon = await startTestDaemon({ dataDir });
  const t0 = BigInt(Date.now() - 10 * 60_000) * MS;
  const big = 'x'.repeat(1000);
  // One trace of 10,000 spans over 10 services: a root, 99 fan-out calls with 100 children each.
  await send((provider) => {
    const tracer = (i: number) => provider(`big-svc-${i % 10}`).getTracer('caps');
    const root = tracer(0).startSpan('GET /huge', { kind: SpanKind.SERVER, root: true, startTime: hr(t0) });
    const ctx = trace.setSpan(ROOT_CONTEXT, root);
    const ends: [Span, bigint][] = [];
    for (let c = 0; c < 99; c++) {
      const start = t0 + BigInt(c) * 10n * MS;
      const call = tracer(c).startSpan(`call ${c}`, { kind: SpanKind.CLIENT, startTime: hr(start), attributes: { 'peer.service': `peer-${c % 7}`, payload: big } }, ctx);
      const callCtx = trace.setSpan(ctx, call);
      for (let k = 0; k < 100 && 1 + c * 101 + k + 1 < 10_000; k++) {
        const s = tracer(c + k).startSpan(`work ${k}`, { kind: SpanKind.INTERNAL, startTime: hr(start + BigInt(k) * 50_000n), attributes: { payload: big, k } }, callCtx);
        if (k % 17 === 0) {
          s.recordException({ name: `Error${k}`, message: big });
          s.setStatus({ code: SpanStatusCode.ERROR, message: big });
        }
        s.end(hr(start + BigInt(k) * 50_000n + 40_000n));
        bigSpanIds.push(s.spanContext().spanId);
      }
      ends.push([call, start + 9n * MS]);
    }
    for (const [s, end] of ends) s.end(hr(end));
    root.end(hr(t0 + 1000n * MS));
    bigTraceId = root.spanContext().traceId;
  });
  // 1,000 (service, operation) pairs, each with a few root spans, some failing.
  await send((provider) => {
    for (let s = 0; s < 50; s++) {
      const tracer = provider(`svc-${String(s).padStart(2, '0')}-with-a-rather-long-service-name`).getTracer('caps');
      for (let o = 0; o < 20; o++) {
        for (let r = 0; r < 3; r++) {
          const start = t0 + BigInt(o * 3 + r) * MS;
          const span = tracer.startSpan(`GET /api/v1/resource-${o}/items/{id}/with/a/long/route`, { kind: SpanKind.SERVER, root: true, startTime: hr(start) });
          if ((s + o + r) % 5 === 0) span.setStatus({ code: SpanStatusCode.ERROR, message: `failure ${o}` });
          span.end(hr(start + BigInt(1 + ((s * o + r) % 50)) * MS));
        }
      }
    }
  });
  await daemon.service.store.flush();
  mcp = await connectHttp(daemon.apiUrl);
}, 300_000);

afterAll(async () => {
  await mcp?.close();
  await daemon?.stop();
  if (dataDir) removeDir(dataDir);
  // The measured sizes, for the record (README / report).
  process.stderr.write(`bulk store: ${JSON.stringify(bulk)}; mcp answer sizes (bytes): ${JSON.stringify(sizes)}\n`);
});

const calls = (): [string, Record<string, unknown>][] => [
  ['get_status', {}],
  ['list_services', { window: '1h', limit: 500, max_bytes: 1_000_000 }],
  ['list_operations', { window: '1h', limit: 500, max_bytes: 1_000_000 }],
  ['list_operations', { window: '1h' }],
  ['latency_stats', { service: 'big-svc-1', window: '1h', group_by: 'operation', limit: 200, max_bytes: 1_000_000, compare_to: 'previous' }],
  ['latency_stats', { service: 'big-svc-1', window: '1h', group_by: 'attr.payload', limit: 200, max_bytes: 1_000_000 }],
  ['find_traces', { window: '1h', limit: 500, max_bytes: 1_000_000 }],
  ['get_trace', { trace_id: bigTraceId, max_bytes: 1_000_000 }],
  ['get_trace', { trace_id: bigTraceId, view: 'topology', max_spans: 500, max_bytes: 1_000_000 }],
  ['get_trace', { trace_id: bigTraceId, view: 'spans', span_ids: bigSpanIds.slice(0, 100), max_spans: 500, attributes: 'all', include_events: true, max_bytes: 1_000_000 }],
  ['get_critical_path', { trace_id: bigTraceId, limit: 200, max_segments: 100, max_bytes: 1_000_000 }],
  ['find_bottlenecks', { service: 'big-svc-0', operation: 'GET /huge', window: '1h', limit: 50, max_bytes: 1_000_000 }],
  ['service_map', { window: '1h', limit: 200, max_bytes: 1_000_000 }],
  ['find_errors', { window: '1h', limit: 100, max_bytes: 1_000_000 }],
  // Everything, the 1M-span bulk included, over the whole window; as many traces as the server analyses.
  ['list_services', { window: '4h', limit: 500, max_bytes: 1_000_000 }],
  ['list_operations', { window: '4h', limit: 500, max_bytes: 1_000_000 }],
  ['latency_stats', { service: 'bulk-svc-000', window: '4h', group_by: 'operation', limit: 200, max_bytes: 1_000_000, compare_to: 'previous' }],
  ['find_traces', { window: '4h', limit: 500, max_bytes: 1_000_000 }],
  ['find_traces', { window: '4h', sort: 'slowest', limit: 500, max_bytes: 1_000_000 }],
  ['find_traces', { window: '4h', error: true, limit: 500, max_bytes: 1_000_000 }],
  ['find_bottlenecks', { service: 'bulk-svc-000', operation: 'GET /api/op-0', window: '4h', max_traces: 100_000, limit: 50, max_bytes: 1_000_000 }],
  ['service_map', { window: '4h', max_traces: 100_000, limit: 200, max_bytes: 1_000_000 }],
  ['find_errors', { window: '4h', max_traces: 100_000, limit: 100, max_bytes: 1_000_000 }],
];

describe('byte caps on a store with 1M spans, a 10k-span trace and 1k operations', () => {
  it('no answer exceeds the hard cap; cut answers say truncated, total and how to get more', async () => {
    for (const [name, args] of calls()) {
      const result = await callTool(mcp.client, name, args);
      expect(result.isError, `${name}: ${JSON.stringify(result.content).slice(0, 300)}`).toBeFalsy();
      const bytes = resultBytes(result);
      const key = `${name}${args['view'] ? `/${String(args['view'])}` : ''}${args['group_by'] ? `/${String(args['group_by'])}` : ''}${args['window'] === '4h' ? '/4h' : ''}`;
      sizes[key] = Math.max(sizes[key] ?? 0, bytes);
      expect(bytes, name).toBeLessThanOrEqual(HARD_CAP);
      const meta = (result.structuredContent as { meta: { truncated: boolean; total: number; returned: number; next_cursor?: string; more?: string; bytes: number } }).meta;
      expect(Math.abs(meta.bytes - bytes), `${name} meta.bytes`).toBeLessThanOrEqual(16);
      if (meta.truncated) {
        expect(meta.total, name).toBeGreaterThan(meta.returned);
        expect(meta.more, name).toBeDefined();
      }
    }
    // The big lists were cut by bytes, not just by limit.
    expect(sizes['list_operations']).toBeGreaterThan(HARD_CAP - 2048);
  });

  it('the store holds the million spans, and the bulk tools saw them', async () => {
    expect(bulk.spans).toBeGreaterThanOrEqual(BULK_SPANS);
    const map = await callTool(mcp.client, 'service_map', { window: '4h', max_traces: 100_000, max_bytes: 24_000 });
    const mapBody = map.structuredContent as { traces_analysed: number; meta: { sample: { analysed: number; matched: number } } };
    // More than 100k traces matched; the server's cap (2,000 by default) of them analysed.
    expect(mapBody.meta.sample.matched).toBeGreaterThan(100_000 * 0.8);
    expect(mapBody.traces_analysed).toBe(2000);
    const errors = await callTool(mcp.client, 'find_errors', { window: '4h', max_bytes: 24_000 });
    const meta = (errors.structuredContent as { meta: { sample: { analysed: number; matched: number } } }).meta.sample;
    // 3 % of the 100k bulk traces fail; the server analyses at most its cap of them, sampled.
    expect(meta.matched).toBeGreaterThan(2000);
    expect(meta.analysed).toBeLessThanOrEqual(meta.matched);
  });

  it('defaults keep answers within the 8 KiB default budget, and the cursor pages through every row once', async () => {
    const seen = new Set<string>();
    let cursor: string | undefined;
    let total = 0;
    for (let page = 0; page < 200; page++) {
      const result = await callTool(mcp.client, 'list_operations', { window: '1h', limit: 100, ...(cursor ? { cursor } : {}) });
      expect(resultBytes(result)).toBeLessThanOrEqual(DEFAULT_BUDGET);
      const body = result.structuredContent as { operations: { service: string; operation: string; kind: string }[]; meta: { total: number; next_cursor?: string } };
      for (const o of body.operations) seen.add(`${o.service}/${o.operation}/${o.kind}`);
      total = body.meta.total;
      cursor = body.meta.next_cursor;
      if (!cursor) break;
    }
    // 1,000 svc-* operations; the big trace: its root, 99 calls and 100 "work k" names in each of 10 services.
    expect(total).toBe(2100);
    expect(seen.size).toBe(2100);
  });
});
