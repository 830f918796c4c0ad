/**
 * Connection-pool saturation from pool metrics, tolerant of the naming generations in use:
 * OTel semconv `db.client.connection.count{state=used|idle}` / `db.client.connection.max` (and the
 * older `db.client.connections.usage` / `.max`), their Prometheus spellings, and app-level gauges such
 * as `db_connection_pool_in_use` / `db_connection_pool_size` or `hikaricp_connections_active` / `_max`.
 * Per pool: peak and mean connections in use against the pool size; saturated at a peak ≥ 90 % of
 * the size or when requests waited for a connection.
 */
import { labelOf, relabel, round } from './domain-common.js';
import { evaluateMetricQuery } from './metrics-query.js';
import type { StoredSeries } from './metric-source.js';

export const POOL_USED_METRICS = [
  /^db[._]client[._]connections?[._](count|usage)$/i,
  /pool[._](in[._]use|active|used|busy)(_connections)?$/i,
  /connections?[._](active|in[._]use|used|busy)$/i,
];
export const POOL_MAX_METRICS = [
  /^db[._]client[._]connections?[._]max$/i,
  /pool[._](size|max)(_connections)?$/i,
  /connections?[._]max$/i,
];
export const POOL_PENDING_METRICS = [/^db[._]client[._]connections?[._]pending[._]requests$/i, /(pool|connections?)[._](pending|waiting)(_requests|_threads)?$/i];
const POOL_LABELS = ['db.client.connection.pool.name', 'db.client.connections.pool.name', 'pool.name', 'pool_name', 'pool', 'name'];
const STATE_LABELS = ['db.client.connection.state', 'db.client.connections.state', 'state'];

export const matchesAny = (name: string, patterns: readonly RegExp[]): boolean => patterns.some((re) => re.test(name));

export interface PoolSaturation {
  pool: string;
  usedPeak: number | null;
  usedMean: number | null;
  usedLast: number | null;
  size: number | null;
  /** usedPeak / size. */
  peakUtilisation: number | null;
  meanUtilisation: number | null;
  pendingPeak: number | null;
  saturated: boolean;
}

/**
 * `used` may hold state-labelled series (only state="used", or unlabelled ones, count as in use).
 * Pools are matched across the metrics by their pool label ('' when a metric has none).
 */
export function poolSaturation(used: readonly StoredSeries[], max: readonly StoredSeries[], pending: readonly StoredSeries[], window: { startNs: bigint; endNs: bigint }): PoolSaturation[] {
  const inUse = used.filter((s) => {
    const state = labelOf(s.labels, STATE_LABELS);
    return state === undefined || state === 'used';
  });
  const per = (series: readonly StoredSeries[], aggregation: 'max' | 'avg' | 'last'): Map<string, number | null> => new Map(evaluateMetricQuery({
    select: [{ metric: 'x', matchers: [] }], aggregation, groupBy: ['pool'], startNs: window.startNs, endNs: window.endNs, maxSeries: 100_000, maxPoints: 1,
  }, relabel(series, { pool: POOL_LABELS })).groups.map((g) => [g.labels['pool'] ?? '', g.value]));
  // Over several series of one pool (one per process) peak and mean are per series: each process has its own pool.
  const peak = per(inUse, 'max');
  const mean = per(inUse, 'avg');
  const last = per(inUse, 'last');
  const size = per(max, 'last');
  const pend = per(pending, 'max');
  const pools = [...(peak.size > 0 ? peak : size).keys()].sort();
  const only = <T>(m: Map<string, T>): T | null => (m.size === 1 ? ([...m.values()][0] ?? null) : null);
  return pools.map((pool) => {
    const p = peak.get(pool) ?? null;
    const m = mean.get(pool) ?? null;
    // A metric without a pool label (one pool per process) applies to whichever pool the others name.
    const sz = size.get(pool) ?? only(size);
    const pendingPeak = pend.get(pool) ?? only(pend);
    const peakUtilisation = p !== null && sz ? round(p / sz, 4) : null;
    return {
      pool, usedPeak: p, usedMean: m === null ? null : round(m, 3), usedLast: last.get(pool) ?? null, size: sz,
      peakUtilisation, meanUtilisation: m !== null && sz ? round(m / sz, 4) : null, pendingPeak,
      saturated: (peakUtilisation !== null && peakUtilisation >= 0.9) || (pendingPeak !== null && pendingPeak > 0),
    };
  }).sort((a, b) => (b.peakUtilisation ?? -1) - (a.peakUtilisation ?? -1) || a.pool.localeCompare(b.pool));
}
