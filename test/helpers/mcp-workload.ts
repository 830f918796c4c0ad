import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type HrTime, type Span, type Tracer } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { RecordingExporter } from './workload.js';
import { prng } from './prng.js';

/**
 * A realistic multi-service workload sent through the real OTel SDK, with exact timestamps so that a
 * test can compute the ground truth itself:
 *
 *   gateway  SERVER "GET /checkout"                       (root; HTTP 500 on failed requests)
 *   └ gateway CLIENT "POST /orders"
 *     └ orders SERVER "POST /orders"
 *       ├ orders CLIENT "GET cart"       db.system.name=redis        cacheMs
 *       ├ orders CLIENT "SELECT orders"  db.system.name=postgresql   dbMs (starts when the cache call ends)
 *       └ orders PRODUCER "publish order" messaging.system=kafka     0.5 ms
 *         └ worker CONSUMER "process order"                        10 ms, async (outlives its parent)
 *
 * The latency regression: requests starting at or after `regressionAtMs` have a slow database (dbMs
 * ~60 ms instead of ~5 ms), so the cache call (~20 ms) owns the critical path before and the database
 * after. Every `errorEvery`-th request fails in the database with a DeadlockError exception event, and
 * the error propagates up (orders SERVER, gateway CLIENT and SERVER are ERROR).
 */
export interface RequestTruth {
  traceId: string;
  startMs: number;
  /** Nanosecond durations as sent. */
  gatewayNs: bigint;
  cacheNs: bigint;
  dbNs: bigint;
  failed: boolean;
  afterRegression: boolean;
}

export interface WorkloadTruth {
  requests: RequestTruth[];
  regressionAtMs: number;
  spanCount: number;
}

const MS = 1_000_000n;
const hr = (ns: bigint): HrTime => [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];


