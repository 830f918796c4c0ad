import { fileURLToPath } from 'node:url';
import path from 'node:path';
import protobuf from 'protobufjs';

/** proto/ sits two levels above this file both in src/codec and in dist/codec. */
const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));

const FILES = [
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
  'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
  'google/rpc/status.proto',
  'google/rpc/error_details.proto',
];

let cached: protobuf.Root | undefined;

/** The protobufjs root for the cold paths (JSON transcoding, read API, error bodies); loaded once. */
export function otlpRoot(): protobuf.Root {
  if (cached) return cached;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(PROTO_DIR, target);
  root.loadSync(FILES, { keepCase: false });
  root.resolveAll();
  cached = root;
  return root;
}

export function otlpType(name: string): protobuf.Type {
  return otlpRoot().lookupType(name);
}

export const TypeNames = {
  exportTracesRequest: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
  exportTracesResponse: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse',
  resourceSpans: 'opentelemetry.proto.trace.v1.ResourceSpans',
  span: 'opentelemetry.proto.trace.v1.Span',
  resource: 'opentelemetry.proto.resource.v1.Resource',
  scope: 'opentelemetry.proto.common.v1.InstrumentationScope',
  exportMetricsRequest: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
  exportMetricsResponse: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse',
  rpcStatus: 'google.rpc.Status',
  retryInfo: 'google.rpc.RetryInfo',
} as const;
