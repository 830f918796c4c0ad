import type { LatencyDistribution } from '../../analysis/latency.js';
import { HDR_LAYOUT, HDR_SIGNIFICANT_DIGITS } from './latency-hdr.js';
import { decodeSparse } from './sparse-hdr.js';

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

const layout = HDR_LAYOUT;

/**
 * A stored (encoded) histogram as its non-zero buckets, decoded without materialising the dense
 * 28k-counter array: decodeSparse walks the encoding in index order, so the entries come out sorted.
 */
export function sparseFromEncoded(encoded: string): SparseHistogram {
  const decoded = decodeSparse(encoded);
  const indexes = new Int32Array(decoded.counts.size);
  const counts = new Float64Array(decoded.counts.size);
  let i = 0;
  for (const [index, count] of decoded.counts) {
    indexes[i] = index;
    counts[i++] = count;
  }
  return { indexes, counts, total: decoded.total };
}

/**
 * A sum of sparse histograms; reads percentiles exactly as HdrHistogram's getValueAtPercentile does.
 * Adding only collects the parts; the first read merges them once (through a dense scratch array, so the
 * cost is the parts' non-zero entries, not 28k buckets per part) into sorted (index, count) arrays.
 */
export class MergedLatency implements LatencyDistribution {
  private parts: SparseHistogram[] = [];
  private merged: { indexes: Int32Array; counts: Float64Array } | undefined;
  count = 0;
  readonly relativeError = 10 ** -HDR_SIGNIFICANT_DIGITS;

  add(h: SparseHistogram): void {
    if (h.total === 0) return;
    this.parts.push(h);
    this.count += h.total;
    this.merged = undefined;
  }

  addMerged(other: MergedLatency): void {
    for (const part of other.parts) this.add(part);
  }

  get minUs(): number {
    const m = this.merge();
    return m.indexes.length === 0 ? 0 : layout.lowestEquivalentValue(layout.valueFromIndex(m.indexes[0] as number));
  }

  get maxUs(): number {
    const m = this.merge();
    return m.indexes.length === 0 ? 0 : layout.highestEquivalentValue(layout.valueFromIndex(m.indexes[m.indexes.length - 1] as number));
  }

  get meanUs(): number {
    if (this.count === 0) return 0;
    const m = this.merge();
    let sum = 0;
    for (let i = 0; i < m.indexes.length; i++) sum += layout.medianEquivalentValue(layout.valueFromIndex(m.indexes[i] as number)) * (m.counts[i] as number);
    return sum / this.count;
  }

  valueAtPercentile(p: number): number {
    if (this.count === 0) return 0;
    const fp = (Math.min(p, 100) / 100) * this.count;
    const wanted = Math.max(Math.ceil(fp - ulp(fp)), 1);
    const m = this.merge();
    let running = 0;
    for (let i = 0; i < m.indexes.length; i++) {
      running += m.counts[i] as number;
      if (running >= wanted) return layout.highestEquivalentValue(layout.valueFromIndex(m.indexes[i] as number));
    }
    return this.maxUs;
  }

  private merge(): { indexes: Int32Array; counts: Float64Array } {
    if (this.merged) return this.merged;
    if (this.parts.length === 1) {
      const only = this.parts[0] as SparseHistogram;
      return (this.merged = { indexes: only.indexes, counts: only.counts });
    }
    const touched: number[] = [];
    for (const part of this.parts) {
      for (let i = 0; i < part.indexes.length; i++) {
        const index = part.indexes[i] as number;
        if (scratch[index] === 0) touched.push(index);
        scratch[index] = (scratch[index] as number) + (part.counts[i] as number);
      }
    }
    touched.sort((a, b) => a - b);
    const counts = new Float64Array(touched.length);
    for (let i = 0; i < touched.length; i++) {
      const index = touched[i] as number;
      counts[i] = scratch[index] as number;
      scratch[index] = 0;
    }
    return (this.merged = { indexes: Int32Array.from(touched), counts });
  }
}

/** Shared dense accumulator for merge(); always all zeros between calls (synchronous use only). */
const scratch = new Float64Array(layout.countsArrayLength);

function ulp(x: number): number {
  return x === 0 ? Number.MIN_VALUE : 2 ** (Math.floor(Math.log2(Math.abs(x))) - 52);
}
