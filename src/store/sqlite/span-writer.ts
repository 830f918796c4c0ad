import type Database from 'better-sqlite3';
import { WRITER_SQL } from './sql.js';
import { BLOB_DIGEST_BYTES, BlobDictionary, NameDictionary } from './dictionaries.js';
import { DedupWindow } from './dedup-window.js';
import { LatencyStore, type LatencySettings } from './latency-store.js';
import { PackedSpans } from './span-pack.js';
import { SearchBlockBuilder, startSecond } from './search-blocks.js';
import { grown } from './typed-arrays.js';
import { flattenDecoded, type TransferredTraces } from './decoded-transfer.js';
import { LAYOUT } from '../../codec/trace-layout.js';
import { RequestView, SpanColumns, isEffectiveError, kindOf, packTrace, spanBits } from './span-batch.js';
import type { DecodedTraces } from '../../model/decoded.js';

export interface SpanWriterSettings {
  latency: LatencySettings;
  /** Span keys remembered to drop re-sent duplicates (see DedupWindow). */
  dedupWindowSpans: number;
}

/** Durations as doubles are exact below 2^53 ns (104 days); longer ones are told apart exactly on ties. */
const EXACT_DOUBLE_NS = 2 ** 53;

const MINUTE_MS = 60_000;
/** durationWords' result: low and high u32 word. */
const DURATION = new Uint32Array(2);
const EMPTY = new Uint8Array(0);
const { NONE, SPAN_WORDS } = LAYOUT;

