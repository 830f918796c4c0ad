import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';

/**
 * MCP over stdin/stdout for `spanlens mcp`. stdout carries only protocol frames: the logger writes to
 * fd 2 (telemetry/logger.ts) and nothing else in src writes to stdout. Resolves when stdin closes (the
 * client went away), so the caller can shut the daemon down.
 */
export async function serveStdio(server: McpServer, input: NodeJS.ReadableStream = process.stdin, output: NodeJS.WritableStream = process.stdout): Promise<void> {
  const transport = new StdioServerTransport(input as never, output as never);
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    input.once('end', () => resolve());
    input.once('close', () => resolve());
  });
  await server.connect(transport);
  await closed;
  await server.close();
}
