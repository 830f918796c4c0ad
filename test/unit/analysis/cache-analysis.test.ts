import { describe, expect, it } from 'vitest';
import { analyzeCache, cacheCountsFromCounters, cacheCountsFromSpans, pickCacheMetrics, splitByResult } from '../../../src/analysis/cache-analysis.js';
import type { StoredMetricPoint, StoredSeries } from '../../../src/analysis/metric-source.js';
import { mkSpan, traceIdOf } from './fixture.js';

const S = 1_000_000_000n;
const w = { startNs: 0n, endNs: 600n * S, stepNs: 60n * S, maxPoints: 60 };

let nextId = 1;
/** A cumulative counter reporting every 30 s, adding perStep(step) per minute (half every 30 s). */
function counter(metric: string, labels: Record<string, string>, perMinute: (minute: number) => number, temporality: 1 | 2 = 2): StoredSeries {
  const points: StoredMetricPoint[] = [];
  let total = 0;
  for (let t = 30; t <= 600; t += 30) {
    const add = perMinute(Math.floor((t - 1) / 60)) / 2;
    total += add;
    points.push({ timeNs: BigInt(t) * S, startNs: temporality === 2 ? 1n : BigInt(t - 30) * S, flags: 0, value: temporality === 2 ? total : add });
  }
  return { id: nextId++, metric, type: 'sum', unit: '1', temporality, monotonic: true, overflow: false, labels, points };
}

describe('cache hit ratio from counters', () => {
  it('gives the exact ratio per level, tolerates label spellings, checks chaining and names the falling level', () => {
    // L1: 100 lookups a minute, 90 hits. L2 gets L1's 10 misses: 8 hits in the first 5 minutes, then 5.
    const hits = [
      counter('cache_hits_total', { level: 'L1', 'service.name': 'api' }, () => 90),
      counter('cache_hits_total', { 'cache.level': 'L2', 'service.name': 'api' }, (m) => (m < 5 ? 8 : 5)),
    ];
    const misses = [
      counter('cache_misses_total', { level: 'L1', 'service.name': 'api' }, () => 10),
      counter('cache_misses_total', { 'cache.level': 'L2', 'service.name': 'api' }, (m) => (m < 5 ? 2 : 5)),
    ];
    const counts = cacheCountsFromCounters(hits, misses, w);
    const a = analyzeCache(counts, w, 'metrics', { hits: ['cache_hits_total'], misses: ['cache_misses_total'] });
    expect(a.levels.map((l) => [l.level, l.hits, l.misses, l.hitRatio])).toEqual([
      ['L1', 900, 100, 0.9],
      ['L2', 65, 35, 0.65],
    ]);
    const l2 = a.levels[1]!;
    expect(l2.firstHalf).toBe(0.8);
    expect(l2.lastHalf).toBe(0.5);
    expect(l2.falling).toBe(true);
    expect(l2.slopePerStep).toBeLessThan(0);
    expect(l2.series).toEqual([0.8, 0.8, 0.8, 0.8, 0.8, 0.5, 0.5, 0.5, 0.5, 0.5]);
    expect(a.levels[0]!.falling).toBe(false);
    expect(a.weakest).toMatchObject({ level: 'L2' });
    expect(a.weakest!.reason).toMatch(/fell from 0.8 to 0.5/);
    expect(a.hierarchies).toEqual([{ cache: '', levels: ['L1', 'L2'], chained: true, maxMismatch: 0, effectiveHitRatio: 0.965, expectedLookupMs: null }]);
  });

  it('without a fall, the weakest level is the lowest ratio; unchained levels get no effective ratio', () => {
    const hits = ['L1', 'L2', 'L3'].map((level, i) => counter('cache.hits', { level }, () => [90, 60, 25][i]!, 1));
    const misses = ['L1', 'L2', 'L3'].map((level, i) => counter('cache.misses', { level }, () => [10, 40, 75][i]!, 1));
    const a = analyzeCache(cacheCountsFromCounters(hits, misses, w), w, 'metrics', { hits: ['cache.hits'], misses: ['cache.misses'] });
    expect(a.levels.map((l) => l.hitRatio)).toEqual([0.9, 0.6, 0.25]);
    expect(a.weakest).toMatchObject({ level: 'L3' });
    expect(a.hierarchies[0]).toMatchObject({ chained: false, effectiveHitRatio: null });
  });

  it('counts through a counter reset', () => {
    const h = counter('cache_hits_total', { level: 'L1' }, () => 10);
    // The process restarts at 300 s: the cumulative value starts again from 0 with a new start time.
    h.points = h.points.map((p) => (p.timeNs > 300n * S ? { ...p, startNs: 300n * S, value: (p.value as number) - 50 } : p));
    const m = counter('cache_misses_total', { level: 'L1' }, () => 10);
    const a = analyzeCache(cacheCountsFromCounters([h], [m], w), w, 'metrics', { hits: [], misses: [] });
    expect(a.levels[0]).toMatchObject({ hits: 100, misses: 100, hitRatio: 0.5 });
  });

  it('picks hit and miss counters by their usual names', () => {
    expect(pickCacheMetrics(['http_requests_total', 'cache_hits_total', 'cache_misses_total', 'redis_cache_hits'])).toEqual({ hits: ['cache_hits_total'], misses: ['cache_misses_total'], lookups: [] });
    expect(pickCacheMetrics(['app.cache.hits', 'app.cache.misses', 'cache_requests_total'])).toEqual({ hits: ['app.cache.hits'], misses: ['app.cache.misses'], lookups: ['cache_requests_total'] });
  });

  it('one lookup counter with the outcome in a label', () => {
    const series = [
      counter('cache_requests_total', { tier: 'L1', result: 'hit' }, () => 30),
      counter('cache_requests_total', { tier: 'L1', result: 'miss' }, () => 10),
      counter('cache_requests_total', { tier: 'L1', result: 'error' }, () => 99),
    ];
    const { hits, misses } = splitByResult(series);
    const a = analyzeCache(cacheCountsFromCounters(hits, misses, w), w, 'metrics', { hits: [], misses: [] });
    expect(a.levels.map((l) => [l.level, l.hits, l.misses, l.hitRatio])).toEqual([['L1', 300, 100, 0.75]]);
  });
});

