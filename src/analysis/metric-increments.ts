/**
 * Per-series preparation for the metrics queries: raw samples (for gauge-like aggregations) and
 * per-interval increments (for rate/increase/sum/quantile), with cumulative series converted to deltas.
 *
 * Cumulative → delta (OTel data model "Sums", "Resets and gaps"): each point's increment is its value
 * minus the previous point's. A reset starts a new run and the point's whole value is its increment:
 * the start time changed (a restarted sender), or a monotonic value / any histogram bucket / the count
 * went down (a reset without start time, e.g. Prometheus without _created). The first point of a series
 * counts in full only if its start time is at or after the query start (the series began inside the
 * window); otherwise it is only the baseline for the next one. Points flagged "no recorded value" are
 * skipped. So increments of a monotonic counter are never negative, and a restart never doubles them.
 */
import { NO_RECORDED_VALUE } from '../model/metric.js';
import { histogramOf, subtractHistogram, type Histogram } from './metric-histograms.js';
import type { StoredMetricPoint, StoredSeries } from './metric-source.js';

/** How a series aggregates: a level (gauge, up-down counter), a counter, a distribution or a summary. */
export type SeriesKind = 'level' | 'counter' | 'distribution' | 'summary';

export interface Sample {
  t: bigint;
  v: number;
}

export interface Increment {
  t: bigint;
  /** gauge/sum: change of the value */
  value?: number;
  /** distributions and summaries: observations and their sum in the interval */
  count?: number;
  sum?: number;
  hist?: Histogram;
}

export interface PreparedSeries {
  series: StoredSeries;
  kind: SeriesKind;
  samples: Sample[];
  increments: Increment[];
  /** summaries: the points themselves (quantiles are not mergeable). */
  summaries: StoredMetricPoint[];
}

export function seriesKind(s: StoredSeries): SeriesKind {
  switch (s.type) {
    case 'gauge':
      return 'level';
    case 'sum':
      return s.monotonic || s.temporality === 1 ? 'counter' : 'level';
    case 'histogram':
    case 'exponential_histogram':
      return 'distribution';
    case 'summary':
      return 'summary';
  }
}

export function prepareSeries(series: StoredSeries, windowStartNs: bigint): PreparedSeries {
  const kind = seriesKind(series);
  const out: PreparedSeries = { series, kind, samples: [], increments: [], summaries: [] };
  const cumulative = series.temporality === 2;
  let prev: StoredMetricPoint | undefined;
  let prevHist: Histogram | null = null;
  const points = isSorted(series.points) ? series.points : [...series.points].sort((a, b) => (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1 : 0));
  for (const p of points) {
    if ((p.flags & NO_RECORDED_VALUE) !== 0) continue;
    const t = p.timeNs;
    if (series.type === 'gauge' || series.type === 'sum') {
      const v = p.value;
      if (v === undefined) continue;
      out.samples.push({ t, v });
      if (series.type === 'gauge') {
        if (prev?.value !== undefined) out.increments.push({ t, value: v - prev.value });
      } else if (!cumulative) {
        out.increments.push({ t, value: v });
      } else if (prev?.value === undefined) {
        if (startsInWindow(p, windowStartNs)) out.increments.push({ t, value: v });
      } else if (restarted(p, prev) || (series.monotonic && v < prev.value)) {
        out.increments.push({ t, value: v });
      } else {
        out.increments.push({ t, value: v - prev.value });
      }
      prev = p;
      continue;
    }
    if (series.type === 'summary') {
      out.summaries.push(p);
      const count = p.count ?? 0;
      const sum = p.sum ?? 0;
      if (prev === undefined) {
        if (startsInWindow(p, windowStartNs)) out.increments.push({ t, count, sum });
      } else if (restarted(p, prev) || count < (prev.count ?? 0)) {
        out.increments.push({ t, count, sum });
      } else {
        out.increments.push({ t, count: count - (prev.count ?? 0), sum: sum - (prev.sum ?? 0) });
      }
      prev = p;
      continue;
    }
    const h = histogramOf(p);
    if (!h) continue;
    if (!cumulative) {
      out.increments.push(histIncrement(t, h));
    } else if (prev === undefined || prevHist === null) {
      if (startsInWindow(p, windowStartNs)) out.increments.push(histIncrement(t, h));
    } else {
      const d = restarted(p, prev) ? null : subtractHistogram(h, prevHist);
      out.increments.push(histIncrement(t, d ?? h));
    }
    prev = p;
    prevHist = h;
  }
  return out;
}

function isSorted(points: StoredMetricPoint[]): boolean {
  for (let i = 1; i < points.length; i++) if ((points[i] as StoredMetricPoint).timeNs < (points[i - 1] as StoredMetricPoint).timeNs) return false;
  return true;
}

function histIncrement(t: bigint, h: Histogram): Increment {
  return { t, count: h.count, ...(h.sum !== undefined ? { sum: h.sum } : {}), hist: h };
}

function startsInWindow(p: StoredMetricPoint, windowStartNs: bigint): boolean {
  return p.startNs !== 0n && p.startNs >= windowStartNs;
}

function restarted(p: StoredMetricPoint, prev: StoredMetricPoint): boolean {
  return p.startNs !== 0n && prev.startNs !== 0n && p.startNs !== prev.startNs;
}
