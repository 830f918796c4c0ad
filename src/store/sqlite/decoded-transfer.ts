/**
 * Decoded export requests as they cross from the receiving thread to the writer thread. The writer is
 * the one serial stage of ingest, so parsing, validation and redaction run on the receiving thread,
 * which has cores to spare (bench/ingest.ts --profile: its event loop idles ~40–80 % at full rate), and
 * the writer reads the few fields it stores from the flat arrays in place (span-batch.ts). Everything
 * crosses as transferable buffers plus a short list of distinct strings, never as one cloned object per
 * span: structured cloning per-span objects costs the receiving thread more than the decode it moves.
 * Bodies over 4 MiB are decoded and flattened by the writer itself (span-store.ts), so that no export
 * holds the event loop for long.
 */
import type { DecodedTraces } from '../../model/decoded.js';
import type { OtlpExportRequest } from '../../pipeline/consumer.js';
import { PermanentError } from '../../pipeline/errors.js';
import { decodeTracesFlat } from '../../codec/traces-decode.js';
import { LAYOUT, type FlatTraces } from '../../codec/trace-layout.js';
import { MalformedProtobufError } from '../../codec/wire-reader.js';
import { MalformedJsonError, transcodeTracesJson } from '../../codec/otlp-json-in.js';
import type { Redactor } from '../../codec/redact.js';
import { BlobDictionary } from './dictionaries.js';

export interface TransferredTraces {
  /** The request's bytes, followed by the redacted replacements of any span, resource or scope. */
  bytes: ArrayBuffer;
  /** Tree of resources → scopes → spans, as offsets into `bytes` and indexes into `strings`. */
  layout: ArrayBuffer;
  /** Start and end time of each span, in layout order. */
  times: ArrayBuffer;
  strings: string[];
  spanCount: number;
  rejected: number;
  reasons: string[];
}

const { NONE, RESOURCE_WORDS, SCOPE_WORDS, SPAN_WORDS, STATUS_SHIFT, EFFECTIVE_ERROR, HAS_LINKS } = LAYOUT;

/**
 * Decodes (OTLP/JSON through its protobuf transcoding), validates and redacts one trace export for the
 * writer. A body that is not OTLP at all throws PermanentError (400 / INVALID_ARGUMENT).
 */
export function decodeForWriter(request: OtlpExportRequest, redactor: Redactor | undefined): TransferredTraces {
  try {
    if (request.encoding === 'protobuf') return forTransfer(decodeTracesFlat(request.body, redactor), request.body);
    const { proto, rejected, reasons } = transcodeTracesJson(request.body);
    const flat = decodeTracesFlat(proto, redactor);
    flat.rejected += rejected;
    flat.reasons.unshift(...reasons);
    return forTransfer(flat, proto);
  } catch (err) {
    if (err instanceof MalformedProtobufError) throw new PermanentError(`invalid OTLP protobuf: ${err.message}`);
    if (err instanceof MalformedJsonError) throw new PermanentError(`invalid OTLP/JSON: ${err.message}`);
    throw err;
  }
}

/**
 * The transferable form of a flat decode whose offsets point into `body`: one buffer holding the body,
 * the redacted replacements and the resource and scope digests (which the decoder leaves unset).
 */
function forTransfer(flat: FlatTraces, body: Uint8Array): TransferredTraces {
  const { layout, strings } = flat;
  const extras = flat.extra;
  let extraBytes = flat.extraBytes;
  const rawOf = (offset: number, length: number): Uint8Array | null => {
    if (offset === NONE) return null;
    if (offset < body.length) return body.subarray(offset, offset + length);
    // Replacements are few (only redaction makes them): find the one at this offset.
    let at = body.length;
    for (const e of extras) {
      if (at === offset) return e;
      at += e.length;
    }
    throw new Error(`no replacement bytes at offset ${offset}`);
  };
  const digests: Uint8Array[] = [];
  const addDigest = (schemaUrl: string, raw: Uint8Array | null): number => {
    const digest = digestOf(schemaUrl, raw);
    digests.push(digest);
    extraBytes += digest.length;
    return body.length + extraBytes - digest.length;
  };
  let w = 0;
  const resourceCount = layout[w++] as number;
  for (let ri = 0; ri < resourceCount; ri++) {
    layout[w + 4] = addDigest(strings[layout[w + 1] as number] as string, rawOf(layout[w + 2] as number, layout[w + 3] as number));
    const scopeCount = layout[w + 5] as number;
    w += RESOURCE_WORDS;
    for (let si = 0; si < scopeCount; si++) {
      layout[w + 3] = addDigest(strings[layout[w] as number] as string, rawOf(layout[w + 1] as number, layout[w + 2] as number));
      w += SCOPE_WORDS + SPAN_WORDS * (layout[w + 4] as number);
    }
  }
  const bytes = new Uint8Array(body.length + extraBytes);
  bytes.set(body);
  let at = body.length;
  for (const part of [extras, digests]) {
    for (const e of part) {
      bytes.set(e, at);
      at += e.length;
    }
  }
  return { bytes: bytes.buffer, layout: layout.buffer as ArrayBuffer, times: flat.times.buffer as ArrayBuffer, strings, spanCount: flat.spanCount, rejected: flat.rejected, reasons: flat.reasons };
}

