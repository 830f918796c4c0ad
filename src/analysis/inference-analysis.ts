/**
 * ML inference latency per model and version, from spans (exact nearest-rank over the spans given) and
 * from inference-duration histogram metrics, with error types, throughput and cold-start outliers.
 *
 * Cold-start rule (documented in the tool answer as `cold_start_rule`): a span is a cold start when it
 * is flagged (`ml.cold_start`, `faas.coldstart`, … = true), or when both
 *   1. it is slow: modified z = 0.6745·(d − median)/MAD > 3.5 (Iglewicz–Hoaglin) within its model and
 *      version, and d ≥ 1.25 × median (so jitter around a near-constant latency never qualifies); and
 *   2. it is at the start of an instance's life: the first inference of that model and version on that
 *      instance (`service.instance.id`, else host/pod, else service) in the spans given (in a cut sample,
 *      only one at least a gap after the sample begins: earlier history is unseen), one that started
 *      while that first one was still running, or the first after an idle gap (default 5 min).
 * Slow spans that fail (2) are counted as `slow_outliers`: they are not explained by warm-up.
 */
import type { AttributeValue, TraceSpan } from '../model/trace.js';
import { errorKeyOf, isEffectiveError } from './error-status.js';
import { mad, median, pickMetricNames, relabel, round } from './domain-common.js';
import { evaluateMetricQuery } from './metrics-query.js';
import type { StoredSeries } from './metric-source.js';
import { nearestRank, nsToMs } from './time.js';

export const MODEL_NAME_KEYS = ['ml.model.name', 'model.name', 'gen_ai.request.model', 'gen_ai.response.model', 'ml.model', 'model', 'model_name'] as const;
export const MODEL_VERSION_KEYS = ['ml.model.version', 'model.version', 'model_version', 'ml.model.revision'] as const;
const COLD_FLAGS = ['ml.cold_start', 'ml.model.cold_start', 'cold_start', 'faas.coldstart'];
const INSTANCE_KEYS = ['service.instance.id', 'k8s.pod.name', 'host.name', 'container.id'];
const INFERENCE_NAME = /^(ml\.|gen_ai\.)?(inference|infer|predict|model\.predict|chat|text_completion|embeddings)\b/i;
export const INFERENCE_HISTOGRAMS = [/inference.*duration/i, /^gen_ai[._]client[._]operation[._]duration/i, /(predict|inference).*(latency|seconds|time)/i];
export const INFERENCE_ERROR_COUNTERS = [/^ml[._].*errors?(_total)?$/i, /inference.*errors?(_total)?$/i];
const ERROR_TYPE_LABELS = ['error_type', 'error.type', 'type', 'reason'];

export interface InferenceOptions {
  startNs: bigint;
  endNs: bigint;
  /** Modified-z threshold (default 3.5). */
  zThreshold?: number;
  /** Idle time after which the next inference counts as a fresh start (default 5 min). */
  gapNs?: bigint;
  /** Cold starts listed (default 10; the slowest first). */
  maxColdStarts?: number;
  /**
   * When the spans are a cut sample (the newest traces), when the sample begins: an instance's first
   * inference in it counts as its start of life only if it comes at least one idle gap after this, since
   * earlier history was not seen. Absent: the spans cover the whole window.
   */
  observedFromNs?: bigint;
}

export interface InferenceGroup {
  model: string;
  version: string;
  count: number;
  errors: number;
  rps: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** p99 without the cold starts. */
  p99WarmMs: number | null;
  coldStarts: number;
  slowOutliers: number;
  errorTypes: { type: string; count: number }[];
  /** Operations (span names) seen. */
  operations: string[];
}

export interface ColdStart {
  model: string;
  version: string;
  instance: string;
  traceId: string;
  spanId: string;
  durationMs: number;
  medianMs: number;
  reason: 'flagged' | 'first_on_instance' | 'after_idle_gap';
}

export interface InferenceSpanAnalysis {
  groups: InferenceGroup[];
  coldStarts: ColdStart[];
  spansAnalysed: number;
}

const text = (v: AttributeValue | undefined): string | undefined =>
  v === undefined || v === null || v === '' || Array.isArray(v) ? undefined : String(v);
const pick = (span: TraceSpan, keys: readonly string[]): string | undefined => {
  for (const k of keys) {
    const v = text(span.attributes[k]);
    if (v !== undefined) return v;
  }
  return undefined;
};

export function isInferenceSpan(span: TraceSpan): boolean {
  return pick(span, MODEL_NAME_KEYS) !== undefined || span.attributes['gen_ai.operation.name'] !== undefined || INFERENCE_NAME.test(span.name);
}

const flagged = (span: TraceSpan): boolean => COLD_FLAGS.some((k) => {
  const v = span.attributes[k] ?? span.resource[k];
  return v === true || v === 'true' || v === 1;
});

interface Item {
  span: TraceSpan;
  model: string;
  version: string;
  instance: string;
  ns: bigint;
}

