import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Redactor } from '../../../src/codec/redact.js';
import {
  DB_STATEMENT_KEYS,
  DEFAULT_DENY_KEYS,
  DEFAULT_REDACTION_SETTINGS,
  URL_KEYS,
  builtinPatterns,
  emptyCounts,
  normalizeDbStatement,
  redactText,
  redactUrl,
  type RedactionSettings,
} from '../../../src/codec/redact-values.js';
import { otlpType, TypeNames } from '../../../src/codec/protos.js';

const R = '[REDACTED]';
const SpanType = otlpType(TypeNames.span);
const ResourceType = otlpType(TypeNames.resource);
const ScopeType = otlpType(TypeNames.scope);

type AnyValue = Record<string, unknown>;
interface KV {
  key: string;
  value?: AnyValue;
}

const encodeSpan = (span: Record<string, unknown>): Uint8Array => SpanType.encode(SpanType.fromObject(span)).finish();
const decodeSpan = (bytes: Uint8Array): Record<string, unknown> =>
  SpanType.toObject(SpanType.decode(bytes), { longs: String, bytes: String, defaults: false }) as Record<string, unknown>;

const baseSpan = (attributes: KV[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  traceId: Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex'),
  spanId: Buffer.from('1112131415161718', 'hex'),
  name: 'GET /cart',
  kind: 2,
  startTimeUnixNano: '1700000000000000001',
  endTimeUnixNano: '1700000000500000001',
  attributes,
  status: { code: 2, message: 'boom' },
  ...extra,
});

function redactSpan(span: Record<string, unknown>, settings: RedactionSettings = DEFAULT_REDACTION_SETTINGS): { out: Record<string, unknown> | null; redactor: Redactor } {
  const bytes = encodeSpan(span);
  const redactor = new Redactor(settings);
  const out = redactor.span(bytes, 0, bytes.length);
  return { out: out === null ? null : decodeSpan(out), redactor };
}

const str = (s: string): AnyValue => ({ stringValue: s });
const attr = (decoded: Record<string, unknown> | null, key: string, list = 'attributes'): unknown =>
  ((decoded?.[list] ?? []) as KV[]).find((kv) => kv.key === key)?.value;

