/**
 * Redaction at ingest, on the protobuf wire format. Spans, resources and scopes are stored as the bytes
 * they arrived in, so a secret can only be kept off disk by rewriting those bytes. The common case is
 * that nothing matches, so the walk reads keys and string values in place: keys are hashed while they
 * are scanned (no string is built), string values go through a one-pass byte prefilter ('@', a run of
 * 13+ digits, "Bearer ", "eyJ"), and only a hit decodes the string and runs the regular expressions.
 * Only a message that changed is re-encoded, from its changed children up to the stored unit (span,
 * resource or scope); the enclosing request is never stored, so it is not rebuilt.
 */
import { WIRE_LEN, WireReader } from './wire-reader.js';
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

interface Edit {
  start: number;
  end: number;
  bytes: Uint8Array;
}

/**
 * Backward polynomial hash of the UTF-8 bytes with ASCII letters lowercased, the same function
 * Redactor.keyHashes computes over a key on the wire (so key matching is ASCII-case-insensitive).
 */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0;
  for (let i = end - 1; i >= start; i--) {
    let c = bytes[i] as number;
    if (c >= 0x41 && c <= 0x5a) c |= 0x20;
    h = (Math.imul(h, 31) + c) | 0;
  }
  return h;
}

function hashText(text: string): number {
  const bytes = textEncoder.encode(text);
  return hashBytes(bytes, 0, bytes.length);
}

export class Redactor {
  readonly counts: RedactionCounts = emptyCounts();
  private readonly replacement: string;
  private readonly replacementValue: Uint8Array;
  private readonly deny: Set<string>;
  private readonly denyHashes: Set<number>;
  private readonly allow: Set<string>;
  private readonly allowHashes: Set<number>;
  private readonly special = new Map<number, { key: string; kind: number }>();
  private readonly patterns: ValuePattern[];
  private readonly custom: boolean;
  private readonly hitMask: number;
  // Set by keyHashes, read right after (avoids allocating a pair per key).
  private segHash = 0;
  private fullHash = 0;

  constructor(settings: RedactionSettings) {
    this.replacement = settings.replacement;
    this.replacementValue = lenField(1, textEncoder.encode(settings.replacement));
    this.deny = new Set([...DEFAULT_DENY_KEYS, ...settings.denyKeys].map((k) => k.toLowerCase()));
    this.denyHashes = new Set([...this.deny].map(hashText));
    this.allow = new Set(settings.allowKeys.map((k) => k.toLowerCase()));
    this.allowHashes = new Set([...this.allow].map(hashText));
    if (settings.dbStatement) for (const k of DB_STATEMENT_KEYS) this.special.set(hashText(k), { key: k, kind: KEY_DB });
    if (settings.urlQuery) {
      for (const k of URL_KEYS) this.special.set(hashText(k), { key: k, kind: k === 'url.query' ? KEY_URL_QUERY : KEY_URL });
    }
    const p = settings.patterns;
    this.patterns = [...builtinPatterns(p), ...customPatterns(settings.customPatterns)];
    this.custom = settings.customPatterns.length > 0;
    this.hitMask = (p.email ? HIT_EMAIL : 0) | (p.card ? HIT_CARD : 0) | (p.bearer ? HIT_BEARER : 0) | (p.jwt ? HIT_JWT : 0);
  }

