import { AsyncLocalStorage } from 'node:async_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { TraceDetail, TraceSpanReader } from '../store/ports.js';
import type { TraceSpan } from '../model/trace.js';
import { ToolError } from './errors.js';

/**
 * Per-call time limit for MCP tools (mcp.queryTimeout). The store reads run synchronously on the main
 * thread, the one that also answers OTLP/HTTP and gRPC, so a heavy analysis must both give way to the
 * event loop now and then and stop once the caller has been told it took too long.
 */
interface CallDeadline {
  tool: string;
  timeoutMs: number;
  atMs: number;
}

const current = new AsyncLocalStorage<CallDeadline>();

function timeoutError(d: Pick<CallDeadline, 'tool' | 'timeoutMs'>): ToolError {
  return new ToolError(
    `${d.tool} took longer than ${d.timeoutMs} ms (mcp.queryTimeout) and was stopped. ` +
      'Narrow the call: a shorter window (e.g. window="15m"), a service or operation filter, or a lower max_traces.',
  );
}

/** Runs `fn` under a deadline: the answer is a ToolError once `timeoutMs` pass, whatever `fn` is doing. */
export function withDeadline<T>(tool: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const deadline: CallDeadline = { tool, timeoutMs, atMs: performance.now() + timeoutMs };
  const work = current.run(deadline, fn);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError(deadline)), timeoutMs);
  });
  // When the timer wins, the abandoned work stops at its next checkpoint; its rejection is expected.
  work.catch(() => undefined);
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Lets pending I/O (ingest, other calls) run, then stops this call if its deadline has passed. */
export async function checkpoint(): Promise<void> {
  await yieldToLoop();
  const d = current.getStore();
  if (d && performance.now() > d.atMs) throw timeoutError(d);
}

const SLICE = 100;

/** getTracesSpans in slices with a checkpoint between them, so decoding thousands of traces does not hold the loop. */
export async function readTracesInSlices(
  spans: TraceSpanReader,
  traceIds: readonly string[],
  detail: TraceDetail,
): Promise<Map<string, TraceSpan[]>> {
  if (traceIds.length <= SLICE) return spans.getTracesSpans(traceIds, { detail });
  const out = new Map<string, TraceSpan[]>();
  for (let i = 0; i < traceIds.length; i += SLICE) {
    if (i > 0) await checkpoint();
    for (const [id, trace] of await spans.getTracesSpans(traceIds.slice(i, i + SLICE), { detail })) out.set(id, trace);
  }
  return out;
}
