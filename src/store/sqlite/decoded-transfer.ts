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
import { decodeTracesRequest } from '../../codec/traces-decode.js';
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

/**
 * The layout words, for the writer, which reads them directly (span-batch.ts). Per resource: service name
 * and schema URL (string indexes), raw offset and length (NONE: unset), digest offset, scope count. Per
 * scope: schema URL, raw offset and length, digest offset, span count. Per span (SPAN_WORDS): trace id,
 * span id and parent span id offsets (NONE: root), name (string index), bits (kind, status code,
 * EFFECTIVE_ERROR, HAS_LINKS), raw offset and length. `times` holds each span's start and end as u64.
 */
export const LAYOUT = {
  NONE: 0xffffffff,
  SPAN_WORDS: 7,
  KIND_BITS: 0xf,
  STATUS_SHIFT: 4,
  EFFECTIVE_ERROR: 1 << 8,
  HAS_LINKS: 1 << 9,
} as const;
const { NONE, SPAN_WORDS, STATUS_SHIFT, EFFECTIVE_ERROR, HAS_LINKS } = LAYOUT;

/**
 * Decodes (OTLP/JSON through its protobuf transcoding), validates and redacts one trace export for the
 * writer. A body that is not OTLP at all throws PermanentError (400 / INVALID_ARGUMENT).
 */
export function decodeForWriter(request: OtlpExportRequest, redactor: Redactor | undefined): TransferredTraces {
  const { decoded, bytes } = decodeTraces(request, redactor);
  return flattenDecoded(decoded, bytes);
}

/** decodeForWriter without the flattening; `bytes` is the protobuf the decoded views point into. */
export function decodeTraces(request: OtlpExportRequest, redactor: Redactor | undefined): { decoded: DecodedTraces; bytes: Uint8Array } {
  try {
    if (request.encoding === 'protobuf') return { decoded: decodeTracesRequest(request.body, redactor), bytes: request.body };
    const { proto, rejected, reasons } = transcodeTracesJson(request.body);
    const decoded = decodeTracesRequest(proto, redactor);
    decoded.rejected += rejected;
    decoded.reasons.unshift(...reasons);
    return { decoded, bytes: proto };
  } catch (err) {
    if (err instanceof MalformedProtobufError) throw new PermanentError(`invalid OTLP protobuf: ${err.message}`);
    if (err instanceof MalformedJsonError) throw new PermanentError(`invalid OTLP/JSON: ${err.message}`);
    throw err;
  }
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
    layout[w++] = offsetOf(BlobDictionary.digest(r.schemaUrl, r.raw));
    layout[w++] = r.scopes.length;
    for (const sc of r.scopes) {
      layout[w++] = intern(sc.schemaUrl);
      layout[w++] = sc.raw === null ? NONE : offsetOf(sc.raw);
      layout[w++] = sc.raw === null ? 0 : sc.raw.byteLength;
      layout[w++] = offsetOf(BlobDictionary.digest(sc.schemaUrl, sc.raw));
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
