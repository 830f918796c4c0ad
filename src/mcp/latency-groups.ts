import type { LatencyDistribution } from '../analysis/latency.js';
import type { AttributeValue, TraceSpan } from '../model/trace.js';
import { StatusCode } from '../model/span.js';
import type { McpDeps } from './deps.js';
import { unknownOperationError, unknownServiceError } from './errors.js';
import { clipText, msFromNs, msFromUs, round } from './result.js';
import type { ResolvedRange } from './time-input.js';
import { readTracesInSlices } from './deadline.js';

export interface GroupStats {
  group: string;
  count: number;
  errors: number;
  error_rate: number;
  rps: number;
  percentiles_ms: Record<string, number | null>;
  max_ms: number | null;
  mean_ms: number | null;
}

export interface LatencyScope {
  service: string;
  operation: string | undefined;
  kind: number | undefined;
  /** none | operation | status | attr.<key> */
  groupBy: string;
  percentiles: number[];
}

/**
 * latency_stats groups. Everything but attribute groups comes from the HDR histograms (every span,
 * hdr-3sd). Attribute values are not in the histograms, so attr.<key> groups are exact nearest-rank
 * percentiles over the spans of a bounded sample of the newest matching traces.
 */
export async function latencyGroups(deps: McpDeps, scope: LatencyScope, range: ResolvedRange): Promise<{ groups: GroupStats[]; precision: string }> {
  const windowMs = range.endMs - range.startMs;
  const base = { service: scope.service, ...(scope.kind !== undefined ? { kind: scope.kind } : {}), startNs: range.startNs, endNs: range.endNs };
  if (scope.groupBy.startsWith('attr.')) return attributeGroups(deps, scope, range, scope.groupBy.slice(5));
  if (scope.groupBy === 'operation') {
    const stats = await deps.latency.operationStats({ service: scope.service, ...(scope.kind !== undefined ? { kinds: [scope.kind] } : {}), startNs: range.startNs, endNs: range.endNs });
    if (stats === null) throw await unknownServiceError(deps.spans, scope.service);
    const rows = stats.filter((s) => scope.operation === undefined || s.operation === scope.operation);
    return { groups: sortByTotal(rows.map((s) => hdrGroup(`${s.operation} (${kindLabel(s.kind)})`, s.latency, s.errorCount, windowMs, scope.percentiles))), precision: 'hdr-3sd' };
  }
  const all = await deps.latency.latency({ ...base, ...(scope.operation !== undefined ? { operation: scope.operation } : {}) });
  if (all === null) await throwUnknown(deps, scope, range);
  const errors = await deps.latency.latency({ ...base, ...(scope.operation !== undefined ? { operation: scope.operation } : {}), error: true });
  const errorCount = errors?.count ?? 0;
  if (scope.groupBy === 'status') {
    const ok = await deps.latency.latency({ ...base, ...(scope.operation !== undefined ? { operation: scope.operation } : {}), error: false });
    const groups = [hdrGroup('ok_or_unset', ok, 0, windowMs, scope.percentiles), hdrGroup('error', errors, errorCount, windowMs, scope.percentiles)];
    return { groups: groups.filter((g) => g.count > 0), precision: 'hdr-3sd' };
  }
  return { groups: [hdrGroup(scope.operation ?? 'all', all, errorCount, windowMs, scope.percentiles)], precision: 'hdr-3sd' };
}

async function throwUnknown(deps: McpDeps, scope: LatencyScope, range: ResolvedRange): Promise<never> {
  const stats = await deps.latency.operationStats({ service: scope.service, startNs: range.startNs, endNs: range.endNs });
  if (stats === null) throw await unknownServiceError(deps.spans, scope.service);
  throw unknownOperationError(scope.service, scope.operation ?? '', [...new Set(stats.map((s) => s.operation))]);
}

function hdrGroup(group: string, d: LatencyDistribution | null, errors: number, windowMs: number, percentiles: number[]): GroupStats {
  const n = d?.count ?? 0;
  const percentiles_ms: Record<string, number | null> = {};
  for (const p of percentiles) percentiles_ms[`p${p}`] = d && n > 0 ? msFromUs(d.valueAtPercentile(p)) : null;
  return {
    group, count: n, errors, error_rate: n > 0 ? round(errors / n) : 0, rps: round(n / (windowMs / 1000)), percentiles_ms,
    max_ms: d && n > 0 ? msFromUs(d.maxUs) : null, mean_ms: d && n > 0 ? msFromUs(d.meanUs) : null,
  };
}

async function attributeGroups(deps: McpDeps, scope: LatencyScope, range: ResolvedRange, key: string): Promise<{ groups: GroupStats[]; precision: string }> {
  const found = await deps.spans.searchTraces({
    service: scope.service, ...(scope.operation !== undefined ? { operation: scope.operation } : {}),
    startNs: range.startNs, endNs: range.endNs, limit: deps.limits.maxAnalysisTraces,
  });
  if (found === null) throw await unknownServiceError(deps.spans, scope.service);
  const traces = await readTracesInSlices(deps.spans, found.map((t) => t.traceId), 'full');
  const byValue = new Map<string, { durations: bigint[]; errors: number }>();
  for (const spans of traces.values()) {
    for (const s of spans) {
      if (!matches(s, scope, range)) continue;
      const value = label(s.attributes[key] ?? s.resource[key]);
      let g = byValue.get(value);
      if (!g) byValue.set(value, (g = { durations: [], errors: 0 }));
      g.durations.push(s.endNs - s.startNs);
      if (s.statusCode === StatusCode.ERROR) g.errors++;
    }
  }
  const windowMs = range.endMs - range.startMs;
  const groups = [...byValue].map(([value, g]) => exactGroup(`${key}=${value}`, g.durations, g.errors, windowMs, scope.percentiles));
  const sampled = found.length >= deps.limits.maxAnalysisTraces;
  return { groups: sortByTotal(groups), precision: sampled ? `sampled(${found.length} newest traces), exact nearest-rank` : 'exact nearest-rank' };
}

function matches(s: TraceSpan, scope: LatencyScope, range: ResolvedRange): boolean {
  return s.service === scope.service && (scope.operation === undefined || s.name === scope.operation) &&
    (scope.kind === undefined || s.kind === scope.kind) && s.startNs >= range.startNs && s.startNs <= range.endNs;
}

function exactGroup(group: string, durations: bigint[], errors: number, windowMs: number, percentiles: number[]): GroupStats {
  durations.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const n = durations.length;
  const percentiles_ms: Record<string, number | null> = {};
  for (const p of percentiles) percentiles_ms[`p${p}`] = n > 0 ? msFromNs(durations[Math.max(Math.ceil((p / 100) * n), 1) - 1] as bigint) : null;
  const sum = durations.reduce((a, b) => a + b, 0n);
  return {
    group, count: n, errors, error_rate: n > 0 ? round(errors / n) : 0, rps: round(n / (windowMs / 1000)), percentiles_ms,
    max_ms: n > 0 ? msFromNs(durations[n - 1] as bigint) : null, mean_ms: n > 0 ? msFromNs(sum / BigInt(n)) : null,
  };
}

function sortByTotal(groups: GroupStats[]): GroupStats[] {
  return groups.sort((a, b) => (b.mean_ms ?? 0) * b.count - (a.mean_ms ?? 0) * a.count || a.group.localeCompare(b.group));
}

function label(v: AttributeValue | undefined): string {
  if (v === undefined || v === null) return '(absent)';
  return clipText(Array.isArray(v) ? JSON.stringify(v.map(String)) : String(v), 100);
}

const kindLabel = (kind: number): string => ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'][kind] ?? 'unspecified';
