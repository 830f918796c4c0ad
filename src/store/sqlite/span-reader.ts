import type Database from 'better-sqlite3';
import { READER_SQL, TRACE_BATCH } from './sql.js';
import { HistogramCache } from './histogram-cache.js';
import { MergedLatency } from '../histograms/sparse-latency.js';
import { fullSpans, mayBeError, mayHaveLinks, timingSpan } from './trace-spans.js';
import { decodeSpanDetailsFast, decodeSpanLinks } from '../../codec/span-links.js';
import { PackedSpans } from './span-pack.js';
import { SearchEntries, searchOf } from './search-blocks.js';
import { TraceSampler } from './trace-sampler.js';
import { traceColumns } from './trace-columns.js';
import type { TraceSpan } from '../../model/trace.js';
import type { TraceColumns, TraceColumnsDetail } from '../../model/trace-columns.js';
import type {
  LatencyQuery,
  LatencyReader,
  OperationStats,
  OperationStatsQuery,
  OperationStatsReader,
  TraceDetail,
  TraceSpanReader,
  ServiceSummary,
  SpanReader,
  StoredBlob,
  StoredSpan,
  StoredTrace,
  TraceIdSample,
  TraceSearchQuery,
  TraceSummary,
} from '../ports.js';
import type { LatencyDistribution } from '../../analysis/latency.js';

type Statements = { [K in keyof typeof READER_SQL]: Database.Statement };

/** A trace_chunks row's summary columns (safe integers); tests read whole rows as this plus trace_id and spans. */
export interface ChunkRow {
  id: bigint;
  start_ns: bigint;
  end_ns: bigint;
  span_count: bigint;
  error_count: bigint;
  has_root: bigint;
  root_service_id: bigint;
  root_name_id: bigint;
}

/**
 * Queries over the span database through a read-only connection (WAL readers never block the writer).
 * All integers are read as BigInt (`safeIntegers`) so nanosecond timestamps keep full precision.
 */
export class SqliteSpanReader implements SpanReader, LatencyReader, TraceSpanReader, OperationStatsReader {
  private readonly stmt: Statements;
  private readonly names = new Map<number, string>();
  private readonly histograms: HistogramCache;
  private readonly sampler: TraceSampler;

  constructor(private readonly db: Database.Database) {
    this.stmt = Object.fromEntries(
      Object.entries(READER_SQL).map(([key, sql]) => [key, db.prepare(sql).safeIntegers(true)]),
    ) as Statements;
    this.histograms = new HistogramCache(this.stmt);
    this.sampler = new TraceSampler(db);
  }

  async listServices(): Promise<ServiceSummary[]> {
    const counts = new Map<bigint, bigint>();
    for (const row of this.stmt.serviceSpanCounts.all() as { service_id: bigint; spans: bigint }[]) {
      counts.set(row.service_id, row.spans);
    }
    return (this.stmt.services.all() as { id: bigint; name: string }[]).map((row) => ({
      name: row.name,
      spanCount: Number(counts.get(row.id) ?? 0n),
    }));
  }

  async searchTraces(query: TraceSearchQuery): Promise<TraceSummary[] | null> {
    let serviceIds: bigint[];
    if (query.service !== undefined) {
      const id = this.serviceId(query.service);
      if (id === null) return null;
      serviceIds = [id];
    } else {
      serviceIds = (this.stmt.services.all() as { id: bigint }[]).map((r) => r.id);
    }
    let nameId: bigint | null = null;
    if (query.operation !== undefined) {
      nameId = this.spanNameId(query.operation);
      if (nameId === null) return [];
    }
    const summaries: TraceSummary[] = [];
    for (const c of this.candidates(serviceIds, nameId, query)) {
      const summary = this.summarize(c);
      if (summary) summaries.push(summary);
      if (summaries.length >= query.limit) break;
    }
    return summaries;
  }

  async sampleTraceIds(query: TraceSearchQuery): Promise<TraceIdSample | null> {
    const serviceIds = query.service !== undefined ? [this.serviceId(query.service)] : (this.stmt.services.all() as { id: bigint }[]).map((r) => r.id);
    if (serviceIds[0] === null) return null;
    const nameId = query.operation !== undefined ? this.spanNameId(query.operation) : null;
    if (query.operation !== undefined && nameId === null) return { traceIds: [], matched: 0, matchedExact: true };
    return this.sampler.sample(serviceIds as bigint[], nameId, query);
  }

