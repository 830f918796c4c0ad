import * as hdr from 'hdr-histogram-js';

/**
 * Latency histograms: microseconds from 1 µs to 24 h with 3 significant digits (0.1 % relative error).
 * Durations below 1 µs are recorded as 1 µs and those above 24 h as 24 h.
 * The plain-JS 32-bit bucket variant is used: ~0.1 µs per record here, and no WASM memory to free by hand.
 */
export const HDR_LOWEST_US = 1;
export const HDR_HIGHEST_US = 86_400_000_000;
export const HDR_SIGNIFICANT_DIGITS = 3;

export type LatencyHistogram = hdr.Histogram;

export function newLatencyHistogram(): LatencyHistogram {
  return hdr.build({
    bitBucketSize: 32,
    lowestDiscernibleValue: HDR_LOWEST_US,
    highestTrackableValue: HDR_HIGHEST_US,
    numberOfSignificantValueDigits: HDR_SIGNIFICANT_DIGITS,
    useWebAssembly: false,
    autoResize: false,
  });
}

export function durationNsToUs(durationNs: number): number {
  const us = Math.round(durationNs / 1000);
  return us < HDR_LOWEST_US ? HDR_LOWEST_US : us > HDR_HIGHEST_US ? HDR_HIGHEST_US : us;
}

export function encodeHistogram(histogram: LatencyHistogram): string {
  return hdr.encodeIntoCompressedBase64(histogram);
}

export function decodeHistogram(encoded: string): LatencyHistogram {
  return hdr.decodeFromCompressedBase64(encoded, 32, false);
}

/** The bucket-layout functions of hdr-histogram-js's JsHistogram (not on its public Histogram type). */
export interface HdrLayout {
  countsArrayIndex(value: number): number;
  valueFromIndex(index: number): number;
  lowestEquivalentValue(value: number): number;
  highestEquivalentValue(value: number): number;
  medianEquivalentValue(value: number): number;
  countsArrayLength: number;
}

/**
 * Every latency histogram shares one bucket layout (a pure function of lowest, highest and digits), so
 * one instance answers index/value questions for all of them, through the methods the library's own
 * encoder uses: sparse counts (sparse-hdr.ts, sparse-latency.ts) then always agree with decodeHistogram.
 */
export const HDR_LAYOUT = newLatencyHistogram() as unknown as HdrLayout;
