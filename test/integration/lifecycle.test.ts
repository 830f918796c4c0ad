import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { getJson, makeTempDir, readTrace, removeDir, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { encodeRequest, grpcCall, hex, newTraceId, postProto, rawGrpcClient, simpleSpans, type RawSpan } from '../helpers/otlp-raw.js';

/** Start-up failures, probes and graceful shutdown (OTLP-CONFORMANCE.md items 36–38). */

const daemons: TestDaemon[] = [];
const dirs: string[] = [];
const blockers: net.Server[] = [];

afterEach(async () => {
  await Promise.all(daemons.splice(0).map((d) => d.stop()));
  await Promise.all(blockers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

afterAll(() => {
  for (const dir of dirs) removeDir(dir);
});

async function occupyPort(): Promise<number> {
  const server = net.createServer();
  blockers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('port already in use', () => {
  it.each([
    ['OTLP/HTTP', (port: number) => ({ receivers: { otlp: { http: { endpoint: `127.0.0.1:${port}` } } } })],
    ['the API', (port: number) => ({ api: { endpoint: `127.0.0.1:${port}` } })],
  ])('%s: start fails fast with "address already in use"', async (what, config) => {
    const port = await occupyPort();
    const started = Date.now();
    await expect(startTestDaemon({ config: config(port) })).rejects.toThrow(
      `cannot listen for ${what} on 127.0.0.1:${port}: address already in use`,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('OTLP/gRPC: start fails with a message naming the receiver and the address; the data dir is released', async () => {
    const port = await occupyPort();
    const dataDir = makeTempDir();
    dirs.push(dataDir);
    await expect(
      startTestDaemon({ dataDir, config: { receivers: { otlp: { grpc: { endpoint: `127.0.0.1:${port}` } } } } }),
    ).rejects.toThrow(new RegExp(`cannot listen for OTLP/gRPC on 127\\.0\\.0\\.1:${port}: .*(EADDRINUSE|address already in use)`, 'i'));
    // What had started (store, API) was stopped again: the same data dir opens cleanly.
    daemons.push(await startTestDaemon({ dataDir }));
  });
});

describe('probes', () => {
  it('/healthz and /readyz answer 200 when the daemon is up', async () => {
    const d = await startTestDaemon();
    daemons.push(d);
    const health = await getJson<{ status: string; upSince: string }>(`${d.apiUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
    expect(Date.parse(health.body.upSince)).not.toBeNaN();
    const ready = await getJson(`${d.apiUrl}/readyz`);
    expect(ready).toEqual({ status: 200, body: { ready: true, problems: [] } });
  });
});

/** One trace per batch, so a single read tells whether the whole batch was stored. */
function traceBatch(size: number): { traceId: string; body: Uint8Array } {
  const traceId = newTraceId();
  const spans: RawSpan[] = simpleSpans(size, 'shutdown-load').map((s) => ({ ...s, traceId }));
  return { traceId: hex(traceId), body: encodeRequest('shutdown-load', spans) };
}

type Outcome = { traceId: string; size: number; result: 'acked' | 'retryable' | 'connection' | `non-retryable ${string}` };

describe('graceful shutdown under load', () => {
  it('every export is either acknowledged and stored (after restart) or failed retryably', async () => {
    const dataDir = makeTempDir();
    dirs.push(dataDir);
    const d = await startTestDaemon({ dataDir });
    const outcomes: Outcome[] = [];
    let stopped = false;
    const grpcClient = rawGrpcClient(d.grpcTarget);

    const httpLoop = async (): Promise<void> => {
      while (!stopped) {
        const { traceId, body } = traceBatch(200);
        try {
          const r = await postProto(d.tracesUrl, body);
          outcomes.push({ traceId, size: 200, result: r.status === 200 ? 'acked' : [429, 502, 503, 504].includes(r.status) ? 'retryable' : `non-retryable ${r.status}` });
        } catch {
          outcomes.push({ traceId, size: 200, result: 'connection' });
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
    };
    const grpcLoop = async (): Promise<void> => {
      while (!stopped) {
        const { traceId, body } = traceBatch(200);
        const r = await grpcCall(grpcClient, body, undefined, 5_000);
        const code = r.error?.code ?? status.OK;
        const retryable = [status.UNAVAILABLE, status.CANCELLED, status.DEADLINE_EXCEEDED, status.ABORTED].includes(code);
        outcomes.push({ traceId, size: 200, result: code === status.OK ? 'acked' : retryable ? 'retryable' : `non-retryable grpc ${code}` });
        if (code !== status.OK) await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    const loops = [...Array.from({ length: 4 }, httpLoop), ...Array.from({ length: 4 }, grpcLoop)];
    await new Promise((resolve) => setTimeout(resolve, 400));
    const acksBeforeShutdown = outcomes.filter((o) => o.result === 'acked').length;
    await d.stop();
    stopped = true;
    await Promise.all(loops);
    grpcClient.close();

    expect(acksBeforeShutdown).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o.result.startsWith('non-retryable'))).toEqual([]);

    const restarted = await startTestDaemon({ dataDir });
    daemons.push(restarted);
    const acked = outcomes.filter((o) => o.result === 'acked');
    const lost: string[] = [];
    for (const o of acked) {
      if ((await readTrace(restarted.apiUrl, o.traceId))?.length !== o.size) lost.push(o.traceId);
    }
    expect(lost, `${lost.length} of ${acked.length} acknowledged batches not (fully) stored`).toEqual([]);
  });
});

describe('duplicates across a restart (item 34)', () => {
  it('a request re-sent after a restart is stored once and counted once in latency', async () => {
    // The classic re-send: the daemon committed a request, the connection was cut (shutdown deadline,
    // crash) before the client saw the answer, and the client retries against the restarted daemon.
    const dataDir = makeTempDir();
    dirs.push(dataDir);
    const spans = simpleSpans(3, 'resent', 2_000_000n);
    const body = encodeRequest('restart-replay', spans);
    const first = await startTestDaemon({ dataDir });
    expect((await postProto(first.tracesUrl, body)).status).toBe(200);
    await first.stop();
    const second = await startTestDaemon({ dataDir });
    daemons.push(second);
    expect((await postProto(second.tracesUrl, body)).status).toBe(200);
    await second.service.store.flush();
    for (const s of spans) expect(await readTrace(second.apiUrl, hex(s.traceId))).toHaveLength(1);
    const latency = await getJson<{ count: number }>(`${second.apiUrl}/api/latency?service=restart-replay&start=now-1h&end=now`);
    expect(latency.body.count).toBe(3);
  });
});
