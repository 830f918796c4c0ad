/**
 * Transports and the lane loop shared by the benchmark, the crash loop and the kill -9 test. An export
 * counts as acknowledged only on full success: HTTP 200 / gRPC OK with no rejected spans reported.
 */
import http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import type { Lane } from './request-template.js';

export type Transport = 'grpc' | 'http';

export type SendResult = { ok: true } | { ok: false; error: string; connection: boolean };

export interface Sender {
  send(body: Buffer): Promise<SendResult>;
  close(): void;
}

export const TRACE_EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const identity = (b: Buffer): Buffer => b;
const CONNECTION_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT']);

/** rejected_spans of an ExportTraceServiceResponse (field 1 → field 1 varint); 0 for an empty body. */
export function rejectedSpans(body: Buffer): number {
  // Only a non-empty body can carry partial_success; decode the two varints by hand (cheap, no protobufjs).
  if (body.length === 0) return 0;
  let pos = 0;
  const varint = (): number => {
    let result = 0;
    let mul = 1;
    for (;;) {
      const byte = body[pos++] as number;
      result += (byte & 0x7f) * mul;
      if (byte < 0x80 || pos >= body.length) return result;
      mul *= 128;
    }
  };
  while (pos < body.length) {
    const tag = varint();
    if (tag !== 0x0a) return 0;
    const end = varint() + pos;
    while (pos < end) {
      const t = varint();
      if (t === 0x08) return varint();
      if ((t & 7) === 2) pos += varint();
      else varint();
    }
  }
  return 0;
}

export function httpSender(port: number, maxSockets: number, path = '/v1/traces'): Sender {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  return {
    send: (body) =>
      new Promise<SendResult>((resolve) => {
        const req = http.request(
          {
            host: '127.0.0.1', port, path, method: 'POST', agent,
            headers: { 'Content-Type': 'application/x-protobuf', 'Content-Length': body.length },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('error', (err) => resolve({ ok: false, error: err.message, connection: true }));
            res.on('end', () => {
              const rejected = res.statusCode === 200 ? rejectedSpans(Buffer.concat(chunks)) : 0;
              if (res.statusCode === 200 && rejected === 0) resolve({ ok: true });
              else resolve({ ok: false, error: `HTTP ${res.statusCode} rejected=${rejected}`, connection: false });
            });
          },
        );
        req.on('error', (err: NodeJS.ErrnoException) =>
          resolve({ ok: false, error: err.code ?? err.message, connection: CONNECTION_ERRORS.has(err.code ?? '') }),
        );
        req.end(body);
      }),
    close: () => agent.destroy(),
  };
}

/**
 * `connections` separate HTTP/2 connections (a local subchannel pool each; grpc-js would otherwise share
 * one connection between all clients of a target), used round-robin: N lanes then behave like N
 * independent exporters, as over HTTP/1.1 with one socket per lane. One shared connection measured
 * ~100k spans/s at most here, bounded by HTTP/2 flow control rather than by either end's CPU.
 */
export function grpcSender(port: number, connections = 1): Sender {
  const clients = Array.from(
    { length: Math.max(1, connections) },
    () =>
      new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
        'grpc.max_send_message_length': -1,
        'grpc.max_receive_message_length': -1,
        'grpc.use_local_subchannel_pool': 1,
      }),
  );
  let next = 0;
  return {
    send: (body) =>
      new Promise<SendResult>((resolve) => {
        const client = clients[next++ % clients.length] as grpc.Client;
        client.makeUnaryRequest<Buffer, Buffer>(
          TRACE_EXPORT_PATH, identity, identity, body,
          { deadline: Date.now() + 60_000 },
          (err, response) => {
            if (err) {
              resolve({ ok: false, error: `gRPC ${err.code} ${err.details}`, connection: err.code === grpc.status.UNAVAILABLE });
              return;
            }
            const rejected = response ? rejectedSpans(response) : 0;
            resolve(rejected === 0 ? { ok: true } : { ok: false, error: `rejected=${rejected}`, connection: false });
          },
        );
      }),
    close: () => {
      for (const c of clients) c.close();
    },
  };
}

export function makeSender(transport: Transport, port: number, concurrency: number): Sender {
  return transport === 'grpc' ? grpcSender(port, concurrency) : httpSender(port, concurrency);
}

export interface LaneEvents {
  /** Called when an export is about to be sent (its spans may be stored from now on). */
  onSend?(lane: Lane, seq: number): void;
  onAck(lane: Lane, seq: number, spans: number, latencyMs: number, doneAt: number): void;
  onFail?(lane: Lane, seq: number, error: string): void;
}

/**
 * Runs every lane (one export in flight each) while `keepGoing()` is true. With `stopOnConnectionError`
 * (crash tests) a lane ends at the first connection failure: the daemon is gone. Otherwise failures are
 * counted and the lane backs off briefly (a 503 carries Retry-After; we keep the rate honest by not
 * re-sending the same request, so it is simply not acknowledged).
 */
export async function runLanes(
  lanes: readonly Lane[],
  sender: Sender,
  keepGoing: () => boolean,
  events: LaneEvents,
  stopOnConnectionError: boolean,
): Promise<void> {
  await Promise.all(
    lanes.map(async (lane) => {
      while (keepGoing()) {
        const { seq, body, spans } = lane.next();
        events.onSend?.(lane, seq);
        const started = performance.now();
        const result = await sender.send(body);
        const done = performance.now();
        if (result.ok) {
          events.onAck(lane, seq, spans, done - started, done);
          continue;
        }
        events.onFail?.(lane, seq, result.error);
        if (stopOnConnectionError && result.connection) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    }),
  );
}