export async function sendCheckoutWorkload(options: {
  makeExporter: () => SpanExporter;
  nowMs: number;
  requestsPerPhase: number;
  errorEvery: number;
}): Promise<WorkloadTruth> {
  const recorders: RecordingExporter[] = [];
  const providers = new Map<string, BasicTracerProvider>();
  const tracer = (service: string): Tracer => {
    let provider = providers.get(service);
    if (!provider) {
      const recorder = new RecordingExporter(options.makeExporter());
      recorders.push(recorder);
      provider = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': service, 'service.version': '1.4.2' }),
        spanProcessors: [new BatchSpanProcessor(recorder, { maxExportBatchSize: 2048, maxQueueSize: 100_000, scheduledDelayMillis: 60_000 })],
      });
      providers.set(service, provider);
    }
    return provider.getTracer('checkout-e2e', '1.0.0');
  };
  const gateway = tracer('gateway');
  const orders = tracer('orders');
  const worker = tracer('worker');
  const random = prng(42);
  // On a minute boundary: HDR windows are whole minutes, so before/after split exactly there.
  const regressionAtMs = Math.floor(options.nowMs / 60_000) * 60_000 - 30 * 60_000;
  const requests: RequestTruth[] = [];
  const n = options.requestsPerPhase;
  let spanCount = 0;
  for (let i = 0; i < 2 * n; i++) {
    const after = i >= n;
    // Before: [now-60m, now-31m); after: [now-30m, now-1m), evenly spread with a little jitter.
    const phaseStart = after ? regressionAtMs : regressionAtMs - 30 * 60_000;
    const startMs = phaseStart + Math.floor(((i % n) / n) * 29 * 60_000) + Math.floor(random() * 1000);
    const t0 = BigInt(startMs) * MS;
    const cacheNs = 20n * MS + BigInt(Math.floor(random() * 4_000_000));
    const dbNs = (after ? 60n : 5n) * MS + BigInt(Math.floor(random() * (after ? 20_000_000 : 2_000_000)));
    const failed = i % options.errorEvery === options.errorEvery - 1;
    // Timeline (ns offsets from t0).
    const clientStart = t0 + 1n * MS;
    const serverStart = t0 + 1n * MS + MS / 2n;
    const cacheStart = t0 + 2n * MS;
    const dbStart = cacheStart + cacheNs;
    const produceStart = dbStart + dbNs;
    const produceEnd = produceStart + MS / 2n;
    const serverEnd = produceEnd + MS / 2n;
    const clientEnd = serverEnd + MS / 2n;
    const gatewayEnd = clientEnd + 1n * MS;

    const root = gateway.startSpan('GET /checkout', {
      kind: SpanKind.SERVER, root: true, startTime: hr(t0),
      attributes: { 'http.request.method': 'GET', 'http.route': '/checkout', 'http.response.status_code': failed ? 500 : 200 },
    });
    const rootCtx = trace.setSpan(ROOT_CONTEXT, root);
    const client = child(gateway, 'POST /orders', SpanKind.CLIENT, rootCtx, clientStart, { 'http.request.method': 'POST', 'server.address': 'orders', 'http.response.status_code': failed ? 500 : 201 });
    const clientCtx = trace.setSpan(rootCtx, client);
    const server = child(orders, 'POST /orders', SpanKind.SERVER, clientCtx, serverStart, { 'http.request.method': 'POST', 'http.route': '/orders', 'http.response.status_code': failed ? 500 : 201 });
    const serverCtx = trace.setSpan(clientCtx, server);
    const cache = child(orders, 'GET cart', SpanKind.CLIENT, serverCtx, cacheStart, { 'db.system.name': 'redis', 'db.operation.name': 'GET' });
    cache.end(hr(cacheStart + cacheNs));
    const db = child(orders, 'SELECT orders', SpanKind.CLIENT, serverCtx, dbStart, { 'db.system.name': 'postgresql', 'db.operation.name': 'SELECT', 'db.collection.name': 'orders' });
    if (failed) {
      const err = new Error('deadlock detected while waiting for ShareLock');
      err.name = 'DeadlockError';
      db.recordException(err, hr(dbStart + dbNs));
      db.setStatus({ code: SpanStatusCode.ERROR, message: 'deadlock detected' });
    }
    db.end(hr(dbStart + dbNs));
    const producer = child(orders, 'publish order', SpanKind.PRODUCER, serverCtx, produceStart, { 'messaging.system': 'kafka', 'messaging.destination.name': 'orders' });
    const consumer = child(worker, 'process order', SpanKind.CONSUMER, trace.setSpan(serverCtx, producer), produceEnd, { 'messaging.system': 'kafka' });
    consumer.end(hr(produceEnd + 10n * MS));
    producer.end(hr(produceEnd));
    for (const [span, end] of [[server, serverEnd], [client, clientEnd], [root, gatewayEnd]] as const) {
      if (failed) span.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream failed' });
      span.end(hr(end));
    }
    spanCount += 7;
    requests.push({ traceId: root.spanContext().traceId, startMs, gatewayNs: gatewayEnd - t0, cacheNs, dbNs, failed, afterRegression: after });
  }
  for (const provider of providers.values()) await provider.forceFlush();
  for (const provider of providers.values()) await provider.shutdown();
  const failures = recorders.flatMap((r) => r.failures);
  if (failures.length > 0) throw new Error(`export failed: ${JSON.stringify(failures[0])}`);
  return { requests, regressionAtMs, spanCount };
}

function child(t: Tracer, name: string, kind: SpanKind, parent: Context, startNs: bigint, attributes: Record<string, string | number>): Span {
  return t.startSpan(name, { kind, startTime: hr(startNs), attributes }, parent);
}

/** Nearest-rank percentile of exact values (ANALYSIS.md RED-v1). */
export function nearestRank(sortedAsc: readonly bigint[], p: number): bigint {
  return sortedAsc[Math.max(Math.ceil((p / 100) * sortedAsc.length), 1) - 1] as bigint;
}
