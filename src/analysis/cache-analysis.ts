/**
 * Cache hit ratio per level and cache (ANALYSIS.md §8), from hit/miss counters or, when there are none,
 * from cache lookup spans. Both sources reduce to hit and miss counts per (cache, level) and per step;
 * everything after that (ratios, trend, chaining, the weakest level) is shared.
 *
 * Trend: the window is split at its middle step; the first- and last-half ratios are pooled counts (not
 * means of step ratios), and a fall counts as significant when the two-proportion z ≥ 3 and the ratio
 * fell by at least 0.02. `slope` is the least-squares slope of the step ratios per step.
 * Weakest level: the one with the largest significant fall if any level fell, else the lowest hit ratio.
 */
import type { TraceSpan } from '../model/trace.js';
import { compareLevels, labelOf, pickMetricNames, relabel, round, slope, stepBins, binIndex, twoProportionZ } from './domain-common.js';
import { evaluateMetricQuery } from './metrics-query.js';
import type { StoredSeries } from './metric-source.js';

export const CACHE_LEVEL_LABELS = ['cache.level', 'cache_level', 'level', 'tier', 'cache.tier'] as const;
export const CACHE_NAME_LABELS = ['cache.name', 'cache_name', 'cache', 'name'] as const;
/** Counter names, best first: Prometheus style, then OTel dotted style. */
export const CACHE_HIT_METRICS = [/^cache[._]hits?(_total)?$/i, /cache[._]?hits?(_total)?$/i];
export const CACHE_MISS_METRICS = [/^cache[._]miss(es)?(_total)?$/i, /cache[._]?miss(es)?(_total)?$/i];

/** One counter for every lookup, with the outcome in a label (`cache_requests_total{result="hit"}`). */
export const CACHE_LOOKUP_METRICS = [/cache[._]?(requests|lookups|operations|gets|accesses)(_total)?$/i];
const RESULT_LABELS = ['cache.result', 'result', 'outcome', 'cache.hit', 'hit', 'status'];

export const pickCacheMetrics = (names: readonly string[]): { hits: string[]; misses: string[]; lookups: string[] } => ({
  hits: pickMetricNames(names, CACHE_HIT_METRICS),
  misses: pickMetricNames(names, CACHE_MISS_METRICS),
  lookups: pickMetricNames(names, CACHE_LOOKUP_METRICS),
});

/** Lookup-counter series split by their outcome label; series with another outcome (error, …) are left out. */
export function splitByResult(series: readonly StoredSeries[]): { hits: StoredSeries[]; misses: StoredSeries[] } {
  const hits: StoredSeries[] = [];
  const misses: StoredSeries[] = [];
  for (const s of series) {
    const v = labelOf(s.labels, RESULT_LABELS)?.toLowerCase();
    if (v === 'hit' || v === 'true') hits.push(s);
    else if (v === 'miss' || v === 'missed' || v === 'false') misses.push(s);
  }
  return { hits, misses };
}

export interface CacheWindow {
  startNs: bigint;
  endNs: bigint;
  stepNs: bigint;
  maxPoints: number;
}

/** Hit and miss counts of one (cache, level) in total and per step (null = no data in that step). */
export interface CacheCounts {
  cache: string;
  level: string;
  hits: number;
  misses: number;
  hitsPerStep: (number | null)[];
  missesPerStep: (number | null)[];
  /** Mean lookup latency (spans only). */
  meanMs?: number;
}

export interface CacheLevelStats {
  cache: string;
  level: string;
  hits: number;
  misses: number;
  lookups: number;
  hitRatio: number | null;
  firstHalf: number | null;
  lastHalf: number | null;
  /** Ratio change per step (least squares over the step ratios). */
  slopePerStep: number | null;
  /** Two-proportion z of first half against last half (positive = fell). */
  dropZ: number;
  falling: boolean;
  /** Hit ratio per step, aligned with CacheAnalysis.stepEndsNs. */
  series: (number | null)[];
  meanMs?: number;
}

export interface CacheHierarchy {
  cache: string;
  /** Levels in order (L1, L2, …). */
  levels: string[];
  /** Whether each level's lookups ≈ the previous level's misses (within 5 %). */
  chained: boolean;
  /** Largest |lookups_{ℓ+1} − misses_ℓ| / misses_ℓ. */
  maxMismatch: number | null;
  /** (Σ hits) / lookups of the first level, when chained. */
  effectiveHitRatio: number | null;
  /** Σ P(reach ℓ)·t_ℓ with t_ℓ the mean lookup latency of level ℓ (spans only, when chained). */
  expectedLookupMs: number | null;
}

export interface CacheAnalysis {
  source: 'metrics' | 'spans' | 'none';
  metrics: { hits: string[]; misses: string[]; lookups?: string[] };
  stepEndsNs: bigint[];
  levels: CacheLevelStats[];
  hierarchies: CacheHierarchy[];
  weakest: { cache: string; level: string; reason: string } | null;
}

