import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import { openReaderDb, openWriterDb } from '../../../src/store/sqlite/open.js';
import { SqliteSpanWriter, type SpanWriterSettings } from '../../../src/store/sqlite/span-writer.js';
import { SqliteSpanReader } from '../../../src/store/sqlite/span-reader.js';
import { Retention } from '../../../src/store/sqlite/retention.js';
import { decodedRequest } from './build-request.js';

const DAY_MS = 86_400_000;
const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);
const settings: SpanWriterSettings = { dedupWindowSpans: 1000, latency: { maxSeries: 100, staleSeriesMs: 3_600_000 } };

const dirs: string[] = [];
const dbs: Database.Database[] = [];
afterEach(() => {
  for (const db of dbs.splice(0)) if (db.open) db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function open(): { dir: string; db: Database.Database } {
  const dir = mkdtempSync(path.join(tmpdir(), 'spanlens-writer-'));
  dirs.push(dir);
  const db = openWriterDb(dir);
  dbs.push(db);
  return { dir, db };
}

function reader(dir: string): SqliteSpanReader {
  const db = openReaderDb(dir);
  dbs.push(db);
  return new SqliteSpanReader(db);
}

const window = { startNs: 0n, endNs: BigInt(T0 + 400 * DAY_MS) * 1_000_000n };

describe('SqliteSpanWriter', () => {
  it('stores a trace written across several commits and reads it back whole', async () => {
    const { dir, db } = open();
    const writer = new SqliteSpanWriter(db, settings);
    const traceId = Buffer.alloc(16, 7);
    const root = Buffer.alloc(8, 1);
    writer.writeDecoded([decodedRequest([{ service: 'gateway', name: 'GET /', traceId, spanId: root, startMs: T0, durationUs: 9000 }])], T0);
    writer.writeDecoded(
      [decodedRequest([{ service: 'db', name: 'SELECT', traceId, parentSpanId: root, startMs: T0 + 1, durationUs: 2000, error: true }])],
      T0,
    );
    const r = reader(dir);
    const trace = await r.getTrace(traceId.toString('hex'));
    expect(trace?.spans.map((s) => s.name)).toEqual(['GET /', 'SELECT']);
    const [summary] = (await r.searchTraces({ service: 'db', ...window, limit: 10 })) ?? [];
    expect(summary).toMatchObject({ rootService: 'gateway', rootOperation: 'GET /', hasRoot: true, spanCount: 2, errorCount: 1 });
    expect(summary?.durationNs).toBe(9_000_000n);
    expect(await r.searchTraces({ service: 'db', errorsOnly: true, minDurationNs: 3_000_000n, ...window, limit: 10 })).toEqual([]);
  });

  it('drops a re-sent span instead of storing or counting it twice', async () => {
    const { dir, db } = open();
    const writer = new SqliteSpanWriter(db, settings);
    const request = decodedRequest([{ service: 'svc', name: 'op', startMs: T0, durationUs: 100 }]);
    expect(writer.writeDecoded([request, request], T0)).toEqual([1, 1]);
    writer.latency.flush();
    const latency = await reader(dir).latency({ service: 'svc', ...window });
    expect(latency?.count).toBe(1);
  });

  it('replays spans committed after the last histogram flush, counting each exactly once', async () => {
    const { dir, db } = open();
    const writer = new SqliteSpanWriter(db, settings);
    writer.writeDecoded([decodedRequest(Array.from({ length: 50 }, (_, i) => ({ service: 's', name: 'op', startMs: T0 + i, durationUs: 1000 + i })))], T0);
    writer.latency.flush();
    writer.writeDecoded([decodedRequest(Array.from({ length: 30 }, (_, i) => ({ service: 's', name: 'op', startMs: T0 + i, durationUs: 5000 })))], T0);
    // The process "dies" here: the last 30 spans are committed but not in the histograms.
    db.close();
    const reopened = openWriterDb(dir);
    dbs.push(reopened);
    const recovered = new SqliteSpanWriter(reopened, settings);
    expect(recovered.latency.recover(T0)).toBe(30);
    expect(recovered.latency.recover(T0)).toBe(0);
    const latency = await reader(dir).latency({ service: 's', operation: 'op', ...window });
    expect(latency?.count).toBe(80);
    // HDR reports the highest value equivalent to 5000 µs at 3 significant digits.
    expect(Math.abs((latency?.maxUs ?? 0) - 5000)).toBeLessThanOrEqual(5);
  });

  it('sends series beyond the cap to one overflow series and frees slots of stale ones', async () => {
    const { dir, db } = open();
    const writer = new SqliteSpanWriter(db, { ...settings, latency: { maxSeries: 2, staleSeriesMs: 60_000 } });
    const specs = ['a', 'b', 'c', 'd'].map((name, i) => ({ service: 'svc', name, startMs: T0 + i, durationUs: 10 }));
    writer.writeDecoded([decodedRequest(specs)], T0);
    writer.latency.flush();
    const r = reader(dir);
    expect((await r.latency({ service: '__overflow__', ...window }))?.count).toBe(2);
    expect(writer.latency.evictStale(T0 + 120_000)).toBe(3);
    writer.writeDecoded([decodedRequest([{ service: 'svc', name: 'e', startMs: T0, durationUs: 10 }])], T0 + 120_000);
    writer.latency.flush();
    expect((await r.latency({ service: 'svc', operation: 'e', ...window }))?.count).toBe(1);
  });

  it('leaves nothing behind when a transaction fails, and the next one succeeds', async () => {
    const { dir, db } = open();
    const writer = new SqliteSpanWriter(db, settings);
    db.exec('CREATE TRIGGER fail BEFORE INSERT ON trace_chunks BEGIN SELECT RAISE(ABORT, "disk full"); END');
    const request = decodedRequest([{ service: 'new-service', name: 'op', startMs: T0, durationUs: 10 }]);
    expect(() => writer.writeDecoded([request], T0)).toThrow(/disk full/);
    db.exec('DROP TRIGGER fail');
    expect(writer.writeDecoded([request], T0)).toEqual([1]);
    expect(db.prepare('SELECT sum(span_count) AS n FROM trace_chunks').get()).toEqual({ n: 1 });
    expect((await reader(dir).listServices()).map((s) => s.name)).toContain('new-service');
  });
});

describe('Retention', () => {
  const retentionSettings = {
    maxAgeMs: 7 * DAY_MS,
    maxBytes: 1024 ** 3,
    latencyMinutesMaxAgeMs: 2 * DAY_MS,
    latencyHoursMaxAgeMs: 35 * DAY_MS,
    batchRows: 100,
  };

  it('deletes spans older than the age limit in bounded steps and keeps newer ones', async () => {
    const { dir, db } = open();
    const writer = new SqliteSpanWriter(db, settings);
    const old = Array.from({ length: 250 }, (_, i) => ({ service: 'svc', name: 'old', startMs: T0 + i, durationUs: 10 }));
    writer.writeDecoded([decodedRequest(old)], T0);
    writer.writeDecoded([decodedRequest([{ service: 'svc', name: 'new', startMs: T0 + 8 * DAY_MS, durationUs: 10 }])], T0 + 8 * DAY_MS);
    const retention = new Retention(db, retentionSettings);
    let steps = 0;
    while (retention.step(T0 + 8 * DAY_MS)) steps++;
    expect(steps).toBeGreaterThanOrEqual(2);
    expect(retention.deletedSpans).toBe(250);
    const r = reader(dir);
    const left = (await r.searchTraces({ ...window, limit: 1000 })) ?? [];
    expect(left.map((t) => t.rootOperation)).toEqual(['new']);
  });

  it('keeps live data under the size limit by deleting the oldest minutes first', () => {
    const { db } = open();
    const writer = new SqliteSpanWriter(db, settings);
    for (let minute = 0; minute < 10; minute++) {
      const specs = Array.from({ length: 300 }, (_, i) => ({ service: 'svc', name: `op${i % 5}`, startMs: T0 + minute * 60_000 + i, durationUs: 10 }));
      writer.writeDecoded([decodedRequest(specs)], T0 + minute * 60_000);
    }
    const retention = new Retention(db, { ...retentionSettings, maxBytes: 0 });
    const limit = retention.liveBytes() / 2;
    const bySize = new Retention(db, { ...retentionSettings, maxBytes: limit });
    while (bySize.step(T0 + 10 * 60_000)) {
      /* bounded steps until under the limit */
    }
    expect(bySize.liveBytes()).toBeLessThanOrEqual(limit);
    const remaining = db.prepare('SELECT min(start_ns) AS oldest, sum(span_count) AS n FROM trace_chunks').safeIntegers(true).get() as { oldest: bigint; n: bigint };
    expect(remaining.n).toBeGreaterThan(0n);
    expect(remaining.oldest).toBeGreaterThan(BigInt(T0) * 1_000_000n);
  });
});
