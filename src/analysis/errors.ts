/**
 * ERR-v1 root cause of one trace and error grouping across traces (ANALYSIS.md §7.2).
 *
 * A root-cause candidate is an effective error with no effective error anywhere below it (descendants,
 * not just children: an error under a healthy intermediate still disqualifies its ancestors). Its
 * `chain` is the candidate plus its contiguous error ancestors; candidates are ranked by whether the
 * chain reaches the primary root, then chain length, then start, then spanId.
 */
import type { TraceSpan } from '../model/trace.js';
import { criticalPathsOfForest } from './critical-path.js';
import { errorEvidence, errorKeyOf, isEffectiveError, isTimeout, type ErrorEvidence } from './error-status.js';
import { compareBigint, nsToMs } from './time.js';
import { buildTraceForest, type TraceAnomalies, type TraceForest } from './trace-tree.js';

export { isEffectiveError } from './error-status.js';
export type { ErrorEvidence, ExceptionEvidence } from './error-status.js';

export interface SpanRef {
  spanId: string;
  service: string;
  name: string;
}

/** A non-error child still running when its timed-out parent ended: work that was cancelled or orphaned. */
export interface CancelledWork extends SpanRef {
  parentSpanId: string;
  /** How long the child ran past the parent's end (0 when it ended together with it). */
  overrunNs: bigint;
  overrunMs: number;
}

export interface RootCauseCandidate extends SpanRef {
  startNs: bigint;
  durationNs: bigint;
  durationMs: number;
  /** Candidate first, then its error ancestors upwards; capped at `maxChain` entries (see chainLength). */
  chain: SpanRef[];
  chainLength: number;
  reachesRoot: boolean;
  onCriticalPath: boolean;
  criticalNs: bigint;
  criticalMs: number;
  evidence: ErrorEvidence;
  /** Cancelled work under timed-out spans of this candidate's chain. */
  cancelledWork: CancelledWork[];
}

export interface TraceErrorAnalysis {
  traceId: string;
  spanCount: number;
  errorSpanCount: number;
  /** Ranked best first, at most `limit`. */
  rootCauses: RootCauseCandidate[];
  /** All candidates, before the limit. */
  rootCauseCount: number;
  /** All cancelled work in the trace (children of timed-out error spans), by parent then start. */
  cancelledWork: CancelledWork[];
  anomalies: TraceAnomalies;
}

export interface AnalyzeErrorsOptions {
  /** Longest chain listed per candidate (chainLength still counts all); default 20. */
  maxChain?: number;
  /** Candidates returned, best first (default 100); `rootCauseCount` has the total. */
  limit?: number;
}

/** Per-node error facts shared by the single-trace analysis and grouping. */
interface ErrorFacts {
  forest: TraceForest;
  isError: boolean[];
  candidate: boolean[];
  chainLength: number[];
  chainTop: number[];
  /** Best-ranked candidate in the node's subtree (-1 when none): the "originating" error. */
  best: number[];
}

function errorFacts(forest: TraceForest): ErrorFacts {
  const { nodes, topDown } = forest;
  const isError = nodes.map((n) => isEffectiveError(n.span));
  const below = nodes.map(() => false);
  for (let k = topDown.length - 1; k >= 0; k--) {
    const i = topDown[k]!;
    const p = nodes[i]!.parent;
    if (p !== -1 && (isError[i] || below[i])) below[p] = true;
  }
  const candidate = nodes.map((_, i) => isError[i]! && !below[i]);
  const chainLength = nodes.map(() => 0);
  const chainTop = nodes.map(() => -1);
  for (const i of topDown) {
    if (!isError[i]) continue;
    const p = nodes[i]!.parent;
    const continues = p !== -1 && isError[p]!;
    chainLength[i] = continues ? chainLength[p]! + 1 : 1;
    chainTop[i] = continues ? chainTop[p]! : i;
  }
  const facts: ErrorFacts = { forest, isError, candidate, chainLength, chainTop, best: nodes.map((_, i) => (candidate[i] ? i : -1)) };
  for (let k = topDown.length - 1; k >= 0; k--) {
    const i = topDown[k]!;
    const p = nodes[i]!.parent;
    const b = facts.best[i]!;
    if (p !== -1 && b !== -1 && (facts.best[p] === -1 || rankCompare(facts, b, facts.best[p]!) < 0)) facts.best[p] = b;
  }
  return facts;
}

