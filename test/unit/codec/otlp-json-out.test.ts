import { describe, it, expect } from 'vitest';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Attributes } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { JsonTraceSerializer, ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { decodeTracesRequest } from '../../../src/codec/traces-decode.js';
import type { StoredSpanGroup } from '../../../src/codec/otlp-json-out.js';
import { resourceToOtlpJson, scopeToOtlpJson, spanToOtlpJson, toResourceSpansJson } from '../../../src/codec/otlp-json-out.js';

type Json = Record<string, unknown>;

/** Real SDK spans: two scopes, every attribute type the API allows, events, links, error status, all kinds. */
function sdkSpans(): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'checkout', 'host.cores': 8, 'deployment.ok': true }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const a = provider.getTracer('lib-a', '1.2.3', { schemaUrl: 'https://opentelemetry.io/schemas/1.21.0' });
  const b = provider.getTracer('lib-b');
  const other = a.startSpan('other');
  other.end();
  const root = a.startSpan('GET /cart', {
    kind: SpanKind.SERVER,
    startTime: [1_700_000_000, 123_456_789],
    attributes: {
      str: 'v',
      empty: '',
      yes: true,
      no: false,
      int: 42,
      zero: 0,
      negative: -7,
      dbl: 2.5,
      strs: ['a', 'b'],
      ints: [1, 2],
      bools: [true],
    },
    links: [{ context: other.spanContext(), attributes: { 'link.attr': 'x' } }],
  });
  root.addEvent('exception', { 'exception.message': 'boom' }, [1_700_000_000, 500]);
  root.addEvent('bare');
  root.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
  for (const kind of [SpanKind.INTERNAL, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER]) {
    const child = b.startSpan(`child-${kind}`, { kind }, trace.setSpan(ROOT_CONTEXT, root));
    child.setStatus({ code: SpanStatusCode.OK });
    child.end();
  }
  root.end([1_700_000_001, 0]);
  return exporter.getFinishedSpans();
}

