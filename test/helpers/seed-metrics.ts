import type { ExpositionFormat, Label, MetricFamily, Sample } from '../../src/receivers/prometheus/exposition.js';
import { writeExposition } from './exposition-writer.js';

/**
 * The seed app's 13 metric families as its Prometheus client would expose them, at "tick" n: every
 * cumulative value is its base value times n, so a scrape at n=2 after n=1 shows known increases and a
 * scrape at a smaller n looks like a restart (counter reset). Gauges stay put.
 */
export const SEED_FAMILY_NAMES = [
  'http_requests_total',
  'http_request_duration_seconds',
  'ml_predictions_total',
  'ml_model_inference_duration_seconds',
  'ml_errors_total',
  'db_connection_pool_size',
  'db_connection_pool_in_use',
  'db_query_duration_seconds',
  'redis_operations_total',
  'redis_operation_duration_seconds',
  'cache_hits_total',
  'cache_misses_total',
  'mcp_operations_total',
] as const;

/** Created time of every cumulative series, seconds (OpenMetrics `_created`). */
export const SEED_CREATED_SECONDS = 1_764_000_000.5;
export const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
export const SPAN_ID = '00f067aa0ba902b7';

interface CounterSpec {
  name: string;
  help: string;
  series: [Record<string, string>, number][];
}
interface HistogramSpec {
  name: string;
  help: string;
  bounds: number[];
  /** Per series: labels, per-bucket (non-cumulative) counts incl. +Inf, sum — at n = 1. */
  series: [Record<string, string>, number[], number][];
}

export const SEED_COUNTERS: CounterSpec[] = [
  {
    name: 'http_requests',
    help: 'Total HTTP requests',
    series: [
      [{ method: 'GET', endpoint: '/predict', status_code: '200' }, 1200],
      [{ method: 'POST', endpoint: '/predict', status_code: '200' }, 800],
      [{ method: 'POST', endpoint: '/predict', status_code: '500' }, 12],
    ],
  },
  { name: 'ml_predictions', help: 'ML predictions made', series: [[{ model: 'fraud-v2', outcome: 'positive' }, 140], [{ model: 'fraud-v2', outcome: 'negative' }, 660]] },
  { name: 'ml_errors', help: 'ML inference errors', series: [[{ model: 'fraud-v2', error_type: 'timeout' }, 7], [{ model: 'fraud-v2', error_type: 'invalid_input' }, 3]] },
  { name: 'redis_operations', help: 'Redis operations', series: [[{ operation: 'GET', status: 'ok' }, 5000], [{ operation: 'SET', status: 'ok' }, 1500], [{ operation: 'GET', status: 'error' }, 4]] },
  { name: 'cache_hits', help: 'Cache hits by level', series: [[{ level: 'L1' }, 900], [{ level: 'L2' }, 60], [{ level: 'L3' }, 25]] },
  { name: 'cache_misses', help: 'Cache misses by level', series: [[{ level: 'L1' }, 100], [{ level: 'L2' }, 40], [{ level: 'L3' }, 15]] },
  { name: 'mcp_operations', help: 'MCP operations by status', series: [[{ operation: 'tools/call', status: 'success' }, 320], [{ operation: 'tools/call', status: 'error' }, 8]] },
];

export const SEED_HISTOGRAMS: HistogramSpec[] = [
  {
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency',
    bounds: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    series: [
      [{ method: 'GET', endpoint: '/predict' }, [100, 300, 400, 250, 100, 30, 15, 4, 1, 0], 61.25],
      [{ method: 'POST', endpoint: '/predict' }, [0, 50, 200, 300, 180, 50, 20, 8, 2, 2], 85.5],
    ],
  },
  {
    name: 'ml_model_inference_duration_seconds',
    help: 'Model inference time',
    bounds: [0.01, 0.05, 0.1, 0.5, 1],
    series: [[{ model: 'fraud-v2' }, [40, 500, 200, 50, 8, 2], 55.75]],
  },
  {
    name: 'db_query_duration_seconds',
    help: 'Database query latency',
    bounds: [0.001, 0.005, 0.01, 0.05, 0.1],
    series: [[{ operation: 'select' }, [300, 900, 200, 80, 15, 5], 8.5], [{ operation: 'insert' }, [10, 150, 120, 40, 9, 1], 4.25]],
  },
];

