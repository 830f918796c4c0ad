import type Database from 'better-sqlite3';
import { WRITER_SQL } from './sql.js';
import { durationNsToUs } from '../histograms/latency-hdr.js';
import { bucketIndex, decodeSparse, encodeSparse, SparseCounts } from '../histograms/sparse-hdr.js';
import type { NameDictionary } from './dictionaries.js';
import { PackedSpans, SPAN_FLAG_EFFECTIVE_ERROR, SPAN_FLAG_KNOWN } from './span-pack.js';
import { StatusCode } from '../../model/span.js';

export interface LatencySettings {
  /** Series (service, span name, kind, error) active at once; new ones beyond go to one overflow series. */
  maxSeries: number;
  /** A series not updated for this long stops counting against maxSeries (its stored data stays). */
  staleSeriesMs: number;
}

export const OVERFLOW_NAME = '__overflow__';
const MINUTE_NS = 60_000_000_000;
/** Stored minute/hour histograms stay decoded in memory this many flushes after their last change. */
const CACHE_FLUSHES = 30;

interface CachedCounts {
  counts: SparseCounts;
  lastFlush: number;
}

interface ActiveSeries {
  id: number;
  lastSeenMs: number;
}

/**
 * Per-minute and per-hour HDR latency histograms. Recording happens after a span batch commits: it only
 * appends (series, minute, bucket) to a typed array, so the hot path allocates nothing; `flush` merges the deltas into the stored histograms and advances a watermark (the
 * last trace chunk id included) in the same transaction, so after a crash `recover` replays exactly the spans
 * the histograms do not yet hold: each span is counted once, across restarts.
 */
export class LatencyStore {
  private readonly active = new Map<number, ActiveSeries>();
  private readonly known = new Map<number, number>();
  /** (series id, minute, bucket index) per recorded span since the last flush. */
  private pending = new Float64Array(3 * 65_536);
  private pendingLength = 0;
  private flushes = 0;
  private watermark: number;
  private pendingWatermark: number;
  private held = false;
  private readonly stmt: Record<
    'insertSeries' | 'selectMinute' | 'upsertMinute' | 'selectHour' | 'upsertHour' | 'setMeta' | 'getMeta',
    Database.Statement
  >;
  /** Stored histograms recently written, keyed by bucketKey(series, minute or hour), per granularity. */
  private readonly stored: Record<'minute' | 'hour', { cache: Map<number, CachedCounts>; select: Database.Statement; upsert: Database.Statement }>;

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
    this.stored = {
      minute: { cache: new Map(), select: this.stmt.selectMinute, upsert: this.stmt.upsertMinute },
      hour: { cache: new Map(), select: this.stmt.selectHour, upsert: this.stmt.upsertHour },
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

  /** Records one committed span of trace chunk `rowid`; chunk ids must not decrease across calls. */
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
    if (this.pendingLength + 3 > this.pending.length) {
      const grown = new Float64Array(this.pending.length * 2);
      grown.set(this.pending);
      this.pending = grown;
    }
    const at = this.pendingLength;
    this.pending[at] = seriesId;
    this.pending[at + 1] = Math.floor(startNs / MINUTE_NS);
    this.pending[at + 2] = bucketIndex(durationNsToUs(durationNs));
    this.pendingLength = at + 3;
    if (rowid > this.pendingWatermark) this.pendingWatermark = rowid;
  }

  /** After a failed record, never advance the watermark past unrecorded spans: restart replays them. */
  holdWatermark(): void {
    this.held = true;
  }

  get dirty(): boolean {
    return this.pendingLength > 0 || this.pendingWatermark !== this.watermark;
  }

