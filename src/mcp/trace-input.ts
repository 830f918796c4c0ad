import { z } from 'zod';
import type { TraceSpan } from '../model/trace.js';
import type { TraceDetail } from '../store/ports.js';
import type { McpDeps } from './deps.js';
import { ToolError } from './errors.js';

export const traceIdInput = z.string().regex(/^[0-9a-fA-F]{32}$/, 'trace_id is 32 hex digits, as returned by find_traces');

/** The trace's spans, or an error that says where trace ids come from. */
export async function loadTrace(deps: McpDeps, traceId: string, detail: TraceDetail): Promise<TraceSpan[]> {
  const spans = await deps.spans.getTraceSpans(traceId.toLowerCase(), { detail });
  if (spans === null || spans.length === 0) throw traceNotStored(traceId);
  return spans;
}

export function traceNotStored(traceId: string): ToolError {
  return new ToolError(`no spans of trace ${traceId} are stored (expired or never received); get trace ids from find_traces or find_errors`);
}
