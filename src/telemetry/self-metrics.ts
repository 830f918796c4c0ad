import client from 'prom-client';
import { dataDirBytes } from './data-dir.js';
import type { IngestCounters } from './ingest-counters.js';

export interface QueueStats {
  inflightRequests: number;
  maxInflightRequests: number;
  inflightBytes: number;
  maxInflightBytes: number;
  saturated: boolean;
  refused: number;
}

/** What the store reports; fields it cannot give yet are left out (their metric is then not exposed). */
export interface StoreStats {
  liveBytes?: number;
  latencySeries?: number;
  metricSeries?: number;
  retentionDeletedSpans?: number;
  retentionDeletedPoints?: number;
  /** Values redacted at ingest by kind (key, email, card, bearer, jwt, db_statement, url_query, custom). */
  redactions?: Record<string, number>;
}

/** One scrape target's results, as the Prometheus scrape receiver reports them. */
export interface ScrapeTargetStats {
  job: string;
  instance: string;
  up: boolean;
  lastDurationSeconds: number;
  lastSamples: number;
  successes: number;
  failures: number;
  acceptedPoints: number;
  refusedPoints: number;
  failedPoints: number;
  droppedPoints: number;
}

export interface SelfMetricsSources {
  counters: IngestCounters;
  queue(): QueueStats;
  /** May reject or resolve undefined while the store is down: the last values are shown then. */
  store(): Promise<StoreStats | undefined>;
  dataDir: string;
  scrapeTargets(): ScrapeTargetStats[];
}

type Row = [Record<string, string>, number];
const TRANSPORTS = ['grpc', 'http'] as const;

/**
 * spanlens's own metrics in the Prometheus exposition format (served on the API port's /metrics).
 * Receiver outcomes use the Collector's receiver metric names (`otelcol_receiver_accepted_spans` without
 * the `otelcol_` prefix; `_total` is the Prometheus counter suffix the Collector's exposition adds too),
 * labelled by receiver and transport. Values are read from the live components at scrape time, so
 * nothing is double-counted and nothing runs between scrapes. prom-client supplies the exposition
 * writer and the standard process_* / nodejs_* metrics.
 */
export class SelfMetrics {
  readonly registry = new client.Registry();
  private store: StoreStats = {};
  private diskBytes = 0;
  private queue: QueueStats | undefined;