  /** Distinct trace ids matching the query, newest first across services. */
  private candidates(serviceIds: bigint[], nameId: bigint | null, query: TraceSearchQuery): Buffer[] {
    const rows: { traceId: Buffer; startNs: bigint }[] = [];
    for (const service of serviceIds) rows.push(...this.searchService(service, nameId, query));
    rows.sort((a, b) => (a.startNs === b.startNs ? 0 : a.startNs > b.startNs ? -1 : 1));
    const seen = new Set<string>();
    const out: Buffer[] = [];
    for (const c of rows) {
      const hex = c.traceId.toString('hex');
      if (seen.has(hex)) continue;
      seen.add(hex);
      out.push(c.traceId);
    }
    return out;
  }

  async getTrace(traceId: string): Promise<StoredTrace | null> {
    const id = Buffer.from(traceId, 'hex');
    const chunks = this.stmt.traceChunkSpans.all(id) as { id: bigint; spans: Buffer }[];
    if (chunks.length === 0) return null;
    const spans: StoredSpan[] = [];
    const resources = new Map<number, StoredBlob>();
    const scopes = new Map<number, StoredBlob>();
    for (const chunk of chunks) {
      for (const span = new PackedSpans(chunk.spans); span.next(); ) {
        const resourceId = span.resourceId;
        const scopeId = span.scopeId;
        if (!resources.has(resourceId)) resources.set(resourceId, this.blob(this.stmt.resourceById, resourceId));
        if (!scopes.has(scopeId)) scopes.set(scopeId, this.blob(this.stmt.scopeById, scopeId));
        spans.push({
          spanId: span.spanId.toString('hex'),
          parentSpanId: span.parentSpanId.toString('hex'),
          service: this.serviceName(BigInt(span.serviceId)),
          name: this.spanName(BigInt(span.nameId)),
          kind: span.kind,
          startNs: span.startNs,
          endNs: span.endNs,
          statusCode: span.statusCode,
          resourceId,
          scopeId,
          raw: span.raw,
        });
      }
    }
    return { traceId: id.toString('hex'), spans, resources, scopes };
  }

  async latency(query: LatencyQuery): Promise<LatencyDistribution | null> {
    const serviceId = this.serviceId(query.service);
    if (serviceId === null) return null;
    let nameId: bigint | null = null;
    if (query.operation !== undefined) {
      nameId = this.spanNameId(query.operation);
      if (nameId === null) return null;
    }
    const series = (this.stmt.latencySeriesFor.all(serviceId) as {
      id: bigint;
      name_id: bigint;
      kind: bigint;
      is_error: bigint;
    }[]).filter(
      (s) =>
        (nameId === null || s.name_id === nameId) &&
        (query.kind === undefined || Number(s.kind) === query.kind) &&
        (query.error === undefined || (s.is_error === 1n) === query.error),
    );
    if (nameId !== null && series.length === 0) return null;
    const merged = new MergedLatency();
    for (const s of series) this.histograms.merge(s.id, query.startNs, query.endNs, merged);
    return merged;
  }

  async operationStats(query: OperationStatsQuery): Promise<OperationStats[] | null> {
    let serviceId: bigint | null = null;
    if (query.service !== undefined) {
      serviceId = this.serviceId(query.service);
      if (serviceId === null) return null;
    }
    const rows = new Map<string, OperationStats & { merged: MergedLatency }>();
    const seriesList = (this.stmt.allLatencySeries.all() as { id: bigint; service_id: bigint; name_id: bigint; kind: bigint; is_error: bigint }[]).filter(
      (s) => (serviceId === null || s.service_id === serviceId) && (query.kinds === undefined || query.kinds.includes(Number(s.kind))),
    );
    const wanted = new Set(seriesList.map((s) => s.id));
    // One service: a few seeks per series; everything: three index range scans over the window.
    const bySeries = serviceId !== null ? null : this.histograms.mergeAll(query.startNs, query.endNs, (id) => wanted.has(id));
    for (const s of seriesList) {
      let series = bySeries?.get(s.id);
      if (!bySeries) this.histograms.merge(s.id, query.startNs, query.endNs, (series = new MergedLatency()));
      if (!series || series.count === 0) continue;
      const byService = query.groupBy === 'service';
      const key = byService ? `${s.service_id}` : `${s.service_id}:${s.name_id}:${s.kind}`;
      let row = rows.get(key);
      if (!row) {
        const merged = new MergedLatency();
        const operation = byService ? '' : this.spanName(s.name_id);
        row = { service: this.serviceName(s.service_id), operation, kind: byService ? -1 : Number(s.kind), errorCount: 0, latency: merged, merged };
        rows.set(key, row);
      }
      row.merged.addMerged(series);
      if (s.is_error === 1n) row.errorCount += series.count;
    }
    return [...rows.values()].map(({ merged: _merged, ...row }) => row);
  }

