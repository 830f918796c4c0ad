/**
 * The metrics query library: select series by name and label matchers, aggregate them over a window or
 * per step, group by labels, and divide two selections. Pure evaluation (`evaluateMetricQuery`) over
 * series already fetched, plus `queryMetrics`, which fetches through a MetricSource and evaluates; the
 * read API and MCP tools (`query_metrics`, `list_metrics`) call these directly.
 *
 * Semantics, per group of series and per interval (the window, or each step (t − step, t]; a point
 * belongs to the interval that contains its time, start exclusive, end inclusive):
 * - increase: total added — the sum of per-interval increments (see metric-increments.ts for cumulative
 *   → delta and resets). Histograms and summaries: observations (count). Gauges: last − first.
 * - rate: increase per second of the interval.
 * - sum: counters = increase; gauges and up-down counters = sum over series of each series' last value;
 *   histograms and summaries = the sum of observed values added.
 * - count: observations (histograms, summaries); number of data points (gauges, sums).
 * - avg / min / max: histograms = sum/count and the recorded min/max; numbers = over all data points.
 * - last: the most recent data point of the group (numbers only).
 * - quantile (q in [0,1]): histograms merged across series and intervals, interpolated as documented in
 *   metric-histograms.ts; summaries: each series' latest listed quantile, count-weighted mean across
 *   series; gauges: sample quantile of the data points.
 * - ratio: numerator and denominator are each the sum of their selections, evaluated with the same
 *   aggregation and grouping; value = numerator / denominator (null when the denominator is 0 or absent).
 */
import type { Labels } from '../model/metric.js';
import { canonicalLabelKey } from './label-key.js';
import { aggregate, type Bin, type MetricAggregation } from './metric-aggregate.js';
import { prepareSeries, type PreparedSeries } from './metric-increments.js';
import type { MetricListQuery, MetricSelection, MetricSource, MetricSummary, StoredExemplar, StoredSeries } from './metric-source.js';

export { METRIC_AGGREGATIONS, type MetricAggregation } from './metric-aggregate.js';

/** groupBy value that keeps every series apart (grouped by all its labels). */
export const GROUP_BY_SERIES = '*';

export interface MetricQuery {
  /** Summed together (e.g. one metric, or hits + misses). */
  select: MetricSelection[];
  /** When present, the result is select / denominator per group. */
  denominator?: MetricSelection[];
  aggregation: MetricAggregation;
  /** Required for 'quantile'. */
  quantile?: number;
  /** Labels to group by; absent or empty = one group; ['*'] = one group per series. */
  groupBy?: string[];
  startNs: bigint;
  endNs: bigint;
  /** When set, also a time series with one value per step. */
  stepNs?: bigint;
  /** Per selection, series fetched; and groups returned. */
  maxSeries: number;
  /** Steps returned (the latest ones are kept). */
  maxPoints: number;
  /** How far before startNs to look for a cumulative baseline point. Default 15 minutes. */
  lookbackNs?: bigint;
  /** Exemplars (trace links) returned per group, 0 = none. */
  exemplars?: number;
}

export interface MetricQueryPoint {
  timeNs: bigint;
  value: number | null;
}

export interface MetricQueryExemplar {
  timeNs: bigint;
  value: number;
  traceId: string;
  spanId: string;
  attributes: Labels;
}

export interface MetricQueryGroup {
  labels: Labels;
  /** Over the whole window. */
  value: number | null;
  /** Per step, when stepNs was given. */
  points?: MetricQueryPoint[];
  seriesCount: number;
  exemplars?: MetricQueryExemplar[];
}

export interface MetricQueryResult {
  aggregation: MetricAggregation;
  quantile?: number;
  unit: string;
  startNs: bigint;
  endNs: bigint;
  stepNs?: bigint;
  groups: MetricQueryGroup[];
  seriesCount: number;
  /** Series, groups or steps were cut to the limits. */
  truncated: boolean;
  /** Metrics named in the query that are not stored. */
  unknownMetrics: string[];
  warnings: string[];
}

export class MetricQueryError extends Error {}

const DEFAULT_LOOKBACK_NS = 15n * 60_000_000_000n;

/** Fetches what the query needs through `source`, then evaluates it. */
export async function queryMetrics(source: MetricSource, query: MetricQuery): Promise<MetricQueryResult> {
  validateQuery(query);
  const fetchStart = query.startNs - (query.lookbackNs ?? DEFAULT_LOOKBACK_NS);
  const fetchSide = async (selections: MetricSelection[]) => {
    const out: { series: StoredSeries[]; truncated: boolean; unknown: string[] } = { series: [], truncated: false, unknown: [] };
    for (const selection of selections) {
      const r = await source.fetchSeries({ selection, startNs: fetchStart, endNs: query.endNs, maxSeries: query.maxSeries });
      out.series.push(...r.series);
      out.truncated ||= r.truncated;
      if (!r.metricKnown) out.unknown.push(selection.metric);
    }
    return out;
  };
  const num = await fetchSide(query.select);
  const den = query.denominator ? await fetchSide(query.denominator) : undefined;
  const result = evaluateMetricQuery(query, num.series, den?.series);
  result.truncated ||= num.truncated || (den?.truncated ?? false);
  result.unknownMetrics = [...new Set([...num.unknown, ...(den?.unknown ?? [])])];
  if (query.exemplars && query.exemplars > 0) await attachExemplars(source, query, num.series, result);
  return result;
}

export function listMetrics(source: MetricSource, query: MetricListQuery): Promise<{ metrics: MetricSummary[]; truncated: boolean }> {
  return source.listMetrics(query);
}

