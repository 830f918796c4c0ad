/**
 * One aggregation over one group of prepared series and one interval (semantics: metrics-query.ts).
 * Samples and increments are time-sorted, so each interval is found by binary search.
 */
import { mergeHistograms, histogramQuantile, sampleQuantile, summaryQuantile, type Histogram } from './metric-histograms.js';
import type { Increment, PreparedSeries, Sample } from './metric-increments.js';

export const METRIC_AGGREGATIONS = ['sum', 'avg', 'min', 'max', 'count', 'last', 'rate', 'increase', 'quantile'] as const;
export type MetricAggregation = (typeof METRIC_AGGREGATIONS)[number];

/** An interval (lo, hi] in nanoseconds. */
export interface Bin {
  lo: bigint;
  hi: bigint;
}

export interface AggregationSpec {
  aggregation: MetricAggregation;
  quantile?: number;
}

const inBin = (t: bigint, b: Bin): boolean => t > b.lo && t <= b.hi;

/** The items of a time-sorted array with lo < t ≤ hi, by binary search (steps × points stays cheap). */
function sliceBin<T extends { t: bigint }>(items: T[], b: Bin): T[] {
  const first = lowerBound(items, b.lo);
  const end = lowerBound(items, b.hi);
  return items.slice(first, end);
}

/** Index of the first item with t > bound. */
function lowerBound(items: { t: bigint }[], bound: bigint): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((items[mid] as { t: bigint }).t <= bound) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** One aggregation over one group and interval; null when the group has no data there. */
export function aggregate(query: AggregationSpec, members: PreparedSeries[], bin: Bin, warnings: string[]): number | null {
  const seconds = Number(bin.hi - bin.lo) / 1e9;
  const samplesOf = (m: PreparedSeries): Sample[] => sliceBin(m.samples, bin);
  const incsOf = (m: PreparedSeries): Increment[] => sliceBin(m.increments, bin);
  const numeric = (m: PreparedSeries): boolean => m.kind === 'level' || m.kind === 'counter';
  switch (query.aggregation) {
    case 'increase':
    case 'rate': {
      let total: number | null = null;
      for (const m of members) {
        for (const inc of incsOf(m)) total = (total ?? 0) + (numeric(m) ? (inc.value ?? 0) : (inc.count ?? 0));
      }
      if (total === null) return null;
      return query.aggregation === 'rate' ? (seconds > 0 ? total / seconds : null) : total;
    }
    case 'sum': {
      let total: number | null = null;
      for (const m of members) {
        if (m.kind === 'level') {
          const s = samplesOf(m);
          const last = s[s.length - 1];
          if (last) total = (total ?? 0) + last.v;
        } else {
          for (const inc of incsOf(m)) {
            const v = m.kind === 'counter' ? inc.value : inc.sum;
            if (v !== undefined) total = (total ?? 0) + v;
          }
        }
      }
      return total;
    }
    case 'count': {
      let total: number | null = null;
      for (const m of members) {
        if (numeric(m)) {
          const n = samplesOf(m).length;
          if (n > 0) total = (total ?? 0) + n;
        } else for (const inc of incsOf(m)) total = (total ?? 0) + (inc.count ?? 0);
      }
      return total;
    }
    case 'avg': {
      let sum = 0;
      let n = 0;
      for (const m of members) {
        if (numeric(m)) {
          for (const s of samplesOf(m)) {
            sum += s.v;
            n++;
          }
        } else {
          for (const inc of incsOf(m)) {
            sum += inc.sum ?? 0;
            n += inc.count ?? 0;
          }
        }
      }
      return n > 0 ? sum / n : null;
    }
    case 'min':
    case 'max': {
      const isMin = query.aggregation === 'min';
      let best: number | null = null;
      const take = (v: number | undefined): void => {
        if (v === undefined) return;
        if (best === null || (isMin ? v < best : v > best)) best = v;
      };
      for (const m of members) {
        if (numeric(m)) for (const s of samplesOf(m)) take(s.v);
        else for (const inc of incsOf(m)) if ((inc.count ?? 0) > 0) take(isMin ? inc.hist?.min : inc.hist?.max);
      }
      return best;
    }
    case 'last': {
      let best: Sample | undefined;
      for (const m of members) {
        if (!numeric(m)) {
          warnings.push('last applies to gauges and sums; use avg, count or a quantile for histograms');
          continue;
        }
        for (const s of samplesOf(m)) if (!best || s.t > best.t) best = s;
      }
      return best?.v ?? null;
    }
    case 'quantile':
      return quantileOf(query.quantile as number, members, bin, warnings, samplesOf, incsOf);
  }
}

function quantileOf(
  q: number,
  members: PreparedSeries[],
  bin: Bin,
  warnings: string[],
  samplesOf: (m: PreparedSeries) => Sample[],
  incsOf: (m: PreparedSeries) => Increment[],
): number | null {
  let merged: Histogram | null = null;
  let mergeFailed = false;
  const gaugeValues: number[] = [];
  let summaryWeighted = 0;
  let summaryWeight = 0;
  let summaryCount = 0;
  for (const m of members) {
    if (m.kind === 'distribution') {
      for (const inc of incsOf(m)) {
        if (!inc.hist || inc.hist.count === 0) continue;
        if (merged === null) merged = inc.hist;
        else {
          const next: Histogram | null = mergeHistograms(merged, inc.hist);
          if (next === null) mergeFailed = true;
          else merged = next;
        }
      }
    } else if (m.kind === 'summary') {
      const inWindow = m.summaries.filter((p) => inBin(p.timeNs, bin));
      const last = inWindow[inWindow.length - 1];
      const v = last?.quantiles ? summaryQuantile(last.quantiles, q) : null;
      if (last && v !== null) {
        const w = Math.max(1, last.count ?? 0);
        summaryWeighted += v * w;
        summaryWeight += w;
        summaryCount++;
      }
    } else {
      for (const s of samplesOf(m)) gaugeValues.push(s.v);
    }
  }
  if (mergeFailed) warnings.push('histograms with different bucket bounds in one group: only the mergeable ones were used');
  if (merged !== null) return histogramQuantile(merged, q);
  if (summaryWeight > 0) {
    if (summaryCount > 1) warnings.push('summary quantiles are not mergeable: the count-weighted mean of each series\' quantile is returned');
    return summaryWeighted / summaryWeight;
  }
  return sampleQuantile(gaugeValues, q);
}

