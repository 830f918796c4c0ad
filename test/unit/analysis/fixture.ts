/**
 * Compact TraceSpan builders for analysis tests: one row per span, times in ns unless scaled with `ms()`.
 */
import { SpanKind, StatusCode } from '../../../src/model/span.js';
import type { Attributes, TraceEvent, TraceLink, TraceSpan } from '../../../src/model/trace.js';

export const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';

export interface Row {
  id: string;
  parent?: string;
  start: number | bigint;
  end: number | bigint;
  service?: string;
  name?: string;
  kind?: number;
  status?: number;
  message?: string;
  attrs?: Attributes;
  resource?: Attributes;
  events?: TraceEvent[];
  links?: TraceLink[];
  traceId?: string;
}

export function mkSpan(row: Row, traceId = TRACE_ID): TraceSpan {
  return {
    traceId: row.traceId ?? traceId,
    spanId: row.id,
    parentSpanId: row.parent ?? '',
    service: row.service ?? 'svc',
    name: row.name ?? row.id,
    kind: row.kind ?? SpanKind.INTERNAL,
    startNs: BigInt(row.start),
    endNs: BigInt(row.end),
    statusCode: row.status ?? StatusCode.UNSET,
    statusMessage: row.message ?? '',
    attributes: row.attrs ?? {},
    resource: row.resource ?? {},
    events: row.events ?? [],
    links: row.links ?? [],
  };
}

export function mkTrace(rows: Row[], traceId = TRACE_ID): TraceSpan[] {
  return rows.map((r) => mkSpan(r, traceId));
}

/** Milliseconds (may be fractional to µs) → exact ns bigint. */
export function ms(x: number): bigint {
  return BigInt(Math.round(x * 1000)) * 1000n;
}

/** A FOLLOWS_FROM reference as the OpenTracing shim / Jaeger translator encode it. */
export function followsFrom(parentId: string, traceId = TRACE_ID): TraceLink {
  return { traceId, spanId: parentId, attributes: { 'opentracing.ref_type': 'follows_from' } };
}

/** 32-hex trace id from a small number, for multi-trace tests. */
export function traceIdOf(n: number): string {
  return n.toString(16).padStart(32, '0');
}
