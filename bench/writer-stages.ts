/**
 * Where the writer thread's time goes, measured in-process on one thread (no transport, no worker
 * hand-off), with the same pre-encoded requests as bench/ingest.ts:
 *   decode   what the receiving thread does per span: decode and validate into the flat hand-off layout
 *   writer   SqliteSpanWriter.writeBatch on the hand-off (group commit) + LatencyStore.flush every
 *            2 s, as the writer thread runs them (with its automatic checkpoint: no checkpoint thread here)
 *   sql      SQLite alone: one row per span (the layout packing replaced), packed trace chunks, then
 *            + trace_search_blocks, on fresh databases
 *   hdr      the cost of one latency histogram: allocate, encode (compress), decode
 *
 *   npx tsx bench/writer-stages.ts [--spans 400000] [--batch-requests 8] [--spans-per-request 500]
 *
 * stdout: one JSON line. Use it to decide what to optimise; bench/ingest.ts is the end-to-end number.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openWriterDb } from '../src/store/sqlite/open.js';
import { SqliteSpanWriter } from '../src/store/sqlite/span-writer.js';
import { WRITER_SQL } from '../src/store/sqlite/sql.js';
import { packSpans, type SpanToPack } from '../src/store/sqlite/span-pack.js';
import { SearchBlockBuilder, type SearchEntry } from '../src/store/sqlite/search-blocks.js';
import { decodeHistogram, encodeHistogram, newLatencyHistogram } from '../src/store/histograms/latency-hdr.js';
import { decodeForWriter, type TransferredTraces } from '../src/store/sqlite/decoded-transfer.js';
import { unflattenDecoded } from '../test/helpers/unflatten.js';
import { DEFAULT_SHAPE } from './lib/otlp-payload.js';
import { Lane, runNonce } from './lib/request-template.js';

const { values: opts } = parseArgs({
  options: {
    spans: { type: 'string', default: '400000' },
    'batch-requests': { type: 'string', default: '8' },
    'spans-per-request': { type: 'string', default: '500' },
  },
});
const totalSpans = Number(opts.spans);
const batchRequests = Number(opts['batch-requests']);
const shape = { ...DEFAULT_SHAPE, spansPerRequest: Number(opts['spans-per-request']) };
const round2 = (x: number): number => Math.round(x * 100) / 100;

/**
 * Fresh decoded batches: each request gets new ids and current timestamps, like real traffic. Decoded
 * as the receiving thread does it (decoded-transfer.ts), without redaction.
 */
function* batches(): Generator<{ decoded: TransferredTraces[]; spans: number; decodeMs: number }> {
  const lanes = Array.from({ length: batchRequests }, (_, k) => new Lane(k, shape, runNonce(), BigInt(Date.now()) * 1_000_000n, 3, 3));
  for (let done = 0; done < totalSpans; ) {
    const decoded: TransferredTraces[] = [];
    let spans = 0;
    let decodeMs = 0;
    for (const lane of lanes) {
      const body = lane.next().body;
      const t = performance.now();
      const d = decodeForWriter({ encoding: 'protobuf', body }, undefined);
      decodeMs += performance.now() - t;
      decoded.push(d);
      spans += d.spanCount;
    }
    done += spans;
    yield { decoded, spans, decodeMs };
  }
}

