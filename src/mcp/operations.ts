import { SPAN_KIND_NAMES, SpanKind } from '../model/span.js';
import type { LatencyDistribution } from '../analysis/latency.js';
import { msFromUs, round } from './result.js';

/** One RED row as list_operations / list_services / latency_stats show it. */
export interface RedRow {
  count: number;
  rps: number;
  errors: number;
  error_rate: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
  total_ms: number;
}

export const kindName = (kind: number): string => SPAN_KIND_NAMES[kind] ?? 'unspecified';
export const kindNumber = (name: string): number => SPAN_KIND_NAMES.indexOf(name as (typeof SPAN_KIND_NAMES)[number]);
export const ENTRY_KINDS: ReadonlySet<number> = new Set([SpanKind.SERVER, SpanKind.CONSUMER]);

export function redRow(latency: LatencyDistribution, errors: number, windowMs: number): RedRow {
  const n = latency.count;
  const at = (p: number): number | null => (n > 0 ? msFromUs(latency.valueAtPercentile(p)) : null);
  return {
    count: n,
    rps: round(n / (windowMs / 1000), 4),
    errors,
    error_rate: n > 0 ? round(errors / n, 4) : 0,
    p50_ms: at(50),
    p95_ms: at(95),
    p99_ms: at(99),
    max_ms: n > 0 ? msFromUs(latency.maxUs) : null,
    total_ms: Math.round((latency.meanUs * n) / 1000),
  };
}

export type RedSort = 'p99' | 'p95' | 'rps' | 'errors' | 'error_rate' | 'total_time' | 'count' | 'name';

/** Descending by the chosen column (nulls last), then by name for a stable order. */
export function sortRows<T extends RedRow>(rows: T[], by: RedSort, name: (row: T) => string): T[] {
  const key = (r: T): number => {
    switch (by) {
      case 'p99': return r.p99_ms ?? -1;
      case 'p95': return r.p95_ms ?? -1;
      case 'rps': return r.rps;
      case 'errors': return r.errors;
      case 'error_rate': return r.error_rate;
      case 'total_time': return r.total_ms;
      case 'count': return r.count;
      case 'name': return 0;
    }
  };
  return rows.sort((a, b) => key(b) - key(a) || name(a).localeCompare(name(b)));
}
