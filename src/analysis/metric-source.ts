/**
 * What the metrics queries need from a store (the store implements it; MCP tools and the read API call
 * the analysis functions with it). Promises so that a remote backend can implement the same port.
 */
import type { Labels, MetricDescriptor, MetricType, PointValue, Temporality } from '../model/metric.js';

export type MatchOp = '=' | '!=' | '=~' | '!~';

/** Prometheus semantics: a missing label has the value ''; regexes are fully anchored. */
export interface LabelMatcher {
  label: string;
  op: MatchOp;
  value: string;
}

export interface MetricSelection {
  metric: string;
  matchers: LabelMatcher[];
}

export interface StoredMetricPoint extends PointValue {
  timeNs: bigint;
  /** 0 for gauges. */
  startNs: bigint;
  flags: number;
}

export interface StoredSeries {
  id: number;
  metric: string;
  type: MetricType;
  unit: string;
  temporality: Temporality;
  monotonic: boolean;
  overflow: boolean;
  labels: Labels;
  /** Sorted by time; may include points before the requested start (the lookback baseline). */
  points: StoredMetricPoint[];
}

export interface SeriesFetch {
  selection: MetricSelection;
  /** Points with startNs ≤ time ≤ endNs (callers widen startNs for a baseline). */
  startNs: bigint;
  endNs: bigint;
  /** At most this many series (the lowest ids); `truncated` says if more matched. */
  maxSeries: number;
}

export interface SeriesFetchResult {
  series: StoredSeries[];
  truncated: boolean;
  /** False when no metric of that name is stored (so callers can suggest names). */
  metricKnown: boolean;
}

export interface LabelSummary {
  key: string;
  /** Distinct values, sorted, at most the requested number. */
  values: string[];
  valuesTruncated: boolean;
}

export interface MetricSummary extends MetricDescriptor {
  seriesCount: number;
  labels: LabelSummary[];
}

export interface MetricListQuery {
  /** Only metrics whose name contains this (case-insensitive). */
  nameContains?: string;
  /** Distinct values listed per label key. */
  maxLabelValues: number;
  /** At most this many metrics. */
  limit: number;
}

export interface StoredExemplar {
  seriesId: number;
  timeNs: bigint;
  value: number;
  traceId: string;
  spanId: string;
  attributes: Labels;
}

export interface MetricSource {
  listMetrics(query: MetricListQuery): Promise<{ metrics: MetricSummary[]; truncated: boolean }>;
  fetchSeries(query: SeriesFetch): Promise<SeriesFetchResult>;
  /** Exemplars of the given series within [startNs, endNs], at most `limit`. */
  fetchExemplars(seriesIds: number[], startNs: bigint, endNs: bigint, limit: number): Promise<StoredExemplar[]>;
}
