import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { McpDeps } from '../deps.js';
import { registerGetStatus } from './get-status.js';
import { registerLatencyStats } from './latency-stats.js';
import { registerListOperations } from './list-operations.js';
import { registerListServices } from './list-services.js';

/** The default toolset, in drill-down order. */
export function registerTools(server: McpServer, deps: McpDeps): void {
  registerGetStatus(server, deps);
  registerListServices(server, deps);
  registerListOperations(server, deps);
  registerLatencyStats(server, deps);
}
