import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeSelfTimes } from '../../src/analysis/self-time.js';
import { summarizeTrace } from '../../src/analysis/trace-summary.js';
import { summarizeTraceColumns } from '../../src/analysis/trace-summary-columns.js';
import { topologyOf } from '../../src/analysis/trace-topology.js';
import { topologyOfColumns } from '../../src/analysis/trace-topology-columns.js';
import { buildTraceForest } from '../../src/analysis/trace-tree.js';
import { otlpType, TypeNames } from '../../src/codec/protos.js';
import { SpanKind, StatusCode } from '../../src/model/span.js';
import type { AttributeValue, Attributes, TraceSpan } from '../../src/model/trace.js';
import { summaryView, topologyView } from '../../src/mcp/trace-views.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { callTool, connectHttp, type McpConnection } from '../helpers/mcp-client.js';
import { postProto } from '../helpers/otlp-raw.js';
import { prng } from '../helpers/prng.js';
import { arbErrorTrace, bigTrace } from '../unit/analysis/columns-arb.js';
import { mkTrace, TRACE_ID } from '../unit/analysis/fixture.js';

/**
 * get_trace view=summary and view=topology through MCP on random traces stored through OTLP/HTTP (several
 * requests each, so several chunks): the answer, which now comes from the trace's columns, is byte for
 * byte what the object path makes of the same stored trace (summaryView of summarizeTrace over
 * getTraceSpans(`errors`), topologyView of topologyOf over getTraceSpans(`timing`)). The columns must
 * have answered every trace but those with a parent cycle or times > 104 days apart, so the test cannot
 * pass by falling back. Traces: 150 small random ones (broken, missing and self parents, duplicates,
 * equal times, zero and negative durations, async children, ERR-v1 facts), five of 1k spans, one of 10k.
 */

const MS = 1_000_000n;
const DAY = 86_400_000n * MS;
const NOW = BigInt(Date.now()) * MS;

interface Stored { traceId: string; columnar: boolean }
let daemon: TestDaemon;
let mcp: McpConnection;
const stored: Stored[] = [];

const requestType = otlpType(TypeNames.exportTracesRequest);

function anyValue(v: AttributeValue): Record<string, unknown> {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: v } : { doubleValue: v };
  if (typeof v === 'bigint') return { intValue: v.toString() };
  return { stringValue: String(v) };
}
const keyValues = (attrs: Attributes): Record<string, unknown>[] => Object.entries(attrs).map(([key, value]) => ({ key, value: anyValue(value) }));

/** The spans as one OTLP request: one resource per service, in the order the services first appear. */
function encode(spans: readonly TraceSpan[], traceId: Buffer): Uint8Array {
  const byService = new Map<string, TraceSpan[]>();
  for (const s of spans) byService.set(s.service, [...(byService.get(s.service) ?? []), s]);
  const otlpTraceId = (id: string): Buffer => (id === TRACE_ID ? traceId : Buffer.from(id, 'hex'));
  return requestType.encode(requestType.fromObject({
    resourceSpans: [...byService].map(([service, list]) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [{
        scope: { name: 'summary-test' },
        spans: list.map((s) => ({
          traceId, spanId: Buffer.from(s.spanId, 'hex'), ...(s.parentSpanId ? { parentSpanId: Buffer.from(s.parentSpanId, 'hex') } : {}),
          name: s.name, kind: s.kind, startTimeUnixNano: s.startNs.toString(), endTimeUnixNano: s.endNs.toString(),
          attributes: keyValues(s.attributes),
          events: s.events.map((e) => ({ name: e.name, timeUnixNano: e.timeNs.toString(), attributes: keyValues(e.attributes) })),
          links: s.links.map((l) => ({ traceId: otlpTraceId(l.traceId), spanId: Buffer.from(l.spanId, 'hex'), attributes: keyValues(l.attributes) })),
          status: { code: s.statusCode, message: s.statusMessage },
        })),
      }],
    })),
  })).finish();
}

/** Stores the spans (times moved to end `ago` before now) in 1–3 requests of at most 2,000 spans. */
async function store(spans: readonly TraceSpan[], rnd: () => number, ago = 60_000n * MS): Promise<string> {
  const traceId = randomBytes(16);
  const latest = spans.reduce((m, s) => (s.endNs > m ? s.endNs : s.startNs > m ? s.startNs : m), spans[0]!.startNs);
  const shift = NOW - ago - latest;
  const moved = spans.map((s) => ({ ...s, startNs: s.startNs + shift, endNs: s.endNs + shift, events: s.events.map((e) => ({ ...e, timeNs: e.timeNs + shift })) }));
  const cut = [0, Math.floor(rnd() * moved.length), Math.floor(rnd() * moved.length), moved.length].sort((a, b) => a - b);
  for (let p = 0; p + 1 < cut.length; p++) {
    for (let at = cut[p]!; at < cut[p + 1]!; at += 2000) {
      const reply = await postProto(daemon.tracesUrl, encode(moved.slice(at, Math.min(at + 2000, cut[p + 1]!)), traceId));
      expect(reply.status).toBe(200);
    }
  }
  return traceId.toString('hex');
}