/** Inference spans per model and version; nested inference spans of the same model count once (the outermost). */
export function analyzeInferenceSpans(traces: readonly (readonly TraceSpan[])[], o: InferenceOptions): InferenceSpanAnalysis {
  const items: Item[] = [];
  for (const spans of traces) {
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const keyOf = (s: TraceSpan): string | null => isInferenceSpan(s) ? `${pick(s, MODEL_NAME_KEYS) ?? '(unknown)'}\u0000${pick(s, MODEL_VERSION_KEYS) ?? ''}` : null;
    for (const s of spans) {
      if (s.startNs < o.startNs || s.startNs > o.endNs) continue;
      const key = keyOf(s);
      if (key === null) continue;
      let nested = false;
      const seen = new Set<string>();
      for (let p = byId.get(s.parentSpanId); p && !seen.has(p.spanId); p = byId.get(p.parentSpanId)) {
        seen.add(p.spanId);
        if (keyOf(p) === key) {
          nested = true;
          break;
        }
      }
      if (nested) continue;
      const instance = INSTANCE_KEYS.map((k) => text(s.resource[k])).find((v) => v !== undefined) ?? s.service;
      items.push({ span: s, model: pick(s, MODEL_NAME_KEYS) ?? '(unknown)', version: pick(s, MODEL_VERSION_KEYS) ?? '', instance, ns: s.endNs - s.startNs });
    }
  }
  const z = o.zThreshold ?? 3.5;
  const gap = o.gapNs ?? 300_000_000_000n;
  const seconds = Number(o.endNs - o.startNs) / 1e9;
  const groups = new Map<string, Item[]>();
  for (const it of items) {
    const key = `${it.model}\u0000${it.version}`;
    const list = groups.get(key);
    if (list) list.push(it);
    else groups.set(key, [it]);
  }
  const out: InferenceGroup[] = [];
  const colds: ColdStart[] = [];
  for (const members of groups.values()) {
    const first = members[0] as Item;
    const ms = members.map((m) => Number(m.ns) / 1e6).sort((a, b) => a - b);
    const med = median(ms);
    const dev = mad(ms, med);
    const slow = (m: Item): boolean => {
      const d = Number(m.ns) / 1e6;
      const zScore = dev > 0 ? (0.6745 * (d - med)) / dev : d > med ? Infinity : 0;
      return zScore > z && d >= 1.25 * med;
    };
    const startOfLife = startOfLifeReasons(members, gap, o.observedFromNs);
    let slowOutliers = 0;
    const coldIds = new Set<TraceSpan>();
    for (const m of members) {
      const reason = flagged(m.span) ? 'flagged' : slow(m) ? startOfLife.get(m) : undefined;
      if (reason === undefined) {
        if (slow(m)) slowOutliers++;
        continue;
      }
      coldIds.add(m.span);
      colds.push({ model: m.model, version: m.version, instance: m.instance, traceId: m.span.traceId, spanId: m.span.spanId, durationMs: nsToMs(m.ns), medianMs: round(med, 3), reason });
    }
    const sorted = members.map((m) => m.ns).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const warm = members.filter((m) => !coldIds.has(m.span)).map((m) => m.ns).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const errorTypes = new Map<string, number>();
    let errors = 0;
    for (const m of members) {
      if (!isEffectiveError(m.span)) continue;
      errors++;
      const type = errorKeyOf(m.span).key || 'error';
      errorTypes.set(type, (errorTypes.get(type) ?? 0) + 1);
    }
    const total = sorted.reduce((a, b) => a + b, 0n);
    out.push({
      model: first.model, version: first.version, count: members.length, errors, rps: seconds > 0 ? round(members.length / seconds) : 0,
      p50Ms: nsToMs(nearestRank(sorted, 0.5) as bigint), p95Ms: nsToMs(nearestRank(sorted, 0.95) as bigint), p99Ms: nsToMs(nearestRank(sorted, 0.99) as bigint),
      maxMs: nsToMs(sorted[sorted.length - 1] as bigint), meanMs: nsToMs(total / BigInt(sorted.length)),
      p99WarmMs: warm.length > 0 ? nsToMs(nearestRank(warm, 0.99) as bigint) : null,
      coldStarts: coldIds.size, slowOutliers,
      errorTypes: [...errorTypes].map(([type, count]) => ({ type, count })).sort((a, b) => b.count - a.count || a.type.localeCompare(b.type)),
      operations: [...new Set(members.map((m) => m.span.name))].sort().slice(0, 5),
    });
  }
  out.sort((a, b) => b.meanMs * b.count - a.meanMs * a.count || a.model.localeCompare(b.model) || a.version.localeCompare(b.version));
  colds.sort((a, b) => b.durationMs - a.durationMs || a.traceId.localeCompare(b.traceId));
  return { groups: out, coldStarts: colds.slice(0, o.maxColdStarts ?? 10), spansAnalysed: items.length };
}

