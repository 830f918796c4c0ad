/** A merged latency distribution, as any latency store can provide it (HDR here). Values in microseconds. */
export interface LatencyDistribution {
  count: number;
  minUs: number;
  maxUs: number;
  meanUs: number;
  /** Value at percentile p (0 < p ≤ 100), nearest-rank within the distribution's precision. */
  valueAtPercentile(p: number): number;
  /** Relative precision of every value returned, e.g. 0.001 for 3 significant digits. */
  relativeError: number;
}

export interface LatencySummary {
  count: number;
  minMs: number | null;
  maxMs: number | null;
  meanMs: number | null;
  percentilesMs: Record<string, number | null>;
  relativeError: number;
}

/** Percentiles as milliseconds; with no data every value is null rather than a misleading 0. */
export function summarizeLatency(distribution: LatencyDistribution | null, percentiles: readonly number[]): LatencySummary {
  const count = distribution?.count ?? 0;
  const ms = (us: number): number => us / 1000;
  const percentilesMs: Record<string, number | null> = {};
  for (const p of percentiles) {
    percentilesMs[`p${p}`] = distribution && count > 0 ? ms(distribution.valueAtPercentile(p)) : null;
  }
  return {
    count,
    minMs: distribution && count > 0 ? ms(distribution.minUs) : null,
    maxMs: distribution && count > 0 ? ms(distribution.maxUs) : null,
    meanMs: distribution && count > 0 ? ms(distribution.meanUs) : null,
    percentilesMs,
    relativeError: distribution?.relativeError ?? 0.001,
  };
}

/** Parses "50,95,99.9" into percentiles in (0, 100]; throws with the offending item. */
export function parsePercentiles(text: string): number[] {
  const values = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map((s) => {
      const p = Number(s.replace(/^p/i, ''));
      if (!Number.isFinite(p) || p <= 0 || p > 100) throw new Error(`percentile "${s}" must be a number in (0, 100]`);
      return p;
    });
  if (values.length === 0) throw new Error('give at least one percentile, e.g. percentiles=50,95,99');
  return values;
}
