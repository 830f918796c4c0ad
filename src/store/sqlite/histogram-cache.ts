import type Database from 'better-sqlite3';
import { decodeHistogram } from '../histograms/latency-hdr.js';
import type { MergedLatency} from '../histograms/sparse-latency.js';
import { toSparse, type SparseHistogram } from '../histograms/sparse-latency.js';

const MINUTE_NS = 60_000_000_000n;

export interface HistogramStatements {
  latencyMinuteCounts: Database.Statement;
  latencyHourCounts: Database.Statement;
  latencyMinuteHist: Database.Statement;
  latencyHourHist: Database.Statement;
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
    const firstMinute = ceilDiv(startNs, MINUTE_NS);
    const endMinute = ceilDiv(endNs, MINUTE_NS);
    const firstHour = ceilDiv(firstMinute, 60n);
    const endHour = endMinute / 60n;
    if (firstHour < endHour) {
      this.add('h', seriesId, firstHour, endHour, into);
      this.add('m', seriesId, firstMinute, firstHour * 60n, into);
      this.add('m', seriesId, endHour * 60n, endMinute, into);
    } else {
      this.add('m', seriesId, firstMinute, endMinute, into);
    }
  }

  private add(unit: 'h' | 'm', seriesId: bigint, from: bigint, to: bigint, into: MergedLatency): void {
    if (from >= to) return;
    const counts = unit === 'h' ? this.stmt.latencyHourCounts : this.stmt.latencyMinuteCounts;
    for (const row of counts.all(seriesId, from, to) as { bucket: bigint; count: bigint }[]) {
      const key = `${unit}${seriesId}:${row.bucket}`;
      let entry = this.entries.get(key);
      if (entry === undefined || entry.count !== row.count) {
        const hist = (unit === 'h' ? this.stmt.latencyHourHist : this.stmt.latencyMinuteHist).get(seriesId, row.bucket) as
          | { hist: string }
          | undefined;
        if (!hist) continue;
        entry = { count: row.count, sparse: toSparse(decodeHistogram(hist.hist)) };
        this.entries.delete(key);
        this.entries.set(key, entry);
        if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
      }
      into.add(entry.sparse);
    }
  }
}

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}