/**
 * Most exports repeat the same few resources and scopes: their digests are remembered by their bytes.
 * Only small ones, so that the memo stays within ~4096 × 4 KiB however large a resource is.
 */
const digestMemo = new Map<string, Buffer>();
const DIGEST_MEMO_ENTRIES = 4096;
const DIGEST_MEMO_MAX_BYTES = 4096;

function digestOf(schemaUrl: string, raw: Uint8Array | null): Buffer {
  if ((raw?.length ?? 0) + schemaUrl.length > DIGEST_MEMO_MAX_BYTES) return BlobDictionary.digest(schemaUrl, raw);
  // Length-prefixed so that no schema URL and bytes can spell another pair's key.
  const prefix = `${schemaUrl.length}:${schemaUrl}`;
  const key = raw === null ? `n${prefix}` : `r${prefix}${Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('latin1')}`;
  let digest = digestMemo.get(key);
  if (digest === undefined) {
    if (digestMemo.size >= DIGEST_MEMO_ENTRIES) digestMemo.clear();
    digestMemo.set(key, (digest = BlobDictionary.digest(schemaUrl, raw)));
  }
  return digest;
}

/**
 * Flattens `decoded`, whose views point into `body` or into fresh buffers made by redaction. The decoder
 * always leaves ids in the body; `idsInBody: false` is for DecodedTraces built any other way.
 */
export function flattenDecoded(decoded: DecodedTraces, body: Uint8Array, idsInBody = true): TransferredTraces {
  const extra: Uint8Array[] = [];
  let extraBytes = 0;
  const base = body.byteOffset;
  const bodyBuffer = body.buffer;
  // Typed-array getters cost 30–40 ns each here: ids are always views into the body (only redaction
  // replaces bytes, and only whole spans, resources and scopes), so they skip the buffer check.
  const end = base + body.byteLength;
  const offsetOf = (view: Uint8Array): number => {
    // Range too: a small body and a replacement may both be slices of Node's shared buffer pool.
    if (view.buffer === bodyBuffer) {
      const at = view.byteOffset;
      if (at >= base && at + view.byteLength <= end) return at - base;
    }
    extra.push(view);
    extraBytes += view.byteLength;
    return body.byteLength + extraBytes - view.byteLength;
  };
  const idOffset = idsInBody ? (view: Uint8Array): number => view.byteOffset - base : offsetOf;
  const strings: string[] = [];
  const stringIndex = new Map<string, number>();
  const intern = (s: string): number => {
    let i = stringIndex.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      stringIndex.set(s, i);
    }
    return i;
  };
  let words = 1;
  for (const r of decoded.resources) {
    words += 6;
    for (const sc of r.scopes) words += 5 + SPAN_WORDS * sc.spans.length;
  }
  const layout = new Uint32Array(words);
  const times = new BigUint64Array(2 * decoded.spanCount);
  let w = 0;
  let t = 0;
  layout[w++] = decoded.resources.length;
  for (const r of decoded.resources) {
    layout[w++] = intern(r.serviceName);
    layout[w++] = intern(r.schemaUrl);
    layout[w++] = r.raw === null ? NONE : offsetOf(r.raw);
    layout[w++] = r.raw === null ? 0 : r.raw.byteLength;
    // Digests too are computed here rather than in the writer (~0.3 µs per span of its time).
    layout[w++] = offsetOf(digestOf(r.schemaUrl, r.raw));
    layout[w++] = r.scopes.length;
    for (const sc of r.scopes) {
      layout[w++] = intern(sc.schemaUrl);
      layout[w++] = sc.raw === null ? NONE : offsetOf(sc.raw);
      layout[w++] = sc.raw === null ? 0 : sc.raw.byteLength;
      layout[w++] = offsetOf(digestOf(sc.schemaUrl, sc.raw));
      layout[w++] = sc.spans.length;
      for (const s of sc.spans) {
        layout[w++] = idOffset(s.traceId);
        layout[w++] = idOffset(s.spanId);
        layout[w++] = s.parentSpanId.length === 0 ? NONE : idOffset(s.parentSpanId);
        layout[w++] = intern(s.name);
        layout[w++] = s.kind | (s.statusCode << STATUS_SHIFT) | (s.effectiveError ? EFFECTIVE_ERROR : 0) | (s.hasLinks ? HAS_LINKS : 0);
        layout[w++] = offsetOf(s.raw);
        layout[w++] = s.raw.byteLength;
        times[t++] = s.startNs;
        times[t++] = s.endNs;
      }
    }
  }
  const bytes = new Uint8Array(body.byteLength + extraBytes);
  bytes.set(body);
  let at = body.byteLength;
  for (const e of extra) {
    bytes.set(e, at);
    at += e.byteLength;
  }
  return {
    bytes: bytes.buffer,
    layout: layout.buffer,
    times: times.buffer,
    strings,
    spanCount: decoded.spanCount,
    rejected: decoded.rejected,
    reasons: decoded.reasons,
  };
}

/** The buffers to list as transferred when posting `t`. */
export function transferList(t: TransferredTraces): ArrayBuffer[] {
  return [t.bytes, t.layout, t.times];
}
