import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SloDefinitionError } from '../../store/ports.js';
import type { McpDeps } from '../deps.js';
import { ToolError } from '../errors.js';
import { defineTool } from '../register.js';
import { metaSchema, singleResult } from '../result.js';

const output = z.object({ action: z.string(), name: z.string(), result: z.string(), definition: z.looseObject({}).optional(), meta: metaSchema, hints: z.array(z.string()) });

export function registerManageSlo(server: McpServer, deps: McpDeps): void {
  defineTool(
    server,
    deps,
    'manage_slo',
    {
      description: 'Create/replace or delete an SLO kept across restarts. definition: a config slos: entry (see spanlens://slos).',
      inputSchema: z.object({ action: z.enum(['upsert', 'delete']), name: z.string(), definition: z.looseObject({}).optional() }),
      outputSchema: output,
      writes: true,
    },
    async (args) => {
      try {
        if (args.action === 'delete') {
          const deleted = await deps.slos.catalog.remove(args.name);
          if (!deleted) throw new ToolError(`no MCP-managed SLO "${args.name}"; slo_status lists them`);
          return singleResult({ action: 'delete', name: args.name, result: 'deleted' }, `SLO ${args.name} deleted.`, ['slo_status()']);
        }
        if (args.definition === undefined) throw new ToolError('upsert needs definition, e.g. {"service": "checkout", "objectives": {"availability": 0.999, "latency": [{"thresholdMs": 2000, "target": 0.95}]}}');
        const { slo, created } = await deps.slos.catalog.upsert({ ...args.definition, name: args.name }, deps.now());
        return singleResult(
          { action: 'upsert', name: args.name, result: created ? 'created' : 'replaced', definition: slo.raw as Record<string, unknown> },
          `SLO ${args.name} ${created ? 'created' : 'replaced'}.`,
          [`slo_status(slo="${args.name}")`],
        );
      } catch (err) {
        if (err instanceof SloDefinitionError) throw new ToolError(`SLO "${args.name}" not saved: ${err.message}`);
        throw err;
      }
    },
  );
}
