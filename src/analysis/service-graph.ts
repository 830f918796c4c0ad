/**
 * SG-v1 service dependency graph (ANALYSIS.md §3.4): the OpenTelemetry Collector servicegraph
 * connector's pairing (CLIENT span ↔ its SERVER child, PRODUCER ↔ CONSUMER), computed per stored trace
 * so there is no TTL race, plus virtual nodes: `user` for parentless SERVER/CONSUMER spans and a peer for
 * every unpaired CLIENT/PRODUCER span (`peer.service` > `db.system.name`/`db.system` > `server.address`
 * > `net.peer.name`). A parentless CONSUMER that links to a PRODUCER in another trace (messaging that
 * starts a new trace; the collector's ProducerKey) is paired with that producer when both traces are
 * aggregated together, and falls back to the `user` edge otherwise.
 *
 * Only kind-based pairs make edges, so a span never creates an edge to an in-process (INTERNAL) child of
 * its own service — the self-loop Jaeger's parent→child counting produces. A CLIENT→SERVER call between
 * two spans of the same service (a loopback call) is a real hop, but service_map promises no self-edges,
 * so aggregation counts such requests in `selfCallCount` instead of drawing them unless asked to.
 */
import { SpanKind } from '../model/span.js';
import type { TraceSpan } from '../model/trace.js';
import { isEffectiveError } from './error-status.js';
import { Attr, attrString } from './semconv.js';
import { compareBigint, nearestRank, nsToMs } from './time.js';
import { buildTraceForest } from './trace-tree.js';

export type ServiceNodeType = 'service' | 'user' | 'database' | 'messaging_system' | 'virtual';
/**
 * As the collector labels it: '' for an instrumented client/server pair. 'inferred' (ours, opt-in) marks
 * a SERVER/CONSUMER span whose in-trace parent is not a CLIENT/PRODUCER but runs in another service.
 */
export type ConnectionType = '' | 'messaging_system' | 'database' | 'virtual_node' | 'inferred';

/** One request seen in one trace; cache these per trace and aggregate per window. */
export interface ServiceEdgeObservation {
  client: string;
  server: string;
  connectionType: ConnectionType;
  /** Type of a non-service endpoint (user or virtual peer); 'service' for instrumented ones. */
  clientType: ServiceNodeType;
  serverType: ServiceNodeType;
  /** null when there is no client span (user edges). */
  clientNs: bigint | null;
  serverNs: bigint;
  failed: boolean;
  /**
   * On an unpaired PRODUCER's virtual edge: `traceId:spanId` of the producer, so a CONSUMER in another
   * trace that links to it can replace the virtual peer when the traces are aggregated together.
   */
  producerKey?: string;
}

/** A parentless CONSUMER span with links: paired with the linked producers across traces if present. */
export interface LinkedConsumer {
  server: string;
  serverNs: bigint;
  failed: boolean;
  /** `traceId:spanId` of every linked span (batch receives link several messages). */
  producerKeys: string[];
}

export interface TraceServiceEdges {
  traceId: string;
  /** service.name of every span in the trace, sorted. */
  services: string[];
  edges: ServiceEdgeObservation[];
  /** SERVER/CONSUMER spans whose parent is missing or not a CLIENT/PRODUCER span. */
  unpairedSpans: number;
  /** Parentless CONSUMER spans with links; their `user` edge is decided at aggregation. */
  linkedConsumers: LinkedConsumer[];
}

const isCaller = (kind: number): boolean => kind === SpanKind.CLIENT || kind === SpanKind.PRODUCER;
const isCallee = (kind: number): boolean => kind === SpanKind.SERVER || kind === SpanKind.CONSUMER;
const isMessaging = (kind: number): boolean => kind === SpanKind.PRODUCER || kind === SpanKind.CONSUMER;

/** The virtual peer of a CLIENT/PRODUCER span whose callee was not traced. */
function virtualPeer(span: TraceSpan): { name: string; type: ServiceNodeType; connectionType: ConnectionType } {
  const peer = attrString(span, Attr.peerService);
  const db = attrString(span, Attr.dbSystem);
  if (db !== undefined) return { name: peer ?? db, type: 'database', connectionType: 'database' };
  if (span.kind === SpanKind.PRODUCER) {
    const name = peer ?? attrString(span, Attr.messagingSystem) ?? attrString(span, Attr.serverAddress) ?? 'unknown';
    return { name, type: 'messaging_system', connectionType: 'messaging_system' };
  }
  return { name: peer ?? attrString(span, Attr.serverAddress) ?? 'unknown', type: 'virtual', connectionType: 'virtual_node' };
}

