import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { OTLPTraceExporter as GrpcTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { makeTempDir, removeDir, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { decodeProtoStatus, encodeRequest, simpleSpans } from '../helpers/otlp-raw.js';
import { fetchWithTls, grpcCredentials, grpcExport, request, type ClientTls } from '../helpers/auth-clients.js';
import { makeTestPki, type TestPki } from '../helpers/tls-certs.js';
import { runWorkload } from '../helpers/workload.js';

/**
 * Every listener × {no token, unknown token, token of the wrong role, right token}, over plain TCP and
 * over TLS, with exact codes: gRPC UNAUTHENTICATED (16) / PERMISSION_DENIED (7), HTTP 401 / 403 / 200.
 * Clients: raw grpc-js and node:http(s) for exact codes, the real OTel SDK exporters and the real MCP SDK
 * client for the successful paths.
 */

const SECRETS = { ingest: 'ingest-0123456789abcdef-secret', read: 'read-0123456789abcdef-secret', admin: 'admin-0123456789abcdef-secret' };
const WRONG = 'Bearer not-a-token-0123456789abcdef';
const bearer = (s: string): string => `Bearer ${s}`;
const UNAUTHENTICATED = grpc.status.UNAUTHENTICATED;
const PERMISSION_DENIED = grpc.status.PERMISSION_DENIED;

let tmp: string;
let pki: TestPki;

beforeAll(() => {
  tmp = makeTempDir('spanlens-auth-');
  pki = makeTestPki(tmp);
  writeFileSync(path.join(tmp, 'ingest.token'), `${SECRETS.ingest}\n`);
});
afterAll(() => removeDir(tmp));

function authConfig(): Record<string, unknown> {
  return {
    tokens: [
      { name: 'app', role: 'ingest', file: path.join(tmp, 'ingest.token') },
      { name: 'dashboard', role: 'read', env: 'TEST_READ_TOKEN' },
      { name: 'ops', role: 'admin', secret: SECRETS.admin },
    ],
  };
}

async function startAuthDaemon(tls: boolean, mtls = false): Promise<TestDaemon> {
  const files = tls ? { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile, ...(mtls ? { clientCaFile: pki.caFile } : {}) } : undefined;
  return startTestDaemon({
    env: { TEST_READ_TOKEN: SECRETS.read },
    config: {
      auth: authConfig(),
      mcp: { allowWrites: true },
      ...(files ? { receivers: { otlp: { grpc: { tls: files }, http: { tls: files } } }, api: { tls: files } } : {}),
    } as never,
  });
}

const scheme = (tls: boolean): string => (tls ? 'https' : 'http');

for (const mode of ['plain', 'tls'] as const) {
  describe(`access control over ${mode} connections`, () => {
    const tls = mode === 'tls';
    let daemon: TestDaemon;
    let clientTls: ClientTls | undefined;
    let traces: string;
    let api: string;

    beforeAll(async () => {
      daemon = await startAuthDaemon(tls);
      clientTls = tls ? { ca: pki.ca } : undefined;
      traces = daemon.tracesUrl.replace(/^http:/, `${scheme(tls)}:`);
      api = daemon.apiUrl.replace(/^http:/, `${scheme(tls)}:`);
    });
    afterAll(async () => {
      await daemon?.stop();
    });

    it('OTLP/gRPC: UNAUTHENTICATED without or with an unknown token, PERMISSION_DENIED for a read token, OK for an ingest token', async () => {
      const body = encodeRequest('grpc-auth', simpleSpans(2));
      expect((await grpcExport(daemon.grpcTarget, body, undefined, clientTls)).code).toBe(UNAUTHENTICATED);
      expect((await grpcExport(daemon.grpcTarget, body, WRONG, clientTls)).code).toBe(UNAUTHENTICATED);
      const denied = await grpcExport(daemon.grpcTarget, body, bearer(SECRETS.read), clientTls);
      expect(denied.code).toBe(PERMISSION_DENIED);
      expect(denied.details).toContain('"dashboard"');
      expect((await grpcExport(daemon.grpcTarget, body, bearer(SECRETS.admin), clientTls)).code).toBe(PERMISSION_DENIED);
      expect((await grpcExport(daemon.grpcTarget, body, bearer(SECRETS.ingest), clientTls)).code).toBe(0);
      expect(daemon.service.counters.unauthorizedRequests.grpc).toBe(4);
    });

    it('OTLP/gRPC: the OTel SDK exporter with metadata (and TLS credentials) exports; with a read token it fails', async () => {
      const exporter = (secret: string): GrpcTraceExporter => {
        const metadata = new grpc.Metadata();
        metadata.set('authorization', bearer(secret));
        return new GrpcTraceExporter({ url: `${scheme(tls)}://${daemon.grpcTarget}`, metadata, credentials: grpcCredentials(clientTls) });
      };
      const ok = await runWorkload({ serviceName: `sdk-grpc-${mode}`, exporter: exporter(SECRETS.ingest), processor: 'batch' });
      expect(ok.results.length).toBeGreaterThan(0);
      expect(ok.results.every((r) => r.code === 0)).toBe(true);
      // PERMISSION_DENIED is not retryable: the exporter gives up at once and the flush reports it.
      const refused = await runWorkload({ serviceName: `sdk-grpc-refused-${mode}`, exporter: exporter(SECRETS.read), processor: 'batch' }).then(
        () => undefined,
        // The flush rejects with the export errors (the grpc-js ServiceError).
        (err: unknown) => [err].flat()[0] as { code?: number },
      );
      expect(refused?.code).toBe(PERMISSION_DENIED);
    });

    it('OTLP/HTTP: 401 with WWW-Authenticate and a google.rpc.Status body, 403 for the wrong role, 200 for ingest', async () => {
      const body = encodeRequest('http-auth', simpleSpans(2));
      const post = (authorization?: string, contentType = 'application/x-protobuf', payload: Uint8Array | string = body) =>
        request(traces, { method: 'POST', body: payload, headers: { 'Content-Type': contentType, ...(authorization ? { Authorization: authorization } : {}) }, ...(clientTls ? { tls: clientTls } : {}) });
      const none = await post();
      expect(none.status).toBe(401);
      expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(none.headers['content-type']).toBe('application/x-protobuf');
      expect(decodeProtoStatus(none.body).code).toBe(UNAUTHENTICATED);
      const wrong = await post(WRONG);
      expect(wrong.status).toBe(401);
      expect(decodeProtoStatus(wrong.body).message).toBe('unknown bearer token');
      const role = await post(bearer(SECRETS.read));
      expect(role.status).toBe(403);
      expect(decodeProtoStatus(role.body).code).toBe(PERMISSION_DENIED);
      // JSON requests get a JSON Status.
      const json = await post(undefined, 'application/json', '{"resourceSpans":[]}');
      expect(json.status).toBe(401);
      expect(json.headers['content-type']).toBe('application/json');
      expect(JSON.parse(json.body.toString()) as unknown).toMatchObject({ code: UNAUTHENTICATED, message: expect.stringContaining('Bearer') });
      expect((await post(bearer(SECRETS.ingest))).status).toBe(200);
      // Refused with a Content-Length as well as chunked (the requests above).
      const sized = await request(traces, { method: 'POST', body, headers: { 'Content-Type': 'application/x-protobuf', 'Content-Length': String(body.byteLength) }, ...(clientTls ? { tls: clientTls } : {}) });
      expect(sized.status).toBe(401);
    });

    it('OTLP/HTTP: the OTel SDK exporter with headers (and a CA for TLS) exports', async () => {
      const exporter = new ProtoTraceExporter({
        url: traces,
        headers: { Authorization: bearer(SECRETS.ingest) },
        ...(clientTls ? { httpAgentOptions: { ca: clientTls.ca } } : {}),
      });
      const sent = await runWorkload({ serviceName: `sdk-http-${mode}`, exporter, processor: 'batch' });
      expect(sent.results.every((r) => r.code === 0)).toBe(true);
      await daemon.service.store.flush();
      const trace = await request(`${api}/api/traces/${sent.traceIds[0]}`, { headers: { Authorization: bearer(SECRETS.read) }, ...(clientTls ? { tls: clientTls } : {}) });
      expect(trace.status).toBe(200);
    });

    it('API: /healthz and /readyz open; /api/* and /metrics need read; /api/audit needs admin', async () => {
      const get = (p: string, authorization?: string) => request(`${api}${p}`, { headers: authorization ? { Authorization: authorization } : {}, ...(clientTls ? { tls: clientTls } : {}) });
      expect((await get('/healthz')).status).toBe(200);
      expect((await get('/readyz')).status).toBe(200);
      for (const p of ['/api/services', '/metrics']) {
        const none = await get(p);
        expect(none.status, p).toBe(401);
        expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
        expect((await get(p, WRONG)).status, p).toBe(401);
        expect((await get(p, bearer(SECRETS.ingest))).status, p).toBe(403);
        expect((await get(p, bearer(SECRETS.read))).status, p).toBe(200);
        expect((await get(p, bearer(SECRETS.admin))).status, p).toBe(200);
      }
      // The OTLP refusals of the tests above are counted.
      const metrics = (await get('/metrics', bearer(SECRETS.read))).body.toString();
      expect(metrics).toMatch(/receiver_unauthorized_requests_total\{receiver="otlp",transport="http"\} [1-9]/);
      expect(metrics).toMatch(/receiver_unauthorized_requests_total\{receiver="otlp",transport="grpc"\} [1-9]/);
      expect((await get('/api/audit?since=1h')).status).toBe(401);
      expect((await get('/api/audit?since=1h', bearer(SECRETS.read))).status).toBe(403);
      const audit = await get('/api/audit?since=1h', bearer(SECRETS.admin));
      expect(audit.status).toBe(200);
      expect(audit.headers['content-type']).toMatch(/^application\/x-ndjson/);
    });

    it('/mcp: 401 without or with an unknown token, 403 for an ingest token; the MCP SDK client works with read and admin', async () => {
      const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
      const post = (authorization?: string) => request(`${api}/mcp`, {
        method: 'POST', body: init,
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...(authorization ? { Authorization: authorization } : {}) },
        ...(clientTls ? { tls: clientTls } : {}),
      });
      const none = await post();
      expect(none.status).toBe(401);
      expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
      expect((await post(WRONG)).status).toBe(401);
      expect((await post(bearer(SECRETS.ingest))).status).toBe(403);
      expect((await post(bearer(SECRETS.read))).status).toBe(200);

      const reader = await connectMcp(api, SECRETS.read, clientTls);
      try {
        const status = await reader.callTool({ name: 'get_status', arguments: {} });
        expect(status.isError).toBeFalsy();
        const audit = await reader.callTool({ name: 'audit_log', arguments: {} });
        expect(audit.isError).toBe(true);
        expect(JSON.stringify(audit.content)).toContain('needs an admin token');
      } finally {
        await reader.close();
      }
      const admin = await connectMcp(api, SECRETS.admin, clientTls);
      try {
        const audit = await admin.callTool({ name: 'audit_log', arguments: { window: '1h' } });
        expect(audit.isError, JSON.stringify(audit.content)).toBeFalsy();
        const calls = (audit.structuredContent as { calls: { identity: string; tool: string; outcome: string; role: string }[] }).calls;
        expect(calls).toEqual(expect.arrayContaining([
          expect.objectContaining({ identity: 'dashboard', role: 'read', tool: 'get_status', outcome: 'ok' }),
          expect.objectContaining({ identity: 'dashboard', role: 'read', tool: 'audit_log', outcome: 'refused' }),
        ]));
      } finally {
        await admin.close();
      }
    });
  });
}

async function connectMcp(api: string, secret: string, tls: ClientTls | undefined): Promise<Client> {
  const client = new Client({ name: 'auth-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${api}/mcp`), {
    requestInit: { headers: { Authorization: bearer(secret) } },
    ...(tls ? { fetch: fetchWithTls(tls) } : {}),
  }));
  return client;
}

