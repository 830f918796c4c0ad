import path from 'node:path';
import type { Logger } from 'pino';
import type { SpanlensConfig } from './config/schema.js';
import { formatEndpoint, parseEndpoint, type Endpoint } from './net/endpoint.js';
import { IngestCounters } from './telemetry/ingest-counters.js';
import { IngestLimiter } from './processing/limiter.js';
import { SqliteSpanStore } from './store/sqlite/span-store.js';
import { SqliteSpanReader } from './store/sqlite/span-reader.js';
import { SqliteLatencyTimeline } from './store/sqlite/latency-timeline.js';
import { openReaderDb } from './store/sqlite/open.js';
import { OtlpGrpcReceiver } from './receivers/otlp/grpc.js';
import { OtlpHttpReceiver } from './receivers/otlp/http.js';
import { ReadRoutes } from './api/read-routes.js';
import { ApiServer } from './api/server.js';
import { PrometheusScrapeReceiver } from './receivers/prometheus/scraper.js';
import { SelfMetrics } from './telemetry/self-metrics.js';
import { WritableProbe } from './telemetry/data-dir.js';
import { MetricsRoutes } from './api/metrics-routes.js';
import { SqliteMetricReader } from './store/sqlite/metric-reader.js';
import { readFileSync } from 'node:fs';
import { createMcpServer } from './mcp/server.js';
import { McpHttpHandler } from './mcp/transports/http.js';
import type { Caller, McpDeps, StatusSnapshot } from './mcp/deps.js';
import type { McpServer } from './mcp/server.js';
import { SqliteAlertStore } from './store/sqlite/alert-store.js';
import { AlertEngine } from './alerting/engine.js';
import { sloBurnSource } from './alerting/slo-burn-source.js';
import { SqliteSloCatalog, type SloValidator } from './store/sqlite/slo-store.js';
import { SqliteSloReader } from './store/sqlite/slo-reader.js';
import { parseSloDefinition, sloToConfigShape } from './config/slo-schema.js';
import type { SloEventSources } from './analysis/slo-events.js';
import { memoryBudget, MemoryWatch } from './processing/memory-guard.js';
import { resolveTokens } from './config/auth-secrets.js';
import { listenerAuthenticators } from './access-policy.js';
import { loadTlsMaterial, type TlsFiles, type TlsMaterial } from './net/tls.js';
import { SqliteAuditStore } from './store/sqlite/audit-store.js';
import { auditEntryOf } from './mcp/audit-entry.js';
import { AuditRoutes } from './api/audit-routes.js';

export interface BoundAddresses {
  otlpGrpc?: Endpoint;
  otlpHttp?: Endpoint;
  api: Endpoint;
}