export interface TraceServiceEdgesOptions {
  /** SG-v1 step 2's optional inferred edge `parent.service → s.service` (default false). */
  inferEdges?: boolean;
}

/** SG-v1 steps 1–3 for one (complete) trace. */
export function traceServiceEdges(spans: readonly TraceSpan[], options: TraceServiceEdgesOptions = {}): TraceServiceEdges {
  const forest = buildTraceForest(spans);
  const { nodes } = forest;
  const paired = new Uint8Array(nodes.length);
  const error = nodes.map((n) => isEffectiveError(n.span));
  const edges: ServiceEdgeObservation[] = [];
  const linkedConsumers: LinkedConsumer[] = [];
  let unpairedSpans = 0;
  for (const s of nodes) {
    if (!isCallee(s.span.kind)) continue;
    const p = s.parent === -1 ? undefined : nodes[s.parent]!;
    if (p !== undefined && isCaller(p.span.kind)) {
      paired[p.index] = 1;
      edges.push({
        client: p.span.service,
        server: s.span.service,
        connectionType: isMessaging(p.span.kind) || isMessaging(s.span.kind) ? 'messaging_system' : '',
        clientType: 'service',
        serverType: 'service',
        clientNs: p.endNs - p.startNs,
        serverNs: s.endNs - s.startNs,
        failed: error[p.index]! || error[s.index]!,
      });
    } else if (p === undefined && s.parentSpanId === '' && s.span.kind === SpanKind.CONSUMER && s.span.links.length > 0) {
      // Messaging that starts a new trace (the collector's ProducerKey case): pair across traces later.
      linkedConsumers.push({
        server: s.span.service,
        serverNs: s.endNs - s.startNs,
        failed: error[s.index]!,
        producerKeys: s.span.links.map((l) => `${l.traceId.toLowerCase()}:${l.spanId.toLowerCase()}`),
      });
    } else if (p === undefined && s.parentSpanId === '') {
      edges.push({
        client: 'user',
        server: s.span.service,
        connectionType: 'virtual_node',
        clientType: 'user',
        serverType: 'service',
        clientNs: null,
        serverNs: s.endNs - s.startNs,
        failed: error[s.index]!,
      });
    } else {
      unpairedSpans++;
      if (options.inferEdges === true && p !== undefined && p.span.service !== s.span.service) {
        edges.push({
          client: p.span.service,
          server: s.span.service,
          connectionType: 'inferred',
          clientType: 'service',
          serverType: 'service',
          clientNs: null,
          serverNs: s.endNs - s.startNs,
          failed: error[s.index]!,
        });
      }
    }
  }
  for (const c of nodes) {
    if (!isCaller(c.span.kind) || paired[c.index] === 1) continue;
    const peer = virtualPeer(c.span);
    const d = c.endNs - c.startNs;
    const edge: ServiceEdgeObservation = {
      client: c.span.service,
      server: peer.name,
      connectionType: peer.connectionType,
      clientType: 'service',
      serverType: peer.type,
      clientNs: d,
      serverNs: d,
      failed: error[c.index]!,
    };
    if (c.span.kind === SpanKind.PRODUCER) edge.producerKey = `${forest.traceId}:${c.spanId}`;
    edges.push(edge);
  }
  const services = [...new Set(nodes.map((n) => n.span.service))].sort();
  return { traceId: forest.traceId, services, edges, unpairedSpans, linkedConsumers };
}

export interface ServiceGraphNode {
  name: string;
  type: ServiceNodeType;
}

export interface ServiceGraphEdge {
  client: string;
  server: string;
  connectionType: ConnectionType;
  requestCount: number;
  failedCount: number;
  errorRate: number;
  /** requestCount / window seconds; null for a non-positive window. */
  rps: number | null;
  clientP50Ms: number | null;
  clientP95Ms: number | null;
  clientP99Ms: number | null;
  serverP50Ms: number | null;
  serverP95Ms: number | null;
  serverP99Ms: number | null;
}

