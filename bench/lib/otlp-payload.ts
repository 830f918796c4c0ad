/**
 * A realistic OTLP trace export request generator: ~10 services, parent/child trees of ~10 spans per
 * trace (SERVER roots, CLIENT→SERVER hops, DB CLIENT spans), ~12 attributes per span, ~3 % errors with
 * exception events. Encoded once with protobufjs; request-template.ts makes copies unique cheaply.
 */
import { otlpType, TypeNames } from '../../src/codec/protos.js';
import { prng } from '../../test/helpers/prng.js';

export interface PayloadShape {
  spansPerRequest: number;
  /** Distinct services (resources) per request, at most SERVICES.length. */
  services: number;
  spansPerTrace: number;
  /** Fraction of spans with status ERROR. */
  errorRate: number;
}

export const DEFAULT_SHAPE: PayloadShape = { spansPerRequest: 500, services: 10, spansPerTrace: 10, errorRate: 0.03 };

const SERVICES = [
  'frontend', 'api-gateway', 'cart', 'checkout', 'payment',
  'product-catalog', 'recommendation', 'shipping', 'currency', 'user-auth',
];
const ROUTES = ['/api/cart', '/api/checkout', '/api/products/{id}', '/api/users/{id}', '/api/orders', '/api/quote', '/api/recommendations', '/api/currency/convert'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE'];
const DBS = [
  { system: 'postgresql', name: 'shop', op: 'SELECT', table: 'orders', port: 5432 },
  { system: 'redis', name: '0', op: 'GET', table: 'cart', port: 6379 },
  { system: 'mongodb', name: 'catalog', op: 'find', table: 'products', port: 27017 },
];
const USER_AGENTS = ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0', 'okhttp/4.12.0', 'python-requests/2.32.3', 'Go-http-client/1.1'];


type Attr = { key: string; value: { stringValue: string } | { intValue: number } };
const s = (key: string, v: string): Attr => ({ key, value: { stringValue: v } });
const i = (key: string, v: number): Attr => ({ key, value: { intValue: v } });
const fixed64 = (ns: bigint): { low: number; high: number } => ({ low: Number(ns & 0xffffffffn) | 0, high: Number(ns >> 32n) | 0 });

interface SpanObj {
  service: number;
  scope: 'http' | 'db';
  obj: Record<string, unknown>;
  startNs: bigint;
  durNs: bigint;
  spanId: Buffer;
}

function resourceAttrs(svc: number, lane: number): Attr[] {
  const name = SERVICES[svc] as string;
  return [
    s('service.name', name), s('service.version', `1.${svc}.${lane % 7}`), s('service.namespace', 'shop'),
    s('service.instance.id', `${name}-${lane}-7f9c`), s('host.name', `node-${svc % 4}`), s('host.arch', 'amd64'),
    s('os.type', 'linux'), i('process.pid', 1000 + svc), s('process.runtime.name', 'nodejs'),
    s('telemetry.sdk.name', 'opentelemetry'), s('telemetry.sdk.language', 'nodejs'), s('telemetry.sdk.version', '2.12.1'),
    s('deployment.environment.name', 'production'),
  ];
}

/**
 * Builds one request: traces of ~spansPerTrace spans (a SERVER root, then CLIENT→SERVER hops between
 * services and DB CLIENT spans), grouped into one ResourceSpans per service with an http and a db scope.
 */
export function encodeRequest(shape: PayloadShape, seed: number, lane: number, nonce: Buffer, baseNs: bigint): Buffer {
  const rnd = prng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)] as T;
  const nsvc = Math.max(1, Math.min(shape.services, SERVICES.length));
  const spans: SpanObj[] = [];
  let spanIdx = 0;
  for (let t = 0; spans.length < shape.spansPerRequest; t++) {
    const traceId = Buffer.alloc(16);
    nonce.copy(traceId, 0, 0, 8);
    traceId[12] = lane & 0xff;
    traceId.writeUIntBE(t, 13, 3);
    const inTrace: SpanObj[] = [];
    const add = (service: number, scope: 'http' | 'db', parent: SpanObj | null, name: string, kind: number, attrs: Attr[]): SpanObj => {
      const spanId = Buffer.alloc(8);
      spanId.writeUInt8((lane + 1) & 0xff, 4);
      spanId.writeUIntBE(++spanIdx, 5, 3);
      const pStart = parent ? parent.startNs : baseNs + BigInt(t) * 1_000_000n;
      const pDur = parent ? parent.durNs : BigInt(Math.round(Math.exp(Math.log(40e6) + rnd() * 1.5)));
      const startNs = parent ? pStart + BigInt(Math.floor(Number(pDur) * rnd() * 0.3)) : pStart;
      const durNs = parent ? BigInt(Math.max(1000, Math.floor(Number(pDur) * (0.2 + rnd() * 0.5)))) : pDur;
      const error = rnd() < shape.errorRate;
      if (scope === 'http') attrs.push(i('http.response.status_code', error ? pick([500, 503]) : pick([200, 200, 200, 201, 304])));
      const obj: Record<string, unknown> = {
        traceId, spanId, name, kind, attributes: attrs,
        startTimeUnixNano: fixed64(startNs), endTimeUnixNano: fixed64(startNs + durNs),
        status: error ? { code: 2, message: 'upstream request failed' } : { code: pick([0, 0, 1]) },
      };
      if (parent) obj.parentSpanId = parent.spanId;
      if (error) {
        obj.events = [{ timeUnixNano: fixed64(startNs + durNs / 2n), name: 'exception', attributes: [
          s('exception.type', 'Error'), s('exception.message', 'ECONNRESET: socket hang up'),
        ] }];
      }
      const span: SpanObj = { service, scope, obj, startNs, durNs, spanId };
      inTrace.push(span);
      spans.push(span);
      return span;
    };
    const root = add(rnd() < 0.7 ? 0 : 1, 'http', null, '', 2, []);
    const route = pick(ROUTES);
    const method = pick(METHODS);
    root.obj.name = `${method} ${route}`;
    (root.obj.attributes as Attr[]).unshift(
      s('http.request.method', method), s('http.route', route), s('url.path', route.replace('{id}', String(t * 7 + lane))),
      s('url.scheme', 'https'), s('server.address', 'shop.example.com'), i('server.port', 443), i('net.peer.port', 40000 + t),
      s('network.protocol.version', '1.1'), s('user_agent.original', pick(USER_AGENTS)), s('client.address', `10.1.${lane}.${t % 250}`),
      i('http.request.body.size', Math.floor(rnd() * 4000)),
    );
    while (inTrace.length < shape.spansPerTrace && spans.length < shape.spansPerRequest) {
      const servers = inTrace.filter((x) => x.scope === 'http' && (x.obj.kind === 2 || x === root));
      const parent = pick(servers);
      if (rnd() < 0.3) {
        const db = pick(DBS);
        add(parent.service, 'db', parent, `${db.op} ${db.name}.${db.table}`, 3, [
          s('db.system', db.system), s('db.name', db.name), s('db.operation', db.op), s('db.sql.table', db.table),
          s('db.statement', `${db.op} * FROM ${db.table} WHERE id = ?`), s('server.address', `${db.system}.internal`),
          i('server.port', db.port), i('net.peer.port', db.port), s('network.peer.address', `10.2.0.${db.port % 200}`),
          s('db.user', 'app'), i('thread.id', 1), i('db.response.rows', Math.floor(rnd() * 50)),
        ]);
        continue;
      }
      let target = Math.floor(rnd() * nsvc);
      if (target === parent.service) target = (target + 1) % nsvc;
      const targetName = SERVICES[target] as string;
      const r = pick(ROUTES);
      const m = pick(METHODS);
      const client = add(parent.service, 'http', parent, m, 3, [
        s('http.request.method', m), s('url.full', `http://${targetName}:8080${r}`), s('server.address', targetName),
        i('server.port', 8080), s('network.peer.address', `10.0.${target}.12`), i('net.peer.port', 8080),
        s('network.protocol.version', '1.1'), s('user_agent.original', 'node-fetch/3.3'), i('thread.id', 1),
        s('http.route', r), s('peer.service', targetName),
      ]);
      if (inTrace.length < shape.spansPerTrace && spans.length < shape.spansPerRequest) {
        add(target, 'http', client, `${m} ${r}`, 2, [
          s('http.request.method', m), s('http.route', r), s('url.path', r.replace('{id}', String(t))), s('url.scheme', 'http'),
          s('server.address', targetName), i('server.port', 8080), i('net.peer.port', 50000 + (t % 1000)),
          s('network.protocol.version', '1.1'), s('user_agent.original', 'node-fetch/3.3'), s('client.address', `10.0.${parent.service}.12`),
          i('http.request.body.size', Math.floor(rnd() * 2000)),
        ]);
      }
    }
  }
  const resourceSpans = [];
  for (let svc = 0; svc < SERVICES.length; svc++) {
    const scopeSpans = [];
    for (const scope of ['http', 'db'] as const) {
      const mine = spans.filter((x) => x.service === svc && x.scope === scope).map((x) => x.obj);
      if (mine.length === 0) continue;
      scopeSpans.push({
        scope: { name: scope === 'http' ? '@opentelemetry/instrumentation-http' : '@opentelemetry/instrumentation-pg', version: '0.57.0' },
        spans: mine,
      });
    }
    if (scopeSpans.length > 0) resourceSpans.push({ resource: { attributes: resourceAttrs(svc, lane) }, scopeSpans });
  }
  const type = otlpType(TypeNames.exportTracesRequest);
  // Copy into an exactly-sized Buffer we own: protobufjs may return a view into a larger pool.
  return Buffer.from(type.encode(type.fromObject({ resourceSpans })).finish());
}
