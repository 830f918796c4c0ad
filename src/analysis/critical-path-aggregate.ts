/**
 * AGG-v1 aggregated critical path and bottleneck ranking (ANALYSIS.md §2.3), CRISP-style.
 *
 * Per trace the primary root's CP-v1 path is taken and each span's exclusive critical time is summed
 * into (service, span name) rows and into a calling-context trie keyed by the root→span chain of
 * operations. Ranking by critical time (not duration or self time) is the point: a slow span that always
 * runs beside a slower one contributes nothing to latency. The trie stores (parent path id, operation id)
 * pairs, so deep traces cost O(n) and path strings are built only for the rows returned.
 */
import type { TraceSpan } from '../model/trace.js';
import { CpState } from './critical-path-clip.js';
import { tailContrastOf, type TailContrast, type TraceContribution } from './critical-path-tail.js';
import { criticalPathsOfForest } from './critical-path.js';
import { compareBigint, nearestRank, nsToMs, ratio } from './time.js';
import { buildTraceForest } from './trace-tree.js';

export type { TailContrast, TailContrastRow } from './critical-path-tail.js';

export interface AggregateOptions {
  /** Root-latency quantile that defines the slow tail for `tailContrast` (default 0.9). */
  tailQuantile?: number;
  /** Traces analysed at most; above it a deterministic sample by trace-id hash is taken (default 10,000). */
  maxTraces?: number;
  /** Keep only traces whose primary root has this service / span name. */
  rootService?: string;
  rootName?: string;
  /** Keep only traces whose primary root ends in `(startNs, endNs]` (window membership by end time). */
  rootEndWindow?: { startNs: bigint; endNs: bigint };
  /** Latency band: keep roots at least this long, and/or at or above this quantile of the matched roots. */
  minRootDurationNs?: bigint;
  minRootQuantile?: number;
  /** Call-path rows returned (default 50). Operation rows are all returned. */
  callPathLimit?: number;
  /** Longer call paths are shown as their first 4 and last operations around an elision (default 16). */
  maxPathSegments?: number;
  /** Row naming, e.g. `${method} ${http.route}` for high-cardinality span names (default span.name). */
  nameOf?: (span: TraceSpan) => string;
}

export interface CpOperationRow {
  service: string;
  name: string;
  criticalNs: bigint;
  criticalMs: number;
  /** criticalNs / Σ primary-root durations. */
  share: number;
  tracesOnPath: number;
  spansOnPath: number;
  /** criticalNs / traceCount (traces where it is absent count as 0). */
  meanPerTraceMs: number;
  /** Per-trace critical time distribution over all analysed traces (absent = 0), nearest rank. */
  p50PerTraceMs: number;
  p90PerTraceMs: number;
}

export interface CpCallPathRow {
  /** `service:name` of each operation from the primary root down, joined with " > ". */
  path: string;
  depth: number;
  service: string;
  name: string;
  criticalNs: bigint;
  criticalMs: number;
  share: number;
  tracesOnPath: number;
  spansOnPath: number;
  /** The trace where this path carried the most critical time (CRISP's worst-case exemplar). */
  worstTraceId: string;
  worstTraceCriticalMs: number;
}

export interface RootLatency {
  count: number;
  minMs: number | null;
  maxMs: number | null;
  meanMs: number | null;
  p50Ms: number | null;
  p90Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
}

export interface CriticalPathAggregate {
  /** Traces given, after the root filter, and actually analysed (≤ maxTraces). */
  inputTraceCount: number;
  matchedTraceCount: number;
  traceCount: number;
  sampled: boolean;
  totalRootNs: bigint;
  totalRootMs: number;
  rootLatency: RootLatency;
  /** By criticalNs desc, then service, name. */
  operations: CpOperationRow[];
  callPaths: CpCallPathRow[];
  callPathCount: number;
  tailContrast: TailContrast | null;
  /** Traces whose forest needed repairs (orphans, cycles, duplicates, negative durations). */
  tracesWithAnomalies: number;
}

