/**
 * limits.memory wiring, in-process: the test runner's own RSS is far above a 64 MiB budget, so the
 * daemon starts "above its soft limit". It must then refuse concurrent exports retryably with the reason
 * (503 + Retry-After, UNAVAILABLE + RetryInfo), still admit one export at a time so ingest never stops
 * for good, report the pressure in /readyz and get_status, and bound the largest request by the budget
 * (an eighth: 8 MiB) on both transports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { decodeProtoStatus, encodeRequest, grpcCall, postProto, rawGrpcClient, simpleSpans } from '../helpers/otlp-raw.js';
import { callOk, connectHttp, type McpConnection } from '../helpers/mcp-client.js';

let daemon: TestDaemon;
let mcp: McpConnection;

beforeAll(async () => {
  daemon = await startTestDaemon({ config: { limits: { memory: '64MiB' } } });
  mcp = await connectHttp(daemon.apiUrl);
});

afterAll(async () => {
  await mcp?.close();
  await daemon?.stop();
});

describe('above the memory soft limit', () => {
  it('admits one export at a time and refuses the rest retryably, saying why', async () => {
    const alone = await postProto(daemon.tracesUrl, encodeRequest('mem', simpleSpans(10)));
    expect(alone.status).toBe(200);
    const replies = await Promise.all(Array.from({ length: 12 }, () => postProto(daemon.tracesUrl, encodeRequest('mem', simpleSpans(2000)))));
    const codes = replies.map((r) => r.status);
    expect(codes).toContain(200);
    expect(codes).toContain(503);
    expect(codes.every((c) => c === 200 || c === 503)).toBe(true);
    const refused = replies.find((r) => r.status === 503)!;
    expect(refused.headers['retry-after']).toBe('1');
    expect(decodeProtoStatus(refused.body).message).toMatch(/memory above its soft limit: RSS \d+ MiB, soft limit 51 MiB of limits.memory 64 MiB/);
  });

  it('gRPC: UNAVAILABLE with RetryInfo for concurrent exports', async () => {
    const client = rawGrpcClient(daemon.grpcTarget);
    try {
      const replies = await Promise.all(Array.from({ length: 8 }, () => grpcCall(client, encodeRequest('mem', simpleSpans(2000)))));
      const errors = replies.filter((r) => r.error).map((r) => r.error!);
      expect(errors.length).toBeGreaterThan(0);
      for (const e of errors) {
        expect(e.code).toBe(status.UNAVAILABLE);
        expect(e.details).toMatch(/memory above its soft limit/);
        expect(e.metadata.get('grpc-status-details-bin')).toHaveLength(1);
      }
    } finally {
      client.close();
    }
  });

  it('/readyz and get_status report the pressure', async () => {
    const ready = await getJson<{ ready: boolean; problems: string[] }>(`${daemon.apiUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.body.problems.join('\n')).toMatch(/memory above its soft limit/);
    const st = await callOk<{ problems: string[]; ingest: Record<string, number> }>(mcp.client, 'get_status');
    expect(st.problems.join('\n')).toMatch(/memory above its soft limit/);
    expect(st.ingest['memory_limit_bytes']).toBe(64 * 1024 * 1024);
    expect(st.ingest['rss_bytes']).toBeGreaterThan(64 * 1024 * 1024);
  });

  it('bounds the largest request to an eighth of the budget on both transports', async () => {
    const big = encodeRequest('mem', simpleSpans(1, 'x'.repeat(9 * 1024 * 1024)));
    expect(big.byteLength).toBeGreaterThan(8 * 1024 * 1024);
    expect((await postProto(daemon.tracesUrl, big)).status).toBe(413);
    const client = rawGrpcClient(daemon.grpcTarget, { 'grpc.max_send_message_length': 64 * 1024 * 1024 });
    try {
      const reply = await grpcCall(client, big);
      expect(reply.error?.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(reply.error?.metadata.get('grpc-status-details-bin') ?? []).toHaveLength(0);
    } finally {
      client.close();
    }
  });
});
