import type { StoredTrace } from '../ports.js';
import type { TraceSpan } from '../../model/trace.js';
import { decodeResourceAttributesFast, decodeSpanDetailsFast, decodeSpanLinks } from '../../codec/span-links.js';
import type { Attributes } from '../../model/trace.js';

/** Row of READER_SQL.spansTimingInRange after name lookup. */
export interface TimingRow {
  span_id: Buffer;
  parent_span_id: Buffer | null;
  service_id: bigint;
  name_id: bigint;
  kind: bigint;
  start_ns: bigint;
  end_ns: bigint;
  status_code: bigint;
}

const EMPTY: Attributes = Object.freeze({}) as Attributes;

/** A timing-only TraceSpan from the indexed columns (no protobuf decode). */
export function timingSpan(traceId: string, row: TimingRow, service: string, name: string): TraceSpan {
  return {
    traceId,
    spanId: row.span_id.toString('hex'),
    parentSpanId: row.parent_span_id ? row.parent_span_id.toString('hex') : '',
    service,
    name,
    kind: Number(row.kind),
    startNs: row.start_ns,
    endNs: row.end_ns,
    statusCode: Number(row.status_code),
    statusMessage: '',
    attributes: EMPTY,
    resource: EMPTY,
    events: [],
    links: [],
  };
}

/** Timing TraceSpans plus links, from a stored trace (links read by a wire scan, nothing else decoded). */
export function linkedSpans(trace: StoredTrace): TraceSpan[] {
  return trace.spans.map((s) => ({
    traceId: trace.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId, service: s.service, name: s.name, kind: s.kind,
    startNs: s.startNs, endNs: s.endNs, statusCode: s.statusCode, statusMessage: '', attributes: EMPTY, resource: EMPTY, events: [],
    links: decodeSpanLinks(s.raw),
  }));
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
