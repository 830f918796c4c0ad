import type Database from 'better-sqlite3';
import { MergedLatency } from '../histograms/sparse-latency.js';
import { DecodedHistograms } from './decoded-histograms.js';

const MINUTE_NS = 60_000_000_000n;

export interface HistogramStatements {
  latencyMinuteCounts: Database.Statement;
  latencyHourCounts: Database.Statement;
  latencyMinuteHist: Database.Statement;
  latencyHourHist: Database.Statement;
  allMinuteCounts: Database.Statement;
  allHourCounts: Database.Statement;
}

/**
 * Merges stored latency histograms over a time range: whole hours from the hourly rows, the ragged edges
 * from the minute rows. A minute is included when it starts inside [startNs, endNs): adjacent windows
 * (a window and its compare_to "previous") never count the same minute twice, and a window ending now
 * includes the current minute. Decoding goes through DecodedHistograms (reused while a row's count is
 * unchanged).
 */
export class HistogramCache {
  private readonly decoded: DecodedHistograms;
  /** The all-series count scans read as plain number arrays: no row objects, no BigInts per row. */
  private readonly allCounts: { h: Database.Statement; m: Database.Statement };

  constructor(
    private readonly stmt: HistogramStatements,
    maxEntries = 200_000,
  ) {
    this.decoded = new DecodedHistograms(stmt.latencyMinuteHist, stmt.latencyHourHist, maxEntries);
    const plain = (st: Database.Statement): Database.Statement => st.database.prepare(st.source).raw(true).safeIntegers(false);
    this.allCounts = { h: plain(stmt.allHourCounts), m: plain(stmt.allMinuteCounts) };
  }

  merge(seriesId: bigint, startNs: bigint, endNs: bigint, into: MergedLatency): void {
    for (const [unit, from, to] of pieces(startNs, endNs)) {
      const counts = unit === 'h' ? this.stmt.latencyHourCounts : this.stmt.latencyMinuteCounts;
      for (const row of counts.all(seriesId, from, to) as { bucket: bigint; count: bigint }[]) {
        const sparse = this.decoded.get(unit, seriesId, row.bucket, row.count);
        if (sparse) into.add(sparse);
      }
    }
  }

  /**
   * Every series over the window at once (index range scans over counts), for those `wanted` accepts.
   * A ragged edge whose minutes hold everything of their hour (the current hour of a window ending now,
   * typically) is read as that one hour histogram instead of up to 59 minute ones: equal counts mean
   * equal content, as for the cache. Cold, that halves the histograms to decode for a 24 h window.
   */
  mergeAll(startNs: bigint, endNs: bigint, wanted: (seriesId: bigint) => boolean): Map<bigint, MergedLatency> {
    const bySeries = new Map<number, MergedLatency | null>(); // null: not wanted
    const target = (seriesId: number): MergedLatency | null => {
      let merged = bySeries.get(seriesId);
      if (merged === undefined) bySeries.set(seriesId, (merged = wanted(BigInt(seriesId)) ? new MergedLatency() : null));
      return merged;
    };
    for (const [unit, from, to] of pieces(startNs, endNs)) {
      const rows = this.allCounts[unit].all(from, to) as [number, number, number][];
      const hour = Number(from) / 60;
      const withinOneHour = unit === 'm' && Math.floor(hour) === Math.floor((Number(to) - 1) / 60);
      const wholeHour = withinOneHour ? this.hourCounts(Math.floor(hour)) : null;
      const minuteSums = new Map<number, number>();
      if (wholeHour) for (const [seriesId, , count] of rows) minuteSums.set(seriesId, (minuteSums.get(seriesId) ?? 0) + count);
      const done = new Set<number>();
      for (const [seriesId, bucket, count] of rows) {
        const merged = target(seriesId);
        if (merged === null || done.has(seriesId)) continue;
        const hourCount = wholeHour?.get(seriesId);
        if (hourCount !== undefined && hourCount === minuteSums.get(seriesId)) {
          const sparse = this.decoded.get('h', seriesId, Math.floor(hour), hourCount);
          if (sparse) {
            merged.add(sparse);
            done.add(seriesId);
            continue;
          }
        }
        const sparse = this.decoded.get(unit, seriesId, bucket, count);
        if (sparse) merged.add(sparse);
      }
    }
    const out = new Map<bigint, MergedLatency>();
    for (const [id, merged] of bySeries) if (merged !== null && merged.count > 0) out.set(BigInt(id), merged);
    return out;
  }

  private hourCounts(hour: number): Map<number, number> {
    const out = new Map<number, number>();
    for (const [seriesId, , count] of this.allCounts.h.all(hour, hour + 1) as [number, number, number][]) out.set(seriesId, count);
    return out;
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
