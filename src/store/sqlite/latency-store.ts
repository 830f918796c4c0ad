import type Database from 'better-sqlite3';
import { WRITER_SQL } from './sql.js';
import {
  decodeHistogram,
  durationNsToUs,
  encodeHistogram,
  newLatencyHistogram,
  type LatencyHistogram,
} from '../histograms/latency-hdr.js';
import type { NameDictionary } from './dictionaries.js';

export interface LatencySettings {
  /** Series (service, span name, kind, error) active at once; new ones beyond go to one overflow series. */
  maxSeries: number;
  /** A series not updated for this long stops counting against maxSeries (its stored data stays). */
  staleSeriesMs: number;
}

export const OVERFLOW_NAME = '__overflow__';
const MINUTE_NS = 60_000_000_000;

interface ActiveSeries {
  id: number;
  lastSeenMs: number;
}

/**
 * Per-minute and per-hour HDR latency histograms. Recording happens after a span batch commits, into
 * in-memory deltas; `flush` merges the deltas into the stored histograms and advances a watermark (the
 * last span rowid included) in the same transaction, so after a crash `recover` replays exactly the spans
 * the histograms do not yet hold: each span is counted once, across restarts.
 */
export class LatencyStore {
  private readonly active = new Map<string, ActiveSeries>();
  private readonly known = new Map<string, number>();
  private minuteDeltas = new Map<number, Map<number, LatencyHistogram>>();
  private watermark: number;
  private pendingWatermark: number;
  private held = false;
  private readonly stmt: Record<
    'insertSeries' | 'selectMinute' | 'upsertMinute' | 'selectHour' | 'upsertHour' | 'setMeta' | 'getMeta',
    Database.Statement
  >;

  constructor(
    private readonly db: Database.Database,
    private readonly settings: LatencySettings,
    private readonly services: NameDictionary,
    private readonly names: NameDictionary,
  ) {
    this.stmt = {
      insertSeries: db.prepare(WRITER_SQL.insertLatencySeries),
      selectMinute: db.prepare(WRITER_SQL.selectLatencyMinute),
      upsertMinute: db.prepare(WRITER_SQL.upsertLatencyMinute),
      selectHour: db.prepare(WRITER_SQL.selectLatencyHour),
      upsertHour: db.prepare(WRITER_SQL.upsertLatencyHour),
      setMeta: db.prepare(WRITER_SQL.setMeta),
      getMeta: db.prepare(WRITER_SQL.getMeta),
    };
    for (const row of db.prepare(WRITER_SQL.selectLatencySeries).all() as {
      id: number;
      service_id: number;
      name_id: number;
      kind: number;
      is_error: number;
    }[]) {
      this.known.set(seriesKey(row.service_id, row.name_id, row.kind, row.is_error), row.id);
    }
    const stored = this.stmt.getMeta.get('latency_watermark') as { value: number } | undefined;
    this.watermark = stored ? Number(stored.value) : 0;
    this.pendingWatermark = this.watermark;
  }

  get activeSeries(): number {
    return this.active.size;
  }

  get flushedWatermark(): number {
    return this.watermark;
  }

  /** Records one committed span. `rowid` must increase across calls. */
  record(
    rowid: number,
    serviceId: number,
    nameId: number,
    kind: number,
    isError: boolean,
    startNs: number,
    durationNs: number,
    nowMs: number,
  ): void {
    const seriesId = this.seriesFor(serviceId, nameId, kind, isError ? 1 : 0, nowMs);
    const minute = Math.floor(startNs / MINUTE_NS);
    let byMinute = this.minuteDeltas.get(seriesId);
    if (!byMinute) this.minuteDeltas.set(seriesId, (byMinute = new Map()));
    let histogram = byMinute.get(minute);
    if (!histogram) byMinute.set(minute, (histogram = newLatencyHistogram()));
    histogram.recordValue(durationNsToUs(durationNs));
    if (rowid > this.pendingWatermark) this.pendingWatermark = rowid;
  }

  /** After a failed record, never advance the watermark past unrecorded spans: restart replays them. */
  holdWatermark(): void {
    this.held = true;
  }

  get dirty(): boolean {
    return this.minuteDeltas.size > 0 || this.pendingWatermark !== this.watermark;
  }

