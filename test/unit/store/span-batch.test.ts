/**
 * The writer reads spans as columns straight from the transferred buffers (span-batch.ts). Checked against
 * a model over random batches: times as two u32 words (durations past 2^32 ns, ends before starts, equal
 * starts), traces spread over requests, resources and scopes, re-sent spans, roots anywhere or missing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import { openWriterDb } from '../../../src/store/sqlite/open.js';
import { SqliteSpanWriter } from '../../../src/store/sqlite/span-writer.js';
import { PackedSpans, SPAN_FLAG_EFFECTIVE_ERROR, SPAN_FLAG_HAS_LINKS, SPAN_FLAG_KNOWN } from '../../../src/store/sqlite/span-pack.js';
import { flattenDecoded } from '../../../src/store/sqlite/decoded-transfer.js';
import { RequestView } from '../../../src/store/sqlite/span-batch.js';
import type { ChunkRow as ChunkSummaryRow } from '../../../src/store/sqlite/span-reader.js';
import type { DecodedSpan, DecodedTraces } from '../../../src/model/decoded.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const BASE_NS = 1_780_000_000_000_000_000n;
const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });

describe('RequestView times', () => {
  it('reads starts, durations and order exactly from the two u32 words', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(u64, u64), { minLength: 2, maxLength: 6 }), (pairs) => {
        const times = new BigUint64Array(pairs.flat());
        const view = new RequestView({ bytes: new ArrayBuffer(0), layout: new ArrayBuffer(4), times: times.buffer, strings: [], spanCount: pairs.length, rejected: 0, reasons: [] });
        pairs.forEach(([start, end], i) => {
          const duration = end > start ? end - start : 0n;
          if (duration < 2n ** 53n) expect(view.durationNs(i)).toBe(Number(duration));
          expect(view.startNumber(i)).toBe(Number(start));
          const [otherStart, otherEnd] = pairs[(i + 1) % pairs.length] as [bigint, bigint];
          const j = (i + 1) % pairs.length;
          expect(view.timeBefore(i, view, j, false)).toBe(start < otherStart);
          expect(view.timeBefore(i, view, j, true)).toBe(end < otherEnd);
        });
      }),
      { numRuns: 300 },
    );
  });
});

interface SpanModel {
  traceId: number;
  spanId: number;
  parent: number | null;
  startOffsetNs: bigint;
  durationNs: bigint;
  error: boolean;
  links: boolean;
  name: number;
  kind: number;
  status: number;
}

const spanArb: fc.Arbitrary<SpanModel> = fc.record({
  traceId: fc.integer({ min: 0, max: 5 }),
  spanId: fc.integer({ min: 0, max: 40 }),
  parent: fc.option(fc.integer({ min: 0, max: 40 }), { freq: 3 }),
  startOffsetNs: fc.oneof(fc.constant(0n), fc.bigInt({ min: 0n, max: 10n ** 10n })),
  durationNs: fc.oneof(fc.constant(0n), fc.bigInt({ min: -(10n ** 6n), max: 2n ** 40n })),
  error: fc.boolean(),
  links: fc.boolean(),
  name: fc.integer({ min: 0, max: 3 }),
  kind: fc.integer({ min: 0, max: 5 }),
  status: fc.integer({ min: 0, max: 2 }),
});
// requests -> resources (service index) -> scopes -> spans
const batchArb = fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.array(fc.array(spanArb, { maxLength: 6 }), { minLength: 1, maxLength: 2 })), { minLength: 1, maxLength: 3 }), {
  minLength: 1,
  maxLength: 3,
});

function id(value: number, bytes: number, salt: number): Uint8Array {
  const out = new Uint8Array(bytes);
  out[0] = salt;
  out[bytes - 1] = value + 1;
  return out;
}

function decodedSpan(s: SpanModel, salt: number): DecodedSpan {
  const startNs = BASE_NS + s.startOffsetNs;
  const raw = new TextEncoder().encode(`span ${s.traceId}/${s.spanId}`);
  return {
    traceId: id(s.traceId, 16, salt),
    spanId: id(s.spanId, 8, salt),
    parentSpanId: s.parent === null ? new Uint8Array(0) : id(s.parent, 8, salt),
    name: `op-${s.name}`,
    kind: s.kind,
    startNs,
    endNs: startNs + s.durationNs,
    statusCode: s.status,
    effectiveError: s.error,
    hasLinks: s.links,
    raw,
  };
}

interface ChunkRow extends ChunkSummaryRow {
  trace_id: Buffer;
  spans: Buffer;
}

/** Runs `test` against a writer on a fresh database in a temporary directory. */
function withWriter(test: (writer: SqliteSpanWriter, db: Database.Database) => void): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'spanlens-batch-'));
  dirs.push(dir);
  const db = openWriterDb(dir);
  try {
    test(new SqliteSpanWriter(db, { dedupWindowSpans: 10_000, latency: { maxSeries: 100, staleSeriesMs: 3_600_000 } }), db);
  } finally {
    db.close();
  }
}

