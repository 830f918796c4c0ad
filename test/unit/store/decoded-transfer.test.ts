import { describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { otlpType, TypeNames } from '../../../src/codec/protos.js';
import { decodeTracesRequest } from '../../../src/codec/traces-decode.js';
import { Redactor } from '../../../src/codec/redact.js';
import { DEFAULT_REDACTION_SETTINGS } from '../../../src/codec/redact-values.js';
import { decodeForWriter, flattenDecoded, transferList } from '../../../src/store/sqlite/decoded-transfer.js';
import { unflattenDecoded } from '../../helpers/unflatten.js';
import { BlobDictionary } from '../../../src/store/sqlite/dictionaries.js';
import { PermanentError } from '../../../src/pipeline/errors.js';
import type { DecodedTraces } from '../../../src/model/decoded.js';

const hex = (b: Uint8Array | null | undefined): string | null => (b ? Buffer.from(b).toString('hex') : null);

/** Everything the writer reads, with byte fields as hex: two decodings compare equal iff the writer sees the same. */
function plain(d: DecodedTraces): unknown {
  return {
    spanCount: d.spanCount,
    rejected: d.rejected,
    reasons: d.reasons,
    resources: d.resources.map((r) => ({
      raw: hex(r.raw),
      schemaUrl: r.schemaUrl,
      serviceName: r.serviceName,
      scopes: r.scopes.map((s) => ({
        raw: hex(s.raw),
        schemaUrl: s.schemaUrl,
        spans: s.spans.map((sp) => ({ ...sp, traceId: hex(sp.traceId), spanId: hex(sp.spanId), parentSpanId: hex(sp.parentSpanId), raw: hex(sp.raw) })),
      })),
    })),
  };
}

function request(): Uint8Array {
  const traceId = randomBytes(16);
  const rootId = randomBytes(8);
  return otlpType(TypeNames.exportTracesRequest)
    .encode({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }, { key: 'user.email', value: { stringValue: 'ann@example.com' } }] },
          schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
          scopeSpans: [
            {
              scope: { name: 'http', version: '1.0' },
              spans: [
                { traceId, spanId: rootId, name: 'GET /cart', kind: 2, startTimeUnixNano: '1700000000000000001', endTimeUnixNano: '1700000000250000002', status: { code: 2 } },
                {
                  traceId,
                  spanId: randomBytes(8),
                  parentSpanId: rootId,
                  name: 'SELECT carts',
                  kind: 3,
                  startTimeUnixNano: '18446744073709551615',
                  endTimeUnixNano: '18446744073709551615',
                  attributes: [{ key: 'http.response.status_code', value: { intValue: 503 } }, { key: 'auth', value: { stringValue: 'Bearer abcdefghijklmnop' } }],
                  links: [{ traceId: randomBytes(16), spanId: randomBytes(8) }],
                },
                { traceId: Buffer.alloc(16), spanId: randomBytes(8), name: 'bad ids' },
              ],
            },
            { spans: [{ traceId, spanId: randomBytes(8), parentSpanId: rootId, name: 'no scope', kind: 1, startTimeUnixNano: '5', endTimeUnixNano: '4' }] },
          ],
        },
        { resourceSpans: [], scopeSpans: [{ spans: [{ traceId: randomBytes(16), spanId: randomBytes(8), name: 'no resource' }] }] },
      ],
    })
    .finish();
}

describe('decoded traces crossing to the writer thread', () => {
  it('rebuild exactly what the decoder produced, redacted bytes and 64-bit times included', () => {
    const body = request();
    const redactor = new Redactor(DEFAULT_REDACTION_SETTINGS);
    const direct = decodeTracesRequest(body, redactor);
    expect(direct.rejected).toBe(1);
    // Redaction replaced bytes with fresh buffers: those must travel too.
    expect(hex(direct.resources[0]?.raw)).not.toContain(Buffer.from('ann@example.com').toString('hex'));

    const flat = flattenDecoded(decodeTracesRequest(body, new Redactor(DEFAULT_REDACTION_SETTINGS)), body);
    const clone = structuredClone(flat, { transfer: transferList(flat) });
    const rebuilt = unflattenDecoded(clone);
    expect(plain(rebuilt)).toEqual(plain(direct));
    const resource = rebuilt.resources[0];
    expect(hex(resource?.digest)).toBe(hex(BlobDictionary.digest(resource?.schemaUrl ?? '', resource?.raw ?? null)));
    const scope = resource?.scopes[1];
    expect(scope?.raw).toBeNull();
    expect(hex(scope?.digest)).toBe(hex(BlobDictionary.digest('', null)));
  });

  it('decode OTLP/JSON through its protobuf form and keep its per-span rejections', () => {
    const json = JSON.stringify({
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'cart' } }] },
          scopeSpans: [
            {
              spans: [
                { traceId: '5B8EFFF798038103D269B633813FC60C', spanId: 'EEE19B7EC3C1B174', name: 'ok', startTimeUnixNano: '1', endTimeUnixNano: '2' },
                { traceId: 'not hex', spanId: 'EEE19B7EC3C1B174', name: 'bad', startTimeUnixNano: '1', endTimeUnixNano: '2' },
              ],
            },
          ],
        },
      ],
    });
    const rebuilt = unflattenDecoded(decodeForWriter({ encoding: 'json', body: Buffer.from(json) }, undefined));
    expect(rebuilt.spanCount).toBe(1);
    expect(rebuilt.rejected).toBe(1);
    expect(rebuilt.reasons.join()).toMatch(/trace/i);
    expect(hex(rebuilt.resources[0]?.scopes[0]?.spans[0]?.traceId)).toBe('5b8efff798038103d269b633813fc60c');
  });

  it('give each resource and scope its digest, remembered or not', () => {
    const body = (value: string, schemaUrl: string): Uint8Array =>
      otlpType(TypeNames.exportTracesRequest)
        .encode({ resourceSpans: [{ resource: { attributes: [{ key: 'k', value: { stringValue: value } }] }, schemaUrl, scopeSpans: [{ scope: { name: value.slice(0, 9000) }, spans: [{ traceId: randomBytes(16), spanId: randomBytes(8), name: 'x' }] }] }] })
        .finish();
    // Small ones come from the memo the second time; one past 4 KiB is always hashed.
    for (const [value, schemaUrl] of [['a', 'b'], ['ab', ''], ['a', 'b'], ['v'.repeat(9000), 's'], ['v'.repeat(9000), 's']] as const) {
      const resource = unflattenDecoded(decodeForWriter({ encoding: 'protobuf', body: body(value, schemaUrl) }, undefined)).resources[0];
      expect(hex(resource?.digest)).toBe(hex(BlobDictionary.digest(schemaUrl, resource?.raw ?? null)));
      const scope = resource?.scopes[0];
      expect(hex(scope?.digest)).toBe(hex(BlobDictionary.digest('', scope?.raw ?? null)));
    }
  });

  it('refuse a body that is not OTLP at all as a permanent error', () => {
    expect(() => decodeForWriter({ encoding: 'protobuf', body: Uint8Array.of(0x0a, 0xff) }, undefined)).toThrow(PermanentError);
    expect(() => decodeForWriter({ encoding: 'json', body: Buffer.from('{') }, undefined)).toThrow(/invalid OTLP\/JSON/);
  });
});
