import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type Database from 'better-sqlite3';
import { openReaderDb, openWriterDb } from '../../../src/store/sqlite/open.js';
import { SqliteSpanWriter } from '../../../src/store/sqlite/span-writer.js';
import { SqliteLatencyTimeline } from '../../../src/store/sqlite/latency-timeline.js';
import { percentileOf } from '../../../src/analysis/rank-tests.js';
import { decodedRequest, type SpanSpec } from './build-request.js';

// An hour boundary, so that hourly and per-minute steps can be checked against each other.
const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);
const NS = (ms: number): bigint => BigInt(ms) * 1_000_000n;

const dirs: string[] = [];
const dbs: Database.Database[] = [];
afterAll(() => {
  for (const db of dbs.splice(0)) if (db.open) db.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/**
 * Minute m (0..119) of svc "op": m + 1 spans of (m + 1) ms, every third one an error; plus one "other"
 * span a minute. Written through the real writer, read through a separate read-only connection.
 */
let shared: SqliteLatencyTimeline | undefined;
function seeded(): SqliteLatencyTimeline {
  return (shared ??= seed());
}

function seed(): SqliteLatencyTimeline {
  const dir = mkdtempSync(path.join(tmpdir(), 'spanlens-timeline-'));
  dirs.push(dir);
  const db = openWriterDb(dir);
  dbs.push(db);
  const writer = new SqliteSpanWriter(db, { dedupWindowSpans: 0, latency: { maxSeries: 100, staleSeriesMs: 3_600_000 } });
  const specs: SpanSpec[] = [];
  let id = 1;
  for (let m = 0; m < 120; m++) {
    for (let j = 0; j <= m; j++) {
      specs.push({ service: 'svc', name: 'op', traceId: Buffer.alloc(16, 1), spanId: idBytes(id++), startMs: T0 + m * 60_000 + j * 100, durationUs: (m + 1) * 1000, error: j % 3 === 0 });
    }
    specs.push({ service: 'svc', name: 'other', kind: 3, traceId: Buffer.alloc(16, 2), spanId: idBytes(id++), startMs: T0 + m * 60_000, durationUs: 500 });
  }
  writer.writeDecoded([decodedRequest(specs)], T0 + 120 * 60_000);
  writer.latency.flush();
  const reader = openReaderDb(dir);
  dbs.push(reader);
  return new SqliteLatencyTimeline(reader);
}

function idBytes(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(n, 4);
  return b;
}

const errorsIn = (m: number): number => Math.floor(m / 3) + 1; // j = 0, 3, 6, … ≤ m

describe('SqliteLatencyTimeline', () => {
  it('per-minute steps: counts, errors and the minute\'s histogram', async () => {
    const t = seeded();
    const rows = (await t.latencyTimeline({ service: 'svc', operation: 'op', startNs: NS(T0 + 10 * 60_000), endNs: NS(T0 + 13 * 60_000), stepMs: 60_000, histograms: true }))!;
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ service: 'svc', operation: 'op', kind: 2 });
    expect(rows[0]!.steps.map((s) => [s.startMs - T0, s.count, s.errors])).toEqual([10, 11, 12].map((m) => [m * 60_000, m + 1, errorsIn(m)]));
    // One tie group per minute (all its spans last (m + 1) ms); HDR keeps 3 significant digits.
    const b = rows[0]!.steps[1]!.buckets!;
    expect(b.counts).toEqual([12]);
    expect(Math.abs(percentileOf(b, 95)! - 12_000)).toBeLessThanOrEqual(12);
  });

  it('wider steps merge minutes; hourly steps read the hourly rows and agree with the minutes', async () => {
    const t = seeded();
    const q = { service: 'svc', startNs: NS(T0), endNs: NS(T0 + 120 * 60_000) };
    const fiveMin = (await t.latencyTimeline({ ...q, operation: 'op', stepMs: 300_000, histograms: false }))!;
    expect(fiveMin[0]!.steps).toHaveLength(24);
    expect(fiveMin[0]!.steps[0]).toEqual({ startMs: T0, count: 1 + 2 + 3 + 4 + 5, errors: 1 + 1 + 1 + 2 + 2, buckets: null });
    const hourly = (await t.latencyTimeline({ ...q, stepMs: 3_600_000, histograms: true }))!;
    expect(hourly.map((r) => r.operation)).toEqual(['op', 'other']);
    const op = hourly[0]!.steps;
    expect(op.map((s) => s.count)).toEqual([(60 * 61) / 2, (120 * 121) / 2 - (60 * 61) / 2]);
    expect(op[0]!.buckets!.counts.reduce((a, b) => a + b, 0)).toBe(op[0]!.count);
    expect(op[0]!.buckets!.upperUs).toHaveLength(60);
    expect(op.map((s) => s.errors)).toEqual([0, 1].map((h) => Array.from({ length: 60 }, (_, i) => errorsIn(h * 60 + i)).reduce((a, b) => a + b, 0)));
  });

  it('a minute belongs to the window its start is in; unknown names are null; reads repeat identically from the cache', async () => {
    const t = seeded();
    const q = { service: 'svc', operation: 'op', stepMs: 60_000, histograms: true };
    const first = await t.latencyTimeline({ ...q, startNs: NS(T0 + 60_000) - 1n, endNs: NS(T0 + 2 * 60_000) + 1n });
    expect(first![0]!.steps.map((s) => s.startMs - T0)).toEqual([60_000, 120_000]);
    expect(await t.latencyTimeline({ ...q, startNs: NS(T0 + 60_000) - 1n, endNs: NS(T0 + 2 * 60_000) + 1n })).toEqual(first);
    expect(await t.latencyTimeline({ ...q, service: 'nope', startNs: 0n, endNs: 1n })).toBeNull();
    expect(await t.latencyTimeline({ ...q, operation: 'nope', startNs: 0n, endNs: 1n })).toBeNull();
    await expect(t.latencyTimeline({ ...q, stepMs: 90_000, startNs: 0n, endNs: 1n })).rejects.toThrow(/multiple of 60000/);
  });
});
