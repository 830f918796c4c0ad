import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { openReaderDb, openWriterDb, spansDbPath } from '../../../src/store/sqlite/open.js';
import { MIGRATIONS } from '../../../src/store/sqlite/migrations.js';
import { SqliteSpanWriter } from '../../../src/store/sqlite/span-writer.js';
import { SqliteSpanReader } from '../../../src/store/sqlite/span-reader.js';
import { SearchBlockBuilder, SearchEntries, type EntryFilter, type OperationStats, type SearchEntry } from '../../../src/store/sqlite/search-blocks.js';
import { decodedRequest, type SpanSpec } from './build-request.js';

const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);
const window = { startNs: 0n, endNs: BigInt(T0 + 86_400_000) * 1_000_000n };

const dirs: string[] = [];
const dbs: Database.Database[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) if (db.open) db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'spanlens-search-'));
  dirs.push(dir);
  return dir;
}

function ops(...list: OperationStats[]): Map<number, OperationStats> {
  return new Map(list.map((o) => [o.nameId, o]));
}

function entry(over: Partial<SearchEntry>): SearchEntry {
  return { traceId: randomBytes(16), startNs: 5n * 1_000_000_000n, chunkId: 1, maxDurationNs: 0n, errors: 0, ops: new Map(), ...over };
}

const anyFilter: EntryFilter = { startNs: 0n, endNs: 2n ** 63n, nameId: null, minDurationNs: 0n, maxDurationNs: null, errorsOnly: false };