/** Which members of one model+version are at the start of an instance's life, and why. */
function startOfLifeReasons(members: readonly Item[], gapNs: bigint, observedFromNs: bigint | undefined): Map<Item, ColdStart['reason']> {
  const byInstance = new Map<string, Item[]>();
  for (const m of members) {
    const list = byInstance.get(m.instance);
    if (list) list.push(m);
    else byInstance.set(m.instance, [m]);
  }
  const out = new Map<Item, ColdStart['reason']>();
  for (const list of byInstance.values()) {
    list.sort((a, b) => (a.span.startNs < b.span.startNs ? -1 : a.span.startNs > b.span.startNs ? 1 : 0));
    let warmUpEnd = -1n;
    let reason: ColdStart['reason'] = 'first_on_instance';
    let lastEnd: bigint | null = null;
    for (const m of list) {
      if (lastEnd !== null && m.span.startNs - lastEnd >= gapNs) {
        reason = 'after_idle_gap';
        warmUpEnd = m.span.endNs;
        out.set(m, reason);
      } else if (lastEnd === null) {
        warmUpEnd = m.span.endNs;
        // Unseen history before a cut sample: only an instance that appears well after it began is new.
        if (observedFromNs === undefined || m.span.startNs - observedFromNs >= gapNs) out.set(m, reason);
      } else if (m.span.startNs < warmUpEnd) {
        out.set(m, reason);
      }
      lastEnd = lastEnd === null || m.span.endNs > lastEnd ? m.span.endNs : lastEnd;
    }
  }
  return out;
}

export interface InferenceMetricGroup {
  model: string;
  version: string;
  count: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  meanMs: number | null;
  /** Error counts by type from error counters (ml_errors_total{error_type}), when present. */
  errorTypes: { type: string; count: number }[];
}

const MODEL_LABELS = { model: ['ml.model.name', 'model.name', 'model', 'model_name', 'gen_ai.request.model', 'gen_ai.response.model'], version: ['ml.model.version', 'model.version', 'model_version', 'version'] };

/** Milliseconds per unit of a duration histogram, from its unit or name (seconds by convention). */
export function msPerUnit(unit: string, metric: string): number {
  if (unit === 'ms' || /_(ms|milliseconds)$/.test(metric)) return 1;
  if (unit === 'us' || /_(us|microseconds)$/.test(metric)) return 0.001;
  return 1000;
}

/** Percentiles per model and version from inference-duration histograms (interpolated, metric-histograms.ts). */
export function inferenceFromHistograms(histograms: readonly StoredSeries[], errorCounters: readonly StoredSeries[], window: { startNs: bigint; endNs: bigint }): InferenceMetricGroup[] {
  const series = relabel(histograms, MODEL_LABELS);
  const scale = histograms[0] ? msPerUnit(histograms[0].unit, histograms[0].metric) : 1000;
  const evalAgg = (aggregation: 'quantile' | 'increase' | 'avg', quantile?: number) => new Map(evaluateMetricQuery({
    select: [{ metric: 'x', matchers: [] }], aggregation, ...(quantile !== undefined ? { quantile } : {}), groupBy: ['model', 'version'],
    startNs: window.startNs, endNs: window.endNs, maxSeries: 100_000, maxPoints: 1,
  }, series).groups.map((g) => [`${g.labels['model']}\u0000${g.labels['version']}`, g.value]));
  const count = evalAgg('increase');
  const [p50, p95, p99, avg] = [evalAgg('quantile', 0.5), evalAgg('quantile', 0.95), evalAgg('quantile', 0.99), evalAgg('avg')];
  const errors = errorTypesFromCounters(errorCounters, window);
  const ms = (v: number | null | undefined): number | null => (v === null || v === undefined ? null : round(v * scale, 3));
  return [...count.entries()].map(([key, n]) => {
    const [model, version] = key.split('\u0000') as [string, string];
    return {
      model, version, count: n ?? 0, p50Ms: ms(p50.get(key)), p95Ms: ms(p95.get(key)), p99Ms: ms(p99.get(key)), meanMs: ms(avg.get(key)),
      errorTypes: errors.filter((e) => e.model === model && (version === '' || e.version === '' || e.version === version)).map(({ type, count: c }) => ({ type, count: c })),
    };
  }).sort((a, b) => b.count - a.count || a.model.localeCompare(b.model));
}

function errorTypesFromCounters(counters: readonly StoredSeries[], window: { startNs: bigint; endNs: bigint }): { model: string; version: string; type: string; count: number }[] {
  if (counters.length === 0) return [];
  const groups = evaluateMetricQuery({
    select: [{ metric: 'x', matchers: [] }], aggregation: 'increase', groupBy: ['model', 'version', 'type'],
    startNs: window.startNs, endNs: window.endNs, maxSeries: 100_000, maxPoints: 1,
  }, relabel(counters, { ...MODEL_LABELS, type: ERROR_TYPE_LABELS })).groups;
  return groups.filter((g) => (g.value ?? 0) > 0).map((g) => ({ model: g.labels['model'] ?? '', version: g.labels['version'] ?? '', type: g.labels['type'] || 'error', count: g.value ?? 0 }))
    .sort((a, b) => b.count - a.count);
}

export const pickInferenceMetrics = (names: readonly string[]): { histograms: string[]; errors: string[] } => ({
  histograms: pickMetricNames(names, INFERENCE_HISTOGRAMS),
  errors: pickMetricNames(names, INFERENCE_ERROR_COUNTERS),
});
