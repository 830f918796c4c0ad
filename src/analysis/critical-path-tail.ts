/**
 * AGG-v1 tail contrast (ANALYSIS.md §2.3): BubbleUp applied to the critical path. The same operation
 * table for the traces at or above a root-latency quantile, against all traces; operations whose share
 * grows in the tail are the tail bottlenecks.
 */
import { compareBigint, nearestRank, nsToMs, ratio } from './time.js';

export interface TraceContribution {
  traceId: string;
  rootNs: bigint;
  /** (operation id, critical ns) per operation on this trace's path. */
  ops: Map<number, bigint>;
}

export interface TailContrastRow {
  service: string;
  name: string;
  tailCriticalMs: number;
  tailShare: number;
  allShare: number;
  /** tailShare − allShare: positive means the operation grows in the slow tail. */
  shareDelta: number;
  tailTracesOnPath: number;
}

export interface TailContrast {
  quantile: number;
  thresholdNs: bigint;
  thresholdMs: number;
  traceCount: number;
  /** By shareDelta desc, then tail critical time desc, service, name. */
  rows: TailContrastRow[];
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** BubbleUp applied to the critical path: which operations take a bigger share in the slow tail. */
export function tailContrastOf(
  contributions: TraceContribution[],
  durationsAsc: bigint[],
  opKeys: { service: string; name: string }[],
  totalRootNs: bigint,
  quantile: number,
): TailContrast | null {
  const threshold = nearestRank(durationsAsc, quantile);
  if (threshold === null) return null;
  const tail = contributions.filter((t) => t.rootNs >= threshold);
  const tailRootNs = tail.reduce((a, t) => a + t.rootNs, 0n);
  const sums = new Map<number, { ns: bigint; traces: number }>();
  for (const t of tail) {
    for (const [op, ns] of t.ops) {
      const s = sums.get(op) ?? { ns: 0n, traces: 0 };
      s.ns += ns;
      s.traces++;
      sums.set(op, s);
    }
  }
  const allNs = opKeys.map(() => 0n);
  for (const t of contributions) for (const [op, ns] of t.ops) allNs[op] = allNs[op]! + ns;
  const rows = opKeys.flatMap((key, op): (TailContrastRow & { ns: bigint })[] => {
    const all = allNs[op]!;
    if (all === 0n) return [];
    const s = sums.get(op) ?? { ns: 0n, traces: 0 };
    const tailShare = ratio(s.ns, tailRootNs);
    const aShare = ratio(all, totalRootNs);
    return [
      {
        service: key.service,
        name: key.name,
        ns: s.ns,
        tailCriticalMs: nsToMs(s.ns),
        tailShare,
        allShare: aShare,
        shareDelta: Math.round((tailShare - aShare) * 1e6) / 1e6,
        tailTracesOnPath: s.traces,
      },
    ];
  });
  rows.sort((a, b) => b.shareDelta - a.shareDelta || compareBigint(b.ns, a.ns) || cmpStr(a.service, b.service) || cmpStr(a.name, b.name));
  return {
    quantile,
    thresholdNs: threshold,
    thresholdMs: nsToMs(threshold),
    traceCount: tail.length,
    rows: rows.map(({ ns: _ns, ...row }) => row),
  };
}
