import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter as GrpcExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { OTLPTraceExporter as HttpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as HttpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import protobuf from 'protobufjs';
import { makeTempDir, readTrace, removeDir, startTestDaemon, type ConfigOverrides, type TestDaemon } from '../helpers/daemon.js';
import { RecordingExporter } from '../helpers/workload.js';
import { metricExporter, type MetricsTransport } from '../helpers/metrics-sdk.js';
import { hex, newSpanId, newTraceId, postJson, postProto } from '../helpers/otlp-raw.js';
import { otlpType, TypeNames } from '../../src/codec/protos.js';
import { findNeedles, keptFor, readStoreFiles, secretsFor, type Secret } from '../helpers/redaction-secrets.js';

/**
 * Redaction end to end: secrets of every built-in kind, in every place an attribute can be (span, event,
 * link, resource, scope, metric resource and point labels, span status message), sent by the real OTel SDK exporters over
 * gRPC, OTLP/HTTP protobuf and OTLP/HTTP JSON (and hand-built payloads for what the SDK cannot express:
 * scope attributes, nested kvlists), must not be found in the raw bytes of the SQLite files, neither in
 * the WAL before a checkpoint nor in the database after it; the attributes themselves and everything
 * that is not a secret must be kept. The positive control: the kept values ARE found by the same scan.
 */

const R = '[REDACTED]';
type TraceTransport = 'grpc' | 'http-proto' | 'http-json';
const TRACE_TRANSPORTS: TraceTransport[] = ['grpc', 'http-proto', 'http-json'];
const METRIC_TRANSPORTS: MetricsTransport[] = ['grpc', 'http-json'];

const attrs = (secrets: Secret[], kept: { key: string; value: string }[]): Attributes =>
  Object.fromEntries([...secrets, ...kept].map((s) => [s.key, s.value]));

function traceExporter(d: TestDaemon, t: TraceTransport): SpanExporter {
  if (t === 'grpc') return new GrpcExporter({ url: d.grpcUrl, timeoutMillis: 10_000 });
  if (t === 'http-proto') return new HttpProtoExporter({ url: d.tracesUrl, timeoutMillis: 10_000 });
  return new HttpJsonExporter({ url: d.tracesUrl, timeoutMillis: 10_000 });
}

interface Sent {
  secrets: Secret[];
  kept: { key: string; value: string }[];
  traceIds: string[];
  spanNames: string[];
}

const sent: Sent = { secrets: [], kept: [], traceIds: [], spanNames: [] };
const record = (s: Secret[], k: { key: string; value: string }[]): void => {
  sent.secrets.push(...s);
  sent.kept.push(...k);
};

/** Span, event, link and resource attributes through one SDK exporter. */
async function sendSdkTraces(d: TestDaemon, t: TraceTransport): Promise<void> {
  const tag = t.replace('-', '');
  const place = (p: string, opts = {}): [Secret[], { key: string; value: string }[]] => {
    const s = secretsFor(`${tag}${p}`, opts);
    const k = keptFor(`${tag}${p}`);
    record(s, k);
    return [s, k];
  };
  const [resS, resK] = place('res');
  const [spanS, spanK] = place('span', { db: true, url: true });
  const [evS, evK] = place('ev', { db: true, url: true });
  const [linkS, linkK] = place('link');
  const exporter = new RecordingExporter(traceExporter(d, t));
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': `redact-${tag}`, ...attrs(resS, resK) }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('redaction-it', '1.0.0');
  const other = tracer.startSpan('linked-target');
  other.end();
  const name = `checkout ${tag}`;
  const span = tracer.startSpan(name, {
    kind: SpanKind.SERVER,
    attributes: attrs(spanS, spanK),
    links: [{ context: other.spanContext(), attributes: attrs(linkS, linkK) }],
  }, ROOT_CONTEXT);
  span.addEvent('exception', attrs(evS, evK));
  const statusNeedle = `status${tag}${Date.now().toString(36)}`;
  span.setStatus({ code: SpanStatusCode.ERROR, message: `no account for ${statusNeedle}@example.com` });
  sent.secrets.push({ pattern: 'email', key: '(status message)', value: '', needles: [statusNeedle] });
  span.end();
  const child = tracer.startSpan('child', {}, trace.setSpan(ROOT_CONTEXT, span));
  child.end();
  await provider.forceFlush();
  await provider.shutdown();
  expect(exporter.failures).toEqual([]);
  sent.traceIds.push(span.spanContext().traceId);
  sent.spanNames.push(name);
}

/** What the SDK cannot send: scope attributes and nested kvlist values, as hand-built protobuf and JSON. */
async function sendHandBuilt(d: TestDaemon, encoding: 'protobuf' | 'json'): Promise<void> {
  const tag = `hand${encoding === 'json' ? 'json' : 'pb'}`;
  const scopeS = secretsFor(`${tag}scope`);
  const scopeK = keptFor(`${tag}scope`);
  const nestS = secretsFor(`${tag}nest`, { db: true, url: true });
  const nestK = keptFor(`${tag}nest`);
  record(scopeS, scopeK);
  // Nested values are not under db/url keys at the top level: only the value patterns and deny keys apply.
  record(nestS.filter((s) => s.pattern !== 'db_statement' && s.pattern !== 'url_query'), nestK);
  const kv = (list: { key: string; value: string }[]) => list.map((s) => ({ key: s.key, value: { stringValue: s.value } }));
  // Array elements have no key of their own: only the value patterns can find secrets there.
  const valueSecrets = nestS.filter((s) => s.pattern !== 'key' && s.pattern !== 'db_statement' && s.pattern !== 'url_query');
  const nested = [
    { key: 'nested', value: { kvlistValue: { values: [...kv(nestS), { key: 'list', value: { arrayValue: { values: valueSecrets.map((s) => ({ stringValue: s.value })) } } }] } } },
    ...kv(nestK),
  ];
  const traceId = newTraceId();
  const now = BigInt(Date.now()) * 1_000_000n;
  const name = `hand ${tag}`;
  const request = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: `redact-${tag}` } }] },
        scopeSpans: [
          {
            scope: { name: 'hand-lib', version: '2.0', attributes: kv([...scopeS, ...scopeK]) },
            spans: [
              {
                traceId: encoding === 'json' ? hex(traceId) : traceId,
                spanId: encoding === 'json' ? hex(newSpanId()) : newSpanId(),
                name,
                kind: 2,
                startTimeUnixNano: String(now - 5_000_000n),
                endTimeUnixNano: String(now),
                attributes: nested,
              },
            ],
          },
        ],
      },
    ],
  };
  if (encoding === 'json') {
    const reply = await postJson(d.tracesUrl, JSON.stringify(request));
    expect(reply.status).toBe(200);
  } else {
    const type = otlpType(TypeNames.exportTracesRequest);
    const Long = protobuf.util.Long as unknown as { fromString(v: string, u: boolean): protobuf.Long };
    const span = request.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    const message = {
      ...request,
      resourceSpans: [{ ...request.resourceSpans[0]!, scopeSpans: [{ ...request.resourceSpans[0]!.scopeSpans[0]!, spans: [{ ...span, startTimeUnixNano: Long.fromString(span.startTimeUnixNano, true), endTimeUnixNano: Long.fromString(span.endTimeUnixNano, true) }] }] }],
    };
    const reply = await postProto(d.tracesUrl, type.encode(type.fromObject(message)).finish());
    expect(reply.status).toBe(200);
  }
  sent.traceIds.push(hex(traceId));
  sent.spanNames.push(name);
}

