import { describe, expect, it } from 'vitest';
import { otlpType, TypeNames } from '../../../src/codec/protos.js';
import { decodeSpanDetails } from '../../helpers/span-details-reference.js';
import { decodeResourceAttributesFast, decodeSpanDetailsFast, decodeSpanLinks } from '../../../src/codec/span-links.js';
import { decodeResourceAttributes } from '../../helpers/span-details-reference.js';

/** The wire-reader decoders must agree with the protobufjs decode (span-details.ts) field for field. */
describe('wire-reader span decoding', () => {
  const spanType = otlpType(TypeNames.span);
  const encode = (obj: Record<string, unknown>): Uint8Array => spanType.encode(spanType.fromObject(obj)).finish();
  const traceId = Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex');
  const parent = Buffer.from('b7ad6b7169203331', 'hex');

  it('reads trace id, span id and scalar attributes of every link, skipping all other fields', () => {
    const raw = encode({
      traceId, spanId: Buffer.from('00f067aa0ba902b7', 'hex'), parentSpanId: parent, name: 'consume', kind: 5,
      startTimeUnixNano: '1700000000000000000', endTimeUnixNano: '1700000000500000000',
      attributes: [{ key: 'a', value: { stringValue: 'x'.repeat(300) } }],
      events: [{ name: 'exception', timeUnixNano: '1700000000100000000', attributes: [{ key: 'exception.type', value: { stringValue: 'E' } }] }],
      links: [
        { traceId, spanId: parent, attributes: [
          { key: 'opentracing.ref_type', value: { stringValue: 'follows_from' } },
          { key: 'i', value: { intValue: -42 } }, { key: 'big', value: { intValue: '9007199254740993' } },
          { key: 'd', value: { doubleValue: 0.25 } }, { key: 'b', value: { boolValue: true } },
        ] },
        { traceId: Buffer.alloc(16, 7), spanId: Buffer.alloc(8, 9) },
      ],
      status: { code: 2, message: 'boom' },
    });
    const links = decodeSpanLinks(raw);
    expect(links).toEqual(decodeSpanDetails(raw).links);
    expect(links[0]!.attributes).toEqual({ 'opentracing.ref_type': 'follows_from', i: -42, big: 9007199254740993n, d: 0.25, b: true });
    expect(links[1]).toEqual({ traceId: '07'.repeat(16), spanId: '09'.repeat(8), attributes: {} });
  });

  it('returns no links for a span without any', () => {
    expect(decodeSpanLinks(encode({ traceId, spanId: parent, name: 'x' }))).toEqual([]);
  });

  it('decodes attributes of every type, events, links and status like protobufjs', () => {
    const attrs = [
      { key: 's', value: { stringValue: 'żółw 🐢' } }, { key: 'empty', value: { stringValue: '' } }, { key: 'b', value: { boolValue: false } },
      { key: 'i', value: { intValue: 200 } }, { key: 'neg', value: { intValue: -7 } }, { key: 'huge', value: { intValue: '-9223372036854775808' } },
      { key: 'd', value: { doubleValue: -1234.5678 } }, { key: 'bytes', value: { bytesValue: Buffer.from([1, 2, 255]) } },
      { key: 'arr', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 3 }, { arrayValue: { values: [{ boolValue: true }] } }] } } },
      { key: 'kv', value: { kvlistValue: { values: [{ key: 'x', value: { intValue: 1 } }, { key: 'y', value: { stringValue: 'z' } }] } } },
      { key: 'novalue' }, { key: 'emptyvalue', value: {} },
    ];
    const raw = encode({
      traceId, spanId: parent, name: 'n', kind: 2, attributes: attrs,
      events: [{ name: 'e1', timeUnixNano: '1700000000000000001', attributes: attrs.slice(0, 3) }, { name: 'e2' }],
      links: [{ traceId, spanId: parent, attributes: attrs.slice(8) }],
      status: { code: 2, message: 'boom ✗' },
    });
    expect(decodeSpanDetailsFast(raw)).toEqual(decodeSpanDetails(raw));
    const resourceType = otlpType(TypeNames.resource);
    const resource = resourceType.encode(resourceType.fromObject({ attributes: attrs })).finish();
    expect(decodeResourceAttributesFast(resource)).toEqual(decodeResourceAttributes(resource));
    expect(decodeResourceAttributesFast(null)).toEqual({});
  });
});
