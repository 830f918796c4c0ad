import { SelectorError, parseSelector } from '../analysis/label-matchers.js';
import { quantileShorthand } from '../analysis/metric-agg-names.js';
import { METRIC_AGGREGATIONS, type MetricAggregation } from '../analysis/metrics-query.js';
import type { LabelMatcher, MetricSelection, MetricSource, MetricSummary, StoredSeries } from '../analysis/metric-source.js';
import { nearestNames } from '../analysis/nearest-names.js';
import { parseWindow } from '../analysis/time-range.js';
import { ToolError } from './errors.js';

/**
 * Selectors joined by `+` (summed), split outside quotes and braces so that regex values may contain
 * `+`: `cache_hits_total{level="L1"} + cache_misses_total{level="L1"}`.
 */
export function parseSelectors(text: string, arg: string): MetricSelection[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '\\') {
        cur += c + (text[i + 1] ?? '');
        i++;
        continue;
      }
      if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === '+' && depth === 0) {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  parts.push(cur);
  try {
    return parts.map((p) => parseSelector(p));
  } catch (err) {
    if (err instanceof SelectorError) throw new ToolError(`${arg}: ${err.message}`);
    throw err;
  }
}

/** agg argument → aggregation and quantile: one of METRIC_AGGREGATIONS or p50, p95, p99, p999, p99.9. */
export function parseAgg(agg: string | undefined): { aggregation: MetricAggregation; quantile?: number } {
  const text = agg ?? 'sum';
  const q = quantileShorthand(text);
  if (q !== null) return { aggregation: 'quantile', quantile: q };
  if ((METRIC_AGGREGATIONS as readonly string[]).includes(text) && text !== 'quantile') return { aggregation: text as MetricAggregation };
  throw new ToolError(`agg "${text}" is not one of ${METRIC_AGGREGATIONS.filter((a) => a !== 'quantile').join(', ')}, p50, p95, p99, p999`);
}

/**
 * The step for a time series of at most maxPoints over the window: the asked step, widened (never cut
 * off) when it would give more points. Null when no step was asked.
 */
export function stepFor(step: string | undefined, windowNs: bigint, maxPoints: number): { stepNs: bigint; widened: boolean } | null {
  if (step === undefined) return null;
  const ms = parseWindow(step);
  if (ms === null || ms <= 0) throw new ToolError(`step "${step}" must look like 30s, 5m or 1h`);
  const asked = BigInt(Math.round(ms)) * 1_000_000n;
  const fit = (windowNs + BigInt(maxPoints) - 1n) / BigInt(maxPoints);
  return asked >= fit ? { stepNs: asked, widened: false } : { stepNs: fit, widened: true };
}

export async function unknownMetricError(source: MetricSource, names: readonly string[]): Promise<ToolError> {
  const known = (await source.listMetrics({ limit: 5000, maxLabelValues: 0 })).metrics.map((m) => m.name);
  if (known.length === 0) return new ToolError(`unknown metric ${names.join(', ')}: no metrics are stored yet; export OTLP metrics or configure a Prometheus scrape`);
  const near = [...new Set(names.flatMap((n) => nearestNames(n, known, 3)))];
  return new ToolError(`unknown metric ${names.join(', ')}. Nearest: ${near.join(', ')}. Call list_metrics(match=…) for all.`);
}

/** Every stored metric (names, types); the domain analyses pick theirs from this. */
export async function storedMetrics(source: MetricSource): Promise<MetricSummary[]> {
  return (await source.listMetrics({ limit: 5000, maxLabelValues: 0 })).metrics;
}

const LOOKBACK_NS = 15n * 60_000_000_000n;

/** Series of the named metrics over the window (plus a cumulative baseline lookback), filtered by matchers. */
export async function fetchMetricSeries(
  source: MetricSource, names: readonly string[], matchers: LabelMatcher[], window: { startNs: bigint; endNs: bigint }, maxSeries: number,
): Promise<{ series: StoredSeries[]; truncated: boolean }> {
  const out: StoredSeries[] = [];
  let truncated = false;
  for (const metric of names) {
    const r = await source.fetchSeries({ selection: { metric, matchers }, startNs: window.startNs - LOOKBACK_NS, endNs: window.endNs, maxSeries });
    out.push(...r.series);
    truncated ||= r.truncated;
  }
  return { series: out, truncated };
}

/** Metric series carry resource attributes as labels, so a service scope is a service.name matcher. */
export const serviceMatchers = (service: string | undefined): LabelMatcher[] => (service === undefined ? [] : [{ label: 'service.name', op: '=', value: service }]);
