/**
 * Redaction at ingest, on the protobuf wire format. Spans, resources and scopes are stored as the bytes
 * they arrived in, so a secret can only be kept off disk by rewriting those bytes. The common case is
 * that nothing matches, so the walk allocates nothing and builds no strings: keys are hashed while they
 * are scanned and compared byte-wise, string values go through a one-pass byte prefilter ('@', a run of
 * 13+ digits, "Bearer", "eyJ"), and only a hit decodes the string and runs the regular expressions.
 * Only a message that changed is re-encoded, from its changed children up to the stored unit (span,
 * resource or scope); the enclosing request is never stored, so it is not rebuilt.
 */
import { MalformedProtobufError } from './wire-reader.js';
import {
  DB_STATEMENT_KEYS,
  DEFAULT_DENY_KEYS,
  URL_KEYS,
  builtinPatterns,
  customPatterns,
  emptyCounts,
  normalizeDbStatement,
  redactText,
  redactUrl,
  type RedactionCounts,
  type RedactionSettings,
  type ValuePattern,
} from './redact-values.js';

// Local copies of the wire types and prefilter bits (redact-values.ts HIT_*): imported bindings are
// read through accessors in some module loaders (tsx), which showed up as the top cost of this loop.
const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;
const HIT_EMAIL = 1;
const HIT_CARD = 2;
const HIT_BEARER = 4;
const HIT_JWT = 8;

const KEY_PLAIN = 0;
const KEY_DB = 1;
const KEY_URL = 2;
const KEY_URL_QUERY = 3;

const MAX_DEPTH = 16;
const textDecoder = new TextDecoder('utf-8', { fatal: false });
const textEncoder = new TextEncoder();

/** Replace buf[start, end) with field `field` holding `payload` (tag and length are written by applyEdits). */
interface Edit {
  start: number;
  end: number;
  field: number;
  payload: Uint8Array;
}

// Scanner registers: the walk is synchronous and not re-entrant across messages, so module-level
// cursors replace the [start, end] pairs a reader object would allocate per field.
/** Position after the last varint read. */
let P = 0;
/** Payload start of the last length-delimited field skipped. */
let S = 0;

function varint(buf: Uint8Array, pos: number, end: number): number {
  if (pos >= end) throw new MalformedProtobufError('truncated varint');
  let b = buf[pos] as number;
  if (b < 0x80) {
    P = pos + 1;
    return b;
  }
  let result = b & 0x7f;
  let multiplier = 128;
  for (let i = 1; i < 10; i++) {
    if (++pos >= end) throw new MalformedProtobufError('truncated varint');
    b = buf[pos] as number;
    result += (b & 0x7f) * multiplier;
    if (b < 0x80) {
      P = pos + 1;
      return result;
    }
    multiplier *= 128;
  }
  throw new MalformedProtobufError('varint longer than 10 bytes');
}

/** The position after a field value of `wire` type starting at `pos`; for LEN, S is its payload start. */
function skipValue(buf: Uint8Array, pos: number, end: number, wire: number): number {
  let next: number;
  if (wire === WIRE_LEN) {
    const len = varint(buf, pos, end);
    S = P;
    next = P + len;
  } else if (wire === WIRE_VARINT) {
    varint(buf, pos, end);
    next = P;
  } else if (wire === WIRE_FIXED64) next = pos + 8;
  else if (wire === WIRE_FIXED32) next = pos + 4;
  else throw new MalformedProtobufError(`unsupported wire type ${wire}`);
  if (next > end) throw new MalformedProtobufError('field runs past its message');
  return next;
}

/** Lowercased UTF-8 bytes of `text`, for byte-wise key comparison. */
const lowerBytes = (text: string): Uint8Array => textEncoder.encode(text.toLowerCase());

const lower = (c: number): number => (c >= 0x41 && c <= 0x5a ? c | 0x20 : c);

/**
 * A constant-time key hash: length, first, middle and last byte (ASCII-lowercased). Collisions are
 * settled by a byte comparison; what matters is that almost every key misses the table in O(1).
 */
function shortHash(buf: Uint8Array, start: number, end: number): number {
  const n = end - start;
  if (n === 0) return 0;
  const h = Math.imul(Math.imul(n, 31) + lower(buf[start] as number), 31) + lower(buf[start + (n >> 1)] as number);
  return (Math.imul(h, 31) + lower(buf[end - 1] as number)) | 0;
}

