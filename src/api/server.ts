import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { BadQueryError, type ApiReply, type ReadRoutes } from './read-routes.js';
import { closeServer, listen } from '../net/http-listen.js';
import { formatEndpoint, type Endpoint } from '../net/endpoint.js';
import { TimeRangeError } from './time-range.js';
import type { MetricsRoutes } from './metrics-routes.js';
import type { Authenticator } from '../net/auth.js';
import { createHttpServer, type AnyHttpServer, type TlsMaterial } from '../net/tls.js';
import type { AuditRoutes } from './audit-routes.js';

/** Self-telemetry in the Prometheus exposition format (telemetry/self-metrics.ts). */
export interface MetricsExposition {
  readonly contentType: string;
  render(): Promise<string>;
}

export interface Readiness {
  /** Empty when ready; otherwise why not (store down, ingest queue saturated, …). */
  problems(): string[];
}

/** Serves one path of the API port itself (e.g. the MCP Streamable HTTP endpoint). */
export interface PathHandler {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
}

/** TLS, tokens and the audit log route of the API port; each optional. */
export interface ApiAccess {
  tls?: TlsMaterial;
  /** /healthz and /readyz stay open for probes; /metrics and /api/* need read, /api/audit admin; /mcp checks itself. */
  authenticator?: Authenticator;
  audit?: AuditRoutes;
}

/** The API port: health and readiness probes, /metrics (self-telemetry), the JSON read API and MCP at /mcp. */
export class ApiServer {
  private server: AnyHttpServer | undefined;
  private readonly startedAt = Date.now();

  constructor(
    private readonly endpoint: Endpoint,
    private readonly routes: ReadRoutes,
    private readonly readiness: Readiness,
    private readonly logger: Logger,
    private readonly metrics?: MetricsRoutes,
    private readonly selfMetrics?: MetricsExposition,
    private readonly mcp?: PathHandler,
    private readonly access: ApiAccess = {},
  ) {}

  async start(): Promise<Endpoint> {
    const server = createHttpServer(this.access.tls, {}, (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.logger.error({ err }, 'API handler failed');
        if (!res.headersSent) json(res, 500, { error: 'internal error; see the spanlens log' });
      });
    });
    await listen(server, this.endpoint, 'the API');
    this.server = server;
    const bound = { host: this.endpoint.host, port: (server.address() as AddressInfo).port };
    this.logger.info({ tls: this.access.tls !== undefined, auth: this.access.authenticator?.enforced ?? false, endpoint: formatEndpoint(bound) }, 'API listening');
    return bound;
  }

  async shutdown(deadlineMs: number): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await closeServer(server, deadlineMs);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/mcp' && this.mcp) return this.mcp.handle(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return json(res, 405, { error: 'the read API only answers GET' });
    }
    const path = url.pathname;
    if (path === '/healthz') {
      return json(res, 200, { status: 'ok', upSince: new Date(this.startedAt).toISOString(), uptimeMs: Date.now() - this.startedAt });
    }
    if (path === '/readyz') {
      const problems = this.readiness.problems();
      return json(res, problems.length === 0 ? 200 : 503, { ready: problems.length === 0, problems });
    }
    const access = this.access.authenticator?.authorize(req.headers.authorization, path === '/api/audit' ? 'admin' : 'read');
    if (access !== undefined && !access.ok) {
      if (access.refusal === 'unauthenticated') res.setHeader('WWW-Authenticate', 'Bearer realm="spanlens"');
      return json(res, access.refusal === 'unauthenticated' ? 401 : 403, { error: access.message });
    }
    if (path === '/api/audit' && this.access.audit) {
      if (access !== undefined && access.principal.role !== 'admin') return json(res, 403, { error: `the audit log needs role admin; "${access.principal.name}" has role ${access.principal.role}` });
      try {
        const lines = await this.access.audit.jsonLines(url.searchParams);
        res.writeHead(200, { 'Content-Type': 'application/x-ndjson; charset=utf-8', 'Content-Length': Buffer.byteLength(lines) });
        res.end(req.method === 'HEAD' ? undefined : lines);
        return;
      } catch (err) {
        if (err instanceof BadQueryError || err instanceof TimeRangeError) return json(res, 400, { error: err.message });
        throw err;
      }
    }
    if (path === '/metrics' && this.selfMetrics) {
      const text = await this.selfMetrics.render();
      res.writeHead(200, { 'Content-Type': this.selfMetrics.contentType, 'Content-Length': Buffer.byteLength(text) });
      res.end(req.method === 'HEAD' ? undefined : text);
      return;
    }
    let reply: ApiReply;
    try {
      if (path === '/api/services') reply = await this.routes.services();
      else if (path === '/api/traces') reply = await this.routes.traces(url.searchParams);
      else if (path.startsWith('/api/traces/')) reply = await this.routes.trace(decodeURIComponent(path.slice(12)));
      else if (path === '/api/latency') reply = await this.routes.latencyStats(url.searchParams);
      else if (path === '/api/metrics' && this.metrics) reply = await this.metrics.list(url.searchParams);
      else if (path === '/api/metrics/query' && this.metrics) reply = await this.metrics.query(url.searchParams);
      else reply = { status: 404, body: { error: `no route ${path}`, routes: ROUTES } };
    } catch (err) {
      if (err instanceof BadQueryError || err instanceof TimeRangeError) {
        reply = { status: 400, body: { error: err.message } };
      } else throw err;
    }
    json(res, reply.status, reply.body);
  }
}

const ROUTES = ['/mcp', '/healthz', '/readyz', '/metrics', '/api/services', '/api/traces', '/api/traces/{traceId}', '/api/latency', '/api/metrics', '/api/metrics/query', '/api/audit'];

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
