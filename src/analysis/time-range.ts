export class TimeRangeError extends Error {}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "15m", "1h", "30d" → ms, or null. */
export function parseWindow(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/.exec(text.trim());
  return match ? Number(match[1]) * (UNIT_MS[match[2] as string] as number) : null;
}

/** RFC3339, epoch milliseconds, "now" or "now-15m" → epoch ms; throws with how to write it. */
export function parseInstant(text: string, nowMs: number): number {
  const trimmed = text.trim();
  if (trimmed === 'now') return nowMs;
  const relative = /^now-(.+)$/.exec(trimmed);
  if (relative) {
    const ms = parseWindow(relative[1] as string);
    if (ms !== null) return nowMs - ms;
  } else if (/^\d+$/.test(trimmed)) {
    return Number(trimmed);
  } else {
    const ms = Date.parse(trimmed);
    if (!Number.isNaN(ms) && /^\d{4}-\d{2}-\d{2}/.test(trimmed)) return ms;
  }
  throw new TimeRangeError(`"${text}" is not a time: use RFC3339 (2026-11-25T10:00:00Z), epoch milliseconds, or now-15m`);
}

export interface TimeRange {
  startMs: number;
  endMs: number;
}

/**
 * A time range from `start`/`end` or `window` (which ends now). With neither, `defaultWindowMs` back
 * from now. Throws with a message that says how to fix the query.
 */
export function parseTimeRange(
  params: { start?: string | null; end?: string | null; window?: string | null },
  nowMs: number,
  defaultWindowMs: number,
): TimeRange {
  const endMs = params.end ? parseInstant(params.end, nowMs) : nowMs;
  let startMs: number;
  if (params.start) startMs = parseInstant(params.start, nowMs);
  else if (params.window) {
    const ms = parseWindow(params.window);
    if (ms === null) throw new TimeRangeError(`window "${params.window}" must look like 15m, 1h or 30d`);
    startMs = endMs - ms;
  } else startMs = endMs - defaultWindowMs;
  if (startMs > endMs) throw new TimeRangeError('start must not be after end');
  return { startMs, endMs };
}

/**
 * The comparison window for `compare_to`: "previous" is the window of equal length just before, "-1d"
 * (any window literal) the same window shifted back by that much.
 */
export function comparisonRange(range: TimeRange, compareTo: string): TimeRange {
  const length = range.endMs - range.startMs;
  if (compareTo === 'previous') return { startMs: range.startMs - length, endMs: range.startMs };
  const shift = /^-(.+)$/.exec(compareTo.trim());
  const ms = shift ? parseWindow(shift[1] as string) : null;
  if (ms === null) throw new TimeRangeError(`compare_to "${compareTo}" must be "previous" or a shift like -1h, -1d, -7d`);
  return { startMs: range.startMs - ms, endMs: range.endMs - ms };
}