  /** Merges the deltas into the stored minute and hour histograms in one transaction. */
  flush(): void {
    // Held: stored histograms stay exactly at the watermark, so the replay at the next start is exact.
    if (!this.dirty || this.held) return;
    const minuteDeltas = new Map<number, SparseCounts>();
    const hourDeltas = new Map<number, SparseCounts>();
    const pending = this.pending;
    for (let at = 0; at < this.pendingLength; at += 3) {
      const seriesId = pending[at] as number;
      const minute = pending[at + 1] as number;
      const bucket = pending[at + 2] as number;
      deltaFor(minuteDeltas, bucketKey(seriesId, minute)).add(bucket, 1);
      deltaFor(hourDeltas, bucketKey(seriesId, Math.floor(minute / 60))).add(bucket, 1);
    }
    const watermark = this.pendingWatermark;
    const flush = ++this.flushes;
    try {
      this.db.transaction(() => {
        for (const [key, delta] of minuteDeltas) this.mergeInto('minute', key, delta, flush);
        for (const [key, delta] of hourDeltas) this.mergeInto('hour', key, delta, flush);
        this.stmt.setMeta.run('latency_watermark', watermark);
      })();
    } catch (err) {
      // Rolled back: the caches already hold some of these deltas. Forget them; the next flush
      // re-reads the stored rows and applies the still-pending spans once.
      for (const { cache } of Object.values(this.stored)) cache.clear();
      throw err;
    }
    this.pendingLength = 0;
    this.watermark = watermark;
    for (const { cache } of Object.values(this.stored)) {
      for (const [key, cached] of cache) if (flush - cached.lastFlush > CACHE_FLUSHES) cache.delete(key);
    }
  }

  /** Re-records spans committed after the last flush (the process died before flushing them). */
  recover(nowMs: number): number {
    const select = this.db.prepare(WRITER_SQL.chunksAfter);
    let replayed = 0;
    for (;;) {
      const rows = select.all(this.watermark, 2_000) as { id: number; spans: Buffer }[];
      if (rows.length === 0) return replayed;
      for (const row of rows) {
        for (const span = new PackedSpans(row.spans); span.next(); ) {
          const start = span.startNs;
          const end = span.endNs;
          this.record(
            row.id,
            span.serviceId,
            span.nameId,
            span.kind,
            spanIsError(span),
            Number(start),
            end > start ? Number(end - start) : 0,
            nowMs,
          );
          replayed++;
        }
      }
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

  private activate(key: number, serviceId: number, nameId: number, kind: number, isError: number, nowMs: number): number {
    let id = this.known.get(key);
    if (id === undefined) {
      id = Number(this.stmt.insertSeries.run(serviceId, nameId, kind, isError).lastInsertRowid);
      this.known.set(key, id);
    }
    this.active.set(key, { id, lastSeenMs: nowMs });
    return id;
  }

  /**
   * Adds a delta to a stored histogram. The stored one is decoded once and then kept in memory while it
   * keeps changing, so a busy series costs one encode per flush, not a decode and an encode.
   */
  private mergeInto(granularity: 'minute' | 'hour', key: number, delta: SparseCounts, flush: number): void {
    const { cache, select, upsert } = this.stored[granularity];
    let cached = cache.get(key);
    if (!cached) {
      const row = select.get(seriesOf(key), bucketOf(key)) as { hist: string } | undefined;
      cached = { counts: row ? decodeSparse(row.hist) : new SparseCounts(), lastFlush: flush };
      cache.set(key, cached);
    }
    cached.counts.merge(delta);
    cached.lastFlush = flush;
    upsert.run(seriesOf(key), bucketOf(key), cached.counts.total, encodeSparse(cached.counts));
  }
}

/** Series ids stay far below 2^20 and minutes below 2^32, so the pair packs exactly into a double. */
const BUCKET_SPAN = 2 ** 32;
function bucketKey(seriesId: number, bucket: number): number {
  return seriesId * BUCKET_SPAN + bucket;
}
function seriesOf(key: number): number {
  return Math.floor(key / BUCKET_SPAN);
}
function bucketOf(key: number): number {
  return key % BUCKET_SPAN;
}

function deltaFor(deltas: Map<number, SparseCounts>, key: number): SparseCounts {
  let delta = deltas.get(key);
  if (!delta) deltas.set(key, (delta = new SparseCounts()));
  return delta;
}

/** Numeric so the per-span lookup builds no string: name ids stay below 2^24, services below 2^20. */
function seriesKey(serviceId: number, nameId: number, kind: number, isError: number): number {
  return ((serviceId * 2 ** 24 + nameId) * 8 + kind) * 2 + isError;
}

/** The error flag recorded at ingest; chunks written before it existed fall back to status ERROR. */
function spanIsError(span: PackedSpans): boolean {
  const flags = span.flags;
  return (flags & SPAN_FLAG_KNOWN) !== 0 ? (flags & SPAN_FLAG_EFFECTIVE_ERROR) !== 0 : span.statusCode === StatusCode.ERROR;
}