function reachesRoot(f: ErrorFacts, i: number): boolean {
  return f.chainTop[i] === f.forest.primaryRoot;
}

/** ERR-v1 ranking: reachesRoot desc, chain length desc, start asc, spanId asc. */
function rankCompare(f: ErrorFacts, a: number, b: number): number {
  const ra = reachesRoot(f, a);
  const rb = reachesRoot(f, b);
  if (ra !== rb) return ra ? -1 : 1;
  if (f.chainLength[a] !== f.chainLength[b]) return f.chainLength[b]! - f.chainLength[a]!;
  const na = f.forest.nodes[a]!;
  const nb = f.forest.nodes[b]!;
  return compareBigint(na.startNs, nb.startNs) || (na.spanId < nb.spanId ? -1 : na.spanId > nb.spanId ? 1 : 0);
}

function ref(f: ErrorFacts, i: number): SpanRef {
  const n = f.forest.nodes[i]!;
  return { spanId: n.spanId, service: n.span.service, name: n.span.name };
}

function findCancelledWork(f: ErrorFacts): CancelledWork[] {
  const { nodes } = f.forest;
  const out: CancelledWork[] = [];
  for (const i of f.forest.topDown) {
    const parent = nodes[i]!;
    if (!f.isError[i] || parent.children.length === 0 || !isTimeout(parent.span)) continue;
    for (const c of parent.children) {
      const child = nodes[c]!;
      if (f.isError[c] || child.startNs >= parent.endNs || child.endNs < parent.endNs) continue;
      const overrunNs = child.endNs - parent.endNs;
      out.push({ ...ref(f, c), parentSpanId: parent.spanId, overrunNs, overrunMs: nsToMs(overrunNs) });
    }
  }
  return out;
}

/** ERR-v1 for one trace. A trace without errors yields empty lists. */
export function analyzeTraceErrors(spans: readonly TraceSpan[], options: AnalyzeErrorsOptions = {}): TraceErrorAnalysis {
  const maxChain = options.maxChain ?? 20;
  const forest = buildTraceForest(spans);
  const f = errorFacts(forest);
  const cancelledWork = findCancelledWork(f);
  const candidates = forest.nodes.map((n) => n.index).filter((i) => f.candidate[i]);
  const critical = candidates.length > 0 ? criticalPathsOfForest(forest).criticalNs : [];
  candidates.sort((a, b) => rankCompare(f, a, b));
  const rootCauses = candidates.slice(0, options.limit ?? 100).map((i): RootCauseCandidate => {
    const n = forest.nodes[i]!;
    const chain: SpanRef[] = [];
    const inChain = new Set<string>();
    for (let k = i; k !== -1 && f.isError[k] && chain.length < maxChain; k = forest.nodes[k]!.parent) {
      chain.push(ref(f, k));
      inChain.add(forest.nodes[k]!.spanId);
    }
    const c = critical[i] ?? 0n;
    return {
      ...ref(f, i),
      startNs: n.startNs,
      durationNs: n.endNs - n.startNs,
      durationMs: nsToMs(n.endNs - n.startNs),
      chain,
      chainLength: f.chainLength[i]!,
      reachesRoot: reachesRoot(f, i),
      onCriticalPath: c > 0n,
      criticalNs: c,
      criticalMs: nsToMs(c),
      evidence: errorEvidence(n.span),
      cancelledWork: cancelledWork.filter((w) => inChain.has(w.parentSpanId)),
    };
  });
  return {
    traceId: forest.traceId,
    spanCount: forest.nodes.length,
    errorSpanCount: f.isError.filter(Boolean).length,
    rootCauses,
    rootCauseCount: candidates.length,
    cancelledWork,
    anomalies: forest.anomalies,
  };
}

// ---------------------------------------------------------------------------------------------------
// Grouping across traces (find_errors)

export interface ErrorGroup {
  service: string;
  operation: string;
  /** Exception type, else error.type, else status message, else "HTTP 503"/"gRPC 14", else ''. */
  errorKey: string;
  keySource: string;
  /** Error spans in the group, and distinct traces they came from. */
  count: number;
  traceCount: number;
  /** count / all spans of (service, operation) in the input traces. */
  errorRate: number;
  /** How many of the group's spans were root-cause candidates themselves. */
  rootCauseCount: number;
  /**
   * The most frequent originating error (the best-ranked root-cause candidate in each span's subtree),
   * by (service, name), ties by service then name; spanId is from its first occurrence.
   */
  originating: (SpanRef & { count: number }) | null;
  sampleMessage: string | null;
  firstSeenNs: bigint;
  lastSeenNs: bigint;
  /** Distinct trace ids, first seen first, at most `maxExemplars`. */
  exemplarTraceIds: string[];
}

