/**
 * The inverse of flattenDecoded, for tests and bench/writer-stages.ts: the writer reads the flat form
 * directly (store/sqlite/span-batch.ts) and never rebuilds these objects.
 */
import type { DecodedResource, DecodedScope, DecodedSpan, DecodedTraces } from '../../src/model/decoded.js';
import { BLOB_DIGEST_BYTES } from '../../src/store/sqlite/dictionaries.js';
import { LAYOUT, type TransferredTraces } from '../../src/store/sqlite/decoded-transfer.js';

const { NONE, SPAN_WORDS, KIND_BITS, STATUS_SHIFT, EFFECTIVE_ERROR, HAS_LINKS } = LAYOUT;
const EMPTY = new Uint8Array(0);

/** Rebuilds the DecodedTraces that flattenDecoded flattened, as views into `t.bytes`. */
export function unflattenDecoded(t: TransferredTraces): DecodedTraces {
  const layout = new Uint32Array(t.layout);
  const times = new BigUint64Array(t.times);
  const strings = t.strings;
  // Plain Uint8Array views: Buffer#subarray costs ~3× more (species lookup, FastBuffer), 4 per span.
  const view = (offset: number, length: number): Uint8Array => new Uint8Array(t.bytes, offset, length);
  const resources: DecodedResource[] = [];
  let w = 0;
  let ti = 0;
  const resourceCount = layout[w++] as number;
  for (let ri = 0; ri < resourceCount; ri++) {
    const serviceName = strings[layout[w++] as number] as string;
    const schemaUrl = strings[layout[w++] as number] as string;
    const rawOffset = layout[w++] as number;
    const rawLength = layout[w++] as number;
    const digest = view(layout[w++] as number, BLOB_DIGEST_BYTES);
    const scopeCount = layout[w++] as number;
    const resource: DecodedResource = { raw: rawOffset === NONE ? null : view(rawOffset, rawLength), digest, schemaUrl, serviceName, scopes: [] };
    for (let si = 0; si < scopeCount; si++) {
      const scopeSchemaUrl = strings[layout[w++] as number] as string;
      const scopeRawOffset = layout[w++] as number;
      const scopeRawLength = layout[w++] as number;
      const scopeDigest = view(layout[w++] as number, BLOB_DIGEST_BYTES);
      const spanCount = layout[w++] as number;
      const spans: DecodedSpan[] = new Array<DecodedSpan>(spanCount);
      for (let k = 0; k < spanCount; k++) {
        const parent = layout[w + 2] as number;
        const bits = layout[w + 4] as number;
        spans[k] = {
          traceId: view(layout[w] as number, 16),
          spanId: view(layout[w + 1] as number, 8),
          parentSpanId: parent === NONE ? EMPTY : view(parent, 8),
          name: strings[layout[w + 3] as number] as string,
          kind: bits & KIND_BITS,
          startNs: times[ti] as bigint,
          endNs: times[ti + 1] as bigint,
          statusCode: (bits >>> STATUS_SHIFT) & 0xf,
          effectiveError: (bits & EFFECTIVE_ERROR) !== 0,
          hasLinks: (bits & HAS_LINKS) !== 0,
          raw: view(layout[w + 5] as number, layout[w + 6] as number),
        };
        w += SPAN_WORDS;
        ti += 2;
      }
      const scope: DecodedScope = {
        raw: scopeRawOffset === NONE ? null : view(scopeRawOffset, scopeRawLength),
        digest: scopeDigest,
        schemaUrl: scopeSchemaUrl,
        spans,
      };
      resource.scopes.push(scope);
    }
    resources.push(resource);
  }
  return { resources, spanCount: t.spanCount, rejected: t.rejected, reasons: t.reasons };
}