describe('trace search blocks', () => {
  it('pack a commit into one block per (service, start second) and read every entry back', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            service: fc.integer({ min: 1, max: 3 }),
            second: fc.integer({ min: 0, max: 2 }),
            nanos: fc.integer({ min: 0, max: 999_999_999 }),
            chunkId: fc.integer({ min: 1, max: 2 ** 40 }),
            maxDurationNs: fc.bigInt({ min: 0n, max: 2n ** 63n }),
            errors: fc.nat(1000),
            opNames: fc.uniqueArray(fc.nat(100), { maxLength: 4 }),
          }),
          { maxLength: 40 },
        ),
        (specs) => {
          const builder = new SearchBlockBuilder();
          const written = specs.map((s) => {
            const e = entry({
              startNs: BigInt(1_700_000_000 + s.second) * 1_000_000_000n + BigInt(s.nanos),
              chunkId: s.chunkId,
              maxDurationNs: s.maxDurationNs,
              errors: s.errors,
              ops: ops(...s.opNames.map((n) => ({ nameId: n, errors: n % 2, maxDurationNs: BigInt(n) * 1000n }))),
            });
            builder.add(s.service, e);
            return { service: s.service, e };
          });
          const read: { service: number; traceId: string; startNs: bigint; chunkId: number }[] = [];
          const keys = new Set<string>();
          for (const b of [...builder.blocks()]) {
            keys.add(`${b.serviceId}:${b.second}`);
            let count = 0;
            for (const it = new SearchEntries(b.entries); it.advance(); count++) {
              expect(it.startNs / 1_000_000_000n).toBe(BigInt(b.second));
              read.push({ service: b.serviceId, traceId: it.traceId.toString('hex'), startNs: it.startNs, chunkId: it.chunkId });
            }
            expect(count).toBe(b.entryCount);
          }
          expect(keys.size).toBe(new Set(specs.map((s) => `${s.service}:${1_700_000_000 + s.second}`)).size);
          const expected = written.map(({ service, e }) => ({ service, traceId: Buffer.from(e.traceId).toString('hex'), startNs: e.startNs, chunkId: e.chunkId }));
          const order = (a: { traceId: string }, b: { traceId: string }): number => a.traceId.localeCompare(b.traceId);
          expect(read.sort(order)).toEqual(expected.sort(order));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('match search predicates on one operation at a time, inside the start window', () => {
    const builder = new SearchBlockBuilder();
    builder.add(1, entry({
      maxDurationNs: 5_000n,
      errors: 2,
      ops: ops({ nameId: 7, errors: 0, maxDurationNs: 5_000n }, { nameId: 9, errors: 2, maxDurationNs: 100n }),
    }));
    const [block] = [...builder.blocks()];
    const it = new SearchEntries(block!.entries);
    expect(it.advance()).toBe(true);
    const match = (f: Partial<EntryFilter>): boolean => it.matches({ ...anyFilter, ...f });
    expect(match({ nameId: 7, minDurationNs: 1_000n })).toBe(true);
    // operation 9 has errors and operation 7 is slow, but no single operation is both
    expect(match({ errorsOnly: true, minDurationNs: 1_000n })).toBe(false);
    expect(match({ nameId: 9, errorsOnly: true, maxDurationNs: 100n })).toBe(true);
    expect(match({ nameId: 8 })).toBe(false);
    expect(match({ startNs: 5n * 1_000_000_000n + 1n })).toBe(false);
    expect(match({ endNs: 5n * 1_000_000_000n - 1n })).toBe(false);
    expect(it.advance()).toBe(false);
  });

  it('search newest first across seconds and commits, and stop at the limit', async () => {
    const dir = tempDir();
    const db = openWriterDb(dir);
    dbs.push(db);
    const writer = new SqliteSpanWriter(db, { dedupWindowSpans: 1000, latency: { maxSeries: 100, staleSeriesMs: 3_600_000 } });
    // 60 single-span traces over 6 seconds, written in 6 commits whose start times interleave.
    const specs: SpanSpec[] = Array.from({ length: 60 }, (_, i) => ({
      service: i % 2 ? 'api' : 'web',
      name: i % 3 ? 'GET /' : 'POST /',
      startMs: T0 + ((i * 7919) % 6000),
      durationUs: 1000 + i,
      error: i % 5 === 0,
      traceId: randomBytes(16),
    }));
    for (let c = 0; c < 6; c++) writer.writeDecoded([decodedRequest(specs.filter((_, i) => i % 6 === c))], T0);
    const readerDb = openReaderDb(dir);
    dbs.push(readerDb);
    const reader = new SqliteSpanReader(readerDb);
    const expectNewest = (selected: SpanSpec[], limit: number): string[] =>
      [...selected].sort((a, b) => b.startMs - a.startMs).slice(0, limit).map((s) => s.traceId!.toString('hex'));
    const ids = async (q: Parameters<SqliteSpanReader['searchTraces']>[0]): Promise<string[]> => ((await reader.searchTraces(q)) ?? []).map((t) => t.traceId);

    expect(await ids({ ...window, limit: 7 })).toEqual(expectNewest(specs, 7));
    expect(await ids({ service: 'api', ...window, limit: 100 })).toEqual(expectNewest(specs.filter((s) => s.service === 'api'), 100));
    expect(await ids({ service: 'web', operation: 'POST /', errorsOnly: true, ...window, limit: 100 })).toEqual(
      expectNewest(specs.filter((s) => s.service === 'web' && s.name === 'POST /' && s.error), 100),
    );
    const inner = { startNs: BigInt(T0 + 1500) * 1_000_000n, endNs: BigInt(T0 + 4200) * 1_000_000n };
    expect(await ids({ ...inner, minDurationNs: 1_030_000n, limit: 100 })).toEqual(
      expectNewest(specs.filter((s) => s.startMs >= T0 + 1500 && s.startMs <= T0 + 4200 && s.durationUs >= 1030), 100),
    );
    // Uniform sampling over the same entries: every matching trace once the band covers them all.
    const sample = await reader.sampleTraceIds({ service: 'web', ...window, limit: 100 });
    expect(sample?.matchedExact).toBe(true);
    expect(new Set(sample?.traceIds)).toEqual(new Set(specs.filter((s) => s.service === 'web').map((s) => s.traceId!.toString('hex'))));
    expect((await reader.sampleTraceIds({ service: 'web', ...window, limit: 5 }))?.traceIds).toHaveLength(5);
  });

  it('migrate a schema-6 store: every old search row becomes an entry of a block', () => {
    const dir = tempDir();
    const old = new Database(spansDbPath(dir));
    for (const step of MIGRATIONS.slice(0, 6)) old.exec(step as string);
    old.pragma('user_version = 6');
    const insert = old.prepare('INSERT INTO trace_search VALUES (?, ?, ?, ?, ?, ?, ?)');
    const rows: { service: number; startNs: bigint; chunkId: number; traceId: Buffer; maxDurationNs: bigint; errors: number; ops: Buffer }[] = [];
    old.exec('BEGIN');
    for (let i = 0; i < 7000; i++) {
      const op = Buffer.alloc(16);
      op.writeUInt32LE(1 + (i % 4), 0);
      op.writeUInt32LE(i % 3, 4);
      op.writeBigUInt64LE(BigInt(i) * 1000n, 8);
      // 7,000 rows in 2 services and 3 seconds: more than one converted block per (service, second).
      const row = { service: 1 + (i % 2), startNs: (1_700_000_000n + BigInt(i % 3)) * 1_000_000_000n + BigInt(i), chunkId: i + 1, traceId: randomBytes(16), maxDurationNs: BigInt(i) * 1000n, errors: i % 3, ops: op };
      rows.push(row);
      insert.run(row.service, row.startNs, row.chunkId, row.traceId, row.maxDurationNs, row.errors, row.ops);
    }
    old.exec('COMMIT');
    old.close();

    const db = openWriterDb(dir);
    dbs.push(db);
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'trace_search'").get()).toEqual({ n: 0 });
    const blocks = db.prepare('SELECT service_id, second, entry_count, max_duration_ns, error_count, entries FROM trace_search_blocks').safeIntegers(true).all() as {
      service_id: bigint; second: bigint; entry_count: bigint; max_duration_ns: bigint; error_count: bigint; entries: Buffer;
    }[];
    const read: string[] = [];
    for (const b of blocks) {
      let maxDuration = 0n;
      let errors = 0;
      for (const it = new SearchEntries(b.entries); it.advance(); ) {
        expect(it.startNs / 1_000_000_000n).toBe(b.second);
        read.push(`${b.service_id}:${it.traceId.toString('hex')}:${it.startNs}:${it.chunkId}`);
        const row = rows[it.chunkId - 1]!;
        expect(it.matches({ ...anyFilter, nameId: 1 + ((it.chunkId - 1) % 4), minDurationNs: row.maxDurationNs, maxDurationNs: row.maxDurationNs })).toBe(true);
        maxDuration = row.maxDurationNs > maxDuration ? row.maxDurationNs : maxDuration;
        errors += row.errors;
      }
      expect(b.max_duration_ns).toBe(maxDuration);
      expect(Number(b.error_count)).toBe(errors);
    }
    expect(blocks.length).toBeGreaterThan(6);
    expect(read.sort()).toEqual(rows.map((r) => `${r.service}:${r.traceId.toString('hex')}:${r.startNs}:${r.chunkId}`).sort());
  });
});
