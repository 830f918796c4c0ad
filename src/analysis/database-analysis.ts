/**
 * Database calls from a set of traces: per (db system, statement shape) latency percentiles (exact
 * nearest-rank over the spans given), calls per request (per trace root operation), and N+1 patterns:
 * the same statement shape issued ≥ N times (default 5) under one parent span in one trace. Findings
 * aggregate per (statement, parent operation) with exemplar trace ids, ranked by the time they cost.
 */
import type { TraceSpan } from '../model/trace.js';
import { dbCallOf, type DbCall } from './db-statement.js';
import { isEffectiveError } from './error-status.js';
import { round } from './domain-common.js';
import { compareBigint, nearestRank, nsToMs } from './time.js';

export interface DatabaseOptions {
  startNs: bigint;
  endNs: bigint;
  /** Repeats under one parent that make an N+1 (default 5). */
  nPlusOneMin?: number;
  /** Exemplar trace ids per finding (default 3). */
  maxExemplars?: number;
}

export interface DbStatementStats {
  system: string;
  statement: string;
  source: DbCall['source'];
  calls: number;
  traces: number;
  errors: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  totalMs: number;
  /** Calls per trace, over the traces that issue it. */
  callsPerTraceMean: number;
  callsPerTraceMax: number;
  services: string[];
}

export interface NPlusOneFinding {
  system: string;
  statement: string;
  /** "service operation" of the parent span that issued the repeats. */
  parent: string;
  /** Traces with the pattern. */
  traces: number;
  maxRepeats: number;
  totalCalls: number;
  totalMs: number;
  exemplarTraceIds: string[];
}

export interface RootDbLoad {
  /** "service operation" of the trace root. */
  root: string;
  traces: number;
  dbCallsMean: number;
  dbCallsMax: number;
  dbTimeMeanMs: number;
}

/** Every call to one database system. */
export interface DbSystemStats {
  system: string;
  calls: number;
  errors: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  totalMs: number;
}

export interface DatabaseAnalysis {
  systems: DbSystemStats[];
  statements: DbStatementStats[];
  nPlusOne: NPlusOneFinding[];
  perRoot: RootDbLoad[];
  dbSpans: number;
  tracesAnalysed: number;
}

