import type Database from 'better-sqlite3';
import { MergedLatency, sparseFromEncoded, type SparseHistogram } from '../histograms/sparse-latency.js';

const MINUTE_NS = 60_000_000_000n;

export interface HistogramStatements {
  latencyMinuteCounts: Database.Statement;
  latencyHourCounts: Database.Statement;
  latencyMinuteHist: Database.Statement;
  latencyHourHist: Database.Statement;
  allMinuteCounts: Database.Statement;
  allHourCounts: Database.Statement;
}

interface Entry {
  count: bigint;
  sparse: SparseHistogram;
}

/**
 * Merges stored latency histograms over a time range: whole hours from the hourly rows, the ragged edges
 * from the minute rows. A minute is included when it starts inside [startNs, endNs): adjacent windows
 * (a window and its compare_to "previous") never count the same minute twice, and a window ending now
 * includes the current minute. Decoded histograms are cached in sparse form keyed by (series, bucket) and reused while
 * the stored row's count is unchanged: the writer only ever adds to a bucket, so an equal count means
 * equal content, and a late span for an old minute simply invalidates that one entry. Bounded: the
 * oldest entries are dropped beyond `maxEntries` (Map iteration order is insertion order).
 */
export class HistogramCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly stmt: HistogramStatements,
    private readonly maxEntries = 200_000,
  ) {}

  merge(seriesId: bigint, startNs: bigint, endNs: bigint, into: MergedLatency): void {
    for (const [unit, from, to] of pieces(startNs, endNs)) {
      const counts = unit === 'h' ? this.stmt.latencyHourCounts : this.stmt.latencyMinuteCounts;
      for (const row of counts.all(seriesId, from, to) as { bucket: bigint; count: bigint }[]) {
        const sparse = this.sparse(unit, seriesId, row.bucket, row.count);
        if (sparse) into.add(sparse);
      }
    }
  }

  /** Every series over the window at once (three index range scans), for those `wanted` accepts. */
  mergeAll(startNs: bigint, endNs: bigint, wanted: (seriesId: bigint) => boolean): Map<bigint, MergedLatency> {
    const out = new Map<bigint, MergedLatency>();
    for (const [unit, from, to] of pieces(startNs, endNs)) {
      const counts = unit === 'h' ? this.stmt.allHourCounts : this.stmt.allMinuteCounts;
      for (const row of counts.all(from, to) as { series_id: bigint; bucket: bigint; count: bigint }[]) {
        if (!wanted(row.series_id)) continue;
        const sparse = this.sparse(unit, row.series_id, row.bucket, row.count);
        if (!sparse) continue;
        let merged = out.get(row.series_id);
        if (!merged) out.set(row.series_id, (merged = new MergedLatency()));
        merged.add(sparse);
      }
    }
    return out;
  }

  private sparse(unit: 'h' | 'm', seriesId: bigint, bucket: bigint, count: bigint): SparseHistogram | null {
    const key = `${unit}${seriesId}:${bucket}`;
    let entry = this.entries.get(key);
    if (entry === undefined || entry.count !== count) {
      const hist = (unit === 'h' ? this.stmt.latencyHourHist : this.stmt.latencyMinuteHist).get(seriesId, bucket) as { hist: string } | undefined;
      if (!hist) return null;
      entry = { count, sparse: sparseFromEncoded(hist.hist) };
      this.entries.delete(key);
      this.entries.set(key, entry);
      if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    }
    return entry.sparse;
  }
}

/** Whole hours from the hourly rows, the ragged edges from the minute rows; empty pieces left out. */
function pieces(startNs: bigint, endNs: bigint): ['h' | 'm', bigint, bigint][] {
  const firstMinute = ceilDiv(startNs, MINUTE_NS);
  const endMinute = ceilDiv(endNs, MINUTE_NS);
  const firstHour = ceilDiv(firstMinute, 60n);
  const endHour = endMinute / 60n;
  const out: ['h' | 'm', bigint, bigint][] =
    firstHour < endHour
      ? [['h', firstHour, endHour], ['m', firstMinute, firstHour * 60n], ['m', endHour * 60n, endMinute]]
      : [['m', firstMinute, endMinute]];
  return out.filter(([, from, to]) => from < to);
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}
