import type { LatencyDistribution } from '../../analysis/latency.js';
import { HDR_SIGNIFICANT_DIGITS, newLatencyHistogram, type LatencyHistogram } from './latency-hdr.js';

/**
 * A decoded HDR histogram kept as its non-zero buckets only. Every latency histogram shares one bucket
 * layout (latency-hdr.ts), so merging is adding counts at equal indexes: a 24-hour merge adds a few
 * thousand numbers instead of decoding and adding 24 dense 28k-counter histograms. Small enough
 * (typically a few hundred entries) to cache per stored minute/hour.
 */
export interface SparseHistogram {
  indexes: Int32Array;
  counts: Float64Array;
  total: number;
}

/** The bucket-layout functions of hdr-histogram-js's JsHistogram (not on its public Histogram type). */
interface Layout {
  countsArrayIndex(value: number): number;
  valueFromIndex(index: number): number;
  lowestEquivalentValue(value: number): number;
  highestEquivalentValue(value: number): number;
  medianEquivalentValue(value: number): number;
  getCountAtIndex(index: number): number;
  countsArrayLength: number;
}

/** One histogram for the bucket layout's value functions (every latency histogram shares it). */
const layout = newLatencyHistogram() as unknown as Layout;

export function toSparse(histogram: LatencyHistogram): SparseHistogram {
  const indexes: number[] = [];
  const counts: number[] = [];
  let total = 0;
  // Recorded values lie between min and max: scan only that index range.
  if (histogram.totalCount > 0) {
    const lo = layout.countsArrayIndex(histogram.minNonZeroValue);
    const hi = Math.min(layout.countsArrayIndex(histogram.maxValue), layout.countsArrayLength - 1);
    const dense = histogram as unknown as Layout;
    for (let i = lo; i <= hi; i++) {
      const c = dense.getCountAtIndex(i);
      if (c > 0) {
        indexes.push(i);
        counts.push(c);
        total += c;
      }
    }
  }
  return { indexes: Int32Array.from(indexes), counts: Float64Array.from(counts), total };
}

/** Sums sparse histograms; reads percentiles exactly as HdrHistogram's getValueAtPercentile does. */
export class MergedLatency implements LatencyDistribution {
  private readonly sums = new Map<number, number>();
  private sorted: number[] | undefined;
  count = 0;
  readonly relativeError = 10 ** -HDR_SIGNIFICANT_DIGITS;

  add(h: SparseHistogram): void {
    for (let i = 0; i < h.indexes.length; i++) {
      const index = h.indexes[i] as number;
      this.sums.set(index, (this.sums.get(index) ?? 0) + (h.counts[i] as number));
    }
    this.count += h.total;
    this.sorted = undefined;
  }

  addMerged(other: MergedLatency): void {
    for (const [index, c] of other.sums) this.sums.set(index, (this.sums.get(index) ?? 0) + c);
    this.count += other.count;
    this.sorted = undefined;
  }

  get minUs(): number {
    const keys = this.keys();
    return keys.length === 0 ? 0 : layout.lowestEquivalentValue(layout.valueFromIndex(keys[0] as number));
  }

  get maxUs(): number {
    const keys = this.keys();
    return keys.length === 0 ? 0 : layout.highestEquivalentValue(layout.valueFromIndex(keys[keys.length - 1] as number));
  }

  get meanUs(): number {
    if (this.count === 0) return 0;
    let sum = 0;
    for (const [index, c] of this.sums) sum += layout.medianEquivalentValue(layout.valueFromIndex(index)) * c;
    return sum / this.count;
  }

  valueAtPercentile(p: number): number {
    if (this.count === 0) return 0;
    const fp = (Math.min(p, 100) / 100) * this.count;
    const wanted = Math.max(Math.ceil(fp - ulp(fp)), 1);
    let running = 0;
    const keys = this.keys();
    for (const index of keys) {
      running += this.sums.get(index) as number;
      if (running >= wanted) return layout.highestEquivalentValue(layout.valueFromIndex(index));
    }
    return this.maxUs;
  }

  /** Share of spans at or below `us` (for SLO-style "fraction faster than"). */
  fractionAtOrBelow(us: number): number {
    if (this.count === 0) return 0;
    let below = 0;
    for (const [index, c] of this.sums) if (layout.valueFromIndex(index) <= us) below += c;
    return below / this.count;
  }

  private keys(): number[] {
    return (this.sorted ??= [...this.sums.keys()].sort((a, b) => a - b));
  }
}

function ulp(x: number): number {
  return x === 0 ? Number.MIN_VALUE : 2 ** (Math.floor(Math.log2(Math.abs(x))) - 52);
}
