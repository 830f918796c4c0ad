/**
 * A minimal protobuf wire-format reader. The ingest path uses it instead of protobufjs objects because it
 * can keep sub-messages as zero-copy views (a span is stored as the exact bytes it arrived in) and skip
 * everything it does not need; protobufjs is still used for the cold paths (JSON transcoding, read API).
 */
export class MalformedProtobufError extends Error {
  override readonly name = 'MalformedProtobufError';
}

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

const textDecoder = new TextDecoder('utf-8', { fatal: false });

export class WireReader {
  pos: number;
  end: number;

  constructor(
    public buf: Uint8Array,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  /** Points this reader at another message, so a hot loop can read many with one reader. */
  reset(buf: Uint8Array, start: number, end: number): this {
    this.buf = buf;
    this.pos = start;
    this.end = end;
    return this;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads a varint that fits in 2^53; tags, lengths, enums and counts all do. */
  varint(): number {
    const { buf, end } = this;
    let result = 0;
    let multiplier = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw new MalformedProtobufError('truncated varint');
      const byte = buf[this.pos++] as number;
      result += (byte & 0x7f) * multiplier;
      if (byte < 0x80) return result;
      multiplier *= 128;
    }
    throw new MalformedProtobufError('varint longer than 10 bytes');
  }

  /** Reads a varint as an unsigned 64-bit BigInt (for int64 values that may exceed 2^53). */
  varintBig(): bigint {
    const { buf, end } = this;
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw new MalformedProtobufError('truncated varint');
      const byte = buf[this.pos++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
      shift += 7n;
    }
    throw new MalformedProtobufError('varint longer than 10 bytes');
  }

  fixed64(): bigint {
    if (this.pos + 8 > this.end) throw new MalformedProtobufError('truncated fixed64');
    const b = this.buf;
    const p = this.pos;
    const lo = ((b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16) | ((b[p + 3] as number) << 24)) >>> 0;
    const hi = ((b[p + 4] as number) | ((b[p + 5] as number) << 8) | ((b[p + 6] as number) << 16) | ((b[p + 7] as number) << 24)) >>> 0;
    this.pos = p + 8;
    return (BigInt(hi) << 32n) | BigInt(lo);
  }

  /** Reads a fixed64 as its low and high u32 words into `out` (no BigInt). */
  fixed64Words(out: Uint32Array, loIndex: number, hiIndex: number): void {
    if (this.pos + 8 > this.end) throw new MalformedProtobufError('truncated fixed64');
    const b = this.buf;
    const p = this.pos;
    out[loIndex] = (b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16) | ((b[p + 3] as number) << 24);
    out[hiIndex] = (b[p + 4] as number) | ((b[p + 5] as number) << 8) | ((b[p + 6] as number) << 16) | ((b[p + 7] as number) << 24);
    this.pos = p + 8;
  }

  fixed32(): number {
    if (this.pos + 4 > this.end) throw new MalformedProtobufError('truncated fixed32');
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return ((b[p] as number) | ((b[p + 1] as number) << 8) | ((b[p + 2] as number) << 16) | ((b[p + 3] as number) << 24)) >>> 0;
  }

  /** Returns [start, end) of a length-delimited field and moves past it. */
  lengthDelimited(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    const stop = start + len;
    if (stop > this.end) throw new MalformedProtobufError('length-delimited field runs past its message');
    this.pos = stop;
    return [start, stop];
  }

  bytes(): Uint8Array {
    const [start, stop] = this.lengthDelimited();
    return this.buf.subarray(start, stop);
  }

  string(): string {
    const [start, stop] = this.lengthDelimited();
    return start === stop ? '' : textDecoder.decode(this.buf.subarray(start, stop));
  }

  /** Skips a field of the given wire type; unknown fields must be skipped, not rejected (proto3). */
  skip(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        this.advance(8);
        return;
      case WIRE_LEN:
        this.lengthDelimited();
        return;
      case WIRE_FIXED32:
        this.advance(4);
        return;
      default:
        // Groups (3, 4) are not used by any OTLP message.
        throw new MalformedProtobufError(`unsupported wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new MalformedProtobufError('truncated field');
    this.pos += n;
  }
}

export function bytesEqual(buf: Uint8Array, start: number, end: number, expected: Uint8Array): boolean {
  if (end - start !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (buf[start + i] !== expected[i]) return false;
  return true;
}
