import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { startTestDaemon } from '../helpers/daemon.js';
import { runWorkload } from '../helpers/workload.js';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { meterProvider } from '../helpers/metrics-sdk.js';
import { callOk, callTool, openMcpDaemon, resultBytes, type McpConnection, type McpDaemon } from '../helpers/mcp-client.js';

/**
 * The MCP contract, run against both transports: Streamable HTTP at /mcp of an in-process daemon, and
 * stdio against `spanlens mcp` spawned from source. Data is sent with the real OTel SDK exporter; the
 * real SDK Client validates every structuredContent against the tool's outputSchema.
 */

const TOOL_LIST_MAX_BYTES = 20 * 1024;
const HARD_CAP = 24 * 1024;
/** Tools that change stored state: readOnlyHint false, refused over HTTP unless mcp.allowWrites. */
const WRITE_TOOLS = new Set(['manage_slo', 'manage_alert_rule']);

/** Valid example arguments for every tool; the test fails if a listed tool has no entry. */
function exampleCalls(traceId: string): Record<string, Record<string, unknown>[]> {
  return {
    get_status: [{}],
    performance_report: [{}, { service: 'contract-svc', window: '1d', max_bytes: 2048 }],
    list_services: [{}, { window: '30d', sort_by: 'p99', limit: 1 }],
    list_operations: [{ service: 'contract-svc' }, { window: '1d', span_kind: 'server', sort_by: 'errors' }],
    latency_stats: [
      { service: 'contract-svc', window: '1d' },
      { service: 'contract-svc', window: '1d', group_by: 'operation', compare_to: 'previous', percentiles: [50, 99.9] },
      { service: 'contract-svc', window: '1d', group_by: 'status' },
      { service: 'contract-svc', window: '1d', group_by: 'attr.http.request.method' },
    ],
    find_traces: [{ service: 'contract-svc', window: '1d' }, { window: '1d', error: true, where: [{ key: 'db.system.name', op: '=', value: 'postgresql' }] }],
    get_trace: [{ trace_id: traceId }, { trace_id: traceId, view: 'topology' }, { trace_id: traceId, view: 'spans', attributes: 'all', include_events: true, max_spans: 2 }],
    get_critical_path: [{ trace_id: traceId }, { trace_id: traceId, group_by: 'service' }],
    find_bottlenecks: [{ service: 'contract-svc', operation: 'GET /checkout', window: '1d' }],
    service_map: [{ window: '1d' }],
    find_errors: [{ window: '1d' }],
    alerts: [{}, { history: 5, max_bytes: 2048 }],
    manage_alert_rule: [
      { action: 'upsert', name: 'contract-p95', rule: { type: 'latency', service: 'contract-svc', percentile: 95, op: '>', threshold: 2000, for: '5m' } },
      { action: 'delete', name: 'contract-p95' },
    ],
    compare_windows: [{ service: 'contract-svc', window: '1h' }, { service: 'contract-svc', window: '1h', baseline: '-1d' }, { service: 'contract-svc', operation: 'GET /checkout', window: '1d', attr: 'service.version', values: ['2.0.0', '2.0.1'] }],
    find_anomalies: [{}, { service: 'contract-svc', window: '2h' }],
    capacity_forecast: [{}, { service: 'contract-svc', window: '1d', thresholds: { throughput: 100 } }],
    slo_status: [{}],
    manage_slo: [
      { action: 'upsert', name: 'contract-slo', definition: { service: 'contract-svc', objectives: { availability: 0.99, latency: [{ thresholdMs: 100, target: 0.9 }] } } },
      { action: 'delete', name: 'contract-slo' },
    ],
    list_metrics: [{}, { match: 'cache' }],
    query_metrics: [
      { select: 'cache_hits_total', denominator: 'cache_hits_total + cache_misses_total', agg: 'increase', by: 'level', window: '1d' },
      { select: 'cache_hits_total{level=~"L1|L2"}', agg: 'rate', by: '*', step: '1m', window: '1h' },
    ],
    analyze: [{ topic: 'cache', window: '1d' }, { topic: 'inference', window: '1d' }, { topic: 'database', service: 'contract-svc', window: '1d' }],
    audit_log: [{}, { window: '1h', limit: 5 }],
  };
}

