import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  exponentialBucketBounds,
  exponentialRelativeError,
  histogramQuantile,
  mergeHistograms,
  subtractHistogram,
  summaryQuantile,
  type ExplicitHistogram,
  type ExponentialHistogram,
} from '../../../src/analysis/metric-histograms.js';

const BOUNDS = [1, 2, 5, 10, 20, 50, 100];

function explicitOf(values: number[], withMinMax: boolean): ExplicitHistogram {
  const counts = new Array<number>(BOUNDS.length + 1).fill(0);
  for (const v of values) {
    const i = BOUNDS.findIndex((b) => v <= b);
    counts[i === -1 ? BOUNDS.length : i]! += 1;
  }
  return {
    kind: 'explicit',
    bounds: BOUNDS,
    counts,
    count: values.length,
    sum: values.reduce((a, b) => a + b, 0),
    ...(withMinMax ? { min: Math.min(...values), max: Math.max(...values) } : {}),
  };
}

/** OTel's mapping: index = ceil(log2(v) · 2^scale) − 1, so bucket i holds (base^i, base^(i+1)]. */
function exponentialOf(values: number[], scale: number): ExponentialHistogram {
  const positive = new Map<number, number>();
  let zeroCount = 0;
  for (const v of values) {
    if (v === 0) {
      zeroCount++;
      continue;
    }
    let i = Math.ceil(Math.log2(v) * 2 ** scale) - 1;
    const [lo, hi] = exponentialBucketBounds(scale, i);
    if (v <= lo) i--;
    else if (v > hi) i++;
    positive.set(i, (positive.get(i) ?? 0) + 1);
  }
  return { kind: 'exponential', scale, zeroCount, zeroThreshold: 0, positive, negative: new Map(), count: values.length };
}

const nearestRank = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] as number;
};

const values = fc.array(fc.double({ min: 0.01, max: 500, noNaN: true }), { minLength: 1, maxLength: 200 });
const quantile = fc.double({ min: 0, max: 1, noNaN: true });

describe('explicit-bucket quantiles', () => {
  it('lie inside the bucket holding the true quantile (and inside [min, max] when known)', () => {
    fc.assert(
      fc.property(values, quantile, fc.boolean(), (vs, q, withMinMax) => {
        const h = explicitOf(vs, withMinMax);
        const est = histogramQuantile(h, q) as number;
        const exact = nearestRank(vs, q);
        const i = BOUNDS.findIndex((b) => exact <= b);
        const lo = i <= 0 ? (withMinMax ? Math.min(...vs) : 0) : (BOUNDS[i - 1] as number);
        const hi = i === -1 ? (withMinMax ? Math.max(...vs) : (BOUNDS[BOUNDS.length - 1] as number)) : (BOUNDS[i] as number);
        expect(est).toBeGreaterThanOrEqual(Math.min(lo, exact) - 1e-9);
        expect(est).toBeLessThanOrEqual(Math.max(hi, exact) + 1e-9);
        if (withMinMax) {
          expect(est).toBeGreaterThanOrEqual(Math.min(...vs));
          expect(est).toBeLessThanOrEqual(Math.max(...vs));
        }
      }),
    );
  });

  it('interpolates linearly inside a bucket', () => {
    const h: ExplicitHistogram = { kind: 'explicit', bounds: [10, 20], counts: [0, 4, 0], count: 4 };
    expect(histogramQuantile(h, 0.5)).toBe(15);
    expect(histogramQuantile(h, 1)).toBe(20);
    expect(histogramQuantile({ ...h, counts: [0, 0, 0], count: 0 }, 0.5)).toBeNull();
  });
});

describe('exponential-bucket quantiles', () => {
  it('are within the relative error base − 1 of the true quantile', () => {
    fc.assert(
      fc.property(values, quantile, fc.integer({ min: 0, max: 8 }), (vs, q, scale) => {
        const est = histogramQuantile(exponentialOf(vs, scale), q) as number;
        const exact = nearestRank(vs, q);
        expect(Math.abs(est - exact) / exact).toBeLessThanOrEqual(exponentialRelativeError(scale) + 1e-9);
      }),
    );
  });

  it('merges different scales by downscaling, and subtracts back to the later interval', () => {
    fc.assert(
      fc.property(values, values, (a, b) => {
        const h1 = exponentialOf(a, 6);
        const h2 = exponentialOf(b, 3);
        const merged = mergeHistograms(h1, h2) as ExponentialHistogram;
        expect(merged.scale).toBe(3);
        expect(merged.count).toBe(a.length + b.length);
        const back = subtractHistogram(merged, h1) as ExponentialHistogram;
        expect(back).not.toBeNull();
        expect([...back.positive.entries()].sort()).toEqual([...h2.positive.entries()].sort());
      }),
    );
  });
});

describe('cumulative histogram subtraction', () => {
  it('detects a reset when a bucket goes down or the layout changes', () => {
    const a = explicitOf([1, 3, 7], false);
    const b = explicitOf([1, 3, 7, 8, 60], false);
    expect((subtractHistogram(b, a) as ExplicitHistogram).counts).toEqual([0, 0, 0, 1, 0, 0, 1, 0]);
    expect(subtractHistogram(a, b)).toBeNull();
    expect(subtractHistogram({ ...b, bounds: [1, 2] }, a)).toBeNull();
  });
});

describe('summary quantiles', () => {
  it('returns listed quantiles exactly and interpolates between them', () => {
    const qs: [number, number][] = [
      [0.5, 10],
      [0.9, 30],
      [0.99, 90],
    ];
    expect(summaryQuantile(qs, 0.9)).toBe(30);
    expect(summaryQuantile(qs, 0.7)).toBeCloseTo(20, 12);
    expect(summaryQuantile(qs, 0.1)).toBe(10);
    expect(summaryQuantile(qs, 1)).toBe(90);
  });
});
