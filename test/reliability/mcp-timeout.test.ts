/**
 * mcp.queryTimeout: a tool call that runs past it is stopped with an isError answer telling the caller
 * to narrow the call, while OTLP ingest on the same event loop keeps being answered during a heavy
 * analysis (the trace reads yield between slices).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { encodeRequest, newSpanId, newTraceId, postProto, type RawSpan } from '../helpers/otlp-raw.js';
import { callTool, connectHttp, type McpConnection } from '../helpers/mcp-client.js';

/** `traces` two-span traces (server → client child) of one service and operation. */
function traces(count: number): RawSpan[] {
  const now = BigInt(Date.now()) * 1_000_000n - 60_000_000_000n;
  const spans: RawSpan[] = [];
  for (let i = 0; i < count; i++) {
    const traceId = newTraceId();
    const root = newSpanId();
    const start = now + BigInt(i) * 1000n;
    spans.push({ traceId, spanId: root, name: 'GET /heavy', kind: 2, startNs: start, endNs: start + 5_000_000n });
    spans.push({ traceId, spanId: newSpanId(), parentSpanId: root, name: 'SELECT', kind: 3, startNs: start + 1_000_000n, endNs: start + 4_000_000n });
  }
  return spans;
}

async function daemonWith(timeout: string): Promise<{ daemon: TestDaemon; mcp: McpConnection }> {
  const daemon = await startTestDaemon({ config: { mcp: { queryTimeout: timeout, maxAnalysisTraces: 20_000 } } });
  for (let k = 0; k < 4; k++) expect((await postProto(daemon.tracesUrl, encodeRequest('heavy-svc', traces(1500)))).status).toBe(200);
  await daemon.service.store.flush();
  return { daemon, mcp: await connectHttp(daemon.apiUrl) };
}

describe('MCP query timeout', () => {
  let tight: { daemon: TestDaemon; mcp: McpConnection };
  let roomy: { daemon: TestDaemon; mcp: McpConnection };
  beforeAll(async () => {
    tight = await daemonWith('5ms');
    roomy = await daemonWith('60s');
  }, 60_000);
  afterAll(async () => {
    for (const d of [tight, roomy]) {
      await d?.mcp.close();
      await d?.daemon.stop();
    }
  });

  it('stops a call past mcp.queryTimeout with an error that says how to narrow it', async () => {
    const r = await callTool(tight.mcp.client, 'find_bottlenecks', { service: 'heavy-svc', operation: 'GET /heavy', window: '1h', max_traces: 6000 });
    expect(r.isError).toBe(true);
    const text = r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
    expect(text).toMatch(/find_bottlenecks took longer than 5 ms \(mcp\.queryTimeout\).*shorter window/);
  });

  it('answers the same call under a roomy timeout, and ingest is answered while it runs', async () => {
    const call = callTool(roomy.mcp.client, 'find_bottlenecks', { service: 'heavy-svc', operation: 'GET /heavy', window: '1h', max_traces: 6000 });
    let finished = false;
    void call.then(() => (finished = true));
    // Exports sent while the analysis runs are answered before it finishes (the reads yield).
    const during = await postProto(roomy.daemon.tracesUrl, encodeRequest('during', traces(1)));
    expect(during.status).toBe(200);
    const answeredBeforeAnalysis = !finished;
    const r = await call;
    expect(r.isError, JSON.stringify(r.content).slice(0, 300)).toBeFalsy();
    expect(answeredBeforeAnalysis, 'the export waited for the whole analysis').toBe(true);
  });
});
