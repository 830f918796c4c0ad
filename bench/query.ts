/**
 * Query latency of the MCP tools on a populated store (issue 4 goals: ≤ 5 ms percentiles over 24 h,
 * ≤ 20 ms get_trace of 1k spans, ≤ 50 ms critical path of 10k spans, ≤ 1 s aggregated critical path over
 * 10k traces). Starts a real daemon in-process, loads it through OTLP/HTTP protobuf, then calls each tool
 * through the real MCP client (in-memory transport, so the numbers are the tool's, not the socket's).
 *
 *   npx tsx bench/query.ts [--hist-spans 240000] [--traces 10000] [--spans 0] [--runs 30] [--only get_trace,find_traces]
 *
 * --spans N first writes N more spans (10-span traces over 40 services, spread over the last 24 h) straight
 * through the store's writer into the data directory (test/helpers/bulk-store.ts: pre-encoded requests,
 * no network), then starts the daemon on it: a 10M-span store takes minutes, not the hours OTLP would.
 *
 * Prints one JSON line: per tool p50/p99 ms over the runs (the first, cold call is reported apart).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { configSchema } from '../src/config/schema.js';
import { startSpanlens } from '../src/service.js';
import { otlpType, TypeNames } from '../src/codec/protos.js';
import { makeTempDir, removeDir } from '../test/helpers/daemon.js';
import { fillBulkStore } from '../test/helpers/bulk-store.js';
import { percentile } from './lib/proc-stats.js';
import { prng } from '../test/helpers/prng.js';

const { values } = parseArgs({ options: { 'hist-spans': { type: 'string', default: '240000' }, traces: { type: 'string', default: '10000' }, runs: { type: 'string', default: '30' }, spans: { type: 'string', default: '0' }, only: { type: 'string', default: '' } } });
const ONLY = values.only ? values.only.split(',') : [];
const BULK_SPANS = Number(values.spans);
const HIST_SPANS = Number(values['hist-spans']);
const TRACES = Number(values.traces);
const RUNS = Number(values.runs);
const MS = 1_000_000n;

interface SpanSpec { traceId: Buffer; spanId: Buffer; parent?: Buffer; name: string; kind: number; startNs: bigint; endNs: bigint; error?: boolean }

const requestType = otlpType(TypeNames.exportTracesRequest);
function encode(byService: Map<string, SpanSpec[]>): Uint8Array {
  return requestType.encode(requestType.fromObject({
    resourceSpans: [...byService].map(([service, spans]) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [{ scope: { name: 'bench' }, spans: spans.map((s) => ({
        traceId: s.traceId, spanId: s.spanId, ...(s.parent ? { parentSpanId: s.parent } : {}), name: s.name, kind: s.kind,
        startTimeUnixNano: s.startNs.toString(), endTimeUnixNano: s.endNs.toString(),
        attributes: [{ key: 'http.route', value: { stringValue: s.name } }],
        status: s.error ? { code: 2, message: 'failed' } : {},
      })) }],
    })),
  })).finish();
}

async function post(url: string, spans: [string, SpanSpec][]): Promise<void> {
  const byService = new Map<string, SpanSpec[]>();
  for (const [service, s] of spans) {
    const list = byService.get(service);
    if (list) list.push(s);
    else byService.set(service, [s]);
  }
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' }, body: encode(byService) });
  if (res.status !== 200) throw new Error(`export failed: ${res.status} ${await res.text()}`);
}

const id = (n: number): Buffer => randomBytes(n);

async function load(url: string, nowMs: number): Promise<{ trace1k: string; trace10k: string }> {
  const rnd = prng(7);
  const now = BigInt(nowMs) * MS;
  // 1) 100 services × 10 operations over the last 24 h: every series has data in every hour.
  let batch: [string, SpanSpec][] = [];
  for (let i = 0; i < HIST_SPANS; i++) {
    const startNs = now - 86_400_000n * MS + BigInt(Math.floor((i / HIST_SPANS) * 86_400_000)) * MS;
    const dur = BigInt(Math.floor(1e6 + rnd() * 200e6));
    batch.push([`svc-${i % 100}`, { traceId: id(16), spanId: id(8), name: `GET /op-${Math.floor(i / 100) % 10}`, kind: 2, startNs, endNs: startNs + dur, error: rnd() < 0.02 }]);
    if (batch.length === 5000) { await post(url, batch); batch = []; }
  }
  // 2) TRACES traces of frontend "GET /checkout" (5 spans: root → api → {db, cache, auth}) in the last hour.
  for (let t = 0; t < TRACES; t++) {
    const traceId = id(16);
    const t0 = now - 3_600_000n * MS + BigInt(Math.floor((t / TRACES) * 3_500_000)) * MS;
    const root = id(8), api = id(8);
    const db = BigInt(Math.floor(2e6 + rnd() * 30e6)), cache = BigInt(Math.floor(1e6 + rnd() * 5e6));
    batch.push(['frontend', { traceId, spanId: root, name: 'GET /checkout', kind: 2, startNs: t0, endNs: t0 + db + cache + 4n * MS }]);
    batch.push(['api', { traceId, spanId: api, parent: root, name: 'POST /orders', kind: 2, startNs: t0 + MS, endNs: t0 + db + cache + 3n * MS }]);
    batch.push(['api', { traceId, spanId: id(8), parent: api, name: 'GET cart', kind: 3, startNs: t0 + 2n * MS, endNs: t0 + 2n * MS + cache }]);
    batch.push(['api', { traceId, spanId: id(8), parent: api, name: 'SELECT orders', kind: 3, startNs: t0 + 2n * MS + cache, endNs: t0 + 2n * MS + cache + db }]);
    batch.push(['api', { traceId, spanId: id(8), parent: api, name: 'check auth', kind: 1, startNs: t0 + 2n * MS, endNs: t0 + 3n * MS }]);
    if (batch.length >= 5000) { await post(url, batch); batch = []; }
  }
  // 3) One 1k-span and one 10k-span trace: a root with calls, each with 9 children.
  const tree = async (n: number): Promise<string> => {
    const traceId = id(16);
    const root = id(8);
    const t0 = now - 600_000n * MS;
    const spans: [string, SpanSpec][] = [['big', { traceId, spanId: root, name: 'GET /big', kind: 2, startNs: t0, endNs: t0 + BigInt(n) * MS }]];
    for (let c = 0; spans.length < n; c++) {
      const call = id(8);
      const s = t0 + BigInt(c * 10) * MS;
      spans.push([`big-${c % 10}`, { traceId, spanId: call, parent: root, name: `call ${c % 50}`, kind: 3, startNs: s, endNs: s + 9n * MS }]);
      for (let k = 0; k < 9 && spans.length < n; k++) {
        spans.push([`big-${c % 10}`, { traceId, spanId: id(8), parent: call, name: `work ${k}`, kind: 1, startNs: s + BigInt(k) * MS, endNs: s + BigInt(k + 1) * MS, error: k === 8 && c % 13 === 0 }]);
      }
    }
    for (let i = 0; i < spans.length; i += 5000) await post(url, spans.slice(i, i + 5000));
    return traceId.toString('hex');
  };
  if (batch.length > 0) await post(url, batch);
  return { trace1k: await tree(1000), trace10k: await tree(10_000) };
}

async function main(): Promise<void> {
  const dataDir = makeTempDir('spanlens-bench-query-');
  let bulk = { spans: 0, traces: 0, ms: 0 };
  if (BULK_SPANS > 0) {
    let reported = 0;
    bulk = fillBulkStore({
      dataDir, spans: BULK_SPANS, nowMs: Date.now(), windowMs: 86_400_000,
      progress: (n) => {
        if (n - reported >= 1_000_000) process.stderr.write(`bulk: ${(reported = n)} spans\n`);
      },
    });
  }
  const config = configSchema.parse({
    receivers: { otlp: { grpc: { enabled: false }, http: { endpoint: '127.0.0.1:0' } } },
    api: { endpoint: '127.0.0.1:0' }, storage: { dataDir }, log: { level: 'warn' }, mcp: { maxAnalysisTraces: 10_000 },
  });
  const service = await startSpanlens(config, pino({ level: 'warn' }, pino.destination({ fd: 2 })));
  try {
    const t0 = Date.now();
    const ids = await load(`http://127.0.0.1:${service.addresses.otlpHttp!.port}/v1/traces`, t0);
    await service.store.flush();
    const loadMs = Date.now() - t0;
    const [a, b] = InMemoryTransport.createLinkedPair();
    await service.createMcpServer().connect(a);
    const client = new Client({ name: 'bench', version: '1' });
    await client.connect(b);
    const cases: [string, Record<string, unknown>][] = [
      ['list_operations_24h', { name: 'list_operations', arguments: { window: '24h' } }],
      ['latency_stats_24h', { name: 'latency_stats', arguments: { service: 'svc-7', operation: 'GET /op-3', window: '24h', percentiles: [50, 95, 99, 99.9] } }],
      ['list_services_24h', { name: 'list_services', arguments: { window: '24h' } }],
      ['find_traces', { name: 'find_traces', arguments: { service: 'frontend', window: '1h' } }],
      ['get_trace_1k_summary', { name: 'get_trace', arguments: { trace_id: ids.trace1k } }],
      ['get_trace_1k_topology', { name: 'get_trace', arguments: { trace_id: ids.trace1k, view: 'topology' } }],
      ['get_critical_path_10k', { name: 'get_critical_path', arguments: { trace_id: ids.trace10k } }],
      ['find_bottlenecks_10k_traces', { name: 'find_bottlenecks', arguments: { service: 'frontend', operation: 'GET /checkout', window: '2h', max_traces: 10_000 } }],
    ];
    const results: Record<string, unknown> = {};
    for (const [label, call] of cases) {
      if (ONLY.length > 0 && !ONLY.some((prefix) => label.startsWith(prefix))) continue;
      const times: number[] = [];
      const runs = label.startsWith('find_bottlenecks') ? Math.min(RUNS, 5) : RUNS;
      let cold = 0;
      for (let i = 0; i <= runs; i++) {
        const start = process.hrtime.bigint();
        const r = await client.callTool(call as { name: string; arguments: Record<string, unknown> });
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        if (r.isError) throw new Error(`${label}: ${JSON.stringify(r.content)}`);
        if (i === 0) cold = ms;
        else times.push(ms);
      }
      times.sort((x, y) => x - y);
      results[label] = { cold_ms: round(cold), p50_ms: round(percentile(times, 50)), p99_ms: round(percentile(times, 99)), runs };
    }
    const spans = bulk.spans + HIST_SPANS + TRACES * 5 + 11_000;
    process.stdout.write(`${JSON.stringify({ bench: 'query', spans, bulk_load_ms: bulk.ms, load_ms: loadMs, machine: `${os.cpus().length}x ${os.cpus()[0]?.model ?? '?'}`, node: process.version, results })}\n`);
    await client.close();
  } finally {
    await service.shutdown();
    removeDir(dataDir);
  }
}

const round = (x: number): number => Math.round(x * 100) / 100;

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
