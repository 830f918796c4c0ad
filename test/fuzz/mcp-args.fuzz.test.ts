/**
 * Random arguments to every MCP tool through the real SDK client over Streamable HTTP. Every answer must
 * be a result (valid: the client checks structuredContent against the tool's outputSchema; or isError
 * with a message saying what to fix) or a JSON-RPC InvalidParams error. Never another protocol error, a
 * dropped connection, or a daemon that stops answering.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { ErrorCode, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { Rng } from '../../bench/lib/fuzz-mutate.js';
import { getJson, startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { connectHttp, type McpConnection } from '../helpers/mcp-client.js';
import { runWorkload } from '../helpers/workload.js';

const CALLS_PER_TOOL = 30;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Schema {
  type?: string | string[];
  enum?: Json[];
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  minimum?: number;
  maximum?: number;
}

const STRINGS = ['', 'fuzz-svc', 'GET /fuzz', 'checkout', '15m', '1h', '30d', '0s', '-1h', '999999d', 'now', 'now-1h', '2026-01-01T00:00:00Z', 'x'.repeat(3000), '\u0000', '💥', '../../etc/passwd', "'; DROP TABLE spans; --", '0123456789abcdef0123456789abcdef', 'zz', 'attr.http.request.method', 'p99'];
/** Plausible values by argument name, so that a good share of calls get past validation. */
const BY_NAME: [RegExp, Json[]][] = [
  [/window|baseline/, ['15m', '1h', '1d', '30d', '0s', '-1h', '999999d']],
  [/service/, ['fuzz-svc', 'fuzz-svc', 'no-such-svc']],
  [/^start$/, ['now-1h', 'now-2d', 'not a time']],
  [/^end$/, ['now', 'now', '2026-01-01T00:00:00Z']],
  [/trace_id/, []],
];
const NUMBERS = [0, -1, 1, 2, 50, 99.9, 100, 101, 1e9, -1e9, 2 ** 53, 0.5, 1e308];

function junk(rng: Rng, depth = 0): Json {
  switch (rng.int(depth > 2 ? 4 : 6)) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick(NUMBERS);
    case 3:
      return rng.pick(STRINGS);
    case 4:
      return Array.from({ length: rng.int(4) }, () => junk(rng, depth + 1));
    default:
      return Object.fromEntries(Array.from({ length: rng.int(4) }, (_, i) => [rng.pick(['key', 'op', 'value', `k${i}`]), junk(rng, depth + 1)]));
  }
}

/** A value shaped like the schema most of the time, something else the rest (`chaos` of the time). */
function valueFor(rng: Rng, s: Schema, depth: number, chaos: number, name = ''): Json {
  if (rng.chance(chaos) || depth > 4) return junk(rng);
  const named = BY_NAME.find(([re]) => re.test(name))?.[1];
  if (named && named.length > 0 && rng.chance(0.8)) return rng.pick(named);
  const alts = s.anyOf ?? s.oneOf;
  if (alts && alts.length > 0) return valueFor(rng, rng.pick(alts), depth + 1, chaos, name);
  if (s.enum && s.enum.length > 0) return rng.chance(0.85) ? rng.pick(s.enum) : rng.pick(STRINGS);
  const type = Array.isArray(s.type) ? rng.pick(s.type) : s.type;
  switch (type) {
    case 'string':
      return rng.pick(STRINGS);
    case 'integer':
    case 'number': {
      if (rng.chance(0.5) && s.minimum !== undefined) return s.minimum + rng.int(Math.min(1000, (s.maximum ?? s.minimum + 100) - s.minimum + 1));
      return rng.pick(NUMBERS);
    }
    case 'boolean':
      return rng.chance(0.5);
    case 'array':
      return Array.from({ length: rng.int(4) }, () => valueFor(rng, s.items ?? {}, depth + 1, chaos));
    case 'object':
      return argsFor(rng, s, depth + 1, chaos);
    default:
      return junk(rng);
  }
}

function argsFor(rng: Rng, s: Schema, depth: number, chaos: number): { [k: string]: Json } {
  const out: { [k: string]: Json } = {};
  const gentle = chaos < 0.1;
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    if (gentle && key === 'cursor') continue;
    if (rng.chance(gentle ? 0.35 : 0.6)) out[key] = valueFor(rng, prop, depth, chaos, key);
  }
  if (rng.chance(chaos)) out[rng.pick(['unknown_arg', '__proto__', 'constructor'])] = junk(rng);
  return out;
}

let daemon: TestDaemon;
let mcp: McpConnection;
let tools: Tool[];

beforeAll(async () => {
  daemon = await startTestDaemon();
  const sent = await runWorkload({ serviceName: 'fuzz-svc', exporter: new OTLPTraceExporter({ url: daemon.tracesUrl }), processor: 'batch' });
  expect(sent.results.every((r) => r.code === 0)).toBe(true);
  STRINGS.push(...sent.traceIds.slice(0, 2));
  (BY_NAME.find(([re]) => re.source === 'trace_id')?.[1] as Json[]).push(...sent.traceIds.slice(0, 3), 'ab', '0'.repeat(32));
  await daemon.service.store.flush();
  mcp = await connectHttp(daemon.apiUrl);
  // Listing first makes the client validate every structuredContent against the tool's outputSchema.
  tools = (await mcp.client.listTools()).tools;
});

afterAll(async () => {
  await mcp?.close();
  await daemon?.stop();
});

describe('MCP tools under random arguments', () => {
  it('answer with a result, an isError result that explains, or InvalidParams', async () => {
    const rng = new Rng(7_331);
    const tally: Record<string, { ok: number; toolError: number; invalidParams: number }> = {};
    for (const tool of tools) {
      const t = (tally[tool.name] = { ok: 0, toolError: 0, invalidParams: 0 });
      for (let i = 0; i < CALLS_PER_TOOL; i++) {
        // Half the calls are gentle (mostly well-typed), half chaotic.
        const args = argsFor(rng, tool.inputSchema as Schema, 0, i % 2 === 0 ? 0.02 : 0.3);
        const where = `${tool.name}(${JSON.stringify(args).slice(0, 300)})`;
        let result: CallToolResult;
        try {
          result = (await mcp.client.callTool({ name: tool.name, arguments: args })) as CallToolResult;
        } catch (err) {
          expect(err, where).toBeInstanceOf(McpError);
          expect((err as McpError).code, `${where}: ${(err as Error).message}`).toBe(ErrorCode.InvalidParams);
          t.invalidParams++;
          continue;
        }
        if (result.isError) {
          const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
          expect(text.length, where).toBeGreaterThan(10);
          // Internal failures would surface as raw JS errors; the message must be about the call.
          expect(text, where).not.toMatch(/TypeError|RangeError|Cannot read properties|is not a function|undefined is not/);
          if (process.env.FUZZ_DEBUG) console.info(where, text.slice(0, 200));
          t.toolError++;
        } else {
          expect(result.structuredContent, where).toBeDefined();
          t.ok++;
        }
      }
    }
    console.info(`mcp args fuzz: ${JSON.stringify(tally)}`);
    expect(Object.values(tally).reduce((a, t) => a + t.ok, 0)).toBeGreaterThan(0);
    expect((await getJson(`${daemon.apiUrl}/readyz`)).status).toBe(200);
  }, 120_000);
});
