import type Database from 'better-sqlite3';
import { READER_SQL } from './sql.js';
import { HDR_HIGHEST_US, HDR_LAYOUT } from '../histograms/latency-hdr.js';
import { MergedLatency, type SparseHistogram } from '../histograms/sparse-latency.js';
import { DecodedHistograms } from './decoded-histograms.js';
import type { SloBucket, SloBucketQuery, SloBucketResult, SloEventReader } from '../ports.js';

const PICK = ['serviceIdByName', 'spanNames', 'latencySeriesFor', 'latencyMinuteCounts', 'latencyHourCounts', 'latencyMinuteHist', 'latencyHourHist'] as const;
type Statements = Record<(typeof PICK)[number], Database.Statement>;

/**
 * Per-minute (and, beyond minute retention, per-hour) request counts of an SLO's operations from the HDR
 * latency series, with the count at or below each latency threshold. Histograms are decoded through
 * DecodedHistograms, so re-evaluating a 30-day SLO decodes only the buckets that changed.
 */
export class SqliteSloReader implements SloEventReader {
  private readonly stmt: Statements;
  private readonly decoded: DecodedHistograms;

  constructor(db: Database.Database, maxEntries = 100_000) {
    this.stmt = Object.fromEntries(PICK.map((k) => [k, db.prepare(READER_SQL[k]).safeIntegers(true)])) as Statements;
    this.decoded = new DecodedHistograms(this.stmt.latencyMinuteHist, this.stmt.latencyHourHist, maxEntries);
  }

  async sloBuckets(q: SloBucketQuery): Promise<SloBucketResult> {
    const latency = new MergedLatency();
    const service = this.stmt.serviceIdByName.get(q.service) as { id: bigint } | undefined;
    if (!service) return { serviceKnown: false, operations: [], buckets: [], latency };
    const names = new Map((this.stmt.spanNames.all() as { id: bigint; name: string }[]).map((r) => [r.id, r.name]));
    const series = (this.stmt.latencySeriesFor.all(service.id) as { id: bigint; name_id: bigint; kind: bigint; is_error: bigint }[]).filter(
      (s) => q.kinds.includes(Number(s.kind)) && (q.operation === undefined || names.get(s.name_id) === q.operation),
    );
    const maxGood = q.thresholdsUs.map(lastIndexAtOrBelow);
    const operations: string[] = [];
    const opIndex = new Map<string, number>();
    const buckets = new Map<string, SloBucket>();
    const ranges = bucketRanges(q);
    for (const s of series) {
      const name = names.get(s.name_id) ?? '';
      let op = opIndex.get(name);
      if (op === undefined) {
        opIndex.set(name, (op = operations.length));
        operations.push(name);
      }
      const isError = s.is_error === 1n;
      for (const [unit, from, to] of ranges) {
        const counts = unit === 'h' ? this.stmt.latencyHourCounts : this.stmt.latencyMinuteCounts;
        for (const row of counts.all(s.id, from, to) as { bucket: bigint; count: bigint }[]) {
          const sparse = this.decoded.get(unit, s.id, row.bucket, row.count);
          if (!sparse) continue;
          const minute = unit === 'h' ? Number(row.bucket) * 60 : Number(row.bucket);
          const key = `${op}:${unit}:${minute}`;
          let b = buckets.get(key);
          if (!b) buckets.set(key, (b = { op, minute, minutes: unit === 'h' ? 60 : 1, total: 0, errors: 0, good: q.thresholdsUs.map(() => 0) }));
          b.total += sparse.total;
          if (isError) b.errors += sparse.total;
          maxGood.forEach((max, i) => (b.good[i] = (b.good[i] as number) + countUpTo(sparse, max)));
          if (minute >= q.latencyFromMinute) latency.add(sparse);
        }
      }
    }
    return { serviceKnown: true, operations, buckets: [...buckets.values()].sort((a, b) => a.minute - b.minute || a.op - b.op), latency };
  }
}

/**
 * The row ranges to read, [unit, from, to) in hours or minutes: minute rows for the hours listed in
 * minuteHours (clipped to [fromMinute, toMinute]), hour rows for every other hour starting in range.
 */
export function bucketRanges(q: Pick<SloBucketQuery, 'fromMinute' | 'toMinute' | 'minuteHours'>): ['h' | 'm', number, number][] {
  const out: ['h' | 'm', number, number][] = [];
  const last = Math.floor(q.toMinute / 60);
  const inRange = [...new Set(q.minuteHours)].filter((h) => h >= Math.floor(q.fromMinute / 60) && h <= last).sort((a, b) => a - b);
  // Next hour still to cover with hour rows; a partial first hour without minute rows is left out.
  let next = Math.ceil(q.fromMinute / 60);
  for (const h of inRange) {
    if (h > next) out.push(['h', next, h]);
    out.push(['m', Math.max(h * 60, q.fromMinute), Math.min(h * 60 + 60, q.toMinute + 1)]);
    next = Math.max(next, h + 1);
  }
  if (next <= last) out.push(['h', next, last + 1]);
  return out;
}

/** The last HDR bucket index whose every value (highest equivalent value) is ≤ thresholdUs; −1 if none. */
export function lastIndexAtOrBelow(thresholdUs: number): number {
  if (thresholdUs >= HDR_HIGHEST_US) return HDR_LAYOUT.countsArrayLength - 1;
  const index = HDR_LAYOUT.countsArrayIndex(Math.floor(thresholdUs));
  return HDR_LAYOUT.highestEquivalentValue(HDR_LAYOUT.valueFromIndex(index)) <= thresholdUs ? index : index - 1;
}

/** Spans in buckets with index ≤ maxIndex (sparse indexes are sorted). */
function countUpTo(h: SparseHistogram, maxIndex: number): number {
  let n = 0;
  for (let i = 0; i < h.indexes.length && (h.indexes[i] as number) <= maxIndex; i++) n += h.counts[i] as number;
  return n;
}
