import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { MetricsConsumer, TracesConsumer } from '../../pipeline/consumer.js';
import type { OtlpEncoding } from '../../model/otlp.js';
import { encodeExportResponse, encodeRpcStatus } from '../../codec/responses.js';
import type { IngestCounters } from '../../telemetry/ingest-counters.js';
import { readRequestBody } from './body.js';
import { formatEndpoint, type Endpoint } from '../../net/endpoint.js';
import { closeServer, listen } from '../../net/http-listen.js';
import { authWireError, retryAfterSeconds, toWireError } from './status.js';
import type { Authenticator } from '../../net/auth.js';
import { createHttpServer, type AnyHttpServer, type TlsMaterial } from '../../net/tls.js';

export interface OtlpHttpSettings {
  endpoint: Endpoint;
  maxRequestBytes: number;
  tracesPath: string;
  /** Served only when a metrics consumer is given. */
  metricsPath?: string;
  /**
   * The refusal an export would get now (ingest limiter: queue full, memory above its soft limit),
   * asked before the body is read so that a refused body is drained instead of buffered.
   */
  admission?: () => Error | undefined;
  /** HTTPS (and mTLS with a client CA) instead of plain HTTP. */
  tls?: TlsMaterial;
  /** Checks the Authorization header of every export; absent: no checks. */
  authenticator?: Authenticator;
}

const CONTENT_TYPES: Record<OtlpEncoding, string> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
};

// Texts as the Collector sends them for these two cases (plain text, not a Status body).
const METHOD_NOT_ALLOWED = '405 method not allowed, supported: [POST]';
const UNSUPPORTED_MEDIA = '415 unsupported media type, supported: [application/json, application/x-protobuf]';

function encodingOf(contentType: string | undefined): OtlpEncoding | null {
  const media = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (media === 'application/x-protobuf') return 'protobuf';
  if (media === 'application/json') return 'json';
  return null;
}

export class OtlpHttpReceiver {
  private server: AnyHttpServer | undefined;
  private bound: Endpoint | undefined;

  constructor(
    private readonly settings: OtlpHttpSettings,
    private readonly traces: TracesConsumer,
    private readonly counters: IngestCounters,
    private readonly logger: Logger,
    private readonly metrics?: MetricsConsumer,
  ) {}

  get address(): Endpoint | undefined {
    return this.bound;
  }

  async start(): Promise<Endpoint> {
    const server = createHttpServer(this.settings.tls, { keepAliveTimeout: 30_000 }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => this.logger.error({ err }, 'OTLP/HTTP handler failed'));
    });
    await listen(server, this.settings.endpoint, 'OTLP/HTTP');
    this.server = server;
    this.bound = { host: this.settings.endpoint.host, port: (server.address() as AddressInfo).port };
    this.logger.info({ tls: this.settings.tls !== undefined, auth: this.settings.authenticator?.enforced ?? false, endpoint: formatEndpoint(this.bound) }, 'OTLP/HTTP receiver listening');
    return this.bound;
  }

  async shutdown(deadlineMs: number): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await closeServer(server, deadlineMs);
    this.logger.info('OTLP/HTTP receiver stopped');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const isMetrics = this.metrics !== undefined && path === this.settings.metricsPath;
    if (path !== this.settings.tracesPath && !isMetrics) {
      sendText(res, 404, '404 page not found');
      req.resume();
      return;
    }
    // Credentials before anything else: an unauthenticated client learns nothing about the payload it sent.
    const access = this.settings.authenticator?.authorize(req.headers.authorization, 'ingest');
    if (access !== undefined && !access.ok) {
      const wire = authWireError(access.refusal, access.message);
      const encoding = encodingOf(req.headers['content-type']) ?? 'protobuf';
      if (wire.httpStatus === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="spanlens-otlp"');
      this.counters.unauthorized('http');
      // Drain a small declared body to keep the connection; never read an unbounded one for a stranger.
      const declared = Number(req.headers['content-length']);
      const drain = Number.isFinite(declared) && declared <= this.settings.maxRequestBytes;
      if (!drain) res.setHeader('Connection', 'close');
      send(res, wire.httpStatus, encoding, encodeRpcStatus(encoding, wire.grpcCode, wire.message));
      if (drain) req.resume();
      else res.once('finish', () => req.destroy());
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      sendText(res, 405, METHOD_NOT_ALLOWED);
      req.resume();
      return;
    }
    const encoding = encodingOf(req.headers['content-type']);
    if (encoding === null) {
      sendText(res, 415, UNSUPPORTED_MEDIA);
      req.resume();
      return;
    }
    const early = this.settings.admission?.();
    if (early) {
      const wire = toWireError(early);
      if (isMetrics) this.counters.failedMetrics('http', true);
      else this.counters.failed('http', true);
      if (wire.retryAfterMs !== undefined) res.setHeader('Retry-After', retryAfterSeconds(wire.retryAfterMs));
      // Drain rather than destroy: the client then reads the 503 instead of a reset, and the body's bytes
      // pass through without being kept.
      req.resume();
      send(res, wire.httpStatus, encoding, encodeRpcStatus(encoding, wire.grpcCode, wire.message));
      return;
    }
    try {
      const body = await readRequestBody(req, this.settings.maxRequestBytes);
      if (isMetrics) {
        const outcome = await (this.metrics as MetricsConsumer).consumeMetrics({ encoding, body });
        this.counters.acceptedMetrics('http', outcome.accepted, outcome.rejected);
        send(res, 200, encoding, encodeExportResponse(encoding, outcome.rejected, outcome.message, 'rejectedDataPoints'));
        return;
      }
      const outcome = await this.traces.consumeTraces({ encoding, body });
      this.counters.accepted('http', outcome.accepted, outcome.rejected);
      send(res, 200, encoding, encodeExportResponse(encoding, outcome.rejected, outcome.message));
    } catch (err) {
      const wire = toWireError(err);
      if (isMetrics) this.counters.failedMetrics('http', wire.retryAfterMs !== undefined);
      else this.counters.failed('http', wire.retryAfterMs !== undefined);
      if (wire.retryAfterMs !== undefined) res.setHeader('Retry-After', retryAfterSeconds(wire.retryAfterMs));
      if (!req.complete) {
        // The body was not read to the end (e.g. too large): do not keep a half-read connection alive.
        res.setHeader('Connection', 'close');
      }
      send(res, wire.httpStatus, encoding, encodeRpcStatus(encoding, wire.grpcCode, wire.message));
      if (!req.complete) req.destroy();
    }
  }
}

function send(res: ServerResponse, status: number, encoding: OtlpEncoding, body: Uint8Array): void {
  res.writeHead(status, { 'Content-Type': CONTENT_TYPES[encoding], 'Content-Length': body.byteLength });
  res.end(body);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}
