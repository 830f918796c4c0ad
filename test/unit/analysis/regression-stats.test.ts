import { describe, expect, it } from 'vitest';
import { detectAnomalies, robustZ, type MinutePoint } from '../../../src/analysis/anomaly.js';
import { benjaminiHochberg, mannWhitney, percentileOf, tieGroupsOf } from '../../../src/analysis/rank-tests.js';
import { linearTrend, studentTQuantile, timeToThreshold } from '../../../src/analysis/trend.js';
import { compareOperations } from '../../../src/analysis/window-compare.js';

describe('Mann–Whitney on tie groups', () => {
  // Hand-computed: pooled 1(A) 2(A A B) 3(A B B) 4(B) → mid-ranks 1, 3, 6, 8; R_B = 3+6+6+8 = 23,
  // U_B = 23 − 4·5/2 = 13 (= #(b>a) + ½#(b=a) = 2 + 7 + 4), μ = 8, Σ(t³−t) = 24 + 24 = 48,
  // σ² = (16/12)(9 − 48/56) = 10.857142…, z = (13 − 8 − ½)/σ = 1.365698; scipy's mannwhitneyu
  // (asymptotic, continuity) gives the same p: 0.0860169 one-sided, 0.1720337 two-sided.
  const a = tieGroupsOf([1, 2, 2, 3]);
  const b = tieGroupsOf([2, 3, 3, 4]);
  it('matches the hand computation with ties', () => {
    const r = mannWhitney(a, b)!;
    expect(r.uCandidate).toBe(13);
    expect(r.uBaseline).toBe(3);
    expect(r.mean).toBe(8);
    expect(r.sigma).toBeCloseTo(3.295017884, 8);
    expect(r.zGreater).toBeCloseTo(1.365698202, 8);
    expect(r.pGreater).toBeCloseTo(0.0860168545, 6);
    expect(r.pTwoSided).toBeCloseTo(0.1720337089, 6);
    expect(r.auc).toBe(13 / 16);
    expect(r.cliffsDelta).toBe(0.625);
  });
  it('is antisymmetric and handles identical and empty samples', () => {
    const r = mannWhitney(b, a)!;
    expect(r.uCandidate).toBe(3);
    expect(r.cliffsDelta).toBe(-0.625);
    const same = mannWhitney(tieGroupsOf([5, 5, 5]), tieGroupsOf([5, 5]))!;
    expect(same.sigma).toBe(0);
    expect(same.pTwoSided).toBe(1);
    expect(mannWhitney(tieGroupsOf([]), b)).toBeNull();
  });
  it('treats HDR buckets as tie groups (counts > 1) exactly like repeated values', () => {
    const grouped = mannWhitney({ upperUs: [1, 2, 3], counts: [1, 2, 1] }, { upperUs: [2, 3, 4], counts: [1, 2, 1] })!;
    expect(grouped.uCandidate).toBe(13);
    expect(grouped.sigma).toBeCloseTo(3.295017884, 8);
  });
  it('nearest-rank percentiles over groups', () => {
    const g = { upperUs: [10, 20, 30], counts: [50, 45, 5] };
    expect(percentileOf(g, 50)).toBe(10);
    expect(percentileOf(g, 95)).toBe(20);
    expect(percentileOf(g, 96)).toBe(30);
  });
});

describe('Benjamini–Hochberg', () => {
  it('adjusts in input order with the step-up minimum (scipy false_discovery_control agrees)', () => {
    // sorted 0.005, 0.01, 0.03, 0.04 → m·p/i = 0.02, 0.02, 0.04, 0.04 → running min from the top.
    expect(benjaminiHochberg([0.01, 0.04, 0.03, 0.005]).map((x) => Number(x.toFixed(10)))).toEqual([0.02, 0.04, 0.04, 0.02]);
    // A later small m·p/i pulls earlier ones down: 0.03·3/2 = 0.045 > 0.04·3/3 = 0.04.
    expect(benjaminiHochberg([0.001, 0.03, 0.04]).map((x) => Number(x.toFixed(10)))).toEqual([0.003, 0.04, 0.04]);
  });
  it('keeps only the discoveries in compareOperations verdicts', () => {
    const fast = tieGroupsOf(Array.from({ length: 200 }, (_, i) => 1000 + i));
    const slow = tieGroupsOf(Array.from({ length: 200 }, (_, i) => 5000 + i));
    const rows = compareOperations(
      [{ service: 's', operation: 'db', kind: 3, groups: fast, errors: 0 }, { service: 's', operation: 'auth', kind: 1, groups: fast, errors: 0 }, { service: 's', operation: 'tiny', kind: 1, groups: tieGroupsOf([1, 2]), errors: 0 }],
      [{ service: 's', operation: 'db', kind: 3, groups: slow, errors: 0 }, { service: 's', operation: 'auth', kind: 1, groups: fast, errors: 0 }, { service: 's', operation: 'tiny', kind: 1, groups: tieGroupsOf([9, 9]), errors: 0 }],
    );
    expect(rows.map((r) => [r.operation, r.verdict])).toEqual([['db', 'regression'], ['auth', 'no_change'], ['tiny', 'insufficient_data']]);
    expect(rows[0]!.p95Rel).toBeCloseTo((5189 - 1189) / 1189, 6); // nearest rank 190 of 200;
    expect(rows[0]!.lowConfidence).toEqual(['p99']);
  });
});