  /** Merges the deltas into the stored minute and hour histograms in one transaction. */
  flush(): void {
    // Held: stored histograms stay exactly at the watermark, so the replay at the next start is exact.
    if (!this.dirty || this.held) return;
    const deltas = this.minuteDeltas;
    const watermark = this.pendingWatermark;
    this.db.transaction(() => {
      for (const [seriesId, byMinute] of deltas) {
        const byHour = new Map<number, LatencyHistogram>();
        for (const [minute, delta] of byMinute) {
          this.mergeInto(this.stmt.selectMinute, this.stmt.upsertMinute, seriesId, minute, delta);
          const hour = Math.floor(minute / 60);
          const hourDelta = byHour.get(hour);
          if (hourDelta) hourDelta.add(delta);
          else byHour.set(hour, delta);
        }
        for (const [hour, delta] of byHour) this.mergeInto(this.stmt.selectHour, this.stmt.upsertHour, seriesId, hour, delta);
      }
      this.stmt.setMeta.run('latency_watermark', watermark);
    })();
    this.minuteDeltas = new Map();
    this.watermark = watermark;
  }

  /** Re-records spans committed after the last flush (the process died before flushing them). */
  recover(nowMs: number): number {
    const select = this.db.prepare(WRITER_SQL.spansAfterRowid).safeIntegers(true);
    let replayed = 0;
    for (;;) {
      const rows = select.all(this.watermark, 20_000) as {
        id: bigint;
        service_id: bigint;
        name_id: bigint;
        kind: bigint;
        start_ns: bigint;
        end_ns: bigint;
        status_code: bigint;
      }[];
      if (rows.length === 0) return replayed;
      for (const row of rows) {
        const duration = row.end_ns > row.start_ns ? Number(row.end_ns - row.start_ns) : 0;
        this.record(
          Number(row.id),
          Number(row.service_id),
          Number(row.name_id),
          Number(row.kind),
          row.status_code === 2n,
          Number(row.start_ns),
          duration,
          nowMs,
        );
      }
      replayed += rows.length;
      this.flush();
    }
  }

  /** Drops series not seen for `staleSeriesMs` from the active set, freeing their slots under the cap. */
  evictStale(nowMs: number): number {
    let evicted = 0;
    for (const [key, series] of this.active) {
      if (nowMs - series.lastSeenMs > this.settings.staleSeriesMs) {
        this.active.delete(key);
        evicted++;
      }
    }
    return evicted;
  }

  private seriesFor(serviceId: number, nameId: number, kind: number, isError: number, nowMs: number): number {
    const key = seriesKey(serviceId, nameId, kind, isError);
    const active = this.active.get(key);
    if (active) {
      active.lastSeenMs = nowMs;
      return active.id;
    }
    if (this.active.size >= this.settings.maxSeries) {
      const overflowService = this.services.idFor(OVERFLOW_NAME);
      const overflowName = this.names.idFor(OVERFLOW_NAME);
      const overflowKey = seriesKey(overflowService, overflowName, 0, isError);
      const overflow = this.active.get(overflowKey);
      if (overflow) {
        overflow.lastSeenMs = nowMs;
        return overflow.id;
      }
      return this.activate(overflowKey, overflowService, overflowName, 0, isError, nowMs);
    }
    return this.activate(key, serviceId, nameId, kind, isError, nowMs);
  }

  private activate(key: string, serviceId: number, nameId: number, kind: number, isError: number, nowMs: number): number {
    let id = this.known.get(key);
    if (id === undefined) {
      id = Number(this.stmt.insertSeries.run(serviceId, nameId, kind, isError).lastInsertRowid);
      this.known.set(key, id);
    }
    this.active.set(key, { id, lastSeenMs: nowMs });
    return id;
  }

  private mergeInto(
    select: Database.Statement,
    upsert: Database.Statement,
    seriesId: number,
    bucket: number,
    delta: LatencyHistogram,
  ): void {
    const existing = select.get(seriesId, bucket) as { hist: string } | undefined;
    let merged = delta;
    if (existing) {
      merged = decodeHistogram(existing.hist);
      merged.add(delta);
    }
    upsert.run(seriesId, bucket, merged.totalCount, encodeHistogram(merged));
  }
}

function seriesKey(serviceId: number, nameId: number, kind: number, isError: number): string {
  return `${serviceId}:${nameId}:${kind}:${isError}`;
}
