import { aggregateCriticalPaths, findBottlenecks } from '../analysis/critical-path-aggregate.js';
import { groupErrors } from '../analysis/errors.js';
import { evaluateSlo } from '../analysis/slo-events.js';
import { compareOperations, type SideOperation } from '../analysis/window-compare.js';
import type { McpDeps } from './deps.js';
import { cacheAnswer } from './domain-cache.js';
import { inferenceAnswer } from './domain-inference.js';
import { ENTRY_KINDS } from './operations.js';
import { round } from './result.js';
import { toResolved, type ResolvedRange } from './time-input.js';
import { sampleTraces } from './trace-sample.js';
import { entryOperation, windowOperations } from './window-sides.js';

/** One thing the report says, with the call that shows the evidence. */
export interface Finding {
  severity: 'critical' | 'warning' | 'info';
  area: 'slo' | 'alerts' | 'regression' | 'bottleneck' | 'errors' | 'cache' | 'inference';
  text: string;
  next: string;
}

export interface Section {
  /** One line for the section, or why it has nothing to say. */
  summary: string;
  findings: Finding[];
}

export interface ReportScope {
  deps: McpDeps;
  range: ResolvedRange;
  /** Services the report looks at: the one asked for, or the busiest few. */
  services: string[];
  service: string | undefined;
  /** A service's operations over `range`, read once for every section that needs them. */
  currentOps: (service: string) => Promise<SideOperation[]>;
}

export function reportScope(deps: McpDeps, range: ResolvedRange, services: string[], service: string | undefined): ReportScope {
  const read = new Map<string, Promise<SideOperation[]>>();
  const currentOps = (name: string): Promise<SideOperation[]> => {
    let ops = read.get(name);
    if (ops === undefined) read.set(name, (ops = windowOperations(deps, name, undefined, range)));
    return ops;
  };
  return { deps, range, services, service, currentOps };
}

const pct = (x: number): string => `${round(x * 100, 3)}%`;
const quote = (s: string): string => JSON.stringify(s);

export async function sloSection({ deps, range, service }: ReportScope): Promise<Section> {
  const slos = (await deps.slos.catalog.list()).filter((s) => service === undefined || s.definition.service === service);
  if (slos.length === 0) return { summary: 'no SLOs defined (config slos: or manage_slo)', findings: [] };
  const findings: Finding[] = [];
  const lines: string[] = [];
  for (const stored of slos) {
    const status = await evaluateSlo(stored.definition, deps.slos.events, range.endMs);
    const worst = [...status.objectives].sort((a, b) => a.budgetRemaining - b.budgetRemaining)[0];
    lines.push(`${status.name} ${status.verdict}`);
    if (status.verdict === 'ok' || worst === undefined) continue;
    const firing = worst.alerts.filter((a) => a.firing).map((a) => `${a.severity} ${a.long}+${a.short}`);
    findings.push({
      severity: status.verdict === 'violated' ? 'critical' : 'warning',
      area: 'slo',
      text: `SLO ${status.name} ${status.verdict}: ${worst.name} ${worst.sli === null ? 'no events' : pct(worst.sli)} vs target ${pct(worst.target)}, budget remaining ${pct(worst.budgetRemaining)}, burn 1h ${round(worst.burnRates['1h'], 2)}×${firing.length ? `, firing ${firing.join(', ')}` : ''}`,
      next: `slo_status(slo=${quote(status.name)})`,
    });
  }
  return { summary: lines.join(', '), findings };
}

export async function alertsSection({ deps }: ReportScope): Promise<Section> {
  if (deps.alerts === undefined) return { summary: 'alerting is not running', findings: [] };
  const { alerts } = await deps.alerts.overview({ historyLimit: 0 });
  const active = alerts.filter((a) => a.state === 'firing' || a.state === 'pending');
  return {
    summary: `${alerts.length} rules, ${active.filter((a) => a.state === 'firing').length} firing, ${active.filter((a) => a.state === 'pending').length} pending`,
    findings: active.map((a) => ({
      severity: a.state === 'firing' ? (a.severity === 'page' || a.severity === 'critical' ? 'critical' : 'warning') : 'info',
      area: 'alerts',
      text: `alert ${a.name} ${a.state}: ${a.expr}${a.value === null ? '' : ` (now ${round(a.value, 3)})`}`,
      next: `alerts(rule=${quote(a.name)})`,
    })),
  };
}

