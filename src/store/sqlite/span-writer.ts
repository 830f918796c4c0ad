import type Database from 'better-sqlite3';
import { WRITER_SQL } from './sql.js';
import { BlobDictionary, NameDictionary } from './dictionaries.js';
import { DedupWindow } from './dedup-window.js';
import { LatencyStore, type LatencySettings } from './latency-store.js';
import { PackedSpans, packSpans, SPAN_FLAG_EFFECTIVE_ERROR, SPAN_FLAG_HAS_LINKS, SPAN_FLAG_KNOWN, type SpanToPack } from './span-pack.js';
import { SearchBlockBuilder, type SearchEntry } from './search-blocks.js';
import type { DecodedSpan, DecodedTraces } from '../../model/decoded.js';

export interface SpanWriterSettings {
  latency: LatencySettings;
  /** Span keys remembered to drop re-sent duplicates (see DedupWindow). */
  dedupWindowSpans: number;
}

interface PendingSpan extends SpanToPack {
  span: DecodedSpan;
}

/** A trace chunk inserted by the current transaction, recorded in the latency histograms once it commits. */
interface CommittedChunk {
  chunkId: number;
  spans: PendingSpan[];
}

const MINUTE_MS = 60_000;

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The only code that writes spans. `writeBatch` stores several decoded export requests in ONE
 * synchronous transaction (group commit): when it returns, every span it counted is durable, and only
 * then may the exports be acknowledged. A trace's spans of a commit are packed into one trace_chunks row
 * (span-pack.ts), indexed by one entry instead of one per span, and the commit's search entries into a
 * few trace_search_blocks rows (search-blocks.ts).
 */
export class SqliteSpanWriter {
  private readonly services: NameDictionary;
  private readonly names: NameDictionary;
  private readonly resources: BlobDictionary;
  private readonly scopes: BlobDictionary;
  private readonly dedup: DedupWindow;
  readonly latency: LatencyStore;
  private readonly stmt: Record<'chunk' | 'search' | 'ingestMinute' | 'maxChunk', Database.Statement>;
  private currentIngestMinute = -1;
  private keySource: ArrayBufferLike | undefined;
  private keyBytes: Buffer | undefined;

  constructor(
    private readonly db: Database.Database,
    settings: SpanWriterSettings,
  ) {
    this.services = new NameDictionary(db, WRITER_SQL.selectServices, WRITER_SQL.insertService);
    this.names = new NameDictionary(db, WRITER_SQL.selectSpanNames, WRITER_SQL.insertSpanName);
    this.resources = new BlobDictionary(db, WRITER_SQL.selectResourceByDigest, db.prepare(WRITER_SQL.insertResource));
    this.scopes = new BlobDictionary(db, WRITER_SQL.selectScopeByDigest, db.prepare(WRITER_SQL.insertScope));
    // Twice the configured count: right after a restart the window is seeded with the configured count
    // of stored spans and still has that much room for new ones before it forgets any of them.
    this.dedup = new DedupWindow(2 * settings.dedupWindowSpans);
    // Clients re-send exports whose acknowledgement was lost, typically across a restart: remember
    // the newest stored spans (a rowid-ordered read, no index needed) as if they had just arrived.
    const newest: [Buffer, Buffer][] = [];
    for (const row of db.prepare(WRITER_SQL.newestChunks).iterate() as IterableIterator<{ trace_id: Buffer; spans: Buffer }>) {
      const inChunk: [Buffer, Buffer][] = [];
      for (const span = new PackedSpans(row.spans); span.next(); ) inChunk.push([row.trace_id, span.spanId]);
      // Newest chunk first, but a chunk's spans in their stored order: reversed once more below.
      for (let i = inChunk.length - 1; i >= 0; i--) newest.push(inChunk[i] as [Buffer, Buffer]);
      if (newest.length >= settings.dedupWindowSpans) break;
    }
    for (let i = newest.length - 1; i >= 0; i--) {
      const [traceId, spanId] = newest[i] as [Buffer, Buffer];
      this.dedup.seen(traceId, spanId);
    }
    this.latency = new LatencyStore(db, settings.latency, this.services, this.names);
    this.stmt = {
      chunk: db.prepare(WRITER_SQL.insertTraceChunk),
      search: db.prepare(WRITER_SQL.insertTraceSearch),
      ingestMinute: db.prepare(WRITER_SQL.insertIngestMinute),
      maxChunk: db.prepare(WRITER_SQL.maxChunkId),
    };
  }

  /**
   * Stores the spans of several requests in one transaction and returns how many spans of each request
   * were accepted (duplicates of recently stored spans count as accepted: they are stored already).
   * Throws if the transaction fails; then nothing of the batch is stored.
   */
  writeBatch(requests: readonly DecodedTraces[], nowMs: number): number[] {
    const newKeys: number[] = [];
    const committed: CommittedChunk[] = [];
    let accepted: number[];
    try {
      accepted = this.db.transaction(() => this.insertAll(requests, nowMs, newKeys, committed))();
    } catch (err) {
      for (const slot of newKeys) this.dedup.forget(slot);
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
      for (const { chunkId, spans } of committed) {
        for (const p of spans) {
          const durationNs = p.endNs > p.startNs ? Number(p.endNs - p.startNs) : 0;
          // ERR-v1's effective error (status, else HTTP/gRPC codes), the same one find_errors and trace
          // search use, so error rates, SLO availability and alerts agree with the error analysis.
          this.latency.record(chunkId, p.serviceId, p.nameId, p.kind, p.span.effectiveError, Number(p.startNs), durationNs, nowMs);
        }
      }
    } catch {
      this.latency.holdWatermark();
    }
    return accepted;
  }

