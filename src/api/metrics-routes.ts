import type { MetricSource } from '../analysis/metric-source.js';
import { parseSelector, SelectorError } from '../analysis/label-matchers.js';
import {
  listMetrics,
  METRIC_AGGREGATIONS,
  MetricQueryError,
  queryMetrics,
  type MetricAggregation,
  type MetricQueryResult,
} from '../analysis/metrics-query.js';
import { quantileShorthand } from '../analysis/metric-agg-names.js';
import { BadQueryError, type ApiReply } from './read-routes.js';
import { parseTimeRange, parseWindow } from './time-range.js';

const MS_NS = 1_000_000n;

/**
 * GET /api/metrics (discovery) and GET /api/metrics/query: query strings → the analysis library's typed
 * queries → JSON (nanosecond times as decimal strings plus ISO times).
 *
 * /api/metrics/query parameters:
 *   select=<selector>       repeatable, summed: cache_hits_total{level=~"L1|L2",service.name!="x"}
 *   denominator=<selector>  repeatable, summed; the answer is select / denominator per group
 *   agg=sum|avg|min|max|count|last|rate|increase|quantile (default sum); p50/p90/p99/p999 = quantile shorthands
 *   q=0.99                  the quantile for agg=quantile
 *   by=level,service.name   group by labels; * = one group per series; absent = one group
 *   start, end | window     the window (default the last hour); step=1m adds a time series
 *   maxSeries (100), maxPoints (500), exemplars (0): result bounds; truncated=true when cut
 */
export class MetricsRoutes {
  constructor(
    private readonly source: MetricSource,
    private readonly now: () => number,
  ) {}

  async list(q: URLSearchParams): Promise<ApiReply> {
    const nameContains = q.get('name') ?? undefined;
    const result = await listMetrics(this.source, {
      ...(nameContains !== undefined ? { nameContains } : {}),
      limit: intParam(q, 'limit', 200, 1, 5000),
      maxLabelValues: intParam(q, 'maxLabelValues', 20, 0, 1000),
    });
    return { status: 200, body: result };
  }

  async query(q: URLSearchParams): Promise<ApiReply> {
    const selects = [...q.getAll('select'), ...q.getAll('metric')];
    if (selects.length === 0) {
      throw new BadQueryError('select is required, e.g. /api/metrics/query?select=http_requests_total&agg=rate&by=http.route');
    }
    const range = parseTimeRange({ start: q.get('start'), end: q.get('end'), window: q.get('window') }, this.now(), 3_600_000);
    let aggregation = (q.get('agg') ?? 'sum') as string;
    let quantile: number | undefined = q.get('q') !== null ? Number(q.get('q')) : undefined;
    const shorthand = quantileShorthand(aggregation);
    if (shorthand !== null) {
      quantile = shorthand;
      aggregation = 'quantile';
    }
    if (!(METRIC_AGGREGATIONS as readonly string[]).includes(aggregation)) {
      throw new BadQueryError(`agg must be one of ${METRIC_AGGREGATIONS.join(', ')} (or p50, p99, …)`);
    }
    let stepNs: bigint | undefined;
    const step = q.get('step');
    if (step !== null) {
      const ms = parseWindow(step);
      if (ms === null || ms <= 0) throw new BadQueryError(`step "${step}" must look like 30s, 1m or 1h`);
      stepNs = BigInt(Math.round(ms)) * MS_NS;
    }
    const by = q.get('by');
    const denominators = q.getAll('denominator');
    let result: MetricQueryResult;
    try {
      result = await queryMetrics(this.source, {
        select: selects.map(parseSelector),
        ...(denominators.length > 0 ? { denominator: denominators.map(parseSelector) } : {}),
        aggregation: aggregation as MetricAggregation,
        ...(quantile !== undefined ? { quantile } : {}),
        ...(by ? { groupBy: by.split(',').map((s) => s.trim()).filter((s) => s !== '') } : {}),
        startNs: BigInt(Math.floor(range.startMs)) * MS_NS,
        endNs: BigInt(Math.ceil(range.endMs)) * MS_NS,
        ...(stepNs !== undefined ? { stepNs } : {}),
        maxSeries: intParam(q, 'maxSeries', 100, 1, 10_000),
        maxPoints: intParam(q, 'maxPoints', 500, 1, 10_000),
        exemplars: intParam(q, 'exemplars', 0, 0, 100),
      });
    } catch (err) {
      if (err instanceof SelectorError || err instanceof MetricQueryError) throw new BadQueryError(err.message);
      throw err;
    }
    if (result.groups.length === 0 && result.unknownMetrics.length > 0) {
      const known = (await this.source.listMetrics({ limit: 5000, maxLabelValues: 0 })).metrics.map((m) => m.name);
      return {
        status: 404,
        body: { error: `unknown metric(s): ${result.unknownMetrics.join(', ')}`, knownMetrics: [...new Set(known)].slice(0, 50) },
      };
    }
    return { status: 200, body: resultJson(result) };
  }
}

export { quantileShorthand };

function iso(ns: bigint): string {
  return new Date(Number(ns / MS_NS)).toISOString();
}

function resultJson(r: MetricQueryResult): Record<string, unknown> {
  return {
    aggregation: r.aggregation,
    ...(r.quantile !== undefined ? { quantile: r.quantile } : {}),
    unit: r.unit,
    start: iso(r.startNs),
    end: iso(r.endNs),
    ...(r.stepNs !== undefined ? { stepSeconds: Number(r.stepNs) / 1e9 } : {}),
    seriesCount: r.seriesCount,
    truncated: r.truncated,
    ...(r.unknownMetrics.length > 0 ? { unknownMetrics: r.unknownMetrics } : {}),
    ...(r.warnings.length > 0 ? { warnings: r.warnings } : {}),
    groups: r.groups.map((g) => ({
      labels: g.labels,
      value: g.value,
      seriesCount: g.seriesCount,
      ...(g.points ? { points: g.points.map((p) => ({ time: iso(p.timeNs), timeUnixNano: p.timeNs.toString(), value: p.value })) } : {}),
      ...(g.exemplars
        ? {
            exemplars: g.exemplars.map((e) => ({
              time: iso(e.timeNs),
              timeUnixNano: e.timeNs.toString(),
              value: e.value,
              traceId: e.traceId,
              spanId: e.spanId,
              attributes: e.attributes,
            })),
          }
        : {}),
    })),
  };
}

function intParam(q: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const text = q.get(name);
  if (text === null) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) throw new BadQueryError(`${name} must be an integer from ${min} to ${max}`);
  return value;
}
