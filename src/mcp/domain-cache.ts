import { analyzeCache, CACHE_LEVEL_LABELS, cacheCountsFromCounters, cacheCountsFromSpans, pickCacheMetrics, splitByResult, type CacheLevelStats } from '../analysis/cache-analysis.js';
import type { StoredSeries } from '../analysis/metric-source.js';
import type { McpDeps } from './deps.js';
import type { DomainAnswer, DomainArgs } from './domain-answer.js';
import { fetchMetricSeries, serviceMatchers, stepFor, storedMetrics } from './metric-args.js';
import { sampleTraces } from './trace-sample.js';
import type { ResolvedRange } from './time-input.js';

const MS_NS = 1_000_000n;
const DEFAULT_POINTS = 12;

/**
 * Hit ratio per cache and level from hit/miss counters (any of the usual names and label spellings);
 * without such counters, from cache lookup spans of a bounded trace sample.
 */
export async function cacheAnswer(deps: McpDeps, args: DomainArgs, range: ResolvedRange): Promise<DomainAnswer> {
  const windowNs = range.endNs - range.startNs;
  const step = stepFor(`${Math.max(1, Math.ceil(Number(windowNs / MS_NS) / DEFAULT_POINTS / 1000))}s`, windowNs, 60) as { stepNs: bigint; widened: boolean };
  const w = { startNs: range.startNs, endNs: range.endNs, stepNs: step.stepNs, maxPoints: 60 };
  const names = pickCacheMetrics((await storedMetrics(deps.metrics)).filter((m) => m.type === 'sum').map((m) => m.name));
  let analysis;
  let precision = 'exact (counters)';
  let truncated = false;
  let levelLabel = 'level';
  const matchers = serviceMatchers(args.service);
  let counters: { hits: StoredSeries[]; misses: StoredSeries[] } | null = null;
  if (names.hits.length > 0 && names.misses.length > 0) {
    const hits = await fetchMetricSeries(deps.metrics, names.hits, matchers, range, 2000);
    const misses = await fetchMetricSeries(deps.metrics, names.misses, matchers, range, 2000);
    truncated = hits.truncated || misses.truncated;
    counters = { hits: hits.series, misses: misses.series };
  } else if (names.lookups.length > 0) {
    const lookups = await fetchMetricSeries(deps.metrics, names.lookups, matchers, range, 2000);
    truncated = lookups.truncated;
    counters = splitByResult(lookups.series);
  }
  if (counters) {
    levelLabel = CACHE_LEVEL_LABELS.find((k) => counters.hits.some((s) => s.labels[k])) ?? levelLabel;
    analysis = analyzeCache(cacheCountsFromCounters(counters.hits, counters.misses, w), w, 'metrics', names);
  }
  if (!analysis || analysis.levels.length === 0) {
    const sample = await sampleTraces(deps, { service: args.service }, range, 'full');
    precision = sample.precision;
    analysis = analyzeCache(cacheCountsFromSpans(sample.traces, w), w, sample.traces.length > 0 ? 'spans' : 'none', names);
  }
  const rows = analysis.levels.map((l) => levelRow(l));
  const findings: Record<string, unknown>[] = [
    ...(analysis.weakest ? [{ kind: 'weakest_level', ...analysis.weakest }] : []),
    ...analysis.hierarchies.map((h) => ({ kind: 'hierarchy', cache: h.cache, levels: h.levels, chained: h.chained, max_mismatch: h.maxMismatch, effective_hit_ratio: h.effectiveHitRatio, ...(h.expectedLookupMs !== null ? { expected_lookup_ms: h.expectedLookupMs } : {}) })),
  ];
  const stepS = Number(step.stepNs / MS_NS) / 1000;
  const weakest = analysis.weakest;
  const hitsName = analysis.metrics.hits[0];
  const missName = analysis.metrics.misses[0];
  return {
    source: analysis.source, precision, rows, findings,
    context: {
      step_s: stepS, ...(analysis.stepEndsNs.length > 0 ? { first_step_end: iso(analysis.stepEndsNs[0] as bigint) } : {}),
      metrics: analysis.metrics, ...(truncated ? { note: 'more than 2000 series: narrow with service' } : {}),
    },
    summary: rows.length === 0
      ? 'No cache hit/miss counters (cache_hits_total/cache_misses_total or cache.hits/cache.misses) and no spans with cache.hit in the window.'
      : `Hit ratio ${rows.map((r) => `${r['cache'] ? `${String(r['cache'])}/` : ''}${String(r['level'] || 'all')} ${String(r['hit_ratio'])}`).join(', ')}${weakest ? `; weakest ${weakest.level || weakest.cache}: ${weakest.reason}` : ''}.`,
    hints: [
      ...(hitsName !== undefined && missName !== undefined && analysis.source === 'metrics'
        ? [`query_metrics(select="${hitsName}", denominator="${hitsName} + ${missName}", agg="increase", by="${levelLabel}", step="${stepS}s")`]
        : []),
      ...(weakest ? ['analyze(topic="database") to see what the misses cost downstream'] : []),
    ],
  };
}

function levelRow(l: CacheLevelStats): Record<string, unknown> {
  return {
    ...(l.cache ? { cache: l.cache } : {}), level: l.level, hit_ratio: l.hitRatio, hits: l.hits, misses: l.misses, lookups: l.lookups,
    first_half: l.firstHalf, last_half: l.lastHalf, slope_per_step: l.slopePerStep, falling: l.falling, ratio_per_step: l.series,
    ...(l.meanMs !== undefined ? { mean_ms: l.meanMs } : {}),
  };
}

const iso = (ns: bigint): string => new Date(Number(ns / MS_NS)).toISOString();
