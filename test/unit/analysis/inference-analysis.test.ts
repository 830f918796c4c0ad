import { describe, expect, it } from 'vitest';
import { analyzeInferenceSpans, inferenceFromHistograms, pickInferenceMetrics } from '../../../src/analysis/inference-analysis.js';
import type { StoredSeries } from '../../../src/analysis/metric-source.js';
import { StatusCode } from '../../../src/model/span.js';
import type { TraceSpan } from '../../../src/model/trace.js';
import { mkSpan, ms, traceIdOf } from './fixture.js';

const MIN = 60_000_000_000n;
const window = { startNs: 0n, endNs: 60n * MIN };

/** One inference span per trace: model, version, instance, start (ms) and duration (ms). */
function inference(n: number, model: string, version: string, instance: string, startMs: number, durMs: number, extra: Record<string, string | boolean> = {}, status?: number): TraceSpan[] {
  const start = ms(startMs);
  return [mkSpan({
    id: `s${n}`.padStart(16, '0'), name: 'model.predict', start, end: start + ms(durMs), status: status ?? StatusCode.UNSET,
    attrs: { 'ml.model.name': model, 'ml.model.version': version, ...extra }, resource: { 'service.instance.id': instance },
  }, traceIdOf(n))];
}

const nearestRankMs = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(Math.ceil(p * sorted.length), 1) - 1]!;
};

describe('inference spans', () => {
  it('exact percentiles per model and version, cold starts by the documented rule, slow outliers apart', () => {
    const traces: TraceSpan[][] = [];
    const truth: Record<string, number[]> = { v1: [], v2: [] };
    let n = 0;
    const add = (version: 'v1' | 'v2', instance: string, startMs: number, durMs: number, extra: Record<string, string | boolean> = {}, status?: number) => {
      traces.push(inference(n++, 'fraud', version, instance, startMs, durMs, extra, status));
      truth[version]!.push(durMs);
    };
    // v1 on two instances: the first call on each is a 400 ms cold start; then 100 calls of 20..29.9 ms.
    add('v1', 'pod-a', 1000, 400);
    add('v1', 'pod-b', 1000, 380);
    for (let i = 0; i < 100; i++) add('v1', i % 2 ? 'pod-a' : 'pod-b', 2000 + i * 1000, 20 + (i % 10) * 1.1);
    // A slow call mid-life on pod-a: an outlier, but not a cold start.
    add('v1', 'pod-a', 60_000, 300);
    // pod-a idles 10 minutes, then its next call is slow again (scale-from-idle).
    add('v1', 'pod-a', 800_000, 350);
    // v2: faster, with one flagged cold start of normal duration and two timeouts.
    for (let i = 0; i < 50; i++) add('v2', 'pod-c', 1000 + i * 1000, 10 + (i % 5));
    add('v2', 'pod-c', 70_000, 12, { 'ml.cold_start': true });
    add('v2', 'pod-c', 71_000, 50, { 'error.type': 'timeout' }, StatusCode.ERROR);
    add('v2', 'pod-c', 72_000, 50, { 'error.type': 'timeout' }, StatusCode.ERROR);

    const a = analyzeInferenceSpans(traces, window);
    expect(a.spansAnalysed).toBe(traces.length);
    const v1 = a.groups.find((g) => g.version === 'v1')!;
    const v2 = a.groups.find((g) => g.version === 'v2')!;
    for (const [g, values] of [[v1, truth['v1']!], [v2, truth['v2']!]] as const) {
      expect(g.count).toBe(values.length);
      expect(g.p50Ms).toBe(nearestRankMs(values, 0.5));
      expect(g.p95Ms).toBe(nearestRankMs(values, 0.95));
      expect(g.p99Ms).toBe(nearestRankMs(values, 0.99));
      expect(g.maxMs).toBe(Math.max(...values));
    }
    expect(v1.coldStarts).toBe(3);
    expect(v1.slowOutliers).toBe(1);
    expect(v1.p99WarmMs).toBe(nearestRankMs(truth['v1']!.filter((d) => d < 340 && d !== 380), 0.99));
    expect(v2.coldStarts).toBe(1);
    expect(v2.errors).toBe(2);
    expect(v2.errorTypes).toEqual([{ type: 'timeout', count: 2 }]);
    expect(a.coldStarts.map((c) => [c.version, c.instance, c.durationMs, c.reason])).toEqual([
      ['v1', 'pod-a', 400, 'first_on_instance'],
      ['v1', 'pod-b', 380, 'first_on_instance'],
      ['v1', 'pod-a', 350, 'after_idle_gap'],
      ['v2', 'pod-c', 12, 'flagged'],
    ]);
    expect(a.coldStarts[0]!.traceId).toBe(traceIdOf(0));

    // As a cut sample starting at the first span, the first calls have unseen history: not cold starts.
    const cut = analyzeInferenceSpans(traces, { ...window, observedFromNs: ms(1000) });
    expect(cut.coldStarts.map((c) => [c.instance, c.reason])).toEqual([['pod-a', 'after_idle_gap'], ['pod-c', 'flagged']]);
    expect(cut.groups.find((g) => g.version === 'v1')!.slowOutliers).toBe(3);
  });

  it('counts a nested inference span of the same model once, and reads gen_ai and model.name keys', () => {
    const t = [
      mkSpan({ id: 'a', name: 'chat gpt-4o', start: 0, end: ms(100), attrs: { 'gen_ai.request.model': 'gpt-4o', 'gen_ai.operation.name': 'chat' } }),
      mkSpan({ id: 'b', parent: 'a', name: 'chat gpt-4o', start: ms(1), end: ms(99), attrs: { 'gen_ai.request.model': 'gpt-4o' } }),
      mkSpan({ id: 'c', parent: 'a', name: 'embed', start: ms(1), end: ms(5), attrs: { 'model.name': 'minilm', 'model.version': '3' } }),
      mkSpan({ id: 'd', name: 'GET /health', start: 0, end: ms(1) }),
    ];
    const a = analyzeInferenceSpans([t], window);
    expect(a.groups.map((g) => [g.model, g.version, g.count, g.p50Ms])).toEqual([['gpt-4o', '', 1, 100], ['minilm', '3', 1, 4]]);
  });
});