  constructor(private readonly sources: SelfMetricsSources) {
    const r = this.registry;
    client.collectDefaultMetrics({ register: r });
    // prom-client names three gauges with a counter's _total suffix, which `promtool check metrics` rejects;
    // the per-type nodejs_active_handles/requests/resources gauges it also exposes carry the same data.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) r.removeSingleMetric(name);
    const c = sources.counters;
    const field = (name: string): Partial<Record<string, number>> | undefined =>
      (c as unknown as Record<string, Partial<Record<string, number>> | undefined>)[name];
    const otlp = (...names: string[]): Row[] =>
      TRANSPORTS.map((t) => [{ receiver: 'otlp', transport: t }, names.map(field).find((f) => f !== undefined)?.[t] ?? 0]);
    const scrape = (pick: (s: ScrapeTargetStats) => number): Row[] => [
      [{ receiver: 'prometheus', transport: 'http' }, sources.scrapeTargets().reduce((n, s) => n + pick(s), 0)],
    ];
    const rl = ['receiver', 'transport'];

    counter(r, 'receiver_accepted_spans_total', 'Spans stored.', rl, () => otlp('acceptedSpans'));
    counter(r, 'receiver_refused_spans_total', 'Spans rejected as invalid (partial success).', rl, () => otlp('refusedSpans'));
    counter(r, 'receiver_failed_spans_total', 'Spans of exports that failed on our side, where their count is known.', rl, () => otlp('failedSpans'));
    counter(r, 'receiver_accepted_metric_points_total', 'Metric data points stored.', rl, () => [
      ...otlp('acceptedMetricPoints', 'acceptedPoints', 'acceptedDataPoints'),
      ...scrape((s) => s.acceptedPoints),
    ]);
    counter(r, 'receiver_refused_metric_points_total', 'Metric data points rejected as invalid.', rl, () => [
      ...otlp('refusedMetricPoints', 'refusedPoints', 'refusedDataPoints'),
      ...scrape((s) => s.refusedPoints + s.droppedPoints),
    ]);
    counter(r, 'receiver_failed_metric_points_total', 'Metric data points that failed on our side.', rl, () => [
      ...otlp('failedMetricPoints', 'failedPoints', 'failedDataPoints'),
      ...scrape((s) => s.failedPoints),
    ]);
    counter(r, 'receiver_failed_requests_total', 'Export requests that failed, by signal and whether the client may retry.', ['receiver', 'transport', 'signal', 'retryable'], () =>
      TRANSPORTS.flatMap((t): Row[] => [
        [{ receiver: 'otlp', transport: t, signal: 'traces', retryable: 'true' }, field('failedRequests')?.[t] ?? 0],
        [{ receiver: 'otlp', transport: t, signal: 'traces', retryable: 'false' }, field('invalidRequests')?.[t] ?? 0],
        [{ receiver: 'otlp', transport: t, signal: 'metrics', retryable: 'true' }, field('failedMetricRequests')?.[t] ?? 0],
        [{ receiver: 'otlp', transport: t, signal: 'metrics', retryable: 'false' }, field('invalidMetricRequests')?.[t] ?? 0],
      ]),
    );

    counter(r, 'receiver_unauthorized_requests_total', 'Export requests refused for a missing, unknown or under-privileged token (401/403).', rl, () => otlp('unauthorizedRequests'));

    const q = ['queue'];
    const queue = (): QueueStats => this.queue ?? sources.queue();
    gauge(r, 'queue_size', 'Export requests queued or being written.', q, () => [[{ queue: 'ingest' }, queue().inflightRequests]]);
    gauge(r, 'queue_capacity', 'Export requests the queue holds before refusing.', q, () => [[{ queue: 'ingest' }, queue().maxInflightRequests]]);
    gauge(r, 'queue_size_bytes', 'Decompressed bytes queued or being written.', q, () => [[{ queue: 'ingest' }, queue().inflightBytes]]);
    gauge(r, 'queue_capacity_bytes', 'Decompressed bytes the queue holds before refusing.', q, () => [[{ queue: 'ingest' }, queue().maxInflightBytes]]);
    gauge(r, 'queue_saturated', '1 while the ingest queue refuses exports.', q, () => [[{ queue: 'ingest' }, queue().saturated ? 1 : 0]]);
    counter(r, 'queue_refused_requests_total', 'Export requests refused because the queue was full.', q, () => [[{ queue: 'ingest' }, queue().refused]]);

    gauge(r, 'spanlens_store_size_bytes', 'Bytes of the data directory on disk (database, WAL, shm).', [], () => [[{}, this.diskBytes]]);
    gauge(r, 'spanlens_store_live_bytes', 'Bytes of the database in use (pages not on the free list).', [], () => optional({}, this.store.liveBytes));
    gauge(r, 'spanlens_series', 'Active series by kind (latency: HDR span-latency series; metric: metric series).', ['kind'], () => [
      ...optional({ kind: 'latency' }, this.store.latencySeries),
      ...optional({ kind: 'metric' }, this.store.metricSeries),
    ]);
    counter(r, 'spanlens_retention_deleted_total', 'Items deleted by retention (age or size).', ['signal'], () => [
      ...optional({ signal: 'spans' }, this.store.retentionDeletedSpans),
      ...optional({ signal: 'metric_points' }, this.store.retentionDeletedPoints),
    ]);

    counter(r, 'spanlens_redactions_total', 'Values redacted at ingest, by what matched (key: a deny-listed attribute key).', ['kind'], () =>
      Object.entries(this.store.redactions ?? {}).map(([kind, n]): Row => [{ kind }, n]),
    );

    const t = ['job', 'instance'];
    const perTarget = (pick: (s: ScrapeTargetStats) => number) => (): Row[] =>
      sources.scrapeTargets().map((s) => [{ job: s.job, instance: s.instance }, pick(s)]);
    gauge(r, 'spanlens_scrape_up', '1 if the last scrape of the target succeeded.', t, perTarget((s) => (s.up ? 1 : 0)));
    gauge(r, 'spanlens_scrape_duration_seconds', 'Duration of the last scrape.', t, perTarget((s) => s.lastDurationSeconds));
    gauge(r, 'spanlens_scrape_samples_scraped', 'Samples in the last successful scrape.', t, perTarget((s) => s.lastSamples));
    counter(r, 'spanlens_scrapes_total', 'Scrapes by result.', [...t, 'result'], () =>
      sources.scrapeTargets().flatMap((s): Row[] => [
        [{ job: s.job, instance: s.instance, result: 'success' }, s.successes],
        [{ job: s.job, instance: s.instance, result: 'failure' }, s.failures],
      ]),
    );
    counter(r, 'spanlens_scrape_dropped_points_total', 'Scraped points left out as invalid (bad histograms, negative counters).', t, perTarget((s) => s.droppedPoints));
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition; store statistics and the disk size are fetched once per scrape. */
  async render(): Promise<string> {
    // The queue first: the store's answer may wait behind the very writes that fill the queue.
    this.queue = this.sources.queue();
    const [store, disk] = await Promise.all([this.sources.store().catch(() => undefined), dataDirBytes(this.sources.dataDir)]);
    if (store) this.store = store;
    this.diskBytes = disk;
    return this.registry.metrics();
  }
}

function optional(labels: Record<string, string>, value: number | undefined): Row[] {
  return value === undefined ? [] : [[labels, value]];
}

function counter(registry: client.Registry, name: string, help: string, labelNames: string[], rows: () => Row[]): void {
  new client.Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of rows()) this.inc(labels, Math.max(0, value));
    },
  });
}

function gauge(registry: client.Registry, name: string, help: string, labelNames: string[], rows: () => Row[]): void {
  new client.Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of rows()) this.set(labels, value);
    },
  });
}
