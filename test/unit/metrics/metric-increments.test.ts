import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { prepareSeries } from '../../../src/analysis/metric-increments.js';
import { evaluateMetricQuery, type MetricQuery } from '../../../src/analysis/metrics-query.js';
import type { StoredMetricPoint, StoredSeries } from '../../../src/analysis/metric-source.js';

const S = 1_000_000_000n;

function counter(points: StoredMetricPoint[], temporality: 1 | 2 = 2, labels: Record<string, string> = {}): StoredSeries {
  return { id: 1, metric: 'c', type: 'sum', unit: '1', temporality, monotonic: true, overflow: false, labels, points };
}

const base: Omit<MetricQuery, 'aggregation'> = { select: [{ metric: 'c', matchers: [] }], startNs: 0n, endNs: 1000n * S, maxSeries: 100, maxPoints: 1000 };

/**
 * A sender that adds random amounts and restarts at random moments: either with a new start time
 * (an OTel SDK restart) or, when `startTimes` is false, only by its value going down (Prometheus without _created).
 */
const lives = fc.array(fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 20 }), { minLength: 1, maxLength: 5 });

function simulate(adds: number[][], startTimes: boolean): { points: StoredMetricPoint[]; total: number } {
  const points: StoredMetricPoint[] = [];
  let t = 10n * S;
  let total = 0;
  adds.forEach((life) => {
    const start = startTimes ? t : 0n;
    let value = 0;
    for (const a of life) {
      t += S;
      value += a;
      total += a;
      points.push({ timeNs: t, startNs: start, flags: 0, value });
    }
    t += S;
  });
  return { points, total };
}

describe('cumulative → delta with resets', () => {
  it('never yields a negative increment and sums to the total added, across restarts with new start times', () => {
    fc.assert(
      fc.property(lives, (adds) => {
        const { points, total } = simulate(adds, true);
        const prepared = prepareSeries(counter(points), 0n);
        expect(prepared.increments.every((i) => (i.value ?? 0) >= 0)).toBe(true);
        expect(prepared.increments.reduce((a, i) => a + (i.value ?? 0), 0)).toBe(total);
      }),
    );
  });

  it('without start times, a decrease is a reset: increments stay ≥ 0 and never exceed what was added', () => {
    fc.assert(
      fc.property(lives, (adds) => {
        const { points, total } = simulate(adds, false);
        const r = evaluateMetricQuery({ ...base, aggregation: 'increase', stepNs: 7n * S }, [counter(points)]);
        const steps = (r.groups[0]?.points ?? []).map((p) => p.value ?? 0);
        expect(steps.every((v) => v >= 0)).toBe(true);
        // Without start times a reset is seen only as a decrease (as in Prometheus), and the very first point
        // is only a baseline: so the sum can fall short of the total, but never exceed it.
        expect(steps.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(total);
      }),
    );
    const { points } = simulate([[5, 5], [1, 2]], false);
    // 5 → 10 (+5), reset to 1 (+1), 1 → 3 (+2); the first point (5) is the baseline.
    expect(evaluateMetricQuery({ ...base, aggregation: 'increase' }, [counter(points)]).groups[0]?.value).toBe(8);
  });

  it('delta points are summed as they are, and rate divides by the window', () => {
    const points = [1, 2, 3].map((v, i) => ({ timeNs: BigInt(i + 1) * 10n * S, startNs: BigInt(i) * 10n * S, flags: 0, value: v }));
    const r = evaluateMetricQuery({ ...base, aggregation: 'rate', endNs: 100n * S }, [counter(points, 1)]);
    expect(r.groups[0]?.value).toBeCloseTo(6 / 100, 12);
  });

  it('uses the last point before the window as the baseline', () => {
    const points = [5, 8, 20].map((v, i) => ({ timeNs: BigInt(i + 1) * 10n * S, startNs: 1n, flags: 0, value: v }));
    const r = evaluateMetricQuery({ ...base, aggregation: 'increase', startNs: 15n * S, endNs: 30n * S }, [counter(points)]);
    expect(r.groups[0]?.value).toBe(15);
  });

  it('skips points flagged "no recorded value"', () => {
    const points: StoredMetricPoint[] = [
      { timeNs: 10n * S, startNs: 1n, flags: 0, value: 5 },
      { timeNs: 20n * S, startNs: 1n, flags: 1 },
      { timeNs: 30n * S, startNs: 1n, flags: 0, value: 9 },
    ];
    expect(evaluateMetricQuery({ ...base, aggregation: 'increase' }, [counter(points)]).groups[0]?.value).toBe(9);
  });
});

describe('grouping and ratios', () => {
  it('divides per group and answers null for an empty denominator', () => {
    const mk = (id: number, metric: string, level: string, v: number): StoredSeries => ({
      ...counter([{ timeNs: 10n * S, startNs: 5n * S, flags: 0, value: v }], 2, { level }),
      id,
      metric,
    });
    const hits = [mk(1, 'hits', 'L1', 8), mk(2, 'hits', 'L2', 0)];
    const misses = [mk(3, 'misses', 'L1', 2), mk(4, 'misses', 'L2', 0)];
    const r = evaluateMetricQuery({ ...base, aggregation: 'increase', groupBy: ['level'] }, hits, [...hits, ...misses]);
    expect(r.groups.map((g) => [g.labels['level'], g.value])).toEqual([
      ['L1', 0.8],
      ['L2', null],
    ]);
  });

  it('bounds groups and steps and says so', () => {
    const series = Array.from({ length: 5 }, (_, i) => ({
      ...counter([{ timeNs: 10n * S, startNs: 5n * S, flags: 0, value: 1 }], 2, { k: String(i) }),
      id: i,
    }));
    const r = evaluateMetricQuery({ ...base, aggregation: 'increase', groupBy: ['k'], maxSeries: 2, stepNs: S, maxPoints: 10 }, series);
    expect(r.groups).toHaveLength(2);
    expect(r.groups[0]?.points).toHaveLength(10);
    expect(r.truncated).toBe(true);
  });
});
