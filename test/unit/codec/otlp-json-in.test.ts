import { describe, it, expect } from 'vitest';
import { MalformedJsonError, quoteLargeIntegers, transcodeTracesJson } from '../../../src/codec/otlp-json-in.js';
import { spanToOtlpJson, toResourceSpansJson } from '../../../src/codec/otlp-json-out.js';
import { decodeTracesRequest } from '../../../src/codec/traces-decode.js';
import { otlpType, TypeNames } from '../../../src/codec/protos.js';
import type { DecodedSpan } from '../../../src/model/decoded.js';

const TRACE = '5b8efff798038103d269b633813fc60c';
const SPAN = 'eee19b7ec3c1b174';
const PARENT = 'eee19b7ec3c1b173';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function transcode(json: string | object) {
  const text = typeof json === 'string' ? json : JSON.stringify(json);
  return transcodeTracesJson(new TextEncoder().encode(text));
}

/** A request with one resource and one scope holding `spans` (already JSON text or objects). */
function request(spans: (string | object)[]): string {
  const body = spans.map((s) => (typeof s === 'string' ? s : JSON.stringify(s))).join(',');
  return `{"resourceSpans":[{"scopeSpans":[{"spans":[${body}]}]}]}`;
}

function span(extra: object = {}): object {
  return { traceId: TRACE, spanId: SPAN, name: 'op', startTimeUnixNano: '1', endTimeUnixNano: '2', ...extra };
}

function spansOf(proto: Uint8Array): DecodedSpan[] {
  const decoded = decodeTracesRequest(proto);
  expect(decoded.rejected).toBe(0);
  return decoded.resources.flatMap((r) => r.scopes.flatMap((s) => s.spans));
}

function onlySpan(proto: Uint8Array): DecodedSpan {
  const spans = spansOf(proto);
  expect(spans).toHaveLength(1);
  return spans[0] as DecodedSpan;
}

function attributeValues(proto: Uint8Array): Record<string, unknown> {
  const json = spanToOtlpJson(onlySpan(proto).raw) as { attributes?: { key: string; value: unknown }[] };
  return Object.fromEntries((json.attributes ?? []).map((kv) => [kv.key, kv.value]));
}

/** opentelemetry-proto examples/trace.json (times are bare numbers above 2^53 there). */
const PROTO_EXAMPLE = `{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"my.service"}}]},
"scopeSpans":[{"scope":{"name":"my.library","version":"1.0.0","attributes":[{"key":"my.scope.attribute",
"value":{"stringValue":"some scope attribute"}}]},"spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C",
"spanId":"EEE19B7EC3C1B174","parentSpanId":"EEE19B7EC3C1B173","name":"I'm a server span",
"startTimeUnixNano":1544712660000000000,"endTimeUnixNano":1544712661000000000,"kind":2,
"attributes":[{"key":"my.span.attr","value":{"stringValue":"some value"}}]}]}]}]}`;