  async getTraceSpans(traceId: string, options: { detail: TraceDetail }): Promise<TraceSpan[] | null> {
    if (options.detail === 'full') {
      const trace = await this.getTrace(traceId);
      return trace ? fullSpans(trace) : null;
    }
    const chunks = this.stmt.traceChunkSpans.all(Buffer.from(traceId, 'hex')) as { id: bigint; spans: Buffer }[];
    if (chunks.length === 0) return null;
    const spans: TraceSpan[] = [];
    for (const chunk of chunks) this.pushHeaderSpans(traceId, chunk.spans, options.detail, spans);
    return spans;
  }

  async getTraceColumns(traceId: string, options: { detail: TraceColumnsDetail } = { detail: 'links' }): Promise<TraceColumns | null> {
    const chunks = this.stmt.traceChunkSpans.all(Buffer.from(traceId, 'hex')) as { spans: Buffer }[];
    if (chunks.length === 0) return null;
    return traceColumns(
      traceId,
      chunks.map((c) => c.spans),
      (id) => this.lookupName(id, this.stmt.services, 'service'),
      (id) => this.lookupName(id, this.stmt.spanNames, 'span'),
      options.detail,
    );
  }

  /**
   * Many traces at once. `timing` and `links` read the chunks (packed spans included) of 256 traces per
   * statement, so 10k traces cost 40 statements and no per-span rows.
   */
  async getTracesSpans(traceIds: readonly string[], options: { detail: TraceDetail }): Promise<Map<string, TraceSpan[]>> {
    const out = new Map<string, TraceSpan[]>();
    if (options.detail === 'full') {
      for (const traceId of traceIds) {
        const spans = await this.getTraceSpans(traceId, options);
        if (spans) out.set(traceId, spans);
      }
      return out;
    }
    const chunks: { traceId: string; id: bigint; spans: Buffer }[] = [];
    for (let i = 0; i < traceIds.length; i += TRACE_BATCH) {
      const ids = traceIds.slice(i, i + TRACE_BATCH).map((id) => Buffer.from(id, 'hex'));
      const params = Array.from({ length: TRACE_BATCH }, (_, k) => ids[k] ?? ids[0]);
      for (const row of this.stmt.chunksForTraces.all(...params) as { trace_id: Buffer; id: bigint; spans: Buffer }[]) {
        chunks.push({ traceId: row.trace_id.toString('hex'), id: row.id, spans: row.spans });
      }
    }
    // Arrival order within a trace, as getTrace returns it.
    chunks.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    for (const chunk of chunks) {
      let spans = out.get(chunk.traceId);
      if (!spans) out.set(chunk.traceId, (spans = []));
      this.pushHeaderSpans(chunk.traceId, chunk.spans, options.detail, spans);
    }
    return out;
  }

  /** Spans from the packed headers; links of spans that have some (ingest flags them); details of error spans. */
  private pushHeaderSpans(traceId: string, packed: Buffer, detail: Exclude<TraceDetail, 'full'>, into: TraceSpan[]): void {
    for (const span = new PackedSpans(packed); span.next(); ) {
      const s = timingSpan(traceId, span, this.lookupName(span.serviceId, this.stmt.services, 'service'), this.lookupName(span.nameId, this.stmt.spanNames, 'span'));
      if (detail === 'errors' && mayBeError(span)) {
        const d = decodeSpanDetailsFast(span.raw);
        s.attributes = d.attributes;
        s.events = d.events;
        s.links = d.links;
        s.statusMessage = d.statusMessage;
      } else if (detail !== 'timing' && mayHaveLinks(span.flags)) s.links = decodeSpanLinks(span.raw);
      into.push(s);
    }
  }