function digestAt(bytes: Buffer, offset: number): Buffer {
  return bytes.subarray(offset, offset + BLOB_DIGEST_BYTES);
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
  /** The current commit's new spans; reused, so a commit allocates no typed arrays once warm. */
  private readonly spans = new SpanColumns();
  /** Name id per string index of the request being read (-1: not looked up yet). */
  private nameIds = new Int32Array(256);
  /** A trace chunk's span indexes, sorted to find its search entries. */
  private order = new Int32Array(256);
  private readonly search = new SearchBlockBuilder();

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
  writeBatch(requests: readonly TransferredTraces[], nowMs: number): number[] {
    const views = requests.map((t) => new RequestView(t));
    const newKeys: number[] = [];
    let accepted: number[];
    try {
      accepted = this.db.transaction(() => this.insertAll(views, nowMs, newKeys))();
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
    const spans = this.spans;
    try {
      for (let i = 0; i < spans.length; i++) {
        const view = views[spans.request[i] as number] as RequestView;
        const time = spans.time[i] as number;
        const bits = spanBits(spans, views, i);
        // ERR-v1's effective error (status, else HTTP/gRPC codes), the same one find_errors and trace
        // search use, so error rates, SLO availability and alerts agree with the error analysis.
        this.latency.record(
          spans.chunk[i] as number,
          spans.service[i] as number,
          spans.name[i] as number,
          kindOf(bits),
          isEffectiveError(bits),
          view.startNumber(time),
          view.durationNs(time),
          nowMs,
        );
      }
    } catch {
      this.latency.holdWatermark();
    }
    spans.reset();
    return accepted;
  }

  /**
   * writeBatch for requests decoded any other way than the receiving thread's decoder (tests, tools):
   * flattened first, with every view copied.
   */
  writeDecoded(requests: readonly DecodedTraces[], nowMs: number): number[] {
    return this.writeBatch(
      requests.map((d) => flattenDecoded(d, EMPTY, false)),
      nowMs,
    );
  }

  private insertAll(views: readonly RequestView[], nowMs: number, newKeys: number[]): number[] {
    const accepted: number[] = [];
    const spans = this.spans;
    spans.reset();
    for (let r = 0; r < views.length; r++) {
      const view = views[r] as RequestView;
      const { layout, bytes } = view;
      const strings = view.transferred.strings;
      if (this.nameIds.length < strings.length) this.nameIds = new Int32Array(2 * strings.length);
      const nameIds = this.nameIds.fill(-1, 0, strings.length);
      let count = 0;
      let w = 0;
      let time = 0;
      const resourceCount = layout[w++] as number;
      for (let ri = 0; ri < resourceCount; ri++) {
        const serviceId = this.services.idFor(strings[layout[w] as number] as string);
        const resourceId = this.resources.idFor(digestAt(bytes, layout[w + 4] as number), [
          serviceId,
          strings[layout[w + 1] as number] as string,
          this.blob(bytes, layout[w + 2] as number, layout[w + 3] as number),
        ]);
        const scopeCount = layout[w + 5] as number;
        w += 6;
        for (let si = 0; si < scopeCount; si++) {
          const scopeId = this.scopes.idFor(digestAt(bytes, layout[w + 3] as number), [
            strings[layout[w] as number] as string,
            this.blob(bytes, layout[w + 1] as number, layout[w + 2] as number),
          ]);
          const spanCount = layout[w + 4] as number;
          w += 5;
          for (let k = 0; k < spanCount; k++, w += SPAN_WORDS, time++) {
            count++;
            const traceAt = layout[w] as number;
            if (this.dedup.seenAt(bytes, traceAt, layout[w + 1] as number)) continue;
            newKeys.push(this.dedup.lastSlot);
            const nameIndex = layout[w + 3] as number;
            let nameId = nameIds[nameIndex] as number;
            if (nameId < 0) nameIds[nameIndex] = nameId = this.names.idFor(strings[nameIndex] as string);
            spans.push(bytes.toString('latin1', traceAt, traceAt + 16), r, w, time, serviceId, nameId, resourceId, scopeId);
          }
        }
      }
      accepted.push(count);
    }
    if (spans.traceCount > 0) this.noteIngestMinute(nowMs);
    const search = this.search.reset();
    for (let t = 0; t < spans.traceCount; t++) this.insertTrace(views, spans.head[t] as number, search);
    for (const b of search.blocks()) {
      this.stmt.search.run(b.serviceId, b.second, b.firstChunkId, b.entryCount, b.maxDurationNs, b.errors, b.entries);
    }
    return accepted;
  }

  /** A resource's or scope's bytes (a view into the request), or null when unset. */
  private blob(bytes: Buffer, offset: number, length: number): Buffer | null {
    return offset === NONE ? null : bytes.subarray(offset, offset + length);
  }

  private noteIngestMinute(nowMs: number): void {
    const minute = Math.floor(nowMs / MINUTE_MS);
    if (minute === this.currentIngestMinute) return;
    const firstChunk = Number((this.stmt.maxChunk.get() as { id: number }).id) + 1;
    this.stmt.ingestMinute.run(minute, firstChunk);
    this.currentIngestMinute = minute;
  }

  /** Inserts the chunk of the trace whose first span in this commit is `first`, and its search entries. */
  private insertTrace(views: readonly RequestView[], first: number, search: SearchBlockBuilder): void {
    const spans = this.spans;
    const viewOf = (i: number): RequestView => views[spans.request[i] as number] as RequestView;
    let earliest = -1;
    let latest = -1;
    let root = -1;
    let count = 0;
    let errors = 0;
    // Chunk and search error counts are ERR-v1 effective errors (find_errors, find_traces error=true);
    // latency series keep the status code (RED's statusCode buckets).
    for (let i = first; i >= 0; i = spans.next[i] as number) {
      if (count >= this.order.length) this.order = grown(this.order, count + 1);
      this.order[count++] = i;
      const view = viewOf(i);
      const time = spans.time[i] as number;
      if (isEffectiveError(spanBits(spans, views, i))) errors++;
      if (earliest < 0 || view.timeBefore(time, viewOf(earliest), spans.time[earliest] as number, false)) earliest = i;
      if (latest < 0 || viewOf(latest).timeBefore(spans.time[latest] as number, view, time, true)) latest = i;
      if (root < 0 && view.layout[(spans.word[i] as number) + 2] === NONE) root = i;
    }
    const head = root >= 0 ? root : earliest;
    const firstView = viewOf(first);
    const traceAt = firstView.layout[spans.word[first] as number] as number;
    const start = this.startOf(views, earliest);
    const end = viewOf(latest).times64[2 * (spans.time[latest] as number) + 1] as bigint;
    const chunkId = Number(
      this.stmt.chunk.run(
        firstView.bytes.subarray(traceAt, traceAt + 16),
        start,
        end < start ? start : end,
        count,
        errors,
        root >= 0 ? 1 : 0,
        spans.service[head] as number,
        spans.name[head] as number,
        packTrace(spans, views, first),
      ).lastInsertRowid,
    );
    for (let i = first; i >= 0; i = spans.next[i] as number) spans.chunk[i] = chunkId;
    // One search entry per service of the chunk, with one operation per span name: runs of the spans
    // sorted by (service, name). Only values are stored, so ties need no order.
    const order = this.order.subarray(0, count);
    const service = spans.service;
    const name = spans.name;
    order.sort((a, b) => (service[a] as number) - (service[b] as number) || (name[a] as number) - (name[b] as number));
    for (let k = 0; k < count; ) {
      const serviceId = service[order[k] as number] as number;
      let entryEnd = k;
      let entryEarliest = order[k] as number;
      while (entryEnd < count && service[order[entryEnd] as number] === serviceId) {
        const i = order[entryEnd] as number;
        if (viewOf(i).timeBefore(spans.time[i] as number, viewOf(entryEarliest), spans.time[entryEarliest] as number, false)) entryEarliest = i;
        entryEnd++;
      }
      const earliestView = viewOf(entryEarliest);
      const earliestTime = spans.time[entryEarliest] as number;
      search.begin(serviceId, startSecond(this.startOf(views, entryEarliest)), chunkId, firstView.bytes, traceAt, earliestView.startWord(earliestTime, false), earliestView.startWord(earliestTime, true));
      let entryLongest = -1;
      let entryErrors = 0;
      for (let opStart = k; opStart < entryEnd; ) {
        const nameId = name[order[opStart] as number] as number;
        let opLongest = -1;
        let opErrors = 0;
        let opEnd = opStart;
        for (; opEnd < entryEnd && name[order[opEnd] as number] === nameId; opEnd++) {
          const i = order[opEnd] as number;
          if (isEffectiveError(spanBits(spans, views, i))) opErrors++;
          if (opLongest < 0 || this.longer(views, i, opLongest)) opLongest = i;
        }
        this.durationWords(views, opLongest);
        search.op(nameId, opErrors, DURATION[0] as number, DURATION[1] as number);
        entryErrors += opErrors;
        if (entryLongest < 0 || this.longer(views, opLongest, entryLongest)) entryLongest = opLongest;
        opStart = opEnd;
      }
      this.durationWords(views, entryLongest);
      search.end(entryErrors, DURATION[0] as number, DURATION[1] as number);
      k = entryEnd;
    }
  }

  /** Whether span `i` lasted longer than span `than`: as doubles, exactly when those tie past 2^53 ns. */
  private longer(views: readonly RequestView[], i: number, than: number): boolean {
    const duration = this.durationOf(views, i);
    const thanDuration = this.durationOf(views, than);
    if (duration !== thanDuration) return duration > thanDuration;
    return duration >= EXACT_DOUBLE_NS && this.exactDuration(views, i) > this.exactDuration(views, than);
  }

  private durationOf(views: readonly RequestView[], i: number): number {
    return (views[this.spans.request[i] as number] as RequestView).durationNs(this.spans.time[i] as number);
  }

  /** Span `i`'s exact duration into DURATION as low and high u32 words. */
  private durationWords(views: readonly RequestView[], i: number): void {
    (views[this.spans.request[i] as number] as RequestView).durationWords(this.spans.time[i] as number, DURATION);
  }

  private exactDuration(views: readonly RequestView[], i: number): bigint {
    const view = views[this.spans.request[i] as number] as RequestView;
    const time = this.spans.time[i] as number;
    const start = view.times64[2 * time] as bigint;
    const end = view.times64[2 * time + 1] as bigint;
    return end > start ? end - start : 0n;
  }

  private startOf(views: readonly RequestView[], i: number): bigint {
    const view = views[this.spans.request[i] as number] as RequestView;
    return view.times64[2 * (this.spans.time[i] as number)] as bigint;
  }
}
