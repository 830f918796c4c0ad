/**
 * One commit's new spans as columns over the requests' transferred buffers (decoded-transfer.ts), grouped
 * by trace. The writer is the one serial stage of ingest, and rebuilding an object per span with four
 * id and byte views and two BigInt times, then a second object to group it, cost it about a fifth of its
 * time plus the garbage collection behind it; here a span is a row of integers in typed arrays that are
 * reused from commit to commit, and its bytes are copied straight from the request into the chunk.
 */
import type { TransferredTraces } from './decoded-transfer.js';
import { LAYOUT, TIME_HI, TIME_LO } from '../../codec/trace-layout.js';
import { grown } from './typed-arrays.js';
import { PACKED_SPAN_HEADER_BYTES, SPAN_FLAG_EFFECTIVE_ERROR, SPAN_FLAG_HAS_LINKS, SPAN_FLAG_KNOWN, writeU64 } from './span-pack.js';

const { NONE, KIND_BITS, STATUS_SHIFT, EFFECTIVE_ERROR, HAS_LINKS } = LAYOUT;
const TWO_32 = 2 ** 32;
const LO = TIME_LO;
const HI = TIME_HI;
const LITTLE_ENDIAN_HOST = LO === 0;

/** A transferred request viewed once per commit. */
export class RequestView {
  readonly bytes: Buffer;
  readonly layout: Uint32Array;
  /** Per span: start lo, start hi, end lo, end hi. */
  readonly times32: Uint32Array;
  readonly times64: BigUint64Array;
  private readonly timesBytes: Uint8Array;

  constructor(readonly transferred: TransferredTraces) {
    this.bytes = Buffer.from(transferred.bytes);
    this.layout = new Uint32Array(transferred.layout);
    this.times32 = new Uint32Array(transferred.times);
    this.times64 = new BigUint64Array(transferred.times);
    this.timesBytes = new Uint8Array(transferred.times);
  }

  /** Start time in ns as a double (exact to ~256 ns, enough for minutes and seconds). */
  startNumber(time: number): number {
    return (this.times32[4 * time + HI] as number) * TWO_32 + (this.times32[4 * time + LO] as number);
  }

  /** end − start in ns, 0 when the end is not after the start; exact below 2^53 ns (104 days). */
  durationNs(time: number): number {
    const t = this.times32;
    const sHi = t[4 * time + HI] as number;
    const sLo = t[4 * time + LO] as number;
    const eHi = t[4 * time + 2 + HI] as number;
    const eLo = t[4 * time + 2 + LO] as number;
    return eHi > sHi || (eHi === sHi && eLo > sLo) ? (eHi - sHi) * TWO_32 + (eLo - sLo) : 0;
  }

  /** A word of span time `time`'s start: the high one when `high`. */
  startWord(time: number, high: boolean): number {
    return this.times32[4 * time + (high ? HI : LO)] as number;
  }

  /** end − start exactly, 0 when the end is not after the start, as u32 words into out[0] (low) and out[1]. */
  durationWords(time: number, out: Uint32Array): void {
    const t = this.times32;
    const sHi = t[4 * time + HI] as number;
    const sLo = t[4 * time + LO] as number;
    const eHi = t[4 * time + 2 + HI] as number;
    const eLo = t[4 * time + 2 + LO] as number;
    if (eHi > sHi || (eHi === sHi && eLo > sLo)) {
      out[0] = eLo - sLo;
      out[1] = eHi - sHi - (eLo < sLo ? 1 : 0);
    } else {
      out[0] = out[1] = 0;
    }
  }

  /** Whether span time `a`'s start (end when `end`) is before span time `b`'s in view `other`. */
  timeBefore(a: number, other: RequestView, b: number, end: boolean): boolean {
    const k = end ? 2 : 0;
    const aHi = this.times32[4 * a + k + HI] as number;
    const bHi = other.times32[4 * b + k + HI] as number;
    return aHi < bHi || (aHi === bHi && (this.times32[4 * a + k + LO] as number) < (other.times32[4 * b + k + LO] as number));
  }

  /** Copies span time `time`'s start and end into a packed record (u64 little-endian each). */
  copyTimes(time: number, out: Buffer, at: number): void {
    if (!LITTLE_ENDIAN_HOST) {
      writeU64(out, this.times64[2 * time] as bigint, at);
      writeU64(out, this.times64[2 * time + 1] as bigint, at + 8);
      return;
    }
    const from = 16 * time;
    const src = this.timesBytes;
    for (let i = 0; i < 16; i++) out[at + i] = src[from + i] as number;
  }
}

/** The new spans of one commit, in arrival order, chained per trace. */
export class SpanColumns {
  length = 0;
  traceCount = 0;
  request = new Int32Array(1024);
  /** Offset of the span's words in its request's layout. */
  word = new Int32Array(1024);
  /** Index of the span in its request's times. */
  time = new Int32Array(1024);
  service = new Int32Array(1024);
  name = new Int32Array(1024);
  resource = new Int32Array(1024);
  scope = new Int32Array(1024);
  /** The next span of the same trace in this commit, or -1. */
  next = new Int32Array(1024);
  /** The trace chunk the span went into, once inserted. */
  chunk = new Float64Array(1024);
  /** Per trace (in order of first arrival): its first and last span. */
  head = new Int32Array(256);
  tail = new Int32Array(256);
  private readonly traces = new Map<string, number>();