  close(): void {
    this.db.close();
  }

  private searchService(service: bigint, nameId: bigint | null, query: TraceSearchQuery): { traceId: Buffer; startNs: bigint }[] {
    // Blocks newest second first. Within a second, entries are ordered newest first (ties: the later
    // chunk first); stop once `limit` distinct traces matched.
    const found: { traceId: Buffer; startNs: bigint }[] = [];
    const distinct = new Set<string>();
    const { filter, blocks } = searchOf(query, nameId);
    const rows = this.stmt.searchByService.iterate({
      service,
      ...blocks,
    }) as IterableIterator<{ second: bigint; entries: Buffer }>;
    let second: bigint | undefined;
    let inSecond: { traceId: Buffer; startNs: bigint; chunkId: number }[] = [];
    const takeSecond = (): boolean => {
      inSecond.sort((a, b) => (a.startNs > b.startNs ? -1 : a.startNs < b.startNs ? 1 : b.chunkId - a.chunkId));
      for (const e of inSecond) {
        found.push({ traceId: e.traceId, startNs: e.startNs });
        distinct.add(e.traceId.toString('latin1'));
        if (distinct.size >= query.limit) return true;
      }
      inSecond = [];
      return false;
    };
    for (const row of rows) {
      if (row.second !== second && takeSecond()) return found;
      second = row.second;
      for (const entry = new SearchEntries(row.entries); entry.advance(); ) {
        if (entry.matches(filter)) inSecond.push({ traceId: entry.traceId, startNs: entry.startNs, chunkId: entry.chunkId });
      }
    }
    takeSecond();
    return found;
  }

  private summarize(traceId: Buffer): TraceSummary | null {
    const chunks = this.stmt.traceChunkSummaries.all(traceId) as ChunkRow[];
    if (chunks.length === 0) return null;
    let start = chunks[0]!.start_ns;
    let end = chunks[0]!.end_ns;
    let spans = 0n;
    let errors = 0n;
    let head = chunks[0]!;
    for (const c of chunks) {
      if (c.start_ns < start) start = c.start_ns;
      if (c.end_ns > end) end = c.end_ns;
      spans += c.span_count;
      errors += c.error_count;
      const better = c.has_root > head.has_root || (c.has_root === head.has_root && c.start_ns < head.start_ns);
      if (better) head = c;
    }
    return {
      traceId: traceId.toString('hex'),
      rootService: this.serviceName(head.root_service_id),
      rootOperation: this.spanName(head.root_name_id),
      hasRoot: head.has_root === 1n,
      startNs: start,
      durationNs: end - start,
      spanCount: Number(spans),
      errorCount: Number(errors),
    };
  }

  private blob(statement: Database.Statement, id: number): StoredBlob {
    const row = statement.get(id) as { schema_url: string; raw: Buffer | null } | undefined;
    return { schemaUrl: row?.schema_url ?? '', raw: row?.raw ?? null };
  }

  private serviceId(name: string): bigint | null {
    const row = this.stmt.serviceIdByName.get(name) as { id: bigint } | undefined;
    return row ? row.id : null;
  }

  private spanNameId(name: string): bigint | null {
    const row = this.stmt.spanNameIdByName.get(name) as { id: bigint } | undefined;
    return row ? row.id : null;
  }

  private serviceName(id: bigint): string {
    return this.lookupName(id, this.stmt.services, 'service');
  }

  private spanName(id: bigint): string {
    return this.lookupName(id, this.stmt.spanNames, 'span');
  }

  /** Names never change once assigned, so they are cached; a miss reloads the (small) dictionaries. */
  private lookupName(id: bigint | number, all: Database.Statement, kind: 'service' | 'span'): string {
    const key = Number(id) * 2 + (kind === 'service' ? 0 : 1);
    let name = this.names.get(key);
    if (name === undefined) {
      for (const row of all.all() as { id: bigint; name: string }[]) {
        this.names.set(Number(row.id) * 2 + (kind === 'service' ? 0 : 1), row.name);
      }
      name = this.names.get(key) ?? '';
    }
    return name;
  }
}
