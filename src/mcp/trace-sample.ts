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
  /** True when more traces matched than were analysed (the newest ones are kept). */
  sampled: boolean;
  precision: string;
}

/**
 * The newest traces in a window that touch `service` (and `operation`), decoded for bulk analysis.
 * Bounded by max_traces (default 1000) and the server's cap, so a month-long window stays cheap; the
 * answer says when it was a sample.
 */
export async function sampleTraces(
  deps: McpDeps,
  q: { service?: string | undefined; operation?: string | undefined; errorsOnly?: boolean; maxTraces?: number | undefined },
  range: ResolvedRange,
  detail: TraceDetail,
): Promise<TraceSample> {
  const limit = Math.min(q.maxTraces ?? 1000, deps.limits.maxAnalysisTraces);
  const found = await deps.spans.searchTraceIds({
    ...(q.service !== undefined ? { service: q.service } : {}),
    ...(q.operation !== undefined ? { operation: q.operation } : {}),
    ...(q.errorsOnly ? { errorsOnly: true } : {}),
    startNs: range.startNs,
    endNs: range.endNs,
    limit: limit + 1,
  });
  if (found === null) throw await unknownServiceError(deps.spans, q.service as string);
  const sampled = found.length > limit;
  const ids = found.slice(0, limit);
  const byId = await readTracesInSlices(deps.spans, ids, detail);
  const traces = ids.map((id) => byId.get(id)).filter((t): t is TraceSpan[] => t !== undefined);
  return { traces, sampled, precision: sampled ? `sampled(${traces.length} newest traces)` : `exact(${traces.length} traces)` };
}
