import { randomBytes } from 'node:crypto';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace, type Attributes, type HrTime } from '@opentelemetry/api';
import { ExportResultCode, TraceState, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';

export const SCOPE = { name: 'spanlens-it', version: '1.2.3', schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' };
export const RESOURCE_SCHEMA_URL = 'https://opentelemetry.io/schemas/1.29.0';

/** One value of every attribute type the API allows, including edge cases (empty, unicode, ±, 2^53−1). */
export const ALL_TYPES_ATTRIBUTES: Attributes = {
  'http.request.method': 'GET',
  'str.empty': '',
  'str.unicode': 'żółw 🐢 "quoted"',
  'bool.true': true,
  'bool.false': false,
  'int.positive': 200,
  'int.negative': -42,
  'int.zero': 0,
  'int.max_safe': Number.MAX_SAFE_INTEGER,
  'double.fraction': 0.25,
  'double.negative': -1234.5678,
  'double.tiny': 1e-300,
  'arr.strings': ['a', 'b', ''],
  'arr.ints': [80, 443, -1],
  'arr.doubles': [1.5, -2.25, 3.125],
  'arr.bools': [true, false, true],
};

/** Wraps an exporter and records the result of every export, so a test can assert nothing failed. */
export class RecordingExporter implements SpanExporter {
  readonly results: ExportResult[] = [];
  constructor(private readonly inner: SpanExporter) {}
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.inner.export(spans, (result) => {
      this.results.push(result);
      done(result);
    });
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
  get failures(): ExportResult[] {
    return this.results.filter((r) => r.code !== ExportResultCode.SUCCESS);
  }
}

export interface WorkloadOptions {
  serviceName: string;
  exporter: SpanExporter;
  /** Simple exports one span per request as it ends; batch sends them together on forceFlush. */
  processor?: 'simple' | 'batch';
  /** Epoch seconds the explicit timestamps are based on; default two minutes ago (inside retention). */
  baseSeconds?: number;
}

export interface WorkloadResult {
  /** The spans exactly as the SDK produced them (what the exporter serialized). */
  spans: ReadableSpan[];
  traceIds: string[];
  /** Every export's result, as reported to the span processor. */
  results: ExportResult[];
}

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

/**
 * Produces a realistic small workload through the real SDK: three traces covering every SpanKind,
 * parent/child and a remote parent with trace state, attributes of every type, events (one is an
 * exception), a cross-trace link with attributes, ERROR status with message, OK status, and a span
 * with SDK clock timestamps (sub-millisecond nanos). Spans are captured in memory in parallel with
 * exporting, so tests compare what was stored against what was sent.
 */
export async function runWorkload(options: WorkloadOptions): Promise<WorkloadResult> {
  const memory = new InMemorySpanExporter();
  const recording = new RecordingExporter(options.exporter);
  const exportProcessor =
    options.processor === 'batch'
      ? new BatchSpanProcessor(recording, { maxExportBatchSize: 512, scheduledDelayMillis: 60_000 })
      : new SimpleSpanProcessor(recording);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(
      {
        'service.name': options.serviceName,
        'service.version': '2.0.1',
        'deployment.environment.name': 'integration-test',
        'host.cpu.count': 8,
        'process.runtime.flags': ['--enable-source-maps', '--no-warnings'],
      },
      { schemaUrl: RESOURCE_SCHEMA_URL },
    ),
    spanProcessors: [new SimpleSpanProcessor(memory), exportProcessor],
  });
  const tracer = provider.getTracer(SCOPE.name, SCOPE.version, { schemaUrl: SCOPE.schemaUrl });
  const base = options.baseSeconds ?? Math.floor(Date.now() / 1000) - 120;
  const t = (s: number, ns: number): HrTime => [base + s, ns];

  // Trace 1: continues a remote parent (flags get the IS_REMOTE bit; trace state is inherited).
  const remote = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: hex(16),
    spanId: hex(8),
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState('vendor=abc,other=1'),
  });
  const server = tracer.startSpan(
    'GET /checkout',
    { kind: SpanKind.SERVER, startTime: t(0, 123_456_789), attributes: ALL_TYPES_ATTRIBUTES },
    remote,
  );
  const serverCtx = trace.setSpan(remote, server);
  const internal = tracer.startSpan('validate cart', { kind: SpanKind.INTERNAL, startTime: t(0, 200_000_001) }, serverCtx);
  internal.addEvent('cart.loaded', { 'cart.items': 3, 'cart.total': 99.95, 'cart.currency': 'EUR' }, t(0, 250_000_000));
  internal.addEvent('no-attributes', t(0, 260_000_007));
  internal.end(t(0, 300_000_000));
  const client = tracer.startSpan(
    'SELECT orders',
    { kind: SpanKind.CLIENT, startTime: t(0, 400_000_000), attributes: { 'db.system.name': 'postgresql', 'db.rows': 0 } },
    serverCtx,
  );
  const failure = new Error('deadline exceeded after 1000 ms');
  failure.name = 'TimeoutError';
  client.recordException(failure, t(1, 399_999_999));
  client.setStatus({ code: SpanStatusCode.ERROR, message: 'db timeout' });
  client.end(t(1, 400_000_000));
  const producer = tracer.startSpan('publish order', { kind: SpanKind.PRODUCER, startTime: t(1, 500_000_000) }, serverCtx);
  producer.end(t(1, 500_900_000));
  server.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream failed' });
  server.end(t(1, 999_999_999));

  // Trace 2: a consumer root span linked to the producer (another trace).
  const consumer = tracer.startSpan(
    'consume order',
    {
      kind: SpanKind.CONSUMER,
      root: true,
      startTime: t(2, 0),
      links: [{ context: producer.spanContext(), attributes: { 'messaging.batch.index': 0, 'link.reason': 'follows' } }],
    },
    ROOT_CONTEXT,
  );
  consumer.setStatus({ code: SpanStatusCode.OK });
  consumer.end(t(2, 750_000_000));

  // Trace 3: timestamps from the SDK clock, so nanos are not round numbers.
  const clocked = tracer.startSpan('background tick', { root: true });
  await new Promise((resolve) => setTimeout(resolve, 2));
  clocked.end();

  await provider.forceFlush();
  const spans = [...memory.getFinishedSpans()];
  await provider.shutdown();
  const traceIds = [...new Set(spans.map((s) => s.spanContext().traceId))];
  return { spans, traceIds, results: recording.results };
}