export function validateQuery(query: MetricQuery): void {
  if (query.select.length === 0) throw new MetricQueryError('select at least one metric');
  if (query.endNs < query.startNs) throw new MetricQueryError('start must not be after end');
  if (query.aggregation === 'quantile') {
    const q = query.quantile;
    if (q === undefined || !(q >= 0 && q <= 1)) throw new MetricQueryError('quantile needs q between 0 and 1, e.g. q=0.99');
  }
  if (query.stepNs !== undefined && query.stepNs <= 0n) throw new MetricQueryError('step must be positive');
}

/** Pure evaluation over fetched series (points may start before query.startNs: the lookback baseline). */
export function evaluateMetricQuery(query: MetricQuery, numerator: StoredSeries[], denominator?: StoredSeries[]): MetricQueryResult {
  validateQuery(query);
  const warnings: string[] = [];
  let truncated = false;
  let bins: Bin[] | undefined;
  if (query.stepNs !== undefined) {
    const all: Bin[] = [];
    const step = query.stepNs;
    const count = Number((query.endNs - query.startNs + step - 1n) / step);
    const first = Math.max(0, count - query.maxPoints);
    if (first > 0) truncated = true;
    for (let k = first; k < count; k++) {
      const lo = query.startNs + BigInt(k) * step;
      const hi = lo + step < query.endNs ? lo + step : query.endNs;
      all.push({ lo, hi });
    }
    bins = all;
  }
  const window: Bin = { lo: query.startNs, hi: query.endNs };
  const evalSide = (series: StoredSeries[]) => {
    const prepared = series.map((s) => prepareSeries(s, query.startNs));
    const groups = new Map<string, { labels: Labels; members: PreparedSeries[] }>();
    for (const p of prepared) {
      const labels = groupLabels(p.series.labels, query.groupBy);
      const key = canonicalLabelKey(labels);
      let g = groups.get(key);
      if (!g) {
        g = { labels, members: [] };
        groups.set(key, g);
      }
      g.members.push(p);
    }
    const out = new Map<string, MetricQueryGroup>();
    for (const [key, g] of groups) {
      const value = aggregate(query, g.members, window, warnings);
      const points = bins?.map((b) => ({ timeNs: b.hi, value: aggregate(query, g.members, b, warnings) }));
      out.set(key, {
        labels: g.labels,
        value,
        ...(points ? { points } : {}),
        seriesCount: g.members.length,
      });
    }
    return out;
  };
  const num = evalSide(numerator);
  let groups: MetricQueryGroup[];
  if (denominator) {
    const den = evalSide(denominator);
    const keys = [...new Set([...num.keys(), ...den.keys()])];
    groups = keys.map((key) => {
      const n = num.get(key);
      const d = den.get(key);
      const labels = (n ?? d)?.labels ?? {};
      const points = bins?.map((b, i) => ({ timeNs: b.hi, value: divide(n?.points?.[i]?.value, d?.points?.[i]?.value) }));
      return {
        labels,
        value: divide(n?.value, d?.value),
        ...(points ? { points } : {}),
        seriesCount: (n?.seriesCount ?? 0) + (d?.seriesCount ?? 0),
      };
    });
  } else {
    groups = [...num.values()];
  }
  groups.sort((a, b) => canonicalLabelKey(a.labels).localeCompare(canonicalLabelKey(b.labels)));
  if (groups.length > query.maxSeries) {
    groups = groups.slice(0, query.maxSeries);
    truncated = true;
  }
  const unit = numerator[0]?.unit ?? '';
  return {
    aggregation: query.aggregation,
    ...(query.aggregation === 'quantile' && query.quantile !== undefined ? { quantile: query.quantile } : {}),
    unit: denominator ? (unit === (denominator[0]?.unit ?? '') ? '1' : `${unit}/${denominator[0]?.unit ?? ''}`) : unit,
    startNs: query.startNs,
    endNs: query.endNs,
    ...(query.stepNs !== undefined ? { stepNs: query.stepNs } : {}),
    groups,
    seriesCount: numerator.length + (denominator?.length ?? 0),
    truncated,
    unknownMetrics: [],
    warnings: [...new Set(warnings)],
  };
}

function divide(n: number | null | undefined, d: number | null | undefined): number | null {
  if (n === null || n === undefined || d === null || d === undefined || d === 0) return null;
  return n / d;
}

function groupLabels(labels: Labels, groupBy: string[] | undefined): Labels {
  if (!groupBy || groupBy.length === 0) return {};
  if (groupBy.includes(GROUP_BY_SERIES)) return labels;
  const out: Labels = {};
  for (const key of groupBy) out[key] = labels[key] ?? '';
  return out;
}

async function attachExemplars(source: MetricSource, query: MetricQuery, series: StoredSeries[], result: MetricQueryResult): Promise<void> {
  const limit = query.exemplars ?? 0;
  const byGroup = new Map<string, MetricQueryGroup>(result.groups.map((g) => [canonicalLabelKey(g.labels), g]));
  const idsByGroup = new Map<string, number[]>();
  for (const s of series) {
    const key = canonicalLabelKey(groupLabels(s.labels, query.groupBy));
    if (!byGroup.has(key)) continue;
    idsByGroup.set(key, [...(idsByGroup.get(key) ?? []), s.id]);
  }
  for (const [key, ids] of idsByGroup) {
    const found: StoredExemplar[] = await source.fetchExemplars(ids, query.startNs, query.endNs, limit);
    const group = byGroup.get(key) as MetricQueryGroup;
    group.exemplars = found.map((e) => ({ timeNs: e.timeNs, value: e.value, traceId: e.traceId, spanId: e.spanId, attributes: e.attributes }));
  }
}
