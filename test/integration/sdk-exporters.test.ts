import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as HttpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { getOk, readTrace, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { RESOURCE_SCHEMA_URL, SCOPE, runWorkload, type WorkloadResult } from '../helpers/workload.js';
import { expectedResourceJson, expectedScopeJson, expectedSpanJson, hrTimeToNanos } from '../helpers/expected-otlp.js';

/**
 * The three official OTel JS exporters, each with and without gzip, against one real daemon: every
 * field the SDK produced must come back unchanged through the read API, and the search API must index
 * the spans by service, operation, error and duration. Each case has its own service name, so cases
 * sharing the daemon cannot see each other's data.
 */

// The exporters' compression option is a string enum from a transitive package; its values are these.
type Compression = 'none' | 'gzip';
const asCompression = <T>(c: Compression): T => c as unknown as T;

interface ExporterCase {
  id: string;
  compression: Compression;
  processor: 'simple' | 'batch';
  make(daemon: TestDaemon, compression: Compression): SpanExporter;
}

const grpc = (d: TestDaemon, c: Compression): SpanExporter =>
  new GrpcExporter({ url: d.grpcUrl, compression: asCompression(c), timeoutMillis: 10_000 });
const proto = (d: TestDaemon, c: Compression): SpanExporter =>
  new HttpProtoExporter({ url: d.tracesUrl, compression: asCompression(c), timeoutMillis: 10_000 });
const json = (d: TestDaemon, c: Compression): SpanExporter =>
  new HttpJsonExporter({ url: d.tracesUrl, compression: asCompression(c), timeoutMillis: 10_000 });

// Simple (one request per span) for uncompressed, batch (one request for all) for gzip: both shapes.
const CASES: ExporterCase[] = [
  { id: 'grpc', compression: 'none', processor: 'simple', make: grpc },
  { id: 'grpc', compression: 'gzip', processor: 'batch', make: grpc },
  { id: 'http-proto', compression: 'none', processor: 'simple', make: proto },
  { id: 'http-proto', compression: 'gzip', processor: 'batch', make: proto },
  { id: 'http-json', compression: 'none', processor: 'simple', make: json },
  { id: 'http-json', compression: 'gzip', processor: 'batch', make: json },
];

interface TraceSummaryJson {
  traceId: string;
  rootService: string;
  rootOperation: string;
  hasRoot: boolean;
  startTimeUnixNano: string;
  durationMs: number;
  spanCount: number;
  errorCount: number;
}

let daemon: TestDaemon;

beforeAll(async () => {
  daemon = await startTestDaemon();
});

afterAll(async () => {
  await daemon?.stop();
});

async function search(query: string): Promise<TraceSummaryJson[]> {
  const body = await getOk<{ traces: TraceSummaryJson[] }>(`${daemon.apiUrl}/api/traces?${query}`);
  return body.traces;
}

async function assertRoundTrip(result: WorkloadResult): Promise<void> {
  for (const traceId of result.traceIds) {
    const sent = result.spans.filter((s) => s.spanContext().traceId === traceId);
    const stored = await readTrace(daemon.apiUrl, traceId);
    expect(stored, `trace ${traceId}`).not.toBeNull();
    expect(stored!.map((s) => s.span.spanId).sort()).toEqual(sent.map((s) => s.spanContext().spanId).sort());
    for (const sdkSpan of sent) {
      const item = stored!.find((s) => s.span.spanId === sdkSpan.spanContext().spanId)!;
      expect(item.span, sdkSpan.name).toEqual(expectedSpanJson(sdkSpan));
      expect(item.resource.resource).toEqual(expectedResourceJson(sdkSpan));
      expect(item.resource.schemaUrl).toBe(RESOURCE_SCHEMA_URL);
      expect(item.scope.scope).toEqual(expectedScopeJson(sdkSpan));
      expect(item.scope.schemaUrl).toBe(SCOPE.schemaUrl);
    }
  }
}

describe.each(CASES)('OTel JS $id exporter, compression $compression ($processor processor)', (c) => {
  it('stores every field of every span exactly, and indexes them for search', async () => {
    const serviceName = `sdk-${c.id}-${c.compression}`;
    const result = await runWorkload({ serviceName, exporter: c.make(daemon, c.compression), processor: c.processor });
    expect(result.results.length).toBeGreaterThan(0);
    expect(result.results.filter((r) => r.code !== ExportResultCode.SUCCESS).map((r) => String(r.error))).toEqual([]);
    expect(result.spans).toHaveLength(6);
    expect(result.traceIds).toHaveLength(3);
    await daemon.service.store.flush();

    await assertRoundTrip(result);

    // /api/services counts this service's spans (from the latency histograms) exactly.
    const { services } = await getOk<{ services: { name: string; spanCount: number }[] }>(`${daemon.apiUrl}/api/services`);
    expect(services.find((s) => s.name === serviceName)).toEqual({ name: serviceName, spanCount: 6 });

    const byName = (name: string) => result.spans.find((s) => s.name === name)!;
    const server = byName('GET /checkout');
    const consumer = byName('consume order');
    const clocked = byName('background tick');
    const checkoutTrace = server.spanContext().traceId;
    const consumerTrace = consumer.spanContext().traceId;

    const all = await search(`service=${encodeURIComponent(serviceName)}`);
    expect(all.map((t) => t.traceId).sort()).toEqual([...result.traceIds].sort());
    // Newest first.
    expect(all.map((t) => BigInt(t.startTimeUnixNano))).toEqual(
      all.map((t) => BigInt(t.startTimeUnixNano)).sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)),
    );
    const checkout = all.find((t) => t.traceId === checkoutTrace)!;
    // The server span's parent is remote, so the trace has no root here: the earliest span heads it.
    expect(checkout).toMatchObject({
      rootService: serviceName,
      rootOperation: 'GET /checkout',
      hasRoot: false,
      startTimeUnixNano: hrTimeToNanos(server.startTime),
      durationMs: 1876.54321,
      spanCount: 4,
      errorCount: 2,
    });
    expect(all.find((t) => t.traceId === consumerTrace)).toMatchObject({
      rootOperation: 'consume order',
      hasRoot: true,
      spanCount: 1,
      errorCount: 0,
      durationMs: 750,
    });
    expect(all.find((t) => t.traceId === clocked.spanContext().traceId)).toMatchObject({ hasRoot: true, spanCount: 1 });

    const svc = `service=${encodeURIComponent(serviceName)}`;
    expect((await search(`${svc}&operation=${encodeURIComponent('SELECT orders')}`)).map((t) => t.traceId)).toEqual([checkoutTrace]);
    expect((await search(`${svc}&error=true`)).map((t) => t.traceId)).toEqual([checkoutTrace]);
    expect((await search(`${svc}&minDurationMs=1500`)).map((t) => t.traceId)).toEqual([checkoutTrace]);
    expect((await search(`${svc}&minDurationMs=500`)).map((t) => t.traceId).sort()).toEqual([checkoutTrace, consumerTrace].sort());
    expect((await search(`${svc}&operation=${encodeURIComponent('consume order')}&error=true`))).toEqual([]);
    expect(await search(`${svc}&limit=1`)).toHaveLength(1);
  });
});
