import { createHash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { METRIC_WRITER_SQL } from './sql.js';
import { canonicalLabels } from '../../codec/metrics-normalize.js';
import { seriesLabels, type DecodedMetrics, type MetricDescriptor, type MetricPoint, type MetricSeriesBatch } from '../../model/metric.js';

export interface MetricStoreSettings {
  /** Distinct series kept; the points of further new series go to one overflow series per metric. */
  maxSeries: number;
  /** Most data points written in one transaction (group commit bound). */
  maxBatchPoints: number;
}

export const DEFAULT_METRIC_STORE_SETTINGS: MetricStoreSettings = { maxSeries: 10_000, maxBatchPoints: 50_000 };

/** The label the OTel SDKs put on their cardinality-limit overflow series; ours means the same. */
export const OVERFLOW_LABEL = 'otel.metric.overflow';

const HOUR_NS = 3_600_000_000_000n;

export function bucketOf(timeNs: bigint): number {
  return Number(timeNs / HOUR_NS);
}

type Stmts = { [K in keyof typeof METRIC_WRITER_SQL]: Database.Statement };

interface SeriesEntry {
  id: number;
  metricId: number;
  overflow: boolean;
  /** Newest time written to metric_series.last_ns (it is refreshed at most once a minute of data). */
  lastNs: bigint;
}

/** Overflowed cumulative sum series whose last value is remembered. */
const OVERFLOW_STATE_MAX = 100_000;

/** metric_series.last_ns is only needed for retention: refreshing it once per minute of data is enough. */
const TOUCH_EVERY_NS = 60_000_000_000n;

/**
 * Writes normalized metric batches into the series store, one synchronous transaction per call.
 * Series identity is a SHA-1 of (name, type, resource attributes, point attributes); the digest → id map
 * is kept in memory (it is bounded by the series cap). Caller: the writer worker, which owns the only
 * write connection.
 */
export class SqliteMetricWriter {
  private readonly stmt: Stmts;
  private readonly metricIds = new Map<string, { id: number; unit: string; description: string; monotonic: boolean; temporality: number }>();
  /** digest (hex) → series; and the identity text → series, so known series skip hashing. */
  private readonly series = new Map<string, SeriesEntry>();
  private readonly byIdentity = new Map<string, SeriesEntry>();
  private regularSeries = 0;
  overflowPoints = 0;
  /** Last cumulative value of each overflowed sum series, to turn it into deltas (bounded, oldest dropped). */
  private readonly overflowState = new Map<string, { startNs: bigint; value: number }>();
  private readonly startedNs = BigInt(Date.now()) * 1_000_000n;

  constructor(
    private readonly db: Database.Database,
    private readonly settings: MetricStoreSettings,
  ) {
    this.stmt = Object.fromEntries(Object.entries(METRIC_WRITER_SQL).map(([k, sql]) => [k, db.prepare(sql)])) as Stmts;
    for (const row of this.stmt.selectMetrics.all() as {
      id: number; name: string; type: string; unit: string; description: string; monotonic: number; temporality: number;
    }[]) {
      this.metricIds.set(`${row.name}\0${row.type}`, {
        id: row.id, unit: row.unit, description: row.description, monotonic: row.monotonic === 1, temporality: row.temporality,
      });
    }
    for (const row of this.stmt.selectSeries.all() as { id: number; metric_id: number; digest: Buffer; overflow: number; last_ns: number }[]) {
      this.series.set(row.digest.toString('hex'), { id: row.id, metricId: row.metric_id, overflow: row.overflow === 1, lastNs: BigInt(row.last_ns) });
      if (row.overflow !== 1) this.regularSeries++;
    }
  }

  get seriesCount(): number {
    return this.series.size;
  }

  /** Writes every batch in one transaction; returns the accepted point count of each. */
  writeBatch(requests: DecodedMetrics[]): number[] {
    return this.db.transaction(() => requests.map((r) => this.writeRequest(r)))();
  }

  /** Deletes what is older than `cutoffNs` in bounded steps; true while more remains. */
  deleteBefore(cutoffNs: bigint, batchRows: number): { more: boolean; points: number } {
    const bucket = bucketOf(cutoffNs);
    return this.db.transaction(() => {
      const points = this.stmt.deletePointsBefore.run(bucket, batchRows).changes;
      const exemplars = this.stmt.deleteExemplarsBefore.run(bucket, batchRows).changes;
      let series = 0;
      if (points < batchRows) {
        for (const row of this.stmt.staleSeries.all(cutoffNs, batchRows) as { id: number; digest: Buffer }[]) {
          this.stmt.deleteSeries.run(row.id);
          const entry = this.series.get(row.digest.toString('hex'));
          if (entry && !entry.overflow) this.regularSeries--;
          this.series.delete(row.digest.toString('hex'));
          this.byIdentity.clear(); // rebuilt lazily from `series` via the digest
          series++;
        }
        if (series > 0) {
          this.stmt.deleteUnusedMetrics.run();
          this.metricIds.clear(); // ids of deleted metrics must not be reused; the upsert re-learns the rest
        }
      }
      return { more: points === batchRows || exemplars === batchRows || series === batchRows, points };
    })();
  }

  /** The oldest hour bucket that still holds points, as a cutoff (ns) that would delete it; null when empty. */
  oldestBucketEndNs(): bigint | null {
    const row = this.stmt.oldestPointBucket.get() as { bucket: number | null };
    return row.bucket === null ? null : BigInt(row.bucket + 1) * HOUR_NS;
  }

  private writeRequest(request: DecodedMetrics): number {
    let accepted = 0;
    for (const batch of request.series) {
      const { metric } = batch;
      const resourceText = canonicalLabels(batch.resource);
      const attributesText = canonicalLabels(batch.attributes);
      const identity = `${metric.name}\0${metric.type}\0${metric.temporality}\0${metric.monotonic}\0${resourceText}\0${attributesText}`;
      const series = this.seriesFor(batch, identity, resourceText, attributesText);
      let lo: bigint | undefined;
      let hi: bigint | undefined;
      for (const point of batch.points) {
        if (series.overflow && metric.type === 'sum') this.addOverflowSum(series, identity, metric, point);
        else this.insertPoint(series, batch.metric, point);
        if (lo === undefined || point.timeNs < lo) lo = point.timeNs;
        if (hi === undefined || point.timeNs > hi) hi = point.timeNs;
        accepted++;
      }
      if (lo !== undefined && hi !== undefined && hi - series.lastNs >= TOUCH_EVERY_NS) {
        this.stmt.touchSeries.run(hi, lo, series.id);
        series.lastNs = hi;
      }
    }
    return accepted;
  }

  private metricIdFor(m: MetricDescriptor): number {
    const key = `${m.name}\0${m.type}`;
    const known = this.metricIds.get(key);
    if (
      known &&
      known.unit === m.unit &&
      known.description === m.description &&
      known.monotonic === m.monotonic &&
      known.temporality === m.temporality
    ) {
      return known.id;
    }
    const row = this.stmt.upsertMetric.get(m.name, m.type, m.unit, m.description, m.monotonic ? 1 : 0, m.temporality) as { id: number };
    this.metricIds.set(key, { id: row.id, unit: m.unit, description: m.description, monotonic: m.monotonic, temporality: m.temporality });
    return row.id;
  }

  private seriesFor(batch: MetricSeriesBatch, identity: string, resourceText: string, attributesText: string): SeriesEntry {
    const { metric } = batch;
    const cached = this.byIdentity.get(identity);
    if (cached) {
      this.metricIdFor(metric); // keeps unit/description current
      return cached;
    }
    const digest = sha1(identity);
    const hex = digest.toString('hex');
    const known = this.series.get(hex);
    if (known) {
      this.byIdentity.set(identity, known);
      return known;
    }
    const first = batch.points[0]?.timeNs ?? 0n;
    if (this.regularSeries >= this.settings.maxSeries) {
      this.overflowPoints += batch.points.length;
      return this.overflowSeriesFor(metric, first);
    }
    const metricId = this.metricIdFor(metric);
    const labels = canonicalLabels(seriesLabels(batch.resource, batch.attributes));
    const id = Number(
      this.stmt.insertSeries.run(
        metricId, digest, labels, resourceText, attributesText, batch.scope,
        metric.temporality, metric.monotonic ? 1 : 0, 0, first, first,
      ).lastInsertRowid,
    );
    const entry: SeriesEntry = { id, metricId, overflow: false, lastNs: first };
    this.series.set(hex, entry);
    this.byIdentity.set(identity, entry);
    this.regularSeries++;
    return entry;
  }

  /**
   * Sums that overflow are summed faithfully into one delta series: each overflowed series' cumulative
   * points become deltas here (reset = new start time or a decrease; a series first seen with a start
   * before this process started is a baseline only), and points at the same time add up.
   */
  private addOverflowSum(series: SeriesEntry, identity: string, metric: MetricDescriptor, p: MetricPoint): void {
    if (p.value === undefined) return;
    let delta = p.value;
    if (metric.temporality === 2) {
      const prev = this.overflowState.get(identity);
      if (!prev) delta = p.startNs !== 0n && p.startNs >= this.startedNs ? p.value : 0;
      else if ((p.startNs !== 0n && prev.startNs !== 0n && p.startNs !== prev.startNs) || (metric.monotonic && p.value < prev.value)) delta = p.value;
      else delta = p.value - prev.value;
      this.overflowState.delete(identity);
      this.overflowState.set(identity, { startNs: p.startNs, value: p.value });
      if (this.overflowState.size > OVERFLOW_STATE_MAX) this.overflowState.delete(this.overflowState.keys().next().value as string);
    }
    this.stmt.addOverflowPoint.run(bucketOf(p.timeNs), series.metricId, p.timeNs, series.id, p.startNs, delta);
  }

  private overflowSeriesFor(metric: MetricDescriptor, first: bigint): SeriesEntry {
    // Overflowed sums are stored as one delta series (see addOverflowSum); other types keep their temporality.
    const temporality = metric.type === 'sum' ? 1 : metric.temporality;
    const digest = sha1(`${metric.name}\0${metric.type}\0${temporality}\0${metric.monotonic}\0overflow`);
    const hex = digest.toString('hex');
    const known = this.series.get(hex);
    if (known) return known;
    const metricId = this.metricIdFor(metric);
    const labels = canonicalLabels({ [OVERFLOW_LABEL]: 'true' });
    const id = Number(
      this.stmt.insertSeries.run(metricId, digest, labels, '{}', labels, '', temporality, metric.monotonic ? 1 : 0, 1, first, first)
        .lastInsertRowid,
    );
    const entry: SeriesEntry = { id, metricId, overflow: true, lastNs: first };
    this.series.set(hex, entry);
    return entry;
  }

  private insertPoint(series: SeriesEntry, metric: MetricDescriptor, p: MetricPoint): void {
    const seriesId = series.id;
    const bucket = bucketOf(p.timeNs);
    let data: string | null = null;
    if (p.bucketCounts !== undefined) data = JSON.stringify({ b: p.bounds ?? [], c: p.bucketCounts });
    else if (p.scale !== undefined) {
      data = JSON.stringify({
        s: p.scale,
        z: p.zeroCount ?? 0,
        zt: p.zeroThreshold ?? 0,
        p: [p.positive?.offset ?? 0, p.positive?.counts ?? []],
        n: [p.negative?.offset ?? 0, p.negative?.counts ?? []],
      });
    } else if (p.quantiles !== undefined) data = JSON.stringify({ q: p.quantiles });
    this.stmt.insertPoint.run(
      bucket,
      series.metricId,
      p.timeNs,
      seriesId,
      metric.temporality === 0 ? 0n : p.startNs,
      p.flags,
      p.value ?? null,
      p.count ?? null,
      p.sum ?? null,
      p.min ?? null,
      p.max ?? null,
      data,
    );
    for (const e of p.exemplars) {
      this.stmt.insertExemplar.run(bucketOf(e.timeNs || p.timeNs), seriesId, e.timeNs || p.timeNs, e.value, e.traceId, e.spanId, canonicalLabels(e.attributes));
    }
  }
}

function sha1(text: string): Buffer {
  return createHash('sha1').update(text).digest();
}
