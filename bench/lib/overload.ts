/**
 * Overload run shared by test/reliability/overload.test.ts (CI size) and bench/overload.ts (longer):
 * a spawned daemon with a small limits.memory is pushed far past what it can store by raw HTTP and gRPC
 * clients that retry refusals almost at once, plus the real OTel SDK (BatchSpanProcessor + OTLP/proto
 * exporter with its own retry). Every status code is counted, the daemon's RSS is sampled from /proc,
 * and afterwards every span a client believes delivered is looked up in the database.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { spawnDaemon, type SpawnedDaemon } from '../../test/helpers/spawn-daemon.js';
import { encodeRequest, grpcCall, hex, rawGrpcClient, rawRequest, simpleSpans } from '../../test/helpers/otlp-raw.js';
import { PackedSpans } from '../../src/store/sqlite/span-pack.js';

export interface OverloadOptions {
  memoryLimit: string;
  loadMs: number;
  httpLanes: number;
  grpcLanes: number;
  spansPerRequest: number;
  /** Delay before a raw client re-sends a refused request: far below Retry-After, to keep the pressure on. */
  retryMs: number;
  /** Spans the SDK tracer starts per millisecond of load (best effort). */
  sdkSpansPerMs: number;
  /** Extra YAML appended to the daemon config. */
  extraConfig?: string;
}

export interface OverloadResult {
  memoryLimitBytes: number;
  peakRssBytes: number;
  rssSamples: number;
  httpCodes: Record<string, number>;
  grpcCodes: Record<string, number>;
  /** Codes a client must not retry (or must not see under overload): anything but 200/429/503, OK/UNAVAILABLE. */
  nonRetryable: string[];
  grpcRefusalsWithoutRetryInfo: number;
  offeredSpans: number;
  ackedRawSpans: number;
  offeredSpansPerSec: number;
  ackedSpansPerSec: number;
  sdk: { exports: number; succeeded: number; failed: number; deliveredSpans: number };
  missingRaw: number;
  duplicateRaw: number;
  missingSdk: number;
  readyzProblems: string[];
  loadMs: number;
}

const MIB = 1024 * 1024;

function parseSize(s: string): number {
  const m = /^(\d+)(MiB|GiB)$/.exec(s);
  if (!m) throw new Error(`size like 320MiB expected, got ${s}`);
  return Number(m[1]) * (m[2] === 'GiB' ? 1024 * MIB : MIB);
}

function rssOf(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? 0 : Number(kb) * 1024;
  } catch {
    return 0;
  }
}

