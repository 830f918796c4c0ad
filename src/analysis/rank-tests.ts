/**
 * Two-sample statistics on tie groups (ANALYSIS.md §6.1): Mann–Whitney U with the tie-corrected normal
 * approximation, Cliff's delta, Benjamini–Hochberg, nearest-rank percentiles. A distribution is given as
 * ascending distinct values with counts, so an HDR histogram (every bucket one tie group) costs
 * O(#buckets) and exact samples are the special case of count-1 groups.
 */

/** Ascending distinct values (µs for latency) with their counts. */
export interface TieGroups {
  upperUs: readonly number[];
  counts: readonly number[];
}

export interface MannWhitney {
  /** U of the candidate: #(b > a) + ½ #(b = a). */
  uCandidate: number;
  uBaseline: number;
  mean: number;
  sigma: number;
  /** Continuity-corrected, two-sided: (|U_B − μ| − ½)/σ. */
  zTwoSided: number;
  pTwoSided: number;
  /** One-sided "candidate slower": (U_B − μ − ½)/σ. */
  zGreater: number;
  pGreater: number;
  /** P(random candidate > random baseline) + ½ P(tie) = U_B/(n_A n_B). */
  auc: number;
  /** Cliff's delta = rank-biserial correlation = 2·AUC − 1, in [−1, 1]. */
  cliffsDelta: number;
}

export function totalOf(g: TieGroups): number {
  let n = 0;
  for (const c of g.counts) n += c;
  return n;
}

/** Tie groups of exact values (e.g. per-span durations from a trace sample). */
export function tieGroupsOf(values: readonly number[]): TieGroups {
  const sorted = [...values].sort((a, b) => a - b);
  const upperUs: number[] = [];
  const counts: number[] = [];
  for (const v of sorted) {
    if (upperUs.length > 0 && upperUs[upperUs.length - 1] === v) counts[counts.length - 1]! += 1;
    else {
      upperUs.push(v);
      counts.push(1);
    }
  }
  return { upperUs, counts };
}

/** Nearest-rank percentile (0 < p ≤ 100) of tie groups; null when empty. */
export function percentileOf(g: TieGroups, p: number): number | null {
  const n = totalOf(g);
  if (n === 0) return null;
  const wanted = Math.max(Math.ceil((p / 100) * n - 1e-9), 1);
  let running = 0;
  for (let i = 0; i < g.counts.length; i++) {
    running += g.counts[i]!;
    if (running >= wanted) return g.upperUs[i]!;
  }
  return g.upperUs[g.upperUs.length - 1] ?? null;
}

/**
 * Mann–Whitney U of candidate B against baseline A, both as tie groups. Mid-ranks per pooled tie group,
 * σ² = (n_A n_B / 12)·[(N+1) − Σ(t³ − t)/(N(N−1))]. Null when either side is empty.
 */
export function mannWhitney(baseline: TieGroups, candidate: TieGroups): MannWhitney | null {
  const nA = totalOf(baseline);
  const nB = totalOf(candidate);
  if (nA === 0 || nB === 0) return null;
  const n = nA + nB;
  let i = 0;
  let j = 0;
  let below = 0;
  let rankSumB = 0;
  let tieTerm = 0;
  while (i < baseline.upperUs.length || j < candidate.upperUs.length) {
    const va = i < baseline.upperUs.length ? baseline.upperUs[i]! : Infinity;
    const vb = j < candidate.upperUs.length ? candidate.upperUs[j]! : Infinity;
    const v = Math.min(va, vb);
    const a = va === v ? baseline.counts[i++]! : 0;
    const b = vb === v ? candidate.counts[j++]! : 0;
    const t = a + b;
    const midRank = below + (t + 1) / 2;
    rankSumB += b * midRank;
    tieTerm += t * t * t - t;
    below += t;
  }
  const uCandidate = rankSumB - (nB * (nB + 1)) / 2;
  const mean = (nA * nB) / 2;
  const variance = ((nA * nB) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  const sigma = Math.sqrt(Math.max(variance, 0));
  const zTwoSided = sigma > 0 ? Math.max(Math.abs(uCandidate - mean) - 0.5, 0) / sigma : 0;
  const zGreater = sigma > 0 ? (uCandidate - mean - 0.5) / sigma : 0;
  const auc = uCandidate / (nA * nB);
  return {
    uCandidate,
    uBaseline: nA * nB - uCandidate,
    mean,
    sigma,
    zTwoSided,
    pTwoSided: sigma > 0 ? Math.min(1, erfc(zTwoSided / Math.SQRT2)) : 1,
    zGreater,
    pGreater: sigma > 0 ? erfc(zGreater / Math.SQRT2) / 2 : 1,
    auc,
    cliffsDelta: 2 * auc - 1,
  };
}

/**
 * Benjamini–Hochberg adjusted p-values (q-values) in input order: q_(i) = min_{j ≥ i} m·p_(j)/j, capped
 * at 1. A key is a discovery at FDR level q when its adjusted value is ≤ q.
 */
export function benjaminiHochberg(pValues: readonly number[]): number[] {
  const m = pValues.length;
  const order = pValues.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p || a.i - b.i);
  const adjusted = new Array<number>(m);
  let running = 1;
  for (let k = m - 1; k >= 0; k--) {
    const { p, i } = order[k]!;
    running = Math.min(running, (p * m) / (k + 1));
    adjusted[i] = running;
  }
  return adjusted;
}

/** Complementary error function (Numerical Recipes' Chebyshev fit erfcc; relative error < 1.2e-7 everywhere). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
