import { describe, expect, it } from 'vitest';
import { bucketRanges, lastIndexAtOrBelow } from '../../../src/store/sqlite/slo-reader.js';
import { bucketIndex } from '../../../src/store/histograms/sparse-hdr.js';
import { durationNsToUs } from '../../../src/store/histograms/latency-hdr.js';

describe('SLO bucket reads', () => {
  it('hour rows everywhere except the hours listed, which are read minute by minute', () => {
    //  minutes:  [90 ……………………………………………… 400]
    //  hours:     1 (partial, minutes 90-119)  2  3  4  5  6 (minutes 360-400)
    //  minuteHours = {1, 4, 6}: minute rows for 1 (from 90), 4 and 6 (to 400); hour rows for 2-3 and 5.
    expect(bucketRanges({ fromMinute: 90, toMinute: 400, minuteHours: [6, 4, 1, 4] })).toEqual([
      ['m', 90, 120], ['h', 2, 4], ['m', 240, 300], ['h', 5, 6], ['m', 360, 401],
    ]);
  });

  it('a partial first hour without minute rows (beyond minute retention) is left out', () => {
    expect(bucketRanges({ fromMinute: 90, toMinute: 400, minuteHours: [6] })).toEqual([['h', 2, 6], ['m', 360, 401]]);
    // Listed hours outside the range are ignored.
    expect(bucketRanges({ fromMinute: 120, toMinute: 179, minuteHours: [0, 9] })).toEqual([['h', 2, 3]]);
  });

  it('latency good = HDR buckets wholly at or below the threshold; the straddling bucket counts as slow', () => {
    const max = lastIndexAtOrBelow(2_000_000);
    const index = (ms: number): number => bucketIndex(durationNsToUs(ms * 1e6));
    expect(index(1999)).toBeLessThanOrEqual(max);
    expect(index(2001)).toBeGreaterThan(max);
    // 2 000 ms exactly shares a ~1 ms bucket with values just above it (3 significant digits): counted slow.
    expect(index(2000)).toBe(max + 1);
    expect(index(1998.9)).toBeLessThanOrEqual(max);
  });
});
