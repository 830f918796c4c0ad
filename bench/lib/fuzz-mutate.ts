/**
 * Seeded mutators for the fuzzers. Byte-level ones know the protobuf wire format well enough to hit the
 * decoder's hard cases on purpose (length prefixes, tags, varints), JSON ones change the document's
 * structure and types rather than its characters, so that most mutants still parse and reach the
 * transcoder's field handling.
 */

/** mulberry32: small, fast, reproducible from one 32-bit seed. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

interface LenField {
  /** Offset of the length varint and its byte count. */
  at: number;
  size: number;
  length: number;
}

function readVarint(buf: Uint8Array, at: number): { value: number; size: number } | null {
  let value = 0;
  let mul = 1;
  for (let i = 0; i < 10 && at + i < buf.length; i++) {
    const b = buf[at + i] as number;
    value += (b & 0x7f) * mul;
    mul *= 128;
    if ((b & 0x80) === 0) return { value, size: i + 1 };
  }
  return null;
}

/** Length-delimited fields found by walking the message and every submessage that parses as one. */
export function lenFields(buf: Uint8Array, start = 0, end = buf.length, depth = 0, out: LenField[] = []): LenField[] {
  let p = start;
  while (p < end) {
    const tag = readVarint(buf, p);
    if (!tag || tag.value === 0) return out;
    p += tag.size;
    const wire = tag.value % 8;
    if (wire === 0) {
      const v = readVarint(buf, p);
      if (!v) return out;
      p += v.size;
    } else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else if (wire === 2) {
      const len = readVarint(buf, p);
      if (!len || p + len.size + len.value > end) return out;
      out.push({ at: p, size: len.size, length: len.value });
      p += len.size;
      if (depth < 12) lenFields(buf, p, p + len.value, depth + 1, out);
      p += len.value;
    } else return out;
  }
  return out;
}

function encodeVarint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 128) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

function replace(buf: Uint8Array, at: number, size: number, bytes: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(buf.length - size + bytes.length);
  out.set(buf.subarray(0, at), 0);
  out.set(bytes, at);
  out.set(buf.subarray(at + size), at + bytes.length);
  return out;
}

const INTERESTING_LENGTHS = [0, 1, 7, 8, 15, 16, 17, 127, 128, 0x3fff, 0x7fffffff, 0xffffffff, 2 ** 53 - 1];