describe('mTLS: listeners with a client CA', () => {
  let daemon: TestDaemon;
  beforeAll(async () => {
    daemon = await startAuthDaemon(true, true);
  });
  afterAll(async () => {
    await daemon?.stop();
  });

  it('refuse a client without a certificate on every listener and serve one with a certificate the CA signed', async () => {
    const withCert: ClientTls = { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey };
    const noCert: ClientTls = { ca: pki.ca };
    const body = encodeRequest('mtls', simpleSpans(1));
    const traces = daemon.tracesUrl.replace(/^http:/, 'https:');
    const api = daemon.apiUrl.replace(/^http:/, 'https:');

    const refused = await grpcExport(daemon.grpcTarget, body, bearer(SECRETS.ingest), noCert);
    expect(refused.code).toBe(grpc.status.UNAVAILABLE);
    expect((await grpcExport(daemon.grpcTarget, body, bearer(SECRETS.ingest), withCert)).code).toBe(0);

    const post = (t: ClientTls) => request(traces, { method: 'POST', body, headers: { 'Content-Type': 'application/x-protobuf', Authorization: bearer(SECRETS.ingest) }, tls: t });
    await expect(post(noCert)).rejects.toThrow();
    expect((await post(withCert)).status).toBe(200);

    const get = (t: ClientTls) => request(`${api}/api/services`, { headers: { Authorization: bearer(SECRETS.read) }, tls: t });
    await expect(get(noCert)).rejects.toThrow();
    expect((await get(withCert)).status).toBe(200);
    await expect(request(`${api}/healthz`, { tls: noCert })).rejects.toThrow();
  });
});

describe('TLS configuration errors', () => {
  it('a certificate file that cannot be read stops the start-up with the config path, before anything listens', async () => {
    const missing = path.join(tmp, 'no-such-cert.pem');
    await expect(startTestDaemon({ config: { api: { tls: { certFile: missing, keyFile: pki.serverKeyFile } } } as never }))
      .rejects.toThrow(`api.tls.certFile: cannot read ${missing}`);
  });
});
