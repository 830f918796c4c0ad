/**
 * The protocol status attributes (HTTP and gRPC status codes) that decide ERR-v1's effective error of a
 * span whose status is UNSET, read from a KeyValue's bytes while the decoder passes the attributes anyway.
 */
import { bytesEqual, WIRE_FIXED64, WIRE_LEN, WIRE_VARINT, WireReader } from './wire-reader.js';

const utf8 = new TextEncoder();
const HTTP_STATUS = utf8.encode('http.response.status_code');
const HTTP_STATUS_OLD = utf8.encode('http.status_code');
const GRPC_STATUS = utf8.encode('rpc.grpc.status_code');
export const HTTP_KEY = 1;
export const HTTP_OLD_KEY = 2;
export const GRPC_KEY = 3;

/**
 * Which protocol status attribute the KeyValue at [s, e) is (0: none). The three keys differ in length
 * (25, 16, 20 bytes), so most attributes are dismissed by their key's length byte alone; a key is
 * field 1 and comes first in every SDK's encoding (a key elsewhere is simply not recognised).
 */
export function statusKey(buf: Uint8Array, s: number, e: number): number {
  if (buf[s] !== 0x0a) return 0;
  const len = buf[s + 1] as number;
  const key = len === 25 ? HTTP_STATUS : len === 16 ? HTTP_STATUS_OLD : len === 20 ? GRPC_STATUS : null;
  if (key === null || s + 2 + len > e || !bytesEqual(buf, s + 2, s + 2 + len, key)) return 0;
  return key === HTTP_STATUS ? HTTP_KEY : key === HTTP_STATUS_OLD ? HTTP_OLD_KEY : GRPC_KEY;
}

/**
 * The value of KeyValue field 2 after the key at `at`: an int, a double or a numeric string (some SDKs
 * send strings). The common case (one-byte lengths, an int value) is read without allocating.
 */
function statusValue(buf: Uint8Array, at: number, end: number): number | undefined {
  if (buf[at] === 0x12 && at + 3 < end && (buf[at + 1] as number) < 0x80 && buf[at + 2] === 0x18) {
    let value = 0;
    let multiplier = 1;
    for (let p = at + 3; p < end && p < at + 8; p++) {
      const byte = buf[p] as number;
      value += (byte & 0x7f) * multiplier;
      if (byte < 0x80) return value;
      multiplier *= 128;
    }
    return undefined; // ≥ 2^35 or negative: no status code
  }
  const r = new WireReader(buf, at, end);
  let value: number | undefined;
  while (!r.done) {
    const tag = r.varint();
    if (tag !== ((2 << 3) | WIRE_LEN)) {
      r.skip(tag & 7);
      continue;
    }
    const [vs, ve] = r.lengthDelimited();
    const any = new WireReader(buf, vs, ve);
    while (!any.done) {
      const t = any.varint();
      if (t === ((3 << 3) | WIRE_VARINT)) {
        const v = Number(BigInt.asIntN(64, any.varintBig()));
        value = Number.isSafeInteger(v) ? v : undefined;
      } else if (t === ((4 << 3) | WIRE_FIXED64)) {
        const f64 = new Float64Array(new BigUint64Array([any.fixed64()]).buffer)[0] as number;
        value = Number.isFinite(f64) ? f64 : undefined;
      } else if (t === ((1 << 3) | WIRE_LEN)) {
        const text = any.string();
        value = /^\s*-?\d+\s*$/.test(text) ? Number(text) : undefined;
      } else any.skip(t & 7);
    }
  }
  return value;
}


/** The value of the status attribute `key` (statusKey) whose KeyValue is [s, e). */
export function statusValueOf(buf: Uint8Array, s: number, e: number, key: number): number | undefined {
  const keyLength = key === HTTP_KEY ? HTTP_STATUS.length : key === HTTP_OLD_KEY ? HTTP_STATUS_OLD.length : GRPC_STATUS.length;
  return statusValue(buf, s + 2 + keyLength, e);
}
