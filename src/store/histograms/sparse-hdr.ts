import { deflateSync, inflateSync } from 'node:zlib';
import { HDR_HIGHEST_US, HDR_LAYOUT, HDR_LOWEST_US, HDR_SIGNIFICANT_DIGITS } from './latency-hdr.js';

/**
 * HDR bucket counts kept sparse (bucket index → count) on the write path, encoded straight into
 * HdrHistogram's V2 compressed format, so `decodeHistogram` (and any HdrHistogram library) reads them.
 *
 * Why not hdr-histogram-js objects here: a dense 1 µs–24 h, 3-digit histogram is a 113 KiB counts
 * array. The writer flushed ~1,100 of them every 2 s (each series' minute and hour), allocating
 * ~120 MB and stalling ingest for ~300 ms per flush. A minute of one series touches a few hundred
 * buckets, so a Map of those is ~100× smaller, and encoding walks only the buckets in use.
 */
export class SparseCounts {
  readonly counts = new Map<number, number>();
  total = 0;

  add(index: number, count: number): void {
    this.counts.set(index, (this.counts.get(index) ?? 0) + count);
    this.total += count;
  }

  merge(other: SparseCounts): void {
    for (const [index, count] of other.counts) this.add(index, count);
  }
}


/** The counts-array index of a value in microseconds (already clamped to the trackable range). */
export function bucketIndex(valueUs: number): number {
  return HDR_LAYOUT.countsArrayIndex(valueUs);
}

const V2_ENCODING_COOKIE = 0x1c849303 | 0x10;
const V2_COMPRESSED_COOKIE = 0x1c849304 | 0x10;
const HEADER_BYTES = 40;

// Scratch dense counts for encoding: scattering into it and walking the used index range is much
// cheaper than sorting the sparse indexes (a minute of a busy series has a couple of thousand).
const scratch = new Float64Array(HDR_LAYOUT.countsArrayLength);

/** Encodes as HdrHistogram V2 compressed base64 (what `encodeIntoCompressedBase64` produces). */
export function encodeSparse(sparse: SparseCounts): string {
  let lo = scratch.length;
  let hi = -1;
  for (const [index, count] of sparse.counts) {
    scratch[index] = count;
    if (index < lo) lo = index;
    if (index > hi) hi = index;
  }
  // Worst case per bucket: a zero-run word and a count word, 9 bytes each (LEB128 of 64-bit ZigZag).
  const payload = Buffer.allocUnsafe(HEADER_BYTES + sparse.counts.size * 18 + 9);
  let at = HEADER_BYTES;
  let zeros = lo > 0 ? lo : 0;
  for (let index = lo; index <= hi; index++) {
    const count = scratch[index] as number;
    if (count === 0) {
      zeros++;
      continue;
    }
    scratch[index] = 0;
    // V2 words: a positive ZigZag value is a count, a negative one a run of zero counts.
    if (zeros === 1) at = writeZigZag(payload, at, 0);
    else if (zeros > 1) at = writeZigZag(payload, at, -zeros);
    zeros = 0;
    at = writeZigZag(payload, at, count);
  }
  payload.writeInt32BE(V2_ENCODING_COOKIE, 0);
  payload.writeInt32BE(at - HEADER_BYTES, 4);
  payload.writeInt32BE(1, 8);
  payload.writeInt32BE(HDR_SIGNIFICANT_DIGITS, 12);
  writeInt64BE(payload, HDR_LOWEST_US, 16);
  writeInt64BE(payload, HDR_HIGHEST_US, 24);
  writeInt64BE(payload, 1, 32);
  const compressed = deflateSync(payload.subarray(0, at), { level: 1 });
  const out = Buffer.allocUnsafe(8 + compressed.byteLength);
  out.writeInt32BE(V2_COMPRESSED_COOKIE, 0);
  out.writeInt32BE(compressed.byteLength, 4);
  compressed.copy(out, 8);
  return out.toString('base64');
}

/** Reads an encoded histogram (ours or hdr-histogram-js's, same format) back into sparse counts. */
export function decodeSparse(encoded: string): SparseCounts {
  const outer = Buffer.from(encoded, 'base64');
  if (outer.byteLength < 8 || outer.readInt32BE(0) !== V2_COMPRESSED_COOKIE) {
    throw new Error('not an HdrHistogram V2 compressed histogram');
  }
  const payload = inflateSync(outer.subarray(8, 8 + outer.readInt32BE(4)));
  if (payload.readInt32BE(0) !== V2_ENCODING_COOKIE) throw new Error('not an HdrHistogram V2 histogram');
  const end = HEADER_BYTES + payload.readInt32BE(4);
  const sparse = new SparseCounts();
  let index = 0;
  for (let at = HEADER_BYTES; at < end; ) {
    let zigzag = 0;
    let scale = 1;
    for (;;) {
      const byte = payload[at++] as number;
      zigzag += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
      scale *= 128;
    }
    const value = zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2;
    if (value < 0) index -= value;
    else {
      if (value > 0) sparse.add(index, value);
      index++;
    }
  }
  return sparse;
}

function writeZigZag(buf: Buffer, at: number, value: number): number {
  let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
  while (zigzag >= 128) {
    buf[at++] = (zigzag % 128) | 0x80;
    zigzag = Math.floor(zigzag / 128);
  }
  buf[at++] = zigzag;
  return at;
}

function writeInt64BE(buf: Buffer, value: number, at: number): void {
  buf.writeInt32BE(Math.floor(value / 2 ** 32), at);
  buf.writeUInt32BE(value % 2 ** 32, at + 4);
}
