import { gzipSync, createGzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getOk, readTrace, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import {
  decodeExportResponse,
  decodeProtoStatus,
  encodeRequest,
  hex,
  newSpanId,
  newTraceId,
  postJson,
  postProto,
  rawRequest,
  simpleSpans,
} from '../helpers/otlp-raw.js';

/** OTLP/HTTP receiver against OTLP-CONFORMANCE.md items 2–5, 10–13, 17–22, 26–29, 34, with raw requests. */

const LIMIT = 64 * 1024;
let daemon: TestDaemon;
let small: TestDaemon; // maxRequestSize = 64 KiB

beforeAll(async () => {
  [daemon, small] = await Promise.all([
    startTestDaemon(),
    startTestDaemon({ config: { receivers: { otlp: { maxRequestSize: LIMIT } } } }),
  ]);
});

afterAll(async () => {
  await Promise.all([daemon?.stop(), small?.stop()]);
});

const ctype = (r: { headers: Record<string, unknown> }): string => String(r.headers['content-type']);

describe('routing, method and media type (items 2–5)', () => {
  it('answers GET with 405 and the Collector text', async () => {
    const r = await rawRequest(daemon.tracesUrl, { method: 'GET' });
    expect(r.status).toBe(405);
    expect(ctype(r)).toMatch(/^text\/plain/);
    expect(r.body.toString()).toBe('405 method not allowed, supported: [POST]');
    expect(r.headers['allow']).toBe('POST');
  });

  it('answers an unknown or missing Content-Type with 415', async () => {
    for (const headers of [{ 'Content-Type': 'text/plain' }, {} as Record<string, string>]) {
      const r = await rawRequest(daemon.tracesUrl, { headers, body: Buffer.from('x') });
      expect(r.status).toBe(415);
      expect(ctype(r)).toMatch(/^text\/plain/);
      expect(r.body.toString()).toBe('415 unsupported media type, supported: [application/json, application/x-protobuf]');
    }
  });

  it('answers an unknown path with 404', async () => {
    const r = await postProto(`${daemon.httpUrl}/v1/logs`, new Uint8Array(0));
    expect(r.status).toBe(404);
  });

  it('accepts media-type parameters and answers full success with an empty message in the request encoding', async () => {
    const json = await postJson(daemon.tracesUrl, '{"resourceSpans":[]}', { 'Content-Type': 'application/json; charset=utf-8' });
    expect(json.status).toBe(200);
    expect(ctype(json)).toBe('application/json');
    expect(json.body.toString()).toBe('{}');

    const proto = await postProto(daemon.tracesUrl, encodeRequest('http-ok', simpleSpans(2)));
    expect(proto.status).toBe(200);
    expect(ctype(proto)).toBe('application/x-protobuf');
    expect(proto.body.length).toBe(0);
  });

  it('answers an empty request (no bytes, or no spans) with success (item 27)', async () => {
    expect((await postProto(daemon.tracesUrl, new Uint8Array(0))).status).toBe(200);
    const json = await postJson(daemon.tracesUrl, '{}');
    expect([json.status, json.body.toString()]).toEqual([200, '{}']);
  });
});

describe('bad input → 400 with a google.rpc.Status in the request encoding (items 12, 18, 29)', () => {
  it('rejects a corrupt gzip body', async () => {
    const proto = await postProto(daemon.tracesUrl, Buffer.from('definitely not gzip'), { 'Content-Encoding': 'gzip' });
    expect(proto.status).toBe(400);
    expect(ctype(proto)).toBe('application/x-protobuf');
    const status = decodeProtoStatus(proto.body);
    expect(status.code).toBe(3);
    expect(status.message).toMatch(/gzip/);

    const json = await postJson(daemon.tracesUrl, Buffer.from('definitely not gzip'), { 'Content-Encoding': 'gzip' });
    expect(json.status).toBe(400);
    expect(ctype(json)).toBe('application/json');
    expect(JSON.parse(json.body.toString())).toMatchObject({ code: 3, message: expect.stringMatching(/gzip/) });
  });

  it('rejects an unsupported Content-Encoding', async () => {
    const r = await postProto(daemon.tracesUrl, encodeRequest('http-br', simpleSpans(1)), { 'Content-Encoding': 'br' });
    expect(r.status).toBe(400);
    expect(decodeProtoStatus(r.body).message).toMatch(/unsupported Content-Encoding: br/);
  });

  it('rejects bytes that are not an OTLP protobuf message', async () => {
    // Field 1 (resource_spans), length-delimited, declaring 1000 bytes that are not there.
    const r = await postProto(daemon.tracesUrl, Buffer.from([0x0a, 0xe8, 0x07, 0x01, 0x02]));
    expect(r.status).toBe(400);
    expect(ctype(r)).toBe('application/x-protobuf');
    expect(decodeProtoStatus(r.body).code).toBe(3);
  });

  it('rejects invalid JSON with a JSON Status', async () => {
    const r = await postJson(daemon.tracesUrl, '{"resourceSpans": [');
    expect(r.status).toBe(400);
    expect(ctype(r)).toBe('application/json');
    expect(JSON.parse(r.body.toString())).toMatchObject({ code: 3, message: expect.stringContaining('JSON') });
  });
});

describe('size limit after decompression (item 13)', () => {
  it('answers 413 to a body over maxRequestSize, declared or chunked', async () => {
    const big = Buffer.alloc(LIMIT + 1, 0x41);
    const declared = await postProto(small.tracesUrl, big);
    expect(declared.status).toBe(413);
    expect(decodeProtoStatus(declared.body).message).toMatch(/exceeds/);
    // No Content-Length: the limit must be enforced while streaming.
    const chunked = await rawRequest(small.tracesUrl, {
      headers: { 'Content-Type': 'application/x-protobuf', 'Transfer-Encoding': 'chunked' },
      body: [big.subarray(0, LIMIT / 2), big.subarray(LIMIT / 2)],
    });
    expect(chunked.status).toBe(413);
    // Exactly at the limit is not "too large" (it is garbage, hence 400).
    expect((await postProto(small.tracesUrl, Buffer.alloc(LIMIT, 0x41))).status).toBe(400);
  });

  it('answers 413 to a small gzip bomb quickly, without inflating it in memory', async () => {
    // 256 MiB of zeros compress to ~250 KiB; built by streaming so the test itself stays small.
    const gzip = createGzip({ level: 9 });
    const parts: Buffer[] = [];
    gzip.on('data', (c: Buffer) => parts.push(c));
    const done = new Promise((resolve) => gzip.on('end', resolve));
    const mib = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < 256; i++) gzip.write(mib);
    gzip.end();
    await done;
    const bomb = Buffer.concat(parts);
    expect(bomb.length).toBeLessThan(1024 * 1024);

    const rssBefore = process.memoryUsage().rss;
    const r = await postProto(small.tracesUrl, bomb, { 'Content-Encoding': 'gzip' });
    const rssGrowth = process.memoryUsage().rss - rssBefore;
    expect(r.status).toBe(413);
    expect(r.elapsedMs).toBeLessThan(2_000);
    expect(rssGrowth).toBeLessThan(64 * 1024 * 1024);
    // The daemon is still healthy afterwards.
    expect((await postProto(small.tracesUrl, gzipSync(encodeRequest('after-bomb', simpleSpans(1))), { 'Content-Encoding': 'gzip' })).status).toBe(200);
  });
});

