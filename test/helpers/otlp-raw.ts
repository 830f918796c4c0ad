import http from 'node:http';
import { randomBytes } from 'node:crypto';
import protobuf from 'protobufjs';
import * as grpc from '@grpc/grpc-js';
import { otlpType, TypeNames } from '../../src/codec/protos.js';

/**
 * Raw OTLP clients and hand-built payloads for conformance tests: no exporter logic (retries, header
 * defaults) between the test and the wire.
 */

export interface RawReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Milliseconds from the start of the request to the end of the response. */
  elapsedMs: number;
}

/**
 * One HTTP request on a fresh connection. Resolves as soon as a full response arrived, even if the
 * server then cuts the upload short (e.g. 413 on an oversized body), which fetch would report as an error.
 */
export function rawRequest(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: Uint8Array | Uint8Array[] } = {},
): Promise<RawReply> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'POST', headers: options.headers ?? {}, agent: false });
    const timer = setTimeout(() => req.destroy(new Error(`no answer from ${url} within 15 s`)), 15_000);
    let answered = false;
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        answered = true;
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), elapsedMs: Date.now() - started });
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        if (!answered) reject(err);
      });
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      if (!answered) reject(err);
    });
    const parts = options.body === undefined ? [] : Array.isArray(options.body) ? options.body : [options.body];
    for (const part of parts) req.write(part);
    req.end();
  });
}

export const postProto = (url: string, body: Uint8Array, headers: Record<string, string> = {}): Promise<RawReply> =>
  rawRequest(url, { headers: { 'Content-Type': 'application/x-protobuf', ...headers }, body });

export const postJson = (url: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<RawReply> =>
  rawRequest(url, {
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? Buffer.from(body) : body,
  });

// ---- hand-built spans ----

export interface RawSpan {
  traceId: Uint8Array;
  spanId: Uint8Array;
  parentSpanId?: Uint8Array;
  name: string;
  /** OTLP kind (1 = INTERNAL … 5 = CONSUMER). */
  kind?: number;
  startNs: bigint;
  endNs: bigint;
  statusCode?: number;
}

export const newTraceId = (): Buffer => randomBytes(16);
export const newSpanId = (): Buffer => randomBytes(8);
export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

type LongStatic = { fromString(value: string, unsigned: boolean): protobuf.Long };
const Long = protobuf.util.Long as unknown as LongStatic;

/** An ExportTraceServiceRequest with one resource (service.name) and one scope, protobuf-encoded. */
export function encodeRequest(service: string, spans: RawSpan[]): Uint8Array {
  return otlpType(TypeNames.exportTracesRequest)
    .encode({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
          scopeSpans: [
            {
              scope: { name: 'raw-test', version: '0.0.1' },
              spans: spans.map((s) => ({
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId ?? new Uint8Array(0),
                name: s.name,
                kind: s.kind ?? 1,
                startTimeUnixNano: Long.fromString(s.startNs.toString(), true),
                endTimeUnixNano: Long.fromString(s.endNs.toString(), true),
                status: s.statusCode ? { code: s.statusCode } : undefined,
              })),
            },
          ],
        },
      ],
    })
    .finish();
}

/** `count` root spans of one service, each its own trace, starting around now with the given duration. */
export function simpleSpans(count: number, name = 'op', durationNs = 1_000_000n): RawSpan[] {
  const now = BigInt(Date.now()) * 1_000_000n;
  return Array.from({ length: count }, (_, i) => ({
    traceId: newTraceId(),
    spanId: newSpanId(),
    name,
    startNs: now - 1_000_000_000n + BigInt(i),
    endNs: now - 1_000_000_000n + BigInt(i) + durationNs,
  }));
}

// ---- decoding answers ----

export interface RpcStatus {
  code: number;
  message: string;
  details: { type_url?: string; typeUrl?: string; value: Uint8Array }[];
}

export function decodeProtoStatus(body: Uint8Array): RpcStatus {
  return otlpType(TypeNames.rpcStatus).toObject(otlpType(TypeNames.rpcStatus).decode(body), {
    defaults: true,
    arrays: true,
  }) as RpcStatus;
}

export function decodeExportResponse(body: Uint8Array): { partialSuccess?: { rejectedSpans: string; errorMessage: string } } {
  const type = otlpType(TypeNames.exportTracesResponse);
  return type.toObject(type.decode(body), { longs: String }) as { partialSuccess?: { rejectedSpans: string; errorMessage: string } };
}

// ---- raw gRPC ----

export const TRACE_EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
export const METRICS_EXPORT_PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';

const identity = (b: Buffer): Buffer => b;
const RawClient = grpc.makeGenericClientConstructor({}, 'RawOtlp');

export interface GrpcReply {
  error: grpc.ServiceError | null;
  response?: Buffer;
}

/** A gRPC client with pass-through serializers, so tests send arbitrary bytes. Close it after use. */
export function rawGrpcClient(target: string, options: grpc.ChannelOptions = {}): grpc.Client {
  return new RawClient(target, grpc.credentials.createInsecure(), options);
}

export function grpcCall(client: grpc.Client, body: Uint8Array, path = TRACE_EXPORT_PATH, timeoutMs = 10_000): Promise<GrpcReply> {
  return new Promise((resolve) => {
    client.makeUnaryRequest<Buffer, Buffer>(
      path,
      identity,
      identity,
      Buffer.from(body.buffer, body.byteOffset, body.byteLength),
      new grpc.Metadata(),
      { deadline: Date.now() + timeoutMs },
      (error, response) => resolve({ error, ...(response !== undefined ? { response } : {}) }),
    );
  });
}