  reset(): void {
    this.length = 0;
    this.traceCount = 0;
    this.traces.clear();
  }

  /** Appends a span of the trace keyed `traceKey` and returns its index. */
  push(traceKey: string, request: number, word: number, time: number, service: number, name: number, resource: number, scope: number): number {
    const i = this.length++;
    if (i >= this.request.length) this.grow(i + 1);
    this.request[i] = request;
    this.word[i] = word;
    this.time[i] = time;
    this.service[i] = service;
    this.name[i] = name;
    this.resource[i] = resource;
    this.scope[i] = scope;
    this.next[i] = -1;
    const trace = this.traces.get(traceKey);
    if (trace === undefined) {
      const t = this.traceCount++;
      if (t >= this.head.length) {
        this.head = grown(this.head, t + 1);
        this.tail = grown(this.tail, t + 1);
      }
      this.head[t] = i;
      this.tail[t] = i;
      this.traces.set(traceKey, t);
    } else {
      this.next[this.tail[trace] as number] = i;
      this.tail[trace] = i;
    }
    return i;
  }

  private grow(length: number): void {
    this.request = grown(this.request, length);
    this.word = grown(this.word, length);
    this.time = grown(this.time, length);
    this.service = grown(this.service, length);
    this.name = grown(this.name, length);
    this.resource = grown(this.resource, length);
    this.scope = grown(this.scope, length);
    this.next = grown(this.next, length);
    this.chunk = grown(this.chunk, length);
  }
}

/** The layout bits of span `i`: kind, status code, EFFECTIVE_ERROR, HAS_LINKS. */
export function spanBits(cols: SpanColumns, views: readonly RequestView[], i: number): number {
  return (views[cols.request[i] as number] as RequestView).layout[(cols.word[i] as number) + 4] as number;
}

export function isEffectiveError(bits: number): boolean {
  return (bits & EFFECTIVE_ERROR) !== 0;
}

export function kindOf(bits: number): number {
  return bits & KIND_BITS;
}

/**
 * Chunks are packed into one reused buffer: SQLite copies a bound blob (better-sqlite3 binds with
 * SQLITE_TRANSIENT), and a fresh multi-KB buffer per chunk was a malloc plus garbage-collector work.
 */
let packBuffer = Buffer.allocUnsafeSlow(256 * 1024);

/**
 * Packs the trace whose first span is `first` into one chunk (span-pack.ts layout), in arrival order.
 * The result is valid until the next call: bind or copy it at once.
 */
export function packTrace(cols: SpanColumns, views: readonly RequestView[], first: number): Buffer {
  let size = 0;
  for (let i = first; i >= 0; i = cols.next[i] as number) {
    const view = views[cols.request[i] as number] as RequestView;
    size += PACKED_SPAN_HEADER_BYTES + (view.layout[(cols.word[i] as number) + 6] as number);
  }
  if (size > packBuffer.length) packBuffer = Buffer.allocUnsafeSlow(Math.max(size, 2 * packBuffer.length));
  const out = packBuffer.subarray(0, size);
  let at = 0;
  for (let i = first; i >= 0; i = cols.next[i] as number) {
    const view = views[cols.request[i] as number] as RequestView;
    const layout = view.layout;
    const bytes = view.bytes;
    const w = cols.word[i] as number;
    const spanAt = layout[w + 1] as number;
    for (let k = 0; k < 8; k++) out[at + k] = bytes[spanAt + k] as number;
    const parentAt = layout[w + 2] as number;
    if (parentAt === NONE) {
      for (let k = 8; k < 16; k++) out[at + k] = 0;
      out[at + 16] = 0;
    } else {
      for (let k = 0; k < 8; k++) out[at + 8 + k] = bytes[parentAt + k] as number;
      out[at + 16] = 1;
    }
    const bits = layout[w + 4] as number;
    out[at + 17] = bits & KIND_BITS;
    out[at + 18] = (bits >>> STATUS_SHIFT) & 0xf;
    out[at + 19] = SPAN_FLAG_KNOWN | ((bits & EFFECTIVE_ERROR) !== 0 ? SPAN_FLAG_EFFECTIVE_ERROR : 0) | ((bits & HAS_LINKS) !== 0 ? SPAN_FLAG_HAS_LINKS : 0);
    out.writeUInt32LE(cols.service[i] as number, at + 20);
    out.writeUInt32LE(cols.name[i] as number, at + 24);
    out.writeUInt32LE(cols.resource[i] as number, at + 28);
    out.writeUInt32LE(cols.scope[i] as number, at + 32);
    view.copyTimes(cols.time[i] as number, out, at + 36);
    const rawAt = layout[w + 5] as number;
    const rawLength = layout[w + 6] as number;
    out.writeUInt32LE(rawLength, at + 52);
    bytes.copy(out, at + PACKED_SPAN_HEADER_BYTES, rawAt, rawAt + rawLength);
    at += PACKED_SPAN_HEADER_BYTES + rawLength;
  }
  return out;
}
