import path from 'node:path';
import type { Logger } from 'pino';
import type { SpanlensConfig } from './config/schema.js';
import { parseEndpoint, type Endpoint } from './net/endpoint.js';
import { IngestCounters } from './telemetry/ingest-counters.js';
import { IngestLimiter } from './processing/limiter.js';
import { SqliteSpanStore } from './store/sqlite/span-store.js';
import { SqliteSpanReader } from './store/sqlite/span-reader.js';
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

export interface BoundAddresses {
  otlpGrpc?: Endpoint;
  otlpHttp?: Endpoint;
  api: Endpoint;
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
  /** Idempotent: stop accepting, drain in-flight exports, flush and close the store. */
  shutdown(): Promise<void>;
}

/**
 * Builds and starts every component: downstream first (store → reader → API → receivers), so nothing
 * is accepted before it can be stored; shutdown runs in the opposite order. If any start fails, what
 * already started is stopped again before the error propagates.
 */
export async function startSpanlens(config: SpanlensConfig, logger: Logger): Promise<Spanlens> {
  const dataDir = path.resolve(config.storage.dataDir);
  const otlp = config.receivers.otlp;
  const counters = new IngestCounters();
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
      metrics: { maxSeries: config.metrics.maxSeries, maxBatchPoints: config.metrics.maxBatchPoints },
      latencyFlushIntervalMs: config.latency.flushInterval,
      retentionIntervalMs: config.storage.retention.checkInterval,
    },
    logger.child({ component: 'store/sqlite' }),
  );
  const limiter = new IngestLimiter(store, {
    maxInflightBytes: config.ingest.maxInflightSize,
    maxInflightRequests: config.ingest.maxInflightRequests,
    retryAfterMs: config.ingest.retryAfter,
  });

  const stops: (() => Promise<void>)[] = [];
  const stopAll = async (): Promise<void> => {
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
    const reader = new SqliteSpanReader(openReaderDb(dataDir));
    stops.push(async () => reader.close());
    const metricReader = new SqliteMetricReader(openReaderDb(dataDir));
    stops.push(async () => metricReader.close());

    const writable = new WritableProbe(dataDir);
    const readiness = {
      problems: (): string[] => {
        const problems: string[] = [];
        if (!store.healthy) problems.push('span store is not running');
        if (store.lastWriteError) problems.push(`span store cannot write: ${store.lastWriteError}`);
        const unwritable = writable.check();
        if (unwritable) problems.push(unwritable);
        if (limiter.saturated) problems.push('ingest queue is full');
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
        };
      },
      dataDir,
      scrapeTargets: () => scraper?.status() ?? [],
    });
    const api = new ApiServer(
      parseEndpoint(config.api.endpoint),
      new ReadRoutes(reader, reader, Date.now),
      readiness,
      logger.child({ component: 'api' }),
      new MetricsRoutes(metricReader, Date.now),
      selfMetrics,
    );
    const addresses: BoundAddresses = { api: await api.start() };
    stops.push(() => api.shutdown(deadline));

    if (otlp.grpc.enabled) {
      const grpc = new OtlpGrpcReceiver(
        { endpoint: parseEndpoint(otlp.grpc.endpoint), maxRequestBytes: otlp.maxRequestSize },
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
          maxRequestBytes: otlp.maxRequestSize,
          tracesPath: otlp.http.tracesPath,
          metricsPath: otlp.http.metricsPath,
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
      shutdown: () => (stopping ??= stopAll().then(() => logger.info('spanlens stopped'))),
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

