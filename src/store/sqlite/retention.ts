import type Database from 'better-sqlite3';
import { WRITER_SQL } from './sql.js';

export interface RetentionSettings {
  /** Spans (and their trace index rows) older than this, by arrival time, are deleted. */
  maxAgeMs: number;
  /** Live data in the span database is kept under this many bytes by deleting the oldest minutes first. */
  maxBytes: number;
  /** Per-minute latency histograms are kept this long (finer windows); */
  latencyMinutesMaxAgeMs: number;
  /** per-hour ones this long (SLO periods need a month and more). */
  latencyHoursMaxAgeMs: number;
  /** Rows deleted per transaction: small, so that exports are written in between. */
  batchRows: number;
}

const MINUTE_MS = 60_000;

/**
 * Deletes old data in small steps. Each `step` runs one bounded transaction and says whether more work is
 * left, so the writer can interleave export batches between steps.
 */
export class Retention {
  private readonly stmt: Record<keyof typeof WRITER_SQL, Database.Statement>;
  deletedSpans = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly settings: RetentionSettings,
  ) {
    const pick = [
      'oldestIngestMinute',
      'firstIngestMinuteAtOrAfter',
      'deleteChunksBelow',
      'deleteIngestMinutesBelow',
      'deleteTraceSearchBefore',
      'deleteLatencyMinutesBefore',
      'deleteLatencyHoursBefore',
      'serviceIds',
      'maxChunkId',
      'pageCount',
      'freelistCount',
    ] as const;
    this.stmt = Object.fromEntries(pick.map((k) => [k, db.prepare(WRITER_SQL[k])])) as typeof this.stmt;
    this.pageSize = db.pragma('page_size', { simple: true }) as number;
  }

  private readonly pageSize: number;

  /** Prepared once: the writer asks after every commit whether the store is past its size limit. */
  liveBytes(): number {
    const pages = (this.stmt.pageCount.get() as { page_count: number }).page_count;
    const free = (this.stmt.freelistCount.get() as { freelist_count: number }).freelist_count;
    return (pages - free) * this.pageSize;
  }

  /** One bounded unit of work; returns true while more remains. */
  step(nowMs: number): boolean {
    let cutoffMinute = Math.floor((nowMs - this.settings.maxAgeMs) / MINUTE_MS);
    if (this.liveBytes() > this.settings.maxBytes) {
      const oldest = this.stmt.oldestIngestMinute.get() as { minute: number } | undefined;
      // Over the size limit: drop the oldest arrival minute, then look again.
      if (oldest) cutoffMinute = Math.max(cutoffMinute, oldest.minute + 1);
    }
    const bound = this.stmt.firstIngestMinuteAtOrAfter.get(cutoffMinute) as
      | { minute: number; first_chunk_id: number }
      | undefined;
    const chunkLimit = bound ? bound.first_chunk_id : (this.stmt.maxChunkId.get() as { id: number }).id + 1;
    // Search blocks are keyed by start second; minute boundaries are whole seconds.
    const cutoffSecond = cutoffMinute * 60;
    const batch = this.settings.batchRows;

    const more = this.db.transaction(() => {
      const deleted = this.stmt.deleteChunksBelow.all(chunkLimit, batch) as { span_count: number }[];
      const chunks = deleted.length;
      let spans = 0;
      for (const row of deleted) spans += row.span_count;
      let search = 0;
      for (const { id } of this.stmt.serviceIds.all() as { id: number }[]) {
        search += this.stmt.deleteTraceSearchBefore.run(id, cutoffSecond, batch).changes;
      }
      this.deletedSpans += spans;
      if (chunks < batch) this.stmt.deleteIngestMinutesBelow.run(cutoffMinute);
      this.stmt.deleteLatencyMinutesBefore.run(Math.floor((nowMs - this.settings.latencyMinutesMaxAgeMs) / MINUTE_MS));
      this.stmt.deleteLatencyHoursBefore.run(Math.floor((nowMs - this.settings.latencyHoursMaxAgeMs) / (60 * MINUTE_MS)));
      return chunks === batch || search >= batch;
    })();
    return more || (this.liveBytes() > this.settings.maxBytes && bound !== undefined);
  }
}