interface TrieNode {
  parent: number;
  op: number;
  criticalNs: bigint;
  spansOnPath: number;
  tracesOnPath: number;
  worstNs: bigint;
  worstTraceId: string;
  /** Number of operations from the root to here (root = 1). */
  depth: number;
  /** This trace's critical time on the path while the trace is being added (0 between traces). */
  traceNs: bigint;
}

/** FNV-1a 32-bit: a stable, platform-independent sampling key. */
function hashTraceId(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Nearest rank over `total` values of which `present` (ascending) are non-zero and the rest are 0. */
function rankWithZeros(presentAsc: bigint[], total: number, q: number): bigint {
  if (total === 0) return 0n;
  const rank = Math.min(total, Math.max(1, Math.ceil(q * total - 1e-9)));
  const zeros = total - presentAsc.length;
  return rank <= zeros ? 0n : presentAsc[rank - zeros - 1]!;
}

export function aggregateCriticalPaths(traces: readonly (readonly TraceSpan[])[], options: AggregateOptions = {}): CriticalPathAggregate {
  const tailQuantile = options.tailQuantile ?? 0.9;
  const maxTraces = options.maxTraces ?? 10_000;
  const nameOf = options.nameOf ?? ((s: TraceSpan) => s.name);

  // Forests first: the root filter needs the primary root. Process in trace-id order so the result
  // does not depend on the order the store returned traces in.
  let forests = traces
    .filter((t) => t.length > 0)
    .map((t) => buildTraceForest(t))
    .filter((f) => {
      const root = f.nodes[f.primaryRoot];
      if (root === undefined) return false;
      const w = options.rootEndWindow;
      return (
        (options.rootService === undefined || root.span.service === options.rootService) &&
        (options.rootName === undefined || nameOf(root.span) === options.rootName) &&
        (w === undefined || (root.endNs > w.startNs && root.endNs <= w.endNs)) &&
        (options.minRootDurationNs === undefined || root.endNs - root.startNs >= options.minRootDurationNs)
      );
    });
  if (options.minRootQuantile !== undefined) {
    const rootNs = (f: (typeof forests)[number]): bigint => f.nodes[f.primaryRoot]!.endNs - f.nodes[f.primaryRoot]!.startNs;
    const cut = nearestRank(forests.map(rootNs).sort(compareBigint), options.minRootQuantile);
    if (cut !== null) forests = forests.filter((f) => rootNs(f) >= cut);
  }
  const matchedTraceCount = forests.length;
  let chosen = forests.map((f) => ({ f, h: hashTraceId(f.traceId) }));
  const sampled = chosen.length > maxTraces;
  if (sampled) chosen = chosen.sort((a, b) => a.h - b.h || cmpStr(a.f.traceId, b.f.traceId)).slice(0, maxTraces);
  chosen.sort((a, b) => cmpStr(a.f.traceId, b.f.traceId) || a.h - b.h);

  const opIds = new Map<string, number>();
  const opKeys: { service: string; name: string }[] = [];
  // Trie children per parent path id (+1, so the root level is slot 0): operation id → path id.
  const trieChildren: Map<number, number>[] = [new Map()];
  const trie: TrieNode[] = [];
  const contributions: TraceContribution[] = [];
  const opSpans: number[] = [];
  let tracesWithAnomalies = 0;

  for (const { f: forest } of chosen) {
    if (Object.values(forest.anomalies).some((l: string[]) => l.length > 0)) tracesWithAnomalies++;
    const cp = criticalPathsOfForest(forest);
    const rootIdx = forest.primaryRoot;
    const rootNode = forest.nodes[rootIdx]!;
    // Every node belongs to one root's tree, so within the primary tree criticalNs is the primary path's.
    const critical = cp.criticalNs;
    const ops = new Map<number, bigint>();
    const touched: number[] = [];
    const pathOf = new Int32Array(forest.nodes.length);
    // Top-down over the primary root's kept tree: a path id for every span whose ancestors are on it.
    const stack = [rootIdx];
    while (stack.length > 0) {
      const i = stack.pop()!;
      const node = forest.nodes[i]!;
      const name = nameOf(node.span);
      const opKey = `${node.span.service}\u0000${name}`;
      let op = opIds.get(opKey);
      if (op === undefined) {
        op = opKeys.length;
        opIds.set(opKey, op);
        opKeys.push({ service: node.span.service, name });
        opSpans.push(0);
      }
      const parentPath = i === rootIdx ? -1 : pathOf[node.parent]!;
      const siblings = trieChildren[parentPath + 1]!;
      let path = siblings.get(op);
      if (path === undefined) {
        path = trie.length;
        siblings.set(op, path);
        trie.push({ parent: parentPath, depth: parentPath === -1 ? 1 : trie[parentPath]!.depth + 1, op, criticalNs: 0n, spansOnPath: 0, tracesOnPath: 0, worstNs: -1n, worstTraceId: '', traceNs: 0n });
        trieChildren.push(new Map());
      }
      pathOf[i] = path;
      const c = critical[i]!;
      if (c > 0n) {
        ops.set(op, (ops.get(op) ?? 0n) + c);
        opSpans[op]!++;
        const t = trie[path]!;
        if (t.traceNs === 0n) touched.push(path);
        t.traceNs += c;
        t.spansOnPath++;
      }
      for (const k of node.children) if (cp.clip.state[k] === CpState.KEPT) stack.push(k);
    }
    for (const path of touched) {
      const t = trie[path]!;
      t.criticalNs += t.traceNs;
      t.tracesOnPath++;
      if (t.traceNs > t.worstNs) {
        t.worstNs = t.traceNs;
        t.worstTraceId = forest.traceId;
      }
      t.traceNs = 0n;
    }
    contributions.push({ traceId: forest.traceId, rootNs: rootNode.endNs - rootNode.startNs, ops });
  }

  const traceCount = contributions.length;
  const totalRootNs = contributions.reduce((a, t) => a + t.rootNs, 0n);
  const operations = operationRows(contributions, opKeys, opSpans, totalRootNs, traceCount);

  const pathRows = trie.map((t, id) => ({ t, id })).filter(({ t }) => t.criticalNs > 0n);
  pathRows.sort((a, b) => compareBigint(b.t.criticalNs, a.t.criticalNs) || a.id - b.id);
  const callPaths = pathRows.slice(0, options.callPathLimit ?? 50).map(({ t, id }): CpCallPathRow => {
    const op = opKeys[t.op]!;
    const { path, depth } = pathText(trie, opKeys, id, options.maxPathSegments ?? 16);
    return {
      path,
      depth,
      service: op.service,
      name: op.name,
      criticalNs: t.criticalNs,
      criticalMs: nsToMs(t.criticalNs),
      share: ratio(t.criticalNs, totalRootNs),
      tracesOnPath: t.tracesOnPath,
      spansOnPath: t.spansOnPath,
      worstTraceId: t.worstTraceId,
      worstTraceCriticalMs: nsToMs(t.worstNs),
    };
  });

  const durations = contributions.map((t) => t.rootNs).sort(compareBigint);
  const at = (q: number): number | null => {
    const v = nearestRank(durations, q);
    return v === null ? null : nsToMs(v);
  };
  const rootLatency: RootLatency = {
    count: traceCount,
    minMs: at(0),
    maxMs: at(1),
    meanMs: traceCount === 0 ? null : nsToMs(totalRootNs / BigInt(traceCount)),
    p50Ms: at(0.5),
    p90Ms: at(0.9),
    p95Ms: at(0.95),
    p99Ms: at(0.99),
  };

  return {
    inputTraceCount: traces.length,
    matchedTraceCount,
    traceCount,
    sampled,
    totalRootNs,
    totalRootMs: nsToMs(totalRootNs),
    rootLatency,
    operations,
    callPaths,
    callPathCount: pathRows.length,
    tailContrast: tailContrastOf(contributions, durations, opKeys, totalRootNs, tailQuantile),
    tracesWithAnomalies,
  };
}

/**
 * `service:name > …` for a trie node. Deep paths (thousands of levels exist) keep their first 4 and
 * last operations around "… (n more) …", so a row stays readable and bounded.
 */
function pathText(trie: TrieNode[], opKeys: { service: string; name: string }[], id: number, max: number): { path: string; depth: number } {
  const label = (p: number): string => `${opKeys[trie[p]!.op]!.service}:${opKeys[trie[p]!.op]!.name}`;
  const depth = trie[id]!.depth;
  const keepTail = depth <= max ? depth : max - 4;
  const tail: string[] = [];
  const head: string[] = [];
  // One walk up, remembering only the labels shown (no per-level arrays on 20,000-level paths).
  for (let p = id; p !== -1; p = trie[p]!.parent) {
    if (tail.length < keepTail) tail.push(label(p));
    else if (trie[p]!.depth <= 4) head.push(label(p));
  }
  const parts = [...head.reverse()];
  if (depth > max) parts.push(`… (${depth - max} more) …`);
  parts.push(...tail.reverse());
  return { path: parts.join(' > '), depth };
}

function operationRows(
  contributions: TraceContribution[],
  opKeys: { service: string; name: string }[],
  opSpans: number[],
  totalRootNs: bigint,
  traceCount: number,
): CpOperationRow[] {
  const perTrace: bigint[][] = opKeys.map(() => []);
  for (const t of contributions) for (const [op, ns] of t.ops) perTrace[op]!.push(ns);
  const rows: CpOperationRow[] = [];
  opKeys.forEach((key, op) => {
    const values = perTrace[op]!.sort(compareBigint);
    if (values.length === 0) return;
    const criticalNs = values.reduce((a, v) => a + v, 0n);
    rows.push({
      service: key.service,
      name: key.name,
      criticalNs,
      criticalMs: nsToMs(criticalNs),
      share: ratio(criticalNs, totalRootNs),
      tracesOnPath: values.length,
      spansOnPath: opSpans[op]!,
      meanPerTraceMs: nsToMs(criticalNs / BigInt(traceCount)),
      p50PerTraceMs: nsToMs(rankWithZeros(values, traceCount, 0.5)),
      p90PerTraceMs: nsToMs(rankWithZeros(values, traceCount, 0.9)),
    });
  });
  rows.sort((a, b) => compareBigint(b.criticalNs, a.criticalNs) || cmpStr(a.service, b.service) || cmpStr(a.name, b.name));
  return rows;
}

export interface BottleneckOptions {
  /** Minimum tracesOnPath / traceCount for a row to count as a bottleneck (default 0.2). */
  minTraceFraction?: number;
  limit?: number;
}

export interface Bottleneck extends CpOperationRow {
  rank: number;
  traceFraction: number;
  /** Share delta in the slow tail, when the aggregate has a tail contrast. */
  tailShareDelta: number | null;
}

/**
 * find_bottlenecks: AGG-v1 operation rows present on at least `minTraceFraction` of the traces'
 * critical paths, ranked by critical time (rare outliers are left to the tail contrast).
 */
export function findBottlenecks(aggregate: CriticalPathAggregate, options: BottleneckOptions = {}): Bottleneck[] {
  const min = options.minTraceFraction ?? 0.2;
  const n = aggregate.traceCount;
  const tail = new Map((aggregate.tailContrast?.rows ?? []).map((r) => [`${r.service}\u0000${r.name}`, r.shareDelta]));
  return aggregate.operations
    .filter((r) => n > 0 && r.tracesOnPath / n >= min)
    .slice(0, options.limit ?? 10)
    .map((r, i) => ({ ...r, rank: i + 1, traceFraction: Math.round((r.tracesOnPath / n) * 1e6) / 1e6, tailShareDelta: tail.get(`${r.service}\u0000${r.name}`) ?? null }));
}