describe('Redactor.span', () => {
  it('returns null (no copy) when nothing matches', () => {
    const { out } = redactSpan(baseSpan([{ key: 'http.method', value: str('GET') }, { key: 'n', value: { intValue: 5 } }, { key: 'http.route', value: str('/a/:id') }]));
    expect(out).toBeNull();
  });

  it('replaces deny-listed keys whatever their value type, keeping the attribute', () => {
    const { out, redactor } = redactSpan(
      baseSpan([
        { key: 'http.request.header.Authorization', value: str('Basic dXNlcjpwYXNz') },
        { key: 'password', value: { intValue: 1234 } },
        { key: 'Set-Cookie', value: { arrayValue: { values: [str('a=b'), str('c=d')] } } },
        { key: 'token' },
        { key: 'keep', value: str('me') },
      ]),
    );
    expect(attr(out, 'http.request.header.Authorization')).toEqual(str(R));
    expect(attr(out, 'password')).toEqual(str(R));
    expect(attr(out, 'Set-Cookie')).toEqual(str(R));
    expect(attr(out, 'token')).toEqual(str(R));
    expect(attr(out, 'keep')).toEqual(str('me'));
    expect(redactor.counts.key).toBe(4);
  });

  it('redacts value patterns in span, event and link attributes and nested values, leaving ids, times and names alone', () => {
    const span = baseSpan([{ key: 'user', value: str('mail alice@example.com now') }], {
      events: [{ timeUnixNano: '1700000000000000002', name: 'exception', attributes: [{ key: 'exception.message', value: str('card 4111111111111111 declined') }] }],
      links: [
        {
          traceId: Buffer.from('aa'.repeat(16), 'hex'),
          spanId: Buffer.from('bb'.repeat(8), 'hex'),
          attributes: [{ key: 'nested', value: { kvlistValue: { values: [{ key: 'h', value: { arrayValue: { values: [str('Bearer abc123')] } } }, { key: 'cookie', value: str('x') }] } } }],
        },
      ],
    });
    const before = decodeSpan(encodeSpan(span));
    const { out, redactor } = redactSpan(span);
    expect(out).not.toBeNull();
    expect(attr(out, 'user')).toEqual(str(`mail ${R} now`));
    const events = out?.['events'] as { attributes: KV[]; name: string }[];
    expect(events[0]?.attributes[0]?.value).toEqual(str(`card ${R} declined`));
    expect(events[0]?.name).toBe('exception');
    const links = out?.['links'] as { attributes: KV[] }[];
    expect(links[0]?.attributes[0]?.value).toEqual({
      kvlistValue: { values: [{ key: 'h', value: { arrayValue: { values: [str(`Bearer ${R}`)] } } }, { key: 'cookie', value: str(R) }] },
    });
    for (const f of ['traceId', 'spanId', 'name', 'kind', 'startTimeUnixNano', 'endTimeUnixNano', 'status']) expect(out?.[f]).toEqual(before[f]);
    const failed = redactSpan(baseSpan([], { status: { code: 2, message: 'no user bob@corp.example' } })).out;
    expect(failed?.['status']).toEqual({ code: 2, message: `no user ${R}` });
    expect((out?.['links'] as Record<string, unknown>[])[0]?.['traceId']).toEqual((before['links'] as Record<string, unknown>[])[0]?.['traceId']);
    expect(redactor.counts).toMatchObject({ email: 1, card: 1, bearer: 1, key: 1 });
  });

  it('normalises db statements and URL queries only under their keys', () => {
    const { out, redactor } = redactSpan(
      baseSpan([
        { key: 'db.statement', value: str("SELECT * FROM u WHERE id = 42 AND name = 'bob'") },
        { key: 'db.query.text', value: str('SELECT 1') },
        { key: 'url.full', value: str('https://api.example/v1?api_key=s3cr3t&page=2') },
        { key: 'url.query', value: str('token=abc') },
        { key: 'http.target', value: str('/p?x=1') },
        { key: 'other', value: str("x = 'y' ?z=1") },
      ]),
    );
    expect(attr(out, 'db.statement')).toEqual(str('SELECT * FROM u WHERE id = ? AND name = ?'));
    expect(attr(out, 'db.query.text')).toEqual(str('SELECT ?'));
    expect(attr(out, 'url.full')).toEqual(str(`https://api.example/v1?api_key=${R}&page=${R}`));
    expect(attr(out, 'url.query')).toEqual(str(`token=${R}`));
    expect(attr(out, 'http.target')).toEqual(str(`/p?x=${R}`));
    expect(attr(out, 'other')).toEqual(str("x = 'y' ?z=1"));
    expect(redactor.counts.db_statement).toBe(2);
    expect(redactor.counts.url_query).toBe(3);
  });

  it('honours allow keys, extra deny keys, disabled patterns and custom patterns', () => {
    const settings: RedactionSettings = {
      ...DEFAULT_REDACTION_SETTINGS,
      denyKeys: ['ssn'],
      allowKeys: ['user.email', 'password'],
      patterns: { ...DEFAULT_REDACTION_SETTINGS.patterns, card: false },
      customPatterns: ['/acct-[0-9]+/i'],
      dbStatement: false,
    };
    const { out, redactor } = redactSpan(
      baseSpan([
        { key: 'user.email', value: str('a@b.io') },
        { key: 'password', value: str('hunter2') },
        { key: 'person.SSN', value: str('123-45-6789') },
        { key: 'card', value: str('4111111111111111') },
        { key: 'note', value: str('ACCT-991 paid') },
        { key: 'db.statement', value: str('SELECT 1') },
      ]),
      settings,
    );
    expect(attr(out, 'user.email')).toEqual(str('a@b.io'));
    expect(attr(out, 'password')).toEqual(str('hunter2'));
    expect(attr(out, 'person.SSN')).toEqual(str(R));
    expect(attr(out, 'card')).toEqual(str('4111111111111111'));
    expect(attr(out, 'note')).toEqual(str(`${R} paid`));
    expect(attr(out, 'db.statement')).toEqual(str('SELECT 1'));
    expect(redactor.counts.custom).toBe(1);
  });

  it('redacts resource and scope attributes', () => {
    const resource = ResourceType.encode(ResourceType.fromObject({ attributes: [{ key: 'service.name', value: str('cart') }, { key: 'owner', value: str('ops@corp.example') }] })).finish();
    const scope = ScopeType.encode(ScopeType.fromObject({ name: 'lib', version: '1', attributes: [{ key: 'api_key', value: str('k') }] })).finish();
    const r = new Redactor(DEFAULT_REDACTION_SETTINGS);
    const res = ResourceType.toObject(ResourceType.decode(r.resource(resource) as Uint8Array)) as { attributes: KV[] };
    expect(res.attributes).toEqual([{ key: 'service.name', value: str('cart') }, { key: 'owner', value: str(R) }]);
    const sc = ScopeType.toObject(ScopeType.decode(r.scope(scope) as Uint8Array)) as { name: string; attributes: KV[] };
    expect(sc).toMatchObject({ name: 'lib', attributes: [{ key: 'api_key', value: str(R) }] });
  });

  it('redacts metric labels in place', () => {
    const r = new Redactor(DEFAULT_REDACTION_SETTINGS);
    const labels = { 'http.route': '/a', Token: 'abc', who: 'x a@b.co', 'url.full': 'http://h/?q=1' };
    r.labels(labels);
    expect(labels).toEqual({ 'http.route': '/a', Token: R, who: `x ${R}`, 'url.full': `http://h/?q=${R}` });
  });
});

// ---- property: the rewriter never corrupts a span ----