export interface ServiceGraph {
  traceCount: number;
  windowNs: bigint;
  /** Sorted by name. */
  nodes: ServiceGraphNode[];
  /** By requestCount desc, then client, server, connectionType. */
  edges: ServiceGraphEdge[];
  unpairedSpans: number;
  /** Requests whose client and server are the same service, left out of `edges` (see keepSelfEdges). */
  selfCallCount: number;
}

export interface ServiceGraphOptions extends TraceServiceEdgesOptions {
  /** Length of the window the traces were selected from, for rps. */
  windowNs: bigint;
  /** Draw client == server edges (loopback calls) instead of only counting them (default false). */
  keepSelfEdges?: boolean;
}

/** Non-service node types in precedence order, when one name shows up as several kinds of peer. */
const VIRTUAL_ORDER: ServiceNodeType[] = ['user', 'database', 'messaging_system', 'virtual'];

/** SG-v1 step 4 over cached per-trace edges. */
export function aggregateServiceEdges(perTrace: readonly TraceServiceEdges[], options: ServiceGraphOptions): ServiceGraph {
  const services = new Set<string>();
  const virtualTypes = new Map<string, ServiceNodeType>();
  const noteVirtual = (name: string, type: ServiceNodeType): void => {
    if (type === 'service') return;
    const cur = virtualTypes.get(name);
    if (cur === undefined || VIRTUAL_ORDER.indexOf(type) < VIRTUAL_ORDER.indexOf(cur)) virtualTypes.set(name, type);
  };
  const acc = new Map<string, { key: ServiceEdgeObservation; count: number; failed: number; client: bigint[]; server: bigint[] }>();
  let unpairedSpans = 0;
  let selfCallCount = 0;
  const add = (e: ServiceEdgeObservation): void => {
    if (e.client === e.server && options.keepSelfEdges !== true) {
      selfCallCount++;
      return;
    }
    noteVirtual(e.client, e.clientType);
    noteVirtual(e.server, e.serverType);
    const k = `${e.client}\u0000${e.server}\u0000${e.connectionType}`;
    let a = acc.get(k);
    if (a === undefined) {
      a = { key: e, count: 0, failed: 0, client: [], server: [] };
      acc.set(k, a);
    }
    a.count++;
    if (e.failed) a.failed++;
    if (e.clientNs !== null) a.client.push(e.clientNs);
    a.server.push(e.serverNs);
  };
  // Consumers that started their own trace, by the producer they link to.
  const consumersOf = new Map<string, LinkedConsumer[]>();
  for (const t of perTrace) {
    for (const c of t.linkedConsumers) {
      for (const key of new Set(c.producerKeys)) {
        const list = consumersOf.get(key) ?? [];
        list.push(c);
        consumersOf.set(key, list);
      }
    }
  }
  const matched = new Set<LinkedConsumer>();
  for (const t of perTrace) {
    for (const s of t.services) services.add(s);
    unpairedSpans += t.unpairedSpans;
    for (const e of t.edges) {
      const consumers = e.producerKey === undefined ? undefined : consumersOf.get(e.producerKey);
      if (consumers === undefined) {
        add(e);
        continue;
      }
      // The traced consumer replaces the producer's virtual peer (one request per linked message).
      for (const c of consumers) {
        matched.add(c);
        add({ ...e, server: c.server, serverType: 'service', connectionType: 'messaging_system', serverNs: c.serverNs, failed: e.failed || c.failed });
      }
    }
  }
  // Unmatched ones are requests from outside, as for any parentless consumer (SG-v1 step 2).
  for (const t of perTrace) {
    for (const c of t.linkedConsumers) {
      if (matched.has(c)) continue;
      add({ client: 'user', server: c.server, connectionType: 'virtual_node', clientType: 'user', serverType: 'service', clientNs: null, serverNs: c.serverNs, failed: c.failed });
    }
  }
  const seconds = Number(options.windowNs) / 1e9;
  const pct = (sorted: bigint[], q: number): number | null => {
    const v = nearestRank(sorted, q);
    return v === null ? null : nsToMs(v);
  };
  const edges = [...acc.values()].map(({ key, count, failed, client, server }): ServiceGraphEdge => {
    client.sort(compareBigint);
    server.sort(compareBigint);
    return {
      client: key.client,
      server: key.server,
      connectionType: key.connectionType,
      requestCount: count,
      failedCount: failed,
      errorRate: Math.round((failed / count) * 1e6) / 1e6,
      rps: seconds > 0 ? Math.round((count / seconds) * 1e6) / 1e6 : null,
      clientP50Ms: pct(client, 0.5),
      clientP95Ms: pct(client, 0.95),
      clientP99Ms: pct(client, 0.99),
      serverP50Ms: pct(server, 0.5),
      serverP95Ms: pct(server, 0.95),
      serverP99Ms: pct(server, 0.99),
    };
  });
  edges.sort((a, b) => b.requestCount - a.requestCount || cmp(a.client, b.client) || cmp(a.server, b.server) || cmp(a.connectionType, b.connectionType));
  const names = new Set<string>();
  for (const e of edges) names.add(e.client).add(e.server);
  const nodes = [...names].sort().map((name): ServiceGraphNode => ({ name, type: services.has(name) ? 'service' : virtualTypes.get(name) ?? 'virtual' }));
  return { traceCount: perTrace.length, windowNs: options.windowNs, nodes, edges, unpairedSpans, selfCallCount };
}

