import type { ExportOutcome, MetricsConsumer, OtlpExportRequest } from '../../src/pipeline/consumer.js';
import type {
  JsonKeyValue,
  JsonMetric,
  JsonMetricsRequest,
} from '../../src/receivers/prometheus/otlp-json.js';

/**
 * A terminal MetricsConsumer that keeps every OTLP/JSON request it is handed (a sink, like the
 * Collector's consumertest.MetricsSink), accepting all data points.
 */
export class MetricsSink implements MetricsConsumer {
  readonly requests: JsonMetricsRequest[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];

  consumeMetrics(request: OtlpExportRequest): Promise<ExportOutcome> {
    if (request.encoding !== 'json') throw new Error('the scrape receiver sends OTLP/JSON');
    const json = JSON.parse(Buffer.from(request.body).toString('utf8')) as JsonMetricsRequest;
    this.requests.push(json);
    this.waiters = this.waiters.filter((w) => (this.requests.length >= w.n ? (w.resolve(), false) : true));
    return Promise.resolve({ accepted: countPoints(json), rejected: 0, message: '' });
  }

  /** Resolves once `n` requests in total have arrived. */
  waitFor(n: number): Promise<void> {
    if (this.requests.length >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  last(): JsonMetricsRequest {
    const r = this.requests[this.requests.length - 1];
    if (!r) throw new Error('no request yet');
    return r;
  }
}

export function countPoints(req: JsonMetricsRequest): number {
  let n = 0;
  for (const m of allMetrics(req)) n += dataPoints(m).length;
  return n;
}

export function allMetrics(req: JsonMetricsRequest): JsonMetric[] {
  return req.resourceMetrics.flatMap((r) => r.scopeMetrics.flatMap((s) => s.metrics));
}

export function metricNamed(req: JsonMetricsRequest, name: string): JsonMetric {
  const m = allMetrics(req).find((x) => x.name === name);
  if (!m) throw new Error(`no metric ${name} in [${allMetrics(req).map((x) => x.name).join(', ')}]`);
  return m;
}

type AnyPoint = { attributes: JsonKeyValue[] } & Record<string, unknown>;

export function dataPoints(m: JsonMetric): AnyPoint[] {
  if ('gauge' in m) return m.gauge.dataPoints as unknown as AnyPoint[];
  if ('sum' in m) return m.sum.dataPoints as unknown as AnyPoint[];
  if ('histogram' in m) return m.histogram.dataPoints as unknown as AnyPoint[];
  return m.summary.dataPoints as unknown as AnyPoint[];
}

/** The point of `m` whose attributes include all of `attrs`. */
export function pointWith(m: JsonMetric, attrs: Record<string, string> = {}): AnyPoint {
  const p = dataPoints(m).find((pt) =>
    Object.entries(attrs).every(([k, v]) => pt.attributes.some((a) => a.key === k && 'stringValue' in a.value && a.value.stringValue === v)),
  );
  if (!p) throw new Error(`no point of ${m.name} with ${JSON.stringify(attrs)}`);
  return p;
}

export function attrs(kvs: JsonKeyValue[]): Record<string, string> {
  return Object.fromEntries(kvs.map((kv) => [kv.key, 'stringValue' in kv.value ? kv.value.stringValue : kv.value.intValue]));
}
