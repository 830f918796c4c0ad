import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { callOk, connectHttp, type McpConnection } from '../helpers/mcp-client.js';
import { encodeRequest, hex, newSpanId, newTraceId, postProto, type RawSpan } from '../helpers/otlp-raw.js';

/**
 * get_critical_path through MCP on traces that take each path: the columnar one (overflow, a dropped
 * child, PRODUCER→CONSUMER) and the BigInt fallback (a parent cycle; a span 200 days long, too wide for
 * exact doubles). The numbers are worked out by hand from CP-v1.
 */

const MS = 1_000_000n;
const DAY = 86_400_000n * MS;
const T = (BigInt(Date.now()) - 60_000n) * MS;

let daemon: TestDaemon;
let mcp: McpConnection;
const ids = { columnar: '', cycle: '', wide: '' };
const spanIds: Record<string, string> = {};

interface Answer {
  trace_duration_ms: number;
  critical_path_ms: number;
  root_span_id: string | null;
  roots: number;
  rows: { span_id: string; critical_ms: number; share: number }[];
  segments: { span_id: string; start_offset_ms: number; end_offset_ms: number }[];
  total_segments: number;
  adjustments: Record<string, number>;
}

async function send(service: string, spans: RawSpan[]): Promise<void> {
  expect((await postProto(daemon.tracesUrl, encodeRequest(service, spans))).status).toBe(200);
}

function trace(key: keyof typeof ids, rows: [name: string, parent: string | null, startNs: bigint, endNs: bigint, kind?: number][]): RawSpan[] {
  const traceId = newTraceId();
  ids[key] = hex(traceId);
  const byName = new Map(rows.map(([name]) => [name, newSpanId()]));
  for (const [name, id] of byName) spanIds[`${key}.${name}`] = hex(id);
  return rows.map(([name, parent, startNs, endNs, kind]) => ({
    traceId, spanId: byName.get(name)!, ...(parent ? { parentSpanId: byName.get(parent)! } : {}), name, kind: kind ?? 1, startNs, endNs,
  }));
}

beforeAll(async () => {
  daemon = await startTestDaemon();
  await send('shop', trace('columnar', [
    ['root', null, T, T + 100n * MS, 2],
    ['publish', 'root', T + 10n * MS, T + 20n * MS, 4],
    ['consume', 'publish', T + 15n * MS, T + 150n * MS, 5],
    ['query', 'root', T + 30n * MS, T + 120n * MS, 3],
    ['late', 'root', T + 120n * MS, T + 130n * MS, 3],
  ]));
  // b ↔ c is a parent cycle: CP-v1 cuts it at its earliest member (c), which becomes an orphan root.
  await send('shop', trace('cycle', [
    ['root', null, T, T + 100n * MS],
    ['a', 'root', T + 20n * MS, T + 40n * MS],
    ['b', 'c', T + 20n * MS, T + 40n * MS],
    ['c', 'b', T + 10n * MS, T + 50n * MS],
  ]));
  await send('shop', trace('wide', [
    ['root', null, T - 200n * DAY, T],
    ['child', 'root', T - 10n * MS, T + 5n * MS],
  ]));
  await daemon.service.store.flush();
  mcp = await connectHttp(daemon.apiUrl);
});

afterAll(async () => {
  await mcp?.close();
  await daemon?.stop();
});

const rows = (a: Answer): [string, number, number][] => a.rows.map((r) => [r.span_id, r.critical_ms, r.share]);

describe('get_critical_path', () => {
  it('clips an overflowing child, drops one past the parent and leaves an async consumer off the path', async () => {
    const a = await callOk<Answer>(mcp.client, 'get_critical_path', { trace_id: ids.columnar });
    const id = (n: string): string => spanIds[`columnar.${n}`]!;
    expect(a).toMatchObject({ trace_duration_ms: 150, critical_path_ms: 100, root_span_id: id('root'), roots: 1, total_segments: 4 });
    expect(a.adjustments).toEqual({ truncated: 1, dropped: 1, non_blocking: 1 });
    expect(rows(a)).toEqual([[id('query'), 70, 0.7], [id('root'), 20, 0.2], [id('publish'), 10, 0.1]]);
    expect(a.segments.map((s) => [s.span_id, s.start_offset_ms, s.end_offset_ms])).toEqual([
      [id('root'), 0, 10], [id('publish'), 10, 20], [id('root'), 20, 30], [id('query'), 30, 100],
    ]);
  });

  it('answers a trace with a parent cycle (BigInt path)', async () => {
    const a = await callOk<Answer>(mcp.client, 'get_critical_path', { trace_id: ids.cycle });
    const id = (n: string): string => spanIds[`cycle.${n}`]!;
    expect(a).toMatchObject({ trace_duration_ms: 100, critical_path_ms: 100, root_span_id: id('root'), roots: 2, total_segments: 3 });
    expect(rows(a)).toEqual([[id('root'), 80, 0.8], [id('a'), 20, 0.2]]);
  });

  it('answers a trace too wide for exact doubles (BigInt path)', async () => {
    const a = await callOk<Answer>(mcp.client, 'get_critical_path', { trace_id: ids.wide });
    const id = (n: string): string => spanIds[`wide.${n}`]!;
    expect(a).toMatchObject({ trace_duration_ms: 17_280_000_005, critical_path_ms: 17_280_000_000, roots: 1, adjustments: { truncated: 1, dropped: 0, non_blocking: 0 } });
    expect(rows(a)).toEqual([[id('root'), 17_279_999_990, 1], [id('child'), 10, 0]]);
  });
});
