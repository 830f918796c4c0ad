import http from 'node:http';
import https from 'node:https';
import * as grpc from '@grpc/grpc-js';
import { TRACE_EXPORT_PATH, type RawReply } from './otlp-raw.js';

/** Client-side TLS: the CA to trust and, for mTLS, a client certificate. */
export interface ClientTls {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** One request on a fresh connection over http or https, whatever the status. */
export function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: Uint8Array | string; tls?: ClientTls } = {}): Promise<RawReply> {
  const started = Date.now();
  const target = new URL(url);
  const lib = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, {
      method: options.method ?? 'GET',
      headers: options.headers ?? {},
      agent: false,
      ...(options.tls ? { ca: options.tls.ca, ...(options.tls.cert ? { cert: options.tls.cert, key: options.tls.key } : {}) } : {}),
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${url}`)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), elapsedMs: Date.now() - started }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** A fetch for the MCP SDK transport that trusts a test CA (global fetch cannot be given one per call). */
export function fetchWithTls(tls: ClientTls): (url: string | URL, init?: RequestInit) => Promise<Response> {
  return async (url, init) => {
    const headers: Record<string, string> = {};
    new Headers(init?.headers).forEach((v, k) => {
      headers[k] = v;
    });
    const reply = await request(String(url), { method: init?.method ?? 'GET', headers, ...(typeof init?.body === 'string' ? { body: init.body } : {}), tls });
    const out = new Headers();
    for (const [k, v] of Object.entries(reply.headers)) if (v !== undefined) out.set(k, Array.isArray(v) ? v.join(', ') : v);
    const empty = reply.status === 204 || reply.status === 304;
    return new Response(empty ? null : reply.body, { status: reply.status, headers: out });
  };
}

const identity = (b: Buffer): Buffer => b;
const RawClient = grpc.makeGenericClientConstructor({}, 'AuthRawOtlp');

export function grpcCredentials(tls: ClientTls | undefined): grpc.ChannelCredentials {
  return tls === undefined ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(tls.ca, tls.key ?? null, tls.cert ?? null);
}

/** One TraceService/Export with an optional `authorization` metadata value; resolves with the status code (0 = OK). */
export async function grpcExport(target: string, body: Uint8Array, authorization: string | undefined, tls?: ClientTls): Promise<{ code: number; details: string }> {
  const client = new RawClient(target, grpcCredentials(tls));
  try {
    return await new Promise((resolve) => {
      const metadata = new grpc.Metadata();
      if (authorization !== undefined) metadata.set('authorization', authorization);
      client.makeUnaryRequest<Buffer, Buffer>(TRACE_EXPORT_PATH, identity, identity, Buffer.from(body), metadata, { deadline: Date.now() + 10_000 },
        (error) => resolve(error === null ? { code: 0, details: '' } : { code: error.code, details: error.details }));
    });
  } finally {
    client.close();
  }
}