const hashBytes = (bytes: Uint8Array): number => shortHash(bytes, 0, bytes.length);

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
class KeyTable<T> {
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

// Set by keyHashes, read right after.
let fullHash = 0;
let segHash = 0;
let segStart = 0;

/** Hashes the whole key and its last dotted segment (found by a backward scan for '.'). */
function keyHashes(buf: Uint8Array, start: number, end: number): void {
  let segAt = end;
  while (segAt > start && buf[segAt - 1] !== 0x2e) segAt--;
  fullHash = shortHash(buf, start, end);
  segHash = segAt === start ? fullHash : shortHash(buf, segAt, end);
  segStart = segAt;
}

export class Redactor {
  readonly counts: RedactionCounts = emptyCounts();
  private readonly replacement: string;
  /** AnyValue{string_value: replacement}. */
  private readonly replacementValue: Uint8Array;
  private readonly deny = new KeyTable<true>();
  private readonly allow = new KeyTable<true>();
  private readonly special = new KeyTable<number>();
  private readonly denyText: Set<string>;
  private readonly allowText: Set<string>;
  private readonly patterns: ValuePattern[];
  private readonly custom: boolean;
  private readonly hitMask: number;

  constructor(settings: RedactionSettings) {
    this.replacement = settings.replacement;
    this.replacementValue = encodeField(1, textEncoder.encode(settings.replacement));
    this.denyText = new Set([...DEFAULT_DENY_KEYS, ...settings.denyKeys].map((k) => k.toLowerCase()));
    this.allowText = new Set(settings.allowKeys.map((k) => k.toLowerCase()));
    for (const k of this.denyText) this.deny.add(k, true);
    for (const k of this.allowText) this.allow.add(k, true);
    if (settings.dbStatement) for (const k of DB_STATEMENT_KEYS) this.special.add(k, KEY_DB);
    if (settings.urlQuery) for (const k of URL_KEYS) this.special.add(k, k === 'url.query' ? KEY_URL_QUERY : KEY_URL);
    const p = settings.patterns;
    this.patterns = [...builtinPatterns(p), ...customPatterns(settings.customPatterns)];
    this.custom = settings.customPatterns.length > 0;
    this.hitMask = (p.email ? HIT_EMAIL : 0) | (p.card ? HIT_CARD : 0) | (p.bearer ? HIT_BEARER : 0) | (p.jwt ? HIT_JWT : 0);
  }

  /** A Span's bytes with secrets replaced, or null when nothing needed replacing. */
  span(buf: Uint8Array, start: number, end: number): Uint8Array | null {
    let edits: Edit[] | null = null;
    let pos = start;
    while (pos < end) {
      const at = pos;
      const tag = varint(buf, pos, end);
      pos = skipValue(buf, P, end, tag & 7);
      if ((tag & 7) !== WIRE_LEN) continue;
      const field = tag >>> 3;
      let out: Uint8Array | null = null;
      if (field === 9) out = this.keyValue(buf, S, pos, 0, true);
      else if (field === 11) out = this.attributesIn(buf, S, pos, 3); // Span.Event.attributes
      else if (field === 13) out = this.attributesIn(buf, S, pos, 4); // Span.Link.attributes
      else if (field === 15) out = this.status(buf, S, pos);
      if (out !== null) (edits ??= []).push({ start: at, end: pos, field, payload: out });
    }
    return edits === null ? null : applyEdits(buf, start, end, edits);
  }

  /** Status.message (field 2) is free text, often an exception message: the value patterns apply to it. */
  private status(buf: Uint8Array, start: number, end: number): Uint8Array | null {
    let edits: Edit[] | null = null;
    let pos = start;
    while (pos < end) {
      const at = pos;
      const tag = varint(buf, pos, end);
      pos = skipValue(buf, P, end, tag & 7);
      if (tag !== ((2 << 3) | WIRE_LEN)) continue;
      const out = this.stringValue(buf, S, pos, KEY_PLAIN);
      if (out !== null) (edits ??= []).push({ start: at, end: pos, field: 2, payload: out });
    }
    return edits === null ? null : applyEdits(buf, start, end, edits);
  }

  /** Resource bytes (attributes are field 1) with secrets replaced, or null. */
  resource(raw: Uint8Array): Uint8Array | null {
    return this.attributesIn(raw, 0, raw.length, 1);
  }

  /** InstrumentationScope bytes (attributes are field 3) with secrets replaced, or null. */
  scope(raw: Uint8Array): Uint8Array | null {
    return this.attributesIn(raw, 0, raw.length, 3);
  }

