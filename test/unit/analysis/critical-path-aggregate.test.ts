import { describe, expect, it } from 'vitest';
import { aggregateCriticalPaths, findBottlenecks } from '../../../src/analysis/critical-path-aggregate.js';
import { routeBasedName } from '../../../src/analysis/semconv.js';
import { SpanKind } from '../../../src/model/span.js';
import { checkoutTraces } from './checkout-fixture.js';
import { mkTrace, traceIdOf, type Row } from './fixture.js';

describe('AGG-v1', () => {
  it('reproduces the worked example of ANALYSIS.md §2.3 exactly', () => {
    const agg = aggregateCriticalPaths(checkoutTraces());
    expect(agg).toMatchObject({ inputTraceCount: 4, traceCount: 4, sampled: false, totalRootNs: 440_000_000n, totalRootMs: 440 });
    expect(agg.operations.map((r) => [r.service, r.name, r.criticalMs, r.share, r.tracesOnPath, r.spansOnPath])).toEqual([
      ['payment', 'INSERT payments', 220, 0.5, 4, 4],
      ['frontend', 'GET /checkout', 80, 0.181818, 4, 4],
      ['cart', 'GetCart', 68, 0.154545, 4, 4],
      ['payment', 'Charge', 48, 0.109091, 4, 4],
      ['frontend', 'cart.GetCart', 12, 0.027273, 4, 4],
      ['frontend', 'payment.Charge', 12, 0.027273, 4, 4],
    ]);
    const insert = agg.operations[0]!;
    expect(insert).toMatchObject({ criticalNs: 220_000_000n, meanPerTraceMs: 55, p50PerTraceMs: 25, p90PerTraceMs: 145 });
    expect(agg.rootLatency).toEqual({ count: 4, minMs: 60, maxMs: 200, meanMs: 110, p50Ms: 80, p90Ms: 200, p95Ms: 200, p99Ms: 200 });
  });

  it('builds call paths from the root and keeps the worst trace as exemplar', () => {
    const agg = aggregateCriticalPaths(checkoutTraces());
    expect(agg.callPathCount).toBe(6);
    expect(agg.callPaths[0]).toMatchObject({
      path: 'frontend:GET /checkout > frontend:payment.Charge > payment:Charge > payment:INSERT payments',
      depth: 4,
      criticalMs: 220,
      tracesOnPath: 4,
      worstTraceId: traceIdOf(3),
      worstTraceCriticalMs: 145,
    });
    expect(agg.callPaths.map((p) => p.path)).toContain('frontend:GET /checkout > frontend:cart.GetCart > cart:GetCart');
  });

  it('contrasts the slow tail (≥ p90) with all traces', () => {
    const tc = aggregateCriticalPaths(checkoutTraces()).tailContrast!;
    expect(tc).toMatchObject({ quantile: 0.9, thresholdMs: 200, traceCount: 1 });
    expect(tc.rows[0]).toEqual({
      service: 'payment',
      name: 'INSERT payments',
      tailCriticalMs: 145,
      tailShare: 0.725,
      allShare: 0.5,
      shareDelta: 0.225,
      tailTracesOnPath: 1,
    });
    // Everything else shrinks in the tail.
    expect(tc.rows.slice(1).every((r) => r.shareDelta < 0)).toBe(true);
  });

  it('ranks bottlenecks present on ≥ 20 % of traces by critical time', () => {
    // Add one trace with a rare, huge operation: 1 of 5 traces = 20 % (kept); with 6 traces it drops out.
    const rare = (n: number): Row[] => [
      { id: 'r', start: 0, end: 1_000_000_000, service: 'frontend', name: 'GET /checkout', kind: SpanKind.SERVER },
      { id: 'b', parent: 'r', start: 0, end: 999_000_000, service: 'batch', name: `export${n}` },
    ];
    const five = [...checkoutTraces(), mkTrace(rare(1), traceIdOf(9))];
    const b = findBottlenecks(aggregateCriticalPaths(five));
    expect(b[0]).toMatchObject({ rank: 1, service: 'batch', name: 'export1', traceFraction: 0.2 });
    const six = [...five, mkTrace(rare(2), traceIdOf(10))];
    const b6 = findBottlenecks(aggregateCriticalPaths(six), { limit: 3 });
    expect(b6.map((x) => x.name)).toEqual(['INSERT payments', 'GET /checkout', 'GetCart']);
    expect(b6[0]!.tailShareDelta).not.toBeNull();
  });

  it('samples deterministically by trace-id hash and ignores input order', () => {
    const traces = Array.from({ length: 30 }, (_, i) =>
      mkTrace(
        [
          { id: 'r', start: 0, end: 100 + i, service: 'a', name: 'root' },
          { id: 'c', parent: 'r', start: 10, end: 50 + i, service: 'b', name: 'child' },
        ],
        traceIdOf(i + 1),
      ),
    );
    const a = aggregateCriticalPaths(traces, { maxTraces: 10 });
    const b = aggregateCriticalPaths([...traces].reverse(), { maxTraces: 10 });
    expect(a.sampled).toBe(true);
    expect(a.traceCount).toBe(10);
    expect(b).toEqual(a);
    expect(aggregateCriticalPaths([...traces].reverse())).toEqual(aggregateCriticalPaths(traces));
  });

  it('filters by root service/name and handles an empty input', () => {
    expect(aggregateCriticalPaths(checkoutTraces(), { rootService: 'frontend', rootName: 'GET /checkout' }).traceCount).toBe(4);
    expect(aggregateCriticalPaths(checkoutTraces(), { rootName: 'GET /other' }).traceCount).toBe(0);
    const empty = aggregateCriticalPaths([]);
    expect(empty).toMatchObject({ traceCount: 0, operations: [], callPaths: [], tailContrast: null, totalRootMs: 0 });
    expect(empty.rootLatency.p50Ms).toBeNull();
  });

  it('names rows with nameOf (e.g. route-based names for high-cardinality span names)', () => {
    const traces = [1, 2].map((n) =>
      mkTrace(
        [
          { id: 'r', start: 0, end: 10, name: `GET /user/${n}`, kind: SpanKind.SERVER, attrs: { 'http.route': '/user/:id', 'http.method': 'GET' } },
          { id: 'c', parent: 'r', start: 2, end: 4, name: `SELECT ${n}` },
        ],
        traceIdOf(n),
      ),
    );
    const agg = aggregateCriticalPaths(traces, { nameOf: routeBasedName, rootName: 'GET /user/:id' });
    expect(agg.operations.map((r) => [r.name, r.tracesOnPath])).toEqual([
      ['GET /user/:id', 2],
      ['SELECT 1', 1],
      ['SELECT 2', 1],
    ]);
  });

  it('selects by root end window (start, end] and by latency band', () => {
    // Root ends: 100, 80, 200, 60 ms (traces 1–4).
    const w = aggregateCriticalPaths(checkoutTraces(), { rootEndWindow: { startNs: 80_000_000n, endNs: 200_000_000n } });
    expect(w.traceCount).toBe(2); // 100 and 200; 80 is outside (start is exclusive)
    expect(aggregateCriticalPaths(checkoutTraces(), { minRootDurationNs: 100_000_000n }).traceCount).toBe(2);
    const band = aggregateCriticalPaths(checkoutTraces(), { minRootQuantile: 0.5 });
    expect(band).toMatchObject({ matchedTraceCount: 3, traceCount: 3, totalRootMs: 380 });
  });

  it('elides the middle of very deep call paths', () => {
    const rows: Row[] = Array.from({ length: 30 }, (_, i) => ({ id: `c${i}`, ...(i > 0 ? { parent: `c${i - 1}` } : {}), start: i, end: 100 - i, name: `op${i}` }));
    const agg = aggregateCriticalPaths([mkTrace(rows)], { maxPathSegments: 6 });
    const deepest = agg.callPaths.find((p) => p.name === 'op29')!;
    expect(deepest.depth).toBe(30);
    expect(deepest.path).toBe('svc:op0 > svc:op1 > svc:op2 > svc:op3 > … (24 more) … > svc:op28 > svc:op29');
  });
});