/** What the composition root passes besides the config. */
export interface SpanlensRuntime {
  /** Where `env:` token secrets are looked up (main.ts passes process.env). */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface Spanlens {
  readonly addresses: BoundAddresses;
  readonly store: SqliteSpanStore;
  readonly reader: SqliteSpanReader;
  readonly metricReader: SqliteMetricReader;
  readonly counters: IngestCounters;
  readonly limiter: IngestLimiter;
  /** Present when scrape targets are configured. */
  readonly scraper: PrometheusScrapeReceiver | undefined;
  readonly selfMetrics: SelfMetrics;
  /** Alert rules, states and notifications (config alerting:, MCP alerts / manage_alert_rule). */
  readonly alerts: AlertEngine;
  /** A new MCP server over this daemon's store (for stdio; HTTP makes one per request at /mcp). */
  createMcpServer(caller?: Caller): McpServer;
  /** Idempotent: stop accepting, drain in-flight exports, flush and close the store. */
  shutdown(): Promise<void>;
  /** SLO definitions and their event sources (slo_status; the alert engine's SLO burn-rate rules). */
  readonly slos: { catalog: SqliteSloCatalog; events: SloEventSources };
}

/**
 * Builds and starts every component: downstream first (store → reader → API → receivers), so nothing
 * is accepted before it can be stored; shutdown runs in the opposite order. If any start fails, what
 * already started is stopped again before the error propagates.
 */
export async function startSpanlens(config: SpanlensConfig, logger: Logger, runtime: SpanlensRuntime = {}): Promise<Spanlens> {
  // Credentials and certificates first: a daemon that would listen unprotected off loopback, or whose
  // secrets or certificate files are missing, must not start anything.
  const secrets = resolveTokens(config, runtime.env ?? {});
  for (const warning of secrets.warnings) logger.warn(warning);
  const auth = listenerAuthenticators(config, secrets.tokens);
  const tlsOf = (files: TlsFiles | undefined, where: string): { tls?: TlsMaterial } => (files === undefined ? {} : { tls: loadTlsMaterial(files, where) });
  const tls = {
    grpc: tlsOf(config.receivers.otlp.grpc.tls, 'receivers.otlp.grpc.tls'),
    http: tlsOf(config.receivers.otlp.http.tls, 'receivers.otlp.http.tls'),
    api: tlsOf(config.api.tls, 'api.tls'),
  };
  const dataDir = path.resolve(config.storage.dataDir);
  const otlp = config.receivers.otlp;
  const counters = new IngestCounters();
  const budget = memoryBudget(config.limits.memory, { maxInflightBytes: config.ingest.maxInflightSize, maxRequestBytes: otlp.maxRequestSize });
  const store = new SqliteSpanStore(
    {
      dataDir,
      writer: {
        dedupWindowSpans: config.storage.dedupWindowSpans,
        latency: { maxSeries: config.latency.maxSeries, staleSeriesMs: config.latency.staleSeriesAfter },
      },
      retention: {
        maxAgeMs: config.storage.retention.maxAge,
        maxBytes: config.storage.retention.maxSize,
        latencyMinutesMaxAgeMs: config.storage.retention.latencyMinutesMaxAge,
        latencyHoursMaxAgeMs: config.storage.retention.latencyHoursMaxAge,
        batchRows: 5_000,
      },
      maxBatchSpans: config.storage.maxBatchSpans,
      ...(config.storage.maxPages !== undefined ? { maxPages: config.storage.maxPages } : {}),
      cacheKiB: budget.writerCacheKiB,
      metrics: { maxSeries: config.metrics.maxSeries, maxBatchPoints: config.metrics.maxBatchPoints },
      latencyFlushIntervalMs: config.latency.flushInterval,
      checkpointIntervalMs: config.storage.checkpointInterval,
      retentionIntervalMs: config.storage.retention.checkInterval,
      redaction: config.redaction,
    },
    logger.child({ component: 'store/sqlite' }),
  );
  const memoryWatch = new MemoryWatch(budget);
  memoryWatch.start();
  const limiter = new IngestLimiter(
    store,
    {
      maxInflightBytes: budget.maxInflightBytes,
      maxInflightRequests: config.ingest.maxInflightRequests,
      retryAfterMs: config.ingest.retryAfter,
    },
    memoryWatch,
  );

  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
    memoryWatch.stop();
    for (const stop of stops.reverse().splice(0)) {
      try {
        await stop();
      } catch (err) {
        logger.error({ err }, 'error during shutdown');
      }
    }
  };
  const deadline = config.shutdown.timeout;