describe('cache hit ratio from spans', () => {
  it('counts cache.hit per level and name, per step, with mean lookup latency', () => {
    const spans = [];
    for (let i = 0; i < 100; i++) {
      const start = BigInt(i * 6) * S + 1n;
      spans.push(mkSpan({ id: `a${i}`, name: 'cache.get', start, end: start + 1_000_000n, attrs: { 'cache.hit': i % 10 !== 0, 'cache.level': 'L1', 'cache.name': 'users' } }, traceIdOf(i)));
      if (i % 10 === 0) spans.push(mkSpan({ id: `b${i}`, name: 'cache.get', start: start + 1n, end: start + 3_000_001n, attrs: { 'cache.result': i % 20 === 0 ? 'hit' : 'miss', 'cache.level': 'L2', 'cache.name': 'users' } }, traceIdOf(i)));
      spans.push(mkSpan({ id: `c${i}`, name: 'SELECT', start, end: start + 5n, attrs: { 'db.system.name': 'postgresql' } }, traceIdOf(i)));
    }
    const a = analyzeCache(cacheCountsFromSpans([spans], w), w, 'spans', { hits: [], misses: [] });
    expect(a.levels.map((l) => [l.cache, l.level, l.hits, l.misses, l.hitRatio, l.meanMs])).toEqual([
      ['users', 'L1', 90, 10, 0.9, 1],
      ['users', 'L2', 5, 5, 0.5, 3],
    ]);
    expect(a.levels[0]!.series).toEqual(Array(10).fill(0.9));
    // Every lookup pays L1 (1 ms); the 10 % that miss also pay L2 (3 ms).
    expect(a.hierarchies[0]).toMatchObject({ chained: true, effectiveHitRatio: 0.95, expectedLookupMs: 1.3 });
  });
});
