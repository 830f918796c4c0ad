import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { BadQueryError, type ApiReply, type ReadRoutes } from './read-routes.js';
import { closeServer, listen } from '../net/http-listen.js';
import { formatEndpoint, type Endpoint } from '../net/endpoint.js';
import { TimeRangeError } from './time-range.js';
import type { MetricsRoutes } from './metrics-routes.js';

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

/** The API port: health and readiness probes, /metrics (self-telemetry), the JSON read API and MCP at /mcp. */
export class ApiServer {
  private server: http.Server | undefined;
  private readonly startedAt = Date.now();

  constructor(
    private readonly endpoint: Endpoint,
    private readonly routes: ReadRoutes,
    private readonly readiness: Readiness,
    private readonly logger: Logger,
    private readonly metrics?: MetricsRoutes,
    private readonly selfMetrics?: MetricsExposition,
    private readonly mcp?: PathHandler,
  ) {}

  async start(): Promise<Endpoint> {
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        this.logger.error({ err }, 'API handler failed');
        if (!res.headersSent) json(res, 500, { error: 'internal error; see the spanlens log' });
      });
    });
    await listen(server, this.endpoint, 'the API');
    this.server = server;
    const bound = { host: this.endpoint.host, port: (server.address() as AddressInfo).port };
    this.logger.info({ endpoint: formatEndpoint(bound) }, 'API listening');
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

const ROUTES = ['/mcp', '/healthz', '/readyz', '/metrics', '/api/services', '/api/traces', '/api/traces/{traceId}', '/api/latency', '/api/metrics', '/api/metrics/query'];

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
