import type Database from 'better-sqlite3';
import { READER_SQL } from './sql.js';
import { PackedSpans, someOperationMatches } from './span-pack.js';
import { decodeHistogram, HDR_SIGNIFICANT_DIGITS, newLatencyHistogram } from '../histograms/latency-hdr.js';
import type {
  LatencyQuery,
  LatencyReader,
  ServiceSummary,
  SpanReader,
  StoredBlob,
  StoredSpan,
  StoredTrace,
  TraceSearchQuery,
  TraceSummary,
} from '../ports.js';
import type { LatencyDistribution } from '../../analysis/latency.js';

type Statements = { [K in keyof typeof READER_SQL]: Database.Statement };

interface ChunkRow {
  id: bigint;
  start_ns: bigint;
  end_ns: bigint;
  span_count: bigint;
  error_count: bigint;
  has_root: bigint;
  root_service_id: bigint;
  root_name_id: bigint;
}

const MINUTE_NS = 60_000_000_000n;

/**
 * Queries over the span database through a read-only connection (WAL readers never block the writer).
 * All integers are read as BigInt (`safeIntegers`) so nanosecond timestamps keep full precision.
 */
export class SqliteSpanReader implements SpanReader, LatencyReader {
  private readonly stmt: Statements;
  private readonly names = new Map<number, string>();

  constructor(private readonly db: Database.Database) {
    this.stmt = Object.fromEntries(
      Object.entries(READER_SQL).map(([key, sql]) => [key, db.prepare(sql).safeIntegers(true)]),
    ) as Statements;
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
    // Newest first across services: take the newest candidates of each, then merge.
    const candidates: { traceId: Buffer; startNs: bigint }[] = [];
    for (const service of serviceIds) {
      candidates.push(...this.searchService(service, nameId, query));
    }
    candidates.sort((a, b) => (a.startNs === b.startNs ? 0 : a.startNs > b.startNs ? -1 : 1));
    const seen = new Set<string>();
    const summaries: TraceSummary[] = [];
    for (const c of candidates) {
      const hex = c.traceId.toString('hex');
      if (seen.has(hex)) continue;
      seen.add(hex);
      const summary = this.summarize(c.traceId);
      if (summary) summaries.push(summary);
      if (summaries.length >= query.limit) break;
    }
    return summaries;
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
    // Whole hours from the hourly histograms, the ragged edges from the minute ones.
    const firstMinute = ceilDiv(query.startNs, MINUTE_NS);
    const endMinute = query.endNs / MINUTE_NS + 1n;
    const firstHour = ceilDiv(firstMinute, 60n);
    const endHour = endMinute / 60n;
    const merged = newLatencyHistogram();
    const add = (rows: { hist: string }[]): void => {
      for (const row of rows) merged.add(decodeHistogram(row.hist));
    };
    for (const s of series) {
      if (firstHour < endHour) {
        add(this.stmt.latencyHours.all(s.id, firstHour, endHour) as { hist: string }[]);
        add(this.stmt.latencyMinutes.all(s.id, firstMinute, firstHour * 60n) as { hist: string }[]);
        add(this.stmt.latencyMinutes.all(s.id, endHour * 60n, endMinute) as { hist: string }[]);
      } else {
        add(this.stmt.latencyMinutes.all(s.id, firstMinute, endMinute) as { hist: string }[]);
      }
    }
    const count = merged.totalCount;
    return {
      count,
      minUs: count > 0 ? merged.minNonZeroValue : 0,
      maxUs: count > 0 ? merged.maxValue : 0,
      meanUs: count > 0 ? merged.mean : 0,
      valueAtPercentile: (p) => merged.getValueAtPercentile(p),
      relativeError: 10 ** -HDR_SIGNIFICANT_DIGITS,
    };
  }

  close(): void {
    this.db.close();
  }

  private searchService(service: bigint, nameId: bigint | null, query: TraceSearchQuery): { traceId: Buffer; startNs: bigint }[] {
    // One row per (service, chunk), newest first: stop once `limit` distinct traces matched.
    const found: { traceId: Buffer; startNs: bigint }[] = [];
    const distinct = new Set<string>();
    const minDuration = query.minDurationNs ?? 0n;
    const rows = this.stmt.searchByService.iterate({
      service,
      start: query.startNs,
      end: query.endNs,
      minDuration,
      minErrors: query.errorsOnly ? 1 : 0,
    }) as IterableIterator<{ trace_id: Buffer; start_ns: bigint; ops: Buffer }>;
    for (const row of rows) {
      if (!someOperationMatches(row.ops, nameId === null ? null : Number(nameId), minDuration, query.errorsOnly ?? false)) continue;
      found.push({ traceId: row.trace_id, startNs: row.start_ns });
      distinct.add(row.trace_id.toString('latin1'));
      if (distinct.size >= query.limit) break;
    }
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
  private lookupName(id: bigint, all: Database.Statement, kind: 'service' | 'span'): string {
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

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}