  try {
    await store.start();
    stops.push(() => store.shutdown());
    const reader = new SqliteSpanReader(openReaderDb(dataDir, budget.readerCacheKiB));
    stops.push(async () => reader.close());
    const metricReader = new SqliteMetricReader(openReaderDb(dataDir, budget.readerCacheKiB));
    stops.push(async () => metricReader.close());
    const timeline = new SqliteLatencyTimeline(openReaderDb(dataDir));
    stops.push(async () => timeline.close());
    const sloCatalog = new SqliteSloCatalog(dataDir, validateSlo);
    stops.push(async () => sloCatalog.close());
    sloCatalog.syncConfig(config.slos.map(sloToConfigShape), Date.now());
    const sloReaderDb = openReaderDb(dataDir);
    stops.push(async () => {
      sloReaderDb.close();
    });
    const slos = {
      catalog: sloCatalog,
      events: { reader: new SqliteSloReader(sloReaderDb), metrics: metricReader, minuteRetentionMs: config.storage.retention.latencyMinutesMaxAge },
    };

    const writable = new WritableProbe(dataDir);
    const readiness = {
      problems: (): string[] => {
        const problems: string[] = [];
        if (!store.healthy) problems.push('span store is not running');
        if (store.lastWriteError) problems.push(`span store cannot write: ${store.lastWriteError}`);
        const unwritable = writable.check();
        if (unwritable) problems.push(unwritable);
        if (limiter.saturated) problems.push('ingest queue is full');
        const memory = limiter.memoryProblem();
        if (memory) problems.push(memory);
        return problems;
      },
    };
    const scraper =
      config.scrape.targets.length === 0
        ? undefined
        : new PrometheusScrapeReceiver(
            {
              targets: config.scrape.targets.map((t) => ({ url: t.url, intervalMs: t.interval, timeoutMs: t.timeout, job: t.job })),
              maxBodyBytes: config.scrape.maxBodySize,
            },
            limiter,
            logger.child({ component: 'receiver/prometheus' }),
          );
    const selfMetrics = new SelfMetrics({
      counters,
      queue: () => ({ ...limiter.stats(), saturated: limiter.saturated }),
      store: async () => {
        const stats = await store.stats();
        if (!stats) return undefined;
        return {
          liveBytes: stats.liveBytes,
          latencySeries: stats.activeLatencySeries,
          retentionDeletedSpans: stats.retentionDeletedSpans,
          ...(stats.metricSeries !== undefined ? { metricSeries: stats.metricSeries } : {}),
          ...(stats.retentionDeletedMetricPoints !== undefined ? { retentionDeletedPoints: stats.retentionDeletedMetricPoints } : {}),
          ...(stats.redactions !== undefined ? { redactions: stats.redactions } : {}),
        };
      },
      dataDir,
      scrapeTargets: () => scraper?.status() ?? [],
    });
    let audit: SqliteAuditStore | undefined;
    if (config.audit.enabled) {
      const auditStore = new SqliteAuditStore(
        dataDir,
        { maxAgeMs: config.audit.maxAge, maxRows: config.audit.maxRows, flushIntervalMs: config.audit.flushInterval },
        logger.child({ component: 'store/audit' }),
      );
      audit = auditStore;
      stops.push(() => auditStore.shutdown());
    }
    const startedAt = Date.now();
    const addresses: BoundAddresses = { api: { host: '', port: 0 } };
    const alertStore = new SqliteAlertStore(dataDir);
    stops.push(async () => alertStore.close());
    const alerts = new AlertEngine(
      {
        intervalMs: config.alerting.interval,
        historyRetentionMs: config.alerting.historyRetention,
        externalUrl: () => config.alerting.externalUrl ?? `http://${formatEndpoint(addresses.api)}`,
        receivers: config.alerting.receivers,
        rules: config.alerting.rules,
      },
      alertStore,
      { latency: reader, metrics: metricReader, slo: sloBurnSource(slos.catalog, slos.events) },
      logger.child({ component: 'alerting' }),
    );
    alerts.load();
    stops.push(() => alerts.shutdown());
    const mcpDeps: Omit<McpDeps, 'caller'> = {
      spans: reader,
      latency: reader,
      metrics: metricReader,
      now: Date.now,
      limits: {
        defaultBytes: Math.min(config.mcp.defaultResponseSize, config.mcp.maxResponseSize),
        hardCapBytes: config.mcp.maxResponseSize,
        maxAnalysisTraces: config.mcp.maxAnalysisTraces,
        queryTimeoutMs: config.mcp.queryTimeout,
      },
      alerts,
      timeline,
      slos,
      status: async () => ({
        ...(await statusSnapshot(config, store, counters, addresses, startedAt)),
        problems: readiness.problems(),
        memory: { rssBytes: memoryWatch.stats().rssBytes, limitBytes: budget.limitBytes },
      }),
      ...(audit !== undefined ? { audit, onToolCall: (call) => audit.append(auditEntryOf(call, Date.now())) } : {}),
    };
    const newMcpServer = (caller?: Caller): McpServer => createMcpServer(mcpDeps, VERSION, caller);
    const apiEndpoint = parseEndpoint(config.api.endpoint);
    const api = new ApiServer(
      apiEndpoint,
      new ReadRoutes(reader, reader, Date.now),
      readiness,
      logger.child({ component: 'api' }),
      new MetricsRoutes(metricReader, Date.now),
      selfMetrics,
      new McpHttpHandler(newMcpServer, { bindHost: apiEndpoint.host, allowedHosts: config.mcp.allowedHosts, authenticator: auth.api, allowWrites: config.mcp.allowWrites }, logger.child({ component: 'mcp/http' })),
      { authenticator: auth.api, ...tls.api, ...(audit !== undefined ? { audit: new AuditRoutes(audit, Date.now) } : {}) },
    );
    addresses.api = await api.start();
    stops.push(() => api.shutdown(deadline));

    if (otlp.grpc.enabled) {
      const grpc = new OtlpGrpcReceiver(
        { endpoint: parseEndpoint(otlp.grpc.endpoint), maxRequestBytes: budget.maxRequestBytes, authenticator: auth.otlpGrpc, ...tls.grpc },
        limiter,
        counters,
        logger.child({ component: 'receiver/otlp-grpc' }),
        limiter,
      );
      addresses.otlpGrpc = await grpc.start();
      stops.push(() => grpc.shutdown(deadline));
    }
    if (otlp.http.enabled) {
      const http = new OtlpHttpReceiver(
        {
          endpoint: parseEndpoint(otlp.http.endpoint),
          maxRequestBytes: budget.maxRequestBytes,
          tracesPath: otlp.http.tracesPath,
          metricsPath: otlp.http.metricsPath,
          admission: () => limiter.refusal(),
          authenticator: auth.otlpHttp,
          ...tls.http,
        },
        limiter,
        counters,
        logger.child({ component: 'receiver/otlp-http' }),
        limiter,
      );
      addresses.otlpHttp = await http.start();
      stops.push(() => http.shutdown(deadline));
    }
    if (scraper) {
      scraper.start();
      stops.push(() => scraper.shutdown());
    }
    alerts.start();
    logger.info({ dataDir }, 'spanlens started');

    let stopping: Promise<void> | undefined;
    return {
      addresses,
      store,
      reader,
      metricReader,
      counters,
      limiter,
      scraper,
      selfMetrics,
      alerts,
      createMcpServer: newMcpServer,
      slos,
      shutdown: () => (stopping ??= stopAll().then(() => logger.info('spanlens stopped'))),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

const validateSlo: SloValidator = (raw) => {
  const parsed = parseSloDefinition(raw);
  return parsed.ok ? { ok: true, value: parsed.value, canonical: sloToConfigShape(parsed.value) } : parsed;
};

const VERSION = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

async function statusSnapshot(
  config: SpanlensConfig,
  store: SqliteSpanStore,
  counters: IngestCounters,
  addresses: BoundAddresses,
  startedAt: number,
): Promise<StatusSnapshot> {
  const stats = store.healthy ? await store.stats().catch(() => undefined) : undefined;
  const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
  const scheme = (tls: unknown): string => (tls === undefined ? 'http' : 'https');
  const endpoints: Record<string, string> = { api: formatEndpoint(addresses.api), mcp_http: `${scheme(config.api.tls)}://${formatEndpoint(addresses.api)}/mcp` };
  if (addresses.otlpGrpc) endpoints['otlp_grpc'] = formatEndpoint(addresses.otlpGrpc);
  if (addresses.otlpHttp) endpoints['otlp_http'] = `${scheme(config.receivers.otlp.http.tls)}://${formatEndpoint(addresses.otlpHttp)}${config.receivers.otlp.http.tracesPath}`;
  const days = (ms: number): string => (ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : `${Math.round(ms / 3_600_000)}h`);
  return {
    version: VERSION,
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    ingest: {
      acceptedSpans: sum(counters.acceptedSpans),
      refusedSpans: sum(counters.refusedSpans),
      failedRequests: sum(counters.failedRequests),
      invalidRequests: sum(counters.invalidRequests),
    },
    store: {
      healthy: store.healthy,
      liveBytes: stats?.liveBytes ?? null,
      activeLatencySeries: stats?.activeLatencySeries ?? null,
      retentionDeletedSpans: stats?.retentionDeletedSpans ?? null,
    },
    retention: {
      spansMaxAge: days(config.storage.retention.maxAge),
      latencyMinutesMaxAge: days(config.storage.retention.latencyMinutesMaxAge),
      latencyHoursMaxAge: days(config.storage.retention.latencyHoursMaxAge),
    },
    endpoints,
  };
}