interface SearchBlockRow {
  service_id: bigint;
  second: bigint;
  first_chunk_id: bigint;
  entry_count: bigint;
  max_duration_ns: bigint;
  error_count: bigint;
  entries: Buffer;
}

describe('SqliteSpanWriter over transferred columns', () => {
  it('stores every chunk and search entry as the model says', () => {
    withWriter((writer, db) => {
      const services = ['svc-a', 'svc-b', 'svc-c'];
      let salt = 0;
      fc.assert(
        fc.property(batchArb, (batch) => {
          salt = (salt + 1) % 256;
          const requests: DecodedTraces[] = batch.map((resources) => ({
            resources: resources.map(([service, scopes]) => ({
              raw: new TextEncoder().encode(`resource ${service}`),
              schemaUrl: '',
              serviceName: services[service] as string,
              scopes: scopes.map((spans) => ({ raw: null, schemaUrl: '', spans: spans.map((s) => decodedSpan(s, salt)) })),
            })),
            spanCount: resources.flatMap(([, scopes]) => scopes.flat()).length,
            rejected: 0,
            reasons: [],
          }));
          // The model: spans in arrival order, a re-sent (trace, span) pair dropped, grouped by trace.
          const seen = new Set<string>();
          const byTrace = new Map<string, { span: DecodedSpan; service: string }[]>();
          for (const request of requests) {
            for (const resource of request.resources) {
              for (const scope of resource.scopes) {
                for (const span of scope.spans) {
                  const key = Buffer.from(span.traceId).toString('hex');
                  const pair = key + Buffer.from(span.spanId).toString('hex');
                  if (seen.has(pair)) continue;
                  seen.add(pair);
                  byTrace.set(key, [...(byTrace.get(key) ?? []), { span, service: resource.serviceName }]);
                }
              }
            }
          }
          const before = Number((db.prepare('SELECT coalesce(max(id), 0) AS id FROM trace_chunks').get() as { id: number }).id);
          const accepted = writer.writeBatch(
            requests.map((d) => flattenDecoded(d, new Uint8Array(0), false)),
            Date.now(),
          );
          expect(accepted).toEqual(requests.map((r) => r.spanCount));
          const rows = db.prepare('SELECT * FROM trace_chunks WHERE id > ? ORDER BY id').safeIntegers().all(before) as ChunkRow[];
          expect(rows.map((r) => r.trace_id.toString('hex'))).toEqual([...byTrace.keys()]);
          const serviceIds = new Map((db.prepare('SELECT id, name FROM services').all() as { id: number; name: string }[]).map((r) => [r.id, r.name]));
          const nameIds = new Map((db.prepare('SELECT id, name FROM span_names').all() as { id: number; name: string }[]).map((r) => [r.id, r.name]));
          for (const row of rows) {
            const group = byTrace.get(row.trace_id.toString('hex'))!;
            let earliest = group[0]!;
            for (const g of group) if (g.span.startNs < earliest.span.startNs) earliest = g;
            const start = earliest.span.startNs;
            const end = group.reduce((max, g) => (g.span.endNs > max ? g.span.endNs : max), 0n);
            const root = group.find((g) => g.span.parentSpanId.length === 0);
            const head = root ?? earliest;
            expect(row.start_ns).toBe(start);
            expect(row.end_ns).toBe(end < start ? start : end);
            expect(Number(row.span_count)).toBe(group.length);
            expect(Number(row.error_count)).toBe(group.filter((g) => g.span.effectiveError).length);
            expect(Number(row.has_root)).toBe(root ? 1 : 0);
            expect(serviceIds.get(Number(row.root_service_id))).toBe(head.service);
            expect(nameIds.get(Number(row.root_name_id))).toBe(head.span.name);
            const packed = new PackedSpans(row.spans);
            for (const { span, service } of group) {
              expect(packed.next()).toBe(true);
              expect(packed.spanId).toEqual(Buffer.from(span.spanId));
              expect(packed.parentSpanId).toEqual(Buffer.from(span.parentSpanId));
              expect([packed.kind, packed.statusCode]).toEqual([span.kind, span.statusCode]);
              expect(packed.flags).toBe(SPAN_FLAG_KNOWN | (span.effectiveError ? SPAN_FLAG_EFFECTIVE_ERROR : 0) | (span.hasLinks ? SPAN_FLAG_HAS_LINKS : 0));
              expect(serviceIds.get(packed.serviceId)).toBe(service);
              expect(nameIds.get(packed.nameId)).toBe(span.name);
              expect([packed.startNs, packed.endNs]).toEqual([span.startNs, span.endNs]);
              expect(packed.raw).toEqual(Buffer.from(span.raw));
            }
            expect(packed.next()).toBe(false);
          }
          // Search: one entry per (chunk, service) with one operation per span name, in blocks per (service, second).
          const expected = new Map<string, unknown>();
          for (const row of rows) {
            const group = byTrace.get(row.trace_id.toString('hex'))!;
            for (const service of new Set(group.map((g) => g.service))) {
              const mine = group.filter((g) => g.service === service).map((g) => g.span);
              const duration = (sp: DecodedSpan): bigint => (sp.endNs > sp.startNs ? sp.endNs - sp.startNs : 0n);
              const maxOf = (list: DecodedSpan[]): bigint => list.reduce((max, sp) => (duration(sp) > max ? duration(sp) : max), 0n);
              const ops = [...new Set(mine.map((sp) => sp.name))].sort().map((name) => {
                const named = mine.filter((sp) => sp.name === name);
                return { name, errors: named.filter((sp) => sp.effectiveError).length, maxDurationNs: maxOf(named) };
              });
              const startNs = mine.reduce((min, sp) => (sp.startNs < min ? sp.startNs : min), mine[0]!.startNs);
              expected.set(`${row.trace_id.toString('hex')}/${service}`, { startNs, chunkId: row.id, maxDurationNs: maxOf(mine), errors: mine.filter((sp) => sp.effectiveError).length, ops });
            }
          }
          const blocks = db.prepare('SELECT * FROM trace_search_blocks WHERE first_chunk_id > ?').safeIntegers().all(before) as SearchBlockRow[];
          const actual = new Map<string, unknown>();
          for (const block of blocks) {
            let at = 0;
            let blockMax = 0n;
            let blockErrors = 0;
            for (let e = 0; e < Number(block.entry_count); e++) {
              const entries = block.entries;
              const entry = { startNs: entries.readBigUInt64LE(at + 16), chunkId: entries.readBigUInt64LE(at + 24), maxDurationNs: entries.readBigUInt64LE(at + 32), errors: entries.readUInt32LE(at + 40), ops: [] as unknown[] };
              const opCount = entries.readUInt32LE(at + 44);
              const key = `${entries.subarray(at, at + 16).toString('hex')}/${serviceIds.get(Number(block.service_id))}`;
              at += 48;
              for (let o = 0; o < opCount; o++, at += 16) {
                entry.ops.push({ name: nameIds.get(entries.readUInt32LE(at)), errors: entries.readUInt32LE(at + 4), maxDurationNs: entries.readBigUInt64LE(at + 8) });
              }
              entry.ops.sort((a, b) => String((a as { name: string }).name).localeCompare(String((b as { name: string }).name)));
              expect(actual.has(key)).toBe(false);
              actual.set(key, entry);
              expect(block.second).toBe(entry.startNs / 1_000_000_000n);
              if (entry.maxDurationNs > blockMax) blockMax = entry.maxDurationNs;
              blockErrors += entry.errors;
            }
            expect(at).toBe(block.entries.length);
            expect([block.max_duration_ns, Number(block.error_count)]).toEqual([blockMax, blockErrors]);
          }
          expect(actual).toEqual(expected);
        }),
        { numRuns: 150 },
      );
    });
  });

  it('indexes every span of a trace chunk larger than the writer\'s first scratch array', () => {
    withWriter((writer, db) => {
      // 700 spans of one trace: span k is op-(k % 4) and lasts k µs, so each operation's longest is among the last.
      const spans = Array.from({ length: 700 }, (_, k) => ({
        ...decodedSpan({ traceId: 3, spanId: 0, parent: null, startOffsetNs: BigInt(k), durationNs: 0n, error: k % 10 === 0, links: false, name: k % 4, kind: 1, status: 0 }, 9),
        spanId: Uint8Array.from([9, 0, 0, 0, 0, 0, k >> 8, (k & 0xff) + 1]),
        endNs: BASE_NS + BigInt(k) + BigInt(k) * 1000n,
      }));
      writer.writeDecoded([{ resources: [{ raw: null, schemaUrl: '', serviceName: 'svc', scopes: [{ raw: null, schemaUrl: '', spans }] }], spanCount: spans.length, rejected: 0, reasons: [] }], Date.now());
      const block = db.prepare('SELECT entry_count, max_duration_ns, error_count, entries FROM trace_search_blocks').safeIntegers().get() as SearchBlockRow;
      expect([Number(block.entry_count), block.max_duration_ns, Number(block.error_count)]).toEqual([1, 699_000n, 70]);
      const entries = block.entries;
      expect(entries.readBigUInt64LE(16)).toBe(BASE_NS);
      expect(entries.readUInt32LE(44)).toBe(4);
      const ops = Array.from({ length: 4 }, (_, o) => [entries.readUInt32LE(48 + 16 * o + 4), entries.readBigUInt64LE(48 + 16 * o + 8)]);
      // op-n holds the spans k ≡ n (mod 4): its longest is the last of them, 696–699 µs.
      expect(ops.map(([, max]) => max).sort()).toEqual([696_000n, 697_000n, 698_000n, 699_000n]);
      expect(ops.reduce((sum, [errors]) => sum + Number(errors), 0)).toBe(70);
    });
  });

  it('keeps every search entry of a commit with thousands of them', () => {
    withWriter((writer, db) => {
      // 1,500 traces × 3 services: 4,500 entries, ~290 KB of them, past the builder's first arrays and buffer.
      const resources = ['svc-a', 'svc-b', 'svc-c'].map((serviceName, s) => ({
        raw: null,
        schemaUrl: '',
        serviceName,
        scopes: [{
          raw: null,
          schemaUrl: '',
          spans: Array.from({ length: 1500 }, (_, t) => ({
            ...decodedSpan({ traceId: 0, spanId: s, parent: null, startOffsetNs: BigInt(t) * 1_000_000n, durationNs: BigInt(1000 + t), error: false, links: false, name: s, kind: 2, status: 0 }, 5),
            traceId: Uint8Array.from([5, ...new Array<number>(13).fill(0), t >> 8, t & 0xff]),
          })),
        }],
      }));
      writer.writeDecoded([{ resources, spanCount: 4500, rejected: 0, reasons: [] }], Date.now());
      const blocks = db.prepare('SELECT entry_count, entries FROM trace_search_blocks').safeIntegers().all() as SearchBlockRow[];
      const seen = new Map<string, bigint>();
      for (const block of blocks) {
        for (let e = 0, at = 0; e < Number(block.entry_count); e++, at += 48 + 16) {
          expect(block.entries.readUInt32LE(at + 44)).toBe(1);
          seen.set(`${block.entries.subarray(at, at + 16).toString('hex')}/${block.entries.readUInt32LE(at + 48)}`, block.entries.readBigUInt64LE(at + 32));
        }
      }
      expect(seen.size).toBe(4500);
      for (let t = 0; t < 1500; t += 149) {
        const trace = Buffer.from([5, ...new Array<number>(13).fill(0), t >> 8, t & 0xff]).toString('hex');
        expect([...seen].filter(([key]) => key.startsWith(trace)).map(([, max]) => max)).toEqual([1000n + BigInt(t), 1000n + BigInt(t), 1000n + BigInt(t)]);
      }
    });
  });

  it('keeps search durations exact beyond 2^53 ns, where doubles tie', () => {
    withWriter((writer, db) => {
      const long = 200n * 86_400n * 1_000_000_000n; // 200 days: 1.7e16 ns, doubles 2 ns apart
      const span = (spanId: number, durationNs: bigint): DecodedSpan => ({
        ...decodedSpan({ traceId: 1, spanId, parent: null, startOffsetNs: 0n, durationNs: 0n, error: false, links: false, name: 0, kind: 2, status: 0 }, 7),
        endNs: BASE_NS + durationNs,
      });
      expect(Number(long + 1n)).toBe(Number(long));
      writer.writeDecoded(
        [{ resources: [{ raw: null, schemaUrl: '', serviceName: 'svc', scopes: [{ raw: null, schemaUrl: '', spans: [span(1, long), span(2, long + 1n)] }] }], spanCount: 2, rejected: 0, reasons: [] }],
        Date.now(),
      );
      const block = db.prepare('SELECT max_duration_ns, entries FROM trace_search_blocks').safeIntegers().get() as { max_duration_ns: bigint; entries: Buffer };
      expect(block.max_duration_ns).toBe(long + 1n);
      expect(block.entries.readBigUInt64LE(32)).toBe(long + 1n);
      expect(block.entries.readBigUInt64LE(48 + 8)).toBe(long + 1n);
    });
  });
});
