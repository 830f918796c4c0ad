import { z } from 'zod';
import type { TraceSpan } from '../model/trace.js';
import type { TraceDetail } from '../store/ports.js';
import type { McpDeps } from './deps.js';
import { unknownServiceError } from './errors.js';
import type { ResolvedRange } from './time-input.js';
import { readTracesInSlices } from './deadline.js';

export const sampleInput = {
  max_traces: z.number().int().min(1).optional().describe('traces analysed (default 1000)'),
};

export interface TraceSample {
  traces: TraceSpan[][];
  /** True when more traces matched than were analysed. */
  sampled: boolean;
  precision: string;
  /** For meta.sample: analysed of matched (matched estimated when not exact). */
  meta: { analysed: number; matched: number; matched_exact: boolean };
}

/**
 * Traces in a window that touch `service` (and `operation`), decoded for bulk analysis. Bounded by
 * max_traces (default 1000) and the server's cap; beyond that a uniform sample over the whole window
 * (by trace-id hash, deterministic), so a long window is not judged by its last minutes. The answer
 * says how many were analysed of how many matched.
 */
export async function sampleTraces(
  deps: McpDeps,
  q: { service?: string | undefined; operation?: string | undefined; errorsOnly?: boolean; maxTraces?: number | undefined },
  range: ResolvedRange,
  detail: TraceDetail,
): Promise<TraceSample> {
  const limit = Math.min(q.maxTraces ?? 1000, deps.limits.maxAnalysisTraces);
  const found = await deps.spans.sampleTraceIds({
    ...(q.service !== undefined ? { service: q.service } : {}),
    ...(q.operation !== undefined ? { operation: q.operation } : {}),
    ...(q.errorsOnly ? { errorsOnly: true } : {}),
    startNs: range.startNs,
    endNs: range.endNs,
    limit,
  });
  if (found === null) throw await unknownServiceError(deps.spans, q.service as string);
  const byId = await readTracesInSlices(deps.spans, found.traceIds, detail);
  const traces = found.traceIds.map((id) => byId.get(id)).filter((t): t is TraceSpan[] => t !== undefined);
  const sampled = !found.matchedExact || found.matched > found.traceIds.length;
  const matched = `${found.matchedExact ? '' : '~'}${found.matched}`;
  return {
    traces,
    sampled,
    precision: sampled ? `sampled(${traces.length} of ${matched} traces, uniform over the window)` : `exact(${traces.length} traces)`,
    meta: { analysed: traces.length, matched: found.matched, matched_exact: found.matchedExact },
  };
}
