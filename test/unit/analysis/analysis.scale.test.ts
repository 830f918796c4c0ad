/**
 * The other analyses on the same deep and wide shapes as CP-v1's scale test: no recursion anywhere,
 * bounded outputs. Each analysis is bounded at a generous 5 s. Measured on the shared 2-core box
 * (load 3–5, 2026-11-25), each analysis alone: 0.1–0.9 s on the 20k chain (20,000 distinct operations,
 * the worst case for AGG-v1 rows), 0.3–1.0 s on the 50k fan-out; up to ~1.1 s each inside a parallel run.
 */
import { describe, expect, it } from 'vitest';
import { aggregateCriticalPaths } from '../../../src/analysis/critical-path-aggregate.js';
import { analyzeTraceErrors, groupErrors } from '../../../src/analysis/errors.js';
import { buildServiceGraph } from '../../../src/analysis/service-graph.js';
import { SpanKind, StatusCode } from '../../../src/model/span.js';
import { mkTrace, type Row } from './fixture.js';

function chain(depth: number): Row[] {
  return Array.from({ length: depth }, (_, i) => ({
    id: `c${i}`,
    ...(i > 0 ? { parent: `c${i - 1}` } : {}),
    start: i,
    end: 2 * depth - i,
    service: `s${i % 7}`,
    kind: i % 2 === 0 ? SpanKind.SERVER : SpanKind.CLIENT,
    status: StatusCode.ERROR,
  }));
}

function timed<T>(f: () => T): { value: T; ms: number } {
  const t0 = performance.now();
  const value = f();
  return { value, ms: performance.now() - t0 };
}

describe('analyses at scale', () => {
  it('errors, aggregation and service graph on a 20,000-level all-error chain (each ≤ ~1.1 s measured)', () => {
    const spans = mkTrace(chain(20_000));
    const errors = timed(() => analyzeTraceErrors(spans));
    expect(errors.value.rootCauses).toHaveLength(1);
    expect(errors.value.rootCauses[0]!).toMatchObject({ spanId: 'c19999', chainLength: 20_000, reachesRoot: true });
    expect(errors.value.rootCauses[0]!.chain).toHaveLength(20);
    const groups = timed(() => groupErrors([spans]));
    expect(groups.value.errorSpanCount).toBe(20_000);
    const agg = timed(() => aggregateCriticalPaths([spans]));
    expect(agg.value.callPathCount).toBe(20_000);
    expect(agg.value.callPaths[0]!.path.length).toBeLessThan(1000);
    const graph = timed(() => buildServiceGraph([spans], { windowNs: 60_000_000_000n }));
    // user→c0, 9,999 CLIENT→SERVER pairs, and the last (unpaired CLIENT) span to its virtual peer.
    expect(graph.value.edges.reduce((a, e) => a + e.requestCount, 0)).toBe(10_001);
    console.log(`20k chain: errors ${errors.ms.toFixed(0)} ms, groups ${groups.ms.toFixed(0)} ms, aggregate ${agg.ms.toFixed(0)} ms, graph ${graph.ms.toFixed(0)} ms`);
    for (const t of [errors, groups, agg, graph]) expect(t.ms).toBeLessThan(5000);
  });

  it('errors, aggregation and service graph on a 50,000-child fan-out (each ≤ ~1.1 s measured)', () => {
    const rows: Row[] = [{ id: 'root', start: 0, end: 1_000_000, kind: SpanKind.SERVER, service: 'api' }];
    for (let i = 0; i < 50_000; i++) {
      const start = (i * 7919) % 900_000;
      rows.push({ id: `k${i}`, parent: 'root', start, end: start + ((i * 104729) % 100_000), kind: SpanKind.CLIENT, service: 'api', status: i % 3 === 0 ? StatusCode.ERROR : StatusCode.UNSET, attrs: { 'db.system': 'redis' } });
    }
    const spans = mkTrace(rows);
    const errors = timed(() => analyzeTraceErrors(spans));
    expect(errors.value.rootCauseCount).toBe(16_667);
    expect(errors.value.rootCauses).toHaveLength(100);
    const agg = timed(() => aggregateCriticalPaths([spans]));
    expect(agg.value.totalRootMs).toBe(1);
    const graph = timed(() => buildServiceGraph([spans], { windowNs: 60_000_000_000n }));
    expect(graph.value.edges.find((e) => e.server === 'redis')).toMatchObject({ requestCount: 50_000, failedCount: 16_667 });
    console.log(`50k fan-out: errors ${errors.ms.toFixed(0)} ms, aggregate ${agg.ms.toFixed(0)} ms, graph ${graph.ms.toFixed(0)} ms`);
    for (const t of [errors, agg, graph]) expect(t.ms).toBeLessThan(5000);
  });
});
