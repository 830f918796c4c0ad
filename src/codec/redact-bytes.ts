/**
 * Byte-level helpers of the redaction rewriter (redact.ts): key tables matched without building
 * strings, the one-pass prefilters that decide whether a string value is worth decoding, and the
 * re-encoding of a message whose fields changed.
 */
const WIRE_LEN = 2;
// The prefilter bits of redact-values.ts (HIT_*), as local constants: imported bindings are read through
// accessors in some module loaders (tsx), which showed up as the top cost of the scan.
const HIT_EMAIL = 1;
const HIT_CARD = 2;
const HIT_BEARER = 4;
const HIT_JWT = 8;
const textEncoder = new TextEncoder();

/** Lowercased UTF-8 bytes of `text`, for byte-wise key comparison. */
export const lowerBytes = (text: string): Uint8Array => textEncoder.encode(text.toLowerCase());

const lower = (c: number): number => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c);

/**
 * A constant-time key hash: length, first, middle and last byte (ASCII-lowercased). Collisions are
 * settled by a byte comparison; what matters is that almost every key misses the table in O(1).
 */
export function shortHash(buf: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n === 0) return 0;
  const h = Math.imul(Math.imul(n, 31) + lower(buf[start] as number), 31) + lower(buf[start + (n >> 1)] as number);
  return (Math.imul(h, 31) + lower(buf[end - 1] as number)) | 0;
}

export const hashBytes = (bytes: Uint8Array): number => shortHash(bytes, 0, bytes.length);

/** buf[start, end) equals `lower` with ASCII letters of buf lowercased (key matching is ASCII-case-insensitive). */
function equalsLower(buf: Uint8Array, start: number, end: number, lower: Uint8Array): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    let c = buf[start + i] as number;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    if (c !== lower[i]) return false;
  }
  return true;
}

/** Keys by hash, with a 4096-slot presence table in front so that a miss (nearly every key) costs one array read. */
export class KeyTable<T> {
  private readonly byHash = new Map<number, { bytes: Uint8Array; value: T }[]>();
  private readonly present = new Uint8Array(4096);
  add(key: string, value: T): void {
    const bytes = lowerBytes(key);
    const h = hashBytes(bytes);
    this.present[h & 4095] = 1;
    const list = this.byHash.get(h);
    if (list) list.push({ bytes, value });
    else this.byHash.set(h, [{ bytes, value }]);
  }
  get size(): number {
    return this.byHash.size;
  }
  find(hash: number, buf: Uint8Array, start: number, end: number): T | undefined {
    if (this.present[hash & 4095] === 0) return undefined;
    const list = this.byHash.get(hash);
    if (list === undefined) return undefined;
    for (const entry of list) if (equalsLower(buf, start, end, entry.bytes)) return entry.value;
    return undefined;
  }
}


/**
 * One pass over a string's bytes: which built-in patterns could match. False positives only cost a
 * decode and a regex; a false negative would leak, so each test is a necessary condition of its regex.
 */
export function prefilter(buf: Uint8Array, start: number, end: number): number {
  let hits = 0;
  let digits = 0;
  let sep = false;
  for (let i = start; i < end; i++) {
    const c = BYTE_CLASS[buf[i] as number] as number;
    if (c === C_OTHER) {
      digits = 0;
      sep = false;
    } else if (c === C_DIGIT) {
      sep = false;
      if (++digits >= 13) hits |= HIT_CARD;
    } else if (c === C_SEP) {
      if (digits > 0 && !sep) sep = true;
      else {
        digits = 0;
        sep = false;
      }
    } else {
      digits = 0;
      sep = false;
      if (c === C_AT) hits |= HIT_EMAIL;
      else if (c === C_E) {
        if (i + 2 < end && buf[i + 1] === 0x79 && buf[i + 2] === 0x4a) hits |= HIT_JWT;
      } else if (i + 6 < end) {
        // "bearer" in any case (the regex is case-insensitive), then at least one more byte.
        if (
          ((buf[i + 1] as number) | 0x20) === 0x65 &&
          ((buf[i + 2] as number) | 0x20) === 0x61 &&
          ((buf[i + 3] as number) | 0x20) === 0x72 &&
          ((buf[i + 4] as number) | 0x20) === 0x65 &&
          ((buf[i + 5] as number) | 0x20) === 0x72
        ) {
          hits |= HIT_BEARER;
        }
      }
    }
  }
  return hits;
}

const C_OTHER = 0;
const C_DIGIT = 1;
const C_SEP = 2;
const C_AT = 3;
const C_E = 4;
const C_B = 5;
/** What each byte can start or continue in the prefilter; most bytes are C_OTHER and cost one table read. */
const BYTE_CLASS = new Uint8Array(256);
for (let b = 0x30; b <= 0x39; b++) BYTE_CLASS[b] = C_DIGIT;
BYTE_CLASS[0x20] = C_SEP;
BYTE_CLASS[0x2d] = C_SEP;
BYTE_CLASS[0x40] = C_AT;
BYTE_CLASS[0x65] = C_E;
BYTE_CLASS[0x42] = C_B;
BYTE_CLASS[0x62] = C_B;

/** A query (`?`) or user info (`@`): the parts of a URL that are redacted. */
export function hasUrlParts(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = buf[i] as number;
    if (b === 0x3f || b === 0x40) return true;
  }
  return false;
}

/** A quote or a digit: the only ways a SQL literal starts. */
export function hasSqlLiteral(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = buf[i] as number;
    if (b === 0x27 || (b >= 0x30 && b <= 0x39)) return true;
  }
  return false;
}
/** Replace buf[start, end) with field `field` holding `payload` (tag and length are written by applyEdits). */
export interface Edit {
  start: number;
  end: number;
  field: number;
  payload: Uint8Array;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(out: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  out[pos++] = n;
  return pos;
}

/** Tag, length and payload of a length-delimited field. */
export function encodeField(field: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(fieldSize(field, payload));
  out.set(payload, writeVarint(out, writeVarint(out, 0, (field << 3) | WIRE_LEN), payload.length));
  return out;
}

function fieldSize(field: number, payload: Uint8Array): number {
  return varintSize((field << 3) | WIRE_LEN) + varintSize(payload.length) + payload.length;
}

/** Copies src[from, to) to out at pos; short runs by hand, since a subarray view costs more than they do. */
function copy(out: Uint8Array, pos: number, src: Uint8Array, from: number, to: number): number {
  const n = to - from;
  if (n > 64) out.set(src.subarray(from, to), pos);
  else for (let i = 0; i < n; i++) out[pos + i] = src[from + i] as number;
  return pos + n;
}

/** buf[start, end) with each edit's range (ascending, disjoint) replaced by its field. */
export function applyEdits(buf: Uint8Array, start: number, end: number, edits: Edit[]): Uint8Array {
  let size = end - start;
  for (const e of edits) size += fieldSize(e.field, e.payload) - (e.end - e.start);
  // Buffer.allocUnsafe takes small sizes from Node's pool; a `new Uint8Array` over 64 bytes is an
  // off-heap allocation and was the largest cost of a rewrite. Every byte is written below.
  const out = Buffer.allocUnsafe(size);
  let from = start;
  let pos = 0;
  for (const e of edits) {
    pos = copy(out, pos, buf, from, e.start);
    pos = writeVarint(out, writeVarint(out, pos, (e.field << 3) | WIRE_LEN), e.payload.length);
    pos = copy(out, pos, e.payload, 0, e.payload.length);
    from = e.end;
  }
  copy(out, pos, buf, from, end);
  return out;
}