function withDb<T>(fn: (db: ReturnType<typeof openWriterDb>) => T): T {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spanlens-stages-'));
  const db = openWriterDb(dir);
  try {
    return fn(db);
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function writerStage(): Record<string, number> {
  return withDb((db) => {
    const writer = new SqliteSpanWriter(db, { latency: { maxSeries: 5000, staleSeriesMs: 3_600_000 }, dedupWindowSpans: 200_000 });
    let spans = 0;
    let decodeMs = 0;
    let writeMs = 0;
    let flushMs = 0;
    let flushes = 0;
    let maxFlushMs = 0;
    let maxBatchMs = 0;
    let lastFlush = performance.now();
    for (const b of batches()) {
      decodeMs += b.decodeMs;
      const t = performance.now();
      writer.writeBatch(b.decoded, Date.now());
      const dt = performance.now() - t;
      writeMs += dt;
      maxBatchMs = Math.max(maxBatchMs, dt);
      spans += b.spans;
      // The worker flushes on a 2 s wall-clock timer; emulate it on the time spent writing.
      if (performance.now() - lastFlush >= 2000) {
        const f = performance.now();
        writer.latency.flush();
        const fd = performance.now() - f;
        flushMs += fd;
        maxFlushMs = Math.max(maxFlushMs, fd);
        flushes++;
        lastFlush = performance.now();
      }
    }
    return {
      spans,
      decodeUsPerSpan: round2((decodeMs * 1000) / spans),
      writeBatchUsPerSpan: round2((writeMs * 1000) / spans),
      flushUsPerSpan: round2((flushMs * 1000) / spans),
      flushes,
      maxFlushMs: Math.round(maxFlushMs),
      maxBatchMs: Math.round(maxBatchMs),
      latencySeries: writer.latency.activeSeries,
    };
  });
}

type Level = 'row-per-span' | 'packed' | 'packed+search';

/** Rows one span costs when stored as its own row: the layout packed chunks replaced, kept to compare. */
const ROW_PER_SPAN_DDL = `CREATE TABLE spans_row_per_span (trace_id BLOB, span_id BLOB, parent_span_id BLOB,
  service_id INTEGER, name_id INTEGER, kind INTEGER, start_ns INTEGER, end_ns INTEGER, status_code INTEGER,
  resource_id INTEGER, scope_id INTEGER, raw BLOB)`;

/** The same rows the writer inserts, without dictionaries, dedup or histograms: what SQLite alone costs. */
function sqlStage(level: Level): number {
  return withDb((db) => {
    db.exec(ROW_PER_SPAN_DDL);
    const rowPerSpan = db.prepare(`INSERT INTO spans_row_per_span VALUES (${Array(12).fill('?').join(', ')})`);
    const chunk = db.prepare(WRITER_SQL.insertTraceChunk);
    const search = db.prepare(WRITER_SQL.insertTraceSearch);
    const ids = new Map<string, number>();
    const id = (s: string): number => ids.get(s) ?? (ids.set(s, ids.size + 1), ids.size);
    let spans = 0;
    let ms = 0;
    for (const b of batches()) {
      const t = performance.now();
      db.transaction(() => {
        const blocks = new SearchBlockBuilder();
        for (const d of b.decoded.map(unflattenDecoded)) {
          const byTrace = new Map<string, SpanToPack[]>();
          for (const r of d.resources) {
            const serviceId = id(r.serviceName);
            for (const sc of r.scopes) {
              for (const sp of sc.spans) {
                const k = Buffer.from(sp.traceId).toString('latin1');
                const g = byTrace.get(k) ?? [];
                g.push({ ...sp, serviceId, nameId: id(sp.name), resourceId: 1, scopeId: 1 });
                byTrace.set(k, g);
              }
            }
          }
          for (const [traceKey, group] of byTrace) {
            const traceId = Buffer.from(traceKey, 'latin1');
            const first = group[0] as SpanToPack;
            if (level === 'row-per-span') {
              for (const s of group) {
                rowPerSpan.run(traceId, s.spanId, s.parentSpanId.length ? s.parentSpanId : null, s.serviceId, s.nameId, s.kind, s.startNs, s.endNs, s.statusCode, 1, 1, s.raw);
              }
              continue;
            }
            const chunkId = chunk.run(traceId, first.startNs, first.endNs, group.length, 0, 1, 1, 1, packSpans(group)).lastInsertRowid;
            if (level === 'packed+search') {
              const byService = new Map<number, SearchEntry>();
              for (const s of group) {
                let entry = byService.get(s.serviceId);
                if (!entry) byService.set(s.serviceId, (entry = { traceId, startNs: first.startNs, chunkId: Number(chunkId), maxDurationNs: 0n, errors: 0, ops: new Map() }));
                entry.ops.set(s.nameId, { nameId: s.nameId, errors: 0, maxDurationNs: s.endNs - s.startNs });
              }
              for (const [serviceId, entry] of byService) blocks.add(serviceId, entry);
            }
          }
        }
        for (const x of blocks.blocks()) search.run(x.serviceId, x.second, x.firstChunkId, x.entryCount, x.maxDurationNs, x.errors, x.entries);
      })();
      ms += performance.now() - t;
      spans += b.spans;
    }
    return round2((ms * 1000) / spans);
  });
}

function hdrStage(): Record<string, number> {
  const n = 200;
  let t = performance.now();
  const hs = Array.from({ length: n }, () => newLatencyHistogram());
  const allocUs = ((performance.now() - t) * 1000) / n;
  for (const h of hs) for (let k = 0; k < 200; k++) h.recordValue(100 + k * 37);
  t = performance.now();
  const encoded = hs.map((h) => encodeHistogram(h));
  const encodeUs = ((performance.now() - t) * 1000) / n;
  t = performance.now();
  for (const e of encoded) decodeHistogram(e);
  const decodeUs = ((performance.now() - t) * 1000) / n;
  return {
    allocUs: Math.round(allocUs),
    encodeUs: Math.round(encodeUs),
    decodeUs: Math.round(decodeUs),
    histogramKiB: Math.round(((hs[0] as { estimatedFootprintInBytes: number }).estimatedFootprintInBytes ?? 0) / 1024),
    encodedBytes: (encoded[0] as string).length,
  };
}

const writer = writerStage();
const sql = {
  rowPerSpanUsPerSpan: sqlStage('row-per-span'),
  packedUsPerSpan: sqlStage('packed'),
  packedPlusSearchUsPerSpan: sqlStage('packed+search'),
};
const hdr = hdrStage();
process.stdout.write(JSON.stringify({ node: process.version, spansPerRequest: shape.spansPerRequest, batchRequests, writer, sql, hdr }) + '\n');
