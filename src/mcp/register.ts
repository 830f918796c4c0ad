import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ListToolsRequestSchema, type CallToolResult, type Tool, type ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import type { McpDeps } from './deps.js';
import { ToolError } from './errors.js';
import { withDeadline } from './deadline.js';

export interface ToolConfig<I extends z.ZodObject, O extends z.ZodObject> {
  description: string;
  inputSchema: I;
  outputSchema: O;
  /** Changes stored state (SLOs, alert rules): refused unless the caller may write. Read tools leave it out. */
  writes?: boolean;
  annotations?: ToolAnnotations;
}

/** The tools each server lists, as compact JSON Schema (see installCompactToolList). */
const listings = new WeakMap<McpServer, Tool[]>();

/**
 * Every tool goes through here rather than `server.registerTool`, so that write tools are gated in one
 * place, every call reaches the audit hook, and tools/list can be served compactly.
 */
export function defineTool<I extends z.ZodObject, O extends z.ZodObject>(
  server: McpServer,
  deps: McpDeps,
  name: string,
  config: ToolConfig<I, O>,
  handler: (args: z.output<I>) => Promise<CallToolResult>,
): void {
  const annotations = config.annotations ?? (config.writes ? { readOnlyHint: false, destructiveHint: true, idempotentHint: true } : { readOnlyHint: true });
  const run = async (args: z.output<I>): Promise<CallToolResult> => {
    if (config.writes && !deps.caller.canWrite) {
      throw new ToolError(`${name} changes stored state and this session may not write: ${deps.caller.writeDenial ?? 'writes are disabled'}`);
    }
    const timeoutMs = deps.limits.queryTimeoutMs;
    return timeoutMs === undefined || timeoutMs <= 0 ? handler(args) : withDeadline(name, timeoutMs, () => handler(args));
  };
  const observed = deps.onToolCall === undefined ? run : observe(deps, name, config.writes === true, run);
  server.registerTool(name, { description: config.description, inputSchema: config.inputSchema, outputSchema: config.outputSchema, annotations }, observed as never);
  const list = listings.get(server) ?? [];
  listings.set(server, list);
  list.push({
    name,
    description: config.description,
    inputSchema: compactSchema(z.toJSONSchema(config.inputSchema, { target: 'draft-7', io: 'input' }), false) as Tool['inputSchema'],
    outputSchema: compactSchema(z.toJSONSchema(config.outputSchema, { target: 'draft-7', io: 'output' }), true) as Tool['outputSchema'],
    annotations,
  });
}

function observe<A>(deps: McpDeps, tool: string, writes: boolean, run: (args: A) => Promise<CallToolResult>): (args: A) => Promise<CallToolResult> {
  return async (args) => {
    const started = performance.now();
    let result: CallToolResult | undefined;
    let error: unknown;
    try {
      result = await run(args);
      return result;
    } catch (err) {
      error = err;
      throw err;
    } finally {
      const meta = (result?.structuredContent as { meta?: { bytes?: number; truncated?: boolean } } | undefined)?.meta;
      deps.onToolCall?.({
        tool,
        writes,
        args,
        caller: deps.caller,
        durationMs: performance.now() - started,
        resultBytes: meta?.bytes ?? (result === undefined ? 0 : Buffer.byteLength(JSON.stringify(result))),
        truncated: meta?.truncated ?? false,
        outcome: error === undefined ? (result?.isError ? 'error' : 'ok') : error instanceof ToolError ? 'refused' : 'error',
        ...(error === undefined ? {} : { error: (error as Error).message }),
      });
    }
  };
}

/**
 * Serves tools/list from the schemas recorded by defineTool, without what JSON Schema means by default
 * anyway (`$schema`, `additionalProperties: {}`, string `propertyNames`, empty `properties`) and, in
 * output schemas, without `additionalProperties: false` and `required` (the shape stays described; that
 * every answer has it is what the contract test checks). The SDK's own listing spends a fifth of the
 * 20 KB tools/list budget on those.
 */
export function installCompactToolList(server: McpServer): void {
  server.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: listings.get(server) ?? [] }));
}

function compactSchema(node: unknown, output: boolean): unknown {
  if (Array.isArray(node)) return node.map((n) => compactSchema(n, output));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === '$schema') continue;
    if (key === 'additionalProperties' && (isEmptyObject(value) || (output && value === false))) continue;
    if (key === 'propertyNames' && isStringType(value)) continue;
    if (key === 'properties' && isEmptyObject(value)) continue;
    if (output && key === 'required') continue;
    out[key] = compactSchema(value, output);
  }
  return out;
}

const isEmptyObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length === 0;
const isStringType = (v: unknown): boolean => typeof v === 'object' && v !== null && Object.keys(v).length === 1 && (v as { type?: unknown }).type === 'string';
