import type { AttributeValue, Attributes, HrTime } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/**
 * The OTLP/JSON the read API must return for an SDK span, derived from the OTLP spec (not from the
 * exporter code): ids as lower-case hex, kind = SDK kind + 1, 64-bit values as decimal strings, flags =
 * W3C trace flags | HAS_IS_REMOTE (0x100) | IS_REMOTE (0x200), proto3 defaults (empty strings, zero
 * counts, empty lists) omitted as otlp-json-out.ts documents.
 */
type Json = Record<string, unknown>;

const SPAN_FLAGS_HAS_IS_REMOTE = 0x100;
const SPAN_FLAGS_IS_REMOTE = 0x200;

export function hrTimeToNanos([seconds, nanos]: HrTime): string {
  return (BigInt(seconds) * 1_000_000_000n + BigInt(nanos)).toString();
}

export function anyValueJson(value: AttributeValue | null | undefined): Json {
  if (value === null || value === undefined) return {};
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
  const values = (value as (string | number | boolean | null | undefined)[]).map((v) => anyValueJson(v));
  return { arrayValue: values.length > 0 ? { values } : {} };
}

export function attributesJson(attributes: Attributes | undefined): Json[] {
  return Object.entries(attributes ?? {}).map(([key, value]) => ({ key, value: anyValueJson(value) }));
}

function put(out: Json, key: string, value: unknown): void {
  if (value === undefined || value === '' || value === 0) return;
  if (Array.isArray(value) && value.length === 0) return;
  out[key] = value;
}

function flags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | SPAN_FLAGS_HAS_IS_REMOTE | (isRemote ? SPAN_FLAGS_IS_REMOTE : 0);
}

export function expectedSpanJson(span: ReadableSpan): Json {
  const ctx = span.spanContext();
  const out: Json = { traceId: ctx.traceId, spanId: ctx.spanId };
  put(out, 'traceState', ctx.traceState?.serialize());
  put(out, 'parentSpanId', span.parentSpanContext?.spanId);
  out['flags'] = flags(ctx.traceFlags, span.parentSpanContext?.isRemote);
  out['name'] = span.name;
  out['kind'] = span.kind + 1;
  out['startTimeUnixNano'] = hrTimeToNanos(span.startTime);
  out['endTimeUnixNano'] = hrTimeToNanos(span.endTime);
  put(out, 'attributes', attributesJson(span.attributes));
  put(out, 'droppedAttributesCount', span.droppedAttributesCount);
  put(
    out,
    'events',
    span.events.map((e) => {
      const event: Json = {};
      put(event, 'timeUnixNano', hrTimeToNanos(e.time));
      put(event, 'name', e.name);
      put(event, 'attributes', attributesJson(e.attributes));
      put(event, 'droppedAttributesCount', e.droppedAttributesCount);
      return event;
    }),
  );
  put(out, 'droppedEventsCount', span.droppedEventsCount);
  put(
    out,
    'links',
    span.links.map((l) => {
      const link: Json = { traceId: l.context.traceId, spanId: l.context.spanId };
      put(link, 'traceState', l.context.traceState?.serialize());
      put(link, 'attributes', attributesJson(l.attributes));
      put(link, 'droppedAttributesCount', l.droppedAttributesCount);
      link['flags'] = flags(l.context.traceFlags, l.context.isRemote);
      return link;
    }),
  );
  put(out, 'droppedLinksCount', span.droppedLinksCount);
  const status: Json = {};
  put(status, 'message', span.status.message);
  put(status, 'code', span.status.code);
  out['status'] = status;
  return out;
}

export function expectedResourceJson(span: ReadableSpan): Json {
  return { attributes: attributesJson(span.resource.attributes) };
}

export function expectedScopeJson(span: ReadableSpan): Json {
  const scope: Json = {};
  put(scope, 'name', span.instrumentationScope.name);
  put(scope, 'version', span.instrumentationScope.version);
  return scope;
}
