import { aggregateCriticalPaths, type CriticalPathAggregate } from '../analysis/critical-path-aggregate.js';
import { tieGroupsOf, type TieGroups } from '../analysis/rank-tests.js';
import { mergeTieGroups, type SideOperation } from '../analysis/window-compare.js';
import type { TraceSpan } from '../model/trace.js';
import type { LatencyTimeline } from '../store/ports.js';
import type { McpDeps } from './deps.js';
import { unknownOperationError, unknownServiceError } from './errors.js';
import { ENTRY_KINDS } from './operations.js';
import type { ResolvedRange } from './time-input.js';

const HOUR_MS = 3_600_000;

/** Per-operation HDR tie groups of one window: hourly rows for long hour-aligned windows, minutes otherwise. */
export async function windowOperations(deps: McpDeps, service: string, operation: string | undefined, range: ResolvedRange): Promise<SideOperation[]> {
  const long = range.endMs - range.startMs >= 6 * HOUR_MS && range.startMs % HOUR_MS === 0 && range.endMs % HOUR_MS === 0;
  const timelines = await deps.timeline.latencyTimeline({
    service, ...(operation !== undefined ? { operation } : {}), startNs: range.startNs, endNs: range.endNs, stepMs: long ? HOUR_MS : 60_000, histograms: true,
  });
  if (timelines === null) await throwUnknown(deps, service, operation, range);
  return (timelines ?? []).map(sideOf);
}

function sideOf(t: LatencyTimeline): SideOperation {
  const parts: TieGroups[] = [];
  let errors = 0;
  for (const s of t.steps) {
    errors += s.errors;
    if (s.buckets) parts.push(s.buckets);
  }
  return { service: t.service, operation: t.operation, kind: t.kind, groups: mergeTieGroups(parts), errors };
}

async function throwUnknown(deps: McpDeps, service: string, operation: string | undefined, range: ResolvedRange): Promise<never> {
  const ops = await deps.latency.operationStats({ service, startNs: range.startNs, endNs: range.endNs });
  if (ops === null) throw await unknownServiceError(deps.spans, service);
  throw unknownOperationError(service, operation ?? '', [...new Set(ops.map((o) => o.operation))]);
}

/** The operation requests enter the service by: the busiest SERVER/CONSUMER one, else the busiest. */
export function entryOperation(ops: readonly SideOperation[]): string | undefined {
  const count = (o: SideOperation): number => o.groups.counts.reduce((a, b) => a + b, 0);
  const ranked = [...ops].sort((a, b) => Number(ENTRY_KINDS.has(b.kind)) - Number(ENTRY_KINDS.has(a.kind)) || count(b) - count(a) || a.operation.localeCompare(b.operation));
  return ranked[0]?.operation;
}

export const attributeOf = (span: TraceSpan, key: string): string | undefined => {
  const v = span.resource[key] ?? span.attributes[key];
  return v === undefined || v === null ? undefined : String(v);
};

/**
 * Splits a trace sample by an attribute's two values: the service's spans (exact durations, µs) by their
 * own value, whole traces by their primary root's value (a deploy changes the root's resource).
 */
export function attributeSides(traces: readonly TraceSpan[][], service: string, operation: string | undefined, key: string, values: readonly [string, string]): { ops: [SideOperation[], SideOperation[]]; traces: [TraceSpan[][], TraceSpan[][]] } {
  const durations: [Map<string, { s: TraceSpan; us: number[]; errors: number }>, Map<string, { s: TraceSpan; us: number[]; errors: number }>] = [new Map(), new Map()];
  const split: [TraceSpan[][], TraceSpan[][]] = [[], []];
  for (const trace of traces) {
    const root = trace.find((s) => s.parentSpanId === '' && s.service === service);
    const rootSide = root === undefined ? -1 : values.indexOf(attributeOf(root, key) ?? '\u0000');
    if (rootSide >= 0) split[rootSide]!.push(trace);
    for (const span of trace) {
      if (span.service !== service || (operation !== undefined && span.name !== operation)) continue;
      const side = values.indexOf(attributeOf(span, key) ?? '\u0000');
      if (side < 0) continue;
      const k = `${span.name}\u0000${span.kind}`;
      let e = durations[side]!.get(k);
      if (!e) durations[side]!.set(k, (e = { s: span, us: [], errors: 0 }));
      e.us.push(Math.round(Number(span.endNs - span.startNs) / 1000));
      if (span.statusCode === 2) e.errors++;
    }
  }
  const opsOf = (m: Map<string, { s: TraceSpan; us: number[]; errors: number }>): SideOperation[] =>
    [...m.values()].map((e) => ({ service, operation: e.s.name, kind: e.s.kind, groups: tieGroupsOf(e.us), errors: e.errors }));
  return { ops: [opsOf(durations[0]), opsOf(durations[1])], traces: split };
}

export function aggregateSide(traces: readonly TraceSpan[][], service: string, rootOperation: string, range?: ResolvedRange): CriticalPathAggregate {
  return aggregateCriticalPaths(traces, {
    rootService: service, rootName: rootOperation, callPathLimit: 200,
    ...(range ? { rootEndWindow: { startNs: range.startNs, endNs: range.endNs } } : {}),
  });
}
