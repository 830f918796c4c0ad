import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { makeTempDir, removeDir, startTestDaemon, type TestDaemon } from './daemon.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface McpConnection {
  client: Client;
  /** Every byte the server wrote to stdout that was not a JSON-RPC message (stdio only). */
  strayStdout: string[];
  /** stderr of the spawned daemon (stdio only). */
  stderr: string[];
  close(): Promise<void>;
}

/** The real SDK client over Streamable HTTP to a daemon's /mcp. */
export async function connectHttp(apiUrl: string): Promise<McpConnection> {
  const client = new Client({ name: 'spanlens-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${apiUrl}/mcp`)));
  return { client, strayStdout: [], stderr: [], close: () => client.close() };
}

/**
 * Spawns `spanlens mcp` from source (tsx) with ephemeral ports in `dataDir`, and connects the real SDK
 * client over its stdin/stdout. A line on stdout that is not JSON-RPC fails the protocol parse, which the
 * client reports through onerror: collected in strayStdout.
 */
export async function connectStdio(dataDir: string, extraArgs: string[] = []): Promise<McpConnection> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [
      '--import', 'tsx', 'src/main.ts', 'mcp',
      '--otlp-grpc', '127.0.0.1:0', '--otlp-http', '127.0.0.1:0', '--api', '127.0.0.1:0',
      '--data', dataDir, '--log-level', 'info', ...extraArgs,
    ],
    cwd: REPO_ROOT,
    stderr: 'pipe',
  });
  const stderr: string[] = [];
  const strayStdout: string[] = [];
  transport.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
  const client = new Client({ name: 'spanlens-test', version: '1.0.0' });
  client.onerror = (err) => strayStdout.push(String(err));
  await client.connect(transport);
  return { client, strayStdout, stderr, close: () => client.close() };
}

export async function callTool(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** structuredContent of a successful call; throws with the error text otherwise. */
export async function callOk<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown> = {}): Promise<T> {
  const result = await callTool(client, name, args);
  if (result.isError) throw new Error(`${name}(${JSON.stringify(args)}) failed: ${JSON.stringify(result.content)}`);
  return result.structuredContent as T;
}

export const resultBytes = (r: CallToolResult): number => Buffer.byteLength(JSON.stringify(r));

/** A daemon reachable over one MCP transport, with where to send it OTLP/HTTP traces. */
export interface McpDaemon {
  mcp: McpConnection;
  tracesUrl: string;
  /** The in-process daemon (HTTP transport only; stdio runs `spanlens mcp` as a child process). */
  daemon: TestDaemon | undefined;
  close(): Promise<void>;
}

/** Starts a daemon and connects the MCP client over `transport` (stdio spawns `spanlens mcp`). */
export async function openMcpDaemon(transport: 'http' | 'stdio', tempPrefix: string): Promise<McpDaemon> {
  if (transport === 'http') {
    const daemon = await startTestDaemon();
    const mcp = await connectHttp(daemon.apiUrl);
    return { mcp, tracesUrl: daemon.tracesUrl, daemon, close: async () => {
      await mcp.close();
      await daemon.stop();
    } };
  }
  const dataDir = makeTempDir(tempPrefix);
  const mcp = await connectStdio(dataDir);
  const status = await callOk<{ endpoints: Record<string, string> }>(mcp.client, 'get_status');
  return { mcp, tracesUrl: status.endpoints['otlp_http']!, daemon: undefined, close: async () => {
    await mcp.close();
    removeDir(dataDir);
  } };
}
