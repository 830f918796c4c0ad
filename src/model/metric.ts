/**
 * The normalized metric data model ("our pdata" for metrics): what the OTLP decoders (protobuf and JSON)
 * produce and the series store keeps. Times are nanoseconds since the epoch as BigInt; values are doubles
 * (an as_int above 2^53 loses precision, as it would in Prometheus).
 */
export type MetricType = 'gauge' | 'sum' | 'histogram' | 'exponential_histogram' | 'summary';

export const METRIC_TYPES: readonly MetricType[] = ['gauge', 'sum', 'histogram', 'exponential_histogram', 'summary'];

/** OTLP AggregationTemporality: 1 delta, 2 cumulative; gauges are 0 and summaries are cumulative. */
export type Temporality = 0 | 1 | 2;
export const DELTA = 1;
export const CUMULATIVE = 2;

/** Point attributes and resource attributes, flattened to strings (non-string AnyValues as JSON). */
export type Labels = Record<string, string>;

export interface MetricDescriptor {
  name: string;
  type: MetricType;
  unit: string;
  description: string;
  /** Sums only: a monotonic sum never decreases except on a reset. */
  monotonic: boolean;
  temporality: Temporality;
}

export interface ExpBuckets {
  offset: number;
  counts: number[];
}

/** The value part of a point; which fields are set depends on the metric type. */
export interface PointValue {
  /** gauge, sum */
  value?: number;
  /** histogram, exponential_histogram, summary */
  count?: number;
  sum?: number;
  min?: number;
  max?: number;
  /** histogram: explicit upper bounds (exclusive of +Inf) and bounds.length + 1 counts. */
  bounds?: number[];
  bucketCounts?: number[];
  /** exponential_histogram */
  scale?: number;
  zeroCount?: number;
  zeroThreshold?: number;
  positive?: ExpBuckets;
  negative?: ExpBuckets;
  /** summary: [quantile, value] pairs. */
  quantiles?: [number, number][];
}

export interface Exemplar {
  timeNs: bigint;
  value: number;
  /** 32 / 16 lower-case hex digits, or '' when the exemplar has no span context. */
  traceId: string;
  spanId: string;
  attributes: Labels;
}

export interface MetricPoint extends PointValue {
  startNs: bigint;
  timeNs: bigint;
  /** OTLP DataPointFlags; bit 0 = no recorded value (a staleness marker, never aggregated). */
  flags: number;
  exemplars: Exemplar[];
}

/** One series' points from one export: the unit the store writes. */
export interface MetricSeriesBatch {
  metric: MetricDescriptor;
  resource: Labels;
  scope: string;
  attributes: Labels;
  points: MetricPoint[];
}

export interface DecodedMetrics {
  series: MetricSeriesBatch[];
  pointCount: number;
  /** Data points rejected one by one (OTLP partial_success.rejected_data_points). */
  rejected: number;
  /** A few distinct rejection reasons. */
  reasons: string[];
}

export const NO_RECORDED_VALUE = 1;

/** The label set of a series as queries see it: resource attributes, overridden by point attributes. */
export function seriesLabels(resource: Labels, attributes: Labels): Labels {
  return { ...resource, ...attributes };
}
