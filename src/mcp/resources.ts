import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { McpDeps } from './deps.js';
import { iso } from './result.js';

const DAY_MS = 86_400_000;

/**
 * Read-only context a client can attach without a tool call: the SLO definitions (as written in the
 * config shape, with where each comes from) and the service catalogue.
 */
export function registerResources(server: McpServer, deps: McpDeps): void {
  server.registerResource('slos', 'spanlens://slos', { title: 'SLO definitions', description: 'Every SLO (config file and manage_slo), as JSON in the config shape', mimeType: 'application/json' }, async (uri) => {
    const slos = (await deps.slos.catalog.list()).map((s) => ({ name: s.definition.name, source: s.source, created_at: iso(s.createdAtMs), updated_at: iso(s.updatedAtMs), definition: s.raw }));
    return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ slos }, null, 1) }] };
  });
  server.registerResource('services', 'spanlens://services', { title: 'Service catalogue', description: 'Services with stored span counts and operations seen in the last 24 h', mimeType: 'application/json' }, async (uri) => {
    const now = deps.now();
    const stats = (await deps.latency.operationStats({ startNs: BigInt(now - DAY_MS) * 1_000_000n, endNs: BigInt(now) * 1_000_000n })) ?? [];
    const ops = new Map<string, Set<string>>();
    for (const s of stats) {
      let set = ops.get(s.service);
      if (!set) ops.set(s.service, (set = new Set()));
      set.add(s.operation);
    }
    const services = (await deps.spans.listServices())
      .map((s) => ({ name: s.name, span_count: s.spanCount, operations_24h: ops.get(s.name)?.size ?? 0 }))
      .sort((a, b) => b.span_count - a.span_count || a.name.localeCompare(b.name));
    return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify({ services }, null, 1) }] };
  });
}
