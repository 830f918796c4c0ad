/**
 * Pre-encoded OTLP trace export requests (see otlp-payload.ts) whose ids can be made unique per request by
 * patching a few bytes in place, so a load generator spends ~nothing per request (no protobuf encoding
 * on the hot path) and every acknowledged span is distinguishable in the store afterwards.
 *
 * Id layout (all ids stay valid: non-zero, right length):
 *   trace_id = nonce[0..8) | seq u32 BE | lane u8 | trace index u24
 *   span_id  = seq u32 BE  | lane+1 u8  | span index u24        (parent_span_id patched the same way)
 * so (run nonce, lane, seq, index) is globally unique and parent links survive the patch.
 * Timestamps (span start/end, event time) are shifted to the send time as well: real traffic has start
 * times that grow with arrival time, and time-keyed indexes behave very differently when they do not.
 */
import { decodeTracesRequest } from '../../src/codec/traces-decode.js';
import { encodeRequest, type PayloadShape } from './otlp-payload.js';

/** One pre-encoded request plus where its ids sit, so each send patches only ~3 × spans u32s. */
export class RequestTemplate {
  readonly spanCount: number;
  private readonly traceOffsets: number[] = [];
  private readonly spanOffsets: number[] = [];
  /** Per span, offsets of its own trace id and span id (for computing keys without decoding). */
  private readonly keyOffsets: [number, number][] = [];

  private readonly tsOffsets: number[] = [];
  private tsLo = new Uint32Array(0);
  private tsHi = new Uint32Array(0);

  /** `baseMs`: the wall-clock time the template's timestamps were generated for. */
  constructor(
    readonly body: Buffer,
    private readonly baseMs: number,
  ) {
    const decoded = decodeTracesRequest(body);
    const seenTrace = new Set<number>();
    for (const r of decoded.resources) {
      for (const sc of r.scopes) {
        for (const sp of sc.spans) {
          const tOff = sp.traceId.byteOffset - body.byteOffset;
          const sOff = sp.spanId.byteOffset - body.byteOffset;
          if (!seenTrace.has(tOff)) this.traceOffsets.push(tOff);
          seenTrace.add(tOff);
          this.spanOffsets.push(sOff);
          if (sp.parentSpanId.length === 8) this.spanOffsets.push(sp.parentSpanId.byteOffset - body.byteOffset);
          this.keyOffsets.push([tOff, sOff]);
          const rawOff = sp.raw.byteOffset - body.byteOffset;
          findTimestamps(body, rawOff, rawOff + sp.raw.length, this.tsOffsets);
        }
      }
    }
    this.spanCount = decoded.spanCount;
    this.tsLo = Uint32Array.from(this.tsOffsets, (off) => body.readUInt32LE(off));
    this.tsHi = Uint32Array.from(this.tsOffsets, (off) => body.readUInt32LE(off + 4));
  }

  /**
   * Patches ids for request `seq` and shifts timestamps to `nowMs`, in place; returns the body (valid
   * until the next stamp). 64-bit adds done as two 32-bit halves: no BigInt on the hot path.
   */
  stamp(seq: number, nowMs = Date.now()): Buffer {
    const b = this.body;
    for (const off of this.traceOffsets) b.writeUInt32BE(seq, off + 8);
    for (const off of this.spanOffsets) b.writeUInt32BE(seq, off);
    const delta = Math.max(0, Math.round(nowMs - this.baseMs)) * 1_000_000;
    const dHi = Math.floor(delta / 4294967296);
    const dLo = delta - dHi * 4294967296;
    const { tsOffsets, tsLo, tsHi } = this;
    for (let k = 0; k < tsOffsets.length; k++) {
      const off = tsOffsets[k] as number;
      let lo = (tsLo[k] as number) + dLo;
      let hi = (tsHi[k] as number) + dHi;
      if (lo >= 4294967296) {
        lo -= 4294967296;
        hi += 1;
      }
      b.writeUInt32LE(lo, off);
      b.writeUInt32LE(hi >>> 0, off + 4);
    }
    return b;
  }

