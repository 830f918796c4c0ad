import type { StoredTrace } from '../ports.js';
import type { TraceSpan } from '../../model/trace.js';
import { decodeResourceAttributesFast, decodeSpanDetailsFast } from '../../codec/span-links.js';
import type { Attributes } from '../../model/trace.js';
import { SPAN_FLAG_EFFECTIVE_ERROR, SPAN_FLAG_HAS_LINKS, SPAN_FLAG_KNOWN, type PackedSpans } from './span-pack.js';
import { SpanKind, StatusCode } from '../../model/span.js';

const EMPTY: Attributes = Object.freeze({}) as Attributes;
// Shared by every header-only span; whoever adds events or links assigns a new array.
const NO_EVENTS = Object.freeze([]) as unknown as TraceSpan['events'];
const NO_LINKS = Object.freeze([]) as unknown as TraceSpan['links'];

/** A timing-only TraceSpan from a packed span's header (no protobuf decode). */
export function timingSpan(traceId: string, span: PackedSpans, service: string, name: string): TraceSpan {
  return {
    traceId,
    spanId: span.spanIdHex,
    parentSpanId: span.parentSpanIdHex,
    service,
    name,
    kind: span.kind,
    startNs: span.startNs,
    endNs: span.endNs,
    statusCode: span.statusCode,
    statusMessage: '',
    attributes: EMPTY,
    resource: EMPTY,
    events: NO_EVENTS,
    links: NO_LINKS,
  };
}

/** Whether a packed span may carry links: records written before the flags existed are unknown, so yes. */
export function mayHaveLinks(flags: number): boolean {
  return (flags & SPAN_FLAG_KNOWN) === 0 || (flags & SPAN_FLAG_HAS_LINKS) !== 0;
}

/**
 * Whether a packed span is (flagged at ingest) or, in records that predate the flags, may be an ERR-v1
 * effective error: status ERROR, or UNSET on a SERVER/CLIENT span (its HTTP/gRPC code decides).
 */
export function mayBeError(span: PackedSpans): boolean {
  return mayBeErrorHeader(span.flags, span.statusCode, span.kind);
}

/** mayBeError from the header fields themselves (the columnar read has no PackedSpans cursor). */
export function mayBeErrorHeader(flags: number, status: number, kind: number): boolean {
  if ((flags & SPAN_FLAG_KNOWN) !== 0) return (flags & SPAN_FLAG_EFFECTIVE_ERROR) !== 0;
  return status === StatusCode.ERROR || (status === StatusCode.UNSET && (kind === SpanKind.SERVER || kind === SpanKind.CLIENT));
}

/** Full TraceSpans from a stored trace: decodes each span's bytes and each resource once. */
export function fullSpans(trace: StoredTrace): TraceSpan[] {
  const resources = new Map<number, Attributes>();
  return trace.spans.map((s) => {
    let resource = resources.get(s.resourceId);
    if (resource === undefined) {
      resource = decodeResourceAttributesFast(trace.resources.get(s.resourceId)?.raw ?? null);
      resources.set(s.resourceId, resource);
    }
    const details = decodeSpanDetailsFast(s.raw);
    return {
      traceId: trace.traceId,
      spanId: s.spanId,
      parentSpanId: s.parentSpanId,
      service: s.service,
      name: s.name,
      kind: s.kind,
      startNs: s.startNs,
      endNs: s.endNs,
      statusCode: s.statusCode,
      statusMessage: details.statusMessage,
      attributes: details.attributes,
      resource,
      events: details.events,
      links: details.links,
    };
  });
}
