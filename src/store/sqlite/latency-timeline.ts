import type Database from 'better-sqlite3';
import { HDR_LAYOUT } from '../histograms/latency-hdr.js';
import { DecodedHistograms } from './decoded-histograms.js';
import type { LatencyBuckets, LatencyStep, LatencyTimeline, LatencyTimelineQuery, LatencyTimelineReader } from '../ports.js';
import { TIMELINE_SQL } from './sql.js';

type Statements = { [K in keyof typeof TIMELINE_SQL]: Database.Statement };

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

interface SeriesRow {
  id: bigint;
  service_id: bigint;
  name_id: bigint;
  kind: bigint;
  is_error: bigint;
}

interface StepAcc {
  count: number;
  errors: number;
  /** HDR bucket index → count, merged over the step's minutes and the error/non-error series. */
  buckets: Map<number, number> | null;
}

/**
 * Per-step count, errors and merged HDR buckets per (service, span name, kind), for anomaly detection,
 * window comparison (one step = one window) and throughput trends. One indexed range read of (bucket,
 * count) per stored series; a minute belongs to the step containing its start, and steps are aligned to
 * the epoch so that the same minute-of-day lines up across days. Histograms are decoded through
 * DecodedHistograms, so the repeated polling an agent does for anomalies costs no decoding.
 */
export class SqliteLatencyTimeline implements LatencyTimelineReader {
  private readonly stmt: Statements;
  private readonly decoded: DecodedHistograms;

  constructor(
    private readonly db: Database.Database,
    maxCached = 100_000,
  ) {
    this.stmt = Object.fromEntries(
      Object.entries(TIMELINE_SQL).map(([key, sql]) => [key, db.prepare(sql).safeIntegers(true)]),
    ) as Statements;
    this.decoded = new DecodedHistograms(this.stmt.minuteHist, this.stmt.hourHist, maxCached);
  }

  async latencyTimeline(q: LatencyTimelineQuery): Promise<LatencyTimeline[] | null> {
    if (!Number.isInteger(q.stepMs) || q.stepMs <= 0 || q.stepMs % MINUTE_MS !== 0) throw new RangeError('stepMs must be a positive multiple of 60000');
    let serviceId: bigint | null = null;
    if (q.service !== undefined) {
      serviceId = (this.stmt.serviceIdByName.get(q.service) as { id: bigint } | undefined)?.id ?? null;
      if (serviceId === null) return null;
    }
    let nameId: bigint | null = null;
    if (q.operation !== undefined) {
      nameId = (this.stmt.spanNameIdByName.get(q.operation) as { id: bigint } | undefined)?.id ?? null;
      if (nameId === null) return null;
    }
    const series = (this.stmt.series.all() as SeriesRow[]).filter(
      (s) =>
        (serviceId === null || s.service_id === serviceId) &&
        (nameId === null || s.name_id === nameId) &&
        (q.kinds === undefined || q.kinds.includes(Number(s.kind))),
    );
    if (nameId !== null && series.length === 0) return null;

    const hourly = q.stepMs % HOUR_MS === 0;
    const unitMs = hourly ? HOUR_MS : MINUTE_MS;
    const unitNs = BigInt(unitMs) * 1_000_000n;
    // Units that start inside [startNs, endNs), as HistogramCache counts them.
    const from = (q.startNs + unitNs - 1n) / unitNs;
    const to = (q.endNs + unitNs - 1n) / unitNs;
    const statement = hourly ? this.stmt.hourCounts : this.stmt.minuteCounts;

    const byKey = new Map<string, { service: bigint; name: bigint; kind: number; steps: Map<number, StepAcc> }>();
    for (const s of series) {
      const rows = statement.all(s.id, from, to) as { bucket: bigint; count: bigint }[];
      if (rows.length === 0) continue;
      const key = `${s.service_id}:${s.name_id}:${s.kind}`;
      let entry = byKey.get(key);
      if (!entry) byKey.set(key, (entry = { service: s.service_id, name: s.name_id, kind: Number(s.kind), steps: new Map() }));
      for (const row of rows) {
        const startMs = Math.floor((Number(row.bucket) * unitMs) / q.stepMs) * q.stepMs;
        let step = entry.steps.get(startMs);
        if (!step) entry.steps.set(startMs, (step = { count: 0, errors: 0, buckets: q.histograms ? new Map() : null }));
        const count = Number(row.count);
        step.count += count;
        if (s.is_error === 1n) step.errors += count;
        const sparse = step.buckets ? this.decoded.get(hourly ? 'h' : 'm', s.id, row.bucket, row.count) : null;
        if (step.buckets && sparse) {
          for (let i = 0; i < sparse.indexes.length; i++) {
            const index = sparse.indexes[i] as number;
            step.buckets.set(index, (step.buckets.get(index) ?? 0) + (sparse.counts[i] as number));
          }
        }
      }
    }

    const services = this.names(this.stmt.services);
    const spanNames = this.names(this.stmt.spanNames);
    const out: LatencyTimeline[] = [];
    for (const entry of byKey.values()) {
      const steps: LatencyStep[] = [...entry.steps.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([startMs, acc]) => ({ startMs, count: acc.count, errors: acc.errors, buckets: acc.buckets ? toBuckets(acc.buckets) : null }));
      out.push({ service: services.get(entry.service) ?? '', operation: spanNames.get(entry.name) ?? '', kind: entry.kind, steps });
    }
    return out.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : a.operation < b.operation ? -1 : a.operation > b.operation ? 1 : a.kind - b.kind));
  }

  close(): void {
    this.db.close();
  }

  private names(statement: Database.Statement): Map<bigint, string> {
    return new Map((statement.all() as { id: bigint; name: string }[]).map((r) => [r.id, r.name]));
  }
}

function toBuckets(merged: Map<number, number>): LatencyBuckets {
  const indexes = [...merged.keys()].sort((a, b) => a - b);
  return {
    upperUs: indexes.map((i) => HDR_LAYOUT.highestEquivalentValue(HDR_LAYOUT.valueFromIndex(i))),
    counts: indexes.map((i) => merged.get(i) as number),
  };
}
