/**
 * Realistic seed inputs for the fuzzers: export requests built by the real OpenTelemetry SDK and
 * serialized by @opentelemetry/otlp-transformer (the bytes exporters really send), plus the Prometheus
 * exposition corpus of the parser tests.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { AggregationType, MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { JsonMetricsSerializer, JsonTraceSerializer, ProtobufMetricsSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { ALL_TYPES_ATTRIBUTES } from '../../test/helpers/workload.js';
import type { ExpositionFormat } from '../../src/receivers/prometheus/exposition.js';

export interface Seeds {
  tracesProto: Uint8Array[];
  tracesJson: Uint8Array[];
  metricsProto: Uint8Array[];
  metricsJson: Uint8Array[];
  prometheus: { text: string; format: ExpositionFormat }[];
}

/** A few traces of different shapes: nested spans, every attribute type, events, links, errors. */
function traceBatches(): ReadableSpan[][] {
  const batches: ReadableSpan[][] = [];
  for (const [service, fanout] of [['checkout', 3], ['payments', 1], ['edge-gateway', 6]] as const) {
    const memory = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': service, 'service.version': '1.4.2', 'host.name': 'pod-7' }),
      spanProcessors: [new SimpleSpanProcessor(memory)],
    });
    const tracer = provider.getTracer('fuzz-seed', '0.1.0');
    const root = tracer.startSpan(`${service} GET /api/items`, { kind: SpanKind.SERVER, attributes: ALL_TYPES_ATTRIBUTES });
    const ctx = trace.setSpan(ROOT_CONTEXT, root);
    let previous = root.spanContext();
    for (let i = 0; i < fanout; i++) {
      const child = tracer.startSpan(`SELECT items ${i}`, { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql', 'db.rows': i * 7 }, links: [{ context: previous, attributes: { 'link.i': i } }] }, ctx);
      child.addEvent('query.start', { 'q.len': 120 + i });
      if (i % 2 === 1) {
        child.recordException(new Error(`timeout ${i}`));
        child.setStatus({ code: SpanStatusCode.ERROR, message: 'deadline exceeded' });
      }
      previous = child.spanContext();
      child.end();
    }
    root.setStatus({ code: SpanStatusCode.OK });
    root.end();
    batches.push([...memory.getFinishedSpans()]);
  }
  return batches;
}

class CollectingReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

async function metricBatches(): Promise<ResourceMetrics[]> {
  const reader = new CollectingReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': 'fuzz-metrics' }),
    readers: [reader],
    views: [{ instrumentName: 'exp.latency', aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 40 } } }],
  });
  const meter = provider.getMeter('fuzz-seed');
  const requests = meter.createCounter('http.requests', { unit: '{request}' });
  const inflight = meter.createUpDownCounter('http.inflight');
  const latency = meter.createHistogram('http.latency', { unit: 'ms' });
  const exp = meter.createHistogram('exp.latency', { unit: 's' });
  meter.createObservableGauge('cpu.util').addCallback((r) => r.observe(0.42, { cpu: '0' }));
  const out: ResourceMetrics[] = [];
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 20; i++) {
      const attrs = { route: `/r${i % 3}`, code: i % 5 === 0 ? 500 : 200 };
      requests.add(1 + i, attrs);
      inflight.add(i % 2 === 0 ? 1 : -1, attrs);
      latency.record(3 + i * 11.5, attrs);
      exp.record(0.001 * (i + 1) ** 2, attrs);
    }
    const { resourceMetrics } = await reader.collect();
    out.push(resourceMetrics);
  }
  await provider.shutdown();
  return out;
}

const PROM_CORPUS = fileURLToPath(new URL('../../test/fixtures/prometheus/corpus/', import.meta.url));

export async function buildSeeds(): Promise<Seeds> {
  const batches = traceBatches();
  const all = batches.flat();
  const traceInputs = [...batches, all];
  const metrics = await metricBatches();
  const bytes = (u: Uint8Array | undefined): Uint8Array => {
    if (!u) throw new Error('serializer returned nothing');
    return u;
  };
  return {
    tracesProto: traceInputs.map((spans) => bytes(ProtobufTraceSerializer.serializeRequest(spans))),
    tracesJson: traceInputs.map((spans) => bytes(JsonTraceSerializer.serializeRequest(spans))),
    metricsProto: metrics.map((m) => bytes(ProtobufMetricsSerializer.serializeRequest(m))),
    metricsJson: metrics.map((m) => bytes(JsonMetricsSerializer.serializeRequest(m))),
    prometheus: readdirSync(PROM_CORPUS).map((name) => ({
      text: readFileSync(path.join(PROM_CORPUS, name), 'utf8'),
      format: (name.endsWith('.om.txt') ? 'openmetrics' : 'prometheus-text') as ExpositionFormat,
    })),
  };
}