describe('partial success and lenient JSON (items 17, 19–24, 28)', () => {
  it('rejects only the span with a 15-byte trace id (protobuf)', async () => {
    const good = simpleSpans(2, 'partial-ok');
    const bad = { ...simpleSpans(1, 'partial-bad')[0]!, traceId: newTraceId().subarray(0, 15) };
    const r = await postProto(daemon.tracesUrl, encodeRequest('http-partial', [good[0]!, bad, good[1]!]));
    expect(r.status).toBe(200);
    const { partialSuccess } = decodeExportResponse(r.body);
    expect(partialSuccess?.rejectedSpans).toBe('1');
    expect(partialSuccess?.errorMessage).toMatch(/trace_id must be 16 bytes, got 15/);
    await daemon.service.store.flush();
    for (const s of good) expect(await readTrace(daemon.apiUrl, hex(s.traceId))).toHaveLength(1);
  });

  it('treats a body over 4 MiB, which the writer thread decodes instead, exactly alike', async () => {
    // 12k spans with 300-byte names: ~4.4 MiB, past what the receiving thread decodes itself.
    const spans = simpleSpans(12_000, `big-${'x'.repeat(300)}`);
    const bad = { ...simpleSpans(1, 'big-bad')[0]!, traceId: newTraceId().subarray(0, 15) };
    const body = encodeRequest('http-big', [...spans.slice(0, 6_000), bad, ...spans.slice(6_000)]);
    expect(body.byteLength).toBeGreaterThan(4 * 1024 * 1024);
    const r = await postProto(daemon.tracesUrl, body);
    expect(r.status).toBe(200);
    const { partialSuccess } = decodeExportResponse(r.body);
    expect(partialSuccess?.rejectedSpans).toBe('1');
    expect(partialSuccess?.errorMessage).toMatch(/trace_id must be 16 bytes, got 15/);
    await daemon.service.store.flush();
    for (const s of [spans[0]!, spans[11_999]!]) expect(await readTrace(daemon.apiUrl, hex(s.traceId))).toHaveLength(1);

    // A declared 6 MiB field with 5 MiB present: not OTLP, whichever thread finds out.
    const truncated = Buffer.concat([Buffer.from([0x0a, 0x80, 0x80, 0x80, 0x03]), Buffer.alloc(5 * 1024 * 1024)]);
    const refused = await postProto(daemon.tracesUrl, truncated);
    expect(refused.status).toBe(400);
    expect(decodeProtoStatus(refused.body)).toMatchObject({ code: 3, message: expect.stringContaining('invalid OTLP protobuf') });
  });

  it('rejects only the span with a bad id (JSON), answering partialSuccess in JSON', async () => {
    const traceId = hex(newTraceId());
    const span = (t: string, name: string) => ({ traceId: t, spanId: hex(newSpanId()), name, startTimeUnixNano: '1', endTimeUnixNano: '2' });
    const body = { resourceSpans: [{ scopeSpans: [{ spans: [span(traceId, 'ok'), span(traceId.slice(2), 'bad'), span('Z6z8LqVvEI+kU1/Ci6mXBQ==', 'base64')] }] }] };
    const r = await postJson(daemon.tracesUrl, JSON.stringify(body));
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body.toString())).toEqual({
      partialSuccess: { rejectedSpans: '2', errorMessage: expect.stringContaining('32 hex characters') },
    });
    await daemon.service.store.flush();
    expect(await readTrace(daemon.apiUrl, traceId)).toHaveLength(1);
  });

  it('accepts what the JS exporter never sends: 64-bit numbers, snake_case, enum names, upper-case hex', async () => {
    const traceId = hex(newTraceId());
    const spanId = hex(newSpanId());
    const parentId = hex(newSpanId());
    // Written as text: 64-bit integers must reach the daemon as JSON numbers, beyond 2^53.
    const body = `{"resource_spans":[{"resource":{"attributes":[{"key":"service.name","value":{"string_value":"http-lenient"}}]},
      "scope_spans":[{"scope":{"name":"hand","version":"9"},"spans":[{
        "trace_id":"${traceId.toUpperCase()}","span_id":"${spanId.toUpperCase()}","parent_span_id":"${parentId.toUpperCase()}",
        "name":"lenient","kind":"SPAN_KIND_SERVER","unknownField":{"nested":[1,2]},
        "start_time_unix_nano":1764000000123456789,"endTimeUnixNano":"1764000001987654321",
        "attributes":[
          {"key":"int.num","value":{"intValue":9007199254740993}},
          {"key":"int.str","value":{"int_value":"-9223372036854775808"}},
          {"key":"dbl.inf","value":{"doubleValue":"Infinity"}},
          {"key":"dbl.nan","value":{"doubleValue":"NaN"}},
          {"key":"bytes","value":{"bytesValue":"AAEC/w=="}}],
        "events":[{"time_unix_nano":"1764000000999999999","name":"e"}],
        "status":{"code":"STATUS_CODE_ERROR","message":"bad"}}]}]}]}`;
    const r = await postJson(daemon.tracesUrl, body);
    expect([r.status, r.body.toString()]).toEqual([200, '{}']);
    await daemon.service.store.flush();
    const stored = await readTrace(daemon.apiUrl, traceId);
    expect(stored).toHaveLength(1);
    expect(stored![0]!.resource.resource).toEqual({ attributes: [{ key: 'service.name', value: { stringValue: 'http-lenient' } }] });
    expect(stored![0]!.scope.scope).toEqual({ name: 'hand', version: '9' });
    expect(stored![0]!.span).toEqual({
      traceId,
      spanId,
      parentSpanId: parentId,
      name: 'lenient',
      kind: 2,
      startTimeUnixNano: '1764000000123456789',
      endTimeUnixNano: '1764000001987654321',
      attributes: [
        { key: 'int.num', value: { intValue: '9007199254740993' } },
        { key: 'int.str', value: { intValue: '-9223372036854775808' } },
        { key: 'dbl.inf', value: { doubleValue: 'Infinity' } },
        { key: 'dbl.nan', value: { doubleValue: 'NaN' } },
        { key: 'bytes', value: { bytesValue: 'AAEC/w==' } },
      ],
      events: [{ timeUnixNano: '1764000000999999999', name: 'e' }],
      status: { code: 2, message: 'bad' },
    });
  });
});

describe('duplicates (item 34)', () => {
  it('stores a replayed request once and counts its spans once in latency', async () => {
    const spans = simpleSpans(5, 'replayed', 3_000_000n);
    const body = encodeRequest('http-replay', spans);
    expect((await postProto(daemon.tracesUrl, body)).status).toBe(200);
    expect((await postProto(daemon.tracesUrl, gzipSync(body), { 'Content-Encoding': 'gzip' })).status).toBe(200);
    await daemon.service.store.flush();
    for (const s of spans) expect(await readTrace(daemon.apiUrl, hex(s.traceId))).toHaveLength(1);
    const latency = await getOk<{ count: number; percentilesMs: Record<string, number> }>(
      `${daemon.apiUrl}/api/latency?service=http-replay&start=now-1h&end=now`,
    );
    expect(latency.count).toBe(5);
    expect(latency.percentilesMs['p50']).toBeCloseTo(3, 2);
    const { services } = await getOk<{ services: { name: string; spanCount: number }[] }>(`${daemon.apiUrl}/api/services`);
    expect(services.find((s) => s.name === 'http-replay')?.spanCount).toBe(5);
  });
});
