import { analyzeInferenceSpans, inferenceFromHistograms, isInferenceSpan, pickInferenceMetrics } from '../analysis/inference-analysis.js';
import type { McpDeps } from './deps.js';
import type { DomainAnswer, DomainArgs } from './domain-answer.js';
import { ToolError } from './errors.js';
import { fetchMetricSeries, serviceMatchers, storedMetrics } from './metric-args.js';
import { msFromUs } from './result.js';
import { sampleTraces, type TraceSample } from './trace-sample.js';
import type { ResolvedRange } from './time-input.js';

export const COLD_START_RULE =
  'flagged (ml.cold_start/faas.coldstart=true), or slow (modified z = 0.6745·(d−median)/MAD > 3.5 and d ≥ 1.25×median within model+version) ' +
  'and at the start of an instance\'s life (its first inference of that model in the window, or in a cut sample ≥ 5 min after the sample begins; one overlapping it; or the first after ≥ 5 min idle)';

/** Per model and version: span percentiles (exact over a bounded trace sample) and inference-duration histograms. */
export async function inferenceAnswer(deps: McpDeps, args: DomainArgs, range: ResolvedRange): Promise<DomainAnswer> {
  const stored = await storedMetrics(deps.metrics);
  const names = pickInferenceMetrics(stored.filter((m) => m.type === 'histogram' || m.type === 'exponential_histogram').map((m) => m.name));
  const errorNames = pickInferenceMetrics(stored.filter((m) => m.type === 'sum').map((m) => m.name)).errors;
  const matchers = serviceMatchers(args.service);
  const metricRows: Record<string, unknown>[] = [];
  for (const metric of names.histograms.slice(0, 3)) {
    const hist = await fetchMetricSeries(deps.metrics, [metric], matchers, range, 2000);
    const errors = await fetchMetricSeries(deps.metrics, errorNames, matchers, range, 2000);
    for (const g of inferenceFromHistograms(hist.series, errors.series, range)) {
      if (g.count === 0) continue;
      metricRows.push({
        source: `metric ${metric}`, model: g.model, ...(g.version ? { version: g.version } : {}), count: g.count,
        p50_ms: g.p50Ms, p95_ms: g.p95Ms, p99_ms: g.p99Ms, mean_ms: g.meanMs, ...(g.errorTypes.length > 0 ? { error_types: g.errorTypes.slice(0, 5) } : {}),
      });
    }
  }
  let sample: TraceSample | null = null;
  try {
    sample = await sampleTraces(deps, { service: args.service }, range, 'full');
  } catch (err) {
    // A service known only from its metrics has no spans to sample: answer from the metrics.
    if (!(err instanceof ToolError) || metricRows.length === 0) throw err;
  }
  const observedFromNs = sample?.sampled ? sample.traces.reduce<bigint | undefined>((min, t) => t.reduce((m, s) => (m === undefined || s.startNs < m ? s.startNs : m), min), undefined) : undefined;
  const spans = analyzeInferenceSpans(sample?.traces ?? [], { startNs: range.startNs, endNs: range.endNs, ...(observedFromNs !== undefined ? { observedFromNs } : {}) });
  const spanRows = spans.groups.map((g) => ({
    source: 'spans', model: g.model, ...(g.version ? { version: g.version } : {}), count: g.count, rps: g.rps,
    p50_ms: g.p50Ms, p95_ms: g.p95Ms, p99_ms: g.p99Ms, max_ms: g.maxMs, mean_ms: g.meanMs, p99_warm_ms: g.p99WarmMs,
    errors: g.errors, ...(g.errorTypes.length > 0 ? { error_types: g.errorTypes.slice(0, 5) } : {}),
    cold_starts: g.coldStarts, slow_outliers: g.slowOutliers, operations: g.operations,
  }));
  const rows = [...spanRows, ...(await hdrRows(deps, sample, range)), ...metricRows];
  const findings = spans.coldStarts.map((c) => ({
    kind: 'cold_start', model: c.model, ...(c.version ? { version: c.version } : {}), instance: c.instance, trace_id: c.traceId, span_id: c.spanId,
    duration_ms: c.durationMs, median_ms: c.medianMs, reason: c.reason,
  }));
  const top = spanRows[0];
  const slowest = [...spanRows].sort((a, b) => b.p99_ms - a.p99_ms)[0];
  return {
    source: [spanRows.length > 0 ? 'spans' : '', metricRows.length > 0 ? 'metrics' : ''].filter((s) => s).join('+') || 'none',
    precision: sample ? `${sample.precision}, exact nearest-rank (spans); hdr-3sd (hdr rows, every span); interpolated buckets (metrics)` : 'interpolated buckets (metrics)',
    rows, findings,
    context: { cold_start_rule: COLD_START_RULE, spans_analysed: spans.spansAnalysed, metrics: names.histograms },
    summary: rows.length === 0
      ? 'No inference spans (ml.model.name, model.name, gen_ai.request.model or an inference/predict span name) and no inference-duration histograms in the window.'
      : `${spanRows.length > 0 ? spanRows.slice(0, 4).map((r) => `${r.model}${r.version ? `@${r.version}` : ''} p50 ${r.p50_ms} p95 ${r.p95_ms} p99 ${r.p99_ms} ms (${r.count})`).join('; ') : metricRows.slice(0, 4).map((r) => `${String(r['model'])} p99 ${String(r['p99_ms'])} ms`).join('; ')}` +
        `${findings.length > 0 ? `; ${spans.groups.reduce((a, g) => a + g.coldStarts, 0)} cold starts` : ''}.`,
    hints: [
      ...(findings[0] ? [`get_trace(trace_id="${findings[0].trace_id}")`] : []),
      ...(slowest && top ? [`find_traces(where=[{key:"${modelKeyHint(sample, slowest.model)}",op:"=",value:"${slowest.model}"}], sort="slowest")`] : []),
      ...(names.histograms[0] ? [`query_metrics(select="${names.histograms[0]}", agg="p99", by="model", step="5m")`] : []),
    ],
  };
}

/**
 * Per inference operation, percentiles over every span from the HDR histograms (all models of that
 * operation together): full coverage when the trace sample was cut.
 */
async function hdrRows(deps: McpDeps, sample: TraceSample | null, range: ResolvedRange): Promise<Record<string, unknown>[]> {
  const ops = new Map<string, { service: string; operation: string }>();
  for (const spans of sample?.traces ?? []) {
    for (const s of spans) if (ops.size < 5 && isInferenceSpan(s)) ops.set(`${s.service}\u0000${s.name}`, { service: s.service, operation: s.name });
  }
  const out: Record<string, unknown>[] = [];
  for (const { service, operation } of ops.values()) {
    const d = await deps.latency.latency({ service, operation, startNs: range.startNs, endNs: range.endNs });
    if (!d || d.count === 0) continue;
    out.push({
      source: 'hdr', service, operation, count: d.count, p50_ms: msFromUs(d.valueAtPercentile(50)), p95_ms: msFromUs(d.valueAtPercentile(95)),
      p99_ms: msFromUs(d.valueAtPercentile(99)), max_ms: msFromUs(d.maxUs),
    });
  }
  return out;
}

/** The attribute key the sample actually used for a model name, for a follow-up filter. */
function modelKeyHint(sample: TraceSample | null, model: string): string {
  for (const spans of sample?.traces ?? []) {
    for (const s of spans) {
      for (const key of ['ml.model.name', 'model.name', 'gen_ai.request.model', 'gen_ai.response.model', 'ml.model', 'model', 'model_name']) {
        if (s.attributes[key] === model) return key;
      }
    }
  }
  return 'ml.model.name';
}