  /** Metric labels (already flattened to text), redacted in place. */
  labels(labels: Record<string, string>): void {
    for (const key of Object.keys(labels)) {
      const lower = key.toLowerCase();
      if (this.allowText.has(lower)) continue;
      const dot = lower.lastIndexOf('.');
      if (this.denyText.has(lower) || (dot >= 0 && this.denyText.has(lower.slice(dot + 1)))) {
        labels[key] = this.replacement;
        this.counts.key++;
        continue;
      }
      const keyBytes = lowerBytes(lower);
      const kind = this.special.find(hashBytes(keyBytes), keyBytes, 0, keyBytes.length) ?? KEY_PLAIN;
      const value = labels[key] as string;
      const bytes = textEncoder.encode(value);
      const out = this.text(value, kind, prefilter(bytes, 0, bytes.length) & this.hitMask);
      if (out !== null) labels[key] = out;
    }
  }

  /** The message [start, end) with its KeyValue field `field` redacted, or null. */
  private attributesIn(buf: Uint8Array, start: number, end: number, field: number): Uint8Array | null {
    let edits: Edit[] | null = null;
    const wantTag = (field << 3) | WIRE_LEN;
    let pos = start;
    while (pos < end) {
      const at = pos;
      const tag = varint(buf, pos, end);
      pos = skipValue(buf, P, end, tag & 7);
      if (tag !== wantTag) continue;
      const out = this.keyValue(buf, S, pos, 0, true);
      if (out !== null) (edits ??= []).push({ start: at, end: pos, field, payload: out });
    }
    return edits === null ? null : applyEdits(buf, start, end, edits);
  }

  /** A KeyValue: a denied key gets the replacement as its value; otherwise its value is scanned. */
  private keyValue(buf: Uint8Array, start: number, end: number, depth: number, topLevel: boolean): Uint8Array | null {
    let ks = -1;
    let ke = -1;
    let vAt = -1;
    let vs = -1;
    let ve = -1;
    // Fast path for the layout every SDK writes: key (short), then value (short), nothing else.
    if (buf[start] === 0x0a && (buf[start + 1] as number) < 0x80) {
      const k = start + 2 + (buf[start + 1] as number);
      if (k === end) {
        ks = start + 2;
        ke = k;
      } else if (k < end && buf[k] === 0x12 && (buf[k + 1] as number) < 0x80 && k + 2 + (buf[k + 1] as number) === end) {
        ks = start + 2;
        ke = k;
        vAt = k;
        vs = k + 2;
        ve = end;
      }
    }
    let pos = ks < 0 ? start : end;
    while (pos < end) {
      const at = pos;
      const tag = varint(buf, pos, end);
      pos = skipValue(buf, P, end, tag & 7);
      if (tag === ((1 << 3) | WIRE_LEN)) {
        ks = S;
        ke = pos;
      } else if (tag === ((2 << 3) | WIRE_LEN)) {
        vAt = at;
        vs = S;
        ve = pos;
      }
    }
    let kind = KEY_PLAIN;
    if (ks >= 0) {
      keyHashes(buf, ks, ke);
      if (this.allow.size > 0 && this.allow.find(fullHash, buf, ks, ke) !== undefined) return null;
      if (this.deny.find(segHash, buf, segStart, ke) !== undefined || this.deny.find(fullHash, buf, ks, ke) !== undefined) {
        this.counts.key++;
        const edit: Edit = vAt < 0 ? { start: end, end, field: 2, payload: this.replacementValue } : { start: vAt, end: ve, field: 2, payload: this.replacementValue };
        return applyEdits(buf, start, end, [edit]);
      }
      if (topLevel && this.special.size > 0) kind = this.special.find(fullHash, buf, ks, ke) ?? KEY_PLAIN;
    }
    if (vs < 0) return null;
    const value = this.anyValue(buf, vs, ve, kind, depth);
    return value === null ? null : applyEdits(buf, start, end, [{ start: vAt, end: ve, field: 2, payload: value }]);
  }