beforeAll(async () => {
  daemon = await startTestDaemon();
  const rnd = prng(2024);
  const traces = fc.sample(arbErrorTrace, { numRuns: 150, seed: 2024 });
  for (const spans of traces) stored.push({ traceId: await store(spans, rnd), columnar: true });
  for (let seed = 1; seed <= 5; seed++) stored.push({ traceId: await store(bigTrace(seed, 1000), rnd), columnar: true });
  stored.push({ traceId: await store(bigTrace(101, 10_000), rnd), columnar: true });
  // A root 200 days long: offsets beyond 2^53 ns, which only the BigInt path answers exactly.
  const wide = mkTrace([
    { id: '00000000000000a1', start: -200n * DAY, end: 0n, kind: SpanKind.SERVER, status: StatusCode.ERROR, message: 'late' },
    { id: '00000000000000a2', parent: '00000000000000a1', start: -10n * MS, end: 5n * MS },
  ]);
  stored.push({ traceId: await store(wide, rnd), columnar: false });
  await daemon.service.store.flush();
  mcp = await connectHttp(daemon.apiUrl);
}, 120_000);

afterAll(async () => {
  await mcp?.close();
  await daemon?.stop();
});

describe('get_trace summary from columns', () => {
  it('answers exactly as the object path, and from the columns wherever they can', async () => {
    const reader = daemon.service.reader;
    let columnar = 0;
    for (const [n, t] of stored.entries()) {
      const maxBytes = n % 7 === 0 ? 1024 : 20_000;
      const answer = await callTool(mcp.client, 'get_trace', { trace_id: t.traceId, max_bytes: maxBytes });
      const spans = (await reader.getTraceSpans(t.traceId, { detail: 'errors' }))!;
      const forest = buildTraceForest(spans);
      const reference = summarizeTrace(forest, computeSelfTimes(forest));
      const expected = JSON.parse(JSON.stringify(summaryView(reference, maxBytes))) as CallToolResult;
      expect(JSON.stringify(answer.structuredContent)).toBe(JSON.stringify(expected.structuredContent));
      expect(answer.content).toEqual(expected.content);

      const fast = summarizeTraceColumns((await reader.getTraceColumns(t.traceId, { detail: 'errors' }))!);
      const expectColumnar = t.columnar && forest.anomalies.cycleBroken.length === 0;
      expect(fast === null, `trace ${n} (${t.traceId}) columnar`).toBe(!expectColumnar);
      if (fast !== null) {
        expect(fast).toEqual(reference);
        columnar++;
      }
    }
    expect(columnar).toBeGreaterThan(stored.length * 0.7);
  }, 120_000);

  it('ranks the topology exactly as the object path, and from the columns wherever they can', async () => {
    const reader = daemon.service.reader;
    let columnar = 0;
    for (const [n, t] of stored.entries()) {
      const maxSpans = [50, 1, 500, 7][n % 4]!;
      const depth = n % 3 === 0 ? n % 5 : undefined;
      const maxBytes = n % 7 === 0 ? 2048 : 20_000;
      const answer = await callTool(mcp.client, 'get_trace', { trace_id: t.traceId, view: 'topology', max_spans: maxSpans, ...(depth === undefined ? {} : { depth }), max_bytes: maxBytes });
      const forest = buildTraceForest((await reader.getTraceSpans(t.traceId, { detail: 'timing' }))!);
      const reference = topologyOf(forest, computeSelfTimes(forest), { limit: maxSpans, depth });
      const expected = JSON.parse(JSON.stringify(topologyView(reference, { maxSpans, budget: maxBytes }))) as CallToolResult;
      expect(JSON.stringify(answer.structuredContent)).toBe(JSON.stringify(expected.structuredContent));
      expect(answer.content).toEqual(expected.content);

      const fast = topologyOfColumns((await reader.getTraceColumns(t.traceId, { detail: 'timing' }))!, { limit: maxSpans, depth });
      expect(fast === null, `trace ${n} (${t.traceId}) columnar`).toBe(!(t.columnar && forest.anomalies.cycleBroken.length === 0));
      if (fast !== null) {
        expect(fast).toEqual(reference);
        columnar++;
      }
    }
    expect(columnar).toBeGreaterThan(stored.length * 0.7);
  }, 120_000);
});
