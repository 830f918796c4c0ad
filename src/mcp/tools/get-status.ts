import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { McpDeps } from '../deps.js';
import { defineTool } from '../register.js';
import { metaSchema, singleResult } from '../result.js';

const output = z.object({
  version: z.string(),
  uptime_s: z.number(),
  services: z.number(),
  ingest: z.record(z.string(), z.number()),
  store: z.record(z.string(), z.union([z.number(), z.boolean(), z.null()])),
  retention: z.record(z.string(), z.string()),
  endpoints: z.record(z.string(), z.string()),
  problems: z.array(z.string()).describe('why ingest is refused now (memory, disk full); empty = ready'),
  meta: metaSchema,
  hints: z.array(z.string()),
});

export function registerGetStatus(server: McpServer, deps: McpDeps): void {
  defineTool(
    server,
    deps,
    'get_status',
    {
      description: 'Ingest counters, store size, retention and endpoints. Call first to check that data is arriving.',
      inputSchema: z.object({}),
      outputSchema: output,
    },
    async () => {
      const s = await deps.status();
      const services = (await deps.spans.listServices()).length;
      const data = {
        version: s.version,
        uptime_s: s.uptimeSeconds,
        services,
        ingest: {
          accepted_spans: s.ingest.acceptedSpans,
          refused_spans: s.ingest.refusedSpans,
          failed_requests: s.ingest.failedRequests,
          invalid_requests: s.ingest.invalidRequests,
          ...(s.memory ? { rss_bytes: s.memory.rssBytes, memory_limit_bytes: s.memory.limitBytes } : {}),
        },
        store: { healthy: s.store.healthy, live_bytes: s.store.liveBytes, active_latency_series: s.store.activeLatencySeries, retention_deleted_spans: s.store.retentionDeletedSpans },
        retention: { spans_max_age: s.retention.spansMaxAge, latency_minutes_max_age: s.retention.latencyMinutesMaxAge, latency_hours_max_age: s.retention.latencyHoursMaxAge },
        endpoints: s.endpoints,
        problems: s.problems ?? [],
      };
      const text = `spanlens ${s.version}, up ${Math.round(s.uptimeSeconds)} s: ${s.ingest.acceptedSpans} spans accepted (${s.ingest.refusedSpans} refused), ${services} services, store ${s.store.healthy ? 'healthy' : 'NOT healthy'}.${s.problems?.length ? ` NOT READY: ${s.problems.join('; ')}.` : ''}`;
      return singleResult(data, text, services > 0 ? ['list_services(window="1h")'] : ['send OTLP traces to ' + (s.endpoints['otlp_http'] ?? s.endpoints['otlp_grpc'] ?? 'the OTLP receiver')]);
    },
  );
}