describe('transcodeTracesJson', () => {
  it('transcodes the opentelemetry-proto example and renders it back in canonical form', () => {
    const r = transcode(PROTO_EXAMPLE);
    expect(r.rejected).toBe(0);
    const decoded = decodeTracesRequest(r.proto);
    expect(decoded.resources[0]?.serviceName).toBe('my.service');
    const groups = decoded.resources.flatMap((res) =>
      res.scopes.map((sc) => ({
        resource: res.raw,
        resourceSchemaUrl: res.schemaUrl,
        scope: sc.raw,
        scopeSchemaUrl: sc.schemaUrl,
        spans: sc.spans.map((x) => x.raw),
      })),
    );
    // Documented normalisation: lower-case ids, 64-bit integers as strings, always a status object.
    const expected = JSON.parse(PROTO_EXAMPLE) as { resourceSpans: { scopeSpans: { spans: Record<string, unknown>[] }[] }[] };
    Object.assign(expected.resourceSpans[0]?.scopeSpans[0]?.spans[0] ?? {}, {
      traceId: TRACE,
      spanId: SPAN,
      parentSpanId: PARENT,
      startTimeUnixNano: '1544712660000000000',
      endTimeUnixNano: '1544712661000000000',
      status: {},
    });
    expect(toResourceSpansJson(groups)).toEqual(expected.resourceSpans);
  });

  it('accepts snake_case keys and upper-case hex ids', () => {
    const r = transcode({
      resource_spans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { string_value: 'checkout' } }], dropped_attributes_count: 1 },
          schema_url: 'https://opentelemetry.io/schemas/1.21.0',
          scope_spans: [
            {
              scope: { name: 'lib', version: '1.0', dropped_attributes_count: 2 },
              schema_url: 'scope-schema',
              spans: [
                {
                  trace_id: TRACE.toUpperCase(),
                  span_id: SPAN.toUpperCase(),
                  parent_span_id: PARENT.toUpperCase(),
                  trace_state: 'a=b',
                  name: 'GET /',
                  kind: 2,
                  start_time_unix_nano: '1000',
                  end_time_unix_nano: '2000',
                  dropped_attributes_count: 3,
                  events: [{ time_unix_nano: '1500', name: 'e', dropped_attributes_count: 4 }],
                  dropped_events_count: 5,
                  links: [{ trace_id: TRACE.toUpperCase(), span_id: PARENT, trace_state: 'x=y' }],
                  dropped_links_count: 6,
                  status: { code: 2, message: 'boom' },
                },
              ],
            },
          ],
        },
      ],
    });
    expect(r.rejected).toBe(0);
    const decoded = decodeTracesRequest(r.proto);
    const resource = decoded.resources[0];
    expect(resource?.serviceName).toBe('checkout');
    expect(resource?.schemaUrl).toBe('https://opentelemetry.io/schemas/1.21.0');
    expect(resource?.scopes[0]?.schemaUrl).toBe('scope-schema');
    const scope = otlpType(TypeNames.scope).decode(resource?.scopes[0]?.raw as Uint8Array).toJSON();
    expect(scope).toEqual({ name: 'lib', version: '1.0', droppedAttributesCount: 2 });
    const s = onlySpan(r.proto);
    expect([hex(s.traceId), hex(s.spanId), hex(s.parentSpanId)]).toEqual([TRACE, SPAN, PARENT]);
    expect([s.name, s.kind, s.startNs, s.endNs, s.statusCode]).toEqual(['GET /', 2, 1000n, 2000n, 2]);
    expect(spanToOtlpJson(s.raw)).toEqual({
      traceId: TRACE,
      spanId: SPAN,
      traceState: 'a=b',
      parentSpanId: PARENT,
      name: 'GET /',
      kind: 2,
      startTimeUnixNano: '1000',
      endTimeUnixNano: '2000',
      droppedAttributesCount: 3,
      events: [{ timeUnixNano: '1500', name: 'e', droppedAttributesCount: 4 }],
      droppedEventsCount: 5,
      links: [{ traceId: TRACE, spanId: PARENT, traceState: 'x=y' }],
      droppedLinksCount: 6,
      status: { message: 'boom', code: 2 },
    });
  });

  it('keeps 64-bit integers exact whether sent as strings or as numbers above 2^53', () => {
    const text = request([
      `{"traceId":"${TRACE}","spanId":"${SPAN}","startTimeUnixNano":1544712660300000001,` +
        `"endTimeUnixNano":"18446744073709551615","events":[{"timeUnixNano":1544712660300000003}],` +
        `"attributes":[{"key":"min","value":{"intValue":-9223372036854775808}},` +
        `{"key":"max","value":{"intValue":"9223372036854775807"}},{"key":"small","value":{"intValue":-42}},` +
        `{"key":"big","value":{"doubleValue":12345678901234567890}}]}`,
    ]);
    const r = transcode(text);
    expect(r.rejected).toBe(0);
    const s = onlySpan(r.proto);
    expect(s.startNs).toBe(1544712660300000001n);
    expect(s.endNs).toBe(18446744073709551615n);
    const json = spanToOtlpJson(s.raw);
    expect(json['startTimeUnixNano']).toBe('1544712660300000001');
    expect(json['events']).toEqual([{ timeUnixNano: '1544712660300000003' }]);
    expect(attributeValues(r.proto)).toEqual({
      min: { intValue: '-9223372036854775808' },
      max: { intValue: '9223372036854775807' },
      small: { intValue: '-42' },
      // A large double stays a double: only integer-typed fields are read as 64-bit integers.
      big: { doubleValue: 1.2345678901234567e19 },
    });
  });

  it('rejects times that are not non-negative 64-bit integers', () => {
    for (const bad of ['-1', '18446744073709551616', '1.5', 'abc', -1, 1.5, true]) {
      const r = transcode(request([span({ startTimeUnixNano: bad })]));
      expect(r.rejected, String(bad)).toBe(1);
    }
  });

  it('accepts enum names and integers and rejects unknown names', () => {
    const r = transcode(
      request([
        span({ spanId: '0000000000000001', kind: 'SPAN_KIND_CLIENT', status: { code: 'STATUS_CODE_OK' } }),
        span({ spanId: '0000000000000002', kind: 4, status: { code: 2 } }),
        span({ spanId: '0000000000000003', kind: 'SPAN_KIND_BOGUS' }),
        span({ spanId: '0000000000000004', status: { code: 'constructor' } }),
      ]),
    );
    expect(r.rejected).toBe(2);
    expect(r.reasons).toEqual(['unknown kind name', 'unknown status.code name']);
    expect(spansOf(r.proto).map((s) => [s.kind, s.statusCode])).toEqual([
      [3, 1],
      [4, 2],
    ]);
  });

  it('reads NaN and infinities as doubles', () => {
    const r = transcode(
      request([
        span({
          attributes: ['NaN', 'Infinity', '-Infinity', 1.5, '2.5e3'].map((v, i) => ({ key: `d${i}`, value: { doubleValue: v } })),
        }),
      ]),
    );
    expect(attributeValues(r.proto)).toEqual({
      d0: { doubleValue: 'NaN' },
      d1: { doubleValue: 'Infinity' },
      d2: { doubleValue: '-Infinity' },
      d3: { doubleValue: 1.5 },
      d4: { doubleValue: 2500 },
    });
  });

  it('reads bytesValue as standard or URL-safe base64, and rejects other text', () => {
    const r = transcode(
      request([
        span({
          attributes: [
            { key: 'std', value: { bytesValue: 'AQID/w==' } },
            { key: 'url', value: { bytes_value: 'AQID_w' } },
            { key: 'bool', value: { boolValue: true } },
            { key: 'empty', value: {} },
          ],
        }),
      ]),
    );
    expect(attributeValues(r.proto)).toEqual({
      std: { bytesValue: 'AQID/w==' },
      url: { bytesValue: 'AQID/w==' },
      bool: { boolValue: true },
      empty: {},
    });
    expect(transcode(request([span({ attributes: [{ key: 'b', value: { bytesValue: 'not base64!' } }] })])).rejected).toBe(1);
  });

  it('ignores unknown fields at every level', () => {
    const r = transcode({
      extra: [1, 2, { deep: 'x' }],
      resourceSpans: [
        {
          whatever: 1,
          resource: { attributes: [], novel: true },
          scopeSpans: [{ scope: { name: 's', future: {} }, spans: [span({ futureField: { a: 1 }, status: { x: 1 } })] }],
        },
      ],
    });
    expect(r.rejected).toBe(0);
    expect(onlySpan(r.proto).name).toBe('op');
  });

  it('transcodes nested arrays and key-value lists', () => {
    const nested = {
      arrayValue: {
        values: [
          { stringValue: 'a' },
          { int_value: '7' },
          { kvlistValue: { values: [{ key: 'k', value: { array_value: { values: [{ boolValue: false }] } } }] } },
          { arrayValue: {} },
        ],
      },
    };
    const r = transcode(request([span({ attributes: [{ key: 'n', value: nested }] })]));
    expect(attributeValues(r.proto)).toEqual({
      n: {
        arrayValue: {
          values: [
            { stringValue: 'a' },
            { intValue: '7' },
            { kvlistValue: { values: [{ key: 'k', value: { arrayValue: { values: [{ boolValue: false }] } } }] } },
            { arrayValue: {} },
          ],
        },
      },
    });
  });

  it('rejects a span with a base64 id alone', () => {
    const r = transcode(
      request([span({ traceId: 'Z6z8LqVvEI+kU1/Ci6mXBQ==', name: 'bad' }), span({ name: 'good' })]),
    );
    expect(r.rejected).toBe(1);
    expect(r.reasons).toEqual(['traceId is not 32 hex characters']);
    expect(spansOf(r.proto).map((s) => s.name)).toEqual(['good']);
  });

  it('rejects one bad span among good ones and keeps the others in order', () => {
    const r = transcode(
      request([
        span({ name: 'a' }),
        span({ name: 'b', spanId: 'eee19b7ec3c1b1' }),
        span({ name: 'c', parentSpanId: '00' }),
        span({ name: 'd', links: [{ traceId: TRACE, spanId: 'xyz' }] }),
        span({ name: 'e', spanId: '0000000000000000' }),
        '"not a span"',
        span({ name: 'f', parentSpanId: '' }),
      ]),
    );
    expect(r.rejected).toBe(5);
    expect(r.reasons).toEqual([
      'spanId is not 16 hex characters',
      'parentSpanId is not 16 hex characters',
      'link spanId is not 16 hex characters',
      'spanId is all zeroes',
      'span is not a JSON object',
    ]);
    expect(spansOf(r.proto).map((s) => s.name)).toEqual(['a', 'f']);
  });

  it('names the offending field in the reason', () => {
    const cases: [object, string][] = [
      [{ traceId: undefined }, 'traceId is not 32 hex characters'],
      [{ spanId: null }, 'spanId is not 16 hex characters'],
      [{ links: [5] }, 'link is not an object'],
      [{ links: {} }, 'links is not an array'],
      [{ status: 'ok' }, 'status is not an object'],
      [{ status: { code: 1.5 } }, 'status.code is not a valid enum value'],
      [{ events: [{ timeUnixNano: '-5' }] }, 'event timeUnixNano is not a valid unsigned 64-bit integer'],
      [{ flags: 2 ** 32 }, 'flags is not a valid uint32'],
      [{ attributes: [{ key: 7 }] }, 'attribute key is not a string'],
      [{ attributes: [{ key: 'k', value: 'v' }] }, 'attribute value is not an object'],
      [{ attributes: [{ key: 'k', value: { arrayValue: [] } }] }, 'arrayValue is not an object'],
      [{ attributes: [{ key: 'k', value: { boolValue: 'true' } }] }, 'boolValue is not a boolean'],
      [{ attributes: [{ key: 'k', value: { intValue: '9223372036854775808' } }] }, 'intValue is not a valid signed 64-bit integer'],
      [{ attributes: [{ key: 'k', value: { doubleValue: 'nan' } }] }, 'doubleValue is not a number'],
    ];
    for (const [extra, reason] of cases) {
      expect(transcode(request([span(extra)])), reason).toMatchObject({ rejected: 1, reasons: [reason] });
    }
  });

  it('keeps at most five distinct reasons', () => {
    const bad = [
      { traceId: 'x' },
      { spanId: 'x' },
      { kind: 'x' },
      { name: 1 },
      { startTimeUnixNano: 'x' },
      { endTimeUnixNano: 'x' },
      { traceId: 'y' },
    ].map((b) => span(b));
    const r = transcode(request(bad));
    expect(r.rejected).toBe(7);
    expect(r.reasons).toHaveLength(5);
    expect(new Set(r.reasons).size).toBe(5);
  });

  it('throws MalformedJsonError for bodies that are not an OTLP/JSON request', () => {
    const cases: [string, RegExp][] = [
      ['not json', /not valid JSON/],
      ['', /not valid JSON/],
      ['[]', /must be a JSON object/],
      ['null', /must be a JSON object/],
      ['{"resourceSpans":{}}', /resourceSpans must be an array/],
      ['{"resourceSpans":[1]}', /resourceSpans\[0\] must be an object/],
      ['{"resourceSpans":[{"resource":"x"}]}', /resourceSpans\[0\]\.resource must be an object/],
      ['{"resourceSpans":[{"scopeSpans":{}}]}', /resourceSpans\[0\]\.scopeSpans must be an array/],
      ['{"resourceSpans":[{"scopeSpans":[{"scope":[]}]}]}', /scopeSpans\[0\]\.scope must be an object/],
      ['{"resourceSpans":[{"scopeSpans":[{"spans":5}]}]}', /scopeSpans\[0\]\.spans must be an array/],
      ['{"resourceSpans":[{"resource":{"attributes":[{"key":"a","value":{"intValue":"x"}}]}}]}', /resource: intValue/],
    ];
    for (const [body, message] of cases) {
      expect(() => transcode(body), body).toThrow(MalformedJsonError);
      expect(() => transcode(body), body).toThrow(message);
    }
  });

  it('treats an empty object as an empty request', () => {
    for (const body of ['{}', '{"resourceSpans":[]}', '{"resourceSpans":null}', '{"resourceSpans":[{"scopeSpans":[{"spans":[]}]}]}']) {
      const r = transcode(body);
      expect(r).toMatchObject({ rejected: 0, reasons: [] });
      expect(decodeTracesRequest(r.proto).spanCount).toBe(0);
    }
  });

  it('rejects a deeply nested attribute value without overflowing the stack', () => {
    let deep = '{"stringValue":"leaf"}';
    for (let i = 0; i < 10_000; i++) deep = `{"kvlistValue":{"values":[{"key":"k","value":${deep}}]}}`;
    const bad = `{"traceId":"${TRACE}","spanId":"${SPAN}","name":"deep","attributes":[{"key":"d","value":${deep}}]}`;
    const r = transcode(request([bad, span({ name: 'ok' })]));
    expect(r.rejected).toBe(1);
    expect(r.reasons).toEqual(['attribute value nested deeper than 30']);
    expect(spansOf(r.proto).map((s) => s.name)).toEqual(['ok']);
  });
});

describe('quoteLargeIntegers', () => {
  it('quotes only integer literals too long for a double, outside strings', () => {
    const input =
      '{"s":"12345678901234567 \\" 12345678901234567","k\\\\":12345678901234567,"n":-12345678901234567,' +
      '"small":123456789012345,"f":1.12345678901234567,"e":12345678901234567e2,"arr":[98765432109876543]}';
    expect(quoteLargeIntegers(input)).toBe(
      '{"s":"12345678901234567 \\" 12345678901234567","k\\\\":"12345678901234567","n":"-12345678901234567",' +
        '"small":123456789012345,"f":1.12345678901234567,"e":12345678901234567e2,"arr":["98765432109876543"]}',
    );
  });

  it('returns the input unchanged when there is nothing to quote', () => {
    const input = '{"a":[1,2.5,-3e10,"x"]}';
    expect(quoteLargeIntegers(input)).toBe(input);
  });
});