for (const transport of ['http', 'stdio'] as const) {
  describe(`MCP contract over ${transport}`, () => {
    let opened: McpDaemon | undefined;
    let mcp: McpConnection;
    let traceId = '';

    beforeAll(async () => {
      opened = await openMcpDaemon(transport, 'spanlens-mcp-stdio-');
      mcp = opened.mcp;
      const tracesUrl = opened.tracesUrl;
      const sent = await runWorkload({ serviceName: 'contract-svc', exporter: new OTLPTraceExporter({ url: tracesUrl }), processor: 'batch' });
      expect(sent.results.every((r) => r.code === 0)).toBe(true);
      traceId = sent.traceIds[0]!;
      const meters = meterProvider('contract-svc', new OTLPMetricExporter({ url: tracesUrl.replace(/\/v1\/traces$/, '/v1/metrics') }));
      const hits = meters.getMeter('contract').createCounter('cache_hits_total');
      const misses = meters.getMeter('contract').createCounter('cache_misses_total');
      for (const [level, hit, miss] of [['L1', 9, 1], ['L2', 3, 2]] as const) {
        hits.add(hit, { level });
        misses.add(miss, { level });
      }
      await meters.forceFlush();
      await meters.shutdown();
      // Histograms are flushed every 2 s: wait until the service shows up.
      for (let i = 0; i < 100; i++) {
        const services = await callOk<{ services: { service: string }[] }>(mcp.client, 'list_services', { window: '1d' });
        if (services.services.some((s) => s.service === 'contract-svc')) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    });

    afterAll(async () => {
      await opened?.close();
    });

    it('instructions and prompts name only tools that exist, with their real argument names', async () => {
      const names = new Set((await mcp.client.listTools()).tools.map((t) => t.name));
      const texts = [mcp.client.getInstructions() ?? ''];
      for (const p of (await mcp.client.listPrompts()).prompts) {
        const got = await mcp.client.getPrompt({ name: p.name, arguments: {} });
        texts.push(...got.messages.map((m) => (m.content.type === 'text' ? m.content.text : '')));
      }
      const called = texts.flatMap((t) => [...t.matchAll(/\b([a-z]+(?:_[a-z]+)+)\(/g)].map((m) => m[1] as string));
      expect(called.length).toBeGreaterThan(10);
      expect(called.filter((n) => !names.has(n))).toEqual([]);
    });

    it('initialize carries drill-down instructions; tools/list is small, read-only and typed', async () => {
      expect(mcp.client.getInstructions()).toMatch(/list_services/);
      const { tools } = await mcp.client.listTools();
      const bytes = Buffer.byteLength(JSON.stringify({ tools }));
      expect(bytes).toBeLessThanOrEqual(TOOL_LIST_MAX_BYTES);
      expect(tools.map((t) => t.name).sort()).toEqual(Object.keys(exampleCalls("")).sort());
      for (const tool of tools) {
        expect(tool.name).toMatch(/^[a-z][a-z0-9_]{1,63}$/);
        expect(tool.annotations?.readOnlyHint, tool.name).toBe(!WRITE_TOOLS.has(tool.name));
        expect(tool.outputSchema, tool.name).toBeDefined();
        expect(tool.inputSchema.type).toBe('object');
      }
    });

    it('every tool answers valid arguments with structuredContent that matches its output schema, under the cap', async () => {
      const { tools } = await mcp.client.listTools();
      const calls = exampleCalls(traceId);
      for (const tool of tools) {
        const examples = calls[tool.name];
        expect(examples, `no example call for ${tool.name}`).toBeDefined();
        for (const args of examples!) {
          // The SDK client validates structuredContent against outputSchema and throws if it does not match.
          const result = await callTool(mcp.client, tool.name, args);
          if (transport === 'http' && WRITE_TOOLS.has(tool.name)) {
            expect(result.isError, tool.name).toBe(true);
            // The contract daemon keeps the default mcp.allowWrites: false.
            expect(JSON.stringify(result.content), tool.name).toMatch(/mcp\.allowWrites/);
            continue;
          }
          expect(result.isError, `${tool.name} ${JSON.stringify(args)}: ${JSON.stringify(result.content)}`).toBeFalsy();
          expect(result.structuredContent, tool.name).toBeDefined();
          const meta = (result.structuredContent as { meta: { bytes: number; truncated: boolean } }).meta;
          expect(meta.bytes).toBeGreaterThan(0);
          expect(resultBytes(result)).toBeLessThanOrEqual(HARD_CAP);
          expect(result.content[0]?.type).toBe('text');
        }
      }
    });

    it('errors are isError results that say how to fix the call', async () => {
      const unknown = await callTool(mcp.client, 'list_operations', { service: 'contract-sv' });
      expect(unknown.isError).toBe(true);
      expect(JSON.stringify(unknown.content)).toContain('contract-svc');
      const badWindow = await callTool(mcp.client, 'list_services', { window: 'an hour' });
      expect(badWindow.isError).toBe(true);
      expect(JSON.stringify(badWindow.content)).toMatch(/15m/);
      const tooLong = await callTool(mcp.client, 'list_services', { window: '400d' });
      expect(tooLong.isError).toBe(true);
      expect(JSON.stringify(tooLong.content)).toMatch(/30d/);
      const badOp = await callTool(mcp.client, 'latency_stats', { service: 'contract-svc', operation: 'GET /checkou', window: '1d' });
      expect(badOp.isError).toBe(true);
      expect(JSON.stringify(badOp.content)).toContain('GET /checkout');
      const badCursor = await callTool(mcp.client, 'list_operations', { cursor: 'nonsense' });
      expect(badCursor.isError).toBe(true);
    });

    if (transport === 'http') {
      it('rejects a foreign Host or Origin (DNS rebinding) and accepts loopback ones', async () => {
        const port = Number(new URL(opened!.daemon!.apiUrl).port);
        const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
        expect(await post(port, body, { Host: `evil.example:${port}` })).toBe(403);
        expect(await post(port, body, { Host: `127.0.0.1:${port}`, Origin: 'http://evil.example' })).toBe(403);
        expect(await post(port, body, { Host: `localhost:${port}`, Origin: `http://localhost:${port}` })).not.toBe(403);
      });
    } else {
      it('writes nothing but protocol to stdout, and logs to stderr', () => {
        expect(mcp.strayStdout).toEqual([]);
        expect(mcp.stderr.join('')).toContain('"msg":"spanlens started"');
      });
    }
  });
}

describe('MCP over HTTP off loopback', () => {
  it('needs a token: without one the daemon does not start (unless overridden), with one it needs the bearer header', async () => {
    await expect(startTestDaemon({ config: { api: { endpoint: '0.0.0.0:0' } } })).rejects.toThrow(/api.endpoint 0.0.0.0:0 is off loopback/);
    const open = await startTestDaemon({ config: { api: { endpoint: '0.0.0.0:0' }, auth: { allowUnauthenticatedNonLoopback: true } } });
    try {
      const port = Number(new URL(open.apiUrl).port);
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
      expect(await post(port, body, { Host: `127.0.0.1:${port}` })).toBe(200);
    } finally {
      await open.stop();
    }
    const token = 'a-long-enough-test-token';
    const guarded = await startTestDaemon({ config: { api: { endpoint: '0.0.0.0:0' }, mcp: { token } } });
    try {
      const port = Number(new URL(guarded.apiUrl).port);
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
      expect(await post(port, body, { Host: `127.0.0.1:${port}` })).toBe(401);
      expect(await post(port, body, { Host: `127.0.0.1:${port}`, Authorization: 'Bearer wrong-token-of-some-length' })).toBe(401);
      expect(await post(port, body, { Host: `127.0.0.1:${port}`, Authorization: `Bearer ${token}` })).toBe(200);
    } finally {
      await guarded.stop();
    }
  });
});

function post(port: number, body: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
