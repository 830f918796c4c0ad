import { z } from 'zod';
import { parseTimeRange, TimeRangeError, type TimeRange } from '../analysis/time-range.js';
import { ToolError } from './errors.js';
import { iso } from './result.js';

export const timeInput = {
  // Their syntax is in the server instructions, once for every tool.
  window: z.string().optional(),
  start: z.string().optional(),
  end: z.string().optional(),
};

export interface ResolvedRange extends TimeRange {
  startNs: bigint;
  endNs: bigint;
  window: { start: string; end: string };
}

const MAX_WINDOW_MS = 35 * 86_400_000;

/** Parses window/start/end; errors say how to write them. Windows beyond retention (35 d) are refused. */
export function resolveRange(args: { window?: string | undefined; start?: string | undefined; end?: string | undefined }, nowMs: number, defaultWindowMs: number): ResolvedRange {
  let range: TimeRange;
  try {
    range = parseTimeRange({ window: args.window ?? null, start: args.start ?? null, end: args.end ?? null }, nowMs, defaultWindowMs);
  } catch (err) {
    if (err instanceof TimeRangeError) throw new ToolError(err.message);
    throw err;
  }
  return toResolved(range);
}

export function toResolved(range: TimeRange): ResolvedRange {
  if (range.endMs - range.startMs > MAX_WINDOW_MS) {
    throw new ToolError('window longer than 35d (the longest latency retention): use a shorter window such as 30d');
  }
  return {
    ...range,
    startNs: BigInt(Math.floor(range.startMs)) * 1_000_000n,
    endNs: BigInt(Math.ceil(range.endMs)) * 1_000_000n,
    window: { start: iso(range.startMs), end: iso(range.endMs) },
  };
}