export const SEED_GAUGES: CounterSpec[] = [
  { name: 'db_connection_pool_size', help: 'Configured pool size', series: [[{ pool: 'primary' }, 20]] },
  { name: 'db_connection_pool_in_use', help: 'Connections checked out', series: [[{ pool: 'primary' }, 7]] },
];

export const SEED_SUMMARY = {
  name: 'redis_operation_duration_seconds',
  help: 'Redis command latency',
  series: [[{ operation: 'GET' }, [[0.5, 0.0004], [0.9, 0.0011], [0.99, 0.003]], 6500, 3.25]] as [Record<string, string>, [number, number][], number, number][],
};

function labels(rec: Record<string, string>, extra: Label[] = []): Label[] {
  return [...Object.entries(rec).map(([name, value]) => ({ name, value })), ...extra];
}

function sample(name: string, suffix: string, ls: Label[], value: number): Sample {
  return { name: `${name}${suffix}`, suffix, labels: ls, value, line: 0 };
}

/** The seed families as parsed-exposition objects for `format`, at tick n. */
export function seedFamilies(format: ExpositionFormat, n: number): MetricFamily[] {
  const om = format === 'openmetrics';
  const families: MetricFamily[] = [];
  const created = (name: string, ls: Label[]): Sample[] => (om ? [sample(name, '_created', ls, SEED_CREATED_SECONDS)] : []);
  for (const c of SEED_COUNTERS) {
    const name = om ? c.name : `${c.name}_total`;
    const samples = c.series.flatMap(([rec, v], i) => {
      const total = sample(name, om ? '_total' : '', labels(rec), v * n);
      if (om && i === 0) total.exemplar = { labels: [{ name: 'trace_id', value: TRACE_ID }, { name: 'span_id', value: SPAN_ID }], value: 1, timeNs: 1_764_000_100_250_000_000n };
      return [total, ...created(name, labels(rec))];
    });
    families.push({ name, type: 'counter', typed: true, help: c.help, samples });
  }
  for (const h of SEED_HISTOGRAMS) {
    const samples = h.series.flatMap(([rec, counts, sum], si) => {
      let cum = 0;
      const buckets = counts.map((c, i) => {
        cum += c * n;
        const le = i < h.bounds.length ? String(h.bounds[i]) : '+Inf';
        const s = sample(h.name, '_bucket', labels(rec, [{ name: 'le', value: le }]), cum);
        if (om && si === 0 && i === 2) s.exemplar = { labels: [{ name: 'trace_id', value: TRACE_ID }], value: 0.0173 };
        return s;
      });
      return [...buckets, sample(h.name, '_sum', labels(rec), sum * n), sample(h.name, '_count', labels(rec), cum), ...created(h.name, labels(rec))];
    });
    families.push({ name: h.name, type: 'histogram', typed: true, help: h.help, ...(om ? { unit: 'seconds' } : {}), samples });
  }
  for (const g of SEED_GAUGES) {
    families.push({ name: g.name, type: 'gauge', typed: true, help: g.help, samples: g.series.map(([rec, v]) => sample(g.name, '', labels(rec), v)) });
  }
  const s = SEED_SUMMARY;
  families.push({
    name: s.name,
    type: 'summary',
    typed: true,
    help: s.help,
    ...(om ? { unit: 'seconds' } : {}),
    samples: s.series.flatMap(([rec, qs, count, sum]) => [
      ...qs.map(([q, v]) => sample(s.name, '', labels(rec, [{ name: 'quantile', value: String(q) }]), v)),
      sample(s.name, '_sum', labels(rec), sum * n),
      sample(s.name, '_count', labels(rec), count * n),
      ...created(s.name, labels(rec)),
    ]),
  });
  return families;
}

export function seedExposition(format: ExpositionFormat, n: number): string {
  return writeExposition(seedFamilies(format, n), format);
}

export const CONTENT_TYPES: Record<ExpositionFormat, string> = {
  'prometheus-text': 'text/plain; version=0.0.4; charset=utf-8',
  openmetrics: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
};
