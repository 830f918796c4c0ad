import type {
  DecodedMetrics,
  Exemplar,
  ExpBuckets,
  Labels,
  MetricDescriptor,
  MetricPoint,
  MetricSeriesBatch,
  MetricType,
  Temporality,
} from '../model/metric.js';
import { NO_RECORDED_VALUE } from '../model/metric.js';
import {
  EnvelopeError,
  PointRejection,
  asString,
  count,
  double,
  get,
  i64,
  idHex,
  isObject,
  list,
  optArray,
  own,
  sint32,
  sumOf,
  temporalityOf,
  u64,
  uint32,
  type Loose,
} from './metrics-scalars.js';

/**
 * OTLP metrics → the normalized model, validating every data point. It reads one loose object shape that
 * both decoders produce: protobufjs messages (camelCase keys, Long for 64-bit integers, Uint8Array for
 * bytes, oneof/optional members as own properties) and parsed OTLP/JSON (camelCase or snake_case keys,
 * 64-bit integers as decimal strings or numbers, hex trace/span ids, "NaN"/"Infinity" strings, enum names
 * or numbers). A bad point is rejected on its own and counted (partial success); problems that cannot be
 * confined to one point (the envelope is not an object) throw EnvelopeError.
 */
export { EnvelopeError };

const MAX_REASONS = 5;
const MAX_LABEL_VALUE = 1024;
/** Exponential-histogram scales the OTel data model allows. */
const MIN_SCALE = -10;
const MAX_SCALE = 20;

const TYPE_FIELDS: [string, string, MetricType][] = [
  ['gauge', 'gauge', 'gauge'],
  ['sum', 'sum', 'sum'],
  ['histogram', 'histogram', 'histogram'],
  ['exponentialHistogram', 'exponential_histogram', 'exponential_histogram'],
  ['summary', 'summary', 'summary'],
];

interface State {
  out: DecodedMetrics;
  /** Applied to every label set (resource, point, exemplar) before series are keyed: redaction. */
  redact: ((labels: Labels) => void) | undefined;
}

/** `request` is an ExportMetricsServiceRequest in either loose shape. */
export function normalizeMetricsRequest(request: unknown, redact?: (labels: Labels) => void): DecodedMetrics {
  const out: DecodedMetrics = { series: [], pointCount: 0, rejected: 0, reasons: [] };
  const state: State = { out, redact };
  if (!isObject(request)) throw new EnvelopeError('request must be an object');
  list(request, 'resourceMetrics', 'resource_metrics', 'resourceMetrics').forEach((rm, i) => {
    const where = `resourceMetrics[${i}]`;
    if (!isObject(rm)) throw new EnvelopeError(`${where} must be an object`);
    const resourceObj = get(rm, 'resource', 'resource');
    if (resourceObj !== undefined && !isObject(resourceObj)) throw new EnvelopeError(`${where}.resource must be an object`);
    const resource = resourceLabels(resourceObj === undefined ? [] : get(resourceObj, 'attributes', 'attributes'), `${where}.resource`, state);
    list(rm, 'scopeMetrics', 'scope_metrics', `${where}.scopeMetrics`).forEach((sm, j) => {
      const at = `${where}.scopeMetrics[${j}]`;
      if (!isObject(sm)) throw new EnvelopeError(`${at} must be an object`);
      const scopeObj = get(sm, 'scope', 'scope');
      const scopeName = isObject(scopeObj) ? asString(get(scopeObj, 'name', 'name')) : '';
      list(sm, 'metrics', 'metrics', `${at}.metrics`).forEach((m, k) => {
        if (!isObject(m)) throw new EnvelopeError(`${at}.metrics[${k}] must be an object`);
        normalizeMetric(m, resource, scopeName, state);
      });
    });
  });
  return out;
}