/** Records which spans each successful export carried: what the SDK believes was delivered. */
class DeliveryLog implements SpanExporter {
  exports = 0;
  succeeded = 0;
  failed = 0;
  readonly delivered = new Set<string>();
  constructor(private readonly inner: SpanExporter) {}
  export(spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    this.exports++;
    this.inner.export(spans, (r) => {
      if (r.code === ExportResultCode.SUCCESS) {
        this.succeeded++;
        for (const s of spans) this.delivered.add(s.spanContext().traceId + s.spanContext().spanId);
      } else this.failed++;
      done(r);
    });
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}

const bump = (m: Record<string, number>, k: string): void => {
  m[k] = (m[k] ?? 0) + 1;
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runOverload(o: OverloadOptions): Promise<OverloadResult> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'spanlens-overload-'));
  const configFile = path.join(dataDir, 'overload.yaml');
  writeFileSync(configFile, `limits:\n  memory: ${o.memoryLimit}\n${o.extraConfig ?? ''}`);
  const memoryLimitBytes = parseSize(o.memoryLimit);
  let daemon: SpawnedDaemon | undefined;
  try {
    daemon = await spawnDaemon({ dataDir, configFile });
    const d = daemon;
    let peakRssBytes = 0;
    let rssSamples = 0;
    const sampler = setInterval(() => {
      const rss = rssOf(d.pid);
      rssSamples++;
      if (rss > peakRssBytes) peakRssBytes = rss;
    }, 50);

    const httpCodes: Record<string, number> = {};
    const grpcCodes: Record<string, number> = {};
    let grpcRefusalsWithoutRetryInfo = 0;
    const ackedTraces: string[] = [];
    let offeredSpans = 0;
    const readyzProblems = new Set<string>();
    let running = true;
    const started = performance.now();

    // One encoded template; each request gets a fresh trace id patched in, so that the load generator
    // costs a copy per request rather than a protobuf encode of thousands of spans.
    const marker = randomBytes(16);
    const template = Buffer.from(encodeRequest('overload-raw', simpleSpans(o.spansPerRequest, 'overload-op').map((s) => ({ ...s, traceId: marker }))));
    const at: number[] = [];
    for (let i = template.indexOf(marker); i >= 0; i = template.indexOf(marker, i + 1)) at.push(i);
    if (at.length !== o.spansPerRequest) throw new Error(`trace id found ${at.length} times in the template`);
    const request = (): { traceId: string; body: Uint8Array } => {
      const traceId = randomBytes(16);
      const body = Buffer.from(template);
      for (const i of at) traceId.copy(body, i);
      return { traceId: hex(traceId), body };
    };

    const httpLane = async (): Promise<void> => {
      while (running) {
        const r = request();
        for (;;) {
          offeredSpans += o.spansPerRequest;
          let code: string;
          try {
            code = String((await rawRequest(`http://127.0.0.1:${d.httpPort}/v1/traces`, { headers: { 'Content-Type': 'application/x-protobuf' }, body: r.body })).status);
          } catch (err) {
            code = `network:${(err as NodeJS.ErrnoException).code ?? 'error'}`;
          }
          bump(httpCodes, code);
          if (code === '200') {
            ackedTraces.push(r.traceId);
            break;
          }
          if (!running) break;
          await sleep(o.retryMs);
        }
      }
    };

    const grpcLane = async (): Promise<void> => {
      const client = rawGrpcClient(`127.0.0.1:${d.grpcPort}`, { 'grpc.max_send_message_length': 64 * MIB });
      try {
        while (running) {
          const r = request();
          for (;;) {
            offeredSpans += o.spansPerRequest;
            const reply = await grpcCall(client, r.body);
            const code = reply.error ? grpc.status[reply.error.code] : 'OK';
            bump(grpcCodes, code as string);
            if (!reply.error) {
              ackedTraces.push(r.traceId);
              break;
            }
            if (reply.error.metadata.get('grpc-status-details-bin').length === 0) grpcRefusalsWithoutRetryInfo++;
            if (!running) break;
            await sleep(o.retryMs);
          }
        }
      } finally {
        client.close();
      }
    };

    const delivery = new DeliveryLog(new OTLPTraceExporter({ url: `http://127.0.0.1:${d.httpPort}/v1/traces`, timeoutMillis: 20_000 }));
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'overload-sdk' }),
      spanProcessors: [new BatchSpanProcessor(delivery, { maxQueueSize: 20_000, maxExportBatchSize: 1000, scheduledDelayMillis: 100 })],
    });
    const tracer = provider.getTracer('overload');
    const sdkLoad = async (): Promise<void> => {
      while (running) {
        const t0 = performance.now();
        await sleep(20);
        // Capped: a stalled tick must not turn into a burst that starves the other clients of CPU.
        const n = Math.min(Math.round((performance.now() - t0) * o.sdkSpansPerMs), Math.round(40 * o.sdkSpansPerMs));
        for (let i = 0; i < n; i++) tracer.startSpan('sdk-op').end();
      }
    };
    const readyzPoll = async (): Promise<void> => {
      while (running) {
        try {
          const res = await fetch(`http://127.0.0.1:${d.apiPort}/readyz`);
          const body = (await res.json()) as { problems: string[] };
          for (const p of body.problems) readyzProblems.add(p.replace(/\d+ MiB/g, 'N MiB'));
        } catch {
          // the API being slow under load is not what this run measures
        }
        await sleep(200);
      }
    };

    const lanes = [
      ...Array.from({ length: o.httpLanes }, httpLane),
      ...Array.from({ length: o.grpcLanes }, grpcLane),
      sdkLoad(),
      readyzPoll(),
    ];
    await sleep(o.loadMs);
    running = false;
    await Promise.all(lanes);
    const loadMs = performance.now() - started;
    // The SDK's queue drains now, with the exporter's own retries, against a daemon that is catching up.
    // A batch whose retries ran out rejects the flush: that batch is simply not delivered (counted as failed).
    await provider.forceFlush().catch(() => undefined);
    await provider.shutdown().catch(() => undefined);
    clearInterval(sampler);

    // Stop cleanly so that the WAL is checkpointed, then read what was stored.
    d.kill('SIGTERM');
    await d.exited;
    daemon = undefined;
    const perTrace = new Map<string, number>();
    const sdkStored = new Set<string>();
    const db = new Database(path.join(dataDir, 'spans.db'), { readonly: true });
    try {
      for (const [traceId, spans] of db.prepare('SELECT trace_id, spans FROM trace_chunks').raw(true).iterate() as Iterable<[Buffer, Buffer]>) {
        const t = traceId.toString('hex');
        for (const s = new PackedSpans(spans); s.next(); ) {
          perTrace.set(t, (perTrace.get(t) ?? 0) + 1);
          sdkStored.add(t + s.spanId.toString('hex'));
        }
      }
    } finally {
      db.close();
    }
    let missingRaw = 0;
    let duplicateRaw = 0;
    for (const t of ackedTraces) {
      const n = perTrace.get(t) ?? 0;
      if (n < o.spansPerRequest) missingRaw += o.spansPerRequest - n;
      if (n > o.spansPerRequest) duplicateRaw += n - o.spansPerRequest;
    }
    let missingSdk = 0;
    for (const k of delivery.delivered) if (!sdkStored.has(k)) missingSdk++;

    const retryableHttp = new Set(['200', '429', '503']);
    const retryableGrpc = new Set(['OK', 'UNAVAILABLE', 'RESOURCE_EXHAUSTED']);
    const nonRetryable = [
      ...Object.keys(httpCodes).filter((c) => !retryableHttp.has(c) && !c.startsWith('network:')).map((c) => `http ${c}`),
      ...Object.keys(grpcCodes).filter((c) => !retryableGrpc.has(c)).map((c) => `grpc ${c}`),
    ];
    const ackedRawSpans = ackedTraces.length * o.spansPerRequest;
    return {
      memoryLimitBytes,
      peakRssBytes,
      rssSamples,
      httpCodes,
      grpcCodes,
      nonRetryable,
      grpcRefusalsWithoutRetryInfo,
      offeredSpans,
      ackedRawSpans,
      offeredSpansPerSec: Math.round(offeredSpans / (loadMs / 1000)),
      ackedSpansPerSec: Math.round(ackedRawSpans / (loadMs / 1000)),
      sdk: { exports: delivery.exports, succeeded: delivery.succeeded, failed: delivery.failed, deliveredSpans: delivery.delivered.size },
      missingRaw,
      duplicateRaw,
      missingSdk,
      readyzProblems: [...readyzProblems],
      loadMs: Math.round(loadMs),
    };
  } finally {
    if (daemon) {
      daemon.kill('SIGKILL');
      await daemon.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

