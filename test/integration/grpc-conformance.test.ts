import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status, type Client } from '@grpc/grpc-js';
import { readTrace, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import {
  METRICS_EXPORT_PATH,
  decodeExportResponse,
  encodeRequest,
  grpcCall,
  hex,
  newTraceId,
  rawGrpcClient,
  simpleSpans,
} from '../helpers/otlp-raw.js';

/** OTLP/gRPC receiver against OTLP-CONFORMANCE.md items 7, 8, 10, 13, 17, 18, 26, 28, with a raw client. */

const LIMIT = 64 * 1024;
const GZIP = 2; // grpc-js compression algorithm id
let daemon: TestDaemon;
let small: TestDaemon; // maxRequestSize = 64 KiB
const clients: Client[] = [];

function client(d: TestDaemon, options: Record<string, number> = {}): Client {
  const c = rawGrpcClient(d.grpcTarget, options);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  [daemon, small] = await Promise.all([
    startTestDaemon(),
    startTestDaemon({ config: { receivers: { otlp: { maxRequestSize: LIMIT } } } }),
  ]);
});

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all([daemon?.stop(), small?.stop()]);
});

async function expectStored(spans: { traceId: Uint8Array }[]): Promise<void> {
  await daemon.service.store.flush();
  for (const s of spans) expect(await readTrace(daemon.apiUrl, hex(s.traceId)), hex(s.traceId)).toHaveLength(1);
}

describe('OTLP/gRPC TraceService/Export', () => {
  it('answers full success with an empty response message and stores the spans', async () => {
    const spans = simpleSpans(3, 'grpc-ok');
    const reply = await grpcCall(client(daemon), encodeRequest('grpc-ok', spans));
    expect(reply.error).toBeNull();
    expect(reply.response?.length).toBe(0);
    await expectStored(spans);
  });

  it('answers an empty request with success', async () => {
    const reply = await grpcCall(client(daemon), new Uint8Array(0));
    expect(reply.error).toBeNull();
  });

  it('answers garbage bytes with INVALID_ARGUMENT (not INTERNAL), so clients do not retry', async () => {
    const reply = await grpcCall(client(daemon), Buffer.from([0x0a, 0xe8, 0x07, 0x01, 0x02]));
    expect(reply.error?.code).toBe(status.INVALID_ARGUMENT);
  });

  it('answers an oversized request with RESOURCE_EXHAUSTED without RetryInfo (non-retryable)', async () => {
    const reply = await grpcCall(client(small), Buffer.alloc(LIMIT + 1, 0x41));
    expect(reply.error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(reply.error?.metadata.get('grpc-status-details-bin')).toEqual([]);
  });

  it('applies the size limit after decompression: a small gzip message inflating past it is refused', async () => {
    // 8 MiB of zeros: the compressed message is ~8 KiB, far under the limit.
    const reply = await grpcCall(client(small, { 'grpc.default_compression_algorithm': GZIP }), Buffer.alloc(8 * 1024 * 1024));
    expect(reply.error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(reply.error?.metadata.get('grpc-status-details-bin')).toEqual([]);
    // A legitimate request still gets through on the same daemon.
    expect((await grpcCall(client(small), encodeRequest('grpc-small', simpleSpans(1)))).error).toBeNull();
  });

  it('accepts gzip-compressed requests (grpc-encoding: gzip)', async () => {
    const spans = simpleSpans(20, 'grpc-gzip');
    const reply = await grpcCall(client(daemon, { 'grpc.default_compression_algorithm': GZIP }), encodeRequest('grpc-gzip', spans));
    expect(reply.error).toBeNull();
    await expectStored(spans);
  });

  it('reports one span with a 15-byte trace id as partial success and stores the rest', async () => {
    const good = simpleSpans(2, 'grpc-partial');
    const bad = { ...simpleSpans(1)[0]!, traceId: newTraceId().subarray(0, 15) };
    const reply = await grpcCall(client(daemon), encodeRequest('grpc-partial', [bad, ...good]));
    expect(reply.error).toBeNull();
    const { partialSuccess } = decodeExportResponse(reply.response!);
    expect(partialSuccess?.rejectedSpans).toBe('1');
    expect(partialSuccess?.errorMessage).toMatch(/trace_id must be 16 bytes/);
    await expectStored(good);
  });

  it('answers LogsService/Export with UNIMPLEMENTED (signal not enabled) and MetricsService/Export with OK', async () => {
    const logs = await grpcCall(client(daemon), new Uint8Array(0), '/opentelemetry.proto.collector.logs.v1.LogsService/Export');
    expect(logs.error?.code).toBe(status.UNIMPLEMENTED);
    const metrics = await grpcCall(client(daemon), new Uint8Array(0), METRICS_EXPORT_PATH);
    expect(metrics.error).toBeNull();
  });

  it('serves many concurrent unary calls on one connection', async () => {
    const c = client(daemon);
    const batches = Array.from({ length: 40 }, () => simpleSpans(10, 'grpc-concurrent'));
    const replies = await Promise.all(batches.map((spans) => grpcCall(c, encodeRequest('grpc-concurrent', spans))));
    expect(replies.map((r) => r.error?.code ?? status.OK)).toEqual(batches.map(() => status.OK));
    await expectStored(batches.flat());
  });
});