function normalizeMetric(m: Loose, resource: Labels, scope: string, state: State): void {
  const name = asString(get(m, 'name', 'name'));
  let type: MetricType | undefined;
  let data: Loose | undefined;
  for (const [camel, snake, t] of TYPE_FIELDS) {
    const v = own(m, camel) ?? own(m, snake);
    if (v !== undefined) {
      if (!isObject(v)) throw new EnvelopeError(`metric ${name}: ${camel} must be an object`);
      type = t;
      data = v;
      break;
    }
  }
  if (type === undefined || data === undefined) return; // no data: nothing to store, nothing to reject
  const points = list(data, 'dataPoints', 'data_points', `metric ${name}.dataPoints`);
  if (points.length === 0) return;
  const reject = (reason: string, n = 1): void => {
    state.out.rejected += n;
    if (state.out.reasons.length < MAX_REASONS && !state.out.reasons.includes(reason)) state.out.reasons.push(reason);
  };
  if (name === '') return reject('metric name is empty', points.length);

  let temporality: Temporality = 0;
  let monotonic = false;
  try {
    if (type === 'sum' || type === 'histogram' || type === 'exponential_histogram') {
      temporality = temporalityOf(get(data, 'aggregationTemporality', 'aggregation_temporality'));
    } else if (type === 'summary') {
      temporality = 2;
    }
    if (type === 'sum') monotonic = get(data, 'isMonotonic', 'is_monotonic') === true;
  } catch (err) {
    if (err instanceof PointRejection) return reject(`metric ${name}: ${err.message}`, points.length);
    throw err;
  }
  const metric: MetricDescriptor = {
    name,
    type,
    unit: asString(get(m, 'unit', 'unit')),
    description: asString(get(m, 'description', 'description')),
    monotonic,
    temporality,
  };
  const bySeries = new Map<string, MetricSeriesBatch>();
  for (const p of points) {
    try {
      if (!isObject(p)) throw new PointRejection('data point is not an object');
      const attributes = labelsOf(get(p, 'attributes', 'attributes'), 'data point', state);
      const point = normalizePoint(p, metric, state);
      const key = canonicalLabels(attributes);
      let batch = bySeries.get(key);
      if (!batch) {
        batch = { metric, resource, scope, attributes, points: [] };
        bySeries.set(key, batch);
        state.out.series.push(batch);
      }
      batch.points.push(point);
      state.out.pointCount++;
    } catch (err) {
      if (!(err instanceof PointRejection) && !(err instanceof EnvelopeError)) throw err;
      reject(`${name}: ${err.message}`);
    }
  }
}

function normalizePoint(p: Loose, metric: MetricDescriptor, state: State): MetricPoint {
  const timeNs = u64(get(p, 'timeUnixNano', 'time_unix_nano'), 'timeUnixNano');
  if (timeNs === 0n) throw new PointRejection('time_unix_nano is missing');
  const startNs = u64(get(p, 'startTimeUnixNano', 'start_time_unix_nano'), 'startTimeUnixNano');
  if (metric.temporality !== 0 && startNs > timeNs) throw new PointRejection('start_time_unix_nano is after time_unix_nano');
  const flags = uint32(get(p, 'flags', 'flags'));
  const point: MetricPoint = { startNs, timeNs, flags, exemplars: exemplarsOf(get(p, 'exemplars', 'exemplars'), state) };
  const noValue = (flags & NO_RECORDED_VALUE) !== 0;
  switch (metric.type) {
    case 'gauge':
    case 'sum': {
      // A staleness marker's value (Prometheus sends NaN) carries no meaning and is not stored.
      if (noValue) return point;
      const value = numberValue(p);
      if (value === undefined) throw new PointRejection('data point has no value');
      if (!Number.isFinite(value)) throw new PointRejection(`value ${value} is not finite`);
      if (metric.monotonic && value < 0) throw new PointRejection('monotonic sum has a negative value');
      point.value = value;
      return point;
    }
    case 'histogram':
      if (noValue) return point;
      histogramValue(p, point);
      return point;
    case 'exponential_histogram':
      if (noValue) return point;
      expHistogramValue(p, point);
      return point;
    case 'summary':
      if (noValue) return point;
      summaryValue(p, point);
      return point;
  }
}

function numberValue(p: Loose): number | undefined {
  const d = own(p, 'asDouble') ?? own(p, 'as_double');
  if (d !== undefined) return double(d, 'asDouble');
  const i = own(p, 'asInt') ?? own(p, 'as_int');
  if (i !== undefined) return Number(i64(i, 'asInt'));
  return undefined;
}

function commonDistribution(p: Loose, point: MetricPoint): void {
  point.count = count(get(p, 'count', 'count'), 'count');
  const sum = own(p, 'sum');
  if (sum !== undefined) {
    point.sum = double(sum, 'sum');
    if (!Number.isFinite(point.sum)) throw new PointRejection('sum is not finite');
  }
  for (const key of ['min', 'max'] as const) {
    const v = own(p, key);
    if (v === undefined) continue;
    const n = double(v, key);
    if (!Number.isFinite(n)) throw new PointRejection(`${key} is not finite`);
    point[key] = n;
  }
  if (point.min !== undefined && point.max !== undefined && point.min > point.max) throw new PointRejection('min is greater than max');
}

