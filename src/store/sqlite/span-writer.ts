import type Database from 'better-sqlite3';
import { WRITER_SQL } from './sql.js';
import { BlobDictionary, NameDictionary } from './dictionaries.js';
import { DedupWindow } from './dedup-window.js';
import { LatencyStore, type LatencySettings } from './latency-store.js';
import type { DecodedSpan, DecodedTraces } from '../../model/decoded.js';
import { StatusCode } from '../../model/span.js';

export interface SpanWriterSettings {
  latency: LatencySettings;
  /** Span keys remembered to drop re-sent duplicates (see DedupWindow). */
  dedupWindowSpans: number;
}

interface PendingSpan {
  span: DecodedSpan;
  serviceId: number;
  nameId: number;
  resourceId: number;
  scopeId: number;
}

interface CommittedSpan {
  rowid: number;
  serviceId: number;
  nameId: number;
  kind: number;
  isError: boolean;
  startNs: number;
  durationNs: number;
}

const MINUTE_MS = 60_000;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The only code that writes spans. `writeBatch` stores several decoded export requests in ONE
 * synchronous transaction (group commit): when it returns, every span it counted is durable, and only
 * then may the exports be acknowledged. Spans are written grouped by trace so that a trace's spans of a
 * commit are contiguous rowids, indexed by one trace_chunks row instead of one index entry per span.
 */
export class SqliteSpanWriter {
  private readonly services: NameDictionary;
  private readonly names: NameDictionary;
  private readonly resources: BlobDictionary;
  private readonly scopes: BlobDictionary;
  private readonly dedup: DedupWindow;
  readonly latency: LatencyStore;
  private readonly stmt: Record<'span' | 'chunk' | 'search' | 'ingestMinute' | 'maxSpan' | 'maxChunk', Database.Statement>;
  private currentIngestMinute = -1;

  constructor(
    private readonly db: Database.Database,
    settings: SpanWriterSettings,
  ) {
    this.services = new NameDictionary(db, WRITER_SQL.selectServices, WRITER_SQL.insertService);
    this.names = new NameDictionary(db, WRITER_SQL.selectSpanNames, WRITER_SQL.insertSpanName);
    this.resources = new BlobDictionary(db, WRITER_SQL.selectResourceByDigest, db.prepare(WRITER_SQL.insertResource));
    this.scopes = new BlobDictionary(db, WRITER_SQL.selectScopeByDigest, db.prepare(WRITER_SQL.insertScope));
    this.dedup = new DedupWindow(settings.dedupWindowSpans);
    // Clients re-send exports whose acknowledgement was lost, typically across a restart: remember
    // the newest stored spans (a rowid-ordered read, no index needed) as if they had just arrived.
    const newest = db.prepare(WRITER_SQL.newestSpanIds).all(settings.dedupWindowSpans) as { trace_id: Buffer; span_id: Buffer }[];
    for (let i = newest.length - 1; i >= 0; i--) {
      const row = newest[i] as { trace_id: Buffer; span_id: Buffer };
      this.dedup.seen(row.trace_id.toString('latin1') + row.span_id.toString('latin1'));
    }
    this.latency = new LatencyStore(db, settings.latency, this.services, this.names);
    this.stmt = {
      span: db.prepare(WRITER_SQL.insertSpan),
      chunk: db.prepare(WRITER_SQL.insertTraceChunk),
      search: db.prepare(WRITER_SQL.insertTraceSearch),
      ingestMinute: db.prepare(WRITER_SQL.insertIngestMinute),
      maxSpan: db.prepare(WRITER_SQL.maxSpanRowid),
      maxChunk: db.prepare(WRITER_SQL.maxChunkRowid),
    };
  }

  /**
   * Stores the spans of several requests in one transaction and returns how many spans of each request
   * were accepted (duplicates of recently stored spans count as accepted: they are stored already).
   * Throws if the transaction fails; then nothing of the batch is stored.
   */
  writeBatch(requests: readonly DecodedTraces[], nowMs: number): number[] {
    const newKeys: string[] = [];
    const committed: CommittedSpan[] = [];
    let accepted: number[];
    try {
      accepted = this.db.transaction(() => this.insertAll(requests, nowMs, newKeys, committed))();
    } catch (err) {
      for (const key of newKeys) this.dedup.forget(key);
      this.services.reload();
      this.names.reload();
      this.resources.clear();
      this.scopes.clear();
      this.currentIngestMinute = -1;
      throw err;
    }
    // Committed: from here nothing may report the batch as failed (a client would re-send it). If a
    // histogram write fails, the watermark stays behind and the next start replays these spans.
    try {
      for (const c of committed) {
        this.latency.record(c.rowid, c.serviceId, c.nameId, c.kind, c.isError, c.startNs, c.durationNs, nowMs);
      }
    } catch {
      this.latency.holdWatermark();
    }
    return accepted;
  }