export interface SpanSpec {
  name: string;
  /** Epoch nanoseconds. */
  startNs: bigint;
  durationNs: bigint;
  error?: boolean;
}

const toHrTime = (ns: bigint): HrTime => [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];

/**
 * Root spans with exact start times and durations, built by the real SDK (no export): for tests that
 * send them through an exporter or a serializer themselves.
 */
export function makeSpans(serviceName: string, specs: SpanSpec[]): ReadableSpan[] {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer(SCOPE.name, SCOPE.version);
  for (const spec of specs) {
    const span = tracer.startSpan(spec.name, { root: true, kind: SpanKind.SERVER, startTime: toHrTime(spec.startNs) });
    if (spec.error) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end(toHrTime(spec.startNs + spec.durationNs));
  }
  return [...memory.getFinishedSpans()];
}

/**
 * One SDK provider per service.name, created on first use, each exporting through a RecordingExporter
 * (batches held until `finish`), so a test can build spans of many services and then send them all.
 */
export class ServiceProviders {
  private readonly providers = new Map<string, BasicTracerProvider>();
  private readonly recorders: RecordingExporter[] = [];

  constructor(
    private readonly makeExporter: () => SpanExporter,
    private readonly maxExportBatchSize = 1000,
  ) {}

  provider(service: string): BasicTracerProvider {
    let p = this.providers.get(service);
    if (!p) {
      const recorder = new RecordingExporter(this.makeExporter());
      this.recorders.push(recorder);
      p = new BasicTracerProvider({
        resource: resourceFromAttributes({ 'service.name': service }),
        spanProcessors: [new BatchSpanProcessor(recorder, { maxExportBatchSize: this.maxExportBatchSize, maxQueueSize: 20_000, scheduledDelayMillis: 60_000 })],
      });
      this.providers.set(service, p);
    }
    return p;
  }

  /** Sends everything, shuts the providers down and returns the failed exports (expect none). */
  async finish(): Promise<ExportResult[]> {
    for (const p of this.providers.values()) await p.forceFlush();
    for (const p of this.providers.values()) await p.shutdown();
    return this.recorders.flatMap((r) => r.failures);
  }
}