function histogramValue(p: Loose, point: MetricPoint): void {
  commonDistribution(p, point);
  const bounds = optArray(get(p, 'explicitBounds', 'explicit_bounds'), 'explicitBounds').map((b) => double(b, 'explicitBounds'));
  const counts = optArray(get(p, 'bucketCounts', 'bucket_counts'), 'bucketCounts').map((c) => count(c, 'bucketCounts'));
  for (let i = 0; i < bounds.length; i++) {
    const b = bounds[i] as number;
    if (!Number.isFinite(b)) throw new PointRejection('explicit bound is not finite');
    if (i > 0 && b <= (bounds[i - 1] as number)) throw new PointRejection('explicit bounds are not strictly increasing');
  }
  if (counts.length > 0) {
    if (counts.length !== bounds.length + 1) {
      throw new PointRejection(`${counts.length} bucket counts do not match ${bounds.length} explicit bounds (need ${bounds.length + 1})`);
    }
    const total = counts.reduce((a, b) => a + b, 0);
    if (total !== point.count) throw new PointRejection(`bucket counts add up to ${total}, not count ${point.count}`);
  }
  point.bounds = bounds;
  point.bucketCounts = counts;
}

function expHistogramValue(p: Loose, point: MetricPoint): void {
  commonDistribution(p, point);
  const scale = sint32(get(p, 'scale', 'scale'), 'scale');
  if (scale < MIN_SCALE || scale > MAX_SCALE) throw new PointRejection(`scale ${scale} is outside [${MIN_SCALE}, ${MAX_SCALE}]`);
  point.scale = scale;
  point.zeroCount = count(get(p, 'zeroCount', 'zero_count'), 'zeroCount');
  const zt = get(p, 'zeroThreshold', 'zero_threshold');
  point.zeroThreshold = zt === undefined ? 0 : double(zt, 'zeroThreshold');
  if (!Number.isFinite(point.zeroThreshold) || point.zeroThreshold < 0) throw new PointRejection('zero_threshold must be finite and ≥ 0');
  point.positive = bucketsOf(get(p, 'positive', 'positive'));
  point.negative = bucketsOf(get(p, 'negative', 'negative'));
  const total = point.zeroCount + sumOf(point.positive.counts) + sumOf(point.negative.counts);
  if (total !== point.count) throw new PointRejection(`zero and bucket counts add up to ${total}, not count ${point.count}`);
}

function bucketsOf(v: unknown): ExpBuckets {
  if (v === undefined || v === null) return { offset: 0, counts: [] };
  if (!isObject(v)) throw new PointRejection('buckets is not an object');
  return {
    offset: sint32(get(v, 'offset', 'offset'), 'offset'),
    counts: optArray(get(v, 'bucketCounts', 'bucket_counts'), 'bucketCounts').map((c) => count(c, 'bucketCounts')),
  };
}

function summaryValue(p: Loose, point: MetricPoint): void {
  point.count = count(get(p, 'count', 'count'), 'count');
  const sum = get(p, 'sum', 'sum');
  point.sum = sum === undefined ? 0 : double(sum, 'sum');
  if (!Number.isFinite(point.sum)) throw new PointRejection('sum is not finite');
  point.quantiles = optArray(get(p, 'quantileValues', 'quantile_values'), 'quantileValues').map((qv) => {
    if (!isObject(qv)) throw new PointRejection('quantile value is not an object');
    const qr = get(qv, 'quantile', 'quantile');
    const vr = get(qv, 'value', 'value');
    const q = qr === undefined ? 0 : double(qr, 'quantile');
    const v = vr === undefined ? 0 : double(vr, 'value');
    if (!(q >= 0 && q <= 1)) throw new PointRejection(`quantile ${q} is outside [0, 1]`);
    if (!Number.isFinite(v)) throw new PointRejection('quantile value is not finite');
    return [q, v] as [number, number];
  });
  point.quantiles.sort((a, b) => a[0] - b[0]);
}

