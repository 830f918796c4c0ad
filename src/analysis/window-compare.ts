/**
 * REG-v1 window comparison (ANALYSIS.md §6.3) over many operations at once: per operation the two
 * sides' percentiles and deltas, Mann–Whitney on tie groups (HDR buckets or exact durations) with
 * Cliff's delta, Benjamini–Hochberg across the operations compared, and a verdict that needs both
 * statistical and practical significance. Then the structural side (CRISP applied to two windows):
 * which operations' critical time grew the most per request, and which downstream operation's share of
 * the critical path moved most.
 */
import type { CriticalPathAggregate } from './critical-path-aggregate.js';
import { benjaminiHochberg, mannWhitney, percentileOf, totalOf, type MannWhitney, type TieGroups } from './rank-tests.js';

export interface SideOperation {
  service: string;
  operation: string;
  kind: number;
  groups: TieGroups;
  errors: number;
}

export interface SideStats {
  count: number;
  errors: number;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

export type Verdict = 'regression' | 'improvement' | 'no_change' | 'insufficient_data';

export interface OperationComparison {
  service: string;
  operation: string;
  kind: number;
  baseline: SideStats;
  current: SideStats;
  p50DeltaMs: number | null;
  p95DeltaMs: number | null;
  p99DeltaMs: number | null;
  p50Rel: number | null;
  p95Rel: number | null;
  test: MannWhitney | null;
  /** BH-adjusted two-sided p over the operations compared. */
  qValue: number | null;
  verdict: Verdict;
  /** Percentiles whose delta rests on too few samples (p95 < 100, p99 < 500 on either side). */
  lowConfidence: string[];
}

export interface CompareOptions {
  /** Fewer spans on either side: insufficient_data (default 10). */
  minSamples?: number;
  /** One-sided p below which a shift counts (default 0.01) ... */
  alpha?: number;
  /** ... if its BH q-value is at most this (default 0.05) ... */
  fdr?: number;
  /** ... and p50 or p95 moved by at least this fraction (default 0.10). */
  minRelativeChange?: number;
}

const keyOf = (o: { service: string; operation: string; kind: number }): string => `${o.service}\u0000${o.operation}\u0000${o.kind}`;
const ms = (us: number | null): number | null => (us === null ? null : Math.round(us) / 1000);
const rel = (a: number | null, b: number | null): number | null => (a === null || b === null || a === 0 ? null : (b - a) / a);
const sub = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : Math.round((b - a) * 1000) / 1000);

function statsOf(side: SideOperation | undefined): { stats: SideStats; groups: TieGroups } {
  const groups = side?.groups ?? { upperUs: [], counts: [] };
  return {
    groups,
    stats: { count: totalOf(groups), errors: side?.errors ?? 0, p50Ms: ms(percentileOf(groups, 50)), p95Ms: ms(percentileOf(groups, 95)), p99Ms: ms(percentileOf(groups, 99)) },
  };
}

/**
 * Rows ordered regressions first, then improvements, then the rest; within each by |Cliff's delta|, then
 * by relative p95 shift (an operation slowed 5× outranks the caller it made 2.6× slower), then absolute.
 */
export function compareOperations(baseline: readonly SideOperation[], current: readonly SideOperation[], options: CompareOptions = {}): OperationComparison[] {
  const minSamples = options.minSamples ?? 10;
  const alpha = options.alpha ?? 0.01;
  const fdr = options.fdr ?? 0.05;
  const minRel = options.minRelativeChange ?? 0.1;
  const base = new Map(baseline.map((o) => [keyOf(o), o]));
  const cur = new Map(current.map((o) => [keyOf(o), o]));
  const keys = [...new Set([...base.keys(), ...cur.keys()])].sort();
  const rows: OperationComparison[] = keys.map((key) => {
    const a = statsOf(base.get(key));
    const b = statsOf(cur.get(key));
    const named = (base.get(key) ?? cur.get(key))!;
    const lowConfidence: string[] = [];
    const n = Math.min(a.stats.count, b.stats.count);
    if (n < 100) lowConfidence.push('p95');
    if (n < 500) lowConfidence.push('p99');
    return {
      service: named.service, operation: named.operation, kind: named.kind, baseline: a.stats, current: b.stats,
      p50DeltaMs: sub(a.stats.p50Ms, b.stats.p50Ms), p95DeltaMs: sub(a.stats.p95Ms, b.stats.p95Ms), p99DeltaMs: sub(a.stats.p99Ms, b.stats.p99Ms),
      p50Rel: rel(a.stats.p50Ms, b.stats.p50Ms), p95Rel: rel(a.stats.p95Ms, b.stats.p95Ms),
      test: n >= 1 ? mannWhitney(a.groups, b.groups) : null, qValue: null, verdict: 'insufficient_data', lowConfidence,
    };
  });
  const tested = rows.filter((r) => r.test !== null);
  const q = benjaminiHochberg(tested.map((r) => r.test!.pTwoSided));
  tested.forEach((r, i) => (r.qValue = q[i]!));
  for (const r of rows) {
    if (r.test === null || r.qValue === null || Math.min(r.baseline.count, r.current.count) < minSamples) continue;
    const shift = Math.max(r.p50Rel ?? 0, r.p95Rel ?? 0);
    const drop = Math.min(r.p50Rel ?? 0, r.p95Rel ?? 0);
    const pLess = r.test.sigma > 0 ? 1 - r.test.pGreater : 1;
    if (r.qValue <= fdr && r.test.pGreater < alpha && shift >= minRel) r.verdict = 'regression';
    else if (r.qValue <= fdr && pLess < alpha && drop <= -minRel) r.verdict = 'improvement';
    else r.verdict = 'no_change';
  }
  const order: Record<Verdict, number> = { regression: 0, improvement: 1, no_change: 2, insufficient_data: 3 };
  return rows.sort(
    (x, y) =>
      order[x.verdict] - order[y.verdict] ||
      Math.abs(y.test?.cliffsDelta ?? 0) - Math.abs(x.test?.cliffsDelta ?? 0) ||
      Math.abs(y.p95Rel ?? 0) - Math.abs(x.p95Rel ?? 0) ||
      Math.abs(y.p95DeltaMs ?? 0) - Math.abs(x.p95DeltaMs ?? 0) ||
      keyOf(x).localeCompare(keyOf(y)),
  );
}

