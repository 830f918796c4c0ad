/**
 * Disk full: the database is capped with storage.maxPages (SQLite max_page_count), so SQLite itself
 * fails the commit with SQLITE_FULL, the same error a full volume gives. The daemon must answer with
 * retryable refusals (HTTP 503 + Retry-After, gRPC UNAVAILABLE + RetryInfo) that say why, report it in
 * /readyz and get_status, keep running, and take writes again once retention has freed space.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { decodeProtoStatus, encodeRequest, grpcCall, postProto, rawGrpcClient, simpleSpans } from '../helpers/otlp-raw.js';
import { callOk, connectHttp, type McpConnection } from '../helpers/mcp-client.js';

const PAGE = 4096;
const MAX_PAGES = 1200;

let daemon: TestDaemon;
let mcp: McpConnection;

beforeAll(async () => {
  daemon = await startTestDaemon({
    config: {
      storage: {
        maxPages: MAX_PAGES,
        // Just under the cap: retention does nothing until the cap is hit, then frees the oldest data.
        retention: { maxSize: (MAX_PAGES - 16) * PAGE, checkInterval: '4s' },
      },
    },
  });
  mcp = await connectHttp(daemon.apiUrl);
});

afterAll(async () => {
  await mcp?.close();
  await daemon?.stop();
});

interface Readyz {
  ready: boolean;
  problems: string[];
}

describe('database at its size cap', () => {
  it('refuses retryably with the reason, reports it, and recovers when retention frees space', async () => {
    // Fill until SQLite reports the cap: the first 503 whose message says disk full.
    let full: { status: number; retryAfter: string | undefined; message: string } | undefined;
    let accepted = 0;
    // One request at a time: with several in flight, one could commit after the refusal (retention
    // starts right after it) and rightly make the store ready again before the checks below.
    for (let i = 0; i < 400 && !full; i++) {
      const r = await postProto(daemon.tracesUrl, encodeRequest('disk-full', simpleSpans(2000)));
      expect([200, 503], `HTTP ${r.status}`).toContain(r.status);
      if (r.status === 200) accepted++;
      else full = { status: r.status, retryAfter: r.headers['retry-after'] as string | undefined, message: decodeProtoStatus(r.body).message };
    }
    expect(accepted).toBeGreaterThan(0);
    expect(full, 'the cap was never reached').toBeDefined();
    expect(full!.message).toMatch(/disk full \(SQLITE_FULL/);
    expect(full!.retryAfter).toBe('5');

    // While nothing has been written since: not ready, with the reason, and get_status says so too.
    const ready = await getJson<Readyz>(`${daemon.apiUrl}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.body.problems.join('\n')).toMatch(/span store cannot write: .*disk full/);
    const st = await callOk<{ problems: string[]; store: { healthy: boolean } }>(mcp.client, 'get_status');
    expect(st.problems.join('\n')).toMatch(/disk full/);
    expect(st.store.healthy).toBe(true);

    // gRPC gets UNAVAILABLE with RetryInfo, unless retention already made room (then it is stored).
    const client = rawGrpcClient(daemon.grpcTarget);
    try {
      const reply = await grpcCall(client, encodeRequest('disk-full', simpleSpans(2000)));
      if (reply.error) {
        expect(reply.error.code).toBe(status.UNAVAILABLE);
        expect(reply.error.details).toMatch(/disk full/);
        expect(reply.error.metadata.get('grpc-status-details-bin')).toHaveLength(1);
      }
    } finally {
      client.close();
    }

    // Space returns (size retention deletes the oldest data): the same exports are accepted again.
    const deadline = Date.now() + 20_000;
    let recovered = false;
    while (!recovered && Date.now() < deadline) {
      const r = await postProto(daemon.tracesUrl, encodeRequest('disk-full', simpleSpans(100)));
      expect([200, 503]).toContain(r.status);
      recovered = r.status === 200;
      if (!recovered) await new Promise((res) => setTimeout(res, 250));
    }
    expect(recovered, 'writes never resumed after retention').toBe(true);
    const after = await getJson<Readyz>(`${daemon.apiUrl}/readyz`);
    expect(after.body.problems).toEqual([]);
    expect(after.status).toBe(200);
  }, 60_000);
});
