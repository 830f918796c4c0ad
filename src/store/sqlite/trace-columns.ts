import type { TraceLink } from '../../model/trace.js';
import type { TraceColumns } from '../../model/trace-columns.js';
import { decodeSpanLinks } from '../../codec/span-links.js';
import { PACKED_FIELD as F, PACKED_SPAN_HEADER_BYTES } from './span-pack.js';
import { mayHaveLinks } from './trace-spans.js';

const TWO_32 = 4294967296;

/**
 * A trace's packed chunks (in arrival order) as TraceColumns: two passes over the record headers (count,
 * then fill) through DataViews, with no per-span object, BigInt or string; links are decoded only for
 * the spans that may have some, as the `links` detail of getTraceSpans does.
 * Plain loops over typed reads, not a cursor with getters: the first calls on a big trace run before the
 * JIT has optimised anything, and that is where a per-field call costs most.
 */
export function traceColumns(traceId: string, chunks: readonly Buffer[], serviceName: (id: number) => string, spanName: (id: number) => string): TraceColumns {
  const views = chunks.map((c) => new DataView(c.buffer, c.byteOffset, c.byteLength));
  let count = 0;
  for (const v of views) {
    for (let at = 0; at < v.byteLength; count++) {
      at += PACKED_SPAN_HEADER_BYTES + v.getUint32(at + F.rawLength, true);
      if (at > v.byteLength) throw new Error('packed spans: record overruns the chunk (corrupt row)');
    }
  }
  // Offsets from the first span's start: any instant will do, and this one needs no extra pass.
  const head = views.find((v) => v.byteLength > 0);
  const baseHi = head ? head.getUint32(F.startNs + 4, true) : 0;
  const baseLo = head ? head.getUint32(F.startNs, true) : 0;
  const spanIdHi = new Uint32Array(count);
  const spanIdLo = new Uint32Array(count);
  const hasParent = new Uint8Array(count);
  const parentIdHi = new Uint32Array(count);
  const parentIdLo = new Uint32Array(count);
  const kind = new Uint8Array(count);
  const service = new Uint32Array(count);
  const name = new Uint32Array(count);
  const startNs = new Float64Array(count);
  const endNs = new Float64Array(count);
  const services = new Dictionary(serviceName);
  const names = new Dictionary(spanName);
  const links = new Map<number, TraceLink[]>();
  let i = 0;
  for (let c = 0; c < views.length; c++) {
    const v = views[c]!;
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
      const serviceId = v.getUint32(at + F.serviceId, true);
      const nameId = v.getUint32(at + F.nameId, true);
      service[i] = serviceId === services.lastId ? services.lastAt : services.local(serviceId);
      name[i] = nameId === names.lastId ? names.lastAt : names.local(nameId);
      // Exact while the offset stays below 2^53 (see TraceColumns); one rounding otherwise, which the analysis detects.
      startNs[i] = (v.getUint32(at + F.startNs + 4, true) - baseHi) * TWO_32 + (v.getUint32(at + F.startNs, true) - baseLo);
      endNs[i] = (v.getUint32(at + F.endNs + 4, true) - baseHi) * TWO_32 + (v.getUint32(at + F.endNs, true) - baseLo);
      if (mayHaveLinks(v.getUint8(at + F.flags))) {
        const decoded = decodeSpanLinks(chunks[c]!.subarray(at + PACKED_SPAN_HEADER_BYTES, next));
        if (decoded.length > 0) links.set(i, decoded);
      }
      at = next;
    }
  }
  return {
    traceId, count, spanIdHi, spanIdLo, hasParent, parentIdHi, parentIdLo, kind, service, name,
    services: services.strings, names: names.strings,
    baseNs: (BigInt(baseHi) << 32n) | BigInt(baseLo), startNs, endNs, links,
  };
}

/** Store-wide name ids → small per-trace indexes, so the columns carry each name once. */
class Dictionary {
  readonly strings: string[] = [];
  private readonly index = new Map<number, number>();
  /** The last id looked up and its index: neighbouring spans mostly share a service, so callers check it first. */
  lastId = -1;
  lastAt = -1;

  constructor(private readonly lookup: (id: number) => string) {}

  local(id: number): number {
    let at = this.index.get(id);
    if (at === undefined) {
      at = this.strings.length;
      this.strings.push(this.lookup(id));
      this.index.set(id, at);
    }
    this.lastId = id;
    this.lastAt = at;
    return at;
  }
}