  /** An AnyValue: string_value (1) is checked, array_value (5) and kvlist_value (6) are walked. */
  private anyValue(buf: Uint8Array, start: number, end: number, kind: number, depth: number): Uint8Array | null {
    if (depth > MAX_DEPTH) return null;
    const first = buf[start] as number;
    // Fast paths: one short string_value (the common case), or one scalar (bool, int, double): nothing to walk.
    if (first === 0x0a && (buf[start + 1] as number) < 0x80 && start + 2 + (buf[start + 1] as number) === end) {
      const out = this.stringValue(buf, start + 2, end, kind);
      return out === null ? null : applyEdits(buf, start, end, [{ start, end, field: 1, payload: out }]);
    }
    if ((first === 0x10 || first === 0x18) && (buf[end - 1] as number) < 0x80 && end - start <= 11) {
      let i = start + 1;
      while (i < end - 1 && (buf[i] as number) >= 0x80) i++;
      if (i === end - 1) return null;
    }
    if (first === 0x21 && end - start === 9) return null;
    let edits: Edit[] | null = null;
    let pos = start;
    while (pos < end) {
      const at = pos;
      const tag = varint(buf, pos, end);
      pos = skipValue(buf, P, end, tag & 7);
      if ((tag & 7) !== WIRE_LEN) continue;
      const field = tag >>> 3;
      let out: Uint8Array | null = null;
      if (field === 1) out = this.stringValue(buf, S, pos, kind);
      else if (field === 5) out = this.repeated(buf, S, pos, depth, false); // ArrayValue.values
      else if (field === 6) out = this.repeated(buf, S, pos, depth, true); // KeyValueList.values
      if (out !== null) (edits ??= []).push({ start: at, end: pos, field, payload: out });
    }
    return edits === null ? null : applyEdits(buf, start, end, edits);
  }

  private repeated(buf: Uint8Array, start: number, end: number, depth: number, kv: boolean): Uint8Array | null {
    let edits: Edit[] | null = null;
    let pos = start;
    while (pos < end) {
      const at = pos;
      const tag = varint(buf, pos, end);
      pos = skipValue(buf, P, end, tag & 7);
      if (tag !== ((1 << 3) | WIRE_LEN)) continue;
      const s = S;
      const out = kv ? this.keyValue(buf, s, pos, depth + 1, false) : this.anyValue(buf, s, pos, KEY_PLAIN, depth + 1);
      if (out !== null) (edits ??= []).push({ start: at, end: pos, field: 1, payload: out });
    }
    return edits === null ? null : applyEdits(buf, start, end, edits);
  }

  /** The new string bytes, or null when the string passes (the usual case, decided without decoding). */
  private stringValue(buf: Uint8Array, start: number, end: number, kind: number): Uint8Array | null {
    if (start === end) return null;
    // Every built-in pattern needs at least 6 bytes (a@b.cd); shorter strings skip the byte scan.
    const hits = end - start < 6 ? 0 : prefilter(buf, start, end) & this.hitMask;
    let candidate = hits !== 0 || this.custom;
    if (kind === KEY_DB) candidate ||= hasSqlLiteral(buf, start, end);
    else if (kind === KEY_URL) candidate ||= hasUrlParts(buf, start, end);
    else if (kind === KEY_URL_QUERY) candidate = true;
    if (!candidate) return null;
    const out = this.text(textDecoder.decode(buf.subarray(start, end)), kind, hits);
    return out === null ? null : Buffer.from(out, 'utf8');
  }

  /** Redacts one decoded string by its key kind, then by the patterns the prefilter let through; null when unchanged. */
  private text(value: string, kind: number, hits: number): string | null {
    let out = value;
    let changed = false;
    if (kind === KEY_DB) {
      const sql = normalizeDbStatement(out);
      if (sql !== null) {
        out = sql;
        changed = true;
        this.counts.db_statement++;
      }
    } else if (kind === KEY_URL || kind === KEY_URL_QUERY) {
      const url = redactUrl(out, this.replacement, kind === KEY_URL_QUERY);
      if (url !== null) {
        out = url;
        changed = true;
        this.counts.url_query++;
      }
    }
    if (hits !== 0 || this.custom) {
      const replaced = redactText(out, this.patterns, this.replacement, this.counts, hits);
      if (replaced !== null) {
        out = replaced;
        changed = true;
      }
    }
    return changed ? out : null;
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
function hasUrlParts(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = buf[i] as number;
    if (b === 0x3f || b === 0x40) return true;
  }
  return false;
}

/** A quote or a digit: the only ways a SQL literal starts. */
function hasSqlLiteral(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = buf[i] as number;
    if (b === 0x27 || (b >= 0x30 && b <= 0x39)) return true;
  }
  return false;
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
function applyEdits(buf: Uint8Array, start: number, end: number, edits: Edit[]): Uint8Array {
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