/** The window against the one just before it, per operation (REG-v1 verdicts from compare_windows). */
export async function regressionSection({ deps, range, services, currentOps }: ReportScope): Promise<Section> {
  const previous = toResolved({ startMs: 2 * range.startMs - range.endMs, endMs: range.startMs });
  const findings: Finding[] = [];
  let compared = 0;
  for (const service of services) {
    const [before, now] = await Promise.all([windowOperations(deps, service, undefined, previous), currentOps(service)]);
    const rows = compareOperations(before, now);
    compared += rows.length;
    for (const r of rows.filter((x) => x.verdict === 'regression').sort((a, b) => (b.p95DeltaMs ?? 0) - (a.p95DeltaMs ?? 0)).slice(0, 3)) {
      findings.push({
        severity: 'warning',
        area: 'regression',
        text: `${r.service} ${quote(r.operation)} slower than the previous window: p95 ${r.baseline.p95Ms} → ${r.current.p95Ms} ms, p50 ${r.baseline.p50Ms} → ${r.current.p50Ms} ms (q ${r.qValue === null ? 'n/a' : round(r.qValue, 4)})`,
        next: `compare_windows(service=${quote(r.service)}, operation=${quote(r.operation)}, window=${quote(windowText(range))})`,
      });
    }
  }
  return { summary: `${compared} operations compared with the previous window, ${findings.length} regressed`, findings };
}

/** Where requests to the first service's entry operation wait (AGG-v1 over a small sample). */
export async function bottleneckSection({ deps, range, services, currentOps }: ReportScope): Promise<Section> {
  const service = services[0];
  if (service === undefined) return { summary: 'no traffic in the window', findings: [] };
  const root = entryOperation(await currentOps(service));
  if (root === undefined) return { summary: `no operations of ${service}`, findings: [] };
  const sample = await sampleTraces(deps, { service, operation: root, maxTraces: 300 }, range, 'timing');
  const agg = aggregateCriticalPaths(sample.traces, { rootService: service, rootName: root, callPathLimit: 0, rootEndWindow: { startNs: range.startNs, endNs: range.endNs } });
  const top = findBottlenecks(agg, { minTraceFraction: 0, limit: 3 });
  if (agg.traceCount === 0 || top.length === 0) return { summary: `no complete traces of ${service} ${quote(root)}`, findings: [] };
  const text = top.map((b) => `${b.service} ${quote(b.name)} ${Math.round(b.share * 100)}%`).join(', ');
  return {
    summary: `critical path of ${service} ${quote(root)} over ${agg.traceCount} traces (p99 ${agg.rootLatency.p99Ms} ms): ${text}`,
    findings: [{ severity: 'info', area: 'bottleneck', text: `requests to ${service} ${quote(root)} (p99 ${agg.rootLatency.p99Ms} ms) wait on ${text}`, next: `find_bottlenecks(service=${quote(service)}, operation=${quote(root)}, window=${quote(windowText(range))})` }],
  };
}

export async function errorSection({ deps, range, service }: ReportScope): Promise<Section> {
  const sample = await sampleTraces(deps, { service, errorsOnly: true, maxTraces: 300 }, range, 'full');
  const result = groupErrors(sample.traces, { maxExemplars: 1 });
  if (result.groups.length === 0) return { summary: 'no errors', findings: [] };
  return {
    summary: `${result.errorSpanCount} error spans in ${result.errorTraceCount} traces (${sample.precision})`,
    findings: result.groups.slice(0, 3).map((g) => ({
      severity: 'warning' as const,
      area: 'errors' as const,
      text: `${g.service} ${quote(g.operation)}: ${g.errorKey || '(no error key)'} ×${g.count}${g.originating ? `, root cause in ${g.originating.service} ${quote(g.originating.name)}` : ''}`,
      next: g.exemplarTraceIds[0] ? `get_trace(trace_id=${quote(g.exemplarTraceIds[0])})` : `find_errors(service=${quote(g.service)})`,
    })),
  };
}

/** An analyze topic reduced to its one-line summary (weakest cache level, per-model percentiles, cold starts). */
export async function domainSection({ deps, range, service }: ReportScope, topic: 'cache' | 'inference'): Promise<Section> {
  const answer = await (topic === 'cache' ? cacheAnswer : inferenceAnswer)(deps, { service }, range);
  if (answer.rows.length === 0) return { summary: answer.summary, findings: [] };
  const next = `analyze(topic="${topic}"${service ? `, service=${quote(service)}` : ''}, window=${quote(windowText(range))})`;
  return { summary: answer.summary, findings: [{ severity: 'info', area: topic, text: answer.summary, next }] };
}

/** The busiest services by entry spans, so a report over everything stays a few calls' worth of work. */
export async function busiestServices(deps: McpDeps, range: ResolvedRange, max: number): Promise<string[]> {
  const stats = (await deps.latency.operationStats({ startNs: range.startNs, endNs: range.endNs, groupBy: 'service', kinds: [...ENTRY_KINDS] })) ?? [];
  return stats.sort((a, b) => b.latency.count - a.latency.count || a.service.localeCompare(b.service)).slice(0, max).map((s) => s.service);
}

function windowText(range: ResolvedRange): string {
  const minutes = Math.round((range.endMs - range.startMs) / 60_000);
  return minutes % 60 === 0 ? `${minutes / 60}h` : `${minutes}m`;
}
