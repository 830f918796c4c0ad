import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bucketIndex, decodeSparse, encodeSparse, SparseCounts } from '../../../src/store/histograms/sparse-hdr.js';
import { decodeHistogram, durationNsToUs, encodeHistogram, newLatencyHistogram } from '../../../src/store/histograms/latency-hdr.js';

const durationsNs = fc.array(fc.double({ min: 0, max: 30, noNaN: true }).map((e) => Math.floor(Math.exp(e) * 1000)), {
  minLength: 1,
  maxLength: 2000,
});

describe('sparse HDR counts', () => {
  it('encode to the V2 format hdr-histogram-js reads, with the same percentiles as recording directly', () => {
    fc.assert(
      fc.property(durationsNs, (durations) => {
        const direct = newLatencyHistogram();
        const sparse = new SparseCounts();
        for (const ns of durations) {
          const us = durationNsToUs(ns);
          direct.recordValue(us);
          sparse.add(bucketIndex(us), 1);
        }
        const fromSparse = decodeHistogram(encodeSparse(sparse));
        const fromLibrary = decodeHistogram(encodeHistogram(direct));
        expect(fromSparse.totalCount).toBe(durations.length);
        for (const p of [0, 1, 50, 90, 95, 99, 99.9, 100]) {
          expect(fromSparse.getValueAtPercentile(p)).toBe(direct.getValueAtPercentile(p));
        }
        expect([fromSparse.minNonZeroValue, fromSparse.maxValue, fromSparse.mean]).toEqual([
          fromLibrary.minNonZeroValue,
          fromLibrary.maxValue,
          fromLibrary.mean,
        ]);
      }),
      { numRuns: 60 },
    );
  });

  it('decode what the library encodes back into the same bucket counts', () => {
    fc.assert(
      fc.property(durationsNs, (durations) => {
        const direct = newLatencyHistogram();
        const expected = new SparseCounts();
        for (const ns of durations) {
          direct.recordValue(durationNsToUs(ns));
          expected.add(bucketIndex(durationNsToUs(ns)), 1);
        }
        const decoded = decodeSparse(encodeHistogram(direct));
        expect(decoded.total).toBe(expected.total);
        expect(new Map([...decoded.counts].sort((a, b) => a[0] - b[0]))).toEqual(new Map([...expected.counts].sort((a, b) => a[0] - b[0])));
      }),
      { numRuns: 60 },
    );
  });

  it('merge like adding histograms', () => {
    const a = new SparseCounts();
    const b = new SparseCounts();
    a.add(bucketIndex(100), 2);
    b.add(bucketIndex(100), 3);
    b.add(bucketIndex(5_000_000), 1);
    a.merge(b);
    const h = decodeHistogram(encodeSparse(a));
    expect(h.totalCount).toBe(6);
    expect(h.getValueAtPercentile(50)).toBe(100);
    expect(h.maxValue).toBeGreaterThanOrEqual(5_000_000);
  });
});
