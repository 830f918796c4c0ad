/**
 * The slice of OTLP/JSON (ExportMetricsServiceRequest) the scrape receiver writes: lowerCamelCase keys,
 * 64-bit integers as decimal strings, enums as integers, hex trace/span ids, non-finite doubles as the
 * proto3 JSON strings "NaN" / "Infinity" / "-Infinity".
 */
export type JsonDouble = number | 'NaN' | 'Infinity' | '-Infinity';

export interface JsonKeyValue {
  key: string;
  value: { stringValue: string } | { intValue: string };
}

export interface JsonExemplar {
  filteredAttributes?: JsonKeyValue[];
  timeUnixNano: string;
  asDouble: JsonDouble;
  traceId?: string;
  spanId?: string;
}

export interface JsonNumberPoint {
  attributes: JsonKeyValue[];
  startTimeUnixNano?: string;
  timeUnixNano: string;
  asDouble: JsonDouble;
  exemplars?: JsonExemplar[];
}

export interface JsonHistogramPoint {
  attributes: JsonKeyValue[];
  startTimeUnixNano: string;
  timeUnixNano: string;
  count: string;
  sum?: JsonDouble;
  bucketCounts: string[];
  explicitBounds: JsonDouble[];
  exemplars?: JsonExemplar[];
}

export interface JsonSummaryPoint {
  attributes: JsonKeyValue[];
  startTimeUnixNano: string;
  timeUnixNano: string;
  count: string;
  sum: JsonDouble;
  quantileValues: { quantile: number; value: JsonDouble }[];
}

/** AggregationTemporality.CUMULATIVE: everything a scrape yields is cumulative. */
export const CUMULATIVE = 2;

export type JsonMetric = {
  name: string;
  description?: string;
  unit?: string;
  metadata?: JsonKeyValue[];
} & (
  | { gauge: { dataPoints: JsonNumberPoint[] } }
  | { sum: { aggregationTemporality: typeof CUMULATIVE; isMonotonic: boolean; dataPoints: JsonNumberPoint[] } }
  | { histogram: { aggregationTemporality: typeof CUMULATIVE; dataPoints: JsonHistogramPoint[] } }
  | { summary: { dataPoints: JsonSummaryPoint[] } }
);

export interface JsonScopeMetrics {
  scope: { name: string; version?: string; attributes?: JsonKeyValue[] };
  metrics: JsonMetric[];
}

export interface JsonMetricsRequest {
  resourceMetrics: { resource: { attributes: JsonKeyValue[] }; scopeMetrics: JsonScopeMetrics[] }[];
}

export function jsonDouble(value: number): JsonDouble {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return 'Infinity';
  if (value === -Infinity) return '-Infinity';
  return value;
}

export function stringAttr(key: string, value: string): JsonKeyValue {
  return { key, value: { stringValue: value } };
}