  private insertAll(requests: readonly DecodedTraces[], nowMs: number, newKeys: number[], committed: CommittedChunk[]): number[] {
    const accepted: number[] = [];
    const byTrace = new Map<string, PendingSpan[]>();
    for (const request of requests) {
      let count = 0;
      for (const resource of request.resources) {
        const serviceId = this.services.idFor(resource.serviceName);
        const resourceId = this.resources.idFor(resource.digest ? asBuffer(resource.digest) : BlobDictionary.digest(resource.schemaUrl, resource.raw), [
          serviceId,
          resource.schemaUrl,
          resource.raw ? asBuffer(resource.raw) : null,
        ]);
        for (const scope of resource.scopes) {
          const scopeId = this.scopes.idFor(scope.digest ? asBuffer(scope.digest) : BlobDictionary.digest(scope.schemaUrl, scope.raw), [
            scope.schemaUrl,
            scope.raw ? asBuffer(scope.raw) : null,
          ]);
          for (const span of scope.spans) {
            count++;
            if (this.dedup.seen(span.traceId, span.spanId)) continue;
            newKeys.push(this.dedup.lastSlot);
            const traceKey = this.traceKey(span.traceId);
            const pending: PendingSpan = {
              span,
              spanId: span.spanId,
              parentSpanId: span.parentSpanId,
              kind: span.kind,
              statusCode: span.statusCode,
              serviceId,
              nameId: this.names.idFor(span.name),
              resourceId,
              scopeId,
              startNs: span.startNs,
              endNs: span.endNs,
              raw: span.raw,
              flags: SPAN_FLAG_KNOWN | (span.effectiveError ? SPAN_FLAG_EFFECTIVE_ERROR : 0) | (span.hasLinks ? SPAN_FLAG_HAS_LINKS : 0),
            };
            const group = byTrace.get(traceKey);
            if (group) group.push(pending);
            else byTrace.set(traceKey, [pending]);
          }
        }
      }
      accepted.push(count);
    }
    // Do not keep the last request body alive until the next batch.
    this.keySource = this.keyBytes = undefined;
    if (byTrace.size > 0) this.noteIngestMinute(nowMs);
    const search = new SearchBlockBuilder();
    for (const group of byTrace.values()) this.insertTrace(group, committed, search);
    for (const b of search.blocks()) {
      this.stmt.search.run(b.serviceId, b.second, b.firstChunkId, b.entryCount, b.maxDurationNs, b.errors, b.entries);
    }
    return accepted;
  }

  /**
   * The trace id as a latin1 string (a Map key), read through one Buffer per request body: the ids are
   * views into it, and a Buffer per span cost ~0.1 µs plus garbage.
   */
  private traceKey(traceId: Uint8Array): string {
    if (traceId.buffer !== this.keySource) {
      this.keySource = traceId.buffer;
      this.keyBytes = Buffer.from(traceId.buffer);
    }
    return (this.keyBytes as Buffer).toString('latin1', traceId.byteOffset, traceId.byteOffset + traceId.byteLength);
  }

  private noteIngestMinute(nowMs: number): void {
    const minute = Math.floor(nowMs / MINUTE_MS);
    if (minute === this.currentIngestMinute) return;
    const firstChunk = Number((this.stmt.maxChunk.get() as { id: number }).id) + 1;
    this.stmt.ingestMinute.run(minute, firstChunk);
    this.currentIngestMinute = minute;
  }

  private insertTrace(group: PendingSpan[], committed: CommittedChunk[], searchBlocks: SearchBlockBuilder): void {
    const traceId = asBuffer((group[0] as PendingSpan).span.traceId);
    let start = 0n;
    let end = 0n;
    let errors = 0;
    let root: PendingSpan | undefined;
    let earliest: PendingSpan | undefined;
    // service id -> its search entry for this chunk (operations by name id)
    const search = new Map<number, SearchEntry>();
    // Chunk and search error counts are ERR-v1 effective errors (find_errors, find_traces error=true);
    // latency series keep the status code (RED's statusCode buckets).
    for (const p of group) {
      const isError = p.span.effectiveError;
      const duration = p.endNs > p.startNs ? p.endNs - p.startNs : 0n;
      if (earliest === undefined || p.startNs < start) {
        start = p.startNs;
        earliest = p;
      }
      if (p.endNs > end) end = p.endNs;
      if (isError) errors++;
      if (root === undefined && p.parentSpanId.length === 0) root = p;
      let service = search.get(p.serviceId);
      if (!service) {
        search.set(p.serviceId, (service = { traceId: p.span.traceId, startNs: p.startNs, chunkId: 0, maxDurationNs: 0n, errors: 0, ops: new Map() }));
      }
      if (p.startNs < service.startNs) service.startNs = p.startNs;
      if (duration > service.maxDurationNs) service.maxDurationNs = duration;
      if (isError) service.errors++;
      const op = service.ops.get(p.nameId);
      if (op) {
        if (duration > op.maxDurationNs) op.maxDurationNs = duration;
        if (isError) op.errors++;
      } else {
        service.ops.set(p.nameId, { nameId: p.nameId, errors: isError ? 1 : 0, maxDurationNs: duration });
      }
    }
    const head = root ?? (earliest as PendingSpan);
    const chunkId = Number(
      this.stmt.chunk.run(
        traceId,
        start,
        end < start ? start : end,
        group.length,
        errors,
        root ? 1 : 0,
        head.serviceId,
        head.nameId,
        packSpans(group),
      ).lastInsertRowid,
    );
    for (const [serviceId, entry] of search) {
      entry.chunkId = chunkId;
      searchBlocks.add(serviceId, entry);
    }
    committed.push({ chunkId, spans: group });
  }
}