/** An SDK span with attribute values the API does not allow but the transformer encodes (bytes, maps, NaN). */
function withAttributes(span: ReadableSpan, attributes: Record<string, unknown>): ReadableSpan {
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => span.spanContext(),
    startTime: span.startTime,
    endTime: span.endTime,
    status: span.status,
    attributes: attributes as Attributes,
    links: [],
    events: [],
    duration: span.duration,
    ended: true,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

function groupsOf(proto: Uint8Array): StoredSpanGroup[] {
  const decoded = decodeTracesRequest(proto);
  expect(decoded.rejected).toBe(0);
  return decoded.resources.flatMap((r) =>
    r.scopes.map((s) => ({
      resource: r.raw,
      resourceSchemaUrl: r.schemaUrl,
      scope: s.raw,
      scopeSchemaUrl: s.schemaUrl,
      spans: s.spans.map((x) => x.raw),
    })),
  );
}

const ANY_VALUE_KEYS = new Set(['stringValue', 'boolValue', 'intValue', 'doubleValue', 'bytesValue', 'arrayValue', 'kvlistValue']);

/**
 * The transformer's JSON brought to our documented normalisation: proto3 defaults dropped, int64 as
 * strings, and its one quirk (a `schemaUrl` inside Resource, which has no such field) removed.
 */
function normalise(value: unknown, key = ''): unknown {
  if (Array.isArray(value)) return value.map((v) => normalise(v));
  if (typeof value !== 'object' || value === null) return key === 'intValue' ? String(value) : value;
  const out: Json = {};
  for (const [k, v] of Object.entries(value)) {
    if (key === 'resource' && k === 'schemaUrl') continue;
    const n = normalise(v, k);
    const isDefault = n === undefined || n === '' || n === 0 || (Array.isArray(n) && n.length === 0);
    if (isDefault && !ANY_VALUE_KEYS.has(k)) continue;
    out[k] = n;
  }
  return out;
}

function normaliseRequest(json: Uint8Array): unknown[] {
  const doc = normalise(JSON.parse(new TextDecoder().decode(json))) as { resourceSpans: Json[] };
  for (const rs of doc.resourceSpans) {
    for (const ss of rs['scopeSpans'] as Json[]) {
      for (const span of ss['spans'] as Json[]) {
        // Always-present span fields (see otlp-json-out.ts).
        span['kind'] ??= 0;
        span['status'] ??= {};
      }
    }
  }
  return doc.resourceSpans;
}

function serialize(spans: ReadableSpan[]): Uint8Array {
  const proto = ProtobufTraceSerializer.serializeRequest(spans);
  if (proto === undefined) throw new Error('serializer returned nothing');
  return proto;
}

describe('toResourceSpansJson', () => {
  it('renders SDK spans exactly like the OTLP JSON serializer, after documented normalisation', () => {
    const spans = sdkSpans();
    expect(spans).toHaveLength(6);
    const ours = toResourceSpansJson(groupsOf(serialize(spans)));
    const theirs = normaliseRequest(JsonTraceSerializer.serializeRequest(spans) as Uint8Array);
    expect(ours).toEqual(theirs);
    // Plain JSON: no Long, Uint8Array or undefined survives into the output.
    expect(JSON.parse(JSON.stringify(ours))).toEqual(ours);
  });

  it('spells out the fields a reader relies on', () => {
    const spans = sdkSpans();
    const [rs] = toResourceSpansJson(groupsOf(serialize(spans))) as Json[];
    const [scopeA, scopeB] = rs?.['scopeSpans'] as Json[];
    expect(scopeA?.['schemaUrl']).toBe('https://opentelemetry.io/schemas/1.21.0');
    expect(scopeA?.['scope']).toEqual({ name: 'lib-a', version: '1.2.3' });
    expect(scopeB?.['scope']).toEqual({ name: 'lib-b' });
    const root = (scopeA?.['spans'] as Json[]).find((s) => s['name'] === 'GET /cart') as Json;
    const sdkRoot = spans.find((s) => s.name === 'GET /cart') as ReadableSpan;
    expect(root['traceId']).toBe(sdkRoot.spanContext().traceId);
    expect(root['kind']).toBe(2);
    expect(root['startTimeUnixNano']).toBe('1700000000123456789');
    expect(root['endTimeUnixNano']).toBe('1700000001000000000');
    expect(root['status']).toEqual({ message: 'boom', code: 2 });
    expect((root['events'] as Json[])[0]).toEqual({
      timeUnixNano: '1700000000000000500',
      name: 'exception',
      attributes: [{ key: 'exception.message', value: { stringValue: 'boom' } }],
    });
    const other = (scopeA?.['spans'] as Json[]).find((s) => s['name'] === 'other') as Json;
    expect(other['kind']).toBe(1);
    expect(other['status']).toEqual({});
    expect(other['parentSpanId']).toBeUndefined();
    const children = scopeB?.['spans'] as Json[];
    expect(children.map((s) => s['kind'])).toEqual([1, 3, 4, 5]);
    expect(children.map((s) => s['parentSpanId'])).toEqual(Array(4).fill(root['spanId']));
    expect(children.map((s) => s['status'])).toEqual(Array(4).fill({ code: 1 }));
    expect(root['links']).toEqual([
      {
        traceId: other['traceId'],
        spanId: other['spanId'],
        attributes: [{ key: 'link.attr', value: { stringValue: 'x' } }],
        flags: 257,
      },
    ]);
  });

  it('encodes bytes as base64, maps as kvlists and non-finite doubles as strings', () => {
    const [base] = sdkSpans();
    const span = withAttributes(base as ReadableSpan, {
      bytes: new Uint8Array([0, 1, 254, 255]),
      map: { inner: 'x', n: 3, list: [1.5, 'y'] },
      nan: NaN,
      inf: Infinity,
      negInf: -Infinity,
      big: 2 ** 53 - 1,
    });
    const ours = toResourceSpansJson(groupsOf(serialize([span])));
    const theirs = normaliseRequest(JsonTraceSerializer.serializeRequest([span]) as Uint8Array);
    const attrs = (((ours[0] as Json)['scopeSpans'] as Json[])[0]?.['spans'] as Json[])[0]?.['attributes'];
    expect(attrs).toEqual([
      { key: 'bytes', value: { bytesValue: 'AAH+/w==' } },
      {
        key: 'map',
        value: {
          kvlistValue: {
            values: [
              { key: 'inner', value: { stringValue: 'x' } },
              { key: 'n', value: { intValue: '3' } },
              { key: 'list', value: { arrayValue: { values: [{ doubleValue: 1.5 }, { stringValue: 'y' }] } } },
            ],
          },
        },
      },
      { key: 'nan', value: { doubleValue: 'NaN' } },
      { key: 'inf', value: { doubleValue: 'Infinity' } },
      { key: 'negInf', value: { doubleValue: '-Infinity' } },
      { key: 'big', value: { intValue: '9007199254740991' } },
    ]);
    // JSON.stringify turns non-finite doubles into null: that is the only place the serializer differs.
    const theirAttrs = (((theirs[0] as Json)['scopeSpans'] as Json[])[0]?.['spans'] as Json[])[0]?.['attributes'] as Json[];
    expect(theirAttrs.slice(0, 2)).toEqual((attrs as Json[]).slice(0, 2));
    expect(theirAttrs[2]).toEqual({ key: 'nan', value: { doubleValue: null } });
  });

  it('merges groups that share resource and scope, keeping first-seen order', () => {
    const spans = sdkSpans();
    const whole = toResourceSpansJson(groupsOf(serialize(spans)));
    // One group per span, as a store would return rows.
    const perSpan = groupsOf(serialize(spans)).flatMap((g) => g.spans.map((raw) => ({ ...g, spans: [raw] })));
    expect(perSpan).toHaveLength(6);
    expect(toResourceSpansJson(perSpan)).toEqual(whole);

    const [g] = perSpan;
    const group = g as StoredSpanGroup;
    const split = toResourceSpansJson([
      group,
      { ...group, resourceSchemaUrl: 'other' },
      { ...group, scope: null },
      { ...group, resource: null, scopeSchemaUrl: '' },
    ]) as Json[];
    expect(split.map((rs) => [rs['schemaUrl'], 'resource' in rs, (rs['scopeSpans'] as Json[]).length])).toEqual([
      [undefined, true, 2],
      ['other', true, 1],
      [undefined, false, 1],
    ]);
    expect(toResourceSpansJson([])).toEqual([]);
  });
});

describe('resourceToOtlpJson / scopeToOtlpJson / spanToOtlpJson', () => {
  it('renders unset resource and scope as empty objects', () => {
    expect(resourceToOtlpJson(null)).toEqual({});
    expect(resourceToOtlpJson(null, 'https://s')).toEqual({ schemaUrl: 'https://s' });
    expect(scopeToOtlpJson(null)).toEqual({});
    expect(scopeToOtlpJson(new Uint8Array(0))).toEqual({});
  });

  it('renders the resource attributes', () => {
    const [group] = groupsOf(serialize(sdkSpans()));
    expect(resourceToOtlpJson(group?.resource ?? null, 'https://s')).toEqual({
      attributes: [
        { key: 'service.name', value: { stringValue: 'checkout' } },
        { key: 'host.cores', value: { intValue: '8' } },
        { key: 'deployment.ok', value: { boolValue: true } },
      ],
      schemaUrl: 'https://s',
    });
  });

  it('always emits the span identity, kind, times and status', () => {
    expect(spanToOtlpJson(new Uint8Array(0))).toEqual({
      traceId: '',
      spanId: '',
      name: '',
      kind: 0,
      startTimeUnixNano: '0',
      endTimeUnixNano: '0',
      status: {},
    });
  });
});