export interface Contributor {
  service: string;
  operation: string;
  /** Mean critical time per root request on each side (absent = 0). */
  baselineMs: number;
  currentMs: number;
  deltaMs: number;
  /** deltaMs / the change of the mean root latency (null when the root did not change). */
  fractionOfRootDelta: number | null;
  baselineShare: number;
  currentShare: number;
  shareDelta: number;
  /** The current-side trace where this operation carried the most critical time. */
  exemplarTraceId: string | null;
}

export interface ContributorAnalysis {
  rootDeltaMs: number | null;
  /** By deltaMs desc (the operations whose growth explains the root's slowdown first). */
  contributors: Contributor[];
  /** The non-root operation whose critical-path share moved most (either way). */
  largestShareShift: Contributor | null;
}

/** Diffs two AGG-v1 aggregates of the same root operation (baseline vs current). */
export function contributorsOf(baseline: CriticalPathAggregate, current: CriticalPathAggregate, root: { service: string; operation: string }): ContributorAnalysis {
  const rootDeltaMs = baseline.rootLatency.meanMs !== null && current.rootLatency.meanMs !== null ? current.rootLatency.meanMs - baseline.rootLatency.meanMs : null;
  const rowsA = new Map(baseline.operations.map((r) => [`${r.service}\u0000${r.name}`, r]));
  const rowsB = new Map(current.operations.map((r) => [`${r.service}\u0000${r.name}`, r]));
  const exemplar = new Map<string, { ns: bigint; id: string }>();
  for (const p of current.callPaths) {
    const k = `${p.service}\u0000${p.name}`;
    const seen = exemplar.get(k);
    if (!seen || p.criticalNs > seen.ns) exemplar.set(k, { ns: p.criticalNs, id: p.worstTraceId });
  }
  const perTrace = (agg: CriticalPathAggregate, ns: bigint | undefined): number => (agg.traceCount === 0 || ns === undefined ? 0 : Number(ns) / 1e6 / agg.traceCount);
  const contributors: Contributor[] = [...new Set([...rowsA.keys(), ...rowsB.keys()])].map((k) => {
    const a = rowsA.get(k);
    const b = rowsB.get(k);
    const [service, operation] = k.split('\u0000') as [string, string];
    const baselineMs = perTrace(baseline, a?.criticalNs);
    const currentMs = perTrace(current, b?.criticalNs);
    const deltaMs = currentMs - baselineMs;
    const baselineShare = a?.share ?? 0;
    const currentShare = b?.share ?? 0;
    return {
      service, operation, baselineMs: round3(baselineMs), currentMs: round3(currentMs), deltaMs: round3(deltaMs),
      fractionOfRootDelta: rootDeltaMs === null || Math.abs(rootDeltaMs) < 1e-9 ? null : Math.round((deltaMs / rootDeltaMs) * 1e4) / 1e4,
      baselineShare, currentShare, shareDelta: Math.round((currentShare - baselineShare) * 1e6) / 1e6,
      exemplarTraceId: exemplar.get(k)?.id ?? null,
    };
  });
  contributors.sort((x, y) => y.deltaMs - x.deltaMs || x.service.localeCompare(y.service) || x.operation.localeCompare(y.operation));
  const downstream = contributors.filter((c) => !(c.service === root.service && c.operation === root.operation));
  const largestShareShift = downstream.reduce<Contributor | null>((best, c) => (best === null || Math.abs(c.shareDelta) > Math.abs(best.shareDelta) ? c : best), null);
  return { rootDeltaMs: rootDeltaMs === null ? null : round3(rootDeltaMs), contributors, largestShareShift };
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** Sums tie groups (e.g. the minutes of a window, or error and non-error spans). */
export function mergeTieGroups(parts: readonly TieGroups[]): TieGroups {
  const acc = new Map<number, number>();
  for (const p of parts) for (let i = 0; i < p.upperUs.length; i++) acc.set(p.upperUs[i]!, (acc.get(p.upperUs[i]!) ?? 0) + p.counts[i]!);
  const upperUs = [...acc.keys()].sort((a, b) => a - b);
  return { upperUs, counts: upperUs.map((v) => acc.get(v)!) };
}
