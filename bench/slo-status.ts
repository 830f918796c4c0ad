/**
 * slo_status cost on a 30-day SLO: `--operations` entry operations of apes-ml-pipeline, each with a span
 * every 20 s over the last 2 days (minute rows) and 6 per hour for the 28 days before (hour rows only), so
 * every minute and hour bucket of the period holds data. Starts a real daemon in-process, loads it through
 * OTLP/HTTP protobuf, then calls slo_status through the real MCP client (in-memory transport).
 *
 *   npx tsx bench/slo-status.ts [--operations 8] [--runs 20]
 *
 * Prints one JSON line: cold (first, decodes every bucket) and warm p50/p99 ms, for one SLO in detail
 * and for the overview of two SLOs (rolling 30 d and calendar month).
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
import { percentile } from './lib/proc-stats.js';
import { prng } from '../test/helpers/prng.js';

const { values } = parseArgs({ options: { operations: { type: 'string', default: '8' }, runs: { type: 'string', default: '20' } } });
const OPERATIONS = Number(values.operations);
const RUNS = Number(values.runs);
const MS = 1_000_000n;
const SERVICE = 'apes-ml-pipeline';
const OBJECTIVES = { availability: 0.999, latency: [{ thresholdMs: 2000, target: 0.95 }, { thresholdMs: 5000, target: 0.99 }], errorRate: 0.001 };

const requestType = otlpType(TypeNames.exportTracesRequest);

async function post(url: string, spans: { name: string; startNs: bigint; endNs: bigint; error: boolean }[]): Promise<void> {
  const body = requestType.encode(requestType.fromObject({
    resourceSpans: [{
      resource: { attributes: [{ key: 'service.name', value: { stringValue: SERVICE } }] },
      scopeSpans: [{ scope: { name: 'bench' }, spans: spans.map((s) => ({
        traceId: randomBytes(16), spanId: randomBytes(8), name: s.name, kind: 2,
        startTimeUnixNano: s.startNs.toString(), endTimeUnixNano: s.endNs.toString(), status: s.error ? { code: 2 } : {},
      })) }],
    }],
  })).finish();
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-protobuf' }, body });
  if (res.status !== 200) throw new Error(`export failed: ${res.status} ${await res.text()}`);
}

async function load(url: string, nowMs: number): Promise<number> {
  const rnd = prng(11);
  let batch: { name: string; startNs: bigint; endNs: bigint; error: boolean }[] = [];
  let sent = 0;
  const push = async (startMs: number, op: number): Promise<void> => {
    const startNs = BigInt(Math.floor(startMs)) * MS;
    const r = rnd();
    const durMs = r < 0.93 ? 50 + rnd() * 1900 : r < 0.995 ? 2100 + rnd() * 2800 : 5200 + rnd() * 3000;
    batch.push({ name: `POST /predict/${op}`, startNs, endNs: startNs + BigInt(Math.floor(durMs * 1e6)), error: rnd() < 0.0008 });
    sent++;
    if (batch.length === 5000) {
      await post(url, batch);
      batch = [];
    }
  };
  for (let op = 0; op < OPERATIONS; op++) {
    for (let t = nowMs - 2 * 86_400_000; t < nowMs - 1000; t += 20_000) await push(t, op);
    for (let t = nowMs - 30 * 86_400_000; t < nowMs - 2 * 86_400_000; t += 600_000) await push(t, op);
  }
  if (batch.length > 0) await post(url, batch);
  return sent;
}

async function main(): Promise<void> {
  const dataDir = makeTempDir('spanlens-bench-slo-');
  const config = configSchema.parse({
    receivers: { otlp: { grpc: { enabled: false }, http: { endpoint: '127.0.0.1:0' } } },
    api: { endpoint: '127.0.0.1:0' }, storage: { dataDir }, log: { level: 'warn' },
    slos: [
      { name: 'rolling', service: SERVICE, period: '30d', objectives: OBJECTIVES },
      { name: 'month', service: SERVICE, period: { calendar: 'month' }, objectives: OBJECTIVES },
    ],
  });
  const service = await startSpanlens(config, pino({ level: 'warn' }, pino.destination({ fd: 2 })));
  try {
    const t0 = Date.now();
    const spans = await load(`http://127.0.0.1:${service.addresses.otlpHttp!.port}/v1/traces`, t0);
    await service.store.flush();
    const loadMs = Date.now() - t0;
    const [a, b] = InMemoryTransport.createLinkedPair();
    await service.createMcpServer().connect(a);
    const client = new Client({ name: 'bench', version: '1' });
    await client.connect(b);
    const results: Record<string, unknown> = {};
    for (const [label, args] of [['slo_status_detail_30d', { slo: 'rolling' }], ['slo_status_all', {}]] as const) {
      const times: number[] = [];
      let cold = 0;
      let requests = 0;
      for (let i = 0; i <= RUNS; i++) {
        const start = process.hrtime.bigint();
        const r = await client.callTool({ name: 'slo_status', arguments: args });
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        if (r.isError) throw new Error(`${label}: ${JSON.stringify(r.content)}`);
        requests = (r.structuredContent as { slos: { requests: number }[] }).slos[0]?.requests ?? 0;
        if (i === 0) cold = ms;
        else times.push(ms);
      }
      times.sort((x, y) => x - y);
      results[label] = { cold_ms: round(cold), p50_ms: round(percentile(times, 50)), p99_ms: round(percentile(times, 99)), runs: RUNS, requests };
    }
    process.stdout.write(`${JSON.stringify({ bench: 'slo-status', spans, operations: OPERATIONS, load_ms: loadMs, machine: `${os.cpus().length}x ${os.cpus()[0]?.model ?? '?'}`, node: process.version, results })}\n`);
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
