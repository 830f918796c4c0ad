import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type HrTime, type Tracer } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { RecordingExporter } from './workload.js';

/**
 * A deploy sent through the real OTel SDK with exact timestamps, so tests compute the truth themselves:
 *
 *   shop SERVER "GET /items"           (root)
 *   ├ shop INTERNAL "auth check"      5 ms
 *   └ shop CLIENT "db query"          10 ms on service.version 1.0.0, 50 ms (5×) on 1.1.0; starts when auth ends
 *
 * 30 requests per minute (2 s apart) for the minutes [deployAt − 60 m, deployAt + 30 m); the resource's
 * service.version is 1.0.0 before `deployAt` and 1.1.0 from it. In the burst minutes every other request
 * fails in the database (ConnectionResetError) and the root is ERROR too. A second service, `ramp`,
 * sends single-span requests whose per-minute count grows by one every minute over the last hour
 * (10 + k in minute k), a throughput trend of exactly 1 span/s per hour. A third, `season`, is busy
 * (60 spans a minute) at this time of day yesterday and in the last 15 minutes, quiet (20) in the hour
 * before, with one spike minute (120): against the same time yesterday only the spike is anomalous.
 */
export interface DeployRequest {
  traceId: string;
  startMs: number;
  version: '1.0.0' | '1.1.0';
  rootNs: bigint;
  authNs: bigint;
  dbNs: bigint;
  failed: boolean;
}

export interface DeployTruth {
  deployAtMs: number;
  burstMinutesMs: number[];
  requests: DeployRequest[];
  /** Start (ms) of the first ramp minute; minute k has 10 + k spans, k = 0..59. */
  rampStartMs: number;
  /** The season service's spike minute (120 spans). */
  seasonSpikeMs: number;
  spanCount: number;
}

const MS = 1_000_000n;
const mod = (a: number, n: number): number => ((a % n) + n) % n;
const hr = (ns: bigint): HrTime => [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];

export async function sendDeployWorkload(options: { makeExporter: () => SpanExporter; nowMs: number }): Promise<DeployTruth> {
  const providers: BasicTracerProvider[] = [];
  const recorders: RecordingExporter[] = [];
  const tracerFor = (service: string, version: string): Tracer => {
    const recorder = new RecordingExporter(options.makeExporter());
    recorders.push(recorder);
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'service.version': version }),
      spanProcessors: [new BatchSpanProcessor(recorder, { maxExportBatchSize: 2048, maxQueueSize: 100_000, scheduledDelayMillis: 60_000 })],
    });
    providers.push(provider);
    return provider.getTracer('deploy-e2e', '1.0.0');
  };
  const v1 = tracerFor('shop', '1.0.0');
  const v2 = tracerFor('shop', '1.1.0');
  const ramp = tracerFor('ramp', '1.0.0');
  const season = tracerFor('season', '1.0.0');
  const floorMinute = Math.floor(options.nowMs / 60_000) * 60_000;
  const deployAtMs = floorMinute - 30 * 60_000;
  const burstMinutesMs = [10, 11, 12].map((m) => deployAtMs + m * 60_000);
  const requests: DeployRequest[] = [];
  let spanCount = 0;
  for (let m = -60; m < 30; m++) {
    const minuteMs = deployAtMs + m * 60_000;
    const after = m >= 0;
    const burst = burstMinutesMs.includes(minuteMs);
    for (let j = 0; j < 30; j++) {
      const startMs = minuteMs + j * 2000 + 100;
      const t0 = BigInt(startMs) * MS;
      // Deterministic jitter so that the percentiles are not all one value.
      const authNs = 5n * MS + BigInt(mod(j * 7919 + m * 104_729, 500) * 1000);
      const dbNs = (after ? 50n : 10n) * MS + BigInt(mod(j * 15_485_863 + m * 32_452_843, after ? 10_000 : 2000) * 1000 + mod(m * 31 + j, 1000));
      const failed = burst && j % 2 === 0;
      const authStart = t0 + MS;
      const dbStart = authStart + authNs;
      const rootEnd = dbStart + dbNs + MS;
      const tracer = after ? v2 : v1;
      const root = tracer.startSpan('GET /items', { kind: SpanKind.SERVER, root: true, startTime: hr(t0), attributes: { 'http.request.method': 'GET', 'http.route': '/items' } });
      const ctx = trace.setSpan(ROOT_CONTEXT, root);
      tracer.startSpan('auth check', { kind: SpanKind.INTERNAL, startTime: hr(authStart) }, ctx).end(hr(authStart + authNs));
      const db = tracer.startSpan('db query', { kind: SpanKind.CLIENT, startTime: hr(dbStart), attributes: { 'db.system.name': 'postgresql' } }, ctx);
      if (failed) {
        const err = new Error('connection reset by peer');
        err.name = 'ConnectionResetError';
        db.recordException(err, hr(dbStart + dbNs));
        db.setStatus({ code: SpanStatusCode.ERROR, message: 'connection reset' });
        root.setStatus({ code: SpanStatusCode.ERROR, message: 'database failed' });
      }
      db.end(hr(dbStart + dbNs));
      root.end(hr(rootEnd));
      spanCount += 3;
      requests.push({ traceId: root.spanContext().traceId, startMs, version: after ? '1.1.0' : '1.0.0', rootNs: rootEnd - t0, authNs, dbNs, failed });
    }
  }
  const rampStartMs = floorMinute - 60 * 60_000;
  for (let k = 0; k < 60; k++) {
    const n = 10 + k;
    for (let j = 0; j < n; j++) {
      const t0 = BigInt(rampStartMs + k * 60_000 + Math.floor((j * 59_000) / n)) * MS;
      ramp.startSpan('GET /ramp', { kind: SpanKind.SERVER, root: true, startTime: hr(t0) }).end(hr(t0 + 3n * MS));
      spanCount++;
    }
  }
  const seasonSpikeMs = floorMinute - 10 * 60_000;
  const seasonMinutes: [number, number][] = [];
  for (let t = floorMinute - 86_400_000 - 40 * 60_000; t < floorMinute - 86_400_000 + 15 * 60_000; t += 60_000) seasonMinutes.push([t, 60]);
  for (let t = floorMinute - 75 * 60_000; t < floorMinute; t += 60_000) seasonMinutes.push([t, t === seasonSpikeMs ? 120 : t < floorMinute - 15 * 60_000 ? 20 : 60]);
  for (const [minuteMs, n] of seasonMinutes) {
    for (let j = 0; j < n; j++) {
      const t0 = BigInt(minuteMs + Math.floor((j * 59_000) / n)) * MS;
      season.startSpan('GET /season', { kind: SpanKind.SERVER, root: true, startTime: hr(t0) }).end(hr(t0 + 3n * MS));
      spanCount++;
    }
  }
  for (const p of providers) await p.forceFlush();
  for (const p of providers) await p.shutdown();
  const failures = recorders.flatMap((r) => r.failures);
  if (failures.length > 0) throw new Error(`export failed: ${JSON.stringify(failures[0])}`);
  return { deployAtMs, burstMinutesMs, requests, rampStartMs, seasonSpikeMs, spanCount };
}
