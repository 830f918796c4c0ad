/**
 * The flat form of a decoded trace export: what the ingest decoder writes (traces-decode.ts) and what the
 * store's writer reads in place (store/sqlite/span-batch.ts). A span is a row of integers, not an object
 * with byte views and BigInt times: building and then reading those objects cost more than the decode.
 */

/**
 * The layout words. First the resource count, then per resource: service name and schema URL (string
 * indexes), raw offset and length (NONE: unset), digest offset (NONE until the store fills it in), scope
 * count. Per scope: schema URL, raw offset and length, digest offset, span count. Per span (SPAN_WORDS):
 * trace id, span id and parent span id offsets (NONE: root), name (string index), bits (kind, status
 * code, EFFECTIVE_ERROR, HAS_LINKS), raw offset and length. Offsets are into the request body; those at
 * or past its length are into the redacted replacements that follow it.
 */
import type { DecodedResource, DecodedScope, DecodedTraces } from '../model/decoded.js';

export const LAYOUT = {
  NONE: 0xffffffff,
  RESOURCE_WORDS: 6,
  SCOPE_WORDS: 5,
  SPAN_WORDS: 7,
  KIND_BITS: 0xf,
  STATUS_SHIFT: 4,
  EFFECTIVE_ERROR: 1 << 8,
  HAS_LINKS: 1 << 9,
} as const;

const { NONE, RESOURCE_WORDS, SCOPE_WORDS, SPAN_WORDS, KIND_BITS, STATUS_SHIFT, EFFECTIVE_ERROR, HAS_LINKS } = LAYOUT;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
/**
 * Index of the low and high u32 word of a u64 in `times`, which is in host byte order so that it can be
 * read as a BigUint64Array as well as word by word.
 */
export const TIME_LO = LITTLE_ENDIAN_HOST ? 0 : 1;
export const TIME_HI = 1 - TIME_LO;

export interface FlatTraces {
  layout: Uint32Array;
  /** Per span, in layout order: start and end time as u64 (two u32 words each, host order). */
  times: Uint32Array;
  strings: string[];
  /** Replacement bytes made by redaction, in offset order after the body. */
  extra: Uint8Array[];
  extraBytes: number;
  /** Spans accepted by validation. */
  spanCount: number;
  /** Spans rejected one by one (bad ids, malformed span bytes). */
  rejected: number;
  /** A few distinct rejection reasons, for the partial_success error_message. */
  reasons: string[];
}

const EMPTY = new Uint8Array(0);

/**
 * The objects of model/decoded.ts for a flat decode, for the cold paths (JSON rendering, tools, tests).
 * Views are `body.subarray`s, or into the replacements after it; a digest word that is set gives the
 * resource or scope a `digestBytes`-long digest.
 */
export function expandTraces(flat: FlatTraces, body: Uint8Array, digestBytes = 0): DecodedTraces {
  const { layout, times, strings } = flat;
  const extras = new Uint8Array(flat.extraBytes);
  let at = 0;
  for (const e of flat.extra) {
    extras.set(e, at);
    at += e.length;
  }
  const view = (offset: number, length: number): Uint8Array =>
    offset < body.length ? body.subarray(offset, offset + length) : extras.subarray(offset - body.length, offset - body.length + length);
  const optional = (offset: number, length: number): Uint8Array | null => (offset === NONE ? null : view(offset, length));
  const time = (word: number): bigint => (BigInt(times[word + TIME_HI] as number) << 32n) | BigInt(times[word + TIME_LO] as number);
  const resources: DecodedResource[] = [];
  let w = 0;
  let ti = 0;
  const resourceCount = layout[w++] as number;
  for (let ri = 0; ri < resourceCount; ri++) {
    const resource: DecodedResource = {
      raw: optional(layout[w + 2] as number, layout[w + 3] as number),
      schemaUrl: strings[layout[w + 1] as number] as string,
      serviceName: strings[layout[w] as number] as string,
      scopes: [],
    };
    if (layout[w + 4] !== NONE) resource.digest = view(layout[w + 4] as number, digestBytes);
    const scopeCount = layout[w + 5] as number;
    w += RESOURCE_WORDS;
    for (let si = 0; si < scopeCount; si++) {
      const scope: DecodedScope = { raw: optional(layout[w + 1] as number, layout[w + 2] as number), schemaUrl: strings[layout[w] as number] as string, spans: [] };
      if (layout[w + 3] !== NONE) scope.digest = view(layout[w + 3] as number, digestBytes);
      const spanCount = layout[w + 4] as number;
      w += SCOPE_WORDS;
      for (let k = 0; k < spanCount; k++, w += SPAN_WORDS, ti += 4) {
        const parent = layout[w + 2] as number;
        const bits = layout[w + 4] as number;
        scope.spans.push({
          traceId: view(layout[w] as number, 16),
          spanId: view(layout[w + 1] as number, 8),
          parentSpanId: parent === NONE ? EMPTY : view(parent, 8),
          name: strings[layout[w + 3] as number] as string,
          kind: bits & KIND_BITS,
          startNs: time(ti),
          endNs: time(ti + 2),
          statusCode: (bits >>> STATUS_SHIFT) & 0xf,
          effectiveError: (bits & EFFECTIVE_ERROR) !== 0,
          hasLinks: (bits & HAS_LINKS) !== 0,
          raw: view(layout[w + 5] as number, layout[w + 6] as number),
        });
      }
      resource.scopes.push(scope);
    }
    resources.push(resource);
  }
  return { resources, spanCount: flat.spanCount, rejected: flat.rejected, reasons: flat.reasons };
}
