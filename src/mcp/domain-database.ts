import { analyzeDatabase } from '../analysis/database-analysis.js';
import { matchesAny, POOL_MAX_METRICS, POOL_PENDING_METRICS, POOL_USED_METRICS, poolSaturation } from '../analysis/db-pool.js';
import type { McpDeps } from './deps.js';
import type { DomainAnswer, DomainArgs } from './domain-answer.js';
import { ToolError } from './errors.js';
import { fetchMetricSeries, serviceMatchers, storedMetrics } from './metric-args.js';
import { clipText } from './result.js';
import { sampleTraces, type TraceSample } from './trace-sample.js';
import type { ResolvedRange } from './time-input.js';

const MAX_FINDINGS = 8;

/** Statements (exact percentiles over a bounded trace sample), N+1 patterns with exemplars, and pool saturation. */
export async function databaseAnswer(deps: McpDeps, args: DomainArgs, range: ResolvedRange): Promise<DomainAnswer> {
  const stored = (await storedMetrics(deps.metrics)).filter((m) => m.type === 'gauge' || m.type === 'sum');
  const names = (patterns: readonly RegExp[]): string[] => stored.filter((m) => matchesAny(m.name, patterns)).map((m) => m.name);
  const [usedNames, maxNames, pendingNames] = [names(POOL_USED_METRICS), names(POOL_MAX_METRICS), names(POOL_PENDING_METRICS)];
  const matchers = serviceMatchers(args.service);
  const fetch = async (n: string[]) => (n.length === 0 ? [] : (await fetchMetricSeries(deps.metrics, n, matchers, range, 500)).series);
  const pools = usedNames.length > 0 ? poolSaturation(await fetch(usedNames), await fetch(maxNames), await fetch(pendingNames), range) : [];
  let sample: TraceSample | null = null;
  try {
    sample = await sampleTraces(deps, { service: args.service }, range, 'full');
  } catch (err) {
    if (!(err instanceof ToolError) || pools.length === 0) throw err;
  }
  const db = analyzeDatabase(sample?.traces ?? [], { startNs: range.startNs, endNs: range.endNs });
  const rows = db.statements.map((s) => ({
    system: s.system, statement: clipText(s.statement, 200), calls: s.calls, traces: s.traces, errors: s.errors,
    p50_ms: s.p50Ms, p95_ms: s.p95Ms, p99_ms: s.p99Ms, max_ms: s.maxMs, total_ms: s.totalMs,
    calls_per_trace: s.callsPerTraceMean, calls_per_trace_max: s.callsPerTraceMax, services: s.services,
  }));
  const findings: Record<string, unknown>[] = [
    ...db.nPlusOne.slice(0, MAX_FINDINGS).map((f) => ({
      kind: 'n_plus_one', system: f.system, statement: clipText(f.statement, 200), parent: f.parent, traces: f.traces,
      max_repeats: f.maxRepeats, total_calls: f.totalCalls, total_ms: f.totalMs, exemplar_trace_ids: f.exemplarTraceIds,
    })),
    ...pools.slice(0, MAX_FINDINGS).map((p) => ({
      kind: 'pool', pool: p.pool || '(unnamed)', saturated: p.saturated, used_peak: p.usedPeak, used_mean: p.usedMean, size: p.size,
      peak_utilisation: p.peakUtilisation, mean_utilisation: p.meanUtilisation, ...(p.pendingPeak !== null ? { pending_peak: p.pendingPeak } : {}),
    })),
  ];
  const n1 = db.nPlusOne[0];
  const saturated = pools.filter((p) => p.saturated);
  return {
    source: [db.dbSpans > 0 ? 'spans' : '', pools.length > 0 ? 'metrics' : ''].filter((s) => s).join('+') || 'none',
    precision: sample ? `${sample.precision}, exact nearest-rank` : 'pool metrics only',
    rows, findings,
    context: {
      db_spans: db.dbSpans, traces_analysed: db.tracesAnalysed,
      per_system: db.systems.slice(0, 5).map((x) => ({ system: x.system, calls: x.calls, errors: x.errors, p50_ms: x.p50Ms, p95_ms: x.p95Ms, p99_ms: x.p99Ms, total_ms: x.totalMs })), n_plus_one_rule: 'same statement shape ≥ 5 times under one parent span in one trace',
      per_root: db.perRoot.slice(0, 5).map((r) => ({ root: r.root, traces: r.traces, db_calls_mean: r.dbCallsMean, db_calls_max: r.dbCallsMax, db_time_mean_ms: r.dbTimeMeanMs })),
      pool_metrics: { used: usedNames, max: maxNames, ...(pendingNames.length > 0 ? { pending: pendingNames } : {}) },
    },
    summary: rows.length === 0 && pools.length === 0
      ? 'No database spans (db.system.name/db.system or db.query.text/db.statement) and no connection-pool metrics in the window.'
      : [
        rows[0] ? `Top statement by time: ${rows[0].system} "${clipText(rows[0].statement, 80)}" ${rows[0].calls} calls, p95 ${rows[0].p95_ms} ms, ${rows[0].total_ms} ms total` : '',
        n1 ? `N+1: "${clipText(n1.statement, 80)}" up to ${n1.maxRepeats}× under ${n1.parent} in ${n1.traces} traces (e.g. ${n1.exemplarTraceIds[0] ?? ''})` : 'no N+1 pattern',
        pools.length > 0 ? (saturated.length > 0 ? `saturated pools: ${saturated.map((p) => `${p.pool || '(unnamed)'} peak ${p.usedPeak}/${p.size ?? '?'}`).join(', ')}` : `pools below 90%: ${pools.map((p) => `${p.pool || '(unnamed)'} peak ${p.usedPeak}/${p.size ?? '?'}`).join(', ')}`) : '',
      ].filter((s) => s).join('; ') + '.',
    hints: [
      ...(n1?.exemplarTraceIds[0] ? [`get_trace(trace_id="${n1.exemplarTraceIds[0]}", view="topology")`] : []),
      ...(rows[0] ? [`find_traces(where=[{key:"db.system.name",op:"=",value:"${rows[0].system}"}], sort="slowest")`] : []),
      ...(usedNames[0] ? [`query_metrics(select="${usedNames[0]}", agg="max", by="*", step="5m")`] : []),
    ],
  };
}