export interface GroupErrorsOptions {
  maxExemplars?: number;
  /** Maximum groups returned (most frequent first); default all. */
  limit?: number;
}

export interface ErrorGroups {
  traceCount: number;
  errorTraceCount: number;
  errorSpanCount: number;
  groups: ErrorGroup[];
  /** Groups left out by `limit`. */
  truncated: boolean;
}

interface GroupAcc {
  group: ErrorGroup;
  traces: Set<string>;
  origins: Map<string, SpanRef & { count: number }>;
}

export function groupErrors(traces: readonly (readonly TraceSpan[])[], options: GroupErrorsOptions = {}): ErrorGroups {
  const maxExemplars = options.maxExemplars ?? 3;
  const groups = new Map<string, GroupAcc>();
  const opTotals = new Map<string, number>();
  let errorTraceCount = 0;
  let errorSpanCount = 0;
  for (const spans of traces) {
    const forest = buildTraceForest(spans);
    for (const n of forest.nodes) {
      const k = `${n.span.service}\u0000${n.span.name}`;
      opTotals.set(k, (opTotals.get(k) ?? 0) + 1);
    }
    const f = errorFacts(forest);
    if (!f.isError.some(Boolean)) continue;
    errorTraceCount++;
    for (const n of forest.nodes) {
      if (!f.isError[n.index]) continue;
      errorSpanCount++;
      const { key, source } = errorKeyOf(n.span);
      const id = `${n.span.service}\u0000${n.span.name}\u0000${key}`;
      let acc = groups.get(id);
      if (acc === undefined) {
        acc = {
          group: {
            service: n.span.service,
            operation: n.span.name,
            errorKey: key,
            keySource: source,
            count: 0,
            traceCount: 0,
            errorRate: 0,
            rootCauseCount: 0,
            originating: null,
            sampleMessage: null,
            firstSeenNs: n.startNs,
            lastSeenNs: n.endNs,
            exemplarTraceIds: [],
          },
          traces: new Set(),
          origins: new Map(),
        };
        groups.set(id, acc);
      }
      const g = acc.group;
      g.count++;
      if (f.candidate[n.index]) g.rootCauseCount++;
      if (g.sampleMessage === null && n.span.statusMessage !== '') g.sampleMessage = n.span.statusMessage;
      if (n.startNs < g.firstSeenNs) g.firstSeenNs = n.startNs;
      if (n.endNs > g.lastSeenNs) g.lastSeenNs = n.endNs;
      if (!acc.traces.has(forest.traceId)) {
        acc.traces.add(forest.traceId);
        if (g.exemplarTraceIds.length < maxExemplars) g.exemplarTraceIds.push(forest.traceId);
      }
      const b = f.best[n.index]!;
      if (b !== -1) {
        const r = ref(f, b);
        const ok = `${r.service}\u0000${r.name}`;
        const o = acc.origins.get(ok) ?? { ...r, count: 0 };
        o.count++;
        acc.origins.set(ok, o);
      }
    }
  }
  const all = [...groups.values()].map(({ group, traces: ts, origins }) => {
    group.traceCount = ts.size;
    group.errorRate = Math.round((group.count / (opTotals.get(`${group.service}\u0000${group.operation}`) ?? group.count)) * 1e6) / 1e6;
    for (const o of origins.values()) {
      const cur = group.originating;
      if (cur === null || o.count > cur.count || (o.count === cur.count && (o.service < cur.service || (o.service === cur.service && o.name < cur.name)))) {
        group.originating = o;
      }
    }
    return group;
  });
  all.sort(
    (a, b) =>
      b.count - a.count ||
      cmp(a.service, b.service) ||
      cmp(a.operation, b.operation) ||
      cmp(a.errorKey, b.errorKey),
  );
  const limit = options.limit ?? all.length;
  return { traceCount: traces.length, errorTraceCount, errorSpanCount, groups: all.slice(0, limit), truncated: all.length > limit };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
