import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { analyzeDatabase } from '../../../src/analysis/database-analysis.js';
import { poolSaturation } from '../../../src/analysis/db-pool.js';
import { dbCallOf, normalizeStatement } from '../../../src/analysis/db-statement.js';
import type { StoredSeries } from '../../../src/analysis/metric-source.js';
import { SpanKind, StatusCode } from '../../../src/model/span.js';
import type { TraceSpan } from '../../../src/model/trace.js';
import { mkSpan, ms, traceIdOf } from './fixture.js';

describe('statement normalisation', () => {
  it.each([
    ["SELECT * FROM users WHERE id = 42 AND name = 'O''Brien'", 'SELECT * FROM users WHERE id = ? AND name = ?'],
    ['select *  from t where id in (1, 2, 3,4)', 'select * from t where id in (?)'],
    ["INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')", 'INSERT INTO t (a, b) VALUES (?, ?)'],
    ['SELECT a FROM t1 WHERE x = $1 AND y > -3.5e2 -- trailing', 'SELECT a FROM t1 WHERE x = ? AND y > ?'],
    ['/* app=web */ UPDATE "Table2" SET flag = true WHERE id = 0x1F', 'UPDATE "Table2" SET flag = ? WHERE id = ?'],
    ['GET user:12345', 'GET user:?'],
  ])('%s', (input, want) => {
    expect(normalizeStatement(input)).toBe(want);
  });

  it('calls that differ only in literal values get one shape; any text is handled', () => {
    const literal = fc.oneof(
      fc.integer({ min: -1e9, max: 1e9 }).map(String),
      fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map((d) => String(d)),
      fc.string({ maxLength: 12 }).map((t) => `'${t.replace(/'/g, "''")}'`),
      fc.constantFrom('true', 'FALSE', '0xBEEF', '$3'),
    );
    // Literal text inside a comment cannot end it: SQL ends a block comment at the first */ and a line
    // comment at the first newline, even inside quotes, so such a literal would change the statement's shape.
    const inBlock = (t: string): string => t.replace(/\*\//g, '* /');
    const inLine = (t: string): string => t.replace(/[\r\n]/g, ' ');
    const template = fc.constantFrom(
      (a: string, b: string) => `SELECT * FROM t2 WHERE id = ${a} AND v > ${b}`,
      (a: string, b: string) => `UPDATE "T" SET x = ${a} /* c ${inBlock(b)} */ WHERE k IN (${a}, ${b}, ${a})`,
      (a: string, b: string) => `INSERT INTO t (a, b) VALUES (${a}, ${b}), (${b}, ${a}) -- ${inLine(b)}`,
    );
    fc.assert(fc.property(template, literal, literal, literal, literal, (tpl, a, b, c, d) => {
      expect(normalizeStatement(tpl(a, b))).toBe(normalizeStatement(tpl(c, d)));
    }));
    fc.assert(fc.property(fc.string({ maxLength: 400 }), (text) => {
      expect(normalizeStatement(text).length).toBeLessThanOrEqual(301);
    }));
  });

  it('reads both semconv generations and falls back to operation + collection', () => {
    const old = mkSpan({ id: 'a', start: 0, end: 1, attrs: { 'db.system': 'mysql', 'db.statement': 'SELECT 1' } });
    const cur = mkSpan({ id: 'b', start: 0, end: 1, attrs: { 'db.system.name': 'postgresql', 'db.operation.name': 'SELECT', 'db.collection.name': 'orders' } });
    expect(dbCallOf(old)).toEqual({ system: 'mysql', statement: 'SELECT ?', source: 'query' });
    expect(dbCallOf(cur)).toEqual({ system: 'postgresql', statement: 'SELECT orders', source: 'operation' });
    expect(dbCallOf(mkSpan({ id: 'c', start: 0, end: 1 }))).toBeNull();
  });
});

/** A request root, a handler span, then `repeats` item lookups (one per id) and one orders query. */
function request(n: number, repeats: number, errorOnLast = false): TraceSpan[] {
  const rows = [
    { id: 'root', start: 0n, end: ms(100), service: 'api', name: 'GET /orders', kind: SpanKind.SERVER },
    { id: 'handler', parent: 'root', start: ms(1), end: ms(99), service: 'api', name: 'load order' },
    { id: 'q0', parent: 'handler', start: ms(1), end: ms(6), service: 'api', name: 'SELECT orders', attrs: { 'db.system.name': 'postgresql', 'db.query.text': `SELECT * FROM orders WHERE id = ${n}` } },
  ];
  for (let i = 0; i < repeats; i++) {
    rows.push({
      id: `i${i}`, parent: 'handler', start: ms(10 + i), end: ms(10 + i) + ms(1 + (i % 3)), service: 'api', name: 'SELECT items',
      attrs: { 'db.system': 'postgresql', 'db.statement': `SELECT name FROM items WHERE id = ${1000 + i}` },
      ...(errorOnLast && i === repeats - 1 ? { status: StatusCode.ERROR } : {}),
    } as (typeof rows)[number]);
  }
  return rows.map((r) => mkSpan(r, traceIdOf(n)));
}

describe('database analysis', () => {
  it('statements with exact percentiles, calls per request, and N+1 with exemplars', () => {
    const traces = [request(1, 12), request(2, 3), request(3, 7, true)];
    const a = analyzeDatabase(traces, { startNs: 0n, endNs: ms(1000) });
    expect(a.dbSpans).toBe(3 + 12 + 3 + 7);
    const items = a.statements.find((s) => s.statement === 'SELECT name FROM items WHERE id = ?')!;
    expect(items).toMatchObject({ system: 'postgresql', calls: 22, traces: 3, errors: 1, callsPerTraceMax: 12, callsPerTraceMean: Number((22 / 3).toFixed(3)) });
    const durations = traces.flatMap((t) => t.filter((s) => s.name === 'SELECT items').map((s) => Number(s.endNs - s.startNs) / 1e6)).sort((x, y) => x - y);
    expect(items.p50Ms).toBe(durations[Math.ceil(0.5 * durations.length) - 1]);
    expect(items.p99Ms).toBe(durations[Math.ceil(0.99 * durations.length) - 1]);
    expect(a.statements[0]!.statement).toBe('SELECT name FROM items WHERE id = ?');
    expect(a.nPlusOne).toEqual([{
      system: 'postgresql', statement: 'SELECT name FROM items WHERE id = ?', parent: 'api load order', traces: 2, maxRepeats: 12, totalCalls: 19,
      totalMs: a.nPlusOne[0]!.totalMs, exemplarTraceIds: [traceIdOf(1), traceIdOf(3)],
    }]);
    expect(a.systems).toHaveLength(1);
    expect(a.systems[0]).toMatchObject({ system: 'postgresql', calls: 25, errors: 1 });
    expect(a.perRoot).toEqual([{ root: 'api GET /orders', traces: 3, dbCallsMean: Number(((13 + 4 + 8) / 3).toFixed(3)), dbCallsMax: 13, dbTimeMeanMs: a.perRoot[0]!.dbTimeMeanMs }]);
  });

  it('a higher threshold finds nothing', () => {
    expect(analyzeDatabase([request(1, 12)], { startNs: 0n, endNs: ms(1000), nPlusOneMin: 13 }).nPlusOne).toEqual([]);
  });
});

describe('connection-pool saturation', () => {
  const S = 1_000_000_000n;
  const gauge = (id: number, metric: string, labels: Record<string, string>, values: number[]): StoredSeries => ({
    id, metric, type: 'gauge', unit: '1', temporality: 0, monotonic: false, overflow: false, labels,
    points: values.map((v, i) => ({ timeNs: BigInt(60 * (i + 1)) * S, startNs: 0n, flags: 0, value: v })),
  });
  const window = { startNs: 0n, endNs: 3600n * S };

  it('app gauges (in_use / size) per pool', () => {
    const r = poolSaturation(
      [gauge(1, 'db_connection_pool_in_use', { pool: 'primary' }, [5, 19, 7]), gauge(2, 'db_connection_pool_in_use', { pool: 'replica' }, [1, 2, 3])],
      [gauge(3, 'db_connection_pool_size', { pool: 'primary' }, [20, 20, 20]), gauge(4, 'db_connection_pool_size', { pool: 'replica' }, [10, 10, 10])],
      [], window,
    );
    expect(r.map((p) => [p.pool, p.usedPeak, p.size, p.peakUtilisation, p.saturated])).toEqual([['primary', 19, 20, 0.95, true], ['replica', 3, 10, 0.3, false]]);
    expect(r[0]!.usedMean).toBe(Number(((5 + 19 + 7) / 3).toFixed(3)));
  });

  it('OTel semconv: only state=used counts; pending requests mean saturation', () => {
    const pool = { 'db.client.connection.pool.name': 'main' };
    const r = poolSaturation(
      [gauge(1, 'db.client.connection.count', { ...pool, 'db.client.connection.state': 'used' }, [4, 6]), gauge(2, 'db.client.connection.count', { ...pool, 'db.client.connection.state': 'idle' }, [6, 4])],
      [gauge(3, 'db.client.connection.max', pool, [10, 10])],
      [gauge(4, 'db.client.connection.pending_requests', pool, [0, 2])], window,
    );
    expect(r).toEqual([{ pool: 'main', usedPeak: 6, usedMean: 5, usedLast: 6, size: 10, peakUtilisation: 0.6, meanUtilisation: 0.5, pendingPeak: 2, saturated: true }]);
  });
});
