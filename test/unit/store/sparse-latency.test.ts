import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeHistogram, newLatencyHistogram } from '../../../src/store/histograms/latency-hdr.js';
import { MergedLatency, sparseFromEncoded } from '../../../src/store/histograms/sparse-latency.js';

/**
 * The sparse merge must answer exactly what HdrHistogram itself answers for the merged histogram
 * (hdr-histogram-js `add` + `getValueAtPercentile`, `maxValue`-bucket, `minNonZeroValue`-bucket), for any
 * split of the recorded values into parts.
 */
describe('MergedLatency', () => {
  const values = fc.array(fc.array(fc.integer({ min: 1, max: 3_600_000_000 }), { maxLength: 200 }), { minLength: 1, maxLength: 6 });
  const percentiles = [0.1, 1, 25, 50, 90, 95, 99, 99.9, 100];

  it('matches a merged HdrHistogram at every percentile', () => {
    fc.assert(
      fc.property(values, (parts) => {
        const reference = newLatencyHistogram();
        const merged = new MergedLatency();
        for (const part of parts) {
          const h = newLatencyHistogram();
          for (const v of part) h.recordValue(v);
          reference.add(h);
          merged.add(sparseFromEncoded(encodeHistogram(h)));
        }
        expect(merged.count).toBe(reference.totalCount);
        if (reference.totalCount === 0) return;
        for (const p of percentiles) expect(merged.valueAtPercentile(p), `p${p}`).toBe(reference.getValueAtPercentile(p));
        expect(merged.maxUs).toBeGreaterThanOrEqual(reference.maxValue);
        expect(merged.maxUs).toBeLessThanOrEqual(reference.maxValue * 1.001 + 1);
        expect(merged.minUs).toBeLessThanOrEqual(reference.minNonZeroValue);
        expect(Math.abs(merged.meanUs - reference.mean)).toBeLessThanOrEqual(reference.mean * 0.001 + 1);
      }),
      { numRuns: 200 },
    );
  });

  it('combines merged distributions (service rows) like one merge of all parts', () => {
    const a = newLatencyHistogram();
    const b = newLatencyHistogram();
    for (let i = 1; i <= 1000; i++) (i % 2 ? a : b).recordValue(i * 997);
    const left = new MergedLatency();
    left.add(sparseFromEncoded(encodeHistogram(a)));
    const right = new MergedLatency();
    right.add(sparseFromEncoded(encodeHistogram(b)));
    left.addMerged(right);
    a.add(b);
    for (const p of [50, 99]) expect(left.valueAtPercentile(p)).toBe(a.getValueAtPercentile(p));
    expect(new MergedLatency().valueAtPercentile(50)).toBe(0);
  });
});
