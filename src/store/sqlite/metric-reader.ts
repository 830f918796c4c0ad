import type Database from 'better-sqlite3';
import { METRIC_READER_SQL } from './sql.js';
import { bucketOf } from './metric-writer.js';
import { matchesAll } from '../../analysis/label-matchers.js';
import type {
  LabelSummary,
  MetricListQuery,
  MetricSource,
  MetricSummary,
  SeriesFetch,
  SeriesFetchResult,
  StoredExemplar,
  StoredMetricPoint,
  StoredSeries,
} from '../../analysis/metric-source.js';
import type { Labels, MetricType, Temporality } from '../../model/metric.js';

type Stmts = { [K in keyof typeof METRIC_READER_SQL]: Database.Statement };

interface MetricRow {
  id: number;
  name: string;
  type: MetricType;
  unit: string;
  description: string;
  monotonic: number;
  temporality: number;
}

interface SeriesRow {
  id: number;
  labels: string;
  temporality: number;
  monotonic: number;
  overflow: number;
}

/** series_id, time_ns, start_ns, flags, value, count, sum, min, max, data (METRIC_READER_SQL.pointsOfMetricInBucket). */
type PointRow = [bigint, bigint, bigint, bigint, number | null, number | null, number | null, number | null, number | null, string | null];

/**
 * The metrics side of the read connection: implements the analysis layer's MetricSource. Label
 * matchers are evaluated here over the series of the named metric (bounded by the series cap); points
 * are read per (hour bucket, series) so each read is a primary-key range.
 */
export class SqliteMetricReader implements MetricSource {
  private readonly stmt: Stmts;

  constructor(private readonly db: Database.Database) {
    this.stmt = Object.fromEntries(Object.entries(METRIC_READER_SQL).map(([k, sql]) => [k, db.prepare(sql)])) as Stmts;
    // Rows as arrays (no per-row key objects): a query can read hundreds of thousands of points.
    this.stmt.pointsOfMetricInBucket.safeIntegers(true).raw(true);
    this.stmt.exemplarsInBucket.safeIntegers(true);
  }

  close(): void {
    this.db.close();
  }

  listMetrics(query: MetricListQuery): Promise<{ metrics: MetricSummary[]; truncated: boolean }> {
    const needle = query.nameContains?.toLowerCase();
    const rows = (this.stmt.metrics.all() as MetricRow[]).filter((r) => !needle || r.name.toLowerCase().includes(needle));
    const truncated = rows.length > query.limit;
    const metrics = rows.slice(0, query.limit).map((r) => {
      const series = this.stmt.seriesOfMetric.all(r.id) as SeriesRow[];
      const values = new Map<string, Set<string>>();
      for (const s of series) {
        for (const [k, v] of Object.entries(JSON.parse(s.labels) as Labels)) {
          let set = values.get(k);
          if (!set) values.set(k, (set = new Set()));
          if (set.size <= query.maxLabelValues) set.add(v);
        }
      }
      const labels: LabelSummary[] = [...values.entries()]
        .sort((a, b) => a[0].localeCompare(b[0]))
        .map(([key, set]) => {
          const all = [...set].sort();
          return { key, values: all.slice(0, query.maxLabelValues), valuesTruncated: all.length > query.maxLabelValues };
        });
      return {
        name: r.name,
        type: r.type,
        unit: r.unit,
        description: r.description,
        monotonic: r.monotonic === 1,
        temporality: r.temporality as Temporality,
        seriesCount: series.length,
        labels,
      };
    });
    return Promise.resolve({ metrics, truncated });
  }

  fetchSeries(query: SeriesFetch): Promise<SeriesFetchResult> {
    const metrics = this.stmt.metricsByName.all(query.selection.metric) as MetricRow[];
    const regexes = new Map<string, RegExp>();
    const series: StoredSeries[] = [];
    let truncated = false;
    const firstBucket = bucketOf(query.startNs < 0n ? 0n : query.startNs);
    const lastBucket = bucketOf(query.endNs);
    for (const m of metrics) {
      const wanted = new Map<number, StoredSeries>();
      for (const row of this.stmt.seriesOfMetric.all(m.id) as SeriesRow[]) {
        const labels = JSON.parse(row.labels) as Labels;
        if (!matchesAll(labels, query.selection.matchers, regexes)) continue;
        if (series.length >= query.maxSeries) {
          truncated = true;
          break;
        }
        const s: StoredSeries = {
          id: row.id,
          metric: m.name,
          type: m.type,
          unit: m.unit,
          temporality: row.temporality as Temporality,
          monotonic: row.monotonic === 1,
          overflow: row.overflow === 1,
          labels,
          points: [],
        };
        series.push(s);
        wanted.set(row.id, s);
      }
      if (wanted.size === 0) continue;
      for (let b = firstBucket; b <= lastBucket; b++) {
        for (const p of this.stmt.pointsOfMetricInBucket.iterate(b, m.id, query.startNs, query.endNs) as IterableIterator<PointRow>) {
          wanted.get(Number(p[0]))?.points.push(toPoint(p));
        }
      }
    }
    return Promise.resolve({ series, truncated, metricKnown: metrics.length > 0 });
  }

  fetchExemplars(seriesIds: number[], startNs: bigint, endNs: bigint, limit: number): Promise<StoredExemplar[]> {
    const out: StoredExemplar[] = [];
    const firstBucket = bucketOf(startNs < 0n ? 0n : startNs);
    for (let b = bucketOf(endNs); b >= firstBucket && out.length < limit; b--) {
      for (const id of seriesIds) {
        const rows = this.stmt.exemplarsInBucket.all(b, id, startNs, endNs, limit - out.length) as {
          time_ns: bigint; value: number; trace_id: string; span_id: string; attributes: string;
        }[];
        for (const r of rows) {
          out.push({ seriesId: id, timeNs: r.time_ns, value: r.value, traceId: r.trace_id, spanId: r.span_id, attributes: JSON.parse(r.attributes) as Labels });
        }
        if (out.length >= limit) break;
      }
    }
    return Promise.resolve(out);
  }
}

function toPoint(row: PointRow): StoredMetricPoint {
  const [, timeNs, startNs, flags, value, count, sum, min, max, data] = row;
  const p: StoredMetricPoint = { timeNs, startNs, flags: Number(flags) };
  if (value !== null) p.value = value;
  if (count !== null) p.count = count;
  if (sum !== null) p.sum = sum;
  if (min !== null) p.min = min;
  if (max !== null) p.max = max;
  if (data !== null) {
    const d = JSON.parse(data) as {
      b?: number[]; c?: number[]; s?: number; z?: number; zt?: number; p?: [number, number[]]; n?: [number, number[]]; q?: [number, number][];
    };
    if (d.c !== undefined) {
      p.bounds = d.b ?? [];
      p.bucketCounts = d.c;
    } else if (d.s !== undefined) {
      p.scale = d.s;
      p.zeroCount = d.z ?? 0;
      p.zeroThreshold = d.zt ?? 0;
      p.positive = { offset: d.p?.[0] ?? 0, counts: d.p?.[1] ?? [] };
      p.negative = { offset: d.n?.[0] ?? 0, counts: d.n?.[1] ?? [] };
    } else if (d.q !== undefined) p.quantiles = d.q;
  }
  return p;
}