describe('inference histograms', () => {
  it('percentiles, mean and count per model from a seconds histogram, error types from counters', () => {
    const S = 1_000_000_000n;
    const hist = (id: number, model: string, counts: number[], sum: number): StoredSeries => ({
      id, metric: 'ml_model_inference_duration_seconds', type: 'histogram', unit: 's', temporality: 2, monotonic: false, overflow: false, labels: { model },
      points: [{ timeNs: 600n * S, startNs: 10n * S, flags: 0, count: counts.reduce((a, b) => a + b, 0), sum, bounds: [0.01, 0.05, 0.1, 0.5, 1], bucketCounts: counts }],
    });
    const errors: StoredSeries[] = ['timeout', 'invalid_input'].map((type, i) => ({
      id: 10 + i, metric: 'ml_errors_total', type: 'sum', unit: '1', temporality: 2, monotonic: true, overflow: false, labels: { model: 'fraud-v2', error_type: type },
      points: [{ timeNs: 600n * S, startNs: 10n * S, flags: 0, value: i === 0 ? 7 : 3 }],
    }));
    const groups = inferenceFromHistograms([hist(1, 'fraud-v2', [40, 500, 200, 50, 8, 2], 55.75)], errors, { startNs: 0n, endNs: 3600n * S });
    expect(groups).toHaveLength(1);
    const g = groups[0]!;
    expect(g.count).toBe(800);
    // Rank 400 of 800 lies in the (10, 50] ms bucket (cumulative 40..540).
    expect(g.p50Ms).toBeGreaterThan(10);
    expect(g.p50Ms).toBeLessThanOrEqual(50);
    // Rank 792 (p99) lies in (500, 1000] ms (cumulative 790..798).
    expect(g.p99Ms).toBeGreaterThan(500);
    expect(g.p99Ms).toBeLessThanOrEqual(1000);
    expect(g.meanMs).toBe(Math.round((55.75 / 800) * 1e6) / 1e3);
    expect(g.errorTypes).toEqual([{ type: 'timeout', count: 7 }, { type: 'invalid_input', count: 3 }]);
  });

  it('picks inference histograms and error counters by name', () => {
    expect(pickInferenceMetrics(['http_request_duration_seconds', 'ml_model_inference_duration_seconds', 'ml_errors_total', 'ml_predictions_total'])).toEqual({
      histograms: ['ml_model_inference_duration_seconds'], errors: ['ml_errors_total'],
    });
    expect(pickInferenceMetrics(['gen_ai.client.operation.duration']).histograms).toEqual(['gen_ai.client.operation.duration']);
  });
});
