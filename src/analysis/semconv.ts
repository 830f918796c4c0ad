/**
 * Attribute lookups across semantic-convention generations (ANALYSIS.md §7.1). Instrumentations
 * migrate behind OTEL_SEMCONV_STABILITY_OPT_IN, so both names appear in one deployment: the current
 * name wins, the older one is the fallback. Only span attributes are read (these are per-call facts).
 */
import { SpanKind } from '../model/span.js';
import type { AttributeValue, TraceSpan } from '../model/trace.js';

/** Current name first, then older names. */
export const Attr = {
  httpMethod: ['http.request.method', 'http.method'],
  httpStatus: ['http.response.status_code', 'http.status_code'],
  httpRoute: ['http.route'],
  urlFull: ['url.full', 'http.url'],
  urlPath: ['url.path', 'http.target'],
  serverAddress: ['server.address', 'net.peer.name'],
  netPeerName: ['net.peer.name'],
  peerService: ['peer.service'],
  errorType: ['error.type'],
  dbSystem: ['db.system.name', 'db.system'],
  dbQuery: ['db.query.text', 'db.statement'],
  dbQuerySummary: ['db.query.summary'],
  dbOperation: ['db.operation.name', 'db.operation'],
  dbNamespace: ['db.namespace', 'db.name'],
  dbCollection: ['db.collection.name', 'db.sql.table', 'db.mongodb.collection', 'db.cassandra.table', 'db.cosmosdb.container'],
  dbStatus: ['db.response.status_code'],
  messagingSystem: ['messaging.system'],
  messagingDestination: ['messaging.destination.name'],
  rpcSystem: ['rpc.system'],
  rpcService: ['rpc.service'],
  rpcMethod: ['rpc.method'],
  grpcStatus: ['rpc.grpc.status_code'],
} as const satisfies Record<string, readonly string[]>;

export function attrValue(span: Pick<TraceSpan, 'attributes'>, keys: readonly string[]): AttributeValue | undefined {
  for (const key of keys) {
    const v = span.attributes[key];
    if (v !== undefined && v !== null && v !== '') return v;
  }
  return undefined;
}

/** The first present value as a string (numbers and booleans stringified; arrays ignored). */
export function attrString(span: Pick<TraceSpan, 'attributes'>, keys: readonly string[]): string | undefined {
  const v = attrValue(span, keys);
  if (v === undefined || v === null || Array.isArray(v)) return undefined;
  return String(v);
}

/** The first present value as a finite number; numeric strings are accepted (some SDKs send them). */
export function attrNumber(span: Pick<TraceSpan, 'attributes'>, keys: readonly string[]): number | undefined {
  const v = attrValue(span, keys);
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) return Number(v);
  return undefined;
}

/**
 * `{method} {http.route}` for an HTTP SERVER span that carries a route template (the semconv span name),
 * else the span name. For AGG-v1 rows when instrumentations put raw paths (high cardinality) in names.
 */
export function routeBasedName(span: TraceSpan): string {
  const route = attrString(span, Attr.httpRoute);
  if (span.kind !== SpanKind.SERVER || route === undefined) return span.name;
  const method = attrString(span, Attr.httpMethod);
  return method === undefined ? route : `${method} ${route}`;
}
