import { AggregationType, MeterProvider, PeriodicExportingMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { OTLPMetricExporter as GrpcExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { AggregationTemporalityPreference, OTLPMetricExporter as HttpJsonExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as HttpProtoExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { TestDaemon } from './daemon.js';
import { getJson } from './daemon.js';

export type MetricsTransport = 'grpc' | 'http-proto' | 'http-json';
export type Temporality = 'cumulative' | 'delta';

export function metricExporter(daemon: TestDaemon, transport: MetricsTransport, temporality: Temporality, gzip = false): PushMetricExporter {
  const temporalityPreference =
    temporality === 'delta' ? AggregationTemporalityPreference.DELTA : AggregationTemporalityPreference.CUMULATIVE;
  const compression = (gzip ? 'gzip' : 'none') as never;
  const url = `${daemon.httpUrl}/v1/metrics`;
  switch (transport) {
    case 'grpc':
      return new GrpcExporter({ url: daemon.grpcUrl, temporalityPreference, compression, timeoutMillis: 10_000 });
    case 'http-proto':
      return new HttpProtoExporter({ url, temporalityPreference, compression, timeoutMillis: 10_000 });
    case 'http-json':
      return new HttpJsonExporter({ url, temporalityPreference, compression, timeoutMillis: 10_000 });
  }
}

/** A real MeterProvider that exports only when flushed (the interval is an hour). */
export function meterProvider(serviceName: string, exporter: PushMetricExporter, expHistograms: string[] = []): MeterProvider {
  return new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName, 'service.instance.id': 'test-1' }),
    readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })],
    views: expHistograms.map((instrumentName) => ({
      instrumentName,
      aggregation: { type: AggregationType.EXPONENTIAL_HISTOGRAM, options: { maxSize: 160 } },
    })),
  });
}

export interface QueryGroup {
  labels: Record<string, string>;
  value: number | null;
  seriesCount: number;
  points?: { time: string; timeUnixNano: string; value: number | null }[];
  exemplars?: { traceId: string; spanId: string; value: number }[];
}

export interface QueryResult {
  aggregation: string;
  unit: string;
  truncated: boolean;
  seriesCount: number;
  groups: QueryGroup[];
  warnings?: string[];
}

export async function queryApi(apiUrl: string, params: Record<string, string | string[]>): Promise<QueryResult> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const one of Array.isArray(v) ? v : [v]) q.append(k, one);
  const reply = await getJson<QueryResult>(`${apiUrl}/api/metrics/query?${q.toString()}`);
  if (reply.status !== 200) throw new Error(`query ${q.toString()} → ${reply.status}: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

/** Group values keyed by one label. */
export function byLabel(result: QueryResult, label: string): Record<string, number | null> {
  return Object.fromEntries(result.groups.map((g) => [g.labels[label] ?? '', g.value]));
}