  /** A Span's bytes with secrets replaced, or null when nothing needed replacing. */
  span(buf: Uint8Array, start: number, end: number): Uint8Array | null {
    const edits: Edit[] = [];
    const r = new WireReader(buf, start, end);
    while (!r.done) {
      const at = r.pos;
      const tag = r.varint();
      if ((tag & 7) !== WIRE_LEN) {
        r.skip(tag & 7);
        continue;
      }
      const [s, e] = r.lengthDelimited();
      const field = tag >>> 3;
      let out: Uint8Array | null = null;
      if (field === 9) out = this.keyValue(buf, s, e, 0, true);
      else if (field === 11) out = this.attributesIn(buf, s, e, 3); // Span.Event.attributes
      else if (field === 13) out = this.attributesIn(buf, s, e, 4); // Span.Link.attributes
      if (out !== null) edits.push({ start: at, end: e, bytes: lenField(field, out) });
    }
    return edits.length === 0 ? null : applyEdits(buf, start, end, edits);
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
      const value = labels[key] as string;
      const kind = this.keyKind(key);
      if (kind < 0) continue;
      if (kind === KEY_DENIED) {
        labels[key] = this.replacement;
        this.counts.key++;
        continue;
      }
      const bytes = textEncoder.encode(value);
      const out = this.text(value, kind, this.custom || (prefilter(bytes, 0, bytes.length) & this.hitMask) !== 0);
      if (out !== null) labels[key] = out;
    }
  }

  /** The message [start, end) with its KeyValue field `field` redacted, or null. */
  private attributesIn(buf: Uint8Array, start: number, end: number, field: number): Uint8Array | null {
    let edits: Edit[] | null = null;
    const wantTag = (field << 3) | WIRE_LEN;
    const r = new WireReader(buf, start, end);
    while (!r.done) {
      const at = r.pos;
      const tag = r.varint();
      if (tag !== wantTag) {
        r.skip(tag & 7);
        continue;
      }
      const [s, e] = r.lengthDelimited();
      const out = this.keyValue(buf, s, e, 0, true);
      if (out !== null) (edits ??= []).push({ start: at, end: e, bytes: lenField(field, out) });
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
    const r = new WireReader(buf, start, end);
    while (!r.done) {
      const at = r.pos;
      const tag = r.varint();
      if (tag === ((1 << 3) | WIRE_LEN)) [ks, ke] = r.lengthDelimited();
      else if (tag === ((2 << 3) | WIRE_LEN)) {
        vAt = at;
        [vs, ve] = r.lengthDelimited();
      } else r.skip(tag & 7);
    }
    let kind = KEY_PLAIN;
    if (ks >= 0) {
      this.keyHashes(buf, ks, ke);
      const seg = this.segHash;
      const full = this.fullHash;
      if (this.allowHashes.has(full) && this.allow.has(decodeLower(buf, ks, ke))) return null;
      if ((this.denyHashes.has(seg) || this.denyHashes.has(full)) && this.isDenied(decodeLower(buf, ks, ke))) {
        this.counts.key++;
        const edit = { start: vAt < 0 ? end : vAt, end: vAt < 0 ? end : ve, bytes: lenField(2, this.replacementValue) };
        return applyEdits(buf, start, end, [edit]);
      }
      if (topLevel && this.special.size > 0) {
        const sp = this.special.get(full);
        if (sp !== undefined && sp.key === decodeLower(buf, ks, ke)) kind = sp.kind;
      }
    }
    if (vs < 0) return null;
    const value = this.anyValue(buf, vs, ve, kind, depth);
    return value === null ? null : applyEdits(buf, start, end, [{ start: vAt, end: ve, bytes: lenField(2, value) }]);
  }

  /** An AnyValue: string_value (1) is checked, array_value (5) and kvlist_value (6) are walked. */
  private anyValue(buf: Uint8Array, start: number, end: number, kind: number, depth: number): Uint8Array | null {
    if (depth > MAX_DEPTH) return null;
    let edits: Edit[] | null = null;
    const r = new WireReader(buf, start, end);
    while (!r.done) {
      const at = r.pos;
      const tag = r.varint();
      if ((tag & 7) !== WIRE_LEN) {
        r.skip(tag & 7);
        continue;
      }
      const [s, e] = r.lengthDelimited();
      const field = tag >>> 3;
      let out: Uint8Array | null = null;
      if (field === 1) out = this.stringValue(buf, s, e, kind);
      else if (field === 5) out = this.repeated(buf, s, e, depth, false); // ArrayValue.values
      else if (field === 6) out = this.repeated(buf, s, e, depth, true); // KeyValueList.values
      if (out !== null) (edits ??= []).push({ start: at, end: e, bytes: lenField(field, out) });
    }
    return edits === null ? null : applyEdits(buf, start, end, edits);
  }

  private repeated(buf: Uint8Array, start: number, end: number, depth: number, kv: boolean): Uint8Array | null {
    let edits: Edit[] | null = null;
    const r = new WireReader(buf, start, end);
    while (!r.done) {
      const at = r.pos;
      const tag = r.varint();
      if (tag !== ((1 << 3) | WIRE_LEN)) {
        r.skip(tag & 7);
        continue;
      }
      const [s, e] = r.lengthDelimited();
      const out = kv ? this.keyValue(buf, s, e, depth + 1, false) : this.anyValue(buf, s, e, KEY_PLAIN, depth + 1);
      if (out !== null) (edits ??= []).push({ start: at, end: e, bytes: lenField(1, out) });
    }
    return edits === null ? null : applyEdits(buf, start, end, edits);
  }

  /** The new string bytes, or null when the string passes (the usual case, decided without decoding). */
  private stringValue(buf: Uint8Array, start: number, end: number, kind: number): Uint8Array | null {
    if (start === end) return null;
    let candidate = this.custom || (prefilter(buf, start, end) & this.hitMask) !== 0;
    if (kind === KEY_DB) candidate ||= hasSqlLiteral(buf, start, end);
    else if (kind === KEY_URL) candidate ||= hasUrlParts(buf, start, end);
    else if (kind === KEY_URL_QUERY) candidate = true;
    if (!candidate) return null;
    const out = this.text(textDecoder.decode(buf.subarray(start, end)), kind, true);
    return out === null ? null : textEncoder.encode(out);
  }

  /** Redacts one decoded string value by its key kind, then by the value patterns; null when unchanged. */
  private text(value: string, kind: number, patterns: boolean): string | null {
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
    if (patterns) {
      const replaced = redactText(out, this.patterns, this.replacement, this.counts);
      if (replaced !== null) {
        out = replaced;
        changed = true;
      }
    }
    return changed ? out : null;
  }

  /** For metric label keys (strings already): -1 allowed, KEY_DENIED, or the key kind. */
  private keyKind(key: string): number {
    const lower = key.toLowerCase();
    if (this.allow.has(lower)) return -1;
    if (this.isDenied(lower)) return KEY_DENIED;
    const sp = this.special.get(hashText(lower));
    return sp !== undefined && sp.key === lower ? sp.kind : KEY_PLAIN;
  }

  private isDenied(lowerKey: string): boolean {
    if (this.deny.has(lowerKey)) return true;
    const dot = lowerKey.lastIndexOf('.');
    return dot >= 0 && this.deny.has(lowerKey.slice(dot + 1));
  }

  /** Hashes the key's last dotted segment and the whole key in one backward pass over its bytes. */
  private keyHashes(buf: Uint8Array, start: number, end: number): void {
    let h = 0;
    let seg = 0;
    let inSeg = true;
    for (let i = end - 1; i >= start; i--) {
      let c = buf[i] as number;
      if (inSeg && c === 0x2e) {
        seg = h;
        inSeg = false;
      }
      if (c >= 0x41 && c <= 0x5a) c |= 0x20;
      h = (Math.imul(h, 31) + c) | 0;
    }
    this.segHash = inSeg ? h : seg;
    this.fullHash = h;
  }
}

