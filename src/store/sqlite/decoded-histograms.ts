import type Database from 'better-sqlite3';
import { sparseFromEncoded, type SparseHistogram } from '../histograms/sparse-latency.js';

export type HistogramUnit = 'h' | 'm';

/**
 * Stored latency histograms (latency_minutes / latency_hours rows), decoded to sparse form and cached
 * keyed by (unit, series, bucket), reused while the row's stored count is unchanged: the writer only
 * ever adds to a bucket, so an equal count means equal content, and a late span for an old minute
 * invalidates just that entry. Bounded: beyond `maxEntries` the least recently decoded go (Map order).
 * Every reader of histograms (RED merges, SLO events, timelines) goes through one of these.
 */
export class DecodedHistograms {
  /** Numbers, not strings: a 24 h merge over thousands of series looks up ~10^5 keys. */
  private readonly entries = new Map<number, { count: number; sparse: SparseHistogram }>();

  constructor(
    private readonly minuteHist: Database.Statement,
    private readonly hourHist: Database.Statement,
    private readonly maxEntries = 200_000,
  ) {}

  /** The row's histogram, or null when the row is gone (retention ran between the count read and now). */
  get(unit: HistogramUnit, seriesId: number | bigint, bucket: number | bigint, count: number | bigint): SparseHistogram | null {
    const series = Number(seriesId);
    const at = Number(bucket);
    const n = Number(count);
    // Buckets are minute or hour numbers since 1970, below 2^26 until 2097; series ids below 2^26 keep keys exact.
    const key = (series * 2 + (unit === 'h' ? 1 : 0)) * 2 ** 26 + at;
    let entry = this.entries.get(key);
    if (entry === undefined || entry.count !== n) {
      const row = (unit === 'h' ? this.hourHist : this.minuteHist).get(series, at) as { hist: string } | undefined;
      if (!row) return null;
      entry = { count: n, sparse: sparseFromEncoded(row.hist) };
      this.entries.delete(key);
      this.entries.set(key, entry);
      if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as number);
    }
    return entry.sparse;
  }
}