/** Counts from cumulative or delta hit/miss counters (resets handled by metrics-query increments). */
export function cacheCountsFromCounters(hits: readonly StoredSeries[], misses: readonly StoredSeries[], w: CacheWindow): CacheCounts[] {
  const canonical = { cache: CACHE_NAME_LABELS, level: CACHE_LEVEL_LABELS };
  const side = (series: readonly StoredSeries[]) => evaluateMetricQuery({
    select: [{ metric: 'x', matchers: [] }], aggregation: 'increase', groupBy: ['cache', 'level'],
    startNs: w.startNs, endNs: w.endNs, stepNs: w.stepNs, maxSeries: 100_000, maxPoints: w.maxPoints,
  }, relabel(series, canonical)).groups;
  const out = new Map<string, CacheCounts>();
  const entry = (labels: Record<string, string>, steps: number): CacheCounts => {
    const key = `${labels['cache'] ?? ''}\u0000${labels['level'] ?? ''}`;
    let c = out.get(key);
    if (!c) out.set(key, (c = { cache: labels['cache'] ?? '', level: labels['level'] ?? '', hits: 0, misses: 0, hitsPerStep: Array<number | null>(steps).fill(null), missesPerStep: Array<number | null>(steps).fill(null) }));
    return c;
  };
  for (const [groups, field] of [[side(hits), 'hits'], [side(misses), 'misses']] as const) {
    for (const g of groups) {
      const steps = g.points?.length ?? 0;
      const c = entry(g.labels, steps);
      c[field] += g.value ?? 0;
      const per = field === 'hits' ? c.hitsPerStep : c.missesPerStep;
      g.points?.forEach((p, i) => {
        if (p.value !== null) per[i] = (per[i] ?? 0) + p.value;
      });
    }
  }
  return [...out.values()];
}

/** `cache.hit` (bool or "true"/"false"), or a result/status attribute saying hit or miss; else null. */
export function cacheHitOf(span: TraceSpan): boolean | null {
  for (const key of ['cache.hit', 'cache_hit', 'hit']) {
    const v = span.attributes[key];
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    if (v === 1 || v === 0) return v === 1;
  }
  for (const key of ['cache.result', 'cache.status', 'cache.outcome', 'cache_result']) {
    const v = span.attributes[key];
    if (typeof v !== 'string') continue;
    if (/^hit$/i.test(v)) return true;
    if (/^miss(ed)?$/i.test(v)) return false;
  }
  return null;
}

const str = (span: TraceSpan, keys: readonly string[]): string | undefined => {
  for (const k of keys) {
    const v = span.attributes[k];
    if (v !== undefined && v !== null && v !== '' && !Array.isArray(v)) return String(v);
  }
  return undefined;
};

/**
 * Counts from spans that say whether they hit (`cache.hit`, `cache.result`…), by `cache.level` and
 * `cache.name` (else db.system, else the span name when it looks like cache.get). Spans are counted in
 * the step holding their start time.
 */
export function cacheCountsFromSpans(traces: readonly (readonly TraceSpan[])[], w: CacheWindow): CacheCounts[] {
  const bins = stepBins(w.startNs, w.endNs, w.stepNs, w.maxPoints);
  const out = new Map<string, CacheCounts & { totalNs: bigint; n: number }>();
  for (const spans of traces) {
    for (const s of spans) {
      if (s.startNs < w.startNs || s.startNs > w.endNs) continue;
      const hit = cacheHitOf(s);
      if (hit === null) continue;
      const level = str(s, CACHE_LEVEL_LABELS) ?? '';
      const cache = str(s, CACHE_NAME_LABELS) ?? str(s, ['db.system.name', 'db.system']) ?? (/cache/i.test(s.name) ? s.name : '');
      const key = `${cache}\u0000${level}`;
      let c = out.get(key);
      if (!c) {
        c = { cache, level, hits: 0, misses: 0, hitsPerStep: Array<number | null>(bins.length).fill(null), missesPerStep: Array<number | null>(bins.length).fill(null), totalNs: 0n, n: 0 };
        out.set(key, c);
      }
      if (hit) c.hits++;
      else c.misses++;
      c.totalNs += s.endNs - s.startNs;
      c.n++;
      const i = binIndex(bins, s.startNs);
      if (i >= 0) {
        const per = hit ? c.hitsPerStep : c.missesPerStep;
        per[i] = (per[i] ?? 0) + 1;
        const other = hit ? c.missesPerStep : c.hitsPerStep;
        other[i] ??= 0;
      }
    }
  }
  return [...out.values()].map(({ totalNs, n, ...c }) => ({ ...c, meanMs: Math.round(Number(totalNs) / n / 1e3) / 1e3 }));
}

