/**
 * One trace's span headers as parallel typed arrays, index i = the i-th span in arrival order.
 *
 * Why not TraceSpan[]: a 10k-span trace as objects is 10k objects, 20k BigInts and 20k id strings per
 * read, all of it garbage a few milliseconds later; that allocation, not the arithmetic, is what a
 * critical path of a large trace pays for (GC pauses dominate its p99). Columns are a handful of
 * allocations whatever the trace size, and strings are only built for the spans an answer shows.
 *
 * Times are integer nanosecond offsets from `baseNs`, held in doubles. An offset is exact while it is a
 * safe integer (|offset| < 2^53 ns, 104 days), which holds for any trace a clock produced; a consumer
 * that meets a larger one must fall back to the BigInt TraceSpans instead of computing with it.
 */
import type { TraceLink, TraceSpan } from './trace.js';

/** How much a columnar read decodes beyond the headers: as TraceDetail, without `full`. */
export type TraceColumnsDetail = 'timing' | 'links' | 'errors';

/** What the `errors` detail decodes of a span that is (or may be) an ERR-v1 error, as getTraceSpans does. */
export type SpanErrorDetails = Pick<TraceSpan, 'statusMessage' | 'attributes' | 'events'>;

export interface TraceColumns {
  /** 32 lower-case hex digits. */
  traceId: string;
  count: number;
  /**
   * Span ids as two big-endian 32-bit halves: comparing (hi, lo) numerically orders spans exactly as
   * comparing their lower-case hex strings does.
   */
  spanIdHi: Uint32Array;
  spanIdLo: Uint32Array;
  /** 1 when the span declares a parent (present and not all zeros); the parent id halves are 0 otherwise. */
  hasParent: Uint8Array;
  parentIdHi: Uint32Array;
  parentIdLo: Uint32Array;
  /** OTLP SpanKind. */
  kind: Uint8Array;
  /** OTLP Status.StatusCode. */
  statusCode: Uint8Array;
  /** Index into `services` / `names`. */
  service: Uint32Array;
  name: Uint32Array;
  services: readonly string[];
  names: readonly string[];
  /** Any fixed instant (the store uses the first span's start); offsets below are from it. */
  baseNs: bigint;
  startNs: Float64Array;
  endNs: Float64Array;
  /** Links of the spans that have any (absent: none), for the FOLLOWS_FROM rule of CP-v1; empty with `timing`. */
  links: ReadonlyMap<number, readonly TraceLink[]>;
  /**
   * Only when read with the `errors` detail: status message, attributes and events of the spans that
   * getTraceSpans(`errors`) decodes in full (the ERR-v1 error candidates); every other span then has none,
   * exactly as in those TraceSpans. Absent otherwise: no span has attributes (`links`, `timing`).
   */
  errorDetails?: ReadonlyMap<number, SpanErrorDetails>;
}

/** 16 lower-case hex digits of a span id given as big-endian halves. */
export function spanIdHex(hi: number, lo: number): string {
  return hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');
}