/** SG-v1 over whole traces: `traceServiceEdges` per trace, then `aggregateServiceEdges`. */
export function buildServiceGraph(traces: readonly (readonly TraceSpan[])[], options: ServiceGraphOptions): ServiceGraph {
  return aggregateServiceEdges(
    traces.filter((t) => t.length > 0).map((t) => traceServiceEdges(t, options)),
    options,
  );
}

/**
 * The part of the graph within `depth` hops of `service` (either direction), for service_map(service).
 * Unknown service → empty graph.
 */
export function serviceNeighbourhood(graph: ServiceGraph, service: string, depth: number): ServiceGraph {
  const keep = new Set<string>();
  if (graph.nodes.some((n) => n.name === service)) keep.add(service);
  let frontier = [...keep];
  for (let d = 0; d < depth && frontier.length > 0; d++) {
    const next: string[] = [];
    for (const e of graph.edges) {
      for (const [from, to] of [
        [e.client, e.server],
        [e.server, e.client],
      ] as const) {
        if (frontier.includes(from) && !keep.has(to)) {
          keep.add(to);
          next.push(to);
        }
      }
    }
    frontier = next;
  }
  const edges = graph.edges.filter((e) => keep.has(e.client) && keep.has(e.server));
  return { ...graph, nodes: graph.nodes.filter((n) => keep.has(n.name)), edges };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Mermaid-safe label: quotes and angle brackets as entity codes, no line breaks. */
function mermaidText(s: string): string {
  return s.replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;').replace(/[\r\n]+/g, ' ');
}

function mermaidNode(id: string, node: ServiceGraphNode): string {
  const label = `"${mermaidText(node.name)}"`;
  switch (node.type) {
    case 'user':
      return `${id}((${label}))`;
    case 'database':
      return `${id}[(${label})]`;
    case 'messaging_system':
      return `${id}[[${label}]]`;
    case 'virtual':
      return `${id}(${label})`;
    default:
      return `${id}[${label}]`;
  }
}

function formatMs(v: number | null): string {
  return v === null ? 'n/a' : `${v}ms`;
}

/**
 * `graph LR` Mermaid text: one node line per node (shape by type: user circle, database cylinder,
 * messaging subroutine, virtual rounded), one edge per (client, server, connectionType) labelled with
 * calls, error % and server-side p95.
 */
export function serviceGraphToMermaid(graph: ServiceGraph): string {
  const ids = new Map(graph.nodes.map((n, i) => [n.name, `n${i}`]));
  const lines = ['graph LR'];
  for (const n of graph.nodes) lines.push(`  ${mermaidNode(ids.get(n.name)!, n)}`);
  for (const e of graph.edges) {
    const err = Math.round(e.errorRate * 1000) / 10;
    const label = `${e.requestCount} calls, ${err}% err, p95 ${formatMs(e.serverP95Ms)}`;
    const arrow = e.connectionType === 'messaging_system' || e.connectionType === 'inferred' ? '-.->' : '-->';
    lines.push(`  ${ids.get(e.client)!} ${arrow}|"${mermaidText(label)}"| ${ids.get(e.server)!}`);
  }
  return lines.join('\n');
}
