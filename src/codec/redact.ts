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
import { KeyTable, applyEdits, encodeField, hasSqlLiteral, hasUrlParts, hashBytes, lowerBytes, prefilter, shortHash, type Edit } from './redact-bytes.js';
import {
  DB_STATEMENT_KEYS,
  DEFAULT_DENY_KEYS,
  HIT_BEARER,
  HIT_CARD,
  HIT_EMAIL,
  HIT_JWT,
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

// Local copies of the wire types: imported bindings are read through accessors in some module loaders
// (tsx), which showed up as the top cost of this loop.
const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const KEY_PLAIN = 0;
const KEY_DB = 1;
const KEY_URL = 2;
const KEY_URL_QUERY = 3;

const MAX_DEPTH = 16;
const textDecoder = new TextDecoder('utf-8', { fatal: false });
const textEncoder = new TextEncoder();

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