/** One protobuf-aware byte mutation of `buf` (never modifies it). */
export function mutateBytes(rng: Rng, buf: Uint8Array, others: readonly Uint8Array[]): Uint8Array {
  const n = buf.length;
  const op = rng.int(11);
  if (n === 0) return Uint8Array.from({ length: rng.int(16) }, () => rng.int(256));
  switch (op) {
    case 0: {
      const out = Uint8Array.from(buf);
      const at = rng.int(n);
      out[at] = (out[at] as number) ^ (1 << rng.int(8));
      return out;
    }
    case 1: {
      const out = Uint8Array.from(buf);
      out[rng.int(n)] = rng.pick([0, 0x7f, 0x80, 0xff, rng.int(256)]);
      return out;
    }
    case 2:
      return replace(buf, rng.int(n + 1), 0, Uint8Array.from({ length: 1 + rng.int(8) }, () => rng.int(256)));
    case 3: {
      const at = rng.int(n);
      return replace(buf, at, Math.min(n - at, 1 + rng.int(16)), []);
    }
    case 4:
      return buf.subarray(0, rng.int(n));
    case 5: {
      // Duplicate a range: repeated fields and submessages appear twice.
      const at = rng.int(n);
      const len = Math.min(n - at, 1 + rng.int(64));
      return replace(buf, at, 0, buf.subarray(at, at + len));
    }
    case 6: {
      // Splice: the head of this input with the tail of another.
      const other = rng.pick(others);
      return Uint8Array.from([...buf.subarray(0, rng.int(n)), ...other.subarray(rng.int(other.length))]);
    }
    case 7:
    case 8: {
      // Corrupt a length prefix: too long, too short, huge, or re-encoded with a padded varint.
      const fields = lenFields(buf);
      if (fields.length === 0) return mutateBytes(rng, buf, others);
      const f = rng.pick(fields);
      const choice = rng.int(4);
      const value = choice === 0 ? f.length + 1 + rng.int(4) : choice === 1 ? Math.max(0, f.length - 1 - rng.int(4)) : rng.pick(INTERESTING_LENGTHS);
      const bytes = choice === 3 ? [...encodeVarint(f.length).map((b) => b | 0x80), 0x00] : encodeVarint(value);
      return replace(buf, f.at, f.size, bytes);
    }
    case 9: {
      // Change a field's wire type or number (the byte before a length prefix is usually its tag).
      const fields = lenFields(buf);
      if (fields.length === 0 || (fields[0] as LenField).at === 0) return mutateBytes(rng, buf, others);
      const f = rng.pick(fields);
      const out = Uint8Array.from(buf);
      const tagAt = Math.max(0, f.at - 1);
      out[tagAt] = rng.chance(0.5) ? (((out[tagAt] as number) & 0xf8) | rng.int(8)) : rng.int(256);
      return out;
    }
    default: {
      // An overlong 10-byte varint (or a non-terminated one) somewhere.
      const at = rng.int(n + 1);
      const bytes = rng.chance(0.5) ? [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01] : [0x80, 0x80, 0x80];
      return replace(buf, at, 0, bytes);
    }
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const JSON_SURPRISES: (() => Json)[] = [
  () => null,
  () => true,
  () => -1,
  () => 0,
  () => 1.5,
  () => 1e308,
  () => -0,
  () => '',
  () => 'NaN',
  () => 'Infinity',
  () => '-9223372036854775809',
  () => '18446744073709551616',
  () => '0x1f',
  () => 'zz',
  () => 'AAAA',
  () => 'SPAN_KIND_SERVER',
  () => 'STATUS_CODE_ERROR',
  () => 'AGGREGATION_TEMPORALITY_DELTA',
  () => '0123456789abcdef0123456789abcdef',
  () => '\u0000\ud800',
  () => 'x'.repeat(5000),
  () => [],
  () => [null],
  () => ({}),
  () => ({ stringValue: 7 }),
  () => ({ arrayValue: { values: [{ kvlistValue: { values: [{ key: 'k', value: {} }] } }] } }),
  () => ({ __proto__: { polluted: true } }),
  () => ({ constructor: 'x', toString: 1 }),
];

function deepNest(depth: number): Json {
  let v: Json = { stringValue: 'leaf' };
  for (let i = 0; i < depth; i++) v = { arrayValue: { values: [v] } };
  return v;
}

interface Slot {
  parent: Json[] | { [k: string]: Json };
  key: string | number;
}

function slots(doc: Json, out: Slot[] = [], depth = 0): Slot[] {
  if (depth > 40 || doc === null || typeof doc !== 'object') return out;
  const entries: [string | number, Json][] = Array.isArray(doc) ? doc.map((v, i) => [i, v]) : Object.entries(doc);
  for (const [key, value] of entries) {
    out.push({ parent: doc, key });
    slots(value, out, depth + 1);
  }
  return out;
}

const snake = (k: string): string => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** One to four structural mutations of a parsed JSON document; returns the new text. */
export function mutateJson(rng: Rng, text: string): string {
  let doc = JSON.parse(text) as Json;
  const rounds = 1 + rng.int(4);
  for (let r = 0; r < rounds; r++) {
    const all = slots(doc);
    if (all.length === 0) {
      doc = rng.pick(JSON_SURPRISES)();
      continue;
    }
    const { parent, key } = rng.pick(all);
    const p = parent as Record<string | number, Json>;
    switch (rng.int(8)) {
      case 0:
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete p[key];
        break;
      case 1:
      case 2:
        p[key] = rng.pick(JSON_SURPRISES)();
        break;
      case 3:
        // A value of the wrong JSON type: number as string, string as number, scalar as list.
        p[key] = typeof p[key] === 'string' ? Number(p[key]) || 7 : typeof p[key] === 'number' ? String(p[key]) : [p[key] as Json];
        break;
      case 4:
        if (Array.isArray(parent)) for (let i = 0, n = 1 + rng.int(50); i < n; i++) parent.push(structuredClone(parent[key as number] as Json));
        else p[`${key}`] = [p[key] as Json, p[key] as Json];
        break;
      case 5:
        if (!Array.isArray(parent) && typeof key === 'string') {
          const v = p[key] as Json;
          delete p[key];
          p[rng.chance(0.5) ? snake(key) : key.toUpperCase()] = v;
        }
        break;
      case 6:
        p[key] = deepNest(rng.pick([5, 100, 127, 128, 129, 400]));
        break;
      default:
        p[key] = structuredClone(rng.pick(all).parent as Json);
    }
  }
  let out: string;
  try {
    out = JSON.stringify(doc);
  } catch {
    // Nesting grown past what the mutator itself can serialize: fall back to a text edit of the seed.
    return mutateText(rng, text);
  }
  return rng.chance(0.1) ? mutateText(rng, out) : out;
}

/** Character- and line-level mutations for text formats (and occasional JSON text damage). */
export function mutateText(rng: Rng, text: string): string {
  const lines = text.split('\n');
  switch (rng.int(9)) {
    case 0:
      lines.splice(rng.int(lines.length), 1);
      return lines.join('\n');
    case 1: {
      const i = rng.int(lines.length);
      lines.splice(i, 0, lines[i] ?? '');
      return lines.join('\n');
    }
    case 2: {
      const i = rng.int(lines.length);
      const j = rng.int(lines.length);
      [lines[i], lines[j]] = [lines[j] as string, lines[i] as string];
      return lines.join('\n');
    }
    case 3:
      return text.slice(0, rng.int(text.length + 1));
    case 4: {
      const at = rng.int(text.length + 1);
      return text.slice(0, at) + rng.pick(['{', '}', '"', '\\', '#', ' ', '\t', '\n', '=', ',', '\u0000', '\ufffd', 'NaN', '+Inf', '1e999', '# EOF\n', '# TYPE x counter\n']) + text.slice(at);
    }
    case 5: {
      const at = rng.int(text.length);
      return text.slice(0, at) + text.slice(at + 1 + rng.int(8));
    }
    case 6: {
      // A number token replaced by an edge value.
      const m = [...text.matchAll(/-?\d+(\.\d+)?(e[+-]?\d+)?/gi)];
      if (m.length === 0) return text + ' 1';
      const hit = rng.pick(m);
      const at = hit.index ?? 0;
      return text.slice(0, at) + rng.pick(['-0', '1e309', '-Inf', 'NaN', '9007199254740993', '0x10', '1_000', '', '..1']) + text.slice(at + hit[0].length);
    }
    case 7:
      return lines.map((l) => (rng.chance(0.05) ? l.replace(/"/g, '') : l)).join(rng.chance(0.5) ? '\r\n' : '\n');
    default: {
      const i = rng.int(lines.length);
      lines[i] = (lines[i] ?? '') + rng.pick([' 1', ' 1 2 3', ' # {a="b"} 1', '{', '}', ' 123456789012345678901234567890']);
      return lines.join('\n');
    }
  }
}
