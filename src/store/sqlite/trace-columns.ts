import type { TraceLink } from '../../model/trace.js';
import type { SpanErrorDetails, TraceColumns, TraceColumnsDetail } from '../../model/trace-columns.js';
import { decodeSpanDetailsFast, decodeSpanLinks } from '../../codec/span-links.js';
import { PACKED_FIELD as F, PACKED_SPAN_HEADER_BYTES } from './span-pack.js';
import { mayBeErrorHeader, mayHaveLinks } from './trace-spans.js';

const TWO_32 = 4294967296;

/** The per-span arrays of TraceColumns, being filled. */
type Filling = Pick<TraceColumns, 'spanIdHi' | 'spanIdLo' | 'hasParent' | 'parentIdHi' | 'parentIdLo' | 'kind' | 'statusCode' | 'service' | 'name' | 'startNs' | 'endNs'>;

/**
 * A trace's packed chunks (in arrival order) as TraceColumns: a counting pass, then one pass per chunk
 * over the record headers through a DataView, with no per-span object, BigInt or string; links are
 * decoded only for the spans that may have some, as the `links` detail of getTraceSpans does (`timing`
 * decodes none). With `errors` (a trace summary), the spans getTraceSpans(`errors`) decodes in full are
 * decoded the same way, details and links in one decodeSpanDetailsFast: the error candidates, usually few.
 *
 * Plain loops over typed reads in small functions, not a cursor with getters: the first calls on a big
 * trace run before the JIT has optimised anything, where each per-field call costs, and a small function
 * compiles quickly.
 */
export function traceColumns(
  traceId: string, chunks: readonly Buffer[], serviceName: (id: number) => string, spanName: (id: number) => string, detail: TraceColumnsDetail = 'links',
): TraceColumns {
  const views = chunks.map((c) => new DataView(c.buffer, c.byteOffset, c.byteLength));
  const count = countRecords(views);
  // Offsets from the first span's start: any instant will do, and this one needs no extra pass.
  const head = views.find((v) => v.byteLength > 0);
  const baseLo = head ? head.getUint32(F.startNs, true) : 0;
  const baseHi = head ? head.getUint32(F.startNs + 4, true) : 0;
  const cols = {
    spanIdHi: new Uint32Array(count),
    spanIdLo: new Uint32Array(count),
    hasParent: new Uint8Array(count),
    parentIdHi: new Uint32Array(count),
    parentIdLo: new Uint32Array(count),
    kind: new Uint8Array(count),
    statusCode: new Uint8Array(count),
    service: new Uint32Array(count),
    name: new Uint32Array(count),
    startNs: new Float64Array(count),
    endNs: new Float64Array(count),
  };
  const services = new Dictionary(serviceName);
  const names = new Dictionary(spanName);
  const links = new Map<number, TraceLink[]>();
  const errorDetails = detail === 'errors' ? new Map<number, SpanErrorDetails>() : null;
  let i = 0;
  const withLinks = detail !== 'timing';
  for (let c = 0; c < views.length; c++) i = fillChunk(cols, views[c]!, chunks[c]!, i, baseHi, baseLo, services, names, withLinks ? links : null, errorDetails);
  return {
    traceId, count, ...cols, services: services.strings, names: names.strings,
    baseNs: (BigInt(baseHi) << 32n) | BigInt(baseLo), links, ...(errorDetails ? { errorDetails } : {}),
  };
}

function countRecords(views: readonly DataView[]): number {
  let count = 0;
  for (const v of views) {
    for (let at = 0; at < v.byteLength; count++) {
      at += PACKED_SPAN_HEADER_BYTES + v.getUint32(at + F.rawLength, true);
      if (at > v.byteLength) throw new Error('packed spans: record overruns the chunk (corrupt row)');
    }
  }
  return count;
}

/** Fills the columns from one chunk's records, the first at index `i`; returns the index after its last. */
function fillChunk(
  cols: Filling, v: DataView, chunk: Buffer, i: number, baseHi: number, baseLo: number,
  services: Dictionary, names: Dictionary, links: Map<number, TraceLink[]> | null, errorDetails: Map<number, SpanErrorDetails> | null,
): number {
  const { spanIdHi, spanIdLo, hasParent, parentIdHi, parentIdLo, kind, statusCode, service, name, startNs, endNs } = cols;
  // Neighbouring spans mostly share a service and often a name: skip the Map for a repeat. The state is
  // in locals, not on the Dictionary: a number field whose representation changed between calls made V8
  // throw away the optimised code that read it (seen with --trace-deopt).
  let lastService = -1;
  let lastServiceAt = 0;
  let lastName = -1;
  let lastNameAt = 0;
  for (let at = 0; at < v.byteLength; i++) {
    const next = at + PACKED_SPAN_HEADER_BYTES + v.getUint32(at + F.rawLength, true);
    spanIdHi[i] = v.getUint32(at + F.spanId);
    spanIdLo[i] = v.getUint32(at + F.spanId + 4);
    // An all-zero parent id means "no parent" (CP-v1 normalisation), as an absent one does.
    if (v.getUint8(at + F.hasParent) === 1) {
      const ph = v.getUint32(at + F.parentSpanId);
      const pl = v.getUint32(at + F.parentSpanId + 4);
      if ((ph | pl) !== 0) {
        hasParent[i] = 1;
        parentIdHi[i] = ph;
        parentIdLo[i] = pl;
      }
    }
    kind[i] = v.getUint8(at + F.kind);
    statusCode[i] = v.getUint8(at + F.statusCode);
    const serviceId = v.getUint32(at + F.serviceId, true);
    if (serviceId !== lastService) {
      lastService = serviceId;
      lastServiceAt = services.local(serviceId);
    }
    service[i] = lastServiceAt;
    const nameId = v.getUint32(at + F.nameId, true);
    if (nameId !== lastName) {
      lastName = nameId;
      lastNameAt = names.local(nameId);
    }
    name[i] = lastNameAt;
    // Exact while the offset stays below 2^53 (see TraceColumns); one rounding otherwise, which the analysis detects.
    startNs[i] = (v.getUint32(at + F.startNs + 4, true) - baseHi) * TWO_32 + (v.getUint32(at + F.startNs, true) - baseLo);
    endNs[i] = (v.getUint32(at + F.endNs + 4, true) - baseHi) * TWO_32 + (v.getUint32(at + F.endNs, true) - baseLo);
    const flags = v.getUint8(at + F.flags);
    if (errorDetails !== null && mayBeErrorHeader(flags, statusCode[i]!, kind[i]!)) {
      const d = decodeSpanDetailsFast(chunk.subarray(at + PACKED_SPAN_HEADER_BYTES, next));
      errorDetails.set(i, { statusMessage: d.statusMessage, attributes: d.attributes, events: d.events });
      if (d.links.length > 0) links?.set(i, d.links);
    } else if (links !== null && mayHaveLinks(flags)) {
      const decoded = decodeSpanLinks(chunk.subarray(at + PACKED_SPAN_HEADER_BYTES, next));
      if (decoded.length > 0) links.set(i, decoded);
    }
    at = next;
  }
  return i;
}

/** Store-wide name ids → small per-trace indexes into `strings`, so the columns carry each name once. */
class Dictionary {
  readonly strings: string[] = [];
  private readonly index = new Map<number, number>();

  constructor(private readonly lookup: (id: number) => string) {}

  local(id: number): number {
    let at = this.index.get(id);
    if (at === undefined) {
      at = this.strings.length;
      this.strings.push(this.lookup(id));
      this.index.set(id, at);
    }
    return at;
  }
}