const SECRETS = ['alice@example.com', '4222222222222', '4222-2222-22222', '4111 1111 1111 1111', '5500000000000004', 'Bearer tok_123', 'eyJa.eyJb.c', "'lit'", '42', 'x?a=1&b=2', 'u:p@h'];
const textArb = fc
  .array(fc.oneof(fc.constantFrom(...SECRETS), fc.string({ maxLength: 12 }), fc.constantFrom(' ', '?', '@', '-', '1234567890123', 'eyJ', 'Bearer', 'long-'.repeat(30))), { maxLength: 5 })
  .map((parts) => parts.join(''));
const keyArb = fc.oneof(
  fc.constantFrom(...DEFAULT_DENY_KEYS, ...DB_STATEMENT_KEYS, ...URL_KEYS, 'http.request.header.AUTHORIZATION', 'http.method', 'user.id', 'Token'),
  fc.string({ maxLength: 10 }),
);
const anyValueArb: fc.Arbitrary<AnyValue> = fc.letrec<{ value: AnyValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    textArb.map((s) => ({ stringValue: s })),
    fc.boolean().map((b) => ({ boolValue: b })),
    fc.integer().map((i) => ({ intValue: i })),
    fc.double({ noNaN: true }).map((d) => ({ doubleValue: d })),
    fc.array(tie('value'), { maxLength: 3 }).map((values) => ({ arrayValue: { values } })),
    fc.array(fc.record({ key: keyArb, value: tie('value') }), { maxLength: 3 }).map((values) => ({ kvlistValue: { values } })),
  ),
})).value;
const kvsArb = fc.array(fc.record({ key: keyArb, value: anyValueArb }), { maxLength: 6 });

/** What the redacted span must decode to, computed on decoded objects with the text functions run unconditionally. */
function reference(span: Record<string, unknown>): Record<string, unknown> {
  const patterns = builtinPatterns(DEFAULT_REDACTION_SETTINGS.patterns);
  const counts = emptyCounts();
  const deny = new Set(DEFAULT_DENY_KEYS);
  const denied = (key: string): boolean => {
    const k = key.toLowerCase();
    return deny.has(k) || deny.has(k.slice(k.lastIndexOf('.') + 1));
  };
  const text = (s: string, key: string | null): string => {
    let out = s;
    if (s === '') return s;
    if (key !== null && DB_STATEMENT_KEYS.includes(key.toLowerCase())) out = normalizeDbStatement(out) ?? out;
    else if (key !== null && URL_KEYS.includes(key.toLowerCase())) out = redactUrl(out, R, key.toLowerCase() === 'url.query') ?? out;
    return redactText(out, patterns, R, counts) ?? out;
  };
  const value = (v: AnyValue, key: string | null): AnyValue => {
    if (typeof v['stringValue'] === 'string') return { stringValue: text(v['stringValue'], key) };
    const arr = v['arrayValue'] as { values?: AnyValue[] } | undefined;
    if (arr) return { arrayValue: { ...arr, ...(arr.values ? { values: arr.values.map((x) => value(x, null)) } : {}) } };
    const kvl = v['kvlistValue'] as { values?: KV[] } | undefined;
    if (kvl) return { kvlistValue: { ...kvl, ...(kvl.values ? { values: kvl.values.map((kv) => keyValue(kv, false)) } : {}) } };
    return v;
  };
  const keyValue = (kv: KV, top: boolean): KV => {
    if (denied(kv.key)) return { key: kv.key, value: str(R) };
    return kv.value === undefined ? kv : { key: kv.key, value: value(kv.value, top ? kv.key : null) };
  };
  const attrs = (list: unknown): KV[] | undefined => (list as KV[] | undefined)?.map((kv) => keyValue(kv, true));
  const out = { ...span };
  const status = out['status'] as { message?: string } | undefined;
  if (status?.message) out['status'] = { ...status, message: text(status.message, null) };
  if (out['attributes']) out['attributes'] = attrs(out['attributes']);
  for (const f of ['events', 'links']) {
    if (out[f]) out[f] = (out[f] as Record<string, unknown>[]).map((x) => (x['attributes'] ? { ...x, attributes: attrs(x['attributes']) } : x));
  }
  return out;
}

describe('Redactor.span property', () => {
  it('decoding the rewrite gives the original span with exactly the reference redactions', () => {
    fc.assert(
      fc.property(kvsArb, fc.array(fc.record({ name: fc.string({ maxLength: 8 }), attributes: kvsArb }), { maxLength: 2 }), kvsArb, textArb, (attributes, events, linkAttrs, statusMessage) => {
        const span = baseSpan(attributes, {
          status: { code: 2, message: statusMessage },
          events: events.map((e) => ({ timeUnixNano: '5', ...e })),
          links: [{ traceId: Buffer.alloc(16, 7), spanId: Buffer.alloc(8, 9), attributes: linkAttrs }],
        });
        const original = decodeSpan(encodeSpan(span));
        const { out } = redactSpan(span);
        const expected = reference(original);
        expect(out ?? original).toEqual(expected);
      }),
      { numRuns: 400 },
    );
  });
});