  /** Store keys (trace_id ‖ span_id as latin1) of every span of request `seq`. */
  keys(seq: number, out: (key: string) => void): void {
    const t = Buffer.alloc(16);
    const sp = Buffer.alloc(8);
    for (const [tOff, sOff] of this.keyOffsets) {
      this.body.copy(t, 0, tOff, tOff + 16);
      this.body.copy(sp, 0, sOff, sOff + 8);
      t.writeUInt32BE(seq, 8);
      sp.writeUInt32BE(seq, 0);
      out(t.toString('latin1') + sp.toString('latin1'));
    }
  }

  /** Trace ids (hex) of request `seq` with their span counts, for lookups through the API. */
  traces(seq: number): { traceId: string; spans: number }[] {
    const counts = new Map<string, number>();
    const t = Buffer.alloc(16);
    for (const [tOff] of this.keyOffsets) {
      this.body.copy(t, 0, tOff, tOff + 16);
      t.writeUInt32BE(seq, 8);
      const hex = t.toString('hex');
      counts.set(hex, (counts.get(hex) ?? 0) + 1);
    }
    return [...counts].map(([traceId, spans]) => ({ traceId, spans }));
  }
}

function varint(b: Buffer, pos: { p: number }): number {
  let result = 0;
  let mul = 1;
  for (;;) {
    const byte = b[pos.p++] as number;
    result += (byte & 0x7f) * mul;
    if (byte < 0x80) return result;
    mul *= 128;
  }
}

/** Offsets of the 8 value bytes of Span.start/end_time_unix_nano (7, 8) and Event.time_unix_nano (11 → 1). */
function findTimestamps(b: Buffer, start: number, end: number, out: number[]): void {
  const pos = { p: start };
  while (pos.p < end) {
    const tag = varint(b, pos);
    const field = tag >>> 3;
    const wire = tag & 7;
    if (wire === 1) {
      if (field === 7 || field === 8) out.push(pos.p);
      pos.p += 8;
    } else if (wire === 2) {
      const len = varint(b, pos);
      const eventStart = pos.p;
      const eventEnd = pos.p + len;
      pos.p = eventEnd;
      if (field !== 11) continue;
      const ep = { p: eventStart };
      while (ep.p < eventEnd) {
        const t = varint(b, ep);
        if ((t & 7) === 1) {
          if (t >>> 3 === 1) out.push(ep.p);
          ep.p += 8;
        } else if ((t & 7) === 2) ep.p += varint(b, ep);
        else if ((t & 7) === 5) ep.p += 4;
        else varint(b, ep);
      }
    } else if (wire === 5) pos.p += 4;
    else varint(b, pos);
  }
}

/**
 * One load "lane" (one request in flight at a time): rotates over a few template variants and numbers
 * its requests. Because a lane never has two requests in flight, patching its buffers in place is safe.
 */
export class Lane {
  private nextSeq = 1;
  readonly variants: RequestTemplate[];

  constructor(readonly laneId: number, shape: PayloadShape, nonce: Buffer, baseNs: bigint, variants = 3, seed = 1) {
    if (laneId < 0 || laneId > 254) throw new Error('lane id must be 0..254');
    this.variants = [];
    for (let v = 0; v < variants; v++) {
      const body = encodeRequest(shape, seed * 1000 + laneId * 17 + v, laneId, nonce, baseNs);
      this.variants.push(new RequestTemplate(body, Number(baseNs / 1_000_000n)));
    }
  }

  template(seq: number): RequestTemplate {
    return this.variants[seq % this.variants.length] as RequestTemplate;
  }

  next(): { seq: number; body: Buffer; spans: number } {
    const seq = this.nextSeq++;
    const t = this.template(seq);
    return { seq, body: t.stamp(seq), spans: t.spanCount };
  }
}

/** A random 8-byte run nonce with a non-zero first byte (so no trace id can be all zeroes). */
export function runNonce(): Buffer {
  const n = Buffer.alloc(8);
  for (let k = 0; k < 8; k++) n[k] = Math.floor(Math.random() * 256);
  n[0] = (n[0] as number) | 1;
  return n;
}
