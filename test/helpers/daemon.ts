import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { configSchema, type SpanlensConfigInput } from '../../src/config/schema.js';
import { startSpanlens, type Spanlens } from '../../src/service.js';

/** Partial config input: any subset of the schema, deep-merged over the test defaults. */
export type ConfigOverrides = { [K in keyof SpanlensConfigInput]?: DeepPartial<SpanlensConfigInput[K]> };
type DeepPartial<T> = T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

export interface TestDaemonOptions {
  config?: ConfigOverrides;
  /** Reuse a data directory (restart tests); it is then not removed by stop(). */
  dataDir?: string;
  /** Environment for `env:` token secrets. */
  env?: Record<string, string>;
}

export interface TestDaemon {
  service: Spanlens;
  /** host:port, as gRPC clients take it. */
  grpcTarget: string;
  /** http://host:port, as the OTel gRPC exporter takes it. */
  grpcUrl: string;
  /** http://host:port of the OTLP/HTTP receiver (no path). */
  httpUrl: string;
  /** Full URL of the OTLP/HTTP traces endpoint. */
  tracesUrl: string;
  apiUrl: string;
  dataDir: string;
  /** Idempotent: shuts the daemon down and removes the data dir if this helper created it. */
  stop(): Promise<void>;
}

export function makeTempDir(prefix = 'spanlens-it-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/**
 * Starts a real daemon in-process on loopback port 0 with its own temp data dir. The schema is parsed
 * directly (not via loadConfig) so tests can set any field, e.g. tiny ingest limits.
 * SPANLENS_TEST_LOG=debug shows the daemon's log when a test needs investigating.
 */
export async function startTestDaemon(options: TestDaemonOptions = {}): Promise<TestDaemon> {
  const ownsDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? makeTempDir();
  const base: Record<string, unknown> = {
    receivers: { otlp: { grpc: { endpoint: '127.0.0.1:0' }, http: { endpoint: '127.0.0.1:0' } } },
    api: { endpoint: '127.0.0.1:0' },
    storage: { dataDir },
    log: { level: 'silent' },
    shutdown: { timeout: '5s' },
    // In-process daemons share the test runner's RSS, which the memory guard would read as their own;
    // the memory limit is tested with a daemon in its own process (test/reliability/).
    limits: { memory: '16GiB' },
  };
  const config = configSchema.parse(deepMerge(base, (options.config ?? {}) as Record<string, unknown>));
  const level = process.env['SPANLENS_TEST_LOG'] ?? 'silent';
  const logger = pino({ level, base: { test: true } }, pino.destination({ fd: 2, sync: true }));
  let service: Spanlens;
  try {
    service = await startSpanlens(config, logger, { env: options.env ?? {} });
  } catch (err) {
    if (ownsDir) removeDir(dataDir);
    throw err;
  }
  const { otlpGrpc, otlpHttp, api } = service.addresses;
  const grpcTarget = otlpGrpc ? `127.0.0.1:${otlpGrpc.port}` : '';
  const httpUrl = otlpHttp ? `http://127.0.0.1:${otlpHttp.port}` : '';
  let stopped: Promise<void> | undefined;
  return {
    service,
    grpcTarget,
    grpcUrl: grpcTarget ? `http://${grpcTarget}` : '',
    httpUrl,
    tracesUrl: `${httpUrl}${config.receivers.otlp.http.tracesPath}`,
    apiUrl: `http://127.0.0.1:${api.port}`,
    dataDir,
    stop: () =>
      (stopped ??= service.shutdown().finally(() => {
        if (ownsDir) removeDir(dataDir);
      })),
  };
}

export interface JsonReply<T> {
  status: number;
  body: T;
}

/** GET a read-API URL; the body is parsed as JSON whatever the status. */
export async function getJson<T = Record<string, unknown>>(url: string): Promise<JsonReply<T>> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as T };
}

/** GET that must answer 200. */
export async function getOk<T = Record<string, unknown>>(url: string): Promise<T> {
  const reply = await getJson<T>(url);
  if (reply.status !== 200) throw new Error(`GET ${url} → ${reply.status}: ${JSON.stringify(reply.body)}`);
  return reply.body;
}

/** The read API's OTLP/JSON rendering, as far as tests look at it. */
export interface OtlpJsonKeyValue {
  key: string;
  value: Record<string, unknown>;
}
export interface OtlpJsonSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  flags?: number;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: OtlpJsonKeyValue[];
  events?: Record<string, unknown>[];
  links?: Record<string, unknown>[];
  status: { code?: number; message?: string };
  [key: string]: unknown;
}
export interface OtlpJsonTrace {
  resourceSpans: {
    resource?: { attributes?: OtlpJsonKeyValue[] };
    schemaUrl?: string;
    scopeSpans: { scope?: { name?: string; version?: string }; schemaUrl?: string; spans: OtlpJsonSpan[] }[];
  }[];
}

/** Every span of a trace read back through GET /api/traces/{id}, with its resource and scope; null on 404. */
export async function readTrace(
  apiUrl: string,
  traceId: string,
): Promise<{ span: OtlpJsonSpan; resource: OtlpJsonTrace['resourceSpans'][number]; scope: OtlpJsonTrace['resourceSpans'][number]['scopeSpans'][number] }[] | null> {
  const reply = await getJson<OtlpJsonTrace>(`${apiUrl}/api/traces/${traceId}`);
  if (reply.status === 404) return null;
  if (reply.status !== 200) throw new Error(`GET trace ${traceId} → ${reply.status}: ${JSON.stringify(reply.body)}`);
  return reply.body.resourceSpans.flatMap((resource) =>
    resource.scopeSpans.flatMap((scope) => scope.spans.map((span) => ({ span, resource, scope }))),
  );
}