describe('robust z', () => {
  it('floors a zero MAD instead of dividing by zero', () => {
    const r = robustZ(12, [10, 10, 10, 10, 10], 0.1);
    expect(r).toEqual({ median: 10, mad: 0, scale: 0.1, z: 20 });
    // 1.4826·MAD when it exceeds the floor: MAD of [1,2,3,4,100] around 3 is 1.
    expect(robustZ(3 + 1.4826 * 4, [1, 2, 3, 4, 100], 0.1).z).toBeCloseTo(4, 10);
  });
  it('reports an error burst in exactly its minutes, and ignores one stray error', () => {
    const minute = (i: number, errors: number): MinutePoint => ({ startMs: i * 60_000, count: 30, errors, p95Ms: 10 });
    const baseline = Array.from({ length: 60 }, (_, i) => minute(i, i === 7 ? 1 : 0));
    const current = Array.from({ length: 15 }, (_, i) => minute(60 + i, i >= 5 && i < 8 ? 15 : i === 12 ? 1 : 0));
    const found = detectAnomalies([{ service: 's', operation: 'GET /', kind: 2, baseline, current }]);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ metric: 'error_rate', minutes: [65, 66, 67].map((m) => m * 60_000), observed: 0.5, median: 0, mad: 0 });
    // binomial floor at rate 1/30: sqrt((1/30)(29/30)/30)
    expect(found[0]!.z).toBeCloseTo(0.5 / Math.sqrt((1 / 30) * (29 / 30) / 30), 8);
  });
  it('skips minutes below the count guard', () => {
    const baseline = Array.from({ length: 30 }, (_, i): MinutePoint => ({ startMs: i * 60_000, count: 5, errors: 0, p95Ms: 10 }));
    const current = [{ startMs: 30 * 60_000, count: 5, errors: 5, p95Ms: 1000 }];
    expect(detectAnomalies([{ service: 's', operation: 'x', kind: 2, baseline, current }])).toEqual([]);
  });
});

describe('linear trend', () => {
  it('Student t quantiles', () => {
    expect(studentTQuantile(0.975, 1)).toBeCloseTo(12.7062047, 5);
    expect(studentTQuantile(0.975, 3)).toBeCloseTo(3.1824463, 6);
    expect(studentTQuantile(0.975, 10)).toBeCloseTo(2.2281389, 6);
    expect(studentTQuantile(0.025, 30)).toBeCloseTo(-2.0422725, 6);
  });
  it('slope CI that includes 0 is no trend', () => {
    // Hand-computed: slope 8/10 = 0.8, SSE 3.6, se = sqrt(3.6/3/10) = 0.34641, t(0.975, 3) = 3.18245.
    const t = linearTrend([1, 3, 2, 5, 4].map((y, x) => ({ x, y })));
    expect(t.slope).toBeCloseTo(0.8, 12);
    expect(t.intercept).toBeCloseTo(1.4, 12);
    expect(t.slopeStdError).toBeCloseTo(0.346410162, 8);
    expect(t.slopeLow).toBeCloseTo(0.8 - 3.18244631 * 0.346410162, 6);
    expect(t.direction).toBe('none');
    expect(timeToThreshold(t, 100).status).toBe('never');
  });
  it('time to threshold with a range from the slope CI', () => {
    // scipy linregress: slope 1.01, intercept 1.02, stderr 0.0412311 → CI [0.878784, 1.141216].
    const t = linearTrend([1, 2.1, 2.9, 4.2, 5.0].map((y, i) => ({ x: i - 4, y })));
    expect(t.direction).toBe('up');
    expect(t.slopeLow).toBeCloseTo(0.878784377, 6);
    expect(t.slopeHigh).toBeCloseTo(1.141215623, 6);
    const eta = timeToThreshold(t, 10.05);
    expect(eta.status).toBe('eta');
    expect(eta.hours).toBeCloseTo((10.05 - t.intercept) / 1.01, 6);
    expect(eta.soonestHours).toBeCloseTo((10.05 - t.intercept) / 1.141215623, 5);
    expect(eta.latestHours).toBeCloseTo((10.05 - t.intercept) / 0.878784377, 5);
    expect(timeToThreshold(t, 1).status).toBe('never');
  });
});