/** Exemplars with an invalid value or span context are dropped silently: they decorate a point, they are not data. */
function exemplarsOf(v: unknown, state: State): Exemplar[] {
  if (!Array.isArray(v) || v.length === 0) return [];
  const out: Exemplar[] = [];
  for (const e of v) {
    try {
      if (!isObject(e)) continue;
      const value = numberValue(e);
      if (value === undefined || !Number.isFinite(value)) continue;
      out.push({
        timeNs: u64(get(e, 'timeUnixNano', 'time_unix_nano'), 'timeUnixNano'),
        value,
        traceId: idHex(get(e, 'traceId', 'trace_id'), 16),
        spanId: idHex(get(e, 'spanId', 'span_id'), 8),
        attributes: labelsOf(get(e, 'filteredAttributes', 'filtered_attributes'), 'exemplar', state),
      });
    } catch (err) {
      if (!(err instanceof PointRejection)) throw err;
    }
  }
  return out;
}

// ---- attributes ----

/** Bad resource attributes spoil every point below them: the request is malformed (400), not a point. */
function resourceLabels(v: unknown, what: string, state: State): Labels {
  try {
    return labelsOf(v, what, state);
  } catch (err) {
    if (err instanceof PointRejection) throw new EnvelopeError(err.message);
    throw err;
  }
}

function labelsOf(v: unknown, what: string, state: State): Labels {
  const out: Labels = {};
  if (v === undefined || v === null) return out;
  if (!Array.isArray(v)) throw new PointRejection(`${what} attributes is not an array`);
  for (const kv of v) {
    if (!isObject(kv)) throw new PointRejection(`${what} attribute is not an object`);
    const key = asString(get(kv, 'key', 'key'));
    if (key === '') continue;
    const text = anyValueText(get(kv, 'value', 'value'), 0);
    out[key] = state.redact !== undefined || text.length <= MAX_LABEL_VALUE ? text : text.slice(0, MAX_LABEL_VALUE);
  }
  if (state.redact === undefined) return out;
  // Redaction sees whole values: a secret cut in half by the length cap would no longer match.
  state.redact(out);
  for (const key in out) {
    const text = out[key] as string;
    if (text.length > MAX_LABEL_VALUE) out[key] = text.slice(0, MAX_LABEL_VALUE);
  }
  return out;
}

/** Strings as they are; other AnyValues as their JSON rendering (Prometheus does the same for non-strings). */
function anyValueText(v: unknown, depth: number): string {
  const value = anyValue(v, depth);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function anyValue(v: unknown, depth: number): unknown {
  if (depth > 16) throw new PointRejection('attribute value nested too deeply');
  if (!isObject(v)) return '';
  const s = own(v, 'stringValue') ?? own(v, 'string_value');
  if (s !== undefined) return asString(s);
  const b = own(v, 'boolValue') ?? own(v, 'bool_value');
  if (b !== undefined) return b === true;
  const i = own(v, 'intValue') ?? own(v, 'int_value');
  if (i !== undefined) return Number(i64(i, 'intValue'));
  const d = own(v, 'doubleValue') ?? own(v, 'double_value');
  if (d !== undefined) return double(d, 'doubleValue');
  const arr = own(v, 'arrayValue') ?? own(v, 'array_value');
  if (arr !== undefined) return optArray(isObject(arr) ? arr['values'] : undefined, 'arrayValue').map((e) => anyValue(e, depth + 1));
  const kvl = own(v, 'kvlistValue') ?? own(v, 'kvlist_value');
  if (kvl !== undefined) {
    const obj: Record<string, unknown> = {};
    for (const kv of optArray(isObject(kvl) ? kvl['values'] : undefined, 'kvlistValue')) {
      if (isObject(kv)) obj[asString(get(kv, 'key', 'key'))] = anyValue(get(kv, 'value', 'value'), depth + 1);
    }
    return obj;
  }
  const bytes = own(v, 'bytesValue') ?? own(v, 'bytes_value');
  if (bytes !== undefined) return bytes instanceof Uint8Array ? Buffer.from(bytes).toString('base64') : asString(bytes);
  return '';
}

/** Sorted-key JSON: the canonical text of a label set (series identity, grouping keys). */
export function canonicalLabels(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  let out = '{';
  keys.forEach((k, i) => {
    out += `${i > 0 ? ',' : ''}${JSON.stringify(k)}:${JSON.stringify(labels[k])}`;
  });
  return `${out}}`;
}

