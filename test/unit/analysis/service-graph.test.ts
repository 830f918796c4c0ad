import { describe, expect, it } from 'vitest';
import {
  buildServiceGraph,
  serviceGraphToMermaid,
  serviceNeighbourhood,
  traceServiceEdges,
} from '../../../src/analysis/service-graph.js';
import { SpanKind, StatusCode } from '../../../src/model/span.js';
import { checkoutTrace, checkoutTraces } from './checkout-fixture.js';
import { mkTrace, ms, traceIdOf } from './fixture.js';

const { SERVER, CLIENT, PRODUCER, CONSUMER, INTERNAL } = SpanKind;
const MINUTE = 60_000_000_000n;

describe('SG-v1', () => {
  it('pairs CLIENT↔SERVER, adds the user node and a database virtual node (the checkout traces)', () => {
    const traces = [...checkoutTraces(), checkoutTrace(5, 10, { failInsert: true })];
    const g = buildServiceGraph(traces, { windowNs: MINUTE });
    expect(g.nodes).toEqual([
      { name: 'cart', type: 'service' },
      { name: 'frontend', type: 'service' },
      { name: 'payment', type: 'service' },
      { name: 'postgresql', type: 'database' },
      { name: 'user', type: 'user' },
    ]);
    expect(g.edges.map((e) => [e.client, e.server, e.connectionType, e.requestCount, e.failedCount])).toEqual([
      ['frontend', 'cart', '', 5, 0],
      ['frontend', 'payment', '', 5, 0],
      ['payment', 'postgresql', 'database', 5, 1],
      ['user', 'frontend', 'virtual_node', 5, 0],
    ]);
    const db = g.edges[2]!;
    // INSERT durations 5, 10, 25, 45, 145 ms: nearest rank p50 = 25, p95 = p99 = 145; client = server.
    expect(db).toMatchObject({ errorRate: 0.2, rps: 0.083333, serverP50Ms: 25, serverP95Ms: 145, clientP50Ms: 25, clientP99Ms: 145 });
    const user = g.edges[3]!;
    // Root durations 65, 70, 80, 100, 200 ms → nearest-rank p50 = 80.
    expect(user).toMatchObject({ clientP50Ms: null, serverP50Ms: 80, serverP99Ms: 200 });
    // cart client spans are 20 ms, server spans 17 ms.
    expect(g.edges[0]).toMatchObject({ clientP95Ms: 20, serverP95Ms: 17 });
    expect(g.unpairedSpans).toBe(0);
  });

  it('never makes an edge from a span to an in-process child of its own service', () => {
    // api SERVER → INTERNAL handler → INTERNAL validate: only user→api
    const g = buildServiceGraph(
      [
        mkTrace([
          { id: 'a', start: 0, end: 10, service: 'api', kind: SERVER },
          { id: 'b', parent: 'a', start: 1, end: 9, service: 'api', kind: INTERNAL },
          { id: 'c', parent: 'b', start: 2, end: 8, service: 'api', kind: INTERNAL },
        ]),
      ],
      { windowNs: MINUTE },
    );
    expect(g.edges.map((e) => [e.client, e.server])).toEqual([['user', 'api']]);
    expect(g.edges.some((e) => e.client === e.server)).toBe(false);
    expect(g.selfCallCount).toBe(0);
  });

  it('counts loopback CLIENT→SERVER calls within one service instead of drawing a self-edge (opt-in to draw)', () => {
    const t = mkTrace([
      { id: 'a', start: 0, end: 10, service: 'api', kind: SERVER },
      { id: 'b', parent: 'a', start: 1, end: 9, service: 'api', kind: CLIENT },
      { id: 'c', parent: 'b', start: 2, end: 8, service: 'api', kind: SERVER },
    ]);
    const g = buildServiceGraph([t], { windowNs: MINUTE });
    expect(g.edges.map((e) => [e.client, e.server])).toEqual([['user', 'api']]);
    expect(g.selfCallCount).toBe(1);
    const kept = buildServiceGraph([t], { windowNs: MINUTE, keepSelfEdges: true });
    expect(kept.edges.map((e) => [e.client, e.server])).toEqual([
      ['api', 'api'],
      ['user', 'api'],
    ]);
  });

  it('messaging: PRODUCER→CONSUMER pair, and an unpaired producer goes to its messaging system', () => {
    const g = buildServiceGraph(
      [
        mkTrace([
          { id: 'p', start: 0, end: 5, service: 'orders', kind: PRODUCER, attrs: { 'messaging.system': 'kafka' } },
          { id: 'c', parent: 'p', start: 20, end: 30, service: 'billing', kind: CONSUMER },
          { id: 'p2', start: 40, end: 41, service: 'orders', kind: PRODUCER, attrs: { 'messaging.system': 'kafka', 'server.address': 'broker-1' } },
        ]),
      ],
      { windowNs: MINUTE },
    );
    expect(g.edges.map((e) => [e.client, e.server, e.connectionType])).toEqual([
      ['orders', 'billing', 'messaging_system'],
      ['orders', 'kafka', 'messaging_system'],
    ]);
    expect(g.nodes).toContainEqual({ name: 'kafka', type: 'messaging_system' });
    // A parentless CONSUMER is the user case too (no client side).
    expect(g.edges.some((e) => e.client === 'user')).toBe(false);
  });

  it('messaging across traces: a parentless CONSUMER linked to a PRODUCER in another trace is paired with it', () => {
    // trace 1: orders PRODUCER p1 (unpaired in its own trace); trace 2: billing CONSUMER linked to p1;
    // trace 3: billing CONSUMER linked to a producer nobody traced → user edge, as any parentless consumer.
    const t1 = mkTrace([{ id: 'p1', start: 0, end: 5, service: 'orders', kind: PRODUCER, attrs: { 'messaging.system': 'kafka' } }], traceIdOf(1));
    const link = (traceId: string, spanId: string) => ({ traceId, spanId, attributes: {} });
    const t2 = mkTrace([{ id: 'c1', start: 50, end: 80, service: 'billing', kind: CONSUMER, links: [link(traceIdOf(1), 'P1')], status: StatusCode.ERROR }], traceIdOf(2));
    const t3 = mkTrace([{ id: 'c2', start: 50, end: 60, service: 'billing', kind: CONSUMER, links: [link(traceIdOf(9), 'p9')] }], traceIdOf(3));
    const g = buildServiceGraph([t1, t2, t3], { windowNs: MINUTE });
    expect(g.edges.map((e) => [e.client, e.server, e.connectionType, e.requestCount, e.failedCount, e.clientP50Ms, e.serverP50Ms])).toEqual([
      ['orders', 'billing', 'messaging_system', 1, 1, 0, 0],
      ['user', 'billing', 'virtual_node', 1, 0, null, 0],
    ]);
    expect(g.nodes.map((n) => n.name)).toEqual(['billing', 'orders', 'user']);
    // Without the consumer's trace the producer still goes to its messaging system.
    expect(buildServiceGraph([t1], { windowNs: MINUTE }).edges.map((e) => e.server)).toEqual(['kafka']);
    expect(traceServiceEdges(t2)).toMatchObject({ edges: [], linkedConsumers: [{ server: 'billing', producerKeys: [`${traceIdOf(1)}:p1`] }] });
  });

  it('virtual peers: db.system.name and db.system, peer.service precedence, server.address, net.peer.name, unknown', () => {
    const t = mkTrace([
      { id: 'r', start: 0, end: 100, service: 'api', kind: SERVER },
      { id: 'd1', parent: 'r', start: 1, end: 2, service: 'api', kind: CLIENT, attrs: { 'db.system.name': 'postgresql' } },
      { id: 'd2', parent: 'r', start: 3, end: 4, service: 'api', kind: CLIENT, attrs: { 'db.system': 'redis' } },
      { id: 'd3', parent: 'r', start: 5, end: 6, service: 'api', kind: CLIENT, attrs: { 'db.system': 'redis', 'peer.service': 'session-cache' } },
      { id: 'h1', parent: 'r', start: 7, end: 8, service: 'api', kind: CLIENT, attrs: { 'server.address': 'api.stripe.com', 'peer.service': 'stripe' } },
      { id: 'h2', parent: 'r', start: 9, end: 10, service: 'api', kind: CLIENT, attrs: { 'server.address': 'maps.example.com' } },
      { id: 'h3', parent: 'r', start: 11, end: 12, service: 'api', kind: CLIENT, attrs: { 'net.peer.name': 'legacy.local' } },
      { id: 'h4', parent: 'r', start: 13, end: 14, service: 'api', kind: CLIENT, status: StatusCode.ERROR },
    ]);
    const e = traceServiceEdges(t).edges.filter((x) => x.client === 'api');
    expect(e.map((x) => [x.server, x.serverType, x.connectionType])).toEqual([
      ['postgresql', 'database', 'database'],
      ['redis', 'database', 'database'],
      ['session-cache', 'database', 'database'],
      ['stripe', 'virtual', 'virtual_node'],
      ['maps.example.com', 'virtual', 'virtual_node'],
      ['legacy.local', 'virtual', 'virtual_node'],
      ['unknown', 'virtual', 'virtual_node'],
    ]);
    expect(e[6]!.failed).toBe(true);
  });

  it('counts SERVER spans with a missing or non-client parent as unpaired; failed if either side errs', () => {
    const t = mkTrace([
      { id: 'r', start: 0, end: 100, service: 'a', kind: SERVER },
      { id: 'i', parent: 'r', start: 1, end: 50, service: 'a', kind: INTERNAL },
      { id: 's', parent: 'i', start: 2, end: 40, service: 'b', kind: SERVER },
      { id: 'o', parent: 'gone', start: 2, end: 40, service: 'c', kind: SERVER },
      { id: 'k', parent: 'r', start: 60, end: 90, service: 'a', kind: CLIENT },
      { id: 'k2', parent: 'k', start: 61, end: 89, service: 'b', kind: SERVER, attrs: { 'http.response.status_code': 503 } },
    ]);
    const te = traceServiceEdges(t);
    expect(te.unpairedSpans).toBe(2);
    expect(te.edges.find((e) => e.client === 'a' && e.server === 'b')).toMatchObject({ failed: true, clientNs: 30n, serverNs: 28n });
    expect(te.edges.some((e) => e.connectionType === 'inferred')).toBe(false);
    // Opt-in: the INTERNAL a-span → SERVER b-span hop becomes an inferred edge (the missing parent does not).
    const inferred = traceServiceEdges(t, { inferEdges: true }).edges.filter((e) => e.connectionType === 'inferred');
    expect(inferred).toEqual([{ client: 'a', server: 'b', connectionType: 'inferred', clientType: 'service', serverType: 'service', clientNs: null, serverNs: 38n, failed: false }]);
  });

  it('renders Mermaid with escaped names and labelled edges, and cuts a neighbourhood', () => {
    const t = mkTrace(
      [
        { id: 'r', start: 0, end: ms(10), service: 'web "edge"', kind: SERVER },
        { id: 'c', parent: 'r', start: ms(1), end: ms(9), service: 'web "edge"', kind: CLIENT, attrs: { 'db.system': 'mysql' }, status: StatusCode.ERROR },
      ],
      traceIdOf(1),
    );
    const g = buildServiceGraph([t], { windowNs: MINUTE });
    expect(serviceGraphToMermaid(g)).toBe(
      [
        'graph LR',
        '  n0[("mysql")]',
        '  n1(("user"))',
        '  n2["web #quot;edge#quot;"]',
        '  n1 -->|"1 calls, 0% err, p95 10ms"| n2',
        '  n2 -->|"1 calls, 100% err, p95 8ms"| n0',
      ].join('\n'),
    );
    const checkout = buildServiceGraph(checkoutTraces(), { windowNs: MINUTE });
    expect(serviceNeighbourhood(checkout, 'payment', 1).nodes.map((n) => n.name)).toEqual(['frontend', 'payment', 'postgresql']);
    expect(serviceNeighbourhood(checkout, 'payment', 2).nodes.map((n) => n.name)).toEqual(['cart', 'frontend', 'payment', 'postgresql', 'user']);
    expect(serviceNeighbourhood(checkout, 'nope', 2).edges).toEqual([]);
  });
});