/** Metric resource and point attributes through the real metrics SDK. */
async function sendSdkMetrics(d: TestDaemon, t: MetricsTransport): Promise<void> {
  const tag = `m${t.replace('-', '')}`;
  const resS = secretsFor(`${tag}res`);
  const resK = keptFor(`${tag}res`);
  const ptS = secretsFor(`${tag}pt`, { db: true, url: true });
  const ptK = keptFor(`${tag}pt`);
  record([...resS, ...ptS], [...resK, ...ptK]);
  const exporter = metricExporter(d, t, 'cumulative');
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': `redact-${tag}`, ...attrs(resS, resK) }),
    readers: [new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })],
  });
  provider.getMeter('redaction-it').createCounter('redaction_it_requests').add(3, attrs(ptS, ptK));
  let code: ExportResultCode | undefined;
  const inner = exporter.export.bind(exporter);
  exporter.export = (m, done) => inner(m, (r) => {
    code = r.code;
    done(r);
  });
  await provider.forceFlush();
  await provider.shutdown();
  expect(code).toBe(ExportResultCode.SUCCESS);
}

describe('redaction with the default settings', () => {
  let daemon: TestDaemon;
  const dataDir = makeTempDir('spanlens-redact-');

  beforeAll(async () => {
    daemon = await startTestDaemon({ dataDir });
    for (const t of TRACE_TRANSPORTS) await sendSdkTraces(daemon, t);
    await sendHandBuilt(daemon, 'protobuf');
    await sendHandBuilt(daemon, 'json');
    for (const t of METRIC_TRANSPORTS) await sendSdkMetrics(daemon, t);
    await daemon.service.store.flush();
  }, 60_000);

  afterAll(async () => {
    await daemon?.stop();
    removeDir(dataDir);
  });

  it('sent a secret of every kind in every place', () => {
    const kinds = new Set(sent.secrets.map((s) => s.pattern));
    expect([...kinds].sort()).toEqual(['bearer', 'card', 'db_statement', 'email', 'jwt', 'key', 'url_query']);
    expect(sent.secrets.length).toBeGreaterThan(80);
  });

  it('no secret is in the database, WAL or shm files before a checkpoint, and the kept values are', () => {
    const files = readStoreFiles(dataDir);
    expect(files.map((f) => f.name).some((n) => n.endsWith('-wal'))).toBe(true);
    expect(findNeedles(files, sent.secrets.flatMap((s) => s.needles))).toEqual([]);
    const kept = sent.kept.map((k) => k.value);
    expect(findNeedles(files, kept).length).toBeGreaterThanOrEqual(kept.length);
    for (const k of kept) expect(findNeedles(files, [k]), k).not.toEqual([]);
    for (const n of sent.spanNames) expect(findNeedles(files, [n]), n).not.toEqual([]);
  });

  it('the read API shows the attributes with the replacement, names and ids unchanged', async () => {
    const first = await readTrace(daemon.apiUrl, sent.traceIds[0] as string);
    const root = first?.find((s) => s.span.name === sent.spanNames[0]);
    expect(root).toBeDefined();
    const value = (key: string): unknown => root?.span.attributes?.find((a) => a.key === key)?.value;
    expect(value('http.request.header.authorization')).toEqual({ stringValue: R });
    expect(value('Password')).toEqual({ stringValue: R });
    expect(value('contact.grpcspan')).toEqual({ stringValue: `reach ${R} today` });
    expect(value('auth.header.grpcspan')).toEqual({ stringValue: `Bearer ${R}` });
    expect(value('db.statement')).toEqual({ stringValue: 'SELECT * FROM users WHERE name = ? AND pin = ?' });
    expect(value('url.full')).toEqual({ stringValue: `https://shop.example/cart?session=${R}&page=${R}` });
    expect(root?.span.traceId).toBe(sent.traceIds[0]);
    for (const id of sent.traceIds) expect(await readTrace(daemon.apiUrl, id), id).not.toBeNull();
  });

  it('counts redactions by kind in the self-metrics', async () => {
    const text = await (await fetch(`${daemon.apiUrl}/metrics`)).text();
    for (const kind of ['key', 'email', 'card', 'bearer', 'jwt', 'db_statement', 'url_query']) {
      const m = new RegExp(`^spanlens_redactions_total\\{kind="${kind}"\\} (\\d+)`, 'm').exec(text);
      expect(Number(m?.[1] ?? 0), kind).toBeGreaterThan(0);
    }
  });

  it('no secret is in the database after the checkpoint at shutdown', async () => {
    await daemon.stop();
    const files = readStoreFiles(dataDir);
    expect(findNeedles(files, sent.secrets.flatMap((s) => s.needles))).toEqual([]);
    for (const k of sent.kept) expect(findNeedles(files, [k.value]), k.value).not.toEqual([]);
  });
});