  private insertAll(requests: readonly DecodedTraces[], nowMs: number, newKeys: string[], committed: CommittedSpan[]): number[] {
    const accepted: number[] = [];
    const byTrace = new Map<string, PendingSpan[]>();
    for (const request of requests) {
      let count = 0;
      for (const resource of request.resources) {
        const serviceId = this.services.idFor(resource.serviceName);
        const resourceId = this.resources.idFor(BlobDictionary.digest(resource.schemaUrl, resource.raw), [
          serviceId,
          resource.schemaUrl,
          resource.raw ? asBuffer(resource.raw) : null,
        ]);
        for (const scope of resource.scopes) {
          const scopeId = this.scopes.idFor(BlobDictionary.digest(scope.schemaUrl, scope.raw), [
            scope.schemaUrl,
            scope.raw ? asBuffer(scope.raw) : null,
          ]);
          for (const span of scope.spans) {
            count++;
            const traceKey = asBuffer(span.traceId).toString('latin1');
            const spanKey = traceKey + asBuffer(span.spanId).toString('latin1');
            if (this.dedup.seen(spanKey)) continue;
            newKeys.push(spanKey);
            const pending: PendingSpan = { span, serviceId, nameId: this.names.idFor(span.name), resourceId, scopeId };
            const group = byTrace.get(traceKey);
            if (group) group.push(pending);
            else byTrace.set(traceKey, [pending]);
          }
        }
      }
      accepted.push(count);
    }
    if (byTrace.size > 0) this.noteIngestMinute(nowMs);
    for (const group of byTrace.values()) this.insertTrace(group, committed);
    return accepted;
  }

  private noteIngestMinute(nowMs: number): void {
    const minute = Math.floor(nowMs / MINUTE_MS);
    if (minute === this.currentIngestMinute) return;
    const firstSpan = Number((this.stmt.maxSpan.get() as { id: number }).id) + 1;
    const firstChunk = Number((this.stmt.maxChunk.get() as { id: number }).id) + 1;
    this.stmt.ingestMinute.run(minute, firstSpan, firstChunk);
    this.currentIngestMinute = minute;
  }

  private insertTrace(group: PendingSpan[], committed: CommittedSpan[]): void {
    const traceId = asBuffer((group[0] as PendingSpan).span.traceId);
    let rowidLo = 0;
    let rowidHi = 0;
    let start = 0n;
    let end = 0n;
    let errors = 0;
    let root: PendingSpan | undefined;
    let earliest: PendingSpan | undefined;
    const search = new Map<string, { serviceId: number; nameId: number; start: bigint; maxDuration: bigint; errors: number }>();
    for (const p of group) {
      const s = p.span;
      const isError = s.statusCode === StatusCode.ERROR;
      const rowid = Number(
        this.stmt.span.run(
          traceId,
          asBuffer(s.spanId),
          s.parentSpanId.length === 0 ? null : asBuffer(s.parentSpanId),
          p.serviceId,
          p.nameId,
          s.kind,
          s.startNs,
          s.endNs,
          s.statusCode,
          p.resourceId,
          p.scopeId,
          asBuffer(s.raw),
        ).lastInsertRowid,
      );
      if (rowidLo === 0) rowidLo = rowid;
      rowidHi = rowid;
      const duration = s.endNs > s.startNs ? s.endNs - s.startNs : 0n;
      if (earliest === undefined || s.startNs < start) {
        start = s.startNs;
        earliest = p;
      }
      if (s.endNs > end) end = s.endNs;
      if (isError) errors++;
      if (root === undefined && s.parentSpanId.length === 0) root = p;
      const searchKey = `${p.serviceId}:${p.nameId}`;
      const row = search.get(searchKey);
      if (row) {
        if (s.startNs < row.start) row.start = s.startNs;
        if (duration > row.maxDuration) row.maxDuration = duration;
        if (isError) row.errors++;
      } else {
        search.set(searchKey, { serviceId: p.serviceId, nameId: p.nameId, start: s.startNs, maxDuration: duration, errors: isError ? 1 : 0 });
      }
      committed.push({
        rowid,
        serviceId: p.serviceId,
        nameId: p.nameId,
        kind: s.kind,
        isError,
        startNs: Number(s.startNs),
        durationNs: Number(duration),
      });
    }
    const head = root ?? (earliest as PendingSpan);
    this.stmt.chunk.run(
      traceId,
      rowidLo,
      rowidHi,
      start,
      end < start ? start : end,
      group.length,
      errors,
      root ? 1 : 0,
      head.serviceId,
      head.nameId,
    );
    for (const row of search.values()) {
      this.stmt.search.run(row.serviceId, row.start, traceId, row.nameId, row.maxDuration, row.errors);
    }
  }
}
