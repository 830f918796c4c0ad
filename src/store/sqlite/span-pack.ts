/**
 * The spans of one trace chunk (a trace's spans within one commit) packed into one BLOB.
 *
 * Why not one row per span: SQLite's cost here is per row (statement bind, B-tree append, WAL frame
 * bookkeeping), not per byte. Packing a trace's spans of a commit into one row cuts the rows written per
 * span by about the trace's size (10× for 10-span traces) and makes reading a trace one index probe plus
 * a sequential unpack. Spans are only ever read a trace at a time (or replayed in bulk), so nothing is
 * lost by not having them as rows.
 *
 * Record layout, little-endian, repeated `span_count` times:
 *   0  span_id        8 bytes
 *   8  parent_span_id 8 bytes (all zero when flags bit 0 is clear)
 *  16  flags          u8  (bit 0: has a parent)
 *  17  kind           u8
 *  18  status_code    u8
 *  19  flags2         u8  (SPAN_FLAG_*: ingest-time facts; 0 in chunks written before they existed)
 *  20  service_id     u32
 *  24  name_id        u32
 *  28  resource_id    u32
 *  32  scope_id       u32
 *  36  start_ns       u64
 *  44  end_ns         u64
 *  52  raw_length     u32
 *  56  raw            the span's protobuf bytes as received
 */
export const PACKED_SPAN_HEADER_BYTES = 56;

/** Byte offset of each header field within a record (the layout above), for readers that scan records in bulk. */
export const PACKED_FIELD = {
  spanId: 0,
  parentSpanId: 8,
  hasParent: 16,
  kind: 17,
  statusCode: 18,
  flags: 19,
  serviceId: 20,
  nameId: 24,
  resourceId: 28,
  scopeId: 32,
  startNs: 36,
  endNs: 44,
  rawLength: 52,
} as const;

/** flags2 bits. KNOWN marks records whose other bits were computed (older records have 0: unknown). */
export const SPAN_FLAG_EFFECTIVE_ERROR = 1;
export const SPAN_FLAG_HAS_LINKS = 2;
export const SPAN_FLAG_KNOWN = 0x80;

export interface SpanToPack {
  spanId: Uint8Array;
  parentSpanId: Uint8Array;
  kind: number;
  statusCode: number;
  serviceId: number;
  nameId: number;
  resourceId: number;
  scopeId: number;
  startNs: bigint;
  endNs: bigint;
  raw: Uint8Array;
  /** flags2 (SPAN_FLAG_*); 0 when unknown. */
  flags?: number;
}

// Buffer#writeBigUInt64LE allocates intermediate BigInts: ~150 ns a call against ~20 ns through a
// typed-array store and a byte copy, twice per span on the writer thread.
const U64 = new BigUint64Array(1);
const U64_BYTES = new Uint8Array(U64.buffer);
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Little-endian, as writeBigUInt64LE; `value` is a u64 (decoded from a fixed64). */
export function writeU64(out: Buffer, value: bigint, at: number): void {
  if (!LITTLE_ENDIAN_HOST) {
    out.writeBigUInt64LE(value, at);
    return;
  }
  U64[0] = value;
  for (let i = 0; i < 8; i++) out[at + i] = U64_BYTES[i] as number;
}

export function packSpans(spans: readonly SpanToPack[]): Buffer {
  let size = 0;
  for (const s of spans) size += PACKED_SPAN_HEADER_BYTES + s.raw.byteLength;
  const out = Buffer.allocUnsafe(size);
  let at = 0;
  for (const s of spans) {
    out.set(s.spanId, at);
    if (s.parentSpanId.byteLength === 8) out.set(s.parentSpanId, at + 8);
    else out.fill(0, at + 8, at + 16);
    out[at + 16] = s.parentSpanId.byteLength === 8 ? 1 : 0;
    out[at + 17] = s.kind;
    out[at + 18] = s.statusCode;
    out[at + 19] = s.flags ?? 0;
    out.writeUInt32LE(s.serviceId, at + 20);
    out.writeUInt32LE(s.nameId, at + 24);
    out.writeUInt32LE(s.resourceId, at + 28);
    out.writeUInt32LE(s.scopeId, at + 32);
    writeU64(out, s.startNs, at + 36);
    writeU64(out, s.endNs, at + 44);
    out.writeUInt32LE(s.raw.byteLength, at + 52);
    out.set(s.raw, at + PACKED_SPAN_HEADER_BYTES);
    at += PACKED_SPAN_HEADER_BYTES + s.raw.byteLength;
  }
  return out;
}

/** A cursor over packed spans: `next()` moves to the following record; fields read the current one. */
export class PackedSpans {
  private at = -1;
  private nextAt = 0;

  constructor(private readonly buf: Buffer) {}

  next(): boolean {
    if (this.nextAt >= this.buf.byteLength) return false;
    this.at = this.nextAt;
    this.nextAt = this.at + PACKED_SPAN_HEADER_BYTES + this.buf.readUInt32LE(this.at + 52);
    if (this.nextAt > this.buf.byteLength) throw new Error('packed spans: record overruns the chunk (corrupt row)');
    return true;
  }

  get spanId(): Buffer {
    return this.buf.subarray(this.at, this.at + 8);
  }
  /** spanId as 16 hex digits, without a Buffer view in between (read paths build thousands). */
  get spanIdHex(): string {
    return this.buf.toString('hex', this.at, this.at + 8);
  }
  /** parentSpanId as hex; "" for a root span. */
  get parentSpanIdHex(): string {
    return this.buf[this.at + 16] === 1 ? this.buf.toString('hex', this.at + 8, this.at + 16) : '';
  }
  /** Empty for a root span. */
  get parentSpanId(): Buffer {
    return this.buf[this.at + 16] === 1 ? this.buf.subarray(this.at + 8, this.at + 16) : this.buf.subarray(0, 0);
  }
  get kind(): number {
    return this.buf[this.at + 17] as number;
  }
  get statusCode(): number {
    return this.buf[this.at + 18] as number;
  }
  /** SPAN_FLAG_* bits; without SPAN_FLAG_KNOWN the record predates them and nothing is known. */
  get flags(): number {
    return this.buf[this.at + 19] as number;
  }
  get serviceId(): number {
    return this.buf.readUInt32LE(this.at + 20);
  }
  get nameId(): number {
    return this.buf.readUInt32LE(this.at + 24);
  }
  get resourceId(): number {
    return this.buf.readUInt32LE(this.at + 28);
  }
  get scopeId(): number {
    return this.buf.readUInt32LE(this.at + 32);
  }
  get startNs(): bigint {
    return this.buf.readBigUInt64LE(this.at + 36);
  }
  get endNs(): bigint {
    return this.buf.readBigUInt64LE(this.at + 44);
  }
  get raw(): Buffer {
    return this.buf.subarray(this.at + PACKED_SPAN_HEADER_BYTES, this.nextAt);
  }
}