describe('redaction settings', () => {
  async function roundTrip(config: ConfigOverrides, run: (d: TestDaemon) => Promise<void>): Promise<{ name: string; bytes: Buffer }[]> {
    const dir = makeTempDir('spanlens-redact-cfg-');
    const d = await startTestDaemon({ dataDir: dir, config });
    try {
      await run(d);
      await d.service.store.flush();
      await d.stop();
      return readStoreFiles(dir);
    } finally {
      await d.stop();
      removeDir(dir);
    }
  }

  async function oneSpan(d: TestDaemon, attributes: Attributes): Promise<void> {
    const exporter = new RecordingExporter(traceExporter(d, 'http-proto'));
    const provider = new BasicTracerProvider({ resource: resourceFromAttributes({ 'service.name': 'cfg' }), spanProcessors: [new SimpleSpanProcessor(exporter)] });
    provider.getTracer('cfg').startSpan('op', { attributes }).end();
    await provider.shutdown();
    expect(exporter.failures).toEqual([]);
  }

  it('a disabled pattern, an allowed key and a custom pattern', async () => {
    const n = Date.now().toString(36);
    const files = await roundTrip(
      { redaction: { patterns: { email: false }, allowKeys: ['user.token'], denyKeys: ['ssn'], customPatterns: ['/acct-[0-9]+/i'] } },
      (d) => oneSpan(d, { who: `kept${n}@example.com`, 'user.token': `allowed${n}`, 'person.ssn': `ssnsecret${n}`, note: `ACCT-77${n.replace(/\D/g, '')}x`, bearer: `Bearer tok${n}` }),
    );
    expect(findNeedles(files, [`kept${n}@example.com`, `allowed${n}`])).toHaveLength(2);
    expect(findNeedles(files, [`ssnsecret${n}`, `ACCT-77${n.replace(/\D/g, '')}`, `tok${n}`])).toEqual([]);
  });

  it('enabled: false stores everything as sent', async () => {
    const n = Date.now().toString(36);
    const files = await roundTrip({ redaction: { enabled: false } }, (d) => oneSpan(d, { password: `pw${n}`, who: `a${n}@example.com` }));
    expect(findNeedles(files, [`pw${n}`, `a${n}@example.com`])).toHaveLength(2);
  });
});