/** Ratios, trend, hierarchy and the weakest level from counts (either source). */
export function analyzeCache(counts: readonly CacheCounts[], w: CacheWindow, source: CacheAnalysis['source'], metrics: CacheAnalysis['metrics']): CacheAnalysis {
  const bins = stepBins(w.startNs, w.endNs, w.stepNs, w.maxPoints);
  const levels = counts.map((c) => levelStats(c)).sort((a, b) => a.cache.localeCompare(b.cache) || compareLevels(a.level, b.level));
  const hierarchies: CacheHierarchy[] = [];
  for (const cache of [...new Set(levels.map((l) => l.cache))]) {
    const ls = levels.filter((l) => l.cache === cache && l.lookups > 0);
    if (ls.length < 2) continue;
    let maxMismatch: number | null = null;
    for (let i = 1; i < ls.length; i++) {
      const prevMisses = (ls[i - 1] as CacheLevelStats).misses;
      const m = prevMisses > 0 ? Math.abs((ls[i] as CacheLevelStats).lookups - prevMisses) / prevMisses : Infinity;
      maxMismatch = Math.max(maxMismatch ?? 0, m);
    }
    const chained = maxMismatch !== null && maxMismatch <= 0.05;
    const first = ls[0] as CacheLevelStats;
    let expected: number | null = chained ? 0 : null;
    for (const l of ls) {
      if (expected === null || l.meanMs === undefined) {
        expected = null;
        break;
      }
      expected += (l.lookups / first.lookups) * l.meanMs;
    }
    hierarchies.push({
      expectedLookupMs: expected === null ? null : round(expected, 3),
      cache, levels: ls.map((l) => l.level), chained,
      maxMismatch: maxMismatch === null || !Number.isFinite(maxMismatch) ? null : round(maxMismatch),
      effectiveHitRatio: chained && first.lookups > 0 ? round(ls.reduce((a, l) => a + l.hits, 0) / first.lookups, 6) : null,
    });
  }
  return { source, metrics, stepEndsNs: bins.map((b) => b.hi), levels, hierarchies, weakest: weakestLevel(levels) };
}

function levelStats(c: CacheCounts): CacheLevelStats {
  const lookups = c.hits + c.misses;
  const n = c.hitsPerStep.length;
  const half = Math.floor(n / 2);
  const sum = (xs: (number | null)[], from: number, to: number): number => xs.slice(from, to).reduce<number>((a, x) => a + (x ?? 0), 0);
  const h1 = sum(c.hitsPerStep, 0, half);
  const m1 = sum(c.missesPerStep, 0, half);
  const h2 = sum(c.hitsPerStep, half, n);
  const m2 = sum(c.missesPerStep, half, n);
  const series = c.hitsPerStep.map((h, i) => {
    const m = c.missesPerStep[i] ?? 0;
    return (h ?? 0) + m > 0 ? round((h ?? 0) / ((h ?? 0) + m), 6) : null;
  });
  const firstHalf = h1 + m1 > 0 ? h1 / (h1 + m1) : null;
  const lastHalf = h2 + m2 > 0 ? h2 / (h2 + m2) : null;
  const dropZ = twoProportionZ(h1, h1 + m1, h2, h2 + m2);
  const s = slope(series);
  return {
    cache: c.cache, level: c.level, hits: c.hits, misses: c.misses, lookups,
    hitRatio: lookups > 0 ? round(c.hits / lookups, 6) : null,
    firstHalf: firstHalf === null ? null : round(firstHalf, 6), lastHalf: lastHalf === null ? null : round(lastHalf, 6),
    slopePerStep: s === null ? null : round(s, 6), dropZ: round(dropZ, 3),
    falling: firstHalf !== null && lastHalf !== null && dropZ >= 3 && firstHalf - lastHalf >= 0.02,
    series,
    ...(c.meanMs !== undefined ? { meanMs: c.meanMs } : {}),
  };
}

function weakestLevel(levels: readonly CacheLevelStats[]): CacheAnalysis['weakest'] {
  const live = levels.filter((l) => l.hitRatio !== null);
  const falling = live.filter((l) => l.falling).sort((a, b) => ((b.firstHalf ?? 0) - (b.lastHalf ?? 0)) - ((a.firstHalf ?? 0) - (a.lastHalf ?? 0)));
  const f = falling[0];
  if (f) return { cache: f.cache, level: f.level, reason: `hit ratio fell from ${f.firstHalf} to ${f.lastHalf} (z=${f.dropZ})` };
  const low = [...live].sort((a, b) => (a.hitRatio as number) - (b.hitRatio as number) || b.misses - a.misses)[0];
  return low ? { cache: low.cache, level: low.level, reason: `lowest hit ratio ${low.hitRatio} (${low.misses} misses of ${low.lookups})` } : null;
}