export function analyzeDatabase(traces: readonly (readonly TraceSpan[])[], o: DatabaseOptions): DatabaseAnalysis {
  const nMin = o.nPlusOneMin ?? 5;
  const maxEx = o.maxExemplars ?? 3;
  const stmts = new Map<string, { call: DbCall; durations: bigint[]; errors: number; perTrace: Map<string, number>; services: Set<string> }>();
  const findings = new Map<string, NPlusOneFinding & { ns: bigint }>();
  const roots = new Map<string, { traces: number; calls: number[]; ns: bigint }>();
  let dbSpans = 0;
  const memo = new Map<string, string>();
  const systems = new Map<string, { durations: bigint[]; errors: number }>();
  for (const spans of traces) {
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const root = [...spans].filter((s) => s.parentSpanId === '' || !byId.has(s.parentSpanId)).sort((a, b) => compareBigint(a.startNs, b.startNs))[0];
    const underParent = new Map<string, { call: DbCall; parent: string; count: number; ns: bigint }>();
    let traceCalls = 0;
    let traceNs = 0n;
    for (const s of spans) {
      if (s.startNs < o.startNs || s.startNs > o.endNs) continue;
      const call = dbCallOf(s, memo);
      if (call === null) continue;
      dbSpans++;
      traceCalls++;
      const ns = s.endNs - s.startNs;
      traceNs += ns;
      const key = `${call.system}\u0000${call.statement}`;
      let st = stmts.get(key);
      if (!st) stmts.set(key, (st = { call, durations: [], errors: 0, perTrace: new Map(), services: new Set() }));
      st.durations.push(ns);
      const failed = isEffectiveError(s);
      if (failed) st.errors++;
      let sys = systems.get(call.system);
      if (!sys) systems.set(call.system, (sys = { durations: [], errors: 0 }));
      sys.durations.push(ns);
      if (failed) sys.errors++;
      st.perTrace.set(s.traceId, (st.perTrace.get(s.traceId) ?? 0) + 1);
      st.services.add(s.service);
      const parent = byId.get(s.parentSpanId);
      const pk = `${s.parentSpanId}\u0000${key}`;
      let u = underParent.get(pk);
      if (!u) underParent.set(pk, (u = { call, parent: parent ? `${parent.service} ${parent.name}` : '(missing parent)', count: 0, ns: 0n }));
      u.count++;
      u.ns += ns;
    }
    for (const u of underParent.values()) {
      if (u.count < nMin) continue;
      const fk = `${u.call.system}\u0000${u.call.statement}\u0000${u.parent}`;
      let f = findings.get(fk);
      if (!f) findings.set(fk, (f = { system: u.call.system, statement: u.call.statement, parent: u.parent, traces: 0, maxRepeats: 0, totalCalls: 0, totalMs: 0, exemplarTraceIds: [], ns: 0n }));
      const traceId = (spans[0] as TraceSpan).traceId;
      if (!f.exemplarTraceIds.includes(traceId)) {
        f.traces++;
        if (f.exemplarTraceIds.length < maxEx) f.exemplarTraceIds.push(traceId);
      }
      f.maxRepeats = Math.max(f.maxRepeats, u.count);
      f.totalCalls += u.count;
      f.ns += u.ns;
    }
    if (root) {
      const rk = `${root.service} ${root.name}`;
      let r = roots.get(rk);
      if (!r) roots.set(rk, (r = { traces: 0, calls: [], ns: 0n }));
      r.traces++;
      r.calls.push(traceCalls);
      r.ns += traceNs;
    }
  }
  const statements: DbStatementStats[] = [...stmts.values()].map((st) => {
    const sorted = st.durations.sort(compareBigint);
    const total = sorted.reduce((a, b) => a + b, 0n);
    const per = [...st.perTrace.values()];
    return {
      system: st.call.system, statement: st.call.statement, source: st.call.source, calls: sorted.length, traces: st.perTrace.size, errors: st.errors,
      p50Ms: nsToMs(nearestRank(sorted, 0.5) as bigint), p95Ms: nsToMs(nearestRank(sorted, 0.95) as bigint), p99Ms: nsToMs(nearestRank(sorted, 0.99) as bigint),
      maxMs: nsToMs(sorted[sorted.length - 1] as bigint), totalMs: nsToMs(total),
      callsPerTraceMean: round(sorted.length / st.perTrace.size, 3), callsPerTraceMax: Math.max(...per),
      services: [...st.services].sort().slice(0, 5),
    };
  }).sort((a, b) => b.totalMs - a.totalMs || a.statement.localeCompare(b.statement));
  const nPlusOne = [...findings.values()].map(({ ns, ...f }) => ({ ...f, totalMs: nsToMs(ns) }))
    .sort((a, b) => b.totalMs - a.totalMs || b.maxRepeats - a.maxRepeats || a.statement.localeCompare(b.statement));
  const perRoot: RootDbLoad[] = [...roots].map(([root, r]) => ({
    root, traces: r.traces, dbCallsMean: round(r.calls.reduce((a, b) => a + b, 0) / r.traces, 3), dbCallsMax: Math.max(...r.calls),
    dbTimeMeanMs: nsToMs(r.ns / BigInt(r.traces)),
  })).filter((r) => r.dbCallsMax > 0).sort((a, b) => b.dbCallsMean - a.dbCallsMean || a.root.localeCompare(b.root));
  const systemStats = [...systems].map(([system, x]) => {
    const sorted = x.durations.sort(compareBigint);
    return {
      system, calls: sorted.length, errors: x.errors, p50Ms: nsToMs(nearestRank(sorted, 0.5) as bigint), p95Ms: nsToMs(nearestRank(sorted, 0.95) as bigint),
      p99Ms: nsToMs(nearestRank(sorted, 0.99) as bigint), totalMs: nsToMs(sorted.reduce((a, b) => a + b, 0n)),
    };
  }).sort((a, b) => b.totalMs - a.totalMs || a.system.localeCompare(b.system));
  return { systems: systemStats, statements, nPlusOne, perRoot, dbSpans, tracesAnalysed: traces.length };
}
