import { describe, expect, it } from 'vitest';
import { otlpType, TypeNames } from '../../../src/codec/protos.js';
import { decodeTracesRequest } from '../../../src/codec/traces-decode.js';
import { isEffectiveError } from '../../../src/analysis/error-status.js';
import { decodeSpanDetailsFast } from '../../../src/codec/span-links.js';

/** ERR-v1 at ingest: the decoder's flag agrees with the analysis rule on the decoded attributes. */

type Value = { intValue?: number | string; stringValue?: string; doubleValue?: number };
interface Case { name: string; kind: number; status?: number; attrs: [string, Value][]; links?: boolean; error: boolean }

const cases: Case[] = [
  { name: 'server 503 unset', kind: 2, attrs: [['http.response.status_code', { intValue: 503 }]], error: true },
  { name: 'server 404 unset', kind: 2, attrs: [['http.response.status_code', { intValue: 404 }]], error: false },
  { name: 'client 404 unset', kind: 3, attrs: [['http.response.status_code', { intValue: 404 }]], error: true },
  { name: 'server 500 old key', kind: 2, attrs: [['http.status_code', { intValue: 500 }]], error: true },
  { name: 'server "502" string', kind: 2, attrs: [['http.response.status_code', { stringValue: '502' }]], error: true },
  { name: 'server 500.0 double', kind: 2, attrs: [['http.response.status_code', { doubleValue: 500 }]], error: true },
  { name: 'server 503 but OK', kind: 2, status: 1, attrs: [['http.response.status_code', { intValue: 503 }]], error: false },
  { name: 'internal 503', kind: 1, attrs: [['http.response.status_code', { intValue: 503 }]], error: false },
  { name: 'grpc server 14', kind: 2, attrs: [['rpc.grpc.status_code', { intValue: 14 }]], error: true },
  { name: 'grpc server 5', kind: 2, attrs: [['rpc.grpc.status_code', { intValue: 5 }]], error: false },
  { name: 'grpc client 5', kind: 3, attrs: [['rpc.grpc.status_code', { intValue: 5 }]], error: true },
  { name: 'error status', kind: 1, status: 2, attrs: [], error: true },
  { name: 'negative code', kind: 2, attrs: [['http.response.status_code', { intValue: -1 }]], error: false },
  { name: 'many attrs, links', kind: 2, links: true, attrs: [['a.key.of.length.25.bytes.', { intValue: 900 }], ['http.route', { stringValue: '/x' }], ['http.response.status_code', { intValue: 500 }]], error: true },
];

describe('decoder: ERR-v1 effective error and links flags', () => {
  it('matches the analysis rule for each case', () => {
    const type = otlpType(TypeNames.exportTracesRequest);
    const request = type.encode(type.fromObject({
      resourceSpans: [{ scopeSpans: [{ spans: cases.map((c, i) => ({
        traceId: Buffer.alloc(16, 1), spanId: Buffer.from([0, 0, 0, 0, 0, 0, 0, i + 1]), name: c.name, kind: c.kind,
        startTimeUnixNano: '1', endTimeUnixNano: '2',
        attributes: c.attrs.map(([key, value]) => ({ key, value })),
        ...(c.links ? { links: [{ traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 9) }] } : {}),
        status: c.status !== undefined ? { code: c.status } : {},
      })) }] }],
    })).finish();
    const spans = decodeTracesRequest(request).resources[0]!.scopes[0]!.spans;
    expect(spans.map((s) => [s.name, s.effectiveError])).toEqual(cases.map((c) => [c.name, c.error]));
    expect(spans.map((s) => s.hasLinks)).toEqual(cases.map((c) => c.links === true));
    for (const [i, s] of spans.entries()) {
      const d = decodeSpanDetailsFast(s.raw);
      const analysed = isEffectiveError({ traceId: '', spanId: '', parentSpanId: '', service: 's', name: s.name, kind: s.kind, startNs: 1n, endNs: 2n, statusCode: s.statusCode, statusMessage: '', attributes: d.attributes, resource: {}, events: [], links: [] });
      expect(analysed, cases[i]!.name).toBe(s.effectiveError);
    }
  });
});