const KEY_DENIED = 100;

/**
 * One pass over a string's bytes: which built-in patterns could match. False positives only cost a
 * decode and a regex; a false negative would leak, so each test is a necessary condition of its regex.
 */
export function prefilter(buf: Uint8Array, start: number, end: number): number {
  let hits = 0;
  let digits = 0;
  let sep = false;
  for (let i = start; i < end; i++) {
    const b = buf[i] as number;
    if (b >= 0x30 && b <= 0x39) {
      sep = false;
      if (++digits >= 13) hits |= HIT_CARD;
      continue;
    }
    if ((b === 0x20 || b === 0x2d) && digits > 0 && !sep) {
      sep = true;
      continue;
    }
    digits = 0;
    sep = false;
    if (b === 0x40) hits |= HIT_EMAIL;
    else if (b === 0x65) {
      if (buf[i + 1] === 0x79 && buf[i + 2] === 0x4a && i + 2 < end) hits |= HIT_JWT;
    } else if ((b | 0x20) === 0x62 && i + 6 < end) {
      // "bearer" in any case, then whitespace (the regex is case-insensitive).
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
  return hits;
}

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

function decodeLower(buf: Uint8Array, start: number, end: number): string {
  return textDecoder.decode(buf.subarray(start, end)).toLowerCase();
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
export function lenField(field: number, payload: Uint8Array): Uint8Array {
  const tag = (field << 3) | WIRE_LEN;
  const out = new Uint8Array(varintSize(tag) + varintSize(payload.length) + payload.length);
  const pos = writeVarint(out, writeVarint(out, 0, tag), payload.length);
  out.set(payload, pos);
  return out;
}

/** buf[start, end) with each edit's range (ascending, disjoint) replaced by its bytes. */
function applyEdits(buf: Uint8Array, start: number, end: number, edits: Edit[]): Uint8Array {
  let size = end - start;
  for (const e of edits) size += e.bytes.length - (e.end - e.start);
  const out = new Uint8Array(size);
  let from = start;
  let pos = 0;
  for (const e of edits) {
    out.set(buf.subarray(from, e.start), pos);
    pos += e.start - from;
    out.set(e.bytes, pos);
    pos += e.bytes.length;
    from = e.end;
  }
  out.set(buf.subarray(from, end), pos);
  return out;
}
